//! Tandem as a secondary of a scripted primary (`FakePrimary`): every transfer that goes
//! wrong leaves the zone that was served before (THREATS.md "From a primary, to our secondary
//! role"), with the error in the incoming `peer_status[].last_result` and in `/metrics`; an
//! IXFR that cannot apply, or that the primary refuses, falls back to AXFR; a "you are
//! current" IXFR answer changes nothing.
//!
//! Each test starts its own Tandem and fake primary: a good first AXFR at serial `N`, then
//! the primary announces N+1 (Tandem learns it from a NOTIFY sent from the peer's address)
//! and answers the transfer in one scripted way.

use std::time::{Duration, Instant};

use tandem_tests::fake_primary::{Fault, IxfrMode};
use tandem_tests::fake_setup::{key, v, Setup, LOCALHOST, N, ZONE};
use tandem_tests::incoming::{metric, notify_from, ERROR_RESULT, WAIT};
use tandem_tests::secondary::TsigKey;

/// A good first AXFR, then a transfer of N+1 broken by `fault`: the old zone stays served,
/// the error (mentioning one of `words`) is in `last_result`, the state is `retrying`, and
/// `/metrics` counts an AXFR error. Once the primary behaves, the next NOTIFY brings N+1.
fn bad_transfer(fault: Fault, words: &[&str], args: &[&str], key: Option<&TsigKey>) {
    let s = Setup::start(args, false, key);
    s.fake.set_axfr_fault(Some(fault));
    let since = s.announce(1);
    let status =
        s.sz.wait_error(words, WAIT)
            .unwrap_or_else(|e| s.fail(&format!("{fault:?}: {e}"), since));
    eprintln!(
        "{fault:?}: last_result = {}",
        status["peer_status"][0]["last_result"]
    );
    let requests = s.fake.transfers_since(since);
    if !requests.iter().any(|r| r.is_axfr()) {
        s.fail(
            &format!("{fault:?}: no AXFR request after the NOTIFY"),
            since,
        );
    }
    s.assert_serves_n(since);
    if status["soa_serial"] != N {
        s.fail(
            &format!("{fault:?}: incoming soa_serial is not {N}: {status:#}"),
            since,
        );
    }
    let state = status["state"].as_str().unwrap_or_default().to_string();
    if state != "retrying" {
        s.fail(
            &format!("{fault:?}: state {state:?}, expected \"retrying\": {status:#}"),
            since,
        );
    }
    let zone_status = s.sz.zone()["status"].clone();
    if zone_status != "active" {
        s.fail(
            &format!("{fault:?}: zone status {zone_status}, expected active"),
            since,
        );
    }
    if s.sz.transfers_in("AXFR", ERROR_RESULT) < 1.0 {
        s.fail(
            &format!(
                "{fault:?}: no transfers_in error in /metrics:\n{}",
                s.sz.metrics()
            ),
            since,
        );
    }
    // The primary mends its ways: the next NOTIFY brings N+1.
    s.fake.set_axfr_fault(None);
    let since = s.announce(1);
    s.assert_serves(1, since);
}

#[test]
fn connection_closed_mid_axfr_keeps_the_old_zone() {
    let words = ["closed", "ended before", "eof", "incomplete", "end of"];
    bad_transfer(Fault::CloseMidway, &words, &[], None);
}

#[test]
fn first_and_last_soa_differ_keeps_the_old_zone() {
    bad_transfer(Fault::SoaMismatch, &["SOA"], &[], None);
}

#[test]
fn soa_in_the_middle_keeps_the_old_zone() {
    bad_transfer(Fault::SoaInMiddle, &["SOA"], &[], None);
}

#[test]
fn wrong_message_id_keeps_the_old_zone() {
    bad_transfer(Fault::WrongId, &["id"], &[], None);
}

#[test]
fn owner_outside_the_zone_keeps_the_old_zone() {
    bad_transfer(Fault::OutsideZone, &["outside"], &[], None);
}

#[test]
fn record_malformed_for_its_type_keeps_the_old_zone() {
    bad_transfer(
        Fault::MalformedRdata,
        &["LOC RDATA is malformed"],
        &[],
        None,
    );
}

