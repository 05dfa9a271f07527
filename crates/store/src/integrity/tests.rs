//! The checks a store passes before it is trusted: one process per data directory, a database
//! where the marker says one was, SQLite's quick_check, and record counts kept per zone.

use crate::prelude::*;
use crate::records::tests::{row, zone};
use crate::{
    now, RecordChange, Store, StoreError, TransferContents, TransferWrite, DB_FILE, MARKER_FILE,
};
use tandem_zone::record::rtype;

#[test]
fn a_second_open_of_one_data_dir_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path()).unwrap();
    let err = Store::open(dir.path())
        .err()
        .expect("second open must fail");
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("in use by another tandem process"), "{text}");
    assert!(text.contains(&std::process::id().to_string()), "{text}");
    drop(first);
    Store::open(dir.path()).unwrap();
}

#[test]
fn a_lost_database_is_an_error_not_an_empty_store() {
    for damage in ["deleted", "emptied", "deleted, WAL kept"] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        zone(&store, "example.com");
        drop(store);
        assert!(dir.path().join(MARKER_FILE).exists());
        let db = dir.path().join(DB_FILE);
        match damage {
            "emptied" => std::fs::write(&db, b"").unwrap(),
            "deleted, WAL kept" => {
                std::fs::write(dir.path().join("tandem.db-wal"), b"x").unwrap();
                std::fs::remove_file(&db).unwrap();
            }
            _ => std::fs::remove_file(&db).unwrap(),
        }
        let err = Store::open(dir.path()).err().expect(damage);
        assert!(matches!(err, StoreError::Lost { .. }), "{damage}: {err}");
        assert!(err.to_string().contains("restore"), "{damage}: {err}");
        // Nothing was created in its place.
        assert!(
            std::fs::metadata(&db).map_or(true, |m| m.len() == 0),
            "{damage}"
        );
    }
}

#[test]
fn a_database_from_another_store_is_refused() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    drop(Store::open(a.path()).unwrap());
    drop(Store::open(b.path()).unwrap());
    std::fs::copy(b.path().join(DB_FILE), a.path().join(DB_FILE)).unwrap();
    let err = Store::open(a.path())
        .err()
        .expect("another store's database");
    assert!(matches!(err, StoreError::Lost { .. }), "{err}");
}

