//! Unit tests of the rules that `tests.rs` does not cover: Delta Sharing recipients and
//! providers, shares' writes, Partner Connect, identities, workspace object ACLs, tokens,
//! `BROWSE`, the explain endpoint, and the proofs no caller may hold.

use super::*;
use crate::domain::securable::SecurableKind as K;
use crate::domain::update::UpdateShape;

const MS_ADMINS: &str = "ms-admins";
const MS_ID: &str = "11111111-2222-3333-4444-555555555555";
const ALICE: &str = "alice@example.com";

fn caller(name: &str, groups: &[&str], account_admin: bool, kind: PrincipalKind) -> Caller {
    let scope = MetastoreScope { id: MS_ID.into(), owner: MS_ADMINS.into(), default_catalog_name: None };
    Caller::new(name.into(), 7, kind, 1234, groups.iter().map(|g| g.to_string()).collect(), account_admin, Some(scope))
}

/// Alice, through `analysts`.
fn alice() -> Caller {
    caller(ALICE, &["analysts"], false, PrincipalKind::User)
}
fn ms_admin() -> Caller {
    caller("root@example.com", &[MS_ADMINS], false, PrincipalKind::User)
}
fn account_admin() -> Caller {
    caller("acct@example.com", &[], true, PrincipalKind::User)
}
fn workspace_admin() -> Caller {
    caller("ws@example.com", &["admins"], false, PrincipalKind::User)
}
fn service_principal() -> Caller {
    caller("6f1d1c2e-0000-4000-8000-000000000001", &["admins"], false, PrincipalKind::ServicePrincipal)
}

fn node(kind: K, name: &str, owner: &str) -> Node {
    Node { kind, id: format!("id-{name}"), name: name.into(), owner: owner.into(), grants: vec![] }
}
fn metastore(grants: &[(&str, &str)]) -> Node {
    let mut m = node(K::Metastore, MS_ID, MS_ADMINS);
    m.grants = grants.iter().map(|(p, v)| Grant { principal: p.to_string(), privilege: v.to_string() }).collect();
    m
}
fn ok(c: &Caller, a: &Action, chain: &[&Node]) -> bool {
    decide(c, a, chain).allowed
}
fn shape(rename: bool, owner: bool, other: bool) -> UpdateShape {
    UpdateShape { rename, owner, other }
}

#[test]
fn recipients_are_created_by_admins_or_create_recipient_holders() {
    let bare = metastore(&[]);
    let granted = metastore(&[("analysts", "CREATE_RECIPIENT")]);
    assert!(ok(&ms_admin(), &Action::CreateRecipient, &[&bare]));
    assert!(!ok(&alice(), &Action::CreateRecipient, &[&bare]));
    assert!(ok(&alice(), &Action::CreateRecipient, &[&granted]), "through her group");
    assert!(!ok(&account_admin(), &Action::CreateRecipient, &[&bare]), "account admins are not metastore admins");
}

#[test]
fn recipients_are_read_by_owners_admins_and_use_recipient_holders() {
    let bare = metastore(&[]);
    let theirs = node(K::Recipient, "r", "someone@example.com");
    let hers = node(K::Recipient, "r", "analysts");
    assert!(!ok(&alice(), &Action::GetRecipient, &[&theirs, &bare]));
    assert!(ok(&alice(), &Action::GetRecipient, &[&hers, &bare]), "owned through a group");
    assert!(ok(&ms_admin(), &Action::GetRecipient, &[&theirs, &bare]));
    let using = metastore(&[(ALICE, "USE_RECIPIENT")]);
    assert!(ok(&alice(), &Action::GetRecipient, &[&theirs, &using]));
    assert!(ok(&alice(), &Action::ListAllRecipients, &[&using]));
    assert!(!ok(&alice(), &Action::ListAllRecipients, &[&bare]));
}

#[test]
fn recipients_are_changed_by_their_owner_renamed_only_with_the_admin_role_too() {
    let bare = metastore(&[]);
    let hers = node(K::Recipient, "r", ALICE);
    let theirs = node(K::Recipient, "r", "someone@example.com");
    assert!(ok(&alice(), &Action::UpdateRecipient(shape(false, false, true)), &[&hers, &bare]));
    assert!(
        !ok(&alice(), &Action::UpdateRecipient(shape(true, false, false)), &[&hers, &bare]),
        "rename: owner and admin"
    );
    assert!(
        ok(&ms_admin(), &Action::UpdateRecipient(shape(false, true, false)), &[&theirs, &bare]),
        "admin: owner only"
    );
    assert!(!ok(&ms_admin(), &Action::UpdateRecipient(shape(false, false, true)), &[&theirs, &bare]));
    for a in [Action::DeleteRecipient, Action::RotateRecipientToken, Action::GrantToRecipient] {
        assert!(ok(&alice(), &a, &[&hers, &bare]), "{a:?}");
        assert!(!ok(&alice(), &a, &[&theirs, &bare]), "{a:?}");
        assert!(!ok(&ms_admin(), &a, &[&theirs, &bare]), "{a:?}: ownership only");
    }
}

