//! Tandem's REST API (PRODUCT §3): accounts and tokens, zones and DNS records, and the
//! zone-transfer configuration (peers, TSIG keys, ACLs, incoming and outgoing) under
//! `/client/v4`, shaped like the provider API so its SDKs work, plus zone-file import/export and
//! the OpenAPI document generated from this code.
//!
//! Data flows one way: request → validation → next [`ZoneVersion`] (zone rules checked) →
//! store transaction → publish to the [`ZoneSet`] → answer.

mod accounts;
mod auth;
mod batch;
mod change;
mod content;
mod dashboard;
mod data;
mod envelope;
/// The record input path without HTTP, for fuzzing; not part of the API.
#[doc(hidden)]
pub mod fuzzing;
mod guard;
mod openapi;
mod pagerules;
mod records;
mod routes;
mod served_records;
mod tokens;
mod transfers;
mod zonefile;
mod zones;

pub use auth::require_admin;
pub use change::ZoneChange;
pub use envelope::{ApiError, ApiMessage, Envelope, ResultInfo};
pub use guard::catch_panics;
pub use openapi::openapi;
pub use routes::{route_list, router};
pub use transfers::incoming::IncomingPeerStatus;
pub use transfers::input::{DEFAULT_REFRESH_SECONDS, MAX_REFRESH_SECONDS};
pub use transfers::outgoing::OutgoingPeerStatus;
pub use transfers::peer_serials::{PeerSerial, ProbeKey, ProbeResult, SoaProbe};
pub use transfers::{NoTransferEvents, TransferEvents};

use std::sync::{Arc, OnceLock};
use tandem_server::zone::ZoneSet;
use tandem_store::prelude::*;
use tandem_store::{StoreError, ZoneKind};
use tandem_zone::{Name, ZoneError, ZoneVersion};

/// Settings of the API that come from the command line.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Apex NS records of a new `full` zone (`--default-ns`); empty means `ns1.<zone>.`.
    pub default_ns: Vec<String>,
    /// SOA RNAME of a new zone (`--default-soa-rname`); `None` means `hostmaster.<zone>.`.
    pub default_soa_rname: Option<String>,
    /// Largest zone-file import body, in bytes.
    pub max_body_bytes: usize,
    /// Largest JSON body, in bytes.
    pub json_body_limit: usize,
    /// Lowest accepted `auto_refresh_seconds` of a secondary zone (`--min-refresh-seconds`).
    pub min_refresh_seconds: u32,
    /// IXFR history kept per zone (`--journal-max-depth`, `--journal-max-bytes`).
    pub journal: tandem_store::JournalLimits,
    /// Where peers may point (`--peer-allow`): a peer's `ip` outside it is refused.
    pub peer_allow: tandem_store::PeerAllow,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            default_ns: Vec::new(),
            default_soa_rname: None,
            max_body_bytes: 64 * 1024 * 1024,
            json_body_limit: 1024 * 1024,
            min_refresh_seconds: 300,
            journal: tandem_store::JournalLimits::default(),
            peer_allow: tandem_store::PeerAllow::any(),
        }
    }
}

/// A setting of [`ApiConfig`] that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("default NS {0:?} is not a valid domain name")]
    BadNs(String),
    #[error("default SOA RNAME {0:?} is not a valid domain name")]
    BadRname(String),
    #[error("min_refresh_seconds {0} is not in 1..={MAX_REFRESH_SECONDS}")]
    BadMinRefresh(u32),
}

/// Called after every committed change to a zone's records, once it is served (the binary
/// gives a large change's memory back here; NOTIFY was planned by the commit itself).
pub type ChangeHook = Arc<dyn Fn(&ZoneChange<'_>) + Send + Sync>;

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    inner: Arc<Shared>,
}

struct Shared {
    store: Arc<dyn Storage>,
    zones: Arc<ZoneSet>,
    config: ApiConfig,
    default_ns: Vec<Name>,
    default_rname: Option<Name>,
    locks: change::ZoneLocks,
    hook: OnceLock<ChangeHook>,
    events: OnceLock<Arc<dyn TransferEvents>>,
    soa_probe: OnceLock<Arc<dyn SoaProbe>>,
    serial_cache: transfers::peer_serials::SerialCache,
    shown_ids: served_records::ShownIds,
}

