//! Run a computation that may never return in a forked child, so that the
//! caller survives it: the generator fuzzer compiles every policy this way,
//! because libseccomp loops forever on some rule sets
//! (`reports/generator-findings.md`, L6) and a call into C cannot be
//! interrupted from inside the process.
//!
//! [`run`] forks a child per computation; [`Worker`] is a fork server that
//! answers one request after another in the same child and forks a new one
//! only after a child hung, spun or died, which spares the generator fuzzer
//! a fork per compilation with the same isolation.
//!
//! The child runs `f`, writes the bytes it returns to a pipe and exits. From
//! [`Limits::spin_check`] on, every half of that interval the child is
//! sampled ([`SPIN_SAMPLES`] register reads with ptrace, 10 ms apart, and its
//! CPU time from `/proc/PID/stat`): running on the CPU with the same stack
//! pointer and instruction pointers within [`SPIN_WINDOW`] bytes is a tight
//! loop. Two such samples in a row, at the same place, and it is reported as
//! [`Stuck::Spinning`] and killed; otherwise it is killed at
//! [`Limits::give_up`]. A child blocked in the kernel (no CPU time) is never
//! called spinning.
//!
//! Unlike the other children of this module, this one runs ordinary Rust and C
//! code after `fork`. It forks with glibc's `fork()`, whose handlers leave
//! malloc usable in the child; what the child's code would still wait for is
//! a lock another thread of the caller held at the fork (Rust's stderr or env
//! lock, say). The generator fuzzer has no such thread (its only other one,
//! the watchdog, touches only its own mutex); in a multi-threaded test a
//! child stuck that way is blocked, not spinning, and reported as
//! [`Stuck::Working`] at `give_up`, never as an answer.

use super::prologue::child_hygiene;
use super::validate::own_pid;
use super::OracleError;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// How long a child may run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// From this long on the child is sampled for a tight loop.
    pub spin_check: Duration,
    /// After this long it is killed whatever it is doing.
    pub give_up: Duration,
}

/// Register reads per sample.
pub const SPIN_SAMPLES: usize = 8;
/// The instruction pointers of a spinning child lie within this many bytes.
pub const SPIN_WINDOW: u64 = 64;

/// How a child that did not finish was stuck.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stuck {
    /// In a tight loop in two samples in a row: same stack pointer,
    /// instruction pointers within [`SPIN_WINDOW`] bytes (`ip` is the lowest),
    /// and CPU time going up.
    Spinning { ip: u64 },
    /// Still working (or blocked) when it was killed after
    /// [`Limits::give_up`]; the instruction pointers of its last sample (none
    /// if it could not be sampled).
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

/// `SECCHECK_NO_FORKSRV=1` (as AFL's `AFL_NO_FORKSRV`): callers fork per
/// computation with [`run`] instead of reusing a [`Worker`], to measure what
/// the fork server saves.
pub fn fork_server_disabled() -> bool {
    std::env::var_os("SECCHECK_NO_FORKSRV").is_some_and(|v| v == "1")
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
    // SAFETY: glibc's fork; see the module doc for what the child may run.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(OracleError::Sys { what: "fork", errno: errno() });
    }
    if pid == 0 {
        drop(read_end);
        child(parent, write_end, f);
    }
    drop(write_end);
    let mut pipe = std::fs::File::from(read_end);
    match wait_for_answer(pid, &mut pipe, limits)? {
        Waited::Answer(answer, reaped) => match reaped.map_or_else(|| wait_status(pid), Ok)? {
            0 => Ok(Isolated::Done(answer)),
            code => Ok(Isolated::Died { status: describe(code) }),
        },
        Waited::Gone(status) => Ok(Isolated::Died { status }),
        Waited::TimedOut { after, stuck } => Ok(Isolated::TimedOut { after, stuck }),
    }
}

/// How waiting for a child's framed answer ended.
enum Waited {
    /// The whole answer (without its length), and the child's wait status
    /// when it has ended since (and was reaped); otherwise it is still running.
    Answer(Vec<u8>, Option<i32>),
    /// The child ended (reaped) without a whole answer: how.
    Gone(String),
    /// Caught in a tight loop, or still running at [`Limits::give_up`]: killed and reaped.
    TimedOut { after: Duration, stuck: Stuck },
}

