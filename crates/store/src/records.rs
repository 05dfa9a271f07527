//! Records: loading a zone's records to rebuild its version, listing them for the API, and
//! writing one change (deletes, updates, inserts and the new serial) as one transaction.

use crate::{
    format_time, now, time_column, Page, RecordChange, RecordFilter, RecordMeta, RecordOrder,
    RecordRow, Store, StoreError, TagFilter, TextFilter, TextOp,
};
use bytes::Bytes;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use tandem_zone::record::rtype;
use tandem_zone::{Name, Record};

/// The columns written to `records` (the comment lives in `record_meta` since schema V7).
const WRITE_COLUMNS: &str =
    "id, zone_id, name, owner, type, ttl, rdata, content, priority, created, modified, auto_ttl";

/// A record with its metadata, as read: `records r LEFT JOIN record_meta m`, tags gathered one
/// per line.
const RECORD_COLUMNS: &str = "r.id, r.zone_id, r.name, r.owner, r.type, r.ttl, r.rdata, \
     r.content, r.priority, m.comment, r.created, r.modified, r.auto_ttl, m.comment_modified, \
     m.tags_modified, m.settings, \
     (SELECT group_concat(CASE WHEN t.value IS NULL THEN t.name ELSE t.name || ':' || t.value END, \
             char(10)) FROM record_tags t WHERE t.record_id = r.id)";
const RECORD_FROM: &str = "records r LEFT JOIN record_meta m ON m.record_id = r.id";
/// The SOA of zone ?1 (?2 is its type), by the apex name too, so that the index on (zone,
/// name, type) finds it at once instead of scanning every record of the zone.
const SOA_WHERE: &str = "WHERE r.zone_id = ?1 AND r.name = (SELECT name FROM zones WHERE id = ?1) \
     AND r.type = ?2 LIMIT 1";

/// Adds `delta` to the record count of zone `zone_id` (schema V6, V9): every transaction that
/// inserts or deletes records of a zone calls this once before it commits.
pub(crate) fn count_records(
    conn: &Connection,
    zone_id: &str,
    delta: i64,
) -> Result<(), StoreError> {
    if delta != 0 {
        conn.prepare_cached("UPDATE zones SET record_count = record_count + ?2 WHERE id = ?1")?
            .execute(params![zone_id, delta])?;
    }
    Ok(())
}

/// Inserts one record row of zone `zone_id`, with its metadata; the caller counts it
/// ([`count_records`]).
pub(crate) fn insert_record(
    conn: &Connection,
    zone_id: &str,
    rec: &RecordRow,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT INTO records ({WRITE_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))?;
    stmt.execute(params![
        rec.id,
        zone_id,
        rec.name,
        rec.record.owner.as_wire(),
        rec.record.rtype,
        rec.record.ttl,
        rec.record.rdata.as_ref(),
        rec.content,
        rec.priority,
        format_time(rec.created),
        format_time(rec.modified),
        rec.auto_ttl,
    ])?;
    if !rec.meta.is_empty() {
        insert_meta(conn, rec)?;
    }
    Ok(())
}

fn update_record(conn: &Connection, zone_id: &str, rec: &RecordRow) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "UPDATE records SET name = ?3, owner = ?4, type = ?5, ttl = ?6, rdata = ?7, content = ?8,
                priority = ?9, modified = ?10, auto_ttl = ?11
         WHERE id = ?1 AND zone_id = ?2",
    )?;
    let n = stmt.execute(params![
        rec.id,
        zone_id,
        rec.name,
        rec.record.owner.as_wire(),
        rec.record.rtype,
        rec.record.ttl,
        rec.record.rdata.as_ref(),
        rec.content,
        rec.priority,
        format_time(rec.modified),
        rec.auto_ttl,
    ])?;
    if n == 0 {
        return Err(not_found(&rec.id));
    }
    conn.prepare_cached("DELETE FROM record_meta WHERE record_id = ?1")?
        .execute([&rec.id])?;
    conn.prepare_cached("DELETE FROM record_tags WHERE record_id = ?1")?
        .execute([&rec.id])?;
    if !rec.meta.is_empty() {
        insert_meta(conn, rec)?;
    }
    Ok(())
}

