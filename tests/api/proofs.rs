//! A store write cannot be reached with a proof for another action or another securable: every
//! write checks the proof it is handed (a debug assertion, on in tests and debug builds).

use rusqlite::Connection;
use uc_emulator::authz::{self, Action, Allowed, Caller, Node, PrincipalKind};
use uc_emulator::domain::securable::SecurableKind;
use uc_emulator::store::{catalogs, tables};

fn caller(groups: &[&str]) -> Caller {
    Caller::new(
        "alice@example.com".into(),
        7,
        PrincipalKind::User,
        1001,
        groups.iter().map(|g| g.to_string()).collect(),
        false,
        None,
    )
}

fn catalog(id: &str, owner: &str) -> Node {
    Node { kind: SecurableKind::Catalog, id: id.into(), name: id.into(), owner: owner.into(), grants: vec![] }
}

fn proof(action: Action, chain: &[&Node]) -> Allowed {
    authz::require(&caller(&[]), &action, chain).expect("allowed")
}

#[test]
fn a_proof_names_its_action_and_securable() {
    let own = catalog("c-1", "alice@example.com");
    let ok = proof(Action::DeleteCatalog, &[&own]);
    assert!(matches!(ok.action(), Action::DeleteCatalog));
    assert_eq!(ok.on(), Some("c-1"));
    assert!(ok.covers(|a| matches!(a, Action::DeleteCatalog), Some("c-1")));
    assert!(!ok.covers(|a| matches!(a, Action::DeleteCatalog), Some("c-2")), "another catalog");
    assert!(!ok.covers(|a| matches!(a, Action::DeleteTable), Some("c-1")), "another action");
}

#[test]
#[should_panic(expected = "does not cover")]
fn a_proof_for_own_tokens_cannot_delete_a_catalog() {
    // OwnTokens is allowed to every caller: exactly the proof that must not open other doors.
    let ok = proof(Action::OwnTokens, &[]);
    let conn = Connection::open_in_memory().expect("db");
    let _ = catalogs::delete(&conn, &ok, "c-1");
}

#[test]
#[should_panic(expected = "does not cover")]
fn a_proof_for_one_catalog_cannot_delete_another() {
    let own = catalog("c-1", "alice@example.com");
    let ok = proof(Action::DeleteCatalog, &[&own]);
    let conn = Connection::open_in_memory().expect("db");
    let _ = catalogs::delete(&conn, &ok, "c-2");
}

#[test]
#[should_panic(expected = "does not cover")]
fn a_proof_for_deleting_a_catalog_cannot_delete_a_table() {
    let own = catalog("c-1", "alice@example.com");
    let ok = proof(Action::DeleteCatalog, &[&own]);
    let conn = Connection::open_in_memory().expect("db");
    let _ = tables::delete(&conn, &ok, "c-1");
}

#[test]
fn the_matching_proof_reaches_the_write() {
    let own = catalog("c-1", "alice@example.com");
    let ok = proof(Action::DeleteCatalog, &[&own]);
    let conn = Connection::open_in_memory().expect("db");
    // No schema here: the write gets past the check and fails in SQL, not in the assertion.
    assert!(catalogs::delete(&conn, &ok, "c-1").is_err());
}
