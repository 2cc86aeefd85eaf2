//! A handler written in Rust, as its own `bootstrap`.
//!
//! A Rust handler is a plain function from the event, the invocation's
//! [`Context`] and a [`Response`] to a `Result`: `Ok` posts what it wrote as
//! the response, `Err` posts it as the error message. `handler!` registers
//! it under its own name (so `_HANDLER=index.main_handler` selects it) and
//! `entry!` supplies the `main` and panic handler a `no_std` binary needs.
//!
//! This one greets whoever the event names: the event `scf` gets
//! `Hello, scf! (function hello, 128 MB)`, an empty event gets the world.
//! Nothing is allocated: the parts are written straight into the runtime's
//! response buffer.
//!
//! Build and package it:
//!     scripts/package --rust-example rust-hello -o hello.zip
//! or by hand:
//!     cargo build --release --target x86_64-unknown-linux-musl --example rust-hello
#![no_std]
#![no_main]

use scf_bootstrap::{Context, Response, TooLarge};

/// Why a request is refused; `message` is what the error endpoint gets.
enum Error {
    NotUtf8,
    TooLong,
    Response(TooLarge),
}

impl Error {
    fn message(&self) -> &'static [u8] {
        match self {
            Error::NotUtf8 => b"bad request: the event is not UTF-8 text",
            Error::TooLong => b"bad request: the name is longer than 256 bytes",
            Error::Response(_) => b"the response exceeds SCF's 6 MB limit",
        }
    }
}

impl From<TooLarge> for Error {
    fn from(e: TooLarge) -> Self {
        Error::Response(e)
    }
}

/// Longest name greeted; a longer event is a bad request, not a long answer.
const MAX_NAME: usize = 256;

fn greet(event: &[u8], ctx: &Context, out: &mut Response) -> Result<(), Error> {
    let name = core::str::from_utf8(event).map_err(|_| Error::NotUtf8)?.trim();
    if name.len() > MAX_NAME {
        return Err(Error::TooLong);
    }
    let name = if name.is_empty() { "world" } else { name };
    let mut digits = [0u8; 20];
    out.write(b"Hello, ")?;
    out.write(name.as_bytes())?;
    out.write(b"! (function ")?;
    out.write(ctx.function_name().unwrap_or(b"?"))?;
    out.write(b", ")?;
    out.write(decimal(&mut digits, ctx.memory_limit_mb()))?;
    out.write(b" MB)")?;
    Ok(())
}

/// The handler: `greet`, with a failure's half-written answer replaced by
/// the reason.
fn main_handler(event: &[u8], ctx: &Context, out: &mut Response) -> Result<(), Error> {
    let result = greet(event, ctx, out);
    if let Err(e) = &result {
        out.reset();
        // Cannot fail: the message is far below the limit.
        let _ = out.write(e.message());
    }
    result
}

scf_bootstrap::handler!(main_handler);
scf_bootstrap::entry!();

/// `v` in decimal, right-aligned in `buf`.
fn decimal(buf: &mut [u8; 20], mut v: u64) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}
