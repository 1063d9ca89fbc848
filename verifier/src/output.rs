//! The one way seccheck writes files: every command that writes goes through
//! [`Outputs`], so the same rules hold for all of them.
//!
//! seccheck runs as root in CI and on shared hosts, on files from strangers,
//! often in directories others can write. A plain `fs::write` there follows a
//! symlink planted at the output path (root then rewrites whatever it points
//! to), silently replaces the input it just read (`generate t.json -o t.json`
//! lost the trace and still said "verified"), and a default name overwrites a
//! file the user never mentioned (`record` without `-o` replaced
//! `./trace.json`). So:
//!
//! - an output that is one of the command's inputs (same device and inode,
//!   with or without following a link at either) is refused, and so are two
//!   outputs of one command that are the same file;
//! - an output the user did not name (a default) never replaces an existing
//!   file, not even one created while the command ran;
//! - a file is never written in place: its bytes go to a new temporary file
//!   in the same directory (created exclusively, mode 0644 less the umask),
//!   which is then renamed over the target. A link at the target is replaced,
//!   never followed; readers see the old file or the whole new one, never a
//!   part; on any error the temporary file is removed. The one exception is a
//!   character device the user names (`-o /dev/null`), written into; a link
//!   to one, a FIFO, a socket, or a link to a descriptor (`/dev/stdout`,
//!   `/dev/fd/N`) is refused;
//! - an output directory (`pid --dump`, `bench --report`,
//!   `fuzz-generator --out`) is created if missing, refused if it is a link,
//!   and written through the descriptor opened then, so swapping it for a
//!   link later changes nothing; each file in it is written as above.
//!
//! Refusals are [`OutputError`]s naming the path and why; the CLI exits 2.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why an output was refused or could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {msg}")]
pub struct OutputError {
    /// The path as the user gave it (or DIR/NAME for a file in a directory).
    pub path: String,
    pub msg: String,
}

fn err(path: &Path, msg: impl Into<String>) -> OutputError {
    OutputError { path: path.display().to_string(), msg: msg.into() }
}

/// Device and inode: what makes two paths the same file.
type FileId = (u64, u64);

fn id(m: &std::fs::Metadata) -> FileId {
    (m.dev(), m.ino())
}

/// The file at `path` and, when it is a link, the file it leads to.
fn ids(path: &Path) -> Vec<FileId> {
    let mut v: Vec<FileId> = std::fs::symlink_metadata(path).iter().map(id).collect();
    if let Ok(m) = std::fs::metadata(path) {
        if !v.contains(&id(&m)) {
            v.push(id(&m));
        }
    }
    v
}

/// A directory's id and a file name in it.
type Place = (FileId, std::ffi::OsString);

/// Whether the user named an output or seccheck chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// Given on the command line: replaced if it exists.
    ByUser,
    /// A default: never replaces an existing file; `hint` says how to choose.
    Default { hint: &'static str },
}

/// The inputs of one command and the outputs it has claimed so far.
#[derive(Debug, Default)]
pub struct Outputs {
    inputs: Vec<(PathBuf, Vec<FileId>)>,
    /// Each claimed output: its path, its ids if it exists, and its
    /// directory's id with its file name (which identify it before it exists).
    claimed: Vec<(PathBuf, Vec<FileId>, Option<Place>)>,
}

impl Outputs {
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// Remember a file the command reads (`-` is standard input, skipped), so
    /// no output replaces it. A path that does not exist is no input.
    /// `BINARY#N` (a filter inside an ELF file, when no file has that
    /// name; see `sources::read_file`) is the file BINARY.
    pub fn input(&mut self, path: &Path) -> &mut Outputs {
        if path.as_os_str() == "-" {
            return self;
        }
        let mut found = ids(path);
        let mut path = path.to_path_buf();
        if found.is_empty() {
            if let Some((base, n)) = path.to_str().and_then(|s| s.rsplit_once('#')) {
                if n.parse::<usize>().is_ok() {
                    found = ids(Path::new(base));
                    path = PathBuf::from(base);
                }
            }
        }
        if !found.is_empty() {
            self.inputs.push((path, found));
        }
        self
    }

