//! Time spent writing a whole-zone AXFR in-process, without sockets: the message stream of
//! `tandem_xfr::axfr` for a zone of N A records at distinct owners, written into a sink.
//!
//! `cargo run --release -p tandem-server --example axfr_speed [N]`

use std::time::Instant;
use tandem_xfr::{axfr, XfrConfig};
use tandem_zone::Name;

mod common;

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().expect("N"));
    let v = common::bench_zone(n);
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
