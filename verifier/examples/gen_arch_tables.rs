//! Generates `verifier/src/arch/syscall_names.rs`: the syscall `(nr, name)` table of
//! every [`seccheck::arch::Arch`], numbered exactly as the kernel numbers them.
//!
//! Why a generator and a committed file: the tables are data the kernel owns; we
//! keep them as plain Rust so the library has no build-time inputs, and this
//! program is the one way they change, so a diff of `syscall_names.rs` is a diff of
//! kernel data.
//!
//! Two inputs, and each table says which one it came from:
//!
//! * the `syscalls` crate (pinned, see `verifier/Cargo.toml`), generated from
//!   Linux v6.18's `.tbl` files (its CHANGELOG, v0.8.1: "Updated to Linux
//!   v6.18", the kernel this project's machines run). Used for the arches it
//!   gets right: x86_64, i386, arm (EABI), mips o32, powerpc, powerpc64,
//!   s390x, sparc, sparc64, riscv64.
//! * Linux source trees given with `--linux DIR` (repeatable; for each table
//!   the first tree that has it wins). Read for what the crate lacks (x32,
//!   mips n32, s390 31-bit, parisc, parisc64, m68k, arm's private
//!   `__ARM_NR_*` calls) and for what the crate gets wrong, found by checking
//!   it against the kernel's own header-generation rules:
//!   - aarch64 and loongarch64: the crate parses `asm-generic/unistd.h`
//!     without its `#ifdef`s, so it lists the 32-bit-only `*_time64` calls
//!     (403–423), names 79 `fstatat` instead of `newfstatat`, and (loongarch64)
//!     lists `renameat`, `getrlimit`, `setrlimit`, which these ABIs lack;
//!   - riscv32: lists `getrlimit`/`setrlimit` (riscv32 has no `rlimit` ABI);
//!   - mips n64: filters `syscall_n64.tbl` by ABI `n64`, dropping the row
//!     `450 common set_mempolicy_home_node`, but the kernel's mips header rule
//!     (arch/mips/kernel/syscalls/Makefile: `syscallhdr.sh --offset __NR_Linux`,
//!     no `--abis`) takes every row.
//!
//!   With a tree, every crate-sourced table is also checked against the tree:
//!   each crate row must be in the tree with the same name (a newer tree may
//!   add rows). A mismatch stops the generator.
//!
//! Without any `--linux`, the tree-only tables come out empty, each with a
//! `source` saying so; the committed file is generated with trees.
//!
//! Selection rules mirror the kernel's own header generation (cited per table
//! below): which `.tbl`, which ABIs (`syscallhdr.sh --abis`, a row is taken
//! when its ABI column is one of them), and the number offset.
//!
//! Usage:
//!
//! ```text
//! cargo run -p seccheck --example gen_arch_tables -- \
//!     [--linux LINUX_TREE]... [--out verifier/src/arch/syscall_names.rs]
//! ```
//!
//! The committed file was made from the Debian source packages
//! `linux-source-7.2` 7.2.13-1 and `linux-source-6.12` 6.12.117-1~deb12u1
//! (the second only for s390's 31-bit ABI: 7.2's s390 table has no `32` rows,
//! "<abi> is always common"), unpacked outside the repository; no kernel file
//! is committed. Only these files are read, so unpacking them is enough:
//!
//! ```text
//! apt-get download linux-source-7.2=7.2.13-1
//! dpkg-deb --fsys-tarfile linux-source-7.2_7.2.13-1_all.deb | tar -x ./usr/src/linux-source-7.2.tar.xz
//! tar -xJf usr/src/linux-source-7.2.tar.xz --wildcards '*/Makefile' '*.tbl' \
//!     '*/Makefile.syscalls' '*/Makefile.asm-headers' '*/arch/arm/include/uapi/asm/unistd.h'
//! ```
//!
//! Tree tables can therefore be newer than crate tables (7.2.13 adds 470
//! `listns` and 471 `rseq_slice_yield`); numbers are never reused, so a newer
//! table is still exact for older kernels, it only names more numbers.

