//! A node: every RRset at one owner name, in one shared allocation.
//!
//! Each RRset keeps its RDATA once, pre-rendered as wire-format RR bodies (TYPE, CLASS, TTL,
//! RDLENGTH, RDATA — RFC 1035 §4.1.3) so the query path only prepends an owner name and copies,
//! followed by the bodies of the RRSIGs that cover its type (RFC 4035 §3.1.1). A whole node —
//! child count, a small header per RRset and all their bytes — is one reference-counted byte
//! string: one allocation per owner name, where a node of boxed RRsets took one per RRset plus
//! two — and no allocation of its own once it lies in a version's frozen base, which keeps
//! every node in one buffer (`nodes.rs`). [`NodeRef`] and [`RrSet`] are views into the bytes.
//!
//! Layout, integers little-endian: `children: u32`, `sets: u16`, then one header per RRset in
//! type order (`rtype: u16, sig_count: u16, ttl: u32, len: u32, start: u32, sig_at: u32,
//! end: u32, ttls: u32`), then each set's member bodies (`start..sig_at`), its RRSIG bodies
//! (`sig_at..end`) and, only when a member's TTL differs from the set's, every member's TTL
//! (at `ttls`, 0 when absent). Offsets are `u32`: one owner's RRsets stay far below 4 GiB
//! under the import and transfer size limits.

use crate::record::{rtype, CLASS_IN};
use crate::version::ZoneError;
use bytes::Bytes;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) const HEAD: usize = 6;
pub(crate) const SET: usize = 28;

/// The most octets of RRsets one owner name may hold: every offset in a node fits a `u32`
/// even when each RRSIG body is kept twice (in its own set and beside the set it covers).
pub(crate) const MAX_NODE_BYTES: usize = 1 << 30;

/// Refuses the sets of a node at `owner` when they take more than [`MAX_NODE_BYTES`]. Every
/// node is written from sets that passed here.
pub(crate) fn check_sets(owner: &crate::Name, sets: &[SetBuf]) -> Result<(), ZoneError> {
    check_size(owner, sets.iter().map(SetBuf::size).sum())
}

/// Refuses a node of sets taking `bytes` octets in all past [`MAX_NODE_BYTES`].
fn check_size(owner: &crate::Name, bytes: usize) -> Result<(), ZoneError> {
    if bytes > MAX_NODE_BYTES {
        return Err(ZoneError::OwnerTooLarge {
            owner: owner.to_fqdn(),
            bytes,
            max: MAX_NODE_BYTES,
        });
    }
    Ok(())
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// One RRset of a node (a view into the node's bytes).
#[derive(Clone, Copy)]
pub struct RrSet<'a> {
    node: &'a [u8],
    /// Where the set's header starts.
    h: usize,
}

impl<'a> RrSet<'a> {
    pub fn rtype(&self) -> u16 {
        u16_at(self.node, self.h)
    }
    /// TTL served for the whole set: the lowest of its members (RFC 2181 §5.2).
    pub fn ttl(&self) -> u32 {
        u32_at(self.node, self.h + 4)
    }
    pub fn len(&self) -> usize {
        u32_at(self.node, self.h + 8) as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn start(&self) -> usize {
        u32_at(self.node, self.h + 12) as usize
    }
    fn sig_at(&self) -> usize {
        u32_at(self.node, self.h + 16) as usize
    }
    fn end(&self) -> usize {
        u32_at(self.node, self.h + 20) as usize
    }
    /// Concatenated RR bodies: per member TYPE, CLASS, TTL, RDLENGTH, RDATA.
    pub fn wire(self) -> &'a [u8] {
        &self.node[self.start()..self.sig_at()]
    }
    /// Each member's RR body (TYPE, CLASS, TTL, RDLENGTH, RDATA) on its own.
    pub fn entries(self) -> impl Iterator<Item = &'a [u8]> + Clone {
        bodies(self.wire())
    }
    /// RDATA of each member, in order.
    pub fn rdatas(self) -> impl Iterator<Item = &'a [u8]> + Clone {
        self.entries().map(|e| &e[10..])
    }
    /// Each member's RDATA with its own TTL, in order.
    pub fn members(self) -> impl Iterator<Item = (&'a [u8], u32)> + Clone {
        let (node, ttl, ttls) = (
            self.node,
            self.ttl(),
            u32_at(self.node, self.h + 24) as usize,
        );
        self.rdatas().enumerate().map(move |(i, rd)| {
            let own = if ttls == 0 {
                ttl
            } else {
                u32_at(node, ttls + 4 * i)
            };
            (rd, own)
        })
    }
    /// Concatenated RRSIG RR bodies covering this RRset, and how many there are.
    pub fn sig_wire(self) -> (&'a [u8], u16) {
        (
            &self.node[self.sig_at()..self.end()],
            u16_at(self.node, self.h + 2),
        )
    }

    /// Whether members' own TTLs are kept beside the set (only when one differs).
    #[cfg(test)]
    pub(crate) fn has_own_ttls(&self) -> bool {
        u32_at(self.node, self.h + 24) != 0
    }

    /// The members as an editable list.
    fn to_rrs(self) -> Vec<(Bytes, u32)> {
        self.members()
            .map(|(rd, ttl)| (Bytes::copy_from_slice(rd), ttl))
            .collect()
    }
}

