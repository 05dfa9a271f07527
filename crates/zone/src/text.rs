//! Zone-file presentation form (RFC 1035 §5, RFC 3597 §5) to and from [`Record`]s.
//!
//! The scanner of the `domain` crate does the tokenising and per-type RDATA parsing; this module
//! adds what an uploaded file needs on top: line numbers in every error, no `$INCLUDE` (an upload
//! must never read a local file), class IN only, TTLs within RFC 2181 §8. RDATA written as
//! text reads back to the same octets, the case of embedded names included (RFC 4343 §4.1).

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
    let mut zf = Zonefile::with_capacity(text.len() + 16);
    zf.set_origin(to_domain_name(origin));
    zf.set_default_class(Class::IN);
    // A `$TTL` in front supplies the default TTL for records before any `$TTL` of the file.
    zf.extend_from_slice(format!("$TTL {default_ttl}\n").as_bytes());
    let mut out = Vec::new();
    // The scanner is fed one logical entry at a time so every record and every error can be
    // tied to the line the entry starts on.
    for (line, entry_text, balanced) in logical_entries(text) {
        // `domain` 0.12.3 indexes past its buffer on a character-string after a `(` that is
        // never closed; such an entry is refused before the scanner sees it.
        if !balanced {
            return Err(TextError {
                line,
                message: "unbalanced parentheses".into(),
            });
        }
        if entry_text.trim_start().starts_with("$INCLUDE") {
            return Err(TextError {
                line,
                message: "$INCLUDE is not allowed in an uploaded zone file".into(),
            });
        }
        zf.extend_from_slice(entry_text.as_bytes());
        if !entry_text.ends_with('\n') {
            zf.extend_from_slice(b"\n");
        }
        loop {
            // The scanner is a third party's and has panicked on input before; a panic here
            // must refuse the upload, not fail the request handler.
            let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| zf.next_entry()));
            let entry = match next {
                Ok(Ok(Some(e))) => e,
                Ok(Ok(None)) => break,
                Ok(Err(e)) => return Err(scanner_error(&e.to_string(), line)),
                Err(_) => {
                    return Err(TextError {
                        line,
                        message: "the zone-file scanner cannot read this entry".into(),
                    })
                }
            };
            let rec = match entry {
                Entry::Include { .. } => {
                    return Err(TextError {
                        line,
                        message: "$INCLUDE is not allowed in an uploaded zone file".into(),
                    })
                }
                Entry::Record(rec) => rec,
            };
            out.push(ParsedLine {
                line,
                record: convert_record(&rec, line)?,
            });
        }
    }
    Ok(out)
}

fn convert_record(
    rec: &domain::zonefile::inplace::ScannedRecord,
    line: usize,
) -> Result<Record, TextError> {
    let err = |message: String| TextError { line, message };
    if rec.class() != Class::IN {
        return Err(err(format!(
            "class {} is not supported, only IN",
            rec.class()
        )));
    }
    let ttl = rec.ttl().as_secs();
    if ttl > MAX_TTL {
        return Err(err(format!(
            "TTL {ttl} is larger than {MAX_TTL} (RFC 2181 §8)"
        )));
    }
    let mut rdata = Vec::new();
    rec.data()
        .compose_rdata(&mut rdata)
        .map_err(|_| err("RDATA too long".into()))?;
    // The scanner takes the generic `\# LEN HEX` form for any type without parsing it, and
    // writes what it is given for names with empty labels: check the result as its type.
    crate::rdata::check(rec.rtype().to_int(), &rdata).map_err(|e| err(e.to_string()))?;
    let owner = Name::from_domain(rec.owner());
    if !crate::record::fits_in_message(&owner, rdata.len()) {
        return Err(err(format!(
            "a record of {} RDATA octets at {} could never fit in a transfer message \
             (owner, 10 octets of type, class, TTL and length, and RDATA: at most {} in all)",
            rdata.len(),
            owner.to_api(),
            crate::record::MAX_TRANSFER_RR_LEN
        )));
    }
    Ok(Record {
        owner,
        rtype: rec.rtype().to_int(),
        ttl,
        rdata: Bytes::from(rdata),
    })
}

