//! Record fields as the API takes and shows them (PRODUCT §3 "API conventions"): owner names
//! relative, `@` or fully qualified; `ttl: 1` for automatic; the priority of MX, SRV and URI
//! in its own field; other content in zone-file presentation form (RFC 1035 §5, RFC 3597 §5).
//!
//! Host names that stand alone in content (CNAME, NS, PTR, DNAME, MX exchange, SRV target, SOA
//! MNAME/RNAME) are taken as fully qualified when they contain a dot, as the provider's SDKs
//! send them (`mail.example.net`), and relative to the zone apex when they are one label
//! (`mail`). All other content follows zone-file rules, relative to the apex.

use crate::ApiError;
use bytes::Bytes;
use tandem_zone::record::{parse_rtype, rtype, rtype_name};
use tandem_zone::text::{parse_rdata, txt_rdata, MAX_TTL};
use tandem_zone::Name;

/// The TTL that `ttl: 1` (automatic) stands for.
pub const AUTO_TTL: u32 = 300;
/// Lowest explicit TTL the API accepts.
pub const MIN_TTL: u32 = 30;

/// A record type given by mnemonic or `TYPEnnn`; meta types are refused (RFC 6895 §3.1).
pub fn parse_type(text: &str) -> Result<u16, ApiError> {
    let t = parse_rtype(text)
        .ok_or_else(|| ApiError::field("type", format!("unknown record type {text:?}")))?;
    if t == 0 || t == rtype::OPT || (128..=255).contains(&t) {
        return Err(ApiError::field(
            "type",
            format!("{} records cannot be stored in a zone", rtype_name(t)),
        ));
    }
    Ok(t)
}

/// An owner name: `@` or empty for the apex, absolute with a trailing dot, fully qualified
/// when it ends in the zone's name, otherwise relative to the apex.
pub fn parse_owner(apex: &Name, text: &str) -> Result<Name, ApiError> {
    let text = text.trim();
    let apex_text = apex.to_api();
    let full = if text.is_empty() || text == "@" {
        return Ok(apex.clone());
    } else if text.ends_with('.') {
        text.to_string()
    } else if text.eq_ignore_ascii_case(&apex_text)
        || text
            .to_ascii_lowercase()
            .ends_with(&format!(".{apex_text}"))
    {
        format!("{text}.")
    } else {
        format!("{text}.{}", apex.to_fqdn())
    };
    let name = Name::parse(&full).map_err(|e| {
        ApiError::field("name", format!("{text:?} is not a valid domain name: {e}"))
    })?;
    if !name.ends_with(apex) {
        return Err(ApiError::field(
            "name",
            format!("{} is outside the zone {}", name.to_api(), apex.to_api()),
        ));
    }
    Ok(name)
}

/// The TTL to serve and whether it is automatic: `None` and `1` mean automatic (served as
/// [`AUTO_TTL`], shown as 1); otherwise 30..=2^31-1 (RFC 2181 §8).
pub fn parse_ttl(ttl: Option<i64>) -> Result<(u32, bool), ApiError> {
    match ttl {
        None | Some(1) => Ok((AUTO_TTL, true)),
        Some(t) if (MIN_TTL as i64..=MAX_TTL as i64).contains(&t) => Ok((t as u32, false)),
        Some(_) => Err(ApiError::field(
            "ttl",
            format!("must be 1 (automatic) or {MIN_TTL}..{MAX_TTL}"),
        )),
    }
}

pub fn parse_priority(priority: Option<i64>) -> Result<Option<u16>, ApiError> {
    priority
        .map(|p| u16::try_from(p).map_err(|_| ApiError::field("priority", "must be 0..65535")))
        .transpose()
}

