//! The x86 syscall tables against the kernel's own generated uapi headers
//! installed on this machine (`asm/unistd_64.h`, `unistd_x32.h`,
//! `unistd_32.h` from the distribution's kernel headers).
//!
//! Why: those headers are what arch/x86/entry/syscalls/Makefile emits
//! (`syscallhdr.sh --abis common,64`, `common,x32 --offset
//! __X32_SYSCALL_BIT`, `i386`), so they are a judge independent of both
//! table sources. Syscall numbers are never reused, so every `__NR_*` of an
//! older header must be in our (newer) table with the same number.

use std::collections::BTreeMap;
use std::path::Path;

use seccheck::arch::{Arch, X32_SYSCALL_BIT};

const ASM: &str = "/usr/include/x86_64-linux-gnu/asm";

/// `#define __NR_<name> <n>` or `#define __NR_<name> (__X32_SYSCALL_BIT + <n>)`.
fn parse_header(path: &Path) -> BTreeMap<String, u32> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (install the linux-libc-dev package)", path.display()));
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("#define __NR_") else {
            continue;
        };
        let (name, value) = rest.split_once(' ').unwrap_or_else(|| panic!("{}: {line:?}", path.display()));
        let value = value.trim();
        let nr = if let Some(n) = value.strip_prefix("(__X32_SYSCALL_BIT + ").and_then(|v| v.strip_suffix(')')) {
            X32_SYSCALL_BIT + n.parse::<u32>().unwrap()
        } else {
            value.parse::<u32>().unwrap_or_else(|_| panic!("{}: {line:?}", path.display()))
        };
        out.insert(name.to_string(), nr);
    }
    out
}

#[test]
fn every_installed_x86_header_number_is_in_our_tables() {
    for (file, arch, min) in
        [("unistd_64.h", Arch::X86_64, 300), ("unistd_x32.h", Arch::X32, 300), ("unistd_32.h", Arch::I386, 400)]
    {
        let header = parse_header(&Path::new(ASM).join(file));
        assert!(header.len() >= min, "{file}: only {} definitions", header.len());
        for (name, nr) in &header {
            assert_eq!(arch.syscall_nr(name), Some(*nr), "{file}: __NR_{name} = {nr:#x}");
            assert_eq!(arch.syscall_name(*nr), Some(name.as_str()), "{file}: {nr:#x}");
        }
    }
}
