//! Request bodies: a JSON body is exactly one JSON value, `null` means absent, unknown fields
//! are ignored, bodies of GET and DELETE are ignored; a declared length above a route's limit
//! is refused before the body is read; a panicking handler is a 500 envelope.

mod common;

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use common::{Harness, TOKEN};
use serde_json::{json, Value};
use tandem_api::ApiConfig;
use tower::ServiceExt;

/// Sends `body` as-is with the administrator token and a JSON content type.
async fn raw(h: &Harness, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(format!("/client/v4{path}"))
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, bytes) = h.send(req).await;
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!("not JSON: {}", String::from_utf8_lossy(&bytes));
    });
    (status, v)
}

fn message(v: &Value) -> String {
    v["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn zone_count(h: &Harness) -> usize {
    h.ok("GET", "/zones", None).await.as_array().unwrap().len()
}

#[tokio::test]
async fn trailing_garbage_after_the_json_value_is_refused_naming_the_body() {
    let h = Harness::new();
    for body in [
        r#"{"name":"a.test"}xyz"#,
        r#"{"name":"a.test"}{"name":"b.test"}"#,
        r#"{"name":"a.test"} 1"#,
    ] {
        let (status, v) = raw(&h, "POST", "/zones", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["success"], false, "{v}");
        assert!(message(&v).starts_with("body:"), "{body}: {v}");
    }
    assert_eq!(zone_count(&h).await, 0, "nothing was created");
    // Whitespace after the value is not garbage.
    let (status, v) = raw(&h, "POST", "/zones", "{\"name\":\"a.test\"}\n  \r\n").await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn null_means_absent_and_unknown_fields_are_ignored() {
    let h = Harness::new();
    let (status, v) = raw(
        &h,
        "POST",
        "/zones",
        r#"{"name":"a.test","account":null,"type":null,"plan":{"id":"x"},"jump_start":true}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["type"], "full", "a null type is the default");
    let zone = v["result"]["id"].as_str().unwrap().to_string();

    // The lists of a batch have a default (empty); null is the same.
    let batch = format!("/zones/{zone}/dns_records/batch");
    let (status, v) = raw(
        &h,
        "POST",
        &batch,
        r#"{"deletes":null,"patches":null,"puts":null,
            "posts":[{"type":"A","name":"www","content":"192.0.2.1","ttl":null,"extra":1}]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["result"]["posts"][0]["ttl"], 1,
        "a null ttl is automatic, shown as 1"
    );

    let accounts = h.ok("GET", "/accounts", None).await;
    let account = accounts[0]["id"].as_str().unwrap();
    let peers = format!("/accounts/{account}/secondary_dns/peers");
    let (status, v) = raw(
        &h,
        "POST",
        &peers,
        r#"{"name":"p","ip":"192.0.2.53","port":null,"ixfr_enable":null,"tsig_id":null,"unknown":[]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["port"], 53, "a null port is the default");
    assert_eq!(v["result"]["ixfr_enable"], false);
}

#[tokio::test]
async fn bodies_of_get_and_delete_are_ignored() {
    let h = Harness::new();
    let zone = h.zone("a.test").await;
    let (status, v) = raw(&h, "GET", "/zones", "{not json").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let posted = h
        .ok(
            "POST",
            &format!("/zones/{zone}/dns_records"),
            Some(json!({"type":"A","name":"www","content":"192.0.2.1"})),
        )
        .await;
    let record = posted["id"].as_str().unwrap();
    let path = format!("/zones/{zone}/dns_records/{record}");
    let (status, v) = raw(&h, "GET", &path, "]]").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = raw(&h, "DELETE", &path, r#"{"id":"something-else"}xyz"#).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["id"], record);
}

/// A request that declares `length` bytes and sends none: the answer must not wait for them.
fn declared(path: &str, length: u64, content_type: &str) -> Request<Body> {
    Request::post(format!("/client/v4{path}"))
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, length.to_string())
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn a_declared_length_above_the_limit_is_413_before_the_body_is_read() {
    let h = Harness::with_config(ApiConfig {
        max_body_bytes: 4000,
        json_body_limit: 1000,
        ..ApiConfig::default()
    });
    let zone = h.zone("a.test").await;
    let import = format!("/zones/{zone}/dns_records/import");
    for (path, length, ctype) in [
        ("/zones", 1u64 << 30, "application/json"),
        ("/zones", 1001, "application/json"),
        (import.as_str(), 1 << 30, "multipart/form-data; boundary=x"),
        (import.as_str(), 4001, "multipart/form-data; boundary=x"),
    ] {
        let (status, bytes) = h.send(declared(path, length, ctype)).await;
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path} {length}: {v}"
        );
        assert_eq!(v["success"], false, "{v}");
        assert!(message(&v).contains("body"), "{v}");
    }
    // The import keeps its own, larger limit: 2000 bytes are above the JSON limit only.
    let mut text = String::from("$TTL 300\n");
    while text.len() < 2000 {
        let n = text.len();
        text.push_str(&format!("h{n} IN A 192.0.2.1\n"));
    }
    let (status, v) = h.import(&zone, &text, false).await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

async fn boom() -> &'static str {
    panic!("secret internal state")
}

#[tokio::test]
async fn a_panicking_handler_is_answered_500_in_the_envelope() {
    let app: Router = tandem_api::catch_panics(
        Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "fine" })),
    );
    let resp = app
        .clone()
        .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["errors"][0]["code"], 1000, "{v}");
    assert!(
        !message(&v).contains("secret"),
        "the panic message stays in the log: {v}"
    );
    // The same service keeps answering.
    let resp = app
        .oneshot(Request::get("/fine").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}
