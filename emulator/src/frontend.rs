//! How callers outside the emulator invoke a function: the HTTP server of
//! `scf-emulator run`, speaking three dialects on one address.
//!
//! - **TencentCloud API 3.0** (`POST /` with `X-TC-Action: Invoke` or
//!   `InvokeFunction`, `X-TC-Version: 2018-04-16`): what Tencent's SDKs and
//!   `tccli` send, answered in API 3.0's shape, `{"Response": {"Result":
//!   {...}, "RequestId": "..."}}`, or `{"Response": {"Error": {"Code",
//!   "Message"}, "RequestId"}}`. The signature (`Authorization`) is
//!   accepted without being checked: there are no credentials to check it
//!   against. Only synchronous invocation (`RequestResponse`) is emulated.
//! - **`POST /invoke`**, the event as the body, answered `200` with the
//!   Invoke JSON of [`crate::report`] whatever the outcome (the outcome is
//!   also in the `X-Scf-Invoke-Result` header).
//! - **API gateway trigger** (`run --apigw`): every other request becomes
//!   SCF's API gateway event, and the function's integrated response
//!   (`statusCode`, `headers`, `body`, `isBase64Encoded`) becomes the HTTP
//!   response; an answer of any other shape is a `502` naming why.
//!
//! Concurrent requests are served one invocation at a time, in arrival
//! order (the [`Handler`] queues them).

use crate::api::new_request_id;
use crate::http;
use crate::report::{InvokeReport, LogType};
use crate::server::{Acceptor, ReadError, Reader, Request};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

/// Largest request body read; anything between SCF's 6 MB and this reaches
/// the handler, which refuses it with status 406 as SCF does.
const MAX_EVENT_READ: usize = 64 * 1024 * 1024;

/// The API version of SCF's actions in TencentCloud API 3.0.
pub const API_VERSION: &str = "2018-04-16";

/// Runs one invocation for an event.
pub type Handler = Arc<dyn Fn(&[u8]) -> InvokeReport + Send + Sync>;

/// What the server answers to.
#[derive(Debug, Clone)]
pub struct Options {
    /// The function's name, as `FunctionName` must give it.
    pub function_name: String,
    /// Its namespace (`Namespace`, when given, must match).
    pub namespace: String,
    /// Turn every request that is not an API 3.0 call into an API gateway
    /// event.
    pub apigw: bool,
}

/// A running invoke endpoint; dropping it stops it.
pub struct InvokeServer {
    acceptor: Acceptor,
}

impl InvokeServer {
    /// Binds `bind` and serves on background threads.
    pub fn start(bind: SocketAddr, handler: Handler, opts: Options) -> io::Result<InvokeServer> {
        let listener = TcpListener::bind(bind)?;
        let front = Arc::new((handler, opts));
        let acceptor = Acceptor::start(
            listener,
            "scf-invoke",
            Arc::new(move |s| serve(s, &front.0, &front.1)),
        )?;
        Ok(InvokeServer { acceptor })
    }

    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }
}

/// An answer to write: status, headers, body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    fn text(status: u16, text: &str) -> Answer {
        Answer::new(status, "text/plain; charset=utf-8", format!("{text}\n"))
    }

    fn json(value: &Value) -> Answer {
        Answer::new(200, "application/json", value.to_string())
    }
}

const HELP: &str = "scf-emulator invoke endpoint\n\
POST /invoke with the event as the body; the answer is the Invoke API JSON:\n\
{\"Result\":{\"RetMsg\",\"ErrMsg\",\"Log\",\"Duration\",\"BillDuration\",\"MemUsage\",\"FunctionRequestId\",\"InvokeResult\"},\"RequestId\",\"Emulator\":{...}}\n\
POST / with X-TC-Action: Invoke (TencentCloud API 3.0, as the SDKs and tccli send it) works too.\n";

fn serve(stream: TcpStream, handler: &Handler, opts: &Options) {
    let peer = stream.peer_addr().ok();
    let mut reader = Reader::new(stream, MAX_EVENT_READ);
    loop {
        let req = match reader.read_request() {
            Ok(r) => r,
            Err(ReadError::Gone) => break,
            Err(ReadError::Bad(status, reason)) => {
                let body = format!("bad request: {reason}\n");
                reader.write(&http::response(
                    status,
                    &[
                        ("Content-Type", "text/plain; charset=utf-8"),
                        ("Connection", "close"),
                    ],
                    body.as_bytes(),
                ));
                break;
            }
        };
        let keep = req.head.keep_alive();
        let method = req.head.method.as_str();
        let path = req.head.path();
        let mut answer = if req.head.header("x-tc-action").is_some() {
            Answer::json(&tc_api(&req, handler, opts))
        } else if opts.apigw {
            apigw(&req, peer, handler)
        } else {
            match (method, path) {
                ("POST", "/invoke") => {
                    let report = handler(&req.body);
                    let mut a = Answer::new(200, "application/json", report.to_json() + "\n");
                    a.headers.push((
                        "X-Scf-Invoke-Result".into(),
                        report.status.invoke_result().to_string(),
                    ));
                    a
                }
                (_, "/invoke") => {
                    let mut a = Answer::text(405, "method not allowed: use POST /invoke");
                    a.headers.push(("Allow".into(), "POST".into()));
                    a
                }
                ("GET", "/") => Answer::new(200, "text/plain; charset=utf-8", HELP),
                _ => Answer::text(
                    404,
                    &format!("not found: {path} (use POST /invoke, an X-TC-Action request, or run --apigw)"),
                ),
            }
        };
        if !keep {
            answer.headers.push(("Connection".into(), "close".into()));
        }
        let hs: Vec<(&str, &str)> = answer
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        if !reader.write(&http::response(answer.status, &hs, &answer.body)) || !keep {
            break;
        }
    }
    let _ = reader.conn.get_ref().shutdown(Shutdown::Both);
}

