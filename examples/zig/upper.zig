//! upper.zig -- an SCF handler in Zig, linked into the bootstrap through
//! the C ABI of include/scf_bootstrap.h.
//!
//! It answers the event with its ASCII letters upper-cased, and logs one
//! line per invocation (request id and event size) to stderr, which SCF
//! keeps as the invocation's log. The work is done in a buffer on the stack,
//! a chunk at a time, so nothing is allocated whatever the event's size.
//!
//! The ABI is declared here rather than imported with @cImport, so that
//! building needs nothing but the Zig compiler: the types below mirror the
//! header field for field, and the comptime block checks the sizes and
//! offsets the header promises.
//!
//! Build the object (scripts/package does this for a .zig handler):
//!     python3 -m ziglang build-obj -target x86_64-linux-musl -O ReleaseSmall \
//!         -fno-stack-check -fno-sanitize-c -fno-PIC -fstrip \
//!         -femit-bin=upper.o examples/zig/upper.zig
//! then link it with SCF_HANDLER_LIBS=upper.o. Handler setting:
//! `index.main_handler`.

const std = @import("std");

/// The header's SCF_ABI_VERSION. The runtime refuses, before it reports
/// ready, a record whose version it does not implement.
const abi_version: u32 = 1;
const SCF_OK: c_int = 0;

/// `scf_str`: not NUL-terminated unless the header says so; `ptr` is null
/// when the value is absent.
const Str = extern struct {
    ptr: ?[*]const u8,
    len: usize,

    fn bytes(s: Str) []const u8 {
        const p = s.ptr orelse return "";
        return p[0..s.len];
    }
};

/// `scf_context`. Fields are only ever appended; `size` tells how many
/// the runtime filled in.
const Context = extern struct {
    size: u32,
    abi_version: u32,
    request_id: Str,
    memory_limit_mb: u64,
    time_limit_ms: u64,
    deadline_ms: u64,
    function_name: Str,
    function_namespace: Str,
    function_version: Str,
    region: Str,
    // Appended with the Lambda dialect (size 184).
    platform: u32,
    reserved: u32,
    function_arn: Str,
    trace_id: Str,
    client_context: Str,
    cognito_identity: Str,
};

/// `SCF_PLATFORM_LAMBDA`: `ctx.platform` when serving AWS Lambda.
const SCF_PLATFORM_LAMBDA: u32 = 2;

/// `scf_writer`: opaque, owned by the runtime.
const Writer = opaque {};

extern fn scf_write(out: *Writer, data: ?*const anyopaque, len: usize) c_int;
extern fn scf_writer_reset(out: *Writer) void;

const HandlerFn = *const fn (event: ?[*]const u8, event_len: usize, ctx: *const Context, out: *Writer) callconv(.c) c_int;
const InitFn = *const fn (ctx: *const Context, msg: *Writer) callconv(.c) c_int;

/// `scf_handler_entry`: the 32-byte record the runtime finds in the
/// `scf_handlers` section.
const Entry = extern struct {
    abi_version: u32,
    reserved: u32,
    name: [*:0]const u8,
    handle: HandlerFn,
    init: ?InitFn,
};

comptime {
    std.debug.assert(@sizeOf(Str) == 16);
    std.debug.assert(@sizeOf(Context) == 184);
    std.debug.assert(@offsetOf(Context, "platform") == 112);
    std.debug.assert(@offsetOf(Context, "trace_id") == 136);
    std.debug.assert(@offsetOf(Context, "cognito_identity") == 168);
    std.debug.assert(@offsetOf(Context, "request_id") == 8);
    std.debug.assert(@offsetOf(Context, "deadline_ms") == 40);
    std.debug.assert(@offsetOf(Context, "region") == 96);
    std.debug.assert(@sizeOf(Entry) == 32 and @alignOf(Entry) == 8);
    std.debug.assert(@offsetOf(Entry, "name") == 8);
    std.debug.assert(@offsetOf(Entry, "handle") == 16);
    std.debug.assert(@offsetOf(Entry, "init") == 24);
}

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
    if (ctx.size >= @sizeOf(Context) and ctx.platform == SCF_PLATFORM_LAMBDA and ctx.trace_id.ptr != null)
        log(&.{ "trace ", ctx.trace_id.bytes(), "\n" });

    var chunk: [4096]u8 = undefined;
    var rest = event;
    while (rest.len > 0) {
        const n = @min(rest.len, chunk.len);
        for (rest[0..n], chunk[0..n]) |c, *d| d.* = std.ascii.toUpper(c);
        const rc = scf_write(out, &chunk, n);
        if (rc != SCF_OK) {
            // Only past SCF's 6 MB response limit; say so rather than
            // posting a half-converted event as the error message.
            const msg = "the response exceeds SCF's 6 MB limit";
            scf_writer_reset(out);
            _ = scf_write(out, msg, msg.len);
            return rc;
        }
        rest = rest[n..];
    }
    return SCF_OK;
}

/// The registration record, what SCF_HANDLER(main_handler) makes in C. The
/// exported name only has to be unique in the binary; the linker collects
/// the section's records between __start_scf_handlers and
/// __stop_scf_handlers, which also keeps them from being garbage-collected.
export const scf_entry_main_handler: Entry linksection("scf_handlers") = .{
    .abi_version = abi_version,
    .reserved = 0,
    .name = "main_handler",
    .handle = &mainHandler,
    .init = null,
};
