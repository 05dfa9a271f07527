//! Checks and canonical forms of zone-transfer input (the rules of PRODUCT §1), each failure a
//! 400 that names the field and says what would be accepted.

use crate::ApiError;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::Number;
use std::net::IpAddr;
use tandem_store::{IpRange, IpRangeError, PeerAllow, TsigAlgorithm, ZoneRow, MAX_LINKED_PEERS};
use tandem_zone::Name;

/// Longest name of a peer or an ACL, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest TSIG secret accepted, in base64 characters (a 512-byte key).
pub const MAX_SECRET_CHARS: usize = 684;
/// Widest ACL ranges: /24 for IPv4, /64 for IPv6 (PRODUCT §1).
pub const MIN_IPV4_PREFIX: u8 = 24;
pub const MIN_IPV6_PREFIX: u8 = 64;
/// Highest accepted `auto_refresh_seconds`: four weeks, BIND's `max-refresh-time` ceiling.
pub const MAX_REFRESH_SECONDS: u32 = 2_419_200;
/// `auto_refresh_seconds` when none is given: one day, as the provider does.
pub const DEFAULT_REFRESH_SECONDS: u32 = 86_400;

/// The name of a peer or an ACL: required, not blank, at most [`MAX_NAME_CHARS`], no control
/// characters. Surrounding blanks are dropped.
pub fn object_name(value: Option<&str>) -> Result<String, ApiError> {
    let text = value.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(ApiError::field("name", "is required and may not be blank"));
    }
    if text.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::field(
            "name",
            format!("is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(ApiError::field("name", "may not hold control characters"));
    }
    Ok(text.to_string())
}

/// A TSIG key name (`k1.example.`): a domain name of letters, digits, `-` and `_`, kept as
/// given (surrounding blanks dropped).
pub fn key_name(value: Option<&str>) -> Result<String, ApiError> {
    let text = value.map(str::trim).unwrap_or_default();
    if text.is_empty() || text == "." {
        return Err(ApiError::field(
            "name",
            "the key name is required, e.g. transfer-key.example.",
        ));
    }
    let bad = text.trim_end_matches('.').split('.').find(|l| {
        l.is_empty()
            || !l
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if let Some(label) = bad {
        return Err(ApiError::field(
            "name",
            format!(
                "{text:?} is not a key name: label {label:?} may only hold letters, digits, \
                 '-' and '_'"
            ),
        ));
    }
    Name::parse(text).map_err(|e| {
        ApiError::field("name", format!("{text:?} is not a valid domain name: {e}"))
    })?;
    Ok(text.to_string())
}

/// A peer's optional address: `null`, absent or blank means none. It must lie inside the
/// operator's `--peer-allow` ranges, since the server will send to it.
pub fn peer_ip(value: Option<&str>, allow: &PeerAllow) -> Result<Option<IpAddr>, ApiError> {
    let text = value.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Ok(None);
    }
    let ip: IpAddr = text.parse().map_err(|_| {
        ApiError::field(
            "ip",
            format!("{text:?} is not an IPv4 or IPv6 address (no port, no brackets, no prefix)"),
        )
    })?;
    let unusable = match ip {
        IpAddr::V4(a) => a.is_unspecified() || a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_unspecified() || a.is_multicast(),
    };
    if unusable {
        return Err(ApiError::field(
            "ip",
            format!("{ip} cannot be a name server's address (unspecified, multicast or broadcast)"),
        ));
    }
    if !allow.permits(ip) {
        return Err(ApiError::field(
            "ip",
            format!(
                "{ip} is outside the addresses this server may send to (the operator's \
                 --peer-allow setting)"
            ),
        ));
    }
    Ok(Some(ip))
}

/// A JSON number that must be whole (`53` or `53.0`; SDKs send numbers as floats).
fn whole(field: &str, n: &Number) -> Result<u64, ApiError> {
    if let Some(v) = n.as_u64() {
        return Ok(v);
    }
    match n.as_f64() {
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64 => Ok(f as u64),
        _ => Err(ApiError::field(
            field,
            format!("{n} is not a whole number of 0 or more"),
        )),
    }
}

/// A peer's port: 1–65535, 53 when absent.
pub fn port(value: Option<&Number>) -> Result<u16, ApiError> {
    let Some(n) = value else {
        return Ok(tandem_store::DEFAULT_PEER_PORT);
    };
    match whole("port", n)? {
        p @ 1..=65535 => Ok(p as u16),
        p => Err(ApiError::field(
            "port",
            format!("{p} is not a port number (1 to 65535)"),
        )),
    }
}

/// `auto_refresh_seconds`: from the configured minimum to [`MAX_REFRESH_SECONDS`]; when
/// absent, [`DEFAULT_REFRESH_SECONDS`] (raised to the minimum if that is higher).
pub fn auto_refresh(value: Option<&Number>, min: u32) -> Result<u32, ApiError> {
    let Some(n) = value else {
        return Ok(DEFAULT_REFRESH_SECONDS.max(min));
    };
    let v = whole("auto_refresh_seconds", n)?;
    if v < u64::from(min) || v > u64::from(MAX_REFRESH_SECONDS) {
        return Err(ApiError::field(
            "auto_refresh_seconds",
            format!(
                "{v} is outside the accepted range {min} to {MAX_REFRESH_SECONDS} seconds (the \
                 minimum is the server's --min-refresh-seconds)"
            ),
        ));
    }
    Ok(v as u32)
}

/// A TSIG algorithm with or without the trailing dot; hmac-sha256 when absent.
pub fn algorithm(value: Option<&str>) -> Result<TsigAlgorithm, ApiError> {
    let text = value.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Ok(TsigAlgorithm::HmacSha256);
    }
    if let Some(a) = TsigAlgorithm::parse(text) {
        return Ok(a);
    }
    let accepted = TsigAlgorithm::ALL.map(|a| a.as_str().trim_end_matches('.'));
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("hmac-md5") {
        return Err(ApiError::field(
            "algo",
            format!(
                "hmac-md5 is not supported yet (legacy support comes later); use one of {}",
                accepted.join(", ")
            ),
        ));
    }
    Err(ApiError::field(
        "algo",
        format!(
            "{text:?} is not a supported TSIG algorithm; use one of {}",
            accepted.join(", ")
        ),
    ))
}

