//! SCIM filter expressions (RFC 7644 section 3.4.2.2), the subset Databricks SCIM serves: `eq`,
//! `co`, `sw` on attributes, combined with `and`, `or` and parentheses. Values are quoted strings,
//! `true` / `false`, or (as hosted Databricks accepts) bare words.

/// A parsed filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    Compare { attr: String, op: Op, value: Value },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    /// Not equal: no value of the attribute equals the operand.
    Ne,
    Co,
    Sw,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Bool(bool),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
}

fn lex(input: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Tok::Open);
            }
            ')' => {
                chars.next();
                out.push(Tok::Close);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated string".into()),
                        Some('\\') => match chars.next() {
                            Some(e) => s.push(e),
                            None => return Err("unterminated string".into()),
                        },
                        Some('"') => break,
                        Some(ch) => s.push(ch),
                    }
                }
                out.push(Tok::Str(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || ch == '(' || ch == ')' || ch == '"' {
                        break;
                    }
                    w.push(ch);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.atom()?;
        while self.peek_word("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Filter, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Open) => {
                self.pos += 1;
                let inner = self.or()?;
                if self.toks.get(self.pos) != Some(&Tok::Close) {
                    return Err("missing ')'".into());
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::Word(attr)) => {
                self.pos += 1;
                let op = match self.toks.get(self.pos) {
                    Some(Tok::Word(o)) => match o.to_ascii_lowercase().as_str() {
                        "eq" => Op::Eq,
                        "ne" => Op::Ne,
                        "co" => Op::Co,
                        "sw" => Op::Sw,
                        other => return Err(format!("unsupported operator '{other}'")),
                    },
                    _ => return Err(format!("expected an operator after '{attr}'")),
                };
                self.pos += 1;
                let value = match self.toks.get(self.pos) {
                    Some(Tok::Str(s)) => Value::Str(s.clone()),
                    Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Value::Bool(true),
                    Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Value::Bool(false),
                    // Hosted Databricks also takes a bare word: `displayName eq my-group`.
                    Some(Tok::Word(w)) => Value::Str(w.clone()),
                    _ => return Err(format!("expected a value after '{attr} {}'", op_name(op))),
                };
                self.pos += 1;
                Ok(Filter::Compare { attr, op, value })
            }
            _ => Err("expected an attribute or '('".into()),
        }
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Eq => "eq",
        Op::Ne => "ne",
        Op::Co => "co",
        Op::Sw => "sw",
    }
}

/// Longest filter (and PATCH `path`) accepted, in characters after percent-decoding.
pub const MAX_CHARS: usize = 4096;
/// Deepest parenthesis nesting accepted in a filter (the brackets of `members[…]` do not count).
pub const MAX_DEPTH: usize = 32;

/// Checks the length and nesting limits before anything is parsed, so that no input can make the
/// parser recurse deeply. `Err` is the problem, for a 400 naming the field.
pub fn check_limits(input: &str) -> Result<(), String> {
    let chars = input.chars().count();
    if chars > MAX_CHARS {
        return Err(format!("is {chars} characters long; at most {MAX_CHARS} are allowed"));
    }
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for c in input.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_DEPTH {
        return Err(format!("nests parentheses {deepest} deep; at most {MAX_DEPTH} levels are allowed"));
    }
    Ok(())
}

/// Parses a filter, checking every attribute against `allowed` (case-insensitive). The limits of
/// [`check_limits`] are checked first.
pub fn parse(input: &str, allowed: &[&str]) -> Result<Filter, String> {
    check_limits(input)?;
    let toks = lex(input)?;
    let mut p = Parser { toks, pos: 0 };
    let f = p.or()?;
    if p.pos != p.toks.len() {
        return Err("unexpected text after the filter".into());
    }
    check_attrs(&f, allowed)?;
    Ok(f)
}

fn check_attrs(f: &Filter, allowed: &[&str]) -> Result<(), String> {
    match f {
        Filter::Compare { attr, .. } => {
            if allowed.iter().any(|a| a.eq_ignore_ascii_case(attr)) {
                Ok(())
            } else {
                Err(format!("attribute '{attr}' cannot be filtered on; allowed: {}", allowed.join(", ")))
            }
        }
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_attrs(a, allowed)?;
            check_attrs(b, allowed)
        }
    }
}

/// Refuses a comparison of a boolean attribute (`active`) with a quoted string: `active eq "true"`
/// is an error, `active eq true` is the way to say it.
pub fn check_booleans(f: &Filter, booleans: &[&str]) -> Result<(), String> {
    match f {
        Filter::Compare { attr, value: Value::Str(v), .. } if booleans.iter().any(|b| b.eq_ignore_ascii_case(attr)) => {
            Err(format!("attribute '{attr}' is a boolean; compare it with true or false, not the string {v:?}"))
        }
        Filter::Compare { .. } => Ok(()),
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_booleans(a, booleans)?;
            check_booleans(b, booleans)
        }
    }
}

