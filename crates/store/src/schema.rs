//! The database schema as an ordered list of migrations, tracked with `PRAGMA user_version`.
//!
//! Migration `n` (1-based) runs when `user_version < n`, in its own transaction together with the
//! bump of `user_version`, so a crash between two migrations leaves a database that the next
//! start finishes migrating. Never edit a released migration: append a new one.

use crate::StoreError;
use rusqlite::Connection;

/// Migration 1: accounts, API tokens, zones and their records.
const V1_CORE: &str = "
CREATE TABLE accounts (
    id      TEXT PRIMARY KEY NOT NULL,
    name    TEXT NOT NULL,
    created TEXT NOT NULL
);

-- account_id NULL marks the administrator's tokens; only the SHA-256 of a value is kept.
CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    account_id TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    permission TEXT NOT NULL CHECK (permission IN ('read', 'write', 'admin')),
    hash       TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL
);
CREATE INDEX api_tokens_account ON api_tokens(account_id);

-- name: fully qualified, lowercase, without the trailing dot; unique on the server.
CREATE TABLE zones (
    id         TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name       TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL CHECK (type IN ('full', 'secondary')),
    status     TEXT NOT NULL,
    serial     INTEGER NOT NULL,
    created    TEXT NOT NULL,
    modified   TEXT NOT NULL
);
CREATE INDEX zones_account ON zones(account_id);

-- One row per resource record. owner and rdata are uncompressed wire form, so a zone is
-- rebuilt at start-up without parsing text; name and content are what the API shows.
CREATE TABLE records (
    id       TEXT PRIMARY KEY NOT NULL,
    zone_id  TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    owner    BLOB NOT NULL,
    type     INTEGER NOT NULL,
    ttl      INTEGER NOT NULL,
    rdata    BLOB NOT NULL,
    content  TEXT NOT NULL,
    priority INTEGER,
    comment  TEXT,
    created  TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX records_zone_name_type ON records(zone_id, name, type);
";

/// Migration 2: zone-transfer configuration (PRODUCT §1): TSIG keys, peers and ACLs of an
/// account, and the incoming and outgoing configuration of a zone with its linked peers.
const V2_TRANSFERS: &str = "
-- name is the key name as given; name_key (lowercase, no trailing dot) keeps key names unique
-- within an account, since a transfer request names its key and nothing else.
CREATE TABLE tsig_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    algorithm  TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created    TEXT NOT NULL,
    modified   TEXT NOT NULL,
    UNIQUE (account_id, name_key)
);

CREATE TABLE peers (
    id          TEXT PRIMARY KEY NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    ip          TEXT,
    port        INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    ixfr_enable INTEGER NOT NULL,
    tsig_id     TEXT REFERENCES tsig_keys(id),
    created     TEXT NOT NULL,
    modified    TEXT NOT NULL
);
CREATE INDEX peers_account ON peers(account_id);
CREATE INDEX peers_tsig ON peers(tsig_id);

-- ip_range: canonical CIDR text (network address / prefix length).
CREATE TABLE acls (
    id         TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    ip_range   TEXT NOT NULL,
    created    TEXT NOT NULL,
    modified   TEXT NOT NULL
);
CREATE INDEX acls_account ON acls(account_id);

-- A secondary zone's transfers in. state, checked_time, expires_time and next_refresh_time
-- belong to the refresh machinery; axfr_requested is a force_axfr not yet carried out.
CREATE TABLE incoming_transfers (
    zone_id              TEXT PRIMARY KEY NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    id                   TEXT NOT NULL UNIQUE,
    auto_refresh_seconds INTEGER NOT NULL,
    state                TEXT NOT NULL DEFAULT 'pending',
    checked_time         TEXT,
    expires_time         TEXT,
    next_refresh_time    TEXT,
    axfr_requested       TEXT,
    created              TEXT NOT NULL,
    modified             TEXT NOT NULL
);

-- A zone's transfers out; notify_requested is a force_notify not yet carried out.
CREATE TABLE outgoing_transfers (
    zone_id               TEXT PRIMARY KEY NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    id                    TEXT NOT NULL UNIQUE,
    enabled               INTEGER NOT NULL DEFAULT 0,
    checked_time          TEXT,
    last_transferred_time TEXT,
    notify_requested      TEXT,
    created               TEXT NOT NULL,
    modified              TEXT NOT NULL
);

-- The peers linked to a zone's incoming or outgoing configuration, in the order given.
CREATE TABLE transfer_peers (
    zone_id   TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
    position  INTEGER NOT NULL,
    peer_id   TEXT NOT NULL REFERENCES peers(id),
    PRIMARY KEY (zone_id, direction, position),
    UNIQUE (zone_id, direction, peer_id)
);
CREATE INDEX transfer_peers_peer ON transfer_peers(peer_id);
";

/// The IXFR journal: one row per committed change of a zone, oldest first by `seq`.
const V3_JOURNAL: &str = "
CREATE TABLE journal (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    zone_id     TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    from_serial INTEGER NOT NULL,
    to_serial   INTEGER NOT NULL,
    diff        BLOB NOT NULL,
    records     INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    created     TEXT NOT NULL
);
CREATE INDEX journal_zone ON journal(zone_id, seq);
";

/// What the primary role last did with each linked secondary.
const V4_OUTGOING_STATUS: &str = "
CREATE TABLE outgoing_peer_status (
    zone_id              TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    peer_id              TEXT NOT NULL,
    last_notify_time     TEXT,
    last_notify_result   TEXT,
    last_transfer_time   TEXT,
    last_transfer_type   TEXT,
    last_transfer_serial INTEGER,
    PRIMARY KEY (zone_id, peer_id)
);
";

