//! What the interop tests need from any real secondary of a Tandem zone (BIND's `named`, Knot's
//! `knotd`): a TSIG key to configure it with, and DNS look-ups of what it serves.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use domain::base::iana::Rtype;

use crate::dns::{self, rcode, Query};

/// A TSIG key as the secondaries' configurations and Tandem's API take it.
#[derive(Clone, Debug)]
pub struct TsigKey {
    /// Key name, fully qualified with the trailing dot (`k1.example.`).
    pub name: String,
    /// Algorithm without the trailing dot (`hmac-sha256`).
    pub algo: String,
    /// The secret in base64.
    pub secret: String,
}

/// The SOA serial `server` answers for `zone` (authoritatively, NOERROR); an error says why
/// there is none (no answer yet, SERVFAIL while the zone is not loaded, ...).
pub fn soa_serial(server: SocketAddr, zone: &str) -> Result<u32, String> {
    let q = Query::new(zone, Rtype::SOA);
    let resp = dns::try_udp(server, &q)?;
    if resp.rcode() != rcode::NOERROR || !resp.aa() {
        return Err(format!("not an authoritative answer: {resp}"));
    }
    let soa = dns::Response::of_type(resp.answer(), Rtype::SOA);
    let rr = soa
        .first()
        .ok_or_else(|| format!("no SOA in the answer: {resp}"))?;
    // "owner ttl class SOA mname rname serial refresh retry expire minimum"
    rr.text
        .split_whitespace()
        .nth(6)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("SOA without a serial: {}", rr.text))
}

/// Polls `server` until it answers `serial` for `zone` or `timeout` passes. Returns how long it
/// took, or the last thing it answered.
pub fn wait_for_serial(
    server: SocketAddr,
    zone: &str,
    serial: u32,
    timeout: Duration,
) -> Result<Duration, String> {
    let start = Instant::now();
    let mut last;
    loop {
        last = match soa_serial(server, zone) {
            Ok(s) if s == serial => return Ok(start.elapsed()),
            Ok(s) => format!("serial {s}"),
            Err(e) => e,
        };
        if start.elapsed() > timeout {
            return Err(format!(
                "{server} did not serve serial {serial} of {zone} within {timeout:?}; \
                 last answer: {last}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What `server` answers for `name`/`rtype`: the RCODE name, the AA flag and the answer
/// section's records in presentation form, sorted (comparable across servers).
pub fn answer(server: SocketAddr, name: &str, rtype: Rtype) -> Result<String, String> {
    let resp = dns::try_udp(server, &Query::new(name, rtype))?;
    let mut records: Vec<String> = resp.answer().iter().map(|r| r.text.clone()).collect();
    records.sort();
    Ok(format!(
        "{} aa={} [{}]",
        resp.rcode_name(),
        resp.aa(),
        records.join(" | ")
    ))
}

/// Waits until something answers DNS at `server` (any answer, even SERVFAIL), for at most
/// `timeout`; `is_running` is asked between attempts and stops the wait when it says no.
pub fn wait_until_answering(
    server: SocketAddr,
    zone: &str,
    timeout: Duration,
    mut is_running: impl FnMut() -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !is_running() {
            return false;
        }
        let q = Query::new(zone, Rtype::SOA);
        if dns::udp_raw(server, &q.to_wire(), Duration::from_millis(200)).is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
