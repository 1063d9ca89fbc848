//! The integration tests of the fuzz crate, one module per file of `tests/`,
//! built as one test binary (`autotests = false` in Cargo.toml; the test below
//! keeps this list complete).

mod regressions;
mod smoke;

/// Every `tests/*.rs` file is a module above: a file Cargo no longer finds on
/// its own would otherwise never run.
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let this = std::fs::read_to_string(dir.join("it.rs")).unwrap();
    let declared: Vec<&str> = this.lines().filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';')).collect();
    let mut missing = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if let Some(m) = name.strip_suffix(".rs") {
            if m != "it" && !declared.contains(&m) {
                missing.push(format!("mod {m};"));
            }
        }
    }
    assert!(missing.is_empty(), "fuzz/tests/it.rs must declare: {}", missing.join(" "));
}
