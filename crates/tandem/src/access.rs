//! The in-memory snapshot of every zone's transfer configuration that access decisions read
//! (transfer requests, NOTIFYs, signed queries), so that refused traffic costs what a query
//! costs and never waits on the store from a UDP or TCP worker. The API republishes it after
//! every change to peers, keys, ACLs or a zone's incoming or outgoing configuration; it is
//! rebuilt whole, under a lock, from the committed store, so the newest publication is always
//! the newest state.

use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tandem_server::refusal::Refusal;
use tandem_store::{IpRange, Peer, Store, StoreError};
use tandem_xfr::tsig::{KeyRing, TsigKey};
use tandem_zone::Name;

/// A linked peer as the access rule, outgoing NOTIFY and incoming transfers see it. Names are
/// shared so that a refusal can name the peer without allocating.
#[derive(Clone, Debug)]
pub(crate) struct PeerAccess {
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub ip: Option<IpAddr>,
    pub port: u16,
    /// IXFR may be asked of it (`ixfr_enable`).
    pub ixfr: bool,
    /// The peer has a TSIG key configured (usable or not: an unusable key still means its
    /// unsigned requests are refused).
    pub keyed: bool,
    /// Its usable key, to verify its requests and sign ours.
    pub key: Option<TsigKey>,
}

/// An ACL range of the zone's account as the access rule sees it.
#[derive(Clone, Debug)]
pub(crate) struct AclAccess {
    pub name: Arc<str>,
    pub ip_range: IpRange,
}

/// One zone's transfer configuration, frozen.
#[derive(Debug, Default)]
pub(crate) struct ZoneAccess {
    /// The zone's id in the store, for the status its transfers and NOTIFYs leave there.
    pub zone_id: Arc<str>,
    /// A secondary zone (its records come from its primaries).
    pub secondary: bool,
    /// `Some(enabled)` when outgoing transfers are configured.
    pub outgoing: Option<bool>,
    pub outgoing_peers: Vec<PeerAccess>,
    /// Configured incoming transfers (a secondary zone).
    pub incoming: bool,
    pub incoming_peers: Vec<PeerAccess>,
    /// The incoming configuration's `auto_refresh_seconds`.
    pub refresh_seconds: u32,
    pub acls: Arc<[AclAccess]>,
    /// Keys of every peer linked to the zone, in either direction.
    pub keys: Arc<KeyRing>,
}

/// Every zone's [`ZoneAccess`], by apex, swapped whole.
#[derive(Default)]
pub(crate) struct AccessSnapshot {
    zones: ArcSwap<HashMap<Name, Arc<ZoneAccess>>>,
    rebuild: Mutex<()>,
}

impl AccessSnapshot {
    /// The zone's configuration, or `None` for a zone the store does not hold.
    pub(crate) fn zone(&self, apex: &Name) -> Option<Arc<ZoneAccess>> {
        self.zones.load().get(apex).cloned()
    }

