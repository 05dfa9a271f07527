//! `/zones/{zone_id}/dns_records`: list with filters and pages, and the single-record
//! create, read, replace, change and delete (PRODUCT §3 "Endpoints"). A `full` zone's records
//! are read from the store; a `secondary` zone's from the version it serves
//! (`served_records.rs`).

use crate::auth::{visible_zone, Caller};
use crate::batch::{run_ops, Op, Outcome};
use crate::change::apex_of;
use crate::content::{parse_owner, parse_type};
use crate::envelope::{ok, ok_page, page_of, ApiJson, ApiPath, Envelope, KnownParams, StrictQuery};
use crate::served_records::{
    list_full, list_served, read_full_record, served_record, served_version,
};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Deserializer, Serialize};
use tandem_store::{
    format_time, RecordFilter, RecordOrder, RecordRow, TagFilter, TextFilter, TextOp, ZoneKind,
};
use tandem_zone::record::rtype_name;
use tandem_zone::Name;
use utoipa::{IntoParams, ToSchema};

/// Default and largest page of records.
const DEFAULT_PER_PAGE: u64 = 100;
const MAX_PER_PAGE: u64 = 50_000;

/// A DNS record as the API shows it (the provider's record object).
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct RecordOut {
    pub id: String,
    pub zone_id: String,
    pub zone_name: String,
    /// Fully qualified, without the trailing dot.
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    /// Presentation form without trailing dots on names; for MX the exchange, for SRV
    /// `weight port target`; TXT unquoted when it is one text value.
    pub content: String,
    /// The structured form of CAA, CERT, DNSKEY, DS, HTTPS, LOC, NAPTR, SMIMEA, SRV, SSHFP,
    /// SVCB, TLSA and URI records, read from the same RDATA as `content`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
    /// Seconds; `1` is automatic (served as 300).
    pub ttl: u32,
    /// MX, SRV and URI only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u16>,
    pub comment: Option<String>,
    pub proxied: bool,
    pub proxiable: bool,
    pub meta: RecordMetaOut,
    /// The record's settings as given (`ipv4_only`, `ipv6_only`, `flatten_cname`; only `false`
    /// is accepted here).
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// `name:value`, names lowercase.
    pub tags: Vec<String>,
    pub created_on: String,
    pub modified_on: String,
    /// Only when there is a comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_modified_on: Option<String>,
    /// Only when there are tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags_modified_on: Option<String>,
}

/// The provider's `meta` object; nothing is ever added automatically here.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct RecordMetaOut {
    pub auto_added: bool,
}

impl RecordOut {
    pub fn new(row: &RecordRow, zone_name: &str) -> Self {
        let data = crate::data::has_data(row.record.rtype)
            .then(|| crate::data::data_of(&row.record, &row.content, row.priority))
            .flatten();
        let settings = row
            .meta
            .settings
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_else(|| serde_json::json!({}));
        RecordOut {
            id: row.id.clone(),
            zone_id: row.zone_id.clone(),
            zone_name: zone_name.to_string(),
            name: row.name.clone(),
            rtype: rtype_name(row.record.rtype),
            content: row.content.clone(),
            data,
            ttl: if row.auto_ttl { 1 } else { row.record.ttl },
            priority: row.priority,
            comment: row.meta.comment.clone(),
            proxied: false,
            proxiable: false,
            meta: RecordMetaOut { auto_added: false },
            settings,
            tags: row.meta.tags.clone(),
            created_on: format_time(row.created),
            modified_on: format_time(row.modified),
            comment_modified_on: row
                .meta
                .comment
                .as_ref()
                .and(row.meta.comment_modified.map(format_time)),
            tags_modified_on: (!row.meta.tags.is_empty())
                .then(|| row.meta.tags_modified.map(format_time))
                .flatten(),
        }
    }
}

/// A record as sent to create, replace or change one. Every field is optional here; POST and
/// PUT need `type`, `name` and `content` (or `data`), PATCH changes only the fields given.
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
    /// Instead of (or agreeing with) `content`, for the types that have a structured form.
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
    /// Seconds; `1` is automatic (served as 300).
    pub ttl: Option<i64>,
    /// MX, SRV and URI.
    pub priority: Option<i64>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>)]
    pub comment: Option<Option<String>>,
    /// `name:value` strings; `null` or `[]` clears them.
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Option<Option<Vec<String>>>,
    /// `ipv4_only`, `ipv6_only`, `flatten_cname`: accepted when `false` (the provider's proxy
    /// and CNAME flattening do not exist here).
    #[schema(value_type = Option<Object>)]
    pub settings: Option<serde_json::Value>,
    /// Must be false or absent: Tandem serves DNS only.
    pub proxied: Option<bool>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn some_or_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Filters, order and paging of a record list (README "Listing records"). Text filters ignore
