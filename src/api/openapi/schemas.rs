//! The document's `components.schemas`: the wire types' own schemas (`utoipa::ToSchema`), the
//! error schemas, and the few answers rendered without a struct.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use utoipa::ToSchema;

use super::ErrorShape;

/// The schemas an operation table has referred to, by component name.
#[derive(Default)]
pub(crate) struct Schemas {
    map: BTreeMap<String, Value>,
}

/// `Name` of `{"$ref": "#/components/schemas/Name"}`.
fn ref_name(r: &Value) -> &str {
    r["$ref"]
        .as_str()
        .and_then(|s| s.strip_prefix("#/components/schemas/"))
        .unwrap_or_else(|| panic!("not a $ref: {r}"))
}

/// `type: [T, "null"]` → `type: T`; `oneOf: [{"type": "null"}, X]` → X.
fn drop_null(schema: &mut Value) {
    if let Some(types) = schema["type"].as_array() {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        schema["type"] = if kept.len() == 1 { kept[0].clone() } else { Value::Array(kept) };
    }
    if let Some(branches) = schema["oneOf"].as_array() {
        let kept: Vec<Value> = branches.iter().filter(|b| b["type"] != "null").cloned().collect();
        if kept.len() == 1 {
            let description = schema.get("description").cloned();
            *schema = kept[0].clone();
            if let Some(d) = description {
                schema["description"] = d;
            }
        }
    }
}

