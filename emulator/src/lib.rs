//! `scf-emulator`: run and invoke a Tencent Cloud SCF Custom Runtime function
//! locally, the way SCF does.
//!
//! SCF runs a Custom Runtime function by executing the `bootstrap` file at
//! the root of its code package and serving it a small HTTP API; the
//! bootstrap reports ready, then loops: fetch an event, handle it, push the
//! result.
//!
//! ```text
//!             exec                         InitTimeout clock
//! emulator ─────────▶ bootstrap ─ POST /runtime/init/ready ─▶ ready
//!    │                    │
//!    │ invoke(event)      ├─ GET  /runtime/invocation/next ◀─ event      ┐ Timeout
//!    │                    ├─ (handle)                                   │ clock
//!    ◀─ Invoke JSON ──────┴─ POST /runtime/invocation/response|error ──┘
//! ```
//!
//! The crate is layered, bottom up:
//!
//! - [`http`]: HTTP/1.1 framing on `httparse` (one reader of heads and
//!   bodies for both directions, a hand-written response writer for the
//!   quirks), plus a small blocking client the tests share.
//! - `server` (private): accepting connections and reading framed requests.
//! - [`dialect`]: what differs between SCF's runtime API and AWS Lambda's
//!   (endpoints, context headers, the answer to a result), for every peer.
//! - [`api`]: the runtime API server, with SCF's semantics: long-polled
//!   `/next`, one event at a time, first result final, and [`Quirks`] to
//!   misbehave on purpose. Usable on its own as the loopback peer of a
//!   bootstrap's integration tests.
//! - [`push`]: the platform side of an image function: waiting for its
//!   server to listen, and posting each event to `/event-invoke` with SCF's
//!   `X-Scf-*` headers.
//! - [`oci`]: OCI image archives without a daemon, written (a FROM-scratch
//!   image of a bootstrap) and read (its config and files), for image
//!   functions.
//! - [`code`], [`zip`]: a function's code, from a directory or a zip (the
//!   `zip` crate) with Unix modes, or an image's files.
//! - [`instance`], [`logs`], [`sys`]: one running bootstrap in its own process
//!   group, its captured output, and the OS calls std lacks.
//! - [`emulator`], [`report`]: a function as SCF runs it: cold starts,
//!   timeouts, crashes and signals, the memory limit, reloads, measurements,
//!   and the Invoke API result (serialized with serde).
//! - [`frontend`]: the server of `scf-emulator run`: `POST /invoke`,
//!   TencentCloud API 3.0 `Invoke`, and the API gateway trigger.
//! - [`cli`]: the `scf-emulator` command line (`invoke`, `run`,
//!   `--runtime-api-only`), which the binary and `cargo scf` both run.
//! - [`testkit`]: what the repository's tests share besides the peer: a
//!   tool missing outside CI is a skip that is counted, never silent.
#![deny(unsafe_code)]

pub mod api;
pub mod cli;
pub mod code;
pub mod dialect;
pub mod emulator;
pub mod frontend;
pub mod http;
pub mod instance;
pub mod logs;
pub mod oci;
pub mod push;
pub mod report;
mod server;
#[allow(unsafe_code)]
pub mod sys;
pub mod testkit;
pub mod zip;

/// The test event of Tencent's Custom Runtime guide, the one every test
/// and example of the project sends first (also
/// `tests/fixtures/examples/guide-event.json`, for the command line).
pub const GUIDE_EVENT: &str = r#"{"key1":"test value 1","key2":"test value 2"}"#;

pub use api::{
    ApiConfig, CloseMode, HeaderCase, Invocation, InvokeError, InvokeOptions, Outcome, Quirks,
    RuntimeApi, Stats,
};
pub use code::FunctionCode;
pub use emulator::{Emulator, FunctionConfig};
pub use report::{InvokeReport, LogType, Refusal, Status};
