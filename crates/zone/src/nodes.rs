//! The map from owner name to node that a zone version holds.
//!
//! A frozen **base** keeps every owner name and node in DNS canonical order (RFC 4034 §6.1) in
//! one buffer, with an array of entry offsets and an open-addressing hash index of `u32` slots
//! for exact lookups; a persistent **overlay**
//! holds what changed since the base was built (a new node, or `None` for one removed).
//! Cloning a map is O(1): the base is shared and the overlay is a persistent hash trie, so a
//! change of k nodes costs O(k log n) and leaves the previous version untouched for the
//! queries still reading it. When the overlay has grown past a share of the base, the writer
//! merges both into a new base in one pass ([`NodeMap::finish_change`]); queries keep
//! reading the previous version meanwhile, so this never happens on the query path.
//!
//! Iteration is in canonical order, which is the order of an outgoing AXFR and what NSEC
//! chains will need.

use crate::name::{canonical_cmp, Name};
use crate::node::{Node, NodeRef, SetBuf};
use std::cmp::Ordering;
use std::hash::BuildHasher;
use std::sync::Arc;

type Overlay = imbl::GenericHashMap<
    Name,
    Option<Node>,
    foldhash::fast::RandomState,
    imbl::shared_ptr::DefaultSharedPtr,
>;

/// The overlay is merged once it holds more than this many names, or an eighth of the base.
const OVERLAY_MIN: usize = 4096;

/// Every node of a base in one buffer, in canonical order of the owners: no allocation per
/// name or node, so a large zone costs its bytes and two small index arrays.
#[derive(Default)]
struct Base {
    /// Per entry: the owner's length (one octet, RFC 1035 §2.3.4 caps it at 255), its lowercase
    /// wire form, then the node's bytes (`node.rs`).
    blob: Box<[u8]>,
    /// Where each entry starts in `blob`, then `blob.len()`.
    at: Box<[usize]>,
    /// Index + 1 of the entry whose owner hashes to each slot (linear probing), 0 when free;
    /// a power of two at least twice the number of entries.
    slots: Box<[u32]>,
    hasher: foldhash::fast::RandomState,
}

impl Base {
    fn len(&self) -> usize {
        self.at.len().saturating_sub(1)
    }

    /// Entry `i`: its owner's wire form and its node.
    fn entry(&self, i: usize) -> (&[u8], NodeRef<'_>) {
        let (start, end) = (self.at[i], self.at[i + 1]);
        let owner_end = start + 1 + self.blob[start] as usize;
        (
            &self.blob[start + 1..owner_end],
            NodeRef::from_bytes(&self.blob[owner_end..end]),
        )
    }

    fn get(&self, name: &[u8]) -> Option<NodeRef<'_>> {
        if self.len() == 0 {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = self.hasher.hash_one(name) as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return None;
            }
            let (owner, node) = self.entry(slot as usize - 1);
            if owner == name {
                return Some(node);
            }
            at = (at + 1) & mask;
        }
    }
}

/// A base being written, entry by entry in canonical order.
pub(crate) struct BaseBuilder {
    blob: Vec<u8>,
    at: Vec<usize>,
}

impl BaseBuilder {
    /// Room for `entries` entries of about `bytes` bytes in all.
    pub(crate) fn with_capacity(entries: usize, bytes: usize) -> Self {
        BaseBuilder {
            blob: Vec::with_capacity(bytes),
            at: Vec::with_capacity(entries + 1),
        }
    }

    /// The octets written so far.
    pub(crate) fn bytes(&self) -> usize {
        self.blob.len()
    }

    fn owner(&mut self, owner: &[u8]) {
        self.at.push(self.blob.len());
        self.blob.push(owner.len() as u8);
        self.blob.extend_from_slice(owner);
    }

    /// Adds a copy of a node laid out elsewhere.
    pub(crate) fn push(&mut self, owner: &[u8], node: NodeRef<'_>) {
        self.owner(owner);
        self.blob.extend_from_slice(node.bytes());
    }

    /// Adds a node of RRsets sorted by type ([`crate::node::write`]).
    pub(crate) fn push_new(&mut self, owner: &[u8], sets: Vec<SetBuf>, children: u32) {
        self.owner(owner);
        crate::node::write(sets, children, &mut self.blob);
    }

