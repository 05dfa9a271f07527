//! DNS records through the HTTP router: CRUD, filters, batch, import and export, serials.

mod common;

use axum::http::StatusCode;
use common::{error, shape, Harness};
use serde_json::{json, Value};

async fn post(h: &Harness, zone: &str, body: Value) -> (StatusCode, Value) {
    h.call("POST", &format!("/zones/{zone}/dns_records"), Some(body))
        .await
}

#[tokio::test]
async fn record_crud_bumps_the_serial_once_per_change() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let (status, v) = post(
        &h,
        &z,
        json!({"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 1, "comment": "web"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let r = &v["result"];
    assert_eq!(r["name"], "www.example.com");
    assert_eq!(r["zone_name"], "example.com");
    assert_eq!(r["zone_id"], z.as_str());
    assert_eq!(r["ttl"], 1, "automatic, as given");
    assert_eq!(r["proxied"], false);
    assert_eq!(r["comment"], "web");
    assert!(r.get("priority").is_none());
    let rid = r["id"].as_str().unwrap().to_string();
    h.assert_serial(&z, "example.com", 2).await;

    let path = format!("/zones/{z}/dns_records/{rid}");
    let (status, v) = h.call("GET", &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["result"]["content"], "192.0.2.1");

    let (status, v) = h.call("PATCH", &path, Some(json!({"ttl": 600}))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["ttl"], 600);
    assert_eq!(v["result"]["comment"], "web", "PATCH keeps fields left out");
    h.assert_serial(&z, "example.com", 3).await;

    let (status, v) = h
        .call(
            "PUT",
            &path,
            Some(json!({"type": "AAAA", "name": "www.example.com.", "content": "2001:db8::1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["type"], "AAAA");
    assert_eq!(v["result"]["ttl"], 1, "PUT resets fields left out");
    assert_eq!(v["result"]["comment"], Value::Null);
    h.assert_serial(&z, "example.com", 4).await;

    let (status, v) = h.call("DELETE", &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["result"], json!({"id": rid}));
    h.assert_serial(&z, "example.com", 5).await;
    let (status, _) = h.call("GET", &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h.call("DELETE", &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The hook saw one diff per change, SOA first on each side.
    let changes = h.changes.lock().unwrap().clone();
    assert_eq!(
        changes.iter().map(|c| c.1).collect::<Vec<_>>(),
        vec![2, 3, 4, 5]
    );
    for (_, serial, diff) in &changes {
        assert_eq!(diff.to_serial(), Some(*serial));
        assert_eq!(diff.from_serial(), Some(serial - 1));
    }
}

#[tokio::test]
async fn content_forms_and_field_errors() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let cases = [
        (
            json!({"type": "MX", "name": "@", "content": "mail", "priority": 10}),
            "mail.example.com",
            Some(10),
        ),
        (
            json!({"type": "MX", "name": "@", "content": "mx.example.net", "priority": 20}),
            "mx.example.net",
            Some(20),
        ),
        (
            json!({"type": "SRV", "name": "_sip._tcp", "content": "5 5060 sip.example.com", "priority": 1}),
            "5 5060 sip.example.com",
            Some(1),
        ),
        (
            json!({"type": "CNAME", "name": "alias", "content": "www"}),
            "www.example.com",
            None,
        ),
        (
            json!({"type": "TXT", "name": "t", "content": "\"v=spf1 -all\""}),
            "v=spf1 -all",
            None,
        ),
        (
            json!({"type": "CAA", "name": "@", "content": "0 issue \"letsencrypt.org\""}),
            "0 issue \"letsencrypt.org\"",
            None,
        ),
        (
            json!({"type": "URI", "name": "_ftp._tcp", "content": "1 \"ftp://ftp.example.com/\"", "priority": 10}),
            "1 \"ftp://ftp.example.com/\"",
            Some(10),
        ),
    ];
    for (body, content, priority) in cases {
        let (status, v) = post(&h, &z, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body} -> {v}");
        assert_eq!(v["result"]["content"], content, "{body}");
        assert_eq!(v["result"]["priority"].as_u64(), priority, "{body}");
    }
    // An unknown type is served byte for byte and listed under its generic name (RFC 3597).
    let (status, v) = post(
        &h,
        &z,
        json!({"type": "TYPE65534", "name": "u", "content": "\\# 3 ABCDEF"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, v) = h
        .call(
            "GET",
            &format!("/zones/{z}/dns_records?type=TYPE65534"),
            None,
        )
        .await;
    assert_eq!(v["result"][0]["type"], "TYPE65534");
    let content = v["result"][0]["content"].as_str().unwrap();
    assert_eq!(content.replace(' ', ""), "\\#3abcdef", "{content}");
    let apex = tandem_zone::Name::parse("example.com").unwrap();
    let version = h.zones.get(&apex).unwrap().current().unwrap();
    let node = version.node(apex.prepend(b"u").unwrap().as_wire()).unwrap();
    assert_eq!(
        node.rrset(65534).unwrap().rdatas().next().unwrap(),
        &[0xab, 0xcd, 0xef]
    );
    assert!(h
        .export(&z)
        .await
        .contains(&format!("TYPE65534\t{content}")));

    let serial = h.served_serial("example.com");
    let bad = [
        (
            json!({"type": "A", "name": "x", "content": "999.1.1.1"}),
            "content: ",
        ),
        (
            json!({"type": "A", "name": "x", "content": "192.0.2.1", "ttl": 5}),
            "ttl: ",
        ),
        (
            json!({"type": "A", "name": "x", "content": "192.0.2.1", "ttl": "300"}),
            "ttl: ",
        ),
        (json!({"type": "A", "name": "x"}), "content: "),
        (json!({"name": "x", "content": "192.0.2.1"}), "type: "),
        (
            json!({"type": "BOGUS", "name": "x", "content": "1"}),
            "type: ",
        ),
        (
            json!({"type": "MX", "name": "x", "content": "mail"}),
            "priority: ",
        ),
        (
            json!({"type": "A", "name": "www.example.org.", "content": "192.0.2.1"}),
            "name: ",
        ),
        (
            json!({"type": "SOA", "name": "@", "content": "a. b. 1 2 3 4 5"}),
            "type: ",
        ),
        (
            json!({"type": "A", "name": "x", "content": "192.0.2.1", "proxied": true}),
            "proxied: ",
        ),
    ];
    for (body, prefix) in bad {
        let (status, v) = post(&h, &z, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error(&v).starts_with(prefix), "{body} -> {v}");
    }
    assert_eq!(
        h.served_serial("example.com"),
        serial,
        "rejected requests change nothing"
    );
}

#[tokio::test]
async fn zone_rules_and_duplicates_are_refused() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let (status, _) = post(
        &h,
        &z,
        json!({"type": "A", "name": "www", "content": "192.0.2.1"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = post(
        &h,
        &z,
        json!({"type": "CNAME", "name": "www", "content": "other.example.net"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).contains("CNAME"), "{v}");
    let (status, v) = post(
        &h,
        &z,
        json!({"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 900}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).contains("identical"), "{v}");
    h.assert_serial(&z, "example.com", 2).await;

    // The last apex NS cannot go; nor can the SOA.
    let records = h.records(&z).await;
    let ns = records.iter().find(|r| r["type"] == "NS").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, v) = h
        .call("DELETE", &format!("/zones/{z}/dns_records/{ns}"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).contains("NS"), "{v}");
    let soa = records.iter().find(|r| r["type"] == "SOA").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = h
        .call("DELETE", &format!("/zones/{z}/dns_records/{soa}"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    h.assert_serial(&z, "example.com", 2).await;

    // SOA fields other than the serial change with PATCH; the serial still goes up by one.
    let path = format!("/zones/{z}/dns_records/{soa}");
    let (status, v) = h
        .call(
            "PATCH",
            &path,
            Some(json!({"content": "ns1 admin.example.net 999 3600 600 604800 60"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["result"]["content"],
        "ns1.example.com admin.example.net 3 3600 600 604800 60"
    );
    h.assert_serial(&z, "example.com", 3).await;
    let (status, v) = h.call("PATCH", &path, Some(json!({"type": "A"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).starts_with("type: "));
}

#[tokio::test]
async fn filters_and_pages() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let posts: Vec<Value> = (0..25)
        .map(|i| json!({"type": "A", "name": format!("h{i:02}"), "content": "192.0.2.1"}))
        .collect();
    let (status, v) = h
        .call(
            "POST",
            &format!("/zones/{z}/dns_records/batch"),
            Some(json!({"posts": posts})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, v) = h
        .call(
            "GET",
            &format!("/zones/{z}/dns_records?per_page=10&page=3"),
            None,
        )
        .await;
    assert_eq!(
        v["result_info"],
        json!({"page": 3, "per_page": 10, "count": 7, "total_count": 27, "total_pages": 3})
    );
    let (_, v) = h
        .call(
            "GET",
            &format!("/zones/{z}/dns_records?type=a&per_page=5"),
            None,
        )
        .await;
    assert_eq!(v["result_info"]["total_count"], 25);
    assert_eq!(v["result"][0]["name"], "h00.example.com", "ordered by name");
    for name in ["h07.example.com", "h07.example.com.", "h07"] {
        let (_, v) = h
            .call("GET", &format!("/zones/{z}/dns_records?name={name}"), None)
            .await;
        assert_eq!(v["result_info"]["total_count"], 1, "{name}");
        assert_eq!(v["result"][0]["name"], "h07.example.com");
    }
    let (_, v) = h
        .call(
            "GET",
            &format!("/zones/{z}/dns_records?type=NS&name=example.com"),
            None,
        )
        .await;
    assert_eq!(v["result_info"]["total_count"], 1);
    let (status, _) = h
        .call("GET", &format!("/zones/{z}/dns_records?per_page=0"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn batch_is_one_change_or_none() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (_, v) = post(
            &h,
            &z,
            json!({"type": "A", "name": format!("r{i}"), "content": "192.0.2.1"}),
        )
        .await;
        ids.push(v["result"]["id"].as_str().unwrap().to_string());
    }
    h.assert_serial(&z, "example.com", 4).await;
    let before = h.records(&z).await;

    let batch = |bad_post: &str| {
        json!({
            "deletes": [{"id": ids[0]}],
            "patches": [{"id": ids[1], "ttl": 900}],
            "puts": [{"id": ids[2], "type": "TXT", "name": "r2", "content": "\"hello\""}],
            "posts": [{"type": "A", "name": "new", "content": "192.0.2.9"}, {"type": "A", "name": "new2", "content": bad_post}],
        })
    };
    let path = format!("/zones/{z}/dns_records/batch");
    let (status, v) = h.call("POST", &path, Some(batch("not-an-ip"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).starts_with("posts[1]: content: "), "{v}");
    assert_eq!(
        shape(&h.records(&z).await),
        shape(&before),
        "nothing applied"
    );
    h.assert_serial(&z, "example.com", 4).await;

    // A zone-rule failure caused by the combination is refused as a whole too.
    let (status, _) = h
        .call(
            "POST",
            &path,
            Some(json!({"posts": [{"type": "CNAME", "name": "r1", "content": "x.example.net"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, v) = h
        .call("POST", &path, Some(json!({"patches": [{"ttl": 60}]})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).starts_with("patches[0].id: "), "{v}");
    h.assert_serial(&z, "example.com", 4).await;

    let (status, v) = h.call("POST", &path, Some(batch("192.0.2.10"))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let r = &v["result"];
    assert_eq!(r["deletes"][0]["id"], ids[0].as_str());
    assert_eq!(r["patches"][0]["ttl"], 900);
    assert_eq!(r["puts"][0]["type"], "TXT");
    assert_eq!(r["posts"].as_array().unwrap().len(), 2);
    h.assert_serial(&z, "example.com", 5).await;
    assert_eq!(h.records(&z).await.len(), before.len() + 1);
    let last = h.changes.lock().unwrap().last().unwrap().clone();
    assert_eq!(
        last.2.removed.len(),
        1 + 1 + 1 + 1,
        "SOA, deleted, patched, replaced"
    );
    assert_eq!(last.2.added.len(), 1 + 1 + 1 + 2);
}

#[tokio::test]
async fn import_merge_and_replace() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    post(
        &h,
        &z,
        json!({"type": "A", "name": "keep", "content": "192.0.2.1"}),
    )
    .await;
    let file = "$TTL 600\n@ IN SOA ns1 hostmaster 100 7200 3600 1209600 300\nwww IN A 192.0.2.2\nmail.example.com. 300 IN MX 10 mx.example.net.\nkeep IN A 192.0.2.1\n";
    let (status, v) = h.import(&z, file, false).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["result"],
        json!({"recs_added": 2, "total_records_parsed": 4})
    );
    h.assert_serial(&z, "example.com", 100).await;
    assert_eq!(h.records(&z).await.len(), 2 + 3);

    // The same file again adds nothing, and its serial is not newer: no new version.
    let (_, v) = h.import(&z, file, false).await;
    assert_eq!(v["result"]["recs_added"], 0);
    h.assert_serial(&z, "example.com", 100).await;
    // An SOA whose serial is older still replaces the fields, with serial current + 1.
    let (status, _) = h.import(&z, "@ SOA ns1 hm 5 1 2 3 4\n", false).await;
    assert_eq!(status, StatusCode::OK);
    h.assert_serial(&z, "example.com", 101).await;

    // A bad line is named and nothing is imported.
    let count = h.records(&z).await.len();
    for (text, line) in [
        (
            "a IN A 192.0.2.3\nb IN A 192.0.2.4\nc IN A 300.1.1.1\n",
            "line 3",
        ),
        (
            "a IN A 192.0.2.3\nwww.example.org. IN A 192.0.2.4\n",
            "line 2",
        ),
        ("a IN A 192.0.2.3\n$INCLUDE /etc/passwd\n", "line 2"),
        ("a IN A 192.0.2.3\nb 4294967295 IN A 192.0.2.3\n", "line 2"),
    ] {
        let (status, v) = h.import(&z, text, false).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        assert!(error(&v).starts_with(line), "{text} -> {v}");
    }
    assert_eq!(h.records(&z).await.len(), count);
    h.assert_serial(&z, "example.com", 101).await;

    // Replace: the file must keep an apex NS; then the zone is exactly the file.
    let (status, v) = h.import(&z, "only IN A 192.0.2.7\n", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).contains("NS"), "{v}");
    let (status, v) = h
        .import(
            &z,
            "@ 3600 IN NS ns1.example.net.\nonly 60 IN A 192.0.2.7\nkeep 900 IN A 192.0.2.1\n",
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["recs_added"], 2);
    h.assert_serial(&z, "example.com", 102).await;
    let got = shape(&h.records(&z).await);
    assert_eq!(
        got,
        vec![
            (
                "example.com".into(),
                "NS".into(),
                "ns1.example.net".into(),
                3600,
                None
            ),
            (
                "keep.example.com".into(),
                "A".into(),
                "192.0.2.1".into(),
                900,
                None
            ),
            (
                "only.example.com".into(),
                "A".into(),
                "192.0.2.7".into(),
                60,
                None
            ),
        ]
    );

    // A replacing file larger than the zone (the zone's side is the one indexed): what it
    // repeats is kept, with the file's TTL; what it lacks goes; the rest is added.
    let mut file = String::from("@ 3600 IN NS ns1.example.net.\nkeep 120 IN A 192.0.2.1\n");
    for i in 0..8 {
        file.push_str(&format!("new{i} 300 IN A 192.0.2.{}\n", 10 + i));
    }
    let (status, v) = h.import(&z, &file, true).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["recs_added"], 8);
    let got = shape(&h.records(&z).await);
    assert_eq!(got.len(), 1 + 1 + 8, "{got:?}");
    assert!(got.iter().all(|r| r.0 != "only.example.com"), "{got:?}");
    let keep = got.iter().find(|r| r.0 == "keep.example.com").unwrap();
    assert_eq!(keep.3, 120, "the file's TTL");
}

#[tokio::test]
async fn export_imports_back_to_the_same_records() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    for body in [
        json!({"type": "MX", "name": "@", "content": "mail", "priority": 10}),
        json!({"type": "TXT", "name": "@", "content": "\"a b\" \"c\""}),
        json!({"type": "SRV", "name": "_x._tcp", "content": "1 80 www.example.com", "priority": 5}),
        json!({"type": "TYPE65280", "name": "odd", "content": "\\# 2 0102"}),
        json!({"type": "AAAA", "name": "*.wild", "content": "2001:db8::5", "ttl": 3600}),
        json!({"type": "HTTPS", "name": "svc", "content": "1 . alpn=h2"}),
    ] {
        let (status, v) = post(&h, &z, body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let before = h.records(&z).await;
    let text = h.export(&z).await;
    assert!(text.lines().nth(2).unwrap().contains("\tSOA\t"), "{text}");

    let (status, _) = h.call("DELETE", &format!("/zones/{z}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let z2 = h.zone("example.com").await;
    let (status, v) = h.import(&z2, &text, true).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // A zone file has no automatic TTL: those records come back with the TTL served (300).
    let served = |rs: Vec<Value>| -> Vec<Value> {
        rs.into_iter()
            .map(|mut r| {
                if r["ttl"] == 1 {
                    r["ttl"] = json!(300);
                }
                r
            })
            .collect()
    };
    assert_eq!(shape(&h.records(&z2).await), shape(&served(before.clone())));
    let soa = |rs: &[Value]| rs.iter().find(|r| r["type"] == "SOA").unwrap()["content"].clone();
    assert_eq!(
        soa(&h.records(&z2).await),
        soa(&before),
        "the exported SOA serial is newer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_edits_do_not_interleave() {
    let h = std::sync::Arc::new(Harness::new());
    let z = h.zone("example.com").await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (h, z) = (h.clone(), z.clone());
            tokio::spawn(async move {
                post(
                    &h,
                    &z,
                    json!({"type": "A", "name": format!("c{i}"), "content": "192.0.2.1"}),
                )
                .await
                .0
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    h.assert_serial(&z, "example.com", 21).await;
    assert_eq!(h.records(&z).await.len(), 22);
}

/// THREATS "From the API", hardening row 1 and 4: RDATA malformed for its type (the generic
/// `\#` form, empty labels, compression pointers) and unbalanced parentheses are 400s naming
/// the content or the zone-file line; nothing is written and nothing panics.
#[tokio::test]
async fn rdata_malformed_for_its_type_is_refused_everywhere() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let serial = h.served_serial("example.com");
    let bad = [
        ("A", "\\# 3 c00002"),
        ("A", "\\# 5 c000020101"),
        ("MX", "\\# 1 00"),
        ("CNAME", "\\# 2 c00c"),
        ("CNAME", "bad..name"),
        ("NS", "a..b"),
        ("TYPE29", "\\# 3 000102"),
        ("TXT", "\"x"),
        ("TXT", "\"a\" ( \"b\""),
    ];
    for (t, content) in bad {
        let body = json!({"type": t, "name": "x", "content": content, "ttl": 300});
        let (status, v) = post(&h, &z, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {v}");
        assert!(error(&v).starts_with("content: "), "{body} -> {v}");
        // The same record in a zone file is refused naming its line.
        let file = format!("ok IN A 192.0.2.9\nx 300 IN {t} {content}\n");
        let (status, v) = h.import(&z, &file, false).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{file} -> {v}");
        assert!(error(&v).contains("line 2"), "{file} -> {v}");
        // And in a batch.
        let (status, v) = h
            .call(
                "POST",
                &format!("/zones/{z}/dns_records/batch"),
                Some(json!({"posts": [
                    {"type": "A", "name": "ok", "content": "192.0.2.9"},
                    {"type": t, "name": "x", "content": content}
                ]})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "batch {body} -> {v}");
    }
    assert_eq!(
        h.served_serial("example.com"),
        serial,
        "nothing was written"
    );
    // Hardening row 6: an import takes the API's TTLs (30..=2^31-1) and names the line.
    for ttl in ["0", "29"] {
        let file = format!("ok IN A 192.0.2.9\nlow {ttl} IN A 192.0.2.10\n");
        let (status, v) = h.import(&z, &file, false).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{file} -> {v}");
        assert!(error(&v).starts_with("line 2: TTL"), "{file} -> {v}");
    }
    assert_eq!(h.served_serial("example.com"), serial);
    // The generic form of a well-formed record is that record.
    let (status, v) = post(
        &h,
        &z,
        json!({"type": "A", "name": "g", "content": "\\# 4 c0000201"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["content"], "192.0.2.1", "{v}");
}

/// Hardening row 8: a record that could never fit in a transfer message (65535 octets less
/// header, question and the largest TSIG) is refused at the API and at import; one at the
/// limit is taken.
#[tokio::test]
async fn records_too_large_for_any_transfer_message_are_refused() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let serial = h.served_serial("example.com");
    // Owner `x.example.com` is 15 octets: 15 + 10 + RDATA ≤ 64900.
    let hex = |n: usize| "ab".repeat(n);
    let too_big = format!("\\# 64876 {}", hex(64876));
    let (status, v) = post(
        &h,
        &z,
        json!({"type": "TYPE65280", "name": "x", "content": too_big}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(error(&v).contains("could never fit"), "{v}");
    let (status, v) = h
        .import(&z, &format!("x 300 IN TYPE65280 {too_big}\n"), false)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(error(&v).starts_with("line 1: "), "{v}");
    assert_eq!(h.served_serial("example.com"), serial);
    let fits = format!("\\# 64875 {}", hex(64875));
    let (status, v) = post(
        &h,
        &z,
        json!({"type": "TYPE65280", "name": "x", "content": fits}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
}
