//! Counted nouns for everything seccheck prints: "1 instruction", "2
//! instructions", "1 property", "3 properties". One place, so no sentence says
//! "1 instructions".

/// `n` and the noun, singular for exactly one: `count(1, "instruction")` is
/// "1 instruction", `count(0, "instruction")` "0 instructions". Nouns whose
/// plural is not `+s` go through [`count_irregular`].
pub fn count(n: usize, singular: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {singular}s")
    }
}

/// `n` with an irregular noun: `count_irregular(2, "property", "properties")`.
pub fn count_irregular(n: usize, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

/// The noun alone, for sentences that print the number elsewhere.
pub fn noun<'a>(n: usize, singular: &'a str, plural: &'a str) -> &'a str {
    if n == 1 {
        singular
    } else {
        plural
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_everything_else_plural() {
        assert_eq!(count(1, "instruction"), "1 instruction");
        assert_eq!(count(0, "instruction"), "0 instructions");
        assert_eq!(count(4097, "instruction"), "4097 instructions");
        assert_eq!(count_irregular(1, "property", "properties"), "1 property");
        assert_eq!(count_irregular(6, "property", "properties"), "6 properties");
        assert_eq!(noun(1, "holds", "hold"), "holds");
    }
}
