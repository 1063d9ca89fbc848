//! Docker/OCI profiles compiled by real libseccomp the way runc does, judged by
//! the reference emulator on syscalls whose fate the profile text decides.
//!
//! Syscall numbers come from the kernel's tables:
//! arch/x86/entry/syscalls/syscall_64.tbl (x86_64; x32 adds `__X32_SYSCALL_BIT`)
//! and syscall_32.tbl (i386).

use seccheck::bpf::validate;
use seccheck::emu::Emulator;
use seccheck::seccomp::{Action, SeccompData};
use seccheck::sources::docker::{DOCKER_DEFAULT_CAPS, RET_ERRNO_ENOSYS};
use seccheck::sources::*;
use std::path::PathBuf;

const X86_64: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
const I386: u32 = 0x4000_0003; // AUDIT_ARCH_I386
const AARCH64: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64
const X32: u32 = 0x4000_0000; // __X32_SYSCALL_BIT

// x86_64 numbers (syscall_64.tbl).
const READ: u32 = 0;
const OPEN: u32 = 2;
const SOCKET: u32 = 41;
const CLONE: u32 = 56;
const PTRACE: u32 = 101;
const PERSONALITY: u32 = 135;
const MOUNT: u32 = 165;
const CLONE3: u32 = 435;
const OPENAT: u32 = 257;

fn corpus(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/profiles").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn opts() -> DockerOptions {
    DockerOptions { kernel: Some(KernelVersion { kernel: 6, major: 18 }), ..DockerOptions::default() }
}

fn one(bytes: &[u8], o: &DockerOptions) -> CompiledFilter {
    let mut v = compile_docker(bytes, o).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.len(), 1);
    v.remove(0)
}

fn emu(f: &CompiledFilter) -> Emulator {
    Emulator::new(&validate(&f.program).expect("the kernel accepts what runc loads"))
}

fn call(e: &Emulator, arch: u32, nr: u32, args: [u64; 6]) -> Action {
    e.action(&SeccompData { nr, arch, instruction_pointer: 0, args })
}

fn sys(e: &Emulator, arch: u32, nr: u32) -> Action {
    call(e, arch, nr, [0; 6])
}

const EPERM: Action = Action::Errno(1);
const ENOSYS: Action = Action::Errno(38);

