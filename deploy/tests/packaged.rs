//! The deployer takes the zip `scripts/package` writes as it is: its checks
//! pass without a warning (`bootstrap` at the root, 0755, a static x86_64
//! ELF whose section headers were stripped), and the dry run builds the
//! requests around it. `tests/sdk.rs` loads such requests into the SDK's
//! models.

mod common;

use common::*;
use std::process::Command;

#[test]
fn the_zip_scripts_package_writes_deploys_without_a_warning() {
    let dir = scratch("packaged");
    let zip = dir.join("function.zip");
    // The target dir of the runtime's own tests of scripts/package
    // (tests/common's package_target_dir for no arguments), so that the
    // two share one build.
    let o = Command::new(root().join("scripts/package"))
        .current_dir(root())
        .args(["--quiet", "--target-dir"])
        .arg(root().join("target/it/builds/package"))
        .arg("-o")
        .arg(&zip)
        .output()
        .expect("run scripts/package");
    assert!(o.status.success(), "scripts/package:\n{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&zip).unwrap();
    let (status, out, err) =
        outcome(&deploy(&[zip.to_str().unwrap(), "--dry-run", "--name", "echo", "--init-timeout", "5"], &[]));
    assert_eq!(status, Some(0), "{out}{err}");
    assert_eq!(err, "", "no warning for the runtime's own zip");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["ZipBytes"].as_u64(), Some(bytes.len() as u64));
    let create = &doc["Requests"][1]["Request"];
    assert_eq!(doc["Requests"][1]["Action"], "CreateFunction");
    assert_eq!((create["Runtime"].as_str(), create["FunctionName"].as_str()), (Some("CustomRuntime"), Some("echo")));
    assert_eq!((create["InitTimeout"].as_u64(), create["Timeout"].as_u64()), (Some(5), Some(3)));
    // The base64 of a zip's local header signature and version.
    assert!(create["Code"]["ZipFile"].as_str().unwrap().starts_with("UEsDBBQ"), "{create}");
}
