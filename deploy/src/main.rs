//! `scf-deploy`: the deployer on its own (this checkout's `deploy/scf-deploy`
//! runs it). The same code is `cargo scf deploy`; see [`scf_deploy::cli`].
fn main() -> std::process::ExitCode {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    scf_deploy::run_as("scf-deploy", std::env::args_os().skip(1).collect(), &cwd)
}
