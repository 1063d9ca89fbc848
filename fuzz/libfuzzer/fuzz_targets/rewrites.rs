//! libFuzzer entry point for the `rewrites` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let t = fuzz::targets::target("rewrites").expect("target exists");
    if let Err(f) = (t.run)(data) {
        if !f.kind.starts_with("known:") {
            panic!("{}: {}", f.kind, f.detail);
        }
    }
});
