//! Object names, parsed once at the edge: validated and lower-cased.
//! Column names are not `Ident`s: they keep their case.

use std::fmt;

/// Hosted UC's limit on one name part.
pub const MAX_NAME_CHARS: usize = 255;

/// Why a name was refused; `field` is the request field or path part that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    pub field: String,
    pub problem: String,
}

impl NameError {
    fn new(field: &str, problem: impl Into<String>) -> Self {
        NameError { field: field.to_string(), problem: problem.into() }
    }
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// One part of a UC object name: 1..=255 characters, no `.`, `/` or control character,
/// lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident(String);

/// The one case fold of UC names: object names (and the `LIKE` patterns and `shared_as`
/// aliases matched against them) compare and store lower-cased.
pub fn fold_case(s: &str) -> String {
    s.to_lowercase()
}

impl Ident {
    pub fn parse(field: &str, raw: &str) -> Result<Ident, NameError> {
        if raw.is_empty() {
            return Err(NameError::new(field, "must not be empty"));
        }
        // The usual name: printable ASCII, no separator, within the limit.
        if raw.len() <= MAX_NAME_CHARS && raw.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'.' && b != b'/') {
            return Ok(Ident(raw.to_ascii_lowercase()));
        }
        if let Some(bad) = raw.chars().find(|c| matches!(c, '.' | '/') || c.is_control()) {
            return Err(NameError::new(field, format!("contains the character {bad:?}, which names may not contain")));
        }
        // The limit applies to the name as stored: lower-casing can lengthen it (U+0130).
        let lower = raw.to_lowercase();
        let chars = lower.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(NameError::new(
                field,
                format!("is {chars} characters long after lower-casing; at most {MAX_NAME_CHARS} are allowed"),
            ));
        }
        Ok(Ident(lower))
    }

    /// A name the store wrote itself (already validated and lower-cased).
    pub fn from_stored(s: String) -> Ident {
        Ident(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Ident {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Splits a full name into exactly `N` parts, each a valid `Ident`.
fn parts<const N: usize>(field: &str, raw: &str, kind: &str) -> Result<[Ident; N], NameError> {
    let mut split = [""; N];
    let mut pieces = raw.split('.');
    let shaped = split.iter_mut().all(|slot| pieces.next().map(|p| *slot = p).is_some())
        && pieces.next().is_none()
        && split.iter().all(|p| !p.is_empty());
    if !shaped {
        let shape = match N {
            2 => "<catalog>.<schema>",
            _ => "<catalog>.<schema>.<name>",
        };
        return Err(NameError::new(field, format!("'{raw}' is not a valid {kind} full name; expected {shape}")));
    }
    let mut out: [Option<Ident>; N] = std::array::from_fn(|_| None);
    for (slot, p) in out.iter_mut().zip(split) {
        *slot = Some(Ident::parse(field, p)?);
    }
    Ok(out.map(|i| i.expect("every part parsed above")))
}

/// `<catalog>.<schema>`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SchemaName {
    pub catalog: Ident,
    pub schema: Ident,
}

impl SchemaName {
    pub fn parse(field: &str, raw: &str) -> Result<SchemaName, NameError> {
        let [catalog, schema] = parts::<2>(field, raw, "schema")?;
        Ok(SchemaName { catalog, schema })
    }
}

impl fmt::Display for SchemaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.catalog, self.schema)
    }
}

/// `<catalog>.<schema>.<table>` (tables and views; functions share the shape).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableName {
    pub catalog: Ident,
    pub schema: Ident,
    pub table: Ident,
}

impl TableName {
    pub fn parse(field: &str, raw: &str) -> Result<TableName, NameError> {
        let [catalog, schema, table] = parts::<3>(field, raw, "table")?;
        Ok(TableName { catalog, schema, table })
    }

    pub fn schema_name(&self) -> SchemaName {
        SchemaName { catalog: self.catalog.clone(), schema: self.schema.clone() }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.catalog, self.schema, self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents_are_lower_cased_and_keep_unicode() {
        assert_eq!(Ident::parse("name", "FooBar").unwrap().as_str(), "foobar");
        assert_eq!(Ident::parse("name", "SømeSchëma").unwrap().as_str(), "sømeschëma");
        assert_eq!(Ident::parse("name", "with space").unwrap().as_str(), "with space");
    }

    #[test]
    fn idents_refuse_separators_controls_and_lengths() {
        for bad in ["", "a.b", "a/b", "tab\there"] {
            let e = Ident::parse("name", bad).unwrap_err();
            assert_eq!(e.field, "name", "{bad:?}");
        }
        assert!(Ident::parse("name", &"x".repeat(255)).is_ok());
        assert!(Ident::parse("name", &"x".repeat(256)).is_err());
        assert!(Ident::parse("name", &"é".repeat(255)).is_ok(), "the limit counts characters, not bytes");
    }

    #[test]
    fn the_reference_table_name_round_trips() {
        let t = TableName::parse("full_name", "SomeCÄt.SømeSchëma.テーブル").unwrap();
        assert_eq!(t.to_string(), "somecät.sømeschëma.テーブル");
        assert_eq!(TableName::parse("full_name", &t.to_string()).unwrap(), t);
    }

    #[test]
    fn full_names_need_exactly_their_parts() {
        assert!(SchemaName::parse("full_name", "a.b").is_ok());
        for bad in ["a", "a.b.c", "a.", ".b"] {
            assert!(SchemaName::parse("full_name", bad).is_err(), "{bad}");
        }
        for bad in ["only_one_part", "a.b", "a.b.c.d", "a..b"] {
            assert!(TableName::parse("full_name", bad).is_err(), "{bad}");
        }
    }
}
