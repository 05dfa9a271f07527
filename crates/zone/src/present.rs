//! Presentation forms the `domain` crate lacks or writes in a shape operators do not expect:
//! LOC (RFC 1876 §3), CERT (RFC 4398 §2.2), SMIMEA (RFC 8162 §2, the TLSA form), and the
//! hex of SSHFP (RFC 4255 §3.2) and TLSA (RFC 6698 §2.2) on one line in lower case, where
//! `domain` writes `( HEX )` in upper case.

use crate::record::rtype::{self, CERT, LOC, SMIMEA};

/// Whether [`parse`] reads this type's presentation form itself.
pub fn parses(t: u16) -> bool {
    matches!(t, LOC | CERT | SMIMEA)
}

/// Wire RDATA of type `t` from its presentation `text`, for the types of [`parses`].
pub fn parse(t: u16, text: &str) -> Result<Vec<u8>, String> {
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|s| !s.is_empty())
        .collect();
    match t {
        LOC => parse_loc(&tokens),
        CERT => parse_cert(&tokens),
        SMIMEA => parse_tlsa_like(&tokens),
        _ => Err(format!("no own parser for type {t}")),
    }
}

/// Presentation of RDATA for the types written here; `None` for the others (or RDATA that
/// does not hold a value of its type).
pub fn render(t: u16, rdata: &[u8]) -> Option<String> {
    match t {
        LOC => render_loc(rdata),
        CERT if rdata.len() >= 5 => Some(format!(
            "{} {} {} {}",
            u16::from_be_bytes([rdata[0], rdata[1]]),
            u16::from_be_bytes([rdata[2], rdata[3]]),
            rdata[4],
            if rdata.len() == 5 {
                "-".to_string()
            } else {
                domain::utils::base64::encode_string(&rdata[5..])
            }
        )),
        SMIMEA | rtype::TLSA if rdata.len() >= 3 => Some(format!(
            "{} {} {} {}",
            rdata[0],
            rdata[1],
            rdata[2],
            hex_or_dash(&rdata[3..])
        )),
        rtype::SSHFP if rdata.len() >= 2 => Some(format!(
            "{} {} {}",
            rdata[0],
            rdata[1],
            hex_or_dash(&rdata[2..])
        )),
        _ => None,
    }
}

/// Lower-case hex; `-` for none (RFC 6698 §2.2 allows no empty field, but the wire does).
fn hex_or_dash(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "-".into();
    }
    hex(bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Hex digits (either case) to octets; whitespace was already removed by the caller.
pub fn unhex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(text.get(i..i + 2).ok_or("not hex")?, 16)
                .map_err(|_| format!("{:?} is not hex", &text[i..i + 2]))
        })
        .collect()
}

fn number<T: std::str::FromStr>(field: &str, text: Option<&&str>) -> Result<T, String> {
    let text = text.ok_or_else(|| format!("{field} is missing"))?;
    text.parse()
        .map_err(|_| format!("{field} {text:?} is not a number in range"))
}

/// `usage selector matching-type hex...` (TLSA and SMIMEA).
fn parse_tlsa_like(tokens: &[&str]) -> Result<Vec<u8>, String> {
    let mut rd = vec![
        number::<u8>("usage", tokens.first())?,
        number::<u8>("selector", tokens.get(1))?,
        number::<u8>("matching type", tokens.get(2))?,
    ];
    let data = tokens.get(3..).unwrap_or_default().concat();
    if data.is_empty() {
        return Err("certificate association data is missing".into());
    }
    rd.extend(unhex(&data)?);
    Ok(rd)
}

/// RFC 4398 §2.1 certificate types by mnemonic.
const CERT_TYPES: &[(&str, u16)] = &[
    ("PKIX", 1),
    ("SPKI", 2),
    ("PGP", 3),
    ("IPKIX", 4),
    ("ISPKI", 5),
    ("IPGP", 6),
    ("ACPKIX", 7),
    ("IACPKIX", 8),
    ("URI", 253),
    ("OID", 254),
];

/// `type key-tag algorithm base64...` (RFC 4398 §2.2); type and algorithm may be mnemonics.
fn parse_cert(tokens: &[&str]) -> Result<Vec<u8>, String> {
    let ctype = match tokens.first() {
        Some(t) => match CERT_TYPES.iter().find(|(m, _)| m.eq_ignore_ascii_case(t)) {
            Some((_, n)) => *n,
            None => number::<u16>("certificate type", Some(t))?,
        },
        None => return Err("certificate type is missing".into()),
    };
    let key_tag = number::<u16>("key tag", tokens.get(1))?;
    let algorithm = match tokens.get(2) {
        Some(a) => match a.parse::<u8>() {
            Ok(n) => n,
            Err(_) => domain::base::iana::SecurityAlgorithm::from_mnemonic(a.as_bytes())
                .ok_or_else(|| format!("algorithm {a:?} is neither a number nor a known mnemonic"))?
                .to_int(),
        },
        None => return Err("algorithm is missing".into()),
    };
    let cert = tokens.get(3..).unwrap_or_default().concat();
    if cert.is_empty() {
        return Err("certificate is missing".into());
    }
    let cert: Vec<u8> = domain::utils::base64::decode(&cert)
        .map_err(|e| format!("certificate is not base64: {e}"))?;
    let mut rd = Vec::with_capacity(5 + cert.len());
    rd.extend_from_slice(&ctype.to_be_bytes());
    rd.extend_from_slice(&key_tag.to_be_bytes());
    rd.push(algorithm);
    rd.extend(cert);
    Ok(rd)
}

