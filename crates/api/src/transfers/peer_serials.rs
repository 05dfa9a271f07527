//! `GET /zones/{zone_id}/secondary_dns/peer_serials` (our extension, PRODUCT §3): the SOA
//! serial every linked peer answers right now, queried live, beside the serial we serve. The
//! multi-provider view of the dashboard is built on it: when the serials differ, a provider is
//! behind (or ahead).
//!
//! The live query is behind [`SoaProbe`], which the binary provides (a UDP SOA query, signed
//! with the peer's TSIG key when it has one); the API only picks the peers and runs the queries
//! in parallel, each bounded by [`PROBE_TIMEOUT`].
//!
//! Only the zone's linked peers are asked, only at addresses the operator's `--peer-allow`
//! permits, and a zone's answers are kept for [`CACHE_FOR`]: however often a token calls, one
//! zone causes at most one round of queries per [`CACHE_FOR`] (concurrent calls share the round
//! in flight), so the endpoint cannot be turned into a packet cannon or a port scanner. A
//! change of the linked peers (or their address, port or key) is seen at once.

use super::served_serial;
use crate::auth::{visible_zone, Caller};
use crate::envelope::{ok, ApiPath, Envelope};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_store::{Peer, PeerAllow, TsigKey};
use utoipa::ToSchema;

/// How long one peer may take to answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a zone's answers are reused.
pub const CACHE_FOR: Duration = Duration::from_secs(5);

/// Zones whose answers are kept at most (the oldest are dropped beyond it).
const CACHE_ZONES: usize = 4096;

/// What was asked (peer, role, address, key name) and when, with the answers.
struct Round {
    at: Instant,
    asked: Vec<(String, &'static str, Option<SocketAddr>, Option<String>)>,
    answers: Vec<PeerSerial>,
}

/// The last round of each zone, behind a per-zone lock so concurrent calls share one round.
#[derive(Default)]
pub(crate) struct SerialCache {
    zones: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Round>>>>>,
}

impl SerialCache {
    fn slot(&self, zone_id: &str) -> Arc<tokio::sync::Mutex<Option<Round>>> {
        let mut zones = self.zones.lock().unwrap_or_else(|e| e.into_inner());
        if zones.len() >= CACHE_ZONES && !zones.contains_key(zone_id) {
            // Drop rounds nobody waits on and that are stale; if that frees nothing, start over.
            zones.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot
                        .try_lock()
                        .map(|r| r.as_ref().is_some_and(|r| r.at.elapsed() < CACHE_FOR))
                        .unwrap_or(true)
            });
            if zones.len() >= CACHE_ZONES {
                zones.clear();
            }
        }
        zones.entry(zone_id.to_string()).or_default().clone()
    }
}

/// What a probe answers: the serial, or why there is none.
pub type ProbeResult = Pin<Box<dyn Future<Output = Result<u32, String>> + Send>>;

/// Asks a peer, live, which SOA serial it serves for a zone.
pub trait SoaProbe: Send + Sync + 'static {
    /// `zone`: name without trailing dot; `key`: the peer's TSIG key when it has one.
    fn soa_serial(&self, zone: String, addr: SocketAddr, key: Option<ProbeKey>) -> ProbeResult;
}

/// A TSIG key to sign a probe with, as stored (RFC 8945).
#[derive(Clone, PartialEq, Eq)]
pub struct ProbeKey {
    /// Key name, e.g. `k1.example.`.
    pub name: String,
    /// Canonical algorithm name, e.g. `hmac-sha256.`.
    pub algorithm: String,
    /// Base64 of the secret.
    pub secret: String,
}

impl std::fmt::Debug for ProbeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("ProbeKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// The serial one linked peer answers, beside ours.
#[derive(Serialize, ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct PeerSerial {
    pub peer_id: String,
    pub name: String,
    /// `null` when the peer has no address (it cannot be asked).
    pub ip: Option<String>,
    pub port: u16,
    /// `primary` (linked to the zone's incoming configuration: we transfer from it) or
    /// `secondary` (linked to its outgoing configuration: it transfers from us).
    pub role: String,
    /// The serial of the SOA the peer answered; `null` when it did not answer one.
    pub serial: Option<u32>,
    /// Why there is no serial; `null` when there is one.
    pub error: Option<String>,
    /// Round-trip time of the query that answered, in milliseconds.
    pub rtt_ms: Option<u64>,
    /// The serial we serve; `null` while we serve none (a secondary zone before its first
    /// transfer).
    pub our_serial: Option<u32>,
}

/// One peer to ask.
struct Probe {
    out: PeerSerial,
    role: &'static str,
    addr: Option<SocketAddr>,
    key: Option<ProbeKey>,
}

