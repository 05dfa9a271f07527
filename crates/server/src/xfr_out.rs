//! Outgoing zone transfers over TCP: AXFR (RFC 5936) and IXFR (RFC 1995) requests checked
//! against the access policy, answered from one immutable version (and, for IXFR, the
//! journal), streamed message by message from a blocking producer so a transfer of any size
//! needs memory for a few messages and never holds up queries.

use crate::answer::{unix_now, Asker};
use crate::ixfr_request::client_serial;
use crate::log_budget::{Budget, TRANSFER_REFUSED};
use crate::refusal::Refusal;
use crate::wire::{flags, rcode, Query};
use crate::zone::ZoneSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tandem_xfr::render::{Owner, Response, Section, HEADER_LEN};
use tandem_xfr::tsig::{verify_request, KeyRing, ResponseSigner, TsigKey, Verdict};
use tandem_xfr::{axfr, ixfr, rr_body, XfrConfig};
use tandem_zone::diff::condense;
use tandem_zone::record::{rtype, CLASS_IN};
use tandem_zone::{serial, Name, ZoneDiff, ZoneVersion};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};
use tokio::time::timeout;

/// What transfers need from the control plane, asked once per request.
pub trait TransferControl: Send + Sync + 'static {
    /// The access rule of PRODUCT.md §1 for an unsigned request from `source`: `Err` carries
    /// the reason, which is logged.
    fn authorize(&self, apex: &Name, source: IpAddr) -> Result<(), Refusal>;
    /// The rule for a request signed (validly) with the key named `key`: the key belongs to a
    /// linked peer and the source is that peer's ip or inside an ACL range.
    fn authorize_signed(&self, apex: &Name, source: IpAddr, key: &Name) -> Result<(), Refusal>;
    /// The keys requests for `apex` may be signed with (those of its linked peers).
    fn keys(&self, apex: &Name) -> Arc<KeyRing>;
    /// The journaled differences leading from serial `from` to `to`, oldest first, or `None`
    /// when the journal does not reach back that far. May read the store: called on a
    /// blocking thread for IXFR over TCP when the version's own recent history does not reach
    /// back to `from`; never for IXFR over UDP.
    fn journal(&self, apex: &Name, from: u32, to: u32) -> Option<Vec<ZoneDiff>>;
    /// Called after each finished or failed transfer (for status and metrics), on the UDP
    /// worker or TCP task that served it: must not wait (on the store or anything else).
    fn transferred(&self, apex: &Name, source: IpAddr, kind: &'static str, serial: u32, ok: bool);
}

/// QCLASS ANY (RFC 1035 §3.2.5).
const CLASS_ANY: u16 = 255;

/// Shared state of the transfer side of the TCP front end.
pub struct TransferService {
    pub control: Arc<dyn TransferControl>,
    pub cfg: XfrConfig,
    /// Bounds concurrent outgoing transfers (PRODUCT.md §5).
    pub slots: Semaphore,
    pub write_timeout: Duration,
}

/// The hosted zone whose apex is the question name, with its current version when it may be
/// served: a secondary zone before its first transfer or past its expire time has none to
/// give (RFC 1034 §4.3.5). Transfers are of whole zones: a name below an apex finds nothing.
fn apex_zone(zones: &ZoneSet, q: &Query) -> Option<(Name, Option<Arc<ZoneVersion>>)> {
    zones.with_zone_for(q.qname(), |z| {
        z.filter(|(_, off)| *off == 0).map(|(zone, _)| {
            let version = match zone.serving() {
                crate::zone::Serving::Active => zone.current(),
                crate::zone::Serving::Pending | crate::zone::Serving::Expired => None,
            };
            (zone.apex().clone(), version)
        })
    })
}

/// True for a query that asks for a zone transfer.
pub fn is_transfer(q: &Query) -> bool {
    q.opcode == 0 && matches!(q.qtype, rtype::AXFR | rtype::IXFR)
}