    /// Indexes the entries.
    fn finish(mut self) -> Base {
        self.at.push(self.blob.len());
        let mut base = Base {
            blob: self.blob.into_boxed_slice(),
            at: self.at.into_boxed_slice(),
            slots: Box::default(),
            hasher: foldhash::fast::RandomState::default(),
        };
        debug_assert!((1..base.len())
            .all(|i| canonical_cmp(base.entry(i - 1).0, base.entry(i).0) == Ordering::Less));
        let size = (base.len() * 2).next_power_of_two().max(8);
        let mut slots = vec![0u32; size].into_boxed_slice();
        let mask = size - 1;
        for i in 0..base.len() {
            let mut at = base.hasher.hash_one(base.entry(i).0) as usize & mask;
            while slots[at] != 0 {
                at = (at + 1) & mask;
            }
            slots[at] = i as u32 + 1;
        }
        base.slots = slots;
        base
    }
}

type Staged = std::collections::HashMap<Name, Option<Node>, foldhash::fast::RandomState>;

/// Owner name → node, for one zone version. See the module documentation.
#[derive(Clone, Default)]
pub(crate) struct NodeMap {
    base: Arc<Base>,
    overlay: Overlay,
    /// Changes of the version being built, moved into the overlay (or merged into a new base)
    /// by [`NodeMap::finish_change`]; always empty in a published version.
    staged: Staged,
    len: usize,
}

impl NodeMap {
    /// Number of nodes.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// A map of the entries written, in canonical order, each name once.
    pub(crate) fn from_base(base: BaseBuilder) -> NodeMap {
        let base = base.finish();
        NodeMap {
            len: base.len(),
            base: Arc::new(base),
            overlay: Overlay::default(),
            staged: Staged::default(),
        }
    }

    /// The node of a lowercase wire-form name.
    pub(crate) fn get(&self, name: &[u8]) -> Option<NodeRef<'_>> {
        if !self.staged.is_empty() {
            if let Some(changed) = self.staged.get(name) {
                return changed.as_ref().map(Node::view);
            }
        }
        if !self.overlay.is_empty() {
            if let Some(changed) = self.overlay.get(name) {
                return changed.as_ref().map(Node::view);
            }
        }
        self.base.get(name)
    }

    pub(crate) fn insert(&mut self, name: Name, node: Node) {
        if self.get(name.as_wire()).is_none() {
            self.len += 1;
        }
        self.staged.insert(name, Some(node));
    }

    pub(crate) fn remove(&mut self, name: &Name) {
        if self.get(name.as_wire()).is_none() {
            return;
        }
        self.len -= 1;
        self.staged.insert(name.clone(), None);
    }

    /// Every node with its owner, in canonical order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], NodeRef<'_>)> {
        debug_assert!(self.staged.is_empty(), "iterating a version being built");
        let mut changed: Vec<Changed<'_>> = self.overlay.iter().collect();
        sort_canonical(&mut changed, |(name, _)| name);
        Walk::new(&self.base, changed).filter_map(|step| match step {
            Step::Base(entry) => Some(entry),
            Step::Changed((name, node)) => node.as_ref().map(|node| (name.as_wire(), node.view())),
        })
    }

    /// Ends a change: its nodes join the overlay, or, when the overlay would hold more than
    /// [`OVERLAY_MIN`] names or an eighth of the base, everything is merged into a new base in
    /// one pass over the zone (spread over that many changes; a whole-zone load is one).
    pub(crate) fn finish_change(&mut self, allow_merge: bool) {
        let limit = OVERLAY_MIN.max(self.base.len() / 8);
        if allow_merge && self.overlay.len() + self.staged.len() > limit {
            self.merge();
            return;
        }
        for (name, node) in std::mem::take(&mut self.staged) {
            if node.is_none() && self.base.get(name.as_wire()).is_none() {
                self.overlay.remove(&name);
            } else {
                self.overlay.insert(name, node);
            }
        }
    }

    /// Merges the overlay and the staged changes into a new base.
    pub(crate) fn merge(&mut self) {
        let staged = std::mem::take(&mut self.staged);
        if self.overlay.is_empty() && staged.is_empty() {
            return;
        }
        // The changes are only read: every entry is copied into the new buffer (the old base
        // stays shared with earlier versions), and the changed nodes' own allocations go with
        // the overlay and the staged map.
        let mut changed: Vec<Changed<'_>> = self
            .overlay
            .iter()
            .filter(|(name, _)| !staged.contains_key(name.as_wire()))
            .chain(staged.iter())
            .collect();
        sort_canonical(&mut changed, |(name, _)| name);
        let bytes: usize = self.base.blob.len()
            + changed
                .iter()
                .filter_map(|(name, node)| {
                    Some(1 + name.as_wire().len() + node.as_ref()?.view().bytes().len())
                })
                .sum::<usize>();
        let mut base = BaseBuilder::with_capacity(self.len, bytes);
        for step in Walk::new(&self.base, changed) {
            match step {
                Step::Base((name, node)) => base.push(name, node),
                Step::Changed((name, Some(node))) => base.push(name.as_wire(), node.view()),
                Step::Changed((_, None)) => {}
            }
        }
        let base = base.finish();
        debug_assert_eq!(base.len(), self.len);
        self.base = Arc::new(base);
        self.overlay = Overlay::default();
    }

    /// Names in the overlay (for tests of the merging).
    #[cfg(test)]
    pub(crate) fn overlay_len(&self) -> usize {
        self.overlay.len()
    }
}

