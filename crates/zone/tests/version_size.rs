//! Heap held by one zone version per record: builds a zone of A records at distinct owners (the
//! shape of `tandem-loadgen gen-zone`) and counts what the version keeps allocated. The counts
//! are exact (a counting allocator, not RSS), so they hold as a test; the size is a benchmark
//! figure with more records:
//!
//! `TANDEM_VERSION_RECORDS=1000000 cargo test --release -p tandem-zone --test version_size -- --nocapture`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use tandem_zone::{Name, Record, ZoneVersion};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        ALLOCS.fetch_sub(1, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_version_holds_little_per_record() {
    let n: u32 = std::env::var("TANDEM_VERSION_RECORDS")
        .map(|a| a.parse().expect("TANDEM_VERSION_RECORDS is a number"))
        .unwrap_or(20_000);
    let apex = Name::parse("example.com").unwrap();
    let soa = tandem_zone::text::parse_zonefile(
        "@ 3600 SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ 3600 NS ns1\nns1 A 192.0.2.1\n",
        &apex,
        300,
    )
    .unwrap();
    let mut records: Vec<Record> = soa.into_iter().map(|p| p.record).collect();
    // Measured from before the input exists: build consumes it, so what stays live is the version.
    let (live0, allocs0) = (LIVE.load(Ordering::Relaxed), ALLOCS.load(Ordering::Relaxed));
    for i in 0..n {
        let owner = Name::parse(&format!("host{i}.example.com")).unwrap();
        records.push(Record::new(
            owner,
            1,
            300,
            (0x0a00_0000u32 + i).to_be_bytes().to_vec(),
        ));
    }
    let start = std::time::Instant::now();
    let v = ZoneVersion::build(apex, records).expect("a valid zone");
    let took = start.elapsed();
    let live = LIVE.load(Ordering::Relaxed) - live0;
    let allocs = ALLOCS.load(Ordering::Relaxed) as isize - allocs0 as isize;
    let per_record = live / n as isize;
    let allocs_per_record = allocs as f64 / n as f64;
    println!(
        "{} records built in {took:.2?}: the version holds {per_record} B/record requested, \
         {allocs_per_record:.2} allocations/record",
        v.record_count(),
    );
    // The base's buffer (owner name and node bytes per entry), its offsets and hash slots. At
    // 200k records it was 636 B and 7.17 allocations while RDATA was kept twice, 232 B and 4.17
    // once it was kept once, 159 B and 4.00 with the canonical base, 131 B and 2.00 with a node
    // in one allocation, 92 B and a handful of allocations in all with every name and node in
    // the base's one buffer. The counts do not depend on timing, so crossing these bounds is a
    // structural regression, not noise.
    assert!(per_record <= 110, "{per_record} B/record");
    assert!(
        allocs_per_record <= 0.01,
        "{allocs_per_record:.2} allocations/record"
    );
}
