//! The requesting side of zone transfers, without sockets: the SOA query of a refresh check
//! (RFC 1034 §4.3.5), AXFR (RFC 5936 §2.2) and IXFR (RFC 1995 §3) requests, and a
//! [`Reader`] that takes the answer one message at a time and checks everything before a
//! single record may be used: message ids, question, response code, TSIG on every message
//! (RFC 8945 §5.3.1), the SOA first and last (RFC 5936 §2.2), owners inside the zone, and
//! size limits. It hands back the whole new zone, the differences of an incremental answer,
//! or "you are current"; never a partial result.

use crate::tsig::{Checked, RequestState, ResponseError};
use domain::base::iana::Class;
use domain::base::message::Message;
use domain::base::name::ParsedName;
use domain::base::rdata::ComposeRecordData;
use domain::rdata::AllRecordData;
use tandem_zone::record::{rtype, soa_serial, CLASS_IN};
use tandem_zone::{serial, Name, Record, ZoneDiff};

/// What to ask a primary for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Axfr,
    Ixfr,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Axfr => "AXFR",
            Kind::Ixfr => "IXFR",
        }
    }

    fn qtype(self) -> u16 {
        match self {
            Kind::Axfr => rtype::AXFR,
            Kind::Ixfr => rtype::IXFR,
        }
    }
}

/// Limits of one incoming transfer (PRODUCT.md §5).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Records in the answer, SOAs included.
    pub max_records: usize,
    /// Octets of memory the records read so far may hold (estimated by [`held_size`]), and
    /// octets of all messages together. The memory is the binding limit: a record costs
    /// several times its compressed wire form once it is held.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_records: 10_000_000,
            max_bytes: 256 << 20,
        }
    }
}

/// What one heap block costs beyond its contents: the allocator's header and rounding.
const ALLOC_OVERHEAD: usize = 16;

/// An estimate of the memory a record takes while the reader holds it: the `Record` itself,
/// twice (a growing `Vec` keeps up to as much spare capacity as it holds), and two heap
/// blocks, the owner name and the RDATA. Counting wire octets instead let an endless
/// transfer of small records hold several times the limit.
pub fn held_size(r: &Record) -> usize {
    2 * std::mem::size_of::<Record>() + r.owner.as_wire().len() + r.rdata.len() + 2 * ALLOC_OVERHEAD
}

/// A complete, checked answer to a transfer request.
#[derive(Debug, PartialEq, Eq)]
pub enum Transferred {
    /// The primary's serial is not newer than ours (RFC 1995 §4: a single SOA).
    UpToDate { serial: u32 },
    /// Every record of the zone, SOA first (AXFR, or an AXFR-style answer to IXFR).
    Full { serial: u32, records: Vec<Record> },
    /// The differences from our serial to the new one, oldest first (RFC 1995 §4).
    Incremental { serial: u32, diffs: Vec<ZoneDiff> },
}

/// Why a transfer answer is refused. Each says what the primary did wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XfrInError {
    #[error("the primary answered {}", rcode_name(*.0))]
    Rcode(u16),
    #[error("malformed message {message}: {detail}")]
    Malformed { message: usize, detail: String },
    #[error("message {message} has id {got}, the request had {expected}")]
    WrongId {
        message: usize,
        expected: u16,
        got: u16,
    },
    #[error("message {message} answers another question: {detail}")]
    WrongQuestion { message: usize, detail: String },
    #[error("the answer is truncated (TC), which a transfer over TCP must not be")]
    Truncated,
    #[error("the SOA answer is not authoritative (AA clear): the peer does not serve the zone")]
    NotAuthoritative,
    #[error("the answer does not start with the zone's SOA")]
    NoSoaFirst,
    #[error("first SOA has serial {first}, last SOA has serial {last}")]
    SoaMismatch { first: u32, last: u32 },
    #[error(
        "an SOA with serial {serial} before the end of the transfer, whose first SOA has \
         serial {first} (the last SOA must repeat the first, RFC 5936 §2.2)"
    )]
    SoaInMiddle { serial: u32, first: u32 },
    #[error("record owner {owner} is outside the zone {apex}")]
    OutOfZone { owner: String, apex: String },
    #[error("an SOA owned by {owner}, which is not the zone's apex")]
    SoaNotAtApex { owner: String },
    #[error("record of {owner} has class {class}, not IN")]
    WrongClass { owner: String, class: u16 },
    #[error("record of type {rtype} at {owner} does not belong in a transfer")]
    BadType { owner: String, rtype: u16 },
    #[error("more than {0} records (the limit of one transfer)")]
    TooManyRecords(usize),
    #[error("more than {0} bytes (the limit of one transfer)")]
    TooManyBytes(usize),
    #[error(
        "the records received would hold more than {0} bytes of memory (the limit of one transfer)"
    )]
    TooMuchMemory(usize),
    #[error("records after the final SOA")]
    TrailingRecords,
    #[error("the transfer ended before its final SOA")]
    Incomplete,
    #[error("the IXFR answer starts from serial {got}, we have {ours}")]
    IxfrWrongStart { got: u32, ours: u32 },
    #[error("the IXFR differences do not chain: one ends at {ends}, the next starts at {starts}")]
    IxfrGap { ends: u32, starts: u32 },
    #[error("a single SOA with newer serial {0}: the primary has no differences for us")]
    IxfrNeedsAxfr(u32),
    #[error("TSIG: {0}")]
    Tsig(ResponseError),
}

