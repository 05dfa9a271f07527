//! API bad input (PRODUCT.md §3 "Errors", THREATS.md "From the API"): a rejected request is a
//! 400 whose message names the bad field or zone-file line, and it changes nothing.

use domain::base::iana::Rtype;
use serde_json::json;
use tandem_tests::api::{Api, HttpResponse};
use tandem_tests::dns::{self, rcode, Query};
use tandem_tests::{Checks, Tandem};

const ZONE: &str = "api.test";

const GOOD_FILE: &str = "$ORIGIN api.test.\n\
$TTL 3600\n\
@ IN SOA ns1.api.test. hostmaster.api.test. 5 7200 3600 1209600 300\n\
@ IN NS ns1\n\
ns1 IN A 192.0.2.53\n\
www IN A 192.0.2.1\n";

/// The zone's records and serial, as the API reports them.
fn state(api: &Api, zone_id: &str) -> (usize, u32) {
    (api.records(zone_id, "").len(), api.soa_serial(zone_id))
}

/// Checks a 400 with an unsuccessful envelope whose error message contains `needle`.
fn expect_400(c: &mut Checks, what: &str, resp: &HttpResponse, needle: &str) {
    let body: serde_json::Value =
        serde_json::from_slice(&resp.body).unwrap_or(serde_json::Value::Null);
    c.check(resp.status == 400, || {
        format!(
            "{what}: HTTP {}, expected 400: {}",
            resp.status,
            resp.text()
        )
    });
    c.check(body["success"] == json!(false), || {
        format!("{what}: envelope not success=false: {}", resp.text())
    });
    let message = resp.error_messages();
    c.check(
        message.to_lowercase().contains(&needle.to_lowercase()),
        || format!("{what}: error message should name {needle:?}: {message:?}"),
    );
}

fn setup() -> (Tandem, Api, String) {
    let t = Tandem::start();
    let api = t.api();
    let zone_id = api.create_zone(ZONE);
    api.import_ok(&zone_id, GOOD_FILE, true);
    (t, api, zone_id)
}

#[test]
fn zone_file_with_a_bad_line_is_rejected_whole_with_its_line_number() {
    let (t, api, zone_id) = setup();
    let mut c = Checks::new();
    let before = state(&api, &zone_id);
    let bad_files = [
        ("bad address", "$ORIGIN api.test.\n$TTL 300\na IN A 192.0.2.10\nb IN A 192.0.2.11\nc IN A 999.0.2.1\nd IN A 192.0.2.13\n", "line 5"),
        ("unknown type", "$ORIGIN api.test.\na IN A 192.0.2.10\nb IN BOGUSTYPE foo\n", "line 3"),
        ("missing rdata", "$ORIGIN api.test.\na IN A 192.0.2.10\nb IN MX\nc IN A 192.0.2.12\n", "line 3"),
        ("$INCLUDE of a local path", "$ORIGIN api.test.\na IN A 192.0.2.10\n$INCLUDE /etc/passwd\n", "line 3"),
        ("name outside the zone", "$ORIGIN api.test.\na IN A 192.0.2.10\nwww.other.test. IN A 192.0.2.11\n", "line 3"),
    ];
    for (what, file, line) in bad_files {
        for replace in [false, true] {
            let resp = api.import(&zone_id, file, replace);
            expect_400(
                &mut c,
                &format!("import ({what}, replace={replace})"),
                &resp,
                line,
            );
            c.eq(
                state(&api, &zone_id),
                before,
                &format!("records and serial after rejected import ({what}, replace={replace})"),
            );
        }
    }
    // Nothing of a rejected file is served.
    let r = dns::udp(t.dns(), &Query::new("a.api.test.", Rtype::A));
    c.check(r.rcode() == rcode::NXDOMAIN, || {
        format!("a.api.test from a rejected import is served\n{r}")
    });
    let r = dns::udp(t.dns(), &Query::new("www.api.test.", Rtype::A));
    c.check(r.rcode() == rcode::NOERROR && r.answer().len() == 1, || {
        format!("www.api.test lost\n{r}")
    });
    c.finish();
}

#[test]
fn malformed_json_and_bad_fields_are_400_naming_the_field() {
    let (_t, api, zone_id) = setup();
    let mut c = Checks::new();
    let before = state(&api, &zone_id);
    let records = format!("/zones/{zone_id}/dns_records");

    let resp = api.post_raw_json(&records, b"{\"type\": \"A\", \"name\": \"www\", ");
    c.check(resp.status == 400, || {
        format!("truncated JSON: HTTP {} {}", resp.status, resp.text())
    });
    let resp = api.post_raw_json("/zones", b"{\"name\": \"json.test\" \"type\": \"full\"}");
    c.check(resp.status == 400, || {
        format!("malformed JSON zone: HTTP {} {}", resp.status, resp.text())
    });

    let cases = [
        (
            "ttl as a string",
            json!({"type": "A", "name": "x", "content": "192.0.2.9", "ttl": "soon"}),
            "ttl",
        ),
        (
            "unknown record type",
            json!({"type": "BOGUS", "name": "x", "content": "192.0.2.9", "ttl": 300}),
            "type",
        ),
        (
            "content not an address",
            json!({"type": "A", "name": "x", "content": "not-an-address", "ttl": 300}),
            "content",
        ),
        (
            "name as a number",
            json!({"type": "A", "name": 42, "content": "192.0.2.9", "ttl": 300}),
            "name",
        ),
        (
            "name outside the zone",
            json!({"type": "A", "name": "www.other.test.", "content": "192.0.2.9", "ttl": 300}),
            "name",
        ),
        (
            "MX priority as a string",
            json!({"type": "MX", "name": "@", "content": "mail.api.test", "priority": "high", "ttl": 300}),
            "priority",
        ),
    ];
    for (what, body, field) in cases {
        let resp = api.post_json(&records, &body);
        expect_400(&mut c, what, &resp, field);
    }
    let zone =
        json!({"name": "bad zone name!", "account": {"id": api.account_id()}, "type": "full"});
    expect_400(
        &mut c,
        "zone name with spaces",
        &api.post_json("/zones", &zone),
        "name",
    );
    let zone =
        json!({"name": "typed.test", "account": {"id": api.account_id()}, "type": "primary"});
    expect_400(
        &mut c,
        "zone type not full/secondary",
        &api.post_json("/zones", &zone),
        "type",
    );

    c.eq(
        state(&api, &zone_id),
        before,
        "records and serial after rejected requests",
    );
    let listed = api.get_ok("/zones?name=json.test");
    c.check(listed.as_array().is_some_and(|a| a.is_empty()), || {
        format!("a zone was created by malformed JSON: {listed}")
    });

    let wrong = Api::new(api.addr, "not-the-token");
    let resp = wrong.get("/zones");
    c.eq(resp.status, 401, "GET /zones with a wrong token");
    c.finish();
}
