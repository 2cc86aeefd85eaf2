//! The AWS Lambda dialect of the runtime API (cargo feature `lambda`):
//! everything the loop sends and reads that is Lambda's. Built alone
//! (`--no-default-features --features lambda`) it is the Lambda variant;
//! built with `scf` too, it is chosen at start when
//! `AWS_LAMBDA_RUNTIME_API` is set ([`crate::choose`]). The connection,
//! framing, retry policy, buffers and handler registry are the loop's;
//! what differs is here:
//!
//! ```text
//!  exec ──► env + endpoint ──► handler + init hook ──(failure)──► POST /2018-06-01/runtime/init/error
//!            ┌─────────────────────┘ (no ready call: the first `next` is the signal)
//!            ▼
//!   GET /2018-06-01/runtime/invocation/next ──► 204: poll again
//!            ▲          │ 200
//!            │          ▼
//!            │   handler(event, ctx, out)
//!            │     SCF_OK ──► POST .../invocation/{id}/response
//!            └──── other  ──► POST .../invocation/{id}/error   {"errorMessage": "...", "errorType": "..."}
//! ```
//!
//! `AWS_LAMBDA_RUNTIME_API` is `host:port` on AWS, `[v6]:port` for an IPv6
//! host, and `http://[::]:PORT/.rt` from cargo-lambda's emulator: a scheme
//! and a path prefix are accepted, and the unspecified address means this
//! host. Request lines are built from pieces (the prefix and the request
//! id go in as iovecs); error messages are JSON-escaped into the response
//! buffer, after the message itself, so no second buffer is needed.

mod json;

use crate::address;
use crate::crash::{Post, BODY_ROOM};
use crate::dialect::{self, Dialect, Meta, Start, Var, Vars};
use crate::fatal::{self, Endpoint as Named, Fatal};
use crate::ffi::{self, RawContext, Str};
use crate::http::wire::{self, Host, Span};
use crate::http::{Client, Peer, Response};
use crate::invoke::Failure;
use crate::sys::{self, Buf};
use crate::text;
use core::ffi::CStr;

/// Lambda's variables.
#[derive(Default)]
pub struct Env {
    pub api: Option<&'static CStr>,
    pub function_name: Option<&'static CStr>,
    pub version: Option<&'static CStr>,
    pub memory_size: Option<&'static CStr>,
    pub region: Option<&'static CStr>,
}

impl Vars for Env {
    fn vars(&mut self) -> impl AsMut<[Var<'_>]> {
        self.named()
    }
}

impl Env {
    /// The variables by name (see [`Vars`]).
    pub fn named(&mut self) -> [Var<'_>; 5] {
        [
            (b"AWS_LAMBDA_RUNTIME_API", &mut self.api),
            (b"AWS_LAMBDA_FUNCTION_NAME", &mut self.function_name),
            (b"AWS_LAMBDA_FUNCTION_VERSION", &mut self.version),
            (b"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", &mut self.memory_size),
            (b"AWS_REGION", &mut self.region),
        ]
    }
}

/// Lambda's endpoints (their paths are built at run time, from the path
/// prefix and the request id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    InitError,
    Next,
    Response,
    Error,
}

impl Endpoint {
    /// Its method and path, as messages name it.
    pub fn named(self) -> Named {
        Named(match self {
            Endpoint::InitError => "POST /2018-06-01/runtime/init/error",
            Endpoint::Next => "GET /2018-06-01/runtime/invocation/next",
            Endpoint::Response => "POST /2018-06-01/runtime/invocation/{id}/response",
            Endpoint::Error => "POST /2018-06-01/runtime/invocation/{id}/error",
        })
    }
}

/// The longest request id accepted (AWS's are 36-character UUIDs).
pub const MAX_REQUEST_ID: usize = 128;

// Pieces of the request lines. The method comes first, then the prefix of
// AWS_LAMBDA_RUNTIME_API's path (usually empty), then these.
const NEXT_LINE: &[u8] = b"/2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: ";
const INVOCATION: &[u8] = b"/2018-06-01/runtime/invocation/";
const RESPONSE_LINE: &[u8] = b"/response HTTP/1.1\r\nHost: ";
const ERROR_LINE: &[u8] = b"/error HTTP/1.1\r\nLambda-Runtime-Function-Error-Type: ";
const INIT_ERROR_LINE: &[u8] = b"/2018-06-01/runtime/init/error HTTP/1.1\r\nLambda-Runtime-Function-Error-Type: ";
const HOST_FIELD: &[u8] = b"\r\nHost: ";

