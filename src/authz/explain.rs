//! Explanations: which action a name means, and a decision rendered for people.
//! The endpoint and `uc-emulator explain` render the same [`Decision`] that enforcement uses,
//! so what is explained is what is enforced.

use serde::Serialize;

use super::{Action, Caller, Node, Reason, Req};
use crate::domain::privilege;
use crate::domain::securable::SecurableKind;
use crate::domain::update::UpdateShape;

/// The actions `explain` knows, by the Unity Catalog API's operation names, and the kind of securable each
/// is asked about (the securable given to `explain` is the target of the rule: the parent for
/// creates and lists).
pub const ACTIONS: &[(&str, SecurableKind)] = &[
    ("getMetastore", SecurableKind::Metastore),
    ("updateMetastore", SecurableKind::Metastore),
    ("deleteMetastore", SecurableKind::Metastore),
    ("createCatalog", SecurableKind::Metastore),
    ("getCatalog", SecurableKind::Catalog),
    ("updateCatalog", SecurableKind::Catalog),
    ("updateCatalogOwner", SecurableKind::Catalog),
    ("renameCatalog", SecurableKind::Catalog),
    ("deleteCatalog", SecurableKind::Catalog),
    ("createSchema", SecurableKind::Catalog),
    ("listSchemas", SecurableKind::Catalog),
    ("getSchema", SecurableKind::Schema),
    ("updateSchema", SecurableKind::Schema),
    ("updateSchemaOwner", SecurableKind::Schema),
    ("renameSchema", SecurableKind::Schema),
    ("deleteSchema", SecurableKind::Schema),
    ("createTable", SecurableKind::Schema),
    ("listTables", SecurableKind::Schema),
    ("getTable", SecurableKind::Table),
    ("updateTable", SecurableKind::Table),
    ("updateTableOwner", SecurableKind::Table),
    ("renameTable", SecurableKind::Table),
    ("deleteTable", SecurableKind::Table),
    ("createStorageCredential", SecurableKind::Metastore),
    ("getStorageCredential", SecurableKind::StorageCredential),
    ("updateStorageCredential", SecurableKind::StorageCredential),
    ("updateStorageCredentialOwner", SecurableKind::StorageCredential),
    ("deleteStorageCredential", SecurableKind::StorageCredential),
    ("createExternalLocation", SecurableKind::Metastore),
    ("getExternalLocation", SecurableKind::ExternalLocation),
    ("updateExternalLocation", SecurableKind::ExternalLocation),
    ("updateExternalLocationOwner", SecurableKind::ExternalLocation),
    ("deleteExternalLocation", SecurableKind::ExternalLocation),
    ("createShare", SecurableKind::Metastore),
    ("getShare", SecurableKind::Share),
    ("updateShare", SecurableKind::Share),
    ("updateShareOwner", SecurableKind::Share),
    ("renameShare", SecurableKind::Share),
    ("deleteShare", SecurableKind::Share),
    ("createRecipient", SecurableKind::Metastore),
    ("createProvider", SecurableKind::Metastore),
    ("createVolume", SecurableKind::Schema),
    ("listVolumes", SecurableKind::Schema),
    ("readVolume", SecurableKind::Volume),
    ("updateVolume", SecurableKind::Volume),
    ("updateVolumeOwner", SecurableKind::Volume),
    ("renameVolume", SecurableKind::Volume),
    ("deleteVolume", SecurableKind::Volume),
    ("readVolumeFiles", SecurableKind::Volume),
    ("writeVolumeFiles", SecurableKind::Volume),
    ("createFunction", SecurableKind::Schema),
    ("listFunctions", SecurableKind::Schema),
    ("getFunction", SecurableKind::Function),
    ("updateFunctionOwner", SecurableKind::Function),
    ("deleteFunction", SecurableKind::Function),
    ("getPermissions", SecurableKind::Table),
    ("updatePermissions", SecurableKind::Table),
];

fn shape(rename: bool, owner: bool, other: bool) -> UpdateShape {
    UpdateShape { rename, owner, other }
}

