//! The authorization core: who may do what to which securable, and why.
//!
//! Pure: it knows Unity Catalog's rules and nothing of HTTP or SQL. The store loads a
//! securable's chain (the object, its parents, the caller's grants on each) into [`Node`]s;
//! [`decide`] evaluates the rule of an [`Action`] over them. [`require`] turns an allowing
//! decision into [`Allowed`], the proof every store write demands, so a skipped check does not
//! compile.

pub mod explain;
pub mod rules;
pub mod sharing;

use std::sync::Arc;

use serde::Serialize;

use crate::domain::privilege;
use crate::domain::securable::SecurableKind;
use crate::domain::update::UpdateShape;

/// The group every user and service principal belongs to.
pub const ACCOUNT_USERS: &str = "account users";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    Group,
    ServicePrincipal,
}

impl PrincipalKind {
    pub fn parse(s: &str) -> Option<PrincipalKind> {
        match s {
            "user" => Some(Self::User),
            "group" => Some(Self::Group),
            "service_principal" => Some(Self::ServicePrincipal),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::ServicePrincipal => "service_principal",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
            Self::ServicePrincipal => "Service principal",
        }
    }
}

/// The metastore a caller's workspace is assigned to.
#[derive(Clone, Debug)]
pub struct MetastoreScope {
    pub id: String,
    pub owner: String,
    pub default_catalog_name: Option<String>,
}

/// Who is asking: resolved once per request from the bearer token.
#[derive(Clone, Debug)]
pub struct Caller {
    /// `user_name` or `application_id`: what `owner` and `created_by` fields hold.
    pub name: String,
    pub id: i64,
    pub kind: PrincipalKind,
    pub workspace_id: i64,
    /// The caller's own name, every group it belongs to transitively, and `account users`.
    pub principals: Arc<[String]>,
    /// `principals` as a JSON array, bound into SQL as `json_each(?)`.
    pub principals_json: Arc<str>,
    pub account_admin: bool,
    pub workspace_admin: bool,
    pub metastore: Option<MetastoreScope>,
    /// Whether the caller belongs to `workspace_id` (assigned, or a member of an assigned
    /// group). Workspace APIs refuse callers who do not; account APIs do not ask.
    pub belongs: bool,
    /// The request came through an account API (account metastores, assignments, storage
    /// credentials): an account admin then administers every metastore of the account.
    pub account_api: bool,
}

impl Caller {
    /// Whether the caller is a service principal.
    pub fn is_service_principal(&self) -> bool {
        self.kind == PrincipalKind::ServicePrincipal
    }

    /// Builds a caller from its identity; `groups` are the transitive groups (without
    /// `account users`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: String,
        id: i64,
        kind: PrincipalKind,
        workspace_id: i64,
        mut groups: Vec<String>,
        account_admin: bool,
        metastore: Option<MetastoreScope>,
    ) -> Caller {
        groups.sort();
        groups.dedup();
        let workspace_admin = account_admin || groups.iter().any(|g| g == "admins");
        let mut principals = Vec::with_capacity(groups.len() + 2);
        principals.push(name.clone());
        principals.extend(groups);
        principals.push(ACCOUNT_USERS.to_string());
        let principals_json = serde_json::to_string(&principals).expect("strings serialize").into();
        Caller {
            name,
            id,
            kind,
            workspace_id,
            principals: principals.into(),
            principals_json,
            account_admin,
            workspace_admin,
            metastore,
            belongs: true,
            account_api: false,
        }
    }

    /// The caller as its workspace assignments make it: whether it belongs to the workspace,
    /// and whether an effective `ADMIN` assignment there makes it a workspace admin.
    pub fn with_assignment(mut self, belongs: bool, admin_assignment: bool) -> Caller {
        self.belongs = belongs;
        self.workspace_admin = self.workspace_admin || (belongs && admin_assignment);
        self
    }

    /// Whether `principal` is the caller or one of its groups (ownership, grants).
    pub fn is(&self, principal: &str) -> bool {
        self.principals.iter().any(|p| p == principal)
    }

    /// The groups the caller belongs to, transitively, without `account users`.
    pub fn groups(&self) -> &[String] {
        &self.principals[1..self.principals.len() - 1]
    }

    /// Metastore admin of the workspace's metastore: its owner or a member of the owner group.
    pub fn is_metastore_admin(&self) -> bool {
        self.metastore.as_ref().is_some_and(|m| self.is(&m.owner))
    }

    /// "User alice@example.com", for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind.noun(), self.name)
    }
}