/// `errorType` (and `Lambda-Runtime-Function-Error-Type`) of a handler that
/// returned a failure.
pub const HANDLER_ERROR: &[u8] = b"Handler.Error";
/// ... of an invocation whose context headers the runtime could not use.
pub const INVALID_CONTEXT: &[u8] = b"Runtime.InvalidContext";
/// ... of a response the runtime API refused (too large, say).
pub const RESPONSE_REFUSED: &[u8] = b"Runtime.ResponseRefused";

/// ... of a handler or init hook that crashed (a fault signal or a Rust
/// panic; see [`crate::crash`]). The `Runtime.` category is the one AWS
/// uses for failures of the runtime process rather than an error the
/// handler returned (`Runtime.ExitError` is what Lambda itself reports
/// once the process has died by the signal).
pub const CRASH: &[u8] = b"Runtime.Crash";

/// Lambda's error object with the JSON-escaped message `escaped` and the
/// error type `kind`, in pieces: `{"errorMessage": ..., "errorType": ...}`.
fn error_object<'a>(escaped: &'a [u8], kind: &'a [u8]) -> [&'a [u8]; 5] {
    [b"{\"errorMessage\":\"", escaped, b"\",\"errorType\":\"", kind, b"\"}"]
}

/// A crash report's body: the error object of the report's line, with the
/// error type [`CRASH`] (see [`crate::crash::Body`]).
fn crash_body<'l>(line: &'l [u8], room: &'l mut [u8; BODY_ROOM]) -> [&'l [u8]; 5] {
    let n = json::escape_into(line, room);
    let room: &'l [u8] = room;
    error_object(room.get(..n).unwrap_or_default(), CRASH)
}

/// The `errorType` posted to `init/error` for a start-up failure.
pub fn init_error_type(f: &Fatal) -> &'static [u8] {
    match f {
        Fatal::HandlerUnset | Fatal::UnknownHandler { .. } => b"Runtime.HandlerNotFound",
        Fatal::DuplicateHandler(_) | Fatal::AbiMismatch { .. } => b"Runtime.InvalidHandler",
        Fatal::InitFailed { .. } => b"Handler.InitError",
        _ => b"Runtime.InvalidEnvironment",
    }
}

/// What is wrong with an `AWS_LAMBDA_RUNTIME_API` value that is not one of
/// the forms accepted (https included: this runtime speaks plain HTTP).
const FORMS: &str = "is not HOST:PORT, [IPv6]:PORT or http://HOST:PORT/PATH (port 1-65535)";

/// Host, port and path prefix of `AWS_LAMBDA_RUNTIME_API`.
pub type ApiParts<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// `AWS_LAMBDA_RUNTIME_API` split into host (brackets kept), port digits
/// and path prefix (no trailing `/`; usually empty). `Err` says what is
/// wrong with it.
pub fn split_api(value: &[u8]) -> Result<ApiParts<'_>, &'static str> {
    let rest = match value.split_at_checked(7) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case(b"http://") => rest,
        _ => value,
    };
    let (authority, mut prefix) =
        rest.iter().position(|&b| b == b'/').and_then(|i| rest.split_at_checked(i)).unwrap_or((rest, b""));
    while let [p @ .., b'/'] = prefix {
        prefix = p;
    }
    // The prefix goes into request lines as it is: no byte may end the path.
    if !prefix.iter().all(|&b| b.is_ascii_graphic() && b != b'?' && b != b'#') {
        return Err(FORMS);
    }
    let colon = match authority {
        [b'[', ..] => authority.iter().position(|&b| b == b']').map(|i| i + 1),
        _ => authority.iter().rposition(|&b| b == b':'),
    };
    match colon.and_then(|i| authority.split_at_checked(i)) {
        // An IPv6 host without brackets would be ambiguous with its port.
        Some((host, [b':', port @ ..])) if host.first() == Some(&b'[') || memchr::memchr(b':', host).is_none() => {
            Ok((host, port, prefix))
        }
        _ => Err(FORMS),
    }
}

