//! Time spent writing a whole-zone AXFR in-process, without sockets: the message stream of
//! `tandem_xfr::axfr` for a zone of N A records at distinct owners, written into a sink.
//!
//! `cargo run --release -p tandem-xfr --example axfr_speed [N]`

use std::time::Instant;
use tandem_xfr::{axfr, XfrConfig};
use tandem_zone::{Name, Record, ZoneVersion};

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().expect("N"));
    let apex = Name::parse("bench.test").unwrap();
    let mut rd = Vec::new();
    rd.extend_from_slice(Name::parse("ns1.bench.test").unwrap().as_wire());
    rd.extend_from_slice(Name::parse("hostmaster.bench.test").unwrap().as_wire());
    for v in [1u32, 7200, 3600, 1_209_600, 300] {
        rd.extend_from_slice(&v.to_be_bytes());
    }
    let ns = Name::parse("ns1.bench.test").unwrap().as_wire().to_vec();
    let mut records = vec![
        Record::new(apex.clone(), 6, 3600, rd),
        Record::new(apex.clone(), 2, 3600, ns),
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
    let v = ZoneVersion::build(apex, records).unwrap();
    let mut query = vec![0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    query.extend_from_slice(Name::parse("bench.test").unwrap().as_wire());
    query.extend_from_slice(&[0, 252, 0, 1]);
    let qend = query.len();
    for _ in 0..3 {
        let started = Instant::now();
        let mut bytes = 0usize;
        let messages = axfr(&v, &query, qend, XfrConfig::default(), |m| {
            bytes += m.len();
            true
        })
        .unwrap();
        println!(
            "AXFR of {} records: {messages} messages, {bytes} octets in {:.0?}",
            v.record_count(),
            started.elapsed()
        );
    }
}
