//! The refresh event of a secondary zone (RFC 1034 §4.3.5) and what plans it: the refresh
//! timer, the retry after a failure, and an obeyed NOTIFY (RFC 1996 §4).
//!
//! One refresh asks the primaries in order for their SOA serial and transfers from the first
//! whose serial is newer (RFC 1982); the transfer itself, and the forced transfer event, are
//! in `transfer.rs`. Failing primaries are skipped; when none succeeds, the next refresh is
//! planned at the retry interval with backoff and jitter. Refreshes of one zone never
//! overlap; NOTIFYs that arrive meanwhile collapse into one more refresh, no sooner than the
//! per-zone check interval.

use super::transfer::{attempt, Pulled};
use super::{Scheduler, ZoneEvent};
use crate::refusal::Refusal;
use crate::xfr_in::{query_soa, Primary, XfrInConfig};
use crate::zone::{ServedZone, ZoneSet};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};
use tandem_xfr::incoming::Kind;
use tandem_zone::{serial, Name, ZoneDiff, ZoneVersion};
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// A secondary zone's incoming configuration, as the refresh needs it.
pub struct Incoming {
    /// Linked peers in the order given.
    pub primaries: Vec<Primary>,
    /// `auto_refresh_seconds`.
    pub refresh: Duration,
}

/// A checked transfer, ready to be written.
pub struct Commit<'a> {
    pub peer_id: &'a str,
    /// `Axfr` for a whole zone (an AXFR, or an AXFR-style answer to an IXFR request), `Ixfr`
    /// for differences applied in order.
    pub kind: Kind,
    pub serial: u32,
    /// The differences to keep in the IXFR journal, so that our own secondaries can IXFR.
    pub journal: &'a [ZoneDiff],
    /// The zone after the transfer (already served): what a snapshot of it holds.
    pub version: &'a ZoneVersion,
}

/// What happened with one primary during a refresh.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub peer_id: String,
    /// `None`: an SOA check; `Some`: a transfer of this kind.
    pub transfer: Option<Kind>,
    /// The serial seen (check) or applied (transfer), or why it failed.
    pub result: Result<u32, String>,
}

/// The outcome of one refresh, for status and persisted timers.
pub struct Outcome {
    pub attempts: Vec<Attempt>,
    /// `pending`, `ok`, `retrying` or `expired`.
    pub state: &'static str,
    /// A primary answered and we are current with it.
    pub succeeded: bool,
    /// A forced AXFR was carried out; it began at this time, so it satisfies the force_axfr
    /// requests recorded up to then (one recorded while it ran stays for the next run).
    pub forced_done: Option<SystemTime>,
    pub next_refresh: SystemTime,
    /// New expire time; `None` leaves the stored one.
    pub expires: Option<SystemTime>,
}

/// A secondary zone's persisted timers, read at start-up.
pub struct Resume {
    pub apex: Name,
    pub next_refresh: Option<SystemTime>,
    pub expires: Option<SystemTime>,
    pub axfr_requested: bool,
}

/// The control plane of the secondary role (the store, in the binary).
pub trait SecondaryControl: Send + Sync + 'static {
    /// The zone's primaries; `Err` when it has no incoming configuration, which ends its
    /// refreshes. Must not block: it runs on the refresh's task (read it from the zone's
    /// published configuration, not the store).
    fn incoming(&self, apex: &Name) -> Result<Incoming, String>;
    /// Writes a transfer in one transaction; on `Err` the store is as it was.
    fn commit(&self, apex: &Name, commit: &Commit<'_>) -> Result<(), String>;
    /// Records the outcome of a refresh. Must not block: it runs on the refresh's task and
    /// hands the outcome on (the store's writer may be held by a large import).
    fn record(&self, apex: &Name, outcome: &Outcome);
    /// Records that the zone expired. Must not block, as `record`.
    fn expired(&self, apex: &Name);
    /// PRODUCT.md §1: may `source`, signed with `key`, NOTIFY this zone? Called for every
    /// NOTIFY to a hosted zone, so a refusal must cost no more than a query: no store read,
    /// no lock, no allocation.
    fn authorize_notify(
        &self,
        apex: &Name,
        source: IpAddr,
        key: Option<&Name>,
    ) -> Result<(), Refusal>;
    /// Every secondary zone with its persisted timers.
    fn resume(&self) -> Vec<Resume>;
}

