//! Outgoing transfers at their edges, served by the real binary: records larger than a
//! transfer message travel whole in AXFR and IXFR, plain and TSIG-signed (RFC 5936 §2.2,
//! RFC 8945 §5.3.1), read back by the tests' own client and by `dig` when it is installed;
//! requests of a class other than IN or ANY are refused; IXFR requests whose authority
//! section is not the zone's SOA get FORMERR (RFC 1995 §3), over TCP and UDP.

use domain::base::iana::Rtype;
use domain::base::message_builder::AdditionalBuilder;
use domain::base::{Message, MessageBuilder, Name as DName, Serial, Ttl};
use domain::rdata::tsig::Time48;
use domain::rdata::Soa;
use domain::tsig::{self as dt, ClientSequence};
use serde_json::json;
use std::io::Write;
use std::net::{Shutdown, SocketAddr};
use std::process::Command;
use std::str::FromStr;
use tandem_tests::dns::{raw, rcode, tcp_connect, tcp_frame, tcp_read_frame, udp_raw};
use tandem_tests::dns::{Response, Rr, TIMEOUT};
use tandem_tests::{require_tool, Tandem};

const ZONE: &str = "example.test";
const BASE: &str = "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 100 \
                    7200 3600 1209600 300\n\
                    example.test. 3600 IN NS ns1.example.test.\n\
                    ns1.example.test. 300 IN A 192.0.2.1\n";
const KEY_NAME: &str = "k1.example.";
const SECRET: &str = "a2V5LWZvci10YW5kZW0tdGVzdHMtMzItYnl0ZXMhIQ==";

/// Creates the zone (serial 100) with outgoing transfers enabled to 127.0.0.1, signed with
/// an hmac-sha256 key when `signed`. Returns the zone id.
fn serve(t: &Tandem, signed: bool) -> String {
    let zone = t.load_zone(ZONE, BASE);
    let api = t.api();
    let account = api.account_id();
    let mut peer = json!({"name": "secondary", "ip": "127.0.0.1", "port": 53});
    if signed {
        let key = api.post_ok(
            &format!("/accounts/{account}/secondary_dns/tsigs"),
            &json!({"name": KEY_NAME, "algo": "hmac-sha256", "secret": SECRET}),
        );
        peer["tsig_id"] = key["id"].clone();
    }
    let peer = api.post_ok(&format!("/accounts/{account}/secondary_dns/peers"), &peer);
    api.post_ok(
        &format!("/zones/{zone}/secondary_dns/outgoing"),
        &json!({"name": ZONE, "peers": [peer["id"]]}),
    );
    api.post_ok(
        &format!("/zones/{zone}/secondary_dns/outgoing/enable"),
        &json!({}),
    );
    zone
}

/// Adds, one change each, a TXT record of 67 strings of 255 octets (17152 octets of RDATA,
/// more than a 16 KiB message) at `big` (serial 101) and a 64800-octet record of an unknown
/// type in RFC 3597 form at `huge` (serial 102). Returns (owner, type, RDATA) of both.
fn add_big_records(t: &Tandem, zone: &str) -> Vec<(String, Rtype, Vec<u8>)> {
    let mut txt = Vec::new();
    let mut strings = Vec::new();
    for i in 0..67u8 {
        let s = char::from(b'a' + i % 26).to_string().repeat(255);
        txt.push(255);
        txt.extend_from_slice(s.as_bytes());
        strings.push(format!("\"{s}\""));
    }
    let huge: Vec<u8> = (0..64_800u32).map(|i| (i % 251) as u8).collect();
    let hex: String = huge.iter().map(|b| format!("{b:02x}")).collect();
    let api = t.api();
    for (name, rtype, content) in [
        ("big", "TXT", strings.join(" ")),
        ("huge", "TYPE65280", format!("\\# 64800 {hex}")),
    ] {
        api.post_ok(
            &format!("/zones/{zone}/dns_records"),
            &json!({"type": rtype, "name": name, "content": content, "ttl": 300}),
        );
    }
    vec![
        ("big.example.test.".into(), Rtype::TXT, txt),
        ("huge.example.test.".into(), Rtype::from_int(65280), huge),
    ]
}

