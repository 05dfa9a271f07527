//! Checkpoints off the commit path. With SQLite's automatic checkpoint, the commit that takes
//! the write-ahead log past 1000 pages also copies the whole log into the database and syncs
//! it before it returns: a 1M-record import paid for copying its own 400 MB before its 200,
//! and every thousandth small change paid for the changes before it.
//!
//! Here the writer's commit only notes that the log has grown (SQLite's WAL hook, which
//! replaces the automatic checkpoint), and a thread of the store, on its own connection, runs
//! a PASSIVE checkpoint: it copies what no reader still needs, never blocks the writer, and
//! never waits for a reader. Durability is unchanged: a commit is durable once its frames are
//! synced in the log (`synchronous=FULL`); the checkpoint only moves them.
//!
//! When that checkpoint copied the whole log and the log file is larger than the store keeps
//! (`journal_size_limit`), the thread also empties it (a TRUNCATE checkpoint that waits for
//! nobody). Otherwise the next commit, which restarts the log, would cut the file back itself:
//! some 200 ms for the 400 MB left by a 1M-record import, paid by the first change after it.

use rusqlite::{ffi, Connection};
use std::ffi::{c_char, c_int, c_void};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// The log size, in pages, from which a commit asks for a checkpoint: SQLite's default for
/// its automatic checkpoint.
const PAGES: c_int = 1000;

/// The log file size above which the thread empties it once all of it is copied: the
/// `journal_size_limit` every connection of the store has (`connect`). The store's own unit
/// tests use 1 MiB, so that a test commit of a few MB crosses it.
pub(crate) const KEPT_LOG: u64 = if cfg!(test) { 1 << 20 } else { 64 << 20 };

pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// The connection that checkpoints; held for the length of each checkpoint, so that
    /// [`Checkpointer::quiet`] can wait for one to end.
    conn: Mutex<Connection>,
}

#[derive(Default)]
struct State {
    due: bool,
    stop: bool,
    /// Checkpoints run, for tests.
    runs: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Checkpointer {
    /// Opens the checkpointing connection to `path` and starts its thread. Nothing is asked
    /// of it until [`Checkpointer::attach`] hooks it to the writer.
    pub(crate) fn start(path: &Path) -> Result<Checkpointer, crate::StoreError> {
        let conn = super::connect(path)?;
        // Its TRUNCATE checkpoint takes the locks it can get at once, or does what PASSIVE does.
        conn.busy_timeout(std::time::Duration::ZERO)?;
        let mut log = path.as_os_str().to_owned();
        log.push("-wal");
        let log = std::path::PathBuf::from(log);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            conn: Mutex::new(conn),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || run(&worker, &log))
            .map_err(|source| crate::StoreError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Checkpointer {
            shared,
            thread: Some(thread),
        })
    }

    /// Makes the writer's commits ask this checkpointer for a checkpoint instead of running
    /// SQLite's automatic one.
    pub(crate) fn attach(&self, writer: &Connection) {
        // SAFETY: the hook's argument points into `self.shared`, which outlives the hook:
        // `detach` removes the hook before the checkpointer is dropped (`Store`'s `Drop`).
        unsafe {
            ffi::sqlite3_wal_hook(
                writer.handle(),
                Some(on_commit),
                Arc::as_ptr(&self.shared) as *mut c_void,
            );
        }
    }

    /// Removes the hook [`Checkpointer::attach`] set on `writer`.
    pub(crate) fn detach(&self, writer: &Connection) {
        // SAFETY: a plain call on a live connection handle.
        unsafe {
            ffi::sqlite3_wal_hook(writer.handle(), None, std::ptr::null_mut());
        }
    }