impl ApiState {
    /// Checks the configuration and builds the state.
    pub fn new(
        store: Arc<dyn Storage>,
        zones: Arc<ZoneSet>,
        config: ApiConfig,
    ) -> Result<Self, ConfigError> {
        let default_ns = config
            .default_ns
            .iter()
            .map(|n| parse_config_name(n).ok_or_else(|| ConfigError::BadNs(n.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        let default_rname = config
            .default_soa_rname
            .as_ref()
            .map(|n| parse_config_name(n).ok_or_else(|| ConfigError::BadRname(n.clone())))
            .transpose()?;
        if !(1..=MAX_REFRESH_SECONDS).contains(&config.min_refresh_seconds) {
            return Err(ConfigError::BadMinRefresh(config.min_refresh_seconds));
        }
        Ok(ApiState {
            inner: Arc::new(Shared {
                store,
                zones,
                config,
                default_ns,
                default_rname,
                locks: change::ZoneLocks::default(),
                hook: OnceLock::new(),
                events: OnceLock::new(),
                soa_probe: OnceLock::new(),
                serial_cache: Default::default(),
                shown_ids: Default::default(),
            }),
        })
    }

    /// Ids of records without a row that listings lately showed.
    pub(crate) fn shown_ids(&self) -> &served_records::ShownIds {
        &self.inner.shown_ids
    }

    /// Registers the function called after every committed change (once; a second hook is
    /// refused with a warning). It runs on a blocking thread with the zone's write lock held,
    /// so it must be quick: hand work to a channel rather than doing I/O in it.
    pub fn with_change_hook(self, hook: ChangeHook) -> Self {
        if self.inner.hook.set(hook).is_err() {
            tracing::warn!("a change hook is already set; the new one is ignored");
        }
        self
    }

    /// Registers what the transfer roles are told after a configuration change or a transfer
    /// request (once; a second one is refused with a warning). Until then the requests are
    /// only recorded in the store ([`NoTransferEvents`]).
    pub fn with_transfer_events(self, events: Arc<dyn TransferEvents>) -> Self {
        if self.inner.events.set(events).is_err() {
            tracing::warn!("transfer events are already registered; the new ones are ignored");
        }
        self
    }

    /// Registers how peer_serials asks a peer for its SOA serial (once; a second one is
    /// refused with a warning). Without one, each peer's entry says probing is not available.
    pub fn with_soa_probe(self, probe: Arc<dyn SoaProbe>) -> Self {
        if self.inner.soa_probe.set(probe).is_err() {
            tracing::warn!("an SOA probe is already registered; the new one is ignored");
        }
        self
    }

    /// How peers are asked for their SOA serial, if the binary registered a way.
    pub(crate) fn soa_probe(&self) -> Option<Arc<dyn SoaProbe>> {
        self.inner.soa_probe.get().cloned()
    }

    /// The last peer_serials round of each zone.
    pub(crate) fn serial_cache(&self) -> &transfers::peer_serials::SerialCache {
        &self.inner.serial_cache
    }

    /// What the transfer roles are told.
    pub(crate) fn events(&self) -> &dyn TransferEvents {
        match self.inner.events.get() {
            Some(e) => e.as_ref(),
            None => &NoTransferEvents,
        }
    }

    pub fn store(&self) -> &dyn Storage {
        self.inner.store.as_ref()
    }

    pub fn zones(&self) -> &ZoneSet {
        &self.inner.zones
    }

    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    /// Runs blocking work (store calls, zone building) off the async runtime.
    pub(crate) async fn run<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&ApiState) -> Result<R, ApiError> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || f(&state))
            .await
            .map_err(ApiError::internal)?
    }
}

fn parse_config_name(text: &str) -> Option<Name> {
    let name = Name::parse(text.trim()).ok()?;
    (name.label_count() > 0).then_some(name)
}

