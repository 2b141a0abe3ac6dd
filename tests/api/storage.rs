//! Storage credentials, external locations, external tables and listFiles over HTTP
//!.

use serde_json::{json, Value};

use crate::helpers::{enc, names, spawn_rooted, spawn_with, As, TestApp, UC};

/// `admin` is an account admin and (through `ms-admins`) a metastore admin; `carol` is a
/// metastore admin only; `alice` and `bob` are plain users.
const FIXTURE: &str = r#"{
  "workspaces": [{"workspace_id": 1001}],
  "users": [
    {"user_name": "admin@example.com", "account_admin": true},
    {"user_name": "carol@example.com"},
    {"user_name": "alice@example.com"},
    {"user_name": "bob@example.com"}
  ],
  "groups": [
    {"display_name": "ms-admins", "members": ["admin@example.com", "carol@example.com"]},
    {"display_name": "analysts", "members": ["alice@example.com"]}
  ],
  "tokens": [
    {"token": "dapi-admin", "principal": "admin@example.com", "workspace_id": 1001},
    {"token": "dapi-carol", "principal": "carol@example.com", "workspace_id": 1001},
    {"token": "dapi-alice", "principal": "alice@example.com", "workspace_id": 1001},
    {"token": "dapi-bob", "principal": "bob@example.com", "workspace_id": 1001}
  ],
  "metastores": [{"name": "main", "storage_root": "s3://root/main", "owner": "ms-admins",
                  "assignments": [{"workspace_id": 1001}]}],
  "catalogs": [{"name": "main", "owner": "admin@example.com"}],
  "storage_credentials": [
    {"name": "fx_cred", "azure_service_principal":
       {"directory_id": "dir", "application_id": "app", "client_secret": "FIXTURE-SECRET"}}
  ],
  "external_locations": [{"name": "fx_loc", "url": "s3://fixture/zone", "credential_name": "fx_cred"}],
  "tables": [{"catalog_name": "main", "schema_name": "default", "name": "fx_ext", "table_type": "EXTERNAL",
              "data_source_format": "DELTA", "columns": [], "storage_location": "s3://fixture/zone/t"}],
  "grants": [
    {"securable_type": "external_location", "full_name": "fx_loc", "principal": "analysts",
     "privileges": ["READ_FILES"]},
    {"securable_type": "catalog", "full_name": "main", "principal": "analysts",
     "privileges": ["USE_CATALOG", "USE_SCHEMA", "CREATE_TABLE"]}
  ]
}"#;

fn who<'a>(app: &'a TestApp, token: &'a str) -> As<'a> {
    app.with_token(token)
}

fn aws(name: &str) -> Value {
    json!({"name": name, "aws_iam_role": {"role_arn": "arn:aws:iam::1:role/r"}})
}

fn azure(name: &str) -> Value {
    json!({"name": name, "azure_service_principal":
        {"directory_id": "d", "application_id": "a", "client_secret": "TOP-SECRET"}})
}

fn location(name: &str, url: &str, cred: &str) -> Value {
    json!({"name": name, "url": url, "credential_name": cred})
}

fn ext_table(name: &str, loc: &str) -> Value {
    json!({"catalog_name": "main", "schema_name": "default", "name": name, "table_type": "EXTERNAL",
           "data_source_format": "DELTA", "columns": [], "storage_location": loc})
}

async fn grant(app: &TestApp, sec_type: &str, name: &str, principal: &str, privileges: &[&str]) {
    app.admin()
        .patch(
            &format!("{UC}/permissions/{sec_type}/{}", enc(name)),
            json!({"changes": [{"principal": principal, "add": privileges}]}),
        )
        .await
        .ok("grant");
}

fn assert_no_secrets(text: &str) {
    for secret in ["TOP-SECRET", "FIXTURE-SECRET", "PRIVATE-KEY", "client_secret", "private_key\"", "secret_access_key"]
    {
        assert!(!text.contains(secret), "a secret ({secret}) leaked: {text}");
    }
}

