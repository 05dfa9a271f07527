//! Immutable zone versions that share their unchanged parts.
//!
//! A [`ZoneVersion`] maps every owner name of the zone (and every empty non-terminal, RFC 4592
//! §2.2.2) to a node of RRsets (`node.rs`, read through [`NodeRef`]). The map is a frozen
//! base in DNS canonical order with an overlay of recent changes (`nodes.rs`), so applying a
//! [`ZoneDiff`] copies only the touched nodes: an edit of one record in a zone of a million
//! costs time in proportion to the edit. Queries read a version through an `Arc` and never see
//! a half-applied change; writers build the next version beside it and swap it in
//! (`ServedZone::publish` in the server).

use crate::diff::ZoneDiff;
use crate::name::Name;
use crate::node::Node;
pub use crate::node::{NodeRef, RrSet};
use crate::record::{rtype, soa_serial, Record, Soa};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::nodes::NodeMap;
use crate::recent::Recent;

/// Why a set of records cannot be a zone, or a change cannot be applied to one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    #[error("{owner} is outside the zone {apex}")]
    OutOfZone { owner: String, apex: String },
    #[error("{owner} has a CNAME beside other data (RFC 1034 §3.6.2)")]
    CnameAndOther { owner: String },
    #[error("{owner} has more than one CNAME (RFC 2181 §10.1)")]
    MultipleCname { owner: String },
    #[error("SOA record at {owner}: an SOA may only be at the zone apex")]
    SoaNotAtApex { owner: String },
    #[error("the zone apex must have exactly one SOA record (it has {count})")]
    SoaCount { count: usize },
    #[error("the zone apex must have at least one NS record")]
    NoApexNs,
    #[error("the SOA record is malformed")]
    BadSoa,
    #[error("cannot delete {rr}: no such record in the zone")]
    NoSuchRecord { rr: String },
    #[error("{owner}: {reason}")]
    BadRdata {
        owner: String,
        reason: crate::rdata::RdataError,
    },
    #[error("record type {rtype} cannot be stored in a zone")]
    MetaType { rtype: String },
    #[error("{owner} would hold {bytes} octets of records; one owner name may hold at most {max}")]
    OwnerTooLarge {
        owner: String,
        bytes: usize,
        max: usize,
    },
}

/// One immutable version of a zone's contents.
#[derive(Clone)]
pub struct ZoneVersion {
    apex: Name,
    serial: u32,
    nodes: NodeMap,
    record_count: usize,
    /// Number of delegation points (NS below the apex); lets the query path skip the cut walk.
    cuts: usize,
    /// TTL of negative answers, fixed when the version is built.
    negative_ttl: u32,
    /// The newest changes that led here, for IXFR over UDP.
    recent: Recent,
}

impl std::fmt::Debug for ZoneVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoneVersion")
            .field("apex", &self.apex)
            .field("serial", &self.serial)
            .field("records", &self.record_count)
            .finish()
    }
}

impl ZoneVersion {
    /// Builds a version from a complete set of records, checking the zone rules: in one sort
    /// and one pass, straight into a base in canonical order ([`crate::build`]). A record given
    /// twice is kept once, with the TTL of its last copy, as a change adding both would.
    pub fn build(apex: Name, records: impl IntoIterator<Item = Record>) -> Result<Self, ZoneError> {
        let records: Vec<Record> = records.into_iter().collect();
        crate::build::build(apex, &records)
    }

    /// [`ZoneVersion::build`] from records it only reads (a transfer's, stored after).
    pub fn build_from(apex: Name, records: &[Record]) -> Result<Self, ZoneError> {
        crate::build::build(apex, records)
    }

    /// A version of the given nodes, once its apex passes the checks.
    pub(crate) fn from_nodes(
        apex: Name,
        nodes: NodeMap,
        record_count: usize,
        cuts: usize,
    ) -> Result<Self, ZoneError> {
        let mut v = ZoneVersion {
            apex,
            serial: 0,
            nodes,
            record_count,
            cuts,
            negative_ttl: 0,
            recent: Recent::default(),
        };
        v.check_apex()?;
        Ok(v)
    }

