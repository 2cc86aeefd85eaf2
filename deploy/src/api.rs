//! A TencentCloud API 3.0 client for SCF: one signed `POST` per call, the
//! `{"Response": ...}` envelope unwrapped, API errors kept apart from
//! transport failures.
//!
//! HTTPS is ureq on rustls (ring, and the webpki root certificates compiled
//! in); plain `http://` is taken only for loopback endpoints (the tests'
//! fake SCF), so that no signed request or code crosses a network in the
//! clear.

use crate::requests::{Action, API_VERSION};
use crate::tc3::{self, Credentials};
use serde_json::Value;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// SCF's endpoint ("nearest region" access; the region travels in
/// `X-TC-Region`).
pub const DEFAULT_ENDPOINT: &str = "https://scf.tencentcloudapi.com";

/// The service name in the signature's credential scope.
const SERVICE: &str = "scf";

/// Where requests go: a URL's scheme and authority, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    url: String,
    host: String,
    loopback: bool,
}

impl Endpoint {
    /// `https://HOST[:PORT]` (a bare `HOST[:PORT]` is taken as https), or
    /// `http://` to a loopback address (`127.0.0.0/8`, `[::1]`,
    /// `localhost`). A path other than `/` is refused.
    pub fn parse(text: &str) -> Result<Endpoint, String> {
        let bad = |why: &str| format!("--endpoint {text:?}: {why}");
        let (scheme, rest) = match text.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => ("https".to_string(), text),
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.contains(['/', '?', '#', '@']) {
            return Err(bad("give only the scheme, host and port (the API's path is /)"));
        }
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b)) {
            return Err(bad("not a host name, address or host:port"));
        }
        match scheme.as_str() {
            "https" => {}
            "http" if is_loopback(host) => {}
            "http" => return Err(bad("plain http is taken only to loopback (127.0.0.1, [::1], localhost); use https")),
            _ => return Err(bad("the scheme must be https (or http to loopback)")),
        }
        Ok(Endpoint { url: format!("{scheme}://{host}/"), host: host.to_string(), loopback: is_loopback(host) })
    }

    /// The URL requests are posted to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `Host` header (and signed host): the URL's authority.
    pub fn host(&self) -> &str {
        &self.host
    }
}

/// Whether an authority (`host`, `host:port`, `[v6]:port`) names this machine.
fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Why a call gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The API answered with an error (`Response.Error`).
    Api {
        /// E.g. `ResourceNotFound.Function`, `AuthFailure.SignatureFailure`.
        code: String,
        /// The API's message.
        message: String,
        /// The request's id, for Tencent's support.
        request_id: String,
    },
    /// No API answer: the connection failed, or the reply was not API 3.0's.
    Transport(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Api { code, message, request_id } => {
                write!(f, "{code}: {message} (request {request_id})")?;
                if let Some(hint) = hint(code) {
                    write!(f, "; {hint}")?;
                }
                Ok(())
            }
            ApiError::Transport(why) => f.write_str(why),
        }
    }
}

/// What to check for the API's authentication and permission errors
/// (codes of API 3.0's common error list).
fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "AuthFailure.SecretIdNotFound" | "AuthFailure.InvalidSecretId" => "check TENCENTCLOUD_SECRET_ID",
        "AuthFailure.SignatureFailure" => "check TENCENTCLOUD_SECRET_KEY",
        "AuthFailure.SignatureExpire" => "check this machine's clock (the signature holds the time)",
        "AuthFailure.TokenFailure" => "check TENCENTCLOUD_SESSION_TOKEN (set only for temporary keys)",
        "AuthFailure.UnauthorizedOperation" | "UnauthorizedOperation" => {
            "the key's CAM policy must allow this action on SCF"
        }
        _ => return None,
    })
}

/// Something that answers SCF's API calls: the real [`Client`], or the
/// unit tests' fake.
pub trait Scf {
    /// Sends `action` with the JSON `body`; the `Response` object.
    fn call(&mut self, action: Action, body: &[u8]) -> Result<Value, ApiError>;
}

/// The client of one deployment: endpoint, region, credentials.
pub struct Client {
    agent: ureq::Agent,
    endpoint: Endpoint,
    region: String,
    credentials: Credentials,
}

impl Client {
    /// A client for `region` at `endpoint`.
    pub fn new(endpoint: Endpoint, region: &str, credentials: Credentials) -> Client {
        // A proxy from the environment (HTTPS_PROXY, ALL_PROXY) is used,
        // except for an endpoint on this machine.
        let proxy = if endpoint.loopback { None } else { ureq::Proxy::try_from_env() };
        let config = ureq::Agent::config_builder()
            .proxy(proxy)
            // API 3.0 answers its errors with 200 and a JSON body; a
            // gateway's 4xx/5xx is read and reported, not an Err of ureq's.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .timeout_recv_body(Some(Duration::from_secs(60)))
            .user_agent(concat!("scf-deploy/", env!("CARGO_PKG_VERSION")))
            .build();
        Client { agent: config.into(), endpoint, region: region.to_string(), credentials }
    }

    fn now() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }
}

