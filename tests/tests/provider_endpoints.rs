//! The provider's endpoints its tools touch besides records (issue 11, item 4), against the
//! real binary: `PATCH /zones/{id}` keeps `paused` and changes nothing DNS answers, the token
//! checks answer the calling token, pagerules is an empty list with a checked query, and the
//! legacy `X-Auth-Email` + `X-Auth-Key` headers carry a token like `Authorization: Bearer`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use domain::base::iana::Rtype;
use serde_json::{json, Value};
use tandem_tests::api::{expect_success, Api, HttpResponse};
use tandem_tests::dns::{self, Query, RrKey};
use tandem_tests::tandem::TOKEN;
use tandem_tests::{Checks, Tandem};

const ZONE: &str = "endpoints.test";

/// Every record DNS answers for the names and types the test looks at.
fn dns_view(t: &Tandem) -> Vec<(u16, Vec<RrKey>)> {
    [
        (ZONE, Rtype::SOA),
        (ZONE, Rtype::NS),
        ("www.endpoints.test.", Rtype::A),
    ]
    .iter()
    .map(|(name, rtype)| {
        let r = dns::udp(t.dns(), &Query::new(name, *rtype));
        let mut keys: Vec<RrKey> = r.answer().iter().map(|rr| rr.key()).collect();
        keys.sort();
        (r.rcode(), keys)
    })
    .collect()
}

fn patch(api: &Api, path: &str, body: &Value) -> HttpResponse {
    api.request(
        "PATCH",
        path,
        Some("application/json"),
        body.to_string().as_bytes(),
    )
}

