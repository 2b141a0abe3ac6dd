//! The store: SQLite, and nothing of HTTP. One writer connection (SQLite has one writer
//! anyway) driven by one writer thread, read-only connections on WAL snapshots (one per thread
//! that reads, so a read runs where the request is, with no hop to another thread), prepared
//! statements cached per connection, and WAL checkpoints on a background thread that keep the
//! log bounded under sustained writes.

pub mod account;
pub mod catalogs;
pub mod credentials;
pub mod external_locations;
pub mod functions;
pub mod grants;
pub mod hot;
pub mod managed;
pub mod metastores;
pub mod oauth;
pub mod partner_connect;
pub mod principals;
pub mod providers;
pub mod read_cache;
pub mod recipients;
pub mod references;
pub mod rule_sets;
pub mod schemas;
pub mod securables;
pub mod shares;
pub mod sharing;
pub mod tables;
pub mod tokens;
pub mod volumes;
pub mod warehouses;
pub mod workspace_acls;

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::hooks::Action as HookAction;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::domain::paging::PageKey;
use crate::error::{ApiError, ApiResult};

/// The schema version `schema.sql` sets. A database of an older version is brought up to date
/// at start-up by [`MIGRATIONS`]; a newer one is refused.
pub const SCHEMA_VERSION: i64 = 7;
const SCHEMA_SQL: &str = include_str!("../../schema.sql");

/// `MIGRATIONS[i]` takes a database from version `i + 1` to `i + 2`, in one transaction.
/// Version 2 only added indexes (owner, credential and principal columns).
/// Version 3 added volumes and functions; version 4 the owners deleted with their principal;
/// version 5 workspace assignments, OAuth secrets and tokens, rule sets;
/// version 6 recipient credentials (Delta Sharing activation).
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0002_indexes.sql"),
    include_str!("migrations/0003_volumes_functions.sql"),
    include_str!("migrations/0004_orphaned_owners.sql"),
    include_str!("migrations/0005_account_identity.sql"),
    include_str!("migrations/0006_recipient_credentials.sql"),
    include_str!("migrations/0007_share_object_added_version.sql"),
];

/// Page cache of the writer connection (KiB). The writer touches the indexes' and tables' hot
/// right edges and the rows it updates; readers read through their own caches. A smaller one
/// spills a group commit's pages to the log before it commits (at 1M tables, 30 s of sustained
/// createTable took the WAL to 57 MiB with 4 MiB, 48 MiB with 6).
const WRITER_CACHE_KIB: i64 = 6 * 1024;
/// Page cache of each reader connection (KiB). There is one reader per thread that reads
/// (actix's workers: one per core), so this is multiplied by the number of cores. Readers look
/// up tables anywhere in the file: each page they miss is a `pread` (with 2 MiB, getTable of
/// random tables among 10,000 spent about 1.5 µs more system time per request than with 8 MiB).
const READER_CACHE_KIB: i64 = 6 * 1024;
/// Every connection's busy timeout: what a request may wait for a lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the checkpointer looks at the WAL.
const CHECKPOINT_TICK: Duration = Duration::from_millis(50);
/// WAL frames (pages) beyond which the checkpointer makes the log start over (16 MiB of 4 KiB
/// pages).
const RESTART_FRAMES: i64 = 4096;
/// Frames a passive checkpoint may leave uncopied before the writer is paused for the rest.
const TAIL_FRAMES: i64 = 256;
/// Passive checkpoints per tick, at most, to get the uncopied tail down to [`TAIL_FRAMES`].
const MAX_PASSES: usize = 8;
/// A log this long is cut short whatever the tail (copying cannot keep up with the writers, on
/// a slow or busy disk): the writer waits for the whole rest to be copied (32 MiB).
const HARD_FRAMES: i64 = 8192;
/// How long a truncating checkpoint (when writes have stopped) waits for readers to leave.
const TRUNCATE_BUSY_WAIT: Duration = Duration::from_millis(10);
/// A WAL file larger than this makes the writer itself copy the log into the database and
/// empty the file before it takes the next write (backpressure, when checkpoints cannot keep up
/// with the writers: the file never grows much beyond it). Above `journal_size_limit`, so the
/// file's size tells.
const WAL_CAP_BYTES: u64 = 48 * 1024 * 1024;
/// The WAL file is truncated to this size whenever the log starts over.
const JOURNAL_SIZE_LIMIT: i64 = 32 * 1024 * 1024;

