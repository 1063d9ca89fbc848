//! libFuzzer entry point for the `diff_props` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::libfuzzer_one("diff_props", data));
