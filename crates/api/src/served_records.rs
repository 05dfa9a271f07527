//! The records of a zone as the API lists and reads them, taken from the version being
//! served. A `secondary` zone's records have no rows in the store (they live in its snapshot
//! and journal). A `full` zone's live there too, and its rows hold only what the API
//! remembers of some of them: an id that is not their content id, a comment, tags, settings,
//! an automatic TTL, their times. A record without a row goes by its content id
//! ([`content_id`]) and has no metadata.
//!
//! [`list_served`] gives the same answer as `Store::list_records` gives for a zone holding the
//! same records as rows (README "Listing records"): the same filters with the same truth
//! values, the same order and the same pages. A record without a row has no comment, no tags
//! and no settings, so every condition on those has a fixed value (what SQL's `NULL` comment
//! and missing tag rows make of it); the rows a zone has are filtered by the store itself and
//! merged in. Text conditions are those of SQLite's `LIKE` with every wildcard of the value
//! escaped: ASCII case is ignored, every other character compares exactly.

use crate::change::apex_of;
use crate::{ApiError, ApiState};
use bytes::Bytes;
use std::cell::OnceCell;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::rc::Rc;
use std::sync::Arc;
use tandem_store::{
    content_id, Page, RecordFilter, RecordMeta, RecordOrder, RecordRow, TagFilter, TextFilter,
    TextOp, ZoneRow,
};
use tandem_zone::name::write_presentation;
use tandem_zone::text::api_content;
use tandem_zone::{Name, NodeRef, Record, ZoneVersion};

/// The version a zone serves now; `None` while a secondary zone is pending (never transferred)
/// or not loaded.
pub(crate) fn served_version(
    state: &ApiState,
    zone: &ZoneRow,
) -> Result<Option<Arc<ZoneVersion>>, ApiError> {
    Ok(state.zones().get(&apex_of(zone)?).and_then(|z| z.current()))
}

/// One page of the version's records matching `filter`, in its order, and how many match in
/// all: what `Store::list_records` answers for a zone holding the same records.
pub(crate) fn list_served(
    zone: &ZoneRow,
    version: &ZoneVersion,
    filter: &RecordFilter,
    page: Page,
    shown: &ShownIds,
) -> (Vec<RecordRow>, u64) {
    list_merged(zone, version, filter, page, &Rows::default(), &[], shown)
}

/// The records of a `full` zone's version without a row, with the zone's rows that the store
/// finds for `filter` merged in: one page, and how many match in all.
///
/// The version and the rows are taken together under the zone's write lock, so that no
/// change falls between them (a record listed from both, or from neither); the page is made
/// after the lock is let go.
pub(crate) fn list_full(
    state: &ApiState,
    zone: &ZoneRow,
    filter: &RecordFilter,
    page: Page,
) -> Result<(Vec<RecordRow>, u64), ApiError> {
    let all = Page {
        page: 1,
        per_page: u64::MAX,
    };
    let (version, matching, rows) = state.with_zone_lock(&zone.id, || {
        let version = loaded(state, zone)?;
        let (matching, _) = state.store().list_records(&zone.id, filter, all)?;
        let rows = Rows::of(&state.store().record_keys(&zone.id)?);
        Ok::<_, ApiError>((version, matching, rows))
    })?;
    Ok(list_merged(
        zone,
        &version,
        filter,
        page,
        &rows,
        &matching,
        state.shown_ids(),
    ))
}

/// [`full_record`] of the version being served, read under the zone's write lock (see
/// [`list_full`]).
pub(crate) fn read_full_record(
    state: &ApiState,
    zone: &ZoneRow,
    id: &str,
) -> Result<Option<RecordRow>, ApiError> {
    state.with_zone_lock(&zone.id, || {
        full_record(state, zone, &*loaded(state, zone)?, id)
    })
}

/// The version a `full` zone serves; every full zone has one once loaded.
fn loaded(state: &ApiState, zone: &ZoneRow) -> Result<Arc<ZoneVersion>, ApiError> {
    served_version(state, zone)?
        .ok_or_else(|| ApiError::internal(format!("zone {} is not loaded", zone.name)))
}

/// The record of a `full` zone whose id is `id`: its row, or else a record without a row
/// whose content id is `id`. A record with a row goes by the row's id alone. Call with the
/// zone's write lock held, and `version` the one it serves.
pub(crate) fn full_record(
    state: &ApiState,
    zone: &ZoneRow,
    version: &ZoneVersion,
    id: &str,
) -> Result<Option<RecordRow>, ApiError> {
    if let Some(row) = state.store().record(&zone.id, id)? {
        return Ok(Some(row));
    }
    let Some(found) = served_record(zone, version, id, state.shown_ids()) else {
        return Ok(None);
    };
    Ok(match state.store().record_row(&zone.id, &found.record)? {
        Some(_) => None,
        None => Some(found),
    })
}

/// The records of a zone that have a row (owner, type and RDATA), to leave out of the
/// version's when the rows themselves are listed.
#[derive(Default)]
pub(crate) struct Rows {
    keys: foldhash::HashSet<Vec<u8>>,
}

impl Rows {
    fn of(rows: &[(String, Record)]) -> Rows {
        let mut keys = foldhash::HashSet::with_capacity_and_hasher(rows.len(), Default::default());
        let mut buf = Vec::new();
        for (_, r) in rows {
            key_into(&mut buf, r.owner.as_wire(), r.rtype, &r.rdata);
            keys.insert(buf.clone());
        }
        Rows { keys }
    }

    /// Whether the record has a row; `buf` is scratch space.
    fn holds(&self, buf: &mut Vec<u8>, owner: &[u8], rtype: u16, rdata: &[u8]) -> bool {
        if self.keys.is_empty() {
            return false;
        }
        key_into(buf, owner, rtype, rdata);
        self.keys.contains(buf.as_slice())
    }
}

/// One octet string for owner, type and RDATA: the owner's length first, so no two records
/// meet in one key.
fn key_into(buf: &mut Vec<u8>, owner: &[u8], rtype: u16, rdata: &[u8]) {
    buf.clear();
    buf.push(owner.len() as u8);
    buf.extend_from_slice(owner);
    buf.extend_from_slice(&rtype.to_be_bytes());
    buf.extend_from_slice(rdata);
}

