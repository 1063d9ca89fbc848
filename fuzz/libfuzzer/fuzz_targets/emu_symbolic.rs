//! libFuzzer entry point for the `emu_symbolic` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::libfuzzer_one("emu_symbolic", data));
