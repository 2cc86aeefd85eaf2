//! AWS Lambda's runtime API for the tests: the emulator's runtime API in
//! Lambda's dialect (`scf_emulator::dialect`), with the quirks
//! cargo-lambda cannot show (204 from `/next`, `Connection: close` on every
//! answer, a path prefix, IPv6), every request recorded. Events carry the
//! context headers a test gives them besides the request id.

use scf_emulator::api::Recorded;
use scf_emulator::dialect::Dialect;
use scf_emulator::{ApiConfig, CloseMode, InvokeOptions, Quirks, RuntimeApi};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How the peer behaves.
#[derive(Clone, Debug, Default)]
pub struct LambdaConfig {
    /// Path prefix in front of `/2018-06-01/...` (cargo-lambda's is `/.rt`).
    pub prefix: String,
    /// Answer every request with `Connection: close`, then close.
    pub close_each: bool,
    /// Answer the first this-many `/next` requests with `204 No Content`.
    pub no_content: u32,
}

/// One event to deliver, with the headers of its `/next` answer besides
/// `Lambda-Runtime-Aws-Request-Id` (which comes from `id`).
#[derive(Clone, Debug)]
pub struct Event {
    pub id: String,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

/// A request the bootstrap made.
#[derive(Clone, Debug)]
pub struct Posted {
    pub method: String,
    pub path: String,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Posted {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == &name.to_ascii_lowercase()).map(|(_, v)| v.as_str())
    }

    /// The message of a crash report: the body is `{"errorMessage": ...,
    /// "errorType": "Runtime.Crash"}` and nothing else, with the same error
    /// type in the header; fails the test otherwise.
    pub fn crash_message(&self) -> String {
        assert_eq!(self.header("Lambda-Runtime-Function-Error-Type"), Some("Runtime.Crash"), "{self:?}");
        let v: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"));
        let o = v.as_object().unwrap();
        assert_eq!(o.len(), 2, "{v}");
        assert_eq!(o["errorType"], "Runtime.Crash");
        o["errorMessage"].as_str().unwrap().to_string()
    }

    fn of(head: &scf_emulator::http::Head, body: &[u8]) -> Posted {
        Posted {
            method: head.method.clone(),
            path: head.target.clone(),
            headers: head.headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect(),
            body: body.to_vec(),
        }
    }
}

/// The running peer; stops when dropped (an event still queued is then
/// aborted).
pub struct LambdaApi {
    api: Arc<RuntimeApi>,
    cfg: LambdaConfig,
}

impl LambdaApi {
    pub fn start(bind: &str, cfg: LambdaConfig) -> LambdaApi {
        let close = if cfg.close_each { CloseMode::AfterEachResponseWithHeader } else { CloseMode::Never };
        let api = RuntimeApi::start(ApiConfig {
            bind: bind.parse().expect("a socket address"),
            dialect: Dialect::Lambda,
            prefix: cfg.prefix.clone(),
            record_requests: true,
            quirks: Quirks { close, empty_next: cfg.no_content, ..Quirks::default() },
            ..ApiConfig::default()
        })
        .expect("start the Lambda runtime API");
        LambdaApi { api: Arc::new(api), cfg }
    }

    pub fn addr(&self) -> SocketAddr {
        self.api.addr()
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`: `host:port`, or with the
    /// configured prefix, `http://host:port/prefix`.
    pub fn env_value(&self) -> String {
        if self.cfg.prefix.is_empty() {
            self.addr().to_string()
        } else {
            format!("http://{}{}", self.addr(), self.cfg.prefix)
        }
    }

    /// Queues `ev` without waiting for its result.
    pub fn queue(&self, ev: Event) {
        let api = self.api.clone();
        std::thread::spawn(move || {
            let opts = InvokeOptions { timeout: Duration::from_secs(600), dispatch_timeout: None, request_id: None };
            let _ = deliver(&api, &ev, opts);
        });
    }

    /// Queues `ev` and waits up to `limit` for its result.
    pub fn invoke(&self, ev: Event, limit: Duration) -> Posted {
        let opts = InvokeOptions { timeout: limit, dispatch_timeout: Some(limit), request_id: None };
        match deliver(&self.api, &ev, opts) {
            Ok(inv) => Posted::of(&inv.head, inv.outcome.body()),
            Err(e) => panic!("no result for {} within {limit:?} ({e}); requests: {:?}", ev.id, self.log()),
        }
    }

    /// The init/error post, waiting up to `limit` for it.
    pub fn init_error(&self, limit: Duration) -> Option<Posted> {
        self.api.wait_init_error(limit).map(|r| Posted::of(&r.head, &r.body))
    }

    /// Every request so far (bodies included).
    pub fn log(&self) -> Vec<Posted> {
        self.api.requests().iter().map(|r: &Recorded| Posted::of(&r.head, &r.body)).collect()
    }
}

impl Drop for LambdaApi {
    fn drop(&mut self) {
        // Ends a queued event's wait, whose thread holds the server too.
        self.api.abort();
    }
}

fn deliver(
    api: &RuntimeApi,
    ev: &Event,
    opts: InvokeOptions,
) -> Result<scf_emulator::api::Invocation, scf_emulator::InvokeError> {
    let headers: Vec<(&str, &str)> = ev.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    api.invoke_with_headers(&ev.body, &headers, InvokeOptions { request_id: Some(ev.id.clone()), ..opts })
}