#[test]
fn too_many_records_keeps_the_old_zone() {
    // Version N has 15 records with its SOA, N+1 has 15 plus the fault's 30 more.
    let s = Setup::start(&["--max-transfer-records", "25"], false, None);
    let mut big = v(1);
    for i in 0..30 {
        big.push_str(&format!("bulk{i} A 192.0.2.{i}\n"));
    }
    let since = Instant::now();
    s.fake.set_version(N + 1, &big);
    notify_from(LOCALHOST, s.t.dns(), ZONE, Duration::from_secs(3))
        .unwrap_or_else(|e| s.fail(&format!("NOTIFY: {e}"), since));
    let status =
        s.sz.wait_error(&["too many", "more than", "limit"], WAIT)
            .unwrap_or_else(|e| s.fail(&e, since));
    s.assert_serves_n(since);
    assert_eq!(status["soa_serial"], N, "{status:#}");
    if s.sz.transfers_in("AXFR", ERROR_RESULT) < 1.0 {
        s.fail(
            &format!("no transfers_in error in /metrics:\n{}", s.sz.metrics()),
            since,
        );
    }
}

#[test]
fn unsigned_message_covered_by_the_next_signed_one_is_accepted() {
    // RFC 8945 §5.3.1: inside a signed transfer a message may come unsigned when the next
    // signed message's MAC covers it (at most 99 in a row, the last one signed), so every
    // message is still verified. The fake primary leaves the second of four messages unsigned
    // and signs the third over it: the transfer is taken. A forged or altered unsigned
    // message would break the next MAC, and an unsigned last message fails (next test).
    let s = Setup::start(&[], false, Some(&key()));
    s.fake.set_axfr_fault(Some(Fault::UnsignedMiddle));
    let since = s.announce(1);
    s.assert_serves(1, since);
    let status =
        s.sz.wait_incoming("the transfer is reported", WAIT, |v| {
            v["peer_status"][0]["last_transfer_serial"] == N + 1
        })
        .unwrap_or_else(|e| s.fail(&e, since));
    assert_eq!(status["peer_status"][0]["last_result"], "ok", "{status:#}");
    assert_eq!(status["state"], "ok", "{status:#}");
}

#[test]
fn unsigned_last_message_of_a_signed_stream_keeps_the_old_zone() {
    let words = ["unsigned", "TSIG", "sign"];
    bad_transfer(Fault::UnsignedLast, &words, &[], Some(&key()));
}

#[test]
fn ixfr_applies_a_difference() {
    let s = Setup::start(&[], true, None);
    let first = s.sz.peer_status();
    assert_eq!(
        first["last_transfer_type"], "AXFR",
        "first transfer: {first:#}"
    );
    assert_eq!(first["last_transfer_serial"], N, "{first:#}");
    let since = s.announce(1);
    s.assert_serves(1, since);
    let status =
        s.sz.wait_incoming("IXFR reported", WAIT, |v| {
            v["peer_status"][0]["last_transfer_type"] == "IXFR"
        })
        .unwrap_or_else(|e| s.fail(&e, since));
    assert_eq!(status["state"], "ok", "{status:#}");
    assert_eq!(status["peer_status"][0]["last_result"], "ok", "{status:#}");
    assert_eq!(
        status["peer_status"][0]["last_transfer_serial"],
        N + 1,
        "{status:#}"
    );
    let requests = s.fake.transfers_since(since);
    if requests.len() != 1 || !requests[0].is_ixfr() || requests[0].client_serial != Some(N) {
        s.fail(&format!("expected one IXFR from serial {N}"), since);
    }
    assert!(s.sz.transfers_in("IXFR", "ok") >= 1.0, "{}", s.sz.metrics());
    // The per-primary gauges say the same.
    let peer = status["peer_status"][0]["peer_id"]
        .as_str()
        .unwrap_or_default();
    let text = s.sz.metrics();
    let labels = [("zone", ZONE), ("peer", peer)];
    assert_eq!(
        metric(&text, "tandem_incoming_peer_transfer_serial", &labels),
        Some(f64::from(N + 1)),
        "{text}"
    );
    assert_eq!(
        metric(&text, "tandem_incoming_peer_ok", &labels),
        Some(1.0),
        "{text}"
    );
}

