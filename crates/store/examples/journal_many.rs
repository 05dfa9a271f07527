//! How long journaling the differences of one incoming IXFR takes in the store: N one-record
//! differences (serial s → s+1 each) written with one `apply_transfer`, default journal
//! limits (the newest 1000 are kept). Used for bench/BENCHMARKS.md:
//!
//!     cargo run --release -p tandem-store --example journal_many 100000

use std::time::Instant;
use tandem_store::prelude::*;
use tandem_store::{
    new_id, now, JournalLimits, JournalWrite, Store, TransferContents, TransferWrite, ZoneKind,
    ZoneRow,
};
use tandem_zone::record::rtype;
use tandem_zone::{Name, Record, Soa, ZoneDiff, ZoneVersion};

fn soa(serial: u32) -> Record {
    let soa = Soa {
        mname: Name::parse("ns1.example.com").unwrap(),
        rname: Name::parse("h.example.com").unwrap(),
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

fn main() {
    let n: u32 = std::env::args().nth(1).unwrap().parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let z = ZoneRow {
        id: new_id(),
        account_id: store.default_account().unwrap().id,
        name: "example.com".into(),
        kind: ZoneKind::Secondary,
        status: "active".into(),
        serial: 1,
        created: now(),
        modified: now(),
    };
    store.create_zone(&z, &[]).unwrap();
    let writes: Vec<JournalWrite<'_>> = (1..=n)
        .map(|s| JournalWrite {
            from_serial: s,
            to_serial: s + 1,
            diff: std::borrow::Cow::Owned(ZoneDiff {
                removed: vec![soa(s)],
                added: vec![
                    soa(s + 1),
                    Record::new(
                        Name::parse(&format!("h{s}.example.com")).unwrap(),
                        rtype::A,
                        300,
                        s.to_be_bytes().to_vec(),
                    ),
                ],
            }),
            zone_records: 1_000_000,
            limits: JournalLimits::default(),
        })
        .collect();
    // The zone after the last difference: what a snapshot holds when the journal cannot.
    let apex = Name::parse("example.com").unwrap();
    let ns = Record::new(
        apex.clone(),
        rtype::NS,
        3600,
        Name::parse("ns1.example.com").unwrap().as_wire().to_vec(),
    );
    let version = ZoneVersion::build(
        apex,
        [soa(n + 1), ns]
            .into_iter()
            .chain(writes.iter().map(|w| w.diff.added[1].clone())),
    )
    .unwrap();
    let t = Instant::now();
    store
        .apply_transfer(&TransferWrite {
            zone_id: &z.id,
            peer_id: "p",
            kind: "IXFR",
            serial: n + 1,
            contents: TransferContents::Diffs,
            version: &version,
            journal: writes,
            at: now(),
        })
        .unwrap();
    println!(
        "{n} differences journaled in one transfer: {:.2} s, depth {}",
        t.elapsed().as_secs_f64(),
        store.journal_depth(&z.id).unwrap()
    );
}
