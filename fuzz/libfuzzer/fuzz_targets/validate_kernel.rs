//! libFuzzer entry point for the `validate_kernel` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::libfuzzer_one("validate_kernel", data));
