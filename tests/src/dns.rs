//! The tests' own DNS client: queries are built with `domain`'s `MessageBuilder` and answers
//! parsed with `domain`'s `Message`, over plain std sockets (UDP with a timeout, TCP with the
//! two-byte length framing of RFC 1035 §4.2.2), so nothing here shares code with the server's
//! answering path.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::str::FromStr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use domain::base::iana::{Class, Opcode, Rcode, Rtype};
use domain::base::name::ParsedName;
use domain::base::rdata::ComposeRecordData;
use domain::base::{Message, MessageBuilder, Name, ToName};
use domain::rdata::AllRecordData;

/// How long a client waits for an answer that is expected to come.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Parses a record type in presentation form (`A`, `TYPE65534`, ...).
pub fn rtype(text: &str) -> Rtype {
    Rtype::from_str(text).unwrap_or_else(|_| panic!("bad record type {text}"))
}

/// EDNS(0) parameters of a query (RFC 6891 §6.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edns {
    pub bufsize: u16,
    pub dnssec_ok: bool,
    pub version: u8,
}

impl Edns {
    /// EDNS version 0 with the given payload size and DO clear.
    pub fn new(bufsize: u16) -> Self {
        Edns {
            bufsize,
            dnssec_ok: false,
            version: 0,
        }
    }

    /// The same with the DO bit set (RFC 3225).
    pub fn with_do(mut self) -> Self {
        self.dnssec_ok = true;
        self
    }
}

static NEXT_ID: AtomicU16 = AtomicU16::new(0x1234);

/// One question to send.
#[derive(Clone, Debug)]
pub struct Query {
    pub id: u16,
    pub qname: String,
    pub qtype: Rtype,
    pub edns: Option<Edns>,
    pub opcode: Opcode,
}

impl Query {
    /// A standard query (opcode QUERY, RD clear, no EDNS) with a fresh id.
    pub fn new(qname: &str, qtype: Rtype) -> Self {
        Query {
            id: NEXT_ID.fetch_add(7919, Ordering::Relaxed),
            qname: qname.to_string(),
            qtype,
            edns: None,
            opcode: Opcode::QUERY,
        }
    }

    pub fn edns(mut self, edns: Edns) -> Self {
        self.edns = Some(edns);
        self
    }

    /// EDNS with a 1232-byte payload and DO set.
    pub fn dnssec(self) -> Self {
        self.edns(Edns::new(1232).with_do())
    }

    pub fn opcode(mut self, opcode: Opcode) -> Self {
        self.opcode = opcode;
        self
    }

    pub fn id(mut self, id: u16) -> Self {
        self.id = id;
        self
    }

    /// The query in wire format.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut builder = MessageBuilder::new_vec();
        let header = builder.header_mut();
        header.set_id(self.id);
        header.set_opcode(self.opcode);
        header.set_rd(false);
        let mut question = builder.question();
        let qname = Name::<Vec<u8>>::from_str(&self.qname)
            .unwrap_or_else(|e| panic!("bad query name {}: {e}", self.qname));
        question
            .push((qname, self.qtype, Class::IN))
            .expect("question fits");
        let mut additional = question.additional();
        if let Some(edns) = self.edns {
            additional
                .opt(|opt| {
                    opt.set_udp_payload_size(edns.bufsize);
                    opt.set_dnssec_ok(edns.dnssec_ok);
                    opt.set_version(edns.version);
                    Ok(())
                })
                .expect("OPT fits");
        }
        additional.finish()
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.qname, self.qtype)?;
        if self.opcode != Opcode::QUERY {
            write!(f, " opcode={}", self.opcode)?;
        }
        match self.edns {
            None => write!(f, " (no EDNS)"),
            Some(e) => write!(
                f,
                " (EDNS v{} bufsize {}{})",
                e.version,
                e.bufsize,
                if e.dnssec_ok { " DO" } else { "" }
            ),
        }
    }
}

/// One resource record of an answer, in a form that compares across servers: owner lowercased
/// and fully qualified, RDATA in uncompressed wire form.
#[derive(Clone, Debug)]
pub struct Rr {
    pub owner: String,
    pub rtype: Rtype,
    pub class: Class,
    pub ttl: u32,
    pub rdata: Vec<u8>,
    /// The record in presentation form, for messages.
    pub text: String,
}

/// The comparable identity of a record: (owner, type, class, ttl, rdata).
pub type RrKey = (String, u16, u16, u32, Vec<u8>);

