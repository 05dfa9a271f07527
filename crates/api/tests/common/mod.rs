//! Test harness: the API router over a real SQLite store in a temporary directory.
#![allow(dead_code)]

use axum::body::{to_bytes, Body};
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tandem_api::{load_zones, router, ApiConfig, ApiState, SoaProbe, TransferEvents};
use tandem_server::zone::ZoneSet;
use tandem_store::prelude::*;
use tandem_store::Store;
use tandem_zone::{Name, ZoneDiff};
use tower::ServiceExt;

pub const TOKEN: &str = "test-admin-token";

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub store: Arc<Store>,
    pub zones: Arc<ZoneSet>,
    pub app: Router,
    /// Every diff the change hook saw: (zone id, serial, diff).
    pub changes: Arc<Mutex<Vec<(String, u32, ZoneDiff)>>>,
    /// Every transfer event the API raised, as `event:id`.
    pub events: Arc<RecordedEvents>,
    pub config: ApiConfig,
}

/// A [`TransferEvents`] that remembers what it was told.
#[derive(Default)]
pub struct RecordedEvents(Mutex<Vec<String>>);

impl RecordedEvents {
    fn push(&self, event: &str, id: &str) {
        self.0.lock().unwrap().push(format!("{event}:{id}"));
    }

    /// Everything recorded so far, emptying the record.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl TransferEvents for RecordedEvents {
    fn outgoing_enabled(&self, zone_id: &str) {
        self.push("outgoing_enabled", zone_id)
    }
    fn outgoing_disabled(&self, zone_id: &str) {
        self.push("outgoing_disabled", zone_id)
    }
    fn notify_requested(&self, zone_id: &str) {
        self.push("notify_requested", zone_id)
    }
    fn axfr_requested(&self, zone_id: &str) {
        self.push("axfr_requested", zone_id)
    }
    fn zone_config_changed(&self, zone_id: &str) {
        self.push("zone_config_changed", zone_id)
    }
    fn account_config_changed(&self, account_id: &str) {
        self.push("account_config_changed", account_id)
    }
}

impl Harness {
    pub fn new() -> Self {
        Self::with_config(ApiConfig::default())
    }

    pub fn with_config(config: ApiConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::open(dir, config)
    }

    /// Opens (or reopens) the store in `dir` and loads its zones, as the binary does.
    pub fn open(dir: tempfile::TempDir, config: ApiConfig) -> Self {
        Self::open_with(dir, config, None)
    }

    /// A harness whose peer_serials asks `probe`.
    pub fn with_probe(probe: Arc<dyn SoaProbe>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::open_with(dir, ApiConfig::default(), Some(probe))
    }

    /// A harness with `config` whose peer_serials asks `probe`.
    pub fn with_probe_and_config(probe: Arc<dyn SoaProbe>, config: ApiConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::open_with(dir, config, Some(probe))
    }

    fn open_with(
        dir: tempfile::TempDir,
        config: ApiConfig,
        probe: Option<Arc<dyn SoaProbe>>,
    ) -> Self {
        let store = Arc::new(Store::open(dir.path()).unwrap());
        store.bootstrap_admin_token(Some(TOKEN)).unwrap();
        let zones = Arc::new(ZoneSet::new());
        load_zones(store.as_ref(), &zones).unwrap();
        let changes = Arc::new(Mutex::new(Vec::new()));
        let seen = changes.clone();
        let events = Arc::new(RecordedEvents::default());
        let state = ApiState::new(store.clone(), zones.clone(), config.clone())
            .unwrap()
            .with_change_hook(Arc::new(move |c| {
                seen.lock()
                    .unwrap()
                    .push((c.zone_id.to_string(), c.serial, c.diff.clone()));
            }))
            .with_transfer_events(events.clone());
        let state = match probe {
            Some(p) => state.with_soa_probe(p),
            None => state,
        };
        Harness {
            dir,
            store,
            zones,
            app: router(state),
            changes,
            events,
            config,
        }
    }

    /// Drops the router and store and opens the same directory again.
    pub fn reopen(self) -> Self {
        let Harness {
            dir,
            config,
            store,
            app,
            ..
        } = self;
        // The store holds the data directory's lock until its last handle is gone, as a
        // stopped server's does.
        drop(app);
        drop(store);
        Self::open(dir, config)
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Vec<u8>) {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let body = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (status, body.to_vec())
    }