/// Wait for child `pid` to write one answer framed by its length on `pipe`,
/// within `limits` (sampling it for a tight loop from [`Limits::spin_check`]
/// on): the shared watch of [`run`] and [`Worker::call`].
fn wait_for_answer(pid: i32, pipe: &mut std::fs::File, limits: Limits) -> Result<Waited, OracleError> {
    let start = Instant::now();
    let mut answer = Vec::new();
    let mut next_sample = limits.spin_check;
    let mut last: Option<Sample> = None;
    // Set when sampling reaped a child that ended meanwhile.
    let mut ended = None;
    let complete =
        |a: &[u8]| a.get(..8).is_some_and(|l| a.len() as u64 >= 8 + u64::from_le_bytes(l.try_into().expect("8 bytes")));
    while !complete(&answer) && ended.is_none() {
        let now = start.elapsed();
        if now >= limits.give_up {
            kill_and_reap(pid);
            let ips = match last {
                Some(Sample::Looking { ips, .. }) => ips,
                _ => Vec::new(),
            };
            return Ok(Waited::TimedOut { after: start.elapsed(), stuck: Stuck::Working { ips } });
        }
        if now >= next_sample {
            let s = sample(pid);
            match (&last, &s) {
                (Some(Sample::Looking { spinning: Some(a), .. }), Sample::Looking { spinning: Some(b), .. })
                    if a.abs_diff(*b) < SPIN_WINDOW =>
                {
                    let ip = (*a).min(*b);
                    kill_and_reap(pid);
                    return Ok(Waited::TimedOut { after: start.elapsed(), stuck: Stuck::Spinning { ip } });
                }
                (_, Sample::Ended(status)) => ended = Some(*status),
                _ => {}
            }
            last = Some(s);
            next_sample = start.elapsed() + (limits.spin_check / 2).max(Duration::from_millis(100));
            continue;
        }
        let left = next_sample.min(limits.give_up).saturating_sub(now);
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
            // EOF: the child is gone (or closed the pipe) without a whole answer.
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                kill_and_reap(pid);
                return Err(OracleError::Sys { what: "read", errno: e.raw_os_error().unwrap_or(0) as i64 });
            }
        }
    }
    if ended.is_some() {
        // Whatever it wrote before it ended is still in the pipe. Without
        // blocking: another fork of this process (a parallel test) may hold
        // a copy of the write end, so EOF may never come (which is also why
        // the loop above stops once the answer is whole).
        // SAFETY: fcntl on our own descriptor.
        let flags = unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_GETFL) };
        // SAFETY: as above.
        unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) };
        let _ = pipe.read_to_end(&mut answer);
        // SAFETY: as above; back to blocking for the next answer.
        unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETFL, flags) };
    }
    if complete(&answer) {
        let len = u64::from_le_bytes(answer[..8].try_into().expect("8 bytes")) as usize;
        if answer.len() == 8 + len {
            return match ended {
                // It answered, then ended: the answer stands only if it exited cleanly.
                Some(0) | None => Ok(Waited::Answer(answer.split_off(8), ended)),
                Some(code) => Ok(Waited::Gone(describe(code))),
            };
        }
        // More than one answer: the child does not follow the protocol.
        kill_and_reap(pid);
        return Ok(Waited::Gone(format!("wrote {} bytes more than its answer", answer.len() - 8 - len)));
    }
    let status = match ended {
        Some(s) => s,
        None => wait_status(pid)?,
    };
    Ok(Waited::Gone(match status {
        0 => format!("exited with a truncated answer ({} bytes)", answer.len()),
        code => describe(code),
    }))
}

/// A fork server: one child that answers requests one after another with
/// `serve`, watched per request as [`run`] watches its child. A child that
/// hangs, spins or dies is killed (if need be) and replaced by a fresh fork
/// at the next request, so each request still runs in a process the caller
/// survives, without a fork per request.
///
/// Requests and answers travel over two pipes, framed by their length. The
/// child is forked from the thread that makes the first request (and after
/// each replacement); it dies with that thread (`PR_SET_PDEATHSIG`), so a
/// worker stays on the thread that created it.
pub struct Worker {
    serve: fn(&[u8]) -> Vec<u8>,
    child: Option<Child>,
    /// Children forked so far (the first and every replacement).
    pub forks: u64,
}

struct Child {
    pid: i32,
    requests: std::fs::File,
    answers: std::fs::File,
}

