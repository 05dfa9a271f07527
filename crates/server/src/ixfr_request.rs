//! The client's SOA in the authority section of an IXFR request (RFC 1995 §3), read and
//! checked: the serial the incremental answer starts from.
//!
//! A request without that SOA, or with one that is not the zone's or does not parse, is a
//! malformed request and gets FORMERR. That is what BIND ("IXFR request missing SOA",
//! "IXFR authority section has wrong name") and Knot (`ixfr_query_check`: no record, a first
//! record that is not an SOA, or an owner other than the question name) answer; neither falls
//! back to AXFR for it. Like them we check only after the access rule has let the client
//! in, so a stranger learns nothing from the rcode. Only the first authority record is read
//! (Knot reads only that one; BIND ignores other names).

use crate::wire::skip_name;
use tandem_zone::name::MAX_NAME_LEN;
use tandem_zone::record::rtype;

/// Why an IXFR request carries no usable SOA (RFC 1995 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IxfrRequestError {
    #[error("the authority section is empty, where the client's SOA belongs")]
    NoSoa,
    #[error("the authority section starts with a record of type {0}, not the client's SOA")]
    NotSoa(u16),
    #[error("the SOA in the authority section is not owned by the zone's apex")]
    NotApex,
    #[error("the SOA in the authority section does not parse as an SOA")]
    BadSoa,
    #[error("the request's records do not parse")]
    Malformed,
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

/// The serial of the client's SOA: the first record of the authority section must be an SOA
/// owned by `apex` (lowercase wire form, the question name) whose RDATA is two names and
/// exactly 20 octets of timers (RFC 1035 §3.3.13). `question_end` is the offset after the
/// question.
pub fn client_serial(
    msg: &[u8],
    question_end: usize,
    apex: &[u8],
) -> Result<u32, IxfrRequestError> {
    use IxfrRequestError::*;
    let an = u16_at(msg, 6).ok_or(Malformed)?;
    let ns = u16_at(msg, 8).ok_or(Malformed)?;
    if ns == 0 {
        return Err(NoSoa);
    }
    let mut pos = question_end;
    // Answer records have no place in a request; they are stepped over, as BIND and Knot do.
    for _ in 0..an {
        let after = skip_name(msg, pos).ok_or(Malformed)?;
        let rdlen = u16_at(msg, after + 8).ok_or(Malformed)? as usize;
        pos = after + 10 + rdlen;
    }
    let mut owner = [0u8; MAX_NAME_LEN];
    let (owner_len, after) = read_name(msg, pos, &mut owner).ok_or(Malformed)?;
    let t = u16_at(msg, after).ok_or(Malformed)?;
    let rdlen = u16_at(msg, after + 8).ok_or(Malformed)? as usize;
    let rdata_at = after + 10;
    let end = rdata_at + rdlen;
    if end > msg.len() {
        return Err(Malformed);
    }
    if t != rtype::SOA {
        return Err(NotSoa(t));
    }
    if &owner[..owner_len] != apex {
        return Err(NotApex);
    }
    // MNAME and RNAME may be compressed (RFC 3597 §4: SOA is an RFC 1035 type); each must end
    // inside the RDATA, and the five timers fill the rest exactly.
    let n1 = skip_name(msg, rdata_at)
        .filter(|&p| p <= end)
        .ok_or(BadSoa)?;
    let n2 = skip_name(msg, n1).filter(|&p| p <= end).ok_or(BadSoa)?;
    if end - n2 != 20 {
        return Err(BadSoa);
    }
    Ok(u32::from_be_bytes([
        msg[n2],
        msg[n2 + 1],
        msg[n2 + 2],
        msg[n2 + 3],
    ]))
}

