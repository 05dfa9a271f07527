//! A stream of length-prefixed messages as the answer to an AXFR and an IXFR request.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tandem_tests::fuzz::xfr_reader(data));