impl std::fmt::Debug for RrSet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RrSet")
            .field("rtype", &self.rtype())
            .field("ttl", &self.ttl())
            .field("len", &self.len())
            .field("sigs", &self.sig_wire().1)
            .finish()
    }
}

/// An RRset being put together, before it joins a node.
pub(crate) struct SetBuf {
    rtype: u16,
    sig_count: u16,
    ttl: u32,
    len: u32,
    /// Member bodies, then RRSIG bodies from `sig_at`.
    data: Vec<u8>,
    sig_at: usize,
    ttls: Option<Vec<u32>>,
}

impl SetBuf {
    /// A set of the given members (RDATA and TTL), in order, without RRSIGs.
    pub(crate) fn from_members<'a>(
        rtype: u16,
        members: impl Iterator<Item = (&'a [u8], u32)> + Clone,
    ) -> Self {
        let ttl = members.clone().map(|(_, t)| t).min().unwrap_or(0);
        let ttls = members
            .clone()
            .any(|(_, t)| t != ttl)
            .then(|| members.clone().map(|(_, t)| t).collect());
        let mut data = Vec::with_capacity(members.clone().map(|(rd, _)| 10 + rd.len()).sum());
        render(&mut data, rtype, ttl, members.clone().map(|(rd, _)| rd));
        SetBuf {
            rtype,
            sig_count: 0,
            ttl,
            len: members.count() as u32,
            sig_at: data.len(),
            data,
            ttls,
        }
    }

    pub(crate) fn rtype(&self) -> u16 {
        self.rtype
    }

    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    fn rdatas(&self) -> impl Iterator<Item = &[u8]> + Clone {
        bodies(&self.data[..self.sig_at]).map(|e| &e[10..])
    }

    /// Bytes the set takes in a node, before RRSIGs are attached: header, bodies, own TTLs.
    pub(crate) fn size(&self) -> usize {
        SET + self.data.len() + self.ttls.as_ref().map_or(0, |t| 4 * t.len())
    }
}

/// The RR bodies in a run of concatenated ones.
pub(crate) fn bodies(w: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let rdlen = u16::from_be_bytes([*w.get(pos + 8)?, *w.get(pos + 9)?]) as usize;
        let end = pos + 10 + rdlen;
        let e = w.get(pos..end)?;
        pos = end;
        Some(e)
    })
}

fn render<'a>(w: &mut Vec<u8>, rtype: u16, ttl: u32, rdatas: impl Iterator<Item = &'a [u8]>) {
    for rd in rdatas {
        w.extend_from_slice(&rtype.to_be_bytes());
        w.extend_from_slice(&CLASS_IN.to_be_bytes());
        w.extend_from_slice(&ttl.to_be_bytes());
        w.extend_from_slice(&(rd.len() as u16).to_be_bytes());
        w.extend_from_slice(rd);
    }
}

thread_local! {
    /// Where a node is laid out before it is copied into its one allocation.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// All RRsets at one owner name, read in place: in a node of its own ([`Node`]) or in the
/// frozen base of a version, where every node lies in one buffer (`nodes.rs`). A node without
/// RRsets is an empty non-terminal.
#[derive(Clone, Copy)]
pub struct NodeRef<'a>(&'a [u8]);

