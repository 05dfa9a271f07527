//! The server side: verifying requests and answering their failures (RFC 8945 §5.2).

use super::*;

#[test]
fn keys_from_api_fields() {
    for alg in [
        "hmac-sha256.",
        "hmac-sha256",
        "HMAC-SHA256.",
        " hmac-sha256. ",
    ] {
        assert_eq!(key(alg).algorithm(), Algorithm::HmacSha256, "{alg}");
    }
    assert_eq!(key("hmac-sha1").algorithm().mac_len(), 20);
    let unpadded = TsigKey::new("k1.example.", "hmac-sha256", SECRET.trim_end_matches('='));
    assert!(unpadded.is_ok(), "base64 without padding");
    assert_eq!(key("hmac-sha512.").algorithm().min_truncated_len(), 32);
    assert_eq!(Algorithm::HmacSha1.min_truncated_len(), 10);
    assert!(matches!(
        TsigKey::new("k1.", "hmac-md5.sig-alg.reg.int.", SECRET),
        Err(KeyError::UnsupportedAlgorithm(_))
    ));
    assert_eq!(
        TsigKey::new("k1.", "hmac-sha256.", "not base64!").unwrap_err(),
        KeyError::BadSecret
    );
    assert_eq!(
        TsigKey::new("k1.", "hmac-sha256.", "").unwrap_err(),
        KeyError::EmptySecret
    );
    assert!(matches!(
        TsigKey::new("a..b", "hmac-sha256.", SECRET),
        Err(KeyError::BadName(_))
    ));
    let k = key("hmac-sha256.");
    assert!(k.clone().with_min_mac_len(15).is_err());
    assert!(k.clone().with_min_mac_len(33).is_err());
    assert_eq!(k.clone().with_min_mac_len(16).unwrap().min_mac_len(), 16);
    assert!(!format!("{k:?}").contains(SECRET));
}

#[test]
fn signed_request_and_answer_round_trip_every_algorithm() {
    let keys = ring();
    for alg in Algorithm::ALL {
        let k = key(alg.canonical());
        let (req, mut state) = signed_query(&k, NOW);
        let Ok(Verdict::Signed(s)) = verify_request(&req, &keys, NOW + 100) else {
            panic!("{alg}: not accepted")
        };
        assert_eq!(s.key.algorithm(), alg);
        assert_eq!(s.mac.len(), alg.mac_len());
        assert_eq!(s.tsig_start, query().len());
        let mut signer = s.into_signer();
        let mut ans = answer_to(&req);
        signer.sign(&mut ans, NOW + 100).unwrap();
        assert_eq!(ans.len(), query().len() + signer.tsig_len() - 6);
        let start = query().len();
        assert_eq!(
            state.verify_response(&ans, NOW),
            Ok(Checked::Signed { tsig_start: start })
        );
        state.finish().unwrap();
    }
    assert!(matches!(
        verify_request(&query(), &keys, NOW),
        Ok(Verdict::Unsigned)
    ));
}

#[test]
fn bad_mac_is_badsig_answered_unsigned() {
    // CVE-2017-3142/3143: a known key name with a bad MAC gets BADSIG and no access.
    let keys = ring();
    let k = key("hmac-sha256.");
    let (mut req, mut state) = signed_query(&k, NOW);
    let last_mac_octet = req.len() - 7;
    req[last_mac_octet] ^= 1;
    let r = reject(&req, &keys, NOW);
    assert_eq!(r.kind(), RejectKind::BadSig);
    let ans = r.response(&req, NOW).unwrap();
    assert_eq!(&ans[..2], &[0x12, 0x34], "original ID kept");
    assert_eq!(ans[2] & 0x80, 0x80);
    assert_eq!(rcode(&ans), 9, "NOTAUTH");
    assert_eq!(&ans[12..query().len()], &query()[12..], "question echoed");
    let t = tsig_of(&ans);
    assert_eq!((t.error, t.mac.len()), (error_code::BADSIG, 0));
    assert_eq!(t.key_name, k.name().as_wire());
    assert_eq!(
        state.verify_response(&ans, NOW),
        Err(ResponseError::Server {
            error: error_code::BADSIG,
            authenticated: false,
            server_time: None
        })
    );

    let other = TsigKey::new("k1.example.", "hmac-sha256.", "b3RoZXI=").unwrap();
    let (req, _) = signed_query(&other, NOW);
    assert_eq!(reject(&req, &keys, NOW).kind(), RejectKind::BadSig);
}

