//! Durability (PRODUCT.md §4): a change the API acknowledged survives `kill -9`, and the
//! restarted server serves exactly the last committed serial.

use domain::base::iana::Rtype;
use serde_json::json;
use tandem_tests::dns::{self, rcode, Query, Response};
use tandem_tests::{Checks, Tandem};

const ZONE: &str = "crash.test";

/// The serial the server answers over DNS for the zone's SOA.
fn dns_serial(t: &Tandem) -> u32 {
    let r = dns::udp(t.dns(), &Query::new("crash.test.", Rtype::SOA));
    assert_eq!(r.rcode(), rcode::NOERROR, "SOA query\n{r}");
    let soa = r
        .answer()
        .first()
        .unwrap_or_else(|| panic!("no SOA in answer\n{r}"));
    assert_eq!(soa.rtype, Rtype::SOA, "{r}");
    // SOA RDATA: mname, rname (uncompressed here), then serial.
    let mut pos = 0;
    for _ in 0..2 {
        while soa.rdata[pos] != 0 {
            pos += usize::from(soa.rdata[pos]) + 1;
        }
        pos += 1;
    }
    u32::from_be_bytes(soa.rdata[pos..pos + 4].try_into().unwrap())
}

/// The answer records of `name type`, as RDATA bytes.
fn answer_rdata(t: &Tandem, name: &str, rtype: Rtype) -> (u16, Vec<Vec<u8>>) {
    let r: Response = dns::udp(t.dns(), &Query::new(name, rtype));
    (
        r.rcode(),
        r.answer()
            .iter()
            .filter(|a| a.rtype == rtype)
            .map(|a| a.rdata.clone())
            .collect(),
    )
}

fn record(rtype: &str, name: &str, content: &str) -> serde_json::Value {
    let mut v = json!({"type": rtype, "name": name, "content": content, "ttl": 300});
    if rtype == "MX" {
        v["priority"] = json!(10);
    }
    v
}

/// Every record these tests add, and the RDATA DNS must then answer with.
fn additions() -> Vec<(serde_json::Value, &'static str, Rtype, Vec<u8>)> {
    let mut mx = vec![0, 10];
    mx.extend(dns::raw::name("mail.crash.test."));
    let mut txt = vec![12];
    txt.extend(b"hello-tandem");
    vec![
        (
            record("A", "www", "192.0.2.1"),
            "www.crash.test.",
            Rtype::A,
            vec![192, 0, 2, 1],
        ),
        (
            record("AAAA", "www", "2001:db8::1"),
            "www.crash.test.",
            Rtype::AAAA,
            vec![0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        ),
        (
            record("A", "mail", "192.0.2.25"),
            "mail.crash.test.",
            Rtype::A,
            vec![192, 0, 2, 25],
        ),
        (
            record("MX", "@", "mail.crash.test"),
            "crash.test.",
            Rtype::MX,
            mx,
        ),
        (
            record("TXT", "note", "hello-tandem"),
            "note.crash.test.",
            Rtype::TXT,
            txt,
        ),
    ]
}

#[test]
fn acknowledged_changes_survive_kill_9() {
    let mut t = Tandem::start();
    let mut c = Checks::new();
    let api = t.api();
    let zone_id = api.create_zone(ZONE);
    let mut serial = api.soa_serial(&zone_id);
    c.eq(serial, 1, "serial of a new zone");
    let adds = additions();
    for (body, ..) in &adds {
        api.post_ok(&format!("/zones/{zone_id}/dns_records"), body);
        let next = api.soa_serial(&zone_id);
        c.eq(
            next,
            serial.wrapping_add(1),
            &format!("serial after adding {body}"),
        );
        serial = next;
    }
    // Nothing but the acknowledgements happened: no DNS query, no clean shutdown.
    t.kill9();
    t.restart();
    c.eq(
        dns_serial(&t),
        serial,
        "DNS serial after kill -9 and restart",
    );
    c.eq(
        t.api().soa_serial(&zone_id),
        serial,
        "API serial after kill -9 and restart",
    );
    for (body, name, rtype, rdata) in &adds {
        let (code, got) = answer_rdata(&t, name, *rtype);
        c.check(code == rcode::NOERROR && got.contains(rdata), || {
            format!("after kill -9: {name} {rtype} answered {} {got:02x?}, expected the record added by {body}", rcode::name(code))
        });
    }

    // A second round, killed right after the acknowledgement of a burst of changes.
    let api = t.api();
    for i in 0..20u8 {
        api.post_ok(
            &format!("/zones/{zone_id}/dns_records"),
            &record("A", &format!("burst{i}"), &format!("198.51.100.{i}")),
        );
    }
    let burst_serial = serial.wrapping_add(20);
    t.kill9();
    t.restart();
    c.eq(
        dns_serial(&t),
        burst_serial,
        "DNS serial after a burst and kill -9",
    );
    for i in 0..20u8 {
        let (code, got) = answer_rdata(&t, &format!("burst{i}.crash.test."), Rtype::A);
        c.check(
            code == rcode::NOERROR && got == vec![vec![198, 51, 100, i]],
            || format!("burst{i} A after kill -9: {} {got:?}", rcode::name(code)),
        );
    }
    c.finish();
}

#[test]
fn an_imported_zone_survives_kill_9() {
    let mut t = Tandem::start();
    let api = t.api();
    let zone_id = api.create_zone(tandem_tests::zones::ORIGIN);
    api.import_ok(&zone_id, &tandem_tests::zones::example_zone(), true);
    t.kill9();
    t.restart();
    let r = dns::udp(t.dns(), &Query::new("example.test.", Rtype::SOA));
    assert_eq!(r.rcode(), rcode::NOERROR, "{r}");
    assert!(
        r.answer().iter().any(|a| a.rdata.ends_with(&[
            0x78, 0xa3, 0xf1, 0x75, // serial 2024010101
            0, 0, 0x1c, 0x20, 0, 0, 0x0e, 0x10, 0, 0x12, 0x75, 0, 0, 0, 1, 0x2c
        ])),
        "SOA after restart is not the imported one\n{r}"
    );
    let r = dns::udp(t.dns(), &Query::new("c1.example.test.", Rtype::A));
    assert_eq!(r.answer().len(), 4, "CNAME chain after restart\n{r}");
    let r = dns::udp(
        t.dns(),
        &Query::new("unknown.example.test.", Rtype::from_int(65534)),
    );
    assert_eq!(
        r.answer()
            .iter()
            .map(|a| a.rdata.clone())
            .collect::<Vec<_>>(),
        vec![vec![0xab, 0xcd, 0xef]],
        "unknown type after restart\n{r}"
    );
}