/// Parses an action name (or a privilege name such as `SELECT`) for a securable of `kind`.
pub fn parse_action(name: &str, kind: SecurableKind) -> Result<Action, String> {
    let table_like = matches!(kind, SecurableKind::Table | SecurableKind::View);
    let expected = ACTIONS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, k)| *k);
    let fits = |k: SecurableKind| k == kind || (table_like && k == SecurableKind::Table);
    match expected {
        // The permissions actions apply to every kind; shares have their own rules.
        Some(_) if name.eq_ignore_ascii_case("getPermissions") && kind == SecurableKind::Share => {
            return Ok(Action::ReadSharePermissions)
        }
        Some(_) if name.eq_ignore_ascii_case("updatePermissions") && kind == SecurableKind::Share => {
            return Ok(Action::ChangeSharePermissions)
        }
        Some(_) if name.eq_ignore_ascii_case("getPermissions") => {
            return Ok(Action::ReadPermissions { principal_filter: None })
        }
        Some(_) if name.eq_ignore_ascii_case("updatePermissions") => return Ok(Action::ChangePermissions),
        Some(k) if !fits(k) => {
            return Err(format!(
                "{name} is asked about a {}, not a {}",
                k.noun().to_lowercase(),
                kind.noun().to_lowercase()
            ))
        }
        _ => {}
    }
    Ok(match name.to_ascii_lowercase().as_str() {
        "getmetastore" => Action::ReadMetastore,
        "updatemetastore" => Action::UpdateMetastore,
        "deletemetastore" => Action::DeleteMetastore,
        "createcatalog" => Action::CreateCatalog,
        "getcatalog" => Action::GetCatalog,
        "updatecatalog" => Action::UpdateCatalog(shape(false, false, true)),
        "updatecatalogowner" => Action::UpdateCatalog(shape(false, true, false)),
        "renamecatalog" => Action::UpdateCatalog(shape(true, false, false)),
        "deletecatalog" => Action::DeleteCatalog,
        "createschema" => Action::CreateSchema,
        "listschemas" => Action::ListSchemas,
        "getschema" => Action::GetSchema,
        "updateschema" => Action::UpdateSchema(shape(false, false, true)),
        "updateschemaowner" => Action::UpdateSchema(shape(false, true, false)),
        "renameschema" => Action::UpdateSchema(shape(true, false, false)),
        "deleteschema" => Action::DeleteSchema,
        "createtable" => Action::CreateTable { external: false },
        "listtables" => Action::ListTables,
        "gettable" => Action::GetTable,
        "updatetable" => Action::UpdateTable { shape: shape(false, false, true), new_view_owner: None },
        "updatetableowner" => Action::UpdateTable { shape: shape(false, true, false), new_view_owner: None },
        "renametable" => Action::UpdateTable { shape: shape(true, false, false), new_view_owner: None },
        "deletetable" => Action::DeleteTable,
        "createstoragecredential" => Action::CreateStorageCredential,
        "getstoragecredential" => Action::GetStorageCredential,
        "updatestoragecredential" => Action::UpdateStorageCredential(shape(false, false, true)),
        "updatestoragecredentialowner" => Action::UpdateStorageCredential(shape(false, true, false)),
        "deletestoragecredential" => Action::DeleteStorageCredential,
        "createexternallocation" => Action::CreateExternalLocation,
        "getexternallocation" => Action::GetExternalLocation,
        "updateexternallocation" => Action::UpdateExternalLocation(shape(false, false, true)),
        "updateexternallocationowner" => Action::UpdateExternalLocation(shape(false, true, false)),
        "deleteexternallocation" => Action::DeleteExternalLocation,
        "createshare" => Action::CreateShare,
        "getshare" => Action::GetShare,
        "updateshare" => Action::UpdateShare(shape(false, false, true)),
        "updateshareowner" => Action::UpdateShare(shape(false, true, false)),
        "renameshare" => Action::UpdateShare(shape(true, false, false)),
        "deleteshare" => Action::DeleteShare,
        "createrecipient" => Action::CreateRecipient,
        "createprovider" => Action::CreateProvider,
        "createvolume" => Action::CreateVolume { external: false },
        "listvolumes" => Action::ListVolumes,
        "readvolume" => Action::ReadVolume,
        "updatevolume" => Action::UpdateVolume(shape(false, false, true)),
        "updatevolumeowner" => Action::UpdateVolume(shape(false, true, false)),
        "renamevolume" => Action::UpdateVolume(shape(true, false, false)),
        "deletevolume" => Action::DeleteVolume,
        "readvolumefiles" => Action::ReadVolumeFiles,
        "writevolumefiles" => Action::WriteVolumeFiles,
        "createfunction" => Action::CreateFunction,
        "listfunctions" => Action::ListFunctions,
        "getfunction" => Action::GetFunction,
        "updatefunctionowner" => Action::UpdateFunction { new_owner: None },
        "deletefunction" => Action::DeleteFunction,
        _ => match privilege::normalize(name) {
            Some(p) if privilege::is_valid_on(p, kind) => Action::HoldsPrivilege(p),
            Some(p) => return Err(format!("privilege {p} is not valid on a {}", kind.noun().to_lowercase())),
            None => {
                let names: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
                return Err(format!("unknown action {name:?}; use a privilege name or one of {}", names.join(", ")));
            }
        },
    })
}

