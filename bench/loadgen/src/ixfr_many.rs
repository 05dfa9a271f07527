//! A primary for the benchmark of one incoming IXFR made of very many one-record differences
//! (`bench/ixfr_many.sh`): how long Tandem, as a secondary, takes to apply it, and whether API
//! writes to its other zones stay fast meanwhile.
//!
//! The zone (`--origin`, here `bench.test`) at serial 1 is the SOA (`ns1.bench.test.
//! hostmaster.bench.test. 1 7200 3600 1209600 300`), NS `ns1` and `ns2`, and `--records` N
//! A records `h{i}` (TTL 300, 10.x.y.z from i). At serial 1+D (`--diffs` D, 1 ≤ D ≤ N) the
//! records `h0`..`h{D-1}` have another address (172.16-31.y.z from i).
//!
//! The trigger is a file: SOA queries (UDP and TCP) are answered with serial 1 until one AXFR
//! of serial 1 has been sent completely *and* the file `--bump-file` exists; from then on the
//! zone is at serial 1+D. At that moment, with `--notify ADDR`, the primary sends a NOTIFY
//! (opcode 4, AA, question `origin SOA`) to ADDR from an ephemeral UDP port on the listen
//! address, retried every second until it is answered (at most five times), so the secondary
//! checks the SOA at once instead of at its next refresh.
//!
//! Over TCP:
//! - AXFR: the whole zone at the current serial, SOA first and last.
//! - IXFR from serial 1 while the zone is at 1+D: the incremental form of RFC 1995 §4 with D
//!   differences, one per serial step: SOA(1+D), then for each k in 0..D: SOA(1+k),
//!   `h{k}` old A, SOA(2+k), `h{k}` new A; then SOA(1+D) again.
//! - IXFR from the current serial: the SOA alone (you are current).
//! - IXFR from any other serial: the whole zone, AXFR-style.
//!
//! Transfers go out in messages of about 16 KiB of records (always far below 65535 octets),
//! all names compressed to the question name (the zone's apex). A question for another name
//! is answered REFUSED. Each finished (or broken) transfer prints one JSON line on stdout, and
//! the end of `--duration` prints the totals, as `endless-axfr` does.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::endless::Sent;
use crate::engine::ensure_loopback;
use crate::wire::{
    encode_name, question, rcode_name, read_tcp_message, skip_name, soa_rdata_serial, QuerySet,
    HEADER_LEN,
};

/// Octets of records per message (plus the length prefix, header and question); a record is
/// at most 51 octets, so no message comes near 65535.
const MESSAGE_RECORDS_BYTES: usize = 16 * 1024;

/// Largest zone: the old addresses 10.x.y.z hold 2^24 names.
pub const MAX_RECORDS: u64 = 1 << 24;

const TYPE_A: u16 = 1;
const TYPE_NS: u16 = 2;
const TYPE_SOA: u16 = 6;
const TYPE_IXFR: u16 = 251;
const TYPE_AXFR: u16 = 252;

/// TTL of the SOA and NS records.
const APEX_TTL: u32 = 3600;
/// TTL of the `h{i}` A records.
const A_TTL: u32 = 300;

/// What the primary serves.
#[derive(Clone, Debug)]
pub struct Options {
    pub listen: SocketAddr,
    pub origin: String,
    pub records: u64,
    pub diffs: u64,
    pub duration: Duration,
    pub bump_file: PathBuf,
    pub notify: Option<SocketAddr>,
}

/// One record of a transfer stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rr {
    Soa(u32),
    /// `ns1` or `ns2`.
    Ns(u8),
    /// `h{i}`, with its old (serial 1) or new (serial 1+D) address.
    A {
        i: u64,
        new: bool,
    },
}

/// The two versions of the zone.
#[derive(Clone, Copy, Debug)]
struct Zone {
    records: u64,
    diffs: u64,
}

impl Zone {
    fn new_serial(self) -> u32 {
        1 + self.diffs as u32
    }

