//! The committed fuzz corpus (`fuzz/corpus/<target>/`) and crash inputs
//! (`fuzz/regressions/<target>/`) replayed through the same harnesses as the `cargo fuzz`
//! targets, on stable, so that CI catches a regression without a fuzzer.
//!
//! `cargo test -p tandem-tests --test fuzz_corpus -- --ignored write_seeds` rewrites the
//! hand-made seed inputs (files named `seed-*`) from which the corpus was grown.

use std::path::{Path, PathBuf};
use tandem_tests::fuzz::{self, apex, join_messages, key, APEX, NOW, OURS, XFR_ID};
use tandem_xfr::incoming::{transfer_request, Kind};
use tandem_xfr::tsig::{sign_request, verify_request, TsigKey, Verdict};
use tandem_xfr::XfrConfig;
use tandem_zone::record::rtype;
use tandem_zone::text::parse_zonefile;
use tandem_zone::{Name, Record, ZoneDiff, ZoneVersion};

/// A harness of `tandem_tests::fuzz`.
type Harness = fn(&[u8]);
/// Named inputs of one target.
type Seeds = Vec<(String, Vec<u8>)>;
/// A query seed: name of the file, qname, qtype and EDNS (payload size, DO).
type QueryCase = (&'static str, &'static str, u16, Option<(u16, bool)>);

const TARGETS: &[(&str, Harness)] = &[
    ("query", fuzz::query),
    ("xfr_reader", fuzz::xfr_reader),
    ("tsig_verify", fuzz::tsig_verify),
    ("zone_text", fuzz::zone_text),
    ("record_json", fuzz::record_json),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Runs every input of `dir` through `harness`; the input's path is in the panic message of
/// a failure.
fn replay(dir: &Path, harness: Harness) -> usize {
    let inputs = files(dir);
    for path in &inputs {
        let data = std::fs::read(path).expect("readable input");
        let result = std::panic::catch_unwind(|| harness(&data));
        if result.is_err() {
            panic!("{} fails its harness", path.display());
        }
    }
    inputs.len()
}

fn replay_target(target: &str) {
    let (_, harness) = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .expect("known target");
    let corpus = fuzz_dir().join("corpus").join(target);
    let n = replay(&corpus, *harness);
    assert!(n > 0, "{} is missing or empty", corpus.display());
    // Crash inputs are optional: a target that never crashed has none.
    replay(&fuzz_dir().join("regressions").join(target), *harness);
}

#[test]
fn query_corpus() {
    replay_target("query");
}

#[test]
fn xfr_reader_corpus() {
    replay_target("xfr_reader");
}

#[test]
fn tsig_verify_corpus() {
    replay_target("tsig_verify");
}

#[test]
fn zone_text_corpus() {
    replay_target("zone_text");
}

#[test]
fn record_json_corpus() {
    replay_target("record_json");
}

fn query_msg(id: u16, opcode: u8, name: &str, qtype: u16, edns: Option<(u16, bool)>) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[
        opcode << 3,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        u8::from(edns.is_some()),
    ]);
    m.extend_from_slice(Name::parse(name).expect("name").as_wire());
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    if let Some((size, dnssec_ok)) = edns {
        // OPT RR (RFC 6891 §6.1.2): root owner, class = payload size, DO in the TTL.
        m.push(0);
        m.extend_from_slice(&rtype::OPT.to_be_bytes());
        m.extend_from_slice(&size.to_be_bytes());
        m.extend_from_slice(&[0, 0, if dnssec_ok { 0x80 } else { 0 }, 0, 0, 0]);
    }
    m
}

