//! What a stack of filters does: the effective return value for every input.
//!
//! A thread can hold several filters: each `seccomp(SECCOMP_SET_MODE_FILTER)`
//! adds one on top, and they are inherited and never removed. On every syscall
//! `seccomp_run_filters` (kernel/seccomp.c) runs all of them, newest first,
//! starting from `ret = SECCOMP_RET_ALLOW`, and takes a filter's value only when
//! its `ACTION_ONLY` — the action bits read as a signed 32-bit number,
//! [`Action::precedence`] — is strictly lower than the current one: the lowest
//! action wins, and among equal actions the newest filter's data (errno,
//! trap/trace data) stays. The constant-action cache (`seccomp_cache_check_allow`)
//! only short-cuts inputs that every filter allows, so it changes no result.
//!
//! Stacks are given in installation order (oldest first), as the kernel's
//! `prev` chain reversed and as `seccheck pid` lists them.
//!
//! Symbolically ([`effective`]): start with one outcome (ALLOW on every input)
//! and fold the filters in, newest first. Every current outcome `(r, S)` meets
//! every return value `(r', S')` of the filter; the part `S ∧ S'` takes `r'`
//! when it ranks strictly lower than `r`, else keeps `r`. Outcomes with equal
//! values are merged, so each filter costs (distinct values)² set operations —
//! never paths or inputs. [`run`] is the concrete counterpart with every
//! filter's path; both are checked against [`crate::emu::run_stack`].

use crate::bpf::validate::ValidProgram;
use crate::emu::{self, Emulator};
use crate::seccomp::{Action, SeccompData, SECCOMP_RET_ALLOW};
use crate::symbolic::multi::ProgramError;
use crate::symbolic::{Analysis, Exit, InputSet, Options, Session, SymbolicError, Table, TableOptions};
use serde::Serialize;

/// Why a stack could not be analysed exactly.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    /// One filter could not be evaluated (index in installation order).
    #[error("filter {filter}: {error}")]
    Symbolic { filter: usize, error: SymbolicError },
    /// Combining the filters outgrew the node budget.
    #[error("combining the filters outgrew the budget of {limit} BDD nodes (or the work it allows); refusing to approximate (raise the node limit)")]
    NodeLimit { limit: usize },
}

impl From<ProgramError> for StackError {
    fn from(e: ProgramError) -> Self {
        StackError::Symbolic { filter: e.program, error: e.error }
    }
}

/// The effective return values of the programs `stack` of `session` (session
/// indices, installation order, oldest first): each value once, ascending, with
/// exactly the inputs for which the kernel returns it. The sets partition the
/// input space. An empty stack returns ALLOW everywhere.
///
/// Check [`Session::exhausted`] before trusting the result.
pub fn effective(session: &mut Session, stack: &[usize]) -> Vec<(u32, InputSet)> {
    let all = session.sets().all();
    let mut cur: Vec<(u32, InputSet)> = vec![(SECCOMP_RET_ALLOW, all)];
    for &f in stack.iter().rev() {
        let rets = session.program(f).by_return_value();
        let sets = session.sets();
        let mut next: Vec<(u32, InputSet)> = Vec::new();
        for &(r, s) in &cur {
            let rank = Action::from_ret(r).precedence();
            for &(r2, s2) in &rets {
                let both = sets.and(s, s2);
                if sets.is_empty(both) {
                    continue;
                }
                // seccomp_run_filters: `if (ACTION_ONLY(cur) < ACTION_ONLY(ret)) ret = cur;`
                let v = if Action::from_ret(r2).precedence() < rank { r2 } else { r };
                match next.iter_mut().find(|(x, _)| *x == v) {
                    Some(slot) => slot.1 = sets.or(slot.1, both),
                    None => next.push((v, both)),
                }
            }
        }
        cur = next;
    }
    cur.sort_by_key(|&(r, _)| r);
    cur
}

/// The exact meaning of a stack of filters.
pub struct Stack {
    session: Session,
    outcomes: Vec<(u32, InputSet)>,
}

/// Analyse the stack `filters` (installation order, oldest first).
pub fn analyze(filters: &[ValidProgram], opts: &Options) -> Result<Stack, StackError> {
    let refs: Vec<&ValidProgram> = filters.iter().collect();
    let mut session = crate::symbolic::analyze_many(&refs, opts)?;
    let ids: Vec<usize> = (0..filters.len()).collect();
    let outcomes = effective(&mut session, &ids);
    if session.exhausted() {
        return Err(StackError::NodeLimit { limit: session.node_limit() });
    }
    Ok(Stack { session, outcomes })
}

