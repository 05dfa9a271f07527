//! Answering a query from the hosted zones (RFC 1034 §4.3.2, RFC 4592, RFC 6604, RFC 8482).
//!
//! One call answers one message into a caller-owned buffer. It takes no lock and allocates
//! nothing: names live in fixed stack buffers, zone data is read through the current
//! [`ZoneVersion`], and RR bodies are copied from their pre-rendered wire form.

use crate::wire::{self, flags, rcode, Edns, Parsed, Query};
use crate::zone::{Serving, ZoneSet};
use std::net::IpAddr;
use std::sync::Arc;
use tandem_xfr::render::{Full, Owner, Response, Section};
use tandem_xfr::tsig::{verify_request, KeyRing, Verdict};
use tandem_zone::name::{suffixes, MAX_NAME_LEN};
use tandem_zone::record::rtype;
use tandem_zone::version::{NodeRef, RrSet};
use tandem_zone::ZoneVersion;

/// Longest CNAME chain followed inside a zone before answering with what we have.
const MAX_CHAIN: usize = 8;
/// Most names whose addresses are added to the additional section of one answer.
const MAX_ADDITIONAL_TARGETS: usize = 16;
/// Smallest UDP payload every client accepts (RFC 1035 §4.2.1).
const MIN_UDP: usize = 512;
/// The NOTIFY opcode (RFC 1996 §3.1).
const OPCODE_NOTIFY: u8 = 4;
/// Size of the OPT RR we append (RFC 6891 §6.1.2), reserved before records are written.
const OPT_LEN: usize = 11;

/// How the message arrived; decides size limits and transfer handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// The TSIG keys a zone accepts (those of its linked peers), for signed queries.
pub trait ZoneKeys: Send + Sync + 'static {
    fn keys(&self, apex: &tandem_zone::Name) -> Option<Arc<KeyRing>>;
}

/// Settings of the answering code.
#[derive(Clone)]
pub struct AnswerConfig {
    /// The EDNS UDP payload size we advertise and answer within (RFC 6891 §6.2.5).
    pub edns_udp_payload: u16,
    /// Keys for TSIG-signed queries (RFC 8945); without them signed queries get BADKEY.
    pub keys: Option<Arc<dyn ZoneKeys>>,
    /// Access rule and journal for IXFR over UDP; without them UDP IXFR is refused.
    pub transfers: Option<Arc<dyn crate::xfr_out::TransferControl>>,
    /// The secondary role, for NOTIFY; without it NOTIFY is refused.
    pub notify: Option<Arc<dyn crate::events::notify_in::NotifyReceiver>>,
}

impl Default for AnswerConfig {
    fn default() -> Self {
        AnswerConfig {
            edns_udp_payload: 1232,
            keys: None,
            transfers: None,
            notify: None,
        }
    }
}

/// Seconds since the epoch, for TSIG time checks.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The keys of the zone that would answer `qname` (lowercase wire), or an empty ring.
pub fn keys_for(zones: &ZoneSet, cfg: &AnswerConfig, qname: &[u8]) -> Arc<KeyRing> {
    let apex = zones.with_zone_for(qname, |z| z.map(|(zone, _)| zone.apex().clone()));
    apex.and_then(|a| cfg.keys.as_ref().and_then(|k| k.keys(&a)))
        .unwrap_or_default()
}

/// A TSIG-signed query (RFC 8945 §5.2): verified against the zone's keys, answered as usual
/// and signed; a failed check gets the RFC's error answer. Allocates, unlike unsigned queries.
fn signed_query(
    zones: &ZoneSet,
    msg: &[u8],
    q: &Query,
    buf: &mut Vec<u8>,
    transport: Transport,
    source: IpAddr,
    cfg: &AnswerConfig,
) -> Option<u16> {
    let now = unix_now();
    let ring = keys_for(zones, cfg, q.qname());
    match verify_request(msg, &*ring, now) {
        Err(rejection) => {
            tracing::info!(kind = ?rejection.kind(), "signed query rejected");
            let resp = rejection.response(msg, now)?;
            buf.clear();
            buf.extend_from_slice(&resp);
            Some(rejection.rcode().unwrap_or(rcode::NOTAUTH))
        }
        Ok(Verdict::Unsigned) => Some(answer_query(
            zones,
            msg,
            q,
            buf,
            transport,
            cfg,
            Asker::Unsigned(source),
        )),
        Ok(Verdict::Signed(req)) => {
            let key = req.key.name().clone();
            let mut signer = req.into_signer();
            let asker = Asker::Signed(source, &key, signer.tsig_len());
            let code = answer_query(zones, msg, q, buf, transport, cfg, asker);
            if let Err(e) = signer.sign(buf, now) {
                tracing::warn!(error = ?e, "cannot sign an answer");
                return None;
            }
            Some(code)
        }
    }
}