/// A direct grant to one of the caller's principals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub principal: String,
    pub privilege: String,
}

/// One securable as the rules see it: identity, owner, and the caller's direct grants on it.
#[derive(Clone, Debug)]
pub struct Node {
    pub kind: SecurableKind,
    pub id: String,
    /// Full name (or the metastore id).
    pub name: String,
    pub owner: String,
    pub grants: Vec<Grant>,
}

/// What the caller wants to do. Rules per action are in [`rules`].
#[derive(Clone, Debug)]
pub enum Action {
    CreateMetastore,
    ReadMetastore,
    UpdateMetastore,
    /// Changing only the `owner` of a metastore whose owner was deleted (nobody administers it).
    ReownOrphanedMetastore,
    DeleteMetastore,
    CreateAssignment,
    UpdateAssignment {
        changes_metastore: bool,
    },
    DeleteAssignment,
    CreateStorageCredential,
    /// getStorageCredential, and what a list shows to a caller who may not see them all.
    GetStorageCredential,
    ListAllStorageCredentials,
    UpdateStorageCredential(UpdateShape),
    DeleteStorageCredential,
    /// `validate-storage-credentials` (SDK): a named credential and/or location, or inline details.
    ValidateStorageCredential,
    CreateExternalLocation,
    GetExternalLocation,
    ListAllExternalLocations,
    UpdateExternalLocation(UpdateShape),
    DeleteExternalLocation,
    /// listFiles: the chain holds the covering external location and/or the named credential.
    ListFiles,
    /// updateTable moving an EXTERNAL table's `storage_location`: the createTable credential rule
    /// for the new location, besides `UpdateTable`.
    RelocateExternalTable,
    CreateCatalog,
    GetCatalog,
    /// `include_browse`: selective metadata through `BROWSE` on the catalog.
    BrowseCatalog,
    ListAllCatalogs,
    UpdateCatalog(UpdateShape),
    DeleteCatalog,
    CreateSchema,
    ListSchemas,
    ListAllSchemas,
    GetSchema,
    UpdateSchema(UpdateShape),
    DeleteSchema,
    CreateTable {
        external: bool,
    },
    ListTables,
    ListAllTables,
    GetTable,
    TableExists,
    UpdateTable {
        shape: UpdateShape,
        new_view_owner: Option<String>,
    },
    DeleteTable,
    ListTableSummaries,
    SummarizeTable,
    /// createVolume; EXTERNAL: the chain also holds the external location covering the volume.
    CreateVolume {
        external: bool,
    },
    /// listVolumes' precondition (403 otherwise); each row is shown by `ReadVolume`.
    ListVolumes,
    ListAllVolumes,
    ReadVolume,
    UpdateVolume(UpdateShape),
    DeleteVolume,
    /// Use of a volume's catalog and schema for the Files API (no metastore-admin bypass).
    ReachVolumeFiles,
    /// Files API reads (download, metadata, listing) on a volume.
    ReadVolumeFiles,
    /// Files API writes (upload, delete, directories) on a volume.
    WriteVolumeFiles,
    /// Temporary table credentials (`READ`, or `READ_WRITE` when `write`); the chain is
    /// [table, schema, catalog].
    TableCredentials {
        write: bool,
    },
    /// Temporary path credentials for a path at or inside an EXTERNAL table: the table rule,
    /// plus `EXTERNAL_USE_LOCATION` on the covering external location when one covers the
    /// table (`located`; the chain then ends with it).
    TablePathCredentials {
        write: bool,
        located: bool,
    },
    /// Temporary volume credentials, or path credentials inside a volume (`WRITE_VOLUME` when
    /// `write`); the chain is [volume, schema, catalog].
    VolumeCredentials {
        write: bool,
    },
    /// Temporary path credentials under an external location: `PATH_READ`, `PATH_READ_WRITE`
    /// (`write`) or `PATH_CREATE_TABLE` (`create_table`); the chain is [location].
    PathCredentials {
        write: bool,
        create_table: bool,
    },
    CreateFunction,
    /// listFunctions' precondition (403 otherwise); each row is shown by `GetFunction`.
    ListFunctions,
    ListAllFunctions,
    GetFunction,
    /// updateFunction changes only `owner`; `None` when the new owner is not known (explain).
    UpdateFunction {
        new_owner: Option<String>,
    },
    DeleteFunction,
    ReadPermissions {
        principal_filter: Option<String>,
    },
    ChangePermissions,
    CreateShare,
    GetShare,
    ListAllShares,
    UpdateShare(UpdateShape),
    DeleteShare,
    ReadSharePermissions,
    ChangeSharePermissions,
    CreateRecipient,
    GetRecipient,
    ListAllRecipients,
    UpdateRecipient(UpdateShape),
    DeleteRecipient,
    RotateRecipientToken,
    /// Granting a share to a recipient: the caller must own the recipient.
    GrantToRecipient,
    CreateProvider,
    GetProvider,
    ListAllProviders,
    UpdateProvider(UpdateShape),
    DeleteProvider,
    /// Creating a Delta Sharing catalog from a provider's share.
    UseProviderForCatalog,
    /// Register or remove Partner Connect partners.
    ManagePartners,
    /// Create, test or delete a Partner Connect connection; account hooks.
    ConnectPartner,
    /// Pick a catalog for a new Partner Connect connection.
    ConnectWithCatalog,
    /// Create, change or delete users, groups and service principals.
    ManageIdentities,
    /// Account administration: account SCIM lists and creates, users and service principals
    /// through account SCIM, workspace assignments, account metastores and storage
    /// credentials, service principal secrets on account paths, the account's own rule set.
    ManageAccount,
    /// Account SCIM get, replace, patch or delete of one group: account admins, or holders of
    /// `roles/group.manager` on it (`manager`) when the request leaves `roles` alone.
    ManageAccountGroup {
        manager: bool,
        changes_roles: bool,
    },
    /// Assignable roles, get or update of a group's or service principal's rule set: account
    /// admins, or holders of its manager role (`manager`).
    ManageRuleSet {
        manager: bool,
    },
    /// Service principal secrets through the workspace proxy.
    ManageSecretsInWorkspace,
    /// Creating a personal access token: `can_use` is CAN_USE or CAN_MANAGE on the workspace's
    /// token ACL (directly, through a group, or through `account users`).
    CreateToken {
        can_use: bool,
    },
    /// Permission migration from workspace-local groups.
    MigratePermissions,
    /// Minting an OAuth access token for a service principal that authenticated with one of
    /// its secrets.
    MintOAuthToken,
    /// "Does the caller hold this privilege here?" (explain).
    HoldsPrivilege(&'static str),
    /// Create, list and delete the caller's own personal access tokens.
    OwnTokens,
    /// Token management: every token of the workspace, and tokens on behalf of service
    /// principals.
    ManageWorkspaceTokens,
    /// Read a workspace object's access control list (`acl`: its stored entries).
    ReadObjectAcl {
        acl: Vec<AclEntry>,
    },
    /// Replace or extend a workspace object's access control list.
    ChangeObjectAcl {
        acl: Vec<AclEntry>,
    },
    /// Explain another principal's decisions (the explain endpoint's `principal`).
    ExplainForOthers,
    /// Sign in to a partner through an existing Partner Connect connection.
    PartnerSignIn,
    /// Applying the operator's fixtures at start-up; no caller is ever allowed it.
    LoadFixtures,
    /// Writes the server makes on its own (recovering interrupted Partner Connect connections);
    /// no caller is ever allowed it.
    ServerTask,
    /// Retrieving a recipient token's credential through its activation link (no caller; the
    /// rules of `sharing::retrieval`).
    RetrieveRecipientCredential,
}

/// One entry of a workspace object's access control list: a principal name and a level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclEntry {
    pub principal: String,
    pub level: String,
}

