//! The runtime protocol: read the environment, pick the handler, run its init
//! hook, report ready, then serve events one at a time, forever.
//!
//! ```text
//!  exec ──► env + handler ──► init hook ──► POST /runtime/init/ready
//!                                                   │
//!            ┌──────────────────────────────────────┘
//!            ▼
//!   GET /runtime/invocation/next ──► handler(event, ctx, out)
//!            ▲                              │
//!            │        SCF_OK ──► POST /runtime/invocation/response
//!            └─────── other ──► POST /runtime/invocation/error
//! ```
//!
//! With the `lambda` feature the same loop also speaks AWS Lambda's
//! dialect, chosen when `AWS_LAMBDA_RUNTIME_API` is set: no ready call,
//! other paths and headers, JSON error bodies (see [`crate::lambda`]). The
//! loop is written once: each place where the dialects differ is a method
//! of [`Dialect`], whose only variant without the feature is SCF's.
//!
//! Anything that stops the loop (bad environment, a failed init hook, an
//! unreachable or misbehaving runtime API) becomes a [`Fatal`] value that
//! [`main`] prints as one line on standard error before exiting with
//! status 1. Problems confined to one invocation (a failing handler, an
//! invalid context header, a response the API refuses) are posted to the
//! error endpoint and the loop goes on.

use crate::address;
use crate::crash::{self, Act, Post, Scene};
use crate::diag::{msg, put, Arg, Line};
use crate::fatal::{self, Endpoint, Fatal, ScfEndpoint, ScfEndpoint::Next};
use crate::ffi::{self, Entry, RawContext, Str, Writer};
use crate::http::wire::{self, Host};
use crate::http::{Client, Response};
use crate::sys::{self, Addrs, Buf};
use core::convert::Infallible;
use core::ffi::{c_int, CStr};
use core::mem::MaybeUninit;

/// The process entry point's body: runs the runtime and turns a stop into
/// a message and an exit status.
pub fn main() -> c_int {
    // Initial buffers on this frame's stack, which lives as long as the
    // process: typical events and responses never touch the heap, and the
    // memory is not cleared (only what is written is ever read).
    let mut rx_mem = [const { MaybeUninit::uninit() }; 8 << 10];
    let mut tx_mem = [const { MaybeUninit::uninit() }; 4 << 10];
    let mut tail_mem = [const { MaybeUninit::uninit() }; 320];
    let mut host = Host::none();
    let mut tx = Buf::new(&mut tx_mem);
    let Err(fatal) = serve(Buf::new(&mut rx_mem), Buf::new(&mut tail_mem), &mut tx, &mut host);
    report(fatal, &host, tx.as_slice());
    1
}

