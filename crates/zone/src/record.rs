//! One resource record of class IN, with its RDATA in uncompressed wire form (RFC 1035 §3.2.1).

use crate::name::Name;
use bytes::Bytes;

/// Record types the zone store treats specially (RFC 1035 §3.2.2, RFC 3596, RFC 2782,
/// RFC 4034, RFC 5155, RFC 9460).
pub mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const LOC: u16 = 29;
    pub const SRV: u16 = 33;
    pub const NAPTR: u16 = 35;
    pub const CERT: u16 = 37;
    pub const DNAME: u16 = 39;
    pub const OPT: u16 = 41;
    pub const DS: u16 = 43;
    pub const SSHFP: u16 = 44;
    pub const RRSIG: u16 = 46;
    pub const NSEC: u16 = 47;
    pub const DNSKEY: u16 = 48;
    pub const NSEC3: u16 = 50;
    pub const NSEC3PARAM: u16 = 51;
    pub const TLSA: u16 = 52;
    pub const SMIMEA: u16 = 53;
    pub const SVCB: u16 = 64;
    pub const HTTPS: u16 = 65;
    pub const TKEY: u16 = 249;
    pub const TSIG: u16 = 250;
    pub const IXFR: u16 = 251;
    pub const AXFR: u16 = 252;
    pub const MAILB: u16 = 253;
    pub const MAILA: u16 = 254;
    pub const ANY: u16 = 255;
    pub const URI: u16 = 256;
    pub const CAA: u16 = 257;
}

/// Class IN (RFC 1035 §3.2.4); Tandem serves no other class.
pub const CLASS_IN: u16 = 1;

/// The mnemonic of a type (`A`, `TYPE65534` for unknown ones, RFC 3597 §5).
pub fn rtype_name(rtype: u16) -> String {
    domain::base::iana::Rtype::from_int(rtype).to_string()
}

/// Parses a type mnemonic or `TYPEnnn` (case-insensitive).
pub fn parse_rtype(text: &str) -> Option<u16> {
    text.trim()
        .to_ascii_uppercase()
        .parse::<domain::base::iana::Rtype>()
        .ok()
        .map(|t| t.to_int())
}

/// A resource record of class IN.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Record {
    pub owner: Name,
    pub rtype: u16,
    pub ttl: u32,
    /// Uncompressed wire RDATA.
    pub rdata: Bytes,
}

impl Record {
    pub fn new(owner: Name, rtype: u16, ttl: u32, rdata: impl Into<Bytes>) -> Self {
        Record {
            owner,
            rtype,
            ttl,
            rdata: rdata.into(),
        }
    }

    /// True when both are the same RR, ignoring TTL (RFC 2181 §5: an RRset is a set of RDATA).
    pub fn same_rr(&self, other: &Record) -> bool {
        self.owner == other.owner && self.rtype == other.rtype && self.rdata == other.rdata
    }
}

/// Largest DNS message over TCP (RFC 1035 §4.2.2: a two-octet length prefix).
pub const MAX_MESSAGE_LEN: usize = 65535;

/// Octets of the largest question a transfer message echoes: a 255-octet name (RFC 1035
/// §2.3.4), QTYPE and QCLASS.
pub const MAX_QUESTION_LEN: usize = crate::name::MAX_NAME_LEN + 4;

/// Octets of the largest TSIG RR we sign a message with (RFC 8945 §4.2): hmac-sha512, the
/// longest MAC we make, under a key name of 255 octets, with room for the 6 octets of Other
/// Data of a BADTIME answer:
///
/// | field | octets |
/// |---|---|
/// | owner (key name) | 255 |
/// | TYPE, CLASS, TTL, RDLENGTH | 10 |
/// | Algorithm Name `hmac-sha512.` | 13 |
/// | Time Signed, Fudge | 6 + 2 |
/// | MAC Size, MAC | 2 + 64 |
/// | Original ID, Error, Other Len | 2 + 2 + 2 |
/// | Other Data | 6 |
///
/// 255 + 10 + 13 + 8 + 66 + 6 + 6 = 364.
pub const MAX_TSIG_RR_LEN: usize = 255 + 10 + 13 + 6 + 2 + 2 + 64 + 2 + 2 + 2 + 6;

/// Octets of the largest single RR (owner, TYPE CLASS TTL RDLENGTH, RDATA, uncompressed) an
/// outgoing transfer can always carry: a message of 65535 octets less the header (12), the
/// largest question (259) and the largest TSIG RR (364), so 65535 − 12 − 259 − 364 = 64900.
pub const MAX_TRANSFER_RR_LEN: usize = MAX_MESSAGE_LEN - 12 - MAX_QUESTION_LEN - MAX_TSIG_RR_LEN;