/// The result of a rule: allowed or not, and the facts that decided it.
#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// When allowed: the facts that allow it. When denied: what is missing.
    pub reasons: Vec<Reason>,
}

/// One fact in an explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    MetastoreAdmin {
        via: String,
    },
    AccountAdmin,
    WorkspaceAdmin,
    Owner {
        securable_type: SecurableKind,
        securable: String,
        via: String,
    },
    /// A privilege held through a grant (possibly inherited from an ancestor).
    Grant {
        privilege: String,
        granted: String,
        securable_type: SecurableKind,
        securable: String,
        via: String,
    },
    /// A privilege held by owning the securable or an ancestor.
    OwnerConveys {
        privilege: String,
        securable_type: SecurableKind,
        securable: String,
        via: String,
    },
    /// A condition on the request itself (e.g. "only `owner` changes").
    Condition {
        holds: String,
    },
    /// Something required that the caller lacks.
    Missing {
        requirement: String,
    },
}

impl Reason {
    /// One line of English.
    pub fn sentence(&self) -> String {
        match self {
            Reason::MetastoreAdmin { via } => {
                format!("is a metastore admin (the metastore is owned by {via})")
            }
            Reason::AccountAdmin => "is an account admin".to_string(),
            Reason::WorkspaceAdmin => "is a workspace admin".to_string(),
            Reason::Owner { securable_type, securable, via } => {
                format!("owns {} '{securable}'{}", securable_type.noun(), via_suffix(via))
            }
            Reason::Grant { privilege, granted, securable_type, securable, via } => {
                let as_granted = if granted == privilege { String::new() } else { format!(" (granted as {granted})") };
                format!("holds {privilege}{as_granted} on {} '{securable}'{}", securable_type.noun(), via_suffix(via))
            }
            Reason::OwnerConveys { privilege, securable_type, securable, via } => {
                format!("holds {privilege} as owner of {} '{securable}'{}", securable_type.noun(), via_suffix(via))
            }
            Reason::Condition { holds } => holds.clone(),
            Reason::Missing { requirement } => format!("lacks {requirement}"),
        }
    }
}

