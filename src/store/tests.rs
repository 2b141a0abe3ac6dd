//! The store's performance invariants: every column a write filters on is indexed, and no
//! write's cost grows with the number of tables.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rusqlite::Connection;

use super::Store;
use crate::authz::Allowed;
use crate::domain::names::Ident;
use crate::error::ApiResult;
use crate::store::{credentials, principals, tables};

/// Columns that name an owner, a credential or a principal, and every foreign-key column.
fn columns_writes_filter_on(conn: &Connection) -> Vec<(String, String)> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for t in &tables {
        let cols: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for c in cols {
            let named = c == "owner"
                || c.contains("credential")
                || c.contains("principal")
                || c == "member_id"
                || c == "group_id";
            if named {
                out.push((t.clone(), c));
            }
        }
        let fks: Vec<String> = conn
            .prepare(&format!("SELECT \"from\" FROM pragma_foreign_key_list('{t}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for c in fks {
            out.push((t.clone(), c));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Whether an index (or the rowid) of `table` starts with `column`.
fn leads_an_index(conn: &Connection, table: &str, column: &str) -> bool {
    let integer_pk: bool = conn
        .query_row(
            &format!("SELECT pk = 1 AND upper(type) = 'INTEGER' FROM pragma_table_info('{table}') WHERE name = ?1"),
            [column],
            |r| r.get(0),
        )
        .unwrap();
    if integer_pk {
        return true;
    }
    conn.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM pragma_index_list('{table}') l, pragma_index_info(l.name) i
                            WHERE i.seqno = 0 AND i.name = ?1)"
        ),
        [column],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn every_owner_credential_principal_and_foreign_key_column_leads_an_index() {
    let store = Store::open(":memory:").unwrap();
    let conn = store.writer.lock().unwrap();
    let columns = columns_writes_filter_on(&conn);
    // The enumeration itself finds what it should (a rule that matches nothing proves nothing).
    for expected in [
        ("tables", "owner"),
        ("tables", "storage_credential_name"),
        ("tables", "schema_id"),
        ("grants", "principal"),
        ("workspace_acls", "principal"),
        ("tokens", "principal_id"),
        ("external_locations", "credential_id"),
        ("share_objects", "table_id"),
        ("recipients", "owner"),
        ("metastores", "storage_root_credential_id"),
    ] {
        assert!(
            columns.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} not enumerated: {columns:?}"
        );
    }
    assert!(columns.len() >= 35, "only {} columns enumerated", columns.len());
    let missing: Vec<_> = columns.iter().filter(|(t, c)| !leads_an_index(&conn, t, c)).collect();
    assert!(missing.is_empty(), "columns a write filters on without an index: {missing:?}");
}

#[test]
fn a_version_1_database_is_upgraded_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let c = Connection::open(&path).unwrap();
        // Version 1 was schema.sql without the version-2 indexes (the later steps are idempotent).
        let v1 = crate::store::SCHEMA_SQL
            .replace(&format!("PRAGMA user_version = {};", super::SCHEMA_VERSION), "PRAGMA user_version = 1;");
        // ... and without the version-4 table, so that its step really runs.
        let v4 = include_str!("migrations/0004_orphaned_owners.sql");
        let v4_body = v4.split_once("\n\n").unwrap().1;
        assert!(v1.contains(v4_body), "the version-4 step is not in schema.sql as written");
        let mut v1 = v1.replace(v4_body, "");
        for line in include_str!("migrations/0002_indexes.sql").lines().filter(|l| l.starts_with("CREATE")) {
            let plain = line.replace("IF NOT EXISTS ", "");
            assert!(v1.contains(&plain), "{plain} is not in schema.sql");
            v1 = v1.replace(&plain, "");
        }
        // ... and without the version-7 column (adding a column is not idempotent).
        let v7_column =
            "    added_version               INTEGER,              -- the table's Delta version when added\n";
        assert!(v1.contains(v7_column), "the version-7 column is not in schema.sql as written");
        let v1 = v1.replace(v7_column, "");
        c.execute_batch(&v1).unwrap();
        c.execute("INSERT INTO meta (key, value) VALUES ('kept', x'01')", []).unwrap();
    }
    let store = Store::open(path.to_str().unwrap()).unwrap();
    let conn = store.writer.lock().unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, super::SCHEMA_VERSION);
    let kept: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'kept')", [], |r| r.get(0)).unwrap();
    assert!(kept);
    assert!(leads_an_index(&conn, "tables", "owner"));
    let added_version: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_table_info('share_objects') WHERE name = 'added_version')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(added_version, "the version-7 step ran");
    let orphans: bool = conn
        .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'orphaned_owners')", [], |r| r.get(0))
        .unwrap();
    assert!(orphans, "the version-4 step ran");
}