#[actix_web::test]
async fn credentials_keep_secrets_and_follow_the_create_and_read_rules() {
    let app = spawn_with(FIXTURE).await;
    let creds = format!("{UC}/storage-credentials");
    // createStorageCredential: account admin; a metastore admin alone or a plain user is refused.
    who(&app, "dapi-carol").post(&creds, azure("c_carol")).await.error(403, "PERMISSION_DENIED", "MA only");
    who(&app, "dapi-alice").post(&creds, azure("c_alice")).await.error(403, "PERMISSION_DENIED", "plain");
    let created = app.admin().post(&creds, azure("Azure_One")).await;
    assert_no_secrets(&created.text);
    let c = created.ok("create");
    assert_eq!(c["name"], "azure_one");
    assert_eq!(c["azure_service_principal"]["application_id"], "a");
    assert_eq!(c["owner"], "admin@example.com");
    for k in ["created_at", "created_by", "updated_at", "updated_by", "id", "metastore_id"] {
        assert!(c.get(k).is_some(), "{k} missing");
    }
    // AWS outputs are generated.
    let a = app.admin().post(&creds, aws("aws_one")).await.ok("aws");
    assert!(a["aws_iam_role"]["unity_catalog_iam_arn"].as_str().unwrap().starts_with("arn:aws:iam::"));
    assert!(!a["aws_iam_role"]["external_id"].as_str().unwrap().is_empty());
    // Exactly one kind; required fields.
    app.admin().post(&creds, json!({"name": "none"})).await.invalid("aws_iam_role", "no kind");
    let two = json!({"name": "two", "aws_iam_role": {"role_arn": "x"}, "gcp_service_account_key":
        {"email": "e", "private_key_id": "k", "private_key": "PRIVATE-KEY"}});
    app.admin().post(&creds, two).await.invalid("gcp_service_account_key", "two kinds");
    let incomplete = json!({"name": "inc", "azure_service_principal": {"directory_id": "d"}});
    app.admin().post(&creds, incomplete).await.invalid("application_id", "missing field");
    app.admin().post(&creds, azure("AZURE_ONE")).await.error(409, "RESOURCE_ALREADY_EXISTS", "dup");
    let gcp = json!({"name": "gcp", "gcp_service_account_key":
        {"email": "e@x", "private_key_id": "k", "private_key": "PRIVATE-KEY"}});
    let g = app.admin().post(&creds, gcp).await;
    assert_no_secrets(&g.text);
    assert_eq!(g.ok("gcp")["gcp_service_account_key"]["private_key_id"], "k");
    // The CREATE_STORAGE_CREDENTIAL alternative.
    let ms = app.admin().get(&format!("{UC}/metastore_summary")).await.ok("summary");
    grant(&app, "metastore", ms["metastore_id"].as_str().unwrap(), "alice@example.com", &["CREATE_STORAGE_CREDENTIAL"])
        .await;
    who(&app, "dapi-alice").post(&creds, aws("alices")).await.ok("alice with the privilege");

    // getStorageCredential: MA, account admin, owner, or some privilege.
    let one = format!("{creds}/azure_one");
    who(&app, "dapi-carol").get(&one).await.ok("MA reads");
    who(&app, "dapi-bob").get(&one).await.error(403, "PERMISSION_DENIED", "bob");
    grant(&app, "storage_credential", "azure_one", "bob@example.com", &["WRITE_FILES"]).await;
    assert_no_secrets(&who(&app, "dapi-bob").get(&one).await.text);
    who(&app, "dapi-alice").get(&format!("{creds}/alices")).await.ok("owner reads");
    app.admin().get(&format!("{creds}/nope")).await.error(404, "RESOURCE_DOES_NOT_EXIST", "missing");

    // listStorageCredentials: all for admins, else owned or privileged; never a secret.
    let all = app.admin().get(&creds).await;
    assert_no_secrets(&all.text);
    assert_eq!(names(&all.json(), "storage_credentials"), ["alices", "aws_one", "azure_one", "fx_cred", "gcp"]);
    assert_eq!(names(&who(&app, "dapi-carol").get(&creds).await.ok("carol"), "storage_credentials").len(), 5);
    assert_eq!(names(&who(&app, "dapi-bob").get(&creds).await.ok("bob"), "storage_credentials"), ["azure_one"]);
    assert_eq!(names(&who(&app, "dapi-alice").get(&creds).await.ok("alice"), "storage_credentials"), ["alices"]);
    let page = app.admin().get(&format!("{creds}?max_results=2")).await.ok("page");
    assert_eq!(names(&page, "storage_credentials"), ["alices", "aws_one"]);
    assert!(page["next_page_token"].is_string());
}

