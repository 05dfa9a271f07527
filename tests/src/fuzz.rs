//! Fuzz harnesses: one function per `cargo fuzz` target of `fuzz/`, kept here so that the
//! committed corpus replays on stable as ordinary tests (`tests/fuzz_corpus.rs`).
//!
//! Each function takes arbitrary bytes and must not panic unless Tandem has a bug: errors are
//! the expected outcome of most inputs. Where it is cheap, a function also asserts what must
//! hold of an accepted input, so that wrong answers fail as well as crashes.

use domain::base::{Message, ParsedName};
use domain::rdata::AllRecordData;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};
use tandem_server::answer::ZoneKeys;
use tandem_server::zone::ZoneSet;
use tandem_server::{respond, AnswerConfig, Transport};
use tandem_xfr::incoming::{transfer_request, Kind, Limits, Reader, Transferred};
use tandem_xfr::tsig::{sign_request, verify_request, KeyRing, RequestState, TsigKey, Verdict};
use tandem_zone::record::{rtype, rtype_name};
use tandem_zone::text::{parse_rdata, parse_zonefile, rdata_to_text};
use tandem_zone::{serial, Name, Record, Soa, ZoneDiff, ZoneVersion};

/// The zone every harness works against (the end-to-end tests' example zone).
pub const APEX: &str = "example.test";
/// Id of the transfer and TSIG requests the answers must match.
pub const XFR_ID: u16 = 0x5a5a;
/// The serial an IXFR request says we have.
pub const OURS: u32 = 2024010100;
/// The fixed clock of the transfer reader and the TSIG harness, so that a signed seed keeps
/// verifying (RFC 8945 §5.2.3: the time is checked only after the MAC).
pub const NOW: u64 = 1_767_225_600;
/// The one TSIG key the harnesses know: `k1.example.test.`, hmac-sha256.
pub const KEY_NAME: &str = "k1.example.test.";
pub const KEY_SECRET: &str = "ZnV6emluZyBrZXkgb2YgdGhlIGV4YW1wbGUgem9uZSE=";

const SOURCE: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 200));
/// The largest UDP answer: the payload size the answering code advertises (RFC 6891 §6.2.5).
const UDP_MAX: usize = 1232;

pub fn apex() -> Name {
    Name::parse(APEX).expect("valid apex")
}

pub fn key() -> TsigKey {
    TsigKey::new(KEY_NAME, "hmac-sha256", KEY_SECRET).expect("valid key")
}

fn ring() -> &'static KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(|| std::iter::once(key()).collect())
}

/// Every zone gets the harness key, so signed queries reach the MAC check.
struct Keys(Arc<KeyRing>);

impl ZoneKeys for Keys {
    fn keys(&self, _apex: &Name) -> Option<Arc<KeyRing>> {
        Some(self.0.clone())
    }
}

struct QueryWorld {
    zones: ZoneSet,
    cfg: AnswerConfig,
}

fn query_world() -> &'static QueryWorld {
    static WORLD: OnceLock<QueryWorld> = OnceLock::new();
    WORLD.get_or_init(|| {
        let apex = apex();
        let text = crate::zones::example_zone();
        let records = parse_zonefile(&text, &apex, 300).expect("example zone parses");
        let version = ZoneVersion::build(apex.clone(), records.into_iter().map(|p| p.record))
            .expect("example zone builds");
        let zones = ZoneSet::new();
        zones.insert(apex, Some(Arc::new(version)));
        let cfg = AnswerConfig {
            keys: Some(Arc::new(Keys(Arc::new(ring().clone())))),
            ..AnswerConfig::default()
        };
        QueryWorld { zones, cfg }
    })
}

/// A query packet through the path UDP and TCP listeners use ([`respond`]): either no answer,
/// or a DNS message with the query's id and QR set that a parser of another implementation
/// reads record by record, within the transport's size limit.
pub fn query(data: &[u8]) {
    let world = query_world();
    let mut buf = Vec::with_capacity(65536);
    for transport in [Transport::Udp, Transport::Tcp] {
        buf.clear();
        let answered = respond(&world.zones, data, &mut buf, transport, SOURCE, &world.cfg);
        if answered.is_none() {
            continue;
        }
        let limit = match transport {
            Transport::Udp => UDP_MAX,
            Transport::Tcp => 65535,
        };
        assert!(
            buf.len() <= limit,
            "{transport:?} answer of {} octets",
            buf.len()
        );
        check_answer(data, &buf);
    }
}