/// One entry of `GET /explain/actions`: a name the explain endpoint accepts for a type.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ActionEntry {
    pub name: &'static str,
    /// `operation` or `privilege`.
    pub kind: &'static str,
    pub securable_type: SecurableKind,
}

/// The kinds explain answers for, in the order the action list walks them.
const EXPLAINABLE: &[SecurableKind] = &[
    SecurableKind::Metastore,
    SecurableKind::Catalog,
    SecurableKind::Schema,
    SecurableKind::Table,
    SecurableKind::Volume,
    SecurableKind::Function,
    SecurableKind::StorageCredential,
    SecurableKind::ExternalLocation,
    SecurableKind::Share,
];

fn is_permissions_action(name: &str) -> bool {
    name == "getPermissions" || name == "updatePermissions"
}

/// Every action explain accepts (for one kind, or for all): the operations first, in
/// [`ACTIONS`] order, then the privileges valid on each kind. `getPermissions` and
/// `updatePermissions` are listed for every kind.
pub fn actions_for(only: Option<SecurableKind>) -> Vec<ActionEntry> {
    let kinds: Vec<SecurableKind> = match only {
        Some(k) => vec![k],
        None => EXPLAINABLE.to_vec(),
    };
    let fits = |asked: SecurableKind, k: SecurableKind| {
        asked == k || (asked == SecurableKind::Table && k == SecurableKind::View)
    };
    let mut out = Vec::new();
    for (name, asked) in ACTIONS {
        if is_permissions_action(name) {
            continue;
        }
        for &k in &kinds {
            if fits(*asked, k) {
                out.push(ActionEntry { name, kind: "operation", securable_type: k });
            }
        }
    }
    for &k in &kinds {
        for name in ["getPermissions", "updatePermissions"] {
            out.push(ActionEntry { name, kind: "operation", securable_type: k });
        }
    }
    for &k in &kinds {
        for name in privilege::valid_on(k) {
            out.push(ActionEntry { name, kind: "privilege", securable_type: k });
        }
    }
    out
}

/// One node of a rule's requirement tree, evaluated for the principal: `all_of` / `any_of`
/// combine their children; `privilege` is held through any of its children (a grant on the
/// securable or an ancestor, or ownership of one); the other kinds are leaves (`role`,
/// `ownership`, `grant`, `membership`, `condition`).
#[derive(Serialize, Debug, Clone)]
pub struct ReqNode {
    pub kind: &'static str,
    /// Whether the principal has it.
    pub satisfied: bool,
    pub text: String,
    /// What satisfies it, when it is satisfied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub securable_type: Option<SecurableKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub securable: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privilege: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ReqNode>,
    #[serde(skip)]
    fact: Option<Reason>,
}

impl ReqNode {
    fn leaf(kind: &'static str, satisfied: bool, text: String, fact: Option<Reason>) -> ReqNode {
        ReqNode {
            kind,
            satisfied,
            text,
            evidence: fact.as_ref().map(Reason::sentence),
            securable_type: None,
            securable: None,
            privilege: None,
            children: Vec::new(),
            fact,
        }
    }

    fn on(mut self, node: Option<&Node>) -> ReqNode {
        if let Some(n) = node {
            self.securable_type = Some(n.kind);
            self.securable = Some(n.name.clone());
        }
        self
    }

