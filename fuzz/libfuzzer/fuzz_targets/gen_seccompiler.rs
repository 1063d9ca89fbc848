//! libFuzzer entry point for the `gen_seccompiler` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::libfuzzer_one("gen_seccompiler", data));