use seccheck::uapi::X32_SYSCALL_BIT;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The `syscalls` crate version pinned in `verifier/Cargo.toml`.
const CRATE_VERSION: &str = "0.8.1";
/// The kernel version `syscalls` 0.8.1 was generated from (its CHANGELOG).
const CRATE_KERNEL: &str = "Linux v6.18";

type Rows = Vec<(u32, String)>;

/// A Linux source tree given with `--linux`.
struct Tree {
    root: PathBuf,
    /// `VERSION.PATCHLEVEL.SUBLEVEL` from its top-level Makefile.
    version: String,
}

impl Tree {
    fn open(root: &Path) -> Result<Tree, String> {
        let makefile = read(&root.join("Makefile"))?;
        let var = |key: &str| -> Result<String, String> {
            makefile
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once('=')?;
                    (k.trim() == key).then(|| v.trim().to_string())
                })
                .ok_or_else(|| format!("{}/Makefile: no `{key} =` line", root.display()))
        };
        let version =
            format!("{}.{}.{}{}", var("VERSION")?, var("PATCHLEVEL")?, var("SUBLEVEL")?, var("EXTRAVERSION")?);
        Ok(Tree { root: root.to_path_buf(), version })
    }

    fn label(&self) -> String {
        format!("Linux {}", self.version)
    }

    fn read(&self, rel: &str) -> Result<String, String> {
        read(&self.root.join(rel))
    }

    fn has(&self, rel: &str) -> bool {
        self.root.join(rel).is_file()
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Which rows of a `.tbl` a header takes: `syscallhdr.sh --abis A,B` keeps rows
/// whose ABI column is one of them; without `--abis` it keeps every row
/// (scripts/syscallhdr.sh).
#[derive(Clone, Copy)]
enum Abis<'a> {
    All,
    Only(&'a [&'a str]),
}

impl Abis<'_> {
    fn describe(&self) -> String {
        match self {
            Abis::All => "all rows".to_string(),
            Abis::Only(a) => format!("abis {}", a.join(",")),
        }
    }
}

/// Parse a `.tbl` (`<nr> <abi> <name> [<entry point> [<compat entry point>]]`,
/// `#` comments) the way scripts/syscallhdr.sh reads it, keeping `abis` rows,
/// numbers plus `offset`.
fn parse_tbl(text: &str, file: &str, abis: Abis, offset: u32) -> Result<Rows, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut f = line.split_whitespace();
        let (Some(nr), Some(abi), Some(name)) = (f.next(), f.next(), f.next()) else {
            return Err(format!("{file}:{}: expected `<nr> <abi> <name> …`, got {line:?}", i + 1));
        };
        let nr: u32 = nr.parse().map_err(|_| format!("{file}:{}: bad syscall number {nr:?}", i + 1))?;
        let keep = match abis {
            Abis::All => true,
            Abis::Only(list) => list.contains(&abi),
        };
        if keep {
            check_name(name).map_err(|e| format!("{file}:{}: {e}", i + 1))?;
            let nr = nr.checked_add(offset).ok_or_else(|| format!("{file}:{}: number overflows", i + 1))?;
            rows.push((nr, name.to_string()));
        }
    }
    Ok(rows)
}

fn check_name(name: &str) -> Result<(), String> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        Ok(())
    } else {
        Err(format!("unexpected syscall name {name:?}"))
    }
}

/// Rows of one `syscalls::<arch>::Sysno`. `Sysno::iter` skips the last entry
/// after a gap, so walk the number range with `Sysno::new` instead.
macro_rules! crate_rows {
    ($arch:ident) => {{
        use syscalls::$arch::Sysno;
        let mut rows: Rows = Vec::new();
        for id in Sysno::first().id()..=Sysno::last().id() {
            if let Some(s) = Sysno::new(id as usize) {
                // Keywords come out as raw identifiers (`r#break`).
                let name = s.name().trim_start_matches("r#");
                check_name(name).map_err(|e| format!("syscalls::{}: {e}", stringify!($arch)))?;
                rows.push((id as u32, name.to_string()));
            }
        }
        rows
    }};
}

