//! Why the runtime stops, and the endpoints that messages name.
//!
//! Everything that ends the process (bad environment, no handler to run,
//! a failed init hook, an unreachable or misbehaving runtime API) is a
//! [`Fatal`] value, built where the problem is found and turned into one
//! line of text by [`describe`]. The runtime API's endpoints are typed
//! ([`Endpoint`], one enum per dialect), so that a request and the message
//! about its failure cannot name different ones. Both dialects, `runtime`
//! (SCF) and `lambda`, sit above this module; it knows neither.

use crate::diag::{put, Arg, Line};
use crate::ffi::{self, Entry};
use crate::http;
use crate::http::wire::{route, Host, Route};
use crate::sys;
use core::ffi::c_int;

/// An endpoint of the runtime API, in the dialect being served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Scf(ScfEndpoint),
    #[cfg(feature = "lambda")]
    Lambda(LambdaEndpoint),
}

/// SCF's endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScfEndpoint {
    Ready,
    Next,
    Response,
    Error,
}

/// AWS Lambda's endpoints (their paths are built at run time, from the
/// path prefix and the request id; see `lambda`).
#[cfg(feature = "lambda")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LambdaEndpoint {
    InitError,
    Next,
    Response,
    Error,
}

impl ScfEndpoint {
    /// The request line and the rest of what the client needs to send to it.
    pub const fn route(self) -> &'static Route {
        const READY: Route = route!(POST "/runtime/init/ready");
        const NEXT: Route = route!(GET "/runtime/invocation/next");
        const RESPONSE: Route = route!(POST "/runtime/invocation/response");
        const ERROR: Route = route!(POST "/runtime/invocation/error");
        match self {
            ScfEndpoint::Ready => &READY,
            ScfEndpoint::Next => &NEXT,
            ScfEndpoint::Response => &RESPONSE,
            ScfEndpoint::Error => &ERROR,
        }
    }

    /// Lambda's endpoint in the same place of the loop (init/error stands
    /// in for ready, which Lambda does not have).
    #[cfg(feature = "lambda")]
    pub const fn in_lambda(self) -> Endpoint {
        Endpoint::Lambda(match self {
            ScfEndpoint::Ready => LambdaEndpoint::InitError,
            ScfEndpoint::Next => LambdaEndpoint::Next,
            ScfEndpoint::Response => LambdaEndpoint::Response,
            ScfEndpoint::Error => LambdaEndpoint::Error,
        })
    }
}

impl Endpoint {
    /// The method and path (`POST /runtime/init/ready`), for messages.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Scf(e) => e.route().name(),
            #[cfg(feature = "lambda")]
            Endpoint::Lambda(e) => match e {
                LambdaEndpoint::InitError => "POST /2018-06-01/runtime/init/error",
                LambdaEndpoint::Next => "GET /2018-06-01/runtime/invocation/next",
                LambdaEndpoint::Response => "POST /2018-06-01/runtime/invocation/{id}/response",
                LambdaEndpoint::Error => "POST /2018-06-01/runtime/invocation/{id}/error",
            },
        }
    }
}

impl From<ScfEndpoint> for Endpoint {
    fn from(e: ScfEndpoint) -> Endpoint {
        Endpoint::Scf(e)
    }
}

#[cfg(feature = "lambda")]
impl From<LambdaEndpoint> for Endpoint {
    fn from(e: LambdaEndpoint) -> Endpoint {
        Endpoint::Lambda(e)
    }
}