    /// The tree as indented lines, `[has]` / `[lacks]` first.
    pub fn lines(&self, depth: usize, out: &mut Vec<String>) {
        let mark = if self.satisfied { "[has]  " } else { "[lacks]" };
        let text = match (self.kind, &self.evidence) {
            ("privilege", _) => format!("{}, through any of:", self.text),
            ("all_of" | "any_of", _) => format!("{}:", self.text),
            (_, Some(e)) if self.satisfied => format!("{} ({e})", self.text),
            _ => self.text.clone(),
        };
        out.push(format!("{}{mark} {text}", "  ".repeat(depth)));
        for c in &self.children {
            c.lines(depth + 1, out);
        }
    }
}

fn named(node: &Node) -> String {
    format!("{} '{}'", node.kind.noun(), node.name)
}

/// Evaluates `req` for `caller` over `chain` as a tree, keeping every branch.
pub fn requirement_tree(caller: &Caller, req: &Req, chain: &[&Node]) -> ReqNode {
    match req {
        Req::All(parts) | Req::Any(parts) => {
            let all = matches!(req, Req::All(_));
            let (kind, text) = if all { ("all_of", "all of") } else { ("any_of", "any of") };
            // "all of (all of (a, b), c)" reads as "all of (a, b, c)".
            let mut children: Vec<ReqNode> = Vec::new();
            for part in parts {
                let child = requirement_tree(caller, part, chain);
                if child.kind == kind {
                    children.extend(child.children);
                } else {
                    children.push(child);
                }
            }
            let satisfied =
                if all { children.iter().all(|c| c.satisfied) } else { children.iter().any(|c| c.satisfied) };
            let mut n = ReqNode::leaf(kind, satisfied, text.to_string(), None);
            n.children = children;
            n
        }
        Req::OwnerOfTarget => match chain.first() {
            Some(n) => requirement_tree(caller, &Req::Owner(n.kind), chain),
            None => ReqNode::leaf("ownership", false, "ownership of the securable".into(), None),
        },
        Req::HoldsOnTarget(p) => match chain.first() {
            Some(n) => privilege_tree(caller, p, n.kind, chain),
            None => ReqNode::leaf("privilege", false, format!("{p} on the securable"), None),
        },
        Req::Holds(p, kind) => privilege_tree(caller, p, *kind, chain),
        _ => {
            let (satisfied, reasons) = super::eval(caller, req, chain);
            let fact = if satisfied { reasons.into_iter().next() } else { None };
            let (kind, text, node) = match req {
                Req::MetastoreAdmin => ("role", "the metastore admin role".to_string(), None),
                Req::AccountAdmin => ("role", "the account admin role".to_string(), None),
                Req::WorkspaceAdmin => ("role", "the workspace admin role".to_string(), None),
                Req::Owner(k) => {
                    let n = super::node_of(chain, *k).map(|(_, n)| n);
                    ("ownership", format!("ownership of {}", super::describe_node(*k, chain)), n)
                }
                Req::SomePrivilege(k) => {
                    let n = super::node_of(chain, *k).map(|(_, n)| n);
                    ("grant", format!("any privilege on {}", super::describe_node(*k, chain)), n)
                }
                Req::MemberOf(p) => ("membership", format!("membership of the new owner {p}"), None),
                Req::Condition(_, what) => ("condition", format!("the condition that {what}"), None),
                _ => ("condition", String::new(), None),
            };
            ReqNode::leaf(kind, satisfied, text, fact).on(node)
        }
    }
}