impl Worker {
    /// A worker whose child answers each request with `serve` (a plain
    /// function: the child has the caller's memory as it was at the fork, so
    /// `serve` must not rely on anything the caller changes later).
    pub fn new(serve: fn(&[u8]) -> Vec<u8>) -> Worker {
        Worker { serve, child: None, forks: 0 }
    }

    /// `serve(request)` in the child, within `limits`. After a time-out or a
    /// death the child is gone and the next call forks a new one.
    pub fn call(&mut self, request: &[u8], limits: Limits) -> Result<Isolated, OracleError> {
        let framed = [&(request.len() as u64).to_le_bytes()[..], request].concat();
        // A child that died while idle (or was killed from outside) shows as
        // a broken pipe: one more try on a fresh child.
        for attempt in 0..2 {
            let c = match &mut self.child {
                Some(c) => c,
                None => {
                    let c = self.spawn()?;
                    self.child.insert(c)
                }
            };
            if let Err(e) = std::io::Write::write_all(&mut c.requests, &framed) {
                self.stop();
                if attempt == 0 && e.kind() == std::io::ErrorKind::BrokenPipe {
                    continue;
                }
                return Err(OracleError::Sys { what: "write", errno: e.raw_os_error().unwrap_or(0) as i64 });
            }
            let pid = c.pid;
            let waited = wait_for_answer(pid, &mut c.answers, limits);
            return match waited {
                Ok(Waited::Answer(answer, reaped)) => {
                    if reaped.is_some() {
                        self.child = None;
                    }
                    Ok(Isolated::Done(answer))
                }
                Ok(Waited::Gone(status)) => {
                    self.child = None;
                    Ok(Isolated::Died { status })
                }
                Ok(Waited::TimedOut { after, stuck }) => {
                    self.child = None;
                    Ok(Isolated::TimedOut { after, stuck })
                }
                Err(e) => {
                    self.stop();
                    Err(e)
                }
            };
        }
        unreachable!("the second attempt returns")
    }

    fn spawn(&mut self) -> Result<Child, OracleError> {
        let (req_read, req_write) = pipe()?;
        let (ans_read, ans_write) = pipe()?;
        let parent = own_pid();
        // SAFETY: glibc's fork; see the module doc for what the child may run.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(OracleError::Sys { what: "fork", errno: errno() });
        }
        if pid == 0 {
            drop((req_write, ans_read));
            serve_forever(parent, req_read, ans_write, self.serve);
        }
        self.forks += 1;
        Ok(Child { pid, requests: std::fs::File::from(req_write), answers: std::fs::File::from(ans_read) })
    }

    /// End the child, if any.
    fn stop(&mut self) {
        if let Some(c) = self.child.take() {
            drop(c.requests);
            kill_and_reap(c.pid);
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Two ends of a new pipe (read, write), closed on exec.
fn pipe() -> Result<(OwnedFd, OwnedFd), OracleError> {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is a valid out-array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(OracleError::Sys { what: "pipe2", errno: errno() });
    }
    // SAFETY: pipe2 just returned these two descriptors, owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The fork server's child: read a framed request, answer it framed, until
/// the request pipe closes; `_exit`.
fn serve_forever(parent: i64, requests: OwnedFd, answers: OwnedFd, serve: fn(&[u8]) -> Vec<u8>) -> ! {
    let code = match child_hygiene(parent) {
        Err(_) => 3,
        Ok(()) => {
            // SAFETY: resetting dispositions to the default (see `child`).
            unsafe {
                libc::signal(libc::SIGABRT, libc::SIG_DFL);
                libc::signal(libc::SIGFPE, libc::SIG_DFL);
            }
            let (mut requests, mut answers) = (std::fs::File::from(requests), std::fs::File::from(answers));
            loop {
                let mut len = [0u8; 8];
                if requests.read_exact(&mut len).is_err() {
                    break 0;
                }
                let mut req = vec![0u8; u64::from_le_bytes(len) as usize];
                if requests.read_exact(&mut req).is_err() {
                    break 4;
                }
                let Ok(bytes) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| serve(&req))) else {
                    break 101;
                };
                let framed = [&(bytes.len() as u64).to_le_bytes()[..], &bytes].concat();
                if std::io::Write::write_all(&mut answers, &framed).is_err() {
                    break 4;
                }
            }
        }
    };
    // SAFETY: ends the child without running the parent's exit handlers.
    unsafe { libc::_exit(code) }
}