/// One page of the version's records without a row (`rows`) matching `filter`, merged with
/// `stored`, the rows the store found for it, in the filter's order; and how many match in
/// all.
///
/// Records alike in the order's keys go by id (where the store's go by the age of their
/// rows), and `descending` reverses that too, so pages neither skip nor repeat a record.
///
/// With `name` (exact) given and `match=all` (octoDNS, certbot and lexicon ask
/// `?name=x&type=TXT`), only the nodes named are read; otherwise every record is. Text is
/// made only where a condition or the order needs it, and the rows only for the page.
fn list_merged(
    zone: &ZoneRow,
    version: &ZoneVersion,
    filter: &RecordFilter,
    page: Page,
    rows: &Rows,
    stored: &[RecordRow],
    shown: &ShownIds,
) -> (Vec<RecordRow>, u64) {
    let mut hits = Vec::new();
    let mut buf = Vec::new();
    let mut scan = |owner: &[u8], node| scan_node(owner, node, filter, rows, &mut buf, &mut hits);
    match exact_names(filter) {
        Some(names) => {
            for name in &names {
                if let Some(node) = version.node(name.as_wire()) {
                    scan(name.as_wire(), node);
                }
            }
        }
        None => {
            for (owner, node) in version.nodes() {
                scan(owner, node);
            }
        }
    }
    hits.extend(stored.iter().map(Hit::stored));
    let total = hits.len();
    // Both are at most i64::MAX, so they fit a usize on 64-bit targets; saturate elsewhere.
    let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let limit = usize::try_from(page.limit()).unwrap_or(usize::MAX);
    let start = offset.min(total);
    let end = start.saturating_add(limit).min(total);
    if start == end {
        return (Vec::new(), total as u64);
    }
    let order = |a: &Hit<'_>, b: &Hit<'_>| directed(filter, primary_cmp(filter.order, a, b));
    if end < total {
        // Only the first `end` records in the order matter, with those the order's keys do not
        // tell apart from the last of them: a selection in linear time, then a sort of those.
        let (_, last, rest) = hits.select_nth_unstable_by(end - 1, order);
        let mut ties = 0;
        for i in 0..rest.len() {
            if order(&rest[i], last) == Ordering::Equal {
                rest.swap(i, ties);
                ties += 1;
            }
        }
        hits.truncate(end + ties);
    }
    hits.sort_unstable_by(order);
    // Records the order's keys do not tell apart go by id. Only the runs of such records that
    // reach into the page need their ids: the others do not change what the page holds.
    let mut lo = start;
    while lo > 0 && order(&hits[lo - 1], &hits[lo]) == Ordering::Equal {
        lo -= 1;
    }
    let mut hi = end;
    while hi < hits.len() && order(&hits[hi - 1], &hits[hi]) == Ordering::Equal {
        hi += 1;
    }
    let mut window: Vec<(String, Hit<'_>)> = hits
        .into_iter()
        .skip(lo)
        .take(hi - lo)
        .map(|hit| {
            let id = match hit.stored {
                Some(row) => row.id.clone(),
                None => content_id(&zone.id, &hit.record()),
            };
            (id, hit)
        })
        .collect();
    window.sort_by(|(a_id, a), (b_id, b)| {
        directed(
            filter,
            primary_cmp(filter.order, a, b).then_with(|| a_id.cmp(b_id)),
        )
    });
    let rows: Vec<RecordRow> = window
        .into_iter()
        .skip(start - lo)
        .take(end - start)
        .map(|(id, hit)| {
            if let Some(row) = hit.stored {
                return row.clone();
            }
            let record = hit.record();
            let name = hit.owner.api().to_string();
            let (content, priority) = hit
                .content
                .into_inner()
                .unwrap_or_else(|| api_content(&record));
            let row = row(zone, id, name, record, content, priority);
            shown.remember(&row);
            row
        })
        .collect();
    (rows, total as u64)
}

/// Records without a row that a listing or a read lately showed, by id: a client lists (or
/// reads), then edits by id (octoDNS, certbot and lexicon do), and the edit then finds its
/// record at once instead of computing the content id of every record of the zone. What it
/// holds is a hint, checked against the version; it forgets everything when full.
#[derive(Default)]
pub(crate) struct ShownIds(std::sync::Mutex<foldhash::HashMap<String, (String, Record)>>);

/// Most ids [`ShownIds`] holds (a few MB).
const SHOWN_MAX: usize = 1 << 15;

impl ShownIds {
    fn remember(&self, row: &RecordRow) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SHOWN_MAX {
            map.clear();
        }
        map.insert(row.id.clone(), (row.zone_id.clone(), row.record.clone()));
    }

    /// The record of `version` shown under `id` in zone `zone`, with its TTL now.
    fn find(&self, zone: &ZoneRow, version: &ZoneVersion, id: &str) -> Option<Record> {
        let (zone_id, record) = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()?;
        if zone_id != zone.id {
            return None;
        }
        let set = version.node(record.owner.as_wire())?.rrset(record.rtype)?;
        let ttl = set
            .members()
            .find_map(|(rdata, ttl)| (rdata == record.rdata.as_ref()).then_some(ttl))?;
        Some(Record { ttl, ..record })
    }
}

/// The version's record whose id ([`content_id`]) is `id`, as the API shows it.
///
/// A record a listing or a read lately showed is found at once ([`ShownIds`]). Otherwise
/// every record's id is computed until the first that matches; nothing else is made for the
/// records passed over. An id that no record can have (not 32 lowercase hex digits) is not
/// looked for at all.
pub(crate) fn served_record(
    zone: &ZoneRow,
    version: &ZoneVersion,
    id: &str,
    shown: &ShownIds,
) -> Option<RecordRow> {
    if !could_be_content_id(id) {
        return None;
    }
    let (record, found) = match shown.find(zone, version, id) {
        Some(record) => (record, false),
        None => {
            let record = version
                .records()
                .find(|record| content_id(&zone.id, record) == id)?;
            (record, true)
        }
    };
    let (content, priority) = api_content(&record);
    let name = record.owner.to_api();
    let row = row(zone, id.to_string(), name, record, content, priority);
    // Found by a scan: a read by id is mostly followed by a change by that id.
    if found {
        shown.remember(&row);
    }
    Some(row)
}

/// Whether `id` has the form of every [`content_id`]: 32 lowercase hex digits.
fn could_be_content_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The row of a served record. A transferred record keeps no time of its own, so it is shown
/// as created and modified at the zone's last change (`zone.modified`); it has no comment,
/// tags or settings, and its TTL is its own (never automatic).
fn row(
    zone: &ZoneRow,
    id: String,
    name: String,
    record: Record,
    content: String,
    priority: Option<u16>,
) -> RecordRow {
    RecordRow {
        id,
        zone_id: zone.id.clone(),
        record,
        name,
        content,
        priority,
        auto_ttl: false,
        meta: RecordMeta::default(),
        created: zone.modified,
        modified: zone.modified,
    }
}

/// The only names a record can have to match, when the filter says so: with every condition
/// required (`match=all`), an exact name filter holds only for the names it lists. `None` when
/// every record must be looked at (including when a value is not a name at all, which only a
/// full look can answer as the store would).
fn exact_names(filter: &RecordFilter) -> Option<BTreeSet<Name>> {
    if filter.match_any {
        return None;
    }
    let exact = filter.name.iter().find(|f| f.op == TextOp::Exact)?;
    exact
        .values
        .iter()
        .map(|v| Name::parse(&v.to_ascii_lowercase()).ok())
        .collect()
}

/// An owner name of the version, its API form made on first need and shared by its records.
struct Owner {
    name: Name,
    api: OnceCell<String>,
}