/// ASCII case; every filter given must hold, or with `match=any` at least one.
#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// Record type, e.g. `MX`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub rtype: Option<String>,
    /// Exact owner name: relative (`www`), `@`, or fully qualified with or without the dot.
    pub name: Option<String>,
    /// Same as `name`.
    #[serde(rename = "name.exact")]
    #[param(rename = "name.exact")]
    pub name_exact: Option<String>,
    /// The fully qualified name (no trailing dot) contains this.
    #[serde(rename = "name.contains")]
    #[param(rename = "name.contains")]
    pub name_contains: Option<String>,
    /// The fully qualified name (no trailing dot) starts with this.
    #[serde(rename = "name.startswith")]
    #[param(rename = "name.startswith")]
    pub name_startswith: Option<String>,
    /// The fully qualified name (no trailing dot) ends with this.
    #[serde(rename = "name.endswith")]
    #[param(rename = "name.endswith")]
    pub name_endswith: Option<String>,
    /// The content, as the list returns it, equals (same as `.exact`) this.
    #[serde(rename = "content")]
    #[param(rename = "content")]
    pub content: Option<String>,
    /// The content, as the list returns it, equals this.
    #[serde(rename = "content.exact")]
    #[param(rename = "content.exact")]
    pub content_exact: Option<String>,
    /// The content, as the list returns it, contains this.
    #[serde(rename = "content.contains")]
    #[param(rename = "content.contains")]
    pub content_contains: Option<String>,
    /// The content, as the list returns it, starts with this.
    #[serde(rename = "content.startswith")]
    #[param(rename = "content.startswith")]
    pub content_startswith: Option<String>,
    /// The content, as the list returns it, ends with this.
    #[serde(rename = "content.endswith")]
    #[param(rename = "content.endswith")]
    pub content_endswith: Option<String>,
    /// The comment equals (same as `.exact`) this.
    #[serde(rename = "comment")]
    #[param(rename = "comment")]
    pub comment: Option<String>,
    /// The comment equals this.
    #[serde(rename = "comment.exact")]
    #[param(rename = "comment.exact")]
    pub comment_exact: Option<String>,
    /// The comment contains this.
    #[serde(rename = "comment.contains")]
    #[param(rename = "comment.contains")]
    pub comment_contains: Option<String>,
    /// The comment starts with this.
    #[serde(rename = "comment.startswith")]
    #[param(rename = "comment.startswith")]
    pub comment_startswith: Option<String>,
    /// The comment ends with this.
    #[serde(rename = "comment.endswith")]
    #[param(rename = "comment.endswith")]
    pub comment_endswith: Option<String>,
    /// Given (any value): only records without a comment.
    #[serde(rename = "comment.absent")]
    #[param(rename = "comment.absent")]
    pub comment_absent: Option<String>,
    /// Given (any value): only records with a comment.
    #[serde(rename = "comment.present")]
    #[param(rename = "comment.present")]
    pub comment_present: Option<String>,
    /// A tag: `name:value` (the value compared ignoring ASCII case) or `name` (any value).
    pub tag: Option<String>,
    /// `name:value`: a tag `name` whose value equals `value`.
    #[serde(rename = "tag.exact")]
    #[param(rename = "tag.exact")]
    pub tag_exact: Option<String>,
    /// `name:value`: a tag `name` whose value contains `value`.
    #[serde(rename = "tag.contains")]
    #[param(rename = "tag.contains")]
    pub tag_contains: Option<String>,
    /// `name:value`: a tag `name` whose value starts with `value`.
    #[serde(rename = "tag.startswith")]
    #[param(rename = "tag.startswith")]
    pub tag_startswith: Option<String>,
    /// `name:value`: a tag `name` whose value ends with `value`.
    #[serde(rename = "tag.endswith")]
    #[param(rename = "tag.endswith")]
    pub tag_endswith: Option<String>,
    /// A tag name the record must have.
    #[serde(rename = "tag.present")]
    #[param(rename = "tag.present")]
    pub tag_present: Option<String>,
    /// A tag name the record must not have.
    #[serde(rename = "tag.absent")]
    #[param(rename = "tag.absent")]
    pub tag_absent: Option<String>,
    /// `all` (default): every tag filter must hold; `any`: at least one. The tag filters
    /// together are one filter for `match`.
    #[param(inline, value_type = Option<MatchParam>)]
    pub tag_match: Option<String>,
    /// Substring of the name, the content or the comment (ignoring ASCII case); applies
    /// whatever `match` says.
    pub search: Option<String>,
    /// `all` (default): every filter must hold; `any`: at least one.
    #[serde(rename = "match")]
    #[param(rename = "match", inline, value_type = Option<MatchParam>)]
    pub match_: Option<String>,
    /// Nothing is proxied here: `true` matches no record, `false` every one.
    #[param(value_type = Option<bool>)]
    pub proxied: Option<String>,
    /// Sort by `type` (its code), `name` (default), `content`, `ttl` or `proxied`.
    #[param(inline, value_type = Option<RecordOrderParam>)]
    pub order: Option<String>,
    /// `asc` (default) or `desc`.
    #[param(inline, value_type = Option<DirectionParam>)]
    pub direction: Option<String>,
    /// 1-based page number.
    pub page: Option<String>,
    /// Records per page (default 100, at most 50000).
    pub per_page: Option<String>,
}

