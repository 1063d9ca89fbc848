//! `seccheck run --profile FILE -- CMD ARGS…`: run a command under a filter
//! read like every other command reads one (any input format and profile
//! option): a Docker/OCI profile compiled exactly as runc loads it, with the
//! flags runc passes (`SECCOMP_FILTER_FLAG_SPEC_ALLOW` unless the profile sets
//! `flags`), or a compiled filter installed as it is. The kernel enforces it;
//! nothing is recorded. `no_new_privs` is set first, as an unprivileged
//! runtime must. Exit status: the command's (128 + N for signal N); 2 when it
//! could not be started — including when the profile denies `execve` itself.
//! A command ended by `SIGSYS` (what seccomp sends for KILL and TRAP) is
//! explained on stderr: the call, from the kernel's audit record of the kill
//! (`kernel::audit`), or why the kernel log has none; and `record --check`,
//! which lists every call the filter would block.

use super::input::InputOptions;
use super::{CliError, Outcome};
use crate::kernel::command::resolve as command;
use crate::kernel::supervise::Exit;
use crate::record::verify::load_flag_bits;
use crate::uapi::SIGSYS;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

/// Run a command under a seccomp filter or profile (the kernel enforcing it).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The filter: a profile (Docker/OCI, seccompiler, Kubernetes) or compiled BPF, as every command reads it.
    #[arg(long)]
    pub profile: PathBuf,
    #[command(flatten)]
    pub input: InputOptions,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

pub fn run(args: Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    let cmd = command(&args.command).map_err(|e| CliError::failed("", e))?;
    let name = args.profile.display().to_string();
    let (program, compiled) = args.input.load_valid(&args.profile)?;
    let flags = match &compiled {
        Some(c) => load_flag_bits(&c.load_flags).map_err(|flag| CliError::Input {
            file: name.clone(),
            msg: format!("its loader would install it with {flag}, which `seccheck run` does not do (a notifying profile needs a supervisor)"),
        })?,
        None => 0,
    };
    // Placed before the command starts, so only records it causes are read.
    let mut log = crate::kernel::audit::KmsgCursor::at_end();
    let (exit, pid) = crate::kernel::supervise::enforce(&cmd, program.program(), flags)
        .map_err(|e| CliError::failed(format!("{}: ", args.command[0].to_string_lossy()), e))?;
    if exit == Exit::Signal(SIGSYS) {
        let what = args.command[0].to_string_lossy();
        let records = match &mut log {
            Ok(log) => Ok(log.records_of(pid, std::time::Duration::from_millis(500))),
            Err(e) => Err(e.to_string()),
        };
        eprintln!("{}", explain_kill(&what, pid, &records, &name));
    }
    Ok(Outcome::Exit(exit.shell_status().clamp(0, 255) as u8))
}

/// How a command seccheck ran ended, in the one wording `run` and `record`
/// print: `exited with 3`, `was killed by signal 15 (SIGTERM)`, and for
/// `SIGSYS` what sends it (kernel/seccomp.c: `seccomp_send_sigsys` for TRAP,
/// `force_sig_seccomp` for KILL_THREAD and KILL_PROCESS).
pub(super) fn ended(exit: Exit) -> String {
    match exit {
        Exit::Code(c) => format!("exited with {c}"),
        Exit::Signal(s) => {
            // Signal numbers of the host, which is x86-64 where commands run.
            let name = crate::arch::names::arg_names(crate::arch::Arch::X86_64, "kill", 1)
                .and_then(|n| n.value(s as u64, u64::MAX, true))
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            let why = if s == SIGSYS {
                ", which seccomp sends when a filter answers a call with KILL (or TRAP, unhandled)"
            } else {
                ""
            };
            format!("was killed by signal {s}{name}{why}")
        }
    }
}

