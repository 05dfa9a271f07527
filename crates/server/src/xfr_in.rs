//! Incoming transfers over real sockets: the SOA query of a refresh check (UDP, TCP when
//! truncated; RFC 1034 §4.3.5) and AXFR/IXFR requests over TCP (RFC 5936 §4.1, RFC 1995 §2),
//! sent from `--transfer-source`, bounded by the limits of PRODUCT.md §5 (total and idle time,
//! records and bytes). The message checks live in `tandem_xfr::incoming`; this module only
//! moves bytes and keeps time.

use crate::answer::unix_now;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tandem_xfr::incoming::{self, Kind, Limits, Reader, Transferred, XfrInError};
use tandem_xfr::tsig::{sign_request, RequestState, TsigKey};
use tandem_zone::{Name, Record};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::time::{timeout, timeout_at, Instant};

/// One primary of a secondary zone: a linked peer as the secondary role uses it.
#[derive(Clone, Debug)]
pub struct Primary {
    pub peer_id: String,
    pub name: String,
    pub addr: SocketAddr,
    /// Signs our requests; the answers must be signed with it (RFC 8945 §5.3).
    pub key: Option<TsigKey>,
    /// Ask for IXFR (falling back to AXFR) rather than AXFR only.
    pub ixfr: bool,
    /// Why nothing may be sent to this primary (its address is outside the operator's
    /// `--peer-allow`); a refresh then skips it with this as its result.
    pub blocked: Option<String>,
}

/// Settings of incoming transfers.
#[derive(Clone, Copy, Debug)]
pub struct XfrInConfig {
    /// `--transfer-source`; the kernel picks one when `None`.
    pub source: Option<IpAddr>,
    pub limits: Limits,
    /// Longest time one transfer may take, connection included.
    pub total_timeout: Duration,
    /// Longest wait for the next message of a transfer.
    pub idle_timeout: Duration,
    /// Wait for an SOA answer, per try.
    pub soa_timeout: Duration,
    /// SOA queries sent before a check fails.
    pub soa_tries: u32,
}

impl Default for XfrInConfig {
    fn default() -> Self {
        XfrInConfig {
            source: None,
            limits: Limits::default(),
            total_timeout: Duration::from_secs(900),
            idle_timeout: Duration::from_secs(30),
            soa_timeout: Duration::from_secs(2),
            soa_tries: 3,
        }
    }
}

/// Why a check or transfer failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Io(String),
    #[error("no answer from {addr} within {after:?}")]
    Timeout { addr: SocketAddr, after: Duration },
    #[error("{0}")]
    Answer(#[from] XfrInError),
}

impl FetchError {
    /// True when the primary refused or botched IXFR, so that AXFR is worth a try.
    pub fn wants_axfr(&self) -> bool {
        matches!(self, FetchError::Answer(e) if e.wants_axfr())
    }
}

/// The local address our queries to `to` leave from: the configured source (port chosen by
/// the kernel), else the unspecified address of `to`'s family.
pub(crate) fn local_for(source: Option<IpAddr>, to: SocketAddr) -> SocketAddr {
    match (source, to) {
        (Some(ip), _) => SocketAddr::new(ip, 0),
        (None, SocketAddr::V4(_)) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        (None, SocketAddr::V6(_)) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    }
}

/// Signs `msg` with `key` when there is one.
fn sign(msg: &mut Vec<u8>, key: Option<&TsigKey>) -> Result<Option<RequestState>, FetchError> {
    key.map(|k| sign_request(msg, k, unix_now()))
        .transpose()
        .map_err(|e| FetchError::Io(format!("cannot sign the request: {e:?}")))
}

/// An SOA query with a fresh id, signed when there is a key.
fn soa_request(
    apex: &Name,
    key: Option<&TsigKey>,
) -> Result<(u16, Vec<u8>, Option<RequestState>), FetchError> {
    let id: u16 = rand::random();
    let mut msg = incoming::soa_query(id, apex);
    let tsig = sign(&mut msg, key)?;
    Ok((id, msg, tsig))
}

/// Asks `to` for the serial of `apex` (RFC 1034 §4.3.5), retrying over UDP and switching to
/// TCP when the answer is truncated. Answers from another address or with another id are
/// ignored, as are answers whose TSIG does not verify (they may be forged).
pub async fn query_soa(
    apex: &Name,
    to: SocketAddr,
    key: Option<&TsigKey>,
    cfg: &XfrInConfig,
) -> Result<u32, FetchError> {
    let (id, msg, mut tsig) = soa_request(apex, key)?;
    let local = local_for(cfg.source, to);
    let sock = UdpSocket::bind(local)
        .await
        .map_err(|e| FetchError::Io(format!("cannot bind transfer source {local}: {e}")))?;
    let mut buf = vec![0u8; 65535];
    let mut last_error = None;
    for _ in 0..cfg.soa_tries.max(1) {
        sock.send_to(&msg, to)
            .await
            .map_err(|e| FetchError::Io(format!("send to {to}: {e}")))?;
        let deadline = Instant::now() + cfg.soa_timeout;
        loop {
            let (n, from) = match timeout_at(deadline, sock.recv_from(&mut buf)).await {
                Err(_) => break,
                Ok(Err(e)) => return Err(FetchError::Io(format!("receive from {to}: {e}"))),
                Ok(Ok(got)) => got,
            };
            let answer = &buf[..n];
            if from != to || n < 12 || u16::from_be_bytes([answer[0], answer[1]]) != id {
                continue;
            }
            let body = match tsig.as_mut() {
                Some(state) => match incoming::verify_answer(state, answer, unix_now()) {
                    Ok(body) => body,
                    Err(e) => {
                        last_error = Some(e.into());
                        continue;
                    }
                },
                None => answer.to_vec(),
            };
            if body.len() > 2 && body[2] & 0x02 != 0 {
                return query_soa_tcp(apex, to, key, cfg).await;
            }
            return Ok(incoming::soa_answer_serial(apex, id, &body)?);
        }
    }
    Err(last_error.unwrap_or(FetchError::Timeout {
        addr: to,
        after: cfg.soa_timeout * cfg.soa_tries.max(1),
    }))
}

