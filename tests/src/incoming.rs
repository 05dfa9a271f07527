//! Tandem as a secondary, from the tests' side: configuring a secondary zone through the API
//! (TSIG key, peer, zone of type `secondary`, incoming configuration), reading its status
//! (`.../secondary_dns/incoming` with `state` and `peer_status`) and `/metrics`, waiting for
//! conditions with a deadline, and sending NOTIFYs from a chosen source address.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use std::str::FromStr;

use domain::base::iana::{Class, Opcode, Rtype};
use domain::base::{MessageBuilder, Name};
use domain::rdata::tsig::Time48;
use domain::tsig::ClientTransaction;
use serde_json::{json, Value};

use crate::api::{http_get_as, Api};
use crate::dns::{self, Query, Response};
use crate::secondary::TsigKey;
use crate::Tandem;

/// The longest wait for anything a secondary does (a bound, not a speed target).
pub const WAIT: Duration = Duration::from_secs(30);

/// The `result` label of a failed transfer or check in `/metrics` (the secondary role's
/// contract: `ok` or `failed`, as for outgoing transfers).
pub const ERROR_RESULT: &str = "failed";

/// A peer to create: where the primary is, whether to ask it for IXFR, its key.
pub struct PeerSpec<'a> {
    pub name: &'a str,
    pub addr: SocketAddr,
    pub ixfr: bool,
    pub tsig_id: Option<&'a str>,
}

/// Creates a TSIG key object; returns its id.
pub fn create_tsig(api: &Api, key: &TsigKey) -> String {
    let account = api.account_id();
    let v = api.post_ok(
        &format!("/accounts/{account}/secondary_dns/tsigs"),
        &json!({"name": key.name, "algo": key.algo, "secret": key.secret}),
    );
    v["id"].as_str().expect("tsig id").to_string()
}

/// Creates a peer; returns its id.
pub fn create_peer(api: &Api, peer: &PeerSpec<'_>) -> String {
    let account = api.account_id();
    let mut body = json!({
        "name": peer.name,
        "ip": peer.addr.ip().to_string(),
        "port": peer.addr.port(),
        "ixfr_enable": peer.ixfr,
    });
    if let Some(t) = peer.tsig_id {
        body["tsig_id"] = json!(t);
    }
    let v = api.post_ok(&format!("/accounts/{account}/secondary_dns/peers"), &body);
    v["id"].as_str().expect("peer id").to_string()
}

/// Creates a zone of type `secondary`; returns its id.
pub fn create_secondary_zone(api: &Api, name: &str) -> String {
    let account = api.account_id();
    let v = api.post_ok(
        "/zones",
        &json!({"name": name, "account": {"id": account}, "type": "secondary"}),
    );
    assert_eq!(v["type"], "secondary", "POST /zones type secondary: {v}");
    v["id"].as_str().expect("zone id").to_string()
}

/// Creates the zone's incoming configuration (which starts the first transfer).
pub fn create_incoming(api: &Api, zone_id: &str, name: &str, peers: &[&str], refresh: u32) {
    api.post_ok(
        &format!("/zones/{zone_id}/secondary_dns/incoming"),
        &json!({"name": name, "peers": peers, "auto_refresh_seconds": refresh}),
    );
}

/// Replaces the zone's incoming configuration (which schedules a check at once).
pub fn put_incoming(api: &Api, zone_id: &str, name: &str, peers: &[&str], refresh: u32) {
    let body = json!({"name": name, "peers": peers, "auto_refresh_seconds": refresh});
    let resp = api.request(
        "PUT",
        &format!("/zones/{zone_id}/secondary_dns/incoming"),
        Some("application/json"),
        body.to_string().as_bytes(),
    );
    crate::api::expect_success("PUT incoming", &resp);
}

/// One secondary zone of a Tandem and the ids around it.
pub struct SecondaryZone {
    pub api: Api,
    pub api_addr: SocketAddr,
    pub name: String,
    pub zone_id: String,
    pub peer_ids: Vec<String>,
    pub tsig_id: Option<String>,
}