/// Splits zone-file text into logical entries (RFC 1035 §5.1: an entry ends at the end of a
/// line unless parentheses are open), each with the 1-based line it starts on and whether its
/// parentheses balance (never closing below zero, all closed at its end). Comments and quoted
/// strings are honoured so a `(` inside either does not continue the entry.
fn logical_entries(text: &str) -> impl Iterator<Item = (usize, &str, bool)> {
    let bytes = text.as_bytes();
    let mut pos = 0usize;
    let mut line = 1usize;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let start = pos;
        let start_line = line;
        let (mut depth, mut quoted, mut escaped, mut comment) = (0i32, false, false, false);
        let mut underflow = false;
        while pos < bytes.len() {
            let b = bytes[pos];
            pos += 1;
            if b == b'\n' {
                line += 1;
                comment = false;
                if depth <= 0 && !quoted {
                    break;
                }
                continue;
            }
            if comment {
                continue;
            }
            if escaped {
                escaped = false;
                continue;
            }
            match b {
                b'\\' => escaped = true,
                b'"' => quoted = !quoted,
                b';' if !quoted => comment = true,
                b'(' if !quoted => depth += 1,
                b')' if !quoted => {
                    depth -= 1;
                    underflow |= depth < 0;
                }
                _ => {}
            }
        }
        Some((start_line, &text[start..pos], depth == 0 && !underflow))
    })
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
/// Types the scanner does not know are shown in RFC 3597 `\# len hex` form, and so is RDATA
/// whose text would not read back to the same octets (see [`faithful`]).
pub fn rdata_to_text(rtype: u16, rdata: &[u8]) -> String {
    let text = typed_text(rtype, rdata);
    if faithful(rtype, rdata, &text) {
        text
    } else {
        unknown_form(rdata)
    }
}

/// Whether `text` reads back to `rdata`. The `domain` crate's presentation does not always
/// read back: it writes `"`, `(`, `)`, `;`, `@` and `$` inside names unescaped, which
/// RFC 1035 §5.1 gives a meaning in a zone file (a label `a"b` becomes the start of a quoted
/// string), and for other types some values come out as other RDATA or as no text at all
/// (RFC 9460 SVCB/HTTPS with empty `alpn` ids or a `,` in the target; RFC 8659 CAA with an
/// empty tag). So every type is read back, except the common ones whose text is only
/// numbers, addresses and names, when their RDATA holds none of those octets.
fn faithful(rtype: u16, rdata: &[u8], text: &str) -> bool {
    use crate::record::rtype::{A, AAAA, CNAME, DNAME, MX, NS, PTR, SOA, SRV};
    if text.starts_with("\\#")
        || (matches!(rtype, A | AAAA | NS | CNAME | PTR | DNAME | MX | SRV | SOA)
            && !rdata
                .iter()
                .any(|b| matches!(b, b'"' | b'(' | b')' | b';' | b'@' | b'$')))
    {
        return true;
    }
    let root = Name::root();
    parse_rdata(&root, &rtype_name(rtype), 0, text, &root).is_ok_and(|r| r.rdata == rdata)
}

fn typed_text(rtype: u16, rdata: &[u8]) -> String {
    if rtype == crate::record::rtype::SRV {
        // The scanner's SRV display leaves the target without its trailing dot, which would
        // make it relative on re-import; RFC 2782 form is written here instead.
        if let Some(text) = srv_text(rdata) {
            return text;
        }
    }
    let mut parser = octseq::Parser::from_ref(rdata);
    let parsed =
        domain::rdata::ZoneRecordData::<&[u8], domain::base::ParsedName<&[u8]>>::parse_rdata(
            domain::base::iana::Rtype::from_int(rtype),
            &mut parser,
        );
    match parsed {
        Ok(Some(data)) if parser.remaining() == 0 => data.to_string().trim_end().to_string(),
        _ => unknown_form(rdata),
    }
}

