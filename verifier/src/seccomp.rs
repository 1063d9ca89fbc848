//! The seccomp ABI: the input record a filter reads and the actions it returns.
//!
//! Constants come from `include/uapi/linux/seccomp.h` (written once, in
//! [`crate::uapi`], and re-exported here); the meaning of a return
//! value follows `__seccomp_filter` and `seccomp_run_filters` in `kernel/seccomp.c`.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::uapi::{
    AUDIT_ARCH_X86_64, SECCOMP_DATA_ARCH, SECCOMP_DATA_INSTRUCTION_POINTER, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE,
};
pub use crate::uapi::{
    SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS,
    SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF,
};

/// `MAX_ERRNO` (include/linux/err.h): `__seccomp_filter` caps ERRNO data at it.
pub const MAX_ERRNO: u32 = 4095;

/// `struct seccomp_data` (include/uapi/linux/seccomp.h), 64 bytes:
/// `int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6];`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct SeccompData {
    pub nr: u32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

pub use crate::uapi::AUDIT_ARCH_LE;

impl SeccompData {
    /// The 32-bit word a `BPF_LD|BPF_W|BPF_ABS` at byte offset `off` reads.
    ///
    /// The kernel hands the filter its own in-memory `struct seccomp_data`
    /// (`populate_seccomp_data`, kernel/seccomp.c), so a 64-bit field's low half
    /// sits at the lower offset on little-endian machines and at the higher one on
    /// big-endian machines. The machine's byte order is the `__AUDIT_ARCH_LE` bit of
    /// `arch` (every AUDIT_ARCH value the kernel reports carries it correctly).
    /// `off` must be a multiple of 4 below 64 (guaranteed for validated programs).
    pub fn word(&self, off: u32) -> u32 {
        debug_assert!(off < SECCOMP_DATA_SIZE && off.is_multiple_of(4));
        match off {
            SECCOMP_DATA_NR => self.nr,
            SECCOMP_DATA_ARCH => self.arch,
            _ => {
                // The 64-bit fields: instruction_pointer, then args[0..6].
                let field = (off - SECCOMP_DATA_INSTRUCTION_POINTER) / 8;
                let v = if field == 0 { self.instruction_pointer } else { self.args[field as usize - 1] };
                let low_first = self.arch & AUDIT_ARCH_LE != 0;
                let high = ((off - SECCOMP_DATA_INSTRUCTION_POINTER) % 8 == 4) == low_first;
                if high {
                    (v >> 32) as u32
                } else {
                    v as u32
                }
            }
        }
    }

    /// The 64 bytes as the kernel lays them out for this record's byte order.
    pub fn to_bytes(&self) -> [u8; SECCOMP_DATA_SIZE as usize] {
        let mut out = [0u8; SECCOMP_DATA_SIZE as usize];
        for off in (0..SECCOMP_DATA_SIZE as usize).step_by(4) {
            let w = self.word(off as u32);
            let b = if self.arch & AUDIT_ARCH_LE != 0 { w.to_le_bytes() } else { w.to_be_bytes() };
            out[off..off + 4].copy_from_slice(&b);
        }
        out
    }
}

/// x86-64 `__NR_uretprobe` and `__NR_uprobe` (arch/x86/entry/syscalls/syscall_64.tbl).
pub const X86_64_UPROBE_SYSCALLS: [u32; 2] = [335, 336];

