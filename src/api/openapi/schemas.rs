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

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

#[allow(dead_code)] // rows use more of it as their types are described
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

    pub(crate) fn into_components(self) -> Value {
        Value::Object(self.map.into_iter().collect())
    }
}

/// Closes every object schema reachable from a success answer: an object with `properties` and
/// no `additionalProperties` gets `additionalProperties: false`, so an undocumented field in an
/// answer fails validation. Maps (`additionalProperties` given) and free-form objects stay as
/// they are.
pub(crate) fn close_success_schemas(doc: &mut Value) {
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