#[test]
fn providers_follow_the_same_pattern_and_back_sharing_catalogs() {
    let bare = metastore(&[]);
    let using = metastore(&[("analysts", "USE_PROVIDER"), ("analysts", "CREATE_PROVIDER")]);
    let hers = node(K::Provider, "p", ALICE);
    let theirs = node(K::Provider, "p", "someone@example.com");
    assert!(!ok(&alice(), &Action::CreateProvider, &[&bare]));
    assert!(ok(&alice(), &Action::CreateProvider, &[&using]));
    assert!(ok(&alice(), &Action::GetProvider, &[&hers, &bare]));
    assert!(!ok(&alice(), &Action::GetProvider, &[&theirs, &bare]));
    assert!(ok(&alice(), &Action::GetProvider, &[&theirs, &using]));
    assert!(ok(&alice(), &Action::ListAllProviders, &[&using]));
    assert!(!ok(&alice(), &Action::ListAllProviders, &[&bare]));
    assert!(ok(&alice(), &Action::DeleteProvider, &[&hers, &bare]));
    assert!(!ok(&ms_admin(), &Action::DeleteProvider, &[&theirs, &bare]));
    assert!(ok(&ms_admin(), &Action::UpdateProvider(shape(false, true, false)), &[&theirs, &bare]));
    assert!(!ok(&alice(), &Action::UpdateProvider(shape(true, false, false)), &[&hers, &bare]));
    // A Delta Sharing catalog's creator must own the provider, admins included.
    assert!(ok(&alice(), &Action::UseProviderForCatalog, &[&hers, &bare]));
    assert!(!ok(&ms_admin(), &Action::UseProviderForCatalog, &[&theirs, &bare]));
}

#[test]
fn shares_are_listed_in_full_by_admins_and_use_share_holders_and_deleted_by_owners() {
    let bare = metastore(&[]);
    let using = metastore(&[(ALICE, "USE_SHARE")]);
    let theirs = node(K::Share, "s", "someone@example.com");
    assert!(ok(&ms_admin(), &Action::ListAllShares, &[&bare]));
    assert!(ok(&alice(), &Action::ListAllShares, &[&using]));
    assert!(!ok(&alice(), &Action::ListAllShares, &[&bare]));
    assert!(!ok(&ms_admin(), &Action::DeleteShare, &[&theirs, &bare]));
    assert!(!ok(&ms_admin(), &Action::UpdateShare(shape(true, false, false)), &[&theirs, &bare]));
    assert!(ok(&ms_admin(), &Action::UpdateShare(shape(false, true, false)), &[&theirs, &bare]));
}

#[test]
fn partner_connect_registry_is_the_account_admins_connections_the_workspace_admins() {
    assert!(ok(&account_admin(), &Action::ManagePartners, &[]));
    assert!(!ok(&workspace_admin(), &Action::ManagePartners, &[]));
    assert!(!ok(&ms_admin(), &Action::ManagePartners, &[]));
    assert!(ok(&workspace_admin(), &Action::ConnectPartner, &[]));
    assert!(ok(&account_admin(), &Action::ConnectPartner, &[]), "account admins count as workspace admins");
    assert!(!ok(&alice(), &Action::ConnectPartner, &[]));
    let hers = node(K::Catalog, "c", "analysts");
    let theirs = node(K::Catalog, "c", "someone@example.com");
    assert!(ok(&alice(), &Action::ConnectWithCatalog, &[&hers]));
    assert!(!ok(&alice(), &Action::ConnectWithCatalog, &[&theirs]));
    assert!(ok(&ms_admin(), &Action::ConnectWithCatalog, &[&theirs]));
    assert!(ok(&workspace_admin(), &Action::PartnerSignIn, &[]));
    assert!(!ok(&service_principal(), &Action::PartnerSignIn, &[]), "service principals do not sign in");
}

