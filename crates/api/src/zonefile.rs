//! Zone files in and out of a `full` zone (RFC 1035 §5): `POST .../dns_records/import`
//! (multipart field `file`; merge by default, `?replace=true` makes the zone exactly the file)
//! and `GET .../dns_records/export`, whose output imports back to the same records.

use crate::auth::{visible_zone, Caller};
use crate::change::{apex_of, commit, editable, Edit, RrLookup};
use crate::content::{AUTO_TTL, MIN_TTL};
use crate::envelope::{body_error, ok, ApiPath, ApiQuery, Envelope};
use crate::{ApiError, ApiState};
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tandem_store::{content_id, now, RecordRow, ZoneRow};
use tandem_zone::record::{rtype, rtype_name};
use tandem_zone::text::{parse_zonefile, record_to_line, ParsedLine};
use tandem_zone::{Name, Record, Soa, ZoneVersion};
use utoipa::{IntoParams, ToSchema};

/// Query of an import.
#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true`: the zone becomes exactly the file (our extension). Default: merge.
    pub replace: Option<String>,
}

/// The multipart form of an import.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// An RFC 1035 zone file (no `$INCLUDE`).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// What an import did.
#[derive(Serialize, ToSchema, Debug)]
pub struct ImportResult {
    /// Records added to the zone (the SOA not counted).
    pub recs_added: u64,
    /// Records read from the file, SOA included.
    pub total_records_parsed: u64,
}

#[utoipa::path(post, path = "/client/v4/zones/{zone_id}/dns_records/import", operation_id = "dns_records_import", tag = "DNS records",
    params(("zone_id" = String, Path), ImportQuery),
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Envelope<ImportResult>)),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    caller.require_write()?;
    let replace = match q.replace.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") | Some("0") | Some("") => false,
        Some("true") | Some("1") => true,
        Some(_) => return Err(ApiError::field("replace", "must be true or false")),
    };
    let mut form = form.map_err(|e| {
        ApiError::field(
            "file",
            format!(
                "expected multipart/form-data with a field named file ({})",
                e.body_text()
            ),
        )
    })?;
    let mut file: Option<Bytes> = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| body_error(e.status(), e.body_text()))?
    {
        if field.name() == Some("file") {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| body_error(e.status(), e.body_text()))?;
            file = Some(bytes);
        }
    }
    let file = file.ok_or_else(|| ApiError::field("file", "required"))?;
    std::str::from_utf8(&file).map_err(|_| ApiError::field("file", "not UTF-8 text"))?;
    state
        .run(move |s| {
            s.with_locked_zone(&caller, &zone_id, |zone| {
                // Checked above; the bytes are not copied again.
                let text = std::str::from_utf8(&file)
                    .map_err(|_| ApiError::field("file", "not UTF-8 text"))?;
                Ok(ok(import_text(s, zone, text, replace)?))
            })
        })
        .await
}

/// Parses and checks a whole file, then commits it as one change (or none, when the zone
/// already holds everything in it).
fn import_text(
    state: &ApiState,
    zone: &ZoneRow,
    text: &str,
    replace: bool,
) -> Result<ImportResult, ApiError> {
    let (_, version) = editable(state, zone)?;
    let apex = apex_of(zone)?;
    let parsed =
        parse_zonefile(text, &apex, AUTO_TTL).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let total_records_parsed = parsed.len() as u64;
    let file = check_lines(&apex, parsed)?;
    let mut edit = Edit::default();
    if let Some(soa) = &file.soa {
        let mut row = state
            .store()
            .soa_record(&zone.id)?
            .ok_or_else(|| ApiError::internal(format!("zone {} has no stored SOA", zone.name)))?;
        row.record = soa.clone();
        edit.imported_serial = Soa::from_rdata(&soa.rdata).map(|s| s.serial);
        edit.soa = Some(row);
    }
    let mut wanted = file.records;
    if replace {
        fn key(r: &Record) -> (&Name, u16, &Bytes) {
            (&r.owner, r.rtype, &r.rdata)
        }
        // The zone's records are its version's; those with a row are known by the row's id.
        let row_list = state.store().record_keys(&zone.id)?;
        let rows: foldhash::HashMap<(&Name, u16, &Bytes), &str> = row_list
            .iter()
            .map(|(id, r)| (key(r), id.as_str()))
            .collect();
        let old: Vec<Record> = version
            .records()
            .filter(|r| r.rtype != rtype::SOA)
            .collect();
        // Which wanted record each old one is, if any: the smaller side is indexed (a file
        // imported into a new zone meets two old records, not a million).
        let mut matched: Vec<Option<usize>> = vec![None; old.len()];
        if old.len() <= wanted.len() {
            let index: foldhash::HashMap<(&Name, u16, &Bytes), usize> =
                old.iter().enumerate().map(|(j, o)| (key(o), j)).collect();
            for (i, w) in wanted.iter().enumerate() {
                if let Some(&j) = index.get(&key(w)) {
                    matched[j] = Some(i);
                }
            }
        } else {
            let index: foldhash::HashMap<(&Name, u16, &Bytes), usize> = wanted
                .iter()
                .enumerate()
                .map(|(i, w)| (key(w), i))
                .collect();
            for (j, o) in old.iter().enumerate() {
                matched[j] = index.get(&key(o)).copied();
            }
        }
        let mut keep = vec![false; wanted.len()];
        for (old, matched) in old.into_iter().zip(matched) {
            let id = rows.get(&key(&old)).map(|id| id.to_string());
            match (matched, id) {
                (None, Some(id)) => edit.deletes.push((id, old)),
                (None, None) => edit.bare_removed.push(old),
                (Some(i), _) if wanted[i].ttl == old.ttl => keep[i] = true,
                (Some(i), Some(id)) => {
                    keep[i] = true;
                    let mut row = state
                        .store()
                        .record(&zone.id, &id)?
                        .ok_or_else(|| ApiError::internal("row vanished"))?;
                    row.record.ttl = wanted[i].ttl;
                    row.auto_ttl = false;
                    row.modified = now();
                    edit.updates.push((old, row));
                }
                // A record without a row that changes its TTL is taken out and added again.
                (Some(i), None) => {
                    keep[i] = true;
                    edit.bare_added.push(wanted[i].clone());
                    edit.bare_removed.push(old);
                }
            }
        }
        let mut keep = keep.into_iter();
        wanted.retain(|_| !keep.next().unwrap_or(false));
    } else {
        let mut existing = RrLookup::new(&version);
        wanted.retain(|r| !existing.has(r));
    }
    // Imported records have no row and go by their content id, unless a row already took
    // that id over (its record had it, then changed content): such a record gets a row.
    let taken: foldhash::HashSet<String> = state
        .store()
        .taken_content_ids(&zone.id)?
        .into_iter()
        .collect();
    let at = now();
    let recs_added = wanted.len() as u64;
    for r in wanted {
        if !taken.is_empty() && taken.contains(&content_id(&zone.id, &r)) {
            edit.inserts.push(RecordRow::new(&zone.id, r, at));
        } else {
            edit.bare_added.push(r);
        }
    }
    // The file's records are distinct (`check_lines`), and those kept are not in the zone
    // unless taken out above.
    edit.added_distinct = true;
    let result = ImportResult {
        recs_added,
        total_records_parsed,
    };
    commit(state, zone, edit)?;
    Ok(result)
}