/// Answers `msg` into `buf`. Returns the response code sent, or `None` when the message is
/// dropped without an answer.
pub fn respond(
    zones: &ZoneSet,
    msg: &[u8],
    buf: &mut Vec<u8>,
    transport: Transport,
    source: IpAddr,
    cfg: &AnswerConfig,
) -> Option<u16> {
    match wire::parse(msg) {
        Parsed::Drop => None,
        Parsed::Error {
            flags: qflags,
            rcode,
            question_end,
            edns,
            ..
        } => {
            let out = flags::QR | (qflags & (flags::OPCODE_MASK | flags::RD | flags::CD));
            let limit = size_limit(transport, edns, cfg);
            let mut r = Response::start(buf, msg, question_end, out, limit);
            r.set_rcode(rcode);
            if let Some(e) = edns {
                r.push_opt(cfg.edns_udp_payload, (rcode >> 4) as u8, e.dnssec_ok);
            }
            r.finish();
            Some(rcode)
        }
        Parsed::Query(q) if q.has_tsig => signed_query(zones, msg, &q, buf, transport, source, cfg),
        Parsed::Query(q) => Some(answer_query(
            zones,
            msg,
            &q,
            buf,
            transport,
            cfg,
            Asker::Unsigned(source),
        )),
    }
}

fn size_limit(transport: Transport, edns: Option<Edns>, cfg: &AnswerConfig) -> usize {
    match (transport, edns) {
        (Transport::Tcp, _) => 65535,
        (Transport::Udp, None) => MIN_UDP,
        (Transport::Udp, Some(e)) => {
            (e.udp_payload.min(cfg.edns_udp_payload) as usize).max(MIN_UDP)
        }
    }
}

fn answer_query(
    zones: &ZoneSet,
    msg: &[u8],
    q: &Query,
    buf: &mut Vec<u8>,
    transport: Transport,
    cfg: &AnswerConfig,
    asker: Asker<'_>,
) -> u16 {
    // A signed answer keeps room for the TSIG RR appended after it is written.
    let reserve = match asker {
        Asker::Signed(_, _, n) => n,
        Asker::Unsigned(_) => 0,
    };
    let limit = size_limit(transport, q.edns, cfg) - reserve.min(MIN_UDP / 2);
    let record_limit = if q.edns.is_some() {
        limit - OPT_LEN
    } else {
        limit
    };
    let out = flags::QR | (q.flags & (flags::OPCODE_MASK | flags::RD | flags::CD));
    let mut r = Response::start(buf, msg, q.question_end, out, record_limit);
    let dnssec = q.edns.is_some_and(|e| e.dnssec_ok);

    let code = if q.opcode == OPCODE_NOTIFY && q.qclass == 1 {
        let code = crate::events::notify_in::answer(zones, q, cfg.notify.as_deref(), asker);
        if code == rcode::NOERROR {
            // RFC 1996 §4.7: the answer to an obeyed NOTIFY is authoritative.
            r.set_flags(flags::AA);
        }
        code
    } else if q.opcode != 0 {
        // UPDATE and other opcodes are not served (RFC 1035 §4.1.1).
        rcode::NOTIMP
    } else if q.qclass != 1 && q.qclass != 255 {
        rcode::REFUSED
    } else {
        match q.qtype {
            rtype::OPT | rtype::TSIG | rtype::TKEY => rcode::FORMERR,
            rtype::MAILA | rtype::MAILB => rcode::NOTIMP,
            // RFC 1995 §2: IXFR may come over UDP; it gets the answer when that fits in one
            // datagram, else the single current SOA. AXFR is TCP only (RFC 5936 §4.2); over
            // TCP both are served by `xfr_out` before reaching this point.
            rtype::IXFR if transport == Transport::Udp => match &cfg.transfers {
                Some(control) => {
                    crate::xfr_out::udp_ixfr(zones, msg, q, control.as_ref(), asker, &mut r)
                }
                None => rcode::REFUSED,
            },
            rtype::AXFR | rtype::IXFR => rcode::REFUSED,
            _ => zones.with_zone_for(q.qname(), |found| match found {
                None => rcode::REFUSED,
                Some((zone, apex_off)) => match zone.serving() {
                    Serving::Active => zone.with_current(|v| match v {
                        Some(v) => resolve(v, q, apex_off, dnssec, &mut r),
                        None => rcode::SERVFAIL,
                    }),
                    Serving::Pending | Serving::Expired => rcode::SERVFAIL,
                },
            }),
        }
    };
    r.set_rcode(code);
    if transport == Transport::Udp && r.len() > record_limit {
        // Unreachable by construction (every write checks the limit); kept as a guard.
        r.set_flags(flags::TC);
    }
    r.set_limit(limit);
    if let Some(e) = q.edns {
        r.push_opt(cfg.edns_udp_payload, 0, e.dnssec_ok);
    }
    r.finish();
    code
}

