//! `GET /zones/{zone_id}/pagerules`: the provider's page rules act in its HTTP proxy, which
//! Tandem does not have, so a zone has none and the list is always empty. It is answered
//! rather than a 404 because tools read it beside the records (octoDNS' Cloudflare provider
//! does on every sync, with `status=active`). The query is checked like every list's: the
//! provider's parameters with their values, anything else a 400 naming it.

use crate::auth::{visible_zone, Caller};
use crate::envelope::{ok, ApiPath, Envelope, KnownParams, StrictQuery};
use crate::records::{descending, match_any, DirectionParam, MatchParam};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The provider's filters and order of the page rule list. They are checked, then have
/// nothing to act on.
#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct PageRuleQuery {
    /// `active` or `disabled`.
    #[param(inline, value_type = Option<PageRuleStatusParam>)]
    pub status: Option<String>,
    /// `status` or `priority`.
    #[param(inline, value_type = Option<PageRuleOrderParam>)]
    pub order: Option<String>,
    /// `asc` or `desc`.
    #[param(inline, value_type = Option<DirectionParam>)]
    pub direction: Option<String>,
    /// `all` or `any`.
    #[serde(rename = "match")]
    #[param(rename = "match", inline, value_type = Option<MatchParam>)]
    pub match_: Option<String>,
}

impl KnownParams for PageRuleQuery {
    const KNOWN: &'static [&'static str] = &["status", "order", "direction", "match"];
}

/// `status` filter of the page rule list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum PageRuleStatusParam {
    Active,
    Disabled,
}

/// `order` of the page rule list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum PageRuleOrderParam {
    Status,
    Priority,
}

/// A page rule of the provider. None exists here: the list is always empty.
#[derive(Serialize, ToSchema, Debug)]
pub struct PageRule {
    pub id: String,
    /// `active` or `disabled`.
    pub status: String,
    pub priority: i64,
}

/// Checks the query's values; an unknown one is a 400 naming its parameter.
fn check(q: &PageRuleQuery) -> Result<(), ApiError> {
    if let Some(s) = q.status.as_deref() {
        if !matches!(s, "active" | "disabled") {
            return Err(ApiError::field("status", "must be `active` or `disabled`"));
        }
    }
    if let Some(o) = q.order.as_deref() {
        if !matches!(o, "status" | "priority") {
            return Err(ApiError::field("order", "must be `status` or `priority`"));
        }
    }
    descending(q.direction.as_deref())?;
    match_any(q.match_.as_deref())?;
    Ok(())
}

#[utoipa::path(get, path = "/client/v4/zones/{zone_id}/pagerules", operation_id = "pagerules_list", tag = "Zones",
    params(("zone_id" = String, Path), PageRuleQuery),
    responses((status = 200, description = "always an empty list: page rules belong to the provider's HTTP proxy, which Tandem does not have", body = Envelope<Vec<PageRule>>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
    StrictQuery(q): StrictQuery<PageRuleQuery>,
) -> Result<Response, ApiError> {
    check(&q)?;
    state
        .run(move |s| {
            visible_zone(s, &caller, &zone_id)?;
            Ok(ok(Vec::<PageRule>::new()))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_naming_their_parameter() {
        let q = |status: &str, order: &str, direction: &str, m: &str| PageRuleQuery {
            status: Some(status.into()),
            order: Some(order.into()),
            direction: Some(direction.into()),
            match_: Some(m.into()),
        };
        assert!(check(&PageRuleQuery::default()).is_ok());
        assert!(check(&q("active", "priority", "asc", "all")).is_ok());
        assert!(check(&q("disabled", "status", "desc", "any")).is_ok());
        for (bad, field) in [
            (q("on", "priority", "asc", "all"), "status"),
            (q("active", "name", "asc", "all"), "order"),
            (q("active", "priority", "up", "all"), "direction"),
            (q("active", "priority", "asc", "some"), "match"),
        ] {
            let e = check(&bad).unwrap_err();
            assert!(e.message.starts_with(&format!("{field}: ")), "{e}");
        }
    }
}