/// Writes the `record_meta` row and the `record_tags` rows of `rec`.
fn insert_meta(conn: &Connection, rec: &RecordRow) -> Result<(), StoreError> {
    let m = &rec.meta;
    conn.prepare_cached(
        "INSERT INTO record_meta (record_id, comment, comment_modified, tags_modified, settings)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        rec.id,
        m.comment,
        m.comment_modified.map(format_time),
        m.tags_modified.map(format_time),
        m.settings,
    ])?;
    let mut tag = conn
        .prepare_cached("INSERT INTO record_tags (record_id, name, value) VALUES (?1, ?2, ?3)")?;
    for t in &m.tags {
        let (name, value) = match t.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (t.as_str(), None),
        };
        tag.execute(params![rec.id, name, value])?;
    }
    Ok(())
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "record",
        id: id.to_string(),
    }
}

/// The columns of a record row as read, before the blobs are checked.
struct RawRecord {
    id: String,
    zone_id: String,
    name: String,
    owner: Vec<u8>,
    rtype: u16,
    ttl: u32,
    rdata: Vec<u8>,
    content: String,
    priority: Option<u16>,
    comment: Option<String>,
    created: String,
    modified: String,
    auto_ttl: bool,
    comment_modified: Option<String>,
    tags_modified: Option<String>,
    settings: Option<String>,
    tags: Option<String>,
}

fn raw_record(row: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok(RawRecord {
        id: row.get(0)?,
        zone_id: row.get(1)?,
        name: row.get(2)?,
        owner: row.get(3)?,
        rtype: row.get(4)?,
        ttl: row.get(5)?,
        rdata: row.get(6)?,
        content: row.get(7)?,
        priority: row.get(8)?,
        comment: row.get(9)?,
        created: row.get(10)?,
        modified: row.get(11)?,
        auto_ttl: row.get(12)?,
        comment_modified: row.get(13)?,
        tags_modified: row.get(14)?,
        settings: row.get(15)?,
        tags: row.get(16)?,
    })
}

/// The record in the columns `owner, type, ttl, rdata` from `at` of a row, read in place;
/// `name` names the row when its owner is not a valid name.
fn stored_record(
    row: &rusqlite::Row<'_>,
    at: usize,
    name: impl FnOnce() -> String,
) -> Result<Record, StoreError> {
    let blob = |i: usize| -> Result<&[u8], StoreError> {
        Ok(row.get_ref(i)?.as_blob().map_err(rusqlite::Error::from)?)
    };
    let owner = Name::from_wire(blob(at)?).map_err(|e| bad_owner(name(), e))?;
    let rdata = Bytes::copy_from_slice(blob(at + 3)?);
    Ok(Record::new(
        owner,
        row.get(at + 1)?,
        row.get(at + 2)?,
        rdata,
    ))
}

fn owner_from_wire(id: &str, wire: &[u8]) -> Result<Name, StoreError> {
    Name::from_wire(wire).map_err(|e| bad_owner(id.to_string(), e))
}

fn bad_owner(id: String, e: tandem_zone::name::NameError) -> StoreError {
    StoreError::Corrupt {
        table: "records",
        id,
        detail: format!("bad owner name: {e}"),
    }
}

fn record_from_raw(raw: RawRecord) -> Result<RecordRow, StoreError> {
    let owner = owner_from_wire(&raw.id, &raw.owner)?;
    let created = time_column("records", &raw.id, &raw.created)?;
    let modified = time_column("records", &raw.id, &raw.modified)?;
    let optional_time = |t: &Option<String>| {
        t.as_deref()
            .map(|t| time_column("record_meta", &raw.id, t))
            .transpose()
    };
    let mut tags: Vec<String> = raw
        .tags
        .as_deref()
        .map(|t| t.split('\n').map(str::to_string).collect())
        .unwrap_or_default();
    tags.sort();
    Ok(RecordRow {
        record: Record::new(owner, raw.rtype, raw.ttl, Bytes::from(raw.rdata)),
        meta: RecordMeta {
            comment_modified: optional_time(&raw.comment_modified)?,
            tags_modified: optional_time(&raw.tags_modified)?,
            comment: raw.comment,
            tags,
            settings: raw.settings,
        },
        id: raw.id,
        zone_id: raw.zone_id,
        name: raw.name,
        content: raw.content,
        priority: raw.priority,
        auto_ttl: raw.auto_ttl,
        created,
        modified,
    })
}

