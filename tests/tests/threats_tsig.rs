//! THREATS.md "TSIG", against the running server (the same cases are unit-tested in
//! `crates/xfr/src/tsig/tests/`): signed queries for a zone whose outgoing peer has a key,
//! mutated as attackers did. Each gets the RFC 8945 answer (rcode and TSIG error), never any
//! record of the zone, and the server keeps answering.

use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tandem_tests::dns::{rcode, udp_raw, Response};
use tandem_tests::Tandem;
use tandem_xfr::tsig::{sign_request, TsigKey};

const ZONE: &str = "tsig.test";
const SECRET: &str = "a2V5LWZvci10YW5kZW0tdGVzdHMtMzItYnl0ZXMhIQ==";
const NOTAUTH: u16 = 9;
const BADSIG: u16 = 16;
const BADKEY: u16 = 17;
const BADTIME: u16 = 18;
const BADTRUNC: u16 = 22;

/// An SOA query for the zone (id 0x4242, no EDNS).
fn query() -> Vec<u8> {
    let mut m = vec![0x42, 0x42, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ZONE.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 6, 0, 1]);
    m
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn key(algorithm: &str) -> TsigKey {
    TsigKey::new("k1.example.", algorithm, SECRET).unwrap()
}

/// The query signed with `key` at `time`.
fn signed(key: &TsigKey, time: u64) -> Vec<u8> {
    let mut m = query();
    sign_request(&mut m, key, time).unwrap();
    m
}

/// Where the TSIG record starts: just after the question (the query has no other records).
fn tsig_start() -> usize {
    query().len()
}

/// Offsets inside the TSIG RR of a signed query: (start of RDATA, start of the MAC size).
fn tsig_fields(m: &[u8]) -> (usize, usize) {
    let mut i = tsig_start();
    while m[i] != 0 {
        i += 1 + m[i] as usize;
    }
    i += 1 + 10; // root end, type, class, TTL, RDLENGTH
    let rdata = i;
    let mut j = rdata;
    while m[j] != 0 {
        j += 1 + m[j] as usize;
    }
    j += 1 + 6 + 2; // algorithm name end, time signed, fudge
    (rdata, j)
}

/// The rcode and the TSIG error of an answer (0 when it has no TSIG).
fn verdict(r: &Response) -> (u16, u16) {
    let tsig = r.additional().iter().find(|rr| rr.rtype.to_int() == 250);
    let error = tsig.map_or(0, |rr| {
        let d = &rr.rdata;
        let mut i = 0;
        while d[i] != 0 {
            i += 1 + d[i] as usize;
        }
        i += 1 + 6 + 2;
        let mac = u16::from_be_bytes([d[i], d[i + 1]]) as usize;
        i += 2 + mac + 2;
        u16::from_be_bytes([d[i], d[i + 1]])
    });
    (r.rcode(), error)
}

fn ask(t: &Tandem, m: &[u8]) -> Option<Response> {
    udp_raw(t.dns(), m, Duration::from_secs(2)).map(|w| Response::parse(w).unwrap())
}

