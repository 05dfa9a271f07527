//! `GET /metrics`: Prometheus text for the query counters and per-zone gauges (administrator
//! token unless `--metrics-public`), and `GET /healthz`: whether DNS and the store are up.

use arc_swap::ArcSwap;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use axum::Router;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tandem_server::metrics::QueryMetrics;
use tandem_server::zone::ZoneSet;
use tandem_store::Storage;
use tandem_zone::Name;

/// The transfer and sent-NOTIFY counters: these events are ours and rare, so one lock over
/// all is fine. Key: (metric, label text), e.g.
/// `("tandem_notify_sent_total", "zone=\"a\",result=\"ok\"")`.
static COUNTERS: Mutex<BTreeMap<(&'static str, String), u64>> = Mutex::new(BTreeMap::new());

/// `tandem_notify_received_total{zone,result}`. Anyone can send NOTIFYs, so counting one
/// takes no lock and allocates nothing once its zone has counters (made at the zone's first
/// NOTIFY; only hosted zones are counted, so there are no more of them than zones).
static NOTIFY_RECEIVED: LazyLock<NotifyReceived> = LazyLock::new(NotifyReceived::default);

/// Accepted and refused NOTIFYs by zone.
#[derive(Default)]
struct NotifyReceived {
    zones: ArcSwap<HashMap<Name, Arc<[AtomicU64; 2]>>>,
    /// Held while a zone's counters are added (the map is copied, the counters shared).
    adding: Mutex<()>,
}

impl NotifyReceived {
    const ACCEPTED: usize = 0;
    const REFUSED: usize = 1;

    fn count(&self, zone: &Name, accepted: bool) {
        let i = if accepted {
            Self::ACCEPTED
        } else {
            Self::REFUSED
        };
        if let Some(c) = self.zones.load().get(zone) {
            c[i].fetch_add(1, Ordering::Relaxed);
            return;
        }
        let _one_at_a_time = self.adding.lock().unwrap_or_else(|e| e.into_inner());
        let mut zones = HashMap::clone(&self.zones.load());
        zones
            .entry(zone.clone())
            .or_insert_with(|| Arc::new([AtomicU64::new(0), AtomicU64::new(0)]))[i]
            .fetch_add(1, Ordering::Relaxed);
        self.zones.store(Arc::new(zones));
    }

    /// The sample lines, ordered by zone then result.
    fn render(&self, out: &mut String) {
        let zones = self.zones.load();
        let mut rows: Vec<(String, &[AtomicU64; 2])> =
            zones.iter().map(|(z, c)| (z.to_api(), &**c)).collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        for (zone, c) in rows {
            for (i, result) in [(Self::ACCEPTED, "accepted"), (Self::REFUSED, "refused")] {
                let n = c[i].load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "tandem_notify_received_total{{zone=\"{zone}\",result=\"{result}\"}} {n}"
                    );
                }
            }
        }
    }
}

/// The counter families, in output order, with their help text.
const FAMILIES: &[(&str, &str)] = &[
    (
        "tandem_transfers_out_total",
        "Outgoing zone transfers, by zone, type and result.",
    ),
    (
        "tandem_transfers_in_total",
        "Incoming zone transfers, by zone, type and result.",
    ),
    (
        "tandem_notify_sent_total",
        "NOTIFY messages sent, by zone and result.",
    ),
    (
        "tandem_notify_received_total",
        "NOTIFY messages received, by zone and result (accepted or refused).",
    ),
    (
        "tandem_soa_checks_total",
        "SOA queries of the secondary role to its primaries, by zone and result.",
    ),
];

