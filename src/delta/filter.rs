//! Which files of a shared table a recipient gets: the share's partition filters (enforced),
//! then the Delta Sharing `jsonPredicateHints` (on partition columns) and `limitHint`.

use serde_json::Value;

use super::log::FileAction;
use crate::domain::sharing::sql_like;

/// One condition of a partition: the column, and what its value must be.
#[derive(Clone, Debug)]
pub struct Cond {
    /// Lower-cased column name.
    pub column: String,
    pub like: bool,
    /// `None`: EQUAL matches null only (LIKE never matches).
    pub value: Option<String>,
    /// A recipient property the recipient does not have: matches nothing.
    pub never: bool,
}

/// The shared object's partitions (OR of ANDs). Empty: every file is visible.
#[derive(Clone, Debug, Default)]
pub struct PartitionFilter {
    pub partitions: Vec<Vec<Cond>>,
}

impl PartitionFilter {
    /// Whether a file with these partition values is visible. `partition_columns` are the
    /// table's (at the version answered); a condition on another column matches nothing.
    pub fn admits(&self, file: &FileAction, partition_columns: &[String]) -> bool {
        if self.partitions.is_empty() {
            return true;
        }
        self.partitions.iter().any(|conds| {
            conds.iter().all(|c| {
                if c.never {
                    return false;
                }
                let Some(col) = partition_columns.iter().find(|p| p.eq_ignore_ascii_case(&c.column)) else {
                    return false;
                };
                let v = file.partition_value(col);
                match (c.like, v, c.value.as_deref()) {
                    (true, Some(v), Some(p)) => sql_like(v, p),
                    (true, _, _) => false,
                    (false, v, want) => v == want,
                }
            })
        })
    }
}

/// Three-valued logic.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tri {
    True,
    False,
    Unknown,
}

#[derive(Clone, Debug, PartialEq, PartialOrd)]
enum Val {
    Num(f64),
    Str(String),
    Bool(bool),
}

fn convert(raw: &str, value_type: &str) -> Option<Val> {
    match value_type {
        "int" | "long" | "float" | "double" => raw.trim().parse::<f64>().ok().map(Val::Num),
        "string" => Some(Val::Str(raw.to_string())),
        "date" => Some(Val::Str(raw.to_string())),
        "timestamp" => {
            let t = raw.trim().replace(' ', "T");
            let t = if t.ends_with('Z') || t.len() > 19 && (t[19..].contains('+') || t[19..].contains('-')) {
                t
            } else {
                format!("{t}Z")
            };
            crate::domain::sharing::parse_timestamp(&t).map(|ms| Val::Num(ms as f64))
        }
        "bool" | "boolean" => match raw.trim() {
            "true" => Some(Val::Bool(true)),
            "false" => Some(Val::Bool(false)),
            _ => None,
        },
        _ => None,
    }
}

struct Eval<'a> {
    file: &'a FileAction,
    partition_columns: &'a [String],
}

/// A predicate that cannot be evaluated (unknown op or type): filter nothing.
struct Invalid;

