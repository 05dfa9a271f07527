//! Snapshots: the records of a zone at one serial as one checksummed blob in
//! `zone_snapshots` (schema V10), plus the journal of changes since it as the redo log. A
//! transfer in writes no row per record: an AXFR writes a snapshot, an IXFR its differences
//! (which the journal holds anyway, for our own secondaries). An API change of a `full` zone
//! writes its difference to the journal, and a snapshot when the journal no longer leads from
//! the last one (`RecordChange::version`); its rows keep only what the API remembers of some
//! records (schema V12). A restart reads the snapshot in one pass and replays the journal
//! from its serial to the zone's committed serial.
//!
//! The rule that keeps the two consistent: journal entries newer than the snapshot are never
//! dropped without first writing a snapshot at the zone's serial, in the same transaction
//! (trimming in [`crate::journal::append`] is followed by [`write_if_unchained`]; emptying
//! the IXFR history calls [`compact`] first). So the redo chain from the snapshot's serial to
//! the zone's always exists, and the IXFR history never holds what the redo log lacks.
//!
//! Layout of a blob, integers big-endian:
//!
//! ```text
//! "TNDSNAP1"  serial u32  count u64
//! count × ( owner_len u8 [0: the owner of the record before]  owner (wire)
//!           type u16  ttl u32  rdlen u16  rdata )
//! SHA-256 of everything before it (32 octets)
//! ```
//!
//! The records are written one node at a time, so most owners are written once. A blob that
//! is torn, truncated or altered fails its checksum and is refused at start, naming the zone,
//! rather than served in part.

use crate::journal;
use crate::{format_time, now, StoreError};
use bytes::Bytes;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};
use tandem_zone::{Name, Record, ZoneDiff, ZoneVersion};

const MAGIC: &[u8; 8] = b"TNDSNAP1";
const HEADER: usize = MAGIC.len() + 4 + 8;
const CHECKSUM: usize = 32;

/// Encodes every record of `version` (the SOA included) at its serial.
pub(crate) fn encode(version: &ZoneVersion) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + version.record_count() * 24 + CHECKSUM);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.serial().to_be_bytes());
    out.extend_from_slice(&(version.record_count() as u64).to_be_bytes());
    let mut count = 0u64;
    for (owner, node) in version.nodes() {
        let mut first = true;
        for set in node.rrsets() {
            for (rdata, ttl) in set.members() {
                if first {
                    // A wire name is at most 255 octets (RFC 1035 §3.1), so it fits a u8.
                    out.push(owner.len() as u8);
                    out.extend_from_slice(owner);
                    first = false;
                } else {
                    out.push(0);
                }
                out.extend_from_slice(&set.rtype().to_be_bytes());
                out.extend_from_slice(&ttl.to_be_bytes());
                out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
                out.extend_from_slice(rdata);
                count += 1;
            }
        }
    }
    debug_assert_eq!(count, version.record_count() as u64);
    // The count in the header is what was written, whatever the version claimed.
    out[HEADER - 8..HEADER].copy_from_slice(&count.to_be_bytes());
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

/// A decoded snapshot.
pub(crate) struct Decoded {
    pub serial: u32,
    pub records: Vec<Record>,
}

