//! A handler written in Rust, as its own `bootstrap`.
//!
//! A Rust handler is a plain function from the event, the invocation's
//! [`Context`] and a [`Response`] to a `Result`: `Ok` posts what it wrote as
//! the response, `Err(e)` discards it and posts `e`'s `Display` text as the
//! error message. `handler!` registers it under its own name (so
//! `_HANDLER=index.main_handler` selects it) and `entry!` supplies the
//! `main` and the panic handler of a `no_std` binary (a panic is posted as
//! the error, with its message and location, before the process aborts).
//!
//! This one tells the caller where and how it ran: it answers every event
//! with a JSON object built from the context, for example
//!
//! ```text
//! {"function":"hello","namespace":"default","version":"$LATEST",
//!  "region":"ap-guangzhou","requestId":"3c32a636-...","memoryLimitMb":128,
//!  "timeLimitMs":3000,"eventBytes":42}
//! ```
//!
//! (on one line). Nothing is allocated: each piece is written straight into
//! the runtime's response buffer, and numbers are formatted on the stack.
//!
//! Build and package it from the repository root:
//!     scripts/package --handler examples/rust -o hello.zip
//! or build it by hand in this directory:
//!     cargo build --release --target x86_64-unknown-linux-musl
#![no_std]
#![no_main]

use scf_bootstrap::{Context, Response, TooLarge};

fn main_handler(event: &[u8], ctx: &Context, out: &mut Response) -> Result<(), TooLarge> {
    out.write(b"{\"function\":")?;
    string_or_null(out, ctx.function_name())?;
    out.write(b",\"namespace\":")?;
    string_or_null(out, ctx.function_namespace())?;
    out.write(b",\"version\":")?;
    string_or_null(out, ctx.function_version())?;
    out.write(b",\"region\":")?;
    string_or_null(out, ctx.region())?;
    out.write(b",\"requestId\":")?;
    string(out, ctx.request_id())?;
    out.write(b",\"memoryLimitMb\":")?;
    number(out, ctx.memory_limit_mb())?;
    out.write(b",\"timeLimitMs\":")?;
    number(out, ctx.time_limit_ms())?;
    out.write(b",\"eventBytes\":")?;
    number(out, event.len() as u64)?;
    out.write(b"}")
}

scf_bootstrap::handler!(main_handler);
scf_bootstrap::entry!();

fn string_or_null(out: &mut Response, s: Option<&[u8]>) -> Result<(), TooLarge> {
    match s {
        Some(s) => string(out, s),
        None => out.write(b"null"),
    }
}

/// `s` as a JSON string. The context's strings come from headers and
/// environment variables, so they are escaped, and bytes that are not UTF-8
/// become U+FFFD rather than making the whole answer invalid JSON.
fn string(out: &mut Response, s: &[u8]) -> Result<(), TooLarge> {
    out.write(b"\"")?;
    for chunk in s.utf8_chunks() {
        let text = chunk.valid().as_bytes();
        let mut run = 0; // start of the bytes not yet written
        for (i, &b) in text.iter().enumerate() {
            if b == b'"' || b == b'\\' || b < 0x20 {
                out.write(&text[run..i])?;
                const HEX: &[u8; 16] = b"0123456789abcdef";
                match b {
                    b'"' | b'\\' => out.write(&[b'\\', b])?,
                    _ => out.write(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]])?,
                }
                run = i + 1;
            }
        }
        out.write(&text[run..])?;
        if !chunk.invalid().is_empty() {
            out.write(b"\\ufffd")?;
        }
    }
    out.write(b"\"")
}

fn number(out: &mut Response, mut v: u64) -> Result<(), TooLarge> {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return out.write(&buf[i..]);
        }
    }
}