#[test]
fn docker_default_on_x86_64_host() {
    let f = one(&corpus("docker_default.json"), &opts());
    assert_eq!(f.label, "profile");
    assert_eq!(f.generator, "libseccomp 2.5.4 optimize=2 + runc ENOSYS stub");
    assert_eq!(f.arches.iter().map(|a| a.name()).collect::<Vec<_>>(), ["x86_64", "i386", "x32"]);
    assert_eq!(f.load_flags, ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"]);
    let e = emu(&f);
    // syscalls[0]: the big allow list, on all three ABIs of the archMap entry.
    assert_eq!(sys(&e, X86_64, READ), Action::Allow);
    assert_eq!(sys(&e, I386, 3), Action::Allow); // i386 read
    assert_eq!(sys(&e, X86_64, X32 | READ), Action::Allow); // x32 read
                                                            // defaultAction ERRNO + defaultErrnoRet 1.
    assert_eq!(sys(&e, X86_64, MOUNT), EPERM);
    assert_eq!(sys(&e, I386, 21), EPERM); // i386 mount
                                          // syscalls[1]: ptrace allowed from kernel 4.8 on.
    assert_eq!(sys(&e, X86_64, PTRACE), Action::Allow);
    // syscalls[2..4]: socket families except AF_ALG (38) and AF_VSOCK (40).
    let socket = |fam: u64| call(&e, X86_64, SOCKET, [fam, 1, 0, 0, 0, 0]);
    assert_eq!(socket(2), Action::Allow);
    assert_eq!(socket(39), Action::Allow);
    assert_eq!(socket(41), Action::Allow);
    assert_eq!(socket(38), EPERM);
    assert_eq!(socket(40), EPERM);
    // syscalls[5..9]: personality only for the listed personas.
    assert_eq!(call(&e, X86_64, PERSONALITY, [8, 0, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(call(&e, X86_64, PERSONALITY, [1, 0, 0, 0, 0, 0]), EPERM);
    // syscalls[18]: clone without namespace flags (mask 0x7e020000), no CAP_SYS_ADMIN.
    assert_eq!(call(&e, X86_64, CLONE, [17, 0, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(call(&e, X86_64, CLONE, [0x1000_0000 | 17, 0, 0, 0, 0, 0]), EPERM); // CLONE_NEWUSER
                                                                                   // syscalls[20]: clone3 fails with ENOSYS so libcs fall back to clone.
    assert_eq!(sys(&e, X86_64, CLONE3), ENOSYS);
    // runc's stub: numbers above the profile's largest fail with ENOSYS, per ABI.
    assert_eq!(sys(&e, X86_64, 1000), ENOSYS);
    assert_eq!(sys(&e, I386, 1000), ENOSYS);
    assert_eq!(sys(&e, X86_64, X32 | 1000), ENOSYS);
    // An ABI the filter does not list meets libseccomp's bad-arch action.
    assert_eq!(sys(&e, AARCH64, 63), Action::KillThread);
}

#[test]
fn includes_and_excludes_follow_caps_and_kernel() {
    let bytes = corpus("docker_default.json");
    let old = DockerOptions { kernel: Some(KernelVersion { kernel: 4, major: 7 }), ..opts() };
    let e = emu(&one(&bytes, &old));
    assert_eq!(sys(&e, X86_64, PTRACE), EPERM, "syscalls[1] needs kernel 4.8");
    let mut caps: Vec<String> = DOCKER_DEFAULT_CAPS.iter().map(|s| s.to_string()).collect();
    caps.push("CAP_SYS_ADMIN".into());
    let admin = DockerOptions { capabilities: caps, ..opts() };
    let e = emu(&one(&bytes, &admin));
    assert_eq!(sys(&e, X86_64, MOUNT), Action::Allow, "syscalls[17] with CAP_SYS_ADMIN");
    assert_eq!(call(&e, X86_64, CLONE, [0x1000_0000, 0, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(sys(&e, X86_64, CLONE3), Action::Allow, "syscalls[20] is excluded with CAP_SYS_ADMIN");
}

/// Linear and binary-tree output, and runc's stubbed program, decide every
/// (ABI, nr) below 1100 the same, except that runc answers ENOSYS past the
/// largest syscall the profile names.
#[test]
fn optimisation_levels_and_stub_agree() {
    let bytes = corpus("docker_default.json");
    let raw1 = one(&bytes, &DockerOptions { optimize: Optimize::Linear, loader: Loader::Raw, ..opts() });
    let raw2 = one(&bytes, &DockerOptions { optimize: Optimize::BinaryTree, loader: Loader::Raw, ..opts() });
    let runc = one(&bytes, &opts());
    assert_ne!(raw1.program, raw2.program);
    assert_eq!(raw1.generator, "libseccomp 2.5.4 optimize=1 (raw export)");
    let (e1, e2, er) = (emu(&raw1), emu(&raw2), emu(&runc));
    let stub_len = runc.program.len() - raw2.program.len();
    assert_eq!(&runc.program.insns[stub_len..], &raw2.program.insns[..]);
    let mut enosys = 0;
    for (arch, base) in [(X86_64, 0), (I386, 0), (X86_64, X32)] {
        for nr in 0..1100 {
            for arg0 in [0u64, 8, 17, 38, 40, 0x1000_0000] {
                let a = [arg0, 0, 0, 0, 0, 0];
                let (x, y, z) =
                    (call(&e1, arch, base | nr, a), call(&e2, arch, base | nr, a), call(&er, arch, base | nr, a));
                assert_eq!(x, y, "arch {arch:#x} nr {:#x}", base | nr);
                if z != x {
                    assert_eq!(z, ENOSYS, "arch {arch:#x} nr {:#x}", base | nr);
                    enosys += 1;
                }
            }
        }
    }
    assert!(enosys > 0);
}

#[test]
fn seed_denylist_loses_its_conditional_allow() {
    // runc (and crun) skip a rule whose action equals defaultAction before
    // libseccomp sees it; libseccomp would refuse it with -EACCES for that
    // reason, not because of the earlier ERRNO rule.
    let f = one(&corpus("seed_backend_denylist.json"), &opts());
    let dropped: Vec<&str> =
        f.notes.iter().filter(|n| n.message.contains("dropped")).map(|n| n.path.as_str()).collect();
    assert_eq!(dropped, ["syscalls[1].names[0]", "syscalls[1].names[1]"]);
    assert!(f.generator.contains("no ENOSYS stub"), "{}", f.generator);
    let e = emu(&f);
    for flags in [0u64, 1, 2, 0o100] {
        assert_eq!(call(&e, X86_64, OPEN, [0, flags, 0, 0, 0, 0]), EPERM);
        assert_eq!(call(&e, X86_64, OPENAT, [0, 0, flags, 0, 0, 0]), EPERM);
    }
    assert_eq!(sys(&e, X86_64, READ), Action::Allow);
    assert_eq!(sys(&e, X86_64, SOCKET), EPERM);
    // clone3 and openat2 are not on the list.
    assert_eq!(sys(&e, X86_64, CLONE3), Action::Allow);
    assert_eq!(sys(&e, X86_64, 437), Action::Allow);
    // Only SCMP_ARCH_X86_64: i386 and x32 calls meet the bad-arch action.
    assert_eq!(sys(&e, I386, 5), Action::KillThread);
    assert_eq!(sys(&e, X86_64, X32 | OPEN), Action::KillThread);
}

fn err(json: &str) -> String {
    match compile_docker(json.as_bytes(), &opts()) {
        Ok(_) => panic!("accepted: {json}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn refused_profiles_name_rule_syscall_and_reason() {
    // The same conditions on `read` with two different actions: libseccomp -EEXIST.
    let e = err(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
        {"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":3,"op":"SCMP_CMP_EQ"}]},
        {"names":["read"],"action":"SCMP_ACT_TRAP","args":[{"index":0,"value":3,"op":"SCMP_CMP_EQ"}]}]}"#);
    assert_eq!(
        e,
        "syscalls[1]: libseccomp refused the SCMP_ACT_TRAP rule for syscall `read`: -EEXIST (a rule for the same syscall with the same argument conditions and a different action already exists); runc fails with \"error adding seccomp rule for syscall read\""
    );
    // errnoRet 4095 is not an errno libseccomp accepts.
    let e = err(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":4095}]}"#,
    );
    assert!(
        e.starts_with("syscalls[0]: libseccomp refused the SCMP_ACT_ERRNO rule for syscall `read`: -EINVAL"),
        "{e}"
    );
    let e = err(r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":5000}"#);
    assert!(e.starts_with("defaultAction: libseccomp failed to create the filter"), "{e}");
    let e = err(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":3,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    assert!(e.starts_with("syscalls[0].args[0].index: syscalls only have up to 6 arguments"), "{e}");
}

#[test]
fn runtime_checks_are_mirrored() {
    let cases = [
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_DENY"}]}"#,
            "syscalls[0].action: string \"SCMP_ACT_DENY\" is not a valid seccomp action",
        ),
        (r#"{"defaultAction":"ALLOW"}"#, "defaultAction: string \"ALLOW\" is not a valid seccomp action"),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"op":"SCMP_CMP_IN"}]}]}"#,
            "syscalls[0].args[0].op: string \"SCMP_CMP_IN\" is not a valid operator",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_PDP11"]}"#,
            "architectures[1]: string \"SCMP_ARCH_PDP11\" is not a valid arch",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#,
            "(top level): both 'architectures' and 'archMap'",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"read","names":["write"],"action":"SCMP_ACT_ERRNO"}]}"#,
            "syscalls[0]: both 'name' (\"read\") and 'names'",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_TSYNC_ITER"]}"#,
            "flags[0]: seccomp flag \"SECCOMP_FILTER_FLAG_TSYNC_ITER\" is not known to runc",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}"#,
            "flags[0]: seccomp flag SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs libseccomp >= 2.6.0",
        ),
        (r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#, "defaultAction: SCMP_ACT_NOTIFY cannot be used as default action"),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["write"],"action":"SCMP_ACT_NOTIFY"}]}"#,
            "syscalls[0].names[0]: SCMP_ACT_NOTIFY cannot be used for the write syscall",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOTIFY"}]}"#,
            "listenerPath: the profile has SCMP_ACT_NOTIFY rules but no listenerPath",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[""],"action":"SCMP_ACT_ERRNO"}]}"#,
            "syscalls[0].names[0]: empty string is not a valid syscall",
        ),
        (r#"{"syscalls":[]}"#, "(top level): no defaultAction and no syscalls"),
    ];
    for (json, want) in cases {
        let e = err(json);
        assert!(e.starts_with(want), "{json}\n got: {e}\nwant: {want}…");
    }
}

#[test]
fn bad_json_is_an_error_with_a_path() {
    let cases = [
        ("", "empty input"),
        ("   \n", "empty input"),
        ("{\"defaultAction\": ", "JSON syntax error at line 1, column 18: EOF while parsing a value"),
        ("\u{1}\u{2}garbage", "JSON syntax error at line 1, column 1"),
        ("[1,2]", "(top level): expected a JSON object (a seccomp profile), found an array of 2 elements"),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":"read"}"#,
            "syscalls: expected an array, found the string \"read\"",
        ),
        (r#"{"defaultAction":5}"#, "defaultAction: expected a string, found the number 5"),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":"read","action":"SCMP_ACT_ERRNO"}]}"#,
            "syscalls[0].names: expected an array",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read",7],"action":"SCMP_ACT_ERRNO"}]}"#,
            "syscalls[0].names[1]: expected a string, found the number 7",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":-1}]}]}"#,
            "syscalls[0].args[0].index: expected an argument index",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"value":1.5}]}]}"#,
            "syscalls[0].args[0].value: expected a 64-bit value",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":"EPERM"}]}"#,
            "syscalls[0].errnoRet: expected an errno number",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"4.8.1"}}]}"#,
            "syscalls[0].includes.minKernel: expected a kernel version",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","includes":[]}]}"#,
            "syscalls[0].includes: expected an object",
        ),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[3]}"#, "syscalls[0]: expected a syscall rule object"),
    ];
    for (json, want) in cases {
        let e = err(json);
        assert!(e.starts_with(want), "{json:?}\n got: {e}\nwant: {want}…");
    }
}

