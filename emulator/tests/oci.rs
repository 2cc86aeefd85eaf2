//! OCI image archives (`scf_emulator::oci`) as other tools read them:
//! Debian's `skopeo` inspects and copies the archive, `umoci` unpacks it,
//! and the unpacked `/bootstrap` is this project's bootstrap, which runs;
//! and what skopeo writes back is read by `oci::read`.

mod common;

use common::*;
use scf_emulator::code::TempDir;
use scf_emulator::oci::{self, Arch};
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A tool on PATH. Missing, the test is skipped with a line on stderr, or
/// fails under CI (which installs both: .ci/run).
fn require(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is not installed (.ci/run installs it with apt)"
        );
        eprintln!("{tool} not found on PATH: skipped (apt install skopeo umoci; set CI to make this a failure)");
    }
    found
}

fn run(tool: &Path, args: &[&str]) -> Output {
    let out = Command::new(tool).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}\n{}",
        tool.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `/bootstrap` of an unpacked image: the bytes written, mode 0755, and it
/// runs, printing the pull-mode bootstrap's one-line refusal to start
/// without a runtime API.
fn check_unpacked(rootfs: &Path, bootstrap: &[u8]) {
    let path = rootfs.join("bootstrap");
    let meta = fs::metadata(&path).unwrap();
    assert_eq!(
        meta.permissions().mode() & 0o7777,
        0o755,
        "{}",
        path.display()
    );
    assert_eq!(fs::read(&path).unwrap(), bootstrap);
    let out = Command::new(&path).env_clear().output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.starts_with("scf-bootstrap: ")
            && stderr.contains("SCF_RUNTIME_API")
            && stderr.lines().count() == 1,
        "{stderr:?}"
    );
}

#[test]
fn skopeo_and_umoci_read_the_archive_and_its_bootstrap_runs() {
    let (Some(skopeo), Some(umoci)) = (require("skopeo"), require("umoci")) else {
        return;
    };
    let bootstrap = fs::read(own_bootstrap()).unwrap();
    let archive = oci::write(&bootstrap, Arch::Amd64);
    assert_eq!(
        oci::write(&bootstrap, Arch::Amd64),
        archive,
        "the same input gives the same bytes"
    );
    let tmp = TempDir::new("scf-oci-it").unwrap();
    let file = tmp.path().join("image.tar");
    fs::write(&file, &archive).unwrap();
    let src = format!("oci-archive:{}", file.display());

    let info = json_of(&run(&skopeo, &["inspect", &src]));
    assert_eq!(
        (info["Architecture"].as_str(), info["Os"].as_str()),
        (Some("amd64"), Some("linux")),
        "{info}"
    );
    assert_eq!(info["Layers"].as_array().map(Vec::len), Some(1), "{info}");
    let config = json_of(&run(&skopeo, &["inspect", "--config", &src]));
    let c = &config["config"];
    assert_eq!(
        c["Entrypoint"],
        serde_json::json!(["/bootstrap"]),
        "{config}"
    );
    assert_eq!(c["Cmd"], serde_json::json!(["serve"]), "{config}");
    assert_eq!(
        c["ExposedPorts"],
        serde_json::json!({"9000/tcp": {}}),
        "{config}"
    );

    // Copied into a layout and a plain directory by skopeo...
    let layout = tmp.path().join("layout");
    run(
        &skopeo,
        &[
            "copy",
            "--quiet",
            &src,
            &format!("oci:{}:latest", layout.display()),
        ],
    );
    run(
        &skopeo,
        &[
            "copy",
            "--quiet",
            &src,
            &format!("dir:{}", tmp.path().join("dir").display()),
        ],
    );
    // ...and unpacked by umoci, from skopeo's layout and from the archive
    // itself, extracted (its blobs/ directories are not entries of its own).
    let unpack = |layout: &Path, bundle: &str| {
        let (image, bundle) = (
            format!("{}:latest", layout.display()),
            tmp.path().join(bundle),
        );
        run(
            &umoci,
            &[
                "unpack",
                "--rootless",
                "--image",
                &image,
                bundle.to_str().unwrap(),
            ],
        );
        check_unpacked(&bundle.join("rootfs"), &bootstrap);
    };
    unpack(&layout, "bundle");
    let extracted = tmp.path().join("extracted");
    fs::create_dir(&extracted).unwrap();
    let tar = Command::new("tar")
        .arg("-xf")
        .arg(&file)
        .arg("-C")
        .arg(&extracted)
        .status()
        .unwrap();
    assert!(tar.success());
    unpack(&extracted, "bundle2");

    // What skopeo writes (a layout, an archive of its own) reads back.
    for image in [oci::read_layout(&layout).unwrap(), {
        let again = tmp.path().join("again.tar");
        run(
            &skopeo,
            &[
                "copy",
                "--quiet",
                &src,
                &format!("oci-archive:{}", again.display()),
            ],
        );
        oci::read(&fs::read(&again).unwrap()).unwrap()
    }] {
        assert_eq!(image.file("/bootstrap"), Some(&bootstrap[..]));
        assert_eq!(image.run.command(), ["/bootstrap", "serve"]);
    }
}

/// The archive is the layer plus a fixed overhead: five 512-byte headers
/// and five one-block documents at most, one block of the layer's padding,
/// and the end-of-archive blocks. A directory entry, a PAX header or a
/// larger document would show here.
#[test]
fn the_archive_is_its_layer_and_under_six_kilobytes_more() {
    let bootstrap = fs::read(own_bootstrap()).unwrap();
    let archive = oci::write(&bootstrap, Arch::Amd64);
    let mut ar = tar::Archive::new(archive.as_slice());
    let sizes: Vec<usize> = ar
        .entries()
        .unwrap()
        .map(|e| e.unwrap().header().size().unwrap() as usize)
        .collect();
    assert_eq!(sizes.len(), 5);
    let layer = *sizes.iter().max().unwrap();
    // Every other entry fits one block.
    assert!(
        sizes.iter().filter(|&&s| s != layer).all(|&s| s <= 512),
        "{sizes:?}"
    );
    let blocks = layer.div_ceil(512) * 512;
    assert!(
        archive.len() <= blocks + 512 + 4 * 1024 + 1024,
        "{} bytes for a {layer}-byte layer",
        archive.len()
    );
    eprintln!(
        "oci archive of a {}-byte bootstrap: {} bytes ({layer}-byte layer)",
        bootstrap.len(),
        archive.len()
    );
}
