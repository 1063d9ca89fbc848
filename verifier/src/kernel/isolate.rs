//! Run a computation that may never return in a forked child, so that the
//! caller survives it: the generator fuzzer compiles every policy this way,
//! because libseccomp loops forever on some rule sets
//! (`reports/generator-findings.md`, L6) and a call into C cannot be
//! interrupted from inside the process.
//!
//! The child runs `f`, writes the bytes it returns to a pipe and exits. When it
//! has not finished after [`Limits::spin_check`], it is sampled with ptrace:
//! if its stack pointer stays put and its instruction pointer stays within a
//! few bytes over [`SPIN_SAMPLES`] samples, it is in a tight loop that does
//! not read new memory (nothing a compiler does in milliseconds looks like
//! that for long) and is reported as [`Stuck::Spinning`] at once; otherwise it
//! gets until [`Limits::give_up`]. Either way the child is killed and reaped.
//!
//! Unlike the other children of this module, this one runs ordinary Rust and C
//! code after `fork` in a possibly multi-threaded process. That is sound here
//! because the allocator is glibc's malloc, whose fork handlers leave it usable
//! in the child, and because the callers (the generator fuzzer, its tests) hold
//! no lock another thread could be holding at the fork that `f` would take: the
//! only other thread, `fuzz-generator`'s watchdog, touches only its own mutex.
//! A deadlock in the child would anyway be reported as a hang, not corrupt the
//! caller.

use super::validate::{child_hygiene, kill_and_reap, own_pid};
use super::OracleError;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// How long a child may run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// After this long the child is sampled for a tight loop.
    pub spin_check: Duration,
    /// After this long it is killed whatever it is doing.
    pub give_up: Duration,
}

/// Samples taken to decide that the child spins.
pub const SPIN_SAMPLES: usize = 8;
/// The instruction pointers of a spinning child lie within this many bytes.
pub const SPIN_WINDOW: u64 = 64;

/// How a child that did not finish was stuck.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stuck {
    /// In a tight loop: same stack pointer and instruction pointers within
    /// [`SPIN_WINDOW`] bytes over every sample; `ip` is the lowest one.
    Spinning { ip: u64 },
    /// Still working when it was killed after [`Limits::give_up`]; the
    /// instruction pointers it was sampled at (none if sampling failed).
    Working { ips: Vec<u64> },
}

/// What became of the child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Isolated {
    /// `f` returned these bytes.
    Done(Vec<u8>),
    /// It did not finish in time; killed.
    TimedOut { after: Duration, stuck: Stuck },
    /// It died before writing its answer (a crash in `f`, or a panic).
    Died { status: String },
}

