//! TSIG interop with a signer that is not ours: the `domain` crate's client and server
//! transactions sign requests we verify and verify answers we sign, single messages and a
//! multi-message AXFR stream from `tandem_xfr::axfr`.

use base64::Engine as _;
use domain::base::iana::{Rcode, Rtype, TsigRcode};
use domain::base::message_builder::AdditionalBuilder;
use domain::base::{Message, MessageBuilder, Name as DName};
use domain::rdata::tsig::Time48;
use domain::tsig::{
    self as dt, ClientSequence, ClientTransaction, ServerSequence, ServerTransaction,
};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};
use tandem_xfr::tsig::{
    error_code, sign_request, verify_request, Algorithm, Checked, KeyRing, RejectKind,
    ResponseError, TsigKey, Verdict,
};
use tandem_xfr::{axfr, XfrConfig};
use tandem_zone::text::parse_zonefile;
use tandem_zone::{Name, ZoneVersion};

const SECRET: &str = "c2VjcmV0LWtleS1mb3ItdGFuZGVtLXRlc3RzLTEyMzQ1Ng==";

const PAIRS: [(Algorithm, dt::Algorithm); 4] = [
    (Algorithm::HmacSha1, dt::Algorithm::Sha1),
    (Algorithm::HmacSha256, dt::Algorithm::Sha256),
    (Algorithm::HmacSha384, dt::Algorithm::Sha384),
    (Algorithm::HmacSha512, dt::Algorithm::Sha512),
];

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn ours(alg: Algorithm) -> TsigKey {
    TsigKey::new("k1.example.", alg.canonical(), SECRET).unwrap()
}

fn theirs(alg: dt::Algorithm, secret: &str) -> dt::Key {
    let secret = base64::engine::general_purpose::STANDARD
        .decode(secret)
        .unwrap();
    let name = dt::KeyName::from_str("k1.example.").unwrap();
    dt::Key::new(alg, &secret, name, None, None).unwrap()
}

/// A request for example.test, ready for its TSIG RR, and the offset after its question.
fn request(t: Rtype) -> (AdditionalBuilder<Vec<u8>>, usize) {
    let mut b = MessageBuilder::new_vec();
    b.header_mut().set_id(4242);
    let mut q = b.question();
    q.push((DName::<Vec<u8>>::from_str("example.test.").unwrap(), t))
        .unwrap();
    let qend = q.as_slice().len();
    (q.additional(), qend)
}

/// The answer header and question for a request, as `domain` builds it.
fn answer_to(req: &[u8]) -> Vec<u8> {
    let msg = Message::from_octets(req.to_vec()).unwrap();
    MessageBuilder::new_vec()
        .start_answer(&msg, Rcode::NOERROR)
        .unwrap()
        .finish()
}

fn zone(extra: usize) -> ZoneVersion {
    let apex = Name::parse("example.test").unwrap();
    let mut text = String::from("@ SOA ns1 hostmaster 10 7200 3600 1209600 300\n@ NS ns1\n");
    for i in 0..extra {
        text.push_str(&format!("host{i} A 192.0.2.{}\n", i % 250));
    }
    let recs = parse_zonefile(&text, &apex, 300).unwrap();
    ZoneVersion::build(apex, recs.into_iter().map(|p| p.record)).unwrap()
}

#[test]
fn domain_signed_requests_verify_and_our_answers_verify_in_domain() {
    for (alg, dalg) in PAIRS {
        let dkey = theirs(dalg, SECRET);
        let (mut b, _) = request(Rtype::SOA);
        let tx = ClientTransaction::request(&dkey, &mut b, Time48::now()).unwrap();
        let req = b.finish();

        let keys: KeyRing = [ours(alg)].into_iter().collect();
        let Ok(Verdict::Signed(s)) = verify_request(&req, &keys, now()) else {
            panic!("{alg}: domain's signed request refused")
        };
        assert_eq!(s.key.algorithm(), alg);

        let mut ans = answer_to(&req);
        s.into_signer().sign(&mut ans, now()).unwrap();
        let mut msg = Message::from_octets(ans).unwrap();
        tx.answer(&mut msg, Time48::now())
            .unwrap_or_else(|e| panic!("{alg}: domain refused our answer: {e}"));
    }
}

