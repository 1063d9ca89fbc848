//! The "Architecture invariant:" lines of `ARCHITECTURE.md`, checked against
//! the source (as rust-analyzer's tidy tests do): the layer order of the
//! top-level modules, where I/O happens and where `unsafe` is; and that no
//! file of the repository names a path outside it (a clean checkout has
//! everything it needs).
//!
//! The source is read as text: comments are dropped, and `#[cfg(test)]` code
//! (a `mod NAME { … }` block, closed by `}` at the indentation rustfmt gives
//! it, or a `mod NAME;` file) is left out, since tests may use any module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ARCHITECTURE: &str = include_str!("../../ARCHITECTURE.md");

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, relative to it, sorted.
fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(&src_dir(), &src_dir(), &mut out);
    out.sort();
    out
}

/// The top-level module a file belongs to (`kernel/probe.rs` → `kernel`).
fn top_module(rel: &Path) -> String {
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.strip_suffix(".rs").unwrap_or(&first).to_string()
}

/// The file's code outside tests and comments, plus the files its
/// `#[cfg(test)] mod NAME;` lines declare (relative to `src/`).
fn code_of(rel: &Path, text: &str) -> (String, Vec<PathBuf>) {
    let mut code = String::new();
    let mut test_files = Vec::new();
    let mut lines = text.lines().peekable();
    let mut cfg_test = false;
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        let line = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        if t.starts_with("#[cfg(test)]") {
            cfg_test = true;
            continue;
        }
        if cfg_test && (t.starts_with("mod ") || t.starts_with("pub mod ")) {
            let name = t.trim_start_matches("pub ").trim_start_matches("mod ");
            if let Some(name) = name.strip_suffix(';') {
                let dir = match rel.file_name().unwrap().to_str().unwrap() {
                    "mod.rs" | "lib.rs" | "main.rs" => rel.parent().unwrap().to_path_buf(),
                    f => rel.parent().unwrap().join(f.strip_suffix(".rs").unwrap()),
                };
                test_files.push(dir.join(format!("{name}.rs")));
                test_files.push(dir.join(name).join("mod.rs"));
            } else {
                let indent = &line[..line.len() - t.len()];
                let close = format!("{indent}}}");
                for l in lines.by_ref() {
                    if l == close {
                        break;
                    }
                }
            }
            cfg_test = false;
            continue;
        }
        if !t.starts_with("#[") {
            cfg_test = false;
        }
        code.push_str(line);
        code.push('\n');
    }
    (code, test_files)
}