#[actix_web::test]
async fn credential_updates_and_deletes_follow_the_rules() {
    let app = spawn_with(FIXTURE).await;
    let creds = format!("{UC}/storage-credentials");
    app.admin().post(&creds, azure("c")).await.ok("create");
    let c = format!("{creds}/c");
    // A metastore admin may change the owner only.
    who(&app, "dapi-carol").patch(&c, json!({"comment": "x"})).await.error(403, "PERMISSION_DENIED", "MA comment");
    who(&app, "dapi-carol").patch(&c, json!({"owner": "alice@example.com"})).await.ok("MA owner");
    // The owner may pass ownership on, but not change anything else (account admin only).
    who(&app, "dapi-alice").patch(&c, json!({"comment": "mine"})).await.error(403, "PERMISSION_DENIED", "owner");
    who(&app, "dapi-alice").patch(&c, json!({"owner": "bob@example.com", "comment": "both"})).await.error(
        403,
        "PERMISSION_DENIED",
        "owner + other",
    );
    // Account admin: everything; a partial update of the same kind keeps the secret.
    let up = app
        .admin()
        .patch(&c, json!({"comment": "by admin", "azure_service_principal": {"application_id": "a2"}}))
        .await;
    assert_no_secrets(&up.text);
    let up = up.json();
    assert_eq!(up["comment"], "by admin");
    assert_eq!(up["azure_service_principal"]["application_id"], "a2");
    assert_eq!(up["azure_service_principal"]["directory_id"], "d");
    assert_eq!(up["updated_by"], "admin@example.com");
    // A rename carries over to the location that names it.
    app.admin().post(&format!("{UC}/external-locations"), location("l", "s3://b/l", "c")).await.ok("loc");
    let renamed = app.admin().patch(&c, json!({"new_name": "c2"})).await.ok("rename");
    assert_eq!(renamed["name"], "c2");
    let l = app.admin().get(&format!("{UC}/external-locations/l")).await.ok("loc");
    assert_eq!(l["credential_name"], "c2");
    // Delete: owner or account admin; dependents need force, and stay afterwards.
    let c2 = format!("{creds}/c2");
    who(&app, "dapi-carol").delete(&c2).await.error(403, "PERMISSION_DENIED", "MA delete");
    who(&app, "dapi-bob").delete(&c2).await.error(403, "PERMISSION_DENIED", "bob delete");
    who(&app, "dapi-alice").delete(&c2).await.error(400, "INVALID_STATE", "dependents");
    who(&app, "dapi-alice").delete(&format!("{c2}?force=true")).await.ok("forced");
    app.admin().get(&c2).await.error(404, "RESOURCE_DOES_NOT_EXIST", "gone");
    app.admin().get(&format!("{UC}/external-locations/l")).await.ok("dependent stays");
    // Without dependents no force is needed.
    app.admin().post(&creds, aws("lonely")).await.ok("lonely");
    app.admin().delete(&format!("{creds}/lonely")).await.ok("delete");
}

