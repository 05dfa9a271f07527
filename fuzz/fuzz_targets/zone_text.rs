//! Zone-file text through the import parser, and one line as the RDATA of several types.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tandem_tests::fuzz::zone_text(data));