/// runc resolves names with libseccomp and ignores the ones it does not know
/// (`matchCall`: "unknown seccomp syscall ignored"); we do the same and say so.
#[test]
fn unknown_syscall_names_are_ignored_like_runc() {
    let f = one(
        br#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","no_such_call","close"],"action":"SCMP_ACT_ALLOW"}]}"#,
        &opts(),
    );
    assert_eq!(f.notes.len(), 1);
    assert_eq!(f.notes[0].path, "syscalls[0].names[1]");
    assert!(f.notes[0].message.contains("`no_such_call` is not a syscall libseccomp 2.5.4 knows: runc ignores it"));
    let e = emu(&f);
    assert_eq!(sys(&e, X86_64, READ), Action::Allow);
    assert_eq!(sys(&e, X86_64, 3), Action::Allow); // close
    assert_eq!(sys(&e, X86_64, OPEN), EPERM);
    // runc's stub bound is the largest known name, close (3): above it, ENOSYS
    // instead of the default action.
    assert_eq!(sys(&e, X86_64, 4), ENOSYS);
    assert!(f.program.insns.iter().any(|i| i.k == RET_ERRNO_ENOSYS));
}

/// Two conditions on one argument index become two rules (OR); on different
/// indices they form one rule (AND) — runc's `matchCall`.
#[test]
fn same_index_conditions_become_separate_rules() {
    let or = one(
        br#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ioctl"],"action":"SCMP_ACT_ERRNO","args":[
            {"index":1,"value":1,"op":"SCMP_CMP_EQ"},{"index":1,"value":2,"op":"SCMP_CMP_EQ"}]}]}"#,
        &opts(),
    );
    let e = emu(&or);
    let ioctl = |a1: u64| call(&e, X86_64, 16, [0, a1, 0, 0, 0, 0]);
    assert_eq!((ioctl(1), ioctl(2), ioctl(3)), (EPERM, EPERM, Action::Allow));
    let and = one(
        br#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ioctl"],"action":"SCMP_ACT_ERRNO","errnoRet":22,"args":[
            {"index":1,"value":1,"op":"SCMP_CMP_EQ"},{"index":2,"value":255,"valueTwo":7,"op":"SCMP_CMP_MASKED_EQ"}]}]}"#,
        &opts(),
    );
    let e = emu(&and);
    let ioctl = |a1: u64, a2: u64| call(&e, X86_64, 16, [0, a1, a2, 0, 0, 0]);
    assert_eq!(ioctl(1, 0x107), Action::Errno(22));
    assert_eq!(ioctl(1, 8), Action::Allow);
    assert_eq!(ioctl(2, 7), Action::Allow);
}

