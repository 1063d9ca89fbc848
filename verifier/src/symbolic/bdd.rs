//! A small reduced ordered BDD package, built for the symbolic evaluator's workload.
//!
//! Why our own (measurements in `symbolic/mod.rs`): the evaluator makes millions of
//! tiny operations — a path condition ANDed with a 32-node comparison chain, a
//! bit of a symbolic word XORed with a literal — on one shared, short-lived node
//! store. What that needs is a hash-consed node arena with a lossy operation
//! cache, no reference counting and no garbage collection (an analysis lives for
//! milliseconds; its node budget, [`Manager::with_limit`], bounds memory instead),
//! and `mk` exposed so comparison chains can be built bottom-up without any
//! `apply` at all.
//!
//! Invariants: node 0 is FALSE, node 1 is TRUE; every other node has
//! `level < level(lo)`, `level < level(hi)` and `lo != hi`; `(level, lo, hi)` is
//! unique. So two handles are equal exactly when the functions are equal.
//!
//! Running out of the node budget (or of the step budget that bounds time,
//! [`STEPS_PER_NODE`] per node) does not unwind: the manager sets a sticky
//! `exhausted` flag and returns FALSE from then on. Callers check
//! [`Manager::exhausted`] after each unit of work (the evaluator: after each
//! instruction) and turn it into an error; no result computed after exhaustion is
//! ever used.

/// A handle to a function in a [`Manager`]. Equal handles ⇔ equal functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bdd(u32);

impl Bdd {
    pub const FALSE: Bdd = Bdd(0);
    pub const TRUE: Bdd = Bdd(1);

    pub fn is_false(self) -> bool {
        self == Bdd::FALSE
    }
    pub fn is_true(self) -> bool {
        self == Bdd::TRUE
    }
    pub fn is_const(self) -> bool {
        self.0 < 2
    }
    /// The raw node index (stable for the manager's lifetime).
    pub fn index(self) -> u32 {
        self.0
    }
}

/// The level of terminal nodes: below every variable.
pub const TERMINAL_LEVEL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Node {
    level: u32,
    lo: u32,
    hi: u32,
}

#[derive(Clone, Copy, Default)]
struct Entry {
    op: u32,
    a: u32,
    b: u32,
    c: u32,
    r: u32,
}

/// Work allowed per node of the budget. Real filters take about one step per
/// node they keep (0.5 to 1.2 over the corpus and the bench filters, table
/// included), random arithmetic programs (`testgen`) up to about 200; a
/// symbolic `mul x` can take millions, which without this bound took minutes
/// to reach the node budget (found by the `emu_symbolic` fuzz target).
pub const STEPS_PER_NODE: u64 = 256;

/// Operation-cache entries at most (20 bytes each).
const MAX_CACHE: usize = 1 << 22;

const OP_AND: u32 = 1;
const OP_OR: u32 = 2;
const OP_XOR: u32 = 3;
const OP_DIFF: u32 = 4;
const OP_NOT: u32 = 5;
const OP_ITE: u32 = 6;

/// The node store with its unique table and operation cache.
pub struct Manager {
    nodes: Vec<Node>,
    /// Open addressing, linear probing; 0 marks an empty slot (node 0 is never stored).
    table: Vec<u32>,
    cache: Vec<Entry>,
    limit: usize,
    /// Recursion steps taken (operation-cache misses) and the most allowed:
    /// the node budget bounds memory, this bounds time (an operation can
    /// walk large diagrams for a small result, e.g. a symbolic `mul x`).
    steps: u64,
    step_limit: u64,
    exhausted: bool,
    trace: Option<Vec<TraceOp>>,
}

/// One recorded top-level operation: operand and result node indices (0 =
/// FALSE, 1 = TRUE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceOp {
    Mk { level: u32, lo: u32, hi: u32, r: u32 },
    Not { a: u32, r: u32 },
    And { a: u32, b: u32, r: u32 },
    Or { a: u32, b: u32, r: u32 },
    Xor { a: u32, b: u32, r: u32 },
    Diff { a: u32, b: u32, r: u32 },
    Ite { a: u32, b: u32, c: u32, r: u32 },
}

impl Default for Manager {
    fn default() -> Self {
        Manager::with_limit(1 << 22)
    }
}

#[inline(always)]
fn hash3(a: u32, b: u32, c: u32) -> u64 {
    let x = ((a as u64) << 40) ^ ((b as u64) << 20) ^ (c as u64) ^ ((b as u64) >> 44);
    let x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 29) ^ ((c as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f))
}

