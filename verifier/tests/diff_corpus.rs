//! `diff`, `refines` and stacks on real compiled filters (`corpus/compiled/`) and
//! on generated ones: corpus verdicts as golden files, symmetry, every printed
//! example re-run in the emulator, completeness against the emulator on random
//! inputs, and a deliberately broken filter that must show up.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use seccheck::arch::Arch;
use seccheck::bpf::insn::{BPF_JEQ, BPF_JMP, BPF_K};
use seccheck::bpf::{decode, validate, ByteOrder, Program, ValidProgram};
use seccheck::diff::{diff, diff_stacks, refines, refines_stacks, strictness, Diff, Region};
use seccheck::emu::{run_stack, Emulator};
use seccheck::seccomp::{Action, SeccompData};
use seccheck::symbolic::multi::{ArchKey, NrRow};
use seccheck::symbolic::Options;
use seccheck::testgen;
use std::path::PathBuf;

fn corpus(name: &str) -> ValidProgram {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/compiled").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    validate(&decode(&bytes, ByteOrder::Little).expect("decodes")).expect("valid")
}

fn corpus_files() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/compiled");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bpf"))
        .collect();
    v.sort();
    v
}

fn opts() -> Options {
    Options::default()
}

/// Is `nr` among a region's numbers? (Numbers given as a condition are not
/// checked.)
fn in_rows(r: &Region, nr: u32) -> bool {
    r.numbers.is_some() || r.syscalls.iter().any(|x| x.nr <= nr && nr <= x.nr_last.unwrap_or(x.nr))
}

/// Does the arch entry of a region cover `d`? (`Other` entries are not checked
/// against their arch condition.)
fn arch_covers(k: &ArchKey, d: &SeccompData) -> bool {
    match k {
        ArchKey::Known(a) => Arch::from_audit(d.arch, d.nr) == Some(*a),
        ArchKey::Other { known, .. } => Arch::from_audit(d.arch, d.nr).is_none_or(|a| known.contains(&a)),
    }
}

/// Re-run every region's example in the emulator: it lies in the region and
/// both sides take the actions printed, along the paths printed.
fn check_examples(regions: &[Region], a: &[ValidProgram], b: &[ValidProgram]) {
    let ea: Vec<Emulator> = a.iter().map(Emulator::new).collect();
    let eb: Vec<Emulator> = b.iter().map(Emulator::new).collect();
    for r in regions {
        let d = &r.example.input;
        assert!(arch_covers(&r.arch, d) && in_rows(r, d.nr), "example {d:?} outside its region {r:?}");
        assert_eq!(Action::from_ret(run_stack(&ea, d)), r.a, "A's action for {d:?}");
        assert_eq!(Action::from_ret(run_stack(&eb, d)), r.b, "B's action for {d:?}");
        assert_eq!((r.example.a.action, r.example.b.action), (r.a, r.b));
        for (runs, emus) in [(&r.example.a.filters, &ea), (&r.example.b.filters, &eb)] {
            for (run, e) in runs.iter().zip(emus) {
                assert_eq!(run.path, e.trace(d).path);
            }
        }
    }
}

type Key = (ArchKey, Vec<NrRow>, String, Action, Action, SeccompData);

fn keys(d: &Diff, swap: bool) -> Vec<Key> {
    let mut v: Vec<Key> = d
        .regions
        .iter()
        .map(|r| {
            let (a, b) = if swap { (r.b, r.a) } else { (r.a, r.b) };
            (r.arch.clone(), r.syscalls.clone(), r.when.to_string(), a, b, r.example.input)
        })
        .collect();
    v.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
    v
}

fn assert_symmetric(a: &ValidProgram, b: &ValidProgram) {
    let ab = diff(a, b, &opts()).unwrap();
    let ba = diff(b, a, &opts()).unwrap();
    assert_eq!(keys(&ab, false), keys(&ba, true));
}

