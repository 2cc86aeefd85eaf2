//! Host-name resolution for `SCF_RUNTIME_API` (cargo feature `resolve`):
//! `/etc/hosts`, then DNS over UDP to the name servers of
//! `/etc/resolv.conf`, for A and AAAA records.
//!
//! It replaces musl's `getaddrinfo`, which would bring stdio, `malloc`, a
//! sorting routine and a general resolver into the binary (about 28 KiB, as
//! much as the whole runtime) for a path that SCF, which passes an IP
//! address, never takes. What it supports is what a host name for a local
//! API needs: hosts-file entries; `nameserver` (up to three, tried in
//! order), `search`/`domain` and `options ndots: timeout: attempts:` as
//! glibc and musl read them; answers with CNAME chains. What it leaves out:
//! TCP fallback for truncated answers (an A/AAAA answer for one host fits in
//! 512 bytes), address sorting (IPv4 answers are tried first, then IPv6),
//! and IDN.
//!
//! The parsers are pure functions over bytes (unit-tested below); [`lookup`]
//! does the reads, sends and waits through [`crate::sys`].

use crate::diag::Arg;
use crate::sys::{self, Addrs, Errno, SockAddr};
use core::cell::Cell;
use core::ffi::CStr;

/// Why a name has no address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Neither /etc/hosts nor DNS knows it (NXDOMAIN, or no A/AAAA record).
    NotFound,
    /// No name server answered in time.
    NoAnswer,
    /// A name server answered with an error (SERVFAIL, REFUSED, ...).
    ServerFailure(u8),
    /// A socket call failed.
    Io(Errno),
}

impl Error {
    /// What the message says went wrong.
    pub fn describe(self) -> Arg<'static> {
        match self {
            Error::NotFound => Arg::Str("no address for it in /etc/hosts or DNS"),
            Error::NoAnswer => Arg::Str("no DNS server from /etc/resolv.conf answered"),
            Error::ServerFailure(_) => Arg::Str("the DNS server answered with an error"),
            Error::Io(e) => Arg::Errno(e),
        }
    }
}