/// Does the kernel skip every seccomp filter for this system call?
///
/// `seccomp_uprobe_exception` (kernel/seccomp.c): `uretprobe` and `uprobe`
/// are issued by the kernel's own uprobe trampolines, so on the native arch
/// (`sd->arch == SECCOMP_ARCH_NATIVE`, x86-64 only; x32 numbers carry
/// `__X32_SYSCALL_BIT` and never match) `seccomp_is_const_allow` returns true
/// before looking at the filter. Every filter's action-cache bitmap therefore
/// has the bit set and `seccomp_cache_check_allow` lets the call through
/// whatever the filters say. `uretprobe` since commit cf6cb56ef244 ("seccomp:
/// passthrough uretprobe systemcall without filtering", Linux 6.14, backported
/// to stable), `uprobe` since "seccomp: passthrough uprobe systemcall without
/// filtering" (Linux 6.18). Called from anywhere but a trampoline, both only
/// raise SIGILL (`SYSCALL_DEFINE0(uretprobe)`, `SYSCALL_DEFINE0(uprobe)`,
/// arch/x86/kernel/uprobes.c), so the exemption grants nothing else.
/// Measured on this machine kind (Linux 6.18): both run under a filter that
/// kills everything.
pub fn filters_bypassed(d: &SeccompData) -> bool {
    d.arch == AUDIT_ARCH_X86_64 && X86_64_UPROBE_SYSCALLS.contains(&d.nr)
}

/// What the field at a byte offset of `struct seccomp_data` is, for listings.
pub fn describe_offset(off: u32, little_endian: bool) -> String {
    match off {
        SECCOMP_DATA_NR => "nr".into(),
        SECCOMP_DATA_ARCH => "arch".into(),
        SECCOMP_DATA_INSTRUCTION_POINTER..SECCOMP_DATA_SIZE => {
            let field = (off - SECCOMP_DATA_INSTRUCTION_POINTER) / 8;
            let low = (off - SECCOMP_DATA_INSTRUCTION_POINTER).is_multiple_of(8) == little_endian;
            let half = if low { "low" } else { "high" };
            if field == 0 {
                format!("instruction_pointer {half}")
            } else {
                format!("arg{} {half}", field - 1)
            }
        }
        _ => format!("offset {off}"),
    }
}

/// The action a return value selects, with its data where the kernel uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    KillProcess,
    KillThread,
    Trap(u16),
    /// The errno the syscall fails with, already capped at `MAX_ERRNO`.
    Errno(u16),
    UserNotif,
    Trace(u16),
    Log,
    Allow,
    /// An action value the kernel does not know. `__seccomp_filter` treats it like
    /// `KILL_PROCESS` (its `default:` case), but stacking ranks it by its value.
    Unknown(u32),
}

/// The three classes of action a property or a lint talks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionClass {
    /// KILL_*, TRAP, ERRNO: the syscall does not run.
    Denied,
    /// ALLOW, LOG: the syscall runs.
    Runs,
    /// USER_NOTIF, TRACE: a supervisor or tracer decides.
    Delegated,
}

impl ActionClass {
    /// The class of the action the kernel carries out for `a` (unknown values kill).
    pub fn of(a: Action) -> ActionClass {
        match a.effective() {
            Action::KillProcess | Action::KillThread | Action::Trap(_) | Action::Errno(_) | Action::Unknown(_) => {
                ActionClass::Denied
            }
            Action::Allow | Action::Log => ActionClass::Runs,
            Action::UserNotif | Action::Trace(_) => ActionClass::Delegated,
        }
    }
}

impl Action {
    /// Decode a filter's 32-bit return value as `__seccomp_filter` does.
    pub fn from_ret(ret: u32) -> Action {
        let data = ret & SECCOMP_RET_DATA;
        match ret & SECCOMP_RET_ACTION_FULL {
            SECCOMP_RET_KILL_PROCESS => Action::KillProcess,
            SECCOMP_RET_KILL_THREAD => Action::KillThread,
            SECCOMP_RET_TRAP => Action::Trap(data as u16),
            SECCOMP_RET_ERRNO => Action::Errno(data.min(MAX_ERRNO) as u16),
            SECCOMP_RET_USER_NOTIF => Action::UserNotif,
            SECCOMP_RET_TRACE => Action::Trace(data as u16),
            SECCOMP_RET_LOG => Action::Log,
            SECCOMP_RET_ALLOW => Action::Allow,
            other => Action::Unknown(other),
        }
    }

    /// The action the kernel actually carries out: unknown values kill the process.
    pub fn effective(self) -> Action {
        match self {
            Action::Unknown(_) => Action::KillProcess,
            a => a,
        }
    }

