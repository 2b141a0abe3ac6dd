//! Unit tests of the authorization core, one (or a few) per rule of `rules.rs`, asserting what
//! the Unity Catalog documentation and API reference say.

use super::explain::{explain_decision, parse_action};
use super::*;
use crate::domain::privilege;
use crate::domain::securable::SecurableKind as K;
use crate::domain::update::UpdateShape;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// The group that owns the workspace's metastore in most tests.
const MS_ADMINS: &str = "ms-admins";
const MS_ID: &str = "11111111-2222-3333-4444-555555555555";

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

fn scope(owner: &str) -> MetastoreScope {
    MetastoreScope { id: MS_ID.to_string(), owner: owner.to_string(), default_catalog_name: None }
}

/// A user whose transitive groups are `groups`, in a workspace whose metastore `ms-admins` owns.
fn user(name: &str, groups: &[&str]) -> Caller {
    user_in(name, groups, false, Some(scope(MS_ADMINS)))
}

fn user_in(name: &str, groups: &[&str], account_admin: bool, metastore: Option<MetastoreScope>) -> Caller {
    Caller::new(
        name.to_string(),
        7,
        PrincipalKind::User,
        1234,
        groups.iter().map(|g| g.to_string()).collect(),
        account_admin,
        metastore,
    )
}

/// Alice: member of `analysts`, which is a member of `data-eng` (so both are her groups).
fn alice() -> Caller {
    user(ALICE, &["analysts", "data-eng"])
}

/// Bob: no groups besides `account users`.
fn bob() -> Caller {
    user(BOB, &[])
}

/// A metastore admin through (nested) membership of the owning group, and nothing else.
fn ms_admin() -> Caller {
    user("root@example.com", &["platform", MS_ADMINS])
}

/// An account admin who is not a metastore admin.
fn account_admin() -> Caller {
    user_in("acct@example.com", &[], true, Some(scope(MS_ADMINS)))
}

/// A workspace admin (member of `admins`) who is neither account nor metastore admin.
fn workspace_admin() -> Caller {
    user("wsadmin@example.com", &["admins"])
}

fn g(principal: &str, privilege: &str) -> Grant {
    Grant { principal: principal.to_string(), privilege: privilege.to_string() }
}

fn node(kind: K, name: &str, owner: &str) -> Node {
    Node { kind, id: format!("id-{name}"), name: name.to_string(), owner: owner.to_string(), grants: vec![] }
}

/// metastore > catalog `main` > schema `main.sales` > table `main.sales.orders`, each owned by
/// a principal none of the test callers is (unless a test changes it).
struct Tree {
    ms: Node,
    cat: Node,
    sch: Node,
    tbl: Node,
}

fn tree() -> Tree {
    Tree {
        ms: node(K::Metastore, MS_ID, MS_ADMINS),
        cat: node(K::Catalog, "main", "cat-owner@example.com"),
        sch: node(K::Schema, "main.sales", "schema-owner@example.com"),
        tbl: node(K::Table, "main.sales.orders", "table-owner@example.com"),
    }
}

impl Tree {
    fn t(&self) -> [&Node; 3] {
        [&self.tbl, &self.sch, &self.cat]
    }
    fn s(&self) -> [&Node; 2] {
        [&self.sch, &self.cat]
    }
    fn c(&self) -> [&Node; 1] {
        [&self.cat]
    }
    fn m(&self) -> [&Node; 1] {
        [&self.ms]
    }
    /// USE_CATALOG on the catalog and USE_SCHEMA on the schema, granted to `who`.
    fn with_use(mut self, who: &str) -> Tree {
        self.cat.grants.push(g(who, "USE_CATALOG"));
        self.sch.grants.push(g(who, "USE_SCHEMA"));
        self
    }
}

fn ok(caller: &Caller, action: &Action, chain: &[&Node]) -> bool {
    decide(caller, action, chain).allowed
}

fn shape(rename: bool, owner: bool, other: bool) -> UpdateShape {
    UpdateShape { rename, owner, other }
}

fn owner_only() -> UpdateShape {
    shape(false, true, false)
}

fn other_fields() -> UpdateShape {
    shape(false, false, true)
}

fn rename() -> UpdateShape {
    shape(true, false, false)
}

fn update_table(shape: UpdateShape) -> Action {
    Action::UpdateTable { shape, new_view_owner: None }
}

fn holds_priv(caller: &Caller, p: &'static str, chain: &[&Node]) -> bool {
    ok(caller, &Action::HoldsPrivilege(p), chain)
}