/// `enum: values` (with `null` when the schema's `type` admits it).
pub(crate) fn set_enum<S: AsRef<str>>(schema: &mut Value, values: &[S]) {
    let mut list: Vec<Value> = values.iter().map(|v| json!(v.as_ref())).collect();
    if schema["type"].as_array().is_some_and(|t| t.iter().any(|t| t == "null")) {
        list.push(Value::Null);
    }
    schema["enum"] = Value::Array(list);
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

impl Schemas {
    /// A `$ref` to `T`'s schema (registered with every schema it refers to).
    pub(crate) fn of<T: ToSchema>(&mut self) -> Value {
        let name = T::name().to_string();
        if !self.map.contains_key(&name) {
            self.map.insert(name.clone(), serde_json::to_value(T::schema()).expect("a schema serializes"));
            let mut deps = Vec::new();
            T::schemas(&mut deps);
            for (dep, schema) in deps {
                self.map.entry(dep).or_insert_with(|| serde_json::to_value(schema).expect("a schema serializes"));
            }
        }
        reference(&name)
    }

    /// A `$ref` to a schema written here rather than derived (answers rendered without a struct).
    pub(crate) fn named(&mut self, name: &str, schema: Value) -> Value {
        self.map.entry(name.to_string()).or_insert(schema);
        reference(name)
    }

    /// A schema named `name`: `T`'s schema with more properties (an answer that echoes a stored
    /// request object and adds the server's fields, like `FunctionInfo`).
    pub(crate) fn extended<T: ToSchema>(&mut self, name: &str, more: Value, required: &[&str]) -> Value {
        if !self.map.contains_key(name) {
            let base = self.of::<T>();
            let base_name = base["$ref"].as_str().unwrap_or_default().trim_start_matches("#/components/schemas/");
            let mut schema = self.map[base_name].clone();
            if let (Some(props), Some(more)) = (schema["properties"].as_object_mut(), more.as_object()) {
                props.extend(more.clone());
            }
            schema["required"] = json!(required);
            schema.as_object_mut().map(|o| o.remove("description"));
            self.map.insert(name.to_string(), schema);
        }
        reference(name)
    }

    /// A page of a list: `{"<key>": [T], "next_page_token": string}` (the key may be absent when
    /// the list is empty, as the API omits empty lists on some endpoints).
    pub(crate) fn list<T: ToSchema>(&mut self, key: &str) -> Value {
        let item = self.of::<T>();
        json!({
            "type": "object",
            "properties": {
                key: {"type": "array", "items": item},
                "next_page_token": {"type": "string", "description": "absent on the last page"}
            },
            "additionalProperties": false
        })
    }

    /// The error schema of an operation (registered on first use).
    pub(crate) fn error_ref(&mut self, shape: ErrorShape) -> Value {
        let error = self.named(
            "Error",
            json!({
                "type": "object",
                "description": "Every failure: a machine-readable code and a one-sentence message.",
                "required": ["error_code", "message"],
                "properties": {
                    "error_code": {"type": "string", "examples": ["CATALOG_DOES_NOT_EXIST"]},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "object"}}
                }
            }),
        );
        match shape {
            ErrorShape::Plain => error,
            ErrorShape::Sharing => self.named(
                "SharingError",
                json!({
                    "description": "A Delta Sharing protocol failure: the error body with the protocol's `errorCode` beside it.",
                    "allOf": [
                        error,
                        {"type": "object", "properties": {"errorCode": {"type": "string"}}}
                    ]
                }),
            ),
            ErrorShape::OAuth => self.named(
                "OAuthError",
                json!({
                    "description": "An OAuth failure (RFC 6749): the error body with `error` and `error_description` beside it.",
                    "allOf": [
                        error,
                        {
                            "type": "object",
                            "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}}
                        }
                    ]
                }),
            ),
            ErrorShape::Scim => self.named(
                "ScimError",
                json!({
                    "description": "A SCIM failure: the error body with RFC 7644's error keys beside it.",
                    "allOf": [
                        error,
                        {
                            "type": "object",
                            "properties": {
                                "schemas": {"type": "array", "items": {"type": "string"}},
                                "status": {"type": "string"},
                                "detail": {"type": "string"},
                                "scimType": {"type": "string"}
                            }
                        }
                    ]
                }),
            ),
        }
    }

    /// A copy of component `from` registered as `to` (one wire type, two operations that
    /// require different fields of it).
    pub(crate) fn copy(&mut self, from: &Value, to: &str) -> Value {
        let name = ref_name(from);
        let schema = self.map.get(name).cloned().unwrap_or_else(|| panic!("no component {name}"));
        self.map.entry(to.to_string()).or_insert(schema);
        reference(to)
    }

    /// Marks `fields` of the component `of` refers to as required and not `null`: the fields
    /// whose absence (or `null`) the operation answers 400.
    pub(crate) fn require(&mut self, of: &Value, fields: &[&str]) {
        let name = ref_name(of).to_string();
        for f in fields {
            let field = self.field_mut(&name, f);
            drop_null(field);
        }
        let schema = self.map.get_mut(&name).expect("a component");
        let required = schema.as_object_mut().expect("an object schema").entry("required").or_insert(json!([]));
        let list = required.as_array_mut().expect("a required list");
        for f in fields {
            if !list.iter().any(|v| v == f) {
                list.push(json!(f));
            }
        }
    }

    /// Restricts `field` of the component `of` refers to (or the items of an array field) to
    /// `values`, which come from the constants the code accepts or sends; `null` stays allowed
    /// where the field admits it.
    pub(crate) fn enumerate<S: AsRef<str>>(&mut self, of: &Value, field: &str, values: &[S]) {
        let name = ref_name(of).to_string();
        let target = self.field_mut(&name, field);
        let target = if target.get("items").is_some() { &mut target["items"] } else { target };
        set_enum(target, values);
    }

    /// An example of the component `of` refers to (the fuzzer's examples phase sends it).
    pub(crate) fn example(&mut self, of: &Value, example: Value) {
        let name = ref_name(of).to_string();
        self.map.get_mut(&name).expect("a component")["examples"] = json!([example]);
    }

    /// Gives `field` of the component `of` refers to a `format` (`uuid`).
    pub(crate) fn format(&mut self, of: &Value, field: &str, format: &str) {
        let name = ref_name(of).to_string();
        let target = self.field_mut(&name, field);
        let target = if target.get("oneOf").is_some() {
            target["oneOf"].as_array_mut().and_then(|l| l.iter_mut().find(|b| b["type"] != "null")).expect("a branch")
        } else {
            target
        };
        target["format"] = json!(format);
    }

    /// The schema of property `field` of component `name` (looking into `allOf` branches).
    fn field_mut(&mut self, name: &str, field: &str) -> &mut Value {
        let schema = self.map.get_mut(name).unwrap_or_else(|| panic!("no component {name}"));
        if schema["properties"].get(field).is_some() {
            return &mut schema["properties"][field];
        }
        let branches = schema["allOf"].as_array_mut().unwrap_or_else(|| panic!("{name} has no field {field}"));
        branches
            .iter_mut()
            .find(|b| b["properties"].get(field).is_some())
            .map(|b| &mut b["properties"][field])
            .unwrap_or_else(|| panic!("{name} has no field {field}"))
    }

    pub(crate) fn into_components(self) -> Value {
        Value::Object(self.map.into_iter().collect())
    }
}