/// Tables whose changes can alter who a token's caller is (all rowid tables: the update hook
/// does not see WITHOUT ROWID tables) (principal, groups, workspace,
/// metastore assignment, metastore ownership): a change bumps the identity epoch, which
/// invalidates every cached caller.
const IDENTITY_TABLES: &[&str] = &[
    "principals",
    "group_members",
    "tokens",
    "workspaces",
    "metastores",
    "metastore_assignments",
    "workspace_assignments",
    "oauth_tokens",
];

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open database {path}: {source}")]
    Sqlite { path: String, source: rusqlite::Error },
    #[error("database {path} has schema version {found}, but this uc-emulator uses version {expected}")]
    Version { path: String, found: i64, expected: i64 },
}

/// A write queued for the writer thread: it runs its closure on the writer connection inside
/// the batch's transaction and says whether the closure succeeded and how to answer it.
type Job = Box<dyn FnOnce(&Connection) -> Done + Send + 'static>;

/// A write that has run, waiting for its batch to commit.
struct Done {
    /// The closure succeeded (its savepoint is kept); otherwise its changes are rolled back.
    ok: bool,
    /// Sends the answer: the closure's result once the batch committed, or `failed`, the reason
    /// the batch's transaction did not commit, in place of a success.
    answer: Answer,
}

/// See [`Done::answer`].
type Answer = Box<dyn FnOnce(Option<&str>) + Send + 'static>;

/// Writes the writer thread takes from its queue into one transaction, at most (group commit).
const MAX_BATCH: usize = 64;

/// What every commit on the writer connection is followed by: the identity epoch, and the WAL
/// cap. Shared by the writer thread and [`Store::write_now`].
struct Commits {
    identity_epoch: AtomicU64,
    identity_dirty: Arc<AtomicBool>,
    /// The database's write-ahead log; `None` for `:memory:`.
    wal_path: Option<std::path::PathBuf>,
}

impl Commits {
    fn after(&self, conn: &Connection) {
        if self.identity_dirty.swap(false, Ordering::AcqRel) {
            self.identity_epoch.fetch_add(1, Ordering::AcqRel);
        }
        if let Some(wal) = &self.wal_path {
            if std::fs::metadata(wal).is_ok_and(|m| m.len() > WAL_CAP_BYTES) {
                // The checkpointer is behind: copy the log here, waiting for it and for readers
                // of old snapshots (reads are short), and empty the file. (A FULL checkpoint
                // copied the log but left the file to grow on while readers held snapshots:
                // 70 MiB at the peak under a loaded disk.)
                if let Err(e) = checkpoint(conn, "TRUNCATE") {
                    tracing::warn!(error = %e, "checkpoint at the WAL cap failed");
                }
            }
        }
    }
}

