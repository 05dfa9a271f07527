//! Records shaped like the provider's (PRODUCT §3 "API conventions"): names in content without
//! the trailing dot, TXT content as the provider means it, `ttl: 1`, the `data` form, `meta`,
//! `settings`, `tags`, the provider's error codes, and writes that change nothing changing
//! nothing (no serial, no journal, no NOTIFY).

mod common;

use axum::http::StatusCode;
use common::{error, Harness};
use serde_json::{json, Value};
use tandem_store::prelude::*;
use tandem_zone::Name;

async fn post(h: &Harness, zone: &str, body: Value) -> (StatusCode, Value) {
    h.call("POST", &format!("/zones/{zone}/dns_records"), Some(body))
        .await
}

async fn created(h: &Harness, zone: &str, body: Value) -> Value {
    let (status, v) = post(h, zone, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body} -> {v}");
    v["result"].clone()
}

/// The RDATA and TTL served for `owner`/`t` right now.
fn served(h: &Harness, apex: &str, owner: &str, t: u16) -> Vec<(u32, Vec<u8>)> {
    let version = h
        .zones
        .get(&Name::parse(apex).unwrap())
        .unwrap()
        .current()
        .unwrap();
    let name = Name::parse(owner).unwrap();
    let Some(set) = version.node(name.as_wire()).and_then(|n| n.rrset(t)) else {
        return Vec::new();
    };
    set.rdatas().map(|rd| (set.ttl(), rd.to_vec())).collect()
}

