//! `seccheck scan` on real binaries: a C program compiled here with gcc that
//! embeds a filter, found by offset and symbol, and usable as `BINARY#N`.

use crate::common::schemas;

use std::process::Command;

pub(crate) const C_SRC: &str = r#"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <stddef.h>
#include <stdio.h>
static const struct sock_filter allow_rw[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
};
static const struct sock_filter deny_ptrace[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 101, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 7),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
int main(void) {
    printf("%p %p\n", (void *)allow_rw, (void *)deny_ptrace);
    return 0;
}
"#;

fn seccheck(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().unwrap()
}

#[test]
fn finds_filters_in_a_gcc_binary() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("f.c");
    std::fs::write(&src, C_SRC).unwrap();
    let bin = d.path().join("f");
    let st = Command::new("gcc").args(["-O2", "-o"]).arg(&bin).arg(&src).status().expect("gcc runs");
    assert!(st.success());
    let b = bin.to_str().unwrap();

    let o = seccheck(&["scan", b, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v = schemas::parse(&o.stdout);
    let found = v["filters"].as_array().unwrap();
    let mut by_symbol: Vec<(String, u64)> = found
        .iter()
        .map(|f| (f["symbol"].as_str().unwrap_or("").to_string(), f["instructions"].as_u64().unwrap()))
        .collect();
    by_symbol.sort();
    assert_eq!(by_symbol, vec![("allow_rw".to_string(), 7), ("deny_ptrace".to_string(), 4)]);

    // The file offset really holds the filter.
    let bytes = std::fs::read(&bin).unwrap();
    let f = found.iter().find(|f| f["symbol"] == "deny_ptrace").unwrap();
    let off = f["file_offset"].as_u64().unwrap() as usize;
    assert_eq!(&bytes[off..off + 8], &[0x20, 0, 0, 0, 0, 0, 0, 0]);

    // Without a selector the binary is ambiguous; with one it is a filter like any other.
    let o = seccheck(&["validate", b]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("contains 2 filters; pick one with FILE#N"));
    let idx = f["index"].as_u64().unwrap();
    let sel = format!("{b}#{idx}");
    let o = seccheck(&["emu", &sel, "--arch", "x86_64", "--syscall", "101"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().next(), Some("TRAP(7)"));
    let o = seccheck(&["validate", &format!("{b}#9")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("#9: the binary has 2 filter(s)"));
}

#[test]
fn scan_of_non_elf_is_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("x");
    std::fs::write(&p, b"hello").unwrap();
    let o = seccheck(&["scan", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not an ELF file"));
}
