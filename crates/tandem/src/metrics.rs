//! `GET /metrics`: Prometheus text for the query counters and per-zone gauges (no token needed).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use tandem_server::metrics::QueryMetrics;
use tandem_zone::ZoneSet;

/// Outgoing transfers by (zone, type, result); transfers are rare, a lock is fine.
static TRANSFERS_OUT: Mutex<BTreeMap<(String, &'static str, &'static str), u64>> =
    Mutex::new(BTreeMap::new());

/// Counts one outgoing transfer for `tandem_transfers_out_total`.
pub fn count_transfer_out(zone: &str, kind: &'static str, ok: bool) {
    let result = if ok { "ok" } else { "failed" };
    let mut map = TRANSFERS_OUT.lock().unwrap_or_else(|e| e.into_inner());
    *map.entry((zone.to_string(), kind, result)).or_insert(0) += 1;
}

/// NOTIFYs sent, by (zone, result).
static NOTIFY_SENT: Mutex<BTreeMap<(String, &'static str), u64>> = Mutex::new(BTreeMap::new());

/// Counts one NOTIFY outcome for `tandem_notify_sent_total`.
pub fn count_notify_sent(zone: &str, ok: bool) {
    let result = if ok { "ok" } else { "failed" };
    let mut map = NOTIFY_SENT.lock().unwrap_or_else(|e| e.into_inner());
    *map.entry((zone.to_string(), result)).or_insert(0) += 1;
}

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
    out.push_str(
        "# HELP tandem_transfers_out_total Outgoing zone transfers, by zone, type and result.\n",
    );
    out.push_str("# TYPE tandem_transfers_out_total counter\n");
    for ((zone, kind, result), n) in TRANSFERS_OUT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        let _ = writeln!(
            out,
            "tandem_transfers_out_total{{zone=\"{zone}\",type=\"{kind}\",result=\"{result}\"}} {n}"
        );
    }
    out.push_str("# HELP tandem_notify_sent_total NOTIFY messages sent, by zone and result.\n");
    out.push_str("# TYPE tandem_notify_sent_total counter\n");
    for ((zone, result), n) in NOTIFY_SENT.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = writeln!(
            out,
            "tandem_notify_sent_total{{zone=\"{zone}\",result=\"{result}\"}} {n}"
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