fn via_suffix(via: &str) -> String {
    if via.is_empty() {
        String::new()
    } else {
        format!(" via {via}")
    }
}

/// Proof that an action was authorized, and of what: the action and the securable it was
/// decided on (the chain's first node; none for account- and workspace-level actions). Store
/// writes take `&Allowed` and [`Allowed::check`] that it covers what they are about to do, so
/// neither a skipped check nor a proof for something else reaches the database.
#[derive(Debug)]
pub struct Allowed {
    action: Action,
    on: Option<String>,
}

impl Allowed {
    /// The action this proof allows.
    pub fn action(&self) -> &Action {
        &self.action
    }

    /// The id of the securable the action was allowed on, if any.
    pub fn on(&self) -> Option<&str> {
        self.on.as_deref()
    }

    /// Whether this proof covers a write that `permits` the proof's action, on the securable
    /// `on` (`None`: the write is not about one securable). Fixture loading covers every write
    /// (the fixture is the operator's word); a server task covers the writes that name it.
    pub fn covers(&self, permits: impl FnOnce(&Action) -> bool, on: Option<&str>) -> bool {
        match self.action {
            Action::LoadFixtures => true,
            Action::ServerTask => permits(&self.action),
            _ => permits(&self.action) && (on.is_none() || self.on.as_deref() == on),
        }
    }

    /// Debug assertion at every store write: the proof covers this write (see [`Allowed::covers`]).
    #[track_caller]
    pub fn check(&self, write: &str, permits: impl FnOnce(&Action) -> bool, on: Option<&str>) {
        debug_assert!(
            self.covers(permits, on),
            "{write}: a proof of {:?} on {:?} does not cover this write on {on:?}",
            self.action,
            self.on
        );
    }
}

/// Runs `load` with the proof for applying fixtures. The proof lives only inside the closure
/// (it cannot be kept), and only the fixture loader calls this.
pub(crate) fn with_fixture_proof<T>(load: impl FnOnce(&Allowed) -> T) -> T {
    load(&Allowed { action: Action::LoadFixtures, on: None })
}

/// Runs `task` with the proof for writes the server makes on its own, with no caller (finishing
/// or undoing interrupted Partner Connect connections). Only writes that accept
/// [`Action::ServerTask`] take it.
pub(crate) fn with_server_proof<T>(task: impl FnOnce(&Allowed) -> T) -> T {
    task(&Allowed { action: Action::ServerTask, on: None })
}