    /// Waits for a running checkpoint to end and keeps the next from starting while the guard
    /// lives (a TRUNCATE checkpoint of the writer would otherwise meet it and fail busy).
    pub(crate) fn quiet(&self) -> MutexGuard<'_, Connection> {
        self.shared.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checkpoints run so far.
    #[cfg(test)]
    pub(crate) fn runs(&self) -> u64 {
        self.shared.lock().runs
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// SQLite's WAL hook: runs on the writer's thread at every commit, with the log's size in
/// pages. It only raises a flag.
unsafe extern "C" fn on_commit(
    arg: *mut c_void,
    _db: *mut ffi::sqlite3,
    _name: *const c_char,
    pages: c_int,
) -> c_int {
    if pages >= PAGES {
        // SAFETY: `arg` is the `Shared` that `attach` registered, alive until `detach`.
        let shared = unsafe { &*(arg as *const Shared) };
        shared.lock().due = true;
        shared.wake.notify_one();
    }
    ffi::SQLITE_OK
}

fn run(shared: &Shared, log: &Path) {
    loop {
        {
            let mut state = shared.lock();
            while !state.due && !state.stop {
                state = shared.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            if state.stop {
                return;
            }
            state.due = false;
        }
        let conn = shared.conn.lock().unwrap_or_else(|e| e.into_inner());
        // PASSIVE (https://sqlite.org/c3ref/wal_checkpoint_v2.html): copies the frames no
        // reader needs and returns; frames left over go with the next one.
        let result = checkpoint(&conn, "PASSIVE").and_then(|all_copied| {
            let large = std::fs::metadata(log).is_ok_and(|m| m.len() > KEPT_LOG);
            if all_copied && large {
                checkpoint(&conn, "TRUNCATE")?;
            }
            Ok(())
        });
        drop(conn);
        if let Err(e) = result {
            tracing::warn!(error = %e, "the store's write-ahead log could not be checkpointed; the next commit tries again");
        }
        shared.lock().runs += 1;
    }
}

/// Runs a checkpoint of `mode`; whether it copied the whole log (it was not kept from any
/// frame by a reader or a writer).
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<bool> {
    let (busy, log, copied): (i64, i64, i64) =
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    Ok(busy == 0 && log == copied)
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;
    use crate::{Store, DB_FILE};
    use std::time::{Duration, Instant};

    fn size(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    /// A commit that takes the log past the threshold leaves the copying to the store's thread:
    /// while that thread is held off, the database file does not grow and the log holds the
    /// commit; once it may run, it copies the log into the database.
    #[test]
    fn a_large_commit_is_checkpointed_and_its_log_emptied_by_the_store_thread_not_by_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.checkpoint().unwrap();
        let db = dir.path().join(DB_FILE);
        let wal = dir.path().join(format!("{DB_FILE}-wal"));
        let before = size(&db);
        let runs = store.checkpointer.runs();
        {
            let _held = store.checkpointer.quiet();
            let mut conn = store.write_conn();
            let tx = conn.transaction().unwrap();
            tx.execute_batch("CREATE TABLE filler (x BLOB)").unwrap();
            // 3000 rows of 4000 octets: some 3000 pages, three times the threshold.
            for _ in 0..3000 {
                tx.execute("INSERT INTO filler VALUES (zeroblob(4000))", [])
                    .unwrap();
            }
            tx.commit().unwrap();
            drop(conn);
            // SQLite's automatic checkpoint would have copied the log during the commit.
            assert_eq!(
                size(&db),
                before,
                "the commit itself wrote the database file"
            );
            assert!(size(&wal) > 3000 * 4000, "log: {} octets", size(&wal));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        // The count goes up just after the checkpoint ends.
        while size(&db) < before + 3000 * 4000 || store.checkpointer.runs() == runs {
            assert!(
                Instant::now() < deadline,
                "not checkpointed: database {} octets, {} checkpoints",
                size(&db),
                store.checkpointer.runs()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        // All of the log was copied and it is larger than the store keeps: the thread emptied
        // it, so the next commit does not cut it back itself.
        assert_eq!(size(&wal), 0, "the log was not emptied");
        // Small commits below the threshold ask for nothing.
        let runs = store.checkpointer.runs();
        store.checkpoint().unwrap();
        store
            .write_conn()
            .execute("INSERT INTO filler VALUES (x'00')", [])
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(store.checkpointer.runs(), runs);
        // What was committed is there after a reopen.
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let n: i64 = store
            .read_conn()
            .query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3001);
    }
}
