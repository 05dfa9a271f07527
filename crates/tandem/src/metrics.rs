//! `GET /metrics`: Prometheus text for the query counters and per-zone gauges (no token needed).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::fmt::Write;
use std::sync::Arc;
use tandem_server::metrics::QueryMetrics;
use tandem_zone::ZoneSet;

#[derive(Clone)]
struct MetricsState {
    zones: Arc<ZoneSet>,
    queries: Arc<QueryMetrics>,
}

pub fn router(zones: Arc<ZoneSet>, queries: Arc<QueryMetrics>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(MetricsState { zones, queries })
}

async fn metrics(State(s): State<MetricsState>) -> impl IntoResponse {
    let mut out = String::new();
    s.queries.render(&mut out);
    out.push_str("# HELP tandem_zone_serial SOA serial of the served version.\n");
    out.push_str("# TYPE tandem_zone_serial gauge\n");
    let mut records = String::new();
    records.push_str("# HELP tandem_zone_records Records in the served version.\n");
    records.push_str("# TYPE tandem_zone_records gauge\n");
    for zone in s.zones.all() {
        if let Some(v) = zone.current() {
            let name = zone.apex().to_api();
            let _ = writeln!(out, "tandem_zone_serial{{zone=\"{name}\"}} {}", v.serial());
            let _ = writeln!(
                records,
                "tandem_zone_records{{zone=\"{name}\"}} {}",
                v.record_count()
            );
        }
    }
    out.push_str(&records);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
