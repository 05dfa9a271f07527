//! `full` zones kept as a snapshot and the journal since: an import writes no row per record,
//! its records go by their content id, and the rows that remain (records created one by one,
//! records given a comment, tags or a new content) keep their ids and metadata through edits,
//! listings and restarts.

mod common;

use axum::http::StatusCode;
use common::{error, Harness};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tandem_store::prelude::*;
use tandem_store::{content_id, JournalLimits};

/// A file of `n` A records below `example.com`.
fn hosts(n: usize) -> String {
    (0..n)
        .map(|i| format!("h{i} 300 IN A 10.0.{}.{}\n", i / 250, i % 250))
        .collect()
}

fn id_of<'a>(records: &'a [Value], name: &str, content: &str) -> &'a str {
    records
        .iter()
        .find(|r| r["name"] == name && r["content"] == content)
        .unwrap_or_else(|| panic!("{name} {content} not listed"))["id"]
        .as_str()
        .unwrap()
}

/// A harness with a full zone `example.com` holding [`hosts`]`(n)`, imported; the zone's id
/// and its records as listed.
async fn imported(n: usize) -> (Harness, String, Vec<Value>) {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let (status, v) = h.import(&z, &hosts(n), false).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let records = h.records(&z).await;
    (h, z, records)
}

/// The version `example.com` serves.
fn served(h: &Harness) -> std::sync::Arc<tandem_zone::ZoneVersion> {
    let apex = tandem_zone::Name::parse("example.com").unwrap();
    h.zones.get(&apex).unwrap().current().unwrap()
}

async fn get(h: &Harness, z: &str, id: &str) -> (StatusCode, Value) {
    h.call("GET", &format!("/zones/{z}/dns_records/{id}"), None)
        .await
}

#[tokio::test]
async fn an_import_writes_no_row_per_record_and_its_records_go_by_content_id() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let rows_before = h.store.record_keys(&z).unwrap().len();
    let (status, v) = h.import(&z, &hosts(300), false).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["recs_added"], 300);

    // Only the SOA row changed; no record of the file has a row.
    assert_eq!(h.store.record_keys(&z).unwrap().len(), rows_before);
    let serial = h.served_serial("example.com");
    let snap = h
        .store
        .zone_snapshot(&z, serial)
        .unwrap()
        .expect("snapshot");
    assert_eq!(
        snap.records.len() + count_added(&snap.redo),
        rows_before + 300
    );

    let records = h.records(&z).await;
    assert_eq!(records.len(), rows_before + 300);
    let version = served(&h);
    for r in version.records() {
        if r.owner.to_api().starts_with('h') {
            let id = content_id(&z, &r);
            let (status, got) = get(&h, &z, &id).await;
            assert_eq!(status, StatusCode::OK, "{got}");
            assert_eq!(got["result"]["name"], r.owner.to_api());
            assert_eq!(got["result"]["ttl"], 300);
        }
    }
    // Each id is listed once.
    let ids: BTreeSet<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), records.len());
}

/// Records added by the journal's differences after the snapshot, less those removed.
fn count_added(redo: &[tandem_zone::ZoneDiff]) -> usize {
    redo.iter()
        .map(|d| d.added.len() - d.removed.len())
        .sum::<usize>()
}

#[tokio::test]
async fn an_imported_record_keeps_its_id_through_edits_and_restarts() {
    let (h, z, records) = imported(20).await;
    let id = id_of(&records, "h3.example.com", "10.0.0.3").to_string();
    let other = id_of(&records, "h4.example.com", "10.0.0.4").to_string();
    let rows = h.store.record_keys(&z).unwrap().len();

    // A new content, a comment and tags: the record gets a row, under the same id.
    let v = h
        .ok(
            "PATCH",
            &format!("/zones/{z}/dns_records/{id}"),
            Some(json!({"content": "192.0.2.33", "comment": "moved", "tags": ["env:prod"]})),
        )
        .await;
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["content"], "192.0.2.33");
    assert_eq!(h.store.record_keys(&z).unwrap().len(), rows + 1);
    let (_, got) = get(&h, &z, &id).await;
    assert_eq!(got["result"]["comment"], "moved");
    assert_eq!(got["result"]["tags"], json!(["env:prod"]));

    // A record without a row is deleted by its content id.
    let (status, v) = h
        .call("DELETE", &format!("/zones/{z}/dns_records/{other}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["id"], other.as_str());
    let (status, _) = get(&h, &z, &other).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The listing filters the row's comment and tags as the store does.
    let (_, v) = h
        .call(
            "GET",
            &format!("/zones/{z}/dns_records?comment.present=true"),
            None,
        )
        .await;
    let ids: Vec<&str> = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id.as_str()]);
    let (_, v) = h
        .call("GET", &format!("/zones/{z}/dns_records?tag=env:prod"), None)
        .await;
    assert_eq!(v["result"].as_array().unwrap().len(), 1, "{v}");
    let (_, v) = h
        .call(
            "GET",
            &format!("/zones/{z}/dns_records?comment.absent=true&type=A"),
            None,
        )
        .await;
    assert_eq!(v["result_info"]["total_count"], 20 - 2, "{v}");

    let before = h.records(&z).await;
    let serial = h.served_serial("example.com");
    let h = h.reopen();
    assert_eq!(h.served_serial("example.com"), serial);
    let after = h.records(&z).await;
    assert_eq!(before, after, "ids, contents and times survive a restart");
    let (_, got) = get(&h, &z, &id).await;
    assert_eq!(got["result"]["content"], "192.0.2.33");
}

