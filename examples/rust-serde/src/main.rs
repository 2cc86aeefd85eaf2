//! An API-gateway function in Rust with std and serde.
//!
//! The gateway's event is read with `serde_json` into the typed structs
//! below (members this function does not use are ignored), and the answer
//! is the gateway's integrated response: `statusCode`, `headers`, `body`
//! (a JSON document, as a string) and `isBase64Encoded`.
//!
//! - `GET /hello/{name}` (or any path, with `?name=`) answers 200 with a
//!   greeting: `{"message":"Hello, 世界!","method":"GET","path":...,
//!   "stage":"release","sourceIp":...,"requestId":...}`; without a name it
//!   greets the world.
//! - `POST` with a JSON body `{"name":"..."}` answers the same way; a body
//!   that is not such a document gets 400 with `{"error":"..."}`.
//! - Other methods get 405 with an `Allow` header.
//! - An event that is not an API-gateway event fails the invocation with
//!   serde's message (`not an API gateway event: missing field
//!   `httpMethod` at line 1 column 46`).
//!
//! It logs one line per request to stderr (SCF's invocation log).
//!
//! The runtime is the same as for the no_std examples; the crate enables
//! scf-bootstrap's `std` feature, registers the handler with `handler!` and
//! hands std's `main` to `scf_bootstrap::run()`.
use std::collections::BTreeMap;
use std::io::{self, Write};

use scf_bootstrap::{Context, Response};
use serde::{Deserialize, Serialize};

/// The API gateway's event, as far as this function reads it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApigwEvent {
    http_method: String,
    path: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    path_parameters: BTreeMap<String, String>,
    /// `?a=1&a=2` arrives as a list.
    #[serde(default)]
    query_string: BTreeMap<String, Query>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: bool,
    request_context: RequestContext,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Query {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestContext {
    stage: String,
    source_ip: String,
}

/// A POST's body.
#[derive(Deserialize)]
struct GreetRequest {
    name: String,
}

/// The gateway's integrated response.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IntegratedResponse {
    is_base64_encoded: bool,
    status_code: u16,
    headers: BTreeMap<&'static str, &'static str>,
    body: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Greeting<'a> {
    message: String,
    method: &'a str,
    path: &'a str,
    stage: &'a str,
    source_ip: &'a str,
    request_id: std::borrow::Cow<'a, str>,
}

#[derive(Serialize)]
struct ClientError {
    error: String,
}

/// An `Err` is the invocation's error message: the runtime discards what
/// was written and posts its text.
fn main_handler(event: &[u8], ctx: &Context, out: &mut Response) -> Result<(), String> {
    let req: ApigwEvent =
        serde_json::from_slice(event).map_err(|e| format!("not an API gateway event: {e}"))?;
    // Not eprintln!, which panics when the write fails (a log pipe whose
    // reader has gone): a log line is not worth the invocation.
    let _ = writeln!(
        io::stderr(),
        "{} {} from {}",
        req.http_method,
        req.path,
        req.request_context.source_ip
    );
    let answer = route(&req, ctx);
    serde_json::to_writer(&mut *out, &answer).map_err(|e| format!("cannot write the response: {e}"))
}

fn route(req: &ApigwEvent, ctx: &Context) -> IntegratedResponse {
    let name = match req.http_method.as_str() {
        "GET" => match (
            req.path_parameters.get("name"),
            req.query_string.get("name"),
        ) {
            (Some(name), _) | (None, Some(Query::One(name))) => name.clone(),
            (None, Some(Query::Many(names))) => names.join(" and "),
            (None, None) => "world".to_string(),
        },
        "POST" if req.is_base64_encoded => {
            return client_error(415, "send the body as JSON text".into())
        }
        "POST" => match serde_json::from_str::<GreetRequest>(req.body.as_deref().unwrap_or("")) {
            Ok(body) => body.name,
            Err(e) => {
                return client_error(400, format!("the body is not {{\"name\": \"...\"}}: {e}"))
            }
        },
        _ => {
            let mut r = json(
                405,
                &ClientError {
                    error: format!("method {} is not allowed", req.http_method),
                },
            );
            r.headers.insert("Allow", "GET, POST");
            return r;
        }
    };
    let greeting = Greeting {
        message: format!("Hello, {name}!"),
        method: &req.http_method,
        path: &req.path,
        stage: &req.request_context.stage,
        source_ip: &req.request_context.source_ip,
        request_id: String::from_utf8_lossy(ctx.request_id()),
    };
    if let Some(agent) = req.headers.get("user-agent") {
        let _ = writeln!(io::stderr(), "user agent: {agent}");
    }
    json(200, &greeting)
}

fn client_error(status: u16, error: String) -> IntegratedResponse {
    json(status, &ClientError { error })
}

fn json(status_code: u16, body: &impl Serialize) -> IntegratedResponse {
    IntegratedResponse {
        is_base64_encoded: false,
        status_code,
        headers: BTreeMap::from([("Content-Type", "application/json; charset=utf-8")]),
        // Serialising these structs cannot fail: string keys, no floats.
        body: serde_json::to_string(body).expect("serialisable"),
    }
}

scf_bootstrap::handler!(main_handler);

fn main() {
    scf_bootstrap::run()
}