/// How to read one table from a tree, as the kernel's Makefiles build the uapi
/// `unistd_*.h` for that ABI.
enum TreeRule {
    /// A `.tbl` with an ABI selection and a number offset.
    Tbl { file: &'static str, abis: Abis<'static>, offset: u32, offset_name: &'static str },
    /// An arch on the generic table: scripts/Makefile.asm-headers sets
    /// `syscall_abis_<bits> += common,<bits>` and `syscalltbl :=
    /// scripts/syscall.tbl`, then `arch/<karch>/kernel/Makefile.syscalls` adds
    /// ABIs and may override `syscalltbl`.
    Generic { karch: &'static str, bits: &'static str },
    /// s390's 31-bit ABI: `common,32` rows of arch/s390/kernel/syscalls/syscall.tbl
    /// (arch/s390/kernel/syscalls/Makefile: `syshdr_abi_unistd_32 := common,32`),
    /// from the first tree whose table still has `32` rows.
    S390Compat,
}

impl TreeRule {
    /// The rows and a description, or `None` when this tree lacks the ABI.
    fn read(&self, tree: &Tree) -> Result<Option<(Rows, String)>, String> {
        match self {
            TreeRule::Tbl { file, abis, offset, offset_name } => {
                let rows = parse_tbl(&tree.read(file)?, file, *abis, *offset)?;
                let off = if *offset == 0 { String::new() } else { format!(", + {offset_name}") };
                Ok(Some((rows, format!("{} {file}, {}{off}", tree.label(), abis.describe()))))
            }
            TreeRule::Generic { karch, bits } => {
                let (file, abis) = generic_rule(tree, karch, bits)?;
                let abis_ref: Vec<&str> = abis.iter().map(String::as_str).collect();
                let rows = parse_tbl(&tree.read(&file)?, &file, Abis::Only(&abis_ref), 0)?;
                Ok(Some((rows, format!("{} {file}, abis {}", tree.label(), abis.join(",")))))
            }
            TreeRule::S390Compat => {
                let file = "arch/s390/kernel/syscalls/syscall.tbl";
                let text = tree.read(file)?;
                let rows = parse_tbl(&text, file, Abis::Only(&["common", "32"]), 0)?;
                let only32 = parse_tbl(&text, file, Abis::Only(&["32"]), 0)?;
                if only32.is_empty() {
                    return Ok(None);
                }
                Ok(Some((rows, format!("{} {file}, abis common,32", tree.label()))))
            }
        }
    }
}

/// The `.tbl` and ABI list scripts/Makefile.asm-headers would use for
/// `unistd_<bits>.h` of `karch`.
fn generic_rule(tree: &Tree, karch: &str, bits: &str) -> Result<(String, Vec<String>), String> {
    let mut abis: Vec<String> = Vec::new();
    let mut tbl = None;
    let key = format!("syscall_abis_{bits}");
    let base = "scripts/Makefile.asm-headers";
    for line in tree.read(base)?.lines() {
        if let Some(rest) = strip_assign(line, &key, "+=") {
            abis.extend(rest.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
        } else if let Some(rest) = strip_assign(line, "syscalltbl", ":=") {
            tbl = Some(rest.trim().trim_start_matches("$(srctree)/").to_string());
        }
    }
    if abis.is_empty() || tbl.is_none() {
        return Err(format!("{base}: no `{key} +=` or `syscalltbl :=` line"));
    }
    let arch_mk = format!("arch/{karch}/kernel/Makefile.syscalls");
    for (i, line) in tree.read(&arch_mk)?.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(rest) = strip_assign(t, &key, "+=") {
            abis.extend(rest.split_whitespace().map(str::to_string));
        } else if let Some(rest) = strip_assign(t, "syscalltbl", "=") {
            tbl = Some(rest.trim().replace('%', bits));
        } else if t.starts_with("syscall_abis_") {
            // The other word size's ABIs.
        } else {
            return Err(format!("{arch_mk}:{}: line not understood: {t:?}", i + 1));
        }
    }
    Ok((tbl.expect("checked above"), abis))
}

/// `rest` of `key op rest` (whitespace around `op` optional).
fn strip_assign<'a>(line: &'a str, key: &str, op: &str) -> Option<&'a str> {
    let rest = line.trim_start().strip_prefix(key)?.trim_start();
    rest.strip_prefix(op)
}

