//! Tenants and tokens (PRODUCT §3, THREATS "From the API"): accounts made by the
//! administrator, account tokens shown once and stored hashed, revocation, two accounts that
//! never see each other's objects (404), and read tokens refused on every change and action.

mod common;

use axum::http::StatusCode;
use common::{error, Harness, TOKEN};
use serde_json::{json, Value};
use tandem_store::prelude::*;

/// A new account made through the API, with a write and a read token; answers
/// (account id, write token, read token).
async fn tenant(h: &Harness, name: &str) -> (String, String, String) {
    let account = h.ok("POST", "/accounts", Some(json!({"name": name}))).await;
    let id = account["id"].as_str().unwrap().to_string();
    assert_eq!(account["name"], name);
    let mut values = Vec::new();
    for permission in ["write", "read"] {
        let t = h
            .ok(
                "POST",
                &format!("/accounts/{id}/tokens"),
                Some(json!({"name": format!("{name}-{permission}"), "permission": permission})),
            )
            .await;
        assert_eq!(t["permission"], permission);
        assert_eq!(t["id"].as_str().unwrap().len(), 32);
        values.push(t["value"].as_str().unwrap().to_string());
    }
    let read = values.pop().unwrap();
    (id, values.pop().unwrap(), read)
}

/// Sets up, in an account, a peer, key, ACL, a full zone with outgoing and a secondary zone
/// with incoming configuration; answers every path that names one of them.
async fn objects(h: &Harness, token: &str, account: &str, zone_prefix: &str) -> Vec<String> {
    let base = format!("/accounts/{account}/secondary_dns");
    let key = h
        .ok_as(
            token,
            "POST",
            &format!("{base}/tsigs"),
            Some(json!({"name": "k."})),
        )
        .await;
    let peer = h
        .ok_as(
            token,
            "POST",
            &format!("{base}/peers"),
            Some(json!({"name": "p", "ip": "192.0.2.1", "tsig_id": key["id"]})),
        )
        .await;
    let acl = h
        .ok_as(
            token,
            "POST",
            &format!("{base}/acls"),
            Some(json!({"name": "a", "ip_range": "192.0.2.0/24"})),
        )
        .await;
    let full = h
        .ok_as(
            token,
            "POST",
            "/zones",
            Some(json!({"name": format!("{zone_prefix}-full.test")})),
        )
        .await;
    let sec = h
        .ok_as(
            token,
            "POST",
            "/zones",
            Some(json!({"name": format!("{zone_prefix}-sec.test"), "type": "secondary"})),
        )
        .await;
    let (full, sec) = (full["id"].as_str().unwrap(), sec["id"].as_str().unwrap());
    h.ok_as(
        token,
        "POST",
        &format!("/zones/{full}/secondary_dns/outgoing"),
        Some(json!({"peers": [peer["id"]]})),
    )
    .await;
    h.ok_as(
        token,
        "POST",
        &format!("/zones/{sec}/secondary_dns/incoming"),
        Some(json!({"peers": [peer["id"]]})),
    )
    .await;
    vec![
        format!("{base}/peers/{}", peer["id"].as_str().unwrap()),
        format!("{base}/tsigs/{}", key["id"].as_str().unwrap()),
        format!("{base}/acls/{}", acl["id"].as_str().unwrap()),
        format!("/zones/{full}/secondary_dns/outgoing"),
        format!("/zones/{sec}/secondary_dns/incoming"),
    ]
}

/// Every change and action a token could try on the objects of `paths` (from [`objects`]).
fn changes(paths: &[String], account: &str) -> Vec<(&'static str, String, Option<Value>)> {
    let base = format!("/accounts/{account}/secondary_dns");
    let out = &paths[3];
    let inc = &paths[4];
    let sec = inc.trim_end_matches("/incoming");
    let mut v = vec![
        ("POST", format!("{base}/peers"), Some(json!({"name": "x"}))),
        ("POST", format!("{base}/tsigs"), Some(json!({"name": "x."}))),
        (
            "POST",
            format!("{base}/acls"),
            Some(json!({"name": "x", "ip_range": "192.0.2.0/24"})),
        ),
        (
            "POST",
            format!("/accounts/{account}/tokens"),
            Some(json!({"name": "x", "permission": "write"})),
        ),
        ("POST", format!("{out}/enable"), None),
        ("POST", format!("{out}/disable"), None),
        ("POST", format!("{out}/force_notify"), None),
        ("POST", format!("{sec}/force_axfr"), None),
        ("PUT", out.clone(), Some(json!({"peers": []}))),
        (
            "PUT",
            paths[2].clone(),
            Some(json!({"name": "x", "ip_range": "192.0.2.0/24"})),
        ),
    ];
    for p in paths {
        v.push(("DELETE", p.clone(), None));
    }
    v
}

