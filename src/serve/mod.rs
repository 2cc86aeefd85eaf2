//! Push mode (cargo feature `serve`): `bootstrap serve` as the HTTP server
//! of an SCF image-deployed event function. The platform starts the image's
//! command, waits for port 9000 to accept, then POSTs each event to
//! `/event-invoke` with the context in `X-Scf-*` request headers, and takes
//! the response body as the result (docs/image-functions.md, "Platform
//! facts", with sources).
//!
//! The module is the server-side mirror of [`crate::http`]: its framing
//! half, [`wire`], is pure functions over byte slices (request heads parsed
//! zero-copy by `httparse`, bodies by the client's own body framer and
//! in-place de-chunker, answers as iovec pieces); the I/O driver that
//! accepts, reads and writes comes with the runtime's push-mode loop.
//!
//! Failure policy (decided by [`wire`], applied by the driver):
//! - one connection is served at a time and one event at a time; requests
//!   pipelined behind one are served in order, after it;
//! - a request that cannot be served gets one answer, a 4xx or 5xx whose
//!   body is a one-line reason ([`wire::Refusal`]), and then the connection
//!   is closed, never read again: after a framing error the bytes that
//!   follow cannot be trusted to start a request. The close should be a
//!   lingering one (shut the write side, read and drop what the client is
//!   still sending for a bounded time, then close), so that the answer is
//!   not lost to a reset from unread data; the server then goes on
//!   accepting;
//! - a client that closes before its request is complete gets no answer;
//! - `Expect: 100-continue` is answered `100 Continue` only when the request
//!   is acceptable and none of its body has arrived yet
//!   ([`wire::send_continue`]); a refusal is sent instead of it;
//! - a handler's result is `200`, its error `500` with the message as the
//!   body, both on a connection kept open as the request allows; a crash is
//!   `500` with the crash line and `Connection: close`, then the process
//!   dies by its signal;
//! - the driver bounds the wait for a request head (a stalled client must
//!   not hold the next one for long) but not the wait for the handler,
//!   which the platform's own timeout bounds;
//! - credentials in the context (`X-Scf-Secret-Id`, `X-Scf-Secret-Key`,
//!   `X-Scf-Session-Token`, [`wire::Field::is_secret`]) are never logged.

// Nothing calls the framing until the push-mode driver lands; the unit
// tests and the fuzz target do.
#[cfg_attr(not(any(test, fuzzing)), allow(dead_code, unused_imports))]
pub mod wire;

#[cfg(test)]
mod mutation_tests;