    /// The whole zone at `serial` (1 or 1+D), SOA first and last.
    fn full(self, serial: u32) -> impl Iterator<Item = Rr> {
        let changed = if serial == 1 { 0 } else { self.diffs };
        std::iter::once(Rr::Soa(serial))
            .chain([Rr::Ns(1), Rr::Ns(2)])
            .chain((0..self.records).map(move |i| Rr::A {
                i,
                new: i < changed,
            }))
            .chain(std::iter::once(Rr::Soa(serial)))
    }

    /// The incremental answer from serial 1 to 1+D: one difference per changed record.
    fn incremental(self) -> impl Iterator<Item = Rr> {
        let last = self.new_serial();
        std::iter::once(Rr::Soa(last))
            .chain((0..self.diffs).flat_map(|k| {
                let s = 1 + k as u32;
                [
                    Rr::Soa(s),
                    Rr::A { i: k, new: false },
                    Rr::Soa(s + 1),
                    Rr::A { i: k, new: true },
                ]
            }))
            .chain(std::iter::once(Rr::Soa(last)))
    }
}

/// The address of `h{i}`: 10.x.y.z at serial 1, 172.16-31.y.z once changed.
fn address(i: u64, new: bool) -> [u8; 4] {
    if new {
        [172, 16 | ((i >> 16) & 15) as u8, (i >> 8) as u8, i as u8]
    } else {
        [10, (i >> 16) as u8, (i >> 8) as u8, i as u8]
    }
}

/// Pointer to the question name, which is always at offset 12 of a message.
const APEX_PTR: [u8; 2] = [0xC0, 0x0C];

/// Appends the decimal digits of `v`.
fn push_decimal(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut n = 0;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend(digits[..n].iter().rev());
}

/// Appends `rr`, every name compressed to the question name (the apex).
fn push_rr(out: &mut Vec<u8>, rr: Rr) {
    let fixed = |out: &mut Vec<u8>, rtype: u16, ttl: u32, rdlen: u16| {
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes()); // IN
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&rdlen.to_be_bytes());
    };
    match rr {
        Rr::Soa(serial) => {
            out.extend_from_slice(&APEX_PTR);
            fixed(out, TYPE_SOA, APEX_TTL, 6 + 13 + 20);
            out.extend_from_slice(b"\x03ns1");
            out.extend_from_slice(&APEX_PTR);
            out.extend_from_slice(b"\x0ahostmaster");
            out.extend_from_slice(&APEX_PTR);
            for v in [serial, 7200, 3600, 1_209_600, 300] {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        Rr::Ns(n) => {
            out.extend_from_slice(&APEX_PTR);
            fixed(out, TYPE_NS, APEX_TTL, 6);
            out.extend_from_slice(&[3, b'n', b's', b'0' + n]);
            out.extend_from_slice(&APEX_PTR);
        }
        Rr::A { i, new } => {
            let len_at = out.len();
            out.push(0);
            out.push(b'h');
            push_decimal(out, i);
            out[len_at] = (out.len() - len_at - 1) as u8;
            out.extend_from_slice(&APEX_PTR);
            fixed(out, TYPE_A, A_TTL, 4);
            out.extend_from_slice(&address(i, new));
        }
    }
}

/// Starts a framed answer to `req` (two octets of TCP length, then the message): the
/// request's id, QR and AA, `rcode`, and the request's question.
fn start_message(out: &mut Vec<u8>, req: &[u8], qend: usize, rcode: u8) {
    out.clear();
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&req[..2]);
    out.extend_from_slice(&[0x84, rcode, 0, 1, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&req[HEADER_LEN..qend]);
}

/// Sets ANCOUNT and the TCP length of a framed message.
fn finish_message(out: &mut [u8], count: u16) {
    out[2 + 6..2 + 8].copy_from_slice(&count.to_be_bytes());
    let len = (out.len() - 2) as u16;
    out[..2].copy_from_slice(&len.to_be_bytes());
}

/// Frames `rrs` as answers to `req` (question ending at `qend`) of about
/// [`MESSAGE_RECORDS_BYTES`] each, and hands each framed message with its record count to
/// `emit`.
fn frame(
    req: &[u8],
    qend: usize,
    rrs: impl Iterator<Item = Rr>,
    mut emit: impl FnMut(&[u8], u16) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(MESSAGE_RECORDS_BYTES + 1024);
    start_message(&mut out, req, qend, 0);
    let mut count: u16 = 0;
    for rr in rrs {
        push_rr(&mut out, rr);
        count += 1;
        if out.len() >= MESSAGE_RECORDS_BYTES || count == u16::MAX {
            finish_message(&mut out, count);
            emit(&out, count)?;
            start_message(&mut out, req, qend, 0);
            count = 0;
        }
    }
    if count > 0 {
        finish_message(&mut out, count);
        emit(&out, count)?;
    }
    Ok(())
}

/// The parts of a request the primary looks at.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    /// End of the question section.
    qend: usize,
    qtype: u16,
    /// The question names the zone's apex (compared without regard to case).
    ours: bool,
    /// The serial of the SOA in the authority section (an IXFR request's, RFC 1995 §3).
    client_serial: Option<u32>,
}