    /// The action part as a 32-bit value (`SECCOMP_RET_ACTION_FULL` bits).
    pub fn action_bits(self) -> u32 {
        match self {
            Action::KillProcess => SECCOMP_RET_KILL_PROCESS,
            Action::KillThread => SECCOMP_RET_KILL_THREAD,
            Action::Trap(_) => SECCOMP_RET_TRAP,
            Action::Errno(_) => SECCOMP_RET_ERRNO,
            Action::UserNotif => SECCOMP_RET_USER_NOTIF,
            Action::Trace(_) => SECCOMP_RET_TRACE,
            Action::Log => SECCOMP_RET_LOG,
            Action::Allow => SECCOMP_RET_ALLOW,
            Action::Unknown(v) => v,
        }
    }

    /// Precedence rank as `seccomp_run_filters` compares them:
    /// `ACTION_ONLY(ret)` is the action bits read as a signed 32-bit number, and
    /// the lowest wins across stacked filters.
    pub fn precedence(self) -> i32 {
        self.action_bits() as i32
    }

    /// The data the kernel passes on (errno, trap `si_errno`, trace message).
    pub fn data(self) -> Option<u16> {
        match self {
            Action::Trap(d) | Action::Errno(d) | Action::Trace(d) => Some(d),
            _ => None,
        }
    }

    /// Upper-case kernel name without `SECCOMP_RET_`.
    pub fn name(self) -> &'static str {
        match self {
            Action::KillProcess => "KILL_PROCESS",
            Action::KillThread => "KILL_THREAD",
            Action::Trap(_) => "TRAP",
            Action::Errno(_) => "ERRNO",
            Action::UserNotif => "USER_NOTIF",
            Action::Trace(_) => "TRACE",
            Action::Log => "LOG",
            Action::Allow => "ALLOW",
            Action::Unknown(_) => "UNKNOWN",
        }
    }
}

/// JSON form: `{"action":"ERRNO","data":1}`; `data` is 0 for actions without
/// data, and unknown actions also carry their raw `value`.
impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let unknown = matches!(self, Action::Unknown(_));
        let mut st = s.serialize_struct("Action", if unknown { 3 } else { 2 })?;
        st.serialize_field("action", self.name())?;
        st.serialize_field("data", &self.data().unwrap_or(0))?;
        if let Action::Unknown(v) = self {
            st.serialize_field("value", v)?;
        }
        st.end()
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Action::Trap(d) | Action::Trace(d) => write!(f, "{}({d})", self.name()),
            Action::Errno(d) => match errno_name(d) {
                Some(n) => write!(f, "ERRNO({d}) {n}"),
                None => write!(f, "ERRNO({d})"),
            },
            Action::Unknown(v) => write!(f, "UNKNOWN({v:#010x}) acts as KILL_PROCESS"),
            a => f.write_str(a.name()),
        }
    }
}

/// Symbolic name of an errno value on Linux (include/uapi/asm-generic/errno-base.h, errno.h).
pub fn errno_name(e: u16) -> Option<&'static str> {
    const NAMES: [&str; 41] = [
        "",
        "EPERM",
        "ENOENT",
        "ESRCH",
        "EINTR",
        "EIO",
        "ENXIO",
        "E2BIG",
        "ENOEXEC",
        "EBADF",
        "ECHILD",
        "EAGAIN",
        "ENOMEM",
        "EACCES",
        "EFAULT",
        "ENOTBLK",
        "EBUSY",
        "EEXIST",
        "EXDEV",
        "ENODEV",
        "ENOTDIR",
        "EISDIR",
        "EINVAL",
        "ENFILE",
        "EMFILE",
        "ENOTTY",
        "ETXTBSY",
        "EFBIG",
        "ENOSPC",
        "ESPIPE",
        "EROFS",
        "EMLINK",
        "EPIPE",
        "EDOM",
        "ERANGE",
        "EDEADLK",
        "ENAMETOOLONG",
        "ENOLCK",
        "ENOSYS",
        "ENOTEMPTY",
        "ELOOP",
    ];
    match e {
        1..=40 => Some(NAMES[e as usize]),
        95 => Some("EOPNOTSUPP"),
        _ => None,
    }
}