#[actix_web::test]
async fn location_urls_may_not_overlap_by_path_segment() {
    let app = spawn_with(FIXTURE).await;
    let locs = format!("{UC}/external-locations");
    app.admin().post(&format!("{UC}/storage-credentials"), aws("c")).await.ok("cred");
    app.admin().post(&locs, location("a", "S3://B/a/", "c")).await.ok("a");
    let a = app.admin().get(&format!("{locs}/a")).await.ok("get");
    assert_eq!(a["url"], "s3://b/a");
    // Near misses are fine: s3://b/ab is no child of s3://b/a.
    app.admin().post(&locs, location("ab", "s3://b/ab", "c")).await.ok("near miss");
    for (i, bad) in ["s3://b/a", "s3://b/a/", "s3://b/a/x", "s3://b", "s3://B/a/x/y"].iter().enumerate() {
        let m = app.admin().post(&locs, location(&format!("bad{i}"), bad, "c")).await.invalid("url", bad);
        assert!(m.contains("'a'") || m.contains("'ab'"), "{m}");
    }
    // Scheme and credential checks.
    app.admin().post(&locs, location("h", "http://x/y", "c")).await.invalid("url", "scheme");
    app.admin().post(&locs, location("t", "s3://b/x/../y", "c")).await.invalid("url", "dots");
    app.admin().post(&locs, location("n", "s3://other/n", "nope")).await.error(404, "RESOURCE_DOES_NOT_EXIST", "cred");
    app.admin().post(&locs, json!({"name": "m", "url": "s3://m"})).await.invalid("credential_name", "missing");
    // file:// only under a --file-root (none here), admins included.
    app.admin().post(&locs, location("f", "file:///tmp/uc-emulator-f", "c")).await.invalid("url", "file URL");
    // Not inside (or on) an external table; strictly above one is allowed.
    app.admin().post(&locs, location("inside_table", "s3://fixture/zone/t/x", "c")).await.invalid("url", "in table");
    // An update of `url` follows the same rules; a rejected update changes nothing.
    let before = app.admin().get(&format!("{locs}/ab")).await.ok("ab");
    app.admin().patch(&format!("{locs}/ab"), json!({"url": "s3://b/a/z", "comment": "c"})).await.invalid("url", "up");
    assert_eq!(app.admin().get(&format!("{locs}/ab")).await.ok("ab"), before);
    app.admin().patch(&format!("{locs}/ab"), json!({"url": "s3://b/abc"})).await.ok("move");
}

#[actix_web::test]
async fn location_authorization_follows_the_rules() {
    let app = spawn_with(FIXTURE).await;
    let locs = format!("{UC}/external-locations");
    app.admin().post(&format!("{UC}/storage-credentials"), aws("c")).await.ok("cred");
    // Create: metastore admin, or CREATE_EXTERNAL_LOCATION on the metastore.
    who(&app, "dapi-carol").post(&locs, location("by_carol", "s3://carol", "c")).await.ok("MA");
    who(&app, "dapi-alice").post(&locs, location("by_alice", "s3://alice", "c")).await.error(
        403,
        "PERMISSION_DENIED",
        "alice",
    );
    let ms = app.admin().get(&format!("{UC}/metastore_summary")).await.ok("summary");
    grant(&app, "metastore", ms["metastore_id"].as_str().unwrap(), "analysts", &["CREATE_EXTERNAL_LOCATION"]).await;
    // ... and on the credential too (SDK docstring).
    who(&app, "dapi-alice").post(&locs, location("by_alice", "s3://alice", "c")).await.error(
        403,
        "PERMISSION_DENIED",
        "no right on the credential",
    );
    grant(&app, "storage_credential", "c", "analysts", &["CREATE_EXTERNAL_LOCATION"]).await;
    let l = who(&app, "dapi-alice").post(&locs, location("by_alice", "s3://alice", "c")).await.ok("privileged");
    assert_eq!(l["owner"], "alice@example.com");
    // Get / list: MA, owner, or some privilege.
    who(&app, "dapi-bob").get(&format!("{locs}/by_alice")).await.error(403, "PERMISSION_DENIED", "bob");
    grant(&app, "external_location", "by_alice", "bob@example.com", &["BROWSE"]).await;
    who(&app, "dapi-bob").get(&format!("{locs}/by_alice")).await.ok("some privilege");
    assert_eq!(names(&who(&app, "dapi-bob").get(&locs).await.ok("bob"), "external_locations"), ["by_alice"]);
    // alice: her own and fx_loc (READ_FILES through analysts).
    assert_eq!(
        names(&who(&app, "dapi-alice").get(&locs).await.ok("alice"), "external_locations"),
        ["by_alice", "fx_loc"]
    );
    assert_eq!(names(&who(&app, "dapi-carol").get(&locs).await.ok("MA"), "external_locations").len(), 3);
    // Update: owner; MA only for `owner`.
    who(&app, "dapi-carol").patch(&format!("{locs}/by_alice"), json!({"comment": "x"})).await.error(
        403,
        "PERMISSION_DENIED",
        "MA",
    );
    who(&app, "dapi-bob").patch(&format!("{locs}/by_alice"), json!({"comment": "x"})).await.error(
        403,
        "PERMISSION_DENIED",
        "bob",
    );
    who(&app, "dapi-alice")
        .patch(&format!("{locs}/by_alice"), json!({"comment": "x", "read_only": true}))
        .await
        .ok("owner");
    who(&app, "dapi-carol")
        .patch(&format!("{locs}/by_alice"), json!({"owner": "bob@example.com"}))
        .await
        .ok("MA owner");
    // Delete: owner only (not even a metastore admin).
    who(&app, "dapi-carol").delete(&format!("{locs}/by_alice")).await.error(403, "PERMISSION_DENIED", "MA delete");
    who(&app, "dapi-bob").delete(&format!("{locs}/by_alice")).await.ok("owner deletes");
    // A location with dependent external tables needs force.
    app.admin().delete(&format!("{locs}/fx_loc")).await.error(400, "INVALID_STATE", "dependents");
    app.admin().delete(&format!("{locs}/fx_loc?force=true")).await.ok("force");
    app.admin().get(&format!("{UC}/tables/main.default.fx_ext")).await.ok("table stays");
}

