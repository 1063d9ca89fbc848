//! libFuzzer entry point for the `decode_validate` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::libfuzzer_one("decode_validate", data));
