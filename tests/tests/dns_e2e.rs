//! End-to-end query answering (PRODUCT.md §2): Tandem started as a process, the example zone
//! loaded through the API, and every kind of answer checked over UDP and TCP with the tests'
//! own DNS client. `TANDEM_E2E_REFERENCE=knotd` runs the same checks against knotd, to check
//! the expectations themselves.

use std::collections::BTreeSet;
use std::io::Write;

use domain::base::iana::{Class, Opcode, Rtype};
use domain::base::{MessageBuilder, Name};
use tandem_tests::diff::compare_section;
use tandem_tests::dns::{self, raw, rcode, rtype, Edns, Query, Response, Transport};
use tandem_tests::expect::{
    ask, ask_raw, expect, expect_negative, ixfr_query, negative_soa, q, FromStrChecked, BOTH,
};
use tandem_tests::zones::{self, fqdn, rrs, BIG_TXT_COUNT};
use tandem_tests::{Checks, ExampleServer};

#[test]
fn positive_answers_are_authoritative_and_exact() {
    let server = ExampleServer::start();
    let s = server.dns();
    let mut c = Checks::new();
    let cases: &[(&str, &str, &str)] = &[
        ("@", "SOA", "@ 3600 SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 300"),
        ("@", "NS", "@ NS ns1\n@ NS ns2.other.test."),
        ("@", "MX", "@ MX 10 mail\n@ MX 20 mail.other.test."),
        ("@", "TXT", "@ TXT \"v=spf1 -all\""),
        ("@", "CAA", "@ CAA 0 issue \"ca.example.net\""),
        ("www", "A", "www A 192.0.2.1"),
        ("www", "AAAA", "www AAAA 2001:db8::1"),
        ("www", "SSHFP", "www SSHFP 4 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
        ("_443._tcp.www", "TLSA", "_443._tcp.www TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
        ("_sip._tcp", "SRV", "_sip._tcp SRV 10 60 5060 sip"),
        ("https", "HTTPS", "https HTTPS 1 . alpn=h2,h3"),
        ("svc", "SVCB", "svc SVCB 1 sip port=8443"),
        ("naptr", "NAPTR", "naptr NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._tcp.example.test."),
        ("ptr", "PTR", "ptr PTR www.example.test."),
        ("ext", "CNAME", "ext CNAME www.other.test."),
        ("c1", "CNAME", "c1 CNAME c2"),
        ("signed", "A", "signed A 192.0.2.7"),
        ("a.b.c", "A", "a.b.c A 192.0.2.102"),
    ];
    for t in BOTH {
        for (name, ty, answer) in cases {
            expect(&mut c, t, s, &q(name, ty), rcode::NOERROR, true, answer);
        }
        // The question is echoed as asked, case included (RFC 1035 §4.1.2; resolvers that
        // randomize case depend on it), and names match case-insensitively (RFC 4343).
        let mixed = Query::new("WwW.ExAmPlE.tEsT.", Rtype::A);
        if let Some(r) = expect(
            &mut c,
            t,
            s,
            &mixed,
            rcode::NOERROR,
            true,
            "www A 192.0.2.1",
        ) {
            c.eq(
                r.question_as_sent(),
                vec![("WwW.ExAmPlE.tEsT.".to_string(), Rtype::A)],
                &format!("{t} question echo"),
            );
        }
    }
    c.finish();
}

#[test]
fn negative_answers_carry_the_soa_with_the_negative_ttl() {
    let server = ExampleServer::start();
    let s = server.dns();
    let mut c = Checks::new();
    for t in BOTH {
        for name in ["nx", "nx.www", "x.explicit.wild", "x.a.b.c", "nothere"] {
            expect_negative(&mut c, t, s, &q(name, "A"), rcode::NXDOMAIN, "");
        }
        // NODATA: the name exists (with other types, or as an empty non-terminal).
        for (name, ty) in [
            ("www", "MX"),
            ("www", "TXT"),
            ("b.c", "A"),
            ("c", "A"),
            ("_tcp.www", "A"),
            ("wild", "A"),
            ("@", "A"),
            ("ns1", "MX"),
        ] {
            expect_negative(&mut c, t, s, &q(name, ty), rcode::NOERROR, "");
        }
    }
    c.finish();
}

#[test]
fn referrals_at_and_below_the_delegation() {
    let server = ExampleServer::start();
    let s = server.dns();
    let mut c = Checks::new();
    let ns = rrs("sub NS ns.sub\nsub NS ns.other.test.");
    let glue = rrs("ns.sub A 192.0.2.54");
    for t in BOTH {
        for (name, ty) in [
            ("sub", "A"),
            ("sub", "NS"),
            ("x.sub", "A"),
            ("deep.x.sub", "MX"),
            ("ns.sub", "A"),
            ("x.sub", "DS"),
        ] {
            let query = q(name, ty);
            let Some(r) = expect(&mut c, t, s, &query, rcode::NOERROR, false, "") else {
                continue;
            };
            let diffs = compare_section("authority", &ns, r.authority());
            c.check(diffs.is_empty(), || {
                format!(
                    "{t} {query}: referral authority must be the NS RRset of sub:\n  {}\n{r}",
                    diffs.join("\n  ")
                )
            });
            let glue_present = glue
                .iter()
                .all(|g| r.additional().iter().any(|a| a.key() == g.key()));
            c.check(glue_present, || {
                format!("{t} {query}: glue ns.sub A missing from additional\n{r}")
            });
            let only_glue = r.additional().iter().all(|a| {
                a.owner == "ns.sub.example.test." && (a.rtype == Rtype::A || a.rtype == Rtype::AAAA)
            });
            c.check(only_glue, || {
                format!("{t} {query}: additional holds more than glue\n{r}")
            });
        }
        // DS belongs to the parent side of the cut: answered authoritatively (RFC 4035 §3.1.4.1).
        expect(
            &mut c,
            t,
            s,
            &q("sub", "DS"),
            rcode::NOERROR,
            true,
            "sub DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        );
    }
    c.finish();
}

#[test]
fn wildcards_synthesize_only_where_no_name_exists() {
    let server = ExampleServer::start();
    let s = server.dns();
    let mut c = Checks::new();
    for t in BOTH {
        // Synthesis: the owner is the query name (RFC 4592 §3.3.1).
        expect(
            &mut c,
            t,
            s,
            &q("foo.wild", "A"),
            rcode::NOERROR,
            true,
            "foo.wild A 192.0.2.100",
        );
        expect(
            &mut c,
            t,
            s,
            &q("foo.wild", "TXT"),
            rcode::NOERROR,
            true,
            "foo.wild TXT \"wildcard\"",
        );
        expect(
            &mut c,
            t,
            s,
            &q("a.b.wild", "A"),
            rcode::NOERROR,
            true,
            "a.b.wild A 192.0.2.100",
        );
        expect(
            &mut c,
            t,
            s,
            &q("*.wild", "A"),
            rcode::NOERROR,
            true,
            "*.wild A 192.0.2.100",
        );
        // No synthesis for an existing name, nor for a type the wildcard lacks.
        expect(
            &mut c,
            t,
            s,
            &q("explicit.wild", "A"),
            rcode::NOERROR,
            true,
            "explicit.wild A 192.0.2.101",
        );
        expect_negative(&mut c, t, s, &q("explicit.wild", "TXT"), rcode::NOERROR, "");
        expect_negative(&mut c, t, s, &q("foo.wild", "MX"), rcode::NOERROR, "");
        // Below an existing name the wildcard one level up does not apply (RFC 4592 §2.2.1).
        expect_negative(
            &mut c,
            t,
            s,
            &q("x.explicit.wild", "A"),
            rcode::NXDOMAIN,
            "",
        );
    }
    c.finish();
}

#[test]
fn cname_chains_are_followed_inside_the_zone() {
    let server = ExampleServer::start();
    let s = server.dns();
    let mut c = Checks::new();
    for t in BOTH {
        expect(
            &mut c,
            t,
            s,
            &q("c1", "A"),
            rcode::NOERROR,
            true,
            "c1 CNAME c2\nc2 CNAME c3\nc3 CNAME www\nwww A 192.0.2.1",
        );
        expect(
            &mut c,
            t,
            s,
            &q("c2", "AAAA"),
            rcode::NOERROR,
            true,
            "c2 CNAME c3\nc3 CNAME www\nwww AAAA 2001:db8::1",
        );
        // A target outside the zone is left to the resolver.
        expect(
            &mut c,
            t,
            s,
            &q("ext", "A"),
            rcode::NOERROR,
            true,
            "ext CNAME www.other.test.",
        );
        // The RCODE is that of the last name in the chain (RFC 6604 §3).
        expect_negative(
            &mut c,
            t,
            s,
            &q("dangling", "A"),
            rcode::NXDOMAIN,
            "dangling CNAME nothere",
        );
        // A chain ending in NODATA: CNAMEs in the answer, SOA in authority.
        expect_negative(
            &mut c,
            t,
            s,
            &q("c1", "MX"),
            rcode::NOERROR,
            "c1 CNAME c2\nc2 CNAME c3\nc3 CNAME www",
        );
    }
    c.finish();
}

#[test]
fn refused_notimp_and_formerr() {
    let server = ExampleServer::start();
    let s = server.dns();
    let mut c = Checks::new();
    for t in BOTH {
        for name in ["www.example.org.", "example.org.", "test.", "other.test."] {
            let query = Query::new(name, Rtype::A);
            if let Some(r) = ask(&mut c, t, s, &query) {
                c.check(r.rcode() == rcode::REFUSED && r.answer().is_empty(), || {
                    format!("{t} {query}: expected REFUSED with no answer\n{r}")
                });
            }
        }
        for op in [3u8, 7, 15] {
            let query = q("www", "A")
                .opcode(Opcode::from_int(op))
                .id(0x5100 + u16::from(op));
            if let Some(r) = ask(&mut c, t, s, &query) {
                c.check(r.rcode() == rcode::NOTIMP && r.answer().is_empty(), || {
                    format!("{t} opcode {op}: expected NOTIMP\n{r}")
                });
                c.eq(r.opcode().to_int(), op, &format!("{t} opcode {op} echoed"));
            }
        }
        // QDCOUNT = 0.
        let packet = raw::header(0x6001, raw::query_flags(0), 0, 0, 0, 0);
        if let Some(r) = ask_raw(&mut c, t, s, "QDCOUNT=0", &packet) {
            c.check(
                r.rcode() == rcode::FORMERR && r.id() == 0x6001 && r.qr(),
                || format!("{t} QDCOUNT=0: expected FORMERR\n{r}"),
            );
        }
        // QDCOUNT = 2.
        let mut builder = MessageBuilder::new_vec();
        builder.header_mut().set_id(0x6002);
        let mut question = builder.question();
        for name in ["www.example.test.", "mail.example.test."] {
            let name = Name::<Vec<u8>>::from_str_checked(name);
            question.push((name, Rtype::A, Class::IN)).unwrap();
        }
        let packet = question.finish();
        if let Some(r) = ask_raw(&mut c, t, s, "QDCOUNT=2", &packet) {
            c.check(r.rcode() == rcode::FORMERR && r.answer().is_empty(), || {
                format!("{t} QDCOUNT=2: expected FORMERR\n{r}")
            });
        }
    }
    c.finish();
}

#[test]
fn edns_opt_do_bit_and_badvers() {
    let server = ExampleServer::start();
    let s = server.dns();
    let mut c = Checks::new();
    let rrsig_a = "signed RRSIG A 13 3 3600 20300101000000 20200101000000 12345 example.test. \
                   AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";
    let rrsig_soa = "@ 300 RRSIG SOA 13 2 3600 20300101000000 20200101000000 12345 example.test. \
                     AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";
    for t in BOTH {
        // No OPT in, no OPT out (RFC 6891 §7).
        if let Some(r) = ask(&mut c, t, s, &q("www", "A")) {
            c.eq(r.opt_count(), 0, &format!("{t} OPT count without EDNS"));
        }
        // OPT in: exactly one OPT out, version 0, DO echoed (RFC 3225 §3).
        for dnssec_ok in [false, true] {
            let mut edns = Edns::new(1232);
            edns.dnssec_ok = dnssec_ok;
            let query = q("www", "A").edns(edns);
            if let Some(r) = expect(
                &mut c,
                t,
                s,
                &query,
                rcode::NOERROR,
                true,
                "www A 192.0.2.1",
            ) {
                c.eq(r.opt_count(), 1, &format!("{t} {query}: OPT count"));
                if let Some(opt) = r.opt() {
                    c.eq(opt.version, 0, &format!("{t} {query}: OPT version"));
                    c.eq(opt.dnssec_ok, dnssec_ok, &format!("{t} {query}: DO echoed"));
                }
            }
        }
        // RRSIGs of a pre-signed zone only when DO is set (RFC 4035 §3.1.1).
        expect(
            &mut c,
            t,
            s,
            &q("signed", "A").edns(Edns::new(1232)),
            rcode::NOERROR,
            true,
            "signed A 192.0.2.7",
        );
        expect(
            &mut c,
            t,
            s,
            &q("signed", "A").dnssec(),
            rcode::NOERROR,
            true,
            &format!("signed A 192.0.2.7\n{rrsig_a}"),
        );
        // With DO, a negative answer also carries the SOA's RRSIG (RFC 4035 §3.1.3).
        if let Some(r) = expect(
            &mut c,
            t,
            s,
            &q("nx", "A").dnssec(),
            rcode::NXDOMAIN,
            true,
            "",
        ) {
            let want = rrs(&format!("{}\n{rrsig_soa}", negative_soa()));
            let missing: Vec<_> = want
                .iter()
                .filter(|w| !r.authority().iter().any(|a| a.key() == w.key()))
                .map(|w| w.text.clone())
                .collect();
            c.check(missing.is_empty(), || {
                format!("{t} nx A +DO: authority lacks {missing:?}\n{r}")
            });
        }
        if let Some(r) = ask(&mut c, t, s, &q("nx", "A").edns(Edns::new(1232))) {
            let sigs = Response::of_type(r.authority(), Rtype::RRSIG);
            c.check(sigs.is_empty(), || {
                format!("{t} nx A without DO: RRSIG in authority\n{r}")
            });
        }
        // Unknown EDNS version: BADVERS, with an OPT of version 0 (RFC 6891 §6.1.3).
        let mut edns = Edns::new(1232);
        edns.version = 1;
        let query = q("www", "A").edns(edns);
        if let Some(r) = ask(&mut c, t, s, &query) {
            c.check(r.rcode() == rcode::BADVERS && r.answer().is_empty(), || {
                format!("{t} EDNS version 1: expected BADVERS (16), no answer\n{r}")
            });
            c.check(r.opt().is_some_and(|o| o.version == 0), || {
                format!("{t} EDNS version 1: answer needs an OPT of version 0\n{r}")
            });
        }
        // Two OPT records: FORMERR (RFC 6891 §6.1.1).
        let packet = raw::query(
            0x6003,
            "www.example.test.",
            1,
            &[raw::opt(1232, 0, false), raw::opt(1232, 0, false)],
        );
        if let Some(r) = ask_raw(&mut c, t, s, "two OPT", &packet) {
            c.check(r.rcode() == rcode::FORMERR && r.answer().is_empty(), || {
                format!("{t} two OPT: expected FORMERR\n{r}")
            });
        }
    }
    c.finish();
}

#[test]
fn truncation_over_udp_and_full_answer_over_tcp() {
    let server = ExampleServer::start();
    let s = server.dns();
    let mut c = Checks::new();
    let big = q("big", "TXT");
    let expected: String = (0..BIG_TXT_COUNT)
        .map(|i| {
            format!("big TXT \"record {i:02} of the big txt rrset, padded to be long enough\"\n")
        })
        .collect();
    // Without EDNS the limit is 512 bytes (RFC 1035 §4.2.1): TC set.
    match dns::try_udp(s, &big) {
        Ok(r) => {
            c.check(r.tc(), || {
                format!("UDP {big}: TC expected for a >512-byte answer\n{r}")
            });
            c.check(r.wire.len() <= 512, || {
                format!("UDP {big}: {} bytes > 512", r.wire.len())
            });
        }
        Err(e) => c.fail(format!("UDP {big}: {e}")),
    }
    // With a 1232-byte EDNS payload it fits.
    expect(
        &mut c,
        Transport::Udp,
        s,
        &q("big", "TXT").edns(Edns::new(1232)),
        rcode::NOERROR,
        true,
        &expected,
    );
    // An EDNS payload below 512 means 512 (RFC 6891 §6.2.5).
    if let Ok(r) = dns::try_udp(s, &q("big", "TXT").edns(Edns::new(100))) {
        c.check(r.tc() && r.wire.len() <= 512, || {
            format!("UDP big TXT bufsize 100: TC and ≤512 bytes expected\n{r}")
        });
    }
    // Over TCP the whole RRset, never TC.
    expect(
        &mut c,
        Transport::Tcp,
        s,
        &big,
        rcode::NOERROR,
        true,
        &expected,
    );
    c.finish();
}

#[test]
fn any_queries_get_a_minimal_answer() {
    let server = ExampleServer::start();
    let s = server.dns();
    let mut c = Checks::new();
    let apex_types: BTreeSet<Rtype> = ["SOA", "NS", "MX", "TXT", "CAA", "DNSKEY", "RRSIG"]
        .iter()
        .map(|t| rtype(t))
        .collect();
    let www_types: BTreeSet<Rtype> = ["A", "AAAA", "SSHFP"].iter().map(|t| rtype(t)).collect();
    let zone = rrs(&zones::example_zone().replace("$ORIGIN example.test.\n$TTL 3600\n", ""));
    for t in BOTH {
        for (name, present) in [("@", &apex_types), ("www", &www_types)] {
            let query = q(name, "ANY");
            let Some(r) = ask(&mut c, t, s, &query) else {
                continue;
            };
            c.check(
                r.rcode() == rcode::NOERROR && r.aa() && !r.answer().is_empty(),
                || format!("{t} {query}: expected a non-empty authoritative NOERROR answer\n{r}"),
            );
            // Every record returned is a record of the zone at that name (RFC 8482 §4.1/4.2).
            for rr in r.answer() {
                let real = rr.owner == fqdn(name) && zone.iter().any(|z| z.key() == rr.key());
                c.check(real, || {
                    format!("{t} {query}: {rr} is not a record at that name")
                });
            }
            let types: BTreeSet<Rtype> = r.answer().iter().map(|rr| rr.rtype).collect();
            // Over UDP the answer must be minimal: fewer RRsets than the name has. Over TCP a
            // full answer is allowed (RFC 8482 §4.4).
            if t == Transport::Udp {
                c.check(types.len() < present.len(), || {
                    format!(
                        "{t} {query}: {} RRsets of {} returned; RFC 8482 wants fewer\n{r}",
                        types.len(),
                        present.len()
                    )
                });
            }
        }
        expect_negative(&mut c, t, s, &q("nx", "ANY"), rcode::NXDOMAIN, "");
    }
    c.finish();
}

#[test]
fn unknown_types_round_trip_byte_exact() {
    let server = ExampleServer::start();
    let s = server.dns();
    let mut c = Checks::new();
    for t in BOTH {
        let query = q("unknown", "TYPE65534");
        if let Some(r) = expect(
            &mut c,
            t,
            s,
            &query,
            rcode::NOERROR,
            true,
            "unknown TYPE65534 \\# 3 abcdef",
        ) {
            let rdata: Vec<_> = r
                .answer()
                .iter()
                .map(|a| (a.rtype.to_int(), a.rdata.clone()))
                .collect();
            c.eq(
                rdata,
                vec![(65534, vec![0xab, 0xcd, 0xef])],
                &format!("{t} TYPE65534 RDATA bytes"),
            );
        }
        expect_negative(&mut c, t, s, &q("unknown", "TYPE65533"), rcode::NOERROR, "");
    }
    c.finish();
}

#[test]
fn tcp_pipelined_queries_all_get_answers() {
    let server = ExampleServer::start();
    let s = server.dns();
    let names = [
        "www", "mail", "ns1", "c1", "foo.wild", "sip", "signed", "a.b.c", "nx", "big",
    ];
    let queries: Vec<Query> = names
        .iter()
        .enumerate()
        .map(|(i, n)| q(n, if *n == "big" { "TXT" } else { "A" }).id(0x7000 + i as u16))
        .collect();
    let mut batch = Vec::new();
    for query in &queries {
        batch.extend(dns::tcp_frame(&query.to_wire()));
    }
    let mut stream = dns::tcp_connect(s);
    stream
        .write_all(&batch)
        .expect("write 10 pipelined queries at once");
    let mut seen = BTreeSet::new();
    for _ in 0..queries.len() {
        let wire = dns::tcp_read_frame(&mut stream)
            .expect("read pipelined answer")
            .unwrap_or_else(|| panic!("connection closed after {} of 10 answers", seen.len()));
        let r = Response::parse(wire).expect("parse pipelined answer");
        let query = queries
            .iter()
            .find(|qq| qq.id == r.id())
            .unwrap_or_else(|| panic!("answer with unknown id {}\n{r}", r.id()));
        assert_eq!(
            r.question(),
            vec![(query.qname.to_ascii_lowercase(), query.qtype)],
            "answer id {} carries another question",
            r.id()
        );
        let want = if query.qname.starts_with("nx.") {
            rcode::NXDOMAIN
        } else {
            rcode::NOERROR
        };
        assert_eq!(r.rcode(), want, "{query}\n{r}");
        assert!(seen.insert(r.id()), "two answers with id {}", r.id());
    }
    assert_eq!(seen.len(), 10);
}

#[test]
fn zone_transfers_are_never_answered_over_udp_and_refused_over_tcp_by_default() {
    let server = ExampleServer::start();
    let s = server.dns();
    let mut c = Checks::new();
    let axfr = q("@", "AXFR").id(0x6100).to_wire();
    let ixfr = ixfr_query(0x6101, 1);
    for (what, packet) in [("AXFR", &axfr), ("IXFR", &ixfr)] {
        // Over UDP: an error, or (IXFR only, RFC 1995 §2) a single SOA; never a transfer.
        let Some(r) = ask_raw(&mut c, Transport::Udp, s, what, packet) else {
            continue;
        };
        let error = [rcode::REFUSED, rcode::FORMERR, rcode::NOTIMP].contains(&r.rcode())
            && r.answer().is_empty();
        let single_soa = what == "IXFR"
            && r.rcode() == rcode::NOERROR
            && r.answer().len() == 1
            && r.answer()[0].rtype == Rtype::SOA;
        c.check(error || single_soa, || {
            format!("UDP {what}: expected REFUSED/FORMERR/NOTIMP or one SOA\n{r}")
        });
    }
    if !server.is_reference() {
        // Outgoing transfers start disabled (PRODUCT.md §1 access rules): REFUSED over TCP.
        for (what, packet) in [("AXFR", &axfr), ("IXFR", &ixfr)] {
            let Some(r) = ask_raw(&mut c, Transport::Tcp, s, what, packet) else {
                continue;
            };
            c.check(r.rcode() == rcode::REFUSED && r.answer().is_empty(), || {
                format!("TCP {what} with transfers disabled: expected REFUSED\n{r}")
            });
        }
    }
    c.finish();
}
