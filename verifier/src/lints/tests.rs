//! Each lint firing and staying quiet on small hand-written filters.
//!
//! One snapshot per lint holds every case's findings of that lint, so a change
//! in wording or in what fires is reviewed as a diff. Each case also states
//! whether the lint must fire, and that is asserted on its own.

use super::*;
use crate::bpf::assemble;
use crate::bpf::validate::validate;
use crate::symbolic::{analyze, Options};

/// The lints' context for `v`, on an analysis with the default limits (as
/// `crate::check::run` makes it).
fn context<'p>(v: &'p ValidProgram, opts: &LintOptions) -> LintContext<'p> {
    LintContext::from_analysis(v, analyze(v, &Options::default()).unwrap(), opts).unwrap()
}

/// Assemble `src`, lint it, and keep the findings of lint `code`.
fn findings(code: &str, src: &str, arches: Option<&[Arch]>) -> Vec<Finding> {
    let p = assemble(src).unwrap_or_else(|e| panic!("{e:?}"));
    let v = validate(&p).unwrap_or_else(|e| panic!("{e:?}"));
    let opts = LintOptions { arches: arches.map(|a| a.to_vec()), ..LintOptions::default() };
    let cx = context(&v, &opts);
    let all = run(&cx).unwrap();
    for f in &all {
        // The counterexample is the emulator's answer; the analysis must agree.
        if let Some(c) = &f.counterexample {
            let exit = cx.analysis().exit_for(&c.input).map(|e| e.action());
            assert_eq!(exit, Some(c.action), "{f}");
        }
    }
    // And the running kernel takes that action for that input.
    crate::finding::confirm::assert_kernel_agrees(std::slice::from_ref(&p), &all);
    all.into_iter().filter(|f| f.code == code).collect()
}

struct Case<'a> {
    what: &'a str,
    src: &'a str,
    arches: Option<&'a [Arch]>,
    fires: bool,
}

/// Run every case, assert which fire, and render them all for the snapshot.
fn cases(code: &str, cases: &[Case]) -> String {
    let mut out = String::new();
    for c in cases {
        let f = findings(code, c.src, c.arches);
        assert_eq!(!f.is_empty(), c.fires, "{code} on `{}`: {f:#?}", c.what);
        out.push_str(&format!("== {} ({})\n", c.what, if c.fires { "fires" } else { "quiet" }));
        for x in &f {
            out.push_str(&format!("{x}\n"));
        }
    }
    out
}

const X86_64: &[Arch] = &[Arch::X86_64];

/// x86_64 only, x32 killed, then `rules`.
fn x86_64(rules: &str) -> String {
    format!(
        "ld [4]\n jeq #0xc000003e, x86, kill\n x86: ld [0]\n jge #0x40000000, kill, rules\n rules: {rules}\n kill: ret #0\n"
    )
}

#[test]
fn sc001_missing_arch_check() {
    let pinned = x86_64("jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001");
    insta::assert_snapshot!(cases(
        "SC001",
        &[
            Case {
                what: "no arch test at all",
                src: "ld [0]\n jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001",
                arches: None,
                fires: true,
            },
            Case {
                what: "arch tested only to kill i386",
                src: "ld [4]\n jeq #0x40000003, kill, go\n go: ld [0]\n jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001\n kill: ret #0",
                arches: Some(X86_64),
                fires: true,
            },
            Case { what: "x86_64 pinned first", src: &pinned, arches: None, fires: false },
            Case {
                what: "everything runs without looking at nr",
                src: "ret #0x7fff0000",
                arches: None,
                fires: false,
            },
            Case {
                what: "unpinned paths only deny",
                src: "ld [0]\n jeq #59, deny, kill\n deny: ret #0x50001\n kill: ret #0",
                arches: None,
                fires: false,
            },
        ]
    ));
}

#[test]
fn sc002_x32_not_blocked() {
    let open = "ld [4]\n jeq #0xc000003e, go, kill\n go: ld [0]\n jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001\n kill: ret #0";
    let blocked = x86_64("jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001");
    let everything = "ld [4]\n jeq #0xc000003e, allow, kill\n allow: ret #0x7fff0000\n kill: ret #0";
    insta::assert_snapshot!(cases(
        "SC002",
        &[
            Case { what: "deny-list without the x32 check", src: open, arches: Some(X86_64), fires: true },
            Case { what: "x32 numbers killed", src: &blocked, arches: Some(X86_64), fires: false },
            Case {
                what: "x32 is one of its arches",
                src: open,
                arches: Some(&[Arch::X86_64, Arch::X32]),
                fires: false
            },
            Case { what: "x86_64 denies nothing", src: everything, arches: Some(X86_64), fires: false },
        ]
    ));
}

