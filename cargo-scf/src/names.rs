//! Function names: a project's name is its package's and the function's on
//! the platform, so it follows the platform's rules (which cargo's allow).
//!
//! - SCF (CreateFunction's FunctionName, API 2018-04-16, as the Python
//!   SDK's parameter documentation gives it, deploy/scf-deploy): 2 to 60 of
//!   the 26 letters in either case, digits, `-` and `_`; a letter first;
//!   not `-` or `_` last.
//! - Lambda (CreateFunction's FunctionName): 1 to 64 letters, digits, `-`
//!   and `_`. A package name must not start with a digit, so a letter or
//!   `_` first here.

use crate::package::Platform;

/// Why `name` cannot be the function's name on `platform`, or `None`.
pub fn problem(name: &str, platform: Platform) -> Option<String> {
    let (min, max) = match platform {
        Platform::Scf => (2, 60),
        Platform::Lambda => (1, 64),
    };
    let len = name.chars().count();
    if !(min..=max).contains(&len) {
        return Some(format!("must be {min} to {max} characters long for {}, not {len}", platform.title()));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
        return Some(format!("may hold only letters, digits, '-' and '_', not {bad:?}"));
    }
    let first = name.chars().next().expect("not empty");
    match platform {
        Platform::Scf if !first.is_ascii_alphabetic() => return Some("must start with a letter".into()),
        Platform::Lambda if first.is_ascii_digit() || first == '-' => {
            return Some("must start with a letter or '_' (a cargo package name)".into())
        }
        _ => {}
    }
    if platform == Platform::Scf && !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some("must end with a letter or a digit".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scf_and_lambda_names() {
        for ok in ["hello", "a1", "my-fn_2", &"a".repeat(60)] {
            assert_eq!(problem(ok, Platform::Scf), None, "{ok}");
        }
        for (bad, why) in [
            ("1fn", "must start with a letter"),
            ("fn_", "must end with a letter or a digit"),
            ("f", "must be 2 to 60 characters long for SCF, not 1"),
            ("hé", "may hold only letters, digits, '-' and '_', not 'é'"),
            ("a b", "may hold only letters, digits, '-' and '_', not ' '"),
        ] {
            assert_eq!(problem(bad, Platform::Scf).as_deref(), Some(why), "{bad}");
        }
        assert_eq!(
            problem(&"a".repeat(61), Platform::Scf).as_deref(),
            Some("must be 2 to 60 characters long for SCF, not 61")
        );
        for ok in ["f", "fn_", "_x", &"a".repeat(64)] {
            assert_eq!(problem(ok, Platform::Lambda), None, "{ok}");
        }
        assert!(problem("1fn", Platform::Lambda).unwrap().starts_with("must start with a letter or '_'"));
        assert!(problem(&"a".repeat(65), Platform::Lambda).is_some());
    }
}
