//! AXFR and IXFR streams, read back with the `domain` crate's parser.

use domain::base::iana::Rtype;
use domain::base::{Message, MessageBuilder, Name as DName};
use domain::rdata::AllRecordData;
use std::collections::HashSet;
use std::str::FromStr;
use tandem_xfr::{axfr, ixfr, XfrConfig};
use tandem_zone::diff::condense;
use tandem_zone::text::parse_zonefile;
use tandem_zone::{Name, Record, ZoneDiff, ZoneVersion};

fn zone(extra: usize) -> ZoneVersion {
    let apex = Name::parse("example.test").unwrap();
    let mut text = String::from(
        "@ SOA ns1 hostmaster 10 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n\
         big TXT \"a string long enough to matter\"\n",
    );
    for i in 0..extra {
        text.push_str(&format!("host{i}.dept{} A 192.0.2.{}\n", i % 7, i % 250));
    }
    let recs = parse_zonefile(&text, &apex, 300).unwrap();
    ZoneVersion::build(apex, recs.into_iter().map(|p| p.record)).unwrap()
}

fn query(t: Rtype) -> (Vec<u8>, usize) {
    let mut b = MessageBuilder::new_vec();
    b.header_mut().set_id(7);
    let mut q = b.question();
    q.push((DName::<Vec<u8>>::from_str("example.test.").unwrap(), t))
        .unwrap();
    let m = q.finish();
    let len = m.len();
    (m, len)
}

/// (owner, type, rdata) of every answer RR in every message, in order.
fn answers(messages: &[Vec<u8>]) -> Vec<(String, Rtype, Vec<u8>)> {
    let mut out = Vec::new();
    for m in messages {
        let msg = Message::from_octets(m.clone()).expect("parsable");
        assert!(msg.header().qr() && msg.header().aa());
        assert_eq!(msg.header().id(), 7);
        for rr in msg.answer().unwrap() {
            let rr = rr.unwrap();
            let rec = rr.into_record::<AllRecordData<_, _>>().unwrap().unwrap();
            let mut rd = Vec::new();
            domain::base::rdata::ComposeRecordData::compose_canonical_rdata(rec.data(), &mut rd)
                .unwrap();
            out.push((rec.owner().to_string().to_lowercase(), rec.rtype(), rd));
        }
    }
    out
}

#[test]
fn axfr_streams_whole_zone_in_bounded_compressed_messages() {
    let v = zone(5000);
    let (q, qend) = query(Rtype::AXFR);
    let mut messages = Vec::new();
    let n = axfr(&v, &q, qend, XfrConfig::default(), |m| {
        messages.push(m.to_vec());
        true
    })
    .unwrap();
    assert_eq!(n, messages.len());
    assert!(n > 3, "a 5000-record zone takes several 16 KiB messages");
    for (i, m) in messages.iter().enumerate() {
        assert!(m.len() <= 16 * 1024, "message {i} is {} octets", m.len());
        let qd = u16::from_be_bytes([m[4], m[5]]);
        assert_eq!(qd, (i == 0) as u16, "question only in the first message");
    }
    let rrs = answers(&messages);
    assert_eq!(rrs.len(), v.record_count() + 1, "SOA first and last");
    assert_eq!(rrs[0].1, Rtype::SOA);
    assert_eq!(rrs[rrs.len() - 1].1, Rtype::SOA);
    assert_eq!(rrs.iter().filter(|r| r.1 == Rtype::SOA).count(), 2);
    let got: HashSet<_> = rrs.iter().cloned().collect();
    assert_eq!(got.len(), v.record_count());
    // Compression: 5000 owners of ~30 octets each would not fit in this many octets otherwise.
    let total: usize = messages.iter().map(Vec::len).sum();
    let uncompressed: usize = v
        .records()
        .map(|r| r.owner.as_wire().len() + 10 + r.rdata.len())
        .sum();
    assert!(total < uncompressed * 3 / 4, "{total} vs {uncompressed}");
}

#[test]
fn axfr_stops_when_the_receiver_does() {
    let v = zone(5000);
    let (q, qend) = query(Rtype::AXFR);
    let mut seen = 0;
    let err = axfr(&v, &q, qend, XfrConfig::default(), |_| {
        seen += 1;
        seen < 2
    })
    .unwrap_err();
    assert_eq!(err, tandem_xfr::XfrError::Stopped);
    assert_eq!(seen, 2);
}

