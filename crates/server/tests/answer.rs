//! Answers checked by the `domain` crate's message parser, not by our own code.

use domain::base::iana::{Rcode, Rtype};
use domain::base::{Message, MessageBuilder, Name as DName};
use domain::rdata::AllRecordData;
use std::str::FromStr;
use std::sync::Arc;
use tandem_server::{respond, AnswerConfig, Transport};

const LOCAL: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
use tandem_server::zone::ZoneSet;
use tandem_zone::text::parse_zonefile;
use tandem_zone::{Name, ZoneVersion};

const ZONE: &str = "\
@ 3600 SOA ns1 hostmaster 7 7200 3600 1209600 300
@ 3600 NS ns1
@ 3600 NS ns2.other.test.
@ MX 10 mail
ns1 A 192.0.2.1
mail A 192.0.2.2
mail AAAA 2001:db8::2
www CNAME web
web CNAME host
host A 192.0.2.3
dangling CNAME nothere
a.b.c TXT \"deep\"
*.wild A 192.0.2.9
*.wild TXT \"wild\"
exact.wild A 192.0.2.10
sub NS ns.sub
sub NS ns.elsewhere.test.
sub DS 12345 8 2 ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567
ns.sub A 192.0.2.53
unk TYPE65534 \\# 3 abcdef
";

fn zones() -> Arc<ZoneSet> {
    let apex = Name::parse("example.test").unwrap();
    let mut text = ZONE.to_string();
    for i in 0..40 {
        text.push_str(&format!(
            "big TXT \"record number {i} padding padding padding\"\n"
        ));
    }
    let recs = parse_zonefile(&text, &apex, 300).unwrap();
    let v = ZoneVersion::build(apex.clone(), recs.into_iter().map(|p| p.record)).unwrap();
    let set = Arc::new(ZoneSet::new());
    set.insert(apex, Some(Arc::new(v)));
    set
}

fn query(name: &str, t: Rtype, edns: Option<(u16, bool)>) -> Vec<u8> {
    let mut b = MessageBuilder::new_vec();
    b.header_mut().set_id(0x4242);
    let mut q = b.question();
    q.push((DName::<Vec<u8>>::from_str(name).unwrap(), t))
        .unwrap();
    match edns {
        Some((size, dnssec_ok)) => {
            let mut a = q.additional();
            a.opt(|o| {
                o.set_udp_payload_size(size);
                o.set_dnssec_ok(dnssec_ok);
                Ok(())
            })
            .unwrap();
            a.finish()
        }
        None => q.finish(),
    }
}

fn ask(set: &ZoneSet, msg: &[u8], transport: Transport) -> Message<Vec<u8>> {
    let mut buf = Vec::with_capacity(65536);
    respond(
        set,
        msg,
        &mut buf,
        transport,
        LOCAL,
        &AnswerConfig::default(),
    )
    .expect("answered");
    Message::from_octets(buf).expect("parsable response")
}

fn types(msg: &Message<Vec<u8>>, section: usize) -> Vec<(String, Rtype)> {
    let sec = match section {
        0 => msg.answer().unwrap(),
        1 => msg.authority().unwrap(),
        _ => msg.additional().unwrap(),
    };
    sec.map(|r| {
        let r = r.unwrap();
        (r.owner().to_string().to_lowercase(), r.rtype())
    })
    .filter(|(_, t)| *t != Rtype::OPT)
    .collect()
}

#[test]
fn positive_with_additional() {
    let set = zones();
    let m = ask(
        &set,
        &query("example.test.", Rtype::MX, None),
        Transport::Udp,
    );
    assert_eq!(m.header().rcode(), Rcode::NOERROR);
    assert!(m.header().aa());
    assert_eq!(types(&m, 0), vec![("example.test".into(), Rtype::MX)]);
    let add = types(&m, 2);
    assert!(
        add.contains(&("mail.example.test".into(), Rtype::A)),
        "{add:?}"
    );
    assert!(
        add.contains(&("mail.example.test".into(), Rtype::AAAA)),
        "{add:?}"
    );
}