#[test]
fn a_version_4_database_gets_workspace_assignments_and_the_token_acl_default() {
    // Before account identity (version 5) every principal could act in every workspace: the
    // upgrade assigns each to each (ADMIN for `admins` and account admins) and gives every
    // workspace's token ACL `account users` -> CAN_USE, so nothing anyone could do is lost.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.db");
    {
        let c = Connection::open(&path).unwrap();
        let v4 = crate::store::SCHEMA_SQL
            .replace(&format!("PRAGMA user_version = {};", super::SCHEMA_VERSION), "PRAGMA user_version = 4;");
        let v7_column =
            "    added_version               INTEGER,              -- the table's Delta version when added\n";
        assert!(v4.contains(v7_column), "the version-7 column is not in schema.sql as written");
        c.execute_batch(&v4.replace(v7_column, "")).unwrap();
        c.execute_batch(
            "INSERT INTO workspaces (workspace_id, name) VALUES (1001, 'a'), (1002, 'b');
             INSERT INTO principals (id, kind, name, display_name, account_admin) VALUES
               (11, 'user', 'root@example.com', 'Root', 1),
               (12, 'user', 'ann@example.com', 'Ann', 0),
               (13, 'group', 'admins', 'admins', 0),
               (14, 'service_principal', '6f1d1c2e-0000-4000-8000-000000000009', 'bot', 0);",
        )
        .unwrap();
    }
    let store = Store::open(path.to_str().unwrap()).unwrap();
    let conn = store.writer.lock().unwrap();
    let rows: Vec<(i64, i64, String)> = conn
        .prepare("SELECT workspace_id, principal_id, permission FROM workspace_assignments ORDER BY 1, 2")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut expected = Vec::new();
    for ws in [1001, 1002] {
        for (id, level) in [(11, "ADMIN"), (12, "USER"), (13, "ADMIN"), (14, "USER")] {
            expected.push((ws, id, level.to_string()));
        }
    }
    assert_eq!(rows, expected);
    let acl: Vec<(i64, String)> = conn
        .prepare("SELECT workspace_id, permission_level FROM workspace_acls WHERE object_type = 'tokens' AND principal = 'account users' ORDER BY 1")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(acl, vec![(1001, "CAN_USE".to_string()), (1002, "CAN_USE".to_string())]);
}

#[test]
fn a_newer_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v9.db");
    Connection::open(&path).unwrap().execute_batch("CREATE TABLE x (a); PRAGMA user_version = 99;").unwrap();
    assert!(matches!(Store::open(path.to_str().unwrap()), Err(super::OpenError::Version { found: 99, .. })));
}

const MS: &str = "00000000-0000-0000-0000-00000000000m";