#[test]
fn a_damaged_database_fails_quick_check() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let z = zone(&store, "example.com");
    let rows: Vec<_> = (0..3000)
        .map(|i| {
            row(
                &z.id,
                &format!("h{i}.example.com"),
                rtype::A,
                &[192, 0, 2, 1],
            )
        })
        .collect();
    store
        .apply_record_change(&RecordChange {
            journal: None,
            version: None,
            zone_id: z.id.clone(),
            serial: 2,
            deletes: vec![],
            updates: vec![],
            inserts: rows,
        })
        .unwrap();
    drop(store);
    // Page headers of the b-tree pages in the middle of the file are overwritten.
    let db = dir.path().join(DB_FILE);
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    let pages = bytes.len() / page;
    assert!(pages > 20, "{pages} pages");
    for p in (pages / 3..pages - 1).step_by(5) {
        bytes[p * page..p * page + 8]
            .copy_from_slice(&[0x0d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    }
    std::fs::write(&db, bytes).unwrap();
    let err = Store::open(dir.path()).err().expect("damage must be found");
    assert!(
        matches!(err, StoreError::Damaged { .. } | StoreError::Sqlite(_)),
        "{err}"
    );
}

#[test]
fn record_counts_follow_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let z = zone(&store, "example.com");
    let other = zone(&store, "example.net");
    assert_eq!(store.record_counts().unwrap()[&z.id], 1);
    let keep = store.record_keys(&z.id).unwrap()[0].0.clone();
    store
        .apply_record_change(&RecordChange {
            journal: None,
            version: None,
            zone_id: z.id.clone(),
            serial: 2,
            deletes: vec![keep],
            updates: vec![],
            inserts: vec![
                row(&z.id, "a.example.com", rtype::A, &[192, 0, 2, 1]),
                row(&z.id, "b.example.com", rtype::A, &[192, 0, 2, 2]),
            ],
        })
        .unwrap();
    let counts = store.record_counts().unwrap();
    assert_eq!(counts[&z.id], 2);
    assert_eq!(counts[&other.id], 1);
    assert_eq!(store.zone_records(&z.id).unwrap().len(), 2);
    store.delete_zone(&other.id).unwrap();
    assert!(!store.record_counts().unwrap().contains_key(&other.id));

    // A transfer in replaces the rows with a snapshot, and counts them out.
    let soa = tandem_zone::Soa {
        mname: tandem_zone::Name::parse("ns1.example.com").unwrap(),
        rname: tandem_zone::Name::parse("hostmaster.example.com").unwrap(),
        serial: 3,
        refresh: 7200,
        retry: 3600,
        expire: 1209600,
        minimum: 300,
    };
    let apex = tandem_zone::Name::parse("example.com").unwrap();
    let v3 = tandem_zone::ZoneVersion::build(
        apex.clone(),
        [
            tandem_zone::Record::new(apex.clone(), rtype::SOA, 3600, soa.to_rdata()),
            tandem_zone::Record::new(apex.clone(), rtype::NS, 3600, soa.mname.as_wire().to_vec()),
            row(&z.id, "c.example.com", rtype::A, &[192, 0, 2, 3]).record,
        ],
    )
    .unwrap();
    store
        .apply_transfer(&TransferWrite {
            zone_id: &z.id,
            peer_id: "p",
            kind: "AXFR",
            serial: 3,
            contents: TransferContents::Full,
            version: &v3,
            journal: Vec::new(),
            at: now(),
        })
        .unwrap();
    assert_eq!(store.record_counts().unwrap()[&z.id], 0);
    assert!(store.zone_records(&z.id).unwrap().is_empty());
    assert_eq!(
        store
            .zone_snapshot(&z.id, 3)
            .unwrap()
            .unwrap()
            .records
            .len(),
        3
    );
}

#[test]
fn a_store_counting_by_trigger_is_migrated_to_counting_per_change() {
    let dir = tempfile::tempdir().unwrap();
    let z = {
        let store = Store::open(dir.path()).unwrap();
        zone(&store, "example.com")
    };
    {
        // Back to schema 8: the triggers of V6 in place, no snapshots of V10, the journal's
        // index of V3 instead of the covering one of V11.
        let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.execute_batch(
            "DROP TABLE zone_snapshots;
             DROP INDEX records_from_content;
             ALTER TABLE records DROP COLUMN from_content;
             DROP INDEX journal_zone_sizes;
             CREATE INDEX journal_zone ON journal(zone_id, seq);
             CREATE TRIGGER records_counted_in AFTER INSERT ON records BEGIN
                 UPDATE zones SET record_count = record_count + 1 WHERE id = NEW.zone_id;
             END;
             CREATE TRIGGER records_counted_out AFTER DELETE ON records BEGIN
                 UPDATE zones SET record_count = record_count - 1 WHERE id = OLD.zone_id;
             END;
             CREATE TRIGGER records_counted_moved AFTER UPDATE OF zone_id ON records BEGIN
                 SELECT 1;
             END;
             PRAGMA user_version = 8;",
        )
        .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let triggers: i64 = store
        .read_conn()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 0);
    store
        .apply_record_change(&RecordChange {
            journal: None,
            version: None,
            zone_id: z.id.clone(),
            serial: 2,
            deletes: vec![],
            updates: vec![],
            inserts: vec![row(&z.id, "a.example.com", rtype::A, &[192, 0, 2, 1])],
        })
        .unwrap();
    assert_eq!(
        store.record_counts().unwrap()[&z.id],
        2,
        "counted once, not twice"
    );
}
