//! What a campaign reached, so that a run shows what it fuzzed instead of
//! leaving it to be assumed: per arch, per rule-set size class and per arch
//! and size class together, each in filters for that arch alone and in
//! filters for several arches ([`Cell`]), the cases generated and, per
//! compiler, how many it compiled and compared and why it did not compare
//! the others (a generator that cannot take an arch says so, by its own
//! refusal, instead of being skipped in silence).

use super::shapes::SizeClass;
use crate::arch::Arch;
use std::collections::BTreeMap;

/// One coverage cell: an arch, a size class, or both (`None`: any), in
/// filters for one arch (`with_others: false`) or for several.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell {
    pub arch: Option<Arch>,
    pub size: Option<SizeClass>,
    pub with_others: bool,
}

impl Cell {
    /// `s390x alone`, `256-400 rules with other arches`, `s390x, 1-12 rules alone`.
    pub fn label(&self) -> String {
        let what = match (self.arch, self.size) {
            (Some(a), Some(s)) => format!("{}, {}", a.name(), s.label()),
            (Some(a), None) => a.name().to_string(),
            (None, Some(s)) => s.label(),
            (None, None) => "every case".to_string(),
        };
        format!("{what} {}", if self.with_others { "with other arches" } else { "alone" })
    }

    /// Whether the cell is one arch or one size class (not both).
    pub fn is_marginal(&self) -> bool {
        self.arch.is_none() || self.size.is_none()
    }

    /// The cells a case with these arches and this many rules falls in:
    /// each arch, the size class, and each arch with the size class.
    pub fn of(abis: &[Arch], rules: usize) -> Vec<Cell> {
        let with_others = abis.len() > 1;
        let size = SizeClass::of(rules);
        let mut v: Vec<Cell> = abis.iter().map(|&a| Cell { arch: Some(a), size: None, with_others }).collect();
        v.push(Cell { arch: None, size: Some(size), with_others });
        v.extend(abis.iter().map(|&a| Cell { arch: Some(a), size: Some(size), with_others }));
        v
    }
}

/// One cell's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CellCounts {
    /// Cases generated in the cell.
    pub cases: u64,
    /// Per compiler (in the campaign's order): cases compiled and compared
    /// (exactly, or a divergence shown).
    pub compared: Vec<u64>,
    /// Per compiler: the others, by why (the refusal's reason, `too large to
    /// compare exactly`, `hung`, …).
    pub not_compared: Vec<BTreeMap<String, u64>>,
}

/// A run's coverage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub cells: BTreeMap<Cell, CellCounts>,
}

impl Coverage {
    /// A case of `cells` was generated (for `compilers` compilers).
    pub fn case(&mut self, cells: &[Cell], compilers: usize) {
        for c in cells {
            let e = self.cells.entry(*c).or_insert_with(|| CellCounts {
                cases: 0,
                compared: vec![0; compilers],
                not_compared: vec![BTreeMap::new(); compilers],
            });
            e.cases += 1;
        }
    }

    /// Compiler `ci` compared the case of `cells` (`None`), or did not, for
    /// this reason.
    pub fn outcome(&mut self, cells: &[Cell], ci: usize, not_compared: Option<&str>) {
        for c in cells {
            let Some(e) = self.cells.get_mut(c) else { continue };
            match not_compared {
                None => e.compared[ci] += 1,
                Some(why) => *e.not_compared[ci].entry(why.to_string()).or_default() += 1,
            }
        }
    }

