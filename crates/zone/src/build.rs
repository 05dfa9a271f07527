//! Building a zone version from a complete set of records: a load at start, an AXFR in, a new
//! zone. One sort of the records by owner in canonical order (RFC 4034 §6.1), type and input
//! position, then one pass that makes each node with its RRsets, finds the empty non-terminals
//! (RFC 4592 §2.2.2) and counts each node's children, straight into the base of the node map:
//! no per-owner map, no overlay and no second sort, and each owner name moved, not copied.
//!
//! What it builds is what applying the whole zone as one change to an empty zone builds (the
//! tests below hold the two together); it is only cheaper.

use crate::diff::ZoneDiff;
use crate::name::{canonical_key_below, is_suffix, Name};
use crate::node::SetBuf;
use crate::nodes::{BaseBuilder, NodeMap};
use crate::record::{rtype, Record};
use crate::version::{check_added, check_cname, check_in_zone, ZoneError, ZoneVersion};
use std::collections::HashMap;

type Hasher = foldhash::fast::RandomState;

/// Up to this many copies of one type at one owner, duplicates are found by comparing each with
/// the kept ones; a larger set indexes its RDATA, so building it stays linear.
const SCAN_MAX: usize = 16;

/// One record's place in the sort: the first 8 octets of its owner's canonical key, the whole
/// key's span in the shared key buffer, its type and its input position (which keeps the
/// members of a set in the order given, and makes the order total).
struct SortKey {
    prefix: u64,
    start: u32,
    end: u32,
    rtype: u16,
    at: u32,
}

/// Builds the version of the zone at `apex` holding `records`, which it only reads: a
/// transfer's records are served from the version and stored from the list.
pub(crate) fn build(apex: Name, records: &[Record]) -> Result<ZoneVersion, ZoneError> {
    for r in records {
        check_added(r, &apex)?;
    }
    let (order, runs) = sorted(&apex, records);
    let rec = |k: usize| &records[order[k] as usize];
    let owner = |run: usize| &rec(runs[run] as usize).owner;
    let owners = runs.len() - 1;

    // The tree's shape first, from the owners alone; then each node is made and written
    // straight into the base, so no node outlives its own step.
    let (children, empty) = link(&apex, (0..owners).map(owner));
    let bound = base_bound(records)
        + empty
            .iter()
            .map(|(ent, _, _)| 1 + ent.as_wire().len() + crate::node::HEAD)
            .sum::<usize>();
    let mut empty = empty.into_iter().peekable();
    let mut base = BaseBuilder::with_capacity(owners + empty.len(), bound);
    let mut record_count = 0;
    let mut cuts = 0;
    let mut members: Vec<(&[u8], u32)> = Vec::new();
    for (run, children) in children.into_iter().enumerate() {
        let name = owner(run);
        let (i, end) = (runs[run] as usize, runs[run + 1] as usize);
        let types = (i..end)
            .filter(|&k| k == i || rec(k).rtype != rec(k - 1).rtype)
            .count();
        let mut sets = Vec::with_capacity(types);
        let mut k = i;
        while k < end {
            let t = rec(k).rtype;
            let l = run_end(k, end, |m| rec(m).rtype == t);
            members.clear();
            let run = (k..l).map(|m| (rec(m).rdata.as_ref(), rec(m).ttl));
            keep_once(&mut members, run, l - k);
            sets.push(SetBuf::from_members(t, members.iter().copied()));
            k = l;
        }
        check_cname(name, sets.iter().map(|s| (s.rtype(), s.len())))?;
        crate::node::check_sets(name, &sets)?;
        record_count += sets.iter().map(SetBuf::len).sum::<usize>();
        if *name != apex && sets.iter().any(|s| s.rtype() == rtype::NS) {
            cuts += 1;
        }
        // The empty non-terminals found above this owner come just before it.
        while let Some((ent, n, _)) = empty.next_if(|&(_, _, before)| before == run) {
            base.push_new(ent.as_wire(), Vec::new(), n);
        }
        base.push_new(name.as_wire(), sets, children);
    }
    debug_assert!(
        empty.next().is_none(),
        "every empty non-terminal lies above an owner"
    );
    debug_assert!(base.bytes() <= bound, "the base outgrew its bound");
    ZoneVersion::from_nodes(apex, NodeMap::from_base(base), record_count, cuts)
}

