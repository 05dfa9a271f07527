//! A zone's incoming (secondary) and outgoing (transfers out) configuration with its linked
//! peers, and the transfer requests recorded for the role that carries them out (force_axfr,
//! force_notify), so that a request survives a restart until it is done.

use super::model::{Direction, IncomingConfig, OutgoingConfig, MAX_LINKED_PEERS};
use super::objects::read_peer;
use crate::{format_time, now, opt_time_column, time_column, Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::HashSet;

const INCOMING_COLUMNS: &str = "zone_id, id, auto_refresh_seconds, state, checked_time, \
     expires_time, next_refresh_time, axfr_requested, created, modified";
const OUTGOING_COLUMNS: &str = "zone_id, id, enabled, checked_time, last_transferred_time, \
     notify_requested, created, modified";

fn no_config(direction: Direction, zone_id: &str) -> StoreError {
    StoreError::NotFound {
        what: match direction {
            Direction::Incoming => "incoming transfer configuration of zone",
            Direction::Outgoing => "outgoing transfer configuration of zone",
        },
        id: zone_id.to_string(),
    }
}

/// Refuses a peer list that is too long, repeats a peer, names a peer the account does not
/// have, or (incoming) a peer without the ip we would transfer from.
fn check_links(
    conn: &Connection,
    account_id: &str,
    direction: Direction,
    peers: &[String],
) -> Result<(), StoreError> {
    if peers.len() > MAX_LINKED_PEERS {
        return Err(StoreError::Rejected {
            field: "peers".into(),
            message: format!(
                "{} peers given; a zone links at most {MAX_LINKED_PEERS}",
                peers.len()
            ),
        });
    }
    let mut seen = HashSet::new();
    for (i, id) in peers.iter().enumerate() {
        let rejected = |message: String| StoreError::Rejected {
            field: format!("peers[{i}]"),
            message,
        };
        if !seen.insert(id) {
            return Err(rejected(format!("peer {id} is listed twice")));
        }
        let peer = read_peer(conn, account_id, id)?
            .ok_or_else(|| rejected(format!("no peer {id} in this account")))?;
        if direction == Direction::Incoming && peer.ip.is_none() {
            return Err(rejected(format!(
                "peer {:?} ({id}) has no ip; a secondary zone's primaries need one to be asked \
                 for transfers (set it with PUT .../secondary_dns/peers/{id})",
                peer.name
            )));
        }
    }
    Ok(())
}

/// Makes `peers` the linked peers of one direction of a zone, in order.
fn write_links(
    conn: &Connection,
    zone_id: &str,
    direction: Direction,
    peers: &[String],
) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM transfer_peers WHERE zone_id = ?1 AND direction = ?2",
        params![zone_id, direction.as_str()],
    )?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO transfer_peers (zone_id, direction, position, peer_id)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (i, peer) in peers.iter().enumerate() {
        stmt.execute(params![zone_id, direction.as_str(), i as i64, peer])?;
    }
    Ok(())
}

fn read_links(
    conn: &Connection,
    zone_id: &str,
    direction: Direction,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT peer_id FROM transfer_peers WHERE zone_id = ?1 AND direction = ?2
         ORDER BY position",
    )?;
    let rows = stmt.query_map(params![zone_id, direction.as_str()], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<String>, _>>()?)
}

type RawIncoming = (
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
);

