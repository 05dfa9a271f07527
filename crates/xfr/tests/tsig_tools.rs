//! TSIG interop with real tools: `kdig` (Knot) and `dig` (BIND) query a tiny responder on
//! 127.0.0.1 that verifies with `verify_request` and signs with `ResponseSigner`. A missing
//! tool is skipped loudly, or fails the test when TANDEM_INTEROP=require.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tandem_xfr::render::{Owner, Response, Section};
use tandem_xfr::tsig::{verify_request, KeyRing, TsigKey, Verdict};
use tandem_xfr::{axfr, XfrConfig};
use tandem_zone::record::rtype;
use tandem_zone::text::parse_zonefile;
use tandem_zone::{Name, ZoneVersion};

const SECRET: &str = "c2VjcmV0LWtleS1mb3ItdGFuZGVtLXRlc3RzLTEyMzQ1Ng==";
const WRONG: &str = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC0xMjM0NTY=";
const RECORDS: usize = 300;
/// A `skew` above this asks the responder to damage the MAC of its answers.
const CORRUPT: u64 = 1 << 40;

/// Whether `tool` can run; prints SKIPPED (or panics under TANDEM_INTEROP=require) if not.
fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("-v").output().is_ok();
    if !ok {
        if std::env::var("TANDEM_INTEROP").as_deref() == Ok("require") {
            panic!("{tool} is not installed and TANDEM_INTEROP=require");
        }
        // Straight to stderr: the test harness captures eprintln! of passing tests.
        let _ = writeln!(std::io::stderr(), "SKIPPED: {tool} not installed");
    }
    ok
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn zone() -> ZoneVersion {
    let apex = Name::parse("example.test").unwrap();
    let mut text = String::from("@ SOA ns1 hostmaster 7 7200 3600 1209600 300\n@ NS ns1\n");
    for i in 0..RECORDS - 2 {
        text.push_str(&format!("host{i} A 192.0.2.{}\n", i % 250));
    }
    let recs = parse_zonefile(&text, &apex, 300).unwrap();
    ZoneVersion::build(apex, recs.into_iter().map(|p| p.record)).unwrap()
}

/// The answers to one request: AXFR as a stream of small signed messages, anything else as
/// the signed SOA, unsigned requests REFUSED, TSIG failures as `Rejection::response` says.
/// `skew` is added to our clock, to provoke BADTIME.
fn answer(msg: &[u8], keys: &KeyRing, v: &ZoneVersion, skew: u64) -> Vec<Vec<u8>> {
    let now = unix_now() + skew.min(CORRUPT);
    if skew > CORRUPT {
        // A BADTIME answer whose MAC is damaged (its last octet sits 12 octets from the
        // end): what kdig says when a signed error answer does not verify.
        return answer(msg, keys, v, skew - CORRUPT)
            .into_iter()
            .map(|mut a| {
                let at = a.len() - 13;
                a[at] ^= 1;
                a
            })
            .collect();
    }
    let qend = 12 + tandem_zone::name::wire_len(&msg[12..]).unwrap() + 4;
    let qtype = u16::from_be_bytes([msg[qend - 4], msg[qend - 3]]);
    let flags = 0x8400 | (u16::from_be_bytes([msg[2], msg[3]]) & 0x0100);
    let signed = match verify_request(msg, keys, now) {
        Err(r) => return r.response(msg, now).into_iter().collect(),
        Ok(Verdict::Unsigned) => {
            let mut buf = Vec::new();
            let mut r = Response::start(&mut buf, msg, qend, flags, 512);
            r.set_rcode(5);
            r.finish();
            return vec![buf];
        }
        Ok(Verdict::Signed(s)) => s,
    };
    let mut signer = signed.into_signer();
    let mut out = Vec::new();
    if qtype == rtype::AXFR {
        let cfg = signer.reserve(XfrConfig::new(2048));
        axfr(
            v,
            msg,
            qend,
            cfg,
            signer.wrap(
                || now,
                |m| {
                    out.push(m.to_vec());
                    true
                },
            ),
        )
        .unwrap();
    } else {
        let soa = v.soa_record();
        let mut body = Vec::new();
        body.extend_from_slice(&rtype::SOA.to_be_bytes());
        body.extend_from_slice(&1u16.to_be_bytes());
        body.extend_from_slice(&soa.ttl.to_be_bytes());
        body.extend_from_slice(&(soa.rdata.len() as u16).to_be_bytes());
        body.extend_from_slice(&soa.rdata);
        let mut buf = Vec::new();
        let mut r = Response::start(&mut buf, msg, qend, flags, 4096);
        r.push_rrs(
            Section::Answer,
            Owner::Name(v.apex().as_wire()),
            &body,
            None,
        )
        .unwrap();
        r.finish();
        signer.sign(&mut buf, now).unwrap();
        out.push(buf);
    }
    out
}

/// Starts a UDP and TCP responder on one free port of 127.0.0.1.
fn responder(skew: u64) -> u16 {
    let key = TsigKey::new("k1.example.", "hmac-sha256.", SECRET).unwrap();
    let keys: Arc<KeyRing> = Arc::new([key].into_iter().collect());
    let v = Arc::new(zone());
    let (udp, tcp) = loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if let Ok(tcp) = TcpListener::bind(("127.0.0.1", port)) {
            break (udp, tcp);
        }
    };
    let port = udp.local_addr().unwrap().port();
    let (k, z) = (keys.clone(), v.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 65535];
        while let Ok((n, peer)) = udp.recv_from(&mut buf) {
            if let Some(a) = answer(&buf[..n], &k, &z, skew).first() {
                let _ = udp.send_to(a, peer);
            }
        }
    });
    std::thread::spawn(move || {
        for conn in tcp.incoming().flatten() {
            let (k, z) = (keys.clone(), v.clone());
            std::thread::spawn(move || serve_tcp(conn, &k, &z, skew));
        }
    });
    port
}

