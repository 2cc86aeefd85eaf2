//! Tencent Cloud SCF's dialect of the runtime API (cargo feature `scf`,
//! on by default): everything the loop sends and reads that is SCF's.
//!
//! ```text
//!  exec ──► SCF_RUNTIME_API + SCF_RUNTIME_API_PORT ──► handler + init hook ──► POST /runtime/init/ready
//!            ┌────────────────────────────────────────────────────────────────────────┘
//!            ▼
//!   GET /runtime/invocation/next ──► handler(event, ctx, out)
//!            ▲                              │
//!            │        SCF_OK ──► POST /runtime/invocation/response
//!            └─────── other ──► POST /runtime/invocation/error      (the message as the body)
//! ```
//!
//! The request lines are constants (the request id never goes back: the
//! response and error always refer to the current invocation). The context
//! headers `request_id`, `memory_limit_in_mb` and `time_limit_in_ms` are
//! matched case-insensitively and in full; the request id stays where it
//! was received, made a C string in place; the deadline is the time the
//! event came plus `time_limit_in_ms`. SCF has no route for an init error
//! (a failed start is told on stderr only) and takes a crash report as an
//! error post like any other. With the cargo feature `pipeline` and
//! `SCF_BOOTSTRAP_PIPELINE=1`, each result goes out with the next `/next`
//! in one write ([`Scf::respond`]).

use crate::address;
use crate::crash::{Post, BODY_ROOM};
#[cfg(feature = "pipeline")]
use crate::diag::{msg, Arg};
use crate::dialect::{self, Dialect, Meta, Start, Var, Vars};
use crate::fatal::{Endpoint as Named, Fatal};
use crate::ffi::{self, RawContext, Str};
#[cfg(feature = "pipeline")]
use crate::http;
use crate::http::wire::{self, Host, Span};
use crate::http::{Client, Peer, Response};
use crate::invoke::Failure;
use crate::sys::{self, Buf};
use core::ffi::CStr;

/// SCF's variables.
#[derive(Default)]
pub struct Env {
    pub api: Option<&'static CStr>,
    pub port: Option<&'static CStr>,
    pub function_name: Option<&'static CStr>,
    pub namespace: Option<&'static CStr>,
    pub version: Option<&'static CStr>,
    pub region: Option<&'static CStr>,
}

impl Vars for Env {
    fn vars(&mut self) -> impl AsMut<[Var<'_>]> {
        self.named()
    }
}

impl Env {
    /// The variables by name (see [`Vars`]).
    pub fn named(&mut self) -> [Var<'_>; 6] {
        [
            (b"SCF_RUNTIME_API", &mut self.api),
            (b"SCF_RUNTIME_API_PORT", &mut self.port),
            (b"SCF_FUNCTIONNAME", &mut self.function_name),
            (b"SCF_NAMESPACE", &mut self.namespace),
            (b"SCF_FUNCTIONVERSION", &mut self.version),
            (b"TENCENTCLOUD_REGION", &mut self.region),
        ]
    }
}

/// One of SCF's endpoints as the client sends it. The request line and
/// the `Host: ` field name are joined at compile time by `route!`, so the
/// only part of a request head made at run time is the Host value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// `METHOD PATH HTTP/1.1\r\nHost: `
    pub line: &'static str,
    /// Requests carry a body and its `Content-Length` (POST).
    pub with_body: bool,
}

/// `route!(GET "/path")` or `route!(POST "/path")`: a [`Route`] constant.
macro_rules! route {
    (GET $path:literal) => {
        Route { line: concat!("GET ", $path, " HTTP/1.1\r\nHost: "), with_body: false }
    };
    (POST $path:literal) => {
        Route { line: concat!("POST ", $path, " HTTP/1.1\r\nHost: "), with_body: true }
    };
}

/// What follows the path in a [`Route`]'s line.
const AFTER_PATH: &str = " HTTP/1.1\r\nHost: ";