/// At least the octets the owners and nodes of these records take in the base (the empty
/// non-terminals come on top), so that it is allocated once: for each record an entry and node
/// header as if it had an owner of its own, a set header, its body, its own TTL and, for an
/// RRSIG, its body again beside the set it covers. Pages of the excess are never touched, and
/// the buffer is trimmed to its length when the base is finished.
fn base_bound(records: &[Record]) -> usize {
    records
        .iter()
        .map(|r| {
            let body = 10 + r.rdata.len();
            let sig = if r.rtype == rtype::RRSIG { body } else { 0 };
            1 + r.owner.as_wire().len() + crate::node::HEAD + crate::node::SET + body + 4 + sig
        })
        .sum()
}

/// A change touching fewer records than this is applied in place, whatever the zone's size.
const REBUILD_MIN: usize = 50_000;

/// Whether `diff` is better applied by building the next version whole ([`rebuild`]) than
/// node by node: when it touches more records than half the zone holds (an import into a new
/// zone, a replace-import of most of one).
pub(crate) fn worth_rebuilding(records: usize, diff: &ZoneDiff) -> bool {
    let touched = diff.removed.len() + diff.added.len();
    touched >= REBUILD_MIN && touched > records / 2
}

/// The version after `diff`, built whole from the records of `v` that `diff` keeps and those
/// it adds: what applying the change node by node gives (each removed record must exist, RFC
/// 1995 §4; an added record the zone has already keeps its place and takes the new TTL), in
/// one sort instead of a node map edited a million times.
pub(crate) fn rebuild(v: &ZoneVersion, diff: &ZoneDiff) -> Result<ZoneVersion, ZoneError> {
    let current: Vec<Record> = v.records().collect();
    let mut gone: HashMap<(&[u8], u16, &[u8]), u32, Hasher> =
        HashMap::with_capacity_and_hasher(diff.removed.len(), Hasher::default());
    for r in &diff.removed {
        check_in_zone(&r.owner, v.apex())?;
        *gone
            .entry((r.owner.as_wire(), r.rtype, r.rdata.as_ref()))
            .or_default() += 1;
    }
    let kept: Vec<bool> = current
        .iter()
        .map(
            |r| match gone.get_mut(&(r.owner.as_wire(), r.rtype, r.rdata.as_ref())) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            },
        )
        .collect();
    if let Some(r) = diff
        .removed
        .iter()
        .find(|r| gone[&(r.owner.as_wire(), r.rtype, r.rdata.as_ref())] > 0)
    {
        return Err(ZoneError::NoSuchRecord {
            rr: crate::text::record_to_line(r),
        });
    }
    drop(gone);
    let mut records = Vec::with_capacity(current.len() + diff.added.len());
    records.extend(
        current
            .into_iter()
            .zip(kept)
            .filter_map(|(r, k)| k.then_some(r)),
    );
    records.extend(diff.added.iter().cloned());
    build(v.apex().clone(), &records)
}

/// The first position from `start` (exclusive) up to `end` where `same` no longer holds.
fn run_end(start: usize, end: usize, same: impl Fn(usize) -> bool) -> usize {
    let mut k = start + 1;
    while k < end && same(k) {
        k += 1;
    }
    k
}

/// The records' positions sorted by owner in canonical order, then type, then position; and
/// where each owner's run of records starts in that order, with the end as the last entry.
/// Every owner lies at or below `apex`, so the keys leave the apex's labels out: they differ
/// from their first octet on, and most comparisons end at the first eight.
fn sorted(apex: &Name, records: &[Record]) -> (Vec<u32>, Vec<u32>) {
    let skip = apex.label_count();
    let mut buf = Vec::new();
    let mut keys: Vec<SortKey> = Vec::with_capacity(records.len());
    for (at, r) in records.iter().enumerate() {
        let start = buf.len();
        canonical_key_below(r.owner.as_wire(), skip, &mut buf);
        let mut prefix = [0u8; 8];
        let head = &buf[start..buf.len().min(start + 8)];
        prefix[..head.len()].copy_from_slice(head);
        keys.push(SortKey {
            // Zero-padded, so a key's prefix orders as the key does, up to ties.
            prefix: u64::from_be_bytes(prefix),
            start: start as u32,
            end: buf.len() as u32,
            rtype: r.rtype,
            at: at as u32,
        });
    }
    let key = |k: &SortKey| &buf[k.start as usize..k.end as usize];
    keys.sort_unstable_by(|a, b| {
        a.prefix
            .cmp(&b.prefix)
            .then_with(|| key(a).cmp(key(b)))
            .then(a.rtype.cmp(&b.rtype))
            .then(a.at.cmp(&b.at))
    });
    let mut runs = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if i == 0 || k.prefix != keys[i - 1].prefix || key(k) != key(&keys[i - 1]) {
            runs.push(i as u32);
        }
    }
    runs.push(keys.len() as u32);
    (keys.into_iter().map(|k| k.at).collect(), runs)
}