/// Sorts `items` by the canonical order of their names, computing each name's sort key once
/// into one shared buffer.
pub(crate) fn sort_canonical<T>(items: &mut Vec<T>, name: impl Fn(&T) -> &Name) {
    if items.len() < 2 {
        return;
    }
    let mut keys = Vec::new();
    let mut spans = Vec::with_capacity(items.len());
    for item in items.iter() {
        let start = keys.len();
        crate::name::canonical_key_into(name(item).as_wire(), &mut keys);
        spans.push((start, keys.len()));
    }
    let mut order: Vec<u32> = (0..items.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (spans[a as usize], spans[b as usize]);
        keys[a.0..a.1].cmp(&keys[b.0..b.1])
    });
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(
        order
            .into_iter()
            .map(|i| slots[i as usize].take().expect("each once")),
    );
}

/// A change to the base: a name and its new node, `None` for a removed one.
type Changed<'a> = (&'a Name, &'a Option<Node>);

/// One step of a [`Walk`]: an entry of the base that no change touches, or a change.
enum Step<'a> {
    Base((&'a [u8], NodeRef<'a>)),
    Changed(Changed<'a>),
}

/// The base and a list of changes sorted the same way, walked together in canonical order; a
/// change takes the place of the base's entry of the same name. Both iteration and merging read
/// the map through it.
struct Walk<'a> {
    base: &'a Base,
    b: usize,
    changed: std::iter::Peekable<std::vec::IntoIter<Changed<'a>>>,
}

impl<'a> Walk<'a> {
    fn new(base: &'a Base, changed: Vec<Changed<'a>>) -> Self {
        Walk {
            base,
            b: 0,
            changed: changed.into_iter().peekable(),
        }
    }
}