#[test]
fn sc003_compat_arch_open() {
    let i386_open = "ld [4]\n jeq #0xc000003e, rules, allow\n rules: ld [0]\n jge #0x40000000, kill, go\n go: jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001\n kill: ret #0";
    let arm_open = "ld [4]\n jeq #0xc00000b7, rules, allow\n rules: ld [0]\n jeq #221, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001";
    let closed = x86_64("jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001");
    insta::assert_snapshot!(cases(
        "SC003",
        &[
            Case { what: "x86_64 filter, i386 falls through to ALLOW", src: i386_open, arches: None, fires: true },
            Case { what: "aarch64 filter, arm falls through to ALLOW", src: arm_open, arches: None, fires: true },
            Case { what: "other arches killed", src: &closed, arches: None, fires: false },
            Case {
                what: "i386 is one of its arches",
                src: i386_open,
                arches: Some(&[Arch::X86_64, Arch::I386]),
                fires: false
            },
        ]
    ));
}

#[test]
fn sc004_default_allow() {
    let deny_list = x86_64("jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001");
    let log_default = x86_64("jeq #59, deny, log\n log: ret #0x7ffc0000\n deny: ret #0x50001");
    let allow_list = x86_64("jeq #0, allow, deny\n allow: ret #0x7fff0000\n deny: ret #0x50001");
    insta::assert_snapshot!(cases(
        "SC004",
        &[
            Case { what: "deny-list", src: &deny_list, arches: None, fires: true },
            Case { what: "audit mode: LOG by default", src: &log_default, arches: None, fires: true },
            Case { what: "allow-list", src: &allow_list, arches: None, fires: false },
        ]
    ));
}

#[test]
fn sc005_sibling_not_denied() {
    let execveat_open = x86_64("jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001");
    // execveat (322) runs only with flags (arg4) == 0
    let execveat_some = x86_64(
        "jeq #59, deny, next\n next: jeq #322, flags, allow\n flags: ld [48]\n jeq #0, allow, deny\n allow: ret #0x7fff0000\n deny: ret #0x50001",
    );
    let socketcall = "ld [4]\n jeq #0x40000003, i386, kill\n i386: ld [0]\n jeq #359, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001\n kill: ret #0";
    // openat denied, io_uring_setup (425) runs
    let io_uring = x86_64("jeq #2, deny, next\n next: jeq #257, deny, n2\n n2: jeq #437, deny, n3\n n3: jeq #85, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001");
    let both =
        x86_64("jeq #59, deny, next\n next: jeq #322, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001");
    // an allow-list that does not name execveat says nothing about exec
    let allow_list = x86_64("jeq #59, allow, deny\n allow: ret #0x7fff0000\n deny: ret #0x50001");
    insta::assert_snapshot!(cases(
        "SC005",
        &[
            Case { what: "execve denied, execveat runs", src: &execveat_open, arches: None, fires: true },
            Case {
                what: "execve denied, execveat runs for some flags",
                src: &execveat_some,
                arches: None,
                fires: true
            },
            Case {
                what: "i386 socket denied, socketcall(SYS_SOCKET) runs",
                src: socketcall,
                arches: None,
                fires: true
            },
            Case {
                what: "open, openat, openat2, creat denied, io_uring_setup runs",
                src: &io_uring,
                arches: None,
                fires: true
            },
            Case { what: "execve and execveat denied", src: &both, arches: None, fires: false },
            Case { what: "allow-list without execveat", src: &allow_list, arches: None, fires: false },
        ]
    ));
}

#[test]
fn sc006_tautological_arg_check() {
    // open (2): arg1 is the flags, low word at offset 24 on x86_64
    let mask_zero = x86_64("jeq #2, open, allow\n open: ld [24]\n and #0\n jeq #0, allow, deny\n allow: ret #0x7fff0000\n deny: ret #0x50001");
    let libseccomp_high = x86_64(
        "jeq #56, clone, allow\n clone: ld [20]\n and #0\n jeq #0, low, deny\n low: ld [16]\n and #0x7e020000\n jeq #0, allow, deny\n allow: ret #0x7fff0000\n deny: ret #0x50001",
    );
    let same_target = x86_64("jeq #2, open, allow\n open: ld [24]\n jset #1, allow, allow\n allow: ret #0x7fff0000");
    let accmode = x86_64("jeq #2, open, allow\n open: ld [24]\n and #3\n jeq #0, allow, deny\n allow: ret #0x7fff0000\n deny: ret #0x50001");
    insta::assert_snapshot!(cases(
        "SC006",
        &[
            Case { what: "MASKED_EQ with mask 0 on open's flags", src: &mask_zero, arches: None, fires: true },
            Case { what: "libseccomp's high-half test (note)", src: &libseccomp_high, arches: None, fires: true },
            Case { what: "both targets the same", src: &same_target, arches: None, fires: true },
            Case { what: "O_ACCMODE mask", src: &accmode, arches: None, fires: false },
        ]
    ));
}