/// Decodes a blob, checking its checksum first; the error says what is wrong.
pub(crate) fn decode(blob: Vec<u8>) -> Result<Decoded, String> {
    if blob.len() < HEADER + CHECKSUM || &blob[..MAGIC.len()] != MAGIC {
        return Err(format!(
            "not a snapshot ({} octets, no TNDSNAP1 header)",
            blob.len()
        ));
    }
    let body = blob.len() - CHECKSUM;
    if Sha256::digest(&blob[..body])[..] != blob[body..] {
        return Err("checksum mismatch: the snapshot is torn or damaged".into());
    }
    let serial = u32::from_be_bytes(blob[8..12].try_into().expect("4 octets"));
    let count = u64::from_be_bytes(blob[12..20].try_into().expect("8 octets"));
    // Every RDATA is a slice of the one buffer, not an allocation of its own.
    let data = Bytes::from(blob);
    let mut at = HEADER;
    let take = |at: &mut usize, n: usize| -> Result<std::ops::Range<usize>, String> {
        let r = *at..*at + n;
        if r.end > body {
            return Err(format!("record data runs past the end at octet {}", *at));
        }
        *at = r.end;
        Ok(r)
    };
    let mut records = Vec::with_capacity(count.min(body as u64 / 11) as usize);
    let mut owner: Option<Name> = None;
    for i in 0..count {
        let len = data[take(&mut at, 1)?.start] as usize;
        if len > 0 {
            let wire = take(&mut at, len)?;
            owner = Some(
                Name::from_wire(&data[wire])
                    .map_err(|e| format!("record {i}: bad owner name: {e}"))?,
            );
        }
        let owner = owner
            .clone()
            .ok_or_else(|| format!("record {i}: no owner before it"))?;
        let fixed = take(&mut at, 8)?;
        let f = &data[fixed];
        let rtype = u16::from_be_bytes([f[0], f[1]]);
        let ttl = u32::from_be_bytes([f[2], f[3], f[4], f[5]]);
        let rdlen = u16::from_be_bytes([f[6], f[7]]) as usize;
        let rdata = data.slice(take(&mut at, rdlen)?);
        records.push(Record::new(owner, rtype, ttl, rdata));
    }
    if at != body {
        return Err(format!("{} octets after the last record", body - at));
    }
    Ok(Decoded { serial, records })
}

/// The serial of zone `zone_id`'s snapshot, if it has one.
pub(crate) fn serial_of(conn: &Connection, zone_id: &str) -> Result<Option<u32>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT serial FROM zone_snapshots WHERE zone_id = ?1")?
        .query_row([zone_id], |r| r.get::<_, i64>(0))
        .optional()?
        .map(|s| s as u32))
}

/// Writes (or replaces) the snapshot of zone `zone_id` as `version`, inside the caller's
/// transaction.
pub(crate) fn write(
    tx: &Transaction<'_>,
    zone_id: &str,
    version: &ZoneVersion,
) -> Result<(), StoreError> {
    write_encoded(tx, zone_id, version, &encode(version))
}

/// [`write`] with the blob already encoded from `version` (outside the writer's lock).
pub(crate) fn write_encoded(
    tx: &Transaction<'_>,
    zone_id: &str,
    version: &ZoneVersion,
    blob: &[u8],
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO zone_snapshots (zone_id, serial, records, bytes, data, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (zone_id) DO UPDATE SET serial = excluded.serial,
             records = excluded.records, bytes = excluded.bytes, data = excluded.data,
             created = excluded.created",
    )?
    .execute(params![
        zone_id,
        version.serial() as i64,
        version.record_count() as i64,
        blob.len() as i64,
        blob,
        format_time(now()),
    ])?;
    Ok(())
}

/// Deletes the record rows of zone `zone_id` (an older store kept a secondary zone's records
/// as rows) and counts them out, inside the caller's transaction.
pub(crate) fn drop_rows(tx: &Transaction<'_>, zone_id: &str) -> Result<(), StoreError> {
    let gone = tx.execute("DELETE FROM records WHERE zone_id = ?1", [zone_id])?;
    crate::records::count_records(tx, zone_id, -(gone as i64))
}

/// After the journal of zone `zone_id` changed on the way to `version`: writes a snapshot of
/// `version` unless the zone has one from which the journal still chains to `version`'s
/// serial. Returns whether it wrote one.
pub(crate) fn write_if_unchained(
    tx: &Transaction<'_>,
    zone_id: &str,
    version: &ZoneVersion,
) -> Result<bool, StoreError> {
    let chained = match serial_of(tx, zone_id)? {
        None => false,
        Some(s) if s == version.serial() => true,
        Some(s) => journal::chain(tx, zone_id, s, version.serial())?.is_some(),
    };
    if !chained {
        write(tx, zone_id, version)?;
    }
    Ok(!chained)
}

