//! The `bootstrap` binary: the scf-bootstrap runtime, with the Zig handler
//! of src/handler.zig linked in (build.rs compiles it to an object for the
//! target's musl and links it into this binary).
#![no_std]
#![no_main]

scf_bootstrap::entry!();