    /// Builds a version as a change from the empty zone would (what [`ZoneVersion::build`]
    /// must agree with; for its tests).
    #[cfg(test)]
    pub(crate) fn build_by_change(
        apex: Name,
        records: impl IntoIterator<Item = Record>,
    ) -> Result<Self, ZoneError> {
        let empty = ZoneVersion {
            apex,
            serial: 0,
            nodes: NodeMap::default(),
            record_count: 0,
            cuts: 0,
            negative_ttl: 0,
            recent: Recent::default(),
        };
        empty.apply(&ZoneDiff {
            removed: Vec::new(),
            added: records.into_iter().collect(),
        })
    }

    pub fn apex(&self) -> &Name {
        &self.apex
    }
    /// The serial of the SOA (RFC 1035 §3.3.13).
    pub fn serial(&self) -> u32 {
        self.serial
    }
    /// Number of records, SOA included.
    pub fn record_count(&self) -> usize {
        self.record_count
    }
    pub fn has_delegations(&self) -> bool {
        self.cuts > 0
    }
    /// The node at a lowercase wire-form name.
    pub fn node(&self, name: &[u8]) -> Option<NodeRef<'_>> {
        self.nodes.get(name)
    }
    /// Every node with its owner, in DNS canonical order (RFC 4034 §6.1), the apex first: the
    /// order of an outgoing AXFR and of export.
    /// Owners are lowercase wire-form names.
    pub fn nodes(&self) -> impl Iterator<Item = (&[u8], NodeRef<'_>)> {
        self.nodes.iter()
    }
    /// The apex node.
    pub fn apex_node(&self) -> NodeRef<'_> {
        self.nodes
            .get(self.apex.as_wire())
            .expect("a version always has its apex")
    }
    /// The SOA record.
    pub fn soa(&self) -> Soa {
        let rd = self
            .apex_node()
            .rrset(rtype::SOA)
            .and_then(|s| s.rdatas().next())
            .expect("a version always has an SOA");
        Soa::from_rdata(rd).expect("SOA checked when the version was built")
    }
    /// The SOA as a record.
    pub fn soa_record(&self) -> Record {
        let set = self.apex_node().rrset(rtype::SOA).expect("SOA present");
        let (rd, ttl) = set.members().next().expect("SOA present");
        Record::new(self.apex.clone(), rtype::SOA, ttl, rd.to_vec())
    }
    /// The changes from `serial` to this version, oldest first, when the version's recent
    /// history reaches back to it ([`crate::recent`]).
    pub fn changes_since(&self, serial: u32) -> Option<&[Arc<ZoneDiff>]> {
        self.recent.since(serial)
    }

    /// Whether the version keeps any recent history.
    pub fn has_history(&self) -> bool {
        !self.recent.is_empty()
    }

    /// This version without its recent history.
    pub fn without_history(&self) -> ZoneVersion {
        let mut v = self.clone();
        v.recent = Recent::default();
        v
    }

    /// This version with `history` (oldest first, ending at this version's serial) as the
    /// changes that led to it, as far as they fit: a version loaded at start learns the tail
    /// of its journal.
    pub fn with_history(mut self, history: &[ZoneDiff]) -> ZoneVersion {
        let ends_here = history.last().and_then(ZoneDiff::to_serial) == Some(self.serial);
        if ends_here {
            let refs: Vec<&ZoneDiff> = history.iter().collect();
            self.recent = Recent::default().then(&refs);
        }
        self
    }

    /// TTL of negative answers: min(SOA TTL, SOA MINIMUM) (RFC 2308 §3).
    pub fn negative_ttl(&self) -> u32 {
        self.negative_ttl
    }

    /// Every record, SOA first, then by owner in canonical order (AXFR order, RFC 5936 §2.2).
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        let soa = std::iter::once(self.soa_record());
        let apex = &self.apex;
        let rest = self.nodes.iter().flat_map(move |(owner, node)| {
            node.rrsets()
                .filter(move |s| !(s.rtype() == rtype::SOA && owner == apex.as_wire()))
                .flat_map(move |s| {
                    s.members().map(move |(rd, ttl)| {
                        let owner = Name::from_wire(owner).expect("a version's owners are names");
                        Record::new(owner, s.rtype(), ttl, rd.to_vec())
                    })
                })
        });
        soa.chain(rest)
    }

    /// Applies a change and returns the next version; `self` is untouched. Costs time in
    /// proportion to the change (and the sizes of the touched nodes), not to the zone.
    pub fn apply(&self, diff: &ZoneDiff) -> Result<ZoneVersion, ZoneError> {
        if crate::build::worth_rebuilding(self.record_count, diff) {
            let mut next = crate::build::rebuild(self, diff)?;
            next.recent = self.recent.then(&[diff]);
            return Ok(next);
        }
        self.apply_all(std::iter::once(diff))
    }

    /// Applies changes in order (the differences of one IXFR, RFC 1995 §4) and returns the
    /// version after the last; `self` is untouched. Each change must apply to the state the
    /// previous one left, and each intermediate zone must keep its SOA and apex NS. The
    /// versions in between are never built: the work is the sum of the changes, with the
    /// node map merged at most once at the end.
    pub fn apply_all<'d>(
        &self,
        diffs: impl IntoIterator<Item = &'d ZoneDiff>,
    ) -> Result<ZoneVersion, ZoneError> {
        let mut next = self.clone();
        let diffs: Vec<&ZoneDiff> = diffs.into_iter().collect();
        for diff in &diffs {
            next.change(diff)?;
            next.check_apex()?;
        }
        next.nodes.finish_change(true);
        next.recent = self.recent.then(&diffs);
        Ok(next)
    }

    fn change(&mut self, diff: &ZoneDiff) -> Result<(), ZoneError> {
        let mut by_owner: BTreeMap<&Name, (Vec<&Record>, Vec<&Record>)> = BTreeMap::new();
        for r in &diff.removed {
            by_owner.entry(&r.owner).or_default().0.push(r);
        }
        for r in &diff.added {
            by_owner.entry(&r.owner).or_default().1.push(r);
        }
        for (owner, (removed, added)) in by_owner {
            self.change_node(owner, &removed, &added)?;
        }
        Ok(())
    }

    fn change_node(
        &mut self,
        owner: &Name,
        removed: &[&Record],
        added: &[&Record],
    ) -> Result<(), ZoneError> {
        check_in_zone(owner, &self.apex)?;
        let old = self.nodes.get(owner.as_wire());
        let existed = old.is_some();
        let children = old.map_or(0, NodeRef::children);
        let mut rrs = old.map(NodeRef::to_rrs).unwrap_or_default();
        let before: usize = rrs.values().map(Vec::len).sum();
        let cut_before = self.is_cut(owner, &rrs);
        // Each touched RRset is worked on through an index of its RDATA, so a change of k
        // records in a set of n costs O(n + k), not O(n·k) (82k records at one owner).
        let mut work: BTreeMap<u16, SetEdit> = BTreeMap::new();
        for r in removed {
            let set = work
                .entry(r.rtype)
                .or_insert_with(|| SetEdit::new(rrs.remove(&r.rtype).unwrap_or_default()));
            if !set.remove(&r.rdata) {
                return Err(ZoneError::NoSuchRecord {
                    rr: crate::text::record_to_line(r),
                });
            }
        }
        for r in added {
            check_added(r, &self.apex)?;
            work.entry(r.rtype)
                .or_insert_with(|| SetEdit::new(rrs.remove(&r.rtype).unwrap_or_default()))
                .add(&r.rdata, r.ttl);
        }
        for (t, set) in work {
            rrs.insert(t, set.finish());
        }
        rrs.retain(|_, v| !v.is_empty());
        check_cname(owner, rrs.iter().map(|(t, v)| (*t, v.len())))?;
        // The node that stays, if any: an empty one only as the apex or above other names.
        let gone = rrs.is_empty() && children == 0 && *owner != self.apex;
        let node = (!gone)
            .then(|| Node::from_rrs(owner, &rrs, children))
            .transpose()?;
        let after: usize = rrs.values().map(Vec::len).sum();
        self.record_count = self.record_count + after - before;
        let cut_after = self.is_cut(owner, &rrs);
        self.cuts = self.cuts + cut_after as usize - cut_before as usize;

        match node {
            None if existed => {
                self.nodes.remove(owner);
                self.unlink_from_parent(owner);
            }
            None => {}
            Some(node) => {
                self.nodes.insert(owner.clone(), node);
                if !existed {
                    self.link_to_parent(owner);
                }
            }
        }
        Ok(())
    }

    fn is_cut(&self, owner: &Name, rrs: &BTreeMap<u16, Vec<(Bytes, u32)>>) -> bool {
        *owner != self.apex && rrs.get(&rtype::NS).is_some_and(|v| !v.is_empty())
    }

    /// A new node exists: count it in its parent, creating empty non-terminals up to the apex.
    fn link_to_parent(&mut self, owner: &Name) {
        let mut name = owner.clone();
        while name != self.apex {
            let Some(parent) = name.parent() else { return };
            let existed = match self.nodes.get(parent.as_wire()) {
                Some(node) => {
                    let n = node.with_children(node.children() + 1);
                    self.nodes.insert(parent.clone(), n);
                    true
                }
                None => {
                    self.nodes.insert(parent.clone(), Node::new(Vec::new(), 1));
                    false
                }
            };
            if existed {
                return;
            }
            name = parent;
        }
    }

    /// A node is gone: uncount it, removing empty non-terminals left without children.
    fn unlink_from_parent(&mut self, owner: &Name) {
        let mut name = owner.clone();
        while name != self.apex {
            let Some(parent) = name.parent() else { return };
            let Some(node) = self.nodes.get(parent.as_wire()) else {
                return;
            };
            let children = node.children().saturating_sub(1);
            if children == 0 && node.is_empty() && parent != self.apex {
                self.nodes.remove(&parent);
                name = parent;
            } else {
                let n = node.with_children(children);
                self.nodes.insert(parent, n);
                return;
            }
        }
    }

    fn check_apex(&mut self) -> Result<(), ZoneError> {
        let apex = self
            .nodes
            .get(self.apex.as_wire())
            .ok_or(ZoneError::SoaCount { count: 0 })?;
        let soa_count = apex.rrset(rtype::SOA).map_or(0, |s| s.len());
        if soa_count != 1 {
            return Err(ZoneError::SoaCount { count: soa_count });
        }
        if apex.rrset(rtype::NS).is_none() {
            return Err(ZoneError::NoApexNs);
        }
        let soa = apex
            .rrset(rtype::SOA)
            .and_then(|s| s.rdatas().next())
            .map(Bytes::copy_from_slice);
        let soa_ttl = apex.rrset(rtype::SOA).map_or(0, |s| s.ttl());
        let soa = soa.ok_or(ZoneError::BadSoa)?;
        let fields = Soa::from_rdata(&soa).ok_or(ZoneError::BadSoa)?;
        self.serial = soa_serial(&soa).ok_or(ZoneError::BadSoa)?;
        // RFC 2308 §3: negative answers live min(SOA TTL, SOA MINIMUM).
        self.negative_ttl = soa_ttl.min(fields.minimum);
        Ok(())
    }
}

