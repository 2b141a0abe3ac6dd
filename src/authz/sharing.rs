//! Delta Sharing, the recipient's side: who may retrieve a credential, and what a recipient's
//! bearer token may read. Recipients are not principals, so these rules take the facts a
//! request resolved (scope, address, token state, grants) rather than a `Caller`.

use std::net::IpAddr;

use super::{Action, Allowed};
use crate::domain::sharing::ip_in_list;

/// The metastore setting that lets recipients outside Databricks in.
pub const EXTERNAL_SCOPE: &str = "INTERNAL_AND_EXTERNAL";

/// Why a recipient (or its activation link) is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The metastore's `delta_sharing_scope` is not `INTERNAL_AND_EXTERNAL` (403).
    Scope,
    /// The client address is not in the recipient's IP access list (403).
    Address(String),
    /// The credential was already retrieved (404).
    Retrieved,
    /// The token is no longer live (404).
    Expired,
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Scope => {
                "Delta Sharing to recipients outside Databricks is disabled: the metastore's delta_sharing_scope is not INTERNAL_AND_EXTERNAL.".to_string()
            }
            Refusal::Address(a) => format!("The client address {a} is not in the recipient's IP access list."),
            Refusal::Retrieved => "The credential of this activation link was already retrieved.".to_string(),
            Refusal::Expired => "The token of this activation link has expired.".to_string(),
        }
    }
}

/// The gate every sharing request and every activation passes after authentication: the
/// metastore's sharing scope, then the recipient's IP access list (an empty or absent list
/// restricts nothing; an unknown peer address passes no non-empty list).
pub fn gate(delta_sharing_scope: &str, ip_access_list: &[String], peer: Option<IpAddr>) -> Result<(), Refusal> {
    if delta_sharing_scope != EXTERNAL_SCOPE {
        return Err(Refusal::Scope);
    }
    if !ip_access_list.is_empty() && !peer.is_some_and(|p| ip_in_list(p, ip_access_list)) {
        return Err(Refusal::Address(peer.map(|p| p.to_string()).unwrap_or_else(|| "(unknown)".into())));
    }
    Ok(())
}

/// What an activation link's token is, when it is used.
pub struct TokenFacts<'a> {
    pub token_id: &'a str,
    pub delta_sharing_scope: &'a str,
    pub ip_access_list: &'a [String],
    pub peer: Option<IpAddr>,
    pub retrieved: bool,
    /// The token exists and has not expired.
    pub live: bool,
}

/// Retrieving the credential of an activation link: the gate, then a token whose credential
/// was not retrieved and which is live. The proof covers marking that token retrieved.
pub fn retrieval(t: &TokenFacts<'_>) -> Result<Allowed, Refusal> {
    gate(t.delta_sharing_scope, t.ip_access_list, t.peer)?;
    if t.retrieved {
        return Err(Refusal::Retrieved);
    }
    if !t.live {
        return Err(Refusal::Expired);
    }
    Ok(Allowed { action: Action::RetrieveRecipientCredential, on: Some(t.token_id.to_string()) })
}

/// A recipient reads a share exactly when it holds `SELECT` on it.
pub fn may_read_share(privileges: &[String]) -> bool {
    privileges.iter().any(|p| p == "SELECT")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(scope: &'a str, ips: &'a [String], retrieved: bool, live: bool) -> TokenFacts<'a> {
        TokenFacts {
            token_id: "t",
            delta_sharing_scope: scope,
            ip_access_list: ips,
            peer: Some("127.0.0.1".parse().unwrap()),
            retrieved,
            live,
        }
    }

    #[test]
    fn retrieval_checks_scope_address_then_state() {
        let none: Vec<String> = vec![];
        let other = vec!["10.0.0.0/8".to_string()];
        assert!(retrieval(&facts(EXTERNAL_SCOPE, &none, false, true)).is_ok());
        assert_eq!(retrieval(&facts("INTERNAL", &none, false, true)).unwrap_err(), Refusal::Scope);
        assert!(matches!(retrieval(&facts(EXTERNAL_SCOPE, &other, false, true)), Err(Refusal::Address(_))));
        assert_eq!(retrieval(&facts(EXTERNAL_SCOPE, &none, true, true)).unwrap_err(), Refusal::Retrieved);
        assert_eq!(retrieval(&facts(EXTERNAL_SCOPE, &none, false, false)).unwrap_err(), Refusal::Expired);
        let ok = retrieval(&facts(EXTERNAL_SCOPE, &none, false, true)).unwrap();
        assert!(ok.covers(|a| matches!(a, Action::RetrieveRecipientCredential), Some("t")));
        assert!(!ok.covers(|a| matches!(a, Action::RetrieveRecipientCredential), Some("other")));
    }

    #[test]
    fn only_select_reads_a_share() {
        assert!(may_read_share(&["SELECT".to_string()]));
        assert!(!may_read_share(&[]));
    }
}