impl<'a> NodeRef<'a> {
    /// A node's bytes, as [`write`] laid them out.
    pub(crate) fn from_bytes(bytes: &'a [u8]) -> Self {
        debug_assert!(bytes.len() >= HEAD);
        NodeRef(bytes)
    }
    pub(crate) fn bytes(self) -> &'a [u8] {
        self.0
    }
    pub fn rrset(self, rtype: u16) -> Option<RrSet<'a>> {
        self.rrsets().find(|s| s.rtype() == rtype)
    }
    /// The RRsets, by type.
    pub fn rrsets(self) -> impl ExactSizeIterator<Item = RrSet<'a>> + Clone {
        let node = self.0;
        (0..u16_at(node, 4) as usize).map(move |i| RrSet {
            node,
            h: HEAD + SET * i,
        })
    }
    /// True for an empty non-terminal (or a node about to be removed).
    pub fn is_empty(self) -> bool {
        u16_at(self.0, 4) == 0
    }
    pub fn has_children(self) -> bool {
        self.children() > 0
    }
    /// Number of nodes one label below this one.
    pub fn children(self) -> u32 {
        u32_at(self.0, 0)
    }
    /// Whether two views read the same bytes (a node carried unchanged into the next version).
    pub fn same_as(self, other: NodeRef<'_>) -> bool {
        std::ptr::eq(self.0, other.0)
    }

    /// This node with another child count, as a node of its own.
    pub(crate) fn with_children(self, children: u32) -> Node {
        let mut bytes = self.0.to_vec();
        bytes[..4].copy_from_slice(&children.to_le_bytes());
        Node(Arc::from(bytes))
    }

    pub(crate) fn to_rrs(self) -> BTreeMap<u16, Vec<(Bytes, u32)>> {
        self.rrsets().map(|s| (s.rtype(), s.to_rrs())).collect()
    }

    /// The number of children, told apart in tests of the node map.
    #[cfg(test)]
    pub(crate) fn children_count(self) -> u32 {
        self.children()
    }
}

impl std::fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("children", &self.children())
            .field("rrsets", &self.rrsets().collect::<Vec<_>>())
            .finish()
    }
}

/// A node in an allocation of its own: one that changed since its version's base was built.
/// Cloning it shares the bytes.
#[derive(Clone)]
pub(crate) struct Node(Arc<[u8]>);

impl Node {
    pub(crate) fn view(&self) -> NodeRef<'_> {
        NodeRef(&self.0)
    }

    /// Builds the node at `owner` from its RRs, grouping by type and attaching RRSIGs to what
    /// they cover; refused past [`MAX_NODE_BYTES`].
    pub(crate) fn from_rrs(
        owner: &crate::Name,
        rrs: &BTreeMap<u16, Vec<(Bytes, u32)>>,
        children: u32,
    ) -> Result<Node, ZoneError> {
        let sets: Vec<SetBuf> = rrs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(t, v)| SetBuf::from_members(*t, v.iter().map(|(rd, ttl)| (rd.as_ref(), *ttl))))
            .collect();
        check_sets(owner, &sets)?;
        Ok(Node::new(sets, children))
    }

    /// A node of RRsets sorted by type (see [`write`]).
    pub(crate) fn new(sets: Vec<SetBuf>, children: u32) -> Node {
        SCRATCH.with(|scratch| {
            let mut b = scratch.borrow_mut();
            b.clear();
            write(sets, children, &mut b);
            let node = Node(Arc::from(&b[..]));
            // A node as large as a zone's biggest RRset is not kept in every thread for good.
            if b.capacity() > 1 << 16 {
                *b = Vec::new();
            }
            node
        })
    }

    /// An empty node told apart by its child count (for tests of the node map).
    #[cfg(test)]
    pub(crate) fn empty_with_children(children: u32) -> Node {
        Node::new(Vec::new(), children)
    }
}

