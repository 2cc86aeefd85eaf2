//! The pull loop: read the environment, find the runtime API, pick the
//! handler, run its init hook, report ready, then serve events one at a
//! time, forever, in whichever dialect the build chose
//! ([`crate::choose`]; see [`crate::dialect`] for the seam).
//!
//! ```text
//!  exec ──► env + endpoint ──► handler + init hook ──► ready
//!                                                        │
//!            ┌───────────────────────────────────────────┘
//!            ▼
//!          next ──► handler(event, ctx, out)
//!            ▲                   │
//!            │   SCF_OK ──► response
//!            └── other  ──► error
//! ```
//!
//! Anything that stops the loop (bad environment, a failed init hook, an
//! unreachable or misbehaving runtime API) becomes a [`Fatal`] value that
//! [`main`] prints as one line on standard error before exiting with
//! status 1. Problems confined to one invocation (a failing handler, an
//! invalid context header, a response the API refuses) are posted to the
//! error endpoint and the loop goes on.

use crate::choose::Chosen;
use crate::diag::{msg, Arg, Line};
use crate::dialect::{self, Dialect, Meta, Settings};
use crate::fatal::{self, Fatal};
use crate::ffi::{self, Entry, RawContext, Str};
use crate::http::wire::{self, Host};
use crate::http::Client;
use crate::invoke::{self, Outcome};
use crate::sys::{self, Args, Buf};
use core::convert::Infallible;
use core::ffi::{c_int, CStr};
use core::mem::MaybeUninit;

/// The process entry point's body: runs the runtime and turns a stop into
/// a message and an exit status. Without arguments, pull mode (this loop);
/// with the cargo feature `serve`, `serve` is push mode (`crate::serve`)
/// and anything else is refused in one line (`other_mode`); without it,
/// the arguments are ignored.
pub fn main(args: Args) -> c_int {
    // Without `serve` the arguments are ignored, as they were before push
    // mode: the zip build stays byte for byte what it was.
    #[cfg(feature = "serve")]
    if args.count() != 0 {
        return other_mode(args);
    }
    #[cfg(not(feature = "serve"))]
    let _ = args;
    // A push-only build has no pull loop: the compiler keeps it only for
    // its types.
    if !crate::choose::PULLS {
        Line::new()
            .str("this bootstrap has push mode only (cargo feature `serve`, no platform feature): run it as `bootstrap serve`")
            .emit();
        return 1;
    }
    // Initial buffers on this frame's stack, which lives as long as the
    // process: typical events and responses never touch the heap, and the
    // memory is not cleared (only what is written is ever read).
    let mut rx_mem = [const { MaybeUninit::uninit() }; 8 << 10];
    let mut tx_mem = [const { MaybeUninit::uninit() }; 4 << 10];
    let mut tail_mem = [const { MaybeUninit::uninit() }; wire::TAIL_ROOM];
    let mut host = Host::none();
    let mut tx = Buf::new(&mut tx_mem);
    let Err(fatal) = serve::<Chosen>(Buf::new(&mut rx_mem), Buf::new(&mut tail_mem), &mut tx, &mut host);
    report(fatal, &host, tx.as_slice());
    1
}

/// `bootstrap ARG...` (cargo feature `serve`): `serve` alone is push
/// mode; anything else is refused with one line and status 2.
#[cfg(feature = "serve")]
#[cold]
fn other_mode(args: Args) -> c_int {
    if args.count() == 1 && args.first() == Some(b"serve") {
        return crate::serve::main();
    }
    let (first, count) = (Arg::Quoted(args.first().unwrap_or_default()), Arg::Num(args.count() as u64));
    msg!(
        "unknown arguments starting with {} ({} in all): bootstrap takes none (pull mode, a zip function) or \
         `serve` alone (push mode, an image function)",
        first,
        count
    )
    .emit();
    2
}

