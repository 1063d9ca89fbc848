//! The same options everywhere: every subcommand that reads a filter takes
//! the shared input and profile options (one argument group,
//! [`super::input::InputOptions`]), and the commands that ask the kernel about
//! their examples share one flag for it ([`super::input::KernelArgs`]). The
//! subcommands are enumerated from clap, so a new one has to be placed.

use clap::CommandFactory;

/// Every long option of the shared input group.
const SHARED: &[&str] = &[
    "input-format",
    "endian",
    "filter",
    "host-arch",
    "optimize",
    "loader",
    "caps",
    "kernel-version",
    "libseccomp-timeout",
];

/// Subcommands that read no filter file, and what they read instead.
const NO_FILTER: &[(&str, &str)] = &[
    ("asm", "assembly source, written by disasm"),
    ("scan", "an ELF binary, listing its filters; every command reads one as BINARY#N"),
    ("pid", "a live process's filters through ptrace"),
    ("explain", "a finding code"),
    ("generate", "traces written by record"),
    ("fuzz-generator", "nothing: it generates its own profiles"),
    ("completions", "nothing: it prints a shell completion script"),
    ("man", "nothing: it writes the manual pages"),
];

/// Subcommands that print examples the kernel can confirm.
const ASK_THE_KERNEL: &[&str] = &["check", "lint", "diff", "report"];

/// Subcommands whose own kernel check (not of examples) is skipped with the
/// same flag name: `optimize` has the kernel accept and run its output.
const OWN_KERNEL_CHECK: &[&str] = &["optimize"];

fn longs(c: &clap::Command) -> Vec<&str> {
    c.get_arguments().filter_map(|a| a.get_long()).collect()
}

#[test]
fn every_command_that_reads_a_filter_takes_the_shared_input_options() {
    let cli = super::Cli::command();
    let mut readers = Vec::new();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        let have = longs(sub);
        if NO_FILTER.iter().any(|(n, _)| *n == name) {
            assert!(!have.contains(&"host-arch"), "{name} reads no filter, yet takes --host-arch");
            continue;
        }
        let missing: Vec<&&str> = SHARED.iter().filter(|s| !have.contains(s)).collect();
        assert!(missing.is_empty(), "`seccheck {name}` reads a filter but lacks {missing:?}");
        readers.push(name);
    }
    // The test of the test: the filter readers are the ones the docs name.
    readers.sort_unstable();
    assert_eq!(
        readers,
        [
            "bench", "check", "diff", "disasm", "emu", "lint", "optimize", "record", "report", "run", "stack", "table",
            "validate"
        ]
    );
}

#[test]
fn kernel_confirmation_has_one_flag_and_one_default() {
    let cli = super::Cli::command();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        let flag = sub.get_arguments().find(|a| a.get_long() == Some("no-kernel"));
        if ASK_THE_KERNEL.contains(&name) {
            let flag = flag.unwrap_or_else(|| panic!("`seccheck {name}` lacks --no-kernel"));
            assert!(!flag.is_hide_set());
            let help = flag.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(help.contains("asked by default"), "{name}: {help}");
            // The old opt-in is accepted everywhere, hidden: asking is the default.
            let old = sub.get_arguments().find(|a| a.get_long() == Some("confirm"));
            assert!(old.is_some_and(|a| a.is_hide_set()), "{name}: --confirm is a hidden alias");
        } else if OWN_KERNEL_CHECK.contains(&name) {
            assert!(flag.is_some(), "`seccheck {name}` skips its kernel check with --no-kernel");
        } else {
            assert!(flag.is_none(), "`seccheck {name}` has --no-kernel but is not listed as asking the kernel");
        }
    }
}

#[test]
fn a_filter_is_read_from_standard_input_as_dash() {
    let cli = super::Cli::command();
    for name in ["validate", "table", "check", "disasm", "emu", "lint", "report"] {
        let sub = cli.find_subcommand(name).unwrap();
        let file = sub.get_positionals().next().unwrap_or_else(|| panic!("{name} has no FILE"));
        let help = file.get_help().map(|h| h.to_string()).unwrap_or_default();
        assert!(help.contains("`-`: standard input"), "{name}: {help}");
    }
}

/// Every numeric option of every command, with the range it accepts. An
/// option of a numeric type missing here fails the test below, so a new one
/// has to state its range (`super::numbers`).
const NUMERIC: &[(&str, &str, &str, &str)] = &[
    // (command, option, lowest, highest accepted)
    ("bench", "threads", "1", "64"),
    ("bench", "per-call", "0", "10000"),
    ("bench", "rounds", "1", "1000"),
    ("bench", "batches", "1", "64"),
    ("bench", "batch-us", "1", "100000"),
    ("bench", "nr-syscalls", "1", "4096"),
    ("bench", "repeat", "1", "10"),
    ("report", "bench-threads", "1", "64"),
    ("report", "bench-rounds", "1", "1000"),
    ("fuzz-generator", "seconds", "1", "604800"),
    ("fuzz-generator", "seed", "0", "18446744073709551615"),
    ("fuzz-generator", "max-findings", "0", "1000"),
    ("fuzz-generator", "case-timeout", "1", "86400"),
    ("fuzz-generator", "profile-size", "1", "1000"),
    ("fuzz-generator", "cases", "1", "18446744073709551615"),
    ("pid", "pid", "1", "2147483647"),
    ("*", "libseccomp-timeout", "0", "604800"),
];

