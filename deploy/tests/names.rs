//! SCF's function-name rule is `scf_deploy::function_name_problem`:
//! deploy's check of --name, and what `cargo scf new` calls (through
//! `scripts/new-function`, NAME being the function's name). The command
//! gives its verdict, in its words, on every name here.

mod common;

use common::*;
use scf_deploy::function_name_problem;
use std::process::Command;

#[test]
fn scripts_new_function_and_the_deployer_judge_names_alike() {
    let names = [
        "1fn",
        "fn_",
        "fn-",
        "a",
        "x234567890123456789012345678901234567890123456789012345678901",
        "bad name",
        "函数",
        "fn函数",
        "fn.x",
        "_fn",
        "ok",
        "My_fn-2",
    ];
    let dir = scratch("names");
    for name in names {
        let project = dir.join(format!("p{}", name.len()));
        let o = Command::new(root().join("scripts/new-function"))
            .arg(name)
            .arg(&project)
            .env("CARGO_SCF_CACHE", dir.join("cargo-scf-cache"))
            .output()
            .expect("run scripts/new-function");
        let err = String::from_utf8_lossy(&o.stderr);
        match function_name_problem(name) {
            Some(problem) => {
                assert_eq!(o.status.code(), Some(1), "{name:?}: {err}");
                let tail = err.trim_end().split_once("': ").map(|(_, t)| t.to_string());
                assert_eq!(tail.as_deref(), Some(problem.as_str()), "{name:?}: {err}");
            }
            None => {
                assert!(o.status.success(), "{name:?} is a good name, but: {err}");
                let _ = std::fs::remove_dir_all(&project);
            }
        }
    }
}