/// The addresses to try, the Host value and the path prefix that
/// `AWS_LAMBDA_RUNTIME_API` names.
pub fn endpoint(api: Option<&'static CStr>) -> Result<(sys::Addrs, Host<'static>, &'static [u8]), Fatal> {
    const VAR: &str = "AWS_LAMBDA_RUNTIME_API";
    let value = api.ok_or(Fatal::EnvMissing(VAR))?.to_bytes();
    let bad = |why| Fatal::EnvInvalid { var: VAR, value, why };
    let (host, port, prefix) = split_api(value).map_err(bad)?;
    let port_n = address::parse_port(port).ok_or(bad(FORMS))?;
    if host.is_empty() || host.len() > wire::MAX_HOST {
        return Err(bad(FORMS));
    }
    // `[::]` (what cargo-lambda hands out) is where a server listens, not
    // an address: as a destination it means this host. Messages quote the
    // whole setting, not just its host part.
    let (addrs, v6, inner) = address::host_addrs(host, port_n).map_err(|err| match err {
        address::Error::NotIpv6 | address::Error::Empty | address::Error::TooLong => bad(FORMS),
        err => Fatal::Address { var: VAR, value, err },
    })?;
    Ok((addrs, Host::new(inner, v6, port), prefix))
}

/// Lambda's six context headers (`Lambda-Runtime-*`), as spans of the
/// receive buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    /// `Lambda-Runtime-Aws-Request-Id`
    pub request_id: Option<Span>,
    /// `Lambda-Runtime-Deadline-Ms`
    pub deadline_ms: wire::Num,
    /// `Lambda-Runtime-Invoked-Function-Arn`
    pub function_arn: Option<Span>,
    /// `Lambda-Runtime-Trace-Id`
    pub trace_id: Option<Span>,
    /// `Lambda-Runtime-Client-Context`
    pub client_context: Option<Span>,
    /// `Lambda-Runtime-Cognito-Identity`
    pub cognito_identity: Option<Span>,
}

impl AsRef<Fields> for Fields {
    fn as_ref(&self) -> &Fields {
        self
    }
}

impl wire::Fields for Fields {
    fn clear(&mut self) {
        *self = Fields::default();
    }

    #[inline(always)]
    fn field(&mut self, name: &[u8], value: &[u8], at: Span) {
        let is = |want: &[u8]| wire::eq_lowercase(name, want);
        let span = Some(at);
        match name.len() {
            29 if is(b"lambda-runtime-aws-request-id") => self.request_id = span,
            26 if is(b"lambda-runtime-deadline-ms") => self.deadline_ms = wire::Num::parse(value),
            35 if is(b"lambda-runtime-invoked-function-arn") => self.function_arn = span,
            23 if is(b"lambda-runtime-trace-id") => self.trace_id = span,
            29 if is(b"lambda-runtime-client-context") => self.client_context = span,
            31 if is(b"lambda-runtime-cognito-identity") => self.cognito_identity = span,
            _ => {}
        }
    }
}

/// The Lambda dialect: the path prefix of its setting, the fields of the
/// heads read (`F`: Lambda's [`Fields`] alone, unless a build with both
/// dialects shares one type), and what it keeps of the accepted event.
pub struct Lambda<F = Fields> {
    fields: F,
    prefix: &'static [u8],
    /// The request id, copied (with its NUL) for the result's path: the
    /// receive buffer is reused, and after an idle close refilled, before
    /// the result goes out.
    id: [u8; MAX_REQUEST_ID + 1],
    id_len: usize,
    deadline_ms: u64,
    time_limit_ms: u64,
    /// The other context values, NUL-terminated in the receive buffer.
    values: [Option<core::ops::Range<usize>>; 4],
}

impl<F> Lambda<F> {
    /// The accepted event's request id.
    fn id(&self) -> &[u8] {
        self.id.get(..self.id_len).unwrap_or_default()
    }
}

/// Posts `body` (in pieces) after `head` (which ends with the joined Host
/// tail) to `e`; returns the status.
fn post<F: wire::Fields>(
    client: &mut Client,
    fields: &mut F,
    e: Endpoint,
    head: &[&[u8]],
    body: &[&[u8]],
) -> Result<u16, Fatal> {
    let mut digits = itoa::Buffer::new();
    let mut pieces: [&[u8]; wire::PIECES] = [b""; wire::PIECES];
    let n = wire::message(&mut pieces, head, &mut digits, body);
    client
        .request(pieces.get(..n).unwrap_or_default(), fields)
        .map(|r| r.status)
        .map_err(|err| Fatal::Http { endpoint: e.named(), err })
}

