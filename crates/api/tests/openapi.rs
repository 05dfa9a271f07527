//! The OpenAPI document (PRODUCT §3): a valid OpenAPI 3.1 document whose every reference
//! resolves, with request and response schemas, that lists exactly the routes the router
//! serves, each of which the router really answers.

mod common;

use axum::http::StatusCode;
use common::Harness;
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(h: &Harness) -> Value {
    let (status, v) = h.call_as(None, "GET", "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    v
}

/// Every `$ref` in the document.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn document_is_valid_openapi() {
    let h = Harness::new();
    let doc = document(&h).await;
    let spec = oas3::from_json(doc.to_string()).expect("a well-formed OpenAPI 3.1 document");
    let version = spec
        .validate_version()
        .expect("a supported OpenAPI version");
    assert_eq!(version.major, 3);

    // Every reference points at something that exists.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r}: only local references"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }

    let mut operation_ids = BTreeSet::new();
    for (path, method, op) in spec.operations() {
        let what = format!("{method} {path}");
        let id = op
            .operation_id
            .clone()
            .unwrap_or_else(|| panic!("{what}: no operationId"));
        assert!(
            operation_ids.insert(id.clone()),
            "{what}: operationId {id} twice"
        );
        // Each path parameter is declared.
        let declared: BTreeSet<String> = op
            .parameters
            .iter()
            .map(|p| p.resolve(&spec).expect("parameter resolves"))
            .filter(|p| p.location == oas3::spec::ParameterIn::Path)
            .map(|p| p.name)
            .collect();
        let templated: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_string)
            .collect();
        assert_eq!(declared, templated, "{what}: path parameters");
        // Each operation documents a 200 with a schema, and a JSON body where it takes one.
        let responses = op.responses.as_ref().expect("responses");
        let ok = responses
            .get("200")
            .unwrap_or_else(|| panic!("{what}: no 200"))
            .resolve(&spec)
            .expect("response resolves");
        assert!(
            ok.content.values().all(|m| m.schema.is_some()) && !ok.content.is_empty(),
            "{what}: 200 without a schema"
        );
        if matches!(method.as_str(), "PUT" | "PATCH") {
            let body = op
                .request_body
                .as_ref()
                .unwrap_or_else(|| panic!("{what}: no body"));
            let body = body.resolve(&spec).expect("request body resolves");
            assert!(body.content.values().all(|m| m.schema.is_some()), "{what}");
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn document_lists_exactly_the_served_routes() {
    let h = Harness::new();
    let doc = document(&h).await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(m).is_some() {
                documented.insert((path.clone(), m.to_string()));
            }
        }
    }
    let served: BTreeSet<(String, String)> = tandem_api::route_list().into_iter().collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );
    for must in [
        (
            "/client/v4/accounts/{account_id}/secondary_dns/peers/{peer_id}",
            "put",
        ),
        (
            "/client/v4/zones/{zone_id}/secondary_dns/outgoing/status",
            "get",
        ),
        (
            "/client/v4/zones/{zone_id}/secondary_dns/force_axfr",
            "post",
        ),
        (
            "/client/v4/accounts/{account_id}/tokens/{token_id}",
            "delete",
        ),
    ] {
        assert!(
            served.contains(&(must.0.to_string(), must.1.to_string())),
            "{must:?}"
        );
    }

    // The router really answers each one: never its "no such path" fallback nor a 405.
    for (path, method) in &documented {
        let concrete: String = path
            .trim_start_matches("/client/v4")
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "0123456789abcdef0123456789abcdef"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let (status, v) = h
            .call(
                &method.to_uppercase(),
                &concrete,
                Some(serde_json::json!({})),
            )
            .await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if status == StatusCode::NOT_FOUND {
            let message = v["errors"][0]["message"].as_str().unwrap_or_default();
            assert_ne!(message, "no such API path", "{method} {path}");
        }
    }
}