fn serve<D: Dialect>(rx: Buf, mut tail: Buf, tx: &mut Buf, host: &mut Host<'static>) -> Result<Infallible, Fatal> {
    sys::open_stdio().map_err(Fatal::Stdio)?;
    let (mut settings, mut env) = (Settings::default(), D::Env::default());
    dialect::read(&mut settings, &mut env);
    let pipeline = pipelining(settings.pipeline)?;
    let start = D::endpoint(&env, pipeline)?;
    *host = start.host;
    let mut dialect = start.dialect;
    // Joined once. It fits: the host is at most `wire::MAX_HOST` bytes
    // and the port five digits, so its memory is never grown.
    for piece in wire::host_tail(host) {
        let _ = tail.extend(piece);
    }
    let mut client = Client::new(start.addrs, tail.as_slice(), rx);

    let (entry, base) = match start_up(&dialect, &env, &settings, &client, tx) {
        Ok(started) => started,
        Err(f) => {
            // The line on stderr is printed by the caller.
            dialect.init_error(&mut client, f, host, tx);
            return Err(f);
        }
    };
    dialect.ready(&mut client)?;
    invoke::arm_after_ready(entry);
    loop {
        let next = dialect.next(&mut client)?;
        let bad_header = dialect.accept(client.received_mut())?;
        let outcome = match bad_header {
            Some(name) => invoke::invalid_context(name, tx),
            None => {
                let ctx = dialect.context(client.received(), &base);
                let event = client.body(&next);
                dialect.crash_post(client.peer(), client.tail(), |post| invoke::call(entry, event, &ctx, tx, post))
            }
        };
        let why = match outcome {
            Outcome::Ok => match dialect.respond(&mut client, tx.as_slice())? {
                // Taken, or (pipelining) the platform has moved on.
                None => continue,
                Some(status) if (200..300).contains(&status) => continue,
                // The API refused the result (a response too large, say):
                // tell it why on the error endpoint rather than lose it.
                Some(status) => invoke::refused(status, tx),
            },
            Outcome::Failed(why) => why,
        };
        let status = dialect.post_error(&mut client, why, tx)?;
        if !(200..300).contains(&status) {
            let (endpoint, status) = (Arg::Str(dialect.error_endpoint().name()), Arg::Num(status.into()));
            msg!("warning: {} answered status {}", endpoint, status).emit();
        }
    }
}

/// Start-up once the runtime API is known, whose failures the dialect
/// reports to it: the metadata, the handler and its init hook (whose
/// message, on failure, is left in `tx`).
fn start_up<D: Dialect>(
    dialect: &D,
    env: &D::Env,
    settings: &Settings,
    client: &Client,
    tx: &mut Buf,
) -> Result<(&'static Entry, RawContext<'static>), Fatal> {
    let base = base_context(&dialect.meta(env)?, dialect.platform());
    let handler = settings.handler.map(CStr::to_bytes);
    let entry = dialect.init_post(client.peer(), client.tail(), |post| invoke::start(handler, &base, tx, post))?;
    Ok((entry, base))
}

/// The context every invocation's starts from: the metadata, no request.
pub fn base_context(meta: &Meta, platform: u32) -> RawContext<'static> {
    RawContext {
        size: core::mem::size_of::<RawContext>() as u32,
        abi_version: ffi::ABI_VERSION,
        request_id: Str::from_cstr(Some(c"")),
        memory_limit_mb: meta.memory_limit_mb,
        time_limit_ms: 0,
        deadline_ms: 0,
        function_name: Str::from_cstr(meta.function_name),
        function_namespace: Str::from_cstr(meta.namespace),
        function_version: Str::from_cstr(meta.version),
        region: Str::from_cstr(meta.region),
        platform,
        reserved: 0,
        function_arn: Str::NONE,
        trace_id: Str::NONE,
        client_context: Str::NONE,
        cognito_identity: Str::NONE,
    }
}

/// The setting `SCF_BOOTSTRAP_PIPELINE`: `1` sends each result and the
/// next `/next` in one write (HTTP/1.1 pipelining), `0` or unset sends
/// them one at a time. Off by default: neither Tencent nor AWS documents
/// whether its runtime API reads pipelined requests.
#[cfg(feature = "pipeline")]
fn pipelining(value: Option<&'static CStr>) -> Result<bool, Fatal> {
    match value.map(CStr::to_bytes) {
        None | Some(b"0") => Ok(false),
        Some(b"1") => Ok(true),
        Some(value) => Err(Fatal::EnvInvalid {
            var: "SCF_BOOTSTRAP_PIPELINE",
            value,
            why: "is neither 0 (pipelining off) nor 1 (on)",
        }),
    }
}

/// Without the feature the setting is not read, only noticed, and the
/// code that sends and reads pipelined requests is left out.
#[cfg(not(feature = "pipeline"))]
fn pipelining(value: Option<&'static CStr>) -> Result<bool, Fatal> {
    if value.is_some() {
        crate::diag::Line::new()
            .str("warning: SCF_BOOTSTRAP_PIPELINE is ignored: this build has no pipelining (feature `pipeline` is off)")
            .emit();
    }
    Ok(false)
}

/// Prints the one-line message for `f`. `host` is the runtime API's
/// address (empty before it was parsed); `written` is what the init hook
/// wrote, for an init failure.
fn report(f: Fatal, host: &Host, written: &[u8]) {
    fatal::describe(f, host, written).emit();
}