/// Closes every object schema reachable from a success answer: an object with `properties` and
/// no `additionalProperties` gets `additionalProperties: false`, so an undocumented field in an
/// answer fails validation. Maps (`additionalProperties` given) and free-form objects stay as
/// they are.
pub(crate) fn close_success_schemas(doc: &mut Value) {
    separate_request_schemas(doc);
    let mut roots = Vec::new();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for op in item.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
                for (status, resp) in op["responses"].as_object_mut().into_iter().flat_map(|m| m.iter_mut()) {
                    if !status.starts_with('2') {
                        continue;
                    }
                    if let Some(content) = resp.get_mut("content").and_then(Value::as_object_mut) {
                        for media in content.values_mut() {
                            if let Some(schema) = media.get_mut("schema") {
                                close(schema, &mut roots);
                            }
                        }
                    }
                }
            }
        }
    }
    let mut done = BTreeSet::new();
    while let Some(name) = roots.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = doc["components"]["schemas"].get_mut(&name) {
            close(schema, &mut roots);
        }
    }
}

/// Request bodies stay open (unknown fields are ignored) while answers are closed: a component
/// both reach (`ColumnInfo` in `CreateTable` and in `TableInfo`) keeps its name for answers, and
/// request bodies get an open copy, `<Name>Request`.
fn separate_request_schemas(doc: &mut Value) {
    let mut from_requests = BTreeSet::new();
    let mut from_answers = BTreeSet::new();
    for op in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
        .flat_map(|i| i.as_object())
        .flat_map(|m| m.values())
    {
        collect_refs(&op["requestBody"], &mut from_requests);
        for (status, resp) in op["responses"].as_object().into_iter().flatten() {
            if status.starts_with('2') {
                collect_refs(resp, &mut from_answers);
            }
        }
    }
    let components = doc["components"]["schemas"].clone();
    let reachable = |roots: &BTreeSet<String>| {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = roots.iter().cloned().collect();
        while let Some(n) = todo.pop() {
            if seen.insert(n.clone()) {
                let mut more = BTreeSet::new();
                collect_refs(&components[&n], &mut more);
                todo.extend(more);
            }
        }
        seen
    };
    let (requests, answers) = (reachable(&from_requests), reachable(&from_answers));
    let shared: BTreeSet<String> = requests
        .intersection(&answers)
        .filter(|n| components[n.as_str()].to_string().contains("\"properties\""))
        .cloned()
        .collect();
    if shared.is_empty() {
        return;
    }
    let rename = |v: &mut Value| rewrite_refs(v, &shared);
    for op in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
        .flat_map(|i| i.as_object_mut())
        .flat_map(|m| m.values_mut())
    {
        if let Some(body) = op.get_mut("requestBody") {
            rename(body);
        }
    }
    let schemas = doc["components"]["schemas"].as_object_mut().expect("components");
    for name in requests.difference(&answers) {
        if let Some(s) = schemas.get_mut(name) {
            rename(s);
        }
    }
    for name in &shared {
        let mut copy = components[name.as_str()].clone();
        rename(&mut copy);
        schemas.insert(format!("{name}Request"), copy);
    }
}

fn collect_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(name) =
                m.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                out.insert(name.to_string());
            }
            m.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// `$ref`s to the `shared` components point to their `<Name>Request` copies.
fn rewrite_refs(v: &mut Value, shared: &BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref") {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    if shared.contains(name) {
                        *r = format!("#/components/schemas/{name}Request");
                    }
                }
            }
            m.values_mut().for_each(|v| rewrite_refs(v, shared));
        }
        Value::Array(a) => a.iter_mut().for_each(|v| rewrite_refs(v, shared)),
        _ => {}
    }
}

fn close(schema: &mut Value, refs: &mut Vec<String>) {
    let Some(obj) = schema.as_object_mut() else { return };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        if let Some(name) = r.strip_prefix("#/components/schemas/") {
            refs.push(name.to_string());
        }
    }
    if obj.contains_key("properties") && !obj.contains_key("additionalProperties") {
        obj.insert("additionalProperties".into(), Value::Bool(false));
    }
    if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
        for p in props.values_mut() {
            close(p, refs);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(s) = obj.get_mut(key) {
            close(s, refs);
        }
    }
    for key in ["oneOf", "anyOf", "allOf", "prefixItems"] {
        if let Some(list) = obj.get_mut(key).and_then(Value::as_array_mut) {
            for s in list {
                close(s, refs);
            }
        }
    }
}

/// `{"token_value", "token_info"}`: a token as created (the value is shown only here).
pub(crate) fn token_created<T: ToSchema>(s: &mut Schemas, name: &str) -> Value {
    let info = s.of::<T>();
    s.named(
        name,
        json!({"type": "object", "required": ["token_value", "token_info"], "properties": {
            "token_value": {"type": "string"},
            "token_info": info
        }}),
    )
}

