//! DNS wire-format helpers for the load generator: encoding query messages
//! once up front (so the hot loop only patches the 16-bit id) and checking
//! that a response really answers the query that was sent with that id.

use anyhow::{bail, Result};

/// Length of the fixed DNS message header.
pub const HEADER_LEN: usize = 12;

/// Advertised UDP payload size when `--edns` is on.
pub const EDNS_UDP_SIZE: u16 = 1232;

/// Parses a record type mnemonic (`A`, `AAAA`, ...) or the generic
/// `TYPEnnn` form into its numeric value.
pub fn parse_qtype(s: &str) -> Option<u16> {
    let upper = s.to_ascii_uppercase();
    let v = match upper.as_str() {
        "A" => 1,
        "NS" => 2,
        "CNAME" => 5,
        "SOA" => 6,
        "PTR" => 12,
        "MX" => 15,
        "TXT" => 16,
        "AAAA" => 28,
        "SRV" => 33,
        "NAPTR" => 35,
        "DS" => 43,
        "DNSKEY" => 48,
        "SVCB" => 64,
        "HTTPS" => 65,
        "CAA" => 257,
        "ANY" => 255,
        other => return other.strip_prefix("TYPE")?.parse().ok(),
    };
    Some(v)
}

/// Name of a response code as printed in the summary.
pub fn rcode_name(rcode: u8) -> String {
    match rcode {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        6 => "YXDOMAIN".into(),
        7 => "YXRRSET".into(),
        8 => "NXRRSET".into(),
        9 => "NOTAUTH".into(),
        10 => "NOTZONE".into(),
        n => format!("RCODE{n}"),
    }
}

/// Appends the uncompressed wire form of a presentation-format domain name
/// (plain labels, no escapes; a trailing dot is optional).
pub fn encode_name(name: &str, out: &mut Vec<u8>) -> Result<()> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let start = out.len();
    if !name.is_empty() {
        for label in name.split('.') {
            if label.is_empty() || label.len() > 63 {
                bail!("bad label in name {name:?}");
            }
            if label.contains('\\') {
                bail!("escapes are not supported in name {name:?}");
            }
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    if out.len() - start > 255 {
        bail!("name too long: {name:?}");
    }
    Ok(())
}

/// Appends a complete query message (id 0, RD clear, one question of class
/// IN, optionally an EDNS OPT record) and returns the offset, relative to the
/// start of the message, just past the question section.
pub fn build_query(name: &str, qtype: u16, edns: bool, out: &mut Vec<u8>) -> Result<usize> {
    let start = out.len();
    out.extend_from_slice(&[0, 0]); // id, patched at send time
    out.extend_from_slice(&[0, 0]); // flags: standard query, RD=0
    out.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    out.extend_from_slice(&[0, 0, 0, 0]); // ANCOUNT, NSCOUNT
    out.extend_from_slice(&(edns as u16).to_be_bytes()); // ARCOUNT
    if let Err(e) = encode_name(name, out) {
        out.truncate(start);
        return Err(e);
    }
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // class IN
    let question_end = out.len() - start;
    if edns {
        out.push(0); // root owner
        out.extend_from_slice(&41u16.to_be_bytes()); // OPT
        out.extend_from_slice(&EDNS_UDP_SIZE.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]); // ext rcode, version, flags
        out.extend_from_slice(&[0, 0]); // rdlen
    }
    Ok(question_end)
}

/// The parts of a response header the load generator looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseInfo {
    /// Message id.
    pub id: u16,
    /// Low four bits of the response code.
    pub rcode: u8,
    /// TC bit.
    pub truncated: bool,
    /// AA bit.
    pub authoritative: bool,
    /// Number of answer records.
    pub ancount: u16,
}

/// Returns the id of a message, if it is long enough to have one.
pub fn message_id(msg: &[u8]) -> Option<u16> {
    (msg.len() >= 2).then(|| u16::from_be_bytes([msg[0], msg[1]]))
}

/// Checks that `resp` is a response (QR set) with exactly one question and
/// that its question section equals `question` (the query's bytes from the
/// end of the header to the end of the question). Returns its header fields.
pub fn check_response(resp: &[u8], question: &[u8]) -> Option<ResponseInfo> {
    if resp.len() < HEADER_LEN + question.len() {
        return None;
    }
    let flags = u16::from_be_bytes([resp[2], resp[3]]);
    if flags & 0x8000 == 0 {
        return None;
    }
    let qdcount = u16::from_be_bytes([resp[4], resp[5]]);
    if qdcount != 1 || &resp[HEADER_LEN..HEADER_LEN + question.len()] != question {
        return None;
    }
    Some(ResponseInfo {
        id: u16::from_be_bytes([resp[0], resp[1]]),
        rcode: (flags & 0x000f) as u8,
        truncated: flags & 0x0200 != 0,
        authoritative: flags & 0x0400 != 0,
        ancount: u16::from_be_bytes([resp[6], resp[7]]),
    })
}