fn query_seeds() -> Seeds {
    let cases: &[QueryCase] = &[
        ("www-a", "www.example.test", rtype::A, None),
        (
            "www-aaaa-edns",
            "www.example.test",
            rtype::AAAA,
            Some((1232, false)),
        ),
        ("apex-soa", "example.test", rtype::SOA, None),
        ("apex-any", "example.test", 255, Some((4096, true))),
        ("apex-mx", "example.test", rtype::MX, None),
        (
            "nxdomain",
            "nothere.example.test",
            rtype::A,
            Some((1232, true)),
        ),
        ("chain", "c1.example.test", rtype::A, None),
        ("referral", "host.sub.example.test", rtype::A, None),
        ("wildcard", "x.wild.example.test", rtype::TXT, None),
        ("big-txt", "big.example.test", rtype::TXT, None),
        (
            "big-txt-edns",
            "big.example.test",
            rtype::TXT,
            Some((1232, false)),
        ),
        ("tlsa", "_443._tcp.www.example.test", 52, None),
        ("https", "https.example.test", 65, Some((1232, true))),
        ("unknown-type", "unknown.example.test", 65534, None),
        (
            "signed-dnssec",
            "signed.example.test",
            rtype::A,
            Some((1232, true)),
        ),
        ("refused", "other.test", rtype::A, None),
        ("axfr", "example.test", rtype::AXFR, None),
    ];
    let mut out: Vec<(String, Vec<u8>)> = cases
        .iter()
        .map(|(n, name, t, edns)| (n.to_string(), query_msg(0x1234, 0, name, *t, *edns)))
        .collect();
    out.push((
        "notify".into(),
        query_msg(0x1235, 4, "example.test", rtype::SOA, None),
    ));
    let mut ixfr = transfer_request(0x1236, &apex(), Kind::Ixfr, Some(&old_soa()));
    out.push(("ixfr-udp".into(), ixfr.clone()));
    let mut signed = query_msg(0x1237, 0, "www.example.test", rtype::A, None);
    sign_request(&mut signed, &key(), NOW).expect("signs");
    out.push(("signed-query".into(), signed));
    sign_request(&mut ixfr, &key(), NOW).expect("signs");
    out.push(("signed-ixfr-udp".into(), ixfr));
    let mut two = query_msg(0x1238, 0, "www.example.test", rtype::A, None);
    two[5] = 2;
    out.push(("two-questions".into(), two));
    out
}

fn example_version(text: &str) -> ZoneVersion {
    let records = parse_zonefile(text, &apex(), 300).expect("zone parses");
    ZoneVersion::build(apex(), records.into_iter().map(|p| p.record)).expect("zone builds")
}

fn new_text() -> String {
    tandem_tests::zones::example_zone()
}

/// The version an IXFR request starts from: the example zone at serial [`OURS`], without
/// `mail` and with another address of `www`.
fn old_text() -> String {
    new_text()
        .replace(&tandem_tests::zones::SERIAL.to_string(), &OURS.to_string())
        .replace("mail A 192.0.2.25\n", "")
        .replace("www A 192.0.2.1\n", "www A 192.0.2.2\n")
}

fn old_soa() -> Record {
    example_version(&old_text()).soa_record()
}

fn records(v: &ZoneVersion) -> Vec<Record> {
    let mut out = Vec::new();
    for (owner, node) in v.nodes() {
        for set in node.rrsets() {
            for rd in set.rdatas() {
                out.push(Record::new(
                    tandem_zone::Name::from_wire(owner).expect("an owner name"),
                    set.rtype(),
                    set.ttl(),
                    rd.to_vec(),
                ));
            }
        }
    }
    out
}

fn question_end(name: &Name) -> usize {
    12 + name.as_wire().len() + 4
}

/// An AXFR answer of the example zone in messages of at most `max` octets.
fn axfr_messages(query: &[u8], max: usize) -> Vec<Vec<u8>> {
    let v = example_version(&new_text());
    let mut msgs = Vec::new();
    tandem_xfr::axfr(&v, query, question_end(&apex()), XfrConfig::new(max), |m| {
        msgs.push(m.to_vec());
        true
    })
    .expect("axfr renders");
    msgs
}