/// One RRset being changed: its members in order (`None` once removed) and where each RDATA is.
struct SetEdit {
    rrs: Vec<Option<(Bytes, u32)>>,
    index: std::collections::HashMap<Bytes, usize, foldhash::fast::RandomState>,
}

impl SetEdit {
    fn new(rrs: Vec<(Bytes, u32)>) -> Self {
        let mut index = std::collections::HashMap::with_capacity_and_hasher(
            rrs.len(),
            foldhash::fast::RandomState::default(),
        );
        for (i, (rd, _)) in rrs.iter().enumerate() {
            index.insert(rd.clone(), i);
        }
        SetEdit {
            rrs: rrs.into_iter().map(Some).collect(),
            index,
        }
    }

    /// Removes a member; false when there is none with this RDATA.
    fn remove(&mut self, rdata: &Bytes) -> bool {
        match self.index.remove(rdata) {
            Some(i) => {
                self.rrs[i] = None;
                true
            }
            None => false,
        }
    }

    /// Adds a member at the end, or sets the TTL of the member with this RDATA.
    fn add(&mut self, rdata: &Bytes, ttl: u32) {
        match self.index.get(rdata) {
            Some(&i) => {
                if let Some(rr) = &mut self.rrs[i] {
                    rr.1 = ttl;
                }
            }
            None => {
                self.index.insert(rdata.clone(), self.rrs.len());
                self.rrs.push(Some((rdata.clone(), ttl)));
            }
        }
    }