/// Appends a node of RRsets sorted by type, each without RRSIGs yet, to `out`: the bodies of
/// the RRSIGs at the node are attached to the set of the type each covers (RFC 4035 §3.1.1),
/// and keep their own set too. Offsets in the node are from its first byte.
pub(crate) fn write(mut sets: Vec<SetBuf>, children: u32, out: &mut Vec<u8>) {
    debug_assert!(sets.windows(2).all(|w| w[0].rtype < w[1].rtype));
    if let Ok(at) = sets.binary_search_by_key(&rtype::RRSIG, |s| s.rtype) {
        let sigs: Vec<Vec<u8>> = sets[at].rdatas().map(<[u8]>::to_vec).collect();
        // The lowest TTL of the RRSIGs, as for any set (RFC 2181 §5.2).
        let sig_ttl = sets[at].ttl;
        for set in sets.iter_mut().filter(|s| s.rtype != rtype::RRSIG) {
            let t = set.rtype;
            let covering = sigs
                .iter()
                .map(Vec::as_slice)
                .filter(move |rd| rd.len() >= 2 && u16::from_be_bytes([rd[0], rd[1]]) == t);
            let count = covering.clone().count();
            if count > 0 {
                render(&mut set.data, rtype::RRSIG, sig_ttl, covering);
                set.sig_count = count as u16;
            }
        }
    }
    let base = out.len();
    out.extend_from_slice(&children.to_le_bytes());
    out.extend_from_slice(&(sets.len() as u16).to_le_bytes());
    out.resize(base + HEAD + SET * sets.len(), 0);
    for (i, s) in sets.iter().enumerate() {
        let start = out.len() - base;
        out.extend_from_slice(&s.data);
        let end = out.len() - base;
        let ttls = match &s.ttls {
            Some(ttls) => {
                let at = out.len() - base;
                for t in ttls {
                    out.extend_from_slice(&t.to_le_bytes());
                }
                at
            }
            None => 0,
        };
        let h = base + HEAD + SET * i;
        let mut put = |at: usize, v: &[u8]| out[h + at..h + at + v.len()].copy_from_slice(v);
        put(0, &s.rtype.to_le_bytes());
        put(2, &s.sig_count.to_le_bytes());
        put(4, &s.ttl.to_le_bytes());
        put(8, &s.len.to_le_bytes());
        put(12, &(start as u32).to_le_bytes());
        put(16, &((start + s.sig_at) as u32).to_le_bytes());
        put(20, &(end as u32).to_le_bytes());
        put(24, &(ttls as u32).to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_reads_back_what_it_was_built_from() {
        let a = |i: u8| (Bytes::from(vec![192, 0, 2, i]), 300);
        let mut rrs: BTreeMap<u16, Vec<(Bytes, u32)>> = BTreeMap::new();
        rrs.insert(
            rtype::A,
            vec![a(1), (Bytes::from(vec![192, 0, 2, 2]), 60), a(3)],
        );
        rrs.insert(rtype::TXT, vec![(Bytes::from_static(b"\x02hi"), 120)]);
        // An RRSIG covering A (type covered first in its RDATA), and one covering MX (none).
        let sig = |covered: u16| {
            let mut rd = covered.to_be_bytes().to_vec();
            rd.extend_from_slice(&[8, 2, 0, 0, 1, 44]);
            (Bytes::from(rd), 90)
        };
        rrs.insert(rtype::RRSIG, vec![sig(rtype::A), sig(rtype::MX)]);
        let owned = Node::from_rrs(&crate::Name::root(), &rrs, 7).unwrap();
        let node = owned.view();
        assert_eq!(node.children(), 7);
        assert_eq!(node.rrsets().len(), 3);
        assert_eq!(node.to_rrs(), rrs, "members, order and own TTLs kept");
        let set = node.rrset(rtype::A).unwrap();
        assert_eq!(
            (set.len(), set.ttl()),
            (3, 60),
            "the set's TTL is its lowest"
        );
        assert_eq!(set.wire().len(), 3 * 14);
        assert_eq!(&set.wire()[..10], &[0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        let (sigs, n) = set.sig_wire();
        assert_eq!((sigs.len(), n), (18, 1), "the RRSIG covering A only");
        assert_eq!(node.rrset(rtype::TXT).unwrap().sig_wire().1, 0);
        assert!(node.rrset(rtype::MX).is_none());
        assert!(check_size(&crate::Name::root(), MAX_NODE_BYTES).is_ok());
        let too_large = check_size(&crate::Name::root(), MAX_NODE_BYTES + 1).unwrap_err();
        assert!(
            too_large.to_string().contains("at most 1073741824"),
            "{too_large}"
        );
        let moved = node.with_children(2);
        let moved = moved.view();
        assert_eq!((moved.children(), node.children()), (2, 7));
        assert_eq!(moved.to_rrs(), rrs);
        let empty = Node::new(Vec::new(), 0);
        let empty = empty.view();
        assert!(empty.is_empty() && !empty.has_children());
        assert_eq!(empty.rrsets().len(), 0);
    }
}
