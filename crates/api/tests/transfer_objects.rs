//! Peers, TSIG keys and ACLs of an account (PRODUCT §1, §3): every field read back, PUT
//! semantics, each validation rule with the field named, and deletes refused while in use.

mod common;

use axum::http::StatusCode;
use common::Harness;
use serde_json::{json, Value};
use tandem_store::prelude::*;

fn base(h: &Harness, kind: &str) -> String {
    format!("/accounts/{}/secondary_dns/{kind}", h.account_id())
}

fn decoded_len(secret: &str) -> usize {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(secret)
        .unwrap()
        .len()
}

#[tokio::test]
async fn peer_crud_with_every_field_and_put_defaults() {
    let h = Harness::new();
    let peers = base(&h, "peers");
    let tsigs = base(&h, "tsigs");
    let key = h
        .ok(
            "POST",
            &tsigs,
            Some(json!({"name": "k1.example.", "algo": "hmac-sha256"})),
        )
        .await;
    let key_id = key["id"].as_str().unwrap();

    let created = h
        .ok(
            "POST",
            &peers,
            Some(json!({"name": "ns1", "ip": "2001:DB8::53", "port": 5353,
                        "ixfr_enable": true, "tsig_id": key_id})),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert_eq!(
        created,
        json!({"id": id, "name": "ns1", "ip": "2001:db8::53", "port": 5353,
               "ixfr_enable": true, "tsig_id": key_id})
    );
    assert_eq!(h.ok("GET", &format!("{peers}/{id}"), None).await, created);
    let (status, list) = h.call("GET", &peers, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["result"], json!([created]));
    assert_eq!(list["result_info"]["total_count"], 1);

    // A float port (SDKs send numbers as floats) is fine.
    let with_float = h
        .ok("POST", &peers, Some(json!({"name": "f", "port": 53.0})))
        .await;
    assert_eq!(with_float["port"], 53);

    // PUT replaces the whole object: what is left out returns to its default.
    let put = h
        .ok(
            "PUT",
            &format!("{peers}/{id}"),
            Some(json!({"name": "ns1-renamed"})),
        )
        .await;
    assert_eq!(
        put,
        json!({"id": id, "name": "ns1-renamed", "ip": null, "port": 53,
               "ixfr_enable": false, "tsig_id": null})
    );
    assert_eq!(h.ok("GET", &format!("{peers}/{id}"), None).await, put);

    let deleted = h.ok("DELETE", &format!("{peers}/{id}"), None).await;
    assert_eq!(deleted, json!({"id": id}));
    h.fails(StatusCode::NOT_FOUND, "GET", &format!("{peers}/{id}"), None)
        .await;
    h.fails(
        StatusCode::NOT_FOUND,
        "DELETE",
        &format!("{peers}/{id}"),
        None,
    )
    .await;
    h.fails(
        StatusCode::NOT_FOUND,
        "PUT",
        &format!("{peers}/{id}"),
        Some(json!({"name": "x"})),
    )
    .await;
}

#[tokio::test]
async fn peer_rules_name_the_field() {
    let h = Harness::new();
    let peers = base(&h, "peers");
    let other = h.store.create_account("other").unwrap();
    let foreign_key = h
        .ok(
            "POST",
            &format!("/accounts/{}/secondary_dns/tsigs", other.id),
            Some(json!({"name": "theirs."})),
        )
        .await;
    let long = "n".repeat(256);
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "name: "),
        (json!({"name": "  "}), "name: "),
        (json!({"name": long}), "name: "),
        (json!({"name": "p", "ip": "192.0.2.300"}), "ip: "),
        (json!({"name": "p", "ip": "192.0.2.1:53"}), "ip: "),
        (json!({"name": "p", "ip": "192.0.2.0/24"}), "ip: "),
        (json!({"name": "p", "ip": "224.0.0.1"}), "ip: "),
        (json!({"name": "p", "ip": "0.0.0.0"}), "ip: "),
        (json!({"name": "p", "ip": 5}), "ip: "),
        (json!({"name": "p", "port": 0}), "port: "),
        (json!({"name": "p", "port": 65536}), "port: "),
        (json!({"name": "p", "port": -53}), "port: "),
        (json!({"name": "p", "port": 53.5}), "port: "),
        (json!({"name": "p", "port": "53"}), "port: "),
        (json!({"name": "p", "ixfr_enable": "yes"}), "ixfr_enable: "),
        (
            json!({"name": "p", "tsig_id": "0123456789abcdef0123456789abcdef"}),
            "tsig_id: ",
        ),
        (
            json!({"name": "p", "tsig_id": foreign_key["id"]}),
            "tsig_id: ",
        ),
    ];
    for (body, prefix) in cases {
        let message = h
            .fails(StatusCode::BAD_REQUEST, "POST", &peers, Some(body.clone()))
            .await;
        assert!(message.starts_with(prefix), "{body}: {message}");
    }
    assert_eq!(
        h.store.peers(&h.account_id()).unwrap().len(),
        0,
        "nothing written"
    );
    // The edges of what is accepted.
    for (body, ip, port) in [
        (
            json!({"name": "a", "ip": "192.0.2.1", "port": 1}),
            json!("192.0.2.1"),
            1,
        ),
        (
            json!({"name": "b", "ip": "::1", "port": 65535}),
            json!("::1"),
            65535,
        ),
        (
            json!({"name": "c", "ip": "", "tsig_id": ""}),
            json!(null),
            53,
        ),
    ] {
        let v = h.ok("POST", &peers, Some(body)).await;
        assert_eq!(v["ip"], ip);
        assert_eq!(v["port"], port);
        assert_eq!(v["tsig_id"], json!(null));
    }
}

