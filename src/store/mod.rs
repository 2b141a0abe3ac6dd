//! The store: SQLite, and nothing of HTTP. One writer connection (SQLite has one writer
//! anyway), a pool of read-only connections on WAL snapshots, prepared statements cached per
//! connection, and WAL checkpoints on a background thread, never inside a request.

pub mod catalogs;
pub mod credentials;
pub mod external_locations;
pub mod grants;
pub mod managed;
pub mod metastores;
pub mod partner_connect;
pub mod principals;
pub mod providers;
pub mod recipients;
pub mod schemas;
pub mod securables;
pub mod shares;
pub mod tables;
pub mod tokens;
pub mod warehouses;
pub mod workspace_acls;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::hooks::Action as HookAction;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::domain::paging::PageKey;
use crate::error::{ApiError, ApiResult};

/// The schema version `schema.sql` sets; a database of another version is refused.
pub const SCHEMA_VERSION: i64 = 1;
const SCHEMA_SQL: &str = include_str!("../../schema.sql");
/// How many read connections serve requests at once.
const READERS: usize = 8;

/// Tables whose changes can alter who a token's caller is (all rowid tables: the update hook
/// does not see WITHOUT ROWID tables) (principal, groups, workspace,
/// metastore assignment, metastore ownership): a change bumps the identity epoch, which
/// invalidates every cached caller.
const IDENTITY_TABLES: &[&str] =
    &["principals", "group_members", "tokens", "workspaces", "metastores", "metastore_assignments"];

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open database {path}: {source}")]
    Sqlite { path: String, source: rusqlite::Error },
    #[error("database {path} has schema version {found}, but this uc-emulator uses version {expected}")]
    Version { path: String, found: i64, expected: i64 },
}

struct ReaderPool {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl ReaderPool {
    fn get(&self) -> MutexGuard<'_, Connection> {
        let n = self.conns.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(c) = self.conns[(start + i) % n].try_lock() {
                return c;
            }
        }
        self.conns[start % n].lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The database: `read` and `write` run a closure on a blocking thread, in one transaction.
pub struct Store {
    writer: Mutex<Connection>,
    /// `None` for `:memory:`, where the writer connection serves reads too.
    readers: Option<ReaderPool>,
    pub page_key: PageKey,
    identity_epoch: AtomicU64,
    identity_dirty: Arc<AtomicBool>,
    checkpointer: Mutex<Option<(Arc<AtomicBool>, JoinHandle<()>)>>,
    pub is_new: bool,
}

fn sqlite_err(path: &str) -> impl Fn(rusqlite::Error) -> OpenError + '_ {
    move |source| OpenError::Sqlite { path: path.to_string(), source }
}

impl Store {
    /// Opens (or creates) the database at `path`; `:memory:` keeps it in this process.
    pub fn open(path: &str) -> Result<Store, OpenError> {
        let err = sqlite_err(path);
        let memory = path == ":memory:";
        let is_new = memory || std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(true);
        let writer = if memory { Connection::open_in_memory() } else { Connection::open(path) }.map_err(&err)?;
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;
                 PRAGMA cache_size = -16384;",
            )
            .map_err(&err)?;
        writer.set_prepared_statement_cache_capacity(128);

        let version: i64 = writer.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(&err)?;
        let has_tables: bool = writer
            .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table')", [], |r| r.get(0))
            .map_err(&err)?;
        if version == 0 && !has_tables {
            writer.execute_batch(&format!("BEGIN; {SCHEMA_SQL} COMMIT;")).map_err(&err)?;
        } else if version != SCHEMA_VERSION {
            return Err(OpenError::Version { path: path.to_string(), found: version, expected: SCHEMA_VERSION });
        }
        let page_key = Self::page_key(&writer).map_err(&err)?;