/// An IXFR answer that does not apply to what we have (`fault`) is retried as AXFR, which
/// brings the new version.
fn ixfr_falls_back(s: &Setup, k: u32, what: &str) {
    let since = s.announce(k);
    s.assert_serves(k, since);
    let requests = s.fake.transfers_since(since);
    let ixfr = requests.iter().position(|r| r.is_ixfr());
    let axfr = requests.iter().rposition(|r| r.is_axfr());
    match (ixfr, axfr) {
        (Some(i), Some(a)) if i < a => {}
        _ => s.fail(&format!("{what}: expected an IXFR and then an AXFR"), since),
    }
    let status =
        s.sz.wait_incoming("AXFR reported", WAIT, |v| {
            v["peer_status"][0]["last_transfer_serial"] == N + k
        })
        .unwrap_or_else(|e| s.fail(&format!("{what}: {e}"), since));
    assert_eq!(
        status["peer_status"][0]["last_transfer_type"], "AXFR",
        "{what}: {status:#}"
    );
    assert_eq!(status["state"], "ok", "{what}: {status:#}");
}

#[test]
fn ixfr_that_does_not_apply_falls_back_to_axfr() {
    let s = Setup::start(&[], true, None);
    s.fake.set_ixfr_fault(Some(Fault::IxfrUnknownBase));
    ixfr_falls_back(&s, 1, "IXFR from a serial we do not have");
    s.fake.set_ixfr_fault(Some(Fault::IxfrDeleteMissing));
    ixfr_falls_back(&s, 2, "IXFR deleting a record that does not exist");
}

#[test]
fn ixfr_whose_soa_is_not_the_apex_falls_back_to_axfr() {
    // CVE-2021-25214: an IXFR whose opening SOA is owned by another name.
    let s = Setup::start(&[], true, None);
    s.fake.set_ixfr_fault(Some(Fault::IxfrSoaNotApex));
    ixfr_falls_back(&s, 1, "IXFR with an SOA below the apex");
}

#[test]
fn ixfr_refused_by_the_primary_falls_back_to_axfr() {
    let s = Setup::start(&[], true, None);
    for (k, (code, name)) in [(4u8, "NOTIMP"), (1, "FORMERR"), (5, "REFUSED")]
        .into_iter()
        .enumerate()
    {
        s.fake.set_ixfr_mode(IxfrMode::Rcode(code));
        ixfr_falls_back(&s, k as u32 + 1, &format!("IXFR answered {name}"));
    }
}

#[test]
fn failed_ixfr_and_failed_axfr_keep_the_old_zone() {
    let s = Setup::start(&[], true, None);
    s.fake.set_ixfr_fault(Some(Fault::IxfrUnknownBase));
    s.fake.set_axfr_fault(Some(Fault::SoaMismatch));
    let since = s.announce(1);
    s.sz.wait_error(&["SOA"], WAIT)
        .unwrap_or_else(|e| s.fail(&e, since));
    let requests = s.fake.transfers_since(since);
    if !requests.iter().any(|r| r.is_ixfr()) || !requests.iter().any(|r| r.is_axfr()) {
        s.fail("expected an IXFR and the AXFR fallback", since);
    }
    s.assert_serves_n(since);
    assert!(
        s.sz.transfers_in("AXFR", ERROR_RESULT) >= 1.0,
        "{}",
        s.sz.metrics()
    );
}

