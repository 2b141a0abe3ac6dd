//! A JSON object written field by field, for the one answer the hot read path renders
//! (a table's `TableInfo`, on its own or fifty to a page).
//!
//! `serde_json` escapes a string byte by byte through a lookup table, keys included: for a
//! getTable's 924 bytes about 4,800 of the request's 65,400 instructions. Here a field's key is
//! written as it is (keys are the struct's own ASCII names, nothing to escape), and a value is
//! first checked for a byte that needs escaping, sixteen bytes at a time (see [`any_escape`]),
//! and copied whole; a value that does need escaping goes through
//! `serde_json`, so the output is byte for byte what `serde_json` writes (a property test in
//! `api::tables` compares them).

/// An open JSON object in `out`; [`JsonObject::end`] closes it.
pub struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> JsonObject<'a> {
    pub fn begin(out: &'a mut Vec<u8>) -> JsonObject<'a> {
        out.push(b'{');
        JsonObject { out, first: true }
    }

    /// `"key":` after the separator. `key` is an ASCII field name with nothing to escape.
    fn key(&mut self, key: &'static str) {
        debug_assert!(key.bytes().all(|b| !needs_escape(b)), "field name {key:?} needs escaping");
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    pub fn str(&mut self, key: &'static str, value: &str) {
        self.key(key);
        push_str(self.out, value);
    }

    /// The field only when `value` is `Some` (serde's `skip_serializing_if = "Option::is_none"`).
    pub fn opt_str(&mut self, key: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }

    /// JSON text written as it is (the caller vouches for it: stored JSON).
    pub fn raw(&mut self, key: &'static str, json: &str) {
        self.key(key);
        self.out.extend_from_slice(json.as_bytes());
    }

    pub fn i64(&mut self, key: &'static str, n: i64) {
        self.key(key);
        // (`write!` goes through `core::fmt`: ten times the instructions.)
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = n.unsigned_abs();
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        if n < 0 {
            self.out.push(b'-');
        }
        self.out.extend_from_slice(&digits[at..]);
    }

    pub fn bool(&mut self, key: &'static str, b: bool) {
        self.key(key);
        self.out.extend_from_slice(if b { b"true" } else { b"false" });
    }

    /// An array of `items`, each written by `write`.
    pub fn array<T>(&mut self, key: &'static str, items: &[T], write: impl Fn(&T, &mut Vec<u8>)) {
        self.key(key);
        self.out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            write(item, self.out);
        }
        self.out.push(b']');
    }

    pub fn end(self) {
        self.out.push(b'}');
    }
}

/// Whether `serde_json` writes byte `b` of a string escaped: control characters, `"` and `\`.
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether any byte of `s` needs escaping: sixteen bytes at a time, each block without early
/// exit (so that the compiler compares the whole block in a few vector instructions).
fn any_escape(s: &[u8]) -> bool {
    let mut blocks = s.chunks_exact(16);
    for block in &mut blocks {
        if block.iter().fold(false, |any, &b| any | needs_escape(b)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&b| needs_escape(b))
}

/// `s` as a JSON string, exactly as `serde_json` writes it.
fn push_str(out: &mut Vec<u8>, s: &str) {
    if !any_escape(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let long = "0123456789abcdef".repeat(3);
        let late = format!("{long}\"");
        let cases = [
            long.as_str(),
            late.as_str(),
            "",
            "plain",
            "quote \" here",
            "back\\slash",
            "tab\tnew\nline",
            "\u{1}\u{1f}\u{7f}",
            "é ✓ 🦀",
            "</script>",
        ];
        for s in cases {
            let mut out = Vec::new();
            push_str(&mut out, s);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn an_object_separates_its_fields_and_skips_absent_ones() {
        let mut out = Vec::new();
        let mut o = JsonObject::begin(&mut out);
        o.str("a", "x");
        o.opt_str("gone", None);
        o.opt_str("b", Some("y\"z"));
        o.raw("c", r#"[1,{"d":2}]"#);
        o.i64("e", -42);
        o.i64("e0", 0);
        o.i64("e1", i64::MIN);
        o.bool("f", true);
        o.array("g", &[1, 2], |n, out| out.extend_from_slice(n.to_string().as_bytes()));
        o.array("h", &[0; 0], |_, _| unreachable!());
        o.end();
        let want = r#"{"a":"x","b":"y\"z","c":[1,{"d":2}],"e":-42,"e0":0,"e1":-9223372036854775808,"f":true,"g":[1,2],"h":[]}"#;
        assert_eq!(String::from_utf8(out).unwrap(), want);
        let mut empty = Vec::new();
        JsonObject::begin(&mut empty).end();
        assert_eq!(empty, b"{}");
    }
}
