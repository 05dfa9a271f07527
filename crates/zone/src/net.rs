//! IP address ranges (CIDR, RFC 4632 §3.1), as ACLs and the operator's `--peer-allow` name
//! them: shared by the store that keeps them and the access rule that reads them.

use std::fmt;
use std::net::IpAddr;

/// A CIDR range whose host bits are zero (`192.0.2.0/24`, `2001:db8::/64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

/// Why a text is not an [`IpRange`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IpRangeError {
    #[error("{0:?} is not an IPv4 or IPv6 address")]
    Address(String),
    #[error("{0:?} is not a prefix length (0 to 32 for IPv4, 0 to 128 for IPv6)")]
    Prefix(String),
    #[error("{given} has host bits set; the range is {network}")]
    HostBits { given: String, network: IpRange },
}

impl IpRange {
    /// Reads `ADDR/LEN`, or a bare address as a single-host range (/32 or /128).
    pub fn parse(text: &str) -> Result<IpRange, IpRangeError> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| IpRangeError::Address(addr.to_string()))?;
        let max = max_prefix(addr);
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(IpRangeError::Prefix(p.to_string())),
            },
        };
        let range = IpRange {
            network: mask(addr, prefix),
            prefix,
        };
        if range.network != addr {
            return Err(IpRangeError::HostBits {
                given: text.to_string(),
                network: range,
            });
        }
        Ok(range)
    }

    pub fn network(&self) -> IpAddr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn is_ipv4(&self) -> bool {
        self.network.is_ipv4()
    }

    /// Whether `ip` lies inside the range (an IPv4 address never lies in an IPv6 range).
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == self.network
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

/// `addr` with every bit past the first `prefix` cleared.
fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((bits & m).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_ranges() {
        let r = IpRange::parse("192.0.2.0/24").unwrap();
        assert_eq!(r.to_string(), "192.0.2.0/24");
        assert!(r.contains("192.0.2.77".parse().unwrap()));
        assert!(!r.contains("192.0.3.1".parse().unwrap()));
        assert!(!r.contains("::ffff:192.0.2.1".parse().unwrap()));
        assert_eq!(
            IpRange::parse("192.0.2.1").unwrap().to_string(),
            "192.0.2.1/32"
        );
        assert_eq!(
            IpRange::parse("2001:DB8::/64").unwrap().to_string(),
            "2001:db8::/64"
        );
        assert!(matches!(
            IpRange::parse("192.0.2.5/24"),
            Err(IpRangeError::HostBits { .. })
        ));
        assert!(matches!(
            IpRange::parse("192.0.2.0/33"),
            Err(IpRangeError::Prefix(_))
        ));
        assert!(matches!(
            IpRange::parse("192.0.2.0/+3"),
            Err(IpRangeError::Prefix(_))
        ));
        assert!(matches!(
            IpRange::parse("nonsense/8"),
            Err(IpRangeError::Address(_))
        ));
        let all = IpRange::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
    }
}