#[test]
fn actions_map_like_runc() {
    let f = one(
        br#"{"defaultAction":"SCMP_ACT_KILL","syscalls":[
            {"names":["read"],"action":"SCMP_ACT_ALLOW"},
            {"names":["write"],"action":"SCMP_ACT_TRACE"},
            {"names":["open"],"action":"SCMP_ACT_TRACE","errnoRet":7},
            {"names":["close"],"action":"SCMP_ACT_LOG"},
            {"names":["stat"],"action":"SCMP_ACT_TRAP"},
            {"names":["fstat"],"action":"SCMP_ACT_KILL_PROCESS"},
            {"names":["lstat"],"action":"SCMP_ACT_ERRNO","errnoRet":65537},
            {"names":["poll"],"action":"SCMP_ACT_KILL_THREAD"},
            {"names":["lseek"],"action":"SCMP_ACT_NOTIFY"}],
          "listenerPath":"/run/agent.sock"}"#,
        &opts(),
    );
    assert_eq!(f.load_flags, ["SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_NEW_LISTENER"]);
    // SCMP_ACT_KILL_THREAD equals the default SCMP_ACT_KILL: that rule is dropped.
    assert_eq!(f.notes.len(), 1, "{:?}", f.notes);
    assert_eq!(f.notes[0].path, "syscalls[7].names[0]");
    let e = emu(&f);
    let got: Vec<Action> = (0..9).map(|nr| sys(&e, X86_64, nr)).collect();
    assert_eq!(
        got,
        [
            Action::Allow,
            Action::Trace(1), // TRACE without errnoRet carries EPERM
            Action::Trace(7),
            Action::Log,
            Action::Trap(0),
            Action::KillProcess,
            Action::Errno(1), // errnoRet is cut to 16 bits: 65537 → 1
            Action::KillThread,
            Action::UserNotif,
        ]
    );
}

