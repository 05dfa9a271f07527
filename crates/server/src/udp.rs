//! UDP listeners: one `SO_REUSEPORT` socket per worker thread, each worker receiving and
//! sending in batches with `recvmmsg`/`sendmmsg` into buffers allocated once at start.

use crate::answer::{respond, AnswerConfig, Transport};
use crate::metrics::QueryCounters;
use crate::zone::ZoneSet;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;

/// Messages handled per system call.
const BATCH: usize = 32;
/// Largest query we read; anything longer is dropped (queries are small, RFC 1035 §4.2.1).
const RX_SIZE: usize = 4096;

/// Binds `count` UDP sockets to `addr` with `SO_REUSEPORT`, one receive queue per worker.
///
/// The port is first claimed by a plain socket (no reuse option), which fails while any other
/// socket holds it. Without that check the kernel lets us join a port that a socket of another
/// process of the same user holds with `SO_REUSEPORT` (a second server started on the same
/// address, a client such as dig on its source port), and the queries would be split between
/// the two. With port 0 the claim picks a port no socket holds, and the workers' sockets join it.
/// `SO_REUSEADDR` is not set: on UDP it would let a process of any user share the port.
///
/// Once bound, a same-user socket that sets `SO_REUSEPORT` can still join us; the kernel gives
/// no way to close the group. An ephemeral port (as port 0 gives) can so become a client's
/// source port; serve on a port outside `ip_local_port_range`, as port 53 is.
pub fn bind(addr: SocketAddr, count: usize) -> io::Result<Vec<UdpSocket>> {
    let addr = {
        let claim = UdpSocket::bind(addr)?;
        claim.local_addr()?
    };
    let mut out = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        if addr.is_ipv6() {
            s.set_only_v6(true)?;
        }
        s.set_reuse_port(true)?;
        let _ = s.set_recv_buffer_size(4 << 20);
        let _ = s.set_send_buffer_size(4 << 20);
        s.bind(&addr.into())?;
        out.push(s.into());
    }
    Ok(out)
}

/// Runs one worker on `sock` until the process ends.
pub fn run_worker(
    sock: UdpSocket,
    zones: Arc<ZoneSet>,
    cfg: AnswerConfig,
    counters: Arc<QueryCounters>,
) -> io::Result<()> {
    let fd = sock.as_raw_fd();
    let mut rx = vec![0u8; BATCH * RX_SIZE];
    let mut tx: Vec<Vec<u8>> = (0..BATCH).map(|_| Vec::with_capacity(65536)).collect();
    // SAFETY: zeroed sockaddr_storage/iovec/mmsghdr are valid initial values.
    let mut addrs: Vec<libc::sockaddr_storage> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut rx_iov: Vec<libc::iovec> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut rx_msgs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut tx_iov: Vec<libc::iovec> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut tx_msgs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; BATCH];
    loop {
        for i in 0..BATCH {
            rx_iov[i] = libc::iovec {
                iov_base: rx[i * RX_SIZE..].as_mut_ptr().cast(),
                iov_len: RX_SIZE,
            };
            let h = &mut rx_msgs[i].msg_hdr;
            h.msg_name = (&mut addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &mut rx_iov[i];
            h.msg_iovlen = 1;
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
            rx_msgs[i].msg_len = 0;
        }
        // SAFETY: every header points into buffers that outlive the call.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                rx_msgs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let mut out = 0usize;
        for i in 0..n as usize {
            let len = rx_msgs[i].msg_len as usize;
            if rx_msgs[i].msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                continue;
            }
            let msg = &rx[i * RX_SIZE..i * RX_SIZE + len];
            let buf = &mut tx[out];
            let source = source_ip(&addrs[i]);
            let Some(code) = respond(&zones, msg, buf, Transport::Udp, source, &cfg) else {
                continue;
            };
            counters.count(Transport::Udp, code);
            tx_iov[out] = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            let h = &mut tx_msgs[out].msg_hdr;
            h.msg_name = (&mut addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = rx_msgs[i].msg_hdr.msg_namelen;
            h.msg_iov = &mut tx_iov[out];
            h.msg_iovlen = 1;
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
            out += 1;
        }
        let mut sent = 0usize;
        while sent < out {
            // SAFETY: headers point at response buffers and addresses filled above.
            let r = unsafe {
                libc::sendmmsg(
                    fd,
                    tx_msgs[sent..].as_mut_ptr(),
                    (out - sent) as libc::c_uint,
                    0,
                )
            };
            if r <= 0 {
                // A send error concerns one datagram (e.g. an unreachable source); skip it.
                sent += 1;
            } else {
                sent += r as usize;
            }
        }
    }
}

/// The address a datagram came from.
fn source_ip(ss: &libc::sockaddr_storage) -> std::net::IpAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    match ss.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the kernel filled a sockaddr_in for AF_INET.
            let sin = unsafe { &*(ss as *const _ as *const libc::sockaddr_in) };
            IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)))
        }
        libc::AF_INET6 => {
            // SAFETY: the kernel filled a sockaddr_in6 for AF_INET6.
            let sin6 = unsafe { &*(ss as *const _ as *const libc::sockaddr_in6) };
            IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr))
        }
        _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(reuse_port: bool, reuse_addr: bool) -> (Socket, SocketAddr) {
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        s.set_reuse_port(reuse_port).unwrap();
        s.set_reuse_address(reuse_addr).unwrap();
        s.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        let addr = s.local_addr().unwrap().as_socket().unwrap();
        (s, addr)
    }

    #[test]
    fn a_port_held_by_any_other_socket_is_refused_even_one_that_allows_sharing() {
        for (reuse_port, reuse_addr) in [(true, false), (false, true), (true, true), (false, false)]
        {
            let (_held, addr) = holder(reuse_port, reuse_addr);
            let err = bind(addr, 2).expect_err("a held port must not be shared");
            assert_eq!(
                err.kind(),
                io::ErrorKind::AddrInUse,
                "held with SO_REUSEPORT={reuse_port} SO_REUSEADDR={reuse_addr}: {err}"
            );
        }
    }

    #[test]
    fn port_zero_gives_every_worker_the_same_free_port() {
        let socks = bind(SocketAddr::from(([127, 0, 0, 1], 0)), 3).unwrap();
        assert_eq!(socks.len(), 3);
        let port = socks[0].local_addr().unwrap().port();
        assert_ne!(port, 0);
        for s in &socks {
            assert_eq!(s.local_addr().unwrap().port(), port);
        }
        // Bound, the port is ours alone: a client that asks to share it is refused.
        let other = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        other.set_reuse_address(true).unwrap();
        let shared = other.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into());
        assert!(
            shared.is_err(),
            "SO_REUSEADDR must not share a listener's port"
        );
    }
}