fn code(v: &Value) -> u64 {
    v["errors"][0]["code"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn txt_content_is_the_providers() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    // Unquoted: one value, literally, `;` and spaces included, split at 255 octets on the wire.
    let dkim = format!("v=DKIM1; k=rsa; p={}", "MIIBIjANBgkqhkiG9w0B".repeat(20));
    let r = created(
        &h,
        &z,
        json!({"type": "TXT", "name": "k._domainkey", "content": dkim}),
    )
    .await;
    assert_eq!(r["content"], dkim.as_str());
    let wire = served(&h, "example.com", "k._domainkey.example.com", 16);
    let mut want = vec![255u8];
    want.extend_from_slice(&dkim.as_bytes()[..255]);
    want.push((dkim.len() - 255) as u8);
    want.extend_from_slice(&dkim.as_bytes()[255..]);
    assert_eq!(wire, vec![(300, want)]);

    let spf = "v=spf1 include:_spf.example.net ~all";
    let r = created(&h, &z, json!({"type": "TXT", "name": "@", "content": spf})).await;
    assert_eq!(r["content"], spf);
    let mut want = vec![spf.len() as u8];
    want.extend_from_slice(spf.as_bytes());
    assert_eq!(
        served(&h, "example.com", "example.com", 16),
        vec![(300, want)]
    );
    let listed = h
        .ok(
            "GET",
            &format!(
                "/zones/{z}/dns_records?type=TXT&content={}",
                "v%3Dspf1%20include%3A_spf.example.net%20~all"
            ),
            None,
        )
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // Quoted: zone-file character-strings, shown quoted when they are not one value.
    let r = created(
        &h,
        &z,
        json!({"type": "TXT", "name": "two", "content": "\"a b\" \"c\""}),
    )
    .await;
    assert_eq!(r["content"], "\"a b\" \"c\"");
    assert_eq!(
        served(&h, "example.com", "two.example.com", 16),
        vec![(300, b"\x03a b\x01c".to_vec())]
    );
    // Imported TXT gets the same content form as the API would give it.
    let (status, v) = h
        .import(
            &z,
            "imp IN TXT \"hello world\"\nimp2 IN TXT \"x\" \"y\"\n",
            false,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let records = h.records(&z).await;
    let content = |n: &str| {
        records.iter().find(|r| r["name"] == n).unwrap()["content"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(content("imp.example.com"), "hello world");
    assert_eq!(content("imp2.example.com"), "\"x\" \"y\"");
    // Too long for any message: refused, naming the field.
    let (status, v) = post(
        &h,
        &z,
        json!({"type": "TXT", "name": "big", "content": "x".repeat(70000)}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&v).starts_with("content: "), "{v}");
}

#[tokio::test]
async fn names_in_content_have_no_trailing_dot() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    for (body, content, priority) in [
        (
            json!({"type": "CNAME", "name": "www", "content": "web.example.net"}),
            "web.example.net",
            None,
        ),
        (
            json!({"type": "CNAME", "name": "www2", "content": "web.example.net."}),
            "web.example.net",
            None,
        ),
        (
            json!({"type": "MX", "name": "@", "content": "mail.example.com", "priority": 10}),
            "mail.example.com",
            Some(10),
        ),
        (
            json!({"type": "MX", "name": "null", "content": ".", "priority": 0}),
            ".",
            Some(0),
        ),
        (
            json!({"type": "NS", "name": "sub", "content": "ns.other.net"}),
            "ns.other.net",
            None,
        ),
        (
            json!({"type": "PTR", "name": "p", "content": "host.example.org"}),
            "host.example.org",
            None,
        ),
        (
            json!({"type": "SRV", "name": "_sip._tcp", "content": "5 5060 sip.example.com", "priority": 1}),
            "5 5060 sip.example.com",
            Some(1),
        ),
    ] {
        let r = created(&h, &z, body.clone()).await;
        assert_eq!(r["content"], content, "{body}");
        assert_eq!(r["priority"].as_u64(), priority, "{body}");
    }
    // What DNS serves is absolute.
    let wire = served(&h, "example.com", "www.example.com", 5);
    assert_eq!(wire[0].1, b"\x03web\x07example\x03net\x00");
}

#[tokio::test]
async fn ttl_1_is_automatic_stored_as_1_served_as_300() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let r = created(
        &h,
        &z,
        json!({"type": "A", "name": "a", "content": "192.0.2.1", "ttl": 1}),
    )
    .await;
    assert_eq!(r["ttl"], 1);
    assert_eq!(served(&h, "example.com", "a.example.com", 1)[0].0, 300);
    let got = h
        .ok(
            "GET",
            &format!("/zones/{z}/dns_records/{}", r["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(got["ttl"], 1);
    // 300 and automatic serve alike: switching is a metadata change, no new serial.
    let serial = h.served_serial("example.com");
    let path = format!("/zones/{z}/dns_records/{}", r["id"].as_str().unwrap());
    let v = h.ok("PATCH", &path, Some(json!({"ttl": 300}))).await;
    assert_eq!(v["ttl"], 300);
    assert_eq!(h.served_serial("example.com"), serial);
    let v = h.ok("PATCH", &path, Some(json!({"ttl": 3600}))).await;
    assert_eq!(v["ttl"], 3600);
    assert_eq!(h.served_serial("example.com"), serial + 1);
    assert_eq!(served(&h, "example.com", "a.example.com", 1)[0].0, 3600);
}

#[tokio::test]
async fn data_form_in_and_out_for_every_type_that_has_one() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let cases = [
        (
            "CAA",
            "@",
            json!({"flags": 0, "tag": "issue", "value": "letsencrypt.org"}),
            "0 issue \"letsencrypt.org\"",
        ),
        (
            "CERT",
            "cert",
            json!({"type": 1, "key_tag": 12345, "algorithm": 8, "certificate": "AQIDBA=="}),
            "1 12345 8 AQIDBA==",
        ),
        (
            "DNSKEY",
            "key",
            json!({"flags": 257, "protocol": 3, "algorithm": 13, "public_key": "AQIDBA=="}),
            "257 3 13 AQIDBA==",
        ),
        (
            "DS",
            "sub",
            json!({"key_tag": 2371, "algorithm": 13, "digest_type": 2, "digest": "1F987CC6583E92DF0890718C42"}),
            "2371 13 2 1f987cc6583e92df0890718c42",
        ),
        (
            "HTTPS",
            "svc",
            json!({"priority": 1, "target": ".", "value": "alpn=\"h2\""}),
            "1 . alpn=h2",
        ),
        (
            "LOC",
            "loc",
            json!({"lat_degrees": 51, "lat_minutes": 30, "lat_seconds": 12.748, "lat_direction": "N",
            "long_degrees": 0, "long_minutes": 7, "long_seconds": 39.611, "long_direction": "W",
            "altitude": 0, "size": 100, "precision_horz": 0, "precision_vert": 0}),
            "51 30 12.748 N 0 7 39.611 W 0.00m 100.00m 0.00m 0.00m",
        ),
        (
            "NAPTR",
            "naptr",
            json!({"order": 100, "preference": 10, "flags": "S", "service": "SIP+D2U", "regex": "", "replacement": "_sip._udp.example.com"}),
            "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com.",
        ),
        (
            "SMIMEA",
            "smime",
            json!({"usage": 3, "selector": 1, "matching_type": 1, "certificate": "ABCDEF01"}),
            "3 1 1 abcdef01",
        ),
        (
            "SRV",
            "_sip._udp",
            json!({"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"}),
            "5 5060 sip.example.com",
        ),
        (
            "SSHFP",
            "host",
            json!({"algorithm": 4, "type": 2, "fingerprint": "123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789"}),
            "4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789",
        ),
        (
            "SVCB",
            "_dns",
            json!({"priority": 1, "target": "dns.example.com.", "value": "alpn=\"dot\" port=853"}),
            "1 dns.example.com. alpn=dot port=853",
        ),
        (
            "TLSA",
            "_443._tcp",
            json!({"usage": 3, "selector": 1, "matching_type": 1, "certificate": "0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"}),
            "3 1 1 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6",
        ),
        (
            "URI",
            "_ftp._tcp",
            json!({"weight": 1, "target": "ftp://ftp.example.com/"}),
            "1 \"ftp://ftp.example.com/\"",
        ),
    ];
    for (t, name, data, content) in cases {
        let mut body = json!({"type": t, "name": name, "data": data});
        if t == "URI" {
            body["priority"] = json!(10);
        }
        let r = created(&h, &z, body.clone()).await;
        assert_eq!(r["content"], content, "{body}");
        let out = &r["data"];
        assert!(out.is_object(), "{t}: data returned: {r}");
        // Content given instead of data makes the same RDATA and the same data.
        let (status, v) = post(
            &h,
            &z,
            json!({"type": t, "name": name, "content": content, "priority": r["priority"]}),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{t} from content is the identical record: {v}"
        );
        assert_eq!(code(&v), 81058, "{t}: {v}");
        // The data returned reads back to the same record.
        let (status, v) = post(
            &h,
            &z,
            json!({"type": t, "name": name, "data": out, "priority": r["priority"]}),
        )
        .await;
        assert_eq!(code(&v), 81058, "{t}: data {out} reads back: {status} {v}");
    }
    let srv = h
        .ok("GET", &format!("/zones/{z}/dns_records?type=SRV"), None)
        .await;
    assert_eq!(
        srv[0]["data"],
        json!({"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"})
    );
    assert_eq!(srv[0]["priority"], 10);
    let caa = h
        .ok("GET", &format!("/zones/{z}/dns_records?type=CAA"), None)
        .await;
    assert_eq!(
        caa[0]["data"],
        json!({"flags": 0, "tag": "issue", "value": "letsencrypt.org"})
    );

    // Bad data names its field; content and data that disagree are refused; nothing written.
    let serial = h.served_serial("example.com");
    for (body, field) in [
        (
            json!({"type": "CAA", "name": "x", "data": {"flags": 300, "tag": "issue", "value": "a"}}),
            "data.flags",
        ),
        (
            json!({"type": "CAA", "name": "x", "data": {"tag": "issue", "value": "a"}}),
            "data.flags",
        ),
        (
            json!({"type": "SRV", "name": "x", "data": {"priority": 1, "weight": 1, "port": 1, "target": "a.b", "bogus": 1}}),
            "data.bogus",
        ),
        (
            json!({"type": "LOC", "name": "x", "data": {"lat_degrees": 91, "lat_minutes": 0, "lat_seconds": 0, "lat_direction": "N",
            "long_degrees": 0, "long_minutes": 0, "long_seconds": 0, "long_direction": "E", "altitude": 0, "size": 0,
            "precision_horz": 0, "precision_vert": 0}}),
            "data.lat_degrees",
        ),
        (
            json!({"type": "LOC", "name": "x", "data": {"lat_degrees": 1, "lat_minutes": 0, "lat_seconds": 0, "lat_direction": "Q",
            "long_degrees": 0, "long_minutes": 0, "long_seconds": 0, "long_direction": "E", "altitude": 0, "size": 0,
            "precision_horz": 0, "precision_vert": 0}}),
            "data.lat_direction",
        ),
        (json!({"type": "A", "name": "x", "data": {"x": 1}}), "data"),
        (
            json!({"type": "CAA", "name": "x", "content": "0 issue \"a\"", "data": {"flags": 0, "tag": "issue", "value": "b"}}),
            "data",
        ),
        (
            json!({"type": "TLSA", "name": "x", "data": {"usage": 3, "selector": 1, "matching_type": 1, "certificate": "XYZ"}}),
            "data",
        ),
    ] {
        let (status, v) = post(&h, &z, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {v}");
        assert!(error(&v).starts_with(field), "{body} -> {v}");
    }
    assert_eq!(h.served_serial("example.com"), serial);
}

#[tokio::test]
async fn meta_settings_tags_and_their_times() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let r = created(
        &h,
        &z,
        json!({"type": "A", "name": "www", "content": "192.0.2.1"}),
    )
    .await;
    assert_eq!(r["meta"], json!({"auto_added": false}));
    assert_eq!(r["settings"], json!({}));
    assert_eq!(r["tags"], json!([]));
    assert!(
        r.get("comment_modified_on").is_none() && r.get("tags_modified_on").is_none(),
        "{r}"
    );

    let r = created(
        &h,
        &z,
        json!({"type": "CNAME", "name": "alias", "content": "www",
        "comment": "c", "tags": ["Team:DNS", "env:prod"], "settings": {"flatten_cname": false}}),
    )
    .await;
    assert_eq!(
        r["tags"],
        json!(["env:prod", "team:DNS"]),
        "names lowercase, sorted"
    );
    assert_eq!(r["settings"], json!({"flatten_cname": false}));
    assert!(
        r["comment_modified_on"].is_string() && r["tags_modified_on"].is_string(),
        "{r}"
    );
    let id = r["id"].as_str().unwrap().to_string();
    let path = format!("/zones/{z}/dns_records/{id}");

    // Metadata changes make no new serial and no NOTIFY.
    let serial = h.served_serial("example.com");
    let changes = h.changes.lock().unwrap().len();
    let v = h
        .ok(
            "PATCH",
            &path,
            Some(json!({"tags": ["env:staging"], "comment": "d"})),
        )
        .await;
    assert_eq!(v["tags"], json!(["env:staging"]));
    assert_eq!(v["comment"], "d");
    assert_ne!(v["tags_modified_on"], r["tags_modified_on"]);
    assert_eq!(h.served_serial("example.com"), serial);
    assert_eq!(h.changes.lock().unwrap().len(), changes);
    let v = h
        .ok("PATCH", &path, Some(json!({"tags": null, "comment": null})))
        .await;
    assert_eq!(v["tags"], json!([]));
    assert!(
        v["comment"].is_null() && v.get("tags_modified_on").is_none(),
        "{v}"
    );

    // Tag filters.
    created(&h, &z, json!({"type": "A", "name": "t1", "content": "192.0.2.5", "tags": ["env:prod", "owner:alice"]})).await;
    created(
        &h,
        &z,
        json!({"type": "A", "name": "t2", "content": "192.0.2.6", "tags": ["env:production"]}),
    )
    .await;
    created(
        &h,
        &z,
        json!({"type": "A", "name": "t3", "content": "192.0.2.7", "tags": ["solo"]}),
    )
    .await;
    let names = |v: Value| -> Vec<String> {
        let mut n: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    for (query, want) in [
        ("tag=env:prod", vec!["t1"]),
        ("tag=ENV:PROD", vec!["t1"]),
        ("tag=solo", vec!["t3"]),
        ("tag.exact=env:prod", vec!["t1"]),
        ("tag.startswith=env:prod", vec!["t1", "t2"]),
        ("tag.contains=env:odu", vec!["t2"]),
        ("tag.endswith=owner:ice", vec!["t1"]),
        ("tag.present=owner", vec!["t1"]),
        ("tag.present=env&tag.absent=owner", vec!["t2"]),
        ("tag.present=owner&tag=solo&tag_match=any", vec!["t1", "t3"]),
        ("tag.present=owner&tag=solo", vec![]),
        ("tag.present=solo&name=t1&match=any", vec!["t1", "t3"]),
        ("tag.absent=env&type=A&name.startswith=t", vec!["t3"]),
    ] {
        let got = names(
            h.ok("GET", &format!("/zones/{z}/dns_records?{query}"), None)
                .await,
        );
        let want: Vec<String> = want.iter().map(|n| format!("{n}.example.com")).collect();
        assert_eq!(got, want, "{query}");
    }

    // Rules: settings that need the provider's proxy, bad tags; each names its field and
    // writes nothing.
    let count = h.records(&z).await.len();
    for (body, field) in [
        (
            json!({"type": "A", "name": "x", "content": "192.0.2.1", "settings": {"ipv4_only": true}}),
            "settings.ipv4_only",
        ),
        (
            json!({"type": "CNAME", "name": "x", "content": "a.b", "settings": {"flatten_cname": true}}),
            "settings.flatten_cname",
        ),
        (
            json!({"type": "MX", "name": "x", "content": "a.b", "priority": 1, "settings": {"flatten_cname": false}}),
            "settings.flatten_cname",
        ),
        (
            json!({"type": "A", "name": "x", "content": "192.0.2.1", "settings": {"bogus": false}}),
            "settings.bogus",
        ),
        (
            json!({"type": "A", "name": "x", "content": "192.0.2.1", "tags": ["a b:c"]}),
            "tags[0]",
        ),
        (
            json!({"type": "A", "name": "x", "content": "192.0.2.1", "tags": ["a:1", "A:2"]}),
            "tags[1]",
        ),
        (
            json!({"type": "A", "name": "x", "content": "192.0.2.1", "tags": [":v"]}),
            "tags[0]",
        ),
        (
            json!({"type": "A", "name": "x", "content": "192.0.2.1", "comment": "two\nlines"}),
            "comment",
        ),
    ] {
        let (status, v) = post(&h, &z, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {v}");
        assert!(error(&v).starts_with(field), "{body} -> {v}");
    }
    assert_eq!(h.records(&z).await.len(), count);
}

#[tokio::test]
async fn conflicts_carry_the_providers_codes() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    created(
        &h,
        &z,
        json!({"type": "TXT", "name": "_acme-challenge", "content": "TOKEN"}),
    )
    .await;
    // Identical (TTL and comment aside): 81058, as certbot and lexicon expect.
    let (status, v) = post(&h, &z, json!({"type": "TXT", "name": "_acme-challenge", "content": "TOKEN", "ttl": 120, "comment": "again"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&v), 81058, "{v}");
    let (_, v) = post(
        &h,
        &z,
        json!({"type": "TXT", "name": "_acme-challenge", "content": "\"TOKEN\""}),
    )
    .await;
    assert_eq!(code(&v), 81058, "the quoted form is the same RDATA: {v}");
    // A CNAME where other data is: 81053; other data where a CNAME is: 81054.
    let (_, v) = post(
        &h,
        &z,
        json!({"type": "CNAME", "name": "_acme-challenge", "content": "x.example.net"}),
    )
    .await;
    assert_eq!(code(&v), 81053, "{v}");
    created(
        &h,
        &z,
        json!({"type": "CNAME", "name": "www", "content": "x.example.net"}),
    )
    .await;
    let (_, v) = post(
        &h,
        &z,
        json!({"type": "A", "name": "www", "content": "192.0.2.1"}),
    )
    .await;
    assert_eq!(code(&v), 81054, "{v}");
    let (_, v) = post(
        &h,
        &z,
        json!({"type": "CNAME", "name": "www", "content": "y.example.net"}),
    )
    .await;
    assert_eq!(code(&v), 81053, "a second CNAME: {v}");
    // A missing record: 404 with 81044.
    for method in ["GET", "PUT", "PATCH", "DELETE"] {
        let body = (method == "PUT" || method == "PATCH")
            .then(|| json!({"type": "A", "name": "a", "content": "192.0.2.1"}));
        let (status, v) = h
            .call(
                method,
                &format!("/zones/{z}/dns_records/{}", "0".repeat(32)),
                body,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(code(&v), 81044, "{method}: {v}");
    }
}

#[tokio::test]
async fn writes_that_change_nothing_make_no_serial_journal_or_notify() {
    let h = Harness::new();
    let z = h.zone("example.com").await;
    let r = created(&h, &z, json!({"type": "MX", "name": "@", "content": "mail.example.com", "priority": 10, "ttl": 3600, "comment": "m"})).await;
    let id = r["id"].as_str().unwrap();
    let path = format!("/zones/{z}/dns_records/{id}");
    let serial = h.served_serial("example.com");
    let changes = h.changes.lock().unwrap().len();
    let journal = |h: &Harness| h.store.journal_depth(&z).unwrap();
    let journal_before = journal(&h);

    // PUT of the record as it is, PATCH of a field to its value, a batch of both, an import
    // of what the zone holds, a PATCH of the SOA to its own fields.
    let v = h
        .ok("PUT", &path, Some(json!({"type": "MX", "name": "example.com", "content": "mail.example.com.", "priority": 10, "ttl": 3600, "comment": "m"})))
        .await;
    assert_eq!(
        v["modified_on"], r["modified_on"],
        "returned unchanged: {v}"
    );
    h.ok("PATCH", &path, Some(json!({"priority": 10, "ttl": 3600})))
        .await;
    h.ok("POST", &format!("/zones/{z}/dns_records/batch"), Some(json!({
        "patches": [{"id": id, "content": "mail.example.com"}],
        "puts": [{"id": id, "type": "MX", "name": "@", "content": "mail", "priority": 10, "ttl": 3600, "comment": "m"}],
    }))).await;
    let text = h.export(&z).await;
    let (status, v) = h.import(&z, &text, false).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["recs_added"], 0);
    let soa = h
        .ok("GET", &format!("/zones/{z}/dns_records?type=SOA"), None)
        .await;
    let soa_id = soa[0]["id"].as_str().unwrap();
    h.ok(
        "PATCH",
        &format!("/zones/{z}/dns_records/{soa_id}"),
        Some(json!({"content": soa[0]["content"]})),
    )
    .await;

    assert_eq!(h.served_serial("example.com"), serial);
    assert_eq!(h.listed_serial(&z).await, serial);
    assert_eq!(
        h.changes.lock().unwrap().len(),
        changes,
        "no change hook, so no NOTIFY"
    );
    assert_eq!(journal(&h), journal_before, "no journal entry");
    let after = h.ok("GET", &path, None).await;
    assert_eq!(after["modified_on"], r["modified_on"]);

    // A real change still is one.
    h.ok("PATCH", &path, Some(json!({"priority": 20}))).await;
    assert_eq!(h.served_serial("example.com"), serial + 1);
    assert_eq!(journal(&h), journal_before + 1);
}
