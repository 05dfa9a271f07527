//! The zone the in-process benchmarks share: `bench.test` with its SOA, one NS and `n` A
//! records named `www{i}`.

use tandem_zone::{Name, Record, ZoneVersion};

pub fn bench_zone(n: u32) -> ZoneVersion {
    let apex = Name::parse("bench.test").unwrap();
    let ns = Name::parse("ns1.bench.test").unwrap();
    let mut soa = ns.as_wire().to_vec();
    soa.extend_from_slice(Name::parse("hostmaster.bench.test").unwrap().as_wire());
    for v in [1u32, 7200, 3600, 1_209_600, 300] {
        soa.extend_from_slice(&v.to_be_bytes());
    }
    let mut records = vec![
        Record::new(apex.clone(), 6, 3600, soa),
        Record::new(apex.clone(), 2, 3600, ns.as_wire().to_vec()),
    ];
    for i in 0..n {
        let owner = Name::parse(&format!("www{i}.bench.test")).unwrap();
        records.push(Record::new(
            owner,
            1,
            300,
            (0x0a00_0000 + i).to_be_bytes().to_vec(),
        ));
    }
    ZoneVersion::build(apex, records).unwrap()
}