impl Eval<'_> {
    fn leaf(&self, node: &Value) -> Result<Option<Val>, Invalid> {
        let op = node.get("op").and_then(Value::as_str).ok_or(Invalid)?;
        let value_type = node.get("valueType").and_then(Value::as_str).ok_or(Invalid)?;
        if !matches!(
            value_type,
            "int" | "long" | "float" | "double" | "string" | "date" | "timestamp" | "bool" | "boolean"
        ) {
            return Err(Invalid);
        }
        match op {
            "column" => {
                let name = node.get("name").and_then(Value::as_str).ok_or(Invalid)?;
                let Some(col) = self.partition_columns.iter().find(|p| p.eq_ignore_ascii_case(name)) else {
                    return Ok(None);
                };
                Ok(self.file.partition_value(col).and_then(|v| convert(v, value_type)))
            }
            "literal" => {
                let v = node.get("value").ok_or(Invalid)?;
                let raw = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Ok(convert(&raw, value_type))
            }
            _ => Err(Invalid),
        }
    }

    fn children<'v>(&self, node: &'v Value) -> Result<&'v Vec<Value>, Invalid> {
        node.get("children").and_then(Value::as_array).ok_or(Invalid)
    }

    fn eval(&self, node: &Value, depth: usize) -> Result<Tri, Invalid> {
        if depth > 64 {
            return Err(Invalid);
        }
        let op = node.get("op").and_then(Value::as_str).ok_or(Invalid)?;
        match op {
            "and" | "or" => {
                let kids = self.children(node)?;
                if kids.len() < 2 {
                    return Err(Invalid);
                }
                let vals: Vec<Tri> = kids.iter().map(|k| self.eval(k, depth + 1)).collect::<Result<_, _>>()?;
                Ok(if op == "and" {
                    if vals.contains(&Tri::False) {
                        Tri::False
                    } else if vals.contains(&Tri::Unknown) {
                        Tri::Unknown
                    } else {
                        Tri::True
                    }
                } else if vals.contains(&Tri::True) {
                    Tri::True
                } else if vals.contains(&Tri::Unknown) {
                    Tri::Unknown
                } else {
                    Tri::False
                })
            }
            "not" => {
                let kids = self.children(node)?;
                if kids.len() != 1 {
                    return Err(Invalid);
                }
                Ok(match self.eval(&kids[0], depth + 1)? {
                    Tri::True => Tri::False,
                    Tri::False => Tri::True,
                    Tri::Unknown => Tri::Unknown,
                })
            }
            "isNull" => {
                let kids = self.children(node)?;
                let [child] = kids.as_slice() else { return Err(Invalid) };
                if child.get("op").and_then(Value::as_str) != Some("column") {
                    return Err(Invalid);
                }
                let name = child.get("name").and_then(Value::as_str).ok_or(Invalid)?;
                let Some(col) = self.partition_columns.iter().find(|p| p.eq_ignore_ascii_case(name)) else {
                    return Ok(Tri::Unknown);
                };
                Ok(if self.file.partition_value(col).is_none() { Tri::True } else { Tri::False })
            }
            "equal" | "lessThan" | "lessThanOrEqual" | "greaterThan" | "greaterThanOrEqual" => {
                let kids = self.children(node)?;
                let [a, b] = kids.as_slice() else { return Err(Invalid) };
                let (Some(a), Some(b)) = (self.leaf(a)?, self.leaf(b)?) else { return Ok(Tri::Unknown) };
                let Some(ord) = a.partial_cmp(&b) else { return Ok(Tri::Unknown) };
                use std::cmp::Ordering::*;
                let holds = match op {
                    "equal" => ord == Equal,
                    "lessThan" => ord == Less,
                    "lessThanOrEqual" => ord != Greater,
                    "greaterThan" => ord == Greater,
                    _ => ord != Less,
                };
                Ok(if holds { Tri::True } else { Tri::False })
            }
            _ => Err(Invalid),
        }
    }
}

/// A parsed `jsonPredicateHints`; `None` when it is not valid JSON (then it filters nothing).
pub fn parse_json_predicate(raw: &str) -> Option<Value> {
    serde_json::from_str::<Value>(raw).ok().filter(Value::is_object)
}

/// Whether the predicate leaves the file out: only when it is *false* for its partition values.
pub fn predicate_excludes(predicate: &Value, file: &FileAction, partition_columns: &[String]) -> bool {
    matches!(Eval { file, partition_columns }.eval(predicate, 0), Ok(Tri::False))
}

