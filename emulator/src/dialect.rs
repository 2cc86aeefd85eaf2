//! The two dialects of the runtime API, SCF's and AWS Lambda's: what
//! differs between them, in one place, for every peer in the repository
//! (the runtime API server, [`crate::api`], and the benchmark's lean peer
//! in `bench/runner`).
//!
//! | | SCF | Lambda |
//! |---|---|---|
//! | ready | `POST /runtime/init/ready` | none: the first `/next` |
//! | event | `GET /runtime/invocation/next` | `GET /2018-06-01/runtime/invocation/next` |
//! | result | `POST /runtime/invocation/response`, `/error` | `POST /2018-06-01/runtime/invocation/{id}/response`, `/error` |
//! | start-up failure | (none) | `POST /2018-06-01/runtime/init/error` |
//! | context | `request_id`, `memory_limit_in_mb`, `time_limit_in_ms` | `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`, `-Invoked-Function-Arn`, `-Trace-Id`, ... |
//! | a result's answer | `200`, no body | `202 Accepted`, `{"status":"OK"}` |
//!
//! Lambda's paths may sit under a prefix (cargo-lambda serves them under
//! `/.rt`); [`Dialect::route`] takes the path with any prefix removed.

use std::ops::Range;

/// Which runtime API a peer serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dialect {
    #[default]
    Scf,
    Lambda,
}

/// An endpoint of the runtime API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// SCF's `init/ready`.
    Ready,
    Next,
    Response,
    Error,
    /// Lambda's `init/error`.
    InitError,
}

impl Endpoint {
    /// The method a request to it must use.
    pub fn method(self) -> &'static str {
        match self {
            Endpoint::Next => "GET",
            _ => "POST",
        }
    }
}

/// The endpoint a request path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub endpoint: Endpoint,
    /// Lambda: where the request id lies in a result's path; empty
    /// otherwise.
    pub id: Range<usize>,
}

/// Lambda's endpoints lie under its API version.
const LAMBDA_BASE: &[u8] = b"/2018-06-01/runtime/";

/// The context of one event, as the platform sends it with `/next`.
#[derive(Clone, Copy, Debug, Default)]
pub struct EventContext<'a> {
    pub request_id: &'a str,
    /// SCF's `memory_limit_in_mb`.
    pub memory_mb: u32,
    /// SCF's `time_limit_in_ms`.
    pub timeout_ms: u64,
    /// Lambda's `Lambda-Runtime-Deadline-Ms` (epoch milliseconds), if sent.
    pub deadline_ms: Option<u64>,
    /// Lambda's `Lambda-Runtime-Invoked-Function-Arn`, if sent.
    pub function_arn: Option<&'a str>,
    /// Lambda's `Lambda-Runtime-Trace-Id`, if sent.
    pub trace_id: Option<&'a str>,
}

impl Dialect {
    /// The endpoint that `path` (without its query, any prefix removed)
    /// names in this dialect, whatever the method; `None` for a path the
    /// dialect does not have (the other dialect's paths among them).
    pub fn route(self, path: &[u8]) -> Option<Route> {
        let route = |endpoint| Some(Route { endpoint, id: 0..0 });
        match self {
            Dialect::Scf => match path {
                b"/runtime/init/ready" => route(Endpoint::Ready),
                b"/runtime/invocation/next" => route(Endpoint::Next),
                b"/runtime/invocation/response" => route(Endpoint::Response),
                b"/runtime/invocation/error" => route(Endpoint::Error),
                _ => None,
            },
            Dialect::Lambda => match path.strip_prefix(LAMBDA_BASE)? {
                b"invocation/next" => route(Endpoint::Next),
                b"init/error" => route(Endpoint::InitError),
                rest => {
                    let rest = rest.strip_prefix(b"invocation/")?;
                    let (id, endpoint) = if let Some(id) = rest.strip_suffix(b"/response") {
                        (id, Endpoint::Response)
                    } else {
                        (rest.strip_suffix(b"/error")?, Endpoint::Error)
                    };
                    if id.is_empty() || id.contains(&b'/') {
                        return None;
                    }
                    // `rest`, which the id starts, is a suffix of `path`.
                    let start = path.len() - rest.len();
                    Some(Route {
                        endpoint,
                        id: start..start + id.len(),
                    })
                }
            },
        }
    }