/// Answers one AXFR or IXFR request on `stream`. Returns false when the connection should be
/// closed (write failure or timeout).
pub async fn serve(
    stream: &mut TcpStream,
    msg: &[u8],
    q: &Query,
    zones: &ZoneSet,
    svc: &TransferService,
    source: IpAddr,
) -> bool {
    let kind = if q.qtype == rtype::AXFR {
        "AXFR"
    } else {
        "IXFR"
    };
    if q.qclass != CLASS_IN && q.qclass != CLASS_ANY {
        // Only class IN is hosted (RFC 1035 §3.2.4); ANY stands for it (RFC 5936 §2.1.1).
        if let Budget::Log { suppressed } = TRANSFER_REFUSED.take() {
            tracing::info!(suppressed, %source, kind, qclass = q.qclass, "transfer refused: not class IN");
        }
        return send_error(stream, msg, q, rcode::REFUSED, svc).await;
    }
    let (apex, version) = match apex_zone(zones, q) {
        Some((apex, Some(v))) => (apex, v),
        Some((apex, None)) => {
            if let Budget::Log { suppressed } = TRANSFER_REFUSED.take() {
                tracing::warn!(suppressed, %source, zone = %apex, kind, "transfer refused: zone has no data yet or has expired");
            }
            return send_error(stream, msg, q, rcode::SERVFAIL, svc).await;
        }
        None => {
            if let Budget::Log { suppressed } = TRANSFER_REFUSED.take() {
                tracing::info!(suppressed, %source, kind, "transfer refused: not the apex of a hosted zone");
            }
            return send_error(stream, msg, q, rcode::REFUSED, svc).await;
        }
    };
    let now = unix_now();
    let mut signer = None;
    if q.has_tsig {
        // RFC 8945 §5.2: the MAC is checked before anything else is decided.
        let ring = svc.control.keys(&apex);
        match verify_request(msg, &*ring, now) {
            Err(rejection) => {
                if let Budget::Log { suppressed } = TRANSFER_REFUSED.take() {
                    tracing::warn!(suppressed, %source, zone = %apex, kind, tsig = ?rejection.kind(), "transfer refused: TSIG check failed");
                }
                return match rejection.response(msg, now) {
                    Some(resp) => write_message(stream, &resp, svc.write_timeout).await,
                    None => true,
                };
            }
            Ok(Verdict::Unsigned) => {}
            Ok(Verdict::Signed(req)) => {
                let key = req.key.name().clone();
                let mut s = req.into_signer();
                if let Err(reason) = svc.control.authorize_signed(&apex, source, &key) {
                    if let Budget::Log { suppressed } = TRANSFER_REFUSED.take() {
                        tracing::warn!(suppressed, %source, zone = %apex, kind, %key, %reason, "transfer refused");
                    }
                    return send_signed_error(stream, msg, q, rcode::REFUSED, svc, &mut s, now)
                        .await;
                }
                signer = Some(s);
            }
        }
    } else if let Err(reason) = svc.control.authorize(&apex, source) {
        if let Budget::Log { suppressed } = TRANSFER_REFUSED.take() {
            tracing::warn!(suppressed, %source, zone = %apex, kind, %reason, "transfer refused");
        }
        return send_error(stream, msg, q, rcode::REFUSED, svc).await;
    }
    // Checked once the client is let in (see `ixfr_request`): FORMERR, signed when the
    // request was.
    let client = if q.qtype == rtype::IXFR {
        match client_serial(msg, q.question_end, q.qname()) {
            Ok(serial) => Some(serial),
            Err(e) => {
                if let Budget::Log { suppressed } = TRANSFER_REFUSED.take() {
                    tracing::warn!(suppressed, %source, zone = %apex, kind, error = %e, "transfer refused: FORMERR");
                }
                return match signer.as_mut() {
                    Some(s) => send_signed_error(stream, msg, q, rcode::FORMERR, svc, s, now).await,
                    None => send_error(stream, msg, q, rcode::FORMERR, svc).await,
                };
            }
        }
    } else {
        None
    };
    let Ok(_slot) = svc.slots.try_acquire() else {
        if let Budget::Log { suppressed } = TRANSFER_REFUSED.take() {
            tracing::warn!(suppressed, %source, zone = %apex, kind, "transfer refused: too many transfers at once");
        }
        return send_error(stream, msg, q, rcode::REFUSED, svc).await;
    };
    let plan = match client {
        Some(serial) => match plan_ixfr(&version, serial, &apex) {
            // Older than the version's recent history: the journal is read from the store,
            // on a blocking thread, never this task's.
            Plan::Axfr => {
                let (v, control, zone) = (version.clone(), svc.control.clone(), apex.clone());
                tokio::task::spawn_blocking(move || {
                    plan_from_journal(&v, serial, control.as_ref(), &zone)
                })
                .await
                .unwrap_or(Plan::Axfr)
            }
            plan => plan,
        },
        None => Plan::Axfr,
    };
    let label = match &plan {
        Plan::Axfr => kind,
        Plan::UpToDate => "IXFR (up to date)",
        Plan::Incremental(_) => "IXFR",
    };
    let serial = version.serial();
    let ok = stream_answer(
        stream,
        msg.to_vec(),
        q.question_end,
        version,
        plan,
        svc,
        signer,
    )
    .await;
    tracing::info!(%source, zone = %apex, kind = label, serial, ok, "transfer out");
    svc.control.transferred(&apex, source, kind, serial, ok);
    ok
}

