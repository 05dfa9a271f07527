//! The reader against hand-built answers: the good shapes of RFC 1995 §4 and RFC 5936 §2.2,
//! and each broken transfer of THREATS.md "From a primary".

use super::*;
use tandem_zone::record::Soa;

fn name(s: &str) -> Name {
    Name::parse(s).unwrap()
}

fn soa(serial: u32) -> Record {
    let rdata = Soa {
        mname: name("ns1.example.com"),
        rname: name("hostmaster.example.com"),
        serial,
        refresh: 7200,
        retry: 3600,
        expire: 1209600,
        minimum: 300,
    }
    .to_rdata();
    Record::new(name("example.com"), rtype::SOA, 300, rdata)
}

fn a(owner: &str, last: u8) -> Record {
    Record::new(name(owner), rtype::A, 300, vec![192, 0, 2, last])
}

fn ns() -> Record {
    Record::new(
        name("example.com"),
        rtype::NS,
        300,
        name("ns1.example.com").as_wire().to_vec(),
    )
}

/// One answer message: id, question `example.com <qtype>` (when `with_question`), records
/// uncompressed.
fn message(id: u16, qtype: u16, with_question: bool, records: &[Record]) -> Vec<u8> {
    let mut m = header(
        id,
        0x8400,
        [u16::from(with_question), records.len() as u16, 0, 0],
    );
    if with_question {
        question(&mut m, &name("example.com"), qtype);
    }
    for r in records {
        m.extend_from_slice(r.owner.as_wire());
        m.extend_from_slice(&r.rtype.to_be_bytes());
        m.extend_from_slice(&CLASS_IN.to_be_bytes());
        m.extend_from_slice(&r.ttl.to_be_bytes());
        m.extend_from_slice(&(r.rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(&r.rdata);
    }
    m
}

fn reader(kind: Kind, ours: Option<u32>) -> Reader {
    Reader::new(name("example.com"), kind, 7, ours, Limits::default(), None)
}

/// Feeds every message; the first error, or the finished answer.
fn run(mut r: Reader, msgs: &[Vec<u8>]) -> Result<Transferred, XfrInError> {
    let mut done = false;
    for m in msgs {
        done = r.feed(m, 0)?;
    }
    if !done {
        return Err(XfrInError::Incomplete);
    }
    r.finish()
}

#[test]
fn axfr_over_several_messages() {
    let msgs = [
        message(7, rtype::AXFR, true, &[soa(5), ns()]),
        message(7, rtype::AXFR, false, &[a("www.example.com", 1)]),
        message(7, rtype::AXFR, true, &[a("a.example.com", 2), soa(5)]),
    ];
    match run(reader(Kind::Axfr, None), &msgs).unwrap() {
        Transferred::Full { serial, records } => {
            assert_eq!(serial, 5);
            assert_eq!(records.len(), 4, "SOA once, then NS and two A");
            assert_eq!(records[0], soa(5));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn broken_axfrs_are_refused() {
    let cases: Vec<(Vec<Vec<u8>>, &str)> = vec![
        (
            vec![message(7, rtype::AXFR, true, &[soa(5), ns(), soa(6)])],
            "SOA with serial 6",
        ),
        (
            vec![message(
                7,
                rtype::AXFR,
                true,
                &[soa(5), ns(), soa(4), a("x.example.com", 1), soa(5)],
            )],
            "SOA with serial 4 before the end",
        ),
        (
            vec![message(
                7,
                rtype::AXFR,
                true,
                &[soa(5), ns(), soa(5), a("x.example.com", 1)],
            )],
            "after the final SOA",
        ),
        (
            vec![message(8, rtype::AXFR, true, &[soa(5), ns(), soa(5)])],
            "has id 8",
        ),
        (
            vec![message(
                7,
                rtype::AXFR,
                true,
                &[soa(5), a("www.example.org", 1), soa(5)],
            )],
            "outside the zone",
        ),
        (
            vec![message(7, rtype::AXFR, true, &[ns(), soa(5)])],
            "does not start with",
        ),
        (
            vec![message(7, rtype::SOA, true, &[soa(5), ns(), soa(5)])],
            "another question",
        ),
        (
            vec![message(7, rtype::AXFR, true, &[soa(5), ns()])],
            "before its final SOA",
        ),
        (
            vec![
                message(7, rtype::AXFR, true, &[soa(5), ns()]),
                message(9, rtype::AXFR, false, &[soa(5)]),
            ],
            "message 2 has id 9",
        ),
    ];
    for (msgs, want) in cases {
        let err = run(reader(Kind::Axfr, None), &msgs)
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{err:?} should say {want:?}");
    }
}

#[test]
fn refusals_and_limits() {
    let mut refused = message(7, rtype::IXFR, true, &[]);
    refused[3] |= 4; // NOTIMP
    let err = run(reader(Kind::Ixfr, Some(4)), &[refused]).unwrap_err();
    assert!(err.wants_axfr(), "{err}");

    let limits = Limits {
        max_records: 3,
        max_bytes: 1 << 20,
    };
    let r = Reader::new(name("example.com"), Kind::Axfr, 7, None, limits, None);
    let msg = message(
        7,
        rtype::AXFR,
        true,
        &[soa(5), ns(), a("a.example.com", 1), soa(5)],
    );
    let err = run(r, std::slice::from_ref(&msg)).unwrap_err();
    assert_eq!(err, XfrInError::TooManyRecords(3));

    let limits = Limits {
        max_records: 100,
        max_bytes: msg.len() - 1,
    };
    let r = Reader::new(name("example.com"), Kind::Axfr, 7, None, limits, None);
    assert!(matches!(run(r, &[msg]), Err(XfrInError::TooManyBytes(_))));
}

#[test]
fn held_memory_is_limited_not_only_wire_octets() {
    // Small records cost several times their wire form once held (PRODUCT.md §5).
    let small = a("h1000.example.com", 1);
    let wire = small.owner.as_wire().len() + 10 + small.rdata.len();
    assert!(
        held_size(&small) >= 4 * wire,
        "{} vs {wire}",
        held_size(&small)
    );

    let limit = 100_000;
    let limits = Limits {
        max_records: 1_000_000,
        max_bytes: limit,
    };
    let mut r = Reader::new(name("example.com"), Kind::Axfr, 7, None, limits, None);
    assert_eq!(
        r.feed(&message(7, rtype::AXFR, true, &[soa(5)]), 0),
        Ok(false)
    );
    // An endless AXFR: 100 A records a message, never the final SOA.
    let mut sent = 0usize;
    let err = loop {
        let records: Vec<Record> = (sent..sent + 100)
            .map(|i| a(&format!("h{i}.example.com"), 1))
            .collect();
        sent += 100;
        match r.feed(&message(7, rtype::AXFR, false, &records), 0) {
            Ok(false) => assert!(sent < 100_000, "never stopped"),
            Ok(true) => panic!("no final SOA was sent"),
            Err(e) => break e,
        }
    };
    assert_eq!(err, XfrInError::TooMuchMemory(limit));
    let (_, wire_octets) = r.received();
    assert!(
        wire_octets < limit / 2,
        "the wire count alone ({wire_octets} of {limit}) was far from the limit"
    );
    // It stopped in the message where the estimate crossed the limit, not later.
    assert!((sent - 100) * held_size(&small) < limit + held_size(&small) * 2);
    assert!(sent * held_size(&small) > limit - held_size(&small) * 100);
    drop(r);
}

#[test]
fn compression_pointer_into_another_message_fails() {
    let mut m = message(7, rtype::AXFR, true, &[soa(5), ns()]);
    // A record whose owner points far past the end of this message.
    m[7] += 1;
    m.extend_from_slice(&[0xC3, 0xFF]);
    m.extend_from_slice(&rtype::A.to_be_bytes());
    m.extend_from_slice(&CLASS_IN.to_be_bytes());
    m.extend_from_slice(&300u32.to_be_bytes());
    m.extend_from_slice(&4u16.to_be_bytes());
    m.extend_from_slice(&[192, 0, 2, 1]);
    let err = run(reader(Kind::Axfr, None), &[m]).unwrap_err();
    assert!(matches!(err, XfrInError::Malformed { .. }), "{err}");
}

/// THREATS.md "compression pointers reaching across messages of a multi-message transfer"
/// (a Knot fix): each message is decompressed on its own (RFC 1035 §4.1.4), so a pointer in
/// message 2 to an offset that holds a name only in message 1 is malformed.
#[test]
fn compression_pointer_across_messages_of_a_stream_fails() {
    let first = message(7, rtype::AXFR, true, &[soa(5), ns()]);
    // Offset 12 of message 1 is the question's name; message 2 has no question, and its
    // offset 40 lies past its own end.
    assert!(first.len() > 40);
    let mut second = header(7, 0x8400, [0, 1, 0, 0]);
    second.extend_from_slice(&[0xC0, 40]);
    second.extend_from_slice(&rtype::A.to_be_bytes());
    second.extend_from_slice(&CLASS_IN.to_be_bytes());
    second.extend_from_slice(&300u32.to_be_bytes());
    second.extend_from_slice(&4u16.to_be_bytes());
    second.extend_from_slice(&[192, 0, 2, 1]);
    assert!(second.len() < 40);
    let last = message(7, rtype::AXFR, false, &[soa(5)]);
    let err = run(
        reader(Kind::Axfr, None),
        &[first.clone(), second, last.clone()],
    )
    .unwrap_err();
    assert!(
        matches!(err, XfrInError::Malformed { message: 2, .. }),
        "{err}"
    );
    // The same record with its owner written out is fine.
    let whole = message(7, rtype::AXFR, false, &[a("x.example.com", 1)]);
    assert!(run(reader(Kind::Axfr, None), &[first, whole, last]).is_ok());
}

#[test]
fn incremental_answer() {
    let msgs = [
        message(
            7,
            rtype::IXFR,
            true,
            &[soa(7), soa(5), a("a.example.com", 1), soa(6)],
        ),
        message(
            7,
            rtype::IXFR,
            false,
            &[
                a("b.example.com", 2),
                soa(6),
                soa(7),
                a("c.example.com", 3),
                soa(7),
            ],
        ),
    ];
    match run(reader(Kind::Ixfr, Some(5)), &msgs).unwrap() {
        Transferred::Incremental { serial, diffs } => {
            assert_eq!(serial, 7);
            assert_eq!(diffs.len(), 2);
            assert_eq!(diffs[0].from_serial(), Some(5));
            assert_eq!(diffs[0].to_serial(), Some(6));
            assert_eq!(diffs[0].removed[1], a("a.example.com", 1));
            assert_eq!(diffs[0].added[1], a("b.example.com", 2));
            assert_eq!(diffs[1].to_serial(), Some(7));
            assert_eq!(diffs[1].removed.len(), 1, "SOA only");
            assert_eq!(diffs[1].added[1], a("c.example.com", 3));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ixfr_shapes() {
    // Current: a single SOA not newer than ours.
    let single = message(7, rtype::IXFR, true, &[soa(5)]);
    assert_eq!(
        run(reader(Kind::Ixfr, Some(5)), std::slice::from_ref(&single)).unwrap(),
        Transferred::UpToDate { serial: 5 }
    );
    // A single newer SOA: the primary wants us to AXFR.
    let err = run(reader(Kind::Ixfr, Some(4)), &[single]).unwrap_err();
    assert!(err.wants_axfr(), "{err}");
    // From a serial we do not have.
    let wrong = message(7, rtype::IXFR, true, &[soa(7), soa(3), soa(7), soa(7)]);
    let err = run(reader(Kind::Ixfr, Some(5)), &[wrong]).unwrap_err();
    assert!(err.wants_axfr(), "{err}");
    // CVE-2021-25214: an SOA below the apex opening the difference.
    let mut below = soa(5);
    below.owner = name("www.example.com");
    let not_apex = message(7, rtype::IXFR, true, &[soa(7), below, soa(7), soa(7)]);
    let err = run(reader(Kind::Ixfr, Some(5)), &[not_apex]).unwrap_err();
    assert!(matches!(err, XfrInError::SoaNotAtApex { .. }), "{err}");
    assert!(err.wants_axfr());
    // Differences that do not chain.
    let gap = message(
        7,
        rtype::IXFR,
        true,
        &[soa(7), soa(5), soa(6), soa(4), soa(7), soa(7)],
    );
    let err = run(reader(Kind::Ixfr, Some(5)), &[gap]).unwrap_err();
    assert!(matches!(err, XfrInError::IxfrGap { .. }), "{err}");
    // AXFR-style answer to IXFR.
    let full = message(7, rtype::IXFR, true, &[soa(7), ns(), soa(7)]);
    assert!(matches!(
        run(reader(Kind::Ixfr, Some(5)), &[full]).unwrap(),
        Transferred::Full { serial: 7, .. }
    ));
}

#[test]
fn requests() {
    let ixfr = transfer_request(9, &name("example.com"), Kind::Ixfr, Some(&soa(5)));
    assert_eq!(&ixfr[4..12], &[0, 1, 0, 0, 0, 1, 0, 0]);
    let parsed = Message::from_octets(&ixfr[..]).unwrap();
    let auth: Vec<_> = parsed.authority().unwrap().collect();
    assert_eq!(auth.len(), 1);
    let axfr = transfer_request(9, &name("example.com"), Kind::Axfr, Some(&soa(5)));
    assert_eq!(&axfr[4..12], &[0, 1, 0, 0, 0, 0, 0, 0]);
    let q = soa_query(3, &name("example.com"));
    let mut answer = message(3, rtype::SOA, true, &[soa(42)]);
    assert_eq!(soa_answer_serial(&name("example.com"), 3, &answer), Ok(42));
    answer[3] |= 5;
    assert_eq!(
        soa_answer_serial(&name("example.com"), 3, &answer),
        Err(XfrInError::Rcode(5))
    );
    assert_eq!(q.len(), 12 + 13 + 4);
}