/// Runs queued writes in one transaction, each in a savepoint of its own, and answers them
/// once it has committed.
///
/// A write's closure sees what the writes before it in the batch did, as if they had
/// committed one by one in queue order; one that fails (or panics) is rolled back to its
/// savepoint and changes nothing. Every answer waits for the one COMMIT, so an acknowledged
/// write is as durable as before; if the transaction cannot commit (or an error ended it
/// early), the writes it held are answered with that error. Under concurrent writes this
/// turns N commits into one: the WAL grows by the pages the batch touched, not by every
/// write's pages again (a createTable alone writes seven pages).
fn run_batch(writer: &Mutex<Connection>, commits: &Commits, jobs: Vec<Job>) {
    let conn = writer.lock().unwrap_or_else(PoisonError::into_inner);
    // Writes read everything from the database (see `read_cache`).
    let _no_cache = read_cache::Installed::new(None);
    let mut waiting: Vec<Done> = Vec::with_capacity(jobs.len());
    let mut settled: Vec<(Done, Option<String>)> = Vec::new();
    // Answers the writes still waiting with `why`: their transaction is gone.
    let fail_waiting = |waiting: &mut Vec<Done>, settled: &mut Vec<(Done, Option<String>)>, why: String| {
        settled.extend(waiting.drain(..).map(|d| (d, Some(why.clone()))));
    };
    for job in jobs {
        if conn.is_autocommit() {
            if let Err(e) = run(&conn, "BEGIN IMMEDIATE") {
                tracing::warn!(error = %e, "cannot start a write transaction");
                // Dropping the job drops its answer channel: the request fails with a 500.
                continue;
            }
        }
        if let Err(e) = run(&conn, "SAVEPOINT write") {
            tracing::warn!(error = %e, "cannot start a savepoint");
            continue;
        }
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&conn)));
        if conn.is_autocommit() {
            // An error (a full disk, an I/O error) rolled the whole transaction back.
            let why = "the write transaction was rolled back by an error".to_string();
            fail_waiting(&mut waiting, &mut settled, why.clone());
            if let Ok(done) = done {
                settled.push((done, Some(why)));
            }
            continue;
        }
        let keep = matches!(&done, Ok(d) if d.ok);
        let ended = if keep {
            run(&conn, "RELEASE write")
        } else {
            run(&conn, "ROLLBACK TO write").and_then(|_| run(&conn, "RELEASE write"))
        };
        if let Err(e) = ended {
            tracing::warn!(error = %e, "cannot end a savepoint");
        }
        // A panicked closure dropped its answer channel: that request fails with a 500.
        if let Ok(done) = done {
            waiting.push(done);
        }
    }
    if !conn.is_autocommit() {
        if let Err(e) = run(&conn, "COMMIT") {
            let _ = run(&conn, "ROLLBACK");
            fail_waiting(&mut waiting, &mut settled, format!("the write transaction did not commit: {e}"));
        }
    } else if !waiting.is_empty() {
        fail_waiting(&mut waiting, &mut settled, "the write transaction was rolled back by an error".into());
    }
    commits.after(&conn);
    drop(conn);
    for done in waiting {
        (done.answer)(None);
    }
    for (done, why) in settled {
        (done.answer)(why.as_deref());
    }
}

/// Runs one statement prepared once per connection (a transaction or savepoint statement).
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Distinguishes stores within one process (tests open many): a thread's reader connections
/// are kept per store.
static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// A thread's read-only connection to one store's database.
struct ThreadReader {
    store_id: u64,
    /// Dead once the store is dropped: the connection is then closed on the next read.
    alive: Weak<()>,
    /// The connection, with the statements every read request runs (see [`hot`]).
    reader: std::rc::Rc<hot::Reader>,
    /// What reads on this connection keep between reads (see [`read_cache`]).
    cache: read_cache::ReadCache,
}

thread_local! {
    static READERS: RefCell<Vec<ThreadReader>> = const { RefCell::new(Vec::new()) };
}

