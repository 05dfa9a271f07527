//! `tandem-loadgen`: a loopback-only UDP DNS load generator (sendmmsg /
//! recvmmsg, many queries in flight) plus the zone/query generator and a
//! readiness probe used by `bench/run.sh`.
//!
//! ```text
//! tandem-loadgen --server 127.0.0.1:5300 --queries q.txt --duration 10
//! tandem-loadgen --server 127.0.0.1:5300 --queries q.txt --rate 20000
//! tandem-loadgen --server 127.0.0.1:5300 --notify sec.test --source 127.0.0.2 --rate 20000
//! tandem-loadgen gen-zone --records 100000 --origin bench.test --queries-out q.txt > z.zone
//! tandem-loadgen probe --server 127.0.0.1:5300 --name bench.test --type SOA --wait 60
//! tandem-loadgen probe --server 127.0.0.1:5300 --min-serial 7 --interval-ms 20 --wait 30
//! tandem-loadgen free-port
//! tandem-loadgen reflect --listen 127.0.0.1:5300 --duration 30
//! tandem-loadgen endless-axfr --listen 127.0.0.1:5301 --serial 2 --duration 60
//! tandem-loadgen ixfr-many --listen 127.0.0.1:5301 --records 1000000 --diffs 1000000 \
//!     --bump-file /tmp/bump --notify 127.0.0.1:5300 --duration 1800
//! ```

mod axfr;
mod endless;
mod engine;
mod gen;
mod ixfr_many;
mod reflect;
mod wire;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::engine::{ensure_loopback, Config};
use crate::wire::{
    build_query, check_response, parse_qtype, rcode_name, soa_serial, QuerySet, HEADER_LEN,
};

/// Longest run accepted, so a typo cannot leave load running for days.
const MAX_DURATION_SECS: f64 = 3600.0;

#[derive(Parser, Debug)]
#[command(
    name = "tandem-loadgen",
    about = "Loopback-only UDP DNS load generator (sendmmsg/recvmmsg) for Tandem's benchmarks",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Write a benchmark zone (and optionally a matching query list).
    GenZone(GenArgs),
    /// Query until a good authoritative answer arrives (readiness / load time).
    Probe(ProbeArgs),
    /// Print a loopback port that is currently free for both UDP and TCP.
    FreePort,
    /// Answer every datagram (no DNS work): measures the load generator's ceiling.
    Reflect(ReflectArgs),
    /// A primary whose AXFR never ends: the memory benchmark of incoming transfers.
    EndlessAxfr(EndlessArgs),
    /// Transfer a zone with AXFR over TCP, counting RRs without decoding them (AXFR out).
    Axfr(AxfrArgs),
    /// A primary whose IXFR holds very many one-record differences (IXFR-in benchmark).
    IxfrMany(IxfrManyArgs),
}

#[derive(Args, Debug)]
struct IxfrManyArgs {
    /// Loopback address to serve on (UDP and TCP).
    #[arg(long)]
    listen: SocketAddr,
    /// Zone origin.
    #[arg(long, default_value = "bench.test")]
    origin: String,
    /// A records h0..h{N-1} of the zone.
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Records changed from serial 1 to 1+D, one difference each (at most --records).
    #[arg(long, default_value_t = 1_000_000)]
    diffs: u64,
    /// The zone moves to serial 1+D once this file exists (and one AXFR of serial 1 was sent).
    #[arg(long)]
    bump_file: PathBuf,
    /// Send a NOTIFY here (loopback) when the zone moves to serial 1+D.
    #[arg(long)]
    notify: Option<SocketAddr>,
    /// Seconds to serve.
    #[arg(long, default_value_t = 600.0)]
    duration: f64,
}

#[derive(Args, Debug)]
struct AxfrArgs {
    /// Server address; must be loopback.
    #[arg(long)]
    server: SocketAddr,
    /// The zone to transfer.
    #[arg(long)]
    zone: String,
    /// Seconds to wait for each read.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
}

#[derive(Args, Debug)]
struct EndlessArgs {
    /// Loopback address to serve on (UDP and TCP).
    #[arg(long)]
    listen: SocketAddr,
    /// The serial of the SOA it answers and opens transfers with.
    #[arg(long, default_value_t = 2)]
    serial: u32,
    /// Seconds to serve.
    #[arg(long, default_value_t = 60.0)]
    duration: f64,
}

#[derive(Args, Debug)]
struct ReflectArgs {
    /// Loopback address to listen on.
    #[arg(long)]
    listen: SocketAddr,
    /// Seconds to run before exiting.
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Messages per recvmmsg/sendmmsg call.
    #[arg(long, default_value_t = 64)]
    batch: usize,
}

