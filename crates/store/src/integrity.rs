//! The store is trusted only after it is checked: one process per data directory (a lock
//! file), a database that is where the data directory says one was (a marker file naming the
//! store), SQLite's `quick_check`, and per-zone record counts kept by the database itself
//! (triggers of schema V6) for the loader to compare with what it read.

use crate::{StoreError, DB_FILE};
use rusqlite::Connection;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::Path;

/// The lock file: held (`flock`, exclusive) for the life of the process.
pub const LOCK_FILE: &str = "lock";
/// The marker file: the id of the store that lives in this directory, written once the
/// database exists. A data directory with a marker but no database lost its database.
pub const MARKER_FILE: &str = "store-id";

/// Takes the data directory's lock, or says which process holds it.
pub(crate) fn lock(data_dir: &Path) -> Result<File, StoreError> {
    let path = data_dir.join(LOCK_FILE);
    let io = |source| StoreError::Io {
        path: path.clone(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    // An advisory lock on the open file, released when it is closed (at exit, however the
    // process ends, kill -9 included).
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(StoreError::Locked {
                dir: data_dir.to_path_buf(),
                holder: holder.trim().to_string(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    // Best effort: the pid is only for the operator's error message, and a full disk must not
    // stop the server from starting.
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}", std::process::id());
    Ok(file)
}

/// Before the database is opened: a marker without a database (or with an empty one) means
/// the database was lost; opening it would silently start an empty store.
pub(crate) fn check_present(data_dir: &Path) -> Result<(), StoreError> {
    let marker = data_dir.join(MARKER_FILE);
    if !marker.exists() {
        return Ok(());
    }
    let db = data_dir.join(DB_FILE);
    let size = std::fs::metadata(&db).map(|m| m.len()).ok();
    if size.unwrap_or(0) == 0 {
        return Err(StoreError::Lost {
            db,
            detail: if size.is_none() {
                "is missing".into()
            } else {
                "is empty".into()
            },
        });
    }
    Ok(())
}

/// After migration: SQLite's `quick_check` (pages, cells, index order; not index contents,
/// which the per-zone counts cover), then the marker compared with the store id inside.
pub(crate) fn check_database(data_dir: &Path, conn: &Connection) -> Result<(), StoreError> {
    let mut stmt = conn.prepare("PRAGMA quick_check(20)")?;
    let problems: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    if problems != ["ok"] {
        return Err(StoreError::Damaged {
            db: data_dir.join(DB_FILE),
            detail: problems.join("; "),
        });
    }
    let id: String = conn.query_row(
        "SELECT value FROM store_meta WHERE key = 'store_id'",
        [],
        |r| r.get(0),
    )?;
    let marker = data_dir.join(MARKER_FILE);
    match std::fs::read_to_string(&marker) {
        Ok(found) if found.trim() == id => Ok(()),
        Ok(found) => Err(StoreError::Lost {
            db: data_dir.join(DB_FILE),
            detail: format!(
                "is store {id}, but {} names store {}",
                marker.display(),
                found.trim()
            ),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A store from before markers existed, or a first start: name it now. A failure
            // (a full disk) only loses the check of the next start, not the start itself.
            let tmp = data_dir.join(format!("{MARKER_FILE}.tmp"));
            let written = std::fs::write(&tmp, format!("{id}\n"))
                .and_then(|_| std::fs::rename(&tmp, &marker));
            if let Err(e) = written {
                tracing::warn!(path = %marker.display(), error = %e, "cannot write the store marker");
            }
            Ok(())
        }
        Err(source) => Err(StoreError::Io {
            path: marker,
            source,
        }),
    }
}

/// The number of records the database counted for each zone (by zone id), kept in the same
/// transactions as the records themselves.
pub(crate) fn record_counts(conn: &Connection) -> Result<HashMap<String, u64>, StoreError> {
    let mut stmt = conn.prepare("SELECT id, record_count FROM zones")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, n) = row?;
        out.insert(id, n.max(0) as u64);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