impl Rr {
    /// Builds the comparable form of any `domain` record.
    pub fn from_record<N, D>(owner: &N, class: Class, ttl: u32, data: &D) -> Rr
    where
        N: ToName + fmt::Display,
        D: ComposeRecordData + fmt::Display,
    {
        let mut rdata = Vec::new();
        data.compose_rdata(&mut rdata)
            .expect("composing RDATA into a Vec cannot fail");
        let owner_text = format!("{owner}.").replace("..", ".");
        Rr {
            owner: lower_fqdn(&owner.to_name::<Vec<u8>>().to_string()),
            rtype: data.rtype(),
            class,
            ttl,
            text: format!("{owner_text} {ttl} {class} {} {data}", data.rtype()),
            rdata,
        }
    }

    pub fn key(&self) -> RrKey {
        (
            self.owner.clone(),
            self.rtype.to_int(),
            self.class.to_int(),
            self.ttl,
            self.rdata.clone(),
        )
    }
}

impl fmt::Display for Rr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What the OPT record of a response says (RFC 6891 §6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptInfo {
    pub bufsize: u16,
    pub version: u8,
    pub dnssec_ok: bool,
    /// The upper eight bits of the extended RCODE.
    pub ext_rcode_high: u8,
}

/// A parsed response; every section parsed fully when it was made.
pub struct Response {
    pub wire: Vec<u8>,
    msg: Message<Vec<u8>>,
    answer: Vec<Rr>,
    authority: Vec<Rr>,
    additional: Vec<Rr>,
    opts: Vec<OptInfo>,
}

/// Full (extended) RCODE values used by the tests.
pub mod rcode {
    pub const NOERROR: u16 = 0;
    pub const FORMERR: u16 = 1;
    pub const SERVFAIL: u16 = 2;
    pub const NXDOMAIN: u16 = 3;
    pub const NOTIMP: u16 = 4;
    pub const REFUSED: u16 = 5;
    pub const NOTAUTH: u16 = 9;
    pub const BADVERS: u16 = 16;

    /// A readable name of an extended RCODE.
    pub fn name(code: u16) -> String {
        match code {
            NOERROR => "NOERROR".into(),
            FORMERR => "FORMERR".into(),
            SERVFAIL => "SERVFAIL".into(),
            NXDOMAIN => "NXDOMAIN".into(),
            NOTIMP => "NOTIMP".into(),
            REFUSED => "REFUSED".into(),
            NOTAUTH => "NOTAUTH".into(),
            BADVERS => "BADVERS".into(),
            other => format!("RCODE{other}"),
        }
    }
}

impl Response {
    /// Parses a response; an error names what could not be parsed.
    pub fn parse(wire: Vec<u8>) -> Result<Response, String> {
        let msg = Message::from_octets(wire.clone()).map_err(|e| format!("short message: {e}"))?;
        let mut question = msg.question();
        for q in &mut question {
            q.map_err(|e| format!("question: {e}"))?;
        }
        let mut answer = Vec::new();
        let mut authority = Vec::new();
        let mut additional = Vec::new();
        let mut opts = Vec::new();
        let mut section = question.answer().map_err(|e| format!("answer: {e}"))?;
        collect(&mut section, &mut answer, &mut opts)?;
        let mut section = section
            .next_section()
            .map_err(|e| format!("authority: {e}"))?
            .ok_or("no authority section")?;
        collect(&mut section, &mut authority, &mut opts)?;
        let mut section = section
            .next_section()
            .map_err(|e| format!("additional: {e}"))?
            .ok_or("no additional section")?;
        collect(&mut section, &mut additional, &mut opts)?;
        Ok(Response {
            wire,
            msg,
            answer,
            authority,
            additional,
            opts,
        })
    }

    pub fn id(&self) -> u16 {
        self.msg.header().id()
    }

    /// The message as received.
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }
    pub fn qr(&self) -> bool {
        self.msg.header().qr()
    }
    pub fn aa(&self) -> bool {
        self.msg.header().aa()
    }
    pub fn tc(&self) -> bool {
        self.msg.header().tc()
    }
    pub fn opcode(&self) -> Opcode {
        self.msg.header().opcode()
    }
    pub fn header_rcode(&self) -> Rcode {
        self.msg.header().rcode()
    }

    /// The full RCODE: the header's four bits plus the OPT's upper eight (RFC 6891 §6.1.3).
    pub fn rcode(&self) -> u16 {
        let low = u16::from(self.header_rcode().to_int());
        let high = self.opts.first().map_or(0, |o| u16::from(o.ext_rcode_high));
        (high << 4) | low
    }

    pub fn rcode_name(&self) -> String {
        rcode::name(self.rcode())
    }

    /// The question section as (lowercased owner, type).
    pub fn question(&self) -> Vec<(String, Rtype)> {
        self.question_as_sent()
            .into_iter()
            .map(|(name, t)| (lower_fqdn(&name), t))
            .collect()
    }

    /// The question section with the owner's case as the server wrote it.
    pub fn question_as_sent(&self) -> Vec<(String, Rtype)> {
        self.msg
            .question()
            .filter_map(Result::ok)
            .map(|q| (format!("{}.", q.qname()), q.qtype()))
            .collect()
    }

    pub fn answer(&self) -> &[Rr] {
        &self.answer
    }
    pub fn authority(&self) -> &[Rr] {
        &self.authority
    }
    /// The additional section without OPT records.
    pub fn additional(&self) -> &[Rr] {
        &self.additional
    }

    /// The first OPT record, if any.
    pub fn opt(&self) -> Option<OptInfo> {
        self.opts.first().copied()
    }

    /// How many OPT records the additional section holds.
    pub fn opt_count(&self) -> usize {
        self.opts.len()
    }

    /// The records of `section` with type `t`.
    pub fn of_type(section: &[Rr], t: Rtype) -> Vec<&Rr> {
        section.iter().filter(|r| r.rtype == t).collect()
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.msg.header();
        write!(
            f,
            ";; id {} opcode {} rcode {}; flags:{}{}{}{}{}",
            h.id(),
            h.opcode(),
            self.rcode_name(),
            if h.qr() { " qr" } else { "" },
            if h.aa() { " aa" } else { "" },
            if h.tc() { " tc" } else { "" },
            if h.rd() { " rd" } else { "" },
            if h.ra() { " ra" } else { "" },
        )?;
        for o in &self.opts {
            write!(
                f,
                "\n;; OPT version {} bufsize {}{}",
                o.version,
                o.bufsize,
                if o.dnssec_ok { " do" } else { "" }
            )?;
        }
        for (name, t) in self.question_as_sent() {
            write!(f, "\n;; QUESTION {name} {t}")?;
        }
        for (title, rrs) in [
            ("ANSWER", &self.answer),
            ("AUTHORITY", &self.authority),
            ("ADDITIONAL", &self.additional),
        ] {
            if !rrs.is_empty() {
                write!(f, "\n;; {title}")?;
                for rr in rrs {
                    write!(f, "\n{rr}")?;
                }
            }
        }
        Ok(())
    }
}