impl Owner {
    /// The name as the API shows it (`www.example.com`): what [`Name::to_api`] gives, written
    /// straight into one string, in a third of its time (which counts over a million names).
    fn api(&self) -> &str {
        self.api.get_or_init(|| {
            let wire = self.name.as_wire();
            let mut text = String::with_capacity(wire.len() + 8);
            if write_presentation(wire, &mut text).is_err() {
                return self.name.to_api();
            }
            // Without the trailing dot; the root stays `.`.
            if text.len() > 1 {
                text.pop();
            }
            text
        })
    }
}

/// One record of the version, read in place, its API content made on first need; or one of
/// the zone's rows.
struct Hit<'v> {
    owner: Rc<Owner>,
    rtype: u16,
    ttl: u32,
    rdata: &'v [u8],
    content: OnceCell<(String, Option<u16>)>,
    stored: Option<&'v RecordRow>,
}

impl<'v> Hit<'v> {
    /// A row of the zone, which the store has already filtered.
    fn stored(row: &'v RecordRow) -> Hit<'v> {
        Hit {
            owner: Rc::new(Owner {
                name: row.record.owner.clone(),
                api: OnceCell::from(row.name.clone()),
            }),
            rtype: row.record.rtype,
            ttl: row.record.ttl,
            rdata: &row.record.rdata,
            content: OnceCell::from((row.content.clone(), row.priority)),
            stored: Some(row),
        }
    }

    /// The record itself (copies the owner and RDATA).
    fn record(&self) -> Record {
        Record::new(
            self.owner.name.clone(),
            self.rtype,
            self.ttl,
            Bytes::copy_from_slice(self.rdata),
        )
    }

    /// The owner in API form.
    fn name(&self) -> &str {
        self.owner.api()
    }

    /// The content as the API shows it (`tandem_zone::text::api_content`).
    fn content(&self) -> &str {
        &self.content.get_or_init(|| api_content(&self.record())).0
    }
}

/// Adds every record of `node` (owned by `owner`, lowercase wire form) that `filter` keeps
/// and that has no row (`rows`; `buf` is scratch space).
fn scan_node<'v>(
    owner: &[u8],
    node: NodeRef<'v>,
    filter: &RecordFilter,
    rows: &Rows,
    buf: &mut Vec<u8>,
    out: &mut Vec<Hit<'v>>,
) {
    // With every condition required, a type condition rules the other sets out unread.
    let only = filter.rtype.filter(|_| !filter.match_any);
    let mut shared: Option<Rc<Owner>> = None;
    for set in node.rrsets() {
        if only.is_some_and(|t| t != set.rtype()) {
            continue;
        }
        for (rdata, ttl) in set.members() {
            if rows.holds(buf, owner, set.rtype(), rdata) {
                continue;
            }
            let owner = match &shared {
                Some(o) => o.clone(),
                None => {
                    // A version's owners are valid names; one that was not could hold nothing.
                    let Ok(name) = Name::from_wire(owner) else {
                        return;
                    };
                    let o = Rc::new(Owner {
                        name,
                        api: OnceCell::new(),
                    });
                    shared = Some(o.clone());
                    o
                }
            };
            let hit = Hit {
                owner,
                rtype: set.rtype(),
                ttl,
                rdata,
                content: OnceCell::new(),
                stored: None,
            };
            if keeps(filter, &hit) {
                out.push(hit);
            }
        }
    }
}

/// The conditions of a filter as one, joined by AND (`match=all`) or OR (`match=any`): a
/// condition that settles the join ends it.
struct Join {
    any: bool,
    seen: bool,
}

impl Join {
    /// Adds one condition's value; `Break` with the join's value once it is settled.
    fn add(&mut self, value: bool) -> ControlFlow<bool> {
        self.seen = true;
        if value == self.any {
            ControlFlow::Break(value)
        } else {
            ControlFlow::Continue(())
        }
    }

    /// The join's value when no condition settled it: true when there were none (nothing
    /// given matches everything), else true for AND and false for OR.
    fn end(&self) -> bool {
        !self.seen || !self.any
    }
}

/// Whether `filter` keeps the record: its conditions joined as `match` says, and `search` on
/// top (as the store's `WHERE`).
fn keeps(filter: &RecordFilter, hit: &Hit<'_>) -> bool {
    let joined = match conditions(filter, hit) {
        ControlFlow::Break(value) => value,
        ControlFlow::Continue(join) => join.end(),
    };
    joined
        && filter.search.as_deref().is_none_or(|s| {
            like(TextOp::Contains, hit.name(), s) || like(TextOp::Contains, hit.content(), s)
        })
}

/// Each condition of the filter in the store's order, cheapest first where the order does
/// not matter to the answer. A record of a secondary zone has no comment (SQL `NULL`: every
/// comparison with it fails, and it counts as absent) and no tags (a tag must be there fails,
/// must be absent holds).
fn conditions(filter: &RecordFilter, hit: &Hit<'_>) -> ControlFlow<bool, Join> {
    let mut join = Join {
        any: filter.match_any,
        seen: false,
    };
    if let Some(t) = filter.rtype {
        join.add(hit.rtype == t)?;
    }
    for f in &filter.name {
        join.add(name_holds(f, hit.name()))?;
    }
    for f in &filter.content {
        join.add(f.values.iter().any(|v| like(f.op, hit.content(), v)))?;
    }
    for _ in &filter.comment {
        join.add(false)?;
    }
    for present in &filter.comment_present {
        join.add(!present)?;
    }
    if !filter.tags.is_empty() {
        let mut tags = filter
            .tags
            .iter()
            .map(|t| matches!(t, TagFilter::Absent(_)));
        let value = if filter.tag_match_any {
            tags.any(|held| held)
        } else {
            tags.all(|held| held)
        };
        join.add(value)?;
    }
    if let Some(proxied) = filter.proxied {
        join.add(!proxied)?;
    }
    ControlFlow::Continue(join)
}

/// A name filter: any of its values. `Exact` is the store's `name = lower(value)` (the stored
/// name is lowercase); the others are its `LIKE`. No values is false.
fn name_holds(f: &TextFilter, name: &str) -> bool {
    f.values.iter().any(|v| match f.op {
        TextOp::Exact => {
            name.len() == v.len()
                && name
                    .bytes()
                    .zip(v.bytes())
                    .all(|(n, v)| n == v.to_ascii_lowercase())
        }
        op => like(op, name, v),
    })
}

/// SQLite's `text LIKE pattern ESCAPE '\'` for the pattern `like_pattern(op, value)` makes:
/// every `%`, `_` and `\` of the value escaped, so only the `%` the op adds is a wildcard. LIKE
/// ignores the case of ASCII letters only; UTF-8 is compared byte by byte, which matches only
/// at character boundaries since no byte of a multi-byte character is ASCII.
fn like(op: TextOp, text: &str, value: &str) -> bool {
    let (t, v) = (text.as_bytes(), value.as_bytes());
    match op {
        TextOp::Exact => t.eq_ignore_ascii_case(v),
        TextOp::StartsWith => t.len() >= v.len() && t[..v.len()].eq_ignore_ascii_case(v),
        TextOp::EndsWith => t.len() >= v.len() && t[t.len() - v.len()..].eq_ignore_ascii_case(v),
        TextOp::Contains => v.is_empty() || t.windows(v.len()).any(|w| w.eq_ignore_ascii_case(v)),
    }
}

