//! The data plane over HTTP: managed table directories created and removed with their tables
//! (external data untouched), temporary table and path credentials (check order, response
//! shape, `file://`), and the S3 endpoint's authorization of every operation with requests
//! signed here with SigV4.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{enc, spawn_data_plane, Resp, TestApp, DEFAULT_FIXTURE, UC};

const BUCKET: &str = "uc-emulator";

/// A fixture whose metastore lets engines in, with an external location `ext` over
/// `s3://uc-emulator/ext` and a schema `main.s`.
fn fixture() -> String {
    let mut f: Value = serde_json::from_str(DEFAULT_FIXTURE).unwrap();
    f["metastores"][0]["external_access_enabled"] = json!(true);
    f["schemas"] = json!([{"catalog_name": "main", "name": "s"}]);
    f.to_string()
}

async fn setup(app: &TestApp) {
    let admin = app.admin();
    admin
        .post(
            &format!("{UC}/storage-credentials"),
            json!({"name": "cred", "aws_iam_role": {"role_arn": "arn:aws:iam::1:role/r"}}),
        )
        .await
        .ok("credential");
    admin
        .post(
            &format!("{UC}/external-locations"),
            json!({"name": "ext", "url": "s3://uc-emulator/ext", "credential_name": "cred"}),
        )
        .await
        .ok("location");
}

async fn external_table(app: &TestApp, name: &str) -> Value {
    app.admin()
        .post(
            &format!("{UC}/tables"),
            json!({"catalog_name": "main", "schema_name": "s", "name": name, "table_type": "EXTERNAL",
                   "data_source_format": "DELTA", "storage_location": format!("s3://uc-emulator/ext/{name}"),
                   "columns": []}),
        )
        .await
        .ok("external table")
}

async fn managed_table(app: &TestApp, schema: &str, name: &str) -> Value {
    app.admin()
        .post(
            &format!("{UC}/tables"),
            json!({"catalog_name": "main", "schema_name": schema, "name": name, "table_type": "MANAGED",
                   "data_source_format": "DELTA", "columns": []}),
        )
        .await
        .ok("managed table")
}

async fn grant(app: &TestApp, kind: &str, name: &str, principal: &str, privileges: &[&str]) {
    app.admin()
        .patch(
            &format!("{UC}/permissions/{kind}/{name}"),
            json!({"changes": [{"principal": principal, "add": privileges}]}),
        )
        .await
        .ok("grant");
}

fn local(root: &std::path::Path, url: &str) -> std::path::PathBuf {
    root.join(url.strip_prefix("s3://uc-emulator/").expect("under the mapped bucket"))
}

#[actix_web::test]
async fn managed_table_directories_come_and_go_with_their_tables() {
    let lake = tempfile::tempdir().unwrap();
    let (app, _s3) = spawn_data_plane(&fixture(), &[("s3://uc-emulator", lake.path())], &[], false, 3600).await;
    setup(&app).await;
    let t = managed_table(&app, "s", "m1").await;
    let dir = local(lake.path(), t["storage_location"].as_str().unwrap());
    assert!(dir.is_dir(), "a managed table's directory is created with it");
    std::fs::create_dir_all(dir.join("_delta_log")).unwrap();
    std::fs::write(dir.join("_delta_log/0.json"), b"{}").unwrap();
    app.admin().delete(&format!("{UC}/tables/main.s.m1")).await.ok("delete");
    assert!(!dir.exists(), "deleting the table removes its files");

    // A forced schema delete removes its managed tables' files and never external data.
    let m2 = managed_table(&app, "s", "m2").await;
    let m2_dir = local(lake.path(), m2["storage_location"].as_str().unwrap());
    let ext = external_table(&app, "keep").await;
    let ext_dir = local(lake.path(), ext["storage_location"].as_str().unwrap());
    assert!(!ext_dir.exists(), "the emulator creates no directory for an external table");
    std::fs::create_dir_all(&ext_dir).unwrap();
    std::fs::write(ext_dir.join("data.parquet"), b"x").unwrap();
    assert!(m2_dir.is_dir());
    app.admin().delete(&format!("{UC}/schemas/main.s?force=true")).await.ok("forced delete");
    assert!(!m2_dir.exists(), "forced deleteSchema removes managed table files");
    assert_eq!(std::fs::read(ext_dir.join("data.parquet")).unwrap(), b"x", "external data is never touched");

    // A forced catalog delete too.
    app.admin().post(&format!("{UC}/catalogs"), json!({"name": "c2"})).await.ok("catalog");
    app.admin().post(&format!("{UC}/schemas"), json!({"catalog_name": "c2", "name": "x"})).await.ok("schema");
    let m3 = app
        .admin()
        .post(
            &format!("{UC}/tables"),
            json!({"catalog_name": "c2", "schema_name": "x", "name": "m3", "table_type": "MANAGED",
                   "data_source_format": "DELTA", "columns": []}),
        )
        .await
        .ok("managed table");
    let m3_dir = local(lake.path(), m3["storage_location"].as_str().unwrap());
    assert!(m3_dir.is_dir());
    app.admin().delete(&format!("{UC}/catalogs/c2?force=true")).await.ok("forced catalog delete");
    assert!(!m3_dir.exists(), "forced deleteCatalog removes managed table files");
}

