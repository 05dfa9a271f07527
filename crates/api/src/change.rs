//! One committed change to a `full` zone (PRODUCT §3 "Zones and records", §4): the records an
//! edit removes and adds become one new version whose serial is the current one plus one
//! (RFC 1982 §3.1), or an imported SOA's serial when that is newer. The order is fixed: build
//! the next version (which checks the zone rules) → write the store transaction → publish and
//! plan NOTIFY (both `ServedZone::commit`) → tell the change hook. A per-zone lock keeps two
//! edits of one zone from interleaving.

use crate::auth::{visible_zone, Caller};
use crate::content::shown;
use crate::envelope::code;
use crate::{ApiError, ApiState};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tandem_server::zone::{Durability, ServedZone};
use tandem_store::{now, JournalWrite, RecordChange, RecordRow, ZoneKind, ZoneRow};
use tandem_zone::record::rtype;
use tandem_zone::text::record_to_line;
use tandem_zone::{serial, Name, Record, Soa, ZoneDiff, ZoneError, ZoneVersion};

/// One write lock per zone, created on first use.
#[derive(Default)]
pub(crate) struct ZoneLocks {
    map: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl ZoneLocks {
    fn get(&self, zone_id: &str) -> Arc<Mutex<()>> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(zone_id.to_string()).or_default().clone()
    }

    fn forget(&self, zone_id: &str) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(zone_id);
    }
}

impl ApiState {
    /// Runs `f` (blocking) while holding the write lock of `zone_id`.
    pub(crate) fn with_zone_lock<R>(&self, zone_id: &str, f: impl FnOnce() -> R) -> R {
        let lock = self.inner.locks.get(zone_id);
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        f()
    }

    /// Runs `f` (blocking) on the zone `zone_id` as the caller may see it, holding the zone's
    /// write lock; the zone is read again under the lock, so a concurrent delete is seen.
    pub(crate) fn with_locked_zone<R>(
        &self,
        caller: &Caller,
        zone_id: &str,
        f: impl FnOnce(&ZoneRow) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let zone = visible_zone(self, caller, zone_id)?;
        self.with_zone_lock(&zone.id, || f(&visible_zone(self, caller, zone_id)?))
    }

    /// Drops the lock of a deleted zone.
    pub(crate) fn forget_zone_lock(&self, zone_id: &str) {
        self.inner.locks.forget(zone_id);
    }
}

/// What an edit wants, before the serial and the SOA are settled.
#[derive(Default)]
pub(crate) struct Edit {
    /// Rows to delete: id and the record as served.
    pub deletes: Vec<(String, Record)>,
    /// Rows to rewrite: the record as served now, and the new row (same id).
    pub updates: Vec<(Record, RecordRow)>,
    pub inserts: Vec<RecordRow>,
    /// Records added without a row (imports): they go by their content id.
    pub bare_added: Vec<Record>,
    /// Records without a row taken out.
    pub bare_removed: Vec<Record>,
    /// The records added are known to be distinct, and none is in the zone unless also
    /// taken out (an import checks that itself, for a million records at a time).
    pub added_distinct: bool,
    /// The SOA row as wanted (its serial is replaced); `None` keeps the current fields.
    pub soa: Option<RecordRow>,
    /// The serial of an imported SOA, used when newer than the current one.
    pub imported_serial: Option<u32>,
}

/// What the change hook is told after a change is committed and published.
pub struct ZoneChange<'a> {
    pub zone_id: &'a str,
    pub serial: u32,
    /// Records removed and added, SOA first on each side (RFC 1995 §4).
    pub diff: &'a ZoneDiff,
}

/// The outcome of [`commit`].
pub(crate) struct Committed {
    /// The SOA row as now stored.
    pub soa: RecordRow,
}

/// A new store row for a record: fresh id, content in presentation form, created now.
pub(crate) fn new_row(zone_id: &str, record: Record) -> RecordRow {
    RecordRow::new(zone_id, record, now())
}

/// The apex of a stored zone.
pub(crate) fn apex_of(zone: &ZoneRow) -> Result<Name, ApiError> {
    Name::parse(&zone.name)
        .map_err(|_| ApiError::internal(format!("stored zone name {:?}", zone.name)))
}

