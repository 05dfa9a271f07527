//! Owner names in the form the zone store keys on: uncompressed, lowercase wire format.
//!
//! RFC 1035 §3.1 (wire form), RFC 4343 (case-insensitive comparison). Keeping owner names
//! lowercased in wire form means every ancestor of a name is a suffix slice of it, so walking
//! from a query name up to the apex needs no allocation (RFC 1034 §4.3.2 step 3).

use std::fmt;

/// Longest domain name in wire form (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Longest label (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// A domain name in lowercase, uncompressed wire form, always absolute.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Box<[u8]>);

/// Why bytes are not a valid wire-form name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("label longer than 63 octets")]
    LongLabel,
    #[error("name longer than 255 octets")]
    LongName,
    #[error("name is not terminated by the root label")]
    Unterminated,
    #[error("bad label type (compression is not allowed here)")]
    BadLabel,
}

impl Name {
    /// The root name.
    pub fn root() -> Self {
        Name(Box::new([0]))
    }

    /// Takes uncompressed wire bytes, validates and lowercases them.
    pub fn from_wire(wire: &[u8]) -> Result<Self, NameError> {
        let len = wire_len(wire)?;
        if len != wire.len() {
            return Err(NameError::Unterminated);
        }
        let mut v = wire.to_vec().into_boxed_slice();
        v.make_ascii_lowercase();
        Ok(Name(v))
    }

    /// Converts a name of the `domain` crate (already validated by it).
    pub fn from_domain(name: &impl domain::base::ToName) -> Self {
        let n: domain::base::Name<Vec<u8>> = name.to_name();
        let mut v = n.into_octets().into_boxed_slice();
        v.make_ascii_lowercase();
        Name(v)
    }

    /// Parses presentation form (`www.example.com` or `www.example.com.`); always absolute.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let text = text.strip_suffix('.').unwrap_or(text);
        if text.is_empty() {
            return Ok(Self::root());
        }
        let full = format!("{text}.");
        let n: domain::base::Name<Vec<u8>> = full.parse().map_err(|_| NameError::BadLabel)?;
        Ok(Self::from_domain(&n))
    }

    /// The wire bytes.
    pub fn as_wire(&self) -> &[u8] {
        &self.0
    }

    /// True when `self` is `apex` or below it.
    pub fn ends_with(&self, apex: &Name) -> bool {
        is_suffix(&self.0, &apex.0)
    }

    /// Number of labels, not counting the root.
    pub fn label_count(&self) -> usize {
        suffixes(&self.0).count() - 1
    }

    /// The name one label up, or `None` for the root.
    pub fn parent(&self) -> Option<Name> {
        if self.0.len() <= 1 {
            return None;
        }
        let skip = 1 + self.0[0] as usize;
        Some(Name(self.0[skip..].to_vec().into_boxed_slice()))
    }

    /// Prepends one label (used for `*.closest-encloser`).
    pub fn prepend(&self, label: &[u8]) -> Result<Name, NameError> {
        if label.len() > MAX_LABEL_LEN {
            return Err(NameError::LongLabel);
        }
        if label.len() + 1 + self.0.len() > MAX_NAME_LEN {
            return Err(NameError::LongName);
        }
        let mut v = Vec::with_capacity(label.len() + 1 + self.0.len());
        v.push(label.len() as u8);
        v.extend(label.iter().map(u8::to_ascii_lowercase));
        v.extend_from_slice(&self.0);
        Ok(Name(v.into_boxed_slice()))
    }

    /// Presentation form with the trailing dot (`www.example.com.`).
    pub fn to_fqdn(&self) -> String {
        self.to_string()
    }

    /// Presentation form without the trailing dot, as the API shows names
    /// (`www.example.com`; the root is `.`).
    pub fn to_api(&self) -> String {
        let s = self.to_string();
        if s.len() > 1 {
            s[..s.len() - 1].to_string()
        } else {
            s
        }
    }
}

impl std::borrow::Borrow<[u8]> for Name {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_presentation(&self.0, f)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

/// Valid wire-form name bytes shown in presentation form, without making a [`Name`] of them
/// (for log lines about names a peer sent).
pub struct WireName<'a>(pub &'a [u8]);

impl fmt::Display for WireName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_presentation(self.0, f)
    }
}