fn lower_fqdn(name: &str) -> String {
    let mut s = name.to_ascii_lowercase();
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

type Section<'a> = domain::base::message::RecordSection<'a, Vec<u8>>;

fn collect(
    section: &mut Section<'_>,
    out: &mut Vec<Rr>,
    opts: &mut Vec<OptInfo>,
) -> Result<(), String> {
    for record in section {
        let record = record.map_err(|e| format!("record: {e}"))?;
        if record.rtype() == Rtype::OPT {
            let class = record.class().to_int();
            let ttl = record.ttl().as_secs();
            opts.push(OptInfo {
                bufsize: class,
                ext_rcode_high: (ttl >> 24) as u8,
                version: (ttl >> 16) as u8,
                dnssec_ok: ttl & 0x8000 != 0,
            });
            continue;
        }
        let parsed = record
            .to_record::<AllRecordData<&[u8], ParsedName<&[u8]>>>()
            .map_err(|e| format!("rdata of {} {}: {e}", record.owner(), record.rtype()))?
            .ok_or("record type not handled")?;
        out.push(Rr::from_record(
            parsed.owner(),
            parsed.class(),
            parsed.ttl().as_secs(),
            parsed.data(),
        ));
    }
    Ok(())
}

/// Sends one UDP datagram from a fresh socket, whose answer `udp_receive` collects later.
pub fn udp_send(server: SocketAddr, packet: &[u8]) -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind UDP client socket");
    socket.send_to(packet, server).expect("send UDP");
    socket
}

/// Waits up to `timeout` for a datagram from `server` on `socket`; `None` when none came.
pub fn udp_receive(socket: &UdpSocket, server: SocketAddr, timeout: Duration) -> Option<Vec<u8>> {
    socket
        .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
        .unwrap();
    let mut buf = vec![0u8; 65535];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) if from == server => return Some(buf[..n].to_vec()),
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return None
            }
            Err(e) => panic!("UDP receive from {server}: {e}"),
        }
    }
}

/// Sends one UDP datagram and waits up to `timeout` for the answer; `None` when none came.
pub fn udp_raw(server: SocketAddr, packet: &[u8], timeout: Duration) -> Option<Vec<u8>> {
    udp_receive(&udp_send(server, packet), server, timeout)
}

