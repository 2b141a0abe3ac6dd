//! Security and robustness over plain HTTP: input limits, `file://` confinement to `--file-root`,
//! filesystem errors, storage authorization, managed storage that cannot be claimed, existence
//! rules, token-lifetime arithmetic (README "Security").

use serde_json::{json, Value};

use crate::helpers::{enc, spawn_rooted, spawn_with, TestApp, UC};

/// `admin` is an account admin and (through `ms-admins`) a metastore admin; `alice` and `bob` are
/// plain users; the metastore can make TOKEN recipients.
pub const FIXTURE: &str = r#"{
  "workspaces": [{"workspace_id": 1001}],
  "users": [
    {"user_name": "admin@example.com", "account_admin": true},
    {"user_name": "alice@example.com"},
    {"user_name": "bob@example.com"}
  ],
  "groups": [
    {"display_name": "ms-admins", "members": ["admin@example.com"]},
    {"display_name": "admins", "members": ["admin@example.com"]},
    {"display_name": "analysts", "members": ["alice@example.com"]}
  ],
  "tokens": [
    {"token": "dapi-admin", "principal": "admin@example.com", "workspace_id": 1001},
    {"token": "dapi-alice", "principal": "alice@example.com", "workspace_id": 1001},
    {"token": "dapi-bob", "principal": "bob@example.com", "workspace_id": 1001}
  ],
  "metastores": [{"name": "main", "storage_root": "s3://root/main", "owner": "ms-admins",
                  "delta_sharing_scope": "INTERNAL_AND_EXTERNAL",
                  "delta_sharing_recipient_token_lifetime_in_seconds": 3600,
                  "assignments": [{"workspace_id": 1001}]}],
  "catalogs": [{"name": "main", "owner": "admin@example.com"}],
  "storage_credentials": [{"name": "cred", "aws_iam_role": {"role_arn": "arn:aws:iam::1:role/r"}}],
  "external_locations": [{"name": "zone", "url": "s3://bucket/zone", "credential_name": "cred"}]
}"#;

async fn app() -> TestApp {
    spawn_with(FIXTURE).await
}