/// A store with one metastore, a catalog, a schema holding `n` tables owned by `admin`, a
/// credential `cred` named by one table, and principals `admin`, `bob` (owns one table).
fn seeded(n: usize) -> Store {
    let store = Store::open(":memory:").unwrap();
    store
        .write_now(|c| -> rusqlite::Result<()> {
            c.execute_batch(&format!(
                "INSERT INTO principals (id, kind, name, display_name) VALUES (1, 'user', 'admin', 'admin'),
                        (2, 'user', 'bob', 'bob'), (3, 'service_principal', 'sp', 'sp');
                 INSERT INTO metastores (id, name, storage_root, owner, cloud, region, created_at, created_by,
                        updated_at, updated_by) VALUES ('{MS}', 'm', 's3://b/m', 'admin', 'aws', 'r', 0, 'a', 0, 'a');
                 INSERT INTO catalogs (id, metastore_id, name, owner, created_at, created_by, updated_at, updated_by)
                        VALUES ('c1', '{MS}', 'c', 'admin', 0, 'a', 0, 'a');
                 INSERT INTO schemas (id, catalog_id, name, owner, created_at, created_by, updated_at, updated_by)
                        VALUES ('s1', 'c1', 's', 'admin', 0, 'a', 0, 'a');
                 INSERT INTO storage_credentials (id, metastore_id, name, owner, kind, details, created_at,
                        created_by, updated_at, updated_by)
                        VALUES ('cr1', '{MS}', 'cred', 'admin', 'aws_iam_role', '{{}}', 0, 'a', 0, 'a');"
            ))?;
            let mut ins = c.prepare(
                "INSERT INTO tables (id, schema_id, name, table_type, storage_location, storage_credential_name,
                                     owner, created_at, created_by, updated_at, updated_by)
                 VALUES (?1, 's1', ?2, 'EXTERNAL', ?3, ?4, ?5, 0, 'a', 0, 'a')",
            )?;
            for i in 0..n {
                let cred = (i == 0).then_some("cred");
                let owner = if i == 1 {
                    "bob"
                } else if i == 2 {
                    "sp"
                } else {
                    "admin"
                };
                ins.execute(rusqlite::params![
                    format!("t{i:07}"),
                    format!("t{i}"),
                    format!("s3://b/t/{i:07}"),
                    cred,
                    owner
                ])?;
            }
            Ok(())
        })
        .unwrap();
    store
}

/// SQLite virtual-machine steps that `work` takes in one write transaction.
fn steps<T>(store: &Store, work: impl FnOnce(&Connection) -> ApiResult<T>) -> u64 {
    let count = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&count);
    store
        .write_now(|conn| {
            conn.progress_handler(
                1,
                Some(move || {
                    c.fetch_add(1, Ordering::Relaxed);
                    false
                }),
            );
            let out = work(conn);
            conn.progress_handler(1, None::<fn() -> bool>);
            out
        })
        .unwrap();
    count.load(Ordering::Relaxed)
}

/// Each write's cost at 500 and at 8,000 tables: the same, give or take a B-tree level.
#[test]
fn writes_cost_the_same_whatever_the_number_of_tables() {
    crate::authz::with_fixture_proof(writes_cost_with);
}

fn writes_cost_with(ok: &Allowed) {
    let mut costs: Vec<(&str, u64, u64)> = Vec::new();
    let small = seeded(500);
    let large = seeded(8000);
    type Op = fn(&Connection, &Allowed) -> ApiResult<()>;
    let ops: [(&str, Op); 6] = [
        ("rename a principal", |c, ok| {
            let bob = principals::by_name(c, "bob")?.unwrap();
            principals::rename(c, ok, &bob, "robert", "robert")
        }),
        ("hand over a service principal's objects", |c, ok| principals::hand_over_and_revoke(c, ok, "sp", "admin")),
        ("count a credential's dependents", |c, _| {
            let cred = credentials::require(c, MS, &Ident::from_stored("cred".into()))?;
            credentials::dependents(c, &cred).map(|_| ())
        }),
        ("rename a storage credential", |c, ok| {
            let cred = credentials::require(c, MS, &Ident::from_stored("cred".into()))?;
            let changes = credentials::CredentialChanges {
                new_name: Some(Ident::from_stored("cred2".into())),
                ..Default::default()
            };
            credentials::update(c, ok, &cred, &changes, "admin", 1).map(|_| ())
        }),
        ("delete a storage credential", |c, ok| credentials::delete(c, ok, "cr1")),
        ("delete a table", |c, ok| tables::delete(c, ok, "t0000003")),
    ];
    for (name, op) in ops {
        // Each on a fresh pair of stores would be slow: run them in order on both.
        let a = steps(&small, |c| op(c, ok));
        let b = steps(&large, |c| op(c, ok));
        costs.push((name, a, b));
    }
    eprintln!("VM steps at 500 and 8,000 tables: {costs:?}");
    for (name, a, b) in &costs {
        assert!(*b <= a + a / 2 + 50, "{name}: {a} steps at 500 tables, {b} at 8,000: grows with the tables");
    }
}

