//! Std handlers for tests/survives.rs: a NULL read, a panic with a
//! formatted message, a stack overflow on the main thread and in a thread
//! the handler starts, and two that log each event to stderr: with
//! `writeln!`, its error ignored, and with `eprintln!`, which panics when
//! the write fails.
use scf_bootstrap::{Context, Response};
use std::hint::black_box;
use std::io::Write;

fn null_read(_: &[u8], _: &Context, out: &mut Response) -> Result<(), String> {
    out.write(b"{\"partial\":").map_err(|e| e.to_string())?;
    let p: *const u64 = black_box(std::ptr::null());
    // SAFETY: none; reading address 0 is the point of this handler.
    let v = unsafe { p.read_volatile() };
    Err(format!("read {v}"))
}

fn panics(event: &[u8], _: &Context, out: &mut Response) -> Result<(), String> {
    out.write(b"{\"partial\":").map_err(|e| e.to_string())?;
    let words: Vec<&str> = std::str::from_utf8(event).unwrap_or("").split(',').collect();
    panic!("{} words is {} too many", words.len(), words.len() - 1);
}

/// Each frame keeps 1 KiB alive across the call: neither a loop nor a
/// tail call, and deep enough to run out of any stack.
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 128]);
    if black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(depth + 1) + frame[black_box(7)]
}

fn overflows(_: &[u8], _: &Context, _: &mut Response) -> Result<(), String> {
    Err(recurse(0).to_string())
}

fn overflows_in_a_thread(_: &[u8], _: &Context, _: &mut Response) -> Result<(), String> {
    let t = std::thread::Builder::new().name("deep".into()).spawn(|| recurse(0)).map_err(|e| e.to_string())?;
    Err(format!("{:?}", t.join().map_err(|_| "joined")))
}

fn logs(event: &[u8], _: &Context, out: &mut Response) -> Result<(), String> {
    let logged = writeln!(std::io::stderr(), "event {}", String::from_utf8_lossy(event));
    out.write(format!("logged: {}", logged.is_ok()).as_bytes()).map_err(|e| e.to_string())
}

fn eprintlns(event: &[u8], _: &Context, out: &mut Response) -> Result<(), String> {
    eprintln!("event {}", String::from_utf8_lossy(event));
    out.write(b"logged").map_err(|e| e.to_string())
}

scf_bootstrap::handler!(logs);
scf_bootstrap::handler!(eprintlns);
scf_bootstrap::handler!(null_read);
scf_bootstrap::handler!(panics);
scf_bootstrap::handler!(overflows);
scf_bootstrap::handler!(overflows_in_a_thread);

fn main() {
    scf_bootstrap::run()
}