/// The top-level modules named by `crate::…` paths in `code`.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let b = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut from = 0;
    while let Some(i) = code[from..].find("crate::") {
        let at = from + i;
        from = at + "crate::".len();
        if at > 0 && (ident(b[at - 1]) || b[at - 1] == b'$') {
            continue;
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d::{…}}`: the first segment of each item.
            let (mut depth, mut item_start) = (0usize, true);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_ascii_alphabetic() || c == '_') => {
                        let name: String =
                            group[j..].chars().take_while(|&c| c.is_ascii_alphanumeric() || c == '_').collect();
                        out.insert(name);
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest.chars().take_while(|&c| c.is_ascii_alphanumeric() || c == '_').collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Non-test code per file, test files left out.
fn non_test_code() -> BTreeMap<PathBuf, String> {
    let mut code = BTreeMap::new();
    let mut tests = BTreeSet::new();
    for rel in sources() {
        let text = std::fs::read_to_string(src_dir().join(&rel)).unwrap();
        let (c, t) = code_of(&rel, &text);
        tests.extend(t);
        code.insert(rel, c);
    }
    code.retain(|p, _| !tests.contains(p) && p != Path::new("tidy.rs"));
    code
}

/// The invariant lines `Architecture invariant: KEY: VALUE` (or `KEY N:
/// VALUE`, numbered from 0 in order), each VALUE as the backquoted names it lists.
fn invariant(key: &str) -> Vec<Vec<String>> {
    let prefix = format!("Architecture invariant: {key}");
    let mut rows: Vec<Vec<String>> = Vec::new();
    for l in ARCHITECTURE.lines() {
        let Some(rest) = l.strip_prefix(&prefix) else { continue };
        let Some((label, value)) = rest.split_once(':') else { continue };
        let label = label.trim();
        assert!(
            label.is_empty() || label == rows.len().to_string(),
            "ARCHITECTURE.md: `{prefix} {label}:` where {} was due",
            rows.len()
        );
        rows.push(value.split('`').skip(1).step_by(2).map(str::to_string).collect());
    }
    assert!(!rows.is_empty(), "ARCHITECTURE.md has no `{prefix}` line");
    rows
}

#[test]
fn modules_import_only_lower_layers() {
    // `Architecture invariant: layer N: `a` `b` …`, lowest layer first.
    let layers = invariant("layer");
    let mut layer_of: BTreeMap<String, usize> = BTreeMap::new();
    for (i, names) in layers.iter().enumerate() {
        for n in names {
            assert!(layer_of.insert(n.clone(), i).is_none(), "`{n}` is in two layers of ARCHITECTURE.md");
        }
    }
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (rel, code) in non_test_code() {
        let top = top_module(&rel);
        if top == "lib" || top == "main" {
            continue;
        }
        seen.insert(top.clone());
        let Some(&mine) = layer_of.get(&top) else {
            problems.push(format!("{}: module `{top}` is in no layer of ARCHITECTURE.md", rel.display()));
            continue;
        };
        for used in crate_refs(&code) {
            if used == top {
                continue;
            }
            match layer_of.get(&used) {
                Some(&theirs) if theirs < mine => {}
                Some(&theirs) => problems.push(format!(
                    "{}: `{top}` (layer {mine}) uses `crate::{used}` (layer {theirs}): only lower layers",
                    rel.display()
                )),
                None => problems.push(format!("{}: uses `crate::{used}`, in no layer", rel.display())),
            }
        }
    }
    for n in layer_of.keys() {
        if !seen.contains(n) {
            problems.push(format!("ARCHITECTURE.md places `{n}`, which is not a module of verifier/src"));
        }
    }
    assert!(problems.is_empty(), "layering broken:\n{}", problems.join("\n"));
}

/// Paths (under `src/`) a rule allows: `kernel/` for a folder, `output.rs` for a file.
fn allowed(rel: &Path, places: &[String]) -> bool {
    places.iter().any(|p| match p.strip_suffix('/') {
        Some(dir) => rel.starts_with(dir),
        None => rel == Path::new(p),
    })
}

#[test]
fn io_only_where_documented() {
    // `Architecture invariant: I/O: `sources/` `output.rs` …`: file system,
    // environment, processes and sockets, outside tests.
    let places: Vec<String> = invariant("I/O").concat();
    const IO: &[&str] = &["std::fs", "fs::", "File::", "OpenOptions", "std::env", "env::", "Command::new", "std::net"];
    let mut problems = Vec::new();
    for (rel, code) in non_test_code() {
        if allowed(&rel, &places) {
            continue;
        }
        for (n, line) in code.lines().enumerate() {
            if let Some(tok) = IO.iter().find(|t| line.contains(*t)) {
                problems.push(format!("{}:{}: `{tok}`: {}", rel.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(problems.is_empty(), "I/O outside {places:?}:\n{}", problems.join("\n"));
}

#[test]
fn unsafe_only_where_documented() {
    // `Architecture invariant: unsafe: `kernel/``: the keyword anywhere else,
    // tests included, fails.
    let places: Vec<String> = invariant("unsafe").concat();
    let mut problems = Vec::new();
    for rel in sources() {
        if allowed(&rel, &places) || rel == Path::new("tidy.rs") {
            continue;
        }
        let text = std::fs::read_to_string(src_dir().join(&rel)).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            let words = code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            if words.into_iter().any(|w| w == "unsafe") {
                problems.push(format!("{}:{}: {}", rel.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(problems.is_empty(), "`unsafe` outside {places:?}:\n{}", problems.join("\n"));
}

#[test]
fn the_checks_can_fail() {
    // The readers see through formatting: a grouped, multi-line import.
    let refs = crate_refs(
        "use crate::{\n    arch::Arch,\n    bpf::{self, Program},\n};\nfn f() { crate::emu::x(); $crate::no; }",
    );
    assert_eq!(refs, ["arch", "bpf", "emu"].map(String::from).into_iter().collect());
    let (code, files) = code_of(
        Path::new("kernel/mod.rs"),
        "use crate::arch; // crate::bpf\n#[cfg(test)]\nmod probe_tests;\n#[cfg(test)]\nmod tests {\n    use crate::emu;\n}\nfn g() {}\n",
    );
    assert_eq!(crate_refs(&code), ["arch"].map(String::from).into_iter().collect());
    assert!(code.contains("fn g()"));
    assert_eq!(files[0], Path::new("kernel/probe_tests.rs"));
}

/// The repository root (this crate is `verifier/` in it).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Every file of the working tree that a clean checkout has, relative to the
/// root: without `.git`, `target/` and what `.gitignore` names (root-anchored
/// paths, `*SUFFIX` patterns), so build output and local scratch are not read.
fn repository_files(root: &Path) -> Vec<PathBuf> {
    let gitignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    let mut anchored = Vec::new();
    let mut suffixes = Vec::new();
    for l in gitignore.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        match (l.strip_prefix('/'), l.rfind('*')) {
            (_, Some(i)) => suffixes.push(l[i + 1..].to_string()),
            (Some(p), None) => anchored.push(PathBuf::from(p.trim_end_matches('/'))),
            (None, None) => panic!(".gitignore: `{l}`: tidy.rs reads only `/PATH` and `*SUFFIX` lines"),
        }
    }
    fn walk(dir: &Path, root: &Path, skip: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
            if skip(&rel) {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), root, skip, out);
            } else {
                out.push(rel);
            }
        }
    }
    let skip = |rel: &Path| {
        let name = rel.file_name().unwrap().to_string_lossy();
        name == ".git"
            || name == "target"
            || anchored.iter().any(|a| rel == a)
            || suffixes.iter().any(|s| name.ends_with(s.as_str()))
    };
    let mut out = Vec::new();
    walk(root, root, &skip, &mut out);
    out.sort();
    out
}

/// Test inputs that name a path outside the repository on purpose: (file,
/// the path or what it starts with).
const OUTSIDE_ON_PURPOSE: &[(&str, &str)] = &[
    ("verifier/src/output.rs", "../escape"),
    ("verifier/src/report/sarif.rs", "../f#1.bpf"),
    ("verifier/src/report/sarif.rs", "/work/repo"),
];

/// The folders beside the repository on the machine the project started on
/// (design notes, seed discussions), from ARCHITECTURE.md: a clean checkout
/// does not have them, what the repository needs of them is copied in.
fn outside_folders() -> Vec<String> {
    let rows = invariant("self-contained");
    assert!(rows.len() == 1 && !rows[0].is_empty(), "ARCHITECTURE.md: one `self-contained:` line naming folders");
    rows[0].clone()
}

/// The paths `text` (the file `rel`) names that lead outside the repository.
/// Every relative path starting with `../` must name something that exists
/// inside it, seen from the file's folder or one of the folders above it up to
/// the root (a `Cargo.toml` path, a Markdown link, a path joined to
/// `CARGO_MANIFEST_DIR`, a command run from the root); a glob is checked up to
/// its first wildcard. A path into one of `outside` (relative like `shared/`,
/// or absolute like `/work/`, in a `file://` URL too) is never inside.
fn paths_outside(root: &Path, rel: &Path, text: &str, outside: &[String]) -> Vec<String> {
    let is_path = |c: char| c.is_ascii_alphanumeric() || "_.-/".contains(c);
    let is_name = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
    let rel_str = rel.to_string_lossy();
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if rel == Path::new("ARCHITECTURE.md") && line.starts_with("Architecture invariant: self-contained:") {
            continue; // the line that names them
        }
        let mut starts: Vec<usize> = line.match_indices("../").map(|(i, _)| i).collect();
        for f in outside {
            starts.extend(line.match_indices(f.as_str()).map(|(i, _)| i));
        }
        starts.sort();
        starts.dedup();
        for i in starts {
            // Inside a longer path (`a/../b`, `/proc/.../status`, `x/shared/`),
            // except an absolute one after `file://`.
            let absolute = line[i..].starts_with('/');
            if line[..i].chars().next_back().is_some_and(|c| if absolute { is_name(c) } else { is_path(c) }) {
                continue;
            }
            let len = line[i..].find(|c: char| !(is_path(c) || c == '*' || c == '#')).unwrap_or(line.len() - i);
            let token = line[i..i + len].trim_end_matches(['.', ',', ':']);
            if OUTSIDE_ON_PURPOSE.iter().any(|&(file, path)| file == rel_str && token.starts_with(path)) {
                continue;
            }
            let named: Vec<&str> =
                token.split('/').take_while(|c| !c.contains('*')).filter(|c| !c.is_empty()).collect();
            let inside = !absolute
                && !outside.iter().any(|f| token.starts_with(f.as_str()))
                && rel.ancestors().skip(1).any(|base| {
                    let mut at: Vec<String> =
                        base.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                    for c in &named {
                        match *c {
                            "." => {}
                            ".." => {
                                if at.pop().is_none() {
                                    return false; // above the root
                                }
                            }
                            c => at.push(c.to_string()),
                        }
                    }
                    root.join(at.iter().collect::<PathBuf>()).exists()
                });
            if !inside {
                out.push(format!("{}:{}: `{token}`", rel.display(), n + 1));
            }
        }
    }
    out
}

#[test]
fn no_file_names_a_path_outside_the_repository() {
    // Architecture invariant: self-contained: …
    let outside = outside_folders();
    let root = repo_root();
    let files = repository_files(&root);
    assert!(files.contains(&PathBuf::from("corpus/README.md")), "{} files read", files.len());
    let mut problems = Vec::new();
    for rel in files {
        if rel == Path::new("verifier/src/tidy.rs") {
            continue; // its tests name such paths
        }
        let bytes = std::fs::read(root.join(&rel)).unwrap();
        let Ok(text) = String::from_utf8(bytes) else { continue }; // binary
        if !text.contains('\0') {
            problems.extend(paths_outside(&root, &rel, &text, &outside));
        }
    }
    assert!(
        problems.is_empty(),
        "paths outside the repository (a clean checkout does not have them: copy what is needed in, with its source):\n{}",
        problems.join("\n")
    );
}

#[test]
fn paths_outside_the_repository_are_seen() {
    let root = repo_root();
    let outside = outside_folders();
    assert!(outside.iter().any(|f| f == "shared/") && outside.iter().any(|f| f == "/work/"), "{outside:?}");
    let at = |rel: &str, text: &str| paths_outside(&root, Path::new(rel), text, &outside);
    // Inside, seen from the file's folder or one above it.
    assert!(at("speed/Cargo.toml", "seccheck = { path = \"../verifier\" }").is_empty());
    assert!(at("verifier/tests/x.rs", "join(\"../corpus/compiled\")").is_empty());
    assert!(at("docs/ci.md", "[hooks](../.pre-commit-hooks.yaml), a/../b, /proc/.../status").is_empty());
    assert!(at("corpus/policies/x.toml", "# (corpus/seed/003_*.txt)").is_empty());
    assert!(at("docs/x.md", "verifier/src/shared/x.rs, /srv/work/x, a/work/b").is_empty());
    // On purpose, in the file that uses it only.
    assert!(at("verifier/src/report/sarif.rs", "Path::new(\"/work/repo/x/f.bpf\")").is_empty());
    assert_eq!(at("verifier/src/output.rs", "\"/work/repo\""), ["verifier/src/output.rs:1: `/work/repo`"]);
    // Outside, or nothing there.
    assert_eq!(
        at("corpus/policies/x.toml", "# (../shared/seeds/003_*.txt,"),
        ["corpus/policies/x.toml:1: `../shared/seeds/003_*.txt`"]
    );
    assert_eq!(at("Cargo.toml", "x\npath = \"../verifier\""), ["Cargo.toml:2: `../verifier`"]);
    assert_eq!(at("docs/x.md", "see shared/seeds/FACTS.md."), ["docs/x.md:1: `shared/seeds/FACTS.md`"]);
    assert_eq!(at("docs/x.md", "../../../../etc/passwd"), ["docs/x.md:1: `../../../../etc/passwd`"]);
    assert_eq!(at("docs/x.md", "(/work/shared/DESIGN.md)"), ["docs/x.md:1: `/work/shared/DESIGN.md`"]);
    assert_eq!(at("docs/x.md", "<file:///work/x>"), ["docs/x.md:1: `/work/x`"]);
    assert_eq!(at("docs/x.md", "../docs/nothing-here.md"), ["docs/x.md:1: `../docs/nothing-here.md`"]);
}