#[tokio::test]
async fn the_old_content_of_a_changed_record_imported_again_gets_a_new_id() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    h.import(&z, "a 300 IN A 192.0.2.1\n", false).await;
    let first = id_of(&h.records(&z).await, "a.example.com", "192.0.2.1").to_string();
    h.ok(
        "PATCH",
        &format!("/zones/{z}/dns_records/{first}"),
        Some(json!({"content": "192.0.2.2"})),
    )
    .await;
    // The first record still holds the id that was the content id of 192.0.2.1.
    let (status, v) = h.import(&z, "a 300 IN A 192.0.2.1\n", false).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let records = h.records(&z).await;
    let again = id_of(&records, "a.example.com", "192.0.2.1");
    assert_ne!(again, first);
    assert_eq!(id_of(&records, "a.example.com", "192.0.2.2"), first);
    let (_, got) = get(&h, &z, &first).await;
    assert_eq!(got["result"]["content"], "192.0.2.2");
    let (_, got) = get(&h, &z, again).await;
    assert_eq!(got["result"]["content"], "192.0.2.1");
}

#[tokio::test]
async fn a_record_with_a_row_is_not_found_by_its_content_id() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let created = h.records(&z).await.len();
    let v = h
        .ok(
            "POST",
            &format!("/zones/{z}/dns_records"),
            Some(json!({"type": "A", "name": "www", "content": "192.0.2.7"})),
        )
        .await;
    let id = v["id"].as_str().unwrap();
    let version = served(&h);
    let www = version
        .records()
        .find(|r| r.owner.to_api() == "www.example.com")
        .unwrap();
    let cid = content_id(&z, &www);
    assert_ne!(cid, id);
    let (status, v) = get(&h, &z, &cid).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    let (status, v) = h
        .call("DELETE", &format!("/zones/{z}/dns_records/{cid}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{}", error(&v));
    assert_eq!(h.records(&z).await.len(), created + 1);
}

#[tokio::test]
async fn a_replacing_import_changes_ttls_and_removes_records_without_rows() {
    let (h, z, records) = imported(10).await;
    let h1 = id_of(&records, "h1.example.com", "10.0.0.1").to_string();
    let mut file = String::from("@ 3600 IN NS ns1.example.net.\n");
    file.push_str("h1 900 IN A 10.0.0.1\nh2 300 IN A 10.0.0.2\nnew 300 IN A 192.0.2.9\n");
    let (status, v) = h.import(&z, &file, true).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // The file's NS and `new`.
    assert_eq!(v["result"]["recs_added"], 2);
    let records = h.records(&z).await;
    let names: Vec<(String, u64)> = records
        .iter()
        .filter(|r| r["type"] == "A")
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["ttl"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("h1.example.com".into(), 900),
            ("h2.example.com".into(), 300),
            ("new.example.com".into(), 300),
        ]
    );
    // The content id does not hold the TTL: h1 keeps its id.
    assert_eq!(id_of(&records, "h1.example.com", "10.0.0.1"), h1);
    let h = h.reopen();
    assert_eq!(h.records(&z).await, records);
}

#[tokio::test]
async fn an_import_of_more_than_half_the_zone_leaves_a_snapshot_not_a_journal_entry() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let created = h.records(&z).await.len();
    let n = JournalLimits::default().min_records_budget + 100;
    let (status, v) = h.import(&z, &hosts(n), false).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let serial = h.served_serial("example.com");
    assert_eq!(h.store.journal_depth(&z).unwrap(), 0);
    let snap = h.store.zone_snapshot(&z, serial).unwrap().unwrap();
    assert_eq!(snap.serial, serial);
    assert!(snap.redo.is_empty());
    // A one-record change after it is journaled, and the journal leads from the snapshot.
    h.ok(
        "POST",
        &format!("/zones/{z}/dns_records"),
        Some(json!({"type": "A", "name": "one", "content": "192.0.2.1"})),
    )
    .await;
    assert_eq!(h.store.journal_depth(&z).unwrap(), 1);
    let next = h.served_serial("example.com");
    let snap = h.store.zone_snapshot(&z, next).unwrap().unwrap();
    assert_eq!((snap.serial, snap.redo.len()), (serial, 1));
    let h = h.reopen();
    assert_eq!(h.served_serial("example.com"), next);
    assert_eq!(h.records(&z).await.len(), created + n + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_during_edits_shows_each_record_once() {
    let (h, z, records) = imported(200).await;
    let h = std::sync::Arc::new(h);
    let total = records.len();
    let ids: Vec<String> = records
        .iter()
        .filter(|r| r["type"] == "A")
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    // Each imported record gets its row while listings run: a listing that took the version
    // before a change and the rows after it would show the record twice under one id.
    let editor = {
        let (h, z) = (h.clone(), z.clone());
        tokio::spawn(async move {
            for (i, id) in ids.iter().enumerate() {
                h.ok(
                    "PATCH",
                    &format!("/zones/{z}/dns_records/{id}"),
                    Some(json!({"content": format!("192.0.2.{}", i % 250)})),
                )
                .await;
            }
        })
    };
    let mut listings = 0;
    while !editor.is_finished() {
        let records = h.records(&z).await;
        let ids: BTreeSet<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(records.len(), total);
        assert_eq!(ids.len(), total, "an id listed twice");
        listings += 1;
    }
    editor.await.unwrap();
    assert!(listings > 0);
}