#[test]
fn ixfr_answered_you_are_current_changes_nothing() {
    let s = Setup::start(&[], true, None);
    s.fake.set_ixfr_mode(IxfrMode::SingleSoaCurrent);
    let errors_before =
        s.sz.transfers_in("IXFR", ERROR_RESULT) + s.sz.transfers_in("AXFR", ERROR_RESULT);
    let since = s.announce(1);
    // Wait for the IXFR, then give Tandem time to do anything else it would do.
    let deadline = Instant::now() + WAIT;
    while !s.fake.transfers_since(since).iter().any(|r| r.is_ixfr()) {
        if Instant::now() > deadline {
            s.fail("no IXFR after the NOTIFY", since);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    s.assert_serves_n(since);
    let requests = s.fake.transfers_since(since);
    if requests.iter().any(|r| r.is_axfr()) {
        s.fail(
            "a \"you are current\" answer must not lead to an AXFR",
            since,
        );
    }
    let status = s.sz.incoming();
    assert_eq!(status["peer_status"][0]["last_result"], "ok", "{status:#}");
    assert_eq!(status["state"], "ok", "{status:#}");
    let errors = s.sz.transfers_in("IXFR", ERROR_RESULT) + s.sz.transfers_in("AXFR", ERROR_RESULT);
    assert_eq!(
        errors,
        errors_before,
        "no transfer error counted:\n{}",
        s.sz.metrics()
    );
}

#[test]
fn requests_go_out_from_the_transfer_source() {
    // `--transfer-source`: every SOA query and transfer request leaves from that address
    // (the fake primary listens on 127.0.0.1 and records where each request came from).
    let source: std::net::IpAddr = "127.0.0.3".parse().unwrap();
    let s = Setup::start(&["--transfer-source", "127.0.0.3"], true, None);
    let since = s.announce(1);
    s.assert_serves(1, since);
    let seen = s.fake.seen();
    assert!(
        seen.iter().any(|r| r.is_axfr()) && seen.iter().any(|r| r.is_soa_query()),
        "expected the first AXFR and an SOA check:\n{}",
        s.fake.describe_since(since)
    );
    for r in seen.iter().filter(|r| r.is_soa_query() || r.is_transfer()) {
        assert_eq!(r.source.ip(), source, "{r:?}");
    }
}

#[test]
fn force_axfr_transfers_the_whole_zone_whatever_the_serials() {
    // The primary's serial is still ours: a refresh would find nothing to do, but force_axfr
    // asks for the whole zone at once, and an IXFR-enabled peer gets an AXFR request.
    let s = Setup::start(&[], true, None);
    let before = s.sz.peer_status()["last_transfer_time"].clone();
    let since = Instant::now();
    let answer = s.sz.api.post_ok(
        &format!("/zones/{}/secondary_dns/force_axfr", s.sz.zone_id),
        &serde_json::json!({}),
    );
    assert_eq!(answer, "OK");
    let status =
        s.sz.wait_incoming("a new transfer", WAIT, |v| {
            v["peer_status"][0]["last_transfer_time"] != before
        })
        .unwrap_or_else(|e| s.fail(&e, since));
    assert_eq!(
        status["peer_status"][0]["last_transfer_type"], "AXFR",
        "{status:#}"
    );
    assert_eq!(
        status["peer_status"][0]["last_transfer_serial"], N,
        "{status:#}"
    );
    let requests = s.fake.transfers_since(since);
    if requests.len() != 1 || !requests[0].is_axfr() {
        s.fail("expected exactly one AXFR request after force_axfr", since);
    }
    s.assert_serves_n(since);
}

/// A transfer in keeps every TTL RFC 2181 §8 allows, 0 to 2147483647, as the primary serves
/// it: only the API and zone-file imports hold tenants to 30 seconds and more.
#[test]
fn any_rfc2181_ttl_is_kept_as_the_primary_serves_it() {
    let s = Setup::start(&[], false, None);
    let since = Instant::now();
    s.fake.set_version(
        N + 1,
        &(v(1) + "zero 0 A 192.0.2.30\nlongest 2147483647 A 192.0.2.31\n"),
    );
    notify_from(LOCALHOST, s.t.dns(), ZONE, Duration::from_secs(3))
        .unwrap_or_else(|e| s.fail(&format!("NOTIFY: {e}"), since));
    tandem_tests::incoming::wait_served(s.t.dns(), ZONE, N + 1, WAIT)
        .unwrap_or_else(|e| s.fail(&e, since));
    for (name, want) in [("zero", "192.0.2.30"), ("longest", "192.0.2.31")] {
        let got = tandem_tests::secondary::answer(
            s.t.dns(),
            &format!("{name}.{ZONE}"),
            domain::base::iana::Rtype::A,
        )
        .unwrap();
        let ttl = if name == "zero" { 0 } else { 2_147_483_647 };
        assert_eq!(
            got,
            format!("NOERROR aa=true [{name}.{ZONE}. {ttl} IN A {want}]"),
            "{name}"
        );
    }
}

/// THREATS.md "an IXFR that ends early" (CVE-2022-27227): the primary closes the connection
/// halfway through an incremental answer. No part of the difference is ever served: the zone
/// is exactly version N until a complete transfer (here the AXFR fallback, which the fault
/// does not touch) brings exactly version N+1.
#[test]
fn ixfr_closed_midway_never_serves_a_partial_difference() {
    let s = Setup::start(&[], true, None);
    s.fake.set_records_per_message(1);
    s.fake.set_ixfr_fault(Some(Fault::CloseMidway));
    let since = Instant::now();
    s.fake.set_version(N + 1, &v(1));
    notify_from(LOCALHOST, s.t.dns(), ZONE, Duration::from_secs(3))
        .unwrap_or_else(|e| s.fail(&format!("NOTIFY: {e}"), since));
    // Until N+1 is served whole, every look at the zone sees N whole.
    let deadline = Instant::now() + WAIT;
    loop {
        match tandem_tests::incoming::served(s.t.dns(), ZONE) {
            Ok(serial) if serial == N + 1 => break,
            Ok(serial) if serial == N => {
                // Each question sees one whole version, but N+1 may be published between two
                // of them: an answer that is not N's is then N+1's, which the next look and
                // `assert_serves` below check whole.
                if let Err(why) = s.serves_n() {
                    if tandem_tests::incoming::served(s.t.dns(), ZONE) != Ok(N + 1) {
                        s.fail(&why, since);
                    }
                }
            }
            other => s.fail(&format!("served {other:?} during the broken IXFR"), since),
        }
        if Instant::now() > deadline {
            s.fail("N+1 never served", since);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    s.assert_serves(1, since);
    let kinds: Vec<u16> = s
        .fake
        .transfers_since(since)
        .iter()
        .map(|t| t.qtype)
        .collect();
    assert_eq!(
        kinds.first(),
        Some(&251),
        "an IXFR was asked first: {}",
        s.fake.describe_since(since)
    );
    assert!(
        kinds.contains(&252),
        "the AXFR fallback brought N+1: {}",
        s.fake.describe_since(since)
    );
}

/// THREATS.md "many transfers in quick succession for one zone → one at a time, no crash"
/// (CVE-2018-5736): ten new serials announced by NOTIFY, mixed with force_axfr calls, while
/// each transfer takes a while. Transfers of the zone never overlap, and the last serial is
/// served.
#[test]
fn transfers_in_quick_succession_run_one_at_a_time() {
    let mut s = Setup::start(&[], false, None);
    s.fake.set_records_per_message(2);
    s.fake.set_message_delay(Duration::from_millis(30));
    let since = Instant::now();
    let api = s.t.api();
    for k in 1..=10 {
        s.fake.set_version(N + k, &v(k));
        let _ = notify_from(LOCALHOST, s.t.dns(), ZONE, Duration::from_secs(3));
        if k % 2 == 0 {
            api.post_ok(
                &format!("/zones/{}/secondary_dns/force_axfr", s.sz.zone_id),
                &serde_json::json!({}),
            );
        }
        std::thread::sleep(Duration::from_millis(60));
    }
    s.assert_serves(10, since);
    assert!(s.t.is_running());
    let transfers = s.fake.transfers_since(since).len();
    assert!(transfers >= 1, "{}", s.fake.describe_since(since));
    assert_eq!(
        s.fake.max_concurrent_transfers(),
        1,
        "transfers of one zone overlapped ({transfers} in all): {}",
        s.fake.describe_since(since)
    );
}

/// THREATS.md "transfer larger than the zone size limit", in octets: with
/// `--max-transfer-bytes` a transfer whose records would hold more memory is given up, and
/// the old zone stays served.
#[test]
fn transfer_over_the_byte_limit_keeps_the_old_zone() {
    let s = Setup::start(&["--max-transfer-bytes", "8000"], false, None);
    let mut big = v(1);
    for i in 0..100 {
        big.push_str(&format!("bulk{i} TXT \"padding record number {i}\"\n"));
    }
    let since = Instant::now();
    s.fake.set_version(N + 1, &big);
    notify_from(LOCALHOST, s.t.dns(), ZONE, Duration::from_secs(3))
        .unwrap_or_else(|e| s.fail(&format!("NOTIFY: {e}"), since));
    let status =
        s.sz.wait_error(&["8000 bytes", "limit"], WAIT)
            .unwrap_or_else(|e| s.fail(&e, since));
    s.assert_serves_n(since);
    assert_eq!(status["soa_serial"], N, "{status:#}");
}