/// Settings of the secondary role.
#[derive(Clone, Copy, Debug)]
pub struct SecondaryConfig {
    pub xfr: XfrInConfig,
    /// Transfers running at once, all zones together.
    pub max_transfers: usize,
    /// Least time between two SOA checks of one zone caused by NOTIFY.
    pub min_check_interval: Duration,
    /// First retry of a zone that has never been transferred (no SOA retry to go by).
    pub bootstrap_retry: Duration,
}

impl Default for SecondaryConfig {
    fn default() -> Self {
        SecondaryConfig {
            xfr: XfrInConfig::default(),
            max_transfers: 10,
            min_check_interval: Duration::from_secs(1),
            bootstrap_retry: Duration::from_secs(2),
        }
    }
}

/// Per-zone bookkeeping of refreshes in this process.
#[derive(Default)]
struct Flight {
    running: bool,
    /// Another refresh was asked for while one ran; `true` when it is a forced AXFR.
    again: Option<bool>,
    failures: u32,
    last_start: Option<Instant>,
}

/// After a start, every secondary zone's first SOA check comes within this many milliseconds.
pub const START_SPREAD_MS: u64 = 3000;

/// The secondary role: runs refreshes and forced transfers, obeys NOTIFY.
pub struct Secondary {
    zones: Arc<ZoneSet>,
    control: Arc<dyn SecondaryControl>,
    pub(super) cfg: SecondaryConfig,
    pub(super) slots: Semaphore,
    flights: Mutex<HashMap<Name, Flight>>,
    scheduler: OnceLock<Scheduler>,
}

/// The delay before the `failures`-th retry: the SOA retry interval doubled per failure,
/// at most the refresh interval, minus up to a tenth of jitter so that zones sharing a
/// primary spread out.
fn retry_delay(failures: u32, base: Duration, refresh: Duration) -> Duration {
    let base = base.max(Duration::from_secs(1));
    let doubled = base.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    let capped = doubled.min(refresh.max(base));
    capped.mul_f64(1.0 - rand::random::<f64>() * 0.1)
}

fn instant_at(t: SystemTime) -> Instant {
    match t.duration_since(SystemTime::now()) {
        Ok(ahead) => Instant::now() + ahead,
        Err(_) => Instant::now(),
    }
}

impl Secondary {
    pub fn new(
        zones: Arc<ZoneSet>,
        control: Arc<dyn SecondaryControl>,
        cfg: SecondaryConfig,
    ) -> Arc<Secondary> {
        Arc::new(Secondary {
            zones,
            control,
            slots: Semaphore::new(cfg.max_transfers.max(1)),
            cfg,
            flights: Mutex::new(HashMap::new()),
            scheduler: OnceLock::new(),
        })
    }

    /// Hands over the scheduler (created after this), then plans every secondary zone's
    /// events: an SOA check of every zone within [`START_SPREAD_MS`], a persisted force_axfr
    /// at once, and the persisted expire time (a zone past it starts expired).
    pub fn start(self: &Arc<Self>, scheduler: Scheduler) {
        let _ = self.scheduler.set(scheduler.clone());
        let this = self.clone();
        tokio::spawn(async move {
            let control = this.control.clone();
            let zones = tokio::task::spawn_blocking(move || control.resume())
                .await
                .unwrap_or_default();
            let now = SystemTime::now();
            for z in zones {
                let served = this.zones.get(&z.apex);
                let has_data = served.as_ref().is_some_and(|s| s.current().is_some());
                if z.axfr_requested {
                    scheduler.schedule(&z.apex, ZoneEvent::Transfer, Duration::ZERO);
                }
                // Every zone is checked at once after a start, whatever its persisted refresh
                // time: a NOTIFY obeyed before a crash, or a transfer cut short by it, left no
                // trace but a primary that is ahead of us. The checks are spread over a few
                // seconds so that a server of many zones does not query its primaries at once.
                let spread = Duration::from_millis(rand::random::<u64>() % START_SPREAD_MS);
                scheduler.schedule(&z.apex, ZoneEvent::Refresh, spread);
                match (z.expires, served) {
                    (Some(t), Some(s)) if has_data && t <= now => {
                        tracing::warn!(zone = %z.apex, "zone expired while the server was down");
                        s.set_serving(crate::zone::Serving::Expired);
                    }
                    (Some(t), _) if has_data => {
                        scheduler.replace_at(&z.apex, ZoneEvent::Expire, instant_at(t))
                    }
                    _ => {}
                }
            }
        });
    }

    pub(super) fn zones(&self) -> &Arc<ZoneSet> {
        &self.zones
    }

    pub(super) fn control(&self) -> &Arc<dyn SecondaryControl> {
        &self.control
    }

    fn flight<R>(&self, apex: &Name, f: impl FnOnce(&mut Flight) -> R) -> R {
        let mut map = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        f(map.entry(apex.clone()).or_default())
    }