/// arm's private calls, `#define __ARM_NR_<name> (__ARM_NR_BASE+<n>)` with
/// `__ARM_NR_BASE (__NR_SYSCALL_BASE+0x0f0000)` and `__NR_SYSCALL_BASE 0` for
/// EABI (arch/arm/include/uapi/asm/unistd.h). arch/arm/kernel/entry-common.S
/// runs the syscall-entry work (seccomp) before it sends numbers past the
/// table to `arm_syscall`, so filters see these numbers.
fn arm_private(tree: &Tree) -> Result<(Rows, String), String> {
    let file = "arch/arm/include/uapi/asm/unistd.h";
    let text = tree.read(file)?;
    let mut base_ok = false;
    let mut rows = Vec::new();
    for line in text.lines() {
        let Some(def) = line.strip_prefix("#define") else {
            continue;
        };
        let mut f = def.split_whitespace();
        let (Some(name), Some(value)) = (f.next(), f.next()) else {
            continue;
        };
        if name == "__ARM_NR_BASE" {
            if value != "(__NR_SYSCALL_BASE+0x0f0000)" {
                return Err(format!("{file}: unexpected __ARM_NR_BASE {value:?}"));
            }
            base_ok = true;
        } else if let Some(call) = name.strip_prefix("__ARM_NR_") {
            let n = value
                .strip_prefix("(__ARM_NR_BASE+")
                .and_then(|v| v.strip_suffix(')'))
                .and_then(|v| v.parse::<u32>().ok())
                .ok_or_else(|| format!("{file}: unexpected value for {name}: {value:?}"))?;
            check_name(call).map_err(|e| format!("{file}: {e}"))?;
            rows.push((0x0f_0000 + n, call.to_string()));
        }
    }
    if !base_ok || rows.is_empty() {
        return Err(format!("{file}: no __ARM_NR_BASE / __ARM_NR_* definitions"));
    }
    Ok((rows, format!("{} {file} __ARM_NR_* (EABI, __NR_SYSCALL_BASE 0)", tree.label())))
}

/// Where one table comes from.
enum Source {
    /// The crate, checked against `check` in the first tree.
    Crate { module: &'static str, rows: Rows, check: TreeRule, selection: &'static str },
    /// A tree only.
    Tree(TreeRule),
}

struct Spec {
    /// The `static` in syscall_names.rs.
    ident: &'static str,
    /// The `Arch` variants that use it.
    arches: &'static [&'static str],
    /// What the kernel calls this ABI, for the doc comment.
    doc: &'static str,
    source: Source,
}

const SYSCALL_64: &str = "arch/x86/entry/syscalls/syscall_64.tbl";

