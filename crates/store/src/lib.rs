//! Persistence for Tandem: accounts, API tokens, zones and their records, and the zone-transfer
//! configuration (peers, TSIG keys, ACLs, incoming and outgoing) in one SQLite file
//! (`DATA_DIR/tandem.db`, WAL, `synchronous=FULL`), so that every acknowledged change survives
//! `kill -9` and a restart serves exactly the last committed serial of every zone (PRODUCT §4).
//!
//! Each method that changes data runs as one transaction. Methods block: call them from a
//! blocking thread (`tokio::task::spawn_blocking`), never from an async task.

mod accounts;
mod backup;
mod checkpoint;
mod integrity;
mod journal;
mod model;
mod records;
pub mod reserve;
mod schema;
mod snapshot;
pub mod storage;
mod transfers;
mod zones;

pub use accounts::{hash_token, AdminToken, ADMIN_TOKEN_FILE, DEFAULT_ACCOUNT};
pub use backup::{backup, BackupReport};
pub use integrity::{LOCK_FILE, MARKER_FILE};
pub use journal::{JournalLimits, JournalWrite};
pub use model::{
    Account, ApiToken, Page, Permission, RecordChange, RecordFilter, RecordMeta, RecordOrder,
    RecordRow, TagFilter, TextFilter, TextOp, ZoneFilter, ZoneKind, ZoneOrder, ZoneRow,
};
pub use snapshot::SnapshotLoad;
pub use storage::Storage;

/// The store traits, for calling the store's methods: `use tandem_store::prelude::*`.
pub mod prelude {
    pub use crate::storage::{
        AccountStore, IncomingStateStore, JournalStore, OutgoingStatusStore, RecordStore,
        SnapshotStore, Storage, StoreControl, TransferConfigStore, TransferObjectStore, ZoneStore,
    };
}
pub use transfers::incoming_state::{
    IncomingPeerState, IncomingView, PeerCheck, RefreshRecord, SecondaryTimers, TransferContents,
    TransferWrite,
};
pub use transfers::model::{
    Acl, Direction, IncomingConfig, IpRange, IpRangeError, OutgoingConfig, Peer, PeerAllow,
    TsigAlgorithm, TsigKey, DEFAULT_PEER_PORT, MAX_LINKED_PEERS,
};
pub use transfers::status::OutgoingPeerState;
pub use transfers::ZoneLink;
pub use zones::ZoneExtras;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Name of the database file inside the data directory.
pub const DB_FILE: &str = "tandem.db";

/// How long a statement waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database schema version {found} is newer than this build knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("a zone named {0} already exists")]
    ZoneExists(String),
    /// The zone would lie inside or above a zone of another account. The message names
    /// neither that zone nor its account.
    #[error("{0} lies inside or above a zone hosted for another account")]
    ZoneNestsForeign(String),
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    /// The change refers to something that does not fit: a peer or key of another account, a
    /// peer without an address where one is needed, a duplicate key name.
    #[error("{field}: {message}")]
    Rejected { field: String, message: String },
    /// The change conflicts with stored data (an object still in use, a configuration that
    /// already exists); the message says what.
    #[error("{0}")]
    Conflict(String),
    /// Another process holds the data directory (PRODUCT §4: one server per store).
    #[error("the data directory {dir} is in use by another tandem process (pid {holder}); stop it, or give this one another --data-dir", holder = if holder.is_empty() { "unknown" } else { holder.as_str() })]
    Locked { dir: PathBuf, holder: String },
    /// The data directory shows a store was here, but its database is gone or not it.
    #[error("{db} {detail}, but this data directory held a store: restore tandem.db from a backup, or start afresh (see the README, \"Recovering the store\")")]
    Lost { db: PathBuf, detail: String },
    /// SQLite's own check found damage.
    #[error("{db} is damaged ({detail}): restore it from a backup, or start afresh (see the README, \"Recovering the store\")")]
    Damaged { db: PathBuf, detail: String },
    #[error("corrupt {table} row {id}: {detail}")]
    Corrupt {
        table: &'static str,
        id: String,
        detail: String,
    },
}