/// Where the stored content was computed by an older `api_content`: `store_meta` key naming
/// the form the `content` column holds.
const CONTENT_FORM_KEY: &str = "content_form";
/// Bumped whenever `tandem_zone::text::api_content` changes what it writes.
const CONTENT_FORM: &str = "2";

/// Recomputes every record's API content when it was written by an older form (once, at open):
/// the content filters compare with the column, so it must be what the API shows.
pub(crate) fn refresh_content(conn: &mut Connection) -> Result<(), StoreError> {
    let form: Option<String> = conn
        .query_row(
            "SELECT value FROM store_meta WHERE key = ?1",
            [CONTENT_FORM_KEY],
            |r| r.get(0),
        )
        .optional()?;
    if form.as_deref() == Some(CONTENT_FORM) {
        return Ok(());
    }
    let tx = conn.transaction()?;
    {
        let mut read = tx.prepare("SELECT id, owner, type, ttl, rdata FROM records")?;
        let mut write =
            tx.prepare("UPDATE records SET content = ?2, priority = ?3 WHERE id = ?1")?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let owner = owner_from_wire(&id, &row.get::<_, Vec<u8>>(1)?)?;
            let rdata = Bytes::from(row.get::<_, Vec<u8>>(4)?);
            let record = Record::new(owner, row.get(2)?, row.get(3)?, rdata);
            let (content, priority) = tandem_zone::text::api_content(&record);
            write.execute(params![id, content, priority])?;
        }
    }
    tx.execute(
        "INSERT INTO store_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [CONTENT_FORM_KEY, CONTENT_FORM],
    )?;
    tx.commit()?;
    Ok(())
}

/// A LIKE pattern (with `ESCAPE '\'`) that matches `value` as `op` says.
pub(crate) fn like_pattern(op: TextOp, value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    match op {
        TextOp::Exact => escaped,
        TextOp::Contains => format!("%{escaped}%"),
        TextOp::StartsWith => format!("{escaped}%"),
        TextOp::EndsWith => format!("%{escaped}"),
    }
}

/// `column` compared with `f`'s values as bound parameters. SQLite's LIKE ignores ASCII case;
/// `Exact` on the name (stored lowercase) compares with `=`, so the index serves it.
fn text_condition(column: &str, f: &TextFilter, args: &mut Vec<Value>) -> String {
    let mut alternatives = Vec::new();
    for value in &f.values {
        if f.op == TextOp::Exact && column == "r.name" {
            args.push(Value::Text(value.to_ascii_lowercase()));
            alternatives.push(format!("r.name = ?{}", args.len()));
        } else {
            args.push(Value::Text(like_pattern(f.op, value)));
            alternatives.push(format!("{column} LIKE ?{} ESCAPE '\\'", args.len()));
        }
    }
    if alternatives.is_empty() {
        return "0".to_string();
    }
    format!("({})", alternatives.join(" OR "))
}

/// One tag condition: a subquery on `record_tags` of the row.
fn tag_condition(f: &TagFilter, args: &mut Vec<Value>) -> String {
    let tag = "SELECT 1 FROM record_tags t WHERE t.record_id = r.id AND t.name =";
    match f {
        TagFilter::Present(name) | TagFilter::Absent(name) => {
            args.push(Value::Text(name.clone()));
            let not = if matches!(f, TagFilter::Absent(_)) {
                "NOT "
            } else {
                ""
            };
            format!("{not}EXISTS ({tag} ?{})", args.len())
        }
        TagFilter::Value(name, op, value) => {
            args.push(Value::Text(name.clone()));
            args.push(Value::Text(like_pattern(*op, value)));
            let n = args.len();
            format!(
                "EXISTS ({tag} ?{} AND coalesce(t.value, '') LIKE ?{n} ESCAPE '\\')",
                n - 1
            )
        }
    }
}

