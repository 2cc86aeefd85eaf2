//! The `scf-emulator` command: [`scf_emulator::cli::main`] over the process
//! arguments. See `--help` and the crate's README.

fn main() -> std::process::ExitCode {
    scf_emulator::cli::main(std::env::args_os().skip(1).collect())
}
