//! DNS over TCP (RFC 1035 §4.2.2, RFC 7766): length-prefixed messages, pipelined queries
//! answered in order, an idle timeout, a per-client and a global connection limit; when every
//! connection slot is taken, the connection idle the longest makes room for a new one.

mod table;

use crate::answer::{respond, AnswerConfig, Transport};
use crate::metrics::QueryCounters;
use crate::wire::{self, Parsed};
use crate::xfr_out::{self, TransferService};
use crate::zone::ZoneSet;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use table::{ConnectionTable, Lease};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// Limits of the TCP front end (PRODUCT.md §5).
#[derive(Clone, Copy, Debug)]
pub struct TcpConfig {
    /// Close a connection that sends nothing for this long (RFC 7766 §6.2.3).
    pub idle_timeout: Duration,
    /// Open connections allowed from one source address.
    pub max_per_client: usize,
    /// Open connections allowed in all; when they are all open, the one idle the longest is
    /// closed to make room for a new one (RFC 7766 §6.2.3).
    pub max_connections: usize,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            idle_timeout: Duration::from_secs(10),
            max_per_client: 16,
            max_connections: 1024,
        }
    }
}

/// How long a new connection waits for an evicted one to give its slot back (it wakes at
/// once; this only bounds the wait should it not).
const EVICTION_WAIT: Duration = Duration::from_secs(1);

/// Open connections per source address (PRODUCT.md §5).
type PerClient = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// Accepts connections until the task is dropped.
pub async fn serve(
    listener: TcpListener,
    zones: Arc<ZoneSet>,
    answer: AnswerConfig,
    cfg: TcpConfig,
    counters: Arc<QueryCounters>,
    transfers: Option<Arc<TransferService>>,
) {
    let per_client: PerClient = Arc::default();
    let table = ConnectionTable::new(cfg.max_connections);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // A client at its limit is refused before anything else, so it can never make
        // another client's connection go.
        let Some(client) = ClientShare::take(&per_client, peer.ip(), cfg.max_per_client) else {
            counters
                .connections
                .refused_per_client
                .fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, limit = cfg.max_per_client, "TCP connection refused: per-client limit reached");
            continue;
        };
        let Some(lease) = slot_for(&table, &counters, peer).await else {
            continue;
        };
        let zones = zones.clone();
        let counters = counters.clone();
        let transfers = transfers.clone();
        let answer = answer.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let conn = Connection {
                source: client.ip,
                zones: &zones,
                answer: &answer,
                cfg,
                counters: &counters,
                transfers: transfers.as_deref(),
            };
            conn.serve(stream, &lease).await;
            // The slot and the client's share are given back as `lease` and `client` drop.
            drop(lease);
            drop(client);
        });
    }
}

/// A slot for a new connection from `peer`: a free one, or the one of the connection idle the
/// longest, which is closed for it (RFC 7766 §6.2.3). `None` when every connection is busy
/// reading or answering a message: the new one is refused.
async fn slot_for(
    table: &Arc<ConnectionTable>,
    counters: &QueryCounters,
    peer: SocketAddr,
) -> Option<Lease> {
    if let Some(lease) = table.claim() {
        return Some(lease);
    }
    if !table.evict_longest_idle() {
        counters
            .connections
            .refused_full
            .fetch_add(1, Ordering::Relaxed);
        tracing::debug!(%peer, "TCP connection refused: every connection is busy");
        return None;
    }
    counters.connections.evicted.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(%peer, "TCP connections full: closed the one idle the longest");
    match timeout(EVICTION_WAIT, table.claim_freed()).await {
        Ok(lease) => Some(lease),
        Err(_) => {
            counters
                .connections
                .refused_full
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, "TCP connection refused: an evicted connection did not close in time");
            None
        }
    }
}

/// One open connection counted against its source address; uncounted when dropped.
struct ClientShare {
    map: PerClient,
    ip: IpAddr,
}