impl Stack {
    /// Number of filters in the stack.
    pub fn len(&self) -> usize {
        self.session.len()
    }

    pub fn is_empty(&self) -> bool {
        self.session.is_empty()
    }

    /// Every effective return value, ascending, with the inputs producing it.
    pub fn outcomes(&self) -> &[(u32, InputSet)] {
        &self.outcomes
    }

    /// The effective meaning through the [`Analysis`] API (`by_action`,
    /// `example`, `contains`, set algebra); its exits are
    /// [derived](Exit::derived).
    pub fn analysis(&mut self) -> &mut Analysis {
        let exits = self.outcomes.iter().map(|&(r, s)| Exit::derived(r, s)).collect();
        self.session.derived(exits)
    }

    /// The effective per-arch, per-syscall table, as [`Analysis::table`] gives
    /// for one filter.
    pub fn table(&mut self, opts: &TableOptions) -> Table {
        self.analysis().table(opts)
    }

    /// Per action, the inputs the stack gives it.
    pub fn by_action(&mut self) -> Vec<(Action, InputSet)> {
        self.analysis().by_action()
    }

    /// The effective return value for `d`, read off the sets.
    pub fn ret_for(&mut self, d: &SeccompData) -> u32 {
        let an = self.session.sets();
        self.outcomes
            .iter()
            .find(|&&(_, s)| an.contains(s, d))
            .map(|&(r, _)| r)
            .expect("the outcomes partition the inputs")
    }

    /// The session holding every filter (session program `i` is filter `i`).
    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }
}

/// One concrete evaluation of a stack, with every filter's run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StackRun {
    /// What the kernel returns (the value `seccomp_run_filters` ends with).
    pub ret: u32,
    #[serde(flatten)]
    pub action: Action,
    /// The filter (installation index) whose value that is; `None` when no
    /// filter ranked below ALLOW, so the initial `SECCOMP_RET_ALLOW` stands.
    pub decided_by: Option<usize>,
    /// Each filter's own outcome and path, in installation order.
    pub filters: Vec<emu::Outcome>,
}

