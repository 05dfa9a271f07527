//! THREATS.md, "From the network, to the query path": malformed packets over UDP and TCP get
//! FORMERR (or BADVERS/REFUSED/NOTIMP where that is the right error) or no answer at all, never
//! a crash; after each one the server still answers a good query. TCP connection limits, idle
//! timeouts, half-closed and non-reading clients stay bounded, and a table full of idle
//! connections makes room for a new client by closing the one idle the longest.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use domain::base::iana::Rtype;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tandem_tests::api::http_get_as;
use tandem_tests::dns::{self, raw, rcode, Edns, Query, Response};
use tandem_tests::incoming::metric;
use tandem_tests::malformed::{judge, malformed_packets, XorShift, FORMERR_ONLY};
use tandem_tests::tandem::TOKEN;
use tandem_tests::zones::{example_zone, ORIGIN};
use tandem_tests::{Checks, ExampleServer, Tandem};

/// Starts Tandem with `flags` and the example zone.
fn server(flags: &[&str]) -> Tandem {
    let t = Tandem::start_with(flags);
    t.load_zone(ORIGIN, &example_zone());
    t
}

/// The server still answers `www.example.test. A` correctly over UDP (and TCP if asked).
fn still_answers(c: &mut Checks, s: SocketAddr, after: &str, tcp_too: bool) {
    let q = Query::new("www.example.test.", Rtype::A);
    let ok = |r: &Response| {
        r.rcode() == rcode::NOERROR
            && r.aa()
            && r.answer().len() == 1
            && r.answer()[0].rdata == [192, 0, 2, 1]
    };
    match dns::try_udp(s, &q) {
        Ok(r) => c.check(ok(&r), || format!("after {after}: wrong UDP answer\n{r}")),
        Err(e) => c.fail(format!("after {after}: good UDP query failed: {e}")),
    }
    if tcp_too {
        let r = std::panic::catch_unwind(|| dns::tcp(s, &q));
        match r {
            Ok(r) => c.check(ok(&r), || format!("after {after}: wrong TCP answer\n{r}")),
            Err(_) => c.fail(format!("after {after}: good TCP query failed")),
        }
    }
}

/// How long a malformed packet's answer may take: past this it counts as dropped. The wait
/// overlaps the good queries sent after each packet, so it is paid once per test.
const LATE: Duration = Duration::from_millis(1500);

#[test]
fn malformed_udp_packets_get_an_error_or_nothing_and_the_server_keeps_answering() {
    let mut tandem = ExampleServer::start();
    let s = tandem.dns();
    let mut c = Checks::new();
    let mut pending = Vec::new();
    for b in malformed_packets() {
        let socket = dns::udp_send(s, &b.packet);
        // When an answer is required, wait for it before the next packet.
        let answer = if b.drop_ok {
            None
        } else {
            dns::udp_receive(&socket, s, dns::TIMEOUT)
        };
        still_answers(&mut c, s, &b.what, false);
        pending.push((b, socket, answer, Instant::now()));
    }
    for (b, socket, answer, sent) in pending {
        let answer =
            answer.or_else(|| dns::udp_receive(&socket, s, LATE.saturating_sub(sent.elapsed())));
        let id = (b.packet.len() >= 2).then(|| u16::from_be_bytes([b.packet[0], b.packet[1]]));
        if let Err(e) = judge(
            &format!("UDP {}", b.what),
            id,
            answer.as_deref(),
            b.allowed,
            b.drop_ok,
        ) {
            c.fail(e);
        }
    }
    c.check(tandem.is_running(), || "server exited".into());
    c.finish();
}

#[test]
fn responses_sent_to_the_server_are_never_answered() {
    let mut tandem = ExampleServer::start();
    let s = tandem.dns();
    let mut c = Checks::new();
    // A well-formed response (QR=1): answering it could start a packet loop between servers.
    let mut response = Query::new("www.example.test.", Rtype::A)
        .id(0x3001)
        .to_wire();
    response[2] |= 0x80 | 0x04; // QR, AA
    let mut packets = vec![("a QR=1 copy of a query".to_string(), response)];
    // Random bytes with QR set: also never answered.
    let mut rng = XorShift(0x0123_4567_89ab_cdef);
    for len in [12usize, 30, 200] {
        let mut p = rng.bytes(len);
        p[2] |= 0x80;
        packets.push((format!("{len} random bytes with QR=1"), p));
    }
    let sent: Vec<_> = packets
        .into_iter()
        .map(|(what, p)| (what, dns::udp_send(s, &p)))
        .collect();
    let start = Instant::now();
    still_answers(&mut c, s, "QR=1 packets", true);
    for (what, socket) in sent {
        let answer = dns::udp_receive(&socket, s, LATE.saturating_sub(start.elapsed()));
        c.check(answer.is_none(), || {
            format!("{what} was answered: {answer:02x?}")
        });
    }
    c.check(tandem.is_running(), || "server exited".into());
    c.finish();
}