fn rec(line: &str) -> Record {
    let apex = Name::parse("example.test").unwrap();
    parse_zonefile(line, &apex, 300).unwrap().remove(0).record
}

#[test]
fn ixfr_sequence_follows_rfc1995() {
    let v1 = zone(10);
    let soa = |n: u32| rec(&format!("@ SOA ns1 hostmaster {n} 7200 3600 1209600 300"));
    let d1 = ZoneDiff {
        removed: vec![soa(10), rec("ns1 A 192.0.2.1")],
        added: vec![soa(11), rec("ns1 A 198.51.100.1"), rec("new A 192.0.2.77")],
    };
    let v2 = v1.apply(&d1).unwrap();
    let d2 = ZoneDiff {
        removed: vec![soa(11), rec("new A 192.0.2.77")],
        added: vec![soa(12)],
    };
    let v3 = v2.apply(&d2).unwrap();
    let c = condense([&d1, &d2]).unwrap();
    let (q, qend) = query(Rtype::IXFR);
    let mut messages = Vec::new();
    ixfr(&v3, Some(&c), &q, qend, XfrConfig::default(), |m| {
        messages.push(m.to_vec());
        true
    })
    .unwrap();
    let rrs = answers(&messages);
    let types: Vec<Rtype> = rrs.iter().map(|r| r.1).collect();
    assert_eq!(
        types,
        vec![
            Rtype::SOA,
            Rtype::SOA,
            Rtype::A,
            Rtype::SOA,
            Rtype::A,
            Rtype::SOA
        ]
    );
    assert_eq!(rrs[1].0, "example.test");
    assert_eq!(rrs[2].0, "ns1.example.test");
    assert_eq!(&rrs[2].2, &[192, 0, 2, 1]);
    assert_eq!(&rrs[4].2, &[198, 51, 100, 1]);
    // Up to date: the current SOA alone.
    let mut single = Vec::new();
    ixfr(&v3, None, &q, qend, XfrConfig::default(), |m| {
        single.push(m.to_vec());
        true
    })
    .unwrap();
    assert_eq!(answers(&single).len(), 1);
}

/// A TXT RDATA in presentation form of `strings` character-strings of 255 octets each.
fn long_txt(strings: usize, fill: char) -> String {
    let s = format!("\"{}\"", fill.to_string().repeat(255));
    vec![s; strings].join(" ")
}

/// A zone with records larger than a 16 KiB message: an RRset of three ~20 KB TXT records,
/// an RRset of 300 small TXT records (~60 KB together), and a 64800-octet unknown-type record
/// (RFC 3597).
fn big_zone() -> ZoneVersion {
    let apex = Name::parse("example.test").unwrap();
    let mut text = String::from("@ SOA ns1 hostmaster 10 7200 3600 1209600 300\n@ NS ns1\n");
    for fill in ['a', 'b', 'c'] {
        text.push_str(&format!("big TXT {}\n", long_txt(78, fill)));
    }
    for i in 0..300 {
        text.push_str(&format!("wide TXT \"{i:03}{}\"\n", "w".repeat(190)));
    }
    let hex: String = (0..64_800u32).map(|i| format!("{:02x}", i % 251)).collect();
    text.push_str(&format!("huge TYPE65280 \\# 64800 {hex}\n"));
    let recs = parse_zonefile(&text, &apex, 300).unwrap();
    ZoneVersion::build(apex, recs.into_iter().map(|p| p.record)).unwrap()
}

