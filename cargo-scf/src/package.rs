//! The packaging rules, shared by `cargo scf build` and `cargo scf
//! package` (scripts/package): a bootstrap is refused, with one line saying
//! why, if it could not start on the platform (`scf_deploy::bootstrap::check`,
//! the deployer's own verdict on a zip's bootstrap); what the platform runs but
//! this runtime's build never makes (a dynamic binary, a script) gets a
//! one-line warning and is packaged. A bootstrap built here loses its
//! section header table (elf::strip_sections), but only after the stripped
//! file has been run once with an empty environment and has answered as the
//! runtime does there: its one-line error about the missing runtime API
//! variable, exit status 1. An aarch64 bootstrap is run under
//! qemu-aarch64-static when it is installed; without it the run is skipped,
//! with a note. The zip is written beside its destination and renamed into
//! place, so a reader never sees half a zip.

use crate::elf::{self, Arch};
use crate::zip::{self, Compressor};
use crate::Msg;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The platforms a zip is made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// Tencent Cloud SCF, Custom Runtime.
    Scf,
    /// AWS Lambda, provided.al2023 / provided.al2 (the same zip layout).
    Lambda,
}

impl Platform {
    pub fn from_name(name: &str) -> Option<Platform> {
        match name {
            "scf" => Some(Platform::Scf),
            "lambda" => Some(Platform::Lambda),
            _ => None,
        }
    }

    /// Its cargo feature, in the runtime and in generated projects.
    pub fn feature(self) -> &'static str {
        match self {
            Platform::Scf => "scf",
            Platform::Lambda => "lambda",
        }
    }

    /// Its name in messages.
    pub fn title(self) -> &'static str {
        match self {
            Platform::Scf => "SCF",
            Platform::Lambda => "Lambda",
        }
    }

    /// The architectures it runs. SCF runs x86_64 only, as far as
    /// Tencent's public documentation shows (CreateFunction has no
    /// architecture setting).
    pub fn arches(self) -> &'static [Arch] {
        match self {
            Platform::Scf => &[Arch::X86_64],
            Platform::Lambda => &[Arch::X86_64, Arch::Aarch64],
        }
    }

    /// `Err` (one line) if the platform does not run `arch`.
    pub fn check_arch(self, arch: Arch, flag: &str) -> Result<(), String> {
        if self.arches().contains(&arch) {
            return Ok(());
        }
        let names: Vec<&str> = self.arches().iter().map(|a| a.name()).collect();
        let value = if flag == "--target" { arch.triple() } else { arch.name() };
        Err(format!(
            "{} runs {} only, as far as its public documentation shows: no {value} zip for it \
             (--platform lambda takes {value})",
            self.title(),
            names.join(" and "),
        ))
    }
}

/// Runs `bin` once with an empty environment, under qemu-user when it is
/// for another architecture. `Ok(None)` if it answered as the runtime does
/// with no environment, `Ok(Some(note))` if it could not be run here (no
/// qemu), `Err` with a one-line reason otherwise.
pub fn starts_like_the_runtime(bin: &Path, arch: Arch) -> Result<Option<String>, String> {
    let mut cmd = if arch.name() == std::env::consts::ARCH {
        Command::new(bin)
    } else {
        let qemu = format!("qemu-{}-static", arch.name());
        let Some(path) = crate::toolchain::on_path(&qemu) else {
            return Ok(Some(format!(
                "{qemu} is not installed: the {} bootstrap without section headers was not test-run",
                arch.name()
            )));
        };
        let mut c = Command::new(path);
        c.arg(bin);
        c
    };
    let child = cmd.env_clear().stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn();
    let got = child.map_err(|e| e.to_string()).and_then(|mut child| {
        // The runtime answers at once; a bootstrap that waits is not it.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(_) => break,
                None if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err("it did not exit within 20 s".to_string());
                }
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        Ok((out.status.code(), out.stderr))
    });
    let (status, stderr) = match got {
        Ok(g) => g,
        Err(e) => (None, e.into_bytes()),
    };
    let text = String::from_utf8_lossy(&stderr);
    if status == Some(1) && is_missing_api_line(&text) {
        return Ok(None);
    }
    let first = text.trim().lines().next().unwrap_or("empty").to_string();
    Err(format!(
        "the bootstrap without its section headers does not start as the runtime does \
         (exit status {}, stderr {first:?}); nothing packaged",
        status.map_or("none".to_string(), |s| s.to_string())
    ))
}

