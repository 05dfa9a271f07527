//! The load loop: connected non-blocking UDP sockets, `sendmmsg` to keep a
//! window of queries in flight, `recvmmsg` to collect responses, ids matched
//! back to the outstanding query (and its question checked), and queries
//! unanswered after `timeout` counted as lost.
//!
//! Each thread owns some sockets; each socket has its own 16-bit id space,
//! handed out from a shuffled FIFO so an id is reused as late as possible.
//! With a rate, each thread sends at most its share of it (so a run can
//! offer a fixed load, and CPU per message can be compared at equal load).

use std::collections::VecDeque;
use std::io;
use std::mem;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::gen::SplitMix64;
use crate::wire::{check_response, message_id, rcode_name, QuerySet};

/// Receive buffer per message; responses here are far smaller.
const RECV_BUF: usize = 4096;
/// Most queries one socket may have in flight (ids are 16-bit).
pub const MAX_WINDOW_PER_SOCKET: usize = 60_000;

/// Parameters of one run.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: SocketAddr,
    pub duration: Duration,
    pub in_flight: usize,
    pub batch: usize,
    pub sockets: usize,
    pub threads: usize,
    pub timeout: Duration,
    pub seed: u64,
    /// Messages per second over all threads; 0 for as many as the window allows.
    pub rate: f64,
    /// Loopback address to send from (the system's choice when `None`).
    pub source: Option<IpAddr>,
}

/// Counters of a run (summed over threads).
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub sent: u64,
    pub received: u64,
    /// Responses received before the sending phase ended.
    pub received_in_window: u64,
    pub rcodes: [u64; 16],
    pub truncated: u64,
    pub lost: u64,
    /// Responses whose id was outstanding but whose question differed.
    pub mismatched: u64,
    /// Responses with an id not outstanding (late after timeout, or junk).
    pub unexpected: u64,
    pub send_errors: u64,
    pub latency_ns_sum: u128,
    /// Length of the sending phase.
    pub window: Duration,
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.sent += o.sent;
        self.received += o.received;
        self.received_in_window += o.received_in_window;
        for (a, b) in self.rcodes.iter_mut().zip(o.rcodes.iter()) {
            *a += b;
        }
        self.truncated += o.truncated;
        self.lost += o.lost;
        self.mismatched += o.mismatched;
        self.unexpected += o.unexpected;
        self.send_errors += o.send_errors;
        self.latency_ns_sum += o.latency_ns_sum;
        self.window = self.window.max(o.window);
    }

    /// Responses per second during the sending phase.
    pub fn qps(&self) -> f64 {
        let secs = self.window.as_secs_f64();
        if secs > 0.0 {
            self.received_in_window as f64 / secs
        } else {
            0.0
        }
    }

    /// One-line JSON summary.
    pub fn to_json(&self, cfg: &Config) -> String {
        let mut rcodes = vec![format!("\"NOERROR\":{}", self.rcodes[0])];
        for (code, n) in self.rcodes.iter().enumerate().skip(1) {
            if *n > 0 {
                rcodes.push(format!("\"{}\":{}", rcode_name(code as u8), n));
            }
        }
        let lat = if self.received > 0 {
            self.latency_ns_sum as f64 / self.received as f64 / 1000.0
        } else {
            0.0
        };
        format!(
            "{{\"sent\":{},\"received\":{},\"qps\":{:.0},\"rcodes\":{{{}}},\"lost\":{},\
             \"duration\":{:.3},\"truncated\":{},\"mismatched\":{},\"unexpected\":{},\
             \"send_errors\":{},\"latency_avg_us\":{:.1},\"server\":\"{}\",\"in_flight\":{},\
             \"batch\":{},\"sockets\":{},\"threads\":{},\"rate\":{},\"source\":{}}}",
            self.sent,
            self.received,
            self.qps(),
            rcodes.join(","),
            self.lost,
            self.window.as_secs_f64(),
            self.truncated,
            self.mismatched,
            self.unexpected,
            self.send_errors,
            lat,
            cfg.server,
            cfg.in_flight,
            cfg.batch,
            cfg.sockets,
            cfg.threads,
            cfg.rate,
            cfg.source
                .map_or_else(|| "null".to_string(), |ip| format!("\"{ip}\"")),
        )
    }
}

