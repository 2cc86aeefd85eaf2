//! Where a runtime API is: a host setting (an IP literal, `localhost`
//! or, with the `resolve` feature, a host name) turned into the addresses
//! to connect to, for whichever dialect's setting holds it.

#[cfg(doc)]
use crate::http::wire::Host;
use crate::http::wire::MAX_HOST;
use crate::sys::{Addrs, SockAddr};
use crate::text;

/// Why a host setting gives no address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    Empty,
    /// Longer than [`MAX_HOST`].
    TooLong,
    /// Bracketed, or with a `:`, but not an IPv6 literal.
    NotIpv6,
    /// Bytes no host name has.
    NotAHost,
    /// A host name, and this build has no resolver (feature `resolve`).
    #[cfg(not(feature = "resolve"))]
    NoResolver,
    /// A host name the resolver could not resolve.
    #[cfg(feature = "resolve")]
    Resolve(crate::resolve::Error),
}

/// A port number: 1 to 65535, digits only, no leading zero.
pub fn parse_port(pv: &[u8]) -> Option<u16> {
    let mut port: u32 = 0;
    for &d in pv {
        port = if d.is_ascii_digit() && port <= 65535 { port * 10 + u32::from(d - b'0') } else { u32::MAX };
    }
    if pv.first() == Some(&b'0') || !(1..=65535).contains(&port) {
        return None;
    }
    Some(port as u16)
}

/// The addresses of the host `value` (an IP literal is parsed by
/// [`text::parse_ipv4`] and [`text::parse_ipv6`]), and the host as it goes
/// in the Host header: whether it is IPv6 (and wants brackets) and the text
/// inside any brackets (see [`Host::new`]).
///
/// The unspecified addresses, `0.0.0.0` and `::`, are where a server
/// listens, not addresses: as a destination they mean this host (Linux
/// connects them to loopback itself; cargo-lambda hands out `[::]`), so
/// they become `127.0.0.1` and `::1`, in every build and for every setting.
pub fn host_addrs(value: &[u8], port: u16) -> Result<(Addrs, bool, &[u8]), Error> {
    if value.is_empty() {
        return Err(Error::Empty);
    }
    if value.len() > MAX_HOST {
        return Err(Error::TooLong);
    }
    let mut addrs = Addrs::new();
    let (inner, v6) = match value {
        [b'[', inner @ .., b']'] => (inner, true),
        // (memchr, linked already: core's `contains` on bytes is a search
        // of its own, 150 to 250 bytes more.)
        _ => (value, memchr::memchr(b':', value).is_some()),
    };
    if v6 {
        let mut a = text::parse_ipv6(inner).ok_or(Error::NotIpv6)?;
        if a == [0; 16] {
            a[15] = 1;
        }
        addrs.push(SockAddr::v6(a, port));
    } else if let Some(a) = text::parse_ipv4(value) {
        let a = if a == [0; 4] { [127, 0, 0, 1] } else { a };
        addrs.push(SockAddr::v4(a, port));
    } else if value.eq_ignore_ascii_case(b"localhost") {
        // Answered here rather than by the resolver: no /etc/hosts read on
        // the cold-start path, and it works without the `resolve` feature.
        addrs.push(SockAddr::v4([127, 0, 0, 1], port));
        addrs.push(SockAddr::v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], port));
    } else if !value.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_') {
        return Err(Error::NotAHost);
    } else {
        resolve(value, port, &mut addrs)?;
    }
    Ok((addrs, v6, inner))
}

#[cfg(feature = "resolve")]
fn resolve(host: &[u8], port: u16, addrs: &mut Addrs) -> Result<(), Error> {
    crate::resolve::lookup(host, port, addrs).map_err(Error::Resolve)
}

#[cfg(not(feature = "resolve"))]
fn resolve(_host: &[u8], _port: u16, _addrs: &mut Addrs) -> Result<(), Error> {
    Err(Error::NoResolver)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(value: &str) -> Option<std::net::SocketAddr> {
        host_addrs(value.as_bytes(), 9001).ok().and_then(|(a, ..)| a.iter().next().map(|a| a.to_std()))
    }

    /// The same in every build: SCF's parsing does not depend on the Lambda
    /// dialect being built in.
    #[test]
    fn unspecified_addresses_mean_this_host() {
        for (value, want) in [("0.0.0.0", "127.0.0.1:9001"), ("::", "[::1]:9001"), ("[::]", "[::1]:9001")] {
            assert_eq!(first(value).map(|a| a.to_string()).as_deref(), Some(want), "{value}");
        }
        assert_eq!(first("10.0.0.1").map(|a| a.to_string()).as_deref(), Some("10.0.0.1:9001"));
    }

    #[test]
    fn bad_hosts_say_why() {
        let err = |v: &str| host_addrs(v.as_bytes(), 1).map(|_| ()).unwrap_err();
        assert_eq!(err(""), Error::Empty);
        assert_eq!(err(&"a".repeat(256)), Error::TooLong);
        assert_eq!(err("[::g]"), Error::NotIpv6);
        assert_eq!(err("::1:9001:x"), Error::NotIpv6);
        assert_eq!(err("a b"), Error::NotAHost);
        #[cfg(not(feature = "resolve"))]
        assert_eq!(err("runtime.example"), Error::NoResolver);
    }
}
