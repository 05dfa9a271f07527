//! Record operations turned into one edit: the single-record endpoints and
//! `POST /zones/{zone_id}/dns_records/batch`, whose deletes, patches, puts and posts (in that
//! order, as the provider documents) are one transaction and one new version.

use crate::auth::Caller;
use crate::change::{apex_of, commit, editable, Edit};
use crate::content::{parse_content, parse_owner, parse_priority, parse_ttl, parse_type, shown};
use crate::data::content_from_data;
use crate::envelope::{ok, ApiJson, ApiPath, Envelope};
use crate::records::{RecordInput, RecordOut};
use crate::served_records::full_record;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use tandem_store::{new_id, now, RecordMeta, RecordRow, ZoneRow};
use tandem_zone::record::{rtype, rtype_name};
use tandem_zone::{Name, Record, ZoneVersion};
use utoipa::ToSchema;

/// Longest comment kept on a record.
const MAX_COMMENT: usize = 500;

/// One operation on a zone's records.
pub(crate) enum Op {
    Delete(String),
    Patch(String, RecordInput),
    Put(String, RecordInput),
    Post(RecordInput),
}

/// What one operation did.
pub(crate) enum Outcome {
    /// The row as it was before deletion.
    Deleted(RecordRow),
    /// The row as stored after the change.
    Record(RecordRow),
}

/// A stored row touched by the edit: as it was, and as it is now (`None`: deleted).
struct Touched {
    original: RecordRow,
    current: Option<RecordRow>,
}

/// Where an outcome's row lives until the edit is committed.
enum Pending {
    Deleted(usize),
    Touched(usize),
    Inserted(usize),
}

/// The edit being assembled from operations, each seeing the effect of those before it.
struct Plan<'a> {
    state: &'a ApiState,
    zone: &'a ZoneRow,
    apex: Name,
    /// The version the edit starts from.
    version: Arc<ZoneVersion>,
    touched: Vec<Touched>,
    by_id: HashMap<String, usize>,
    inserts: Vec<RecordRow>,
}

impl Plan<'_> {
    /// The index of the stored row `id` in `touched`, loading it on first use.
    fn slot(&mut self, id: &str) -> Result<usize, ApiError> {
        if let Some(&i) = self.by_id.get(id) {
            return Ok(i);
        }
        let row = full_record(self.state, self.zone, &self.version, id)?.ok_or_else(|| gone(id))?;
        self.touched.push(Touched {
            current: Some(row.clone()),
            original: row,
        });
        self.by_id.insert(id.to_string(), self.touched.len() - 1);
        Ok(self.touched.len() - 1)
    }

    fn add(&mut self, op: Op) -> Result<Pending, ApiError> {
        let (id, input, patch) = match op {
            Op::Delete(id) => {
                let i = self.slot(&id)?;
                let current = self.touched[i].current.as_ref().ok_or_else(|| gone(&id))?;
                if current.record.rtype == rtype::SOA {
                    return Err(ApiError::bad_request("the SOA record cannot be deleted"));
                }
                self.touched[i].current = None;
                return Ok(Pending::Deleted(i));
            }
            Op::Post(input) => {
                let row = build_row(&self.apex, self.zone, None, input, false)?;
                self.inserts.push(row);
                return Ok(Pending::Inserted(self.inserts.len() - 1));
            }
            Op::Patch(id, input) => (id, input, true),
            Op::Put(id, input) => (id, input, false),
        };
        let i = self.slot(&id)?;
        let base = self.touched[i].current.as_ref().ok_or_else(|| gone(&id))?;
        let row = build_row(&self.apex, self.zone, Some(base), input, patch)?;
        self.touched[i].current = Some(row);
        Ok(Pending::Touched(i))
    }

    fn edit(&self) -> Edit {
        let mut edit = Edit::default();
        for t in &self.touched {
            match &t.current {
                None => edit
                    .deletes
                    .push((t.original.id.clone(), t.original.record.clone())),
                Some(row) if row.record.rtype == rtype::SOA => edit.soa = Some(row.clone()),
                Some(row) if *row != t.original => {
                    edit.updates.push((t.original.record.clone(), row.clone()))
                }
                Some(_) => {}
            }
        }
        edit.inserts = self.inserts.clone();
        edit
    }
}

