//! THREATS.md, "From the network, to the API": the HTTP listener stays bounded. Idle
//! connections, request heads and bodies trickled byte by byte are cut after their timeouts;
//! connections are capped per client address and in all; a declared body above the limit is
//! refused at once; and an API flooded with idle connections up to its cap leaves DNS over TCP
//! and UDP answering, even under a small open-file limit.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use domain::base::iana::Rtype;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tandem_tests::dns::{self, rcode, Query};
use tandem_tests::tandem::TOKEN;
use tandem_tests::zones::{example_zone, ORIGIN};
use tandem_tests::{Checks, Tandem};

/// Longest wait for something that should happen after a timeout of a second or two: the
/// machines running the tests are slow and shared.
const SLACK: Duration = Duration::from_secs(20);

/// A TCP connection from `source` (a loopback address) to `server`.
fn connect_from(source: [u8; 4], server: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
    socket
        .bind(&SockAddr::from(SocketAddr::from((source, 0))))
        .unwrap();
    socket
        .connect_timeout(&SockAddr::from(server), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect from {source:?} to {server}: {e}"));
    let stream: TcpStream = socket.into();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

/// Reads what the server sends until it closes the connection; `Some(elapsed since start)` if
/// it did so before `start + max`, `None` if the connection is still open then.
fn wait_closed(s: &mut TcpStream, start: Instant, max: Duration) -> Option<Duration> {
    let mut buf = [0u8; 4096];
    loop {
        let left = (start + max).checked_duration_since(Instant::now())?;
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
}

/// Sends a keep-alive `GET /healthz` and reads its whole answer; the status code.
fn healthz_keep_alive(s: &mut TcpStream) -> Result<u16, String> {
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    read_answer(s)
}

/// Reads one HTTP answer with a Content-Length body; its status code.
fn read_answer(s: &mut TcpStream) -> Result<u16, String> {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|c| c.parse().ok())
                    .ok_or_else(|| format!("bad status line: {head}"));
            }
        }
        match s.read(&mut buf) {
            Ok(0) => return Err(format!("closed after {} bytes", got.len())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

/// A fresh connection from `source` gets 200 for `GET /healthz`.
fn served_from(source: [u8; 4], api: SocketAddr) -> Result<u16, String> {
    let mut s = connect_from(source, api);
    healthz_keep_alive(&mut s)
}

/// Retries `served_from` for a few seconds: a closed connection is uncounted by the server a
/// moment after the client closes it.
fn served_soon(source: [u8; 4], api: SocketAddr) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if served_from(source, api) == Ok(200) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn idle_connections_are_closed_after_the_idle_timeout() {
    let t = Tandem::start_with(&[
        "--api-idle-timeout-ms",
        "1000",
        "--api-header-timeout-ms",
        "60000",
    ]);
    let mut c = Checks::new();

    let start = Instant::now();
    let mut fresh = connect_from([127, 0, 0, 1], t.api_addr());
    match wait_closed(&mut fresh, start, SLACK) {
        Some(after) => c.check(after >= Duration::from_millis(900), || {
            format!("a new silent connection was closed after {after:?}, before the idle timeout")
        }),
        None => c.fail(format!(
            "a new silent connection is still open after {SLACK:?}"
        )),
    }

    let mut kept = connect_from([127, 0, 0, 1], t.api_addr());
    match healthz_keep_alive(&mut kept) {
        Ok(200) => {}
        other => c.fail(format!(
            "GET /healthz on a keep-alive connection: {other:?}"
        )),
    }
    let start = Instant::now();
    match wait_closed(&mut kept, start, SLACK) {
        Some(after) => c.check(after >= Duration::from_millis(900), || {
            format!("a keep-alive connection was closed {after:?} after its answer")
        }),
        None => c.fail(format!(
            "a keep-alive connection is still open {SLACK:?} after its answer"
        )),
    }
    c.finish();
}

/// Sends `head` and then `drip` every 200 ms until the server closes the connection; the
/// time from the first byte to the close, or `None` if it is still open after [`SLACK`].
fn trickle(api: SocketAddr, head: &[u8], drip: &[u8]) -> Option<Duration> {
    let mut s = connect_from([127, 0, 0, 1], api);
    let start = Instant::now();
    s.write_all(head).unwrap();
    while start.elapsed() < SLACK {
        if s.write_all(drip).is_err() {
            return Some(start.elapsed());
        }
        if let Some(after) = wait_closed(&mut s, Instant::now(), Duration::from_millis(200)) {
            let _ = after;
            return Some(start.elapsed());
        }
    }
    None
}

#[test]
fn request_heads_trickled_are_cut_after_the_header_timeout() {
    let t = Tandem::start_with(&[
        "--api-header-timeout-ms",
        "1500",
        "--api-idle-timeout-ms",
        "60000",
    ]);
    let after = trickle(
        t.api_addr(),
        b"GET /healthz HTTP/1.1\r\nHost: t\r\n",
        b"X-Slow: 1\r\n",
    );
    let after = after.unwrap_or_else(|| panic!("a trickled head still open after {SLACK:?}"));
    assert!(
        after >= Duration::from_millis(1300),
        "cut after {after:?}, before the header timeout"
    );
}

#[test]
fn request_bodies_trickled_are_cut_after_the_body_timeout() {
    let t = Tandem::start_with(&[
        "--api-body-timeout-ms",
        "1500",
        "--api-header-timeout-ms",
        "60000",
        "--api-idle-timeout-ms",
        "60000",
    ]);
    let head = format!(
        "POST /client/v4/zones HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
    );
    let after = trickle(t.api_addr(), head.as_bytes(), b" ");
    let after = after.unwrap_or_else(|| panic!("a trickled body still open after {SLACK:?}"));
    assert!(
        after >= Duration::from_millis(1300),
        "cut after {after:?}, before the body timeout"
    );
    let zones = t.api().request("GET", "/zones", None, b"");
    assert!(
        zones.text().contains("\"result\":[]"),
        "no zone was created: {}",
        zones.text()
    );
}

#[test]
fn one_client_address_gets_at_most_max_per_client_connections() {
    let t = Tandem::start_with(&[
        "--api-max-per-client",
        "3",
        "--api-idle-timeout-ms",
        "60000",
    ]);
    let api = t.api_addr();
    let mut c = Checks::new();
    let mut held: Vec<TcpStream> = (0..3).map(|_| connect_from([127, 0, 0, 1], api)).collect();
    for (i, s) in held.iter_mut().enumerate() {
        let r = healthz_keep_alive(s);
        c.check(r == Ok(200), || {
            format!("connection {i} within the cap: {r:?}")
        });
    }
    let r = served_from([127, 0, 0, 1], api);
    c.check(r.is_err(), || {
        format!("a 4th connection from 127.0.0.1 was served: {r:?}")
    });
    let r = served_from([127, 0, 0, 2], api);
    c.check(r == Ok(200), || {
        format!("127.0.0.2 was not served while 127.0.0.1 is at its cap: {r:?}")
    });
    held.pop();
    c.check(served_soon([127, 0, 0, 1], api), || {
        "127.0.0.1 is not served again after closing one connection".to_string()
    });
    c.finish();
}

#[test]
fn the_api_gets_at_most_max_connections_in_all() {
    let t = Tandem::start_with(&[
        "--api-max-connections",
        "4",
        "--api-max-per-client",
        "100",
        "--api-idle-timeout-ms",
        "60000",
    ]);
    let api = t.api_addr();
    let mut c = Checks::new();
    let mut held = Vec::new();
    for source in [
        [127, 0, 0, 1],
        [127, 0, 0, 1],
        [127, 0, 0, 2],
        [127, 0, 0, 2],
    ] {
        let mut s = connect_from(source, api);
        let r = healthz_keep_alive(&mut s);
        c.check(r == Ok(200), || format!("{source:?} within the cap: {r:?}"));
        held.push(s);
    }
    let r = served_from([127, 0, 0, 3], api);
    c.check(r.is_err(), || {
        format!("a 5th connection (from 127.0.0.3) was served: {r:?}")
    });
    held.pop();
    c.check(served_soon([127, 0, 0, 3], api), || {
        "127.0.0.3 is not served after one connection closed".to_string()
    });
    c.finish();
}

#[test]
fn a_declared_body_above_the_limit_is_413_at_once() {
    let t = Tandem::start();
    let zone = t.api().create_zone("a.test");
    let mut c = Checks::new();
    for (path, ctype) in [
        (
            format!("/client/v4/zones/{zone}/dns_records/import"),
            "multipart/form-data; boundary=x",
        ),
        ("/client/v4/zones".to_string(), "application/json"),
    ] {
        let mut s = connect_from([127, 0, 0, 1], t.api_addr());
        let start = Instant::now();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: {ctype}\r\nContent-Length: 1073741824\r\n\r\n"
        );
        s.write_all(head.as_bytes()).unwrap();
        let r = read_answer(&mut s);
        c.check(r == Ok(413), || {
            format!("POST {path} with 1 GiB declared: {r:?}")
        });
        c.check(start.elapsed() < Duration::from_secs(10), || {
            format!("413 took {:?}", start.elapsed())
        });
    }
    c.finish();
}

/// The server answers `www.example.test. A` over UDP and over TCP.
fn dns_answers(c: &mut Checks, s: SocketAddr, when: &str) {
    let q = Query::new("www.example.test.", Rtype::A);
    match dns::try_udp(s, &q) {
        Ok(r) => c.check(r.rcode() == rcode::NOERROR && r.answer().len() == 1, || {
            format!("{when}: wrong UDP answer\n{r}")
        }),
        Err(e) => c.fail(format!("{when}: UDP query failed: {e}")),
    }
    for i in 0..5 {
        match std::panic::catch_unwind(|| dns::tcp(s, &q)) {
            Ok(r) => c.check(r.rcode() == rcode::NOERROR && r.answer().len() == 1, || {
                format!("{when}: wrong TCP answer {i}\n{r}")
            }),
            Err(_) => c.fail(format!("{when}: TCP query {i} failed")),
        }
    }
}

#[test]
fn dns_keeps_answering_while_the_api_is_flooded_under_a_small_file_limit() {
    // 400 files: the API's cap is lowered to 400 - 32 (DNS TCP) - 256 (reserve) = 112.
    let mut t = Tandem::start_limited(
        Some(400),
        &[
            "--tcp-max-connections",
            "32",
            "--api-max-per-client",
            "1000",
            "--api-idle-timeout-ms",
            "120000",
            "--api-header-timeout-ms",
            "120000",
        ],
    );
    t.load_zone(ORIGIN, &example_zone());
    let mut c = Checks::new();
    dns_answers(&mut c, t.dns(), "before the flood");
    c.check(
        t.log_tail(20_000)
            .contains("API connection cap does not fit"),
        || format!("no line about the lowered API cap:\n{}", t.log_tail(4000)),
    );

    // More idle connections than the server has files.
    let mut flood = Vec::new();
    for _ in 0..600 {
        if let Ok(s) = TcpStream::connect_timeout(&t.api_addr(), Duration::from_secs(2)) {
            flood.push(s);
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    dns_answers(&mut c, t.dns(), "with the API flooded");
    c.check(t.is_running(), || "tandem died under the flood".to_string());

    drop(flood);
    c.check(served_soon([127, 0, 0, 1], t.api_addr()), || {
        "the API does not serve again after the flood".to_string()
    });
    c.finish();
}