    /// The context headers of a `/next` answer carrying `ctx`'s event, in
    /// the order they are sent: SCF's three, or Lambda's request id and
    /// those of the deadline, ARN and trace id that `ctx` has.
    pub fn context_headers(self, ctx: &EventContext) -> Vec<(&'static str, String)> {
        match self {
            Dialect::Scf => vec![
                ("request_id", ctx.request_id.to_string()),
                ("memory_limit_in_mb", ctx.memory_mb.to_string()),
                ("time_limit_in_ms", ctx.timeout_ms.to_string()),
            ],
            Dialect::Lambda => {
                let mut h = vec![("Lambda-Runtime-Aws-Request-Id", ctx.request_id.to_string())];
                if let Some(d) = ctx.deadline_ms {
                    h.push(("Lambda-Runtime-Deadline-Ms", d.to_string()));
                }
                if let Some(a) = ctx.function_arn {
                    h.push(("Lambda-Runtime-Invoked-Function-Arn", a.to_string()));
                }
                if let Some(t) = ctx.trace_id {
                    h.push(("Lambda-Runtime-Trace-Id", t.to_string()));
                }
                h
            }
        }
    }

    /// The answer to a pushed result (and to Lambda's `init/error`): status,
    /// headers and body, as the platform sends it.
    pub fn accepted(self) -> (u16, &'static [(&'static str, &'static str)], &'static [u8]) {
        match self {
            Dialect::Scf => (200, &[], b""),
            Dialect::Lambda => (
                202,
                &[("Content-Type", "application/json")],
                b"{\"status\":\"OK\"}\n",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dialect_routes_its_own_paths_only() {
        let scf = [
            ("/runtime/init/ready", Endpoint::Ready),
            ("/runtime/invocation/next", Endpoint::Next),
            ("/runtime/invocation/response", Endpoint::Response),
            ("/runtime/invocation/error", Endpoint::Error),
        ];
        for (path, endpoint) in scf {
            assert_eq!(
                Dialect::Scf.route(path.as_bytes()),
                Some(Route { endpoint, id: 0..0 }),
                "{path}"
            );
            assert_eq!(Dialect::Lambda.route(path.as_bytes()), None, "{path}");
        }
        let lambda = [
            ("/2018-06-01/runtime/invocation/next", Endpoint::Next, ""),
            ("/2018-06-01/runtime/init/error", Endpoint::InitError, ""),
            (
                "/2018-06-01/runtime/invocation/8476a536-e9f4-11e8/response",
                Endpoint::Response,
                "8476a536-e9f4-11e8",
            ),
            (
                "/2018-06-01/runtime/invocation/abc/error",
                Endpoint::Error,
                "abc",
            ),
        ];
        for (path, endpoint, id) in lambda {
            let r = Dialect::Lambda
                .route(path.as_bytes())
                .unwrap_or_else(|| panic!("{path}"));
            assert_eq!((r.endpoint, &path[r.id.clone()]), (endpoint, id), "{path}");
            assert_eq!(Dialect::Scf.route(path.as_bytes()), None, "{path}");
        }
        // No id, an id with a slash, an unknown result kind, other paths.
        for path in [
            "/2018-06-01/runtime/invocation//response",
            "/2018-06-01/runtime/invocation/a/b/response",
            "/2018-06-01/runtime/invocation/abc/result",
            "/2018-06-01/runtime/invocation/",
            "/runtime/invocation/abc/response",
            "/",
            "",
        ] {
            assert_eq!(Dialect::Lambda.route(path.as_bytes()), None, "{path}");
        }
        assert_eq!(
            (Endpoint::Next.method(), Endpoint::Response.method()),
            ("GET", "POST")
        );
    }

    #[test]
    fn context_headers_and_answers() {
        let ctx = EventContext {
            request_id: "r-1",
            memory_mb: 128,
            timeout_ms: 3000,
            deadline_ms: Some(1_900_000_000_000),
            function_arn: Some("arn:aws:lambda:eu-west-1:1:function:f"),
            trace_id: None,
        };
        let names = |d: Dialect, c: &EventContext| -> Vec<String> {
            d.context_headers(c)
                .into_iter()
                .map(|(n, v)| format!("{n}: {v}"))
                .collect()
        };
        assert_eq!(
            names(Dialect::Scf, &ctx),
            [
                "request_id: r-1",
                "memory_limit_in_mb: 128",
                "time_limit_in_ms: 3000"
            ]
        );
        assert_eq!(
            names(Dialect::Lambda, &ctx),
            [
                "Lambda-Runtime-Aws-Request-Id: r-1",
                "Lambda-Runtime-Deadline-Ms: 1900000000000",
                "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:1:function:f",
            ]
        );
        let bare = EventContext {
            request_id: "x",
            ..EventContext::default()
        };
        assert_eq!(
            names(Dialect::Lambda, &bare),
            ["Lambda-Runtime-Aws-Request-Id: x"]
        );
        assert_eq!(Dialect::Scf.accepted().0, 200);
        assert_eq!(Dialect::Lambda.accepted().2, b"{\"status\":\"OK\"}\n");
    }
}