#[test]
fn docker_default_linear_and_binary_tree_are_equivalent() {
    let (a, b) = (corpus("docker_default.x86_64.opt1.bpf"), corpus("docker_default.x86_64.opt2.bpf"));
    let d = diff(&a, &b, &opts()).unwrap();
    insta::assert_snapshot!(d.render_text("docker_default.x86_64.opt1.bpf", "docker_default.x86_64.opt2.bpf"));
    assert!(d.equivalent && d.regions.is_empty());
    assert!(refines(&a, &b, &opts()).unwrap().refines && refines(&b, &a, &opts()).unwrap().refines);
}

/// libseccomp's two layouts must mean the same for every profile we compiled
/// both ways.
#[test]
fn every_linear_and_binary_tree_pair_is_equivalent() {
    let files = corpus_files();
    let mut pairs = 0;
    for f in files.iter().filter(|f| f.ends_with(".opt1.bpf")) {
        let g = f.replace(".opt1.bpf", ".opt2.bpf");
        if !files.contains(&g) {
            continue;
        }
        let d = diff(&corpus(f), &corpus(&g), &opts()).unwrap();
        assert!(d.equivalent, "{}", d.render_text(f, &g));
        pairs += 1;
    }
    assert!(pairs >= 3, "only {pairs} opt1/opt2 pairs in the corpus");
}

/// runc's stub returns ENOSYS for numbers above the largest syscall of the
/// profile (per ABI), where libseccomp's own program returns the profile's
/// default ERRNO(EPERM): the diff is exactly those numbers, nothing else.
#[test]
fn runc_stub_differs_only_above_the_profiles_largest_syscall() {
    let (a, b) = (corpus("docker_default.x86_64.runc.bpf"), corpus("docker_default.x86_64.opt1.bpf"));
    let d = diff(&a, &b, &opts()).unwrap();
    insta::assert_snapshot!(d.render_text("docker_default.x86_64.runc.bpf", "docker_default.x86_64.opt1.bpf"));
    check_examples(&d.regions, std::slice::from_ref(&a), std::slice::from_ref(&b));
    let opt1 = Emulator::new(&b);
    for (arch, base, ends) in [
        (Arch::X86_64, 0, vec![0x3fff_ffffu32, 0xbfff_ffff]),
        (Arch::X32, 0x4000_0000, vec![0x7fff_ffff, 0xffff_ffff]),
        (Arch::I386, 0, vec![0xffff_ffff]),
    ] {
        // The profile's largest syscall on this ABI: the last number below 1024
        // that libseccomp's program does not send to the default action.
        let at = |nr: u32| SeccompData { nr, arch: arch.audit_arch(), ..Default::default() };
        let largest =
            (0..1024u32).rev().map(|n| base + n).find(|&nr| opt1.action(&at(nr)) != Action::Errno(1)).unwrap();
        let regions: Vec<&Region> = d.regions.iter().filter(|r| r.arch == ArchKey::Known(arch)).collect();
        assert_eq!(regions.len(), 1, "{arch}");
        let r = regions[0];
        assert_eq!((r.a, r.b, r.when.to_string().as_str()), (Action::Errno(38), Action::Errno(1), "always"));
        // The rows are exactly largest+1 ..= end of the ABI's number space.
        let mut covered: Vec<(u32, u32)> = Vec::new();
        for row in &r.syscalls {
            let (lo, hi) = (row.nr, row.nr_last.unwrap_or(row.nr));
            match covered.last_mut() {
                Some(last) if last.1.checked_add(1) == Some(lo) => last.1 = hi,
                _ => covered.push((lo, hi)),
            }
        }
        assert_eq!(covered[0].0, largest + 1, "{arch}");
        assert_eq!(covered.iter().map(|c| c.1).collect::<Vec<_>>(), ends, "{arch}");
    }
    assert_eq!(d.regions.len(), 3);
    assert_symmetric(&a, &b);
    // ENOSYS and EPERM are equally strict: each refines the other.
    assert!(refines(&a, &b, &opts()).unwrap().refines && refines(&b, &a, &opts()).unwrap().refines);
}