#[test]
fn negative_answers_carry_soa_with_negative_ttl() {
    let set = zones();
    for (name, code) in [
        ("nope.example.test.", Rcode::NXDOMAIN),
        ("www.example.test.", Rcode::NOERROR),
        ("b.c.example.test.", Rcode::NOERROR),
        ("dangling.example.test.", Rcode::NXDOMAIN),
    ] {
        let t = if name.starts_with("www") {
            Rtype::AAAA
        } else {
            Rtype::A
        };
        let m = ask(&set, &query(name, t, None), Transport::Udp);
        assert_eq!(m.header().rcode(), code, "{name}");
        assert!(m.header().aa(), "{name}");
        let auth: Vec<_> = m.authority().unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(auth.len(), 1, "{name}");
        assert_eq!(auth[0].rtype(), Rtype::SOA);
        assert_eq!(auth[0].ttl().as_secs(), 300, "min(3600, 300)");
    }
}

#[test]
fn cname_chain_and_case_preserved_question() {
    let set = zones();
    let m = ask(
        &set,
        &query("WwW.Example.TEST.", Rtype::A, None),
        Transport::Udp,
    );
    assert_eq!(m.header().rcode(), Rcode::NOERROR);
    let ans = types(&m, 0);
    assert_eq!(
        ans,
        vec![
            ("www.example.test".into(), Rtype::CNAME),
            ("web.example.test".into(), Rtype::CNAME),
            ("host.example.test".into(), Rtype::A)
        ]
    );
    let q = m.first_question().unwrap();
    assert_eq!(q.qname().to_string(), "WwW.Example.TEST");
}

#[test]
fn wildcards_and_referrals() {
    let set = zones();
    let m = ask(
        &set,
        &query("x.y.wild.example.test.", Rtype::A, None),
        Transport::Udp,
    );
    assert_eq!(
        types(&m, 0),
        vec![("x.y.wild.example.test".into(), Rtype::A)]
    );
    let m = ask(
        &set,
        &query("x.wild.example.test.", Rtype::MX, None),
        Transport::Udp,
    );
    assert_eq!(m.header().rcode(), Rcode::NOERROR);
    assert!(types(&m, 0).is_empty());
    let m = ask(
        &set,
        &query("exact.wild.example.test.", Rtype::TXT, None),
        Transport::Udp,
    );
    assert!(types(&m, 0).is_empty(), "no synthesis for an existing name");

    let m = ask(
        &set,
        &query("host.sub.example.test.", Rtype::A, None),
        Transport::Udp,
    );
    assert!(!m.header().aa());
    assert!(types(&m, 0).is_empty());
    assert_eq!(types(&m, 1).len(), 2);
    assert_eq!(types(&m, 2), vec![("ns.sub.example.test".into(), Rtype::A)]);
    let m = ask(
        &set,
        &query("sub.example.test.", Rtype::DS, None),
        Transport::Udp,
    );
    assert!(m.header().aa());
    assert_eq!(types(&m, 0), vec![("sub.example.test".into(), Rtype::DS)]);
}

#[test]
fn refused_truncated_and_unknown() {
    let set = zones();
    let m = ask(&set, &query("example.org.", Rtype::A, None), Transport::Udp);
    assert_eq!(m.header().rcode(), Rcode::REFUSED);
    let m = ask(
        &set,
        &query("big.example.test.", Rtype::TXT, None),
        Transport::Udp,
    );
    assert!(m.header().tc());
    assert!(types(&m, 0).is_empty());
    let m = ask(
        &set,
        &query("big.example.test.", Rtype::TXT, None),
        Transport::Tcp,
    );
    assert!(!m.header().tc());
    assert_eq!(types(&m, 0).len(), 40);
    let m = ask(
        &set,
        &query(
            "unk.example.test.",
            Rtype::from_int(65534),
            Some((1232, false)),
        ),
        Transport::Udp,
    );
    let rec = m.answer().unwrap().next().unwrap().unwrap();
    let rec = rec.into_record::<AllRecordData<_, _>>().unwrap().unwrap();
    assert_eq!(rec.data().to_string().replace(' ', ""), "\\#3abcdef");
    assert!(m.opt().is_some());
}