/// `{"token_infos": [...]}`.
pub(crate) fn token_list<T: ToSchema>(s: &mut Schemas, name: &str) -> Value {
    let info = s.of::<T>();
    s.named(
        name,
        json!({"type": "object", "required": ["token_infos"], "properties": {
            "token_infos": {"type": "array", "items": info}
        }}),
    )
}

/// `GET /explain/actions`: `{"actions": [{"name", "kind", "securable_type"}]}`.
pub(crate) fn explain_actions(s: &mut Schemas) -> Value {
    s.named(
        "ExplainActions",
        json!({"type": "object", "required": ["actions"], "properties": {"actions": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "kind", "securable_type"],
            "properties": {
                "name": {"type": "string"},
                "kind": {"type": "string", "enum": ["operation", "privilege"]},
                "securable_type": {"type": "string", "enum": super::refine::securable_types()}
            }
        }}}}),
    )
}

/// The explain endpoint's answer: the decision, its reasons and the rule as a tree.
pub(crate) fn explanation(s: &mut Schemas) -> Value {
    let node = s.named(
        "ExplainRequirement",
        json!({
            "type": "object",
            "description": "A node of the rule: all_of / any_of over children, or a fact the principal has or lacks.",
            "required": ["kind", "satisfied", "text"],
            "properties": {
                "kind": {"type": "string"},
                "satisfied": {"type": "boolean"},
                "text": {"type": "string"},
                "evidence": {"type": "string"},
                "securable_type": {"type": "string", "enum": super::refine::securable_types()},
                "securable": {"type": "string"},
                "privilege": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/ExplainRequirement"}}
            }
        }),
    );
    let reason = s.named(
        "ExplainReason",
        json!({
            "type": "object",
            "description": "One fact of the decision (a grant, an ownership, a role, or a missing link), with its sentence.",
            "required": ["kind", "text"],
            "properties": {
                "kind": {"type": "string", "enum": [
                    "metastore_admin", "account_admin", "workspace_admin", "owner", "grant", "owner_conveys",
                    "condition", "missing"
                ]},
                "text": {"type": "string"},
                "via": {"type": "string", "description": "the principal or group the fact holds through"},
                "securable_type": {"type": "string", "enum": super::refine::securable_types()},
                "securable": {"type": "string"},
                "privilege": {"type": "string"},
                "granted": {"type": "string", "description": "the privilege as granted (ALL_PRIVILEGES conveys others)"},
                "holds": {"type": "string"},
                "requirement": {"type": "string"}
            }
        }),
    );
    s.named(
        "Explanation",
        json!({
            "type": "object",
            "required": ["principal", "action", "securable_type", "full_name", "allowed", "reasons", "requirement", "explanation"],
            "properties": {
                "principal": {"type": "string"},
                "action": {"type": "string"},
                "securable_type": {"type": "string", "enum": super::refine::securable_types()},
                "full_name": {"type": "string"},
                "allowed": {"type": "boolean"},
                "held": {"type": "boolean"},
                "usable": {"type": "boolean"},
                "reasons": {"type": "array", "items": reason},
                "requirement": node,
                "explanation": {"type": "string"}
            }
        }),
    )
}

/// The SCIM objects. SCIM resources are extensible (RFC 7643): attributes a client sent beyond
/// the modelled ones are kept and returned, so these objects stay open; `attributes` /
/// `excludedAttributes` may leave out anything but `id` and `schemas`.
pub(crate) fn scim_resource(s: &mut Schemas, kind: &str) -> Value {
    let reference = json!({
        "type": "object",
        "required": ["value", "display", "$ref"],
        "properties": {"value": {"type": "string"}, "display": {"type": "string"}, "$ref": {"type": "string"}},
        "additionalProperties": false
    });
    let mut props = json!({
        "schemas": {"type": "array", "items": {"type": "string"}},
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "displayName": {"type": "string"},
        "externalId": {"type": "string"},
        "groups": {"type": "array", "items": reference},
        "entitlements": {"type": "array", "items": {"type": "object"}},
        "roles": {"type": "array", "items": {"type": "object"}},
        "meta": {"type": "object", "properties": {"resourceType": {"type": "string"}}}
    });
    match kind {
        "User" => {
            props["userName"] = json!({"type": "string"});
            props["active"] = json!({"type": "boolean"});
            props["name"] = json!({"type": "object"});
            props["emails"] = json!({"type": "array", "items": {"type": "object", "properties": {
                "value": {"type": "string"}, "type": {"type": "string"}, "primary": {"type": "boolean"}
            }}});
        }
        "ServicePrincipal" => {
            props["applicationId"] = json!({"type": "string"});
            props["active"] = json!({"type": "boolean"});
            // `GET Me` as a service principal also answers its application id as userName.
            props["userName"] = json!({"type": "string"});
        }
        _ => {
            props["members"] = json!({"type": "array", "items": reference});
        }
    }
    s.named(
        kind,
        json!({
            "type": "object",
            "description": "A SCIM resource; attributes the client sent beyond these are kept and returned.",
            "required": ["id", "schemas"],
            "properties": props,
            "additionalProperties": true
        }),
    )
}