impl Route {
    /// `METHOD PATH`, for messages (the front of the line).
    pub fn name(&self) -> &'static str {
        let line = self.line;
        line.get(..line.len().saturating_sub(AFTER_PATH.len())).unwrap_or(line)
    }
}

/// A whole request on `route`, as pieces for one vectored write: the
/// route's line, `tail` (the joined [`wire::host_tail`], cut short after the
/// Host line when there is no body), then the length's digits, the blank
/// line and `body` (ignored on a route without a body).
pub fn request<'a>(route: &Route, tail: &'a [u8], digits: &'a mut itoa::Buffer, body: &'a [u8]) -> [&'a [u8]; 5] {
    if route.with_body {
        [route.line.as_bytes(), tail, digits.format(body.len()).as_bytes(), b"\r\n\r\n", body]
    } else {
        [route.line.as_bytes(), wire::host_line(tail), b"\r\n", b"", b""]
    }
}

/// SCF's endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Ready,
    Next,
    Response,
    Error,
}

impl Endpoint {
    /// The request line and the rest of what the client needs to send to it.
    pub const fn route(self) -> &'static Route {
        const READY: Route = route!(POST "/runtime/init/ready");
        const NEXT: Route = route!(GET "/runtime/invocation/next");
        const RESPONSE: Route = route!(POST "/runtime/invocation/response");
        const ERROR: Route = route!(POST "/runtime/invocation/error");
        match self {
            Endpoint::Ready => &READY,
            Endpoint::Next => &NEXT,
            Endpoint::Response => &RESPONSE,
            Endpoint::Error => &ERROR,
        }
    }

    /// Its method and path, as messages name it.
    pub fn named(self) -> Named {
        Named(self.route().name())
    }
}

/// SCF's context headers of a `/next` answer, as spans of the receive
/// buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    pub request_id: Option<Span>,
    pub memory_limit_mb: wire::Num,
    pub time_limit_ms: wire::Num,
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
        match name.len() {
            10 if is(b"request_id") => self.request_id = Some(at),
            18 if is(b"memory_limit_in_mb") => self.memory_limit_mb = wire::Num::parse(value),
            16 if is(b"time_limit_in_ms") => self.time_limit_ms = wire::Num::parse(value),
            _ => {}
        }
    }
}

/// The SCF dialect. `F` holds the fields of the heads read (SCF's
/// [`Fields`] alone, unless a build with both dialects shares one type).
pub struct Scf<F = Fields> {
    fields: F,
    /// Results go out with the next `/next` (see [`Scf::respond`]).
    pipeline: bool,
    /// An event already received: the answer to a pipelined `/next` that
    /// came when the result before it was refused or unanswered.
    held: Option<Response>,
    /// The accepted event's request id, with its NUL, in the receive buffer.
    id: Option<core::ops::Range<usize>>,
    /// Its context numbers.
    memory_limit_mb: u64,
    time_limit_ms: u64,
    deadline_ms: u64,
    /// The id's length and first bytes, kept for a pipelined result (the
    /// answers that follow overwrite the receive buffer).
    #[cfg(feature = "pipeline")]
    kept_id: ([u8; 128], usize),
}

impl<F: wire::Fields + Default + AsRef<Fields>> Scf<F> {
    /// Sends the request on `e` (with `body` if it takes one) and reads
    /// its answer.
    fn call(&mut self, client: &mut Client, e: Endpoint, body: &[u8]) -> Result<Response, Fatal> {
        let mut digits = itoa::Buffer::new();
        let pieces = request(e.route(), client.tail(), &mut digits, body);
        client.request(&pieces, &mut self.fields).map_err(|err| Fatal::Http { endpoint: e.named(), err })
    }
}

impl<F: wire::Fields + Default + AsRef<Fields>> Dialect for Scf<F> {
    type Env = Env;