async fn metastore_id(app: &TestApp) -> String {
    let s = app.admin().get(&format!("{UC}/metastore_summary")).await.ok("summary");
    s["metastore_id"].as_str().unwrap().to_string()
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

async fn alive(app: &TestApp) {
    let r = app.anonymous().get("/healthz").await;
    assert_eq!(r.status, 200, "the server must keep serving: {}", r.text);
    app.admin().get(&format!("{UC}/catalogs")).await.ok("still serving");
}

fn scim_type(body: &Value) -> &str {
    body["scimType"].as_str().unwrap_or("")
}

// --- limits ------------------------------------------------------------------------------------

#[actix_web::test]
async fn scim_filter_depth_and_length_are_limited_and_never_crash() {
    let app = app().await;
    let users = |f: &str| format!("/api/2.0/preview/scim/v2/Users?filter={}", enc(f));
    let nest = |n: usize| format!("{}userName eq \"alice@example.com\"{}", "(".repeat(n), ")".repeat(n));
    // Exactly at the limit works.
    let ok = app.alice().get(&users(&nest(32))).await.ok("32 deep");
    assert_eq!(ok["totalResults"], 1);
    // One deeper, and a filter deep enough to exhaust any stack: 400 invalidFilter.
    for n in [33, 1_000] {
        let r = app.alice().get(&users(&nest(n))).await;
        let msg = r.invalid("filter", &format!("{n} deep"));
        assert!(msg.contains("32"), "{msg}");
        assert_eq!(scim_type(&r.json()), "invalidFilter");
    }
    // Deep enough to exhaust any recursive parser's stack (and over the length limit).
    let r = app.alice().get(&users(&nest(10_000))).await;
    r.invalid("filter", "10000 deep");
    assert_eq!(scim_type(&r.json()), "invalidFilter");
    let long = format!("userName eq \"{}\"", "a".repeat(4096));
    let r = app.alice().get(&users(&long)).await;
    assert!(r.invalid("filter", "long").contains("4096"));
    assert_eq!(scim_type(&r.json()), "invalidFilter");
    for path in ["Groups", "ServicePrincipals"] {
        let r = app.alice().get(&format!("/api/2.0/preview/scim/v2/{path}?filter={}", enc(&nest(1000)))).await;
        r.invalid("filter", path);
    }
    alive(&app).await;
}

#[actix_web::test]
async fn scim_patch_path_is_limited_and_nothing_is_applied() {
    let app = app().await;
    let groups = app.admin().get("/api/2.0/preview/scim/v2/Groups?filter=displayName%20eq%20%22analysts%22").await;
    let group = groups.ok("group")["Resources"][0].clone();
    let gid = group["id"].as_str().unwrap().to_string();
    let member = group["members"][0]["value"].as_str().unwrap().to_string();
    let path = |n: usize| format!("members[{}value eq \"{member}\"{}]", "(".repeat(n), ")".repeat(n));
    let patch = |p: String| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "replace", "value": {"displayName": "renamed"}},
            {"op": "remove", "path": p}]})
    };
    for n in [33, 100_000] {
        let r = app.admin().patch(&format!("/api/2.0/preview/scim/v2/Groups/{gid}"), patch(path(n))).await;
        r.invalid("path", &format!("{n} deep"));
        assert_eq!(scim_type(&r.json()), "invalidPath");
    }
    let long = format!("members[value eq \"{}\"]", "1".repeat(4100));
    let r = app.admin().patch(&format!("/api/2.0/preview/scim/v2/Groups/{gid}"), patch(long)).await;
    assert!(r.invalid("path", "long").contains("4096"));
    // Nothing of the refused PATCHes was applied.
    let after = app.admin().get(&format!("/api/2.0/preview/scim/v2/Groups/{gid}")).await.ok("group");
    assert_eq!(after, group);
    // 32 deep inside the brackets is within the limit.
    app.admin().patch(&format!("/api/2.0/preview/scim/v2/Groups/{gid}"), patch(path(32))).await.ok("32 deep");
    alive(&app).await;
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[actix_web::test]
async fn bodies_over_4_mib_are_413_also_after_decompression() {
    let app = app().await;
    let before = app.dump_state().await;
    let big = |n: usize| {
        let mut s = String::from(r#"{"name": "big", "comment": ""#);
        s.push_str(&"x".repeat(n - s.len() - 2));
        s.push_str(r#""}"#);
        assert_eq!(s.len(), n);
        s
    };
    let r = app.admin().send("POST", &format!("{UC}/catalogs"), Some(&big(4 * 1024 * 1024 + 1))).await;
    r.error(413, "REQUEST_LIMIT_EXCEEDED", "plain");
    let rb = app
        .admin()
        .request("POST", &format!("{UC}/catalogs"))
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gzip(big(8 * 1024 * 1024).as_bytes()));
    app.admin().execute(rb).await.error(413, "REQUEST_LIMIT_EXCEEDED", "gzip bomb");
    assert_eq!(app.dump_state().await, before);
    // Exactly 4 MiB is accepted (free text up to the body limit).
    let c = app.admin().send("POST", &format!("{UC}/catalogs"), Some(&big(4 * 1024 * 1024))).await;
    assert_eq!(c.ok("4 MiB")["comment"].as_str().unwrap().len(), 4 * 1024 * 1024 - 30);
    alive(&app).await;
}

#[actix_web::test]
async fn like_patterns_are_limited_to_1024_characters() {
    let app = app().await;
    app.admin().create_table("main", "default", "t1").await;
    let q = |field: &str, p: &str| format!("{UC}/table-summaries?catalog_name=main&{field}={}", enc(p));
    for field in ["schema_name_pattern", "table_name_pattern"] {
        let r = app
            .admin()
            .post(&format!("{UC}/table-summaries"), json!({"catalog_name": "main", field: "%".repeat(60_000)}))
            .await;
        r.invalid(field, "60k");
        app.admin().get(&q(field, &"a_".repeat(513))).await.invalid(field, "1026");
        let r = app
            .admin()
            .post(&format!("{UC}/table-summaries"), json!({"catalog_name": "main", field: "%".repeat(1025)}))
            .await;
        r.invalid(field, "POST");
        // At the limit: accepted, and matching stays fast.
        let t = std::time::Instant::now();
        app.admin().get(&q(field, &format!("{}t", "%_".repeat(511)))).await.ok("1023");
        assert!(t.elapsed() < std::time::Duration::from_secs(2), "{:?}", t.elapsed());
    }
    alive(&app).await;
}

#[actix_web::test]
async fn names_are_measured_after_lower_casing() {
    let app = app().await;
    let before = app.dump_state().await;
    // U+0130 lower-cases to two characters: 200 of them make 400.
    let long = "\u{130}".repeat(200);
    app.admin().post(&format!("{UC}/catalogs"), json!({"name": long})).await.invalid("name", "create");
    app.admin().patch(&format!("{UC}/catalogs/main"), json!({"new_name": long})).await.invalid("new_name", "rename");
    app.admin()
        .post(&format!("{UC}/schemas"), json!({"name": long, "catalog_name": "main"}))
        .await
        .invalid("name", "schema");
    assert_eq!(app.dump_state().await, before);
    // 127 of them (254 after lower-casing) are fine, and the name is addressable.
    let ok = "\u{130}".repeat(127);
    let c = app.admin().post(&format!("{UC}/catalogs"), json!({"name": ok})).await.ok("254");
    let stored = c["name"].as_str().unwrap().to_string();
    assert_eq!(stored.chars().count(), 254);
    app.admin().get(&format!("{UC}/catalogs/{}", enc(&stored))).await.ok("addressable");
}

// --- token lifetimes ---------------------------------------------------------------------------

#[actix_web::test]
async fn recipient_token_lifetime_is_int32_and_rotation_saturates() {
    let app = app().await;
    let ms = metastore_id(&app).await;
    let before = app.admin().get(&format!("{UC}/metastores/{ms}")).await.ok("before");
    for bad in [json!(2_147_483_648_i64), json!(i64::MAX), json!(-1)] {
        app.admin()
            .patch(&format!("{UC}/metastores/{ms}"), json!({"delta_sharing_recipient_token_lifetime_in_seconds": bad}))
            .await
            .invalid("delta_sharing_recipient_token_lifetime_in_seconds", &bad.to_string());
    }
    assert_eq!(app.admin().get(&format!("{UC}/metastores/{ms}")).await.ok("after"), before);
    // The largest lifetime gives one token expiring ~68 years later.
    app.admin()
        .patch(
            &format!("{UC}/metastores/{ms}"),
            json!({"delta_sharing_recipient_token_lifetime_in_seconds": 2_147_483_647_i64}),
        )
        .await
        .ok("int32 max");
    let r = app.admin().post(&format!("{UC}/recipients"), json!({"name": "r", "authentication_type": "TOKEN"})).await;
    let r = r.ok("recipient");
    let tok = &r["tokens"][0];
    let expiry = tok["expiration_time"].as_i64().unwrap();
    assert_eq!(expiry, tok["created_at"].as_i64().unwrap() + 2_147_483_647_i64 * 1000);
    // Rotation with a huge value never extends, never wraps into the past.
    let rotated = app
        .admin()
        .post(&format!("{UC}/recipients/r/rotate-token"), json!({"existing_token_expire_in_seconds": i64::MAX}))
        .await
        .ok("rotate huge");
    let old = rotated["tokens"].as_array().unwrap().iter().find(|t| t["id"] == tok["id"]).expect("old token stays");
    assert_eq!(old["expiration_time"].as_i64().unwrap(), expiry);
    alive(&app).await;
}

#[actix_web::test]
async fn pat_lifetime_overflow_is_400() {
    let app = app().await;
    app.alice()
        .post("/api/2.0/token/create", json!({"lifetime_seconds": i64::MAX}))
        .await
        .invalid("lifetime_seconds", "overflow");
    let list = app.alice().get("/api/2.0/token/list").await.ok("list");
    assert_eq!(list["token_infos"].as_array().map(Vec::len).unwrap_or(0), 0);
}

// --- file roots --------------------------------------------------------------------------------

#[actix_web::test]
async fn without_file_roots_no_file_url_is_accepted_anywhere() {
    let app = app().await;
    let ms = metastore_id(&app).await;
    let before = app.dump_state().await;
    let tmp = std::env::temp_dir();
    let url = format!("file://{}", tmp.display());
    let admin = app.admin();
    let root_msg = |m: String| assert!(m.contains("--file-root"), "{m}");
    root_msg(
        admin
            .post(&format!("{UC}/external-locations"), json!({"name": "l", "url": url, "credential_name": "cred"}))
            .await
            .invalid("url", "location"),
    );
    root_msg(
        admin
            .patch(&format!("{UC}/external-locations/zone"), json!({"url": "file:///"}))
            .await
            .invalid("url", "relocate"),
    );
    root_msg(admin.get(&format!("{UC}/files?url={}", enc("file:///etc"))).await.invalid("url", "listFiles"));
    root_msg(
        admin
            .post(
                &format!("{UC}/validate-storage-credentials"),
                json!({"storage_credential_name": "cred", "url": "file:///etc/passwd"}),
            )
            .await
            .invalid("url", "validate"),
    );
    root_msg(
        admin
            .post(&format!("{UC}/catalogs"), json!({"name": "c", "storage_root": url}))
            .await
            .invalid("storage_root", "catalog"),
    );
    root_msg(
        admin
            .post(&format!("{UC}/schemas"), json!({"name": "s", "catalog_name": "main", "storage_root": url}))
            .await
            .invalid("storage_root", "schema"),
    );
    let mut t = crate::helpers::table_body("main", "default", "t");
    t["table_type"] = json!("EXTERNAL");
    t["storage_location"] = json!(format!("{url}/t"));
    t["storage_credential_name"] = json!("cred");
    root_msg(admin.post(&format!("{UC}/tables"), t).await.invalid("storage_location", "table"));
    root_msg(
        admin
            .post(&format!("{UC}/shares"), json!({"name": "sh", "storage_root": url}))
            .await
            .invalid("storage_root", "share"),
    );
    root_msg(
        admin
            .post(&format!("{UC}/metastores"), json!({"name": "m2", "storage_root": url, "region": "us-west-2"}))
            .await
            .invalid("storage_root", "metastore"),
    );
    let _ = ms;
    assert_eq!(app.dump_state().await, before);
    // A plain user gets the same 400 (checked before authorization), not a 403.
    app.alice().get(&format!("{UC}/files?url={}", enc("file:///etc"))).await.invalid("url", "alice");
}

#[actix_web::test]
async fn fixtures_with_file_urls_need_a_file_root() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = FIXTURE.replace("s3://bucket/zone", &format!("file://{}/zone", dir.path().display()));
    let path = dir.path().join("f.json");
    std::fs::write(&path, &fixture).unwrap();
    let args = crate::helpers::args(&dir.path().join("uc.db"), &path);
    let err = uc_emulator::api::app::start(&args).err().expect("refused").to_string();
    assert!(err.contains("external_locations[0]") && err.contains("--file-root"), "{err}");
    let mut rooted = crate::helpers::args(&dir.path().join("uc2.db"), &path);
    rooted.file_roots = vec![uc_emulator::config::parse_file_root(dir.path().to_str().unwrap()).unwrap()];
    assert!(uc_emulator::api::app::start(&rooted).is_ok(), "accepted under a file root");
    // A missing directory is no file root.
    assert!(uc_emulator::config::parse_file_root("/no/such/dir/anywhere").is_err());
}

