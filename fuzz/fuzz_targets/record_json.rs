//! The JSON body of a record POST, read as the API handler reads it.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tandem_tests::fuzz::record_json(data));