/// Where each finished message of a transfer goes (signed first when the request was).
type Emit<'a> = Box<dyn FnMut(&[u8]) -> bool + 'a>;

enum Plan {
    Axfr,
    UpToDate,
    Incremental(ZoneDiff),
}

/// RFC 1995 §2-§4 from memory: a single SOA when the client is current (or newer), the
/// condensed changes when the version's recent history reaches the client's serial
/// ([`tandem_zone::recent`]), else `Axfr` (which over TCP asks the journal first).
fn plan_ixfr(v: &ZoneVersion, client: u32, apex: &Name) -> Plan {
    let ours = v.serial();
    if client == ours || serial::is_newer(client, ours) {
        return Plan::UpToDate;
    }
    match v.changes_since(client) {
        Some(diffs) => condensed(diffs.iter().map(|d| &**d), apex),
        None => Plan::Axfr,
    }
}

/// RFC 1995 §4 from the journal: the condensed differences from the client's serial when the
/// journal reaches back to it, else the whole zone.
fn plan_from_journal(
    v: &ZoneVersion,
    client: u32,
    control: &dyn TransferControl,
    apex: &Name,
) -> Plan {
    match control.journal(apex, client, v.serial()) {
        Some(diffs) => condensed(&diffs, apex),
        None => Plan::Axfr,
    }
}

fn condensed<'a>(diffs: impl IntoIterator<Item = &'a ZoneDiff>, apex: &Name) -> Plan {
    match condense(diffs) {
        Ok(d) => Plan::Incremental(d),
        Err(e) => {
            tracing::warn!(zone = %apex, error = %e, "journal unusable; answering with the whole zone");
            Plan::Axfr
        }
    }
}

