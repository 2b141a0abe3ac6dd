//! The statements every read request runs, kept prepared by each reader connection.
//!
//! rusqlite's statement cache (`prepare_cached`) looks a statement up by its SQL text: it hashes
//! the text, copies it into a new key, and hashes it again to put the statement back, which for
//! the few statements of a getTable (`BEGIN`, the cache check, the table, `COMMIT`) was about a
//! tenth of the request's work. A reader connection instead keeps these statements in fixed
//! [`Slot`]s, prepared on first use: [`with`] hands out the slot's statement when `conn` is the
//! reader connection of the read running on this thread, and falls back to `prepare_cached`
//! anywhere else (the writer connection, a nested read's own connection, a statement already in
//! use further up the stack), so callers need not know where they run.

use std::cell::RefCell;
use std::rc::Rc;

use rusqlite::{Connection, PrepFlags, Statement};

/// A statement kept prepared by every reader connection. Each slot is used with one SQL text.
#[derive(Clone, Copy, Debug)]
pub enum Slot {
    /// `PRAGMA data_version`, which also holds the read's snapshot (`Store::held_snapshot`).
    DataVersion,
    TableByName,
    /// [`Slot::TableByName`] when no owner was deleted with its principal.
    TableByNameNoOrphans,
    TablePage,
    TablePageWithColumns,
}

const SLOTS: usize = Slot::TablePageWithColumns as usize + 1;

/// A reader connection's statements, each prepared on its first use.
pub(super) struct Statements<'c> {
    conn: &'c Connection,
    slots: [RefCell<Option<Prepared<'c>>>; SLOTS],
}

struct Prepared<'c> {
    stmt: Statement<'c>,
    /// The text it was prepared from (checked against later uses in debug builds).
    #[cfg(debug_assertions)]
    sql: String,
}

self_cell::self_cell!(
    /// A reader connection and its kept statements (which borrow it).
    pub(super) struct Reader {
        owner: Connection,
        #[not_covariant]
        dependent: Statements,
    }
);

impl Reader {
    pub(super) fn open(conn: Connection) -> Reader {
        Reader::new(conn, |conn| Statements { conn, slots: Default::default() })
    }

    pub(super) fn conn(&self) -> &Connection {
        self.borrow_owner()
    }
}

thread_local! {
    /// The reader connection of the read running on this thread, if any.
    static CURRENT: RefCell<Option<Rc<Reader>>> = const { RefCell::new(None) };
}

/// Makes `reader` the current reader of this thread until dropped (then the previous one, for
/// a read inside a read, is current again).
pub(super) struct Installed {
    previous: Option<Rc<Reader>>,
}

impl Installed {
    pub(super) fn new(reader: Option<Rc<Reader>>) -> Installed {
        Installed { previous: CURRENT.with(|c| c.replace(reader)) }
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        CURRENT.with(|c| c.replace(self.previous.take()));
    }
}

/// Runs `f` on the statement `sql` of `slot`: the kept one when `conn` is the current reader
/// connection and the statement is not in use, else one from `conn`'s statement cache.
pub fn with<T>(
    conn: &Connection,
    slot: Slot,
    sql: &str,
    f: impl FnOnce(&mut Statement<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let reader = CURRENT.with(|c| c.borrow().as_ref().filter(|r| std::ptr::eq(r.conn(), conn)).cloned());
    let Some(reader) = reader else { return cached(conn, sql, f) };
    reader.with_dependent(|_, kept| {
        let Ok(mut cell) = kept.slots[slot as usize].try_borrow_mut() else {
            return cached(conn, sql, f);
        };
        if cell.is_none() {
            *cell = Some(Prepared {
                stmt: kept.conn.prepare_with_flags(sql, PrepFlags::SQLITE_PREPARE_PERSISTENT)?,
                #[cfg(debug_assertions)]
                sql: sql.to_string(),
            });
        }
        let Some(prepared) = cell.as_mut() else { unreachable!("prepared just above") };
        #[cfg(debug_assertions)]
        assert_eq!(prepared.sql, sql, "slot {slot:?} used with two statements");
        f(&mut prepared.stmt)
    })
}

fn cached<T>(
    conn: &Connection,
    sql: &str,
    f: impl FnOnce(&mut Statement<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let mut stmt = conn.prepare_cached(sql)?;
    f(&mut stmt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_statement_serves_only_its_own_connection_and_one_use_at_a_time() {
        let reader = Rc::new(Reader::open(Connection::open_in_memory().unwrap()));
        let other = Connection::open_in_memory().unwrap();
        let one = |c: &Connection| with(c, Slot::DataVersion, "SELECT 1", |s| s.query_row([], |r| r.get::<_, i64>(0)));
        // Not installed: the statement cache.
        assert_eq!(one(reader.conn()).unwrap(), 1);
        let kept = |r: &Reader| r.with_dependent(|_, s| s.slots[Slot::DataVersion as usize].borrow().is_some());
        assert!(!kept(&reader));
        let _installed = Installed::new(Some(Rc::clone(&reader)));
        assert_eq!(one(reader.conn()).unwrap(), 1);
        assert!(kept(&reader));
        // Another connection never gets the reader's statement.
        assert_eq!(one(&other).unwrap(), 1);
        // In use further up the stack: a statement of its own.
        let nested = with(reader.conn(), Slot::DataVersion, "SELECT 1", |_| one(reader.conn())).unwrap();
        assert_eq!(nested, 1);
    }
}