    fn endpoint(env: &Env, pipeline: bool) -> Result<Start<Self>, Fatal> {
        let (addrs, host) = endpoint(env.api, env.port)?;
        let scf = Scf {
            fields: F::default(),
            pipeline,
            held: None,
            id: None,
            memory_limit_mb: 0,
            time_limit_ms: 0,
            deadline_ms: 0,
            #[cfg(feature = "pipeline")]
            kept_id: ([0; 128], 0),
        };
        Ok(Start { dialect: scf, addrs, host })
    }

    fn meta(&self, env: &Env) -> Result<Meta, Fatal> {
        Ok(Meta {
            function_name: env.function_name,
            namespace: env.namespace,
            version: env.version,
            region: env.region,
            memory_limit_mb: 0,
        })
    }

    fn platform(&self) -> u32 {
        ffi::PLATFORM_SCF
    }

    /// None: there is no invocation to fail, and no init error route.
    fn init_post<R>(&self, _: Peer, _: &[u8], f: impl FnOnce(Option<Post>) -> R) -> R {
        f(None)
    }

    /// SCF has no route for it: the caller prints the line on stderr.
    fn init_error(&mut self, _: &mut Client, _: Fatal, _: &Host, _: &mut Buf) {}

    fn ready(&mut self, client: &mut Client) -> Result<(), Fatal> {
        // The documented sample sends one space: an empty body is
        // reported to be refused.
        self.call(client, Endpoint::Ready, b" ").map(drop)
    }

    fn next(&mut self, client: &mut Client) -> Result<Response, Fatal> {
        let next = match self.held.take().filter(|_| cfg!(feature = "pipeline")) {
            Some(n) => n,
            None => {
                let mut digits = itoa::Buffer::new();
                let pieces = request(Endpoint::Next.route(), client.tail(), &mut digits, b"");
                // (Already on its way if it went out with the last result:
                // see `post_result`.)
                client
                    .request(&pieces, &mut self.fields)
                    .map_err(|err| Fatal::Http { endpoint: Endpoint::Next.named(), err })?
            }
        };
        match next.status {
            200 => Ok(next),
            status => Err(Fatal::Status { endpoint: Endpoint::Next.named(), status }),
        }
    }

    fn accept(&mut self, received: &mut [u8]) -> Result<Option<&'static str>, Fatal> {
        let f = *self.fields.as_ref();
        self.id = dialect::terminate(received, f.request_id);
        #[cfg(feature = "pipeline")]
        if self.pipeline {
            let id = self.id.clone().and_then(|r| received.get(r.start..r.end - 1)).unwrap_or_default();
            self.kept_id.0.iter_mut().zip(id).for_each(|(d, s)| *d = *s);
            self.kept_id.1 = id.len();
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
        self.memory_limit_mb = number(f.memory_limit_mb, "memory_limit_in_mb");
        self.time_limit_ms = number(f.time_limit_ms, "time_limit_in_ms");
        self.deadline_ms = match self.time_limit_ms {
            0 => 0,
            limit => sys::realtime_ms().saturating_add(limit),
        };
        Ok(bad_header)
    }

    fn context<'a>(&'a self, received: &'a [u8], base: &RawContext<'static>) -> RawContext<'a> {
        let id = self.id.clone().and_then(|r| received.get(r)).map(Str::nul_terminated);
        // Field by field: a copy of the base through memcpy, then the
        // event's fields, cost 110 instructions more per invocation.
        RawContext {
            request_id: id.unwrap_or(Str::from_cstr(Some(c""))),
            memory_limit_mb: self.memory_limit_mb,
            time_limit_ms: self.time_limit_ms,
            deadline_ms: self.deadline_ms,
            ..*base
        }
    }

    /// On the error route, like any error: the line is the body.
    fn crash_post<R>(&self, peer: Peer, tail: &[u8], f: impl FnOnce(Option<Post>) -> R) -> R {
        let head = [Endpoint::Error.route().line.as_bytes(), tail];
        f(Some(Post { conn: peer.conn, reconnect: Some(peer.addrs), head: &head, body: crash_body, answered: true }))
    }

    fn respond(&mut self, client: &mut Client, body: &[u8]) -> Result<Option<u16>, Fatal> {
        match self.pipeline && cfg!(feature = "pipeline") {
            true => self.post_result(client, Endpoint::Response, body),
            false => self.call(client, Endpoint::Response, body).map(|r| Some(r.status)),
        }
    }

    fn post_error(&mut self, client: &mut Client, _: Failure, tx: &mut Buf) -> Result<u16, Fatal> {
        match self.pipeline && cfg!(feature = "pipeline") {
            true => self.post_result(client, Endpoint::Error, tx.as_slice()).map(|s| s.unwrap_or(200)),
            false => self.call(client, Endpoint::Error, tx.as_slice()).map(|r| r.status),
        }
    }

    fn error_endpoint(&self) -> Named {
        Endpoint::Error.named()
    }
}

