//! The operating-system layer: every system call and libc call the runtime
//! makes, and the only module (besides [`crate::ffi`] and [`crate::crash`])
//! allowed to use `unsafe`.
//!
//! Wrappers keep the name of the call they wrap; system calls are made
//! inline ([`syscall!`]) and their raw results turned into
//! `Result<_, Errno>` in one place (`ret`). Nothing here decides policy:
//! retries, timeouts and messages belong to the callers.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_int, c_void, CStr};
use core::mem::{size_of, MaybeUninit};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

/// An `errno` value, as returned by a failed call (in words:
/// `diag::errno_text`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    /// Whether a send or receive that failed so found its descriptor no
    /// longer to be the connected socket it was: closed (`EBADF`), or its
    /// number reused by a handler that closed it and opened something of
    /// its own, a file or a pipe (`ENOTSOCK`), or a socket that is not
    /// connected (`ENOTCONN`, `EDESTADDRREQ`; ours always is).
    pub fn not_this_socket(self) -> bool {
        matches!(self.0, libc::EBADF | libc::ENOTSOCK | libc::ENOTCONN | libc::EDESTADDRREQ)
    }

    pub const CONNREFUSED: Errno = Errno(libc::ECONNREFUSED);
    #[cfg(test)]
    pub const PIPE: Errno = Errno(libc::EPIPE);
    pub const INTR: Errno = Errno(libc::EINTR);
    pub const NOMEM: Errno = Errno(libc::ENOMEM);
    /// A non-blocking call would block, or a socket timeout passed.
    #[cfg(feature = "serve")]
    pub const AGAIN: Errno = Errno(libc::EAGAIN);
}

// System calls are made here, inline, rather than through musl's wrappers
// (`read`, `poll`, `connect`, `socket`, `open`, `mmap`, ...) or its
// variadic `syscall()`: the wrappers add cancellation points, fallbacks
// for kernels older than 2.6.27 and argument checks this runtime does not
// need, and each brings its own code. The calls made are the same.

/// Makes system call `$nr` with up to six arguments (each converted with
/// `as usize`) and evaluates to its raw result: a negative errno on
/// failure. Unused argument registers are left as they are: the kernel
/// does not read them.
///
/// # Safety
/// The arguments must be what the system call expects.
#[cfg(target_arch = "x86_64")]
macro_rules! syscall {
    (@ $nr:expr; $($reg:tt = $v:expr),*) => {{
        let r: isize;
        // The Linux x86_64 convention: the kernel clobbers rcx and r11
        // only; memory effects are the caller's contract.
        core::arch::asm!("syscall", inlateout("rax") $nr as isize => r, $(in($reg) $v as usize,)*
            lateout("rcx") _, lateout("r11") _, options(nostack));
        r
    }};
    ($nr:expr $(,)?) => { $crate::sys::syscall!(@ $nr;) };
    ($nr:expr, $a:expr $(,)?) => { $crate::sys::syscall!(@ $nr; "rdi" = $a) };
    ($nr:expr, $a:expr, $b:expr $(,)?) => { $crate::sys::syscall!(@ $nr; "rdi" = $a, "rsi" = $b) };
    ($nr:expr, $a:expr, $b:expr, $c:expr $(,)?) => { $crate::sys::syscall!(@ $nr; "rdi" = $a, "rsi" = $b, "rdx" = $c) };
    ($nr:expr, $a:expr, $b:expr, $c:expr, $d:expr $(,)?) => {
        $crate::sys::syscall!(@ $nr; "rdi" = $a, "rsi" = $b, "rdx" = $c, "r10" = $d)
    };
    ($nr:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr $(,)?) => {
        $crate::sys::syscall!(@ $nr; "rdi" = $a, "rsi" = $b, "rdx" = $c, "r10" = $d, "r8" = $e)
    };
    ($nr:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr $(,)?) => {
        $crate::sys::syscall!(@ $nr; "rdi" = $a, "rsi" = $b, "rdx" = $c, "r10" = $d, "r8" = $e, "r9" = $f)
    };
}

/// The same for arm64: x8 the number, x0-x5 the arguments, x0 the result.
#[cfg(target_arch = "aarch64")]
macro_rules! syscall {
    (@ $nr:expr; $a:expr; $($reg:tt = $v:expr),*) => {{
        let r: isize;
        core::arch::asm!("svc 0", in("x8") $nr as usize, inlateout("x0") $a as usize => r, $(in($reg) $v as usize,)*
            options(nostack));
        r
    }};
    ($nr:expr $(,)?) => { $crate::sys::syscall!(@ $nr; 0;) };
    ($nr:expr, $a:expr $(,)?) => { $crate::sys::syscall!(@ $nr; $a;) };
    ($nr:expr, $a:expr, $b:expr $(,)?) => { $crate::sys::syscall!(@ $nr; $a; "x1" = $b) };
    ($nr:expr, $a:expr, $b:expr, $c:expr $(,)?) => { $crate::sys::syscall!(@ $nr; $a; "x1" = $b, "x2" = $c) };
    ($nr:expr, $a:expr, $b:expr, $c:expr, $d:expr $(,)?) => { $crate::sys::syscall!(@ $nr; $a; "x1" = $b, "x2" = $c, "x3" = $d) };
    ($nr:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr $(,)?) => {
        $crate::sys::syscall!(@ $nr; $a; "x1" = $b, "x2" = $c, "x3" = $d, "x4" = $e)
    };
    ($nr:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr $(,)?) => {
        $crate::sys::syscall!(@ $nr; $a; "x1" = $b, "x2" = $c, "x3" = $d, "x4" = $e, "x5" = $f)
    };
}

/// Elsewhere, musl's `syscall()`, its result turned back into a raw one.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
macro_rules! syscall {
    ($nr:expr $(, $v:expr)* $(,)?) => {{
        let r = libc::syscall($nr $(, $v as usize)*) as isize;
        if r == -1 { -(*libc::__errno_location() as isize) } else { r }
    }};
}
pub(crate) use syscall;

/// Converts a raw system call result (a negative errno on failure) to a
/// `Result`.
fn ret(r: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&r) {
        Err(Errno(-r as i32))
    } else {
        Ok(r as usize)
    }
}

/// A file descriptor owned by this value and closed when it is dropped.
#[derive(Debug)]
pub struct OwnedFd(c_int);

impl OwnedFd {
    /// Gives the number up without closing it: for a socket that a call
    /// found is no longer behind it ([`Errno::not_this_socket`]), whose
    /// number may now be a handler's file.
    pub fn forget(self) {
        core::mem::forget(self);
    }
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor and nobody uses it after drop. A close
        // error leaves nothing to recover, so it is ignored.
        unsafe { syscall!(libc::SYS_close, self.0) };
    }
}

/// A socket address in the form `connect(2)` takes.
#[derive(Clone, Copy)]
pub struct SockAddr {
    storage: libc::sockaddr_in6, // large enough for sockaddr_in too
    len: libc::socklen_t,
    family: c_int,
}

