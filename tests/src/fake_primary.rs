//! A scripted primary for the secondary-role tests: plain threads over std sockets on a free
//! 127.0.0.1 port (UDP and TCP). It answers SOA queries with its current serial and AXFR/IXFR
//! over TCP with the records of its zone versions, split into many small messages, optionally
//! TSIG-signed (with `domain`'s signer, not ours). A [`Fault`] breaks the transfer stream in one
//! scripted way; an [`IxfrMode`] chooses how IXFR is answered. Every message it receives is
//! logged ([`Seen`]: transport, source, id, opcode, question type, the client's serial of an
//! IXFR, signed or not) so a test can count SOA checks and transfer requests.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use domain::base::iana::{Class, Opcode, Rcode, Rtype};
use domain::base::message_builder::AdditionalBuilder;
use domain::base::name::ParsedName;
use domain::base::rdata::ComposeRecordData;
use domain::base::rdata::UnknownRecordData;
use domain::base::{Message, MessageBuilder, Name, ToName, Ttl};
use domain::rdata::tsig::Time48;
use domain::rdata::Soa;
use domain::tsig::{Key, ServerSequence};
use domain::zonefile::inplace::{Entry, Zonefile};

use crate::fake_tsig::HandSigner;
use crate::secondary::TsigKey;

/// One record of a zone version: absolute owner (lowercase, with the trailing dot), type,
/// TTL and RDATA in uncompressed wire form.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rec {
    pub owner: String,
    pub rtype: u16,
    pub ttl: u32,
    pub rdata: Vec<u8>,
}

/// How IXFR requests are answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IxfrMode {
    /// One condensed difference when the client's version is known, a single SOA when it is
    /// current, the whole zone (AXFR-style) otherwise.
    Incremental,
    /// Always the whole zone, AXFR-style (as NSD does from zone files).
    AxfrStyle,
    /// An answer without records with this RCODE (NOTIMP, FORMERR, REFUSED, ...).
    Rcode(u8),
    /// A single SOA carrying the client's own serial: "you are current".
    SingleSoaCurrent,
}

/// One way to break a transfer stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Sends the first half of the messages, then closes the connection.
    CloseMidway,
    /// The last SOA carries another serial than the first.
    SoaMismatch,
    /// An extra SOA record in the middle of the stream.
    SoaInMiddle,
    /// The second message carries another id than the request.
    WrongId,
    /// A record owned by a name outside the zone, in the middle of the stream.
    OutsideZone,
    /// The second message is not TSIG-signed, and the next signed one covers it as RFC 8945
    /// §5.3.1 describes for unsigned intermediate messages (only meaningful with a key).
    UnsignedMiddle,
    /// The last message is not TSIG-signed (only meaningful with a key).
    UnsignedLast,
    /// IXFR only: the difference starts from a serial the client does not have.
    IxfrUnknownBase,
    /// IXFR only: the difference deletes a record that the zone does not have.
    IxfrDeleteMissing,
    /// IXFR only: the SOA that opens the difference is owned by a name below the apex.
    IxfrSoaNotApex,
    /// A LOC record of 3 octets (RFC 1876 §2 defines 16) in the middle of the stream: RDATA
    /// that the wire parser takes as opaque but that is malformed for its type.
    MalformedRdata,
}

/// A message the fake primary received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    /// `"udp"` or `"tcp"`.
    pub transport: &'static str,
    pub source: SocketAddr,
    pub id: u16,
    pub opcode: u8,
    pub qtype: u16,
    /// The serial in the authority SOA of an IXFR request.
    pub client_serial: Option<u32>,
    /// Carried a TSIG record (valid or not).
    pub signed: bool,
}

impl Seen {
    pub fn is_soa_query(&self) -> bool {
        self.opcode == 0 && self.qtype == Rtype::SOA.to_int()
    }
    pub fn is_axfr(&self) -> bool {
        self.qtype == Rtype::AXFR.to_int()
    }
    pub fn is_ixfr(&self) -> bool {
        self.qtype == Rtype::IXFR.to_int()
    }
    pub fn is_transfer(&self) -> bool {
        self.is_axfr() || self.is_ixfr()
    }
}

/// SOA fields other than the serial.
#[derive(Clone, Debug)]
pub struct SoaTimers {
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    pub minimum: u32,
}