#[tokio::test]
async fn tsig_algorithms_and_secrets() {
    let h = Harness::new();
    let tsigs = base(&h, "tsigs");
    for (i, (algo, canonical, len)) in [
        ("hmac-sha256", "hmac-sha256.", 32),
        ("hmac-sha384.", "hmac-sha384.", 48),
        ("HMAC-SHA512", "hmac-sha512.", 64),
        ("hmac-sha1.", "hmac-sha1.", 20),
    ]
    .into_iter()
    .enumerate()
    {
        // Blank and missing secrets are generated, as long as the algorithm's output.
        let blank = h
            .ok(
                "POST",
                &tsigs,
                Some(json!({"name": format!("blank{i}."), "algo": algo, "secret": ""})),
            )
            .await;
        assert_eq!(blank["algo"], canonical);
        assert_eq!(decoded_len(blank["secret"].as_str().unwrap()), len);
        let missing = h
            .ok(
                "POST",
                &tsigs,
                Some(json!({"name": format!("missing{i}"), "algo": algo})),
            )
            .await;
        assert_eq!(decoded_len(missing["secret"].as_str().unwrap()), len);
        assert_ne!(blank["secret"], missing["secret"]);
    }
    let given = h
        .ok(
            "POST",
            &tsigs,
            Some(json!({"name": "k1.example.", "algo": "hmac-sha256", "secret": "c2VjcmV0LWtleS1ieXRlcw=="})),
        )
        .await;
    let id = given["id"].as_str().unwrap().to_string();
    assert_eq!(
        given,
        json!({"id": id, "name": "k1.example.", "algo": "hmac-sha256.", "secret": "c2VjcmV0LWtleS1ieXRlcw=="})
    );
    assert_eq!(h.ok("GET", &format!("{tsigs}/{id}"), None).await, given);
    // No algo: hmac-sha256.
    let default = h.ok("POST", &tsigs, Some(json!({"name": "d."}))).await;
    assert_eq!(default["algo"], "hmac-sha256.");

    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"name": "m.", "algo": "hmac-md5"}),
            "algo: ",
            "hmac-md5",
        ),
        (
            json!({"name": "m.", "algo": "HMAC-MD5.SIG-ALG.REG.INT."}),
            "algo: ",
            "hmac-md5",
        ),
        (
            json!({"name": "m.", "algo": "hmac-sha3"}),
            "algo: ",
            "hmac-sha256",
        ),
        (
            json!({"name": "m.", "secret": "not base64!"}),
            "secret: ",
            "base64",
        ),
        (json!({"name": "m.", "secret": "===="}), "secret: ", ""),
        (json!({"algo": "hmac-sha256"}), "name: ", ""),
        (json!({"name": "bad name."}), "name: ", ""),
        (json!({"name": "K1.Example"}), "name: ", "already named"),
    ];
    for (body, prefix, needle) in cases {
        let message = h
            .fails(StatusCode::BAD_REQUEST, "POST", &tsigs, Some(body.clone()))
            .await;
        assert!(message.starts_with(prefix), "{body}: {message}");
        assert!(message.contains(needle), "{body}: {message}");
    }

    // PUT replaces everything: no secret means a new generated one, no algo hmac-sha256.
    let put = h
        .ok(
            "PUT",
            &format!("{tsigs}/{id}"),
            Some(json!({"name": "k1.example."})),
        )
        .await;
    assert_eq!(put["algo"], "hmac-sha256.");
    assert_ne!(put["secret"], given["secret"]);
    assert_eq!(decoded_len(put["secret"].as_str().unwrap()), 32);
    // Its own name is no conflict; another key's is.
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "PUT",
            &format!("{tsigs}/{id}"),
            Some(json!({"name": "d"})),
        )
        .await;
    assert!(message.starts_with("name: "), "{message}");
    let put = h
        .ok(
            "PUT",
            &format!("{tsigs}/{id}"),
            Some(json!({"name": "k2.", "algo": "hmac-sha512.", "secret": "AAAA"})),
        )
        .await;
    assert_eq!(
        put,
        json!({"id": id, "name": "k2.", "algo": "hmac-sha512.", "secret": "AAAA"})
    );
    assert_eq!(
        h.ok("DELETE", &format!("{tsigs}/{id}"), None).await,
        json!({"id": id})
    );
    h.fails(StatusCode::NOT_FOUND, "GET", &format!("{tsigs}/{id}"), None)
        .await;
}