fn first_message(resp: &HttpResponse) -> String {
    resp.json()["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A new account with a token of `permission`: (account id, token id, token value).
fn tenant(api: &Api, name: &str, permission: &str) -> (String, String, String) {
    let account = api.post_ok("/accounts", &json!({ "name": name }));
    let account = account["id"].as_str().unwrap().to_string();
    let token = api.post_ok(
        &format!("/accounts/{account}/tokens"),
        &json!({"name": name, "permission": permission}),
    );
    (
        account,
        token["id"].as_str().unwrap().to_string(),
        token["value"].as_str().unwrap().to_string(),
    )
}

#[test]
fn patch_zone_keeps_paused_and_dns_answers_stay_the_same() {
    let t = Tandem::start();
    let api = t.api();
    let zone = t.load_zone(
        ZONE,
        "$ORIGIN endpoints.test.\n@ 3600 IN SOA ns1 hostmaster 7 7200 3600 1209600 300\n\
         @ 3600 IN NS ns1\nns1 300 IN A 192.0.2.53\nwww 300 IN A 192.0.2.80\n",
    );
    let path = format!("/zones/{zone}");
    let before = dns_view(&t);
    let serial = api.soa_serial(&zone);
    let mut c = Checks::new();

    let resp = patch(&api, &path, &json!({"paused": true}));
    let zone_out = expect_success("PATCH paused", &resp)["result"].clone();
    c.eq(
        zone_out["paused"].clone(),
        json!(true),
        "PATCH answers the zone",
    );
    c.eq(api.get_ok(&path)["paused"].clone(), json!(true), "GET");
    c.eq(
        api.get_ok(&format!("/zones?name={ZONE}"))[0]["paused"].clone(),
        json!(true),
        "the zone list",
    );
    // The same PATCH twice: fine, and the zone object stays as it was.
    let again = expect_success("PATCH again", &patch(&api, &path, &json!({"paused": true})));
    c.eq(
        again["result"].clone(),
        zone_out.clone(),
        "the same PATCH again",
    );
    c.eq(api.soa_serial(&zone), serial, "no new serial");
    c.eq(dns_view(&t), before.clone(), "DNS answers while paused");

    // Refused changes name their field and write nothing.
    for (body, field) in [
        (json!({"paused": false, "type": "secondary"}), "type"),
        (
            json!({"vanity_name_servers": ["ns.example.net"]}),
            "vanity_name_servers",
        ),
        (json!({"plan": {"id": "free"}}), "plan"),
        (json!({"paused": false, "name": "other.test"}), "name"),
    ] {
        let resp = patch(&api, &path, &body);
        c.eq(resp.status, 400, &format!("{body}"));
        let message = first_message(&resp);
        c.check(message.starts_with(&format!("{field}: ")), || {
            format!("{body}: the message names {field}: {message}")
        });
    }
    c.eq(api.get_ok(&path), zone_out.clone(), "nothing was written");

    // A read token may not; another account's token finds no zone.
    let own = api.account_id();
    let reader = api.post_ok(
        &format!("/accounts/{own}/tokens"),
        &json!({"name": "reader", "permission": "read"}),
    );
    let reader = Api::new(t.api_addr(), reader["value"].as_str().unwrap());
    c.eq(
        patch(&reader, &path, &json!({"paused": false})).status,
        403,
        "read token",
    );
    let (_, _, other) = tenant(&api, "other", "write");
    let other = Api::new(t.api_addr(), &other);
    c.eq(
        patch(&other, &path, &json!({"paused": false})).status,
        404,
        "another account's zone",
    );
    c.eq(
        api.get_ok(&path)["paused"].clone(),
        json!(true),
        "still paused",
    );

    // Kept across a restart; unpausing changes no answer either.
    let mut t = t;
    t.restart();
    let api = t.api();
    c.eq(
        api.get_ok(&path)["paused"].clone(),
        json!(true),
        "after a restart",
    );
    let resp = patch(&api, &path, &json!({"paused": false}));
    c.eq(
        expect_success("unpause", &resp)["result"]["paused"].clone(),
        json!(false),
        "unpaused",
    );
    c.eq(
        api.soa_serial(&zone),
        serial,
        "no new serial after unpausing",
    );
    c.eq(dns_view(&t), before, "DNS answers after unpausing");
    c.finish();
}

#[test]
fn token_verify_and_pagerules_answer_like_the_provider() {
    let t = Tandem::start();
    let api = t.api();
    let zone = api.create_zone(ZONE);
    let mut c = Checks::new();

    let admin = api.get_ok("/user/tokens/verify");
    c.eq(admin["status"].clone(), json!("active"), "status");
    c.check(
        admin["id"].as_str().is_some_and(|id| id.len() == 32),
        || format!("the administrator token's id: {admin}"),
    );
    let (account, token_id, value) = tenant(&api, "verify", "read");
    let mine = Api::new(t.api_addr(), &value);
    c.eq(
        mine.get_ok("/user/tokens/verify"),
        json!({"id": token_id, "status": "active"}),
        "an account token",
    );
    c.eq(
        mine.get_ok(&format!("/accounts/{account}/tokens/verify")),
        json!({"id": token_id, "status": "active"}),
        "its own account",
    );
    let default = api.account_id();
    c.eq(
        mine.get(&format!("/accounts/{default}/tokens/verify"))
            .status,
        404,
        "an account it cannot see",
    );
    let bad = Api::new(t.api_addr(), "not-a-token");
    for path in [
        "/user/tokens/verify".to_string(),
        format!("/accounts/{account}/tokens/verify"),
    ] {
        let resp = bad.get(&path);
        c.eq(resp.status, 401, &path);
        let v = resp.json();
        c.check(
            v["success"] == json!(false) && v["errors"][0]["code"] == json!(10000),
            || format!("{path}: the provider's envelope: {v}"),
        );
    }

    let rules = format!("/zones/{zone}/pagerules");
    c.eq(
        api.get_ok(&format!("{rules}?status=active")),
        json!([]),
        "pagerules",
    );
    c.eq(
        api.get_ok(&format!(
            "{rules}?status=disabled&order=priority&direction=asc&match=all"
        )),
        json!([]),
        "pagerules with every parameter",
    );
    for (query, field) in [("?status=all", "status"), ("?page=1", "page")] {
        let resp = api.get(&format!("{rules}{query}"));
        c.eq(resp.status, 400, query);
        let message = first_message(&resp);
        c.check(message.starts_with(&format!("{field}: ")), || {
            format!("{query}: the message names {field}: {message}")
        });
    }
    c.eq(mine.get(&rules).status, 404, "another account's zone");
    c.finish();
}

#[test]
fn legacy_auth_headers_carry_a_tandem_token() {
    let t = Tandem::start();
    let api = t.api();
    let zone = api.create_zone(ZONE);
    let email = ("X-Auth-Email", "ops@example.com");
    let mut c = Checks::new();

    let resp = api.request_with("GET", "/zones", &[email, ("X-Auth-Key", TOKEN)], None, b"");
    let v = expect_success("X-Auth GET /zones", &resp);
    c.eq(v["result"][0]["id"].clone(), json!(zone), "the zone list");
    let body = json!({"paused": true}).to_string();
    let resp = api.request_with(
        "PATCH",
        &format!("/zones/{zone}"),
        &[email, ("X-Auth-Key", TOKEN)],
        Some("application/json"),
        body.as_bytes(),
    );
    c.eq(resp.status, 200, "a change with the legacy headers");

    for headers in [
        vec![("X-Auth-Key", TOKEN)],
        vec![email],
        vec![email, ("X-Auth-Key", "not-a-token")],
    ] {
        let resp = api.request_with("GET", "/zones", &headers, None, b"");
        c.eq(resp.status, 401, &format!("{headers:?}"));
    }
    let resp = api.request_with(
        "GET",
        "/zones",
        &[
            ("Authorization", "Bearer not-a-token"),
            email,
            ("X-Auth-Key", TOKEN),
        ],
        None,
        b"",
    );
    c.eq(resp.status, 401, "a bearer token decides alone");

    // /metrics (outside the API) takes the administrator's token the same way.
    let (status, text) = raw_get(t.api_addr(), "/metrics", &[email, ("X-Auth-Key", TOKEN)]);
    c.eq(status, 200, "/metrics with the legacy headers");
    c.check(text.contains("tandem_queries_total"), || {
        format!("no metrics: {text}")
    });
    let (status, _) = raw_get(t.api_addr(), "/metrics", &[("X-Auth-Key", TOKEN)]);
    c.eq(status, 401, "/metrics with the key alone");
    c.finish();
}

/// `GET path` on `addr` outside `/client/v4` with exactly `headers`: status and body text.
fn raw_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}