/// Turns API content (and priority) into wire RDATA of type `t` for `owner`.
pub fn parse_content(
    apex: &Name,
    owner: &Name,
    t: u16,
    content: &str,
    priority: Option<u16>,
) -> Result<Bytes, ApiError> {
    let text = content.trim();
    if text.is_empty() {
        return Err(ApiError::field("content", "must not be empty"));
    }
    if text.contains(['\n', '\r']) {
        return Err(ApiError::field("content", "must be on one line"));
    }
    if t == rtype::URI {
        return uri_rdata(text, priority);
    }
    if t == rtype::TXT && !text.starts_with('"') && !text.starts_with("\\#") {
        // The provider's TXT: unquoted content is one text value, taken literally and split
        // into 255-octet character-strings (RFC 1035 §3.3.14 allows several).
        let rdata = txt_rdata(text);
        if !tandem_zone::fits_in_message(owner, rdata.len()) || rdata.len() > 65535 {
            return Err(ApiError::field(
                "content",
                format!("{} octets of text cannot fit in one record", text.len()),
            ));
        }
        return Ok(rdata.into());
    }
    let presentation = if text.starts_with("\\#") {
        text.to_string()
    } else {
        with_priority(apex, t, text, priority)?
    };
    parse_rdata(owner, &rtype_name(t), AUTO_TTL, &presentation, apex)
        .map(|r| r.rdata)
        .map_err(|m| ApiError::field("content", m))
}

/// Zone-file RDATA for `t`, with host names made absolute and the priority put in front.
fn with_priority(
    apex: &Name,
    t: u16,
    text: &str,
    priority: Option<u16>,
) -> Result<String, ApiError> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let type_name = rtype_name(t);
    let required = || ApiError::field("priority", format!("required for {type_name} records"));
    Ok(match t {
        rtype::CNAME | rtype::NS | rtype::PTR | rtype::DNAME => match tokens[..] {
            [host] => host_name(apex, host),
            _ => return Err(ApiError::field("content", "must be one host name")),
        },
        rtype::MX => match (priority, &tokens[..]) {
            (Some(p), [host]) => format!("{p} {}", host_name(apex, host)),
            (None, [p, host]) if p.parse::<u16>().is_ok() => {
                format!("{p} {}", host_name(apex, host))
            }
            (None, _) => return Err(required()),
            (Some(_), _) => {
                return Err(ApiError::field(
                    "content",
                    "must be the mail exchange host name",
                ))
            }
        },
        rtype::SRV => match (priority, &tokens[..]) {
            (Some(p), [w, port, target]) => format!("{p} {w} {port} {}", host_name(apex, target)),
            (None, [p, w, port, target]) if p.parse::<u16>().is_ok() => {
                format!("{p} {w} {port} {}", host_name(apex, target))
            }
            (None, _) => return Err(required()),
            (Some(_), _) => return Err(ApiError::field("content", "must be `weight port target`")),
        },
        // RFC 9460 §2.1 TargetName, RFC 3403 §4.1 REPLACEMENT: names, read like the others.
        rtype::SVCB | rtype::HTTPS => match leading::<2>(text) {
            Some(([p, target], rest)) => words(&[p, &host_name(apex, target)], rest),
            None => text.to_string(),
        },
        rtype::NAPTR if !text.ends_with('"') => match text.rsplit_once(char::is_whitespace) {
            Some((front, replacement)) => format!("{front} {}", host_name(apex, replacement)),
            None => text.to_string(),
        },
        rtype::SOA => match leading::<2>(text) {
            Some(([mname, rname], rest)) => {
                words(&[&host_name(apex, mname), &host_name(apex, rname)], rest)
            }
            None => text.to_string(),
        },
        _ => text.to_string(),
    })
}

/// The first `N` words of `text` and the rest of it as written (quoted strings and their
/// spacing untouched); `None` when it has fewer words.
fn leading<const N: usize>(text: &str) -> Option<([&str; N], &str)> {
    let mut rest = text.trim_start();
    let mut out = [""; N];
    for word in out.iter_mut() {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        *word = &rest[..end];
        rest = rest[end..].trim_start();
    }
    Some((out, rest))
}

