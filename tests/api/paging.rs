//! List paging as the SDK pages (`max_results`, `page_token`, sealed page tokens): the last page
//! has no `next_page_token` key.

use std::collections::HashMap;

use serde_json::Value;

use crate::helpers::{enc, names, spawn, As, TestApp, UC};

/// One page: the names on it and its `next_page_token`, after checking the envelope.
async fn page(
    caller: &As<'_>,
    list: &str,
    key: &str,
    max_results: Option<i64>,
    token: Option<&str>,
) -> (Vec<String>, Option<String>) {
    let sep = if list.contains('?') { '&' } else { '?' };
    let mut url = list.to_string();
    let mut sep = sep;
    if let Some(n) = max_results {
        url.push_str(&format!("{sep}max_results={n}"));
        sep = '&';
    }
    if let Some(t) = token {
        url.push_str(&format!("{sep}page_token={}", enc(t)));
    }
    let body = caller.get(&url).await.ok(&format!("GET {url}"));
    let items = names(&body, key);
    if let Some(n) = max_results.filter(|n| *n > 0) {
        assert!(items.len() as i64 <= n, "GET {url}: {} items on a page of at most {n}", items.len());
    }
    let next = match body.get("next_page_token") {
        None => None,
        Some(Value::String(t)) => {
            assert!(!t.is_empty(), "GET {url}: next_page_token is an empty string (must be absent)");
            Some(t.clone())
        }
        Some(other) => panic!("GET {url}: next_page_token is {other}"),
    };
    (items, next)
}

/// Every name of a list, page by page; panics after too many pages.
async fn walk(caller: &As<'_>, list: &str, key: &str, max_results: i64) -> Vec<String> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..1000 {
        let (items, next) = page(caller, list, key, Some(max_results), token.as_deref()).await;
        all.extend(items);
        match next {
            None => return all,
            Some(t) => token = Some(t),
        }
    }
    panic!("{list}: paging never ended");
}

fn assert_no_repeats(names: &[String], what: &str) {
    let mut seen = HashMap::new();
    for n in names {
        *seen.entry(n.clone()).or_insert(0) += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).collect();
    assert!(repeated.is_empty(), "{what}: repeated rows {repeated:?} in {names:?}");
}

/// A metastore with 12 more catalogs, a catalog `big` with 9 schemas and a schema `big.s0`
/// with 11 tables.
async fn populated() -> TestApp {
    let app = spawn().await;
    let admin = app.admin();
    for i in 0..12 {
        admin.create_catalog(&format!("c{i:02}")).await;
    }
    admin.create_catalog("big").await;
    for i in 0..9 {
        admin.create_schema("big", &format!("s{i}")).await;
    }
    for i in 0..11 {
        admin.create_table("big", "s0", &format!("t{i:02}")).await;
    }
    app
}

const CATALOGS: &str = "/api/2.1/unity-catalog/catalogs";

fn lists() -> Vec<(String, &'static str)> {
    vec![
        (CATALOGS.to_string(), "catalogs"),
        (format!("{UC}/schemas?catalog_name=big"), "schemas"),
        (format!("{UC}/tables?catalog_name=big&schema_name=s0"), "tables"),
    ]
}

#[actix_web::test]
async fn max_results_absent_zero_positive_and_negative() {
    let app = populated().await;
    let admin = app.admin();
    for (list, key) in lists() {
        // Absent: everything, and no next_page_token key.
        let (all, next) = page(&admin, &list, key, None, None).await;
        assert_eq!(next, None, "{list}: absent max_results must give the whole list");
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(all, sorted, "{list}: lists are ordered by name");
        assert_no_repeats(&all, &list);
        assert!(all.len() >= 11, "{list}: {all:?}");

        // 0: the server page size (1000), so all of these fit on one page.
        let (zero, next) = page(&admin, &list, key, Some(0), None).await;
        assert_eq!(zero, all, "{list}: max_results=0");
        assert_eq!(next, None, "{list}: max_results=0 with fewer rows than the server page");

        // More than the server maximum is capped, not refused.
        let (huge, next) = page(&admin, &list, key, Some(1_000_000), None).await;
        assert_eq!(huge, all, "{list}: max_results=1000000");
        assert_eq!(next, None);

        // A page size at least the list's length: one page, no token.
        let (exact, next) = page(&admin, &list, key, Some(all.len() as i64 + 1), None).await;
        assert_eq!(exact, all);
        assert_eq!(next, None, "{list}: a last page carries no next_page_token");

        // n > 0: pages of at most n that together give the whole list once, in order.
        for n in [1, 2, 3, 5, 7] {
            let walked = walk(&admin, &list, key, n).await;
            assert_eq!(walked, all, "{list}: walking with max_results={n}");
        }
        let (first, next) = page(&admin, &list, key, Some(4), None).await;
        assert_eq!(first, all[..4].to_vec(), "{list}: first page of 4");
        assert!(next.is_some(), "{list}: a page that is not the last carries next_page_token");

        // Negative: 400 naming max_results, never a 5xx.
        for n in [-1, -5, i64::MIN] {
            let sep = if list.contains('?') { '&' } else { '?' };
            app.admin()
                .get(&format!("{list}{sep}max_results={n}"))
                .await
                .invalid("max_results", &format!("{list} max_results={n}"));
        }
    }
}

