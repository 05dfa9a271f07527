//! Start-up of `secondary` zones stored as snapshots: loaded from the snapshot and the journal
//! since, moved there from record rows when an older store kept them as rows, and refused,
//! naming the zone, when the snapshot is damaged.

use std::sync::Arc;
use tandem_api::load_zones;
use tandem_server::zone::ZoneSet;
use tandem_store::prelude::*;
use tandem_store::{
    new_id, now, JournalLimits, JournalWrite, RecordChange, RecordRow, Store, TransferContents,
    TransferWrite, ZoneKind, ZoneRow, DB_FILE,
};
use tandem_zone::record::rtype;
use tandem_zone::{Name, Record, Soa, ZoneDiff, ZoneVersion};

fn apex() -> Name {
    Name::parse("sec.test").unwrap()
}

fn soa(serial: u32) -> Record {
    let soa = Soa {
        mname: Name::parse("ns1.sec.test").unwrap(),
        rname: Name::parse("hostmaster.sec.test").unwrap(),
        serial,
        refresh: 7200,
        retry: 3600,
        expire: 1209600,
        minimum: 300,
    };
    Record::new(apex(), rtype::SOA, 3600, soa.to_rdata())
}

fn version(serial: u32, hosts: u8) -> ZoneVersion {
    let ns = Record::new(
        apex(),
        rtype::NS,
        3600,
        Name::parse("ns1.sec.test").unwrap().as_wire().to_vec(),
    );
    let a = (0..hosts).map(|i| {
        Record::new(
            Name::parse(&format!("h{i}.sec.test")).unwrap(),
            rtype::A,
            300,
            vec![10, 0, 0, i],
        )
    });
    ZoneVersion::build(apex(), [soa(serial), ns].into_iter().chain(a)).unwrap()
}

/// A zone `sec.test` of the store's default account, not yet stored.
fn zone_row(store: &Store, kind: ZoneKind, status: &str, serial: u32) -> ZoneRow {
    let at = now();
    ZoneRow {
        id: new_id(),
        account_id: store.default_account().unwrap().id,
        name: "sec.test".into(),
        kind,
        status: status.into(),
        serial,
        created: at,
        modified: at,
    }
}

fn secondary(store: &Store) -> String {
    let z = zone_row(store, ZoneKind::Secondary, "pending", 0);
    store.create_zone(&z, &[]).unwrap();
    z.id
}

fn sorted(v: &ZoneVersion) -> Vec<Record> {
    let mut r: Vec<Record> = v.records().collect();
    r.sort_by(|a, b| {
        (a.owner.as_wire(), a.rtype, &a.rdata[..]).cmp(&(b.owner.as_wire(), b.rtype, &b.rdata[..]))
    });
    r
}

fn served(store: &Store) -> Arc<ZoneVersion> {
    let zones = ZoneSet::new();
    load_zones(store, &zones).unwrap();
    zones.get(&apex()).unwrap().current().expect("served")
}

#[test]
fn a_secondary_zone_loads_from_its_snapshot_and_the_journal_since() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let z = secondary(&store);
    let v2 = version(2, 3);
    let write = |contents, v: &ZoneVersion, journal: Vec<JournalWrite<'_>>| {
        store
            .apply_transfer(&TransferWrite {
                zone_id: &z,
                peer_id: "p",
                kind: "AXFR",
                serial: v.serial(),
                contents,
                version: v,
                journal,
                at: now(),
            })
            .unwrap()
    };
    write(TransferContents::Full, &v2, vec![]);
    let v3 = version(3, 5);
    let diff = ZoneDiff::between(
        &v2.records().collect::<Vec<_>>(),
        &v3.records().collect::<Vec<_>>(),
    );
    write(
        TransferContents::Diffs,
        &v3,
        vec![JournalWrite {
            from_serial: 2,
            to_serial: 3,
            diff: std::borrow::Cow::Owned(diff),
            zone_records: v3.record_count(),
            limits: JournalLimits::default(),
        }],
    );
    let loaded = served(&store);
    assert_eq!(loaded.serial(), 3);
    assert_eq!(sorted(&loaded), sorted(&v3));
}

#[test]
fn a_secondary_zone_stored_as_rows_is_moved_to_a_snapshot_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let v7 = version(7, 4);
    {
        let store = Store::open(dir.path()).unwrap();
        let z = secondary(&store);
        // As a release before snapshots stored a transferred zone: a row per record.
        let at = now();
        store
            .apply_record_change(&RecordChange {
                zone_id: z.clone(),
                serial: 7,
                deletes: vec![],
                updates: vec![],
                inserts: v7.records().map(|r| RecordRow::new(&z, r, at)).collect(),
                journal: None,
                version: None,
            })
            .unwrap();
        let first = served(&store);
        assert_eq!(sorted(&first), sorted(&v7));
        assert!(store.zone_records(&z).unwrap().is_empty(), "rows moved");
        assert_eq!(store.record_counts().unwrap()[&z], 0);
        assert!(store.zone_snapshot(&z, 7).unwrap().is_some());
    }
    // The next start reads the snapshot.
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(sorted(&served(&store)), sorted(&v7));
}

#[test]
fn a_full_zone_stored_as_rows_gets_a_snapshot_at_start_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let v7 = version(7, 4);
    let (z, ids) = {
        let store = Store::open(dir.path()).unwrap();
        // As an older release stored a full zone: a row per record, no snapshot.
        let at = now();
        let z = zone_row(&store, ZoneKind::Full, "active", 7);
        let rows: Vec<RecordRow> = v7.records().map(|r| RecordRow::new(&z.id, r, at)).collect();
        store.create_zone(&z, &rows).unwrap();
        assert!(store.zone_snapshot(&z.id, 7).unwrap().is_none());
        let mut ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
        ids.sort();
        let first = served(&store);
        assert_eq!(sorted(&first), sorted(&v7));
        (z.id, ids)
    };
    let store = Store::open(dir.path()).unwrap();
    let snap = store.zone_snapshot(&z, 7).unwrap().expect("a snapshot");
    assert_eq!((snap.serial, snap.records.len()), (7, v7.record_count()));
    // The rows stay: they hold the records' ids (and would hold their metadata).
    let mut kept: Vec<String> = store
        .record_keys(&z)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    kept.sort();
    assert_eq!(kept, ids);
    assert_eq!(store.record_counts().unwrap()[&z], ids.len() as u64);
    assert_eq!(sorted(&served(&store)), sorted(&v7));
}

#[test]
fn a_damaged_snapshot_stops_the_start_naming_the_zone() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let z = secondary(&store);
        let v2 = version(2, 3);
        store
            .apply_transfer(&TransferWrite {
                zone_id: &z,
                peer_id: "p",
                kind: "AXFR",
                serial: 2,
                contents: TransferContents::Full,
                version: &v2,
                journal: vec![],
                at: now(),
            })
            .unwrap();
    }
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    // One octet of the first owner name changed: the checksum no longer holds.
    conn.execute(
        "UPDATE zone_snapshots \
         SET data = CAST(substr(data, 1, 22) || X'58' || substr(data, 24) AS BLOB)",
        [],
    )
    .unwrap();
    drop(conn);
    let store = Store::open(dir.path()).unwrap();
    let err = load_zones(&store, &ZoneSet::new()).unwrap_err().to_string();
    assert!(err.contains("zone sec.test"), "{err}");
    assert!(err.contains("checksum"), "{err}");
}
