//! Where the runtime API is: a host setting (an IP literal, `localhost`
//! or, with the `resolve` feature, a host name) turned into the addresses
//! to connect to, for both dialects' endpoint settings.

use crate::fatal::Fatal;
#[cfg(doc)]
use crate::http::wire::Host;
use crate::sys::{Addrs, SockAddr};
use crate::text;

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

/// The addresses of the runtime API's host `value` (the setting of `var`;
/// an IP literal is parsed by [`text::parse_ipv4`] and
/// [`text::parse_ipv6`]), and the host as it goes in the Host
/// header: whether it is IPv6 (and wants brackets) and the text inside any
/// brackets (see [`Host::new`]). `v6_hint` is the message for an IPv6
/// literal that does not parse.
pub fn host_addrs(
    var: &'static str,
    value: &'static [u8],
    port: u16,
    v6_hint: &'static str,
) -> Result<(Addrs, bool, &'static [u8]), Fatal> {
    let bad_api = |why| Fatal::EnvInvalid { var, value, why };
    if value.is_empty() {
        return Err(bad_api("is empty"));
    }
    if value.len() > 255 {
        return Err(bad_api("is longer than 255 bytes"));
    }
    let mut addrs = Addrs::new();
    let (inner, v6) = match value {
        [b'[', inner @ .., b']'] => (inner, true),
        _ => (value, value.contains(&b':')),
    };
    if v6 {
        #[allow(unused_mut)]
        let mut a = text::parse_ipv6(inner).ok_or(Fatal::EnvInvalid { var, value, why: v6_hint })?;
        // `[::]` (what cargo-lambda hands out) is where a server listens, not
        // an address: as a destination it means this host.
        #[cfg(feature = "lambda")]
        if a == [0; 16] {
            a[15] = 1;
        }
        addrs.push(SockAddr::v6(a, port));
    } else if let Some(a) = text::parse_ipv4(value) {
        #[cfg(feature = "lambda")]
        let a = if a == [0; 4] { [127, 0, 0, 1] } else { a };
        addrs.push(SockAddr::v4(a, port));
    } else if value.eq_ignore_ascii_case(b"localhost") {
        // Answered here rather than by the resolver: no /etc/hosts read on
        // the cold-start path, and it works without the `resolve` feature.
        addrs.push(SockAddr::v4([127, 0, 0, 1], port));
        addrs.push(SockAddr::v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], port));
    } else if !value.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_') {
        return Err(bad_api("is neither an IP address nor a host name"));
    } else {
        resolve(var, value, port, &mut addrs)?;
    }
    Ok((addrs, v6, inner))
}

#[cfg(feature = "resolve")]
fn resolve(var: &'static str, host: &'static [u8], port: u16, addrs: &mut Addrs) -> Result<(), Fatal> {
    crate::resolve::lookup(host, port, addrs).map_err(|err| Fatal::Resolve { var, host, err })
}

#[cfg(not(feature = "resolve"))]
fn resolve(var: &'static str, host: &'static [u8], _port: u16, _addrs: &mut Addrs) -> Result<(), Fatal> {
    Err(Fatal::EnvInvalid {
        var,
        value: host,
        why: "is a host name, and this build resolves only IP literals and localhost (feature `resolve` is off)",
    })
}