/// Refuses anything but loopback (127.0.0.0/8 or ::1).
pub fn ensure_loopback(addr: &SocketAddr) -> Result<()> {
    if !addr.ip().is_loopback() {
        bail!("refusing non-loopback server {addr}: only 127.0.0.0/8 and ::1 are allowed");
    }
    Ok(())
}

/// Outstanding-query bookkeeping of one socket: which ids are in flight,
/// for which query, since when. Independent of any I/O so it can be tested.
#[derive(Debug)]
pub struct Tracker {
    free: VecDeque<u16>,
    /// Per id: send sequence number (0 = free), query index, send time.
    seq: Vec<u64>,
    query: Vec<u32>,
    sent_ns: Vec<u64>,
    /// (id, seq, sent_ns) in send order, for timeouts.
    pending: VecDeque<(u16, u64, u64)>,
    next_seq: u64,
    outstanding: usize,
}

/// Result of matching a response id.
#[derive(Debug, PartialEq, Eq)]
pub enum Match {
    /// The id is in flight for this query, sent at this time.
    Outstanding { query: u32, sent_ns: u64 },
    /// The id is not in flight.
    Unknown,
}

impl Tracker {
    /// New tracker with all 65536 ids free, in a seed-dependent order.
    pub fn new(seed: u64) -> Self {
        let mut ids: Vec<u16> = (0..=u16::MAX).collect();
        let mut rng = SplitMix64::new(seed);
        for i in (1..ids.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            ids.swap(i, j);
        }
        Tracker {
            free: ids.into(),
            seq: vec![0; 65536],
            query: vec![0; 65536],
            sent_ns: vec![0; 65536],
            pending: VecDeque::new(),
            next_seq: 1,
            outstanding: 0,
        }
    }

    /// Number of queries in flight.
    pub fn outstanding(&self) -> usize {
        self.outstanding
    }

    /// The id the `k`-th next call to [`Tracker::commit`] will use.
    pub fn peek_id(&self, k: usize) -> u16 {
        self.free[k]
    }

    /// Marks the next free id as sent for `query` at `now_ns`; returns it.
    pub fn commit(&mut self, query: u32, now_ns: u64) -> u16 {
        let id = self.free.pop_front().expect("id space exhausted");
        let seq = self.next_seq;
        self.next_seq += 1;
        let i = id as usize;
        self.seq[i] = seq;
        self.query[i] = query;
        self.sent_ns[i] = now_ns;
        self.pending.push_back((id, seq, now_ns));
        self.outstanding += 1;
        id
    }

    /// Looks an id up without changing anything.
    pub fn lookup(&self, id: u16) -> Match {
        let i = id as usize;
        if self.seq[i] == 0 {
            Match::Unknown
        } else {
            Match::Outstanding {
                query: self.query[i],
                sent_ns: self.sent_ns[i],
            }
        }
    }

    /// Frees an outstanding id (response received).
    pub fn complete(&mut self, id: u16) {
        let i = id as usize;
        debug_assert!(self.seq[i] != 0);
        self.seq[i] = 0;
        self.outstanding -= 1;
        self.free.push_back(id);
    }

    /// Frees ids sent at or before `deadline_ns` that are still
    /// outstanding; returns how many were lost.
    pub fn expire(&mut self, deadline_ns: u64) -> u64 {
        let mut lost = 0;
        while let Some(&(id, seq, sent)) = self.pending.front() {
            if self.seq[id as usize] != seq {
                // Already answered: drop the stale entry whatever its age.
                self.pending.pop_front();
                continue;
            }
            if sent > deadline_ns {
                break;
            }
            self.pending.pop_front();
            self.complete(id);
            lost += 1;
        }
        lost
    }
}

/// A connected non-blocking UDP socket with its tracker and query cursor.
struct Sock {
    fd: OwnedFd,
    tracker: Tracker,
    window: usize,
    next_query: usize,
}

