//! `/zones`: create a zone (a `full` zone gets its SOA and apex NS and is served at once),
//! list, show, edit (`paused`, the one field the provider lets change that means anything
//! here) and delete (PRODUCT §3 "Zones and records").

use crate::auth::{visible_zone, Caller};
use crate::change::{apex_of, new_row};
use crate::envelope::{ok, ok_page, page_of, ApiJson, ApiPath, Envelope, KnownParams, StrictQuery};
use crate::records::{descending, match_any, DeletedId, DirectionParam, MatchParam};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use tandem_store::{
    format_time, new_id, now, Account, Page, RecordRow, ZoneExtras, ZoneFilter, ZoneKind,
    ZoneOrder, ZoneRow,
};
use tandem_zone::record::rtype;
use tandem_zone::{Name, Record, Soa, ZoneVersion};
use utoipa::{IntoParams, ToSchema};

/// SOA timers of a new zone (PRODUCT §3): refresh, retry, expire, minimum.
const SOA_TIMERS: [u32; 4] = [7200, 3600, 1_209_600, 300];
/// TTL of the SOA and apex NS records of a new zone.
const APEX_TTL: u32 = 3600;

const DEFAULT_PER_PAGE: u64 = 20;
const MAX_PER_PAGE: u64 = 1000;

/// `{"id"}` (and, in answers, `"name"`) of an account.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Default)]
pub struct AccountRef {
    pub id: String,
    #[serde(skip_deserializing)]
    pub name: String,
}

/// A zone as the API shows it.
#[derive(Serialize, ToSchema, Debug)]
pub struct ZoneOut {
    pub id: String,
    /// Fully qualified, without the trailing dot.
    pub name: String,
    /// `active`, `pending` or `expired`.
    pub status: String,
    /// `full` or `secondary`.
    #[serde(rename = "type")]
    pub kind: String,
    pub account: AccountRef,
    /// The zone's apex NS names.
    pub name_servers: Vec<String>,
    /// The provider's flag for a zone that uses its DNS only. Set with `PATCH`, kept and
    /// shown; it changes nothing in DNS (it is about the provider's proxy).
    pub paused: bool,
    pub development_mode: i64,
    pub created_on: String,
    pub modified_on: String,
    pub activated_on: Option<String>,
    /// Our extension: which zone-transfer configurations the zone has.
    pub secondary_dns: ZoneTransfers,
}

/// Which of a zone's `secondary_dns/incoming` and `secondary_dns/outgoing` exist (each answers
/// a 404 while it does not), so a list of zones shows their transfers without asking for
/// configurations that are not there.
#[derive(Serialize, ToSchema, Debug, Clone, Copy)]
pub struct ZoneTransfers {
    pub incoming: bool,
    pub outgoing: bool,
}

/// Body of `PATCH /zones/{zone_id}`: the provider's editable fields of a zone. Only `paused`
/// changes anything; `type` and `vanity_name_servers` are accepted when they leave the zone as
/// it is (its own type; no vanity name servers), and `plan` never. Any other field (`name`,
/// `status`, `account`, ... or one the zone object does not have) is a 400 naming it. `null`
/// is the same as leaving a field out.
#[derive(Deserialize, ToSchema, Debug)]
pub struct ZoneEdit {
    pub paused: Option<bool>,
    /// Only the zone's own type: a zone's type cannot change.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Only an empty list: custom name servers are not offered (edit the apex NS records).
    pub vanity_name_servers: Option<Vec<String>>,
    /// Never: Tandem has no plans.
    #[schema(value_type = Option<Object>)]
    pub plan: Option<serde_json::Value>,
}

/// Fields of the zone object that `PATCH` cannot change.
const READ_ONLY: &[&str] = &[
    "id",
    "name",
    "status",
    "account",
    "name_servers",
    "original_name_servers",
    "original_registrar",
    "original_dnshost",
    "created_on",
    "modified_on",
    "activated_on",
    "development_mode",
    "meta",
    "owner",
    "permissions",
    "cname_suffix",
    "tenant",
    "tenant_unit",
    "verification_key",
    "secondary_dns",
];

