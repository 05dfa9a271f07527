//! The difference between two zone versions, in the shape IXFR uses (RFC 1995 §4): the records
//! deleted from the old version (its SOA first) and the records added in the new one (its SOA
//! first). The IXFR journal persists these.

use crate::record::{rtype, soa_serial, Record};
use std::collections::HashSet;

/// Records removed from and added to a zone by one change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZoneDiff {
    pub removed: Vec<Record>,
    pub added: Vec<Record>,
}

impl ZoneDiff {
    /// The difference that turns `old` into `new` (each a complete set of records).
    /// A record whose only change is its TTL appears on both sides.
    pub fn between(old: &[Record], new: &[Record]) -> ZoneDiff {
        let old_set: HashSet<&Record> = old.iter().collect();
        let new_set: HashSet<&Record> = new.iter().collect();
        let mut diff = ZoneDiff {
            removed: old
                .iter()
                .filter(|r| !new_set.contains(r))
                .cloned()
                .collect(),
            added: new
                .iter()
                .filter(|r| !old_set.contains(r))
                .cloned()
                .collect(),
        };
        diff.soa_first();
        diff
    }

    /// Serial of the version this diff starts from, when it removes an SOA.
    pub fn from_serial(&self) -> Option<u32> {
        self.removed
            .iter()
            .find(|r| r.rtype == rtype::SOA)
            .and_then(|r| soa_serial(&r.rdata))
    }

    /// Serial of the version this diff leads to, when it adds an SOA.
    pub fn to_serial(&self) -> Option<u32> {
        self.added
            .iter()
            .find(|r| r.rtype == rtype::SOA)
            .and_then(|r| soa_serial(&r.rdata))
    }

    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty()
    }

    /// Number of records on both sides.
    pub fn len(&self) -> usize {
        self.removed.len() + self.added.len()
    }

    /// Compact binary form for the IXFR journal: for each side a u32 count, then per record
    /// the owner (length octet + wire name), type, TTL, RDATA length and RDATA, big-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for side in [&self.removed, &self.added] {
            out.extend_from_slice(&(side.len() as u32).to_be_bytes());
            for r in side {
                let owner = r.owner.as_wire();
                out.push(owner.len() as u8);
                out.extend_from_slice(owner);
                out.extend_from_slice(&r.rtype.to_be_bytes());
                out.extend_from_slice(&r.ttl.to_be_bytes());
                out.extend_from_slice(&(r.rdata.len() as u16).to_be_bytes());
                out.extend_from_slice(&r.rdata);
            }
        }
        out
    }

    /// Reads [`ZoneDiff::to_bytes`] back; `None` when the bytes are not such a diff.
    pub fn from_bytes(b: &[u8]) -> Option<ZoneDiff> {
        let mut pos = 0usize;
        let mut take = |n: usize| -> Option<&[u8]> {
            let s = b.get(pos..pos + n)?;
            pos += n;
            Some(s)
        };
        let mut sides: [Vec<Record>; 2] = [Vec::new(), Vec::new()];
        for side in sides.iter_mut() {
            let count = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
            side.reserve(count.min(1 << 20));
            for _ in 0..count {
                let olen = take(1)?[0] as usize;
                let owner = crate::Name::from_wire(take(olen)?).ok()?;
                let rtype = u16::from_be_bytes(take(2)?.try_into().ok()?);
                let ttl = u32::from_be_bytes(take(4)?.try_into().ok()?);
                let rdlen = u16::from_be_bytes(take(2)?.try_into().ok()?) as usize;
                let rdata = bytes::Bytes::copy_from_slice(take(rdlen)?);
                side.push(Record::new(owner, rtype, ttl, rdata));
            }
        }
        if pos != b.len() {
            return None;
        }
        let [removed, added] = sides;
        Some(ZoneDiff { removed, added })
    }

    /// Puts the SOA at the front of each side, as RFC 1995 §4 lays a difference sequence out.
    pub fn soa_first(&mut self) {
        for side in [&mut self.removed, &mut self.added] {
            if let Some(i) = side.iter().position(|r| r.rtype == rtype::SOA) {
                let soa = side.remove(i);
                side.insert(0, soa);
            }
        }
    }
}

/// Why a run of differences cannot be condensed into one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CondenseError {
    #[error("no differences to condense")]
    Empty,
    #[error("a difference lacks its SOA records")]
    MissingSoa,
    #[error("differences do not chain: one ends at serial {ends} and the next starts at {starts}")]
    Gap { ends: u32, starts: u32 },
}

