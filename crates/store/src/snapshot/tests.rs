use super::{decode, encode};
use crate::journal::tests::soa;
use crate::prelude::*;
use crate::{
    new_id, now, JournalLimits, JournalWrite, OutgoingConfig, RecordChange, Store, StoreError,
    TransferContents, TransferWrite, ZoneKind, ZoneRow, DB_FILE,
};
use tandem_zone::record::rtype;
use tandem_zone::{Name, Record, ZoneDiff, ZoneVersion};

fn a(name: &str, last: u8) -> Record {
    Record::new(
        Name::parse(name).unwrap(),
        rtype::A,
        300,
        vec![192, 0, 2, last],
    )
}

fn ns() -> Record {
    Record::new(
        Name::parse("example.com").unwrap(),
        rtype::NS,
        3600,
        Name::parse("ns1.example.com").unwrap().as_wire().to_vec(),
    )
}

fn version(serial: u32, more: &[Record]) -> ZoneVersion {
    let mut records = vec![soa(serial), ns()];
    records.extend_from_slice(more);
    ZoneVersion::build(Name::parse("example.com").unwrap(), records).unwrap()
}

/// Every record of a version, sorted, for comparing two of them.
fn sorted(records: impl IntoIterator<Item = Record>) -> Vec<(Vec<u8>, u16, u32, Vec<u8>)> {
    let mut v: Vec<_> = records
        .into_iter()
        .map(|r| (r.owner.as_wire().to_vec(), r.rtype, r.ttl, r.rdata.to_vec()))
        .collect();
    v.sort();
    v
}

fn secondary(store: &Store) -> String {
    let z = ZoneRow {
        id: new_id(),
        account_id: store.default_account().unwrap().id,
        name: "example.com".into(),
        kind: ZoneKind::Secondary,
        status: "pending".into(),
        serial: 0,
        created: now(),
        modified: now(),
    };
    store.create_zone(&z, &[]).unwrap();
    z.id
}

/// A transfer of `next`, with the differences that led to it as journal entries.
fn transfer(
    store: &Store,
    zone: &str,
    contents: TransferContents,
    next: &ZoneVersion,
    journal: &[ZoneDiff],
    limits: JournalLimits,
) -> Result<(), StoreError> {
    store.apply_transfer(&TransferWrite {
        zone_id: zone,
        peer_id: "p",
        kind: if contents == TransferContents::Full {
            "AXFR"
        } else {
            "IXFR"
        },
        serial: next.serial(),
        contents,
        version: next,
        journal: journal
            .iter()
            .map(|d| JournalWrite {
                from_serial: d.from_serial().unwrap(),
                to_serial: d.to_serial().unwrap(),
                diff: std::borrow::Cow::Borrowed(d),
                zone_records: next.record_count(),
                limits,
            })
            .collect(),
        at: now(),
    })
}

/// One IXFR step from `v`: the SOA moves on and `a.example.com`'s address changes.
fn step(v: &ZoneVersion) -> (ZoneDiff, ZoneVersion) {
    let s = v.serial();
    let diff = ZoneDiff {
        removed: vec![soa(s), a("a.example.com", s as u8)],
        added: vec![soa(s + 1), a("a.example.com", (s + 1) as u8)],
    };
    let next = v.apply(&diff).unwrap();
    (diff, next)
}

/// Zone `zone` transferred by AXFR at serial 2 (its snapshot) and by IXFR to 3 (in the journal
/// only); returns version 3.
fn axfr_then_ixfr(store: &Store, zone: &str) -> ZoneVersion {
    let limits = JournalLimits::default();
    let v2 = version(2, &[a("a.example.com", 2), a("b.example.com", 9)]);
    transfer(store, zone, TransferContents::Full, &v2, &[], limits).unwrap();
    let (d3, v3) = step(&v2);
    transfer(store, zone, TransferContents::Diffs, &v3, &[d3], limits).unwrap();
    v3
}

/// What a restart rebuilds from the store: the snapshot with the journal since replayed.
fn reloaded(store: &Store, zone: &str, serial: u32) -> ZoneVersion {
    let snap = store
        .zone_snapshot(zone, serial)
        .unwrap()
        .expect("a snapshot");
    ZoneVersion::build(Name::parse("example.com").unwrap(), snap.records)
        .unwrap()
        .apply_all(&snap.redo)
        .unwrap()
}

fn snapshot_serial(store: &Store, zone: &str) -> Option<u32> {
    super::serial_of(&store.read_conn(), zone).unwrap()
}

