//! The store trait: everything Tandem keeps (snapshots as blobs, the journal, record metadata
//! and the control plane), as the API, the zone events and the binary use it. [`Store`]
//! (SQLite, one file in the data directory) is the one implementation; another backend
//! (PostgreSQL) implements these traits and is handed over as an `Arc<dyn Storage>`, and the
//! zone handle (`tandem_server::zone`), which persists through the closures its callers give
//! it, does not change.
//!
//! The traits follow the areas of the data, one per module of this crate. Every method runs
//! as one transaction and blocks: call them from a blocking thread, never from an async task
//! or a DNS worker. Bring them into scope with `use tandem_store::prelude::*`.
//!
//! [`Store`]: crate::Store

use crate::{
    Account, Acl, ApiToken, IncomingConfig, IncomingView, OutgoingConfig, Page, Peer, Permission,
    RecordChange, RecordFilter, RecordRow, RefreshRecord, SecondaryTimers, SnapshotLoad,
    StoreError, TransferWrite, TsigKey, ZoneExtras, ZoneFilter, ZoneLink, ZoneRow,
};
use crate::{AdminToken, OutgoingPeerState};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tandem_zone::{Record, ZoneDiff, ZoneVersion};

/// The store itself: where it lives, whether it answers, its caches and log.
pub trait StoreControl {
    /// The data directory this store lives in.
    fn data_dir(&self) -> &Path;

    /// How many times the storage was reached since it was opened, so tests can prove a path
    /// never touches it.
    fn uses(&self) -> u64;

    /// A trivial read (`/health`): the storage is there and answers.
    fn check(&self) -> Result<(), StoreError>;

    /// Gives back cached pages after the zones are loaded at start, or after a large change,
    /// whose pages are not read again soon (SQLite: `PRAGMA shrink_memory` on each
    /// connection). The caches fill again as pages are used.
    fn release_memory(&self);

    /// At a clean shutdown: leaves the storage so the next open has nothing to replay
    /// (SQLite: copies the write-ahead log into the database and empties it, `PRAGMA
    /// wal_checkpoint(TRUNCATE)`).
    fn checkpoint(&self) -> Result<(), StoreError>;
}

/// Accounts and API tokens.
pub trait AccountStore {
    /// Every account, oldest first.
    fn accounts(&self) -> Result<Vec<Account>, StoreError>;

    fn account(&self, id: &str) -> Result<Option<Account>, StoreError>;

    /// The account named `default` (the oldest one, should several carry that name).
    fn default_account(&self) -> Result<Account, StoreError>;

    fn create_account(&self, name: &str) -> Result<Account, StoreError>;

    /// Creates a token and returns it with its value, which is not stored and cannot be
    /// shown again. `account_id` `None` makes an administrator token.
    fn create_token(
        &self,
        account_id: Option<&str>,
        name: &str,
        permission: Permission,
    ) -> Result<(ApiToken, String), StoreError>;

    /// The token whose value this is, if any.
    fn authenticate(&self, value: &str) -> Result<Option<ApiToken>, StoreError>;

    /// The tokens of an account, oldest first (administrator tokens belong to none).
    fn account_tokens(&self, account_id: &str) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes a token of an account; `false` when the account has no such token.
    fn delete_token(&self, account_id: &str, id: &str) -> Result<bool, StoreError>;

    /// Sets up the administrator token at start-up. With `given`, its hash replaces the stored
    /// administrator token. Without it the stored one stays; when none is stored, a new one is
    /// generated and written to `DATA_DIR/api-token` (mode 0600) before its hash is committed,
    /// so a crash in between never leaves a token nobody knows.
    fn bootstrap_admin_token(&self, given: Option<&str>) -> Result<AdminToken, StoreError>;

    /// Removes `DATA_DIR/api-token` when the token it holds is no longer valid (an
    /// `--api-token` replaced the generated one), so the file never offers a token the server
    /// refuses. A file whose token still works stays. Answers the path when it was removed.
    fn remove_stale_token_file(&self) -> Result<Option<PathBuf>, StoreError>;
}

/// Zones: their rows, kinds, status and the record counts the start-up check compares.
pub trait ZoneStore {
    /// Creates a zone and its first records in one transaction. Fails with
    /// [`StoreError::ZoneExists`] when the name is taken, and with
    /// [`StoreError::ZoneNestsForeign`] when it lies inside or above a zone of another account
    /// (PRODUCT §1: nothing crosses accounts, the namespace included). Both checks run in the
    /// writing transaction, so two creations racing cannot both pass.
    fn create_zone(&self, zone: &ZoneRow, records: &[RecordRow]) -> Result<(), StoreError>;