/// 2^31, the equator and the prime meridian (RFC 1876 §2).
const LOC_ORIGIN: i64 = 1 << 31;
/// 100,000 m below the WGS 84 reference spheroid, in centimetres (RFC 1876 §2).
const LOC_ALT_BASE: i64 = 10_000_000;

/// `d1 [m1 [s1]] N|S d2 [m2 [s2]] E|W alt[m] [siz[m] [hp[m] [vp[m]]]]` (RFC 1876 §3).
fn parse_loc(tokens: &[&str]) -> Result<Vec<u8>, String> {
    let mut i = 0;
    let mut angle = |dirs: [&str; 2], max_deg: i64, what: &str| -> Result<i64, String> {
        let mut parts = Vec::new();
        while i < tokens.len() && parts.len() < 3 {
            let t = tokens[i];
            if dirs.iter().any(|d| d.eq_ignore_ascii_case(t)) {
                break;
            }
            parts.push(t);
            i += 1;
        }
        let dir = tokens
            .get(i)
            .filter(|t| dirs.iter().any(|d| d.eq_ignore_ascii_case(t)))
            .ok_or_else(|| format!("{what}: expected {} or {}", dirs[0], dirs[1]))?;
        i += 1;
        let deg: i64 = number(&format!("{what} degrees"), parts.first())?;
        let min: i64 = match parts.get(1) {
            Some(m) => number(&format!("{what} minutes"), Some(m))?,
            None => 0,
        };
        let msec = match parts.get(2) {
            Some(s) => thousandths(s).ok_or_else(|| format!("{what} seconds {s:?}"))?,
            None => 0,
        };
        if deg > max_deg || min > 59 || msec > 59_999 || (deg == max_deg && (min, msec) != (0, 0)) {
            return Err(format!("{what} is out of range"));
        }
        let value = ((deg * 60 + min) * 60) * 1000 + msec;
        Ok(if dir.eq_ignore_ascii_case(dirs[0]) {
            LOC_ORIGIN + value
        } else {
            LOC_ORIGIN - value
        })
    };
    let lat = angle(["N", "S"], 90, "latitude")?;
    let lon = angle(["E", "W"], 180, "longitude")?;
    let meters = |t: Option<&&str>, what: &str| -> Result<Option<i64>, String> {
        match t {
            None => Ok(None),
            Some(t) => {
                let t = t.strip_suffix(['m', 'M']).unwrap_or(t);
                centimetres(t)
                    .map(Some)
                    .ok_or_else(|| format!("{what} {t:?} is not a number of metres"))
            }
        }
    };
    let alt = meters(tokens.get(i), "altitude")?.ok_or("altitude is missing")?;
    if !(-LOC_ALT_BASE..=(u32::MAX as i64 - LOC_ALT_BASE)).contains(&alt) {
        return Err("altitude is out of range".into());
    }
    let precision = |t: Option<&&str>, default: i64, what: &str| -> Result<u8, String> {
        let cm = meters(t, what)?.unwrap_or(default);
        encode_precision(cm).ok_or_else(|| format!("{what} is out of range (0..90000000m)"))
    };
    let size = precision(tokens.get(i + 1), 100, "size")?;
    let hp = precision(tokens.get(i + 2), 1_000_000, "horizontal precision")?;
    let vp = precision(tokens.get(i + 3), 1_000, "vertical precision")?;
    if tokens.len() > i + 4 {
        return Err(format!(
            "unexpected {:?} after the LOC fields",
            tokens[i + 4]
        ));
    }
    let mut rd = vec![0, size, hp, vp];
    rd.extend_from_slice(&(lat as u32).to_be_bytes());
    rd.extend_from_slice(&(lon as u32).to_be_bytes());
    rd.extend_from_slice(&((alt + LOC_ALT_BASE) as u32).to_be_bytes());
    Ok(rd)
}

/// `12.748` seconds as 12748 thousandths.
fn thousandths(text: &str) -> Option<i64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || frac.len() > 3 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = format!("{frac:0<3}");
    Some(whole.parse::<i64>().ok()? * 1000 + frac.parse::<i64>().ok()?)
}

/// `-12.5` metres as -1250 centimetres (at most two decimals).
fn centimetres(text: &str) -> Option<i64> {
    let (neg, t) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || frac.len() > 2 {
        return None;
    }
    if !whole
        .bytes()
        .chain(frac.bytes())
        .all(|b| b.is_ascii_digit())
        || whole.len() > 9
    {
        return None;
    }
    let cm = whole.parse::<i64>().ok()? * 100 + format!("{frac:0<2}").parse::<i64>().ok()?;
    Some(if neg { -cm } else { cm })
}

