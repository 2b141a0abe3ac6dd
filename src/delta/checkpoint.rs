//! Delta checkpoint files: Parquet, one row per action (`add`, `remove`, `metaData`,
//! `protocol`, `txn`, ... as nullable struct columns). Read with the `parquet` crate's record
//! reader and turned into the same JSON objects the commits hold.

use std::path::PathBuf;

use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{Map, Value};

use super::log::Action;

/// Drops null members (a checkpoint's absent optional fields) at every level of objects.
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// The actions of a checkpoint's parts, in file and row order.
pub fn read(parts: &[PathBuf]) -> Result<Vec<Action>, String> {
    let mut out = Vec::new();
    for part in parts {
        let file = std::fs::File::open(part).map_err(|e| e.to_string())?;
        let reader = SerializedFileReader::new(file).map_err(|e| e.to_string())?;
        for row in reader.get_row_iter(None).map_err(|e| e.to_string())? {
            let row = row.map_err(|e| e.to_string())?;
            let Value::Object(columns) = row.to_json_value() else { continue };
            for (kind, value) in columns {
                if !matches!(kind.as_str(), "add" | "remove" | "metaData" | "protocol") || value.is_null() {
                    continue;
                }
                let mut single = Map::new();
                single.insert(kind, strip_nulls(value));
                out.extend(Action::from_json(single));
            }
        }
    }
    Ok(out)
}
