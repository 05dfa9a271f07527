//! AXFR (RFC 5936 §2.2) and IXFR (RFC 1995 §4) answers as a stream of messages.
//!
//! Messages are written one at a time into a reused buffer and handed to the caller, so a
//! transfer of any size needs memory for one message, not for the zone.

use crate::render::{Owner, Response, Section, HEADER_LEN};
use tandem_zone::record::{rtype, CLASS_IN};
use tandem_zone::{Record, ZoneDiff, ZoneVersion};

/// Largest DNS message over TCP: the two-octet length prefix (RFC 1035 §4.2.2).
pub const MAX_TCP_MESSAGE: usize = 65535;

/// Settings of an outgoing transfer.
#[derive(Clone, Copy, Debug)]
pub struct XfrConfig {
    /// Largest message, in octets (RFC 5936 §2.2: about 16 KiB by default, up to 64 KiB).
    pub max_message: usize,
    /// Largest message that carries one record too big for `max_message` on its own, as BIND
    /// and Knot grow that one message: the TCP limit, less what TSIG needs.
    pub max_single: usize,
}

impl XfrConfig {
    /// Messages of at most `max_message` octets; a larger record travels alone in a message
    /// of up to 65535.
    pub fn new(max_message: usize) -> Self {
        XfrConfig {
            max_message,
            max_single: MAX_TCP_MESSAGE.max(max_message),
        }
    }
}

impl Default for XfrConfig {
    fn default() -> Self {
        XfrConfig::new(16 * 1024)
    }
}

/// Why a transfer stream stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XfrError {
    #[error("a record of {len} octets does not fit in a message of at most {max}")]
    RecordTooLarge { len: usize, max: usize },
    #[error("the receiver stopped the transfer")]
    Stopped,
}

/// Header flags of every transfer message: QR and AA, the query's opcode and RD echoed.
fn flags_for(query: &[u8]) -> u16 {
    let q = u16::from_be_bytes([query[2], query[3]]);
    0x8000 | 0x0400 | (q & (0x7800 | 0x0100))
}

/// Writes messages for a sequence of RR bodies (owner, body), starting a new message whenever
/// the current one is full. The first message echoes the question (RFC 5936 §2.2.1).
struct Stream<'q, F: FnMut(&[u8]) -> bool> {
    query: &'q [u8],
    question_end: usize,
    cfg: XfrConfig,
    buf: Vec<u8>,
    messages: usize,
    emit: F,
}

impl<'q, F: FnMut(&[u8]) -> bool> Stream<'q, F> {
    fn new(query: &'q [u8], question_end: usize, cfg: XfrConfig, emit: F) -> Self {
        Stream {
            query,
            question_end,
            cfg,
            buf: Vec::with_capacity(cfg.max_message),
            messages: 0,
            emit,
        }
    }

    fn response(&mut self) -> Response<'_> {
        let qend = if self.messages == 0 {
            self.question_end
        } else {
            HEADER_LEN
        };
        Response::start(
            &mut self.buf,
            self.query,
            qend,
            flags_for(self.query),
            self.cfg.max_message,
        )
    }

    /// Writes every RR in `items`, flushing full messages. RRs go one at a time, so an RRset
    /// too large for one message is split across several (RFC 5936 §2.2 allows it). A record
    /// that does not fit in an empty message of `max_message` octets travels alone in one of
    /// up to `max_single`, as BIND and Knot do.
    fn write_all<'a>(
        &mut self,
        items: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Result<(), XfrError> {
        let mut items = items.peekable();
        while items.peek().is_some() {
            let cfg = self.cfg;
            let mut r = self.response();
            let mut wrote = 0;
            while let Some(&(owner, body)) = items.peek() {
                let m = r.mark();
                if r.push_rrs(Section::Answer, Owner::Name(owner), body, None)
                    .is_ok()
                {
                    wrote += 1;
                    items.next();
                    continue;
                }
                r.rollback(m);
                if wrote > 0 {
                    break;
                }
                // Alone and still too big: this message grows for it, and ends with it.
                r.set_limit(cfg.max_single);
                if r.push_rrs(Section::Answer, Owner::Name(owner), body, None)
                    .is_err()
                {
                    return Err(XfrError::RecordTooLarge {
                        len: owner.len() + body.len(),
                        max: cfg.max_single,
                    });
                }
                items.next();
                break;
            }
            r.finish();
            self.messages += 1;
            if !(self.emit)(&self.buf) {
                return Err(XfrError::Stopped);
            }
        }
        Ok(())
    }
}

/// Streams the AXFR answer for `version` (RFC 5936 §2.2): the SOA, every other RR, the SOA
/// again. `query` is the request (its ID, opcode and question are echoed) and `question_end`
/// the offset after its question. `emit` gets each message and returns false to stop.
/// Returns the number of messages.
pub fn axfr(
    version: &ZoneVersion,
    query: &[u8],
    question_end: usize,
    cfg: XfrConfig,
    emit: impl FnMut(&[u8]) -> bool,
) -> Result<usize, XfrError> {
    let apex = version.apex();
    let soa = version
        .apex_node()
        .rrset(rtype::SOA)
        .expect("a version has an SOA");
    let soa_body = soa.entries().next().expect("one SOA");
    let body = version.nodes().flat_map(|(owner, node)| {
        node.rrsets()
            .filter(move |s| !(s.rtype() == rtype::SOA && owner == apex.as_wire()))
            .flat_map(move |s| s.entries().map(move |e| (owner, e)))
    });
    let items = std::iter::once((apex.as_wire(), soa_body))
        .chain(body)
        .chain(std::iter::once((apex.as_wire(), soa_body)));
    let mut stream = Stream::new(query, question_end, cfg, emit);
    stream.write_all(items)?;
    Ok(stream.messages)
}

/// Streams an incremental answer (RFC 1995 §4) from `diff` (condensed, SOA first on each side)
/// to `current`: current SOA, the old SOA and the deleted RRs, the new SOA and the added RRs,
/// current SOA. When `diff` is `None` the answer is the current SOA alone (RFC 1995 §2: the
/// client is up to date).
pub fn ixfr(
    current: &ZoneVersion,
    diff: Option<&ZoneDiff>,
    query: &[u8],
    question_end: usize,
    cfg: XfrConfig,
    emit: impl FnMut(&[u8]) -> bool,
) -> Result<usize, XfrError> {
    let soa = current.soa_record();
    let mut records: Vec<&Record> = vec![&soa];
    if let Some(d) = diff {
        records.extend(d.removed.iter());
        records.extend(d.added.iter());
        records.push(&soa);
    }
    let bodies: Vec<(Vec<u8>, Vec<u8>)> = records
        .iter()
        .map(|r| (r.owner.as_wire().to_vec(), rr_body(r)))
        .collect();
    let mut stream = Stream::new(query, question_end, cfg, emit);
    stream.write_all(bodies.iter().map(|(o, b)| (&o[..], &b[..])))?;
    Ok(stream.messages)
}

/// TYPE, CLASS, TTL, RDLENGTH, RDATA of a record: what [`Response::push_rrs`] takes.
pub fn rr_body(r: &Record) -> Vec<u8> {
    let mut b = Vec::with_capacity(10 + r.rdata.len());
    b.extend_from_slice(&r.rtype.to_be_bytes());
    b.extend_from_slice(&CLASS_IN.to_be_bytes());
    b.extend_from_slice(&r.ttl.to_be_bytes());
    b.extend_from_slice(&(r.rdata.len() as u16).to_be_bytes());
    b.extend_from_slice(&r.rdata);
    b
}