#[test]
fn every_corpus_filter_equals_itself() {
    for f in corpus_files() {
        let p = corpus(&f);
        let d = diff(&p, &p, &opts()).unwrap();
        assert!(d.equivalent, "{f}: {}", d.render_text("A", "A"));
        assert!(refines(&p, &p, &opts()).unwrap().refines, "{f}");
    }
}

/// Firecracker's api and vmm filters differ on many syscalls: the diff is
/// symmetric, every example is right, and refinement fails both ways with
/// examples that really are less strict.
#[test]
fn unrelated_filters_differ_symmetrically_with_checked_examples() {
    for (f, g) in [
        ("firecracker_x86_64.api.bpf", "firecracker_x86_64.vmm.bpf"),
        ("podman_containers_common.x86_64.runc.bpf", "docker_default.x86_64.runc.bpf"),
        ("seed_backend_denylist.x86_64.opt2.bpf", "spo_runc-v1.4.2.x86_64.runc.bpf"),
    ] {
        let (a, b) = (corpus(f), corpus(g));
        let d = diff(&a, &b, &opts()).unwrap();
        assert!(!d.equivalent, "{f} vs {g}");
        check_examples(&d.regions, std::slice::from_ref(&a), std::slice::from_ref(&b));
        assert_symmetric(&a, &b);
        for (x, y) in [(&a, &b), (&b, &a)] {
            let r = refines(x, y, &opts()).unwrap();
            check_examples(&r.violations, std::slice::from_ref(x), std::slice::from_ref(y));
            for v in &r.violations {
                assert!(strictness(v.a) > strictness(v.b));
            }
            // Violations are exactly the diff regions where A is less strict.
            let dd = diff(x, y, &opts()).unwrap();
            let looser = dd.regions.iter().filter(|r| strictness(r.a) > strictness(r.b)).count();
            assert_eq!(r.violations.len(), looser, "{f} vs {g}");
        }
    }
}

/// Test of the test: retarget libseccomp's `getpid` check to a number the
/// profile does not name. The diff must show getpid (now denied) and the new
/// number (now allowed) on x86_64 and nothing else, through the changed
/// instruction.
#[test]
fn a_mutated_filter_differs_exactly_at_the_mutation() {
    let orig = corpus("docker_default.x86_64.opt1.bpf");
    let mut insns = orig.insns().to_vec();
    let at = insns.iter().position(|i| i.code == BPF_JMP | BPF_JEQ | BPF_K && i.k == 39).expect("a getpid check");
    insns[at].k = 1000;
    let mutated = validate(&Program::new(insns)).unwrap();
    let d = diff(&orig, &mutated, &opts()).unwrap();
    insta::assert_snapshot!(d.render_text("opt1", "opt1 with getpid retargeted to 1000"));
    let got: Vec<(ArchKey, Vec<NrRow>, Action, Action)> =
        d.regions.iter().map(|r| (r.arch.clone(), r.syscalls.clone(), r.a, r.b)).collect();
    let row = |nr: u32, name: Option<&'static str>| vec![NrRow { nr, nr_last: None, name }];
    assert_eq!(
        got,
        vec![
            (ArchKey::Known(Arch::X86_64), row(39, Some("getpid")), Action::Allow, Action::Errno(1)),
            (ArchKey::Known(Arch::X86_64), row(1000, None), Action::Errno(1), Action::Allow),
        ]
    );
    for r in &d.regions {
        assert!(r.example.b.filters[0].path.contains(&at));
    }
    check_examples(&d.regions, std::slice::from_ref(&orig), std::slice::from_ref(&mutated));
    assert_symmetric(&orig, &mutated);
}