impl Manager {
    /// A manager that refuses to grow past `limit` nodes.
    pub fn with_limit(limit: usize) -> Manager {
        Manager::with_capacity(limit, 1 << 12)
    }

    /// A manager sized for about `expected` nodes up front (tables are doubled
    /// past that), refusing to grow past `limit` nodes. Sizing once avoids the
    /// rehashing and page faults that otherwise dominate short analyses.
    pub fn with_capacity(limit: usize, expected: usize) -> Manager {
        let expected = expected.clamp(1 << 10, limit.max(1 << 10));
        let slots = (expected * 2).next_power_of_two();
        let mut m = Manager {
            nodes: Vec::with_capacity(expected),
            table: vec![0; slots],
            cache: vec![Entry::default(); (slots / 2).clamp(1 << 12, MAX_CACHE)],
            limit: limit.max(2),
            steps: 0,
            step_limit: (limit.max(2) as u64).saturating_mul(STEPS_PER_NODE),
            exhausted: false,
            trace: None,
        };
        m.nodes.push(Node { level: TERMINAL_LEVEL, lo: 0, hi: 0 });
        m.nodes.push(Node { level: TERMINAL_LEVEL, lo: 1, hi: 1 });
        m
    }

    /// Did an operation hit the node limit? Sticky.
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }
    /// The node budget.
    pub fn limit(&self) -> usize {
        self.limit
    }
    /// Nodes allocated so far (both terminals included).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    #[inline(always)]
    pub fn level(&self, f: Bdd) -> u32 {
        self.nodes[f.0 as usize].level
    }
    /// The else-child (variable = 0). Terminals return themselves.
    #[inline(always)]
    pub fn low(&self, f: Bdd) -> Bdd {
        Bdd(self.nodes[f.0 as usize].lo)
    }
    /// The then-child (variable = 1). Terminals return themselves.
    #[inline(always)]
    pub fn high(&self, f: Bdd) -> Bdd {
        Bdd(self.nodes[f.0 as usize].hi)
    }

    #[inline]
    fn mk_raw(&mut self, level: u32, lo: Bdd, hi: Bdd) -> Bdd {
        if lo == hi {
            return lo;
        }
        debug_assert!(level < self.level(lo) && level < self.level(hi), "mk out of order");
        let mask = self.table.len() - 1;
        let mut i = (hash3(level, lo.0, hi.0) as usize) & mask;
        loop {
            let slot = self.table[i];
            if slot == 0 {
                break;
            }
            let n = self.nodes[slot as usize];
            if n.level == level && n.lo == lo.0 && n.hi == hi.0 {
                return Bdd(slot);
            }
            i = (i + 1) & mask;
        }
        if self.nodes.len() >= self.limit {
            self.exhausted = true;
            return Bdd::FALSE;
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(Node { level, lo: lo.0, hi: hi.0 });
        self.table[i] = id;
        if self.nodes.len() * 2 > self.table.len() {
            self.grow();
        }
        id_to_bdd(id)
    }

    fn grow(&mut self) {
        let cap = self.table.len() * 2;
        let mut table = vec![0u32; cap];
        let mask = cap - 1;
        for (id, n) in self.nodes.iter().enumerate().skip(2) {
            let mut i = (hash3(n.level, n.lo, n.hi) as usize) & mask;
            while table[i] != 0 {
                i = (i + 1) & mask;
            }
            table[i] = id as u32;
        }
        self.table = table;
        // Keep the (lossy) cache about as large as the node store, up to a cap:
        // heavy arithmetic re-derives shared subresults and thrashes a small one.
        if self.cache.len() < cap.min(MAX_CACHE) {
            self.cache = vec![Entry::default(); cap.min(MAX_CACHE)];
        }
    }

    /// The answer of a recursive operation without recursing, if there is
    /// one: `FALSE` once exhausted (or when this step goes past the step
    /// budget, which exhausts the manager), else the cached result. `None`:
    /// recurse; the step is counted.
    #[inline(always)]
    fn settled(&mut self, op: u32, a: u32, b: u32, c: u32) -> Option<Bdd> {
        if self.exhausted {
            return Some(Bdd::FALSE);
        }
        if let Some(r) = self.cache_get(op, a, b, c) {
            return Some(r);
        }
        self.steps += 1;
        if self.steps > self.step_limit {
            self.exhausted = true;
            return Some(Bdd::FALSE);
        }
        None
    }

    /// Recursion steps per node kept so far (how close an analysis came to
    /// the step budget, [`STEPS_PER_NODE`]).
    pub fn steps_per_node(&self) -> f64 {
        self.steps as f64 / self.nodes.len() as f64
    }

    #[inline(always)]
    fn cache_get(&self, op: u32, a: u32, b: u32, c: u32) -> Option<Bdd> {
        let i = (hash3(a ^ (op << 27), b, c) as usize) & (self.cache.len() - 1);
        let e = self.cache[i];
        (e.op == op && e.a == a && e.b == b && e.c == c).then_some(Bdd(e.r))
    }

    #[inline(always)]
    fn cache_put(&mut self, op: u32, a: u32, b: u32, c: u32, r: Bdd) {
        if self.exhausted {
            return; // results after exhaustion are garbage; never memoise them
        }
        let i = (hash3(a ^ (op << 27), b, c) as usize) & (self.cache.len() - 1);
        self.cache[i] = Entry { op, a, b, c, r: r.0 };
    }

    // ---- public operations (recorded when tracing) ----

    /// The node `if var(level) then hi else lo`. Requires `level` above both
    /// children's levels (building diagrams bottom-up).
    #[inline]
    pub fn mk(&mut self, level: u32, lo: Bdd, hi: Bdd) -> Bdd {
        let r = self.mk_raw(level, lo, hi);
        self.record(TraceOp::Mk { level, lo: lo.0, hi: hi.0, r: r.0 });
        r
    }
    pub fn not(&mut self, f: Bdd) -> Bdd {
        let r = self.not_rec(f);
        self.record(TraceOp::Not { a: f.0, r: r.0 });
        r
    }
    pub fn and(&mut self, a: Bdd, b: Bdd) -> Bdd {
        let r = self.and_rec(a, b);
        self.record(TraceOp::And { a: a.0, b: b.0, r: r.0 });
        r
    }
    pub fn or(&mut self, a: Bdd, b: Bdd) -> Bdd {
        let r = self.or_rec(a, b);
        self.record(TraceOp::Or { a: a.0, b: b.0, r: r.0 });
        r
    }
    pub fn xor(&mut self, a: Bdd, b: Bdd) -> Bdd {
        let r = self.xor_rec(a, b);
        self.record(TraceOp::Xor { a: a.0, b: b.0, r: r.0 });
        r
    }
    /// `a ∧ ¬b` without building `¬b`.
    pub fn diff(&mut self, a: Bdd, b: Bdd) -> Bdd {
        let r = self.diff_rec(a, b);
        self.record(TraceOp::Diff { a: a.0, b: b.0, r: r.0 });
        r
    }
    /// `if f then g else h`.
    pub fn ite(&mut self, f: Bdd, g: Bdd, h: Bdd) -> Bdd {
        let r = self.ite_rec(f, g, h);
        self.record(TraceOp::Ite { a: f.0, b: g.0, c: h.0, r: r.0 });
        r
    }

    #[inline(always)]
    fn record(&mut self, op: TraceOp) {
        if let Some(t) = &mut self.trace {
            t.push(op);
        }
    }

    /// Start recording every public operation (for replaying the same workload
    /// on other BDD packages, `speed/benches/bdd_packages.rs`).
    pub fn start_trace(&mut self) {
        self.trace = Some(Vec::new());
    }
    /// The operations recorded since [`Manager::start_trace`].
    pub fn take_trace(&mut self) -> Vec<TraceOp> {
        self.trace.take().unwrap_or_default()
    }

    /// The variable at `level` (positive literal).
    pub fn var(&mut self, level: u32) -> Bdd {
        self.mk(level, Bdd::FALSE, Bdd::TRUE)
    }
    /// The negated variable at `level`.
    pub fn nvar(&mut self, level: u32) -> Bdd {
        self.mk(level, Bdd::TRUE, Bdd::FALSE)
    }
    pub fn constant(b: bool) -> Bdd {
        if b {
            Bdd::TRUE
        } else {
            Bdd::FALSE
        }
    }

    /// If `f` is a single literal, its level and polarity (true = positive).
    pub fn as_literal(&self, f: Bdd) -> Option<(u32, bool)> {
        let n = self.nodes[f.0 as usize];
        match (n.lo, n.hi) {
            (0, 1) if f.0 > 1 => Some((n.level, true)),
            (1, 0) => Some((n.level, false)),
            _ => None,
        }
    }

    #[inline(always)]
    fn cofactors(&self, f: Bdd, level: u32) -> (Bdd, Bdd) {
        let n = self.nodes[f.0 as usize];
        if n.level == level {
            (Bdd(n.lo), Bdd(n.hi))
        } else {
            (f, f)
        }
    }

    fn not_rec(&mut self, f: Bdd) -> Bdd {
        if f.0 < 2 {
            return Bdd(f.0 ^ 1);
        }
        if let Some(r) = self.settled(OP_NOT, f.0, 0, 0) {
            return r;
        }
        let n = self.nodes[f.0 as usize];
        let lo = self.not_rec(Bdd(n.lo));
        let hi = self.not_rec(Bdd(n.hi));
        let r = self.mk_raw(n.level, lo, hi);
        self.cache_put(OP_NOT, f.0, 0, 0, r);
        r
    }

    fn and_rec(&mut self, a: Bdd, b: Bdd) -> Bdd {
        if a == Bdd::FALSE || b == Bdd::FALSE {
            return Bdd::FALSE;
        }
        if a == Bdd::TRUE || a == b {
            return b;
        }
        if b == Bdd::TRUE {
            return a;
        }
        let (a, b) = if a.0 < b.0 { (a, b) } else { (b, a) };
        if let Some(r) = self.settled(OP_AND, a.0, b.0, 0) {
            return r;
        }
        let top = self.level(a).min(self.level(b));
        let (a0, a1) = self.cofactors(a, top);
        let (b0, b1) = self.cofactors(b, top);
        let lo = self.and_rec(a0, b0);
        let hi = self.and_rec(a1, b1);
        let r = self.mk_raw(top, lo, hi);
        self.cache_put(OP_AND, a.0, b.0, 0, r);
        r
    }

    fn or_rec(&mut self, a: Bdd, b: Bdd) -> Bdd {
        if a == Bdd::TRUE || b == Bdd::TRUE {
            return Bdd::TRUE;
        }
        if a == Bdd::FALSE || a == b {
            return b;
        }
        if b == Bdd::FALSE {
            return a;
        }
        let (a, b) = if a.0 < b.0 { (a, b) } else { (b, a) };
        if let Some(r) = self.settled(OP_OR, a.0, b.0, 0) {
            return r;
        }
        let top = self.level(a).min(self.level(b));
        let (a0, a1) = self.cofactors(a, top);
        let (b0, b1) = self.cofactors(b, top);
        let lo = self.or_rec(a0, b0);
        let hi = self.or_rec(a1, b1);
        let r = self.mk_raw(top, lo, hi);
        self.cache_put(OP_OR, a.0, b.0, 0, r);
        r
    }

    fn xor_rec(&mut self, a: Bdd, b: Bdd) -> Bdd {
        if a == b {
            return Bdd::FALSE;
        }
        if a == Bdd::FALSE {
            return b;
        }
        if b == Bdd::FALSE {
            return a;
        }
        if a == Bdd::TRUE {
            return self.not_rec(b);
        }
        if b == Bdd::TRUE {
            return self.not_rec(a);
        }
        let (a, b) = if a.0 < b.0 { (a, b) } else { (b, a) };
        if let Some(r) = self.settled(OP_XOR, a.0, b.0, 0) {
            return r;
        }
        let top = self.level(a).min(self.level(b));
        let (a0, a1) = self.cofactors(a, top);
        let (b0, b1) = self.cofactors(b, top);
        let lo = self.xor_rec(a0, b0);
        let hi = self.xor_rec(a1, b1);
        let r = self.mk_raw(top, lo, hi);
        self.cache_put(OP_XOR, a.0, b.0, 0, r);
        r
    }

    fn diff_rec(&mut self, a: Bdd, b: Bdd) -> Bdd {
        if a == Bdd::FALSE || b == Bdd::TRUE || a == b {
            return Bdd::FALSE;
        }
        if b == Bdd::FALSE {
            return a;
        }
        if a == Bdd::TRUE {
            return self.not_rec(b);
        }
        if let Some(r) = self.settled(OP_DIFF, a.0, b.0, 0) {
            return r;
        }
        let top = self.level(a).min(self.level(b));
        let (a0, a1) = self.cofactors(a, top);
        let (b0, b1) = self.cofactors(b, top);
        let lo = self.diff_rec(a0, b0);
        let hi = self.diff_rec(a1, b1);
        let r = self.mk_raw(top, lo, hi);
        self.cache_put(OP_DIFF, a.0, b.0, 0, r);
        r
    }

    fn ite_rec(&mut self, f: Bdd, g: Bdd, h: Bdd) -> Bdd {
        if f == Bdd::TRUE || g == h {
            return g;
        }
        if f == Bdd::FALSE {
            return h;
        }
        if g == Bdd::TRUE && h == Bdd::FALSE {
            return f;
        }
        if g == Bdd::FALSE && h == Bdd::TRUE {
            return self.not_rec(f);
        }
        if g == Bdd::TRUE || f == g {
            return self.or_rec(f, h);
        }
        if h == Bdd::FALSE || f == h {
            return self.and_rec(f, g);
        }
        if g == Bdd::FALSE {
            return self.diff_rec(h, f);
        }
        if let Some(r) = self.settled(OP_ITE, f.0, g.0, h.0) {
            return r;
        }
        let top = self.level(f).min(self.level(g)).min(self.level(h));
        let (f0, f1) = self.cofactors(f, top);
        let (g0, g1) = self.cofactors(g, top);
        let (h0, h1) = self.cofactors(h, top);
        let lo = self.ite_rec(f0, g0, h0);
        let hi = self.ite_rec(f1, g1, h1);
        let r = self.mk_raw(top, lo, hi);
        self.cache_put(OP_ITE, f.0, g.0, h.0, r);
        r
    }

    /// Do `a` and `b` share a satisfying assignment? No nodes are built.
    pub fn intersects(&self, a: Bdd, b: Bdd) -> bool {
        fn go(m: &Manager, a: Bdd, b: Bdd, seen: &mut std::collections::HashSet<(u32, u32)>) -> bool {
            if a == Bdd::FALSE || b == Bdd::FALSE {
                return false;
            }
            if a == Bdd::TRUE || b == Bdd::TRUE || a == b {
                return true;
            }
            if !seen.insert((a.0, b.0)) {
                return false; // already explored: no intersection found below
            }
            let top = m.level(a).min(m.level(b));
            let (a0, a1) = m.cofactors(a, top);
            let (b0, b1) = m.cofactors(b, top);
            go(m, a0, b0, seen) || go(m, a1, b1, seen)
        }
        go(self, a, b, &mut Default::default())
    }

    /// Is `a ⊆ b` (`a → b` valid)?
    pub fn implies(&self, a: Bdd, b: Bdd) -> bool {
        fn go(m: &Manager, a: Bdd, b: Bdd, seen: &mut std::collections::HashSet<(u32, u32)>) -> bool {
            if a == Bdd::FALSE || b == Bdd::TRUE || a == b {
                return true;
            }
            if a == Bdd::TRUE && b == Bdd::FALSE {
                return false;
            }
            if !seen.insert((a.0, b.0)) {
                return true;
            }
            let top = m.level(a).min(m.level(b));
            let (a0, a1) = m.cofactors(a, top);
            let (b0, b1) = m.cofactors(b, top);
            go(m, a0, b0, seen) && go(m, a1, b1, seen)
        }
        go(self, a, b, &mut Default::default())
    }

    /// `f` with the variables at `levels[i]` fixed to `values[i]` (levels ascending).
    pub fn restrict(&mut self, f: Bdd, assignment: &[(u32, bool)]) -> Bdd {
        debug_assert!(assignment.windows(2).all(|w| w[0].0 < w[1].0));
        let mut memo = std::collections::HashMap::new();
        self.restrict_rec(f, assignment, &mut memo)
    }

    fn restrict_rec(&mut self, f: Bdd, asg: &[(u32, bool)], memo: &mut std::collections::HashMap<u32, Bdd>) -> Bdd {
        if f.is_const() {
            return f;
        }
        let lvl = self.level(f);
        // Drop assignments above this node: they cannot occur below.
        let start = asg.partition_point(|&(l, _)| l < lvl);
        let asg = &asg[start..];
        if asg.is_empty() {
            return f;
        }
        if let Some(&r) = memo.get(&f.0) {
            return r;
        }
        let (lo, hi) = (self.low(f), self.high(f));
        let r = if asg[0].0 == lvl {
            let child = if asg[0].1 { hi } else { lo };
            self.restrict_rec(child, &asg[1..], memo)
        } else {
            let l = self.restrict_rec(lo, asg, memo);
            let h = self.restrict_rec(hi, asg, memo);
            self.mk_raw(lvl, l, h)
        };
        memo.insert(f.0, r);
        r
    }

    /// The lexicographically smallest satisfying assignment in level order
    /// (free variables 0), as the list of levels set to 1. `None` for FALSE.
    pub fn pick_min(&self, f: Bdd) -> Option<Vec<u32>> {
        if f.is_false() {
            return None;
        }
        let mut ones = Vec::new();
        let mut n = f;
        while !n.is_true() {
            let (lo, hi) = (self.low(n), self.high(n));
            if lo.is_false() {
                ones.push(self.level(n));
                n = hi;
            } else {
                n = lo;
            }
        }
        Some(ones)
    }

    /// The lexicographically largest satisfying assignment (free variables 1),
    /// as the list of levels set to 1 — free levels are not listed; the caller
    /// knows its variable range. `None` for FALSE.
    pub fn pick_max(&self, f: Bdd) -> Option<Vec<u32>> {
        if f.is_false() {
            return None;
        }
        let mut ones = Vec::new();
        let mut n = f;
        while !n.is_true() {
            let (lo, hi) = (self.low(n), self.high(n));
            if hi.is_false() {
                n = lo;
            } else {
                ones.push(self.level(n));
                n = hi;
            }
        }
        Some(ones)
    }

    /// Number of distinct nodes reachable from `f` (terminals included).
    pub fn size(&self, f: Bdd) -> usize {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![f];
        while let Some(n) = stack.pop() {
            if seen.insert(n) && !n.is_const() {
                stack.push(self.low(n));
                stack.push(self.high(n));
            }
        }
        seen.len()
    }

    /// Number of satisfying assignments over the `nvars` variables at levels
    /// `first..first + nvars`, for a function whose support lies in that range.
    /// Saturates at `u128::MAX`.
    pub fn count(&self, f: Bdd, first: u32, nvars: u32) -> u128 {
        let end = first + nvars;
        let mut memo = std::collections::HashMap::new();
        fn lvl(m: &Manager, f: Bdd, end: u32) -> u32 {
            if f.is_const() {
                end
            } else {
                m.level(f)
            }
        }
        // Returns the count for the sub-function over levels level(f)..end.
        fn go(m: &Manager, f: Bdd, end: u32, memo: &mut std::collections::HashMap<u32, u128>) -> u128 {
            if f.is_false() {
                return 0;
            }
            if f.is_true() {
                return 1;
            }
            if let Some(&c) = memo.get(&f.0) {
                return c;
            }
            let l = m.level(f);
            let mut total = 0u128;
            for child in [m.low(f), m.high(f)] {
                let gap = lvl(m, child, end) - l - 1;
                let c = go(m, child, end, memo);
                total = total.saturating_add(shl_sat(c, gap));
            }
            memo.insert(f.0, total);
            total
        }
        let gap = lvl(self, f, end).saturating_sub(first);
        shl_sat(go(self, f, end, &mut memo), gap)
    }

    /// Does `f` depend on any variable at a level in `from..to`?
    pub fn depends_on_range(&self, f: Bdd, from: u32, to: u32) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![f];
        while let Some(n) = stack.pop() {
            if n.is_const() || !seen.insert(n) {
                continue;
            }
            let l = self.level(n);
            if l >= to {
                continue;
            }
            if l >= from {
                return true;
            }
            stack.push(self.low(n));
            stack.push(self.high(n));
        }
        false
    }
}