fn specs() -> Result<Vec<Spec>, String> {
    use Source::*;
    use TreeRule::*;
    Ok(vec![
        Spec {
            ident: "X86_64",
            arches: &["X86_64"],
            doc: "x86_64: syscall_64.tbl `common,64` (arch/x86/entry/syscalls/Makefile, unistd_64.h)",
            source: Crate {
                module: "x86_64",
                rows: crate_rows!(x86_64),
                check: Tbl { file: SYSCALL_64, abis: Abis::Only(&["common", "64"]), offset: 0, offset_name: "" },
                selection: "syscall_64.tbl abis common,64",
            },
        },
        Spec {
            ident: "X32",
            arches: &["X32"],
            doc: "x32: syscall_64.tbl `common,x32` + `__X32_SYSCALL_BIT` (arch/x86/entry/syscalls/Makefile, unistd_x32.h)",
            source: Tree(Tbl {
                file: SYSCALL_64,
                abis: Abis::Only(&["common", "x32"]),
                offset: X32_SYSCALL_BIT,
                offset_name: "__X32_SYSCALL_BIT",
            }),
        },
        Spec {
            ident: "I386",
            arches: &["I386"],
            doc: "i386: syscall_32.tbl `i386` (arch/x86/entry/syscalls/Makefile, unistd_32.h)",
            source: Crate {
                module: "x86",
                rows: crate_rows!(x86),
                check: Tbl {
                    file: "arch/x86/entry/syscalls/syscall_32.tbl",
                    abis: Abis::Only(&["i386"]),
                    offset: 0,
                    offset_name: "",
                },
                selection: "syscall_32.tbl abis i386",
            },
        },
        Spec {
            ident: "AARCH64",
            arches: &["Aarch64"],
            doc: "aarch64: the generic table with arm64's ABIs (scripts/Makefile.asm-headers, arch/arm64/kernel/Makefile.syscalls)",
            source: Tree(Generic { karch: "arm64", bits: "64" }),
        },
        Spec {
            ident: "ARM",
            arches: &["Arm"],
            doc: "arm EABI: arch/arm/tools/syscall.tbl `common,eabi` (arch/arm/tools/Makefile, unistd-eabi.h), plus the private `__ARM_NR_*` calls",
            source: Crate {
                module: "arm",
                rows: crate_rows!(arm),
                check: Tbl { file: "arch/arm/tools/syscall.tbl", abis: Abis::Only(&["common", "eabi"]), offset: 0, offset_name: "" },
                selection: "arch/arm/tools/syscall.tbl abis common",
            },
        },
        Spec {
            ident: "RISCV64",
            arches: &["Riscv64"],
            doc: "riscv64: the generic table with riscv's 64-bit ABIs (arch/riscv/kernel/Makefile.syscalls)",
            source: Crate {
                module: "riscv64",
                rows: crate_rows!(riscv64),
                check: Generic { karch: "riscv", bits: "64" },
                selection: "asm-generic/unistd.h",
            },
        },
        Spec {
            ident: "RISCV32",
            arches: &["Riscv32"],
            doc: "riscv32: the generic table with riscv's 32-bit ABIs (arch/riscv/kernel/Makefile.syscalls)",
            source: Tree(Generic { karch: "riscv", bits: "32" }),
        },
        Spec {
            ident: "S390X",
            arches: &["S390x"],
            doc: "s390x: arch/s390/kernel/syscalls/syscall.tbl `common,64` (arch/s390/kernel/syscalls/Makefile)",
            source: Crate {
                module: "s390x",
                rows: crate_rows!(s390x),
                check: Tbl {
                    file: "arch/s390/kernel/syscalls/syscall.tbl",
                    abis: Abis::Only(&["common", "64"]),
                    offset: 0,
                    offset_name: "",
                },
                selection: "syscall.tbl abis common,64",
            },
        },
        Spec {
            ident: "S390",
            arches: &["S390"],
            doc: "s390 31-bit (compat): arch/s390/kernel/syscalls/syscall.tbl `common,32`",
            source: Tree(S390Compat),
        },
        Spec {
            ident: "PPC64",
            arches: &["Ppc64", "Ppc64le"],
            doc: "powerpc64: syscall.tbl `common,nospu,64` (arch/powerpc/kernel/syscalls/Makefile)",
            source: Crate {
                module: "powerpc64",
                rows: crate_rows!(powerpc64),
                check: Tbl {
                    file: "arch/powerpc/kernel/syscalls/syscall.tbl",
                    abis: Abis::Only(&["common", "nospu", "64"]),
                    offset: 0,
                    offset_name: "",
                },
                selection: "syscall.tbl abis common,nospu,64",
            },
        },
        Spec {
            ident: "PPC",
            arches: &["Ppc"],
            doc: "powerpc (32-bit): syscall.tbl `common,nospu,32` (arch/powerpc/kernel/syscalls/Makefile)",
            source: Crate {
                module: "powerpc",
                rows: crate_rows!(powerpc),
                check: Tbl {
                    file: "arch/powerpc/kernel/syscalls/syscall.tbl",
                    abis: Abis::Only(&["common", "nospu", "32"]),
                    offset: 0,
                    offset_name: "",
                },
                selection: "syscall.tbl abis common,nospu,32",
            },
        },
        Spec {
            ident: "MIPS_O32",
            arches: &["Mips", "Mipsel"],
            doc: "mips o32: every row of syscall_o32.tbl + __NR_Linux 4000 (arch/mips/kernel/syscalls/Makefile, arch/mips/include/uapi/asm/unistd.h)",
            source: Crate {
                module: "mips",
                rows: crate_rows!(mips),
                check: Tbl {
                    file: "arch/mips/kernel/syscalls/syscall_o32.tbl",
                    abis: Abis::All,
                    offset: 4000,
                    offset_name: "__NR_Linux (4000)",
                },
                selection: "syscall_o32.tbl, + 4000",
            },
        },
        Spec {
            ident: "MIPS_N64",
            arches: &["Mips64", "Mipsel64"],
            doc: "mips n64: every row of syscall_n64.tbl + __NR_Linux 5000",
            source: Tree(Tbl {
                file: "arch/mips/kernel/syscalls/syscall_n64.tbl",
                abis: Abis::All,
                offset: 5000,
                offset_name: "__NR_Linux (5000)",
            }),
        },
        Spec {
            ident: "MIPS_N32",
            arches: &["Mips64n32", "Mipsel64n32"],
            doc: "mips n32: every row of syscall_n32.tbl + __NR_Linux 6000",
            source: Tree(Tbl {
                file: "arch/mips/kernel/syscalls/syscall_n32.tbl",
                abis: Abis::All,
                offset: 6000,
                offset_name: "__NR_Linux (6000)",
            }),
        },
        Spec {
            ident: "LOONGARCH64",
            arches: &["Loongarch64"],
            doc: "loongarch64: the generic table with loongarch's ABIs (arch/loongarch/kernel/Makefile.syscalls)",
            source: Tree(Generic { karch: "loongarch", bits: "64" }),
        },
        Spec {
            ident: "SPARC",
            arches: &["Sparc"],
            doc: "sparc (32-bit): syscall.tbl `common,32` (arch/sparc/kernel/syscalls/Makefile)",
            source: Crate {
                module: "sparc",
                rows: crate_rows!(sparc),
                check: Tbl {
                    file: "arch/sparc/kernel/syscalls/syscall.tbl",
                    abis: Abis::Only(&["common", "32"]),
                    offset: 0,
                    offset_name: "",
                },
                selection: "syscall.tbl abis common,32",
            },
        },
        Spec {
            ident: "SPARC64",
            arches: &["Sparc64"],
            doc: "sparc64: syscall.tbl `common,64` (arch/sparc/kernel/syscalls/Makefile)",
            source: Crate {
                module: "sparc64",
                rows: crate_rows!(sparc64),
                check: Tbl {
                    file: "arch/sparc/kernel/syscalls/syscall.tbl",
                    abis: Abis::Only(&["common", "64"]),
                    offset: 0,
                    offset_name: "",
                },
                selection: "syscall.tbl abis common,64",
            },
        },
        Spec {
            ident: "PARISC",
            arches: &["Parisc"],
            doc: "parisc (32-bit): syscall.tbl `common,32` (arch/parisc/kernel/syscalls/Makefile)",
            source: Tree(Tbl {
                file: "arch/parisc/kernel/syscalls/syscall.tbl",
                abis: Abis::Only(&["common", "32"]),
                offset: 0,
                offset_name: "",
            }),
        },
        Spec {
            ident: "PARISC64",
            arches: &["Parisc64"],
            doc: "parisc64: syscall.tbl `common,64` (arch/parisc/kernel/syscalls/Makefile)",
            source: Tree(Tbl {
                file: "arch/parisc/kernel/syscalls/syscall.tbl",
                abis: Abis::Only(&["common", "64"]),
                offset: 0,
                offset_name: "",
            }),
        },
        Spec {
            ident: "M68K",
            arches: &["M68k"],
            doc: "m68k: every row of syscall.tbl (arch/m68k/kernel/syscalls/Makefile: syscallhdr.sh without --abis)",
            source: Tree(Tbl { file: "arch/m68k/kernel/syscalls/syscall.tbl", abis: Abis::All, offset: 0, offset_name: "" }),
        },
    ])
}

