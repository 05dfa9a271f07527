//! The control-plane side of outgoing transfers: access decisions and NOTIFY targets from the
//! in-memory snapshot of `access` (PRODUCT.md §1), the IXFR journal from the store; and the
//! API events that republish the snapshot and plan NOTIFYs.

use crate::access::{self, AccessSnapshot, ZoneAccess};
use crate::status::Status;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tandem_api::TransferEvents;
use tandem_server::answer::ZoneKeys;
use tandem_server::events::notify_out::NotifyTargets;
use tandem_server::events::{Scheduler, ZoneEvent};
use tandem_server::refusal::Refusal;
use tandem_server::xfr_out::TransferControl;
use tandem_store::Storage;
use tandem_xfr::tsig::{KeyRing, TsigKey};
use tandem_zone::{Name, ZoneDiff};

/// A store failure as the transfer roles report it.
pub(crate) fn store_error(e: tandem_store::StoreError) -> String {
    format!("store error: {e}")
}

pub struct StoreTransferControl {
    pub store: Arc<dyn Storage>,
    /// How much IXFR history a zone keeps, for the differences transfers in bring.
    pub journal: tandem_store::JournalLimits,
    /// What access decisions read: never the store, from a UDP or TCP worker.
    pub(crate) access: AccessSnapshot,
    /// Where peers may be sent to (`--peer-allow`).
    pub peer_allow: tandem_store::PeerAllow,
    /// Where transfer and NOTIFY status goes: never written from a worker or task directly.
    pub(crate) status: crate::status::StatusSender,
}

impl StoreTransferControl {
    pub(crate) fn zone_id(&self, apex: &Name) -> Result<(String, String), String> {
        match self.store.zone_by_name(&apex.to_api()) {
            Ok(Some(z)) => Ok((z.id, z.account_id)),
            Ok(None) => Err("zone not in the store".into()),
            Err(e) => Err(store_error(e)),
        }
    }

    /// Reads the transfer configuration of every zone again and publishes it to the access
    /// decisions; called at start and after every API change to it.
    pub(crate) fn publish_access(&self) {
        if let Err(e) = crate::access::rebuild(&self.access, self.store.as_ref()) {
            tracing::error!(error = %e, "cannot read the transfer configuration; access decisions keep the previous one");
        }
    }

    /// The zone's snapshot, after checking that outgoing transfers are enabled.
    fn outgoing_access(&self, apex: &Name) -> Result<Arc<ZoneAccess>, Refusal> {
        let zone = self.access.zone(apex).ok_or(Refusal::UnknownZone)?;
        match zone.outgoing {
            None => Err(Refusal::OutgoingNotConfigured),
            Some(false) => Err(Refusal::OutgoingDisabled),
            Some(true) => Ok(zone),
        }
    }

    /// Keys of every peer linked to the zone, outgoing and incoming.
    fn zone_keys(&self, apex: &Name) -> Arc<KeyRing> {
        self.access
            .zone(apex)
            .map(|z| z.keys.clone())
            .unwrap_or_default()
    }
}

impl ZoneKeys for StoreTransferControl {
    fn keys(&self, apex: &Name) -> Option<Arc<KeyRing>> {
        Some(self.zone_keys(apex))
    }
}

impl TransferControl for StoreTransferControl {
    fn keys(&self, apex: &Name) -> Arc<KeyRing> {
        self.zone_keys(apex)
    }

    fn authorize_signed(&self, apex: &Name, source: IpAddr, key: &Name) -> Result<(), Refusal> {
        let zone = self.outgoing_access(apex)?;
        access::access(&zone.outgoing_peers, &zone.acls, source, Some(key))
    }

    fn authorize(&self, apex: &Name, source: IpAddr) -> Result<(), Refusal> {
        let zone = self.outgoing_access(apex)?;
        access::access(&zone.outgoing_peers, &zone.acls, source, None)
    }

    fn journal(&self, apex: &Name, from: u32, to: u32) -> Option<Vec<ZoneDiff>> {
        let (zone_id, _) = self.zone_id(apex).ok()?;
        match self.store.journal_since(&zone_id, from, to) {
            Ok(j) => j,
            Err(e) => {
                tracing::error!(zone = %apex, error = %e, "cannot read the IXFR journal");
                None
            }
        }
    }

