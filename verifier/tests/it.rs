//! The integration tests of `seccheck`, one module per file of `tests/`, built
//! as one test binary: each binary links the whole library, so forty binaries
//! cost forty links of the same code (`autotests = false` in Cargo.toml; the
//! test below keeps this list complete).
//!
//! The modules run in one process, concurrently: a test must not change the
//! process's working directory or environment, nor install anything on the
//! process itself (the kernel tests fork a child for that).

mod common;
// The examples that write the corpus files, which the tests keep current.
#[path = "../examples/compile_corpus.rs"]
mod compile_corpus;
#[path = "../examples/corpus_report.rs"]
mod corpus_report_example;
#[path = "../examples/optimize_report.rs"]
mod optimize_report_example;

mod arch_tables_vs_libseccomp;
mod arch_tables_vs_syscalls_crate;
mod arch_tables_vs_uapi_headers;
mod bench_cli;
mod bench_modes;
mod bench_optimized;
mod bench_profiles;
mod bench_workload;
mod cli_check;
mod cli_diff;
mod cli_explain;
mod cli_fuzz_generator;
mod cli_input;
mod cli_lint;
mod cli_outputs;
mod cli_record;
mod cli_report;
mod cli_run;
mod cli_small;
mod cli_table;
mod clusterfuzzlite;
mod compiled_vs_emu;
mod corpus_commands;
mod corpus_compiled;
mod corpus_policies;
mod corpus_report;
mod diff_corpus;
mod docs_generated;
mod docs_policy;
mod elf_scan;
mod elf_scan_rust;
mod genfuzz_findings;
mod golden;
mod hostile_neighbours;
mod json_contract;
mod kernel_converted_len;
mod kernel_emulate;
mod kernel_readback;
mod kernel_validate;
mod lint_corpus;
mod live_process;
mod optimize;
mod optimize_crun;
mod optimize_firecracker;
mod overhead_report_claims;
mod policy_hostile;
mod readers_hostile;
mod report_browser;
mod report_hostile;
mod runc_readback;
mod sources_docker;
mod sources_firecracker;
mod sources_other;
mod symbolic_table;
mod symbolic_vs_emu;
mod table_names;

/// Every `tests/*.rs` file is a module above (a file Cargo no longer finds on
/// its own would otherwise never run), and every snapshot belongs to this
/// binary (insta names them `it__<module>__<name>.snap`; a snapshot named for
/// an old separate binary would never be compared).
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let this = std::fs::read_to_string(dir.join("it.rs")).unwrap();
    let declared: std::collections::BTreeSet<&str> =
        this.lines().filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';')).collect();
    let mut missing = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if let Some(m) = name.strip_suffix(".rs") {
            if m != "it" && !declared.contains(m) {
                missing.push(format!("mod {m};"));
            }
        }
    }
    assert!(missing.is_empty(), "verifier/tests/it.rs must declare: {}", missing.join(" "));
    let stray: Vec<String> = std::fs::read_dir(dir.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with("it__"))
        .collect();
    assert!(stray.is_empty(), "snapshots not named it__<module>__…: {stray:?}");
}
