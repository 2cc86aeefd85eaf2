//! `scf-emulator`: run and invoke a Tencent Cloud SCF Custom Runtime function
//! locally, the way SCF does.
//!
//! Layers, bottom up:
//!
//! - [`http`]: HTTP/1.1 framing as pure functions over bytes (request and
//!   response heads, chunked bodies), plus a small blocking client.
//! - [`api`]: the runtime API server a `bootstrap` talks to (`init/ready`,
//!   `invocation/next`, `invocation/response`, `invocation/error`), with
//!   SCF's semantics: long-polled `/next`, one event at a time, first result
//!   final. It is usable on its own as a loopback peer for a bootstrap's
//!   integration tests.
#![forbid(unsafe_code)]

pub mod api;
pub mod http;

pub use api::{
    ApiConfig, CloseMode, HeaderCase, Invocation, InvokeError, InvokeOptions, Outcome, Quirks,
    RuntimeApi, Stats,
};
