//! `GET /zones/{zone_id}/secondary_dns/peer_serials` (PRODUCT §3, our extension): one entry per
//! linked peer and role, each asked live through the registered `SoaProbe` (in parallel, 2 s
//! each), beside the serial we serve; read tokens may ask; nothing without a configuration.

mod common;

use axum::http::StatusCode;
use common::Harness;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_api::{ProbeKey, ProbeResult, SoaProbe};
use tandem_store::prelude::*;

/// What the fake peer on a port does.
#[derive(Clone)]
enum Answer {
    Serial(u32),
    Error(&'static str),
    Silent,
}

/// A probe that answers from a table by port and remembers every question.
#[derive(Default)]
struct FakeProbe {
    answers: HashMap<u16, Answer>,
    asked: Mutex<Vec<(String, SocketAddr, Option<ProbeKey>)>>,
}

impl SoaProbe for FakeProbe {
    fn soa_serial(&self, zone: String, addr: SocketAddr, key: Option<ProbeKey>) -> ProbeResult {
        self.asked.lock().unwrap().push((zone, addr, key));
        let answer = self.answers.get(&addr.port()).cloned();
        Box::pin(async move {
            match answer {
                Some(Answer::Serial(s)) => Ok(s),
                Some(Answer::Error(e)) => Err(e.to_string()),
                Some(Answer::Silent) | None => {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    Err("never".into())
                }
            }
        })
    }
}

fn probe(answers: &[(u16, Answer)]) -> Arc<FakeProbe> {
    Arc::new(FakeProbe {
        answers: answers.iter().cloned().collect(),
        ..FakeProbe::default()
    })
}

fn path(zone: &str) -> String {
    format!("/zones/{zone}/secondary_dns/peer_serials")
}

async fn tsig(h: &Harness, name: &str) -> Value {
    let path = format!("/accounts/{}/secondary_dns/tsigs", h.account_id());
    h.ok(
        "POST",
        &path,
        Some(json!({"name": name, "algo": "hmac-sha512"})),
    )
    .await
}

#[tokio::test]
async fn each_linked_peer_is_asked_beside_our_serial() {
    let fake = probe(&[
        (5301, Answer::Serial(7)),
        (5302, Answer::Error("REFUSED")),
        (5303, Answer::Serial(1)),
    ]);
    let h = Harness::with_probe(fake.clone());
    let key = tsig(&h, "k1.example.").await;
    let signed = h
        .peer(json!({"name": "signed", "ip": "127.0.0.1", "port": 5301, "tsig_id": key["id"]}))
        .await;
    let refusing = h
        .peer(json!({"name": "refusing", "ip": "::1", "port": 5302}))
        .await;
    let same = h
        .peer(json!({"name": "same", "ip": "127.0.0.2", "port": 5303}))
        .await;
    let no_ip = h.peer(json!({"name": "no-ip"})).await;
    let zone = h.zone("multi.test").await;
    h.ok(
        "POST",
        &format!("/zones/{zone}/secondary_dns/outgoing"),
        Some(json!({"peers": [signed, refusing, same, no_ip]})),
    )
    .await;

    let got = h.ok("GET", &path(&zone), None).await;
    let entries = got.as_array().unwrap();
    assert_eq!(entries.len(), 4, "{got}");
    let rtt = entries[0]["rtt_ms"].clone();
    assert!(rtt.is_u64(), "{got}");
    assert_eq!(
        got,
        json!([
            {"peer_id": signed, "name": "signed", "ip": "127.0.0.1", "port": 5301,
             "role": "secondary", "serial": 7, "error": null, "rtt_ms": rtt, "our_serial": 1},
            {"peer_id": refusing, "name": "refusing", "ip": "::1", "port": 5302,
             "role": "secondary", "serial": null, "error": "REFUSED", "rtt_ms": null,
             "our_serial": 1},
            {"peer_id": same, "name": "same", "ip": "127.0.0.2", "port": 5303,
             "role": "secondary", "serial": 1, "error": null, "rtt_ms": entries[2]["rtt_ms"],
             "our_serial": 1},
            {"peer_id": no_ip, "name": "no-ip", "ip": null, "port": 53,
             "role": "secondary", "serial": null,
             "error": "the peer has no ip address to ask", "rtt_ms": null, "our_serial": 1},
        ])
    );

    // The zone is asked by name without the dot; the signed peer's key goes with the question.
    let mut asked = fake.asked.lock().unwrap().clone();
    asked.sort_by_key(|(_, addr, _)| addr.port());
    assert_eq!(asked.len(), 3, "the peer without an ip is not asked");
    assert!(asked.iter().all(|(zone, _, _)| zone == "multi.test"));
    assert_eq!(asked[0].1, "127.0.0.1:5301".parse().unwrap());
    assert_eq!(asked[1].1, "[::1]:5302".parse().unwrap());
    assert_eq!(
        asked[0].2,
        Some(ProbeKey {
            name: "k1.example.".into(),
            algorithm: "hmac-sha512.".into(),
            secret: key["secret"].as_str().unwrap().into(),
        })
    );
    assert_eq!(asked[1].2, None);
}

#[tokio::test]
async fn primaries_and_secondaries_of_a_secondary_zone_have_their_roles() {
    let h = Harness::with_probe(probe(&[
        (5310, Answer::Serial(42)),
        (5311, Answer::Serial(41)),
    ]));
    let primary = h
        .peer(json!({"name": "primary", "ip": "127.0.0.1", "port": 5310}))
        .await;
    let downstream = h
        .peer(json!({"name": "downstream", "ip": "127.0.0.1", "port": 5311}))
        .await;
    let zone = h.secondary_zone("sec.test").await;
    h.ok(
        "POST",
        &format!("/zones/{zone}/secondary_dns/incoming"),
        Some(json!({"peers": [primary]})),
    )
    .await;
    h.ok(
        "POST",
        &format!("/zones/{zone}/secondary_dns/outgoing"),
        Some(json!({"peers": [downstream]})),
    )
    .await;
    let got = h.ok("GET", &path(&zone), None).await;
    let summary: Vec<(Value, Value, Value, Value)> = got
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].clone(),
                e["role"].clone(),
                e["serial"].clone(),
                e["our_serial"].clone(),
            )
        })
        .collect();
    // Before its first transfer we serve no serial of the secondary zone.
    assert_eq!(
        summary,
        vec![
            (json!("primary"), json!("primary"), json!(42), Value::Null),
            (
                json!("downstream"),
                json!("secondary"),
                json!(41),
                Value::Null
            ),
        ]
    );
}