    fn zone(&self, id: &str) -> Result<Option<ZoneRow>, StoreError>;

    /// The zone with this name (API form: `example.com`).
    fn zone_by_name(&self, name: &str) -> Result<Option<ZoneRow>, StoreError>;

    /// Every zone (for loading at start-up), by name.
    fn zones(&self) -> Result<Vec<ZoneRow>, StoreError>;

    /// One page of the zones matching `filter`, by name, and how many match in all.
    fn list_zones(
        &self,
        filter: &ZoneFilter,
        page: Page,
    ) -> Result<(Vec<ZoneRow>, u64), StoreError>;

    /// Deletes a zone and all its records; `false` when there was no such zone.
    fn delete_zone(&self, id: &str) -> Result<bool, StoreError>;

    /// The [`ZoneExtras`] of each zone of `ids` that exists, in one query.
    fn zone_extras(&self, ids: &[&str]) -> Result<HashMap<String, ZoneExtras>, StoreError>;

    /// Sets a zone's `paused` flag; `modified` moves to `at` only when the flag changes.
    /// Answers whether it changed; [`StoreError::NotFound`] when there is no such zone.
    fn set_zone_paused(
        &self,
        id: &str,
        paused: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Changes a zone's status (`active`, `pending`, `expired`).
    fn set_zone_status(&self, id: &str, status: &str) -> Result<(), StoreError>;

    /// The number of records the database counted for each zone (by zone id), kept in the
    /// same transactions as the records themselves.
    fn record_counts(&self) -> Result<HashMap<String, u64>, StoreError>;
}

/// The records of `full` zones, with their API metadata, and the one transaction of each change.
pub trait RecordStore {
    /// Every record of a zone as served, straight from the stored wire form (no text parsing),
    /// ready for `ZoneVersion::build`.
    fn zone_records(&self, zone_id: &str) -> Result<Vec<Record>, StoreError>;

    /// Every record of a zone that has a row, with its row id. For a `full` zone kept as a
    /// snapshot these are the records the API remembers something of; the others go by their
    /// content id.
    fn record_keys(&self, zone_id: &str) -> Result<Vec<(String, Record)>, StoreError>;

    /// How many rows a zone's records have, counted through the index the API reads them by,
    /// to check against the count kept with every change (schema V6).
    fn count_rows(&self, zone_id: &str) -> Result<u64, StoreError>;

    /// The ids of a zone's rows that are the content id of other content than their own: a
    /// record without a row got one under its content id, then its content changed. A record
    /// added without a row whose content id is one of these needs a row under a fresh id.
    fn taken_content_ids(&self, zone_id: &str) -> Result<Vec<String>, StoreError>;

    /// The row of a zone holding `record` (owner, type and RDATA; not the TTL), if it has one.
    fn record_row(&self, zone_id: &str, record: &Record) -> Result<Option<RecordRow>, StoreError>;

    /// One page of a zone's records matching `filter`, in its order, and how many match in all.
    fn list_records(
        &self,
        zone_id: &str,
        filter: &RecordFilter,
        page: Page,
    ) -> Result<(Vec<RecordRow>, u64), StoreError>;

    /// One record of a zone.
    fn record(&self, zone_id: &str, id: &str) -> Result<Option<RecordRow>, StoreError>;

    /// The zone's SOA row.
    fn soa_record(&self, zone_id: &str) -> Result<Option<RecordRow>, StoreError>;

    /// Writes one change and the zone's new serial in one transaction: all of it or nothing.
    /// Deleting or updating a row that is not in the zone fails the whole change.
    fn apply_record_change(&self, change: &RecordChange<'_>) -> Result<(), StoreError>;
}

/// The IXFR journal (RFC 1995): the changes of each zone, oldest first.
pub trait JournalStore {
    /// The journaled differences from `from_serial` onwards, oldest first, when the journal
    /// reaches back to exactly that serial and chains without gaps up to `to_serial`;
    /// `None` otherwise (the client then gets an AXFR-style answer, RFC 1995 §4).
    fn journal_since(
        &self,
        zone_id: &str,
        from_serial: u32,
        to_serial: u32,
    ) -> Result<Option<Vec<ZoneDiff>>, StoreError>;

    /// The newest journaled differences of a zone whose records together are at most
    /// `max_records`, oldest first (the history a version loaded at start keeps in memory).
    fn journal_tail(&self, zone_id: &str, max_records: usize) -> Result<Vec<ZoneDiff>, StoreError>;