/// Body of `POST /zones`.
#[derive(Deserialize, ToSchema, Debug)]
pub struct ZoneCreate {
    /// e.g. `example.com` (a trailing dot is accepted).
    pub name: String,
    /// Defaults to the token's account, or `default` for the administrator.
    pub account: Option<AccountRef>,
    /// `full` (default) or `secondary`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// Filters, order and paging of the zone list. Every filter given must hold, or with
/// `match=any` at least one; a token of one account only ever sees that account's zones.
#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct ZoneQuery {
    /// Exact zone name (with or without the trailing dot).
    pub name: Option<String>,
    /// Only zones of this account.
    #[serde(rename = "account.id")]
    #[param(rename = "account.id")]
    pub account_id: Option<String>,
    /// Only zones of the account with exactly this name.
    #[serde(rename = "account.name")]
    #[param(rename = "account.name")]
    pub account_name: Option<String>,
    /// `active`, `pending` or `expired` (the provider's `initializing` and `moved` match none).
    #[param(inline, value_type = Option<ZoneStatusParam>)]
    pub status: Option<String>,
    /// `full` or `secondary` (the provider's `partial` and `internal` match none).
    #[serde(rename = "type")]
    #[param(rename = "type", inline, value_type = Option<ZoneTypeParam>)]
    pub kind: Option<String>,
    /// `all` (default): every filter must hold; `any`: at least one.
    #[serde(rename = "match")]
    #[param(rename = "match", inline, value_type = Option<MatchParam>)]
    pub match_: Option<String>,
    /// Sort by `name` (default), `status`, `account.id` or `account.name`.
    #[param(inline, value_type = Option<ZoneOrderParam>)]
    pub order: Option<String>,
    /// `asc` (default) or `desc`.
    #[param(inline, value_type = Option<DirectionParam>)]
    pub direction: Option<String>,
    /// 1-based page number.
    pub page: Option<String>,
    /// Zones per page (default 20, at most 1000).
    pub per_page: Option<String>,
}

impl KnownParams for ZoneQuery {
    const KNOWN: &'static [&'static str] = &[
        "name",
        "account.id",
        "account.name",
        "status",
        "type",
        "match",
        "order",
        "direction",
        "page",
        "per_page",
    ];
}

/// `order` of the zone list.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub enum ZoneOrderParam {
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "status")]
    Status,
    #[serde(rename = "account.id")]
    AccountId,
    #[serde(rename = "account.name")]
    AccountName,
}

/// `status` filter of the zone list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ZoneStatusParam {
    Active,
    Pending,
    Expired,
    Initializing,
    Moved,
}

/// `type` filter of the zone list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ZoneTypeParam {
    Full,
    Secondary,
    Partial,
    Internal,
}

/// The store's filter from a zone query (the caller's own account is added by the caller).
fn zone_filter(q: &ZoneQuery) -> Result<ZoneFilter, ApiError> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s @ ("active" | "pending" | "expired" | "initializing" | "moved")) => {
            Some(s.to_string())
        }
        Some(_) => {
            return Err(ApiError::field(
                "status",
                "must be one of active, pending, expired, initializing, moved",
            ))
        }
    };
    let kind = match q.kind.as_deref() {
        None => None,
        Some(k @ ("full" | "secondary" | "partial" | "internal")) => Some(k.to_string()),
        Some(_) => {
            return Err(ApiError::field(
                "type",
                "must be one of full, secondary, partial, internal",
            ))
        }
    };
    let order = match q.order.as_deref() {
        None | Some("name") => ZoneOrder::Name,
        Some("status") => ZoneOrder::Status,
        Some("account.id") => ZoneOrder::AccountId,
        Some("account.name") => ZoneOrder::AccountName,
        Some(_) => {
            return Err(ApiError::field(
                "order",
                "must be one of name, status, account.id, account.name",
            ))
        }
    };
    Ok(ZoneFilter {
        account_id: None,
        name: q
            .name
            .as_deref()
            .map(zone_name)
            .transpose()?
            .map(|n| n.to_api()),
        account: q.account_id.clone(),
        account_name: q.account_name.clone(),
        status,
        kind,
        match_any: match_any(q.match_.as_deref())?,
        order,
        descending: descending(q.direction.as_deref())?,
    })
}

