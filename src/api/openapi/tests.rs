//! The document against the route table, in both directions, and its own consistency.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{built, path_params, served_routes};

/// A path template with every parameter written `{}`; a trailing catch-all segment
/// (`/{tail:.*}`, the Files API) is written as the documented form `{file_path}` is: glued to
/// the path before it.
fn shape(pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        let end = start + rest[start..].find('}').expect("a closed parameter");
        let param = &rest[start + 1..end];
        let mut before = &rest[..start];
        if param.ends_with(":.*") {
            before = before.strip_suffix('/').unwrap_or(before);
        }
        out.push_str(before);
        out.push_str("{}");
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn served() -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for r in served_routes() {
        for m in &r.methods {
            out.insert((shape(&r.pattern), m.to_string()), r.pattern.clone());
        }
    }
    out
}

fn documented() -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for (path, item) in built()["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            out.insert((shape(path), method.to_ascii_uppercase()), path.clone());
        }
    }
    out
}

#[test]
fn the_route_table_is_recorded() {
    let served = served();
    assert!(served.len() > 100, "only {} routes recorded", served.len());
    assert!(served.contains_key(&("/api/2.1/unity-catalog/catalogs/{}".to_string(), "GET".to_string())));
    assert!(served.contains_key(&("/healthz".to_string(), "GET".to_string())));
    assert!(served.contains_key(&("/api/openapi.json".to_string(), "GET".to_string())));
    assert!(served.contains_key(&("/api/2.0/fs/files{}".to_string(), "PUT".to_string())));
    // The permission explorer's page is not part of the API.
    assert!(!served.keys().any(|(p, _)| p == "/" || p.contains("explorer") || p.contains("assets")));
}

#[test]
fn every_served_route_is_documented() {
    let documented = documented();
    let missing: Vec<String> = served()
        .into_iter()
        .filter(|(k, _)| !documented.contains_key(k))
        .map(|((_, method), pattern)| format!("  {method} {pattern}"))
        .collect();
    assert!(
        missing.is_empty(),
        "served but missing from the OpenAPI document:\n{}\n\
         Add one row per method to `all()` in src/api/openapi/operations.rs, e.g.\n  \
         get(&uc(\"/things/{{name}}\"), \"getThing\", \"Things\").query::<ThingParams>().ok(s.of::<ThingInfo>()),\n\
         with the operationId of the Databricks REST API (or the SDK method's camelCase name), the path as the \
         SDK writes it (parameter names may differ from the route table's), its query type \
         (`#[derive(utoipa::IntoParams)]`), body type and answer type (`#[derive(utoipa::ToSchema)]`); \
         add the tag to TAGS if it is new. Routes that are not part of the API (pages, assets) are \
         registered inside `api::openapi::undocumented(..)`; routes inside a `web::scope(prefix)` \
         register inside `api::openapi::under(prefix, ..)` so the recorded path is the full one.",
        missing.join("\n")
    );
}

#[test]
fn every_documented_route_is_served() {
    let served = served();
    let extra: Vec<String> = documented()
        .into_iter()
        .filter(|(k, _)| !served.contains_key(k))
        .map(|((_, method), path)| format!("  {method} {path}"))
        .collect();
    assert!(
        extra.is_empty(),
        "documented in src/api/openapi/operations.rs but not served by the route table:\n{}\n\
         Remove the row, or fix its method or path.",
        extra.join("\n")
    );
}

#[test]
fn operation_ids_are_unique_and_path_parameters_declared() {
    let doc = built();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let declared: Vec<&str> = path_params(path);
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
            let in_path: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(in_path, declared, "{method} {path}: path parameters");
            assert!(op["responses"]["default"].is_object(), "{method} {path}: no default response");
            let tag = op["tags"][0].as_str().unwrap();
            assert!(
                doc["tags"].as_array().unwrap().iter().any(|t| t["name"] == tag),
                "{method} {path}: tag {tag} is not in TAGS"
            );
        }
    }
}

#[test]
fn every_reference_resolves() {
    let doc = built();
    let mut refs = Vec::new();
    collect_refs(doc, &mut refs);
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(doc["components"]["schemas"].get(name).is_some(), "$ref {r} does not resolve");
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_answer_is_described() {
    let doc = built();
    let mut undescribed = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, resp) in op["responses"].as_object().unwrap() {
                if let Some(schema) = resp.pointer("/content/application~1json/schema") {
                    if schema == &serde_json::json!({}) {
                        undescribed.push(format!("  {} {path} ({status})", method.to_uppercase()));
                    }
                }
            }
        }
    }
    assert!(
        undescribed.is_empty(),
        "answers without a schema (give the row in src/api/openapi/operations.rs an `.ok(..)`: \
         `s.of::<T>()` for a type deriving utoipa::ToSchema, `s.list::<T>(\"key\")` for a page, \
         `empty()` for `{{}}`):\n{}",
        undescribed.join("\n")
    );
}

#[test]
fn success_answers_are_closed() {
    // Every object schema with properties reachable from a 2xx answer forbids unknown fields,
    // except the ones that are open by nature (SCIM resources, partners' documents, the
    // explanation's reasons), which say so with `additionalProperties: true`.
    let doc = built();
    let catalog = &doc["components"]["schemas"]["CatalogInfo"];
    assert_eq!(catalog["additionalProperties"], false, "{catalog}");
    let list = &doc["paths"]["/api/2.1/unity-catalog/catalogs"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    assert_eq!(list["additionalProperties"], false, "{list}");
    assert_eq!(doc["components"]["schemas"]["Error"].get("additionalProperties"), None);
}

/// Every object schema reachable from a request body (through `$ref`s).
fn request_components(doc: &Value) -> BTreeSet<String> {
    let mut todo = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let mut refs = Vec::new();
            collect_refs(&op["requestBody"], &mut refs);
            todo.extend(refs);
        }
    }
    let mut seen = BTreeSet::new();
    while let Some(r) = todo.pop() {
        let name = r.trim_start_matches("#/components/schemas/").to_string();
        if seen.insert(name.clone()) {
            collect_refs(&doc["components"]["schemas"][&name], &mut todo);
        }
    }
    seen
}