/// Why the stored zones could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("zone {zone}: stored name is not a domain name")]
    BadName { zone: String },
    #[error("zone {zone}: {source}")]
    BadZone { zone: String, source: ZoneError },
    /// The records read are not the records the store counted: a damaged index or table.
    #[error("zone {zone}: the store counted {counted} record rows but {read} were read; the store is damaged: restore it from a backup, or start the zone afresh (see the README, \"Recovering the store\")")]
    CountMismatch {
        zone: String,
        counted: u64,
        read: u64,
    },
    /// The zone's snapshot is damaged, or its journal does not lead to the committed serial.
    #[error("zone {zone}: {source}; restore the store from a backup, or start afresh and let the zone transfer again (see the README, \"Recovering the store\")")]
    Snapshot { zone: String, source: StoreError },
    /// The records read make another serial than the one committed with them.
    #[error("zone {zone}: the store committed serial {stored} but its records hold serial {read}; the store is damaged: restore it from a backup, or start the zone afresh (see the README, \"Recovering the store\")")]
    SerialMismatch {
        zone: String,
        stored: u32,
        read: u32,
    },
}

/// Builds the version of every stored zone and puts it into `zones` (at start-up): from its
/// snapshot and the journal since (`tandem_store` `snapshot.rs`). A secondary zone with
/// neither is inserted as pending. A zone still stored as rows (a store written by an older
/// release, or a `full` zone not changed since it was created) is built from its rows and
/// given a snapshot once loaded. Returns the number of zones loaded.
///
/// A zone is served only when what was read is what was committed: its record count (kept by
/// the database in the same transactions as the rows, or the snapshot's count under its
/// checksum) and its serial. Otherwise loading fails, naming the zone, rather than serving
/// part of it (NXDOMAIN with AA for the rest).
pub fn load_zones(store: &dyn Storage, zones: &ZoneSet) -> Result<usize, LoadError> {
    let rows = store.zones()?;
    let counts = store.record_counts()?;
    for zone in &rows {
        let apex = Name::parse(&zone.name).map_err(|_| LoadError::BadName {
            zone: zone.name.clone(),
        })?;
        let counted = counts.get(&zone.id).copied().unwrap_or(0);
        // Every zone is kept as a snapshot and the journal since, except one written by an
        // older release and not started since: its records are rows.
        let snapshot =
            store
                .zone_snapshot(&zone.id, zone.serial)
                .map_err(|e| LoadError::Snapshot {
                    zone: zone.name.clone(),
                    source: e,
                })?;
        let from_rows = snapshot.is_none();
        let records = match snapshot {
            Some(_) => Vec::new(),
            None => store.zone_records(&zone.id)?,
        };
        // A zone held as a snapshot keeps rows only for what the API remembers of some of
        // its records (none for a secondary zone); they must still be all there.
        let read = match from_rows {
            true => records.len() as u64,
            false => store.count_rows(&zone.id)?,
        };
        if counted != read {
            return Err(LoadError::CountMismatch {
                zone: zone.name.clone(),
                counted,
                read,
            });
        }
        let version = match snapshot {
            Some(snap) => {
                ZoneVersion::build(apex.clone(), snap.records).and_then(|v| v.apply_all(&snap.redo))
            }
            None if records.is_empty() && zone.kind == ZoneKind::Secondary => {
                zones.insert(apex, None);
                continue;
            }
            None => ZoneVersion::build(apex.clone(), records),
        }
        .map_err(|source| LoadError::BadZone {
            zone: zone.name.clone(),
            source,
        })?;
        if version.serial() != zone.serial {
            return Err(LoadError::SerialMismatch {
                zone: zone.name.clone(),
                stored: zone.serial,
                read: version.serial(),
            });
        }
        if from_rows {
            store.move_to_snapshot(&zone.id, &version)?;
            tracing::info!(zone = %zone.name, records = version.record_count(), "zone moved from record rows to a snapshot");
        }
        // The journal's newest changes, so IXFR over UDP is answered from memory at once.
        let history = store.journal_tail(&zone.id, tandem_zone::recent::RECENT_RECORDS)?;
        zones.insert(apex, Some(Arc::new(version.with_history(&history))));
    }
    Ok(rows.len())
}