fn zone_out(
    state: &ApiState,
    zone: &ZoneRow,
    account: Option<&Account>,
    extras: ZoneExtras,
) -> ZoneOut {
    let name_servers = Name::parse(&zone.name)
        .ok()
        .and_then(|apex| state.zones().get(&apex))
        .and_then(|served| served.current())
        .map(|v| {
            let ns = v.apex_node().rrset(rtype::NS);
            ns.map(|s| {
                s.rdatas()
                    .filter_map(|rd| Name::from_wire(rd).ok())
                    .map(|n| n.to_api())
                    .collect()
            })
            .unwrap_or_default()
        })
        .unwrap_or_default();
    ZoneOut {
        id: zone.id.clone(),
        name: zone.name.clone(),
        status: zone.status.clone(),
        kind: zone.kind.as_str().to_string(),
        account: AccountRef {
            id: zone.account_id.clone(),
            name: account.map(|a| a.name.clone()).unwrap_or_default(),
        },
        name_servers,
        paused: extras.paused,
        development_mode: 0,
        created_on: format_time(zone.created),
        modified_on: format_time(zone.modified),
        activated_on: (zone.status == "active").then(|| format_time(zone.created)),
        secondary_dns: ZoneTransfers {
            incoming: extras.incoming,
            outgoing: extras.outgoing,
        },
    }
}

/// A zone as shown by `GET /zones/{zone_id}`, read afresh.
fn shown_zone(state: &ApiState, zone: &ZoneRow) -> Result<ZoneOut, ApiError> {
    let account = state.store().account(&zone.account_id)?;
    let extras = state
        .store()
        .zone_extras(&[zone.id.as_str()])?
        .remove(&zone.id)
        .unwrap_or_default();
    Ok(zone_out(state, zone, account.as_ref(), extras))
}

/// Reads a `PATCH /zones/{zone_id}` body against `zone`: the new `paused`, if one is given.
/// Anything that would change more than that is a 400 naming the field, before anything is
/// written.
fn edit_of(zone: &ZoneRow, body: serde_json::Value) -> Result<Option<bool>, ApiError> {
    let serde_json::Value::Object(fields) = body else {
        return Err(ApiError::field("body", "a JSON object is required"));
    };
    for key in fields.keys() {
        if READ_ONLY.contains(&key.as_str()) {
            return Err(ApiError::field(
                key,
                "cannot be changed; PATCH /zones/{zone_id} changes only `paused`",
            ));
        }
        if !["paused", "type", "vanity_name_servers", "plan"].contains(&key.as_str()) {
            return Err(ApiError::field(
                key,
                "unknown field; PATCH /zones/{zone_id} takes paused, type, \
                 vanity_name_servers and plan",
            ));
        }
    }
    let edit: ZoneEdit = serde_path_to_error::deserialize(serde_json::Value::Object(fields))
        .map_err(|e| ApiError::field(&e.path().to_string(), e.into_inner()))?;
    if let Some(kind) = edit.kind.as_deref() {
        if kind != zone.kind.as_str() {
            return Err(ApiError::field(
                "type",
                format!(
                    "a zone's type cannot change (this one is {}); create a zone of the \
                     other type instead",
                    zone.kind.as_str()
                ),
            ));
        }
    }
    if edit
        .vanity_name_servers
        .as_ref()
        .is_some_and(|v| !v.is_empty())
    {
        return Err(ApiError::field(
            "vanity_name_servers",
            "custom name servers are not offered; edit the zone's apex NS records instead",
        ));
    }
    if edit.plan.as_ref().is_some_and(|p| !p.is_null()) {
        return Err(ApiError::field("plan", "Tandem has no plans to change"));
    }
    Ok(edit.paused)
}

