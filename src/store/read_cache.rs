//! The read cache: schemas and their catalogs, with every grant on each, kept per reader
//! connection (so per thread) and valid for one database state only.
//!
//! A getTable or a listTables page needs the schema and the catalog above it, and the grants on
//! both, before its own row: two of its three statements, the same few rows for every table of
//! a schema. The cache keeps them between reads on the same connection, and forgets all of it
//! as soon as the database may have changed: the statement that holds a reader's snapshot is
//! `PRAGMA data_version` (see `Store::held_snapshot`), a number that changes whenever another
//! connection (the writer, or another process) has committed since this connection last asked,
//! and it tells the cache ([`began_in`]) before the read runs; a cache not told is not used.
//! An entry is therefore only ever used in a snapshot identical to the one it was read in, so a
//! read sees every write acknowledged before it began (read-your-writes across connections),
//! and never a mix of two states.
//!
//! Only reads on a reader connection use it: [`Installed`] hands the connection's cache to the
//! thread for the duration of one read closure. Writes (on the writer connection, whose own
//! commits do not change its `data_version`), nested reads on a connection of their own, and
//! `:memory:` stores (read through the writer connection) run with no cache installed and read
//! everything from the database.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use rusqlite::Connection;

use crate::authz::{Grant, Node};
use crate::domain::securable::SecurableKind;
use crate::error::ApiResult;

/// Entries beyond which the cache starts over (a few hundred bytes each).
const MAX_ENTRIES: usize = 1024;

/// A schema and its catalog as every caller's authorization reads them: identities, owners as
/// stored, whether each owner was deleted with its principal, and every grant on each.
#[derive(Debug)]
pub struct SchemaChain {
    pub parent: super::securables::Parent,
    /// `[schema, catalog]`: whether the owner was deleted with its principal.
    pub(super) orphaned: [bool; 2],
    /// `[schema, catalog]`: every direct grant, to anyone.
    pub(super) grants: [Vec<Grant>; 2],
    /// The nodes of the last few callers (by their principals), as [`Self::shared_nodes`]
    /// made them: a chain lives in one thread's cache for one database state, and the same
    /// callers read the same schemas' tables.
    pub(super) nodes_made: RefCell<Vec<CallerNodes>>,
}

/// A caller's principals, and the nodes [`SchemaChain::nodes`] made for them.
type CallerNodes = (Vec<String>, Rc<[Node; 2]>);

/// Callers whose nodes a chain keeps.
const NODES_KEPT: usize = 4;

impl SchemaChain {
    /// The chain `[schema, catalog]` for a caller whose principals are `principals`: only their
    /// grants, and no owner where the owner is one of them but was deleted with its principal
    /// (as [`super::securables::attach_grants`] reads it from the database).
    pub fn nodes(&self, principals: &[String]) -> [Node; 2] {
        [
            self.node(
                0,
                SecurableKind::Schema,
                &self.parent.schema_id,
                self.parent.schema_full_name(),
                &self.parent.schema_owner,
                principals,
            ),
            self.node(
                1,
                SecurableKind::Catalog,
                &self.parent.catalog_id,
                self.parent.catalog_name.clone(),
                &self.parent.catalog_owner,
                principals,
            ),
        ]
    }

    /// [`Self::nodes`], made once per caller while the chain lives (in a read cache, for one
    /// database state): a getTable then judges the caller on the nodes without copying them.
    pub fn shared_nodes(&self, principals: &[String]) -> Rc<[Node; 2]> {
        let mut made = self.nodes_made.borrow_mut();
        if let Some((_, nodes)) = made.iter().find(|(p, _)| p.as_slice() == principals) {
            return Rc::clone(nodes);
        }
        let nodes = Rc::new(self.nodes(principals));
        if made.len() >= NODES_KEPT {
            made.remove(0);
        }
        made.push((principals.to_vec(), Rc::clone(&nodes)));
        nodes
    }

    fn node(&self, i: usize, kind: SecurableKind, id: &str, name: String, owner: &str, principals: &[String]) -> Node {
        let owned = principals.iter().any(|p| p == owner);
        Node {
            kind,
            id: id.to_string(),
            name,
            owner: if owned && self.orphaned[i] { String::new() } else { owner.to_string() },
            grants: self.grants[i].iter().filter(|g| principals.contains(&g.principal)).cloned().collect(),
        }
    }
}