    /// Reads every zone's configuration from the store and publishes it. On a store error
    /// the previous snapshot stays and the error is returned.
    pub(crate) fn rebuild(&self, store: &Store) -> Result<(), StoreError> {
        let _one_at_a_time = self.rebuild.lock().unwrap_or_else(|e| e.into_inner());
        let mut acls: HashMap<String, Arc<[AclAccess]>> = HashMap::new();
        let mut out = HashMap::new();
        for zone in store.zones()? {
            let Ok(apex) = Name::parse(&zone.name) else {
                continue;
            };
            let account_acls = match acls.get(&zone.account_id) {
                Some(a) => a.clone(),
                None => {
                    let a: Arc<[AclAccess]> = store
                        .acls(&zone.account_id)?
                        .into_iter()
                        .map(|a| AclAccess {
                            name: a.name.into(),
                            ip_range: a.ip_range,
                        })
                        .collect();
                    acls.insert(zone.account_id.clone(), a.clone());
                    a
                }
            };
            let outgoing = store.outgoing_config(&zone.id)?;
            let incoming = store.incoming_config(&zone.id)?;
            let mut ring = KeyRing::new();
            let mut side = |ids: &[String]| -> Result<Vec<PeerAccess>, StoreError> {
                let mut peers = Vec::with_capacity(ids.len());
                for id in ids {
                    let Some(peer) = store.peer(&zone.account_id, id)? else {
                        continue;
                    };
                    let key = peer_key(store, &peer)?;
                    if let Some(k) = &key {
                        ring.insert(k.clone());
                    }
                    peers.push(PeerAccess {
                        id: peer.id.into(),
                        name: peer.name.into(),
                        ip: peer.ip,
                        port: peer.port,
                        ixfr: peer.ixfr_enable,
                        keyed: peer.tsig_id.is_some(),
                        key,
                    });
                }
                Ok(peers)
            };
            let outgoing_peers = side(outgoing.as_ref().map_or(&[][..], |c| &c.peers))?;
            let incoming_peers = side(incoming.as_ref().map_or(&[][..], |c| &c.peers))?;
            out.insert(
                apex,
                Arc::new(ZoneAccess {
                    zone_id: zone.id.as_str().into(),
                    secondary: zone.kind == tandem_store::ZoneKind::Secondary,
                    outgoing: outgoing.map(|c| c.enabled),
                    outgoing_peers,
                    incoming: incoming.is_some(),
                    incoming_peers,
                    refresh_seconds: incoming.map_or(0, |c| c.auto_refresh_seconds),
                    acls: account_acls,
                    keys: Arc::new(ring),
                }),
            );
        }
        self.zones.store(Arc::new(out));
        Ok(())
    }
}

/// The TSIG key of a peer, ready to sign and verify with; `None` without one, or when the
/// stored key cannot be used (logged).
pub(crate) fn peer_key(store: &Store, peer: &Peer) -> Result<Option<TsigKey>, StoreError> {
    let Some(id) = peer.tsig_id.as_deref() else {
        return Ok(None);
    };
    let Some(key) = store.tsig_key(&peer.account_id, id)? else {
        return Ok(None);
    };
    match TsigKey::new(&key.name, key.algorithm.as_str(), &key.secret) {
        Ok(k) => Ok(Some(k)),
        Err(e) => {
            tracing::error!(key = %key.name, error = %e, "stored TSIG key unusable");
            Ok(None)
        }
    }
}

/// The access rule of PRODUCT.md §1, for transfer requests to a zone (its outgoing peers)
/// and NOTIFYs to a secondary zone (its incoming peers), given the linked peers:
/// (a) signed with a valid key that belongs to a linked peer, from that peer's ip or from
/// inside one of the account's ACL ranges; (b) unsigned, from the ip of a linked peer
/// without a key, or from inside an ACL range while no linked peer has a key. Allocates
/// nothing, refusing or not.
pub(crate) fn access(
    peers: &[PeerAccess],
    acls: &[AclAccess],
    source: IpAddr,
    key: Option<&Name>,
) -> Result<(), Refusal> {
    if let Some(key) = key {
        let mut owners = peers
            .iter()
            .filter(|p| p.key.as_ref().map(TsigKey::name) == Some(key))
            .peekable();
        if owners.peek().is_none() {
            return Err(Refusal::KeyNotLinked);
        }
        if owners.any(|p| p.ip == Some(source)) || acls.iter().any(|a| a.ip_range.contains(source))
        {
            return Ok(());
        }
        return Err(Refusal::KeyFromElsewhere);
    }
    // Every linked peer is looked at: one peer with a key and another without may share
    // an address, and the keyless one's unsigned requests are still to be served.
    if peers.iter().any(|p| !p.keyed && p.ip == Some(source)) {
        return Ok(());
    }
    if let Some(keyed) = peers.iter().find(|p| p.ip == Some(source)) {
        return Err(Refusal::PeerMustSign {
            peer: keyed.name.clone(),
        });
    }
    if let Some(acl) = acls.iter().find(|a| a.ip_range.contains(source)) {
        if peers.iter().any(|p| p.keyed) {
            return Err(Refusal::AclMustSign {
                acl: acl.name.clone(),
            });
        }
        return Ok(());
    }
    Err(Refusal::Stranger)
}

#[cfg(test)]
mod tests;