/// Skips a (possibly compressed) name starting at `pos`; returns the offset
/// just after it.
pub fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *msg.get(pos)? as usize;
        match len {
            0 => return Some(pos + 1),
            l if l & 0xc0 == 0xc0 => return (pos + 2 <= msg.len()).then_some(pos + 2),
            l if l & 0xc0 == 0 => pos += 1 + l,
            _ => return None,
        }
    }
}

/// The end of the question section and the question type of a query with one question.
pub fn question(msg: &[u8]) -> Option<(usize, u16)> {
    if msg.len() < HEADER_LEN || msg[4..6] != [0, 1] {
        return None;
    }
    let mut i = HEADER_LEN;
    loop {
        let l = *msg.get(i)? as usize;
        i += 1;
        if l == 0 {
            break;
        }
        if l > 63 {
            return None;
        }
        i += l;
    }
    let qtype = u16::from_be_bytes([*msg.get(i)?, *msg.get(i + 1)?]);
    Some((i + 4, qtype))
}

/// One DNS message from a TCP stream (RFC 1035 §4.2.2: a two-octet length, then the message).
pub fn read_tcp_message(s: &mut impl std::io::Read) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut msg)?;
    Ok(msg)
}

/// The serial of the first SOA record in the answer section of `resp`,
/// whose question section ends at `question_end`.
pub fn soa_serial(resp: &[u8], question_end: usize) -> Option<u32> {
    let ancount = u16::from_be_bytes([*resp.get(6)?, *resp.get(7)?]);
    let mut pos = question_end;
    for _ in 0..ancount {
        pos = skip_name(resp, pos)?;
        let fixed = resp.get(pos..pos + 10)?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let rdlen = u16::from_be_bytes([fixed[8], fixed[9]]) as usize;
        let rdata = pos + 10;
        if rtype == 6 {
            return soa_rdata_serial(resp, rdata);
        }
        pos = rdata + rdlen;
    }
    None
}

/// The serial of the SOA RDATA at `rdata` in `msg` (RFC 1035 §3.3.13: after MNAME and
/// RNAME, which may be compressed).
pub fn soa_rdata_serial(msg: &[u8], rdata: usize) -> Option<u32> {
    let after_names = skip_name(msg, skip_name(msg, rdata)?)?;
    let serial = msg.get(after_names..after_names + 4)?;
    Some(u32::from_be_bytes([
        serial[0], serial[1], serial[2], serial[3],
    ]))
}

/// Header flags of a NOTIFY as a primary sends it (RFC 1996 §3.7): opcode
/// NOTIFY (4), AA set.
const NOTIFY_FLAGS: [u8; 2] = [4 << 3 | 0x04, 0];

/// All queries of a run, encoded back to back.
#[derive(Debug, Default, Clone)]
pub struct QuerySet {
    data: Vec<u8>,
    /// (start offset, message length, end of question relative to start).
    index: Vec<(u32, u16, u16)>,
}

impl QuerySet {
    /// Encodes and appends one query.
    pub fn push(&mut self, name: &str, qtype: u16, edns: bool) -> Result<()> {
        let start = self.data.len();
        let qend = build_query(name, qtype, edns, &mut self.data)?;
        let len = self.data.len() - start;
        if self.data.len() > u32::MAX as usize {
            bail!("query set too large");
        }
        self.index.push((start as u32, len as u16, qend as u16));
        Ok(())
    }

    /// Encodes and appends a NOTIFY for `zone`: its question is the zone's
    /// apex, type SOA (RFC 1996 §3.7).
    pub fn push_notify(&mut self, zone: &str) -> Result<()> {
        let start = self.data.len();
        self.push(zone, 6, false)?;
        self.data[start + 2..start + 4].copy_from_slice(&NOTIFY_FLAGS);
        Ok(())
    }

