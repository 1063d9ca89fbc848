//! Replays every file under `fuzz/regressions/TARGET/` through its target.
//! A file named `known-<id>-*.bin` is a known generator issue and must still
//! fail with kind `known:<id>` (when the generator is fixed, this test fails:
//! move the file to a plain name, it then guards the fix); every other file
//! must pass.

use fuzz::targets::{target, TARGETS};
use fuzz::{expected_kind, regression_files, run_once};
use seccheck::testgen::skip::{skip, Need};
use std::path::Path;

#[test]
fn every_regression_file_replays_as_expected() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs = std::fs::read_dir(root.join("regressions")).expect("fuzz/regressions exists");
    let mut replayed = 0;
    for d in dirs {
        let d = d.unwrap().path();
        let name = d.file_name().unwrap().to_str().unwrap().to_owned();
        let t = target(&name).unwrap_or_else(|| panic!("fuzz/regressions/{name}: no such target"));
        if t.kernel {
            if let Err(e) = seccheck::kernel::health::check() {
                skip(Need::Kernel, &format!("{name} regressions not replayed: {e}"));
                continue;
            }
        }
        for f in regression_files(root, &name) {
            let data = std::fs::read(&f).unwrap();
            let got = run_once(t, &data);
            match expected_kind(&f) {
                Some(kind) => match got {
                    Err(e) if e.kind == kind => {}
                    other => panic!("{}: expected the known issue {kind} to reproduce, got {other:?}", f.display()),
                },
                None => assert_eq!(got, Ok(()), "{} fails again", f.display()),
            }
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no regression files found");
}

#[test]
fn known_file_names_map_to_kinds() {
    assert_eq!(
        expected_kind(Path::new("known-libseccomp-stale-accumulator-00ff.bin")).as_deref(),
        Some("known:libseccomp-stale-accumulator")
    );
    assert_eq!(expected_kind(Path::new("panic-00ff.bin")), None);
    assert!(TARGETS.len() >= 9);
}
