//! A trivial loopback "DNS server" that turns every datagram it receives into
//! a response (QR and AA set, rcode NOERROR, payload echoed) using recvmmsg /
//! sendmmsg. It does no DNS work, so running the load generator against it
//! measures the load generator's own ceiling on this machine.

use std::io;
use std::mem;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::engine::ensure_loopback;

const BUF: usize = 2048;

/// Answers datagrams on `listen` until `duration` has passed; returns how
/// many were answered.
pub fn reflect(listen: SocketAddr, duration: Duration, batch: usize) -> Result<u64> {
    ensure_loopback(&listen)?;
    let sock = UdpSocket::bind(listen).with_context(|| format!("bind {listen}"))?;
    eprintln!("reflect: listening on {}", sock.local_addr()?);
    reflect_on(&sock, duration, batch)
}

/// Same as [`reflect`] on an already bound socket.
pub fn reflect_on(sock: &UdpSocket, duration: Duration, batch: usize) -> Result<u64> {
    sock.set_read_timeout(Some(Duration::from_millis(50)))?;
    let fd = sock.as_raw_fd();
    let batch = batch.clamp(1, 1024);
    let mut bufs = vec![0u8; batch * BUF];
    // SAFETY: zeroed iovec/mmsghdr/sockaddr_storage are valid values.
    let mut iov: Vec<libc::iovec> = vec![unsafe { mem::zeroed() }; batch];
    let mut names: Vec<libc::sockaddr_storage> = vec![unsafe { mem::zeroed() }; batch];
    let mut msgs: Vec<libc::mmsghdr> = vec![unsafe { mem::zeroed() }; batch];
    let end = Instant::now() + duration;
    let mut answered = 0u64;
    while Instant::now() < end {
        for i in 0..batch {
            iov[i].iov_base = bufs[i * BUF..].as_mut_ptr() as *mut libc::c_void;
            iov[i].iov_len = BUF;
            let h = &mut msgs[i].msg_hdr;
            h.msg_iov = &mut iov[i];
            h.msg_iovlen = 1;
            h.msg_name = &mut names[i] as *mut _ as *mut libc::c_void;
            h.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        }
        // SAFETY: headers point at live buffers; blocks at most the read timeout.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                msgs.as_mut_ptr(),
                batch as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n <= 0 {
            let e = io::Error::last_os_error();
            if matches!(
                e.raw_os_error(),
                Some(libc::EAGAIN) | Some(libc::EINTR) | Some(libc::ECONNREFUSED)
            ) {
                continue;
            }
            return Err(e).context("recvmmsg");
        }
        let n = n as usize;
        for i in 0..n {
            let len = msgs[i].msg_len as usize;
            let b = &mut bufs[i * BUF..i * BUF + len];
            if len >= 4 {
                b[2] |= 0x84;
                b[3] &= 0xf0;
            }
            iov[i].iov_len = len;
        }
        let mut off = 0;
        while off < n {
            // SAFETY: as above, each header names its sender and buffer.
            let s = unsafe {
                libc::sendmmsg(fd, msgs[off..].as_mut_ptr(), (n - off) as libc::c_uint, 0)
            };
            if s <= 0 {
                break;
            }
            off += s as usize;
        }
        answered += off as u64;
    }
    Ok(answered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{run, Config};
    use crate::wire::QuerySet;

    #[test]
    fn loadgen_against_reflector() {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = sock.local_addr().unwrap();
        let h = std::thread::spawn(move || reflect_on(&sock, Duration::from_millis(800), 16));
        let mut qs = QuerySet::default();
        qs.push("www1.bench.test", 1, true).unwrap();
        qs.push("bench.test", 6, false).unwrap();
        let cfg = Config {
            server: addr,
            duration: Duration::from_millis(200),
            in_flight: 64,
            batch: 16,
            sockets: 1,
            threads: 1,
            timeout: Duration::from_secs(2),
            seed: 9,
            rate: 0.0,
            source: None,
        };
        let st = run(&cfg, &qs).unwrap();
        let answered = h.join().unwrap().unwrap();
        assert!(st.received > 0);
        assert_eq!(st.lost, 0);
        assert_eq!(st.rcodes[0], st.received);
        assert_eq!(answered, st.received);
    }

    #[test]
    fn reflector_refuses_non_loopback() {
        let addr = "192.0.2.1:53".parse().unwrap();
        assert!(reflect(addr, Duration::from_millis(10), 4).is_err());
    }
}