/// Run `f` in a forked child, within `limits`.
pub fn run(limits: Limits, f: impl FnOnce() -> Vec<u8>) -> Result<Isolated, OracleError> {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is a valid out-array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(OracleError::Sys { what: "pipe2", errno: errno() });
    }
    // SAFETY: pipe2 just returned these two descriptors, owned by nobody else.
    let (read_end, write_end) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let parent = own_pid();
    // SAFETY: see the module doc for why the child may run `f`; it never
    // returns into the caller (it always ends in `_exit`).
    let pid = unsafe { super::validate::fork()? };
    if pid == 0 {
        drop(read_end);
        let code = match child_hygiene(parent) {
            Err(_) => 3,
            Ok(()) => match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                Ok(bytes) => {
                    let mut out = std::fs::File::from(write_end);
                    let framed = [&(bytes.len() as u64).to_le_bytes()[..], &bytes].concat();
                    match std::io::Write::write_all(&mut out, &framed) {
                        Ok(()) => 0,
                        Err(_) => 4,
                    }
                }
                Err(_) => 101,
            },
        };
        // SAFETY: ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(code) }
    }
    drop(write_end);
    let start = Instant::now();
    let mut answer = Vec::new();
    let mut pipe = std::fs::File::from(read_end);
    let mut sampled = None;
    // Set when sampling reaped a child that ended meanwhile.
    let mut ended = None;
    loop {
        let deadline = match sampled {
            None => limits.spin_check.min(limits.give_up),
            Some(_) => limits.give_up,
        };
        let left = deadline.saturating_sub(start.elapsed());
        if left.is_zero() {
            if sampled.is_none() && limits.spin_check < limits.give_up && ended.is_none() {
                let (s, status) = sample(pid);
                if let Stuck::Spinning { .. } = s {
                    kill_and_reap(pid);
                    return Ok(Isolated::TimedOut { after: start.elapsed(), stuck: s });
                }
                sampled = Some(s);
                ended = status;
                continue;
            }
            if ended.is_some() {
                // It ended while being sampled; only its answer is left to read.
                break;
            }
            kill_and_reap(pid);
            let stuck = sampled.unwrap_or(Stuck::Working { ips: Vec::new() });
            return Ok(Isolated::TimedOut { after: start.elapsed(), stuck });
        }
        let mut pfd = libc::pollfd { fd: pipe.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = errno();
            if e == i64::from(libc::EINTR) {
                continue;
            }
            kill_and_reap(pid);
            return Err(OracleError::Sys { what: "poll", errno: e });
        }
        if r == 0 {
            continue;
        }
        let mut buf = [0u8; 65536];
        match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                kill_and_reap(pid);
                return Err(OracleError::Sys { what: "read", errno: e.raw_os_error().unwrap_or(0) as i64 });
            }
        }
    }
    let status = match ended {
        Some(s) => s,
        None => reap(pid)?,
    };
    let framed_len = answer.get(..8).map(|l| u64::from_le_bytes(l.try_into().expect("8 bytes")) as usize);
    match (status, framed_len) {
        (0, Some(n)) if answer.len() == n + 8 => Ok(Isolated::Done(answer.split_off(8))),
        (0, _) => Ok(Isolated::Died { status: format!("exited with a truncated answer ({} bytes)", answer.len()) }),
        (code, _) => Ok(Isolated::Died { status: describe(code) }),
    }
}

fn errno() -> i64 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0) as i64
}

/// Wait for the child to end; its raw wait status.
fn reap(pid: i32) -> Result<i32, OracleError> {
    let mut status = 0;
    loop {
        // SAFETY: our unreaped child, a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r == pid {
            return Ok(status);
        }
        let e = errno();
        if e != i64::from(libc::EINTR) {
            return Err(OracleError::Sys { what: "waitpid", errno: e });
        }
    }
}

fn describe(status: i32) -> String {
    if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        match libc::WEXITSTATUS(status) {
            101 => "panicked".into(),
            3 => "could not set itself up (prctl)".into(),
            4 => "could not write its answer".into(),
            c => format!("exited with status {c}"),
        }
    }
}

/// Is the child in a tight loop? Attach with `PTRACE_SEIZE`, interrupt it
/// [`SPIN_SAMPLES`] times 10 ms apart and read its registers, then detach;
/// anything but a tight loop (or a failure) answers [`Stuck::Working`] with
/// the instruction pointers seen (the caller then waits for `give_up`). The second value is the child's wait status if it ended while
/// being sampled (it has then been reaped).
fn sample(pid: i32) -> (Stuck, Option<i32>) {
    // SAFETY (ptrace calls below): our own child; `regs` is a valid
    // `user_regs_struct` for PTRACE_GETREGS.
    unsafe {
        if libc::ptrace(libc::PTRACE_SEIZE, pid, 0, 0) != 0 {
            return (Stuck::Working { ips: Vec::new() }, None);
        }
    }
    let mut samples = Vec::with_capacity(SPIN_SAMPLES);
    for i in 0..SPIN_SAMPLES {
        std::thread::sleep(Duration::from_millis(10));
        // SAFETY: as above.
        if unsafe { libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0) } != 0 {
            break;
        }
        let mut status = 0;
        // SAFETY: our traced child, a valid out-pointer.
        if unsafe { libc::waitpid(pid, &mut status, libc::__WALL) } != pid {
            break;
        }
        if !libc::WIFSTOPPED(status) {
            return (Stuck::Working { ips: Vec::new() }, Some(status));
        }
        // SAFETY: plain old data, all zeroes is a valid value.
        let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let ok = unsafe { libc::ptrace(libc::PTRACE_GETREGS, pid, 0, &mut regs as *mut libc::user_regs_struct) } == 0;
        if ok {
            samples.push((regs.rip, regs.rsp));
        }
        // Resume it, and stop tracing it after the last sample (a traced
        // child would wait for us at every signal).
        let next = if ok && i + 1 < SPIN_SAMPLES { libc::PTRACE_CONT } else { libc::PTRACE_DETACH };
        // SAFETY: as above; the child is in a ptrace stop.
        unsafe { libc::ptrace(next, pid, 0, 0) };
        if !ok {
            break;
        }
    }
    let stuck = match spinning(&samples) {
        Some(ip) => Stuck::Spinning { ip },
        None => Stuck::Working { ips: samples.iter().map(|s| s.0).collect() },
    };
    (stuck, None)
}