/// One connection's cache: the schema chains read in the database state `version`.
#[derive(Default)]
pub(super) struct ReadCache {
    /// `PRAGMA data_version` when the entries were read; `None` before the first use.
    version: Option<i64>,
    /// Whether `version` is the current read's (told by [`began_in`]).
    checked: bool,
    chains: HashMap<String, Rc<SchemaChain>>,
    key: String,
    /// Whether no owner was deleted with its principal (`orphaned_owners` is empty) in the
    /// state `version`; `None` until a read asks.
    no_orphans: Option<bool>,
}

impl ReadCache {
    /// This read's snapshot is in the state `version`: entries of another state are dropped.
    fn note(&mut self, version: i64) {
        if self.version != Some(version) {
            self.chains.clear();
            self.no_orphans = None;
            self.version = Some(version);
        }
        self.checked = true;
    }
}

/// Tells the installed cache, if any, the `PRAGMA data_version` this read's snapshot began
/// in: until then, the cache is not used.
pub(super) fn began_in(version: i64) {
    CURRENT.with(|slot| {
        if let Some(cache) = slot.borrow_mut().as_mut() {
            cache.note(version);
        }
    });
}

thread_local! {
    /// The cache of the read running on this thread, if it may use one.
    static CURRENT: RefCell<Option<ReadCache>> = const { RefCell::new(None) };
}

/// The cache of a reader connection, handed to the thread while one read closure runs; given
/// back (or, after a panic, dropped) when this guard goes.
pub(super) struct Installed<'a> {
    home: Option<&'a mut ReadCache>,
    previous: Option<ReadCache>,
}

impl<'a> Installed<'a> {
    /// Installs `cache` (unused until [`began_in`] tells it this read's state); `None` runs the
    /// read with no cache at all (and hides any outer read's cache meanwhile).
    pub(super) fn new(cache: Option<&'a mut ReadCache>) -> Installed<'a> {
        let mine = cache.map(|c| {
            let mut taken = std::mem::take(c);
            taken.checked = false;
            (c, taken)
        });
        let (home, taken) = match mine {
            Some((home, taken)) => (Some(home), Some(taken)),
            None => (None, None),
        };
        let previous = CURRENT.with(|slot| slot.replace(taken));
        Installed { home, previous }
    }
}

impl Drop for Installed<'_> {
    fn drop(&mut self) {
        let mine = CURRENT.with(|slot| slot.replace(self.previous.take()));
        if let (Some(home), Some(mine), false) = (self.home.take(), mine, std::thread::panicking()) {
            *home = mine;
        }
    }
}

/// The chain of schema `catalog.schema` of the metastore: from the cache when one is installed
/// and knows this read's database state, else from `load` (and then kept in that cache).
pub(super) fn schema_chain(
    metastore_id: &str,
    catalog: &str,
    schema: &str,
    load: impl FnOnce() -> ApiResult<Option<SchemaChain>>,
) -> ApiResult<Option<Rc<SchemaChain>>> {
    let hit = CURRENT.with(|slot| {
        let mut slot = slot.borrow_mut();
        let cache = slot.as_mut().filter(|c| c.checked)?;
        cache.key.clear();
        for part in [metastore_id, "\u{1f}", catalog, "\u{1f}", schema] {
            cache.key.push_str(part);
        }
        cache.chains.get(cache.key.as_str()).cloned()
    });
    if hit.is_some() {
        return Ok(hit);
    }
    let Some(chain) = load()? else { return Ok(None) };
    let chain = Rc::new(chain);
    CURRENT.with(|slot| {
        if let Some(cache) = slot.borrow_mut().as_mut().filter(|c| c.checked) {
            if cache.chains.len() >= MAX_ENTRIES {
                cache.chains.clear();
            }
            let key = cache.key.clone();
            cache.chains.insert(key, Rc::clone(&chain));
        }
    });
    Ok(Some(chain))
}

/// Whether no owner was deleted with its principal in this read's snapshot (then no row needs
/// asking): known once per database state on a cache that knows this read's state; without
/// one, `false`, so that each row is asked.
pub(super) fn no_orphaned_owners(conn: &Connection) -> ApiResult<bool> {
    CURRENT.with(|slot| {
        let mut slot = slot.borrow_mut();
        let Some(cache) = slot.as_mut().filter(|c| c.checked) else { return Ok(false) };
        if let Some(known) = cache.no_orphans {
            return Ok(known);
        }
        let none: bool =
            conn.prepare_cached("SELECT NOT EXISTS (SELECT 1 FROM orphaned_owners)")?.query_row([], |r| r.get(0))?;
        cache.no_orphans = Some(none);
        Ok(none)
    })
}

