//! The provider's endpoints that its tools touch besides records (issue 11, item 4):
//! `PATCH /zones/{id}` (`paused` only, kept without effect on DNS), the token checks
//! `GET /user/tokens/verify` and `GET /accounts/{id}/tokens/verify`, the always empty
//! `GET /zones/{id}/pagerules`, and the legacy `X-Auth-Email` + `X-Auth-Key` headers.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{error, Harness, TOKEN};
use serde_json::{json, Value};
use tandem_store::prelude::*;

/// A new account with a write and a read token: (account id, write token, read token, the
/// write token's id).
async fn tenant(h: &Harness, name: &str) -> (String, String, String, String) {
    let account = h
        .ok("POST", "/accounts", Some(json!({ "name": name })))
        .await;
    let id = account["id"].as_str().unwrap().to_string();
    let mut made = Vec::new();
    for permission in ["write", "read"] {
        made.push(
            h.ok(
                "POST",
                &format!("/accounts/{id}/tokens"),
                Some(json!({"name": format!("{name}-{permission}"), "permission": permission})),
            )
            .await,
        );
    }
    let value = |t: &Value| t["value"].as_str().unwrap().to_string();
    let write_id = made[0]["id"].as_str().unwrap().to_string();
    (id, value(&made[0]), value(&made[1]), write_id)
}

/// A GET with exactly `headers` (no bearer token unless given); answers status and body.
async fn get_with(h: &Harness, path: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    send_with(h, "GET", path, headers, None).await
}