impl KnownParams for RecordQuery {
    const KNOWN: &'static [&'static str] = &[
        "type",
        "name",
        "name.exact",
        "name.contains",
        "name.startswith",
        "name.endswith",
        "content",
        "content.exact",
        "content.contains",
        "content.startswith",
        "content.endswith",
        "comment",
        "comment.exact",
        "comment.contains",
        "comment.startswith",
        "comment.endswith",
        "comment.absent",
        "comment.present",
        "tag",
        "tag.exact",
        "tag.contains",
        "tag.startswith",
        "tag.endswith",
        "tag.present",
        "tag.absent",
        "tag_match",
        "search",
        "match",
        "proxied",
        "order",
        "direction",
        "page",
        "per_page",
    ];
}

/// `match`: whether every filter must hold or at least one.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum MatchParam {
    All,
    Any,
}

/// `order` of a record list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum RecordOrderParam {
    Type,
    Name,
    Content,
    Ttl,
    Proxied,
}

/// `direction` of a list's order.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum DirectionParam {
    Asc,
    Desc,
}

/// Reads `match`: `true` for `any`.
pub fn match_any(text: Option<&str>) -> Result<bool, ApiError> {
    match text {
        None | Some("all") => Ok(false),
        Some("any") => Ok(true),
        Some(_) => Err(ApiError::field("match", "must be `all` or `any`")),
    }
}

