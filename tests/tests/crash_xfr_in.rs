//! `kill -9` at random moments of an incoming AXFR, and of an incoming IXFR whose transaction
//! writes a snapshot or only the journal (PRODUCT.md §4): after each restart the
//! secondary zone is wholly at one serial — the one it had or the transferred one — and serves
//! exactly that version's records; when it restarted on the old one it transfers again.
//!
//! A transferred version is served as soon as it is built and stored right after (as Knot
//! serves before its journal flush), so "the one it had" is the last one the store holds: the
//! test waits for the store's record of each transfer (`last_transfer_serial`, written in the
//! same transaction as the records) before it kills again.

use domain::base::iana::Rtype;
use std::time::Duration;
use tandem_tests::fake_primary::IxfrMode;
use tandem_tests::fake_setup::{Setup, N, ZONE};
use tandem_tests::incoming::{served, wait_served, WAIT};
use tandem_tests::secondary::answer;
use tandem_tests::Checks;

/// Records of version N+`k` beyond the base zone.
const BULK: usize = 30_000;

/// Version N+`k`: the base records and `BULK` A records named `b{k}-{i}`.
fn version(k: u32) -> String {
    let mut z = tandem_tests::fake_setup::v(k);
    for i in 0..BULK {
        z.push_str(&format!(
            "b{k}-{i} A 10.{}.{}.{}\n",
            k,
            (i >> 8) & 255,
            i & 255
        ));
    }
    z
}

/// What `name` answers for A: "NOERROR ..." or the RCODE.
fn a(s: &Setup, name: &str) -> String {
    answer(s.t.dns(), &format!("{name}.{ZONE}"), Rtype::A).unwrap_or_else(|e| e)
}

/// Waits until the store holds version N+`k` (the primary's status records its serial in the
/// transaction that writes the records).
fn wait_stored(s: &Setup, k: u32, when: &str, since: std::time::Instant) {
    let stored =
        s.sz.wait_incoming(&format!("serial {} stored", N + k), WAIT, |v| {
            v["peer_status"][0]["last_transfer_serial"].as_u64() == Some(u64::from(N + k))
        });
    if let Err(e) = stored {
        s.fail(&format!("{when}: {e}"), since);
    }
}

/// Version N+`k` is served whole, and the bulk of `other` (another version) is not.
fn check_version(c: &mut Checks, s: &Setup, k: u32, other: u32, when: &str) {
    for i in [0, BULK / 2, BULK - 1] {
        let got = a(s, &format!("b{k}-{i}"));
        c.check(got.starts_with("NOERROR"), || {
            format!("{when}: b{k}-{i} at serial {}: {got}", N + k)
        });
    }
    if other != k {
        for i in [0, BULK - 1] {
            let got = a(s, &format!("b{other}-{i}"));
            c.check(got.starts_with("NXDOMAIN"), || {
                format!(
                    "{when}: b{other}-{i} of serial {} served at {}: {got}",
                    N + other,
                    N + k
                )
            });
        }
    }
    let www = s.www();
    c.check(www.contains(&format!("198.51.100.{k}")), || {
        format!("{when}: www at serial {}: {www}", N + k)
    });
}

#[test]
fn kill_9_during_an_incoming_axfr_leaves_one_whole_serial_and_transfers_again() {
    kill_9_during_transfers_in(&[], false, IxfrMode::AxfrStyle, "AXFRs", 4);
}