#[actix_web::test]
async fn file_urls_are_confined_to_file_roots_by_path_segment() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("data");
    std::fs::create_dir_all(root.join("a/zone")).unwrap();
    std::fs::create_dir_all(data.path().join("dataextra")).unwrap();
    std::fs::write(root.join("a/zone/f.csv"), b"1").unwrap();
    let app = spawn_rooted(FIXTURE, &[], &[&root]).await;
    let files = |p: &std::path::Path| format!("{UC}/files?url={}", enc(&format!("file://{}", p.display())));
    app.admin().get(&files(&root.join("a/zone"))).await.ok("inside");
    app.admin().get(&files(&root)).await.ok("the root itself");
    app.admin().get(&files(&data.path().join("dataextra"))).await.invalid("url", "sibling prefix");
    app.admin().get(&files(data.path())).await.invalid("url", "parent");
    app.admin().get(&format!("{UC}/files?url={}", enc("file:///etc"))).await.invalid("url", "/etc");
    let loc = json!({"name": "local", "url": format!("file://{}/a", root.display()), "credential_name": "cred"});
    app.admin().post(&format!("{UC}/external-locations"), loc).await.ok("location under the root");
    let outside = json!({"name": "out", "url": "file:///home", "credential_name": "cred"});
    app.admin().post(&format!("{UC}/external-locations"), outside).await.invalid("url", "outside");
}

