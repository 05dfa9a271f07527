//! Parsing an incoming DNS message far enough to answer it (RFC 1035 §4.1, RFC 6891 §6).
//!
//! The query path parses in place: no allocation, the question name is validated and
//! lowercased into a fixed buffer, every record after the question is walked with bounds and
//! pointer checks (pointers must point backwards, so they cannot loop) to find OPT and TSIG.

use tandem_zone::name::{MAX_LABEL_LEN, MAX_NAME_LEN};
use tandem_zone::record::rtype;

pub use tandem_xfr::render::HEADER_LEN;

/// Header flag bits (RFC 1035 §4.1.1, RFC 4035 §3.1.6).
pub mod flags {
    pub const QR: u16 = 0x8000;
    pub const AA: u16 = 0x0400;
    pub const TC: u16 = 0x0200;
    pub const RD: u16 = 0x0100;
    pub const CD: u16 = 0x0010;
    pub const OPCODE_MASK: u16 = 0x7800;
}

/// Response codes (RFC 1035 §4.1.1, RFC 6891 §9, RFC 8945 §3).
pub mod rcode {
    pub const NOERROR: u16 = 0;
    pub const FORMERR: u16 = 1;
    pub const SERVFAIL: u16 = 2;
    pub const NXDOMAIN: u16 = 3;
    pub const NOTIMP: u16 = 4;
    pub const REFUSED: u16 = 5;
    pub const NOTAUTH: u16 = 9;
    pub const BADVERS: u16 = 16;
}

/// EDNS(0) parameters of a query (RFC 6891 §6.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edns {
    pub udp_payload: u16,
    pub version: u8,
    pub dnssec_ok: bool,
}

/// A query that parsed well enough to be answered.
#[derive(Debug)]
pub struct Query {
    pub id: u16,
    pub flags: u16,
    pub opcode: u8,
    /// Question name in lowercase wire form.
    pub qname: [u8; MAX_NAME_LEN],
    pub qname_len: usize,
    pub qtype: u16,
    pub qclass: u16,
    /// Offset just past the question section.
    pub question_end: usize,
    pub edns: Option<Edns>,
    pub has_tsig: bool,
}

impl Query {
    pub fn qname(&self) -> &[u8] {
        &self.qname[..self.qname_len]
    }
}

/// What to do with a message.
#[derive(Debug)]
// The query is kept inline: boxing it would allocate once per packet on the query path.
#[allow(clippy::large_enum_variant)]
pub enum Parsed {
    Query(Query),
    /// Answer with this rcode, echoing the header (and the question when `question_end > 0`).
    Error {
        id: u16,
        flags: u16,
        rcode: u16,
        question_end: usize,
        edns: Option<Edns>,
    },
    /// Not worth an answer: too short to have an ID, or a response.
    Drop,
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

/// Skips a possibly compressed name at `pos`, returning the offset after it. Pointers must
/// point strictly backwards (RFC 1035 §4.1.4), which rules out loops; the expanded name must
/// stay within 255 octets.
pub fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    let mut end = None;
    let mut total = 0usize;
    let mut hops = 0;
    loop {
        let len = *msg.get(pos)?;
        match len & 0xC0 {
            0x00 => {
                total += 1 + len as usize;
                if total > MAX_NAME_LEN {
                    return None;
                }
                if len == 0 {
                    return Some(end.unwrap_or(pos + 1));
                }
                pos += 1 + len as usize;
                if pos > msg.len() {
                    return None;
                }
            }
            0xC0 => {
                let target = (u16_at(msg, pos)? & 0x3FFF) as usize;
                if target >= pos {
                    return None;
                }
                hops += 1;
                if hops > 127 {
                    return None;
                }
                end.get_or_insert(pos + 2);
                pos = target;
            }
            _ => return None,
        }
    }
}

