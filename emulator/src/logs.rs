//! Capture of a bootstrap's stdout and stderr, attributed to invocations.
//!
//! One reader thread per pipe appends to a shared [`LogSink`], in arrival
//! order. An invocation's log is everything that arrived since the previous
//! invocation's log was taken, so init output joins the first invocation's
//! log, as on SCF. Only the tail is kept: SCF returns at most 4 KB.

use crate::sys;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::RawFd;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// Bytes of log returned per invocation (SCF's Invoke API: "up to 4KB").
pub const LOG_TAIL: usize = 4096;

#[derive(Default)]
struct Buf {
    /// The last [`LOG_TAIL`] bytes received.
    tail: VecDeque<u8>,
    /// Bytes received in all.
    total: u64,
    /// `total` when the last log was taken.
    taken: u64,
    /// Pipes still open.
    open: usize,
    /// Their descriptors, for asking how many bytes wait unread. A reader
    /// removes its own under this lock before closing it.
    fds: Vec<RawFd>,
}

/// Where the reader threads put what the function writes.
#[derive(Default)]
pub struct LogSink {
    buf: Mutex<Buf>,
    cond: Condvar,
    /// Also copy everything to this process's stderr (the `run` command's
    /// live log).
    echo: bool,
}

impl LogSink {
    pub fn new(echo: bool) -> Arc<LogSink> {
        Arc::new(LogSink {
            echo,
            ..LogSink::default()
        })
    }

    fn lock(&self) -> MutexGuard<'_, Buf> {
        self.buf.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a thread that copies `pipe` into the sink until EOF. `fd` is
    /// the pipe's descriptor, when it has one, so [`settle`](Self::settle)
    /// can see bytes not read yet.
    pub fn attach(self: &Arc<Self>, mut pipe: impl Read + Send + 'static, fd: Option<RawFd>) {
        {
            let mut b = self.lock();
            b.open += 1;
            b.fds.extend(fd);
        }
        let sink = self.clone();
        let spawned = thread::Builder::new()
            .name("scf-log-reader".into())
            .spawn(move || {
                let mut chunk = [0u8; 8192];
                loop {
                    match pipe.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => sink.push(&chunk[..n]),
                    }
                }
                let mut b = sink.lock();
                b.open -= 1;
                b.fds.retain(|&f| Some(f) != fd);
                drop(pipe);
                drop(b);
                sink.cond.notify_all();
            });
        if spawned.is_err() {
            let mut b = self.lock();
            b.open -= 1;
            b.fds.retain(|&f| Some(f) != fd);
        }
    }

    /// Appends bytes (also used for the emulator's own notes in a log).
    pub fn push(&self, bytes: &[u8]) {
        if self.echo {
            let _ = std::io::stderr().write_all(bytes);
        }
        let mut b = self.lock();
        b.total += bytes.len() as u64;
        let keep = bytes.len().min(LOG_TAIL);
        b.tail.extend(&bytes[bytes.len() - keep..]);
        let excess = b.tail.len().saturating_sub(LOG_TAIL);
        b.tail.drain(..excess);
        drop(b);
        self.cond.notify_all();
    }

    /// Waits until the pipes hold no unread bytes and output has been
    /// quiet for `quiet` (or every pipe is closed), but at most `max`.
    /// Bytes the function wrote before pushing its result are in a pipe by
    /// then; the reader thread may just not have been scheduled yet (on a
    /// loaded machine, for longer than `quiet`), so unread bytes are asked
    /// for (`FIONREAD`) rather than guessed from quiet alone.
    pub fn settle(&self, quiet: Duration, max: Duration) {
        let end = Instant::now() + max;
        let mut b = self.lock();
        while b.open > 0 {
            let now = Instant::now();
            if now >= end {
                return;
            }
            let unread = b.fds.iter().any(|&fd| sys::pipe_unread(fd) > 0);
            let seen = b.total;
            let (next, waited) = self
                .cond
                .wait_timeout_while(b, quiet.min(end - now), |b| b.total == seen && b.open > 0)
                .unwrap_or_else(|e| e.into_inner());
            if waited.timed_out() && !unread {
                return;
            }
            b = next;
        }
    }

    /// Waits until every pipe is closed, at most `max`.
    pub fn wait_closed(&self, max: Duration) {
        let b = self.lock();
        let _ = self.cond.wait_timeout_while(b, max, |b| b.open > 0);
    }

    /// The log since the last call, tail-truncated to [`LOG_TAIL`] bytes
    /// and cut at a UTF-8 character boundary.
    pub fn take(&self) -> String {
        let mut b = self.lock();
        let since = b.total - b.taken;
        let new = usize::try_from(since)
            .unwrap_or(usize::MAX)
            .min(b.tail.len());
        b.taken = b.total;
        let start = b.tail.len() - new;
        let bytes: Vec<u8> = b.tail.range(start..).copied().collect();
        tail_text(&bytes, (new as u64) < since)
    }
}

/// Text of a byte tail. When the bytes may start mid-character (they were
/// cut), leading UTF-8 continuation bytes are dropped.
fn tail_text(bytes: &[u8], maybe_cut: bool) -> String {
    let skip = if maybe_cut {
        bytes
            .iter()
            .take(3)
            .take_while(|&&b| b & 0xc0 == 0x80)
            .count()
    } else {
        0
    };
    String::from_utf8_lossy(&bytes[skip..]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribution_and_tail() {
        let sink = LogSink::new(false);
        sink.push(b"init line\n");
        sink.push(b"first\n");
        assert_eq!(sink.take(), "init line\nfirst\n");
        assert_eq!(sink.take(), "");
        let big: Vec<u8> = (0..10_000).map(|i| b'a' + (i % 26) as u8).collect();
        sink.push(&big);
        let log = sink.take();
        assert_eq!(log.len(), LOG_TAIL);
        assert!(big.ends_with(log.as_bytes()));
    }

    #[test]
    fn cut_inside_a_character() {
        let sink = LogSink::new(false);
        // 'é' is two bytes; make the 4 KB boundary fall inside one.
        let mut s = String::from("x");
        while s.len() < LOG_TAIL + 10 {
            s.push('é');
        }
        sink.push(s.as_bytes());
        let log = sink.take();
        assert!(log.chars().all(|c| c == 'é'), "no replacement characters");
        assert!(log.len() >= LOG_TAIL - 1);
    }

    #[test]
    fn pipes_are_read() {
        let sink = LogSink::new(false);
        sink.attach(&b"from a pipe\n"[..], None);
        sink.wait_closed(Duration::from_secs(5));
        sink.settle(Duration::from_millis(1), Duration::from_millis(10));
        assert_eq!(sink.take(), "from a pipe\n");
    }

    /// A reader thread that is slow to run (a loaded machine) does not lose
    /// bytes that were in the pipe before the result: they are seen unread.
    #[test]
    fn settle_waits_for_bytes_still_in_the_pipe() {
        struct Late(std::io::PipeReader, bool);
        impl Read for Late {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if !self.1 {
                    self.1 = true;
                    thread::sleep(Duration::from_millis(100));
                }
                self.0.read(buf)
            }
        }
        let (r, mut w) = std::io::pipe().unwrap();
        w.write_all(b"written before the result\n").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&r);
        assert_eq!(sys::pipe_unread(fd), 26);
        let sink = LogSink::new(false);
        sink.attach(Late(r, false), Some(fd));
        sink.settle(Duration::from_millis(5), Duration::from_secs(5));
        assert_eq!(sink.take(), "written before the result\n");
        drop(w);
        sink.wait_closed(Duration::from_secs(5));
    }
}