impl SockAddr {
    // Out of line, as `v6`: inlined at each of their callers in the
    // endpoint parsing, the two cost 88 bytes more.
    #[inline(never)]
    pub fn v4(octets: [u8; 4], port: u16) -> SockAddr {
        // SAFETY: an all-zero sockaddr_in6 is a valid value of the type.
        let mut storage: libc::sockaddr_in6 = unsafe { core::mem::zeroed() };
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(octets) },
            sin_zero: [0; 8],
        };
        // SAFETY: sockaddr_in (16 bytes) fits inside sockaddr_in6 (28 bytes),
        // both are plain old data, and the write is unaligned-safe.
        unsafe { core::ptr::write_unaligned(&mut storage as *mut _ as *mut libc::sockaddr_in, sin) };
        SockAddr { storage, len: size_of::<libc::sockaddr_in>() as _, family: libc::AF_INET }
    }

    /// The same address with another port.
    pub fn with_port(mut self, port: u16) -> SockAddr {
        // sin_port and sin6_port share the offset right after the family.
        self.storage.sin6_port = port.to_be();
        self
    }

    #[inline(never)]
    pub fn v6(octets: [u8; 16], port: u16) -> SockAddr {
        // SAFETY: an all-zero sockaddr_in6 is a valid value of the type.
        let mut storage: libc::sockaddr_in6 = unsafe { core::mem::zeroed() };
        storage.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        storage.sin6_port = port.to_be();
        storage.sin6_addr.s6_addr = octets;
        SockAddr { storage, len: size_of::<libc::sockaddr_in6>() as _, family: libc::AF_INET6 }
    }
}

#[cfg(test)]
impl SockAddr {
    /// The address as std writes it (`127.0.0.1:9001`, `[::1]:9001`).
    pub fn to_std(self) -> std::net::SocketAddr {
        let port = u16::from_be(self.storage.sin6_port);
        if self.family == libc::AF_INET {
            // SAFETY: a v4 address was written as a sockaddr_in at the start.
            let sin: libc::sockaddr_in = unsafe { core::ptr::read_unaligned(&self.storage as *const _ as *const _) };
            std::net::SocketAddr::from((sin.sin_addr.s_addr.to_ne_bytes(), port))
        } else {
            std::net::SocketAddr::from((self.storage.sin6_addr.s6_addr, port))
        }
    }
}

/// Up to four addresses to try, in order.
#[derive(Clone, Copy, Default)]
pub struct Addrs {
    list: [Option<SockAddr>; 4],
}

impl Addrs {
    pub const fn new() -> Addrs {
        Addrs { list: [None; 4] }
    }

    /// Adds `a`; returns false when the list is full.
    pub fn push(&mut self, a: SockAddr) -> bool {
        match self.list.iter_mut().find(|s| s.is_none()) {
            Some(slot) => {
                *slot = Some(a);
                true
            }
            None => false,
        }
    }

    /// The addresses, in the order they are tried.
    pub fn iter(&self) -> impl Iterator<Item = &SockAddr> {
        self.list.iter().flatten()
    }
}

// The libc crate declares functions but, outside std, does not link the C
// library; this block does (musl's libc.a in the static target).
#[link(name = "c")]
extern "C" {
    // Not bound by the libc crate; the same in musl and glibc (POSIX).
    #[link_name = "environ"]
    static ENVIRON: *const *const c_char;
    #[cfg(test)]
    fn inet_pton(af: c_int, src: *const c_char, dst: *mut c_void) -> c_int;
}

/// `inet_pton(3)` for AF_INET: a dotted-quad literal, or `None`. (The
/// bootstrap parses literals itself, `address::parse_ipv4`; this is the C
/// library's verdict its tests compare with.)
#[cfg(test)]
pub fn inet_pton4(s: &CStr) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    // SAFETY: `s` is NUL-terminated and `out` has room for an in_addr.
    let r = unsafe { inet_pton(libc::AF_INET, s.as_ptr(), out.as_mut_ptr() as *mut c_void) };
    (r == 1).then_some(out)
}

/// `inet_pton(3)` for AF_INET6: an IPv6 literal without brackets, or `None`.
#[cfg(test)]
pub fn inet_pton6(s: &CStr) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    // SAFETY: `s` is NUL-terminated and `out` has room for an in6_addr.
    let r = unsafe { inet_pton(libc::AF_INET6, s.as_ptr(), out.as_mut_ptr() as *mut c_void) };
    (r == 1).then_some(out)
}

/// Makes sure descriptors 0, 1 and 2 are open, as C libraries do for
/// set-id programs: one `poll` on the three, and `/dev/null` opened in
/// place of any that is not (the lowest free descriptor is the one
/// missing). Without it, a runtime started with stderr closed would get
/// its socket as descriptor 2, and every log line, its own or a handler's
/// `printf`, would be written into the HTTP stream.
pub fn open_stdio() -> Result<(), Errno> {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd { fd, events: 0, revents: 0 });
    // A zero timeout never blocks.
    ret(poll(&mut fds, 0))?;
    for p in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
        // Not close-on-exec: these are the standard descriptors of anything
        // a handler starts, too.
        let fd = open(c"/dev/null", libc::O_RDWR)?;
        if fd != p.fd as usize {
            return Err(Errno(libc::EBADF));
        }
    }
    Ok(())
}

/// A socket that got descriptor 0, 1 or 2 (a handler closed its standard
/// descriptors, and the runtime had to reconnect) moved above them, with
/// `/dev/null` put back in their place ([`open_stdio`]): otherwise every
/// log line, the runtime's or a handler's `printf`, would be written into
/// the HTTP stream. Costs nothing unless it happens.
#[cold]
fn above_stdio(fd: OwnedFd) -> Result<OwnedFd, Errno> {
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) on a descriptor we own makes a new
    // one, numbered 3 or more, that we then own.
    let high = OwnedFd(ret(unsafe { syscall!(libc::SYS_fcntl, fd.0, libc::F_DUPFD_CLOEXEC, 3) })? as c_int);
    drop(fd);
    open_stdio()?;
    Ok(high)
}

/// `open(2)` for reading.
pub fn open_read(path: &CStr) -> Result<OwnedFd, Errno> {
    Ok(OwnedFd(open(path, libc::O_RDONLY | libc::O_CLOEXEC)? as c_int))
}

/// The `open` system call itself (`openat` where there is no `open`, as on
/// arm64), with flags that take no mode. Not musl's `open`, whose 146
/// bytes handle a mode argument and, after an `O_CLOEXEC` open, make a
/// second call, `fcntl(F_SETFD)`, for kernels older than 2.6.23, which
/// ignored the flag.
fn open(path: &CStr, flags: c_int) -> Result<usize, Errno> {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: path is NUL-terminated; these flags take no third argument.
    let r = unsafe { syscall!(libc::SYS_open, path.as_ptr(), flags) };
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: as above, relative to the working directory.
    let r = unsafe { syscall!(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), flags) };
    ret(r)
}

/// A UDP socket connected to `addr` (so that only its answers arrive).
pub fn udp_connect(addr: &SockAddr) -> Result<OwnedFd, Errno> {
    socket_to(addr, libc::SOCK_DGRAM)
}

/// `send(2)` of one datagram.
pub fn send(fd: &OwnedFd, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: buf is a live, readable slice.
    ret(unsafe { syscall!(libc::SYS_sendto, fd.0, buf.as_ptr(), buf.len(), libc::MSG_NOSIGNAL, 0usize, 0usize) })
}

