//! Token authentication and the access rules of PRODUCT §3: a token sees its own account (the
//! administrator's sees all), and only write or admin tokens change anything.
//!
//! A token comes as `Authorization: Bearer TOKEN`, or as the provider's legacy pair
//! `X-Auth-Email` + `X-Auth-Key` with the token as the key (older tools send only these). As at
//! the provider, the pair counts only whole: both headers, neither blank; the email names no
//! one here and is not checked further. A bearer header, when given, decides alone.

use crate::{ApiError, ApiState};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use tandem_store::{ApiToken, Permission, ZoneRow};

/// The provider's legacy authentication headers.
const X_AUTH_EMAIL: &str = "x-auth-email";
const X_AUTH_KEY: &str = "x-auth-key";

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub token: ApiToken,
}

impl Caller {
    /// Whether objects of `account_id` exist for this caller.
    pub fn sees(&self, account_id: &str) -> bool {
        self.token
            .account_id
            .as_deref()
            .is_none_or(|a| a == account_id)
    }

    /// The account this caller is limited to, if any.
    pub fn account_scope(&self) -> Option<String> {
        self.token.account_id.clone()
    }

    /// Refuses read tokens (403).
    pub fn require_write(&self) -> Result<(), ApiError> {
        if self.token.permission >= Permission::Write {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let value = presented_token(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        let token = state
            .run(move |s| Ok(s.store().authenticate(&value)?))
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Caller { token })
    }
}

/// Lets through only requests with the administrator's token: 401 without a valid token, 403
/// with another one. For routes outside the API proper (the binary's `/metrics`).
pub async fn require_admin(
    store: std::sync::Arc<dyn tandem_store::Storage>,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let value = presented_token(headers).ok_or_else(ApiError::unauthorized)?;
    let token = tokio::task::spawn_blocking(move || store.authenticate(&value))
        .await
        .map_err(ApiError::internal)??
        .ok_or_else(ApiError::unauthorized)?;
    if token.permission == Permission::Admin {
        Ok(())
    } else {
        Err(ApiError::admin_only("read this"))
    }
}

/// The token a request presents: its bearer token if it has one, else the key of a whole
/// `X-Auth-Email` + `X-Auth-Key` pair.
fn presented_token(headers: &HeaderMap) -> Option<String> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(token) = text(AUTHORIZATION.as_str()).and_then(bearer) {
        return Some(token.to_string());
    }
    match (text(X_AUTH_EMAIL), text(X_AUTH_KEY)) {
        (Some(email), Some(key)) if !email.is_empty() && !key.is_empty() => Some(key.to_string()),
        _ => None,
    }
}

/// The token of an `Authorization: Bearer TOKEN` header (scheme case-insensitive).
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The zone `zone_id` if it exists and the caller may see it; 404 otherwise.
pub fn visible_zone(state: &ApiState, caller: &Caller, zone_id: &str) -> Result<ZoneRow, ApiError> {
    match state.store().zone(zone_id)? {
        Some(zone) if caller.sees(&zone.account_id) => Ok(zone),
        _ => Err(ApiError::not_found(format!("zone {zone_id} not found"))),
    }
}

#[cfg(test)]
mod tests {
    use super::{bearer, presented_token};
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, value.parse().unwrap());
        }
        h
    }

    #[test]
    fn legacy_pair_counts_only_whole_and_bearer_wins() {
        let token = |pairs: &[(&'static str, &str)]| presented_token(&headers(pairs));
        let pair = [("x-auth-email", "ops@example.com"), ("x-auth-key", "k1")];
        assert_eq!(token(&pair).as_deref(), Some("k1"));
        assert_eq!(token(&[("X-Auth-Key", "k1")]), None, "the email is missing");
        assert_eq!(token(&[("x-auth-email", "ops@example.com")]), None);
        assert_eq!(
            token(&[("x-auth-email", " "), ("x-auth-key", "k1")]),
            None,
            "a blank email"
        );
        assert_eq!(
            token(&[("x-auth-email", "ops@example.com"), ("x-auth-key", "")]),
            None
        );
        let mut both = pair.to_vec();
        both.push(("authorization", "Bearer b1"));
        assert_eq!(token(&both).as_deref(), Some("b1"), "bearer decides");
        // A header that is no bearer token leaves the pair to decide.
        let mut basic = pair.to_vec();
        basic.push(("authorization", "Basic YTpi"));
        assert_eq!(token(&basic).as_deref(), Some("k1"));
        assert_eq!(token(&[("authorization", "Basic YTpi")]), None);
    }

    #[test]
    fn bearer_header() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