fn serve<'b>(rx: Buf<'b>, tail: Buf<'b>, tx: &mut Buf<'_>, host: &mut Host<'static>) -> Result<Infallible, Fatal> {
    sys::open_stdio().map_err(Fatal::Stdio)?;
    let env = Env::read();
    let (addrs, dialect) = Dialect::choose(&env, host)?;
    // Without the feature the setting is not read, only noticed, and the
    // code that sends and reads pipelined requests is left out.
    #[cfg(feature = "pipeline")]
    let pipeline = pipelining(env.pipeline)? && dialect.pipelines();
    #[cfg(not(feature = "pipeline"))]
    let pipeline = false;
    #[cfg(not(feature = "pipeline"))]
    if env.pipeline.is_some() {
        Line::new()
            .str("warning: SCF_BOOTSTRAP_PIPELINE is ignored: this build has no pipelining (feature `pipeline` is off)")
            .emit();
    }

    let mut ctx = RawContext {
        size: core::mem::size_of::<RawContext>() as u32,
        abi_version: ffi::ABI_VERSION,
        request_id: Str { ptr: c"".as_ptr(), len: 0 },
        memory_limit_mb: 0,
        time_limit_ms: 0,
        deadline_ms: 0,
        function_name: Str::from_cstr(env.function_name),
        function_namespace: Str::from_cstr(env.namespace),
        function_version: Str::from_cstr(env.version),
        region: Str::from_cstr(env.region),
        platform: dialect.platform(),
        reserved: 0,
        function_arn: Str::NONE,
        trace_id: Str::NONE,
        client_context: Str::NONE,
        cognito_identity: Str::NONE,
    };
    let mut client = Client::new(addrs, *host, tail, rx);
    // Where a crash in the init hook is posted (Lambda's init/error; SCF
    // has no such route: stderr only).
    let init_line = dialect.prepare(&mut client)?;
    let init_post = init_line.as_ref().map(|line| dialect.crash_post(client.peer(), line));
    let entry = match start(&env, &mut ctx, tx, init_post) {
        Ok(entry) => entry,
        Err(f) => {
            // The line on stderr is printed by the caller.
            dialect.init_error(&mut client, f, host, tx);
            return Err(f);
        }
    };
    dialect.ready(&mut client)?;
    // Without an init hook, crash reports are armed now, after ready (SCF),
    // which keeps their syscalls off the path to ready; with one, `start`
    // armed them before the hook ran.
    if entry.init.is_none() {
        crash::arm();
    }
    let mut id_mem: IdMem = [0; ID_MEM];
    // An event already received: the answer to a pipelined /next that came
    // when the result before it was refused or unanswered (see
    // `post_result`; never, and compiled out, without the feature).
    let mut held = None;
    loop {
        let next = match held.take().filter(|_| cfg!(feature = "pipeline")) {
            Some(n) => n,
            None => dialect.next(&mut client).map_err(|err| Fatal::Http { endpoint: dialect.endpoint(Next), err })?,
        };
        if dialect.poll_again(next.status) {
            continue;
        }
        if next.status != 200 {
            return Err(Fatal::Status { endpoint: dialect.endpoint(Next), status: next.status });
        }
        tx.clear();
        let (id, bad_header) = dialect.context(&next, &mut client, &mut ctx, &mut id_mem)?;

        let ok = match bad_header {
            Some(name) => {
                msg!("the runtime API sent an invalid {} header; the handler was not called", Arg::Str(name)).store(tx);
                false
            }
            None => {
                // A crash is posted to the error endpoint: SCF's constant
                // line, or Lambda's with the id (its stack copy) in the path.
                let (line, n) = dialect.crash_line(id);
                let post = dialect.crash_post(client.peer(), line.get(..n).unwrap_or(&line));
                let scene = Scene {
                    act: Act::Handler,
                    handler: entry,
                    request_id: ctx.request_id.bytes().unwrap_or(b""),
                    post: Some(post),
                };
                let mut out = Writer::new(tx);
                let code = crash::during(&scene, || entry.call(client.body(&next), &ctx, &mut out));
                let refused = out.refused();
                if let Some(r) = refused {
                    // What was written is a cut-off body, whatever the
                    // handler returned: say so instead of posting it.
                    refusal(entry.name(), r).store(tx);
                } else if code != ffi::OK && tx.is_empty() {
                    let (name, code) = (Arg::Quoted(entry.name()), Arg::Int(code.into()));
                    msg!("handler {} failed with status {} and no message", name, code).store(tx);
                }
                code == ffi::OK && refused.is_none()
            }
        };

        let mut why = if bad_header.is_some() { Failure::InvalidContext } else { Failure::Handler };
        if ok {
            let status = match pipeline {
                true => post_result(&mut client, ScfEndpoint::Response, tx.as_slice(), &ctx, &mut held)?,
                false => Some(dialect.respond(&mut client, id, tx.as_slice())?),
            };
            let Some(status) = status.filter(|s| !(200..300).contains(s)) else { continue };
            // The API refused the result (a response too large, say): tell
            // it why on the error endpoint rather than lose it.
            msg!("the runtime API refused the response with status {}", Arg::Num(status.into())).store(tx);
            why = Failure::ResponseRefused;
        }
        let status = match pipeline {
            true => post_result(&mut client, ScfEndpoint::Error, tx.as_slice(), &ctx, &mut held)?.unwrap_or(200),
            false => dialect.post_error(&mut client, id, why, tx)?,
        };
        if !(200..300).contains(&status) {
            let (endpoint, status) = (Arg::Str(dialect.endpoint(ScfEndpoint::Error).name()), Arg::Num(status.into()));
            msg!("warning: {} answered status {}", endpoint, status).emit();
        }
    }
}