/// What a restart loads of a zone stored as a snapshot: its records at the snapshot's serial
/// and the journal's differences from there to the zone's committed serial.
pub struct SnapshotLoad {
    pub serial: u32,
    pub records: Vec<Record>,
    pub redo: Vec<ZoneDiff>,
}

/// Reads the snapshot of zone `zone_id` and its redo chain up to `to_serial`.
pub(crate) fn load(
    conn: &Connection,
    zone_id: &str,
    to_serial: u32,
) -> Result<Option<SnapshotLoad>, StoreError> {
    let row = conn
        .query_row(
            "SELECT records, data FROM zone_snapshots WHERE zone_id = ?1",
            [zone_id],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
        )
        .optional()?;
    let Some((count, blob)) = row else {
        return Ok(None);
    };
    let corrupt = |detail: String| StoreError::Corrupt {
        table: "zone_snapshots",
        id: zone_id.to_string(),
        detail,
    };
    let d = decode(blob).map_err(corrupt)?;
    if d.records.len() as i64 != count {
        return Err(corrupt(format!(
            "the row says {count} records, the snapshot holds {}",
            d.records.len()
        )));
    }
    let redo = if d.serial == to_serial {
        Vec::new()
    } else {
        journal::chain_diffs(conn, zone_id, d.serial, to_serial)?.ok_or_else(|| {
            corrupt(format!(
                "the snapshot is at serial {} and the journal does not lead from it to the \
                 committed serial {to_serial}",
                d.serial
            ))
        })?
    };
    Ok(Some(SnapshotLoad {
        serial: d.serial,
        records: d.records,
        redo,
    }))
}

/// Brings the snapshot of zone `zone_id` up to the zone's committed serial, so that the
/// journal can be emptied without losing the redo log; does nothing for a zone without a
/// snapshot or with one already at its serial.
pub(crate) fn compact(tx: &Transaction<'_>, zone_id: &str) -> Result<(), StoreError> {
    let (name, serial): (String, i64) = tx.query_row(
        "SELECT name, serial FROM zones WHERE id = ?1",
        [zone_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let serial = serial as u32;
    if serial_of(tx, zone_id)?.is_none_or(|s| s == serial) {
        return Ok(());
    }
    let Some(snap) = load(tx, zone_id, serial)? else {
        return Ok(());
    };
    let corrupt = |detail: String| StoreError::Corrupt {
        table: "zone_snapshots",
        id: zone_id.to_string(),
        detail,
    };
    let apex = Name::parse(&name).map_err(|e| corrupt(format!("zone name {name}: {e}")))?;
    let version = ZoneVersion::build(apex, snap.records)
        .and_then(|v| v.apply_all(&snap.redo))
        .map_err(|e| {
            corrupt(format!(
                "the snapshot and its journal do not make a zone: {e}"
            ))
        })?;
    write(tx, zone_id, &version)
}

impl crate::storage::SnapshotStore for crate::Store {
    fn zone_snapshot(
        &self,
        zone_id: &str,
        to_serial: u32,
    ) -> Result<Option<SnapshotLoad>, StoreError> {
        load(&self.read_conn(), zone_id, to_serial)
    }

    fn move_to_snapshot(&self, zone_id: &str, version: &ZoneVersion) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let serial: i64 =
            tx.query_row("SELECT serial FROM zones WHERE id = ?1", [zone_id], |r| {
                r.get(0)
            })?;
        if serial as u32 != version.serial() {
            return Err(StoreError::Rejected {
                field: "snapshot".into(),
                message: format!(
                    "the zone is committed at serial {serial}, the version at {}",
                    version.serial()
                ),
            });
        }
        let kind: String =
            tx.query_row("SELECT type FROM zones WHERE id = ?1", [zone_id], |r| {
                r.get(0)
            })?;
        if kind == crate::ZoneKind::Secondary.as_str() {
            drop_rows(&tx, zone_id)?;
        }
        write(&tx, zone_id, version)?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
