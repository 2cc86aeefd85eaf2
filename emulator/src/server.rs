//! The I/O half of serving HTTP: accepting connections (a thread each) and
//! reading framed requests off them.
//! Shared by the runtime API ([`crate::api`]) and the invoke endpoint
//! ([`crate::frontend`]); the framing rules themselves are in [`crate::http`].

use crate::http::{self, Conn, Framing, Head};
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A request read in full, with the instant its last byte arrived.
pub(crate) struct Request {
    pub head: Head,
    pub body: Vec<u8>,
    pub complete_at: Instant,
}

pub(crate) enum ReadError {
    /// Peer closed or the socket failed: just drop the connection.
    Gone,
    /// Malformed: answer with this status and reason, then close.
    Bad(u16, &'static str),
}

/// A server-side connection (pipelined bytes stay buffered for the next
/// request).
pub(crate) struct Reader {
    pub conn: Conn<TcpStream>,
    max_body: usize,
}

impl Reader {
    pub fn new(stream: TcpStream, max_body: usize) -> Reader {
        Reader {
            conn: Conn::new(stream),
            max_body,
        }
    }

    /// Writes a whole response; false when the peer is gone.
    pub fn write(&mut self, bytes: &[u8]) -> bool {
        self.conn.send(bytes).is_ok()
    }

    /// Reads the next request. Sends `100 Continue` when the client waits
    /// for it (curl does for large bodies).
    pub fn read_request(&mut self) -> Result<Request, ReadError> {
        let bad = |e: http::ReadError| match e {
            http::ReadError::Io(_) => ReadError::Gone,
            http::ReadError::Http(e) => ReadError::Bad(e.status(), e.as_str()),
        };
        let raw = self
            .conn
            .read_head_bytes()
            .map_err(bad)?
            .ok_or(ReadError::Gone)?;
        let head =
            http::parse_request_head(&raw).map_err(|e| ReadError::Bad(e.status(), e.as_str()))?;
        let framing = head
            .framing()
            .map_err(|e| ReadError::Bad(e.status(), e.as_str()))?;
        if framing == Framing::UntilClose {
            return Err(ReadError::Bad(400, "request body without framing"));
        }
        if head.expects_continue() && framing != Framing::Length(0) && !self.conn.has_buffered() {
            let _ = self.conn.send(http::CONTINUE);
        }
        let body = self.conn.read_body(framing, self.max_body).map_err(bad)?;
        Ok(Request {
            head,
            body,
            complete_at: Instant::now(),
        })
    }
}

/// Connections of one listener, so closing the listener can close them.
#[derive(Default)]
struct Registry {
    closed: bool,
    conns: HashMap<u64, TcpStream>,
    next: u64,
}

/// A listener served by a background thread, one thread per connection.
/// Dropping it stops accepting, shuts every live connection down and joins
/// the accept thread.
pub(crate) struct Acceptor {
    addr: SocketAddr,
    registry: Arc<Mutex<Registry>>,
    thread: Option<JoinHandle<()>>,
}

fn lock(r: &Mutex<Registry>) -> std::sync::MutexGuard<'_, Registry> {
    r.lock().unwrap_or_else(|e| e.into_inner())
}

impl Acceptor {
    /// Starts accepting on `listener`; `on_conn` runs on a fresh thread for
    /// every connection.
    pub fn start(
        listener: TcpListener,
        name: &str,
        on_conn: Arc<dyn Fn(TcpStream) + Send + Sync>,
    ) -> io::Result<Acceptor> {
        let addr = listener.local_addr()?;
        let registry = Arc::new(Mutex::new(Registry::default()));
        let reg = registry.clone();
        let conn_name = format!("{name}-conn");
        let thread = thread::Builder::new()
            .name(format!("{name}-accept"))
            .spawn(move || accept_loop(listener, reg, conn_name, on_conn))?;
        Ok(Acceptor {
            addr,
            registry,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

fn accept_loop(
    listener: TcpListener,
    reg: Arc<Mutex<Registry>>,
    conn_name: String,
    on_conn: Arc<dyn Fn(TcpStream) + Send + Sync>,
) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            if lock(&reg).closed {
                return;
            }
            // EMFILE and friends: back off instead of spinning.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let id = {
            // Checked under the same lock as the registration, so closing
            // either sees this connection or this loop sees `closed`.
            let mut r = lock(&reg);
            if r.closed {
                return;
            }
            let id = r.next;
            r.next += 1;
            if let Ok(clone) = stream.try_clone() {
                r.conns.insert(id, clone);
            }
            id
        };
        let (reg2, f) = (reg.clone(), on_conn.clone());
        let spawned = thread::Builder::new()
            .name(conn_name.clone())
            .spawn(move || {
                f(stream);
                lock(&reg2).conns.remove(&id);
            });
        if spawned.is_err() {
            lock(&reg).conns.remove(&id);
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        let conns: Vec<TcpStream> = {
            let mut r = lock(&self.registry);
            r.closed = true;
            r.conns.drain().map(|(_, s)| s).collect()
        };
        for c in conns {
            let _ = c.shutdown(Shutdown::Both);
        }
        // Wake the accept thread out of accept(); it sees `closed` and ends.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(if wake.is_ipv4() {
                Ipv4Addr::LOCALHOST.into()
            } else {
                Ipv6Addr::LOCALHOST.into()
            });
        }
        let woke = TcpStream::connect_timeout(&wake, Duration::from_secs(1)).is_ok();
        if let Some(h) = self.thread.take() {
            // Without a wake-up connection the thread may stay blocked in
            // accept(); detach it rather than hang.
            if woke {
                let _ = h.join();
            }
        }
    }
}