/// The dialect of the runtime API served: SCF's, or (cargo feature
/// `lambda`, when `AWS_LAMBDA_RUNTIME_API` is set) AWS Lambda's, with the
/// path prefix of its setting. Each way the loop differs between the two
/// is one of its methods; without the feature it has one variant, and
/// each method is SCF's code alone.
#[derive(Clone, Copy)]
enum Dialect {
    Scf,
    #[cfg(feature = "lambda")]
    Lambda {
        prefix: &'static [u8],
    },
}

/// Why an invocation's error is posted (Lambda's `errorType`; SCF's error
/// post carries the message only).
#[derive(Clone, Copy)]
enum Failure {
    Handler,
    InvalidContext,
    ResponseRefused,
}

/// Room for the request id, copied for the result's path (Lambda's; SCF
/// needs none).
#[cfg(feature = "lambda")]
const ID_MEM: usize = crate::lambda::MAX_REQUEST_ID + 1;
#[cfg(not(feature = "lambda"))]
const ID_MEM: usize = 0;
type IdMem = [u8; ID_MEM];

/// The most pieces of a crash post's request line (Lambda's; SCF's is one).
#[cfg(feature = "lambda")]
const CRASH_LINE: usize = 7;
#[cfg(not(feature = "lambda"))]
const CRASH_LINE: usize = 1;

impl Dialect {
    /// The dialect the environment asks for, and the runtime API's
    /// addresses; its Host value goes to `host`.
    fn choose(env: &Env, host: &mut Host<'static>) -> Result<(Addrs, Dialect), Fatal> {
        #[cfg(feature = "lambda")]
        match env.lambda.api {
            None => {}
            Some(_) if env.api.is_some() => return Err(Fatal::TwoPlatforms),
            Some(api) => {
                let (addrs, h, prefix) = crate::lambda::endpoint(api)?;
                *host = h;
                return Ok((addrs, Dialect::Lambda { prefix }));
            }
        }
        Ok((scf_endpoint(env, host)?, Dialect::Scf))
    }

    /// The context's `platform`.
    fn platform(self) -> u32 {
        match self {
            Dialect::Scf => ffi::PLATFORM_SCF,
            #[cfg(feature = "lambda")]
            Dialect::Lambda { .. } => ffi::PLATFORM_LAMBDA,
        }
    }

    /// This dialect's endpoint where SCF's is `e`.
    fn endpoint(self, e: ScfEndpoint) -> Endpoint {
        match self {
            Dialect::Scf => Endpoint::Scf(e),
            #[cfg(feature = "lambda")]
            Dialect::Lambda { .. } => e.in_lambda(),
        }
    }

    /// Readies `client` before the first request and returns the request
    /// line of a crash post from the init hook, if the dialect has one:
    /// Lambda's heads are searched for its context headers, and its
    /// init/error line needs the Host tail joined now.
    fn prepare(self, client: &mut Client) -> Result<Option<InitLine>, Fatal> {
        match self {
            Dialect::Scf => {
                _ = client;
                Ok(None)
            }
            #[cfg(feature = "lambda")]
            Dialect::Lambda { prefix } => {
                client.read_lambda_context();
                client.join_tail().map_err(|err| Fatal::Http { endpoint: self.endpoint(ScfEndpoint::Ready), err })?;
                Ok(Some(crate::lambda::crash_init_line(prefix)))
            }
        }
    }

