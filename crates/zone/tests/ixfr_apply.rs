//! An incoming IXFR of many one-record differences applies in time proportional to its size:
//! `ZoneVersion::apply_all` works through the chain without building the versions in between.
//! CI runs a small chain; the figure for the benchmark table comes from
//!
//! `TANDEM_IXFR_DIFFS=1000000 cargo test --release -p tandem-zone --test ixfr_apply -- --nocapture`

use std::time::Instant;
use tandem_zone::{Name, Record, ZoneDiff, ZoneVersion};

fn soa(apex: &Name, serial: u32) -> Record {
    let mut rd = Vec::new();
    for n in ["ns1.example.com", "hostmaster.example.com"] {
        rd.extend_from_slice(Name::parse(n).unwrap().as_wire());
    }
    for v in [serial, 7200, 3600, 1_209_600, 300] {
        rd.extend_from_slice(&v.to_be_bytes());
    }
    Record::new(apex.clone(), 6, 3600, rd)
}

fn a(i: u32, addr: u32) -> Record {
    let owner = Name::parse(&format!("host{i}.example.com")).unwrap();
    Record::new(owner, 1, 300, addr.to_be_bytes().to_vec())
}

#[test]
fn a_long_ixfr_chain_applies_in_one_pass() {
    let n: u32 = std::env::var("TANDEM_IXFR_DIFFS")
        .map(|v| v.parse().expect("TANDEM_IXFR_DIFFS is a number"))
        .unwrap_or(20_000);
    let apex = Name::parse("example.com").unwrap();
    let ns = Record::new(
        apex.clone(),
        2,
        3600,
        Name::parse("ns1.example.com").unwrap().as_wire().to_vec(),
    );
    let mut records = vec![soa(&apex, 1), ns];
    records.extend((0..n).map(|i| a(i, i)));
    let v = ZoneVersion::build(apex.clone(), records).unwrap();
    // Difference i moves host{i} to a new address and the serial from 1+i to 2+i.
    let diffs: Vec<ZoneDiff> = (0..n)
        .map(|i| ZoneDiff {
            removed: vec![soa(&apex, 1 + i), a(i, i)],
            added: vec![soa(&apex, 2 + i), a(i, i | 0x8000_0000)],
        })
        .collect();
    let started = Instant::now();
    let next = v.apply_all(&diffs).unwrap();
    let took = started.elapsed();
    println!("{n} one-record differences on a zone of {n} records applied in {took:.2?}");
    assert_eq!(next.serial(), 1 + n);
    assert_eq!(next.record_count(), v.record_count());
    for i in [0, n / 2, n - 1] {
        let name = Name::parse(&format!("host{i}.example.com")).unwrap();
        let set = next.node(name.as_wire()).unwrap().rrset(1).unwrap();
        assert_eq!(
            set.rdatas().next().unwrap(),
            &(i | 0x8000_0000).to_be_bytes()
        );
    }
}