/// A finished table.
struct Table {
    rows: Rows,
    source: String,
}

/// Sort by number and refuse duplicate numbers or names: the API promises
/// one name per number and one number per name.
fn finish(ident: &str, mut rows: Rows, source: String) -> Result<Table, String> {
    rows.sort();
    for w in rows.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(format!("{ident}: number {} twice ({}, {})", w[0].0, w[0].1, w[1].1));
        }
    }
    let mut seen = BTreeMap::new();
    for (nr, name) in &rows {
        if let Some(prev) = seen.insert(name.as_str(), *nr) {
            return Err(format!("{ident}: name {name} twice ({prev}, {nr})"));
        }
    }
    Ok(Table { rows, source })
}

fn first_tree<'t>(trees: &'t [Tree], rule: &TreeRule) -> Result<Option<(&'t Tree, Rows, String)>, String> {
    for t in trees {
        if let Some((rows, desc)) = rule.read(t)? {
            return Ok(Some((t, rows, desc)));
        }
    }
    Ok(None)
}

fn build(spec: &Spec, trees: &[Tree]) -> Result<Table, String> {
    let ident = spec.ident;
    match &spec.source {
        Source::Crate { module, rows, check, selection } => {
            let mut rows = rows.clone();
            let mut source = format!("syscalls {CRATE_VERSION} `{module}` ({CRATE_KERNEL} {selection})");
            if let Some((tree, kernel, _)) = first_tree(trees, check)? {
                let kernel: BTreeMap<u32, String> = kernel.into_iter().collect();
                for (nr, name) in &rows {
                    match kernel.get(nr) {
                        Some(k) if k == name => {}
                        other => {
                            return Err(format!(
                                "{ident}: syscalls {CRATE_VERSION} has {nr} {name}, {} has {other:?}",
                                tree.label()
                            ))
                        }
                    }
                }
                write!(source, "; every row checked against {}", tree.label()).unwrap();
            }
            if ident == "ARM" {
                match trees.first() {
                    Some(t) => {
                        let (private, desc) = arm_private(t)?;
                        rows.extend(private);
                        write!(source, "; plus {desc}").unwrap();
                    }
                    None => source.push_str("; without arm's private __ARM_NR_* calls (needs --linux)"),
                }
            }
            finish(ident, rows, source)
        }
        Source::Tree(rule) => match first_tree(trees, rule)? {
            Some((_, rows, desc)) => finish(ident, rows, desc),
            None if trees.is_empty() => {
                finish(ident, Vec::new(), "no data: the syscalls crate lacks this ABI; needs --linux".to_string())
            }
            None => finish(ident, Vec::new(), "no data: no --linux tree has this ABI".to_string()),
        },
    }
}

