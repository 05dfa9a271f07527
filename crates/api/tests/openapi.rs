//! The OpenAPI document (PRODUCT §3): a valid OpenAPI 3.1 document whose every reference
//! resolves, with request and response schemas, that lists exactly the routes the router
//! serves, each of which the router really answers, with the error answers each one gives.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{Harness, TOKEN};
use serde_json::Value;
use std::collections::BTreeSet;
use tandem_api::ApiConfig;
use tandem_store::prelude::*;
use tandem_store::Permission;

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

/// The error answers an operation can give, by what it is (PRODUCT §3 "Errors"): 401 where a
/// token is required, 403 where that token changes something, 404 where the path names an
/// object, 400 where a body is required or a query is read, 413 where a body is taken.
fn errors_that_apply(path: &str, method: &str, op: &Value) -> BTreeSet<&'static str> {
    let mut want = BTreeSet::new();
    let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
    if secured {
        want.insert("401");
        if method != "get" {
            want.insert("403");
        }
    }
    if path.contains('{') {
        want.insert("404");
    }
    let body = op.get("requestBody");
    let has_query = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    if body.is_some_and(|b| b["required"] == true) || has_query {
        want.insert("400");
    }
    if body.is_some() {
        want.insert("413");
    }
    want
}

/// Every (path, method, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, &'static str, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((path.clone(), m, op.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_operation_documents_the_errors_it_can_give() {
    let h = Harness::new();
    let doc = document(&h).await;
    let envelope = "#/components/schemas/ErrorEnvelope";
    let mut problems = Vec::new();
    let schema = &doc["components"]["schemas"]["ErrorEnvelope"];
    if schema["properties"]["success"]["enum"] != serde_json::json!([false])
        || schema["properties"]["result"]["type"] != "null"
    {
        problems.push(format!(
            "no ErrorEnvelope with success false, result null: {schema}"
        ));
    }
    let mut secured = 0;
    for (path, method, op) in operations(&doc) {
        let what = format!("{} {path}", method.to_uppercase());
        let responses = op["responses"].as_object().unwrap();
        let documented: BTreeSet<&str> = responses.keys().map(String::as_str).collect();
        secured += usize::from(documented.contains("401"));
        for status in errors_that_apply(&path, method, &op) {
            if !documented.contains(status) {
                problems.push(format!("{what}: no {status}"));
            }
        }
        for (status, response) in responses {
            // Only what the server answers: no 405 (a method no operation has) nor 415 (JSON is
            // read whatever its declared type).
            if !["200", "400", "401", "403", "404", "413"].contains(&status.as_str()) {
                problems.push(format!("{what}: documents {status}, which it never gives"));
            }
            if status.starts_with('2') {
                continue;
            }
            let want = serde_json::json!({"application/json": {"schema": {"$ref": envelope}}});
            if response["content"] != want {
                problems.push(format!(
                    "{what}: {status} is not the JSON error envelope: {}",
                    response["content"]
                ));
            }
            if response["description"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
            {
                problems.push(format!("{what}: {status} does not say when"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // All but the document itself need a token.
    assert_eq!(secured, operations(&doc).len() - 1);
}

/// A request for `path` (the document's, ids filled in), with the token and body given.
fn request(
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Request<Body> {
    let mut req = Request::builder()
        .method(method.to_uppercase().as_str())
        .uri(path)
        .header(header::CONTENT_LENGTH, body.len());
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    req.body(Body::from(body)).unwrap()
}

/// A body the operation accepts as far as its extractors go, with its content type.
fn acceptable_body(op: &Value) -> (Option<&'static str>, Vec<u8>) {
    let content = &op["requestBody"]["content"];
    if content.get("multipart/form-data").is_some() {
        let form = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\r\n--B--\r\n";
        (
            Some("multipart/form-data; boundary=B"),
            form.as_bytes().to_vec(),
        )
    } else if op["requestBody"]["required"] == true {
        // Every JSON body's fields are optional but for a zone's `name`.
        (
            Some("application/json"),
            br#"{"name":"example.test"}"#.to_vec(),
        )
    } else {
        (None, Vec::new())
    }
}

/// The router gives each error that [`errors_that_apply`] says an operation documents: the
/// document's claims are what the shared layers do, not a list copied by hand.
#[tokio::test]
async fn documented_errors_are_the_ones_the_router_gives() {
    let config = ApiConfig {
        json_body_limit: 1024,
        max_body_bytes: 2048,
        ..ApiConfig::default()
    };
    let h = Harness::with_config(config);
    let account = h.account_id();
    let (_, reader) = h
        .store
        .create_token(Some(&account), "reader", Permission::Read)
        .unwrap();
    let doc = document(&h).await;
    let mut problems = Vec::new();
    for (path, method, op) in operations(&doc) {
        let what = format!("{} {path}", method.to_uppercase());
        // Ids that name nothing.
        let missing = path.replace('{', "").replace("_id}", "-0123456789abcdef");
        let (content_type, body) = acceptable_body(&op);
        let mut tries: Vec<(&str, Request<Body>)> = Vec::new();
        for status in errors_that_apply(&path, method, &op) {
            let req = match status {
                "401" => request(method, &missing, None, content_type, body.clone()),
                "403" => request(method, &missing, Some(&reader), content_type, body.clone()),
                "404" => request(method, &missing, Some(TOKEN), content_type, body.clone()),
                "413" => request(
                    method,
                    &missing,
                    Some(TOKEN),
                    content_type,
                    vec![b' '; 4096],
                ),
                "400" if op["requestBody"]["required"] == true => {
                    // Neither JSON nor a form.
                    request(
                        method,
                        &missing,
                        Some(TOKEN),
                        Some("application/json"),
                        b"[".to_vec(),
                    )
                }
                "400" => {
                    let bad = format!("{missing}?page=zero&replace=maybe");
                    request(method, &bad, Some(TOKEN), content_type, body.clone())
                }
                other => panic!("{what}: no way to provoke {other}"),
            };
            tries.push((status, req));
        }
        if path.contains('{') {
            // An id that is not UTF-8 names nothing either.
            let undecodable = path.replacen('{', "%FF{", 1);
            let undecodable = undecodable.replace('{', "").replace("_id}", "0");
            tries.push((
                "404",
                request(
                    method,
                    &undecodable,
                    Some(TOKEN),
                    content_type,
                    body.clone(),
                ),
            ));
        }
        for (status, req) in tries {
            let uri = req.uri().to_string();
            let (got, bytes) = h.send(req).await;
            let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if got.as_str() != status {
                problems.push(format!("{what}: {uri} gave {got}, not {status}: {v}"));
            } else if v["success"] != false
                || v["errors"].as_array().is_none_or(Vec::is_empty)
                || !v["result"].is_null()
            {
                problems.push(format!("{what}: {status} is not the error envelope: {v}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