impl ClientShare {
    fn take(map: &PerClient, ip: IpAddr, limit: usize) -> Option<ClientShare> {
        let mut m = map.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(ip).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(ClientShare {
            map: map.clone(),
            ip,
        })
    }
}

impl Drop for ClientShare {
    fn drop(&mut self) {
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// What serving one connection needs.
struct Connection<'a> {
    source: IpAddr,
    zones: &'a ZoneSet,
    answer: &'a AnswerConfig,
    cfg: TcpConfig,
    counters: &'a QueryCounters,
    transfers: Option<&'a TransferService>,
}

/// Reusable buffers of one connection. They live as long as the connection and grow to the
/// largest message seen, so an idle connection costs a few KiB, not 3 × 64 KiB.
struct Buffers {
    msg: Vec<u8>,
    resp: Vec<u8>,
    out: Vec<u8>,
}

impl Connection<'_> {
    /// Reads a message, answers it, repeats, until EOF, error, idle timeout or eviction.
    async fn serve(&self, mut stream: TcpStream, lease: &Lease) {
        let mut bufs = Buffers {
            msg: Vec::with_capacity(512),
            resp: Vec::with_capacity(4096),
            out: Vec::with_capacity(4096),
        };
        loop {
            let mut len = [0u8; 2];
            let Some(got) = self.next_message(&mut stream, lease, &mut len).await else {
                return;
            };
            // From its first octet until its answer is out, a message keeps the connection
            // from being evicted; the idle timeout bounds each read and write instead.
            if !lease.busy() {
                return;
            }
            if got < len.len() {
                match timeout(self.cfg.idle_timeout, stream.read_exact(&mut len[got..])).await {
                    Ok(Ok(_)) => {}
                    _ => return,
                }
            }
            let len = u16::from_be_bytes(len) as usize;
            if !self.message(&mut stream, len, &mut bufs).await {
                return;
            }
            lease.idle();
        }
    }

    /// Waits, idle, for the first octets of the next message's length; how many were read,
    /// or `None` on EOF, error, idle timeout (RFC 7766 §6.2.3) or eviction.
    async fn next_message(
        &self,
        stream: &mut TcpStream,
        lease: &Lease,
        len: &mut [u8; 2],
    ) -> Option<usize> {
        let wait = async {
            tokio::select! {
                read = stream.read(len) => read.ok().filter(|&n| n > 0),
                () = lease.evicted() => None,
            }
        };
        timeout(self.cfg.idle_timeout, wait).await.ok().flatten()
    }

    /// Reads the rest of a message of `len` octets and answers it (or serves the transfer it
    /// asks for); `false` when the connection is to close.
    async fn message(&self, stream: &mut TcpStream, len: usize, bufs: &mut Buffers) -> bool {
        let Buffers { msg, resp, out } = bufs;
        msg.resize(len, 0);
        match timeout(self.cfg.idle_timeout, stream.read_exact(&mut msg[..len])).await {
            Ok(Ok(_)) => {}
            _ => return false,
        }
        if let Some(svc) = self.transfers {
            if let Parsed::Query(q) = wire::parse(&msg[..len]) {
                if xfr_out::is_transfer(&q) {
                    return xfr_out::serve(stream, &msg[..len], &q, self.zones, svc, self.source)
                        .await;
                }
            }
        }
        let Some(code) = respond(
            self.zones,
            &msg[..len],
            resp,
            Transport::Tcp,
            self.source,
            self.answer,
        ) else {
            return true;
        };
        self.counters.count(Transport::Tcp, code);
        out.clear();
        out.extend_from_slice(&(resp.len() as u16).to_be_bytes());
        out.extend_from_slice(resp);
        // A client that does not read its answers is cut off after the idle timeout.
        matches!(
            timeout(self.cfg.idle_timeout, stream.write_all(out)).await,
            Ok(Ok(()))
        )
    }
}
