//! Expectation helpers for query tests: send a query over UDP or TCP, record (not panic on)
//! every way the answer differs from what the RFCs require, so one run shows every problem.

use std::io::Write;
use std::net::SocketAddr;

use domain::base::iana::{Class, Rtype};
use domain::base::{MessageBuilder, Name, Serial, Ttl};
use domain::rdata::Soa;

use crate::diff::compare_section;
use crate::dns::{self, rcode, rtype, Query, Response, Transport};
use crate::zones::{self, fqdn, rrs, SOA_MINIMUM, SOA_TTL};
use crate::Checks;

pub const BOTH: [Transport; 2] = [Transport::Udp, Transport::Tcp];

/// The SOA as negative answers must carry it: TTL min(SOA TTL, MINIMUM) (RFC 2308 §3).
pub fn negative_soa() -> String {
    format!(
        "@ {} IN SOA ns1.example.test. hostmaster.example.test. {} 7200 3600 1209600 {SOA_MINIMUM}",
        SOA_TTL.min(SOA_MINIMUM),
        zones::SERIAL
    )
}

/// Sends `q`; on a transport failure records it and returns None.
pub fn ask(c: &mut Checks, t: Transport, server: SocketAddr, q: &Query) -> Option<Response> {
    let result = match t {
        Transport::Udp => dns::try_udp(server, q),
        Transport::Tcp => std::panic::catch_unwind(|| dns::tcp(server, q)).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "TCP exchange failed".into())
        }),
    };
    match result {
        Ok(r) => Some(r),
        Err(e) => {
            c.fail(format!("{t} {q}: {e}"));
            None
        }
    }
}

/// Checks RCODE, AA and the answer section (as a set) of the answer to `q`.
pub fn expect(
    c: &mut Checks,
    t: Transport,
    server: SocketAddr,
    q: &Query,
    want_rcode: u16,
    want_aa: bool,
    answer: &str,
) -> Option<Response> {
    let r = ask(c, t, server, q)?;
    let ctx = format!("{t} {q}");
    c.check(r.rcode() == want_rcode, || {
        format!(
            "{ctx}: rcode {}, expected {}\n{r}",
            r.rcode_name(),
            rcode::name(want_rcode)
        )
    });
    c.check(r.aa() == want_aa, || {
        format!("{ctx}: AA {}, expected {want_aa}\n{r}", r.aa())
    });
    c.check(!r.tc(), || format!("{ctx}: TC set\n{r}"));
    let diffs = compare_section("answer", &rrs(answer), r.answer());
    c.check(diffs.is_empty(), || {
        format!("{ctx}: answer differs:\n  {}\n{r}", diffs.join("\n  "))
    });
    Some(r)
}

/// Checks a negative answer: RCODE, AA, the given answer (CNAMEs followed on the way) and the
/// zone's SOA alone in authority with the negative TTL.
pub fn expect_negative(
    c: &mut Checks,
    t: Transport,
    server: SocketAddr,
    q: &Query,
    want_rcode: u16,
    answer: &str,
) {
    let Some(r) = expect(c, t, server, q, want_rcode, true, answer) else {
        return;
    };
    let diffs = compare_section("authority", &rrs(&negative_soa()), r.authority());
    c.check(diffs.is_empty(), || {
        format!(
            "{t} {q}: authority must be the SOA with TTL min(TTL, MINIMUM):\n  {}\n{r}",
            diffs.join("\n  ")
        )
    });
}

pub fn q(name: &str, t: &str) -> Query {
    Query::new(&fqdn(name), rtype(t))
}

/// Sends raw bytes over `t` and parses the answer; None (recorded) when none comes.
pub fn ask_raw(
    c: &mut Checks,
    t: Transport,
    s: SocketAddr,
    what: &str,
    packet: &[u8],
) -> Option<Response> {
    let wire = match t {
        Transport::Udp => dns::udp_raw(s, packet, dns::TIMEOUT),
        Transport::Tcp => {
            let mut stream = dns::tcp_connect(s);
            stream.write_all(&dns::tcp_frame(packet)).ok();
            dns::tcp_read_frame(&mut stream).ok().flatten()
        }
    };
    let Some(wire) = wire else {
        c.fail(format!("{t} {what}: no answer"));
        return None;
    };
    match Response::parse(wire) {
        Ok(r) => Some(r),
        Err(e) => {
            c.fail(format!("{t} {what}: unparsable answer: {e}"));
            None
        }
    }
}

/// `Name::from_str` with a panic on bad input, for literals.
pub trait FromStrChecked {
    fn from_str_checked(s: &str) -> Self;
}

impl FromStrChecked for Name<Vec<u8>> {
    fn from_str_checked(s: &str) -> Self {
        s.parse().unwrap_or_else(|e| panic!("bad name {s}: {e}"))
    }
}

/// An IXFR request: the client's SOA in authority (RFC 1995 §3).
pub fn ixfr_query(id: u16, client_serial: u32) -> Vec<u8> {
    let mut builder = MessageBuilder::new_vec();
    builder.header_mut().set_id(id);
    let mut question = builder.question();
    let apex = Name::<Vec<u8>>::from_str_checked("example.test.");
    question
        .push((apex.clone(), Rtype::IXFR, Class::IN))
        .unwrap();
    let mut authority = question.authority();
    let soa = Soa::new(
        Name::<Vec<u8>>::from_str_checked("ns1.example.test."),
        Name::<Vec<u8>>::from_str_checked("hostmaster.example.test."),
        Serial(client_serial),
        Ttl::from_secs(7200),
        Ttl::from_secs(3600),
        Ttl::from_secs(1209600),
        Ttl::from_secs(300),
    );
    authority
        .push((apex, Class::IN, Ttl::from_secs(3600), soa))
        .unwrap();
    authority.finish()
}
