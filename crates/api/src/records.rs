//! `/zones/{zone_id}/dns_records`: list with filters and pages, and the single-record
//! create, read, replace, change and delete (PRODUCT §3 "Endpoints").

use crate::auth::{visible_zone, Caller};
use crate::batch::{run_ops, Op, Outcome};
use crate::change::apex_of;
use crate::content::{parse_owner, parse_type};
use crate::envelope::{ok, ok_page, page_of, ApiJson, ApiPath, ApiQuery, Envelope};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Deserializer, Serialize};
use tandem_store::{format_time, RecordFilter, RecordRow};
use tandem_zone::record::rtype_name;
use utoipa::{IntoParams, ToSchema};

/// Default and largest page of records.
const DEFAULT_PER_PAGE: u64 = 100;
const MAX_PER_PAGE: u64 = 50_000;

/// A DNS record as the API shows it.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct RecordOut {
    pub id: String,
    pub zone_id: String,
    pub zone_name: String,
    /// Fully qualified, without the trailing dot.
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    /// Presentation form; for MX the exchange, for SRV `weight port target`.
    pub content: String,
    pub ttl: u32,
    /// MX, SRV and URI only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u16>,
    pub comment: Option<String>,
    pub proxied: bool,
    pub proxiable: bool,
    pub tags: Vec<String>,
    pub created_on: String,
    pub modified_on: String,
}

impl RecordOut {
    pub fn new(row: &RecordRow, zone_name: &str) -> Self {
        RecordOut {
            id: row.id.clone(),
            zone_id: row.zone_id.clone(),
            zone_name: zone_name.to_string(),
            name: row.name.clone(),
            rtype: rtype_name(row.record.rtype),
            content: row.content.clone(),
            ttl: row.record.ttl,
            priority: row.priority,
            comment: row.comment.clone(),
            proxied: false,
            proxiable: false,
            tags: Vec::new(),
            created_on: format_time(row.created),
            modified_on: format_time(row.modified),
        }
    }
}

/// A record as sent to create, replace or change one. Every field is optional here; POST and
/// PUT need `type`, `name` and `content`, PATCH changes only the fields given.
#[derive(Deserialize, ToSchema, Debug, Clone, Default)]
pub struct RecordInput {
    /// Only in a batch's `patches` and `puts`: the record to change.
    pub id: Option<String>,
    /// `A`, `MX`, ... or `TYPEnnn`.
    #[serde(rename = "type")]
    pub rtype: Option<String>,
    /// `www`, `@`, or fully qualified with or without the trailing dot.
    pub name: Option<String>,
    pub content: Option<String>,
    /// Seconds; `1` is automatic (300).
    pub ttl: Option<i64>,
    /// MX, SRV and URI.
    pub priority: Option<i64>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>)]
    pub comment: Option<Option<String>>,
    /// Must be false or absent: Tandem serves DNS only.
    pub proxied: Option<bool>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn some_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Filters and paging of a record list.
#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// Record type, e.g. `MX`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub rtype: Option<String>,
    /// Owner name, fully qualified with or without the dot (or relative).
    pub name: Option<String>,
    /// Same as `name`.
    #[serde(rename = "name.exact")]
    #[param(rename = "name.exact")]
    pub name_exact: Option<String>,
    /// 1-based page number.
    pub page: Option<String>,
    /// Records per page (default 100, at most 50000).
    pub per_page: Option<String>,
}

/// `{"id"}` of a deleted object.
#[derive(Serialize, ToSchema, Debug)]
pub struct DeletedId {
    pub id: String,
}