fn is_numeric(a: &clap::Arg) -> bool {
    use std::any::TypeId;
    let t = a.get_value_parser().type_id();
    [
        TypeId::of::<u8>(),
        TypeId::of::<u16>(),
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<usize>(),
        TypeId::of::<i8>(),
        TypeId::of::<i16>(),
        TypeId::of::<i32>(),
        TypeId::of::<i64>(),
        TypeId::of::<isize>(),
        TypeId::of::<f32>(),
        TypeId::of::<f64>(),
    ]
    .into_iter()
    .any(|id| t == id)
}

/// One past `bound` (`+1` or `-1`), as decimal text; `None` past u64.
fn beyond(bound: &str, up: bool) -> Option<String> {
    let v: i128 = bound.parse().unwrap();
    let b = if up { v + 1 } else { v - 1 };
    (b >= i128::from(i64::MIN) && b <= i128::from(u64::MAX)).then(|| b.to_string())
}

/// Parse `seccheck COMMAND ARGS…` as the binary does.
fn parse(cli: &clap::Command, command: &str, args: &[&str]) -> Result<(), clap::Error> {
    let argv = ["seccheck", command].into_iter().chain(args.iter().copied());
    cli.clone().try_get_matches_from(argv).map(|_| ())
}

/// A value the option refuses: a usage error (exit 2) about this value.
fn refused(e: &clap::Error) -> bool {
    use clap::error::ErrorKind::{InvalidValue, ValueValidation};
    matches!(e.kind(), ValueValidation | InvalidValue) && e.exit_code() == 2
}

#[test]
fn every_numeric_option_takes_exactly_its_stated_range() {
    let mut cli = super::Cli::command();
    cli.build();
    let mut seen = Vec::new();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        for a in sub.get_arguments().filter(|a| is_numeric(a)) {
            let opt = a.get_long().unwrap_or(a.get_id().as_str());
            let &(_, _, lo, hi) = NUMERIC
                .iter()
                .find(|(c, o, ..)| (*c == name || *c == "*") && *o == opt)
                .unwrap_or_else(|| panic!("`seccheck {name}` --{opt} is numeric but states no range in NUMERIC"));
            seen.push((name, opt));
            // `--opt=V`, or `-- V` for a positional: V whatever it looks like.
            let with = |v: &str| match a.get_long() {
                Some(l) => parse(&cli, name, &[&format!("--{l}={v}")]),
                None => parse(&cli, name, &["--", v]),
            };
            for ok in [lo, hi] {
                // Other arguments may be missing; this one is taken.
                if let Err(e) = with(ok) {
                    assert!(!refused(&e), "{name} --{opt} {ok} is refused: {e}");
                }
            }
            let mut bad: Vec<String> =
                ["nan", "inf", "-inf", "ten", "", "1e400", "99999999999999999999999"].map(String::from).to_vec();
            bad.extend(beyond(lo, false));
            bad.extend(beyond(hi, true));
            for v in &bad {
                let e = with(v).expect_err(&format!("{name} --{opt} {v:?} is taken"));
                assert!(refused(&e), "{name} --{opt} {v:?}: not a usage error about the value: {e}");
                assert!(
                    e.to_string().contains(&format!("'{a}'")),
                    "{name} --{opt} {v:?}: the error names the option: {e}"
                );
            }
            for out in [beyond(lo, false), beyond(hi, true)].into_iter().flatten() {
                let e = with(&out).unwrap_err().to_string();
                assert!(e.contains(&format!("{lo}..={hi}")), "{name} --{opt} {out}: the error states the range: {e}");
            }
            // A negative number as its own word is this option's value, not
            // an unknown option `-1`.
            let e = match a.get_long() {
                Some(l) => parse(&cli, name, &[&format!("--{l}"), "-1"]),
                None => parse(&cli, name, &["-1"]),
            }
            .expect_err(&format!("{name} --{opt} -1 is taken"));
            assert!(refused(&e), "{name} --{opt} -1: {e}");
            // The range stated in words, where the user looks first (a seed is
            // any u64; a count with no upper bound but u64's says its lowest).
            let help = a.get_long_help().or(a.get_help()).map(|h| h.to_string()).unwrap_or_default();
            let stated = if hi == u64::MAX.to_string() {
                opt == "seed" || help.contains(&format!("at least {lo}"))
            } else {
                help.contains(&format!("{lo}..={hi}"))
            };
            assert!(stated, "{name} --{opt}: the help does not state {lo}..={hi}: {help}");
        }
    }
    // The test of the test: every row names an option that exists.
    for (c, o, ..) in NUMERIC {
        assert!(seen.iter().any(|(n, x)| (*c == "*" || n == c) && x == o), "NUMERIC names no option {c} --{o}");
    }
}

/// Every command says in its help what its exit status means (README's
/// table says the same), so a script's author need not guess.
#[test]
fn every_command_states_its_exit_status() {
    let cli = super::Cli::command();
    for sub in cli.get_subcommands() {
        let after = sub.get_after_help().map(|h| h.to_string()).unwrap_or_default();
        assert!(after.starts_with("Exit status: "), "`seccheck {}` --help: {after:?}", sub.get_name());
        assert!(after.contains('2'), "`seccheck {}`: says when it exits 2: {after:?}", sub.get_name());
    }
}