/// `limitHint`: how many files (from the front) to keep so that their `numRecords` reach
/// `limit`; a file without `numRecords` keeps itself and every file after it.
pub fn limit_count(files: &[&FileAction], limit: i64) -> usize {
    if limit <= 0 {
        return 0;
    }
    let mut sum = 0i64;
    for (i, f) in files.iter().enumerate() {
        let Some(n) = f.num_records() else { return files.len() };
        sum = sum.saturating_add(n);
        if sum >= limit {
            return i + 1;
        }
    }
    files.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(pv: Value, records: Option<i64>) -> FileAction {
        let mut raw = serde_json::Map::new();
        raw.insert("path".into(), "x".into());
        raw.insert("partitionValues".into(), pv);
        if let Some(n) = records {
            raw.insert("stats".into(), Value::String(format!("{{\"numRecords\":{n}}}")));
        }
        FileAction { raw }
    }

    fn cond(column: &str, like: bool, value: Option<&str>) -> Cond {
        Cond { column: column.into(), like, value: value.map(String::from), never: false }
    }

    #[test]
    fn partitions_are_or_of_and() {
        let cols = vec!["region".to_string(), "year".to_string()];
        let f = PartitionFilter {
            partitions: vec![
                vec![cond("REGION", false, Some("eu")), cond("year", true, Some("20%"))],
                vec![cond("region", false, None)],
            ],
        };
        assert!(f.admits(&file(serde_json::json!({"region": "eu", "year": "2024"}), None), &cols));
        assert!(!f.admits(&file(serde_json::json!({"region": "eu", "year": "1999"}), None), &cols));
        assert!(f.admits(&file(serde_json::json!({"region": null, "year": "1999"}), None), &cols));
        assert!(f.admits(&file(serde_json::json!({"region": "", "year": "1999"}), None), &cols), "\"\" is null");
        let unknown_col = PartitionFilter { partitions: vec![vec![cond("nope", false, None)]] };
        assert!(!unknown_col.admits(&file(serde_json::json!({}), None), &cols));
        let never = PartitionFilter { partitions: vec![vec![Cond { never: true, ..cond("region", false, None) }]] };
        assert!(!never.admits(&file(serde_json::json!({"region": null}), None), &cols));
        assert!(PartitionFilter::default().admits(&file(serde_json::json!({}), None), &cols));
    }

    #[test]
    fn json_predicates_use_three_valued_logic_on_partition_columns() {
        let cols = vec!["year".to_string()];
        let p = parse_json_predicate(
            r#"{"op":"and","children":[
                {"op":"greaterThanOrEqual","children":[{"op":"column","name":"year","valueType":"int"},{"op":"literal","value":"2020","valueType":"int"}]},
                {"op":"lessThan","children":[{"op":"column","name":"amount","valueType":"int"},{"op":"literal","value":"5","valueType":"int"}]}
            ]}"#,
        )
        .unwrap();
        assert!(predicate_excludes(&p, &file(serde_json::json!({"year": "2019"}), None), &cols));
        assert!(!predicate_excludes(&p, &file(serde_json::json!({"year": "2021"}), None), &cols), "unknown kept");
        assert!(predicate_excludes(&p, &file(serde_json::json!({"year": "100"}), None), &cols), "numeric order");
        let not_null = parse_json_predicate(
            r#"{"op":"not","children":[{"op":"isNull","children":[{"op":"column","name":"year","valueType":"int"}]}]}"#,
        )
        .unwrap();
        assert!(predicate_excludes(&not_null, &file(serde_json::json!({}), None), &cols));
        let bad = parse_json_predicate(r#"{"op":"frobnicate"}"#).unwrap();
        assert!(!predicate_excludes(&bad, &file(serde_json::json!({"year": "1"}), None), &cols));
        assert!(parse_json_predicate("not json").is_none());
    }

    /// `column <op> literal` on the partition column `c` of type `ty`.
    fn compare(op: &str, ty: &str, literal: &str) -> Value {
        parse_json_predicate(
            &serde_json::json!({"op": op, "children": [{"op": "column", "name": "c", "valueType": ty},
                                                       {"op": "literal", "value": literal, "valueType": ty}]})
            .to_string(),
        )
        .unwrap()
    }

    #[test]
    fn json_predicate_types_compare_as_their_values() {
        let cols = vec!["c".to_string()];
        let excludes = |p: &Value, v: &str| predicate_excludes(p, &file(serde_json::json!({"c": v}), None), &cols);
        // Numbers numerically, floats too.
        assert!(excludes(&compare("greaterThan", "long", "9"), "8"));
        assert!(!excludes(&compare("greaterThan", "long", "9"), "10"), "10 > 9 as numbers");
        assert!(!excludes(&compare("lessThan", "double", "10.5"), "9.75"));
        assert!(excludes(&compare("lessThan", "float", "1e1"), "10.0"));
        // Timestamps as instants: 01:00+02:00 is before 00:00Z.
        assert!(excludes(
            &compare("greaterThanOrEqual", "timestamp", "2024-01-01T00:00:00Z"),
            "2024-01-01T01:00:00+02:00"
        ));
        assert!(!excludes(&compare("lessThan", "timestamp", "2024-01-01T00:00:00Z"), "2024-01-01T01:00:00+02:00"));
        // Dates and strings by character; booleans as true/false.
        assert!(!excludes(&compare("lessThanOrEqual", "date", "2024-02-01"), "2024-01-31"));
        assert!(excludes(&compare("equal", "string", "eu"), "EU"), "case-sensitive");
        assert!(!excludes(&compare("equal", "bool", "true"), "true"));
        assert!(excludes(&compare("equal", "bool", "true"), "false"));
        // A value that does not convert is unknown (kept), as is an unknown type.
        assert!(!excludes(&compare("equal", "int", "1"), "abc"));
        assert!(!excludes(&compare("equal", "decimal(3,1)", "1"), "2"));
        // A null partition value is unknown for comparisons.
        let p = compare("equal", "string", "eu");
        assert!(!predicate_excludes(&p, &file(serde_json::json!({"c": null}), None), &cols));
    }

    #[test]
    fn limit_counts_records_in_order() {
        let a = file(serde_json::json!({}), Some(2));
        let b = file(serde_json::json!({}), Some(2));
        let c = file(serde_json::json!({}), None);
        assert_eq!(limit_count(&[&a, &b, &c], 0), 0);
        assert_eq!(limit_count(&[&a, &b, &c], 1), 1);
        assert_eq!(limit_count(&[&a, &b, &c], 3), 2);
        assert_eq!(limit_count(&[&a, &b, &c], 5), 3);
        assert_eq!(limit_count(&[&c, &a], 1), 2, "no numRecords: it and the rest");
    }
}
