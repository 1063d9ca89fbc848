//! libFuzzer entry point for the `asm_roundtrip` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let t = fuzz::targets::target("asm_roundtrip").expect("target exists");
    if let Err(f) = (t.run)(data) {
        if !f.kind.starts_with("known:") {
            panic!("{}: {}", f.kind, f.detail);
        }
    }
});