#[test]
fn sc007_contradictory_arg_check() {
    // arg0 low <= 10 on the `small` path, so `> 20` never holds and `odd`
    // (LOG) is reached by nothing else.
    let stranded = x86_64(
        "jeq #16, ioctl, allow\n ioctl: ld [16]\n jgt #10, allow, small\n small: jgt #20, odd, deny\n odd: ret #0x7ffc0000\n allow: ret #0x7fff0000\n deny: ret #0x50001",
    );
    let redundant = x86_64(
        "jeq #16, ioctl, allow\n ioctl: ld [16]\n jgt #10, allow, small\n small: jgt #20, allow, deny\n allow: ret #0x7fff0000\n deny: ret #0x50001",
    );
    let fine = x86_64(
        "jeq #16, ioctl, allow\n ioctl: ld [16]\n jgt #10, allow, small\n small: jgt #5, allow, deny\n allow: ret #0x7fff0000\n deny: ret #0x50001",
    );
    insta::assert_snapshot!(cases(
        "SC007",
        &[
            Case { what: "a rule that can never apply", src: &stranded, arches: None, fires: true },
            Case { what: "a redundant test (note)", src: &redundant, arches: None, fires: true },
            Case { what: "both branches taken", src: &fine, arches: None, fires: false },
        ]
    ));
}

#[test]
fn sc008_arg_high_half_unchecked() {
    // mprotect (10) len = arg1: low word 24, high word 28
    let low_only = x86_64(
        "jeq #10, mp, allow\n mp: ld [24]\n jgt #0x1000, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001",
    );
    let both_halves = x86_64(
        "jeq #10, mp, allow\n mp: ld [28]\n jeq #0, low, deny\n low: ld [24]\n jgt #0x1000, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001",
    );
    // socket (41): deny family 40 only when the high word is 0 (libseccomp 2.5)
    let socket_64 = x86_64(
        "jeq #41, sock, allow\n sock: ld [20]\n jeq #0, low, allow\n low: ld [16]\n jeq #40, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001",
    );
    // personality (135): allow 8 only when the high word is 0
    let personality_64 = x86_64(
        "jeq #135, pers, allow\n pers: ld [20]\n jeq #0, low, deny\n low: ld [16]\n jeq #8, allow, deny\n allow: ret #0x7fff0000\n deny: ret #0x50001",
    );
    let socket_32 = x86_64(
        "jeq #41, sock, allow\n sock: ld [16]\n jeq #40, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001",
    );
    insta::assert_snapshot!(cases(
        "SC008",
        &[
            Case { what: "size compared on its low half", src: &low_only, arches: None, fires: true },
            Case { what: "int compared on 64 bits: bypass", src: &socket_64, arches: None, fires: true },
            Case { what: "int compared on 64 bits: spurious denial", src: &personality_64, arches: None, fires: true },
            Case { what: "size compared on both halves", src: &both_halves, arches: None, fires: false },
            Case { what: "int compared on its low half", src: &socket_32, arches: None, fires: false },
        ]
    ));
}

#[test]
fn sc009_unreachable_code() {
    let dead = x86_64("jeq #2, allow, next\n next: ja allow\n ret #0x50001\n allow: ret #0x7fff0000");
    let live = x86_64("jeq #2, allow, deny\n deny: ret #0x50001\n allow: ret #0x7fff0000");
    insta::assert_snapshot!(cases(
        "SC009",
        &[
            Case { what: "a ret nothing reaches", src: &dead, arches: None, fires: true },
            Case { what: "every instruction runs", src: &live, arches: None, fires: false },
        ]
    ));
}

#[test]
fn sc010_errno_out_of_range() {
    let bad = x86_64("jeq #2, zero, next\n next: jeq #3, big, allow\n zero: ret #0x50000\n big: ret #0x52710\n allow: ret #0x7fff0000");
    // errno = arg0 & 0x1001: 0, 1, 4096 or 4097
    let computed = x86_64("ld [16]\n and #0x1001\n or #0x50000\n ret a");
    let good = x86_64("jeq #2, deny, allow\n deny: ret #0x50001\n allow: ret #0x7fff0000");
    insta::assert_snapshot!(cases(
        "SC010",
        &[
            Case { what: "ERRNO(0) and ERRNO(10000)", src: &bad, arches: None, fires: true },
            Case { what: "RET A with errno = arg0 & 0x1001", src: &computed, arches: None, fires: true },
            Case { what: "EPERM", src: &good, arches: None, fires: false },
        ]
    ));
}