/// Who asked: the source address and, for a verified signed query, the key and the room its
/// TSIG RR needs in the answer.
#[derive(Clone, Copy)]
pub enum Asker<'k> {
    Unsigned(IpAddr),
    Signed(IpAddr, &'k tandem_zone::Name, usize),
}

/// A lowercase name in a stack buffer.
struct NameBuf {
    b: [u8; MAX_NAME_LEN],
    len: usize,
}

impl NameBuf {
    fn from_lower(src: &[u8]) -> Self {
        let mut n = NameBuf {
            b: [0; MAX_NAME_LEN],
            len: src.len().min(MAX_NAME_LEN),
        };
        for (d, s) in n.b.iter_mut().zip(src) {
            *d = s.to_ascii_lowercase();
        }
        n
    }
    fn get(&self) -> &[u8] {
        &self.b[..self.len]
    }
}

/// Where a lookup ended (RFC 1034 §4.3.2 step 3).
enum Found<'v> {
    /// The name exists (or a wildcard matched it, RFC 4592 §3.3.1).
    Node(NodeRef<'v>),
    /// A zone cut at or above the name: answer with a referral.
    Cut(usize, NodeRef<'v>),
    /// Neither the name nor a covering wildcard exists.
    NxDomain,
}

fn find<'v>(v: &'v ZoneVersion, name: &[u8], apex_len: usize, qtype: u16) -> Found<'v> {
    if !v.has_delegations() {
        if let Some(n) = v.node(name) {
            return Found::Node(n);
        }
    }
    // Label start offsets of `name`, down to the apex.
    let mut offs = [0u8; 128];
    let mut n = 0;
    let apex_off = name.len() - apex_len;
    for o in suffixes(name) {
        offs[n] = o as u8;
        n += 1;
        if o >= apex_off {
            break;
        }
    }
    // Walk from just below the apex towards the name, stopping at a cut or a missing node.
    let mut closest = apex_off;
    for i in (0..n.saturating_sub(1)).rev() {
        let off = offs[i] as usize;
        let Some(node) = v.node(&name[off..]) else {
            return wildcard(v, name, closest);
        };
        // RFC 4035 §3.1.4.1: DS at a cut is answered from the parent side.
        let at_name_ds = off == 0 && qtype == rtype::DS;
        if !at_name_ds && node.rrset(rtype::NS).is_some() {
            return Found::Cut(off, node);
        }
        closest = off;
    }
    if apex_off == 0 {
        return Found::Node(v.apex_node());
    }
    match v.node(name) {
        Some(node) => Found::Node(node),
        None => wildcard(v, name, closest),
    }
}

/// RFC 4592 §3.3.1: the source of synthesis is `*.` + the closest encloser.
fn wildcard<'v>(v: &'v ZoneVersion, name: &[u8], closest: usize) -> Found<'v> {
    let ce = &name[closest..];
    if ce.len() + 2 > MAX_NAME_LEN {
        return Found::NxDomain;
    }
    let mut w = [0u8; MAX_NAME_LEN];
    w[0] = 1;
    w[1] = b'*';
    w[2..2 + ce.len()].copy_from_slice(ce);
    match v.node(&w[..2 + ce.len()]) {
        Some(node) => Found::Node(node),
        None => Found::NxDomain,
    }
}