/// A table-summary page deep in a schema costs what the first one does (keyset, no re-scan).
#[test]
fn table_summary_pages_cost_the_same_at_any_depth() {
    let store = seeded(8000);
    let page = |after: (&'static str, &'static str)| {
        steps(&store, move |c| {
            let p = tables::scan_summaries(c, "c1", "%", "%", after, Some(50))?;
            assert_eq!(p.rows.len(), 50);
            Ok(())
        })
    };
    let first = page(("", ""));
    let deep = page(("s", "t7000"));
    let next_schema = page(("r", "zzz"));
    eprintln!("VM steps: first page {first}, deep page {deep}, from the previous schema {next_schema}");
    assert!(deep <= first + first / 2 + 50, "deep page {deep} steps, first {first}");
    assert!(next_schema <= first + first / 2 + 50, "{next_schema} steps, first {first}");
}

/// Writes queued while the writer is busy commit in one transaction, and each is still all or
/// nothing: one that fails or panics changes nothing, the others commit, and every answer is
/// the write's own.
#[test]
fn queued_writes_commit_together_and_each_is_all_or_nothing() {
    use crate::error::ApiError;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("b.db").to_str().unwrap()).unwrap());
    let commits = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&commits);
    store.writer.lock().unwrap().commit_hook(Some(move || {
        c.fetch_add(1, Ordering::Relaxed);
        false
    }));
    const N: usize = 40;
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let answers: Vec<ApiResult<usize>> = rt.block_on(async {
        // Keep the writer busy while all the writes queue.
        let busy = {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let _held = store.writer.lock().unwrap();
                std::thread::sleep(std::time::Duration::from_millis(300));
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        let handles: Vec<_> = (0..N)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    store
                        .write(move |c| {
                            c.execute("INSERT INTO meta (key, value) VALUES (?1, x'00')", [format!("k{i}")])?;
                            // A write sees what the writes queued before it did.
                            if i > 0 {
                                let before: bool = c.query_row(
                                    "SELECT EXISTS (SELECT 1 FROM meta WHERE key = ?1)",
                                    [format!("k{}", i - 1)],
                                    |r| r.get(0),
                                )?;
                                assert!(
                                    before || (i - 1) % 10 == 3 || (i - 1) % 10 == 7,
                                    "write {i} misses k{}",
                                    i - 1
                                );
                            }
                            c.execute("INSERT INTO meta (key, value) VALUES (?1, x'00')", [format!("k{i}b")])?;
                            match i % 10 {
                                3 => Err(ApiError::invalid("x", "refused")),
                                7 => panic!("write {i} panics"),
                                _ => Ok(i),
                            }
                        })
                        .await
                })
            })
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        busy.join().unwrap();
        out
    });
    for (i, a) in answers.iter().enumerate() {
        match i % 10 {
            3 => assert_eq!(a.as_ref().unwrap_err().message, "x: refused", "write {i}"),
            7 => assert_eq!(a.as_ref().unwrap_err().code, crate::error::ErrorCode::Internal, "write {i}"),
            _ => assert_eq!(a.as_ref().unwrap(), &i),
        }
    }
    let kept: Vec<String> = store
        .read_now(|c| {
            Ok(c.prepare("SELECT key FROM meta WHERE key LIKE 'k%' ORDER BY key")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?)
        })
        .unwrap();
    let mut expected: Vec<String> =
        (0..N).filter(|i| i % 10 != 3 && i % 10 != 7).flat_map(|i| [format!("k{i}"), format!("k{i}b")]).collect();
    expected.sort();
    assert_eq!(kept, expected, "the refused and panicking writes changed nothing, the others committed");
    let n = commits.load(Ordering::Relaxed);
    assert!(n <= 3, "{N} queued writes took {n} commits");
}