/// An AXFR request, or an IXFR request carrying an SOA with serial `from`, ready for a TSIG.
fn request(id: u16, ixfr_from: Option<u32>) -> AdditionalBuilder<Vec<u8>> {
    let apex = DName::<Vec<u8>>::from_str("example.test.").unwrap();
    let mut b = MessageBuilder::new_vec();
    b.header_mut().set_id(id);
    let mut q = b.question();
    let qtype = if ixfr_from.is_some() {
        Rtype::IXFR
    } else {
        Rtype::AXFR
    };
    q.push((apex.clone(), qtype)).unwrap();
    let mut a = q.authority();
    if let Some(serial) = ixfr_from {
        let t = Ttl::from_secs;
        let soa = Soa::new(
            apex.clone(),
            apex.clone(),
            Serial(serial),
            t(1),
            t(1),
            t(1),
            t(1),
        );
        a.push((apex, 0u32, soa)).unwrap();
    }
    a.additional()
}

/// Sends `request` over TCP, half-closes, and reads every message until the server closes.
fn exchange_all(server: SocketAddr, request: &[u8]) -> Vec<Vec<u8>> {
    let mut s = tcp_connect(server);
    s.write_all(&tcp_frame(request)).expect("send the request");
    s.shutdown(Shutdown::Write).expect("half-close");
    let mut out = Vec::new();
    while let Some(m) = tcp_read_frame(&mut s).expect("read an answer message") {
        out.push(m);
    }
    out
}

/// The answer records of every message, in order, after checking that each is NOERROR.
fn answers(messages: Vec<Vec<u8>>) -> Vec<Rr> {
    let mut out = Vec::new();
    for (i, m) in messages.into_iter().enumerate() {
        let r = Response::parse(m).unwrap_or_else(|e| panic!("message {i}: {e}"));
        assert_eq!(r.rcode(), rcode::NOERROR, "message {i}: {r}");
        out.extend(r.answer().iter().cloned());
    }
    out
}

fn soa_serials(rrs: &[Rr]) -> Vec<u32> {
    rrs.iter()
        .filter(|r| r.rtype == Rtype::SOA)
        .map(|r| {
            let at = r.rdata.len() - 20;
            u32::from_be_bytes(r.rdata[at..at + 4].try_into().unwrap())
        })
        .collect()
}

/// Checks that each of `want` appears exactly once in `rrs`, byte for byte.
fn assert_carried(rrs: &[Rr], want: &[(String, Rtype, Vec<u8>)], what: &str) {
    for (owner, rtype, rdata) in want {
        let found: Vec<&Rr> = rrs
            .iter()
            .filter(|r| &r.owner == owner && r.rtype == *rtype)
            .collect();
        assert_eq!(found.len(), 1, "{what}: {owner} {rtype} once");
        assert!(
            found[0].rdata == *rdata,
            "{what}: {owner} {rtype} byte-exact"
        );
    }
}