#[test]
fn records_larger_than_a_message_travel_alone_and_big_rrsets_are_split() {
    let v = big_zone();
    let (q, qend) = query(Rtype::AXFR);
    let mut messages = Vec::new();
    axfr(&v, &q, qend, XfrConfig::default(), |m| {
        messages.push(m.to_vec());
        true
    })
    .expect("a zone whose records each fit in 65535 octets transfers");
    let mut alone = 0;
    for (i, m) in messages.iter().enumerate() {
        let ancount = u16::from_be_bytes([m[6], m[7]]);
        assert!(m.len() <= 65535, "message {i} is {} octets", m.len());
        if m.len() > 16 * 1024 {
            // RFC 5936 §2.2: a record too big for the usual size has a message of its own.
            assert_eq!(ancount, 1, "message {i} of {} octets", m.len());
            alone += 1;
        }
    }
    assert_eq!(
        alone, 4,
        "three 20 KB TXT records and the 64800-octet record"
    );
    let rrs = answers(&messages);
    assert_eq!(rrs.len(), v.record_count() + 1, "SOA first and last");
    let got: HashSet<_> = rrs.iter().cloned().collect();
    let want: HashSet<_> = v
        .records()
        .map(|r| {
            (
                r.owner.to_fqdn().trim_end_matches('.').to_string(),
                Rtype::from_int(r.rtype),
                r.rdata.to_vec(),
            )
        })
        .collect();
    assert_eq!(got, want, "every record byte-exact");
    // The 300-record RRset (about 60 KB) spans several messages, none over 16 KiB.
    let wide: Vec<usize> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.windows(5).any(|w| w == b"\x04wide"))
        .map(|(i, _)| i)
        .collect();
    assert!(wide.len() >= 4, "the wide RRset is split: {wide:?}");
    assert!(wide.iter().all(|&i| messages[i].len() <= 16 * 1024));
}

#[test]
fn a_record_too_large_for_any_message_is_an_error() {
    let apex = Name::parse("example.test").unwrap();
    let v = zone(0);
    let huge = Record::new(
        Name::parse("huge.example.test").unwrap(),
        65280,
        300,
        vec![7u8; 65_535],
    );
    let v = v
        .apply(&ZoneDiff {
            removed: vec![v.soa_record()],
            added: vec![rec("@ SOA ns1 hostmaster 11 7200 3600 1209600 300"), huge],
        })
        .unwrap();
    assert_eq!(v.apex(), &apex);
    let (q, qend) = query(Rtype::AXFR);
    let err = axfr(&v, &q, qend, XfrConfig::default(), |_| true).unwrap_err();
    assert!(
        matches!(err, tandem_xfr::XfrError::RecordTooLarge { max: 65535, .. }),
        "{err:?}"
    );
}

#[test]
fn axfr_is_in_canonical_order_also_after_changes() {
    use domain::base::cmp::CanonicalOrd;
    let v = zone(3000);
    let apex = Name::parse("example.test").unwrap();
    let rec = |line: &str| parse_zonefile(line, &apex, 300).unwrap().remove(0).record;
    // Changes that stay in the version's overlay, beside its canonical base.
    let mut added: Vec<Record> = (0..40)
        .map(|i| {
            rec(&format!(
                "{}new{i}.dept{} A 192.0.2.9",
                ["a", "z", "\\000", "-"][i % 4],
                i % 9
            ))
        })
        .collect();
    added.push(rec("@ SOA ns1 hostmaster 11 7200 3600 1209600 300"));
    let removed = vec![
        rec("@ SOA ns1 hostmaster 10 7200 3600 1209600 300"),
        rec("host5.dept5 A 192.0.2.5"),
        rec("big TXT \"a string long enough to matter\""),
    ];
    let v = v.apply(&ZoneDiff { removed, added }).unwrap();
    let (q, qend) = query(Rtype::AXFR);
    let mut messages = Vec::new();
    axfr(&v, &q, qend, XfrConfig::default(), |m| {
        messages.push(m.to_vec());
        true
    })
    .unwrap();
    let rrs = answers(&messages);
    assert_eq!(rrs.len(), v.record_count() + 1);
    let owners: Vec<DName<Vec<u8>>> = rrs[..rrs.len() - 1]
        .iter()
        .map(|(o, _, _)| DName::from_str(o).unwrap())
        .collect();
    assert_eq!(owners[0].to_string(), "example.test", "the apex first");
    for w in owners.windows(2) {
        assert_ne!(
            w[0].canonical_cmp(&w[1]),
            std::cmp::Ordering::Greater,
            "{} before {} (RFC 4034 §6.1)",
            w[0],
            w[1]
        );
    }
    assert!(owners.iter().any(|o| o.to_string().starts_with("\\000new")));
}
