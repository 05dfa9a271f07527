//! Writing a response message into a reused buffer (RFC 1035 §4.1) with name compression
//! (RFC 1035 §4.1.4) limited to owner names and the RDATA names of the RFC 1035 types
//! (RFC 3597 §4), and truncation that keeps whole RRsets (RFC 2181 §9).

use tandem_zone::name::MAX_NAME_LEN;
use tandem_zone::record::rtype;

/// Length of the DNS header (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;

/// How many earlier name positions the compressor remembers.
const MAX_POINTERS: usize = 48;

/// The message does not fit the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// How to write an owner name.
#[derive(Clone, Copy, Debug)]
pub enum Owner<'a> {
    /// A compression pointer to a name already in the message.
    Ptr(u16),
    /// A name in uncompressed wire form, compressed against what is already written.
    Name(&'a [u8]),
}

/// Sections that carry records, in message order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Answer = 0,
    Authority = 1,
    Additional = 2,
}

/// A response being written. The buffer's capacity is reserved once per worker, so writing
/// never allocates.
pub struct Response<'b> {
    pub buf: &'b mut Vec<u8>,
    limit: usize,
    counts: [u16; 3],
    ptrs: [u16; MAX_POINTERS],
    /// A case-insensitive hash of the name at each remembered position, so that a search
    /// compares names only where the hashes agree (an AXFR message remembers dozens).
    hashes: [u16; MAX_POINTERS],
    nptrs: usize,
    /// One bit per value of the low 8 bits of a remembered hash: a search whose bit is clear
    /// ends at once, without the scan (most owners of an AXFR message are new to it). A
    /// rollback leaves bits set, which only costs a scan.
    seen: [u64; 4],
}

/// Where a remembered hash's low 8 bits live in `Response::seen`: its word and its bit.
#[inline]
fn seen_bit(hash: u16) -> (usize, u64) {
    ((hash as usize >> 6) & 3, 1 << (hash & 63))
}

