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