/// A refusal, with the decision that explains it.
#[derive(Debug)]
pub struct Denied {
    pub caller: String,
    pub decision: Decision,
}

impl Denied {
    /// "User bob@example.com lacks USE_SCHEMA on Schema 'main.sales'."
    pub fn message(&self) -> String {
        let missing: Vec<String> = self
            .decision
            .reasons
            .iter()
            .filter_map(|r| match r {
                Reason::Missing { requirement } => Some(requirement.clone()),
                _ => None,
            })
            .collect();
        if missing.is_empty() {
            format!("{} may not do this.", self.caller)
        } else {
            format!("{} lacks {}.", self.caller, missing.join(" and "))
        }
    }
}

/// Evaluates the rule of `action` for `caller` over `chain` (the target first, then its
/// parents; a metastore-level action passes the metastore node).
pub fn decide(caller: &Caller, action: &Action, chain: &[&Node]) -> Decision {
    let req = rules::requirement(caller, action);
    let (allowed, reasons) = eval(caller, &req, chain);
    Decision { allowed, reasons }
}

/// [`decide`], turned into a proof or a refusal. The reasons are written out only for a
/// refusal: an allowed request needs none.
pub fn require(caller: &Caller, action: &Action, chain: &[&Node]) -> Result<Allowed, Denied> {
    if visible(caller, action, chain) {
        Ok(Allowed { action: action.clone(), on: chain.first().map(|n| n.id.clone()) })
    } else {
        Err(Denied { caller: caller.describe(), decision: decide(caller, action, chain) })
    }
}

/// Whether a list may show this object (the object's own read rule): [`decide`]'s answer,
/// without writing out its reasons.
pub fn visible(caller: &Caller, action: &Action, chain: &[&Node]) -> bool {
    judge::<bool>(caller, &rules::requirement(caller, action), chain)
}