/// The body of SCF's `Invoke` and `InvokeFunction` requests (fields as in
/// the SDK's `InvokeRequest`/`InvokeFunctionRequest`).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InvokeRequest {
    function_name: Option<String>,
    invocation_type: Option<String>,
    qualifier: Option<String>,
    client_context: Option<String>,
    event: Option<String>,
    log_type: Option<String>,
    namespace: Option<String>,
}

/// An API 3.0 error: `Code` and `Message`.
struct ApiError(&'static str, String);

/// A TencentCloud API 3.0 request: the `Response` object to answer with.
fn tc_api(req: &Request, handler: &Handler, opts: &Options) -> Value {
    let request_id = new_request_id();
    let response = match tc_invoke(req, handler, opts) {
        Ok(result) => json!({ "Result": result, "RequestId": request_id }),
        Err(ApiError(code, message)) => json!({
            "Error": { "Code": code, "Message": message },
            "RequestId": request_id,
        }),
    };
    json!({ "Response": response })
}

fn tc_invoke(req: &Request, handler: &Handler, opts: &Options) -> Result<Value, ApiError> {
    let action = req.head.header("x-tc-action").unwrap_or_default();
    if req.head.method != "POST" {
        return Err(ApiError(
            "UnsupportedProtocol",
            format!(
                "{} is not served; send the request as POST / with a JSON body",
                req.head.method
            ),
        ));
    }
    if action != "Invoke" && action != "InvokeFunction" {
        return Err(ApiError(
            "InvalidAction",
            format!("action {action:?} is not emulated; Invoke and InvokeFunction are"),
        ));
    }
    match req.head.header("x-tc-version") {
        Some(API_VERSION) => {}
        v => {
            return Err(ApiError(
                "NoSuchVersion",
                format!(
                    "SCF's API version is {API_VERSION}, not {:?}",
                    v.unwrap_or("(none)")
                ),
            ))
        }
    }
    let body: InvokeRequest = serde_json::from_slice(&req.body).map_err(|e| {
        ApiError(
            "InvalidParameter",
            format!("the request body is not the JSON of {action}: {e}"),
        )
    })?;
    let name = body
        .function_name
        .ok_or_else(|| ApiError("MissingParameter", "FunctionName is required".into()))?;
    let namespace = body.namespace.unwrap_or_else(|| "default".into());
    if namespace != opts.namespace {
        return Err(ApiError(
            "ResourceNotFound.Namespace",
            format!(
                "namespace {namespace:?} does not exist here (this emulator serves {:?})",
                opts.namespace
            ),
        ));
    }
    if name != opts.function_name {
        return Err(ApiError(
            "ResourceNotFound.Function",
            format!(
                "function {name:?} does not exist in namespace {namespace:?} (this emulator serves {:?})",
                opts.function_name
            ),
        ));
    }
    if let Some(q) = body.qualifier.filter(|q| !q.is_empty() && q != "$LATEST") {
        return Err(ApiError(
            "ResourceNotFound.Version",
            format!("version {q:?} does not exist; the emulator serves $LATEST"),
        ));
    }
    match body.invocation_type.as_deref() {
        None | Some("RequestResponse") => {}
        Some("Event") => {
            return Err(ApiError(
                "UnsupportedOperation",
                "InvocationType Event (asynchronous) is not emulated; use RequestResponse".into(),
            ))
        }
        Some(t) => {
            return Err(ApiError(
                "InvalidParameterValue.InvocationType",
                format!("InvocationType must be RequestResponse or Event, not {t:?}"),
            ))
        }
    }
    let log_type: LogType = body
        .log_type
        .as_deref()
        .unwrap_or("Tail")
        .parse()
        .map_err(|e| ApiError("InvalidParameterValue.LogType", e))?;
    let event = body
        .client_context
        .or(body.event)
        .unwrap_or_else(|| "{}".into());
    let mut report = handler(event.as_bytes());
    if log_type == LogType::None {
        report.log.clear();
    }
    Ok(serde_json::to_value(report.result()).expect("plain data"))
}

/// `%XX` escapes decoded (and `+` as a space, in query strings).
fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let s = if plus_is_space {
        s.replace('+', " ")
    } else {
        s.to_string()
    };
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The API gateway event for an HTTP request, in the shape of SCF's
/// "API gateway trigger" integration request.
pub(crate) fn apigw_event(req: &Request, peer: Option<SocketAddr>, request_id: &str) -> Value {
    let head = &req.head;
    let (raw_path, raw_query) = head.target.split_once('?').unwrap_or((&head.target, ""));
    let path = percent_decode(raw_path, false);
    let mut query = Map::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query.insert(
            percent_decode(k, true),
            Value::String(percent_decode(v, true)),
        );
    }
    let mut headers = Map::new();
    for (n, v) in &head.headers {
        let n = n.to_ascii_lowercase();
        let v = match headers.get(&n).and_then(Value::as_str) {
            Some(prev) => format!("{prev}, {v}"),
            None => v.clone(),
        };
        headers.insert(n, Value::String(v));
    }
    let (body, b64) = match std::str::from_utf8(&req.body) {
        Ok(text) => (text.to_string(), false),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(&req.body),
            true,
        ),
    };
    json!({
        "requestContext": {
            "serviceId": "service-scfemulator",
            "path": path,
            "httpMethod": head.method,
            "requestId": request_id,
            "identity": {},
            "sourceIp": peer.map(|p| p.ip().to_string()).unwrap_or_default(),
            "stage": "release",
        },
        "headers": headers,
        "body": body,
        "isBase64Encoded": b64,
        "pathParameters": {},
        "queryStringParameters": query.clone(),
        "headerParameters": {},
        "stageVariables": { "stage": "release" },
        "path": path,
        "queryString": query,
        "httpMethod": head.method,
    })
}

