//! `/zones/{zone_id}/secondary_dns/outgoing` and its actions: which secondaries a zone is
//! transferred to (at most 30 peers), and whether transfers are served at all. For `full`
//! zones and for `secondary` zones that feed further secondaries. A new configuration starts
//! disabled (PRODUCT §1); enable, disable and force_notify are recorded and handed to the
//! primary role, and answer without waiting for it.

use super::input::{config_zone_name, peer_list};
use super::{opt_time, served_serial};
use crate::auth::{visible_zone, Caller};
use crate::envelope::{ok, ApiJson, ApiPath, Envelope};
use crate::records::DeletedId;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tandem_store::{format_time, new_id, now, OutgoingConfig, OutgoingPeerState, ZoneRow};
use utoipa::ToSchema;

/// What the primary role last did with one linked secondary (our extension).
#[derive(Serialize, ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct OutgoingPeerStatus {
    pub peer_id: String,
    pub last_notify_time: Option<String>,
    /// `ok`, or why the last NOTIFY was not acknowledged.
    pub last_notify_result: Option<String>,
    pub last_transfer_time: Option<String>,
    /// `AXFR` or `IXFR`.
    pub last_transfer_type: Option<String>,
    pub last_transfer_serial: Option<u32>,
}

/// A zone's outgoing configuration as the API shows it.
#[derive(Serialize, ToSchema, Debug)]
pub struct OutgoingOut {
    pub id: String,
    /// The zone's name.
    pub name: String,
    /// Linked peer ids: the zone's secondaries, in the order given.
    pub peers: Vec<String>,
    /// Serial of the version we serve; `null` while there is none.
    pub soa_serial: Option<u32>,
    pub checked_time: Option<String>,
    pub created_time: String,
    pub last_transferred_time: Option<String>,
    /// Our extension: whether transfer requests are served.
    pub enabled: bool,
    /// Our extension: one entry per linked secondary.
    pub peer_status: Vec<OutgoingPeerStatus>,
}

/// Body of creating or replacing the outgoing configuration. PUT replaces the peers whole
/// (left out: none); `enabled` changes only through enable and disable.
#[derive(Deserialize, ToSchema, Debug, Default)]
pub struct OutgoingInput {
    /// The zone's name, with or without the trailing dot; optional.
    pub name: Option<String>,
    /// Peer ids of the same account; at most 30.
    pub peers: Option<Vec<String>>,
}

/// The answer for a zone's outgoing configuration and, per linked peer, what the primary
/// role recorded (empty fields when it has not notified or served that peer yet); both come
/// from one [`tandem_store::Store::outgoing_view`].
fn outgoing_out(
    state: &ApiState,
    zone: &ZoneRow,
    (cfg, rows): (OutgoingConfig, Vec<OutgoingPeerState>),
) -> OutgoingOut {
    let peer_status = cfg
        .peers
        .iter()
        .map(|id| {
            let row = rows
                .iter()
                .find(|r| &r.peer_id == id)
                .cloned()
                .unwrap_or_default();
            OutgoingPeerStatus {
                peer_id: id.clone(),
                last_notify_time: opt_time(row.last_notify_time),
                last_notify_result: row.last_notify_result,
                last_transfer_time: opt_time(row.last_transfer_time),
                last_transfer_type: row.last_transfer_type,
                last_transfer_serial: row.last_transfer_serial,
            }
        })
        .collect();
    OutgoingOut {
        id: cfg.id,
        name: zone.name.clone(),
        soa_serial: served_serial(state, zone),
        checked_time: opt_time(cfg.checked_time),
        created_time: format_time(cfg.created),
        last_transferred_time: opt_time(cfg.last_transferred_time),
        enabled: cfg.enabled,
        peer_status,
        peers: cfg.peers,
    }
}