struct State {
    apex: String,
    serial: u32,
    timers: SoaTimers,
    versions: BTreeMap<u32, Vec<Rec>>,
    ixfr: IxfrMode,
    axfr_fault: Option<Fault>,
    ixfr_fault: Option<Fault>,
    key: Option<Arc<Key>>,
    /// The key's algorithm as configured (`hmac-sha256`), and its secret.
    key_algo: String,
    /// Transfers need a valid signature (when a key is set).
    require_tsig: bool,
    /// Ignore UDP, close TCP connections at once: a primary that is down.
    silent: bool,
    per_message: usize,
    seen: Vec<Seen>,
}

struct Shared {
    stop: AtomicBool,
    state: Mutex<State>,
    /// Pause between the messages of a transfer answer, in milliseconds.
    message_delay_ms: std::sync::atomic::AtomicU64,
    /// Transfer answers being written right now, and the most there ever were at once.
    active_transfers: std::sync::atomic::AtomicUsize,
    max_active_transfers: std::sync::atomic::AtomicUsize,
}

/// The running fake primary; its threads stop on drop.
pub struct FakePrimary {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl FakePrimary {
    /// Starts serving `apex` (e.g. `example.test`) at `serial` with the records of
    /// `zone_text` (zone-file syntax relative to the apex, no SOA: the SOA is made from the
    /// serial and `timers`).
    pub fn start(apex: &str, serial: u32, timers: SoaTimers, zone_text: &str) -> FakePrimary {
        let apex = fqdn(apex);
        let mut versions = BTreeMap::new();
        versions.insert(serial, parse_records(&apex, zone_text));
        let state = State {
            apex,
            serial,
            timers,
            versions,
            ixfr: IxfrMode::Incremental,
            axfr_fault: None,
            ixfr_fault: None,
            key: None,
            key_algo: String::new(),
            require_tsig: false,
            silent: false,
            per_message: 4,
            seen: Vec::new(),
        };
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            state: Mutex::new(state),
            message_delay_ms: Default::default(),
            active_transfers: Default::default(),
            max_active_transfers: Default::default(),
        });
        let (udp, tcp) = loop {
            let port = crate::process::free_port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            if let (Ok(u), Ok(t)) = (UdpSocket::bind(addr), TcpListener::bind(addr)) {
                break (u, t);
            }
        };
        let addr = udp.local_addr().unwrap();
        udp.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        tcp.set_nonblocking(true).unwrap();
        let s1 = shared.clone();
        let s2 = shared.clone();
        let threads = vec![
            std::thread::spawn(move || udp_loop(udp, s1)),
            std::thread::spawn(move || tcp_loop(tcp, s2)),
        ];
        FakePrimary {
            addr,
            shared,
            threads,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }

    /// Adds version `serial` with the records of `zone_text` and makes it current.
    pub fn set_version(&self, serial: u32, zone_text: &str) {
        let mut st = self.state();
        let recs = parse_records(&st.apex, zone_text);
        st.versions.insert(serial, recs);
        st.serial = serial;
    }

    /// The current serial.
    pub fn serial(&self) -> u32 {
        self.state().serial
    }

    pub fn set_ixfr_mode(&self, mode: IxfrMode) {
        self.state().ixfr = mode;
    }

    /// The fault applied to every AXFR (and AXFR-style IXFR answer) from now on.
    pub fn set_axfr_fault(&self, fault: Option<Fault>) {
        self.state().axfr_fault = fault;
    }

    /// The fault applied to every incremental IXFR answer from now on.
    pub fn set_ixfr_fault(&self, fault: Option<Fault>) {
        self.state().ixfr_fault = fault;
    }

    /// Signs answers to signed requests with `key`; with `require`, unsigned transfer requests
    /// are REFUSED.
    pub fn set_key(&self, key: &TsigKey, require: bool) {
        let mut st = self.state();
        st.key = Some(Arc::new(domain_key(key)));
        st.key_algo = format!("{}:{}", key.algo, key.secret);
        st.require_tsig = require;
    }

    /// A primary that is down (`true`) or back (`false`).
    pub fn set_silent(&self, silent: bool) {
        self.state().silent = silent;
    }

    /// Records per transfer message (default 4, so small zones make many messages).
    pub fn set_records_per_message(&self, n: usize) {
        self.state().per_message = n.max(1);
    }

