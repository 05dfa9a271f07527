//! Zone-file presentation form (RFC 1035 §5, RFC 3597 §5) to and from [`Record`]s.
//!
//! The scanner of the `domain` crate does the tokenising and per-type RDATA parsing; this module
//! adds what an uploaded file needs on top: line numbers in every error, no `$INCLUDE` (an upload
//! must never read a local file), class IN only, TTLs within RFC 2181 §8. RDATA written as
//! text reads back to the same octets, the case of embedded names included (RFC 4343 §4.1).

use crate::name::Name;
use crate::record::{parse_rtype, rtype_name, Record, CLASS_IN};
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
///
/// A large file is read in two halves at once, on two threads, when the second half can be
/// read on its own ([`split_point`]); the records and the first error (by line) are the same
/// as one pass gives.
pub fn parse_zonefile(
    text: &str,
    origin: &Name,
    default_ttl: u32,
) -> Result<Vec<ParsedLine>, TextError> {
    let entries: Vec<Logical<'_>> = logical_entries(text).collect();
    // Without `$ORIGIN`, every relative name is relative to `origin`: the plain entries of
    // [`plain_address`] may then be read without the scanner.
    let plain = !entries.iter().any(|e| is_directive(e, "$ORIGIN"));
    let read = |part, len, ttl| parse_entries(part, len, origin, default_ttl, ttl, plain);
    let Some((at, ttl)) = split_point(&entries) else {
        return read(&entries, text.len(), None);
    };
    let (first, second) = entries.split_at(at);
    let second_len: usize = second.iter().map(|e| e.1.len()).sum();
    std::thread::scope(|scope| {
        let later = scope.spawn(|| read(second, second_len, ttl));
        let mut out = read(first, text.len() - second_len, None);
        let later = later.join().unwrap_or_else(|_| {
            Err(TextError {
                line: second[0].0,
                message: "the zone-file scanner cannot read this file".into(),
            })
        });
        // The first half's error comes first, as it would in one pass.
        if let Ok(records) = &mut out {
            records.extend(later?);
        }
        out
    })
}

/// A logical entry of a zone file: the line it starts on, its text, and whether its
/// parentheses balance ([`logical_entries`]).
type Logical<'a> = (usize, &'a str, bool);

/// Files of fewer entries are read in one pass.
const SPLIT_MIN: usize = 20_000;

/// Where the second half of a file may start, and the last `$TTL` entry before it, when the
/// half reads on its own exactly as it would after the first: the file has no `$ORIGIN` or
/// `$INCLUDE` (so every half starts at the origin given), and the entry it starts with names
/// its owner and its TTL (so nothing is taken over from the entry before). The last `$TTL`
/// before it is given to it again. `None`: read the file in one pass.
fn split_point<'a>(entries: &[Logical<'a>]) -> Option<(usize, Option<&'a str>)> {
    if entries.len() < SPLIT_MIN {
        return None;
    }
    let directive = |e: &Logical<'_>| e.1.trim_start().starts_with('$');
    let is_ttl = |e: &Logical<'_>| is_directive(e, "$TTL");
    if entries.iter().any(|e| directive(e) && !is_ttl(e)) {
        return None;
    }
    let middle = entries.len() / 2;
    let at = (middle..entries.len().min(middle + 4096)).find(|&i| stands_alone(&entries[i]))?;
    let ttl = entries[..at].iter().rev().find(|e| is_ttl(e)).map(|e| e.1);
    Some((at, ttl))
}

/// Whether an entry is the directive `name` (`$TTL`, `$ORIGIN`; any case).
fn is_directive(e: &Logical<'_>, name: &str) -> bool {
    e.1.trim_start()
        .get(..name.len())
        .is_some_and(|d| d.eq_ignore_ascii_case(name))
}