#[cfg(unix)]
#[actix_web::test]
async fn list_files_filesystem_trouble_is_never_5xx() {
    let data = tempfile::tempdir().unwrap();
    let root = data.path().join("root");
    std::fs::create_dir_all(root.join("dir")).unwrap();
    std::fs::write(root.join("file.txt"), b"x").unwrap();
    std::os::unix::fs::symlink(root.join("loop_a"), root.join("loop_b")).unwrap();
    std::os::unix::fs::symlink(root.join("loop_b"), root.join("loop_a")).unwrap();
    std::os::unix::fs::symlink("/etc", root.join("etc")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("dir/passwd")).unwrap();
    let app = spawn_rooted(FIXTURE, &[], &[&root]).await;
    let files = |rest: &str| format!("{UC}/files?url={}", enc(&format!("file://{}/{rest}", root.display())));
    let admin = app.admin();
    admin.get(&files("file.txt/x")).await.error(404, "RESOURCE_DOES_NOT_EXIST", "inside a file");
    admin.get(&files("loop_a")).await.invalid("url", "symlink loop");
    admin.get(&files("etc")).await.error(403, "PERMISSION_DENIED", "link out of the root");
    admin.get(&files("etc/passwd")).await.error(403, "PERMISSION_DENIED", "through a link out");
    admin.get(&files(&"n".repeat(300))).await.invalid("url", "name too long");
    // Links inside a listed directory are entries, not followed.
    let listed = admin.get(&files("dir")).await.ok("dir");
    assert_eq!(listed["files"][0]["name"], "passwd");
    assert_eq!(listed["files"][0]["is_dir"], false);
    let top = admin.get(&files("")).await.ok("root");
    let names: Vec<&str> = top["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["dir", "etc", "file.txt", "loop_a", "loop_b"]);
    // validate-storage-credentials: no probing through a link out of the root.
    let v = json!({"storage_credential_name": "cred", "url": format!("file://{}/etc/passwd", root.display())});
    admin.post(&format!("{UC}/validate-storage-credentials"), v).await.error(403, "PERMISSION_DENIED", "validate out");
    alive(&app).await;
}

// --- storage authorization ---------------------------------------------------------------------

#[actix_web::test]
async fn external_locations_need_create_external_location_on_the_credential_too() {
    let app = app().await;
    let ms = metastore_id(&app).await;
    let before = app.dump_state().await;
    grant(&app, "metastore", &ms, "alice@example.com", &["CREATE_EXTERNAL_LOCATION"]).await;
    let locs = format!("{UC}/external-locations");
    let body = json!({"name": "mine", "url": "s3://alice/x", "credential_name": "cred"});
    let m = app.alice().post(&locs, body.clone()).await.error(403, "PERMISSION_DENIED", "no right on cred");
    assert!(m.contains("cred"), "{m}");
    assert_eq!(app.admin().get(&format!("{locs}/mine")).await.status, 404);
    grant(&app, "storage_credential", "cred", "alice@example.com", &["CREATE_EXTERNAL_LOCATION"]).await;
    app.alice().post(&locs, body).await.ok("both privileges");
    // Re-pointing needs the privilege on the credential the location uses after the change.
    app.admin()
        .post(
            &format!("{UC}/storage-credentials"),
            json!({"name": "other", "aws_iam_role": {"role_arn": "arn:aws:iam::1:role/o"}}),
        )
        .await
        .ok("other cred");
    let loc_before = app.alice().get(&format!("{locs}/mine")).await.ok("mine");
    app.alice().patch(&format!("{locs}/mine"), json!({"credential_name": "other"})).await.error(
        403,
        "PERMISSION_DENIED",
        "re-point to other cred",
    );
    app.admin()
        .patch(
            &format!("{UC}/permissions/metastore/{ms}"),
            json!({"changes": [{"principal": "alice@example.com", "remove": ["CREATE_EXTERNAL_LOCATION"]}]}),
        )
        .await
        .ok("revoke");
    app.alice().patch(&format!("{locs}/mine"), json!({"url": "s3://alice/y"})).await.error(
        403,
        "PERMISSION_DENIED",
        "re-point without metastore privilege",
    );
    assert_eq!(app.alice().get(&format!("{locs}/mine")).await.ok("unchanged"), loc_before);
    app.alice().patch(&format!("{locs}/mine"), json!({"comment": "fine"})).await.ok("other fields: owner only");
    let _ = before;
}

#[actix_web::test]
async fn validate_storage_credentials_has_an_authorization_rule() {
    let app = app().await;
    let ms = metastore_id(&app).await;
    let v = format!("{UC}/validate-storage-credentials");
    let body = json!({"storage_credential_name": "cred", "url": "s3://bucket/zone"});
    app.with_token("dapi-bob").post(&v, body.clone()).await.error(403, "PERMISSION_DENIED", "bob");
    grant(&app, "metastore", &ms, "bob@example.com", &["CREATE_EXTERNAL_LOCATION"]).await;
    app.with_token("dapi-bob").post(&v, body.clone()).await.error(403, "PERMISSION_DENIED", "metastore privilege only");
    grant(&app, "storage_credential", "cred", "bob@example.com", &["CREATE_EXTERNAL_LOCATION"]).await;
    app.with_token("dapi-bob").post(&v, body).await.ok("both");
}

// --- managed storage ---------------------------------------------------------------------------

#[actix_web::test]
async fn managed_storage_cannot_be_claimed_or_blocked() {
    let app = app().await;
    let before = app.dump_state().await;
    let tables = format!("{UC}/tables");
    // M1: no storage_location on a MANAGED create, for admins too.
    for loc in ["s3://root/main", "s3://elsewhere/x"] {
        let mut t = crate::helpers::table_body("main", "default", "squat");
        t["storage_location"] = json!(loc);
        app.admin().post(&tables, t).await.invalid("storage_location", loc);
    }
    let mut empty = crate::helpers::table_body("main", "default", "fine");
    empty["storage_location"] = json!("");
    // M2: an external table may not overlap managed storage (the metastore root, inside or above).
    let ms = metastore_id(&app).await;
    let root =
        app.admin().get(&format!("{UC}/metastores/{ms}")).await.ok("ms")["storage_root"].as_str().unwrap().to_string();
    for loc in [root.clone(), format!("{root}/x"), "s3://root".to_string()] {
        let loc = loc.as_str();
        let mut t = crate::helpers::table_body("main", "default", "ext");
        t["table_type"] = json!("EXTERNAL");
        t["storage_location"] = json!(loc);
        t["storage_credential_name"] = json!("cred");
        app.admin().post(&tables, t).await.invalid("storage_location", loc);
    }
    // M3: an external location may not equal, lie inside or contain the metastore root.
    for url in [root.clone(), format!("{root}/sub"), "s3://root".to_string()] {
        let url = url.as_str();
        app.admin()
            .post(&format!("{UC}/external-locations"), json!({"name": "squat", "url": url, "credential_name": "cred"}))
            .await
            .invalid("url", url);
    }
    assert_eq!(app.dump_state().await, before);
    app.admin().post(&tables, empty).await.ok("empty storage_location counts as absent");
    // M2 the other way: a catalog root over an external table.
    let mut t = crate::helpers::table_body("main", "default", "ext");
    t["table_type"] = json!("EXTERNAL");
    t["storage_location"] = json!("s3://bucket/zone/ext");
    app.admin().post(&tables, t).await.ok("external table under the location");
    app.admin()
        .post(&format!("{UC}/catalogs"), json!({"name": "c2", "storage_root": "s3://bucket/zone"}))
        .await
        .invalid("storage_root", "catalog root containing an external table");
    app.admin()
        .post(&format!("{UC}/catalogs"), json!({"name": "c3", "storage_root": "s3://bucket/zone/ext/inner"}))
        .await
        .invalid("storage_root", "catalog root inside an external table");
    // A plain user's table creations are never blocked: managed tables still land.
    app.admin().create_table("main", "default", "managed_after").await;
}

// --- existence ---------------------------------------------------------------------------------

#[actix_web::test]
async fn callers_without_parent_access_learn_nothing_about_tables() {
    let app = app().await;
    app.admin().create_table("main", "default", "exists").await;
    let get = |t: &str| format!("{UC}/tables/main.default.{t}");
    let a = app.with_token("dapi-bob").get(&get("exists")).await;
    let b = app.with_token("dapi-bob").get(&get("missing")).await;
    assert_eq!((a.status, a.json()), (b.status, b.json()), "getTable");
    assert_eq!(a.status, 403);
    for (m, body) in [("PATCH", Some(r#"{"comment": "x"}"#)), ("DELETE", None)] {
        let a = app.with_token("dapi-bob").send(m, &get("exists"), body).await;
        let b = app.with_token("dapi-bob").send(m, &get("missing"), body).await;
        assert_eq!((a.status, a.json()), (b.status, b.json()), "{m}");
        assert_eq!(a.status, 403, "{m}");
    }
    // explain: 200 allowed=false for both, the same body apart from full_name.
    let explain = |t: &str| format!("{UC}/explain?action=getTable&securable_type=table&full_name=main.default.{t}");
    let mut a = app.with_token("dapi-bob").get(&explain("exists")).await.ok("explain existing");
    let mut b = app.with_token("dapi-bob").get(&explain("missing")).await.ok("explain missing");
    assert_eq!(a["allowed"], false);
    for v in [&mut a, &mut b] {
        let full = v["full_name"].as_str().unwrap().to_string();
        v["full_name"] = json!("");
        let ex = v["explanation"].as_str().unwrap().replace(&full, "");
        v["explanation"] = json!(ex);
    }
    assert_eq!(a, b);
    // With parent access, a missing table is a 404 in both.
    app.admin().get(&explain("missing")).await.error(404, "TABLE_DOES_NOT_EXIST", "admin explain");
}

// --- composite requests ------------------------------------------------------------------------

#[actix_web::test]
async fn a_share_owner_change_with_an_add_checks_both_owners_before_the_request() {
    let app = app().await;
    let ms = metastore_id(&app).await;
    app.admin().create_table("main", "default", "t").await;
    // alice may create shares; she does not hold SELECT on the table, the admin does (owner).
    grant(&app, "metastore", &ms, "alice@example.com", &["CREATE_SHARE"]).await;
    app.alice().post(&format!("{UC}/shares"), json!({"name": "hers"})).await.ok("share");
    let add = json!([{"action": "ADD", "data_object": {"name": "main.default.t", "data_object_type": "TABLE"}}]);
    let before = crate::fuzz::dump_db(&app);
    // Handing the share to the admin in the same request does not excuse alice's lack of SELECT.
    let m = app
        .alice()
        .patch(&format!("{UC}/shares/hers"), json!({"owner": "admin@example.com", "updates": add}))
        .await
        .error(403, "PERMISSION_DENIED", "owner change with ADD");
    assert!(m.contains("alice@example.com") && m.contains("main.default.t"), "{m}");
    assert_eq!(crate::fuzz::dump_db(&app), before, "nothing of the refused PATCH applied");
    // Nor may the new owner lack it when the old one has it.
    grant(&app, "table", "main.default.t", "alice@example.com", &["SELECT"]).await;
    let m = app
        .alice()
        .patch(&format!("{UC}/shares/hers"), json!({"owner": "bob@example.com", "updates": add}))
        .await
        .error(403, "PERMISSION_DENIED", "new owner lacks SELECT");
    assert!(m.contains("bob@example.com"), "{m}");
    app.alice()
        .patch(&format!("{UC}/shares/hers"), json!({"owner": "admin@example.com", "updates": add}))
        .await
        .ok("both hold SELECT");
    // A metastore admin who is not the owner may change only `owner`: `owner` sent with other
    // fields gives no right to the others.
    app.admin().patch(&format!("{UC}/catalogs/main"), json!({"owner": "alice@example.com"})).await.ok("owner only");
    let before = crate::fuzz::dump_db(&app);
    app.admin()
        .patch(&format!("{UC}/catalogs/main"), json!({"owner": "admin@example.com", "comment": "x"}))
        .await
        .error(403, "PERMISSION_DENIED", "owner and comment by a non-owner metastore admin");
    assert_eq!(crate::fuzz::dump_db(&app), before);
    app.admin().patch(&format!("{UC}/catalogs/main"), json!({"owner": "admin@example.com"})).await.ok("owner only");
}

// --- principals ----------------------------------------------------------------------------------

const SCIM: &str = "/api/2.0/preview/scim/v2";

async fn scim_id(app: &TestApp, kind: &str, filter: &str) -> String {
    let r = app.admin().get(&format!("{SCIM}/{kind}?filter={}", enc(filter))).await.ok(kind);
    r["Resources"][0]["id"].as_str().unwrap_or_else(|| panic!("no {kind} for {filter}: {r}")).to_string()
}

fn patch_op(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

#[actix_web::test]
async fn user_name_emails_and_application_id_never_change() {
    let app = app().await;
    let alice = scim_id(&app, "Users", "userName eq \"alice@example.com\"").await;
    let op = patch_op(json!([
        {"op": "replace", "path": "userName", "value": "admin2@example.com"},
        {"op": "replace", "value": {"userName": "x@example.com", "displayName": "Alice A."}},
        {"op": "add", "path": "emails", "value": [{"value": "evil@example.com"}]}
    ]));
    let r = app.admin().patch(&format!("{SCIM}/Users/{alice}"), op).await.ok("patch");
    assert_eq!((r["userName"].as_str(), r["displayName"].as_str()), (Some("alice@example.com"), Some("Alice A.")));
    let put = json!({"userName": "someone@example.com", "displayName": "Alice B.",
                     "emails": [{"value": "evil@example.com"}]});
    let r = app.admin().put(&format!("{SCIM}/Users/{alice}"), put).await.ok("put");
    assert_eq!((r["userName"].as_str(), r["displayName"].as_str()), (Some("alice@example.com"), Some("Alice B.")));
    assert!(!r.to_string().contains("evil@example.com"), "{r}");
    // alice's token still works as alice.
    let me = app.alice().get(&format!("{SCIM}/Me")).await.ok("me");
    assert_eq!(me["userName"], "alice@example.com");
    let sp = app
        .admin()
        .post(
            &format!("{SCIM}/ServicePrincipals"),
            json!({"displayName": "bot", "applicationId": "aaaaaaaa-0000-4000-8000-000000000001"}),
        )
        .await;
    assert!(sp.status == 200 || sp.status == 201, "{}", sp.text);
    let id = sp.json()["id"].as_str().unwrap().to_string();
    let r = app
        .admin()
        .put(
            &format!("{SCIM}/ServicePrincipals/{id}"),
            json!({"applicationId": "aaaaaaaa-0000-4000-8000-000000000002", "displayName": "bot2"}),
        )
        .await
        .ok("put sp");
    let first = Some("aaaaaaaa-0000-4000-8000-000000000001");
    assert_eq!((r["applicationId"].as_str(), r["displayName"].as_str()), (first, Some("bot2")));
    let op =
        patch_op(json!([{"op": "replace", "path": "applicationId", "value": "aaaaaaaa-0000-4000-8000-000000000003"}]));
    let r = app.admin().patch(&format!("{SCIM}/ServicePrincipals/{id}"), op).await.ok("patch sp");
    assert_eq!(r["applicationId"].as_str(), first);
}

#[actix_web::test]
async fn renaming_a_group_carries_every_reference_and_nothing_else() {
    let app = app().await;
    let ms = metastore_id(&app).await;
    let admin = app.admin();
    admin.post(&format!("{SCIM}/Groups"), json!({"displayName": "team"})).await;
    let team = scim_id(&app, "Groups", "displayName eq \"team\"").await;
    admin.post(&format!("{UC}/shares"), json!({"name": "s"})).await.ok("share");
    admin.post(&format!("{UC}/recipients"), json!({"name": "team", "authentication_type": "TOKEN"})).await.ok("r");
    admin.post(&format!("{UC}/recipients"), json!({"name": "r2", "authentication_type": "TOKEN"})).await.ok("r2");
    admin
        .post(&format!("{UC}/providers"), json!({"name": "p", "authentication_type": "TOKEN",
            "recipient_profile_str": "{\"shareCredentialsVersion\":1,\"endpoint\":\"https://x\",\"bearerToken\":\"b\"}"}))
        .await
        .ok("provider");
    admin
        .patch(&format!("{UC}/shares/s/permissions"), json!({"changes": [{"principal": "team", "add": ["SELECT"]}]}))
        .await
        .ok("share grant to the recipient named team");
    let owned = [
        format!("{UC}/catalogs/main"),
        format!("{UC}/storage-credentials/cred"),
        format!("{UC}/external-locations/zone"),
        format!("{UC}/shares/s"),
        format!("{UC}/recipients/r2"),
        format!("{UC}/providers/p"),
    ];
    for path in &owned {
        admin.patch(path, json!({"owner": "team"})).await.ok(path);
    }
    grant(&app, "metastore", &ms, "team", &["CREATE_CATALOG"]).await;
    grant(&app, "catalog", "main", "team", &["USE_CATALOG"]).await;
    admin
        .patch(
            "/api/2.0/permissions/authorization/tokens",
            json!({"access_control_list": [{"group_name": "team", "permission_level": "CAN_USE"}]}),
        )
        .await
        .ok("token acl");
    // Rename.
    let op = patch_op(json!([{"op": "replace", "value": {"displayName": "squad"}}]));
    admin.patch(&format!("{SCIM}/Groups/{team}"), op).await.ok("rename");
    for path in &owned {
        assert_eq!(admin.get(path).await.ok(path)["owner"], "squad", "{path}");
    }
    let p = admin.get(&format!("{UC}/permissions/catalog/main")).await.ok("perms");
    assert!(p.to_string().contains("squad") && !p.to_string().contains("\"team\""), "{p}");
    let p = admin.get(&format!("{UC}/permissions/metastore/{ms}")).await.ok("ms perms");
    assert!(p.to_string().contains("squad"), "{p}");
    let acl = admin.get("/api/2.0/permissions/authorization/tokens").await.ok("acl");
    assert!(acl.to_string().contains("squad") && !acl.to_string().contains("\"team\""), "{acl}");
    // The recipient named like the old group, and its share grant, are untouched.
    admin.get(&format!("{UC}/recipients/team")).await.ok("recipient team stays");
    let sp = admin.get(&format!("{UC}/shares/s/permissions")).await.ok("share perms");
    assert!(sp.to_string().contains("\"team\""), "{sp}");
    // A group created later under the old name owns nothing of this.
    admin.post(&format!("{SCIM}/Groups"), json!({"displayName": "team"})).await;
    let p = admin.get(&format!("{UC}/permissions/catalog/main")).await.ok("perms");
    assert!(!p.to_string().contains("\"team\""), "{p}");
}

#[actix_web::test]
async fn a_deleted_principal_loses_its_grants_and_a_new_one_under_its_name_inherits_nothing() {
    let app = app().await;
    let ms = metastore_id(&app).await;
    let admin = app.admin();
    let app_id = "11111111-2222-4333-8444-555555555555";
    let sp =
        admin.post(&format!("{SCIM}/ServicePrincipals"), json!({"displayName": "etl", "applicationId": app_id})).await;
    let sp_id = sp.json()["id"].as_str().unwrap().to_string();
    // The service principal owns a catalog and the metastore, holds grants and an ACL entry.
    admin.post(&format!("{UC}/catalogs"), json!({"name": "etl_cat"})).await.ok("catalog");
    admin.patch(&format!("{UC}/catalogs/etl_cat"), json!({"owner": app_id})).await.ok("owner");
    grant(&app, "catalog", "main", app_id, &["USE_CATALOG", "CREATE_SCHEMA"]).await;
    admin
        .patch(
            "/api/2.0/permissions/authorization/passwords",
            json!({"access_control_list": [{"service_principal_name": app_id, "permission_level": "CAN_USE"}]}),
        )
        .await
        .ok("acl");
    admin.create_table("main", "default", "etl_t").await;
    admin.patch(&format!("{UC}/tables/main.default.etl_t"), json!({"owner": app_id})).await.ok("table owner");
    admin.patch(&format!("{UC}/metastores/{ms}"), json!({"owner": app_id})).await.ok("metastore owner");
    let tok = admin.post("/api/2.0/token-management/on-behalf-of/tokens", json!({"application_id": app_id})).await;
    let old_token = tok.ok("obo")["token_value"].as_str().unwrap().to_string();
    app.with_token(&old_token).get(&format!("{UC}/catalogs/etl_cat")).await.ok("owner reads");

    admin.delete(&format!("{SCIM}/ServicePrincipals/{sp_id}")).await.ok("delete");
    app.with_token(&old_token).get(&format!("{UC}/catalogs")).await.error(401, "UNAUTHENTICATED", "old token");
    // Grants and ACL entries are gone; owned objects keep the name.
    let p = admin.get(&format!("{UC}/permissions/catalog/main")).await.ok("perms");
    assert!(!p.to_string().contains(app_id), "{p}");
    let acl = admin.get("/api/2.0/permissions/authorization/passwords").await.ok("acl");
    assert!(!acl.to_string().contains(app_id), "{acl}");

    // A new principal under the same name: a new id, nothing of the old one's.
    let again =
        admin.post(&format!("{SCIM}/ServicePrincipals"), json!({"displayName": "etl2", "applicationId": app_id})).await;
    assert_ne!(again.json()["id"].as_str().unwrap(), sp_id);
    let tok = admin.post("/api/2.0/token-management/on-behalf-of/tokens", json!({"application_id": app_id})).await;
    let new_token = tok.ok("obo")["token_value"].as_str().unwrap().to_string();
    let new = app.with_token(&new_token);
    new.get(&format!("{UC}/metastores/{ms}")).await.error(403, "PERMISSION_DENIED", "not a metastore admin");
    // Nobody administers the metastore now; an account admin may give it an owner, nothing more.
    admin
        .patch(&format!("{UC}/metastores/{ms}"), json!({"owner": "ms-admins", "delta_sharing_organization_name": "x"}))
        .await
        .error(403, "PERMISSION_DENIED", "owner and more");
    admin.patch(&format!("{UC}/metastores/{ms}"), json!({"owner": "ms-admins"})).await.ok("re-own");
    assert_eq!(admin.get(&format!("{UC}/catalogs/etl_cat")).await.ok("cat")["owner"], app_id, "the name stays");
    new.get(&format!("{UC}/catalogs/etl_cat")).await.error(403, "PERMISSION_DENIED", "not the owner");
    new.patch(&format!("{UC}/catalogs/etl_cat"), json!({"comment": "mine"})).await.error(
        403,
        "PERMISSION_DENIED",
        "edit",
    );
    new.delete(&format!("{UC}/catalogs/etl_cat")).await.error(403, "PERMISSION_DENIED", "delete");
    let listed = new.get(&format!("{UC}/catalogs")).await.ok("list");
    assert!(!listed.to_string().contains("etl_cat"), "{listed}");
    new.get(&format!("{UC}/catalogs/main")).await.error(403, "PERMISSION_DENIED", "no USE_CATALOG");
    // Lists and table summaries do not show the old principal's table to the new one either.
    grant(&app, "catalog", "main", app_id, &["USE_CATALOG", "USE_SCHEMA"]).await;
    let seen = |v: Value| v.to_string().contains("etl_t");
    assert!(!seen(new.get(&format!("{UC}/tables?catalog_name=main&schema_name=default")).await.ok("list")));
    assert!(!seen(new.get(&format!("{UC}/table-summaries?catalog_name=main")).await.ok("summaries")));
    // An admin hands the catalog to the new principal: now it is its owner.
    admin.patch(&format!("{UC}/catalogs/etl_cat"), json!({"owner": "admin@example.com"})).await.ok("hand on");
    admin.patch(&format!("{UC}/catalogs/etl_cat"), json!({"owner": app_id})).await.ok("hand to the new one");
    new.get(&format!("{UC}/catalogs/etl_cat")).await.ok("owner now");
}

#[actix_web::test]
async fn callers_without_catalog_access_learn_nothing_about_schemas() {
    let app = app().await;
    app.admin().create_schema("main", "exists").await;
    let bob = app.with_token("dapi-bob");
    let same = |a: crate::helpers::Resp, b: crate::helpers::Resp, what: &str| {
        assert_eq!((a.status, a.json()), (b.status, b.json()), "{what}");
        assert_eq!(a.status, 403, "{what}");
    };
    for (m, body) in [("GET", None), ("PATCH", Some(r#"{"comment": "x"}"#)), ("DELETE", None)] {
        let a = bob.send(m, &format!("{UC}/schemas/main.exists"), body).await;
        let b = bob.send(m, &format!("{UC}/schemas/main.missing"), body).await;
        same(a, b, m);
        // Tables in an existing and a missing schema answer alike too.
        let a = bob.send(m, &format!("{UC}/tables/main.exists.t"), body).await;
        let b = bob.send(m, &format!("{UC}/tables/main.missing.t"), body).await;
        same(a, b, &format!("{m} table"));
    }
    let explain = |t: &str, n: &str| format!("{UC}/explain?action=getSchema&securable_type={t}&full_name={n}");
    let mut a = bob.get(&explain("schema", "main.exists")).await.ok("explain schema");
    let mut b = bob.get(&explain("schema", "main.missing")).await.ok("explain missing schema");
    for v in [&mut a, &mut b] {
        let full = v["full_name"].as_str().unwrap().to_string();
        v["explanation"] = json!(v["explanation"].as_str().unwrap().replace(&full, ""));
        v["full_name"] = json!("");
    }
    assert_eq!(a, b);
    assert_eq!(a["allowed"], false);
    let t = |n: &str| format!("{UC}/explain?action=getTable&securable_type=table&full_name={n}");
    let a = bob.get(&t("main.missing.t")).await.ok("explain table in a missing schema");
    assert_eq!(a["allowed"], false);
}

// --- refusals of the HTTP codec ------------------------------------------------------------------

/// Sends raw bytes to the server and reads the whole answer (the codec closes the connection
/// after its refusals): status and the body as JSON (`Null` when it is not JSON).
async fn raw_exchange(app: &TestApp, request: Vec<u8>) -> (u16, Value, String) {
    let addr = app.url.strip_prefix("http://").expect("http URL").to_string();
    // Blocking I/O off the runtime that serves the app.
    let text = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("timeout");
        let _ = s.write_all(&request); // the server may answer and close before reading it all
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
    .await
    .expect("exchange");
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null), text)
}

#[actix_web::test]
async fn refusals_of_the_http_codec_carry_the_error_json() {
    let app = app().await;
    let get = |extra: &str| {
        format!("GET {UC}/catalogs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dapi-admin\r\n{extra}\r\n")
    };
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "a 200 KiB header",
            get(&format!("X-Big: {}\r\n", "a".repeat(200 * 1024))).into_bytes(),
            431,
            "REQUEST_LIMIT_EXCEEDED",
        ),
        (
            "200 headers",
            get(&(0..200).map(|i| format!("X-H{i}: v\r\n")).collect::<String>()).into_bytes(),
            431,
            "REQUEST_LIMIT_EXCEEDED",
        ),
        ("a malformed request line", b"GARBAGE\r\n\r\n".to_vec(), 400, "BAD_REQUEST"),
        (
            "an unknown HTTP version",
            format!("GET {UC}/catalogs HTTP/9.9\r\nHost: x\r\n\r\n").into_bytes(),
            400,
            "BAD_REQUEST",
        ),
        ("a control character in a header", get("X-Bin: \u{1}\u{2}\r\n").into_bytes(), 400, "BAD_REQUEST"),
        (
            "a Content-Length that is not a number",
            format!("POST {UC}/catalogs HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n").into_bytes(),
            400,
            "BAD_REQUEST",
        ),
        (
            "an 80 KiB query string",
            format!("GET {UC}/catalogs?{} HTTP/1.1\r\nHost: x\r\n\r\n", "a=b&".repeat(20_000)).into_bytes(),
            400,
            "BAD_REQUEST",
        ),
    ];
    for (what, request, status, code) in cases {
        let (got, body, text) = raw_exchange(&app, request).await;
        assert_eq!(got, status, "{what}: {text}");
        assert_eq!(body["error_code"], code, "{what}: {text}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {text}");
        assert!(text.to_ascii_lowercase().contains("content-type: application/json"), "{what}: {text}");
    }
    // A request the codec accepts is answered by the application as before.
    let (got, body, text) = raw_exchange(&app, get("Connection: close\r\n").into_bytes()).await;
    assert_eq!(got, 200, "{text}");
    assert!(body["catalogs"].is_array(), "{text}");
    alive(&app).await;
}

// --- an unreadable directory ---------------------------------------------------------------------

/// A directory this process may not read, under a directory usable as a file root: a mode-000
/// directory for an ordinary user; for root (permission bits do not bind it), `/proc/1/map_files`,
/// which needs a capability container roots lack. `None` when this process may read both (a
/// fully privileged root): then EACCES cannot be produced here.
fn unreadable_directory(scratch: &std::path::Path) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    use std::os::unix::fs::PermissionsExt;
    let locked = scratch.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Some directories refuse only when their entries are read, not when they are opened.
    let denied = |p: &std::path::Path| {
        let listed = std::fs::read_dir(p).and_then(|mut d| d.next().transpose().map(|_| ()));
        listed.err().is_some_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
    };
    if denied(&locked) {
        return Some((scratch.to_path_buf(), locked));
    }
    let proc1 = std::path::Path::new("/proc/1");
    if denied(&proc1.join("map_files")) {
        return Some((proc1.to_path_buf(), proc1.join("map_files")));
    }
    None
}

#[actix_web::test]
async fn an_unreadable_directory_is_403_naming_the_url() {
    let scratch = tempfile::tempdir().unwrap();
    let Some((root, unreadable)) = unreadable_directory(scratch.path()) else {
        eprintln!("skipped: this process may read every directory (EACCES cannot be produced here)");
        return;
    };
    let app = spawn_rooted(FIXTURE, &[], &[&root]).await;
    let url = format!("file://{}", unreadable.display());
    let msg = app.admin().get(&format!("{UC}/files?url={}", enc(&url))).await.error(403, "PERMISSION_DENIED", "list");
    assert!(msg.contains(&url), "the message names the URL: {msg}");
    let v = json!({"storage_credential_name": "cred", "url": url});
    app.admin().post(&format!("{UC}/validate-storage-credentials"), v).await.error(
        403,
        "PERMISSION_DENIED",
        "validate",
    );
    alive(&app).await;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(scratch.path().join("locked"), std::fs::Permissions::from_mode(0o700));
}

// --- free text is stored verbatim ----------------------------------------------------------------

#[actix_web::test]
async fn free_text_with_nul_and_control_characters_round_trips() {
    let app = app().await;
    let admin = app.admin();
    let text = "nul:\u{0} bell:\u{7} esc:\u{1b} del:\u{7f} crlf:\r\n tab:\t emoji:\u{1f980} bidi:\u{202e}end";
    let created = admin
        .post(&format!("{UC}/catalogs"), json!({"name": "verbatim", "comment": text, "properties": {"k": text}}))
        .await
        .ok("create");
    assert_eq!(created["comment"], text);
    let got = admin.get(&format!("{UC}/catalogs/verbatim")).await.ok("get");
    assert_eq!(got["comment"], text, "comment");
    assert_eq!(got["properties"]["k"], text, "property value");
    admin.post(&format!("{UC}/schemas"), json!({"name": "s", "catalog_name": "verbatim"})).await.ok("schema");
    admin.patch(&format!("{UC}/schemas/verbatim.s"), json!({"comment": text})).await.ok("update");
    assert_eq!(admin.get(&format!("{UC}/schemas/verbatim.s")).await.ok("get")["comment"], text);
    let table = json!({"name": "v", "catalog_name": "verbatim", "schema_name": "s", "table_type": "VIEW",
                       "view_definition": text, "columns": []});
    admin.post(&format!("{UC}/tables"), table).await.ok("view");
    assert_eq!(admin.get(&format!("{UC}/tables/verbatim.s.v")).await.ok("get")["view_definition"], text);
    // A user's SCIM displayName.
    let user =
        admin.post("/api/2.0/preview/scim/v2/Users", json!({"userName": "nul@example.com", "displayName": text})).await;
    assert_eq!(user.status, 201, "{}", user.text);
    let id = user.json()["id"].as_str().unwrap().to_string();
    let got = admin.get(&format!("/api/2.0/preview/scim/v2/Users/{id}")).await.ok("user");
    assert_eq!(got["displayName"], text);
    alive(&app).await;
}

// --- the server as a process: configuration and logs ----------------------------------------------

const BIN: &str = env!("CARGO_BIN_EXE_uc-emulator");

/// The binary serving on a free port with json logs to a file, killed on drop.
struct Served {
    child: std::process::Child,
    addr: String,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str], env: &[(&str, &str)]) -> Result<Served, (i32, String)> {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let log = dir.path().join("stderr.log");
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["serve", "--bind", &addr, "--db", dir.path().join("uc.db").to_str().unwrap(), "--log-format", "json"])
        .args(args)
        .env_remove("UC_EMULATOR_FILE_ROOTS")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = cmd.spawn().expect("spawn the server");
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            return Err((status.code().unwrap_or(-1), std::fs::read_to_string(&log).unwrap_or_default()));
        }
        if http(&addr, "GET", "/healthz", None, None).0 == 200 {
            return Ok(Served { child, addr, log, _dir: dir });
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the server never became healthy");
}

