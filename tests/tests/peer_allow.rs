//! `--peer-allow` (issue: hardening, row 6): the operator bounds where a tenant's peers may
//! point the server's own traffic. A peer stored before the ranges were narrowed is never sent
//! to — no SOA query or transfer request to a primary, no NOTIFY to a secondary, no live
//! serial probe — and each status says why.

use serde_json::json;
use std::net::UdpSocket;
use std::time::{Duration, Instant};
use tandem_tests::fake_setup::{self, Setup, N, ZONE};

/// Waits up to `wait` for a datagram on `sock`; `true` when one came.
fn received(sock: &UdpSocket, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 1024];
    while Instant::now() < deadline {
        if sock.recv_from(&mut buf).is_ok() {
            return true;
        }
    }
    false
}

#[test]
fn peers_outside_peer_allow_are_never_sent_to() {
    // A secondary zone that had its first transfer from the fake primary on 127.0.0.1, and a
    // full zone whose outgoing NOTIFYs go to a socket on 127.0.0.1.
    let mut s = Setup::start(&[], false, None);
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    listener
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let api = s.t.api();
    let account = api.account_id();
    let downstream = api.post_ok(
        &format!("/accounts/{account}/secondary_dns/peers"),
        &json!({"name": "downstream", "ip": "127.0.0.1",
                "port": listener.local_addr().unwrap().port()}),
    );
    let full = api.create_zone("full.test");
    api.post_ok(
        &format!("/zones/{full}/secondary_dns/outgoing"),
        &json!({"name": "full.test", "peers": [downstream["id"]]}),
    );
    api.post_ok(
        &format!("/zones/{full}/secondary_dns/outgoing/enable"),
        &json!({}),
    );
    assert!(
        received(&listener, Duration::from_secs(10)),
        "a NOTIFY reaches the peer while any address is allowed"
    );

    // The operator narrows the ranges; the stored peers now lie outside them.
    s.t.set_args(&["--min-refresh-seconds", "1", "--peer-allow", "192.0.2.0/24"]);
    s.t.restart();
    s.sz.reconnect(&s.t);
    let api = s.t.api();
    while listener.recv_from(&mut [0u8; 512]).is_ok() {}

    // Transfers in: a primary outside the ranges is skipped with the reason, nothing is sent.
    let since = Instant::now();
    s.fake.set_version(N + 1, &fake_setup::v(1));
    api.post_ok(
        &format!("/zones/{}/secondary_dns/force_axfr", s.sz.zone_id),
        &json!({}),
    );
    let status =
        s.sz.wait_error(&["--peer-allow"], Duration::from_secs(20))
            .unwrap();
    assert!(
        s.fake.seen_since(since).is_empty(),
        "nothing reached the primary: {}\n{status:#}",
        s.fake.describe_since(since)
    );
    assert_eq!(
        tandem_tests::incoming::served(s.t.dns(), ZONE).unwrap(),
        N,
        "the zone keeps the version it had"
    );

    // NOTIFY out: a change makes no NOTIFY to the peer outside the ranges; its status says why.
    api.post_ok(
        &format!("/zones/{full}/dns_records"),
        &json!({"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 300}),
    );
    api.post_ok(
        &format!("/zones/{full}/secondary_dns/outgoing/force_notify"),
        &json!({}),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let out = loop {
        let out = api.get_ok(&format!("/zones/{full}/secondary_dns/outgoing"));
        let result = out["peer_status"][0]["last_notify_result"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if result.contains("--peer-allow") || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(150));
    };
    assert!(
        out["peer_status"][0]["last_notify_result"]
            .as_str()
            .unwrap_or_default()
            .contains("--peer-allow"),
        "{out:#}"
    );
    assert!(
        !received(&listener, Duration::from_secs(3)),
        "no NOTIFY reaches a peer outside --peer-allow"
    );

    // The live probe does not ask either.
    let since = Instant::now();
    let serials = api.get_ok(&format!(
        "/zones/{}/secondary_dns/peer_serials",
        s.sz.zone_id
    ));
    assert!(
        serials[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("--peer-allow"),
        "{serials:#}"
    );
    assert!(s.fake.seen_since(since).is_empty());

    // And a new peer inside the old ranges is refused by the API.
    let refused = api.post_json(
        &format!("/accounts/{account}/secondary_dns/peers"),
        &json!({"name": "again", "ip": "127.0.0.1", "port": 53}),
    );
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.error_messages().contains("--peer-allow"));
}