/// A TSIG secret: the base64 given, or, when blank or absent, a fresh random key as long as
/// the algorithm's output (RFC 2104 §3, RFC 8945 §6).
pub fn secret(algo: TsigAlgorithm, value: Option<&str>) -> Result<String, ApiError> {
    let text = value.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        let mut key = vec![0u8; algo.output_len()];
        rand::fill(&mut key[..]);
        return Ok(BASE64.encode(key));
    }
    if text.len() > MAX_SECRET_CHARS {
        return Err(ApiError::field(
            "secret",
            format!("is longer than {MAX_SECRET_CHARS} base64 characters"),
        ));
    }
    match BASE64.decode(text) {
        Ok(key) if !key.is_empty() => Ok(text.to_string()),
        Ok(_) => Err(ApiError::field("secret", "decodes to an empty key")),
        Err(e) => Err(ApiError::field(
            "secret",
            format!("is not valid base64 ({e}); leave it blank to have one generated"),
        )),
    }
}

/// An ACL range: a CIDR no wider than /24 (IPv4) or /64 (IPv6), host bits clear; a bare
/// address is a single-host range.
pub fn ip_range(value: Option<&str>) -> Result<IpRange, ApiError> {
    let text = value.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(ApiError::field(
            "ip_range",
            "is required, e.g. 192.0.2.0/24 or 2001:db8::/64",
        ));
    }
    let range = IpRange::parse(text).map_err(|e| match e {
        IpRangeError::HostBits { network, .. } => ApiError::field(
            "ip_range",
            format!("{text} has host bits set; did you mean {network}?"),
        ),
        other => ApiError::field("ip_range", format!("{other} in {text:?}")),
    })?;
    let (min, family) = if range.is_ipv4() {
        (MIN_IPV4_PREFIX, "IPv4")
    } else {
        (MIN_IPV6_PREFIX, "IPv6")
    };
    if range.prefix() < min {
        return Err(ApiError::field(
            "ip_range",
            format!("{range} is wider than /{min}, the widest {family} range allowed"),
        ));
    }
    Ok(range)
}