impl Scf for Client {
    fn call(&mut self, action: Action, body: &[u8]) -> Result<Value, ApiError> {
        let req = tc3::Request {
            service: SERVICE,
            host: self.endpoint.host(),
            action: action.name(),
            version: API_VERSION,
            region: &self.region,
            payload: body,
        };
        let mut http = self.agent.post(self.endpoint.url());
        for (name, value) in tc3::sign(&self.credentials, &req, Client::now()) {
            http = http.header(name, value);
        }
        http = http.header("X-TC-RequestClient", concat!("scf-deploy/", env!("CARGO_PKG_VERSION")));
        let mut resp = http.send(body).map_err(|e| {
            ApiError::Transport(format!("cannot reach {}: {}", self.endpoint.url(), transport_reason(&e)))
        })?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
            .map_err(|e| ApiError::Transport(format!("reading {}'s answer: {e}", self.endpoint.url())))?;
        unwrap_response(status, &text)
    }
}

/// ureq's error, as a reason after "cannot reach URL: ".
fn transport_reason(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => crate::io_reason(io),
        ureq::Error::Timeout(what) => format!("timed out ({what:?})"),
        other => other.to_string(),
    }
}

/// The `Response` object of an API 3.0 answer, or its error. A reply that
/// is not API 3.0's JSON (a proxy's or gateway's page) is named by its
/// status and first line.
pub fn unwrap_response(status: u16, text: &str) -> Result<Value, ApiError> {
    let not_api = || {
        let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("(empty body)");
        let first: String = first.chars().take(120).collect();
        ApiError::Transport(format!("the endpoint answered HTTP {status}, not an API 3.0 response: {first}"))
    };
    let value: Value = serde_json::from_str(text).map_err(|_| not_api())?;
    let Some(response) = value.get("Response").filter(|r| r.is_object()) else {
        return Err(not_api());
    };
    if let Some(error) = response.get("Error") {
        let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        return Err(ApiError::Api {
            code: field(error, "Code"),
            message: field(error, "Message"),
            request_id: field(response, "RequestId"),
        });
    }
    Ok(response.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_https_anywhere_http_only_to_loopback() {
        for (text, url, host) in [
            ("https://scf.tencentcloudapi.com", "https://scf.tencentcloudapi.com/", "scf.tencentcloudapi.com"),
            (
                "scf.ap-shanghai.tencentcloudapi.com",
                "https://scf.ap-shanghai.tencentcloudapi.com/",
                "scf.ap-shanghai.tencentcloudapi.com",
            ),
            ("HTTPS://example.com:8443/", "https://example.com:8443/", "example.com:8443"),
            ("http://127.0.0.1:9000", "http://127.0.0.1:9000/", "127.0.0.1:9000"),
            ("http://127.1.2.3:9000/", "http://127.1.2.3:9000/", "127.1.2.3:9000"),
            ("http://[::1]:9000", "http://[::1]:9000/", "[::1]:9000"),
            ("http://localhost:9000", "http://localhost:9000/", "localhost:9000"),
        ] {
            let e = Endpoint::parse(text).unwrap();
            assert_eq!((e.url(), e.host()), (url, host), "{text}");
        }
        for (text, why) in [
            ("http://scf.tencentcloudapi.com", "plain http is taken only to loopback"),
            ("http://10.0.0.1:9000", "plain http is taken only to loopback"),
            ("http://[::2]:9000", "plain http is taken only to loopback"),
            ("ftp://127.0.0.1", "the scheme must be https"),
            ("https://example.com/api", "give only the scheme, host and port"),
            ("https://user@example.com", "give only the scheme, host and port"),
            ("https://", "not a host name"),
            ("https://exa mple.com", "not a host name"),
            ("https://example.com\r\nX: y", "not a host name"),
        ] {
            let e = Endpoint::parse(text).unwrap_err();
            assert!(e.starts_with(&format!("--endpoint {text:?}: {why}")), "{e}");
        }
    }

    #[test]
    fn responses_errors_and_strangers() {
        let ok = unwrap_response(200, r#"{"Response": {"Status": "Active", "RequestId": "r1"}}"#).unwrap();
        assert_eq!(ok["Status"], "Active");
        let e = unwrap_response(
            200,
            r#"{"Response": {"Error": {"Code": "ResourceNotFound.Function", "Message": "no such function"}, "RequestId": "r2"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            ApiError::Api {
                code: "ResourceNotFound.Function".into(),
                message: "no such function".into(),
                request_id: "r2".into()
            }
        );
        assert_eq!(e.to_string(), "ResourceNotFound.Function: no such function (request r2)");
        let e = unwrap_response(502, "\n<html>\n<h1>502 Bad Gateway</h1>").unwrap_err();
        assert_eq!(e.to_string(), "the endpoint answered HTTP 502, not an API 3.0 response: <html>");
        let e = unwrap_response(200, r#"{"Result": 1}"#).unwrap_err();
        assert_eq!(e.to_string(), "the endpoint answered HTTP 200, not an API 3.0 response: {\"Result\": 1}");
        assert!(unwrap_response(413, "")
            .unwrap_err()
            .to_string()
            .ends_with("HTTP 413, not an API 3.0 response: (empty body)"));
    }

    #[test]
    fn authentication_errors_say_what_to_check() {
        let e = ApiError::Api {
            code: "AuthFailure.SignatureExpire".into(),
            message: "expired".into(),
            request_id: "r".into(),
        };
        assert_eq!(e.to_string(), "AuthFailure.SignatureExpire: expired (request r); check this machine's clock (the signature holds the time)");
        let e =
            ApiError::Api { code: "AuthFailure.SignatureFailure".into(), message: "m".into(), request_id: "r".into() };
        assert!(e.to_string().ends_with("; check TENCENTCLOUD_SECRET_KEY"));
    }
}