/// Posts `tx` (a message, escaped here) as invocation `id`'s error, or as
/// the init error when `id` is `None`: `{"errorMessage": ..., "errorType":
/// kind}` with the header `Lambda-Runtime-Function-Error-Type: kind`.
/// Returns the status.
fn post_error<F: wire::Fields>(
    client: &mut Client,
    fields: &mut F,
    prefix: &[u8],
    id: Option<&[u8]>,
    kind: &[u8],
    tx: &mut Buf,
) -> Result<u16, Fatal> {
    let at = escape_in_place(tx);
    let body = error_object(tx.as_slice().get(at..).unwrap_or_default(), kind);
    let tail = client.tail();
    match id {
        None => post(
            client,
            fields,
            Endpoint::InitError,
            &[b"POST ", prefix, INIT_ERROR_LINE, kind, HOST_FIELD, tail],
            &body,
        ),
        Some(id) => {
            let head = [&b"POST "[..], prefix, INVOCATION, id, ERROR_LINE, kind, HOST_FIELD, tail];
            post(client, fields, Endpoint::Error, &head, &body)
        }
    }
}

impl<F: wire::Fields + Default + AsRef<Fields>> Dialect for Lambda<F> {
    type Env = Env;

    fn endpoint(env: &Env, pipeline: bool) -> Result<Start<Self>, Fatal> {
        let (addrs, host, prefix) = endpoint(env.api)?;
        if pipeline {
            crate::diag::msg!("warning: SCF_BOOTSTRAP_PIPELINE=1 is for SCF only; requests to Lambda go one at a time")
                .emit();
        }
        let lambda = Lambda {
            fields: F::default(),
            prefix,
            id: [0; MAX_REQUEST_ID + 1],
            id_len: 0,
            deadline_ms: 0,
            time_limit_ms: 0,
            values: [None, None, None, None],
        };
        Ok(Start { dialect: lambda, addrs, host })
    }

    fn meta(&self, env: &Env) -> Result<Meta, Fatal> {
        let memory_limit_mb = match env.memory_size {
            None => 0,
            Some(m) => {
                let value = m.to_bytes();
                text::parse_decimal(value).ok_or(Fatal::EnvInvalid {
                    var: "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                    value,
                    why: "is not a number of megabytes",
                })?
            }
        };
        Ok(Meta {
            function_name: env.function_name,
            namespace: None,
            version: env.version,
            region: env.region,
            memory_limit_mb,
        })
    }

    fn platform(&self) -> u32 {
        ffi::PLATFORM_LAMBDA
    }

    /// init/error, with the error type `Runtime.Crash`.
    fn init_post<R>(&self, peer: Peer, tail: &[u8], f: impl FnOnce(Option<Post>) -> R) -> R {
        let head = [&b"POST "[..], self.prefix, INIT_ERROR_LINE, CRASH, HOST_FIELD, tail];
        f(Some(Post { conn: peer.conn, reconnect: Some(peer.addrs), head: &head, body: crash_body, answered: true }))
    }

    /// Reports `f` on init/error (its message, as the log line says it):
    /// the invocation that started the instance then fails with the reason.
    fn init_error(&mut self, client: &mut Client, f: Fatal, host: &Host, tx: &mut Buf) {
        fatal::describe(f, host, tx.as_slice()).store(tx);
        let _ = post_error(client, &mut self.fields, self.prefix, None, init_error_type(&f), tx);
    }

    /// Lambda has no ready call: the first `next` is the signal.
    fn ready(&mut self, _: &mut Client) -> Result<(), Fatal> {
        Ok(())
    }

    fn next(&mut self, client: &mut Client) -> Result<Response, Fatal> {
        loop {
            let tail = client.tail();
            let pieces = [&b"GET "[..], self.prefix, NEXT_LINE, wire::host_line(tail), b"\r\n"];
            let next = client
                .request(&pieces, &mut self.fields)
                .map_err(|err| Fatal::Http { endpoint: Endpoint::Next.named(), err })?;
            match next.status {
                200 => return Ok(next),
                // No event yet: ask again.
                204 => continue,
                status => return Err(Fatal::Status { endpoint: Endpoint::Next.named(), status }),
            }
        }
    }