#[test]
fn identities_are_managed_by_workspace_and_account_admins() {
    assert!(ok(&workspace_admin(), &Action::ManageIdentities, &[]));
    assert!(ok(&account_admin(), &Action::ManageIdentities, &[]));
    assert!(!ok(&ms_admin(), &Action::ManageIdentities, &[]), "a metastore admin is no workspace admin");
    assert!(!ok(&alice(), &Action::ManageIdentities, &[]));
}

#[test]
fn tokens_own_ones_for_everyone_the_workspaces_for_admins() {
    assert!(ok(&alice(), &Action::OwnTokens, &[]));
    assert!(ok(&service_principal(), &Action::OwnTokens, &[]));
    assert!(ok(&workspace_admin(), &Action::ManageWorkspaceTokens, &[]));
    assert!(ok(&account_admin(), &Action::ManageWorkspaceTokens, &[]));
    assert!(!ok(&alice(), &Action::ManageWorkspaceTokens, &[]));
}

#[test]
fn object_acls_are_read_by_level_holders_and_changed_by_managers() {
    let entry = |p: &str, l: &str| AclEntry { principal: p.into(), level: l.into() };
    let uses = vec![entry("analysts", "CAN_USE")];
    let manages = vec![entry(ALICE, "CAN_MANAGE")];
    let owns = vec![entry(ALICE, "IS_OWNER")];
    let nobody = vec![entry("someone@example.com", "CAN_MANAGE")];
    assert!(ok(&alice(), &Action::ReadObjectAcl { acl: uses.clone() }, &[]), "any level lets her read");
    assert!(!ok(&alice(), &Action::ReadObjectAcl { acl: nobody.clone() }, &[]));
    assert!(!ok(&alice(), &Action::ChangeObjectAcl { acl: uses }, &[]), "CAN_USE does not manage");
    assert!(ok(&alice(), &Action::ChangeObjectAcl { acl: manages }, &[]));
    assert!(ok(&alice(), &Action::ChangeObjectAcl { acl: owns }, &[]), "IS_OWNER includes CAN_MANAGE");
    assert!(ok(&workspace_admin(), &Action::ChangeObjectAcl { acl: nobody.clone() }, &[]));
    assert!(ok(&account_admin(), &Action::ReadObjectAcl { acl: nobody }, &[]));
}

#[test]
fn browse_on_the_catalog_shows_selective_metadata() {
    let mut cat = node(K::Catalog, "main", "someone@example.com");
    assert!(!ok(&alice(), &Action::BrowseCatalog, &[&cat]));
    assert!(!ok(&ms_admin(), &Action::BrowseCatalog, &[&cat]), "BROWSE is a grant, not a role");
    cat.grants.push(Grant { principal: "analysts".into(), privilege: "BROWSE".into() });
    assert!(ok(&alice(), &Action::BrowseCatalog, &[&cat]));
    assert!(!ok(&alice(), &Action::GetCatalog, &[&cat]), "BROWSE is not USE_CATALOG");
    let owned = node(K::Catalog, "main", ALICE);
    assert!(ok(&alice(), &Action::BrowseCatalog, &[&owned]), "the owner holds every privilege");
}

#[test]
fn only_metastore_admins_explain_other_principals() {
    assert!(ok(&ms_admin(), &Action::ExplainForOthers, &[]));
    assert!(!ok(&alice(), &Action::ExplainForOthers, &[]));
    assert!(!ok(&account_admin(), &Action::ExplainForOthers, &[]));
}

#[test]
fn no_caller_is_ever_allowed_the_server_s_own_proofs() {
    for c in [alice(), ms_admin(), account_admin(), workspace_admin(), service_principal()] {
        assert!(!ok(&c, &Action::LoadFixtures, &[]), "{}", c.name);
        assert!(!ok(&c, &Action::ServerTask, &[]), "{}", c.name);
    }
}

#[test]
fn server_proofs_cover_only_what_they_are_for() {
    let wants = |a: &Action| matches!(a, Action::ServerTask);
    assert!(with_server_proof(|ok| ok.covers(wants, None)));
    assert!(!with_server_proof(|ok| ok.covers(|a| matches!(a, Action::DeleteCatalog), Some("c"))));
    assert!(with_fixture_proof(|ok| ok.covers(|a| matches!(a, Action::DeleteCatalog), Some("c"))));
}