/// Every version replaces all `BULK` records, so each IXFR is one difference of 60,000
/// records. With a journal one difference deep, every other IXFR drops the difference that
/// led from the zone's snapshot (`snapshot.rs`), so its transaction writes a new snapshot;
/// the others only add to the journal, which a restart replays onto the snapshot.
#[test]
fn kill_9_during_an_incoming_ixfr_and_its_snapshot_leaves_one_whole_serial() {
    let last = 5;
    let s = kill_9_during_transfers_in(
        &["--journal-max-depth", "1"],
        true,
        IxfrMode::Incremental,
        "IXFRs",
        last,
    );
    // The IXFRs did write snapshots: the one the first AXFR wrote (at N+1) has been replaced
    // by one from N+3 on, and the journal holds at most the one difference since it.
    let db = rusqlite::Connection::open_with_flags(
        s.t.data_dir().join("tandem.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let (snapshot, zone): (u32, u32) = db
        .query_row(
            "SELECT s.serial, z.serial FROM zone_snapshots s JOIN zones z ON z.id = s.zone_id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(zone, N + last, "the last version is stored");
    assert!(
        snapshot >= N + 3 && snapshot <= N + last,
        "snapshot at {snapshot}, zone at {zone}"
    );
    let journal: u32 = db
        .query_row("SELECT count(*) FROM journal", [], |r| r.get(0))
        .unwrap();
    assert!(journal <= 1, "{journal} journal entries");
}

/// Versions N+2 ..= N+`last` announced one by one, each cut by `kill -9` at a random moment
/// of its transfer (AXFR-style or IXFR as `mode` says), then a restart.
fn kill_9_during_transfers_in(
    args: &[&str],
    ixfr: bool,
    mode: IxfrMode,
    what: &str,
    last: u32,
) -> Setup {
    let mut s = Setup::start(args, ixfr, None);
    s.fake.set_ixfr_mode(mode);
    // Small, slightly slow messages, so that a transfer lasts long enough to be cut.
    s.fake.set_records_per_message(300);
    s.fake.set_message_delay(Duration::from_millis(5));
    let mut c = Checks::new();

    // Version N+1 transfers whole: its time (NOTIFY to served) sets the range of the kills.
    let since = s.announce_version(1, &version(1));
    if let Err(e) = wait_served(s.t.dns(), ZONE, N + 1, WAIT) {
        s.fail(&e, since);
    }
    let took = since.elapsed();
    check_version(&mut c, &s, 1, 1, "after the first transfer");
    wait_stored(&s, 1, "the first transfer", since);

    let moments = tandem_tests::process::KillMoments::new(took, 0.05, 1.25);
    let seed = moments.seed;
    let mut have = 1u32;
    let mut outcomes = Vec::new();
    for k in 2..=last {
        let delay = moments.at(k as u64);
        let since = s.announce_version(k, &version(k));
        std::thread::sleep(delay.saturating_sub(since.elapsed()));
        s.t.kill9();
        s.t.restart();
        s.sz.reconnect(&s.t);
        let when = format!(
            "version {} (seed {seed}, kill {delay:?} after the NOTIFY; a transfer took {took:?})",
            N + k
        );
        let first = served(s.t.dns(), ZONE);
        let now = match first {
            Ok(serial) if serial == N + have => have,
            Ok(serial) if serial == N + k => k,
            other => {
                c.check(false, || {
                    format!(
                        "{when}: serves {other:?} after the restart, neither {} nor {}",
                        N + have,
                        N + k
                    )
                });
                break;
            }
        };
        check_version(
            &mut c,
            &s,
            now,
            if now == k { have } else { k },
            &format!("{when}, on restart"),
        );
        outcomes.push((delay, now == k));
        // On the old version it asks the primary at once and transfers the new one again.
        if now != k {
            if let Err(e) = wait_served(s.t.dns(), ZONE, N + k, WAIT) {
                s.fail(
                    &format!("{when}: no transfer again after the restart: {e}"),
                    since,
                );
            }
            check_version(&mut c, &s, k, have, &format!("{when}, transferred again"));
            wait_stored(&s, k, &format!("{when}, transferred again"), since);
        }
        have = k;
    }
    c.finish();
    tandem_tests::process::say(&format!(
        "kill -9 during incoming {what} of {BULK} records (a transfer {took:?}): {outcomes:?} (true: it had been applied)"
    ));
    s
}

/// Whether the zone's outgoing transfers are enabled, as the API says.
fn outgoing_enabled(s: &Setup) -> bool {
    let out =
        s.sz.api
            .get_ok(&format!("/zones/{}/secondary_dns/outgoing", s.sz.zone_id));
    out["enabled"]
        .as_bool()
        .unwrap_or_else(|| panic!("no enabled flag: {out:#}"))
}

/// Version N+`k` with the bulk of version N+1: consecutive ones differ only in `www` and the
/// SOA, so their IXFRs stay in the journal as the redo log since the snapshot.
fn steady(k: u32) -> String {
    let bulk = version(1);
    let base = tandem_tests::fake_setup::v(1);
    format!("{}{}", tandem_tests::fake_setup::v(k), &bulk[base.len()..])
}

/// A [`steady`] version N+`k` is served whole.
fn check_steady(c: &mut Checks, s: &Setup, k: u32, when: &str) {
    for i in [0, BULK / 2, BULK - 1] {
        let got = a(s, &format!("b1-{i}"));
        c.check(got.starts_with("NOERROR"), || {
            format!("{when}: b1-{i} at serial {}: {got}", N + k)
        });
    }
    let www = s.www();
    c.check(www.contains(&format!("198.51.100.{k}")), || {
        format!("{when}: www at serial {}: {www}", N + k)
    });
}

/// Disabling outgoing transfers empties the IXFR journal, which for a secondary zone is also
/// the redo log since its snapshot, so that transaction first brings the snapshot up to the
/// zone's serial (`snapshot::compact`). `kill -9` at random moments of it: after each restart
/// the zone serves its one committed serial whole, whether the disabling took or not.
#[test]
fn kill_9_while_disabling_outgoing_compacts_the_snapshot_loses_nothing() {
    let mut s = Setup::start(&[], true, None);
    s.fake.set_ixfr_mode(IxfrMode::Incremental);
    let mut c = Checks::new();
    let outgoing = format!("/zones/{}/secondary_dns/outgoing", s.sz.zone_id);
    let peer = s.sz.peer_ids[0].clone();
    s.sz.api.post_ok(
        &outgoing,
        &serde_json::json!({"name": ZONE, "peers": [peer]}),
    );

    // Version N+1 by AXFR (the snapshot); every later one by a small IXFR (the journal only),
    // so that each disabling has a redo log to fold into the snapshot.
    let since = s.announce_version(1, &steady(1));
    if let Err(e) = wait_served(s.t.dns(), ZONE, N + 1, WAIT) {
        s.fail(&e, since);
    }
    wait_stored(&s, 1, "the first transfer", since);
    let mut took = Duration::ZERO;
    let mut outcomes = Vec::new();
    for k in 2..=5u32 {
        let since = s.announce_version(k, &steady(k));
        if let Err(e) = wait_served(s.t.dns(), ZONE, N + k, WAIT) {
            s.fail(&e, since);
        }
        wait_stored(&s, k, &format!("version {}", N + k), since);
        s.sz.api
            .post_ok(&format!("{outgoing}/enable"), &serde_json::json!({}));
        if k == 2 {
            // The first disabling is timed, not cut: it sets the range of the kills.
            let t0 = std::time::Instant::now();
            s.sz.api
                .post_ok(&format!("{outgoing}/disable"), &serde_json::json!({}));
            took = t0.elapsed();
            // Committed (it answered): the journal is empty and the snapshot alone must hold
            // N+2, or the restart cannot load the zone.
            s.t.kill9();
            s.t.restart();
            s.sz.reconnect(&s.t);
            match served(s.t.dns(), ZONE) {
                Ok(serial) if serial == N + k => {}
                other => s.fail(
                    &format!("after disabling, serves {other:?}, not {}", N + k),
                    since,
                ),
            }
            check_steady(&mut c, &s, k, "after disabling and a kill -9");
            c.check(!outgoing_enabled(&s), || {
                "disabled before the kill, enabled after".into()
            });
            continue;
        }
        let moments = tandem_tests::process::KillMoments::new(took, 0.0, 1.5);
        let seed = moments.seed;
        let delay = moments.at(k as u64);
        let api = tandem_tests::api::Api::new(s.sz.api_addr, &s.sz.api.token);
        let path = format!("{outgoing}/disable");
        let call = std::thread::spawn(move || {
            api.try_request("POST", &path, Some("application/json"), b"{}")
                .map(|r| r.status)
        });
        std::thread::sleep(delay);
        s.t.kill9();
        let answered = call.join().unwrap();
        s.t.restart();
        s.sz.reconnect(&s.t);
        let when = format!(
            "version {} (seed {seed}, kill {delay:?} into disabling, which took {took:?})",
            N + k
        );
        match served(s.t.dns(), ZONE) {
            Ok(serial) if serial == N + k => {}
            other => {
                c.check(false, || {
                    format!("{when}: serves {other:?} after the restart, not {}", N + k)
                });
                break;
            }
        }
        check_steady(&mut c, &s, k, &format!("{when}, on restart"));
        let enabled = outgoing_enabled(&s);
        // An answered disabling was committed before its answer.
        if let Ok(200) = answered {
            c.check(!enabled, || format!("{when}: answered 200, still enabled"));
        }
        outcomes.push((delay, !enabled));
    }
    c.finish();
    tandem_tests::process::say(&format!(
        "kill -9 while disabling outgoing transfers of a {BULK}-record secondary zone (disabling took {took:?}): {outcomes:?} (true: it had been disabled)"
    ));
}