fn sockaddr_of(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero bytes are a valid sockaddr_storage.
    let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            let sin = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
            let sin6 = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_scope_id = a.scope_id();
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

fn set_buf(fd: RawFd, force: libc::c_int, plain: libc::c_int, size: libc::c_int) {
    let p = &size as *const libc::c_int as *const libc::c_void;
    let l = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: valid fd and a c_int option value; failures are harmless.
    unsafe {
        if libc::setsockopt(fd, libc::SOL_SOCKET, force, p, l) != 0 {
            libc::setsockopt(fd, libc::SOL_SOCKET, plain, p, l);
        }
    }
}

/// Opens a non-blocking UDP socket connected to `server`, bound to `source`
/// (any port) when given.
fn connect_udp(server: &SocketAddr, source: Option<IpAddr>) -> Result<OwnedFd> {
    let family = if server.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket(2) call.
    let fd = unsafe {
        libc::socket(
            family,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error()).context("socket");
    }
    // SAFETY: fd was just created and is owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    set_buf(fd, libc::SO_RCVBUFFORCE, libc::SO_RCVBUF, 8 << 20);
    set_buf(fd, libc::SO_SNDBUFFORCE, libc::SO_SNDBUF, 4 << 20);
    if let Some(ip) = source {
        let (ss, len) = sockaddr_of(&SocketAddr::new(ip, 0));
        // SAFETY: ss holds a valid address of length len.
        let rc = unsafe { libc::bind(fd, &ss as *const _ as *const libc::sockaddr, len) };
        if rc != 0 {
            return Err(io::Error::last_os_error()).with_context(|| format!("bind {ip}"));
        }
    }
    let (ss, len) = sockaddr_of(server);
    // SAFETY: ss holds a valid address of length len.
    let rc = unsafe { libc::connect(fd, &ss as *const _ as *const libc::sockaddr, len) };
    if rc != 0 {
        return Err(io::Error::last_os_error()).context("connect");
    }
    Ok(owned)
}

/// Reusable message arrays for sendmmsg/recvmmsg.
struct Batches {
    batch: usize,
    id_bufs: Vec<[u8; 2]>,
    send_iov: Vec<libc::iovec>,
    send_msgs: Vec<libc::mmsghdr>,
    query_of: Vec<u32>,
    recv_buf: Vec<u8>,
    recv_iov: Vec<libc::iovec>,
    recv_msgs: Vec<libc::mmsghdr>,
}

impl Batches {
    fn new(batch: usize) -> Self {
        // SAFETY: zeroed iovec/mmsghdr are valid (null pointers, zero lengths).
        let zero_iov: libc::iovec = unsafe { mem::zeroed() };
        let zero_msg: libc::mmsghdr = unsafe { mem::zeroed() };
        let mut b = Batches {
            batch,
            id_bufs: vec![[0; 2]; batch],
            send_iov: vec![zero_iov; batch * 2],
            send_msgs: vec![zero_msg; batch],
            query_of: vec![0; batch],
            recv_buf: vec![0; batch * RECV_BUF],
            recv_iov: vec![zero_iov; batch],
            recv_msgs: vec![zero_msg; batch],
        };
        for i in 0..batch {
            b.recv_iov[i].iov_base = b.recv_buf[i * RECV_BUF..].as_mut_ptr() as *mut libc::c_void;
            b.recv_iov[i].iov_len = RECV_BUF;
        }
        b
    }
}

/// Per-thread state.
struct Worker<'a> {
    queries: &'a QuerySet,
    socks: Vec<Sock>,
    b: Batches,
    stats: Stats,
    start: Instant,
    /// This thread's share of the rate, per second; 0 for no limit.
    rate: f64,
}

fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EAGAIN) | Some(libc::ENOBUFS) | Some(libc::EINTR)
    )
}

