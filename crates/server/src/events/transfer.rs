//! The transfer step of a refresh, and the forced transfer event (`force_axfr`): ask one
//! primary for IXFR when it allows it, AXFR when it does not or when the IXFR is refused or
//! does not apply (RFC 1995 §4), and apply the answer whole. The new version is built and
//! checked beside the served one, served, then written to the store in one transaction by the
//! control plane; a store that fails puts the previous version back.

use super::refresh::{Attempt, Commit, Secondary, SecondaryControl};
use super::Scheduler;
use crate::xfr_in::{fetch, Primary};
use crate::zone::{Durability, ServedZone};
use std::sync::Arc;
use tandem_xfr::incoming::{Kind, Transferred};
use tandem_zone::{serial, Name, Record, ZoneDiff, ZoneVersion};

/// The forced transfer event: a refresh that skips the serial check and asks for AXFR.
pub(super) fn run(secondary: &Arc<Secondary>, scheduler: &Scheduler, apex: &Name) {
    secondary.run(scheduler, apex, true);
}

impl Secondary {
    /// Transfers from one primary and applies the result: IXFR first when allowed, AXFR when
    /// that is refused or does not apply.
    pub(super) async fn transfer(
        &self,
        served: &Arc<ServedZone>,
        primary: &Primary,
        force: bool,
        attempts: &mut Vec<Attempt>,
    ) -> Pulled {
        let apex = served.apex();
        let current = served.current();
        let our_soa = current.as_deref().map(ZoneVersion::soa_record);
        let first = if primary.ixfr && our_soa.is_some() && !force {
            Kind::Ixfr
        } else {
            Kind::Axfr
        };
        for kind in [first, Kind::Axfr] {
            let started = std::time::Instant::now();
            let result = match fetch(apex, primary, kind, our_soa.as_ref(), &self.cfg.xfr).await {
                Ok(t) => {
                    tracing::info!(zone = %apex, primary = %primary.addr, kind = kind.as_str(),
                        fetch_ms = started.elapsed().as_millis() as u64, "transfer received");
                    self.apply(served, primary, force, t).await
                }
                Err(e) => Err((e.wants_axfr(), e.to_string())),
            };
            match result {
                Ok(None) => {
                    // "You are current" to an IXFR: a successful check.
                    let serial = current.as_ref().map_or(0, |v| v.serial());
                    attempts.push(attempt(primary, None, Ok(serial)));
                    return Pulled::Current;
                }
                Ok(Some((got, serial))) => {
                    attempts.push(attempt(primary, Some(got), Ok(serial)));
                    return Pulled::Applied;
                }
                Err((fallback, error)) => {
                    tracing::warn!(zone = %apex, primary = %primary.addr, kind = kind.as_str(), %error, "transfer failed; the served zone is unchanged");
                    attempts.push(attempt(primary, Some(kind), Err(error)));
                    if kind == Kind::Axfr || !fallback {
                        return Pulled::Failed;
                    }
                    tracing::info!(zone = %apex, primary = %primary.addr, "falling back to AXFR");
                }
            }
        }
        Pulled::Failed
    }

    /// Builds the new version from a checked answer, has it written, then publishes it.
    /// `Ok(None)`: nothing to do. `Err((try_axfr, why))`.
    async fn apply(
        &self,
        served: &Arc<ServedZone>,
        primary: &Primary,
        force: bool,
        answer: Transferred,
    ) -> Result<Option<(Kind, u32)>, (bool, String)> {
        let served = served.clone();
        let control = self.control().clone();
        let peer_id = primary.peer_id.clone();
        tokio::task::spawn_blocking(move || {
            apply_blocking(&served, &*control, &peer_id, force, answer)
        })
        .await
        .map_err(|e| (false, format!("applying the transfer failed: {e}")))?
    }
}

/// The result of asking one primary for a transfer.
pub(super) enum Pulled {
    Failed,
    /// The primary said we are current (a single SOA to IXFR).
    Current,
    /// A new version is stored and served.
    Applied,
}

pub(super) fn attempt(
    primary: &Primary,
    transfer: Option<Kind>,
    result: Result<u32, String>,
) -> Attempt {
    Attempt {
        peer_id: primary.peer_id.clone(),
        transfer,
        result,
    }
}

