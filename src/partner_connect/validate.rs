//! Partners' answers checked against the Partner Connect API's schema before the emulator acts on
//! them. Shared by the connect flow and `certify`.

use serde_json::Value as Json;

use super::client::Operation;
use super::config::{parse_http_url, PartnerConfig};

pub const ERROR_REASONS: &[&str] =
    &["unauthorized", "bad_request", "account_not_found", "connection_not_found", "general_error"];
pub const REDIRECT_VALUES: &[&str] =
    &["create_trial", "purchase_product", "sign_in", "contact_admin", "not_applicable"];
pub const USER_STATUSES: &[&str] = &["new", "existing", "not_applicable"];
pub const ACCOUNT_STATUSES: &[&str] = &["new", "active", "expired", "not_applicable"];
pub const TEST_STATUSES: &[&str] = &["PASS", "FAIL", "UNKNOWN"];
pub const RESOURCE_STATUSES: &[&str] = &["resources_deleted", "resources_pending_deletion", "deletion_acknowledged"];

/// What kind of connect a `connect` answer responds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectKind {
    New,
    SignIn,
}

/// A checked answer: success or a valid error, or the list of violations.
#[derive(Debug)]
pub enum Verdict {
    Success(Json),
    /// A valid `ErrorResponse` with its status.
    Error {
        status: u16,
        error: Json,
    },
    Invalid(Vec<String>),
}

struct V(Vec<String>);

impl V {
    fn bad(&mut self, field: &str, problem: impl std::fmt::Display) {
        self.0.push(format!("{field}: {problem}"));
    }

    fn enum_field(&mut self, obj: &Json, field: &str, allowed: &[&str], required: bool) {
        match obj.get(field) {
            None if required => self.bad(field, "required"),
            None => {}
            Some(Json::String(s)) if allowed.contains(&s.as_str()) => {}
            Some(Json::String(s)) => self.bad(field, format!("{s:?} is not one of {}", allowed.join(", "))),
            Some(_) => self.bad(field, "must be a JSON string"),
        }
    }

    fn string_field(&mut self, obj: &Json, field: &str, required: bool, non_empty: bool) {
        match obj.get(field) {
            None if required => self.bad(field, "required"),
            None => {}
            Some(Json::String(s)) if non_empty && s.is_empty() => self.bad(field, "must not be empty"),
            Some(Json::String(_)) => {}
            Some(_) => self.bad(field, "must be a JSON string"),
        }
    }
}

fn allowed_statuses(op: Operation) -> &'static [u16] {
    match op {
        Operation::Connect => &[200, 201, 400, 401, 404, 500],
        _ => &[200, 400, 401, 404, 500],
    }
}

/// Whether `host` is one of `hostnames` or a subdomain of one (case-insensitive).
pub fn host_allowed(host: &str, hostnames: &[String]) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    hostnames.iter().any(|h| {
        let h = h.trim_end_matches('.').to_ascii_lowercase();
        host == h || host.ends_with(&format!(".{h}"))
    })
}

