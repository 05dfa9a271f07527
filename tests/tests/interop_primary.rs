//! Tandem as the primary of real secondaries: BIND 9 (`named`) and Knot (`knotd`), each started
//! by the test with its own configuration on its own loopback port, each linked to the zone as
//! an outgoing peer (Tandem sends its NOTIFYs to that port). Proves, against their logs:
//! 1. a zone created and filled through the API is transferred to both (their first AXFR) and
//!    they answer for it exactly as Tandem does;
//! 2. a record changed through the API reaches both by Tandem's NOTIFY (no refresh timer can
//!    fire: the SOA refresh is an hour) and an IXFR, not an AXFR;
//! 3. a secondary that was down during two changes catches up by one IXFR when it is back
//!    (by Tandem's retransmitted NOTIFY or by its refresh timer, shortened for this step);
//! 4. Tandem's `/metrics` counts the AXFRs and IXFRs it served.
//!
//! Every wait is bounded ([`WAIT`] is a bound, not a speed target). On failure the message
//! carries the tails of both secondaries' logs and Tandem's.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use domain::base::iana::Rtype;
use serde_json::{json, Value};
use tandem_tests::api::http_get_as;
use tandem_tests::bind;
use tandem_tests::process::free_port;
use tandem_tests::secondary::{self, TsigKey};
use tandem_tests::{require_tool, Bind, KnotSecondary, Tandem};

const ZONE: &str = "example.test";
/// The imported SOA serial (newer than a new zone's 1, so the import keeps it).
const SERIAL: u32 = 100;
/// Longest wait for a secondary to serve a serial or to log a transfer.
const WAIT: Duration = Duration::from_secs(30);

/// About twenty records of common types. SOA refresh 3600 and retry 600: neither secondary
/// checks the primary on a timer during the test, so only NOTIFY (or a restart) makes them.
fn zone_text() -> String {
    format!(
        "$ORIGIN example.test.\n\
         $TTL 3600\n\
         @ IN SOA ns1.example.test. hostmaster.example.test. {SERIAL} 3600 600 1209600 300\n\
         @ NS ns1\n\
         @ NS ns2\n\
         @ MX 10 mail\n\
         @ MX 20 mail2\n\
         @ TXT \"v=spf1 mx -all\"\n\
         @ CAA 0 issue \"ca.example.net\"\n\
         ns1 A 192.0.2.53\n\
         ns1 AAAA 2001:db8::53\n\
         ns2 A 192.0.2.54\n\
         mail A 192.0.2.25\n\
         mail2 A 192.0.2.26\n\
         www 300 A 192.0.2.1\n\
         www 300 A 192.0.2.2\n\
         www AAAA 2001:db8::1\n\
         ftp CNAME www\n\
         _sip._tcp SRV 10 60 5060 sip\n\
         sip A 192.0.2.60\n\
         txt TXT \"hello world\" \"second string\"\n\
         sub NS ns.sub\n\
         ns.sub A 192.0.2.99\n\
         h1 A 198.51.100.1\n\
         h2 A 198.51.100.2\n"
    )
}

/// (name, type) pairs whose answers must be the same from Tandem and from each secondary.
const PROBES: &[Probe] = &[
    ("example.test", Rtype::SOA),
    ("example.test", Rtype::NS),
    ("example.test", Rtype::MX),
    ("example.test", Rtype::TXT),
    ("example.test", Rtype::CAA),
    ("www.example.test", Rtype::A),
    ("www.example.test", Rtype::AAAA),
    ("ftp.example.test", Rtype::CNAME),
    ("_sip._tcp.example.test", Rtype::SRV),
    ("txt.example.test", Rtype::TXT),
    ("h1.example.test", Rtype::A),
    ("h2.example.test", Rtype::A),
    ("nothere.example.test", Rtype::A),
];

/// Which secondary, for messages and for the steps that treat one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Bind,
    Knot,
}

/// Tandem with the zone, and both secondaries following it.
struct Interop {
    t: Tandem,
    zone_id: String,
    bind: Bind,
    knot: KnotSecondary,
}