fn raw_incoming(r: &Row<'_>) -> rusqlite::Result<RawIncoming> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

pub(super) fn read_incoming(
    conn: &Connection,
    zone_id: &str,
) -> Result<Option<IncomingConfig>, StoreError> {
    let raw = conn
        .query_row(
            &format!("SELECT {INCOMING_COLUMNS} FROM incoming_transfers WHERE zone_id = ?1"),
            [zone_id],
            raw_incoming,
        )
        .optional()?;
    let Some((zone_id, id, refresh, state, checked, expires, next, axfr, created, modified)) = raw
    else {
        return Ok(None);
    };
    const T: &str = "incoming_transfers";
    let auto_refresh_seconds = u32::try_from(refresh).map_err(|_| StoreError::Corrupt {
        table: T,
        id: id.clone(),
        detail: format!("bad auto_refresh_seconds {refresh}"),
    })?;
    Ok(Some(IncomingConfig {
        peers: read_links(conn, &zone_id, Direction::Incoming)?,
        auto_refresh_seconds,
        state,
        checked_time: opt_time_column(T, &id, checked)?,
        expires_time: opt_time_column(T, &id, expires)?,
        next_refresh_time: opt_time_column(T, &id, next)?,
        axfr_requested: opt_time_column(T, &id, axfr)?,
        created: time_column(T, &id, &created)?,
        modified: time_column(T, &id, &modified)?,
        zone_id,
        id,
    }))
}

type RawOutgoing = (
    String,
    String,
    bool,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
);

fn raw_outgoing(r: &Row<'_>) -> rusqlite::Result<RawOutgoing> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

pub(super) fn read_outgoing(
    conn: &Connection,
    zone_id: &str,
) -> Result<Option<OutgoingConfig>, StoreError> {
    let raw = conn
        .query_row(
            &format!("SELECT {OUTGOING_COLUMNS} FROM outgoing_transfers WHERE zone_id = ?1"),
            [zone_id],
            raw_outgoing,
        )
        .optional()?;
    let Some((zone_id, id, enabled, checked, transferred, notify, created, modified)) = raw else {
        return Ok(None);
    };
    const T: &str = "outgoing_transfers";
    Ok(Some(OutgoingConfig {
        peers: read_links(conn, &zone_id, Direction::Outgoing)?,
        enabled,
        checked_time: opt_time_column(T, &id, checked)?,
        last_transferred_time: opt_time_column(T, &id, transferred)?,
        notify_requested: opt_time_column(T, &id, notify)?,
        created: time_column(T, &id, &created)?,
        modified: time_column(T, &id, &modified)?,
        zone_id,
        id,
    }))
}

fn already_configured(direction: Direction, zone_name: &str) -> StoreError {
    StoreError::Conflict(format!(
        "zone {zone_name} already has an {} transfer configuration; change it with PUT or \
         delete it first",
        direction.as_str()
    ))
}

/// The zone's name, for messages.
fn zone_name(conn: &Connection, zone_id: &str) -> Result<String, StoreError> {
    conn.query_row("SELECT name FROM zones WHERE id = ?1", [zone_id], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(|| StoreError::NotFound {
        what: "zone",
        id: zone_id.to_string(),
    })
}

impl Store {
    fn delete_config<T>(
        &self,
        zone_id: &str,
        direction: Direction,
        read: impl Fn(&Connection) -> Result<Option<T>, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let cfg = read(&tx)?.ok_or_else(|| no_config(direction, zone_id))?;
        let table = match direction {
            Direction::Incoming => "incoming_transfers",
            Direction::Outgoing => "outgoing_transfers",
        };
        tx.execute(
            &format!("DELETE FROM {table} WHERE zone_id = ?1"),
            [zone_id],
        )?;
        write_links(&tx, zone_id, direction, &[])?;
        tx.commit()?;
        Ok(cfg)
    }
}

impl crate::storage::TransferConfigStore for Store {
    fn zone_links(&self, peer_id: &str) -> Result<Vec<super::ZoneLink>, StoreError> {
        super::links_of_peer(&self.read_conn(), peer_id)
    }

    fn incoming_config(&self, zone_id: &str) -> Result<Option<IncomingConfig>, StoreError> {
        read_incoming(&self.read_conn(), zone_id)
    }

    fn outgoing_config(&self, zone_id: &str) -> Result<Option<OutgoingConfig>, StoreError> {
        read_outgoing(&self.read_conn(), zone_id)
    }

    fn create_incoming_config(
        &self,
        account_id: &str,
        cfg: &IncomingConfig,
    ) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        if read_incoming(&tx, &cfg.zone_id)?.is_some() {
            return Err(already_configured(
                Direction::Incoming,
                &zone_name(&tx, &cfg.zone_id)?,
            ));
        }
        check_links(&tx, account_id, Direction::Incoming, &cfg.peers)?;
        tx.execute(
            &format!(
                "INSERT INTO incoming_transfers ({INCOMING_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            params![
                cfg.zone_id,
                cfg.id,
                cfg.auto_refresh_seconds,
                cfg.state,
                cfg.checked_time.map(format_time),
                cfg.expires_time.map(format_time),
                cfg.next_refresh_time.map(format_time),
                cfg.axfr_requested.map(format_time),
                format_time(cfg.created),
                format_time(cfg.modified)
            ],
        )?;
        write_links(&tx, &cfg.zone_id, Direction::Incoming, &cfg.peers)?;
        tx.commit()?;
        Ok(())
    }

    fn replace_incoming_config(
        &self,
        account_id: &str,
        zone_id: &str,
        peers: &[String],
        auto_refresh_seconds: u32,
    ) -> Result<IncomingConfig, StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        check_links(&tx, account_id, Direction::Incoming, peers)?;
        let n = tx.execute(
            "UPDATE incoming_transfers SET auto_refresh_seconds = ?2, modified = ?3
             WHERE zone_id = ?1",
            params![zone_id, auto_refresh_seconds, format_time(now())],
        )?;
        if n == 0 {
            return Err(no_config(Direction::Incoming, zone_id));
        }
        write_links(&tx, zone_id, Direction::Incoming, peers)?;
        let stored =
            read_incoming(&tx, zone_id)?.ok_or_else(|| no_config(Direction::Incoming, zone_id))?;
        tx.commit()?;
        Ok(stored)
    }

    fn delete_incoming_config(&self, zone_id: &str) -> Result<IncomingConfig, StoreError> {
        self.delete_config(zone_id, Direction::Incoming, |conn| {
            read_incoming(conn, zone_id)
        })
    }

    fn request_axfr(&self, zone_id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let n = self.write_conn().execute(
            "UPDATE incoming_transfers SET axfr_requested = ?2 WHERE zone_id = ?1",
            params![zone_id, format_time(at)],
        )?;
        if n == 0 {
            return Err(no_config(Direction::Incoming, zone_id));
        }
        Ok(())
    }

    fn create_outgoing_config(
        &self,
        account_id: &str,
        cfg: &OutgoingConfig,
    ) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        if read_outgoing(&tx, &cfg.zone_id)?.is_some() {
            return Err(already_configured(
                Direction::Outgoing,
                &zone_name(&tx, &cfg.zone_id)?,
            ));
        }
        check_links(&tx, account_id, Direction::Outgoing, &cfg.peers)?;
        tx.execute(
            &format!(
                "INSERT INTO outgoing_transfers ({OUTGOING_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ),
            params![
                cfg.zone_id,
                cfg.id,
                cfg.enabled,
                cfg.checked_time.map(format_time),
                cfg.last_transferred_time.map(format_time),
                cfg.notify_requested.map(format_time),
                format_time(cfg.created),
                format_time(cfg.modified)
            ],
        )?;
        write_links(&tx, &cfg.zone_id, Direction::Outgoing, &cfg.peers)?;
        tx.commit()?;
        Ok(())
    }

    fn replace_outgoing_config(
        &self,
        account_id: &str,
        zone_id: &str,
        peers: &[String],
    ) -> Result<OutgoingConfig, StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        check_links(&tx, account_id, Direction::Outgoing, peers)?;
        let n = tx.execute(
            "UPDATE outgoing_transfers SET modified = ?2 WHERE zone_id = ?1",
            params![zone_id, format_time(now())],
        )?;
        if n == 0 {
            return Err(no_config(Direction::Outgoing, zone_id));
        }
        write_links(&tx, zone_id, Direction::Outgoing, peers)?;
        let stored =
            read_outgoing(&tx, zone_id)?.ok_or_else(|| no_config(Direction::Outgoing, zone_id))?;
        tx.commit()?;
        Ok(stored)
    }

    fn delete_outgoing_config(&self, zone_id: &str) -> Result<OutgoingConfig, StoreError> {
        self.delete_config(zone_id, Direction::Outgoing, |conn| {
            read_outgoing(conn, zone_id)
        })
    }

    fn set_outgoing_enabled(&self, zone_id: &str, enabled: bool) -> Result<bool, StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let before = read_outgoing(&tx, zone_id)?
            .ok_or_else(|| no_config(Direction::Outgoing, zone_id))?
            .enabled;
        if before != enabled {
            tx.execute(
                "UPDATE outgoing_transfers SET enabled = ?2, modified = ?3 WHERE zone_id = ?1",
                params![zone_id, enabled, format_time(now())],
            )?;
        }
        if !enabled {
            // PRODUCT.md §1: disabling clears the IXFR backlog, so the next IXFR after
            // re-enabling gets an AXFR-style answer. A zone stored as a snapshot first gets
            // one at its serial, since the journal is also its redo log.
            crate::snapshot::compact(&tx, zone_id)?;
            crate::journal::clear(&tx, zone_id)?;
        }
        tx.commit()?;
        Ok(before)
    }

    fn request_notify(&self, zone_id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let n = self.write_conn().execute(
            "UPDATE outgoing_transfers SET notify_requested = ?2 WHERE zone_id = ?1",
            params![zone_id, format_time(at)],
        )?;
        if n == 0 {
            return Err(no_config(Direction::Outgoing, zone_id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::{Peer, ZoneKind, ZoneRow};

    fn peer(store: &Store, account_id: &str, ip: Option<&str>) -> String {
        let now = now();
        let p = Peer {
            id: crate::new_id(),
            account_id: account_id.to_string(),
            name: "p".into(),
            ip: ip.map(|i| i.parse().unwrap()),
            port: 53,
            ixfr_enable: false,
            tsig_id: None,
            created: now,
            modified: now,
        };
        store.create_peer(&p).unwrap();
        p.id
    }

    fn zone(store: &Store, account_id: &str, name: &str) -> String {
        let now = now();
        let z = ZoneRow {
            id: crate::new_id(),
            account_id: account_id.to_string(),
            name: name.into(),
            kind: ZoneKind::Secondary,
            status: "pending".into(),
            serial: 0,
            created: now,
            modified: now,
        };
        store.create_zone(&z, &[]).unwrap();
        z.id
    }

    fn incoming(zone_id: &str, peers: Vec<String>) -> IncomingConfig {
        let now = now();
        IncomingConfig {
            id: crate::new_id(),
            zone_id: zone_id.into(),
            peers,
            auto_refresh_seconds: 300,
            state: "pending".into(),
            checked_time: None,
            expires_time: None,
            next_refresh_time: None,
            axfr_requested: None,
            created: now,
            modified: now,
        }
    }

    #[test]
    fn links_are_checked_ordered_persisted_and_cascaded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let account = store.default_account().unwrap().id;
        let other = store.create_account("other").unwrap().id;
        let (a, b) = (
            peer(&store, &account, Some("192.0.2.1")),
            peer(&store, &account, Some("192.0.2.2")),
        );
        let foreign = peer(&store, &other, Some("192.0.2.3"));
        let no_ip = peer(&store, &account, None);
        let z = zone(&store, &account, "sec.test");

        for (peers, field) in [
            (vec![a.clone(), foreign], "peers[1]"),
            (vec![no_ip.clone()], "peers[0]"),
            (vec![a.clone(), a.clone()], "peers[1]"),
        ] {
            match store.create_incoming_config(&account, &incoming(&z, peers)) {
                Err(StoreError::Rejected { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{other:?}"),
            }
        }
        assert!(
            store.incoming_config(&z).unwrap().is_none(),
            "nothing written"
        );
        let cfg = incoming(&z, vec![b.clone(), a.clone()]);
        store.create_incoming_config(&account, &cfg).unwrap();
        assert!(matches!(
            store.create_incoming_config(&account, &cfg),
            Err(StoreError::Conflict(_))
        ));
        drop(store);

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.incoming_config(&z).unwrap().unwrap(), cfg);
        assert!(matches!(
            store.delete_peer(&account, &a),
            Err(StoreError::Conflict(m)) if m.contains("sec.test (incoming)")
        ));
        store.delete_zone(&z).unwrap();
        assert!(store.zone_links(&a).unwrap().is_empty());
        store.delete_peer(&account, &a).unwrap();
    }

    #[test]
    fn enabling_reports_the_previous_state() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let account = store.default_account().unwrap().id;
        let z = zone(&store, &account, "z.test");
        assert!(matches!(
            store.set_outgoing_enabled(&z, true),
            Err(StoreError::NotFound { .. })
        ));
        let now = now();
        store
            .create_outgoing_config(
                &account,
                &OutgoingConfig {
                    id: crate::new_id(),
                    zone_id: z.clone(),
                    peers: vec![peer(&store, &account, None)],
                    enabled: false,
                    checked_time: None,
                    last_transferred_time: None,
                    notify_requested: None,
                    created: now,
                    modified: now,
                },
            )
            .unwrap();
        assert!(!store.set_outgoing_enabled(&z, true).unwrap());
        assert!(store.set_outgoing_enabled(&z, true).unwrap());
        assert!(store.set_outgoing_enabled(&z, false).unwrap());
        store.request_notify(&z, now).unwrap();
        assert_eq!(
            store.outgoing_config(&z).unwrap().unwrap().notify_requested,
            Some(now)
        );
    }

    /// A store with the secondary zone `sec.test` whose incoming configuration links one
    /// primary: (its dir, the store, the primary's id, the zone's id).
    fn secondary_with_a_primary() -> (tempfile::TempDir, Store, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let account = store.default_account().unwrap().id;
        let a = peer(&store, &account, Some("192.0.2.1"));
        let z = zone(&store, &account, "sec.test");
        store
            .create_incoming_config(&account, &incoming(&z, vec![a.clone()]))
            .unwrap();
        (dir, store, a, z)
    }

    /// Hardening row 11: a force_axfr acknowledged while a forced transfer ran survives that
    /// transfer's outcome (and so a kill -9 right after it); one made before it is cleared.
    #[test]
    fn a_force_axfr_recorded_during_a_forced_run_is_kept() {
        use crate::RefreshRecord;
        let (dir, store, _, z) = secondary_with_a_primary();
        let t0 = now();
        let run_started = t0 + chrono::Duration::seconds(1);
        let outcome = |forced_done| RefreshRecord {
            zone_id: z.clone(),
            at: run_started + chrono::Duration::seconds(5),
            state: "ok",
            succeeded: true,
            checks: vec![],
            next_refresh: run_started + chrono::Duration::seconds(3600),
            expires: None,
            forced_done,
        };
        let requested = |store: &Store| {
            store
                .incoming_config(&z)
                .unwrap()
                .unwrap()
                .axfr_requested
                .is_some()
        };
        // Asked for before the run began: carried out by it.
        store.request_axfr(&z, t0).unwrap();
        store.record_refresh(&outcome(Some(run_started))).unwrap();
        assert!(!requested(&store));
        // Asked for while it ran: kept for the next run, across a reopen.
        store
            .request_axfr(&z, run_started + chrono::Duration::seconds(2))
            .unwrap();
        store.record_refresh(&outcome(Some(run_started))).unwrap();
        // An unforced run clears nothing.
        store.record_refresh(&outcome(None)).unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert!(requested(&store));
    }

    /// The API's incoming status pairs each peer's `last_result` with the `state` of the
    /// same refresh: `incoming_view` reads both in one transaction while refreshes are
    /// recorded beside it (read one after the other, a new error could come with the old
    /// `ok` state, seen as a test waiting for the error and then finding `ok`).
    #[test]
    fn the_incoming_view_never_mixes_two_refreshes() {
        use crate::{PeerCheck, RefreshRecord};
        let (_dir, store, a, z) = secondary_with_a_primary();
        let done = std::sync::atomic::AtomicBool::new(false);
        let mut views = 0;
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for i in 0..400 {
                    let (state, result) = if i % 2 == 0 {
                        ("ok", "ok")
                    } else {
                        ("retrying", "AXFR: records after the final SOA")
                    };
                    let record = RefreshRecord {
                        zone_id: z.clone(),
                        at: now(),
                        state,
                        succeeded: state == "ok",
                        checks: vec![PeerCheck {
                            peer_id: a.clone(),
                            result: result.to_string(),
                        }],
                        next_refresh: now(),
                        expires: None,
                        forced_done: None,
                    };
                    store.record_refresh(&record).unwrap();
                }
                done.store(true, std::sync::atomic::Ordering::Release);
            });
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                let view = store.incoming_view(&z).unwrap().unwrap();
                let result = view.peers.first().and_then(|p| p.last_result.clone());
                match (view.config.state.as_str(), result.as_deref()) {
                    ("pending", None) | ("ok", Some("ok")) => {}
                    ("retrying", Some(r)) if r.starts_with("AXFR:") => {}
                    other => panic!("a view mixes two refreshes: {other:?}"),
                }
                views += 1;
            }
        });
        assert!(
            views > 0,
            "the view was never read while refreshes were recorded"
        );
    }
}