/// Why the runtime stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fatal {
    /// A standard descriptor was closed and `/dev/null` could not take its place.
    Stdio(sys::Errno),
    EnvMissing(&'static str),
    EnvInvalid {
        var: &'static str,
        value: &'static [u8],
        why: &'static str,
    },
    #[cfg(feature = "resolve")]
    Resolve {
        var: &'static str,
        host: &'static [u8],
        err: crate::resolve::Error,
    },
    /// Both `AWS_LAMBDA_RUNTIME_API` and `SCF_RUNTIME_API` are set.
    #[cfg(feature = "lambda")]
    TwoPlatforms,
    /// A Lambda `/next` response without a usable request id.
    #[cfg(feature = "lambda")]
    BadRequestId,
    /// `_HANDLER` is unset and there is not exactly one handler to default to.
    HandlerUnset,
    UnknownHandler {
        setting: &'static [u8],
        name: &'static [u8],
    },
    DuplicateHandler(&'static [u8]),
    AbiMismatch {
        version: u32,
    },
    InitFailed {
        name: &'static [u8],
        code: c_int,
    },
    /// A request to `endpoint` failed.
    Http {
        endpoint: Endpoint,
        err: http::Error,
    },
    /// `endpoint` answered with a status the loop cannot go on from.
    Status {
        endpoint: Endpoint,
        status: u16,
    },
}

/// The function part of a `_HANDLER` setting: what follows the last `.`
/// (`index.main_handler` -> `main_handler`), or all of it without a dot.
pub fn function_part(setting: &[u8]) -> &[u8] {
    match setting.iter().rposition(|&b| b == b'.') {
        Some(i) => setting.get(i + 1..).unwrap_or_default(),
        None => setting,
    }
}

/// Checks every linked handler record and picks the one `_HANDLER` names.
pub fn select(entries: &'static [Entry], setting: Option<&'static [u8]>) -> Result<&'static Entry, Fatal> {
    let live = || entries.iter().filter(|e| e.abi_version != 0);
    for (i, e) in live().enumerate() {
        if e.abi_version != ffi::ABI_VERSION {
            return Err(Fatal::AbiMismatch { version: e.abi_version });
        }
        if live().skip(i + 1).any(|o| o.name() == e.name()) {
            return Err(Fatal::DuplicateHandler(e.name()));
        }
    }
    match setting {
        Some(s) => {
            let name = function_part(s);
            live().find(|e| e.name() == name).ok_or(Fatal::UnknownHandler { setting: s, name })
        }
        None => {
            let mut it = live();
            match (it.next(), it.next()) {
                (Some(only), None) => Ok(only),
                _ => Err(Fatal::HandlerUnset),
            }
        }
    }
}

/// The one-line message for `f`. `host` is the runtime API's address
/// (empty before it was parsed); `written` is what the init hook wrote,
/// for an init failure.
pub(crate) fn describe(f: Fatal, host: &Host, written: &[u8]) -> Line {
    let mut l = Line::new();
    match f {
        Fatal::Stdio(e) => {
            put!(l, "a standard descriptor (0, 1 or 2) is closed and /dev/null cannot replace it: {}", Arg::Errno(e));
        }
        Fatal::EnvMissing(var) => {
            put!(l, "{} is not set", Arg::Str(var));
        }
        Fatal::EnvInvalid { var, value, why } => {
            put!(l, "{}={} {}", Arg::Str(var), Arg::Quoted(value), Arg::Str(why));
        }
        #[cfg(feature = "resolve")]
        Fatal::Resolve { var, host, err } => {
            put!(l, "{}={} cannot be resolved: {}", Arg::Str(var), Arg::Quoted(host), err.describe());
        }
        #[cfg(feature = "lambda")]
        Fatal::TwoPlatforms => {
            put!(l, "both AWS_LAMBDA_RUNTIME_API and SCF_RUNTIME_API are set: unset one");
        }
        #[cfg(feature = "lambda")]
        Fatal::BadRequestId => {
            put!(l, "the runtime API sent an event without a valid Lambda-Runtime-Aws-Request-Id");
        }
        Fatal::HandlerUnset => {
            put!(l, "_HANDLER is not set and more than one handler is linked in; available: ");
            list_handlers(&mut l);
        }
        Fatal::UnknownHandler { setting, name } => {
            put!(
                l,
                "_HANDLER={} names handler {}, which is not linked into this bootstrap; available: ",
                Arg::Quoted(setting),
                Arg::Quoted(name)
            );
            list_handlers(&mut l);
        }
        Fatal::DuplicateHandler(name) => {
            put!(l, "handler {} is registered more than once", Arg::Quoted(name));
        }
        Fatal::AbiMismatch { version } => {
            put!(
                l,
                "a handler was compiled for ABI version {}, but this runtime implements version {}; rebuild it with \
                 this release's scf_bootstrap.h",
                Arg::Num(version.into()),
                Arg::Num(ffi::ABI_VERSION.into())
            );
        }
        Fatal::InitFailed { name, code } => {
            put!(l, "init hook of handler {} failed with status {}", Arg::Quoted(name), Arg::Int(code.into()));
            if !written.is_empty() {
                put!(l, ": {}", Arg::Quoted(written));
            }
        }
        Fatal::Http { endpoint, err } => {
            put!(l, "{} at {}: ", Arg::Str(endpoint.name()), Arg::Cat(&host.pieces()));
            match err {
                http::Error::Unreachable(cause) => {
                    let (what, detail) = match cause {
                        http::Cause::Connect(e) => ("connect: ", Arg::Errno(e)),
                        http::Cause::Send(e) => ("send: ", Arg::Errno(e)),
                        http::Cause::Recv(e) => ("receive: ", Arg::Errno(e)),
                        http::Cause::Closed => ("connection closed before a response", Arg::Str("")),
                        http::Cause::Status(s) => ("status ", Arg::Num(s.into())),
                    };
                    let budget = Arg::Num(http::RETRY_BUDGET_MS / 1000);
                    put!(l, "runtime API unreachable for {} s, last error: {}{}", budget, Arg::Str(what), detail);
                }
                http::Error::Malformed(e) => {
                    put!(l, "malformed response: {}", Arg::Str(e.describe()));
                }
                http::Error::Truncated => {
                    put!(l, "connection closed in the middle of the response");
                }
                http::Error::TooLarge(n) => {
                    put!(l, "response of {} bytes is larger than the runtime accepts", Arg::Num(n));
                }
                http::Error::NoMemory => {
                    put!(l, "out of memory for the response");
                }
            }
        }
        Fatal::Status { endpoint, status } => {
            let (endpoint, host, status) =
                (Arg::Str(endpoint.name()), Arg::Cat(&host.pieces()), Arg::Num(status.into()));
            put!(l, "{} at {}: unexpected status {}", endpoint, host, status);
        }
    }
    l
}

