//! The catalogue of malformed DNS messages from THREATS.md ("From the network, to the query
//! path"), each with the reactions a server may have to it, and the judge of a reaction.

use crate::dns::{raw, rcode, Response};

/// Judges the reaction to a malformed packet: no answer, or an answer whose header has QR set,
/// the query's id, no answer records, and one of the `allowed` RCODEs.
pub fn judge(
    what: &str,
    id: Option<u16>,
    answer: Option<&[u8]>,
    allowed: &[u16],
    drop_ok: bool,
) -> Result<(), String> {
    let Some(wire) = answer else {
        return if drop_ok {
            Ok(())
        } else {
            Err(format!(
                "{what}: no answer, expected one of {}",
                names(allowed)
            ))
        };
    };
    if wire.len() < 12 {
        return Err(format!(
            "{what}: {}-byte answer shorter than a header",
            wire.len()
        ));
    }
    let answer_id = u16::from_be_bytes([wire[0], wire[1]]);
    let qr = wire[2] & 0x80 != 0;
    let ancount = u16::from_be_bytes([wire[6], wire[7]]);
    // The full RCODE needs the OPT record; parse when the message parses, else use the header.
    let code = Response::parse(wire.to_vec()).map_or(u16::from(wire[3] & 0x0f), |r| r.rcode());
    let mut problems = Vec::new();
    if !qr {
        problems.push("QR clear".to_string());
    }
    if id.is_some_and(|id| id != answer_id) {
        problems.push(format!(
            "id {answer_id} instead of {}",
            id.unwrap_or_default()
        ));
    }
    if ancount != 0 {
        problems.push(format!("{ancount} answer records"));
    }
    if !allowed.contains(&code) {
        problems.push(format!(
            "rcode {} (allowed: {})",
            rcode::name(code),
            names(allowed)
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what}: {}; answer bytes {:02x?}",
            problems.join(", "),
            &wire[..wire.len().min(64)]
        ))
    }
}

pub fn names(codes: &[u16]) -> String {
    codes
        .iter()
        .map(|c| rcode::name(*c))
        .collect::<Vec<_>>()
        .join("/")
}

/// A deterministic xorshift generator, so garbage packets are the same on every run.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// One malformed packet: what it is, its bytes, the RCODEs it may get, whether silence is fine.
pub struct Bad {
    pub what: String,
    pub packet: Vec<u8>,
    pub allowed: &'static [u16],
    pub drop_ok: bool,
}

pub const FORMERR_ONLY: &[u16] = &[rcode::FORMERR];
pub const XFR_ERRORS: &[u16] = &[rcode::REFUSED, rcode::FORMERR, rcode::NOTIMP];
pub const GARBAGE: &[u16] = &[rcode::FORMERR, rcode::REFUSED, rcode::NOTIMP];

pub fn bad(what: &str, packet: Vec<u8>, allowed: &'static [u16], drop_ok: bool) -> Bad {
    Bad {
        what: what.to_string(),
        packet,
        allowed,
        drop_ok,
    }
}

pub fn with_question(id: u16, qd: u16, ar: u16, question: &[u8]) -> Vec<u8> {
    let mut p = raw::header(id, raw::query_flags(0), qd, 0, 0, ar);
    p.extend_from_slice(question);
    p
}

