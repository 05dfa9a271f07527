//! The IXFR journal (RFC 1995 §4): the difference of every committed change of a zone, written
//! in the same transaction as the change, trimmed by depth, bytes and the size of the zone,
//! and read back as the run of differences from a client's serial to ours.

use crate::{format_time, now, Store, StoreError};
use rusqlite::{params, Connection, Transaction};
use std::borrow::Cow;
use tandem_zone::ZoneDiff;

/// A zone's history without its differences: sizes for trimming, serials for chains, the
/// newest first for the tail. Each is answered from the covering index `journal_zone_sizes`
/// (schema V11), never from the rows, whose small columns after the `diff` blob SQLite reaches
/// only through the blob's overflow pages.
const HISTORY_SIZES: &str =
    "SELECT seq, bytes, records FROM journal WHERE zone_id = ?1 ORDER BY seq";
const HISTORY_SERIALS: &str =
    "SELECT seq, from_serial, to_serial FROM journal WHERE zone_id = ?1 ORDER BY seq";
const HISTORY_NEWEST: &str =
    "SELECT seq, from_serial, records FROM journal WHERE zone_id = ?1 ORDER BY seq DESC";
const HISTORY_DEPTH: &str = "SELECT COUNT(*) FROM journal WHERE zone_id = ?1";

/// How much history a zone keeps (PRODUCT.md §5).
#[derive(Clone, Copy, Debug)]
pub struct JournalLimits {
    /// Most differences kept per zone.
    pub max_depth: usize,
    /// Most encoded octets kept per zone.
    pub max_bytes: usize,
    /// History is also dropped once it holds more records than twice the zone (then an AXFR
    /// is cheaper, as BIND's default `max-journal-size` reasons), but never below this many.
    pub min_records_budget: usize,
}

impl Default for JournalLimits {
    fn default() -> Self {
        JournalLimits {
            max_depth: 1000,
            max_bytes: 64 << 20,
            min_records_budget: 4096,
        }
    }
}

/// One difference to journal with a record change. An incoming IXFR lends its differences
/// (most of a million of them are never written: only the newest that fit the limits are), an
/// API change gives its own.
#[derive(Clone, Debug)]
pub struct JournalWrite<'a> {
    pub from_serial: u32,
    pub to_serial: u32,
    pub diff: Cow<'a, ZoneDiff>,
    /// Records in the zone after the change: history much larger than the zone is dropped,
    /// since an AXFR would then be cheaper than the IXFR.
    pub zone_records: usize,
    pub limits: JournalLimits,
}

