//! `GET /api/openapi.json`: served without a token, OpenAPI 3.1, the server's own address.

use crate::helpers::spawn;

#[actix_web::test]
async fn the_document_is_served_without_a_token() {
    let app = spawn().await;
    let url = format!("{}/api/openapi.json", app.url);
    for auth in [None, Some("Bearer not-a-token"), Some("Basic xyz")] {
        let mut req = app.client.get(&url);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200, "{auth:?}");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let doc: serde_json::Value = res.json().await.unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "uc-emulator");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        // The base URL the client used (its Host header).
        assert_eq!(doc["servers"], serde_json::json!([{ "url": app.url }]));
        assert_eq!(doc["paths"]["/api/openapi.json"]["get"]["security"], serde_json::json!([]));
        assert_eq!(doc["paths"]["/api/2.1/unity-catalog/catalogs"]["get"]["operationId"], "listCatalogs");
        assert_eq!(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
    }
    // Another Host: another server URL, same document otherwise.
    let res = app.client.get(&url).header("Host", "uc.example:1234").send().await.unwrap();
    let doc: serde_json::Value = res.json().await.unwrap();
    assert_eq!(doc["servers"][0]["url"], "http://uc.example:1234");

    let res = app.client.post(&url).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], "METHOD_NOT_ALLOWED");
}
