//! The invoke endpoint: how callers outside the emulator invoke a function.
//!
//! `POST /invoke` with the event as the body answers `200` with the Invoke
//! API JSON (see [`crate::report`]), whatever the invocation's outcome, as
//! the Invoke API does; the outcome is in `Result.InvokeResult` and, for
//! scripts, in the `X-Scf-Invoke-Result` header. Concurrent requests are
//! served one invocation at a time, in arrival order. `GET /` describes the
//! endpoint.

use crate::http;
use crate::report::InvokeReport;
use crate::server::{Acceptor, ReadError, Reader};
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

/// Largest request body read; anything between SCF's 6 MB and this reaches
/// the handler, which refuses it with status 406 as SCF does.
const MAX_EVENT_READ: usize = 64 * 1024 * 1024;

/// Runs one invocation for an event.
pub type Handler = Arc<dyn Fn(&[u8]) -> InvokeReport + Send + Sync>;

/// A running invoke endpoint; dropping it stops it.
pub struct InvokeServer {
    acceptor: Acceptor,
}

impl InvokeServer {
    /// Binds `bind` and serves on background threads.
    pub fn start(bind: SocketAddr, handler: Handler) -> io::Result<InvokeServer> {
        let listener = TcpListener::bind(bind)?;
        let acceptor = Acceptor::start(
            listener,
            "scf-invoke",
            Arc::new(move |s| serve(s, &handler)),
        )?;
        Ok(InvokeServer { acceptor })
    }

    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }
}

const HELP: &str = "scf-emulator invoke endpoint\n\
POST /invoke with the event as the body; the answer is the Invoke API JSON:\n\
{\"Result\":{\"RetMsg\",\"ErrMsg\",\"Log\",\"Duration\",\"BillDuration\",\"MemUsage\",\"FunctionRequestId\",\"InvokeResult\"},\"RequestId\",\"Emulator\":{...}}\n";

fn serve(stream: TcpStream, handler: &Handler) {
    let mut reader = Reader::new(stream, MAX_EVENT_READ);
    loop {
        let req = match reader.read_request() {
            Ok(r) => r,
            Err(ReadError::Gone) => break,
            Err(ReadError::Bad(status, reason)) => {
                let body = format!("bad request: {reason}\n");
                let _ = reader.stream.write_all(&http::response(
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
        let path = req.head.target.split('?').next().unwrap_or_default();
        let mut headers: Vec<(&str, String)> = Vec::new();
        let (status, body) = match (req.head.method.as_str(), path) {
            ("POST", "/invoke") => {
                let report = handler(&req.body);
                headers.push(("Content-Type", "application/json".into()));
                headers.push((
                    "X-Scf-Invoke-Result",
                    report.status.invoke_result().to_string(),
                ));
                let mut json = report.to_json().into_bytes();
                json.push(b'\n');
                (200, json)
            }
            (_, "/invoke") => {
                headers.push(("Allow", "POST".into()));
                (405, b"method not allowed: use POST /invoke\n".to_vec())
            }
            ("GET", "/") => (200, HELP.as_bytes().to_vec()),
            _ => (
                404,
                format!("not found: {path} (use POST /invoke)\n").into_bytes(),
            ),
        };
        if status != 200 || path != "/invoke" {
            headers.push(("Content-Type", "text/plain; charset=utf-8".into()));
        }
        if !keep {
            headers.push(("Connection", "close".into()));
        }
        let hs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        if reader
            .stream
            .write_all(&http::response(status, &hs, &body))
            .is_err()
            || !keep
        {
            break;
        }
    }
    let _ = reader.stream.shutdown(Shutdown::Both);
}