fn granted(kind: K, name: &str, owner: &str, grants: &[(&str, &str)]) -> Node {
    let mut n = node(kind, name, owner);
    n.grants = grants.iter().map(|(p, v)| Grant { principal: p.to_string(), privilege: v.to_string() }).collect();
    n
}

#[test]
fn table_credentials_need_explicit_external_use_schema_and_the_data_privileges() {
    let read = Action::TableCredentials { write: false };
    let write = Action::TableCredentials { write: true };
    // The metastore admin owns everything, yet holds no EXTERNAL_USE_SCHEMA: no bypass.
    let c = node(K::Catalog, "c", MS_ADMINS);
    let s = node(K::Schema, "c.s", MS_ADMINS);
    let t = node(K::Table, "c.s.t", MS_ADMINS);
    assert!(!ok(&ms_admin(), &read, &[&t, &s, &c]), "ownership never confers EXTERNAL_USE_SCHEMA");
    let c_all = granted(K::Catalog, "c", MS_ADMINS, &[(MS_ADMINS, "ALL_PRIVILEGES")]);
    assert!(!ok(&ms_admin(), &read, &[&t, &s, &c_all]), "nor does ALL_PRIVILEGES");
    let c_ext = granted(K::Catalog, "c", MS_ADMINS, &[(MS_ADMINS, "EXTERNAL_USE_SCHEMA")]);
    assert!(ok(&ms_admin(), &write, &[&t, &s, &c_ext]), "explicit grant on the catalog, data privileges by ownership");

    // Alice through her group: each privilege in turn.
    let c = granted(K::Catalog, "c", "o", &[("analysts", "USE_CATALOG"), ("analysts", "EXTERNAL_USE_SCHEMA")]);
    let s = granted(K::Schema, "c.s", "o", &[("analysts", "USE_SCHEMA")]);
    let bare = node(K::Table, "c.s.t", "o");
    let d = decide(&alice(), &read, &[&bare, &s, &c]);
    assert!(!d.allowed);
    assert!(matches!(&d.reasons[0], Reason::Missing { requirement } if requirement.starts_with("SELECT on Table")));
    let sel = granted(K::Table, "c.s.t", "o", &[(ALICE, "SELECT")]);
    assert!(ok(&alice(), &read, &[&sel, &s, &c]));
    assert!(!ok(&alice(), &write, &[&sel, &s, &c]), "READ_WRITE needs MODIFY");
    let both = granted(K::Table, "c.s.t", "o", &[(ALICE, "SELECT"), (ALICE, "MODIFY")]);
    assert!(ok(&alice(), &write, &[&both, &s, &c]));
    let no_use = granted(K::Schema, "c.s", "o", &[]);
    assert!(!ok(&alice(), &read, &[&both, &no_use, &c]), "USE_SCHEMA is needed too");
}

#[test]
fn path_credentials_need_explicit_external_use_location() {
    let read = Action::PathCredentials { write: false, create_table: false };
    let write = Action::PathCredentials { write: true, create_table: false };
    let create = Action::PathCredentials { write: true, create_table: true };
    let owned = node(K::ExternalLocation, "loc", ALICE);
    assert!(!ok(&alice(), &read, &[&owned]), "the owner lacks EXTERNAL_USE_LOCATION");
    let owned_ext = granted(K::ExternalLocation, "loc", ALICE, &[(ALICE, "EXTERNAL_USE_LOCATION")]);
    assert!(ok(&alice(), &write, &[&owned_ext]), "READ_FILES / WRITE_FILES by ownership");
    assert!(ok(&alice(), &create, &[&owned_ext]), "CREATE_EXTERNAL_TABLE by ownership");
    let reader =
        granted(K::ExternalLocation, "loc", "o", &[("analysts", "EXTERNAL_USE_LOCATION"), (ALICE, "READ_FILES")]);
    assert!(ok(&alice(), &read, &[&reader]));
    assert!(!ok(&alice(), &write, &[&reader]), "PATH_READ_WRITE needs WRITE_FILES");
    assert!(!ok(&alice(), &create, &[&reader]), "PATH_CREATE_TABLE needs CREATE_EXTERNAL_TABLE");
    assert!(!ok(&ms_admin(), &read, &[&reader]), "no metastore-admin bypass");

    // A path inside an external table: the table rule plus EXTERNAL_USE_LOCATION on the
    // location covering it.
    let c = granted(K::Catalog, "c", "o", &[(ALICE, "USE_CATALOG"), (ALICE, "EXTERNAL_USE_SCHEMA")]);
    let s = granted(K::Schema, "c.s", "o", &[(ALICE, "USE_SCHEMA"), (ALICE, "SELECT")]);
    let t = node(K::Table, "c.s.t", "o");
    let loc = node(K::ExternalLocation, "loc", "o");
    let located = Action::TablePathCredentials { write: false, located: true };
    assert!(!ok(&alice(), &located, &[&t, &s, &c, &loc]));
    let loc_ext = granted(K::ExternalLocation, "loc", "o", &[(ALICE, "EXTERNAL_USE_LOCATION")]);
    assert!(ok(&alice(), &located, &[&t, &s, &c, &loc_ext]), "SELECT inherited from the schema");
    assert!(ok(&alice(), &Action::TablePathCredentials { write: false, located: false }, &[&t, &s, &c]));
}