#[tokio::test]
async fn without_configuration_the_list_is_empty_and_nothing_is_asked() {
    let fake = probe(&[]);
    let h = Harness::with_probe(fake.clone());
    let zone = h.zone("alone.test").await;
    assert_eq!(h.ok("GET", &path(&zone), None).await, json!([]));
    assert!(fake.asked.lock().unwrap().is_empty());
}

#[tokio::test]
async fn without_a_probe_each_peer_says_probing_is_not_available() {
    let h = Harness::new();
    let peer = h
        .peer(json!({"name": "p", "ip": "127.0.0.1", "port": 5300}))
        .await;
    let zone = h.zone("noprobe.test").await;
    h.ok(
        "POST",
        &format!("/zones/{zone}/secondary_dns/outgoing"),
        Some(json!({"peers": [peer]})),
    )
    .await;
    let got = h.ok("GET", &path(&zone), None).await;
    assert_eq!(got[0]["serial"], Value::Null);
    assert_eq!(got[0]["error"], "peer probing is not available");
    assert_eq!(got[0]["our_serial"], 1);
}

#[tokio::test]
async fn silent_peers_time_out_after_two_seconds_in_parallel() {
    let h = Harness::with_probe(probe(&[(5320, Answer::Silent), (5322, Answer::Serial(3))]));
    let mut peers = Vec::new();
    for (i, port) in [5320, 5321, 5322].into_iter().enumerate() {
        peers.push(
            h.peer(json!({"name": format!("p{i}"), "ip": "127.0.0.1", "port": port}))
                .await,
        );
    }
    let zone = h.zone("slow.test").await;
    h.ok(
        "POST",
        &format!("/zones/{zone}/secondary_dns/outgoing"),
        Some(json!({"peers": peers})),
    )
    .await;
    let started = Instant::now();
    let got = h.ok("GET", &path(&zone), None).await;
    let took = started.elapsed();
    // Two silent peers one after the other would take 4 s.
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_millis(3500),
        "{took:?}"
    );
    assert_eq!(got[0]["error"], "no answer within 2 s");
    assert_eq!(got[1]["error"], "no answer within 2 s");
    assert_eq!(got[2]["serial"], 3);
}

