//! `/accounts/{account_id}/secondary_dns/peers`: the name servers an account transfers with.
//! POST takes every field; PUT replaces them all (a field left out returns to its default:
//! no ip, port 53, ixfr_enable false, no TSIG key).

use super::input::{object_name, optional_id, peer_ip, port};
use super::visible_account;
use crate::auth::Caller;
use crate::envelope::{ok, ok_list, ApiJson, ApiPath, Envelope};
use crate::records::DeletedId;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Number;
use tandem_store::{new_id, now, Peer, PeerAllow};
use utoipa::ToSchema;

/// A peer as the API shows it.
#[derive(Serialize, ToSchema, Debug)]
pub struct PeerOut {
    pub id: String,
    pub name: String,
    /// IPv4 or IPv6 address; `null` when none is set.
    pub ip: Option<String>,
    pub port: u16,
    /// Secondary zones: ask this primary for IXFR (falling back to AXFR) instead of AXFR.
    pub ixfr_enable: bool,
    pub tsig_id: Option<String>,
}

impl From<Peer> for PeerOut {
    fn from(p: Peer) -> Self {
        PeerOut {
            id: p.id,
            name: p.name,
            ip: p.ip.map(|ip| ip.to_string()),
            port: p.port,
            ixfr_enable: p.ixfr_enable,
            tsig_id: p.tsig_id,
        }
    }
}

/// Body of creating or replacing a peer.
#[derive(Deserialize, ToSchema, Debug, Default)]
pub struct PeerInput {
    /// Required; not blank, at most 255 characters.
    pub name: Option<String>,
    /// IPv4 or IPv6 address; needed for a peer linked to a secondary zone.
    pub ip: Option<String>,
    /// 1 to 65535; default 53.
    #[schema(value_type = Option<u16>, minimum = 1, maximum = 65535)]
    pub port: Option<Number>,
    /// Default false.
    pub ixfr_enable: Option<bool>,
    /// A TSIG key of the same account; `null` or blank for none.
    pub tsig_id: Option<String>,
}

/// The peer `input` describes, checked (all but the references, which the store checks).
fn peer_from(
    account_id: &str,
    id: String,
    input: &PeerInput,
    allow: &PeerAllow,
) -> Result<Peer, ApiError> {
    let now = now();
    Ok(Peer {
        id,
        account_id: account_id.to_string(),
        name: object_name(input.name.as_deref())?,
        ip: peer_ip(input.ip.as_deref(), allow)?,
        port: port(input.port.as_ref())?,
        ixfr_enable: input.ixfr_enable.unwrap_or(false),
        tsig_id: optional_id(input.tsig_id.as_deref()),
        created: now,
        modified: now,
    })
}

fn missing(peer_id: &str) -> ApiError {
    ApiError::not_found(format!("peer {peer_id} not found"))
}

#[utoipa::path(get, path = "/client/v4/accounts/{account_id}/secondary_dns/peers", operation_id = "peers_list", tag = "Zone transfers",
    params(("account_id" = String, Path)),
    responses((status = 200, body = Envelope<Vec<PeerOut>>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            let peers = s.store().peers(&account.id)?;
            Ok(ok_list(peers.into_iter().map(PeerOut::from).collect()))
        })
        .await
}

#[utoipa::path(post, path = "/client/v4/accounts/{account_id}/secondary_dns/peers", operation_id = "peers_create", tag = "Zone transfers",
    params(("account_id" = String, Path)), request_body = PeerInput,
    responses((status = 200, body = Envelope<PeerOut>)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account_id): ApiPath<String>,
    ApiJson(input): ApiJson<PeerInput>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            let peer = peer_from(&account.id, new_id(), &input, &s.config().peer_allow)?;
            s.store().create_peer(&peer)?;
            s.events().account_config_changed(&account.id);
            tracing::info!(account = %account.id, peer = %peer.id, name = %peer.name, "peer created");
            Ok(ok(PeerOut::from(peer)))
        })
        .await
}

#[utoipa::path(get, path = "/client/v4/accounts/{account_id}/secondary_dns/peers/{peer_id}", operation_id = "peers_get", tag = "Zone transfers",
    params(("account_id" = String, Path), ("peer_id" = String, Path)),
    responses((status = 200, body = Envelope<PeerOut>)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account_id, peer_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            let peer = s
                .store()
                .peer(&account.id, &peer_id)?
                .ok_or_else(|| missing(&peer_id))?;
            Ok(ok(PeerOut::from(peer)))
        })
        .await
}

#[utoipa::path(put, path = "/client/v4/accounts/{account_id}/secondary_dns/peers/{peer_id}", operation_id = "peers_put", tag = "Zone transfers",
    params(("account_id" = String, Path), ("peer_id" = String, Path)), request_body = PeerInput,
    responses((status = 200, body = Envelope<PeerOut>)),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account_id, peer_id)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<PeerInput>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            s.store()
                .peer(&account.id, &peer_id)?
                .ok_or_else(|| missing(&peer_id))?;
            let peer = peer_from(&account.id, peer_id, &input, &s.config().peer_allow)?;
            let stored = s.store().replace_peer(&peer)?;
            s.events().account_config_changed(&account.id);
            tracing::info!(account = %account.id, peer = %stored.id, "peer replaced");
            Ok(ok(PeerOut::from(stored)))
        })
        .await
}

#[utoipa::path(delete, path = "/client/v4/accounts/{account_id}/secondary_dns/peers/{peer_id}", operation_id = "peers_delete", tag = "Zone transfers",
    params(("account_id" = String, Path), ("peer_id" = String, Path)),
    responses((status = 200, body = Envelope<DeletedId>),
        (status = 400, description = "the peer is linked to zones, which the message names")),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account_id, peer_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            s.store().delete_peer(&account.id, &peer_id)?;
            s.events().account_config_changed(&account.id);
            tracing::info!(account = %account.id, peer = %peer_id, "peer deleted");
            Ok(ok(DeletedId { id: peer_id }))
        })
        .await
}
