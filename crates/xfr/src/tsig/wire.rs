//! The TSIG RR in a message: finding it where RFC 8945 §5.1 allows it (the last record of the
//! additional section, only one), reading its fields (§4.2), the digest of §4.3 and appending
//! a signed TSIG RR. Everything here reads untrusted input: bounds are checked, compression
//! pointers must point backwards (so they cannot loop), nothing panics.

use super::TsigKey;
use ring::hmac;
use tandem_zone::name::MAX_NAME_LEN;
use tandem_zone::record::rtype;

/// Length of the DNS header (RFC 1035 §4.1.1).
const HEADER_LEN: usize = 12;
/// CLASS of a TSIG RR (RFC 8945 §4.2: ANY).
const CLASS_ANY: u16 = 255;
/// The largest DNS message (RFC 1035 §4.2.2: the TCP length prefix is 16 bits).
const MAX_MESSAGE: usize = 65535;

/// Why a message could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("a message shorter than a DNS header cannot be signed")]
    ShortMessage,
    #[error("with its TSIG RR the message would be {len} octets, more than 65535")]
    TooLong { len: usize },
    #[error("the additional section is full (ARCOUNT 65535)")]
    ArcountFull,
    #[error("the first message of an answer must be signed (RFC 8945 §5.3.1)")]
    FirstUnsigned,
}

/// Why a message's TSIG RR is unacceptable before any key is involved (RFC 8945 §5.2: the
/// answer is FORMERR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FormErr {
    #[error("the message is malformed")]
    Malformed,
    #[error("a TSIG RR outside the additional section")]
    WrongSection,
    #[error("more than one TSIG RR")]
    Duplicate,
    #[error("the TSIG RR is not the last record")]
    NotLast,
    #[error("data after the TSIG RR")]
    TrailingData,
    #[error("the TSIG RR cannot be interpreted")]
    BadRecord,
    #[error("a MAC of {len} octets is outside {min}..={max} (RFC 8945 §5.2.2.1)")]
    MacSize { len: usize, min: usize, max: usize },
}

pub(crate) fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn u48_at(b: &[u8], i: usize) -> Option<u64> {
    let s = b.get(i..i + 6)?;
    Some(s.iter().fold(0u64, |acc, &o| (acc << 8) | o as u64))
}

/// A time as the 48-bit Time Signed / Other Data field (RFC 8945 §4.2).
pub(crate) fn time48(t: u64) -> [u8; 6] {
    let b = t.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// Reads a possibly compressed name at `pos` into lowercase uncompressed wire form. Returns
/// the name and the offset after it in the message, or `None` when it is malformed.
pub(crate) fn read_name(msg: &[u8], mut pos: usize) -> Option<(Vec<u8>, usize)> {
    let mut name = Vec::with_capacity(32);
    let mut end = None;
    loop {
        let len = *msg.get(pos)?;
        match len & 0xC0 {
            0x00 => {
                let label = msg.get(pos..pos + 1 + len as usize)?;
                if name.len() + label.len() > MAX_NAME_LEN {
                    return None;
                }
                name.extend(label.iter().map(u8::to_ascii_lowercase));
                pos += 1 + len as usize;
                if len == 0 {
                    return Some((name, end.unwrap_or(pos)));
                }
            }
            0xC0 => {
                // RFC 1035 §4.1.4; strictly backwards, so at most one hop per earlier octet.
                let target = (u16_at(msg, pos)? & 0x3FFF) as usize;
                if target >= pos {
                    return None;
                }
                end.get_or_insert(pos + 2);
                pos = target;
            }
            _ => return None,
        }
    }
}

/// The fields of a received TSIG RR (RFC 8945 §4.2), names lowercased and uncompressed.
#[derive(Clone, Debug)]
pub(crate) struct TsigRr {
    /// Offset of the RR's owner name: the message before it is what was signed.
    pub start: usize,
    pub key_name: Vec<u8>,
    pub algorithm: Vec<u8>,
    pub time_signed: u64,
    pub fudge: u16,
    pub mac: Vec<u8>,
    pub original_id: u16,
    pub error: u16,
    pub other: Vec<u8>,
}

impl TsigRr {
    pub fn variables(&self) -> Variables<'_> {
        Variables {
            time_signed: self.time_signed,
            fudge: self.fudge,
            error: self.error,
            other: &self.other,
        }
    }
}

/// What a message holds in the way of TSIG.
pub(crate) struct Found {
    /// Offset after the question when the message has exactly one, else 0.
    pub question_end: usize,
    pub tsig: Result<Option<TsigRr>, FormErr>,
}