/// What `run` says when the command died of `SIGSYS`: the call the kernel's
/// audit record names, or why no record names it.
fn explain_kill(
    what: &str,
    pid: i32,
    records: &Result<Vec<crate::kernel::audit::SeccompRecord>, String>,
    profile: &str,
) -> String {
    use crate::arch::Arch;
    use crate::seccomp::Action;
    let mut s = format!("seccheck: {what} (pid {pid}) {}", ended(Exit::Signal(SIGSYS)));
    match records {
        Ok(recs) if !recs.is_empty() => {
            let r = recs.last().expect("not empty");
            let arch = Arch::from_audit(r.arch, r.syscall as u32);
            let call = match (arch, u32::try_from(r.syscall)) {
                (Some(a), Ok(nr)) => match a.syscall_name(nr) {
                    Some(n) => format!("{n} ({} syscall {})", a.name(), r.syscall),
                    None => format!("{} syscall {} (no name on that arch)", a.name(), r.syscall),
                },
                _ => format!("syscall {} on arch {:#x}", r.syscall, r.arch),
            };
            let action = Action::from_ret(r.code);
            s += &format!(
                ".\nThe kernel's audit record (type 1326) names the call: {call} at ip {:#x}, answered {} ({:#010x}).",
                r.ip,
                action.effective().name(),
                r.code
            );
            if recs.len() > 1 {
                s += &format!(" ({} records for pid {pid}; the last is shown.)", recs.len());
            }
        }
        Ok(_) => s += &format!(
            ".\nThe kernel log has no seccomp audit record for pid {pid} (an audit daemon takes them, printk rate limiting drops them, /proc/sys/kernel/seccomp/actions_logged selects the actions logged, and TRAP is logged only for a filter installed with SECCOMP_FILTER_FLAG_LOG: kernel/seccomp.c seccomp_log)."
        ),
        Err(e) => s += &format!(".\nThe kernel log cannot be read (/dev/kmsg: {e}), so the call is not known here."),
    }
    s += &format!("\n`seccheck record --check {profile} -- …` runs the command undisturbed and lists every call the filter would block.");
    s
}

#[cfg(test)]
mod tests {
    use super::{ended, explain_kill};
    use crate::kernel::audit::SeccompRecord;
    use crate::kernel::supervise::Exit;

    #[test]
    fn how_a_command_ended_is_said_one_way() {
        assert_eq!(ended(Exit::Code(0)), "exited with 0");
        assert_eq!(ended(Exit::Signal(15)), "was killed by signal 15 (SIGTERM)");
        assert_eq!(ended(Exit::Signal(9)), "was killed by signal 9 (SIGKILL)");
        assert_eq!(
            ended(Exit::Signal(31)),
            "was killed by signal 31 (SIGSYS), which seccomp sends when a filter answers a call with KILL (or TRAP, unhandled)"
        );
        // A real-time signal has no name of its own here: the number alone.
        assert_eq!(ended(Exit::Signal(40)), "was killed by signal 40");
    }

    fn rec(arch: u32, syscall: i64, code: u32) -> SeccompRecord {
        SeccompRecord { pid: 7, comm: "\"x\"".into(), sig: 31, arch, syscall, ip: 0x40_1000, code }
    }

    #[test]
    fn a_kill_names_the_call_per_abi_or_says_why_it_cannot() {
        let say = |r: Result<Vec<SeccompRecord>, String>| explain_kill("x", 7, &r, "p.json");
        let x86 = say(Ok(vec![rec(0xc000_003e, 102, 0x8000_0000)]));
        assert!(
            x86.contains(
                "names the call: getuid (x86_64 syscall 102) at ip 0x401000, answered KILL_PROCESS (0x80000000)."
            ),
            "{x86}"
        );
        // x32 numbers carry __X32_SYSCALL_BIT; i386 has its own table.
        let x32 = say(Ok(vec![rec(0xc000_003e, 0x4000_0000 + 102, 0)]));
        assert!(x32.contains("getuid (x32 syscall 1073741926)") && x32.contains("KILL_THREAD (0x00000000)"), "{x32}");
        let i386 = say(Ok(vec![rec(0x4000_0003, 24, 0x0003_0000)]));
        assert!(i386.contains("getuid (i386 syscall 24)") && i386.contains("answered TRAP"), "{i386}");
        let unknown = say(Ok(vec![rec(0xc000_003e, 100_000, 0)]));
        assert!(unknown.contains("x86_64 syscall 100000 (no name on that arch)"), "{unknown}");
        let two = say(Ok(vec![rec(0xc000_003e, 1, 0), rec(0xc000_003e, 102, 0)]));
        assert!(two.contains("getuid") && two.contains("(2 records for pid 7; the last is shown.)"), "{two}");
        assert!(say(Ok(vec![])).contains("The kernel log has no seccomp audit record for pid 7"));
        assert!(say(Err("Permission denied".into())).contains("cannot be read (/dev/kmsg: Permission denied)"));
        assert!(
            x86.starts_with("seccheck: x (pid 7) was killed by signal 31 (SIGSYS), which seccomp sends when a filter answers a call with KILL (or TRAP, unhandled)."),
            "{x86}"
        );
        for s in [x86, x32, i386] {
            assert!(s.ends_with("`seccheck record --check p.json -- …` runs the command undisturbed and lists every call the filter would block."));
        }
    }
}