    /// The request id is copied (see [`Lambda`]); the other values stay
    /// where they were received, each made a C string in place.
    fn accept(&mut self, received: &mut [u8]) -> Result<Option<&'static str>, Fatal> {
        let f = *self.fields.as_ref();
        let src = f.request_id.and_then(|r| received.get(r.range())).filter(|id| valid_request_id(id));
        let Some(src) = src else {
            return Err(Fatal::NoRequestId {
                endpoint: Endpoint::Next.named(),
                header: "Lambda-Runtime-Aws-Request-Id",
            });
        };
        // A valid id is at most MAX_REQUEST_ID bytes: it and its NUL fit.
        self.id.iter_mut().zip(src).for_each(|(d, &c)| *d = c);
        if let Some(nul) = self.id.get_mut(src.len()) {
            *nul = 0;
        }
        self.id_len = src.len();
        let [arn, trace, client_context, cognito] = &mut self.values;
        *arn = dialect::terminate(received, f.function_arn);
        *trace = dialect::terminate(received, f.trace_id);
        *client_context = dialect::terminate(received, f.client_context);
        *cognito = dialect::terminate(received, f.cognito_identity);
        let mut bad = None;
        (self.deadline_ms, self.time_limit_ms) = match f.deadline_ms {
            wire::Num::Value(v) => deadline(sys::realtime_ms(), v),
            wire::Num::Absent => (0, 0),
            wire::Num::Invalid => {
                bad = Some("Lambda-Runtime-Deadline-Ms");
                (0, 0)
            }
        };
        Ok(bad)
    }

    fn context<'a>(&'a self, received: &'a [u8], base: &RawContext<'static>) -> RawContext<'a> {
        let value = |r: &Option<core::ops::Range<usize>>| match r.clone().and_then(|r| received.get(r)) {
            Some(v) => Str::nul_terminated(v),
            None => Str::NONE,
        };
        let [arn, trace, client_context, cognito] = &self.values;
        let (arn, trace, client_context, cognito) = (value(arn), value(trace), value(client_context), value(cognito));
        RawContext {
            request_id: Str::nul_terminated(self.id.get(..self.id_len + 1).unwrap_or_default()),
            time_limit_ms: self.time_limit_ms,
            deadline_ms: self.deadline_ms,
            function_arn: arn,
            trace_id: trace,
            client_context,
            cognito_identity: cognito,
            ..*base
        }
    }

    /// The invocation's error, with the error type `Runtime.Crash` and the
    /// line JSON-escaped into Lambda's error object.
    fn crash_post<R>(&self, peer: Peer, tail: &[u8], f: impl FnOnce(Option<Post>) -> R) -> R {
        let head = [&b"POST "[..], self.prefix, INVOCATION, self.id(), ERROR_LINE, CRASH, HOST_FIELD, tail];
        f(Some(Post { conn: peer.conn, reconnect: Some(peer.addrs), head: &head, body: crash_body, answered: true }))
    }

    fn respond(&mut self, client: &mut Client, body: &[u8]) -> Result<Option<u16>, Fatal> {
        let id = self.id.get(..self.id_len).unwrap_or_default();
        let head = [&b"POST "[..], self.prefix, INVOCATION, id, RESPONSE_LINE, client.tail()];
        post(client, &mut self.fields, Endpoint::Response, &head, &[body]).map(Some)
    }

    fn post_error(&mut self, client: &mut Client, why: Failure, tx: &mut Buf) -> Result<u16, Fatal> {
        let kind = match why {
            Failure::Handler => HANDLER_ERROR,
            Failure::InvalidContext => INVALID_CONTEXT,
            Failure::ResponseRefused => RESPONSE_REFUSED,
        };
        let id = self.id.get(..self.id_len).unwrap_or_default();
        post_error(client, &mut self.fields, self.prefix, Some(id), kind, tx)
    }

    fn error_endpoint(&self) -> Named {
        Endpoint::Error.named()
    }
}

/// A `Lambda-Runtime-Deadline-Ms` value below this (2001-09-09) is not a
/// time since the epoch but a duration: cargo-lambda sends 600000.
const PLAUSIBLE_EPOCH_MS: u64 = 1_000_000_000_000;