        let identity_dirty = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&identity_dirty);
        writer.update_hook(Some(move |_: HookAction, _db: &str, table: &str, _row: i64| {
            if IDENTITY_TABLES.contains(&table) {
                flag.store(true, Ordering::Relaxed);
            }
        }));

        let readers = if memory {
            None
        } else {
            let mut conns = Vec::with_capacity(READERS);
            for _ in 0..READERS {
                let c = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
                )
                .map_err(&err)?;
                c.execute_batch("PRAGMA busy_timeout = 5000; PRAGMA query_only = ON; PRAGMA cache_size = -4096;")
                    .map_err(&err)?;
                c.set_prepared_statement_cache_capacity(128);
                conns.push(Mutex::new(c));
            }
            Some(ReaderPool { conns, next: AtomicUsize::new(0) })
        };
        let checkpointer = if memory { None } else { Some(Self::start_checkpointer(path).map_err(&err)?) };

        Ok(Store {
            writer: Mutex::new(writer),
            readers,
            page_key,
            identity_epoch: AtomicU64::new(0),
            identity_dirty,
            checkpointer: Mutex::new(checkpointer),
            is_new,
        })
    }

    fn page_key(conn: &Connection) -> rusqlite::Result<PageKey> {
        let stored: Option<Vec<u8>> =
            conn.query_row("SELECT value FROM meta WHERE key = 'page_key'", [], |r| r.get(0)).optional()?;
        if let Some(key) = stored.as_deref().and_then(PageKey::from_bytes) {
            return Ok(key);
        }
        let fresh = PageKey::generate();
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('page_key', ?1)", [&fresh[..]])?;
        Ok(PageKey::from_bytes(&fresh).expect("32 bytes"))
    }

    /// WAL checkpoints off the request path: a passive checkpoint every half second.
    fn start_checkpointer(path: &str) -> rusqlite::Result<(Arc<AtomicBool>, JoinHandle<()>)> {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA busy_timeout = 1000;")?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(500));
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::warn!(error = %e, "background checkpoint failed");
                    }
                }
            })
            .expect("spawn checkpoint thread");
        Ok((stop, handle))
    }

    /// A counter that changes whenever something a cached caller depends on may have changed.
    pub fn identity_epoch(&self) -> u64 {
        self.identity_epoch.load(Ordering::Acquire)
    }

    /// Runs `work` in one write transaction on the writer connection, synchronously.
    pub fn write_now<T, E: From<rusqlite::Error>>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = work(&tx)?; // an Err drops tx: rollback
            tx.commit()?;
            Ok(out)
        })();
        if self.identity_dirty.swap(false, Ordering::AcqRel) {
            self.identity_epoch.fetch_add(1, Ordering::AcqRel);
        }
        result
    }

    /// Runs `work` on one consistent snapshot, synchronously.
    pub fn read_now<T>(&self, work: impl FnOnce(&Connection) -> ApiResult<T>) -> ApiResult<T> {
        let mut conn = match &self.readers {
            Some(pool) => pool.get(),
            None => self.writer.lock().unwrap_or_else(PoisonError::into_inner),
        };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let out = work(&tx);
        // A read-only transaction: ending it either way releases the snapshot.
        drop(tx);
        out
    }

    /// [`Store::write_now`] on actix's blocking pool.
    pub async fn write<T, F>(self: &Arc<Self>, work: F) -> ApiResult<T>
    where
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(self);
        actix_web::web::block(move || store.write_now(work)).await.map_err(ApiError::internal)?
    }

    /// [`Store::read_now`] on actix's blocking pool.
    pub async fn read<T, F>(self: &Arc<Self>, work: F) -> ApiResult<T>
    where
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(self);
        actix_web::web::block(move || store.read_now(work)).await.map_err(ApiError::internal)?
    }

    /// Stops the checkpointer and folds the WAL back into the database file.
    pub fn close(&self) {
        if let Some((stop, handle)) = self.checkpointer.lock().unwrap_or_else(PoisonError::into_inner).take() {
            stop.store(true, Ordering::Relaxed);
            let _ = handle.join();
        }
        let conn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "final checkpoint failed");
        }
    }
}

/// Whether a SQLite error is a UNIQUE constraint violation (a 409, usually).
pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// Maps a UNIQUE violation to `conflict`, anything else to a 500.
pub fn on_conflict(conflict: impl FnOnce() -> ApiError) -> impl FnOnce(rusqlite::Error) -> ApiError {
    move |e| {
        if is_unique_violation(&e) {
            conflict()
        } else {
            ApiError::internal(e)
        }
    }
}

/// Whether a path names an existing, non-empty database file.
pub fn exists(path: &str) -> bool {
    path != ":memory:" && Path::new(path).metadata().map(|m| m.len() > 0).unwrap_or(false)
}
