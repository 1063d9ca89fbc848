//! Every finding code seccheck prints, with the text `seccheck explain CODE`
//! shows: the lints (`SC…`, their module docs), the policy properties (`P…`),
//! the differences between filters (`D…`) and the stack the kernel refuses
//! (`S001`). One table, so that no printed code lacks an explanation (a test
//! checks the codes the checkers use against it).

use crate::lints;
use crate::policy::check::codes;

/// A code that is not a lint, with its stable name and explanation.
pub struct Explained {
    pub code: &'static str,
    pub name: &'static str,
    pub doc: &'static str,
}

/// A filter the kernel refuses: `check`, `lint` and the other commands that
/// analyse a filter report each reason under this code in SARIF.
pub const REFUSED: (&str, &str) = ("V001", "filter-refused");

/// The policy properties (see `docs/policy.md`), filter differences and stack refusals.
pub const OTHERS: &[Explained] = &[
    Explained {
        code: codes::ARCH.0,
        name: codes::ARCH.1,
        doc: "### What it checks\n\nThe policy's `arches = [...]` lists the ABIs the filter is meant for. Every other arch value \
              (every AUDIT_ARCH_* the kernel knows, unknown values, and x32 unless it is listed) must be denied: KILL, TRAP or ERRNO \
              for every syscall number and argument.\n\n### Why it matters\n\nA filter that checks only syscall numbers can be \
              bypassed through another ABI of the same machine: i386 `int 0x80` and x32 numbers reach the kernel with the same \
              filter but other syscall numbers.\n\n### Example\n\n```toml\narches = [\"x86_64\"]\n```\n\nis violated by a filter \
              that lets an i386 `read` (nr 3 under AUDIT_ARCH_I386) run; the counterexample names the arch and number.\n",
    },
    Explained {
        code: codes::DENY.0,
        name: codes::DENY.1,
        doc: "### What it checks\n\nEach `[[deny]]` rule: its syscalls (names and `@families`, expanded per arch, `socketcall` \
              and `ipc` multiplexers included) must be denied (KILL, TRAP or ERRNO) for every argument value, or for every input \
              where its `when` holds.\n\n### Why it matters\n\nA deny rule that some argument value gets around (a flag bit \
              the filter does not test, the upper half of a 64-bit argument) is not a deny rule.\n\n### Example\n\n```toml\n[[deny]]\n\
              syscalls = [\"ptrace\", \"@namespaces\"]\n```\n",
    },
    Explained {
        code: codes::ALLOW.0,
        name: codes::ALLOW.1,
        doc: "### What it checks\n\nEach `[[allow]]` rule: its syscalls must run (ALLOW or LOG) for every argument value, or \
              for every input where its `when` holds.\n\n### Why it matters\n\nA program that needs a call breaks, often \
              only on the path that passes an unusual flag, when the filter denies it.\n\n### Example\n\n```toml\n[[allow]]\n\
              syscalls = [\"read\", \"write\", \"exit_group\"]\n```\n",
    },
    Explained {
        code: codes::ONLY_IF.0,
        name: codes::ONLY_IF.1,
        doc: "### What it checks\n\nEach `[[allow_only_if]]` rule: its syscalls may run only on inputs where `when` holds; \
              any input outside the condition that runs is a violation.\n\n### Why it matters\n\nThis is how a policy says \
              \"openat, but read-only\" or \"socket, but no AF_ALG\": the filter must enforce the condition on the full \
              64-bit argument (a comparison on the low half only is bypassable).\n\n### Example\n\n```toml\n[[allow_only_if]]\n\
              syscalls = [\"openat\"]\nwhen = \"arg2 & O_ACCMODE == O_RDONLY\"\n```\n",
    },
    Explained {
        code: codes::DEFAULT.0,
        name: codes::DEFAULT.1,
        doc: "### What it checks\n\nWith `default = \"deny\"`, nothing outside the `[[allow]]` and `[[allow_only_if]]` rules \
              may run on the policy's arches: every other syscall number must be denied.\n\n### Why it matters\n\nAn \
              allow-list only protects if everything it does not list is denied, including syscalls added to the kernel after \
              the list was written (clone3, openat2, …).\n\n### Example\n\n```toml\ndefault = \"deny\"\n```\n",
    },
    Explained {
        code: codes::FORBID.0,
        name: codes::FORBID.1,
        doc: "### What it checks\n\n`[actions] forbid = [...]`: no input on any arch may reach one of these actions \
              (`kill_process`, `kill_thread`, `trap`, `errno`, `user_notif`, `trace`, `log`, `allow`).\n\n### Why it matters\n\n\
              USER_NOTIF and TRACE hand the decision to a supervisor or tracer; a profile that must stand on its own forbids \
              them.\n\n### Example\n\n```toml\n[actions]\nforbid = [\"user_notif\", \"trace\"]\n```\n",
    },
    Explained {
        code: "D001",
        name: "filters-differ",
        doc: "### What it reports\n\n`seccheck diff A B`: a region of inputs (arch, syscall, argument condition) where the two \
              filters (or stacks) take different actions, with an example input each filter was run on.\n\n### Why it matters\n\n\
              A change to a profile or a generator should change exactly what was meant to change.\n",
    },
    Explained {
        code: "D002",
        name: "less-strict",
        doc: "### What it reports\n\n`seccheck diff A B --refines`: a region where A is less strict than B (A lets run, or \
              delegates, what B denies).\n\n### Why it matters\n\nA new filter that is meant to tighten an old one must deny \
              at least what the old one denied.\n",
    },
    Explained {
        code: REFUSED.0,
        name: REFUSED.1,
        doc: "### What it reports\n\nA filter `seccomp(SECCOMP_SET_MODE_FILTER)` would refuse with EINVAL: an instruction \
              `bpf_check_classic` (net/core/filter.c) or `seccomp_check_filter` (kernel/seccomp.c) does not allow, a jump out \
              of the program, a scratch word read before it is written, no return at the end, or a length outside 1 to \
              4096 (`seccomp_prepare_filter`). `seccheck validate` lists every reason with its instruction.\n\n### Why it \
              matters\n\nThe filter never runs: the runtime that installs it fails, so nothing it says about syscalls holds.\n",
    },
    Explained {
        code: "S001",
        name: "stack-too-long",
        doc: "### What it reports\n\nA stack of filters the kernel will not install: `seccomp_attach_filter` (kernel/seccomp.c) \
              refuses a filter with ENOMEM when its length after `bpf_convert_filter` plus, for every filter already \
              attached, that length + 4 exceeds MAX_INSNS_PER_PATH (32768).\n\n### Why it matters\n\nNo process can ever run \
              under that stack: the runtime that tries to add the last filter fails.\n",
    },
];

