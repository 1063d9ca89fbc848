//! seccompiler JSON and Kubernetes SeccompProfile YAML, compiled by the real
//! generators and judged by the reference emulator.
//!
//! Numbers: x86_64 from arch/x86/entry/syscalls/syscall_64.tbl, aarch64 from
//! include/uapi/asm-generic/unistd.h.

use seccheck::arch::Arch;
use seccheck::bpf::validate;
use seccheck::emu::Emulator;
use seccheck::seccomp::{Action, SeccompData};
use seccheck::sources::*;
use std::path::PathBuf;

const X86_64: u32 = 0xc000_003e;
const I386: u32 = 0x4000_0003;
const AARCH64: u32 = 0xc000_00b7;

fn corpus(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/profiles").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn sys(f: &CompiledFilter, arch: u32, nr: u32) -> Action {
    let e = Emulator::new(&validate(&f.program).expect("valid"));
    e.action(&SeccompData { nr, arch, instruction_pointer: 0, args: [0; 6] })
}

fn by_label<'a>(v: &'a [CompiledFilter], label: &str) -> &'a CompiledFilter {
    v.iter().find(|f| f.label == label).unwrap_or_else(|| panic!("no {label}"))
}

#[test]
fn firecracker_filters_per_thread() {
    let v = compile_seccompiler(&corpus("firecracker_x86_64-unknown-linux-musl.json"), &SeccompilerOptions::default())
        .unwrap();
    assert_eq!(v.iter().map(|f| f.label.as_str()).collect::<Vec<_>>(), ["api", "vcpu", "vmm"]);
    let vmm = by_label(&v, "vmm");
    assert_eq!(vmm.generator, "seccompiler 0.5.0 target=x86_64");
    assert_eq!(sys(vmm, X86_64, 0), Action::Allow); // read
    assert_eq!(sys(vmm, X86_64, 57), Action::Trap(0)); // fork: default_action trap
                                                       // seccompiler checks the arch word only: another ABI is killed, x32
                                                       // numbers are not recognised and meet the default action.
    assert_eq!(sys(vmm, AARCH64, 63), Action::KillProcess);
    assert_eq!(sys(vmm, I386, 3), Action::KillProcess);
    assert_eq!(sys(vmm, X86_64, 0x4000_0000), Action::Trap(0));

    let one = compile_seccompiler(
        &corpus("firecracker_aarch64-unknown-linux-musl.json"),
        &SeccompilerOptions { target: Arch::Aarch64, thread: Some("vcpu".into()) },
    )
    .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].arches, [Arch::Aarch64]);
    assert_eq!(sys(&one[0], X86_64, 0), Action::KillProcess);

    let unimpl =
        compile_seccompiler(&corpus("firecracker_unimplemented.json"), &SeccompilerOptions::default()).unwrap();
    assert!(unimpl.iter().all(|f| sys(f, X86_64, 57) == Action::Allow));
}

#[test]
fn seccompiler_errors() {
    let o = SeccompilerOptions::default();
    let e = |json: &str, o: &SeccompilerOptions| compile_seccompiler(json.as_bytes(), o).unwrap_err().to_string();
    let t = SeccompilerOptions { thread: Some("io".into()), ..o.clone() };
    assert_eq!(
        e(&String::from_utf8(corpus("firecracker_unimplemented.json")).unwrap(), &t),
        "no filter named `io`; the input has: api, vcpu, vmm"
    );
    assert!(e("{\"main\": 3}", &o).starts_with("main: expected a filter object"));
    assert!(e("[]", &o).starts_with("(top level): expected an object mapping thread names"));
    assert!(e("{\"main\": {", &o).starts_with("JSON syntax error at line 1"));
    let unknown = r#"{"main":{"default_action":"trap","filter_action":"allow","filter":[{"syscall":"no_such_call"}]}}"#;
    let msg = e(unknown, &o);
    assert!(msg.starts_with("seccompiler: ") && msg.contains("no_such_call"), "{msg}");
    let bad_action = r#"{"main":{"default_action":"deny","filter_action":"allow","filter":[]}}"#;
    assert!(e(bad_action, &o).starts_with("seccompiler: "));
    let i386 = SeccompilerOptions { target: Arch::I386, ..o };
    assert!(e("{}", &i386).contains("x86_64, aarch64 and riscv64 only"));
}

