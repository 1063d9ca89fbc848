//! What a latency number depends on besides the filter: the machine, the kernel
//! and how busy the machine was while we measured.
//!
//! Read from `/proc` and `/sys`; a value that cannot be read is `None`/"unknown",
//! never guessed.

use serde::Serialize;
use std::time::{Duration, Instant};

/// The machine and kernel a measurement ran on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Environment {
    /// `uname -r`.
    pub kernel_release: String,
    /// `uname -v`.
    pub kernel_version: String,
    /// `model name` of /proc/cpuinfo (first CPU).
    pub cpu_model: String,
    /// Online CPUs.
    pub cpus: usize,
    /// `/proc/sys/net/core/bpf_jit_enable` (1 = JIT on, 2 = on with debug output, 0 = interpreter).
    pub bpf_jit_enable: Option<String>,
    /// `VM` when the CPU reports the `hypervisor` flag, with the DMI product name when there is one.
    pub virtualization: String,
    /// `/sys/devices/system/cpu/vulnerabilities/spec_store_bypass`: whether a
    /// filter's installation turns on SSBD for the task (the "seccomp" mitigation mode).
    pub spec_store_bypass: Option<String>,
    /// `/sys/devices/system/clocksource/clocksource0/current_clocksource`.
    pub clocksource: Option<String>,
    /// `/proc/self/seccomp_cache` exists (`CONFIG_SECCOMP_CACHE_DEBUG`), so the
    /// kernel's cache could be read directly instead of inferred by timing.
    pub seccomp_cache_debug: bool,
}

fn read_trim(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// Describe this machine.
pub fn environment() -> Environment {
    // SAFETY: uname fills the zeroed struct it is given.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer to a utsname.
    unsafe { libc::uname(&mut u) };
    let field = |f: &[libc::c_char]| {
        // SAFETY: uname NUL-terminates every field within its array.
        unsafe { std::ffi::CStr::from_ptr(f.as_ptr()) }.to_string_lossy().into_owned()
    };
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_else(|| "unknown".into());
    let hypervisor =
        cpuinfo.lines().filter(|l| l.starts_with("flags")).any(|l| l.split_whitespace().any(|f| f == "hypervisor"));
    let product = read_trim("/sys/class/dmi/id/product_name").filter(|s| !s.is_empty());
    let virtualization = match (hypervisor, product) {
        (true, Some(p)) => format!("VM ({p})"),
        (true, None) => "VM (hypervisor CPU flag)".into(),
        (false, _) => "no hypervisor flag (bare metal or hidden)".into(),
    };
    Environment {
        kernel_release: field(&u.release),
        kernel_version: field(&u.version),
        cpu_model,
        cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        bpf_jit_enable: read_trim("/proc/sys/net/core/bpf_jit_enable"),
        virtualization,
        spec_store_bypass: read_trim("/sys/devices/system/cpu/vulnerabilities/spec_store_bypass"),
        clocksource: read_trim("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
        seccomp_cache_debug: std::path::Path::new("/proc/self/seccomp_cache").exists(),
    }
}

/// A snapshot of machine-wide and own CPU time.
#[derive(Clone, Copy, Debug)]
pub struct LoadSample {
    at: Instant,
    /// Busy time of all CPUs (user, nice, system, irq, softirq), seconds.
    busy: f64,
    /// Time stolen by the hypervisor, seconds.
    steal: f64,
    /// CPU time of this process and its reaped children, seconds.
    own: f64,
    loadavg1: Option<f64>,
}

/// How busy the machine was between two samples.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Load {
    pub wall_seconds: f64,
    /// Share of all CPUs' time spent by other processes (0 = idle machine, 1 = every CPU busy).
    pub others: f64,
    /// Share of all CPUs' time spent by this measurement (parent and children).
    pub own: f64,
    /// Share of all CPUs' time the hypervisor stole.
    pub steal: f64,
    pub loadavg1_start: Option<f64>,
    pub loadavg1_end: Option<f64>,
}

/// Sample `/proc/stat`, `/proc/loadavg` and our own CPU time.
pub fn sample_load() -> LoadSample {
    // SAFETY: sysconf has no memory effects.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<f64> = stat
        .lines()
        .next()
        .filter(|l| l.starts_with("cpu "))
        .map(|l| l.split_whitespace().skip(1).filter_map(|v| v.parse::<f64>().ok()).collect())
        .unwrap_or_default();
    let get = |i: usize| cpu.get(i).copied().unwrap_or(0.0) / hz;
    // user nice system idle iowait irq softirq steal (proc_stat.c show_stat)
    let busy = get(0) + get(1) + get(2) + get(5) + get(6);
    let steal = get(7);
    let rusage = |who| {
        // SAFETY: getrusage fills the zeroed struct.
        let mut r: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: valid out-pointer.
        unsafe { libc::getrusage(who, &mut r) };
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
        tv(r.ru_utime) + tv(r.ru_stime)
    };
    let own = rusage(libc::RUSAGE_SELF) + rusage(libc::RUSAGE_CHILDREN);
    let loadavg1 = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()));
    LoadSample { at: Instant::now(), busy, steal, own, loadavg1 }
}

/// The load between two samples on a machine with `cpus` CPUs.
pub fn load_between(a: &LoadSample, b: &LoadSample, cpus: usize) -> Load {
    let wall = (b.at - a.at).max(Duration::from_millis(1)).as_secs_f64();
    let capacity = wall * cpus.max(1) as f64;
    let own = (b.own - a.own).max(0.0);
    let busy = (b.busy - a.busy).max(0.0);
    Load {
        wall_seconds: wall,
        others: ((busy - own) / capacity).clamp(0.0, 1.0),
        own: (own / capacity).clamp(0.0, 1.0),
        steal: ((b.steal - a.steal).max(0.0) / capacity).clamp(0.0, 1.0),
        loadavg1_start: a.loadavg1,
        loadavg1_end: b.loadavg1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_this_machine() {
        let e = environment();
        assert!(!e.kernel_release.is_empty());
        assert!(e.cpus >= 1);
        let a = sample_load();
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(30) {
            std::hint::black_box(0u64);
        }
        let l = load_between(&a, &sample_load(), e.cpus);
        assert!(l.wall_seconds >= 0.03);
        assert!((0.0..=1.0).contains(&l.others) && (0.0..=1.0).contains(&l.own));
    }
}