async fn query_soa_tcp(
    apex: &Name,
    to: SocketAddr,
    key: Option<&TsigKey>,
    cfg: &XfrInConfig,
) -> Result<u32, FetchError> {
    let (id, msg, mut tsig) = soa_request(apex, key)?;
    let mut stream = connect(to, cfg.source, cfg.soa_timeout).await?;
    send(&mut stream, &msg).await?;
    let answer = read_message(&mut stream, to, cfg.soa_timeout)
        .await?
        .ok_or_else(|| FetchError::Io(format!("{to} closed the connection without an answer")))?;
    let body = match tsig.as_mut() {
        Some(state) => incoming::verify_answer(state, &answer, unix_now())?,
        None => answer,
    };
    Ok(incoming::soa_answer_serial(apex, id, &body)?)
}

async fn connect(
    to: SocketAddr,
    source: Option<IpAddr>,
    wait: Duration,
) -> Result<TcpStream, FetchError> {
    let socket = match to {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| FetchError::Io(format!("cannot open a TCP socket: {e}")))?;
    if let Some(ip) = source {
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(|e| FetchError::Io(format!("cannot bind transfer source {ip}: {e}")))?;
    }
    match timeout(wait, socket.connect(to)).await {
        Err(_) => Err(FetchError::Timeout {
            addr: to,
            after: wait,
        }),
        Ok(Err(e)) => Err(FetchError::Io(format!("cannot connect to {to}: {e}"))),
        Ok(Ok(s)) => Ok(s),
    }
}

/// Writes one message with its two-octet length (RFC 1035 §4.2.2).
async fn send(stream: &mut TcpStream, msg: &[u8]) -> Result<(), FetchError> {
    let mut framed = Vec::with_capacity(msg.len() + 2);
    framed.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    framed.extend_from_slice(msg);
    stream
        .write_all(&framed)
        .await
        .map_err(|e| FetchError::Io(format!("cannot send the request: {e}")))
}

/// Reads one length-prefixed message; `None` when the peer closed the connection cleanly
/// between messages.
async fn read_message(
    stream: &mut TcpStream,
    from: SocketAddr,
    idle: Duration,
) -> Result<Option<Vec<u8>>, FetchError> {
    let timed_out = || FetchError::Timeout {
        addr: from,
        after: idle,
    };
    let mut len = [0u8; 2];
    match timeout(idle, stream.read_exact(&mut len)).await {
        Err(_) => return Err(timed_out()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Ok(Err(e)) => return Err(FetchError::Io(format!("reading from {from}: {e}"))),
        Ok(Ok(_)) => {}
    }
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    match timeout(idle, stream.read_exact(&mut msg)).await {
        Err(_) => Err(timed_out()),
        Ok(Err(e)) => Err(FetchError::Io(format!(
            "connection to {from} broke inside a message: {e}"
        ))),
        Ok(Ok(_)) => Ok(Some(msg)),
    }
}

/// Asks `primary` for the zone over TCP and reads the whole answer, checked, within the
/// total and idle limits. `ours` is the SOA we serve (an IXFR request carries it).
pub async fn fetch(
    apex: &Name,
    primary: &Primary,
    kind: Kind,
    ours: Option<&Record>,
    cfg: &XfrInConfig,
) -> Result<Transferred, FetchError> {
    let to = primary.addr;
    match timeout(
        cfg.total_timeout,
        fetch_inner(apex, primary, kind, ours, cfg),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(FetchError::Io(format!(
            "the {} from {to} took longer than {:?}",
            kind.as_str(),
            cfg.total_timeout
        ))),
    }
}

async fn fetch_inner(
    apex: &Name,
    primary: &Primary,
    kind: Kind,
    ours: Option<&Record>,
    cfg: &XfrInConfig,
) -> Result<Transferred, FetchError> {
    let to = primary.addr;
    let id: u16 = rand::random();
    let our_serial = ours.and_then(|r| tandem_zone::record::soa_serial(&r.rdata));
    let mut msg = incoming::transfer_request(id, apex, kind, ours);
    let tsig = sign(&mut msg, primary.key.as_ref())?;
    let mut reader = Reader::new(apex.clone(), kind, id, our_serial, cfg.limits, tsig);
    let mut stream = connect(to, cfg.source, cfg.idle_timeout).await?;
    send(&mut stream, &msg).await?;
    loop {
        let Some(message) = read_message(&mut stream, to, cfg.idle_timeout).await? else {
            let (messages, bytes) = reader.received();
            return Err(FetchError::Io(format!(
                "{to} closed the connection after {messages} messages ({bytes} bytes), \
                 before the transfer's final SOA"
            )));
        };
        if reader.feed(&message, unix_now())? {
            return Ok(reader.finish()?);
        }
    }
}