#[tokio::test]
async fn accounts_are_made_by_the_administrator_only() {
    let h = Harness::new();
    let (_, write, read) = tenant(&h, "alpha").await;
    for token in [&write, &read] {
        let (status, v) = h
            .call_as(Some(token), "POST", "/accounts", Some(json!({"name": "x"})))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
        assert!(error(&v).contains("administrator"), "{v}");
    }
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "POST",
            "/accounts",
            Some(json!({"name": " "})),
        )
        .await;
    assert!(message.starts_with("name: "), "{message}");
    let (_, v) = h.call("GET", "/accounts", None).await;
    assert_eq!(v["result_info"]["total_count"], 2, "{v}");
}

#[tokio::test]
async fn tokens_are_shown_once_and_can_be_revoked() {
    let h = Harness::new();
    let (account, write, read) = tenant(&h, "alpha").await;
    let list = h
        .ok("GET", &format!("/accounts/{account}/tokens"), None)
        .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    for t in list {
        assert!(t.get("value").is_none(), "value never listed: {t}");
        assert!(t["created_on"].as_str().unwrap().ends_with('Z'));
    }
    // The store holds only hashes.
    let db = std::fs::read(h.dir.path().join(tandem_store::DB_FILE)).unwrap();
    let wal = std::fs::read(h.dir.path().join("tandem.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(!bytes.windows(write.len()).any(|w| w == write.as_bytes()));
    }
    // A write token may list and make its account's tokens; a read token may list.
    h.ok_as(&read, "GET", &format!("/accounts/{account}/tokens"), None)
        .await;
    let made = h
        .ok_as(
            &write,
            "POST",
            &format!("/accounts/{account}/tokens"),
            Some(json!({"name": "ci", "permission": "read"})),
        )
        .await;
    for (body, field) in [
        (json!({"name": "x", "permission": "admin"}), "permission: "),
        (json!({"name": "x"}), "permission: "),
        (json!({"permission": "read"}), "name: "),
    ] {
        let message = h
            .fails(
                StatusCode::BAD_REQUEST,
                "POST",
                &format!("/accounts/{account}/tokens"),
                Some(body),
            )
            .await;
        assert!(message.starts_with(field), "{message}");
    }
    // Revoked tokens stop working at once.
    let made_id = made["id"].as_str().unwrap();
    let made_value = made["value"].as_str().unwrap();
    h.ok_as(made_value, "GET", "/zones", None).await;
    let deleted = h
        .ok_as(
            &write,
            "DELETE",
            &format!("/accounts/{account}/tokens/{made_id}"),
            None,
        )
        .await;
    assert_eq!(deleted, json!({"id": made_id}));
    let (status, _) = h.call_as(Some(made_value), "GET", "/zones", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    h.fails(
        StatusCode::NOT_FOUND,
        "DELETE",
        &format!("/accounts/{account}/tokens/{made_id}"),
        None,
    )
    .await;
    // The administrator's own token is no account's.
    let admin = h.store.authenticate(TOKEN).unwrap().unwrap();
    h.fails(
        StatusCode::NOT_FOUND,
        "DELETE",
        &format!("/accounts/{account}/tokens/{}", admin.id),
        None,
    )
    .await;
}

#[tokio::test]
async fn accounts_never_see_each_other() {
    let h = Harness::new();
    let (a, a_write, a_read) = tenant(&h, "alpha").await;
    let (b, b_write, _) = tenant(&h, "beta").await;
    let a_paths = objects(&h, &a_write, &a, "a").await;
    let b_paths = objects(&h, &b_write, &b, "b").await;

    for (token, foreign, foreign_account) in [
        (&a_write, &b_paths, &b),
        (&a_read, &b_paths, &b),
        (&b_write, &a_paths, &a),
    ] {
        for p in foreign {
            let (status, v) = h.call_as(Some(token), "GET", p, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "GET {p}: {v}");
        }
        for kind in ["peers", "tsigs", "acls"] {
            let p = format!("/accounts/{foreign_account}/secondary_dns/{kind}");
            let (status, _) = h.call_as(Some(token), "GET", &p, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{p}");
        }
        let (status, _) = h
            .call_as(
                Some(token),
                "GET",
                &format!("/accounts/{foreign_account}/tokens"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // Writes across accounts are 404 too, and change nothing.
    for (method, path, body) in changes(&b_paths, &b) {
        let (status, v) = h.call_as(Some(&a_write), method, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {v}");
    }
    // Linking another account's peer is refused as if it did not exist.
    let b_peer = b_paths[0].rsplit('/').next().unwrap();
    let (status, v) = h
        .call_as(
            Some(&a_write),
            "PUT",
            &a_paths[3],
            Some(json!({"peers": [b_peer]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).starts_with("peers[0]: no peer"), "{v}");
    // Each sees its own; the administrator sees both.
    for (token, own) in [(&a_write, &a_paths), (&b_write, &b_paths)] {
        for p in own {
            h.ok_as(token, "GET", p, None).await;
        }
    }
    for p in a_paths.iter().chain(&b_paths) {
        h.ok("GET", p, None).await;
    }
    let b_full = b_paths[3].split('/').nth(2).unwrap();
    assert!(!h.store.outgoing_config(b_full).unwrap().unwrap().enabled);
}

#[tokio::test]
async fn read_tokens_change_nothing_and_trigger_nothing() {
    let h = Harness::new();
    let (a, a_write, a_read) = tenant(&h, "alpha").await;
    let paths = objects(&h, &a_write, &a, "a").await;
    h.ok_as(&a_write, "POST", &format!("{}/enable", paths[3]), None)
        .await;
    h.events.take();
    for (method, path, body) in changes(&paths, &a) {
        let (status, v) = h.call_as(Some(&a_read), method, &path, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {v}");
        assert_eq!(v["success"], false);
    }
    assert!(
        h.events.take().is_empty(),
        "a read token triggered something"
    );
    for p in &paths {
        h.ok_as(&a_read, "GET", p, None).await;
    }
    let out = h
        .ok_as(&a_read, "GET", &format!("{}/status", paths[3]), None)
        .await;
    assert_eq!(out, "Enabled");
    let zone_id = paths[3].split('/').nth(2).unwrap();
    assert!(h
        .store
        .outgoing_config(zone_id)
        .unwrap()
        .unwrap()
        .notify_requested
        .is_none());
}

/// PRODUCT §1: a zone inside or above another account's zone is refused (400 naming neither
/// the other zone nor its account), in both directions and for both zone types; the same
/// account may nest its own zones; nothing is written by a refusal.
#[tokio::test]
async fn zones_never_nest_across_accounts() {
    let h = Harness::new();
    let (a, a_write, _) = tenant(&h, "victim").await;
    let (b, b_write, _) = tenant(&h, "intruder").await;
    let create = |name: &str, account: &str, kind: &str| json!({"name": name, "account": {"id": account}, "type": kind});
    h.ok_as(
        &a_write,
        "POST",
        "/zones",
        Some(create("victim.test", &a, "full")),
    )
    .await;
    h.ok_as(
        &b_write,
        "POST",
        "/zones",
        Some(create("other.test", &b, "full")),
    )
    .await;
    let refused = [
        ("shop.victim.test", "full"),
        ("deep.shop.victim.test", "secondary"),
        ("test", "full"),
        ("sub.other.test", "secondary"),
    ];
    for (name, kind) in refused {
        let (token, account) = if name.ends_with("other.test") {
            (&a_write, &a)
        } else {
            (&b_write, &b)
        };
        let (status, v) = h
            .call_as(
                Some(token),
                "POST",
                "/zones",
                Some(create(name, account, kind)),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {v}");
        let message = error(&v);
        assert!(message.starts_with("name: "), "{name}: {message}");
        assert!(message.contains("another account"), "{name}: {message}");
        for secret in ["victim", "intruder", a.as_str(), b.as_str()] {
            if !name.contains(secret) {
                assert!(
                    !message.contains(secret),
                    "{name}: {message} names {secret}"
                );
            }
        }
        assert!(
            h.store.zone_by_name(name).unwrap().is_none(),
            "{name} was written"
        );
    }
    // Names that only share a suffix of characters, not of labels, are not nested.
    h.ok_as(
        &b_write,
        "POST",
        "/zones",
        Some(create("evictim.test", &b, "full")),
    )
    .await;
    // The same account may host a child zone of its own.
    h.ok_as(
        &a_write,
        "POST",
        "/zones",
        Some(create("shop.victim.test", &a, "full")),
    )
    .await;
    // The administrator is bound by the rule too: the zone goes to an account all the same.
    let (status, v) = h
        .call("POST", "/zones", Some(create("x.victim.test", &b, "full")))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
}