/// Resolves `name` (a host name of at most 253 bytes, already checked to be
/// made of letters, digits, `.`, `-` and `_`) and appends its addresses to
/// `out`.
///
/// Out of line and cold: the only caller, the endpoint parsing of start-up,
/// takes this path only for a host name, never for SCF's IP literal, and
/// inlined there it made that function about 5.7 KB. Kept apart, the file
/// is 64 bytes smaller too (scripts/size, 2026-12-01).
#[cold]
#[inline(never)]
pub fn lookup(name: &[u8], port: u16, out: &mut Addrs) -> Result<(), Error> {
    let mut found = false;
    with_file_lines(c"/etc/hosts", |line| {
        if let Some(addr) = hosts_line(line, name) {
            if let Some(a) = parse_ip(addr, port) {
                found |= out.push(a);
            }
        }
    });
    if found {
        return Ok(());
    }

    let mut text = [0u8; 4096];
    let conf = Conf::parse(read_file(c"/etc/resolv.conf", &mut text));
    let mut fqdn = [0u8; 256];
    let mut last = Error::NotFound;
    for candidate in conf.candidates(name) {
        let Some(len) = candidate.write(name, &mut fqdn) else { continue };
        match query_servers(&conf, &fqdn[..len], port, out) {
            Ok(()) => return Ok(()),
            Err(Error::NotFound) => {}
            // A server failure or silence for one candidate is kept, but the
            // other candidates are still tried, as other resolvers do.
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Asks each name server in turn, `attempts` rounds, for A and AAAA.
fn query_servers(conf: &Conf, fqdn: &[u8], port: u16, out: &mut Addrs) -> Result<(), Error> {
    let mut query = [0u8; 300];
    let id = (sys::realtime_ms() as u16) | 1;
    let mut failure = Error::NoAnswer;
    for _ in 0..conf.attempts {
        for server in conf.servers() {
            let Some(addr) = parse_ip(server, 53) else { continue };
            let fd = match sys::udp_connect(&addr) {
                Ok(fd) => fd,
                Err(e) => {
                    failure = Error::Io(e);
                    continue;
                }
            };
            // Two queries, ids `id` (A) and `id + 1` (AAAA); wait for both.
            let mut pending = 0u8;
            for (i, qtype) in [(0u16, 1u16), (1, 28)] {
                let sent = build_query(&mut query, id.wrapping_add(i), fqdn, qtype).map(|q| sys::send(&fd, q));
                if let Some(Ok(_)) = sent {
                    pending |= 1 << i;
                }
            }
            let deadline = sys::monotonic_ms() + u64::from(conf.timeout_s) * 1000;
            let (mut got, mut refused) = (false, None);
            let mut packet = [0u8; 1500];
            while pending != 0 {
                let now = sys::monotonic_ms();
                if now >= deadline || !sys::poll_in(&fd, (deadline - now) as i32) {
                    break;
                }
                // One datagram per read on a UDP socket.
                let Ok(n) = sys::read(&fd, &mut packet) else { break };
                let datagram = packet.get(..n).unwrap_or_default();
                for i in 0..2u16 {
                    if pending & (1 << i) != 0 {
                        if let Ok(rcode) =
                            parse_answer(datagram, id.wrapping_add(i), |a| got |= out.push(a.with_port(port)))
                        {
                            pending &= !(1 << i);
                            // 0: no error; 3: no such name. Anything else is
                            // this server's failure.
                            if rcode != 0 && rcode != 3 {
                                refused = Some(rcode);
                            }
                        }
                    }
                }
            }
            if got {
                return Ok(());
            }
            match (pending, refused) {
                // Both answered, without an address: the name has none.
                (0, None) => return Err(Error::NotFound),
                (_, Some(rcode)) => failure = Error::ServerFailure(rcode),
                _ => {}
            }
        }
    }
    Err(failure)
}

/// Calls `each` with every line of the file at `path` (without the line
/// end), reading through a fixed buffer. A missing file has no lines; a
/// line longer than the buffer is skipped.
fn with_file_lines(path: &CStr, mut each: impl FnMut(&[u8])) {
    let Ok(fd) = sys::open_read(path) else { return };
    let mut buf = [0u8; 4096];
    let (mut have, mut skipping) = (0, false);
    loop {
        let Some(room) = buf.get_mut(have..) else { return };
        let n = match sys::read(&fd, room) {
            Ok(n) => n,
            Err(_) => return,
        };
        have += n;
        let Some(filled) = buf.get(..have) else { return };
        // The complete lines, then what follows the last line end (the
        // whole text when there is none).
        let mut pieces = filled.split(|&b| b == b'\n');
        let partial = pieces.next_back().unwrap_or_default();
        for line in pieces {
            if !skipping {
                each(line);
            }
            skipping = false;
        }
        if n == 0 {
            if !skipping && !partial.is_empty() {
                each(partial);
            }
            return;
        }
        let keep = partial.len();
        if keep == buf.len() {
            skipping = true;
            have = 0;
        } else {
            // The partial line moves to the front, byte by byte forward
            // (the two ranges may overlap), through cells: no index to check.
            // The stale bytes after it move along (a `take(keep)` costs 96
            // bytes of code to save copying at most 4 KiB once per read).
            let cells = Cell::from_mut(buf.as_mut_slice()).as_slice_of_cells();
            let from = cells.iter().skip(have - keep);
            cells.iter().zip(from).for_each(|(d, s)| d.set(s.get()));
            have = keep;
        }
    }
}

/// Reads up to `buf.len()` bytes of a small file; 0 if it cannot be read.
fn read_file<'b>(path: &CStr, buf: &'b mut [u8]) -> &'b [u8] {
    let Ok(fd) = sys::open_read(path) else { return &[] };
    let mut have = 0;
    while let Some(room @ [_, ..]) = buf.get_mut(have..) {
        match sys::read(&fd, room) {
            Ok(0) | Err(_) => break,
            Ok(n) => have += n,
        }
    }
    buf.get(..have).unwrap_or_default()
}

/// An IPv4 or IPv6 literal (no brackets, no zone) as a socket address.
fn parse_ip(text: &[u8], port: u16) -> Option<SockAddr> {
    match crate::text::parse_ipv4(text) {
        Some(a) => Some(SockAddr::v4(a, port)),
        None => crate::text::parse_ipv6(text).map(|a| SockAddr::v6(a, port)),
    }
}

/// The words of `line`, between blanks (space, tab, carriage return).
fn words(line: &[u8]) -> Words<'_> {
    Words(line)
}

/// The iterator of [`words`]; what it holds is the text not yet split.
struct Words<'a>(&'a [u8]);

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
        let start = self.0.iter().position(|b| !blank(b))?;
        let rest = self.0.get(start..)?;
        let end = rest.iter().position(blank).unwrap_or(rest.len());
        let (word, after) = rest.split_at_checked(end)?;
        self.0 = after;
        Some(word)
    }
}