/// Sends `payload` raw on a new TCP connection (optionally half-closing), and returns the first
/// framed message, or None on EOF, reset or timeout.
fn tcp_send_raw(s: SocketAddr, payload: &[u8], half_close: bool) -> Option<Vec<u8>> {
    let mut stream = dns::tcp_connect(s);
    if stream.write_all(payload).is_err() {
        return None;
    }
    if half_close {
        let _ = stream.shutdown(Shutdown::Write);
    }
    dns::tcp_read_frame(&mut stream).ok().flatten()
}

#[test]
fn malformed_tcp_messages_get_an_error_or_a_close_and_the_server_keeps_answering() {
    let mut tandem = ExampleServer::start();
    let s = tandem.dns();
    let mut c = Checks::new();
    for b in malformed_packets().into_iter().filter(|b| {
        [
            "5-byte header",
            "label length 64",
            "name of 335 bytes",
            "compression pointer to itself",
            "two-pointer loop",
            "two OPT records",
            "garbage #6 (100 bytes)",
        ]
        .contains(&b.what.as_str())
    }) {
        let id = (b.packet.len() >= 2).then(|| u16::from_be_bytes([b.packet[0], b.packet[1]]));
        let answer = tcp_send_raw(s, &dns::tcp_frame(&b.packet), false);
        if let Err(e) = judge(
            &format!("TCP {}", b.what),
            id,
            answer.as_deref(),
            b.allowed,
            b.drop_ok,
        ) {
            c.fail(e);
        }
        still_answers(&mut c, s, &format!("TCP {}", b.what), true);
    }
    // Framing abuse: a zero-length message, a length that promises more than is sent before
    // the client half-closes, and a lone length byte.
    for (what, payload) in [
        ("zero-length TCP message", vec![0u8, 0]),
        ("TCP length 300 with 20 bytes then EOF", {
            let mut p = vec![0x01, 0x2c];
            p.extend(raw::header(0x4001, 0, 1, 0, 0, 0));
            p.extend([0u8; 8]);
            p
        }),
        ("one byte of a TCP length then EOF", vec![0x00]),
    ] {
        let answer = tcp_send_raw(s, &payload, true);
        if let Err(e) = judge(what, None, answer.as_deref(), FORMERR_ONLY, true) {
            c.fail(e);
        }
        still_answers(&mut c, s, what, true);
    }
    c.check(tandem.is_running(), || "server exited".into());
    c.finish();
}

/// A TCP connection from `source` (a loopback address) to `server`.
fn connect_from(source: [u8; 4], server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.bind(&SockAddr::from(SocketAddr::from((source, 0))))?;
    socket.connect_timeout(&SockAddr::from(server), dns::TIMEOUT)?;
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(dns::TIMEOUT))?;
    stream.set_write_timeout(Some(dns::TIMEOUT))?;
    Ok(stream)
}

/// Sends one query on `stream` and reads one answer.
fn query_on(stream: &mut TcpStream, q: &Query) -> Result<Response, String> {
    stream
        .write_all(&dns::tcp_frame(&q.to_wire()))
        .map_err(|e| format!("write: {e}"))?;
    match dns::tcp_read_frame(stream) {
        Ok(Some(wire)) => Response::parse(wire),
        Ok(None) => Err("EOF".into()),
        Err(e) => Err(format!("read: {e}")),
    }
}

fn is_timeout(error: &str) -> bool {
    error.contains("os error 11") || error.contains("timed out") || error.contains("would block")
}