/// Applies `ops` (each labelled for error messages) as one change. Call with the zone's write
/// lock held. Any failing operation fails them all and nothing is written.
pub(crate) fn run_ops(
    state: &ApiState,
    zone: &ZoneRow,
    ops: Vec<(String, Op)>,
) -> Result<Vec<Outcome>, ApiError> {
    let (_, version) = editable(state, zone)?;
    if ops.is_empty() {
        return Ok(Vec::new());
    }
    let mut plan = Plan {
        state,
        zone,
        apex: apex_of(zone)?,
        version,
        touched: Vec::new(),
        by_id: HashMap::new(),
        inserts: Vec::new(),
    };
    let mut pending = Vec::with_capacity(ops.len());
    for (label, op) in ops {
        let p = plan.add(op).map_err(|e| {
            if label.is_empty() {
                e
            } else {
                e.within(&label)
            }
        })?;
        pending.push(p);
    }
    let committed = commit(state, zone, plan.edit())?;
    let Plan {
        touched, inserts, ..
    } = plan;
    let outcome = |p: Pending| -> Result<Outcome, ApiError> {
        Ok(match p {
            Pending::Deleted(i) => Outcome::Deleted(touched[i].original.clone()),
            Pending::Touched(i) => {
                let row = touched[i]
                    .current
                    .as_ref()
                    .ok_or_else(|| gone(&touched[i].original.id))?;
                if row.record.rtype == rtype::SOA {
                    Outcome::Record(committed.soa.clone())
                } else {
                    Outcome::Record(row.clone())
                }
            }
            Pending::Inserted(i) => Outcome::Record(inserts[i].clone()),
        })
    };
    pending.into_iter().map(outcome).collect()
}

fn gone(id: &str) -> ApiError {
    ApiError::record_not_found(id)
}

/// The row an operation asks for. `patch`: fields left out keep `base`'s values; otherwise
/// (POST, PUT) they take their defaults and `type`, `name` and `content` (or `data`) are
/// required. A row that would hold what `base` holds is `base` itself, times included: a
/// write that changes nothing is not a change.
pub(crate) fn build_row(
    apex: &Name,
    zone: &ZoneRow,
    base: Option<&RecordRow>,
    input: RecordInput,
    patch: bool,
) -> Result<RecordRow, ApiError> {
    let keep = if patch { base } else { None };
    let required = |field: &str| ApiError::field(field, "required");
    if input.proxied == Some(true) {
        return Err(ApiError::field(
            "proxied",
            "not supported: Tandem serves DNS only",
        ));
    }
    let t = match (&input.rtype, keep) {
        (Some(t), _) => parse_type(t)?,
        (None, Some(b)) => b.record.rtype,
        (None, None) => return Err(required("type")),
    };
    let base_is_soa = base.is_some_and(|b| b.record.rtype == rtype::SOA);
    if base_is_soa && t != rtype::SOA {
        return Err(ApiError::field("type", "the SOA record cannot change type"));
    }
    if !base_is_soa && t == rtype::SOA {
        return Err(ApiError::field(
            "type",
            "the SOA record is managed by the zone: change its fields with PATCH",
        ));
    }
    let owner = match (&input.name, keep) {
        (Some(n), _) => parse_owner(apex, n)?,
        (None, Some(b)) => b.record.owner.clone(),
        (None, None) => return Err(required("name")),
    };
    let (ttl, auto_ttl) = match (input.ttl, keep) {
        (None, Some(b)) => (b.record.ttl, b.auto_ttl),
        (ttl, _) => parse_ttl(ttl)?,
    };
    let priority = match (parse_priority(input.priority)?, keep) {
        (None, Some(b)) => b.priority,
        (p, _) => p,
    };
    let comment = match (input.comment, keep) {
        (Some(c), _) => c.filter(|c| !c.is_empty()),
        (None, Some(b)) => b.meta.comment.clone(),
        (None, None) => None,
    };
    if let Some(c) = &comment {
        if c.chars().count() > MAX_COMMENT {
            return Err(ApiError::field(
                "comment",
                format!("longer than {MAX_COMMENT} characters"),
            ));
        }
        if c.contains(['\n', '\r']) {
            return Err(ApiError::field("comment", "must be on one line"));
        }
    }
    let tags = match (input.tags, keep) {
        (Some(t), _) => parse_tags(t.unwrap_or_default())?,
        (None, Some(b)) => b.meta.tags.clone(),
        (None, None) => Vec::new(),
    };
    let settings = match (input.settings, keep) {
        (Some(v), _) => parse_settings(t, &v)?,
        (None, Some(b)) => b.meta.settings.clone(),
        (None, None) => None,
    };
    let reparse = input.content.is_some()
        || input.data.is_some()
        || input.priority.is_some()
        || keep.is_none_or(|b| b.record.rtype != t);
    let rdata = match keep {
        Some(b) if !reparse => b.record.rdata.clone(),
        _ => {
            let from_data = match &input.data {
                Some(data) => {
                    let (content, p) = content_from_data(t, data, priority)?;
                    Some(
                        parse_content(apex, &owner, t, &content, p).map_err(|e| ApiError {
                            message: e.message.replacen("content: ", "data: ", 1),
                            ..e
                        })?,
                    )
                }
                None => None,
            };
            let from_content = match input.content.as_deref() {
                Some(c) => Some(parse_content(apex, &owner, t, c, priority)?),
                None => None,
            };
            match (from_data, from_content) {
                (Some(d), Some(c)) if d != c => {
                    return Err(ApiError::field(
                        "data",
                        "describes other RDATA than `content`: give one, or both alike",
                    ))
                }
                (Some(rd), _) | (None, Some(rd)) => rd,
                (None, None) => {
                    let content = keep
                        .map(|b| b.content.as_str())
                        .ok_or_else(|| required("content"))?;
                    parse_content(apex, &owner, t, content, priority)?
                }
            }
        }
    };
    let record = Record::new(owner, t, ttl, rdata);
    let (content, priority) = shown(&record);
    let now = now();
    let old = base.map(|b| &b.meta);
    let comment_modified = match old {
        Some(m) if m.comment == comment => m.comment_modified,
        _ => comment.as_ref().map(|_| now),
    };
    let tags_modified = match old {
        Some(m) if m.tags == tags => m.tags_modified,
        _ => (!tags.is_empty()).then_some(now),
    };
    let row = RecordRow {
        id: base.map_or_else(new_id, |b| b.id.clone()),
        zone_id: zone.id.clone(),
        name: record.owner.to_api(),
        record,
        content,
        priority,
        auto_ttl,
        meta: RecordMeta {
            comment,
            comment_modified,
            tags,
            tags_modified,
            settings,
        },
        created: base.map_or(now, |b| b.created),
        modified: now,
    };
    match base {
        Some(b) if row.same_as(b) => Ok(b.clone()),
        _ => Ok(row),
    }
}