    /// Pauses this long between the messages of a transfer answer, so transfers take time.
    pub fn set_message_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.message_delay_ms.store(ms, Ordering::SeqCst);
    }

    /// The most transfer answers (of more than one message) ever written at the same time.
    pub fn max_concurrent_transfers(&self) -> usize {
        self.shared.max_active_transfers.load(Ordering::SeqCst)
    }

    /// Everything received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state().seen.clone()
    }

    /// Everything received since `since`.
    pub fn seen_since(&self, since: Instant) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.at >= since).collect()
    }

    /// SOA queries received since `since`.
    pub fn soa_queries_since(&self, since: Instant) -> usize {
        self.seen_since(since)
            .iter()
            .filter(|s| s.is_soa_query())
            .count()
    }

    /// Transfer requests (AXFR and IXFR) received since `since`, in order.
    pub fn transfers_since(&self, since: Instant) -> Vec<Seen> {
        self.seen_since(since)
            .into_iter()
            .filter(Seen::is_transfer)
            .collect()
    }

    /// A readable list of what was received since `since`.
    pub fn describe_since(&self, since: Instant) -> String {
        self.seen_since(since)
            .iter()
            .map(|s| {
                format!(
                    "+{:?} {} from {} id {} opcode {} qtype {}{}{}",
                    s.at.saturating_duration_since(since),
                    s.transport,
                    s.source,
                    s.id,
                    s.opcode,
                    Rtype::from_int(s.qtype),
                    s.client_serial
                        .map(|c| format!(" client serial {c}"))
                        .unwrap_or_default(),
                    if s.signed { " signed" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for FakePrimary {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// `domain`'s form of a TSIG key.
pub fn domain_key(key: &TsigKey) -> Key {
    use base64::Engine as _;
    let secret = base64::engine::general_purpose::STANDARD
        .decode(&key.secret)
        .expect("TSIG secret is base64");
    let algo = domain::tsig::Algorithm::from_str(&key.algo).expect("known TSIG algorithm");
    let name = domain::tsig::KeyName::from_str(&key.name).expect("TSIG key name");
    Key::new(algo, &secret, name, None, None).expect("TSIG key")
}

fn fqdn(name: &str) -> String {
    let mut s = name.to_ascii_lowercase();
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// Parses zone-file text relative to `apex` into records.
pub fn parse_records(apex: &str, text: &str) -> Vec<Rec> {
    let mut zf = Zonefile::new();
    zf.extend_from_slice(format!("$ORIGIN {apex}\n$TTL 300\n{text}\n").as_bytes());
    zf.set_default_class(Class::IN);
    let mut out = Vec::new();
    while let Some(entry) = zf
        .next_entry()
        .unwrap_or_else(|e| panic!("fake primary zone text: {e}\n{text}"))
    {
        if let Entry::Record(r) = entry {
            let mut rdata = Vec::new();
            r.data()
                .compose_rdata(&mut rdata)
                .expect("compose into a Vec");
            out.push(Rec {
                owner: fqdn(&r.owner().to_name::<Vec<u8>>().to_string()),
                rtype: r.rtype().to_int(),
                ttl: r.ttl().as_secs(),
                rdata,
            });
        }
    }
    out.sort();
    out
}

fn soa_rec(st: &State, serial: u32) -> Rec {
    let apex = Name::<Vec<u8>>::from_str(&st.apex).unwrap();
    let mname = Name::<Vec<u8>>::from_str(&format!("ns1.{}", st.apex)).unwrap();
    let rname = Name::<Vec<u8>>::from_str(&format!("hostmaster.{}", st.apex)).unwrap();
    let t = &st.timers;
    let soa = Soa::new(
        mname,
        rname,
        serial.into(),
        Ttl::from_secs(t.refresh),
        Ttl::from_secs(t.retry),
        Ttl::from_secs(t.expire),
        Ttl::from_secs(t.minimum),
    );
    let mut rdata = Vec::new();
    soa.compose_rdata(&mut rdata).unwrap();
    Rec {
        owner: apex.to_string().to_ascii_lowercase() + ".",
        rtype: Rtype::SOA.to_int(),
        ttl: 3600,
        rdata,
    }
}

fn udp_loop(socket: UdpSocket, shared: Arc<Shared>) {
    let mut buf = vec![0u8; 65535];
    while !shared.stop.load(Ordering::SeqCst) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let answers = handle(&shared, &buf[..n], from, "udp");
        for a in answers.into_iter().filter_map(|a| match a {
            Out::Message(m) => Some(m),
            Out::Close => None,
        }) {
            let _ = socket.send_to(&a, from);
        }
    }
}

fn tcp_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut conns = Vec::new();
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, from)) => {
                let s = shared.clone();
                conns.push(std::thread::spawn(move || tcp_conn(stream, from, s)));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    for c in conns {
        let _ = c.join();
    }
}

fn tcp_conn(mut stream: TcpStream, from: SocketAddr, shared: Arc<Shared>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    if shared.state.lock().unwrap().silent {
        let _ = stream.shutdown(Shutdown::Both);
        return;
    }
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    let idle_since = Instant::now();
    while !shared.stop.load(Ordering::SeqCst) && idle_since.elapsed() < Duration::from_secs(30) {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => return,
        }
        while pending.len() >= 2 {
            let len = usize::from(u16::from_be_bytes([pending[0], pending[1]]));
            if pending.len() < 2 + len {
                break;
            }
            let msg: Vec<u8> = pending[2..2 + len].to_vec();
            pending.drain(..2 + len);
            let outs = handle(&shared, &msg, from, "tcp");
            // An answer of several messages is a transfer: count it while it is written.
            let _transfer = (outs.len() > 1).then(|| ActiveTransfer::start(&shared));
            let delay = Duration::from_millis(shared.message_delay_ms.load(Ordering::SeqCst));
            for (i, out) in outs.into_iter().enumerate() {
                match out {
                    Out::Message(m) => {
                        // The pause comes before every message but the first, so a transfer
                        // counts as active only until its last message is written.
                        if i > 0 && _transfer.is_some() && !delay.is_zero() {
                            std::thread::sleep(delay);
                        }
                        let mut framed = (m.len() as u16).to_be_bytes().to_vec();
                        framed.extend_from_slice(&m);
                        if stream.write_all(&framed).is_err() {
                            return;
                        }
                    }
                    Out::Close => {
                        let _ = stream.flush();
                        let _ = stream.shutdown(Shutdown::Both);
                        return;
                    }
                }
            }
        }
    }
}

enum Out {
    Message(Vec<u8>),
    Close,
}

/// One transfer answer being written; counted in [`Shared::active_transfers`] until dropped.
struct ActiveTransfer<'a>(&'a Shared);

impl<'a> ActiveTransfer<'a> {
    fn start(shared: &'a Shared) -> Self {
        let now = shared.active_transfers.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_active_transfers.fetch_max(now, Ordering::SeqCst);
        ActiveTransfer(shared)
    }
}

impl Drop for ActiveTransfer<'_> {
    fn drop(&mut self) {
        self.0.active_transfers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Answers one received message.
fn handle(shared: &Shared, wire: &[u8], from: SocketAddr, transport: &'static str) -> Vec<Out> {
    let Ok(mut msg) = Message::from_octets(wire.to_vec()) else {
        return Vec::new();
    };
    let header = msg.header();
    let (id, opcode) = (header.id(), header.opcode().to_int());
    let Ok(question) = msg.sole_question() else {
        return Vec::new();
    };
    let qtype = question.qtype();
    let qname = fqdn(&question.qname().to_string());
    let client_serial = ixfr_client_serial(&msg);
    let signed = has_tsig(&msg);
    let mut st = shared.state.lock().unwrap();
    st.seen.push(Seen {
        at: Instant::now(),
        transport,
        source: from,
        id,
        opcode,
        qtype: qtype.to_int(),
        client_serial,
        signed,
    });
    if st.silent {
        return vec![Out::Close];
    }
    let mut signer = None;
    if signed {
        if let Some(key) = st.key.clone() {
            match ServerSequence::request(&key, &mut msg, Time48::now()) {
                Ok(seq) => signer = seq,
                Err(e) => {
                    let wire = e
                        .build_message(&msg, MessageBuilder::new_vec())
                        .map(AdditionalBuilder::finish)
                        .unwrap_or_default();
                    return vec![Out::Message(wire)];
                }
            }
        }
    }
    let is_transfer = qtype == Rtype::AXFR || qtype == Rtype::IXFR;
    if opcode != Opcode::QUERY.to_int() {
        return vec![Out::Message(empty_answer(
            &msg,
            Rcode::NOTIMP,
            signer.as_mut(),
        ))];
    }
    if is_transfer && st.require_tsig && st.key.is_some() && signer.is_none() {
        return vec![Out::Message(empty_answer(&msg, Rcode::REFUSED, None))];
    }
    if qname != st.apex {
        return vec![Out::Message(empty_answer(
            &msg,
            Rcode::REFUSED,
            signer.as_mut(),
        ))];
    }
    if qtype == Rtype::SOA {
        let soa = soa_rec(&st, st.serial);
        return vec![Out::Message(build(
            &msg,
            &[soa],
            msg.header().id(),
            signer.as_mut(),
        ))];
    }
    if !is_transfer {
        return vec![Out::Message(build(
            &msg,
            &[],
            msg.header().id(),
            signer.as_mut(),
        ))];
    }
    if transport == "udp" {
        // Transfers over UDP: a single SOA says "ask over TCP".
        let soa = soa_rec(&st, st.serial);
        return vec![Out::Message(build(
            &msg,
            &[soa],
            msg.header().id(),
            signer.as_mut(),
        ))];
    }
    let (records, fault) = if qtype == Rtype::IXFR {
        match st.ixfr {
            IxfrMode::Rcode(code) => {
                let rcode = Rcode::checked_from_int(code).unwrap_or(Rcode::SERVFAIL);
                return vec![Out::Message(empty_answer(&msg, rcode, signer.as_mut()))];
            }
            IxfrMode::SingleSoaCurrent => {
                let soa = soa_rec(&st, client_serial.unwrap_or(st.serial));
                return vec![Out::Message(build(
                    &msg,
                    &[soa],
                    msg.header().id(),
                    signer.as_mut(),
                ))];
            }
            IxfrMode::AxfrStyle => (full_zone(&st), st.axfr_fault),
            IxfrMode::Incremental => match client_serial {
                Some(c) if c == st.serial => {
                    let soa = soa_rec(&st, st.serial);
                    return vec![Out::Message(build(
                        &msg,
                        &[soa],
                        msg.header().id(),
                        signer.as_mut(),
                    ))];
                }
                Some(c) if st.versions.contains_key(&c) => (difference(&st, c), st.ixfr_fault),
                _ => (full_zone(&st), st.axfr_fault),
            },
        }
    } else {
        (full_zone(&st), st.axfr_fault)
    };
    let per_message = st.per_message;
    let apex = st.apex.clone();
    let serial = st.serial;
    let extra_soa = soa_rec(&st, serial);
    let wrong_soa = soa_rec(&st, serial.wrapping_add(7));
    let key_algo = st.key_algo.clone();
    drop(st);
    stream(
        &msg,
        wire,
        records,
        fault,
        per_message,
        &apex,
        (extra_soa, wrong_soa),
        signer,
        key_algo,
    )
}

/// Builds and signs the messages of one transfer, applying `fault`.
#[allow(clippy::too_many_arguments)]
fn stream(
    msg: &Message<Vec<u8>>,
    request: &[u8],
    mut records: Vec<Rec>,
    fault: Option<Fault>,
    per_message: usize,
    apex: &str,
    (extra_soa, wrong_soa): (Rec, Rec),
    mut signer: Option<ServerSequence<Arc<Key>>>,
    key_algo: String,
) -> Vec<Out> {
    let middle = records.len() / 2;
    match fault {
        Some(Fault::SoaMismatch) => {
            let last = records.len() - 1;
            records[last] = wrong_soa;
        }
        Some(Fault::SoaInMiddle) => records.insert(middle, extra_soa),
        Some(Fault::OutsideZone) => records.insert(
            middle,
            Rec {
                owner: "evil.other.test.".into(),
                rtype: Rtype::A.to_int(),
                ttl: 300,
                rdata: vec![192, 0, 2, 66],
            },
        ),
        Some(Fault::MalformedRdata) => records.insert(
            middle,
            Rec {
                owner: format!("loc.{apex}"),
                rtype: 29,
                ttl: 300,
                rdata: vec![0, 1, 2],
            },
        ),
        _ => {}
    }
    let _ = apex;
    let chunks: Vec<&[Rec]> = records.chunks(per_message).collect();
    let mut out = Vec::new();
    let id = msg.header().id();
    let mut hand: Option<HandSigner> = None;
    for (i, chunk) in chunks.iter().enumerate() {
        if fault == Some(Fault::CloseMidway) && i >= chunks.len() / 2 && i > 0 {
            out.push(Out::Close);
            return out;
        }
        let this_id = if fault == Some(Fault::WrongId) && i == 1 {
            id ^ 0x5a5a
        } else {
            id
        };
        if fault == Some(Fault::UnsignedMiddle) && signer.is_some() {
            let hand = hand.get_or_insert_with(|| {
                HandSigner::new(signer.as_ref().unwrap().key(), request, &key_algo)
            });
            let mut m = build(msg, chunk, this_id, None);
            if i == 1 {
                hand.skip(&m);
            } else {
                hand.sign(&mut m);
            }
            out.push(Out::Message(m));
            continue;
        }
        let sign = if fault == Some(Fault::UnsignedLast) && i + 1 == chunks.len() {
            None
        } else {
            signer.as_mut()
        };
        out.push(Out::Message(build(msg, chunk, this_id, sign)));
    }
    out
}

/// The whole zone as an AXFR sends it: SOA, records, SOA.
fn full_zone(st: &State) -> Vec<Rec> {
    let soa = soa_rec(st, st.serial);
    let mut out = vec![soa.clone()];
    out.extend(st.versions[&st.serial].iter().cloned());
    out.push(soa);
    out
}

/// One condensed IXFR difference from `from` to the current serial, with the IXFR faults.
fn difference(st: &State, from: u32) -> Vec<Rec> {
    let old = &st.versions[&from];
    let new = &st.versions[&st.serial];
    let new_soa = soa_rec(st, st.serial);
    let base = if st.ixfr_fault == Some(Fault::IxfrUnknownBase) {
        from.wrapping_sub(3)
    } else {
        from
    };
    let mut old_soa = soa_rec(st, base);
    if st.ixfr_fault == Some(Fault::IxfrSoaNotApex) {
        old_soa.owner = format!("www.{}", st.apex);
    }
    // Sets, not `Vec::contains`: versions of tens of thousands of records would otherwise
    // take the fake minutes per difference, with its state locked.
    let old_set: std::collections::HashSet<&Rec> = old.iter().collect();
    let new_set: std::collections::HashSet<&Rec> = new.iter().collect();
    let mut out = vec![new_soa.clone(), old_soa];
    out.extend(old.iter().filter(|r| !new_set.contains(r)).cloned());
    if st.ixfr_fault == Some(Fault::IxfrDeleteMissing) {
        out.push(Rec {
            owner: format!("nothere.{}", st.apex),
            rtype: Rtype::A.to_int(),
            ttl: 300,
            rdata: vec![192, 0, 2, 250],
        });
    }
    out.push(new_soa.clone());
    out.extend(new.iter().filter(|r| !old_set.contains(r)).cloned());
    out.push(new_soa);
    out
}

/// An answer to `msg` with `records` in the answer section, id `id`, signed when `signer`.
fn build(
    msg: &Message<Vec<u8>>,
    records: &[Rec],
    id: u16,
    signer: Option<&mut ServerSequence<Arc<Key>>>,
) -> Vec<u8> {
    let mut answer = MessageBuilder::new_vec()
        .start_answer(msg, Rcode::NOERROR)
        .expect("question fits");
    answer.header_mut().set_aa(true);
    answer.header_mut().set_id(id);
    for r in records {
        let owner = Name::<Vec<u8>>::from_str(&r.owner).expect("record owner");
        let data = UnknownRecordData::from_octets(Rtype::from_int(r.rtype), r.rdata.clone())
            .expect("rdata length");
        answer
            .push((owner, Class::IN, Ttl::from_secs(r.ttl), data))
            .expect("record fits a message");
    }
    let mut additional = answer.additional();
    if let Some(s) = signer {
        s.answer(&mut additional, Time48::now()).expect("TSIG fits");
    }
    additional.finish()
}

fn empty_answer(
    msg: &Message<Vec<u8>>,
    rcode: Rcode,
    signer: Option<&mut ServerSequence<Arc<Key>>>,
) -> Vec<u8> {
    let mut answer = MessageBuilder::new_vec()
        .start_answer(msg, rcode)
        .expect("question fits");
    answer.header_mut().set_aa(rcode == Rcode::NOERROR);
    let mut additional = answer.additional();
    if let Some(s) = signer {
        let _ = s.answer(&mut additional, Time48::now());
    }
    additional.finish()
}

fn ixfr_client_serial(msg: &Message<Vec<u8>>) -> Option<u32> {
    let authority = msg.authority().ok()?;
    for record in authority {
        let record = record.ok()?;
        if record.rtype() == Rtype::SOA {
            let soa = record
                .to_record::<Soa<ParsedName<&[u8]>>>()
                .ok()
                .flatten()?;
            return Some(soa.data().serial().into_int());
        }
    }
    None
}

fn has_tsig(msg: &Message<Vec<u8>>) -> bool {
    msg.additional()
        .ok()
        .map(|section| {
            section
                .filter_map(Result::ok)
                .any(|r| r.rtype() == Rtype::TSIG)
        })
        .unwrap_or(false)
}
