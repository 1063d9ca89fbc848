//! `cargo run -p fuzz --release -- TARGET --seconds N [--seed S] [--no-save]`:
//! the stable-toolchain fuzz runner (see the crate docs). `TARGET` may be
//! `list` (print the targets) or `all` (each target in turn, N seconds each).
//! `--replay FILE` runs the target once on a saved input and prints the failure.
//! Prints executions per second and every failure kind; exit 0 when nothing
//! new was found, 1 with new failures, 2 on bad usage.

use fuzz::targets::{target, TARGETS};
use fuzz::{run, RunOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

fn usage(msg: &str) -> ExitCode {
    eprintln!("fuzz: error: {msg}");
    eprintln!("usage: fuzz TARGET|all|list [--seconds N] [--seed S] [--no-save] | fuzz TARGET --replay FILE");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(name) = args.next() else { return usage("no target given") };
    let (mut seconds, mut seed, mut save) = (10.0f64, 1u64, true);
    while let Some(a) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value"));
        match a.as_str() {
            "--seconds" => match value("--seconds")
                .and_then(|v| v.parse::<f64>().map_err(|_| format!("--seconds `{v}` is not a number")))
            {
                Ok(s) if s > 0.0 => seconds = s,
                Ok(_) => return usage("--seconds must be positive"),
                Err(e) => return usage(&e),
            },
            "--seed" => match value("--seed")
                .and_then(|v| v.parse::<u64>().map_err(|_| format!("--seed `{v}` is not a number")))
            {
                Ok(s) => seed = s,
                Err(e) => return usage(&e),
            },
            "--no-save" => save = false,
            "--replay" => {
                let Ok(file) = value("--replay") else { return usage("--replay needs a file") };
                let Some(t) = target(&name) else { return usage(&format!("unknown target `{name}` (try `list`)")) };
                let data = match std::fs::read(&file) {
                    Ok(d) => d,
                    Err(e) => return usage(&format!("{file}: {e}")),
                };
                return match fuzz::run_once(t, &data) {
                    Ok(()) => {
                        println!("{file}: passes");
                        ExitCode::from(0)
                    }
                    Err(f) => {
                        println!("{file}: {}\n{}", f.kind, f.detail);
                        ExitCode::from(1)
                    }
                };
            }
            other => return usage(&format!("unknown argument `{other}`")),
        }
    }
    if name == "list" {
        for t in TARGETS {
            println!("{:16} {}{}", t.name, t.about, if t.kernel { " (kernel)" } else { "" });
        }
        return ExitCode::from(0);
    }
    let chosen: Vec<_> = if name == "all" {
        TARGETS.iter().collect()
    } else {
        match target(&name) {
            Some(t) => vec![t],
            None => return usage(&format!("unknown target `{name}` (try `list`)")),
        }
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let opts = RunOptions { seconds, seed, root, save, minimise_budget: Duration::from_secs(30) };
    let mut new = 0;
    for t in chosen {
        if t.kernel {
            if let Err(e) = seccheck::kernel::health::check() {
                eprintln!("{}: KERNEL UNAVAILABLE, not run: {e}", t.name);
                continue;
            }
        }
        let s = run(t, &opts);
        println!(
            "{}: {} execs in {:.1} s ({:.0} execs/s), seed {seed}",
            t.name,
            s.execs,
            s.elapsed.as_secs_f64(),
            s.execs_per_second()
        );
        for (kind, n, file) in &s.failures {
            println!(
                "  {kind}: {n} input{}{}",
                if *n == 1 { "" } else { "s" },
                file.as_ref().map(|f| format!(", saved {}", f.display())).unwrap_or_default()
            );
        }
        if s.failures.is_empty() {
            println!("  no failures");
        }
        new += s.new_failures();
    }
    ExitCode::from(if new > 0 { 1 } else { 0 })
}