#[actix_web::test]
async fn managed_table_whose_directory_cannot_be_made_is_not_created() {
    let lake = tempfile::tempdir().unwrap();
    let (app, _s3) = spawn_data_plane(&fixture(), &[("s3://uc-emulator", lake.path())], &[], false, 3600).await;
    // A regular file where the metastore root's directory must go.
    std::fs::write(lake.path().join("main"), b"in the way").unwrap();
    let r = app
        .admin()
        .post(
            &format!("{UC}/tables"),
            json!({"catalog_name": "main", "schema_name": "s", "name": "m", "table_type": "MANAGED",
                   "data_source_format": "DELTA", "columns": []}),
        )
        .await;
    let msg = r.error(400, "INVALID_STATE", "directory in the way");
    assert!(msg.contains("storage_location"), "{msg}");
    app.admin().get(&format!("{UC}/tables/main.s.m")).await.error(404, "TABLE_DOES_NOT_EXIST", "rolled back");
}

fn creds_path(hosted: bool) -> String {
    if hosted {
        "/api/2.0/unity-catalog/temporary-table-credentials".into()
    } else {
        format!("{UC}/temporary-table-credentials")
    }
}

#[actix_web::test]
async fn table_credentials_follow_the_check_order() {
    let lake = tempfile::tempdir().unwrap();
    let mut f: Value = serde_json::from_str(&fixture()).unwrap();
    f["metastores"][0]["external_access_enabled"] = json!(false);
    let (app, s3) = spawn_data_plane(&f.to_string(), &[("s3://uc-emulator", lake.path())], &[], true, 900).await;
    let s3_url = s3.as_ref().unwrap().url.clone();
    setup(&app).await;
    let t = external_table(&app, "t1").await;
    let id = t["table_id"].as_str().unwrap().to_string();
    let admin = app.admin();
    let path = creds_path(false);

    // Shape first (400), then the metastore switch (403).
    admin.post(&path, json!({"table_id": id})).await.invalid("operation", "no operation");
    admin
        .post(&path, json!({"table_id": id, "operation": "UNKNOWN_TABLE_OPERATION"}))
        .await
        .invalid("operation", "bad");
    admin.post(&path, json!({"table_id": "nope", "operation": "READ"})).await.invalid("table_id", "not a UUID");
    let msg =
        admin.post(&path, json!({"table_id": id, "operation": "READ"})).await.error(403, "PERMISSION_DENIED", "off");
    assert!(msg.contains("external_access_enabled"), "{msg}");
    let ms = admin.get(&format!("{UC}/metastore_summary")).await.ok("summary");
    admin
        .patch(
            &format!("{UC}/metastores/{}", ms["metastore_id"].as_str().unwrap()),
            json!({"external_access_enabled": true}),
        )
        .await
        .ok("switch on");

    // An unknown table, then the privileges: no metastore-admin or owner bypass.
    admin.post(&path, json!({"table_id": uuid::Uuid::new_v4().to_string(), "operation": "READ"})).await.error(
        404,
        "TABLE_DOES_NOT_EXIST",
        "unknown table",
    );
    let msg =
        admin.post(&path, json!({"table_id": id, "operation": "READ"})).await.error(403, "PERMISSION_DENIED", "owner");
    assert_eq!(msg, "User does not have EXTERNAL USE SCHEMA on Schema 'main.s'.");
    let msg = app.alice().post(&path, json!({"table_id": id, "operation": "READ"})).await.error(
        403,
        "PERMISSION_DENIED",
        "alice",
    );
    assert!(msg.starts_with("User does not have USE CATALOG on Catalog 'main'"), "{msg}");
    grant(&app, "catalog", "main", "analysts", &["USE_CATALOG", "EXTERNAL_USE_SCHEMA"]).await;
    grant(&app, "schema", "main.s", "analysts", &["USE_SCHEMA"]).await;
    let msg = app.alice().post(&path, json!({"table_id": id, "operation": "READ"})).await.error(
        403,
        "PERMISSION_DENIED",
        "select",
    );
    assert!(msg.contains("SELECT on Table 'main.s.t1'"), "{msg}");
    grant(&app, "table", "main.s.t1", "alice@example.com", &["SELECT"]).await;

    // polars' form: query parameters, empty body, no Content-Type.
    let r = app.alice().execute(app.alice().request("POST", &format!("{path}?table_id={id}&operation=READ"))).await;
    let body = r.ok("read credential");
    let aws = &body["aws_temp_credentials"];
    let key = aws["access_key_id"].as_str().unwrap();
    assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
    assert_eq!(aws["secret_access_key"].as_str().unwrap().len(), 40);
    assert!(!aws["session_token"].as_str().unwrap().is_empty());
    assert_eq!(aws["access_point"], s3_url);
    assert_eq!(body["url"], "s3://uc-emulator/ext/t1");
    let exp = body["expiration_time"].as_i64().unwrap();
    let now = uc_emulator::domain::now_ms();
    assert!(exp > now + 890_000 && exp <= now + 900_000, "lifetime 900 s: {exp} vs {now}");
    for absent in ["azure_user_delegation_sas", "azure_aad", "gcp_oauth_token", "r2_temp_credentials"] {
        assert!(body.get(absent).is_none(), "{absent}");
    }
    // The query wins over the body; the hosted path behaves the same.
    let msg = app
        .alice()
        .post(&format!("{}?operation=READ_WRITE", creds_path(true)), json!({"table_id": id, "operation": "READ"}))
        .await
        .error(403, "PERMISSION_DENIED", "modify");
    assert!(msg.contains("MODIFY on Table 'main.s.t1'"), "{msg}");
    grant(&app, "table", "main.s.t1", "alice@example.com", &["MODIFY"]).await;
    let again = app.alice().post(&creds_path(true), json!({"table_id": id, "operation": "READ_WRITE"})).await.ok("rw");
    assert_ne!(again["aws_temp_credentials"]["access_key_id"], aws["access_key_id"], "every call mints anew");

    // A view has no storage.
    let v = admin
        .post(
            &format!("{UC}/tables"),
            json!({"catalog_name": "main", "schema_name": "s", "name": "v", "table_type": "VIEW",
                   "view_definition": "SELECT 1", "columns": []}),
        )
        .await
        .ok("view");
    grant(&app, "catalog", "main", "admin@example.com", &["EXTERNAL_USE_SCHEMA"]).await;
    admin.post(&path, json!({"table_id": v["table_id"], "operation": "READ"})).await.invalid("table_id", "a view");
    // An unmapped location is not servable.
    let u = admin
        .post(
            &format!("{UC}/tables"),
            json!({"catalog_name": "main", "schema_name": "s", "name": "far", "table_type": "EXTERNAL",
                   "data_source_format": "DELTA", "storage_location": "s3://elsewhere/t", "storage_credential_name": "cred", "columns": []}),
        )
        .await
        .ok("unmapped table");
    let msg = admin.post(&path, json!({"table_id": u["table_id"], "operation": "READ"})).await.error(
        400,
        "INVALID_STATE",
        "unmapped",
    );
    assert!(msg.contains("--storage-map"), "{msg}");
    // Not-served credential kinds.
    admin.post(&format!("{UC}/temporary-service-credentials"), json!({})).await.error(
        404,
        "ENDPOINT_NOT_FOUND",
        "service credentials",
    );
}

