//! Rust handlers for tests/crashes.rs: one returns `Err` after writing
//! part of its response, one panics with a formatted message.
#![no_std]
#![no_main]

use scf_bootstrap::{Context, Response};

/// Writes the start of a response, then fails: the error message must be
/// the error's text, not what was written.
fn fails(event: &[u8], _: &Context, out: &mut Response) -> Result<(), &'static str> {
    out.write(b"{\"partial\":").map_err(|_| "cannot write")?;
    if event.len() > 2 {
        return Err("event too long");
    }
    out.write(b"true}").map_err(|_| "cannot write")
}

fn panics(event: &[u8], _: &Context, out: &mut Response) -> Result<(), &'static str> {
    out.write(b"{\"partial\":").map_err(|_| "cannot write")?;
    panic!("event of {} bytes is too long (limit {})", event.len(), 2);
}

scf_bootstrap::handler!(fails);
scf_bootstrap::handler!(panics);
scf_bootstrap::entry!();