pub fn malformed_packets() -> Vec<Bad> {
    let www = raw::name("www.example.test.");
    let mut long_label = vec![64u8];
    long_label.extend([b'a'; 64]);
    long_label.extend(raw::name("example.test."));
    let mut reserved_label = vec![0x80u8];
    reserved_label.extend([b'a'; 10]);
    reserved_label.push(0);
    let mut long_name = Vec::new();
    for _ in 0..5 {
        long_name.push(63u8);
        long_name.extend([b'a'; 63]);
    }
    long_name.extend(raw::name("example.test."));
    // The question name starts at offset 12.
    let self_pointer = vec![0xc0, 12];
    let label_then_self = vec![1, b'a', 0xc0, 12];
    let two_step_loop = {
        // offset 12: pointer to 14; offset 14: pointer to 12.
        vec![0xc0, 14, 0xc0, 12]
    };
    let pointer_past_end = vec![0xc0, 0xff];
    let mut v = vec![
        bad("empty datagram", vec![], FORMERR_ONLY, true),
        bad(
            "5-byte header",
            vec![0x12, 0x34, 0x01, 0x00, 0x00],
            FORMERR_ONLY,
            true,
        ),
        bad(
            "11-byte header",
            raw::header(0x2001, 0, 1, 0, 0, 0)[..11].to_vec(),
            FORMERR_ONLY,
            true,
        ),
        bad(
            "QDCOUNT=1 without question",
            raw::header(0x2002, 0, 1, 0, 0, 0),
            FORMERR_ONLY,
            true,
        ),
        bad(
            "QDCOUNT=0",
            raw::header(0x2003, 0, 0, 0, 0, 0),
            FORMERR_ONLY,
            true,
        ),
        bad(
            "QDCOUNT=2",
            {
                let mut p = with_question(0x2004, 2, 0, &raw::question(&www, 1));
                p.extend(raw::question(&raw::name("mail.example.test."), 1));
                p
            },
            FORMERR_ONLY,
            true,
        ),
        bad(
            "QDCOUNT=65535",
            with_question(0x2005, 0xffff, 0, &raw::question(&www, 1)),
            FORMERR_ONLY,
            true,
        ),
        bad(
            "ARCOUNT=65535 without records",
            with_question(0x2006, 1, 0xffff, &raw::question(&www, 1)),
            FORMERR_ONLY,
            true,
        ),
        bad(
            "label length 64",
            with_question(0x2007, 1, 0, &raw::question(&long_label, 1)),
            FORMERR_ONLY,
            true,
        ),
        bad(
            "reserved label type 0x80",
            with_question(0x2008, 1, 0, &raw::question(&reserved_label, 1)),
            FORMERR_ONLY,
            true,
        ),
        bad(
            "name of 335 bytes",
            with_question(0x2009, 1, 0, &raw::question(&long_name, 1)),
            FORMERR_ONLY,
            true,
        ),
        bad(
            "compression pointer to itself",
            with_question(0x200a, 1, 0, &raw::question(&self_pointer, 1)),
            FORMERR_ONLY,
            true,
        ),
        bad(
            "label then pointer back to it",
            with_question(0x200b, 1, 0, &raw::question(&label_then_self, 1)),
            FORMERR_ONLY,
            true,
        ),
        bad(
            "two-pointer loop",
            with_question(0x200c, 1, 0, &raw::question(&two_step_loop, 1)),
            FORMERR_ONLY,
            true,
        ),
        bad(
            "pointer past the end",
            with_question(0x200d, 1, 0, &raw::question(&pointer_past_end, 1)),
            FORMERR_ONLY,
            true,
        ),
        bad(
            "forward pointer",
            {
                // offset 12: pointer to 18, just after the question, where a valid name follows.
                let mut p = with_question(0x200e, 1, 0, &raw::question(&[0xc0, 18], 1));
                p.extend(&www);
                p
            },
            FORMERR_ONLY,
            true,
        ),
        bad(
            "question cut inside the type",
            {
                let mut p = with_question(0x200f, 1, 0, &www);
                p.push(0);
                p
            },
            FORMERR_ONLY,
            true,
        ),
        bad(
            "two OPT records",
            raw::query(
                0x2010,
                "www.example.test.",
                1,
                &[raw::opt(1232, 0, false), raw::opt(1232, 0, false)],
            ),
            FORMERR_ONLY,
            false,
        ),
        bad(
            "EDNS version 1",
            raw::query(0x2011, "www.example.test.", 1, &[raw::opt(1232, 1, false)]),
            &[rcode::BADVERS],
            false,
        ),
        bad(
            "EDNS version 255 with DO",
            raw::query(0x2012, "www.example.test.", 1, &[raw::opt(4096, 255, true)]),
            &[rcode::BADVERS],
            false,
        ),
        bad(
            "AXFR over UDP",
            raw::query(0x2014, "example.test.", 252, &[]),
            XFR_ERRORS,
            true,
        ),
        bad(
            "IXFR over UDP without SOA",
            raw::query(0x2015, "example.test.", 251, &[]),
            XFR_ERRORS,
            true,
        ),
    ];
    // Garbage: random bytes with the QR bit cleared, so they look like queries.
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for (i, len) in [1usize, 2, 12, 13, 17, 40, 100, 300, 512, 1400]
        .into_iter()
        .enumerate()
    {
        let mut p = rng.bytes(len);
        if p.len() > 2 {
            p[2] &= 0x7f;
        }
        v.push(bad(
            &format!("garbage #{i} ({len} bytes)"),
            p,
            GARBAGE,
            true,
        ));
    }
    v
}