/// `privilege` on the chain's node of `kind`: held through a grant on it or on an ancestor that
/// passes it down, or through ownership of either (Unity Catalog privilege inheritance).
fn privilege_tree(caller: &Caller, privilege: &'static str, kind: SecurableKind, chain: &[&Node]) -> ReqNode {
    let Some((start, target)) = super::node_of(chain, kind) else {
        return ReqNode::leaf("privilege", false, format!("{privilege} on {}", kind.noun()), None);
    };
    let mut ways = Vec::new();
    for (i, node) in chain[start..].iter().enumerate() {
        if i > 0 && !matches!(node.kind, SecurableKind::Schema | SecurableKind::Catalog) {
            break;
        }
        if i == 0 || privilege::is_valid_on(privilege, node.kind) {
            let grant = node
                .grants
                .iter()
                .find(|g| caller.is(&g.principal) && privilege::conveys(&g.privilege, node.kind, privilege));
            let fact = grant.map(|g| Reason::Grant {
                privilege: privilege.to_string(),
                granted: g.privilege.clone(),
                securable_type: node.kind,
                securable: node.name.clone(),
                via: super::via(caller, &g.principal),
            });
            let text = if i == 0 {
                format!("a grant of {privilege} on {}", named(node))
            } else {
                format!("a grant of {privilege} on {} (inherited)", named(node))
            };
            let mut leaf = ReqNode::leaf("grant", fact.is_some(), text, fact).on(Some(node));
            leaf.privilege = Some(privilege.to_string());
            ways.push(leaf);
        }
        if node.kind != SecurableKind::Metastore && !privilege::NOT_IN_ALL.contains(&privilege) {
            let owns = caller.is(&node.owner);
            let fact = owns.then(|| Reason::OwnerConveys {
                privilege: privilege.to_string(),
                securable_type: node.kind,
                securable: node.name.clone(),
                via: super::via(caller, &node.owner),
            });
            ways.push(ReqNode::leaf("ownership", owns, format!("ownership of {}", named(node)), fact).on(Some(node)));
        }
    }
    let fact = super::holds(caller, privilege, kind, chain);
    let mut n =
        ReqNode::leaf("privilege", fact.is_some(), format!("{privilege} on {}", named(target)), fact).on(Some(target));
    n.privilege = Some(privilege.to_string());
    n.children = ways;
    n
}

/// The cheapest way to satisfy a tree: (cost, what is lacking, what is already held on the way).
fn plan(node: &ReqNode) -> (u32, Vec<&ReqNode>, Vec<&ReqNode>) {
    match node.kind {
        "all_of" => {
            let (mut cost, mut lacking, mut having) = (0, Vec::new(), Vec::new());
            for c in &node.children {
                let (k, l, h) = plan(c);
                cost += k;
                lacking.extend(l);
                having.extend(h);
            }
            (cost, lacking, having)
        }
        "any_of" => {
            if let Some(c) = node.children.iter().find(|c| c.satisfied) {
                return plan(c);
            }
            node.children.iter().map(plan).min_by_key(|(k, _, _)| *k).unwrap_or((u32::MAX / 4, Vec::new(), Vec::new()))
        }
        _ if node.satisfied => (0, Vec::new(), vec![node]),
        kind => {
            let cost = match kind {
                "privilege" | "grant" => 1,
                "ownership" | "membership" => 2,
                "role" => 3,
                _ => 100,
            };
            (cost, vec![node], Vec::new())
        }
    }
}

/// A decision, explained.
#[derive(Serialize)]
pub struct Explanation {
    pub principal: String,
    pub action: String,
    pub securable_type: SecurableKind,
    pub full_name: String,
    pub allowed: bool,
    /// For a privilege name: whether the principal holds it on the securable (a grant there or
    /// on an ancestor, or ownership).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<bool>,
    /// For a privilege name: whether the principal can reach the securable to use it
    /// (USE_CATALOG on its catalog, USE_SCHEMA on its schema).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usable: Option<bool>,
    /// When allowed: the facts that allow it. When denied: the missing links first (the
    /// cheapest set of grants, ownerships or roles that would allow it), then what the
    /// principal already holds on that way.
    pub reasons: Vec<ExplainedReason>,
    /// The rule as a tree, with what the principal has and lacks at each node.
    pub requirement: ReqNode,
    /// The whole answer as one paragraph.
    pub explanation: String,
}

#[derive(Serialize, Debug)]
pub struct ExplainedReason {
    #[serde(flatten)]
    pub reason: Reason,
    pub text: String,
    /// On a missing link: the securable and privilege it is about, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub securable_type: Option<SecurableKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub securable: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privilege: Option<String>,
}

impl ExplainedReason {
    fn fact(reason: Reason) -> ExplainedReason {
        let text = reason.sentence();
        ExplainedReason { reason, text, securable_type: None, securable: None, privilege: None }
    }

    fn missing(node: &ReqNode) -> ExplainedReason {
        let reason = Reason::Missing { requirement: node.text.clone() };
        ExplainedReason {
            text: reason.sentence(),
            reason,
            securable_type: node.securable_type,
            securable: node.securable.clone(),
            privilege: node.privilege.clone(),
        }
    }
}