/// Appends the differences of one transaction (oldest first) and trims the zone's history,
/// inside the caller's transaction. The zone's totals are read once, and only the newest
/// differences that fit the limits are written: an incoming IXFR of a million one-record
/// differences encodes and writes the last thousand, not a million rows to delete again. The
/// journal stays one chain: history is dropped oldest first, and when not every new
/// difference fits, the older history goes with the ones that do not.
pub(crate) fn append(
    tx: &Transaction<'_>,
    zone_id: &str,
    writes: &[JournalWrite<'_>],
) -> Result<(), StoreError> {
    let Some(last) = writes.last() else {
        return Ok(());
    };
    let limits = last.limits;
    let budget = (2 * last.zone_records).max(limits.min_records_budget);
    let over = |count: usize, bytes: usize, records: usize| {
        count > limits.max_depth || bytes > limits.max_bytes || records > budget
    };
    // The newest differences that fit on their own, newest first. A difference of more than
    // half the zone after it (an import of a whole zone) is not kept either: an AXFR of the
    // zone costs at most twice its IXFR (RFC 1995 §4 lets the server answer with one), and
    // the zone's snapshot is written instead (`snapshot::write_if_unchained`) of a second
    // copy of the zone in the journal.
    let (mut count, mut bytes, mut records) = (0usize, 0usize, 0usize);
    let mut kept: Vec<(&JournalWrite<'_>, Vec<u8>)> = Vec::new();
    for w in writes.iter().rev() {
        if w.diff.len() > (w.zone_records / 2).max(limits.min_records_budget) {
            break;
        }
        let blob = w.diff.to_bytes();
        if over(count + 1, bytes + blob.len(), records + w.diff.len()) {
            break;
        }
        count += 1;
        bytes += blob.len();
        records += w.diff.len();
        kept.push((w, blob));
    }
    if kept.len() < writes.len() {
        clear(tx, zone_id)?;
    } else {
        // Drop the oldest history until history and new differences fit together.
        let old: Vec<(i64, usize, usize)> = {
            let mut stmt = tx.prepare_cached(HISTORY_SIZES)?;
            let rows = stmt.query_map([zone_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as usize,
                    r.get::<_, i64>(2)? as usize,
                ))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let (mut c, mut b, mut r) = (count, bytes, records);
        for (_, ob, or) in &old {
            c += 1;
            b += ob;
            r += or;
        }
        let mut drop_to = None;
        for (seq, ob, or) in old {
            if !over(c, b, r) {
                break;
            }
            c -= 1;
            b -= ob;
            r -= or;
            drop_to = Some(seq);
        }
        if let Some(seq) = drop_to {
            tx.execute(
                "DELETE FROM journal WHERE zone_id = ?1 AND seq <= ?2",
                params![zone_id, seq],
            )?;
        }
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO journal (zone_id, from_serial, to_serial, diff, records, bytes, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let created = format_time(now());
    for (w, blob) in kept.iter().rev() {
        insert.execute(params![
            zone_id,
            w.from_serial as i64,
            w.to_serial as i64,
            blob,
            w.diff.len() as i64,
            blob.len() as i64,
            created,
        ])?;
    }
    Ok(())
}

/// A journaled difference of zone `zone_id` from serial `from`, decoded.
fn decode(blob: &[u8], zone_id: &str, from: u32) -> Result<ZoneDiff, StoreError> {
    ZoneDiff::from_bytes(blob).ok_or_else(|| StoreError::Corrupt {
        table: "journal",
        id: format!("{zone_id}@{from}"),
        detail: "undecodable difference".into(),
    })
}

/// Empties a zone's journal inside the caller's transaction.
pub(crate) fn clear(tx: &Transaction<'_>, zone_id: &str) -> Result<(), StoreError> {
    tx.execute("DELETE FROM journal WHERE zone_id = ?1", [zone_id])?;
    Ok(())
}

/// The entries (`seq`, `from_serial`) of zone `zone_id`'s journal that lead from
/// `from_serial` to `to_serial` without a gap, oldest first; `None` when there is no such
/// chain. Found from the serials alone: no difference is read.
pub(crate) fn chain(
    conn: &Connection,
    zone_id: &str,
    from_serial: u32,
    to_serial: u32,
) -> Result<Option<Vec<(i64, u32)>>, StoreError> {
    let mut stmt = conn.prepare_cached(HISTORY_SERIALS)?;
    let rows = stmt.query_map([zone_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)? as u32,
            r.get::<_, i64>(2)? as u32,
        ))
    })?;
    let mut chain = Vec::new();
    let mut expect = from_serial;
    for row in rows {
        let (seq, from, to) = row?;
        if chain.is_empty() && from != from_serial {
            continue;
        }
        if from != expect {
            return Ok(None);
        }
        chain.push((seq, from));
        expect = to;
    }
    if chain.is_empty() || expect != to_serial {
        return Ok(None);
    }
    Ok(Some(chain))
}

/// The differences of [`chain`], decoded. Only the differences the chain needs are read (an
/// old difference can be as large as the zone, e.g. its first import).
pub(crate) fn chain_diffs(
    conn: &Connection,
    zone_id: &str,
    from_serial: u32,
    to_serial: u32,
) -> Result<Option<Vec<ZoneDiff>>, StoreError> {
    let Some(chain) = chain(conn, zone_id, from_serial, to_serial)? else {
        return Ok(None);
    };
    let mut read = conn.prepare_cached("SELECT diff FROM journal WHERE seq = ?1")?;
    let mut out = Vec::with_capacity(chain.len());
    for (seq, from) in chain {
        let blob: Vec<u8> = read.query_row([seq], |r| r.get(0))?;
        out.push(decode(&blob, zone_id, from)?);
    }
    Ok(Some(out))
}

impl crate::storage::JournalStore for Store {
    fn journal_since(
        &self,
        zone_id: &str,
        from_serial: u32,
        to_serial: u32,
    ) -> Result<Option<Vec<ZoneDiff>>, StoreError> {
        chain_diffs(&self.read_conn(), zone_id, from_serial, to_serial)
    }

    fn journal_tail(&self, zone_id: &str, max_records: usize) -> Result<Vec<ZoneDiff>, StoreError> {
        let conn = self.read_conn();
        let mut stmt = conn.prepare_cached(HISTORY_NEWEST)?;
        let rows = stmt.query_map([zone_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)? as u32,
                r.get::<_, i64>(2)? as usize,
            ))
        })?;
        let mut newest = Vec::new();
        let mut records = 0;
        for row in rows {
            let (seq, from, n) = row?;
            if records + n > max_records {
                break;
            }
            records += n;
            newest.push((seq, from));
        }
        let mut read = conn.prepare_cached("SELECT diff FROM journal WHERE seq = ?1")?;
        let mut out = Vec::with_capacity(newest.len());
        for (seq, from) in newest.into_iter().rev() {
            let blob: Vec<u8> = read.query_row([seq], |r| r.get(0))?;
            out.push(decode(&blob, zone_id, from)?);
        }
        Ok(out)
    }

    fn journal_depth(&self, zone_id: &str) -> Result<usize, StoreError> {
        let n: i64 = self
            .read_conn()
            .query_row(HISTORY_DEPTH, [zone_id], |r| r.get(0))?;
        Ok(n as usize)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Reading a zone's history never reads the rows (their differences), only the index.
    #[test]
    fn history_is_read_from_the_covering_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(dir.path()).unwrap();
        let conn = store.read_conn();
        for sql in [
            HISTORY_SIZES,
            HISTORY_SERIALS,
            HISTORY_NEWEST,
            HISTORY_DEPTH,
        ] {
            let mut plan = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let steps: Vec<String> = plan
                .query_map(["z"], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(
                steps
                    .iter()
                    .any(|s| s.contains("COVERING INDEX journal_zone_sizes")),
                "{sql}: {steps:?}"
            );
        }
    }
    use crate::prelude::*;
    use crate::{new_id, RecordChange, ZoneKind, ZoneRow};
    use tandem_zone::record::rtype;
    use tandem_zone::{Name, Record, Soa};

    /// The SOA of `example.com` at `serial`.
    pub(crate) fn soa(serial: u32) -> Record {
        let soa = Soa {
            mname: Name::parse("ns1.example.com").unwrap(),
            rname: Name::parse("hostmaster.example.com").unwrap(),
            serial,
            refresh: 7200,
            retry: 3600,
            expire: 1209600,
            minimum: 300,
        };
        Record::new(
            Name::parse("example.com").unwrap(),
            rtype::SOA,
            3600,
            soa.to_rdata(),
        )
    }

    fn a(i: u8) -> Record {
        Record::new(
            Name::parse(&format!("h{i}.example.com")).unwrap(),
            rtype::A,
            300,
            vec![192, 0, 2, i],
        )
    }

    fn setup() -> (tempfile::TempDir, Store, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let z = ZoneRow {
            id: new_id(),
            account_id: store.default_account().unwrap().id,
            name: "example.com".into(),
            kind: ZoneKind::Full,
            status: "active".into(),
            serial: 1,
            created: now(),
            modified: now(),
        };
        store.create_zone(&z, &[]).unwrap();
        (dir, store, z.id)
    }

    fn change(
        store: &Store,
        zone: &str,
        from: u32,
        added: Vec<Record>,
        zone_records: usize,
        limits: JournalLimits,
    ) {
        let diff = ZoneDiff {
            removed: vec![soa(from)],
            added: std::iter::once(soa(from + 1)).chain(added).collect(),
        };
        store
            .apply_record_change(&RecordChange {
                zone_id: zone.into(),
                serial: from + 1,
                deletes: vec![],
                updates: vec![],
                inserts: vec![],
                journal: Some(JournalWrite {
                    from_serial: from,
                    to_serial: from + 1,
                    diff: Cow::Owned(diff),
                    zone_records,
                    limits,
                }),
                version: None,
            })
            .unwrap();
    }

    #[test]
    fn the_tail_is_the_newest_history_within_the_budget_oldest_first() {
        let (_dir, store, z) = setup();
        // 1 → 2 with three records (2 SOAs + 1), 2 → 3 and 3 → 4 with two (SOAs only).
        change(&store, &z, 1, vec![a(1)], 10, JournalLimits::default());
        change(&store, &z, 2, vec![], 10, JournalLimits::default());
        change(&store, &z, 3, vec![], 10, JournalLimits::default());
        let serials = |max| -> Vec<(u32, u32)> {
            store
                .journal_tail(&z, max)
                .unwrap()
                .iter()
                .map(|d| (d.from_serial().unwrap(), d.to_serial().unwrap()))
                .collect()
        };
        assert_eq!(serials(100), [(1, 2), (2, 3), (3, 4)]);
        assert_eq!(serials(6), [(2, 3), (3, 4)], "1 → 2 would pass 6 records");
        assert_eq!(serials(7), [(1, 2), (2, 3), (3, 4)]);
        assert!(serials(1).is_empty());
    }

    #[test]
    fn reads_back_the_chain_from_any_journaled_serial() {
        let (_d, store, z) = setup();
        for s in 1..5u32 {
            change(
                &store,
                &z,
                s,
                vec![a(s as u8)],
                100,
                JournalLimits::default(),
            );
        }
        let all = store.journal_since(&z, 1, 5).unwrap().unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].from_serial(), Some(1));
        assert_eq!(all[3].to_serial(), Some(5));
        assert_eq!(all[2].added[1], a(3));
        assert_eq!(store.journal_since(&z, 3, 5).unwrap().unwrap().len(), 2);
        assert_eq!(
            store.journal_since(&z, 0, 5).unwrap(),
            None,
            "older than the journal"
        );
        assert_eq!(
            store.journal_since(&z, 2, 9).unwrap(),
            None,
            "does not reach our serial"
        );
    }

    #[test]
    fn trims_by_depth_and_by_zone_size() {
        let (_d, store, z) = setup();
        let limits = JournalLimits {
            max_depth: 3,
            max_bytes: 1 << 20,
            min_records_budget: 0,
        };
        for s in 1..7u32 {
            change(&store, &z, s, vec![], 100, limits);
        }
        assert_eq!(store.journal_depth(&z).unwrap(), 3);
        assert_eq!(store.journal_since(&z, 3, 7).unwrap(), None, "dropped");
        assert!(store.journal_since(&z, 4, 7).unwrap().is_some());
        // A difference larger than the zone leaves no history worth keeping.
        change(&store, &z, 7, (0..50).map(a).collect(), 20, limits);
        assert_eq!(store.journal_depth(&z).unwrap(), 0);
    }

    #[test]
    fn many_differences_in_one_transaction_keep_the_newest_chain() {
        let (_d, store, z) = setup();
        let limits = JournalLimits {
            max_depth: 5,
            max_bytes: 1 << 20,
            min_records_budget: 0,
        };
        for s in 1..4u32 {
            change(&store, &z, s, vec![a(s as u8)], 100, limits);
        }
        // Twelve differences in one write (as an incoming IXFR brings them): the newest five
        // stay, the older history goes.
        let writes: Vec<JournalWrite> = (4..16u32)
            .map(|s| JournalWrite {
                from_serial: s,
                to_serial: s + 1,
                diff: Cow::Owned(ZoneDiff {
                    removed: vec![soa(s)],
                    added: vec![soa(s + 1), a(s as u8)],
                }),
                zone_records: 100,
                limits,
            })
            .collect();
        {
            let mut conn = store.write_conn();
            let tx = conn.transaction().unwrap();
            append(&tx, &z, &writes).unwrap();
            tx.commit().unwrap();
        }
        assert_eq!(store.journal_depth(&z).unwrap(), 5);
        let chain = store.journal_since(&z, 11, 16).unwrap().unwrap();
        assert_eq!(chain.len(), 5);
        assert_eq!(chain[4].added[1], a(15));
        assert_eq!(store.journal_since(&z, 10, 16).unwrap(), None);
        // Two new differences that fit beside the history keep all of it that fits.
        let two: Vec<JournalWrite> = writes[..2]
            .iter()
            .enumerate()
            .map(|(i, w)| JournalWrite {
                from_serial: 16 + i as u32,
                to_serial: 17 + i as u32,
                ..w.clone()
            })
            .collect();
        {
            let mut conn = store.write_conn();
            let tx = conn.transaction().unwrap();
            append(&tx, &z, &two).unwrap();
            tx.commit().unwrap();
        }
        assert_eq!(store.journal_depth(&z).unwrap(), 5);
        assert!(store.journal_since(&z, 13, 18).unwrap().is_some());
        assert_eq!(store.journal_since(&z, 12, 18).unwrap(), None);
    }
}
