//! A query packet through parse and answer, as the UDP and TCP listeners run it.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tandem_tests::fuzz::query(data));