/// A query over UDP; an error says what went wrong (no answer, unparsable, wrong id).
pub fn try_udp(server: SocketAddr, query: &Query) -> Result<Response, String> {
    let wire = udp_raw(server, &query.to_wire(), TIMEOUT)
        .ok_or_else(|| format!("no UDP answer within {TIMEOUT:?}"))?;
    let resp = Response::parse(wire).map_err(|e| format!("unparsable answer: {e}"))?;
    if resp.id() != query.id || !resp.qr() {
        return Err(format!(
            "answer with id {} qr {}: {resp}",
            resp.id(),
            resp.qr()
        ));
    }
    Ok(resp)
}

/// A query over UDP; panics when no answer comes or it does not parse.
pub fn udp(server: SocketAddr, query: &Query) -> Response {
    try_udp(server, query).unwrap_or_else(|e| panic!("UDP {query} to {server}: {e}"))
}

/// Opens a TCP connection with read and write timeouts.
pub fn tcp_connect(server: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&server, TIMEOUT)
        .unwrap_or_else(|e| panic!("TCP connect to {server}: {e}"));
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// Frames a message with its two-byte length (RFC 1035 §4.2.2).
pub fn tcp_frame(message: &[u8]) -> Vec<u8> {
    let len = u16::try_from(message.len()).expect("message fits a TCP frame");
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(message);
    out
}

/// Reads one length-framed message; `Ok(None)` on a clean EOF before the length.
pub fn tcp_read_frame(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 2];
    match stream.read(&mut len[..1])? {
        0 => return Ok(None),
        _ => stream.read_exact(&mut len[1..])?,
    }
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf)?;
    Ok(Some(buf))
}

/// A query over a new TCP connection; panics when no answer comes or it does not parse.
pub fn tcp(server: SocketAddr, query: &Query) -> Response {
    let mut stream = tcp_connect(server);
    stream
        .write_all(&tcp_frame(&query.to_wire()))
        .unwrap_or_else(|e| panic!("TCP write of {query}: {e}"));
    let wire = tcp_read_frame(&mut stream)
        .unwrap_or_else(|e| panic!("TCP read of answer to {query}: {e}"))
        .unwrap_or_else(|| panic!("TCP connection closed without answer to {query}"));
    let _ = stream.shutdown(Shutdown::Both);
    let resp = Response::parse(wire).unwrap_or_else(|e| panic!("bad TCP answer to {query}: {e}"));
    assert_eq!(resp.id(), query.id, "TCP answer id for {query}");
    resp
}

/// Which transport a query goes over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn exchange(self, server: SocketAddr, query: &Query) -> Response {
        match self {
            Transport::Udp => udp(server, query),
            Transport::Tcp => tcp(server, query),
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        })
    }
}

/// Hand-built wire pieces, for packets `MessageBuilder` would refuse to make.
pub mod raw {
    /// A 12-byte header: id, the flags word (QR, opcode, AA, TC, RD, RA, Z, RCODE) and counts.
    pub fn header(id: u16, flags: u16, qd: u16, an: u16, ns: u16, ar: u16) -> Vec<u8> {
        [id, flags, qd, an, ns, ar]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect()
    }

    /// The flags word of a standard query with the given opcode.
    pub fn query_flags(opcode: u8) -> u16 {
        u16::from(opcode & 0x0f) << 11
    }

    /// An uncompressed name from dotted text (no escapes).
    pub fn name(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for label in text
            .trim_end_matches('.')
            .split('.')
            .filter(|l| !l.is_empty())
        {
            out.push(u8::try_from(label.len()).expect("label length fits a byte"));
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
        out
    }

    /// A question entry: name, type, class IN.
    pub fn question(name_wire: &[u8], qtype: u16) -> Vec<u8> {
        let mut out = name_wire.to_vec();
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out
    }

    /// An OPT pseudo-record (RFC 6891 §6.1.2) with no options.
    pub fn opt(bufsize: u16, version: u8, dnssec_ok: bool) -> Vec<u8> {
        let mut out = vec![0u8];
        out.extend_from_slice(&41u16.to_be_bytes());
        out.extend_from_slice(&bufsize.to_be_bytes());
        out.extend_from_slice(&[0, version, if dnssec_ok { 0x80 } else { 0 }, 0]);
        out.extend_from_slice(&0u16.to_be_bytes());
        out
    }

    /// A whole query: header with QDCOUNT 1, one question, and `opts` OPT records.
    pub fn query(id: u16, qname: &str, qtype: u16, opts: &[Vec<u8>]) -> Vec<u8> {
        let ar = u16::try_from(opts.len()).expect("few OPTs");
        let mut out = header(id, query_flags(0), 1, 0, 0, ar);
        out.extend(question(&name(qname), qtype));
        for o in opts {
            out.extend_from_slice(o);
        }
        out
    }
}