/// A rule, as a tree of tests. Built by [`rules::requirement`], evaluated by [`judge`].
#[derive(Clone, Debug)]
pub enum Req {
    MetastoreAdmin,
    AccountAdmin,
    WorkspaceAdmin,
    /// Direct ownership (through the caller or one of its groups) of the chain's node of a kind.
    Owner(SecurableKind),
    /// Direct ownership of the chain's first node, whatever its kind (permissions endpoints).
    OwnerOfTarget,
    /// `holds(caller, privilege, node)`: grants and ownership, inherited
    /// from the node's ancestors in the chain.
    Holds(&'static str, SecurableKind),
    /// `Holds` on the chain's first node, whatever its kind.
    HoldsOnTarget(&'static str),
    /// At least one direct grant on the node.
    SomePrivilege(SecurableKind),
    /// The caller is, or belongs to, this principal.
    MemberOf(String),
    /// A fact about the request, already known.
    Condition(bool, &'static str),
    All(Vec<Req>),
    Any(Vec<Req>),
}

fn node_of<'a>(chain: &[&'a Node], kind: SecurableKind) -> Option<(usize, &'a Node)> {
    // Tables and views share the table slot of a chain.
    let same = |k: SecurableKind| {
        k == kind
            || matches!(
                (k, kind),
                (SecurableKind::View, SecurableKind::Table) | (SecurableKind::Table, SecurableKind::View)
            )
    };
    chain.iter().enumerate().find(|(_, n)| same(n.kind)).map(|(i, n)| (i, *n))
}

fn describe_node(kind: SecurableKind, chain: &[&Node]) -> String {
    match node_of(chain, kind) {
        Some((_, n)) => format!("{} '{}'", n.kind.noun(), n.name),
        None => kind.noun().to_string(),
    }
}

fn via(caller: &Caller, principal: &str) -> String {
    if principal == caller.name {
        String::new()
    } else {
        format!("group '{principal}'")
    }
}

/// What evaluating a rule writes down: only whether it holds (`bool`: passing checks and list
/// pages), or also why ([`Reasoned`]: refusals and explanations). One evaluator, [`judge`],
/// serves both, and builds reasons only for the verdict that keeps them.
trait Verdict: Sized {
    /// The requirement is met; `reason` builds the evidence.
    fn met(reason: impl FnOnce() -> Reason) -> Self;
    /// The requirement is not met; `requirement` describes what is missing.
    fn lacks(requirement: impl FnOnce() -> String) -> Self;
    /// Every part must hold: the evidence of all, else what the failing parts lack.
    fn all(parts: impl Iterator<Item = Self>) -> Self;
    /// One alternative must hold: the first that does, else what each lacks.
    fn any(alternatives: impl Iterator<Item = Self>) -> Self;
}

impl Verdict for bool {
    fn met(_: impl FnOnce() -> Reason) -> bool {
        true
    }
    fn lacks(_: impl FnOnce() -> String) -> bool {
        false
    }
    fn all(mut parts: impl Iterator<Item = bool>) -> bool {
        parts.all(|p| p)
    }
    fn any(mut alternatives: impl Iterator<Item = bool>) -> bool {
        alternatives.any(|a| a)
    }
}

/// Whether the requirement holds, with the evidence if it does or what is missing if not.
struct Reasoned(bool, Vec<Reason>);

impl Verdict for Reasoned {
    fn met(reason: impl FnOnce() -> Reason) -> Reasoned {
        Reasoned(true, vec![reason()])
    }
    fn lacks(requirement: impl FnOnce() -> String) -> Reasoned {
        Reasoned(false, vec![Reason::Missing { requirement: requirement() }])
    }
    fn all(parts: impl Iterator<Item = Reasoned>) -> Reasoned {
        let (mut held, mut evidence, mut lacking) = (true, Vec::new(), Vec::new());
        for Reasoned(holds, reasons) in parts {
            if holds {
                evidence.extend(reasons);
            } else {
                held = false;
                lacking.extend(missing_texts(&reasons));
            }
        }
        if held {
            Reasoned(true, evidence)
        } else {
            Reasoned::lacks(|| lacking.join(" and "))
        }
    }
    fn any(alternatives: impl Iterator<Item = Reasoned>) -> Reasoned {
        let mut lacking = Vec::new();
        for alternative in alternatives {
            if alternative.0 {
                return alternative;
            }
            lacking.extend(missing_texts(&alternative.1));
        }
        match lacking.len() {
            0 | 1 => Reasoned::lacks(|| lacking.pop().unwrap_or_default()),
            _ => Reasoned::lacks(|| format!("either {}", lacking.join(", or "))),
        }
    }
}

/// Evaluates one requirement: (satisfied, evidence if satisfied or what is missing if not).
fn eval(caller: &Caller, req: &Req, chain: &[&Node]) -> (bool, Vec<Reason>) {
    let Reasoned(holds, reasons) = judge(caller, req, chain);
    (holds, reasons)
}

/// Evaluates one requirement into the verdict `V` asks for.
fn judge<V: Verdict>(caller: &Caller, req: &Req, chain: &[&Node]) -> V {
    match req {
        Req::MetastoreAdmin if caller.account_api && caller.account_admin => V::met(|| Reason::AccountAdmin),
        Req::MetastoreAdmin => {
            // The metastore in the chain when there is one (metastore CRUD on `:id`), else the
            // workspace's.
            let owner = match node_of(chain, SecurableKind::Metastore) {
                Some((_, m)) => Some(m.owner.as_str()),
                None => caller.metastore.as_ref().map(|m| m.owner.as_str()),
            };
            match owner {
                Some(o) if caller.is(o) => V::met(|| Reason::MetastoreAdmin { via: o.to_string() }),
                _ => V::lacks(|| "the metastore admin role".to_string()),
            }
        }
        Req::AccountAdmin if caller.account_admin => V::met(|| Reason::AccountAdmin),
        Req::AccountAdmin => V::lacks(|| "the account admin role".to_string()),
        Req::WorkspaceAdmin if caller.workspace_admin => V::met(|| Reason::WorkspaceAdmin),
        Req::WorkspaceAdmin => V::lacks(|| "the workspace admin role".to_string()),
        Req::Owner(kind) => match node_of(chain, *kind) {
            Some((_, n)) if caller.is(&n.owner) => V::met(|| Reason::Owner {
                securable_type: n.kind,
                securable: n.name.clone(),
                via: via(caller, &n.owner),
            }),
            _ => V::lacks(|| format!("ownership of {}", describe_node(*kind, chain))),
        },
        Req::OwnerOfTarget => match chain.first() {
            Some(n) => judge(caller, &Req::Owner(n.kind), chain),
            None => V::lacks(|| "ownership of the securable".to_string()),
        },
        Req::HoldsOnTarget(privilege) => match chain.first() {
            Some(n) => judge(caller, &Req::Holds(privilege, n.kind), chain),
            None => V::lacks(|| format!("{privilege} on the securable")),
        },
        Req::Holds(privilege, kind) => match held(caller, privilege, *kind, chain) {
            Some(h) => V::met(|| h.reason(caller, privilege)),
            None => V::lacks(|| format!("{privilege} on {}", describe_node(*kind, chain))),
        },
        Req::SomePrivilege(kind) => match node_of(chain, *kind) {
            Some((_, n)) if !n.grants.is_empty() => V::met(|| {
                let g = &n.grants[0];
                Reason::Grant {
                    privilege: g.privilege.clone(),
                    granted: g.privilege.clone(),
                    securable_type: n.kind,
                    securable: n.name.clone(),
                    via: via(caller, &g.principal),
                }
            }),
            _ => V::lacks(|| format!("any privilege on {}", describe_node(*kind, chain))),
        },
        Req::MemberOf(principal) if caller.is(principal) => {
            V::met(|| Reason::Condition { holds: format!("is or belongs to {principal}") })
        }
        Req::MemberOf(principal) => V::lacks(|| format!("membership of the new owner {principal}")),
        Req::Condition(true, what) => V::met(|| Reason::Condition { holds: (*what).to_string() }),
        Req::Condition(false, what) => V::lacks(|| format!("the condition that {what}")),
        Req::All(parts) => V::all(parts.iter().map(|p| judge(caller, p, chain))),
        Req::Any(alternatives) => V::any(alternatives.iter().map(|a| judge(caller, a, chain))),
    }
}

fn missing_texts(reasons: &[Reason]) -> Vec<String> {
    reasons
        .iter()
        .filter_map(|r| match r {
            Reason::Missing { requirement } => Some(requirement.clone()),
            _ => None,
        })
        .collect()
}

/// `holds`: walks from the node of `kind` up the chain; ownership conveys
/// everything but `NOT_IN_ALL` (not on the metastore), grants convey their canonical meaning.
fn holds(caller: &Caller, wanted: &str, kind: SecurableKind, chain: &[&Node]) -> Option<Reason> {
    Some(held(caller, wanted, kind, chain)?.reason(caller, wanted))
}

/// Where [`holds`] finds a privilege: the owned node, or the node and grant.
enum Held<'a> {
    Owner(&'a Node),
    Grant(&'a Node, &'a Grant),
}

impl Held<'_> {
    /// The evidence that `caller` holds `wanted` here.
    fn reason(&self, caller: &Caller, wanted: &str) -> Reason {
        match *self {
            Held::Owner(node) => Reason::OwnerConveys {
                privilege: wanted.to_string(),
                securable_type: node.kind,
                securable: node.name.clone(),
                via: via(caller, &node.owner),
            },
            Held::Grant(node, g) => Reason::Grant {
                privilege: wanted.to_string(),
                granted: g.privilege.clone(),
                securable_type: node.kind,
                securable: node.name.clone(),
                via: via(caller, &g.principal),
            },
        }
    }
}

fn held<'a>(caller: &Caller, wanted: &str, kind: SecurableKind, chain: &[&'a Node]) -> Option<Held<'a>> {
    let (start, _) = node_of(chain, kind)?;
    for (i, node) in chain[start..].iter().enumerate() {
        // Only schemas and catalogs pass privileges down: a location or credential that
        // follows a table's chain (createTable, EXTERNAL) is no ancestor of it.
        if i > 0 && !matches!(node.kind, SecurableKind::Schema | SecurableKind::Catalog) {
            break;
        }
        if node.kind != SecurableKind::Metastore && caller.is(&node.owner) && !privilege::NOT_IN_ALL.contains(&wanted) {
            return Some(Held::Owner(node));
        }
        for g in &node.grants {
            if caller.is(&g.principal) && privilege::conveys(&g.privilege, node.kind, wanted) {
                return Some(Held::Grant(node, g));
            }
        }
    }
    None
}

#[cfg(test)]
mod rule_tests;
#[cfg(test)]
mod tests;