#[actix_web::test]
async fn external_tables_need_a_covering_location_and_create_external_table() {
    let app = spawn_with(FIXTURE).await;
    let tables = format!("{UC}/tables");
    let alice = who(&app, "dapi-alice");
    // alice has USE_CATALOG, USE_SCHEMA and CREATE_TABLE (fixture); no location privilege yet.
    alice.post(&tables, ext_table("e1", "s3://fixture/zone/e1")).await.error(403, "PERMISSION_DENIED", "no privilege");
    alice.post(&tables, ext_table("e1", "s3://nowhere/e1")).await.invalid("storage_location", "uncovered");
    grant(&app, "external_location", "fx_loc", "alice@example.com", &["CREATE_EXTERNAL_TABLE"]).await;
    let t = alice.post(&tables, ext_table("e1", "s3://fixture/zone/e1")).await.ok("allowed");
    assert_eq!(t["storage_location"], "s3://fixture/zone/e1");
    // The legacy spelling on the location counts too.
    app.admin()
        .patch(
            &format!("{UC}/permissions/external_location/fx_loc"),
            json!({"changes": [{"principal": "alice@example.com", "add": ["CREATE_TABLE"], "remove": ["CREATE_EXTERNAL_TABLE"]}]}),
        )
        .await
        .ok("legacy");
    alice.post(&tables, ext_table("e2", "s3://fixture/zone/e2")).await.ok("legacy CREATE_TABLE");
    // Overlaps: equal, inside, containing another table; near misses are fine.
    alice.post(&tables, ext_table("e1b", "s3://fixture/zone/e1/part")).await.invalid("storage_location", "inside");
    alice.post(&tables, ext_table("e1c", "s3://fixture/zone/e1")).await.invalid("storage_location", "equal");
    alice.post(&tables, ext_table("e1d", "s3://fixture/zone/e1x")).await.ok("near miss");
    // No external location strictly inside a new table.
    app.admin().post(&format!("{UC}/storage-credentials"), aws("c")).await.ok("cred");
    app.admin().post(&format!("{UC}/external-locations"), location("deep", "s3://wide/x/deep", "c")).await.ok("deep");
    let wide = json!({"catalog_name": "main", "schema_name": "default", "name": "wide", "table_type": "EXTERNAL",
                      "data_source_format": "DELTA", "columns": [], "storage_location": "s3://wide/x",
                      "storage_credential_name": "c"});
    app.admin().post(&tables, wide).await.invalid("storage_location", "contains location");
    // A named credential instead of a covering location; the credential's privilege decides.
    let mut with_cred = ext_table("c1", "s3://elsewhere/c1");
    with_cred["storage_credential_name"] = json!("c");
    alice.post(&tables, with_cred.clone()).await.error(403, "PERMISSION_DENIED", "no cred privilege");
    grant(&app, "storage_credential", "c", "analysts", &["CREATE_EXTERNAL_TABLE"]).await;
    let t = alice.post(&tables, with_cred).await.ok("credential");
    assert_eq!(t["storage_credential_name"], "c");
    let mut unknown = ext_table("c2", "s3://elsewhere/c2");
    unknown["storage_credential_name"] = json!("nope");
    alice.post(&tables, unknown).await.error(404, "RESOURCE_DOES_NOT_EXIST", "unknown cred");
    // A table created with the credential is its dependent.
    app.admin().delete(&format!("{UC}/storage-credentials/c")).await.error(400, "INVALID_STATE", "dependent table");
    // Moving an external table: same rules.
    let e2 = format!("{tables}/main.default.e2");
    alice.patch(&e2, json!({"storage_location": "s3://nowhere/e2"})).await.invalid("storage_location", "uncovered");
    alice
        .patch(&e2, json!({"storage_location": "s3://fixture/zone/e1/in"}))
        .await
        .invalid("storage_location", "overlap");
    let moved = alice.patch(&e2, json!({"storage_location": "s3://fixture/zone/e2moved"})).await.ok("moved");
    assert_eq!(moved["storage_location"], "s3://fixture/zone/e2moved");
}