#[test]
fn time_is_checked_only_after_the_mac() {
    // CVE-2017-11104: bad MAC and bad time is BADSIG, never BADTIME.
    let keys = ring();
    let k = key("hmac-sha256.");
    let (mut req, _) = signed_query(&k, NOW - 100_000);
    let at = req.len() - 7;
    req[at] ^= 0x40;
    assert_eq!(reject(&req, &keys, NOW).kind(), RejectKind::BadSig);
}

#[test]
fn good_mac_bad_time_is_badtime_answered_signed_with_our_time() {
    let keys = ring();
    let k = key("hmac-sha256.");
    let then = NOW - 1000;
    let (req, mut state) = signed_query(&k, then);
    let r = reject(&req, &keys, NOW);
    assert_eq!(
        r.kind(),
        RejectKind::BadTime {
            time_signed: then,
            fudge: 300,
            now: NOW
        }
    );
    let ans = r.response(&req, NOW).unwrap();
    assert_eq!(rcode(&ans), 9);
    let t = tsig_of(&ans);
    assert_eq!(t.error, error_code::BADTIME);
    assert_eq!(t.time_signed, then, "RFC 8945 §5.2.3: the client's time");
    assert_eq!(t.other, time48(NOW), "our time in 6 octets of Other Data");
    assert_eq!(t.mac.len(), 32);
    // The client can authenticate it (its clock is the one that is off).
    assert_eq!(
        state.verify_response(&ans, then),
        Err(ResponseError::Server {
            error: error_code::BADTIME,
            authenticated: true,
            server_time: Some(NOW)
        })
    );
}

#[test]
fn time_signed_zero_is_badtime_not_formerr() {
    let keys = ring();
    let (req, _) = signed_query(&key("hmac-sha256."), 0);
    assert!(matches!(
        reject(&req, &keys, NOW).kind(),
        RejectKind::BadTime { time_signed: 0, .. }
    ));
}

#[test]
fn misplaced_or_unparsable_tsig_is_formerr() {
    // CVE-2016-7074 class.
    let keys = ring();
    let k = key("hmac-sha256.");
    let (req, _) = signed_query(&k, NOW);
    let formerr = |m: &[u8]| match reject(m, &keys, NOW).kind() {
        RejectKind::FormErr(e) => e,
        other => panic!("{other:?}"),
    };

    // Not last: an OPT after the TSIG.
    let mut m = req.clone();
    m.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    m[11] += 1;
    assert_eq!(formerr(&m), FormErr::NotLast);

    // Two TSIGs.
    let mut m = req.clone();
    sign_request(&mut m, &k, NOW).unwrap();
    assert_eq!(formerr(&m), FormErr::Duplicate);

    // In the answer section.
    let mut m = req.clone();
    m[7] = 1;
    m[11] = 0;
    assert_eq!(formerr(&m), FormErr::WrongSection);

    // Cut short, or data after it.
    assert_eq!(formerr(&req[..req.len() - 1]), FormErr::Malformed);
    let mut m = req.clone();
    m.push(0);
    assert_eq!(formerr(&m), FormErr::TrailingData);

    // RDATA that does not add up: Other Len claims an octet that is not there, or
    // RDLENGTH is longer than the fields.
    let mut m = req.clone();
    let n = m.len();
    m[n - 1] = 1;
    assert_eq!(formerr(&m), FormErr::BadRecord);
    let mut m = req.clone();
    let rdlen = query().len() + k.name().as_wire().len() + 8;
    let v = u16::from_be_bytes([m[rdlen], m[rdlen + 1]]) + 1;
    m[rdlen..rdlen + 2].copy_from_slice(&v.to_be_bytes());
    m.push(0);
    assert_eq!(formerr(&m), FormErr::BadRecord);

    // CLASS other than ANY.
    let mut m = req.clone();
    let class = query().len() + k.name().as_wire().len() + 2;
    m[class + 1] = 1;
    assert_eq!(formerr(&m), FormErr::BadRecord);

    // The FORMERR answer has no TSIG RR.
    let ans = reject(&m, &keys, NOW).response(&m, NOW).unwrap();
    assert_eq!(rcode(&ans), 1);
    assert_eq!(&ans[6..12], &[0; 6]);
    assert_eq!(ans.len(), query().len());
}

