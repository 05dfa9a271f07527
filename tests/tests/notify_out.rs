//! Outgoing NOTIFY (RFC 1996) to a peer played by this test: sent on enable and on every new
//! serial, with the current SOA, retransmitted until answered, and counted in /metrics.

use serde_json::json;
use std::net::UdpSocket;
use std::time::{Duration, Instant};
use tandem_tests::Tandem;

struct Notify {
    id: u16,
    serial: u32,
}

/// Waits for the next NOTIFY (bounded), answering it only when `answer` is true.
fn next_notify(sock: &UdpSocket, answer: bool) -> Option<Notify> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 1024];
    while Instant::now() < deadline {
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let m = &buf[..n];
        assert!(n > 12, "short message");
        let flags = u16::from_be_bytes([m[2], m[3]]);
        assert_eq!((flags >> 11) & 0xF, 4, "opcode NOTIFY");
        assert!(flags & 0x0400 != 0, "AA set (RFC 1996 §3.7)");
        assert_eq!(u16::from_be_bytes([m[4], m[5]]), 1, "one question");
        assert_eq!(
            u16::from_be_bytes([m[6], m[7]]),
            1,
            "the SOA in the answer section"
        );
        let q = b"\x07example\x04test\x00\x00\x06\x00\x01";
        assert_eq!(&m[12..12 + q.len()], q, "question: apex SOA IN");
        // Answer: pointer to the question, type, class, TTL, RDLENGTH, then the SOA RDATA whose
        // last 20 octets are serial, refresh, retry, expire, minimum.
        let serial_at = n - 20;
        let serial = u32::from_be_bytes(m[serial_at..serial_at + 4].try_into().unwrap());
        let id = u16::from_be_bytes([m[0], m[1]]);
        if answer {
            let mut r = m[..12 + q.len()].to_vec();
            r[2] |= 0x80;
            r[3] &= 0xF0;
            r[6..12].copy_from_slice(&[0; 6]);
            sock.send_to(&r, from).unwrap();
        }
        return Some(Notify { id, serial });
    }
    None
}

#[test]
fn notify_on_enable_and_every_change_with_retransmission() {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let port = peer.local_addr().unwrap().port();

    let t = Tandem::start();
    let api = t.api();
    let zone = api.create_zone("example.test");
    let account = api.account_id();
    let p = api.post_ok(
        &format!("/accounts/{account}/secondary_dns/peers"),
        &json!({"name": "listener", "ip": "127.0.0.1", "port": port}),
    );
    api.post_ok(
        &format!("/zones/{zone}/secondary_dns/outgoing"),
        &json!({"name": "example.test", "peers": [p["id"]]}),
    );
    assert!(next_notify_quiet(&peer), "no NOTIFY while disabled");

    api.post_ok(
        &format!("/zones/{zone}/secondary_dns/outgoing/enable"),
        &json!({}),
    );
    // Ignore the first copy: the same NOTIFY must come again (RFC 1996 §3.6).
    let first = next_notify(&peer, false).expect("NOTIFY after enable");
    assert_eq!(first.serial, 1);
    let again = next_notify(&peer, true).expect("retransmitted NOTIFY");
    assert_eq!(again.id, first.id, "a retransmission keeps its ID");

    api.post_ok(
        &format!("/zones/{zone}/dns_records"),
        &json!({"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 300}),
    );
    let n = next_notify(&peer, true).expect("NOTIFY after a change");
    assert_eq!(n.serial, 2);

    api.post_ok(
        &format!("/zones/{zone}/secondary_dns/outgoing/force_notify"),
        &json!({}),
    );
    let n = next_notify(&peer, true).expect("NOTIFY on force_notify");
    assert_eq!(n.serial, 2);

    // The outcome is recorded once the answer is in, by the status writer.
    let deadline = Instant::now() + Duration::from_secs(10);
    let out = loop {
        let out = api.get_ok(&format!("/zones/{zone}/secondary_dns/outgoing"));
        let done =
            out["peer_status"][0]["last_notify_result"] == "ok" && out["checked_time"].is_string();
        if done || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let status = &out["peer_status"][0];
    assert_eq!(status["peer_id"], p["id"]);
    assert_eq!(status["last_notify_result"], "ok", "{out}");
    assert!(status["last_notify_time"].is_string(), "{out}");
    assert!(
        out["checked_time"].is_string(),
        "an acknowledged NOTIFY is a check: {out}"
    );

    let metrics = get_metrics(t.api_addr());
    assert!(
        metrics.contains("tandem_notify_sent_total{zone=\"example.test\",result=\"ok\"}"),
        "{metrics}"
    );
}

fn get_metrics(addr: std::net::SocketAddr) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Connection: close\r\n\r\n",
        tandem_tests::tandem::TOKEN
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// True when nothing arrives for a second.
fn next_notify_quiet(sock: &UdpSocket) -> bool {
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut buf = [0u8; 512];
    while Instant::now() < deadline {
        if sock.recv_from(&mut buf).is_ok() {
            return false;
        }
    }
    true
}