fn list_handlers(l: &mut Line) {
    let mut first = true;
    for e in ffi::entries().iter().filter(|e| e.abi_version == ffi::ABI_VERSION) {
        if !first {
            l.str(", ");
        }
        first = false;
        l.push(e.name());
    }
    if first {
        l.str("(none)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::CStr;

    #[test]
    fn endpoint_names_are_the_method_and_path() {
        let scf = [ScfEndpoint::Ready, ScfEndpoint::Next, ScfEndpoint::Response, ScfEndpoint::Error];
        let names: Vec<&str> = scf.iter().map(|&e| Endpoint::from(e).name()).collect();
        assert_eq!(
            names,
            [
                "POST /runtime/init/ready",
                "GET /runtime/invocation/next",
                "POST /runtime/invocation/response",
                "POST /runtime/invocation/error"
            ]
        );
        for e in scf {
            assert_eq!(e.route().line, format!("{} HTTP/1.1\r\nHost: ", Endpoint::from(e).name()));
        }
        #[cfg(feature = "lambda")]
        {
            assert_eq!(ScfEndpoint::Ready.in_lambda().name(), "POST /2018-06-01/runtime/init/error");
            assert_eq!(ScfEndpoint::Error.in_lambda().name(), "POST /2018-06-01/runtime/invocation/{id}/error");
        }
    }

    #[test]
    fn handler_function_part() {
        for (s, want) in [
            ("index.main_handler", "main_handler"),
            ("main_handler", "main_handler"),
            ("a.b.c", "c"),
            ("index.", ""),
            ("", ""),
        ] {
            assert_eq!(function_part(s.as_bytes()), want.as_bytes(), "{s:?}");
        }
    }

    fn entry(name: &'static CStr, abi: u32) -> Entry {
        Entry { abi_version: abi, reserved: 0, name: name.as_ptr(), handle: None, init: None }
    }

    #[test]
    fn handler_selection() {
        let one: &'static [Entry] = Box::leak(Box::new([entry(c"", 0), entry(c"main_handler", 1)]));
        assert_eq!(select(one, Some(b"index.main_handler")).unwrap().name(), b"main_handler");
        assert_eq!(select(one, None).unwrap().name(), b"main_handler");
        assert_eq!(
            select(one, Some(b"index.other")).unwrap_err(),
            Fatal::UnknownHandler { setting: b"index.other", name: b"other" }
        );
        let two: &'static [Entry] = Box::leak(Box::new([entry(c"a", 1), entry(c"b", 1)]));
        assert_eq!(select(two, Some(b"x.b")).unwrap().name(), b"b");
        assert_eq!(select(two, None).unwrap_err(), Fatal::HandlerUnset);
        let dup: &'static [Entry] = Box::leak(Box::new([entry(c"a", 1), entry(c"a", 1)]));
        assert_eq!(select(dup, Some(b"a")).unwrap_err(), Fatal::DuplicateHandler(b"a"));
        let old: &'static [Entry] = Box::leak(Box::new([entry(c"a", 1), entry(c"b", 7)]));
        assert_eq!(select(old, Some(b"a")).unwrap_err(), Fatal::AbiMismatch { version: 7 });
    }
}
