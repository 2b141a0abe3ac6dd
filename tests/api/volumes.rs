//! Volumes, the Files API and functions over HTTP: a `file://` volume under a `--file-root`, a
//! streamed upload larger than the JSON body limit, ranges, traversal refused with nothing
//! written, and a function's create/get/delete.

use serde_json::json;

use crate::helpers::{spawn_rooted, DEFAULT_FIXTURE, UC};

const FS: &str = "/api/2.0/fs";

#[actix_web::test]
async fn file_volume_upload_download_range_and_traversal() {
    let root = tempfile::tempdir().unwrap();
    let root_path = std::fs::canonicalize(root.path()).unwrap();
    let app = spawn_rooted(DEFAULT_FIXTURE, &[], &[&root_path]).await;
    let admin = app.admin();
    let url = format!("file://{}/vols", root_path.display());
    admin
        .post(
            &format!("{UC}/storage-credentials"),
            json!({"name": "c", "aws_iam_role": {"role_arn": "arn:aws:iam::1:role/r"}}),
        )
        .await
        .ok("credential");
    admin
        .post(&format!("{UC}/external-locations"), json!({"name": "l", "url": url, "credential_name": "c"}))
        .await
        .ok("location");
    let v = admin
        .post(
            &format!("{UC}/volumes"),
            json!({"catalog_name": "main", "schema_name": "default", "name": "V", "volume_type": "EXTERNAL",
                   "storage_location": format!("{url}/v/")}),
        )
        .await
        .ok("create volume");
    assert_eq!(v["storage_location"], format!("{url}/v"));
    let dir = root_path.join("vols/v");
    assert!(dir.is_dir(), "the volume's directory is created with it");

    // A 6 MiB upload: over the 4 MiB JSON body limit, streamed to disk.
    let body: Vec<u8> = (0..6 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let put = admin
        .execute(admin.request("PUT", &format!("{FS}/files/Volumes/main/default/v/d/big.bin")).body(body.clone()))
        .await;
    assert_eq!(put.status, 204, "{}", put.text);
    assert!(put.text.is_empty());
    assert_eq!(std::fs::read(dir.join("d/big.bin")).unwrap(), body);
    let got = admin.get(&format!("{FS}/files/Volumes/main/default/v/d/big.bin")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-length").as_deref(), Some("6291456"));
    assert_eq!(got.content_type(), "application/octet-stream");
    let part = admin
        .execute(
            admin
                .request("GET", &format!("{FS}/files/Volumes/main/default/v/d/big.bin"))
                .header("Range", "bytes=1000-1009"),
        )
        .await;
    assert_eq!(part.status, 206);
    assert_eq!(part.header("content-range").as_deref(), Some("bytes 1000-1009/6291456"));

    // Traversal: refused before anything is touched. (The URL crate resolves `..` and `%2E%2E`
    // client-side; the SDK suite sends those to the server.)
    for bad in [
        "/Volumes/main/default/v/a%2F..%2F..%2Fx",
        "/Volumes/main/default/v/a%5C..%5Cx",
        "/Volumes/main/default/v/a%00",
    ] {
        let r = admin.execute(admin.request("PUT", &format!("{FS}/files{bad}")).body("evil")).await;
        r.invalid("path", bad);
    }
    let names: Vec<_> = std::fs::read_dir(root_path.join("vols")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["v"], "nothing written beside the volume");
    // Other methods: 405 with Allow; other fs paths: 404.
    let r = admin.patch(&format!("{FS}/files/Volumes/main/default/v/d/big.bin"), json!({})).await;
    r.error(405, "METHOD_NOT_ALLOWED", "PATCH a file");
    admin.post(&format!("{FS}/create-download-url"), json!({})).await.error(404, "ENDPOINT_NOT_FOUND", "presigned");
    // An external volume's files stay when it is deleted.
    admin.delete(&format!("{UC}/volumes/main.default.v")).await.ok("delete volume");
    assert!(dir.join("d/big.bin").is_file());
}

#[actix_web::test]
async fn functions_over_http() {
    let root = tempfile::tempdir().unwrap();
    let app = spawn_rooted(DEFAULT_FIXTURE, &[], &[root.path()]).await;
    let admin = app.admin();
    let body = json!({"function_info": {
        "name": "F", "catalog_name": "main", "schema_name": "default",
        "input_params": {"parameters": [{"name": "x", "type_name": "INT", "type_text": "int", "position": 0}]},
        "data_type": "INT", "full_data_type": "int", "routine_body": "SQL", "routine_definition": "x",
        "parameter_style": "S", "is_deterministic": true, "is_null_call": false,
        "sql_data_access": "CONTAINS_SQL", "security_type": "DEFINER", "specific_name": "f"}});
    let f = admin.post(&format!("{UC}/functions"), body.clone()).await.ok("create");
    assert_eq!(f["full_name"], "main.default.f");
    admin.post(&format!("{UC}/functions"), body).await.error(409, "FUNCTION_ALREADY_EXISTS", "duplicate");
    let alice = app.alice();
    alice.get(&format!("{UC}/functions/main.default.f")).await.error(403, "PERMISSION_DENIED", "alice");
    admin.delete(&format!("{UC}/functions/main.default.f?force=true")).await.ok("delete");
    admin.get(&format!("{UC}/functions/main.default.f")).await.error(404, "FUNCTION_DOES_NOT_EXIST", "gone");
}