fn render(specs: &[(Spec, Table)], trees: &[Tree]) -> String {
    let mut o = String::new();
    let tree_args: String =
        trees.iter().map(|t| format!(" \\\n//!         --linux <linux-{}-tree>", t.version)).collect();
    writeln!(o, "//! Syscall tables for every [`Arch`]: `(nr, name)` sorted by number as the").unwrap();
    writeln!(o, "//! kernel numbers it, and where each table comes from.").unwrap();
    writeln!(o, "//!").unwrap();
    writeln!(o, "//! GENERATED by `verifier/examples/gen_arch_tables.rs`; do not edit. Regenerate:").unwrap();
    writeln!(o, "//!").unwrap();
    writeln!(o, "//! ```text").unwrap();
    writeln!(o, "//! cargo run -p seccheck --example gen_arch_tables --{tree_args} \\").unwrap();
    writeln!(o, "//!         --out verifier/src/arch/syscall_names.rs").unwrap();
    writeln!(o, "//! ```").unwrap();
    writeln!(o, "//!").unwrap();
    writeln!(o, "//! Inputs: the `syscalls` crate {CRATE_VERSION} (generated from {CRATE_KERNEL})").unwrap();
    for (i, t) in trees.iter().enumerate() {
        writeln!(o, "//! and the {} source tree (`--linux` #{})", t.label(), i + 1).unwrap();
    }
    writeln!(o, "//! (the rules and why each table has its source: the generator's module doc).").unwrap();
    writeln!(o, "//!").unwrap();
    for (spec, table) in specs {
        writeln!(o, "//! - `{}` ({} rows): {}", spec.ident, table.rows.len(), table.source).unwrap();
    }
    writeln!(o).unwrap();
    writeln!(o, "use super::{{Arch, Table}};").unwrap();
    writeln!(o).unwrap();
    writeln!(o, "pub(super) fn table(arch: Arch) -> &'static Table {{").unwrap();
    writeln!(o, "    match arch {{").unwrap();
    for (spec, _) in specs {
        for a in spec.arches {
            writeln!(o, "        Arch::{a} => &{},", spec.ident).unwrap();
        }
    }
    writeln!(o, "    }}").unwrap();
    writeln!(o, "}}").unwrap();
    for (spec, table) in specs {
        writeln!(o).unwrap();
        writeln!(o, "/// {}", spec.doc).unwrap();
        writeln!(o, "#[rustfmt::skip]").unwrap();
        writeln!(o, "static {}: Table = Table::new(", spec.ident).unwrap();
        writeln!(o, "    {:?},", table.source).unwrap();
        let hex = spec.ident == "X32";
        let items: Vec<String> = table
            .rows
            .iter()
            .map(|(nr, name)| if hex { format!("({nr:#x}, \"{name}\"),") } else { format!("({nr}, \"{name}\"),") })
            .collect();
        writeln!(o, "    &[").unwrap();
        wrap(&mut o, &items);
        writeln!(o, "    ],").unwrap();
        writeln!(o, ");").unwrap();
    }
    o
}