/// Reads `direction`: `true` for `desc`.
pub fn descending(text: Option<&str>) -> Result<bool, ApiError> {
    match text {
        None | Some("asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(_) => Err(ApiError::field("direction", "must be `asc` or `desc`")),
    }
}

/// The store's filter from a record query, names read against the zone's apex.
fn record_filter(apex: &Name, q: &RecordQuery) -> Result<RecordFilter, ApiError> {
    let text = |op: TextOp, value: &Option<String>| {
        value.as_ref().map(|v| TextFilter {
            op,
            values: vec![v.clone()],
        })
    };
    let mut name = Vec::new();
    for (key, value) in [("name", &q.name), ("name.exact", &q.name_exact)] {
        if let Some(v) = value {
            let owner = parse_owner(apex, v)
                .map_err(|e| ApiError::field(key, e.message.trim_start_matches("name: ")))?;
            name.push(TextFilter {
                op: TextOp::Exact,
                values: vec![owner.to_api()],
            });
        }
    }
    name.extend(text(TextOp::Contains, &q.name_contains));
    name.extend(text(TextOp::StartsWith, &q.name_startswith));
    // The API form has no trailing dot.
    name.extend(q.name_endswith.as_deref().map(|v| TextFilter {
        op: TextOp::EndsWith,
        values: vec![v.strip_suffix('.').unwrap_or(v).to_string()],
    }));
    let rtype = q.rtype.as_deref().map(parse_type).transpose()?;
    let content = [
        text(TextOp::Exact, &q.content),
        text(TextOp::Exact, &q.content_exact),
        text(TextOp::Contains, &q.content_contains),
        text(TextOp::StartsWith, &q.content_startswith),
        text(TextOp::EndsWith, &q.content_endswith),
    ];
    let comment = [
        text(TextOp::Exact, &q.comment),
        text(TextOp::Exact, &q.comment_exact),
        text(TextOp::Contains, &q.comment_contains),
        text(TextOp::StartsWith, &q.comment_startswith),
        text(TextOp::EndsWith, &q.comment_endswith),
    ];
    let mut comment_present = Vec::new();
    if q.comment_present.is_some() {
        comment_present.push(true);
    }
    if q.comment_absent.is_some() {
        comment_present.push(false);
    }
    let mut tags = Vec::new();
    let tag_name = |key: &str, name: &str| -> Result<String, ApiError> {
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() {
            return Err(ApiError::field(key, "needs a tag name"));
        }
        Ok(name)
    };
    if let Some(t) = &q.tag {
        tags.push(match t.split_once(':') {
            Some((n, v)) => TagFilter::Value(tag_name("tag", n)?, TextOp::Exact, v.to_string()),
            None => TagFilter::Present(tag_name("tag", t)?),
        });
    }
    for (key, op, value) in [
        ("tag.exact", TextOp::Exact, &q.tag_exact),
        ("tag.contains", TextOp::Contains, &q.tag_contains),
        ("tag.startswith", TextOp::StartsWith, &q.tag_startswith),
        ("tag.endswith", TextOp::EndsWith, &q.tag_endswith),
    ] {
        if let Some(v) = value {
            let (n, v) = v
                .split_once(':')
                .ok_or_else(|| ApiError::field(key, "must be `name:value`"))?;
            tags.push(TagFilter::Value(tag_name(key, n)?, op, v.to_string()));
        }
    }
    if let Some(n) = &q.tag_present {
        tags.push(TagFilter::Present(tag_name("tag.present", n)?));
    }
    if let Some(n) = &q.tag_absent {
        tags.push(TagFilter::Absent(tag_name("tag.absent", n)?));
    }
    let tag_match_any = match q.tag_match.as_deref() {
        None | Some("all") => false,
        Some("any") => true,
        Some(_) => return Err(ApiError::field("tag_match", "must be `all` or `any`")),
    };
    let proxied = match q.proxied.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(ApiError::field("proxied", "must be `true` or `false`")),
    };
    let order = match q.order.as_deref() {
        None | Some("name") => RecordOrder::Name,
        Some("type") => RecordOrder::Type,
        Some("content") => RecordOrder::Content,
        Some("ttl") => RecordOrder::Ttl,
        Some("proxied") => RecordOrder::Proxied,
        Some(_) => {
            return Err(ApiError::field(
                "order",
                "must be one of type, name, content, ttl, proxied",
            ))
        }
    };
    Ok(RecordFilter {
        rtype,
        name,
        content: content.into_iter().flatten().collect(),
        comment: comment.into_iter().flatten().collect(),
        comment_present,
        tags,
        tag_match_any,
        search: q.search.clone(),
        proxied,
        match_any: match_any(q.match_.as_deref())?,
        order,
        descending: descending(q.direction.as_deref())?,
    })
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
    StrictQuery(q): StrictQuery<RecordQuery>,
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
            let filter = record_filter(&apex, &q)?;
            // A zone's records live in its served version; a full zone's rows add what the API
            // remembers of some. A secondary zone has none before its first transfer.
            let (rows, total) = match zone.kind {
                ZoneKind::Full => list_full(s, &zone, &filter, page)?,
                ZoneKind::Secondary => match served_version(s, &zone)? {
                    Some(version) => list_served(&zone, &version, &filter, page, s.shown_ids()),
                    None => (Vec::new(), 0),
                },
            };
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
            let row = match zone.kind {
                ZoneKind::Full => read_full_record(s, &zone, &record_id)?,
                ZoneKind::Secondary => served_version(s, &zone)?
                    .and_then(|version| served_record(&zone, &version, &record_id, s.shown_ids())),
            }
            .ok_or_else(|| ApiError::record_not_found(&record_id))?;
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