/// Completeness against the emulator: for random filters and random mutations
/// of them, every input on which the emulator sees the two disagree lies in a
/// region with exactly that pair of actions (so "equivalent" is never claimed
/// falsely), and likewise for refinement.
#[test]
fn every_emulated_disagreement_is_in_a_region() {
    let mut rng = SmallRng::seed_from_u64(0xd1ff);
    let small = Options { node_limit: 1 << 18, ..Options::default() };
    let (mut compared, mut differing, mut inputs, mut refused) = (0, 0, 0, 0);
    for round in 0..300 {
        let p = if rng.gen_bool(0.5) { testgen::filter_like(&mut rng) } else { testgen::valid_program(&mut rng) };
        let a = validate(&p).expect("generated programs are valid");
        // A mutation the kernel would accept.
        let Some((q, b)) = (0..20).find_map(|_| {
            let q = testgen::mutate(&mut rng, &p);
            validate(&q).ok().map(|b| (q, b))
        }) else {
            continue;
        };
        // Refused (never approximated) comparisons are skipped.
        let Ok(d) = diff(&a, &b, &small) else {
            refused += 1;
            continue;
        };
        let r = refines(&a, &b, &small).unwrap();
        compared += 1;
        differing += usize::from(!d.equivalent);
        check_examples(&d.regions, std::slice::from_ref(&a), std::slice::from_ref(&b));
        check_examples(&r.violations, std::slice::from_ref(&a), std::slice::from_ref(&b));
        let (ea, eb) = (Emulator::new(&a), Emulator::new(&b));
        let mut xs = testgen::inputs_for(&mut rng, &p, 60);
        xs.extend(testgen::inputs_for(&mut rng, &q, 60));
        for x in &xs {
            let (u, v) = (ea.action(x), eb.action(x));
            inputs += 1;
            let covered = |regions: &[Region]| {
                regions.iter().any(|r| r.a == u && r.b == v && arch_covers(&r.arch, x) && in_rows(r, x.nr))
            };
            if u != v {
                assert!(
                    covered(&d.regions),
                    "round {round}: {x:?} gives {u} vs {v}, in no region:\n{}",
                    d.render_text("p", "q")
                );
            }
            if strictness(u) > strictness(v) {
                assert!(covered(&r.violations), "round {round}: {x:?} gives {u} vs {v}, in no violation");
            }
        }
    }
    eprintln!("{compared} pairs compared, {differing} differ, {inputs} inputs, {refused} refused");
    assert!(compared > 200 && differing > 50 && compared - differing > 20, "{compared} compared, {differing} differ");
}

/// Stacks: the Docker filter with a later layer that traps `getpid` and
/// changes `ptrace`'s errno; the effective meaning against `run_stack` on
/// thousands of inputs, and `diff --stack` against the single filter.
#[test]
fn stacks_on_a_real_filter() {
    let docker = corpus("docker_default.x86_64.runc.bpf");
    let layer = validate(
        &seccheck::bpf::assemble(
            "
            ld [0]
            jeq #39, trap, next
        next:
            jeq #101, e13, allow
        trap:  ret #0x30001
        e13:   ret #0x5000d
        allow: ret #0x7fff0000
        ",
        )
        .unwrap(),
    )
    .unwrap();
    let stack = [docker.clone(), layer.clone()];
    let mut s = seccheck::stack::analyze(&stack, &opts()).unwrap();
    let emus: Vec<Emulator> = stack.iter().map(Emulator::new).collect();
    let mut rng = SmallRng::seed_from_u64(7);
    let mut xs = testgen::inputs_for(&mut rng, docker.program(), 3000);
    xs.extend(testgen::inputs_for(&mut rng, layer.program(), 1000));
    for x in &xs {
        assert_eq!(s.ret_for(x), run_stack(&emus, x), "{x:?}");
    }
    let t = s.table(&seccheck::symbolic::TableOptions { arches: Some(vec![Arch::X86_64]), syscalls: None });
    insta::assert_snapshot!(t.render_text());
    let d = diff_stacks(&stack, std::slice::from_ref(&docker), &opts()).unwrap();
    check_examples(&d.regions, &stack, std::slice::from_ref(&docker));
    insta::assert_snapshot!("stack_vs_single", d.render_text("docker runc + layer", "docker runc"));
    // The layer only makes things stricter: the stack refines the filter alone.
    assert!(refines_stacks(&stack, std::slice::from_ref(&docker), &opts()).unwrap().refines);
    assert!(!refines_stacks(std::slice::from_ref(&docker), &stack, &opts()).unwrap().refines);
}