/// The embedded store. Writes go through one connection, reads through another, so a long
/// write (a large import) does not block readers (WAL lets them see the last commit).
pub struct Store {
    data_dir: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    /// Checkpoints the write-ahead log when the writer's commits have grown it.
    checkpointer: checkpoint::Checkpointer,
    /// Held open for the life of the store: the data directory's lock.
    _lock: std::fs::File,
    /// Connections taken (reads and writes), so tests can prove a path never touches the store.
    uses: std::sync::atomic::AtomicU64,
}

impl Store {
    /// Opens (creating if needed) `data_dir/tandem.db`, brings its schema up to date and makes
    /// sure the `default` account exists.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let created = !data_dir.exists();
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
            path: data_dir.to_path_buf(),
            source,
        })?;
        // The store holds TSIG secrets: a directory we create is readable by its owner only.
        #[cfg(unix)]
        if created {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |source| StoreError::Io {
                    path: data_dir.to_path_buf(),
                    source,
                },
            )?;
        }
        let lock = integrity::lock(data_dir)?;
        integrity::check_present(data_dir)?;
        let path = data_dir.join(DB_FILE);
        let mut writer = connect(&path)?;
        schema::migrate(&mut writer)?;
        records::refresh_content(&mut writer)?;
        integrity::check_database(data_dir, &writer)?;
        let reader = connect(&path)?;
        let checkpointer = checkpoint::Checkpointer::start(&path)?;
        checkpointer.attach(&writer);
        let store = Store {
            data_dir: data_dir.to_path_buf(),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            checkpointer,
            _lock: lock,
            uses: std::sync::atomic::AtomicU64::new(0),
        };
        store.ensure_default_account()?;
        Ok(store)
    }

    fn write_conn(&self) -> MutexGuard<'_, Connection> {
        self.uses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // A panic while holding the lock left no transaction open (it rolled back on drop).
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read_conn(&self) -> MutexGuard<'_, Connection> {
        self.uses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.reader.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl crate::storage::StoreControl for Store {
    fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn uses(&self) -> u64 {
        self.uses.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn check(&self) -> Result<(), StoreError> {
        self.read_conn().query_row(
            "SELECT count(*) FROM (SELECT 1 FROM zones LIMIT 1)",
            [],
            |r| r.get::<_, i64>(0),
        )?;
        Ok(())
    }

    fn release_memory(&self) {
        for conn in [&self.reader, &self.writer] {
            let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = conn.execute_batch("PRAGMA shrink_memory") {
                tracing::warn!(error = %e, "cannot shrink the store's page cache");
            }
        }
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        let conn = self.write_conn();
        let _quiet = self.checkpointer.quiet();
        let (busy, _, _): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        if busy != 0 {
            tracing::warn!("the store's write-ahead log could not be emptied: a reader held it");
        }
        Ok(())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        self.checkpointer.detach(&writer);
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // journal_mode answers with a row, so it cannot go through execute_batch.
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(format!("cannot enable WAL (journal_mode={mode})")),
        });
    }
    // A large import inserts into the name index at random places; with SQLite's default
    // 2 MiB page cache most inserts spill dirty pages and read them back. The cache is a
    // ceiling, filled only as pages are used. After a checkpoint the log file is cut back to
    // 64 MiB, so one large import does not leave a log of its size on disk.
    conn.execute_batch(&format!(
        "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; \
         PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit={};",
        checkpoint::KEPT_LOG
    ))?;
    Ok(conn)
}