async fn send_with(
    h: &Harness,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("/client/v4{path}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let (status, bytes) = h.send(req.body(body).unwrap()).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// What a rejected PATCH must leave as it was: the zone object and the served version.
async fn zone_state(h: &Harness, zone: &str) -> (Value, u32, usize) {
    let z = h.ok("GET", &format!("/zones/{zone}"), None).await;
    (
        z,
        h.served_serial("paused.test"),
        h.changes.lock().unwrap().len(),
    )
}

#[tokio::test]
async fn patch_zone_sets_paused_and_nothing_else() {
    let h = Harness::new();
    let zone = h.zone("paused.test").await;
    let path = format!("/zones/{zone}");
    let before = h.ok("GET", &path, None).await;
    assert_eq!(before["paused"], false);
    let serial = h.served_serial("paused.test");
    let records = h.records(&zone).await;

    let edited = h.ok("PATCH", &path, Some(json!({"paused": true}))).await;
    assert_eq!(edited["paused"], true, "{edited}");
    assert_eq!(edited["name"], "paused.test");
    assert_eq!(edited["type"], "full");
    assert_eq!(h.ok("GET", &path, None).await["paused"], true);
    let listed = h.ok("GET", "/zones?name=paused.test", None).await;
    assert_eq!(listed[0]["paused"], true, "{listed}");

    // No effect on DNS: same serial, same records, no change committed, nothing journaled.
    assert_eq!(h.served_serial("paused.test"), serial);
    assert_eq!(h.records(&zone).await, records);
    assert!(h.changes.lock().unwrap().is_empty(), "no zone change");

    // The same PATCH again is fine and changes nothing, not even modified_on.
    let again = h.ok("PATCH", &path, Some(json!({"paused": true}))).await;
    assert_eq!(again, edited);
    // Fields that leave the zone as it is, and nulls, are accepted.
    let same = h
        .ok(
            "PATCH",
            &path,
            Some(json!({"type": "full", "vanity_name_servers": [], "plan": null, "paused": null})),
        )
        .await;
    assert_eq!(same, edited);
    let empty = h.ok("PATCH", &path, Some(json!({}))).await;
    assert_eq!(empty, edited);

    let back = h.ok("PATCH", &path, Some(json!({"paused": false}))).await;
    assert_eq!(back["paused"], false);
    assert_eq!(h.served_serial("paused.test"), serial);

    // Kept across a restart.
    h.ok("PATCH", &path, Some(json!({"paused": true}))).await;
    let h = h.reopen();
    assert_eq!(h.ok("GET", &path, None).await["paused"], true);
}

#[tokio::test]
async fn patch_zone_refuses_every_other_change_naming_the_field() {
    let h = Harness::new();
    let zone = h.zone("paused.test").await;
    let path = format!("/zones/{zone}");
    let before = zone_state(&h, &zone).await;
    for (body, field) in [
        (json!({"paused": true, "type": "secondary"}), "type"),
        (json!({"type": "partial"}), "type"),
        (json!({"type": 7}), "type"),
        (
            json!({"paused": true, "vanity_name_servers": ["ns1.example.net"]}),
            "vanity_name_servers",
        ),
        (json!({"plan": {"id": "enterprise"}}), "plan"),
        (json!({"paused": true, "name": "other.test"}), "name"),
        (json!({"status": "active"}), "status"),
        (json!({"account": {"id": "x"}}), "account"),
        (json!({"paused": true, "colour": "red"}), "colour"),
        (json!({"paused": "yes"}), "paused"),
        (json!([{"paused": true}]), "body"),
        (json!(true), "body"),
    ] {
        let (status, v) = h.call("PATCH", &path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {v}");
        let message = error(&v);
        assert!(
            message.starts_with(&format!("{field}: ")),
            "{body}: the message names {field}: {message}"
        );
    }
    // A secondary zone's own type is accepted, another is not.
    let sec = h.secondary_zone("sec.test").await;
    h.ok(
        "PATCH",
        &format!("/zones/{sec}"),
        Some(json!({"type": "secondary"})),
    )
    .await;
    let (status, v) = h
        .call(
            "PATCH",
            &format!("/zones/{sec}"),
            Some(json!({"type": "full"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(error(&v).contains("secondary"), "{v}");

    assert_eq!(zone_state(&h, &zone).await, before, "nothing was written");
}

#[tokio::test]
async fn patch_zone_needs_write_access_to_the_zone() {
    let h = Harness::new();
    let zone = h.zone("paused.test").await;
    let path = format!("/zones/{zone}");
    let (account, write, read, _) = tenant(&h, "other").await;
    let before = zone_state(&h, &zone).await;

    // Another account's write token: the zone does not exist for it.
    let (status, v) = h
        .call_as(Some(&write), "PATCH", &path, Some(json!({"paused": true})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    // A read token of the zone's own account may not change it.
    let own = h.account_id();
    let (_, reader) = h
        .store
        .create_token(Some(&own), "reader", tandem_store::Permission::Read)
        .unwrap();
    let (status, v) = h
        .call_as(Some(&reader), "PATCH", &path, Some(json!({"paused": true})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["errors"][0]["code"], 9109, "{v}");
    let (status, _) = h
        .call_as(Some(&read), "PATCH", &path, Some(json!({"paused": true})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // No token.
    let (status, _) = h
        .call_as(None, "PATCH", &path, Some(json!({"paused": true})))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A zone that does not exist.
    let (status, _) = h
        .call(
            "PATCH",
            "/zones/0123456789abcdef0123456789abcdef",
            Some(json!({"paused": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(zone_state(&h, &zone).await, before, "nothing was written");

    // The other account's write token pauses its own zone.
    let theirs = h
        .ok_as(
            &write,
            "POST",
            "/zones",
            Some(json!({"name": "theirs.test"})),
        )
        .await;
    let edited = h
        .ok_as(
            &write,
            "PATCH",
            &format!("/zones/{}", theirs["id"].as_str().unwrap()),
            Some(json!({"paused": true})),
        )
        .await;
    assert_eq!(edited["paused"], true);
    assert_eq!(edited["account"]["id"], account.as_str());
}

#[tokio::test]
async fn zones_say_which_transfer_configurations_they_have() {
    let h = Harness::new();
    let full = h.zone("full.test").await;
    let sec = h.secondary_zone("sec.test").await;
    let peer = h.peer(json!({"name": "p", "ip": "127.0.0.2"})).await;
    let flags = |zones: &Value, id: &str| {
        zones
            .as_array()
            .unwrap()
            .iter()
            .find(|z| z["id"] == id)
            .map(|z| z["secondary_dns"].clone())
            .unwrap()
    };
    let none = json!({"incoming": false, "outgoing": false});
    let zones = h.ok("GET", "/zones", None).await;
    assert_eq!(flags(&zones, &full), none);
    assert_eq!(flags(&zones, &sec), none);

    h.ok(
        "POST",
        &format!("/zones/{full}/secondary_dns/outgoing"),
        Some(json!({"peers": [peer]})),
    )
    .await;
    h.ok(
        "POST",
        &format!("/zones/{sec}/secondary_dns/incoming"),
        Some(json!({"peers": [peer]})),
    )
    .await;
    let zones = h.ok("GET", "/zones", None).await;
    assert_eq!(
        flags(&zones, &full),
        json!({"incoming": false, "outgoing": true})
    );
    assert_eq!(
        flags(&zones, &sec),
        json!({"incoming": true, "outgoing": false})
    );
    let one = h.ok("GET", &format!("/zones/{sec}"), None).await;
    assert_eq!(
        one["secondary_dns"],
        json!({"incoming": true, "outgoing": false})
    );

    h.ok(
        "DELETE",
        &format!("/zones/{full}/secondary_dns/outgoing"),
        None,
    )
    .await;
    let one = h.ok("GET", &format!("/zones/{full}"), None).await;
    assert_eq!(one["secondary_dns"], none);
}

#[tokio::test]
async fn token_verify_answers_the_calling_token() {
    let h = Harness::new();
    let admin = h.store.authenticate(TOKEN).unwrap().unwrap();
    let v = h.ok("GET", "/user/tokens/verify", None).await;
    assert_eq!(v, json!({"id": admin.id, "status": "active"}));

    let (account, write, read, write_id) = tenant(&h, "other").await;
    let v = h.ok_as(&write, "GET", "/user/tokens/verify", None).await;
    assert_eq!(v, json!({"id": write_id, "status": "active"}));
    let v = h.ok_as(&read, "GET", "/user/tokens/verify", None).await;
    assert_eq!(v["status"], "active");
    assert_ne!(v["id"], write_id.as_str());

    // The account variant: 200 for an account the token sees, 404 for any other.
    let own = format!("/accounts/{account}/tokens/verify");
    let v = h.ok_as(&write, "GET", &own, None).await;
    assert_eq!(v, json!({"id": write_id, "status": "active"}));
    let v = h.ok("GET", &own, None).await;
    assert_eq!(
        v["id"],
        admin.id.as_str(),
        "the administrator sees every account"
    );
    let default = format!("/accounts/{}/tokens/verify", h.account_id());
    let (status, v) = h.call_as(Some(&write), "GET", &default, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    error(&v);
    let (status, _) = h
        .call(
            "GET",
            "/accounts/0123456789abcdef0123456789abcdef/tokens/verify",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Invalid, missing and revoked tokens: 401 in the envelope.
    for token in [Some("not-a-token"), None] {
        for path in ["/user/tokens/verify", own.as_str()] {
            let (status, v) = h.call_as(token, "GET", path, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {v}");
            assert_eq!(v["errors"][0]["code"], 10000, "{v}");
            assert!(v["result"].is_null(), "{v}");
        }
    }
    h.ok(
        "DELETE",
        &format!("/accounts/{account}/tokens/{write_id}"),
        None,
    )
    .await;
    let (status, _) = h
        .call_as(Some(&write), "GET", "/user/tokens/verify", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked token");
}

#[tokio::test]
async fn pagerules_are_an_empty_list_with_a_checked_query() {
    let h = Harness::new();
    let zone = h.zone("rules.test").await;
    let path = format!("/zones/{zone}/pagerules");
    for query in [
        "",
        "?status=active",
        "?status=disabled&order=priority&direction=desc&match=all",
        "?order=status&direction=asc&match=any",
    ] {
        let (status, v) = h.call("GET", &format!("{path}{query}"), None).await;
        assert_eq!(status, StatusCode::OK, "{query}: {v}");
        assert_eq!(v["success"], true);
        assert_eq!(v["result"], json!([]), "{query}");
    }
    for (query, field) in [
        ("?status=paused", "status"),
        ("?order=url", "order"),
        ("?direction=up", "direction"),
        ("?match=some", "match"),
        ("?per_page=50", "per_page"),
        ("?status=active&bogus=1", "bogus"),
    ] {
        let (status, v) = h.call("GET", &format!("{path}{query}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {v}");
        assert!(error(&v).starts_with(&format!("{field}: ")), "{query}: {v}");
    }
    // A read token may look; another account's token finds no zone.
    let (_, write, read, _) = tenant(&h, "other").await;
    let (status, _) = h.call_as(Some(&write), "GET", &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let theirs = h
        .ok_as(
            &write,
            "POST",
            "/zones",
            Some(json!({"name": "theirs.test"})),
        )
        .await;
    let theirs = format!("/zones/{}/pagerules", theirs["id"].as_str().unwrap());
    assert_eq!(h.ok_as(&read, "GET", &theirs, None).await, json!([]));
    let (status, _) = h
        .call(
            "GET",
            "/zones/0123456789abcdef0123456789abcdef/pagerules",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h.call_as(None, "GET", &path, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn legacy_auth_headers_carry_the_same_token() {
    let h = Harness::new();
    let zone = h.zone("legacy.test").await;
    let email = ("X-Auth-Email", "ops@example.com");
    let bearer = format!("Bearer {TOKEN}");

    let (status, v) = get_with(&h, "/zones", &[email, ("X-Auth-Key", TOKEN)]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"][0]["id"], zone.as_str());
    let admin = h.store.authenticate(TOKEN).unwrap().unwrap();
    let (_, v) = get_with(&h, "/user/tokens/verify", &[email, ("X-Auth-Key", TOKEN)]).await;
    assert_eq!(v["result"]["id"], admin.id.as_str());

    // Both headers are needed, neither blank, and the key must be a valid token.
    for headers in [
        vec![("X-Auth-Key", TOKEN)],
        vec![email],
        vec![("X-Auth-Email", ""), ("X-Auth-Key", TOKEN)],
        vec![email, ("X-Auth-Key", "not-a-token")],
    ] {
        let (status, v) = get_with(&h, "/zones", &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{headers:?}: {v}");
        assert_eq!(v["success"], false);
    }
    // A bearer token decides alone: a bad one is refused even beside a good pair, a good one
    // is taken beside a bad pair.
    let bad_bearer = "Bearer not-a-token";
    let (status, _) = get_with(
        &h,
        "/zones",
        &[("Authorization", bad_bearer), email, ("X-Auth-Key", TOKEN)],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = get_with(
        &h,
        "/zones",
        &[("Authorization", &bearer), email, ("X-Auth-Key", "nope")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // The pair carries the token's permission: a read token changes nothing.
    let own = h.account_id();
    let (_, reader) = h
        .store
        .create_token(Some(&own), "reader", tandem_store::Permission::Read)
        .unwrap();
    let (status, v) = send_with(
        &h,
        "PATCH",
        &format!("/zones/{zone}"),
        &[email, ("X-Auth-Key", &reader)],
        Some(json!({"paused": true})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (status, v) = send_with(
        &h,
        "PATCH",
        &format!("/zones/{zone}"),
        &[email, ("X-Auth-Key", TOKEN)],
        Some(json!({"paused": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["paused"], true);
}

#[tokio::test]
async fn the_document_offers_the_legacy_headers_beside_the_bearer_token() {
    let h = Harness::new();
    let (status, doc) = h.call_as(None, "GET", "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["x_auth_email"]["type"], "apiKey");
    assert_eq!(schemes["x_auth_email"]["in"], "header");
    assert_eq!(schemes["x_auth_email"]["name"], "X-Auth-Email");
    assert_eq!(schemes["x_auth_key"]["name"], "X-Auth-Key");
    let zones = &doc["paths"]["/client/v4/zones"]["get"]["security"];
    assert_eq!(
        *zones,
        json!([{"bearer": []}, {"x_auth_email": [], "x_auth_key": []}])
    );
    let patch = &doc["paths"]["/client/v4/zones/{zone_id}"]["patch"];
    assert!(patch["requestBody"]["content"]["application/json"].is_object());
    let params: Vec<&str> = doc["paths"]["/client/v4/zones/{zone_id}/pagerules"]["get"]
        ["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["status", "order", "direction", "match"]);
    for path in [
        "/client/v4/user/tokens/verify",
        "/client/v4/accounts/{account_id}/tokens/verify",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path}");
    }
    let zone = &doc["components"]["schemas"]["ZoneOut"]["properties"];
    assert!(zone["paused"].is_object() && zone["secondary_dns"].is_object());
}
