//! The structured `data` form of a record (PRODUCT §3 "API conventions"): the provider gives
//! CAA, CERT, DNSKEY, DS, HTTPS, LOC, NAPTR, SMIMEA, SRV, SSHFP, SVCB, TLSA and URI records a
//! `data` object beside `content`, with the field names of its API reference. Input `data` is
//! turned into content (zone-file presentation form) and read like content, so both forms obey
//! the same rules (names included: a name with a dot is absolute, one label is in the zone);
//! output `data` is read from the RDATA, like content, so the two always agree.

use crate::ApiError;
use base64::Engine;
use serde_json::{json, Map, Value};
use tandem_zone::present::hex;
use tandem_zone::record::rtype;
use tandem_zone::Record;

/// Whether the provider gives this type a `data` form.
pub fn has_data(t: u16) -> bool {
    matches!(
        t,
        rtype::CAA
            | rtype::CERT
            | rtype::DNSKEY
            | rtype::DS
            | rtype::HTTPS
            | rtype::LOC
            | rtype::NAPTR
            | rtype::SMIMEA
            | rtype::SRV
            | rtype::SSHFP
            | rtype::SVCB
            | rtype::TLSA
            | rtype::URI
    )
}

/// The fields of each type's `data`, in the order of its presentation form.
fn fields(t: u16) -> &'static [&'static str] {
    match t {
        rtype::CAA => &["flags", "tag", "value"],
        rtype::CERT => &["type", "key_tag", "algorithm", "certificate"],
        rtype::DNSKEY => &["flags", "protocol", "algorithm", "public_key"],
        rtype::DS => &["key_tag", "algorithm", "digest_type", "digest"],
        rtype::HTTPS | rtype::SVCB => &["priority", "target", "value"],
        rtype::LOC => &[
            "lat_degrees",
            "lat_minutes",
            "lat_seconds",
            "lat_direction",
            "long_degrees",
            "long_minutes",
            "long_seconds",
            "long_direction",
            "altitude",
            "size",
            "precision_horz",
            "precision_vert",
        ],
        rtype::NAPTR => &[
            "order",
            "preference",
            "flags",
            "service",
            "regex",
            "replacement",
        ],
        rtype::SMIMEA | rtype::TLSA => &["usage", "selector", "matching_type", "certificate"],
        rtype::SRV => &["priority", "weight", "port", "target"],
        rtype::SSHFP => &["algorithm", "type", "fingerprint"],
        rtype::URI => &["weight", "target"],
        _ => &[],
    }
}

/// Fields the provider's SDKs send in `data` beside the ones above, which say nothing the
/// record's name does not (SRV `service`, `proto`, `name`) and are ignored.
const IGNORED: &[&str] = &["service", "proto", "name"];

