//! Property tests over the write surface (README "Security"): for every write route, random and
//! hostile bodies and paths (wrong types, unknown enums, NUL and control characters, deep
//! nesting, megabyte strings, numbers outside every integer type, malformed JSON) never produce a
//! 5xx and never stop the server, and a refused request (any 4xx) leaves a full dump of the
//! database exactly as it was. Cases are drawn with `proptest` strategies; the number of cases
//! per route is bounded so the whole file runs in seconds (`UC_FUZZ_CASES` raises it).

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::json;

use crate::helpers::{spawn_with, TestApp, UC};

/// Every row of every table, in a stable order: what "nothing changed" means.
pub fn dump_db(app: &TestApp) -> String {
    let conn = rusqlite::Connection::open_with_flags(&app.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the database read-only");
    let mut names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names.sort();
    let mut out = String::new();
    for t in names {
        out.push_str(&format!("== {t}\n"));
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let mut line = String::new();
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    line.push_str(&format!("{v:?}|"));
                }
                Ok(line)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        for r in rows {
            out.push_str(&r);
            out.push('\n');
        }
    }
    out
}

/// The fixture: something of every kind for the routes to hit.
const FIXTURE: &str = r#"{
  "workspaces": [{"workspace_id": 1001}],
  "users": [
    {"user_name": "admin@example.com", "account_admin": true},
    {"user_name": "alice@example.com"}
  ],
  "groups": [
    {"display_name": "admins", "members": ["admin@example.com"]},
    {"display_name": "analysts", "members": ["alice@example.com"]}
  ],
  "service_principals": [{"application_id": "6f1d1c2e-0000-4000-8000-000000000001", "display_name": "bot"}],
  "tokens": [
    {"token": "dapi-admin", "principal": "admin@example.com", "workspace_id": 1001},
    {"token": "dapi-alice", "principal": "alice@example.com", "workspace_id": 1001}
  ],
  "metastores": [{"name": "main", "storage_root": "s3://root/main", "owner": "admin@example.com",
                  "delta_sharing_scope": "INTERNAL_AND_EXTERNAL",
                  "delta_sharing_recipient_token_lifetime_in_seconds": 3600,
                  "assignments": [{"workspace_id": 1001}]}],
  "catalogs": [{"name": "main"}],
  "tables": [{"catalog_name": "main", "schema_name": "default", "name": "t1", "table_type": "MANAGED",
              "data_source_format": "DELTA", "columns": []}],
  "volumes": [{"catalog_name": "main", "schema_name": "default", "name": "v1", "volume_type": "MANAGED"}],
  "storage_credentials": [{"name": "cred", "aws_iam_role": {"role_arn": "arn:aws:iam::1:role/r"}}],
  "external_locations": [{"name": "zone", "url": "s3://bucket/zone", "credential_name": "cred"}],
  "shares": [{"name": "s1"}],
  "recipients": [{"name": "r1", "authentication_type": "TOKEN"}],
  "providers": [{"name": "p1", "authentication_type": "TOKEN",
                 "recipient_profile_str": "{\"shareCredentialsVersion\":1,\"endpoint\":\"https://x\",\"bearerToken\":\"b\"}"}]
}"#;