#[actix_web::test]
async fn storage_securables_take_grants_through_the_permissions_api() {
    let app = spawn_with(FIXTURE).await;
    let path = format!("{UC}/permissions/storage-credential/fx_cred");
    app.admin()
        .patch(&path, json!({"changes": [{"principal": "bob@example.com", "add": ["SELECT"]}]}))
        .await
        .invalid("SELECT", "SELECT on a credential");
    for spelling in ["storage-credential", "STORAGE_CREDENTIAL", "storage_credential"] {
        let p = format!("{UC}/permissions/{spelling}/fx_cred");
        app.admin()
            .patch(&p, json!({"changes": [{"principal": "bob@example.com", "add": ["read files", "CREATE_EXTERNAL_LOCATION"]}]}))
            .await
            .ok(spelling);
    }
    let got = app.admin().get(&path).await.ok("get");
    assert_eq!(
        got["privilege_assignments"],
        json!([{"principal": "bob@example.com", "privileges": ["CREATE_EXTERNAL_LOCATION", "READ_FILES"]}])
    );
    let loc = app.admin().get(&format!("{UC}/permissions/external-location/fx_loc")).await.ok("loc");
    assert_eq!(loc["privilege_assignments"][0]["principal"], "analysts");
    app.admin().get(&format!("{UC}/permissions/external-location/nope")).await.error(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "404",
    );
    // Some privilege now lets bob read the credential; deleting it drops its grants.
    who(&app, "dapi-bob").get(&format!("{UC}/storage-credentials/fx_cred")).await.ok("bob");
}