    /// Marks a refresh of `apex` as running; false (and a note to run again) when one is.
    fn begin(&self, apex: &Name, force: bool) -> bool {
        self.flight(apex, |f| {
            if f.running {
                f.again = Some(f.again.unwrap_or(false) || force);
                return false;
            }
            f.running = true;
            f.last_start = Some(Instant::now());
            true
        })
    }

    /// An obeyed NOTIFY (RFC 1996 §4.7): plan an SOA check, no sooner than the per-zone
    /// interval after the last one began, so that a burst collapses into one check.
    pub fn notified(&self, apex: &Name) {
        let Some(scheduler) = self.scheduler.get() else {
            return;
        };
        let earliest = self.flight(apex, |f| {
            if f.running {
                // The refresh under way may have asked its primaries before this NOTIFY's
                // serial existed, and its end re-plans the refresh timer (replacing the check
                // planned below): it runs again once it is done.
                f.again = Some(f.again.unwrap_or(false));
            }
            f.last_start
                .map(|t| t + self.cfg.min_check_interval)
                .unwrap_or_else(Instant::now)
        });
        scheduler.schedule_at(apex, ZoneEvent::Refresh, earliest.max(Instant::now()));
    }

    pub(super) fn run(self: &Arc<Self>, scheduler: &Scheduler, apex: &Name, force: bool) {
        if !self.begin(apex, force) {
            return;
        }
        let this = self.clone();
        let scheduler = scheduler.clone();
        let apex = apex.clone();
        tokio::spawn(async move {
            this.refresh(&scheduler, &apex, force).await;
            let again = this.flight(&apex, |f| {
                f.running = false;
                f.again.take()
            });
            if let Some(forced) = again {
                let event = if forced {
                    ZoneEvent::Transfer
                } else {
                    ZoneEvent::Refresh
                };
                scheduler.schedule(&apex, event, this.cfg.min_check_interval);
            }
        });
    }

    async fn refresh(&self, scheduler: &Scheduler, apex: &Name, force: bool) {
        let started = SystemTime::now();
        let incoming = match self.control.incoming(apex) {
            Ok(i) => i,
            Err(why) => {
                tracing::info!(zone = %apex, reason = %why, "refresh stopped");
                scheduler.cancel(apex, ZoneEvent::Refresh);
                scheduler.cancel(apex, ZoneEvent::Expire);
                return;
            }
        };
        let Some(served) = self.zones.get(apex) else {
            return;
        };
        let mut attempts = Vec::new();
        let mut succeeded = false;
        let mut applied = false;
        for primary in &incoming.primaries {
            if let Some(why) = &primary.blocked {
                attempts.push(attempt(primary, None, Err(why.clone())));
                continue;
            }
            let current = served.current();
            if !force {
                if let Some(current) = &current {
                    match query_soa(apex, primary.addr, primary.key.as_ref(), &self.cfg.xfr).await {
                        Err(e) => {
                            tracing::warn!(zone = %apex, primary = %primary.addr, error = %e, "SOA check failed");
                            attempts.push(attempt(primary, None, Err(e.to_string())));
                            continue;
                        }
                        Ok(theirs) => {
                            attempts.push(attempt(primary, None, Ok(theirs)));
                            if !serial::is_newer(theirs, current.serial()) {
                                tracing::debug!(zone = %apex, serial = theirs, "zone is current");
                                succeeded = true;
                                break;
                            }
                            tracing::info!(zone = %apex, primary = %primary.addr, ours = current.serial(), theirs, "primary has a newer serial");
                        }
                    }
                }
            }
            let _slot = self.slots.acquire().await;
            let pulled = self.transfer(&served, primary, force, &mut attempts).await;
            // A transfer's records are freed by now (kept in the new version, or dropped);
            // hand the allocator's free pages back, or a refused giant transfer would leave
            // the process at its peak for good.
            crate::memory::release_free_memory().await;
            match pulled {
                Pulled::Failed => continue,
                Pulled::Current => {}
                // Our own secondaries hear of the new serial (RFC 1996 §4): the commit
                // planned their NOTIFY.
                Pulled::Applied => applied = true,
            }
            succeeded = true;
            break;
        }
        let run = Run {
            force,
            started,
            attempts,
            succeeded,
            applied,
        };
        self.finish(scheduler, &served, &incoming, run);
    }