#[test]
fn tsig_attacks_get_their_rfc_8945_answer_and_no_data() {
    let t = Tandem::start();
    let zone = t.load_zone(ZONE, "$TTL 300\n@ NS ns1\nns1 A 192.0.2.1\n");
    let api = t.api();
    let account = api.account_id();
    let k = api.post_ok(
        &format!("/accounts/{account}/secondary_dns/tsigs"),
        &json!({"name": "k1.example.", "algo": "hmac-sha256", "secret": SECRET}),
    );
    let peer = api.post_ok(
        &format!("/accounts/{account}/secondary_dns/peers"),
        &json!({"name": "signed", "ip": "127.0.0.1", "port": 53, "tsig_id": k["id"]}),
    );
    api.post_ok(
        &format!("/zones/{zone}/secondary_dns/outgoing"),
        &json!({"name": ZONE, "peers": [peer["id"]]}),
    );
    let good = key("hmac-sha256");
    let mut failures = Vec::new();
    let mut expect = |what: &str, m: Vec<u8>, want: Option<(u16, u16)>| {
        let got = ask(&t, &m);
        let ok = match (&got, want) {
            (None, None) => true,
            (Some(r), Some(w)) => verdict(r) == w && r.answer().is_empty(),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{what}: expected {want:?}, got {:?}\n{}",
                got.as_ref().map(verdict),
                got.map(|r| r.to_string()).unwrap_or_default()
            ));
        }
    };

    // Sanity: the good signature is accepted and the answer carries the SOA.
    let r = ask(&t, &signed(&good, now())).expect("an answer to a good signed query");
    assert_eq!(verdict(&r), (rcode::NOERROR, 0), "{r}");
    assert_eq!(r.answer().len(), 1, "{r}");

    // A known key name with a bad MAC (CVE-2017-3142/3143).
    let mut m = signed(&good, now());
    let (_, mac_size) = tsig_fields(&m);
    m[mac_size + 2] ^= 0x55;
    expect("bad MAC", m, Some((NOTAUTH, BADSIG)));

    // Bad MAC and bad time: the MAC is checked first (CVE-2017-11104).
    let mut m = signed(&good, now() - 100_000);
    let (_, mac_size) = tsig_fields(&m);
    m[mac_size + 2] ^= 0x55;
    expect("bad MAC and bad time", m, Some((NOTAUTH, BADSIG)));

    // A good MAC over Time Signed = 0 is BADTIME, not FORMERR.
    expect("time signed 0", signed(&good, 0), Some((NOTAUTH, BADTIME)));

    // Unknown algorithm (CVE-2025-40775) and unknown key name.
    let mut m = signed(&good, now());
    let (rdata, _) = tsig_fields(&m);
    // hmac-sha256. is 13 octets on the wire; write another algorithm name of the same length.
    m[rdata..rdata + 13].copy_from_slice(b"\x0bhmac-md5xyz\x00");
    expect("unknown algorithm", m, Some((NOTAUTH, BADKEY)));
    let other = TsigKey::new("k2.example.", "hmac-sha256", SECRET).unwrap();
    expect(
        "unknown key name",
        signed(&other, now()),
        Some((NOTAUTH, BADKEY)),
    );

    // MAC truncated to 16 of 32 octets, below the policy (RFC 8945 §5.2.2.1).
    let mut m = signed(&good, now());
    let (rdata, mac_size) = tsig_fields(&m);
    m[mac_size..mac_size + 2].copy_from_slice(&16u16.to_be_bytes());
    m.drain(mac_size + 2 + 16..mac_size + 2 + 32);
    let rdlen = u16::from_be_bytes([m[rdata - 2], m[rdata - 1]]) - 16;
    m[rdata - 2..rdata].copy_from_slice(&rdlen.to_be_bytes());
    expect("truncated MAC", m, Some((NOTAUTH, BADTRUNC)));

    // TSIG not last, two TSIGs, TSIG cut short: FORMERR (CVE-2016-7074).
    let good_msg = signed(&good, now());
    let tsig_rr = good_msg[tsig_start()..].to_vec();
    let mut m = good_msg.clone();
    m.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1]); // ". A 192.0.2.1"
    m[11] += 1;
    expect("TSIG not last", m, Some((rcode::FORMERR, 0)));
    let mut m = good_msg.clone();
    m.extend_from_slice(&tsig_rr);
    m[11] += 1;
    expect("two TSIGs", m, Some((rcode::FORMERR, 0)));
    let mut m = good_msg.clone();
    m.truncate(m.len() - 5);
    expect("TSIG cut short", m, Some((rcode::FORMERR, 0)));

    // A BADTIME answer replayed as a request (CVE-2020-8617): no answer at all.
    let r = ask(&t, &signed(&good, 0)).unwrap();
    let mut replay = r.wire().to_vec();
    replay[2] |= 0x80;
    expect("replayed BADTIME answer", replay, None);

    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let r = ask(&t, &signed(&good, now())).expect("still answering");
    assert_eq!(verdict(&r), (rcode::NOERROR, 0), "{r}");
}