#[test]
fn our_signed_axfr_stream_verifies_in_domain_client_sequence() {
    let v = zone(3000);
    let dkey = theirs(dt::Algorithm::Sha256, SECRET);
    let (mut b, qend) = request(Rtype::AXFR);
    let mut seq = ClientSequence::request(&dkey, &mut b, Time48::now()).unwrap();
    let req = b.finish();

    let keys: KeyRing = [ours(Algorithm::HmacSha256)].into_iter().collect();
    let Ok(Verdict::Signed(s)) = verify_request(&req, &keys, now()) else {
        panic!("domain's signed AXFR request refused")
    };
    let mut signer = s.into_signer();
    let cfg = signer.reserve(XfrConfig::default());
    let mut messages = Vec::new();
    let n = axfr(
        &v,
        &req,
        qend,
        cfg,
        signer.wrap(now, |m| {
            messages.push(m.to_vec());
            true
        }),
    )
    .unwrap();
    assert!(signer.take_error().is_none());
    assert_eq!(n, messages.len());
    assert!(n > 3, "several messages");

    let mut records = 0;
    for (i, m) in messages.into_iter().enumerate() {
        assert!(m.len() <= 16 * 1024, "message {i} is {} octets", m.len());
        let mut msg = Message::from_octets(m).unwrap();
        assert_eq!(msg.header_counts().arcount(), 1, "message {i}: its TSIG RR");
        seq.answer(&mut msg, Time48::now())
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
        records += msg.header_counts().ancount() as usize;
    }
    seq.done().unwrap();
    assert_eq!(records, v.record_count() + 1, "SOA first and last");
}

#[test]
fn our_signed_requests_verify_in_domain_and_its_answers_verify_here() {
    for (alg, dalg) in PAIRS {
        let key = ours(alg);
        let dkey = theirs(dalg, SECRET);

        // One answer.
        let (b, _) = request(Rtype::SOA);
        let mut req = b.finish();
        let mut state = sign_request(&mut req, &key, now()).unwrap();
        let mut msg = Message::from_octets(req.clone()).unwrap();
        let tx = ServerTransaction::request(&dkey, &mut msg, Time48::now())
            .unwrap()
            .expect("signed");
        let mut ab = MessageBuilder::new_vec()
            .start_answer(&msg, Rcode::NOERROR)
            .unwrap()
            .additional();
        tx.answer(&mut ab, Time48::now()).unwrap();
        let ans = ab.finish();
        assert!(matches!(
            state.verify_response(&ans, now()),
            Ok(Checked::Signed { .. })
        ));
        state.finish().unwrap();

        // A sequence of answers, as in a transfer.
        let (b, _) = request(Rtype::AXFR);
        let mut req = b.finish();
        let mut state = sign_request(&mut req, &key, now()).unwrap();
        let mut msg = Message::from_octets(req).unwrap();
        let mut seq = ServerSequence::request(&dkey, &mut msg, Time48::now())
            .unwrap()
            .expect("signed");
        for i in 0..5 {
            let mut ab = MessageBuilder::new_vec()
                .start_answer(&msg, Rcode::NOERROR)
                .unwrap()
                .additional();
            seq.answer(&mut ab, Time48::now()).unwrap();
            let ans = ab.finish();
            state
                .verify_response(&ans, now())
                .unwrap_or_else(|e| panic!("{alg}: message {i}: {e}"));
        }
        state.finish().unwrap();
    }
}

#[test]
fn wrong_secret_gets_badsig_that_domain_recognises() {
    let dkey = theirs(dt::Algorithm::Sha256, "d3Jvbmctc2VjcmV0");
    let (mut b, _) = request(Rtype::AXFR);
    let tx = ClientTransaction::request(&dkey, &mut b, Time48::now()).unwrap();
    let req = b.finish();

    let keys: KeyRing = [ours(Algorithm::HmacSha256)].into_iter().collect();
    let r = verify_request(&req, &keys, now()).unwrap_err();
    assert_eq!(r.kind(), RejectKind::BadSig);
    assert_eq!(r.tsig_error(), error_code::BADSIG);
    let ans = r.response(&req, now()).unwrap();
    let mut msg = Message::from_octets(ans).unwrap();
    assert_eq!(msg.header().rcode(), Rcode::NOTAUTH);
    assert!(matches!(
        tx.answer(&mut msg, Time48::now()),
        Err(dt::ValidationError::ServerBadSig)
    ));

    // Why we do not answer with domain's server transaction: for the same request 0.12.3
    // reports FORMERR where RFC 8945 §5.2.2 wants BADSIG.
    let right = theirs(dt::Algorithm::Sha256, SECRET);
    let mut msg = Message::from_octets(req).unwrap();
    let err = ServerTransaction::request(&&right, &mut msg, Time48::now()).unwrap_err();
    assert_eq!(err.error(), TsigRcode::FORMERR);
}