/// Condenses consecutive differences (each starting where the previous ended) into one
/// that leads from the first's old version straight to the last's new version, as an IXFR
/// answer may (RFC 1995 §5): an RR added and later deleted again appears in neither list.
/// RRs are compared with their TTL, so a TTL change stays a delete plus an add.
pub fn condense<'a>(
    diffs: impl IntoIterator<Item = &'a ZoneDiff>,
) -> Result<ZoneDiff, CondenseError> {
    let mut first_soa: Option<Record> = None;
    let mut last_soa: Option<Record> = None;
    let mut removed: Vec<Option<Record>> = Vec::new();
    let mut added: Vec<Option<Record>> = Vec::new();
    let mut removed_at: std::collections::HashMap<Record, usize> = Default::default();
    let mut added_at: std::collections::HashMap<Record, usize> = Default::default();
    for d in diffs {
        let (Some(from), Some(to)) = (d.from_serial(), d.to_serial()) else {
            return Err(CondenseError::MissingSoa);
        };
        if let Some(prev) = last_soa.as_ref().and_then(|s| soa_serial(&s.rdata)) {
            if prev != from {
                return Err(CondenseError::Gap {
                    ends: prev,
                    starts: from,
                });
            }
        }
        let _ = to;
        if first_soa.is_none() {
            first_soa = d.removed.iter().find(|r| r.rtype == rtype::SOA).cloned();
        }
        last_soa = d.added.iter().find(|r| r.rtype == rtype::SOA).cloned();
        for r in d.removed.iter().filter(|r| r.rtype != rtype::SOA) {
            match added_at.remove(r) {
                Some(i) => added[i] = None,
                None => {
                    removed_at.insert(r.clone(), removed.len());
                    removed.push(Some(r.clone()));
                }
            }
        }
        for r in d.added.iter().filter(|r| r.rtype != rtype::SOA) {
            match removed_at.remove(r) {
                Some(i) => removed[i] = None,
                None => {
                    added_at.insert(r.clone(), added.len());
                    added.push(Some(r.clone()));
                }
            }
        }
    }
    let (Some(first), Some(last)) = (first_soa, last_soa) else {
        return Err(CondenseError::Empty);
    };
    Ok(ZoneDiff {
        removed: std::iter::once(first)
            .chain(removed.into_iter().flatten())
            .collect(),
        added: std::iter::once(last)
            .chain(added.into_iter().flatten())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse_zonefile;
    use crate::Name;

    fn rec(line: &str) -> Record {
        let apex = Name::parse("example.com").unwrap();
        parse_zonefile(line, &apex, 300).unwrap().remove(0).record
    }
    fn soa(n: u32) -> Record {
        rec(&format!("@ SOA ns1 hostmaster {n} 7200 3600 1209600 300"))
    }
    fn diff(from: u32, to: u32, removed: &[&str], added: &[&str]) -> ZoneDiff {
        ZoneDiff {
            removed: std::iter::once(soa(from))
                .chain(removed.iter().map(|l| rec(l)))
                .collect(),
            added: std::iter::once(soa(to))
                .chain(added.iter().map(|l| rec(l)))
                .collect(),
        }
    }

    #[test]
    fn binary_form_round_trips() {
        let d = diff(
            1,
            2,
            &["a A 192.0.2.1"],
            &["b TXT \"x\"", "c TYPE65534 \\# 2 abcd"],
        );
        let b = d.to_bytes();
        assert_eq!(ZoneDiff::from_bytes(&b), Some(d));
        assert_eq!(ZoneDiff::from_bytes(&b[..b.len() - 1]), None);
    }

    #[test]
    fn added_then_removed_cancels() {
        let c = condense(&[
            diff(1, 2, &[], &["a A 192.0.2.1", "b A 192.0.2.2"]),
            diff(2, 3, &["a A 192.0.2.1", "x A 192.0.2.9"], &[]),
            diff(3, 4, &[], &["x A 192.0.2.9", "c 60 A 192.0.2.3"]),
        ])
        .unwrap();
        assert_eq!(c.from_serial(), Some(1));
        assert_eq!(c.to_serial(), Some(4));
        assert_eq!(c.removed, vec![soa(1)]);
        assert_eq!(
            c.added,
            vec![soa(4), rec("b A 192.0.2.2"), rec("c 60 A 192.0.2.3")]
        );
    }

    #[test]
    fn ttl_change_survives_and_gaps_fail() {
        let c = condense(&[diff(5, 6, &["a 300 A 192.0.2.1"], &["a 600 A 192.0.2.1"])]).unwrap();
        assert_eq!(c.removed.len(), 2);
        assert_eq!(c.added.len(), 2);
        assert_eq!(
            condense(&[diff(1, 2, &[], &[]), diff(3, 4, &[], &[])]),
            Err(CondenseError::Gap { ends: 2, starts: 3 })
        );
        assert_eq!(condense(&[]), Err(CondenseError::Empty));
    }
}
