//! Binds the DNS listeners (UDP and TCP on the same port for each address) and starts their
//! workers.

use anyhow::{bail, Context};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tandem_server::metrics::QueryMetrics;
use tandem_server::tcp::{self, TcpConfig};
use tandem_server::xfr_out::TransferService;
use tandem_server::zone::ZoneSet;
use tandem_server::{udp, AnswerConfig};

/// One bound DNS address: its UDP sockets and TCP listener share the port.
pub struct DnsListener {
    pub addr: SocketAddr,
    udp: Vec<std::net::UdpSocket>,
    tcp: std::net::TcpListener,
}

/// Binds `addr` for UDP (`workers` sockets) and TCP. With port 0 the port is chosen for UDP
/// first and TCP takes the same; if TCP cannot have it, another port is tried.
pub fn bind(addr: SocketAddr, workers: usize) -> anyhow::Result<DnsListener> {
    let attempts = if addr.port() == 0 { 20 } else { 1 };
    let mut last_err = None;
    for _ in 0..attempts {
        let udp = udp::bind(addr, workers)
            .with_context(|| format!("cannot bind DNS UDP socket on {addr}"))?;
        let bound = udp[0].local_addr()?;
        match std::net::TcpListener::bind(bound) {
            Ok(tcp) => {
                tcp.set_nonblocking(true)?;
                return Ok(DnsListener {
                    addr: bound,
                    udp,
                    tcp,
                });
            }
            Err(e) => last_err = Some(e),
        }
    }
    match last_err {
        Some(e) => Err(e).with_context(|| format!("cannot bind DNS TCP socket on {addr}")),
        None => bail!("cannot bind DNS on {addr}"),
    }
}

/// Starts the UDP worker threads and the TCP accept task of a listener.
pub fn start(
    listener: DnsListener,
    zones: Arc<ZoneSet>,
    answer: AnswerConfig,
    tcp_cfg: TcpConfig,
    metrics: &QueryMetrics,
    transfers: Option<Arc<TransferService>>,
) -> anyhow::Result<()> {
    for (i, sock) in listener.udp.into_iter().enumerate() {
        let zones = zones.clone();
        let counters = metrics.register();
        let addr = listener.addr;
        let answer = answer.clone();
        std::thread::Builder::new()
            .name(format!("udp-{i}"))
            .spawn(move || {
                if let Err(e) = udp::run_worker(sock, zones, answer, counters) {
                    tracing::error!(%addr, error = %e, "UDP worker stopped");
                }
            })?;
    }
    let tcp = tokio::net::TcpListener::from_std(listener.tcp)?;
    let counters = metrics.register();
    tokio::spawn(tcp::serve(tcp, zones, answer, tcp_cfg, counters, transfers));
    Ok(())
}

/// TCP settings from the configuration.
pub fn tcp_config(idle_ms: u64, per_client: usize, total: usize) -> TcpConfig {
    TcpConfig {
        idle_timeout: Duration::from_millis(idle_ms),
        max_per_client: per_client,
        max_connections: total,
    }
}
