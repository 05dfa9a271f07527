//! THREATS.md, least exposure: `/metrics` tells what we host, so it needs the administrator
//! token unless `--metrics-public`; `/healthz` needs none and says whether DNS and the store
//! are up.

use serde_json::json;
use tandem_tests::api::{http_get, http_get_as};
use tandem_tests::tandem::TOKEN;
use tandem_tests::{Checks, Tandem};

#[test]
fn metrics_need_the_administrator_token() {
    let t = Tandem::start();
    let api = t.api();
    let mut c = Checks::new();

    let r = http_get(t.api_addr(), "/metrics");
    c.eq(r.status, 401, "/metrics without a token");
    c.check(r.json()["success"] == json!(false), || {
        format!("401 is an envelope: {}", r.text())
    });
    c.check(!r.text().contains("tandem_queries_total"), || {
        format!("401 shows metrics: {}", r.text())
    });
    let r = http_get_as(t.api_addr(), "/metrics", Some("not-a-token"));
    c.eq(r.status, 401, "/metrics with a wrong token");

    // An account's write token is not the administrator's.
    let account = api.request(
        "POST",
        "/accounts",
        Some("application/json"),
        br#"{"name":"tenant"}"#,
    );
    let account = account.json()["result"]["id"].as_str().unwrap().to_string();
    let token = api.request(
        "POST",
        &format!("/accounts/{account}/tokens"),
        Some("application/json"),
        br#"{"name":"w","permission":"write"}"#,
    );
    let token = token.json()["result"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http_get_as(t.api_addr(), "/metrics", Some(&token));
    c.eq(r.status, 403, "/metrics with an account's write token");

    let r = http_get_as(t.api_addr(), "/metrics", Some(TOKEN));
    c.eq(r.status, 200, "/metrics with the administrator token");
    c.check(r.text().contains("tandem_queries_total"), || {
        format!("no query counters: {}", r.text())
    });
    c.finish();
}

#[test]
fn metrics_public_serves_metrics_without_a_token() {
    let t = Tandem::start_with(&["--metrics-public"]);
    let r = http_get(t.api_addr(), "/metrics");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("tandem_queries_total"), "{}", r.text());
}

#[test]
fn healthz_says_dns_and_store_are_up_without_a_token() {
    let t = Tandem::start();
    let r = http_get(t.api_addr(), "/healthz");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"dns": "up", "store": "up"}));
}