#[actix_web::test]
async fn without_the_s3_endpoint_s3_tables_are_not_servable_and_file_tables_carry_no_keys() {
    let lake = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let files_path = std::fs::canonicalize(files.path()).unwrap();
    let (app, s3) =
        spawn_data_plane(&fixture(), &[("s3://uc-emulator", lake.path())], &[&files_path], false, 3600).await;
    assert!(s3.is_none());
    setup(&app).await;
    grant(&app, "catalog", "main", "admin@example.com", &["EXTERNAL_USE_SCHEMA"]).await;
    let t = external_table(&app, "t1").await;
    let msg = app
        .admin()
        .post(&creds_path(false), json!({"table_id": t["table_id"], "operation": "READ"}))
        .await
        .error(400, "INVALID_STATE", "no endpoint");
    assert!(msg.contains("--s3-bind"), "{msg}");

    let url = format!("file://{}/lake", files_path.display());
    app.admin()
        .post(&format!("{UC}/external-locations"), json!({"name": "local", "url": url, "credential_name": "cred"}))
        .await
        .ok("file location");
    let ft = app
        .admin()
        .post(
            &format!("{UC}/tables"),
            json!({"catalog_name": "main", "schema_name": "s", "name": "ft", "table_type": "EXTERNAL",
                   "data_source_format": "DELTA", "storage_location": format!("{url}/ft"), "columns": []}),
        )
        .await
        .ok("file table");
    let body = app
        .admin()
        .post(&creds_path(false), json!({"table_id": ft["table_id"], "operation": "READ_WRITE"}))
        .await
        .ok("file credential");
    assert!(body.get("aws_temp_credentials").is_none(), "{body}");
    assert_eq!(body["url"], format!("{url}/ft"));
    assert!(body["expiration_time"].as_i64().unwrap() > uc_emulator::domain::now_ms());
}

