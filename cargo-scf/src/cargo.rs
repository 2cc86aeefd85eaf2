//! Running `cargo build` for a bootstrap: its JSON messages name the binary
//! it built, and its stderr passes through a filter that shows a failed
//! build script the way a compiler error is shown. Cargo prints a failing
//! build script's whole stdout first, which for the runtime is some twenty
//! `cargo:rerun-if-...` lines above the C compiler's diagnostics or the
//! one line that says what to install; the filter drops cargo's wrapper and
//! that stdout, and prints the script's stderr alone.

use crate::elf::Arch;
use crate::project::cargo;
use crate::Fatal;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One `cargo build --release` of a package with a `bootstrap` binary.
pub struct Build<'a> {
    /// Where cargo runs (its .cargo/config.toml applies there).
    pub dir: &'a Path,
    pub arch: Arch,
    /// More arguments: the package, features, `--manifest-path`.
    pub args: Vec<OsString>,
    /// `--target-dir`, if not cargo's own choice.
    pub target_dir: Option<&'a Path>,
    /// Environment settings: a value to set, or `None` to remove.
    pub env: Vec<(&'a str, Option<OsString>)>,
    pub quiet: bool,
}

/// What a failed build printed, as the filter saw it.
#[derive(Default)]
struct Seen {
    /// An `error` line (cargo's, rustc's, or a build script's) was shown.
    error: bool,
}

impl Build<'_> {
    /// Runs the build and returns the path of the `bootstrap` it wrote.
    pub fn run(&self) -> Result<PathBuf, Fatal> {
        let mut cmd = Command::new(cargo());
        cmd.current_dir(self.dir)
            .args(["build", "--release", "--target", self.arch.triple(), "--message-format=json-render-diagnostics"])
            .args(&self.args);
        if std::io::stderr().is_terminal() {
            cmd.arg("--color=always");
        }
        if self.quiet {
            cmd.arg("--quiet");
        }
        if let Some(t) = self.target_dir {
            cmd.arg("--target-dir").arg(t);
        }
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Fatal::new(format!("cannot run {}: {e}", cargo())))?;
        let stderr = child.stderr.take().expect("piped");
        let filter = std::thread::spawn(move || filter_stderr(BufReader::new(stderr), &mut std::io::stderr()));
        let mut exes = Vec::new();
        for line in BufReader::new(child.stdout.take().expect("piped")).lines().map_while(Result::ok) {
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if msg["reason"] == "compiler-artifact" {
                if let Some(exe) = msg["executable"].as_str() {
                    exes.push((msg["target"]["name"].as_str().unwrap_or_default().to_string(), PathBuf::from(exe)));
                }
            }
        }
        let status = child.wait().map_err(|e| Fatal::new(format!("cannot wait for cargo: {e}")))?;
        let seen = filter.join().unwrap_or_default();
        if !status.success() {
            if seen.error {
                // What went wrong is on stderr already, in its own words.
                return Err(Fatal::silent());
            }
            return Err(Fatal::new(format!("cargo build failed ({status}); its output is above")));
        }
        let named: Vec<&PathBuf> = exes.iter().filter(|(n, _)| n == "bootstrap").map(|(_, p)| p).collect();
        match (&named[..], &exes[..]) {
            ([.., last], _) => Ok(last.to_path_buf()),
            ([], [(_, only)]) => Ok(only.clone()),
            ([], []) => Err(Fatal::new("no bootstrap was built: cargo reported no executable")),
            ([], _) => Err(Fatal::new("no bootstrap was built: the crate has no binary named `bootstrap`")),
        }
    }
}