#[actix_web::test]
async fn list_files_lists_real_directories_and_never_escapes() {
    let data = tempfile::tempdir().unwrap();
    let mapped = data.path().join("bucket");
    std::fs::create_dir_all(mapped.join("zone/sub")).unwrap();
    std::fs::write(mapped.join("zone/b.csv"), b"1,2\n").unwrap();
    std::fs::write(mapped.join("zone/a.csv"), b"x").unwrap();
    std::fs::write(mapped.join("secret.txt"), b"outside the location").unwrap();
    let outside = data.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, mapped.join("zone/escape")).unwrap();
    let app = spawn_rooted(FIXTURE, &[("s3://fixture", &mapped)], &[data.path()]).await;
    let files = |url: &str| format!("{UC}/files?url={}", enc(url));

    // Metastore admin: the mapped directory, by name, one level.
    let listed = app.admin().get(&files("s3://fixture/zone/")).await.ok("mapped");
    let entries = listed["files"].as_array().unwrap();
    let got: Vec<&str> = entries.iter().map(|f| f["name"].as_str().unwrap()).collect();
    #[cfg(unix)]
    assert_eq!(got, ["a.csv", "b.csv", "escape", "sub"]);
    assert_eq!(entries[1]["path"], "s3://fixture/zone/b.csv");
    assert_eq!(entries[1]["size"], 4);
    assert_eq!(entries[1]["is_dir"], false);
    assert!(entries[1]["mtime"].as_i64().unwrap() > 1_600_000_000_000);
    let sub = entries.iter().find(|f| f["name"] == "sub").unwrap();
    assert_eq!((sub["is_dir"].clone(), sub["size"].clone()), (json!(true), json!(0)));
    let capped = app.admin().get(&format!("{}&max_results=2", files("s3://fixture/zone"))).await.ok("cap");
    assert_eq!(capped["files"].as_array().unwrap().len(), 2);
    let one = app.admin().get(&files("s3://fixture/zone/a.csv")).await.ok("file");
    assert_eq!(
        one["files"],
        json!([{"path": "s3://fixture/zone/a.csv", "name": "a.csv", "size": 1,
        "mtime": one["files"][0]["mtime"], "is_dir": false}])
    );

    // READ_FILES on the covering location (analysts, fixture) admits alice; only inside it.
    let alice = who(&app, "dapi-alice");
    alice.get(&files("s3://fixture/zone")).await.ok("alice");
    alice.get(&files("s3://fixture")).await.error(403, "PERMISSION_DENIED", "above the location");
    who(&app, "dapi-bob").get(&files("s3://fixture/zone")).await.error(403, "PERMISSION_DENIED", "bob");
    // Traversal and escapes.
    alice.get(&files("s3://fixture/zone/../secret.txt")).await.invalid("url", "dotdot");
    alice.get(&files("s3://fixture/zone/./a.csv")).await.invalid("url", "dot");
    alice.get(&format!("{UC}/files?url=s3://fixture/zone/..%252Fsecret.txt")).await.invalid("url", "encoded slash");
    #[cfg(unix)]
    alice.get(&files("s3://fixture/zone/escape")).await.error(403, "PERMISSION_DENIED", "symlink");
    alice.get(&files("s3://fixture/zone/missing")).await.error(404, "RESOURCE_DOES_NOT_EXIST", "missing");
    // Input checks.
    alice.get(&format!("{UC}/files")).await.invalid("url", "no url");
    alice.get(&files("ftp://x/y")).await.invalid("url", "scheme");
    alice.get(&format!("{}&max_results=-1", files("s3://fixture/zone"))).await.invalid("max_results", "negative");
    alice.get(&format!("{}&credential_name=nope", files("s3://fixture/zone"))).await.error(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "credential",
    );
    // An unmapped cloud URL lists nothing.
    let empty = app.admin().get(&files("s3://unmapped/x")).await.ok("unmapped");
    assert_eq!(empty, json!({"files": []}));

    // file:// URLs are the local path itself; READ_FILES on the named credential admits too.
    let local = data.path().join("local");
    std::fs::create_dir(&local).unwrap();
    std::fs::write(local.join("part-0.parquet"), b"PAR1").unwrap();
    let url = format!("file://{}", local.display());
    let l = app.admin().get(&files(&url)).await.ok("file://");
    assert_eq!(l["files"][0]["path"], json!(format!("{url}/part-0.parquet")));
    let with_cred = format!("{}&credential_name=fx_cred", files(&url));
    alice.get(&with_cred).await.error(403, "PERMISSION_DENIED", "no credential privilege");
    grant(&app, "storage_credential", "fx_cred", "alice@example.com", &["READ_FILES"]).await;
    assert_eq!(alice.get(&with_cred).await.ok("credential")["files"][0]["name"], "part-0.parquet");
}

#[actix_web::test]
async fn fixtures_apply_storage_objects_once_and_validate_them() {
    let mut app = spawn_with(FIXTURE).await;
    app.restart().await;
    let creds = app.admin().get(&format!("{UC}/storage-credentials")).await;
    assert_no_secrets(&creds.text);
    assert_eq!(names(&creds.json(), "storage_credentials"), ["fx_cred"]);
    let locs = app.admin().get(&format!("{UC}/external-locations")).await.ok("locations");
    assert_eq!(names(&locs, "external_locations"), ["fx_loc"]);
    // An overlapping location in a fixture is refused at start-up, naming the entry.
    let bad = FIXTURE.replace(
        r#""external_locations": [{"name": "fx_loc""#,
        r#""external_locations": [{"name": "inner", "url": "s3://fixture/zone/t/inner", "credential_name": "fx_cred"}, {"name": "fx_loc""#,
    );
    assert_ne!(bad, FIXTURE);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, bad).unwrap();
    let args = crate::helpers::args(&dir.path().join("uc.db"), &path);
    let err = uc_emulator::api::app::start(&args).err().expect("refused").to_string();
    assert!(err.contains("external_locations[1]") && err.contains("url"), "{err}");
}