/// The target is written as stored, case included (RFC 4343 §4.1: case is preserved in
/// RDATA); a [`Name`] would lowercase it, and text read back would be other RDATA.
fn srv_text(rdata: &[u8]) -> Option<String> {
    if rdata.len() < 7 {
        return None;
    }
    let n = |i: usize| u16::from_be_bytes([rdata[i], rdata[i + 1]]);
    let target = &rdata[6..];
    if crate::name::wire_len(target).ok()? != target.len() {
        return None;
    }
    let mut text = format!("{} {} {} ", n(0), n(2), n(4));
    crate::name::write_presentation(target, &mut text).ok()?;
    Some(text)
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

fn scanner_error(msg: &str, line: usize) -> TextError {
    // The scanner reports "line:col: message" with positions of its own buffer; the line of
    // the entry is known here, so keep only the message.
    let message = msg.splitn(3, ':').nth(2).unwrap_or(msg).trim().to_string();
    TextError { line, message }
}

/// Presentation of the classes we refuse, for messages.
pub fn class_name(class: u16) -> String {
    if class == CLASS_IN {
        "IN".into()
    } else {
        Class::from_int(class).to_string()
    }
}

/// How the API shows a record's RDATA: content, and the priority of MX, SRV and URI apart.
pub fn api_content(record: &Record) -> (String, Option<u16>) {
    let rd = &record.rdata;
    use crate::record::rtype;
    if record.rtype == rtype::URI && rd.len() > 4 {
        let priority = u16::from_be_bytes([rd[0], rd[1]]);
        let weight = u16::from_be_bytes([rd[2], rd[3]]);
        return (format!("{weight} \"{}\"", quote(&rd[4..])), Some(priority));
    }
    let text = rdata_to_text(record.rtype, rd);
    if matches!(record.rtype, rtype::MX | rtype::SRV) && !text.starts_with("\\#") {
        if let Some((p, rest)) = text.split_once(' ') {
            if let Ok(p) = p.parse::<u16>() {
                return (rest.to_string(), Some(p));
            }
        }
    }
    (text, None)
}

fn quote(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(b as char);
            }
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\{b:03}")),
        }
    }
    s
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

    /// Found by the `zone_text` and `record_json` fuzz targets: an SRV target lost its case
    /// when shown, and a name holding `"` was shown as a quoted string.
    #[test]
    fn rdata_text_reads_back_to_the_same_octets() {
        let o = origin();
        for (t, content) in [
            ("SRV", "0 5 5060 Sip.Example.COM."),
            ("NS", "a\\\"b.example.com."),
            ("CNAME", "x\\(y\\;z.example.com."),
            ("MX", "10 at\\@dollar\\$.example.com."),
        ] {
            let rec = parse_rdata(&o, t, 300, content, &o).unwrap();
            let shown = rdata_to_text(rec.rtype, &rec.rdata);
            let again = parse_rdata(&o, t, 300, &shown, &o)
                .unwrap_or_else(|e| panic!("{t} {content} shown as {shown}: {e}"));
            assert_eq!(rec.rdata, again.rdata, "{t} {content} -> {shown}");
        }
    }

    #[test]
    fn one_record_only() {
        let o = origin();
        assert!(parse_rdata(&o, "A", 300, "1.2.3.4\nx IN A 1.2.3.4", &o).is_err());
        assert!(parse_rdata(&o, "A", 300, "", &o).is_err());
        assert!(parse_rdata(&o, "A", 300, "not-an-ip", &o).is_err());
    }

    #[test]
    fn unbalanced_parentheses_are_refused_without_a_panic() {
        let o = origin();
        for (text, line) in [
            ("a 300 IN TXT ( \"x\"\n", 1),
            ("a 300 IN TXT ( \"x\"", 1),
            ("@ 300 IN NS ns1\na 300 IN TXT ( \"x\"\n\n", 2),
            ("a 300 IN TXT 1 ( 2\n", 1),
            ("a 300 IN TXT \"x\" )\n", 1),
            ("a 300 IN TXT ) ( \"x\"\n", 1),
        ] {
            let err = std::panic::catch_unwind(|| parse_zonefile(text, &o, 300))
                .unwrap_or_else(|_| panic!("{text:?} panicked"))
                .unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err}");
        }
        // Parentheses inside quotes and comments, and balanced ones, are fine.
        let ok = "a 300 IN TXT \"1 ( 2\"\nb 300 IN TXT ( \"x\" ; (\n \"y\" )\n";
        assert_eq!(parse_zonefile(ok, &o, 300).unwrap().len(), 2);
    }

    #[test]
    fn rdata_malformed_for_its_type_is_refused_with_its_line() {
        let o = origin();
        for bad in [
            "a 300 IN A \\# 3 c00002",
            "a 300 IN A \\# 5 c000020102",
            "a 300 IN MX \\# 1 00",
            "a 300 IN CNAME \\# 2 c00c",
            "a 300 IN CNAME bad..name",
            "a 300 IN NS a..b",
        ] {
            let text = format!("@ 300 IN NS ns1\n{bad}\n");
            let err = parse_zonefile(&text, &o, 300).unwrap_err();
            assert_eq!(err.line, 2, "{bad}: {err}");
        }
        // The generic form of a well-formed record is taken as that record.
        let recs = parse_zonefile("a 300 IN A \\# 4 c0000201\n", &o, 300).unwrap();
        assert_eq!(&recs[0].record.rdata[..], &[192, 0, 2, 1]);
    }
}
