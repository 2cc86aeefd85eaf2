//! A function in Zig on the scf-bootstrap runtime (made by `cargo scf new
//! --lang zig`).
//!
//! The handler gets the event's bytes, the invocation's context and a
//! writer for the response; SCF_OK posts what it wrote as the response,
//! anything else posts it as the error message. The C ABI of
//! scf_bootstrap.h is declared in Zig in src/scf_bootstrap.zig (a copy of
//! scf-bootstrap's include/scf_bootstrap.zig), so building needs only the
//! Zig compiler. build.rs compiles this file and links it into the
//! `bootstrap` that `cargo scf build` zips.

const std = @import("std");
/// scf_bootstrap.h's C ABI in Zig (src/scf_bootstrap.zig, written by
/// `cargo scf new` from scf-bootstrap's include/).
const scf = @import("scf_bootstrap.zig");

fn mainHandler(event_ptr: ?[*]const u8, event_len: usize, ctx: *const scf.Context, out: *scf.Writer) callconv(.c) c_int {
    const event: []const u8 = if (event_ptr) |p| p[0..event_len] else "";

    // One line per invocation on stderr: the platform keeps it as the log.
    const id = ctx.request_id.bytes();
    var iov = [_]std.posix.iovec_const{
        .{ .base = "request ", .len = 8 },
        .{ .base = id.ptr, .len = id.len },
        .{ .base = "\n", .len = 1 },
    };
    _ = std.os.linux.writev(2, &iov, iov.len);

    const hello = "Hello from Zig! You sent: ";
    const rc = scf.scf_write(out, hello, hello.len);
    if (rc != scf.SCF_OK) return rc;
    return scf.scf_write(out, event.ptr, event.len);
}

/// The registration record (what SCF_HANDLER(main_handler) makes in C):
/// the handler setting `index.main_handler` selects it.
export const scf_entry_main_handler: scf.Entry linksection("scf_handlers") =
    scf.entry("main_handler", &mainHandler, null);