/// Content (and the priority, for SRV and URI) from a `data` object of type `t`.
pub fn content_from_data(
    t: u16,
    data: &Value,
    priority: Option<u16>,
) -> Result<(String, Option<u16>), ApiError> {
    let name = tandem_zone::record::rtype_name(t);
    if !has_data(t) {
        return Err(ApiError::field(
            "data",
            format!("{name} records take `content`, not `data`"),
        ));
    }
    let obj = data
        .as_object()
        .ok_or_else(|| ApiError::field("data", "must be an object"))?;
    let known = fields(t);
    for key in obj.keys() {
        let ignored = t == rtype::SRV && IGNORED.contains(&key.as_str());
        if !known.contains(&key.as_str()) && !ignored {
            return Err(ApiError::field(
                &format!("data.{key}"),
                format!(
                    "unknown field for {name} records (known: {})",
                    known.join(", ")
                ),
            ));
        }
    }
    let f = Fields { obj };
    let content = match t {
        rtype::CAA => format!(
            "{} {} {}",
            f.int("flags", 255)?,
            f.text("tag")?,
            quoted(&f.text("value")?)
        ),
        rtype::CERT => format!(
            "{} {} {} {}",
            f.int("type", 65535)?,
            f.int("key_tag", 65535)?,
            f.int("algorithm", 255)?,
            f.text("certificate")?
        ),
        rtype::DNSKEY => format!(
            "{} {} {} {}",
            f.int("flags", 65535)?,
            f.int("protocol", 255)?,
            f.int("algorithm", 255)?,
            f.text("public_key")?
        ),
        rtype::DS => format!(
            "{} {} {} {}",
            f.int("key_tag", 65535)?,
            f.int("algorithm", 255)?,
            f.int("digest_type", 255)?,
            f.text("digest")?
        ),
        rtype::HTTPS | rtype::SVCB => format!(
            "{} {} {}",
            f.int("priority", 65535)?,
            f.text("target")?,
            f.opt_text("value")?.unwrap_or_default()
        ),
        rtype::LOC => {
            let dir = |k: &str, allowed: [&str; 2]| -> Result<String, ApiError> {
                let d = f.text(k)?;
                if allowed.iter().any(|a| a.eq_ignore_ascii_case(&d)) {
                    Ok(d.to_ascii_uppercase())
                } else {
                    Err(ApiError::field(
                        &format!("data.{k}"),
                        format!("must be {} or {}", allowed[0], allowed[1]),
                    ))
                }
            };
            format!(
                "{} {} {} {} {} {} {} {} {}m {}m {}m {}m",
                f.int("lat_degrees", 90)?,
                f.int("lat_minutes", 59)?,
                f.decimal("lat_seconds", 3)?,
                dir("lat_direction", ["N", "S"])?,
                f.int("long_degrees", 180)?,
                f.int("long_minutes", 59)?,
                f.decimal("long_seconds", 3)?,
                dir("long_direction", ["E", "W"])?,
                f.decimal("altitude", 2)?,
                f.decimal("size", 2)?,
                f.decimal("precision_horz", 2)?,
                f.decimal("precision_vert", 2)?,
            )
        }
        rtype::NAPTR => format!(
            "{} {} {} {} {} {}",
            f.int("order", 65535)?,
            f.int("preference", 65535)?,
            quoted(&f.opt_text("flags")?.unwrap_or_default()),
            quoted(&f.opt_text("service")?.unwrap_or_default()),
            quoted(&f.opt_text("regex")?.unwrap_or_default()),
            f.text("replacement")?
        ),
        rtype::SMIMEA | rtype::TLSA => format!(
            "{} {} {} {}",
            f.int("usage", 255)?,
            f.int("selector", 255)?,
            f.int("matching_type", 255)?,
            f.text("certificate")?
        ),
        rtype::SRV => {
            let p = match f.opt_int("priority", 65535)? {
                Some(p) => Some(p as u16),
                None => priority,
            };
            let content = format!(
                "{} {} {}",
                f.int("weight", 65535)?,
                f.int("port", 65535)?,
                f.text("target")?
            );
            return Ok((content, p));
        }
        rtype::SSHFP => format!(
            "{} {} {}",
            f.int("algorithm", 255)?,
            f.int("type", 255)?,
            f.text("fingerprint")?
        ),
        rtype::URI => {
            let content = format!("{} {}", f.int("weight", 65535)?, quoted(&f.text("target")?));
            return Ok((content, priority));
        }
        _ => unreachable!("has_data covers every type above"),
    };
    Ok((content, priority))
}

/// Reads the fields of a `data` object, naming the field in every error.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn err(key: &str, msg: impl std::fmt::Display) -> ApiError {
        ApiError::field(&format!("data.{key}"), msg)
    }

    fn opt_int(&self, key: &str, max: u64) -> Result<Option<u64>, ApiError> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let n = v
                    .as_u64()
                    .or_else(|| {
                        v.as_f64()
                            .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                            .map(|f| f as u64)
                    })
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .ok_or_else(|| Self::err(key, format!("must be a whole number 0..{max}")))?;
                if n > max {
                    return Err(Self::err(key, format!("must be a whole number 0..{max}")));
                }
                Ok(Some(n))
            }
        }
    }

    fn int(&self, key: &str, max: u64) -> Result<u64, ApiError> {
        self.opt_int(key, max)?
            .ok_or_else(|| Self::err(key, "required"))
    }

    fn opt_text(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(Self::err(key, "must be a string")),
        }
    }

    fn text(&self, key: &str) -> Result<String, ApiError> {
        match self.opt_text(key)? {
            Some(s) if !s.trim().is_empty() => {
                if s.contains(['\n', '\r']) {
                    return Err(Self::err(key, "must be on one line"));
                }
                Ok(s.trim().to_string())
            }
            _ => Err(Self::err(key, "required")),
        }
    }

    /// A number with at most `places` decimals, written without exponent.
    fn decimal(&self, key: &str, places: usize) -> Result<String, ApiError> {
        let v = self
            .obj
            .get(key)
            .filter(|v| !v.is_null())
            .ok_or_else(|| Self::err(key, "required"))?;
        let f = v
            .as_f64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|f| f.is_finite())
            .ok_or_else(|| Self::err(key, "must be a number"))?;
        Ok(format!("{f:.places$}"))
    }
}