/// The HTTP response for a function's integrated response, or why the
/// answer is not one.
fn integrated_response(ret_msg: &str) -> Result<Answer, String> {
    let v: Value =
        serde_json::from_str(ret_msg).map_err(|e| format!("its answer is not JSON ({e})"))?;
    let obj = v.as_object().ok_or("its answer is not a JSON object")?;
    let status = obj
        .get("statusCode")
        .ok_or("its answer has no statusCode")?
        .as_u64()
        .filter(|s| (100..=599).contains(s))
        .ok_or("statusCode is not an HTTP status (an integer from 100 to 599)")?;
    let mut headers = Vec::new();
    match obj.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (n, v) in h {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(_) | Value::Bool(_) => v.to_string(),
                    _ => return Err(format!("header {n:?} is not a string")),
                };
                let framing = ["content-length", "transfer-encoding", "connection"];
                if !framing.contains(&n.to_ascii_lowercase().as_str()) {
                    headers.push((n.clone(), v));
                }
            }
        }
        Some(_) => return Err("headers is not an object".into()),
    }
    let body = match obj.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("body is not a string".into()),
    };
    let body = match obj.get("isBase64Encoded") {
        Some(Value::Bool(true)) => base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|e| format!("isBase64Encoded is true but body is not base64 ({e})"))?,
        None | Some(Value::Bool(false)) | Some(Value::Null) => body.into_bytes(),
        Some(_) => return Err("isBase64Encoded is not a boolean".into()),
    };
    Ok(Answer {
        status: status as u16,
        headers,
        body,
    })
}

fn apigw(req: &Request, peer: Option<SocketAddr>, handler: &Handler) -> Answer {
    let event = apigw_event(req, peer, &new_request_id());
    let report = handler(event.to_string().as_bytes());
    let mut answer = if !report.is_success() {
        Answer::text(
            502,
            &format!(
                "502 Bad Gateway: the function failed (InvokeResult {}): {}",
                report.status.invoke_result(),
                report.err_msg
            ),
        )
    } else {
        integrated_response(&report.ret_msg).unwrap_or_else(|why| {
            Answer::text(
                502,
                &format!("502 Bad Gateway: the function did not answer with an integrated response: {why}"),
            )
        })
    };
    answer
        .headers
        .push(("X-Api-RequestId".into(), report.request_id.clone()));
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(
            percent_decode("/hello/%E4%B8%96%E7%95%8C", false),
            "/hello/世界"
        );
        assert_eq!(percent_decode("a+b%2", true), "a b%2");
        assert_eq!(percent_decode("100%", false), "100%");
    }

    #[test]
    fn integrated_responses() {
        let a = integrated_response(r#"{"statusCode":201,"headers":{"X-A":"1","Content-Length":"9"},"body":"aGk=","isBase64Encoded":true}"#).unwrap();
        assert_eq!((a.status, a.body.as_slice()), (201, &b"hi"[..]));
        assert_eq!(a.headers, [("X-A".to_string(), "1".to_string())]);
        for (bad, why) in [
            ("hello", "not JSON"),
            ("[1]", "not a JSON object"),
            (r#"{"body":"x"}"#, "no statusCode"),
            (r#"{"statusCode":"200"}"#, "not an HTTP status"),
            (r#"{"statusCode":200,"body":{}}"#, "body is not a string"),
            (
                r#"{"statusCode":200,"headers":[]}"#,
                "headers is not an object",
            ),
            (
                r#"{"statusCode":200,"body":"!","isBase64Encoded":true}"#,
                "not base64",
            ),
        ] {
            let e = integrated_response(bad).err().unwrap();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