impl<'b> Response<'b> {
    /// Starts a response: header copied from the query with QR set, question echoed.
    pub fn start(
        buf: &'b mut Vec<u8>,
        query: &[u8],
        question_end: usize,
        flags: u16,
        limit: usize,
    ) -> Self {
        buf.clear();
        let qend = question_end.min(query.len());
        buf.extend_from_slice(&query[..2]);
        buf.extend_from_slice(&flags.to_be_bytes());
        let qd: u16 = if qend > HEADER_LEN { 1 } else { 0 };
        buf.extend_from_slice(&qd.to_be_bytes());
        buf.extend_from_slice(&[0; 6]);
        if qd == 1 {
            buf.extend_from_slice(&query[HEADER_LEN..qend]);
        }
        let mut r = Response {
            buf,
            limit,
            counts: [0; 3],
            ptrs: [0; MAX_POINTERS],
            hashes: [0; MAX_POINTERS],
            nptrs: 0,
            seen: [0; 4],
        };
        if qd == 1 {
            r.remember_question(HEADER_LEN);
        }
        r
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn count(&self, s: Section) -> u16 {
        self.counts[s as usize]
    }

    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    pub fn set_flags(&mut self, set: u16) {
        let f = u16::from_be_bytes([self.buf[2], self.buf[3]]) | set;
        self.buf[2..4].copy_from_slice(&f.to_be_bytes());
    }

    pub fn clear_flags(&mut self, clear: u16) {
        let f = u16::from_be_bytes([self.buf[2], self.buf[3]]) & !clear;
        self.buf[2..4].copy_from_slice(&f.to_be_bytes());
    }

    pub fn set_rcode(&mut self, rcode: u16) {
        self.buf[3] = (self.buf[3] & 0xF0) | (rcode & 0x0F) as u8;
    }

    /// A mark to roll back to (for RRsets that do not fit).
    pub fn mark(&self) -> (usize, [u16; 3], usize) {
        (self.buf.len(), self.counts, self.nptrs)
    }

    pub fn rollback(&mut self, m: (usize, [u16; 3], usize)) {
        self.buf.truncate(m.0);
        self.counts = m.1;
        self.nptrs = m.2;
    }

    /// Writes the counts into the header.
    pub fn finish(&mut self) {
        for (i, c) in self.counts.iter().enumerate() {
            let at = 6 + 2 * i;
            self.buf[at..at + 2].copy_from_slice(&c.to_be_bytes());
        }
    }

    /// Writes every RR of pre-rendered bodies (TYPE CLASS TTL RDLENGTH RDATA each) under one
    /// owner. `ttl` overrides the TTL when given. Returns the message offset of the last
    /// RDATA written (used to point at a CNAME target).
    pub fn push_rrs(
        &mut self,
        section: Section,
        owner: Owner<'_>,
        bodies: &[u8],
        ttl: Option<u32>,
    ) -> Result<usize, Full> {
        let mut pos = 0;
        let mut last_rdata = 0;
        while pos + 10 <= bodies.len() {
            let t = u16::from_be_bytes([bodies[pos], bodies[pos + 1]]);
            let rdlen = u16::from_be_bytes([bodies[pos + 8], bodies[pos + 9]]) as usize;
            let rdata = &bodies[pos + 10..pos + 10 + rdlen];
            self.write_owner(owner)?;
            self.put(&bodies[pos..pos + 4])?;
            match ttl {
                Some(t) => self.put(&t.to_be_bytes())?,
                None => self.put(&bodies[pos + 4..pos + 8])?,
            }
            let rdlen_at = self.buf.len();
            self.put(&[0, 0])?;
            last_rdata = self.buf.len();
            self.write_rdata(t, rdata)?;
            let written = (self.buf.len() - rdlen_at - 2) as u16;
            self.buf[rdlen_at..rdlen_at + 2].copy_from_slice(&written.to_be_bytes());
            self.counts[section as usize] += 1;
            pos += 10 + rdlen;
        }
        Ok(last_rdata)
    }

    /// Appends an OPT pseudo-RR (RFC 6891 §6.1.2). Always fits: the limit leaves room for it.
    pub fn push_opt(&mut self, payload: u16, ext_rcode: u8, dnssec_ok: bool) {
        let flags: u16 = if dnssec_ok { 0x8000 } else { 0 };
        self.buf.push(0);
        self.buf.extend_from_slice(&rtype::OPT.to_be_bytes());
        self.buf.extend_from_slice(&payload.to_be_bytes());
        self.buf.extend_from_slice(&[ext_rcode, 0]);
        self.buf.extend_from_slice(&flags.to_be_bytes());
        self.buf.extend_from_slice(&[0, 0]);
        self.counts[Section::Additional as usize] += 1;
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
        if self.buf.len() + bytes.len() > self.limit {
            return Err(Full);
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn write_owner(&mut self, owner: Owner<'_>) -> Result<(), Full> {
        match owner {
            Owner::Ptr(p) => self.put(&(0xC000 | p).to_be_bytes()),
            Owner::Name(n) => self.write_name(n, true),
        }
    }

    /// RFC 3597 §4: only the RFC 1035 types may have their RDATA names compressed.
    fn write_rdata(&mut self, t: u16, rdata: &[u8]) -> Result<(), Full> {
        match t {
            rtype::NS | rtype::CNAME | rtype::PTR => self.write_name_or_raw(rdata, true),
            rtype::MX if rdata.len() > 2 => {
                self.put(&rdata[..2])?;
                self.write_name_or_raw(&rdata[2..], true)
            }
            rtype::SOA => match tandem_zone::name::wire_len(rdata) {
                Ok(l1) => match tandem_zone::name::wire_len(&rdata[l1..]) {
                    Ok(l2) => {
                        self.write_name(&rdata[..l1], true)?;
                        self.write_name(&rdata[l1..l1 + l2], true)?;
                        self.put(&rdata[l1 + l2..])
                    }
                    Err(_) => self.put(rdata),
                },
                Err(_) => self.put(rdata),
            },
            // Names in these are never compressed but are worth remembering as targets.
            _ => self.put(rdata),
        }
    }

    fn write_name_or_raw(&mut self, rdata: &[u8], compress: bool) -> Result<(), Full> {
        match tandem_zone::name::wire_len(rdata) {
            Ok(l) if l == rdata.len() => self.write_name(rdata, compress),
            _ => self.put(rdata),
        }
    }

    /// Writes an uncompressed wire name, replacing its longest already-written suffix with a
    /// pointer.
    pub fn write_name(&mut self, name: &[u8], compress: bool) -> Result<(), Full> {
        let suffixes = Suffixes::of(name);
        let start = self.buf.len();
        for i in 0..suffixes.len {
            let pos = suffixes.starts[i] as usize;
            if compress {
                if let Some(p) = self.find(&name[pos..], suffixes.hashes[i]) {
                    self.put(&name[..pos])?;
                    self.put(&(0xC000 | p).to_be_bytes())?;
                    self.remember_labels(start, &suffixes, i);
                    return Ok(());
                }
            }
        }
        self.put(name)?;
        self.remember_labels(start, &suffixes, suffixes.len);
        Ok(())
    }

    /// Remembers the first `upto` label starts of a name written uncompressed at `start`,
    /// with the hashes of the names they begin.
    fn remember_labels(&mut self, start: usize, suffixes: &Suffixes, upto: usize) {
        for i in 0..upto {
            self.remember(start + suffixes.starts[i] as usize, suffixes.hashes[i]);
        }
    }

    /// Remembers the labels of the uncompressed name written at `at` (the question).
    fn remember_question(&mut self, at: usize) {
        let Some(len) = self
            .buf
            .get(at..)
            .and_then(|b| tandem_zone::name::wire_len(b).ok())
        else {
            return;
        };
        let suffixes = Suffixes::of(&self.buf[at..at + len]);
        self.remember_labels(at, &suffixes, suffixes.len);
    }

    fn remember(&mut self, offset: usize, hash: u16) {
        if self.nptrs < MAX_POINTERS && offset < 0x4000 {
            self.ptrs[self.nptrs] = offset as u16;
            self.hashes[self.nptrs] = hash;
            self.nptrs += 1;
            let (word, bit) = seen_bit(hash);
            self.seen[word] |= bit;
        }
    }

    /// Finds a remembered position whose name equals `suffix` (case-insensitively); `hash` is
    /// the suffix's hash as [`Suffixes`] computes it.
    fn find(&self, suffix: &[u8], hash: u16) -> Option<u16> {
        let (word, bit) = seen_bit(hash);
        if self.seen[word] & bit == 0 {
            return None;
        }
        (0..self.nptrs)
            .find(|&i| {
                self.hashes[i] == hash && name_at_equals(self.buf, self.ptrs[i] as usize, suffix)
            })
            .map(|i| self.ptrs[i])
    }
}

/// The label starts of a valid uncompressed wire name (root excluded) and, for each, a
/// case-insensitive hash of the name from there to the root, computed from the root up so that
/// equal names always hash alike.
struct Suffixes {
    starts: [u8; 128],
    hashes: [u16; 128],
    len: usize,
}

impl Suffixes {
    fn of(name: &[u8]) -> Suffixes {
        let mut s = Suffixes {
            starts: [0; 128],
            hashes: [0; 128],
            len: 0,
        };
        s.len = tandem_zone::name::label_starts(name, &mut s.starts);
        let mut h: u32 = 0x811c_9dc5;
        for i in (0..s.len).rev() {
            let at = s.starts[i] as usize;
            let end = (at + 1 + name[at] as usize).min(name.len());
            for &b in &name[at..end] {
                h = (h ^ b.to_ascii_lowercase() as u32).wrapping_mul(0x0100_0193);
            }
            s.hashes[i] = (h ^ (h >> 16)) as u16;
        }
        s
    }
}

/// Compares the (possibly compressed) name at `pos` in `msg` with an uncompressed name.
fn name_at_equals(msg: &[u8], mut pos: usize, name: &[u8]) -> bool {
    let mut i = 0;
    let mut hops = 0;
    loop {
        let Some(&len) = msg.get(pos) else {
            return false;
        };
        if len & 0xC0 == 0xC0 {
            let Some(&lo) = msg.get(pos + 1) else {
                return false;
            };
            pos = (((len & 0x3F) as usize) << 8) | lo as usize;
            hops += 1;
            if hops > MAX_NAME_LEN {
                return false;
            }
            continue;
        }
        let len = len as usize;
        if name.get(i) != Some(&(len as u8)) {
            return false;
        }
        if len == 0 {
            return true;
        }
        let (Some(a), Some(b)) = (
            msg.get(pos + 1..pos + 1 + len),
            name.get(i + 1..i + 1 + len),
        ) else {
            return false;
        };
        if !a.eq_ignore_ascii_case(b) {
            return false;
        }
        pos += 1 + len;
        i += 1 + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_against_question() {
        let mut q = vec![0u8; 12];
        q.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
        let qend = q.len();
        let mut buf = Vec::with_capacity(512);
        let mut r = Response::start(&mut buf, &q, qend, 0x8400, 512);
        r.write_name(b"\x04mail\x07EXAMPLE\x03com\x00", true)
            .unwrap();
        let n = r.len();
        // "mail" label then a pointer to "example.com" at offset 16.
        assert_eq!(&r.buf[qend..n], b"\x04mail\xC0\x10");
        r.write_name(b"\x04mail\x07example\x03com\x00", true)
            .unwrap();
        assert_eq!(&r.buf[n..], &[0xC0, qend as u8]);
    }

    /// The search as it was before the hashes: every remembered position, in order.
    fn plain_find(r: &Response<'_>, suffix: &[u8]) -> Option<u16> {
        r.ptrs[..r.nptrs]
            .iter()
            .copied()
            .find(|&p| name_at_equals(r.buf, p as usize, suffix))
    }

    #[test]
    fn the_hashed_search_finds_what_a_plain_scan_finds() {
        let mut q = vec![0u8; 12];
        q.extend_from_slice(b"\x07Example\x04TEST\x00\x00\xfc\x00\x01");
        let qend = q.len();
        let mut buf = Vec::with_capacity(65536);
        let mut r = Response::start(&mut buf, &q, qend, 0x8400, 65536);
        let names: Vec<Vec<u8>> = (0..200u32)
            .map(|i| {
                let label = format!("{}{}", ["www", "WWW", "a", "\\000"][i as usize % 4], i % 37);
                let mut w = vec![label.len() as u8];
                w.extend_from_slice(label.as_bytes());
                if i % 3 == 0 {
                    w.extend_from_slice(b"\x03sub");
                }
                w.extend_from_slice(b"\x07exAMPLE\x04test\x00");
                w
            })
            .collect();
        for name in &names {
            // Every suffix of the name is found where a plain scan finds it.
            let suffixes = Suffixes::of(name);
            for i in 0..suffixes.len {
                let suffix = &name[suffixes.starts[i] as usize..];
                assert_eq!(
                    r.find(suffix, suffixes.hashes[i]),
                    plain_find(&r, suffix),
                    "{suffix:?}"
                );
            }
            r.write_name(name, true).unwrap();
        }
        // A name written before ("WWW1.exAMPLE.test"), asked in another case, is one pointer.
        let at = r.len();
        r.write_name(b"\x04www1\x07EXAMPLE\x04TEST\x00", true)
            .unwrap();
        assert_eq!(r.len() - at, 2, "{:?}", &r.buf[at..]);
    }

    #[test]
    fn limit_is_enforced() {
        let q = vec![0u8; 12];
        let mut buf = Vec::with_capacity(64);
        let mut r = Response::start(&mut buf, &q, 12, 0x8000, 20);
        assert_eq!(r.write_name(b"\x0aabcdefghij\x00", false), Err(Full));
    }
}