#[test]
fn sc011_user_notif_delegation() {
    let notif = x86_64("jeq #257, notify, next\n next: jeq #101, trace, allow\n notify: ret #0x7fc00000\n trace: ret #0x7ff00007\n allow: ret #0x7fff0000");
    let some_args = x86_64("jeq #42, conn, allow\n conn: ld [16]\n jeq #3, notify, allow\n notify: ret #0x7fc00000\n allow: ret #0x7fff0000");
    let none = x86_64("jeq #257, deny, allow\n deny: ret #0x50001\n allow: ret #0x7fff0000");
    insta::assert_snapshot!(cases(
        "SC011",
        &[
            Case { what: "openat to a supervisor, ptrace to a tracer", src: &notif, arches: None, fires: true },
            Case { what: "connect on fd 3 only", src: &some_args, arches: None, fires: true },
            Case { what: "nothing delegated", src: &none, arches: None, fires: false },
        ]
    ));
}

#[test]
fn sc012_garbled_return_value() {
    let swapped = x86_64("jeq #0, deny, allow\n deny: ret #0x01000500\n allow: ret #0x0000ff7f");
    let kill_data = x86_64("jeq #59, die, allow\n die: ret #0x80000009\n allow: ret #0x7fff0000");
    let good = x86_64("jeq #59, die, allow\n die: ret #0x80000000\n allow: ret #0x7fff0000");
    insta::assert_snapshot!(cases(
        "SC012",
        &[
            Case { what: "ERRNO(1) and ALLOW byte-swapped", src: &swapped, arches: None, fires: true },
            Case { what: "KILL_PROCESS with data", src: &kill_data, arches: None, fires: true },
            Case { what: "KILL_PROCESS and ALLOW", src: &good, arches: None, fires: false },
        ]
    ));
}

#[test]
fn registry_is_in_code_order_and_every_doc_has_the_three_sections() {
    for (i, l) in ALL.iter().enumerate() {
        assert_eq!(l.code, format!("SC{:03}", i + 1));
        let doc = l.doc();
        assert!(doc.starts_with(&format!("{} `{}`: ", l.code, l.name)), "{}", l.code);
        for section in ["### What it does", "### Why is this bad", "### Example"] {
            assert!(doc.contains(section), "{} lacks {section}", l.code);
        }
        assert!(l.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{}", l.name);
        assert_eq!(find(l.name).map(|x| x.code), Some(l.code));
        assert_eq!(find(&l.code.to_lowercase()).map(|x| x.name), Some(l.name));
    }
    assert!(find("nope").is_none());
}

#[test]
fn arches_are_inferred_from_the_arch_tests() {
    let src = "ld [4]\n jeq #0xc000003e, x86, n\n n: jeq #0x40000003, i386, kill\n x86: ld [0]\n jeq #0x40000000, allow, rules\n rules: jeq #0, allow, kill\n i386: ld [0]\n jeq #3, allow, kill\n allow: ret #0x7fff0000\n kill: ret #0";
    let v = validate(&assemble(src).unwrap()).unwrap();
    let cx = context(&v, &LintOptions::default());
    // x32 read (0x40000000) runs and other x32 numbers are killed: x32 has rules
    assert_eq!(
        (cx.arches.as_slice(), cx.arch_source),
        (&[Arch::X86_64, Arch::X32, Arch::I386][..], ArchSource::Inferred)
    );
    let v =
        validate(&assemble("ld [0]\n jeq #0, allow, kill\n allow: ret #0x7fff0000\n kill: ret #0").unwrap()).unwrap();
    let opts = LintOptions { fallback_arch: Some(Arch::Aarch64), ..LintOptions::default() };
    let cx = context(&v, &opts);
    assert_eq!((cx.arches.as_slice(), cx.arch_source), (&[Arch::Aarch64][..], ArchSource::Assumed));
}

#[test]
fn the_node_budget_is_an_error_not_an_approximation() {
    let v = validate(&assemble(&x86_64("jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001")).unwrap())
        .unwrap();
    let limits = Options { node_limit: 2_000, ..Options::default() };
    let err = analyze(&v, &limits)
        .map_err(LintError::from)
        .and_then(|a| LintContext::from_analysis(&v, a, &LintOptions::default()))
        .and_then(|cx| run(&cx).map(|_| ()))
        .unwrap_err();
    assert!(matches!(err, LintError::NodeLimit { limit: 2_000 } | LintError::Symbolic(_)), "{err}");
}