#[test]
fn a_snapshot_decodes_to_the_records_it_was_made_of() {
    let mut more: Vec<Record> = (0..50u8)
        .map(|i| a(&format!("h{}.sub.example.com", i % 7), i))
        .collect();
    more.push(Record::new(
        Name::parse("t.example.com").unwrap(),
        rtype::TXT,
        60,
        b"\x05hello".to_vec(),
    ));
    // Empty RDATA (RFC 1035 allows it for unknown types) and a name at the 255-octet limit.
    more.push(Record::new(
        Name::parse("e.example.com").unwrap(),
        65280,
        1,
        Vec::new(),
    ));
    let long = format!(
        "{}.{}.{}.x.example.com",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63 + 47).chars().take(63).collect::<String>()
    );
    more.push(a(&long, 9));
    let v = version(7, &more);
    let d = decode(encode(&v)).unwrap();
    assert_eq!(d.serial, 7);
    assert_eq!(d.records.len(), v.record_count());
    assert_eq!(sorted(d.records), sorted(v.records()));
}

#[test]
fn a_damaged_snapshot_is_refused_wherever_the_damage_is() {
    let v = version(3, &[a("a.example.com", 1), a("b.example.com", 2)]);
    let good = encode(&v);
    for at in [
        0,
        9,
        15,
        20,
        good.len() / 2,
        good.len() - 33,
        good.len() - 1,
    ] {
        let mut bad = good.clone();
        bad[at] ^= 0x20;
        assert!(decode(bad).is_err(), "a flipped bit at octet {at} passed");
    }
    for len in [0, 10, 20, good.len() - 32, good.len() - 1] {
        assert!(decode(good[..len].to_vec()).is_err(), "{len} octets passed");
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(decode(longer).is_err());
}

#[test]
fn transfers_in_write_a_snapshot_and_journal_but_no_record_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let z = secondary(&store);
    let limits = JournalLimits::default();
    let v2 = version(2, &[a("a.example.com", 2), a("b.example.com", 9)]);
    transfer(&store, &z, TransferContents::Full, &v2, &[], limits).unwrap();
    assert_eq!(snapshot_serial(&store, &z), Some(2));
    let rows: i64 = store
        .read_conn()
        .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "a transfer in writes no record rows");
    assert_eq!(store.record_counts().unwrap()[&z], 0);

    // Two IXFRs: the snapshot stays at 2, the journal is the redo log up to 4.
    let (d3, v3) = step(&v2);
    transfer(&store, &z, TransferContents::Diffs, &v3, &[d3], limits).unwrap();
    let (d4, v4) = step(&v3);
    transfer(&store, &z, TransferContents::Diffs, &v4, &[d4], limits).unwrap();
    assert_eq!(snapshot_serial(&store, &z), Some(2));
    let snap = store.zone_snapshot(&z, 4).unwrap().unwrap();
    assert_eq!((snap.serial, snap.redo.len()), (2, 2));
    assert_eq!(
        sorted(reloaded(&store, &z, 4).records()),
        sorted(v4.records())
    );
    // The zone row moved with them, so a restart asks for serial 4.
    assert_eq!(store.zone(&z).unwrap().unwrap().serial, 4);
}

#[test]
fn trimming_the_journal_past_the_snapshot_writes_a_snapshot_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let z = secondary(&store);
    let limits = JournalLimits {
        max_depth: 2,
        ..JournalLimits::default()
    };
    let mut v = version(2, &[a("a.example.com", 2)]);
    transfer(&store, &z, TransferContents::Full, &v, &[], limits).unwrap();
    for _ in 0..5 {
        let (d, next) = step(&v);
        transfer(&store, &z, TransferContents::Diffs, &next, &[d], limits).unwrap();
        v = next;
        // Whatever the trim dropped, a restart rebuilds exactly the committed version.
        assert_eq!(
            sorted(reloaded(&store, &z, v.serial()).records()),
            sorted(v.records()),
            "at serial {}",
            v.serial()
        );
        assert!(store.journal_depth(&z).unwrap() <= 2);
    }
    // Depth 2 cannot hold the chain from 2 to 7: the snapshot moved on.
    assert!(snapshot_serial(&store, &z).unwrap() > 2);

    // One IXFR with more differences than the journal keeps: the journal is emptied, and the
    // snapshot is written at the new serial in the same transaction.
    let mut diffs = Vec::new();
    let mut next = v.clone();
    for _ in 0..4 {
        let (d, n) = step(&next);
        diffs.push(d);
        next = n;
    }
    transfer(&store, &z, TransferContents::Diffs, &next, &diffs, limits).unwrap();
    assert_eq!(snapshot_serial(&store, &z), Some(next.serial()));
    assert_eq!(
        sorted(reloaded(&store, &z, next.serial()).records()),
        sorted(next.records())
    );
}

