//! The web dashboard (PRODUCT §3: "served at `/` of the API listener"): hand-written HTML, CSS
//! and JavaScript modules from `crates/api/dashboard/`, embedded in the binary so `cargo build`
//! alone yields a server that has it. The page runs in the browser and uses only the public
//! API with the operator's token, so it can do nothing the API cannot; the files themselves
//! are public and need no token.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Only our own files: no inline script or style, no other origin, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The page.
const INDEX: &[u8] = include_bytes!("../dashboard/index.html");

/// Every file under `/dashboard/`: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("style.css", CSS, include_bytes!("../dashboard/style.css")),
    ("app.js", JS, include_bytes!("../dashboard/app.js")),
    ("api.js", JS, include_bytes!("../dashboard/api.js")),
    ("dom.js", JS, include_bytes!("../dashboard/dom.js")),
    ("zones.js", JS, include_bytes!("../dashboard/zones.js")),
    ("zone.js", JS, include_bytes!("../dashboard/zone.js")),
    ("records.js", JS, include_bytes!("../dashboard/records.js")),
    (
        "transfers.js",
        JS,
        include_bytes!("../dashboard/transfers.js"),
    ),
    (
        "settings.js",
        JS,
        include_bytes!("../dashboard/settings.js"),
    ),
];

/// `GET /` and `GET /dashboard/{file}`. Generic over the state so it merges into any router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/dashboard/{file}", get(asset))
}

async fn index() -> Response {
    file(HTML, INDEX)
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => file(content_type, bytes),
        None => (StatusCode::NOT_FOUND, "no such dashboard file\n").into_response(),
    }
}

/// One embedded file. `no-cache`: the browser revalidates, so a new binary's files are used
/// at once.
fn file(content_type: &'static str, bytes: &'static [u8]) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    let fixed = |v: &'static str| HeaderValue::from_static(v);
    headers.insert(header::CONTENT_TYPE, fixed(content_type));
    headers.insert(header::CACHE_CONTROL, fixed("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        fixed(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, fixed("nosniff"));
    headers.insert(header::REFERRER_POLICY, fixed("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, fixed("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use super::ASSETS;

    #[test]
    fn every_module_the_page_imports_is_served() {
        let names: Vec<&str> = ASSETS.iter().map(|(n, _, _)| *n).collect();
        for (_, _, bytes) in ASSETS {
            let text = std::str::from_utf8(bytes).expect("UTF-8 asset");
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let target = line
                    .split(['\'', '"'])
                    .nth(1)
                    .and_then(|p| p.strip_prefix("./"))
                    .unwrap_or_else(|| panic!("relative import expected: {line}"));
                assert!(
                    names.contains(&target),
                    "{target} is imported but not served"
                );
            }
        }
    }
}
