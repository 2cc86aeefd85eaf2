//! A function's code: a directory, or a zip unpacked into a temporary one;
//! or an image function's root: an OCI image archive or layout unpacked
//! into a temporary directory, with the image's command.

use crate::oci;
use crate::sys;
use crate::zip;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why the code could not be loaded.
#[derive(Debug)]
pub enum CodeError {
    NotFound(PathBuf, io::Error),
    /// Neither a directory, a zip file nor an image archive.
    NotCode(PathBuf),
    Zip(PathBuf, zip::ZipError),
    /// An image archive or layout that cannot be read or unpacked.
    Image(PathBuf, oci::Error),
    TempDir(io::Error),
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeError::NotFound(p, e) => {
                write!(f, "cannot read function code {}: {e}", p.display())
            }
            CodeError::NotCode(p) => {
                write!(
                    f,
                    "function code {} is neither a directory, a zip file nor an OCI image archive",
                    p.display()
                )
            }
            CodeError::Zip(p, e) => write!(f, "{}: {e}", p.display()),
            CodeError::Image(p, e) => write!(f, "image {}: {e}", p.display()),
            CodeError::TempDir(e) => write!(f, "cannot create a temporary directory: {e}"),
        }
    }
}

impl std::error::Error for CodeError {}

/// A directory that is removed when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh private directory under the system temp directory.
    pub fn new(prefix: &str) -> io::Result<TempDir> {
        let base = std::env::temp_dir();
        for _ in 0..16 {
            let name = format!(
                "{prefix}-{}-{}",
                std::process::id(),
                &crate::api::new_request_id()[..8]
            );
            let path = base.join(name);
            match fs::create_dir(&path) {
                Ok(()) => {
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o700))?;
                    sys::register_temp_dir(&path);
                    return Ok(TempDir(path));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free temporary directory name",
        ))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
        sys::unregister_temp_dir(&self.0);
    }
}

/// Function code ready to run: the root holds `bootstrap` (a zip
/// function's, or an image function's `/bootstrap`), or, for an image, the
/// image's files.
#[derive(Debug)]
pub struct FunctionCode {
    root: PathBuf,
    source: PathBuf,
    image: Option<oci::RunSpec>,
    _unpacked: Option<TempDir>,
}

impl FunctionCode {
    /// A directory is used in place; a zip file is unpacked (Unix modes
    /// kept) into a temporary directory that lives as long as the returned
    /// value. An OCI image archive (a tar, `oci-archive` or `docker save`)
    /// or an OCI image layout directory (it holds `oci-layout`) is an image
    /// function: its files are unpacked likewise, and its command kept
    /// ([`image`](Self::image)).
    pub fn load(path: &Path) -> Result<FunctionCode, CodeError> {
        let meta = fs::metadata(path).map_err(|e| CodeError::NotFound(path.to_path_buf(), e))?;
        if meta.is_dir() {
            if path.join("oci-layout").is_file() {
                let image =
                    oci::read_layout(path).map_err(|e| CodeError::Image(path.to_path_buf(), e))?;
                return FunctionCode::unpacked_image(path, image);
            }
            let root =
                fs::canonicalize(path).map_err(|e| CodeError::NotFound(path.to_path_buf(), e))?;
            return Ok(FunctionCode {
                root,
                source: path.to_path_buf(),
                image: None,
                _unpacked: None,
            });
        }
        let data = fs::read(path).map_err(|e| CodeError::NotFound(path.to_path_buf(), e))?;
        if is_tar(&data) {
            let image = oci::read(&data).map_err(|e| CodeError::Image(path.to_path_buf(), e))?;
            return FunctionCode::unpacked_image(path, image);
        }
        if !data.starts_with(b"PK") {
            return Err(CodeError::NotCode(path.to_path_buf()));
        }
        let tmp = TempDir::new("scf-emulator-code").map_err(CodeError::TempDir)?;
        zip::unpack(&data, tmp.path()).map_err(|e| CodeError::Zip(path.to_path_buf(), e))?;
        Ok(FunctionCode {
            root: tmp.path().to_path_buf(),
            source: path.to_path_buf(),
            image: None,
            _unpacked: Some(tmp),
        })
    }

