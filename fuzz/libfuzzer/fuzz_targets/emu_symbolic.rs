//! libFuzzer entry point for the `emu_symbolic` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let t = fuzz::targets::target("emu_symbolic").expect("target exists");
    if let Err(f) = (t.run)(data) {
        if !f.kind.starts_with("known:") {
            panic!("{}: {}", f.kind, f.detail);
        }
    }
});