/// Copies cargo's stderr to `out`, showing a failed build script as its
/// own stderr only (see the module doc), without cargo's indentation.
fn filter_stderr(input: impl BufRead, out: &mut impl Write) -> Seen {
    enum State {
        Normal,
        /// In a failed build script's report, before its `--- stderr`; the
        /// report's first line, shown if no stderr follows.
        Wrapper(String),
        /// Its stderr: lines indented by two spaces.
        Script,
    }
    let mut state = State::Normal;
    let mut seen = Seen::default();
    let mut blanks = 0;
    for line in input.lines().map_while(Result::ok) {
        let plain = strip_ansi(&line);
        if plain.starts_with("warning: build failed, waiting for other jobs to finish") {
            continue;
        }
        let top_level = !plain.starts_with(' ') && !plain.is_empty();
        if plain.starts_with("error: failed to run custom build command for `") {
            state = State::Wrapper(line);
            continue;
        }
        match &state {
            State::Wrapper(_) if plain.trim() == "--- stderr" => {
                state = State::Script;
                seen.error = true;
                blanks = 0;
                continue;
            }
            // Cargo's next report ("Caused by:" is still this one's).
            State::Wrapper(header) if plain.starts_with("error") || plain.starts_with("warning") => {
                let _ = writeln!(out, "{header}");
                seen.error = true;
                state = State::Normal;
            }
            State::Wrapper(_) => continue,
            State::Script if top_level => state = State::Normal,
            State::Script => {
                // Blank lines inside the diagnostics stay; the ones cargo
                // adds after them do not.
                if plain.trim().is_empty() {
                    blanks += 1;
                    continue;
                }
                for _ in 0..std::mem::take(&mut blanks) {
                    let _ = writeln!(out);
                }
                let _ = writeln!(out, "{}", line.strip_prefix("  ").unwrap_or(&line));
                continue;
            }
            State::Normal => {}
        }
        if plain.starts_with("error") {
            seen.error = true;
        }
        let _ = writeln!(out, "{line}");
    }
    if let State::Wrapper(header) = state {
        let _ = writeln!(out, "{header}");
        seen.error = true;
    }
    seen
}

/// `line` without ANSI colour sequences (cargo colours its own lines on a
/// terminal).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filtered(input: &str) -> (String, bool) {
        let mut out = Vec::new();
        let seen = filter_stderr(input.as_bytes(), &mut out);
        (String::from_utf8(out).unwrap(), seen.error)
    }

    /// A failed build script's report, as cargo 1.95 prints it: only the
    /// script's stderr is left.
    #[test]
    fn a_failed_build_script_shows_its_stderr_only() {
        let cargo = "   Compiling scf-bootstrap v0.1.0 (/c)\n\
                     error: failed to run custom build command for `scf-bootstrap v0.1.0 (/c)`\n\
                     \n\
                     Caused by:\n  process didn't exit successfully: `/t/build-script-build` (exit status: 1)\n  \
                     --- stdout\n  cargo:rustc-check-cfg=cfg(scf_demo)\n  cargo:rerun-if-env-changed=SCF_HANDLER_LIBS\n\n  \
                     --- stderr\n  src/handler.c:3:1: error: unknown type name 'nope'\n      3 | nope x;\n        | ^~~~\n  \
                     error: scf-bootstrap build: musl-gcc failed (exit status: 1) compiling /p/src/handler.c\n\n\
                     warning: build failed, waiting for other jobs to finish...\n";
        let (out, error) = filtered(cargo);
        assert_eq!(
            out,
            "   Compiling scf-bootstrap v0.1.0 (/c)\nsrc/handler.c:3:1: error: unknown type name 'nope'\n    3 | nope x;\n      \
             | ^~~~\nerror: scf-bootstrap build: musl-gcc failed (exit status: 1) compiling /p/src/handler.c\n"
        );
        assert!(error);
        // A report with no stderr keeps cargo's own first line.
        let (out, error) = filtered("error: failed to run custom build command for `x`\n\nCaused by:\n  --- stdout\n");
        assert_eq!((out.as_str(), error), ("error: failed to run custom build command for `x`\n", true));
    }

    #[test]
    fn other_output_passes_as_it_is() {
        let text =
            "   Compiling hello v0.1.0\nerror[E0425]: cannot find value `x`\n\nerror: could not compile `hello`\n";
        assert_eq!(filtered(text), (text.to_string(), true));
        assert_eq!(filtered("    Finished `release` profile\n"), ("    Finished `release` profile\n".into(), false));
        assert_eq!(strip_ansi("\x1b[1m\x1b[31merror\x1b[0m: x"), "error: x");
    }
}