    fn unpacked_image(source: &Path, image: oci::Image) -> Result<FunctionCode, CodeError> {
        let tmp = TempDir::new("scf-emulator-image").map_err(CodeError::TempDir)?;
        image
            .unpack(tmp.path())
            .map_err(|e| CodeError::Image(source.to_path_buf(), e))?;
        Ok(FunctionCode {
            root: tmp.path().to_path_buf(),
            source: source.to_path_buf(),
            image: Some(image.run),
            _unpacked: Some(tmp),
        })
    }

    /// For code loaded from an image archive or layout, how the image
    /// starts (its Entrypoint, Cmd, Env and WorkingDir).
    pub fn image(&self) -> Option<&oci::RunSpec> {
        self.image.as_ref()
    }

    /// The code root: the bootstrap's working directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What [`load`](Self::load) was given.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The default function name: the directory or zip file name without
    /// extension.
    pub fn default_name(&self) -> String {
        self.source
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty() && *s != "." && *s != "..")
            .unwrap_or("function")
            .to_string()
    }

    /// Checks that `bootstrap` exists at the root, is a regular file and is
    /// executable, the way SCF checks before it starts an instance. The
    /// error is a one-line description of the fault.
    pub fn check_bootstrap(&self) -> Result<PathBuf, String> {
        let path = self.root.join("bootstrap");
        check_executable(&path, "bootstrap", "at the root of the code package")?;
        Ok(path)
    }

    /// Where an image's command runs, as this emulator runs it: the
    /// program (its path in the image mapped under the root), its
    /// arguments, and the working directory (the image's WorkingDir under
    /// the root, else the root). A command word without a `/` is looked
    /// up in the image's `PATH`. The error is a one-line description of
    /// the fault.
    pub fn image_command(
        &self,
        run: &oci::RunSpec,
    ) -> Result<(PathBuf, Vec<String>, PathBuf), String> {
        let command = run.command();
        let Some((first, args)) = command.split_first() else {
            return Err("the image sets neither Entrypoint nor Cmd".into());
        };
        let inside = |p: &str| self.root.join(p.trim_start_matches('/'));
        let cwd = run
            .working_dir
            .as_deref()
            .map_or_else(|| self.root.clone(), inside);
        let program = if first.starts_with('/') {
            inside(first)
        } else if first.contains('/') {
            cwd.join(first)
        } else {
            let path = run.env.iter().find_map(|e| e.strip_prefix("PATH="));
            let dirs =
                path.unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
            dirs.split(':')
                .map(|d| inside(d).join(first))
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    format!("the image's command {first} is not in the image's PATH ({dirs})")
                })?
        };
        check_executable(
            &program,
            &format!("the image's command {first}"),
            "in the image",
        )?;
        Ok((program, args.to_vec(), cwd))
    }
}

/// A regular file with an execute bit, or the one-line reason it is not
/// one (`what` names it, `place` says where it was looked for).
fn check_executable(path: &Path, what: &str, place: &str) -> Result<(), String> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(format!("{what} file not found {place}"))
        }
        Err(e) => return Err(format!("cannot read {what}: {e}")),
    };
    if !meta.is_file() {
        return Err(format!("{what} {place} is not a regular file"));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "{what} is not executable (mode {:o}; it needs 755)",
            meta.permissions().mode() & 0o7777
        ));
    }
    Ok(())
}

/// A tar archive (the "ustar" magic of its first header), or a
/// gzip-compressed one (read to find out).
fn is_tar(data: &[u8]) -> bool {
    data.get(257..262) == Some(b"ustar") || data.starts_with(&[0x1f, 0x8b])
}
