//! `/zones/{zone_id}/secondary_dns/incoming` and `.../force_axfr`: where a secondary zone is
//! transferred from (its primaries, at most 30, each with an ip) and how often it is refreshed
//! regardless of NOTIFY. Only `secondary` zones have one.

use super::input::{auto_refresh, config_zone_name, peer_list};
use super::{opt_time, served_serial};
use crate::auth::{visible_zone, Caller};
use crate::envelope::{ok, ApiJson, ApiPath, Envelope};
use crate::records::DeletedId;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Number;
use tandem_store::{format_time, new_id, now, IncomingConfig, IncomingView, ZoneKind, ZoneRow};
use utoipa::ToSchema;

/// What the secondary role last saw of one linked primary (our extension).
#[derive(Serialize, ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct IncomingPeerStatus {
    pub peer_id: String,
    pub last_check_time: Option<String>,
    /// `ok`, or the error text of the last SOA check or transfer.
    pub last_result: Option<String>,
    pub last_transfer_time: Option<String>,
    /// `AXFR` or `IXFR`.
    pub last_transfer_type: Option<String>,
    pub last_transfer_serial: Option<u32>,
}

/// A secondary zone's incoming configuration as the API shows it.
#[derive(Serialize, ToSchema, Debug)]
pub struct IncomingOut {
    pub id: String,
    /// The zone's name.
    pub name: String,
    /// Linked peer ids: the zone's primaries, in the order given.
    pub peers: Vec<String>,
    pub auto_refresh_seconds: u32,
    /// Serial of the copy we serve; `null` before the first transfer.
    pub soa_serial: Option<u32>,
    pub checked_time: Option<String>,
    pub created_time: String,
    pub modified_time: String,
    /// Our extension: `pending` (no transfer yet), `ok`, `retrying` or `expired`.
    pub state: String,
    /// Our extension: when the copy expires without a successful refresh.
    pub expires_time: Option<String>,
    /// Our extension: when the next SOA check is due.
    pub next_refresh_time: Option<String>,
    /// Our extension: the peer whose transfer we serve now, once there was one.
    pub last_transfer_peer_id: Option<String>,
    /// Our extension: one entry per linked primary.
    pub peer_status: Vec<IncomingPeerStatus>,
}

/// Body of creating or replacing the incoming configuration. PUT replaces it whole: a field
/// left out returns to its default.
#[derive(Deserialize, ToSchema, Debug, Default)]
pub struct IncomingInput {
    /// The zone's name, with or without the trailing dot; optional.
    pub name: Option<String>,
    /// Peer ids of the same account, each with an ip; 1 to 30 of them.
    pub peers: Option<Vec<String>>,
    /// Seconds between SOA checks regardless of NOTIFY: from the server's
    /// `--min-refresh-seconds` (default 300) to 2419200; default 86400.
    #[schema(value_type = Option<u32>)]
    pub auto_refresh_seconds: Option<Number>,
}

fn incoming_out(state: &ApiState, zone: &ZoneRow, view: IncomingView) -> IncomingOut {
    let IncomingView {
        config: cfg,
        peers: seen,
        last_transfer_peer,
    } = view;
    let peer_status = cfg
        .peers
        .iter()
        .map(|id| {
            let s = seen.iter().find(|s| &s.peer_id == id).cloned();
            let s = s.unwrap_or_default();
            IncomingPeerStatus {
                peer_id: id.clone(),
                last_check_time: opt_time(s.last_check_time),
                last_result: s.last_result,
                last_transfer_time: opt_time(s.last_transfer_time),
                last_transfer_type: s.last_transfer_type,
                last_transfer_serial: s.last_transfer_serial,
            }
        })
        .collect();
    IncomingOut {
        last_transfer_peer_id: last_transfer_peer,
        id: cfg.id,
        name: zone.name.clone(),
        peers: cfg.peers,
        auto_refresh_seconds: cfg.auto_refresh_seconds,
        soa_serial: served_serial(state, zone),
        checked_time: opt_time(cfg.checked_time),
        created_time: format_time(cfg.created),
        modified_time: format_time(cfg.modified),
        state: cfg.state,
        expires_time: opt_time(cfg.expires_time),
        next_refresh_time: opt_time(cfg.next_refresh_time),
        peer_status,
    }
}

/// 400 unless the zone is a secondary zone.
fn secondary_only(zone: &ZoneRow) -> Result<(), ApiError> {
    if zone.kind == ZoneKind::Secondary {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "zone {} is a full zone (Tandem is its primary): incoming transfers are configured only \
         on secondary zones; use .../secondary_dns/outgoing to send it to secondaries",
        zone.name
    )))
}

/// The zone's incoming configuration and status, or 404 saying how to make one.
fn existing(state: &ApiState, zone: &ZoneRow) -> Result<IncomingView, ApiError> {
    state.store().incoming_view(&zone.id)?.ok_or_else(|| {
        ApiError::not_found(format!(
            "zone {} has no incoming transfer configuration; create it with POST \
             /zones/{}/secondary_dns/incoming",
            zone.name, zone.id
        ))
    })
}