impl SecondaryZone {
    /// Configures `name` on `t` as a secondary of `primary` (one peer; with `key`, a TSIG
    /// object linked to it), refreshed every `refresh` seconds.
    pub fn create(
        t: &Tandem,
        name: &str,
        primary: SocketAddr,
        ixfr: bool,
        key: Option<&TsigKey>,
        refresh: u32,
    ) -> SecondaryZone {
        let api = t.api();
        let tsig_id = key.map(|k| create_tsig(&api, k));
        let peer = create_peer(
            &api,
            &PeerSpec {
                name: "primary",
                addr: primary,
                ixfr,
                tsig_id: tsig_id.as_deref(),
            },
        );
        let zone_id = create_secondary_zone(&api, name);
        create_incoming(&api, &zone_id, name, &[&peer], refresh);
        SecondaryZone {
            api,
            api_addr: t.api_addr(),
            name: name.to_string(),
            zone_id,
            peer_ids: vec![peer],
            tsig_id,
        }
    }

    /// After a restart the API listens elsewhere.
    pub fn reconnect(&mut self, t: &Tandem) {
        self.api = t.api();
        self.api_addr = t.api_addr();
    }

    /// `GET .../secondary_dns/incoming` (the result).
    pub fn incoming(&self) -> Value {
        self.api
            .get_ok(&format!("/zones/{}/secondary_dns/incoming", self.zone_id))
    }

    /// The first entry of `peer_status` (Null when there is none).
    pub fn peer_status(&self) -> Value {
        self.incoming()["peer_status"][0].clone()
    }

    /// `GET /zones/{id}` (the result).
    pub fn zone(&self) -> Value {
        self.api.get_ok(&format!("/zones/{}", self.zone_id))
    }

    /// Polls the incoming status until `pred` holds; returns it, or an error with the last one.
    pub fn wait_incoming(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.incoming();
            if pred(&v) {
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{what}: not within {timeout:?}; last incoming status: {v:#}"
                ));
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Waits until the first peer's `last_result` is an error (not "ok", not empty) that
    /// mentions one of `words` (case-insensitive; any error when `words` is empty).
    pub fn wait_error(&self, words: &[&str], timeout: Duration) -> Result<Value, String> {
        self.wait_incoming(
            &format!("an error mentioning one of {words:?} in peer_status[0].last_result"),
            timeout,
            |v| {
                let r = v["peer_status"][0]["last_result"]
                    .as_str()
                    .unwrap_or("ok")
                    .to_ascii_lowercase();
                r != "ok"
                    && !r.is_empty()
                    && (words.is_empty() || words.iter().any(|w| r.contains(&w.to_lowercase())))
            },
        )
    }

    /// The whole `/metrics` text.
    pub fn metrics(&self) -> String {
        http_get_as(self.api_addr, "/metrics", Some(crate::tandem::TOKEN)).text()
    }

    /// `tandem_transfers_in_total{zone, type, result}` (0 when absent).
    pub fn transfers_in(&self, rtype: &str, result: &str) -> f64 {
        metric(
            &self.metrics(),
            "tandem_transfers_in_total",
            &[("zone", &self.name), ("type", rtype), ("result", result)],
        )
        .unwrap_or(0.0)
    }

    /// `tandem_notify_received_total{zone, result}` (0 when absent).
    pub fn notifies_received(&self, result: &str) -> f64 {
        metric(
            &self.metrics(),
            "tandem_notify_received_total",
            &[("zone", &self.name), ("result", result)],
        )
        .unwrap_or(0.0)
    }
}

/// The value of the first sample of `name` whose labels include all of `labels`.
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let (label_text, value) = match rest.strip_prefix('{') {
            Some(r) => match r.split_once('}') {
                Some((l, v)) => (l, v),
                None => continue,
            },
            None if rest.starts_with(' ') => ("", rest),
            None => continue,
        };
        let all = labels
            .iter()
            .all(|(k, v)| label_text.contains(&format!("{k}=\"{v}\"")));
        if all {
            return value.trim().parse().ok();
        }
    }
    None
}