    /// Claim the output file `path`, checking it against the inputs and the
    /// outputs claimed before; write it with [`Target::write`].
    pub fn file(&mut self, path: &Path, named: Named) -> Result<Target, OutputError> {
        let existing = ids(path);
        if let Named::Default { hint } = named {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(err(
                    path,
                    format!("already exists and was not named as an output, so it is left alone; {hint}"),
                ));
            }
        }
        let device = match std::fs::symlink_metadata(path) {
            Ok(m) => kind_allowed(path, &m)?,
            Err(_) => false,
        };
        // Writing into a device destroys no file: neither an input nor
        // another output.
        let inputs = if device { &[][..] } else { &self.inputs[..] };
        for (input, ids) in inputs {
            if existing.iter().any(|i| ids.contains(i)) {
                let same = if input == path { String::new() } else { format!(" ({})", input.display()) };
                return Err(err(path, format!("is also an input of this command{same}; writing it would destroy what was read: choose another output")));
            }
        }
        let place = if device { None } else { place(path) };
        let claimed = if device { &[][..] } else { &self.claimed[..] };
        for (other, ids, other_place) in claimed {
            if existing.iter().any(|i| ids.contains(i)) || (place.is_some() && place == *other_place) {
                return Err(err(
                    path,
                    format!("is the same file as the output {}; each output needs its own file", other.display()),
                ));
            }
        }
        self.claimed.push((path.to_path_buf(), existing, place));
        Ok(Target { path: path.to_path_buf(), exclusive: named != Named::ByUser, device })
    }

    /// Claim the output directory `path`: created (with missing parents) if
    /// needed, refused if it is a link or not a directory, and held open.
    pub fn dir(&mut self, path: &Path) -> Result<OutDir, OutputError> {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(err(
                    path,
                    "is a symbolic link; an output directory must be a real directory (give its real path)",
                ));
            }
            Ok(m) if !m.is_dir() => return Err(err(path, "exists and is not a directory")),
            Ok(_) => {}
            Err(_) => {
                std::fs::create_dir_all(path).map_err(|e| err(path, format!("cannot create the directory: {e}")))?
            }
        }
        let fd = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| err(path, format!("cannot open the directory: {e}")))?;
        let inputs = self.inputs.iter().map(|(p, ids)| (p.clone(), ids.clone())).collect();
        Ok(OutDir { inner: Arc::new(DirInner { path: path.to_path_buf(), fd, inputs }) })
    }
}

/// Whether an existing `path` (its `lstat` is `m`) may be an output, and if
/// so whether it is a character device written into (`/dev/null`) rather
/// than replaced. A link is replaced, so one that leads to something that is
/// no file (`/dev/stdout`, `/dev/fd/N`: a terminal or pipe) is refused: it
/// cannot mean "replace this link", and it is never followed.
fn kind_allowed(path: &Path, m: &std::fs::Metadata) -> Result<bool, OutputError> {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_dir() {
        return Err(err(path, "is a directory; the output must be a file"));
    }
    if t.is_char_device() {
        return Ok(true);
    }
    if t.is_fifo() || t.is_socket() || t.is_block_device() {
        return Err(err(path, "is a FIFO, socket or block device, not a file; name a file"));
    }
    if t.is_symlink() {
        // /dev/stdout, /dev/fd/N, /proc/self/fd/N: a descriptor, whatever it
        // holds now; replacing such a link would replace a system file.
        let into_proc = std::fs::read_link(path).is_ok_and(|l| l.starts_with("/proc/"));
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let in_proc = std::fs::canonicalize(parent).is_ok_and(|p| p.starts_with("/proc"));
        if into_proc || in_proc {
            return Err(err(path, "is a link to an open file descriptor; seccheck replaces a link rather than writing through it, so name a file"));
        }
        if let Ok(target) = std::fs::metadata(path) {
            if !target.is_file() && !target.is_dir() {
                return Err(err(path, "is a link to a device, pipe or socket; seccheck replaces a link rather than writing through it, so name a file (or the device itself)"));
            }
        }
    }
    Ok(false)
}

