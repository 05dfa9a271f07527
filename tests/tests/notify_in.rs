//! NOTIFY to a secondary zone, its timers, and its survival of `kill -9`, against the
//! [`FakePrimary`](tandem_tests::fake_primary::FakePrimary), which counts every SOA query and
//! transfer request it gets:
//! - a NOTIFY from an address that is not a linked peer is REFUSED and causes no SOA query;
//!   one from the peer's address is answered QR+AA NOERROR and causes exactly one SOA check;
//! - a flood of NOTIFYs from the peer causes a bounded number of SOA checks, and Tandem keeps
//!   answering queries meanwhile;
//! - a flood of NOTIFYs from a stranger is answered REFUSED, every one is counted, and the log
//!   gets at most its per-second budget of lines about them, the rest counted as suppressed;
//! - a primary that stops answering: the zone is served until the SOA expire, then SERVFAIL
//!   with state `expired` (and no AXFR of the expired copy), and served again once the
//!   primary is back;
//! - after `kill -9` and a restart, the zone is served from the store at once and its
//!   `next_refresh_time` is the one it had.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use domain::base::iana::{Opcode, Rtype};
use tandem_tests::dns::Query;
use tandem_tests::fake_primary::{FakePrimary, SoaTimers};
use tandem_tests::fake_setup::{key, timers, v, v1, Setup, LOCALHOST, N, ZONE};
use tandem_tests::incoming::{
    metric, notify_from, notify_signed, notify_wire, now_secs, parse_time, served, wait_served,
    SecondaryZone, WAIT,
};
use tandem_tests::secondary::TsigKey;
use tandem_tests::Tandem;