/// RFC 1876 §2: a size as mantissa (high nibble) and power of ten (low nibble) of centimetres.
/// Rounds down to a representable value, as BIND does.
fn encode_precision(cm: i64) -> Option<u8> {
    if !(0..=9_000_000_000).contains(&cm) {
        return None;
    }
    let mut exp = 0u8;
    let mut m = cm;
    while m >= 10 {
        m /= 10;
        exp += 1;
    }
    Some(((m as u8) << 4) | exp)
}

fn decode_precision(b: u8) -> Option<i64> {
    let (m, e) = ((b >> 4) as i64, (b & 0x0f) as u32);
    (m <= 9 && e <= 9).then(|| m * 10i64.pow(e))
}

fn render_loc(rd: &[u8]) -> Option<String> {
    if rd.len() != 16 || rd[0] != 0 {
        return None;
    }
    let u = |i: usize| u32::from_be_bytes([rd[i], rd[i + 1], rd[i + 2], rd[i + 3]]) as i64;
    let angle = |v: i64, dirs: [char; 2]| {
        let (dir, v) = if v >= LOC_ORIGIN {
            (dirs[0], v - LOC_ORIGIN)
        } else {
            (dirs[1], LOC_ORIGIN - v)
        };
        let (deg, rest) = (v / 3_600_000, v % 3_600_000);
        let (min, ms) = (rest / 60_000, rest % 60_000);
        format!("{deg} {min} {}.{:03} {dir}", ms / 1000, ms % 1000)
    };
    let m = |cm: i64| {
        let sign = if cm < 0 { "-" } else { "" };
        format!("{sign}{}.{:02}m", cm.abs() / 100, cm.abs() % 100)
    };
    Some(format!(
        "{} {} {} {} {} {}",
        angle(u(4), ['N', 'S']),
        angle(u(8), ['E', 'W']),
        m(u(12) - LOC_ALT_BASE),
        m(decode_precision(rd[1])?),
        m(decode_precision(rd[2])?),
        m(decode_precision(rd[3])?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loc_round_trips_rfc_1876_examples() {
        for (text, shown) in [
            (
                "42 21 54 N 71 06 18 W -24m 30m",
                "42 21 54.000 N 71 6 18.000 W -24.00m 30.00m 10000.00m 10.00m",
            ),
            (
                "42 21 43.952 N 71 5 6.344 W -24m 1m 200m",
                "42 21 43.952 N 71 5 6.344 W -24.00m 1.00m 200.00m 10.00m",
            ),
            (
                "52 14 05 N 00 08 50 E 10m",
                "52 14 5.000 N 0 8 50.000 E 10.00m 1.00m 10000.00m 10.00m",
            ),
            (
                "32 7 19 S 116 2 25 E 10m",
                "32 7 19.000 S 116 2 25.000 E 10.00m 1.00m 10000.00m 10.00m",
            ),
        ] {
            let rd = parse(LOC, text).unwrap();
            assert_eq!(rd.len(), 16);
            assert_eq!(render(LOC, &rd).unwrap(), shown, "{text}");
            assert_eq!(parse(LOC, shown).unwrap(), rd, "{shown} reads back");
        }
        // RFC 1876 §3's example: 42 21 54 N → 2^31 + 152514000.
        let rd = parse(LOC, "42 21 54 N 71 06 18 W -24m 30m").unwrap();
        assert_eq!(
            u32::from_be_bytes([rd[4], rd[5], rd[6], rd[7]]),
            (1u32 << 31) + 152_514_000
        );
        assert_eq!(rd[1], 0x33, "30m = 3e3 cm");
        for bad in [
            "91 0 0 N 0 E 0m",
            "42 N",
            "42 60 0 N 0 E 0m",
            "42 N 0 E",
            "42 N 0 E 1m 1m 1m 1m 1m",
            "x N 0 E 0m",
        ] {
            assert!(parse(LOC, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cert_and_smimea() {
        let rd = parse(CERT, "PKIX 12345 RSASHA256 AQID BA==").unwrap();
        assert_eq!(rd, [0, 1, 0x30, 0x39, 8, 1, 2, 3, 4]);
        assert_eq!(render(CERT, &rd).unwrap(), "1 12345 8 AQIDBA==");
        assert_eq!(parse(CERT, "1 12345 8 AQIDBA==").unwrap(), rd);
        assert!(parse(CERT, "NOPE 1 8 AQID").is_err());
        assert!(parse(CERT, "1 1 8").is_err());
        let rd = parse(SMIMEA, "3 1 1 ( ABCD ef01 )").unwrap();
        assert_eq!(rd, [3, 1, 1, 0xab, 0xcd, 0xef, 0x01]);
        assert_eq!(render(SMIMEA, &rd).unwrap(), "3 1 1 abcdef01");
        assert!(parse(SMIMEA, "3 1 1 abc").is_err());
        assert_eq!(
            render(rtype::SSHFP, &[2, 1, 0xAB, 0x01]).unwrap(),
            "2 1 ab01"
        );
    }
}