/// IXFR over UDP (RFC 1995 §2): the incremental answer when it fits in one datagram, else
/// the single current SOA; refused under the same access rule as over TCP. Answered from the
/// version's recent history, which holds every chain of changes small enough to fit a
/// datagram even uncondensed, so the worker never reads the store; a client further behind
/// gets the single SOA and goes to TCP (RFC 1995 §2).
pub fn udp_ixfr(
    zones: &ZoneSet,
    msg: &[u8],
    q: &Query,
    control: &dyn TransferControl,
    asker: Asker<'_>,
    r: &mut Response<'_>,
) -> u16 {
    let Some((apex, Some(version))) = apex_zone(zones, q) else {
        return rcode::REFUSED;
    };
    let allowed = match asker {
        Asker::Unsigned(ip) => control.authorize(&apex, ip),
        Asker::Signed(ip, key, _) => control.authorize_signed(&apex, ip, key),
    };
    let source = match asker {
        Asker::Unsigned(ip) | Asker::Signed(ip, _, _) => ip,
    };
    if let Err(reason) = allowed {
        if let Budget::Log { suppressed } = TRANSFER_REFUSED.take() {
            tracing::warn!(suppressed, %source, zone = %apex, kind = "IXFR/UDP", %reason, "transfer refused");
        }
        return rcode::REFUSED;
    }
    let client = match client_serial(msg, q.question_end, q.qname()) {
        Ok(serial) => serial,
        Err(e) => {
            if let Budget::Log { suppressed } = TRANSFER_REFUSED.take() {
                tracing::warn!(suppressed, %source, zone = %apex, kind = "IXFR/UDP", error = %e, "transfer refused: FORMERR");
            }
            return rcode::FORMERR;
        }
    };
    r.set_flags(flags::AA);
    let soa = version.soa_record();
    let soa_body = rr_body(&soa);
    let owner = Owner::Ptr(HEADER_LEN as u16);
    let start = r.mark();
    if let Plan::Incremental(d) = plan_ixfr(&version, client, &apex) {
        let mut fits = r.push_rrs(Section::Answer, owner, &soa_body, None).is_ok();
        for rec in d.removed.iter().chain(d.added.iter()) {
            fits = fits
                && r.push_rrs(
                    Section::Answer,
                    Owner::Name(rec.owner.as_wire()),
                    &rr_body(rec),
                    None,
                )
                .is_ok();
        }
        fits = fits && r.push_rrs(Section::Answer, owner, &soa_body, None).is_ok();
        if fits {
            tracing::info!(%source, zone = %apex, kind = "IXFR/UDP", serial = version.serial(), "transfer out");
            control.transferred(&apex, source, "IXFR", version.serial(), true);
            return rcode::NOERROR;
        }
        r.rollback(start);
    }
    // Up to date, no journal, or too big for a datagram: the current SOA alone.
    if r.push_rrs(Section::Answer, owner, &soa_body, None).is_err() {
        r.rollback(start);
    }
    rcode::NOERROR
}

async fn stream_answer(
    stream: &mut TcpStream,
    query: Vec<u8>,
    question_end: usize,
    version: Arc<ZoneVersion>,
    plan: Plan,
    svc: &TransferService,
    signer: Option<ResponseSigner<Arc<TsigKey>>>,
) -> bool {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(8);
    let cfg = svc.cfg;
    let producer = tokio::task::spawn_blocking(move || {
        let send = |m: &[u8]| tx.blocking_send(m.to_vec()).is_ok();
        let mut signer = signer;
        // RFC 8945 §5.3.1: every message of a signed transfer is signed, each over the MAC
        // of the one before; room for the TSIG RR is kept in every message.
        let (cfg, mut emit): (XfrConfig, Emit<'_>) = match signer.as_mut() {
            Some(s) => (s.reserve(cfg), Box::new(s.wrap(unix_now, send))),
            None => (cfg, Box::new(send)),
        };
        let emit = |m: &[u8]| emit(m);
        let r = match &plan {
            Plan::Axfr => axfr(&version, &query, question_end, cfg, emit),
            Plan::UpToDate => ixfr(&version, None, &query, question_end, cfg, emit),
            Plan::Incremental(d) => ixfr(&version, Some(d), &query, question_end, cfg, emit),
        };
        if let Err(e) = &r {
            tracing::warn!(error = %e, "transfer stream stopped");
        }
        r.is_ok()
    });
    let mut wrote_all = true;
    while let Some(m) = rx.recv().await {
        if !write_message(stream, &m, svc.write_timeout).await {
            wrote_all = false;
            break;
        }
    }
    drop(rx);
    let produced = producer.await.unwrap_or(false);
    wrote_all && produced
}