#[test]
fn oci_config_json_reads_linux_seccomp() {
    let f = one(
        br#"{"ociVersion":"1.0.2","process":{},"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_NOT_HELD"]}}]}}}"#,
        &opts(),
    );
    // runc does not know `includes`: only Docker resolves it.
    let e = emu(&f);
    assert_eq!(sys(&e, X86_64, READ), Action::Allow);
    assert_eq!(sys(&e, I386, 3), Action::Allow);
    assert_eq!(sys(&e, X86_64, 1), EPERM);
    let e = err(r#"{"ociVersion":"1.0.2","linux":{}}"#);
    assert!(e.starts_with("linux.seccomp: no defaultAction"), "{e}");
}

#[test]
fn emulated_aarch64_host_uses_its_arch_map_entry() {
    let o = DockerOptions { host_arch: seccheck::arch::Arch::Aarch64, ..opts() };
    let f = one(&corpus("docker_default.json"), &o);
    assert!(f.generator.ends_with("host aarch64 emulated"), "{}", f.generator);
    assert_eq!(f.arches.iter().map(|a| a.name()).collect::<Vec<_>>(), ["aarch64", "arm"]);
    let e = emu(&f);
    // aarch64 read = 63, mount = 40 (include/uapi/asm-generic/unistd.h); arm read = 3.
    assert_eq!(sys(&e, AARCH64, 63), Action::Allow);
    assert_eq!(sys(&e, AARCH64, 40), EPERM);
    assert_eq!(sys(&e, 0x4000_0028, 3), Action::Allow);
    assert_eq!(sys(&e, AARCH64, 2000), ENOSYS);
    assert_eq!(sys(&e, X86_64, READ), Action::KillThread);
}

#[test]
fn format_detection() {
    let d = |s: &[u8]| detect_format(s);
    assert_eq!(d(&corpus("docker_default.json")).unwrap(), ProfileFormat::DockerJson);
    assert_eq!(d(&corpus("seed_backend_denylist.json")).unwrap(), ProfileFormat::DockerJson);
    assert_eq!(d(&corpus("firecracker_x86_64-unknown-linux-musl.json")).unwrap(), ProfileFormat::SeccompilerJson);
    assert_eq!(d(&corpus("spo_seccompprofile.yaml")).unwrap(), ProfileFormat::KubernetesYaml);
    assert_eq!(d(&corpus("lxc_common.seccomp")).unwrap(), ProfileFormat::Lxc);
    assert_eq!(d(&corpus("kafel_sample_basic.policy")).unwrap(), ProfileFormat::Kafel);
    assert_eq!(d(&corpus("kafel_sample_constants.policy")).unwrap(), ProfileFormat::Kafel);
    assert_eq!(d(br#"{"ociVersion":"1","linux":{}}"#).unwrap(), ProfileFormat::OciConfig);
    let e = compile(&corpus("kafel_sample_empty.policy"), &CompileOptions::default()).unwrap_err().to_string();
    assert!(e.starts_with("unsupported format: kafel policy language; compile it with kafel first"), "{e}");
    let e = compile(&corpus("lxc_common.seccomp"), &CompileOptions::default()).unwrap_err().to_string();
    assert!(e.starts_with("unsupported format: LXC seccomp policy"), "{e}");
    let e = d(br#"{"hello": 1}"#).unwrap_err().to_string();
    assert!(e.starts_with("unrecognised input: a JSON object with keys `hello`"), "{e}");
    let e = d(&[0x20, 0, 0, 0, 0xff, 0xfe]).unwrap_err().to_string();
    assert!(e.starts_with("unrecognised input: not UTF-8"), "{e}");
    assert!(matches!(d(b""), Err(SourceError::Empty)));
}

#[test]
fn file_errors_name_the_file() {
    let e = compile_file(std::path::Path::new("/nonexistent/profile.json"), &CompileOptions::default()).unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/profile.json: "), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.json");
    std::fs::write(&p, r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"NOPE"}]}"#)
        .unwrap();
    let e = compile_file(&p, &CompileOptions::default()).unwrap_err().to_string();
    assert_eq!(e, format!("{}: syscalls[0].action: string \"NOPE\" is not a valid seccomp action for runc (known: SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_LOG, SCMP_ACT_NOTIFY, SCMP_ACT_ALLOW)", p.display()));
}