#[actix_web::test]
async fn path_credentials_resolve_what_the_path_belongs_to() {
    let lake = tempfile::tempdir().unwrap();
    let (app, _s3) = spawn_data_plane(&fixture(), &[("s3://uc-emulator", lake.path())], &[], true, 3600).await;
    setup(&app).await;
    external_table(&app, "t1").await;
    let m = managed_table(&app, "s", "m").await;
    let admin = app.admin();
    let path = format!("{UC}/temporary-path-credentials");
    let hosted = "/api/2.0/unity-catalog/temporary-path-credentials";
    admin
        .post(&path, json!({"url": "s3://uc-emulator/ext/x", "operation": "UNKNOWN_PATH_OPERATION"}))
        .await
        .invalid("operation", "op");
    admin
        .post(&path, json!({"url": "s3://uc-emulator/ext/../x", "operation": "PATH_READ"}))
        .await
        .invalid("url", "dots");
    admin.post(&path, json!({"operation": "PATH_READ"})).await.invalid("url", "missing");

    // Under the location: EXTERNAL_USE_LOCATION only by explicit grant (the owner lacks it).
    let msg = admin.post(&path, json!({"url": "s3://uc-emulator/ext/raw", "operation": "PATH_READ"})).await.error(
        403,
        "PERMISSION_DENIED",
        "owner",
    );
    assert!(msg.contains("EXTERNAL USE LOCATION on External location 'ext'"), "{msg}");
    grant(&app, "external_location", "ext", "admin@example.com", &["EXTERNAL_USE_LOCATION"]).await;
    let dry = admin
        .post(hosted, json!({"url": "s3://uc-emulator/ext/raw/", "operation": "PATH_READ_WRITE", "dry_run": true}))
        .await
        .ok("dry run");
    assert!(dry.get("aws_temp_credentials").is_none(), "{dry}");
    assert_eq!(dry["url"], "s3://uc-emulator/ext/raw");
    let real =
        admin.post(hosted, json!({"url": "s3://uc-emulator/ext/raw", "operation": "PATH_READ_WRITE"})).await.ok("path");
    assert!(real["aws_temp_credentials"]["access_key_id"].as_str().unwrap().starts_with("ASIA"));

    // Alice holds READ_FILES but not EXTERNAL_USE_LOCATION, then both.
    grant(&app, "external_location", "ext", "alice@example.com", &["READ_FILES"]).await;
    let msg = app
        .alice()
        .post(&path, json!({"url": "s3://uc-emulator/ext/raw", "operation": "PATH_READ"}))
        .await
        .error(403, "PERMISSION_DENIED", "alice");
    assert!(msg.contains("EXTERNAL USE LOCATION"), "{msg}");
    grant(&app, "external_location", "ext", "alice@example.com", &["EXTERNAL_USE_LOCATION"]).await;
    app.alice()
        .post(&path, json!({"url": "s3://uc-emulator/ext/raw", "operation": "PATH_READ"}))
        .await
        .ok("alice reads");
    let msg = app
        .alice()
        .post(&path, json!({"url": "s3://uc-emulator/ext/raw", "operation": "PATH_READ_WRITE"}))
        .await
        .error(403, "PERMISSION_DENIED", "write files");
    assert!(msg.contains("WRITE FILES"), "{msg}");

    // A table's path follows the table rules; above a table, a managed table, managed
    // storage and uncovered paths are refused.
    let msg = app
        .alice()
        .post(&path, json!({"url": "s3://uc-emulator/ext/t1/_delta_log", "operation": "PATH_READ"}))
        .await
        .error(403, "PERMISSION_DENIED", "table path");
    assert!(msg.contains("USE CATALOG"), "{msg}");
    admin
        .post(&path, json!({"url": "s3://uc-emulator/ext/t1", "operation": "PATH_CREATE_TABLE"}))
        .await
        .invalid("url", "a table lives there");
    admin
        .post(&path, json!({"url": "s3://uc-emulator/ext", "operation": "PATH_READ"}))
        .await
        .invalid("url", "above a table");
    admin
        .post(&path, json!({"url": m["storage_location"], "operation": "PATH_READ"}))
        .await
        .invalid("url", "managed table");
    admin
        .post(&path, json!({"url": "s3://uc-emulator/main", "operation": "PATH_READ"}))
        .await
        .invalid("url", "managed root");
    admin.post(&path, json!({"url": "s3://nowhere/x", "operation": "PATH_READ"})).await.invalid("url", "uncovered");

    // Volume credentials: the volume in place of the table.
    let v = admin
        .post(
            &format!("{UC}/volumes"),
            json!({"catalog_name": "main", "schema_name": "s", "name": "v", "volume_type": "MANAGED"}),
        )
        .await
        .ok("volume");
    let vpath = format!("{UC}/temporary-volume-credentials");
    let msg = admin.post(&vpath, json!({"volume_id": v["volume_id"], "operation": "WRITE_VOLUME"})).await.error(
        403,
        "PERMISSION_DENIED",
        "volume without EXTERNAL_USE_SCHEMA",
    );
    assert!(msg.contains("EXTERNAL USE SCHEMA"), "{msg}");
    grant(&app, "schema", "main.s", "admin@example.com", &["EXTERNAL_USE_SCHEMA"]).await;
    let body = admin.post(&vpath, json!({"volume_id": v["volume_id"], "operation": "WRITE_VOLUME"})).await.ok("volume");
    assert_eq!(body["url"], v["storage_location"]);
    assert!(body["aws_temp_credentials"]["access_key_id"].as_str().unwrap().starts_with("ASIA"));
    admin.post(&vpath, json!({"volume_id": uuid::Uuid::new_v4().to_string(), "operation": "READ_VOLUME"})).await.error(
        404,
        "VOLUME_DOES_NOT_EXIST",
        "unknown volume",
    );
    admin.post(&vpath, json!({"volume_id": v["volume_id"], "operation": "READ"})).await.invalid("operation", "bad op");
}