    /// A crash post on `line` to `peer`, with the dialect's body.
    fn crash_post<'a>(self, peer: crate::http::Peer<'a>, line: &'a [&'a [u8]]) -> Post<'a> {
        match self {
            #[cfg(not(feature = "lambda"))]
            Dialect::Scf => Post { peer, line },
            #[cfg(feature = "lambda")]
            Dialect::Scf => Post { peer, line, json: false },
            #[cfg(feature = "lambda")]
            Dialect::Lambda { .. } => Post { peer, line, json: true },
        }
    }

    /// Reports a failed start to the runtime API: Lambda hears of it on
    /// init/error (the invocation that started the instance then fails
    /// with the reason); SCF has no such route.
    fn init_error(self, client: &mut Client, f: Fatal, host: &Host, tx: &mut Buf) {
        match self {
            Dialect::Scf => _ = (client, f, host, tx),
            #[cfg(feature = "lambda")]
            Dialect::Lambda { prefix } => crate::lambda::init_error(client, prefix, f, host, tx),
        }
    }

    /// Says the runtime is ready (SCF's ready call; on Lambda the first
    /// `next` is the signal).
    fn ready(self, client: &mut Client) -> Result<(), Fatal> {
        match self {
            Dialect::Scf => post(client, ScfEndpoint::Ready, b" ").map(drop),
            #[cfg(feature = "lambda")]
            Dialect::Lambda { .. } => Ok(()),
        }
    }

    /// Asks for the next event.
    fn next(self, client: &mut Client) -> Result<Response, crate::http::Error> {
        match self {
            Dialect::Scf => client.request(Next.route(), b""),
            #[cfg(feature = "lambda")]
            Dialect::Lambda { prefix } => client.request_parts(&[b"GET ", prefix, crate::lambda::NEXT_LINE], None),
        }
    }

    /// Whether results may go out pipelined with the next `/next` (the
    /// setting is on): SCF's; refused on Lambda with one warning.
    #[cfg(feature = "pipeline")]
    fn pipelines(self) -> bool {
        match self {
            Dialect::Scf => true,
            #[cfg(feature = "lambda")]
            Dialect::Lambda { .. } => {
                msg!("warning: SCF_BOOTSTRAP_PIPELINE=1 is for SCF only; requests to Lambda go one at a time").emit();
                false
            }
        }
    }

    /// Whether a `next` answer of `status` means no event yet (Lambda's
    /// 204): ask again.
    fn poll_again(self, status: u16) -> bool {
        match self {
            Dialect::Scf => _ = status,
            #[cfg(feature = "lambda")]
            Dialect::Lambda { .. } => return status == 204,
        }
        false
    }

    /// Fills `ctx` from `next`'s context headers; returns the request id
    /// for the result's path (empty for SCF, whose paths have none; on
    /// Lambda copied into `id_mem`) and the name of a header that is
    /// present but invalid.
    fn context<'i>(
        self,
        next: &Response,
        client: &mut Client,
        ctx: &mut RawContext,
        id_mem: &'i mut IdMem,
    ) -> Result<(&'i [u8], Option<&'static str>), Fatal> {
        match self {
            Dialect::Scf => {
                _ = &id_mem;
                Ok((b"", scf_context(&next.context, client.buffer_mut(), ctx)))
            }
            #[cfg(feature = "lambda")]
            Dialect::Lambda { .. } => {
                let c = client.lambda_context();
                crate::lambda::context(&c, client.buffer_mut(), ctx, id_mem)
            }
        }
    }

    /// The request line of a crash post for invocation `id`, in pieces,
    /// and how many there are.
    fn crash_line(self, id: &[u8]) -> ([&[u8]; CRASH_LINE], usize) {
        match self {
            Dialect::Scf => {
                let mut line: [&[u8]; CRASH_LINE] = [b""; CRASH_LINE];
                line[0] = ScfEndpoint::Error.route().line.as_bytes();
                _ = id;
                (line, 1)
            }
            #[cfg(feature = "lambda")]
            Dialect::Lambda { prefix } => (crate::lambda::crash_line(prefix, id), CRASH_LINE),
        }
    }

    /// Posts `body` as invocation `id`'s result; returns the status.
    fn respond(self, client: &mut Client, id: &[u8], body: &[u8]) -> Result<u16, Fatal> {
        match self {
            Dialect::Scf => {
                _ = id;
                post(client, ScfEndpoint::Response, body)
            }
            #[cfg(feature = "lambda")]
            Dialect::Lambda { prefix } => crate::lambda::respond(client, prefix, id, body),
        }
    }

    /// Posts the message in `tx` as invocation `id`'s error, failed for
    /// `why`; returns the status.
    fn post_error(self, client: &mut Client, id: &[u8], why: Failure, tx: &mut Buf) -> Result<u16, Fatal> {
        match self {
            Dialect::Scf => {
                _ = (id, why);
                post(client, ScfEndpoint::Error, tx.as_slice())
            }
            #[cfg(feature = "lambda")]
            Dialect::Lambda { prefix } => {
                let kind = match why {
                    Failure::Handler => crate::lambda::HANDLER_ERROR,
                    Failure::InvalidContext => crate::lambda::INVALID_CONTEXT,
                    Failure::ResponseRefused => crate::lambda::RESPONSE_REFUSED,
                };
                crate::lambda::post_error(client, prefix, id, kind, tx)
            }
        }
    }
}