/// The WHERE clause of a record list; `args` holds the zone id as `?1` and gets the values.
fn record_conditions(filter: &RecordFilter, args: &mut Vec<Value>) -> String {
    let mut conds: Vec<String> = Vec::new();
    if let Some(t) = filter.rtype {
        args.push(Value::Integer(t.into()));
        conds.push(format!("r.type = ?{}", args.len()));
    }
    for f in &filter.name {
        conds.push(text_condition("r.name", f, args));
    }
    for f in &filter.content {
        conds.push(text_condition("r.content", f, args));
    }
    for f in &filter.comment {
        conds.push(text_condition("m.comment", f, args));
    }
    for present in &filter.comment_present {
        conds.push(
            if *present {
                "(m.comment IS NOT NULL AND m.comment <> '')"
            } else {
                "(m.comment IS NULL OR m.comment = '')"
            }
            .to_string(),
        );
    }
    if !filter.tags.is_empty() {
        let tags: Vec<String> = filter.tags.iter().map(|f| tag_condition(f, args)).collect();
        let joiner = if filter.tag_match_any {
            " OR "
        } else {
            " AND "
        };
        conds.push(format!("({})", tags.join(joiner)));
    }
    if let Some(proxied) = filter.proxied {
        conds.push(if proxied { "0" } else { "1" }.to_string());
    }
    let mut cond = "r.zone_id = ?1".to_string();
    if !conds.is_empty() {
        let joiner = if filter.match_any { " OR " } else { " AND " };
        cond.push_str(&format!(" AND ({})", conds.join(joiner)));
    }
    if let Some(search) = &filter.search {
        args.push(Value::Text(like_pattern(TextOp::Contains, search)));
        let n = args.len();
        cond.push_str(&format!(
            " AND (r.name LIKE ?{n} ESCAPE '\\' OR r.content LIKE ?{n} ESCAPE '\\' \
             OR m.comment LIKE ?{n} ESCAPE '\\')"
        ));
    }
    cond
}

