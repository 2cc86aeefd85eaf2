//! What the repository's tests share besides the runtime API peer: how a
//! test that needs a tool from outside Rust (Python with Tencent's SDK,
//! Chromium, cargo-lambda, valgrind) behaves when the tool is missing.
//!
//! Under CI (`CI` set) it fails. Elsewhere it is skipped, and says so: a
//! marker line [`SKIPPED`]` <test>: <tool> not found (install: <how>)`
//! on stderr, written past the test harness's output capture, so that it
//! reaches the log of a test that passes. `scripts/test` collects these
//! lines from its logs and counts them in its closing line, so that a skip
//! is never silent.

use std::io::Write;

/// How a marker line starts.
pub const SKIPPED: &str = "SKIPPED ";

/// Whether a missing tool fails a test instead of skipping it: `CI` is set.
pub fn tools_required() -> bool {
    std::env::var_os("CI").is_some()
}

/// Writes the marker line for the running test (its harness thread's name)
/// skipped for want of `tool`; `install` says how to get it.
pub fn report_skip(tool: &str, install: &str) {
    // io::stderr() directly, not eprintln!: the harness captures only the
    // print macros' output, and shows it only for a test that fails.
    marker(tool, install, &mut std::io::stderr());
}

fn marker(tool: &str, install: &str, out: &mut dyn Write) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("(unnamed test)");
    let line = format!("{SKIPPED}{test}: {tool} not found (install: {install})\n");
    let _ = out.write_all(line.as_bytes());
}

/// `found` when the tool is there. When it is not (`None`): with CI set, a
/// panic that names it and how to install it; otherwise the marker line and
/// `None`, for the test to return without asserting.
#[track_caller]
pub fn require_tool<T>(tool: &str, found: Option<T>, install: &str) -> Option<T> {
    decide(
        tool,
        found,
        install,
        tools_required(),
        &mut std::io::stderr(),
    )
}

#[track_caller]
fn decide<T>(
    tool: &str,
    found: Option<T>,
    install: &str,
    required: bool,
    out: &mut dyn Write,
) -> Option<T> {
    if found.is_some() {
        return found;
    }
    assert!(
        !required,
        "{tool} not found (CI is set, so this fails instead of skipping); install: {install}"
    );
    marker(tool, install, out);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_is_a_marker_line_or_under_ci_a_failure() {
        for required in [false, true] {
            let mut out = Vec::new();
            assert_eq!(decide("sh", Some(7), "-", required, &mut out), Some(7));
            assert!(out.is_empty(), "nothing said for a tool found");
        }
        let mut out = Vec::new();
        assert_eq!(
            decide::<()>("no-such-tool", None, "apt-get install it", false, &mut out),
            None
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "SKIPPED testkit::tests::a_missing_tool_is_a_marker_line_or_under_ci_a_failure: \
             no-such-tool not found (install: apt-get install it)\n"
        );
        let failed = std::panic::catch_unwind(|| {
            decide::<()>(
                "no-such-tool",
                None,
                "apt-get install it",
                true,
                &mut Vec::new(),
            )
        });
        let why = failed.unwrap_err();
        let why = why.downcast_ref::<String>().unwrap();
        assert_eq!(
            why,
            "no-such-tool not found (CI is set, so this fails instead of skipping); \
             install: apt-get install it"
        );
    }
}
