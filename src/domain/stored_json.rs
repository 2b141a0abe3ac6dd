//! JSON text the store wrote itself (a table's columns and properties), rendered into an
//! answer as it is stored.

use serde::{Serialize, Serializer};

/// JSON text from the database, which only ever holds JSON this program serialized after
/// validating the request it came from. Rendered verbatim by `serde_json` without being parsed
/// again: on a page of 50 tables, re-validating each column list through
/// `serde_json::value::RawValue::from_string` was about a sixth of the work of listTables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredJson(Box<str>);

/// The struct and field name by which `serde_json`'s serializer recognises raw JSON text: the one its
/// own `RawValue` serializes under (`serde_json::raw`). A unit test below fails if the
/// serializer stops writing it verbatim.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

impl StoredJson {
    /// Wraps JSON text read from the database (not checked: see the type's note).
    pub fn from_stored(text: String) -> StoredJson {
        StoredJson(text.into_boxed_str())
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }
}

impl Serialize for StoredJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct(RAW_VALUE_TOKEN, 1)?;
        s.serialize_field(RAW_VALUE_TOKEN, &*self.0)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_json_writes_stored_json_verbatim() {
        #[derive(Serialize)]
        struct Answer {
            columns: StoredJson,
            properties: Option<StoredJson>,
        }
        let text = r#"[{"name":"a","type_json":"{\"x\":1}","position":0}]"#;
        let a = Answer {
            columns: StoredJson::from_stored(text.to_string()),
            properties: Some(StoredJson::from_stored(r#"{"k":"v"}"#.into())),
        };
        let out = serde_json::to_string(&a).unwrap();
        assert_eq!(out, format!(r#"{{"columns":{text},"properties":{{"k":"v"}}}}"#));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["columns"][0]["name"], "a");
    }
}