/// The request line of a crash post from the init hook.
#[cfg(feature = "lambda")]
type InitLine = [&'static [u8]; 5];
#[cfg(not(feature = "lambda"))]
type InitLine = [&'static [u8]; 0];

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

/// SCF's endpoint, also stored in `host` for messages.
fn scf_endpoint(env: &Env, host: &mut Host<'static>) -> Result<Addrs, Fatal> {
    let addrs;
    (addrs, *host) = endpoint(env.api, env.port)?;
    Ok(addrs)
}

/// Start-up after the endpoint is known: picks the handler and runs its
/// init hook (whose message, on failure, is left in `tx`).
/// `post` is where a crash in the hook is posted (Lambda's init/error).
fn start(env: &Env, ctx: &mut RawContext, tx: &mut Buf, post: Option<Post>) -> Result<&'static Entry, Fatal> {
    #[cfg(feature = "lambda")]
    if let Some(m) = env.lambda.memory_size {
        let value = m.to_bytes();
        let why = "is not a number of megabytes";
        ctx.memory_limit_mb = crate::text::parse_decimal(value).ok_or(Fatal::EnvInvalid {
            var: "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            value,
            why,
        })?;
    }
    let entry = fatal::select(ffi::entries(), env.handler)?;
    // Crash reports are armed before the first user code runs: here, before
    // the init hook, if there is one (else in `serve`, after ready).
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

/// Fills `ctx` from SCF's context headers. The request id stays where it
/// was received; a NUL written over the byte after it (part of the head's
/// line ending, already parsed) makes it a C string too. Returns the name
/// of a header that is present but invalid.
fn scf_context(c: &wire::Context, buf: &mut [u8], ctx: &mut RawContext) -> Option<&'static str> {
    ctx.request_id = Str { ptr: c"".as_ptr(), len: 0 };
    if let Some((nul, id)) = c.request_id.clone().and_then(|r| buf.get_mut(r.start..=r.end)?.split_last_mut()) {
        *nul = 0;
        ctx.request_id = Str { ptr: id.as_ptr().cast(), len: id.len() };
    }
    let mut bad_header = None;
    let mut number = |n: wire::Num, name: &'static str| match n {
        wire::Num::Value(v) => v,
        wire::Num::Absent => 0,
        wire::Num::Invalid => {
            bad_header = Some(name);
            0
        }
    };
    ctx.memory_limit_mb = number(c.memory_limit_mb, "memory_limit_in_mb");
    ctx.time_limit_ms = number(c.time_limit_ms, "time_limit_in_ms");
    ctx.deadline_ms = match ctx.time_limit_ms {
        0 => 0,
        limit => sys::realtime_ms().saturating_add(limit),
    };
    bad_header
}