impl Worker<'_> {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Messages the rate allows now (all of them without a rate).
    fn rate_allows(&self) -> usize {
        if self.rate <= 0.0 {
            return usize::MAX;
        }
        let due = (self.start.elapsed().as_secs_f64() * self.rate) as u64 + 1;
        due.saturating_sub(self.stats.sent) as usize
    }

    /// Sends up to one batch on socket `s`; returns how many went out.
    fn send(&mut self, s: usize) -> usize {
        let allowed = self.rate_allows();
        let sock = &mut self.socks[s];
        let room = sock.window.saturating_sub(sock.tracker.outstanding());
        let n = room.min(self.b.batch).min(allowed);
        if n == 0 {
            return 0;
        }
        let nq = self.queries.len();
        for k in 0..n {
            let q = (sock.next_query + k) % nq;
            let msg = self.queries.message(q);
            self.b.id_bufs[k] = sock.tracker.peek_id(k).to_be_bytes();
            self.b.query_of[k] = q as u32;
            let iov = &mut self.b.send_iov[2 * k..2 * k + 2];
            iov[0].iov_base = self.b.id_bufs[k].as_mut_ptr() as *mut libc::c_void;
            iov[0].iov_len = 2;
            iov[1].iov_base = msg[2..].as_ptr() as *mut libc::c_void;
            iov[1].iov_len = msg.len() - 2;
            let hdr = &mut self.b.send_msgs[k].msg_hdr;
            hdr.msg_iov = iov.as_mut_ptr();
            hdr.msg_iovlen = 2;
        }
        // SAFETY: the n headers point at live iovecs and buffers.
        let rc = unsafe {
            libc::sendmmsg(
                sock.fd.as_raw_fd(),
                self.b.send_msgs.as_mut_ptr(),
                n as libc::c_uint,
                0,
            )
        };
        if rc < 0 {
            let err = io::Error::last_os_error();
            if !is_transient(&err) {
                self.stats.send_errors += 1;
            }
            return 0;
        }
        let sent = rc as usize;
        let now = self.start.elapsed().as_nanos() as u64;
        for k in 0..sent {
            sock.tracker.commit(self.b.query_of[k], now);
        }
        sock.next_query = (sock.next_query + sent) % nq;
        self.stats.sent += sent as u64;
        sent
    }

    /// Receives one batch on socket `s`; returns how many datagrams.
    fn recv(&mut self, s: usize) -> usize {
        let batch = self.b.batch;
        for i in 0..batch {
            let hdr = &mut self.b.recv_msgs[i].msg_hdr;
            hdr.msg_iov = &mut self.b.recv_iov[i];
            hdr.msg_iovlen = 1;
            self.b.recv_msgs[i].msg_len = 0;
        }
        let sock = &mut self.socks[s];
        // SAFETY: the headers point at live iovecs covering recv_buf.
        let rc = unsafe {
            libc::recvmmsg(
                sock.fd.as_raw_fd(),
                self.b.recv_msgs.as_mut_ptr(),
                batch as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if rc <= 0 {
            return 0;
        }
        let got = rc as usize;
        let now = self.start.elapsed().as_nanos() as u64;
        for i in 0..got {
            let len = (self.b.recv_msgs[i].msg_len as usize).min(RECV_BUF);
            let msg = &self.b.recv_buf[i * RECV_BUF..i * RECV_BUF + len];
            let Some(id) = message_id(msg) else {
                self.stats.unexpected += 1;
                continue;
            };
            match sock.tracker.lookup(id) {
                Match::Unknown => self.stats.unexpected += 1,
                Match::Outstanding { query, sent_ns } => {
                    match check_response(msg, self.queries.question(query as usize)) {
                        Some(info) => {
                            sock.tracker.complete(id);
                            self.stats.received += 1;
                            self.stats.rcodes[info.rcode as usize] += 1;
                            self.stats.truncated += info.truncated as u64;
                            self.stats.latency_ns_sum += now.saturating_sub(sent_ns) as u128;
                        }
                        None => self.stats.mismatched += 1,
                    }
                }
            }
        }
        got
    }

    fn expire(&mut self, timeout: Duration) {
        let now = self.now_ns();
        let t = timeout.as_nanos() as u64;
        if now < t {
            return;
        }
        for s in &mut self.socks {
            self.stats.lost += s.tracker.expire(now - t);
        }
    }

    fn outstanding(&self) -> usize {
        self.socks.iter().map(|s| s.tracker.outstanding()).sum()
    }

    /// Waits up to `ms` for any socket to become readable.
    fn wait_readable(&self, ms: i32) {
        let mut fds: Vec<libc::pollfd> = self
            .socks
            .iter()
            .map(|s| libc::pollfd {
                fd: s.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: fds is a valid array of pollfd.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    }

    fn run(&mut self, duration: Duration, timeout: Duration) {
        let n = self.socks.len();
        let deadline = self.start + duration;
        loop {
            if Instant::now() >= deadline {
                break;
            }
            let mut progress = false;
            for s in 0..n {
                progress |= self.send(s) > 0;
                // Drain what is ready, a bounded number of batches.
                for _ in 0..8 {
                    let got = self.recv(s);
                    progress |= got > 0;
                    if got < self.b.batch {
                        break;
                    }
                }
            }
            self.expire(timeout);
            if !progress {
                self.wait_readable(1);
            }
        }
        self.stats.window = self.start.elapsed();
        self.stats.received_in_window = self.stats.received;
        // Collect responses still in flight, for at most `timeout`.
        let drain_end = Instant::now() + timeout;
        while self.outstanding() > 0 && Instant::now() < drain_end {
            let mut got = 0;
            for s in 0..n {
                got += self.recv(s);
            }
            if got == 0 {
                self.wait_readable(1);
            }
        }
        self.stats.lost += self.outstanding() as u64;
    }
}

/// Runs the load and returns the summed counters.
pub fn run(cfg: &Config, queries: &QuerySet) -> Result<Stats> {
    ensure_loopback(&cfg.server)?;
    if queries.is_empty() {
        bail!("no queries");
    }
    if cfg.batch == 0 || cfg.sockets == 0 || cfg.threads == 0 || cfg.in_flight == 0 {
        bail!("--batch, --sockets, --threads and --in-flight must be positive");
    }
    if cfg.threads > cfg.sockets {
        bail!("--threads must not exceed --sockets");
    }
    if !(cfg.rate >= 0.0 && cfg.rate.is_finite()) {
        bail!("--rate must be a non-negative number");
    }
    if let Some(ip) = cfg.source {
        ensure_loopback(&SocketAddr::new(ip, 0))?;
        if ip.is_ipv4() != cfg.server.is_ipv4() {
            bail!(
                "--source {ip} and --server {} are of different families",
                cfg.server
            );
        }
    }
    let per_socket = cfg.in_flight.div_ceil(cfg.sockets);
    if per_socket > MAX_WINDOW_PER_SOCKET {
        bail!("--in-flight per socket above {MAX_WINDOW_PER_SOCKET}; add --sockets");
    }
    let mut all = Vec::with_capacity(cfg.threads);
    for _ in 0..cfg.threads {
        all.push(Vec::new());
    }
    for i in 0..cfg.sockets {
        all[i % cfg.threads].push(Sock {
            fd: connect_udp(&cfg.server, cfg.source)?,
            tracker: Tracker::new(cfg.seed.wrapping_add(i as u64)),
            window: per_socket,
            next_query: i * queries.len() / cfg.sockets,
        });
    }
    let batch = cfg.batch;
    let results: Vec<Stats> = std::thread::scope(|scope| {
        let handles: Vec<_> = all
            .into_iter()
            .map(|socks| {
                scope.spawn(move || {
                    let mut w = Worker {
                        queries,
                        socks,
                        b: Batches::new(batch),
                        stats: Stats::default(),
                        start: Instant::now(),
                        rate: cfg.rate / cfg.threads as f64,
                    };
                    w.run(cfg.duration, cfg.timeout);
                    w.stats
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker panicked"))
            .collect()
    });
    let mut total = Stats::default();
    for r in &results {
        total.add(r);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn only_loopback_is_allowed() {
        for ok in ["127.0.0.1:53", "127.1.2.3:5300", "[::1]:53"] {
            assert!(ensure_loopback(&ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for bad in [
            "10.0.0.1:53",
            "192.168.1.1:53",
            "8.8.8.8:53",
            "[2001:db8::1]:53",
        ] {
            assert!(ensure_loopback(&bad.parse().unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn tracker_matches_and_frees_ids() {
        let mut t = Tracker::new(42);
        let first = t.peek_id(0);
        let second = t.peek_id(1);
        assert_eq!(t.commit(7, 100), first);
        assert_eq!(t.commit(8, 200), second);
        assert_ne!(first, second);
        assert_eq!(t.outstanding(), 2);
        assert_eq!(
            t.lookup(second),
            Match::Outstanding {
                query: 8,
                sent_ns: 200
            }
        );
        t.complete(second);
        assert_eq!(t.lookup(second), Match::Unknown);
        assert_eq!(t.outstanding(), 1);
        // Only the query sent at 100 is older than the deadline.
        assert_eq!(t.expire(150), 1);
        assert_eq!(t.lookup(first), Match::Unknown);
        assert_eq!(t.outstanding(), 0);
        assert_eq!(t.expire(10_000), 0);
    }

    #[test]
    fn ids_are_shuffled_and_reused_late() {
        let mut t = Tracker::new(1);
        let ids: Vec<u16> = (0..1000).map(|i| t.commit(i, 0)).collect();
        let sequential = ids
            .windows(2)
            .filter(|w| w[1] == w[0].wrapping_add(1))
            .count();
        assert!(sequential < 10, "ids look sequential");
        t.complete(ids[0]);
        // A freed id goes to the back of the queue.
        for _ in 0..(65536 - 1000) {
            assert_ne!(t.commit(0, 0), ids[0]);
        }
        assert_eq!(t.commit(0, 0), ids[0]);
    }

    /// A tiny responder on loopback that answers every query with QR set
    /// until `stop` is raised.
    fn echo_server(rcode: u8, stop: Arc<AtomicBool>) -> (SocketAddr, std::thread::JoinHandle<()>) {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !stop.load(Ordering::Relaxed) {
                if let Ok((n, peer)) = sock.recv_from(&mut buf) {
                    buf[2] |= 0x84;
                    buf[3] = (buf[3] & 0xf0) | rcode;
                    let _ = sock.send_to(&buf[..n], peer);
                }
            }
        });
        (addr, h)
    }

    #[test]
    fn end_to_end_against_echo_server() {
        let stop = Arc::new(AtomicBool::new(false));
        let (addr, h) = echo_server(3, stop.clone());
        let mut qs = QuerySet::default();
        for i in 0..50 {
            qs.push(&format!("q{i}.bench.test"), 1, false).unwrap();
        }
        let cfg = Config {
            server: addr,
            duration: Duration::from_millis(200),
            in_flight: 32,
            batch: 8,
            sockets: 2,
            threads: 2,
            // Generous, so a slow CI machine loses nothing; the drain ends
            // as soon as every answer is in.
            timeout: Duration::from_secs(5),
            seed: 3,
            rate: 0.0,
            source: None,
        };
        let st = run(&cfg, &qs).unwrap();
        stop.store(true, Ordering::Relaxed);
        h.join().unwrap();
        assert!(st.received > 0);
        assert_eq!(st.received, st.rcodes[3]);
        assert_eq!(st.sent, st.received + st.lost);
        assert_eq!(st.lost, 0);
        assert_eq!(st.mismatched, 0);
        let json = st.to_json(&cfg);
        assert!(json.starts_with("{\"sent\":"), "{json}");
        assert!(json.contains("\"NXDOMAIN\":"), "{json}");
    }

    #[test]
    fn a_rate_caps_what_is_sent_and_a_source_is_used() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut qs = QuerySet::default();
        qs.push_notify("sec.test").unwrap();
        let cfg = Config {
            server: server.local_addr().unwrap(),
            duration: Duration::from_millis(300),
            in_flight: 1000,
            batch: 64,
            sockets: 1,
            threads: 1,
            timeout: Duration::from_millis(50),
            seed: 5,
            rate: 100.0,
            source: Some("127.0.0.2".parse().unwrap()),
        };
        let st = run(&cfg, &qs).unwrap();
        // At most one message more than the rate allows over the run (and its
        // end is measured after the last send).
        let bound = (st.window.as_secs_f64() * cfg.rate) as u64 + 1;
        assert!(
            st.sent >= 1 && st.sent <= bound,
            "{} sent, bound {bound}",
            st.sent
        );
        let mut buf = [0u8; 512];
        let (n, from) = server.recv_from(&mut buf).unwrap();
        assert_eq!(from.ip(), cfg.source.unwrap());
        assert_eq!(&buf[2..4], &[0x24, 0], "a NOTIFY");
        assert_eq!(n, qs.message(0).len());
    }

    #[test]
    fn silence_counts_as_lost() {
        // Bound but never answering.
        let quiet = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut qs = QuerySet::default();
        qs.push("a.bench.test", 1, false).unwrap();
        let cfg = Config {
            server: quiet.local_addr().unwrap(),
            duration: Duration::from_millis(100),
            in_flight: 10,
            batch: 4,
            sockets: 1,
            threads: 1,
            timeout: Duration::from_millis(50),
            seed: 0,
            rate: 0.0,
            source: None,
        };
        let st = run(&cfg, &qs).unwrap();
        assert_eq!(st.received, 0);
        assert!(st.sent >= 10);
        assert_eq!(st.lost, st.sent);
    }
}