/// The child: run `f`, write its answer framed by its length, `_exit`.
fn child(parent: i64, write_end: OwnedFd, f: impl FnOnce() -> Vec<u8>) -> ! {
    let code = match child_hygiene(parent) {
        Err(_) => 3,
        Ok(()) => {
            // Crash handlers the caller installed (libFuzzer's) must not
            // run in the child: a crash here is the child's own death.
            // SAFETY: resetting dispositions to the default.
            unsafe {
                libc::signal(libc::SIGABRT, libc::SIG_DFL);
                libc::signal(libc::SIGFPE, libc::SIG_DFL);
            }
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                Ok(bytes) => {
                    let mut out = std::fs::File::from(write_end);
                    let framed = [&(bytes.len() as u64).to_le_bytes()[..], &bytes].concat();
                    match std::io::Write::write_all(&mut out, &framed) {
                        Ok(()) => 0,
                        Err(_) => 4,
                    }
                }
                Err(_) => 101,
            }
        }
    };
    // SAFETY: ends the child without running the parent's exit handlers.
    unsafe { libc::_exit(code) }
}

/// Kill our unreaped child and reap it.
fn kill_and_reap(pid: i32) {
    // SAFETY: `pid` is our child and not reaped yet, so it cannot have been reused.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let _ = wait_status(pid);
}

fn errno() -> i64 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0) as i64
}

/// The child's next state change (its end, or a stop while traced): its raw
/// wait status.
fn wait_status(pid: i32) -> Result<i32, OracleError> {
    loop {
        match super::sys::wait(pid, 0) {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => continue,
            Err(errno) => return Err(OracleError::Sys { what: "wait4", errno }),
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

/// One look at a running child.
enum Sample {
    /// Where it was; `spinning` is the lowest instruction pointer when it
    /// was in a tight loop and using the CPU.
    Looking { ips: Vec<u64>, spinning: Option<u64> },
    /// It ended while being sampled (and has been reaped): its wait status.
    Ended(i32),
}

/// Attach with `PTRACE_SEIZE`, interrupt the child [`SPIN_SAMPLES`] times
/// 10 ms apart and read its registers, and detach; its CPU time before and
/// after. Any failure is a sample without a tight loop.
fn sample(pid: i32) -> Sample {
    let cpu_before = cpu_ticks(pid);
    // SAFETY (ptrace calls below): our own child; `regs` is a valid
    // `user_regs_struct` for PTRACE_GETREGS.
    if unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0, 0) } != 0 {
        return Sample::Looking { ips: Vec::new(), spinning: None };
    }
    let mut samples = Vec::with_capacity(SPIN_SAMPLES);
    let mut stopped = false;
    for _ in 0..SPIN_SAMPLES {
        std::thread::sleep(Duration::from_millis(10));
        // SAFETY: as above.
        if unsafe { libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0) } != 0 {
            break;
        }
        let Ok(status) = wait_status(pid) else { break };
        if !libc::WIFSTOPPED(status) {
            return Sample::Ended(status);
        }
        stopped = true;
        // SAFETY: plain old data, all zeroes is a valid value.
        let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::ptrace(libc::PTRACE_GETREGS, pid, 0, &mut regs as *mut libc::user_regs_struct) } != 0 {
            break;
        }
        samples.push((regs.rip, regs.rsp));
        if samples.len() == SPIN_SAMPLES {
            break;
        }
        // SAFETY: as above; resumes the interrupted child.
        unsafe { libc::ptrace(libc::PTRACE_CONT, pid, 0, 0) };
        stopped = false;
    }
    // Stop tracing it (a traced child would wait for us at every signal).
    // SAFETY: as above. PTRACE_DETACH needs a stopped tracee: stop it first
    // unless it already is.
    unsafe {
        if !stopped && libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0) == 0 {
            if let Ok(status) = wait_status(pid) {
                if !libc::WIFSTOPPED(status) {
                    return Sample::Ended(status);
                }
            }
        }
        libc::ptrace(libc::PTRACE_DETACH, pid, 0, 0);
    }
    let busy = matches!((cpu_before, cpu_ticks(pid)), (Some(a), Some(b)) if b >= a + 2);
    let spinning = spinning(&samples).filter(|_| busy);
    Sample::Looking { ips: samples.iter().map(|s| s.0).collect(), spinning }
}

