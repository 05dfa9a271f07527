//! A zone's incoming and outgoing transfer configuration (PRODUCT §1, §3): fields, PUT
//! semantics, the 30-peer limit and every other rule, the action endpoints (recorded, never
//! pretending a transfer happened), and restart.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{Harness, TOKEN};
use serde_json::{json, Value};
use tandem_api::ApiConfig;
use tandem_store::prelude::*;

/// `n` peers with an ip; answers their ids.
async fn peers(h: &Harness, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            h.peer(json!({"name": format!("p{i}"), "ip": format!("192.0.2.{}", i + 1)}))
                .await,
        );
    }
    ids
}

fn incoming(zone: &str) -> String {
    format!("/zones/{zone}/secondary_dns/incoming")
}

fn outgoing(zone: &str) -> String {
    format!("/zones/{zone}/secondary_dns/outgoing")
}

#[tokio::test]
async fn incoming_crud_and_put_defaults() {
    let h = Harness::new();
    let ids = peers(&h, 2).await;
    let zone = h.secondary_zone("sec.test").await;
    let created = h
        .ok(
            "POST",
            &incoming(&zone),
            Some(json!({"name": "sec.test.", "peers": ids, "auto_refresh_seconds": 3600})),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    let created_time = created["created_time"].as_str().unwrap().to_string();
    assert!(created_time.ends_with('Z'));
    // Each linked primary has a status entry, empty until the secondary role reports.
    let never: Vec<_> = ids
        .iter()
        .map(|p| {
            json!({"peer_id": p, "last_check_time": null, "last_result": null,
                   "last_transfer_time": null, "last_transfer_type": null,
                   "last_transfer_serial": null})
        })
        .collect();
    assert_eq!(
        created,
        json!({"id": id, "name": "sec.test", "peers": ids, "auto_refresh_seconds": 3600,
               "soa_serial": null, "checked_time": null, "created_time": created_time,
               "modified_time": created_time, "state": "pending", "expires_time": null,
               "next_refresh_time": null, "last_transfer_peer_id": null,
               "peer_status": never})
    );
    assert_eq!(h.ok("GET", &incoming(&zone), None).await, created);
    assert_eq!(
        h.events.take(),
        vec![
            format!("account_config_changed:{}", h.account_id()),
            format!("account_config_changed:{}", h.account_id()),
            format!("zone_config_changed:{zone}"),
        ]
    );

    // PUT replaces: auto_refresh_seconds left out returns to 86400; float numbers are fine.
    let put = h
        .ok("PUT", &incoming(&zone), Some(json!({"peers": [ids[1]]})))
        .await;
    assert_eq!(put["peers"], json!([ids[1]]));
    assert_eq!(put["auto_refresh_seconds"], 86400);
    assert_eq!(put["id"], id.as_str());
    assert_eq!(put["created_time"], created_time.as_str());
    assert!(put["modified_time"].as_str().unwrap() >= created_time.as_str());
    let put = h
        .ok(
            "PUT",
            &incoming(&zone),
            Some(json!({"name": "SEC.test", "peers": [ids[1], ids[0]], "auto_refresh_seconds": 600.0})),
        )
        .await;
    assert_eq!(put["peers"], json!([ids[1], ids[0]]), "order kept");
    assert_eq!(put["auto_refresh_seconds"], 600);
    assert_eq!(h.ok("GET", &incoming(&zone), None).await, put);

    assert_eq!(
        h.ok("DELETE", &incoming(&zone), None).await,
        json!({"id": id})
    );
    let message = h
        .fails(StatusCode::NOT_FOUND, "GET", &incoming(&zone), None)
        .await;
    assert!(message.contains("POST"), "{message}");
    h.fails(StatusCode::NOT_FOUND, "DELETE", &incoming(&zone), None)
        .await;
    h.fails(
        StatusCode::NOT_FOUND,
        "PUT",
        &incoming(&zone),
        Some(json!({"peers": ids})),
    )
    .await;
}

#[tokio::test]
async fn incoming_rules() {
    let h = Harness::new();
    let ids = peers(&h, 31).await;
    let no_ip = h.peer(json!({"name": "hidden"})).await;
    let other = h.store.create_account("other").unwrap();
    let foreign = h
        .ok(
            "POST",
            &format!("/accounts/{}/secondary_dns/peers", other.id),
            Some(json!({"name": "theirs", "ip": "198.51.100.1"})),
        )
        .await;
    let zone = h.secondary_zone("sec.test").await;
    let full = h.zone("full.test").await;
    let good = json!({"peers": [ids[0]], "auto_refresh_seconds": 300});

    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "POST",
            &incoming(&full),
            Some(good.clone()),
        )
        .await;
    assert!(message.contains("full zone"), "{message}");
    h.fails(StatusCode::BAD_REQUEST, "GET", &incoming(&full), None)
        .await;

    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"auto_refresh_seconds": 300}),
            "peers: ",
            "at least one",
        ),
        (json!({"peers": []}), "peers: ", "at least one"),
        (json!({"peers": ids}), "peers: ", "at most 30"),
        (json!({"peers": [ids[0], ids[0]]}), "peers[1]: ", "twice"),
        (
            json!({"peers": ["0123456789abcdef0123456789abcdef"]}),
            "peers[0]: ",
            "no peer",
        ),
        (
            json!({"peers": [ids[0], foreign["id"]]}),
            "peers[1]: ",
            "no peer",
        ),
        (json!({"peers": [no_ip]}), "peers[0]: ", "no ip"),
        (json!({"peers": "abc"}), "peers: ", ""),
        (
            json!({"peers": [ids[0]], "auto_refresh_seconds": 299}),
            "auto_refresh_seconds: ",
            "300 to 2419200",
        ),
        (
            json!({"peers": [ids[0]], "auto_refresh_seconds": 2419201}),
            "auto_refresh_seconds: ",
            "300",
        ),
        (
            json!({"peers": [ids[0]], "auto_refresh_seconds": -1}),
            "auto_refresh_seconds: ",
            "",
        ),
        (
            json!({"peers": [ids[0]], "auto_refresh_seconds": 300.5}),
            "auto_refresh_seconds: ",
            "",
        ),
        (
            json!({"peers": [ids[0]], "name": "other.test"}),
            "name: ",
            "sec.test",
        ),
    ];
    for (body, prefix, needle) in cases {
        let message = h
            .fails(
                StatusCode::BAD_REQUEST,
                "POST",
                &incoming(&zone),
                Some(body.clone()),
            )
            .await;
        assert!(message.starts_with(prefix), "{body}: {message}");
        assert!(message.contains(needle), "{body}: {message}");
    }
    // A rejected request changed nothing.
    assert!(h.store.incoming_config(&zone).unwrap().is_none());
    h.fails(StatusCode::NOT_FOUND, "GET", &incoming(&zone), None)
        .await;

    // 30 peers are fine; a second POST is refused; PUT with 31 changes nothing.
    let thirty = &ids[..30];
    let v = h
        .ok("POST", &incoming(&zone), Some(json!({"peers": thirty})))
        .await;
    assert_eq!(v["peers"].as_array().unwrap().len(), 30);
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "POST",
            &incoming(&zone),
            Some(good.clone()),
        )
        .await;
    assert!(message.contains("already has"), "{message}");
    h.fails(
        StatusCode::BAD_REQUEST,
        "PUT",
        &incoming(&zone),
        Some(json!({"peers": ids})),
    )
    .await;
    assert_eq!(h.ok("GET", &incoming(&zone), None).await, v);
}