    fn finish(self) -> Vec<(Bytes, u32)> {
        self.rrs.into_iter().flatten().collect()
    }
}

pub(crate) fn check_in_zone(owner: &Name, apex: &Name) -> Result<(), ZoneError> {
    if !owner.ends_with(apex) {
        return Err(ZoneError::OutOfZone {
            owner: owner.to_fqdn(),
            apex: apex.to_fqdn(),
        });
    }
    Ok(())
}

/// The checks of a record entering a version of the zone at `apex`. Every path into a version
/// passes here (API, import, batch, transfer in, load), so no record malformed for its type is
/// ever served or transferred.
pub(crate) fn check_added(r: &Record, apex: &Name) -> Result<(), ZoneError> {
    check_in_zone(&r.owner, apex)?;
    check_storable(r.rtype)?;
    crate::rdata::check(r.rtype, &r.rdata).map_err(|reason| ZoneError::BadRdata {
        owner: r.owner.to_fqdn(),
        reason,
    })?;
    if r.rtype == rtype::SOA && r.owner != *apex {
        return Err(ZoneError::SoaNotAtApex {
            owner: r.owner.to_fqdn(),
        });
    }
    Ok(())
}

/// Meta and query-only types never live in zone data (RFC 6895 §3.1).
fn check_storable(t: u16) -> Result<(), ZoneError> {
    if t == 0 || t == rtype::OPT || (128..=255).contains(&t) {
        return Err(ZoneError::MetaType {
            rtype: crate::record::rtype_name(t),
        });
    }
    Ok(())
}

