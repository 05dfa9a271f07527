//! The zone-transfer objects of PRODUCT §1 as plain Rust values: peers, TSIG keys (RFC 8945),
//! ACL ranges, and a zone's incoming and outgoing configuration.

use chrono::{DateTime, Utc};
use std::fmt;
use std::net::IpAddr;
pub use tandem_zone::net::{IpRange, IpRangeError};

/// The most peers one zone may link, per direction (PRODUCT §1).
pub const MAX_LINKED_PEERS: usize = 30;

/// Default DNS port of a peer.
pub const DEFAULT_PEER_PORT: u16 = 53;

/// A primary or secondary name server we transfer with. What its fields mean depends on the
/// zone it is linked to (PRODUCT §1, second table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// Where NOTIFY (outgoing) or SOA/AXFR/IXFR queries (incoming) go. A peer without one can
    /// only be matched as a request source through its key and the account's ACLs.
    pub ip: Option<IpAddr>,
    pub port: u16,
    /// Incoming only: request IXFR (falling back to AXFR) instead of AXFR.
    pub ixfr_enable: bool,
    pub tsig_id: Option<String>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// A TSIG algorithm we sign and verify with (RFC 8945 §6). hmac-md5 is not among them yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsigAlgorithm {
    HmacSha1,
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl TsigAlgorithm {
    /// Every algorithm, in the order error messages list them.
    pub const ALL: [TsigAlgorithm; 4] = [
        TsigAlgorithm::HmacSha256,
        TsigAlgorithm::HmacSha384,
        TsigAlgorithm::HmacSha512,
        TsigAlgorithm::HmacSha1,
    ];

    /// The canonical name: the algorithm's domain name, with the trailing dot.
    pub fn as_str(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacSha1 => "hmac-sha1.",
            TsigAlgorithm::HmacSha256 => "hmac-sha256.",
            TsigAlgorithm::HmacSha384 => "hmac-sha384.",
            TsigAlgorithm::HmacSha512 => "hmac-sha512.",
        }
    }

    /// Reads a name with or without the trailing dot, in any case.
    pub fn parse(text: &str) -> Option<Self> {
        let bare = text.trim().trim_end_matches('.').to_ascii_lowercase();
        TsigAlgorithm::ALL
            .into_iter()
            .find(|a| a.as_str().trim_end_matches('.') == bare)
    }

    /// Length of the HMAC output in bytes, which is also the key length RFC 2104 §3 recommends.
    pub fn output_len(self) -> usize {
        match self {
            TsigAlgorithm::HmacSha1 => 20,
            TsigAlgorithm::HmacSha256 => 32,
            TsigAlgorithm::HmacSha384 => 48,
            TsigAlgorithm::HmacSha512 => 64,
        }
    }
}

/// A TSIG key shared with peers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TsigKey {
    pub id: String,
    pub account_id: String,
    /// The key name as given (`k1.example.`).
    pub name: String,
    pub algorithm: TsigAlgorithm,
    /// Base64 of the shared secret.
    pub secret: String,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// Where a tenant's peers may point the server's outgoing traffic (SOA queries, transfer
/// requests, NOTIFYs, live serial probes): the operator's `--peer-allow` ranges. Empty means
/// any unicast address (the API refuses unspecified, multicast and broadcast addresses anyway).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerAllow {
    ranges: Vec<IpRange>,
}

impl PeerAllow {
    /// Every address the API accepts for a peer.
    pub fn any() -> PeerAllow {
        PeerAllow::default()
    }

    /// Only addresses inside one of `ranges` (none: any).
    pub fn ranges(ranges: Vec<IpRange>) -> PeerAllow {
        PeerAllow { ranges }
    }

    /// Reads `CIDR,CIDR,...` (blank: any), naming the first entry that is not a range.
    pub fn parse(text: &str) -> Result<PeerAllow, String> {
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            ranges.push(IpRange::parse(part).map_err(|e| format!("{part:?}: {e}"))?);
        }
        Ok(PeerAllow { ranges })
    }

    /// Whether the server may send to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        // An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.ranges.is_empty() || self.ranges.iter().any(|r| r.contains(ip))
    }

    /// Whether every address is permitted.
    pub fn is_any(&self) -> bool {
        self.ranges.is_empty()
    }
}

impl fmt::Display for PeerAllow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ranges.is_empty() {
            return f.write_str("any unicast address");
        }
        for (i, r) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Extra sources allowed to request transfers of the account's primary zones and to send
/// NOTIFY to its secondary zones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acl {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub ip_range: IpRange,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// Which way a zone's transfers go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// We are a secondary: the linked peers are our primaries.
    Incoming,
    /// We serve transfers: the linked peers are our secondaries.
    Outgoing,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
        }
    }
}

/// A secondary zone's transfers in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingConfig {
    pub id: String,
    pub zone_id: String,
    /// Linked peer ids, in the order given.
    pub peers: Vec<String>,
    pub auto_refresh_seconds: u32,
    /// `pending` until a transfer succeeded; then `ok`, `retrying` or `expired`.
    pub state: String,
    pub checked_time: Option<DateTime<Utc>>,
    pub expires_time: Option<DateTime<Utc>>,
    pub next_refresh_time: Option<DateTime<Utc>>,
    /// When a force_axfr was asked for and not yet carried out.
    pub axfr_requested: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// A zone's transfers out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingConfig {
    pub id: String,
    pub zone_id: String,
    /// Linked peer ids, in the order given.
    pub peers: Vec<String>,
    /// Transfer requests are refused while false; a new configuration starts disabled.
    pub enabled: bool,
    pub checked_time: Option<DateTime<Utc>>,
    pub last_transferred_time: Option<DateTime<Utc>>,
    /// When a force_notify was asked for and not yet carried out.
    pub notify_requested: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsig_algorithms() {
        assert_eq!(
            TsigAlgorithm::parse("HMAC-SHA256"),
            Some(TsigAlgorithm::HmacSha256)
        );
        assert_eq!(
            TsigAlgorithm::parse("hmac-sha512."),
            Some(TsigAlgorithm::HmacSha512)
        );
        assert_eq!(TsigAlgorithm::parse("hmac-md5"), None);
        assert_eq!(TsigAlgorithm::HmacSha384.as_str(), "hmac-sha384.");
    }
}

#[cfg(test)]
mod peer_allow_tests {
    use super::*;

    #[test]
    fn peer_allow_permits_only_its_ranges_and_everything_when_empty() {
        let any = PeerAllow::parse(" ").unwrap();
        assert!(any.is_any());
        assert!(any.permits("127.0.0.1".parse().unwrap()));
        let allow = PeerAllow::parse("192.0.2.0/24, 2001:db8::/32").unwrap();
        assert!(allow.permits("192.0.2.77".parse().unwrap()));
        assert!(allow.permits("2001:db8::5".parse().unwrap()));
        assert!(allow.permits("::ffff:192.0.2.1".parse().unwrap()));
        assert!(!allow.permits("127.0.0.1".parse().unwrap()));
        assert!(!allow.permits("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!allow.permits("2001:db9::1".parse().unwrap()));
        assert_eq!(allow.to_string(), "192.0.2.0/24,2001:db8::/32");
        let err = PeerAllow::parse("192.0.2.0/24,10.0.0.1/8").unwrap_err();
        assert!(
            err.contains("10.0.0.1/8") && err.contains("10.0.0.0/8"),
            "{err}"
        );
    }
}