/// The SQL string literals of a Rust source file (plain, raw, with line continuations).
fn string_literals(src: &str) -> Vec<String> {
    let b: Vec<char> = src.chars().collect();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < b.len() {
        match b[i] {
            '/' if b.get(i + 1) == Some(&'/') => {
                while i < b.len() && b[i] != '\n' {
                    i += 1;
                }
            }
            '\'' => {
                // A char literal ('"', '\'', '\u{1e}') or a lifetime.
                if b.get(i + 1) == Some(&'\\') {
                    i += 2;
                    while i < b.len() && b[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if b.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            'r' if matches!(b.get(i + 1), Some('"') | Some('#')) && (i == 0 || !b[i - 1].is_alphanumeric()) => {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&'"') {
                    i += 1;
                    continue;
                }
                let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
                let rest: String = b[j + 1..].iter().collect();
                let end = rest.find(&close).unwrap_or(rest.len());
                out.push(rest[..end].to_string());
                i = j + 1 + rest[..end].chars().count() + close.chars().count();
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                while i < b.len() && b[i] != '"' {
                    if b[i] == '\\' {
                        match b.get(i + 1) {
                            Some('\n') => {
                                i += 2;
                                while i < b.len() && b[i].is_whitespace() {
                                    i += 1;
                                }
                                continue;
                            }
                            Some('n') => s.push('\n'),
                            Some(c) => s.push(*c),
                            None => {}
                        }
                        i += 2;
                    } else {
                        s.push(b[i]);
                        i += 1;
                    }
                }
                i += 1;
                out.push(s);
            }
            _ => i += 1,
        }
    }
    out
}

/// Every SQL statement written in `src/store/`, formatted as far as a test can: `{CONST}` is the
/// file's `const CONST: &str`, `{table}` each table of `references` (the loops over owner and
/// grantee columns), other arguments tried empty and as `1`. Returns (file, statement) pairs and
/// the statements that could not be prepared.
fn store_statements(conn: &Connection) -> (Vec<(String, String)>, Vec<String>) {
    use super::references::{GRANTEE_TABLES, OWNER_TABLES};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let placeholder = regex::Regex::new(r"\{([A-Za-z_][A-Za-z0-9_.]*)?\}").unwrap();
    let konst = regex::Regex::new(r"const ([A-Z_]+): &str =\s*$").unwrap();
    let (mut ok, mut unprepared) = (Vec::new(), Vec::new());
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "rs") && !p.ends_with("tests.rs")) {
        let src = std::fs::read_to_string(path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        // `const NAME: &str = "...";` (the literal may start on the next line).
        let mut consts = std::collections::HashMap::new();
        for (at, _) in src.match_indices("const ") {
            let head: String = src[at..].chars().take_while(|c| *c != '"').collect();
            if let Some(m) = konst.captures(head.trim_end()) {
                if let Some(value) = string_literals(&src[at + head.len()..]).into_iter().next() {
                    consts.insert(m[1].to_string(), value);
                }
            }
        }
        let literals = string_literals(&src);
        for (n, lit) in literals.iter().enumerate() {
            let head = lit.trim_start().to_uppercase();
            if !["SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "REPLACE"].iter().any(|k| head.starts_with(k)) {
                continue;
            }
            if consts.values().any(|v| v == lit) {
                continue; // the start of statements, checked in the statements that use it
            }
            // An UPDATE without WHERE is the start of a statement built in code (its columns
            // pushed one by one): it ends with the next literal that starts with WHERE.
            let mut lit = lit.clone();
            if head.starts_with("UPDATE") && !head.contains("WHERE") {
                if let Some(tail) = literals[n + 1..].iter().find(|l| l.trim_start().starts_with("WHERE")) {
                    lit.push_str(tail);
                }
            }
            let formatted = lit.contains("{{") || placeholder.is_match(&lit);
            let mut text = lit.clone();
            if formatted {
                for (name, value) in &consts {
                    text = text.replace(&format!("{{{name}}}"), value);
                }
            }
            let tables: Vec<&str> = if text.contains("{table}") {
                OWNER_TABLES.iter().chain(GRANTEE_TABLES).copied().collect()
            } else {
                vec![""]
            };
            let mut prepared_any = false;
            for table in tables {
                for filler in ["", "1"] {
                    let mut sql = text.replace("{table}", table);
                    if formatted {
                        sql = placeholder.replace_all(&sql, filler).replace("{{", "{").replace("}}", "}");
                    }
                    if conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).is_ok() {
                        ok.push((file.clone(), sql));
                        prepared_any = true;
                        break;
                    }
                }
            }
            if !prepared_any {
                unprepared.push(format!("{file}: {lit}"));
            }
        }
    }
    (ok, unprepared)
}