/// Per-primary gauges of the secondary role: (metric, label text) → value.
static GAUGES: Mutex<BTreeMap<(&'static str, String), u64>> = Mutex::new(BTreeMap::new());

const GAUGE_FAMILIES: &[(&str, &str)] = &[
    (
        "tandem_incoming_peer_ok",
        "1 when the last SOA check or transfer with this primary succeeded, else 0.",
    ),
    (
        "tandem_incoming_peer_transfer_serial",
        "Serial of the last transfer applied from this primary.",
    ),
    (
        "tandem_incoming_peer_transfer_timestamp_seconds",
        "Unix time of the last transfer applied from this primary.",
    ),
];

fn set_gauge(metric: &'static str, zone: &str, peer: &str, value: u64) {
    let mut map = GAUGES.lock().unwrap_or_else(|e| e.into_inner());
    map.insert((metric, format!("zone=\"{zone}\",peer=\"{peer}\"")), value);
}

/// Records the outcome of an exchange with one primary of a secondary zone: whether it
/// succeeded and, for an applied transfer, its serial.
pub fn set_incoming_peer(zone: &str, peer: &str, ok: bool, transferred: Option<u32>) {
    set_gauge("tandem_incoming_peer_ok", zone, peer, u64::from(ok));
    if let Some(serial) = transferred {
        set_gauge(
            "tandem_incoming_peer_transfer_serial",
            zone,
            peer,
            u64::from(serial),
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        set_gauge(
            "tandem_incoming_peer_transfer_timestamp_seconds",
            zone,
            peer,
            now,
        );
    }
}

fn result_label(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "failed"
    }
}

fn count(metric: &'static str, labels: String) {
    let mut map = COUNTERS.lock().unwrap_or_else(|e| e.into_inner());
    *map.entry((metric, labels)).or_insert(0) += 1;
}

/// Counts one outgoing transfer for `tandem_transfers_out_total`.
pub fn count_transfer_out(zone: &str, kind: &'static str, ok: bool) {
    let result = result_label(ok);
    count(
        "tandem_transfers_out_total",
        format!("zone=\"{zone}\",type=\"{kind}\",result=\"{result}\""),
    );
}

/// Counts one incoming transfer for `tandem_transfers_in_total`.
pub fn count_transfer_in(zone: &str, kind: &'static str, ok: bool) {
    let result = result_label(ok);
    count(
        "tandem_transfers_in_total",
        format!("zone=\"{zone}\",type=\"{kind}\",result=\"{result}\""),
    );
}

/// Counts one NOTIFY outcome for `tandem_notify_sent_total`.
pub fn count_notify_sent(zone: &str, ok: bool) {
    let result = result_label(ok);
    count(
        "tandem_notify_sent_total",
        format!("zone=\"{zone}\",result=\"{result}\""),
    );
}

/// NOTIFYs counted for `zone` so far: (accepted, refused).
#[cfg(test)]
pub(crate) fn notify_received(zone: &Name) -> (u64, u64) {
    NOTIFY_RECEIVED.zones.load().get(zone).map_or((0, 0), |c| {
        (
            c[NotifyReceived::ACCEPTED].load(Ordering::Relaxed),
            c[NotifyReceived::REFUSED].load(Ordering::Relaxed),
        )
    })
}

/// Counts one NOTIFY received for a hosted zone, for `tandem_notify_received_total`.
/// Lock-free and allocation-free after the zone's first NOTIFY.
pub fn count_notify_received(zone: &Name, accepted: bool) {
    NOTIFY_RECEIVED.count(zone, accepted);
}

/// Counts one SOA check for `tandem_soa_checks_total`.
pub fn count_soa_check(zone: &str, ok: bool) {
    let result = result_label(ok);
    count(
        "tandem_soa_checks_total",
        format!("zone=\"{zone}\",result=\"{result}\""),
    );
}

#[derive(Clone)]
struct MetricsState {
    zones: Arc<ZoneSet>,
    queries: Arc<QueryMetrics>,
    store: Arc<dyn Storage>,
    public: bool,
}

/// How long `/healthz` waits for the store before calling it down.
const STORE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `/metrics` and `/healthz`. Zone names and counters tell a stranger what we host and for
/// whom, so `/metrics` needs the administrator token unless `public`.
pub fn router(
    zones: Arc<ZoneSet>,
    queries: Arc<QueryMetrics>,
    store: Arc<dyn Storage>,
    public: bool,
) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(MetricsState {
            zones,
            queries,
            store,
            public,
        })
}

/// 200 `{"dns":"up","store":"up"}`, or 503 with `"store":"down"` when a trivial read of the
/// store fails or hangs. DNS is up while the process runs: its listeners were bound before this
/// one and run on their own tasks and threads.
async fn healthz(State(s): State<MetricsState>) -> Response {
    let store = s.store.clone();
    let check = tokio::task::spawn_blocking(move || store.check());
    let store_up = match tokio::time::timeout(STORE_CHECK_TIMEOUT, check).await {
        Ok(Ok(Ok(()))) => true,
        Ok(Ok(Err(e))) => {
            tracing::warn!(error = %e, "healthz: the store check failed");
            false
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "healthz: the store check did not finish");
            false
        }
        Err(_) => {
            tracing::warn!("healthz: the store did not answer in time");
            false
        }
    };
    let status = if store_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "dns": "up",
        "store": if store_up { "up" } else { "down" },
    });
    (status, Json(body)).into_response()
}

async fn metrics(State(s): State<MetricsState>, headers: HeaderMap) -> Response {
    if !s.public {
        if let Err(e) = tandem_api::require_admin(s.store.clone(), &headers).await {
            return e.into_response();
        }
    }
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
    let counters = COUNTERS.lock().unwrap_or_else(|e| e.into_inner());
    for (family, help) in FAMILIES {
        let _ = writeln!(out, "# HELP {family} {help}\n# TYPE {family} counter");
        for ((_, labels), n) in counters.iter().filter(|((f, _), _)| f == family) {
            let _ = writeln!(out, "{family}{{{labels}}} {n}");
        }
        if *family == "tandem_notify_received_total" {
            NOTIFY_RECEIVED.render(&mut out);
        }
    }
    drop(counters);
    let gauges = GAUGES.lock().unwrap_or_else(|e| e.into_inner());
    for (family, help) in GAUGE_FAMILIES {
        let _ = writeln!(out, "# HELP {family} {help}\n# TYPE {family} gauge");
        for ((_, labels), n) in gauges.iter().filter(|((f, _), _)| f == family) {
            let _ = writeln!(out, "{family}{{{labels}}} {n}");
        }
    }
    drop(gauges);
    use tandem_server::log_budget::{NOTIFY_REFUSED, TRANSFER_REFUSED};
    let _ = writeln!(
        out,
        "# HELP tandem_log_lines_suppressed_total Log lines about refused traffic left out by the \
         per-second budget.\n# TYPE tandem_log_lines_suppressed_total counter\n\
         tandem_log_lines_suppressed_total{{what=\"notify_refused\"}} {}\n\
         tandem_log_lines_suppressed_total{{what=\"transfer_refused\"}} {}",
        NOTIFY_REFUSED.suppressed(),
        TRANSFER_REFUSED.suppressed()
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