fn check_answer(query: &[u8], answer: &[u8]) {
    assert!(answer.len() >= 12, "answer shorter than a header");
    assert_eq!(
        answer[..2],
        query[..2],
        "answer id differs from the query's"
    );
    assert!(answer[2] & 0x80 != 0, "QR clear in an answer");
    let msg = Message::from_octets(answer).expect("answer is a DNS message");
    for q in msg.question() {
        q.expect("answer question parses");
    }
    let mut section = msg.answer().expect("answer section");
    loop {
        for rr in section.by_ref() {
            let rr = rr.expect("answer record header parses");
            rr.to_record::<AllRecordData<&[u8], ParsedName<&[u8]>>>()
                .expect("answer record data parses");
        }
        match section.next_section() {
            Ok(Some(next)) => section = next,
            Ok(None) => break,
            Err(e) => panic!("answer section does not parse: {e}"),
        }
    }
}

/// Splits fuzz input into messages, each behind a 2-octet big-endian length as on TCP
/// (RFC 1035 §4.2.2); a short last one takes what is left.
pub fn split_messages(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while data.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        let rest = &data[2..];
        let take = len.min(rest.len());
        out.push(&rest[..take]);
        data = &rest[take..];
    }
    out
}

/// The inverse of [`split_messages`], for seeds.
pub fn join_messages<'a>(msgs: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        out.extend_from_slice(&(m.len() as u16).to_be_bytes());
        out.extend_from_slice(m);
    }
    out
}

/// The SOA of the version an IXFR request starts from.
fn our_soa(apex: &Name) -> Record {
    let rdata = Soa {
        mname: Name::parse("ns1.example.test").expect("name"),
        rname: Name::parse("hostmaster.example.test").expect("name"),
        serial: OURS,
        refresh: 7200,
        retry: 3600,
        expire: 1209600,
        minimum: 300,
    }
    .to_rdata();
    Record::new(apex.clone(), rtype::SOA, 3600, rdata)
}

/// The incoming transfer reader on a stream of messages, as the answer to an AXFR and to an
/// IXFR request from serial [`OURS`]. A finished answer must be whole: a full zone holds its
/// SOA once and first, differences chain from our serial to the new one, and "up to date"
/// is never newer than ours. Whatever it hands back then goes through the zone rules.
pub fn xfr_reader(data: &[u8]) {
    let apex = apex();
    let msgs = split_messages(data);
    let limits = Limits {
        max_records: 100_000,
        max_bytes: 16 << 20,
    };
    for (kind, ours) in [(Kind::Axfr, None), (Kind::Ixfr, Some(OURS))] {
        let mut reader = Reader::new(apex.clone(), kind, XFR_ID, ours, limits, None);
        let mut done = false;
        for m in &msgs {
            match reader.feed(m, NOW) {
                Ok(true) => {
                    done = true;
                    break;
                }
                Ok(false) => {}
                Err(_) => break,
            }
        }
        if !done {
            continue;
        }
        match reader.finish() {
            Err(_) => {}
            Ok(Transferred::UpToDate { serial: s }) => {
                let ours = ours.expect("only IXFR is up to date");
                assert!(!serial::is_newer(s, ours), "up to date with newer {s}");
            }
            Ok(Transferred::Full { serial: s, records }) => {
                let soas: Vec<&Record> = records.iter().filter(|r| r.rtype == rtype::SOA).collect();
                assert_eq!(soas.len(), 1, "a full zone holds its SOA once");
                assert!(records[0].rtype == rtype::SOA && records[0].owner == apex);
                assert_eq!(tandem_zone::record::soa_serial(&records[0].rdata), Some(s));
                if let Ok(v) = ZoneVersion::build(apex.clone(), records) {
                    assert_eq!(v.serial(), s);
                }
            }
            Ok(Transferred::Incremental { serial: s, diffs }) => {
                assert!(!diffs.is_empty());
                assert_eq!(diffs[0].from_serial(), ours, "differences start at ours");
                for pair in diffs.windows(2) {
                    assert_eq!(pair[0].to_serial(), pair[1].from_serial(), "gap");
                }
                assert_eq!(diffs.last().and_then(ZoneDiff::to_serial), Some(s));
                apply_diffs(&apex, &diffs);
            }
        }
    }
}

/// Applies checked differences to a version at our serial; refusals are fine, panics not.
fn apply_diffs(apex: &Name, diffs: &[ZoneDiff]) {
    let base = [
        our_soa(apex),
        Record::new(
            apex.clone(),
            rtype::NS,
            3600,
            Name::parse("ns1.example.test")
                .expect("name")
                .as_wire()
                .to_vec(),
        ),
    ];
    let Ok(mut version) = ZoneVersion::build(apex.clone(), base) else {
        panic!("the base version builds");
    };
    for d in diffs {
        match version.apply(d) {
            Ok(next) => version = next,
            Err(_) => return,
        }
    }
}

/// The request whose answers the client side of the TSIG harness verifies.
pub fn signed_transfer_request() -> (Vec<u8>, RequestState) {
    let mut msg = transfer_request(XFR_ID, &apex(), Kind::Axfr, None);
    let state = sign_request(&mut msg, &key(), NOW).expect("request signs");
    (msg, state)
}

