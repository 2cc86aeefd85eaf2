//! A function in Rust with std and serde on the scf-bootstrap runtime
//! (made by `cargo scf new --std`).
//!
//! `main_handler` reads each event into a typed struct with `serde_json`
//! and answers with JSON; `Ok` posts what it wrote as the response, `Err`
//! posts it as the error message. The runtime is scf-bootstrap's `no_std`
//! loop; its `std` feature gives `run()` for std's `main` and makes
//! `Response` a `std::io::Write`. For an API-gateway trigger, see
//! scf-bootstrap's examples/rust-serde (the gateway's event and its
//! integrated response as structs).
use std::borrow::Cow;
use std::io::{self, Write};

use scf_bootstrap::{Context, Response};
use serde::{Deserialize, Serialize};

/// The event this function expects: `{"name": "..."}` (`name` optional).
#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    message: String,
    request_id: Cow<'a, str>,
}

/// An `Err` is the invocation's error message: the runtime discards what
/// was written and posts its text.
fn main_handler(event: &[u8], ctx: &Context, out: &mut Response) -> Result<(), String> {
    // One line per invocation on stderr: the platform keeps it as the log. Not
    // eprintln!, which panics when the write fails (a log pipe whose reader
    // has gone): a log line is not worth the invocation.
    let _ = writeln!(io::stderr(), "request {}", String::from_utf8_lossy(ctx.request_id()));
    let event: Event = serde_json::from_slice(event).map_err(|e| format!("bad event: {e}"))?;
    let answer = Answer {
        message: format!("Hello, {}!", event.name.as_deref().unwrap_or("world")),
        request_id: String::from_utf8_lossy(ctx.request_id()),
    };
    serde_json::to_writer(&mut *out, &answer).map_err(|e| format!("cannot answer: {e}"))
}

// Registered under its own name: the handler setting `index.main_handler`
// selects it.
scf_bootstrap::handler!(main_handler);

fn main() {
    scf_bootstrap::run()
}
