//! What SCF would start: the `bootstrap` file's verdicts
//! (`scf_deploy::bootstrap::check`) and the zip's (`scf_deploy::package`),
//! and how the command reports them: one line, exit status 1, nothing on
//! stdout; a warning line and a deployment for what starts only with the
//! image's help.

mod common;

use common::*;
use scf_deploy::bootstrap::{check, Arch};
use scf_deploy::package;

const DT_NULL: i64 = 0;
const DT_NEEDED: i64 = 1;

fn verdict(data: &[u8]) -> Result<Option<String>, String> {
    check(data, "`bootstrap`", Arch::X86_64, "SCF")
}

#[test]
fn a_static_executable_for_the_machine_passes() {
    assert_eq!(verdict(&static_elf()), Ok(None));
    assert_eq!(check(&elf(183, None, None), "b", Arch::Aarch64, "Lambda"), Ok(None));
    // Static PIE: a dynamic section without DT_NEEDED (DT_FLAGS_1, then the
    // end, then a DT_NEEDED past the end that does not count).
    assert_eq!(verdict(&elf(62, None, Some(&[(30, 8), (DT_NULL, 0), (DT_NEEDED, 1)]))), Ok(None));
}

#[test]
fn what_starts_only_with_help_from_the_image_is_a_warning() {
    let w = verdict(b"#!/bin/bash -e\nexec ./handler\n").unwrap().unwrap();
    assert_eq!(w, "`bootstrap` is a script for /bin/bash -e: SCF runs it only if its image has /bin/bash");
    let w = verdict(&elf(62, Some(b"/lib64/ld-linux-x86-64.so.2"), None)).unwrap().unwrap();
    assert!(w.starts_with("`bootstrap` is dynamically linked (interpreter /lib64/ld-linux-x86-64.so.2)"), "{w}");
    let w = verdict(&elf(62, None, Some(&[(DT_NEEDED, 1), (DT_NULL, 0)]))).unwrap().unwrap();
    assert!(w.starts_with("`bootstrap` needs shared libraries"), "{w}");
}

#[test]
fn executables_that_cannot_start_are_refused_in_one_line() {
    let with = |at: usize, bytes: &[u8]| {
        let mut e = static_elf();
        e[at..at + bytes.len()].copy_from_slice(bytes);
        e
    };
    for (data, message) in [
        (b"#!\n".to_vec(), "`bootstrap` starts with '#!' but names no interpreter"),
        (b"echo hello\n".to_vec(), "`bootstrap` is neither an ELF executable nor a script starting with '#!'"),
        (b"\x7fELF".to_vec(), "`bootstrap` is neither an ELF executable"),
        (elf(183, None, None), "`bootstrap` is built for ELF machine 183 (aarch64), not x86_64 (62)"),
        (elf(40, None, None), "`bootstrap` is built for ELF machine 40, not x86_64 (62)"),
        (with(4, &[1]), "`bootstrap` is not a 64-bit little-endian ELF file"),
        (with(16, &[1]), "`bootstrap` is an ELF file of type 1, not an executable"),
        (with(56, &[0]), "`bootstrap` has no valid program headers"),
        (with(32, &u64::MAX.to_le_bytes()), "`bootstrap` has no valid program headers"),
        (with(54, &[8]), "`bootstrap` has no valid program headers"),
        (static_elf()[..100].to_vec(), "`bootstrap` has no valid program headers"),
    ] {
        let e = verdict(&data).unwrap_err();
        assert!(e.starts_with(message), "{e:?} should start {message:?}");
        assert!(!e.contains('\n'));
    }
}

#[test]
fn segments_that_point_past_the_file_are_read_as_far_as_it_goes() {
    let mut data = elf(62, Some(b"/lib/ld-musl-x86_64.so.1"), None);
    // PT_INTERP is the first program header (at 64): p_filesz (at +32) far
    // past the end of the file.
    data[96..104].copy_from_slice(&u64::MAX.to_le_bytes());
    let w = verdict(&data).unwrap().unwrap();
    assert!(w.contains("interpreter /lib/ld-musl-x86_64.so.1)"), "{w}");
    // And p_offset (at +8) past the end: an empty interpreter, no panic.
    data[72..80].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(verdict(&data).unwrap().unwrap().contains("interpreter )"));
}

fn zip_verdict(members: &[(&str, &[u8], Option<u32>)]) -> Result<Vec<String>, String> {
    package::from_bytes(make_zip(members), "f.zip", Arch::X86_64).map(|p| p.warnings)
}

#[test]
fn the_runtime_s_own_zip_passes_without_a_warning() {
    assert_eq!(zip_verdict(&[("bootstrap", &static_elf(), Some(0o100_755))]), Ok(vec![]));
    // Other files beside it are fine (SCF unpacks them all).
    let members = [("bootstrap", &static_elf()[..], Some(0o100_755)), ("data/x.json", b"{}", Some(0o100_644))];
    assert_eq!(zip_verdict(&members), Ok(vec![]));
}

