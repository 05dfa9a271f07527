//! The client side: answers and transfers to our signed requests (RFC 8945 §5.3, §5.4).

use super::*;

/// A transfer of `n` messages where `unsigned(i)` says which go unsigned.
fn transfer(n: usize, unsigned: impl Fn(usize) -> bool) -> (Vec<Vec<u8>>, RequestState) {
    let keys = ring();
    let (req, state) = signed_query(&key("hmac-sha256."), NOW);
    let Ok(Verdict::Signed(s)) = verify_request(&req, &keys, NOW) else {
        panic!()
    };
    let mut signer = s.into_signer();
    let mut out = Vec::new();
    for i in 0..n {
        let mut m = answer_to(&req);
        // One A record per message, so that every message differs.
        m.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, i as u8, 0, 0, 1]);
        m[7] = 1;
        if unsigned(i) {
            signer.pass_unsigned(&m).unwrap();
        } else {
            signer.sign(&mut m, NOW).unwrap();
        }
        out.push(m);
    }
    (out, state)
}

#[test]
fn transfer_allows_99_unsigned_in_a_row_not_100() {
    let (msgs, mut state) = transfer(101, |i| i != 0 && i != 100);
    for m in &msgs {
        state.verify_response(m, NOW).unwrap();
    }
    state.finish().unwrap();

    let (msgs, mut state) = transfer(102, |i| i != 0 && i != 101);
    for m in &msgs[..100] {
        state.verify_response(m, NOW).unwrap();
    }
    assert_eq!(
        state.verify_response(&msgs[100], NOW),
        Err(ResponseError::TooManyUnsigned)
    );
}

#[test]
fn transfer_must_end_signed_and_start_signed() {
    let (msgs, mut state) = transfer(5, |i| i == 4);
    for m in &msgs {
        state.verify_response(m, NOW).unwrap();
    }
    assert_eq!(state.finish(), Err(ResponseError::LastUnsigned));

    let (msgs, mut state) = transfer(3, |i| i == 1);
    assert_eq!(state.finish(), Err(ResponseError::NoAnswer));
    assert!(matches!(
        state.verify_response(&msgs[1], NOW),
        Err(ResponseError::Unsigned { rcode: 0 })
    ));
    let mut fresh = ResponseSigner::new(key("hmac-sha256."), &[1; 32]);
    assert_eq!(fresh.pass_unsigned(&msgs[0]), Err(SignError::FirstUnsigned));
}

#[test]
fn transfer_messages_are_verified_in_order() {
    let (msgs, mut state) = transfer(3, |_| false);
    state.verify_response(&msgs[0], NOW).unwrap();
    assert_eq!(
        state.verify_response(&msgs[2], NOW),
        Err(ResponseError::BadSig),
        "skipping a message breaks the chain"
    );
    // A failed message leaves the state as it was.
    state.verify_response(&msgs[1], NOW).unwrap();
    state.verify_response(&msgs[2], NOW).unwrap();
    state.finish().unwrap();
}

#[test]
fn malformed_truncated_mac_in_a_reply_is_an_error() {
    // CVE-2020-8622.
    let k = key("hmac-sha256.");
    let (req, mut state) = signed_query(&k, NOW);
    let v = Variables::now(NOW);
    for len in [1, 4, 9, 15, 33] {
        let mut ans = answer_to(&req);
        append_tsig(
            &mut ans,
            k.name().as_wire(),
            Algorithm::HmacSha256.wire(),
            &v,
            &vec![7; len],
        )
        .unwrap();
        assert!(matches!(
            state.verify_response(&ans, NOW),
            Err(ResponseError::Malformed(FormErr::MacSize { .. }))
        ));
    }
    // MAC size 0 without an error code is not a signature either.
    let mut ans = answer_to(&req);
    append_tsig(
        &mut ans,
        k.name().as_wire(),
        Algorithm::HmacSha256.wire(),
        &v,
        &[],
    )
    .unwrap();
    assert!(matches!(
        state.verify_response(&ans, NOW),
        Err(ResponseError::Malformed(_))
    ));
    // MAC Size pointing past the end.
    let mut ans = answer_to(&req);
    append_tsig(
        &mut ans,
        k.name().as_wire(),
        Algorithm::HmacSha256.wire(),
        &v,
        &[7; 32],
    )
    .unwrap();
    let mac_size = ans.len() - 32 - 8;
    ans[mac_size] = 0xFF;
    assert!(matches!(
        state.verify_response(&ans, NOW),
        Err(ResponseError::Malformed(FormErr::BadRecord))
    ));
}

#[test]
fn answers_with_wrong_key_forged_mac_or_stale_time_are_refused() {
    let keys = ring();
    let k = key("hmac-sha256.");
    let (req, mut state) = signed_query(&k, NOW);
    let Ok(Verdict::Signed(s)) = verify_request(&req, &keys, NOW) else {
        panic!()
    };
    // Signed with another key of the same name.
    let other = TsigKey::new("k1.example.", "hmac-sha256.", "b3RoZXI=").unwrap();
    let mut ans = answer_to(&req);
    ResponseSigner::new(&other, &s.mac)
        .sign(&mut ans, NOW)
        .unwrap();
    assert_eq!(state.verify_response(&ans, NOW), Err(ResponseError::BadSig));
    // Another key name.
    let k2 = TsigKey::new("k2.example.", "hmac-sha256.", SECRET).unwrap();
    let mut ans = answer_to(&req);
    ResponseSigner::new(&k2, &s.mac)
        .sign(&mut ans, NOW)
        .unwrap();
    assert_eq!(
        state.verify_response(&ans, NOW),
        Err(ResponseError::WrongKey)
    );
    // Signed too long ago.
    let mut ans = answer_to(&req);
    ResponseSigner::new(&k, &s.mac)
        .sign(&mut ans, NOW - 301)
        .unwrap();
    assert!(matches!(
        state.verify_response(&ans, NOW),
        Err(ResponseError::BadTime { .. })
    ));
    // The query itself is not an answer.
    assert_eq!(
        state.verify_response(&req, NOW),
        Err(ResponseError::NotAResponse)
    );
}

#[test]
fn reserve_leaves_room_for_the_tsig_rr() {
    let k = key("hmac-sha512.");
    let signer = ResponseSigner::new(&k, &[0; 64]);
    let cfg = signer.reserve(crate::XfrConfig::default());
    assert_eq!(cfg.max_message, 16 * 1024 - signer.tsig_len());
    let mut m = vec![0; cfg.max_message];
    let mut s = signer;
    s.sign(&mut m, NOW).unwrap();
    assert!(m.len() <= 16 * 1024);
}