impl XfrInError {
    /// True when asking again with AXFR may succeed: the primary refused or botched IXFR
    /// (RFC 1995 §4, and what BIND and Knot do for NOTIMP, FORMERR and REFUSED), including an
    /// IXFR answer whose SOA is not the apex's (CVE-2021-25214).
    pub fn wants_axfr(&self) -> bool {
        matches!(
            self,
            XfrInError::Rcode(1 | 4 | 5)
                | XfrInError::NoSoaFirst
                | XfrInError::SoaNotAtApex { .. }
                | XfrInError::IxfrWrongStart { .. }
                | XfrInError::IxfrGap { .. }
                | XfrInError::IxfrNeedsAxfr(_)
        )
    }
}

fn rcode_name(code: u16) -> String {
    match code {
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        9 => "NOTAUTH".into(),
        c => format!("rcode {c}"),
    }
}

fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut m = Vec::with_capacity(512);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&flags.to_be_bytes());
    for n in counts {
        m.extend_from_slice(&n.to_be_bytes());
    }
    m
}

fn question(m: &mut Vec<u8>, apex: &Name, qtype: u16) {
    m.extend_from_slice(apex.as_wire());
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&CLASS_IN.to_be_bytes());
}

/// `apex SOA IN`, RD clear: the refresh check of RFC 1034 §4.3.5.
pub fn soa_query(id: u16, apex: &Name) -> Vec<u8> {
    let mut m = header(id, 0, [1, 0, 0, 0]);
    question(&mut m, apex, rtype::SOA);
    m
}

