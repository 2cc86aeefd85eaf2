//! A function's code: a directory, or a zip unpacked into a temporary one.

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
    /// Neither a directory nor a `.zip` file.
    NotCode(PathBuf),
    Zip(PathBuf, zip::ZipError),
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
                    "function code {} is neither a directory nor a zip file",
                    p.display()
                )
            }
            CodeError::Zip(p, e) => write!(f, "{}: {e}", p.display()),
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

/// Function code ready to run: the root holds `bootstrap`.
#[derive(Debug)]
pub struct FunctionCode {
    root: PathBuf,
    source: PathBuf,
    _unpacked: Option<TempDir>,
}

impl FunctionCode {
    /// A directory is used in place; a zip file is unpacked (Unix modes
    /// kept) into a temporary directory that lives as long as the returned
    /// value.
    pub fn load(path: &Path) -> Result<FunctionCode, CodeError> {
        let meta = fs::metadata(path).map_err(|e| CodeError::NotFound(path.to_path_buf(), e))?;
        if meta.is_dir() {
            let root =
                fs::canonicalize(path).map_err(|e| CodeError::NotFound(path.to_path_buf(), e))?;
            return Ok(FunctionCode {
                root,
                source: path.to_path_buf(),
                _unpacked: None,
            });
        }
        let data = fs::read(path).map_err(|e| CodeError::NotFound(path.to_path_buf(), e))?;
        if !data.starts_with(b"PK") {
            return Err(CodeError::NotCode(path.to_path_buf()));
        }
        let tmp = TempDir::new("scf-emulator-code").map_err(CodeError::TempDir)?;
        zip::unpack(&data, tmp.path()).map_err(|e| CodeError::Zip(path.to_path_buf(), e))?;
        Ok(FunctionCode {
            root: tmp.path().to_path_buf(),
            source: path.to_path_buf(),
            _unpacked: Some(tmp),
        })
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
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err("bootstrap file not found at the root of the code package".into())
            }
            Err(e) => return Err(format!("cannot read bootstrap: {e}")),
        };
        if !meta.is_file() {
            return Err("bootstrap at the root of the code package is not a regular file".into());
        }
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(format!(
                "bootstrap is not executable (mode {:o}; it needs 755)",
                meta.permissions().mode() & 0o7777
            ));
        }
        Ok(path)
    }
}