    /// Plans what follows a refresh and records its outcome.
    fn finish(
        &self,
        scheduler: &Scheduler,
        served: &Arc<ServedZone>,
        incoming: &Incoming,
        run: Run,
    ) {
        let apex = served.apex();
        let now = SystemTime::now();
        let soa = served.current().map(|v| v.soa());
        let (state, next, expires) = if run.succeeded {
            self.flight(apex, |f| f.failures = 0);
            let expire = Duration::from_secs(soa.as_ref().map_or(0, |s| u64::from(s.expire)));
            scheduler.replace_at(apex, ZoneEvent::Expire, Instant::now() + expire);
            if served.current().is_some() {
                served.set_serving(crate::zone::Serving::Active);
            }
            ("ok", incoming.refresh, Some(now + expire))
        } else {
            let failures = self.flight(apex, |f| {
                f.failures += 1;
                f.failures
            });
            let base = soa.as_ref().map_or(self.cfg.bootstrap_retry, |s| {
                Duration::from_secs(u64::from(s.retry))
            });
            let state = match (served.current().is_some(), served.serving()) {
                (false, _) => "pending",
                (true, crate::zone::Serving::Expired) => "expired",
                (true, _) => "retrying",
            };
            (state, retry_delay(failures, base, incoming.refresh), None)
        };
        scheduler.replace_at(apex, ZoneEvent::Refresh, Instant::now() + next);
        let outcome = Outcome {
            forced_done: (run.force && run.applied).then_some(run.started),
            attempts: run.attempts,
            state,
            succeeded: run.succeeded,
            next_refresh: now + next,
            expires,
        };
        self.control.record(apex, &outcome);
    }
}

/// What one refresh did, for [`Secondary::finish`].
struct Run {
    force: bool,
    /// When the run began: a force_axfr recorded after this is not carried out by it.
    started: SystemTime,
    attempts: Vec<Attempt>,
    /// A primary answered and we are current with it.
    succeeded: bool,
    /// A transfer changed the zone.
    applied: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A control that is never asked anything in these tests.
    struct Unused;

    impl SecondaryControl for Unused {
        fn incoming(&self, _: &Name) -> Result<Incoming, String> {
            Err("not used".into())
        }
        fn commit(&self, _: &Name, _: &Commit<'_>) -> Result<(), String> {
            Err("not used".into())
        }
        fn record(&self, _: &Name, _: &Outcome) {}
        fn expired(&self, _: &Name) {}
        fn authorize_notify(&self, _: &Name, _: IpAddr, _: Option<&Name>) -> Result<(), Refusal> {
            Ok(())
        }
        fn resume(&self) -> Vec<Resume> {
            Vec::new()
        }
    }

    struct Idle;

    impl super::super::EventHandler for Idle {
        fn run(&self, _: &Scheduler, _: &Name, _: ZoneEvent) {}
    }

    /// A NOTIFY that arrives while a refresh runs is not lost to the refresh timer that the
    /// refresh's end sets (seen as a secondary that never fetched a NOTIFY's serial when the
    /// NOTIFY came right after its first transfer was applied).
    #[tokio::test]
    async fn a_notify_during_a_refresh_makes_it_run_again() {
        let s = Secondary::new(
            Arc::new(ZoneSet::new()),
            Arc::new(Unused),
            SecondaryConfig::default(),
        );
        let _ = s.scheduler.set(Scheduler::start(Arc::new(Idle)));
        let apex = Name::parse("example.com").unwrap();
        let again = |s: &Secondary| s.flight(&apex, |f| f.again);

        s.notified(&apex);
        assert_eq!(
            again(&s),
            None,
            "no refresh ran: the planned check is enough"
        );
        assert!(s.begin(&apex, false));
        s.notified(&apex);
        assert_eq!(again(&s), Some(false), "a refresh ran: it runs again");
        // A forced AXFR asked for meanwhile stays forced.
        s.flight(&apex, |f| f.again = Some(true));
        s.notified(&apex);
        assert_eq!(again(&s), Some(true));
    }

    #[test]
    fn retries_double_up_to_the_refresh_interval_with_a_little_jitter() {
        use std::time::Duration;
        let s = Duration::from_secs;
        for _ in 0..100 {
            let first = retry_delay(1, s(60), s(3600));
            assert!(first <= s(60) && first >= s(54), "{first:?}");
            let third = retry_delay(3, s(60), s(3600));
            assert!(third <= s(240) && third >= s(216), "{third:?}");
            let capped = retry_delay(30, s(60), s(3600));
            assert!(capped <= s(3600) && capped >= s(3240), "{capped:?}");
            // A zero retry in the SOA still waits a second.
            assert!(retry_delay(1, s(0), s(3600)) >= Duration::from_millis(900));
        }
    }
}