/// One HTTP/1.0 exchange: status and JSON body (`Null` if none).
fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else { return (0, Value::Null) };
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    if s.write_all(head.as_bytes()).and_then(|_| s.write_all(body.as_bytes())).is_err() {
        return (0, Value::Null);
    }
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let json = text.split_once("\r\n\r\n").and_then(|(_, b)| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    (status, json)
}

/// One HTTP/1.0 exchange with a form body and one extra header line.
fn http_raw(addr: &str, request_line: &str, header: &str, form: &str) -> (u16, Value) {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else { return (0, Value::Null) };
    let head = format!(
        "{request_line} HTTP/1.0\r\nHost: {addr}\r\n{header}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    if s.write_all(head.as_bytes()).is_err() {
        return (0, Value::Null);
    }
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let json = text.split_once("\r\n\r\n").and_then(|(_, b)| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    (status, json)
}

/// The value of an HTTP Basic `Authorization` header.
fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

fn files_url(dir: &std::path::Path) -> String {
    format!("{UC}/files?url={}", enc(&format!("file://{}", dir.display())))
}

#[test]
fn file_roots_come_from_uc_emulator_file_roots_and_the_flag_replaces_them() {
    let dirs = tempfile::tempdir().unwrap();
    let (a, b, c) = (dirs.path().join("a"), dirs.path().join("b"), dirs.path().join("c"));
    for d in [&a, &b, &c] {
        std::fs::create_dir_all(d).unwrap();
    }
    let both = format!("{},{}", a.display(), b.display());
    let served = serve(&[], &[("UC_EMULATOR_FILE_ROOTS", &both)]).expect("serve with the variable");
    for d in [&a, &b] {
        let (status, body) = http(&served.addr, "GET", &files_url(d), Some("dapi-admin"), None);
        assert_eq!(status, 200, "{} is a file root: {body}", d.display());
    }
    let (status, body) = http(&served.addr, "GET", &files_url(&c), Some("dapi-admin"), None);
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap_or("").contains("--file-root"), "{body}");
    drop(served);

    // The flag replaces the variable entirely.
    let served = serve(&["--file-root", c.to_str().unwrap()], &[("UC_EMULATOR_FILE_ROOTS", &both)]).expect("serve");
    assert_eq!(http(&served.addr, "GET", &files_url(&c), Some("dapi-admin"), None).0, 200);
    assert_eq!(http(&served.addr, "GET", &files_url(&a), Some("dapi-admin"), None).0, 400);
    drop(served);

    // A variable naming a directory that does not exist stops start-up: exit 2, one line.
    let missing = dirs.path().join("missing");
    let bad = format!("{},{}", a.display(), missing.display());
    let (code, stderr) = serve(&[], &[("UC_EMULATOR_FILE_ROOTS", &bad)]).err().expect("start-up must fail");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
}

