//! libFuzzer entry point for the `compiled_emu` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::libfuzzer_one("compiled_emu", data));