/// An AXFR request, or an IXFR request carrying our current SOA in the authority section
/// (RFC 1995 §3).
pub fn transfer_request(id: u16, apex: &Name, kind: Kind, our_soa: Option<&Record>) -> Vec<u8> {
    let soa = our_soa.filter(|_| kind == Kind::Ixfr);
    let mut m = header(id, 0, [1, 0, u16::from(soa.is_some()), 0]);
    question(&mut m, apex, kind.qtype());
    if let Some(soa) = soa {
        m.extend_from_slice(&[0xC0, 12]);
        m.extend_from_slice(&rtype::SOA.to_be_bytes());
        m.extend_from_slice(&CLASS_IN.to_be_bytes());
        m.extend_from_slice(&soa.ttl.to_be_bytes());
        m.extend_from_slice(&(soa.rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(&soa.rdata);
    }
    m
}

/// The serial in an answer to [`soa_query`]: checks id, QR, rcode and question, then reads
/// the apex SOA from the answer section.
pub fn soa_answer_serial(apex: &Name, id: u16, msg: &[u8]) -> Result<u32, XfrInError> {
    let records = check_message(apex, id, rtype::SOA, msg, 1)?;
    // RFC 1034 §4.3.5: only an authoritative answer tells what the primary serves.
    if msg.len() > 2 && msg[2] & 0x04 == 0 {
        return Err(XfrInError::NotAuthoritative);
    }
    records
        .iter()
        .find(|r| r.rtype == rtype::SOA && r.owner == *apex)
        .and_then(|r| soa_serial(&r.rdata))
        .ok_or(XfrInError::NoSoaFirst)
}

/// Checks the header and question of one answer message and returns its answer records,
/// decompressed. Compression pointers are followed only within this message, so a pointer
/// reaching into another message of the transfer fails it (the Knot fix in THREATS.md).
fn check_message(
    apex: &Name,
    id: u16,
    qtype: u16,
    msg: &[u8],
    index: usize,
) -> Result<Vec<Record>, XfrInError> {
    let malformed = |detail: String| XfrInError::Malformed {
        message: index,
        detail,
    };
    let parsed = Message::from_octets(msg).map_err(|e| malformed(e.to_string()))?;
    let head = parsed.header();
    if head.id() != id {
        return Err(XfrInError::WrongId {
            message: index,
            expected: id,
            got: head.id(),
        });
    }
    if !head.qr() {
        return Err(malformed("QR is clear".into()));
    }
    let rcode = u16::from(head.rcode().to_int());
    if rcode != 0 {
        return Err(XfrInError::Rcode(rcode));
    }
    if head.tc() {
        return Err(XfrInError::Truncated);
    }
    let counts = parsed.header_counts();
    // RFC 5936 §2.2.1: the first message repeats the question; later ones may.
    if counts.qdcount() > 1 || (index == 1 && counts.qdcount() == 0) {
        return Err(XfrInError::WrongQuestion {
            message: index,
            detail: format!("{} questions", counts.qdcount()),
        });
    }
    for q in parsed.question() {
        let q = q.map_err(|e| malformed(e.to_string()))?;
        let qname = Name::from_domain(q.qname());
        if qname != *apex || q.qtype().to_int() != qtype || q.qclass() != Class::IN {
            return Err(XfrInError::WrongQuestion {
                message: index,
                detail: format!("{} {} {}", qname.to_fqdn(), q.qtype(), q.qclass()),
            });
        }
    }
    let section = parsed.answer().map_err(|e| malformed(e.to_string()))?;
    let mut out = Vec::with_capacity(counts.ancount() as usize);
    // RDATA is composed here and copied out at its exact size: a `Bytes` made from a `Vec`
    // with spare capacity would keep the spare octets and one more allocation per record.
    let mut rdata = Vec::with_capacity(512);
    for rr in section {
        let rr = rr.map_err(|e| malformed(e.to_string()))?;
        let owner = Name::from_domain(&rr.owner());
        if rr.class() != Class::IN {
            return Err(XfrInError::WrongClass {
                owner: owner.to_fqdn(),
                class: rr.class().to_int(),
            });
        }
        let t = rr.rtype().to_int();
        let record = rr
            .to_record::<AllRecordData<&[u8], ParsedName<&[u8]>>>()
            .map_err(|e| malformed(format!("record of {}: {e}", owner.to_fqdn())))?
            .ok_or_else(|| malformed(format!("record of {}", owner.to_fqdn())))?;
        rdata.clear();
        record
            .data()
            .compose_rdata(&mut rdata)
            .map_err(|_| malformed(format!("record of {}", owner.to_fqdn())))?;
        // `to_vec` allocates exactly `len`, so the `Bytes` made from it takes the block as is.
        out.push(Record::new(owner, t, rr.ttl().as_secs(), rdata.to_vec()));
    }
    Ok(out)
}

/// Where the reader is in the answer (RFC 1995 §4, RFC 5936 §2.2).
enum State {
    /// Waiting for the first SOA.
    Start,
    /// Seen the first SOA only; the next record decides the answer's shape.
    FirstSoa,
    /// An AXFR or AXFR-style answer: records until the SOA again.
    Full,
    /// Inside an IXFR difference: deleting until its new SOA, then adding.
    Deleting,
    Adding,
    Done,
}

/// Reads one transfer answer, message by message. See the module documentation.
pub struct Reader {
    apex: Name,
    kind: Kind,
    id: u16,
    ours: Option<u32>,
    limits: Limits,
    tsig: Option<RequestState>,
    state: State,
    first: Option<Record>,
    records: Vec<Record>,
    diffs: Vec<ZoneDiff>,
    messages: usize,
    bytes: usize,
    /// Estimated memory of the records held (see [`held_size`]).
    held: usize,
    count: usize,
}

impl Reader {
    /// `ours`: the serial we have (the one an IXFR request carried); `tsig`: the state of a
    /// signed request, so that every message of the answer is verified.
    pub fn new(
        apex: Name,
        kind: Kind,
        id: u16,
        ours: Option<u32>,
        limits: Limits,
        tsig: Option<RequestState>,
    ) -> Reader {
        Reader {
            apex,
            kind,
            id,
            ours,
            limits,
            tsig,
            state: State::Start,
            first: None,
            records: Vec::new(),
            diffs: Vec::new(),
            messages: 0,
            bytes: 0,
            held: 0,
            count: 0,
        }
    }

    /// Takes the next message (without its TCP length prefix) at Unix time `now`. Returns
    /// true when the answer is complete; then call [`Reader::finish`].
    pub fn feed(&mut self, msg: &[u8], now: u64) -> Result<bool, XfrInError> {
        self.messages += 1;
        self.bytes += msg.len();
        if self.bytes > self.limits.max_bytes {
            return Err(XfrInError::TooManyBytes(self.limits.max_bytes));
        }
        if matches!(self.state, State::Done) {
            return Err(XfrInError::TrailingRecords);
        }
        // TSIG first: nothing of an unverified message is looked at (RFC 8945 §5.3).
        // A TSIG error the primary signed or not is reported as such.
        let body = match self.tsig.as_mut() {
            Some(state) => verify_answer(state, msg, now)?,
            None => msg.to_vec(),
        };
        let records = check_message(&self.apex, self.id, self.kind.qtype(), &body, self.messages)?;
        for r in records {
            self.take(r)?;
        }
        if matches!(self.state, State::FirstSoa) && self.kind == Kind::Ixfr {
            // A message holding the SOA alone answers IXFR by itself (RFC 1995 §4).
            self.state = State::Done;
        }
        Ok(matches!(self.state, State::Done))
    }

    fn take(&mut self, r: Record) -> Result<(), XfrInError> {
        self.count += 1;
        if self.count > self.limits.max_records {
            return Err(XfrInError::TooManyRecords(self.limits.max_records));
        }
        // Counted before the record is kept; on failure the caller drops the reader and every
        // record goes with it.
        self.held += held_size(&r);
        if self.held > self.limits.max_bytes {
            return Err(XfrInError::TooMuchMemory(self.limits.max_bytes));
        }
        if !r.owner.ends_with(&self.apex) {
            return Err(XfrInError::OutOfZone {
                owner: r.owner.to_fqdn(),
                apex: self.apex.to_fqdn(),
            });
        }
        if matches!(
            r.rtype,
            rtype::OPT | rtype::TSIG | rtype::TKEY | rtype::AXFR | rtype::IXFR | 255
        ) {
            return Err(XfrInError::BadType {
                owner: r.owner.to_fqdn(),
                rtype: r.rtype,
            });
        }
        if r.rtype == rtype::SOA && r.owner != self.apex {
            // CVE-2021-25214: an SOA anywhere but the apex is never zone data.
            return Err(XfrInError::SoaNotAtApex {
                owner: r.owner.to_fqdn(),
            });
        }
        let apex_soa = r.rtype == rtype::SOA;
        let serial = if apex_soa { soa_serial(&r.rdata) } else { None };
        let first_serial = self
            .first
            .as_ref()
            .and_then(|f| soa_serial(&f.rdata))
            .unwrap_or(0);
        match self.state {
            State::Start => {
                if serial.is_none() {
                    return Err(XfrInError::NoSoaFirst);
                }
                self.first = Some(r);
                self.state = State::FirstSoa;
            }
            State::FirstSoa => match serial {
                // RFC 1995 §4: a second SOA starts the differences; it must be ours.
                Some(s) if self.kind == Kind::Ixfr && s != first_serial => {
                    let ours = self.ours.unwrap_or(0);
                    if s != ours {
                        return Err(XfrInError::IxfrWrongStart { got: s, ours });
                    }
                    self.diffs.push(ZoneDiff {
                        removed: vec![r],
                        added: Vec::new(),
                    });
                    self.state = State::Deleting;
                }
                // The SOA again at once: an empty zone, or an answer that differs.
                Some(s) => self.end_full(s, first_serial)?,
                None => {
                    self.records
                        .push(self.first.clone().ok_or(XfrInError::NoSoaFirst)?);
                    self.records.push(r);
                    self.state = State::Full;
                }
            },
            State::Full => match serial {
                Some(s) => self.end_full(s, first_serial)?,
                None => self.records.push(r),
            },
            State::Deleting => {
                let diff = self.diffs.last_mut().ok_or(XfrInError::NoSoaFirst)?;
                match serial {
                    Some(_) => {
                        diff.added.push(r);
                        self.state = State::Adding;
                    }
                    None => diff.removed.push(r),
                }
            }
            State::Adding => {
                let diff = self.diffs.last_mut().ok_or(XfrInError::NoSoaFirst)?;
                let ends = diff.to_serial().unwrap_or(0);
                match serial {
                    Some(s) if s == first_serial && ends == first_serial => {
                        self.state = State::Done;
                    }
                    Some(s) if s != ends => {
                        return Err(XfrInError::IxfrGap { ends, starts: s });
                    }
                    Some(_) => {
                        self.diffs.push(ZoneDiff {
                            removed: vec![r],
                            added: Vec::new(),
                        });
                        self.state = State::Deleting;
                    }
                    None => diff.added.push(r),
                }
            }
            State::Done => return Err(XfrInError::TrailingRecords),
        }
        Ok(())
    }

    /// An apex SOA inside a full answer: the end when it is the first one again
    /// (RFC 5936 §2.2), else a broken transfer.
    fn end_full(&mut self, serial: u32, first: u32) -> Result<(), XfrInError> {
        if serial != first {
            return Err(if matches!(self.state, State::FirstSoa) {
                XfrInError::SoaMismatch {
                    first,
                    last: serial,
                }
            } else {
                XfrInError::SoaInMiddle { serial, first }
            });
        }
        if matches!(self.state, State::FirstSoa) {
            self.records
                .push(self.first.clone().ok_or(XfrInError::NoSoaFirst)?);
        }
        self.state = State::Done;
        Ok(())
    }

    /// The checked answer, once [`Reader::feed`] said it is complete.
    pub fn finish(self) -> Result<Transferred, XfrInError> {
        if !matches!(self.state, State::Done) {
            return Err(XfrInError::Incomplete);
        }
        if let Some(state) = &self.tsig {
            state.finish().map_err(XfrInError::Tsig)?;
        }
        let first = self.first.ok_or(XfrInError::NoSoaFirst)?;
        let serial = soa_serial(&first.rdata).ok_or(XfrInError::NoSoaFirst)?;
        if !self.diffs.is_empty() {
            return Ok(Transferred::Incremental {
                serial,
                diffs: self.diffs,
            });
        }
        if !self.records.is_empty() {
            return Ok(Transferred::Full {
                serial,
                records: self.records,
            });
        }
        // A lone SOA (RFC 1995 §4): current when not newer than ours.
        match self.ours {
            Some(ours) if !serial::is_newer(serial, ours) => Ok(Transferred::UpToDate { serial }),
            _ => Err(XfrInError::IxfrNeedsAxfr(serial)),
        }
    }

    /// Messages and octets read so far.
    pub fn received(&self) -> (usize, usize) {
        (self.messages, self.bytes)
    }
}

/// Verifies the TSIG of the next message of an answer to a signed request (RFC 8945 §5.3)
/// and returns the message without its TSIG RR; an unsigned message inside a transfer comes
/// back whole (the next signed one covers it). An unsigned error answer is reported by its
/// response code, since the server did not process the request.
pub fn verify_answer(
    state: &mut RequestState,
    msg: &[u8],
    now: u64,
) -> Result<Vec<u8>, XfrInError> {
    match state.verify_response(msg, now) {
        Ok(Checked::Signed { tsig_start }) => Ok(strip_tsig(msg, tsig_start)),
        Ok(Checked::Unsigned) => Ok(msg.to_vec()),
        Err(ResponseError::Unsigned { rcode }) if rcode != 0 => Err(XfrInError::Rcode(rcode)),
        Err(e) => Err(XfrInError::Tsig(e)),
    }
}

/// The message without its TSIG RR, with ARCOUNT lowered to match.
fn strip_tsig(msg: &[u8], tsig_start: usize) -> Vec<u8> {
    let mut body = msg[..tsig_start].to_vec();
    let arcount = u16::from_be_bytes([body[10], body[11]]).saturating_sub(1);
    body[10..12].copy_from_slice(&arcount.to_be_bytes());
    body
}

#[cfg(test)]
mod tests;