    /// Number of journaled differences of a zone.
    fn journal_depth(&self, zone_id: &str) -> Result<usize, StoreError>;
}

/// Snapshots: a zone's records at one serial as one checksummed blob.
pub trait SnapshotStore {
    /// The snapshot of zone `zone_id` and the journal's differences from its serial to
    /// `to_serial` (the zone's committed serial); `None` for a zone without one. A damaged
    /// snapshot, or a journal that does not lead to `to_serial`, is an error naming the zone's
    /// row, never a part of the zone.
    fn zone_snapshot(
        &self,
        zone_id: &str,
        to_serial: u32,
    ) -> Result<Option<SnapshotLoad>, StoreError>;

    /// Stores zone `zone_id` as a snapshot of `version` instead of a row per record, in one
    /// transaction, at the first start of a store whose zone has no snapshot yet. A
    /// `secondary` zone's rows go (its records have no metadata); a `full` zone's stay, as the
    /// ids and metadata of its records. `version` must be at the zone's committed serial.
    fn move_to_snapshot(&self, zone_id: &str, version: &ZoneVersion) -> Result<(), StoreError>;
}

/// Peers, TSIG keys and ACLs of each account.
pub trait TransferObjectStore {
    /// The peers of an account, oldest first.
    fn peers(&self, account_id: &str) -> Result<Vec<Peer>, StoreError>;

    fn peer(&self, account_id: &str, id: &str) -> Result<Option<Peer>, StoreError>;

    /// Stores a new peer; its `tsig_id` must be a key of the same account.
    fn create_peer(&self, peer: &Peer) -> Result<(), StoreError>;

    /// Replaces every field of the peer `peer.id` but its creation time, and answers the peer
    /// as now stored. A peer that is a secondary zone's primary must keep an ip.
    fn replace_peer(&self, peer: &Peer) -> Result<Peer, StoreError>;

    /// Deletes a peer that no zone links.
    fn delete_peer(&self, account_id: &str, id: &str) -> Result<(), StoreError>;

    /// The TSIG keys of an account, oldest first.
    fn tsig_keys(&self, account_id: &str) -> Result<Vec<TsigKey>, StoreError>;

    fn tsig_key(&self, account_id: &str, id: &str) -> Result<Option<TsigKey>, StoreError>;

    /// Stores a new key; its name must differ from the account's other keys' names.
    fn create_tsig_key(&self, key: &TsigKey) -> Result<(), StoreError>;

    /// Replaces every field of the key `key.id` but its creation time.
    fn replace_tsig_key(&self, key: &TsigKey) -> Result<TsigKey, StoreError>;

    /// Deletes a key that no peer uses.
    fn delete_tsig_key(&self, account_id: &str, id: &str) -> Result<(), StoreError>;

    /// The ACLs of an account, oldest first.
    fn acls(&self, account_id: &str) -> Result<Vec<Acl>, StoreError>;

    fn acl(&self, account_id: &str, id: &str) -> Result<Option<Acl>, StoreError>;

    fn create_acl(&self, acl: &Acl) -> Result<(), StoreError>;

    /// Replaces every field of the ACL `acl.id` but its creation time.
    fn replace_acl(&self, acl: &Acl) -> Result<Acl, StoreError>;

    fn delete_acl(&self, account_id: &str, id: &str) -> Result<(), StoreError>;
}

/// Each zone's incoming and outgoing transfer configuration and its linked peers.
pub trait TransferConfigStore {
    fn incoming_config(&self, zone_id: &str) -> Result<Option<IncomingConfig>, StoreError>;

    fn outgoing_config(&self, zone_id: &str) -> Result<Option<OutgoingConfig>, StoreError>;

    /// Stores a new incoming configuration; its peers must be peers of `account_id` with an ip.
    fn create_incoming_config(
        &self,
        account_id: &str,
        cfg: &IncomingConfig,
    ) -> Result<(), StoreError>;

    /// Replaces the peers and refresh interval of a zone's incoming configuration (the
    /// refresh state stays) and answers the configuration as now stored.
    fn replace_incoming_config(
        &self,
        account_id: &str,
        zone_id: &str,
        peers: &[String],
        auto_refresh_seconds: u32,
    ) -> Result<IncomingConfig, StoreError>;

    /// Deletes a zone's incoming configuration and its links; answers what was deleted.
    fn delete_incoming_config(&self, zone_id: &str) -> Result<IncomingConfig, StoreError>;