// ---- the S3 endpoint -------------------------------------------------------------------

struct Cred {
    key: String,
    secret: String,
    token: String,
}

fn cred_of(body: &Value) -> Cred {
    let a = &body["aws_temp_credentials"];
    Cred {
        key: a["access_key_id"].as_str().unwrap().into(),
        secret: a["secret_access_key"].as_str().unwrap().into(),
        token: a["session_token"].as_str().unwrap().into(),
    }
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A SigV4-signed request (header form, unsigned payload) to `path` (`/bucket/key`) with the
/// query pairs given.
fn signed(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    c: &Cred,
) -> reqwest::RequestBuilder {
    let host = base.trim_start_matches("http://");
    let now = time::OffsetDateTime::now_utc();
    let date = format!("{:04}{:02}{:02}", now.year(), now.month() as u8, now.day());
    let amz = format!("{date}T{:02}{:02}{:02}Z", now.hour(), now.minute(), now.second());
    let canonical_uri: String = path.split('/').map(enc).collect::<Vec<_>>().join("/");
    let mut q: Vec<(String, String)> = query.iter().map(|(k, v)| (enc(k), enc(v))).collect();
    q.sort();
    let canonical_query = q.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let signed_headers = "host;x-amz-content-sha256;x-amz-date;x-amz-security-token";
    let canonical = format!(
        "{method}\n{canonical_uri}\n{canonical_query}\nhost:{host}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n\
         x-amz-date:{amz}\nx-amz-security-token:{}\n\n{signed_headers}\nUNSIGNED-PAYLOAD",
        c.token
    );
    let scope = format!("{date}/us-east-1/s3/aws4_request");
    let to_sign = format!("AWS4-HMAC-SHA256\n{amz}\n{scope}\n{}", hexs(&Sha256::digest(canonical.as_bytes())));
    let k = hmac(format!("AWS4{}", c.secret).as_bytes(), &date);
    let k = hmac(&k, "us-east-1");
    let k = hmac(&k, "s3");
    let k = hmac(&k, "aws4_request");
    let signature = hexs(&hmac(&k, &to_sign));
    let url = if canonical_query.is_empty() {
        format!("{base}{canonical_uri}")
    } else {
        format!("{base}{canonical_uri}?{canonical_query}")
    };
    client
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
        .header("x-amz-date", amz)
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .header("x-amz-security-token", &c.token)
        .header(
            "Authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
                c.key
            ),
        )
}

/// A pre-signed GET URL (query-string SigV4) for `path`, valid `expires` seconds.
fn presigned(base: &str, path: &str, c: &Cred, expires: u32) -> String {
    let host = base.trim_start_matches("http://");
    let now = time::OffsetDateTime::now_utc();
    let date = format!("{:04}{:02}{:02}", now.year(), now.month() as u8, now.day());
    let amz = format!("{date}T{:02}{:02}{:02}Z", now.hour(), now.minute(), now.second());
    let scope = format!("{date}/us-east-1/s3/aws4_request");
    let canonical_uri: String = path.split('/').map(enc).collect::<Vec<_>>().join("/");
    let mut q: Vec<(String, String)> = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_string()),
        ("X-Amz-Credential", format!("{}/{scope}", c.key)),
        ("X-Amz-Date", amz.clone()),
        ("X-Amz-Expires", expires.to_string()),
        ("X-Amz-Security-Token", c.token.clone()),
        ("X-Amz-SignedHeaders", "host".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (enc(k), enc(&v)))
    .collect();
    q.sort();
    let canonical_query = q.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let canonical = format!("GET\n{canonical_uri}\n{canonical_query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD");
    let to_sign = format!("AWS4-HMAC-SHA256\n{amz}\n{scope}\n{}", hexs(&Sha256::digest(canonical.as_bytes())));
    let k = hmac(format!("AWS4{}", c.secret).as_bytes(), &date);
    let k = hmac(&hmac(&hmac(&k, "us-east-1"), "s3"), "aws4_request");
    format!("{base}{canonical_uri}?{canonical_query}&X-Amz-Signature={}", hexs(&hmac(&k, &to_sign)))
}

