//! Finding the tools from outside Rust that tests need, shared by the
//! emulator's tests (emulator/tests/common) and the deployer's
//! (deploy/tests/common, which includes this file by path): both crates sit
//! one directory below the repository root.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A tool a test needs from outside Rust (Python with Tencent's SDK,
/// Chromium): `None` means skip, reported by a marker line that
/// scripts/test counts; with `CI` set a missing tool fails the test
/// instead ([`scf_emulator::testkit`]).
pub fn require_tool(what: &str, found: Option<PathBuf>, install: &str) -> Option<PathBuf> {
    scf_emulator::testkit::require_tool(what, found, install)
}

/// The Python interpreter with `tencentcloud-sdk-python-scf` installed:
/// `SCF_TEST_PYTHON`, else `.venv/bin/python` at the repository root (what
/// `.ci/run` creates).
pub fn sdk_python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let venv = root.join(".venv/bin/python");
    let python = std::env::var_os("SCF_TEST_PYTHON").map_or(venv, PathBuf::from);
    let works = Command::new(&python)
        .args(["-c", "import tencentcloud.scf.v20180416.scf_client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    require_tool(
        &format!("{} with tencentcloud-sdk-python-scf", python.display()),
        works.then_some(python),
        "python3 -m venv .venv && .venv/bin/pip install tencentcloud-sdk-python-scf, or set SCF_TEST_PYTHON",
    )
}