/// The context's `(deadline_ms, time_limit_ms)` for a deadline header of
/// `header` received at `now` (both ms since the epoch).
pub fn deadline(now: u64, header: u64) -> (u64, u64) {
    if header < PLAUSIBLE_EPOCH_MS {
        (now.saturating_add(header), header)
    } else {
        (header, header.saturating_sub(now))
    }
}

/// Whether `id` may go into a request path as it is.
pub fn valid_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Appends the JSON-escaped copy of `tx`'s contents to `tx` itself and
/// returns where it starts; the message is left in front of it. The room
/// is the reused response buffer's, grown only for a larger message than
/// any before. If even that fails, the escaped message is empty.
fn escape_in_place(tx: &mut Buf) -> usize {
    let n = tx.len();
    const ZEROS: [u8; 64] = [0; 64];
    let mut left = json::escaped_len(tx.as_slice());
    while left > 0 {
        let k = left.min(ZEROS.len());
        if tx.extend(&ZEROS[..k]).is_err() {
            tx.clear();
            return 0;
        }
        left -= k;
    }
    let Some((src, dst)) = tx.as_mut_slice().split_at_mut_checked(n) else {
        tx.clear();
        return 0;
    };
    json::escape_into(src, dst);
    n
}

/// The dialect's property checks, beside `src/fuzz_tests.rs`'s: run by
/// this module's tests and by the fuzz targets in `fuzz/` (through
/// `crate::fuzzing`, as `lambda_response_head` and `lambda_runtime_api`).
#[cfg(any(test, fuzzing))]
pub mod fuzz {
    use super::{split_api, wire, Fields, Span};
    use crate::fuzz_tests::{self, Spans, Verdict};

    /// `wire::parse_head` with Lambda's fields: the same head as
    /// [`fuzz_tests::response_head`]'s (whose checks hold), and Lambda's
    /// six values among the values offered, inside the head.
    pub fn response_head(input: &[u8]) -> Verdict {
        let verdict = fuzz_tests::response_head(input);
        let (mut f, mut all) = (Fields::default(), Spans::default());
        let got = wire::parse_head(input, &mut f);
        assert_eq!(got, wire::parse_head(input, &mut all), "taking Lambda's fields changes the head");
        if let Ok(Some(h)) = got {
            let spans = [f.request_id, f.function_arn, f.trace_id, f.client_context, f.cognito_identity];
            for r in spans.into_iter().flatten().map(Span::range) {
                assert!(all.0.contains(&r), "{r:?} is not a value offered");
                assert!(r.start <= r.end && r.end < h.len, "{r:?} outside a head of {}", h.len);
            }
        }
        verdict
    }