impl crate::storage::RecordStore for Store {
    fn zone_records(&self, zone_id: &str) -> Result<Vec<Record>, StoreError> {
        let conn = self.read_conn();
        // A zone holding a good share of all records is read by one pass over the table, in
        // the order its pages lie on disk; a smaller one through the index, which costs a
        // lookup of each row. The pass reads at most four rows for each of the zone's.
        let Some((zone, all)) = conn
            .query_row(
                "SELECT record_count, (SELECT total(record_count) FROM zones) FROM zones \
                 WHERE id = ?1",
                [zone_id],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)? as i64)),
            )
            .optional()?
        else {
            return Ok(Vec::new());
        };
        let access = if zone * 4 >= all { "NOT INDEXED" } else { "" };
        let mut stmt = conn.prepare(&format!(
            "SELECT owner, type, ttl, rdata, rowid FROM records {access} WHERE zone_id = ?1"
        ))?;
        let mut rows = stmt.query([zone_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            // The row's id is read only to name a bad one.
            out.push(stored_record(row, 0, || {
                format!("rowid {:?}", row.get::<_, i64>(4))
            })?);
        }
        Ok(out)
    }

    fn record_keys(&self, zone_id: &str) -> Result<Vec<(String, Record)>, StoreError> {
        let conn = self.read_conn();
        let mut stmt =
            conn.prepare("SELECT id, owner, type, ttl, rdata FROM records WHERE zone_id = ?1")?;
        let mut rows = stmt.query([zone_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let record = stored_record(row, 1, || id.clone())?;
            out.push((id, record));
        }
        Ok(out)
    }

    fn record_row(&self, zone_id: &str, record: &Record) -> Result<Option<RecordRow>, StoreError> {
        let conn = self.read_conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} \
             WHERE r.zone_id = ?1 AND r.name = ?2 AND r.type = ?3 AND r.rdata = ?4 LIMIT 1"
        ))?;
        let raw = stmt
            .query_row(
                params![
                    zone_id,
                    record.owner.to_api(),
                    record.rtype,
                    record.rdata.as_ref()
                ],
                raw_record,
            )
            .optional()?;
        raw.map(record_from_raw).transpose()
    }

    fn count_rows(&self, zone_id: &str) -> Result<u64, StoreError> {
        let n: i64 = self.read_conn().query_row(
            "SELECT count(*) FROM records INDEXED BY records_zone_name_type WHERE zone_id = ?1",
            [zone_id],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    fn taken_content_ids(&self, zone_id: &str) -> Result<Vec<String>, StoreError> {
        let conn = self.read_conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, owner, type, ttl, rdata FROM records INDEXED BY records_from_content \
             WHERE zone_id = ?1 AND from_content = 1",
        )?;
        let mut rows = stmt.query([zone_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let record = stored_record(row, 1, || id.clone())?;
            if crate::content_id(zone_id, &record) != id {
                out.push(id);
            }
        }
        Ok(out)
    }

    fn list_records(
        &self,
        zone_id: &str,
        filter: &RecordFilter,
        page: Page,
    ) -> Result<(Vec<RecordRow>, u64), StoreError> {
        let mut args: Vec<Value> = vec![Value::Text(zone_id.to_string())];
        let cond = record_conditions(filter, &mut args);
        let conn = self.read_conn();
        let total: i64 = conn.query_row(
            &format!("SELECT count(*) FROM {RECORD_FROM} WHERE {cond}"),
            params_from_iter(&args),
            |r| r.get(0),
        )?;
        let dir = if filter.descending { "DESC" } else { "ASC" };
        // Only whitelisted column names go into the text; ties go by name, type and age.
        let order = match filter.order {
            RecordOrder::Name | RecordOrder::Proxied => format!("r.name {dir}, r.type {dir}"),
            RecordOrder::Type => format!("r.type {dir}, r.name {dir}"),
            RecordOrder::Content => format!("r.content {dir}, r.name {dir}, r.type {dir}"),
            RecordOrder::Ttl => format!("r.ttl {dir}, r.name {dir}, r.type {dir}"),
        };
        let n = args.len();
        let mut stmt = conn.prepare(&format!(
            "SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE {cond}
             ORDER BY {order}, r.rowid {dir} LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        ))?;
        args.push(Value::Integer(page.limit()));
        args.push(Value::Integer(page.offset()));
        let rows = stmt.query_map(params_from_iter(&args), raw_record)?;
        let records = rows
            .map(|r| record_from_raw(r?))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((records, total as u64))
    }

    fn record(&self, zone_id: &str, id: &str) -> Result<Option<RecordRow>, StoreError> {
        let conn = self.read_conn();
        let raw = conn
            .query_row(
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE r.id = ?1 AND r.zone_id = ?2"
                ),
                [id, zone_id],
                raw_record,
            )
            .optional()?;
        raw.map(record_from_raw).transpose()
    }

    fn soa_record(&self, zone_id: &str) -> Result<Option<RecordRow>, StoreError> {
        let conn = self.read_conn();
        let raw = conn
            .query_row(
                &format!("SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} {SOA_WHERE}"),
                params![zone_id, rtype::SOA],
                raw_record,
            )
            .optional()?;
        raw.map(record_from_raw).transpose()
    }

    fn apply_record_change(&self, change: &RecordChange<'_>) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let mut counted = 0i64;
        {
            // A record without a row (imported, or transferred before) has nothing to delete.
            let mut delete =
                tx.prepare_cached("DELETE FROM records WHERE id = ?1 AND zone_id = ?2")?;
            for id in &change.deletes {
                counted -= delete.execute([id, &change.zone_id])? as i64;
            }
        }
        for rec in &change.updates {
            match update_record(&tx, &change.zone_id, rec) {
                // The record had no row: it gets one now, under the id it was shown with.
                Err(StoreError::NotFound { .. }) => {
                    insert_record(&tx, &change.zone_id, rec)?;
                    tx.prepare_cached("UPDATE records SET from_content = 1 WHERE id = ?1")?
                        .execute([&rec.id])?;
                    counted += 1;
                }
                other => other?,
            }
        }
        for rec in &change.inserts {
            insert_record(&tx, &change.zone_id, rec)?;
        }
        count_records(&tx, &change.zone_id, counted + change.inserts.len() as i64)?;
        let n = tx.execute(
            "UPDATE zones SET serial = ?2, modified = ?3 WHERE id = ?1",
            params![change.zone_id, change.serial as i64, format_time(now())],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "zone",
                id: change.zone_id.clone(),
            });
        }
        if let Some(j) = &change.journal {
            crate::journal::append(&tx, &change.zone_id, std::slice::from_ref(j))?;
        }
        if let Some(version) = &change.version {
            crate::snapshot::write_if_unchained(&tx, &change.zone_id, version)?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::prelude::*;
    use crate::{
        new_id, now, Page, RecordChange, RecordFilter, RecordRow, Store, TextFilter, TextOp,
        ZoneKind, ZoneRow,
    };
    use tandem_zone::record::rtype;
    use tandem_zone::{Name, Record};

    pub(crate) fn row(zone_id: &str, name: &str, t: u16, rdata: &[u8]) -> RecordRow {
        let owner = Name::parse(name).unwrap();
        RecordRow {
            id: new_id(),
            zone_id: zone_id.to_string(),
            name: owner.to_api(),
            record: Record::new(owner, t, 300, rdata.to_vec()),
            content: "x".into(),
            priority: None,
            auto_ttl: false,
            meta: Default::default(),
            created: now(),
            modified: now(),
        }
    }

    pub(crate) fn zone(store: &Store, name: &str) -> ZoneRow {
        let z = ZoneRow {
            id: new_id(),
            account_id: store.default_account().unwrap().id,
            name: name.into(),
            kind: ZoneKind::Full,
            status: "active".into(),
            serial: 1,
            created: now(),
            modified: now(),
        };
        store
            .create_zone(&z, &[row(&z.id, name, rtype::A, &[192, 0, 2, 1])])
            .unwrap();
        z
    }

    #[test]
    fn the_soa_is_found_through_the_index_not_by_a_scan() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let z = zone(&store, "example.com");
        let plan: Vec<String> = {
            let conn = store.read_conn();
            let mut stmt = conn
                .prepare(&format!(
                    "EXPLAIN QUERY PLAN SELECT r.id FROM {} {}",
                    super::RECORD_FROM,
                    super::SOA_WHERE
                ))
                .unwrap();
            let rows = stmt
                .query_map(rusqlite::params![z.id, rtype::SOA], |r| {
                    r.get::<_, String>(3)
                })
                .unwrap();
            rows.map(Result::unwrap).collect()
        };
        let records = plan.iter().find(|l| l.contains(" r ")).unwrap();
        assert!(
            records.contains("records_zone_name_type (zone_id=? AND name=? AND type=?)"),
            "{plan:?}"
        );
    }

    #[test]
    fn large_and_small_zones_load_their_own_records_by_scan_and_by_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let big = zone(&store, "big.example");
        let small = zone(&store, "small.example");
        let inserts = (0..100u8)
            .map(|i| {
                row(
                    &big.id,
                    &format!("h{i}.big.example"),
                    rtype::A,
                    &[10, 0, 0, i],
                )
            })
            .collect();
        store
            .apply_record_change(&RecordChange {
                journal: None,
                version: None,
                zone_id: big.id.clone(),
                serial: 2,
                deletes: vec![],
                updates: vec![],
                inserts,
            })
            .unwrap();
        // 101 of 102 records: one pass over the table; 1 of 102: the index.
        let owners = |z: &ZoneRow| -> Vec<String> {
            let mut v: Vec<String> = store
                .zone_records(&z.id)
                .unwrap()
                .iter()
                .map(|r| r.owner.to_api())
                .collect();
            v.sort();
            v
        };
        let b = owners(&big);
        assert_eq!(b.len(), 101);
        assert!(b.iter().all(|n| n.ends_with("big.example")), "{b:?}");
        assert_eq!(owners(&small), ["small.example"]);
        assert!(store.zone_records("no-such-zone").unwrap().is_empty());
    }

    #[test]
    fn like_patterns_escape_the_wildcards() {
        use super::like_pattern;
        assert_eq!(like_pattern(TextOp::Exact, "a%b_c\\d"), "a\\%b\\_c\\\\d");
        assert_eq!(like_pattern(TextOp::Contains, "x"), "%x%");
        assert_eq!(like_pattern(TextOp::StartsWith, "x"), "x%");
        assert_eq!(like_pattern(TextOp::EndsWith, "x"), "%x");
    }

    #[test]
    fn change_is_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let z = zone(&store, "example.com");
        assert!(matches!(
            store.create_zone(
                &ZoneRow {
                    id: new_id(),
                    ..z.clone()
                },
                &[]
            ),
            Err(crate::StoreError::ZoneExists(_))
        ));
        let keep = store.record_keys(&z.id).unwrap()[0].0.clone();
        // A row that is not there is nothing to delete (a full zone's record may have none);
        // the second insert under one id fails the change, and nothing of it is written.
        let www = row(&z.id, "www.example.com", rtype::A, &[192, 0, 2, 2]);
        let bad = RecordChange {
            journal: None,
            version: None,
            zone_id: z.id.clone(),
            serial: 2,
            deletes: vec![keep.clone(), "nope".into()],
            updates: vec![],
            inserts: vec![www.clone(), www.clone()],
        };
        assert!(store.apply_record_change(&bad).is_err());
        assert_eq!(store.zone_records(&z.id).unwrap().len(), 1);
        assert_eq!(store.zone(&z.id).unwrap().unwrap().serial, 1);

        let good = RecordChange {
            journal: None,
            version: None,
            deletes: vec![keep],
            inserts: vec![www],
            ..bad
        };
        store.apply_record_change(&good).unwrap();
        let recs = store.zone_records(&z.id).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].owner, Name::parse("www.example.com").unwrap());
        assert_eq!(store.zone(&z.id).unwrap().unwrap().serial, 2);

        let (page, total) = store
            .list_records(
                &z.id,
                &RecordFilter {
                    rtype: Some(rtype::A),
                    name: vec![TextFilter {
                        op: TextOp::Exact,
                        values: vec!["www.example.com".into()],
                    }],
                    ..RecordFilter::default()
                },
                Page {
                    page: 1,
                    per_page: 10,
                },
            )
            .unwrap();
        assert_eq!(total, 1);
        assert_eq!(page[0].record.rdata.as_ref(), &[192, 0, 2, 2]);

        assert!(store.delete_zone(&z.id).unwrap());
        assert!(
            store.zone_records(&z.id).unwrap().is_empty(),
            "records cascade"
        );
        assert!(!store.delete_zone(&z.id).unwrap());
    }

    #[test]
    fn content_of_an_older_form_is_recomputed_once_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let z = {
            let store = Store::open(dir.path()).unwrap();
            let z = zone(&store, "example.com");
            let mx = Record::new(
                Name::parse("example.com").unwrap(),
                rtype::MX,
                300,
                b"\x00\x0a\x04mail\x07example\x03com\x00".to_vec(),
            );
            let change = RecordChange {
                journal: None,
                version: None,
                zone_id: z.id.clone(),
                serial: 2,
                deletes: vec![],
                updates: vec![],
                inserts: vec![RecordRow::new(&z.id, mx, now())],
            };
            store.apply_record_change(&change).unwrap();
            // What an older store holds: content with trailing dots and no form marker.
            let conn = store.write_conn();
            conn.execute("UPDATE records SET content = content || '.'", [])
                .unwrap();
            conn.execute("DELETE FROM store_meta WHERE key = 'content_form'", [])
                .unwrap();
            z
        };
        let store = Store::open(dir.path()).unwrap();
        let (rows, _) = store
            .list_records(
                &z.id,
                &RecordFilter {
                    rtype: Some(rtype::MX),
                    ..RecordFilter::default()
                },
                Page {
                    page: 1,
                    per_page: 10,
                },
            )
            .unwrap();
        assert_eq!(rows[0].content, "mail.example.com");
        assert_eq!(rows[0].priority, Some(10));
    }

    #[test]
    fn a_store_of_schema_v6_opens_with_its_comments_moved_and_content_refreshed() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = rusqlite::Connection::open(dir.path().join(crate::DB_FILE)).unwrap();
            crate::schema::migrate_to(&mut conn, 6).unwrap();
            conn.execute_batch(
                "INSERT INTO accounts (id, name, created) VALUES ('a', 'default', '2026-01-01T00:00:00Z');
                 INSERT INTO zones (id, account_id, name, type, status, serial, created, modified)
                   VALUES ('z', 'a', 'example.com', 'full', 'active', 1,
                           '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO records (id, zone_id, name, owner, type, ttl, rdata, content, priority,
                                      comment, created, modified)
                 VALUES ('r', 'z', 'www.example.com', ?1, 5, 300, ?2, 'old.example.net.', NULL,
                         'kept', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z')",
                rusqlite::params![
                    b"\x03www\x07example\x03com\x00".to_vec(),
                    b"\x03old\x07example\x03net\x00".to_vec()
                ],
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let row = store.record("z", "r").unwrap().unwrap();
        assert_eq!(row.meta.comment.as_deref(), Some("kept"));
        assert_eq!(
            row.meta.comment_modified.map(crate::format_time).as_deref(),
            Some("2026-01-02T00:00:00.000000Z"),
            "the comment's time is the record's last change"
        );
        assert_eq!(row.content, "old.example.net");
        assert!(!row.auto_ttl);
    }
}
