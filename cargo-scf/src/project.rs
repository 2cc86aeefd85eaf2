//! The function's project, as cargo describes it (`cargo metadata
//! --no-deps`): its package, its target directory, its features, and the
//! platform its default features choose.

use crate::package::Platform;
use crate::Fatal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn cargo() -> String {
    std::env::var("CARGO").ok().filter(|c| !c.is_empty()).unwrap_or_else(|| "cargo".into())
}

/// A package with a `bootstrap` binary.
#[derive(Debug)]
pub struct Project {
    /// The package's directory (where its Cargo.toml is).
    pub dir: PathBuf,
    pub manifest: PathBuf,
    pub name: String,
    /// cargo's target directory for it (CARGO_TARGET_DIR and config
    /// applied).
    pub target_dir: PathBuf,
    pub features: BTreeMap<String, Vec<String>>,
}

impl Project {
    /// The package of `manifest`, or of the current directory: the one
    /// whose directory holds the current directory, in a workspace of
    /// several.
    pub fn find(manifest: Option<&Path>) -> Result<Project, Fatal> {
        let cwd = std::env::current_dir().map_err(|e| Fatal::new(format!("cannot read the current directory: {e}")))?;
        if let Some(m) = manifest {
            if !m.is_file() {
                return Err(Fatal::new(format!("--manifest-path {}: does not exist", m.display())));
            }
        }
        let mut cmd = Command::new(cargo());
        cmd.args(["metadata", "--no-deps", "--format-version", "1", "--offline"]);
        if let Some(m) = manifest {
            cmd.arg("--manifest-path").arg(m);
        }
        let out = cmd.output().map_err(|e| Fatal::new(format!("cannot run cargo: {e}")))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            if err.contains("could not find `Cargo.toml`") {
                return Err(Fatal::new(format!(
                    "no Cargo.toml in {} or above: run cargo scf in the function's directory (cargo scf new NAME makes one)",
                    cwd.display()
                )));
            }
            let first = err.lines().find(|l| l.starts_with("error")).unwrap_or("cargo metadata failed");
            return Err(Fatal::new(first.trim_start_matches("error: ").to_string()));
        }
        let meta: Value =
            serde_json::from_slice(&out.stdout).map_err(|e| Fatal::new(format!("cargo metadata: {e}")))?;
        let packages = meta["packages"].as_array().cloned().unwrap_or_default();
        let wanted = manifest.map(|m| m.canonicalize().unwrap_or_else(|_| m.to_path_buf()));
        let pkg = packages
            .iter()
            .filter(|p| {
                let dir = Path::new(p["manifest_path"].as_str().unwrap_or_default()).parent().unwrap_or(Path::new(""));
                match &wanted {
                    Some(w) => Path::new(p["manifest_path"].as_str().unwrap_or_default()) == w,
                    None => packages.len() == 1 || cwd.starts_with(dir),
                }
            })
            .max_by_key(|p| p["manifest_path"].as_str().unwrap_or_default().len())
            .ok_or_else(|| {
                Fatal::new("this workspace has several packages: run cargo scf in the function's package directory")
            })?;
        let name = pkg["name"].as_str().unwrap_or_default().to_string();
        let has_bootstrap = pkg["targets"].as_array().is_some_and(|ts| {
            ts.iter()
                .any(|t| t["name"] == "bootstrap" && t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "bin")))
        });
        if !has_bootstrap {
            return Err(Fatal::new(format!(
                "package {name} has no binary named `bootstrap` (the file the platform executes): \
                 add [[bin]] name = \"bootstrap\" to its Cargo.toml"
            )));
        }
        let manifest = PathBuf::from(pkg["manifest_path"].as_str().unwrap_or_default());
        let features = pkg["features"]
            .as_object()
            .map(|f| {
                f.iter()
                    .map(|(k, v)| {
                        let implied =
                            v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect());
                        (k.clone(), implied.unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Project {
            dir: manifest.parent().unwrap_or(Path::new(".")).to_path_buf(),
            manifest,
            name,
            target_dir: PathBuf::from(meta["target_directory"].as_str().unwrap_or("target")),
            features,
        })
    }

    fn defaults(&self) -> &[String] {
        self.features.get("default").map_or(&[], |d| d)
    }

    /// Whether the project chooses its platform with features `scf` and
    /// `lambda`, as `cargo scf new` writes it.
    pub fn has_platform_features(&self) -> bool {
        self.features.contains_key("scf") && self.features.contains_key("lambda")
    }

    /// The platform of a plain `cargo build`: Lambda if the default
    /// features choose it alone, else SCF.
    pub fn default_platform(&self) -> Platform {
        let d = self.defaults();
        if d.iter().any(|f| f == "lambda") && !d.iter().any(|f| f == "scf") {
            Platform::Lambda
        } else {
            Platform::Scf
        }
    }

    /// `args` (from [`feature_args`](Self::feature_args)) with the
    /// project's feature `feature` on as well; `Err` if it has none.
    pub fn with_feature(&self, mut args: Vec<String>, feature: &str) -> Result<Vec<String>, ()> {
        if !self.features.contains_key(feature) {
            return Err(());
        }
        match args.iter().position(|a| a == "--features") {
            Some(i) => args[i + 1] = format!("{},{feature}", args[i + 1]),
            None => args.extend(["--features".to_string(), feature.to_string()]),
        }
        Ok(args)
    }

    /// The cargo arguments of an image's build: push mode alone (an image
    /// function has no runtime API to pull from, and the pull loop would
    /// cost its archive some 13 KB), so the default features but the
    /// platforms, and `serve`. A project without platform features gets
    /// `serve` on top of its defaults. `Err` when it has no `serve`.
    pub fn image_args(&self) -> Result<Vec<String>, ()> {
        if !self.features.contains_key("serve") {
            return Err(());
        }
        if !self.has_platform_features() {
            return self.with_feature(Vec::new(), "serve");
        }
        let mut want: Vec<String> =
            self.defaults().iter().filter(|f| !["scf", "lambda", "serve"].contains(&f.as_str())).cloned().collect();
        want.push("serve".into());
        Ok(vec!["--no-default-features".into(), "--features".into(), want.join(",")])
    }

    /// The smallest build for `platform`: none of the default features but
    /// the platform's (without platform features, none at all).
    pub fn minimal_args(&self, platform: Platform) -> Vec<String> {
        let mut args = vec!["--no-default-features".to_string()];
        if self.has_platform_features() {
            args.extend(["--features".to_string(), platform.feature().to_string()]);
        }
        args
    }

    /// The cargo arguments that build for `platforms` (one, or both
    /// dialects chosen at start): none when the default features are that,
    /// else `--no-default-features --features ...` keeping the other
    /// defaults. A project without platform features builds as it is for
    /// its own platform, and is refused for another.
    pub fn feature_args(&self, platforms: &[Platform]) -> Result<Vec<String>, Fatal> {
        let mut want: Vec<String> = self.defaults().iter().filter(|f| *f != "scf" && *f != "lambda").cloned().collect();
        want.extend(platforms.iter().map(|p| p.feature().to_string()));
        let now: Vec<&String> = self.defaults().iter().collect();
        let same = want.len() == now.len() && want.iter().all(|f| now.contains(&f));
        if same || (platforms == [self.default_platform()] && !self.has_platform_features()) {
            return Ok(Vec::new());
        }
        if !self.has_platform_features() {
            let p = platforms.iter().find(|p| **p != self.default_platform()).unwrap_or(&platforms[0]);
            return Err(Fatal::new(format!(
                "--platform {}: package {} has no `scf` and `lambda` features to choose its platform \
                 (cargo scf new writes them; see docs/cargo-scf.md)",
                p.feature(),
                self.name
            )));
        }
        Ok(vec!["--no-default-features".into(), "--features".into(), want.join(",")])
    }
}
