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

/// Every migration, oldest first.
const MIGRATIONS: &[&str] = &[V1_CORE];

/// Brings the database up to the newest schema.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for (i, script) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(script)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