/// The directory's id and the file name: the same for two spellings of one
/// path (`out.json`, `./out.json`, `a/../out.json`) even before it exists.
fn place(path: &Path) -> Option<Place> {
    let name = path.file_name()?.to_os_string();
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some((id(&std::fs::metadata(parent).ok()?), name))
}

/// An output file that passed the checks of [`Outputs::file`].
#[derive(Debug)]
pub struct Target {
    path: PathBuf,
    /// A default name: must still not exist when written.
    exclusive: bool,
    /// A character device the user named (`/dev/null`): written into.
    device: bool,
}

impl Target {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write `bytes` whole: a temporary file beside the target, renamed over it
    /// (for a default name, only if nothing appeared there meanwhile).
    pub fn write(&self, bytes: &[u8]) -> Result<(), OutputError> {
        if self.device {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&self.path)
                .map_err(|e| err(&self.path, format!("cannot write: {e}")))?;
            return f.write_all(bytes).map_err(|e| err(&self.path, format!("cannot write: {e}")));
        }
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = temp_with(&dir, bytes).map_err(|e| err(&self.path, temp_failed(&dir, &e)))?;
        let done = if self.exclusive { tmp.persist_noclobber(&self.path) } else { tmp.persist(&self.path) };
        done.map(drop).map_err(|e| {
            let why = if self.exclusive && e.error.kind() == std::io::ErrorKind::AlreadyExists {
                "appeared while seccheck ran and was not named as an output, so it is left alone".to_string()
            } else {
                format!("cannot write: {}", e.error)
            };
            err(&self.path, why)
        })
    }
}

/// Why the temporary file beside an output could not be made, in the words
/// of the output the user named: the temporary name is ours, never shown
/// (`tempfile` wraps the OS error with that path).
fn temp_failed(dir: &Path, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        return format!("cannot write: the directory {} does not exist", dir.display());
    }
    let inner = e.get_ref().and_then(|i| i.source()).and_then(|s| s.downcast_ref::<std::io::Error>());
    format!("cannot write: {}", inner.unwrap_or(e))
}

/// A new temporary file in `dir` holding `bytes`, created exclusively
/// (`O_EXCL`: never through a link) with mode 0644 less the umask, as a
/// file the user writes. Removed when dropped unless persisted.
fn temp_with(dir: &Path, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".seccheck-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.flush()?;
    Ok(tmp)
}

/// An output directory claimed by [`Outputs::dir`]; cheap to clone (a
/// watchdog thread may write into it too).
#[derive(Debug, Clone)]
pub struct OutDir {
    inner: Arc<DirInner>,
}

#[derive(Debug)]
struct DirInner {
    /// As the user gave it, for messages.
    path: PathBuf,
    /// The directory opened when claimed; files are written through it.
    fd: File,
    inputs: Vec<(PathBuf, Vec<FileId>)>,
}

impl OutDir {
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Where `name` is shown to the user: DIR/NAME.
    pub fn shown(&self, name: &str) -> PathBuf {
        self.inner.path.join(name)
    }