/// (method, path, the fields a valid body would carry). `{ms}`, `{uid}`, `{gid}` and `{spid}`
/// are filled in from the running server.
const ROUTES: &[(&str, &str, &[&str])] = &[
    ("POST", "/metastores", &["name", "storage_root", "region"]),
    (
        "PATCH",
        "/metastores/{ms}",
        &[
            "new_name",
            "owner",
            "delta_sharing_scope",
            "delta_sharing_recipient_token_lifetime_in_seconds",
            "privilege_model_version",
        ],
    ),
    ("PUT", "/workspaces/1001/metastore", &["metastore_id", "default_catalog_name"]),
    ("PATCH", "/workspaces/1001/metastore", &["metastore_id", "default_catalog_name"]),
    ("POST", "/storage-credentials", &["name", "aws_iam_role", "comment", "read_only", "azure_service_principal"]),
    ("PATCH", "/storage-credentials/cred", &["new_name", "owner", "comment", "aws_iam_role", "read_only"]),
    (
        "POST",
        "/validate-storage-credentials",
        &["storage_credential_name", "url", "external_location_name", "read_only"],
    ),
    ("POST", "/external-locations", &["name", "url", "credential_name", "comment", "read_only"]),
    ("PATCH", "/external-locations/zone", &["new_name", "url", "credential_name", "owner", "force", "isolation_mode"]),
    ("POST", "/catalogs", &["name", "comment", "properties", "storage_root", "provider_name", "share_name"]),
    ("PATCH", "/catalogs/main", &["new_name", "owner", "comment", "properties", "isolation_mode"]),
    ("POST", "/schemas", &["name", "catalog_name", "comment", "properties", "storage_root"]),
    ("PATCH", "/schemas/main.default", &["new_name", "owner", "comment", "properties"]),
    (
        "POST",
        "/tables",
        &[
            "name",
            "catalog_name",
            "schema_name",
            "table_type",
            "data_source_format",
            "columns",
            "storage_location",
            "view_definition",
        ],
    ),
    (
        "PATCH",
        "/tables/main.default.t1",
        &["new_name", "owner", "comment", "columns", "storage_location", "properties"],
    ),
    (
        "POST",
        "/table-summaries",
        &["catalog_name", "schema_name_pattern", "table_name_pattern", "max_results", "page_token"],
    ),
    ("PATCH", "/permissions/catalog/main", &["changes"]),
    ("PUT", "/permissions/table/main.default.t1", &["privilege_assignments", "changes"]),
    ("PATCH", "/permissions/metastore/{ms}", &["changes"]),
    ("PATCH", "/permissions/storage_credential/cred", &["changes"]),
    ("POST", "/shares", &["name", "comment", "storage_root"]),
    ("PATCH", "/shares/s1", &["new_name", "owner", "comment", "updates", "objects"]),
    ("PATCH", "/shares/s1/permissions", &["changes"]),
    ("POST", "/recipients", &["name", "authentication_type", "comment", "ip_access_list", "sharing_code"]),
    ("PATCH", "/recipients/r1", &["new_name", "owner", "comment", "ip_access_list", "properties_kvpairs"]),
    ("POST", "/recipients/r1/rotate-token", &["existing_token_expire_in_seconds"]),
    ("POST", "/providers", &["name", "authentication_type", "recipient_profile_str", "comment"]),
    ("PATCH", "/providers/p1", &["new_name", "owner", "comment", "recipient_profile_str"]),
    ("POST", "/volumes", &["name", "catalog_name", "schema_name", "volume_type", "storage_location", "comment"]),
    ("PATCH", "/volumes/main.default.v1", &["new_name", "owner", "comment"]),
    ("DELETE", "/volumes/main.default.v1", &[]),
    (
        "POST",
        "/functions",
        &["function_info", "name", "catalog_name", "schema_name", "routine_body", "data_type", "parameter_style"],
    ),
    ("PATCH", "/functions/main.default.f1", &["owner"]),
    ("PUT", "!/api/2.0/fs/directories/Volumes/main/default/v1/d", &[]),
    ("DELETE", "/tables/main.default.t1", &["force"]),
    ("DELETE", "/schemas/main.default", &["force"]),
    ("DELETE", "/catalogs/main", &["force"]),
    ("DELETE", "/external-locations/zone", &["force"]),
    ("DELETE", "/storage-credentials/cred", &["force"]),
    ("DELETE", "/shares/s1", &[]),
    ("DELETE", "/recipients/r1", &[]),
    ("DELETE", "/providers/p1", &[]),
    ("DELETE", "/metastores/{ms}", &["force"]),
    ("DELETE", "/workspaces/1001/metastore", &["metastore_id"]),
    ("POST", "!/api/2.0/preview/scim/v2/Users", &["userName", "displayName", "active", "groups", "emails"]),
    ("POST", "!/api/2.0/preview/scim/v2/Groups", &["displayName", "members"]),
    ("POST", "!/api/2.0/preview/scim/v2/ServicePrincipals", &["displayName", "applicationId", "active"]),
    ("PATCH", "!/api/2.0/preview/scim/v2/Groups/{gid}", &["schemas", "Operations"]),
    ("PATCH", "!/api/2.0/preview/scim/v2/Users/{uid}", &["schemas", "Operations"]),
    ("PUT", "!/api/2.0/preview/scim/v2/Users/{uid}", &["userName", "displayName", "active", "emails"]),
    ("PUT", "!/api/2.0/preview/scim/v2/ServicePrincipals/{spid}", &["applicationId", "displayName", "active"]),
    ("DELETE", "!/api/2.0/preview/scim/v2/Groups/{gid}", &[]),
    ("POST", "!/api/2.0/token/create", &["lifetime_seconds", "comment"]),
    ("POST", "!/api/2.0/token/delete", &["token_id"]),
    ("POST", "!/api/2.0/token-management/on-behalf-of/tokens", &["application_id", "lifetime_seconds", "comment"]),
    ("PATCH", "!/api/2.0/permissions/authorization/tokens", &["access_control_list"]),
    ("PUT", "!/api/2.0/permissions/authorization/passwords", &["access_control_list"]),
    ("POST", "!/api/2.0/partner-connect/partners", &["config", "connect_url", "basic_auth"]),
    // Account level (AccountClient), the workspace proxies and the OAuth token endpoint.
    ("POST", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/scim/v2/Users", &["userName", "displayName", "active", "roles", "emails"]),
    ("POST", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/scim/v2/Groups", &["displayName", "members", "roles"]),
    ("POST", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/scim/v2/ServicePrincipals", &["displayName", "applicationId", "active", "roles"]),
    ("PATCH", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/scim/v2/Users/{uid}", &["schemas", "Operations"]),
    ("PATCH", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/scim/v2/Groups/{gid}", &["schemas", "Operations"]),
    ("PUT", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/scim/v2/Groups/{gid}", &["displayName", "members", "roles"]),
    ("DELETE", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/scim/v2/ServicePrincipals/{spid}", &[]),
    ("PUT", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/workspaces/1001/permissionassignments/principals/{uid}", &["permissions"]),
    ("DELETE", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/workspaces/1001/permissionassignments/principals/{uid}", &[]),
    ("PUT", "!/api/2.0/preview/accounts/00000000-0000-4000-8000-000000000000/access-control/rule-sets", &["name", "rule_set"]),
    ("PUT", "!/api/2.0/preview/accounts/access-control/rule-sets", &["name", "rule_set"]),
    ("POST", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/servicePrincipals/{spid}/credentials/secrets", &["lifetime", "scopes"]),
    ("POST", "!/api/2.0/accounts/servicePrincipals/{spid}/credentials/secrets", &["lifetime", "scopes"]),
    ("DELETE", "!/api/2.0/accounts/servicePrincipals/{spid}/credentials/secrets/0123456789abcdef0123456789abcdef", &[]),
    ("POST", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/metastores", &["metastore_info"]),
    ("PUT", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/metastores/{ms}", &["metastore_info"]),
    ("POST", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/workspaces/1001/metastores/{ms}", &["metastore_assignment"]),
    ("PUT", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/workspaces/1001/metastores/{ms}", &["metastore_assignment"]),
    ("POST", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/metastores/{ms}/storage-credentials", &["credential_info", "skip_validation"]),
    ("PUT", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/metastores/{ms}/storage-credentials/cred", &["credential_info", "skip_validation"]),
    ("POST", "!/api/2.0/permissionmigration", &["workspace_id", "from_workspace_group_name", "to_account_group_name", "size"]),
    ("POST", "!/oidc/v1/token", &["grant_type", "client_id", "client_secret", "scope"]),
    ("DELETE", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/metastores/{ms}/storage-credentials/cred", &["force"]),
    ("DELETE", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/workspaces/1001/metastores/{ms}", &[]),
    ("DELETE", "!/api/2.0/accounts/00000000-0000-4000-8000-000000000000/metastores/{ms}", &["force"]),
];

/// A hostile JSON value as text (some of which no JSON library would produce: numbers beyond
/// every integer type).
fn hostile_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        Just("18446744073709551616".to_string()),
        Just("-9223372036854775809".to_string()),
        Just("1e400".to_string()),
        Just("2147483648".to_string()),
        Just("-1".to_string()),
        Just("0.5".to_string()),
        Just("\"NOT_A_KNOWN_VALUE\"".to_string()),
        Just("\"\"".to_string()),
        Just("\"a\\u0000b\"".to_string()),
        Just("\"file:///etc\"".to_string()),
        Just("\"s3://root/main\"".to_string()),
        Just("\"alice@example.com\"".to_string()),
        Just("\"a.b.c.d\"".to_string()),
        "\\PC{0,40}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        (1usize..64).prop_map(|n| format!("\"{}\"", "\u{1}".repeat(n).replace('\u{1}', "\\u0001"))),
        (0usize..3).prop_map(|k| format!("\"{}\"", "x".repeat([300, 70_000, 1_048_576][k]))),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-z_]{1,12}", inner), 0..4).prop_map(|kv| {
                let body: Vec<String> = kv.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", body.join(","))
            }),
            (1usize..3).prop_map(|k| {
                let d = [200, 20_000][k - 1];
                format!("{}{}", "[".repeat(d), "]".repeat(d))
            }),
        ]
    })
}

/// A body for a route with `fields`: mostly an object whose known fields hold hostile values,
/// sometimes not JSON at all.
fn hostile_body(fields: &'static [&'static str]) -> impl Strategy<Value = String> {
    let mut fields: Vec<&'static str> = fields.to_vec();
    // Unknown keys are ignored by every endpoint; they ride along.
    fields.push("unknown_field");
    let object = prop::collection::vec((prop::sample::select(fields), hostile_value()), 0..5).prop_map(|kv| {
        let body: Vec<String> = kv.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", body.join(","))
    });
    prop_oneof![
        8 => object,
        1 => Just("{\"name\": ".to_string()),
        1 => Just("[1, 2, 3]".to_string()),
        1 => Just("\"just a string\"".to_string()),
        1 => prop::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => (0usize..2).prop_map(|k| {
            let d = [100_000, 1_000_000][k];
            format!("{{\"name\": {}{}}}", "{\"a\":".repeat(d), "}".repeat(d))
        }),
    ]
}

/// Hostile replacements for the last path segment.
fn hostile_segment() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        6 => Just(None),
        1 => Just(Some("%00".to_string())),
        1 => Just(Some("a%2Fb".to_string())),
        1 => Just(Some("..".to_string())),
        1 => Just(Some("%C3%28".to_string())),
        1 => Just(Some("x".repeat(5000))),
        1 => Just(Some("a.b.c.d.e".to_string())),
        1 => Just(Some("9223372036854775808".to_string())),
    ]
}

fn cases() -> u32 {
    std::env::var("UC_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(20)
}

async fn ids(app: &TestApp) -> (String, String, String, String) {
    let ms = app.admin().get(&format!("{UC}/metastore_summary")).await.ok("summary")["metastore_id"]
        .as_str()
        .unwrap()
        .to_string();
    let first = |path: &'static str| async move {
        let r = app.admin().get(&format!("/api/2.0/preview/scim/v2/{path}")).await.ok(path);
        r["Resources"][0]["id"].as_str().unwrap().to_string()
    };
    let uid = first("Users?filter=userName%20eq%20%22alice%40example.com%22").await;
    let gid = first("Groups?filter=displayName%20eq%20%22analysts%22").await;
    let spid = first("ServicePrincipals").await;
    (ms, uid, gid, spid)
}

#[actix_web::test]
async fn hostile_requests_to_every_write_route_never_5xx_and_refusals_change_nothing() {
    let app = spawn_with(FIXTURE).await;
    let (ms, uid, gid, spid) = ids(&app).await;
    let mut runner = TestRunner::new_with_rng(
        Config { cases: cases(), ..Config::default() },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let mut before = dump_db(&app);
    let (mut refused, mut accepted) = (0, 0);
    let started = std::time::Instant::now();
    for (method, template, fields) in ROUTES {
        let strategy = (hostile_body(fields), hostile_segment(), prop::bool::ANY);
        for _ in 0..cases() {
            let (body, segment, as_admin) = strategy.new_tree(&mut runner).expect("a case").current();
            let mut path =
                template.replace("{ms}", &ms).replace("{uid}", &uid).replace("{gid}", &gid).replace("{spid}", &spid);
            if let Some(seg) = &segment {
                if let Some(i) = path.rfind('/') {
                    path = format!("{}/{seg}", &path[..i]);
                }
            }
            let path = match path.strip_prefix('!') {
                Some(p) => p.to_string(),
                None => format!("{UC}{path}"),
            };
            // Admins are kept away from deleting the fixture's objects (the routes would then
            // only answer 404 for the rest of the run); alice tries everything.
            let who = if as_admin && *method != "DELETE" { app.admin() } else { app.alice() };
            let r = who.send(method, &path, Some(&body)).await;
            let shown = |s: &str| s.chars().take(300).collect::<String>();
            assert!(
                r.status < 500,
                "{method} {} answered {} to body {}: {}",
                shown(&path),
                r.status,
                shown(&body),
                shown(&r.text)
            );
            assert!(
                r.content_type().starts_with("application/json"),
                "{method} {}: {:?}",
                shown(&path),
                r.content_type()
            );
            let after = dump_db(&app);
            if r.status >= 400 {
                refused += 1;
                assert!(
                    after == before,
                    "{method} {} refused with {} but changed the database; body {}; answer {}",
                    shown(&path),
                    r.status,
                    shown(&body),
                    shown(&r.text)
                );
            } else {
                accepted += 1;
                before = after;
            }
        }
    }
    // The server is still there and still serves everyone.
    assert_eq!(app.anonymous().get("/healthz").await.status, 200);
    app.alice().get(&format!("{UC}/catalogs")).await.ok("still serving");
    eprintln!("fuzz: {} routes, {refused} refused, {accepted} accepted, {:?}", ROUTES.len(), started.elapsed());
    assert!(refused > accepted, "most hostile requests are refused ({refused} vs {accepted})");
}

#[actix_web::test]
async fn hostile_query_strings_never_5xx() {
    let app = spawn_with(FIXTURE).await;
    let mut runner = TestRunner::new_with_rng(
        Config { cases: cases(), ..Config::default() },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[9; 32]),
    );
    let value = prop_oneof![
        Just("-1".to_string()),
        Just("9223372036854775808".to_string()),
        Just("%00".to_string()),
        Just("true%00".to_string()),
        Just("%FF%FE".to_string()),
        Just("x".repeat(20_000)),
        "[a-zA-Z0-9%._~-]{0,40}",
    ];
    let param = prop::sample::select(vec![
        "max_results",
        "page_token",
        "force",
        "include_browse",
        "catalog_name",
        "schema_name",
        "url",
        "credential_name",
        "omit_columns",
        "startIndex",
        "count",
        "filter",
        "attributes",
        "sortBy",
        "principal",
        "action",
        "securable_type",
        "full_name",
    ]);
    let paths = [
        format!("{UC}/catalogs"),
        format!("{UC}/schemas"),
        format!("{UC}/tables"),
        format!("{UC}/table-summaries"),
        format!("{UC}/files"),
        format!("{UC}/explain"),
        format!("{UC}/permissions/catalog/main"),
        format!("{UC}/effective-permissions/catalog/main"),
        format!("{UC}/shares"),
        format!("{UC}/recipients"),
        "/api/2.0/preview/scim/v2/Users".to_string(),
        "/api/2.0/preview/scim/v2/Groups".to_string(),
        "/api/2.0/token-management/tokens".to_string(),
    ];
    let before = dump_db(&app);
    let strategy = (prop::sample::select(paths.to_vec()), prop::collection::vec((param, value), 1..4));
    for _ in 0..cases() * 8 {
        let (path, params) = strategy.new_tree(&mut runner).expect("a case").current();
        let q: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let url = format!("{path}?{}", q.join("&"));
        let r = app.alice().get(&url).await;
        assert!(r.status < 500, "GET {} answered {}: {}", &url[..url.len().min(300)], r.status, r.text);
        assert!(r.content_type().starts_with("application/json"), "GET {}", &url[..url.len().min(300)]);
    }
    assert_eq!(dump_db(&app), before, "reads change nothing");
    let _ = json!({});
}

/// A body that is not valid JSON is a 400 on every write route, even from a caller who would
/// also be refused: fuzzing the shape never reveals authorization or existence.
#[actix_web::test]
async fn malformed_bodies_are_400_before_any_authorization() {
    let app = spawn_with(FIXTURE).await;
    let (ms, uid, gid, spid) = ids(&app).await;
    let before = dump_db(&app);
    let mut wrong = Vec::new();
    for (method, template, fields) in ROUTES {
        if *method == "DELETE" || fields.is_empty() {
            continue; // DELETE bodies are optional options
        }
        let path = template.replace("{ms}", &ms).replace("{uid}", &uid).replace("{gid}", &gid).replace("{spid}", &spid);
        let path = match path.strip_prefix('!') {
            Some(p) => p.to_string(),
            None => format!("{UC}{path}"),
        };
        for body in ["{\"name\": ", "[1, 2]", "{\"a\": 1} trailing"] {
            let r = app.alice().send(method, &path, Some(body)).await;
            if r.status != 400 {
                wrong.push(format!("{method} {path} {body:?} -> {} {}", r.status, r.text));
            }
        }
    }
    assert!(wrong.is_empty(), "not a 400:\n{}", wrong.join("\n"));
    assert_eq!(dump_db(&app), before);
}