/// The texts of the `Missing` reasons of a decision.
fn missing(d: &Decision) -> String {
    d.reasons
        .iter()
        .filter_map(|r| match r {
            Reason::Missing { requirement } => Some(requirement.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

// ---------------------------------------------------------------------------------------------
// Principals and roles
// ---------------------------------------------------------------------------------------------

#[test]
fn caller_principals_are_self_groups_and_account_users() {
    let c = alice();
    assert_eq!(&*c.principals, &[ALICE.to_string(), "analysts".into(), "data-eng".into(), ACCOUNT_USERS.into()]);
    assert_eq!(c.groups(), &["analysts".to_string(), "data-eng".to_string()]);
    assert!(c.is(ALICE) && c.is("analysts") && c.is("data-eng") && c.is(ACCOUNT_USERS));
    assert!(!c.is("admins"));
    let json: Vec<String> = serde_json::from_str(&c.principals_json).unwrap();
    assert_eq!(json, c.principals.to_vec());
    assert_eq!(c.describe(), "User alice@example.com");
}

#[test]
fn caller_new_sorts_and_dedups_groups() {
    let c = user(BOB, &["zeta", "alpha", "zeta"]);
    assert_eq!(c.groups(), &["alpha".to_string(), "zeta".to_string()]);
    let b = bob();
    assert!(b.groups().is_empty());
    assert_eq!(&*b.principals, &[BOB.to_string(), ACCOUNT_USERS.to_string()]);
}

#[test]
fn principal_names_compare_case_sensitively() {
    let c = alice();
    assert!(!c.is("Analysts"));
    let mut t = tree();
    t.cat.grants.push(g("ANALYSTS", "USE_CATALOG"));
    assert!(!ok(&c, &Action::GetCatalog, &t.c()));
}

#[test]
fn workspace_admin_via_admins_group() {
    assert!(workspace_admin().workspace_admin);
    assert!(!workspace_admin().account_admin);
    assert!(account_admin().workspace_admin, "account admins count as workspace admins");
    assert!(!alice().workspace_admin);
    assert_eq!(
        Caller::new("sp-1".into(), 3, PrincipalKind::ServicePrincipal, 1, vec![], false, None).describe(),
        "Service principal sp-1"
    );
}

#[test]
fn metastore_admin_is_owner_or_member_of_owner_group() {
    // Through a (transitive) group.
    assert!(ms_admin().is_metastore_admin());
    // As the owning user.
    let direct = user_in(BOB, &[], false, Some(scope(BOB)));
    assert!(direct.is_metastore_admin());
    let t = tree();
    let mut ms = t.ms.clone();
    ms.owner = BOB.to_string();
    assert!(ok(&direct, &Action::ReadMetastore, &[&ms]));
    // Not a member.
    assert!(!alice().is_metastore_admin());
}

#[test]
fn account_admin_is_not_metastore_admin() {
    let c = account_admin();
    let t = tree();
    assert!(!c.is_metastore_admin());
    assert!(!ok(&c, &Action::ReadMetastore, &t.m()));
    assert!(!ok(&c, &Action::UpdateMetastore, &t.m()));
    assert!(!ok(&c, &Action::ListAllCatalogs, &[]));
    assert!(!ok(&c, &Action::GetCatalog, &t.c()));
    assert!(!ok(&c, &Action::CreateCatalog, &t.m()));
    assert!(!ok(&c, &Action::GetTable, &t.t()));
    assert!(!ok(&c, &Action::ChangePermissions, &t.t()));
}

#[test]
fn workspace_admin_is_not_metastore_admin() {
    let c = workspace_admin();
    let t = tree();
    assert!(!c.is_metastore_admin());
    assert!(!ok(&c, &Action::ReadMetastore, &t.m()));
    assert!(!ok(&c, &Action::ListAllCatalogs, &[]));
    assert!(!ok(&c, &Action::CreateCatalog, &t.m()));
    assert!(!ok(&c, &Action::CreateAssignment, &[]));
}

#[test]
fn no_assigned_metastore_means_no_metastore_admin() {
    let c = user_in(BOB, &[MS_ADMINS], false, None);
    assert!(!c.is_metastore_admin());
    let d = decide(&c, &Action::ListAllCatalogs, &[]);
    assert!(!d.allowed);
    assert!(missing(&d).contains("metastore admin"));
}

#[test]
fn group_owner_makes_members_owners() {
    let mut t = tree();
    t.cat.owner = "data-eng".to_string(); // alice via analysts ⊂ data-eng
    assert!(ok(&alice(), &Action::DeleteCatalog, &t.c()));
    assert!(ok(&alice(), &Action::GetCatalog, &t.c()));
    assert!(ok(&alice(), &Action::GetTable, &t.t()), "group ownership of the catalog conveys everything below");
    assert!(!ok(&bob(), &Action::DeleteCatalog, &t.c()));
    assert!(!ok(&bob(), &Action::GetCatalog, &t.c()));
}

#[test]
fn account_users_grant_reaches_everyone() {
    let mut t = tree();
    t.ms.grants.push(g(ACCOUNT_USERS, "CREATE_CATALOG"));
    t = t.with_use(ACCOUNT_USERS);
    t.cat.grants.push(g(ACCOUNT_USERS, "SELECT"));
    for c in [alice(), bob(), account_admin()] {
        assert!(ok(&c, &Action::CreateCatalog, &t.m()), "{}", c.name);
        assert!(ok(&c, &Action::GetCatalog, &t.c()), "{}", c.name);
        assert!(ok(&c, &Action::GetTable, &t.t()), "{}", c.name);
    }
    let d = decide(&bob(), &Action::GetCatalog, &t.c());
    assert!(d.reasons.iter().any(|r| matches!(r, Reason::Grant { via, .. } if via == "group 'account users'")));
}

#[test]
fn grants_to_other_principals_do_not_count() {
    let mut t = tree();
    t.cat.grants.push(g(BOB, "USE_CATALOG"));
    t.cat.grants.push(g("other-group", "ALL_PRIVILEGES"));
    assert!(!ok(&alice(), &Action::GetCatalog, &t.c()));
    assert!(ok(&bob(), &Action::GetCatalog, &t.c()));
}

// ---------------------------------------------------------------------------------------------
// holds(): inheritance, ownership, ALL_PRIVILEGES, legacy names
// ---------------------------------------------------------------------------------------------

#[test]
fn select_on_catalog_is_inherited_by_tables() {
    let mut t = tree();
    t.cat.grants.push(g("analysts", "SELECT"));
    assert!(holds_priv(&alice(), "SELECT", &t.t()));
    assert!(!holds_priv(&bob(), "SELECT", &t.t()));
    // ...and by views: views share the table slot of the chain.
    let mut v = t.tbl.clone();
    v.kind = K::View;
    assert!(holds_priv(&alice(), "SELECT", &[&v, &t.sch, &t.cat]));
}

#[test]
fn select_on_schema_is_inherited_by_tables() {
    let mut t = tree();
    t.sch.grants.push(g("data-eng", "SELECT"));
    assert!(holds_priv(&alice(), "SELECT", &t.t()));
    assert!(!holds_priv(&bob(), "SELECT", &t.t()));
}

#[test]
fn use_schema_and_create_table_on_catalog_are_inherited_by_schemas() {
    let mut t = tree();
    t.cat.grants.push(g(ALICE, "USE_SCHEMA"));
    t.cat.grants.push(g(ALICE, "CREATE_TABLE"));
    assert!(holds_priv(&alice(), "USE_SCHEMA", &t.s()));
    assert!(holds_priv(&alice(), "CREATE_TABLE", &t.s()));
    assert!(!holds_priv(&alice(), "USE_CATALOG", &t.c()), "USE_SCHEMA is not USE_CATALOG");
}

#[test]
fn select_on_catalog_does_not_imply_use_catalog() {
    let mut t = tree();
    t.cat.grants.push(g(ALICE, "SELECT"));
    t.sch.grants.push(g(ALICE, "USE_SCHEMA"));
    assert!(!holds_priv(&alice(), "USE_CATALOG", &t.c()));
    assert!(!ok(&alice(), &Action::GetCatalog, &t.c()));
    // Inheritance never bypasses the traversal privileges.
    let d = decide(&alice(), &Action::GetTable, &t.t());
    assert!(!d.allowed);
    assert!(missing(&d).contains("USE_CATALOG on Catalog 'main'"), "{}", missing(&d));
}

#[test]
fn use_catalog_does_not_imply_use_schema() {
    let mut t = tree();
    t.cat.grants.push(g(ALICE, "USE_CATALOG"));
    assert!(!holds_priv(&alice(), "USE_SCHEMA", &t.s()));
    assert!(!ok(&alice(), &Action::GetSchema, &t.s()));
}

#[test]
fn owner_of_catalog_holds_select_on_its_tables() {
    let mut t = tree();
    t.cat.owner = ALICE.to_string();
    assert!(holds_priv(&alice(), "SELECT", &t.t()));
    assert!(holds_priv(&alice(), "MODIFY", &t.t()));
    assert!(holds_priv(&alice(), "USE_SCHEMA", &t.s()));
    assert!(holds_priv(&alice(), "CREATE_TABLE", &t.s()));
    assert!(ok(&alice(), &Action::GetTable, &t.t()));
    let d = decide(&alice(), &Action::HoldsPrivilege("SELECT"), &t.t());
    assert_eq!(
        d.reasons,
        vec![Reason::OwnerConveys {
            privilege: "SELECT".into(),
            securable_type: K::Catalog,
            securable: "main".into(),
            via: String::new(),
        }]
    );
}

#[test]
fn owner_of_schema_holds_privileges_on_its_tables_but_not_use_catalog() {
    let mut t = tree();
    t.sch.owner = "analysts".to_string();
    assert!(holds_priv(&alice(), "SELECT", &t.t()));
    assert!(holds_priv(&alice(), "USE_SCHEMA", &t.s()));
    assert!(!holds_priv(&alice(), "USE_CATALOG", &t.c()), "ownership is inherited downwards only");
}

#[test]
fn owner_of_table_gains_nothing_on_its_parents() {
    let mut t = tree();
    t.tbl.owner = ALICE.to_string();
    assert!(holds_priv(&alice(), "SELECT", &t.t()));
    assert!(!holds_priv(&alice(), "USE_SCHEMA", &t.s()));
    assert!(!ok(&alice(), &Action::GetTable, &t.t()), "getTable still needs USE_CATALOG and USE_SCHEMA");
}

#[test]
fn all_privileges_on_catalog_covers_children() {
    let mut t = tree();
    t.cat.grants.push(g("analysts", "ALL_PRIVILEGES"));
    for p in ["USE_CATALOG", "CREATE_SCHEMA", "BROWSE"] {
        assert!(holds_priv(&alice(), p, &t.c()), "{p}");
    }
    for p in ["USE_SCHEMA", "CREATE_TABLE", "CREATE_FUNCTION"] {
        assert!(holds_priv(&alice(), p, &t.s()), "{p}");
    }
    for p in ["SELECT", "MODIFY", "APPLY_TAG"] {
        assert!(holds_priv(&alice(), p, &t.t()), "{p}");
    }
    assert!(ok(&alice(), &Action::GetTable, &t.t()));
    assert!(ok(&alice(), &Action::CreateTable { external: false }, &t.s()));
    // ALL_PRIVILEGES never makes an owner.
    assert!(!ok(&alice(), &Action::DeleteCatalog, &t.c()));
    assert!(!ok(&alice(), &Action::ChangePermissions, &t.c()));
}

#[test]
fn all_privileges_excludes_manage_and_external_use() {
    let mut t = tree();
    t.cat.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    t.sch.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    t.tbl.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    assert!(!holds_priv(&alice(), "MANAGE", &t.c()));
    assert!(!holds_priv(&alice(), "MANAGE", &t.s()));
    assert!(!holds_priv(&alice(), "MANAGE", &t.t()));
    assert!(!holds_priv(&alice(), "EXTERNAL_USE_SCHEMA", &t.s()));
    let loc = Node { grants: vec![g(ALICE, "ALL_PRIVILEGES")], ..node(K::ExternalLocation, "loc", "x") };
    assert!(!holds_priv(&alice(), "EXTERNAL_USE_LOCATION", &[&loc]));
    assert!(holds_priv(&alice(), "READ_FILES", &[&loc]));
    // Explicit grants of them do count.
    t.tbl.grants.push(g(ALICE, "MANAGE"));
    assert!(holds_priv(&alice(), "MANAGE", &t.t()));
}

#[test]
fn ownership_excludes_manage_and_external_use() {
    let mut t = tree();
    t.cat.owner = ALICE.to_string();
    t.sch.owner = ALICE.to_string();
    t.tbl.owner = ALICE.to_string();
    assert!(!holds_priv(&alice(), "MANAGE", &t.t()));
    assert!(!holds_priv(&alice(), "MANAGE", &t.c()));
    assert!(!holds_priv(&alice(), "EXTERNAL_USE_SCHEMA", &t.s()));
    let loc = node(K::ExternalLocation, "loc", ALICE);
    assert!(!holds_priv(&alice(), "EXTERNAL_USE_LOCATION", &[&loc]));
    assert!(holds_priv(&alice(), "READ_FILES", &[&loc]));
}

#[test]
fn explicit_external_use_schema_on_catalog_is_inherited() {
    let mut t = tree();
    t.cat.grants.push(g("data-eng", "EXTERNAL_USE_SCHEMA"));
    assert!(holds_priv(&alice(), "EXTERNAL_USE_SCHEMA", &t.s()));
    assert!(!holds_priv(&bob(), "EXTERNAL_USE_SCHEMA", &t.s()));
}

#[test]
fn legacy_usage_on_catalog_counts_as_use_catalog() {
    let mut t = tree();
    t.cat.grants.push(g("analysts", "USAGE"));
    assert!(holds_priv(&alice(), "USE_CATALOG", &t.c()));
    assert!(ok(&alice(), &Action::GetCatalog, &t.c()));
    assert!(ok(&alice(), &Action::ListSchemas, &t.s()));
    let d = decide(&alice(), &Action::GetCatalog, &t.c());
    assert_eq!(
        d.reasons,
        vec![Reason::Grant {
            privilege: "USE_CATALOG".into(),
            granted: "USAGE".into(),
            securable_type: K::Catalog,
            securable: "main".into(),
            via: "group 'analysts'".into(),
        }]
    );
    assert!(d.reasons[0].sentence().contains("(granted as USAGE)"));
}

#[test]
fn legacy_usage_on_catalog_is_not_use_schema() {
    let mut t = tree();
    t.cat.grants.push(g(ALICE, "USAGE"));
    assert!(!holds_priv(&alice(), "USE_SCHEMA", &t.s()));
}

#[test]
fn legacy_usage_on_schema_counts_as_use_schema() {
    let mut t = tree();
    t.cat.grants.push(g(ALICE, "USAGE"));
    t.sch.grants.push(g(ALICE, "USAGE"));
    assert!(holds_priv(&alice(), "USE_SCHEMA", &t.s()));
    assert!(ok(&alice(), &Action::GetSchema, &t.s()));
    assert!(ok(&alice(), &Action::ListTables, &t.s()));
}

#[test]
fn legacy_create_on_catalog_counts_as_create_schema_only() {
    let mut t = tree();
    t.cat.grants.push(g(ALICE, "USAGE"));
    t.cat.grants.push(g(ALICE, "CREATE"));
    assert!(holds_priv(&alice(), "CREATE_SCHEMA", &t.c()));
    assert!(ok(&alice(), &Action::CreateSchema, &t.c()));
    assert!(!holds_priv(&alice(), "CREATE_TABLE", &t.s()));
}

#[test]
fn legacy_create_on_schema_counts_as_create_table_and_function() {
    let mut t = tree().with_use(ALICE);
    t.sch.grants.push(g(ALICE, "CREATE"));
    assert!(holds_priv(&alice(), "CREATE_TABLE", &t.s()));
    assert!(holds_priv(&alice(), "CREATE_FUNCTION", &t.s()));
    assert!(!holds_priv(&alice(), "CREATE_VOLUME", &t.s()));
    assert!(ok(&alice(), &Action::CreateTable { external: false }, &t.s()));
}

#[test]
fn metastore_grants_are_not_inherited() {
    let mut t = tree();
    t.ms.grants.push(g(ALICE, "CREATE_CATALOG"));
    t.ms.grants.push(g(ALICE, "USE_SHARE"));
    assert!(holds_priv(&alice(), "CREATE_CATALOG", &t.m()));
    // A chain that (wrongly) carries the metastore above the catalog still conveys nothing.
    assert!(!holds_priv(&alice(), "USE_CATALOG", &[&t.cat, &t.ms]));
    assert!(!holds_priv(&alice(), "SELECT", &[&t.tbl, &t.sch, &t.cat, &t.ms]));
    assert!(!ok(&alice(), &Action::GetCatalog, &t.c()));
    // Owning the metastore conveys nothing on catalogs either.
    let owner = user_in(ALICE, &[], false, Some(scope(ALICE)));
    let mut ms = t.ms.clone();
    ms.owner = ALICE.to_string();
    assert!(!holds_priv(&owner, "USE_CATALOG", &[&t.cat, &ms]));
    assert!(!holds_priv(&owner, "SELECT", &[&t.tbl, &t.sch, &t.cat, &ms]));
}

#[test]
fn metastore_owner_holds_no_privilege_by_ownership() {
    let c = user_in(ALICE, &[], false, Some(scope(ALICE)));
    let mut ms = tree().ms;
    ms.owner = ALICE.to_string();
    assert!(!holds_priv(&c, "CREATE_CATALOG", &[&ms]));
    assert!(!holds_priv(&c, "CREATE_STORAGE_CREDENTIAL", &[&ms]));
    // ...but the role passes the endpoint rule.
    assert!(ok(&c, &Action::CreateCatalog, &[&ms]));
}

#[test]
fn holds_is_false_when_the_chain_lacks_the_kind() {
    let mut t = tree();
    t.cat.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    let d = decide(&alice(), &Action::GetTable, &t.s());
    assert!(!d.allowed);
}

// ---------------------------------------------------------------------------------------------
// Metastores and assignments
// ---------------------------------------------------------------------------------------------

#[test]
fn create_metastore_account_admin_only() {
    assert!(ok(&account_admin(), &Action::CreateMetastore, &[]));
    assert!(!ok(&ms_admin(), &Action::CreateMetastore, &[]));
    assert!(!ok(&workspace_admin(), &Action::CreateMetastore, &[]));
    assert!(!ok(&alice(), &Action::CreateMetastore, &[]));
    let d = decide(&alice(), &Action::CreateMetastore, &[]);
    assert!(missing(&d).contains("account admin"));
}

#[test]
fn metastore_crud_is_for_its_metastore_admins() {
    let t = tree();
    for a in [Action::ReadMetastore, Action::UpdateMetastore, Action::DeleteMetastore] {
        assert!(ok(&ms_admin(), &a, &t.m()), "{a:?}");
        assert!(!ok(&alice(), &a, &t.m()), "{a:?}");
        assert!(!ok(&account_admin(), &a, &t.m()), "{a:?}");
        assert!(!ok(&workspace_admin(), &a, &t.m()), "{a:?}");
    }
}

#[test]
fn metastore_admin_of_workspace_metastore_is_not_admin_of_another() {
    let other = node(K::Metastore, "other-ms", "someone-else");
    assert!(!ok(&ms_admin(), &Action::ReadMetastore, &[&other]));
    assert!(!ok(&ms_admin(), &Action::DeleteMetastore, &[&other]));
    // And the owner of the addressed metastore is its admin even if the workspace's is another.
    let c = user(ALICE, &["other-admins"]);
    let mine = node(K::Metastore, "other-ms", "other-admins");
    assert!(ok(&c, &Action::UpdateMetastore, &[&mine]));
}

#[test]
fn assignment_create_and_delete_account_admin_only() {
    for a in [Action::CreateAssignment, Action::DeleteAssignment] {
        assert!(ok(&account_admin(), &a, &[]), "{a:?}");
        assert!(!ok(&workspace_admin(), &a, &[]), "{a:?}");
        assert!(!ok(&ms_admin(), &a, &[]), "{a:?}");
        assert!(!ok(&alice(), &a, &[]), "{a:?}");
    }
}

#[test]
fn assignment_update_rules() {
    let change = Action::UpdateAssignment { changes_metastore: true };
    let keep = Action::UpdateAssignment { changes_metastore: false };
    // Changing metastore_id: account admin only.
    assert!(ok(&account_admin(), &change, &[]));
    assert!(!ok(&workspace_admin(), &change, &[]));
    assert!(!ok(&ms_admin(), &change, &[]));
    // Otherwise: workspace admin, or account admin.
    assert!(ok(&workspace_admin(), &keep, &[]));
    assert!(ok(&account_admin(), &keep, &[]));
    let acct_not_ws = Caller { workspace_admin: false, ..account_admin() };
    assert!(ok(&acct_not_ws, &keep, &[]), "account admins are accepted as well");
    assert!(!ok(&ms_admin(), &keep, &[]));
    assert!(!ok(&alice(), &keep, &[]));
}

// ---------------------------------------------------------------------------------------------
// Catalogs
// ---------------------------------------------------------------------------------------------

#[test]
fn create_catalog_metastore_admin_or_create_catalog() {
    let mut t = tree();
    assert!(ok(&ms_admin(), &Action::CreateCatalog, &t.m()));
    assert!(!ok(&alice(), &Action::CreateCatalog, &t.m()));
    t.ms.grants.push(g("data-eng", "CREATE_CATALOG"));
    assert!(ok(&alice(), &Action::CreateCatalog, &t.m()));
    assert!(!ok(&bob(), &Action::CreateCatalog, &t.m()));
    // Another metastore privilege is not enough.
    let mut t2 = tree();
    t2.ms.grants.push(g(ALICE, "CREATE_SHARE"));
    assert!(!ok(&alice(), &Action::CreateCatalog, &t2.m()));
}

#[test]
fn get_catalog_admin_owner_or_use_catalog() {
    let mut t = tree();
    assert!(ok(&ms_admin(), &Action::GetCatalog, &t.c()));
    assert!(!ok(&alice(), &Action::GetCatalog, &t.c()));
    t.cat.grants.push(g("analysts", "USE_CATALOG"));
    assert!(ok(&alice(), &Action::GetCatalog, &t.c()));
    let mut t2 = tree();
    t2.cat.owner = BOB.to_string();
    assert!(ok(&bob(), &Action::GetCatalog, &t2.c()));
    // BROWSE, CREATE_SCHEMA alone do not give getCatalog.
    let mut t3 = tree();
    t3.cat.grants.push(g(ALICE, "BROWSE"));
    t3.cat.grants.push(g(ALICE, "CREATE_SCHEMA"));
    assert!(!ok(&alice(), &Action::GetCatalog, &t3.c()));
    assert!(visible(&alice(), &Action::GetCatalog, &t.c()));
    assert!(!visible(&bob(), &Action::GetCatalog, &t.c()));
}

#[test]
fn list_all_catalogs_metastore_admin_only() {
    let t = tree();
    assert!(ok(&ms_admin(), &Action::ListAllCatalogs, &t.m()));
    assert!(ok(&ms_admin(), &Action::ListAllCatalogs, &[]));
    let mut t2 = tree();
    t2.cat.owner = ALICE.to_string();
    assert!(!ok(&alice(), &Action::ListAllCatalogs, &t2.c()), "owning a catalog is not listing all");
    assert!(!ok(&account_admin(), &Action::ListAllCatalogs, &[]));
}

#[test]
fn metastore_admin_may_change_only_owner_of_catalog() {
    let t = tree();
    assert!(ok(&ms_admin(), &Action::UpdateCatalog(owner_only()), &t.c()));
    assert!(!ok(&ms_admin(), &Action::UpdateCatalog(other_fields()), &t.c()));
    assert!(!ok(&ms_admin(), &Action::UpdateCatalog(shape(false, true, true)), &t.c()));
    let d = decide(&ms_admin(), &Action::UpdateCatalog(other_fields()), &t.c());
    assert!(missing(&d).contains("ownership of Catalog 'main'"), "{}", missing(&d));
    // A non-admin, non-owner may change nothing.
    assert!(!ok(&alice(), &Action::UpdateCatalog(owner_only()), &t.c()));
}

#[test]
fn catalog_owner_may_update_any_field() {
    let mut t = tree();
    t.cat.owner = "analysts".to_string();
    assert!(ok(&alice(), &Action::UpdateCatalog(other_fields()), &t.c()));
    assert!(ok(&alice(), &Action::UpdateCatalog(owner_only()), &t.c()));
    assert!(ok(&alice(), &Action::UpdateCatalog(shape(false, true, true)), &t.c()));
    // ALL_PRIVILEGES is not ownership.
    let mut t2 = tree();
    t2.cat.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    assert!(!ok(&alice(), &Action::UpdateCatalog(other_fields()), &t2.c()));
}

#[test]
fn catalog_rename_needs_owner_and_metastore_admin() {
    let mut t = tree();
    // Admin, not owner.
    assert!(!ok(&ms_admin(), &Action::UpdateCatalog(rename()), &t.c()));
    // Owner, not admin.
    t.cat.owner = ALICE.to_string();
    assert!(!ok(&alice(), &Action::UpdateCatalog(rename()), &t.c()));
    let d = decide(&alice(), &Action::UpdateCatalog(rename()), &t.c());
    assert!(missing(&d).contains("metastore admin"));
    // Both.
    let both = user(ALICE, &[MS_ADMINS]);
    assert!(ok(&both, &Action::UpdateCatalog(rename()), &t.c()));
    assert!(ok(&both, &Action::UpdateCatalog(shape(true, true, true)), &t.c()));
}

#[test]
fn delete_catalog_owner_only() {
    let mut t = tree();
    t.cat.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    assert!(!ok(&alice(), &Action::DeleteCatalog, &t.c()));
    assert!(!ok(&ms_admin(), &Action::DeleteCatalog, &t.c()));
    assert!(!ok(&account_admin(), &Action::DeleteCatalog, &t.c()));
    t.cat.owner = "data-eng".to_string();
    assert!(ok(&alice(), &Action::DeleteCatalog, &t.c()));
}

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

#[test]
fn list_schemas_needs_catalog_access() {
    let mut t = tree();
    assert!(ok(&ms_admin(), &Action::ListSchemas, &t.c()));
    assert!(!ok(&alice(), &Action::ListSchemas, &t.c()));
    t.cat.grants.push(g("analysts", "USE_CATALOG"));
    assert!(ok(&alice(), &Action::ListSchemas, &t.c()));
    let mut t2 = tree();
    t2.cat.owner = ALICE.to_string();
    assert!(ok(&alice(), &Action::ListSchemas, &t2.c()));
    // USE_SCHEMA / SELECT on the catalog are not catalog access.
    let mut t3 = tree();
    t3.cat.grants.push(g(ALICE, "USE_SCHEMA"));
    t3.cat.grants.push(g(ALICE, "SELECT"));
    assert!(!ok(&alice(), &Action::ListSchemas, &t3.c()));
}

#[test]
fn create_schema_rules() {
    let mut t = tree();
    // Metastore admin: passes both the precondition and the rule.
    assert!(ok(&ms_admin(), &Action::CreateSchema, &t.c()));
    // CREATE_SCHEMA without catalog access fails the precondition.
    t.cat.grants.push(g(ALICE, "CREATE_SCHEMA"));
    let d = decide(&alice(), &Action::CreateSchema, &t.c());
    assert!(!d.allowed);
    assert!(missing(&d).contains("USE_CATALOG on Catalog 'main'"), "{}", missing(&d));
    // USE_CATALOG without CREATE_SCHEMA fails the rule.
    let mut t2 = tree();
    t2.cat.grants.push(g(ALICE, "USE_CATALOG"));
    let d = decide(&alice(), &Action::CreateSchema, &t2.c());
    assert!(!d.allowed);
    assert!(missing(&d).contains("CREATE_SCHEMA on Catalog 'main'"), "{}", missing(&d));
    // Both.
    t2.cat.grants.push(g("data-eng", "CREATE_SCHEMA"));
    assert!(ok(&alice(), &Action::CreateSchema, &t2.c()));
    // The catalog owner.
    let mut t3 = tree();
    t3.cat.owner = ALICE.to_string();
    assert!(ok(&alice(), &Action::CreateSchema, &t3.c()));
}

#[test]
fn get_schema_rules() {
    let mut t = tree();
    assert!(ok(&ms_admin(), &Action::GetSchema, &t.s()));
    assert!(!ok(&alice(), &Action::GetSchema, &t.s()));
    // USE_SCHEMA without catalog access: precondition fails.
    t.sch.grants.push(g(ALICE, "USE_SCHEMA"));
    assert!(!ok(&alice(), &Action::GetSchema, &t.s()));
    t.cat.grants.push(g(ALICE, "USE_CATALOG"));
    assert!(ok(&alice(), &Action::GetSchema, &t.s()));
    // The schema owner, with catalog access.
    let mut t2 = tree();
    t2.sch.owner = ALICE.to_string();
    assert!(!ok(&alice(), &Action::GetSchema, &t2.s()));
    t2.cat.grants.push(g(ALICE, "USE_CATALOG"));
    assert!(ok(&alice(), &Action::GetSchema, &t2.s()));
    // The catalog owner (ownership is inherited).
    let mut t3 = tree();
    t3.cat.owner = ALICE.to_string();
    assert!(ok(&alice(), &Action::GetSchema, &t3.s()));
}

#[test]
fn list_all_schemas_for_catalog_owner() {
    let mut t = tree();
    assert!(ok(&ms_admin(), &Action::ListAllSchemas, &t.c()));
    t.cat.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    assert!(!ok(&alice(), &Action::ListAllSchemas, &t.c()));
    t.cat.owner = "analysts".to_string();
    assert!(ok(&alice(), &Action::ListAllSchemas, &t.c()));
    assert!(ok(&alice(), &Action::ListAllSchemas, &t.s()));
}

#[test]
fn update_schema_owner_or_admin_changing_owner() {
    let mut t = tree();
    // Metastore admin: only `owner`.
    assert!(ok(&ms_admin(), &Action::UpdateSchema(owner_only()), &t.s()));
    assert!(!ok(&ms_admin(), &Action::UpdateSchema(other_fields()), &t.s()));
    // Schema owner: any non-name field, but only with catalog access.
    t.sch.owner = ALICE.to_string();
    assert!(!ok(&alice(), &Action::UpdateSchema(other_fields()), &t.s()));
    t.cat.grants.push(g(ALICE, "USE_CATALOG"));
    assert!(ok(&alice(), &Action::UpdateSchema(other_fields()), &t.s()));
    assert!(ok(&alice(), &Action::UpdateSchema(owner_only()), &t.s()));
    // A holder of privileges that is not the owner may not.
    let mut t2 = tree();
    t2.cat.grants.push(g(BOB, "ALL_PRIVILEGES"));
    assert!(!ok(&bob(), &Action::UpdateSchema(other_fields()), &t2.s()));
}

#[test]
fn schema_rename_needs_create_schema_or_admin() {
    let mut t = tree();
    t.sch.owner = ALICE.to_string();
    t.cat.grants.push(g(ALICE, "USE_CATALOG"));
    let d = decide(&alice(), &Action::UpdateSchema(rename()), &t.s());
    assert!(!d.allowed);
    assert!(missing(&d).contains("CREATE_SCHEMA on Catalog 'main'"), "{}", missing(&d));
    t.cat.grants.push(g("analysts", "CREATE_SCHEMA"));
    assert!(ok(&alice(), &Action::UpdateSchema(rename()), &t.s()));
    // An admin who owns the schema needs no CREATE_SCHEMA.
    let mut t2 = tree();
    let owner_admin = user(ALICE, &[MS_ADMINS]);
    t2.sch.owner = ALICE.to_string();
    assert!(ok(&owner_admin, &Action::UpdateSchema(rename()), &t2.s()));
    // An admin who does not own the schema may not rename it (not an owner-only change).
    assert!(!ok(&ms_admin(), &Action::UpdateSchema(rename()), &t2.s()));
    // Legacy CREATE on the catalog counts as CREATE_SCHEMA.
    let mut t3 = tree();
    t3.sch.owner = ALICE.to_string();
    t3.cat.grants.push(g(ALICE, "USAGE"));
    t3.cat.grants.push(g(ALICE, "CREATE"));
    assert!(ok(&alice(), &Action::UpdateSchema(rename()), &t3.s()));
}

#[test]
fn delete_schema_schema_owner_or_catalog_owner() {
    let mut t = tree();
    // Schema owner with catalog access.
    t.sch.owner = ALICE.to_string();
    assert!(!ok(&alice(), &Action::DeleteSchema, &t.s()), "the catalog precondition applies");
    t.cat.grants.push(g(ALICE, "USE_CATALOG"));
    assert!(ok(&alice(), &Action::DeleteSchema, &t.s()));
    // Catalog owner.
    let mut t2 = tree();
    t2.cat.owner = "data-eng".to_string();
    assert!(ok(&alice(), &Action::DeleteSchema, &t2.s()));
    // Metastore admin: no bypass, and ALL_PRIVILEGES is not ownership.
    let mut t3 = tree();
    assert!(!ok(&ms_admin(), &Action::DeleteSchema, &t3.s()));
    t3.cat.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    t3.sch.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    assert!(!ok(&alice(), &Action::DeleteSchema, &t3.s()));
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

#[test]
fn create_table_needs_use_catalog_use_schema_and_create_table() {
    let create = Action::CreateTable { external: false };
    let mut t = tree();
    t.sch.grants.push(g(ALICE, "CREATE_TABLE"));
    assert!(!ok(&alice(), &create, &t.s()));
    t.cat.grants.push(g(ALICE, "USE_CATALOG"));
    let d = decide(&alice(), &create, &t.s());
    assert!(!d.allowed);
    assert!(missing(&d).contains("USE_SCHEMA on Schema 'main.sales'"), "{}", missing(&d));
    t.sch.grants.push(g("analysts", "USE_SCHEMA"));
    assert!(ok(&alice(), &create, &t.s()));
    // Without CREATE_TABLE.
    let t2 = tree().with_use(ALICE);
    let d = decide(&alice(), &create, &t2.s());
    assert!(!d.allowed);
    assert!(missing(&d).contains("CREATE_TABLE on Schema 'main.sales'"), "{}", missing(&d));
    // CREATE_TABLE on the catalog is inherited by the schema.
    let mut t3 = tree().with_use(ALICE);
    t3.cat.grants.push(g(ALICE, "CREATE_TABLE"));
    assert!(ok(&alice(), &create, &t3.s()));
}

#[test]
fn create_table_ownership_counts_for_use_and_create() {
    let create = Action::CreateTable { external: false };
    let mut t = tree();
    t.sch.owner = ALICE.to_string();
    assert!(!ok(&alice(), &create, &t.s()), "schema ownership does not give USE_CATALOG");
    t.cat.grants.push(g(ALICE, "USE_CATALOG"));
    assert!(ok(&alice(), &create, &t.s()));
    let mut t2 = tree();
    t2.cat.owner = ALICE.to_string();
    assert!(ok(&alice(), &create, &t2.s()));
}

#[test]
fn create_table_has_no_metastore_admin_bypass() {
    let create = Action::CreateTable { external: false };
    let t = tree();
    let d = decide(&ms_admin(), &create, &t.s());
    assert!(!d.allowed);
    assert!(missing(&d).contains("USE_CATALOG"), "{}", missing(&d));
    let mut t2 = tree().with_use("platform");
    assert!(!ok(&ms_admin(), &create, &t2.s()), "still needs CREATE_TABLE");
    t2.sch.grants.push(g("platform", "CREATE_TABLE"));
    assert!(ok(&ms_admin(), &create, &t2.s()));
}

#[test]
fn create_external_table_needs_metastore_admin_or_location_privilege() {
    let ext = Action::CreateTable { external: true };
    let mut t = tree().with_use(ALICE);
    t.sch.grants.push(g(ALICE, "CREATE_TABLE"));
    // No location privilege in the chain and not an admin.
    assert!(!ok(&alice(), &ext, &t.s()));
    assert!(ok(&alice(), &Action::CreateTable { external: false }, &t.s()));
    // An admin who also meets the managed-table rule.
    let admin = user(ALICE, &[MS_ADMINS]);
    assert!(ok(&admin, &ext, &t.s()));
    // The admin still needs the managed-table part.
    assert!(!ok(&ms_admin(), &ext, &t.s()));
}

/// An EXTERNAL table may also be created by a non-admin holding
/// `CREATE_EXTERNAL_TABLE` (legacy `CREATE_TABLE`) on the external location; the location node
/// follows the schema's chain.
#[test]
fn create_external_table_admits_create_external_table_on_location() {
    let ext = Action::CreateTable { external: true };
    let mut t = tree().with_use(ALICE);
    t.sch.grants.push(g(ALICE, "CREATE_TABLE"));
    let loc = Node { grants: vec![g(ALICE, "CREATE_EXTERNAL_TABLE")], ..node(K::ExternalLocation, "loc", "x") };
    assert!(ok(&alice(), &ext, &[&t.sch, &t.cat, &loc]));
}

#[test]
fn list_tables_admin_or_use_catalog_and_schema() {
    let mut t = tree();
    assert!(ok(&ms_admin(), &Action::ListTables, &t.s()));
    assert!(!ok(&alice(), &Action::ListTables, &t.s()));
    t.cat.grants.push(g(ALICE, "USE_CATALOG"));
    assert!(!ok(&alice(), &Action::ListTables, &t.s()));
    t.sch.grants.push(g(ALICE, "USE_SCHEMA"));
    assert!(ok(&alice(), &Action::ListTables, &t.s()));
    let mut t2 = tree();
    t2.cat.owner = ALICE.to_string();
    assert!(ok(&alice(), &Action::ListTables, &t2.s()));
}

#[test]
fn list_all_tables_metastore_admin_only() {
    let mut t = tree();
    assert!(ok(&ms_admin(), &Action::ListAllTables, &t.s()));
    t.cat.owner = ALICE.to_string();
    assert!(!ok(&alice(), &Action::ListAllTables, &t.s()));
    assert!(!ok(&account_admin(), &Action::ListAllTables, &t.s()));
}

#[test]
fn get_table_rules() {
    // Metastore admin: no privileges needed.
    let t = tree();
    assert!(ok(&ms_admin(), &Action::GetTable, &t.t()));
    // USE + SELECT on the table.
    let mut t1 = tree().with_use(ALICE);
    assert!(!ok(&alice(), &Action::GetTable, &t1.t()));
    t1.tbl.grants.push(g(ALICE, "SELECT"));
    assert!(ok(&alice(), &Action::GetTable, &t1.t()));
    // USE + table ownership.
    let mut t2 = tree().with_use("analysts");
    t2.tbl.owner = "analysts".to_string();
    assert!(ok(&alice(), &Action::GetTable, &t2.t()));
    // MODIFY is not SELECT.
    let mut t3 = tree().with_use(ALICE);
    t3.tbl.grants.push(g(ALICE, "MODIFY"));
    assert!(!ok(&alice(), &Action::GetTable, &t3.t()));
    // SELECT without USE_SCHEMA.
    let mut t4 = tree();
    t4.cat.grants.push(g(ALICE, "USE_CATALOG"));
    t4.tbl.grants.push(g(ALICE, "SELECT"));
    assert!(!ok(&alice(), &Action::GetTable, &t4.t()));
    // Views follow the same rule.
    let mut t5 = tree().with_use(ALICE);
    t5.tbl.kind = K::View;
    t5.tbl.grants.push(g(ALICE, "SELECT"));
    assert!(ok(&alice(), &Action::GetTable, &t5.t()));
}

#[test]
fn table_exists_admits_get_table_or_browse_on_catalog() {
    let t = tree();
    assert!(ok(&ms_admin(), &Action::TableExists, &t.t()));
    assert!(!ok(&alice(), &Action::TableExists, &t.t()));
    let mut t1 = tree();
    t1.cat.grants.push(g(ALICE, "BROWSE"));
    assert!(ok(&alice(), &Action::TableExists, &t1.t()));
    let mut t2 = tree().with_use(ALICE);
    t2.tbl.grants.push(g(ALICE, "SELECT"));
    assert!(ok(&alice(), &Action::TableExists, &t2.t()));
    // BROWSE on the schema is not a thing; USE alone is not enough.
    let t3 = tree().with_use(ALICE);
    assert!(!ok(&alice(), &Action::TableExists, &t3.t()));
}

#[test]
fn update_table_owner_needs_use_catalog_and_schema() {
    let mut t = tree();
    t.tbl.owner = ALICE.to_string();
    let d = decide(&alice(), &update_table(other_fields()), &t.t());
    assert!(!d.allowed);
    assert!(missing(&d).contains("USE_CATALOG on Catalog 'main'"), "{}", missing(&d));
    let mut t = t.with_use(ALICE);
    t.tbl.owner = ALICE.to_string();
    assert!(ok(&alice(), &update_table(other_fields()), &t.t()));
    assert!(ok(&alice(), &update_table(owner_only()), &t.t()));
    // A non-owner with ALL_PRIVILEGES may not.
    let mut t2 = tree().with_use(BOB);
    t2.tbl.grants.push(g(BOB, "ALL_PRIVILEGES"));
    assert!(!ok(&bob(), &update_table(other_fields()), &t2.t()));
}

#[test]
fn metastore_admin_may_change_only_owner_of_table_and_still_needs_use() {
    let t = tree();
    assert!(!ok(&ms_admin(), &update_table(owner_only()), &t.t()), "no bypass of USE_CATALOG/USE_SCHEMA");
    let t = tree().with_use(MS_ADMINS);
    assert!(ok(&ms_admin(), &update_table(owner_only()), &t.t()));
    assert!(!ok(&ms_admin(), &update_table(other_fields()), &t.t()));
    assert!(!ok(&ms_admin(), &update_table(shape(false, true, true)), &t.t()));
}

#[test]
fn table_rename_needs_create_table_even_for_admin() {
    // Owner and metastore admin, with USE, but no CREATE_TABLE on the schema.
    let admin_owner = user(ALICE, &[MS_ADMINS]);
    let mut t = tree().with_use(ALICE);
    t.tbl.owner = ALICE.to_string();
    let d = decide(&admin_owner, &update_table(rename()), &t.t());
    assert!(!d.allowed);
    assert!(missing(&d).contains("CREATE_TABLE on Schema 'main.sales'"), "{}", missing(&d));
    t.sch.grants.push(g(ALICE, "CREATE_TABLE"));
    assert!(ok(&admin_owner, &update_table(rename()), &t.t()));
    assert!(ok(&alice(), &update_table(rename()), &t.t()));
    // Legacy CREATE on the schema counts.
    let mut t2 = tree().with_use(ALICE);
    t2.tbl.owner = ALICE.to_string();
    t2.sch.grants.push(g(ALICE, "CREATE"));
    assert!(ok(&alice(), &update_table(rename()), &t2.t()));
    // A metastore admin who does not own the table may not rename it at all.
    let mut t3 = tree().with_use(MS_ADMINS);
    t3.sch.grants.push(g(MS_ADMINS, "CREATE_TABLE"));
    assert!(!ok(&ms_admin(), &update_table(rename()), &t3.t()));
}

#[test]
fn view_owner_change_needs_membership_of_new_owner() {
    let mut t = tree().with_use(ALICE);
    t.tbl.kind = K::View;
    t.tbl.owner = ALICE.to_string();
    let to = |o: &str| Action::UpdateTable { shape: owner_only(), new_view_owner: Some(o.to_string()) };
    assert!(ok(&alice(), &to("analysts"), &t.t()));
    assert!(ok(&alice(), &to("data-eng"), &t.t()), "transitive membership counts");
    assert!(ok(&alice(), &to(ALICE), &t.t()));
    let d = decide(&alice(), &to(BOB), &t.t());
    assert!(!d.allowed);
    assert!(missing(&d).contains(BOB), "{}", missing(&d));
    assert!(missing(&d).contains("membership of the new owner"), "{}", missing(&d));
    // Metastore admin changing only the owner of a view: also needs membership.
    let mut t2 = tree().with_use(MS_ADMINS);
    t2.tbl.kind = K::View;
    assert!(!ok(&ms_admin(), &to(BOB), &t2.t()));
    assert!(ok(&ms_admin(), &to("platform"), &t2.t()));
}

#[test]
fn delete_table_three_alternatives() {
    // 1. Owner of the catalog: nothing else needed.
    let mut t1 = tree();
    t1.cat.owner = "analysts".to_string();
    assert!(ok(&alice(), &Action::DeleteTable, &t1.t()));
    // 2. USE_CATALOG and owner of the schema.
    let mut t2 = tree();
    t2.sch.owner = ALICE.to_string();
    assert!(!ok(&alice(), &Action::DeleteTable, &t2.t()));
    t2.cat.grants.push(g(ALICE, "USE_CATALOG"));
    assert!(ok(&alice(), &Action::DeleteTable, &t2.t()));
    // 3. USE_CATALOG, USE_SCHEMA and owner of the table.
    let mut t3 = tree();
    t3.tbl.owner = ALICE.to_string();
    t3.cat.grants.push(g(ALICE, "USE_CATALOG"));
    assert!(!ok(&alice(), &Action::DeleteTable, &t3.t()));
    t3.sch.grants.push(g(ALICE, "USE_SCHEMA"));
    assert!(ok(&alice(), &Action::DeleteTable, &t3.t()));
    // Neither: ALL_PRIVILEGES everywhere is not ownership.
    let mut t4 = tree();
    t4.cat.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    t4.sch.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    t4.tbl.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    let d = decide(&alice(), &Action::DeleteTable, &t4.t());
    assert!(!d.allowed);
    let m = missing(&d);
    assert!(m.starts_with("either "), "{m}");
    assert!(m.contains("ownership of Catalog 'main'"), "{m}");
    assert!(m.contains("ownership of Schema 'main.sales'"), "{m}");
    assert!(m.contains("ownership of Table 'main.sales.orders'"), "{m}");
}

#[test]
fn delete_table_has_no_metastore_admin_bypass() {
    let t = tree().with_use(MS_ADMINS);
    assert!(!ok(&ms_admin(), &Action::DeleteTable, &t.t()));
    assert!(!ok(&account_admin(), &Action::DeleteTable, &t.t()));
}

// ---------------------------------------------------------------------------------------------
// Table summaries
// ---------------------------------------------------------------------------------------------

#[test]
fn list_table_summaries_needs_admin_or_catalog_use() {
    let mut t = tree();
    assert!(ok(&ms_admin(), &Action::ListTableSummaries, &t.c()));
    assert!(!ok(&alice(), &Action::ListTableSummaries, &t.c()));
    t.cat.grants.push(g("data-eng", "USAGE"));
    assert!(ok(&alice(), &Action::ListTableSummaries, &t.c()));
    let mut t2 = tree();
    t2.cat.owner = ALICE.to_string();
    assert!(ok(&alice(), &Action::ListTableSummaries, &t2.c()));
}

#[test]
fn summarize_table_needs_use_schema_and_select() {
    let t = tree();
    assert!(ok(&ms_admin(), &Action::SummarizeTable, &t.t()));
    assert!(!ok(&alice(), &Action::SummarizeTable, &t.t()));
    let mut t1 = tree();
    t1.sch.grants.push(g(ALICE, "USE_SCHEMA"));
    assert!(!ok(&alice(), &Action::SummarizeTable, &t1.t()));
    t1.tbl.grants.push(g(ALICE, "SELECT"));
    assert!(ok(&alice(), &Action::SummarizeTable, &t1.t()));
    // Ownership of the schema and of the table count.
    let mut t2 = tree();
    t2.sch.owner = ALICE.to_string();
    assert!(ok(&alice(), &Action::SummarizeTable, &t2.t()));
    let mut t3 = tree();
    t3.tbl.owner = ALICE.to_string();
    assert!(!ok(&alice(), &Action::SummarizeTable, &t3.t()));
    t3.sch.grants.push(g(ALICE, "USAGE"));
    assert!(ok(&alice(), &Action::SummarizeTable, &t3.t()));
    // SELECT alone is not enough.
    let mut t4 = tree();
    t4.tbl.grants.push(g(ALICE, "SELECT"));
    assert!(!ok(&alice(), &Action::SummarizeTable, &t4.t()));
}

// ---------------------------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------------------------

fn read_perms(filter: Option<&str>) -> Action {
    Action::ReadPermissions { principal_filter: filter.map(str::to_string) }
}

#[test]
fn permissions_read_owner_or_admin() {
    let mut t = tree();
    assert!(ok(&ms_admin(), &read_perms(None), &t.t()));
    assert!(ok(&ms_admin(), &read_perms(Some(BOB)), &t.t()));
    t.tbl.owner = "analysts".to_string();
    assert!(ok(&alice(), &read_perms(None), &t.t()));
    assert!(ok(&alice(), &read_perms(Some(BOB)), &t.t()));
    // On a catalog and a schema: their own owner.
    let mut t2 = tree();
    t2.sch.owner = ALICE.to_string();
    assert!(ok(&alice(), &read_perms(None), &t2.s()));
    assert!(!ok(&alice(), &read_perms(None), &t2.c()));
}

#[test]
fn permissions_read_own_principal_only() {
    let mut t = tree();
    t.cat.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    assert!(ok(&alice(), &read_perms(Some(ALICE)), &t.t()));
    assert!(!ok(&alice(), &read_perms(None), &t.t()));
    assert!(!ok(&alice(), &read_perms(Some(BOB)), &t.t()));
    assert!(!ok(&alice(), &read_perms(Some("analysts")), &t.t()), "a group of the caller does not match");
    assert!(!ok(&alice(), &read_perms(Some(ACCOUNT_USERS)), &t.t()));
    // Owner of the parent catalog is not the owner of the table.
    let mut t2 = tree();
    t2.cat.owner = ALICE.to_string();
    assert!(!ok(&alice(), &read_perms(None), &t2.t()));
    assert!(ok(&alice(), &read_perms(None), &t2.c()));
}

#[test]
fn permissions_change_owner_or_admin_only() {
    let mut t = tree();
    assert!(ok(&ms_admin(), &Action::ChangePermissions, &t.t()));
    assert!(ok(&ms_admin(), &Action::ChangePermissions, &t.c()));
    assert!(!ok(&alice(), &Action::ChangePermissions, &t.t()));
    // MANAGE, ALL_PRIVILEGES, and ownership of a parent do not count.
    t.tbl.grants.push(g(ALICE, "MANAGE"));
    t.tbl.grants.push(g(ALICE, "ALL_PRIVILEGES"));
    t.cat.owner = ALICE.to_string();
    t.sch.owner = ALICE.to_string();
    let d = decide(&alice(), &Action::ChangePermissions, &t.t());
    assert!(!d.allowed);
    assert!(missing(&d).contains("ownership of Table 'main.sales.orders'"), "{}", missing(&d));
    assert!(!ok(&account_admin(), &Action::ChangePermissions, &t.t()));
    t.tbl.owner = "data-eng".to_string();
    assert!(ok(&alice(), &Action::ChangePermissions, &t.t()));
}

#[test]
fn permissions_on_metastore_securable_are_for_its_admin() {
    let t = tree();
    assert!(ok(&ms_admin(), &Action::ChangePermissions, &t.m()));
    assert!(ok(&ms_admin(), &read_perms(None), &t.m()));
    assert!(!ok(&alice(), &Action::ChangePermissions, &t.m()));
    assert!(!ok(&alice(), &read_perms(None), &t.m()));
    assert!(ok(&alice(), &read_perms(Some(ALICE)), &t.m()));
    assert!(!ok(&account_admin(), &Action::ChangePermissions, &t.m()));
}

#[test]
fn permissions_on_storage_credential_and_location_are_for_owner_or_admin() {
    let cred = node(K::StorageCredential, "cred", ALICE);
    assert!(ok(&alice(), &Action::ChangePermissions, &[&cred]));
    assert!(!ok(&bob(), &Action::ChangePermissions, &[&cred]));
    assert!(ok(&ms_admin(), &Action::ChangePermissions, &[&cred]));
}

// ---------------------------------------------------------------------------------------------
// HoldsPrivilege and "some privilege"
// ---------------------------------------------------------------------------------------------

#[test]
fn holds_privilege_action_evaluates_on_the_target_node() {
    let mut t = tree();
    t.sch.grants.push(g(ALICE, "SELECT"));
    // Target schema: SELECT there (for children) is held on the schema itself.
    assert!(holds_priv(&alice(), "SELECT", &t.s()));
    // Target table: inherited.
    assert!(holds_priv(&alice(), "SELECT", &t.t()));
    // Target catalog: not inherited upward.
    assert!(!holds_priv(&alice(), "SELECT", &t.c()));
    let d = decide(&alice(), &Action::HoldsPrivilege("SELECT"), &t.c());
    assert!(missing(&d).contains("SELECT on Catalog 'main'"), "{}", missing(&d));
    // No admin shortcut in holds.
    assert!(!holds_priv(&ms_admin(), "SELECT", &t.t()));
    assert!(!holds_priv(&ms_admin(), "CREATE_CATALOG", &t.m()));
    // Empty chain.
    assert!(!holds_priv(&alice(), "SELECT", &[]));
}

#[test]
fn some_privilege_needs_a_direct_grant() {
    let mut cred = node(K::StorageCredential, "cred", "x");
    let (sat, reasons) = eval(&alice(), &Req::SomePrivilege(K::StorageCredential), &[&cred]);
    assert!(!sat);
    assert_eq!(reasons, vec![Reason::Missing { requirement: "any privilege on Storage credential 'cred'".into() }]);
    cred.grants.push(g("analysts", "READ_FILES"));
    let (sat, reasons) = eval(&alice(), &Req::SomePrivilege(K::StorageCredential), &[&cred]);
    assert!(sat);
    assert!(
        matches!(&reasons[0], Reason::Grant { via, securable, .. } if via == "group 'analysts'" && securable == "cred")
    );
}

// ---------------------------------------------------------------------------------------------
// Reasons and refusals
// ---------------------------------------------------------------------------------------------

#[test]
fn denied_reason_names_missing_privilege_and_securable() {
    let mut t = tree();
    t.cat.grants.push(g(BOB, "USE_CATALOG"));
    let d = decide(&bob(), &Action::GetTable, &t.t());
    assert!(!d.allowed);
    assert!(d.reasons.iter().all(|r| matches!(r, Reason::Missing { .. })), "{:?}", d.reasons);
    let m = missing(&d);
    assert!(m.contains("USE_SCHEMA on Schema 'main.sales'"), "{m}");
    assert!(m.contains("SELECT on Table 'main.sales.orders'"), "{m}");
    assert!(m.contains("metastore admin"), "{m}");
    assert!(!m.contains("USE_CATALOG"), "what is held is not listed as missing: {m}");
    // Single missing requirement: plain, no "either".
    let d = decide(&bob(), &Action::DeleteCatalog, &t.c());
    assert_eq!(d.reasons, vec![Reason::Missing { requirement: "ownership of Catalog 'main'".into() }]);
    assert_eq!(d.reasons[0].sentence(), "lacks ownership of Catalog 'main'");
}

#[test]
fn allowed_reason_names_grant_securable_and_group() {
    let mut t = tree();
    t.cat.grants.push(g("analysts", "USE_CATALOG"));
    t.sch.grants.push(g("data-eng", "USE_SCHEMA"));
    t.cat.grants.push(g("analysts", "SELECT"));
    let d = decide(&alice(), &Action::GetTable, &t.t());
    assert!(d.allowed);
    assert!(d.reasons.contains(&Reason::Grant {
        privilege: "SELECT".into(),
        granted: "SELECT".into(),
        securable_type: K::Catalog,
        securable: "main".into(),
        via: "group 'analysts'".into(),
    }));
    assert!(d.reasons.contains(&Reason::Grant {
        privilege: "USE_SCHEMA".into(),
        granted: "USE_SCHEMA".into(),
        securable_type: K::Schema,
        securable: "main.sales".into(),
        via: "group 'data-eng'".into(),
    }));
    let texts: Vec<String> = d.reasons.iter().map(Reason::sentence).collect();
    assert!(texts.contains(&"holds SELECT on Catalog 'main' via group 'analysts'".to_string()), "{texts:?}");
    // A direct grant has no "via".
    let mut t2 = tree();
    t2.cat.grants.push(g(ALICE, "USE_CATALOG"));
    let d = decide(&alice(), &Action::GetCatalog, &t2.c());
    assert_eq!(d.reasons[0].sentence(), "holds USE_CATALOG on Catalog 'main'");
}

#[test]
fn allowed_owner_and_role_reasons_name_securable_and_group() {
    let mut t = tree();
    t.cat.owner = "data-eng".to_string();
    let d = decide(&alice(), &Action::DeleteCatalog, &t.c());
    assert_eq!(
        d.reasons,
        vec![Reason::Owner { securable_type: K::Catalog, securable: "main".into(), via: "group 'data-eng'".into() }]
    );
    assert_eq!(d.reasons[0].sentence(), "owns Catalog 'main' via group 'data-eng'");
    let d = decide(&ms_admin(), &Action::ListAllCatalogs, &[]);
    assert_eq!(d.reasons, vec![Reason::MetastoreAdmin { via: MS_ADMINS.into() }]);
    assert!(d.reasons[0].sentence().contains(MS_ADMINS));
    let d = decide(&account_admin(), &Action::CreateMetastore, &[]);
    assert_eq!(d.reasons, vec![Reason::AccountAdmin]);
    let d = decide(&workspace_admin(), &Action::UpdateAssignment { changes_metastore: false }, &[]);
    assert_eq!(d.reasons, vec![Reason::WorkspaceAdmin]);
    // The metastore admin changing only the owner: the role and the condition.
    let d = decide(&ms_admin(), &Action::UpdateCatalog(owner_only()), &tree().c());
    assert!(d.reasons.contains(&Reason::MetastoreAdmin { via: MS_ADMINS.into() }));
    assert!(d.reasons.iter().any(|r| matches!(r, Reason::Condition { holds } if holds.contains("owner"))));
}

#[test]
fn denied_message_names_caller_and_what_is_missing() {
    let t = tree();
    let err = require(&bob(), &Action::DeleteCatalog, &t.c()).unwrap_err();
    assert_eq!(err.caller, "User bob@example.com");
    assert_eq!(err.message(), "User bob@example.com lacks ownership of Catalog 'main'.");
    assert!(!err.decision.allowed);
    let mut t2 = tree();
    t2.cat.owner = BOB.to_string();
    assert!(require(&bob(), &Action::DeleteCatalog, &t2.c()).is_ok());
    let empty = Denied { caller: "User x".into(), decision: Decision { allowed: false, reasons: vec![] } };
    assert_eq!(empty.message(), "User x may not do this.");
}

#[test]
fn require_and_visible_agree_with_decide() {
    let mut t = tree().with_use("analysts");
    t.tbl.grants.push(g("data-eng", "SELECT"));
    let cases: Vec<(Caller, Action)> = vec![
        (alice(), Action::GetTable),
        (bob(), Action::GetTable),
        (ms_admin(), Action::GetTable),
        (alice(), Action::DeleteTable),
        (alice(), Action::SummarizeTable),
        (bob(), Action::TableExists),
    ];
    for (c, a) in cases {
        let d = decide(&c, &a, &t.t()).allowed;
        assert_eq!(require(&c, &a, &t.t()).is_ok(), d, "{} {a:?}", c.name);
        assert_eq!(visible(&c, &a, &t.t()), d, "{} {a:?}", c.name);
    }
}

#[test]
fn condition_reason_for_unmet_request_condition() {
    let (sat, reasons) = eval(&alice(), &Req::Condition(false, "only `owner` changes"), &[]);
    assert!(!sat);
    assert_eq!(reasons, vec![Reason::Missing { requirement: "the condition that only `owner` changes".into() }]);
    let (sat, reasons) = eval(&alice(), &Req::OwnerOfTarget, &[]);
    assert!(!sat);
    assert!(matches!(&reasons[0], Reason::Missing { requirement } if requirement.contains("ownership")));
}

// ---------------------------------------------------------------------------------------------
// explain::parse_action and render
// ---------------------------------------------------------------------------------------------

#[test]
fn parse_action_operation_names() {
    assert!(matches!(parse_action("getMetastore", K::Metastore), Ok(Action::ReadMetastore)));
    assert!(matches!(parse_action("updateMetastore", K::Metastore), Ok(Action::UpdateMetastore)));
    assert!(matches!(parse_action("deleteMetastore", K::Metastore), Ok(Action::DeleteMetastore)));
    assert!(matches!(parse_action("createCatalog", K::Metastore), Ok(Action::CreateCatalog)));
    assert!(matches!(parse_action("getCatalog", K::Catalog), Ok(Action::GetCatalog)));
    assert!(matches!(parse_action("deleteCatalog", K::Catalog), Ok(Action::DeleteCatalog)));
    assert!(matches!(parse_action("createSchema", K::Catalog), Ok(Action::CreateSchema)));
    assert!(matches!(parse_action("listSchemas", K::Catalog), Ok(Action::ListSchemas)));
    assert!(matches!(parse_action("getSchema", K::Schema), Ok(Action::GetSchema)));
    assert!(matches!(parse_action("deleteSchema", K::Schema), Ok(Action::DeleteSchema)));
    assert!(matches!(parse_action("createTable", K::Schema), Ok(Action::CreateTable { external: false })));
    assert!(matches!(parse_action("listTables", K::Schema), Ok(Action::ListTables)));
    assert!(matches!(parse_action("getTable", K::Table), Ok(Action::GetTable)));
    assert!(matches!(parse_action("deleteTable", K::Table), Ok(Action::DeleteTable)));
    assert!(matches!(parse_action("getPermissions", K::Table), Ok(Action::ReadPermissions { principal_filter: None })));
    assert!(matches!(parse_action("updatePermissions", K::Table), Ok(Action::ChangePermissions)));
    // Every listed name parses for its kind.
    for (name, kind) in super::explain::ACTIONS {
        assert!(parse_action(name, *kind).is_ok(), "{name}");
    }
}

#[test]
fn parse_action_is_case_insensitive() {
    assert!(matches!(parse_action("GETCATALOG", K::Catalog), Ok(Action::GetCatalog)));
    assert!(matches!(parse_action("gettable", K::Table), Ok(Action::GetTable)));
}

#[test]
fn parse_action_update_shapes() {
    let upd = |r: Result<Action, String>| match r {
        Ok(Action::UpdateCatalog(s)) | Ok(Action::UpdateSchema(s)) => s,
        Ok(Action::UpdateTable { shape, new_view_owner: None }) => shape,
        other => panic!("{other:?}"),
    };
    assert_eq!(upd(parse_action("updateCatalog", K::Catalog)), other_fields());
    assert_eq!(upd(parse_action("updateCatalogOwner", K::Catalog)), owner_only());
    assert_eq!(upd(parse_action("renameCatalog", K::Catalog)), rename());
    assert_eq!(upd(parse_action("updateSchema", K::Schema)), other_fields());
    assert_eq!(upd(parse_action("updateSchemaOwner", K::Schema)), owner_only());
    assert_eq!(upd(parse_action("renameSchema", K::Schema)), rename());
    assert_eq!(upd(parse_action("updateTable", K::Table)), other_fields());
    assert_eq!(upd(parse_action("updateTableOwner", K::Table)), owner_only());
    assert_eq!(upd(parse_action("renameTable", K::Table)), rename());
    assert!(matches!(parse_action("updateCatalog", K::Catalog), Ok(Action::UpdateCatalog(_))));
    assert!(matches!(parse_action("renameSchema", K::Schema), Ok(Action::UpdateSchema(_))));
}

#[test]
fn parse_action_privilege_names() {
    assert!(matches!(parse_action("SELECT", K::Table), Ok(Action::HoldsPrivilege("SELECT"))));
    assert!(matches!(parse_action("select", K::View), Ok(Action::HoldsPrivilege("SELECT"))));
    assert!(matches!(parse_action("use catalog", K::Catalog), Ok(Action::HoldsPrivilege("USE_CATALOG"))));
    assert!(matches!(parse_action("USE_SCHEMA", K::Schema), Ok(Action::HoldsPrivilege("USE_SCHEMA"))));
    assert!(matches!(parse_action("SELECT", K::Schema), Ok(Action::HoldsPrivilege("SELECT"))));
    assert!(matches!(parse_action("create catalog", K::Metastore), Ok(Action::HoldsPrivilege("CREATE_CATALOG"))));
    assert!(matches!(parse_action("USAGE", K::Catalog), Ok(Action::HoldsPrivilege("USAGE"))));
}

#[test]
fn parse_action_wrong_kind_is_err() {
    let e = parse_action("getTable", K::Catalog).unwrap_err();
    assert!(e.contains("getTable") && e.contains("table") && e.contains("catalog"), "{e}");
    assert!(parse_action("createCatalog", K::Catalog).is_err());
    assert!(parse_action("createSchema", K::Schema).is_err());
    assert!(parse_action("getCatalog", K::Metastore).is_err());
    assert!(parse_action("renameTable", K::Schema).is_err());
    assert!(parse_action("getMetastore", K::Table).is_err());
    // Privilege names not valid on the kind.
    let e = parse_action("MODIFY", K::View).unwrap_err();
    assert!(e.contains("MODIFY") && e.contains("view"), "{e}");
    assert!(parse_action("SELECT", K::StorageCredential).is_err());
    assert!(parse_action("CREATE_CATALOG", K::Schema).is_err());
    assert!(parse_action("USAGE", K::Table).is_err());
    assert!(parse_action("ALL_PRIVILEGES", K::Metastore).is_err());
}

#[test]
fn parse_action_unknown_name_is_err() {
    let e = parse_action("frobnicate", K::Table).unwrap_err();
    assert!(e.contains("frobnicate") && e.contains("getTable"), "{e}");
    assert!(parse_action("SELEKT", K::Table).is_err());
    assert!(parse_action("CREATE_MOUNT", K::Catalog).is_err());
}

#[test]
fn parse_action_permissions_and_table_actions_by_kind() {
    // The permissions actions apply to every kind.
    for kind in [K::Metastore, K::Catalog, K::Schema, K::Table, K::View, K::StorageCredential] {
        assert!(matches!(parse_action("getPermissions", kind), Ok(Action::ReadPermissions { .. })), "{kind:?}");
        assert!(matches!(parse_action("updatePermissions", kind), Ok(Action::ChangePermissions)), "{kind:?}");
    }
    // Table actions accept views.
    assert!(matches!(parse_action("getTable", K::View), Ok(Action::GetTable)));
    assert!(matches!(parse_action("deleteTable", K::View), Ok(Action::DeleteTable)));
}

#[test]
fn render_explains_allowed_and_denied() {
    let mut t = tree();
    t.cat.grants.push(g("analysts", "USE_CATALOG"));
    let e = explain_decision(&alice(), "getCatalog", &Action::GetCatalog, &t.c());
    assert!(e.allowed);
    assert_eq!(e.reasons.len(), 1);
    assert_eq!(e.reasons[0].text, "holds USE_CATALOG on Catalog 'main' via group 'analysts'");
    assert_eq!(
        e.explanation,
        "ALLOWED: alice@example.com may getCatalog on Catalog 'main' because it holds USE_CATALOG on Catalog \
         'main' via group 'analysts'."
    );
    let e = explain_decision(&bob(), "getCatalog", &Action::GetCatalog, &t.c());
    assert!(!e.allowed);
    // One missing link, named without "either ... or": the grant, not the admin role.
    assert_eq!(
        e.explanation,
        "DENIED: bob@example.com may not getCatalog on Catalog 'main' because it lacks USE_CATALOG on Catalog 'main'."
    );
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["allowed"], false);
    assert_eq!(json["securable_type"], serde_json::to_value(K::Catalog).unwrap());
    assert_eq!(json["reasons"][0]["kind"], "missing");
    assert_eq!(json["reasons"][0]["securable"], "main");
    assert_eq!(json["reasons"][0]["privilege"], "USE_CATALOG");
    assert!(json["reasons"][0]["text"].as_str().unwrap().starts_with("lacks "));
    // The requirement tree: any of (metastore admin, USE_CATALOG through a grant or ownership).
    let r = &json["requirement"];
    assert_eq!(r["kind"], "any_of");
    assert_eq!(r["satisfied"], false);
    assert_eq!(r["children"][0]["text"], "the metastore admin role");
    assert_eq!(r["children"][1]["kind"], "privilege");
    let ways: Vec<&str> =
        r["children"][1]["children"].as_array().unwrap().iter().map(|c| c["text"].as_str().unwrap()).collect();
    assert_eq!(ways, ["a grant of USE_CATALOG on Catalog 'main'", "ownership of Catalog 'main'"]);
}

#[test]
fn privilege_questions_say_held_and_usable() {
    // SELECT on the schema, no USE_CATALOG: held, not usable; the missing link is USE_CATALOG.
    let mut t = tree();
    t.sch.grants.push(g("analysts", "SELECT"));
    t.sch.grants.push(g("analysts", "USE_SCHEMA"));
    let e = explain_decision(&alice(), "SELECT", &Action::HoldsPrivilege("SELECT"), &t.t());
    assert!(!e.allowed);
    assert_eq!((e.held, e.usable), (Some(true), Some(false)));
    assert!(e.explanation.starts_with("DENIED: alice@example.com holds SELECT on Table 'main.sales.orders' but cannot use it, because it lacks USE_CATALOG on Catalog 'main'."), "{}", e.explanation);
    assert_eq!(e.reasons[0].securable.as_deref(), Some("main"));
    t.cat.grants.push(g("analysts", "USE_CATALOG"));
    let e = explain_decision(&alice(), "SELECT", &Action::HoldsPrivilege("SELECT"), &t.t());
    assert!(e.allowed);
    assert_eq!((e.held, e.usable), (Some(true), Some(true)));
    // Not held at all: bob.
    let e = explain_decision(&bob(), "SELECT", &Action::HoldsPrivilege("SELECT"), &t.t());
    assert_eq!((e.allowed, e.held), (false, Some(false)));
    assert!(e.explanation.starts_with("DENIED: bob@example.com does not hold SELECT"), "{}", e.explanation);
}

// ---------------------------------------------------------------------------------------------
// domain::privilege
// ---------------------------------------------------------------------------------------------

#[test]
fn normalize_accepts_spaces_and_any_case() {
    assert_eq!(privilege::normalize("select"), Some("SELECT"));
    assert_eq!(privilege::normalize("Use Schema"), Some("USE_SCHEMA"));
    assert_eq!(privilege::normalize("  all   privileges "), Some("ALL_PRIVILEGES"));
    assert_eq!(privilege::normalize("EXTERNAL_USE_LOCATION"), Some("EXTERNAL_USE_LOCATION"));
    assert_eq!(privilege::normalize("CREATE_MOUNT"), None, "not in the SDK enum");
    assert_eq!(privilege::normalize("READ_METADATA"), Some("READ_METADATA"));
    assert_eq!(privilege::normalize(""), None);
    assert_eq!(privilege::normalize("USE-CATALOG"), None);
}

#[test]
fn valid_on_matches_the_table() {
    use std::collections::BTreeSet;
    let set = |v: Vec<&'static str>| v.into_iter().collect::<BTreeSet<_>>();
    // The expected sets are spelled here again, as words, not as the table's rows.
    let want = |v: &'static str| v.split_whitespace().collect::<BTreeSet<_>>();
    assert_eq!(
        set(privilege::valid_on(K::Metastore)),
        want(
            "CREATE_CATALOG CREATE_EXTERNAL_LOCATION CREATE_STORAGE_CREDENTIAL CREATE_SHARE \
             CREATE_RECIPIENT CREATE_PROVIDER USE_SHARE USE_RECIPIENT USE_PROVIDER \
             SET_SHARE_PERMISSION CREATE_CONNECTION CREATE_CLEAN_ROOM \
             CREATE_SERVICE_CREDENTIAL USE_MARKETPLACE_ASSETS MANAGE_ALLOWLIST"
        )
    );
    assert_eq!(
        set(privilege::valid_on(K::Catalog)),
        want(
            "ALL_PRIVILEGES USE_CATALOG CREATE_SCHEMA BROWSE APPLY_TAG MANAGE USE_SCHEMA \
             CREATE_TABLE CREATE_FUNCTION CREATE_VOLUME CREATE_MODEL CREATE_MATERIALIZED_VIEW \
             EXTERNAL_USE_SCHEMA SELECT MODIFY REFRESH EXECUTE READ_VOLUME WRITE_VOLUME USAGE \
             CREATE"
        )
    );
    assert_eq!(
        set(privilege::valid_on(K::Schema)),
        want(
            "ALL_PRIVILEGES USE_SCHEMA CREATE_TABLE CREATE_FUNCTION CREATE_VOLUME \
             CREATE_MODEL CREATE_MATERIALIZED_VIEW EXTERNAL_USE_SCHEMA APPLY_TAG MANAGE \
             SELECT MODIFY REFRESH EXECUTE READ_VOLUME WRITE_VOLUME USAGE CREATE"
        )
    );
    assert_eq!(set(privilege::valid_on(K::Table)), want("ALL_PRIVILEGES SELECT MODIFY APPLY_TAG MANAGE"));
    assert_eq!(set(privilege::valid_on(K::View)), want("ALL_PRIVILEGES SELECT APPLY_TAG MANAGE"));
    assert_eq!(set(privilege::valid_on(K::Function)), want("ALL_PRIVILEGES EXECUTE MANAGE"));
    assert_eq!(
        set(privilege::valid_on(K::StorageCredential)),
        want(
            "ALL_PRIVILEGES CREATE_EXTERNAL_LOCATION CREATE_EXTERNAL_TABLE READ_FILES \
             WRITE_FILES MANAGE CREATE_TABLE"
        )
    );
    assert_eq!(
        set(privilege::valid_on(K::ExternalLocation)),
        want(
            "ALL_PRIVILEGES CREATE_EXTERNAL_TABLE CREATE_EXTERNAL_VOLUME \
             CREATE_MANAGED_STORAGE READ_FILES WRITE_FILES BROWSE EXTERNAL_USE_LOCATION \
             MANAGE CREATE_TABLE"
        )
    );
    assert_eq!(set(privilege::valid_on(K::Share)), want("SELECT"));
    // Every valid name is a known name.
    for kind in [
        K::Metastore,
        K::Catalog,
        K::Schema,
        K::Table,
        K::View,
        K::Function,
        K::StorageCredential,
        K::ExternalLocation,
        K::Share,
    ] {
        for p in privilege::valid_on(kind) {
            assert_eq!(privilege::normalize(p), Some(p), "{p} on {kind:?}");
        }
    }
}

#[test]
fn is_valid_on_examples() {
    assert!(privilege::is_valid_on("SELECT", K::Schema), "SELECT on a schema is accepted");
    assert!(!privilege::is_valid_on("SELECT", K::StorageCredential));
    assert!(!privilege::is_valid_on("CREATE_CATALOG", K::Schema));
    assert!(!privilege::is_valid_on("MODIFY", K::View));
    assert!(!privilege::is_valid_on("USAGE", K::Table));
    assert!(!privilege::is_valid_on("CREATE", K::Table));
    assert!(!privilege::is_valid_on("USAGE", K::Metastore));
    assert!(!privilege::is_valid_on("ALL_PRIVILEGES", K::Metastore));
    assert!(!privilege::is_valid_on("ALL_PRIVILEGES", K::Share));
    assert!(privilege::is_valid_on("USAGE", K::Catalog) && privilege::is_valid_on("CREATE", K::Schema));
    assert!(privilege::is_valid_on("CREATE_TABLE", K::ExternalLocation));
}

#[test]
fn canon_maps_legacy_aliases() {
    assert_eq!(privilege::canon("USAGE", K::Catalog), &["USE_CATALOG"]);
    assert_eq!(privilege::canon("USAGE", K::Schema), &["USE_SCHEMA"]);
    assert_eq!(privilege::canon("CREATE", K::Catalog), &["CREATE_SCHEMA"]);
    assert_eq!(privilege::canon("CREATE", K::Schema), &["CREATE_TABLE", "CREATE_FUNCTION"]);
    assert_eq!(privilege::canon("CREATE_TABLE", K::StorageCredential), &["CREATE_EXTERNAL_TABLE"]);
    assert_eq!(privilege::canon("CREATE_TABLE", K::ExternalLocation), &["CREATE_EXTERNAL_TABLE"]);
    assert_eq!(privilege::canon("CREATE_TABLE", K::Schema), &["CREATE_TABLE"]);
    assert_eq!(privilege::canon("SELECT", K::Catalog), &["SELECT"]);
}

#[test]
fn conveys_counts_all_privileges_and_aliases() {
    assert!(privilege::conveys("ALL_PRIVILEGES", K::Catalog, "SELECT"));
    assert!(privilege::conveys("ALL_PRIVILEGES", K::Catalog, "USE_CATALOG"));
    assert!(privilege::conveys("ALL_PRIVILEGES", K::Schema, "CREATE_TABLE"));
    for p in privilege::NOT_IN_ALL {
        assert!(!privilege::conveys("ALL_PRIVILEGES", K::Catalog, p), "{p}");
    }
    assert!(privilege::conveys("MANAGE", K::Table, "MANAGE"));
    assert!(privilege::conveys("USAGE", K::Catalog, "USE_CATALOG"));
    assert!(!privilege::conveys("USAGE", K::Catalog, "USE_SCHEMA"));
    assert!(!privilege::conveys("USAGE", K::Schema, "USE_CATALOG"));
    assert!(!privilege::conveys("SELECT", K::Catalog, "USE_CATALOG"));
    assert!(!privilege::conveys("USE_CATALOG", K::Catalog, "USE_SCHEMA"));
    assert!(!privilege::conveys("MODIFY", K::Table, "SELECT"));
    assert!(privilege::conveys("CREATE_TABLE", K::ExternalLocation, "CREATE_EXTERNAL_TABLE"));
    assert!(!privilege::conveys("CREATE_TABLE", K::ExternalLocation, "CREATE_TABLE"));
}

#[test]
fn covered_by_all_excludes_not_in_all() {
    let cat = privilege::covered_by_all(K::Catalog);
    for p in ["USE_CATALOG", "CREATE_SCHEMA", "SELECT", "USE_SCHEMA", "USAGE", "CREATE", "ALL_PRIVILEGES"] {
        assert!(cat.contains(&p), "{p}");
    }
    assert!(!cat.contains(&"MANAGE"));
    assert!(!cat.contains(&"EXTERNAL_USE_SCHEMA"));
    let loc = privilege::covered_by_all(K::ExternalLocation);
    assert!(!loc.contains(&"EXTERNAL_USE_LOCATION") && !loc.contains(&"MANAGE"));
    assert!(loc.contains(&"READ_FILES") && loc.contains(&"CREATE_TABLE"));
    assert_eq!(privilege::covered_by_all(K::View), vec!["ALL_PRIVILEGES", "SELECT", "APPLY_TAG"]);
}

// ---------------------------------------------------------------------------------------------
// Storage credentials, external locations, listFiles
// ---------------------------------------------------------------------------------------------

#[test]
fn create_storage_credential_account_admin_or_privilege_not_metastore_admin() {
    let t = tree();
    assert!(ok(&account_admin(), &Action::CreateStorageCredential, &t.m()));
    assert!(!ok(&ms_admin(), &Action::CreateStorageCredential, &t.m()));
    assert!(!ok(&alice(), &Action::CreateStorageCredential, &t.m()));
    let mut t = tree();
    t.ms.grants.push(g("analysts", "CREATE_STORAGE_CREDENTIAL"));
    assert!(ok(&alice(), &Action::CreateStorageCredential, &t.m()));
}

#[test]
fn get_storage_credential_admins_owner_or_some_privilege() {
    let mut cred = node(K::StorageCredential, "cred", "x");
    for c in [ms_admin(), account_admin()] {
        assert!(ok(&c, &Action::GetStorageCredential, &[&cred]));
    }
    assert!(!ok(&alice(), &Action::GetStorageCredential, &[&cred]));
    cred.grants.push(g(ALICE, "WRITE_FILES"));
    assert!(ok(&alice(), &Action::GetStorageCredential, &[&cred]));
    let owned = node(K::StorageCredential, "cred", "analysts");
    assert!(ok(&alice(), &Action::GetStorageCredential, &[&owned]));
    assert!(ok(&account_admin(), &Action::ListAllStorageCredentials, &[]));
    assert!(!ok(&alice(), &Action::ListAllStorageCredentials, &[]));
}

#[test]
fn update_storage_credential_owner_change_vs_other_fields() {
    let cred = node(K::StorageCredential, "cred", ALICE);
    let owner_only = Action::UpdateStorageCredential(UpdateShape { owner: true, ..Default::default() });
    let other = Action::UpdateStorageCredential(UpdateShape { other: true, ..Default::default() });
    let both = Action::UpdateStorageCredential(UpdateShape { owner: true, other: true, rename: false });
    for c in [alice(), ms_admin(), account_admin()] {
        assert!(ok(&c, &owner_only, &[&cred]), "{}", c.name);
    }
    assert!(!ok(&bob(), &owner_only, &[&cred]));
    assert!(!ok(&alice(), &other, &[&cred]));
    assert!(!ok(&ms_admin(), &other, &[&cred]));
    assert!(ok(&account_admin(), &other, &[&cred]));
    assert!(!ok(&alice(), &both, &[&cred]));
    assert!(ok(&account_admin(), &both, &[&cred]));
    assert!(ok(&alice(), &Action::DeleteStorageCredential, &[&cred]));
    assert!(ok(&account_admin(), &Action::DeleteStorageCredential, &[&cred]));
    assert!(!ok(&ms_admin(), &Action::DeleteStorageCredential, &[&cred]));
}

#[test]
fn external_location_rules() {
    let mut t = tree();
    assert!(ok(&ms_admin(), &Action::CreateExternalLocation, &t.m()));
    assert!(!ok(&alice(), &Action::CreateExternalLocation, &t.m()));
    t.ms.grants.push(g(ALICE, "CREATE_EXTERNAL_LOCATION"));
    // The privilege is needed on the credential too (SDK docstring); owning it counts.
    let mut cred = node(K::StorageCredential, "cred", "someone");
    assert!(!ok(&alice(), &Action::CreateExternalLocation, &[&t.ms, &cred]));
    assert!(!ok(&alice(), &Action::CreateExternalLocation, &t.m()));
    cred.grants.push(g(ALICE, "CREATE_EXTERNAL_LOCATION"));
    assert!(ok(&alice(), &Action::CreateExternalLocation, &[&t.ms, &cred]));
    assert!(ok(&alice(), &Action::CreateExternalLocation, &[&t.ms, &node(K::StorageCredential, "own", ALICE)]));
    assert!(ok(&ms_admin(), &Action::CreateExternalLocation, &[&t.ms, &node(K::StorageCredential, "c", "x")]));
    let loc = node(K::ExternalLocation, "loc", ALICE);
    let comment = Action::UpdateExternalLocation(UpdateShape { other: true, ..Default::default() });
    let owner = Action::UpdateExternalLocation(UpdateShape { owner: true, ..Default::default() });
    assert!(ok(&alice(), &comment, &[&loc]));
    assert!(!ok(&ms_admin(), &comment, &[&loc]));
    assert!(ok(&ms_admin(), &owner, &[&loc]));
    assert!(ok(&alice(), &Action::DeleteExternalLocation, &[&loc]));
    assert!(!ok(&ms_admin(), &Action::DeleteExternalLocation, &[&loc]));
    assert!(ok(&ms_admin(), &Action::GetExternalLocation, &[&loc]));
    assert!(!ok(&bob(), &Action::GetExternalLocation, &[&loc]));
}

#[test]
fn list_files_admin_or_read_files_on_location_or_credential() {
    let mut loc = node(K::ExternalLocation, "loc", "x");
    let mut cred = node(K::StorageCredential, "cred", "x");
    assert!(ok(&ms_admin(), &Action::ListFiles, &[]));
    assert!(!ok(&alice(), &Action::ListFiles, &[&loc, &cred]));
    loc.grants.push(g(ALICE, "WRITE_FILES"));
    assert!(!ok(&alice(), &Action::ListFiles, &[&loc]));
    loc.grants.push(g("analysts", "ALL_PRIVILEGES"));
    assert!(ok(&alice(), &Action::ListFiles, &[&loc]));
    cred.grants.push(g(ALICE, "READ_FILES"));
    assert!(ok(&alice(), &Action::ListFiles, &[&cred]));
}

#[test]
fn a_location_after_a_schema_chain_conveys_nothing_to_the_schema() {
    // Owning the external location must not pass USE_SCHEMA / CREATE_TABLE down to the schema.
    let t = tree();
    let loc = node(K::ExternalLocation, "loc", ALICE);
    let ext = Action::CreateTable { external: true };
    assert!(!ok(&alice(), &ext, &[&t.sch, &t.cat, &loc]));
    let cred = Node { grants: vec![g(ALICE, "CREATE_TABLE")], ..node(K::StorageCredential, "cred", "x") };
    let mut t = tree().with_use(ALICE);
    t.sch.grants.push(g(ALICE, "CREATE_TABLE"));
    // Legacy CREATE_TABLE on a credential is CREATE_EXTERNAL_TABLE.
    assert!(ok(&alice(), &ext, &[&t.sch, &t.cat, &cred]));
    assert!(ok(&alice(), &Action::RelocateExternalTable, &[&t.tbl, &t.sch, &t.cat, &cred]));
    assert!(!ok(&alice(), &Action::RelocateExternalTable, &t.t()));
}

#[test]
fn explain_knows_storage_and_sharing_actions_and_share_permission_rules() {
    use crate::authz::explain::parse_action;
    use crate::domain::securable::SecurableKind;
    assert!(matches!(parse_action("getShare", SecurableKind::Share), Ok(Action::GetShare)));
    assert!(matches!(parse_action("getPermissions", SecurableKind::Share), Ok(Action::ReadSharePermissions)));
    assert!(matches!(parse_action("updatePermissions", SecurableKind::Share), Ok(Action::ChangeSharePermissions)));
    assert!(matches!(
        parse_action("getPermissions", SecurableKind::Catalog),
        Ok(Action::ReadPermissions { principal_filter: None })
    ));
    assert!(matches!(
        parse_action("deleteStorageCredential", SecurableKind::StorageCredential),
        Ok(Action::DeleteStorageCredential)
    ));
    assert!(matches!(parse_action("createShare", SecurableKind::Metastore), Ok(Action::CreateShare)));
    assert!(parse_action("getShare", SecurableKind::Catalog).is_err(), "getShare is asked about a share");
}

// ---------------------------------------------------------------------------------------------
// Volumes and functions
// ---------------------------------------------------------------------------------------------

fn volume() -> Node {
    node(K::Volume, "main.sales.raw", "vol-owner@example.com")
}

fn function() -> Node {
    node(K::Function, "main.sales.f", "fn-owner@example.com")
}

#[test]
fn create_volume_needs_create_volume_and_use_and_external_needs_the_location() {
    let t = tree().with_use("analysts");
    let a = alice();
    assert!(!ok(&a, &Action::CreateVolume { external: false }, &t.s()));
    let mut t = t;
    t.sch.grants.push(g("analysts", "CREATE_VOLUME"));
    assert!(ok(&a, &Action::CreateVolume { external: false }, &t.s()));
    // Legacy CREATE on a schema is CREATE_FUNCTION, not CREATE_VOLUME.
    let mut legacy = tree().with_use(BOB);
    legacy.sch.grants.push(g(BOB, "CREATE"));
    assert!(!ok(&bob(), &Action::CreateVolume { external: false }, &legacy.s()));
    assert!(ok(&bob(), &Action::CreateFunction, &legacy.s()));
    let mut loc = node(K::ExternalLocation, "landing", "loc-owner@example.com");
    assert!(!ok(&a, &Action::CreateVolume { external: true }, &[&t.sch, &t.cat, &loc]));
    loc.grants.push(g("data-eng", "CREATE_EXTERNAL_VOLUME"));
    assert!(ok(&a, &Action::CreateVolume { external: true }, &[&t.sch, &t.cat, &loc]));
    // A metastore admin skips use, not CREATE_VOLUME, and not the location's privilege.
    let plain = tree();
    assert!(!ok(&ms_admin(), &Action::CreateVolume { external: false }, &plain.s()));
}

#[test]
fn volume_reads_need_read_volume_with_use_and_files_have_no_admin_bypass() {
    let t = tree().with_use("analysts");
    let mut v = volume();
    let a = alice();
    assert!(!ok(&a, &Action::ReadVolume, &[&v, &t.sch, &t.cat]));
    assert!(ok(&ms_admin(), &Action::ReadVolume, &[&v, &t.sch, &t.cat]));
    assert!(!ok(&ms_admin(), &Action::ReadVolumeFiles, &[&v, &t.sch, &t.cat]));
    v.grants.push(g("analysts", "READ_VOLUME"));
    assert!(ok(&a, &Action::ReadVolume, &[&v, &t.sch, &t.cat]));
    assert!(ok(&a, &Action::ReadVolumeFiles, &[&v, &t.sch, &t.cat]));
    assert!(!ok(&a, &Action::WriteVolumeFiles, &[&v, &t.sch, &t.cat]));
    // WRITE_VOLUME inherited from the catalog; ALL_PRIVILEGES covers both.
    let mut t2 = tree().with_use(BOB);
    t2.cat.grants.push(g(BOB, "ALL_PRIVILEGES"));
    let plain_v = volume();
    assert!(ok(&bob(), &Action::WriteVolumeFiles, &[&plain_v, &t2.sch, &t2.cat]));
    // Without use of the schema, READ_VOLUME is not enough.
    let no_use = tree();
    assert!(!ok(&a, &Action::ReadVolumeFiles, &[&v, &no_use.sch, &no_use.cat]));
}

#[test]
fn volume_updates_need_ownership_of_the_volume_itself() {
    let t = tree().with_use(ALICE);
    let mut v = volume();
    assert!(!ok(&alice(), &Action::UpdateVolume(other_fields()), &[&v, &t.sch, &t.cat]));
    v.owner = "analysts".to_string();
    assert!(ok(&alice(), &Action::UpdateVolume(rename()), &[&v, &t.sch, &t.cat]));
    assert!(ok(&alice(), &Action::DeleteVolume, &[&v, &t.sch, &t.cat]));
    // Owning the schema conveys privileges, not ownership of the volume.
    let mut t2 = tree();
    t2.sch.owner = BOB.to_string();
    t2.cat.grants.push(g(BOB, "USE_CATALOG"));
    assert!(!ok(&bob(), &Action::DeleteVolume, &[&volume(), &t2.sch, &t2.cat]));
    assert!(ok(&ms_admin(), &Action::DeleteVolume, &[&volume(), &t2.sch, &t2.cat]));
}

#[test]
fn function_rules_follow_the_sdk_docstrings() {
    let t = tree().with_use("analysts");
    let mut f = function();
    let a = alice();
    assert!(!ok(&a, &Action::GetFunction, &[&f, &t.sch, &t.cat]));
    f.grants.push(g("analysts", "EXECUTE"));
    assert!(ok(&a, &Action::GetFunction, &[&f, &t.sch, &t.cat]));
    // The function's owner changes the owner only to a principal it belongs to.
    f.owner = ALICE.to_string();
    let to_group = Action::UpdateFunction { new_owner: Some("analysts".into()) };
    let to_bob = Action::UpdateFunction { new_owner: Some(BOB.into()) };
    assert!(ok(&a, &to_group, &[&f, &t.sch, &t.cat]));
    assert!(!ok(&a, &to_bob, &[&f, &t.sch, &t.cat]));
    assert!(ok(&ms_admin(), &to_bob, &[&f, &t.sch, &t.cat]));
    // Deleting has no metastore-admin bypass.
    assert!(ok(&a, &Action::DeleteFunction, &[&f, &t.sch, &t.cat]));
    assert!(!ok(&ms_admin(), &Action::DeleteFunction, &[&f, &t.sch, &t.cat]));
    let mut t2 = tree();
    t2.cat.owner = BOB.to_string();
    assert!(ok(&bob(), &Action::DeleteFunction, &[&function(), &t2.sch, &t2.cat]));
}

#[test]
fn volume_and_function_privileges_are_valid_only_where_they_belong() {
    assert!(privilege::is_valid_on("READ_VOLUME", K::Volume));
    assert!(privilege::is_valid_on("WRITE_VOLUME", K::Schema));
    assert!(!privilege::is_valid_on("EXECUTE", K::Volume));
    assert!(!privilege::is_valid_on("READ_VOLUME", K::Function));
    assert!(privilege::is_valid_on("CREATE_EXTERNAL_VOLUME", K::ExternalLocation));
    assert!(matches!(parse_action("writeVolumeFiles", K::Volume), Ok(Action::WriteVolumeFiles)));
    assert!(matches!(parse_action("READ_VOLUME", K::Volume), Ok(Action::HoldsPrivilege("READ_VOLUME"))));
    assert!(parse_action("getFunction", K::Volume).is_err());
}