/// The checked peers and refresh interval of a body.
fn checked(
    state: &ApiState,
    zone: &ZoneRow,
    input: &IncomingInput,
) -> Result<(Vec<String>, u32), ApiError> {
    config_zone_name(zone, input.name.as_deref())?;
    let peers = peer_list(input.peers.as_deref())?;
    if peers.is_empty() {
        return Err(ApiError::field(
            "peers",
            "a secondary zone needs at least one primary peer to transfer from",
        ));
    }
    let refresh = auto_refresh(
        input.auto_refresh_seconds.as_ref(),
        state.config().min_refresh_seconds,
    )?;
    Ok((peers, refresh))
}

#[utoipa::path(get, path = "/client/v4/zones/{zone_id}/secondary_dns/incoming", operation_id = "incoming_get", tag = "Zone transfers",
    params(("zone_id" = String, Path)),
    responses((status = 200, body = Envelope<IncomingOut>),
        (status = 400, description = "the zone is a full zone: incoming transfers are configured only on secondary zones")),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            let zone = visible_zone(s, &caller, &zone_id)?;
            secondary_only(&zone)?;
            let view = existing(s, &zone)?;
            Ok(ok(incoming_out(s, &zone, view)))
        })
        .await
}

#[utoipa::path(post, path = "/client/v4/zones/{zone_id}/secondary_dns/incoming", operation_id = "incoming_create", tag = "Zone transfers",
    params(("zone_id" = String, Path)), request_body = IncomingInput,
    responses((status = 200, body = Envelope<IncomingOut>)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
    ApiJson(input): ApiJson<IncomingInput>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            s.with_locked_zone(&caller, &zone_id, |zone| {
                secondary_only(zone)?;
                let (peers, auto_refresh_seconds) = checked(s, zone, &input)?;
                let now = now();
                let cfg = IncomingConfig {
                    id: new_id(),
                    zone_id: zone.id.clone(),
                    peers,
                    auto_refresh_seconds,
                    state: "pending".into(),
                    checked_time: None,
                    expires_time: None,
                    next_refresh_time: None,
                    axfr_requested: None,
                    created: now,
                    modified: now,
                };
                s.store().create_incoming_config(&zone.account_id, &cfg)?;
                s.events().zone_config_changed(&zone.id);
                tracing::info!(zone = %zone.name, peers = cfg.peers.len(), "incoming transfers configured");
                Ok(ok(incoming_out(s, zone, existing(s, zone)?)))
            })
        })
        .await
}

#[utoipa::path(put, path = "/client/v4/zones/{zone_id}/secondary_dns/incoming", operation_id = "incoming_put", tag = "Zone transfers",
    params(("zone_id" = String, Path)), request_body = IncomingInput,
    responses((status = 200, body = Envelope<IncomingOut>)),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
    ApiJson(input): ApiJson<IncomingInput>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            s.with_locked_zone(&caller, &zone_id, |zone| {
                secondary_only(zone)?;
                existing(s, zone)?;
                let (peers, refresh) = checked(s, zone, &input)?;
                let cfg = s
                    .store()
                    .replace_incoming_config(&zone.account_id, &zone.id, &peers, refresh)?;
                s.events().zone_config_changed(&zone.id);
                tracing::info!(zone = %zone.name, peers = cfg.peers.len(), "incoming transfers reconfigured");
                Ok(ok(incoming_out(s, zone, existing(s, zone)?)))
            })
        })
        .await
}

#[utoipa::path(delete, path = "/client/v4/zones/{zone_id}/secondary_dns/incoming", operation_id = "incoming_delete", tag = "Zone transfers",
    params(("zone_id" = String, Path)),
    responses((status = 200, body = Envelope<DeletedId>),
        (status = 400, description = "the zone is a full zone: incoming transfers are configured only on secondary zones")),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            s.with_locked_zone(&caller, &zone_id, |zone| {
                secondary_only(zone)?;
                existing(s, zone)?;
                let cfg = s.store().delete_incoming_config(&zone.id)?;
                s.events().zone_config_changed(&zone.id);
                tracing::info!(zone = %zone.name, "incoming transfer configuration deleted");
                Ok(ok(DeletedId { id: cfg.id }))
            })
        })
        .await
}

/// Asks for a full transfer now. The request is recorded (it survives a restart) and handed
/// to the secondary role; the answer does not wait for the transfer.
#[utoipa::path(post, path = "/client/v4/zones/{zone_id}/secondary_dns/force_axfr", operation_id = "incoming_force_axfr", tag = "Zone transfers",
    params(("zone_id" = String, Path)),
    request_body(content = Option<serde_json::Value>, description = "ignored: no body, an empty body or any JSON"),
    responses((status = 200, description = "`OK`: the request is recorded", body = Envelope<String>),
        (status = 400, description = "the zone is a full zone: incoming transfers are configured only on secondary zones")),
    security(("bearer" = [])))]
pub async fn force_axfr(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            s.with_locked_zone(&caller, &zone_id, |zone| {
                secondary_only(zone)?;
                existing(s, zone)?;
                s.store().request_axfr(&zone.id, now())?;
                s.events().axfr_requested(&zone.id);
                tracing::info!(zone = %zone.name, "AXFR requested");
                Ok(ok("OK"))
            })
        })
        .await
}