/// A PUT with an aws-chunked body (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`): the seed signature
/// over the headers, then every chunk signed in a chain; `tamper` corrupts the last data chunk's
/// signature.
fn streaming_put(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    c: &Cred,
    chunks: &[&[u8]],
    tamper: bool,
) -> reqwest::RequestBuilder {
    let host = base.trim_start_matches("http://");
    let now = time::OffsetDateTime::now_utc();
    let date = format!("{:04}{:02}{:02}", now.year(), now.month() as u8, now.day());
    let amz = format!("{date}T{:02}{:02}{:02}Z", now.hour(), now.minute(), now.second());
    let scope = format!("{date}/us-east-1/s3/aws4_request");
    let k = hmac(format!("AWS4{}", c.secret).as_bytes(), &date);
    let key = hmac(&hmac(&hmac(&k, "us-east-1"), "s3"), "aws4_request");
    let decoded: usize = chunks.iter().map(|ch| ch.len()).sum();
    let sig_len = 64;
    let encoded: usize = chunks
        .iter()
        .chain(std::iter::once(&&b""[..]))
        .map(|ch| format!("{:x}", ch.len()).len() + ";chunk-signature=".len() + sig_len + 2 + ch.len() + 2)
        .sum();
    let signed_headers = "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-security-token";
    let canonical_uri: String = path.split('/').map(enc).collect::<Vec<_>>().join("/");
    let canonical = format!(
        "PUT\n{canonical_uri}\n\ncontent-encoding:aws-chunked\ncontent-length:{encoded}\nhost:{host}\n\
         x-amz-content-sha256:STREAMING-AWS4-HMAC-SHA256-PAYLOAD\nx-amz-date:{amz}\n\
         x-amz-decoded-content-length:{decoded}\nx-amz-security-token:{}\n\n{signed_headers}\n\
         STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        c.token
    );
    let to_sign = format!("AWS4-HMAC-SHA256\n{amz}\n{scope}\n{}", hexs(&Sha256::digest(canonical.as_bytes())));
    let seed = hexs(&hmac(&key, &to_sign));
    let empty_hash = hexs(&Sha256::digest(b""));
    let mut prev = seed.clone();
    let mut body = Vec::new();
    let all: Vec<&[u8]> = chunks.iter().copied().chain(std::iter::once(&b""[..])).collect();
    for (i, ch) in all.iter().enumerate() {
        let sts =
            format!("AWS4-HMAC-SHA256-PAYLOAD\n{amz}\n{scope}\n{prev}\n{empty_hash}\n{}", hexs(&Sha256::digest(ch)));
        let mut sig = hexs(&hmac(&key, &sts));
        if tamper && i + 2 == all.len() {
            sig = "0".repeat(64);
        }
        body.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", ch.len()).as_bytes());
        body.extend_from_slice(ch);
        body.extend_from_slice(b"\r\n");
        prev = sig;
    }
    assert_eq!(body.len(), encoded);
    client
        .put(format!("{base}{canonical_uri}"))
        .header("content-encoding", "aws-chunked")
        .header("x-amz-date", amz)
        .header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        .header("x-amz-decoded-content-length", decoded.to_string())
        .header("x-amz-security-token", &c.token)
        .header(
            "Authorization",
            format!("AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={seed}", c.key),
        )
        .body(body)
}

async fn send(rb: reqwest::RequestBuilder) -> Resp {
    let r = rb.send().await.expect("S3 request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    Resp { status, headers, text: r.text().await.unwrap() }
}

fn assert_s3_error(r: &Resp, status: u16, code: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.text);
    assert!(r.header("x-amz-request-id").is_some(), "{what}: every answer carries a request id");
    if !r.text.is_empty() {
        assert!(r.text.contains(&format!("<Code>{code}</Code>")), "{what}: {}", r.text);
        assert!(r.text.contains("<Resource>/") && r.text.contains("<RequestId>"), "{what}: {}", r.text);
        assert_eq!(r.header("content-type").as_deref(), Some("application/xml"), "{what}");
    }
}

