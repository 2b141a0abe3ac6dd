//! The layering rules of ARCHITECTURE.md, checked over the source tree: nothing but the HTTP
//! layer imports `api` (the binary's `main.rs`, which starts it, excepted); the authorization core imports only the
//! domain; the domain imports nothing of the crate.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::<module>` a file names (imports and paths alike).
fn crate_modules(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `uc_emulator_crate::`, not ours
        }
        let rest = &text[i + "crate::".len()..];
        let module: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if module.is_empty() {
            // `use crate::{a, b}`: every name in the braces
            if let Some(inner) = rest.strip_prefix('{').and_then(|r| r.split('}').next()) {
                found.extend(inner.split(',').map(|p| p.trim().split("::").next().unwrap_or("").to_string()));
            }
        } else {
            found.push(module);
        }
    }
    found
}

fn tree(under: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root.join(under), &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).expect("under src").to_string_lossy().replace('\\', "/");
            (rel, std::fs::read_to_string(&p).expect("read"))
        })
        .collect()
}

#[test]
fn only_the_http_layer_imports_api() {
    let offenders: Vec<String> = tree("")
        .into_iter()
        .filter(|(rel, _)| !rel.starts_with("api/") && rel != "lib.rs" && rel != "main.rs")
        .filter(|(_, text)| crate_modules(text).iter().any(|m| m == "api") || text.contains("uc_emulator::api"))
        .map(|(rel, _)| rel)
        .collect();
    assert!(offenders.is_empty(), "modules outside src/api/ import it: {offenders:?}");
}

#[test]
fn authz_imports_only_the_domain() {
    for (rel, text) in tree("authz") {
        let foreign: Vec<String> = crate_modules(&text).into_iter().filter(|m| m != "domain" && m != "authz").collect();
        assert!(foreign.is_empty(), "src/{rel} imports {foreign:?}");
        for external in ["actix_web", "rusqlite"] {
            assert!(!text.contains(external), "src/{rel} names {external}");
        }
    }
}

#[test]
fn domain_imports_nothing_of_the_crate() {
    for (rel, text) in tree("domain") {
        let foreign: Vec<String> = crate_modules(&text).into_iter().filter(|m| m != "domain").collect();
        assert!(foreign.is_empty(), "src/{rel} imports {foreign:?}");
    }
}

#[test]
fn the_checker_sees_imports() {
    assert_eq!(crate_modules("use crate::api::extract;"), ["api"]);
    assert_eq!(crate_modules("use crate::{api, store::x};"), ["api", "store"]);
    assert!(crate_modules("let x = 1;").is_empty());
}

/// The HTTP layer decides nothing: no handler calls the authorization core's decisions
/// (`require`, `decide`, `visible`); only the extractors may (authentication, the viewed
/// principal). Operations in `ops/` (and Partner Connect's requests) make every decision.
#[test]
fn the_http_layer_makes_no_authorization_decision() {
    let decisions = ["authz::require(", "authz::decide(", "authz::visible(", "authz::explain_decision"];
    let offenders: Vec<String> = tree("api")
        .into_iter()
        .filter(|(rel, _)| rel != "api/extract.rs")
        .flat_map(|(rel, text)| {
            decisions.iter().filter(|d| text.contains(*d)).map(|d| format!("src/{rel} calls {d}")).collect::<Vec<_>>()
        })
        .collect();
    assert!(offenders.is_empty(), "decisions in the HTTP layer: {offenders:?}");
}

/// The HTTP layer writes nothing to the store by itself: every store write takes a proof, and
/// no handler names one (`Allowed` values are minted and used inside operations).
#[test]
fn the_http_layer_holds_no_proof_to_write_with() {
    let offenders: Vec<String> = tree("api")
        .into_iter()
        .filter(|(_, text)| text.contains("with_fixture_proof") || text.contains("with_server_proof"))
        .map(|(rel, _)| rel)
        .collect();
    assert!(offenders.is_empty(), "modules of src/api/ mint proofs: {offenders:?}");
}