#[utoipa::path(get, path = "/client/v4/zones/{zone_id}/secondary_dns/peer_serials", operation_id = "peer_serials", tag = "Zone transfers",
    params(("zone_id" = String, Path)),
    responses((status = 200, description = "one entry per linked peer and role, each queried live (at most 2 s each, in parallel; a zone's answers are reused for 5 s); empty without transfer configuration", body = Envelope<Vec<PeerSerial>>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (zone_id, zone_name, our_serial, probes) = state
        .run(move |s| {
            let zone = visible_zone(s, &caller, &zone_id)?;
            let our_serial = served_serial(s, &zone);
            let mut linked = Vec::new();
            if let Some(cfg) = s.store().incoming_config(&zone.id)? {
                linked.extend(cfg.peers.into_iter().map(|p| (p, "primary")));
            }
            if let Some(cfg) = s.store().outgoing_config(&zone.id)? {
                linked.extend(cfg.peers.into_iter().map(|p| (p, "secondary")));
            }
            if linked.is_empty() {
                return Ok((zone.id, zone.name, our_serial, Vec::new()));
            }
            let peers = s.store().peers(&zone.account_id)?;
            let keys = s.store().tsig_keys(&zone.account_id)?;
            let probes = linked
                .into_iter()
                .filter_map(|(id, role)| {
                    let peer = peers.iter().find(|p| p.id == id)?;
                    Some(probe_of(peer, role, &keys, our_serial))
                })
                .collect();
            Ok((zone.id, zone.name, our_serial, probes))
        })
        .await?;
    if probes.is_empty() {
        return Ok(ok(Vec::<PeerSerial>::new()));
    }
    let asked: Vec<_> = probes
        .iter()
        .map(|p: &Probe| {
            let key = p.key.as_ref().map(|k| format!("{} {}", k.name, k.secret));
            (p.out.peer_id.clone(), p.role, p.addr, key)
        })
        .collect();
    let slot = state.serial_cache().slot(&zone_id);
    // Held across the round: a second caller waits for it and then reads its answers.
    let mut round = slot.lock().await;
    if let Some(r) = round.as_ref() {
        if r.at.elapsed() < CACHE_FOR && r.asked == asked {
            let mut answers = r.answers.clone();
            for a in &mut answers {
                a.our_serial = our_serial;
            }
            return Ok(ok(answers));
        }
    }
    let prober = state.soa_probe();
    let allow = state.config().peer_allow.clone();
    let handles: Vec<_> = probes
        .into_iter()
        .map(|p| tokio::spawn(ask(prober.clone(), allow.clone(), zone_name.clone(), p)))
        .collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.map_err(ApiError::internal)?);
    }
    *round = Some(Round {
        at: Instant::now(),
        asked,
        answers: out.clone(),
    });
    Ok(ok(out))
}

/// What asking `peer` needs, with the answer still empty.
fn probe_of(peer: &Peer, role: &'static str, keys: &[TsigKey], our_serial: Option<u32>) -> Probe {
    let key = peer
        .tsig_id
        .as_deref()
        .and_then(|id| keys.iter().find(|k| k.id == id))
        .map(|k| ProbeKey {
            name: k.name.clone(),
            algorithm: k.algorithm.as_str().to_string(),
            secret: k.secret.clone(),
        });
    Probe {
        out: PeerSerial {
            peer_id: peer.id.clone(),
            name: peer.name.clone(),
            ip: peer.ip.map(|ip| ip.to_string()),
            port: peer.port,
            role: role.to_string(),
            serial: None,
            error: None,
            rtt_ms: None,
            our_serial,
        },
        role,
        addr: peer.ip.map(|ip| SocketAddr::new(ip, peer.port)),
        key,
    }
}

/// Asks one peer, within [`PROBE_TIMEOUT`], and fills in its answer.
async fn ask(
    prober: Option<Arc<dyn SoaProbe>>,
    allow: PeerAllow,
    zone: String,
    probe: Probe,
) -> PeerSerial {
    let Probe {
        mut out, addr, key, ..
    } = probe;
    let Some(prober) = prober else {
        out.error = Some("peer probing is not available".into());
        return out;
    };
    let Some(addr) = addr else {
        out.error = Some("the peer has no ip address to ask".into());
        return out;
    };
    if !allow.permits(addr.ip()) {
        out.error = Some(format!(
            "{} is outside the addresses this server may send to (--peer-allow)",
            addr.ip()
        ));
        return out;
    }
    let started = Instant::now();
    match tokio::time::timeout(PROBE_TIMEOUT, prober.soa_serial(zone, addr, key)).await {
        Ok(Ok(serial)) => {
            out.serial = Some(serial);
            out.rtt_ms = Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
        }
        Ok(Err(why)) => out.error = Some(why),
        Err(_) => {
            out.error = Some(format!(
                "no answer within {} s",
                PROBE_TIMEOUT.as_secs_f32()
            ))
        }
    }
    out
}
