//! The AWS Lambda dialect of the runtime API (cargo feature `lambda`),
//! chosen at start when `AWS_LAMBDA_RUNTIME_API` is set. The connection,
//! framing, retry policy, buffers and handler registry are the SCF
//! dialect's (`runtime`, which calls this module); what differs is here:
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

use crate::address;
use crate::fatal::{self, Fatal, LambdaEndpoint};
use crate::ffi::{RawContext, Str};
use crate::http::wire::{self, Host};
use crate::http::Client;
use crate::sys::{self, Buf};
use crate::text;
use core::ffi::CStr;

/// The Lambda variables the runtime reads, after their shared `AWS_`
/// (`runtime::Env::read` takes them in this order).
pub const ENV_NAMES: [&[u8]; 5] = [
    b"LAMBDA_RUNTIME_API",
    b"LAMBDA_FUNCTION_NAME",
    b"LAMBDA_FUNCTION_VERSION",
    b"LAMBDA_FUNCTION_MEMORY_SIZE",
    b"REGION",
];

/// What of Lambda's environment only the Lambda dialect uses (the
/// function's name, version and region go into the shared fields of
/// `runtime::Env`).
pub struct Env {
    pub api: Option<&'static CStr>,
    pub memory_size: Option<&'static CStr>,
}

/// The longest request id accepted (AWS's are 36-character UUIDs).
pub const MAX_REQUEST_ID: usize = 128;

// Pieces of the request lines. The method comes first, then the prefix of
// AWS_LAMBDA_RUNTIME_API's path (usually empty), then these.
pub const NEXT_LINE: &[u8] = b"/2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: ";
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

/// The pieces of a crash report's request line for invocation `id` (see
/// [`crate::crash::Post`]); the body is built in the signal handler.
pub fn crash_line<'a>(prefix: &'a [u8], id: &'a [u8]) -> [&'a [u8]; 7] {
    [b"POST ", prefix, INVOCATION, id, ERROR_LINE, CRASH, HOST_FIELD]
}

/// ... and of a crash in the init hook, posted to init/error.
pub fn crash_init_line(prefix: &[u8]) -> [&[u8]; 5] {
    [b"POST ", prefix, INIT_ERROR_LINE, CRASH, HOST_FIELD]
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
        Some((host, [b':', port @ ..])) if host.first() == Some(&b'[') || !host.contains(&b':') => {
            Ok((host, port, prefix))
        }
        _ => Err(FORMS),
    }
}

/// The addresses to try, the Host value and the path prefix.
pub type Api = (sys::Addrs, Host<'static>, &'static [u8]);

/// The [`Api`] that `AWS_LAMBDA_RUNTIME_API` names.
pub fn endpoint(api: &'static CStr) -> Result<Api, Fatal> {
    const VAR: &str = "AWS_LAMBDA_RUNTIME_API";
    let value = api.to_bytes();
    let (host, port, prefix) = split_api(value).map_err(|why| Fatal::EnvInvalid { var: VAR, value, why })?;
    let bad = |why| Fatal::EnvInvalid { var: VAR, value, why };
    let port_n = address::parse_port(port).ok_or(bad(FORMS))?;
    if host.is_empty() || host.len() > 255 {
        return Err(bad(FORMS));
    }
    // Messages quote the whole setting, not just its host part.
    let (addrs, v6, inner) = address::host_addrs(VAR, host, port_n, FORMS).map_err(|e| match e {
        Fatal::EnvInvalid { why, .. } => bad(why),
        other => other,
    })?;
    Ok((addrs, Host::new(inner, v6, port), prefix))
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
    let mut m = 0;
    text::escape_json(tx.as_slice(), &mut |p| m += p.len());
    const ZEROS: [u8; 64] = [0; 64];
    let mut left = m;
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
    let mut at = 0;
    text::escape_json(src, &mut |p| {
        let room = dst.get_mut(at..).unwrap_or_default();
        room.iter_mut().zip(p).for_each(|(d, &c)| *d = c);
        at += p.len();
    });
    n
}

/// Posts `body` as the response to invocation `id`. Returns the status.
pub fn respond(client: &mut Client, prefix: &[u8], id: &[u8], body: &[u8]) -> Result<u16, Fatal> {
    let line = [&b"POST "[..], prefix, INVOCATION, id, RESPONSE_LINE];
    client
        .request_parts(&line, Some(&[body]))
        .map(|r| r.status)
        .map_err(|err| Fatal::Http { endpoint: LambdaEndpoint::Response.into(), err })
}