impl Interop {
    /// Starts Tandem with the zone, links one peer per secondary (Knot's with `knot_key`
    /// when given), enables outgoing transfers, and starts both secondaries on the ports the
    /// peers name.
    fn start(knot_key: Option<&TsigKey>) -> Interop {
        let t = Tandem::start();
        let zone_id = t.load_zone(ZONE, &zone_text());
        let api = t.api();
        let account = api.account_id();
        let serial = api.soa_serial(&zone_id);
        assert_eq!(serial, SERIAL, "the import keeps the zone file's serial");

        let tsig_id = knot_key.map(|k| {
            let tsig = api.post_ok(
                &format!("/accounts/{account}/secondary_dns/tsigs"),
                &json!({"name": k.name, "algo": k.algo, "secret": k.secret}),
            );
            tsig["id"].as_str().expect("tsig id").to_string()
        });
        let bind_peer = Peer::create(&t, &account, "bind", None);
        let knot_peer = Peer::create(&t, &account, "knot", tsig_id);
        api.post_ok(
            &format!("/zones/{zone_id}/secondary_dns/outgoing"),
            // Knot's peer first: with TSIG it has a key and the same ip as BIND's, whose
            // unsigned requests must still be served (PRODUCT.md §1, rule b).
            &json!({"name": ZONE, "peers": [knot_peer.id, bind_peer.id]}),
        );
        api.post_ok(
            &format!("/zones/{zone_id}/secondary_dns/outgoing/enable"),
            &json!({}),
        );

        let primary = t.dns();
        let bind = bind_peer.start_secondary(&t, |port| Bind::secondary(ZONE, primary, None, port));
        let knot = knot_peer.start_secondary(&t, |port| {
            KnotSecondary::start(ZONE, primary, knot_key, port)
        });
        Interop {
            t,
            zone_id,
            bind,
            knot,
        }
    }

    fn addr(&self, which: Which) -> SocketAddr {
        match which {
            Which::Bind => self.bind.addr(),
            Which::Knot => self.knot.addr(),
        }
    }

    fn log(&self, which: Which) -> String {
        match which {
            Which::Bind => self.bind.log(),
            Which::Knot => self.knot.log(),
        }
    }

    /// Panics with `what` and the tails of every log.
    fn fail(&self, what: &str) -> ! {
        panic!(
            "{what}\n\n---- named log (tail, without its lines about queries) ----\n{}\n\
             ---- knotd log (tail) ----\n{}\n---- tandem log (tail) ----\n{}\n---- end ----",
            self.bind.log_tail_without_queries(6000),
            self.knot.log_tail(6000),
            self.t.log_tail(6000)
        )
    }

    /// The serial Tandem's API reports.
    fn serial(&self) -> u32 {
        self.t.api().soa_serial(&self.zone_id)
    }

    /// The id of the zone's SOA record.
    fn soa_id(&self) -> String {
        let soa = self.t.api().records(&self.zone_id, "type=SOA");
        soa[0]["id"].as_str().expect("SOA record id").to_string()
    }

    /// Adds an A record through the API; returns the new serial.
    fn add_a(&self, name: &str, ip: &str) -> u32 {
        let before = self.serial();
        self.t.api().post_ok(
            &format!("/zones/{}/dns_records", self.zone_id),
            &json!({"type": "A", "name": name, "content": ip, "ttl": 300}),
        );
        let after = self.serial();
        assert_eq!(after, before.wrapping_add(1), "one change, one new serial");
        after
    }

    /// Deletes every record at `name` of type `rtype` through the API; returns the new serial.
    fn delete(&self, name: &str, rtype: &str) -> u32 {
        let api = self.t.api();
        let found = api.records(&self.zone_id, &format!("name={name}&type={rtype}"));
        assert!(!found.is_empty(), "no {rtype} record at {name} to delete");
        for record in found {
            let id = record["id"].as_str().expect("record id");
            let resp = api.request(
                "DELETE",
                &format!("/zones/{}/dns_records/{id}", self.zone_id),
                None,
                b"",
            );
            assert_eq!(resp.status, 200, "DELETE {name} {rtype}: {}", resp.text());
        }
        self.serial()
    }

