//! `tandem backup DIR`: a consistent copy of a data directory, taken while a server may be
//! running on it and writing to it.
//!
//! The database is copied by SQLite's `VACUUM INTO`, which reads everything in one read
//! transaction: the copy is the store as of one committed moment, never half of a change
//! (WAL lets that read run beside the server's writes, which it does not block). It is written
//! under a temporary name, synced and renamed, so a backup interrupted at any moment leaves no
//! file that looks like a store. The copy is a data directory of its own: its marker file
//! names the store the database holds, and the administrator token file, if any, comes along.

use crate::integrity::MARKER_FILE;
use crate::{StoreError, ADMIN_TOKEN_FILE, DB_FILE};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// What a backup copied.
#[derive(Debug)]
pub struct BackupReport {
    pub zones: u64,
    pub records: u64,
    /// Size of the copied database.
    pub bytes: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Copies the store in `data_dir` into `dest`, a directory that must not exist yet or be
/// empty (a backup never overwrites anything).
pub fn backup(data_dir: &Path, dest: &Path) -> Result<BackupReport, StoreError> {
    let db = data_dir.join(DB_FILE);
    if !db.is_file() {
        return Err(StoreError::Io {
            path: db,
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no store here: is this the --data-dir of a Tandem?",
            ),
        });
    }
    let empty = match std::fs::read_dir(dest) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(io(dest)(e)),
    };
    if !empty {
        return Err(StoreError::Io {
            path: dest.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the backup directory is not empty; a backup never overwrites",
            ),
        });
    }
    std::fs::create_dir_all(dest).map_err(io(dest))?;
    // Holds TSIG secrets, as the data directory does.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o700)).map_err(io(dest))?;
    }

    // Read-only: the backup never writes to the store it copies, not even a checkpoint.
    let conn = Connection::open_with_flags(
        &db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(crate::BUSY_TIMEOUT)?;
    let tmp = dest.join(format!("{DB_FILE}.partial"));
    let tmp_text = tmp.to_str().ok_or_else(|| StoreError::Io {
        path: tmp.clone(),
        source: std::io::Error::other("the backup path is not valid UTF-8"),
    })?;
    conn.execute("VACUUM INTO ?1", [tmp_text])?;
    drop(conn);

    // What was copied, read from the copy itself.
    let (zones, records, id) = {
        let copy = Connection::open_with_flags(&tmp, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let zones: i64 = copy.query_row("SELECT count(*) FROM zones", [], |r| r.get(0))?;
        let mut records: i64 = copy.query_row("SELECT count(*) FROM records", [], |r| r.get(0))?;
        // Records of secondary zones live in snapshots (schema V10; a store not yet opened by
        // a release with it has none).
        let snapshots: i64 = copy.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'zone_snapshots'",
            [],
            |r| r.get(0),
        )?;
        if snapshots > 0 {
            records += copy.query_row(
                "SELECT coalesce(sum(records), 0) FROM zone_snapshots",
                [],
                |r| r.get::<_, i64>(0),
            )?;
        }
        let id: String = copy.query_row(
            "SELECT value FROM store_meta WHERE key = 'store_id'",
            [],
            |r| r.get(0),
        )?;
        (zones as u64, records as u64, id)
    };
    sync(&tmp)?;
    let final_db = dest.join(DB_FILE);
    std::fs::rename(&tmp, &final_db).map_err(io(&final_db))?;
    write_synced(&dest.join(MARKER_FILE), format!("{id}\n").as_bytes())?;
    let token = data_dir.join(ADMIN_TOKEN_FILE);
    match std::fs::read(&token) {
        Ok(bytes) => write_synced(&dest.join(ADMIN_TOKEN_FILE), &bytes)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&token)(e)),
    }
    sync(dest)?;
    let bytes = std::fs::metadata(&final_db).map_err(io(&final_db))?.len();
    Ok(BackupReport {
        zones,
        records,
        bytes,
    })
}

fn sync(path: &Path) -> Result<(), StoreError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(path))
}

/// Writes a small file owner-readable only, and syncs it.
fn write_synced(path: &PathBuf, bytes: &[u8]) -> Result<(), StoreError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(io(path))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::records::tests::{row, zone};
    use crate::{RecordChange, Store};
    use tandem_zone::record::rtype;

    #[test]
    fn a_backup_taken_while_the_store_is_open_opens_as_that_store() {
        let live = tempfile::tempdir().unwrap();
        let store = Store::open(live.path()).unwrap();
        let z = zone(&store, "example.com");
        store
            .apply_record_change(&RecordChange {
                journal: None,
                version: None,
                zone_id: z.id.clone(),
                serial: 2,
                deletes: vec![],
                updates: vec![],
                inserts: vec![row(&z.id, "www.example.com", rtype::A, &[192, 0, 2, 7])],
            })
            .unwrap();
        let dest = tempfile::tempdir().unwrap();
        let copy = dest.path().join("copy");
        let report = backup(live.path(), &copy).unwrap();
        assert_eq!((report.zones, report.records), (1, 2));
        // The live store keeps working; the copy opens on its own, as the same store.
        store
            .apply_record_change(&RecordChange {
                journal: None,
                version: None,
                zone_id: z.id.clone(),
                serial: 3,
                deletes: vec![],
                updates: vec![],
                inserts: vec![row(&z.id, "new.example.com", rtype::A, &[192, 0, 2, 8])],
            })
            .unwrap();
        let restored = Store::open(&copy).unwrap();
        assert_eq!(restored.zone(&z.id).unwrap().unwrap().serial, 2);
        assert_eq!(restored.zone_records(&z.id).unwrap().len(), 2);
        assert_eq!(restored.record_counts().unwrap()[&z.id], 2);
        assert!(!copy.join(format!("{DB_FILE}.partial")).exists());
        // And of a store no server has open.
        drop(store);
        let again = backup(live.path(), &dest.path().join("again")).unwrap();
        assert_eq!((again.zones, again.records), (1, 3));
    }

    #[test]
    fn a_backup_never_overwrites_and_needs_a_store() {
        let live = tempfile::tempdir().unwrap();
        let _store = Store::open(live.path()).unwrap();
        let dest = tempfile::tempdir().unwrap();
        std::fs::write(dest.path().join("keep"), b"mine").unwrap();
        let err = backup(live.path(), dest.path()).unwrap_err().to_string();
        assert!(err.contains("not empty"), "{err}");
        assert_eq!(std::fs::read(dest.path().join("keep")).unwrap(), b"mine");
        let nowhere = tempfile::tempdir().unwrap();
        let err = backup(nowhere.path(), &dest.path().join("x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no store here"), "{err}");
    }
}
