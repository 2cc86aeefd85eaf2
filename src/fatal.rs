//! Why the runtime stops.
//!
//! Everything that ends the process (bad environment, no handler to run,
//! a failed init hook, an unreachable or misbehaving runtime API) is a
//! [`Fatal`] value, built where the problem is found from that layer's
//! own error ([`crate::sys::Errno`], [`address::Error`],
//! [`http::Error`] with the endpoint it came from, ...) and turned into
//! one line of text, in one place, by [`describe`]. Endpoints are named
//! by the dialect that sends to them ([`Endpoint`]); this module knows no
//! dialect, and the dialects sit above it.

use crate::address;
use crate::diag::{put, Arg, Line};
use crate::ffi::{self, Entry};
use crate::http;
use crate::http::wire::Host;
use crate::sys;
use core::ffi::c_int;

/// An endpoint of the runtime API as messages name it: its method and
/// path (`POST /runtime/init/ready`). Each dialect makes these from its own
/// typed endpoints, in the function that sends the request, so that a
/// request and the message about its failure cannot name different ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint(pub &'static str);

impl Endpoint {
    /// The method and path, for messages.
    pub fn name(self) -> &'static str {
        self.0
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
    /// The host in a runtime API setting gives no address.
    Address {
        var: &'static str,
        value: &'static [u8],
        err: address::Error,
    },
    /// An event from `endpoint` without a usable request id in `header`
    /// (from a dialect that needs one: Lambda's, whose result paths carry it).
    #[allow(dead_code)]
    NoRequestId {
        endpoint: Endpoint,
        header: &'static str,
    },
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
        Fatal::Address { var, value, err } => {
            put!(l, "{}={} ", Arg::Str(var), Arg::Quoted(value));
            let why = match err {
                address::Error::Empty => "is empty",
                address::Error::TooLong => "is longer than 255 bytes",
                address::Error::NotIpv6 => "is not an IPv6 address",
                address::Error::NotAHost => "is neither an IP address nor a host name",
                #[cfg(not(feature = "resolve"))]
                address::Error::NoResolver => {
                    "is a host name, and this build resolves only IP literals and localhost: build with the cargo \
                     feature `resolve` to resolve it"
                }
                #[cfg(feature = "resolve")]
                address::Error::Resolve(e) => {
                    put!(l, "cannot be resolved: {}", e.describe());
                    ""
                }
            };
            l.str(why);
        }
        Fatal::NoRequestId { endpoint, header } => {
            put!(
                l,
                "{} at {}: an event without a valid {}",
                Arg::Str(endpoint.name()),
                Arg::Cat(&host.pieces()),
                Arg::Str(header)
            );
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
