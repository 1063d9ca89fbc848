//! Stage 3: runc's rule loop with the real libseccomp, `libcontainer/seccomp/seccomp_linux.go`
//! (`InitSeccomp`, `getAction`, `matchCall`): the filter context, its arches
//! and attributes, one `seccomp_rule_add` per syscall name (rules whose action
//! is the default and names libseccomp does not know are skipped, as runc does),
//! then `seccomp_export_bpf`. Bounded in time by `--libseccomp-timeout`.

use super::super::value::display_path;
use super::super::{Note, NoteKind, SourceError};
use super::runc::{scmp_arch_of, scmp_compare, RuncAction, RuncConfig, FLAG_LOG, FLAG_SPEC_ALLOW};
use super::{DockerOptions, Optimize, SLOW_RULES_NOTE};
use crate::arch::Arch;
use crate::bpf::{decode, ByteOrder, Program};
use libseccomp::{ScmpAction, ScmpArch, ScmpFilterContext, ScmpSyscall};
use std::io::{Read, Seek};

/// runc's `getAction`: ERRNO/TRACE data is `int16(*errnoRet)` or EPERM.
pub(super) fn scmp_action(a: RuncAction, errno_ret: Option<u64>) -> ScmpAction {
    let data = errno_ret.map_or(libc::EPERM as u16, |e| e as u16);
    match a {
        RuncAction::Kill | RuncAction::KillThread => ScmpAction::KillThread,
        RuncAction::KillProcess => ScmpAction::KillProcess,
        RuncAction::Errno => ScmpAction::Errno(i32::from(data)),
        RuncAction::Trap => ScmpAction::Trap,
        RuncAction::Allow => ScmpAction::Allow,
        RuncAction::Trace => ScmpAction::Trace(data),
        RuncAction::Log => ScmpAction::Log,
        RuncAction::Notify => ScmpAction::Notify,
    }
}

/// The linked libseccomp's version, as it reports it (`seccomp_version`).
pub fn libseccomp_version() -> String {
    match libseccomp::ScmpVersion::current() {
        Ok(v) => format!("{}.{}.{}", v.major, v.minor, v.micro),
        Err(_) => "(unknown version)".into(),
    }
}

/// A file for `seccomp_export_bpf` to write the program into (libseccomp
/// 2.5 exports only to a descriptor): an anonymous memory file
/// (`memfd_create(2)`), so exporting touches no disk and leaves no name. A
/// temporary file on disk cost the generator fuzzer an inode allocation per
/// compilation, about a tenth of its time on small rule sets.
pub fn export_file() -> std::io::Result<std::fs::File> {
    let fd = rustix::fs::memfd_create("seccomp-export", rustix::fs::MemfdFlags::CLOEXEC)?;
    Ok(std::fs::File::from(fd))
}

pub(super) fn errno_name_meaning(e: &libseccomp::error::SeccompError) -> (String, String) {
    use libseccomp::error::SeccompErrno as E;
    match e.errno() {
        Some(E::EEXIST) => ("-EEXIST".into(), "a rule for the same syscall with the same argument conditions and a different action already exists".into()),
        Some(E::EACCES) => ("-EACCES".into(), "the rule's action is the filter's default action".into()),
        Some(E::EINVAL) => ("-EINVAL".into(), "libseccomp finds the action, the syscall or a condition invalid (e.g. an errno of 4095 or more, or two conditions on one argument)".into()),
        Some(E::EDOM) => ("-EDOM".into(), "the syscall cannot be filtered on one of the filter's architectures".into()),
        Some(E::EFAULT) => ("-EFAULT".into(), "the syscall number is not known on one of the filter's architectures".into()),
        Some(E::ENOMEM) => ("-ENOMEM".into(), "libseccomp ran out of memory".into()),
        Some(other) => (format!("-{other:?}"), other.to_string()),
        None => ("error".into(), e.to_string()),
    }
}

pub(super) fn lib_err(path: &str, operation: &'static str, e: impl std::fmt::Display) -> SourceError {
    SourceError::Libseccomp { path: display_path(path), operation, message: e.to_string() }
}

pub(super) struct Built {
    pub(super) raw: Program,
    /// How long the `seccomp_rule_add` calls took.
    pub(super) rule_time: std::time::Duration,
    /// ABIs in the filter, in the order they were added.
    pub(super) arches: Vec<Arch>,
    pub(super) optimize: u32,
}