#[actix_web::test]
async fn s3_requests_are_authorized_by_credential_scope_operation_and_expiry() {
    let lake = tempfile::tempdir().unwrap();
    let (app, s3) = spawn_data_plane(&fixture(), &[("s3://uc-emulator", lake.path())], &[], true, 2).await;
    let base = s3.as_ref().unwrap().url.clone();
    setup(&app).await;
    let t1 = external_table(&app, "t1").await;
    let t10 = external_table(&app, "t10").await;
    grant(&app, "catalog", "main", "admin@example.com", &["EXTERNAL_USE_SCHEMA"]).await;
    std::fs::create_dir_all(lake.path().join("ext/t10")).unwrap();
    std::fs::write(lake.path().join("ext/t10/secret.parquet"), b"t10 data").unwrap();
    let vend = |id: Value, op: &'static str| {
        let app = &app;
        async move { app.admin().post(&creds_path(false), json!({"table_id": id, "operation": op})).await.ok("vend") }
    };
    let rw = cred_of(&vend(t1["table_id"].clone(), "READ_WRITE").await);
    let ro = cred_of(&vend(t1["table_id"].clone(), "READ").await);
    let _ = t10;
    let c = reqwest::Client::new();
    let obj = format!("/{BUCKET}/ext/t1/_delta_log/00000000000000000000.json");

    // Writes need a read-write credential; nothing is written otherwise.
    let r = send(signed(&c, &base, "PUT", &obj, &[], &ro).body("{\"commitInfo\":{}}")).await;
    assert_s3_error(&r, 403, "AccessDenied", "read credential writing");
    assert!(!lake.path().join("ext/t1/_delta_log").exists());
    let r = send(signed(&c, &base, "PUT", &obj, &[], &rw).body("{\"commitInfo\":{}}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let etag = r.header("etag").unwrap();
    assert_eq!(etag, format!("\"{}\"", hexs(&md5_of(b"{\"commitInfo\":{}}"))));
    assert_eq!(
        std::fs::read(lake.path().join("ext/t1/_delta_log/00000000000000000000.json")).unwrap(),
        b"{\"commitInfo\":{}}"
    );

    // Conditional create: the second commit of the same version fails, the file is unchanged.
    let r = send(signed(&c, &base, "PUT", &obj, &[], &rw).header("If-None-Match", "*").body("other")).await;
    assert_s3_error(&r, 412, "PreconditionFailed", "If-None-Match on an existing key");
    let next = format!("/{BUCKET}/ext/t1/_delta_log/00000000000000000001.json");
    let r = send(signed(&c, &base, "PUT", &next, &[], &rw).header("If-None-Match", "*").body("v1")).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Reads: GET, ranges, HEAD, missing keys.
    let r = send(signed(&c, &base, "GET", &obj, &[], &ro)).await;
    assert_eq!((r.status, r.text.as_str()), (200, "{\"commitInfo\":{}}"));
    let r = send(signed(&c, &base, "GET", &obj, &[], &ro).header("Range", "bytes=2-11")).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.text, "commitInfo");
    assert_eq!(r.header("content-range").as_deref(), Some("bytes 2-11/17"));
    let r = send(signed(&c, &base, "GET", &obj, &[], &ro).header("Range", "bytes=100-")).await;
    assert_s3_error(&r, 416, "InvalidRange", "unsatisfiable range");
    let r = send(signed(&c, &base, "HEAD", &obj, &[], &ro)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length").as_deref(), Some("17"));
    let r = send(signed(&c, &base, "GET", &format!("/{BUCKET}/ext/t1/nope"), &[], &ro)).await;
    assert_s3_error(&r, 404, "NoSuchKey", "missing key in scope");

    // Scope by path segment: t1 never reaches t10; listing above the scope is refused.
    let r = send(signed(&c, &base, "GET", &format!("/{BUCKET}/ext/t10/secret.parquet"), &[], &rw)).await;
    assert_s3_error(&r, 403, "AccessDenied", "t1 credential on t10");
    let r =
        send(signed(&c, &base, "GET", &format!("/{BUCKET}"), &[("list-type", "2"), ("prefix", "ext/t1")], &ro)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("ext/t1/_delta_log/00000000000000000000.json") && !r.text.contains("t10"), "{}", r.text);
    let r =
        send(signed(&c, &base, "GET", &format!("/{BUCKET}"), &[("list-type", "2"), ("prefix", "ext/t")], &ro)).await;
    assert_s3_error(&r, 403, "AccessDenied", "a prefix look-alike");
    let r = send(signed(&c, &base, "GET", &format!("/{BUCKET}"), &[("list-type", "2"), ("prefix", "ext/")], &ro)).await;
    assert_s3_error(&r, 403, "AccessDenied", "listing above the scope");
    let r = send(signed(
        &c,
        &base,
        "GET",
        &format!("/{BUCKET}"),
        &[("list-type", "2"), ("prefix", "ext/t1/"), ("delimiter", "/")],
        &ro,
    ))
    .await;
    assert!(r.text.contains("<Prefix>ext/t1/_delta_log/</Prefix>"), "{}", r.text);
    let spaced = format!("/{BUCKET}/ext/t1/a b.txt");
    assert_eq!(send(signed(&c, &base, "PUT", &spaced, &[], &rw).body("x")).await.status, 200);
    let r = send(signed(
        &c,
        &base,
        "GET",
        &format!("/{BUCKET}"),
        &[("list-type", "2"), ("prefix", "ext/t1/a"), ("encoding-type", "url")],
        &ro,
    ))
    .await;
    assert!(r.text.contains("<Key>ext/t1/a%20b.txt</Key>"), "{}", r.text);
    assert_eq!(send(signed(&c, &base, "DELETE", &spaced, &[], &rw)).await.status, 204);

    // Streaming uploads: aws-chunked bodies with chained chunk signatures; a bad one writes nothing.
    let streamed = format!("/{BUCKET}/ext/t1/streamed.bin");
    let a = vec![1u8; 70_000];
    let r = send(streaming_put(&c, &base, &streamed, &rw, &[&a, b"tail"], false)).await;
    assert_eq!(r.status, 200, "streaming PUT: {}", r.text);
    assert_eq!(std::fs::metadata(lake.path().join("ext/t1/streamed.bin")).unwrap().len(), 70_004);
    let other = format!("/{BUCKET}/ext/t1/tampered.bin");
    let r = send(streaming_put(&c, &base, &other, &rw, &[&a, b"tail"], true)).await;
    assert_eq!(r.status, 403, "a tampered chunk signature: {}", r.text);
    assert!(!lake.path().join("ext/t1/tampered.bin").exists(), "nothing written");

    // Pre-signed URLs: the query form, with the session token in the query.
    let r = send(c.get(presigned(&base, &obj, &ro, 60))).await;
    assert_eq!((r.status, r.text.as_str()), (200, "{\"commitInfo\":{}}"), "pre-signed GET");
    let other_token = Cred { key: ro.key.clone(), secret: ro.secret.clone(), token: rw.token.clone() };
    let r = send(c.get(presigned(&base, &obj, &other_token, 60))).await;
    assert_s3_error(&r, 403, "AccessDenied", "pre-signed with another credential's token");

    // Forged keys, a wrong secret, a wrong session token, anonymous requests.
    let forged = Cred { key: "ASIAFORGEDKEY0000000".into(), secret: ro.secret.clone(), token: ro.token.clone() };
    assert_s3_error(&send(signed(&c, &base, "GET", &obj, &[], &forged)).await, 403, "AccessDenied", "forged key");
    let bad_secret = Cred { key: ro.key.clone(), secret: "x".repeat(40), token: ro.token.clone() };
    assert_s3_error(&send(signed(&c, &base, "GET", &obj, &[], &bad_secret)).await, 403, "AccessDenied", "bad secret");
    let bad_token = Cred { key: ro.key.clone(), secret: ro.secret.clone(), token: rw.token.clone() };
    assert_s3_error(&send(signed(&c, &base, "GET", &obj, &[], &bad_token)).await, 403, "AccessDenied", "other token");
    assert_s3_error(&send(c.get(format!("{base}{obj}"))).await, 403, "AccessDenied", "anonymous");

    // Multipart: parts stay out of the table's directory until completion.
    let mp = format!("/{BUCKET}/ext/t1/big.parquet");
    let r = send(signed(&c, &base, "POST", &mp, &[("uploads", "")], &rw)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let upload_id = between(&r.text, "<UploadId>", "</UploadId>");
    let part = vec![7u8; 5 * 1024 * 1024];
    let r =
        send(signed(&c, &base, "PUT", &mp, &[("partNumber", "1"), ("uploadId", &upload_id)], &rw).body(part.clone()))
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let e1 = r.header("etag").unwrap();
    let r =
        send(signed(&c, &base, "PUT", &mp, &[("partNumber", "2"), ("uploadId", &upload_id)], &rw).body("tail")).await;
    let e2 = r.header("etag").unwrap();
    assert!(!lake.path().join("ext/t1/big.parquet").exists());
    let r = send(signed(&c, &base, "GET", &mp, &[("uploadId", &upload_id)], &ro)).await;
    assert_eq!(r.status, 200, "ListParts with a read credential: {}", r.text);
    assert!(
        r.text.contains("<PartNumber>1</PartNumber>") && r.text.contains("<PartNumber>2</PartNumber>"),
        "{}",
        r.text
    );
    let listed =
        send(signed(&c, &base, "GET", &format!("/{BUCKET}"), &[("list-type", "2"), ("prefix", "ext/t1/")], &ro)).await;
    assert!(!listed.text.contains("big.parquet"), "parts never appear in listings: {}", listed.text);
    let done = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{e1}</ETag></Part>\
         <Part><PartNumber>2</PartNumber><ETag>{e2}</ETag></Part></CompleteMultipartUpload>"
    );
    let r = send(signed(&c, &base, "POST", &mp, &[("uploadId", &upload_id)], &rw).body(done)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(std::fs::metadata(lake.path().join("ext/t1/big.parquet")).unwrap().len(), 5 * 1024 * 1024 + 4);
    let r = send(signed(&c, &base, "PUT", &mp, &[("partNumber", "1"), ("uploadId", "nope")], &rw).body("x")).await;
    assert_s3_error(&r, 404, "NoSuchUpload", "unknown upload");

    // Deletes: refused for a read credential, 204 (also when absent) for a read-write one.
    assert_s3_error(&send(signed(&c, &base, "DELETE", &next, &[], &ro)).await, 403, "AccessDenied", "read deleting");
    assert!(lake.path().join("ext/t1/_delta_log/00000000000000000001.json").exists());
    assert_eq!(send(signed(&c, &base, "DELETE", &next, &[], &rw)).await.status, 204);
    assert_eq!(send(signed(&c, &base, "DELETE", &next, &[], &rw)).await.status, 204);
    assert!(!lake.path().join("ext/t1/_delta_log/00000000000000000001.json").exists());

    // Unsupported operations, after the checks: 501.
    let r = send(signed(&c, &base, "GET", &format!("/{BUCKET}"), &[("tagging", "")], &rw)).await;
    assert_s3_error(&r, 501, "NotImplemented", "bucket tagging");

    // Expiry: the 2-second credentials die.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = send(signed(&c, &base, "GET", &obj, &[], &ro)).await;
    assert_s3_error(&r, 403, "AccessDenied", "expired");
    assert!(r.text.contains("expired"), "{}", r.text);
}

fn between(text: &str, a: &str, b: &str) -> String {
    let start = text.find(a).unwrap_or_else(|| panic!("{a} in {text}")) + a.len();
    let end = text[start..].find(b).unwrap() + start;
    text[start..end].to_string()
}

fn md5_of(data: &[u8]) -> Vec<u8> {
    use md5::Digest as _;
    md5::Md5::digest(data).to_vec()
}
