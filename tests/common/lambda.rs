//! A small AWS Lambda runtime API peer for the tests: the Lambda dialect's
//! paths under an optional prefix, the six context headers, `init/error`,
//! 202 on results, and the quirks cargo-lambda cannot show (204 from
//! `/next`, `Connection: close` on every answer, epoch deadlines, IPv6).
//! Requests are parsed with httparse; every request is recorded.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

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
}

#[derive(Default)]
struct State {
    queue: VecDeque<Event>,
    results: HashMap<String, Posted>,
    init_error: Option<Posted>,
    log: Vec<Posted>,
    no_content_left: u32,
}

/// The running peer; stops accepting when dropped (connections die with
/// the bootstrap).
pub struct LambdaApi {
    addr: SocketAddr,
    cfg: LambdaConfig,
    shared: Arc<(Mutex<State>, Condvar)>,
}

impl LambdaApi {
    pub fn start(bind: &str, cfg: LambdaConfig) -> LambdaApi {
        let listener = TcpListener::bind(bind).expect("bind the Lambda peer");
        let addr = listener.local_addr().unwrap();
        let state = State { no_content_left: cfg.no_content, ..State::default() };
        let shared = Arc::new((Mutex::new(state), Condvar::new()));
        let (s, c) = (shared.clone(), cfg.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (s, c) = (s.clone(), c.clone());
                std::thread::spawn(move || serve(conn, &s, &c));
            }
        });
        LambdaApi { addr, cfg, shared }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`: `host:port`, or with the
    /// configured prefix, `http://host:port/prefix`.
    pub fn env_value(&self) -> String {
        if self.cfg.prefix.is_empty() {
            self.addr.to_string()
        } else {
            format!("http://{}{}", self.addr, self.cfg.prefix)
        }
    }

    /// Queues `ev` without waiting for its result.
    pub fn queue(&self, ev: Event) {
        let (m, cv) = &*self.shared;
        m.lock().unwrap().queue.push_back(ev);
        cv.notify_all();
    }

    /// Queues `ev` and waits up to `limit` for its result.
    pub fn invoke(&self, ev: Event, limit: Duration) -> Posted {
        let id = ev.id.clone();
        self.queue(ev);
        let (m, cv) = &*self.shared;
        let deadline = Instant::now() + limit;
        let mut st = m.lock().unwrap();
        loop {
            if let Some(p) = st.results.remove(&id) {
                return p;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no result for {id} within {limit:?}; requests: {:?}", st.log);
            st = cv.wait_timeout(st, left).unwrap().0;
        }
    }

    /// The init/error post, waiting up to `limit` for it.
    pub fn init_error(&self, limit: Duration) -> Option<Posted> {
        let (m, cv) = &*self.shared;
        let st = m.lock().unwrap();
        let (st, _) = cv.wait_timeout_while(st, limit, |s| s.init_error.is_none()).unwrap();
        st.init_error.clone()
    }

    /// Every request so far (bodies included).
    pub fn log(&self) -> Vec<Posted> {
        self.shared.0.lock().unwrap().log.clone()
    }
}

fn serve(mut conn: TcpStream, shared: &(Mutex<State>, Condvar), cfg: &LambdaConfig) {
    let _ = conn.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_request(&mut conn, &mut buf) else { return };
        let (m, cv) = shared;
        m.lock().unwrap().log.push(req.clone());
        let base = format!("{}/2018-06-01/runtime/", cfg.prefix);
        let route = req.path.strip_prefix(&base).unwrap_or("");
        let answer: (u16, Vec<(String, String)>, Vec<u8>) = if req.method == "GET" && route == "invocation/next" {
            let mut st = m.lock().unwrap();
            if st.no_content_left > 0 {
                st.no_content_left -= 1;
                (204, vec![], vec![])
            } else {
                let mut st = cv.wait_while(st, |s| s.queue.is_empty()).unwrap();
                let ev = st.queue.pop_front().unwrap();
                let mut h = vec![("Lambda-Runtime-Aws-Request-Id".to_string(), ev.id.clone())];
                h.extend(ev.headers.iter().cloned());
                (200, h, ev.body)
            }
        } else if req.method == "POST" && route == "init/error" {
            m.lock().unwrap().init_error = Some(req.clone());
            cv.notify_all();
            (202, vec![], br#"{"status":"OK"}"#.to_vec())
        } else if let Some((id, end)) = route.strip_prefix("invocation/").and_then(|r| r.split_once('/')) {
            if req.method == "POST" && (end == "response" || end == "error") {
                m.lock().unwrap().results.insert(id.to_string(), req.clone());
                cv.notify_all();
                (202, vec![], br#"{"status":"OK"}"#.to_vec())
            } else {
                (404, vec![], b"no such route".to_vec())
            }
        } else {
            (404, vec![], b"no such route".to_vec())
        };
        let (status, headers, body) = answer;
        let reason = match status {
            200 => "OK",
            202 => "Accepted",
            204 => "No Content",
            _ => "Not Found",
        };
        let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        if status != 204 {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        if cfg.close_each {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&body);
        if conn.write_all(&out).is_err() {
            return;
        }
        if cfg.close_each {
            let _ = conn.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Reads one request (Content-Length bodies; the bootstrap sends no other
/// kind); `None` at end of stream or on an error.
fn read_request(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Posted> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(n) = req.parse(buf).ok()? {
            let hs: Vec<(String, String)> = req
                .headers
                .iter()
                .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
                .collect();
            let len: usize =
                hs.iter().find(|(n, _)| n == "content-length").map(|(_, v)| v.trim().parse().unwrap()).unwrap_or(0);
            let (method, path) = (req.method?.to_string(), req.path?.to_string());
            while buf.len() < n + len {
                let mut chunk = [0u8; 65536];
                let k = conn.read(&mut chunk).ok()?;
                if k == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..k]);
            }
            let body = buf[n..n + len].to_vec();
            buf.drain(..n + len);
            return Some(Posted { method, path, headers: hs, body });
        }
        let mut chunk = [0u8; 65536];
        let k = conn.read(&mut chunk).ok()?;
        if k == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..k]);
    }
}