/// Checks one answer of `op`.
pub fn check(op: Operation, kind: ConnectKind, config: &PartnerConfig, status: u16, body: Option<&Json>) -> Verdict {
    let mut v = V(Vec::new());
    if !allowed_statuses(op).contains(&status) {
        v.bad("status", format!("{status} is not a status the Partner Connect API allows for {}", op.name()));
        return Verdict::Invalid(v.0);
    }
    let success = status == 200 || status == 201;
    // delete-account and expire-account successes carry no body the API defines.
    if success && matches!(op, Operation::DeleteAccount | Operation::ExpireAccount) {
        return Verdict::Success(body.cloned().unwrap_or(Json::Null));
    }
    let Some(body) = body.filter(|b| b.is_object()) else {
        return Verdict::Invalid(vec!["body: not JSON".into()]);
    };
    if !success {
        v.enum_field(body, "error_reason", ERROR_REASONS, true);
        v.string_field(body, "display_message", false, false);
        v.string_field(body, "debugging_message", false, false);
        if status == 404 {
            let reason = body.get("error_reason").and_then(Json::as_str).unwrap_or("");
            if reason != "account_not_found" && reason != "connection_not_found" {
                v.bad("error_reason", "a 404 must carry account_not_found or connection_not_found");
            }
            if op == Operation::Connect && kind == ConnectKind::New {
                v.bad("status", "404 is only expected when is_connection_established is true");
            }
        }
        return if v.0.is_empty() { Verdict::Error { status, error: body.clone() } } else { Verdict::Invalid(v.0) };
    }
    match op {
        Operation::Connect => {
            match body.get("redirect_uri") {
                None => v.bad("redirect_uri", "required"),
                Some(Json::String(u)) => match parse_http_url(u) {
                    Ok(url) if host_allowed(&url.host, &config.hostnames) => {}
                    Ok(url) => v.bad("redirect_uri", format!("host {} is not in hostnames", url.host)),
                    Err(e) => v.bad("redirect_uri", e),
                },
                Some(_) => v.bad("redirect_uri", "must be a JSON string"),
            }
            v.enum_field(body, "redirect_value", REDIRECT_VALUES, true);
            v.enum_field(body, "user_status", USER_STATUSES, true);
            v.enum_field(body, "account_status", ACCOUNT_STATUSES, true);
            let configured = match body.get("configured_resources") {
                None => {
                    v.bad("configured_resources", "required");
                    None
                }
                Some(Json::Bool(b)) => Some(*b),
                Some(_) => {
                    v.bad("configured_resources", "must be a JSON boolean");
                    None
                }
            };
            let has_id = body.get("connection_id").is_some();
            match (kind, configured) {
                (ConnectKind::New, Some(true)) => v.string_field(body, "connection_id", true, true),
                (ConnectKind::New, Some(false)) if has_id => {
                    v.bad("connection_id", "must be absent when configured_resources is false")
                }
                (ConnectKind::SignIn, _) if has_id => v.bad("connection_id", "must be absent on a sign-in"),
                _ => {}
            }
        }
        Operation::TestConnection => match body.get("test_results") {
            Some(Json::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let mut inner = V(Vec::new());
                    inner.string_field(item, "test_name", true, true);
                    inner.enum_field(item, "status", TEST_STATUSES, true);
                    inner.string_field(item, "message", false, false);
                    v.0.extend(inner.0.into_iter().map(|m| format!("test_results[{i}].{m}")));
                }
            }
            Some(_) => v.bad("test_results", "must be an array"),
            None => v.bad("test_results", "required"),
        },
        Operation::DeleteConnection => v.enum_field(body, "resource_status", RESOURCE_STATUSES, true),
        Operation::Connectors => {
            match body.get("connectors") {
                Some(Json::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        let mut inner = V(Vec::new());
                        inner.string_field(item, "identifier", true, true);
                        inner.string_field(item, "name", true, true);
                        inner.enum_field(item, "type", &["source", "target"], true);
                        inner.string_field(item, "description", false, false);
                        v.0.extend(inner.0.into_iter().map(|m| format!("connectors[{i}].{m}")));
                    }
                }
                Some(_) => v.bad("connectors", "must be an array"),
                None => v.bad("connectors", "required"),
            }
            v.string_field(body, "pagination_token", false, false);
        }
        Operation::DeleteAccount | Operation::ExpireAccount => {}
    }
    if v.0.is_empty() {
        Verdict::Success(body.clone())
    } else {
        Verdict::Invalid(v.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partner_connect::config::validate_config;
    use serde_json::json;

    fn config() -> PartnerConfig {
        let raw = json!({
            "api_version": "2.1.1", "name": "Acme", "description_blurb": "x", "category": "INGEST",
            "base_url": "http://127.0.0.1:1", "endpoints": {"connect_path": "/connect"},
            "sign_up_page": "https://acme.example/s", "privacy_policy": "https://acme.example/p",
            "terms_of_service": "https://acme.example/t", "logo_file": "a.png", "icon_file": "a.png",
            "resources_to_provision": [], "supported_clouds": ["aws"], "hostnames": ["acme.example"],
            "new_user_action": "auto_add"
        });
        validate_config(&raw, "").unwrap()
    }

    fn connect(body: Json, kind: ConnectKind) -> Verdict {
        check(Operation::Connect, kind, &config(), 200, Some(&body))
    }

    #[test]
    fn a_valid_new_connection_passes() {
        let ok = json!({"redirect_uri": "https://app.acme.example/x", "redirect_value": "create_trial",
                        "user_status": "new", "account_status": "new", "configured_resources": true,
                        "connection_id": "c1"});
        assert!(matches!(connect(ok, ConnectKind::New), Verdict::Success(_)));
    }

    #[test]
    fn violations_are_named() {
        let bad = json!({"redirect_uri": "https://evil.example.net/", "redirect_value": "welcome_aboard",
                         "user_status": "new", "account_status": "new", "configured_resources": "true"});
        let Verdict::Invalid(v) = connect(bad, ConnectKind::New) else { panic!() };
        assert!(v.contains(&"redirect_uri: host evil.example.net is not in hostnames".to_string()), "{v:?}");
        assert!(v.iter().any(|x| x.starts_with("redirect_value: \"welcome_aboard\" is not one of")), "{v:?}");
        assert!(v.contains(&"configured_resources: must be a JSON boolean".to_string()), "{v:?}");
    }

    #[test]
    fn connection_id_rules() {
        let missing = json!({"redirect_uri": "https://acme.example", "redirect_value": "sign_in",
                             "user_status": "new", "account_status": "new", "configured_resources": true});
        assert!(matches!(connect(missing, ConnectKind::New), Verdict::Invalid(_)));
        let sign_in = json!({"redirect_uri": "https://acme.example", "redirect_value": "sign_in",
                             "user_status": "existing", "account_status": "active", "configured_resources": true,
                             "connection_id": "c1"});
        assert!(matches!(connect(sign_in, ConnectKind::SignIn), Verdict::Invalid(_)));
    }

    #[test]
    fn errors_and_statuses() {
        let c = config();
        let e = json!({"error_reason": "unauthorized"});
        assert!(matches!(
            check(Operation::Connect, ConnectKind::New, &c, 401, Some(&e)),
            Verdict::Error { status: 401, .. }
        ));
        assert!(matches!(check(Operation::Connect, ConnectKind::New, &c, 302, None), Verdict::Invalid(_)));
        let nf = json!({"error_reason": "account_not_found"});
        assert!(matches!(check(Operation::Connect, ConnectKind::New, &c, 404, Some(&nf)), Verdict::Invalid(_)));
        assert!(matches!(check(Operation::Connect, ConnectKind::SignIn, &c, 404, Some(&nf)), Verdict::Error { .. }));
        assert!(matches!(check(Operation::TestConnection, ConnectKind::New, &c, 200, None), Verdict::Invalid(_)));
    }
}