#[test]
fn secrets_never_reach_the_log() {
    let served = serve(&[], &[]).expect("serve");
    let (addr, admin) = (served.addr.as_str(), Some("dapi-admin"));
    let mut secrets: Vec<String> = Vec::new();

    // A personal access token: its value is in the create answer only; it is then used.
    let (s, pat) = http(addr, "POST", "/api/2.0/token/create", admin, Some(&json!({"comment": "t"})));
    assert_eq!(s, 200, "{pat}");
    let pat = pat["token_value"].as_str().unwrap().to_string();
    assert_eq!(http(addr, "GET", &format!("{UC}/catalogs"), Some(&pat), None).0, 200);
    secrets.push(pat);
    // A token presented that is not one (401).
    let wrong = "dapi0123456789abcdef0123456789abcdef";
    assert_eq!(http(addr, "GET", &format!("{UC}/catalogs"), Some(wrong), None).0, 401);
    secrets.push(wrong.to_string());
    // A storage credential's client secret, on create and on update.
    let secret = "client-secret-Zq81";
    let cred = json!({"name": "az", "azure_service_principal":
        {"directory_id": "d", "application_id": "a", "client_secret": secret}});
    let (s, body) = http(addr, "POST", &format!("{UC}/storage-credentials"), admin, Some(&cred));
    assert_eq!(s, 200, "{body}");
    let update = json!({"azure_service_principal": {"directory_id": "d", "application_id": "a", "client_secret": "rotated-secret-Yk27"}});
    let (s, body) = http(addr, "PATCH", &format!("{UC}/storage-credentials/az"), admin, Some(&update));
    assert_eq!(s, 200, "{body}");
    secrets.extend([secret.to_string(), "rotated-secret-Yk27".to_string()]);
    // A TOKEN recipient and a rotation (its bearer tokens are never answered by this API).
    let summary = http(addr, "GET", &format!("{UC}/metastore_summary"), admin, None).1;
    let ms = summary["metastore_id"].as_str().unwrap().to_string();
    let sharing = json!({"delta_sharing_scope": "INTERNAL_AND_EXTERNAL", "delta_sharing_recipient_token_lifetime_in_seconds": 3600});
    assert_eq!(http(addr, "PATCH", &format!("{UC}/metastores/{ms}"), admin, Some(&sharing)).0, 200);
    let (s, r) = http(
        addr,
        "POST",
        &format!("{UC}/recipients"),
        admin,
        Some(&json!({"name": "r", "authentication_type": "TOKEN"})),
    );
    assert_eq!(s, 200, "{r}");
    let rotate = json!({"existing_token_expire_in_seconds": 0});
    assert_eq!(http(addr, "POST", &format!("{UC}/recipients/r/rotate-token"), admin, Some(&rotate)).0, 200);
    // A provider's bearer token inside its recipient profile.
    let profile = json!({"shareCredentialsVersion": 1, "endpoint": "https://sharing.example/delta-sharing/",
                         "bearerToken": "provider-bearer-Qw55"})
    .to_string();
    let provider = json!({"name": "p", "authentication_type": "TOKEN", "recipient_profile_str": profile});
    let (s, body) = http(addr, "POST", &format!("{UC}/providers"), admin, Some(&provider));
    assert_eq!(s, 200, "{body}");
    secrets.push("provider-bearer-Qw55".to_string());
    // A Partner Connect partner's password.
    let registration = json!({"config": {
        "api_version": "2.1.1", "name": "Acme", "description_blurb": "x", "category": "INGEST",
        "base_url": "http://127.0.0.1:9/acme", "endpoints": {"connect_path": "/connect"},
        "sign_up_page": "https://acme.example/s", "privacy_policy": "https://acme.example/p",
        "terms_of_service": "https://acme.example/t", "logo_file": "a.png", "icon_file": "a.svg",
        "resources_to_provision": [{"resource_type": "PAT"}], "supported_clouds": ["aws"],
        "hostnames": ["acme.example"], "new_user_action": "auto_add"},
        "basic_auth": {"username": "databricks", "password": "partner-password-Mx90"}});
    let (s, body) = http(addr, "POST", "/api/2.0/partner-connect/partners", admin, Some(&registration));
    assert_eq!(s, 200, "{body}");
    secrets.push("partner-password-Mx90".to_string());

    // The recipient's bearer token: retrieved once through the public activation link, then used
    // on the sharing server (and a wrong one presented there).
    let (s, r) = http(addr, "GET", &format!("{UC}/recipients/r"), admin, None);
    assert_eq!(s, 200, "{r}");
    let link = r["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["activation_url"].as_str())
        .find(|u| !u.is_empty())
        .expect("an unused activation link")
        .to_string();
    let code = link.rsplit_once('?').expect("activation token").1.to_string();
    let (s, profile) =
        http(addr, "GET", &format!("/api/2.1/unity-catalog/public/data_sharing_activation/{code}"), None, None);
    assert_eq!(s, 200, "{profile}");
    let bearer = profile["bearerToken"].as_str().expect("bearer token").to_string();
    let shares = format!("/api/2.0/delta-sharing/metastores/{ms}/shares");
    assert_eq!(http(addr, "GET", &shares, Some(&bearer), None).0, 200);
    let wrong_bearer = format!("{bearer}Zz");
    assert_eq!(http(addr, "GET", &shares, Some(&wrong_bearer), None).0, 401);
    secrets.extend([bearer, wrong_bearer]);
    // A service principal's OAuth secret, the token endpoint (JSON body and HTTP Basic), the access
    // token in use, and a wrong secret and access token presented.
    let (s, sps) = http(addr, "GET", "/api/2.0/preview/scim/v2/ServicePrincipals", admin, None);
    assert_eq!(s, 200, "{sps}");
    let sp = sps["Resources"][0]["id"].as_str().unwrap().to_string();
    let app_id = sps["Resources"][0]["applicationId"].as_str().unwrap().to_string();
    let secrets_path =
        format!("/api/2.0/accounts/00000000-0000-4000-8000-000000000000/servicePrincipals/{sp}/credentials/secrets");
    let (s, made) = http(addr, "POST", &secrets_path, admin, Some(&json!({})));
    assert_eq!(s, 200, "{made}");
    let sp_secret = made["secret"].as_str().unwrap().to_string();
    let grant = json!({"grant_type": "client_credentials", "client_id": app_id, "client_secret": sp_secret});
    let (s, minted) = http(addr, "POST", "/oidc/v1/token", None, Some(&grant));
    assert_eq!(s, 200, "{minted}");
    let access = minted["access_token"].as_str().unwrap().to_string();
    assert_eq!(http(addr, "GET", "/api/2.0/preview/scim/v2/Me", Some(&access), None).0, 200);
    let wrong_access = format!("{access}Qq");
    assert_eq!(http(addr, "GET", "/api/2.0/preview/scim/v2/Me", Some(&wrong_access), None).0, 401);
    let wrong_secret = format!("{sp_secret}Ww");
    let basic = base64_basic(&app_id, &wrong_secret);
    let (s, _) = http_raw(
        addr,
        "POST /oidc/v1/token",
        &format!("Authorization: Basic {basic}"),
        "grant_type=client_credentials",
    );
    assert_eq!(s, 401);
    let basic_ok = base64_basic(&app_id, &sp_secret);
    let (s, _) = http_raw(
        addr,
        "POST /oidc/v1/token",
        &format!("Authorization: Basic {basic_ok}"),
        "grant_type=client_credentials",
    );
    assert_eq!(s, 200);
    secrets.extend([sp_secret, access, wrong_access, wrong_secret, basic, basic_ok]);

    // Read the log after a last request.
    assert_eq!(http(addr, "GET", "/healthz", None, None).0, 200);
    let log = std::fs::read_to_string(&served.log).unwrap();
    assert!(
        log.contains("/api/2.0/token/create")
            && log.contains("storage-credentials")
            && log.contains("/oidc/v1/token")
            && log.contains("/delta-sharing/metastores/")
            && log.contains("credentials/secrets"),
        "the requests are logged: {log}"
    );
    for line in log.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("not a json log line ({e}): {line}"));
    }
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "the log contains the secret {secret:?}");
    }
}