/// See [`Secondary::apply`]. An IXFR that does not apply to our version asks for AXFR.
///
/// The new version is served as soon as it is built, before it is durable, as Knot serves a
/// transferred zone before its journal is flushed: a crash before the store's transaction
/// commits restarts on the previous serial, and the zone is simply transferred again. A
/// commit that fails puts the previous version (and serving state) back, so a failed
/// transfer keeps the old zone.
fn apply_blocking(
    served: &ServedZone,
    control: &dyn SecondaryControl,
    peer_id: &str,
    force: bool,
    answer: Transferred,
) -> Result<Option<(Kind, u32)>, (bool, String)> {
    let apex = served.apex();
    let current = served.current();
    let started = std::time::Instant::now();
    let (kind, serial, next, full, diffs) = match answer {
        Transferred::UpToDate { .. } => return Ok(None),
        Transferred::Full { serial, records } => {
            if let Some(cur) = &current {
                if !force && !serial::is_newer(serial, cur.serial()) {
                    return Err((
                        false,
                        format!(
                            "the primary sent serial {serial}, not newer than our {}",
                            cur.serial()
                        ),
                    ));
                }
            }
            let next = ZoneVersion::build_from(apex.clone(), &records)
                .map_err(|e| (false, format!("the transferred zone is broken: {e}")))?;
            (Kind::Axfr, serial, next, Some(records), Vec::new())
        }
        Transferred::Incremental { serial, diffs } => {
            let next = current
                .as_deref()
                .ok_or((true, "IXFR answer for a zone we do not have".to_string()))?
                .apply_all(&diffs)
                .map_err(|e| (true, format!("the IXFR does not apply: {e}")))?;
            (Kind::Ixfr, serial, next, None, diffs)
        }
    };
    let records = next.record_count();
    let built = std::time::Instant::now();
    let stored = served.commit(Arc::new(next), Durability::AfterServing, |next| {
        // What the store writes: an AXFR's records and, for our own secondaries' IXFR, its
        // difference from the version it replaces (none for the first); an IXFR's
        // differences are both the change and its journal entries.
        let axfr_journal = match (&full, &current) {
            (Some(records), Some(cur)) => {
                let old: Vec<Record> = cur.records().collect();
                vec![ZoneDiff::between(&old, records)]
            }
            _ => Vec::new(),
        };
        let journal = match &full {
            Some(_) => &axfr_journal[..],
            None => &diffs[..],
        };
        control.commit(
            apex,
            &Commit {
                peer_id,
                kind,
                serial,
                journal,
                version: next,
            },
        )
    });
    if let Err(e) = stored {
        return Err((false, format!("cannot store the transfer: {e}")));
    }
    tracing::info!(
        zone = %apex,
        kind = kind.as_str(),
        serial,
        records,
        build_ms = built.duration_since(started).as_millis() as u64,
        store_ms = built.elapsed().as_millis() as u64,
        "transfer applied"
    );
    Ok(Some((kind, serial)))
}

#[cfg(test)]
mod tests {
    use super::super::refresh::{Incoming, Outcome, Resume};
    use super::*;
    use crate::refusal::Refusal;
    use crate::zone::ZoneSet;
    use std::net::IpAddr;
    use std::sync::Mutex;

    /// A store whose commit reports the serial served while it writes, then fails or not.
    struct Store {
        served: Arc<ServedZone>,
        seen: Mutex<Vec<u32>>,
        fail: bool,
    }

    impl SecondaryControl for Store {
        fn incoming(&self, _: &Name) -> Result<Incoming, String> {
            Err("not used".into())
        }
        fn commit(&self, _: &Name, _: &Commit<'_>) -> Result<(), String> {
            let serving = self.served.current().map(|v| v.serial());
            self.seen.lock().unwrap().push(serving.unwrap_or(0));
            if self.fail {
                Err("disk full".into())
            } else {
                Ok(())
            }
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

    fn records(serial: u32) -> Vec<Record> {
        let apex = Name::parse("example.com").unwrap();
        let text = format!(
            "@ SOA ns1 hostmaster {serial} 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.{serial}\n"
        );
        tandem_zone::text::parse_zonefile(&text, &apex, 300)
            .unwrap()
            .into_iter()
            .map(|p| p.record)
            .collect()
    }

    fn transfer(store: &Store, serial: u32) -> Result<Option<(Kind, u32)>, (bool, String)> {
        let answer = Transferred::Full {
            serial,
            records: records(serial),
        };
        apply_blocking(&store.served, store, "p", false, answer)
    }

    #[test]
    fn a_transfer_is_served_while_it_is_stored_and_withdrawn_when_storing_fails() {
        let set = ZoneSet::new();
        let apex = Name::parse("example.com").unwrap();
        let mut store = Store {
            served: set.insert(apex, None),
            seen: Mutex::new(Vec::new()),
            fail: true,
        };
        // The first transfer fails to store: the zone has no data again, and is still pending.
        store.served.set_serving(crate::zone::Serving::Pending);
        assert!(transfer(&store, 1).is_err());
        assert!(store.served.current().is_none());
        assert_eq!(store.served.serving(), crate::zone::Serving::Pending);
        // Then it stores; the next one fails and the zone is back at serial 2.
        store.fail = false;
        assert_eq!(transfer(&store, 2).unwrap(), Some((Kind::Axfr, 2)));
        store.fail = true;
        assert!(transfer(&store, 3).is_err());
        assert_eq!(store.served.current().unwrap().serial(), 2);
        assert_eq!(store.served.serving(), crate::zone::Serving::Active);
        // Each version was served while its commit ran.
        assert_eq!(*store.seen.lock().unwrap(), vec![1, 2, 3]);
    }
}