#[test]
fn zips_scf_could_not_start_are_refused() {
    let elf64 = static_elf();
    let arm = elf(183, None, None);
    for (members, message) in [
        (
            vec![("build/bootstrap", &elf64[..], Some(0o100_755))],
            "f.zip has no `bootstrap` at its root (there is \"build/bootstrap\": zip the directory's contents, not the directory)",
        ),
        (vec![("index.sh", b"#!/bin/bash\n", Some(0o100_755))], "f.zip has no `bootstrap` at its root"),
        (vec![("bootstrap", &elf64[..], Some(0o100_644))], "f.zip: `bootstrap` has mode 0644; SCF needs 0755 (rwxr-xr-x)"),
        (vec![("bootstrap", &elf64[..], Some(0o100_700))], "f.zip: `bootstrap` has mode 0700; SCF needs 0755"),
        (vec![("bootstrap", &elf64[..], None)], "f.zip: `bootstrap` has no Unix mode (zipped on a system without one)"),
        (vec![("bootstrap", b"handler", Some(0o120_777))], "f.zip: `bootstrap` is not a regular file (mode 120777)"),
        (vec![("bootstrap", &arm[..], Some(0o100_755))], "f.zip: `bootstrap` is built for ELF machine 183 (aarch64), not x86_64"),
        (vec![("bootstrap", b"echo hello\n", Some(0o100_755))], "f.zip: `bootstrap` is neither an ELF executable"),
    ] {
        let e = zip_verdict(&members).unwrap_err();
        assert!(e.starts_with(message), "{e:?} should start {message:?}");
        assert!(!e.contains('\n'));
    }
    let not_zip = package::from_bytes(static_elf(), "f.zip", Arch::X86_64).unwrap_err();
    assert_eq!(not_zip, "f.zip is not a zip file");
    assert_eq!(package::from_bytes(vec![], "f.zip", Arch::X86_64).unwrap_err(), "f.zip is not a zip file");
}

#[test]
fn a_corrupt_bootstrap_entry_is_named() {
    let mut zip = make_zip(&[("bootstrap", &static_elf(), Some(0o100_755))]);
    // A byte of the deflated data (after the 30-byte local header and the
    // 9-byte name) changed: the inflater or the CRC check fails.
    zip[30 + 9 + 2] ^= 0xff;
    let e = package::from_bytes(zip, "f.zip", Arch::X86_64).unwrap_err();
    assert!(e.starts_with("f.zip: cannot read `bootstrap`: "), "{e}");
}

#[test]
fn a_script_or_a_dynamic_binary_is_deployed_with_a_warning() {
    let w = zip_verdict(&[("bootstrap", b"#!/bin/bash\nexec ./handler\n", Some(0o100_755))]).unwrap();
    assert_eq!(w, ["`bootstrap` is a script for /bin/bash: SCF runs it only if its image has /bin/bash"]);
    let dynamic = elf(62, Some(b"/lib64/ld-linux-x86-64.so.2"), None);
    let w = zip_verdict(&[("bootstrap", &dynamic, Some(0o100_755))]).unwrap();
    assert!(w.len() == 1 && w[0].contains("is dynamically linked"), "{w:?}");
}

#[test]
fn the_command_refuses_a_bad_zip_in_one_line_and_prints_nothing() {
    let dir = scratch("checks-bad-zips");
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("mode.zip", make_zip(&[("bootstrap", &static_elf(), Some(0o100_644))]), ": `bootstrap` has mode 0644"),
        (
            "arm.zip",
            make_zip(&[("bootstrap", &elf(183, None, None), Some(0o100_755))]),
            ": `bootstrap` is built for ELF machine 183",
        ),
        ("not.zip", static_elf(), " is not a zip file"),
        (
            "nested.zip",
            make_zip(&[("out/bootstrap", &static_elf(), Some(0o100_755))]),
            " has no `bootstrap` at its root",
        ),
    ];
    for (name, bytes, message) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let (status, out, err) = outcome(&deploy(&[path.to_str().unwrap(), "--dry-run", "--name", "fn"], &[]));
        assert_eq!((status, out.as_str()), (Some(1), ""), "{name}: {err}");
        assert!(err.starts_with(&format!("scf-deploy: error: {}{message}", path.display())), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let missing = dir.join("missing.zip");
    let (status, _, err) = outcome(&deploy(&[missing.to_str().unwrap(), "--dry-run", "--name", "fn"], &[]));
    assert_eq!(status, Some(1));
    assert_eq!(err, format!("scf-deploy: error: cannot read {}: no such file\n", missing.display()));
}

#[test]
fn the_command_warns_about_a_script_and_deploys_it() {
    let dir = scratch("checks-script");
    let path = dir.join("script.zip");
    std::fs::write(&path, make_zip(&[("bootstrap", b"#!/bin/bash\nexec ./handler\n", Some(0o100_755))])).unwrap();
    let (status, out, err) = outcome(&deploy(&[path.to_str().unwrap(), "--dry-run", "--name", "fn"], &[]));
    assert_eq!(status, Some(0), "{err}");
    assert_eq!(
        err,
        format!(
            "scf-deploy: warning: {} `bootstrap` is a script for /bin/bash: SCF runs it only if its image has /bin/bash\n",
            path.display()
        )
    );
    assert!(out.contains("\"CreateFunction\""));
}

#[test]
fn a_zip_whose_request_is_over_api_3_0_s_10_mb_is_refused() {
    use std::io::Write;
    // 8 MiB stored (not deflated): base64 makes it over 10 MiB.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("bootstrap", stored.unix_permissions(0o755)).unwrap();
    w.write_all(&static_elf()).unwrap();
    w.start_file("pad", stored).unwrap();
    w.write_all(&vec![0; 8 << 20]).unwrap();
    let dir = scratch("checks-big");
    let path = dir.join("big.zip");
    std::fs::write(&path, w.finish().unwrap().into_inner()).unwrap();
    let (status, out, err) = outcome(&deploy(&[path.to_str().unwrap(), "--dry-run", "--name", "fn"], &[]));
    assert_eq!((status, out.as_str()), (Some(1), ""));
    assert!(err.starts_with("scf-deploy: error: the zip is 838"), "{err}");
    assert!(
        err.contains("TencentCloud API 3.0 takes at most 10485760 bytes (10 MB)") && err.lines().count() == 1,
        "{err}"
    );
}