/// RFC 1034 §3.6.2 and RFC 2181 §10.1: a CNAME stands alone, except for the DNSSEC records
/// that must accompany it (RFC 4035 §2.5).
/// `sets` gives each RRset at the owner as its type and member count.
pub(crate) fn check_cname(
    owner: &Name,
    sets: impl Iterator<Item = (u16, usize)> + Clone,
) -> Result<(), ZoneError> {
    let Some((_, count)) = sets.clone().find(|(t, _)| *t == rtype::CNAME) else {
        return Ok(());
    };
    if count > 1 {
        return Err(ZoneError::MultipleCname {
            owner: owner.to_fqdn(),
        });
    }
    let mut other = sets.map(|(t, _)| t);
    let other = other.any(|t| t != rtype::CNAME && t != rtype::RRSIG && t != rtype::NSEC);
    if other {
        return Err(ZoneError::CnameAndOther {
            owner: owner.to_fqdn(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse_zonefile;

    fn zone(text: &str) -> Result<ZoneVersion, ZoneError> {
        let apex = Name::parse("example.com").unwrap();
        let recs = parse_zonefile(text, &apex, 300).unwrap();
        ZoneVersion::build(apex, recs.into_iter().map(|p| p.record))
    }

    const BASE: &str = "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n";

    fn rec(line: &str) -> Record {
        let apex = Name::parse("example.com").unwrap();
        parse_zonefile(line, &apex, 300).unwrap().remove(0).record
    }

    #[test]
    fn large_rrsets_change_by_index_keeping_order() {
        let owner = Name::parse("many.example.com").unwrap();
        let a = |i: u32| Record::new(owner.clone(), rtype::A, 300, i.to_be_bytes().to_vec());
        let mut text = BASE.to_string();
        for i in 0..5000u32 {
            text.push_str(&format!("many A {}\n", std::net::Ipv4Addr::from(i)));
        }
        let v = zone(&text).unwrap();
        assert_eq!(v.record_count(), 5003);
        // Remove every other member, re-add one with another TTL, add a new one, one change.
        let mut diff = ZoneDiff {
            removed: (0..5000).step_by(2).map(a).collect(),
            added: vec![Record { ttl: 60, ..a(4) }, a(7000)],
        };
        diff.removed.push(a(1));
        diff.added.push(Record { ttl: 900, ..a(1) });
        let next = v.apply(&diff).unwrap();
        let set = next.node(owner.as_wire()).unwrap().rrset(rtype::A).unwrap();
        let got: Vec<u32> = set
            .rdatas()
            .map(|rd| u32::from_be_bytes([rd[0], rd[1], rd[2], rd[3]]))
            .collect();
        let mut want: Vec<u32> = (3..5000).step_by(2).collect();
        want.extend([4, 7000, 1]);
        assert_eq!(got, want, "kept members in order, then the added ones");
        assert_eq!(next.record_count(), 3 + 2500 + 2);
        assert_eq!(set.ttl(), 60, "the lowest member TTL (RFC 2181 §5.2)");
        // Removing what is not there fails the whole change.
        let bad = ZoneDiff {
            removed: vec![a(3), a(3)],
            added: vec![],
        };
        assert!(matches!(
            next.apply(&bad),
            Err(ZoneError::NoSuchRecord { .. })
        ));
    }

    #[test]
    fn member_ttls_are_kept_once_beside_the_set() {
        let v = zone(&format!(
            "{BASE}m 600 A 192.0.2.1\nm 60 A 192.0.2.2\nm 600 A 192.0.2.3\nsame 300 A 192.0.2.4\n"
        ))
        .unwrap();
        let m = Name::parse("m.example.com").unwrap();
        let set = v.node(m.as_wire()).unwrap().rrset(rtype::A).unwrap();
        assert_eq!(set.ttl(), 60, "served with the lowest (RFC 2181 §5.2)");
        let ttls: Vec<u32> = set.members().map(|(_, t)| t).collect();
        assert_eq!(ttls, [600, 60, 600], "each member keeps its own");
        for body in set.entries() {
            assert_eq!(
                &body[4..8],
                &60u32.to_be_bytes(),
                "the wire carries the set's TTL"
            );
        }
        let mut exported: Vec<(String, u32)> = v
            .records()
            .filter(|r| r.owner == m)
            .map(|r| (format!("{:?}", r.rdata.as_ref()), r.ttl))
            .collect();
        exported.sort();
        assert_eq!(exported.iter().filter(|(_, t)| *t == 600).count(), 2);
        // Without the low member the set is served at 600 again.
        let v2 = v
            .apply(&ZoneDiff {
                removed: vec![rec("m 60 A 192.0.2.2")],
                added: vec![],
            })
            .unwrap();
        let set = v2.node(m.as_wire()).unwrap().rrset(rtype::A).unwrap();
        assert_eq!((set.ttl(), set.len()), (600, 2));
        assert!(!set.has_own_ttls(), "equal TTLs keep no per-member list");
        let same = Name::parse("same.example.com").unwrap();
        let set = v.node(same.as_wire()).unwrap().rrset(rtype::A).unwrap();
        assert!(!set.has_own_ttls());
        assert_eq!(set.rdatas().next().unwrap(), &[192, 0, 2, 4]);
    }

    #[test]
    fn rrsigs_follow_their_set_through_changes() {
        let sig = |t: &str| {
            format!("www RRSIG {t} 8 3 300 20300101000000 20200101000000 1 example.com. AAAA\n")
        };
        let v = zone(&format!(
            "{BASE}www A 192.0.2.5\nwww AAAA 2001:db8::5\n{}{}",
            sig("A"),
            sig("AAAA")
        ))
        .unwrap();
        let www = Name::parse("www.example.com").unwrap();
        let node = v.node(www.as_wire()).unwrap();
        for t in [rtype::A, rtype::AAAA] {
            let set = node.rrset(t).unwrap();
            let (sigs, n) = set.sig_wire();
            assert_eq!(n, 1);
            let body = crate::node::bodies(sigs).next().unwrap();
            assert_eq!(&body[0..2], &rtype::RRSIG.to_be_bytes());
            assert_eq!(&body[10..12], &t.to_be_bytes(), "covers its own type");
            assert_eq!(set.len(), 1, "the signature is not a member");
            assert_eq!(set.wire().len(), 10 + set.rdatas().next().unwrap().len());
        }
        // Changing the A set keeps its signature; dropping the signature detaches it.
        let v2 = v
            .apply(&ZoneDiff {
                removed: vec![rec(&sig("AAAA"))],
                added: vec![rec("www A 192.0.2.6")],
            })
            .unwrap();
        let node = v2.node(www.as_wire()).unwrap();
        assert_eq!(node.rrset(rtype::A).unwrap().sig_wire().1, 1);
        assert_eq!(node.rrset(rtype::A).unwrap().len(), 2);
        assert_eq!(node.rrset(rtype::AAAA).unwrap().sig_wire(), (&[][..], 0));
        assert_eq!(v2.record_count(), v.record_count());
    }

    #[test]
    fn a_chain_of_changes_applies_as_its_steps_do() {
        let v = zone(&format!("{BASE}a A 192.0.2.10\n")).unwrap();
        let soa = |n: u32| rec(&format!("@ SOA ns1 hostmaster {n} 7200 3600 1209600 300"));
        let step = |n: u32, removed: Vec<Record>, added: Vec<Record>| ZoneDiff {
            removed: [vec![soa(n)], removed].concat(),
            added: [vec![soa(n + 1)], added].concat(),
        };
        let diffs = vec![
            step(1, vec![], vec![rec("b A 192.0.2.11")]),
            step(2, vec![rec("a A 192.0.2.10")], vec![rec("a A 192.0.2.12")]),
            // Removes what the step before added.
            step(
                3,
                vec![rec("b A 192.0.2.11")],
                vec![rec("c.d A 192.0.2.13")],
            ),
        ];
        let mut stepwise = v.clone();
        for d in &diffs {
            stepwise = stepwise.apply(d).unwrap();
        }
        let chained = v.apply_all(&diffs).unwrap();
        assert_eq!(chained.serial(), 4);
        assert_eq!(chained.record_count(), stepwise.record_count());
        let mut a: Vec<String> = chained
            .records()
            .map(|r| crate::text::record_to_line(&r))
            .collect();
        let mut b: Vec<String> = stepwise
            .records()
            .map(|r| crate::text::record_to_line(&r))
            .collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        let ent = Name::parse("d.example.com").unwrap();
        assert!(
            chained.node(ent.as_wire()).is_some_and(|n| n.is_empty()),
            "empty non-terminal made"
        );
        assert_eq!(v.serial(), 1, "the start is untouched");
        // A later step that does not apply fails the whole chain.
        let mut bad = diffs.clone();
        bad.push(step(4, vec![rec("b A 192.0.2.11")], vec![]));
        assert!(matches!(
            v.apply_all(&bad),
            Err(ZoneError::NoSuchRecord { .. })
        ));
        // So does a step that leaves the zone without its SOA in between.
        let headless = vec![
            ZoneDiff {
                removed: vec![soa(1)],
                added: vec![],
            },
            step(1, vec![], vec![]),
        ];
        assert!(v.apply_all(&headless).is_err());
    }

    #[test]
    fn builds_and_counts() {
        let v = zone(&format!("{BASE}a.b.c A 192.0.2.2\n")).unwrap();
        assert_eq!(v.serial(), 1);
        assert_eq!(v.record_count(), 4);
        let ent = Name::parse("b.c.example.com").unwrap();
        assert!(
            v.node(ent.as_wire()).unwrap().is_empty(),
            "empty non-terminal exists"
        );
        assert_eq!(v.records().count(), 4);
    }

    #[test]
    fn rules_are_enforced() {
        assert_eq!(
            zone(&format!("{BASE}ns1 CNAME x\n")).unwrap_err(),
            ZoneError::CnameAndOther {
                owner: "ns1.example.com.".into()
            }
        );
        assert_eq!(
            zone("@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n").unwrap_err(),
            ZoneError::NoApexNs
        );
        assert!(matches!(
            zone(&format!(
                "{BASE}x SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
            ))
            .unwrap_err(),
            ZoneError::SoaNotAtApex { .. }
        ));
        assert!(matches!(
            zone(&format!("{BASE}www.example.org. A 1.2.3.4\n")).unwrap_err(),
            ZoneError::OutOfZone { .. }
        ));
    }

    #[test]
    fn apply_shares_and_is_isolated() {
        let v1 = zone(&format!("{BASE}a.b.c A 192.0.2.2\n")).unwrap();
        let diff = ZoneDiff {
            removed: vec![
                rec("@ SOA ns1 hostmaster 1 7200 3600 1209600 300"),
                rec("a.b.c A 192.0.2.2"),
            ],
            added: vec![
                rec("@ SOA ns1 hostmaster 2 7200 3600 1209600 300"),
                rec("d A 192.0.2.3"),
            ],
        };
        let v2 = v1.apply(&diff).unwrap();
        assert_eq!(v2.serial(), 2);
        assert_eq!(v1.serial(), 1, "old version untouched");
        let ent = Name::parse("b.c.example.com").unwrap();
        assert!(v1.node(ent.as_wire()).is_some());
        assert!(
            v2.node(ent.as_wire()).is_none(),
            "empty non-terminals pruned"
        );
        assert!(v2
            .node(Name::parse("c.example.com").unwrap().as_wire())
            .is_none());
        assert_eq!(v2.record_count(), 4);
        // Deleting what is not there fails and leaves nothing half-done.
        let bad = ZoneDiff {
            removed: vec![rec("zz A 192.0.2.9")],
            added: vec![],
        };
        assert!(matches!(
            v2.apply(&bad),
            Err(ZoneError::NoSuchRecord { .. })
        ));
    }

    #[test]
    fn one_record_change_shares_every_other_node() {
        let mut text = BASE.to_string();
        for i in 0..20_000 {
            text.push_str(&format!("h{i}.hosts A 192.0.2.{}\n", i % 250));
        }
        let v1 = zone(&text).unwrap();
        let v2 = v1
            .apply(&ZoneDiff {
                removed: vec![rec("h7.hosts A 192.0.2.7")],
                added: vec![rec("h7.hosts A 198.51.100.7")],
            })
            .unwrap();
        let shared = v2
            .nodes
            .iter()
            .filter(|(k, n)| v1.nodes.get(k).is_some_and(|o| o.same_as(*n)))
            .count();
        // Only the changed node is new; its parent and the apex are untouched.
        assert_eq!(v2.nodes.len(), v1.nodes.len());
        assert_eq!(shared, v2.nodes.len() - 1);
    }

    #[test]
    fn rrsigs_attach_to_covered_type() {
        let v = zone(&format!(
            "{BASE}www A 192.0.2.5\nwww RRSIG A 8 3 300 20300101000000 20200101000000 1 example.com. AAAA\n"
        ))
        .unwrap();
        let node = v
            .node(Name::parse("www.example.com").unwrap().as_wire())
            .unwrap();
        assert_eq!(node.rrset(rtype::A).unwrap().sig_wire().1, 1);
    }

    #[test]
    fn cuts_counted() {
        let v = zone(&format!("{BASE}sub NS ns.sub\nns.sub A 192.0.2.7\n")).unwrap();
        assert!(v.has_delegations());
        let v2 = v
            .apply(&ZoneDiff {
                removed: vec![rec("sub NS ns.sub")],
                added: vec![],
            })
            .unwrap();
        assert!(!v2.has_delegations());
    }
}