/// Reads the possibly compressed name at `pos` into `out`, lowercased, uncompressed.
/// Returns its length and the offset after it in the message; pointers must point backwards
/// (as in [`skip_name`]), so they cannot loop.
fn read_name(msg: &[u8], mut pos: usize, out: &mut [u8; MAX_NAME_LEN]) -> Option<(usize, usize)> {
    let end = skip_name(msg, pos)?;
    let mut len = 0;
    loop {
        let l = *msg.get(pos)? as usize;
        if l & 0xC0 == 0xC0 {
            pos = (u16_at(msg, pos)? & 0x3FFF) as usize;
            continue;
        }
        let label = msg.get(pos..pos + 1 + l)?;
        out.get_mut(len..len + 1 + l)?.copy_from_slice(label);
        out[len + 1..len + 1 + l].make_ascii_lowercase();
        len += 1 + l;
        if l == 0 {
            return Some((len, end));
        }
        pos += 1 + l;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APEX: &[u8] = b"\x07example\x00";

    /// An IXFR request for `example.` with `authority` as its only authority record (none
    /// when empty).
    fn request(authority: &[u8]) -> (Vec<u8>, usize) {
        let ns = u8::from(!authority.is_empty());
        let mut m = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, ns, 0, 0];
        m.extend_from_slice(b"\x07EXAMPLE\x00\x00\xfb\x00\x01");
        let qend = m.len();
        m.extend_from_slice(authority);
        (m, qend)
    }

    /// An authority record: owner, type, class IN, TTL 0, then `rdata`.
    fn rr(owner: &[u8], t: u16, rdata: &[u8]) -> Vec<u8> {
        let mut r = owner.to_vec();
        r.extend_from_slice(&t.to_be_bytes());
        r.extend_from_slice(&[0, 1, 0, 0, 0, 0]);
        r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        r.extend_from_slice(rdata);
        r
    }

    fn soa_rdata(names: &[u8], serial: u32) -> Vec<u8> {
        let mut d = names.to_vec();
        for n in [serial, 1, 2, 3, 4] {
            d.extend_from_slice(&n.to_be_bytes());
        }
        d
    }

    #[test]
    fn reads_the_serial_of_a_well_formed_soa() {
        // Owner and both names compressed against the question.
        let (m, qend) = request(&rr(&[0xC0, 12], 6, &soa_rdata(&[0xC0, 12, 0xC0, 12], 42)));
        assert_eq!(client_serial(&m, qend, APEX), Ok(42));
        // Uncompressed, in another case.
        let names = b"\x03ns1\x07example\x00\x04host\x07example\x00";
        let (m, qend) = request(&rr(b"\x07ExAmPlE\x00", 6, &soa_rdata(names, 7)));
        assert_eq!(client_serial(&m, qend, APEX), Ok(7));
    }

    #[test]
    fn refuses_every_malformed_authority_section() {
        use IxfrRequestError::*;
        let good = soa_rdata(&[0xC0, 12, 0xC0, 12], 42);
        let cases: Vec<(&str, Vec<u8>, IxfrRequestError)> = vec![
            ("no authority record", Vec::new(), NoSoa),
            (
                "an A record",
                rr(&[0xC0, 12], 1, &[192, 0, 2, 1]),
                NotSoa(1),
            ),
            (
                "an SOA of another name",
                rr(b"\x05other\x00", 6, &good),
                NotApex,
            ),
            (
                "an SOA below the apex",
                rr(b"\x03www\xC0\x0c", 6, &good),
                NotApex,
            ),
            (
                "timers one octet short",
                rr(&[0xC0, 12], 6, &good[..good.len() - 1]),
                BadSoa,
            ),
            (
                "an octet after the timers",
                rr(&[0xC0, 12], 6, &[&good[..], &[0]].concat()),
                BadSoa,
            ),
            ("no RDATA", rr(&[0xC0, 12], 6, &[]), BadSoa),
            ("a truncated MNAME", rr(&[0xC0, 12], 6, b"\x05ab"), BadSoa),
            (
                "names only",
                rr(&[0xC0, 12], 6, &[0xC0, 12, 0xC0, 12]),
                BadSoa,
            ),
        ];
        for (what, authority, want) in cases {
            let (m, qend) = request(&authority);
            assert_eq!(client_serial(&m, qend, APEX), Err(want), "{what}");
        }
        // An RDLENGTH past the end of the message.
        let (mut m, qend) = request(&rr(&[0xC0, 12], 6, &good));
        m.truncate(m.len() - 3);
        assert_eq!(client_serial(&m, qend, APEX), Err(Malformed));
    }
}