/// `poll(2)` for input on one descriptor: whether it became readable within
/// `timeout_ms`.
pub fn poll_in(fd: &OwnedFd, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd { fd: fd.0, events: libc::POLLIN, revents: 0 };
    // SAFETY: p is one valid pollfd.
    poll(core::slice::from_mut(&mut p), timeout_ms) > 0
}

/// `poll(2)` on `fds` (`ppoll` where there is no `poll`, as on arm64): the
/// raw result.
fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> isize {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: fds is a live, writable array of fds.len() pollfd.
    return unsafe { syscall!(libc::SYS_poll, fds.as_mut_ptr(), fds.len(), timeout_ms) };
    #[cfg(not(target_arch = "x86_64"))]
    {
        // The kernel may write the time left into `ts`.
        let mut ts = libc::timespec { tv_sec: (timeout_ms / 1000) as _, tv_nsec: (timeout_ms % 1000 * 1_000_000) as _ };
        let ts = if timeout_ms < 0 { core::ptr::null_mut() } else { &mut ts as *mut libc::timespec };
        // SAFETY: as above; a null timeout waits without limit, a null
        // signal mask leaves the mask alone.
        unsafe { syscall!(libc::SYS_ppoll, fds.as_mut_ptr(), fds.len(), ts, 0, 8) }
    }
}

/// `socket(2)` + `setsockopt(TCP_NODELAY)` + `connect(2)`: a connected TCP
/// stream with Nagle's algorithm off (each request is one write that must
/// leave at once).
pub fn connect(addr: &SockAddr) -> Result<OwnedFd, Errno> {
    socket_to(addr, libc::SOCK_STREAM)
}