#[tokio::test]
async fn minimum_refresh_is_configurable() {
    let h = Harness::with_config(ApiConfig {
        min_refresh_seconds: 5,
        ..ApiConfig::default()
    });
    let ids = peers(&h, 1).await;
    let zone = h.secondary_zone("sec.test").await;
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "POST",
            &incoming(&zone),
            Some(json!({"peers": ids, "auto_refresh_seconds": 4})),
        )
        .await;
    assert!(message.contains("5 to 2419200"), "{message}");
    let v = h
        .ok(
            "POST",
            &incoming(&zone),
            Some(json!({"peers": ids, "auto_refresh_seconds": 5})),
        )
        .await;
    assert_eq!(v["auto_refresh_seconds"], 5);
}

#[tokio::test]
async fn outgoing_for_full_and_secondary_zones() {
    let h = Harness::new();
    let ids = peers(&h, 31).await;
    let no_ip = h.peer(json!({"name": "acl-only"})).await;
    let full = h.zone("full.test").await;
    let sec = h.secondary_zone("sec.test").await;

    let created = h
        .ok(
            "POST",
            &outgoing(&full),
            Some(json!({"name": "full.test.", "peers": [ids[0], no_ip]})),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let created_time = created["created_time"].as_str().unwrap().to_string();
    // One status entry per linked peer, empty until the primary role acts.
    let fresh_status: Vec<_> = [ids[0].clone(), no_ip.clone()]
        .iter()
        .map(|p| {
            json!({"peer_id": p, "last_notify_time": null, "last_notify_result": null,
                   "last_transfer_time": null, "last_transfer_type": null,
                   "last_transfer_serial": null})
        })
        .collect();
    assert_eq!(
        created,
        json!({"id": id, "name": "full.test", "peers": [ids[0], no_ip], "soa_serial": 1,
               "checked_time": null, "created_time": created_time,
               "last_transferred_time": null, "enabled": false,
               "peer_status": fresh_status})
    );
    assert_eq!(h.ok("GET", &outgoing(&full), None).await, created);
    assert_eq!(
        h.ok("GET", &format!("{}/status", outgoing(&full)), None)
            .await,
        "Disabled"
    );
    // A secondary zone that feeds further secondaries; no serial before its first transfer.
    let chained = h
        .ok(
            "POST",
            &outgoing(&sec),
            Some(json!({"name": "sec.test", "peers": []})),
        )
        .await;
    assert_eq!(chained["soa_serial"], json!(null));
    assert_eq!(chained["peers"], json!([]));

    for (body, prefix) in [
        (json!({"peers": ids}), "peers: "),
        (json!({"peers": [ids[1], ids[1]]}), "peers[1]: "),
        (json!({"peers": ["nope"]}), "peers[0]: "),
        (json!({"name": "x.test", "peers": []}), "name: "),
    ] {
        let message = h
            .fails(
                StatusCode::BAD_REQUEST,
                "PUT",
                &outgoing(&full),
                Some(body.clone()),
            )
            .await;
        assert!(message.starts_with(prefix), "{body}: {message}");
    }
    assert_eq!(h.ok("GET", &outgoing(&full), None).await, created);
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "POST",
            &outgoing(&full),
            Some(json!({"peers": []})),
        )
        .await;
    assert!(message.contains("already has"), "{message}");

    // PUT replaces the peers (left out: none); enabled stays.
    h.ok("POST", &format!("{}/enable", outgoing(&full)), None)
        .await;
    let put = h
        .ok("PUT", &outgoing(&full), Some(json!({"peers": ids[..30]})))
        .await;
    assert_eq!(put["peers"].as_array().unwrap().len(), 30);
    assert_eq!(put["enabled"], true);
    let put = h.ok("PUT", &outgoing(&full), Some(json!({}))).await;
    assert_eq!(put["peers"], json!([]));
    assert_eq!(put["created_time"], created_time.as_str());

    h.events.take();
    assert_eq!(
        h.ok("DELETE", &outgoing(&full), None).await,
        json!({"id": id})
    );
    assert_eq!(
        h.events.take(),
        vec![
            format!("outgoing_disabled:{full}"),
            format!("zone_config_changed:{full}")
        ]
    );
    h.fails(StatusCode::NOT_FOUND, "GET", &outgoing(&full), None)
        .await;
    h.fails(
        StatusCode::NOT_FOUND,
        "GET",
        &format!("{}/status", outgoing(&full)),
        None,
    )
    .await;
}

