//! The records of a `secondary` zone are read from the version it serves, not from record rows:
//! the list with its filters and pages, and one record by its content id.

mod common;

use axum::http::StatusCode;
use common::{error, Harness};
use serde_json::Value;
use std::sync::Arc;
use tandem_store::prelude::*;
use tandem_store::{content_id, Page, RecordFilter};
use tandem_zone::text::parse_zonefile;
use tandem_zone::{Name, ZoneVersion};

/// What a transfer of `sec.test` brought.
const ZONE: &str = r#"
@    3600 IN SOA ns1.sec.test. hostmaster.sec.test. 42 3600 600 86400 300
@    3600 IN NS ns1.sec.test.
@     300 IN MX 10 mail.sec.test.
www   300 IN A 192.0.2.1
www   600 IN A 192.0.2.2
www   300 IN TXT "hello"
mail  300 IN A 192.0.2.3
_acme-challenge 120 IN TXT "TOKEN1"
_acme-challenge 120 IN TXT "TOKEN2"
"#;

/// Serves `ZONE` as the secondary zone `sec.test` would after its first transfer, without
/// writing a record row.
fn transfer(h: &Harness) -> ZoneVersion {
    let apex = Name::parse("sec.test").unwrap();
    let records = parse_zonefile(ZONE, &apex, 300)
        .unwrap()
        .into_iter()
        .map(|p| p.record);
    let version = ZoneVersion::build(apex.clone(), records).unwrap();
    h.zones
        .get(&apex)
        .unwrap()
        .publish(Arc::new(version.clone()));
    version
}

/// The `result` and `result_info` of a listing.
async fn list(h: &Harness, zone: &str, query: &str) -> (Vec<Value>, Value) {
    let (status, v) = h
        .call("GET", &format!("/zones/{zone}/dns_records?{query}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {v}");
    (
        v["result"].as_array().unwrap().clone(),
        v["result_info"].clone(),
    )
}

#[tokio::test]
async fn a_pending_secondary_zone_lists_nothing_and_finds_no_id() {
    let h = Harness::new();
    let sec = h.secondary_zone("sec.test").await;
    let (records, info) = list(&h, &sec, "name=www.sec.test&type=A").await;
    assert!(records.is_empty());
    assert_eq!(info["total_count"], 0);
    assert!(h.records(&sec).await.is_empty());
    let id = "0123456789abcdef0123456789abcdef";
    let message = h
        .fails(
            StatusCode::NOT_FOUND,
            "GET",
            &format!("/zones/{sec}/dns_records/{id}"),
            None,
        )
        .await;
    assert!(message.contains(id), "{message}");
}

#[tokio::test]
async fn a_secondary_zone_lists_and_reads_the_records_it_serves() {
    let h = Harness::new();
    let sec = h.secondary_zone("sec.test").await;
    let version = transfer(&h);
    // No row holds them: whatever is listed comes from the served version.
    let (rows, _) = h
        .store
        .list_records(
            &sec,
            &RecordFilter::default(),
            Page {
                page: 1,
                per_page: 100,
            },
        )
        .unwrap();
    assert!(rows.is_empty());

    // What octoDNS, certbot and lexicon ask: one name, one type.
    let (records, info) = list(&h, &sec, "name=WWW.sec.test&type=A").await;
    let shown: Vec<(&str, &str, &str, u64)> = records
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["type"].as_str().unwrap(),
                r["content"].as_str().unwrap(),
                r["ttl"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = shown.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            ("www.sec.test", "A", "192.0.2.1", 300),
            ("www.sec.test", "A", "192.0.2.2", 600),
        ]
    );
    assert_eq!(info["total_count"], 2);
    let (relative, _) = list(&h, &sec, "name=www&type=TXT").await;
    assert_eq!(relative.len(), 1);
    assert_eq!(relative[0]["content"], "hello");
    let (token, _) = list(
        &h,
        &sec,
        "type=TXT&name=_acme-challenge.sec.test&content=token1",
    )
    .await;
    assert_eq!(token.len(), 1);
    assert_eq!(token[0]["content"], "TOKEN1");

    // Every record, the SOA among them, with the id of its content and the zone's time.
    let zone = h.ok("GET", &format!("/zones/{sec}"), None).await;
    let all = h.records(&sec).await;
    assert_eq!(all.len(), version.record_count());
    assert_eq!(all.iter().filter(|r| r["type"] == "SOA").count(), 1);
    for r in &all {
        assert_eq!(r["zone_id"], sec.as_str());
        assert_eq!(r["zone_name"], "sec.test");
        assert_eq!(r["comment"], Value::Null);
        assert_eq!(r["tags"], serde_json::json!([]));
        assert_eq!(r["created_on"], zone["modified_on"], "{r}");
        assert_eq!(r["modified_on"], zone["modified_on"], "{r}");
    }
    let mx = all.iter().find(|r| r["type"] == "MX").unwrap();
    assert_eq!(mx["content"], "mail.sec.test");
    assert_eq!(mx["priority"], 10);
    let ids: Vec<String> = version.records().map(|r| content_id(&sec, &r)).collect();
    for r in &all {
        assert!(ids.contains(&r["id"].as_str().unwrap().to_string()), "{r}");
    }

    // Pages of the served records.
    let (page, info) = list(&h, &sec, "per_page=4&page=3&order=type&direction=desc").await;
    assert_eq!(page.len(), 1);
    assert_eq!(info["total_count"], 9);
    assert_eq!(info["total_pages"], 3);

    // One record by its id: the same object the list shows.
    for r in &shown_ids(&records) {
        let one = h
            .ok("GET", &format!("/zones/{sec}/dns_records/{r}"), None)
            .await;
        let listed = records.iter().find(|x| x["id"] == r.as_str()).unwrap();
        assert_eq!(&one, listed);
    }
    let (status, v) = h
        .call(
            "GET",
            &format!("/zones/{sec}/dns_records/0123456789abcdef0123456789abcdef"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert!(error(&v).contains("not found"), "{v}");
}

/// The ids of listed records.
fn shown_ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}
