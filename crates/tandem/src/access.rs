//! The transfer configuration the access decisions read ([`tandem_server::access`]), built
//! from the committed store: the API republishes it after every change to peers, keys, ACLs
//! or a zone's incoming or outgoing configuration, rebuilt whole.

use std::collections::HashMap;
use std::sync::Arc;
pub(crate) use tandem_server::access::{access, AccessSnapshot, AclAccess, PeerAccess, ZoneAccess};
use tandem_store::{Peer, Storage, StoreError};
use tandem_xfr::tsig::{KeyRing, TsigKey};
use tandem_zone::Name;

/// Reads every zone's transfer configuration from the store and publishes it to `snapshot`.
/// On a store error the previous snapshot stays and the error is returned.
pub(crate) fn rebuild(snapshot: &AccessSnapshot, store: &dyn Storage) -> Result<(), StoreError> {
    snapshot.rebuild(|| read(store))
}

/// Every zone's transfer configuration as the committed store holds it.
fn read(store: &dyn Storage) -> Result<HashMap<Name, Arc<ZoneAccess>>, StoreError> {
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
    Ok(out)
}

/// The TSIG key of a peer, ready to sign and verify with; `None` without one, or when the
/// stored key cannot be used (logged).
pub(crate) fn peer_key(store: &dyn Storage, peer: &Peer) -> Result<Option<TsigKey>, StoreError> {
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

#[cfg(test)]
mod tests;
