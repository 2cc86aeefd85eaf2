//! The seam between the runtime loop and a platform's runtime API: what a
//! dialect ([`crate::scf`], [`crate::lambda`]) provides, and how the
//! environment is read.
//!
//! The pull loop ([`crate::runtime`]) is written once, generic over a
//! [`Dialect`]: it asks the dialect where the API is, to report ready, for
//! the next event and its context, and to post each outcome; everything
//! the loop does between those calls (handler selection, the init hook,
//! calling the handler and classifying what came of it, crash-report
//! scenes) is dialect-neutral and lives in [`crate::invoke`]. A build with
//! one dialect instantiates the loop with that dialect's type; a build with
//! both instantiates it once with the type that chooses at start
//! ([`crate::choose`], the one place that names both).
//!
//! ```text
//!          Dialect::endpoint ──► Dialect::meta ──► invoke::start (handler, init hook)
//!                                                          │ (failure: Dialect::init_error)
//!                                        Dialect::ready ◄──┘
//!                                              │
//!             ┌────────────────────────────────┘
//!             ▼
//!      Dialect::next ──► Dialect::accept ──► Dialect::invocation ──► invoke::call
//!             ▲                                                        │
//!             └──────── Dialect::respond / Dialect::post_error ◄───────┘
//! ```
//!
//! Pull is one transport; push (the platform sends each event as an HTTP
//! request to a server in the bootstrap) reuses [`crate::invoke`] and the
//! crash module's [`Post`] unchanged and replaces this trait's `next` /
//! `respond` half with its own.

use crate::crash::Post;
use crate::fatal::{Endpoint, Fatal};
use crate::ffi::RawContext;
use crate::http::wire::{self, Host};
use crate::http::{Client, Peer, Response};
use crate::invoke::Failure;
use crate::sys::{self, Addrs, Buf};
use core::ffi::CStr;

/// A reader of environment variables by name (see [`read`]): each
/// variable it takes is named once, next to the field its value goes to,
/// in its [`Vars::vars`].
pub trait Vars {
    /// Its variables' names and fields.
    fn vars(&mut self) -> impl AsMut<[Var<'_>]>;
}

/// A variable's name and the field its value goes to.
pub type Var<'a> = sys::EnvVar<'a>;

/// Reads `a`'s and `b`'s variables, in one pass over the environment.
pub fn read(a: &mut impl Vars, b: &mut impl Vars) {
    let (mut va, mut vb) = (a.vars(), b.vars());
    sys::getenv(&mut [va.as_mut(), vb.as_mut()]);
}

/// The settings of the loop itself, whatever the platform: `_HANDLER`
/// (both platforms set it) and the bootstrap's own `SCF_BOOTSTRAP_*`.
#[derive(Default)]
pub struct Settings {
    pub handler: Option<&'static CStr>,
    /// `SCF_BOOTSTRAP_PIPELINE` (docs/platforms.md, "Pipelining").
    pub pipeline: Option<&'static CStr>,
}

impl Vars for Settings {
    fn vars(&mut self) -> impl AsMut<[Var<'_>]> {
        [(&b"_HANDLER"[..], &mut self.handler), (b"SCF_BOOTSTRAP_PIPELINE", &mut self.pipeline)]
    }
}

/// What a dialect found where its runtime API is.
pub struct Start<D> {
    pub dialect: D,
    pub addrs: Addrs,
    /// The Host value (for requests and messages).
    pub host: Host<'static>,
}

/// The function's metadata for the context, from the environment.
pub struct Meta {
    pub function_name: Option<&'static CStr>,
    pub namespace: Option<&'static CStr>,
    pub version: Option<&'static CStr>,
    pub region: Option<&'static CStr>,
    /// The memory limit, where the platform gives it once for all
    /// invocations (Lambda); 0 where each event carries it (SCF).
    pub memory_limit_mb: u64,
}

/// A runtime API dialect: each way the pull loop differs between
/// platforms, complete (endpoints, request lines, context headers, error
/// bodies, crash posts, init error). The client and the receive buffer
/// are the loop's and are lent to each call; the dialect keeps its own
/// state (its fields, a copy of the request id).
pub trait Dialect: Sized {
    /// The variables it reads.
    type Env: Vars + Default;

