//! Tandem as the secondary of real primaries: BIND 9 (`named`), Knot (`knotd`) and NSD, each
//! started by the test on its own loopback port and configured to NOTIFY Tandem's DNS port,
//! with and without TSIG (hmac-sha256: the primary requires the key for transfers and signs
//! its NOTIFYs). The secondary zone is configured through Tandem's API (TSIG object, peer with
//! ip/port/ixfr_enable/tsig_id, zone of type `secondary`, incoming configuration). Proves:
//! 1. the first transfer (AXFR) is served by Tandem exactly as the primary serves the zone;
//! 2. a change of the primary's zone file reaches Tandem by the primary's NOTIFY (the refresh
//!    interval is an hour), as an IXFR from BIND and Knot (`peer_status[].last_transfer_type`
//!    and `/metrics`); NSD answers IXFR with the whole zone, and Tandem ends up with the new
//!    serial all the same;
//! 3. without TSIG: the primary stopped, Tandem serves until the SOA expire (8 s), then
//!    SERVFAIL with state and status `expired`; the primary back, it serves again (`ok`);
//! 4. with TSIG: a wrong secret fails visibly (`last_result`), the zone stays `pending`, and
//!    correcting the key through the API brings the zone.

use std::net::SocketAddr;

use domain::base::iana::Rtype;
use serde_json::json;
use tandem_tests::bind::BindPrimary;
use tandem_tests::incoming::{put_incoming, served, wait_served, SecondaryZone, WAIT};
use tandem_tests::knot::KnotPrimary;
use tandem_tests::nsd::NsdPrimary;
use tandem_tests::primary::{Primary, PrimarySpec};
use tandem_tests::secondary::{answer, TsigKey};
use tandem_tests::{require_tool, Tandem};

const ZONE: &str = "example.test";
const S1: u32 = 2024060101;

/// The zone at version `k` (serial S1+k-1): `www` and `vK` change with the version. SOA
/// refresh an hour (only NOTIFY brings changes), retry 1 s, expire `expire`.
fn zone_text(k: u32, expire: u32) -> String {
    let serial = S1 + k - 1;
    format!(
        "$ORIGIN example.test.\n\
         $TTL 3600\n\
         @ IN SOA ns1.example.test. hostmaster.example.test. {serial} 3600 1 {expire} 300\n\
         @ NS ns1\n\
         @ NS ns2\n\
         @ MX 10 mail\n\
         @ TXT \"v=spf1 mx -all\"\n\
         @ CAA 0 issue \"ca.example.net\"\n\
         ns1 A 192.0.2.53\n\
         ns1 AAAA 2001:db8::53\n\
         ns2 A 192.0.2.54\n\
         mail A 192.0.2.25\n\
         www 300 A 192.0.2.{k}\n\
         www AAAA 2001:db8::1\n\
         ftp CNAME www\n\
         _sip._tcp SRV 10 60 5060 sip\n\
         sip A 192.0.2.60\n\
         txt TXT \"hello world\" \"second string\"\n\
         sub NS ns.sub\n\
         ns.sub A 192.0.2.99\n\
         v{k} A 198.51.100.{k}\n"
    )
}

const PROBES: &[(&str, Rtype)] = &[
    ("example.test", Rtype::SOA),
    ("example.test", Rtype::NS),
    ("example.test", Rtype::MX),
    ("example.test", Rtype::TXT),
    ("example.test", Rtype::CAA),
    ("ns1.example.test", Rtype::A),
    ("ns1.example.test", Rtype::AAAA),
    ("mail.example.test", Rtype::A),
    ("www.example.test", Rtype::A),
    ("www.example.test", Rtype::AAAA),
    ("ftp.example.test", Rtype::CNAME),
    ("_sip._tcp.example.test", Rtype::SRV),
    ("txt.example.test", Rtype::TXT),
    ("v1.example.test", Rtype::A),
    ("v2.example.test", Rtype::A),
    ("v3.example.test", Rtype::A),
    ("nothere.example.test", Rtype::A),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bind,
    Knot,
    Nsd,
}

fn key(secret: &str) -> TsigKey {
    TsigKey {
        name: "tandem-in.example.".into(),
        algo: "hmac-sha256".into(),
        secret: secret.into(),
    }
}
const SECRET: &str = "aW50ZXJvcC1zZWNvbmRhcnktdGVzdC1rZXktMDEyMzQ1Njc=";
const WRONG_SECRET: &str = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZy0wMTI=";