/// `utime + stime` of `pid` in clock ticks (`/proc/PID/stat` fields 14 and 15,
/// counted after the parenthesised command name).
fn cpu_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14, stime 15.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
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
        assert!(
            matches!(&r, Isolated::TimedOut { stuck: Stuck::Working { ips }, after } if *after >= Duration::from_millis(1500) && ips.len() == SPIN_SAMPLES),
            "{r:?}"
        );
    }

    #[test]
    fn a_blocked_child_is_not_spinning() {
        // Same registers in every sample, but no CPU time: asleep, not looping.
        let limits = Limits { spin_check: Duration::from_millis(100), give_up: Duration::from_millis(800) };
        let r = run(limits, || {
            std::thread::sleep(Duration::from_secs(30));
            Vec::new()
        })
        .unwrap();
        assert!(matches!(&r, Isolated::TimedOut { stuck: Stuck::Working { .. }, .. }), "{r:?}");
    }

    #[test]
    fn an_answer_larger_than_the_pipe_arrives_after_sampling_began() {
        // The child blocks writing (the pipe holds 64 KiB) while it is sampled.
        let limits = Limits { spin_check: Duration::from_millis(1), give_up: Duration::from_secs(5) };
        let r = run(limits, || vec![7u8; 1 << 20]).unwrap();
        assert_eq!(r, Isolated::Done(vec![7u8; 1 << 20]));
    }

    #[test]
    fn a_panic_is_a_death_not_an_answer() {
        let r = run(QUICK, || panic!("in the child")).unwrap();
        assert_eq!(r, Isolated::Died { status: "panicked".into() });
    }

    /// Reverses the request; spins on `spin`, sleeps on `sleep`, panics on `panic`, exits on `exit`.
    fn server(req: &[u8]) -> Vec<u8> {
        match req {
            b"spin" => loop {
                std::hint::spin_loop();
            },
            b"sleep" => {
                std::thread::sleep(Duration::from_secs(30));
                Vec::new()
            }
            b"panic" => panic!("in the worker"),
            // SAFETY: ends the child process at once.
            b"exit" => unsafe { libc::_exit(0) },
            r => r.iter().rev().copied().collect(),
        }
    }

    #[test]
    fn one_worker_answers_many_requests_with_one_fork() {
        let mut w = Worker::new(server);
        for i in 0..50u32 {
            let req = i.to_le_bytes();
            let want: Vec<u8> = req.iter().rev().copied().collect();
            assert_eq!(w.call(&req, QUICK).unwrap(), Isolated::Done(want));
        }
        let big: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let want: Vec<u8> = big.iter().rev().copied().collect();
        assert_eq!(w.call(&big, QUICK).unwrap(), Isolated::Done(want), "larger than a pipe both ways");
        assert_eq!(w.forks, 1);
    }

    #[test]
    fn a_worker_that_spins_blocks_or_dies_is_replaced() {
        let mut w = Worker::new(server);
        assert_eq!(w.call(b"ab", QUICK).unwrap(), Isolated::Done(b"ba".to_vec()));
        let r = w.call(b"spin", QUICK).unwrap();
        assert!(matches!(r, Isolated::TimedOut { stuck: Stuck::Spinning { .. }, .. }), "{r:?}");
        assert_eq!(w.call(b"cd", QUICK).unwrap(), Isolated::Done(b"dc".to_vec()));
        let limits = Limits { spin_check: Duration::from_millis(100), give_up: Duration::from_millis(600) };
        let r = w.call(b"sleep", limits).unwrap();
        assert!(matches!(r, Isolated::TimedOut { stuck: Stuck::Working { .. }, .. }), "{r:?}");
        assert_eq!(w.call(b"panic", QUICK).unwrap(), Isolated::Died { status: "panicked".into() });
        let r = w.call(b"exit", QUICK).unwrap();
        assert_eq!(r, Isolated::Died { status: "exited with a truncated answer (0 bytes)".into() });
        assert_eq!(w.call(b"ef", QUICK).unwrap(), Isolated::Done(b"fe".to_vec()));
        assert_eq!(w.forks, 5, "a fresh child after each of the four that did not answer");
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