impl Filter {
    /// Evaluates the filter; `get(attr)` gives the attribute's values, `exact(attr)` says
    /// whether `eq` on it is case-sensitive.
    pub fn matches(&self, get: &dyn Fn(&str) -> Vec<Value>, exact: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Filter::And(a, b) => a.matches(get, exact) && b.matches(get, exact),
            Filter::Or(a, b) => a.matches(get, exact) || b.matches(get, exact),
            Filter::Compare { attr, op: Op::Ne, value } => {
                !Filter::Compare { attr: attr.clone(), op: Op::Eq, value: value.clone() }.matches(get, exact)
            }
            Filter::Compare { attr, op, value } => get(attr).iter().any(|v| match (v, value) {
                (Value::Bool(x), Value::Bool(y)) => *op == Op::Eq && x == y,
                // A bare `true` / `false` compared with a string attribute is that word.
                (Value::Str(_), Value::Bool(y)) => {
                    Filter::Compare { attr: attr.clone(), op: *op, value: Value::Str(y.to_string()) }
                        .matches(get, exact)
                }
                (Value::Str(x), Value::Str(y)) => {
                    let case_sensitive = *op == Op::Eq && exact(attr);
                    let (x, y) =
                        if case_sensitive { (x.clone(), y.clone()) } else { (x.to_lowercase(), y.to_lowercase()) };
                    match op {
                        Op::Eq | Op::Ne => x == y,
                        Op::Co => x.contains(&y),
                        Op::Sw => x.starts_with(&y),
                    }
                }
                _ => false,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTRS: &[&str] = &["userName", "displayName", "active"];

    #[test]
    fn parses_precedence_and_parentheses() {
        let f = parse(r#"userName eq "a" or displayName co "b" and active eq true"#, ATTRS).unwrap();
        assert!(matches!(f, Filter::Or(_, _)), "and binds tighter than or");
        assert!(parse(r#"(userName sw "a" or userName sw "b") and active eq false"#, ATTRS).is_ok());
    }

    #[test]
    fn refuses_bad_filters() {
        for bad in [
            r#"userName eq"#,
            r#"userName gt "a""#,
            r#"emails eq "x""#,
            r#"(userName eq "a""#,
            r#"userName eq "a" extra"#,
        ] {
            assert!(parse(bad, ATTRS).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_are_checked_before_parsing() {
        let nest = |n: usize| format!("{}userName eq \"a\"{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&nest(MAX_DEPTH), ATTRS).is_ok(), "exactly at the limit is accepted");
        assert!(parse(&nest(MAX_DEPTH + 1), ATTRS).unwrap_err().contains("32"));
        assert!(parse(&nest(200_000), ATTRS).is_err(), "no stack overflow");
        assert!(parse(r#"userName eq "((((((((((((((((((((((((((((((((((((""#, ATTRS).is_ok(), "quoted parens");
        let long = format!("userName eq \"{}\"", "a".repeat(MAX_CHARS));
        assert!(parse(&long, ATTRS).unwrap_err().contains("4096"));
    }

    #[test]
    fn unquoted_values_are_accepted_as_hosted_does() {
        let f = parse("displayName eq some-group", ATTRS).unwrap();
        assert_eq!(
            f,
            Filter::Compare { attr: "displayName".into(), op: Op::Eq, value: Value::Str("some-group".into()) }
        );
        let f = parse("userName eq alice@example.com and active eq true", ATTRS).unwrap();
        let get = |a: &str| match a {
            "userName" => vec![Value::Str("alice@example.com".into())],
            _ => vec![Value::Bool(true)],
        };
        assert!(f.matches(&get, &|a| a == "userName"));
        // A bare true/false against a string attribute is the word itself.
        let f = parse("displayName eq true", ATTRS).unwrap();
        assert!(f.matches(&|_| vec![Value::Str("True".into())], &|_| false));
        assert!(!f.matches(&|_| vec![Value::Str("other".into())], &|_| false));
        assert!(parse("displayName eq two words", ATTRS).is_err());
    }

    #[test]
    fn booleans_compared_with_strings_are_found() {
        let ok = parse("userName sw \"a\" and active eq true", ATTRS).unwrap();
        assert!(check_booleans(&ok, &["active"]).is_ok());
        let bad = parse("userName sw \"a\" or (active ne \"false\")", ATTRS).unwrap();
        assert!(check_booleans(&bad, &["active"]).unwrap_err().contains("active"));
        let bad = parse("Active eq \"true\"", ATTRS).unwrap();
        assert!(check_booleans(&bad, &["active"]).is_err(), "attribute names ignore case");
    }

    #[test]
    fn matching_ignores_case_except_exact_eq() {
        let f = parse(r#"displayName co "TEAM""#, ATTRS).unwrap();
        let get = |_: &str| vec![Value::Str("smoke-team".into())];
        assert!(f.matches(&get, &|_| false));
        let f = parse(r#"userName eq "A@x""#, ATTRS).unwrap();
        let get = |_: &str| vec![Value::Str("a@x".into())];
        assert!(!f.matches(&get, &|a| a == "userName"));
    }
}