/// The lowest instruction pointer, when every sample has the same stack
/// pointer and the instruction pointers lie within [`SPIN_WINDOW`] bytes.
fn spinning(samples: &[(u64, u64)]) -> Option<u64> {
    let (&(ip0, sp0), rest) = samples.split_first()?;
    if samples.len() < SPIN_SAMPLES || rest.iter().any(|&(_, sp)| sp != sp0) {
        return None;
    }
    let lo = samples.iter().map(|s| s.0).min().unwrap_or(ip0);
    let hi = samples.iter().map(|s| s.0).max().unwrap_or(ip0);
    (hi - lo < SPIN_WINDOW).then_some(lo)
}

/// `path+0xOFFSET` of the mapped file holding `ip` in this process (the child
/// was forked from it, so its mappings are the same), from `/proc/self/maps`.
pub fn describe_address(ip: u64) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        let (range, _perms, offset) = (f.next()?, f.next()?, f.next()?);
        let path = f.nth(2)?;
        let (lo, hi) = range.split_once('-')?;
        let (lo, hi) = (u64::from_str_radix(lo, 16).ok()?, u64::from_str_radix(hi, 16).ok()?);
        let offset = u64::from_str_radix(offset, 16).ok()?;
        (lo..hi).contains(&ip).then(|| format!("{}+{:#x}", path.rsplit('/').next().unwrap_or(path), ip - lo + offset))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICK: Limits = Limits { spin_check: Duration::from_millis(300), give_up: Duration::from_secs(3) };

    #[test]
    fn the_answer_comes_back() {
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let expected = big.clone();
        assert_eq!(run(QUICK, move || big).unwrap(), Isolated::Done(expected));
    }

    #[test]
    fn a_tight_loop_is_reported_as_spinning_soon() {
        let start = Instant::now();
        let r = run(QUICK, || loop {
            std::hint::spin_loop();
        })
        .unwrap();
        assert!(matches!(r, Isolated::TimedOut { stuck: Stuck::Spinning { .. }, .. }), "{r:?}");
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
        if let Isolated::TimedOut { stuck: Stuck::Spinning { ip }, .. } = r {
            assert!(describe_address(ip).is_some_and(|d| d.contains('+')), "{ip:#x}");
        }
    }

    #[test]
    fn a_busy_child_that_moves_is_given_until_the_limit() {
        // Deep recursion with a changing stack: not a tight loop.
        fn churn(n: u64) -> u64 {
            if n == 0 {
                return 1;
            }
            std::hint::black_box(churn(n - 1)).wrapping_add(std::hint::black_box(n))
        }
        let r = run(Limits { spin_check: Duration::from_millis(200), give_up: Duration::from_millis(1500) }, || loop {
            std::hint::black_box(churn(std::hint::black_box(20_000)));
        })
        .unwrap();
        assert!(matches!(&r, Isolated::TimedOut { stuck: Stuck::Working { ips }, after } if *after >= Duration::from_millis(1500) && ips.len() == SPIN_SAMPLES), "{r:?}");
    }

    #[test]
    fn a_panic_is_a_death_not_an_answer() {
        let r = run(QUICK, || panic!("in the child")).unwrap();
        assert_eq!(r, Isolated::Died { status: "panicked".into() });
    }

    #[test]
    fn spinning_needs_every_sample_close() {
        let at = |ip, sp| (ip, sp);
        assert_eq!(spinning(&[at(100, 8); SPIN_SAMPLES]), Some(100));
        let mut moving = vec![at(100, 8); SPIN_SAMPLES];
        moving[3] = at(100, 16);
        assert_eq!(spinning(&moving), None);
        moving[3] = at(100 + SPIN_WINDOW, 8);
        assert_eq!(spinning(&moving), None);
        assert_eq!(spinning(&[at(100, 8); SPIN_SAMPLES - 1]), None);
    }
}
