//! Zone-file presentation form (RFC 1035 §5, RFC 3597 §5) to and from [`Record`]s.
//!
//! The scanner of the `domain` crate does the tokenising and per-type RDATA parsing; this module
//! adds what an uploaded file needs on top: line numbers in every error, no `$INCLUDE` (an upload
//! must never read a local file), class IN only, TTLs within RFC 2181 §8.

use crate::name::Name;
use crate::record::{rtype_name, Record, CLASS_IN};
use bytes::Bytes;
use domain::base::iana::Class;
use domain::base::rdata::ComposeRecordData;
use domain::base::ParseRecordData;
use domain::zonefile::inplace::{Entry, Zonefile};

/// Largest TTL a zone may carry (RFC 2181 §8).
pub const MAX_TTL: u32 = 0x7fff_ffff;

/// A presentation-form error, located at a 1-based line of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct TextError {
    pub line: usize,
    pub message: String,
}

/// A record read from a zone file together with the line it starts on.
#[derive(Debug, Clone)]
pub struct ParsedLine {
    pub line: usize,
    pub record: Record,
}

/// Parses a whole zone file with `origin` as the initial `$ORIGIN` and `default_ttl` for records
/// that carry none and follow no `$TTL`.
pub fn parse_zonefile(
    text: &str,
    origin: &Name,
    default_ttl: u32,
) -> Result<Vec<ParsedLine>, TextError> {
    // A `$TTL` line in front supplies the default; every line number is shifted back by one.
    let text = format!("$TTL {default_ttl}\n{text}");
    let text = text.as_str();
    let mut zf = Zonefile::from(text);
    zf.set_origin(to_domain_name(origin));
    zf.set_default_class(Class::IN);
    let mut out = Vec::new();
    let mut prev_offset = 0usize;
    loop {
        let line = entry_start_line(text, prev_offset) - 1;
        let entry = match zf.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                let mut err = scanner_error(&e.to_string(), line + 1);
                err.line = err.line.saturating_sub(1).max(1);
                return Err(err);
            }
        };
        prev_offset = zf.current_offset();
        match entry {
            Entry::Include { .. } => {
                return Err(TextError {
                    line,
                    message: "$INCLUDE is not allowed in an uploaded zone file".into(),
                })
            }
            Entry::Record(rec) => {
                if rec.class() != Class::IN {
                    return Err(TextError {
                        line,
                        message: format!("class {} is not supported, only IN", rec.class()),
                    });
                }
                let ttl = rec.ttl().as_secs();
                if ttl > MAX_TTL {
                    return Err(TextError {
                        line,
                        message: format!("TTL {ttl} is larger than {MAX_TTL} (RFC 2181 §8)"),
                    });
                }
                let mut rdata = Vec::new();
                rec.data()
                    .compose_rdata(&mut rdata)
                    .map_err(|_| TextError {
                        line,
                        message: "RDATA too long".into(),
                    })?;
                if rdata.len() > 65535 {
                    return Err(TextError {
                        line,
                        message: "RDATA longer than 65535 octets".into(),
                    });
                }
                out.push(ParsedLine {
                    line,
                    record: Record {
                        owner: Name::from_domain(rec.owner()),
                        rtype: rec.rtype().to_int(),
                        ttl,
                        rdata: Bytes::from(rdata),
                    },
                });
            }
        }
    }
    Ok(out)
}

/// Parses the presentation form of one record's RDATA (`content`) for `owner` and type `rtype`
/// (a mnemonic or `TYPEnnn`); relative names in the content are relative to `origin`.
pub fn parse_rdata(
    owner: &Name,
    rtype: &str,
    ttl: u32,
    content: &str,
    origin: &Name,
) -> Result<Record, String> {
    if content.contains(['\n', '\r']) {
        return Err("content must be on one line".into());
    }
    if content.trim().is_empty() {
        return Err("content is empty".into());
    }
    let line = format!("{} {} IN {} {}\n", owner.to_fqdn(), ttl, rtype, content);
    let mut records = parse_zonefile(&line, origin, ttl).map_err(|e| {
        // The line number is meaningless for a single field; keep only the message.
        e.message
    })?;
    if records.len() != 1 {
        return Err("content must hold exactly one record".into());
    }
    let rec = records.remove(0).record;
    Ok(Record { ttl, ..rec })
}

/// Presentation form of RDATA, as in a zone file (names absolute, with the trailing dot).
/// Types the scanner does not know are shown in RFC 3597 `\# len hex` form.
pub fn rdata_to_text(rtype: u16, rdata: &[u8]) -> String {
    let mut parser = octseq::Parser::from_ref(rdata);
    let parsed = domain::rdata::ZoneRecordData::<&[u8], domain::base::ParsedName<&[u8]>>::parse_rdata(
        domain::base::iana::Rtype::from_int(rtype),
        &mut parser,
    );
    match parsed {
        Ok(Some(data)) if parser.remaining() == 0 => data.to_string(),
        _ => unknown_form(rdata),
    }
}

/// A whole record as one zone-file line.
pub fn record_to_line(rec: &Record) -> String {
    format!(
        "{}\t{}\tIN\t{}\t{}",
        rec.owner.to_fqdn(),
        rec.ttl,
        rtype_name(rec.rtype),
        rdata_to_text(rec.rtype, &rec.rdata)
    )
}