#[tokio::test]
async fn acl_ranges() {
    let h = Harness::new();
    let acls = base(&h, "acls");
    let v4 = h
        .ok(
            "POST",
            &acls,
            Some(json!({"name": "office", "ip_range": "192.0.2.0/24"})),
        )
        .await;
    let id = v4["id"].as_str().unwrap().to_string();
    assert_eq!(
        v4,
        json!({"id": id, "name": "office", "ip_range": "192.0.2.0/24"})
    );
    assert_eq!(h.ok("GET", &format!("{acls}/{id}"), None).await, v4);
    let v6 = h
        .ok(
            "POST",
            &acls,
            Some(json!({"name": "v6", "ip_range": "2001:DB8:1:2::/64"})),
        )
        .await;
    assert_eq!(v6["ip_range"], "2001:db8:1:2::/64");
    let host = h
        .ok(
            "POST",
            &acls,
            Some(json!({"name": "host", "ip_range": "198.51.100.7"})),
        )
        .await;
    assert_eq!(host["ip_range"], "198.51.100.7/32");
    let (_, list) = h.call("GET", &acls, None).await;
    assert_eq!(list["result"].as_array().unwrap().len(), 3);

    for (body, needle) in [
        (json!({"name": "wide", "ip_range": "192.0.0.0/23"}), "/24"),
        (json!({"name": "wide", "ip_range": "0.0.0.0/0"}), "/24"),
        (json!({"name": "wide6", "ip_range": "2001:db8::/63"}), "/64"),
        (
            json!({"name": "bits", "ip_range": "192.0.2.9/24"}),
            "192.0.2.0/24",
        ),
        (
            json!({"name": "junk", "ip_range": "example.com/24"}),
            "ip_range",
        ),
        (
            json!({"name": "pfx", "ip_range": "192.0.2.0/33"}),
            "ip_range",
        ),
        (json!({"name": "none"}), "ip_range"),
        (json!({"ip_range": "192.0.2.0/24"}), "name: "),
    ] {
        let message = h
            .fails(StatusCode::BAD_REQUEST, "POST", &acls, Some(body.clone()))
            .await;
        assert!(message.contains(needle), "{body}: {message}");
        assert!(message.starts_with("ip_range: ") || message.starts_with("name: "));
    }
    let put = h
        .ok(
            "PUT",
            &format!("{acls}/{id}"),
            Some(json!({"name": "office2", "ip_range": "203.0.113.0/25"})),
        )
        .await;
    assert_eq!(
        put,
        json!({"id": id, "name": "office2", "ip_range": "203.0.113.0/25"})
    );
    h.fails(
        StatusCode::BAD_REQUEST,
        "PUT",
        &format!("{acls}/{id}"),
        Some(json!({"name": "office2"})),
    )
    .await;
    assert_eq!(
        h.ok("DELETE", &format!("{acls}/{id}"), None).await,
        json!({"id": id})
    );
    h.fails(StatusCode::NOT_FOUND, "GET", &format!("{acls}/{id}"), None)
        .await;
}