/// A fresh object id: 32 lowercase hex characters, as the provider's ids. Ordered by creation
/// within a process, as a UUIDv7 is (RFC 9562 §6.2, method 3): the milliseconds since the
/// epoch (48 bits), then 80 bits that start random each millisecond and grow by a random
/// step of up to 2^32 for each further id in it. Ids stay unpredictable, and the records of
/// an import go to the end of the id index instead of a million random places in it.
pub fn new_id() -> String {
    const LOW: u32 = 80;
    static LAST: std::sync::Mutex<(u64, u128)> = std::sync::Mutex::new((0, 0));
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
        & ((1 << 48) - 1);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let (ms, low) = if ms > last.0 {
        // A fresh start in the lower half leaves room for 2^47 more ids this millisecond.
        (ms, rand::random::<u128>() >> (128 - LOW + 1))
    } else {
        let step = 1 + rand::random::<u32>() as u128;
        match last.1.checked_add(step).filter(|l| l >> LOW == 0) {
            Some(low) => (last.0, low),
            // Spent (never in practice): borrow the next millisecond.
            None => (last.0 + 1, rand::random::<u128>() >> (128 - LOW + 1)),
        }
    };
    *last = (ms, low);
    format!("{:032x}", ((ms as u128) << LOW) | low)
}

/// The id of a record that has no row of its own (the records of a `secondary` zone, which
/// live in the zone's snapshot and journal): 32 lowercase hex characters, the start of the
/// SHA-256 of the zone id, the owner in wire form (names are kept lowercase), the type and the RDATA. The same
/// record of the same zone has the same id across transfers and restarts; a TTL change keeps
/// it, as an edit of the TTL keeps a row's id.
pub fn content_id(zone_id: &str, record: &tandem_zone::Record) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(zone_id.as_bytes());
    h.update([0]);
    h.update(record.owner.as_wire());
    h.update(record.rtype.to_be_bytes());
    h.update(record.rdata.as_ref());
    hex::encode(&h.finalize()[..16])
}

/// The current time, at the microsecond precision the store keeps.
pub fn now() -> DateTime<Utc> {
    chrono::SubsecRound::trunc_subsecs(Utc::now(), 6)
}

/// RFC 3339 in UTC with microseconds (`2025-01-02T03:04:05.123456Z`), as stored and shown.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Reads an optional stored time column.
fn opt_time_column(
    table: &'static str,
    id: &str,
    text: Option<String>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.map(|t| time_column(table, id, &t)).transpose()
}

/// Reads a stored time column, reporting the row on corruption.
fn time_column(table: &'static str, id: &str, text: &str) -> Result<DateTime<Utc>, StoreError> {
    parse_time(text).ok_or_else(|| StoreError::Corrupt {
        table,
        id: id.to_string(),
        detail: format!("bad time {text:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn now_is_exactly_what_the_store_keeps_and_reads_back() {
        for _ in 0..1000 {
            let t = now();
            assert_eq!(parse_time(&format_time(t)), Some(t));
            assert_eq!(t.timestamp_subsec_nanos() % 1000, 0);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_data_dir_we_create_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        Store::open(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "TSIG secrets live here");
    }

    #[test]
    fn ids_are_32_lowercase_hex() {
        let id = new_id();
        assert_eq!(id.len(), 32);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(id, new_id());
    }

    #[test]
    fn ids_grow_in_the_order_they_are_made_and_are_not_sequential() {
        let ids: Vec<String> = (0..10_000).map(|_| new_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order");
        let steps: std::collections::HashSet<u128> = ids
            .windows(2)
            .map(|w| {
                let n = |s: &str| u128::from_str_radix(s, 16).unwrap();
                n(&w[1]).wrapping_sub(n(&w[0]))
            })
            .collect();
        assert!(steps.len() > 9_000, "steps are random, not +1");
    }

    #[test]
    fn open_sets_pragmas_and_bootstraps() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = store.read_conn();
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "FULL");
        let fk: i64 = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        drop(conn);
        let accounts = store.accounts().unwrap();
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].name, DEFAULT_ACCOUNT);
        drop(store);
        // Reopening migrates nothing and creates no second default account.
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.accounts().unwrap().len(), 1);
    }
}