/// Reads a query with one question; `None` for a response or anything malformed.
fn parse_request(msg: &[u8], apex: &[u8]) -> Option<Request> {
    if msg.len() < HEADER_LEN || msg[2] & 0x80 != 0 || msg[4..6] != [0, 1] {
        return None;
    }
    let count = |at: usize| u16::from_be_bytes([msg[at], msg[at + 1]]);
    let (ancount, nscount) = (count(6), count(8));
    let (qend, qtype) = question(msg)?;
    let ours = msg.get(HEADER_LEN..qend - 4)?.eq_ignore_ascii_case(apex);
    if qend > msg.len() {
        return None;
    }
    let mut pos = qend;
    let mut client_serial = None;
    for n in 0..u32::from(ancount) + u32::from(nscount) {
        pos = skip_name(msg, pos)?;
        let fixed = msg.get(pos..pos + 10)?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        if rtype == TYPE_SOA && n >= u32::from(ancount) && client_serial.is_none() {
            client_serial = soa_rdata_serial(msg, pos + 10);
        }
        pos += 10 + rdlen;
    }
    Some(Request {
        qend,
        qtype,
        ours,
        client_serial,
    })
}

/// A framed answer with no records, or the SOA alone (`soa`), to a request.
fn short_answer(req: &[u8], r: &Request, rcode: u8, soa: Option<u32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    start_message(&mut out, req, r.qend, rcode);
    let count = match soa {
        Some(serial) => {
            push_rr(&mut out, Rr::Soa(serial));
            1
        }
        None => 0,
    };
    finish_message(&mut out, count);
    out
}

/// The state shared by all threads.
struct Shared {
    zone: Zone,
    apex: Vec<u8>,
    /// One AXFR of serial 1 went out completely.
    full_sent: AtomicBool,
    /// The zone is at serial 1+D.
    bumped: AtomicBool,
    sent: Sent,
}

impl Shared {
    fn serial(&self) -> u32 {
        if self.bumped.load(Ordering::SeqCst) {
            self.zone.new_serial()
        } else {
            1
        }
    }
}