/// A `full` zone's served handle and current version; 400 for secondary zones.
pub(crate) fn editable(
    state: &ApiState,
    zone: &ZoneRow,
) -> Result<(Arc<ServedZone>, Arc<ZoneVersion>), ApiError> {
    if zone.kind != ZoneKind::Full {
        return Err(ApiError::bad_request(format!(
            "zone {} is a secondary zone: its records are read-only copies of the primary's",
            zone.name
        )));
    }
    let served = state
        .zones()
        .get(&apex_of(zone)?)
        .ok_or_else(|| ApiError::internal(format!("zone {} is not loaded", zone.name)))?;
    let version = served
        .current()
        .ok_or_else(|| ApiError::internal(format!("zone {} has no version", zone.name)))?;
    Ok((served, version))
}

/// Answers whether a version holds an exact RR (owner, type, RDATA). A small RRset is scanned;
/// a large one is indexed the first time it is asked about, so checking k records against a
/// set of n costs O(n + k), not O(n·k), and checking a million records at a million owners
/// allocates nothing.
pub(crate) struct RrLookup<'a> {
    version: &'a ZoneVersion,
    large: foldhash::HashMap<(Name, u16), foldhash::HashSet<bytes::Bytes>>,
}

/// Sets up to this size are scanned rather than indexed.
const SCAN_MAX: usize = 16;

impl<'a> RrLookup<'a> {
    pub(crate) fn new(version: &'a ZoneVersion) -> Self {
        RrLookup {
            version,
            large: Default::default(),
        }
    }

    pub(crate) fn has(&mut self, r: &Record) -> bool {
        let Some(set) = self
            .version
            .node(r.owner.as_wire())
            .and_then(|n| n.rrset(r.rtype))
        else {
            return false;
        };
        if set.len() <= SCAN_MAX {
            return set.rdatas().any(|rd| rd == r.rdata.as_ref());
        }
        self.large
            .entry((r.owner.clone(), r.rtype))
            .or_insert_with(|| set.rdatas().map(bytes::Bytes::copy_from_slice).collect())
            .contains(&r.rdata)
    }
}

/// Commits an edit as one new version. Call with the zone's write lock held.
pub(crate) fn commit(state: &ApiState, zone: &ZoneRow, edit: Edit) -> Result<Committed, ApiError> {
    let (served, version) = editable(state, zone)?;
    let current = version.serial();
    let serial = match edit.imported_serial {
        Some(s) if serial::is_newer(s, current) => s,
        _ => serial::add(current, 1),
    };
    let old_soa = state
        .store()
        .soa_record(&zone.id)?
        .ok_or_else(|| ApiError::internal(format!("zone {} has no stored SOA", zone.name)))?;
    // A write that leaves the zone as it was (RDATA, TTLs and SOA fields alike) makes no new
    // version: no serial, no journal entry, no NOTIFY (PRODUCT §3). Rows whose metadata
    // changed are still written.
    let soa_unchanged = edit
        .soa
        .as_ref()
        .is_none_or(|w| same_soa_fields(&old_soa.record, &w.record));
    let serial_unchanged = !edit
        .imported_serial
        .is_some_and(|s| serial::is_newer(s, current));
    let records_unchanged = edit.deletes.is_empty()
        && edit.inserts.is_empty()
        && edit.bare_added.is_empty()
        && edit.bare_removed.is_empty()
        && edit.updates.iter().all(|(old, new)| *old == new.record);
    if soa_unchanged && serial_unchanged && records_unchanged {
        if !edit.updates.is_empty() {
            state.store().apply_record_change(&RecordChange {
                zone_id: zone.id.clone(),
                serial: current,
                deletes: Vec::new(),
                updates: edit.updates.into_iter().map(|(_, row)| row).collect(),
                inserts: Vec::new(),
                journal: None,
                version: None,
            })?;
        }
        return Ok(Committed { soa: old_soa });
    }
    let soa = next_soa(&old_soa, edit.soa, serial)?;

    let mut diff = ZoneDiff {
        removed: vec![old_soa.record.clone()],
        added: vec![soa.record.clone()],
    };
    diff.removed
        .extend(edit.deletes.iter().map(|(_, r)| r.clone()));
    for (old, new) in &edit.updates {
        if *old != new.record {
            diff.removed.push(old.clone());
            diff.added.push(new.record.clone());
        }
    }
    diff.added
        .extend(edit.inserts.iter().map(|r| r.record.clone()));
    diff.removed.extend(edit.bare_removed);
    diff.added.extend(edit.bare_added);
    if !edit.added_distinct {
        check_duplicates(&version, &diff)?;
    }
    let next = Arc::new(version.apply(&diff).map_err(|e| zone_error(e, &diff))?);

    let mut updates = vec![soa.clone()];
    updates.extend(edit.updates.into_iter().map(|(_, row)| row));
    served.commit(next, Durability::BeforeServing, |next| {
        state.store().apply_record_change(&RecordChange {
            zone_id: zone.id.clone(),
            serial,
            deletes: edit.deletes.into_iter().map(|(id, _)| id).collect(),
            updates,
            inserts: edit.inserts,
            journal: Some(JournalWrite {
                from_serial: current,
                to_serial: serial,
                diff: std::borrow::Cow::Borrowed(&diff),
                zone_records: next.record_count(),
                limits: state.config().journal,
            }),
            version: Some(next.clone()),
        })
    })?;
    tracing::info!(
        zone = %zone.name,
        serial,
        removed = diff.removed.len() - 1,
        added = diff.added.len() - 1,
        "zone changed"
    );
    if let Some(hook) = state.inner.hook.get() {
        hook(&ZoneChange {
            zone_id: &zone.id,
            serial,
            diff: &diff,
        });
    }
    Ok(Committed { soa })
}

