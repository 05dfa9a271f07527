//! Query counters by transport and response code, kept per worker so the query path never
//! shares a cache line with another core (`tandem_queries_total{transport,rcode}`), and the
//! TCP accept loop's connection counters (`tandem_tcp_connections_evicted_total`,
//! `tandem_tcp_connections_refused_total{reason}`).

use crate::answer::Transport;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Response codes counted one by one; anything above lands in the last bucket.
const RCODES: usize = 24;

/// The counters of one worker.
pub struct QueryCounters {
    counts: [[AtomicU64; RCODES]; 2],
    /// Kept by a TCP accept loop; zero for a UDP worker.
    pub connections: ConnectionCounters,
}

/// What a TCP accept loop did with the connections it could not simply take.
#[derive(Default)]
pub struct ConnectionCounters {
    /// Idle connections closed to make room for a new one (RFC 7766 §6.2.3).
    pub evicted: AtomicU64,
    /// New connections closed because their address had its share already.
    pub refused_per_client: AtomicU64,
    /// New connections closed because every slot was taken and none was idle.
    pub refused_full: AtomicU64,
}

impl ConnectionCounters {
    fn totals(&self) -> [u64; 3] {
        [
            self.evicted.load(Ordering::Relaxed),
            self.refused_per_client.load(Ordering::Relaxed),
            self.refused_full.load(Ordering::Relaxed),
        ]
    }
}

impl QueryCounters {
    fn new() -> Self {
        QueryCounters {
            counts: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            connections: ConnectionCounters::default(),
        }
    }

    /// Counts one answered query.
    #[inline]
    pub fn count(&self, transport: Transport, rcode: u16) {
        let t = transport as usize;
        let r = (rcode as usize).min(RCODES - 1);
        self.counts[t][r].fetch_add(1, Ordering::Relaxed);
    }
}

/// Every worker's counters.
#[derive(Default)]
pub struct QueryMetrics {
    workers: Mutex<Vec<Arc<QueryCounters>>>,
}

impl QueryMetrics {
    /// Counters for a new worker.
    pub fn register(&self) -> Arc<QueryCounters> {
        let c = Arc::new(QueryCounters::new());
        self.workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(c.clone());
        c
    }

    /// Sums over workers: `[transport][rcode]`.
    pub fn totals(&self) -> [[u64; RCODES]; 2] {
        let mut out = [[0u64; RCODES]; 2];
        for w in self
            .workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            for (t, row) in w.counts.iter().enumerate() {
                for (r, c) in row.iter().enumerate() {
                    out[t][r] += c.load(Ordering::Relaxed);
                }
            }
        }
        out
    }

    /// Sums over workers of [`ConnectionCounters`]: evicted, refused per client, refused full.
    pub fn connection_totals(&self) -> [u64; 3] {
        let mut out = [0u64; 3];
        for w in self
            .workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            for (o, n) in out.iter_mut().zip(w.connections.totals()) {
                *o += n;
            }
        }
        out
    }

    /// Prometheus text for `tandem_queries_total` and the TCP connection counters.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        out.push_str(
            "# HELP tandem_queries_total DNS queries answered, by transport and response code.\n",
        );
        out.push_str("# TYPE tandem_queries_total counter\n");
        for (t, row) in self.totals().iter().enumerate() {
            let transport = if t == 0 { "udp" } else { "tcp" };
            for (r, n) in row.iter().enumerate() {
                if *n > 0 {
                    let _ = writeln!(
                        out,
                        "tandem_queries_total{{transport=\"{transport}\",rcode=\"{}\"}} {n}",
                        rcode_name(r as u16)
                    );
                }
            }
        }
        let [evicted, per_client, full] = self.connection_totals();
        let _ = writeln!(
            out,
            "# HELP tandem_tcp_connections_evicted_total Idle DNS TCP connections closed to make \
             room for a new one when every slot was taken.\n\
             # TYPE tandem_tcp_connections_evicted_total counter\n\
             tandem_tcp_connections_evicted_total {evicted}\n\
             # HELP tandem_tcp_connections_refused_total New DNS TCP connections closed at once, \
             by reason.\n\
             # TYPE tandem_tcp_connections_refused_total counter\n\
             tandem_tcp_connections_refused_total{{reason=\"per_client\"}} {per_client}\n\
             tandem_tcp_connections_refused_total{{reason=\"full\"}} {full}"
        );
    }
}

/// Mnemonic of a response code (RFC 6895 §2.3).
pub fn rcode_name(r: u16) -> &'static str {
    match r {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        9 => "NOTAUTH",
        16 => "BADVERS",
        _ => "OTHER",
    }
}