    /// Write `DIR/name` whole (temporary file and rename in the directory
    /// opened when it was claimed). `name` is one path component.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let shown = self.shown(name);
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Err(err(&shown, "is not a plain file name"));
        }
        // The directory as the descriptor names it: a link planted where the
        // directory was after it was opened is not followed.
        use std::os::fd::AsRawFd;
        let via = PathBuf::from(format!("/proc/self/fd/{}", self.inner.fd.as_raw_fd()));
        let target = via.join(name);
        if let Ok(m) = std::fs::symlink_metadata(&target) {
            if m.is_dir() {
                return Err(err(&shown, "is a directory; the output must be a file"));
            }
            let here = ids(&target);
            if let Some((input, _)) = self.inner.inputs.iter().find(|(_, ids)| here.iter().any(|i| ids.contains(i))) {
                return Err(err(
                    &shown,
                    format!(
                        "is also an input of this command ({}); writing it would destroy what was read",
                        input.display()
                    ),
                ));
            }
        }
        let tmp = temp_with(&via, bytes).map_err(|e| err(&shown, temp_failed(self.path(), &e)))?;
        tmp.persist(&target).map(drop).map_err(|e| err(&shown, format!("cannot write: {}", e.error)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap()
    }

    #[test]
    fn a_missing_directory_is_named_as_the_user_wrote_it_not_our_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("missing").join("x.html");
        let e = match Outputs::new().file(&out, Named::ByUser) {
            Err(e) => e,
            Ok(t) => t.write(b"page").unwrap_err(),
        };
        let shown = e.to_string();
        assert!(shown.starts_with(&out.display().to_string()), "{shown}");
        assert!(shown.contains("does not exist") && shown.contains("missing"), "{shown}");
        assert!(!shown.contains(".seccheck-"), "a temporary name leaked: {shown}");
    }

    #[test]
    fn an_output_that_is_an_input_is_refused_however_it_is_spelled() {
        let d = tempfile::tempdir().unwrap();
        let input = d.path().join("t.json");
        std::fs::write(&input, "trace").unwrap();
        let link = d.path().join("link.json");
        symlink(&input, &link).unwrap();
        let hard = d.path().join("hard.json");
        std::fs::hard_link(&input, &hard).unwrap();
        let dotted = d.path().join(".").join("t.json");
        for out in [&input, &link, &hard, &dotted] {
            let e = Outputs::new().input(&input).file(out, Named::ByUser).unwrap_err();
            assert!(e.msg.contains("is also an input"), "{out:?}: {e}");
        }
        // An ELF filter selector names its file.
        let e = Outputs::new().input(&d.path().join("t.json#2")).file(&input, Named::ByUser).unwrap_err();
        assert!(e.msg.contains("is also an input"), "{e}");
        // The input named through the link, the output directly.
        let e = Outputs::new().input(&link).file(&input, Named::ByUser).unwrap_err();
        assert!(e.msg.contains("is also an input"), "{e}");
        assert_eq!(read(&input), "trace");
        // Another file is fine.
        assert!(Outputs::new().input(&input).file(&d.path().join("p.json"), Named::ByUser).is_ok());
    }

    #[test]
    fn two_outputs_of_one_command_must_differ_even_before_they_exist() {
        let d = tempfile::tempdir().unwrap();
        let mut o = Outputs::new();
        o.file(&d.path().join("x"), Named::ByUser).unwrap();
        let e = o.file(&d.path().join(".").join("x"), Named::ByUser).unwrap_err();
        assert!(e.msg.contains("same file as the output"), "{e}");
        o.file(&d.path().join("y"), Named::ByUser).unwrap();
    }

    #[test]
    fn a_default_name_never_replaces_a_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("trace.json");
        let hint = "pass -o to choose";
        let t = Outputs::new().file(&p, Named::Default { hint }).unwrap();
        // Created while the command ran: still left alone.
        std::fs::write(&p, "theirs").unwrap();
        let e = t.write(b"ours").unwrap_err();
        assert!(e.msg.contains("appeared while seccheck ran"), "{e}");
        assert_eq!(read(&p), "theirs");
        let e = Outputs::new().file(&p, Named::Default { hint }).unwrap_err();
        assert!(e.msg.contains("already exists") && e.msg.contains(hint), "{e}");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "the temporary file was removed");
    }

    #[test]
    fn a_link_at_the_target_is_replaced_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let out = d.path().join("out.bpf");
        symlink(&victim, &out).unwrap();
        Outputs::new().file(&out, Named::ByUser).unwrap().write(b"new").unwrap();
        assert_eq!(read(&victim), "keep");
        assert!(!std::fs::symlink_metadata(&out).unwrap().file_type().is_symlink());
        assert_eq!(read(&out), "new");
        let mode = std::fs::metadata(&out).unwrap().mode() & 0o777;
        assert_eq!(mode & 0o644, mode, "not more than 0644: {mode:o}");
        assert_eq!(mode & 0o600, 0o600, "{mode:o}");
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file_and_the_old_file() {
        let d = tempfile::tempdir().unwrap();
        // A directory at the target: the rename fails.
        let out = d.path().join("sub");
        std::fs::create_dir(&out).unwrap();
        let e = Outputs::new().file(&out, Named::ByUser).unwrap_err();
        assert!(e.msg.contains("is a directory"), "{e}");
        let t = Outputs::new().file(&d.path().join("f"), Named::ByUser).unwrap();
        std::fs::create_dir(d.path().join("f")).unwrap();
        assert!(t.write(b"x").is_err());
        let names: Vec<_> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_character_device_is_written_into_and_links_to_streams_are_refused() {
        use std::os::unix::fs::FileTypeExt;
        let null = Path::new("/dev/null");
        // Also when it is an input, or named twice: nothing is destroyed.
        let mut o = Outputs::new();
        o.input(null);
        o.file(null, Named::ByUser).unwrap().write(b"discarded").unwrap();
        o.file(null, Named::ByUser).unwrap();
        assert!(std::fs::symlink_metadata(null).unwrap().file_type().is_char_device());
        let d = tempfile::tempdir().unwrap();
        let link = d.path().join("out");
        symlink("/dev/null", &link).unwrap();
        let e = Outputs::new().file(&link, Named::ByUser).unwrap_err();
        assert!(e.msg.contains("is a link to a device"), "{e}");
        // Whatever standard output is (a pipe, a terminal, a regular file).
        for p in ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/2"] {
            let e = Outputs::new().file(Path::new(p), Named::ByUser).unwrap_err();
            assert!(e.msg.contains("is a link to an open file descriptor"), "{e}");
        }
        let fifo = d.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let e = Outputs::new().file(&fifo, Named::ByUser).unwrap_err();
        assert!(e.msg.contains("FIFO"), "{e}");
    }

    #[test]
    fn output_directories_are_never_links_and_their_files_replace_links() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = d.path().join("link");
        symlink(&real, &link).unwrap();
        let e = Outputs::new().dir(&link).unwrap_err();
        assert!(e.msg.contains("symbolic link"), "{e}");

        let out = Outputs::new().dir(&d.path().join("new/deeper")).unwrap();
        assert!(d.path().join("new/deeper").is_dir());
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        symlink(&victim, out.shown("README.md")).unwrap();
        out.write("README.md", b"report").unwrap();
        assert_eq!(read(&victim), "keep");
        assert_eq!(read(&out.shown("README.md")), "report");
        assert!(out.write("../escape", b"x").is_err());

        // The directory swapped for a link after it was claimed: files still
        // land in the directory that was opened.
        let moved = d.path().join("moved");
        std::fs::rename(d.path().join("new/deeper"), &moved).unwrap();
        symlink(&real, d.path().join("new/deeper")).unwrap();
        out.write("report.json", b"{}").unwrap();
        assert_eq!(read(&moved.join("report.json")), "{}");
        assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
    }

    #[test]
    fn a_file_in_an_output_directory_that_is_an_input_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let input = d.path().join("report.json");
        std::fs::write(&input, "[]").unwrap();
        let out = Outputs::new().input(&input).dir(d.path()).unwrap();
        let e = out.write("report.json", b"{}").unwrap_err();
        assert!(e.msg.contains("is also an input"), "{e}");
        assert_eq!(read(&input), "[]");
    }
}