/// True when a record owned by `owner` with `rdata_len` octets of RDATA fits in a transfer
/// message whatever the zone and the TSIG key: a record in the zone that does not would make
/// every AXFR and IXFR of it fail. The owner is counted uncompressed (RFC 3597 §4 keeps most
/// RDATA uncompressed too, so the count is exact for it).
pub fn fits_in_message(owner: &Name, rdata_len: usize) -> bool {
    owner
        .as_wire()
        .len()
        .saturating_add(10)
        .saturating_add(rdata_len)
        <= MAX_TRANSFER_RR_LEN
}

/// The fields of an SOA RDATA (RFC 1035 §3.3.13).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Soa {
    pub mname: Name,
    pub rname: Name,
    pub serial: u32,
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    pub minimum: u32,
}

impl Soa {
    /// Parses SOA RDATA; `None` when malformed.
    pub fn from_rdata(rdata: &[u8]) -> Option<Soa> {
        let l1 = crate::name::wire_len(rdata).ok()?;
        let l2 = crate::name::wire_len(&rdata[l1..]).ok()?;
        let rest = &rdata[l1 + l2..];
        if rest.len() != 20 {
            return None;
        }
        let n = |i: usize| u32::from_be_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
        Some(Soa {
            mname: Name::from_wire(&rdata[..l1]).ok()?,
            rname: Name::from_wire(&rdata[l1..l1 + l2]).ok()?,
            serial: n(0),
            refresh: n(4),
            retry: n(8),
            expire: n(12),
            minimum: n(16),
        })
    }

    /// Wire RDATA.
    pub fn to_rdata(&self) -> Bytes {
        let mut v =
            Vec::with_capacity(self.mname.as_wire().len() + self.rname.as_wire().len() + 20);
        v.extend_from_slice(self.mname.as_wire());
        v.extend_from_slice(self.rname.as_wire());
        for n in [
            self.serial,
            self.refresh,
            self.retry,
            self.expire,
            self.minimum,
        ] {
            v.extend_from_slice(&n.to_be_bytes());
        }
        v.into()
    }
}

/// Reads the serial out of SOA RDATA without a full parse (the last 20 octets hold the timers).
pub fn soa_serial(rdata: &[u8]) -> Option<u32> {
    let at = rdata.len().checked_sub(20)?;
    Some(u32::from_be_bytes(rdata[at..at + 4].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soa_round_trip() {
        let soa = Soa {
            mname: Name::parse("ns1.example.com").unwrap(),
            rname: Name::parse("hostmaster.example.com").unwrap(),
            serial: 7,
            refresh: 7200,
            retry: 3600,
            expire: 1209600,
            minimum: 300,
        };
        let rd = soa.to_rdata();
        assert_eq!(Soa::from_rdata(&rd), Some(soa));
        assert_eq!(soa_serial(&rd), Some(7));
    }

    #[test]
    fn transfer_message_arithmetic() {
        assert_eq!(MAX_TSIG_RR_LEN, 364);
        assert_eq!(MAX_TRANSFER_RR_LEN, 64900);
        // The same TSIG arithmetic from the algorithm name's wire form.
        let alg = b"\x0bhmac-sha512\x00".len();
        assert_eq!(
            255 + 10 + alg + 6 + 2 + 2 + 64 + 2 + 2 + 2 + 6,
            MAX_TSIG_RR_LEN
        );
    }

    #[test]
    fn fits_in_message_at_the_edge() {
        // "big.example.test." is 18 octets in wire form.
        let owner = Name::parse("big.example.test").unwrap();
        let room = MAX_TRANSFER_RR_LEN - 18 - 10;
        assert!(fits_in_message(&owner, 0));
        assert!(fits_in_message(&owner, 17_025));
        assert!(fits_in_message(&owner, 65_000 - 200));
        assert!(fits_in_message(&owner, room));
        assert!(!fits_in_message(&owner, room + 1));
        assert!(!fits_in_message(&owner, 65_000));
        assert!(!fits_in_message(&owner, 65_535));
        assert!(!fits_in_message(&owner, usize::MAX));
        // A longer owner leaves less room for RDATA.
        let long = Name::parse(&format!(
            "{}.example.test",
            vec!["a".repeat(63); 3].join(".")
        ))
        .unwrap();
        assert_eq!(long.as_wire().len(), 18 - 4 + 3 * 64);
        assert!(!fits_in_message(&long, room));
    }

    #[test]
    fn type_names() {
        assert_eq!(rtype_name(1), "A");
        assert_eq!(rtype_name(65534), "TYPE65534");
        assert_eq!(parse_rtype("aaaa"), Some(28));
        assert_eq!(parse_rtype("TYPE999"), Some(999));
        assert_eq!(parse_rtype("NOPE"), None);
    }
}
