//! Unit tests: every TSIG line of THREATS.md, against messages built byte by byte.

use super::wire::{append_tsig, digest_variables, find_tsig, time48, TsigRr, Variables};
use super::*;

const SECRET: &str = "c2VjcmV0LWtleS1mb3ItdGFuZGVtLXRlc3RzLTEyMzQ1Ng==";
const NOW: u64 = 1_700_000_000;

fn key(alg: &str) -> TsigKey {
    TsigKey::new("k1.example.", alg, SECRET).unwrap()
}

fn ring() -> KeyRing {
    Algorithm::ALL
        .into_iter()
        .map(|a| key(a.canonical()))
        .collect()
}

/// A query for example.test/SOA with id 0x1234 and RD.
fn query() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(b"\x07example\x04test\x00\x00\x06\x00\x01");
    m
}

fn signed_query(k: &TsigKey, at: u64) -> (Vec<u8>, RequestState) {
    let mut m = query();
    let state = sign_request(&mut m, k, at).unwrap();
    (m, state)
}

fn tsig_of(msg: &[u8]) -> TsigRr {
    find_tsig(msg).tsig.unwrap().unwrap()
}

/// A request carrying a TSIG RR with the given fields and MAC, built without signing.
fn raw_tsig(owner: &[u8], alg: &[u8], time: u64, mac: &[u8]) -> Vec<u8> {
    let mut m = query();
    let v = Variables {
        time_signed: time,
        fudge: 300,
        error: 0,
        other: &[],
    };
    append_tsig(&mut m, owner, alg, &v, mac).unwrap();
    m
}

/// The correct full MAC of `query()` at `time` for `k`.
fn mac_for(k: &TsigKey, time: u64) -> Vec<u8> {
    let mut ctx = k.context();
    ctx.update(&query());
    let v = Variables {
        time_signed: time,
        fudge: 300,
        error: 0,
        other: &[],
    };
    digest_variables(&mut ctx, k.name().as_wire(), k.algorithm().wire(), &v);
    ctx.sign().as_ref().to_vec()
}

/// The answer to `req`: header with QR, question echoed, no records.
fn answer_to(req: &[u8]) -> Vec<u8> {
    let qend = find_tsig(req).question_end;
    let mut m = req[..qend].to_vec();
    m[2] |= 0x80;
    m[10..12].copy_from_slice(&[0, 0]);
    m
}

fn reject(msg: &[u8], keys: &KeyRing, now: u64) -> Rejection<std::sync::Arc<TsigKey>> {
    match verify_request(msg, keys, now) {
        Ok(_) => panic!("accepted"),
        Err(r) => r,
    }
}

fn rcode(msg: &[u8]) -> u16 {
    u16::from(msg[3] & 0x0F)
}

mod client;
mod server;