/// A socket of type `kind` (`SOCK_STREAM` or `SOCK_DGRAM`) connected to
/// `addr`; a stream with `TCP_NODELAY`. One body for [`connect`] and
/// [`udp_connect`].
fn socket_to(addr: &SockAddr, kind: c_int) -> Result<OwnedFd, Errno> {
    // The system call itself: musl's socket adds a fallback for kernels
    // without SOCK_CLOEXEC (before 2.6.27; about 130 bytes).
    // SAFETY: plain syscall with constant arguments.
    let fd = ret(unsafe { syscall!(libc::SYS_socket, addr.family, kind | libc::SOCK_CLOEXEC, 0) })?;
    let mut fd = OwnedFd(fd as c_int);
    if fd.0 <= 2 {
        fd = above_stdio(fd)?;
    }
    if kind == libc::SOCK_STREAM {
        let one: c_int = 1;
        // SAFETY: fd is an open socket; the option value is a c_int we own.
        let r = unsafe {
            syscall!(
                libc::SYS_setsockopt,
                fd.0,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                &one as *const c_int as *const c_void,
                size_of::<c_int>() as libc::socklen_t,
            )
        };
        ret(r)?;
    }
    loop {
        // SAFETY: storage holds an initialised address of `len` bytes.
        let r =
            unsafe { syscall!(libc::SYS_connect, fd.0, &addr.storage as *const _ as *const libc::sockaddr, addr.len) };
        match ret(r) {
            Ok(_) => return Ok(fd),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `sendmsg(2)` of `parts` with `MSG_NOSIGNAL`, repeated until all bytes
/// are written: one syscall in the usual case, and no SIGPIPE when the peer
/// has gone (the error comes back as `EPIPE` instead). Up to 16 non-empty
/// pieces go in each `sendmsg`; `parts` itself is left as it is, so a
/// caller can send the same pieces again.
pub fn send_all(fd: &OwnedFd, parts: &[&[u8]]) -> Result<(), Errno> {
    const MAX_IOV: usize = 16;
    // Bytes of `parts` already written.
    let mut done = 0usize;
    loop {
        // Only the first `n` are filled, and only they are read: clearing
        // all sixteen cost every request 32 stores.
        let mut iov = [const { MaybeUninit::<libc::iovec>::uninit() }; MAX_IOV];
        let (mut n, mut total, mut skip) = (0, 0, done);
        for p in parts.iter() {
            // Empty pieces and pieces already written are left out.
            if skip >= p.len() {
                skip -= p.len();
                continue;
            }
            let Some(slot) = iov.get_mut(n) else { break };
            let rest = p.get(skip..).unwrap_or_default();
            skip = 0;
            slot.write(libc::iovec { iov_base: rest.as_ptr() as *mut c_void, iov_len: rest.len() });
            n += 1;
            total += rest.len();
        }
        if n == 0 {
            return Ok(());
        }
        // SAFETY: an all-zero msghdr is valid; the fields set below point to
        // iov, which outlives the call.
        let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
        msg.msg_iov = iov.as_mut_ptr().cast();
        msg.msg_iovlen = n as _;
        // The system call itself: musl's sendmsg (263 bytes) copies the
        // header to clear padding fields this zeroed one has clear already,
        // and on every request: 40 instructions fewer per warm invocation.
        // SAFETY: msg points to the n iovecs written above, which describe
        // live, readable buffers.
        let r = unsafe { syscall!(libc::SYS_sendmsg, fd.0, &msg as *const libc::msghdr, libc::MSG_NOSIGNAL) };
        match ret(r) {
            Ok(sent) if sent == total && n < MAX_IOV => return Ok(()),
            // A short write, or more pieces than one sendmsg takes: send
            // the rest.
            Ok(sent) => done += sent,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The server side of TCP, for push mode (cargo feature `serve`): a
/// listening socket, connections accepted from it, a `poll` over them, and
/// the socket options they share.
#[cfg(feature = "serve")]
mod server {
    use super::*;

    /// `socket(2)` + `setsockopt(SO_REUSEADDR)` + `bind(2)` + `listen(2)`:
    /// a non-blocking TCP socket listening on `addr` (so that `accept`
    /// never waits), close-on-exec. `SO_REUSEADDR`, as every server sets
    /// it (Go's net.Listen does): a bootstrap restarted on the same port
    /// binds while the connections of the one before are in TIME_WAIT.
    pub fn listen(addr: &SockAddr, backlog: c_int) -> Result<OwnedFd, Errno> {
        let kind = libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
        // SAFETY: plain syscall with constant arguments.
        let fd = ret(unsafe { syscall!(libc::SYS_socket, addr.family, kind, 0) })?;
        let mut fd = OwnedFd(fd as c_int);
        if fd.0 <= 2 {
            fd = above_stdio(fd)?;
        }
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, &(1 as c_int))?;
        // SAFETY: storage holds an initialised address of `len` bytes.
        ret(unsafe { syscall!(libc::SYS_bind, fd.0, &addr.storage as *const _ as *const libc::sockaddr, addr.len) })?;
        // SAFETY: plain syscall on a socket we own.
        ret(unsafe { syscall!(libc::SYS_listen, fd.0, backlog) })?;
        Ok(fd)
    }

    /// `accept4(2)`: the next connection of `listener`, blocking,
    /// close-on-exec; `Err(Errno::AGAIN)` when none is waiting. It has the
    /// listener's socket options (Linux copies them to the connections it
    /// accepts: [`set_options`]).
    pub fn accept(listener: &OwnedFd) -> Result<OwnedFd, Errno> {
        loop {
            // SAFETY: no address is asked for (both pointers null).
            let r = unsafe { syscall!(libc::SYS_accept4, listener.0, 0usize, 0usize, libc::SOCK_CLOEXEC) };
            match ret(r) {
                // A connection reset while it waited in the queue.
                Err(Errno::INTR) | Err(Errno(libc::ECONNABORTED)) => continue,
                Err(e) => return Err(e),
                Ok(fd) if fd <= 2 => return above_stdio(OwnedFd(fd as c_int)),
                Ok(fd) => return Ok(OwnedFd(fd as c_int)),
            }
        }
    }

    /// Sets on `listener` what its connections inherit: `TCP_NODELAY`
    /// (each answer is one write that must leave at once; a `100
    /// Continue` and the answer after it would otherwise meet Nagle's
    /// algorithm and the client's delayed ACK), and receive and send
    /// timeouts of `recv_ms` and `send_ms` (a read or write that makes no
    /// progress for that long fails with `EAGAIN`). Three `setsockopt`
    /// calls once, rather than three per connection.
    pub fn set_options(listener: &OwnedFd, recv_ms: u64, send_ms: u64) -> Result<(), Errno> {
        let tv = |ms: u64| libc::timeval { tv_sec: (ms / 1000) as _, tv_usec: (ms % 1000 * 1000) as _ };
        setsockopt(listener, libc::IPPROTO_TCP, libc::TCP_NODELAY, &(1 as c_int))?;
        setsockopt(listener, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv(recv_ms))?;
        setsockopt(listener, libc::SOL_SOCKET, libc::SO_SNDTIMEO, &tv(send_ms))
    }

    /// `setsockopt(2)` of the value `v`.
    fn setsockopt<T>(fd: &OwnedFd, level: c_int, name: c_int, v: &T) -> Result<(), Errno> {
        // SAFETY: fd is an open socket; the option value is a `T` we
        // borrow, of the size passed.
        let r = unsafe {
            syscall!(libc::SYS_setsockopt, fd.0, level, name, v as *const T as *const c_void, size_of::<T>())
        };
        ret(r).map(drop)
    }

    /// `shutdown(2)` of the sending side: the peer reads the end of the
    /// stream after what was sent, and the socket can still be read.
    pub fn shutdown_write(fd: &OwnedFd) {
        // SAFETY: plain syscall on a socket we own.
        unsafe { syscall!(libc::SYS_shutdown, fd.0, libc::SHUT_WR) };
    }

    /// The server's first receive and send memory (8 and 4 KiB): `.bss`,
    /// so no bytes in the file, no stack frame to probe on the way to
    /// listening, and no page touched before a request is served.
    static mut SERVER_MEMORY: ([MaybeUninit<u8>; 8 << 10], [MaybeUninit<u8>; 4 << 10]) =
        ([MaybeUninit::uninit(); 8 << 10], [MaybeUninit::uninit(); 4 << 10]);
    static SERVER_MEMORY_TAKEN: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

    /// [`SERVER_MEMORY`], to the first caller; later ones get none (and
    /// their buffers start on the heap).
    pub fn server_memory() -> (&'static mut [MaybeUninit<u8>], &'static mut [MaybeUninit<u8>]) {
        if SERVER_MEMORY_TAKEN.swap(true, core::sync::atomic::Ordering::Relaxed) {
            return (&mut [], &mut []);
        }
        // SAFETY: the flag, set once and never cleared, lets only this one
        // call make a reference to the static, which nothing else names.
        let (rx, tx) = unsafe { &mut *core::ptr::addr_of_mut!(SERVER_MEMORY) };
        (rx, tx)
    }

    /// The most connections [`poll_readable`] watches besides the listener.
    pub const MAX_POLLED: usize = 63;

    /// `poll(2)` for input on `listener` and each open connection of
    /// `conns` (the first [`MAX_POLLED`]), without a time limit: which are
    /// readable (or closed, or failed), as a mask: bit 0 the listener, bit
    /// `i + 1` `conns[i]`. An interrupted call is an empty mask. The caller
    /// passes the slots in use (`conns` ends where no open one follows):
    /// only those are set up and read back.
    #[inline(never)]
    pub fn poll_readable(listener: &OwnedFd, conns: &[Option<OwnedFd>]) -> u64 {
        let conns = conns.get(..MAX_POLLED).unwrap_or(conns);
        let n = conns.len() + 1;
        // Only the first n are written and handed over: setting up all of
        // them took more instructions than the rest of the call.
        let mut fds = [const { MaybeUninit::<libc::pollfd>::uninit() }; MAX_POLLED + 1];
        let on = |fd: Option<&OwnedFd>| match fd {
            Some(fd) => libc::pollfd { fd: fd.0, events: libc::POLLIN, revents: 0 },
            // A negative descriptor is skipped by the kernel.
            None => libc::pollfd { fd: -1, events: 0, revents: 0 },
        };
        let all = core::iter::once(Some(listener)).chain(conns.iter().map(Option::as_ref));
        for (p, fd) in fds.iter_mut().zip(all) {
            p.write(on(fd));
        }
        // SAFETY: the loop wrote the first n entries (n <= MAX_POLLED + 1:
        // one for the listener, one for each of at most MAX_POLLED conns),
        // and pollfd has no invalid bit patterns once written.
        let fds = unsafe { core::slice::from_raw_parts_mut(fds.as_mut_ptr().cast::<libc::pollfd>(), n) };
        if poll(fds, -1) <= 0 {
            return 0;
        }
        fds.iter().enumerate().filter(|(_, p)| p.revents != 0).fold(0, |m, (i, _)| m | 1 << i)
    }
}
#[cfg(feature = "serve")]
pub use server::*;

/// Moves `s[from..]` to the front of `s` (a `memmove`); nothing if `from`
/// is past the end. What `s.copy_within(from.., 0)` does, without its
/// range checks, which at opt-level z are an out-of-line call that can
/// panic (and links in the panic's number formatting).
pub fn shift_down(s: &mut [u8], from: usize) {
    if let Some(count) = s.len().checked_sub(from) {
        let p = s.as_mut_ptr();
        // SAFETY: both ranges, `from..from + count` and `0..count`, lie
        // within `s`, which is borrowed mutably; `copy` allows overlap.
        unsafe { core::ptr::copy(p.add(from), p, count) };
    }
}

/// `read(2)` into `buf`, retried on `EINTR`. `Ok(0)` is end of stream.
pub fn read(fd: &OwnedFd, buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        // SAFETY: buf is a live, writable slice of buf.len() bytes.
        let r = unsafe { syscall!(libc::SYS_read, fd.0, buf.as_mut_ptr(), buf.len()) };
        match ret(r) {
            Err(Errno::INTR) => continue,
            other => return other,
        }
    }
}

/// Writes `parts` (at most eight) to standard error with one `writev(2)`.
/// A blocking write to a pipe or file completes in full; the result is
/// ignored, as there is nowhere left to report a failure to write a log.
pub fn write_stderr(parts: &[&[u8]]) {
    let mut iov = [const { MaybeUninit::<libc::iovec>::uninit() }; 8];
    for (v, p) in iov.iter_mut().zip(parts) {
        v.write(libc::iovec { iov_base: p.as_ptr() as *mut c_void, iov_len: p.len() });
    }
    // SAFETY: the first min(len, 8) iovecs, written above, describe live,
    // readable slices.
    unsafe { syscall!(libc::SYS_writev, 2, iov.as_ptr(), parts.len().min(8) as c_int) };
}

/// A variable's name and the field its value goes to (see [`getenv`]).
pub type EnvVar<'a> = (&'static [u8], &'a mut Option<&'static CStr>);

/// Looks up every variable of `vars` (the lists of one or more readers) in
/// the process environment, in one pass, where a `getenv(3)` per name
/// would scan it once each; as with `getenv`, the first definition of a
/// name counts. The values live as long as the process: nothing in this
/// program calls `setenv` or `putenv`.
///
/// An entry whose first byte starts no name is passed over at once (a
/// 64-bit set of first bytes); any other is read up to its `=`, and its
/// name then compared only with the names of its length ([`take`]), so
/// that names with a long common prefix (`SCF_RUNTIME_API`,
/// `SCF_RUNTIME_API_PORT`; `TENCENTCLOUD_*`) cost no more than others.
/// bench/'s environment (16 entries under valgrind) and 8 names take
/// 2,450 instructions, with the values' `strlen`; comparing each entry
/// from its first byte with every name that starts with it, up to the
/// first byte that differed, took 3,600.
pub fn getenv(vars: &mut [&mut [EnvVar]]) {
    let first = |b: u8| 1u64 << (b & 63);
    let mut starts = 0;
    for list in vars.iter() {
        for (name, _) in list.iter() {
            starts |= name.first().map_or(0, |&b| first(b));
        }
    }
    // SAFETY: musl sets `environ` before main to a NULL-terminated array of
    // NUL-terminated strings, which this program never modifies.
    let mut p = unsafe { ENVIRON };
    if p.is_null() {
        return;
    }
    loop {
        // SAFETY: p points into that array, at or before its NULL end.
        let entry = unsafe { *p } as *const u8;
        if entry.is_null() {
            return;
        }
        // SAFETY: an entry has at least its NUL.
        if starts & first(unsafe { *entry }) != 0 {
            // The name: the bytes before the first `=` (an entry without
            // one, reaching its NUL first, names nothing).
            let mut end = entry;
            let named = loop {
                // Letters and `_` first, in one comparison each: both stop
                // bytes, and the digits, are below them.
                // SAFETY: at or before the entry's NUL, as every byte
                // before `end` was found not to be the NUL.
                while unsafe { *end } > b'=' {
                    // SAFETY: not the NUL, so the next byte is the entry's.
                    end = unsafe { end.add(1) };
                }
                // SAFETY: as in the loop above.
                match unsafe { *end } {
                    b'=' => break true,
                    0 => break false,
                    // SAFETY: not the NUL, so the next byte is the entry's.
                    _ => end = unsafe { end.add(1) },
                }
            };
            if named {
                // SAFETY: the bytes before the `=` are the entry's.
                let name = unsafe { core::slice::from_raw_parts(entry, end.offset_from(entry) as usize) };
                // SAFETY: the value after the `=` ends at the entry's NUL,
                // and lives for the process (see above).
                take(vars, name, || unsafe { CStr::from_ptr(end.add(1) as *const c_char) });
            }
        }
        // SAFETY: the current slot was not the NULL terminator.
        p = unsafe { p.add(1) };
    }
}

/// Gives the environment variable `name` the value `value` makes, if it is
/// one of `vars` and has none yet: only a name of the same length is
/// compared, eight bytes at a time ([`same`]), and the value is measured
/// (`strlen`) only when taken.
fn take(vars: &mut [&mut [EnvVar]], name: &[u8], value: impl FnOnce() -> &'static CStr) {
    for list in vars.iter_mut() {
        for (want, field) in list.iter_mut() {
            if want.len() == name.len() && same(want, name) {
                if field.is_none() {
                    **field = Some(value());
                }
                return;
            }
        }
    }
}

/// Whether `a` and `b` (of one length) hold the same bytes: eight at a
/// time, the last eight overlapping the ones before where the length is
/// not a multiple of eight. (musl's `memcmp` compares byte by byte.)
pub fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n < 8 || b.len() != n {
        return a == b;
    }
    let word = |s: &[u8], i: usize| s.get(i..i + 8).and_then(|w| w.try_into().ok()).map_or(0, u64::from_ne_bytes);
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

/// The kernel's `struct sigaction` (x86_64 and arm64 alike; not libc's).
/// The system calls are made directly rather than through musl's
/// `sigaction`, which would add its bookkeeping for threads and an
/// `rt_sigprocmask` call: about 600 bytes and a syscall for nothing this
/// process needs.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SigAction {
    pub handler: usize,
    pub flags: u64,
    pub restorer: usize,
    pub mask: u64,
}

impl SigAction {
    /// The default action, `SIG_DFL`.
    pub const DEFAULT: SigAction = SigAction { handler: libc::SIG_DFL, flags: 0, restorer: 0, mask: 0 };

    /// An action that calls `handler` with `flags` (and the restorer that
    /// x86_64 needs), with the signals of `mask` blocked while it runs.
    pub fn new(handler: usize, flags: c_int, mask: u64) -> SigAction {
        SigAction { handler, flags: flags as u64 | SA_RESTORER_FLAG, restorer: restorer(), mask }
    }

    /// Whether the action calls a function (neither `SIG_DFL` nor `SIG_IGN`).
    pub fn calls(&self) -> bool {
        self.handler != libc::SIG_DFL && self.handler != libc::SIG_IGN
    }
}

/// `rt_sigaction(2)`: installs `new` (if given) for `sig`; returns the
/// action it replaced (with `None`, the current one).
///
/// # Safety
/// A handler in `new` must be an `extern "C"` function with the signature
/// its flags say (three arguments with `SA_SIGINFO`, else one), sound to
/// run whenever the signal arrives; an action read back from this function
/// is.
pub unsafe fn rt_sigaction(sig: c_int, new: Option<&SigAction>) -> SigAction {
    let mut old = SigAction::DEFAULT;
    let new = new.map_or(core::ptr::null(), |n| n as *const SigAction);
    // SAFETY: `new` is null or a valid action (the caller vouches for its
    // handler, and on x86_64 `SigAction::new` adds the restorer below);
    // `old` is writable; the mask is the kernel's 8 bytes.
    unsafe { syscall!(libc::SYS_rt_sigaction, sig, new, &mut old as *mut SigAction, 8) };
    old
}

// x86_64 requires a user-space restorer: the return address of a signal
// handler, which calls rt_sigreturn. arm64 uses the vDSO's when there is
// none.
#[cfg(target_arch = "x86_64")]
const SA_RESTORER_FLAG: u64 = 0x0400_0000;
#[cfg(target_arch = "x86_64")]
fn restorer() -> usize {
    restore_rt as unsafe extern "C" fn() as usize
}
#[cfg(not(target_arch = "x86_64"))]
const SA_RESTORER_FLAG: u64 = 0;
#[cfg(not(target_arch = "x86_64"))]
fn restorer() -> usize {
    0
}

/// The signal restorer: `rt_sigreturn(2)` with the frame the kernel built.
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
unsafe extern "C" fn restore_rt() {
    // SAFETY: only ever the return address of a signal handler, entered
    // with the kernel's signal frame at the stack pointer.
    core::arch::naked_asm!("mov eax, 15", "syscall")
}

/// `sigaltstack(2)`: makes `stack` the stack signal handlers installed
/// with `SA_ONSTACK` run on. Nothing else may use the memory (hence a
/// static's, for the process); a failure leaves handlers on the normal
/// stack.
pub fn sigaltstack(stack: &'static mut [u8]) {
    let ss = libc::stack_t { ss_sp: stack.as_mut_ptr().cast::<c_void>(), ss_flags: 0, ss_size: stack.len() };
    // SAFETY: ss describes memory borrowed mutably for the rest of the
    // process, which only the kernel's signal delivery uses from now on.
    unsafe { syscall!(libc::SYS_sigaltstack, &ss as *const libc::stack_t, 0usize) };
}

/// `getpid(2)`.
pub fn getpid() -> usize {
    // SAFETY: no arguments, no effects.
    (unsafe { syscall!(libc::SYS_getpid) }) as usize
}

/// `gettid(2)`.
pub fn gettid() -> usize {
    // SAFETY: no arguments, no effects.
    (unsafe { syscall!(libc::SYS_gettid) }) as usize
}

/// `tkill(2)`: sends `sig` to thread `tid` (of this process).
pub fn tkill(tid: usize, sig: c_int) {
    // SAFETY: a plain system call; what the signal does is the caller's.
    unsafe { syscall!(libc::SYS_tkill, tid, sig) };
}

/// `rt_sigprocmask(SIG_UNBLOCK)` of `sig` for this thread.
pub fn unblock(sig: c_int) {
    let set: u64 = 1 << (sig - 1);
    // SAFETY: the set is the kernel's 8 bytes; no old set is asked for.
    unsafe { syscall!(libc::SYS_rt_sigprocmask, libc::SIG_UNBLOCK, &set as *const u64, 0usize, 8) };
}

/// `exit_group(2)`: ends the process with `status`, at once (no atexit
/// handlers, no stdio flush).
pub fn exit_group(status: c_int) -> ! {
    // SAFETY: a plain system call that does not return.
    unsafe { syscall!(libc::SYS_exit_group, status) };
    // Not reached.
    loop {
        sleep_ms(1000);
    }
}

/// Whether [`catch_sigpipe`] has run.
static SIGPIPE_CAUGHT: AtomicBool = AtomicBool::new(false);

/// Makes a write to a pipe (or socket) whose reader has gone fail with
/// `EPIPE` instead of ending the process, as in a server: SIGPIPE, if it
/// is at its default action, gets a handler that does nothing. Process-wide,
/// so a handler's own writes (stdio, `write`) are covered too; sockets need
/// no help (every send here passes `MSG_NOSIGNAL`).
///
/// A caught signal rather than `SIG_IGN`: an ignored signal stays ignored
/// across `execve`, in every program a handler starts (`sh -c 'yes | head'`
/// would make `yes` fail with EPIPE instead of ending quietly), while a
/// caught one is reset to the default there. `SA_RESTART`, so that a
/// SIGPIPE sent with `kill` interrupts no system call. An action found
/// installed is put back: std ignores SIGPIPE before `main`, and a
/// handler's own choice wins.
///
/// One `rt_sigaction` the first time (two when an action is put back);
/// later calls cost a load. The crash reports' arming calls it, after ready
/// (before the init hook if there is one), and so does the first line the
/// runtime writes to stderr, for warnings before then.
pub fn catch_sigpipe() {
    if SIGPIPE_CAUGHT.swap(true, Ordering::Relaxed) {
        return;
    }
    let act = SigAction::new(ignore_signal as extern "C" fn(c_int) as usize, libc::SA_RESTART, 0);
    // SAFETY: ignore_signal does nothing, which is sound at any time.
    let old = unsafe { rt_sigaction(libc::SIGPIPE, Some(&act)) };
    if old.handler != libc::SIG_DFL {
        // SAFETY: an action read back from the kernel.
        unsafe { rt_sigaction(libc::SIGPIPE, Some(&old)) };
    }
}

extern "C" fn ignore_signal(_: c_int) {}

/// Milliseconds on `CLOCK_MONOTONIC`, for retry deadlines.
pub fn monotonic_ms() -> u64 {
    clock_ms(libc::CLOCK_MONOTONIC)
}

/// Milliseconds since the Unix epoch (`CLOCK_REALTIME`), for handler deadlines.
pub fn realtime_ms() -> u64 {
    clock_ms(libc::CLOCK_REALTIME)
}

fn clock_ms(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // The clock_gettime system call, not musl's vDSO path: the vDSO's first
    // use parses its ELF image (about 600 bytes of code and 700 instructions)
    // and faults in two more pages, all on the first invocation of a cold
    // start, to save a fraction of a microsecond on each warm one. Measured
    // with scripts/bench: 14 -> 12 page faults to the first response.
    // SAFETY: ts is a valid out parameter; both clocks always exist on Linux.
    unsafe { syscall!(libc::SYS_clock_gettime, clock, &mut ts as *mut libc::timespec) };
    (ts.tv_sec as u64).wrapping_mul(1000).wrapping_add(ts.tv_nsec as u64 / 1_000_000)
}

/// `nanosleep(2)` for `ms` milliseconds (an interrupted sleep is just shorter).
pub fn sleep_ms(ms: u64) {
    let ts = libc::timespec { tv_sec: (ms / 1000) as _, tv_nsec: ((ms % 1000) * 1_000_000) as _ };
    // The system call itself: musl's nanosleep goes through its
    // clock_nanosleep (about 140 bytes) to make this same call.
    // SAFETY: ts is valid; a null remainder pointer is allowed.
    unsafe { syscall!(libc::SYS_nanosleep, &ts as *const libc::timespec, core::ptr::null_mut::<libc::timespec>()) };
}

/// A growable byte buffer that starts in caller-provided memory (typically
/// on `main`'s stack, so the first requests cost no allocation and no
/// syscall) and moves to its own pages only when it must grow. It never shrinks:
/// once sized for the largest event seen, warm invocations reuse it.
pub struct Buf<'a> {
    ptr: NonNull<u8>,
    cap: usize,
    len: usize,
    heap: bool,
    _borrow: core::marker::PhantomData<&'a mut [u8]>,
}

impl<'a> Buf<'a> {
    /// A buffer that uses `initial` until more room is needed. The memory
    /// need not be initialised: a stack array of `MaybeUninit` costs no
    /// clearing and no page faults for pages never written.
    pub fn new(initial: &'a mut [MaybeUninit<u8>]) -> Buf<'a> {
        Buf {
            cap: initial.len(),
            ptr: NonNull::new(initial.as_mut_ptr() as *mut u8).unwrap_or(NonNull::dangling()),
            len: 0,
            heap: false,
            _borrow: core::marker::PhantomData,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> usize {
        self.cap
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: ptr is valid for cap >= len bytes, the first len initialised.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in as_slice, and &mut self makes the access exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// Reads once from `fd` into the free space past `len` and counts what
    /// arrived as filled; `Ok(0)` is end of stream.
    pub fn read_from(&mut self, fd: &OwnedFd) -> Result<usize, Errno> {
        loop {
            // SAFETY: [len, cap) lies inside the buffer's memory and is not
            // aliased; read(2) writes at most cap - len bytes there, and
            // only the n bytes it reports are then counted as initialised.
            let r = unsafe { syscall!(libc::SYS_read, fd.0, self.ptr.as_ptr().add(self.len), self.cap - self.len) };
            match ret(r) {
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e),
                Ok(n) => {
                    self.len += n;
                    return Ok(n);
                }
            }
        }
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Removes the first `n` bytes, moving the rest to the front.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        // Usually nothing is left over (a response was read to its end), or
        // nothing is consumed: no move.
        if n != 0 && n != self.len {
            shift_down(self.as_mut_slice(), n);
        }
        self.len -= n;
    }

    /// Makes room for at least `additional` more bytes past `len`, growing
    /// (if it must) to the next power of two: for data that arrives in
    /// pieces of unknown total.
    pub fn reserve(&mut self, additional: usize) -> Result<(), Errno> {
        let need = self.len.checked_add(additional).ok_or(Errno::NOMEM)?;
        if need <= self.cap {
            return Ok(());
        }
        self.grow(need, usize::MAX)
    }

    /// Makes room for exactly `additional` more bytes past `len` (rounded up
    /// to whole pages), for data whose size is known in advance: a body
    /// with a `Content-Length` is read straight into memory of its size.
    pub fn reserve_exact(&mut self, additional: usize) -> Result<(), Errno> {
        let need = self.len.checked_add(additional).ok_or(Errno::NOMEM)?;
        if need <= self.cap {
            return Ok(());
        }
        self.grow(need, need)
    }

    /// Moves to a bigger block of whole pages: the next power of two at or
    /// above `need`, but not past `limit` (when `need` is within it), and
    /// at least 64 KiB (small events that outgrow the stack then share one
    /// growth). The
    /// buffer's memory comes straight from `mmap` and grows with `mremap`
    /// (which moves pages instead of copying bytes), so the runtime never
    /// links a `malloc`: the allocator would be the largest thing in the
    /// binary, for a path taken only when an event is bigger than any
    /// before it.
    #[cold]
    fn grow(&mut self, need: usize, limit: usize) -> Result<(), Errno> {
        const PAGE: usize = 4096;
        let cap = need.checked_next_power_of_two().ok_or(Errno::NOMEM)?.min(limit).max(need).max(64 << 10);
        let cap = cap.checked_add(PAGE - 1).ok_or(Errno::NOMEM)? & !(PAGE - 1);
        // The system calls themselves: musl's mmap and mremap wrappers
        // (about 340 bytes) add argument checks and a wait for MAP_FIXED
        // that these calls, with sizes bounded above, do not need.
        let p = if self.heap {
            // SAFETY: ptr/cap describe a live mapping made by this type;
            // MREMAP_MAYMOVE lets the kernel move it, and we adopt the result.
            ret(unsafe { syscall!(libc::SYS_mremap, self.ptr.as_ptr(), self.cap, cap, libc::MREMAP_MAYMOVE) })
        } else {
            // SAFETY: a fresh private anonymous mapping; checked below.
            let p = ret(unsafe {
                syscall!(
                    libc::SYS_mmap,
                    core::ptr::null_mut::<c_void>(),
                    cap,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1 as c_int,
                    0 as libc::off_t
                )
            });
            if let Ok(p) = p {
                // SAFETY: the new mapping has cap > len bytes; the old memory
                // holds len initialised bytes; the two cannot overlap.
                unsafe { core::ptr::copy_nonoverlapping(self.ptr.as_ptr(), p as *mut u8, self.len) };
            }
            p
        };
        let p = p.map_err(|_| Errno::NOMEM)?;
        self.ptr = NonNull::new(p as *mut u8).ok_or(Errno::NOMEM)?;
        self.cap = cap;
        self.heap = true;
        Ok(())
    }

    /// Appends `data`.
    pub fn extend(&mut self, data: &[u8]) -> Result<(), Errno> {
        self.extend_within(data, usize::MAX)
    }

    /// Appends `data`, growing to no more than `limit` bytes when the
    /// result fits in it (a response body never needs more than SCF's
    /// limit, so a 6 MB one takes 6 MiB rather than 8). Inlined into its
    /// two callers (the handler's writes and [`Buf::extend`]): a call per
    /// write cost the warm SCF invocation 69 instructions, for 16 bytes.
    #[inline(always)]
    pub fn extend_within(&mut self, data: &[u8], limit: usize) -> Result<(), Errno> {
        // No overflow: len <= cap and data.len() are both sizes of memory
        // that exists, each at most isize::MAX.
        if data.len() > self.cap - self.len {
            self.grow(self.len + data.len(), limit)?;
        }
        // SAFETY: there is room for data.len() bytes past len (above); data is a
        // separate, borrowed slice, so the ranges cannot overlap.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.as_ptr().add(self.len), data.len()) };
        self.len += data.len();
        Ok(())
    }
}

impl Drop for Buf<'_> {
    fn drop(&mut self) {
        if self.heap {
            // SAFETY: ptr/cap describe a mapping made by grow, unmapped once.
            unsafe { syscall!(libc::SYS_munmap, self.ptr.as_ptr(), self.cap) };
        }
    }
}

// (After every other impl of this module: an impl's place among them is
// part of its items' symbol hashes, so an impl added earlier would reorder
// the zip build's functions, which must stay byte for byte what they were
// without push mode.)
/// The program's arguments after its name, as much of them as the
/// runtime reads: how many there are, and the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Args {
    count: usize,
    /// INVARIANT: null, or a NUL-terminated string that lives, unchanged,
    /// as long as the process (both constructors' contracts). Read only
    /// when asked for, so that a build that never asks (the zip build
    /// ignores its arguments) has no code for it.
    first: *const c_char,
}

impl Args {
    /// The arguments C `main` was given.
    ///
    /// # Safety
    /// `argv` must point to `argc` pointers to NUL-terminated strings
    /// (`argv[0]` the program's name) that stay valid and unchanged for the
    /// rest of the process, as the C start-up's arguments to `main` do.
    pub unsafe fn from_main(argc: c_int, argv: *const *const c_char) -> Args {
        let count = (argc.max(1) - 1) as usize;
        let first = match count {
            0 => core::ptr::null(),
            // SAFETY: argv[1] exists (argc >= 2) (the caller's contract).
            _ => unsafe { *argv.add(1) },
        };
        Args { count, first }
    }

    /// Arguments read otherwise (std's `env::args_os`): `count` after the
    /// name, the first of them `first`.
    pub fn new(count: usize, first: Option<&'static CStr>) -> Args {
        Args { count, first: first.map_or(core::ptr::null(), CStr::as_ptr) }
    }

    /// How many arguments follow the program's name.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The first argument after the program's name. (Push mode's only:
    /// compiled without it, the zip build lays out its functions exactly
    /// as before push mode.)
    #[cfg(feature = "serve")]
    pub fn first(&self) -> Option<&'static [u8]> {
        // SAFETY: non-null, it is a NUL-terminated string for the process's
        // life (the field's invariant).
        (!self.first.is_null()).then(|| unsafe { CStr::from_ptr(self.first) }.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_down_moves_the_tail_to_the_front() {
        for (from, want) in [(0, [1, 2, 3, 4, 5]), (2, [3, 4, 5, 4, 5]), (4, [5, 2, 3, 4, 5]), (5, [1, 2, 3, 4, 5])] {
            let mut s = [1, 2, 3, 4, 5];
            shift_down(&mut s, from);
            assert_eq!(s, want, "{from}");
        }
        let mut s = [1, 2];
        shift_down(&mut s, 3);
        assert_eq!(s, [1, 2]);
    }

    #[test]
    fn buf_starts_in_caller_memory_then_moves_to_heap() {
        let mut init = [MaybeUninit::uninit(); 8];
        let mut b = Buf::new(&mut init);
        b.extend(b"abcdefgh").unwrap();
        assert_eq!(b.capacity(), 8);
        b.extend(b"ij").unwrap();
        assert!(b.capacity() >= 64 << 10);
        assert_eq!(b.as_slice(), b"abcdefghij");
        b.consume(0);
        assert_eq!(b.as_slice(), b"abcdefghij");
        b.consume(3);
        assert_eq!(b.as_slice(), b"defghij");
        b.consume(7);
        assert!(b.is_empty());
        b.extend(b"xy").unwrap();
        b.consume(100);
        assert!(b.is_empty());
    }

    #[test]
    fn send_all_and_read_over_a_socketpair() {
        let mut fds = [0; 2];
        // SAFETY: test-only; fds is a valid out array of two ints.
        assert_eq!(unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) }, 0);
        let (a, b) = (OwnedFd(fds[0]), OwnedFd(fds[1]));
        send_all(&a, &[b"head:", b"", b"body", b""]).unwrap();
        send_all(&a, &[b"", b"", b"", b"!"]).unwrap();
        let mut got = [0u8; 32];
        let mut n = 0;
        while n < 10 {
            n += read(&b, &mut got[n..]).unwrap();
        }
        assert_eq!(&got[..n], b"head:body!");
        drop(b);
        assert_eq!(send_all(&a, &[b"x", b"", b"", b""]), Err(Errno::PIPE));
    }

    /// More pieces than one `sendmsg` takes (16): the first call sends 16,
    /// and the rest must follow in order. Deterministic: blocking sockets,
    /// no timeout, a reader that drains everything.
    #[test]
    fn send_all_sends_more_pieces_than_one_sendmsg_takes() {
        let mut fds = [0; 2];
        // SAFETY: test-only; fds is a valid out array of two ints.
        assert_eq!(unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) }, 0);
        let (a, b) = (OwnedFd(fds[0]), OwnedFd(fds[1]));
        let parts: Vec<Vec<u8>> = (0..40u8).map(|i| vec![b'A' + i; 1 + usize::from(i) * 7]).collect();
        let want = parts.concat();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                match read(&b, &mut chunk).unwrap() {
                    0 => return got,
                    k => got.extend_from_slice(&chunk[..k]),
                }
            }
        });
        let pieces: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
        send_all(&a, &pieces).unwrap();
        drop(a);
        assert!(reader.join().unwrap() == want);
    }

    /// Four pieces far bigger than the socket buffers, over loopback TCP
    /// to a reader that drains 64 KiB every 5 ms: with a 100 ms send
    /// timeout, `sendmsg` returns after writing part of them (the reader
    /// needs over 300 ms for all), and the rest must follow in order. The
    /// timeout is 20 times the reader's pause, so only a reader stalled for
    /// 100 ms could make a call give up with nothing written (EAGAIN); the
    /// test before this one covers the same continuation deterministically.
    #[test]
    fn send_all_finishes_short_writes() {
        use std::os::fd::IntoRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let sender = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (receiver, _) = listener.accept().unwrap();
        sender.set_write_timeout(Some(std::time::Duration::from_millis(100))).unwrap();
        let a = OwnedFd(sender.into_raw_fd());
        let parts: Vec<Vec<u8>> = (0..4u8).map(|i| vec![b'a' + i; 1_000_000 + usize::from(i)]).collect();
        let want = parts.concat();
        let reader = std::thread::spawn(move || {
            let b = OwnedFd(receiver.into_raw_fd());
            let mut got = vec![0u8; want.len() + 1];
            let mut n = 0;
            loop {
                std::thread::sleep(std::time::Duration::from_millis(5));
                let end = (n + (64 << 10)).min(got.len());
                match read(&b, &mut got[n..end]).unwrap() {
                    0 => break,
                    k => n += k,
                }
            }
            assert!(got[..n] == want[..], "{n} bytes, {} wanted", want.len());
        });
        send_all(&a, &[&parts[0][..], &parts[1], &parts[2], &parts[3]]).unwrap();
        drop(a);
        reader.join().unwrap();
    }

    /// The first entry for a name counts; a name is matched in full;
    /// names sharing a long prefix are told apart.
    #[test]
    fn environment_entries_are_taken_by_whole_name() {
        let (mut api, mut port, mut handler) = (None, None, None);
        let entries: [(&[u8], &'static CStr); 8] = [
            (b"SCF_RUNTIME_API_PORTX", c"1"),
            (b"SCF_RUNTIME_API_PORT", c"9001"),
            (b"SCF_RUNTIME_AP", c"x"),
            (b"SCF_RUNTIME_API", c"127.0.0.1"),
            (b"SCF_RUNTIME_API", c"second"),
            (b"_HANDLER", c""),
            (b"_HANDLE", c"x"),
            (b"", c""),
        ];
        for (name, value) in entries {
            let mut a: [EnvVar; 2] = [(b"SCF_RUNTIME_API", &mut api), (b"SCF_RUNTIME_API_PORT", &mut port)];
            let mut b: [EnvVar; 1] = [(b"_HANDLER", &mut handler)];
            take(&mut [&mut a, &mut b], name, || value);
        }
        assert_eq!((api, port, handler), (Some(c"127.0.0.1"), Some(c"9001"), Some(c"")));
    }

    #[test]
    fn same_compares_every_byte_at_every_length() {
        for n in 0..40 {
            let a: Vec<u8> = (0..n as u8).collect();
            assert!(same(&a, &a.clone()), "{n}");
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x80;
                assert!(!same(&a, &b), "{n} {i}");
            }
        }
    }

    #[test]
    fn literals_parse_and_junk_does_not() {
        assert_eq!(inet_pton4(c"127.0.0.1"), Some([127, 0, 0, 1]));
        assert_eq!(inet_pton4(c"127.0.0"), None);
        assert_eq!(inet_pton6(c"::1").map(|a| a[15]), Some(1));
        assert_eq!(inet_pton6(c"[::1]"), None);
    }
}
