//! Time spent answering one query in-process, without sockets: the query path alone, on a zone
//! of N A records at distinct owners, asked for names spread over the zone (90% hits, 10%
//! NXDOMAIN). A steadier figure than a network benchmark on a shared machine, for comparing
//! two builds of the query path.
//!
//! `cargo run --release -p tandem-server --example answer_speed [N] [QUERIES]`

use std::sync::Arc;
use std::time::Instant;
use tandem_server::zone::ZoneSet;
use tandem_server::{respond, AnswerConfig, Transport};
use tandem_zone::Name;

mod common;

fn query(name: &str, qtype: u16) -> Vec<u8> {
    let mut m = vec![0xab, 0xcd, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(Name::parse(name).unwrap().as_wire());
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u32>().expect("a number"));
    let n = args.next().unwrap_or(1_000_000);
    let count = args.next().unwrap_or(2_000_000);
    let v = common::bench_zone(n);
    let apex = v.apex().clone();
    let zones = Arc::new(ZoneSet::new());
    zones.insert(apex, Some(Arc::new(v)));
    // A fixed pseudo-random spread of names (the same in every build).
    let mut x = 0x2545_f491u64;
    let queries: Vec<Vec<u8>> = (0..100_000)
        .map(|k| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x % n as u64) as u32;
            if k % 10 == 0 {
                query(&format!("nx{i}.bench.test"), 1)
            } else {
                query(&format!("www{i}.bench.test"), 1)
            }
        })
        .collect();
    let cfg = AnswerConfig::default();
    let mut buf = Vec::with_capacity(65536);
    for q in &queries {
        respond(
            &zones,
            q,
            &mut buf,
            Transport::Udp,
            std::net::Ipv4Addr::LOCALHOST.into(),
            &cfg,
        );
    }
    let started = Instant::now();
    let mut answered = 0u64;
    for k in 0..count as usize {
        let q = &queries[k % queries.len()];
        answered += respond(
            &zones,
            q,
            &mut buf,
            Transport::Udp,
            std::net::Ipv4Addr::LOCALHOST.into(),
            &cfg,
        )
        .is_some() as u64;
    }
    let took = started.elapsed();
    println!(
        "{answered} answers on a zone of {n} records: {:.0} ns per query",
        took.as_nanos() as f64 / count as f64
    );
}
