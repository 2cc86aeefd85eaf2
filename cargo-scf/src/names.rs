//! Function names: a project's name is its package's and the function's on
//! the platform, so it follows the platform's rules (which cargo's allow).
//!
//! - SCF: the deployer's rule, `scf_deploy::function_name_problem`
//!   (CreateFunction's FunctionName as Tencent documents it), one copy for
//!   both tools.
//! - Lambda (CreateFunction's FunctionName): 1 to 64 letters, digits, `-`
//!   and `_`. A package name must not start with a digit, so a letter or
//!   `_` first here.

use crate::package::Platform;

/// Why `name` cannot be the function's name on `platform`, or `None`.
pub fn problem(name: &str, platform: Platform) -> Option<String> {
    if platform == Platform::Scf {
        return scf_deploy::function_name_problem(name);
    }
    let len = name.chars().count();
    if !(1..=64).contains(&len) {
        return Some(format!("must be 1 to 64 characters long for Lambda, not {len}"));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
        return Some(format!("may hold only letters, digits, '-' and '_', not {bad:?}"));
    }
    if name.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return Some("must start with a letter or '_' (a cargo package name)".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_names() {
        for ok in ["f", "fn_", "_x", &"a".repeat(64)] {
            assert_eq!(problem(ok, Platform::Lambda), None, "{ok}");
        }
        assert!(problem("1fn", Platform::Lambda).unwrap().starts_with("must start with a letter or '_'"));
        assert_eq!(
            problem(&"a".repeat(65), Platform::Lambda).unwrap(),
            "must be 1 to 64 characters long for Lambda, not 65"
        );
        assert_eq!(problem("a b", Platform::Lambda).unwrap(), "may hold only letters, digits, '-' and '_', not ' '");
        // SCF's is the deployer's.
        assert_eq!(problem("1fn", Platform::Scf), scf_deploy::function_name_problem("1fn"));
    }
}
