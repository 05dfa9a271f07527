//! Tandem as secondary of Tandem, chained: primary → middle → third-level secondary, three
//! processes, IXFR all the way. The middle has the zone as `secondary` with incoming from the
//! primary and outgoing (configured and enabled) to the third; the third is a secondary of the
//! middle. A record changed through the primary's API reaches the third by NOTIFY and IXFR at
//! each hop (refresh intervals are an hour), which shows that the middle journals what it
//! receives and serves IXFR from that journal.

use std::time::Instant;

use domain::base::iana::Rtype;
use serde_json::json;
use tandem_tests::incoming::{create_peer, wait_served, PeerSpec, SecondaryZone, WAIT};
use tandem_tests::secondary::answer;
use tandem_tests::Tandem;

const ZONE: &str = "chain.test";
const SERIAL: u32 = 500;

fn zone_text() -> String {
    format!(
        "$ORIGIN chain.test.\n$TTL 300\n\
         @ 3600 IN SOA ns1.chain.test. hostmaster.chain.test. {SERIAL} 3600 600 1209600 300\n\
         @ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.1\nmail A 192.0.2.25\n@ MX 10 mail\n\
         txt TXT \"one\" \"two\"\n"
    )
}

/// Links `peer` as the outgoing peer of `zone_id` on `t` and enables outgoing transfers.
fn outgoing_to(t: &Tandem, zone_id: &str, peer: std::net::SocketAddr) {
    let api = t.api();
    let peer_id = create_peer(
        &api,
        &PeerSpec {
            name: "downstream",
            addr: peer,
            ixfr: false,
            tsig_id: None,
        },
    );
    api.post_ok(
        &format!("/zones/{zone_id}/secondary_dns/outgoing"),
        &json!({"name": ZONE, "peers": [peer_id]}),
    );
    api.post_ok(
        &format!("/zones/{zone_id}/secondary_dns/outgoing/enable"),
        &json!({}),
    );
}

#[test]
fn primary_to_middle_to_third_by_ixfr() {
    let primary = Tandem::start();
    let middle = Tandem::start_with(&["--min-refresh-seconds", "1"]);
    let third = Tandem::start_with(&["--min-refresh-seconds", "1"]);
    let logs = || {
        format!(
            "\n---- primary log ----\n{}\n---- middle log ----\n{}\n---- third log ----\n{}",
            primary.log_tail(3000),
            middle.log_tail(4000),
            third.log_tail(3000)
        )
    };

    let primary_zone = primary.load_zone(ZONE, &zone_text());
    // The middle: secondary of the primary, feeding the third.
    let mid = SecondaryZone::create(&middle, ZONE, primary.dns(), true, None, 3600);
    outgoing_to(&middle, &mid.zone_id, third.dns());
    // The third: secondary of the middle.
    let last = SecondaryZone::create(&third, ZONE, middle.dns(), true, None, 3600);
    // The primary sends to the middle (outgoing enabled last: its NOTIFY starts the chain).
    outgoing_to(&primary, &primary_zone, middle.dns());

    let configured = Instant::now();
    for (who, t) in [("middle", &middle), ("third", &third)] {
        wait_served(t.dns(), ZONE, SERIAL, WAIT)
            .unwrap_or_else(|e| panic!("{who}, first transfer: {e}{}", logs()));
        eprintln!(
            "{who} served the zone {:?} after the configuration",
            configured.elapsed()
        );
    }
    for (name, rtype) in [
        ("chain.test", Rtype::SOA),
        ("chain.test", Rtype::MX),
        ("www.chain.test", Rtype::A),
        ("txt.chain.test", Rtype::TXT),
    ] {
        let want = answer(primary.dns(), name, rtype);
        assert_eq!(
            answer(third.dns(), name, rtype),
            want,
            "{name} {rtype} at the third"
        );
    }

    // A change through the primary's API.
    let started = Instant::now();
    primary.api().post_ok(
        &format!("/zones/{primary_zone}/dns_records"),
        &json!({"type": "A", "name": "new", "content": "203.0.113.7", "ttl": 300}),
    );
    let serial = primary.api().soa_serial(&primary_zone);
    assert_eq!(serial, SERIAL + 1);
    wait_served(third.dns(), ZONE, serial, WAIT)
        .unwrap_or_else(|e| panic!("the change did not reach the third: {e}{}", logs()));
    eprintln!("primary → third took {:?}", started.elapsed());
    let new = answer(third.dns(), "new.chain.test", Rtype::A).unwrap();
    assert!(
        new.contains("203.0.113.7"),
        "the third serves the new record: {new}"
    );

    for (who, sz) in [("middle", &mid), ("third", &last)] {
        let status = sz
            .wait_incoming("IXFR reported", WAIT, |v| {
                v["peer_status"][0]["last_transfer_serial"] == serial
            })
            .unwrap_or_else(|e| panic!("{who}: {e}{}", logs()));
        assert_eq!(
            status["peer_status"][0]["last_transfer_type"],
            "IXFR",
            "{who} must have received the change as IXFR: {status:#}{}",
            logs()
        );
        assert!(
            sz.transfers_in("IXFR", "ok") >= 1.0,
            "{who} /metrics:\n{}",
            sz.metrics()
        );
    }
    // The middle served that IXFR to the third from its own journal.
    // The middle records its outgoing transfer after the last message is written, so the
    // third may serve the serial a moment before that record exists.
    let outgoing = format!("/zones/{}/secondary_dns/outgoing", mid.zone_id);
    let deadline = Instant::now() + WAIT;
    let out = loop {
        let out = middle.api().get_ok(&outgoing);
        if out["peer_status"][0]["last_transfer_serial"] == serial || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(
        out["peer_status"][0]["last_transfer_type"], "IXFR",
        "middle's outgoing status: {out:#}"
    );
    assert_eq!(
        out["peer_status"][0]["last_transfer_serial"], serial,
        "{out:#}"
    );
    let out = primary
        .api()
        .get_ok(&format!("/zones/{primary_zone}/secondary_dns/outgoing"));
    assert_eq!(
        out["peer_status"][0]["last_transfer_type"], "IXFR",
        "{out:#}"
    );
}