/// A zone name from the API: fully qualified, not the root.
fn zone_name(text: &str) -> Result<Name, ApiError> {
    let name = Name::parse(text.trim()).map_err(|e| {
        ApiError::field("name", format!("{text:?} is not a valid domain name: {e}"))
    })?;
    if name.label_count() == 0 {
        return Err(ApiError::field("name", "the root zone cannot be hosted"));
    }
    // Zone names are host-name-like (RFC 952/1123 letters, digits, hyphens; underscores for
    // service zones): anything else is almost surely a typo and would be escaped on the wire.
    let bad = text.trim().trim_end_matches('.').split('.').find(|l| {
        l.is_empty()
            || !l
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if let Some(label) = bad {
        return Err(ApiError::field(
            "name",
            format!("{text:?}: label {label:?} may only hold letters, digits, '-' and '_'"),
        ));
    }
    Ok(name)
}

/// The SOA and apex NS records of a new `full` zone.
fn initial_records(state: &ApiState, apex: &Name) -> Result<Vec<Record>, ApiError> {
    let ns = if state.inner.default_ns.is_empty() {
        vec![apex
            .prepend(b"ns1")
            .map_err(|e| ApiError::field("name", e))?]
    } else {
        state.inner.default_ns.clone()
    };
    let rname = match &state.inner.default_rname {
        Some(r) => r.clone(),
        None => apex
            .prepend(b"hostmaster")
            .map_err(|e| ApiError::field("name", e))?,
    };
    let [refresh, retry, expire, minimum] = SOA_TIMERS;
    let soa = Soa {
        mname: ns[0].clone(),
        rname,
        serial: 1,
        refresh,
        retry,
        expire,
        minimum,
    };
    let mut records = vec![Record::new(
        apex.clone(),
        rtype::SOA,
        APEX_TTL,
        soa.to_rdata(),
    )];
    for n in ns {
        records.push(Record::new(
            apex.clone(),
            rtype::NS,
            APEX_TTL,
            n.as_wire().to_vec(),
        ));
    }
    Ok(records)
}

/// The account a new zone goes to.
fn target_account(
    state: &ApiState,
    caller: &Caller,
    wanted: Option<&AccountRef>,
) -> Result<Account, ApiError> {
    let id = match (wanted, caller.account_scope()) {
        (Some(a), _) => a.id.clone(),
        (None, Some(own)) => own,
        (None, None) => return Ok(state.store().default_account()?),
    };
    match state.store().account(&id)? {
        Some(a) if caller.sees(&a.id) => Ok(a),
        _ => Err(ApiError::field("account.id", format!("no account {id}"))),
    }
}

#[utoipa::path(post, path = "/client/v4/zones", operation_id = "zones_create", tag = "Zones", request_body = ZoneCreate,
    responses((status = 200, body = Envelope<ZoneOut>)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<ZoneCreate>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    let kind = match body.kind.as_deref() {
        None => ZoneKind::Full,
        Some(k) => ZoneKind::parse(k)
            .ok_or_else(|| ApiError::field("type", "must be full or secondary"))?,
    };
    let apex = zone_name(&body.name)?;
    state
        .run(move |s| {
            let account = target_account(s, &caller, body.account.as_ref())?;
            let now = now();
            let mut zone = ZoneRow {
                id: new_id(),
                account_id: account.id.clone(),
                name: apex.to_api(),
                kind,
                status: "pending".into(),
                serial: 0,
                created: now,
                modified: now,
            };
            if s.store().zone_by_name(&zone.name)?.is_some() {
                return Err(ApiError::field(
                    "name",
                    format!("a zone named {} already exists", zone.name),
                ));
            }
            let version = match kind {
                ZoneKind::Full => {
                    let v = ZoneVersion::build(apex.clone(), initial_records(s, &apex)?)
                        .map_err(|e| ApiError::bad_request(e.to_string()))?;
                    zone.status = "active".into();
                    zone.serial = v.serial();
                    Some(Arc::new(v))
                }
                ZoneKind::Secondary => None,
            };
            let rows: Vec<RecordRow> = version
                .iter()
                .flat_map(|v| v.records())
                .map(|r| new_row(&zone.id, r))
                .collect();
            s.store().create_zone(&zone, &rows)?;
            s.zones().insert(apex, version);
            tracing::info!(zone = %zone.name, kind = kind.as_str(), "zone created");
            Ok(ok(zone_out(
                s,
                &zone,
                Some(&account),
                ZoneExtras::default(),
            )))
        })
        .await
}

#[utoipa::path(get, path = "/client/v4/zones", operation_id = "zones_list", tag = "Zones", params(ZoneQuery),
    responses((status = 200, body = Envelope<Vec<ZoneOut>>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<ZoneQuery>,
) -> Result<Response, ApiError> {
    let page: Page = page_of(
        q.page.as_deref(),
        q.per_page.as_deref(),
        DEFAULT_PER_PAGE,
        MAX_PER_PAGE,
    )?;
    state
        .run(move |s| {
            let mut filter = zone_filter(&q)?;
            filter.account_id = caller.account_scope();
            let (zones, total) = s.store().list_zones(&filter, page)?;
            let accounts: HashMap<String, Account> = s
                .store()
                .accounts()?
                .into_iter()
                .map(|a| (a.id.clone(), a))
                .collect();
            let ids: Vec<&str> = zones.iter().map(|z| z.id.as_str()).collect();
            let extras = s.store().zone_extras(&ids)?;
            let out = zones
                .iter()
                .map(|z| {
                    let e = extras.get(&z.id).copied().unwrap_or_default();
                    zone_out(s, z, accounts.get(&z.account_id), e)
                })
                .collect();
            Ok(ok_page::<ZoneOut>(out, page, total))
        })
        .await
}

#[utoipa::path(get, path = "/client/v4/zones/{zone_id}", operation_id = "zones_get", tag = "Zones", params(("zone_id" = String, Path)),
    responses((status = 200, body = Envelope<ZoneOut>)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state
        .run(move |s| {
            let zone = visible_zone(s, &caller, &zone_id)?;
            Ok(ok(shown_zone(s, &zone)?))
        })
        .await
}

#[utoipa::path(patch, path = "/client/v4/zones/{zone_id}", operation_id = "zones_edit", tag = "Zones", params(("zone_id" = String, Path)),
    request_body = ZoneEdit,
    responses((status = 200, description = "the zone as now stored; the same PATCH again changes nothing", body = Envelope<ZoneOut>)),
    security(("bearer" = [])))]
pub async fn edit(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    state
        .run(move |s| {
            let zone = visible_zone(s, &caller, &zone_id)?;
            if let Some(paused) = edit_of(&zone, body)? {
                if s.store().set_zone_paused(&zone.id, paused, now())? {
                    tracing::info!(zone = %zone.name, paused, "zone edited");
                }
            }
            let zone = visible_zone(s, &caller, &zone_id)?;
            Ok(ok(shown_zone(s, &zone)?))
        })
        .await
}

#[utoipa::path(delete, path = "/client/v4/zones/{zone_id}", operation_id = "zones_delete", tag = "Zones", params(("zone_id" = String, Path)),
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
            let id = s.with_locked_zone(&caller, &zone_id, |zone| {
                if !s.store().delete_zone(&zone.id)? {
                    return Err(ApiError::not_found(format!("zone {zone_id} not found")));
                }
                s.zones().remove(&apex_of(zone)?);
                // Its transfer configuration went with it.
                s.events().zone_config_changed(&zone.id);
                tracing::info!(zone = %zone.name, "zone deleted");
                Ok(zone.id.clone())
            })?;
            s.forget_zone_lock(&id);
            Ok(ok(DeletedId { id }))
        })
        .await
}