/// Runs dig at the server with `args`; its output.
fn dig(server: SocketAddr, args: &[&str]) -> String {
    let out = Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .args([
            "-p",
            &server.port().to_string(),
            "+nocookie",
            "+tries=1",
            "+time=10",
        ])
        .args(args)
        .output()
        .expect("dig runs");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn records_larger_than_a_message_are_transferred_whole() {
    let t = Tandem::start();
    let zone = serve(&t, false);
    let big = add_big_records(&t, &zone);
    let server = t.dns();

    let messages = exchange_all(server, &request(1, None).finish());
    assert!(
        messages.iter().any(|m| m.len() > 16 * 1024),
        "the big records need messages above the 16 KiB default"
    );
    let rrs = answers(messages);
    assert_eq!(
        soa_serials(&rrs),
        vec![102, 102],
        "AXFR: SOA first and last"
    );
    assert_eq!(rrs.len(), 6, "AXFR: SOA, NS, A, TXT, TYPE65280, SOA");
    assert_carried(&rrs, &big, "AXFR");

    // IXFR from before both additions, and from between them (RFC 1995 §4).
    let rrs = answers(exchange_all(server, &request(2, Some(100)).finish()));
    assert_eq!(soa_serials(&rrs), vec![102, 100, 102, 102], "IXFR from 100");
    assert_eq!(rrs.len(), 6, "IXFR from 100: two additions");
    assert_carried(&rrs, &big, "IXFR from 100");
    let rrs = answers(exchange_all(server, &request(3, Some(101)).finish()));
    assert_eq!(soa_serials(&rrs), vec![102, 101, 102, 102], "IXFR from 101");
    assert_carried(&rrs, &big[1..], "IXFR from 101");

    if require_tool("dig") {
        let out = dig(server, &[ZONE, "AXFR"]);
        assert!(
            out.contains("XFR size: 6 records"),
            "{}",
            &out[..out.len().min(3000)]
        );
        assert!(
            out.contains("TYPE65280 \\# 64800 000102"),
            "dig shows the record"
        );
        let out = dig(server, &[ZONE, "IXFR=101"]);
        assert!(
            out.contains("TYPE65280 \\# 64800"),
            "{}",
            &out[..out.len().min(3000)]
        );
    }
}

#[test]
fn records_larger_than_a_message_are_transferred_whole_when_signed() {
    let t = Tandem::start();
    let zone = serve(&t, true);
    let big = add_big_records(&t, &zone);
    let server = t.dns();
    let secret = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(SECRET)
            .unwrap()
    };
    let key_name = dt::KeyName::from_str(KEY_NAME).unwrap();
    let key = dt::Key::new(dt::Algorithm::Sha256, &secret, key_name, None, None).unwrap();

    for (id, from) in [(11, None), (12, Some(100))] {
        let mut b = request(id, from);
        let mut seq = ClientSequence::request(&key, &mut b, Time48::now()).unwrap();
        let mut verified = Vec::new();
        for (i, m) in exchange_all(server, &b.finish()).into_iter().enumerate() {
            assert!(m.len() <= 65535);
            let mut msg = Message::from_octets(m).unwrap();
            seq.answer(&mut msg, Time48::now())
                .unwrap_or_else(|e| panic!("{from:?}: message {i} does not verify: {e}"));
            verified.push(msg.into_octets());
        }
        seq.done().expect("the last message is signed");
        let rrs = answers(verified);
        assert_eq!(soa_serials(&rrs).first(), Some(&102));
        assert_carried(&rrs, &big, &format!("signed, IXFR from {from:?}"));
    }

    if require_tool("dig") {
        let y = format!("hmac-sha256:{KEY_NAME}:{SECRET}");
        let out = dig(server, &["-y", &y, ZONE, "AXFR"]);
        let head = &out[..out.len().min(3000)];
        assert!(out.contains("XFR size: 6 records"), "{head}");
        assert!(!out.contains("Couldn't verify"), "{head}");
    }
}

/// A transfer request for the zone with QCLASS `class`, and for IXFR the client's SOA.
fn class_request(id: u16, qtype: u16, class: u16) -> Vec<u8> {
    let ixfr = qtype == 251;
    let mut m = raw::header(id, 0, 1, 0, u16::from(ixfr), 0);
    m.extend(raw::name(ZONE));
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&class.to_be_bytes());
    if ixfr {
        m.extend(soa_rr(&[0xC0, 12], 100));
    }
    m
}

/// An SOA record owned by `owner` with compressed names and serial `serial`, class IN.
fn soa_rr(owner: &[u8], serial: u32) -> Vec<u8> {
    let mut rdata = vec![0xC0, 12, 0xC0, 12];
    for n in [serial, 7200, 3600, 1_209_600, 300] {
        rdata.extend_from_slice(&n.to_be_bytes());
    }
    rr(owner, 6, &rdata)
}

fn rr(owner: &[u8], t: u16, rdata: &[u8]) -> Vec<u8> {
    let mut r = owner.to_vec();
    r.extend_from_slice(&t.to_be_bytes());
    r.extend_from_slice(&[0, 1, 0, 0, 0, 0]);
    r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    r.extend_from_slice(rdata);
    r
}

#[test]
fn transfers_of_another_class_are_refused() {
    let t = Tandem::start();
    serve(&t, false);
    let server = t.dns();
    for qtype in [252u16, 251] {
        for class in [3u16, 4, 254] {
            let answer = exchange_all(server, &class_request(7, qtype, class));
            assert_eq!(answer.len(), 1, "type {qtype} class {class}: one message");
            let r = Response::parse(answer[0].clone()).unwrap();
            assert_eq!(r.rcode(), rcode::REFUSED, "type {qtype} class {class}: {r}");
            assert!(r.answer().is_empty(), "type {qtype} class {class}: {r}");
        }
        // IN and ANY (which stands for IN) are served.
        for class in [1u16, 255] {
            let rrs = answers(exchange_all(server, &class_request(8, qtype, class)));
            assert_eq!(soa_serials(&rrs)[0], 100, "type {qtype} class {class}");
        }
    }
}

