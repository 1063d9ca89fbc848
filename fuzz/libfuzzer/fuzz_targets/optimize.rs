//! libFuzzer entry point for the `optimize` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::libfuzzer_one("optimize", data));