/// Posts `tx` (a message, escaped here) as invocation `id`'s error, or as
/// the init error when `id` is empty: `{"errorMessage": ..., "errorType":
/// kind}` with the header `Lambda-Runtime-Function-Error-Type: kind`.
/// Returns the status.
pub fn post_error(client: &mut Client, prefix: &[u8], id: &[u8], kind: &[u8], tx: &mut Buf) -> Result<u16, Fatal> {
    let at = escape_in_place(tx);
    let escaped = tx.as_slice().get(at..).unwrap_or_default();
    let (line, endpoint) = match id {
        [] => ([&b"POST "[..], prefix, INIT_ERROR_LINE, b"", b"", kind, HOST_FIELD], LambdaEndpoint::InitError),
        _ => ([&b"POST "[..], prefix, INVOCATION, id, ERROR_LINE, kind, HOST_FIELD], LambdaEndpoint::Error),
    };
    let body = [&b"{\"errorMessage\":\""[..], escaped, b"\",\"errorType\":\"", kind, b"\"}"];
    client
        .request_parts(&line, Some(&body))
        .map(|r| r.status)
        .map_err(|err| Fatal::Http { endpoint: endpoint.into(), err })
}

/// Reports the start-up failure `f` on init/error (its message, as the
/// log line says it; `tx` holds what an init hook wrote). A failure to
/// report it is not reported: the start fails either way, and the caller
/// prints `f`.
pub fn init_error(client: &mut Client, prefix: &[u8], f: Fatal, host: &Host, tx: &mut Buf) {
    fatal::describe(f, host, tx.as_slice()).store(tx);
    let _ = post_error(client, prefix, b"", init_error_type(&f), tx);
}

/// Fills `ctx` from Lambda's context headers `c` (ranges into `buf`, the
/// receive buffer). The request id is copied to `id_mem` (the receive
/// buffer is reused, and after an idle close refilled, before the result
/// goes out with the id in its path) and returned; the other values stay
/// where they were received, a NUL written over the byte after each (part
/// of its line's ending, already parsed) making them C strings. Also
/// returns the name of a header that is present but invalid.
pub fn context<'i>(
    c: &wire::LambdaContext,
    buf: &mut [u8],
    ctx: &mut RawContext,
    id_mem: &'i mut [u8; MAX_REQUEST_ID + 1],
) -> Result<(&'i [u8], Option<&'static str>), Fatal> {
    let id = match c.request_id.and_then(|r| buf.get(r.range())).filter(|id| valid_request_id(id)) {
        Some(src) => {
            // A valid id is at most MAX_REQUEST_ID bytes: it and its NUL fit.
            id_mem.iter_mut().zip(src).for_each(|(d, &c)| *d = c);
            if let Some(nul) = id_mem.get_mut(src.len()) {
                *nul = 0;
            }
            id_mem.get(..src.len()).unwrap_or_default()
        }
        None => return Err(Fatal::BadRequestId),
    };
    ctx.request_id = Str { ptr: id.as_ptr().cast(), len: id.len() };
    for (range, field) in [
        (&c.function_arn, &mut ctx.function_arn),
        (&c.trace_id, &mut ctx.trace_id),
        (&c.client_context, &mut ctx.client_context),
        (&c.cognito_identity, &mut ctx.cognito_identity),
    ] {
        *field = match range.map(wire::Span::range).and_then(|r| buf.get_mut(r.start..=r.end)?.split_last_mut()) {
            Some((nul, value)) => {
                *nul = 0;
                Str { ptr: value.as_ptr().cast(), len: value.len() }
            }
            None => Str::NONE,
        };
    }
    let mut bad = None;
    (ctx.deadline_ms, ctx.time_limit_ms) = match c.deadline_ms {
        wire::Num::Value(v) => deadline(sys::realtime_ms(), v),
        wire::Num::Absent => (0, 0),
        wire::Num::Invalid => {
            bad = Some("Lambda-Runtime-Deadline-Ms");
            (0, 0)
        }
    };
    Ok((id, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn ep(v: &'static CStr) -> Result<(String, String), Fatal> {
        endpoint(v)
            .map(|(_, h, p)| (String::from_utf8(h.pieces().concat()).unwrap(), String::from_utf8(p.to_vec()).unwrap()))
    }

    #[test]
    fn endpoints() {
        assert_eq!(ep(c"127.0.0.1:9001").unwrap(), ("127.0.0.1:9001".into(), "".into()));
        assert_eq!(ep(c"http://[::]:9111/.rt").unwrap(), ("[::]:9111".into(), "/.rt".into()));
        assert_eq!(ep(c"[::1]:80").unwrap(), ("[::1]:80".into(), "".into()));
        for bad in [c"127.0.0.1:0", c"127.0.0.1:65536", c":9001", c"[::g]:1", c"a b:1", c"127.0.0.1", c"https://h:1"] {
            match ep(bad) {
                Err(Fatal::EnvInvalid { var: "AWS_LAMBDA_RUNTIME_API", .. }) => {}
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