#[test]
fn ixfr_requests_without_a_proper_soa_get_formerr() {
    let t = Tandem::start();
    serve(&t, false);
    let server = t.dns();
    let good = soa_rr(&[0xC0, 12], 100);
    let body = &good[12..]; // the RDATA: two pointers and the timers
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("no authority record", Vec::new()),
        ("an A record", rr(&[0xC0, 12], 1, &[192, 0, 2, 1])),
        (
            "an SOA of another zone",
            soa_rr(&raw::name("other.test"), 100),
        ),
        (
            "an SOA below the apex",
            soa_rr(&raw::name("www.example.test"), 100),
        ),
        (
            "timers cut short",
            rr(&[0xC0, 12], 6, &body[..body.len() - 4]),
        ),
        (
            "an octet after the timers",
            rr(&[0xC0, 12], 6, &[body, &[0]].concat()),
        ),
        ("a truncated MNAME", rr(&[0xC0, 12], 6, b"\x05ab")),
    ];
    for (what, authority) in cases {
        let mut m = raw::header(9, 0, 1, 0, u16::from(!authority.is_empty()), 0);
        m.extend(raw::question(&raw::name(ZONE), 251));
        m.extend(authority);
        let answer = exchange_all(server, &m);
        assert_eq!(answer.len(), 1, "TCP, {what}: one message");
        let r = Response::parse(answer[0].clone()).unwrap();
        assert_eq!(r.rcode(), rcode::FORMERR, "TCP, {what}: {r}");
        assert!(r.answer().is_empty(), "TCP, {what}: {r}");
        let wire = udp_raw(server, &m, TIMEOUT).unwrap_or_else(|| panic!("UDP, {what}: no answer"));
        let r = Response::parse(wire).unwrap();
        assert_eq!(r.rcode(), rcode::FORMERR, "UDP, {what}: {r}");
        assert!(r.answer().is_empty(), "UDP, {what}: {r}");
    }
    // The same request with a proper SOA: one SOA, the client is current.
    let mut m = raw::header(10, 0, 1, 0, 1, 0);
    m.extend(raw::question(&raw::name(ZONE), 251));
    m.extend(good);
    assert_eq!(soa_serials(&answers(exchange_all(server, &m))), vec![100]);
    let r = Response::parse(udp_raw(server, &m, TIMEOUT).expect("UDP answer")).unwrap();
    assert_eq!(r.rcode(), rcode::NOERROR, "{r}");
    assert_eq!(soa_serials(r.answer()), vec![100]);
}

/// THREATS.md "AXFR or IXFR over UDP": even from a peer allowed to transfer the zone, an AXFR
/// over UDP gets an error and no records (RFC 5936 §4.2: AXFR is TCP only), and an IXFR over
/// UDP from a serial the journal cannot serve gets a single SOA (RFC 1995 §2), never a
/// multi-message answer.
#[test]
fn transfers_over_udp_from_an_allowed_peer_get_no_zone() {
    let t = Tandem::start();
    serve(&t, false);
    let server = t.dns();
    let axfr = class_request(9, 252, 1);
    let got = udp_raw(server, &axfr, std::time::Duration::from_secs(3)).expect("an answer");
    let r = Response::parse(got).unwrap();
    assert!(
        [rcode::REFUSED, rcode::FORMERR, rcode::NOTIMP].contains(&r.rcode()),
        "AXFR over UDP: {r}"
    );
    assert!(
        r.answer().is_empty(),
        "AXFR over UDP carries no records: {r}"
    );

    let ixfr = request(10, Some(50)).finish();
    let got = udp_raw(server, &ixfr, std::time::Duration::from_secs(3)).expect("an answer");
    let r = Response::parse(got).unwrap();
    assert_eq!(r.rcode(), rcode::NOERROR, "{r}");
    assert_eq!(
        soa_serials(r.answer()),
        vec![100],
        "one SOA, the current one: {r}"
    );
    assert_eq!(r.answer().len(), 1, "{r}");
}
