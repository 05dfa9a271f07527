//! Guards every route carries: a request whose declared body is over the route's limit is
//! refused before any of it is read, and a panicking handler becomes a 500 envelope instead of
//! a dropped connection.

use crate::ApiError;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;

/// Refuses a request whose `Content-Length` is above `limit` with a 413 envelope, before the
/// handler runs: the client learns at once, and we never wait for (or buffer) a body we would
/// throw away. Bodies without a length (chunked) are still cut at `limit` while being read.
pub async fn declared_length(limit: usize, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => ApiError::too_large(format!(
            "body: Content-Length {n} is above the limit of {limit} bytes"
        ))
        .into_response(),
        _ => next.run(req).await,
    }
}

/// Wraps `router` so that a panic in any of its handlers is answered with a 500 envelope; the
/// connection and the listener carry on.
pub fn catch_panics<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(CatchPanicLayer::custom(panic_response))
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown cause");
    // The cause goes to the log only: a panic message may quote internal state.
    tracing::error!(cause = what, "a request handler panicked");
    ApiError::internal("the request handler failed").into_response()
}