/// Waits up to `bound` for the server to close `stream`: true on EOF or reset.
fn closed_within(stream: &mut TcpStream, bound: Duration) -> bool {
    let deadline = Instant::now() + bound;
    let mut buf = [0u8; 4096];
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn tcp_connections_per_client_are_limited_without_starving_other_clients() {
    let limit = 4;
    let tandem = server(&[
        "--tcp-max-per-client",
        "4",
        "--tcp-idle-timeout-ms",
        "30000",
    ]);
    let s = tandem.dns();
    let mut c = Checks::new();
    let www = Query::new("www.example.test.", Rtype::A);
    let mut held = Vec::new();
    for i in 0..limit {
        let mut stream = dns::tcp_connect(s);
        match query_on(&mut stream, &www) {
            Ok(r) => c.check(r.rcode() == rcode::NOERROR, || {
                format!("connection {i}: {r}")
            }),
            Err(e) => c.fail(format!(
                "connection {i} of {limit} (within the limit) not answered: {e}"
            )),
        }
        held.push(stream);
    }
    // Over the limit: refused at connect, or closed without an answer.
    for i in limit..limit + 4 {
        let Ok(mut stream) = TcpStream::connect_timeout(&s, dns::TIMEOUT) else {
            continue;
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_write_timeout(Some(dns::TIMEOUT)).unwrap();
        match query_on(&mut stream, &www) {
            Ok(r) => c.fail(format!(
                "connection {i} over the per-client limit of {limit} was answered\n{r}"
            )),
            // EOF or reset: closed. A read timeout means the server neither served nor closed it.
            Err(e) if is_timeout(&e) => c.fail(format!(
                "connection {i} over the limit was neither refused nor closed within 10 s: {e}"
            )),
            Err(_) => {}
        }
    }
    // Another client (another loopback address) is still served, over TCP and UDP.
    match connect_from([127, 0, 0, 2], s) {
        Ok(mut other) => match query_on(&mut other, &www) {
            Ok(r) => c.check(r.rcode() == rcode::NOERROR && r.answer().len() == 1, || format!("other client: {r}")),
            Err(e) => c.fail(format!("a different client (127.0.0.2) got no TCP answer while 127.0.0.1 is at its limit: {e}")),
        },
        Err(e) => eprintln!("NOTE: cannot bind 127.0.0.2 ({e}); other-client TCP check skipped"),
    }
    match dns::try_udp(s, &www) {
        Ok(r) => c.check(r.rcode() == rcode::NOERROR, || {
            format!("UDP during TCP limit: {r}")
        }),
        Err(e) => c.fail(format!("UDP query while TCP is at its limit: {e}")),
    }
    // Closing the held connections frees the client's slots again.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut freed = false;
    while !freed && Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect_timeout(&s, dns::TIMEOUT) {
            stream
                .set_read_timeout(Some(Duration::from_secs(1)))
                .unwrap();
            freed = query_on(&mut stream, &www).is_ok();
        }
        if !freed {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    c.check(freed, || {
        "after closing its connections, the client was still not served over TCP within 10 s".into()
    });
    c.finish();
}

#[test]
fn idle_half_closed_and_non_reading_tcp_clients_are_bounded() {
    let tandem = server(&["--tcp-idle-timeout-ms", "500"]);
    let s = tandem.dns();
    let mut c = Checks::new();
    let www = Query::new("www.example.test.", Rtype::A);
    let bound = Duration::from_secs(10);

    // Opens and sends nothing: closed after the idle timeout.
    let mut silent = dns::tcp_connect(s);
    c.check(closed_within(&mut silent, bound), || {
        "a silent TCP client was not closed within 10 s (idle timeout 500 ms)".into()
    });

    // Idle after one answered query: closed too.
    let mut idle = dns::tcp_connect(s);
    match query_on(&mut idle, &www) {
        Ok(_) => c.check(closed_within(&mut idle, bound), || {
            "an idle TCP connection after a query was not closed within 10 s".into()
        }),
        Err(e) => c.fail(format!("query before idling: {e}")),
    }

    // Half-closed after the query: the answer still comes, then EOF.
    let mut half = dns::tcp_connect(s);
    half.write_all(&dns::tcp_frame(&www.to_wire())).unwrap();
    half.shutdown(Shutdown::Write).unwrap();
    match dns::tcp_read_frame(&mut half) {
        Ok(Some(wire)) => match Response::parse(wire) {
            Ok(r) => c.check(r.id() == www.id && r.answer().len() == 1, || {
                format!("half-closed: wrong answer\n{r}")
            }),
            Err(e) => c.fail(format!("half-closed: bad answer: {e}")),
        },
        Ok(None) => c.fail("half-closed connection closed without an answer".into()),
        Err(e) => c.fail(format!("half-closed connection got no answer: {e}")),
    }
    c.check(closed_within(&mut half, bound), || {
        "half-closed connection not closed after its answer".into()
    });

    // Never reads: many big answers pile up; other clients are still served, and the
    // stuck connection is closed in bounded time.
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket
        .connect_timeout(&SockAddr::from(s), dns::TIMEOUT)
        .unwrap();
    let mut stuck: TcpStream = socket.into();
    stuck
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let big = Query::new("big.example.test.", Rtype::TXT).edns(Edns::new(1232));
    let mut batch = Vec::new();
    for i in 0..2000u16 {
        batch.extend(dns::tcp_frame(&big.clone().id(i).to_wire()));
    }
    let _ = stuck.write_all(&batch); // may block once the server stops reading: fine
    std::thread::sleep(Duration::from_millis(300));
    still_answers(&mut c, s, "a TCP client that never reads", true);
    c.check(closed_within(&mut stuck, Duration::from_secs(20)), || {
        "a TCP client that never read was not disconnected within 20 s".into()
    });
    still_answers(&mut c, s, "closing the non-reading client", true);
    c.finish();
}

/// THREATS.md "Many records or types at one name → bounded work per query" (CVE-2024-1737):
/// an RRset of 3000 records, one of 5000 (too big for any message), and 300 types at one
/// name. Each query gets one bounded answer: over UDP a truncated one, over TCP the whole
/// RRset when it fits and otherwise TC with no partial RRset (RFC 2181 §9); one type of the
/// 300 is exactly that record; ANY is one RRset (RFC 8482 §4.1). Bursts of such queries leave
/// the server answering everything else.
#[test]
fn many_records_or_types_at_one_name_get_bounded_answers() {
    let t = server(&[]);
    let mut zone = String::from("$TTL 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.1\n");
    for i in 0..3000u32 {
        zone.push_str(&format!("fits A 10.1.{}.{}\n", i / 256, i % 256));
    }
    for i in 0..5000u32 {
        zone.push_str(&format!("huge A 10.2.{}.{}\n", i / 256, i % 256));
    }
    for k in 0..300u32 {
        zone.push_str(&format!("types TYPE{} \\# 2 {k:04x}\n", 65000 + k));
    }
    t.load_zone("many.test", &zone);
    let s = t.dns();
    let mut c = Checks::new();

    let fits = Query::new("fits.many.test.", Rtype::A);
    let r = dns::udp(s, &fits);
    c.check(r.tc() && r.aa() && r.answer().is_empty(), || {
        format!("3000 A over UDP: TC with an empty answer\n{r}")
    });
    let r = dns::tcp(s, &fits);
    c.check(
        !r.tc() && r.rcode() == rcode::NOERROR && r.answer().len() == 3000,
        || {
            format!(
                "3000 A over TCP: the whole RRset ({} records)",
                r.answer().len()
            )
        },
    );

    let huge = Query::new("huge.many.test.", Rtype::A);
    for (transport, r) in [("UDP", dns::udp(s, &huge)), ("TCP", dns::tcp(s, &huge))] {
        c.check(
            r.tc() && r.rcode() == rcode::NOERROR && r.answer().is_empty(),
            || format!("5000 A over {transport}: TC and no partial RRset\n{r}"),
        );
    }

    let one = Query::new("types.many.test.", dns::rtype("TYPE65150"));
    let r = dns::udp(s, &one);
    c.check(
        r.rcode() == rcode::NOERROR && r.answer().len() == 1 && r.answer()[0].rdata == [0, 150],
        || format!("one of 300 types: exactly its record\n{r}"),
    );
    let any = Query::new("types.many.test.", Rtype::ANY);
    let r = dns::udp(s, &any);
    c.check(
        r.rcode() == rcode::NOERROR && !r.tc() && r.answer().len() == 1,
        || format!("ANY at 300 types: one RRset (RFC 8482)\n{r}"),
    );

    // A burst of the expensive questions, on both transports, then the ordinary one.
    for i in 0..200 {
        let q = match i % 3 {
            0 => &huge,
            1 => &fits,
            _ => &any,
        };
        if dns::try_udp(s, q).is_err() {
            c.fail(format!("query {i} of the burst got no answer"));
            break;
        }
    }
    for _ in 0..20 {
        let r = dns::tcp(s, &fits);
        if r.answer().len() != 3000 {
            c.fail(format!(
                "a TCP answer of the burst lost records: {}",
                r.answer().len()
            ));
            break;
        }
    }
    still_answers(&mut c, s, "bursts of large answers", true);
    c.finish();
}

/// An answer or why there is none, for a failure message.
fn shown(r: &Result<Response, String>) -> String {
    match r {
        Ok(r) => r.to_string(),
        Err(e) => e.clone(),
    }
}

#[test]
fn a_full_tcp_table_closes_the_longest_idle_connection_for_a_new_client() {
    // Four slots, one per address, and an idle timeout far beyond the test: only eviction
    // can free a slot.
    let tandem = server(&[
        "--tcp-max-connections",
        "4",
        "--tcp-max-per-client",
        "1",
        "--tcp-idle-timeout-ms",
        "120000",
    ]);
    let s = tandem.dns();
    let mut c = Checks::new();
    let www = Query::new("www.example.test.", Rtype::A);
    let answered = |r: &Result<Response, String>| matches!(r, Ok(r) if r.rcode() == rcode::NOERROR && r.answer().len() == 1);
    // Loopback sources 127.0.0.2 to .5, each answered once, in that order, so each is idle
    // longer than the next.
    let mut held = Vec::new();
    for host in 2..=5u8 {
        let mut stream = match connect_from([127, 0, 0, host], s) {
            Ok(stream) => stream,
            Err(e) => {
                eprintln!("NOTE: cannot bind 127.0.0.{host} ({e}); eviction test skipped");
                return;
            }
        };
        let r = query_on(&mut stream, &www);
        c.check(answered(&r), || format!("127.0.0.{host}: {}", shown(&r)));
        held.push((host, stream));
        std::thread::sleep(Duration::from_millis(300));
    }
    // 127.0.0.2 asks again: now 127.0.0.3 is the one idle the longest.
    let r = query_on(&mut held[0].1, &www);
    c.check(answered(&r), || {
        format!("127.0.0.2, second query: {}", shown(&r))
    });
    std::thread::sleep(Duration::from_millis(300));

    // A second connection from 127.0.0.4 is over its address's limit: refused, and it makes
    // nobody go.
    if let Ok(mut over) = connect_from([127, 0, 0, 4], s) {
        over.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        match query_on(&mut over, &www) {
            Ok(r) => c.fail(format!(
                "a connection over the per-client limit was answered\n{r}"
            )),
            Err(e) if is_timeout(&e) => c.fail(format!(
                "a connection over the per-client limit was neither refused nor closed: {e}"
            )),
            Err(_) => {}
        }
    }

    // A new client while the table is full of idle connections: served.
    match connect_from([127, 0, 0, 6], s) {
        Ok(mut new) => {
            let r = query_on(&mut new, &www);
            c.check(answered(&r), || {
                format!(
                    "a new client was not served while the table was full of idle connections: {}",
                    shown(&r)
                )
            });
            held.push((6, new));
        }
        Err(e) => c.fail(format!("connect from 127.0.0.6: {e}")),
    }
    // 127.0.0.3, idle the longest, was closed for it.
    let (_, longest_idle) = &mut held[1];
    c.check(closed_within(longest_idle, Duration::from_secs(10)), || {
        "the connection idle the longest (127.0.0.3) was not closed".into()
    });
    // Every other connection is still open and answered, the recently active one included.
    for (host, stream) in held.iter_mut().filter(|(host, _)| *host != 3) {
        stream.set_read_timeout(Some(dns::TIMEOUT)).unwrap();
        let r = query_on(stream, &www);
        c.check(answered(&r), || {
            format!(
                "127.0.0.{host} lost its connection or its answer: {}",
                shown(&r)
            )
        });
    }
    let metrics = http_get_as(tandem.api_addr(), "/metrics", Some(TOKEN)).text();
    c.check(
        metric(&metrics, "tandem_tcp_connections_evicted_total", &[]) == Some(1.0),
        || format!("one eviction expected in /metrics:\n{metrics}"),
    );
    c.finish();
}
