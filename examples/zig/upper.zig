//! upper.zig -- an SCF handler in Zig, linked into the bootstrap through
//! the C ABI of include/scf_bootstrap.h.
//!
//! It answers the event with its ASCII letters upper-cased, and logs one
//! line per invocation (request id and event size) to stderr, which SCF
//! keeps as the invocation's log. The work is done in a buffer on the stack,
//! a chunk at a time, so nothing is allocated whatever the event's size.
//!
//! The ABI comes from include/scf_bootstrap.zig, declared there in Zig
//! (no @cImport), so building needs nothing but the Zig compiler.
//!
//! Build the object (scripts/package does this for a .zig handler):
//!     python3 -m ziglang build-obj -target x86_64-linux-musl -O ReleaseSmall \
//!         -fno-stack-check -fno-sanitize-c -fno-PIC -fstrip \
//!         --dep scf_bootstrap -Mroot=examples/zig/upper.zig \
//!         -Mscf_bootstrap=include/scf_bootstrap.zig -femit-bin=upper.o
//! then link it with SCF_HANDLER_LIBS=upper.o. Handler setting:
//! `index.main_handler`.

const std = @import("std");
/// The C ABI of scf_bootstrap.h (include/scf_bootstrap.zig; scripts/package
/// supplies it as this module).
const scf = @import("scf_bootstrap");
const Context = scf.Context;
const Writer = scf.Writer;

/// Writes `parts` to stderr with one writev, best effort (a log line lost
/// to a full pipe must not fail the invocation).
fn log(parts: []const []const u8) void {
    var iov: [8]std.posix.iovec_const = undefined;
    for (parts, 0..) |p, i| iov[i] = .{ .base = p.ptr, .len = p.len };
    _ = std.os.linux.writev(2, &iov, parts.len);
}

/// Decimal digits of `v`, right-aligned in `buf`.
fn decimal(buf: *[20]u8, v: usize) []const u8 {
    var n = v;
    var i: usize = buf.len;
    while (true) {
        i -= 1;
        buf[i] = @intCast('0' + n % 10);
        n /= 10;
        if (n == 0) break;
    }
    return buf[i..];
}

fn mainHandler(event_ptr: ?[*]const u8, event_len: usize, ctx: *const Context, out: *Writer) callconv(.c) c_int {
    const event: []const u8 = if (event_ptr) |p| p[0..event_len] else "";

    var num: [20]u8 = undefined;
    log(&.{ "request ", ctx.request_id.bytes(), ": ", decimal(&num, event.len), " bytes\n" });
    // On Lambda, the X-Ray trace id too (a context from before the Lambda
    // dialect is 112 bytes and has no such field).
    if (ctx.size >= @sizeOf(Context) and ctx.platform == scf.SCF_PLATFORM_LAMBDA and ctx.trace_id.ptr != null)
        log(&.{ "trace ", ctx.trace_id.bytes(), "\n" });

    var chunk: [4096]u8 = undefined;
    var rest = event;
    while (rest.len > 0) {
        const n = @min(rest.len, chunk.len);
        for (rest[0..n], chunk[0..n]) |c, *d| d.* = std.ascii.toUpper(c);
        const rc = scf.scf_write(out, &chunk, n);
        if (rc != scf.SCF_OK) {
            // Only past SCF's 6 MB response limit; say so rather than
            // posting a half-converted event as the error message.
            const msg = "the response exceeds SCF's 6 MB limit";
            scf.scf_writer_reset(out);
            _ = scf.scf_write(out, msg, msg.len);
            return rc;
        }
        rest = rest[n..];
    }
    return scf.SCF_OK;
}

/// The registration record, what SCF_HANDLER(main_handler) makes in C. The
/// exported name only has to be unique in the binary; the linker collects
/// the section's records between __start_scf_handlers and
/// __stop_scf_handlers, which also keeps them from being garbage-collected.
export const scf_entry_main_handler: scf.Entry linksection("scf_handlers") =
    scf.entry("main_handler", &mainHandler, null);