fn request_state() -> &'static RequestState {
    static STATE: OnceLock<RequestState> = OnceLock::new();
    STATE.get_or_init(|| signed_transfer_request().1)
}

/// TSIG on arbitrary messages. The first octet chooses: even, the rest is a request checked by
/// the server side (and, when it verifies, its answer is signed); odd, the rest is the
/// answer to [`signed_transfer_request`], checked by the client side, as one message
/// (bit 1 clear) or as a stream of length-prefixed messages (bit 1 set). Every outcome is a
/// verdict or an error; an error answer of the server side is a DNS message with the id of
/// the request.
pub fn tsig_verify(data: &[u8]) {
    let Some((&mode, msg)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        match verify_request(msg, ring(), NOW) {
            Ok(Verdict::Unsigned) => {}
            Ok(Verdict::Signed(req)) => {
                let mut answer = msg[..req.tsig_start].to_vec();
                answer[2] |= 0x80;
                let mut signer = req.into_signer();
                // Signing may refuse (a message too long for its TSIG RR); it must not panic.
                let _ = signer.sign(&mut answer, NOW);
            }
            Err(rejection) => {
                if let Some(resp) = rejection.response(msg, NOW) {
                    check_answer(msg, &resp);
                }
            }
        }
        return;
    }
    let mut state = request_state().clone();
    if mode & 2 == 0 {
        let _ = state.verify_response(msg, NOW);
        let _ = state.finish();
        let mut state = request_state().clone();
        let _ = tandem_xfr::incoming::verify_answer(&mut state, msg, NOW);
    } else {
        for m in split_messages(msg) {
            if tandem_xfr::incoming::verify_answer(&mut state, m, NOW).is_err() {
                break;
            }
        }
        let _ = state.finish();
    }
}

/// Types whose RDATA the zone-text harness also parses from the input's first line.
const TEXT_TYPES: &[&str] = &[
    "A",
    "AAAA",
    "NS",
    "CNAME",
    "MX",
    "TXT",
    "SRV",
    "CAA",
    "SOA",
    "DS",
    "TLSA",
    "SSHFP",
    "HTTPS",
    "SVCB",
    "NAPTR",
    "RRSIG",
    "DNSKEY",
    "TYPE65534",
];

/// Zone-file text (lossy UTF-8) through the import parser, and its first line as the RDATA
/// of several types. Every record the parser hands back passes the RDATA check of its type
/// and reads back to the same RDATA from its presentation form.
pub fn zone_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let origin = apex();
    if let Ok(lines) = parse_zonefile(&text, &origin, 300) {
        for line in &lines {
            check_text_record(&line.record, &origin);
        }
        let _ = ZoneVersion::build(origin.clone(), lines.into_iter().map(|l| l.record));
    }
    let first = text.lines().next().unwrap_or("");
    let owner = origin.prepend(b"www").expect("name");
    for t in TEXT_TYPES {
        if let Ok(rec) = parse_rdata(&owner, t, 300, first, &origin) {
            check_text_record(&rec, &origin);
        }
    }
}

fn check_text_record(rec: &Record, origin: &Name) {
    if let Err(e) = tandem_zone::rdata::check(rec.rtype, &rec.rdata) {
        panic!("parsed record fails its check: {e}: {rec:?}");
    }
    let text = rdata_to_text(rec.rtype, &rec.rdata);
    // The owner does not change RDATA; the apex keeps odd owner names out of the way.
    match parse_rdata(origin, &rtype_name(rec.rtype), rec.ttl, &text, origin) {
        Ok(again) => assert_eq!(
            again.rdata,
            rec.rdata,
            "{} RDATA changes through its text {text:?}",
            rtype_name(rec.rtype)
        ),
        Err(e) => panic!(
            "{} RDATA shown as {text:?} does not parse again: {e}",
            rtype_name(rec.rtype)
        ),
    }
}

/// The JSON body of a record POST, read as the API handler reads it. A record it accepts
/// (and that the zone's next version would take) is shown as content that, sent back,
/// gives the same RDATA.
pub fn record_json(data: &[u8]) {
    let apex = apex();
    let Ok(accepted) = tandem_api::fuzzing::post_record(data, &apex) else {
        return;
    };
    let rec = &accepted.record;
    if tandem_zone::rdata::check(rec.rtype, &rec.rdata).is_err() {
        // Refused when the next version is built, before it is stored or shown.
        return;
    }
    match tandem_api::fuzzing::content_rdata(
        &apex,
        &rec.owner,
        rec.rtype,
        &accepted.content,
        accepted.priority,
    ) {
        Ok(again) => assert_eq!(
            again,
            rec.rdata,
            "{} RDATA changes through its shown content {:?}",
            rtype_name(rec.rtype),
            accepted.content
        ),
        Err(e) => panic!(
            "{} record shown as {:?} (priority {:?}) does not parse again: {e}",
            rtype_name(rec.rtype),
            accepted.content,
            accepted.priority
        ),
    }
}