/// Posts `body` to SCF's `endpoint` and returns the status.
fn post(client: &mut Client, endpoint: ScfEndpoint, body: &[u8]) -> Result<u16, Fatal> {
    client
        .request(endpoint.route(), body)
        .map(|r| r.status)
        .map_err(|err| Fatal::Http { endpoint: endpoint.into(), err })
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

/// Posts an invocation's result, `body` to `endpoint` (response or error),
/// with the next `/next` in the same write (pipelining, SCF only), and
/// returns the status; the loop reads the `/next`'s answer.
///
/// A result refused, or left without an answer (a connection failure, a
/// 5xx), with a `/next` already on its way needs more: anything posted
/// for the invocation (the error saying why, the result again) may only
/// go while it is still the current one. The `/next`'s answer tells: the
/// same request id (a repeated `/next` returns the current event) means
/// it is, and the caller posts the error, or the result is sent again
/// alone, as without pipelining; a new one means the platform has moved
/// on, and anything posted now would count for the new event, so nothing
/// is (a refusal is told on stderr), the new event is left in `held`, and
/// `None` returned.
fn post_result(
    client: &mut Client,
    endpoint: ScfEndpoint,
    body: &[u8],
    ctx: &RawContext,
    held: &mut Option<crate::http::Response>,
) -> Result<Option<u16>, Fatal> {
    // The id lives in the receive buffer, which the answers overwrite:
    // its length and first bytes are kept to compare with.
    let mut id = [0u8; 128];
    let len = ctx.request_id.bytes().map_or(0, |b| {
        id.iter_mut().zip(b).for_each(|(d, s)| *d = *s);
        b.len()
    });
    let next_route = ScfEndpoint::Next.route();
    // The answer to the result: accepted, refused (its status), or none
    // (the connection failed before it, or a 5xx: the platform may or may
    // not have taken the result, and the /next behind it).
    let refused = match client.request_then(endpoint.route(), body, next_route) {
        Ok(r) if (200..300).contains(&r.status) || endpoint != ScfEndpoint::Response => return Ok(Some(r.status)),
        Ok(r) => Some(r.status),
        Err(crate::http::Error::Unreachable(_)) => None,
        Err(err) => return Err(Fatal::Http { endpoint: endpoint.into(), err }),
    };
    let next =
        client.request(next_route, b"").map_err(|err| Fatal::Http { endpoint: ScfEndpoint::Next.into(), err })?;
    let got = next.context.request_id.clone().and_then(|r| client.buffer_mut().get(r)).unwrap_or_default();
    if next.status != 200 {
        // The loop stops on it.
        *held = Some(next);
        return Ok(None);
    }
    if got.len() == len && got.iter().zip(&id).all(|(a, b)| a == b) {
        // Still the current invocation: a refusal is posted as an error by
        // the caller; a result without an answer is sent again, alone.
        return match refused {
            Some(status) => Ok(Some(status)),
            None => post(client, endpoint, body).map(Some),
        };
    }
    // The platform has moved on: an unanswered result was taken (or the
    // invocation ended otherwise); a refused one can no longer be told.
    if let Some(status) = refused {
        msg!(
            "warning: the runtime API refused the response with status {} and the pipelined /next brought the next \
             event, so no error was posted for the refused one",
            Arg::Num(status.into())
        )
        .emit();
    }
    *held = Some(next);
    Ok(None)
}

/// The environment the platform gives the runtime. Every value lives in the
/// process environment, so borrowing it for 'static costs no copy.
pub struct Env {
    pub api: Option<&'static CStr>,
    pub port: Option<&'static CStr>,
    pub handler: Option<&'static [u8]>,
    pub function_name: Option<&'static CStr>,
    pub namespace: Option<&'static CStr>,
    pub version: Option<&'static CStr>,
    pub region: Option<&'static CStr>,
    /// `SCF_BOOTSTRAP_PIPELINE` (docs/platforms.md, "Pipelining").
    pub pipeline: Option<&'static CStr>,
    #[cfg(feature = "lambda")]
    pub lambda: crate::lambda::Env,
}

impl Env {
    fn read() -> Env {
        // Grouped by shared prefix, so an entry is compared with a group's
        // names only after its prefix matched (see sys::getenv_grouped);
        // the slots of `v` follow the names in this order.
        const SCF: [&[u8]; 6] = [
            b"RUNTIME_API",
            b"RUNTIME_API_PORT",
            b"FUNCTIONNAME",
            b"NAMESPACE",
            b"FUNCTIONVERSION",
            b"BOOTSTRAP_PIPELINE",
        ];
        let groups: &[(&[u8], &[&[u8]])] = &[
            (b"SCF_", &SCF),
            (b"_HANDLER", &[b""]),
            (b"TENCENTCLOUD_REGION", &[b""]),
            #[cfg(feature = "lambda")]
            (b"AWS_", &crate::lambda::ENV_NAMES),
        ];
        let mut v = [None; 13];
        sys::getenv_grouped(groups, &mut v);
        #[allow(unused_mut)]
        let [api, port, mut function_name, mut namespace, mut version, pipeline, handler, mut region, ..] = v;
        #[cfg(feature = "lambda")]
        let lambda = crate::lambda::Env { api: v[8], memory_size: v[11] };
        // Serving Lambda, the context's metadata is Lambda's.
        #[cfg(feature = "lambda")]
        if lambda.api.is_some() {
            (function_name, namespace, version, region) = (v[9], None, v[10], v[12]);
        }
        Env {
            api,
            port,
            handler: handler.map(CStr::to_bytes),
            function_name,
            namespace,
            version,
            region,
            pipeline,
            #[cfg(feature = "lambda")]
            lambda,
        }
    }
}

/// Parses `SCF_RUNTIME_API` and `SCF_RUNTIME_API_PORT` into the addresses to
/// try and the Host header value.
fn endpoint(api: Option<&'static CStr>, port: Option<&'static CStr>) -> Result<(Addrs, Host<'static>), Fatal> {
    const API: &str = "SCF_RUNTIME_API";
    const PORT: &str = "SCF_RUNTIME_API_PORT";
    let api = api.ok_or(Fatal::EnvMissing(API))?;
    let pv = port.ok_or(Fatal::EnvMissing(PORT))?.to_bytes();
    let value = api.to_bytes();
    let port = address::parse_port(pv).ok_or(Fatal::EnvInvalid {
        var: PORT,
        value: pv,
        why: "is not a port number from 1 to 65535",
    })?;
    let (addrs, v6, inner) =
        address::host_addrs(API, value, port, "is not an IPv6 address (put the port in SCF_RUNTIME_API_PORT)")?;
    Ok((addrs, Host::new(inner, v6, pv)))
}

/// Prints the one-line message for `f`. `host` is the runtime API's
/// address (empty before it was parsed); `written` is what the init hook
/// wrote, for an init failure.
fn report(f: Fatal, host: &Host, written: &[u8]) {
    fatal::describe(f, host, written).emit();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(api: &'static CStr, port: &'static CStr) -> Result<String, Fatal> {
        endpoint(Some(api), Some(port)).map(|(_, host)| String::from_utf8(host.pieces().concat()).unwrap())
    }

    #[test]
    fn endpoints() {
        assert_eq!(ep(c"127.0.0.1", c"9001").unwrap(), "127.0.0.1:9001");
        assert_eq!(ep(c"::1", c"80").unwrap(), "[::1]:80");
        assert_eq!(ep(c"[::1]", c"65535").unwrap(), "[::1]:65535");
        assert_eq!(ep(c"LocalHost", c"1").unwrap(), "LocalHost:1");
        let bad_port = |p: &'static CStr| match ep(c"127.0.0.1", p) {
            Err(Fatal::EnvInvalid { var: "SCF_RUNTIME_API_PORT", .. }) => {}
            other => panic!("{p:?}: {other:?}"),
        };
        for p in [c"", c"0", c"65536", c"080", c"9001 ", c"x", c"-1", c"999999"] {
            bad_port(p);
        }
        let bad_api = |a: &'static CStr| match ep(a, c"9001") {
            Err(Fatal::EnvInvalid { var: "SCF_RUNTIME_API", .. }) => {}
            other => panic!("{a:?}: {other:?}"),
        };
        for a in [c"", c"[::1", c"[127.0.0.1]", c"127.0.0.1:9001", c"::g", c"host name", c"a\r\nX: y"] {
            bad_api(a);
        }
        assert_eq!(endpoint(None, Some(c"1")).err().unwrap(), Fatal::EnvMissing("SCF_RUNTIME_API"));
        assert_eq!(endpoint(Some(c"::1"), None).err().unwrap(), Fatal::EnvMissing("SCF_RUNTIME_API_PORT"));
    }
}
