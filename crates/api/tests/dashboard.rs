//! The dashboard's files (PRODUCT §3: "served at `/` of the API listener"): embedded, public,
//! with their content types, `no-cache` and a same-origin Content-Security-Policy; outside the
//! OpenAPI document; and written so data never becomes markup.

mod common;

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use common::Harness;
use tower::ServiceExt;

struct Got {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn get(h: &Harness, path: &str) -> Got {
    let req = Request::get(path).body(Body::empty()).unwrap();
    let resp = h.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    Got {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

fn header_of(got: &Got, name: header::HeaderName) -> &str {
    got.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

const MODULES: [&str; 8] = [
    "app.js",
    "api.js",
    "dom.js",
    "zones.js",
    "zone.js",
    "records.js",
    "transfers.js",
    "settings.js",
];

#[tokio::test]
async fn the_page_is_served_at_the_root_without_a_token() {
    let h = Harness::new();
    let page = get(&h, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        header_of(&page, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    assert_eq!(header_of(&page, header::CACHE_CONTROL), "no-cache");
    let csp = header_of(&page, header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    assert!(page
        .body
        .contains(r#"<script type="module" src="/dashboard/app.js"></script>"#));
    assert!(page.body.contains(r#"href="/dashboard/style.css""#));
    // The policy allows no inline script or style: the page has none.
    assert!(!page.body.contains("<style"));
    assert!(!page.body.contains("style="));
    assert_eq!(page.body.matches("<script").count(), 1);
}

#[tokio::test]
async fn scripts_and_styles_have_their_content_types() {
    let h = Harness::new();
    for module in MODULES {
        let got = get(&h, &format!("/dashboard/{module}")).await;
        assert_eq!(got.status, StatusCode::OK, "{module}");
        assert_eq!(
            header_of(&got, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8",
            "{module}"
        );
        assert_eq!(header_of(&got, header::CACHE_CONTROL), "no-cache");
        assert_eq!(header_of(&got, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert!(!got.body.is_empty());
    }
    let css = get(&h, "/dashboard/style.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(
        header_of(&css, header::CONTENT_TYPE),
        "text/css; charset=utf-8"
    );
    let missing = get(&h, "/dashboard/nothing.js").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let traversal = get(&h, "/dashboard/..%2FCargo.toml").await;
    assert_eq!(traversal.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_dashboard_is_not_part_of_the_api_document() {
    let routes = tandem_api::route_list();
    assert!(routes
        .iter()
        .all(|(path, _)| path.starts_with("/client/v4/")));
    assert!(routes.contains(&(
        "/client/v4/zones/{zone_id}/secondary_dns/peer_serials".to_string(),
        "get".to_string()
    )));
    // The API keeps its own envelope for unknown paths.
    let h = Harness::new();
    let got = get(&h, "/client/v4/dashboard").await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    assert!(got.body.contains("no such API path"));
}

#[tokio::test]
async fn no_module_turns_text_into_markup() {
    let h = Harness::new();
    for module in MODULES {
        let got = get(&h, &format!("/dashboard/{module}")).await;
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
        ] {
            assert!(!got.body.contains(sink), "{module} uses {sink}");
        }
    }
}