#[cfg(test)]
mod tests {
    use crate::store::securables::schema_chain;
    use crate::store::Store;
    use std::rc::Rc;

    fn seed(store: &Store) {
        store
            .write_now(|c| {
                c.execute_batch(
                    "INSERT INTO metastores (id, name, storage_root, owner, cloud, region, created_at, created_by,
                            updated_at, updated_by) VALUES ('m1', 'm', 's3://b/m', 'admin', 'aws', 'r', 0, 'a', 0, 'a');
                     INSERT INTO catalogs (id, metastore_id, name, owner, created_at, created_by, updated_at, updated_by)
                            VALUES ('c1', 'm1', 'c', 'admin', 0, 'a', 0, 'a');
                     INSERT INTO schemas (id, catalog_id, name, owner, created_at, created_by, updated_at, updated_by)
                            VALUES ('s1', 'c1', 's', 'admin', 0, 'a', 0, 'a');",
                )
            })
            .unwrap();
    }

    /// (schema owner, grants on the catalog) as a read sees them, twice in the same read.
    fn read(store: &Store) -> Option<(String, usize)> {
        store
            .read_now(|conn| {
                let first = schema_chain(conn, "m1", "c", "s")?;
                let second = schema_chain(conn, "m1", "c", "s")?;
                assert_eq!(
                    first.as_ref().map(|c| &c.parent.schema_owner),
                    second.as_ref().map(|c| &c.parent.schema_owner)
                );
                Ok(first.map(|c| (c.parent.schema_owner.clone(), c.grants[1].len())))
            })
            .unwrap()
    }

    fn every_write_is_seen_by_the_next_read(store: &Store, nested: bool) {
        seed(store);
        assert_eq!(read(store), Some(("admin".into(), 0)));
        store.write_now(|c| c.execute("INSERT INTO grants VALUES ('c1', 'bob', 'USE_CATALOG')", [])).unwrap();
        assert_eq!(read(store), Some(("admin".into(), 1)));
        store.write_now(|c| c.execute("UPDATE schemas SET owner = 'bob'", [])).unwrap();
        assert_eq!(read(store), Some(("bob".into(), 1)));
        // A read inside a read (its own connection, no cache) sees the same. (A `:memory:`
        // store reads through its one writer connection, behind a mutex: no nesting there.)
        if nested {
            let inner = store.read_now(|_| Ok(read(store))).unwrap();
            assert_eq!(inner, Some(("bob".into(), 1)));
        }
        store.write_now(|c| c.execute("UPDATE schemas SET name = 's2'", [])).unwrap();
        assert_eq!(read(store), None);
        // A write's own reads see what it wrote before them (no cache in a write).
        let in_write = store
            .write_now(|c| {
                c.execute("UPDATE schemas SET name = 's'", [])?;
                c.execute("DELETE FROM grants", [])?;
                Ok::<_, crate::error::ApiError>(schema_chain(c, "m1", "c", "s")?.map(|s| s.grants[1].len()))
            })
            .unwrap();
        assert_eq!(in_write, Some(0));
        assert_eq!(read(store), Some(("bob".into(), 0)));
    }

    /// The owner of table `c.s.t` as bob's authorization sees it: empty once bob was deleted
    /// with his principal (the owner is kept, but no longer conveys anything to him).
    fn table_owner_for_bob(store: &Store) -> String {
        store
            .read_now(|conn| {
                let chain = schema_chain(conn, "m1", "c", "s")?.expect("the schema");
                let (_, node) = crate::store::tables::get_in(conn, &chain, "t", &["bob".to_string()])?.expect("t");
                Ok(node.owner)
            })
            .unwrap()
    }

    fn owners_deleted_with_their_principal_are_seen_by_the_next_read(store: &Store) {
        seed(store);
        store
            .write_now(|c| {
                c.execute_batch(
                    "INSERT INTO tables (id, schema_id, name, table_type, owner, created_at, created_by, updated_at,
                            updated_by) VALUES ('t1', 's1', 't', 'MANAGED', 'bob', 0, 'a', 0, 'a');",
                )
            })
            .unwrap();
        assert_eq!(table_owner_for_bob(store), "bob");
        assert_eq!(table_owner_for_bob(store), "bob", "again, with what the first read learnt");
        store
            .write_now(|c| {
                c.execute("INSERT INTO orphaned_owners (securable_id, deleted_owner) VALUES ('t1', 'bob')", [])
            })
            .unwrap();
        assert_eq!(table_owner_for_bob(store), "");
        store.write_now(|c| c.execute("DELETE FROM orphaned_owners", [])).unwrap();
        assert_eq!(table_owner_for_bob(store), "bob");
    }

    /// A reader loads a chain once per database state: later reads take it from the cache, until
    /// a write commits.
    #[test]
    fn a_reader_loads_a_chain_once_per_database_state() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("l.db").to_str().unwrap()).unwrap();
        seed(&store);
        let loads = std::cell::Cell::new(0);
        let read = || {
            store
                .read_now(|_| {
                    super::schema_chain("m1", "c", "s", || {
                        loads.set(loads.get() + 1);
                        let id = |s: &str| s.to_string();
                        let parent = crate::store::securables::Parent {
                            schema_id: id("s1"),
                            schema_name: id("s"),
                            schema_owner: id("admin"),
                            catalog_id: id("c1"),
                            catalog_name: id("c"),
                            catalog_owner: id("admin"),
                            metastore_id: id("m1"),
                        };
                        Ok(Some(super::SchemaChain {
                            parent,
                            orphaned: [false; 2],
                            grants: Default::default(),
                            nodes_made: Default::default(),
                        }))
                    })
                })
                .unwrap()
                .expect("a chain")
        };
        read();
        read();
        assert_eq!(loads.get(), 1, "the second read used the cache");
        store.write_now(|c| c.execute("INSERT INTO grants VALUES ('c1', 'bob', 'USE_CATALOG')", [])).unwrap();
        read();
        assert_eq!(loads.get(), 2, "a commit empties the cache");
    }

    /// A chain makes each caller's nodes once and hands the same ones out again; another
    /// caller's are made for them, and each are what `nodes` makes.
    #[test]
    fn a_chain_makes_a_caller_s_nodes_once() {
        let id = |s: &str| s.to_string();
        let grant = |p: &str, privilege: &str| crate::authz::Grant { principal: id(p), privilege: id(privilege) };
        let chain = super::SchemaChain {
            parent: crate::store::securables::Parent {
                schema_id: id("s1"),
                schema_name: id("s"),
                schema_owner: id("bob"),
                catalog_id: id("c1"),
                catalog_name: id("c"),
                catalog_owner: id("admin"),
                metastore_id: id("m1"),
            },
            orphaned: [true, false],
            grants: [
                vec![grant("analysts", "USE_SCHEMA")],
                vec![grant("alice", "USE_CATALOG"), grant("bob", "BROWSE")],
            ],
            nodes_made: Default::default(),
        };
        let seen = |nodes: &[crate::authz::Node; 2]| -> Vec<(String, Vec<String>)> {
            nodes.iter().map(|n| (n.owner.clone(), n.grants.iter().map(|g| g.privilege.clone()).collect())).collect()
        };
        let (alice, bob) = (vec![id("alice"), id("analysts")], vec![id("bob")]);
        let first = chain.shared_nodes(&alice);
        assert!(Rc::ptr_eq(&first, &chain.shared_nodes(&alice)), "made once");
        let for_bob = chain.shared_nodes(&bob);
        let expect: Vec<(String, Vec<String>)> =
            vec![(id("bob"), vec![id("USE_SCHEMA")]), (id("admin"), vec![id("USE_CATALOG")])];
        assert_eq!(seen(&first), expect);
        assert_eq!(seen(&for_bob), vec![(String::new(), vec![]), (id("admin"), vec![id("BROWSE")])]);
        assert_eq!(seen(&for_bob), seen(&chain.nodes(&bob)));
        assert_eq!(seen(&first), seen(&chain.nodes(&alice)));
        for n in 0..super::NODES_KEPT {
            chain.shared_nodes(&[format!("p{n}")]);
        }
        assert!(!Rc::ptr_eq(&first, &chain.shared_nodes(&alice)), "only the last few callers' are kept");
    }

    #[test]
    fn a_file_store_reads_every_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("c.db").to_str().unwrap()).unwrap();
        every_write_is_seen_by_the_next_read(&store, true);
        let other = Store::open(dir.path().join("o.db").to_str().unwrap()).unwrap();
        owners_deleted_with_their_principal_are_seen_by_the_next_read(&other);
    }

    #[test]
    fn a_memory_store_reads_every_write() {
        every_write_is_seen_by_the_next_read(&Store::open(":memory:").unwrap(), false);
        owners_deleted_with_their_principal_are_seen_by_the_next_read(&Store::open(":memory:").unwrap());
    }
}