/// The database: `read` runs a closure on one snapshot where it is called; `write` runs it in
/// one transaction on the writer thread.
pub struct Store {
    writer: Arc<Mutex<Connection>>,
    /// The database file; `None` for `:memory:`, where the writer connection serves reads too.
    path: Option<String>,
    id: u64,
    alive: Arc<()>,
    jobs: mpsc::Sender<Job>,
    pub page_key: PageKey,
    /// The key of pre-signed Delta Sharing file URLs: random, made with the database, never
    /// exposed, so URLs survive a restart within their lifetime.
    pub signing_key: [u8; 32],
    commits: Arc<Commits>,
    checkpointer: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
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
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
                 PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;
                 PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}; PRAGMA cache_size = -{WRITER_CACHE_KIB};"
            ))
            .map_err(&err)?;
        writer.busy_timeout(BUSY_TIMEOUT).map_err(&err)?;
        writer.set_prepared_statement_cache_capacity(128);

        let version: i64 = writer.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(&err)?;
        let has_tables: bool = writer
            .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table')", [], |r| r.get(0))
            .map_err(&err)?;
        if version == 0 && !has_tables {
            writer.execute_batch(&format!("BEGIN; {SCHEMA_SQL} COMMIT;")).map_err(&err)?;
        } else if (1..SCHEMA_VERSION).contains(&version) {
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize - 1) {
                let to = i as i64 + 2;
                writer.execute_batch(&format!("BEGIN; {sql} PRAGMA user_version = {to}; COMMIT;")).map_err(&err)?;
                tracing::info!(from = to - 1, to, "database schema upgraded");
            }
        } else if version != SCHEMA_VERSION {
            return Err(OpenError::Version { path: path.to_string(), found: version, expected: SCHEMA_VERSION });
        }
        let page_key = Self::page_key(&writer).map_err(&err)?;
        let signing_key = Self::secret(&writer, "presigned_url_key").map_err(&err)?;

        let identity_dirty = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&identity_dirty);
        writer.update_hook(Some(move |_: HookAction, _db: &str, table: &str, _row: i64| {
            if IDENTITY_TABLES.contains(&table) {
                flag.store(true, Ordering::Relaxed);
            }
        }));
        let writer = Arc::new(Mutex::new(writer));

        let checkpointer =
            if memory { None } else { Some(Self::start_checkpointer(path, Arc::clone(&writer)).map_err(&err)?) };

        let commits = Arc::new(Commits {
            identity_epoch: AtomicU64::new(0),
            identity_dirty,
            wal_path: (!memory).then(|| std::path::PathBuf::from(format!("{path}-wal"))),
        });
        let (jobs, queue) = mpsc::channel::<Job>();
        let (w, c) = (Arc::clone(&writer), Arc::clone(&commits));
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                // Ends when the store (the only sender) is dropped. Whatever queued while the
                // last batch ran goes into the next one.
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    run_batch(&w, &c, batch);
                }
            })
            .expect("spawn writer thread");

        Ok(Store {
            writer,
            path: (!memory).then(|| path.to_string()),
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            alive: Arc::new(()),
            jobs,
            page_key,
            signing_key,
            commits,
            checkpointer: Mutex::new(checkpointer),
            is_new,
        })
    }

    /// A 32-byte random secret kept in `meta` under `name`, made on first use.
    fn secret(conn: &Connection, name: &str) -> rusqlite::Result<[u8; 32]> {
        let stored: Option<Vec<u8>> =
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [name], |r| r.get(0)).optional()?;
        if let Some(key) = stored.and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok()) {
            return Ok(key);
        }
        let fresh = PageKey::generate();
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", rusqlite::params![name, &fresh[..]])?;
        Ok(fresh)
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

    /// WAL checkpoints off the request path, keeping the log bounded.
    ///
    /// SQLite starts the log over at the first write after a checkpoint that copied every frame
    /// into the database, unless a reader still reads an older snapshot from it. Under
    /// sustained writes a passive checkpoint never copies every frame: writers append while it
    /// copies. So, every tick, passive checkpoints on the checkpointer's own connection copy all
    /// but a short tail without blocking anyone (once the log is long, pass after pass until a
    /// pass had only [`TAIL_FRAMES`] to copy, or the log reached [`HARD_FRAMES`]); once the log
    /// holds [`RESTART_FRAMES`], the
    /// checkpointer takes the writer connection between two transactions, copies the tail (a
    /// few pages and two syncs), and lets go: the next write starts the log over, and
    /// `journal_size_limit` trims the file. Readers are never waited for (one that holds an
    /// old snapshot only delays the restart to the next tick). When writes stop, a TRUNCATE
    /// empties the file.
    fn start_checkpointer(
        path: &str,
        writer: Arc<Mutex<Connection>>,
    ) -> rusqlite::Result<(mpsc::Sender<()>, JoinHandle<()>)> {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA cache_size = -256;")?;
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                let mut last_log = 0i64;
                loop {
                    match stopped.recv_timeout(CHECKPOINT_TICK) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                    // Passes until one found only a short tail to copy (writers append while a
                    // pass copies): what is left for the paused writer is then short too.
                    let (mut log, mut copied_to) = (0, None::<i64>);
                    for _ in 0..MAX_PASSES {
                        match checkpoint(&conn, "PASSIVE") {
                            Ok((_, l, done)) => {
                                log = l;
                                let short = copied_to.is_some_and(|c| l - c <= TAIL_FRAMES);
                                copied_to = Some(done);
                                if short || !(RESTART_FRAMES..HARD_FRAMES).contains(&l) {
                                    break;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "background checkpoint failed");
                                break;
                            }
                        }
                    }
                    let idle = log > 0 && log == last_log;
                    last_log = log;
                    if !idle && log < RESTART_FRAMES {
                        continue;
                    }
                    let waited = Instant::now();
                    let w = writer.lock().unwrap_or_else(PoisonError::into_inner);
                    let locked = Instant::now();
                    let outcome = if idle {
                        let _ = w.busy_timeout(TRUNCATE_BUSY_WAIT);
                        let r = checkpoint(&w, "TRUNCATE");
                        let _ = w.busy_timeout(BUSY_TIMEOUT);
                        r
                    } else {
                        checkpoint(&conn, "PASSIVE")
                    };
                    drop(w);
                    match outcome {
                        Ok((busy, after, done)) => tracing::debug!(
                            mode = if idle { "TRUNCATE" } else { "PASSIVE (writer paused)" },
                            busy,
                            log,
                            after,
                            done,
                            wait_ms = (locked - waited).as_secs_f64() * 1000.0,
                            held_ms = locked.elapsed().as_secs_f64() * 1000.0,
                            "checkpoint"
                        ),
                        Err(e) => tracing::warn!(error = %e, "background checkpoint failed"),
                    }
                }
            })
            .expect("spawn checkpoint thread");
        Ok((stop, handle))
    }

    /// A counter that changes whenever something a cached caller depends on may have changed.
    pub fn identity_epoch(&self) -> u64 {
        self.commits.identity_epoch.load(Ordering::Acquire)
    }

    /// Runs `work` in one write transaction on the writer connection, synchronously.
    pub fn write_now<T, E: From<rusqlite::Error>>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let result = (|| {
            let _no_cache = read_cache::Installed::new(None);
            let tx = Tx::begin(&conn, "BEGIN IMMEDIATE")?;
            let out = work(&conn)?; // an Err (or a panic) drops tx: rollback
            tx.commit()?;
            Ok(out)
        })();
        self.commits.after(&conn);
        result
    }

    /// Runs `work` on one consistent snapshot, synchronously, on this thread's read-only
    /// connection (opened on first use).
    pub fn read_now<T>(&self, work: impl FnOnce(&Connection) -> ApiResult<T>) -> ApiResult<T> {
        let Some(path) = &self.path else {
            // The writer connection's own commits leave its `data_version` unchanged: no cache.
            let conn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let _no_cache = read_cache::Installed::new(None);
            return Self::snapshot(&conn, work);
        };
        READERS.with(|cell| {
            let Ok(mut readers) = cell.try_borrow_mut() else {
                // A read inside a read on the same thread: a connection of its own, no cache.
                let _no_cache = read_cache::Installed::new(None);
                return Self::snapshot(&Self::open_reader(path)?, work);
            };
            readers.retain(|r| r.alive.strong_count() > 0);
            let i = match readers.iter().position(|r| r.store_id == self.id) {
                Some(i) => i,
                None => {
                    let reader = std::rc::Rc::new(hot::Reader::open(Self::open_reader(path)?));
                    let (alive, cache) = (Arc::downgrade(&self.alive), Default::default());
                    readers.push(ThreadReader { store_id: self.id, alive, reader, cache });
                    readers.len() - 1
                }
            };
            let ThreadReader { reader, cache, .. } = &mut readers[i];
            let _cache = read_cache::Installed::new(Some(cache));
            let _statements = hot::Installed::new(Some(std::rc::Rc::clone(reader)));
            Self::held_snapshot(reader.conn(), work)
        })
    }

    fn open_reader(path: &str) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        c.execute_batch(&format!("PRAGMA query_only = ON; PRAGMA cache_size = -{READER_CACHE_KIB};"))?;
        c.busy_timeout(BUSY_TIMEOUT)?;
        c.set_prepared_statement_cache_capacity(128);
        Ok(c)
    }

    /// `work` in one read transaction (`BEGIN` ... `COMMIT`) on a connection without kept
    /// statements (the writer of a `:memory:` store, a nested read's own connection).
    fn snapshot<T>(conn: &Connection, work: impl FnOnce(&Connection) -> ApiResult<T>) -> ApiResult<T> {
        let tx = Tx::begin(conn, "BEGIN")?;
        let out = work(conn);
        // A read-only transaction: ending it either way releases the snapshot (COMMIT does
        // less work than ROLLBACK; if it fails, dropping `tx` rolls back).
        let _ = tx.commit();
        out
    }

    /// [`Store::snapshot`] on a reader connection, held by the kept `PRAGMA data_version`
    /// statement instead of `BEGIN` and `COMMIT`: stepped to its one row (which opens the read
    /// transaction and tells the read cache the state it is in) and left unfinished while `work`
    /// runs, since SQLite ends an implicit transaction only when the connection's last active
    /// statement finishes. Two statements fewer per read.
    fn held_snapshot<T>(conn: &Connection, work: impl FnOnce(&Connection) -> ApiResult<T>) -> ApiResult<T> {
        hot::with(conn, hot::Slot::DataVersion, "PRAGMA data_version", |stmt| {
            let mut held = stmt.raw_query();
            let version: i64 = held.next()?.ok_or(rusqlite::Error::QueryReturnedNoRows)?.get(0)?;
            read_cache::began_in(version);
            let out = work(conn);
            drop(held); // the snapshot ends here
            Ok(out)
        })?
    }

    /// `work` in one write transaction on the writer thread: writes queue there in arrival
    /// order, and the caller's thread is free meanwhile. Writes that queued while the writer was
    /// busy commit together (see [`run_batch`]): each is still all or nothing, and is answered
    /// only once it has committed.
    pub async fn write<T, F>(self: &Arc<Self>, work: F) -> ApiResult<T>
    where
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |conn: &Connection| {
                let result = work(conn);
                Done {
                    ok: result.is_ok(),
                    answer: Box::new(move |failed: Option<&str>| {
                        let result = match (failed, result) {
                            (Some(why), Ok(_)) => Err(ApiError::internal(why.to_string())),
                            (_, result) => result,
                        };
                        let _ = answer.send(result);
                    }),
                }
            }))
            .map_err(|_| ApiError::internal("the writer thread has stopped"))?;
        answered.await.map_err(|_| ApiError::internal("the write failed unexpectedly"))?
    }

    /// [`Store::read_now`] where it is called: a read is a few index lookups on this thread's
    /// own connection, cheaper than handing it to another thread and back.
    pub async fn read<T, F>(self: &Arc<Self>, work: F) -> ApiResult<T>
    where
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.read_now(work)
    }

    /// Stops the checkpointer and folds the WAL back into the database file, truncating it.
    pub fn close(&self) {
        self.stop_checkpointer();
        let conn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = checkpoint(&conn, "TRUNCATE") {
            tracing::warn!(error = %e, "final checkpoint failed");
        }
    }

    fn stop_checkpointer(&self) {
        if let Some((stop, handle)) = self.checkpointer.lock().unwrap_or_else(PoisonError::into_inner).take() {
            drop(stop);
            let _ = handle.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.stop_checkpointer();
    }
}

/// An open transaction on a connection, rolled back when dropped uncommitted (an error or a
/// panic in the closure). `BEGIN`, `COMMIT` and `ROLLBACK` are prepared once per connection
/// (rusqlite's `Transaction` parses them on every use: a measurable part of a read).
struct Tx<'a> {
    conn: &'a Connection,
}

impl<'a> Tx<'a> {
    fn begin(conn: &'a Connection, begin: &str) -> rusqlite::Result<Tx<'a>> {
        conn.prepare_cached(begin)?.execute([])?;
        Ok(Tx { conn })
    }

    fn commit(self) -> rusqlite::Result<()> {
        // On failure the transaction is still open: dropping `self` rolls it back.
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.conn.is_autocommit() {
            match self.conn.prepare_cached("ROLLBACK") {
                Ok(mut s) => {
                    let _ = s.execute([]);
                }
                Err(_) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
            }
        }
    }
}

/// Runs `PRAGMA wal_checkpoint(mode)`: (busy, frames in the log, frames checkpointed).
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
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

#[cfg(test)]
mod tests;
