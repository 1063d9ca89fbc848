//! The command `seccheck record`, `run` and `bench -- CMD` start: `argv[0]`
//! resolved like `execvp(3)` and the environment taken, before the fork.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The command to run: an executable already resolved to a path, its argv and
/// environment.
#[derive(Clone, Debug)]
pub struct CommandSpec {
    pub path: CString,
    pub argv: Vec<CString>,
    pub env: Vec<CString>,
}

/// Why a command cannot be run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommandError {
    #[error("no command given (usage: seccheck record [-o FILE] -- CMD ARGS…)")]
    Empty,
    #[error("`{0}`: command not found (searched PATH={1})")]
    NotFound(String, String),
    #[error("`{0}`: not an executable file")]
    NotExecutable(String),
    #[error("`{0}`: contains a NUL byte")]
    Nul(String),
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Resolve `argv[0]` like `execvp` (a name with a `/` is a path; otherwise the
/// first executable file of that name in `PATH`) and take the environment.
pub fn resolve(argv: &[OsString]) -> Result<CommandSpec, CommandError> {
    let first = argv.first().ok_or(CommandError::Empty)?;
    let shown = first.to_string_lossy().into_owned();
    let path: PathBuf = if first.as_bytes().contains(&b'/') {
        let p = PathBuf::from(first);
        if !p.exists() {
            return Err(CommandError::NotFound(shown, "(not searched: the name is a path)".into()));
        }
        if !is_executable(&p) {
            return Err(CommandError::NotExecutable(shown));
        }
        p
    } else {
        let search = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
        std::env::split_paths(&search)
            .map(|d| d.join(first))
            .find(|p| is_executable(p))
            .ok_or_else(|| CommandError::NotFound(shown.clone(), search.to_string_lossy().into_owned()))?
    };
    let c = |s: &OsStr| CString::new(s.as_bytes()).map_err(|_| CommandError::Nul(s.to_string_lossy().into_owned()));
    let env = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k;
            kv.push("=");
            kv.push(v);
            c(&kv)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CommandSpec { path: c(path.as_os_str())?, argv: argv.iter().map(|a| c(a)).collect::<Result<_, _>>()?, env })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_resolve_like_execvp() {
        let c = resolve(&["sh".into(), "-c".into(), "true".into()]).unwrap();
        assert!(c.path.to_str().unwrap().ends_with("/sh"), "{:?}", c.path);
        assert_eq!(resolve(&[]).unwrap_err(), CommandError::Empty);
        let e = resolve(&["seccheck-no-such-command".into()]).unwrap_err();
        assert!(e.to_string().starts_with("`seccheck-no-such-command`: command not found (searched PATH="), "{e}");
        let d = tempfile::tempdir().unwrap();
        let plain = d.path().join("plain");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        let shown = plain.display().to_string();
        assert_eq!(resolve(&[plain.into()]).unwrap_err(), CommandError::NotExecutable(shown));
        assert!(matches!(resolve(&["./no/such".into()]).unwrap_err(), CommandError::NotFound(..)));
    }
}