#[tokio::test]
async fn objects_in_use_cannot_be_deleted() {
    let h = Harness::new();
    let peers = base(&h, "peers");
    let tsigs = base(&h, "tsigs");
    let key = h.ok("POST", &tsigs, Some(json!({"name": "xfr."}))).await;
    let key_id = key["id"].as_str().unwrap().to_string();
    let peer_id = h
        .peer(json!({"name": "primary1", "ip": "192.0.2.53", "tsig_id": key_id}))
        .await;
    let sec = h.secondary_zone("sec.test").await;
    let full = h.zone("full.test").await;
    h.ok(
        "POST",
        &format!("/zones/{sec}/secondary_dns/incoming"),
        Some(json!({"name": "sec.test.", "peers": [peer_id], "auto_refresh_seconds": 3600})),
    )
    .await;
    h.ok(
        "POST",
        &format!("/zones/{full}/secondary_dns/outgoing"),
        Some(json!({"name": "full.test", "peers": [peer_id]})),
    )
    .await;

    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "DELETE",
            &format!("{peers}/{peer_id}"),
            None,
        )
        .await;
    assert!(message.contains("sec.test (incoming)"), "{message}");
    assert!(message.contains("full.test (outgoing)"), "{message}");
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "DELETE",
            &format!("{tsigs}/{key_id}"),
            None,
        )
        .await;
    assert!(message.contains("primary1"), "{message}");
    assert!(message.contains("sec.test"), "{message}");
    // A secondary zone's primary keeps its ip.
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "PUT",
            &format!("{peers}/{peer_id}"),
            Some(json!({"name": "primary1", "tsig_id": key_id})),
        )
        .await;
    assert!(
        message.starts_with("ip: ") && message.contains("sec.test"),
        "{message}"
    );
    // Nothing changed.
    let peer = h.ok("GET", &format!("{peers}/{peer_id}"), None).await;
    assert_eq!(peer["ip"], "192.0.2.53");
    h.ok("GET", &format!("{tsigs}/{key_id}"), None).await;

    // Unlinked, both can go.
    h.ok(
        "DELETE",
        &format!("/zones/{sec}/secondary_dns/incoming"),
        None,
    )
    .await;
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "DELETE",
            &format!("{peers}/{peer_id}"),
            None,
        )
        .await;
    assert!(
        !message.contains("sec.test") && message.contains("full.test"),
        "{message}"
    );
    // Deleting the zone unlinks it too.
    h.ok("DELETE", &format!("/zones/{full}"), None).await;
    let message = h
        .fails(
            StatusCode::BAD_REQUEST,
            "DELETE",
            &format!("{tsigs}/{key_id}"),
            None,
        )
        .await;
    assert!(message.contains("primary1"), "{message}");
    h.ok("DELETE", &format!("{peers}/{peer_id}"), None).await;
    h.ok("DELETE", &format!("{tsigs}/{key_id}"), None).await;
    let kinds = h.events.take();
    assert!(
        kinds
            .iter()
            .any(|e| e.starts_with("account_config_changed:")),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn lists_are_per_account() {
    let h = Harness::new();
    let other = h.store.create_account("other").unwrap();
    h.peer(json!({"name": "mine"})).await;
    let theirs = format!("/accounts/{}/secondary_dns/peers", other.id);
    h.ok("POST", &theirs, Some(json!({"name": "theirs"}))).await;
    let (_, mine) = h.call("GET", &base(&h, "peers"), None).await;
    assert_eq!(mine["result"].as_array().unwrap().len(), 1);
    assert_eq!(mine["result"][0]["name"], "mine");
    let (_, v) = h.call("GET", &theirs, None).await;
    assert_eq!(v["result"][0]["name"], "theirs");
    h.fails(
        StatusCode::NOT_FOUND,
        "GET",
        "/accounts/0123456789abcdef0123456789abcdef/secondary_dns/peers",
        None,
    )
    .await;
}