    /// A JSON request with the administrator token; answers status and parsed body.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_as(Some(TOKEN), method, path, body).await
    }

    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(format!("/client/v4{path}"));
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        let (status, bytes) = self.send(req.unwrap()).await;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    /// Uploads a zone file as the multipart field `file`.
    pub async fn import(&self, zone_id: &str, text: &str, replace: bool) -> (StatusCode, Value) {
        let boundary = "XtandemBoundaryX";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"zone.txt\"\r\nContent-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n"
        );
        let q = if replace { "?replace=true" } else { "" };
        let req = Request::post(format!("/client/v4/zones/{zone_id}/dns_records/import{q}"))
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        let (status, bytes) = self.send(req).await;
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    pub async fn export(&self, zone_id: &str) -> String {
        let req = Request::get(format!("/client/v4/zones/{zone_id}/dns_records/export"))
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        let (status, bytes) = self.send(req).await;
        assert_eq!(status, StatusCode::OK);
        String::from_utf8(bytes).unwrap()
    }

    /// Creates a full zone and answers its id.
    pub async fn zone(&self, name: &str) -> String {
        let (status, v) = self
            .call("POST", "/zones", Some(serde_json::json!({ "name": name })))
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v["result"]["id"].as_str().unwrap().to_string()
    }

    /// Every record of a zone (one big page).
    pub async fn records(&self, zone_id: &str) -> Vec<Value> {
        let (status, v) = self
            .call(
                "GET",
                &format!("/zones/{zone_id}/dns_records?per_page=50000"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v["result"].as_array().unwrap().clone()
    }

    /// The serial the DNS side would serve.
    pub fn served_serial(&self, apex: &str) -> u32 {
        let zone = self.zones.get(&Name::parse(apex).unwrap()).unwrap();
        zone.current().unwrap().serial()
    }

    /// The serial in the stored SOA record, as listed by the API.
    pub async fn listed_serial(&self, zone_id: &str) -> u32 {
        let (_, v) = self
            .call(
                "GET",
                &format!("/zones/{zone_id}/dns_records?type=SOA"),
                None,
            )
            .await;
        let content = v["result"][0]["content"].as_str().unwrap().to_string();
        content.split_whitespace().nth(2).unwrap().parse().unwrap()
    }

    /// Asserts the served and stored serials both equal `want`.
    pub async fn assert_serial(&self, zone_id: &str, apex: &str, want: u32) {
        assert_eq!(self.served_serial(apex), want, "served serial");
        assert_eq!(self.listed_serial(zone_id).await, want, "stored serial");
    }
}

/// (name, type, content, ttl, priority) of each record, sorted, SOA left out.
pub fn shape(records: &[Value]) -> Vec<(String, String, String, u64, Option<u64>)> {
    let mut v: Vec<_> = records
        .iter()
        .filter(|r| r["type"] != "SOA")
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["type"].as_str().unwrap().to_string(),
                r["content"].as_str().unwrap().to_string(),
                r["ttl"].as_u64().unwrap(),
                r["priority"].as_u64(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The first error message of an envelope.
pub fn error(v: &Value) -> String {
    assert_eq!(v["success"], false, "{v}");
    v["errors"][0]["message"].as_str().unwrap().to_string()
}

impl Harness {
    /// The id of the `default` account.
    pub fn account_id(&self) -> String {
        self.store.default_account().unwrap().id
    }

    /// A call with `token` that must succeed; answers its `result`.
    pub async fn ok_as(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call_as(Some(token), method, path, body).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {v}");
        assert_eq!(v["success"], true, "{v}");
        v["result"].clone()
    }

    /// A call with the administrator token that must succeed; answers its `result`.
    pub async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.ok_as(TOKEN, method, path, body).await
    }

    /// A call with the administrator token that must fail with `status`; answers the message.
    pub async fn fails(
        &self,
        status: StatusCode,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> String {
        let (got, v) = self.call(method, path, body).await;
        assert_eq!(got, status, "{method} {path}: {v}");
        error(&v)
    }

    /// A secondary zone's id.
    pub async fn secondary_zone(&self, name: &str) -> String {
        let v = self
            .ok(
                "POST",
                "/zones",
                Some(serde_json::json!({"name": name, "type": "secondary"})),
            )
            .await;
        v["id"].as_str().unwrap().to_string()
    }

    /// Creates a peer of the default account; answers its id.
    pub async fn peer(&self, body: Value) -> String {
        let path = format!("/accounts/{}/secondary_dns/peers", self.account_id());
        let v = self.ok("POST", &path, Some(body)).await;
        v["id"].as_str().unwrap().to_string()
    }
}