fn shl_sat(c: u128, by: u32) -> u128 {
    if c == 0 {
        0
    } else if by >= 128 || c.leading_zeros() < by {
        u128::MAX
    } else {
        c << by
    }
}

#[inline(always)]
fn id_to_bdd(id: u32) -> Bdd {
    Bdd(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A random Boolean formula over 6 variables, evaluated directly and as a BDD.
    #[derive(Clone, Debug)]
    enum F {
        Var(u32),
        Not(Box<F>),
        And(Box<F>, Box<F>),
        Or(Box<F>, Box<F>),
        Xor(Box<F>, Box<F>),
        Diff(Box<F>, Box<F>),
        Ite(Box<F>, Box<F>, Box<F>),
    }

    fn formula() -> impl Strategy<Value = F> {
        let leaf = (0u32..6).prop_map(F::Var);
        leaf.prop_recursive(6, 64, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(|a| F::Not(Box::new(a))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| F::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| F::Or(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| F::Xor(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| F::Diff(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone(), inner).prop_map(|(a, b, c)| F::Ite(
                    Box::new(a),
                    Box::new(b),
                    Box::new(c)
                )),
            ]
        })
    }

    fn eval(f: &F, x: u32) -> bool {
        match f {
            F::Var(v) => x >> v & 1 == 1,
            F::Not(a) => !eval(a, x),
            F::And(a, b) => eval(a, x) && eval(b, x),
            F::Or(a, b) => eval(a, x) || eval(b, x),
            F::Xor(a, b) => eval(a, x) ^ eval(b, x),
            F::Diff(a, b) => eval(a, x) && !eval(b, x),
            F::Ite(a, b, c) => {
                if eval(a, x) {
                    eval(b, x)
                } else {
                    eval(c, x)
                }
            }
        }
    }

    fn build(m: &mut Manager, f: &F) -> Bdd {
        match f {
            // Spread the 6 variables over levels so gaps are exercised.
            F::Var(v) => m.var(v * 3 + 1),
            F::Not(a) => {
                let a = build(m, a);
                m.not(a)
            }
            F::And(a, b) => {
                let (a, b) = (build(m, a), build(m, b));
                m.and(a, b)
            }
            F::Or(a, b) => {
                let (a, b) = (build(m, a), build(m, b));
                m.or(a, b)
            }
            F::Xor(a, b) => {
                let (a, b) = (build(m, a), build(m, b));
                m.xor(a, b)
            }
            F::Diff(a, b) => {
                let (a, b) = (build(m, a), build(m, b));
                m.diff(a, b)
            }
            F::Ite(a, b, c) => {
                let (a, b, c) = (build(m, a), build(m, b), build(m, c));
                m.ite(a, b, c)
            }
        }
    }

    fn eval_bdd(m: &Manager, mut f: Bdd, x: u32) -> bool {
        while !f.is_const() {
            let v = (m.level(f) - 1) / 3;
            f = if x >> v & 1 == 1 { m.high(f) } else { m.low(f) };
        }
        f.is_true()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn operations_match_truth_tables(f in formula(), g in formula()) {
            // A tiny cache forces collisions, a tiny table forces rehashing.
            let mut m = Manager::with_limit(1 << 20);
            let bf = build(&mut m, &f);
            let bg = build(&mut m, &g);
            let mut count = 0u128;
            for x in 0..64u32 {
                prop_assert_eq!(eval_bdd(&m, bf, x), eval(&f, x));
                count += eval(&f, x) as u128;
            }
            // Canonicity: equal functions, equal handles.
            let same = (0..64).all(|x| eval(&f, x) == eval(&g, x));
            prop_assert_eq!(same, bf == bg);
            // Count over the 18 levels 1..19 (3 per variable, 2 of them unused).
            prop_assert_eq!(m.count(bf, 1, 18), count << 12);
            prop_assert_eq!(m.intersects(bf, bg), (0..64).any(|x| eval(&f, x) && eval(&g, x)));
            prop_assert_eq!(m.implies(bf, bg), (0..64).all(|x| !eval(&f, x) || eval(&g, x)));
            if let Some(ones) = m.pick_min(bf) {
                let x = ones.iter().fold(0u32, |x, l| x | 1 << ((l - 1) / 3));
                prop_assert!(eval(&f, x));
                // smallest in level order = smallest number with bit 0 most significant
                let rank = |x: u32| (0..6).fold(0u32, |r, v| r << 1 | (x >> v & 1));
                prop_assert!((0..64).filter(|&y| eval(&f, y)).all(|y| rank(y) >= rank(x)));
            } else {
                prop_assert_eq!(count, 0);
            }
            let r = m.restrict(bf, &[(4, true), (10, false)]);
            for x in 0..64u32 {
                let y = (x | 2) & !8;
                prop_assert_eq!(eval_bdd(&m, r, x), eval(&f, y));
            }
        }
    }

    #[test]
    fn node_limit_is_sticky_and_reported() {
        let mut m = Manager::with_limit(40);
        let mut f = Bdd::FALSE;
        for i in 0..64 {
            let v = m.var(i);
            f = m.xor(f, v);
            if m.exhausted() {
                break;
            }
        }
        assert!(m.exhausted());
        assert!(m.node_count() <= 40);
    }
}