/// `ListUsersResponse` and its kin: a SCIM list response of `item`.
pub(crate) fn scim_list(s: &mut Schemas, name: &str, item: Value) -> Value {
    s.named(
        name,
        json!({
            "type": "object",
            "required": ["schemas", "totalResults", "startIndex", "itemsPerPage", "Resources"],
            "properties": {
                "schemas": {"type": "array", "items": {"type": "string"}},
                "totalResults": {"type": "integer", "minimum": 0},
                "startIndex": {"type": "integer", "minimum": 1},
                "itemsPerPage": {"type": "integer", "minimum": 0},
                "Resources": {"type": "array", "items": item}
            }
        }),
    )
}

/// A SCIM create or replace body: the resource's attributes (open).
pub(crate) fn scim_body(s: &mut Schemas, kind: &str) -> Value {
    let mut props = json!({
        "schemas": {"type": "array", "items": {"type": "string"}},
        "displayName": {"type": "string"},
        "externalId": {"type": "string"},
        "active": {"type": "boolean"},
        "groups": {"type": "array", "items": {"type": "object", "properties": {"value": {"type": "string"}}}},
        "entitlements": {"type": "array", "items": {"type": "object"}},
        "roles": {"type": "array", "items": {"type": "object"}}
    });
    match kind {
        "User" => {
            props["userName"] = json!({"type": "string"});
            props["name"] = json!({"type": "object"});
            props["emails"] = json!({"type": "array", "items": {"type": "object"}});
        }
        "ServicePrincipal" => props["applicationId"] = json!({"type": "string"}),
        _ => {
            props["members"] =
                json!({"type": "array", "items": {"type": "object", "properties": {"value": {"type": "string"}}}})
        }
    }
    s.named(&format!("{kind}Request"), json!({"type": "object", "properties": props}))
}

/// The SCIM PatchOp body.
pub(crate) fn scim_patch(s: &mut Schemas) -> Value {
    s.named(
        "PatchRequest",
        json!({
            "type": "object",
            "properties": {
                "schemas": {"type": "array", "items": {"type": "string"}},
                "Operations": {"type": "array", "items": {
                    "type": "object",
                    "required": ["op"],
                    "properties": {
                        "op": {"type": "string", "enum": ["add", "remove", "replace"], "description": "case-insensitive"},
                        "path": {"type": "string"},
                        "value": {}
                    }
                }}
            }
        }),
    )
}

/// Partner Connect's answers. What a partner sends back (`partner_response.body`, test results,
/// connectors) and the registration's `config` are the partner's documents, kept open.
pub(crate) fn partner_info(s: &mut Schemas) -> Value {
    s.named(
        "PartnerInfo",
        json!({
            "type": "object",
            "required": ["partner_id", "name", "config", "options", "created_at", "created_by"],
            "properties": {
                "partner_id": {"type": "string", "format": "uuid"},
                "name": {"type": "string"},
                "config": {"type": "object", "additionalProperties": true},
                "basic_auth": {"oneOf": [
                    {"type": "null"},
                    {"type": "object", "required": ["username"], "properties": {"username": {"type": "string"}}}
                ]},
                "options": {"type": "object", "properties": {
                    "timeout_ms": {"type": "integer", "minimum": 0},
                    "max_retries": {"type": "integer", "minimum": 0},
                    "retry_backoff_ms": {"type": "integer", "minimum": 0}
                }},
                "created_at": {"type": "integer", "format": "int64"},
                "created_by": {"type": "string"}
            }
        }),
    )
}

/// `{"partner_status": <HTTP status of the partner's answer>}` (and, for deleteConnection, the
/// notification's outcome).
pub(crate) fn partner_status(s: &mut Schemas) -> Value {
    s.named(
        "PartnerStatus",
        json!({"type": "object", "required": ["partner_status"], "properties": {"partner_status": {"type": "integer"}}}),
    )
}