    /// Parses `name type` lines (blank lines and `;`/`#` comments skipped).
    pub fn parse_lines(text: &str, edns: bool) -> Result<Self> {
        let mut set = QuerySet::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(name), Some(ty)) = (parts.next(), parts.next()) else {
                bail!("line {}: expected `name type`", n + 1);
            };
            let Some(qtype) = parse_qtype(ty) else {
                bail!("line {}: unknown type {ty:?}", n + 1);
            };
            set.push(name, qtype, edns)
                .map_err(|e| anyhow::anyhow!("line {}: {e}", n + 1))?;
        }
        Ok(set)
    }

    /// Number of queries.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True if there are no queries.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The whole message of query `i` (with id 0).
    pub fn message(&self, i: usize) -> &[u8] {
        let (start, len, _) = self.index[i];
        &self.data[start as usize..start as usize + len as usize]
    }

    /// The question section of query `i`.
    pub fn question(&self, i: usize) -> &[u8] {
        let (start, _, qend) = self.index[i];
        &self.data[start as usize + HEADER_LEN..start as usize + qend as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soa_serial_reads_the_answer_with_compression() {
        let mut q = Vec::new();
        let qend = build_query("bench.test", 6, false, &mut q).unwrap();
        let mut r = q[..qend].to_vec();
        r[2] = 0x84; // QR, AA
        r[7] = 1; // ANCOUNT
        r.extend_from_slice(&[0xc0, 12, 0, 6, 0, 1, 0, 0, 0x0e, 0x10]);
        let mut rdata = Vec::new();
        encode_name("ns1.bench.test", &mut rdata).unwrap();
        rdata.extend_from_slice(&[
            10, b'h', b'o', b's', b't', b'm', b'a', b's', b't', b'e', b'r', 0xc0, 12,
        ]);
        rdata.extend_from_slice(&1234567u32.to_be_bytes());
        rdata.extend_from_slice(&[0; 16]);
        r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        r.extend_from_slice(&rdata);
        assert_eq!(soa_serial(&r, qend), Some(1234567));
        assert_eq!(soa_serial(&r[..r.len() - 18], qend), None);
    }

    /// Turns a query into a minimal response with the given id and rcode.
    fn respond(query: &[u8], id: u16, rcode: u8) -> Vec<u8> {
        let mut r = query.to_vec();
        r[0..2].copy_from_slice(&id.to_be_bytes());
        r[2] |= 0x84; // QR + AA
        r[3] = (r[3] & 0xf0) | rcode;
        r
    }

    #[test]
    fn query_bytes_are_exact() {
        let mut buf = Vec::new();
        let qend = build_query("www1.bench.test.", 1, false, &mut buf).unwrap();
        let want: &[u8] = &[
            0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, //
            4, b'w', b'w', b'w', b'1', 5, b'b', b'e', b'n', b'c', b'h', 4, b't', b'e', b's', b't',
            0, //
            0, 1, 0, 1,
        ];
        assert_eq!(buf, want);
        assert_eq!(qend, want.len());
    }

    #[test]
    fn edns_query_has_opt() {
        let mut buf = Vec::new();
        let qend = build_query("bench.test", 6, true, &mut buf).unwrap();
        assert_eq!(&buf[10..12], &[0, 1]);
        assert_eq!(buf.len(), qend + 11);
        assert_eq!(&buf[qend..qend + 5], &[0, 0, 41, 0x04, 0xd0]);
    }

    #[test]
    fn names_are_validated() {
        let mut buf = Vec::new();
        assert!(encode_name("a..b", &mut buf).is_err());
        assert!(encode_name(&"x".repeat(64), &mut buf).is_err());
        let long = vec!["abcdefghij"; 30].join(".");
        assert!(encode_name(&long, &mut buf).is_err());
        buf.clear();
        encode_name(".", &mut buf).unwrap();
        assert_eq!(buf, [0]);
        let mut q = Vec::new();
        assert!(build_query("a..b", 1, false, &mut q).is_err());
        assert!(q.is_empty(), "failed build leaves no partial bytes");
    }

    #[test]
    fn qtypes_parse() {
        assert_eq!(parse_qtype("aaaa"), Some(28));
        assert_eq!(parse_qtype("SOA"), Some(6));
        assert_eq!(parse_qtype("TYPE65280"), Some(65280));
        assert_eq!(parse_qtype("BOGUS"), None);
        assert_eq!(rcode_name(3), "NXDOMAIN");
        assert_eq!(rcode_name(15), "RCODE15");
    }

    #[test]
    fn responses_match_their_question() {
        let set = QuerySet::parse_lines(
            "; comment\nwww1.bench.test A\n\nnx.bench.test AAAA\n",
            false,
        )
        .unwrap();
        assert_eq!(set.len(), 2);
        let r = respond(set.message(0), 0xbeef, 0);
        let info = check_response(&r, set.question(0)).unwrap();
        assert_eq!(info.id, 0xbeef);
        assert_eq!(message_id(&r), Some(0xbeef));
        assert_eq!(info.rcode, 0);
        assert!(info.authoritative && !info.truncated);
        // Same id, other question: not a match.
        assert!(check_response(&r, set.question(1)).is_none());
        // A query (QR clear) is not a response.
        assert!(check_response(set.message(0), set.question(0)).is_none());
        // Truncated garbage.
        assert!(check_response(&r[..14], set.question(0)).is_none());
        let nx = respond(set.message(1), 7, 3);
        assert_eq!(check_response(&nx, set.question(1)).unwrap().rcode, 3);
    }

    #[test]
    fn notify_is_opcode_4_with_aa_and_an_soa_question() {
        let mut set = QuerySet::default();
        set.push_notify("sec.test").unwrap();
        let m = set.message(0);
        assert_eq!(&m[2..4], &[0x24, 0x00]);
        assert_eq!(&m[m.len() - 4..], &[0, 6, 0, 1]);
        let r = respond(m, 9, 5);
        assert_eq!(check_response(&r, set.question(0)).unwrap().rcode, 5);
    }

    #[test]
    fn bad_query_lines_are_reported() {
        assert!(QuerySet::parse_lines("www.bench.test\n", false).is_err());
        assert!(QuerySet::parse_lines("www.bench.test BOGUS\n", false).is_err());
    }
}
