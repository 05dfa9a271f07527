//! The set of zones this server answers for, shared between writers and the query path.
//!
//! Readers take no lock: the zone table and each zone's current version sit behind
//! `ArcSwap`s, so a lookup is a few atomic loads and hash probes. Writers (API edits, transfers)
//! build a new [`ZoneVersion`] beside the current one and [`ServedZone::publish`] it.

use crate::name::{suffixes, Name};
use crate::version::ZoneVersion;
use arc_swap::{ArcSwap, ArcSwapOption};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

type ZoneMap = imbl::GenericHashMap<
    Name,
    Arc<ServedZone>,
    foldhash::fast::RandomState,
    imbl::shared_ptr::DefaultSharedPtr,
>;

/// Whether a zone can be answered from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Serving {
    /// Answer from the current version.
    Active = 0,
    /// No data yet (a secondary before its first transfer): SERVFAIL.
    Pending = 1,
    /// Past the SOA expire timer (RFC 1034 §4.3.5): SERVFAIL until a transfer succeeds.
    Expired = 2,
}

/// One hosted zone: its apex, its current version and whether it may be answered from.
pub struct ServedZone {
    apex: Name,
    current: ArcSwapOption<ZoneVersion>,
    serving: AtomicU8,
}

impl ServedZone {
    pub fn apex(&self) -> &Name {
        &self.apex
    }

    /// The current version, if any.
    pub fn current(&self) -> Option<Arc<ZoneVersion>> {
        self.current.load_full()
    }

    /// Borrow the current version for the duration of one answer, without touching the
    /// reference count.
    pub fn with_current<R>(&self, f: impl FnOnce(Option<&ZoneVersion>) -> R) -> R {
        let guard = self.current.load();
        f(guard.as_deref())
    }

    /// Atomically replaces the served version and marks the zone active.
    pub fn publish(&self, version: Arc<ZoneVersion>) {
        self.current.store(Some(version));
        self.set_serving(Serving::Active);
    }

    /// Drops the recent history of the served version (IXFR over UDP then answers only the
    /// current SOA until new changes are made), as one atomic update: a version published
    /// meanwhile is kept, with its own history dropped, never replaced by an older one.
    pub fn forget_history(&self) {
        self.current.rcu(|cur| {
            cur.as_ref().map(|v| match v.has_history() {
                true => Arc::new(v.without_history()),
                false => v.clone(),
            })
        });
    }

    /// Puts back a version and serving state taken earlier (`current()` and `serving()`):
    /// what a writer does when a version it published could not be made durable.
    pub fn restore(&self, version: Option<Arc<ZoneVersion>>, serving: Serving) {
        self.current.store(version);
        self.set_serving(serving);
    }

    pub fn serving(&self) -> Serving {
        match self.serving.load(Ordering::Acquire) {
            0 => Serving::Active,
            1 => Serving::Pending,
            _ => Serving::Expired,
        }
    }

    pub fn set_serving(&self, s: Serving) {
        self.serving.store(s as u8, Ordering::Release);
    }
}

/// All hosted zones, keyed by apex.
#[derive(Default)]
pub struct ZoneSet {
    zones: ArcSwap<ZoneMap>,
}

impl ZoneSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a zone, returning its handle.
    pub fn insert(&self, apex: Name, version: Option<Arc<ZoneVersion>>) -> Arc<ServedZone> {
        let serving = if version.is_some() {
            Serving::Active
        } else {
            Serving::Pending
        };
        let zone = Arc::new(ServedZone {
            apex: apex.clone(),
            current: ArcSwapOption::new(version),
            serving: AtomicU8::new(serving as u8),
        });
        self.zones.rcu(|map| {
            let mut m = (**map).clone();
            m.insert(apex.clone(), zone.clone());
            m
        });
        zone
    }

    pub fn remove(&self, apex: &Name) {
        self.zones.rcu(|map| {
            let mut m = (**map).clone();
            m.remove(apex);
            m
        });
    }

    /// The zone whose apex is `apex`: a [`Name`], or its lowercase wire form (so that the
    /// query path can look a question name up without making a `Name` of it).
    pub fn get<Q>(&self, apex: &Q) -> Option<Arc<ServedZone>>
    where
        Name: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.zones.load().get(apex).cloned()
    }

    pub fn len(&self) -> usize {
        self.zones.load().len()
    }

    /// Every hosted zone right now (for metrics and status pages, not the query path).
    pub fn all(&self) -> Vec<Arc<ServedZone>> {
        self.zones.load().values().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` with the zone that is the closest enclosing zone of `qname` (lowercase wire),
    /// and the offset in `qname` where its apex starts (RFC 1034 §4.3.2 step 2).
    pub fn with_zone_for<R>(
        &self,
        qname: &[u8],
        f: impl FnOnce(Option<(&ServedZone, usize)>) -> R,
    ) -> R {
        let map = self.zones.load();
        for off in suffixes(qname) {
            if let Some(z) = map.get(&qname[off..]) {
                return f(Some((z, off)));
            }
        }
        f(None)
    }
}