/// For one /etc/hosts line: its address if one of its names is `name`
/// (case-insensitively).
pub fn hosts_line<'a>(line: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let line = line.split(|&b| b == b'#').next().unwrap_or(line);
    let mut w = words(line);
    let addr = w.next()?;
    w.any(|n| n.eq_ignore_ascii_case(name)).then_some(addr)
}

/// What /etc/resolv.conf says, borrowing from its text.
pub struct Conf<'a> {
    servers: [&'a [u8]; 3],
    n_servers: usize,
    /// The last `search` or `domain` line's list.
    search: &'a [u8],
    ndots: usize,
    timeout_s: u32,
    attempts: u32,
}

impl<'a> Conf<'a> {
    pub fn parse(text: &'a [u8]) -> Conf<'a> {
        let mut c = Conf { servers: [b""; 3], n_servers: 0, search: b"", ndots: 1, timeout_s: 5, attempts: 2 };
        // The keywords, looked up in a table: one comparison loop instead
        // of each spelled out byte by byte (48 bytes smaller).
        const KEYS: [&[u8]; 4] = [b"nameserver", b"search", b"domain", b"options"];
        for line in text.split(|&b| b == b'\n') {
            let mut w = words(line);
            let key = w.next().and_then(|k| KEYS.iter().position(|&key| key == k));
            match key {
                Some(0) => {
                    if let (Some(s), Some(slot)) = (w.next(), c.servers.get_mut(c.n_servers)) {
                        *slot = s;
                        c.n_servers += 1;
                    }
                }
                // The rest of the line is the list (`words` skips its blanks).
                Some(1 | 2) => c.search = w.0,
                Some(_) => {
                    for opt in w {
                        let num = |p: &[u8]| opt.strip_prefix(p).and_then(crate::text::parse_decimal);
                        if let Some(n) = num(b"ndots:") {
                            c.ndots = n.min(15) as usize;
                        } else if let Some(n) = num(b"timeout:") {
                            c.timeout_s = n.clamp(1, 30) as u32;
                        } else if let Some(n) = num(b"attempts:") {
                            c.attempts = n.clamp(1, 5) as u32;
                        }
                    }
                }
                None => {}
            }
        }
        c
    }

    /// The name servers; 127.0.0.1 when the file names none.
    fn servers(&self) -> impl Iterator<Item = &[u8]> {
        let list: &[&[u8]] = match self.servers.get(..self.n_servers) {
            Some(named @ [_, ..]) => named,
            _ => &[b"127.0.0.1"],
        };
        list.iter().copied()
    }

    /// The names to ask for, in order: the name as given first when it has
    /// at least `ndots` dots (or ends with one), otherwise after the search
    /// domains.
    pub fn candidates(&self, name: &'a [u8]) -> impl Iterator<Item = Candidate<'a>> + 'a {
        let absolute = name.last() == Some(&b'.');
        let dots = name.iter().filter(|&&b| b == b'.').count();
        let first = absolute || dots >= self.ndots;
        let mut domains = words(if absolute { b"" } else { self.search }).take(6);
        // Whether the name as is has yet to be given.
        let mut as_is = true;
        core::iter::from_fn(move || {
            if !(first && as_is) {
                if let Some(d) = domains.next() {
                    return Some(Candidate::Search(d));
                }
            }
            as_is.then(|| {
                as_is = false;
                Candidate::AsIs
            })
        })
    }
}

/// One name to ask DNS for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Candidate<'a> {
    AsIs,
    Search(&'a [u8]),
}

impl Candidate<'_> {
    /// Writes the full name (no trailing dot) to `out`; `None` if over 253
    /// bytes.
    pub fn write(&self, name: &[u8], out: &mut [u8; 256]) -> Option<usize> {
        let name = name.strip_suffix(b".").unwrap_or(name);
        let total = out.len();
        let mut rest: &mut [u8] = out;
        put(&mut rest, name)?;
        if let Candidate::Search(d) = self {
            put(&mut rest, b".")?;
            put(&mut rest, d.strip_suffix(b".").unwrap_or(d))?;
        }
        let len = total - rest.len();
        (len <= 253).then_some(len)
    }
}

/// Writes a recursive query for `name`, of type `qtype`, class IN, to `out`
/// and returns it; `None` if it does not fit (never for a name of at most
/// 253 bytes).
pub fn build_query<'q>(out: &'q mut [u8; 300], id: u16, name: &[u8], qtype: u16) -> Option<&'q [u8]> {
    let ([i0, i1], [t0, t1]) = (id.to_be_bytes(), qtype.to_be_bytes());
    let mut rest: &mut [u8] = out;
    put(&mut rest, &[i0, i1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])?;
    // Each label (a dot-separated part; empty ones skipped, long ones cut
    // to 63 bytes) after its length byte.
    for label in name.split(|&b| b == b'.').filter(|l| !l.is_empty()) {
        let label = label.get(..63).unwrap_or(label);
        put(&mut rest, &[label.len() as u8])?;
        put(&mut rest, label)?;
    }
    put(&mut rest, &[0, t0, t1, 0, 1])?;
    let len = 300 - rest.len();
    out.get(..len)
}