/// No statement of the store reads `tables` from end to end: every statement that touches it
/// finds its rows through an index (by schema, name, id, owner, credential, location), so no
/// write (and no read) costs more as the tables grow. Checked on the query plans of the SQL
/// written in `src/store/`, which the step counts above sample by running it.
#[test]
fn no_statement_scans_the_tables() {
    let store = seeded(10);
    let conn = store.writer.lock().unwrap();
    let (statements, unprepared) = store_statements(&conn);
    let mut scans = Vec::new();
    let mut on_tables = 0;
    let touches = regex::Regex::new(r"(?i)\b(FROM|JOIN|INTO|UPDATE)\s+tables\b").unwrap();
    // "SCAN t" / "SCAN tables" without an index ("SCAN t USING INDEX" walks an index in order).
    let scan = regex::Regex::new(r"^SCAN (tables|t)( AS \w+)?$").unwrap();
    for (file, sql) in &statements {
        let mut explain = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let mut rows = explain.raw_query(); // parameters left unbound (NULL)
        let mut plan: Vec<String> = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            plan.push(r.get(3).unwrap());
        }
        let on = touches.is_match(sql);
        on_tables += usize::from(on);
        if on && plan.iter().any(|step| scan.is_match(step)) {
            scans.push(format!("{file}: {sql}\n    plan: {plan:?}"));
        }
    }
    eprintln!("{} statements planned ({on_tables} on tables); not preparable: {unprepared:#?}", statements.len());
    assert!(statements.len() >= 200, "only {} statements found: is the extraction broken?", statements.len());
    assert!(on_tables >= 15, "only {on_tables} statements on tables found");
    assert!(unprepared.len() <= 10, "statements the test cannot prepare: {unprepared:#?}");
    assert!(scans.is_empty(), "statements that read every table:\n{}", scans.join("\n"));
}

/// `.cargo/config.toml` builds SQLite without SQLITE_ENABLE_MEMORY_MANAGEMENT, so that each
/// connection has a page cache of its own: with it, every connection's page cache shares one
/// LRU behind one global mutex, and the reader threads wait on each other at every page.
#[test]
fn each_connection_has_a_page_cache_of_its_own() {
    let conn = Connection::open_in_memory().unwrap();
    let count = |option: &str| -> i64 {
        let sql = "SELECT count(*) FROM pragma_compile_options WHERE compile_options = ?1";
        conn.query_row(sql, [option], |r| r.get(0)).unwrap()
    };
    assert_eq!(count("THREADSAFE=1"), 1, "the compile options are readable");
    assert_eq!(count("ENABLE_MEMORY_MANAGEMENT"), 0);
}

/// A read sees one state of the database from its first statement to its last, however many
/// writes commit meanwhile; the next read sees them.
#[test]
fn a_read_sees_one_state_while_writes_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db").to_str().unwrap()).unwrap();
    let count =
        |c: &Connection| c.query_row("SELECT count(*) FROM meta WHERE key LIKE 'k%'", [], |r| r.get::<_, i64>(0));
    let insert = |key: &str| {
        let sql = format!("INSERT INTO meta (key, value) VALUES ('{key}', x'01')");
        std::thread::scope(|s| s.spawn(|| store.write_now(|w| w.execute(&sql, []))).join().unwrap()).unwrap();
    };
    insert("k0");
    let seen = store
        .read_now(|c| {
            let first = count(c)?;
            insert("k1");
            let second = count(c)?;
            insert("k2");
            Ok((first, second, count(c)?))
        })
        .unwrap();
    assert_eq!(seen, (1, 1, 1));
    assert_eq!(store.read_now(|c| Ok(count(c)?)).unwrap(), 3);
}
