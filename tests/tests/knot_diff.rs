//! Differential test against Knot DNS: the same zone file served by knotd and by Tandem (loaded
//! through the API with `replace=true`), the same queries sent to both over UDP with EDNS
//! (payload 1232), and the answers compared section by section. A difference fails the test
//! unless an entry of `ALLOWED` with its RFC reason covers it.

use std::net::SocketAddr;

use tandem_tests::diff;
use tandem_tests::dns::{self, rtype, Edns, Query, Response};
use tandem_tests::zones::{self, example_zone, fqdn, ORIGIN};
use tandem_tests::{require_tool, Knot, Tandem};

/// Query types asked at every name.
const TYPES: &[&str] = &[
    "A",
    "AAAA",
    "NS",
    "SOA",
    "MX",
    "TXT",
    "CNAME",
    "DS",
    "SRV",
    "CAA",
    "TYPE65534",
    "RRSIG",
    "DNSKEY",
    "HTTPS",
    "SVCB",
    "TLSA",
    "SSHFP",
    "NAPTR",
    "PTR",
    "ANY",
];

/// Names that are not owners in the zone: NXDOMAIN, wildcard matches, names below the
/// delegation, below an ENT, below the explicit name under the wildcard, case-varied names and
/// names outside the zone.
const EXTRA_NAMES: &[&str] = &[
    "nx.example.test.",
    "nx.www.example.test.",
    "nothere.example.test.",
    "foo.wild.example.test.",
    "a.b.wild.example.test.",
    "x.explicit.wild.example.test.",
    "x.sub.example.test.",
    "deep.x.sub.example.test.",
    "x.ns.sub.example.test.",
    "x.a.b.c.example.test.",
    "x.b.c.example.test.",
    "WwW.ExAmPlE.test.",
    "EXAMPLE.TEST.",
    "Foo.WILD.example.test.",
    "C1.Example.Test.",
    "sUb.example.test.",
    "Big.example.TEST.",
    "www.example.org.",
    "test.",
];

/// A difference the RFCs allow: `applies` says whether it covers a given mismatch.
struct Allowance {
    reason: &'static str,
    applies: fn(&Query, &Response, &Response) -> bool,
}

const ALLOWED: &[Allowance] = &[Allowance {
    reason: "RFC 8482 §4.1-4.3: a responder may answer ANY with one RRset, a subset, or a \
             synthesized HINFO, so the answer (and the additional data it draws) may differ; \
             RCODE, flags and authority must still agree",
    applies: |q, knot, tandem| {
        q.qtype == rtype("ANY")
            && knot.rcode() == tandem.rcode()
            && knot.aa() == tandem.aa()
            && knot.tc() == tandem.tc()
            && diff::compare_section("authority", knot.authority(), tandem.authority()).is_empty()
    },
}];

fn queries() -> Vec<Query> {
    let mut names: Vec<String> = zones::NAMES.iter().map(|n| fqdn(n)).collect();
    names.extend(EXTRA_NAMES.iter().map(|s| s.to_string()));
    let mut out = Vec::new();
    for name in &names {
        for t in TYPES {
            for dnssec_ok in [false, true] {
                let mut edns = Edns::new(1232);
                edns.dnssec_ok = dnssec_ok;
                out.push(Query::new(name, rtype(t)).edns(edns));
            }
        }
    }
    out
}

/// Sends every query to both servers; returns the readable report of each difference that no
/// allowance covers, and the number of allowed ones.
fn differential(
    reference: SocketAddr,
    tested: SocketAddr,
    queries: &[Query],
) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut allowed = 0;
    for q in queries {
        let knot = dns::try_udp(reference, q);
        let tandem = dns::try_udp(tested, q);
        let (knot, tandem) = match (knot, tandem) {
            (Ok(k), Ok(t)) => (k, t),
            (k, t) => {
                let show = |r: &Result<Response, String>| match r {
                    Ok(resp) => resp.to_string(),
                    Err(e) => e.clone(),
                };
                failures.push(format!(
                    "=== {q}\n--- reference:\n{}\n--- tested:\n{}",
                    show(&k),
                    show(&t)
                ));
                continue;
            }
        };
        let differences = diff::compare(&knot, &tandem);
        if differences.is_empty() {
            continue;
        }
        if let Some(a) = ALLOWED.iter().find(|a| (a.applies)(q, &knot, &tandem)) {
            eprintln!("allowed difference for {q}: {}", a.reason);
            allowed += 1;
            continue;
        }
        failures.push(format!(
            "=== {q}\n{}\n--- reference (knotd):\n{knot}\n--- tested:\n{tandem}",
            differences
                .iter()
                .map(|d| format!("  * {d}"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    (failures, allowed)
}

fn report(failures: &[String], total: usize, allowed: usize) {
    for f in failures {
        eprintln!("{f}\n");
    }
    eprintln!(
        "{} queries compared: {} differ, {} allowed differences",
        total,
        failures.len(),
        allowed
    );
    assert!(
        failures.is_empty(),
        "{} of {total} queries answered differently (first ones below; all on stderr):\n\n{}",
        failures.len(),
        failures
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

/// Tandem and Knot answer the same zone the same way.
#[test]
fn tandem_answers_like_knot() {
    if !require_tool("knotd") {
        return;
    }
    let zone = example_zone();
    let knot = Knot::start(ORIGIN, &zone);
    let tandem = Tandem::start();
    tandem.load_zone(ORIGIN, &zone);
    let queries = queries();
    assert!(queries.len() >= 200);
    let (failures, allowed) = differential(knot.addr(), tandem.dns(), &queries);
    report(&failures, queries.len(), allowed);
}

/// The comparison itself: two knotds agree on every query, and a real difference is caught.
#[test]
fn comparison_agrees_on_knot_against_knot_and_catches_a_difference() {
    if !require_tool("knotd") {
        return;
    }
    let zone = example_zone();
    let a = Knot::start(ORIGIN, &zone);
    let b = Knot::start(ORIGIN, &zone);
    let queries = queries();
    let (failures, allowed) = differential(a.addr(), b.addr(), &queries);
    report(&failures, queries.len(), allowed);
    assert_eq!(allowed, 0, "identical servers need no allowance");

    let www_a = dns::udp(a.addr(), &Query::new("www.example.test.", rtype("A")));
    let www_aaaa = dns::udp(a.addr(), &Query::new("www.example.test.", rtype("AAAA")));
    let nx = dns::udp(a.addr(), &Query::new("nx.example.test.", rtype("A")));
    assert!(!diff::compare(&www_a, &www_aaaa).is_empty());
    assert!(!diff::compare(&www_a, &nx).is_empty());
    assert!(diff::compare(&www_a, &www_a).is_empty());
}