/// Whether an entry starts with its owner and then its TTL, and its parentheses balance.
fn stands_alone(e: &Logical<'_>) -> bool {
    let (_, text, balanced) = *e;
    if !balanced || text.starts_with(|c: char| c.is_whitespace() || c == ';' || c == '$') {
        return false;
    }
    let mut tokens = text.split_ascii_whitespace();
    let owner = tokens
        .next()
        .is_some_and(|t| !t.contains(['(', ')', '"', ';']));
    let ttl = tokens
        .next()
        .is_some_and(|t| t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty());
    owner && ttl
}

/// Parses entries in one pass: [`parse_zonefile`] for a run of entries of `len` octets, after
/// `ttl` (a `$TTL` entry of the file before them) when given. With `plain`, the entries of
/// [`plain_address`]'s shape are read without the scanner, unless the entry after one takes
/// its owner over (the scanner must then have seen it).
fn parse_entries(
    entries: &[Logical<'_>],
    len: usize,
    origin: &Name,
    default_ttl: u32,
    ttl: Option<&str>,
    plain: bool,
) -> Result<Vec<ParsedLine>, TextError> {
    let mut zf = Zonefile::with_capacity(len + 16);
    zf.set_origin(to_domain_name(origin));
    zf.set_default_class(Class::IN);
    // A `$TTL` in front supplies the default TTL for records before any `$TTL` of the file.
    zf.extend_from_slice(format!("$TTL {default_ttl}\n").as_bytes());
    if let Some(ttl) = ttl {
        zf.extend_from_slice(ttl.trim_end().as_bytes());
        zf.extend_from_slice(b"\n");
    }
    let mut out = Vec::with_capacity(entries.len());
    // The scanner is fed one logical entry at a time so every record and every error can be
    // tied to the line the entry starts on.
    for (i, &(line, entry_text, balanced)) in entries.iter().enumerate() {
        if plain && balanced && !entries.get(i + 1).is_some_and(takes_owner_over) {
            if let Some(record) = plain_address(entry_text, origin) {
                out.push(ParsedLine { line, record });
                continue;
            }
        }
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
        // Types whose presentation the scanner cannot read reach it in the generic form.
        let rewritten = match own_type_entry(entry_text) {
            Some(Ok(text)) => Some(text),
            Some(Err(message)) => return Err(TextError { line, message }),
            None => None,
        };
        let entry_text = rewritten.as_deref().unwrap_or(entry_text);
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

/// Whether an entry is a record without an owner of its own: it takes the owner of the
/// record before it (RFC 1035 §5.1).
fn takes_owner_over(e: &Logical<'_>) -> bool {
    let text = e.1;
    let rest = text.trim_start();
    text.starts_with([' ', '\t']) && !rest.is_empty() && !rest.starts_with(';')
}

/// A record entry of the shape most of a large zone file has, `owner TTL IN A|AAAA address`
/// (an owner of letter, digit, `-` and `_` labels, relative or absolute, or `@`; the TTL in
/// seconds; a comment after it allowed), read without the scanner and giving what the scanner
/// gives; `None` for every other entry, which the scanner reads (and names what is wrong).
fn plain_address(entry: &str, origin: &Name) -> Option<Record> {
    use crate::record::rtype::{A, AAAA};
    let text = entry.split_once(';').map_or(entry, |(before, _)| before);
    if entry.starts_with(|c: char| c.is_ascii_whitespace())
        || text
            .bytes()
            .any(|b| matches!(b, b'"' | b'(' | b')' | b'\\' | b'$'))
    {
        return None;
    }
    let mut tokens = text.split_ascii_whitespace();
    let (owner, ttl, class, rtype, address) = (
        tokens.next()?,
        tokens.next()?,
        tokens.next()?,
        tokens.next()?,
        tokens.next()?,
    );
    if tokens.next().is_some() || !class.eq_ignore_ascii_case("IN") {
        return None;
    }
    if ttl.is_empty() || ttl.len() > 10 || !ttl.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ttl = ttl.parse::<u32>().ok().filter(|&t| t <= MAX_TTL)?;
    let (rtype, rdata) = if rtype.eq_ignore_ascii_case("A") {
        let a: std::net::Ipv4Addr = address.parse().ok()?;
        (A, Bytes::copy_from_slice(&a.octets()))
    } else if rtype.eq_ignore_ascii_case("AAAA") {
        let a: std::net::Ipv6Addr = address.parse().ok()?;
        (AAAA, Bytes::copy_from_slice(&a.octets()))
    } else {
        return None;
    };
    Some(Record {
        owner: plain_owner(owner, origin)?,
        rtype,
        ttl,
        rdata,
    })
}

/// An owner of [`plain_address`]'s shape as a name below or at `origin`.
fn plain_owner(text: &str, origin: &Name) -> Option<Name> {
    if text == "@" {
        return Some(origin.clone());
    }
    let (labels, absolute) = match text.strip_suffix('.') {
        Some(labels) => (labels, true),
        None => (text, false),
    };
    let mut wire = Vec::with_capacity(text.len() + 1 + origin.as_wire().len());
    for label in labels.split('.') {
        let plain = label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        // The length must fit its octet; `Name::from_wire` refuses labels over 63 octets and
        // names over 255, and lowercases.
        if label.is_empty() || label.len() > 63 || !plain {
            return None;
        }
        wire.push(label.len() as u8);
        wire.extend_from_slice(label.as_bytes());
    }
    if absolute {
        wire.push(0);
    } else {
        wire.extend_from_slice(origin.as_wire());
    }
    Name::from_wire(&wire).ok()
}

/// An entry whose type is one of [`crate::present::parses`], rewritten with its RDATA in the
/// RFC 3597 generic form; `None` for every other entry.
fn own_type_entry(entry: &str) -> Option<Result<String, String>> {
    if entry.trim_start().starts_with('$') || !may_name_own_type(entry) {
        return None;
    }
    // These types hold no quoted strings, so a `;` always starts the comment.
    let text = entry.split(';').next().unwrap_or_default();
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|t| !t.is_empty())
        .collect();
    let has_owner = !entry.starts_with([' ', '\t']);
    let mut i = usize::from(has_owner);
    for _ in 0..2 {
        let t = tokens.get(i)?;
        let class = t.eq_ignore_ascii_case("IN")
            || t.eq_ignore_ascii_case("CH")
            || t.eq_ignore_ascii_case("HS")
            || t.eq_ignore_ascii_case("CS")
            || t.to_ascii_uppercase().starts_with("CLASS");
        if class || t.starts_with(|c: char| c.is_ascii_digit()) {
            i += 1;
        }
    }
    let rtype = parse_rtype(tokens.get(i)?)?;
    let rdata = tokens[i + 1..].join(" ");
    if !crate::present::parses(rtype) || rdata.starts_with("\\#") {
        return None;
    }
    Some(
        crate::present::parse(rtype, &rdata)
            .map(|rd| {
                let prefix = tokens[..=i].join(" ");
                let lead = if has_owner { "" } else { " " };
                format!("{lead}{prefix} {}\n", unknown_form(&rd))
            })
            .map_err(|e| format!("{} RDATA: {e}", rtype_name(rtype))),
    )
}

/// What [`may_name_own_type`] looks for: the mnemonics of [`crate::present::parses`] and the
/// RFC 3597 form.
const OWN_TYPE_WORDS: [&str; 4] = ["LOC", "CERT", "SMIMEA", "TYPE"];

/// Whether an entry could be of a type of [`crate::present::parses`]: its text holds one of
/// their mnemonics, or `TYPE` (the RFC 3597 form of any type), in any case. Most entries do
/// not, and are passed over without being split into tokens.
fn may_name_own_type(entry: &str) -> bool {
    OWN_TYPE_WORDS.iter().any(|word| {
        entry
            .as_bytes()
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
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
    let generic = content.trim_start().starts_with("\\#");
    if let Some(t) = parse_rtype(rtype).filter(|t| crate::present::parses(*t) && !generic) {
        let rdata = crate::present::parse(t, content)?;
        crate::rdata::check(t, &rdata).map_err(|e| e.to_string())?;
        return Ok(Record::new(owner.clone(), t, ttl, rdata));
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
    if let Some(text) = crate::present::render(rtype, rdata) {
        return text;
    }
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

/// How the API shows a record's RDATA (PRODUCT §3 "API conventions"): content, and the
/// priority of MX, SRV and URI apart. Names standing alone in content (CNAME, NS, PTR, DNAME,
/// the MX exchange, the SRV target, the SOA MNAME and RNAME) have no trailing dot, as the
/// provider shows them; the root stays `.`. TXT is shown unquoted when that reads back to the
/// same RDATA ([`txt_content`]). Every other type is in zone-file presentation form.
pub fn api_content(record: &Record) -> (String, Option<u16>) {
    let rd = &record.rdata;
    use crate::record::rtype;
    if record.rtype == rtype::URI && rd.len() > 4 {
        let priority = u16::from_be_bytes([rd[0], rd[1]]);
        let weight = u16::from_be_bytes([rd[2], rd[3]]);
        return (format!("{weight} \"{}\"", quote(&rd[4..])), Some(priority));
    }
    if record.rtype == rtype::TXT {
        if let Some(text) = txt_content(rd) {
            return (text, None);
        }
    }
    let text = rdata_to_text(record.rtype, rd);
    if text.starts_with("\\#") {
        return (text, None);
    }
    match record.rtype {
        rtype::CNAME | rtype::NS | rtype::PTR | rtype::DNAME => (undotted(&text).into(), None),
        rtype::MX | rtype::SRV => match text.split_once(' ') {
            Some((p, rest)) if p.parse::<u16>().is_ok() => {
                let rest = match rest.rsplit_once(' ') {
                    Some((front, target)) => format!("{front} {}", undotted(target)),
                    None => undotted(rest).to_string(),
                };
                (rest, p.parse().ok())
            }
            _ => (text, None),
        },
        rtype::SOA => {
            let mut parts = text.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(m), Some(r), Some(rest)) => {
                    (format!("{} {} {rest}", undotted(m), undotted(r)), None)
                }
                _ => (text, None),
            }
        }
        _ => (text, None),
    }
}

/// A presentation-form name without its trailing dot, except the root and names of one label:
/// content reads a name with a dot as absolute and one label as relative to the zone, so
/// `tld.` must keep its dot to mean the same name when sent back.
fn undotted(name: &str) -> &str {
    let Some(n) = name.strip_suffix('.') else {
        return name;
    };
    // A final `\.` is an escaped dot inside the last label, not the root label.
    if n.ends_with('\\') && !n.ends_with("\\\\") {
        return name;
    }
    let mut escaped = false;
    let mut dotted = false;
    for c in n.chars() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '.') => dotted = true,
            _ => {}
        }
    }
    if dotted {
        n
    } else {
        name
    }
}

/// The most octets in one TXT character-string (RFC 1035 §3.3).
pub const TXT_STRING_MAX: usize = 255;

/// TXT RDATA as unquoted content, when unquoted content reads back to it: the RDATA is one
/// text value split into 255-octet strings (all full but the last, which is not empty), the
/// text is UTF-8 without control characters, has no space at either end, and does not start
/// with `"` or `\#` (which would make it quoted or generic content).
pub fn txt_content(rdata: &[u8]) -> Option<String> {
    let mut text = Vec::with_capacity(rdata.len());
    let mut rest = rdata;
    while let Some((&len, tail)) = rest.split_first() {
        let len = len as usize;
        if tail.len() < len || len == 0 {
            return None;
        }
        // Only the last string may be shorter than the maximum.
        if len < TXT_STRING_MAX && tail.len() != len {
            return None;
        }
        text.extend_from_slice(&tail[..len]);
        rest = &tail[len..];
    }
    let text = String::from_utf8(text).ok()?;
    let plain = !text.is_empty()
        && !text.chars().any(char::is_control)
        && text.trim() == text
        && !text.starts_with('"')
        && !text.starts_with("\\#");
    plain.then_some(text)
}

/// Unquoted TXT content as RDATA: its octets split into 255-octet character-strings.
pub fn txt_rdata(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut rd = Vec::with_capacity(bytes.len() + bytes.len() / TXT_STRING_MAX + 1);
    for chunk in bytes.chunks(TXT_STRING_MAX) {
        rd.push(chunk.len() as u8);
        rd.extend_from_slice(chunk);
    }
    rd
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

    #[test]
    fn api_content_is_the_providers_shape() {
        let o = origin();
        let show = |t: &str, c: &str| api_content(&parse_rdata(&o, t, 300, c, &o).unwrap());
        assert_eq!(
            show("CNAME", "web.example.net."),
            ("web.example.net".into(), None)
        );
        assert_eq!(show("MX", "10 mail"), ("mail.example.com".into(), Some(10)));
        assert_eq!(show("MX", "0 ."), (".".into(), Some(0)));
        assert_eq!(
            show("SRV", "1 5 443 sip.example.net."),
            ("5 443 sip.example.net".into(), Some(1))
        );
        assert_eq!(
            show("SOA", "ns1 hostmaster 5 7200 3600 1209600 300").0,
            "ns1.example.com hostmaster.example.com 5 7200 3600 1209600 300"
        );
        assert_eq!(show("CNAME", "a\\.b.example.net.").0, "a\\.b.example.net");
        assert_eq!(show("CNAME", "tld.").0, "tld.", "one label keeps its dot");
        assert_eq!(
            show("CNAME", "a\\.b.").0,
            "a\\.b.",
            "one label with an escaped dot"
        );
        assert_eq!(show("TXT", "\"v=spf1 a ~all\"").0, "v=spf1 a ~all");
        assert_eq!(show("TXT", "\"a\" \"b\"").0, "\"a\" \"b\"");
        assert_eq!(show("TXT", "\"\"").0, "\"\"");
        assert_eq!(show("TXT", "\" lead\"").0, "\" lead\"");
        assert_eq!(
            show("SSHFP", "2 1 ( 123456789ABCDEF67890123456789ABCDEF67890 )").0,
            "2 1 123456789abcdef67890123456789abcdef67890"
        );
        assert_eq!(show("TLSA", "3 1 1 ABCDEF").0, "3 1 1 abcdef");
        assert_eq!(show("DS", "2371 13 2 1F98").0, "2371 13 2 1f98");
    }

    #[test]
    fn long_txt_splits_and_reads_back_unquoted() {
        let text = format!("v=DKIM1; k=rsa; p={}", "A".repeat(400));
        let rd = txt_rdata(&text);
        assert_eq!(rd[0], 255);
        assert_eq!(rd[256] as usize, text.len() - 255);
        assert_eq!(txt_content(&rd).as_deref(), Some(text.as_str()));
        // Not a split of one value: a short string before the last.
        assert_eq!(txt_content(&[1, b'a', 1, b'b']), None);
        assert_eq!(txt_content(&[2, b'a', 0x07]), None);
    }

    #[test]
    fn zone_files_take_loc_cert_and_smimea() {
        let text = "@ IN LOC 52 14 05 N 00 08 50 E 10m ; a comment\n\
                    _smime IN SMIMEA 3 1 1 ( ABCD\n EF01 )\n\
                    \t300 IN CERT PGP 0 0 AQID\n";
        let recs = parse_zonefile(text, &origin(), 300).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(
            rdata_to_text(recs[0].record.rtype, &recs[0].record.rdata),
            "52 14 5.000 N 0 8 50.000 E 10.00m 1.00m 10000.00m 10.00m"
        );
        assert_eq!(
            recs[1].record.rdata.as_ref(),
            &[3, 1, 1, 0xab, 0xcd, 0xef, 1]
        );
        assert_eq!(
            recs[2].record.owner,
            Name::parse("_smime.example.com").unwrap()
        );
        assert_eq!(recs[2].line, 4);
        let err = parse_zonefile("@ IN LOC 95 N 0 E 0m\n", &origin(), 300).unwrap_err();
        assert!(err.message.contains("LOC RDATA"), "{err}");
    }

    /// One pass over the whole file, as [`parse_zonefile`] reads a small one.
    fn one_pass(text: &str) -> Result<Vec<ParsedLine>, TextError> {
        let entries: Vec<Logical<'_>> = logical_entries(text).collect();
        parse_entries(&entries, text.len(), &origin(), 300, None, false)
    }

    fn same(a: &Result<Vec<ParsedLine>, TextError>, b: &Result<Vec<ParsedLine>, TextError>) {
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.len(), b.len());
                for (x, y) in a.iter().zip(b) {
                    assert_eq!((x.line, &x.record), (y.line, &y.record));
                }
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            _ => panic!(
                "one pass {a:?}, two halves {b:?}",
                a = a.is_ok(),
                b = b.is_ok()
            ),
        }
    }

    /// A file large enough to be read in two halves, whose lines lean on what comes before
    /// them: owners left out, TTLs left out, `$TTL` changes, entries over several lines,
    /// comments and blank lines.
    fn large_file(bad_at: &[usize]) -> String {
        let mut text = String::new();
        for i in 0..SPLIT_MIN + 5000 {
            match i % 7 {
                _ if bad_at.contains(&i) => text.push_str(&format!("bad{i} 300 IN A 300.0.0.1\n")),
                0 => text.push_str(&format!(
                    "h{i} 120 IN A 10.0.{}.{}\n",
                    i / 250 % 250,
                    i % 250
                )),
                1 => text.push_str(&format!("   IN TXT \"after h{}\" ; same owner\n", i - 1)),
                2 => text.push_str(&format!("t{i} IN AAAA 2001:db8::{:x}\n", i)),
                3 => text.push_str(&format!("$TTL {}\n", 60 + i % 1000)),
                4 => text.push_str(&format!("m{i} 300 IN MX ( 10\n  mail{i} )\n")),
                5 => text.push_str("\n; a comment\n"),
                _ => text.push_str(&format!("n{i} IN NS ns{i}.example.net.\n")),
            }
        }
        text
    }

    #[test]
    fn two_halves_read_what_one_pass_reads() {
        let text = large_file(&[]);
        let entries: Vec<Logical<'_>> = logical_entries(&text).collect();
        let (at, ttl) = split_point(&entries).expect("the file splits");
        assert!(ttl.is_some_and(|t| t.starts_with("$TTL")));
        // The second half starts with an owner and a TTL of its own.
        assert!(stands_alone(&entries[at]));
        let whole = one_pass(&text);
        let count = whole.as_ref().map(Vec::len).map_err(|e| e.to_string());
        assert!(
            count.as_ref().is_ok_and(|&n| n > SPLIT_MIN / 2),
            "{count:?}"
        );
        same(&whole, &parse_zonefile(&text, &origin(), 300));
    }

    #[test]
    fn two_halves_name_the_first_bad_line() {
        let n = SPLIT_MIN + 5000;
        for bad in [vec![7], vec![n - 10], vec![14, n - 3], vec![n / 2 + 1]] {
            let text = large_file(&bad);
            let whole = one_pass(&text);
            assert!(whole.is_err(), "{bad:?}");
            same(&whole, &parse_zonefile(&text, &origin(), 300));
        }
    }

    #[test]
    fn a_file_with_origin_or_include_is_read_in_one_pass() {
        let mut text = large_file(&[]);
        text.push_str("$ORIGIN sub.example.com.\nx 300 IN A 192.0.2.1\n");
        let entries: Vec<Logical<'_>> = logical_entries(&text).collect();
        assert!(split_point(&entries).is_none());
        let recs = parse_zonefile(&text, &origin(), 300).unwrap();
        assert_eq!(
            recs.last().unwrap().record.owner,
            Name::parse("x.sub.example.com").unwrap()
        );
        let small = "@ 300 IN NS ns1\n";
        assert!(split_point(&logical_entries(small).collect::<Vec<_>>()).is_none());
    }

    /// Every entry of the plain shape gives what the scanner gives (record, or error and its
    /// line), and every entry near it that is not plain is left to the scanner.
    #[test]
    fn plain_entries_read_as_the_scanner_reads_them() {
        let long = "a".repeat(63);
        let too_long = "a".repeat(64);
        let deep = vec!["abcdefghij"; 24].join(".");
        let lines = [
            "h1 300 IN A 192.0.2.1".to_string(),
            "H1.Sub 0300 in a 192.0.2.1 ; a comment".into(),
            "@ 60 IN AAAA 2001:DB8::1".into(),
            "abs.example.com. 60 IN A 10.0.0.1".into(),
            "other.example.org. 60 IN A 10.0.0.1".into(),
            "_srv._tcp 60 IN A 10.0.0.1\r".into(),
            "h2\t300\tIN\tAAAA\t::ffff:192.0.2.9".into(),
            "h3 0 IN A 0.0.0.0".into(),
            "h4 2147483647 IN A 1.2.3.4".into(),
            "h5 2147483648 IN A 1.2.3.4".into(),
            "h6 99999999999 IN A 1.2.3.4".into(),
            "h7 300 IN A 01.2.3.4".into(),
            "h8 300 IN A 1.2.3".into(),
            "h9 300 IN A 256.1.1.1".into(),
            "h10 300 IN AAAA 1::2::3".into(),
            "h11 300 IN AAAA fe80::1%eth0".into(),
            "h12 300 IN A 1.2.3.4 extra".into(),
            "h13 IN 300 A 1.2.3.4".into(),
            "h14 300 CH A 1.2.3.4".into(),
            "h15 300 IN A 1.2.3.4;no space".into(),
            format!("{long} 300 IN A 1.2.3.4"),
            format!("{too_long} 300 IN A 1.2.3.4"),
            format!("{deep} 300 IN A 1.2.3.4"),
            "a..b 300 IN A 1.2.3.4".into(),
            "*.w 300 IN A 1.2.3.4".into(),
            "h16 300 IN A 1.2.3.4\n   300 IN TXT \"same owner\"".into(),
            "h17 300 IN A 1.2.3.4\n; only a comment".into(),
            "h18 300 IN A 1.2.3.4\n\n".into(),
            "h19 300 IN AAAA 2001:db8:0:0:0:0:0:1 ; x".into(),
            "h20 300 IN AAAA 2001:db8::1:2:3:4:5:6:7".into(),
            "h21 300 IN A 1.2.3.4.".into(),
            "h-22 300 IN A +1.2.3.4".into(),
        ];
        for line in &lines {
            let text = format!("{line}\nnext 300 IN A 192.0.2.200\n");
            let entries: Vec<Logical<'_>> = logical_entries(&text).collect();
            let scanner = parse_entries(&entries, text.len(), &origin(), 300, None, false);
            let plain = parse_entries(&entries, text.len(), &origin(), 300, None, true);
            same(&scanner, &plain);
        }
        // The plain entries are the ones taken without the scanner.
        assert!(plain_address("h1 300 IN A 192.0.2.1", &origin()).is_some());
        assert!(plain_address("@ 60 IN AAAA 2001:DB8::1", &origin()).is_some());
        assert!(plain_address("h13 IN 300 A 1.2.3.4", &origin()).is_none());
    }

    /// Every type the presentation parser reads is looked for by `may_name_own_type`.
    #[test]
    fn own_type_words_name_every_type_the_presentation_parser_reads() {
        for t in 0..=u16::MAX {
            if crate::present::parses(t) {
                assert!(OWN_TYPE_WORDS.contains(&rtype_name(t).as_str()), "{t}");
            }
        }
        assert!(may_name_own_type("x 300 IN loc 1 N 1 E 0m"));
        assert!(!may_name_own_type("x 300 IN A 192.0.2.1"));
    }
}