/// Most tags on one record, and the longest tag name and value.
const MAX_TAGS: usize = 20;
const MAX_TAG_NAME: usize = 100;
const MAX_TAG_VALUE: usize = 500;

/// Tags as the provider takes them: `name:value` (or a bare `name`); names hold only letters,
/// digits, `-` and `_`, ignore case (kept lowercase) and appear once; values are one line.
fn parse_tags(tags: Vec<String>) -> Result<Vec<String>, ApiError> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::field(
            "tags",
            format!("at most {MAX_TAGS} tags per record"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for (i, tag) in tags.iter().enumerate() {
        let field = format!("tags[{i}]");
        let (name, value) = match tag.split_once(':') {
            Some((n, v)) => (n.to_ascii_lowercase(), Some(v)),
            None => (tag.to_ascii_lowercase(), None),
        };
        let name_ok = !name.is_empty()
            && name.len() <= MAX_TAG_NAME
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(ApiError::field(
                &field,
                format!(
                    "{tag:?}: a tag is `name:value`; the name is 1 to {MAX_TAG_NAME} letters, \
                     digits, `-` or `_`"
                ),
            ));
        }
        if let Some(v) = value {
            if v.chars().count() > MAX_TAG_VALUE || v.contains(['\n', '\r']) {
                return Err(ApiError::field(
                    &field,
                    format!("the value is one line of at most {MAX_TAG_VALUE} characters"),
                ));
            }
        }
        let tag = match value {
            Some(v) => format!("{name}:{v}"),
            None => name.clone(),
        };
        if out
            .iter()
            .any(|t| t.split(':').next() == Some(name.as_str()))
        {
            return Err(ApiError::field(
                &field,
                format!("the tag name {name:?} is given twice"),
            ));
        }
        out.push(tag);
    }
    out.sort();
    Ok(out)
}