fn serve_tcp(mut conn: TcpStream, keys: &KeyRing, v: &ZoneVersion, skew: u64) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    loop {
        let mut len = [0u8; 2];
        if conn.read_exact(&mut len).is_err() {
            return;
        }
        let mut msg = vec![0; u16::from_be_bytes(len) as usize];
        if conn.read_exact(&mut msg).is_err() {
            return;
        }
        for a in answer(&msg, keys, v, skew) {
            let mut framed = (a.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&a);
            if conn.write_all(&framed).is_err() {
                return;
            }
        }
    }
}

/// Runs a tool; returns (exit code, stdout and stderr together).
fn run(tool: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(tool).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("$ {tool} {}\n{text}", args.join(" "));
    (out.status.code().unwrap_or(-1), text)
}

fn kdig(port: u16, key: &str, extra: &[&str]) -> (i32, String) {
    let port = port.to_string();
    let mut args = vec!["@127.0.0.1", "-p", &port, "-y", key, "+retry=0", "+time=3"];
    args.extend_from_slice(extra);
    run("kdig", &args)
}

fn dig(port: u16, key: &str, extra: &[&str]) -> (i32, String) {
    let port = port.to_string();
    let mut args = vec!["@127.0.0.1", "-p", &port, "-y", key, "+tries=1", "+time=3"];
    args.extend_from_slice(extra);
    run("dig", &args)
}

fn good_key() -> String {
    format!("hmac-sha256:k1.example.:{SECRET}")
}

#[test]
fn kdig_accepts_our_signed_answers_and_sees_our_errors() {
    if !have("kdig") {
        return;
    }
    let port = responder(0);
    let (code, out) = kdig(port, &good_key(), &["example.test", "SOA"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains("TSIG PSEUDOSECTION"), "{out}");
    assert!(!out.contains("WARNING"), "{out}");

    let (code, out) = kdig(port, &good_key(), &["+tcp", "example.test", "AXFR"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("WARNING") && !out.contains("failed"), "{out}");
    assert!(out.contains(&format!("{} records", RECORDS + 1)), "{out}");

    // kdig prints the extended rcode (BADSIG, BADKEY) as the status; the answers are
    // unsigned (RFC 8945 §5.3.2), so it also warns that it could not verify them.
    let wrong = format!("hmac-sha256:k1.example.:{WRONG}");
    let (_, out) = kdig(port, &wrong, &["example.test", "SOA"]);
    assert!(out.contains("status: BADSIG"), "{out}");
    assert!(
        out.contains("300 0 ") && out.contains(" BADSIG 0"),
        "MAC size 0: {out}"
    );

    let unknown = format!("hmac-sha256:k9.example.:{SECRET}");
    let (_, out) = kdig(port, &unknown, &["example.test", "SOA"]);
    assert!(out.contains("status: BADKEY"), "{out}");

    let other_alg = format!("hmac-sha512:k1.example.:{SECRET}");
    let (_, out) = kdig(port, &other_alg, &["example.test", "SOA"]);
    assert!(out.contains("BADKEY"), "{out}");
}

#[test]
fn kdig_authenticates_our_badtime_answer() {
    if !have("kdig") {
        return;
    }
    // Knot checks the MAC before the time: "out of time window" means the MAC of our
    // BADTIME answer verified, as the damaged copy shows by failing differently.
    let port = responder(1000);
    let (_, out) = kdig(port, &good_key(), &["example.test", "SOA"]);
    assert!(out.contains("status: BADTIME"), "{out}");
    assert!(out.contains(" BADTIME 6 "), "6 octets of Other Data: {out}");
    assert!(out.contains("TSIG out of time window"), "{out}");
    let port = responder(CORRUPT + 1000);
    let (_, out) = kdig(port, &good_key(), &["example.test", "SOA"]);
    assert!(out.contains("failed to verify TSIG"), "{out}");
}

#[test]
fn dig_accepts_our_signed_answers_and_sees_our_errors() {
    if !have("dig") {
        return;
    }
    let port = responder(0);
    let (code, out) = dig(port, &good_key(), &["example.test", "SOA"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains("TSIG PSEUDOSECTION"), "{out}");
    assert!(!out.contains("Couldn't verify"), "{out}");

    let (code, out) = dig(port, &good_key(), &["example.test", "AXFR"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains("Couldn't verify") && !out.contains("failed"),
        "{out}"
    );
    assert!(
        out.contains(&format!("XFR size: {} records", RECORDS + 1)),
        "{out}"
    );

    let wrong = format!("hmac-sha256:k1.example.:{WRONG}");
    let (_, out) = dig(port, &wrong, &["example.test", "SOA"]);
    assert!(out.contains("NOTAUTH") && out.contains("BADSIG"), "{out}");

    assert!(out.contains("tsig indicates error"), "{out}");

    // BIND verifies the MAC of a BADTIME answer, then reports the skew; a damaged MAC is
    // a verify failure instead.
    let port = responder(1000);
    let (_, out) = dig(port, &good_key(), &["example.test", "SOA"]);
    assert!(out.contains("clocks are unsynchronized"), "{out}");
    let port = responder(CORRUPT + 1000);
    let (_, out) = dig(port, &good_key(), &["example.test", "SOA"]);
    assert!(out.contains("tsig verify failure"), "{out}");
}
