//! RDATA checked against its type wherever a record enters a zone: API content, the generic
//! `\# LEN HEX` form (RFC 3597 §5), zone-file import and incoming transfers.
//!
//! A record of a known type must be exactly what its RFC defines on the wire: every field
//! present, nothing after the last one, embedded names uncompressed (RFC 3597 §4: compression
//! is only for the well-known types, and never in stored RDATA), no label longer than 63 octets
//! and no name longer than 255 (RFC 1035 §3.1). "Valid" is what `dig` and `kdig` accept as
//! the type; a record they would call "malformed" would break every AXFR of its zone at BIND.
//! Types this checker does not know stay byte-exact (RFC 3597 §4).

use domain::base::iana::Rtype;
use domain::base::rdata::ComposeRecordData;
use domain::base::{ParseRecordData, ParsedName};
use domain::rdata::ZoneRecordData;
use octseq::Parser;

/// Why RDATA is not valid for its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RdataError {
    /// A field is missing, too short or out of its range.
    #[error("{rtype} RDATA is malformed: {detail}")]
    Malformed { rtype: String, detail: String },
    /// Octets follow the last field of the type.
    #[error("{rtype} RDATA has {extra} octet(s) after its last field")]
    Trailing { rtype: String, extra: usize },
    /// An embedded name is compressed or otherwise not in its plain wire form.
    #[error("{rtype} RDATA holds a compressed or non-canonical name (RFC 3597 §4)")]
    Compressed { rtype: String },
    /// More than 65535 octets (RFC 1035 §3.2.1: RDLENGTH is 16 bits).
    #[error("RDATA of {len} octets is longer than 65535")]
    TooLong { len: usize },
}

/// Types `domain` does not parse but whose layout `dig` and `kdig` check: fixed sizes and a
/// leading 16-bit preference followed by names. (RFC 1183 §1 AFSDB, §3.3 RT; RFC 2230 KX;
/// RFC 2163 PX; RFC 1876 LOC; RFC 7043 EUI48/EUI64; RFC 6742 NID/L32/L64/LP; RFC 7553 URI;
/// RFC 4398 CERT; RFC 8162 SMIMEA; RFC 7477 CSYNC.)
mod extra {
    pub use crate::record::rtype::{CERT, LOC, SMIMEA};
    pub const AFSDB: u16 = 18;
    pub const RT: u16 = 21;
    pub const PX: u16 = 26;
    pub const KX: u16 = 36;
    pub const CSYNC: u16 = 62;
    pub const SPF: u16 = 99;
    pub const NID: u16 = 104;
    pub const L32: u16 = 105;
    pub const L64: u16 = 106;
    pub const LP: u16 = 107;
    pub const EUI48: u16 = 108;
    pub const EUI64: u16 = 109;
    pub const URI: u16 = 256;
}

/// Checks `rdata` against the rules of `rtype`. Costs one parse of the RDATA and, for types
/// with embedded names, one re-encoding of it; nothing is kept.
pub fn check(rtype: u16, rdata: &[u8]) -> Result<(), RdataError> {
    if rdata.len() > 65535 {
        return Err(RdataError::TooLong { len: rdata.len() });
    }
    let name = || crate::record::rtype_name(rtype);
    let malformed = |detail: String| RdataError::Malformed {
        rtype: name(),
        detail,
    };
    let mut parser = Parser::from_ref(rdata);
    let parsed = ZoneRecordData::<&[u8], ParsedName<&[u8]>>::parse_rdata(
        Rtype::from_int(rtype),
        &mut parser,
    )
    .map_err(|e| malformed(e.to_string()))?;
    let Some(parsed) = parsed else {
        return Ok(());
    };
    if let ZoneRecordData::Unknown(_) = parsed {
        return check_extra(rtype, rdata).map_err(malformed);
    }
    if parser.remaining() != 0 {
        return Err(RdataError::Trailing {
            rtype: name(),
            extra: parser.remaining(),
        });
    }
    if rtype == Rtype::TXT.to_int() && rdata.is_empty() {
        // RFC 1035 §3.3.14: one or more character-strings.
        return Err(malformed("no character-string".into()));
    }
    // The parser follows compression pointers inside the RDATA; writing the parsed data back
    // out writes every name in full, so any difference means the input was compressed (or
    // encoded some other way than the one form the RFCs allow).
    let mut again = Vec::with_capacity(rdata.len());
    parsed
        .compose_rdata(&mut again)
        .map_err(|_| malformed("cannot be encoded".into()))?;
    if again != rdata {
        return Err(RdataError::Compressed { rtype: name() });
    }
    Ok(())
}

/// The layout rules of the types in [`extra`]; other unknown types are opaque.
fn check_extra(rtype: u16, rdata: &[u8]) -> Result<(), String> {
    use extra::*;
    let exact = |n: usize| {
        if rdata.len() == n {
            Ok(())
        } else {
            Err(format!("{} octets where {n} are required", rdata.len()))
        }
    };
    let at_least = |n: usize| {
        if rdata.len() >= n {
            Ok(())
        } else {
            Err(format!(
                "{} octets where at least {n} are required",
                rdata.len()
            ))
        }
    };
    match rtype {
        AFSDB | RT | KX | LP => names_after(rdata, 2, 1),
        PX => names_after(rdata, 2, 2),
        LOC => {
            exact(16)?;
            // RFC 1876 §2: version 0 is the only one defined; dig refuses others.
            if rdata[0] != 0 {
                return Err(format!("LOC version {} is not 0", rdata[0]));
            }
            Ok(())
        }
        EUI48 | L32 => exact(6),
        EUI64 => exact(8),
        NID | L64 => exact(10),
        URI => at_least(4),
        CERT => at_least(5),
        SMIMEA => at_least(3),
        CSYNC => at_least(6),
        SPF => {
            if rdata.is_empty() {
                return Err("no character-string".into());
            }
            char_strings(rdata)
        }
        _ => Ok(()),
    }
}

/// `fixed` octets, then exactly `count` uncompressed names, then nothing.
fn names_after(rdata: &[u8], fixed: usize, count: usize) -> Result<(), String> {
    let mut pos = fixed;
    if rdata.len() < fixed {
        return Err(format!("shorter than its {fixed}-octet preference"));
    }
    for _ in 0..count {
        let len = crate::name::wire_len(&rdata[pos..])
            .map_err(|e| format!("bad name at octet {pos}: {e}"))?;
        pos += len;
    }
    if pos != rdata.len() {
        return Err(format!(
            "{} octet(s) after its last name",
            rdata.len() - pos
        ));
    }
    Ok(())
}

/// A sequence of RFC 1035 §3.3 character-strings filling the RDATA exactly.
fn char_strings(rdata: &[u8]) -> Result<(), String> {
    let mut pos = 0;
    while pos < rdata.len() {
        pos += 1 + rdata[pos] as usize;
    }
    if pos != rdata.len() {
        return Err("the last character-string is cut short".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
