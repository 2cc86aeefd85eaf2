//! `scf-deploy`: the deployer on its own (this checkout's `deploy/scf-deploy`
//! runs it), with no project around it, so ZIP and `--name` are required.
//! The same code is `cargo scf deploy`; see [`scf_deploy::cli`].
fn main() -> std::process::ExitCode {
    scf_deploy::run_as("scf-deploy", std::env::args_os().skip(1).collect(), &scf_deploy::Project::default())
}