#[derive(Args, Debug)]
struct LoadArgs {
    /// Server address; must be loopback (127.0.0.0/8 or [::1]).
    #[arg(long)]
    server: Option<SocketAddr>,
    /// Query file with `name type` lines; without it, queries are generated
    /// for a zone made by `gen-zone` with the same --origin/--records.
    #[arg(long)]
    queries: Option<PathBuf>,
    /// Send NOTIFYs for ZONE instead of queries (opcode NOTIFY, AA, question
    /// ZONE SOA, as a primary sends them); repeatable, the zones take turns.
    /// With --source, a flood from an address the server should refuse.
    #[arg(long, value_name = "ZONE", conflicts_with = "queries")]
    notify: Vec<String>,
    /// Loopback address to send from (e.g. 127.0.0.2); the system's choice
    /// without it.
    #[arg(long)]
    source: Option<IpAddr>,
    /// Messages per second over all threads, for a fixed offered load; 0
    /// sends as many as --in-flight allows.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Origin for built-in queries.
    #[arg(long, default_value = "bench.test")]
    origin: String,
    /// Zone size for built-in queries.
    #[arg(long, default_value_t = 100_000)]
    records: u64,
    /// Number of built-in queries (cycled through).
    #[arg(long, default_value_t = 100_000)]
    query_count: u64,
    /// Seed for built-in queries and ids.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Queries kept outstanding (over all sockets). Much more than a
    /// server's socket buffer holds (a few hundred small datagrams by
    /// default) only adds drops.
    #[arg(long, default_value_t = 100)]
    in_flight: usize,
    /// Messages per sendmmsg/recvmmsg call.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// UDP sockets (source ports).
    #[arg(long, default_value_t = 1)]
    sockets: usize,
    /// Sending threads (sockets are spread over them).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seconds after which an unanswered query counts as lost.
    #[arg(long, default_value_t = 1.0)]
    timeout: f64,
    /// Add an EDNS0 OPT record (UDP size 1232) to every query.
    #[arg(long)]
    edns: bool,
}

#[derive(Args, Debug)]
struct GenArgs {
    /// Number of data records (besides SOA, NS and NS glue).
    #[arg(long, default_value_t = 100_000)]
    records: u64,
    /// Zone origin.
    #[arg(long, default_value = "bench.test")]
    origin: String,
    /// Write the zone here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write a matching query list here.
    #[arg(long)]
    queries_out: Option<PathBuf>,
    /// Lines in the query list.
    #[arg(long, default_value_t = 100_000)]
    query_count: u64,
    /// Seed for the query list.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args, Debug)]
struct ProbeArgs {
    /// Server address; must be loopback.
    #[arg(long)]
    server: SocketAddr,
    /// Name to ask for.
    #[arg(long, default_value = "bench.test")]
    name: String,
    /// Type to ask for.
    #[arg(long = "type", default_value = "SOA")]
    qtype: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 60.0)]
    wait: f64,
    /// Milliseconds between attempts (also the per-attempt timeout).
    #[arg(long, default_value_t = 10)]
    interval_ms: u64,
    /// With --type SOA: also wait until the answer's serial is at least this
    /// (plain comparison, no serial arithmetic).
    #[arg(long)]
    min_serial: Option<u32>,
}

fn secs(v: f64, what: &str) -> Result<Duration> {
    if !(v > 0.0 && v <= MAX_DURATION_SECS) {
        bail!("{what} must be in (0, {MAX_DURATION_SECS}] seconds");
    }
    Ok(Duration::from_secs_f64(v))
}

fn create(path: &PathBuf) -> Result<BufWriter<File>> {
    let f = File::create(path).with_context(|| format!("create {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 20, f))
}

fn gen_zone(a: &GenArgs) -> Result<()> {
    match &a.out {
        Some(p) => {
            let mut w = create(p)?;
            gen::write_zone(&mut w, &a.origin, a.records)?;
            w.flush()?;
        }
        None => {
            let mut w = BufWriter::with_capacity(1 << 20, io::stdout().lock());
            gen::write_zone(&mut w, &a.origin, a.records)?;
            w.flush()?;
        }
    }
    if let Some(p) = &a.queries_out {
        let qs = gen::queries(&a.origin, a.records, a.query_count, a.seed);
        let mut w = create(p)?;
        gen::write_queries(&mut w, &qs)?;
        w.flush()?;
    }
    Ok(())
}

fn load(a: &LoadArgs) -> Result<()> {
    let Some(server) = a.server else {
        bail!("--server is required (or use a subcommand; see --help)");
    };
    ensure_loopback(&server)?;
    let queries = match &a.queries {
        None if !a.notify.is_empty() => {
            let mut set = QuerySet::default();
            for zone in &a.notify {
                set.push_notify(zone)?;
            }
            set
        }
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("read {}", p.display()))?;
            QuerySet::parse_lines(&text, a.edns)?
        }
        None => {
            let mut set = QuerySet::default();
            for (name, t) in gen::queries(&a.origin, a.records, a.query_count, a.seed) {
                set.push(
                    &name,
                    parse_qtype(t).expect("generator types are known"),
                    a.edns,
                )?;
            }
            set
        }
    };
    if queries.is_empty() {
        bail!("no queries to send");
    }
    let cfg = Config {
        server,
        duration: secs(a.duration, "--duration")?,
        in_flight: a.in_flight,
        batch: a.batch.min(1024),
        sockets: a.sockets,
        threads: a.threads,
        timeout: secs(a.timeout, "--timeout")?,
        seed: a.seed,
        rate: a.rate,
        source: a.source,
    };
    let stats = engine::run(&cfg, &queries)?;
    println!("{}", stats.to_json(&cfg));
    Ok(())
}