    fn transferred(&self, apex: &Name, source: IpAddr, kind: &'static str, serial: u32, ok: bool) {
        crate::metrics::count_transfer_out(&apex.to_api(), kind, ok);
        if !ok {
            return;
        }
        // Runs on UDP workers and TCP tasks: the snapshot says where it went, the status
        // writer records it.
        let Some(zone) = self.access.zone(apex).filter(|z| z.outgoing.is_some()) else {
            return;
        };
        // The status is kept per linked peer; a requester from an ACL range has none.
        let peer = zone
            .outgoing_peers
            .iter()
            .find(|p| p.ip == Some(source))
            .map(|p| p.id.clone());
        self.status.send(Status::TransferOut {
            zone_id: zone.zone_id.clone(),
            peer,
            at: tandem_store::now(),
            kind,
            serial,
        });
    }
}

impl StoreTransferControl {
    /// The apex of a stored zone, by id.
    fn apex_of(&self, zone_id: &str) -> Option<Name> {
        let zone = self.store.zone(zone_id).ok().flatten()?;
        Name::parse(&zone.name).ok()
    }
}

impl NotifyTargets for StoreTransferControl {
    /// From the published snapshot, as the access decisions: the NOTIFY task reads no store.
    fn notify_targets(&self, apex: &Name) -> Vec<(String, SocketAddr, Option<TsigKey>)> {
        let Some(zone) = self.access.zone(apex).filter(|z| z.outgoing == Some(true)) else {
            return Vec::new();
        };
        zone.outgoing_peers
            .iter()
            .filter_map(|p| {
                let ip = p.ip?;
                if !self.peer_allow.permits(ip) {
                    tracing::warn!(zone = %apex, peer = %p.id, %ip, allowed = %self.peer_allow, "NOTIFY not sent: the peer's address is outside --peer-allow");
                    // Its status says why it hears nothing.
                    self.status.send(Status::Notify {
                        zone_id: zone.zone_id.clone(),
                        peer: p.id.clone(),
                        at: tandem_store::now(),
                        result: format!("{ip} is outside --peer-allow; no NOTIFY is sent to it"),
                    });
                    return None;
                }
                Some((p.id.to_string(), SocketAddr::new(ip, p.port), p.key.clone()))
            })
            .collect()
    }

    fn notified(&self, apex: &Name, peer_id: &str, _serial: u32, result: Result<(), String>) {
        crate::metrics::count_notify_sent(&apex.to_api(), result.is_ok());
        let Some(zone) = self.access.zone(apex) else {
            return;
        };
        self.status.send(Status::Notify {
            zone_id: zone.zone_id.clone(),
            peer: peer_id.into(),
            at: tandem_store::now(),
            result: match result {
                Ok(()) => "ok".to_string(),
                Err(e) => e,
            },
        });
    }
}

/// Turns API events into scheduled zone events.
pub struct TransferTriggers {
    pub control: Arc<StoreTransferControl>,
    pub scheduler: Scheduler,
}

impl TransferTriggers {
    pub fn new(control: Arc<StoreTransferControl>, scheduler: Scheduler) -> Self {
        TransferTriggers { control, scheduler }
    }

    fn notify(&self, zone_id: &str, delay: Duration) {
        if let Some(apex) = self.control.apex_of(zone_id) {
            self.scheduler.schedule(&apex, ZoneEvent::Notify, delay);
        }
    }
}

impl TransferEvents for TransferTriggers {
    fn outgoing_enabled(&self, zone_id: &str) {
        self.control.publish_access();
        self.notify(zone_id, Duration::ZERO);
    }
    fn outgoing_disabled(&self, _zone_id: &str) {
        self.control.publish_access();
    }
    fn notify_requested(&self, zone_id: &str) {
        self.notify(zone_id, Duration::ZERO);
    }
    fn axfr_requested(&self, zone_id: &str) {
        if let Some(apex) = self.control.apex_of(zone_id) {
            self.scheduler
                .schedule(&apex, ZoneEvent::Transfer, Duration::ZERO);
        }
    }
    /// A new or changed incoming configuration is checked at once (the first AXFR of a new
    /// secondary zone); a deleted one finds nothing and ends the zone's refreshes.
    fn zone_config_changed(&self, zone_id: &str) {
        self.control.publish_access();
        if let Some(apex) = self.control.apex_of(zone_id) {
            self.scheduler
                .schedule(&apex, ZoneEvent::Refresh, Duration::ZERO);
        }
    }
    fn account_config_changed(&self, _account_id: &str) {
        self.control.publish_access();
    }
}