fn xfr_seeds() -> Seeds {
    let axfr_query = transfer_request(XFR_ID, &apex(), Kind::Axfr, None);
    let mut out = vec![
        (
            "axfr-one-message".to_string(),
            join_messages(axfr_messages(&axfr_query, 16384).iter().map(Vec::as_slice)),
        ),
        (
            "axfr-many-messages".to_string(),
            join_messages(axfr_messages(&axfr_query, 600).iter().map(Vec::as_slice)),
        ),
    ];
    let old = example_version(&old_text());
    let new = example_version(&new_text());
    let mut diff = ZoneDiff::between(&records(&old), &records(&new));
    diff.soa_first();
    let ixfr_query = transfer_request(XFR_ID, &apex(), Kind::Ixfr, Some(&old.soa_record()));
    for (name, d) in [("ixfr-diff", Some(&diff)), ("ixfr-current", None)] {
        let mut msgs = Vec::new();
        tandem_xfr::ixfr(
            &new,
            d,
            &ixfr_query,
            question_end(&apex()),
            XfrConfig::default(),
            |m| {
                msgs.push(m.to_vec());
                true
            },
        )
        .expect("ixfr renders");
        out.push((
            name.to_string(),
            join_messages(msgs.iter().map(Vec::as_slice)),
        ));
    }
    let mut up_to_date = Vec::new();
    tandem_xfr::ixfr(
        &old,
        None,
        &ixfr_query,
        question_end(&apex()),
        XfrConfig::default(),
        |m| {
            up_to_date.push(m.to_vec());
            true
        },
    )
    .expect("ixfr renders");
    out.push((
        "ixfr-up-to-date".into(),
        join_messages(up_to_date.iter().map(Vec::as_slice)),
    ));
    out
}

fn with_mode(mode: u8, msg: &[u8]) -> Vec<u8> {
    let mut out = vec![mode];
    out.extend_from_slice(msg);
    out
}

fn tsig_seeds() -> Seeds {
    let (request, _) = fuzz::signed_transfer_request();
    let mut out = vec![("request-signed".to_string(), with_mode(0, &request))];
    let unsigned = transfer_request(XFR_ID, &apex(), Kind::Axfr, None);
    out.push(("request-unsigned".into(), with_mode(0, &unsigned)));
    let other =
        TsigKey::new("k1.example.test.", "hmac-sha256", "b3RoZXIgc2VjcmV0").expect("valid key");
    let mut forged = unsigned.clone();
    sign_request(&mut forged, &other, NOW).expect("signs");
    out.push(("request-bad-mac".into(), with_mode(0, &forged)));
    let mut late = unsigned.clone();
    sign_request(&mut late, &key(), NOW + 3600).expect("signs");
    out.push(("request-bad-time".into(), with_mode(0, &late)));

    // The answer to the fixed signed request, signed as the server side signs a transfer.
    let Ok(Verdict::Signed(req)) = verify_request(&request, &[key()][..], NOW) else {
        panic!("the fixed request verifies");
    };
    let mut signer = req.into_signer();
    let mut signed = Vec::new();
    for m in axfr_messages(&unsigned, 600) {
        let mut m = m;
        signer.sign(&mut m, NOW).expect("signs");
        signed.push(m);
    }
    out.push(("answer-one".into(), with_mode(1, &signed[0])));
    out.push((
        "answer-stream".into(),
        with_mode(3, &join_messages(signed.iter().map(Vec::as_slice))),
    ));
    out
}

