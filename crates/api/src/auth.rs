//! Bearer-token authentication and the access rules of PRODUCT §3: a token sees its own
//! account (the administrator's sees all), and only write or admin tokens change anything.

use crate::{ApiError, ApiState};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use tandem_store::{ApiToken, Permission, ZoneRow};

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
        let value = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .ok_or_else(ApiError::unauthorized)?
            .to_string();
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
    store: std::sync::Arc<tandem_store::Store>,
    headers: &axum::http::HeaderMap,
) -> Result<(), ApiError> {
    let value = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .ok_or_else(ApiError::unauthorized)?
        .to_string();
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
    use super::bearer;

    #[test]
    fn bearer_header() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
