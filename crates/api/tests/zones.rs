//! Zones, accounts, authentication, routing, limits and restart, through the HTTP router.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{error, Harness, TOKEN};
use serde_json::json;
use tandem_api::ApiConfig;
use tandem_store::prelude::*;
use tandem_store::Permission;

#[tokio::test]
async fn new_full_zone_gets_soa_and_ns_and_is_served() {
    let h = Harness::new();
    let (status, v) = h
        .call("POST", "/zones", Some(json!({"name": "Example.COM."})))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let zone = &v["result"];
    assert_eq!(zone["name"], "example.com");
    assert_eq!(zone["status"], "active");
    assert_eq!(zone["type"], "full");
    assert_eq!(zone["account"]["name"], "default");
    assert_eq!(zone["name_servers"], json!(["ns1.example.com"]));
    let id = zone["id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(zone["created_on"].as_str().unwrap().ends_with('Z'));

    let records = h.records(id).await;
    assert_eq!(records.len(), 2);
    let soa = records.iter().find(|r| r["type"] == "SOA").unwrap();
    assert_eq!(soa["name"], "example.com");
    assert_eq!(
        soa["content"],
        "ns1.example.com hostmaster.example.com 1 7200 3600 1209600 300"
    );
    let ns = records.iter().find(|r| r["type"] == "NS").unwrap();
    assert_eq!(ns["content"], "ns1.example.com");
    h.assert_serial(id, "example.com", 1).await;

    // Names are unique on the server.
    let (status, v) = h
        .call("POST", "/zones", Some(json!({"name": "example.com"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).starts_with("name: "), "{v}");
}

#[tokio::test]
async fn configured_defaults_are_used() {
    let h = Harness::with_config(ApiConfig {
        default_ns: vec!["a.ns.example.net".into(), "b.ns.example.net.".into()],
        default_soa_rname: Some("dns.example.net".into()),
        ..ApiConfig::default()
    });
    let id = h.zone("example.org").await;
    let records = h.records(&id).await;
    let soa = records.iter().find(|r| r["type"] == "SOA").unwrap();
    assert_eq!(
        soa["content"],
        "a.ns.example.net dns.example.net 1 7200 3600 1209600 300"
    );
    assert_eq!(records.iter().filter(|r| r["type"] == "NS").count(), 2);
}

#[tokio::test]
async fn zone_list_get_delete() {
    let h = Harness::new();
    for n in ["a.test", "b.test", "c.test"] {
        h.zone(n).await;
    }
    let (status, v) = h.call("GET", "/zones?per_page=2&page=2", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["result"].as_array().unwrap().len(), 1);
    assert_eq!(v["result"][0]["name"], "c.test");
    assert_eq!(
        v["result_info"],
        json!({"page": 2, "per_page": 2, "count": 1, "total_count": 3, "total_pages": 2})
    );
    let (_, v) = h.call("GET", "/zones?name=b.test.", None).await;
    assert_eq!(v["result"].as_array().unwrap().len(), 1);
    let id = v["result"][0]["id"].as_str().unwrap().to_string();
    let (status, v) = h.call("GET", &format!("/zones/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["result"]["name"], "b.test");

    let (status, v) = h.call("DELETE", &format!("/zones/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"], json!({"id": id}));
    assert!(h
        .zones
        .get(&tandem_zone::Name::parse("b.test").unwrap())
        .is_none());
    let (status, v) = h.call("GET", &format!("/zones/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error(&v);
    let (status, _) = h.call("DELETE", &format!("/zones/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The name is free again.
    h.zone("b.test").await;
}

#[tokio::test]
async fn secondary_zone_is_pending_and_read_only() {
    let h = Harness::new();
    let (status, v) = h
        .call(
            "POST",
            "/zones",
            Some(json!({"name": "sec.test", "type": "secondary"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["type"], "secondary");
    assert_eq!(v["result"]["status"], "pending");
    let id = v["result"]["id"].as_str().unwrap().to_string();
    let served = h
        .zones
        .get(&tandem_zone::Name::parse("sec.test").unwrap())
        .unwrap();
    assert!(served.current().is_none());
    let (status, v) = h
        .call(
            "POST",
            &format!("/zones/{id}/dns_records"),
            Some(json!({"type": "A", "name": "www", "content": "192.0.2.1"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).contains("secondary"));
    let (status, v) = h
        .call(
            "POST",
            "/zones",
            Some(json!({"name": "x.test", "type": "primary"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).starts_with("type: "));
}

#[tokio::test]
async fn accounts_and_tokens() {
    let h = Harness::new();
    let (status, v) = h.call("GET", "/accounts", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["result"][0]["name"], "default");
    assert_eq!(v["result_info"]["total_count"], 1);

    for token in [None, Some("wrong")] {
        let (status, v) = h.call_as(token, "GET", "/zones", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(v["errors"][0]["code"], 10000);
        assert_eq!(v["success"], false);
    }

    // A read token of the default account sees but cannot change.
    let account = h.store.default_account().unwrap();
    let (_, read) = h
        .store
        .create_token(Some(&account.id), "reader", Permission::Read)
        .unwrap();
    let id = h.zone("example.com").await;
    let (status, v) = h
        .call_as(Some(&read), "GET", &format!("/zones/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, _) = h
        .call_as(Some(&read), "DELETE", &format!("/zones/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = h
        .call_as(
            Some(&read),
            "POST",
            "/zones",
            Some(json!({"name": "r.test"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Another account's token sees nothing of the default account.
    let other = h.store.create_account("other").unwrap();
    let (_, write) = h
        .store
        .create_token(Some(&other.id), "w", Permission::Write)
        .unwrap();
    let (status, _) = h
        .call_as(Some(&write), "GET", &format!("/zones/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, v) = h.call_as(Some(&write), "GET", "/zones", None).await;
    assert_eq!(v["result_info"]["total_count"], 0);
    let (_, v) = h.call_as(Some(&write), "GET", "/accounts", None).await;
    assert_eq!(v["result"].as_array().unwrap().len(), 1);
    assert_eq!(v["result"][0]["name"], "other");
    let (status, v) = h
        .call_as(
            Some(&write),
            "POST",
            "/zones",
            Some(json!({"name": "o.test"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["result"]["account"]["id"], other.id.as_str());
    let (status, v) = h
        .call_as(
            Some(&write),
            "POST",
            "/zones",
            Some(json!({"name": "p.test", "account": {"id": account.id}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).starts_with("account.id: "));
}

#[tokio::test]
async fn openapi_lists_every_path() {
    let h = Harness::new();
    let (status, v) = h.call_as(None, "GET", "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = v["paths"].as_object().unwrap();
    for p in [
        "/client/v4/accounts",
        "/client/v4/zones",
        "/client/v4/zones/{zone_id}",
        "/client/v4/zones/{zone_id}/dns_records",
        "/client/v4/zones/{zone_id}/dns_records/{record_id}",
        "/client/v4/zones/{zone_id}/dns_records/import",
        "/client/v4/zones/{zone_id}/dns_records/export",
        "/client/v4/zones/{zone_id}/dns_records/batch",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    let rec = &paths["/client/v4/zones/{zone_id}/dns_records/{record_id}"];
    for m in ["get", "put", "patch", "delete"] {
        assert!(rec.get(m).is_some(), "{m}");
    }
    assert!(v["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn bad_requests_get_the_envelope() {
    let h = Harness::with_config(ApiConfig {
        json_body_limit: 1024,
        max_body_bytes: 2048,
        ..ApiConfig::default()
    });
    let (status, v) = h.call("GET", "/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error(&v);
    let (status, v) = h.call("PUT", "/zones", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    error(&v);
    let (status, v) = h.call("POST", "/zones", Some(json!({"name": 5}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).starts_with("name: invalid type"), "{v}");
    let (status, v) = h.call("POST", "/zones", Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).contains("name"), "{v}");
    let (status, v) = h.call("GET", "/zones?page=zero", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).starts_with("page: "), "{v}");

    // Malformed JSON, without a content type.
    let req = Request::post("/client/v4/zones")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::from("{\"name\": "))
        .unwrap();
    let (status, body) = h.send(req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    error(&v);

    // Oversized JSON and imports: 413 in the envelope, nothing written.
    let big = "x".repeat(2000);
    let (status, v) = h.call("POST", "/zones", Some(json!({"name": big}))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    error(&v);
    let id = h.zone("example.com").await;
    let text = "big TXT \"".to_string() + &"y".repeat(200) + "\"\n";
    let (status, v) = h.import(&id, &text.repeat(20), false).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    error(&v);
    assert_eq!(h.records(&id).await.len(), 2);
}

#[tokio::test]
async fn restart_serves_the_last_committed_serial() {
    let h = Harness::new();
    let id = h.zone("example.com").await;
    for i in 0..3 {
        let (status, _) = h
            .call(
                "POST",
                &format!("/zones/{id}/dns_records"),
                Some(json!({"type": "A", "name": format!("h{i}"), "content": "192.0.2.1"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    h.call(
        "POST",
        "/zones",
        Some(json!({"name": "sec.test", "type": "secondary"})),
    )
    .await;
    let before = h.records(&id).await;
    let h = h.reopen();
    h.assert_serial(&id, "example.com", 4).await;
    assert_eq!(common::shape(&h.records(&id).await), common::shape(&before));
    let apex = tandem_zone::Name::parse("example.com").unwrap();
    assert_eq!(
        h.zones
            .get(&apex)
            .unwrap()
            .current()
            .unwrap()
            .record_count(),
        5
    );
    let sec = h
        .zones
        .get(&tandem_zone::Name::parse("sec.test").unwrap())
        .unwrap();
    assert!(sec.current().is_none(), "secondary stays pending");
}

#[tokio::test]
async fn router_merges_with_other_routes() {
    use tower::ServiceExt;
    let h = Harness::new();
    // The router brings the dashboard at `/`; the binary adds `/metrics`.
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(|| async { "metrics" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "page not found") })
        .merge(h.app.clone());
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let resp = app.clone().oneshot(get("/metrics")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app.clone().oneshot(get("/")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app.clone().oneshot(get("/client/v4/nope")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["success"], false, "API paths keep the envelope");
    let resp = app.oneshot(get("/elsewhere")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn secondary_zone_records_are_read_only() {
    let h = Harness::new();
    let sec = h.secondary_zone("sec.test").await;
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "POST",
            &format!("/zones/{sec}/dns_records"),
            Some(json!({"type": "A", "name": "www", "content": "192.0.2.1"})),
        )
        .await;
    assert!(message.contains("read-only"), "{message}");
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "POST",
            &format!("/zones/{sec}/dns_records/batch"),
            Some(json!({"posts": [{"type": "A", "name": "www", "content": "192.0.2.1"}]})),
        )
        .await;
    assert!(message.contains("read-only"), "{message}");
    let (status, v) = h.import(&sec, "www 300 IN A 192.0.2.1\n", false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(error(&v).contains("read-only"), "{v}");
    assert!(h.records(&sec).await.is_empty());
}
