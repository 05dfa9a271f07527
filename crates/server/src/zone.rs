//! The zone handle, one per hosted zone (Knot's `zone_t` is the model), and the set of them
//! this server answers for, shared between writers and the query path.
//!
//! Readers take no lock: the zone table and each zone's current version sit behind
//! `ArcSwap`s, so a lookup is a few atomic loads and hash probes. Writers (API edits,
//! imports, transfers in) build a new [`ZoneVersion`] beside the current one and hand it to
//! [`ServedZone::commit`], which persists it, serves it and plans the NOTIFY of its serial.

use crate::access::ZoneAccess;
use arc_swap::{ArcSwap, ArcSwapOption};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use tandem_zone::name::{suffixes, Name};
use tandem_zone::ZoneVersion;

/// What a committed new serial sets off (the zone's NOTIFY round), set once at wiring.
type NewSerial = OnceLock<Box<dyn Fn(&Name) + Send + Sync>>;

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

/// When a new version is made durable, relative to when it is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Written before any query sees it: an API change is durable before its 200 (PRODUCT
    /// §4), and nothing answered can be lost.
    BeforeServing,
    /// Served as soon as it is built, then written, as Knot serves a transferred zone before
    /// its journal is flushed: a crash in between restarts on the previous serial and the
    /// zone is simply transferred again.
    AfterServing,
}

/// One hosted zone (after Knot's `zone_t`): its apex, its current version, whether it may be
/// answered from, and its transfer configuration as the access decisions read it.
pub struct ServedZone {
    apex: Name,
    current: ArcSwapOption<ZoneVersion>,
    serving: AtomicU8,
    /// Published by [`crate::access::AccessSnapshot::rebuild`]; `None` until then (a zone
    /// created since the last publication has no transfer configuration yet).
    access: ArcSwapOption<ZoneAccess>,
    /// The set's [`ZoneSet::on_new_serial`].
    new_serial: Arc<NewSerial>,
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

    /// Atomically replaces the served version and marks the zone active, without persisting
    /// or notifying anything (a version the store already holds). Changes go through
    /// [`ServedZone::commit`].
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

    /// Commits `next` as the zone's new version: the one way every writer (API edits,
    /// imports and batches; transfers in) replaces what the zone serves. `persist` writes it
    /// to the store, before or after it is served as `durability` says; when it fails, the
    /// zone serves what it served before and its error is returned. Once it is both served
    /// and durable, the zone's secondaries are to hear of it (RFC 1996 §4): the set's
    /// [`ZoneSet::on_new_serial`] is told.
    pub fn commit<T, E>(
        &self,
        next: Arc<ZoneVersion>,
        durability: Durability,
        persist: impl FnOnce(&Arc<ZoneVersion>) -> Result<T, E>,
    ) -> Result<T, E> {
        match durability {
            Durability::BeforeServing => {
                let done = persist(&next)?;
                self.publish(next);
                self.new_serial();
                Ok(done)
            }
            Durability::AfterServing => {
                let (version, serving) = (self.current(), self.serving());
                self.publish(next.clone());
                let done = persist(&next).inspect_err(|_| self.restore(version, serving))?;
                self.new_serial();
                Ok(done)
            }
        }
    }

    fn new_serial(&self) {
        if let Some(f) = self.new_serial.get() {
            f(&self.apex);
        }
    }

    /// Puts back a version and serving state taken earlier (`current()` and `serving()`):
    /// what [`ServedZone::commit`] does when a version it published could not be made
    /// durable.
    fn restore(&self, version: Option<Arc<ZoneVersion>>, serving: Serving) {
        self.current.store(version);
        self.set_serving(serving);
    }

    /// The zone's transfer configuration, as last published.
    pub fn access(&self) -> Option<Arc<ZoneAccess>> {
        self.access.load_full()
    }