/// The SOA row of the next version: the wanted fields (or the old ones) with the new serial.
fn next_soa(
    old: &RecordRow,
    wanted: Option<RecordRow>,
    serial: u32,
) -> Result<RecordRow, ApiError> {
    let mut row = wanted.unwrap_or_else(|| old.clone());
    let mut soa = Soa::from_rdata(&row.record.rdata)
        .ok_or_else(|| ApiError::field("content", "malformed SOA record"))?;
    soa.serial = serial;
    row.record.rdata = soa.to_rdata();
    row.content = shown(&row.record).0;
    row.id = old.id.clone();
    row.created = old.created;
    row.modified = now();
    Ok(row)
}

/// Refuses a change that would add an RR the zone already has, or the same RR twice: each row
/// of the store is one distinct RR of the version.
/// What makes an RR distinct: owner, type and RDATA (RFC 2181 §5).
fn key(r: &Record) -> (&Name, u16, &bytes::Bytes) {
    (&r.owner, r.rtype, &r.rdata)
}

fn check_duplicates(version: &ZoneVersion, diff: &ZoneDiff) -> Result<(), ApiError> {
    let removed: foldhash::HashSet<_> = diff.removed.iter().map(key).collect();
    let mut added =
        foldhash::HashSet::with_capacity_and_hasher(diff.added.len(), Default::default());
    let mut existing = RrLookup::new(version);
    for r in diff.added.iter().filter(|r| r.rtype != rtype::SOA) {
        let k = key(r);
        if (existing.has(r) && !removed.contains(&k)) || !added.insert(k) {
            return Err(ApiError::record_conflict(
                code::IDENTICAL_RECORD,
                format!(
                    "an identical record (same name, type and content) already exists: {}",
                    record_to_line(r)
                ),
            ));
        }
    }
    Ok(())
}

/// Whether two SOA records differ only in their serial.
fn same_soa_fields(old: &Record, new: &Record) -> bool {
    match (Soa::from_rdata(&old.rdata), Soa::from_rdata(&new.rdata)) {
        (Some(mut a), Some(b)) => {
            a.serial = b.serial;
            a.to_rdata() == b.to_rdata() && old.ttl == new.ttl
        }
        _ => false,
    }
}

/// A zone rule the change breaks, with the provider's codes for the CNAME conflicts its
/// clients look for: 81053 when the change puts a CNAME where other data is (or a second
/// CNAME), 81054 when it puts other data where a CNAME is.
fn zone_error(e: ZoneError, diff: &ZoneDiff) -> ApiError {
    let message = e.to_string();
    match &e {
        ZoneError::CnameAndOther { owner } => {
            let adds_cname = diff.added.iter().any(|r| {
                r.rtype == rtype::CNAME && r.owner.to_api() == owner.trim_end_matches('.')
            });
            let code = if adds_cname {
                code::CNAME_BESIDE_OTHERS
            } else {
                code::CNAME_EXISTS
            };
            ApiError::record_conflict(code, message)
        }
        ZoneError::MultipleCname { .. } => {
            ApiError::record_conflict(code::CNAME_BESIDE_OTHERS, message)
        }
        _ => ApiError::bad_request(message),
    }
}