/// The records of a file once its lines are checked: the SOA apart, duplicates dropped.
struct FileRecords {
    soa: Option<Record>,
    records: Vec<Record>,
}

/// Checks what the zone rules say about single lines, naming the line; the rules about the
/// zone as a whole are checked when the next version is built.
fn check_lines(apex: &Name, parsed: Vec<ParsedLine>) -> Result<FileRecords, ApiError> {
    let mut soa = None;
    let mut seen = foldhash::HashSet::with_capacity_and_hasher(parsed.len(), Default::default());
    let mut keep = vec![false; parsed.len()];
    for (i, ParsedLine { line, record: r }) in parsed.iter().enumerate() {
        let bad = |m: String| ApiError::bad_request(format!("line {line}: {m}"));
        if !r.owner.ends_with(apex) {
            return Err(bad(format!(
                "{} is outside the zone {}",
                r.owner.to_api(),
                apex.to_api()
            )));
        }
        // The API's rule (30..=2^31-1, RFC 2181 §8) holds for imports too: a TTL the API
        // refuses is not let in through a file. Transfers in keep the primary's TTLs.
        if r.ttl < MIN_TTL {
            return Err(bad(format!(
                "TTL {} is below {MIN_TTL}, the lowest a zone here takes",
                r.ttl
            )));
        }
        if r.rtype == 0 || r.rtype == rtype::OPT || (128..=255).contains(&r.rtype) {
            return Err(bad(format!(
                "{} records cannot be stored in a zone",
                rtype_name(r.rtype)
            )));
        }
        if r.rtype == rtype::SOA {
            if r.owner != *apex {
                return Err(bad(format!(
                    "SOA record at {}: an SOA may only be at the zone apex",
                    r.owner.to_api()
                )));
            }
            if soa.is_some() {
                return Err(bad("a second SOA record (a zone has exactly one)".into()));
            }
            soa = Some(r.clone());
        } else {
            keep[i] = seen.insert((&r.owner, r.rtype, &r.rdata));
        }
    }
    drop(seen);
    let records = parsed
        .into_iter()
        .zip(keep)
        .filter_map(|(p, keep)| keep.then_some(p.record))
        .collect();
    Ok(FileRecords { soa, records })
}

#[utoipa::path(get, path = "/client/v4/zones/{zone_id}/dns_records/export", operation_id = "dns_records_export", tag = "DNS records",
    params(("zone_id" = String, Path)),
    responses((status = 200, description = "The zone file", content_type = "text/plain", body = String)),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(zone_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let text = state
        .run(move |s| {
            let zone = visible_zone(s, &caller, &zone_id)?;
            let version = s.zones().get(&apex_of(&zone)?).and_then(|z| z.current());
            Ok(zone_text(&zone, version.as_deref()))
        })
        .await?;
    Ok(([(CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// A zone file of the version: SOA first, then by owner and type.
fn zone_text(zone: &ZoneRow, version: Option<&ZoneVersion>) -> String {
    let mut out = format!(
        "; zone {}, exported by Tandem\n$ORIGIN {}.\n",
        zone.name, zone.name
    );
    let Some(version) = version else {
        out.push_str("; no data yet\n");
        return out;
    };
    let mut records: Vec<Record> = version.records().collect();
    let soa = records.remove(0);
    records.sort_by(|a, b| (&a.owner, a.rtype, &a.rdata).cmp(&(&b.owner, b.rtype, &b.rdata)));
    for r in std::iter::once(&soa).chain(&records) {
        out.push_str(&record_to_line(r));
        out.push('\n');
    }
    out
}