/// Writes uncompressed wire bytes in presentation form, escaping as RFC 1035 §5.1 says.
pub fn write_presentation(wire: &[u8], f: &mut impl fmt::Write) -> fmt::Result {
    let mut pos = 0;
    if wire.len() <= 1 {
        return f.write_char('.');
    }
    while pos < wire.len() {
        let len = wire[pos] as usize;
        if len == 0 {
            break;
        }
        for &b in &wire[pos + 1..pos + 1 + len] {
            match b {
                b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                    f.write_char('\\')?;
                    f.write_char(b as char)?;
                }
                0x21..=0x7e => f.write_char(b as char)?,
                _ => write!(f, "\\{b:03}")?,
            }
        }
        f.write_char('.')?;
        pos += 1 + len;
    }
    Ok(())
}

/// Length of the uncompressed name at the start of `wire`, validating labels.
pub fn wire_len(wire: &[u8]) -> Result<usize, NameError> {
    let mut pos = 0;
    loop {
        let Some(&len) = wire.get(pos) else {
            return Err(NameError::Unterminated);
        };
        if len & 0xC0 != 0 {
            return Err(NameError::BadLabel);
        }
        pos += 1 + len as usize;
        if pos > MAX_NAME_LEN {
            return Err(NameError::LongName);
        }
        if len == 0 {
            return Ok(pos);
        }
    }
}

/// Iterates over the start offsets of every suffix of a valid wire name, from the name itself
/// down to the root label (offset `len - 1`).
pub fn suffixes(wire: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut pos = Some(0usize);
    std::iter::from_fn(move || {
        let p = pos?;
        let len = *wire.get(p)? as usize;
        pos = if len == 0 { None } else { Some(p + 1 + len) };
        Some(p)
    })
}

/// True when `name` equals `apex` or lies below it (both lowercase wire).
pub fn is_suffix(name: &[u8], apex: &[u8]) -> bool {
    if apex.len() > name.len() {
        return false;
    }
    let start = name.len() - apex.len();
    // The suffix must start on a label boundary.
    suffixes(name).any(|o| o == start) && name[start..] == *apex
}

/// DNS canonical order of two lowercase wire names (RFC 4034 §6.1): label by label from the
/// root, each label compared as an octet string (a shorter one first when it is a prefix), and a
/// name that runs out of labels first sorts first. Allocation-free.
pub fn canonical_cmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let (mut sa, mut sb) = ([0u8; 128], [0u8; 128]);
    let na = label_starts(a, &mut sa);
    let nb = label_starts(b, &mut sb);
    for i in 1..=na.min(nb) {
        let la = label_at(a, sa[na - i]);
        let lb = label_at(b, sb[nb - i]);
        match la.cmp(lb) {
            std::cmp::Ordering::Equal => continue,
            other => return other,
        }
    }
    na.cmp(&nb)
}

/// Appends to `key` a byte string whose plain byte order is the canonical order of the name
/// (RFC 4034 §6.1): labels from the root, each followed by a 0 separator, with the octets 0 and 1
/// inside a label escaped as 1 1 and 1 2 so that no label octet sorts with the separator. For
/// sorting many names with one key each instead of comparing labels again at every step.
pub fn canonical_key_into(wire: &[u8], key: &mut Vec<u8>) {
    canonical_key_below(wire, 0, key);
}

/// [`canonical_key_into`] without the `skip` labels nearest the root: for names that all lie
/// at or below one apex of `skip` labels, the keys compare as the whole names' keys do, and
/// differ from their first octet on.
pub fn canonical_key_below(wire: &[u8], skip: usize, key: &mut Vec<u8>) {
    let mut starts = [0u8; 128];
    let n = label_starts(wire, &mut starts);
    for i in (0..n.saturating_sub(skip)).rev() {
        for &b in label_at(wire, starts[i]) {
            match b {
                0 | 1 => key.extend_from_slice(&[1, b + 1]),
                _ => key.push(b),
            }
        }
        key.push(0);
    }
}

/// Offsets of the labels of a valid wire name (not the root), first label first; their count.
pub fn label_starts(wire: &[u8], out: &mut [u8; 128]) -> usize {
    let mut n = 0;
    for off in suffixes(wire) {
        if wire[off] == 0 || n == out.len() {
            break;
        }
        // A valid name is at most 255 octets, so every offset fits.
        out[n] = off as u8;
        n += 1;
    }
    n
}

fn label_at(wire: &[u8], start: u8) -> &[u8] {
    let s = start as usize;
    &wire[s + 1..s + 1 + wire[s] as usize]
}