impl<F: wire::Fields + Default + AsRef<Fields>> Scf<F> {
    /// Posts an invocation's result, `body` to `endpoint` (response or
    /// error), with the next `/next` in the same write (pipelining), and
    /// returns the status; [`Dialect::next`] reads the `/next`'s answer.
    ///
    /// A result refused, or left without an answer (a connection failure,
    /// a 5xx), with a `/next` already on its way needs more: anything
    /// posted for the invocation (the error saying why, the result again)
    /// may only go while it is still the current one. The `/next`'s answer
    /// tells: the same request id (a repeated `/next` returns the current
    /// event) means it is, and the caller posts the error, or the result is
    /// sent again alone, as without pipelining; a new one means the
    /// platform has moved on, and anything posted now would count for the
    /// new event, so nothing is (a refusal is told on stderr), the new
    /// event is held for [`Dialect::next`], and `None` returned.
    #[cfg(feature = "pipeline")]
    fn post_result(&mut self, client: &mut Client, endpoint: Endpoint, body: &[u8]) -> Result<Option<u16>, Fatal> {
        let tail = client.tail();
        let mut digits = itoa::Buffer::new();
        let pieces = request(endpoint.route(), tail, &mut digits, body);
        let mut none = itoa::Buffer::new();
        let next_pieces = request(Endpoint::Next.route(), tail, &mut none, b"");
        let next_pieces = &next_pieces;
        // The answer to the result: accepted, refused (its status), or none
        // (the connection failed before it, or a 5xx: the platform may or
        // may not have taken the result, and the /next behind it).
        let refused = match client.request_then(&pieces, next_pieces, &mut self.fields) {
            Ok(r) if (200..300).contains(&r.status) || endpoint != Endpoint::Response => return Ok(Some(r.status)),
            Ok(r) => Some(r.status),
            Err(http::Error::Unreachable(_)) => None,
            Err(err) => return Err(Fatal::Http { endpoint: endpoint.named(), err }),
        };
        let next = client
            .request(next_pieces, &mut self.fields)
            .map_err(|err| Fatal::Http { endpoint: Endpoint::Next.named(), err })?;
        let got = self.fields.as_ref().request_id.and_then(|r| client.received().get(r.range())).unwrap_or_default();
        if next.status != 200 {
            // The loop stops on it.
            self.held = Some(next);
            return Ok(None);
        }
        let (id, len) = &self.kept_id;
        if got.len() == *len && got.iter().zip(id).all(|(a, b)| a == b) {
            // Still the current invocation: a refusal is posted as an error
            // by the caller; a result without an answer is sent again, alone.
            return match refused {
                Some(status) => Ok(Some(status)),
                None => self.call(client, endpoint, body).map(|r| Some(r.status)),
            };
        }
        // The platform has moved on: an unanswered result was taken (or the
        // invocation ended otherwise); a refused one can no longer be told.
        if let Some(status) = refused {
            msg!(
                "warning: the runtime API refused the response with status {} and the pipelined /next brought the \
                 next event, so no error was posted for the refused one",
                Arg::Num(status.into())
            )
            .emit();
        }
        self.held = Some(next);
        Ok(None)
    }

