//! What the primary role last did with each linked secondary (PRODUCT §3 status extensions):
//! the outcome of its last NOTIFY and its last transfer, kept across restarts.

use super::model::OutgoingConfig;
use super::zone_config::read_outgoing;
use crate::{format_time, opt_time_column, Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::params;

/// One secondary's row of outgoing status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutgoingPeerState {
    pub peer_id: String,
    pub last_notify_time: Option<DateTime<Utc>>,
    /// `ok`, or why the NOTIFY was not acknowledged.
    pub last_notify_result: Option<String>,
    pub last_transfer_time: Option<DateTime<Utc>>,
    pub last_transfer_type: Option<String>,
    pub last_transfer_serial: Option<u32>,
}

impl crate::storage::OutgoingStatusStore for Store {
    fn record_notify(
        &self,
        zone_id: &str,
        peer_id: &str,
        at: DateTime<Utc>,
        result: &str,
    ) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        if result == "ok" {
            tx.execute(
                "UPDATE outgoing_transfers SET checked_time = ?2 WHERE zone_id = ?1",
                params![zone_id, format_time(at)],
            )?;
        }
        tx.execute(
            "INSERT INTO outgoing_peer_status (zone_id, peer_id, last_notify_time, last_notify_result)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (zone_id, peer_id) DO UPDATE
             SET last_notify_time = excluded.last_notify_time,
                 last_notify_result = excluded.last_notify_result",
            params![zone_id, peer_id, format_time(at), result],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn record_transfer_out(
        &self,
        zone_id: &str,
        peer_id: Option<&str>,
        at: DateTime<Utc>,
        kind: &str,
        serial: u32,
    ) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        if let Some(peer) = peer_id {
            tx.execute(
                "INSERT INTO outgoing_peer_status
                   (zone_id, peer_id, last_transfer_time, last_transfer_type, last_transfer_serial)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (zone_id, peer_id) DO UPDATE
                 SET last_transfer_time = excluded.last_transfer_time,
                     last_transfer_type = excluded.last_transfer_type,
                     last_transfer_serial = excluded.last_transfer_serial",
                params![zone_id, peer, format_time(at), kind, serial as i64],
            )?;
        }
        tx.execute(
            "UPDATE outgoing_transfers SET last_transferred_time = ?2, checked_time = ?2
             WHERE zone_id = ?1",
            params![zone_id, format_time(at)],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn outgoing_view(
        &self,
        zone_id: &str,
    ) -> Result<Option<(OutgoingConfig, Vec<OutgoingPeerState>)>, StoreError> {
        let mut conn = self.read_conn();
        // Under WAL, a read transaction sees one snapshot from its first read to its end.
        let tx = conn.transaction()?;
        let Some(config) = read_outgoing(&tx, zone_id)? else {
            return Ok(None);
        };
        let rows = peer_status_rows(
            &tx,
            "outgoing_peer_status",
            "last_notify_time, last_notify_result",
            zone_id,
        )?;
        tx.commit()?;
        let rows = rows
            .into_iter()
            .map(|r| OutgoingPeerState {
                peer_id: r.peer_id,
                last_notify_time: r.event_time,
                last_notify_result: r.event_result,
                last_transfer_time: r.transfer_time,
                last_transfer_type: r.transfer_type,
                last_transfer_serial: r.transfer_serial,
            })
            .collect();
        Ok(Some((config, rows)))
    }
}

/// One row of a per-peer status table. Both directions keep the same shape: the time and
/// outcome of the last exchange (NOTIFY sent, or SOA check) and the last transfer.
pub(crate) struct PeerStatusRow {
    pub peer_id: String,
    pub event_time: Option<DateTime<Utc>>,
    pub event_result: Option<String>,
    pub transfer_time: Option<DateTime<Utc>>,
    pub transfer_type: Option<String>,
    pub transfer_serial: Option<u32>,
}

/// The rows of `table` for a zone, by peer id; `event_columns` names its time and result
/// columns of the last exchange.
pub(crate) fn peer_status_rows(
    conn: &rusqlite::Connection,
    table: &'static str,
    event_columns: &str,
    zone_id: &str,
) -> Result<Vec<PeerStatusRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT peer_id, {event_columns}, last_transfer_time, last_transfer_type,
                last_transfer_serial
         FROM {table} WHERE zone_id = ?1 ORDER BY peer_id"
    ))?;
    let rows = stmt.query_map([zone_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<i64>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (peer_id, et, er, tt, ty, ts) = row?;
        out.push(PeerStatusRow {
            event_time: opt_time_column(table, &peer_id, et)?,
            event_result: er,
            transfer_time: opt_time_column(table, &peer_id, tt)?,
            transfer_type: ty,
            transfer_serial: ts.map(|s| s as u32),
            peer_id,
        });
    }
    Ok(out)
}