/// The zone's outgoing configuration, or 404 saying how to make one.
fn existing(
    state: &ApiState,
    zone: &ZoneRow,
) -> Result<(OutgoingConfig, Vec<OutgoingPeerState>), ApiError> {
    state.store().outgoing_view(&zone.id)?.ok_or_else(|| {
        ApiError::not_found(format!(
            "zone {} has no outgoing transfer configuration; create it with POST \
             /zones/{}/secondary_dns/outgoing",
            zone.name, zone.id
        ))
    })
}

fn status_text(enabled: bool) -> &'static str {
    if enabled {
        "Enabled"
    } else {
        "Disabled"
    }
}

#[utoipa::path(get, path = "/client/v4/zones/{zone_id}/secondary_dns/outgoing", operation_id = "outgoing_get", tag = "Zone transfers",
    params(("zone_id" = String, Path)),
    responses((status = 200, body = Envelope<OutgoingOut>)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            let zone = visible_zone(s, &caller, &zone_id)?;
            let cfg = existing(s, &zone)?;
            Ok(ok(outgoing_out(s, &zone, cfg)))
        })
        .await
}

#[utoipa::path(post, path = "/client/v4/zones/{zone_id}/secondary_dns/outgoing", operation_id = "outgoing_create", tag = "Zone transfers",
    params(("zone_id" = String, Path)), request_body = OutgoingInput,
    responses((status = 200, description = "created, disabled", body = Envelope<OutgoingOut>)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
    ApiJson(input): ApiJson<OutgoingInput>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            s.with_locked_zone(&caller, &zone_id, |zone| {
                config_zone_name(zone, input.name.as_deref())?;
                let now = now();
                let cfg = OutgoingConfig {
                    id: new_id(),
                    zone_id: zone.id.clone(),
                    peers: peer_list(input.peers.as_deref())?,
                    enabled: false,
                    checked_time: None,
                    last_transferred_time: None,
                    notify_requested: None,
                    created: now,
                    modified: now,
                };
                s.store().create_outgoing_config(&zone.account_id, &cfg)?;
                s.events().zone_config_changed(&zone.id);
                tracing::info!(zone = %zone.name, peers = cfg.peers.len(), "outgoing transfers configured (disabled)");
                Ok(ok(outgoing_out(s, zone, existing(s, zone)?)))
            })
        })
        .await
}

#[utoipa::path(put, path = "/client/v4/zones/{zone_id}/secondary_dns/outgoing", operation_id = "outgoing_put", tag = "Zone transfers",
    params(("zone_id" = String, Path)), request_body = OutgoingInput,
    responses((status = 200, body = Envelope<OutgoingOut>)),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
    ApiJson(input): ApiJson<OutgoingInput>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            s.with_locked_zone(&caller, &zone_id, |zone| {
                existing(s, zone)?;
                config_zone_name(zone, input.name.as_deref())?;
                let peers = peer_list(input.peers.as_deref())?;
                let cfg = s
                    .store()
                    .replace_outgoing_config(&zone.account_id, &zone.id, &peers)?;
                s.events().zone_config_changed(&zone.id);
                tracing::info!(zone = %zone.name, peers = cfg.peers.len(), "outgoing transfers reconfigured");
                Ok(ok(outgoing_out(s, zone, existing(s, zone)?)))
            })
        })
        .await
}

#[utoipa::path(delete, path = "/client/v4/zones/{zone_id}/secondary_dns/outgoing", operation_id = "outgoing_delete", tag = "Zone transfers",
    params(("zone_id" = String, Path)),
    responses((status = 200, body = Envelope<DeletedId>)),
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
                existing(s, zone)?;
                let cfg = s.store().delete_outgoing_config(&zone.id)?;
                // Without a configuration nothing is served: the same as disabling.
                s.events().outgoing_disabled(&zone.id);
                s.events().zone_config_changed(&zone.id);
                tracing::info!(zone = %zone.name, "outgoing transfer configuration deleted");
                Ok(ok(DeletedId { id: cfg.id }))
            })
        })
        .await
}

