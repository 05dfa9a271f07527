//! The control-plane side of the secondary role: a zone's primaries with their keys and the
//! NOTIFY access rule, from the in-memory snapshot of `access`; applied transfers written
//! through the store, refresh outcomes and expiry handed to the status writer, and the
//! persisted timers a restart resumes.

use crate::metrics;
use crate::status::Status;
use crate::transfer::{store_error, StoreTransferControl};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};
use tandem_server::events::refresh::{Commit, Incoming, Outcome, Resume, SecondaryControl};
use tandem_server::refusal::Refusal;
use tandem_server::xfr_in::Primary;
use tandem_store::{JournalWrite, PeerCheck, RefreshRecord, TransferContents, TransferWrite};
use tandem_xfr::incoming::Kind;
use tandem_zone::Name;

fn to_utc(t: SystemTime) -> chrono::DateTime<chrono::Utc> {
    t.into()
}

impl SecondaryControl for StoreTransferControl {
    /// From the published snapshot, as the access decisions: a refresh reads no store to
    /// learn whom to ask.
    fn incoming(&self, apex: &Name) -> Result<Incoming, String> {
        let zone = self.access.zone(apex).ok_or("zone not in the store")?;
        if !zone.secondary {
            return Err(format!("{apex} is not a secondary zone"));
        }
        if !zone.incoming {
            return Err("incoming transfers are not configured for this zone".into());
        }
        let primaries = zone
            .incoming_peers
            .iter()
            .filter_map(|p| {
                let ip = p.ip?;
                let addr = SocketAddr::new(ip, p.port);
                let blocked = (!self.peer_allow.permits(ip)).then(|| {
                    tracing::warn!(zone = %apex, peer = %p.id, %addr, allowed = %self.peer_allow, "primary skipped: its address is outside --peer-allow");
                    format!("{ip} is outside --peer-allow; nothing is sent to it")
                });
                Some(Primary {
                    blocked,
                    key: p.key.clone(),
                    peer_id: p.id.to_string(),
                    name: p.name.to_string(),
                    addr,
                    ixfr: p.ixfr,
                })
            })
            .collect();
        Ok(Incoming {
            primaries,
            refresh: Duration::from_secs(u64::from(zone.refresh_seconds)),
        })
    }

    fn commit(&self, apex: &Name, c: &Commit<'_>) -> Result<(), String> {
        let (zone_id, _) = self.zone_id(apex)?;
        let journal = c
            .journal
            .iter()
            .filter(|d| !d.is_empty())
            .filter_map(|d| {
                Some(JournalWrite {
                    from_serial: d.from_serial()?,
                    to_serial: d.to_serial()?,
                    diff: std::borrow::Cow::Borrowed(d),
                    zone_records: c.version.record_count(),
                    limits: self.journal,
                })
            })
            .collect();
        let contents = match c.kind {
            Kind::Axfr => TransferContents::Full,
            Kind::Ixfr => TransferContents::Diffs,
        };
        self.store
            .apply_transfer(&TransferWrite {
                zone_id: &zone_id,
                peer_id: c.peer_id,
                kind: c.kind.as_str(),
                serial: c.serial,
                contents,
                version: c.version,
                journal,
                at: tandem_store::now(),
            })
            .map_err(store_error)
    }

    fn record(&self, apex: &Name, o: &Outcome) {
        let zone = apex.to_api();
        for a in &o.attempts {
            match a.transfer {
                None => metrics::count_soa_check(&zone, a.result.is_ok()),
                Some(kind) => metrics::count_transfer_in(&zone, kind.as_str(), a.result.is_ok()),
            }
            let applied = a.transfer.and(a.result.as_ref().ok().copied());
            metrics::set_incoming_peer(&zone, &a.peer_id, a.result.is_ok(), applied);
        }
        // The zone's id from the published snapshot: this runs on the refresh's task.
        let Some(access) = self.access.zone(apex) else {
            return;
        };
        let checks = o
            .attempts
            .iter()
            .map(|a| {
                let text = match (&a.result, a.transfer) {
                    (Ok(_), _) => "ok".to_string(),
                    (Err(e), None) => format!("SOA query: {e}"),
                    (Err(e), Some(k)) => format!("{}: {e}", k.as_str()),
                };
                PeerCheck {
                    peer_id: a.peer_id.clone(),
                    result: text,
                }
            })
            .collect();
        self.status.send(Status::Refresh(Box::new(RefreshRecord {
            zone_id: access.zone_id.to_string(),
            at: tandem_store::now(),
            state: o.state,
            succeeded: o.succeeded,
            checks,
            next_refresh: to_utc(o.next_refresh),
            expires: o.expires.map(to_utc),
            forced_done: o.forced_done.map(to_utc),
        })));
    }

    fn expired(&self, apex: &Name) {
        if let Some(access) = self.access.zone(apex) {
            self.status.send(Status::Expired {
                zone_id: access.zone_id.clone(),
            });
        }
    }

    fn authorize_notify(
        &self,
        apex: &Name,
        source: IpAddr,
        key: Option<&Name>,
    ) -> Result<(), Refusal> {
        // From the snapshot, into lock-free counters: a NOTIFY flood from anywhere never
        // reaches the store, takes no lock and allocates nothing.
        let result = match self.access.zone(apex) {
            None => Err(Refusal::UnknownZone),
            Some(z) if !z.incoming => Err(Refusal::IncomingNotConfigured),
            Some(z) => crate::access::access(&z.incoming_peers, &z.acls, source, key),
        };
        metrics::count_notify_received(apex, result.is_ok());
        result
    }

    fn resume(&self) -> Vec<Resume> {
        let timers = match self.store.secondary_timers() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the secondary zones' timers");
                return Vec::new();
            }
        };
        timers
            .into_iter()
            .filter_map(|t| {
                Some(Resume {
                    apex: Name::parse(&t.zone_name).ok()?,
                    next_refresh: t.next_refresh.map(SystemTime::from),
                    expires: t.expires.map(SystemTime::from),
                    axfr_requested: t.axfr_requested,
                })
            })
            .collect()
    }
}
