//! The one table of API routes. The router is built from it, and so is [`route_list`], which
//! the tests compare with the paths of the OpenAPI document: a route cannot be served without
//! the comparison seeing it.

use crate::transfers::{acls, incoming, outgoing, peer_serials, peers, tsigs};
use crate::{
    accounts, batch, dashboard, envelope, guard, openapi, pagerules, records, tokens, zonefile,
    zones, ApiState,
};
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use tower_http::trace::TraceLayer;

/// Where the API lives.
pub const BASE: &str = "/client/v4";

/// One method on one path (below [`BASE`]).
struct Route {
    path: &'static str,
    method: Method,
    handler: MethodRouter<ApiState>,
}

fn route<H, T>(path: &'static str, method: Method, handler: H) -> Route
where
    H: Handler<T, ApiState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method axum can route");
    Route {
        path,
        method,
        handler: on(filter, handler),
    }
}

/// The path of zone-file imports, the one route with its own (larger) body limit.
const IMPORT: &str = "/zones/{zone_id}/dns_records/import";

/// Every route of the API.
fn table() -> Vec<Route> {
    use Method as M;
    const PEERS: &str = "/accounts/{account_id}/secondary_dns/peers";
    const PEER: &str = "/accounts/{account_id}/secondary_dns/peers/{peer_id}";
    const TSIGS: &str = "/accounts/{account_id}/secondary_dns/tsigs";
    const TSIG: &str = "/accounts/{account_id}/secondary_dns/tsigs/{tsig_id}";
    const ACLS: &str = "/accounts/{account_id}/secondary_dns/acls";
    const ACL: &str = "/accounts/{account_id}/secondary_dns/acls/{acl_id}";
    const INCOMING: &str = "/zones/{zone_id}/secondary_dns/incoming";
    const OUTGOING: &str = "/zones/{zone_id}/secondary_dns/outgoing";
    vec![
        route("/accounts", M::GET, accounts::list),
        route("/accounts", M::POST, tokens::create_account),
        route("/accounts/{account_id}/tokens", M::GET, tokens::list),
        route("/accounts/{account_id}/tokens", M::POST, tokens::create),
        route(
            "/accounts/{account_id}/tokens/verify",
            M::GET,
            tokens::verify_in_account,
        ),
        route(
            "/accounts/{account_id}/tokens/{token_id}",
            M::DELETE,
            tokens::delete,
        ),
        route("/user/tokens/verify", M::GET, tokens::verify),
        route(PEERS, M::GET, peers::list),
        route(PEERS, M::POST, peers::create),
        route(PEER, M::GET, peers::get),
        route(PEER, M::PUT, peers::put),
        route(PEER, M::DELETE, peers::delete),
        route(TSIGS, M::GET, tsigs::list),
        route(TSIGS, M::POST, tsigs::create),
        route(TSIG, M::GET, tsigs::get),
        route(TSIG, M::PUT, tsigs::put),
        route(TSIG, M::DELETE, tsigs::delete),
        route(ACLS, M::GET, acls::list),
        route(ACLS, M::POST, acls::create),
        route(ACL, M::GET, acls::get),
        route(ACL, M::PUT, acls::put),
        route(ACL, M::DELETE, acls::delete),
        route("/zones", M::GET, zones::list),
        route("/zones", M::POST, zones::create),
        route("/zones/{zone_id}", M::GET, zones::get),
        route("/zones/{zone_id}", M::PATCH, zones::edit),
        route("/zones/{zone_id}", M::DELETE, zones::delete),
        route("/zones/{zone_id}/pagerules", M::GET, pagerules::list),
        route("/zones/{zone_id}/dns_records", M::GET, records::list),
        route("/zones/{zone_id}/dns_records", M::POST, records::create),
        route(
            "/zones/{zone_id}/dns_records/export",
            M::GET,
            zonefile::export,
        ),
        route(IMPORT, M::POST, zonefile::import),
        route("/zones/{zone_id}/dns_records/batch", M::POST, batch::batch),
        route(
            "/zones/{zone_id}/dns_records/{record_id}",
            M::GET,
            records::get,
        ),
        route(
            "/zones/{zone_id}/dns_records/{record_id}",
            M::PUT,
            records::put,
        ),
        route(
            "/zones/{zone_id}/dns_records/{record_id}",
            M::PATCH,
            records::patch,
        ),
        route(
            "/zones/{zone_id}/dns_records/{record_id}",
            M::DELETE,
            records::delete,
        ),
        route(INCOMING, M::GET, incoming::get),
        route(INCOMING, M::POST, incoming::create),
        route(INCOMING, M::PUT, incoming::put),
        route(INCOMING, M::DELETE, incoming::delete),
        route(
            "/zones/{zone_id}/secondary_dns/force_axfr",
            M::POST,
            incoming::force_axfr,
        ),
        route(OUTGOING, M::GET, outgoing::get),
        route(OUTGOING, M::POST, outgoing::create),
        route(OUTGOING, M::PUT, outgoing::put),
        route(OUTGOING, M::DELETE, outgoing::delete),
        route(
            "/zones/{zone_id}/secondary_dns/outgoing/enable",
            M::POST,
            outgoing::enable,
        ),
        route(
            "/zones/{zone_id}/secondary_dns/outgoing/disable",
            M::POST,
            outgoing::disable,
        ),
        route(
            "/zones/{zone_id}/secondary_dns/outgoing/force_notify",
            M::POST,
            outgoing::force_notify,
        ),
        route(
            "/zones/{zone_id}/secondary_dns/outgoing/status",
            M::GET,
            outgoing::status,
        ),
        route(
            "/zones/{zone_id}/secondary_dns/peer_serials",
            M::GET,
            peer_serials::list,
        ),
        route("/openapi.json", M::GET, openapi::serve),
    ]
}

/// Every `(path, method)` the API serves: full path (`/client/v4/zones/{zone_id}`) and
/// lowercase method (`get`), as an OpenAPI document spells them.
pub fn route_list() -> Vec<(String, String)> {
    table()
        .into_iter()
        .map(|r| {
            (
                format!("{BASE}{}", r.path),
                r.method.as_str().to_ascii_lowercase(),
            )
        })
        .collect()
}

/// The API under `/client/v4` and the dashboard's static files (`/`, `/dashboard/...`, not in
/// the OpenAPI document). It has no fallback of its own outside those, so the binary can merge
/// it with the metrics route.
pub fn router(state: ApiState) -> Router {
    let mut api = Router::new();
    for r in table() {
        let limit = if r.path == IMPORT {
            state.config().max_body_bytes
        } else {
            state.config().json_body_limit
        };
        let handler = r
            .handler
            .layer(DefaultBodyLimit::max(limit))
            .layer(middleware::from_fn(move |req, next| {
                guard::declared_length(limit, req, next)
            }));
        api = api.route(r.path, handler);
    }
    let api = api
        .fallback(envelope::no_route)
        .method_not_allowed_fallback(envelope::wrong_method)
        .layer(DefaultBodyLimit::max(state.config().json_body_limit));
    let app = Router::new()
        .nest(BASE, api)
        .merge(dashboard::router())
        .layer(TraceLayer::new_for_http());
    guard::catch_panics(app).with_state(state)
}
