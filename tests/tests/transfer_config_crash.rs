//! Durability of the zone-transfer configuration (PRODUCT.md §4, issue 3): every peer, TSIG
//! key, ACL, incoming and outgoing configuration, enabled flag and token the API acknowledged
//! survives `kill -9` of the real binary.

use serde_json::{json, Value};
use tandem_tests::api::expect_success;
use tandem_tests::Tandem;

#[test]
fn transfer_configuration_survives_kill_9() {
    let mut t = Tandem::start_with(&["--min-refresh-seconds", "30"]);
    let api = t.api();
    let account = api.account_id();
    let base = format!("/accounts/{account}/secondary_dns");
    let key = api.post_ok(
        &format!("{base}/tsigs"),
        &json!({"name": "crash-key.", "algo": "hmac-sha384"}),
    );
    let primary = api.post_ok(
        &format!("{base}/peers"),
        &json!({"name": "primary", "ip": "127.0.0.21", "port": 5300, "ixfr_enable": true,
                "tsig_id": key["id"]}),
    );
    let secondary = api.post_ok(&format!("{base}/peers"), &json!({"name": "secondary"}));
    api.post_ok(
        &format!("{base}/acls"),
        &json!({"name": "lan", "ip_range": "2001:db8:5::/64"}),
    );
    let token = api.post_ok(
        &format!("/accounts/{account}/tokens"),
        &json!({"name": "ci", "permission": "read"}),
    );
    let full = api.create_zone("crash-full.test");
    let sec = api.post_ok(
        "/zones",
        &json!({"name": "crash-sec.test", "type": "secondary"}),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    api.post_ok(
        &format!("/zones/{sec}/secondary_dns/incoming"),
        &json!({"peers": [primary["id"]], "auto_refresh_seconds": 30}),
    );
    api.post_ok(
        &format!("/zones/{full}/secondary_dns/outgoing"),
        &json!({"peers": [secondary["id"], primary["id"]]}),
    );
    api.post_ok(
        &format!("/zones/{full}/secondary_dns/outgoing/enable"),
        &json!({}),
    );

    let paths = [
        format!("{base}/peers"),
        format!("{base}/tsigs"),
        format!("{base}/acls"),
        format!("/zones/{sec}/secondary_dns/incoming"),
        format!("/zones/{full}/secondary_dns/outgoing"),
        format!("/zones/{full}/secondary_dns/outgoing/status"),
        format!("/accounts/{account}/tokens"),
    ];
    let before: Vec<Value> = paths.iter().map(|p| api.get_ok(p)).collect();
    assert_eq!(before[5], "Enabled");

    // Nothing but the acknowledgements happened: no clean shutdown.
    t.kill9();
    t.restart();
    let api = t.api();
    for (p, want) in paths.iter().zip(&before) {
        assert_eq!(
            configuration(api.get_ok(p)),
            configuration(want.clone()),
            "GET {p} after kill -9"
        );
    }
    // The token made before the crash still works, read-only.
    let reader = tandem_tests::Api::new(t.api_addr(), token["value"].as_str().unwrap());
    expect_success("read token after restart", &reader.get(&paths[0]));
    let refused = reader.post_json(&format!("{base}/peers"), &json!({"name": "x"}));
    assert_eq!(refused.status, 403, "{}", refused.text());
}

/// What was configured, without the refresh status that changes by itself: every secondary
/// zone is SOA-checked right after a start, which moves its check times and next refresh.
fn configuration(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        for volatile in ["peer_status", "next_refresh_time", "checked_time"] {
            o.remove(volatile);
        }
    }
    v
}