/// The runtime's one line with no environment at all (src/fatal.rs): the
/// platform's runtime API variable is not set. Which variable it names
/// depends on the dialects built in.
fn is_missing_api_line(stderr: &str) -> bool {
    stderr
        .strip_prefix("scf-bootstrap: ")
        .and_then(|s| s.strip_suffix(" is not set\n"))
        .is_some_and(|var| var.ends_with("RUNTIME_API") && !var.contains(char::is_whitespace))
}

/// `data` without its section header table, once the stripped file has been
/// seen to start (see the module doc); `data` itself when there is nothing
/// to strip. Returns the bytes and a note, if any.
pub fn strip_checked(data: &[u8], arch: Arch) -> Result<(Vec<u8>, Option<String>), String> {
    let Ok(out) = elf::strip_sections(data) else {
        return Ok((data.to_vec(), None));
    };
    let dir = scf_emulator::code::TempDir::new("cargo-scf-strip")
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let path = dir.path().join("bootstrap");
    let written = fs::File::create(&path).and_then(|mut f| {
        f.write_all(&out)?;
        f.set_permissions(fs::Permissions::from_mode(0o755))
    });
    written.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let note = starts_like_the_runtime(&path, arch)?;
    Ok((out, note))
}

/// What `write_zip` reports.
pub struct Packaged {
    /// The bootstrap's size as it went into the zip.
    pub shipped: usize,
    /// Its size as built, when it was built here (before the strip).
    pub built: Option<usize>,
    pub zip: usize,
}

/// How a zip is made: for what, with what, and where its notes go.
pub struct Packing<'a> {
    pub arch: Arch,
    pub platform: Platform,
    pub with: Compressor,
    pub msg: &'a Msg,
}

/// Zips `data` (the bootstrap, called `name` in messages) into `out`. A
/// bootstrap `built` by this runtime's build must be a static executable (a
/// warning about it is a refusal) and is stripped (see the module doc).
pub fn write_zip(data: Vec<u8>, out: &Path, name: &str, built: bool, how: &Packing) -> Result<Packaged, String> {
    let Packing { arch, platform, with, msg } = *how;
    let warning = scf_deploy::bootstrap::check(&data, name, arch, platform.title())?;
    if let (Some(w), true) = (&warning, built) {
        let what = w.split(':').next().unwrap_or(w);
        return Err(format!("{what}: the runtime's build should have made a static executable"));
    }
    let as_built = data.len();
    let data = if built {
        let (stripped, note) = strip_checked(&data, arch)?;
        if let Some(note) = note {
            msg.note(&note);
        }
        stripped
    } else {
        data
    };
    if let Some(w) = warning {
        msg.warning(&w);
    }
    let z = zip::zip_bytes(&data, "bootstrap", with)?;
    write_atomically(out, &z)?;
    Ok(Packaged { shipped: data.len(), built: built.then_some(as_built), zip: z.len() })
}

/// Runs `bin serve` with SCF_BOOTSTRAP_LISTEN on a free loopback port, as
/// the emulator runs an image function, and waits up to 10 s for it to
/// accept a connection; then ends it. `Err` (one line) if it exits or does
/// not listen in time: an image whose command cannot serve is not written.
pub fn serves(bin: &Path) -> Result<(), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("cannot find a free port: {e}"))?
        .port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut child = Command::new(bin)
        .arg("serve")
        .env_clear()
        .env("SCF_BOOTSTRAP_LISTEN", addr.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the bootstrap: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let verdict = loop {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            break Ok(());
        }
        match child.try_wait() {
            Ok(Some(status)) => {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                let first = err.lines().next().unwrap_or("nothing on stderr");
                break Err(format!(
                    "`bootstrap serve` exited ({status}: {first:?}) before listening; no image written"
                ));
            }
            Ok(None) if Instant::now() > deadline => {
                break Err("`bootstrap serve` did not listen within 10 s; no image written".into())
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(format!("cannot wait for the bootstrap: {e}")),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    verdict
}

/// The OCI image archive of the bootstrap `data` (built here, so checked
/// as [`write_zip`] does, stripped, and seen to serve) into `out`:
/// `/bootstrap` (0755) of a FROM-scratch image started as `/bootstrap
/// serve` (scf_emulator::oci, deterministic). `zip` in what it returns is
/// the archive's size.
pub fn write_image(data: Vec<u8>, out: &Path, name: &str, how: &Packing) -> Result<Packaged, String> {
    let Packing { arch, platform, .. } = *how;
    if let Some(w) = scf_deploy::bootstrap::check(&data, name, arch, platform.title())? {
        let what = w.split(':').next().unwrap_or(&w);
        return Err(format!("{what}: the runtime's build should have made a static executable"));
    }
    let as_built = data.len();
    // Stripped as a zip's bootstrap is, but checked by serving (below): a
    // push-only bootstrap does not start without `serve`.
    let stripped = elf::strip_sections(&data).unwrap_or(data);
    let dir = scf_emulator::code::TempDir::new("cargo-scf-serve")
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let bin = dir.path().join("bootstrap");
    fs::write(&bin, &stripped)
        .and_then(|()| fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)))
        .map_err(|e| format!("cannot write {}: {e}", bin.display()))?;
    serves(&bin)?;
    let image_arch = match arch {
        Arch::X86_64 => scf_emulator::oci::Arch::Amd64,
        Arch::Aarch64 => scf_emulator::oci::Arch::Arm64,
    };
    let archive = scf_emulator::oci::write(&stripped, image_arch);
    write_atomically(out, &archive)?;
    Ok(Packaged { shipped: stripped.len(), built: Some(as_built), zip: archive.len() })
}