    /// Every cell a campaign over `arches` should reach: each arch, each
    /// size class, and each pair of them, alone and (with `multi_arch`) with
    /// other arches; the size classes only the one a `--profile-size` run
    /// has. A filter for several arches has arches of one byte order (the
    /// one generator whose filters can have several, libseccomp, refuses
    /// to mix them: `seccomp_arch_add` fails with `EEXIST`), so an arch is
    /// with others only when `arches` has another of its byte order.
    pub fn expected(arches: &[Arch], multi_arch: bool, fixed_size: Option<usize>) -> Vec<Cell> {
        let sizes: Vec<SizeClass> = match fixed_size {
            Some(n) => vec![SizeClass::of(n)],
            None => SizeClass::ALL.to_vec(),
        };
        let partnered = |a: Arch| arches.iter().any(|&b| b != a && b.little_endian() == a.little_endian());
        let mut v = Vec::new();
        for with_others in [false, true] {
            let side: Vec<Arch> =
                arches.iter().copied().filter(|&a| !with_others || (multi_arch && partnered(a))).collect();
            if side.is_empty() {
                continue;
            }
            for &a in &side {
                v.push(Cell { arch: Some(a), size: None, with_others });
                v.extend(sizes.iter().map(|&s| Cell { arch: Some(a), size: Some(s), with_others }));
            }
            v.extend(sizes.iter().map(|&s| Cell { arch: None, size: Some(s), with_others }));
        }
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_counts_in_each_of_its_arches_its_size_class_and_their_pairs() {
        let mut cov = Coverage::default();
        let cells = Cell::of(&[Arch::S390x, Arch::Ppc64], 300);
        assert_eq!(cells.len(), 5);
        cov.case(&cells, 2);
        cov.outcome(&cells, 0, None);
        cov.outcome(&cells, 1, Some("refused"));
        let big = &cov.cells[&Cell { arch: None, size: Some(SizeClass::VeryLarge), with_others: true }];
        assert_eq!((big.cases, big.compared.clone()), (1, vec![1, 0]));
        assert_eq!(big.not_compared[1]["refused"], 1);
        let pair = &cov.cells[&Cell { arch: Some(Arch::Ppc64), size: Some(SizeClass::VeryLarge), with_others: true }];
        assert_eq!(pair.cases, 1);
        assert_eq!(Cell::of(&[Arch::X86_64], 1)[0].label(), "x86_64 alone");
        assert_eq!(cells[2].label(), "256-400 rules with other arches");
        assert_eq!(cells[4].label(), "ppc64, 256-400 rules with other arches");
        assert!(cells[2].is_marginal() && !cells[4].is_marginal());
    }

    #[test]
    fn expected_cells_follow_the_arches_byte_orders_and_a_fixed_size() {
        // x86_64 and aarch64 (both little-endian): each alone and with the other.
        let both = Coverage::expected(&[Arch::X86_64, Arch::Aarch64], true, None);
        assert_eq!(both.len(), 2 * (2 * 5 + 4));
        // s390x has no partner of its byte order: alone only.
        let lone = Coverage::expected(&[Arch::X86_64, Arch::S390x], true, None);
        assert_eq!(lone.len(), 2 * 5 + 4);
        // Single-arch generators, one size class.
        assert_eq!(Coverage::expected(&[Arch::X86_64, Arch::Aarch64], false, Some(20)).len(), 2 * 2 + 1);
    }

    /// The cells the first `cases` cases of seed 1 fall in, as the campaign
    /// generates them (only the generation: no compiler runs).
    fn generated<C: crate::genfuzz::Case>(campaign: &crate::genfuzz::Campaign<C>, cases: u64) -> Coverage {
        let mut cov = Coverage::default();
        for i in 0..cases {
            let bytes = crate::genfuzz::case_bytes(1, i);
            let shape = campaign.shape.for_case(i, &campaign.targets, campaign.multi_arch);
            let case = (campaign.generate)(&mut arbitrary::Unstructured::new(&bytes), &shape).expect("generated");
            cov.case(&Cell::of(&case.abis(), case.rule_count()), 0);
        }
        cov
    }

    fn missing(cov: &Coverage, expected: &[Cell]) -> Vec<String> {
        expected.iter().filter(|c| !cov.cells.contains_key(c)).map(Cell::label).collect()
    }

    #[test]
    fn two_passes_over_the_arches_reach_every_arch_and_size_class_and_24_every_pair() {
        let lib = crate::genfuzz::libseccomp::campaign();
        let n = lib.targets.len() as u64;
        assert_eq!(n, 19, "every arch libseccomp 2.5 targets");
        let expected = Coverage::expected(&lib.targets, true, None);
        let marginal: Vec<Cell> = expected.iter().copied().filter(Cell::is_marginal).collect();
        assert_eq!(marginal.len(), 2 * (19 + 4));
        assert_eq!(missing(&generated(&lib, 2 * n), &marginal), Vec::<String>::new());
        assert_eq!(missing(&generated(&lib, 24 * n), &expected), Vec::<String>::new());
        // The first pass is every arch alone, so the second is needed.
        assert!(!missing(&generated(&lib, n), &marginal).is_empty());

        let sc = crate::genfuzz::seccompiler::campaign();
        let n = sc.targets.len() as u64;
        let expected = Coverage::expected(&sc.targets, false, None);
        assert_eq!(expected.len(), 3 + 4 + 3 * 4);
        let marginal: Vec<Cell> = expected.iter().copied().filter(Cell::is_marginal).collect();
        assert_eq!(missing(&generated(&sc, 2 * n), &marginal), Vec::<String>::new());
        assert_eq!(missing(&generated(&sc, 24 * n), &expected), Vec::<String>::new());
    }

    #[test]
    fn the_schedule_keeps_to_arches_and_a_fixed_size() {
        use crate::genfuzz::Shape;
        let s390 = vec![Arch::S390x, Arch::S390, Arch::Ppc64];
        let lib = crate::genfuzz::Campaign {
            shape: Shape { rules: Some(30), arches: Some(s390.clone()), pick: None },
            ..crate::genfuzz::libseccomp::campaign()
        };
        let cov = generated(&lib, 6);
        assert_eq!(missing(&cov, &Coverage::expected(&s390, true, Some(30))), Vec::<String>::new());
        assert!(cov
            .cells
            .keys()
            .all(|c| c.arch.is_none_or(|a| s390.contains(&a)) && c.size.is_none_or(|s| s == SizeClass::Medium)));
    }
}