/// POSTs an action with a raw body and content type; answers status and envelope.
async fn action(h: &Harness, path: &str, body: &'static str, json: bool) -> (StatusCode, Value) {
    let mut req = Request::post(format!("/client/v4{path}"))
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    if json {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let (status, bytes) = h.send(req.body(Body::from(body)).unwrap()).await;
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn actions_are_recorded_and_take_any_body() {
    let h = Harness::new();
    let ids = peers(&h, 1).await;
    let full = h.zone("full.test").await;
    let sec = h.secondary_zone("sec.test").await;
    let out = outgoing(&full);

    // Without a configuration there is nothing to act on.
    for path in ["enable", "disable", "force_notify"] {
        h.fails(
            StatusCode::NOT_FOUND,
            "POST",
            &format!("{out}/{path}"),
            None,
        )
        .await;
    }
    h.ok("POST", &out, Some(json!({"peers": ids}))).await;
    h.events.take();

    let bodies: [(&str, bool); 6] = [
        ("", false),
        ("", true),
        ("{}", true),
        ("{\"anything\": [1, 2]}", true),
        ("null", true),
        ("not json at all", false),
    ];
    // Disabled: force_notify would make peers ask for refused transfers.
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "POST",
            &format!("{out}/force_notify"),
            None,
        )
        .await;
    assert!(
        message.contains("disabled") && message.contains("enable"),
        "{message}"
    );
    for (body, json) in bodies {
        let (status, v) = action(&h, &format!("{out}/enable"), body, json).await;
        assert_eq!(
            (status, &v["result"]),
            (StatusCode::OK, &json!("Enabled")),
            "{body}"
        );
        assert_eq!(h.ok("GET", &format!("{out}/status"), None).await, "Enabled");
        let (status, v) = action(&h, &format!("{out}/force_notify"), body, json).await;
        assert_eq!(
            (status, &v["result"]),
            (StatusCode::OK, &json!("OK")),
            "{body}"
        );
        let (status, v) = action(&h, &format!("{out}/disable"), body, json).await;
        assert_eq!(
            (status, &v["result"]),
            (StatusCode::OK, &json!("Disabled")),
            "{body}"
        );
        assert_eq!(
            h.ok("GET", &format!("{out}/status"), None).await,
            "Disabled"
        );
        assert_eq!(h.ok("GET", &out, None).await["enabled"], false);
    }
    let events = h.events.take();
    assert_eq!(
        events[..3],
        [
            format!("outgoing_enabled:{full}"),
            format!("notify_requested:{full}"),
            format!("outgoing_disabled:{full}")
        ]
    );
    assert_eq!(events.len(), 18);
    // Enabling twice notifies once; disabling always clears the backlog.
    h.ok("POST", &format!("{out}/enable"), None).await;
    h.ok("POST", &format!("{out}/enable"), None).await;
    h.ok("POST", &format!("{out}/disable"), None).await;
    h.ok("POST", &format!("{out}/disable"), None).await;
    assert_eq!(
        h.events.take(),
        vec![
            format!("outgoing_enabled:{full}"),
            format!("outgoing_disabled:{full}"),
            format!("outgoing_disabled:{full}")
        ]
    );
    let stored = h.store.outgoing_config(&full).unwrap().unwrap();
    assert!(
        stored.notify_requested.is_some(),
        "force_notify is recorded"
    );
    assert!(
        stored.last_transferred_time.is_none(),
        "no transfer is pretended"
    );

    // force_axfr: secondary zones with an incoming configuration only.
    let axfr = format!("/zones/{sec}/secondary_dns/force_axfr");
    h.fails(StatusCode::NOT_FOUND, "POST", &axfr, None).await;
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "POST",
            &format!("/zones/{full}/secondary_dns/force_axfr"),
            None,
        )
        .await;
    assert!(message.contains("full zone"), "{message}");
    h.ok("POST", &incoming(&sec), Some(json!({"peers": ids})))
        .await;
    h.events.take();
    for (body, json) in bodies {
        let (status, v) = action(&h, &axfr, body, json).await;
        assert_eq!(
            (status, &v["result"]),
            (StatusCode::OK, &json!("OK")),
            "{body}"
        );
    }
    assert_eq!(h.events.take()[0], format!("axfr_requested:{sec}"));
    let stored = h.store.incoming_config(&sec).unwrap().unwrap();
    assert!(stored.axfr_requested.is_some(), "force_axfr is recorded");
    let shown = h.ok("GET", &incoming(&sec), None).await;
    assert_eq!(shown["state"], "pending", "no transfer is pretended");
    assert_eq!(shown["soa_serial"], json!(null));
    let zone = h.ok("GET", &format!("/zones/{sec}"), None).await;
    assert_eq!(zone["status"], "pending");
}