#[utoipa::path(post, path = "/client/v4/zones/{zone_id}/secondary_dns/outgoing/enable", operation_id = "outgoing_enable", tag = "Zone transfers",
    params(("zone_id" = String, Path)),
    request_body(content = Option<serde_json::Value>, description = "ignored: no body, an empty body or any JSON"),
    responses((status = 200, description = "`Enabled`; NOTIFY goes to every linked peer", body = Envelope<String>)),
    security(("bearer" = [])))]
pub async fn enable(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            s.with_locked_zone(&caller, &zone_id, |zone| {
                existing(s, zone)?;
                let was = s.store().set_outgoing_enabled(&zone.id, true)?;
                // Only a change sends NOTIFY; force_notify is there to send it again.
                if !was {
                    s.events().outgoing_enabled(&zone.id);
                    tracing::info!(zone = %zone.name, "outgoing transfers enabled");
                }
                Ok(ok(status_text(true)))
            })
        })
        .await
}

#[utoipa::path(post, path = "/client/v4/zones/{zone_id}/secondary_dns/outgoing/disable", operation_id = "outgoing_disable", tag = "Zone transfers",
    params(("zone_id" = String, Path)),
    request_body(content = Option<serde_json::Value>, description = "ignored: no body, an empty body or any JSON"),
    responses((status = 200, description = "`Disabled`; transfer requests are refused and the IXFR backlog is cleared", body = Envelope<String>)),
    security(("bearer" = [])))]
pub async fn disable(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            s.with_locked_zone(&caller, &zone_id, |zone| {
                existing(s, zone)?;
                s.store().set_outgoing_enabled(&zone.id, false)?;
                // Clearing the IXFR backlog is what disable promises even when already off:
                // the journal, and the history the served version keeps for IXFR over UDP.
                if let Some(served) = s.zones().get(&crate::change::apex_of(zone)?) {
                    served.forget_history();
                }
                s.events().outgoing_disabled(&zone.id);
                tracing::info!(zone = %zone.name, "outgoing transfers disabled");
                Ok(ok(status_text(false)))
            })
        })
        .await
}

#[utoipa::path(post, path = "/client/v4/zones/{zone_id}/secondary_dns/outgoing/force_notify", operation_id = "outgoing_force_notify", tag = "Zone transfers",
    params(("zone_id" = String, Path)),
    request_body(content = Option<serde_json::Value>, description = "ignored: no body, an empty body or any JSON"),
    responses((status = 200, description = "`OK`: NOTIFY to every linked peer is recorded", body = Envelope<String>),
        (status = 400, description = "outgoing transfers are disabled")),
    security(("bearer" = [])))]
pub async fn force_notify(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            s.with_locked_zone(&caller, &zone_id, |zone| {
                let (cfg, _) = existing(s, zone)?;
                if !cfg.enabled {
                    return Err(ApiError::bad_request(format!(
                        "outgoing transfers of zone {} are disabled: the peers' transfer \
                         requests would be refused; enable them first (POST \
                         /zones/{}/secondary_dns/outgoing/enable)",
                        zone.name, zone.id
                    )));
                }
                s.store().request_notify(&zone.id, now())?;
                s.events().notify_requested(&zone.id);
                tracing::info!(zone = %zone.name, "NOTIFY requested");
                Ok(ok("OK"))
            })
        })
        .await
}

#[utoipa::path(get, path = "/client/v4/zones/{zone_id}/secondary_dns/outgoing/status", operation_id = "outgoing_status", tag = "Zone transfers",
    params(("zone_id" = String, Path)),
    responses((status = 200, description = "`Enabled` or `Disabled`", body = Envelope<String>)),
    security(("bearer" = [])))]
pub async fn status(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            let zone = visible_zone(s, &caller, &zone_id)?;
            let (cfg, _) = existing(s, &zone)?;
            Ok(ok(status_text(cfg.enabled)))
        })
        .await
}