/// Writes `bytes` at the front of `rest` and moves `rest` past them; `None`
/// (nothing written) if they do not fit.
fn put(rest: &mut &mut [u8], bytes: &[u8]) -> Option<()> {
    let (head, tail) = core::mem::take(rest).split_at_mut_checked(bytes.len())?;
    // A zip, not `copy_from_slice`: no length check that could panic.
    head.iter_mut().zip(bytes).for_each(|(d, &b)| *d = b);
    *rest = tail;
    Some(())
}

/// A DNS response that cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadPacket;

/// Reads a response to query `id`: calls `each` with every A or AAAA
/// address in its answer section (port 0) and returns the RCODE.
pub fn parse_answer(p: &[u8], id: u16, mut each: impl FnMut(SockAddr)) -> Result<u8, BadPacket> {
    let u16_at = |i: usize| -> Result<u16, BadPacket> {
        match p.get(i..i + 2) {
            Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
            _ => Err(BadPacket),
        }
    };
    if p.len() < 12 || u16_at(0)? != id || p[2] & 0x80 == 0 {
        return Err(BadPacket);
    }
    let rcode = p[3] & 0x0f;
    let (qd, an) = (u16_at(4)?, u16_at(6)?);
    let mut i = 12;
    for _ in 0..qd {
        i = skip_name(p, i)? + 4;
    }
    for _ in 0..an {
        i = skip_name(p, i)?;
        let (rtype, class, len) = (u16_at(i)?, u16_at(i + 2)?, usize::from(u16_at(i + 8)?));
        let data = p.get(i + 10..i + 10 + len).ok_or(BadPacket)?;
        match (rtype, class, data.len()) {
            (1, 1, 4) => each(SockAddr::v4([data[0], data[1], data[2], data[3]], 0)),
            (28, 1, 16) => {
                let mut a = [0u8; 16];
                a.copy_from_slice(data);
                each(SockAddr::v6(a, 0));
            }
            _ => {} // CNAME and others: the chain's addresses follow
        }
        i += 10 + len;
    }
    Ok(rcode)
}