/// The store's order of two records before its last tie-break: by name and type, by type and
/// name, by content, name and type, or by TTL, name and type; text compared byte by byte
/// (SQLite's `BINARY`). Ascending.
fn primary_cmp(order: RecordOrder, a: &Hit<'_>, b: &Hit<'_>) -> Ordering {
    let names = || {
        if Rc::ptr_eq(&a.owner, &b.owner) {
            Ordering::Equal
        } else {
            a.name().cmp(b.name())
        }
    };
    let name_type = || names().then(a.rtype.cmp(&b.rtype));
    match order {
        RecordOrder::Name | RecordOrder::Proxied => name_type(),
        RecordOrder::Type => a.rtype.cmp(&b.rtype).then_with(names),
        RecordOrder::Content => a.content().cmp(b.content()).then_with(name_type),
        RecordOrder::Ttl => a.ttl.cmp(&b.ttl).then_with(name_type),
    }
}

/// `ordering` as the filter's direction wants it: `descending` reverses every key.
fn directed(filter: &RecordFilter, ordering: Ordering) -> Ordering {
    if filter.descending {
        ordering.reverse()
    } else {
        ordering
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use tandem_store::prelude::*;
    use tandem_store::{new_id, now, Store, ZoneKind};
    use tandem_zone::record::{rtype, rtype_name};
    use tandem_zone::text::parse_zonefile;

    /// [`super::list_served`] with a cache of its own.
    fn list_served(
        zone: &ZoneRow,
        version: &ZoneVersion,
        filter: &RecordFilter,
        page: Page,
    ) -> (Vec<RecordRow>, u64) {
        super::list_served(zone, version, filter, page, &ShownIds::default())
    }

    /// [`super::served_record`] with nothing shown before.
    fn served_record(zone: &ZoneRow, version: &ZoneVersion, id: &str) -> Option<RecordRow> {
        super::served_record(zone, version, id, &ShownIds::default())
    }

    /// A zone whose names and contents hold what the filters are careful about: LIKE's
    /// wildcards (`%`, `_`) and escape (`\`) in names and contents, mixed ASCII case in content,
    /// octets outside ASCII, RRsets of several records (ties of name and type, members with
    /// their own TTL), MX records that differ only in priority, the same content at several
    /// names (ties of content), and a name below an empty non-terminal.
    const ZONE: &str = r#"
@            3600 IN SOA ns1.example.com. hostmaster.example.com. 7 3600 600 86400 300
@            3600 IN NS ns1.example.com.
@            3600 IN NS ns2.example.com.
@             300 IN MX 10 mail.example.com.
@             300 IN MX 20 mail.example.com.
@             300 IN TXT "v=spf1 -all"
www           300 IN A 192.0.2.1
www           600 IN A 192.0.2.2
www           300 IN AAAA 2001:db8::1
wxw           300 IN A 192.0.2.7
w_w           300 IN A 192.0.2.8
mail          600 IN A 192.0.2.3
ns1          3600 IN A 192.0.2.53
_acme-challenge 120 IN TXT "Token_One 100%"
_acme-challenge 120 IN TXT "token2"
pct%          300 IN TXT "50%off"
back\\slash   300 IN TXT "c:\\dir"
a\.b          300 IN CNAME www.example.com.
caf\195\169   300 IN TXT "caf\195\169"
_sip._tcp     300 IN SRV 10 5 5060 sip.example.com.
deep.sub      300 IN A 192.0.2.4
alias         300 IN A 192.0.2.1
alias2        300 IN A 192.0.2.1
b             300 IN A 192.0.2.1
other         300 IN TXT "token2"
"#;

    /// Records in [`ZONE`].
    const COUNT: usize = 25;

    fn apex() -> Name {
        Name::parse("example.com").unwrap()
    }

    /// The records of a zone file of `example.com`.
    fn records_of(text: &str) -> Vec<Record> {
        parse_zonefile(text, &apex(), 300)
            .unwrap()
            .into_iter()
            .map(|p| p.record)
            .collect()
    }

    fn version_of(text: &str) -> ZoneVersion {
        ZoneVersion::build(apex(), records_of(text)).unwrap()
    }

    fn version() -> ZoneVersion {
        version_of(ZONE)
    }

    /// The secondary zone the rows are of, last changed at a fixed time.
    fn zone() -> ZoneRow {
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        ZoneRow {
            id: "0123456789abcdef0123456789abcdef".into(),
            account_id: "a".into(),
            name: "example.com".into(),
            kind: ZoneKind::Secondary,
            status: "active".into(),
            serial: 7,
            created: at,
            modified: at,
        }
    }

    const ALL: Page = Page {
        page: 1,
        per_page: 1000,
    };

    /// `(name, type, content, ttl)` of a row.
    type Shown = (String, String, String, u32);

    fn shown(r: &RecordRow) -> Shown {
        (
            r.name.clone(),
            rtype_name(r.record.rtype),
            r.content.clone(),
            r.record.ttl,
        )
    }

    fn shown_of(name: &str, t: &str, content: &str, ttl: u32) -> Shown {
        (name.into(), t.into(), content.into(), ttl)
    }

    /// Every row the version lists for `filter`, in order.
    fn rows(filter: &RecordFilter) -> Vec<RecordRow> {
        let (rows, total) = list_served(&zone(), &version(), filter, ALL);
        assert_eq!(total, rows.len() as u64);
        rows
    }

    /// What the version lists for `filter`, in order.
    fn list(filter: &RecordFilter) -> Vec<Shown> {
        rows(filter).iter().map(shown).collect()
    }

    /// The names listed for `filter`, in order.
    fn names(filter: &RecordFilter) -> Vec<String> {
        list(filter).into_iter().map(|s| s.0).collect()
    }

    fn text(op: TextOp, values: &[&str]) -> TextFilter {
        TextFilter {
            op,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn by_name(op: TextOp, values: &[&str]) -> RecordFilter {
        RecordFilter {
            name: vec![text(op, values)],
            ..RecordFilter::default()
        }
    }

    fn by_content(op: TextOp, values: &[&str]) -> RecordFilter {
        RecordFilter {
            content: vec![text(op, values)],
            ..RecordFilter::default()
        }
    }

    fn by_type(t: u16) -> RecordFilter {
        RecordFilter {
            rtype: Some(t),
            ..RecordFilter::default()
        }
    }

    #[test]
    fn every_record_is_listed_once_the_soa_included() {
        let mut got = list(&RecordFilter::default());
        assert_eq!(got.len(), COUNT);
        assert_eq!(version().record_count(), COUNT);
        assert_eq!(got.iter().filter(|s| s.1 == "SOA").count(), 1);
        let mut want: Vec<Shown> = version()
            .records()
            .map(|r| {
                let (content, _) = api_content(&r);
                (r.owner.to_api(), rtype_name(r.rtype), content, r.ttl)
            })
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn an_exact_name_ignores_case_and_looks_only_at_that_node() {
        let f = RecordFilter {
            rtype: Some(rtype::A),
            ..by_name(TextOp::Exact, &["WWW.Example.COM"])
        };
        assert_eq!(
            exact_names(&f).map(|n| n.len()),
            Some(1),
            "the direct lookup"
        );
        let mut got = list(&f);
        got.sort();
        assert_eq!(
            got,
            [
                shown_of("www.example.com", "A", "192.0.2.1", 300),
                shown_of("www.example.com", "A", "192.0.2.2", 600),
            ]
        );
        // Any of the values; the same name twice is listed once.
        let two = by_name(
            TextOp::Exact,
            &["mail.example.com", "wxw.example.com", "MAIL.example.com"],
        );
        assert_eq!(exact_names(&two).map(|n| n.len()), Some(2));
        assert_eq!(names(&two), ["mail.example.com", "wxw.example.com"]);
        // The escapes of the API form name the node they spell.
        assert_eq!(
            names(&by_name(TextOp::Exact, &["back\\\\slash.example.com"])),
            ["back\\\\slash.example.com"]
        );
        assert_eq!(
            names(&by_name(TextOp::Exact, &["a\\.b.example.com"])),
            ["a\\.b.example.com"]
        );
        // No such name, a trailing dot (the API form has none) and no value match nothing;
        // `\097` reads as the name `a`, but it is not how that name is shown.
        for f in [
            by_name(TextOp::Exact, &["nope.example.com"]),
            by_name(TextOp::Exact, &["www.example.com."]),
            by_name(TextOp::Exact, &[]),
            by_name(TextOp::Exact, &["\\119ww.example.com"]),
        ] {
            assert!(list(&f).is_empty(), "{f:?}");
        }
        // With match=any the name cannot narrow the records read.
        let any = RecordFilter {
            match_any: true,
            ..by_name(TextOp::Exact, &["www.example.com"])
        };
        assert!(exact_names(&any).is_none());
        assert_eq!(names(&any).len(), 3);
        // A value that is not a name at all is answered by a full look (and matches nothing).
        let bad = by_name(TextOp::Exact, &["www.example.com", "a..b"]);
        assert!(exact_names(&bad).is_none());
        assert_eq!(names(&bad).len(), 3);
    }

    #[test]
    fn name_contains_starts_and_ends_ignore_case_and_have_no_wildcards() {
        let n = |op, v: &str| names(&by_name(op, &[v]));
        assert_eq!(n(TextOp::Contains, "w_w"), ["w_w.example.com"]);
        assert_eq!(n(TextOp::Contains, "%"), ["pct%.example.com"]);
        assert_eq!(n(TextOp::Contains, "\\\\"), ["back\\\\slash.example.com"]);
        assert_eq!(n(TextOp::Contains, "\\195"), ["caf\\195\\169.example.com"]);
        assert_eq!(n(TextOp::Contains, "SUB.EX"), ["deep.sub.example.com"]);
        assert_eq!(
            n(TextOp::StartsWith, "_"),
            [
                "_acme-challenge.example.com",
                "_acme-challenge.example.com",
                "_sip._tcp.example.com"
            ]
        );
        assert_eq!(n(TextOp::StartsWith, "W_"), ["w_w.example.com"]);
        assert_eq!(
            n(TextOp::EndsWith, "\\.B.EXAMPLE.COM"),
            ["a\\.b.example.com"]
        );
        assert_eq!(n(TextOp::EndsWith, "example.com").len(), COUNT);
        assert_eq!(n(TextOp::Contains, "").len(), COUNT);
        assert!(n(TextOp::Exact, "ww%").is_empty());
        assert!(n(TextOp::StartsWith, "ww%").is_empty());
        // Every value of one filter is an alternative; two filters must both hold.
        let alternatives = by_name(TextOp::StartsWith, &["mail", "ns1"]);
        assert_eq!(
            names(&alternatives),
            ["mail.example.com", "ns1.example.com"]
        );
        let both = RecordFilter {
            name: vec![
                text(TextOp::StartsWith, &["w"]),
                text(TextOp::EndsWith, &["w.example.com"]),
            ],
            ..RecordFilter::default()
        };
        assert_eq!(
            names(&both),
            [
                "w_w.example.com",
                "www.example.com",
                "www.example.com",
                "www.example.com",
                "wxw.example.com"
            ]
        );
    }

    #[test]
    fn content_filters_ignore_ascii_case_and_have_no_wildcards() {
        let c = |op, v: &str| {
            list(&by_content(op, &[v]))
                .into_iter()
                .map(|s| s.2)
                .collect::<Vec<_>>()
        };
        assert_eq!(c(TextOp::Exact, "192.0.2.1").len(), 4);
        // Exact content is LIKE, so it ignores case as the other text filters do.
        assert_eq!(c(TextOp::Exact, "TOKEN2"), ["token2", "token2"]);
        assert!(c(TextOp::Exact, "192.0.2.").is_empty());
        assert!(c(TextOp::Exact, "50_off").is_empty(), "`_` is no wildcard");
        assert_eq!(c(TextOp::Exact, "50%OFF"), ["50%off"]);
        assert_eq!(c(TextOp::Contains, "0%o"), ["50%off"]);
        assert_eq!(c(TextOp::Contains, "_one").len(), 1);
        assert_eq!(c(TextOp::StartsWith, "192.0.2.5"), ["192.0.2.53"]);
        assert_eq!(
            c(TextOp::EndsWith, "sip.EXAMPLE.com"),
            ["5 5060 sip.example.com"]
        );
        // MX content is the exchange, without the priority.
        assert_eq!(
            c(TextOp::Exact, "mail.example.com"),
            ["mail.example.com", "mail.example.com"]
        );
        assert!(list(&RecordFilter {
            content: vec![text(TextOp::Contains, &[])],
            ..RecordFilter::default()
        })
        .is_empty());
    }

    #[test]
    fn type_filter_and_match_any() {
        assert_eq!(
            list(&by_type(rtype::MX)),
            [
                shown_of("example.com", "MX", "mail.example.com", 300),
                shown_of("example.com", "MX", "mail.example.com", 300),
            ]
        );
        assert_eq!(list(&by_type(rtype::A)).len(), 10);
        assert!(list(&by_type(rtype::PTR)).is_empty());
        // Type MX or name www: five records; with match=all, none.
        let either = RecordFilter {
            rtype: Some(rtype::MX),
            match_any: true,
            ..by_name(TextOp::Exact, &["www.example.com"])
        };
        let mut got: Vec<(String, String)> =
            list(&either).into_iter().map(|s| (s.0, s.1)).collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("example.com".to_string(), "MX".to_string()),
                ("example.com".into(), "MX".into()),
                ("www.example.com".into(), "A".into()),
                ("www.example.com".into(), "A".into()),
                ("www.example.com".into(), "AAAA".into()),
            ]
        );
        let both = RecordFilter {
            match_any: false,
            ..either
        };
        assert!(list(&both).is_empty());
    }

    #[test]
    fn search_looks_in_name_and_content_whatever_match_says() {
        let search = |s: &str, f: RecordFilter| {
            names(&RecordFilter {
                search: Some(s.into()),
                ..f
            })
        };
        assert_eq!(
            search("ACME", RecordFilter::default()),
            ["_acme-challenge.example.com", "_acme-challenge.example.com"]
        );
        assert_eq!(search("SPF1", RecordFilter::default()), ["example.com"]);
        assert_eq!(
            search("100%", RecordFilter::default()),
            ["_acme-challenge.example.com"]
        );
        assert!(search("1_0", RecordFilter::default()).is_empty());
        assert_eq!(search("", RecordFilter::default()).len(), COUNT);
        // ANDed on top of the conditions, also with match=any.
        let any_a = RecordFilter {
            match_any: true,
            ..by_type(rtype::A)
        };
        assert_eq!(search("www", any_a), ["www.example.com", "www.example.com"]);
        assert!(search("spf1", by_type(rtype::A)).is_empty());
    }

    #[test]
    fn comment_tag_and_proxied_conditions_have_fixed_values() {
        let tag_present = TagFilter::Present("env".into());
        let tag_absent = TagFilter::Absent("env".into());
        let tag_value = TagFilter::Value("env".into(), TextOp::Contains, String::new());
        let cases: Vec<(&str, RecordFilter, usize)> = vec![
            (
                "comment contains",
                RecordFilter {
                    comment: vec![text(TextOp::Contains, &[""])],
                    ..RecordFilter::default()
                },
                0,
            ),
            (
                "comment without values",
                RecordFilter {
                    comment: vec![text(TextOp::Exact, &[])],
                    ..RecordFilter::default()
                },
                0,
            ),
            (
                "comment.present",
                RecordFilter {
                    comment_present: vec![true],
                    ..RecordFilter::default()
                },
                0,
            ),
            (
                "comment.absent",
                RecordFilter {
                    comment_present: vec![false],
                    ..RecordFilter::default()
                },
                COUNT,
            ),
            (
                "comment.present and .absent",
                RecordFilter {
                    comment_present: vec![true, false],
                    ..RecordFilter::default()
                },
                0,
            ),
            (
                "comment.present or .absent",
                RecordFilter {
                    comment_present: vec![true, false],
                    match_any: true,
                    ..RecordFilter::default()
                },
                COUNT,
            ),
            (
                "tag.present",
                RecordFilter {
                    tags: vec![tag_present.clone()],
                    ..RecordFilter::default()
                },
                0,
            ),
            (
                "tag.absent",
                RecordFilter {
                    tags: vec![tag_absent.clone()],
                    ..RecordFilter::default()
                },
                COUNT,
            ),
            (
                "tag with any value",
                RecordFilter {
                    tags: vec![tag_value.clone()],
                    ..RecordFilter::default()
                },
                0,
            ),
            (
                "tag absent and present",
                RecordFilter {
                    tags: vec![tag_absent.clone(), tag_present.clone()],
                    ..RecordFilter::default()
                },
                0,
            ),
            (
                "tag absent or present (tag_match=any)",
                RecordFilter {
                    tags: vec![tag_present.clone(), tag_absent.clone()],
                    tag_match_any: true,
                    ..RecordFilter::default()
                },
                COUNT,
            ),
            (
                "tag value or present (tag_match=any)",
                RecordFilter {
                    tags: vec![tag_present.clone(), tag_value.clone()],
                    tag_match_any: true,
                    ..RecordFilter::default()
                },
                0,
            ),
            (
                "proxied=true",
                RecordFilter {
                    proxied: Some(true),
                    ..RecordFilter::default()
                },
                0,
            ),
            (
                "proxied=false",
                RecordFilter {
                    proxied: Some(false),
                    ..RecordFilter::default()
                },
                COUNT,
            ),
            (
                "type A or comment.present",
                RecordFilter {
                    comment_present: vec![true],
                    match_any: true,
                    ..by_type(rtype::A)
                },
                10,
            ),
            (
                "type A or tag.absent",
                RecordFilter {
                    tags: vec![tag_absent.clone()],
                    match_any: true,
                    ..by_type(rtype::A)
                },
                COUNT,
            ),
            (
                "type A and proxied=false",
                RecordFilter {
                    proxied: Some(false),
                    ..by_type(rtype::A)
                },
                10,
            ),
        ];
        for (what, f, want) in cases {
            assert_eq!(list(&f).len(), want, "{what}");
        }
    }

    /// A part of a sort key, to compare rows in a test as the order says.
    #[derive(PartialEq, Eq, PartialOrd, Ord, Debug)]
    enum Key {
        Text(String),
        Number(u64),
    }

    /// The sort key of a row under `order`, with the id last.
    fn key(order: RecordOrder, r: &RecordRow) -> Vec<Key> {
        let name = Key::Text(r.name.clone());
        let t = Key::Number(r.record.rtype.into());
        let mut k = match order {
            RecordOrder::Name | RecordOrder::Proxied => vec![name, t],
            RecordOrder::Type => vec![t, name],
            RecordOrder::Content => vec![Key::Text(r.content.clone()), name, t],
            RecordOrder::Ttl => vec![Key::Number(r.record.ttl.into()), name, t],
        };
        k.push(Key::Text(r.id.clone()));
        k
    }

    const ORDERS: [RecordOrder; 5] = [
        RecordOrder::Name,
        RecordOrder::Type,
        RecordOrder::Content,
        RecordOrder::Ttl,
        RecordOrder::Proxied,
    ];

    #[test]
    fn every_order_sorts_by_its_keys_then_the_id_both_ways() {
        for order in ORDERS {
            let asc = rows(&RecordFilter {
                order,
                ..RecordFilter::default()
            });
            let desc = rows(&RecordFilter {
                order,
                descending: true,
                ..RecordFilter::default()
            });
            assert_eq!(asc.len(), COUNT);
            for w in asc.windows(2) {
                assert!(key(order, &w[0]) < key(order, &w[1]), "{order:?}: {w:?}");
            }
            let mut reversed = desc.clone();
            reversed.reverse();
            assert_eq!(reversed, asc, "{order:?}: descending reverses every key");
        }
        let first = |order, descending| {
            shown(
                &rows(&RecordFilter {
                    order,
                    descending,
                    ..RecordFilter::default()
                })[0],
            )
        };
        assert_eq!(
            first(RecordOrder::Name, false).0,
            "_acme-challenge.example.com"
        );
        assert_eq!(first(RecordOrder::Name, true).0, "wxw.example.com");
        assert_eq!(
            first(RecordOrder::Type, false),
            shown_of("alias.example.com", "A", "192.0.2.1", 300)
        );
        assert_eq!(first(RecordOrder::Type, true).1, "SRV");
        assert_eq!(first(RecordOrder::Ttl, false).3, 120);
        assert_eq!(
            first(RecordOrder::Ttl, true),
            shown_of("ns1.example.com", "A", "192.0.2.53", 3600)
        );
        assert_eq!(first(RecordOrder::Content, false).2, "192.0.2.1");
    }

    #[test]
    fn pages_slice_the_order_and_the_total_counts_every_match() {
        for (f, per_page) in [
            (RecordFilter::default(), 4),
            (by_type(rtype::A), 1),
            (
                RecordFilter {
                    order: RecordOrder::Content,
                    descending: true,
                    ..RecordFilter::default()
                },
                2,
            ),
        ] {
            let all = rows(&f);
            let mut joined = Vec::new();
            for page in 1.. {
                let (rows, total) = list_served(&zone(), &version(), &f, Page { page, per_page });
                assert_eq!(total, all.len() as u64);
                if rows.is_empty() {
                    break;
                }
                assert!(rows.len() as u64 <= per_page);
                joined.extend(rows);
            }
            assert_eq!(joined, all, "{f:?} by {per_page}");
        }
        let (rows, total) = list_served(
            &zone(),
            &version(),
            &RecordFilter::default(),
            Page {
                page: u64::MAX,
                per_page: 50_000,
            },
        );
        assert!(rows.is_empty());
        assert_eq!(total, COUNT as u64);
        let (rows, total) = list_served(
            &zone(),
            &version(),
            &by_type(rtype::A),
            Page {
                page: 2,
                per_page: 3,
            },
        );
        assert_eq!(rows.len(), 3);
        assert_eq!(total, 10);
    }

    #[test]
    fn rows_have_content_ids_no_metadata_and_the_zone_time() {
        let z = zone();
        for r in rows(&RecordFilter::default()) {
            assert_eq!(r.id, content_id(&z.id, &r.record));
            assert!(could_be_content_id(&r.id), "{}", r.id);
            assert_eq!(r.zone_id, z.id);
            assert_eq!(r.name, r.record.owner.to_api());
            assert_eq!((r.content.clone(), r.priority), api_content(&r.record));
            assert!(!r.auto_ttl);
            assert_eq!(r.meta, RecordMeta::default());
            assert_eq!((r.created, r.modified), (z.modified, z.modified));
        }
        let mx = rows(&by_type(rtype::MX));
        let mut priorities: Vec<Option<u16>> = mx.iter().map(|r| r.priority).collect();
        priorities.sort();
        assert_eq!(priorities, [Some(10), Some(20)]);
    }

    #[test]
    fn owner_names_are_shown_as_to_api_shows_them() {
        for text in [
            ".",
            "example.com",
            "a\\.b.example.com",
            "back\\\\slash.example.com",
            "caf\\195\\169.example.com",
            "\\@\\$\\(\\)\\;\\\".example.com",
            "sp\\032ace.example.com",
        ] {
            let name = Name::parse(text).unwrap();
            let owner = Owner {
                name: name.clone(),
                api: OnceCell::new(),
            };
            assert_eq!(owner.api(), name.to_api(), "{text}");
        }
    }

    #[test]
    fn a_record_is_found_by_its_id_and_only_by_it() {
        let (z, v) = (zone(), version());
        for r in v.records() {
            let id = content_id(&z.id, &r);
            let row = served_record(&z, &v, &id).unwrap();
            assert_eq!(row.record, r);
            let listed = rows(&by_name(TextOp::Exact, &[&r.owner.to_api()]));
            assert!(listed.contains(&row), "{row:?}");
        }
        let some = content_id(&z.id, &v.soa_record());
        for id in [
            some.to_ascii_uppercase(),
            format!("{some}0"),
            some[1..].to_string(),
            "0".repeat(32),
            new_id(),
            String::new(),
        ] {
            assert!(served_record(&z, &v, &id).is_none(), "{id}");
        }
        // The id is the zone's: another zone holding the same record has another.
        let other = ZoneRow {
            id: "fedcba9876543210fedcba9876543210".into(),
            ..z.clone()
        };
        assert!(served_record(&other, &v, &some).is_none());
    }

    #[test]
    fn ids_stay_when_a_ttl_changes() {
        let z = zone();
        let before = version();
        let after = version_of(&ZONE.replace(
            "www           300 IN A 192.0.2.1",
            "www           900 IN A 192.0.2.1",
        ));
        let find = |v: &ZoneVersion| {
            let (rows, _) = list_served(
                &z,
                v,
                &RecordFilter {
                    rtype: Some(rtype::A),
                    ..by_name(TextOp::Exact, &["www.example.com"])
                },
                ALL,
            );
            rows.into_iter().find(|r| r.content == "192.0.2.1").unwrap()
        };
        let (old, new) = (find(&before), find(&after));
        assert_eq!((old.record.ttl, new.record.ttl), (300, 900));
        assert_eq!(old.id, new.id);
        assert_eq!(served_record(&z, &after, &old.id).unwrap().record.ttl, 900);
        // Another RDATA is another record.
        let moved = version_of(&ZONE.replace("192.0.2.1\n", "192.0.2.9\n"));
        assert!(served_record(&z, &moved, &old.id).is_none());
    }

    /// Every filter the differential test tries, with a label.
    fn filters() -> Vec<(String, RecordFilter)> {
        let mut out: Vec<(String, RecordFilter)> = vec![
            ("nothing".into(), RecordFilter::default()),
            (
                "nothing, match=any".into(),
                RecordFilter {
                    match_any: true,
                    ..RecordFilter::default()
                },
            ),
            (
                "search only, match=any".into(),
                RecordFilter {
                    match_any: true,
                    search: Some("w".into()),
                    ..RecordFilter::default()
                },
            ),
        ];
        let ops = [
            TextOp::Exact,
            TextOp::Contains,
            TextOp::StartsWith,
            TextOp::EndsWith,
        ];
        let name_values = [
            "www.example.com",
            "WWW.EXAMPLE.COM",
            "www.example.com.",
            "w_w.example.com",
            "w%w.example.com",
            "w_w",
            "w%",
            "%",
            "_",
            "\\",
            "\\\\",
            "back\\\\slash.example.com",
            "a\\.b.example.com",
            "caf\\195\\169.example.com",
            "\\195",
            "é",
            "pct%.example.com",
            "pct_.example.com",
            "example.com",
            "EXAMPLE.com",
            "ww",
            "",
            "deep.sub.example.com",
            "sub.example.com",
            "\\119ww.example.com",
            "a..b",
        ];
        let content_values = [
            "192.0.2.1",
            "192.0.2.",
            "192_0_2_1",
            "192%",
            "TOKEN2",
            "token_one 100%",
            "Token_One 100%",
            "\"Token_One 100%\"",
            "50%off",
            "50_off",
            "0%o",
            "%",
            "_",
            "\\",
            "c:\\\\dir",
            "mail.example.com",
            "MAIL.example.COM",
            "5 5060 sip.example.com",
            "",
        ];
        for op in ops {
            for v in name_values {
                out.push((format!("name {op:?} {v:?}"), by_name(op, &[v])));
            }
            for v in content_values {
                out.push((format!("content {op:?} {v:?}"), by_content(op, &[v])));
            }
            out.push((format!("name {op:?} none"), by_name(op, &[])));
            out.push((
                format!("name {op:?} two"),
                by_name(op, &["mail.example.com", "_"]),
            ));
            out.push((format!("content {op:?} none"), by_content(op, &[])));
            out.push((
                format!("comment {op:?}"),
                RecordFilter {
                    comment: vec![text(op, &["x"])],
                    ..RecordFilter::default()
                },
            ));
            out.push((
                format!("tag value {op:?}"),
                RecordFilter {
                    tags: vec![TagFilter::Value("env".into(), op, "".into())],
                    ..RecordFilter::default()
                },
            ));
        }
        for t in [rtype::A, rtype::MX, rtype::SOA, rtype::TXT, rtype::PTR] {
            out.push((format!("type {t}"), by_type(t)));
            out.push((
                format!("type {t} at www"),
                RecordFilter {
                    rtype: Some(t),
                    ..by_name(TextOp::Exact, &["www.example.com"])
                },
            ));
        }
        for s in ["www", "ACME", "%", "_", "1_0", "100%", "\\", "", "example"] {
            out.push((
                format!("search {s:?}"),
                RecordFilter {
                    search: Some(s.into()),
                    ..RecordFilter::default()
                },
            ));
            out.push((
                format!("search {s:?} and type A or name"),
                RecordFilter {
                    search: Some(s.into()),
                    rtype: Some(rtype::A),
                    match_any: true,
                    ..by_name(TextOp::Contains, &["acme"])
                },
            ));
        }
        let env = || "env".to_string();
        for tag_match_any in [false, true] {
            for tags in [
                vec![TagFilter::Present(env())],
                vec![TagFilter::Absent(env())],
                vec![TagFilter::Absent(env()), TagFilter::Present(env())],
                vec![TagFilter::Absent(env()), TagFilter::Absent("x".into())],
            ] {
                out.push((
                    format!("tags {tags:?} any={tag_match_any}"),
                    RecordFilter {
                        tags: tags.clone(),
                        tag_match_any,
                        ..RecordFilter::default()
                    },
                ));
                out.push((
                    format!("tags {tags:?} any={tag_match_any}, or type MX"),
                    RecordFilter {
                        tags,
                        tag_match_any,
                        match_any: true,
                        ..by_type(rtype::MX)
                    },
                ));
            }
        }
        for match_any in [false, true] {
            for present in [vec![true], vec![false], vec![true, false]] {
                out.push((
                    format!("comment present {present:?} any={match_any}"),
                    RecordFilter {
                        comment_present: present.clone(),
                        match_any,
                        ..RecordFilter::default()
                    },
                ));
                out.push((
                    format!("comment present {present:?} any={match_any} with type A"),
                    RecordFilter {
                        comment_present: present,
                        match_any,
                        ..by_type(rtype::A)
                    },
                ));
            }
            for proxied in [true, false] {
                out.push((
                    format!("proxied {proxied} any={match_any} with name"),
                    RecordFilter {
                        proxied: Some(proxied),
                        match_any,
                        ..by_name(TextOp::StartsWith, &["w"])
                    },
                ));
            }
            out.push((
                format!("exact name, type and content any={match_any}"),
                RecordFilter {
                    rtype: Some(rtype::TXT),
                    content: vec![text(TextOp::Exact, &["token2", "TOKEN_ONE 100%"])],
                    match_any,
                    ..by_name(TextOp::Exact, &["_acme-challenge.example.com"])
                },
            ));
            out.push((
                format!("two name filters any={match_any}"),
                RecordFilter {
                    name: vec![
                        text(TextOp::Exact, &["www.example.com", "wxw.example.com"]),
                        text(TextOp::Contains, &["x"]),
                    ],
                    match_any,
                    ..RecordFilter::default()
                },
            ));
            out.push((
                format!("comment exact or name any={match_any}"),
                RecordFilter {
                    comment: vec![text(TextOp::Exact, &[""])],
                    match_any,
                    ..by_name(TextOp::EndsWith, &["w.example.com"])
                },
            ));
        }
        out
    }

    /// The part of the order a row's place depends on, which both sides must agree on: rows
    /// alike in it are in the store's insertion order there and in the id's order here.
    fn primary(order: RecordOrder, s: &Shown) -> (String, String, Option<String>, Option<u32>) {
        let (name, t) = (s.0.clone(), s.1.clone());
        match order {
            RecordOrder::Content => (name, t, Some(s.2.clone()), None),
            RecordOrder::Ttl => (name, t, None, Some(s.3)),
            _ => (name, t, None, None),
        }
    }

    /// The rows' `(name, type, content, ttl)`, each run of rows alike in the order's keys
    /// sorted, so that the store's and the version's tie-breaks compare equal.
    fn settled(order: RecordOrder, rows: &[RecordRow]) -> Vec<Shown> {
        let shown: Vec<Shown> = rows.iter().map(shown).collect();
        let mut out = Vec::new();
        for run in shown.chunk_by(|a, b| primary(order, a) == primary(order, b)) {
            let mut run = run.to_vec();
            run.sort();
            out.extend(run);
        }
        out
    }

    #[test]
    fn lists_as_the_store_lists_a_zone_of_the_same_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let stored = ZoneRow {
            id: new_id(),
            account_id: store.default_account().unwrap().id,
            kind: ZoneKind::Full,
            ..zone()
        };
        let records = records_of(ZONE);
        let rows: Vec<RecordRow> = records
            .iter()
            .map(|r| RecordRow::new(&stored.id, r.clone(), now()))
            .collect();
        store.create_zone(&stored, &rows).unwrap();
        let (z, v) = (zone(), version());
        let mut compared = 0;
        let mut non_empty = 0;
        for (label, base) in filters() {
            for order in ORDERS {
                for descending in [false, true] {
                    let f = RecordFilter {
                        order,
                        descending,
                        ..base.clone()
                    };
                    let what = format!("{label}, {order:?}, descending={descending}");
                    let (want, want_total) = store.list_records(&stored.id, &f, ALL).unwrap();
                    let (got, got_total) = list_served(&z, &v, &f, ALL);
                    assert_eq!(got_total, want_total, "{what}");
                    assert_eq!(settled(order, &got), settled(order, &want), "{what}");
                    // Every page holds the same records, up to the order of ties.
                    let per_page = 3;
                    let pages = want_total.div_ceil(per_page) + 1;
                    for page in 1..=pages {
                        let p = Page { page, per_page };
                        let (want, want_total) = store.list_records(&stored.id, &f, p).unwrap();
                        let (got, got_total) = list_served(&z, &v, &f, p);
                        assert_eq!(got_total, want_total, "{what}, page {page}");
                        let keys = |rows: &[RecordRow]| -> Vec<_> {
                            rows.iter().map(|r| primary(order, &shown(r))).collect()
                        };
                        assert_eq!(keys(&got), keys(&want), "{what}, page {page}");
                    }
                    compared += 1;
                    non_empty += usize::from(want_total > 0);
                }
            }
        }
        // The table means something: many filters, most of them matching some records and
        // many matching only some.
        assert!(compared > 1000, "{compared}");
        assert!(non_empty > compared / 2, "{non_empty} of {compared}");
    }
}
