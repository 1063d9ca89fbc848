//! libFuzzer entry point for the `policy_parse` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::libfuzzer_one("policy_parse", data));