/// `first` words and then `rest`, separated by single spaces.
fn words(first: &[&str], rest: &str) -> String {
    let mut s = first.join(" ");
    if !rest.is_empty() {
        s.push(' ');
        s.push_str(rest);
    }
    s
}

/// A host name as the provider's API means it: absolute when it holds a dot.
fn host_name(apex: &Name, host: &str) -> String {
    if host == "@" {
        apex.to_fqdn()
    } else if host.ends_with('.') {
        host.to_string()
    } else if host.contains('.') {
        format!("{host}.")
    } else {
        format!("{host}.{}", apex.to_fqdn())
    }
}

/// URI RDATA (RFC 7553 §4.5): priority, weight, and the target as the rest of the RDATA.
/// Content is `weight "target"` (or `priority weight "target"` without a priority field).
fn uri_rdata(text: &str, priority: Option<u16>) -> Result<Bytes, ApiError> {
    let (first, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let (priority, weight, target) = match priority {
        Some(p) => (p, first, rest.trim()),
        None => {
            let (w, t) = rest
                .trim()
                .split_once(char::is_whitespace)
                .unwrap_or((rest, ""));
            let p = first
                .parse::<u16>()
                .map_err(|_| ApiError::field("priority", "required for URI records"))?;
            (p, w, t.trim())
        }
    };
    let weight = weight
        .parse::<u16>()
        .map_err(|_| ApiError::field("content", "must be `weight \"target\"` (weight 0..65535)"))?;
    let target = unquote(target).map_err(|m| ApiError::field("content", m))?;
    if target.is_empty() {
        return Err(ApiError::field(
            "content",
            "the URI target must not be empty",
        ));
    }
    let mut rd = Vec::with_capacity(4 + target.len());
    rd.extend_from_slice(&priority.to_be_bytes());
    rd.extend_from_slice(&weight.to_be_bytes());
    rd.extend_from_slice(&target);
    Ok(rd.into())
}

/// A character string in presentation form (RFC 1035 §5.1), quoted or not.
fn unquote(text: &str) -> Result<Vec<u8>, String> {
    let inner = match text.strip_prefix('"') {
        Some(t) => t.strip_suffix('"').ok_or("unterminated quoted string")?,
        None if text.contains(char::is_whitespace) => {
            return Err("a target with spaces must be quoted".into())
        }
        None => text,
    };
    let bytes = inner.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let digits = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(u8::is_ascii_digit));
        if let Some(d) = digits {
            let n = (d[0] - b'0') as u16 * 100 + (d[1] - b'0') as u16 * 10 + (d[2] - b'0') as u16;
            out.push(u8::try_from(n).map_err(|_| "escape \\DDD above 255")?);
            i += 4;
        } else {
            out.push(*bytes.get(i + 1).ok_or("dangling backslash")?);
            i += 2;
        }
    }
    Ok(out)
}

/// How the API shows a record's RDATA: content, and the priority of MX, SRV and URI apart.
pub use tandem_zone::text::api_content as shown;

#[cfg(test)]
mod tests {
    use super::*;

    fn apex() -> Name {
        Name::parse("example.com").unwrap()
    }

    fn show(t: &str, content: &str, priority: Option<u16>) -> (String, Option<u16>) {
        let t = parse_type(t).unwrap();
        let owner = apex();
        let rd = parse_content(&apex(), &owner, t, content, priority).unwrap();
        shown(&tandem_zone::Record::new(owner, t, 300, rd))
    }

    #[test]
    fn owners() {
        let a = apex();
        for (input, want) in [
            ("@", "example.com"),
            ("", "example.com"),
            ("www", "www.example.com"),
            ("WWW.Example.COM", "www.example.com"),
            ("www.example.com.", "www.example.com"),
            ("a.b", "a.b.example.com"),
            ("*.example.com", "*.example.com"),
        ] {
            assert_eq!(parse_owner(&a, input).unwrap().to_api(), want, "{input}");
        }
        let err = parse_owner(&a, "www.example.org.").unwrap_err();
        assert!(err.message.starts_with("name: "), "{}", err.message);
    }

