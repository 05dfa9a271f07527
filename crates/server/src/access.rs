//! The access rule of PRODUCT.md §1 and the frozen per-zone transfer configuration it reads,
//! held by each zone's handle ([`crate::zone::ServedZone::access`]): what access decisions
//! (transfer requests, NOTIFYs, signed queries), outgoing NOTIFY and the secondary role's
//! refreshes consult, so that refused traffic costs what a query costs and never waits on
//! the store from a UDP or TCP worker. The control plane builds it from the committed store
//! and publishes every zone's at once after each change to peers, keys, ACLs or a zone's
//! incoming or outgoing configuration.

use crate::refusal::Refusal;
use crate::zone::ZoneSet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tandem_xfr::tsig::{KeyRing, TsigKey};
use tandem_zone::net::IpRange;
use tandem_zone::Name;

/// A linked peer as the access rule, outgoing NOTIFY and incoming transfers see it. Names are
/// shared so that a refusal can name the peer without allocating.
#[derive(Clone, Debug)]
pub struct PeerAccess {
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
pub struct AclAccess {
    pub name: Arc<str>,
    pub ip_range: IpRange,
}

/// One zone's transfer configuration, frozen.
#[derive(Debug, Default)]
pub struct ZoneAccess {
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

/// Publishes every zone's [`ZoneAccess`] into its handle ([`ServedZone::access`]), all
/// zones in one rebuild.
///
/// [`ServedZone::access`]: crate::zone::ServedZone::access
pub struct AccessSnapshot {
    zones: Arc<ZoneSet>,
    rebuild: Mutex<()>,
}

impl AccessSnapshot {
    /// Publishes into the handles of `zones`.
    pub fn new(zones: Arc<ZoneSet>) -> Self {
        AccessSnapshot {
            zones,
            rebuild: Mutex::new(()),
        }
    }

    /// The zone's configuration, or `None` for a zone that is not hosted or has none
    /// published yet.
    pub fn zone(&self, apex: &Name) -> Option<Arc<ZoneAccess>> {
        self.zones.get(apex).and_then(|z| z.access())
    }