#[test]
fn unknown_or_invalid_algorithm_is_badkey() {
    // CVE-2025-40775: whatever the algorithm name holds, BADKEY and no crash.
    let keys = ring();
    let owner = b"\x02k1\x07example\x00";
    let mac = [0u8; 32];
    let names: [&[u8]; 6] = [
        b"\x08hmac-md5\x07sig-alg\x03reg\x03int\x00",
        b"\x00",
        b"\x08gss-tsig\x00",
        b"\x04\xff\xfe\x00\x01\x00",
        b"\x0bhmac-sha256\x03com\x00",
        // A pointer back to the question name: parsable, unknown.
        b"\xc0\x0c",
    ];
    for alg in names {
        let req = raw_tsig(owner, alg, NOW, &mac);
        let r = reject(&req, &keys, NOW);
        assert_eq!(r.kind(), RejectKind::BadKey, "{alg:?}");
        let ans = r.response(&req, NOW).unwrap();
        assert_eq!(rcode(&ans), 9);
        let t = tsig_of(&ans);
        assert_eq!((t.error, t.mac.len()), (error_code::BADKEY, 0));
    }
    // Unknown key name; known name with an algorithm it does not use.
    let req = raw_tsig(
        b"\x02k2\x07example\x00",
        Algorithm::HmacSha256.wire(),
        NOW,
        &mac,
    );
    assert_eq!(reject(&req, &keys, NOW).kind(), RejectKind::BadKey);
    let only256: Vec<TsigKey> = vec![key("hmac-sha256.")];
    let req = raw_tsig(owner, Algorithm::HmacSha512.wire(), NOW, &[0; 64]);
    let r = verify_request(&req, &only256, NOW).unwrap_err();
    assert_eq!(r.kind(), RejectKind::BadKey);
    // An algorithm name that cannot be read (forward pointer) is FORMERR.
    let req = raw_tsig(owner, b"\xc0\xff", NOW, &mac);
    assert_eq!(
        reject(&req, &keys, NOW).kind(),
        RejectKind::FormErr(FormErr::BadRecord)
    );
}

#[test]
fn mac_truncation_bounds_and_policy() {
    let keys = ring();
    let k = key("hmac-sha256.");
    let owner = k.name().as_wire();
    let alg = Algorithm::HmacSha256.wire();
    let full = mac_for(&k, NOW);
    // RFC 8945 §5.2.2.1: below max(10, 32/2) octets, above 32, or empty: FORMERR.
    for len in [0, 9, 15] {
        let req = raw_tsig(owner, alg, NOW, &full[..len]);
        assert_eq!(
            reject(&req, &keys, NOW).kind(),
            RejectKind::FormErr(FormErr::MacSize {
                len,
                min: 16,
                max: 32
            })
        );
    }
    let mut long = full.clone();
    long.push(0);
    let req = raw_tsig(owner, alg, NOW, &long);
    assert!(matches!(
        reject(&req, &keys, NOW).kind(),
        RejectKind::FormErr(FormErr::MacSize { len: 33, .. })
    ));
    // Allowed by the RFC, below our policy (full length by default): BADTRUNC, signed.
    let req = raw_tsig(owner, alg, NOW, &full[..16]);
    let r = reject(&req, &keys, NOW);
    assert_eq!(r.kind(), RejectKind::BadTrunc { len: 16, min: 32 });
    let ans = r.response(&req, NOW).unwrap();
    let t = tsig_of(&ans);
    assert_eq!((t.error, t.mac.len()), (error_code::BADTRUNC, 32));
    // A truncated MAC that is wrong is still BADSIG (MAC before policy).
    let mut bad = full[..16].to_vec();
    bad[0] ^= 1;
    let req = raw_tsig(owner, alg, NOW, &bad);
    assert_eq!(reject(&req, &keys, NOW).kind(), RejectKind::BadSig);
    // A key that allows truncation to 16 accepts it.
    let lenient = vec![k.clone().with_min_mac_len(16).unwrap()];
    let req = raw_tsig(owner, alg, NOW, &full[..16]);
    assert!(matches!(
        verify_request(&req, &lenient, NOW),
        Ok(Verdict::Signed(_))
    ));
}

