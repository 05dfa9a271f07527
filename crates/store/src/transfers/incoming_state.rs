//! The secondary role's side of the store: an applied transfer written as one transaction
//! (snapshot or journal, serial and status together, PRODUCT.md §4), the outcome of each
//! refresh per primary, and the persisted refresh and expire timers that a restart resumes.

use super::model::IncomingConfig;
use super::status::peer_status_rows;
use super::zone_config::read_incoming;
use crate::journal::{self, JournalWrite};
use crate::{format_time, opt_time_column, snapshot, Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{params, Transaction};
use tandem_zone::ZoneVersion;

/// What kind of transfer was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferContents {
    /// Every record of the zone (AXFR): a new snapshot is written.
    Full,
    /// Differences applied in order (IXFR): they are the journal entries, and a snapshot is
    /// written only when the journal no longer leads from the last one to the new serial.
    Diffs,
}

/// One applied incoming transfer.
pub struct TransferWrite<'a> {
    pub zone_id: &'a str,
    pub peer_id: &'a str,
    /// `AXFR` or `IXFR`.
    pub kind: &'a str,
    pub serial: u32,
    pub contents: TransferContents,
    /// The zone after the transfer, at `serial`: what a snapshot holds.
    pub version: &'a ZoneVersion,
    /// Differences to journal, so that our own secondaries can IXFR from us (and, since the
    /// last snapshot, the redo log).
    pub journal: Vec<JournalWrite<'a>>,
    pub at: DateTime<Utc>,
}

/// What one refresh saw of one primary.
#[derive(Debug)]
pub struct PeerCheck {
    pub peer_id: String,
    /// `ok`, or the error text.
    pub result: String,
}

/// The outcome of one refresh. Owned, so that it can wait in the status writer's channel.
#[derive(Debug)]
pub struct RefreshRecord {
    pub zone_id: String,
    pub at: DateTime<Utc>,
    /// `pending`, `ok`, `retrying` or `expired`.
    pub state: &'static str,
    /// A primary answered and the zone is current: `checked_time` moves.
    pub succeeded: bool,
    pub checks: Vec<PeerCheck>,
    pub next_refresh: DateTime<Utc>,
    /// `None` leaves the stored expire time.
    pub expires: Option<DateTime<Utc>>,
    /// A forced AXFR was carried out that began at this time: requests recorded up to then
    /// are cleared, a later one stays (it was acknowledged while this one ran).
    pub forced_done: Option<DateTime<Utc>>,
}

/// One primary's row of incoming status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncomingPeerState {
    pub peer_id: String,
    pub last_check_time: Option<DateTime<Utc>>,
    pub last_result: Option<String>,
    pub last_transfer_time: Option<DateTime<Utc>>,
    pub last_transfer_type: Option<String>,
    pub last_transfer_serial: Option<u32>,
}

/// What [`Store::incoming_view`] reads, as of one moment.
#[derive(Clone, Debug)]
pub struct IncomingView {
    pub config: IncomingConfig,
    /// Status rows by peer id; a linked peer not yet checked has none.
    pub peers: Vec<IncomingPeerState>,
    /// The peer that served the zone's last applied transfer.
    pub last_transfer_peer: Option<String>,
}

/// A secondary zone's persisted timers.
#[derive(Clone, Debug)]
pub struct SecondaryTimers {
    pub zone_name: String,
    pub next_refresh: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    pub axfr_requested: bool,
}

fn upsert_peer(
    tx: &Transaction<'_>,
    zone_id: &str,
    peer_id: &str,
    at: DateTime<Utc>,
    result: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO incoming_peer_status (zone_id, peer_id, last_check_time, last_result)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (zone_id, peer_id) DO UPDATE
         SET last_check_time = excluded.last_check_time, last_result = excluded.last_result",
        params![zone_id, peer_id, format_time(at), result],
    )?;
    Ok(())
}