    /// Where its runtime API is, from `env`, and the dialect itself;
    /// `pipeline` is whether `SCF_BOOTSTRAP_PIPELINE` asks for pipelining.
    /// A failure here is not reported to the API (its address is not known).
    fn endpoint(env: &Self::Env, pipeline: bool) -> Result<Start<Self>, Fatal>;

    /// The function's metadata; a failure is reported as an init error.
    fn meta(&self, env: &Self::Env) -> Result<Meta, Fatal>;

    /// The context's `platform` (`ffi::PLATFORM_*`).
    fn platform(&self) -> u32;

    /// Calls `f` with where a crash in the init hook is posted (`None`:
    /// stderr only), made on this call's stack from the connection `peer`
    /// and the joined Host `tail`.
    fn init_post<R>(&self, peer: Peer, tail: &[u8], f: impl FnOnce(Option<Post>) -> R) -> R;

    /// Reports the start-up failure `f` to the API, if the dialect has a
    /// route for it (`tx` holds what an init hook wrote). A failure to
    /// report it is not reported: the start fails either way.
    fn init_error(&mut self, client: &mut Client, f: Fatal, host: &Host, tx: &mut Buf);

    /// Says the runtime is ready, if the dialect does.
    fn ready(&mut self, client: &mut Client) -> Result<(), Fatal>;

    /// Asks for the next event until one comes (a 200); its fields are
    /// the dialect's to read in [`Dialect::accept`].
    fn next(&mut self, client: &mut Client) -> Result<Response, Fatal>;

    /// Readies the event's context values in the receive buffer (each
    /// made a C string in place, the request id copied where the dialect
    /// needs it later) and returns the name of a context header that is
    /// present but invalid: the invocation then fails without the handler.
    fn accept(&mut self, received: &mut [u8]) -> Result<Option<&'static str>, Fatal>;

    /// The context of the event just accepted, its strings borrowed from
    /// `received` (and from the dialect), over `base` (the metadata).
    fn context<'a>(&'a self, received: &'a [u8], base: &RawContext<'static>) -> RawContext<'a>;

    /// Calls `f` with where a crash in the handler is posted (the error
    /// endpoint of the invocation just accepted), as [`Dialect::init_post`].
    fn crash_post<R>(&self, peer: Peer, tail: &[u8], f: impl FnOnce(Option<Post>) -> R) -> R;

    /// Posts `body` as the invocation's response; returns the status, or
    /// `None` when there is nothing more to do for it (pipelining: the
    /// platform has moved on).
    fn respond(&mut self, client: &mut Client, body: &[u8]) -> Result<Option<u16>, Fatal>;

    /// Posts the message in `tx` as the invocation's error, failed for
    /// `why`; returns the status.
    fn post_error(&mut self, client: &mut Client, why: Failure, tx: &mut Buf) -> Result<u16, Fatal>;

    /// The error endpoint, for the warning about a refused error post.
    fn error_endpoint(&self) -> Endpoint;
}

/// A field of a `/next` answer made a C string in place: `at`'s value in
/// `received`, each obsolete line fold in it replaced by a space (RFC
/// 9112, 5.2; see `wire::unfold`) and a NUL written over the byte after
/// it (part of the head's line ending, already parsed). Returns where the
/// value lies, with its NUL (see `ffi::Str::nul_terminated`), or `None`
/// when absent.
pub fn terminate(received: &mut [u8], at: Option<wire::Span>) -> Option<core::ops::Range<usize>> {
    let r = at?.range();
    // Only a folded value holds a line feed (httparse refuses one anywhere
    // else in a field value); heads without folds are not touched.
    let end = match received.get_mut(r.clone()) {
        Some(v) if memchr::memchr(b'\n', v).is_some() => r.start + wire::unfold(v),
        _ => r.end,
    };
    *received.get_mut(end)? = 0;
    Some(r.start..end + 1)
}