    pub(crate) fn set_access(&self, access: Option<Arc<ZoneAccess>>) {
        self.access.store(access);
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
    new_serial: Arc<NewSerial>,
}

impl ZoneSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// What every zone's committed new serial sets off from now on (the per-zone scheduler's
    /// NOTIFY planning); set once, when the server is wired. `false` if already set.
    pub fn on_new_serial(&self, f: impl Fn(&Name) + Send + Sync + 'static) -> bool {
        self.new_serial.set(Box::new(f)).is_ok()
    }

    /// Adds (or replaces) a zone, returning its handle. A replaced handle's transfer
    /// configuration carries over until the next publication.
    pub fn insert(&self, apex: Name, version: Option<Arc<ZoneVersion>>) -> Arc<ServedZone> {
        let serving = if version.is_some() {
            Serving::Active
        } else {
            Serving::Pending
        };
        let access = self.get(&apex).and_then(|z| z.access());
        let zone = Arc::new(ServedZone {
            apex: apex.clone(),
            current: ArcSwapOption::new(version),
            serving: AtomicU8::new(serving as u8),
            access: ArcSwapOption::new(access),
            new_serial: self.new_serial.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn version(serial: u32) -> Arc<ZoneVersion> {
        let apex = Name::parse("example.com").unwrap();
        let text = format!("@ SOA ns1 hostmaster {serial} 7200 3600 1209600 300\n@ NS ns1\n");
        let records: Vec<_> = tandem_zone::text::parse_zonefile(&text, &apex, 300)
            .unwrap()
            .into_iter()
            .map(|p| p.record)
            .collect();
        Arc::new(ZoneVersion::build_from(apex, &records).unwrap())
    }

    fn serial(zone: &ServedZone) -> Option<u32> {
        zone.current().map(|v| v.serial())
    }

    /// Both orders of a commit: what a query sees while the store writes, and what stays
    /// served when the write fails.
    #[test]
    fn a_commit_serves_before_or_after_it_is_durable_and_a_failed_write_serves_the_old() {
        let set = ZoneSet::new();
        let told = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = told.clone();
        assert!(set.on_new_serial(move |apex| log.lock().unwrap().push(apex.to_string())));
        assert!(!set.on_new_serial(|_| {}), "set once");
        let zone = set.insert(Name::parse("example.com").unwrap(), Some(version(1)));
        let notified = || told.lock().unwrap().len();
        let during = |zone: &ServedZone| serial(zone);

        // An API change: not served while it is written; a failed write is never served.
        let seen = zone.commit(version(2), Durability::BeforeServing, |next| {
            assert_eq!(next.serial(), 2);
            Ok::<_, ()>(during(&zone))
        });
        assert_eq!(seen, Ok(Some(1)));
        assert_eq!(serial(&zone), Some(2));
        assert_eq!(notified(), 1);
        let failed = zone.commit(version(3), Durability::BeforeServing, |_| {
            Err::<(), _>(during(&zone))
        });
        assert_eq!(failed, Err(Some(2)));
        assert_eq!(serial(&zone), Some(2));
        assert_eq!(notified(), 1, "a failed commit sets nothing off");

        // A transfer in: served while it is written; a failed write puts back the version and
        // the serving state from before.
        zone.set_serving(Serving::Expired);
        let failed = zone.commit(version(4), Durability::AfterServing, |_| {
            assert_eq!(zone.serving(), Serving::Active);
            Err::<(), _>(during(&zone))
        });
        assert_eq!(failed, Err(Some(4)));
        assert_eq!(serial(&zone), Some(2));
        assert_eq!(zone.serving(), Serving::Expired);
        assert_eq!(notified(), 1);
        let seen = zone.commit(version(4), Durability::AfterServing, |_| {
            Ok::<_, ()>(during(&zone))
        });
        assert_eq!(seen, Ok(Some(4)));
        assert_eq!(serial(&zone), Some(4));
        assert_eq!(zone.serving(), Serving::Active);
        assert_eq!(*told.lock().unwrap(), ["example.com.", "example.com."]);
    }
}