impl crate::storage::IncomingStateStore for Store {
    fn apply_transfer(&self, w: &TransferWrite<'_>) -> Result<(), StoreError> {
        if w.version.serial() != w.serial {
            return Err(StoreError::Rejected {
                field: "transfer".into(),
                message: format!(
                    "the version to store is at serial {}, the transfer at {}",
                    w.version.serial(),
                    w.serial
                ),
            });
        }
        // An AXFR's snapshot is encoded before the store's one writer is taken, so that API
        // writes to other zones do not wait for it.
        let blob = (w.contents == TransferContents::Full).then(|| snapshot::encode(w.version));
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        snapshot::drop_rows(&tx, w.zone_id)?;
        journal::append(&tx, w.zone_id, &w.journal)?;
        match &blob {
            Some(blob) => snapshot::write_encoded(&tx, w.zone_id, w.version, blob)?,
            None => {
                snapshot::write_if_unchained(&tx, w.zone_id, w.version)?;
            }
        }
        let at = format_time(w.at);
        let n = tx.execute(
            "UPDATE zones SET serial = ?2, status = 'active', modified = ?3 WHERE id = ?1",
            params![w.zone_id, w.serial as i64, at],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "zone",
                id: w.zone_id.to_string(),
            });
        }
        tx.execute(
            "UPDATE incoming_transfers
             SET state = 'ok', checked_time = ?2, modified = ?2, last_transfer_peer_id = ?3
             WHERE zone_id = ?1",
            params![w.zone_id, at, w.peer_id],
        )?;
        upsert_peer(&tx, w.zone_id, w.peer_id, w.at, "ok")?;
        tx.execute(
            "UPDATE incoming_peer_status
             SET last_transfer_time = ?3, last_transfer_type = ?4, last_transfer_serial = ?5
             WHERE zone_id = ?1 AND peer_id = ?2",
            params![w.zone_id, w.peer_id, at, w.kind, w.serial as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn record_refresh(&self, r: &RefreshRecord) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        for c in &r.checks {
            upsert_peer(&tx, &r.zone_id, &c.peer_id, r.at, &c.result)?;
        }
        tx.execute(
            "UPDATE incoming_transfers
             SET state = ?2, next_refresh_time = ?3,
                 checked_time = CASE WHEN ?4 THEN ?5 ELSE checked_time END,
                 expires_time = COALESCE(?6, expires_time),
                 axfr_requested = CASE WHEN axfr_requested <= ?7 THEN NULL ELSE axfr_requested END
             WHERE zone_id = ?1",
            params![
                r.zone_id,
                r.state,
                format_time(r.next_refresh),
                r.succeeded,
                format_time(r.at),
                r.expires.map(format_time),
                r.forced_done.map(format_time)
            ],
        )?;
        let status = match r.state {
            "pending" => "pending",
            "expired" => "expired",
            _ => "active",
        };
        tx.execute(
            "UPDATE zones SET status = ?2 WHERE id = ?1 AND type = 'secondary'",
            params![r.zone_id, status],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn record_expired(&self, zone_id: &str) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE incoming_transfers SET state = 'expired' WHERE zone_id = ?1",
            [zone_id],
        )?;
        tx.execute(
            "UPDATE zones SET status = 'expired' WHERE id = ?1",
            [zone_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn incoming_view(&self, zone_id: &str) -> Result<Option<IncomingView>, StoreError> {
        use rusqlite::OptionalExtension;
        let mut conn = self.read_conn();
        // Under WAL, a read transaction sees one snapshot from its first read to its end.
        let tx = conn.transaction()?;
        let Some(config) = read_incoming(&tx, zone_id)? else {
            return Ok(None);
        };
        let last_transfer_peer = tx
            .query_row(
                "SELECT last_transfer_peer_id FROM incoming_transfers WHERE zone_id = ?1",
                [zone_id],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten();
        let rows = peer_status_rows(
            &tx,
            "incoming_peer_status",
            "last_check_time, last_result",
            zone_id,
        )?;
        let peers = rows
            .into_iter()
            .map(|r| IncomingPeerState {
                peer_id: r.peer_id,
                last_check_time: r.event_time,
                last_result: r.event_result,
                last_transfer_time: r.transfer_time,
                last_transfer_type: r.transfer_type,
                last_transfer_serial: r.transfer_serial,
            })
            .collect();
        tx.commit()?;
        Ok(Some(IncomingView {
            config,
            peers,
            last_transfer_peer,
        }))
    }

    fn secondary_timers(&self) -> Result<Vec<SecondaryTimers>, StoreError> {
        const T: &str = "incoming_transfers";
        let conn = self.read_conn();
        let mut stmt = conn.prepare_cached(
            "SELECT z.name, i.next_refresh_time, i.expires_time, i.axfr_requested
             FROM incoming_transfers i JOIN zones z ON z.id = i.zone_id
             WHERE z.type = 'secondary'",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (zone_name, next, expires, axfr) = row?;
            out.push(SecondaryTimers {
                next_refresh: opt_time_column(T, &zone_name, next)?,
                expires: opt_time_column(T, &zone_name, expires)?,
                axfr_requested: axfr.is_some(),
                zone_name,
            });
        }
        Ok(out)
    }
}