    /// Waits until the secondary serves `serial`; returns how long that took.
    fn wait_serial(&self, which: Which, serial: u32) -> Duration {
        secondary::wait_for_serial(self.addr(which), ZONE, serial, WAIT)
            .unwrap_or_else(|e| self.fail(&format!("{which:?}: {e}")))
    }

    /// Checks that the secondary answers every probe (and `extra`) exactly as Tandem does.
    fn same_answers(&self, which: Which, extra: &[Probe]) {
        let mut diffs = Vec::new();
        for (name, rtype) in PROBES.iter().chain(extra) {
            let ours = secondary::answer(self.t.dns(), name, *rtype);
            let theirs = secondary::answer(self.addr(which), name, *rtype);
            if ours != theirs {
                diffs.push(format!(
                    "{name} {rtype}:\n  tandem: {ours:?}\n  {which:?}: {theirs:?}"
                ));
            }
        }
        if !diffs.is_empty() {
            self.fail(&format!(
                "{which:?} does not answer as Tandem does:\n{}",
                diffs.join("\n")
            ));
        }
    }

    /// Waits until the secondary's log after byte `mark` holds a line with every one of
    /// `needles` (a transfer is logged just after the new zone is served); returns that line.
    fn wait_log_line(&self, which: Which, mark: usize, needles: &[&str]) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let log = self.log(which);
            let new = log.get(mark..).unwrap_or_default();
            if let Some(line) = new.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
                return line.to_string();
            }
            if Instant::now() > deadline {
                let shown = match which {
                    Which::Bind => bind::without_query_lines(new),
                    Which::Knot => new.to_string(),
                };
                self.fail(&format!(
                    "{which:?}'s log has no line with all of {needles:?} within {WAIT:?}; \
                     its log since the change (tail):\n{}",
                    bind::tail(&shown, 8000)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Fails when the secondary's log after byte `mark` has a line with all of `needles`.
    fn assert_no_log_line(&self, which: Which, mark: usize, needles: &[&str], why: &str) {
        let log = self.log(which);
        let new = log.get(mark..).unwrap_or_default();
        if let Some(line) = new.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
            self.fail(&format!("{which:?}: {why}; its log says:\n{line}"));
        }
    }

    /// Asserts, from the secondary's log after byte `mark`, that it went from serial `from`
    /// to `to` by an incremental transfer from Tandem, and by nothing else (no AXFR, no
    /// AXFR-style IXFR answer).
    fn assert_ixfr(&self, which: Which, mark: usize, from: u32, to: u32) {
        let remote = format!("127.0.0.1@{}", self.t.dns().port());
        match which {
            Which::Knot => {
                // Knot 3.2:
                // "[example.test.] IXFR, incoming, remote 127.0.0.1@P, finished, 0.00 seconds, ..."
                // "[example.test.] refresh, remote 127.0.0.1@P, zone updated, 0.00 seconds,
                //  serial 100 -> 101, expires in 1209600 seconds"
                self.wait_log_line(
                    which,
                    mark,
                    &[
                        "[example.test.] IXFR, incoming, remote",
                        &remote,
                        "finished",
                    ],
                );
                self.wait_log_line(
                    which,
                    mark,
                    &[
                        "[example.test.] refresh, remote",
                        &remote,
                        "zone updated",
                        &format!("serial {from} -> {to},"),
                    ],
                );
                // An AXFR ("AXFR, incoming") or an AXFR-style answer to the IXFR ("receiving
                // AXFR-style IXFR") would be logged with "AXFR".
                self.assert_no_log_line(
                    which,
                    mark,
                    &["AXFR"],
                    "it got the whole zone instead of the difference",
                );
            }
            Which::Bind => {
                // BIND 9.18 at debug level 3:
                // "transfer of 'example.test/IN' from 127.0.0.1#P: requesting IXFR for serial 100"
                // "transfer of 'example.test/IN' from 127.0.0.1#P: got incremental response"
                // "zone example.test/IN: transferred serial 101"
                // "transfer of 'example.test/IN' from 127.0.0.1#P: Transfer status: success"
                let bind_remote = format!("from 127.0.0.1#{}", self.t.dns().port());
                let transfer = "transfer of 'example.test/IN'";
                self.wait_log_line(
                    which,
                    mark,
                    &[
                        transfer,
                        &bind_remote,
                        &format!("requesting IXFR for serial {from}"),
                    ],
                );
                self.wait_log_line(
                    which,
                    mark,
                    &[transfer, &bind_remote, "got incremental response"],
                );
                self.wait_log_line(
                    which,
                    mark,
                    &[
                        "zone example.test/IN: transferred serial",
                        &format!(" {to}"),
                    ],
                );
                self.wait_log_line(
                    which,
                    mark,
                    &[transfer, &bind_remote, "Transfer status: success"],
                );
                // An AXFR-style answer is logged as "got nonincremental response", a
                // fallback to AXFR as "requesting AXFR".
                for (needle, why) in [
                    (
                        "got nonincremental response",
                        "the answer to its IXFR was the whole zone",
                    ),
                    ("requesting AXFR", "it fell back to AXFR"),
                ] {
                    self.assert_no_log_line(which, mark, &[needle], why);
                }
                // BIND keeps every applied IXFR in its journal: one transaction that deletes
                // the SOA with serial `from` and adds the one with serial `to`.
                if !self.bind.journal_path().is_file() {
                    self.fail(&format!(
                        "BIND applied no IXFR: {} does not exist",
                        self.bind.journal_path().display()
                    ));
                }
                if let Some(journal) = self.bind.journal_text() {
                    let journal = journal.unwrap_or_else(|e| self.fail(&e));
                    let soa = |op: &str, serial: u32| {
                        journal.lines().position(|l| {
                            let w: Vec<&str> = l.split_whitespace().collect();
                            w.first() == Some(&op)
                                && w.get(4) == Some(&"SOA")
                                && w.get(7) == Some(&serial.to_string().as_str())
                        })
                    };
                    match (soa("del", from), soa("add", to)) {
                        (Some(d), Some(a)) if d < a => {}
                        _ => self.fail(&format!(
                            "BIND's journal has no transaction {from} -> {to}:\n{journal}"
                        )),
                    }
                }
            }
        }
    }

    /// Asserts that the secondary's log after `mark` shows Tandem's NOTIFY for `serial`
    /// (from 127.0.0.1, the address of the outgoing peers).
    fn assert_notified(&self, which: Which, mark: usize, serial: u32) {
        match which {
            // Knot 3.2: "[example.test.] notify, incoming, remote 127.0.0.1@P, serial 101".
            Which::Knot => {
                self.wait_log_line(
                    which,
                    mark,
                    &[
                        "[example.test.] notify, incoming, remote 127.0.0.1@",
                        &format!(", serial {serial}"),
                    ],
                );
            }
            // BIND 9.18: "client @0x... 127.0.0.1#P: received notify for zone 'example.test'"
            // and "zone example.test/IN: notify from 127.0.0.1#P: serial 101".
            Which::Bind => {
                self.wait_log_line(
                    which,
                    mark,
                    &["127.0.0.1#", "received notify for zone 'example.test'"],
                );
                self.wait_log_line(
                    which,
                    mark,
                    &[
                        "zone example.test/IN: notify from 127.0.0.1#",
                        &format!(": serial {serial}"),
                    ],
                );
            }
        }
    }

    /// Log lengths of (BIND, Knot), to look only at what they log after this point.
    fn marks(&self) -> [usize; 2] {
        [self.bind.log().len(), self.knot.log().len()]
    }

    /// After a change from `from` to `to` made through the API (logs marked before it): both
    /// secondaries are told by Tandem's NOTIFY, transfer the difference by IXFR and then
    /// answer as Tandem does (also for `extra`).
    fn both_follow_by_notify(&self, marks: [usize; 2], from: u32, to: u32, extra: &[Probe]) {
        for (which, mark) in [Which::Bind, Which::Knot].into_iter().zip(marks) {
            let took = self.wait_serial(which, to);
            eprintln!("{which:?} serves serial {to} {took:?} after the change (NOTIFY)");
            self.assert_notified(which, mark, to);
            self.assert_ixfr(which, mark, from, to);
            self.same_answers(which, extra);
        }
    }
}

/// A (name, type) to ask.
type Probe<'a> = (&'a str, Rtype);

