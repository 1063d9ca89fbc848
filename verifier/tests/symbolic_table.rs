//! Golden tests of the per-arch, per-syscall table (text and JSON), and the
//! counterexample API.

mod common;

use common::seccomp_lib::*;
use common::*;
use libseccomp::{ScmpAction, ScmpArch};
use seccheck::arch::Arch;
use seccheck::seccomp::Action;
use seccheck::symbolic::{analyze, Options, TableOptions};

fn table_of(p: &seccheck::bpf::ValidProgram, opts: &TableOptions) -> seccheck::symbolic::Table {
    analyze(p, &Options::default()).unwrap().table(opts)
}

#[test]
fn docker_like_table() {
    let t = table_of(&docker_like(1), &TableOptions::default());
    insta::assert_snapshot!("docker_like_text", t.render_text());
    // The tree layout means the same: same table.
    assert_eq!(t, table_of(&docker_like(2), &TableOptions::default()));
}

#[test]
fn every_comparison_table() {
    let p = compile(&x86_trio(), ScmpAction::KillProcess, &every_comparison(), 1);
    let t = table_of(&p, &TableOptions::default());
    insta::assert_snapshot!("every_comparison_text", t.render_text());
    insta::assert_json_snapshot!("every_comparison_json", t);
}

#[test]
fn hand_written_tables() {
    for (name, p) in hand_written() {
        if !["x86_64-args", "no-arch-check", "ip-and-s390x", "computed-actions"].contains(&name) {
            continue;
        }
        let t = table_of(&p, &TableOptions::default());
        insta::assert_snapshot!(format!("hand_{name}_text"), t.render_text());
    }
}

#[test]
fn table_for_selected_arch_and_syscall() {
    let p = compile(&x86_trio(), ScmpAction::KillProcess, &every_comparison(), 1);
    let opts = TableOptions { arches: Some(vec![Arch::X86_64]), syscalls: Some(vec!["openat".into(), "getppid".into()]) };
    let t = table_of(&p, &opts);
    insta::assert_json_snapshot!("selected_json", t);
}
