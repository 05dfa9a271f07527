//! A hostile primary for the memory benchmark of incoming transfers: it answers every SOA
//! query (UDP or TCP) with serial `serial`, and every AXFR or IXFR over TCP with an opening
//! SOA followed by A records that never end (THREATS.md "Transfer larger than the zone size
//! limit"), in messages of about 16 KiB, until the client closes the connection. It never
//! sends the closing SOA, so only the secondary's own limits stop the transfer.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::engine::ensure_loopback;
use crate::wire::{question, read_tcp_message};

/// Octets of records per message (plus header and question).
const MESSAGE_RECORDS_BYTES: usize = 16 * 1024;

/// What the primary sent, for the report.
#[derive(Default)]
pub struct Sent {
    pub transfers: AtomicU64,
    pub records: AtomicU64,
    pub octets: AtomicU64,
}

impl Sent {
    /// The totals as one JSON line.
    pub fn json(&self) -> String {
        format!(
            "{{\"transfers\": {}, \"records\": {}, \"octets\": {}}}",
            self.transfers.load(Ordering::Relaxed),
            self.records.load(Ordering::Relaxed),
            self.octets.load(Ordering::Relaxed)
        )
    }
}

/// Serves on `listen` (UDP and TCP) for `duration`; prints a JSON line of what was sent.
pub fn serve(listen: SocketAddr, serial: u32, duration: Duration) -> Result<()> {
    ensure_loopback(&listen)?;
    let udp = UdpSocket::bind(listen).with_context(|| format!("bind UDP {listen}"))?;
    let tcp = TcpListener::bind(udp.local_addr()?).context("bind TCP on the same port")?;
    eprintln!("endless-axfr: listening on {}", udp.local_addr()?);
    let sent = Arc::new(Sent::default());
    udp.set_read_timeout(Some(Duration::from_millis(100)))?;
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        loop {
            if let Ok((n, from)) = udp.recv_from(&mut buf) {
                if let Some(answer) = soa_answer(&buf[..n], serial) {
                    let _ = udp.send_to(&answer, from);
                }
            }
        }
    });
    tcp.set_nonblocking(true)?;
    let end = Instant::now() + duration;
    while Instant::now() < end {
        match tcp.accept() {
            Ok((stream, _)) => {
                let sent = sent.clone();
                std::thread::spawn(move || {
                    let _ = connection(stream, serial, &sent);
                    // One line per connection closed, so a caller that stops the primary
                    // early still has the totals.
                    println!("{}", sent.json());
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    println!("{}", sent.json());
    Ok(())
}

/// One TCP connection: an SOA query gets its answer; a transfer request gets no end.
fn connection(mut s: TcpStream, serial: u32, sent: &Sent) -> std::io::Result<()> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    loop {
        let msg = read_tcp_message(&mut s)?;
        let Some((qend, qtype)) = question(&msg) else {
            return Ok(());
        };
        if qtype != 252 && qtype != 251 {
            if let Some(a) = soa_answer(&msg, serial) {
                s.write_all(&(a.len() as u16).to_be_bytes())?;
                s.write_all(&a)?;
            }
            continue;
        }
        sent.transfers.fetch_add(1, Ordering::Relaxed);
        let mut n: u64 = 0;
        let mut first = true;
        loop {
            let mut out = header(&msg, qend);
            let mut count: u16 = 0;
            if first {
                push_soa(&mut out, serial);
                count += 1;
                first = false;
            }
            while out.len() < MESSAGE_RECORDS_BYTES && count < u16::MAX {
                // h<n>.<zone> A 10.x.y.z: the owner points at the question's name.
                let label = format!("h{n}");
                out.push(label.len() as u8);
                out.extend_from_slice(label.as_bytes());
                out.extend_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4]);
                out.extend_from_slice(&[10, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
                n += 1;
                count += 1;
            }
            out[6..8].copy_from_slice(&count.to_be_bytes());
            s.write_all(&(out.len() as u16).to_be_bytes())?;
            s.write_all(&out)?;
            sent.records.fetch_add(u64::from(count), Ordering::Relaxed);
            sent.octets
                .fetch_add(out.len() as u64 + 2, Ordering::Relaxed);
        }
    }
}

/// A response header (QR, AA, the request's id) and the question, with no records yet.
fn header(req: &[u8], qend: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(MESSAGE_RECORDS_BYTES + 512);
    out.extend_from_slice(&req[..2]);
    out.extend_from_slice(&[0x84, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&req[12..qend]);
    out
}

/// The zone's SOA, owned by the question's name.
fn push_soa(out: &mut Vec<u8>, serial: u32) {
    let mut rdata = Vec::new();
    rdata.extend_from_slice(&[3, b'n', b's', b'1', 0xC0, 0x0C]);
    rdata.extend_from_slice(&[4, b'h', b'o', b's', b't', 0xC0, 0x0C]);
    for v in [serial, 3600, 600, 86400, 300] {
        rdata.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&[0xC0, 0x0C, 0, 6, 0, 1, 0, 0, 0x0E, 0x10]);
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(&rdata);
}

/// An authoritative answer holding the SOA, to any query with one question.
fn soa_answer(req: &[u8], serial: u32) -> Option<Vec<u8>> {
    let (qend, _) = question(req)?;
    let mut out = header(req, qend);
    push_soa(&mut out, serial);
    out[6..8].copy_from_slice(&1u16.to_be_bytes());
    Some(out)
}