fn zone_text_seeds() -> Seeds {
    let small = format!(
        "$ORIGIN {APEX}.\n$TTL 600\n\
         @ IN SOA ns1 hostmaster ( 1 7200 ; refresh\n 3600 1209600 300 )\n\
         @ NS ns1\nns1 A 192.0.2.1\nwww 300 IN AAAA 2001:db8::1\n\
         txt TXT \"a \\\"quoted\\\" string\" unquoted \\065\\066\n\
         mx MX 10 mail.other.test.\n_sip._udp SRV 0 5 5060 sip\n\
         caa CAA 128 tbs \"x\"\ngen TYPE65280 \\# 4 c0000201\n\
         $ORIGIN sub.{APEX}.\nhost A 192.0.2.9\n"
    );
    let lines: &[(&str, &str)] = &[
        ("a", "192.0.2.1"),
        ("mx", "10 mail.example.test."),
        ("txt", "\"hello world\" \"second\""),
        ("srv", "0 5 5060 sip.example.test."),
        ("caa", "0 issue \"ca.example.net\""),
        ("generic", "\\# 3 abcdef"),
        ("svcb", "1 . alpn=h2,h3 port=8443"),
    ];
    let mut out = vec![
        (
            "example-zone".to_string(),
            tandem_tests::zones::example_zone().into_bytes(),
        ),
        ("small-zone".to_string(), small.into_bytes()),
    ];
    for (n, l) in lines {
        out.push((format!("rdata-{n}"), l.as_bytes().to_vec()));
    }
    out
}

fn record_json_seeds() -> Seeds {
    let bodies: &[(&str, &str)] = &[
        (
            "a",
            r#"{"type":"A","name":"www","content":"192.0.2.1","ttl":3600}"#,
        ),
        (
            "aaaa",
            r#"{"type":"AAAA","name":"@","content":"2001:db8::1","ttl":1}"#,
        ),
        (
            "mx",
            r#"{"type":"MX","name":"example.test","content":"mail.example.test","priority":10}"#,
        ),
        (
            "mx-inline",
            r#"{"type":"MX","name":"@","content":"10 mail"}"#,
        ),
        (
            "srv",
            r#"{"type":"SRV","name":"_sip._tcp","content":"60 5060 sip.example.test","priority":10}"#,
        ),
        (
            "txt",
            r#"{"type":"TXT","name":"txt","content":"\"v=spf1 -all\" \"more\"","comment":"note"}"#,
        ),
        (
            "caa",
            r#"{"type":"CAA","name":"@","content":"0 issue \"ca.example.net\"","comment":null}"#,
        ),
        (
            "uri",
            r#"{"type":"URI","name":"_http._tcp","content":"1 \"https://example.test/\"","priority":10}"#,
        ),
        (
            "cname",
            r#"{"type":"CNAME","name":"alias.example.test.","content":"www","proxied":false}"#,
        ),
        (
            "generic",
            r#"{"type":"TYPE65534","name":"x","content":"\\# 3 abcdef"}"#,
        ),
        (
            "https",
            r#"{"type":"HTTPS","name":"svc","content":"1 . alpn=h2 ipv4hint=192.0.2.1"}"#,
        ),
        (
            "ds",
            r#"{"type":"DS","name":"sub","content":"12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}"#,
        ),
    ];
    bodies
        .iter()
        .map(|(n, b)| (n.to_string(), b.as_bytes().to_vec()))
        .collect()
}

/// Writes the seed inputs into `fuzz/corpus/<target>/seed-<name>`, after checking that each
/// passes its harness.
#[test]
#[ignore = "writes the seed corpus; run by hand"]
fn write_seeds() {
    let seeds: [(&str, Seeds); 5] = [
        ("query", query_seeds()),
        ("xfr_reader", xfr_seeds()),
        ("tsig_verify", tsig_seeds()),
        ("zone_text", zone_text_seeds()),
        ("record_json", record_json_seeds()),
    ];
    for (target, inputs) in seeds {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).expect("corpus directory");
        let (_, harness) = TARGETS.iter().find(|(n, _)| *n == target).expect("target");
        for (name, data) in inputs {
            harness(&data);
            std::fs::write(dir.join(format!("seed-{name}")), data).expect("write seed");
        }
    }
}