async fn write_message(stream: &mut TcpStream, m: &[u8], limit: Duration) -> bool {
    let mut framed = Vec::with_capacity(m.len() + 2);
    framed.extend_from_slice(&(m.len() as u16).to_be_bytes());
    framed.extend_from_slice(m);
    matches!(timeout(limit, stream.write_all(&framed)).await, Ok(Ok(())))
}

/// An answer to `msg` with only the header, the question and `code`.
fn error_message(msg: &[u8], q: &Query, code: u16) -> Vec<u8> {
    let mut buf = Vec::with_capacity(512);
    let out = flags::QR | (q.flags & (flags::OPCODE_MASK | flags::RD | flags::CD));
    let mut r = Response::start(&mut buf, msg, q.question_end, out, 65535);
    r.set_rcode(code);
    r.finish();
    buf
}

#[allow(clippy::too_many_arguments)]
async fn send_signed_error(
    stream: &mut TcpStream,
    msg: &[u8],
    q: &Query,
    code: u16,
    svc: &TransferService,
    signer: &mut ResponseSigner<Arc<TsigKey>>,
    now: u64,
) -> bool {
    let mut buf = error_message(msg, q, code);
    // RFC 8945 §5.3: the answer to a signed request is signed, errors included.
    if signer.sign(&mut buf, now).is_err() {
        return false;
    }
    write_message(stream, &buf, svc.write_timeout).await
}

async fn send_error(
    stream: &mut TcpStream,
    msg: &[u8],
    q: &Query,
    code: u16,
    svc: &TransferService,
) -> bool {
    write_message(stream, &error_message(msg, q, code), svc.write_timeout).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_zone::record::Record;
    use tandem_zone::text::parse_zonefile;

    fn records(text: &str) -> Vec<Record> {
        let apex = Name::parse("example.com").unwrap();
        parse_zonefile(text, &apex, 300)
            .unwrap()
            .into_iter()
            .map(|p| p.record)
            .collect()
    }

    fn soa(serial: u32) -> String {
        format!("@ SOA ns1 hostmaster {serial} 7200 3600 1209600 300\n")
    }

    #[test]
    fn ixfr_is_planned_from_the_versions_own_history() {
        let apex = Name::parse("example.com").unwrap();
        let mut v = ZoneVersion::build(apex.clone(), records(&(soa(1) + "@ NS ns1\n"))).unwrap();
        for s in 1..=3u32 {
            let diff = ZoneDiff {
                removed: records(&soa(s)),
                added: records(&format!("{}h{s} A 192.0.2.{s}\n", soa(s + 1))),
            };
            v = v.apply(&diff).unwrap();
        }
        assert!(matches!(plan_ixfr(&v, 4, &apex), Plan::UpToDate));
        assert!(
            matches!(plan_ixfr(&v, 9, &apex), Plan::UpToDate),
            "newer than ours"
        );
        match plan_ixfr(&v, 2, &apex) {
            Plan::Incremental(d) => {
                assert_eq!((d.from_serial(), d.to_serial()), (Some(2), Some(4)));
                assert_eq!(d.added.len(), 3, "the new SOA and h2, h3");
            }
            _ => panic!("2 → 4 is in the history"),
        }
        // A version built whole (a load, an AXFR in) has no history: the journal's turn, over
        // TCP only.
        let rebuilt = ZoneVersion::build(apex.clone(), v.records()).unwrap();
        assert!(matches!(plan_ixfr(&rebuilt, 2, &apex), Plan::Axfr));
        assert!(matches!(
            plan_ixfr(&v.without_history(), 2, &apex),
            Plan::Axfr
        ));
    }
}