    /// Publishes what `build` reads into every hosted zone (a zone `build` does not name has
    /// none). Builds run one at a time, so the newest publication is always the newest
    /// state; when `build` fails, every zone keeps what it had and the error is returned.
    pub fn rebuild<E>(
        &self,
        build: impl FnOnce() -> Result<HashMap<Name, Arc<ZoneAccess>>, E>,
    ) -> Result<(), E> {
        let _one_at_a_time = self.rebuild.lock().unwrap_or_else(|e| e.into_inner());
        let mut zones = build()?;
        for zone in self.zones.all() {
            zone.set_access(zones.remove(zone.apex()));
        }
        Ok(())
    }
}

/// The access rule of PRODUCT.md §1, for transfer requests to a zone (its outgoing peers)
/// and NOTIFYs to a secondary zone (its incoming peers), given the linked peers:
/// (a) signed with a valid key that belongs to a linked peer, from that peer's ip or from
/// inside one of the account's ACL ranges; (b) unsigned, from the ip of a linked peer
/// without a key, or from inside an ACL range while no linked peer has a key. Allocates
/// nothing, refusing or not.
pub fn access(
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
mod tests {
    use super::*;

    fn peer(name: &str, ip: [u8; 4], key: Option<&str>) -> PeerAccess {
        let key = key.map(|k| TsigKey::new(k, "hmac-sha256", "c2VjcmV0c2VjcmV0").unwrap());
        PeerAccess {
            id: name.into(),
            name: name.into(),
            ip: Some(IpAddr::from(ip)),
            port: 53,
            ixfr: true,
            keyed: key.is_some(),
            key,
        }
    }

    fn acl(name: &str, range: &str) -> AclAccess {
        AclAccess {
            name: name.into(),
            ip_range: IpRange::parse(range).unwrap(),
        }
    }

    /// What is asked, of which peers, from where, with which key, and the decision.
    type Case<'a> = (
        &'a str,
        &'a [PeerAccess],
        IpAddr,
        Option<&'a Name>,
        Result<(), Refusal>,
    );

    /// Every branch of PRODUCT.md §1's rule: (a) signed, (b) unsigned, and each refusal.
    #[test]
    fn the_access_rule_of_product_section_1() {
        let k1 = Name::parse("k1.example").unwrap();
        let other = Name::parse("other.example").unwrap();
        let ip = |a: [u8; 4]| IpAddr::from(a);
        let keyed = [peer("keyed", [127, 0, 0, 2], Some("k1.example"))];
        let plain = [peer("plain", [127, 0, 0, 3], None)];
        let both = [keyed[0].clone(), plain[0].clone()];
        let shared = [
            peer("keyed", [127, 0, 0, 4], Some("k1.example")),
            peer("plain", [127, 0, 0, 4], None),
        ];
        let acls = [acl("office", "127.0.1.0/24")];
        let cases: Vec<Case<'_>> = vec![
            (
                "(a) from the keyed peer's ip",
                &keyed,
                ip([127, 0, 0, 2]),
                Some(&k1),
                Ok(()),
            ),
            (
                "(a) from an ACL range",
                &keyed,
                ip([127, 0, 1, 9]),
                Some(&k1),
                Ok(()),
            ),
            (
                "(a) a key no linked peer has",
                &keyed,
                ip([127, 0, 0, 2]),
                Some(&other),
                Err(Refusal::KeyNotLinked),
            ),
            (
                "(a) a linked key from elsewhere",
                &keyed,
                ip([127, 0, 0, 9]),
                Some(&k1),
                Err(Refusal::KeyFromElsewhere),
            ),
            (
                "(b) from a keyless peer",
                &both,
                ip([127, 0, 0, 3]),
                None,
                Ok(()),
            ),
            (
                "(b) a keyless and a keyed peer at one address",
                &shared,
                ip([127, 0, 0, 4]),
                None,
                Ok(()),
            ),
            (
                "(b) unsigned from a keyed peer",
                &keyed,
                ip([127, 0, 0, 2]),
                None,
                Err(Refusal::PeerMustSign {
                    peer: "keyed".into(),
                }),
            ),
            (
                "(b) from an ACL range, no keyed peer",
                &plain,
                ip([127, 0, 1, 9]),
                None,
                Ok(()),
            ),
            (
                "(b) from an ACL range while a peer has a key",
                &both,
                ip([127, 0, 1, 9]),
                None,
                Err(Refusal::AclMustSign {
                    acl: "office".into(),
                }),
            ),
            (
                "a stranger",
                &both,
                ip([127, 0, 0, 66]),
                None,
                Err(Refusal::Stranger),
            ),
        ];
        for (what, peers, source, key, want) in cases {
            assert_eq!(access(peers, &acls, source, key), want, "{what}");
        }
    }

    /// Each hosted zone's handle holds what the last rebuild published for it; a failed
    /// rebuild keeps it, and a handle replaced in the set keeps it until the next one.
    #[test]
    fn a_rebuild_publishes_into_each_zone_handle() {
        let zones = Arc::new(ZoneSet::new());
        let (a, b) = (
            Name::parse("a.test").unwrap(),
            Name::parse("b.test").unwrap(),
        );
        zones.insert(a.clone(), None);
        zones.insert(b.clone(), None);
        let snapshot = AccessSnapshot::new(zones.clone());
        assert!(snapshot.zone(&a).is_none(), "nothing published yet");

        let config = |id: &str| {
            Arc::new(ZoneAccess {
                zone_id: id.into(),
                ..ZoneAccess::default()
            })
        };
        let published = |apex: &Name| snapshot.zone(apex).map(|z| z.zone_id.to_string());
        snapshot
            .rebuild(|| Ok::<_, ()>(HashMap::from([(a.clone(), config("za"))])))
            .unwrap();
        assert_eq!(published(&a).as_deref(), Some("za"));
        assert_eq!(
            published(&b),
            None,
            "a zone the build does not name has none"
        );
        assert_eq!(
            zones.get(&a).unwrap().access().unwrap().zone_id.as_ref(),
            "za",
            "the handle holds it"
        );

        assert_eq!(
            snapshot.rebuild(|| Err("store unreadable")),
            Err("store unreadable")
        );
        assert_eq!(
            published(&a).as_deref(),
            Some("za"),
            "a failed rebuild keeps it"
        );

        zones.insert(a.clone(), None);
        assert_eq!(
            published(&a).as_deref(),
            Some("za"),
            "carried over to a new handle"
        );
        zones.remove(&a);
        assert_eq!(published(&a), None, "a zone no longer hosted has none");
        let other = Name::parse("other.test").unwrap();
        assert_eq!(published(&other), None);
    }
}
