//! The query path allocates nothing: answering a mix of queries into a reused buffer makes no
//! heap allocation (counted by a global allocator wrapper, in a test binary of its own).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use tandem_server::{respond, AnswerConfig, Transport};

const LOCAL: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
use tandem_server::zone::ZoneSet;
use tandem_zone::text::parse_zonefile;
use tandem_zone::{Name, ZoneVersion};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: defers to the system allocator; only counts calls on the current thread.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn query(name: &[u8], qtype: u16, edns: bool) -> Vec<u8> {
    let mut m = vec![0xab, 0xcd, 0, 0, 0, 1, 0, 0, 0, 0, 0, edns as u8];
    m.extend_from_slice(name);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    if edns {
        m.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0]);
    }
    m
}

#[test]
fn answering_allocates_nothing() {
    let apex = Name::parse("example.test").unwrap();
    let text = "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n@ MX 10 mail\n\
                ns1 A 192.0.2.1\nmail A 192.0.2.2\nwww CNAME host\nhost A 192.0.2.3\n\
                *.wild A 192.0.2.4\nsub NS ns.sub\nns.sub A 192.0.2.5\n";
    let recs = parse_zonefile(text, &apex, 300).unwrap();
    let v = ZoneVersion::build(apex.clone(), recs.into_iter().map(|p| p.record)).unwrap();
    let zones = Arc::new(ZoneSet::new());
    zones.insert(apex, Some(Arc::new(v)));
    let queries = [
        query(b"\x04host\x07example\x04test\x00", 1, false),
        query(b"\x03www\x07example\x04test\x00", 1, true),
        query(b"\x07example\x04test\x00", 15, true),
        query(b"\x02nx\x07example\x04test\x00", 1, false),
        query(b"\x01x\x04wild\x07example\x04test\x00", 1, true),
        query(b"\x01x\x03sub\x07example\x04test\x00", 1, false),
        query(b"\x07example\x03org\x00", 1, false),
        vec![0, 1, 2],
    ];
    let cfg = AnswerConfig::default();
    let mut buf = Vec::with_capacity(65536);
    // Warm up (lazily initialised statics of the libraries used).
    for q in &queries {
        respond(&zones, q, &mut buf, Transport::Udp, LOCAL, &cfg);
    }
    let before = ALLOCS.with(Cell::get);
    let mut answered = 0;
    for _ in 0..1000 {
        for q in &queries {
            answered += respond(&zones, q, &mut buf, Transport::Udp, LOCAL, &cfg).is_some() as u32;
        }
    }
    let after = ALLOCS.with(Cell::get);
    assert_eq!(answered, 7000, "every well-formed query answered");
    assert_eq!(after - before, 0, "heap allocations on the query path");
}