#[test]
fn a_response_sent_as_a_request_is_dropped() {
    // CVE-2020-8617: a replayed BADTIME answer sent back to us.
    let keys = ring();
    let (req, _) = signed_query(&key("hmac-sha256."), NOW - 1000);
    let badtime = reject(&req, &keys, NOW).response(&req, NOW).unwrap();
    let r = reject(&badtime, &keys, NOW);
    assert_eq!(r.kind(), RejectKind::NotARequest);
    assert_eq!(r.response(&badtime, NOW), None);
    // With QR cleared its MAC (computed over the request MAC) does not verify as a request.
    let mut replay = badtime.clone();
    replay[2] &= 0x7F;
    let r = reject(&replay, &keys, NOW);
    assert_eq!(r.kind(), RejectKind::BadSig);
    assert!(r.response(&replay, NOW).is_some());
    assert_eq!(reject(&[0x12], &keys, NOW).kind(), RejectKind::NotARequest);
}

#[test]
fn no_input_panics() {
    let keys = ring();
    let k = key("hmac-sha256.");
    let (req, state) = signed_query(&k, NOW);
    let Ok(Verdict::Signed(s)) = verify_request(&req, &keys, NOW) else {
        panic!()
    };
    let mut ans = answer_to(&req);
    s.into_signer().sign(&mut ans, NOW).unwrap();
    for base in [&req, &ans] {
        for cut in 0..=base.len() {
            let m = &base[..cut];
            if let Err(r) = verify_request(m, &keys, NOW) {
                let _ = r.response(m, NOW);
            }
            let _ = state.clone().verify_response(m, NOW);
        }
        for i in 0..base.len() {
            for x in [0x01, 0x80, 0xC0, 0xFF] {
                let mut m = base.clone();
                m[i] ^= x;
                if let Err(r) = verify_request(&m, &keys, NOW) {
                    let _ = r.response(&m, NOW);
                }
                let _ = state.clone().verify_response(&m, NOW);
            }
        }
    }
}

/// Found by the `tsig_verify` fuzz target: a question whose name points back into the header
/// was echoed into an error answer whose header differs, so it named other octets.
#[test]
fn compressed_question_is_not_echoed_in_an_error_answer() {
    let keys = ring();
    // Flags 0: the pointer to offset 3 reads the root name in the request, but a label of
    // length 9 (NOTAUTH) in the answer.
    let mut req = vec![
        0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 3, 0, 6, 0, 1,
    ];
    let v = Variables {
        time_signed: NOW,
        fudge: 300,
        error: 0,
        other: &[],
    };
    let k = key("hmac-sha256.");
    append_tsig(
        &mut req,
        k.name().as_wire(),
        k.algorithm().wire(),
        &v,
        &[0; 32],
    )
    .unwrap();
    let r = reject(&req, &keys, NOW);
    assert_eq!(r.kind(), RejectKind::BadSig);
    let ans = r.response(&req, NOW).unwrap();
    assert_eq!(&ans[4..6], &[0, 0], "no question");
    assert_eq!(tsig_of(&ans).error, error_code::BADSIG);
}