#[actix_web::test]
async fn forged_tampered_truncated_and_foreign_page_tokens_are_400() {
    let app = populated().await;
    app.admin().create_schema("c00", "other").await;
    for i in 0..3 {
        app.admin().create_table("big", "s1", &format!("x{i}")).await;
    }
    let admin = app.admin();
    let schemas_big = format!("{UC}/schemas?catalog_name=big");
    let schemas_c00 = format!("{UC}/schemas?catalog_name=c00");
    let tables_s0 = format!("{UC}/tables?catalog_name=big&schema_name=s0");
    let tables_s1 = format!("{UC}/tables?catalog_name=big&schema_name=s1");

    let (_, catalogs_token) = page(&admin, CATALOGS, "catalogs", Some(2), None).await;
    let catalogs_token = catalogs_token.expect("a catalogs token");
    let (_, schemas_token) = page(&admin, &schemas_big, "schemas", Some(2), None).await;
    let schemas_token = schemas_token.expect("a schemas token");
    let (_, tables_token) = page(&admin, &tables_s0, "tables", Some(2), None).await;
    let tables_token = tables_token.expect("a tables token");

    let flip = |t: &str, at: usize| {
        let mut b = t.as_bytes().to_vec();
        b[at] = if b[at] == b'0' { b'1' } else { b'0' };
        String::from_utf8(b).unwrap()
    };
    let cases: Vec<(String, &str, String)> = vec![
        (CATALOGS.to_string(), "garbage", "garbage".to_string()),
        (CATALOGS.to_string(), "a name", "c03".to_string()),
        (CATALOGS.to_string(), "zero bytes", "00".repeat(64)),
        (CATALOGS.to_string(), "base64-ish", "eyJhZnRlciI6ImMwMyJ9".to_string()),
        (CATALOGS.to_string(), "truncated", catalogs_token[..catalogs_token.len() - 2].to_string()),
        (CATALOGS.to_string(), "extended", format!("{catalogs_token}00")),
        (CATALOGS.to_string(), "tampered start", flip(&catalogs_token, 0)),
        (CATALOGS.to_string(), "tampered middle", flip(&catalogs_token, catalogs_token.len() / 2)),
        (CATALOGS.to_string(), "tampered end", flip(&catalogs_token, catalogs_token.len() - 1)),
        (CATALOGS.to_string(), "a schemas token", schemas_token.clone()),
        (CATALOGS.to_string(), "a tables token", tables_token.clone()),
        (schemas_big.clone(), "a catalogs token", catalogs_token.clone()),
        (schemas_c00.clone(), "another catalog's schemas token", schemas_token.clone()),
        (tables_s1.clone(), "another schema's tables token", tables_token.clone()),
        (schemas_big.clone(), "a tables token", tables_token.clone()),
    ];
    let before = app.dump_state().await;
    for (list, what, token) in cases {
        let sep = if list.contains('?') { '&' } else { '?' };
        for max in ["", "&max_results=2", "&max_results=0"] {
            let url = format!("{list}{sep}page_token={}{max}", enc(&token));
            let msg = app.admin().get(&url).await.invalid("page_token", &format!("{what} on {list}{max}"));
            assert!(!msg.contains(&token) || token.len() < 8, "the message need not echo the token: {msg}");
        }
    }
    assert_eq!(app.dump_state().await, before);

    // The genuine tokens still work where they were issued.
    let (rest, _) = page(&admin, CATALOGS, "catalogs", Some(2), Some(&catalogs_token)).await;
    assert!(!rest.is_empty());
    let (rest, _) = page(&admin, &tables_s0, "tables", Some(2), Some(&tables_token)).await;
    assert_eq!(rest, vec!["t02", "t03"]);
}

/// Walks `list` two rows at a time, running `between[i]` after page `i`; returns the names seen.
async fn walk_with_writes(app: &TestApp, list: &str, key: &str, between: &[Vec<(&str, String)>]) -> Vec<String> {
    let admin = app.admin();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut i = 0;
    loop {
        let (items, next) = page(&admin, list, key, Some(2), token.as_deref()).await;
        seen.extend(items);
        let Some(t) = next else { return seen };
        token = Some(t);
        if let Some(writes) = between.get(i) {
            for (op, path) in writes {
                let res = match *op {
                    "DELETE" => admin.delete(path).await,
                    "POST_CATALOG" => admin.post(&format!("{UC}/catalogs"), serde_json::json!({"name": path})).await,
                    "POST_TABLE" => {
                        admin.post(&format!("{UC}/tables"), crate::helpers::table_body("big", "s0", path)).await
                    }
                    other => panic!("{other}"),
                };
                res.ok(&format!("{op} {path} between pages"));
            }
        }
        i += 1;
        assert!(i < 500, "paging never ended");
    }
}