fn push_set(
    r: &mut Response<'_>,
    section: Section,
    owner: Owner<'_>,
    set: RrSet<'_>,
    dnssec: bool,
) -> Result<usize, Full> {
    let at = r.push_rrs(section, owner, set.wire(), None)?;
    if dnssec {
        let (sigs, n) = set.sig_wire();
        if n > 0 {
            r.push_rrs(section, owner, sigs, None)?;
        }
    }
    Ok(at)
}

/// Answers from one zone version; returns the rcode. On overflow of the answer or authority
/// section the response is cut back to the question and TC is set (RFC 2181 §9).
fn resolve(v: &ZoneVersion, q: &Query, apex_off: usize, dnssec: bool, r: &mut Response<'_>) -> u16 {
    let start = r.mark();
    match resolve_inner(v, q, apex_off, dnssec, r) {
        Ok(code) => code,
        Err(Full) => {
            r.rollback(start);
            r.set_flags(flags::TC);
            // Keep AA: the truncated answer is still ours.
            r.set_flags(flags::AA);
            rcode::NOERROR
        }
    }
}

fn resolve_inner(
    v: &ZoneVersion,
    q: &Query,
    apex_off: usize,
    dnssec: bool,
    r: &mut Response<'_>,
) -> Result<u16, Full> {
    let apex_len = q.qname_len - apex_off;
    let apex_ptr = Owner::Ptr((wire::HEADER_LEN + apex_off) as u16);
    let mut cur = NameBuf::from_lower(q.qname());
    // The current name as the question spelled it: a pointer into the message.
    let mut cur_at = wire::HEADER_LEN as u16;
    let mut in_question = true;
    r.set_flags(flags::AA);

    for _ in 0..MAX_CHAIN {
        let owner = Owner::Ptr(cur_at);
        match find(v, cur.get(), apex_len, q.qtype) {
            Found::Cut(off, node) => {
                // RFC 1034 §4.3.2 step 3b: a referral; we are not authoritative for it.
                if r.count(Section::Answer) == 0 {
                    r.clear_flags(flags::AA);
                }
                let cut_owner = if in_question {
                    Owner::Ptr(cur_at + off as u16)
                } else {
                    Owner::Name(&cur.get()[off..])
                };
                let ns = node.rrset(rtype::NS).expect("a cut has NS");
                r.push_rrs(Section::Authority, cut_owner, ns.wire(), None)?;
                if dnssec {
                    if let Some(ds) = node.rrset(rtype::DS) {
                        push_set(r, Section::Authority, cut_owner, ds, true)?;
                    }
                }
                add_addresses(v, r, ns, false);
                return Ok(rcode::NOERROR);
            }
            Found::NxDomain => {
                push_negative_soa(v, r, apex_ptr, dnssec)?;
                return Ok(rcode::NXDOMAIN);
            }
            Found::Node(node) => {
                let qtype = q.qtype;
                if qtype == rtype::ANY {
                    // RFC 8482 §4.1: answer with one RRset of those at the name.
                    match node
                        .rrsets()
                        .find(|s| s.rtype() != rtype::RRSIG)
                        .or_else(|| node.rrsets().next())
                    {
                        Some(set) => {
                            push_set(r, Section::Answer, owner, set, dnssec)?;
                        }
                        None => push_negative_soa(v, r, apex_ptr, dnssec)?,
                    }
                    return Ok(rcode::NOERROR);
                }
                if let Some(set) = node.rrset(qtype) {
                    push_set(r, Section::Answer, owner, set, dnssec)?;
                    if matches!(
                        qtype,
                        rtype::NS | rtype::MX | rtype::SRV | rtype::SVCB | rtype::HTTPS
                    ) {
                        add_addresses(v, r, set, dnssec);
                    }
                    return Ok(rcode::NOERROR);
                }
                // RRSIG and NSEC may sit beside a CNAME (RFC 4035 §2.5): asking for them
                // asks about the node itself, so the alias is not followed.
                let follows = !matches!(qtype, rtype::RRSIG | rtype::NSEC);
                if let Some(cname) = node.rrset(rtype::CNAME).filter(|_| follows) {
                    // RFC 1034 §4.3.2 step 3a: follow the alias within the zone.
                    let at = push_set(r, Section::Answer, owner, cname, dnssec)?;
                    let Some(target) = cname.rdatas().next() else {
                        return Ok(rcode::NOERROR);
                    };
                    let (lower, n) = lower_into(target);
                    if !tandem_zone::name::is_suffix(&lower[..n], v.apex().as_wire()) {
                        // Out of zone: the resolver continues from here (RFC 1034 §4.3.2).
                        return Ok(rcode::NOERROR);
                    }
                    cur = NameBuf::from_lower(target);
                    cur_at = at as u16;
                    in_question = false;
                    continue;
                }
                push_negative_soa(v, r, apex_ptr, dnssec)?;
                return Ok(rcode::NOERROR);
            }
        }
    }
    Ok(rcode::NOERROR)
}