/// An address of the loopback network that is no linked peer's.
const STRANGER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// Waits until the fake primary has seen at least `n` SOA queries since `since`.
fn wait_soa_queries(s: &Setup, since: Instant, n: usize) {
    let deadline = Instant::now() + WAIT;
    while s.fake.soa_queries_since(since) < n {
        if Instant::now() > deadline {
            s.fail(
                &format!("fewer than {n} SOA queries within {WAIT:?}"),
                since,
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn notify_is_obeyed_only_from_a_linked_peer() {
    let s = Setup::start(&["--min-soa-check-interval-ms", "1000"], false, None);
    // Let the first transfer's checks settle.
    std::thread::sleep(Duration::from_millis(1500));

    // From a stranger: REFUSED, and no SOA query follows.
    let since = Instant::now();
    let refused = notify_from(STRANGER, s.t.dns(), ZONE, Duration::from_secs(3))
        .unwrap_or_else(|e| s.fail(&format!("NOTIFY from {STRANGER}: {e}"), since));
    if refused.rcode_name() != "REFUSED" || !refused.qr() {
        s.fail(
            &format!("NOTIFY from {STRANGER} must be REFUSED: {refused}"),
            since,
        );
    }
    std::thread::sleep(Duration::from_secs(2));
    if s.fake.soa_queries_since(since) != 0 {
        s.fail(
            &format!("NOTIFY from {STRANGER} caused an SOA query"),
            since,
        );
    }
    if s.sz.notifies_received("refused") < 1.0 {
        s.fail(
            &format!("refused NOTIFY not counted:\n{}", s.sz.metrics()),
            since,
        );
    }

    // From the peer: QR+AA NOERROR with opcode NOTIFY, then exactly one SOA check.
    let since = Instant::now();
    let ok = notify_from(LOCALHOST, s.t.dns(), ZONE, Duration::from_secs(3))
        .unwrap_or_else(|e| s.fail(&format!("NOTIFY from the peer: {e}"), since));
    if ok.rcode_name() != "NOERROR" || !ok.qr() || !ok.aa() || ok.opcode() != Opcode::NOTIFY {
        s.fail(
            &format!("NOTIFY from the peer must get QR+AA NOERROR: {ok}"),
            since,
        );
    }
    wait_soa_queries(&s, since, 1);
    std::thread::sleep(Duration::from_secs(2));
    let n = s.fake.soa_queries_since(since);
    if n != 1 {
        s.fail(
            &format!("one NOTIFY caused {n} SOA queries, expected 1"),
            since,
        );
    }
    if !s.fake.transfers_since(since).is_empty() {
        s.fail(
            "a NOTIFY for the serial we have must not cause a transfer",
            since,
        );
    }
    if s.sz.notifies_received("accepted") < 1.0 {
        s.fail(
            &format!("accepted NOTIFY not counted:\n{}", s.sz.metrics()),
            since,
        );
    }
    assert_eq!(served(s.t.dns(), ZONE), Ok(N));
}

#[test]
fn notify_for_a_peer_with_a_key_must_be_signed_with_it() {
    let k = key();
    let s = Setup::start(&["--min-soa-check-interval-ms", "1000"], false, Some(&k));
    std::thread::sleep(Duration::from_millis(1500));
    let wrong = TsigKey {
        secret: "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0wMTIzNDU2Nzg=".into(),
        ..k.clone()
    };
    // Unsigned, or signed with a wrong secret, from the peer's address: refused, no check.
    for (what, with) in [("unsigned", None), ("wrong secret", Some(&wrong))] {
        let since = Instant::now();
        let r = notify_signed(LOCALHOST, s.t.dns(), ZONE, with, Duration::from_secs(3))
            .unwrap_or_else(|e| s.fail(&format!("{what} NOTIFY: {e}"), since));
        if !["REFUSED", "NOTAUTH"].contains(&r.rcode_name().as_str()) {
            s.fail(
                &format!("{what} NOTIFY must be REFUSED or NOTAUTH: {r}"),
                since,
            );
        }
        std::thread::sleep(Duration::from_secs(2));
        if s.fake.soa_queries_since(since) != 0 {
            s.fail(&format!("{what} NOTIFY caused an SOA query"), since);
        }
    }
    // Signed with the peer's key: obeyed, one SOA check (signed too).
    let since = Instant::now();
    let r = notify_signed(LOCALHOST, s.t.dns(), ZONE, Some(&k), Duration::from_secs(3))
        .unwrap_or_else(|e| s.fail(&format!("signed NOTIFY: {e}"), since));
    if r.rcode_name() != "NOERROR" || !r.aa() {
        s.fail(&format!("signed NOTIFY must get QR+AA NOERROR: {r}"), since);
    }
    wait_soa_queries(&s, since, 1);
    let seen = s.fake.seen_since(since);
    if !seen.iter().filter(|q| q.is_soa_query()).all(|q| q.signed) {
        s.fail(
            "the SOA check of a zone whose primary has a key must be signed",
            since,
        );
    }
}

#[test]
fn notify_flood_is_rate_limited() {
    let mut s = Setup::start(&["--min-soa-check-interval-ms", "1000"], false, None);
    std::thread::sleep(Duration::from_millis(1500));
    s.fake.set_version(N + 1, &v(1));
    let socket = UdpSocket::bind(SocketAddr::new(LOCALHOST, 0)).unwrap();
    let since = Instant::now();
    let mut answered_queries = 0;
    for i in 0..200u16 {
        let mut wire = Query::new(ZONE, Rtype::SOA)
            .opcode(Opcode::NOTIFY)
            .to_wire();
        wire[2] |= 0x04;
        socket.send_to(&wire, s.t.dns()).unwrap();
        if i % 40 == 0 && served(s.t.dns(), ZONE).is_ok() {
            // Tandem answers queries in the middle of the flood.
            answered_queries += 1;
        }
        std::thread::sleep(Duration::from_millis(7));
    }
    let flood = since.elapsed();
    // With --min-soa-check-interval-ms 1000: one check at once, then at most one a second
    // (and one more for the end of the flood); 5 for a flood of less than 2 s.
    let bound = flood.as_secs_f64().ceil() as usize + 3;
    wait_served(s.t.dns(), ZONE, N + 1, WAIT).unwrap_or_else(|e| s.fail(&e, since));
    std::thread::sleep(Duration::from_secs(2));
    let checks = s.fake.soa_queries_since(since);
    let transfers = s.fake.transfers_since(since).len();
    if !(1..=bound).contains(&checks) || transfers != 1 {
        s.fail(
            &format!(
                "200 NOTIFYs in {flood:?} caused {checks} SOA queries (expected 1 to {bound}) and \
                 {transfers} transfers (expected 1)"
            ),
            since,
        );
    }
    assert_eq!(answered_queries, 5, "queries answered during the flood");
    assert!(s.t.is_running(), "tandem died");
}

/// Lines of Tandem's log (this run) that report a refused NOTIFY.
fn refused_notify_lines(t: &Tandem) -> usize {
    t.log_tail(usize::MAX)
        .lines()
        .filter(|l| l.contains("NOTIFY refused"))
        .count()
}

/// `tandem_log_lines_suppressed_total{what="notify_refused"}` (0 when absent).
fn suppressed_notify_lines(s: &Setup) -> f64 {
    metric(
        &s.sz.metrics(),
        "tandem_log_lines_suppressed_total",
        &[("what", "notify_refused")],
    )
    .unwrap_or(0.0)
}

#[test]
fn refused_notify_flood_is_counted_and_logs_within_the_budget() {
    // Log budget of refused NOTIFYs (tandem_server::log_budget::LINES_PER_SECOND).
    const LINES_PER_SECOND: usize = 10;
    const FLOOD: usize = 2000;
    let s = Setup::start(&[], false, None);
    let lines_before = refused_notify_lines(&s.t);
    let suppressed_before = suppressed_notify_lines(&s);
    let counted_before = s.sz.notifies_received("refused");

    let socket = UdpSocket::bind(SocketAddr::new(STRANGER, 0)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let (wire, _) = notify_wire(ZONE, None);
    let since = Instant::now();
    let mut refused = 0;
    let mut buf = [0u8; 512];
    for _ in 0..FLOOD {
        socket.send_to(&wire, s.t.dns()).unwrap();
        // One at a time, so none is lost to a full socket buffer.
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            refused += usize::from(n >= 4 && buf[..2] == wire[..2] && buf[3] & 0x0f == 5);
        }
    }
    let flood = since.elapsed();
    if refused < FLOOD * 9 / 10 {
        s.fail(
            &format!("only {refused} of {FLOOD} NOTIFYs from {STRANGER} answered REFUSED"),
            since,
        );
    }
    if served(s.t.dns(), ZONE) != Ok(N) {
        s.fail("the zone is not served after the NOTIFY flood", since);
    }
    if s.fake.soa_queries_since(since) != 0 {
        s.fail("NOTIFYs from a stranger caused an SOA query", since);
    }
    // Every refusal is counted once, and takes one line from the budget or is counted as
    // left out.
    let counted = (s.sz.notifies_received("refused") - counted_before) as usize;
    let lines = refused_notify_lines(&s.t) - lines_before;
    let suppressed = (suppressed_notify_lines(&s) - suppressed_before) as usize;
    if counted < refused || counted > FLOOD {
        s.fail(
            &format!("{counted} refused NOTIFYs counted; {refused} answered REFUSED of {FLOOD}"),
            since,
        );
    }
    if lines + suppressed != counted {
        s.fail(
            &format!(
                "{lines} log lines + {suppressed} suppressed != {counted} refused NOTIFYs counted"
            ),
            since,
        );
    }
    // The flood spans at most this many budget seconds (and a partial one at each end).
    let bound = LINES_PER_SECOND * (flood.as_secs() as usize + 2);
    if lines == 0 || lines > bound {
        s.fail(
            &format!(
                "{lines} log lines about {counted} refused NOTIFYs in {flood:?}; expected 1 to \
                 {bound}"
            ),
            since,
        );
    }
}

#[test]
fn zone_expires_without_its_primary_and_recovers() {
    // SOA expire 6 s; Tandem checks every second.
    let fake = FakePrimary::start(
        ZONE,
        N,
        SoaTimers {
            expire: 6,
            ..timers()
        },
        &v1(),
    );
    let t = Tandem::start_with(&["--min-refresh-seconds", "1"]);
    let sz = SecondaryZone::create(&t, ZONE, fake.addr(), false, None, 1);
    wait_served(t.dns(), ZONE, N, WAIT).unwrap();
    let s = Setup {
        t,
        fake,
        sz,
        key: None,
    };
    let ok =
        s.sz.wait_incoming("state ok", WAIT, |v| v["state"] == "ok")
            .unwrap();
    let expires = ok["expires_time"].as_str().and_then(parse_time);
    assert!(
        expires.is_some_and(|e| e > now_secs() && e < now_secs() + 7.0),
        "expires_time about 6 s ahead: {ok:#}"
    );

    let since = Instant::now();
    s.fake.set_silent(true);
    // Served until the expire time (the state may say ok or retrying meanwhile).
    let expires = expires.unwrap();
    while now_secs() < expires - 1.0 {
        let got = served(s.t.dns(), ZONE);
        let state = s.sz.incoming()["state"].clone();
        if now_secs() < expires - 0.5 && (got != Ok(N) || (state != "ok" && state != "retrying")) {
            s.fail(
                &format!("before the expire time: served {got:?}, state {state}"),
                since,
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let expired =
        s.sz.wait_incoming("state expired", WAIT, |v| v["state"] == "expired")
            .unwrap_or_else(|e| s.fail(&e, since));
    let after = since.elapsed();
    if after < Duration::from_secs(4) {
        s.fail(
            &format!("expired after {after:?}, before the SOA expire of 6 s"),
            since,
        );
    }
    let answer = served(s.t.dns(), ZONE);
    if answer != Err("SERVFAIL".to_string()) {
        s.fail(
            &format!("an expired zone answers SERVFAIL, got {answer:?}: {expired:#}"),
            since,
        );
    }
    // Nor is an expired copy transferred further (RFC 1034 §4.3.5); without the expiry the
    // request would be REFUSED by the access rule (the zone has no outgoing transfers).
    let axfr = tandem_tests::dns::tcp(s.t.dns(), &Query::new(ZONE, Rtype::AXFR));
    if axfr.rcode_name() != "SERVFAIL" {
        s.fail(
            &format!(
                "AXFR of an expired zone: {}, expected SERVFAIL",
                axfr.rcode_name()
            ),
            since,
        );
    }
    let zone = s.sz.zone();
    if zone["status"] != "expired" {
        s.fail(&format!("zone status must be expired: {zone:#}"), since);
    }

    // The primary is back: served again, state ok.
    let since = Instant::now();
    s.fake.set_silent(false);
    wait_served(s.t.dns(), ZONE, N, WAIT).unwrap_or_else(|e| s.fail(&e, since));
    s.sz.wait_incoming("state ok again", WAIT, |v| v["state"] == "ok")
        .unwrap_or_else(|e| s.fail(&e, since));
    let zone = s.sz.zone();
    assert_eq!(zone["status"], "active", "{zone:#}");
}

#[test]
fn restart_after_kill9_serves_from_the_store_and_checks_the_primary_at_once() {
    let mut s = Setup::start(&[], true, None);
    let since = s.announce(1);
    s.assert_serves(1, since);
    let before =
        s.sz.wait_incoming("IXFR applied", WAIT, |v| {
            v["peer_status"][0]["last_transfer_type"] == "IXFR"
        })
        .unwrap_or_else(|e| s.fail(&e, since));
    let next_before = before["next_refresh_time"]
        .as_str()
        .and_then(parse_time)
        .unwrap_or_else(|| s.fail(&format!("no next_refresh_time: {before:#}"), since));
    assert!(
        next_before > now_secs() + 3000.0,
        "next refresh an hour ahead: {before:#}"
    );
    // The primary goes silent: whatever Tandem serves after the restart comes from its store.
    // The expire time is read once it is silent (a check still in flight when the announce
    // was answered may move it until then; on a loaded machine one did).
    s.fake.set_silent(true);
    std::thread::sleep(Duration::from_millis(500));
    let expires_before = s.sz.incoming()["expires_time"].clone();
    assert!(expires_before.is_string(), "{before:#}");
    s.t.kill9();
    std::thread::sleep(Duration::from_millis(500));
    let restarted = Instant::now();
    s.t.restart();
    s.sz.reconnect(&s.t);
    let since = Instant::now();
    let first = served(s.t.dns(), ZONE);
    if first != Ok(N + 1) {
        s.fail(
            &format!(
                "first answer after the restart: {first:?}, expected {}",
                N + 1
            ),
            since,
        );
    }
    s.assert_serves(1, since);
    // The refresh an hour ahead is not waited for: the primary is asked within the start
    // spread (3 s), and the silence changes neither the zone nor its expire time.
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.fake.soa_queries_since(restarted) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    if s.fake.soa_queries_since(restarted) == 0 {
        s.fail("no SOA query within 10 s of the restart", restarted);
    }
    let after = s.sz.incoming();
    assert_eq!(after["soa_serial"], N + 1, "{after:#}");
    assert_eq!(after["expires_time"], expires_before, "{after:#}");
    s.assert_serves(1, since);
    let records = s.sz.api.records(&s.sz.zone_id, "name=new1.example.test");
    assert_eq!(
        records.len(),
        1,
        "the transferred records are listed: {records:?}"
    );
}

/// Hardening row 11: a NOTIFY obeyed just before a crash leaves no trace but a primary that is
/// ahead; after the restart Tandem catches up without another NOTIFY and without waiting for
/// its refresh timer (an hour here).
#[test]
fn restart_catches_up_with_a_primary_whose_notify_was_lost() {
    let mut s = Setup::start(&[], true, None);
    let since = s.announce(1);
    s.assert_serves(1, since);
    // The primary moves on; its NOTIFY never arrives (the server was being killed).
    s.fake.set_version(N + 2, &v(2));
    s.t.kill9();
    s.t.restart();
    s.sz.reconnect(&s.t);
    let since = Instant::now();
    s.assert_serves(2, since);
}
