//! libFuzzer entry point for the `validate_kernel` target (see fuzz/src/targets.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let t = fuzz::targets::target("validate_kernel").expect("target exists");
    if let Err(f) = (t.run)(data) {
        // A known generator issue is expected; a machine-dependent one (a
        // slow generator, a kernel that cannot load filters now) is printed,
        // not made a crash whose replay would depend on this machine.
        if f.machine_dependent {
            eprintln!("{} (depends on this machine, not a crash): {}", f.kind, f.detail.lines().next().unwrap_or(""));
        } else if !f.kind.starts_with("known:") {
            panic!("{}: {}", f.kind, f.detail);
        }
    }
});
