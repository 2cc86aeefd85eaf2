//! Running user code and classifying what came of it, whatever brought the
//! event and wherever the result goes: handler selection, the init hook,
//! the handler call with its crash-report scene published, refused writes
//! and a failure without a message turned into words. No dialect and no
//! transport: the pull loop ([`crate::runtime`]) calls this between a
//! dialect's `next` and its `respond`, and push mode's server
//! (`src/serve/`, feature `serve`) between reading a request and writing
//! the response.

use crate::crash::{self, Act, Post, Scene};
use crate::diag::{msg, put, Arg, Line};
use crate::fatal::Fatal;
use crate::ffi::{self, Entry, RawContext, Writer};
use crate::sys::Buf;

/// What an invocation came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The handler succeeded: its response body is in the buffer.
    Ok,
    /// It did not: the message saying why is in the buffer.
    Failed(Failure),
}

/// Why an invocation failed (Lambda's `errorType`; SCF's error post
/// carries the message only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The handler returned a failure, or its writes were refused.
    Handler,
    /// A context header was invalid; the handler was not called.
    InvalidContext,
    /// The platform refused the response.
    ResponseRefused,
}

/// Picks the handler `setting` (`_HANDLER`) names and runs its init hook,
/// if it has one, with `ctx`; a crash in the hook is posted to `post`. On
/// failure the hook's message is left in `tx`.
///
/// Crash reports are armed before the first user code runs: here, before
/// the init hook, if there is one; else by [`arm_after_ready`] once the
/// platform has been told the runtime is ready, which keeps their syscalls
/// off the path to ready.
pub fn start(
    setting: Option<&'static [u8]>,
    ctx: &RawContext,
    tx: &mut Buf,
    post: Option<Post>,
) -> Result<&'static Entry, Fatal> {
    let entry = crate::fatal::select(ffi::entries(), setting)?;
    if entry.init.is_some() {
        crash::arm();
        let scene = Scene { act: Act::Init, handler: entry, request_id: b"", post };
        let code = crash::during(&scene, || entry.call_init(ctx, &mut Writer::new(tx)));
        if code != ffi::OK {
            return Err(Fatal::InitFailed { name: entry.name(), code });
        }
    }
    Ok(entry)
}

/// Arms crash reports for a handler without an init hook (see [`start`]).
pub fn arm_after_ready(entry: &Entry) {
    if entry.init.is_none() {
        crash::arm();
    }
}

/// Calls `entry`'s handler on `event` with `ctx`, a crash in it posted to
/// `post`. What it wrote is left in `tx` (cleared first): the response
/// body, or on failure the message saying why.
pub fn call(entry: &Entry, event: &[u8], ctx: &RawContext, tx: &mut Buf, post: Option<Post>) -> Outcome {
    tx.clear();
    let scene = Scene { act: Act::Handler, handler: entry, request_id: ctx.request_id.bytes().unwrap_or(b""), post };
    let mut out = Writer::new(tx);
    let code = crash::during(&scene, || entry.call(event, ctx, &mut out));
    let refused = out.refused();
    if let Some(r) = refused {
        // What was written is a cut-off body, whatever the handler
        // returned: say so instead of posting it.
        refusal(entry.name(), r).store(tx);
        return Outcome::Failed(Failure::Handler);
    }
    if code != ffi::OK {
        if tx.is_empty() {
            let (name, code) = (Arg::Quoted(entry.name()), Arg::Int(code.into()));
            msg!("handler {} failed with status {} and no message", name, code).store(tx);
        }
        return Outcome::Failed(Failure::Handler);
    }
    Outcome::Ok
}

/// The invocation fails without the handler: the event's context header
/// `name` is invalid (the message goes to `tx`).
pub fn invalid_context(name: &str, tx: &mut Buf) -> Outcome {
    tx.clear();
    msg!("the runtime API sent an invalid {} header; the handler was not called", Arg::Str(name)).store(tx);
    Outcome::Failed(Failure::InvalidContext)
}

/// The platform refused the response with `status`: the invocation's
/// error says so (the message replaces the body in `tx`).
pub fn refused(status: u16, tx: &mut Buf) -> Failure {
    msg!("the runtime API refused the response with status {}", Arg::Num(status.into())).store(tx);
    Failure::ResponseRefused
}

/// The error message for a handler whose writes were refused.
fn refusal(name: &[u8], r: ffi::Refusal) -> Line {
    let mut l = msg!("handler {} tried to write a {}-byte response; ", Arg::Quoted(name), Arg::Num(r.wanted as u64));
    match r.why {
        ffi::WriteError::TooLarge => put!(
            l,
            "writes past SCF's 6 MB response limit ({} bytes) were refused, so the response was not sent",
            Arg::Num(ffi::MAX_RESPONSE as u64)
        ),
        ffi::WriteError::NoMemory => put!(
            l,
            "memory ran out below SCF's 6 MB response limit and writes were refused, so the response was not sent"
        ),
    };
    l
}