impl<'a> Iterator for Walk<'a> {
    type Item = Step<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let base = (self.b < self.base.len()).then(|| self.base.entry(self.b));
        let order = match (base, self.changed.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((b, _)), Some((c, _))) => canonical_cmp(b, c.as_wire()),
        };
        if order != Ordering::Greater {
            self.b += 1;
        }
        if let (Ordering::Less, Some(entry)) = (order, base) {
            return Some(Step::Base(entry));
        }
        self.changed.next().map(Step::Changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// What the map should hold: by order key, the name and the tag of its node.
    type Model = BTreeMap<Vec<Vec<u8>>, (Name, u32)>;

    /// The order by its definition (RFC 4034 §6.1).
    fn order_key(name: &Name) -> Vec<Vec<u8>> {
        crate::name::canonical_labels(name.as_wire())
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Names below `example.` over a small alphabet with the awkward octets (0, 1, 255), so
    /// that prefixes, shared suffixes and escapes all occur.
    fn pool(rng: &mut Rng, count: usize) -> Vec<Name> {
        let alphabet = [0u8, 1, b'-', b'a', b'b', b'z', 255];
        let mut names = vec![Name::parse("example").unwrap()];
        while names.len() < count {
            let mut wire = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let len = 1 + rng.below(3) as usize;
                wire.push(len as u8);
                for _ in 0..len {
                    wire.push(alphabet[rng.below(alphabet.len() as u64) as usize]);
                }
            }
            wire.extend_from_slice(b"\x07example\x00");
            let n = Name::from_wire(&wire).unwrap();
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names
    }

    fn node(tag: u32) -> Node {
        Node::empty_with_children(tag)
    }

    #[test]
    fn base_and_overlay_agree_with_a_plain_map_through_edits_and_merges() {
        for seed in 1..=60u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let count = 40 + rng.below(200) as usize;
            let names = pool(&mut rng, count);
            let mut map = NodeMap::default();
            let mut model: Model = BTreeMap::new();
            let mut versions: Vec<(NodeMap, Model)> = Vec::new();
            for step in 0..400u32 {
                let name = &names[rng.below(names.len() as u64) as usize];
                match rng.below(12) {
                    0..=5 => {
                        map.insert(name.clone(), node(step));
                        model.insert(order_key(name), (name.clone(), step));
                    }
                    6..=7 => {
                        map.remove(name);
                        model.remove(&order_key(name));
                    }
                    8 => map.finish_change(false),
                    9 => {
                        map.finish_change(false);
                        map.merge();
                    }
                    10 => {
                        map.merge();
                    }
                    _ => {
                        map.finish_change(false);
                        versions.push((map.clone(), model.clone()));
                    }
                }
                // Lookups see staged changes at once; iteration only after they are finished.
                check_lookups(&map, &model, &names, seed, step);
                if map.staged.is_empty() {
                    check_order(&map, &model, seed, step);
                }
            }
            // Versions taken along the way were not changed by later edits or merges.
            for (i, (old, old_model)) in versions.iter().enumerate() {
                check_lookups(old, old_model, &names, seed, 1000 + i as u32);
                check_order(old, old_model, seed, 1000 + i as u32);
            }
        }
    }

    fn check_lookups(map: &NodeMap, model: &Model, names: &[Name], seed: u64, step: u32) {
        assert_eq!(map.len(), model.len(), "seed {seed} step {step}: len");
        for n in names {
            let got = map.get(n.as_wire()).map(|node| node.children_count());
            let want = model.get(&order_key(n)).map(|(_, tag)| *tag);
            assert_eq!(got, want, "seed {seed} step {step}: lookup of {n}");
        }
    }

    fn check_order(map: &NodeMap, model: &Model, seed: u64, step: u32) {
        let order: Vec<(&[u8], u32)> = map
            .iter()
            .map(|(n, node)| (n, node.children_count()))
            .collect();
        let want: Vec<(&[u8], u32)> = model.values().map(|(n, t)| (n.as_wire(), *t)).collect();
        assert_eq!(order, want, "seed {seed} step {step}: iteration order");
    }

    #[test]
    fn the_overlay_is_merged_once_it_outgrows_its_share() {
        let mut map = NodeMap::default();
        for i in 0..OVERLAY_MIN as u32 {
            map.insert(Name::parse(&format!("h{i}.example")).unwrap(), node(i));
            map.finish_change(true);
        }
        assert_eq!(
            map.overlay_len(),
            OVERLAY_MIN,
            "small changes stay in the overlay"
        );
        map.insert(Name::parse("one.example").unwrap(), node(0));
        map.finish_change(true);
        assert_eq!(map.overlay_len(), 0, "merged past OVERLAY_MIN");
        assert_eq!(map.len(), OVERLAY_MIN + 1);
        map.insert(Name::parse("two.example").unwrap(), node(0));
        map.finish_change(true);
        assert_eq!(map.overlay_len(), 1, "a small change stays in the overlay");
        // A change bigger than the share is merged at once, without passing the overlay.
        for i in 0..OVERLAY_MIN as u32 + 1 {
            map.insert(Name::parse(&format!("big{i}.example")).unwrap(), node(i));
        }
        map.finish_change(true);
        assert_eq!(map.overlay_len(), 0);
        assert_eq!(map.len(), 2 * OVERLAY_MIN + 3);
        let h7 = Name::parse("h7.example").unwrap();
        assert_eq!(map.get(h7.as_wire()).map(|n| n.children_count()), Some(7));
    }
}