/// The canonical order by its definition (RFC 4034 §6.1), for tests to check the fast forms
/// against: the labels from the root, compared as a list of octet strings.
#[cfg(test)]
pub(crate) fn canonical_labels(wire: &[u8]) -> Vec<Vec<u8>> {
    let mut labels: Vec<Vec<u8>> = suffixes(wire)
        .filter(|&o| wire[o] != 0)
        .map(|o| wire[o + 1..o + 1 + wire[o] as usize].to_vec())
        .collect();
    labels.reverse();
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let n = Name::parse("WWW.Example.com").unwrap();
        assert_eq!(n.to_string(), "www.example.com.");
        assert_eq!(n.to_api(), "www.example.com");
        assert_eq!(n.label_count(), 3);
        assert_eq!(n.parent().unwrap().to_string(), "example.com.");
        assert_eq!(Name::root().to_api(), ".");
    }

    #[test]
    fn suffix_on_label_boundary_only() {
        let a = Name::parse("example.com").unwrap();
        let b = Name::parse("www.example.com").unwrap();
        let c = Name::parse("xexample.com").unwrap();
        assert!(b.ends_with(&a));
        assert!(a.ends_with(&a));
        assert!(!c.ends_with(&a));
        assert!(!a.ends_with(&b));
    }

    #[test]
    fn wire_validation() {
        assert_eq!(wire_len(&[1, b'a', 0]), Ok(3));
        assert_eq!(wire_len(&[1, b'a']), Err(NameError::Unterminated));
        assert_eq!(wire_len(&[0xC0, 12]), Err(NameError::BadLabel));
        let mut long = Vec::new();
        for _ in 0..5 {
            long.push(63);
            long.extend([b'a'; 63]);
        }
        long.push(0);
        assert_eq!(wire_len(&long), Err(NameError::LongName));
    }

    #[test]
    fn escapes() {
        let n = Name::from_wire(&[3, b'a', b'.', 0xff, 0]).unwrap();
        assert_eq!(n.to_string(), "a\\.\\255.");
    }

    fn canonical_key(wire: &[u8]) -> Vec<u8> {
        let mut key = Vec::new();
        canonical_key_into(wire, &mut key);
        key
    }

    use super::canonical_labels as reference;

    #[test]
    fn canonical_order_is_rfc4034s() {
        // The example of RFC 4034 §6.1, in its order (lowercased; `\001` and `\200` as octets).
        let names: Vec<Name> = [
            &b"\x07example\x00"[..],
            b"\x01a\x07example\x00",
            b"\x08yljkjljk\x01a\x07example\x00",
            b"\x01z\x01a\x07example\x00",
            b"\x04zabc\x01a\x07example\x00",
            b"\x01z\x07example\x00",
            b"\x01\x01\x01z\x07example\x00",
            b"\x01*\x01z\x07example\x00",
            b"\x01\xc8\x01z\x07example\x00",
        ]
        .iter()
        .map(|w| Name::from_wire(w).unwrap())
        .collect();
        for (i, a) in names.iter().enumerate() {
            for (j, b) in names.iter().enumerate() {
                assert_eq!(
                    canonical_cmp(a.as_wire(), b.as_wire()),
                    i.cmp(&j),
                    "{a} vs {b}"
                );
                assert_eq!(
                    canonical_key(a.as_wire()).cmp(&canonical_key(b.as_wire())),
                    i.cmp(&j),
                    "key of {a} vs {b}"
                );
            }
        }
        // Every pair of names over labels with the awkward octets agrees with the definition.
        let labels: [&[u8]; 7] = [b"", b"\x00", b"\x00\x00", b"\x01", b"\x02", b"a", b"a\x00"];
        let mut all = Vec::new();
        for x in &labels[1..] {
            for y in &labels {
                let mut w = Vec::new();
                for l in [*y, *x] {
                    if !l.is_empty() {
                        w.push(l.len() as u8);
                        w.extend_from_slice(l);
                    }
                }
                w.push(0);
                all.push(w);
            }
        }
        for a in &all {
            for b in &all {
                let want = reference(a).cmp(&reference(b));
                assert_eq!(canonical_cmp(a, b), want, "{a:?} vs {b:?}");
                assert_eq!(
                    canonical_key(a).cmp(&canonical_key(b)),
                    want,
                    "key {a:?} vs {b:?}"
                );
            }
        }
    }
}