/// A peer of the zone as Tandem's API knows it, before its secondary runs.
struct Peer {
    account: String,
    id: String,
    name: String,
    tsig_id: Option<String>,
    port: u16,
}

impl Peer {
    /// Creates the peer on a port that was free a moment ago.
    fn create(t: &Tandem, account: &str, name: &str, tsig_id: Option<String>) -> Peer {
        let port = free_port();
        let peer = t.api().post_ok(
            &format!("/accounts/{account}/secondary_dns/peers"),
            &Peer::body(name, port, tsig_id.as_deref()),
        );
        Peer {
            account: account.to_string(),
            id: peer["id"].as_str().expect("peer id").to_string(),
            name: name.to_string(),
            tsig_id,
            port,
        }
    }

    fn body(name: &str, port: u16, tsig_id: Option<&str>) -> Value {
        let mut body = json!({"name": name, "ip": "127.0.0.1", "port": port});
        if let Some(id) = tsig_id {
            body["tsig_id"] = json!(id);
        }
        body
    }

    /// Starts the secondary on the peer's port; when that port was taken meanwhile, moves the
    /// peer to another free port and tries again (three times at most).
    fn start_secondary<S>(mut self, t: &Tandem, start: impl Fn(u16) -> Result<S, String>) -> S {
        let mut errors = Vec::new();
        for attempt in 0..3 {
            if attempt > 0 {
                self.port = free_port();
                let moved = t.api().request(
                    "PUT",
                    &format!("/accounts/{}/secondary_dns/peers/{}", self.account, self.id),
                    Some("application/json"),
                    Peer::body(&self.name, self.port, self.tsig_id.as_deref())
                        .to_string()
                        .as_bytes(),
                );
                assert_eq!(
                    moved.status,
                    200,
                    "PUT peer {}: {}",
                    self.name,
                    moved.text()
                );
            }
            match start(self.port) {
                Ok(s) => return s,
                Err(e) => errors.push(e),
            }
        }
        panic!(
            "the {} secondary did not start:\n{}",
            self.name,
            errors.join("\n\n")
        );
    }
}

