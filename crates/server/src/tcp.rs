//! DNS over TCP (RFC 1035 §4.2.2, RFC 7766): length-prefixed messages, pipelined queries
//! answered in order, an idle timeout, a per-client and a global connection limit.

use crate::answer::{respond, AnswerConfig, Transport};
use crate::metrics::QueryCounters;
use crate::wire::{self, Parsed};
use crate::xfr_out::{self, TransferService};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tandem_zone::ZoneSet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;

/// Limits of the TCP front end (PRODUCT.md §5).
#[derive(Clone, Copy, Debug)]
pub struct TcpConfig {
    /// Close a connection that sends nothing for this long (RFC 7766 §6.2.3).
    pub idle_timeout: Duration,
    /// Open connections allowed from one source address.
    pub max_per_client: usize,
    /// Open connections allowed in all.
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

/// Accepts connections until the task is dropped.
pub async fn serve(
    listener: TcpListener,
    zones: Arc<ZoneSet>,
    answer: AnswerConfig,
    cfg: TcpConfig,
    counters: Arc<QueryCounters>,
    transfers: Option<Arc<TransferService>>,
) {
    let per_client: Arc<Mutex<HashMap<IpAddr, usize>>> = Arc::default();
    let total = Arc::new(Semaphore::new(cfg.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = total.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "TCP connection refused: server connection limit reached");
            continue;
        };
        let ip = peer.ip();
        {
            let mut map = per_client.lock().unwrap_or_else(|e| e.into_inner());
            let n = map.entry(ip).or_insert(0);
            if *n >= cfg.max_per_client {
                tracing::debug!(%peer, limit = cfg.max_per_client, "TCP connection refused: per-client limit reached");
                continue;
            }
            *n += 1;
        }
        let zones = zones.clone();
        let counters = counters.clone();
        let per_client = per_client.clone();
        let transfers = transfers.clone();
        let answer = answer.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            connection(
                stream,
                ip,
                &zones,
                &answer,
                cfg,
                &counters,
                transfers.as_deref(),
            )
            .await;
            drop(permit);
            let mut map = per_client.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = map.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&ip);
                }
            }
        });
    }
}

/// Serves one connection: read a message, answer it, repeat, until EOF, error or idle timeout.
async fn connection(
    mut stream: TcpStream,
    source: IpAddr,
    zones: &ZoneSet,
    answer: &AnswerConfig,
    cfg: TcpConfig,
    counters: &QueryCounters,
    transfers: Option<&TransferService>,
) {
    // Buffers live as long as the connection and grow to the largest message seen, so an idle
    // connection costs a few KiB, not 3 × 64 KiB.
    let mut msg = Vec::with_capacity(512);
    let mut out: Vec<u8> = Vec::with_capacity(4096);
    let mut resp = Vec::with_capacity(4096);
    loop {
        let mut len = [0u8; 2];
        match timeout(cfg.idle_timeout, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let len = u16::from_be_bytes(len) as usize;
        msg.resize(len, 0);
        match timeout(cfg.idle_timeout, stream.read_exact(&mut msg[..len])).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        if let Some(svc) = transfers {
            if let Parsed::Query(q) = wire::parse(&msg[..len]) {
                if xfr_out::is_transfer(&q) {
                    if !xfr_out::serve(&mut stream, &msg[..len], &q, zones, svc, source).await {
                        return;
                    }
                    continue;
                }
            }
        }
        let Some(code) = respond(
            zones,
            &msg[..len],
            &mut resp,
            Transport::Tcp,
            source,
            answer,
        ) else {
            continue;
        };
        counters.count(Transport::Tcp, code);
        out.clear();
        out.extend_from_slice(&(resp.len() as u16).to_be_bytes());
        out.extend_from_slice(&resp);
        // A client that does not read its answers is cut off after the idle timeout.
        match timeout(cfg.idle_timeout, stream.write_all(&out)).await {
            Ok(Ok(())) => {}
            _ => return,
        }
    }
}