/// Walks every record of `msg` to find its TSIG RR and check its position (RFC 8945 §5.1,
/// §5.2: exactly one, the last record of the additional section, nothing after it).
pub(crate) fn find_tsig(msg: &[u8]) -> Found {
    let count = |i| u16_at(msg, i).unwrap_or(0) as usize;
    let (qd, an, ns, ar) = (count(4), count(6), count(8), count(10));
    let mut found = Found {
        question_end: 0,
        tsig: Err(FormErr::Malformed),
    };
    if msg.len() < HEADER_LEN {
        return found;
    }
    let mut pos = HEADER_LEN;
    for _ in 0..qd {
        let Some((_, end)) = read_name(msg, pos) else {
            return found;
        };
        if end + 4 > msg.len() {
            return found;
        }
        pos = end + 4;
    }
    if qd == 1 {
        found.question_end = pos;
    }
    let mut tsig_at = None;
    let mut tsigs = 0;
    let total = an + ns + ar;
    for i in 0..total {
        let Some((_, after_name)) = read_name(msg, pos) else {
            return found;
        };
        let (Some(t), Some(rdlen)) = (u16_at(msg, after_name), u16_at(msg, after_name + 8)) else {
            return found;
        };
        let end = after_name + 10 + rdlen as usize;
        if end > msg.len() {
            return found;
        }
        if t == rtype::TSIG {
            tsigs += 1;
            if i < an + ns {
                found.tsig = Err(FormErr::WrongSection);
                return found;
            }
            tsig_at = Some((pos, i));
        }
        pos = end;
    }
    found.tsig = match tsig_at {
        None => Ok(None),
        Some(_) if tsigs > 1 => Err(FormErr::Duplicate),
        Some((_, i)) if i + 1 != total => Err(FormErr::NotLast),
        Some(_) if pos != msg.len() => Err(FormErr::TrailingData),
        Some((start, _)) => parse_tsig(msg, start).map(Some),
    };
    found
}

/// Reads the TSIG RR at `start`, which the walk found to end exactly at the message's end.
fn parse_tsig(msg: &[u8], start: usize) -> Result<TsigRr, FormErr> {
    let bad = FormErr::BadRecord;
    let (key_name, at) = read_name(msg, start).ok_or(bad)?;
    let class = u16_at(msg, at + 2).ok_or(bad)?;
    let ttl = u32_at(msg, at + 4).ok_or(bad)?;
    // RFC 8945 §4.2: CLASS MUST be ANY and TTL MUST be 0.
    if class != CLASS_ANY || ttl != 0 {
        return Err(bad);
    }
    let rdata = at + 10;
    let (algorithm, p) = read_name(msg, rdata).ok_or(bad)?;
    let time_signed = u48_at(msg, p).ok_or(bad)?;
    let fudge = u16_at(msg, p + 6).ok_or(bad)?;
    let mac_len = u16_at(msg, p + 8).ok_or(bad)? as usize;
    let mac = msg.get(p + 10..p + 10 + mac_len).ok_or(bad)?.to_vec();
    let p = p + 10 + mac_len;
    let original_id = u16_at(msg, p).ok_or(bad)?;
    let error = u16_at(msg, p + 2).ok_or(bad)?;
    let other_len = u16_at(msg, p + 4).ok_or(bad)? as usize;
    let other = msg.get(p + 6..p + 6 + other_len).ok_or(bad)?.to_vec();
    // The fields must fill RDLENGTH exactly; the walk checked RDLENGTH ends the message.
    if p + 6 + other_len != msg.len() {
        return Err(bad);
    }
    Ok(TsigRr {
        start,
        key_name,
        algorithm,
        time_signed,
        fudge,
        mac,
        original_id,
        error,
        other,
    })
}

/// The TSIG variables of a message (RFC 8945 §4.3.3) less the key and algorithm names.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Variables<'a> {
    pub time_signed: u64,
    pub fudge: u16,
    pub error: u16,
    pub other: &'a [u8],
}

impl Variables<'_> {
    pub fn now(now: u64) -> Self {
        Variables {
            time_signed: now,
            fudge: super::DEFAULT_FUDGE,
            error: 0,
            other: &[],
        }
    }

    /// RFC 8945 §5.2.3: is `now` within Time Signed ± Fudge?
    pub fn fresh_at(&self, now: u64) -> bool {
        now.abs_diff(self.time_signed) <= u64::from(self.fudge)
    }
}

/// Digests a MAC that goes before a message: the request MAC of §4.3.1, the prior MAC of
/// §5.3.1. Both are digested with their MAC Size.
pub(crate) fn digest_mac(ctx: &mut hmac::Context, mac: &[u8]) {
    ctx.update(&(mac.len() as u16).to_be_bytes());
    ctx.update(mac);
}

