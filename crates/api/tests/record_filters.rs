//! The filters, order and strictness of the record and zone lists: every documented filter is
//! honoured, and an unknown parameter or bad value is a 400 naming it, never a wider list
//! (a wider list makes ACME clients delete the wrong TXT record).

mod common;

use axum::http::StatusCode;
use common::{error, Harness};
use serde_json::{json, Value};

/// `example.com` with two `_acme-challenge` TXT records, two A records, an MX, its SOA and NS.
async fn zone(h: &Harness) -> String {
    let z = h.zone("example.com").await;
    for body in [
        json!({"type": "TXT", "name": "_acme-challenge", "content": "TOKEN1", "comment": "certbot one"}),
        json!({"type": "TXT", "name": "_acme-challenge.example.com", "content": "TOKEN2"}),
        json!({"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 300, "comment": "Web Server"}),
        json!({"type": "A", "name": "mail", "content": "192.0.2.2", "ttl": 600}),
        json!({"type": "MX", "name": "@", "content": "mail.example.com", "priority": 10}),
    ] {
        h.ok("POST", &format!("/zones/{z}/dns_records"), Some(body))
            .await;
    }
    z
}

/// The records a query lists (the whole answer must be one page).
async fn list(h: &Harness, z: &str, query: &str) -> Vec<Value> {
    let (status, v) = h
        .call("GET", &format!("/zones/{z}/dns_records?{query}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {v}");
    v["result"].as_array().unwrap().clone()
}

/// `(name, type, content)` of each record a query lists.
async fn listed(h: &Harness, z: &str, query: &str) -> Vec<(String, String, String)> {
    list(h, z, query)
        .await
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["type"].as_str().unwrap().to_string(),
                r["content"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn count(h: &Harness, z: &str, query: &str) -> usize {
    list(h, z, query).await.len()
}

#[tokio::test]
async fn certbot_finds_exactly_its_own_token() {
    let h = Harness::new();
    let z = zone(&h).await;
    for query in [
        "type=TXT&name=_acme-challenge.example.com&content=TOKEN1",
        "type=TXT&name=_acme-challenge&content=TOKEN1&per_page=1",
        "type=TXT&name.exact=_acme-challenge.example.com.&content.exact=TOKEN1&per_page=1",
    ] {
        let found = listed(&h, &z, query).await;
        assert_eq!(
            found,
            vec![(
                "_acme-challenge.example.com".to_string(),
                "TXT".to_string(),
                "TOKEN1".to_string()
            )],
            "{query}"
        );
    }
    let (_, v) = h
        .call(
            "GET",
            &format!(
                "/zones/{z}/dns_records?type=TXT&name=_acme-challenge.example.com&content.exact=TOKEN2&per_page=1"
            ),
            None,
        )
        .await;
    // TXT content is listed as its quoted character-strings; either spelling finds it.
    assert_eq!(v["result"][0]["content"], "TOKEN2", "{v}");
    assert_eq!(v["result_info"]["total_count"], 1, "{v}");
    assert_eq!(
        count(&h, &z, "type=TXT&name=_acme-challenge&content=TOKEN3").await,
        0
    );
}

#[tokio::test]
async fn name_filters() {
    let h = Harness::new();
    let z = zone(&h).await;
    assert_eq!(count(&h, &z, "name.contains=ACME").await, 2);
    assert_eq!(count(&h, &z, "name.startswith=www.").await, 1);
    // The apex does not end with `.example.com`; everything ends with `example.com`.
    assert_eq!(count(&h, &z, "name.endswith=.example.com").await, 4);
    assert_eq!(count(&h, &z, "name.endswith=example.com.").await, 7);
    assert_eq!(count(&h, &z, "name.exact=WWW.Example.com").await, 1);
    assert_eq!(count(&h, &z, "name=@").await, 3, "SOA, NS and MX");
    assert_eq!(
        count(&h, &z, "name.startswith=www&name.endswith=com").await,
        1,
        "both must hold"
    );
    // Wildcards of SQL are plain characters here.
    assert_eq!(count(&h, &z, "name.contains=%25").await, 0);
    assert_eq!(count(&h, &z, "name.contains=%5C").await, 0);
    assert_eq!(count(&h, &z, "name.startswith=_").await, 2);
    assert_eq!(count(&h, &z, "name.startswith=_cme").await, 0);
}

#[tokio::test]
async fn content_and_comment_filters() {
    let h = Harness::new();
    let z = zone(&h).await;
    assert_eq!(count(&h, &z, "content=token1").await, 1, "ignores case");
    assert_eq!(count(&h, &z, "content.contains=192.0.2.").await, 2);
    assert_eq!(count(&h, &z, "content.startswith=token").await, 2);
    // Content is compared as the list shows it: unquoted TXT.
    assert_eq!(count(&h, &z, "content.startswith=%22token").await, 0);
    assert_eq!(count(&h, &z, "content.endswith=KEN2").await, 1);
    assert_eq!(count(&h, &z, "content.contains=OKEN").await, 2);
    assert_eq!(count(&h, &z, "content=TOKEN").await, 0);
    assert_eq!(
        listed(&h, &z, "content.endswith=.2").await,
        vec![(
            "mail.example.com".to_string(),
            "A".to_string(),
            "192.0.2.2".to_string()
        )]
    );
    // Names in content are listed without their trailing dot, and content filters compare
    // with the content as listed, nothing else: a quoted TXT or a dotted name finds nothing.
    assert_eq!(count(&h, &z, "content.exact=mail.example.com").await, 1);
    assert_eq!(count(&h, &z, "content.exact=mail.example.com.").await, 0);
    assert_eq!(count(&h, &z, "type=TXT&content=%22TOKEN1%22").await, 0);
    assert_eq!(
        count(&h, &z, "content.endswith=example.com").await,
        2,
        "MX and NS"
    );
    assert_eq!(count(&h, &z, "type=MX&content=mail").await, 0);
    assert_eq!(count(&h, &z, "content=mail").await, 0);

    assert_eq!(count(&h, &z, "comment=web%20server").await, 1);
    assert_eq!(count(&h, &z, "comment.exact=Web%20Server").await, 1);
    assert_eq!(count(&h, &z, "comment.contains=certbot").await, 1);
    assert_eq!(count(&h, &z, "comment.startswith=Web").await, 1);
    assert_eq!(count(&h, &z, "comment.endswith=ONE").await, 1);
    assert_eq!(count(&h, &z, "comment.present=present").await, 2);
    assert_eq!(count(&h, &z, "comment.absent=absent").await, 5);
    assert_eq!(count(&h, &z, "type=A&comment.absent").await, 1);
}

#[tokio::test]
async fn search_match_and_proxied() {
    let h = Harness::new();
    let z = zone(&h).await;
    assert_eq!(count(&h, &z, "search=token").await, 2, "content");
    assert_eq!(count(&h, &z, "search=server").await, 1, "comment");
    assert_eq!(count(&h, &z, "search=mail").await, 2, "name or content");
    assert_eq!(count(&h, &z, "search=mail&type=A").await, 1);

    assert_eq!(count(&h, &z, "name=www&content=192.0.2.2").await, 0);
    assert_eq!(
        count(&h, &z, "name=www&content=192.0.2.2&match=all").await,
        0
    );
    assert_eq!(
        count(&h, &z, "name=www&content=192.0.2.2&match=any").await,
        2
    );
    assert_eq!(
        count(&h, &z, "type=MX&content=TOKEN1&match=any").await,
        2,
        "type is one of the filters"
    );
    assert_eq!(
        count(&h, &z, "name=www&content=192.0.2.2&match=any&search=mail").await,
        1,
        "search applies whatever match says"
    );

    assert_eq!(count(&h, &z, "proxied=true").await, 0);
    assert_eq!(count(&h, &z, "proxied=false").await, 7);
    assert_eq!(count(&h, &z, "type=A&proxied=false").await, 2);
}

#[tokio::test]
async fn order_and_direction() {
    let h = Harness::new();
    let z = zone(&h).await;
    let names = |v: Vec<(String, String, String)>| -> Vec<String> {
        v.into_iter().map(|(n, t, _)| format!("{n} {t}")).collect()
    };
    assert_eq!(
        names(listed(&h, &z, "type=A&order=ttl&direction=desc").await),
        ["mail.example.com A", "www.example.com A"]
    );
    assert_eq!(
        names(listed(&h, &z, "type=A&order=ttl").await),
        ["www.example.com A", "mail.example.com A"]
    );
    assert_eq!(
        names(listed(&h, &z, "type=A&order=content&direction=asc").await),
        ["www.example.com A", "mail.example.com A"]
    );
    assert_eq!(
        names(listed(&h, &z, "direction=desc&per_page=1").await),
        ["www.example.com A"]
    );
    assert_eq!(
        names(listed(&h, &z, "name=@&order=type").await),
        ["example.com NS", "example.com SOA", "example.com MX"],
        "by type code"
    );
    assert_eq!(
        names(listed(&h, &z, "type=TXT&order=content&direction=desc").await),
        [
            "_acme-challenge.example.com TXT",
            "_acme-challenge.example.com TXT"
        ]
    );
    let contents: Vec<String> = listed(&h, &z, "type=TXT&order=content&direction=desc")
        .await
        .into_iter()
        .map(|(_, _, c)| c)
        .collect();
    assert_eq!(contents, ["TOKEN2", "TOKEN1"]);
    assert_eq!(count(&h, &z, "order=proxied&direction=asc").await, 7);
    assert_eq!(count(&h, &z, "order=name").await, 7);
}

#[tokio::test]
async fn unknown_parameters_and_bad_values_are_refused() {
    let h = Harness::new();
    let z = zone(&h).await;
    for (query, names) in [
        ("bogus=1", "bogus"),
        ("type=TXT&contents=TOKEN1", "contents"),
        ("name.like=www", "name.like"),
        ("order=bogus", "order"),
        ("direction=up", "direction"),
        ("match=some", "match"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("proxied=maybe", "proxied"),
        ("type=BOGUS", "type"),
        ("name.exact=www.example.org.", "name.exact"),
        ("tag.exact=important", "tag.exact"),
        ("tag.present=", "tag.present"),
        ("tag_match=some", "tag_match"),
        ("content=a&content=b", "content"),
    ] {
        let (status, v) = h
            .call("GET", &format!("/zones/{z}/dns_records?{query}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {v}");
        let message = error(&v);
        assert!(message.contains(names), "{query}: {message}");
    }
}

#[tokio::test]
async fn zone_list_filters_and_strictness() {
    let h = Harness::new();
    for name in ["a.test", "b.test", "c.test"] {
        h.zone(name).await;
    }
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|z| z["name"].as_str().unwrap().to_string())
            .collect()
    };
    let v = h.ok("GET", "/zones?direction=desc", None).await;
    assert_eq!(names(&v), ["c.test", "b.test", "a.test"]);
    let v = h
        .ok("GET", "/zones?order=account.name&direction=asc", None)
        .await;
    assert_eq!(names(&v), ["a.test", "b.test", "c.test"]);
    let v = h.ok("GET", "/zones?status=active&type=full", None).await;
    assert_eq!(names(&v).len(), 3);
    let v = h.ok("GET", "/zones?type=secondary", None).await;
    assert_eq!(names(&v).len(), 0);
    let v = h.ok("GET", "/zones?status=pending", None).await;
    assert_eq!(names(&v).len(), 0);
    let v = h.ok("GET", "/zones?account.name=default", None).await;
    assert_eq!(names(&v).len(), 3);
    let v = h.ok("GET", "/zones?account.name=nobody", None).await;
    assert_eq!(names(&v).len(), 0);
    let v = h
        .ok("GET", "/zones?name=a.test&account.name=nobody", None)
        .await;
    assert_eq!(names(&v).len(), 0);
    let v = h
        .ok("GET", "/zones?name=a.test&status=pending&match=any", None)
        .await;
    assert_eq!(names(&v), ["a.test"]);
    let id = h.account_id();
    let v = h
        .ok(
            "GET",
            &format!("/zones?account.id={id}&order=status&per_page=2"),
            None,
        )
        .await;
    assert_eq!(names(&v), ["a.test", "b.test"]);

    for (query, named) in [
        ("bogus=1", "bogus"),
        ("order=bogus", "order"),
        ("order=type", "order"),
        ("direction=up", "direction"),
        ("match=some", "match"),
        ("status=bogus", "status"),
        ("type=primary", "type"),
        ("per_page=0", "per_page"),
        ("name=contains:.test", "name"),
    ] {
        let message = h
            .fails(
                StatusCode::BAD_REQUEST,
                "GET",
                &format!("/zones?{query}"),
                None,
            )
            .await;
        assert!(message.contains(named), "{query}: {message}");
    }
}