/// Parses a query message (RFC 1035 §4.1). Never panics on any input.
pub fn parse(msg: &[u8]) -> Parsed {
    if msg.len() < HEADER_LEN {
        return Parsed::Drop;
    }
    let id = u16_at(msg, 0).unwrap_or(0);
    let flags = u16_at(msg, 2).unwrap_or(0);
    if flags & flags::QR != 0 {
        return Parsed::Drop;
    }
    let opcode = ((flags & flags::OPCODE_MASK) >> 11) as u8;
    let qdcount = u16_at(msg, 4).unwrap_or(0);
    let ancount = u16_at(msg, 6).unwrap_or(0);
    let nscount = u16_at(msg, 8).unwrap_or(0);
    let arcount = u16_at(msg, 10).unwrap_or(0);
    let error = |rcode, question_end, edns| Parsed::Error {
        id,
        flags,
        rcode,
        question_end,
        edns,
    };
    if qdcount != 1 {
        // RFC 1035 §4.1.2 leaves room for several, but no server answers more than one.
        return error(
            if opcode == 0 {
                rcode::FORMERR
            } else {
                rcode::NOTIMP
            },
            0,
            None,
        );
    }
    let mut q = Query {
        id,
        flags,
        opcode,
        qname: [0; MAX_NAME_LEN],
        qname_len: 0,
        qtype: 0,
        qclass: 0,
        question_end: 0,
        edns: None,
        has_tsig: false,
    };
    // Question name: no compression possible (nothing earlier to point to).
    let mut pos = HEADER_LEN;
    loop {
        let Some(&len) = msg.get(pos) else {
            return error(rcode::FORMERR, 0, None);
        };
        if len as usize > MAX_LABEL_LEN {
            return error(rcode::FORMERR, 0, None);
        }
        let end = pos + 1 + len as usize;
        if end > msg.len() || q.qname_len + 1 + len as usize > MAX_NAME_LEN {
            return error(rcode::FORMERR, 0, None);
        }
        q.qname[q.qname_len] = len;
        for i in 0..len as usize {
            q.qname[q.qname_len + 1 + i] = msg[pos + 1 + i].to_ascii_lowercase();
        }
        q.qname_len += 1 + len as usize;
        pos = end;
        if len == 0 {
            break;
        }
    }
    let (Some(qtype), Some(qclass)) = (u16_at(msg, pos), u16_at(msg, pos + 2)) else {
        return error(rcode::FORMERR, 0, None);
    };
    q.qtype = qtype;
    q.qclass = qclass;
    pos += 4;
    q.question_end = pos;

    // Walk answer and authority (ignored for queries) and the additional section.
    let total = ancount as usize + nscount as usize + arcount as usize;
    for i in 0..total {
        let additional = i >= ancount as usize + nscount as usize;
        let owner_at = pos;
        let Some(after_name) = skip_name(msg, pos) else {
            return error(rcode::FORMERR, q.question_end, q.edns);
        };
        let (Some(t), Some(class), Some(rdlen)) = (
            u16_at(msg, after_name),
            u16_at(msg, after_name + 2),
            u16_at(msg, after_name + 8),
        ) else {
            return error(rcode::FORMERR, q.question_end, q.edns);
        };
        let rdata_at = after_name + 10;
        let end = rdata_at + rdlen as usize;
        if end > msg.len() {
            return error(rcode::FORMERR, q.question_end, q.edns);
        }
        if q.has_tsig {
            // RFC 8945 §5.1: TSIG must be the last record.
            return error(rcode::FORMERR, q.question_end, q.edns);
        }
        match t {
            rtype::OPT => {
                // RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
                if !additional || q.edns.is_some() || msg[owner_at] != 0 {
                    return error(rcode::FORMERR, q.question_end, None);
                }
                if !options_well_formed(&msg[rdata_at..end]) {
                    return error(rcode::FORMERR, q.question_end, None);
                }
                let ttl_flags = u16_at(msg, after_name + 6).unwrap_or(0);
                q.edns = Some(Edns {
                    udp_payload: class,
                    version: msg[after_name + 5],
                    dnssec_ok: ttl_flags & 0x8000 != 0,
                });
            }
            rtype::TSIG => {
                if !additional {
                    return error(rcode::FORMERR, q.question_end, q.edns);
                }
                q.has_tsig = true;
            }
            _ => {}
        }
        pos = end;
    }
    if let Some(e) = q.edns {
        if e.version != 0 {
            // RFC 6891 §6.1.3: answer BADVERS with an OPT of the highest version we know.
            return error(rcode::BADVERS, q.question_end, Some(e));
        }
    }
    Parsed::Query(q)
}

/// EDNS options are (code, length, data) triples that must exactly fill the RDATA.
fn options_well_formed(mut rdata: &[u8]) -> bool {
    while !rdata.is_empty() {
        let Some(len) = u16_at(rdata, 2) else {
            return false;
        };
        let next = 4 + len as usize;
        if next > rdata.len() {
            return false;
        }
        rdata = &rdata[next..];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &[u8], qtype: u16, extra: &[u8], arcount: u16) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(&arcount.to_be_bytes());
        m.extend_from_slice(name);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(extra);
        m
    }

    const OPT: &[u8] = &[0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0];

    #[test]
    fn good_query_with_edns() {
        let m = query(b"\x03WWW\x07example\x03com\x00", 1, OPT, 1);
        let Parsed::Query(q) = parse(&m) else {
            panic!("not a query")
        };
        assert_eq!(q.qname(), b"\x03www\x07example\x03com\x00");
        assert_eq!(q.edns.unwrap().udp_payload, 1232);
        assert!(q.edns.unwrap().dnssec_ok);
    }

    #[test]
    fn malformed_inputs() {
        assert!(matches!(parse(&[0; 5]), Parsed::Drop));
        let mut two_opt = OPT.to_vec();
        two_opt.extend_from_slice(OPT);
        let m = query(b"\x01a\x00", 1, &two_opt, 2);
        assert!(matches!(parse(&m), Parsed::Error { rcode: 1, .. }));
        let long_label = {
            let mut n = vec![64];
            n.extend([b'a'; 64]);
            n.push(0);
            n
        };
        assert!(matches!(
            parse(&query(&long_label, 1, &[], 0)),
            Parsed::Error { rcode: 1, .. }
        ));
        // A pointer in the additional section that points forward (or at itself).
        let m = query(
            b"\x01a\x00",
            1,
            &[0xC0, 0xFF, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0],
            1,
        );
        assert!(matches!(parse(&m), Parsed::Error { rcode: 1, .. }));
        let mut badvers = OPT.to_vec();
        badvers[6] = 1;
        let m = query(b"\x01a\x00", 1, &badvers, 1);
        assert!(matches!(parse(&m), Parsed::Error { rcode: 16, .. }));
    }

    #[test]
    fn skip_name_rejects_loops() {
        let msg = [0u8; 12]
            .iter()
            .copied()
            .chain([0xC0, 12])
            .collect::<Vec<_>>();
        assert_eq!(skip_name(&msg, 12), None);
        let msg = [1, b'a', 0, 0xC0, 0];
        assert_eq!(skip_name(&msg, 3), Some(5));
    }
}