/// A character-string in presentation form (RFC 1035 §5.1).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The `data` object of a record, read from its RDATA; `None` for types without one or RDATA
/// that does not hold a value of its type.
pub fn data_of(record: &Record, content: &str, priority: Option<u16>) -> Option<Value> {
    let rd: &[u8] = &record.rdata;
    let u16_at = |i: usize| Some(u16::from_be_bytes([*rd.get(i)?, *rd.get(i + 1)?]));
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    Some(match record.rtype {
        rtype::CAA => {
            let tag_len = *rd.get(1)? as usize;
            let tag = rd.get(2..2 + tag_len)?;
            let value = rd.get(2 + tag_len..)?;
            json!({"flags": rd[0], "tag": String::from_utf8_lossy(tag),
                   "value": String::from_utf8_lossy(value)})
        }
        rtype::CERT => json!({"type": u16_at(0)?, "key_tag": u16_at(2)?,
                              "algorithm": *rd.get(4)?, "certificate": b64(&rd[5..])}),
        rtype::DNSKEY => json!({"flags": u16_at(0)?, "protocol": *rd.get(2)?,
                                "algorithm": *rd.get(3)?, "public_key": b64(&rd[4..])}),
        rtype::DS => json!({"key_tag": u16_at(0)?, "algorithm": *rd.get(2)?,
                            "digest_type": *rd.get(3)?, "digest": hex(&rd[4..])}),
        rtype::SMIMEA | rtype::TLSA => json!({"usage": *rd.first()?, "selector": *rd.get(1)?,
            "matching_type": *rd.get(2)?, "certificate": hex(rd.get(3..)?)}),
        rtype::SSHFP => json!({"algorithm": *rd.first()?, "type": *rd.get(1)?,
                               "fingerprint": hex(rd.get(2..)?)}),
        rtype::SRV => {
            // Content is `weight port target` with the target as shown (no trailing dot).
            let mut parts = content.splitn(3, ' ');
            let (w, p, target) = (parts.next()?, parts.next()?, parts.next()?);
            json!({"priority": priority?, "weight": w.parse::<u16>().ok()?,
                   "port": p.parse::<u16>().ok()?, "target": target})
        }
        rtype::URI => json!({"weight": u16_at(2)?,
                             "target": String::from_utf8_lossy(rd.get(4..)?)}),
        rtype::HTTPS | rtype::SVCB => {
            let mut parts = content.splitn(3, ' ');
            let (p, target) = (parts.next()?, parts.next()?);
            json!({"priority": p.parse::<u16>().ok()?, "target": target,
                   "value": parts.next().unwrap_or("")})
        }
        rtype::NAPTR => {
            let mut pos = 4;
            let mut strings = Vec::with_capacity(3);
            for _ in 0..3 {
                let len = *rd.get(pos)? as usize;
                strings.push(String::from_utf8_lossy(rd.get(pos + 1..pos + 1 + len)?).into_owned());
                pos += 1 + len;
            }
            let mut replacement = String::new();
            let wire = rd.get(pos..)?;
            tandem_zone::name::write_presentation(wire, &mut replacement).ok()?;
            json!({"order": u16_at(0)?, "preference": u16_at(2)?, "flags": strings[0],
                   "service": strings[1], "regex": strings[2], "replacement": replacement})
        }
        rtype::LOC => loc_data(content)?,
        _ => return None,
    })
}

/// LOC `data` from its content (`d m s.sss N d m s.sss E alt.aam siz.zzm hp.hhm vp.vvm`).
fn loc_data(content: &str) -> Option<Value> {
    let t: Vec<&str> = content.split(' ').collect();
    if t.len() != 12 {
        return None;
    }
    let int = |s: &str| s.parse::<u64>().ok();
    let num = |s: &str| s.trim_end_matches('m').parse::<f64>().ok();
    Some(json!({
        "lat_degrees": int(t[0])?, "lat_minutes": int(t[1])?, "lat_seconds": num(t[2])?,
        "lat_direction": t[3],
        "long_degrees": int(t[4])?, "long_minutes": int(t[5])?, "long_seconds": num(t[6])?,
        "long_direction": t[7],
        "altitude": num(t[8])?, "size": num(t[9])?, "precision_horz": num(t[10])?,
        "precision_vert": num(t[11])?,
    }))
}