/// The counter `tandem_transfers_out_total{zone="example.test",type=TYPE,result=RESULT}`.
fn transfers_out(metrics: &str, kind: &str, result: &str) -> u64 {
    let key = format!(
        "tandem_transfers_out_total{{zone=\"{ZONE}\",type=\"{kind}\",result=\"{result}\"}}"
    );
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&key))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The whole scenario; `knot_key` makes Knot's peer (and Knot) use TSIG while BIND's does not.
fn scenario(knot_key: Option<TsigKey>) {
    let started = Instant::now();
    let mut s = Interop::start(knot_key.as_ref());
    let both = [Which::Bind, Which::Knot];

    // 1. Both secondaries transfer the zone on their own at startup (AXFR: they have nothing)
    //    and answer for it exactly as Tandem does.
    for which in both {
        let took = s.wait_serial(which, SERIAL);
        eprintln!("{which:?} serves serial {SERIAL} {took:?} after its start");
        s.same_answers(which, &[]);
    }
    let remote = format!("127.0.0.1@{}", s.t.dns().port());
    s.wait_log_line(
        Which::Knot,
        0,
        &[
            "[example.test.] AXFR, incoming, remote",
            &remote,
            "finished",
        ],
    );
    s.wait_log_line(
        Which::Knot,
        0,
        &["zone updated", &format!("serial none -> {SERIAL},")],
    );
    let bind_remote = format!("127.0.0.1#{}", s.t.dns().port());
    s.wait_log_line(
        Which::Bind,
        0,
        &[
            "zone example.test/IN: no database exists yet, requesting AXFR of initial version",
            &bind_remote,
        ],
    );
    s.wait_log_line(
        Which::Bind,
        0,
        &[
            "transfer of 'example.test/IN'",
            &bind_remote,
            "got nonincremental response",
        ],
    );
    s.wait_log_line(
        Which::Bind,
        0,
        &[&format!(
            "zone example.test/IN: transferred serial {SERIAL}"
        )],
    );

    // 2. One record added through the API: Tandem's NOTIFY brings both to the new serial, by
    //    IXFR. With the SOA refresh at an hour, nothing but the NOTIFY makes them look.
    let marks = s.marks();
    let serial = s.add_a("changed", "203.0.113.7");
    s.both_follow_by_notify(marks, SERIAL, serial, &[("changed.example.test", Rtype::A)]);

    // 3. A secondary that was down while the zone changed twice catches up by one IXFR (from
    //    the serial it had to the newest) once it is back; first BIND, then Knot. Back up, it
    //    learns of the change by Tandem's retransmitted NOTIFY or by its own refresh timer,
    //    which the SOA now sets to 5 s (that SOA change reaches both by NOTIFY too).
    let marks = s.marks();
    let patched = s.t.api().request(
        "PATCH",
        &format!("/zones/{}/dns_records/{}", s.zone_id, s.soa_id()),
        Some("application/json"),
        json!({"content": "ns1.example.test. hostmaster.example.test. 0 5 5 1209600 300"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(patched.status, 200, "PATCH of the SOA: {}", patched.text());
    let mut current = s.serial();
    assert_eq!(current, serial + 1, "the SOA change is one new serial");
    s.both_follow_by_notify(marks, serial, current, &[]);
    for (round, down) in both.into_iter().enumerate() {
        let up = if down == Which::Bind {
            Which::Knot
        } else {
            Which::Bind
        };
        match down {
            Which::Bind => s.bind.stop(),
            Which::Knot => s.knot.stop(),
        }
        let down_since = Instant::now();
        let marks = s.marks();
        let mark = marks[usize::from(down == Which::Knot)];
        let name = format!("while-down-{round}.example.test");
        s.add_a(&name, &format!("203.0.113.{}", 10 + round));
        let deleted = format!("h{}.example.test", round + 1);
        let newest = s.delete(&deleted, "A");
        assert_eq!(newest, current + 2, "two changes, two serials");
        s.wait_serial(up, newest);
        let restarted = match down {
            Which::Bind => s.bind.start(),
            Which::Knot => s.knot.restart(),
        };
        if let Err(e) = restarted {
            s.fail(&format!("{down:?} did not start again: {e}"));
        }
        let was_down = down_since.elapsed();
        let took = s.wait_serial(down, newest);
        eprintln!(
            "{down:?} was down {was_down:?}; caught up with serial {newest} {took:?} after \
             its restart"
        );
        s.assert_ixfr(down, mark, current, newest);
        for which in both {
            s.same_answers(which, &[(&name, Rtype::A), (&deleted, Rtype::A)]);
        }
        current = newest;
    }

    // 4. Tandem's metrics count the transfers it served: the first two AXFRs, and the IXFRs
    //    (2 per secondary at least in steps 2 and 3, plus 2 for the SOA change).
    let metrics = http_get_as(
        s.t.api_addr(),
        "/metrics",
        Some(tandem_tests::tandem::TOKEN),
    );
    assert_eq!(metrics.status, 200, "GET /metrics: {}", metrics.text());
    let metrics = metrics.text();
    let ixfr_ok = transfers_out(&metrics, "IXFR", "ok");
    let axfr_ok = transfers_out(&metrics, "AXFR", "ok");
    let lines: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("tandem_transfers_out_total"))
        .collect();
    if ixfr_ok < 6 || axfr_ok < 2 {
        s.fail(&format!(
            "/metrics should count at least 6 IXFRs and 2 AXFRs served, got IXFR ok \
             {ixfr_ok}, AXFR ok {axfr_ok}:\n{}",
            lines.join("\n")
        ));
    }
    eprintln!("{}", lines.join("\n"));
    eprintln!("interop scenario passed in {:?}", started.elapsed());
}

#[test]
fn bind_and_knot_follow_tandem_by_notify_and_ixfr() {
    if !require_tool("named") || !require_tool("knotd") {
        return;
    }
    scenario(None);
}

#[test]

fn bind_and_knot_follow_tandem_with_tsig_for_knot() {
    if !require_tool("named") || !require_tool("knotd") {
        return;
    }
    scenario(Some(TsigKey {
        name: "k1.example.".into(),
        algo: "hmac-sha256".into(),
        // 32 bytes, base64.
        secret: "dGFuZGVtLWludGVyb3AtdHNpZy1zZWNyZXQtMzJiISE=".into(),
    }));
}