struct Run {
    kind: Kind,
    t: Tandem,
    p: Box<dyn Primary>,
}

impl Run {
    fn fail(&self, what: &str) -> ! {
        panic!(
            "{:?}: {what}\n---- {} log (tail) ----\n{}\n---- tandem log (tail) ----\n{}",
            self.kind,
            self.p.kind(),
            self.p.log_tail(5000),
            self.t.log_tail(5000)
        )
    }

    fn ok<T>(&self, r: Result<T, String>) -> T {
        r.unwrap_or_else(|e| self.fail(&e))
    }

    /// Every probe answers the same from Tandem as from the primary.
    fn same_answers(&self, step: &str) {
        let mut diffs = Vec::new();
        for (name, rtype) in PROBES {
            let theirs = answer(self.p.addr(), name, *rtype);
            let ours = answer(self.t.dns(), name, *rtype);
            if theirs != ours {
                diffs.push(format!(
                    "{name} {rtype}:\n  primary: {theirs:?}\n  tandem:  {ours:?}"
                ));
            }
        }
        if !diffs.is_empty() {
            self.fail(&format!("{step}: answers differ:\n{}", diffs.join("\n")));
        }
    }
}

fn run(kind: Kind, tsig: bool) {
    let tool = match kind {
        Kind::Bind => "named",
        Kind::Knot => "knotd",
        Kind::Nsd => "nsd",
    };
    if !require_tool(tool) || (kind == Kind::Knot && !require_tool("knotc")) {
        return;
    }
    let t = Tandem::start_with(&["--min-refresh-seconds", "1"]);
    let right = key(SECRET);
    let spec = PrimarySpec {
        zone: ZONE.into(),
        zone_text: zone_text(1, 3600),
        serial: S1,
        notify: t.dns(),
        key: tsig.then(|| right.clone()),
    };
    let p: Box<dyn Primary> = match kind {
        Kind::Bind => Box::new(BindPrimary::start(&spec)),
        Kind::Knot => Box::new(KnotPrimary::start(&spec)),
        Kind::Nsd => Box::new(NsdPrimary::start(&spec)),
    };
    let mut r = Run { kind, t, p };
    let primary: SocketAddr = r.p.addr();

    let sz = if tsig {
        // A wrong secret first: the zone stays pending and says why.
        let sz = SecondaryZone::create(&r.t, ZONE, primary, true, Some(&key(WRONG_SECRET)), 3600);
        let status = r.ok(sz.wait_error(&["TSIG", "BADSIG", "NOTAUTH", "BADKEY"], WAIT));
        let text = status["peer_status"][0]["last_result"].to_string();
        eprintln!("{kind:?}: with a wrong TSIG secret, last_result = {text}");
        if status["state"] != "pending" || sz.zone()["status"] != "pending" {
            r.fail(&format!(
                "wrong key: the zone must stay pending: {status:#}"
            ));
        }
        if served(r.t.dns(), ZONE).is_ok() {
            r.fail("wrong key: the zone must not be served");
        }
        // Correct the key through the API; a PUT of the incoming configuration checks at once.
        let account = sz.api.account_id();
        let tsig_id = sz.tsig_id.clone().unwrap();
        let resp = sz.api.request(
            "PUT",
            &format!("/accounts/{account}/secondary_dns/tsigs/{tsig_id}"),
            Some("application/json"),
            json!({"name": right.name, "algo": right.algo, "secret": right.secret})
                .to_string()
                .as_bytes(),
        );
        tandem_tests::api::expect_success("PUT tsig", &resp);
        let peers: Vec<&str> = sz.peer_ids.iter().map(String::as_str).collect();
        put_incoming(&sz.api, &sz.zone_id, ZONE, &peers, 3600);
        sz
    } else {
        SecondaryZone::create(&r.t, ZONE, primary, true, None, 3600)
    };

    // 1. The first transfer.
    r.ok(wait_served(r.t.dns(), ZONE, S1, WAIT));
    r.same_answers("after the first transfer");
    let status = r.ok(sz.wait_incoming("state ok", WAIT, |v| v["state"] == "ok"));
    if status["peer_status"][0]["last_transfer_type"] != "AXFR"
        || status["peer_status"][0]["last_transfer_serial"] != S1
        || status["peer_status"][0]["last_result"] != "ok"
        || sz.zone()["status"] != "active"
    {
        r.fail(&format!("first transfer: {status:#}"));
    }

    // 2. A change at the primary, announced by its NOTIFY.
    let notifies = sz.notifies_received("accepted");
    let ixfrs = sz.transfers_in("IXFR", "ok");
    let res = r.p.update_zone(S1 + 1, &zone_text(2, 3600));
    r.ok(res);
    r.ok(wait_served(r.t.dns(), ZONE, S1 + 1, WAIT));
    r.same_answers("after the change");
    let status = r.ok(sz.wait_incoming("second transfer reported", WAIT, |v| {
        v["peer_status"][0]["last_transfer_serial"] == S1 + 1
    }));
    let kind_seen = status["peer_status"][0]["last_transfer_type"].clone();
    eprintln!("{kind:?}: the change came as {kind_seen}");
    if sz.notifies_received("accepted") <= notifies {
        r.fail(&format!("no accepted NOTIFY counted:\n{}", sz.metrics()));
    }
    match kind {
        Kind::Bind | Kind::Knot => {
            if kind_seen != "IXFR" || sz.transfers_in("IXFR", "ok") <= ixfrs {
                r.fail(&format!(
                    "the change must come as IXFR: {status:#}\n{}",
                    sz.metrics()
                ));
            }
        }
        // NSD serves a zone file's change as a whole zone in answer to IXFR.
        Kind::Nsd => {
            if kind_seen != "IXFR" && kind_seen != "AXFR" {
                r.fail(&format!("transfer type: {status:#}"));
            }
        }
    }
    if tsig {
        return;
    }

    // 3. Expire: the next version has SOA expire 8 s; Tandem then checks every second.
    let res = r.p.update_zone(S1 + 2, &zone_text(3, 8));
    r.ok(res);
    r.ok(wait_served(r.t.dns(), ZONE, S1 + 2, WAIT));
    let peers: Vec<&str> = sz.peer_ids.iter().map(String::as_str).collect();
    let checked = sz.incoming()["checked_time"].clone();
    put_incoming(&sz.api, &sz.zone_id, ZONE, &peers, 1);
    r.ok(sz.wait_incoming("a check after the PUT", WAIT, |v| {
        v["state"] == "ok" && v["checked_time"] != checked
    }));
    r.p.stop();
    let stopped = std::time::Instant::now();
    // Still served while the primary is away (until the expire time).
    let still = served(r.t.dns(), ZONE);
    if still != Ok(S1 + 2) {
        r.fail(&format!("just after the primary stopped: {still:?}"));
    }
    let status = r.ok(sz.wait_incoming("state expired", WAIT, |v| v["state"] == "expired"));
    if stopped.elapsed() < std::time::Duration::from_secs(5) {
        r.fail(&format!(
            "expired {:?} after the stop, before the SOA expire of 8 s",
            stopped.elapsed()
        ));
    }
    let answer = served(r.t.dns(), ZONE);
    if answer != Err("SERVFAIL".into()) || sz.zone()["status"] != "expired" {
        r.fail(&format!("expired: answer {answer:?}, status {status:#}"));
    }
    let res = r.p.start(S1 + 2);
    r.ok(res);
    r.ok(wait_served(r.t.dns(), ZONE, S1 + 2, WAIT));
    r.ok(
        sz.wait_incoming("state ok after the primary is back", WAIT, |v| {
            v["state"] == "ok"
        }),
    );
    r.same_answers("after the recovery");
    if sz.zone()["status"] != "active" {
        r.fail("zone status after the recovery must be active");
    }
}

#[test]
fn bind_primary() {
    run(Kind::Bind, false);
}

#[test]
fn bind_primary_with_tsig() {
    run(Kind::Bind, true);
}

#[test]
fn knot_primary() {
    run(Kind::Knot, false);
}

#[test]
fn knot_primary_with_tsig() {
    run(Kind::Knot, true);
}

#[test]
fn nsd_primary() {
    run(Kind::Nsd, false);
}

#[test]
fn nsd_primary_with_tsig() {
    run(Kind::Nsd, true);
}
