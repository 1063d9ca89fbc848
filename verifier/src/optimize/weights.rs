//! How often each syscall runs, for laying out the search: the built-in
//! hot-syscall mix, a `seccheck record` trace, or a minijail-style frequency
//! file (`name: count` per line, `#` comments, as minijail's
//! `tools/compile_seccomp_policy.py` reads with `@frequency`).

use crate::arch::Arch;
use crate::record::Trace;
use serde::Serialize;

/// Names of the syscalls `seccheck bench` times as hot (`kernel::overhead::Probe::HOT`:
/// getpid, clock_gettime, read, write, futex, epoll_wait, openat + close),
/// equally weighted.
pub const HOT_MIX: [&str; 8] = ["getpid", "clock_gettime", "read", "write", "futex", "epoll_wait", "openat", "close"];

/// Weight of the mix on ABIs other than the host's: they matter for the
/// layout of their own block only.
const OTHER_ABI_SHARE: f64 = 0.1;

/// Syscall weights by `(AUDIT_ARCH, nr)` (x32 numbers with
/// `__X32_SYSCALL_BIT`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Weights {
    pub points: Vec<(Arch, u32, f64)>,
    /// Where they come from, for the report.
    pub source: String,
}

impl Weights {
    /// The hot mix on `host` (weight 1 each) and, at a tenth, on every other
    /// ABI that has the same names.
    pub fn hot_mix(host: Arch) -> Weights {
        let mut points = Vec::new();
        for arch in Arch::all() {
            let share = if arch == host { 1.0 } else { OTHER_ABI_SHARE };
            for name in HOT_MIX {
                if let Some(nr) = arch.syscall_nr(name) {
                    points.push((arch, nr, share));
                }
            }
        }
        Weights { points, source: format!("built-in hot-syscall mix ({} on {})", HOT_MIX.join(", "), host.name()) }
    }

    /// The calls of a recorded run, by count.
    pub fn from_trace(t: &Trace, file: &str) -> Weights {
        let points = t
            .syscalls
            .iter()
            .filter_map(|s| Arch::from_name(&s.arch).map(|a| (a, s.nr, s.count as f64)))
            .filter(|p| p.2 > 0.0)
            .collect();
        Weights { points, source: format!("trace {file}") }
    }

    /// A minijail frequency file for `arch`: `name: count` lines.
    pub fn from_frequency(text: &str, arch: Arch, file: &str) -> Result<Weights, String> {
        let mut points = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |m: &str| format!("{file}:{}: {m}", i + 1);
            let (name, count) = line.split_once(':').ok_or_else(|| err("expected `syscall: count`"))?;
            let name = name.trim();
            let nr = arch.syscall_nr(name).ok_or_else(|| err(&format!("no syscall {name:?} on {}", arch.name())))?;
            let count: u64 = count
                .trim()
                .parse()
                .map_err(|_| err(&format!("count {:?} is not a non-negative integer", count.trim())))?;
            points.push((arch, nr, count as f64));
        }
        Ok(Weights { points, source: format!("frequency file {file} ({})", arch.name()) })
    }
}