    /// Without the feature, never called (`respond` tests it first).
    #[cfg(not(feature = "pipeline"))]
    fn post_result(&mut self, client: &mut Client, endpoint: Endpoint, body: &[u8]) -> Result<Option<u16>, Fatal> {
        self.call(client, endpoint, body).map(|r| Some(r.status))
    }
}

/// A crash report's body: its line, as it is (see [`crate::crash::Body`]).
fn crash_body<'l>(line: &'l [u8], _: &'l mut [u8; BODY_ROOM]) -> [&'l [u8]; 5] {
    [line, b"", b"", b"", b""]
}

/// Parses `SCF_RUNTIME_API` and `SCF_RUNTIME_API_PORT` into the addresses to
/// try and the Host header value.
fn endpoint(api: Option<&'static CStr>, port: Option<&'static CStr>) -> Result<(sys::Addrs, Host<'static>), Fatal> {
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
    let (addrs, v6, inner) = address::host_addrs(value, port).map_err(|err| match err {
        address::Error::NotIpv6 => {
            Fatal::EnvInvalid { var: API, value, why: "is not an IPv6 address (put the port in SCF_RUNTIME_API_PORT)" }
        }
        err => Fatal::Address { var: API, value, err },
    })?;
    Ok((addrs, Host::new(inner, v6, pv)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::wire::Fields as _;

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
            Err(Fatal::EnvInvalid { var: "SCF_RUNTIME_API", .. } | Fatal::Address { var: "SCF_RUNTIME_API", .. }) => {}
            other => panic!("{a:?}: {other:?}"),
        };
        for a in [c"", c"[::1", c"[127.0.0.1]", c"127.0.0.1:9001", c"::g", c"host name", c"a\r\nX: y"] {
            bad_api(a);
        }
        assert_eq!(endpoint(None, Some(c"1")).err().unwrap(), Fatal::EnvMissing("SCF_RUNTIME_API"));
        assert_eq!(endpoint(Some(c"::1"), None).err().unwrap(), Fatal::EnvMissing("SCF_RUNTIME_API_PORT"));
    }

    /// `0.0.0.0` means this host whatever else is built in (it meant so
    /// only when the Lambda dialect was), and the Host header keeps it.
    #[test]
    fn the_unspecified_address_means_this_host_in_every_build() {
        let (addrs, host) = endpoint(Some(c"0.0.0.0"), Some(c"9001")).unwrap();
        assert_eq!(addrs.iter().next().unwrap().to_std().to_string(), "127.0.0.1:9001");
        assert_eq!(host.pieces().concat(), b"0.0.0.0:9001");
    }

    #[test]
    fn request_heads() {
        let req = |r: Route, h: Host, body: &[u8]| {
            let tail = wire::host_tail(&h).concat();
            let out = request(&r, &tail, &mut itoa::Buffer::new(), body).concat();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            req(route!(GET "/runtime/invocation/next"), Host::new(b"127.0.0.1", false, b"9001"), b"ignored"),
            "GET /runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n\r\n"
        );
        assert_eq!(
            req(route!(POST "/runtime/init/ready"), Host::new(b"::1", true, b"80"), b" "),
            "POST /runtime/init/ready HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 1\r\n\r\n "
        );
        let big = req(route!(POST "/x"), Host::new(b"h", false, b"1"), &vec![7; 6291456]);
        let head = "POST /x HTTP/1.1\r\nHost: h:1\r\nContent-Length: 6291456\r\n\r\n";
        assert!(big.starts_with(head) && big.len() == head.len() + 6291456, "{}", &big[..60]);
        assert_eq!(
            req(route!(POST "/x"), Host::new(b"h", false, b"1"), b""),
            "POST /x HTTP/1.1\r\nHost: h:1\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn endpoint_names_are_the_method_and_path() {
        let all = [Endpoint::Ready, Endpoint::Next, Endpoint::Response, Endpoint::Error];
        let names: Vec<&str> = all.iter().map(|&e| e.named().name()).collect();
        assert_eq!(
            names,
            [
                "POST /runtime/init/ready",
                "GET /runtime/invocation/next",
                "POST /runtime/invocation/response",
                "POST /runtime/invocation/error"
            ]
        );
        for e in all {
            assert_eq!(e.route().line, format!("{} HTTP/1.1\r\nHost: ", e.named().name()));
        }
    }

    fn fields(head: &str) -> (Fields, Vec<u8>) {
        let mut f = Fields::default();
        let buf = head.as_bytes().to_vec();
        wire::parse_head(&buf, &mut f).unwrap().unwrap();
        (f, buf)
    }

    #[test]
    fn context_headers_match_case_insensitively_and_in_full() {
        for (name_id, name_mem, name_time) in [
            ("request_id", "memory_limit_in_mb", "time_limit_in_ms"),
            ("Request_Id", "Memory_Limit_In_Mb", "Time_Limit_In_Ms"),
            ("REQUEST_ID", "MEMORY_LIMIT_IN_MB", "TIME_LIMIT_IN_MS"),
        ] {
            let text = format!(
                "HTTP/1.1 200 OK\r\nrequest_idx: wrong\r\nx-request_id: wrong\r\n{name_id}: abc-123\r\n\
                 {name_mem}: 128\r\n{name_time}: 3000\r\nContent-Length: 0\r\n\r\n"
            );
            let (f, _) = fields(&text);
            assert_eq!(&text[f.request_id.unwrap().range()], "abc-123");
            assert_eq!(f.memory_limit_mb, wire::Num::Value(128));
            assert_eq!(f.time_limit_ms, wire::Num::Value(3000));
        }
        let (f, _) = fields("HTTP/1.1 200 OK\r\ntime_limit_in_ms: soon\r\n\r\n");
        assert_eq!((f.request_id, f.memory_limit_mb, f.time_limit_ms), (None, wire::Num::Absent, wire::Num::Invalid));
        let mut f = Fields { request_id: Some(Span { start: 1, end: 2 }), ..Fields::default() };
        f.clear();
        assert_eq!(f, Fields::default());
    }

    /// RFC 9112, 5.2: each obs-fold is read as a space. The request id
    /// stays a slice of the (rewritten) head, made a C string; the other
    /// values are read through the fold.
    #[test]
    fn a_folded_request_id_is_unfolded_in_place_and_terminated() {
        let text = "HTTP/1.1 200 OK\r\nx-note: a\r\n b\r\nrequest_id: abc \r\n \r\n\tdef\r\n\
                    memory_limit_in_mb:\r\n 128\r\ntime_limit_in_ms: 30\r\n 00\r\nContent-Length: 0\r\n\r\n";
        let (f, mut buf) = fields(text);
        let mut scf = Scf::<Fields>::endpoint(&Env { api: Some(c"::1"), port: Some(c"1"), ..Env::default() }, false)
            .unwrap()
            .dialect;
        scf.fields = f;
        // "30 00" is not a number.
        assert_eq!(scf.accept(&mut buf).unwrap(), Some("time_limit_in_ms"));
        let base = crate::runtime::base_context(
            &Meta { function_name: None, namespace: None, version: None, region: None, memory_limit_mb: 0 },
            1,
        );
        let ctx = scf.context(&buf, &base);
        assert_eq!(ctx.request_id.bytes(), Some(&b"abc def"[..]));
        assert_eq!(ctx.memory_limit_mb, 128);
        let r = scf.id.clone().unwrap();
        assert_eq!(buf[r.end - 1], 0, "NUL-terminated");
        // A head without folds is left as it was, but for the NUL.
        let plain = "HTTP/1.1 200 OK\r\nrequest_id: a b\r\n\r\n";
        let (f, mut buf) = fields(plain);
        scf.fields = f;
        assert_eq!(scf.accept(&mut buf).unwrap(), None);
        assert_eq!(scf.context(&buf, &base).request_id.bytes(), Some(&b"a b"[..]));
        assert_eq!(&buf[..], plain.replacen("a b\r", "a b\0", 1).as_bytes());
    }
}