/// The explanation of `code_or_name` (case-insensitive code, or the stable name).
pub fn explain(code_or_name: &str) -> Option<String> {
    if let Some(l) = lints::find(code_or_name) {
        return Some(l.doc());
    }
    OTHERS
        .iter()
        .find(|e| e.code.eq_ignore_ascii_case(code_or_name) || e.name == code_or_name)
        .map(|e| format!("# {} {}\n\n{}", e.code, e.name, e.doc))
}

/// Every code with its name, lints first.
pub fn all() -> Vec<(&'static str, &'static str)> {
    lints::ALL.iter().map(|l| (l.code, l.name)).chain(OTHERS.iter().map(|e| (e.code, e.name))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_the_checkers_print_is_explained() {
        for (code, name) in [codes::ARCH, codes::DENY, codes::ALLOW, codes::ONLY_IF, codes::DEFAULT, codes::FORBID] {
            let doc = explain(code).unwrap_or_else(|| panic!("{code}"));
            assert!(doc.starts_with(&format!("# {code} {name}")), "{doc}");
            assert_eq!(explain(name), Some(doc));
        }
        for code in ["D001", "D002", "S001", "V001", "SC001", "sc008", "p002"] {
            assert!(explain(code).is_some(), "{code}");
        }
        let mut seen = std::collections::HashSet::new();
        assert!(all().iter().all(|(c, _)| seen.insert(*c)), "codes are unique");
        assert_eq!(explain("P999"), None);
    }
}