/// Writes `bytes` beside `out` and renames the file into place (mode 0644).
pub fn write_atomically(out: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!("cannot write {}: {} does not exist", out.display(), dir.display()));
    }
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.set_permissions(fs::Permissions::from_mode(0o644))
        })
        .and_then(|()| fs::rename(&tmp, out));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", out.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf_fixture::{elf, with_section_table};

    #[test]
    fn the_empty_environment_line_is_recognised_for_either_dialect() {
        assert!(is_missing_api_line("scf-bootstrap: SCF_RUNTIME_API is not set\n"));
        assert!(is_missing_api_line("scf-bootstrap: AWS_LAMBDA_RUNTIME_API is not set\n"));
        assert!(!is_missing_api_line("scf-bootstrap: SCF_RUNTIME_API is not set\nmore\n"));
        assert!(!is_missing_api_line("scf-bootstrap: _HANDLER is not set\n"));
        assert!(!is_missing_api_line(""));
    }

    /// A file that no longer starts once stripped is refused with one line:
    /// an executable whose only segment is 16 zero bytes, with a section
    /// table after it for the strip to remove.
    #[test]
    fn a_stripped_binary_that_does_not_start_is_refused() {
        let f = with_section_table(elf(2, 62, 2, &[(1, vec![0u8; 16])]));
        let err = strip_checked(&f, Arch::X86_64).unwrap_err();
        assert!(
            err.starts_with("the bootstrap without its section headers does not start as the runtime does"),
            "{err}"
        );
        assert!(err.ends_with("; nothing packaged") && !err.contains('\n'), "{err}");
    }

    /// A binary without section headers is packaged as it is, unrun.
    #[test]
    fn nothing_to_strip_is_not_run() {
        let f = elf(2, 62, 2, &[(1, vec![0u8; 16])]);
        assert_eq!(strip_checked(&f, Arch::X86_64).unwrap(), (f, None));
    }

    /// `serves`: a program that listens on SCF_BOOTSTRAP_LISTEN passes
    /// (then is ended); one that exits first is refused in one line.
    #[test]
    fn an_image_command_must_listen() {
        let dir = scf_emulator::code::TempDir::new("cargo-scf-serves-test").unwrap();
        let script = |name: &str, body: &str| {
            let p = dir.path().join(name);
            fs::write(&p, format!("#!/usr/bin/python3\n{body}")).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
            p
        };
        let listens = script(
            "listens",
            "import os, socket, sys, time\nassert sys.argv[1:] == ['serve']\n\
             h, p = os.environ['SCF_BOOTSTRAP_LISTEN'].rsplit(':', 1)\n\
             s = socket.socket(); s.bind((h, int(p))); s.listen()\ntime.sleep(60)\n",
        );
        assert_eq!(serves(&listens), Ok(()));
        let exits = script("exits", "import sys\nsys.stderr.write('scf-bootstrap: no serve here\\n')\nsys.exit(1)\n");
        let err = serves(&exits).unwrap_err();
        assert!(
            err.starts_with("`bootstrap serve` exited (exit status: 1: \"scf-bootstrap: no serve here\")"),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn scf_refuses_aarch64_in_the_flag_s_own_terms() {
        assert!(Platform::Lambda.check_arch(Arch::Aarch64, "--arch").is_ok());
        assert_eq!(
            Platform::Scf.check_arch(Arch::Aarch64, "--target").unwrap_err(),
            "SCF runs x86_64 only, as far as its public documentation shows: no aarch64-unknown-linux-musl zip \
             for it (--platform lambda takes aarch64-unknown-linux-musl)"
        );
        assert_eq!(
            Platform::Scf.check_arch(Arch::Aarch64, "--arch").unwrap_err(),
            "SCF runs x86_64 only, as far as its public documentation shows: no aarch64 zip for it \
             (--platform lambda takes aarch64)"
        );
    }
}
