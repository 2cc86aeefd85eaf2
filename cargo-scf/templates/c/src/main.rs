//! The `bootstrap` binary: the scf-bootstrap runtime, with the C handler
//! of src/handler.c linked in (.cargo/config.toml names it in
//! SCF_HANDLER_LIBS; the runtime's build script compiles it for musl and
//! build.rs passes the object on to this binary's link).
#![no_std]
#![no_main]

scf_bootstrap::entry!();
