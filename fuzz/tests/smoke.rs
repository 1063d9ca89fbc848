//! A short run of every target (about 1.5 s each) with a fixed seed: the
//! targets must execute, and find nothing new. Longer runs: `fuzz/README.md`.

use fuzz::targets::TARGETS;
use fuzz::{run, RunOptions};
use seccheck::testgen::skip::{skip, Need};
use std::path::PathBuf;
use std::time::Duration;

#[test]
fn every_target_runs_briefly_without_new_failures() {
    let opts = RunOptions {
        seconds: 1.5,
        seed: 20261204,
        root: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        save: false,
        minimise_budget: Duration::from_secs(5),
    };
    for t in TARGETS {
        if t.kernel {
            if let Err(e) = seccheck::kernel::health::check() {
                skip(Need::Kernel, &format!("target {} not run: {e}", t.name));
                continue;
            }
        }
        let s = run(t, &opts);
        eprintln!("{}: {} execs ({:.0}/s), failures {:?}", t.name, s.execs, s.execs_per_second(), s.failures);
        assert!(s.execs >= 3, "{} ran only {} times", t.name, s.execs);
        assert_eq!(s.new_failures(), 0, "{}: {:?}", t.name, s.failures);
    }
}
