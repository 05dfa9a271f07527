//! The newest changes that led to a zone version, kept with it so that IXFR over UDP (RFC 1995
//! §2) is answered from memory, on the worker that received it, with no store read.
//!
//! Only as much history is kept as an answer in one datagram can hold: each RR of an answer
//! takes at least 11 octets (a one-octet or pointer owner and the 10 octets of TYPE, CLASS,
//! TTL and RDLENGTH), so a chain of more than [`RECENT_RECORDS`] records never fits in 65,535
//! octets. A client further behind gets the single SOA from UDP, and IXFR over TCP reads the
//! journal. The history travels with the version it ends at, so the two always agree: a
//! version built whole (a load, an AXFR in) has none.

use crate::diff::ZoneDiff;
use std::sync::Arc;

/// The most records (both sides of each difference, SOAs included) kept in a version's history.
pub const RECENT_RECORDS: usize = 65_535 / 11;

/// A chain of differences, oldest first, each starting at the serial the one before ends at,
/// the last ending at the serial of the version holding it.
#[derive(Clone, Default)]
pub struct Recent {
    diffs: Arc<[Arc<ZoneDiff>]>,
}

impl Recent {
    /// This history followed by `newer` (oldest first), keeping the newest differences whose
    /// records together stay within [`RECENT_RECORDS`]. A difference that does not start where
    /// the one before it ends (or has no SOA to tell) drops everything before it.
    pub(crate) fn then(&self, newer: &[&ZoneDiff]) -> Recent {
        // The newest that fit and chain, walking back from the end: `newer[start..]`, then
        // `self.diffs[from..]`.
        let mut records = 0;
        let mut start = newer.len();
        while start > 0 {
            let d = newer[start - 1];
            if records + d.len() > RECENT_RECORDS || !chains(d, newer.get(start).copied()) {
                return Recent::from_newest(&[], &newer[start..]);
            }
            records += d.len();
            start -= 1;
        }
        let mut from = self.diffs.len();
        while from > 0 {
            let d = &self.diffs[from - 1];
            let next = self
                .diffs
                .get(from)
                .map(|d| &**d)
                .or(newer.first().copied());
            if records + d.len() > RECENT_RECORDS || !chains(d, next) {
                break;
            }
            records += d.len();
            from -= 1;
        }
        Recent::from_newest(&self.diffs[from..], newer)
    }

    fn from_newest(kept: &[Arc<ZoneDiff>], newer: &[&ZoneDiff]) -> Recent {
        if kept.is_empty() && newer.is_empty() {
            return Recent::default();
        }
        let diffs: Vec<Arc<ZoneDiff>> = kept
            .iter()
            .cloned()
            .chain(newer.iter().map(|d| Arc::new((*d).clone())))
            .collect();
        Recent {
            diffs: diffs.into(),
        }
    }

    /// The differences from `serial` up to the version, oldest first, when the history
    /// reaches back to it. The shortest such chain, should a serial have come round again.
    pub fn since(&self, serial: u32) -> Option<&[Arc<ZoneDiff>]> {
        let at = self
            .diffs
            .iter()
            .rposition(|d| d.from_serial() == Some(serial))?;
        Some(&self.diffs[at..])
    }

    /// Number of differences kept.
    pub fn len(&self) -> usize {
        self.diffs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.diffs.is_empty()
    }
}

/// Whether `next` (if any) starts at the serial `d` ends at.
fn chains(d: &ZoneDiff, next: Option<&ZoneDiff>) -> bool {
    let Some(to) = d.to_serial() else {
        return false;
    };
    match next {
        None => true,
        Some(n) => n.from_serial() == Some(to),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{rtype, Record, Soa};
    use crate::Name;

    fn soa(serial: u32) -> Record {
        let soa = Soa {
            mname: Name::parse("ns1.example.com").unwrap(),
            rname: Name::parse("hostmaster.example.com").unwrap(),
            serial,
            refresh: 7200,
            retry: 3600,
            expire: 1209600,
            minimum: 300,
        };
        Record::new(
            Name::parse("example.com").unwrap(),
            rtype::SOA,
            300,
            soa.to_rdata(),
        )
    }

    /// The change from `from` to `to` with `extra` more records on each side.
    fn diff(from: u32, to: u32, extra: usize) -> ZoneDiff {
        let a = |i: usize| {
            Record::new(
                Name::parse(&format!("h{i}.example.com")).unwrap(),
                rtype::A,
                300,
                (i as u32).to_be_bytes().to_vec(),
            )
        };
        ZoneDiff {
            removed: std::iter::once(soa(from))
                .chain((0..extra).map(a))
                .collect(),
            added: std::iter::once(soa(to)).chain((0..extra).map(a)).collect(),
        }
    }

    fn serials(r: &Recent) -> Vec<(u32, u32)> {
        r.diffs
            .iter()
            .map(|d| (d.from_serial().unwrap(), d.to_serial().unwrap()))
            .collect()
    }

    #[test]
    fn history_grows_by_each_change_and_answers_from_any_serial_in_it() {
        let mut r = Recent::default();
        for s in 1..=5 {
            r = r.then(&[&diff(s, s + 1, 0)]);
        }
        assert_eq!(serials(&r), [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]);
        assert_eq!(r.since(3).map(|d| d.len()), Some(3));
        assert_eq!(r.since(1).map(|d| d.len()), Some(5));
        assert!(
            r.since(6).is_none(),
            "the version's own serial has no change after it"
        );
        assert!(r.since(0).is_none(), "older than the history");
    }

    #[test]
    fn only_the_newest_records_that_fit_a_datagram_are_kept() {
        let big = RECENT_RECORDS / 2 - 1;
        let r = Recent::default()
            .then(&[&diff(1, 2, big / 2)])
            .then(&[&diff(2, 3, big / 2)])
            .then(&[&diff(3, 4, big / 2)]);
        assert_eq!(serials(&r), [(2, 3), (3, 4)]);
        // Many at once (an IXFR in): the newest that fit, the rest not even copied.
        let many: Vec<ZoneDiff> = (10..10_000).map(|s| diff(s, s + 1, 0)).collect();
        let refs: Vec<&ZoneDiff> = many.iter().collect();
        let r = r.then(&refs);
        assert_eq!(r.len(), RECENT_RECORDS / 2);
        assert_eq!(serials(&r).last(), Some(&(9999, 10_000)));
        // A change too big for any datagram leaves no history.
        let r = r.then(&[&diff(10_000, 10_001, RECENT_RECORDS)]);
        assert!(r.is_empty());
    }

    #[test]
    fn a_break_in_the_chain_drops_what_came_before_it() {
        let r = Recent::default()
            .then(&[&diff(1, 2, 0)])
            .then(&[&diff(7, 8, 0), &diff(8, 9, 0)]);
        assert_eq!(serials(&r), [(7, 8), (8, 9)]);
        let r = r.then(&[&diff(9, 10, 0), &diff(20, 21, 0)]);
        assert_eq!(serials(&r), [(20, 21)]);
        let no_soa = ZoneDiff::default();
        assert!(r.then(&[&no_soa]).is_empty());
    }
}