#[test]
fn domain_badtime_answers_digest_other_data_differently_from_the_rfc() {
    // domain 0.12.3 digests Other Data of a BADTIME answer as 8 octets while Other Len says
    // 6 (RFC 8945 §4.3.3 digests the field as sent). Its BADTIME answers therefore fail an
    // RFC check, which is why our BADTIME answers are checked against kdig instead.
    let key = ours(Algorithm::HmacSha256);
    let dkey = theirs(dt::Algorithm::Sha256, SECRET);
    let (b, _) = request(Rtype::SOA);
    let mut req = b.finish();
    let then = now() - 1000;
    let mut state = sign_request(&mut req, &key, then).unwrap();
    let mut msg = Message::from_octets(req).unwrap();
    let err = ServerTransaction::request(&&dkey, &mut msg, Time48::now()).unwrap_err();
    assert_eq!(err.error(), TsigRcode::BADTIME);
    let ans = err
        .build_message(&msg, MessageBuilder::new_vec())
        .unwrap()
        .finish();
    assert_eq!(
        state.verify_response(&ans, then),
        Err(ResponseError::BadSig)
    );
}

#[test]
fn signed_axfr_of_the_largest_record_fits_with_the_largest_tsig() {
    // A key name of 255 octets in wire form, hmac-sha512: the largest TSIG RR we make.
    let key_name = format!(
        "{}.{}.{}.{}.",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    );
    let key = TsigKey::new(&key_name, "hmac-sha512", SECRET).unwrap();
    assert_eq!(key.name().as_wire().len(), 255);
    assert_eq!(key.tsig_rr_len(), tandem_zone::record::MAX_TSIG_RR_LEN);
    let secret = base64::engine::general_purpose::STANDARD
        .decode(SECRET)
        .unwrap();
    let dname = dt::KeyName::from_str(&key_name).unwrap();
    let dkey = dt::Key::new(dt::Algorithm::Sha512, &secret, dname, None, None).unwrap();

    // The largest record `fits_in_message` accepts, then 300 small ones after it.
    let owner = Name::parse("huge.example.test").unwrap();
    let rdlen = tandem_zone::record::MAX_TRANSFER_RR_LEN - owner.as_wire().len() - 10;
    assert!(tandem_zone::fits_in_message(&owner, rdlen));
    let base = zone(300);
    let v = base
        .apply(&tandem_zone::ZoneDiff {
            removed: vec![],
            added: vec![tandem_zone::Record::new(
                owner,
                65280,
                300,
                vec![9u8; rdlen],
            )],
        })
        .unwrap();

    let (mut b, qend) = request(Rtype::AXFR);
    let mut seq = ClientSequence::request(&dkey, &mut b, Time48::now()).unwrap();
    let req = b.finish();
    let keys: KeyRing = [key].into_iter().collect();
    let Ok(Verdict::Signed(s)) = verify_request(&req, &keys, now()) else {
        panic!("domain's signed AXFR request refused")
    };
    let mut signer = s.into_signer();
    let cfg = signer.reserve(XfrConfig::default());
    let mut messages = Vec::new();
    axfr(
        &v,
        &req,
        qend,
        cfg,
        signer.wrap(now, |m| {
            messages.push(m.to_vec());
            true
        }),
    )
    .expect("the largest record that fits is transferred, signed");
    assert!(signer.take_error().is_none());
    let mut records = 0;
    let mut largest = 0;
    for (i, m) in messages.into_iter().enumerate() {
        assert!(m.len() <= 65535, "message {i} is {} octets", m.len());
        largest = largest.max(m.len());
        let mut msg = Message::from_octets(m).unwrap();
        seq.answer(&mut msg, Time48::now())
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
        records += msg.header_counts().ancount() as usize;
    }
    seq.done().unwrap();
    assert_eq!(records, v.record_count() + 1, "SOA first and last");
    assert!(
        largest > 64_900,
        "the big record's message: {largest} octets"
    );
}
