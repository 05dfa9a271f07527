//! Tenants and their tokens (PRODUCT §3 "Endpoints"): `POST /accounts` (administrator only),
//! an account's tokens under `/accounts/{account_id}/tokens`, and the provider's token check
//! (`GET /user/tokens/verify`, `GET /accounts/{account_id}/tokens/verify`). A token's value is
//! shown once, when it is made; the store keeps only its hash.

use crate::accounts::AccountOut;
use crate::auth::Caller;
use crate::envelope::{ok, ok_list, ApiJson, ApiPath, Envelope};
use crate::records::DeletedId;
use crate::transfers::input::object_name;
use crate::transfers::visible_account;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tandem_store::{format_time, ApiToken, Permission};
use utoipa::ToSchema;

/// Body of `POST /accounts`.
#[derive(Deserialize, ToSchema, Debug)]
pub struct AccountCreate {
    /// Not blank, at most 255 characters.
    pub name: Option<String>,
}

/// Body of `POST /accounts/{account_id}/tokens`.
#[derive(Deserialize, ToSchema, Debug)]
pub struct TokenCreate {
    /// Not blank, at most 255 characters.
    pub name: Option<String>,
    /// `read` (may look, never change) or `write`.
    pub permission: Option<String>,
}

/// A token as listed (never its value).
#[derive(Serialize, ToSchema, Debug)]
pub struct TokenOut {
    pub id: String,
    pub name: String,
    /// `read` or `write`.
    pub permission: String,
    pub created_on: String,
}

/// A token just made: the only answer that holds its value.
#[derive(Serialize, ToSchema, Debug)]
pub struct TokenCreated {
    pub id: String,
    pub name: String,
    pub permission: String,
    /// The bearer token. Shown once: only its hash is stored.
    pub value: String,
    pub created_on: String,
}

/// The provider's answer to a token check: the calling token's id and status. Tandem's tokens
/// do not expire and are not disabled, only revoked (then they are refused with 401), so a
/// token that gets an answer is `active`, and `expires_on`/`not_before` (optional at the
/// provider) are never set.
#[derive(Serialize, ToSchema, Debug)]
pub struct TokenVerified {
    pub id: String,
    /// Always `active`.
    #[schema(schema_with = always_active)]
    pub status: String,
}

fn always_active() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["active"]))
        .build()
}

fn verified(caller: &Caller) -> TokenVerified {
    TokenVerified {
        id: caller.token.id.clone(),
        status: "active".into(),
    }
}

fn token_out(t: ApiToken) -> TokenOut {
    TokenOut {
        id: t.id,
        name: t.name,
        permission: t.permission.as_str().to_string(),
        created_on: format_time(t.created),
    }
}

#[utoipa::path(post, path = "/client/v4/accounts", operation_id = "accounts_create", tag = "Accounts", request_body = AccountCreate,
    responses((status = 200, body = Envelope<AccountOut>)),
    security(("bearer" = [])))]
pub async fn create_account(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<AccountCreate>,
) -> Result<Response, ApiError> {
    if caller.token.permission != Permission::Admin {
        return Err(ApiError::admin_only("create accounts"));
    }
    let name = object_name(body.name.as_deref())?;
    state
        .run(move |s| {
            let a = s.store().create_account(&name)?;
            tracing::info!(account = %a.id, name = %a.name, "account created");
            Ok(ok(AccountOut {
                id: a.id,
                name: a.name,
                kind: "standard".into(),
                created_on: format_time(a.created),
            }))
        })
        .await
}

#[utoipa::path(get, path = "/client/v4/accounts/{account_id}/tokens", operation_id = "tokens_list", tag = "Accounts",
    params(("account_id" = String, Path)),
    responses((status = 200, body = Envelope<Vec<TokenOut>>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            let tokens = s.store().account_tokens(&account.id)?;
            Ok(ok_list(tokens.into_iter().map(token_out).collect()))
        })
        .await
}

#[utoipa::path(post, path = "/client/v4/accounts/{account_id}/tokens", operation_id = "tokens_create", tag = "Accounts",
    params(("account_id" = String, Path)), request_body = TokenCreate,
    responses((status = 200, body = Envelope<TokenCreated>)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account_id): ApiPath<String>,
    ApiJson(body): ApiJson<TokenCreate>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            let name = object_name(body.name.as_deref())?;
            let permission = match body.permission.as_deref().map(str::trim) {
                Some("read") => Permission::Read,
                Some("write") => Permission::Write,
                _ => return Err(ApiError::field("permission", "must be read or write")),
            };
            let (token, value) = s
                .store()
                .create_token(Some(&account.id), &name, permission)?;
            tracing::info!(account = %account.id, token = %token.id, permission = permission.as_str(), "token created");
            Ok(ok(TokenCreated {
                id: token.id,
                name: token.name,
                permission: permission.as_str().to_string(),
                value,
                created_on: format_time(token.created),
            }))
        })
        .await
}

#[utoipa::path(delete, path = "/client/v4/accounts/{account_id}/tokens/{token_id}", operation_id = "tokens_delete", tag = "Accounts",
    params(("account_id" = String, Path), ("token_id" = String, Path)),
    responses((status = 200, body = Envelope<DeletedId>)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((account_id, token_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            let account = visible_account(s, &caller, &account_id)?;
            if !s.store().delete_token(&account.id, &token_id)? {
                return Err(ApiError::not_found(format!("token {token_id} not found")));
            }
            tracing::info!(account = %account.id, token = %token_id, "token revoked");
            Ok(ok(DeletedId { id: token_id }))
        })
        .await
}

#[utoipa::path(get, path = "/client/v4/user/tokens/verify", operation_id = "user_tokens_verify", tag = "Accounts",
    responses((status = 200, description = "the calling token is valid", body = Envelope<TokenVerified>)),
    security(("bearer" = [])))]
pub async fn verify(caller: Caller) -> Response {
    ok(verified(&caller))
}

#[utoipa::path(get, path = "/client/v4/accounts/{account_id}/tokens/verify", operation_id = "account_tokens_verify", tag = "Accounts",
    params(("account_id" = String, Path)),
    responses((status = 200, description = "the calling token is valid and sees this account", body = Envelope<TokenVerified>)),
    security(("bearer" = [])))]
pub async fn verify_in_account(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(account_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            visible_account(s, &caller, &account_id)?;
            Ok(ok(verified(&caller)))
        })
        .await
}