/// [`build_libseccomp`], on a worker thread when `opts.libseccomp_timeout`
/// is set, waiting at most that long. A libseccomp call cannot be
/// interrupted, so on a timeout the worker is left running: the caller
/// reports the error and ends (the CLI exits 2).
pub(super) fn build_within_deadline(
    config: RuncConfig,
    path: &str,
    opts: &DockerOptions,
    notes: &mut Vec<Note>,
) -> Result<(RuncConfig, Built), SourceError> {
    let Some(limit) = opts.libseccomp_timeout else {
        let built = build_libseccomp(&config, path, opts, notes)?;
        return Ok((config, built));
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let (root, o) = (path.to_owned(), opts.clone());
    let worker = std::thread::Builder::new()
        .name("libseccomp".into())
        // libseccomp recurses over its rule trees: give it what the main
        // thread would have (its default is 2 MiB).
        .stack_size(64 << 20)
        .spawn(move || {
            let mut notes = Vec::new();
            let built = build_libseccomp(&config, &root, &o, &mut notes);
            // The receiver is gone only after a timeout; nothing to tell then.
            let _ = tx.send((config, notes, built));
        })
        .map_err(|e| SourceError::Libseccomp {
            path: display_path(path),
            operation: "start building the filter",
            message: e.to_string(),
        })?;
    match rx.recv_timeout(limit) {
        Ok((config, more, built)) => {
            let _ = worker.join();
            notes.extend(more);
            Ok((config, built?))
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(SourceError::GeneratorTimeout {
            path: path.to_owned(),
            generator: format!("libseccomp {}", libseccomp_version()),
            seconds: limit.as_secs_f64(),
        }),
        // The worker panicked (a bug in seccheck, not bad input): go on
        // panicking here.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends before it ends"),
        },
    }
}

pub(super) fn build_libseccomp(
    c: &RuncConfig,
    root: &str,
    opts: &DockerOptions,
    notes: &mut Vec<Note>,
) -> Result<Built, SourceError> {
    let path_of = |k: &str| {
        if root.is_empty() {
            k.to_owned()
        } else {
            format!("{root}.{k}")
        }
    };
    let def_act = scmp_action(c.default_action, c.default_errno_ret);
    for s in &c.syscalls {
        if s.action == RuncAction::Notify && s.name == "write" {
            return Err(SourceError::Refused {
                path: s.name_path.clone(),
                message: "SCMP_ACT_NOTIFY cannot be used for the write syscall (runc: it needs write to hand the listener fd over)".into(),
            });
        }
    }
    if def_act == ScmpAction::Notify {
        return Err(SourceError::Refused {
            path: path_of("defaultAction"),
            message: "SCMP_ACT_NOTIFY cannot be used as default action (runc)".into(),
        });
    }
    let mut ctx = ScmpFilterContext::new(def_act).map_err(|e| {
        lib_err(&path_of("defaultAction"), "create the filter (seccomp_init) with this default action", e)
    })?;
    let mut arches = vec![opts.host_arch];
    let host_scmp = scmp_arch_of(opts.host_arch).ok_or_else(|| SourceError::Refused {
        path: display_path(root),
        message: format!("{} is not an arch runc supports", opts.host_arch),
    })?;
    if host_scmp != ScmpArch::native() {
        // The real native arch goes first: libseccomp refuses an arch of the
        // other byte order beside it (a big-endian host on this machine).
        ctx.remove_arch(ScmpArch::Native).map_err(|e| lib_err(root, "remove the real native arch", e))?;
        ctx.add_arch(host_scmp).map_err(|e| lib_err(root, "add the emulated host arch", e))?;
    }
    for (tok, arch, path) in &c.architectures {
        ctx.add_arch(*tok).map_err(|e| lib_err(path, "add this architecture", e))?;
        if !arches.contains(arch) {
            arches.push(*arch);
        }
    }
    for f in &c.flags {
        let r = match *f {
            FLAG_LOG => ctx.set_ctl_log(true).map(|_| ()),
            FLAG_SPEC_ALLOW => ctx.set_ctl_ssb(true).map(|_| ()),
            _ => Ok(()),
        };
        r.map_err(|e| lib_err(&path_of("flags"), "set the filter flag", e))?;
    }
    let optimize = match opts.optimize {
        Optimize::Runc if c.syscalls.len() > 32 => 2,
        Optimize::Runc | Optimize::Linear => 1,
        Optimize::BinaryTree => 2,
    };
    if optimize != 1 || opts.optimize == Optimize::Linear {
        ctx.set_ctl_optimize(optimize).map_err(|e| lib_err(root, "set SCMP_FLTATR_CTL_OPTIMIZE", e))?;
    }
    ctx.set_ctl_nnp(false).map_err(|e| lib_err(root, "clear the no-new-privs attribute", e))?;

    let adding = std::time::Instant::now();
    for s in &c.syscalls {
        if s.name.is_empty() {
            return Err(SourceError::Refused {
                path: s.name_path.clone(),
                message: "empty string is not a valid syscall (runc)".into(),
            });
        }
        let act = scmp_action(s.action, s.errno_ret);
        if act == def_act {
            notes.push(Note {
                path: s.name_path.clone(),
                kind: NoteKind::RuleDropped,
                message: format!(
                    "`{}` {} rule dropped: its action equals defaultAction, and runc skips such rules silently{}",
                    s.name,
                    s.action_name,
                    if s.args.is_empty() {
                        String::new()
                    } else {
                        " (its argument conditions are lost with it)".into()
                    }
                ),
            });
            continue;
        }
        // libseccomp-golang passes the name as a C string: it ends at a NUL.
        let cname = s.name.split('\0').next().unwrap_or("");
        let Ok(nr) = ScmpSyscall::from_name(cname) else {
            notes.push(Note {
                path: s.name_path.clone(),
                kind: NoteKind::UnknownSyscall,
                message: format!(
                    "`{}` is not a syscall libseccomp {} knows: runc ignores it",
                    s.name,
                    libseccomp_version()
                ),
            });
            continue;
        };
        let refused = |e: libseccomp::error::SeccompError| {
            let (errno, meaning) = errno_name_meaning(&e);
            SourceError::RuleRefused {
                path: s.rule_path.clone(),
                syscall: s.name.clone(),
                action: s.action_name.clone(),
                errno,
                meaning,
            }
        };
        if s.args.is_empty() {
            ctx.add_rule(act, nr).map_err(refused)?;
            continue;
        }
        let mut counts = [0u32; 6];
        let mut conds = Vec::new();
        for (path, index, value, value_two, op) in &s.args {
            if *index > 5 {
                return Err(SourceError::Refused {
                    path: format!("{path}.index"),
                    message: format!(
                        "syscalls only have up to 6 arguments (index {index} given); runc refuses the rule for `{}`",
                        s.name
                    ),
                });
            }
            counts[*index as usize] += 1;
            conds.push(scmp_compare(op, *index as u32, *value, *value_two).expect("operator checked in specconv"));
        }
        if counts.iter().any(|&n| n > 1) {
            for cond in conds {
                ctx.add_rule_conditional(act, nr, &[cond]).map_err(refused)?;
            }
        } else {
            ctx.add_rule_conditional(act, nr, &conds).map_err(refused)?;
        }
    }
    let rule_time = adding.elapsed();
    if rule_time >= SLOW_RULES_NOTE {
        notes.push(Note {
            path: display_path(root),
            kind: NoteKind::SlowGenerator,
                message: format!(
                "libseccomp {} took {:.1} s to add these rules, and runc spends as long at every container start (some rule sets take it hours: seccheck's reports/generator-findings.md, L5)",
                libseccomp_version(),
                rule_time.as_secs_f64()
            ),
        });
    }
    if c.syscalls.iter().any(|s| s.action == RuncAction::Notify) && c.listener_path.is_empty() {
        return Err(SourceError::Refused {
            path: path_of("listenerPath"),
            message: "the profile has SCMP_ACT_NOTIFY rules but no listenerPath: runc fails with \"seccomp listenerPath is not set\"".into(),
        });
    }
    let mut file = export_file().map_err(|source| SourceError::Io { file: "(memory file)".into(), source })?;
    ctx.export_bpf(&file).map_err(|e| lib_err(root, "export the BPF program", e))?;
    let mut bytes = Vec::new();
    file.rewind()
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|source| SourceError::Io { file: "(memory file)".into(), source })?;
    // seccomp_export_bpf writes `struct sock_filter`s in the filter's byte
    // order, the arches' (gen_bpf.c converts every field with `_htot16`/
    // `_htot32`), so that the target can load them as they are.
    let order = if opts.host_arch.little_endian() { ByteOrder::Little } else { ByteOrder::Big };
    let raw = decode(&bytes, order)?;
    Ok(Built { raw, rule_time, arches, optimize })
}
