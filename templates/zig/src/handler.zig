//! An SCF function in Zig on the scf-bootstrap runtime (made by
//! scf-bootstrap's scripts/new-function).
//!
//! The handler gets the event's bytes, the invocation's context and a
//! writer for the response; SCF_OK posts what it wrote as the response,
//! anything else posts it as the error message. The C ABI of
//! scf_bootstrap.h is declared below (see scf-bootstrap's
//! examples/zig/upper.zig for the full commentary), so building needs only
//! the Zig compiler. `cargo build --release` compiles this file (build.rs)
//! and links it into target/x86_64-unknown-linux-musl/release/bootstrap.

const std = @import("std");

const abi_version: u32 = 1;
const SCF_OK: c_int = 0;

const Str = extern struct {
    ptr: ?[*]const u8,
    len: usize,

    fn bytes(s: Str) []const u8 {
        const p = s.ptr orelse return "";
        return p[0..s.len];
    }
};

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
};

const Writer = opaque {};

extern fn scf_write(out: *Writer, data: ?*const anyopaque, len: usize) c_int;

const HandlerFn = *const fn (event: ?[*]const u8, event_len: usize, ctx: *const Context, out: *Writer) callconv(.c) c_int;
const InitFn = *const fn (ctx: *const Context, msg: *Writer) callconv(.c) c_int;

const Entry = extern struct {
    abi_version: u32,
    reserved: u32,
    name: [*:0]const u8,
    handle: HandlerFn,
    init: ?InitFn,
};

comptime {
    std.debug.assert(@sizeOf(Context) == 112);
    std.debug.assert(@offsetOf(Context, "request_id") == 8);
    std.debug.assert(@sizeOf(Entry) == 32 and @alignOf(Entry) == 8);
}

fn mainHandler(event_ptr: ?[*]const u8, event_len: usize, ctx: *const Context, out: *Writer) callconv(.c) c_int {
    const event: []const u8 = if (event_ptr) |p| p[0..event_len] else "";

    // One line per invocation on stderr: SCF keeps it as the log.
    const id = ctx.request_id.bytes();
    var iov = [_]std.posix.iovec_const{
        .{ .base = "request ", .len = 8 },
        .{ .base = id.ptr, .len = id.len },
        .{ .base = "\n", .len = 1 },
    };
    _ = std.os.linux.writev(2, &iov, iov.len);

    const hello = "Hello from Zig! You sent: ";
    const rc = scf_write(out, hello, hello.len);
    if (rc != SCF_OK) return rc;
    return scf_write(out, event.ptr, event.len);
}

/// The registration record (what SCF_HANDLER(main_handler) makes in C):
/// the handler setting `index.main_handler` selects it.
export const scf_entry_main_handler: Entry linksection("scf_handlers") = .{
    .abi_version = abi_version,
    .reserved = 0,
    .name = "main_handler",
    .handle = &mainHandler,
    .init = null,
};