#[tokio::test]
async fn configuration_survives_a_restart() {
    let h = Harness::with_config(ApiConfig {
        min_refresh_seconds: 60,
        ..ApiConfig::default()
    });
    let account = h.account_id();
    let key = h
        .ok(
            "POST",
            &format!("/accounts/{account}/secondary_dns/tsigs"),
            Some(json!({"name": "k.", "algo": "hmac-sha384"})),
        )
        .await;
    let primary = h
        .peer(json!({"name": "primary", "ip": "192.0.2.1", "port": 5300, "ixfr_enable": true, "tsig_id": key["id"]}))
        .await;
    let secondary = h
        .peer(json!({"name": "secondary", "ip": "2001:db8::2"}))
        .await;
    h.ok(
        "POST",
        &format!("/accounts/{account}/secondary_dns/acls"),
        Some(json!({"name": "lan", "ip_range": "198.51.100.0/24"})),
    )
    .await;
    let full = h.zone("full.test").await;
    let sec = h.secondary_zone("sec.test").await;
    h.ok(
        "POST",
        &incoming(&sec),
        Some(json!({"peers": [primary], "auto_refresh_seconds": 60})),
    )
    .await;
    h.ok("POST", &outgoing(&sec), Some(json!({"peers": [secondary]})))
        .await;
    h.ok(
        "POST",
        &outgoing(&full),
        Some(json!({"peers": [secondary, primary]})),
    )
    .await;
    h.ok("POST", &format!("{}/enable", outgoing(&full)), None)
        .await;
    h.ok(
        "POST",
        &format!("/zones/{sec}/secondary_dns/force_axfr"),
        None,
    )
    .await;
    let (_, read_token) = h
        .store
        .create_token(Some(&account), "r", tandem_store::Permission::Read)
        .unwrap();

    let paths = [
        format!("/accounts/{account}/secondary_dns/peers"),
        format!("/accounts/{account}/secondary_dns/tsigs"),
        format!("/accounts/{account}/secondary_dns/acls"),
        incoming(&sec),
        outgoing(&sec),
        outgoing(&full),
        format!("{}/status", outgoing(&full)),
        format!("/accounts/{account}/tokens"),
    ];
    let mut before = Vec::new();
    for p in &paths {
        before.push(h.ok("GET", p, None).await);
    }
    let requested = h
        .store
        .incoming_config(&sec)
        .unwrap()
        .unwrap()
        .axfr_requested;
    let h = h.reopen();
    for (p, want) in paths.iter().zip(&before) {
        assert_eq!(&h.ok("GET", p, None).await, want, "{p}");
    }
    assert_eq!(
        h.ok("GET", &format!("{}/status", outgoing(&full)), None)
            .await,
        "Enabled"
    );
    assert!(requested.is_some());
    assert_eq!(
        h.store
            .incoming_config(&sec)
            .unwrap()
            .unwrap()
            .axfr_requested,
        requested
    );
    h.ok_as(&read_token, "GET", &incoming(&sec), None).await;
}