/// An optional reference to another object (`tsig_id`): `null`, absent or blank means none.
pub fn optional_id(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Linked peer ids: at most [`MAX_LINKED_PEERS`], none twice. Whether each exists in the
/// account is checked in the store, in the transaction that links them.
pub fn peer_list(value: Option<&[String]>) -> Result<Vec<String>, ApiError> {
    let peers: Vec<String> = value
        .unwrap_or_default()
        .iter()
        .map(|p| p.trim().to_string())
        .collect();
    if peers.len() > MAX_LINKED_PEERS {
        return Err(ApiError::field(
            "peers",
            format!(
                "{} peers given; a zone links at most {MAX_LINKED_PEERS}",
                peers.len()
            ),
        ));
    }
    for (i, p) in peers.iter().enumerate() {
        if p.is_empty() {
            return Err(ApiError::field(&format!("peers[{i}]"), "is blank"));
        }
        if peers[..i].contains(p) {
            return Err(ApiError::field(
                &format!("peers[{i}]"),
                format!("peer {p} is listed twice"),
            ));
        }
    }
    Ok(peers)
}

/// The `name` of an incoming or outgoing configuration: when given, the zone's own name (with
/// or without the trailing dot, in any case).
pub fn config_zone_name(zone: &ZoneRow, value: Option<&str>) -> Result<(), ApiError> {
    let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    if text.trim_end_matches('.').eq_ignore_ascii_case(&zone.name) {
        Ok(())
    } else {
        Err(ApiError::field(
            "name",
            format!("{text:?} is not this zone's name ({})", zone.name),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: ApiError) -> String {
        e.message
    }

    #[test]
    fn ports_and_numbers() {
        assert_eq!(port(None).unwrap(), 53);
        assert_eq!(port(Some(&Number::from(5300))).unwrap(), 5300);
        assert_eq!(port(Some(&Number::from_f64(53.0).unwrap())).unwrap(), 53);
        assert!(message(port(Some(&Number::from(0))).unwrap_err()).starts_with("port: "));
        assert!(port(Some(&Number::from(65536))).is_err());
        assert!(port(Some(&Number::from(-1))).is_err());
        assert!(port(Some(&Number::from_f64(53.5).unwrap())).is_err());
    }

    #[test]
    fn secrets() {
        for a in TsigAlgorithm::ALL {
            let s = secret(a, None).unwrap();
            assert_eq!(BASE64.decode(&s).unwrap().len(), a.output_len());
            assert_ne!(s, secret(a, Some(" ")).unwrap());
        }
        assert_eq!(
            secret(TsigAlgorithm::HmacSha256, Some("c2VjcmV0")).unwrap(),
            "c2VjcmV0"
        );
        assert!(secret(TsigAlgorithm::HmacSha256, Some("not base64!")).is_err());
    }

    #[test]
    fn ranges() {
        assert_eq!(
            ip_range(Some("192.0.2.0/24")).unwrap().to_string(),
            "192.0.2.0/24"
        );
        assert!(message(ip_range(Some("192.0.0.0/16")).unwrap_err()).contains("/24"));
        assert!(message(ip_range(Some("2001:db8::/48")).unwrap_err()).contains("/64"));
        assert!(message(ip_range(Some("192.0.2.9/24")).unwrap_err()).contains("192.0.2.0/24"));
    }

    #[test]
    fn key_names() {
        assert_eq!(key_name(Some("k1.example.")).unwrap(), "k1.example.");
        assert_eq!(key_name(Some("transfer-key")).unwrap(), "transfer-key");
        assert!(key_name(Some("")).is_err());
        assert!(key_name(Some("a b")).is_err());
        assert!(key_name(Some("a..b")).is_err());
    }
}
