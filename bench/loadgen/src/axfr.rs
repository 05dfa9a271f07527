//! A raw AXFR client for the AXFR-out benchmark: sends one AXFR over TCP, walks each message's
//! answer RRs without decoding them, and checks the count and the closing SOA. kdig and dig
//! print every record and are slower than the servers they measure; this only counts.

use crate::wire::{build_query, skip_name, soa_rdata_serial, HEADER_LEN};
use anyhow::{bail, ensure, Context, Result};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// What one transfer brought.
pub struct Transfer {
    /// Answer RRs, both SOAs included (what `kdig +noall +answer | grep -c .` counts).
    pub rrs: u64,
    pub messages: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    pub serial: u32,
}

/// Transfers `zone` from `server` (RFC 5936): ends at the SOA that closes the stream, which
/// must carry the opening SOA's serial.
pub fn transfer(server: SocketAddr, zone: &str, timeout: Duration) -> Result<Transfer> {
    let start = Instant::now();
    let mut tcp = TcpStream::connect_timeout(&server, timeout)
        .with_context(|| format!("cannot connect to {server}"))?;
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_nodelay(true)?;
    let mut query = Vec::new();
    build_query(zone, 252, false, &mut query)?;
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&query);
    tcp.write_all(&framed)?;
    let mut t = Transfer {
        rrs: 0,
        messages: 0,
        bytes: 0,
        elapsed: Duration::ZERO,
        serial: 0,
    };
    let mut msg = vec![0u8; 65535];
    let mut opening: Option<u32> = None;
    loop {
        let mut len = [0u8; 2];
        tcp.read_exact(&mut len)
            .context("the stream ended before the closing SOA")?;
        let len = u16::from_be_bytes(len) as usize;
        let msg = &mut msg[..len];
        tcp.read_exact(msg).context("a message was cut short")?;
        t.messages += 1;
        t.bytes += len as u64 + 2;
        ensure!(len >= HEADER_LEN, "a message of {len} octets");
        ensure!(msg[0..2] == query[0..2], "a message with another ID");
        let rcode = msg[3] & 0x0f;
        ensure!(rcode == 0, "rcode {rcode} in message {}", t.messages);
        let qdcount = u16::from_be_bytes([msg[4], msg[5]]);
        let ancount = u16::from_be_bytes([msg[6], msg[7]]);
        let mut pos = HEADER_LEN;
        for _ in 0..qdcount {
            pos = skip_name(msg, pos).context("a bad question")? + 4;
        }
        for i in 0..ancount {
            pos = skip_name(msg, pos).context("a bad owner name")?;
            let fixed = msg.get(pos..pos + 10).context("a cut RR")?;
            let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
            let rdlen = u16::from_be_bytes([fixed[8], fixed[9]]) as usize;
            let rdata = pos + 10;
            pos = rdata + rdlen;
            ensure!(pos <= len, "an RR past the end of its message");
            t.rrs += 1;
            if rtype != 6 {
                ensure!(opening.is_some(), "the stream does not open with the SOA");
                continue;
            }
            let serial = soa_rdata_serial(msg, rdata).context("a bad SOA")?;
            match opening {
                None => opening = Some(serial),
                Some(first) => {
                    ensure!(serial == first, "closing SOA {serial}, opening {first}");
                    ensure!(i + 1 == ancount, "RRs after the closing SOA");
                    t.serial = serial;
                    t.elapsed = start.elapsed();
                    return Ok(t);
                }
            }
        }
        if t.messages > 10_000_000 {
            bail!("no closing SOA after {} messages", t.messages);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A message answering `query` with `rrs` (owner: a pointer to the question name).
    fn message(query: &[u8], rrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut m = query.to_vec();
        m[2] |= 0x84; // QR, AA
        m[6..8].copy_from_slice(&(rrs.len() as u16).to_be_bytes());
        for (rtype, rdata) in rrs {
            m.extend_from_slice(&[0xc0, 12]);
            m.extend_from_slice(&rtype.to_be_bytes());
            m.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            m.extend_from_slice(rdata);
        }
        m
    }

    fn soa(serial: u32) -> (u16, Vec<u8>) {
        let mut rd = vec![0xc0, 12, 0xc0, 12];
        rd.extend_from_slice(&serial.to_be_bytes());
        rd.extend_from_slice(&[0; 16]);
        (6, rd)
    }

    /// Serves one AXFR as `messages` built from the query; returns the client's result.
    fn serve(messages: Vec<Vec<(u16, Vec<u8>)>>) -> Result<Transfer> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut len = [0u8; 2];
            s.read_exact(&mut len).unwrap();
            let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
            s.read_exact(&mut q).unwrap();
            for rrs in messages {
                let m = message(&q, &rrs);
                let _ = s.write_all(&(m.len() as u16).to_be_bytes());
                let _ = s.write_all(&m);
            }
        });
        let r = transfer(addr, "bench.test", Duration::from_secs(5));
        server.join().unwrap();
        r
    }

    #[test]
    fn counts_every_rr_to_the_closing_soa() {
        let a = (1, vec![192, 0, 2, 1]);
        let t = serve(vec![vec![soa(7), a.clone()], vec![a.clone(), a, soa(7)]]).unwrap();
        assert_eq!((t.rrs, t.messages, t.serial), (5, 2, 7));
    }

    #[test]
    fn a_stream_that_is_cut_or_disagrees_is_an_error() {
        let a = (1, vec![192, 0, 2, 1]);
        let cut = serve(vec![vec![soa(7), a.clone()]]).err().unwrap();
        assert!(format!("{cut:#}").contains("closing SOA"), "{cut:#}");
        let other = serve(vec![vec![soa(7), a.clone(), soa(8)]]).err().unwrap();
        assert!(format!("{other:#}").contains("closing SOA 8"), "{other:#}");
        let headless = serve(vec![vec![a, soa(7)]]).err().unwrap();
        assert!(
            format!("{headless:#}").contains("does not open"),
            "{headless:#}"
        );
    }
}