/// Parse an errno name (`EPERM`) back to its number.
pub fn errno_from_name(name: &str) -> Option<u16> {
    (1..=4095u16).find(|&e| errno_name(e) == Some(name))
}

/// `MAX_INSNS_PER_PATH` (kernel/seccomp.c): `(1 << 18) / sizeof(struct
/// sock_filter)` = 32768 instructions on any path through a filter tree.
pub const MAX_INSNS_PER_PATH: usize = 32768;
/// What `seccomp_attach_filter` adds for every filter already attached
/// (`walker->prog->len + 4; /* 4 instr penalty */`).
pub const FILTER_PENALTY: usize = 4;

/// The kernel's rule for stacking filters, as one sentence for people.
pub const PATH_RULE: &str = "the kernel (seccomp_attach_filter, kernel/seccomp.c) refuses to attach a filter \
with ENOMEM when its converted (eBPF) length plus, for every filter already attached, that filter's converted \
length + 4 exceeds MAX_INSNS_PER_PATH (32768)";

/// The length check of `seccomp_attach_filter` (kernel/seccomp.c) over a
/// stack of filters, installed oldest first:
///
/// ```text
/// total_insns = filter->prog->len;
/// for (walker = current->seccomp.filter; walker; walker = walker->prev)
///     total_insns += walker->prog->len + 4;  /* 4 instr penalty */
/// if (total_insns > MAX_INSNS_PER_PATH)
///     return -ENOMEM;
/// ```
///
/// `prog->len` is the converted length ([`crate::bpf::converted_len`]).
/// Every converted filter has at least 4 instructions, so the totals grow
/// with each filter: a stack installs exactly when its newest filter's total
/// is within the limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathLength {
    /// Converted length of each filter, oldest first.
    pub lengths: Vec<usize>,
    /// `total_insns` when each filter is attached on top of the ones before it.
    pub totals: Vec<usize>,
    /// `MAX_INSNS_PER_PATH`.
    pub limit: usize,
    /// The longest converted filter one more attach would accept
    /// (`limit - Σ (length + 4)`); 0 when none, or when the stack itself is refused.
    pub room: usize,
    /// Index (oldest = 0) of the first filter the kernel refuses, if any.
    pub refused: Option<usize>,
}

impl PathLength {
    /// The check over `lengths` (converted lengths, oldest first).
    pub fn new(lengths: Vec<usize>) -> PathLength {
        let mut below = 0usize;
        let mut totals = Vec::with_capacity(lengths.len());
        for &len in &lengths {
            totals.push(below.saturating_add(len));
            below = below.saturating_add(len).saturating_add(FILTER_PENALTY);
        }
        let refused = totals.iter().position(|&t| t > MAX_INSNS_PER_PATH);
        let room = if refused.is_some() { 0 } else { MAX_INSNS_PER_PATH.saturating_sub(below) };
        PathLength { lengths, totals, limit: MAX_INSNS_PER_PATH, room, refused }
    }

    /// The total of the newest filter (0 for an empty stack).
    pub fn total(&self) -> usize {
        self.totals.last().copied().unwrap_or(0)
    }

    /// By how much the first refused filter's total exceeds the limit.
    pub fn excess(&self) -> Option<usize> {
        self.refused.map(|i| self.totals[i] - self.limit)
    }

    /// One line per filter: its converted length and the total the kernel
    /// checks when attaching it, marked where it is refused. `names[i]` names
    /// filter `i`.
    pub fn per_filter_lines(&self, names: &[String]) -> Vec<String> {
        self.lengths
            .iter()
            .zip(&self.totals)
            .enumerate()
            .map(|(i, (len, total))| {
                let name = names.get(i).map(String::as_str).unwrap_or("?");
                let verdict = if *total > self.limit { "  > 32768: refused (ENOMEM)" } else { "" };
                format!("filter {} ({name}): converted length {len}, total when attached {total}{verdict}", i + 1)
            })
            .collect()
    }