    #[test]
    fn ttls() {
        assert_eq!(parse_ttl(None).unwrap(), (300, true));
        assert_eq!(parse_ttl(Some(1)).unwrap(), (300, true));
        assert_eq!(parse_ttl(Some(3600)).unwrap(), (3600, false));
        for bad in [0, 2, 29, 1 << 31, -5] {
            assert!(parse_ttl(Some(bad))
                .unwrap_err()
                .message
                .starts_with("ttl: "));
        }
    }

    #[test]
    fn contents() {
        assert_eq!(show("A", "192.0.2.1", None), ("192.0.2.1".into(), None));
        assert_eq!(
            show("MX", "mail", Some(10)),
            ("mail.example.com".into(), Some(10))
        );
        assert_eq!(
            show("MX", "mx.example.net", Some(5)),
            ("mx.example.net".into(), Some(5))
        );
        assert_eq!(
            show("MX", "20 mx.example.net.", None),
            ("mx.example.net".into(), Some(20))
        );
        assert_eq!(
            show("SRV", "5 443 sip.example.net", Some(1)),
            ("5 443 sip.example.net".into(), Some(1))
        );
        assert_eq!(show("CNAME", "@", None).0, "example.com");
        assert_eq!(
            show("CNAME", "other.example.org", None).0,
            "other.example.org"
        );
        let unknown = show("TYPE65534", "\\# 3 abcdef", None).0;
        assert_eq!(
            unknown.replace(' ', ""),
            "\\#3abcdef",
            "RFC 3597 form: {unknown}"
        );
        assert_eq!(
            show("URI", "1 \"https://example.com/a b\"", Some(10)),
            ("1 \"https://example.com/a b\"".into(), Some(10))
        );
        assert_eq!(show("TXT", "\"hello world\"", None).0, "hello world");
        assert_eq!(
            show("SVCB", "1 svc.example.net alpn=h2", None).0,
            "1 svc.example.net. alpn=h2"
        );
        assert_eq!(show("HTTPS", "1 . alpn=h2", None).0, "1 . alpn=h2");
        assert_eq!(
            show("HTTPS", "1 svc alpn=h2", None).0,
            "1 svc.example.com. alpn=h2"
        );
        // What follows the target reaches the parser as written.
        assert_eq!(
            leading::<2>("1  t   a=\"x  y\""),
            Some((["1", "t"], "a=\"x  y\""))
        );
        assert_eq!(leading::<2>("1"), None);
        assert_eq!(words(&["a", "b"], ""), "a b");
        assert_eq!(
            show(
                "NAPTR",
                "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.net",
                None
            )
            .0,
            "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.net."
        );
        // Unquoted: one value, taken literally, `;` and all, whatever its length.
        let dkim = format!("v=DKIM1; k=rsa; p={}", "B".repeat(300));
        assert_eq!(show("TXT", &dkim, None).0, dkim);
        assert_eq!(
            show("TXT", "v=spf1 include:_spf.example.net ~all", None).0,
            "v=spf1 include:_spf.example.net ~all"
        );
        assert_eq!(show("TXT", "\"a\" \"b\"", None).0, "\"a\" \"b\"");
    }

    #[test]
    fn content_errors_name_the_field() {
        let a = apex();
        let e = parse_content(&a, &a, rtype::A, "999.1.1.1", None).unwrap_err();
        assert!(e.message.starts_with("content: "), "{}", e.message);
        let e = parse_content(&a, &a, rtype::MX, "mail", None).unwrap_err();
        assert!(e.message.starts_with("priority: "), "{}", e.message);
        assert!(parse_type("NOPE")
            .unwrap_err()
            .message
            .starts_with("type: "));
        assert!(parse_type("AXFR")
            .unwrap_err()
            .message
            .starts_with("type: "));
        assert!(parse_priority(Some(70000)).is_err());
    }
}