/// Digests the message of RFC 8945 §4.3.2: everything before the TSIG RR, with the Original
/// ID in place of the ID and ARCOUNT not counting the TSIG RR.
pub(crate) fn digest_signed_message(ctx: &mut hmac::Context, msg: &[u8], rr: &TsigRr) {
    let arcount = u16_at(msg, 10).unwrap_or(1).saturating_sub(1);
    ctx.update(&rr.original_id.to_be_bytes());
    ctx.update(&msg[2..10]);
    ctx.update(&arcount.to_be_bytes());
    ctx.update(&msg[HEADER_LEN..rr.start]);
}

/// Digests the TSIG variables of RFC 8945 §4.3.3, names in canonical wire form.
pub(crate) fn digest_variables(
    ctx: &mut hmac::Context,
    key_name: &[u8],
    algorithm: &[u8],
    v: &Variables<'_>,
) {
    ctx.update(key_name);
    ctx.update(&CLASS_ANY.to_be_bytes());
    ctx.update(&0u32.to_be_bytes());
    ctx.update(algorithm);
    digest_timers(ctx, v);
    ctx.update(&v.error.to_be_bytes());
    ctx.update(&(v.other.len() as u16).to_be_bytes());
    ctx.update(v.other);
}

/// Digests the TSIG timers of RFC 8945 §4.3.3 (for the later messages of §5.3.1).
pub(crate) fn digest_timers(ctx: &mut hmac::Context, v: &Variables<'_>) {
    ctx.update(&time48(v.time_signed));
    ctx.update(&v.fudge.to_be_bytes());
}

/// Compares a received (possibly truncated) MAC with the computed one in constant time.
pub(crate) fn mac_matches(computed: &[u8], received: &[u8]) -> bool {
    if received.is_empty() || received.len() > computed.len() {
        return false;
    }
    computed
        .iter()
        .zip(received)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// Appends a TSIG RR (RFC 8945 §4.2) to a finished message and counts it in ARCOUNT. The
/// Original ID is the message's ID. Leaves `msg` unchanged on error.
pub(crate) fn append_tsig(
    msg: &mut Vec<u8>,
    key_name: &[u8],
    algorithm: &[u8],
    v: &Variables<'_>,
    mac: &[u8],
) -> Result<(), SignError> {
    if msg.len() < HEADER_LEN {
        return Err(SignError::ShortMessage);
    }
    let rdlen = algorithm.len() + 6 + 2 + 2 + mac.len() + 2 + 2 + 2 + v.other.len();
    let len = msg.len() + key_name.len() + 10 + rdlen;
    if len > MAX_MESSAGE {
        return Err(SignError::TooLong { len });
    }
    let arcount = u16_at(msg, 10)
        .and_then(|c| c.checked_add(1))
        .ok_or(SignError::ArcountFull)?;
    let id = [msg[0], msg[1]];
    msg.extend_from_slice(key_name);
    msg.extend_from_slice(&rtype::TSIG.to_be_bytes());
    msg.extend_from_slice(&CLASS_ANY.to_be_bytes());
    msg.extend_from_slice(&0u32.to_be_bytes());
    msg.extend_from_slice(&(rdlen as u16).to_be_bytes());
    msg.extend_from_slice(algorithm);
    msg.extend_from_slice(&time48(v.time_signed));
    msg.extend_from_slice(&v.fudge.to_be_bytes());
    msg.extend_from_slice(&(mac.len() as u16).to_be_bytes());
    msg.extend_from_slice(mac);
    msg.extend_from_slice(&id);
    msg.extend_from_slice(&v.error.to_be_bytes());
    msg.extend_from_slice(&(v.other.len() as u16).to_be_bytes());
    msg.extend_from_slice(v.other);
    msg[10..12].copy_from_slice(&arcount.to_be_bytes());
    Ok(())
}

/// Signs a finished message whose digest begins with `ctx` (fresh, or holding a request or
/// prior MAC) and appends the TSIG RR. `full` digests all TSIG variables, otherwise only the
/// timers (§5.3.1). Returns the MAC.
pub(crate) fn sign_message(
    mut ctx: hmac::Context,
    key: &TsigKey,
    msg: &mut Vec<u8>,
    v: &Variables<'_>,
    full: bool,
) -> Result<hmac::Tag, SignError> {
    ctx.update(msg);
    if full {
        digest_variables(&mut ctx, key.name().as_wire(), key.algorithm().wire(), v);
    } else {
        digest_timers(&mut ctx, v);
    }
    let mac = ctx.sign();
    append_tsig(
        msg,
        key.name().as_wire(),
        key.algorithm().wire(),
        v,
        mac.as_ref(),
    )?;
    Ok(mac)
}