    /// Records a force_axfr for the secondary role to carry out (it clears the mark when done).
    fn request_axfr(&self, zone_id: &str, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Stores a new outgoing configuration; its peers must be peers of `account_id`.
    fn create_outgoing_config(
        &self,
        account_id: &str,
        cfg: &OutgoingConfig,
    ) -> Result<(), StoreError>;

    /// Replaces the linked peers of a zone's outgoing configuration (enabled and the transfer
    /// state stay) and answers the configuration as now stored.
    fn replace_outgoing_config(
        &self,
        account_id: &str,
        zone_id: &str,
        peers: &[String],
    ) -> Result<OutgoingConfig, StoreError>;

    /// Deletes a zone's outgoing configuration and its links; answers what was deleted.
    fn delete_outgoing_config(&self, zone_id: &str) -> Result<OutgoingConfig, StoreError>;

    /// Turns outgoing transfers on or off; answers whether they were on before.
    fn set_outgoing_enabled(&self, zone_id: &str, enabled: bool) -> Result<bool, StoreError>;

    /// Records a force_notify for the primary role to carry out (it clears the mark when done).
    fn request_notify(&self, zone_id: &str, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Every zone configuration that links the peer `peer_id`.
    fn zone_links(&self, peer_id: &str) -> Result<Vec<ZoneLink>, StoreError>;
}

/// What the secondary role did: transfers in, refresh outcomes, expiry, timers.
pub trait IncomingStateStore {
    /// Writes an applied transfer in one transaction: the journal, a snapshot when the
    /// transfer is an AXFR or the journal no longer chains from the last one
    /// ([`snapshot::write_if_unchained`]), the zone's serial and status, and the incoming
    /// status of the zone and the primary. No row per record is written; rows a zone still has
    /// from an older store are deleted. On error nothing is written.
    fn apply_transfer(&self, w: &TransferWrite<'_>) -> Result<(), StoreError>;

    /// Records the outcome of one refresh and the timers that follow it.
    fn record_refresh(&self, r: &RefreshRecord) -> Result<(), StoreError>;

    /// Marks a secondary zone expired (it answers SERVFAIL until a refresh succeeds).
    fn record_expired(&self, zone_id: &str) -> Result<(), StoreError>;

    /// A secondary zone's incoming configuration with its per-primary status and the peer
    /// of its last applied transfer, read in one transaction: a refresh recorded meanwhile
    /// (state and results in one write) is seen whole or not at all, so an answer never pairs
    /// a new `last_result` with an old `state`.
    fn incoming_view(&self, zone_id: &str) -> Result<Option<IncomingView>, StoreError>;

    /// Every secondary zone with an incoming configuration, and its persisted timers.
    fn secondary_timers(&self) -> Result<Vec<SecondaryTimers>, StoreError>;
}

/// What the primary role did: NOTIFY and transfers out, per peer.
pub trait OutgoingStatusStore {
    /// Records the outcome of a NOTIFY to one peer; an acknowledged one also sets the zone's
    /// `checked_time` (a secondary confirmed it knows our serial).
    fn record_notify(
        &self,
        zone_id: &str,
        peer_id: &str,
        at: DateTime<Utc>,
        result: &str,
    ) -> Result<(), StoreError>;

    /// Records a finished outgoing transfer, to `peer_id` when the requester is a linked peer,
    /// and sets the zone's `last_transferred_time` and `checked_time`.
    fn record_transfer_out(
        &self,
        zone_id: &str,
        peer_id: Option<&str>,
        at: DateTime<Utc>,
        kind: &str,
        serial: u32,
    ) -> Result<(), StoreError>;

    /// A zone's outgoing configuration and its per-secondary status rows, read in one
    /// transaction, so that an answer shows each NOTIFY or transfer with the zone times it
    /// set (they are written together).
    fn outgoing_view(
        &self,
        zone_id: &str,
    ) -> Result<Option<(OutgoingConfig, Vec<OutgoingPeerState>)>, StoreError>;
}

/// All of the store, as one object: what the API state, the status writer and the binary
/// hold (`Arc<dyn Storage>`).
pub trait Storage:
    StoreControl
    + AccountStore
    + ZoneStore
    + RecordStore
    + JournalStore
    + SnapshotStore
    + TransferObjectStore
    + TransferConfigStore
    + IncomingStateStore
    + OutgoingStatusStore
    + Send
    + Sync
{
}

impl Storage for crate::Store {}