    /// `split_api`, on an `AWS_LAMBDA_RUNTIME_API` value.
    pub fn runtime_api(input: &[u8]) -> Verdict {
        let Ok((host, port, prefix)) = split_api(input) else { return Verdict::Rejected };
        // The parts are the setting's own bytes, in order: HOST ':' PORT PREFIX.
        let at = |part: &[u8]| part.as_ptr() as usize - input.as_ptr() as usize;
        assert!(at(host) + host.len() < input.len() && input[at(host) + host.len()] == b':');
        assert_eq!(at(port), at(host) + host.len() + 1);
        assert!(at(port) + port.len() <= input.len());
        if !prefix.is_empty() {
            assert!(at(prefix) == at(port) + port.len() && prefix[0] == b'/', "{prefix:?}");
        }
        // Nothing that would end the request line's path, no trailing '/'.
        assert!(prefix.iter().all(|&b| b.is_ascii_graphic() && b != b'?' && b != b'#'));
        assert!(prefix.last() != Some(&b'/'));
        assert!(!host.contains(&b':') || host.first() == Some(&b'['), "{host:?}");
        // Round trip: the parts put back together split the same.
        let joined = [&b"http://"[..], host, b":", port, prefix].concat();
        assert_eq!(split_api(&joined), Ok((host, port, prefix)), "{joined:?}");
        Verdict::Accepted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz_tests::tests::run;

    #[test]
    fn runtime_api_forms() {
        let ok = |v: &str| {
            let (h, p, x) = split_api(v.as_bytes()).unwrap();
            (
                String::from_utf8(h.to_vec()).unwrap(),
                String::from_utf8(p.to_vec()).unwrap(),
                String::from_utf8(x.to_vec()).unwrap(),
            )
        };
        let t = |h: &str, p: &str, x: &str| (h.to_string(), p.to_string(), x.to_string());
        assert_eq!(ok("127.0.0.1:9001"), t("127.0.0.1", "9001", ""));
        assert_eq!(ok("[::1]:9001"), t("[::1]", "9001", ""));
        assert_eq!(ok("http://[::]:9111/.rt"), t("[::]", "9111", "/.rt"));
        assert_eq!(ok("HTTP://localhost:80/a/b/"), t("localhost", "80", "/a/b"));
        assert_eq!(ok("host.example:1/"), t("host.example", "1", ""));
        for bad in ["127.0.0.1", "[::1]", "::1:9001", "h:1/a b", "h:1/a?b", "", "[::1]9001", "http://"] {
            assert!(split_api(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn response_heads_fuzzed() {
        let seeds: &[&[u8]] = &[
            b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: 8476a536-e9f4\r\nLambda-Runtime-Deadline-Ms: 1542409706888\r\n\
              Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:1:function:f\r\nLambda-Runtime-Trace-Id: Root=1-5\r\n\
              Lambda-Runtime-Client-Context: {}\r\nLambda-Runtime-Cognito-Identity: {}\r\nContent-Length: 2\r\n\r\n{}",
            b"HTTP/1.1 204 No Content\r\n\r\n",
        ];
        run(seeds, 60_000, fuzz::response_head).require("parse_head (Lambda's fields)", 15, 40);
    }

    #[test]
    fn runtime_api_settings_fuzzed() {
        let seeds: &[&[u8]] = &[b"127.0.0.1:9001", b"http://[::]:9111/.rt", b"[::1]:80", b"HTTP://host.example:1/a/b/"];
        run(seeds, 40_000, fuzz::runtime_api).require("split_api", 30, 30);
    }

    fn ep(v: &'static CStr) -> Result<(String, String), Fatal> {
        endpoint(Some(v))
            .map(|(_, h, p)| (String::from_utf8(h.pieces().concat()).unwrap(), String::from_utf8(p.to_vec()).unwrap()))
    }

    #[test]
    fn endpoints() {
        assert_eq!(ep(c"127.0.0.1:9001").unwrap(), ("127.0.0.1:9001".into(), "".into()));
        assert_eq!(ep(c"http://[::]:9111/.rt").unwrap(), ("[::]:9111".into(), "/.rt".into()));
        assert_eq!(ep(c"[::1]:80").unwrap(), ("[::1]:80".into(), "".into()));
        for bad in [c"127.0.0.1:0", c"127.0.0.1:65536", c":9001", c"[::g]:1", c"a b:1", c"127.0.0.1", c"https://h:1"] {
            match ep(bad) {
                Err(Fatal::EnvInvalid { var: "AWS_LAMBDA_RUNTIME_API", .. })
                | Err(Fatal::Address { var: "AWS_LAMBDA_RUNTIME_API", .. }) => {}
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn deadlines_since_the_epoch_and_durations() {
        let now = 1_800_000_000_000;
        assert_eq!(deadline(now, now + 3000), (now + 3000, 3000));
        assert_eq!(deadline(now, now - 5), (now - 5, 0));
        assert_eq!(deadline(now, 600_000), (now + 600_000, 600_000));
        assert_eq!(deadline(now, 0), (now, 0));
    }

    #[test]
    fn request_ids() {
        assert!(valid_request_id(b"8476a536-e9f4-11e8-9739-2dfe598c3fcd"));
        assert!(valid_request_id(&[b'a'; MAX_REQUEST_ID]));
        for bad in [&b""[..], b"a b", b"a/b", b"a\r\nb", b"a?b", b"%2e", &[b'a'; MAX_REQUEST_ID + 1]] {
            assert!(!valid_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn error_messages_are_escaped_after_themselves_in_the_buffer() {
        let mut mem = [const { core::mem::MaybeUninit::uninit() }; 16];
        let mut tx = Buf::new(&mut mem);
        tx.extend(b"say \"hi\"\n").unwrap();
        let at = escape_in_place(&mut tx);
        assert_eq!(&tx.as_slice()[..at], b"say \"hi\"\n");
        assert_eq!(&tx.as_slice()[at..], b"say \\\"hi\\\"\\n");
    }
}