/// Serves on `opts.listen` (UDP and TCP) for `opts.duration`; prints a JSON line per
/// transfer and one of the totals.
pub fn serve(opts: &Options) -> Result<()> {
    ensure_loopback(&opts.listen)?;
    if let Some(n) = &opts.notify {
        ensure_loopback(n)?;
    }
    if opts.records == 0 || opts.records > MAX_RECORDS {
        bail!("--records must be in 1..={MAX_RECORDS}");
    }
    if opts.diffs == 0 || opts.diffs > opts.records {
        bail!("--diffs must be in 1..=--records");
    }
    let mut apex = Vec::new();
    encode_name(&opts.origin, &mut apex)?;
    let shared = Arc::new(Shared {
        zone: Zone {
            records: opts.records,
            diffs: opts.diffs,
        },
        apex,
        full_sent: AtomicBool::new(false),
        bumped: AtomicBool::new(false),
        sent: Sent::default(),
    });
    let udp = UdpSocket::bind(opts.listen).with_context(|| format!("bind UDP {}", opts.listen))?;
    let tcp = TcpListener::bind(udp.local_addr()?).context("bind TCP on the same port")?;
    eprintln!(
        "ixfr-many: listening on {}; {} records, {} differences; bump file {}",
        udp.local_addr()?,
        opts.records,
        opts.diffs,
        opts.bump_file.display()
    );
    {
        let shared = shared.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let Ok((n, from)) = udp.recv_from(&mut buf) else {
                    continue;
                };
                let msg = &buf[..n];
                if let Some(r) = parse_request(msg, &shared.apex) {
                    let framed = answer_query(msg, &r, &shared);
                    let _ = udp.send_to(&framed[2..], from);
                }
            }
        });
    }
    {
        let shared = shared.clone();
        let (path, notify, origin, ip) = (
            opts.bump_file.clone(),
            opts.notify,
            opts.origin.clone(),
            opts.listen.ip(),
        );
        std::thread::spawn(move || loop {
            if shared.full_sent.load(Ordering::SeqCst) && path.exists() {
                shared.bumped.store(true, Ordering::SeqCst);
                eprintln!(
                    "ixfr-many: bumped to serial {} at unix_us {}",
                    shared.zone.new_serial(),
                    unix_us()
                );
                if let Some(to) = notify {
                    match send_notify(ip, to, &origin) {
                        Ok(r) => eprintln!("ixfr-many: NOTIFY to {to}: {r}"),
                        Err(e) => eprintln!("ixfr-many: NOTIFY to {to} failed: {e:#}"),
                    }
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        });
    }
    tcp.set_nonblocking(true)?;
    let end = Instant::now() + opts.duration;
    while Instant::now() < end {
        match tcp.accept() {
            Ok((stream, _)) => {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = connection(stream, &shared);
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    println!("{}", shared.sent.json());
    Ok(())
}

fn unix_us() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

/// The framed answer to a query that is not a transfer: the SOA for an SOA question, no
/// records for others, REFUSED for a name that is not the apex.
fn answer_query(req: &[u8], r: &Request, shared: &Shared) -> Vec<u8> {
    if !r.ours {
        short_answer(req, r, 5, None)
    } else if r.qtype == TYPE_SOA {
        short_answer(req, r, 0, Some(shared.serial()))
    } else {
        short_answer(req, r, 0, None)
    }
}

/// Sends a NOTIFY for `origin` to `to` from an ephemeral port on `ip`, until it is answered
/// (five tries, one second apart); returns the answer's response code.
fn send_notify(ip: std::net::IpAddr, to: SocketAddr, origin: &str) -> Result<String> {
    let sock = UdpSocket::bind(SocketAddr::new(ip, 0))?;
    sock.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut set = QuerySet::default();
    set.push_notify(origin)?;
    let mut msg = set.message(0).to_vec();
    let id = (unix_us() as u16) | 1;
    msg[..2].copy_from_slice(&id.to_be_bytes());
    let mut buf = [0u8; 4096];
    for attempt in 1..=5 {
        sock.send_to(&msg, to)?;
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                break;
            };
            if from == to && n >= HEADER_LEN && buf[..2] == msg[..2] && buf[2] & 0x80 != 0 {
                return Ok(format!(
                    "answered {} (try {attempt})",
                    rcode_name(buf[3] & 0x0f)
                ));
            }
        }
    }
    Ok("no answer after 5 tries".into())
}

/// One TCP connection: queries answered one by one, transfers streamed.
fn connection(mut s: TcpStream, shared: &Shared) -> io::Result<()> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    loop {
        let msg = read_tcp_message(&mut s)?;
        let Some(r) = parse_request(&msg, &shared.apex) else {
            return Ok(());
        };
        if !r.ours || (r.qtype != TYPE_AXFR && r.qtype != TYPE_IXFR) {
            s.write_all(&answer_query(&msg, &r, shared))?;
            continue;
        }
        transfer(&mut s, &msg, &r, shared)?;
    }
}

/// Streams the answer to an AXFR or IXFR request and prints a JSON line about it.
fn transfer(s: &mut TcpStream, req: &[u8], r: &Request, shared: &Shared) -> io::Result<()> {
    let serial = shared.serial();
    let zone = shared.zone;
    let started = Instant::now();
    let (kind, answer) = match (r.qtype, r.client_serial) {
        (TYPE_IXFR, Some(c)) if c == serial => ("IXFR", "current"),
        (TYPE_IXFR, Some(1)) if serial == zone.new_serial() => ("IXFR", "incremental"),
        (TYPE_IXFR, _) => ("IXFR", "full"),
        _ => ("AXFR", "full"),
    };
    if answer == "current" {
        s.write_all(&short_answer(req, r, 0, Some(serial)))?;
        println!(
            "{{\"kind\":\"{kind}\",\"answer\":\"{answer}\",\"client_serial\":{serial},\"serial\":{serial}}}"
        );
        return Ok(());
    }
    shared.sent.transfers.fetch_add(1, Ordering::Relaxed);
    let (mut records, mut messages, mut octets) = (0u64, 0u64, 0u64);
    let mut emit = |m: &[u8], count: u16| -> io::Result<()> {
        s.write_all(m)?;
        records += u64::from(count);
        messages += 1;
        octets += m.len() as u64;
        shared
            .sent
            .records
            .fetch_add(u64::from(count), Ordering::Relaxed);
        shared
            .sent
            .octets
            .fetch_add(m.len() as u64, Ordering::Relaxed);
        Ok(())
    };
    let result = if answer == "incremental" {
        frame(req, r.qend, zone.incremental(), &mut emit)
    } else {
        frame(req, r.qend, zone.full(serial), &mut emit)
    };
    if result.is_ok() && answer == "full" && serial == 1 {
        shared.full_sent.store(true, Ordering::SeqCst);
    }
    let client = r
        .client_serial
        .map_or("null".to_string(), |c| c.to_string());
    println!(
        "{{\"kind\":\"{kind}\",\"answer\":\"{answer}\",\"client_serial\":{client},\"serial\":{serial},\"complete\":{},\"records\":{records},\"messages\":{messages},\"octets\":{octets},\"elapsed_ms\":{:.1},\"unix_us\":{}}}",
        result.is_ok(),
        started.elapsed().as_secs_f64() * 1000.0,
        unix_us()
    );
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::build_query;

    /// An IXFR request as a secondary at `serial` sends it: the SOA in the authority section.
    fn ixfr_request(serial: u32) -> Vec<u8> {
        let mut q = Vec::new();
        build_query("bench.test", TYPE_IXFR, false, &mut q).unwrap();
        q[9] = 1; // NSCOUNT
        push_rr(&mut q, Rr::Soa(serial));
        q
    }

    /// Every answer record of the framed messages: (type, SOA serial or A address).
    fn decode(messages: &[Vec<u8>]) -> Vec<(u16, u32)> {
        let mut out = Vec::new();
        for framed in messages {
            let len = usize::from(u16::from_be_bytes([framed[0], framed[1]]));
            let m = &framed[2..];
            assert_eq!(m.len(), len);
            assert!(m.len() <= 65535);
            assert_eq!(m[2], 0x84, "QR, AA");
            let ancount = u16::from_be_bytes([m[6], m[7]]);
            let mut pos = skip_name(m, HEADER_LEN).unwrap() + 4;
            for _ in 0..ancount {
                pos = skip_name(m, pos).unwrap();
                let rtype = u16::from_be_bytes([m[pos], m[pos + 1]]);
                let rdlen = usize::from(u16::from_be_bytes([m[pos + 8], m[pos + 9]]));
                let rdata = pos + 10;
                let v = match rtype {
                    TYPE_SOA => soa_rdata_serial(m, rdata).unwrap(),
                    TYPE_A => u32::from_be_bytes(m[rdata..rdata + 4].try_into().unwrap()),
                    _ => 0,
                };
                out.push((rtype, v));
                pos = rdata + rdlen;
            }
            assert_eq!(pos, m.len(), "records fill the message exactly");
        }
        out
    }

    fn stream(req: &[u8], rrs: impl Iterator<Item = Rr>) -> Vec<Vec<u8>> {
        let r = parse_request(req, b"\x05bench\x04test\x00").unwrap();
        let mut messages = Vec::new();
        frame(req, r.qend, rrs, |m, _| {
            messages.push(m.to_vec());
            Ok(())
        })
        .unwrap();
        messages
    }

    #[test]
    fn ixfr_request_is_parsed() {
        let r = parse_request(&ixfr_request(1), b"\x05BENCH\x04test\x00").unwrap();
        assert_eq!(r.qtype, TYPE_IXFR);
        assert!(r.ours);
        assert_eq!(r.client_serial, Some(1));
        let other = parse_request(&ixfr_request(1), b"\x05other\x04test\x00").unwrap();
        assert!(!other.ours);
    }

    /// The serials of the SOA records of a decoded stream, in order.
    fn soa_serials(rrs: &[(u16, u32)]) -> Vec<u32> {
        rrs.iter()
            .filter(|(t, _)| *t == TYPE_SOA)
            .map(|(_, s)| *s)
            .collect()
    }

    #[test]
    fn incremental_stream_has_one_difference_per_serial() {
        let zone = Zone {
            records: 5,
            diffs: 3,
        };
        let rrs = decode(&stream(&ixfr_request(1), zone.incremental()));
        assert_eq!(rrs.len(), 2 + 4 * 3);
        assert_eq!(soa_serials(&rrs), [4, 1, 2, 2, 3, 3, 4, 4]);
        // The second difference: h1 from 10.0.0.1 to 172.16.0.1.
        assert_eq!(rrs[6], (TYPE_A, u32::from_be_bytes([10, 0, 0, 1])));
        assert_eq!(rrs[8], (TYPE_A, u32::from_be_bytes([172, 16, 0, 1])));
    }

    #[test]
    fn full_zone_at_the_new_serial_has_the_changed_addresses() {
        let zone = Zone {
            records: 5,
            diffs: 3,
        };
        let rrs = decode(&stream(&ixfr_request(0), zone.full(4)));
        assert_eq!(rrs.len(), 1 + 2 + 5 + 1);
        assert_eq!((rrs[0], rrs[8]), ((TYPE_SOA, 4), (TYPE_SOA, 4)));
        let a: Vec<u8> = rrs[3..8].iter().map(|(_, v)| (v >> 24) as u8).collect();
        assert_eq!(a, [172, 172, 172, 10, 10]);
    }

    #[test]
    fn a_long_stream_is_split_and_chains() {
        let zone = Zone {
            records: 20_000,
            diffs: 20_000,
        };
        let messages = stream(&ixfr_request(1), zone.incremental());
        assert!(messages.len() > 10);
        assert!(messages
            .iter()
            .all(|m| m.len() < MESSAGE_RECORDS_BYTES + 256));
        let rrs = decode(&messages);
        assert_eq!(rrs.len(), 2 + 4 * 20_000);
        let soas = soa_serials(&rrs);
        for k in 0..20_000usize {
            assert_eq!(soas[1 + 2 * k], 1 + k as u32);
            assert_eq!(soas[2 + 2 * k], 2 + k as u32);
        }
        assert_eq!(soas.last(), Some(&20_001));
    }

    #[test]
    fn short_answers() {
        let req = ixfr_request(4);
        let r = parse_request(&req, b"\x05bench\x04test\x00").unwrap();
        let current = short_answer(&req, &r, 0, Some(4));
        assert_eq!(decode(&[current]), [(TYPE_SOA, 4)]);
        let refused = short_answer(&req, &r, 5, None);
        assert_eq!(refused[2 + 3], 5);
        assert!(decode(&[refused]).is_empty());
    }
}