/// Items separated by spaces, lines of at most 100 columns, indented 8.
fn wrap(o: &mut String, items: &[String]) {
    let mut line = String::new();
    for it in items {
        if !line.is_empty() && 8 + line.len() + 1 + it.len() > 100 {
            writeln!(o, "        {line}").unwrap();
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(it);
    }
    if !line.is_empty() {
        writeln!(o, "        {line}").unwrap();
    }
}

fn run() -> Result<(), String> {
    let mut trees = Vec::new();
    let mut out: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--linux" => {
                let dir = args.next().ok_or("--linux needs a directory")?;
                trees.push(Tree::open(Path::new(&dir))?);
            }
            "--out" => out = Some(args.next().ok_or("--out needs a file")?.into()),
            "-h" | "--help" => {
                println!("usage: gen_arch_tables [--linux LINUX_TREE]... [--out FILE]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    for t in &trees {
        if !t.has("arch/x86/entry/syscalls/syscall_64.tbl") {
            return Err(format!(
                "{}: not a Linux source tree (no arch/x86/entry/syscalls/syscall_64.tbl)",
                t.root.display()
            ));
        }
    }
    let mut built = Vec::new();
    for spec in specs()? {
        let table = build(&spec, &trees)?;
        built.push((spec, table));
    }
    let text = render(&built, &trees);
    match out {
        Some(path) => std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?,
        None => print!("{text}"),
    }
    for (spec, table) in &built {
        eprintln!("{:12} {:4} rows  {}", spec.ident, table.rows.len(), table.source);
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("gen_arch_tables: {e}");
        std::process::exit(2);
    }
}