#[test]
fn disabling_outgoing_transfers_compacts_before_emptying_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let z = secondary(&store);
    let account = store.default_account().unwrap().id;
    let at = now();
    store
        .create_outgoing_config(
            &account,
            &OutgoingConfig {
                id: new_id(),
                zone_id: z.clone(),
                peers: vec![],
                enabled: true,
                checked_time: None,
                last_transferred_time: None,
                notify_requested: None,
                created: at,
                modified: at,
            },
        )
        .unwrap();
    let v3 = axfr_then_ixfr(&store, &z);
    assert_eq!(snapshot_serial(&store, &z), Some(2));

    store.set_outgoing_enabled(&z, false).unwrap();
    assert_eq!(
        store.journal_depth(&z).unwrap(),
        0,
        "the IXFR history is gone"
    );
    assert_eq!(
        snapshot_serial(&store, &z),
        Some(3),
        "but not the change to 3"
    );
    let snap = store.zone_snapshot(&z, 3).unwrap().unwrap();
    assert!(snap.redo.is_empty());
    assert_eq!(
        sorted(reloaded(&store, &z, 3).records()),
        sorted(v3.records())
    );
}

#[test]
fn a_torn_snapshot_or_a_broken_redo_chain_fails_the_load_naming_the_zone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let z = secondary(&store);
    axfr_then_ixfr(&store, &z);
    drop(store);

    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.execute("DELETE FROM journal", []).unwrap();
    let store = Store::open(dir.path()).unwrap();
    match store.zone_snapshot(&z, 3) {
        Err(StoreError::Corrupt { table, id, detail }) => {
            assert_eq!((table, id.as_str()), ("zone_snapshots", z.as_str()));
            assert!(detail.contains("journal does not lead"), "{detail}");
        }
        other => panic!("{:?}", other.map(|s| s.map(|s| s.serial))),
    }
    conn.execute(
        "UPDATE zone_snapshots SET data = substr(data, 1, length(data) - 1)",
        [],
    )
    .unwrap();
    match store.zone_snapshot(&z, 2) {
        Err(StoreError::Corrupt { detail, .. }) => assert!(detail.contains("checksum"), "{detail}"),
        other => panic!("{:?}", other.map(|s| s.map(|s| s.serial))),
    }
}

#[test]
fn a_version_at_another_serial_is_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let z = secondary(&store);
    let v2 = version(2, &[]);
    let err = store
        .apply_transfer(&TransferWrite {
            zone_id: &z,
            peer_id: "p",
            kind: "AXFR",
            serial: 3,
            contents: TransferContents::Full,
            version: &v2,
            journal: vec![],
            at: now(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("serial 2"), "{err}");
    assert_eq!(snapshot_serial(&store, &z), None);
    assert_eq!(store.zone(&z).unwrap().unwrap().serial, 0);
}

#[test]
fn a_secondary_zone_stored_as_rows_moves_to_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let z = secondary(&store);
    // An older store: the zone's records as rows, committed at serial 5.
    let v5 = version(5, &[a("a.example.com", 1), a("b.example.com", 2)]);
    let at = now();
    store
        .apply_record_change(&RecordChange {
            zone_id: z.clone(),
            serial: 5,
            deletes: vec![],
            updates: vec![],
            inserts: v5
                .records()
                .map(|r| crate::RecordRow::new(&z, r, at))
                .collect(),
            journal: None,
            version: None,
        })
        .unwrap();
    assert_eq!(store.record_counts().unwrap()[&z], 4);
    // A version at another serial is refused, and nothing moves.
    assert!(store.move_to_snapshot(&z, &version(6, &[])).is_err());
    assert_eq!(store.record_counts().unwrap()[&z], 4);

    store.move_to_snapshot(&z, &v5).unwrap();
    assert_eq!(store.record_counts().unwrap()[&z], 0);
    assert!(store.zone_records(&z).unwrap().is_empty());
    assert_eq!(
        sorted(reloaded(&store, &z, 5).records()),
        sorted(v5.records())
    );
}

#[test]
fn a_backup_holds_the_snapshot_and_the_journal_since_and_counts_their_records() {
    let live = tempfile::tempdir().unwrap();
    let store = Store::open(live.path()).unwrap();
    let z = secondary(&store);
    let v3 = axfr_then_ixfr(&store, &z);
    let dest = tempfile::tempdir().unwrap();
    let copy = dest.path().join("copy");
    let report = crate::backup(live.path(), &copy).unwrap();
    assert_eq!((report.zones, report.records), (1, 4), "SOA, NS and two A");
    let restored = Store::open(&copy).unwrap();
    assert_eq!(restored.zone(&z).unwrap().unwrap().serial, 3);
    assert_eq!(
        sorted(reloaded(&restored, &z, 3).records()),
        sorted(v3.records())
    );
}

#[test]
fn deleting_a_zone_deletes_its_snapshot_and_journal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let z = secondary(&store);
    axfr_then_ixfr(&store, &z);
    assert!(store.delete_zone(&z).unwrap());
    let left: i64 = store
        .read_conn()
        .query_row(
            "SELECT (SELECT count(*) FROM zone_snapshots) + (SELECT count(*) FROM journal)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    assert!(store.zone_snapshot(&z, 3).unwrap().is_none());
}