#[test]
fn request_bodies_stay_open() {
    // Unknown request fields are ignored, so no request schema forbids them, even where the
    // same wire type is closed in answers (ColumnInfo: `ColumnInfoRequest` in requests).
    let doc = built();
    for name in request_components(doc) {
        let schema = &doc["components"]["schemas"][&name];
        assert!(!schema.to_string().contains("\"additionalProperties\":false"), "{name} is closed: {schema}");
    }
    assert_eq!(doc["components"]["schemas"]["ColumnInfo"]["additionalProperties"], false);
    let create = &doc["components"]["schemas"]["CreateTable"]["properties"]["columns"]["items"]["$ref"];
    assert_eq!(create, "#/components/schemas/ColumnInfoRequest");
}

#[test]
fn enums_are_the_codes_sets() {
    // The sets come from the constants the validators and renderers use; a change there moves
    // the document with it.
    use crate::domain::securable::SecurableKind;
    let doc = built();
    let s = &doc["components"]["schemas"];
    let list = |v: &Value| -> Vec<String> {
        v.as_array().unwrap().iter().filter_map(|x| x.as_str().map(str::to_string)).collect()
    };
    assert_eq!(list(&s["TableInfo"]["properties"]["table_type"]["enum"]), crate::ops::tables::TABLE_TYPES);
    assert_eq!(list(&s["CreateTable"]["properties"]["table_type"]["enum"]), crate::ops::tables::TABLE_TYPES);
    assert_eq!(
        list(&s["TableInfo"]["properties"]["data_source_format"]["enum"]),
        crate::ops::tables::DATA_SOURCE_FORMATS
    );
    assert_eq!(list(&s["MetastoreInfo"]["properties"]["delta_sharing_scope"]["enum"]), crate::ops::metastores::SCOPES);
    assert_eq!(
        list(&s["PrivilegeAssignment"]["properties"]["privileges"]["items"]["enum"]),
        crate::domain::privilege::KNOWN
    );
    let kinds: Vec<&str> = SecurableKind::ALL.iter().map(|k| k.upper()).collect();
    assert_eq!(list(&s["EffectivePrivilege"]["properties"]["inherited_from_type"]["enum"]), kinds);
    assert_eq!(list(&s["Explanation"]["properties"]["securable_type"]["enum"]), kinds);
    assert_eq!(
        list(&s["Permission"]["properties"]["permission_level"]["enum"]),
        crate::domain::workspace_object::WorkspaceObject::all_level_names()
    );
    // Every kind's upper-case name parses back to that kind (the answers' set is the
    // requests' set).
    for kind in SecurableKind::ALL {
        let parsed = SecurableKind::parse_spelling(kind.upper());
        assert!(parsed.is_some(), "{kind:?}");
    }
}

#[test]
fn every_operation_documents_its_error_statuses() {
    // 400 with a parameter or a body, 401 unless unauthenticated, 404 with a path parameter or a
    // token (the workspace's metastore), 409 on writes, 413 with a body, and `default`; each an
    // error schema: `Error` or an `allOf` extension of it (no content on HEAD).
    let doc = built();
    let schemas = &doc["components"]["schemas"];
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            let responses = op["responses"].as_object().unwrap();
            let public = op.get("security") == Some(&serde_json::json!([]));
            let has_params = op["parameters"].as_array().is_some_and(|p| !p.is_empty());
            let has_path_params = !path_params(path).is_empty();
            let has_body = op.get("requestBody").is_some();
            let writes = matches!(method.as_str(), "post" | "put" | "patch");
            let mut expected = vec!["default"];
            if has_params || has_body || writes {
                expected.push("400");
            }
            if !public {
                expected.extend(["401", "403"]);
            }
            if !public || has_path_params {
                expected.push("404");
            }
            if writes {
                expected.push("409");
            }
            if has_body || writes {
                expected.push("413");
            }
            for status in expected {
                if !responses.contains_key(status) {
                    problems.push(format!("{id}: no {status}"));
                }
            }
            for (status, resp) in responses {
                if status.starts_with('2') {
                    continue;
                }
                let Some(schema) = resp.pointer("/content/application~1json/schema") else {
                    if method != "head" {
                        problems.push(format!("{id} {status}: no JSON error schema"));
                    }
                    continue;
                };
                let name = schema["$ref"].as_str().unwrap_or_default().trim_start_matches("#/components/schemas/");
                let is_error = name == "Error" || schemas[name]["allOf"][0]["$ref"] == "#/components/schemas/Error";
                if !is_error {
                    problems.push(format!("{id} {status}: {schema} is not Error or an allOf extension of it"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The variants by area.
    let scim = &doc["paths"]["/api/2.0/preview/scim/v2/Users"]["get"]["responses"]["400"];
    assert_eq!(scim["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ScimError");
    let sharing = &doc["paths"]["/api/2.0/delta-sharing/metastores/{metastore_id}/shares"]["get"];
    assert_eq!(sharing["security"], serde_json::json!([{"recipientToken": []}]));
    assert_eq!(
        sharing["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/SharingError"
    );
    let oauth = &doc["paths"]["/oidc/v1/token"]["post"]["responses"]["401"];
    assert_eq!(oauth["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/OAuthError");
}
