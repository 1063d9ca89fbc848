//! Golden tests of the per-arch, per-syscall table (text and JSON), and the
//! counterexample API.

use crate::common;

use common::seccomp_lib::*;
use common::*;
use libseccomp::ScmpAction;
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
    let opts =
        TableOptions { arches: Some(vec![Arch::X86_64]), syscalls: Some(vec!["openat".into(), "getppid".into()]) };
    let t = table_of(&p, &opts);
    insta::assert_json_snapshot!("selected_json", t);
}

/// Every exit's example is in the exit's set, the emulator returns the exit's
/// value for it, and it reads well: a known arch where the set allows one,
/// zeros where the set leaves a field free.
#[test]
fn examples_are_members_and_readable() {
    let p = compile(&x86_trio(), ScmpAction::KillProcess, &every_comparison(), 1);
    let mut an = analyze(&p, &Options::default()).unwrap();
    let emu = seccheck::emu::Emulator::new(&p);
    let exits: Vec<_> = an.exits().to_vec();
    for e in exits {
        let d = an.example(e.inputs()).unwrap();
        assert!(an.contains(e.inputs(), &d));
        assert_eq!(emu.run(&d), e.ret);
        let dm = an.example_max(e.inputs()).unwrap();
        assert!(an.contains(e.inputs(), &dm));
    }
    // openat ALLOW (arg2 & 3 == 0) on x86_64: nr 257, arg2 0, everything else 0.
    let openat = an.field_eq(seccheck::symbolic::vars::Field::Nr, 257);
    let x86 = an.arch(Arch::X86_64);
    let allowed = an.by_action().into_iter().find(|(a, _)| *a == Action::Allow).unwrap().1;
    let s = an.and(openat, x86);
    let s = an.and(s, allowed);
    let d = an.example(s).unwrap();
    assert_eq!(d, seccheck::seccomp::SeccompData { nr: 257, arch: Arch::X86_64.audit_arch(), ..Default::default() });
    assert_eq!(an.example(an.none()), None);
}