/// The state of `serial` as answered: `Ok(serial)` from an authoritative NOERROR SOA answer,
/// else the RCODE name (e.g. `SERVFAIL`) or the transport error.
pub fn served(server: SocketAddr, zone: &str) -> Result<u32, String> {
    match dns::try_udp(server, &Query::new(zone, Rtype::SOA)) {
        Ok(resp) => {
            if resp.rcode() != dns::rcode::NOERROR || !resp.aa() {
                return Err(resp.rcode_name());
            }
            let soa = Response::of_type(resp.answer(), Rtype::SOA);
            soa.first()
                .and_then(|rr| rr.text.split_whitespace().nth(6))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("no SOA serial in {resp}"))
        }
        Err(e) => Err(e),
    }
}

/// Polls until `server` answers serial `serial` for `zone`.
pub fn wait_served(
    server: SocketAddr,
    zone: &str,
    serial: u32,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        let got = served(server, zone);
        if got == Ok(serial) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{server} did not serve serial {serial} of {zone} within {timeout:?}; last: {got:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends a NOTIFY for `zone` from a UDP socket bound to `from` (port chosen by the system) to
/// `server`; returns the answer, if one came within `timeout`.
pub fn notify_from(
    from: IpAddr,
    server: SocketAddr,
    zone: &str,
    timeout: Duration,
) -> Result<Response, String> {
    notify_signed(from, server, zone, None, timeout)
}

/// [`notify_from`], signed with `key` when given (by `domain`'s TSIG signer).
pub fn notify_signed(
    from: IpAddr,
    server: SocketAddr,
    zone: &str,
    key: Option<&TsigKey>,
    timeout: Duration,
) -> Result<Response, String> {
    let socket = UdpSocket::bind(SocketAddr::new(from, 0))
        .map_err(|e| format!("bind NOTIFY source {from}: {e}"))?;
    let (wire, id) = notify_wire(zone, key);
    socket
        .send_to(&wire, server)
        .map_err(|e| format!("send NOTIFY: {e}"))?;
    let answer = dns::udp_receive(&socket, server, timeout)
        .ok_or_else(|| format!("no answer to NOTIFY within {timeout:?}"))?;
    let resp = Response::parse(answer)?;
    if resp.id() != id {
        return Err(format!("answer with another id: {resp}"));
    }
    Ok(resp)
}

/// A NOTIFY for `zone` (AA set, as primaries send it, RFC 1996 §3.7), signed with `key` when
/// given; and its id.
pub fn notify_wire(zone: &str, key: Option<&TsigKey>) -> (Vec<u8>, u16) {
    let q = Query::new(zone, Rtype::SOA).opcode(Opcode::NOTIFY);
    let mut builder = MessageBuilder::new_vec();
    builder.header_mut().set_id(q.id);
    builder.header_mut().set_opcode(Opcode::NOTIFY);
    builder.header_mut().set_aa(true);
    let mut question = builder.question();
    let qname = Name::<Vec<u8>>::from_str(zone).expect("zone name");
    question
        .push((qname, Rtype::SOA, Class::IN))
        .expect("question fits");
    let mut additional = question.additional();
    if let Some(k) = key {
        let dkey = crate::fake_primary::domain_key(k);
        ClientTransaction::request(dkey, &mut additional, Time48::now()).expect("TSIG fits");
    }
    (additional.finish(), q.id)
}

/// Parses an RFC 3339 UTC time (`2024-01-02T03:04:05Z`, optional fraction) into seconds since
/// the epoch; `None` when it is not one.
pub fn parse_time(text: &str) -> Option<f64> {
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':');
    let (h, min) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let sec: f64 = t.next()?.parse().ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some((days * 86400 + h * 3600 + min * 60) as f64 + sec)
}

/// Seconds since the epoch now.
pub fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}
