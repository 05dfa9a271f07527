//! `/accounts/{account_id}/secondary_dns/tsigs`: the TSIG keys (RFC 8945) an account's peers
//! sign with. `algo` is accepted with or without the trailing dot and shown with it; a blank or
//! missing secret is generated (random, as long as the algorithm's output). PUT replaces every
//! field: one left out returns to its default (hmac-sha256, a new generated secret).

use super::input::{algorithm, key_name, secret};
use super::visible_account;
use crate::auth::Caller;
use crate::envelope::{ok, ok_list, ApiJson, ApiPath, Envelope};
use crate::records::DeletedId;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tandem_store::{new_id, now, TsigKey};
use utoipa::ToSchema;

/// A TSIG key as the API shows it.
#[derive(Serialize, ToSchema, Debug)]
pub struct TsigOut {
    pub id: String,
    /// The key name, as given (`k1.example.`).
    pub name: String,
    /// Canonical, with the trailing dot: `hmac-sha256.`, `hmac-sha384.`, `hmac-sha512.` or
    /// `hmac-sha1.`.
    pub algo: String,
    /// Base64.
    pub secret: String,
}

impl From<TsigKey> for TsigOut {
    fn from(k: TsigKey) -> Self {
        TsigOut {
            id: k.id,
            name: k.name,
            algo: k.algorithm.as_str().to_string(),
            secret: k.secret,
        }
    }
}

/// Body of creating or replacing a TSIG key.
#[derive(Deserialize, ToSchema, Debug, Default)]
pub struct TsigInput {
    /// The key name, a domain name (`k1.example.`); unique within the account.
    pub name: Option<String>,
    /// `hmac-sha256` (default), `hmac-sha384`, `hmac-sha512` or `hmac-sha1`, with or without
    /// the trailing dot. hmac-md5 is refused for now.
    pub algo: Option<String>,
    /// Base64; blank or missing to have a strong one generated.
    pub secret: Option<String>,
}

/// The key `input` describes, checked.
fn key_from(account_id: &str, id: String, input: &TsigInput) -> Result<TsigKey, ApiError> {
    let now = now();
    let name = key_name(input.name.as_deref())?;
    let algorithm = algorithm(input.algo.as_deref())?;
    Ok(TsigKey {
        id,
        account_id: account_id.to_string(),
        name,
        algorithm,
        secret: secret(algorithm, input.secret.as_deref())?,
        created: now,
        modified: now,
    })
}

fn missing(tsig_id: &str) -> ApiError {
    ApiError::not_found(format!("TSIG key {tsig_id} not found"))
}

#[utoipa::path(get, path = "/client/v4/accounts/{account_id}/secondary_dns/tsigs", operation_id = "tsigs_list", tag = "Zone transfers",
    params(("account_id" = String, Path)),
    responses((status = 200, body = Envelope<Vec<TsigOut>>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            let items = s.store().tsig_keys(&account.id)?;
            Ok(ok_list(items.into_iter().map(TsigOut::from).collect()))
        })
        .await
}

#[utoipa::path(post, path = "/client/v4/accounts/{account_id}/secondary_dns/tsigs", operation_id = "tsigs_create", tag = "Zone transfers",
    params(("account_id" = String, Path)), request_body = TsigInput,
    responses((status = 200, body = Envelope<TsigOut>)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account_id): ApiPath<String>,
    ApiJson(input): ApiJson<TsigInput>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            let key = key_from(&account.id, new_id(), &input)?;
            s.store().create_tsig_key(&key)?;
            s.events().account_config_changed(&account.id);
            tracing::info!(account = %account.id, tsig = %key.id, name = %key.name, "TSIG key created");
            Ok(ok(TsigOut::from(key)))
        })
        .await
}

#[utoipa::path(get, path = "/client/v4/accounts/{account_id}/secondary_dns/tsigs/{tsig_id}", operation_id = "tsigs_get", tag = "Zone transfers",
    params(("account_id" = String, Path), ("tsig_id" = String, Path)),
    responses((status = 200, body = Envelope<TsigOut>)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account_id, tsig_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            let key = s
                .store()
                .tsig_key(&account.id, &tsig_id)?
                .ok_or_else(|| missing(&tsig_id))?;
            Ok(ok(TsigOut::from(key)))
        })
        .await
}

#[utoipa::path(put, path = "/client/v4/accounts/{account_id}/secondary_dns/tsigs/{tsig_id}", operation_id = "tsigs_put", tag = "Zone transfers",
    params(("account_id" = String, Path), ("tsig_id" = String, Path)), request_body = TsigInput,
    responses((status = 200, body = Envelope<TsigOut>)),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account_id, tsig_id)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<TsigInput>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            s.store()
                .tsig_key(&account.id, &tsig_id)?
                .ok_or_else(|| missing(&tsig_id))?;
            let key = key_from(&account.id, tsig_id, &input)?;
            let stored = s.store().replace_tsig_key(&key)?;
            s.events().account_config_changed(&account.id);
            tracing::info!(account = %account.id, tsig = %stored.id, "TSIG key replaced");
            Ok(ok(TsigOut::from(stored)))
        })
        .await
}

#[utoipa::path(delete, path = "/client/v4/accounts/{account_id}/secondary_dns/tsigs/{tsig_id}", operation_id = "tsigs_delete", tag = "Zone transfers",
    params(("account_id" = String, Path), ("tsig_id" = String, Path)),
    responses((status = 200, body = Envelope<DeletedId>),
        (status = 400, description = "peers use the key; the message names them and their zones")),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account_id, tsig_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            s.store().delete_tsig_key(&account.id, &tsig_id)?;
            s.events().account_config_changed(&account.id);
            tracing::info!(account = %account.id, tsig = %tsig_id, "TSIG key deleted");
            Ok(ok(DeletedId { id: tsig_id }))
        })
        .await
}