/// What using a privilege on a securable of `kind` takes besides holding it: the
/// USE_CATALOG / USE_SCHEMA chain.
fn use_chain(privilege: &str, kind: SecurableKind) -> Vec<Req> {
    use SecurableKind::*;
    match kind {
        Table | View | Volume | Function => vec![Req::Holds("USE_CATALOG", Catalog), Req::Holds("USE_SCHEMA", Schema)],
        Schema => vec![Req::Holds("USE_CATALOG", Catalog)],
        Catalog if privilege != "USE_CATALOG" => vec![Req::Holds("USE_CATALOG", Catalog)],
        _ => Vec::new(),
    }
}

fn and_it(facts: &[String]) -> String {
    facts.join("; and it ")
}

/// Explains `action` (parsed from `action_name`) for `caller` on the securable whose chain is
/// given (target first). What is explained is what is enforced: the tree is the rule
/// [`super::decide`] evaluates; a privilege name adds the chain needed to use it.
pub fn explain_decision(caller: &Caller, action_name: &str, action: &Action, chain: &[&Node]) -> Explanation {
    explain_decision_shown_as(caller, action_name, action, chain, chain[0].kind, &chain[0].name)
}

/// [`explain_decision`], answering about the securable `kind` `full_name` while evaluating the
/// rule over `chain`: a table the asker may not learn about is explained by its parents'
/// requirements alone (the same answer whether or not it exists).
pub fn explain_decision_shown_as(
    caller: &Caller,
    action_name: &str,
    action: &Action,
    chain: &[&Node],
    kind: SecurableKind,
    full_name: &str,
) -> Explanation {
    let subject = caller.name.as_str();
    let on = format!("{} '{full_name}'", kind.noun());
    let privilege = match action {
        Action::HoldsPrivilege(p) => Some(*p),
        _ => None,
    };
    let req = match privilege {
        Some(p) => {
            let mut all = vec![Req::HoldsOnTarget(p)];
            all.extend(use_chain(p, kind));
            Req::All(all)
        }
        None => super::rules::requirement(caller, action),
    };
    let tree = requirement_tree(caller, &req, chain);
    let allowed = tree.satisfied;
    let (held, usable) = match (privilege, &tree.children[..]) {
        (Some(_), [own, rest @ ..]) => (Some(own.satisfied), Some(rest.iter().all(|c| c.satisfied))),
        _ => (None, None),
    };
    let (_, lacking, having) = plan(&tree);
    let reasons: Vec<ExplainedReason> = if allowed {
        match privilege {
            Some(_) => having.iter().filter_map(|n| n.fact.clone()).map(ExplainedReason::fact).collect(),
            None => super::decide(caller, action, chain).reasons.into_iter().map(ExplainedReason::fact).collect(),
        }
    } else {
        lacking
            .iter()
            .map(|n| ExplainedReason::missing(n))
            .chain(having.iter().filter_map(|n| n.fact.clone()).map(ExplainedReason::fact))
            .collect()
    };
    let facts: Vec<String> =
        reasons.iter().filter(|r| !matches!(r.reason, Reason::Missing { .. })).map(|r| r.text.clone()).collect();
    let missing: Vec<String> = lacking.iter().map(|n| n.text.clone()).collect();
    let already = if facts.is_empty() { String::new() } else { format!(" It already {}.", and_it(&facts)) };
    let explanation = match (allowed, privilege, held) {
        (true, Some(p), _) => format!("ALLOWED: {subject} holds {p} on {on} and can use it: it {}.", and_it(&facts)),
        (true, None, _) => format!("ALLOWED: {subject} may {action_name} on {on} because it {}.", and_it(&facts)),
        (false, Some(p), Some(true)) => format!(
            "DENIED: {subject} holds {p} on {on} but cannot use it, because it lacks {}.{already}",
            missing.join(" and ")
        ),
        (false, Some(p), _) => {
            format!("DENIED: {subject} does not hold {p} on {on}: it lacks {}.{already}", missing.join(" and "))
        }
        (false, None, _) => format!(
            "DENIED: {subject} may not {action_name} on {on} because it lacks {}.{already}",
            missing.join(" and ")
        ),
    };
    Explanation {
        principal: subject.to_string(),
        action: action_name.to_string(),
        securable_type: kind,
        full_name: full_name.to_string(),
        allowed,
        held,
        usable,
        reasons,
        requirement: tree,
        explanation,
    }
}
