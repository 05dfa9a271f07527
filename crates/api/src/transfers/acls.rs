//! `/accounts/{account_id}/secondary_dns/acls`: extra sources allowed to request transfers of
//! the account's primary zones and to send NOTIFY to its secondary zones (PRODUCT §1). Ranges
//! are CIDRs no wider than /24 (IPv4) or /64 (IPv6).

use super::input::{ip_range, object_name};
use super::visible_account;
use crate::auth::Caller;
use crate::envelope::{ok, ok_list, ApiJson, ApiPath, Envelope};
use crate::records::DeletedId;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tandem_store::{new_id, now, Acl};
use utoipa::ToSchema;

/// An ACL as the API shows it.
#[derive(Serialize, ToSchema, Debug)]
pub struct AclOut {
    pub id: String,
    pub name: String,
    /// Canonical CIDR (`192.0.2.0/24`, `2001:db8::/64`).
    pub ip_range: String,
}

impl From<Acl> for AclOut {
    fn from(a: Acl) -> Self {
        AclOut {
            id: a.id,
            name: a.name,
            ip_range: a.ip_range.to_string(),
        }
    }
}

/// Body of creating or replacing an ACL.
#[derive(Deserialize, ToSchema, Debug, Default)]
pub struct AclInput {
    /// Required; not blank, at most 255 characters.
    pub name: Option<String>,
    /// Required: a CIDR no wider than /24 (IPv4) or /64 (IPv6), host bits clear; a bare
    /// address means that one host.
    pub ip_range: Option<String>,
}

/// The ACL `input` describes, checked.
fn acl_from(account_id: &str, id: String, input: &AclInput) -> Result<Acl, ApiError> {
    let now = now();
    Ok(Acl {
        id,
        account_id: account_id.to_string(),
        name: object_name(input.name.as_deref())?,
        ip_range: ip_range(input.ip_range.as_deref())?,
        created: now,
        modified: now,
    })
}

fn missing(acl_id: &str) -> ApiError {
    ApiError::not_found(format!("ACL {acl_id} not found"))
}

#[utoipa::path(get, path = "/client/v4/accounts/{account_id}/secondary_dns/acls", operation_id = "acls_list", tag = "Zone transfers",
    params(("account_id" = String, Path)),
    responses((status = 200, body = Envelope<Vec<AclOut>>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            let items = s.store().acls(&account.id)?;
            Ok(ok_list(items.into_iter().map(AclOut::from).collect()))
        })
        .await
}

#[utoipa::path(post, path = "/client/v4/accounts/{account_id}/secondary_dns/acls", operation_id = "acls_create", tag = "Zone transfers",
    params(("account_id" = String, Path)), request_body = AclInput,
    responses((status = 200, body = Envelope<AclOut>)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account_id): ApiPath<String>,
    ApiJson(input): ApiJson<AclInput>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            let acl = acl_from(&account.id, new_id(), &input)?;
            s.store().create_acl(&acl)?;
            s.events().account_config_changed(&account.id);
            tracing::info!(account = %account.id, acl = %acl.id, range = %acl.ip_range, "ACL created");
            Ok(ok(AclOut::from(acl)))
        })
        .await
}

#[utoipa::path(get, path = "/client/v4/accounts/{account_id}/secondary_dns/acls/{acl_id}", operation_id = "acls_get", tag = "Zone transfers",
    params(("account_id" = String, Path), ("acl_id" = String, Path)),
    responses((status = 200, body = Envelope<AclOut>)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account_id, acl_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            let acl = s
                .store()
                .acl(&account.id, &acl_id)?
                .ok_or_else(|| missing(&acl_id))?;
            Ok(ok(AclOut::from(acl)))
        })
        .await
}

#[utoipa::path(put, path = "/client/v4/accounts/{account_id}/secondary_dns/acls/{acl_id}", operation_id = "acls_put", tag = "Zone transfers",
    params(("account_id" = String, Path), ("acl_id" = String, Path)), request_body = AclInput,
    responses((status = 200, body = Envelope<AclOut>)),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account_id, acl_id)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<AclInput>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            s.store()
                .acl(&account.id, &acl_id)?
                .ok_or_else(|| missing(&acl_id))?;
            let acl = acl_from(&account.id, acl_id, &input)?;
            let stored = s.store().replace_acl(&acl)?;
            s.events().account_config_changed(&account.id);
            tracing::info!(account = %account.id, acl = %stored.id, "ACL replaced");
            Ok(ok(AclOut::from(stored)))
        })
        .await
}

#[utoipa::path(delete, path = "/client/v4/accounts/{account_id}/secondary_dns/acls/{acl_id}", operation_id = "acls_delete", tag = "Zone transfers",
    params(("account_id" = String, Path), ("acl_id" = String, Path)),
    responses((status = 200, body = Envelope<DeletedId>)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account_id, acl_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            s.store().delete_acl(&account.id, &acl_id)?;
            s.events().account_config_changed(&account.id);
            tracing::info!(account = %account.id, acl = %acl_id, "ACL deleted");
            Ok(ok(DeletedId { id: acl_id }))
        })
        .await
}