/// RFC 3597 §5 generic form.
pub fn unknown_form(rdata: &[u8]) -> String {
    let mut s = format!("\\# {}", rdata.len());
    if !rdata.is_empty() {
        s.push(' ');
        for b in rdata {
            s.push_str(&format!("{b:02x}"));
        }
    }
    s
}

fn to_domain_name(name: &Name) -> domain::base::Name<Bytes> {
    domain::base::Name::from_octets(Bytes::copy_from_slice(name.as_wire()))
        .expect("Name is always valid wire form")
}

/// The 1-based line of the first token at or after `offset`, skipping blanks, comments and
/// directives (which the scanner consumes together with the next record).
fn entry_start_line(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    let mut pos = offset.min(bytes.len());
    let mut at_line_start = pos == 0 || bytes.get(pos.wrapping_sub(1)) == Some(&b'\n');
    while pos < bytes.len() {
        match bytes[pos] {
            b' ' | b'\t' | b'\r' => pos += 1,
            b'\n' => {
                pos += 1;
                at_line_start = true;
            }
            b';' => {
                while pos < bytes.len() && bytes[pos] != b'\n' {
                    pos += 1;
                }
            }
            b'$' if at_line_start && !bytes[pos..].starts_with(b"$INCLUDE") => {
                while pos < bytes.len() && bytes[pos] != b'\n' {
                    pos += 1;
                }
            }
            _ => break,
        }
    }
    1 + bytes[..pos].iter().filter(|&&b| b == b'\n').count()
}

fn scanner_error(msg: &str, fallback_line: usize) -> TextError {
    // The scanner reports "line:col: message".
    let mut parts = msg.splitn(3, ':');
    if let (Some(l), Some(_c), Some(m)) = (parts.next(), parts.next(), parts.next()) {
        if let Ok(line) = l.trim().parse::<usize>() {
            return TextError {
                line,
                message: m.trim().to_string(),
            };
        }
    }
    TextError {
        line: fallback_line,
        message: msg.to_string(),
    }
}

/// Presentation of the classes we refuse, for messages.
pub fn class_name(class: u16) -> String {
    if class == CLASS_IN {
        "IN".into()
    } else {
        Class::from_int(class).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::rtype;

    fn origin() -> Name {
        Name::parse("example.com").unwrap()
    }

    #[test]
    fn zonefile_with_lines() {
        let text = "$TTL 600\n; comment\n@ IN SOA ns1 hostmaster 5 7200 3600 1209600 300\n  IN NS ns1\nns1 IN A 192.0.2.1\nwww 60 IN CNAME ns1\n";
        let recs = parse_zonefile(text, &origin(), 300).unwrap();
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[0].line, 3);
        assert_eq!(recs[0].record.rtype, rtype::SOA);
        assert_eq!(recs[1].line, 4);
        assert_eq!(recs[1].record.owner, origin());
        assert_eq!(recs[2].record.ttl, 600);
        assert_eq!(recs[3].record.ttl, 60);
        assert_eq!(recs[3].line, 6);
    }

    #[test]
    fn bad_line_is_named() {
        let text = "@ 300 IN NS ns1\nbad 300 IN A 999.1.1.1\n";
        let err = parse_zonefile(text, &origin(), 300).unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }

    #[test]
    fn include_refused() {
        let text = "@ 300 IN NS ns1\n$INCLUDE /etc/passwd\n";
        let err = parse_zonefile(text, &origin(), 300).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("$INCLUDE"));
    }

    #[test]
    fn absurd_ttl_refused() {
        let err = parse_zonefile("@ 4294967295 IN A 1.2.3.4\n", &origin(), 300).unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("TTL"), "{err}");
    }

    #[test]
    fn rdata_round_trip() {
        let o = origin();
        for (t, content) in [
            ("MX", "10 mail.example.com."),
            ("TXT", "\"hello world\""),
            ("CAA", "0 issue \"letsencrypt.org\""),
            ("SRV", "10 5 443 srv.example.com."),
            ("TYPE65534", "\\# 3 abcdef"),
            ("AAAA", "2001:db8::1"),
        ] {
            let rec = parse_rdata(&o, t, 300, content, &o).unwrap();
            let shown = rdata_to_text(rec.rtype, &rec.rdata);
            let again = parse_rdata(&o, t, 300, &shown, &o).unwrap();
            assert_eq!(rec.rdata, again.rdata, "{t} {content} -> {shown}");
        }
        let rec = parse_rdata(&o, "MX", 300, "10 mail", &o).unwrap();
        assert_eq!(rdata_to_text(rec.rtype, &rec.rdata), "10 mail.example.com.");
    }

    #[test]
    fn one_record_only() {
        let o = origin();
        assert!(parse_rdata(&o, "A", 300, "1.2.3.4\nx IN A 1.2.3.4", &o).is_err());
        assert!(parse_rdata(&o, "A", 300, "", &o).is_err());
        assert!(parse_rdata(&o, "A", 300, "not-an-ip", &o).is_err());
    }
}
