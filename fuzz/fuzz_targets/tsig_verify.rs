//! TSIG verification of a request (server side) or of an answer (client side).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tandem_tests::fuzz::tsig_verify(data));