#[utoipa::path(get, path = "/client/v4/zones/{zone_id}/dns_records", operation_id = "dns_records_list", tag = "DNS records",
    params(("zone_id" = String, Path), RecordQuery),
    responses((status = 200, body = Envelope<Vec<RecordOut>>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RecordQuery>,
) -> Result<Response, ApiError> {
    let page = page_of(
        q.page.as_deref(),
        q.per_page.as_deref(),
        DEFAULT_PER_PAGE,
        MAX_PER_PAGE,
    )?;
    state
        .run(move |s| {
            let zone = visible_zone(s, &caller, &zone_id)?;
            let apex = apex_of(&zone)?;
            let name = q.name_exact.as_deref().or(q.name.as_deref());
            let filter = RecordFilter {
                rtype: q.rtype.as_deref().map(parse_type).transpose()?,
                name: name
                    .map(|n| parse_owner(&apex, n))
                    .transpose()?
                    .map(|n| n.to_api()),
            };
            let (rows, total) = s.store().list_records(&zone.id, &filter, page)?;
            let out = rows.iter().map(|r| RecordOut::new(r, &zone.name)).collect();
            Ok(ok_page::<RecordOut>(out, page, total))
        })
        .await
}

#[utoipa::path(get, path = "/client/v4/zones/{zone_id}/dns_records/{record_id}", operation_id = "dns_records_get", tag = "DNS records",
    params(("zone_id" = String, Path), ("record_id" = String, Path)),
    responses((status = 200, body = Envelope<RecordOut>)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((zone_id, record_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            let zone = visible_zone(s, &caller, &zone_id)?;
            let row = s
                .store()
                .record(&zone.id, &record_id)?
                .ok_or_else(|| ApiError::not_found(format!("record {record_id} not found")))?;
            Ok(ok(RecordOut::new(&row, &zone.name)))
        })
        .await
}

#[utoipa::path(post, path = "/client/v4/zones/{zone_id}/dns_records", operation_id = "dns_records_create", tag = "DNS records",
    params(("zone_id" = String, Path)), request_body = RecordInput,
    responses((status = 200, body = Envelope<RecordOut>)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
    ApiJson(input): ApiJson<RecordInput>,
) -> Result<Response, ApiError> {
    one(state, caller, zone_id, Op::Post(input)).await
}

#[utoipa::path(put, path = "/client/v4/zones/{zone_id}/dns_records/{record_id}", operation_id = "dns_records_put", tag = "DNS records",
    params(("zone_id" = String, Path), ("record_id" = String, Path)), request_body = RecordInput,
    responses((status = 200, body = Envelope<RecordOut>)),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((zone_id, record_id)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<RecordInput>,
) -> Result<Response, ApiError> {
    one(state, caller, zone_id, Op::Put(record_id, input)).await
}

#[utoipa::path(patch, path = "/client/v4/zones/{zone_id}/dns_records/{record_id}", operation_id = "dns_records_patch", tag = "DNS records",
    params(("zone_id" = String, Path), ("record_id" = String, Path)), request_body = RecordInput,
    responses((status = 200, body = Envelope<RecordOut>)),
    security(("bearer" = [])))]
pub async fn patch(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((zone_id, record_id)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<RecordInput>,
) -> Result<Response, ApiError> {
    one(state, caller, zone_id, Op::Patch(record_id, input)).await
}

#[utoipa::path(delete, path = "/client/v4/zones/{zone_id}/dns_records/{record_id}", operation_id = "dns_records_delete", tag = "DNS records",
    params(("zone_id" = String, Path), ("record_id" = String, Path)),
    responses((status = 200, body = Envelope<DeletedId>),
        (status = 400, description = "the record cannot go: it is the SOA, the zone would lose its apex NS, or the zone is a secondary zone")),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((zone_id, record_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    one(state, caller, zone_id, Op::Delete(record_id)).await
}

/// Commits one operation as its own change and answers with its outcome.
async fn one(
    state: ApiState,
    caller: Caller,
    zone_id: String,
    op: Op,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            s.with_locked_zone(&caller, &zone_id, |zone| {
                let mut outcomes = run_ops(s, zone, vec![(String::new(), op)])?;
                Ok(match outcomes.pop() {
                    Some(Outcome::Deleted(row)) => ok(DeletedId { id: row.id }),
                    Some(Outcome::Record(row)) => ok(RecordOut::new(&row, &zone.name)),
                    None => return Err(ApiError::internal("operation had no outcome")),
                })
            })
        })
        .await
}
