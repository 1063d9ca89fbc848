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