/// Returns `Ok(true)` once an authoritative NOERROR answer with at least one
/// answer record arrives, `Ok(false)` on timeout.
fn probe(a: &ProbeArgs) -> Result<bool> {
    ensure_loopback(&a.server)?;
    let qtype = parse_qtype(&a.qtype).with_context(|| format!("unknown type {}", a.qtype))?;
    let wait = secs(a.wait, "--wait")?;
    let interval = Duration::from_millis(a.interval_ms.max(1));
    let bind = if a.server.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    let sock = UdpSocket::bind(bind)?;
    sock.connect(a.server)?;
    sock.set_read_timeout(Some(interval))?;
    let mut query = Vec::new();
    let qend = build_query(&a.name, qtype, false, &mut query)?;
    let start = Instant::now();
    let mut attempts = 0u32;
    let mut last = String::from("none");
    let mut buf = [0u8; 4096];
    while start.elapsed() < wait {
        attempts += 1;
        let id = (start.elapsed().as_nanos() as u16) ^ (attempts as u16).rotate_left(7);
        query[0..2].copy_from_slice(&id.to_be_bytes());
        if sock.send(&query).is_err() {
            std::thread::sleep(interval);
            continue;
        }
        let sent = Instant::now();
        while sent.elapsed() < interval {
            let Ok(n) = sock.recv(&mut buf) else {
                // Timeout or ICMP port unreachable (not listening yet).
                std::thread::sleep(interval.saturating_sub(sent.elapsed()));
                break;
            };
            let Some(info) = check_response(&buf[..n], &query[HEADER_LEN..qend]) else {
                continue;
            };
            if info.id != id {
                continue;
            }
            last = rcode_name(info.rcode);
            let serial = soa_serial(&buf[..n], qend);
            let serial_ok = match a.min_serial {
                None => true,
                Some(min) => serial.is_some_and(|s| s >= min),
            };
            if info.rcode == 0 && info.ancount > 0 && info.authoritative && serial_ok {
                let unix_us = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros());
                let serial = serial.map_or("null".to_string(), |s| s.to_string());
                println!(
                    "{{\"ok\":true,\"elapsed_ms\":{:.1},\"attempts\":{attempts},\"rcode\":\"{last}\",\"serial\":{serial},\"unix_us\":{unix_us}}}",
                    start.elapsed().as_secs_f64() * 1000.0
                );
                return Ok(true);
            }
            std::thread::sleep(interval.saturating_sub(sent.elapsed()));
            break;
        }
    }
    println!(
        "{{\"ok\":false,\"elapsed_ms\":{:.1},\"attempts\":{attempts},\"rcode\":\"{last}\"}}",
        start.elapsed().as_secs_f64() * 1000.0
    );
    Ok(false)
}

/// Finds a port on 127.0.0.1 free for both TCP and UDP (racy by nature, but
/// good enough for starting one benchmark server right after).
fn free_port() -> Result<()> {
    for _ in 0..100 {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = tcp.local_addr()?.port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            println!("{port}");
            return Ok(());
        }
    }
    bail!("no free port found")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match &cli.cmd {
        Some(Cmd::GenZone(a)) => gen_zone(a).map(|_| true),
        Some(Cmd::Probe(a)) => probe(a),
        Some(Cmd::FreePort) => free_port().map(|_| true),
        Some(Cmd::Reflect(a)) => secs(a.duration, "--duration")
            .and_then(|d| reflect::reflect(a.listen, d, a.batch))
            .map(|n| {
                println!("{{\"answered\":{n}}}");
                true
            }),
        Some(Cmd::EndlessAxfr(a)) => secs(a.duration, "--duration")
            .and_then(|d| endless::serve(a.listen, a.serial, d))
            .map(|()| true),
        Some(Cmd::IxfrMany(a)) => secs(a.duration, "--duration")
            .and_then(|duration| {
                ixfr_many::serve(&ixfr_many::Options {
                    listen: a.listen,
                    origin: a.origin.clone(),
                    records: a.records,
                    diffs: a.diffs,
                    duration,
                    bump_file: a.bump_file.clone(),
                    notify: a.notify,
                })
            })
            .map(|()| true),
        Some(Cmd::Axfr(a)) => ensure_loopback(&a.server)
            .and_then(|()| secs(a.timeout, "--timeout"))
            .and_then(|t| axfr::transfer(a.server, &a.zone, t))
            .map(|t| {
                println!(
                    "{{\"rrs\":{},\"messages\":{},\"bytes\":{},\"serial\":{},\"elapsed_ms\":{:.1}}}",
                    t.rrs,
                    t.messages,
                    t.bytes,
                    t.serial,
                    t.elapsed.as_secs_f64() * 1000.0
                );
                true
            }),
        None => load(&cli.load).map(|_| true),
    };
    match res {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("tandem-loadgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