    /// The one-line summary of an installable stack: total and room left.
    pub fn summary(&self) -> String {
        format!(
            "path length: {} of {} converted instructions (MAX_INSNS_PER_PATH, each older filter counting its length + 4); \
             one more filter may have at most {} converted instructions",
            self.total(),
            self.limit,
            self.room
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_actions_like_the_kernel() {
        assert_eq!(Action::from_ret(0x7fff_0000), Action::Allow);
        assert_eq!(Action::from_ret(0x0005_0001), Action::Errno(1));
        assert_eq!(Action::from_ret(0x0005_ffff), Action::Errno(4095));
        assert_eq!(Action::from_ret(0x8000_0005), Action::KillProcess);
        assert_eq!(Action::from_ret(0), Action::KillThread);
        assert_eq!(Action::from_ret(0x0004_0000), Action::Unknown(0x0004_0000));
        assert_eq!(Action::from_ret(0x0004_0000).effective(), Action::KillProcess);
        assert_eq!(Action::Errno(1).to_string(), "ERRNO(1) EPERM");
    }

    #[test]
    fn precedence_is_signed_action_order() {
        let order = [
            Action::KillProcess,
            Action::Unknown(0x9000_0000),
            Action::KillThread,
            Action::Trap(0),
            Action::Errno(0),
            Action::UserNotif,
            Action::Trace(0),
            Action::Log,
            Action::Allow,
        ];
        for w in order.windows(2) {
            assert!(w[0].precedence() < w[1].precedence(), "{:?} < {:?}", w[0], w[1]);
        }
    }

    #[test]
    fn word_layout_follows_arch_endianness() {
        let d = SeccompData {
            nr: 1,
            arch: 0xc000_003e, // AUDIT_ARCH_X86_64 (LE)
            instruction_pointer: 0x1111_2222_3333_4444,
            args: [0xaaaa_bbbb_cccc_dddd, 0, 0, 0, 0, 0x5555_6666_7777_8888],
        };
        assert_eq!(d.word(8), 0x3333_4444);
        assert_eq!(d.word(12), 0x1111_2222);
        assert_eq!(d.word(16), 0xcccc_dddd);
        assert_eq!(d.word(20), 0xaaaa_bbbb);
        assert_eq!(d.word(60), 0x5555_6666);
        let be = SeccompData { arch: 0x8000_0016, ..d }; // AUDIT_ARCH_S390X (BE)
        assert_eq!(be.word(16), 0xaaaa_bbbb);
        assert_eq!(be.word(20), 0xcccc_dddd);
        assert_eq!(describe_offset(16, true), "arg0 low");
        assert_eq!(describe_offset(16, false), "arg0 high");
    }

    #[test]
    fn path_length_follows_seccomp_attach_filter() {
        // Three filters of 4096 `ret`s (3 + 2 * 4096 = 8195 each): measured
        // on Linux 6.18, a fourth of 4084 `ret`s (8171) attaches, 4085 (8173)
        // is refused.
        let filler = 3 + 2 * 4096;
        let ok = PathLength::new(vec![filler, filler, filler, 3 + 2 * 4084]);
        assert_eq!(ok.totals, vec![8195, 8195 + 8199, 8195 + 2 * 8199, 3 * 8199 + 8171]);
        assert_eq!(ok.total(), 32768);
        assert_eq!((ok.refused, ok.excess(), ok.room), (None, None, 0));
        let no = PathLength::new(vec![filler, filler, filler, 3 + 2 * 4085]);
        assert_eq!((no.refused, no.excess()), (Some(3), Some(2)));
        let one = PathLength::new(vec![5]);
        assert_eq!(one.room, 32768 - 9);
        assert_eq!(PathLength::new(vec![]).room, 32768);
        // Refused filters make the whole stack refused at the first one.
        let many = PathLength::new(vec![filler; 5]);
        assert_eq!(many.refused, Some(3));
        assert!(many.per_filter_lines(&[]).iter().filter(|l| l.contains("refused")).count() == 2);
    }
}
