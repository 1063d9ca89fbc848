//! libFuzzer entry point for the `elf_scan` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::libfuzzer_one("elf_scan", data));