fn k8s_opts() -> DockerOptions {
    DockerOptions { kernel: Some(KernelVersion { kernel: 6, major: 18 }), ..DockerOptions::default() }
}

#[test]
fn security_profiles_operator_documents() {
    let v = compile_k8s(&corpus("spo_seccompprofile.yaml"), &k8s_opts()).unwrap();
    assert_eq!(
        v.iter().map(|f| f.label.as_str()).collect::<Vec<_>>(),
        ["profile-block-all", "profile-complain-unsafe", "profile-allow-unsafe", "profile-complain-block-high-risk"]
    );
    let block = by_label(&v, "profile-block-all");
    assert_eq!(sys(block, X86_64, 0), Action::Errno(1));
    assert_eq!(sys(block, X86_64, 500), Action::Errno(1), "no syscall named: no ENOSYS section");
    let allow = by_label(&v, "profile-allow-unsafe");
    assert_eq!(sys(allow, X86_64, 101), Action::Allow);
    // Even "allow everything" kills i386 calls: only the native arch is in the filter.
    assert_eq!(sys(allow, I386, 3), Action::KillThread);
    let high = by_label(&v, "profile-complain-block-high-risk");
    assert_eq!(sys(high, X86_64, 0), Action::Log); // read: default SCMP_ACT_LOG
    assert_eq!(sys(high, X86_64, 60), Action::Allow); // exit
    assert_eq!(sys(high, X86_64, 101), Action::Errno(1)); // ptrace
    assert_eq!(sys(high, X86_64, 1000), Action::Log, "LOG default: runc adds no stub");

    let base = compile_k8s(&corpus("spo_baseprofile-runc.yaml"), &k8s_opts()).unwrap();
    assert_eq!(base[0].label, "runc-v1.4.2");
    assert_eq!(sys(&base[0], X86_64, 0), Action::Allow);
    assert_eq!(sys(&base[0], X86_64, 165), Action::Errno(1)); // mount
    assert_eq!(sys(&base[0], X86_64, 1000), Action::Errno(38)); // runc's stub
    assert_eq!(detect_format(&corpus("spo_baseprofile-runc.yaml")).unwrap(), ProfileFormat::KubernetesYaml);
}

#[test]
fn k8s_errors_and_skips() {
    let e = |y: &str| compile_k8s(y.as_bytes(), &k8s_opts()).unwrap_err().to_string();
    let derived = "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata:\n  name: app\nspec:\n  baseProfileName: runc-v1.4.2\n  defaultAction: SCMP_ACT_ERRNO\n";
    assert!(
        e(derived).starts_with("document[1].spec.baseProfileName: this profile extends SeccompProfile"),
        "{}",
        e(derived)
    );
    let bad_type = "kind: SeccompProfile\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls: read\n";
    assert!(e(bad_type).starts_with("document[1].spec.syscalls: expected an array"), "{}", e(bad_type));
    let bad_yaml = "kind: SeccompProfile\nspec: [\n";
    assert!(e(bad_yaml).starts_with("YAML syntax error at line"), "{}", e(bad_yaml));
    assert!(e("kind: ConfigMap\n").starts_with("unrecognised input: no document has kind: SeccompProfile"));
    let mixed =
        "kind: ConfigMap\n---\nkind: SeccompProfile\nmetadata:\n  name: x\nspec:\n  defaultAction: SCMP_ACT_ALLOW\n";
    let v = compile_k8s(mixed.as_bytes(), &k8s_opts()).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(
        v[0].notes.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
        ["document[1]: kind \"ConfigMap\" is not SeccompProfile: skipped"]
    );
}