/// Appends the members of one RRset's run of `len` records, each RDATA once, in the order
/// first given, with the TTL last given (as adding them one by one to a set does).
fn keep_once<'a>(
    members: &mut Vec<(&'a [u8], u32)>,
    run: impl Iterator<Item = (&'a [u8], u32)>,
    len: usize,
) {
    if len <= SCAN_MAX {
        for (rd, ttl) in run {
            match members.iter_mut().find(|(kept, _)| *kept == rd) {
                Some(kept) => kept.1 = ttl,
                None => members.push((rd, ttl)),
            }
        }
        return;
    }
    let mut index: HashMap<&[u8], usize, Hasher> =
        HashMap::with_capacity_and_hasher(len, Hasher::default());
    for (rd, ttl) in run {
        match index.get(rd) {
            Some(&i) => members[i].1 = ttl,
            None => {
                index.insert(rd, members.len());
                members.push((rd, ttl));
            }
        }
    }
}

/// For owners in canonical order (all at or below `apex`, each once): how many nodes sit one
/// label below each, and the empty non-terminals that must exist between them and the apex
/// (RFC 4592 §2.2.2), in canonical order with their own counts and the owner each comes
/// just before (the first one below it).
///
/// In canonical order a name comes before everything below it, and everything below it comes
/// before the next name that is not (RFC 4034 §6.1), so one walk with the path from the apex
/// to the last name seen finds each name's parent: no lookup by name.
fn link<'a>(
    apex: &Name,
    owners: impl Iterator<Item = &'a Name>,
) -> (Vec<u32>, Vec<(Name, u32, usize)>) {
    enum Slot {
        /// The apex when it has no records of its own: counted for nothing.
        Above,
        Owner(usize),
        Empty(usize),
    }
    let mut children: Vec<u32> = Vec::new();
    let mut empty: Vec<(&[u8], u32, usize)> = Vec::new();
    let mut path: Vec<(&[u8], Slot)> = vec![(apex.as_wire(), Slot::Above)];
    let count =
        |slot: &Slot, children: &mut Vec<u32>, empty: &mut Vec<(&[u8], u32, usize)>| match *slot {
            Slot::Above => {}
            Slot::Owner(i) => children[i] += 1,
            Slot::Empty(i) => empty[i].1 += 1,
        };
    for (i, name) in owners.enumerate() {
        let wire = name.as_wire();
        children.push(0);
        if wire == apex.as_wire() {
            path[0].1 = Slot::Owner(i);
            continue;
        }
        // Back up to the nearest name on the path that `wire` lies below; the apex always is.
        while path.len() > 1 && !is_suffix(wire, path[path.len() - 1].0) {
            path.pop();
        }
        let above = path[path.len() - 1].0.len();
        // The names between it and `wire`, nearest the root first, are empty non-terminals.
        let between: Vec<usize> = crate::name::suffixes(wire)
            .filter(|&o| o > 0 && wire.len() - o > above)
            .collect();
        for &o in between.iter().rev() {
            let (_, parent) = &path[path.len() - 1];
            count(parent, &mut children, &mut empty);
            empty.push((&wire[o..], 0, i));
            path.push((&wire[o..], Slot::Empty(empty.len() - 1)));
        }
        let (_, parent) = &path[path.len() - 1];
        count(parent, &mut children, &mut empty);
        path.push((wire, Slot::Owner(i)));
    }
    let empty = empty
        .into_iter()
        .map(|(wire, n, before)| {
            let name = Name::from_wire(wire).expect("a suffix of a valid name");
            (name, n, before)
        })
        .collect();
    (children, empty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse_zonefile;

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
        }
    }

    /// Everything a version holds, node by node in its order: owner, children, and each set's
    /// type, TTL, members with their TTLs, and RRSIG bodies.
    fn shape(v: &ZoneVersion) -> Vec<String> {
        let mut out = vec![format!(
            "serial {} records {} delegations {} negative {}",
            v.serial(),
            v.record_count(),
            v.has_delegations(),
            v.negative_ttl()
        )];
        for (name, node) in v.nodes() {
            let name = crate::name::WireName(name);
            out.push(format!("{name} children {}", node.children_count()));
            for s in node.rrsets() {
                let members: Vec<_> = s.members().map(|(rd, t)| (rd.to_vec(), t)).collect();
                out.push(format!(
                    "  {} ttl {} {:?} sigs {:?}",
                    s.rtype(),
                    s.ttl(),
                    members,
                    s.sig_wire()
                ));
            }
        }
        out
    }

    fn zone_text(rng: &mut Rng) -> String {
        let labels = ["a", "b", "*", "x-1", "sub", "deep"];
        let mut text =
            String::from("@ 3600 SOA ns1 hostmaster 7 7200 3600 1209600 300\n@ NS ns1\n");
        for _ in 0..rng.below(60) {
            let owner: Vec<&str> = (0..rng.below(4))
                .map(|_| labels[rng.below(labels.len() as u64) as usize])
                .collect();
            let owner = if owner.is_empty() {
                "@".to_string()
            } else {
                owner.join(".")
            };
            let ttl = [300, 60, 3600][rng.below(3) as usize];
            let line = match rng.below(8) {
                0 | 1 => format!("{owner} {ttl} A 192.0.2.{}", rng.below(4)),
                2 => format!("{owner} {ttl} AAAA 2001:db8::{}", rng.below(3)),
                3 => format!("{owner} {ttl} TXT \"t{}\"", rng.below(3)),
                4 => format!("{owner} {ttl} NS ns{}.example.net.", rng.below(2)),
                5 => format!("{owner} {ttl} MX {} mx.example.net.", rng.below(3)),
                6 if rng.below(4) == 0 => format!("{owner} {ttl} CNAME c{}", rng.below(2)),
                6 => format!("{owner} {ttl} A 192.0.2.9"),
                _ => format!(
                    "{owner} {ttl} RRSIG {} 8 2 300 20300101000000 20200101000000 1 example.com. AAAA",
                    ["A", "TXT", "NS"][rng.below(3) as usize]
                ),
            };
            text.push_str(&line);
            text.push('\n');
        }
        text
    }

    fn records(text: &str) -> Vec<Record> {
        let apex = Name::parse("example.com").unwrap();
        parse_zonefile(text, &apex, 300)
            .unwrap()
            .into_iter()
            .map(|p| p.record)
            .collect()
    }

    #[test]
    fn builds_what_a_change_from_the_empty_zone_builds() {
        let apex = Name::parse("example.com").unwrap();
        let mut errors = 0;
        for seed in 1..=300u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let text = zone_text(&mut rng);
            let recs = records(&text);
            let built = ZoneVersion::build(apex.clone(), recs.clone());
            let changed = ZoneVersion::build_by_change(apex.clone(), recs);
            match (built, changed) {
                (Ok(b), Ok(c)) => {
                    assert_eq!(shape(&b), shape(&c), "seed {seed}:\n{text}");
                    for (n, _) in b.nodes() {
                        let shown = crate::name::WireName(n);
                        assert!(b.node(n).is_some(), "seed {seed}: lookup of {shown}");
                    }
                }
                // With several faults the two may name different ones first.
                (Err(_), Err(_)) => errors += 1,
                (b, c) => panic!("seed {seed}: {b:?} but by change {c:?}\n{text}"),
            }
        }
        assert!((30..270).contains(&errors), "{errors} of 300 zones refused");
    }

    #[test]
    fn a_change_rebuilt_whole_gives_what_the_change_node_by_node_gives() {
        let apex = Name::parse("example.com").unwrap();
        let mut refused = 0;
        for seed in 1..=300u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let Ok(v) = ZoneVersion::build(apex.clone(), records(&zone_text(&mut rng))) else {
                continue;
            };
            let now: Vec<Record> = v.records().skip(1).collect();
            let mut removed: Vec<Record> =
                now.iter().filter(|_| rng.below(3) == 0).cloned().collect();
            // Sometimes a record the zone does not have, or one removed twice.
            match rng.below(10) {
                0 => removed.push(Record::new(
                    Name::parse("nowhere.example.com").unwrap(),
                    rtype::A,
                    300,
                    vec![192, 0, 2, 1],
                )),
                1 if !removed.is_empty() => removed.push(removed[0].clone()),
                _ => {}
            }
            let mut added = records(&zone_text(&mut rng));
            added.retain(|r| r.rtype != rtype::SOA);
            // Some kept records again, with another TTL.
            added.extend(now.iter().filter(|_| rng.below(5) == 0).map(|r| {
                let mut r = r.clone();
                r.ttl += 1;
                r
            }));
            let mut soa = v.soa_record();
            removed.insert(0, soa.clone());
            soa.rdata = {
                let mut s = crate::record::Soa::from_rdata(&soa.rdata).unwrap();
                s.serial += 1;
                s.to_rdata()
            };
            added.insert(0, soa);
            let diff = ZoneDiff { removed, added };
            let whole = rebuild(&v, &diff);
            let by_node = v.apply_all(std::iter::once(&diff));
            match (whole, by_node) {
                (Ok(a), Ok(b)) => assert_eq!(shape(&a), shape(&b), "seed {seed}"),
                (Err(_), Err(_)) => refused += 1,
                (a, b) => panic!("seed {seed}: {a:?} but node by node {b:?}"),
            }
        }
        assert!(
            (10..250).contains(&refused),
            "{refused} of 300 changes refused"
        );
    }

    #[test]
    fn only_large_changes_are_rebuilt() {
        let diff = |n: usize| ZoneDiff {
            removed: Vec::new(),
            added: vec![Record::new(Name::parse("a.example").unwrap(), rtype::A, 1, vec![0; 4]); n],
        };
        assert!(
            !worth_rebuilding(0, &diff(10)),
            "a small zone's small change"
        );
        assert!(
            worth_rebuilding(3, &diff(REBUILD_MIN)),
            "an import into a new zone"
        );
        assert!(!worth_rebuilding(1_000_000, &diff(REBUILD_MIN)));
        assert!(worth_rebuilding(1_000_000, &diff(600_000)));
    }

    #[test]
    fn empty_non_terminals_are_made_and_counted() {
        let apex = Name::parse("example.com").unwrap();
        let v = ZoneVersion::build(
            apex.clone(),
            records(
                "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n\
                 a.b.c A 192.0.2.1\nd.b.c A 192.0.2.2\nc A 192.0.2.3\n",
            ),
        )
        .unwrap();
        let nodes: Vec<(String, bool, u32)> = v
            .nodes()
            .map(|(n, node)| {
                let n = crate::name::WireName(n).to_string();
                (n, node.is_empty(), node.children_count())
            })
            .collect();
        let want = [
            ("example.com.", false, 1),
            ("c.example.com.", false, 1),
            ("b.c.example.com.", true, 2),
            ("a.b.c.example.com.", false, 0),
            ("d.b.c.example.com.", false, 0),
        ];
        let want: Vec<(String, bool, u32)> = want
            .iter()
            .map(|(n, e, c)| (n.to_string(), *e, *c))
            .collect();
        assert_eq!(nodes, want);
    }

    #[test]
    fn a_large_rrset_keeps_each_rdata_once_with_its_last_ttl() {
        let apex = Name::parse("example.com").unwrap();
        let mut text = String::from("@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n");
        for i in 0..1000u32 {
            text.push_str(&format!("many 300 A 10.0.{}.{}\n", i / 256, i % 256));
        }
        text.push_str("many 60 A 10.0.0.5\n");
        let v = ZoneVersion::build(apex.clone(), records(&text)).unwrap();
        let set = v
            .node(Name::parse("many.example.com").unwrap().as_wire())
            .unwrap();
        let set = set.rrset(rtype::A).unwrap();
        assert_eq!(set.len(), 1000);
        assert_eq!(set.ttl(), 60);
        let fifth: Vec<_> = set.members().nth(5).into_iter().collect();
        assert_eq!(fifth, vec![(&[10u8, 0, 0, 5][..], 60)]);
        assert_eq!(v.record_count(), 1002);
    }

    #[test]
    fn the_first_bad_record_in_input_order_is_reported() {
        let apex = Name::parse("example.com").unwrap();
        let mut recs = records("@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n");
        recs.push(Record::new(
            Name::parse("z.example.org").unwrap(),
            rtype::A,
            1,
            vec![1, 2, 3, 4],
        ));
        recs.push(Record::new(
            Name::parse("a.example.com").unwrap(),
            rtype::A,
            1,
            vec![1],
        ));
        assert!(matches!(
            ZoneVersion::build(apex, recs),
            Err(ZoneError::OutOfZone { .. })
        ));
    }
}