#[test]
fn volume_credentials_need_read_and_write_volume() {
    let c = granted(K::Catalog, "c", "o", &[(ALICE, "USE_CATALOG"), (ALICE, "EXTERNAL_USE_SCHEMA")]);
    let s = granted(K::Schema, "c.s", "o", &[(ALICE, "USE_SCHEMA")]);
    let v = granted(K::Volume, "c.s.v", "o", &[(ALICE, "READ_VOLUME")]);
    assert!(ok(&alice(), &Action::VolumeCredentials { write: false }, &[&v, &s, &c]));
    assert!(!ok(&alice(), &Action::VolumeCredentials { write: true }, &[&v, &s, &c]));
}

/// Every chain [table, schema, catalog] where each securable is owned by alice or by bob and
/// `analysts` holds any subset of five privileges on each.
fn each_table_chain(mut f: impl FnMut(&[Node; 3])) {
    let privileges = ["USE_CATALOG", "USE_SCHEMA", "SELECT", "BROWSE", "ALL_PRIVILEGES"];
    for owners in 0..8u32 {
        for grants in 0..(1u32 << (3 * privileges.len())) {
            let mut chain =
                [(K::Table, "c.s.t"), (K::Schema, "c.s"), (K::Catalog, "c")].map(|(k, n)| node(k, n, "bob"));
            for (i, n) in chain.iter_mut().enumerate() {
                if owners & (1 << i) != 0 {
                    n.owner = ALICE.into();
                }
                for (j, p) in privileges.iter().enumerate() {
                    if grants & (1 << (i * privileges.len() + j)) != 0 {
                        n.grants.push(Grant { principal: "analysts".into(), privilege: p.to_string() });
                    }
                }
            }
            f(&chain);
        }
    }
}

fn table_callers() -> [Caller; 4] {
    [alice(), ms_admin(), account_admin(), workspace_admin()]
}

/// `ops::tables::get` judges getTable before the parents' checks and skips those when it
/// passes: every chain getTable allows must let the caller use (or browse) the parents.
#[test]
fn whoever_may_get_a_table_may_use_its_parents() {
    let callers = table_callers();
    let mut allowed = 0;
    each_table_chain(|chain| {
        let [t, s, c] = chain;
        for caller in &callers {
            if !visible(caller, &Action::GetTable, &[t, s, c]) {
                continue;
            }
            allowed += 1;
            let parents = visible(caller, &Action::BrowseCatalog, &[c])
                || (visible(caller, &Action::ListSchemas, &[c]) && visible(caller, &Action::ListTables, &[s, c]));
            assert!(parents, "{} may get the table of {chain:?} but not use its parents", caller.name);
        }
    });
    assert!(allowed > 1000, "the cases include allowed ones ({allowed})");
}

/// `ops::tables::get` reads a table's own grants only when getTable refuses the caller without
/// them: a grant must never take getTable away (no rule asks for a grant's absence).
#[test]
fn a_table_s_own_grants_never_take_get_table_away() {
    let callers = table_callers();
    let (mut allowed_bare, mut only_with_grants) = (0, 0);
    each_table_chain(|chain| {
        let [t, s, c] = chain;
        let bare = Node { grants: vec![], ..t.clone() };
        for caller in &callers {
            let with_grants = visible(caller, &Action::GetTable, &[t, s, c]);
            if visible(caller, &Action::GetTable, &[&bare, s, c]) {
                allowed_bare += 1;
                assert!(with_grants, "{} may get the table of {chain:?} only without its grants", caller.name);
            } else if with_grants {
                only_with_grants += 1;
            }
        }
    });
    assert!(allowed_bare > 1000 && only_with_grants > 100, "both kinds of case ({allowed_bare}, {only_with_grants})");
}
