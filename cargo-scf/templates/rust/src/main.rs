//! A function in Rust on the scf-bootstrap runtime (made by `cargo scf
//! new`).
//!
//! `main_handler` gets each event's bytes, the invocation's context and the
//! response to write; `Ok` posts what it wrote as the response, `Err` posts
//! it as the error message. The binary is `no_std`: nothing here allocates.
//! For std (collections, serde), `cargo scf new --std` makes the other
//! kind of project: scf-bootstrap's `std` feature, no `#![no_std]`,
//! `#![no_main]` or `entry!`, and `fn main() { scf_bootstrap::run() }`.
#![no_std]
#![no_main]

use scf_bootstrap::{Context, Response, TooLarge};

fn main_handler(event: &[u8], ctx: &Context, out: &mut Response) -> Result<(), TooLarge> {
    // One line per invocation on stderr: the platform keeps it as the log.
    scf_bootstrap::log(&[b"request ", ctx.request_id(), b"\n"]);
    out.write(b"Hello from Rust! You sent: ")?;
    out.write(event)
}

// Registered under its own name: the handler setting `index.main_handler`
// selects it.
scf_bootstrap::handler!(main_handler);
// The process entry point and panic handler of the no_std binary.
scf_bootstrap::entry!();