/// What the secondary role last saw of each linked primary, and which one served the last
/// transfer of the zone.
const V5_INCOMING_STATUS: &str = "
CREATE TABLE incoming_peer_status (
    zone_id              TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    peer_id              TEXT NOT NULL,
    last_check_time      TEXT,
    last_result          TEXT,
    last_transfer_time   TEXT,
    last_transfer_type   TEXT,
    last_transfer_serial INTEGER,
    PRIMARY KEY (zone_id, peer_id)
);
ALTER TABLE incoming_transfers ADD COLUMN last_transfer_peer_id TEXT;
";

/// What the loader checks a zone against at start: its record count, kept by the database in
/// the same transaction as every insert and delete of its records, and the id of this store,
/// which the marker file in the data directory repeats.
const V6_INTEGRITY: &str = "
ALTER TABLE zones ADD COLUMN record_count INTEGER NOT NULL DEFAULT 0;
UPDATE zones SET record_count = (SELECT COUNT(*) FROM records WHERE records.zone_id = zones.id);
CREATE TRIGGER records_counted_in AFTER INSERT ON records BEGIN
    UPDATE zones SET record_count = record_count + 1 WHERE id = NEW.zone_id;
END;
CREATE TRIGGER records_counted_out AFTER DELETE ON records BEGIN
    UPDATE zones SET record_count = record_count - 1 WHERE id = OLD.zone_id;
END;
CREATE TRIGGER records_counted_moved AFTER UPDATE OF zone_id ON records BEGIN
    UPDATE zones SET record_count = record_count - 1 WHERE id = OLD.zone_id;
    UPDATE zones SET record_count = record_count + 1 WHERE id = NEW.zone_id;
END;
CREATE TABLE store_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
INSERT INTO store_meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));
";

/// Record metadata in tables of their own, keyed by record id (comment, tags, settings and
/// their times), and the automatic-TTL flag of `ttl: 1`. Comments move out of `records`.
const V7_RECORD_META: &str = "
ALTER TABLE records ADD COLUMN auto_ttl INTEGER NOT NULL DEFAULT 0;
CREATE TABLE record_meta (
    record_id        TEXT PRIMARY KEY NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    comment          TEXT,
    comment_modified TEXT,
    tags_modified    TEXT,
    settings         TEXT
);
CREATE TABLE record_tags (
    record_id TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    value     TEXT,
    PRIMARY KEY (record_id, name)
);
CREATE INDEX record_tags_name ON record_tags(name, record_id);
INSERT INTO record_meta (record_id, comment, comment_modified)
    SELECT id, comment, modified FROM records WHERE comment IS NOT NULL AND comment <> '';
UPDATE records SET comment = NULL WHERE comment IS NOT NULL;
";

/// The provider's `paused` flag of a zone (`PATCH /zones/{id}`): kept and shown, never read by
/// DNS, since it is about the provider's proxy, which Tandem does not have.
const V8_ZONE_PAUSED: &str = "
ALTER TABLE zones ADD COLUMN paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1));
";

/// The record count of a zone is kept by the statements that write its records, once per
/// transaction (`records::count_records`), instead of by triggers that updated the zone row
/// once for every record inserted or deleted (a million updates for an import of a million).
const V9_COUNT_PER_CHANGE: &str = "
DROP TRIGGER records_counted_in;
DROP TRIGGER records_counted_out;
DROP TRIGGER records_counted_moved;
";

/// The records of `secondary` zones as one checksummed snapshot per zone (`snapshot.rs`)
/// instead of a row per record; the journal since the snapshot is the redo log.
const V10_SNAPSHOTS: &str = "
CREATE TABLE zone_snapshots (
    zone_id TEXT PRIMARY KEY NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    serial  INTEGER NOT NULL,
    records INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    data    BLOB NOT NULL,
    created TEXT NOT NULL
);
";

/// The journal's small columns in an index of their own, so that reading a zone's history
/// (sizes for trimming, serials for IXFR) never reads its differences: `records` and `bytes`
/// lie after the `diff` blob in each row, and SQLite reaches them only by walking the blob's
/// overflow pages, some 10,000 of them for the difference of a 1M-record import.
const V11_JOURNAL_COVERING: &str = "
CREATE INDEX journal_zone_sizes ON journal(zone_id, seq, from_serial, to_serial, records, bytes);
DROP INDEX journal_zone;
";

/// A `full` zone's records live in its snapshot and journal too; its rows stay only for the
/// records the API remembers something of (`RecordChange`). A record without a row goes by
/// its content id. `from_content` marks a row written for such a record, under that id: once
/// its content changes, the id must not go to another record added later with the old
/// content.
const V12_FULL_SNAPSHOTS: &str = "
ALTER TABLE records ADD COLUMN from_content INTEGER NOT NULL DEFAULT 0
    CHECK (from_content IN (0, 1));
CREATE INDEX records_from_content ON records(zone_id) WHERE from_content = 1;
";

/// Every migration, oldest first.
const MIGRATIONS: &[&str] = &[
    V1_CORE,
    V2_TRANSFERS,
    V3_JOURNAL,
    V4_OUTGOING_STATUS,
    V5_INCOMING_STATUS,
    V6_INTEGRITY,
    V7_RECORD_META,
    V8_ZONE_PAUSED,
    V9_COUNT_PER_CHANGE,
    V10_SNAPSHOTS,
    V11_JOURNAL_COVERING,
    V12_FULL_SNAPSHOTS,
];

/// Brings the database up to the newest schema.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Brings the database up to schema `version` (tests build older stores with it).
pub(crate) fn migrate_to(conn: &mut Connection, version: usize) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for (i, script) in MIGRATIONS[..version]
        .iter()
        .enumerate()
        .skip(current as usize)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(script)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
