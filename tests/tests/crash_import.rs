//! `kill -9` at random moments of a large import (PRODUCT.md §4): after each restart the zone
//! is wholly at one committed serial — the one before the import or the imported one — and
//! what it serves over DNS and lists over the API are that serial's records, nothing mixed.

use domain::base::iana::Rtype;
use std::time::Instant;
use tandem_tests::dns::{self, rcode, Query};
use tandem_tests::{Api, Checks, Tandem};

const ZONE: &str = "crash-import.test";
const RECORDS: usize = 200_000;

/// A zone of `count` A records named `{prefix}{i}`, at `serial`.
fn zone_text(prefix: &str, count: usize, serial: u32) -> String {
    let mut t = format!(
        "$ORIGIN {ZONE}.\n@ 3600 SOA ns1 hostmaster {serial} 7200 3600 1209600 300\n\
         @ 3600 NS ns1\nns1 3600 A 192.0.2.1\n"
    );
    for i in 0..count {
        t.push_str(&format!(
            "{prefix}{i} 300 A 10.{}.{}.{}\n",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        ));
    }
    t
}

/// One committed state of the zone: its serial, a record prefix and how many it has.
#[derive(Clone, Copy, Debug)]
struct State {
    serial: u32,
    prefix: &'static str,
    count: usize,
}

/// Uploads an import without waiting for or needing its answer (the server may die first).
fn start_import(api: Api, zone_id: &str, text: String) -> std::thread::JoinHandle<()> {
    let path = tandem_tests::api::import_path(zone_id, true);
    std::thread::spawn(move || {
        let (content_type, body) = tandem_tests::api::import_body(&text);
        let _ = api.try_request("POST", &path, Some(&content_type), &body);
    })
}

fn served_serial(t: &Tandem) -> Option<u32> {
    let r = dns::udp(t.dns(), &Query::new(&format!("{ZONE}."), Rtype::SOA));
    let soa = r.answer().first()?.clone();
    let mut pos = 0;
    for _ in 0..2 {
        while soa.rdata[pos] != 0 {
            pos += usize::from(soa.rdata[pos]) + 1;
        }
        pos += 1;
    }
    Some(u32::from_be_bytes(soa.rdata[pos..pos + 4].try_into().ok()?))
}

/// The code and A addresses served for `name`.
fn a_of(t: &Tandem, name: &str) -> (u16, usize) {
    let r = dns::udp(t.dns(), &Query::new(&format!("{name}.{ZONE}."), Rtype::A));
    (r.rcode(), r.answer().len())
}

/// Records the API lists for the zone.
fn listed(t: &Tandem, zone_id: &str) -> u64 {
    let path = format!("/zones/{zone_id}/dns_records?per_page=1");
    let v = tandem_tests::api::expect_success(&path, &t.api().get(&path));
    v["result_info"]["total_count"].as_u64().unwrap_or(u64::MAX)
}

/// Everything the server shows agrees with `s`, and nothing of `other`.
fn check_state(c: &mut Checks, t: &Tandem, zone_id: &str, s: State, other: State, when: &str) {
    let api_serial = t.api().soa_serial(zone_id);
    c.check(api_serial == s.serial, || {
        format!(
            "{when}: the API's SOA serial {api_serial}, served {}",
            s.serial
        )
    });
    // SOA, NS and the glue A besides the state's own records.
    let count = listed(t, zone_id);
    c.check(count == s.count as u64 + 3, || {
        format!(
            "{when}: {count} records listed at serial {}, want {}",
            s.serial,
            s.count + 3
        )
    });
    for i in [0, s.count / 2, s.count - 1] {
        let got = a_of(t, &format!("{}{i}", s.prefix));
        c.check(got == (rcode::NOERROR, 1), || {
            format!("{when}: {}{i} at serial {}: {got:?}", s.prefix, s.serial)
        });
    }
    if other.prefix != s.prefix {
        for i in [0, other.count - 1] {
            let got = a_of(t, &format!("{}{i}", other.prefix));
            c.check(got.0 == rcode::NXDOMAIN, || {
                format!(
                    "{when}: {}{i} of serial {} still served: {got:?}",
                    other.prefix, other.serial
                )
            });
        }
    }
}

#[test]
fn kill_9_during_a_large_import_leaves_one_whole_serial() {
    let mut t = Tandem::start();
    let api = t.api();
    let zone_id = api.create_zone(ZONE);
    let mut c = Checks::new();

    // The first two imports run to their end. The second replaces every record, as the
    // interrupted ones do: its time sets the range the kills are spread over.
    let first = State {
        serial: 10,
        prefix: "a",
        count: RECORDS,
    };
    api.import_ok(&zone_id, &zone_text("a", RECORDS, 10), true);
    check_state(&mut c, &t, &zone_id, first, first, "after the first import");
    let mut committed = State {
        serial: 11,
        prefix: "z",
        count: RECORDS,
    };
    let started = Instant::now();
    api.import_ok(&zone_id, &zone_text("z", RECORDS, 11), true);
    let took = started.elapsed();
    check_state(
        &mut c,
        &t,
        &zone_id,
        committed,
        first,
        "after the second import",
    );

    // From during the upload to past the commit.
    let moments = tandem_tests::process::KillMoments::new(took, 0.1, 1.3);
    let seed = moments.seed;
    let prefixes = ["b", "c", "d", "e"];
    let mut outcomes = Vec::new();
    for (round, prefix) in prefixes.iter().enumerate() {
        let delay = moments.at(round as u64);
        let next = State {
            serial: 20 + round as u32,
            prefix,
            count: RECORDS,
        };
        let upload = start_import(t.api(), &zone_id, zone_text(prefix, RECORDS, next.serial));
        std::thread::sleep(delay);
        t.kill9();
        let _ = upload.join();
        t.restart();
        let when = format!(
            "round {round} (seed {seed}, kill after {delay:?} of an import taking {took:?})"
        );
        let serial = served_serial(&t);
        let now = match serial {
            Some(s) if s == committed.serial => committed,
            Some(s) if s == next.serial => next,
            other => {
                c.check(false, || {
                    format!(
                        "{when}: serves serial {other:?}, neither {} nor {}",
                        committed.serial, next.serial
                    )
                });
                break;
            }
        };
        let other = if now.serial == next.serial {
            committed
        } else {
            next
        };
        check_state(&mut c, &t, &zone_id, now, other, &when);
        outcomes.push((delay, now.serial == next.serial));
        committed = now;
    }
    c.finish();
    // Which side of the commit each kill fell on, for whoever reads the output.
    tandem_tests::process::say(&format!(
        "kill -9 during imports of {RECORDS} records (import {took:?}): {outcomes:?} (true: the import had committed)"
    ));
}