fn lower_into(name: &[u8]) -> ([u8; MAX_NAME_LEN], usize) {
    let mut b = [0u8; MAX_NAME_LEN];
    let n = name.len().min(MAX_NAME_LEN);
    for (d, s) in b.iter_mut().zip(&name[..n]) {
        *d = s.to_ascii_lowercase();
    }
    (b, n)
}

/// RFC 2308 §3: the SOA in the authority section with TTL min(SOA TTL, SOA MINIMUM).
fn push_negative_soa(
    v: &ZoneVersion,
    r: &mut Response<'_>,
    apex: Owner<'_>,
    dnssec: bool,
) -> Result<(), Full> {
    let soa = v
        .apex_node()
        .rrset(rtype::SOA)
        .expect("a version has an SOA");
    let ttl = v.negative_ttl();
    r.push_rrs(Section::Authority, apex, soa.wire(), Some(ttl))?;
    if dnssec {
        let (sigs, n) = soa.sig_wire();
        if n > 0 {
            r.push_rrs(Section::Authority, apex, sigs, Some(ttl))?;
        }
    }
    Ok(())
}

/// RFC 1034 §4.3.2 step 6, RFC 1035 §3.3.9/§3.3.11, RFC 2782 and RFC 9460 §4.1: addresses of
/// the names an NS, MX, SRV, SVCB or HTTPS RRset points to, when they are in the zone (glue
/// included). Best effort: what does not fit is left out without TC.
fn add_addresses(v: &ZoneVersion, r: &mut Response<'_>, set: RrSet<'_>, dnssec: bool) {
    let apex = v.apex().as_wire();
    for (i, rd) in set.rdatas().enumerate() {
        if i >= MAX_ADDITIONAL_TARGETS {
            break;
        }
        let Some(target) = target_name(set.rtype(), rd) else {
            continue;
        };
        let (lower, n) = lower_into(target);
        let name = &lower[..n];
        if !tandem_zone::name::is_suffix(name, apex) {
            continue;
        }
        // Skip a target already handled earlier in this RRset.
        if set
            .rdatas()
            .take(i)
            .any(|prev| same_target(set.rtype(), prev, target))
        {
            continue;
        }
        let Some(node) = v.node(name) else { continue };
        for t in [rtype::A, rtype::AAAA] {
            if let Some(addr) = node.rrset(t) {
                let m = r.mark();
                if push_set(r, Section::Additional, Owner::Name(target), addr, dnssec).is_err() {
                    r.rollback(m);
                    return;
                }
            }
        }
    }
}

fn same_target(t: u16, prev: &[u8], target: &[u8]) -> bool {
    target_name(t, prev).is_some_and(|p| p.eq_ignore_ascii_case(target))
}

/// The name an RR points to, for additional-section processing; `None` for the root
/// (an SVCB "." target) or malformed data.
fn target_name(t: u16, rd: &[u8]) -> Option<&[u8]> {
    let at = match t {
        rtype::NS => 0,
        rtype::MX | rtype::SVCB | rtype::HTTPS => 2,
        rtype::SRV => 6,
        _ => return None,
    };
    let rest = rd.get(at..)?;
    let len = tandem_zone::name::wire_len(rest).ok()?;
    (len > 1).then(|| &rest[..len])
}