/// Run `d` through every filter of `stack` (installation order) the way
/// `seccomp_run_filters` does.
pub fn run(stack: &[Emulator], d: &SeccompData) -> StackRun {
    let filters: Vec<emu::Outcome> = stack.iter().map(|e| e.trace(d)).collect();
    let (mut ret, mut decided_by) = (SECCOMP_RET_ALLOW, None);
    for (i, o) in filters.iter().enumerate().rev() {
        if Action::from_ret(o.ret).precedence() < Action::from_ret(ret).precedence() {
            ret = o.ret;
            decided_by = Some(i);
        }
    }
    StackRun { ret, action: Action::from_ret(ret), decided_by, filters }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{assemble, validate};
    use crate::testgen;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    fn asm(src: &str) -> ValidProgram {
        validate(&assemble(src).expect("assembles")).expect("valid")
    }

    /// x86_64 only; getpid → ERRNO(1), openat with O_WRONLY/O_RDWR → ERRNO(13),
    /// else ALLOW.
    const BASE: &str = "
        ld [4]
        jeq #0xc000003e, x86, kill
    x86:
        ld [0]
        jeq #39, eperm, next
    next:
        jeq #257, openat, allow
    openat:
        ld [32]
        and #3
        jeq #0, allow, eacces
    eperm:  ret #0x50001
    eacces: ret #0x5000d
    allow:  ret #0x7fff0000
    kill:   ret #0x80000000
    ";

    /// A later layer: getpid → ERRNO(5), kill → TRAP, read logged.
    const LAYER: &str = "
        ld [0]
        jeq #39, e5, next
    next:
        jeq #62, trap, n2
    n2:
        jeq #0, log, allow
    e5:    ret #0x50005
    trap:  ret #0x30007
    log:   ret #0x7ffc0000
    allow: ret #0x7fff0000
    ";

    #[test]
    fn stack_table_reads_like_a_filter_table() {
        let mut s = analyze(&[asm(BASE), asm(LAYER)], &Options::default()).unwrap();
        let t = s.table(&TableOptions { arches: Some(vec![crate::arch::Arch::X86_64]), syscalls: None });
        insta::assert_snapshot!(t.render_text());
    }

    #[test]
    fn ties_keep_the_newest_data_and_the_lowest_action_wins() {
        let mut s = analyze(&[asm(BASE), asm(LAYER)], &Options::default()).unwrap();
        let x86 =
            |nr: u32, a2: u64| SeccompData { nr, arch: 0xc000_003e, instruction_pointer: 0, args: [0, 0, a2, 0, 0, 0] };
        // getpid: ERRNO(1) (older) vs ERRNO(5) (newer): tie, newest data.
        assert_eq!(s.ret_for(&x86(39, 0)), 0x0005_0005);
        // kill: ALLOW vs TRAP(7).
        assert_eq!(s.ret_for(&x86(62, 0)), 0x0003_0007);
        // read: ALLOW vs LOG.
        assert_eq!(s.ret_for(&x86(0, 0)), 0x7ffc_0000);
        // openat O_WRONLY: ERRNO(13) vs ALLOW.
        assert_eq!(s.ret_for(&x86(257, 1)), 0x0005_000d);
        // i386: KILL_PROCESS beats everything.
        assert_eq!(s.ret_for(&SeccompData { arch: 0x4000_0003, nr: 39, ..x86(0, 0) }), 0x8000_0000);
        let r = run(&[Emulator::new(&asm(BASE)), Emulator::new(&asm(LAYER))], &x86(39, 0));
        assert_eq!((r.ret, r.decided_by), (0x0005_0005, Some(1)));
        assert_eq!(r.filters.len(), 2);
    }

    #[test]
    fn empty_stack_allows_everything() {
        let mut s = analyze(&[], &Options::default()).unwrap();
        assert_eq!(s.outcomes().len(), 1);
        assert_eq!(s.ret_for(&SeccompData::default()), SECCOMP_RET_ALLOW);
        assert_eq!(run(&[], &SeccompData::default()).decided_by, None);
    }

    /// An ALLOW with data never replaces the initial ALLOW: the kernel returns
    /// 0x7fff0000 exactly.
    #[test]
    fn allow_data_is_dropped_by_the_kernel() {
        let p = asm("ret #0x7fff0005");
        let s = analyze(std::slice::from_ref(&p), &Options::default()).unwrap();
        assert_eq!(s.outcomes().iter().map(|o| o.0).collect::<Vec<_>>(), vec![SECCOMP_RET_ALLOW]);
        assert_eq!(run(&[Emulator::new(&p)], &SeccompData::default()).decided_by, None);
    }

    /// Differential test: random stacks of generated and real filters, the
    /// symbolic effective value against `emu::run_stack` and [`run`] on
    /// thousands of inputs aimed at the filters' constants.
    #[test]
    fn effective_values_agree_with_the_emulator() {
        let mut rng = SmallRng::seed_from_u64(0x57ac);
        let corpus = [asm(BASE), asm(LAYER)];
        let (mut checked, mut refused) = (0usize, 0usize);
        for round in 0..60 {
            let n = rng.gen_range(1..=4);
            let mut filters = Vec::new();
            let mut programs = Vec::new();
            for _ in 0..n {
                let p = if rng.gen_bool(0.25) {
                    corpus[rng.gen_range(0..corpus.len())].program().clone()
                } else if rng.gen_bool(0.5) {
                    testgen::filter_like(&mut rng)
                } else {
                    testgen::valid_program(&mut rng)
                };
                programs.push(p.clone());
                filters.push(validate(&p).expect("generators make valid programs"));
            }
            let mut s = match analyze(&filters, &Options { node_limit: 1 << 20, ..Options::default() }) {
                Ok(s) => s,
                // Refused, never approximated: multiplying two input words,
                // `RET A` of an input word (up to 2^32 values), random soup
                // whose diagrams outgrow a test-sized budget.
                Err(_) => {
                    refused += 1;
                    continue;
                }
            };
            let emus: Vec<Emulator> = filters.iter().map(Emulator::new).collect();
            let mut inputs = Vec::new();
            for p in &programs {
                inputs.extend(testgen::inputs_for(&mut rng, p, 200 / n));
            }
            for d in &inputs {
                let want = emu::run_stack(&emus, d);
                assert_eq!(s.ret_for(d), want, "round {round}, input {d:?}");
                assert_eq!(run(&emus, d).ret, want);
                checked += 1;
            }
            // Every outcome's example is evaluated to that outcome.
            let outs = s.outcomes().to_vec();
            for (r, set) in outs {
                let d = s.analysis().example(set).expect("outcomes are non-empty");
                assert_eq!(emu::run_stack(&emus, &d), r, "round {round}: example {d:?}");
            }
        }
        eprintln!("{checked} inputs checked, {refused} stacks refused");
        assert!(checked > 5000 && refused < 20, "only {checked} inputs checked, {refused} stacks refused");
    }
}