#[actix_web::test]
async fn catalog_page_tokens_survive_inserts_and_deletes() {
    let app = populated().await;
    // Sorted: big, c00 .. c11, main.
    let (initial, _) = page(&app.admin(), CATALOGS, "catalogs", None, None).await;
    let del = |n: &str| ("DELETE", format!("{CATALOGS}/{n}?force=true"));
    let add = |n: &str| ("POST_CATALOG", n.to_string());
    let between = vec![
        // After [big, c00]: delete the row the page stopped at, and one not yet seen; insert
        // before and after the resume point.
        vec![del("c00"), del("c04"), add("a_before"), add("c015"), add("zz_after")],
        // After [c01, c015]: delete the next row to be seen, insert one at the very end.
        vec![del("c02"), add("zzz")],
        vec![],
        // After [c06, c07]: delete rows already seen, and one upcoming row.
        vec![del("big"), del("c01"), del("c03"), del("c09")],
        // After [c08, c10]: insert behind and ahead of the cursor.
        vec![add("c055"), add("b"), add("c105")],
    ];
    let seen = walk_with_writes(&app, CATALOGS, "catalogs", &between).await;
    assert_no_repeats(&seen, "catalogs walk");
    let deleted = ["c00", "c04", "c02", "big", "c01", "c03", "c09"];
    let throughout: Vec<&String> = initial.iter().filter(|n| !deleted.contains(&n.as_str())).collect();
    for n in throughout {
        assert!(seen.contains(n), "{n} was there throughout but the walk skipped it: {seen:?}");
    }
    for n in ["big", "c00", "c01", "c03"] {
        assert!(seen.contains(&n.to_string()), "{n} was seen before it was deleted: {seen:?}");
    }
    for n in ["c04", "c02", "c09"] {
        assert!(!seen.contains(&n.to_string()), "{n} was deleted before its page: {seen:?}");
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "paging resumes by name: {seen:?}");
    for n in ["c015", "zz_after", "zzz", "c105"] {
        assert!(seen.contains(&n.to_string()), "{n} was inserted ahead of the cursor: {seen:?}");
    }
    for n in ["a_before", "b", "c055"] {
        assert!(!seen.contains(&n.to_string()), "{n} was inserted behind the cursor: {seen:?}");
    }
}

#[actix_web::test]
async fn table_page_tokens_survive_inserts_and_deletes() {
    let app = populated().await;
    let list = format!("{UC}/tables?catalog_name=big&schema_name=s0");
    let (initial, _) = page(&app.admin(), &list, "tables", None, None).await;
    assert_eq!(initial.len(), 11);
    let del = |n: &str| ("DELETE", format!("{UC}/tables/big.s0.{n}"));
    let add = |n: &str| ("POST_TABLE", n.to_string());
    let between = vec![
        vec![del("t01"), del("t02"), add("t015")],
        vec![del("t00"), add("a0"), add("t99")],
        vec![del("t05"), del("t06")],
    ];
    let seen = walk_with_writes(&app, &list, "tables", &between).await;
    assert_no_repeats(&seen, "tables walk");
    for n in ["t00", "t01", "t015", "t03", "t04", "t05", "t07", "t08", "t09", "t10", "t99"] {
        assert!(seen.contains(&n.to_string()), "{n} missing from {seen:?}");
    }
    for n in ["t02", "a0", "t06"] {
        assert!(!seen.contains(&n.to_string()), "{n} should not appear in {seen:?}");
    }
}

#[actix_web::test]
async fn a_page_token_keeps_working_after_its_list_ends_and_pages_may_be_empty() {
    let app = populated().await;
    // Alice may see no catalog: paging for her must still end, with no catalog she cannot use.
    let seen = walk(&app.alice(), CATALOGS, "catalogs", 3).await;
    assert!(seen.is_empty(), "alice has no grants, yet saw {seen:?}");
    // A token whose remaining rows were all deleted gives an empty last page, not an error.
    let admin = app.admin();
    let list = format!("{UC}/tables?catalog_name=big&schema_name=s0");
    let (_, token) = page(&admin, &list, "tables", Some(10), None).await;
    let token = token.expect("11 tables, pages of 10");
    admin.delete(&format!("{UC}/tables/big.s0.t10")).await.ok("delete the last table");
    let (rest, next) = page(&admin, &list, "tables", Some(10), Some(&token)).await;
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(next, None, "the list ended");
}
