//! The exact input set of a `when` expression.

use super::{CmpOp, Expr, Field as ExprField};
use crate::symbolic::vars::Field;
use crate::symbolic::{Analysis, InputSet};

fn field(f: ExprField) -> Field {
    match f {
        ExprField::Arg(i) => Field::Arg(i),
        ExprField::Ip => Field::Ip,
    }
}

/// The inputs where `e` holds (arguments as full 64-bit values).
///
/// Recursion follows nesting only (bounded by [`super::MAX_DEPTH`] for
/// parsed expressions); the operands of an n-ary `and`/`or` are folded in a
/// loop, which stops early once the set is settled (empty for `and`) or the
/// decision diagrams outgrew their budget (`a.exhausted()`: the caller must
/// then refuse, as `policy::check::check_with` and the lints do).
pub fn input_set(a: &mut Analysis, e: &Expr) -> InputSet {
    match e {
        Expr::True => a.all(),
        Expr::Not(x) => {
            let s = input_set(a, x);
            a.not(s)
        }
        Expr::And(es) => {
            let mut acc = a.all();
            for x in es {
                let s = input_set(a, x);
                acc = a.and(acc, s);
                if a.is_empty(acc) || a.exhausted() {
                    break;
                }
            }
            acc
        }
        Expr::Or(es) => {
            let mut acc = a.none();
            for x in es {
                let s = input_set(a, x);
                acc = a.or(acc, s);
                if a.exhausted() {
                    break;
                }
            }
            acc
        }
        Expr::Cmp { field: f, mask, op, value } => {
            let f = field(*f);
            let (m, v) = (*mask, *value);
            match op {
                CmpOp::Eq => a.field_masked_eq(f, m, v),
                CmpOp::Ne => {
                    let s = a.field_masked_eq(f, m, v);
                    a.not(s)
                }
                CmpOp::Lt if v == 0 => a.none(),
                CmpOp::Lt => a.field_masked_range(f, m, 0, v - 1),
                CmpOp::Le => a.field_masked_range(f, m, 0, v),
                CmpOp::Gt if v == u64::MAX => a.none(),
                CmpOp::Gt => a.field_masked_range(f, m, v + 1, u64::MAX),
                CmpOp::Ge => a.field_masked_range(f, m, v, u64::MAX),
            }
        }
        Expr::In { field: f, mask, lo, hi } => a.field_masked_range(field(*f), *mask, *lo, *hi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use crate::bpf::insn::{Insn, Program, BPF_K, BPF_RET};
    use crate::seccomp::SeccompData;

    /// The set holds exactly the inputs [`Expr::eval`] accepts, masked
    /// ordering comparisons included (the lints once refused those and
    /// skipped the family member they guarded).
    #[test]
    fn set_is_eval_on_masked_orderings() {
        let p = crate::bpf::validate(&Program::new(vec![Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000)])).unwrap();
        let mut a = crate::symbolic::analyze(&p, &Default::default()).unwrap();
        let values = [0, 1, 0x0f, 0x10, 0x11, 0xff, 0x100, 0x1010, 0xffff_ffff, 1 << 32, u64::MAX - 1, u64::MAX];
        for text in [
            "arg0 & 0xff < 0x10",
            "arg0 & 0xff <= 0x10",
            "arg0 & 0xf0 > 0x10",
            "arg0 & 0xffff0000ffff >= 0x100000000",
            "arg0 & 0x1ff in [0x10, 0x100]",
            "ip & 0xff00 < 0x1000",
            "not arg0 & 0xff > 0 or arg0 & 0xff00 in [0x100, 0x1000]",
        ] {
            let e = super::super::parse(text, &[Arch::X86_64]).unwrap();
            let s = input_set(&mut a, &e);
            for &v in &values {
                let d = SeccompData { nr: 0, arch: 0xc000_003e, instruction_pointer: v, args: [v, 0, 0, 0, 0, 0] };
                assert_eq!(a.contains(s, &d), e.eval(&d.args, v), "{text} at {v:#x}");
            }
        }
    }
}
