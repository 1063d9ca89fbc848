//! The kernel's own account of a seccomp kill: the `AUDIT_SECCOMP` record
//! (type 1326, include/uapi/linux/audit.h) that `seccomp_log` emits through
//! `audit_seccomp` (kernel/seccomp.c, kernel/auditsc.c `__audit_seccomp`)
//! when a filter answers KILL_PROCESS, KILL_THREAD or TRAP and the action is
//! in `/proc/sys/kernel/seccomp/actions_logged`. With no audit daemon
//! listening, `kauditd` prints the record to the kernel log, where
//! `/dev/kmsg` reads it back (Documentation/ABI/testing/dev-kmsg).
//!
//! A [`KmsgCursor`] is opened before the command starts, positioned at the
//! log's end, so only records written after that are read; a record is
//! matched by the killed process's pid. Reading is bounded (record count,
//! bytes, and a short wait for `kauditd`, which prints asynchronously).
//! Nothing is guessed: when the log cannot be read, or holds no record for
//! the pid (an audit daemon took it, printk rate limiting dropped it, or
//! `actions_logged` excludes the action), the caller is told so.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

/// What starts a record of type [`crate::uapi::AUDIT_SECCOMP`] in the log.
const MARK: &str = "type=1326 ";

/// Records read per call at most; the kernel log holds a few thousand.
const MAX_RECORDS: usize = 20_000;
/// One `/dev/kmsg` record is at most `CONSOLE_EXT_LOG_MAX` (8 KiB) bytes.
const RECORD_BUF: usize = 8192;

/// One seccomp audit record, as `__audit_seccomp` writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeccompRecord {
    /// `pid=`: the thread group of the task that made the call.
    pub pid: i32,
    /// `comm=`, as printed (quoted, or hex when it has unusual bytes).
    pub comm: String,
    /// `sig=`: the signal the action sends (SIGSYS = 31), 0 for none.
    pub sig: i32,
    /// `arch=`: the call's `AUDIT_ARCH_*` value.
    pub arch: u32,
    /// `syscall=`: the call's number as the filter saw it.
    pub syscall: i64,
    /// `ip=`: the instruction pointer of the call.
    pub ip: u64,
    /// `code=`: the filter's return value (action and data).
    pub code: u32,
}

/// Parse the message part of one kernel log record, if it is a seccomp
/// audit record. Keys are read as whitespace-separated `key=value` tokens:
/// `audit_log_untrustedstring` hex-encodes any value with a space, quote or
/// control byte, so a value never contains another token.
pub fn parse_record(message: &str) -> Option<SeccompRecord> {
    let rest = message.split_once(MARK)?.1;
    let mut rec = SeccompRecord { pid: -1, comm: String::new(), sig: 0, arch: 0, syscall: -1, ip: 0, code: 0 };
    let (mut pid, mut arch, mut syscall, mut code) = (false, false, false, false);
    for tok in rest.split_ascii_whitespace() {
        let Some((k, v)) = tok.split_once('=') else { continue };
        match k {
            "pid" => {
                rec.pid = v.parse().ok()?;
                pid = true;
            }
            "comm" => rec.comm = v.to_string(),
            "sig" => rec.sig = v.parse().ok()?,
            "arch" => {
                rec.arch = u32::from_str_radix(v, 16).ok()?;
                arch = true;
            }
            "syscall" => {
                rec.syscall = v.parse().ok()?;
                syscall = true;
            }
            "ip" => rec.ip = u64::from_str_radix(v.trim_start_matches("0x"), 16).ok()?,
            "code" => {
                rec.code = u32::from_str_radix(v.trim_start_matches("0x"), 16).ok()?;
                code = true;
            }
            _ => {}
        }
    }
    (pid && arch && syscall && code).then_some(rec)
}

/// A read position in the kernel log, taken before the command starts.
pub struct KmsgCursor {
    file: File,
}

impl KmsgCursor {
    /// Open `/dev/kmsg` at its end. `Err` says why the log cannot be read
    /// (not root and `dmesg_restrict` set, no such device in a container…).
    pub fn at_end() -> Result<KmsgCursor, std::io::Error> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open("/dev/kmsg")?;
        // devkmsg_llseek: SEEK_END moves to the record after the last one.
        file.seek(SeekFrom::End(0))?;
        Ok(KmsgCursor { file })
    }

    /// The seccomp records of process `pid` written since the cursor was
    /// placed, waiting up to `wait` for the first one (kauditd prints after
    /// the task is gone).
    pub fn records_of(&mut self, pid: i32, wait: Duration) -> Vec<SeccompRecord> {
        let deadline = Instant::now() + wait;
        let mut found = Vec::new();
        let mut read = 0usize;
        let mut buf = vec![0u8; RECORD_BUF];
        loop {
            match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    read += 1;
                    // "prio,seq,ts,flags;message\n" then continuation lines.
                    let text = String::from_utf8_lossy(&buf[..n]);
                    let message = text.split_once(';').map_or("", |(_, m)| m).lines().next().unwrap_or("");
                    if let Some(rec) = parse_record(message).filter(|r| r.pid == pid) {
                        found.push(rec);
                    }
                    if read >= MAX_RECORDS {
                        break;
                    }
                }
                // Records were overwritten since the last read: go on from the oldest left.
                Err(e) if e.kind() == ErrorKind::BrokenPipe => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if !found.is_empty() || Instant::now() >= deadline {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => break,
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_is_the_uapi_record_type() {
        assert_eq!(MARK, format!("type={} ", crate::uapi::AUDIT_SECCOMP));
    }

    #[test]
    fn parses_the_record_kauditd_prints() {
        let m = "audit: type=1326 audit(1796614281.527:109912): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=21414 comm=\"busybox\" exe=\"/usr/bin/busybox\" sig=31 arch=c000003e syscall=102 compat=0 ip=0x462147 code=0x80000000";
        assert_eq!(
            parse_record(m),
            Some(SeccompRecord {
                pid: 21414,
                comm: "\"busybox\"".into(),
                sig: 31,
                arch: 0xc000_003e,
                syscall: 102,
                ip: 0x462147,
                code: 0x8000_0000
            })
        );
    }

    #[test]
    fn other_records_and_broken_ones_are_not_read_as_kills() {
        assert_eq!(parse_record("audit: type=1400 audit(1:2): pid=5 arch=c000003e syscall=1 code=0x0"), None);
        assert_eq!(parse_record("audit: type=1326 audit(1:2): pid=x arch=c000003e syscall=1 code=0x0"), None);
        assert_eq!(parse_record("audit: type=1326 audit(1:2): pid=5 syscall=1 code=0x0"), None);
        assert_eq!(parse_record("usb 1-1: new device"), None);
        // A key inside another value cannot occur (hex-encoded), and a
        // similar key (ppid, auid) is not pid.
        let r =
            parse_record("audit: type=1326 audit(1:2): ppid=9 auid=7 pid=5 arch=40000003 syscall=-1 code=0x0").unwrap();
        assert_eq!((r.pid, r.arch, r.syscall), (5, 0x4000_0003, -1));
    }
}