/// The index just past the (possibly compressed) name at `i`.
fn skip_name(p: &[u8], mut i: usize) -> Result<usize, BadPacket> {
    loop {
        let len = *p.get(i).ok_or(BadPacket)?;
        match len {
            0 => return Ok(i + 1),
            l if l & 0xc0 == 0xc0 => return if i + 2 <= p.len() { Ok(i + 2) } else { Err(BadPacket) },
            l if l & 0xc0 != 0 => return Err(BadPacket),
            l => i += 1 + usize::from(l),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lines() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("127.0.0.1 localhost api", "api", Some("127.0.0.1")),
            ("127.0.0.1\tlocalhost\tAPI  # comment", "api", Some("127.0.0.1")),
            ("::1 ip6-localhost ip6-loopback", "ip6-loopback", Some("::1")),
            ("# 10.0.0.1 api", "api", None),
            ("10.0.0.1 apis", "api", None),
            ("10.0.0.1 api.example", "api", None),
            ("", "api", None),
            ("   ", "api", None),
            ("10.0.0.1 runtime-api\r", "runtime-api", Some("10.0.0.1")),
        ];
        for (line, name, want) in cases {
            assert_eq!(hosts_line(line.as_bytes(), name.as_bytes()), want.map(str::as_bytes), "{line:?}");
        }
    }

    #[test]
    fn resolv_conf() {
        let c = Conf::parse(
            b"# comment\nnameserver 10.0.0.2\nnameserver  ::1 \ndomain a.example\nsearch b.example c.example\n\
                              options ndots:2 timeout:1 attempts:3 rotate\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n",
        );
        let servers: Vec<&[u8]> = c.servers().collect();
        assert_eq!(servers, [&b"10.0.0.2"[..], b"::1", b"10.0.0.3"]);
        assert_eq!((c.ndots, c.timeout_s, c.attempts), (2, 1, 3));
        let names = |name: &'static str| -> Vec<String> {
            c.candidates(name.as_bytes())
                .map(|k| {
                    let mut out = [0u8; 256];
                    let n = k.write(name.as_bytes(), &mut out).unwrap();
                    String::from_utf8(out[..n].to_vec()).unwrap()
                })
                .collect()
        };
        assert_eq!(names("api"), ["api.b.example", "api.c.example", "api"]);
        assert_eq!(names("x.y.z"), ["x.y.z", "x.y.z.b.example", "x.y.z.c.example"]);
        assert_eq!(names("api."), ["api"]);
        let empty = Conf::parse(b"");
        assert_eq!(empty.servers().collect::<Vec<_>>(), [&b"127.0.0.1"[..]]);
        assert_eq!((empty.ndots, empty.timeout_s, empty.attempts), (1, 5, 2));
    }

    #[test]
    fn over_long_names_are_not_asked() {
        let long = [b'a'; 250];
        let mut out = [0u8; 256];
        assert_eq!(Candidate::AsIs.write(&long, &mut out), Some(250));
        assert_eq!(Candidate::Search(b"example.com").write(&long, &mut out), None);
    }

    #[test]
    fn file_lines_across_reads() {
        // Lines that straddle the 4096-byte reads, one longer than the
        // buffer (skipped), and a last line without its line end.
        let mut text = Vec::new();
        let mut want = Vec::new();
        for i in 0..120 {
            let line = format!("{i:03} {}", "y".repeat(i % 97));
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
            want.push(line.into_bytes());
        }
        text.extend_from_slice(&[b'z'; 5000]);
        text.push(b'\n');
        for line in ["after the long one", "", "last"] {
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
            want.push(line.as_bytes().to_vec());
        }
        text.pop();
        let path = std::env::temp_dir().join(format!("scf-bootstrap-lines-{}", std::process::id()));
        std::fs::write(&path, &text).unwrap();
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        let mut got = Vec::new();
        with_file_lines(&c, |l| got.push(l.to_vec()));
        std::fs::remove_file(&path).unwrap();
        assert!(text.len() > 2 * 4096);
        assert_eq!(got, want);
    }

    #[test]
    fn queries() {
        let mut q = [0u8; 300];
        let q1 = build_query(&mut q, 0xabcd, b"api.example", 28).unwrap();
        assert_eq!(q1, b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03api\x07example\x00\x00\x1c\x00\x01");
        // Empty labels are skipped, and a label is cut to 63 bytes.
        let q2 = build_query(&mut q, 1, b".a..bc.", 1).unwrap();
        assert_eq!(&q2[12..], b"\x01a\x02bc\x00\x00\x01\x00\x01");
        let long = [b'x'; 70];
        let q3 = build_query(&mut q, 1, &long, 1).unwrap();
        assert_eq!((q3[12], q3.len()), (63, 12 + 1 + 63 + 5));
    }

    fn answer(id: u16, rcode: u8, records: &[(u16, &[u8])]) -> Vec<u8> {
        let mut p = vec![(id >> 8) as u8, id as u8, 0x81, 0x80 | rcode, 0, 1, 0, records.len() as u8, 0, 0, 0, 0];
        p.extend_from_slice(b"\x03api\x07example\x00\x00\x01\x00\x01");
        for (t, data) in records {
            p.extend_from_slice(b"\xc0\x0c");
            p.extend_from_slice(&[(t >> 8) as u8, *t as u8, 0, 1, 0, 0, 0, 60, 0, data.len() as u8]);
            p.extend_from_slice(data);
        }
        p
    }

    fn addrs(p: &[u8], id: u16) -> Result<(u8, usize), BadPacket> {
        let mut n = 0;
        parse_answer(p, id, |_| n += 1).map(|r| (r, n))
    }

    #[test]
    fn answers() {
        let cname = b"\x03web\xc0\x10";
        let ok = answer(7, 0, &[(5, cname), (1, &[10, 0, 0, 9]), (28, &[0; 16]), (16, b"\x03txt")]);
        assert_eq!(addrs(&ok, 7), Ok((0, 2)));
        assert_eq!(addrs(&ok, 8), Err(BadPacket), "wrong id");
        assert_eq!(addrs(&answer(7, 3, &[]), 7), Ok((3, 0)));
        assert_eq!(addrs(&answer(7, 2, &[]), 7), Ok((2, 0)));
        // Every truncation of a valid answer is rejected or read without panic.
        for cut in 0..ok.len() {
            let _ = addrs(&ok[..cut], 7);
        }
        let mut query_not_answer = ok.clone();
        query_not_answer[2] = 0x01;
        assert_eq!(addrs(&query_not_answer, 7), Err(BadPacket));
        let mut bad_label = ok.clone();
        bad_label[12] = 0x80;
        assert_eq!(addrs(&bad_label, 7), Err(BadPacket));
    }
}