/// `settings` as the provider takes them. Each one asks for something only the provider's
/// proxy or resolver does, so each is accepted only as `false`; stored as given.
fn parse_settings(t: u16, value: &serde_json::Value) -> Result<Option<String>, ApiError> {
    let obj = match value {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::Object(o) => o,
        _ => return Err(ApiError::field("settings", "must be an object")),
    };
    for (key, v) in obj {
        let field = format!("settings.{key}");
        let applies = match key.as_str() {
            "ipv4_only" | "ipv6_only" => matches!(t, rtype::A | rtype::AAAA | rtype::CNAME),
            "flatten_cname" => t == rtype::CNAME,
            _ => {
                return Err(ApiError::field(
                    &field,
                    "unknown setting (known: ipv4_only, ipv6_only, flatten_cname)",
                ))
            }
        };
        if !applies {
            return Err(ApiError::field(
                &field,
                format!("does not apply to {} records", rtype_name(t)),
            ));
        }
        match v.as_bool() {
            Some(false) => {}
            Some(true) if key == "flatten_cname" => {
                return Err(ApiError::field(
                    &field,
                    "CNAME flattening is the provider's resolver at work; Tandem serves the \
                     CNAME as it is",
                ))
            }
            Some(true) => {
                return Err(ApiError::field(
                    &field,
                    "needs the provider's proxy; Tandem serves DNS only",
                ))
            }
            None => return Err(ApiError::field(&field, "must be true or false")),
        }
    }
    Ok((!obj.is_empty()).then(|| value.to_string()))
}

/// `{"id"}` naming a record to delete in a batch.
#[derive(Deserialize, ToSchema, Debug)]
pub struct BatchId {
    pub id: String,
}

/// The body of a batch: each list optional, applied in the order deletes, patches, puts,
/// posts.
#[derive(Deserialize, ToSchema, Debug, Default)]
pub struct BatchRequest {
    #[serde(default, deserialize_with = "crate::envelope::null_as_default")]
    pub deletes: Vec<BatchId>,
    #[serde(default, deserialize_with = "crate::envelope::null_as_default")]
    pub patches: Vec<RecordInput>,
    #[serde(default, deserialize_with = "crate::envelope::null_as_default")]
    pub puts: Vec<RecordInput>,
    #[serde(default, deserialize_with = "crate::envelope::null_as_default")]
    pub posts: Vec<RecordInput>,
}

/// The records each list of a batch touched (deletes: as they were).
#[derive(Serialize, ToSchema, Debug, Default)]
pub struct BatchResult {
    pub deletes: Vec<RecordOut>,
    pub patches: Vec<RecordOut>,
    pub puts: Vec<RecordOut>,
    pub posts: Vec<RecordOut>,
}

#[utoipa::path(post, path = "/client/v4/zones/{zone_id}/dns_records/batch", operation_id = "dns_records_batch", tag = "DNS records",
    params(("zone_id" = String, Path)), request_body = BatchRequest,
    responses((status = 200, body = Envelope<BatchResult>)),
    security(("bearer" = [])))]
pub async fn batch(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
    ApiJson(req): ApiJson<BatchRequest>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    let counts = [
        req.deletes.len(),
        req.patches.len(),
        req.puts.len(),
        req.posts.len(),
    ];
    let mut ops = Vec::with_capacity(counts.iter().sum());
    for (i, d) in req.deletes.into_iter().enumerate() {
        ops.push((format!("deletes[{i}]"), Op::Delete(d.id)));
    }
    for (list, items, patch) in [("patches", req.patches, true), ("puts", req.puts, false)] {
        for (i, mut item) in items.into_iter().enumerate() {
            let label = format!("{list}[{i}]");
            let id = item
                .id
                .take()
                .ok_or_else(|| ApiError::field(&format!("{label}.id"), "required"))?;
            ops.push((
                label,
                if patch {
                    Op::Patch(id, item)
                } else {
                    Op::Put(id, item)
                },
            ));
        }
    }
    for (i, item) in req.posts.into_iter().enumerate() {
        ops.push((format!("posts[{i}]"), Op::Post(item)));
    }
    state
        .run(move |s| {
            s.with_locked_zone(&caller, &zone_id, |zone| {
                let mut outcomes = run_ops(s, zone, ops)?.into_iter();
                let mut result = BatchResult::default();
                let lists = [
                    &mut result.deletes,
                    &mut result.patches,
                    &mut result.puts,
                    &mut result.posts,
                ];
                for (list, n) in lists.into_iter().zip(counts) {
                    for outcome in outcomes.by_ref().take(n) {
                        let (Outcome::Deleted(row) | Outcome::Record(row)) = outcome;
                        list.push(RecordOut::new(&row, &zone.name));
                    }
                }
                Ok(ok(result))
            })
        })
        .await
}