#[tokio::test]
async fn read_tokens_may_ask_and_other_accounts_zones_are_not_found() {
    let h = Harness::with_probe(probe(&[]));
    let zone = h.zone("mine.test").await;
    let account = h.account_id();
    let read = h
        .ok(
            "POST",
            &format!("/accounts/{account}/tokens"),
            Some(json!({"name": "viewer", "permission": "read"})),
        )
        .await;
    let read = read["value"].as_str().unwrap();
    assert_eq!(h.ok_as(read, "GET", &path(&zone), None).await, json!([]));

    let other = h
        .ok("POST", "/accounts", Some(json!({"name": "other"})))
        .await;
    let foreign = h
        .ok(
            "POST",
            &format!("/accounts/{}/tokens", other["id"].as_str().unwrap()),
            Some(json!({"name": "foreign", "permission": "write"})),
        )
        .await;
    let (status, _) = h
        .call_as(foreign["value"].as_str(), "GET", &path(&zone), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h.call_as(None, "GET", &path(&zone), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    h.fails(
        StatusCode::NOT_FOUND,
        "GET",
        &path("0123456789abcdef0123456789abcdef"),
        None,
    )
    .await;
}

#[tokio::test]
async fn a_zones_answers_are_reused_and_concurrent_calls_share_one_round() {
    let fake = probe(&[(5330, Answer::Serial(9)), (5331, Answer::Serial(8))]);
    let h = Harness::with_probe(fake.clone());
    let first = h
        .peer(json!({"name": "first", "ip": "127.0.0.1", "port": 5330}))
        .await;
    let second = h
        .peer(json!({"name": "second", "ip": "127.0.0.1", "port": 5331}))
        .await;
    let zone = h.zone("cached.test").await;
    let outgoing = format!("/zones/{zone}/secondary_dns/outgoing");
    h.ok("POST", &outgoing, Some(json!({"peers": [first]})))
        .await;

    // Ten calls, four of them at once: one query to the peer.
    for _ in 0..6 {
        assert_eq!(h.ok("GET", &path(&zone), None).await[0]["serial"], 9);
    }
    let together = futures_join4(&h, &zone).await;
    assert!(together.iter().all(|v| v[0]["serial"] == 9), "{together:?}");
    assert_eq!(fake.asked.lock().unwrap().len(), 1, "one round per zone");

    // Our own serial is current even in a reused answer.
    h.ok(
        "POST",
        &format!("/zones/{zone}/dns_records"),
        Some(json!({"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 300})),
    )
    .await;
    assert_eq!(h.ok("GET", &path(&zone), None).await[0]["our_serial"], 2);
    assert_eq!(fake.asked.lock().unwrap().len(), 1);

    // A change of the linked peers is seen at once: both are asked afresh.
    h.ok("PUT", &outgoing, Some(json!({"peers": [first, second]})))
        .await;
    let got = h.ok("GET", &path(&zone), None).await;
    assert_eq!(got[1]["serial"], 8, "{got}");
    assert_eq!(fake.asked.lock().unwrap().len(), 3);

    // Another zone has rounds of its own.
    let other = h.zone("other.test").await;
    h.ok(
        "POST",
        &format!("/zones/{other}/secondary_dns/outgoing"),
        Some(json!({"peers": [first]})),
    )
    .await;
    h.ok("GET", &path(&other), None).await;
    assert_eq!(fake.asked.lock().unwrap().len(), 4);
}

/// Four peer_serials calls for `zone` at the same time.
async fn futures_join4(h: &Harness, zone: &str) -> Vec<Value> {
    let p = path(zone);
    let (a, b, c, d) = tokio::join!(
        h.ok("GET", &p, None),
        h.ok("GET", &p, None),
        h.ok("GET", &p, None),
        h.ok("GET", &p, None)
    );
    vec![a, b, c, d]
}

#[tokio::test]
async fn peers_outside_peer_allow_are_refused_and_never_asked() {
    let fake = probe(&[(5340, Answer::Serial(5)), (5341, Answer::Serial(6))]);
    let config = tandem_api::ApiConfig {
        peer_allow: tandem_store::PeerAllow::parse("192.0.2.0/24,2001:db8::/32").unwrap(),
        ..tandem_api::ApiConfig::default()
    };
    let h = Harness::with_probe_and_config(fake.clone(), config);
    let peers = format!("/accounts/{}/secondary_dns/peers", h.account_id());

    // Creating or pointing a peer outside the ranges is a 400 on `ip` that writes nothing.
    for ip in ["127.0.0.1", "10.1.2.3", "::1", "::ffff:127.0.0.1"] {
        let message = h
            .fails(
                StatusCode::BAD_REQUEST,
                "POST",
                &peers,
                Some(json!({"name": "loop", "ip": ip, "port": 5340})),
            )
            .await;
        assert!(
            message.contains("ip") && message.contains("--peer-allow"),
            "{message}"
        );
    }
    assert_eq!(h.ok("GET", &peers, None).await, json!([]));
    let inside = h
        .peer(json!({"name": "inside", "ip": "192.0.2.7", "port": 5341}))
        .await;
    let no_ip = h.peer(json!({"name": "later"})).await;
    h.fails(
        StatusCode::BAD_REQUEST,
        "PUT",
        &format!("{peers}/{inside}"),
        Some(json!({"name": "inside", "ip": "127.0.0.1", "port": 5341})),
    )
    .await;
    assert_eq!(
        h.ok("GET", &format!("{peers}/{inside}"), None).await["ip"],
        "192.0.2.7"
    );

    // A peer stored before the operator narrowed the ranges is never sent to.
    let mut stale = h.store.peer(&h.account_id(), &no_ip).unwrap().unwrap();
    stale.ip = Some("127.0.0.1".parse().unwrap());
    stale.port = 5340;
    h.store.replace_peer(&stale).unwrap();
    let zone = h.zone("fenced.test").await;
    h.ok(
        "POST",
        &format!("/zones/{zone}/secondary_dns/outgoing"),
        Some(json!({"peers": [inside, no_ip]})),
    )
    .await;
    let got = h.ok("GET", &path(&zone), None).await;
    assert_eq!(got[0]["serial"], 6, "{got}");
    assert_eq!(got[1]["serial"], Value::Null, "{got}");
    assert!(
        got[1]["error"].as_str().unwrap().contains("--peer-allow"),
        "{got}"
    );
    let asked = fake.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].1, "192.0.2.7:5341".parse().unwrap());
}
