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
