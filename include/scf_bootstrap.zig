//! scf_bootstrap.zig -- the C ABI of scf_bootstrap.h, declared in Zig for
//! Zig handlers (examples/zig/upper.zig, tests/zig/panics.zig, and the
//! projects scripts/new-function makes for --lang zig).
//!
//! It is declared here rather than imported with @cImport, so that building
//! a handler needs nothing but the Zig compiler: the types below mirror the
//! header field for field, and the comptime block checks the sizes and
//! offsets the header promises. scripts/package compiles a .zig handler
//! with this file as the module `scf_bootstrap`:
//!
//!     const scf = @import("scf_bootstrap");
//!
//! (by hand: `zig build-obj ... --dep scf_bootstrap -Mroot=handler.zig
//! -Mscf_bootstrap=include/scf_bootstrap.zig`); scripts/new-function
//! copies it beside a Zig project's src/handler.zig.

const std = @import("std");

/// The header's SCF_ABI_VERSION. The runtime refuses, before it reports
/// ready, a record whose version it does not implement.
pub const abi_version: u32 = 1;
pub const SCF_OK: c_int = 0;

/// `SCF_PLATFORM_LAMBDA`: `ctx.platform` when serving AWS Lambda.
pub const SCF_PLATFORM_LAMBDA: u32 = 2;

/// `scf_str`: not NUL-terminated unless the header says so; `ptr` is null
/// when the value is absent.
pub const Str = extern struct {
    ptr: ?[*]const u8,
    len: usize,

    pub fn bytes(s: Str) []const u8 {
        const p = s.ptr orelse return "";
        return p[0..s.len];
    }
};

/// `scf_context`. Fields are only ever appended; `size` tells how many
/// the runtime filled in (112 before the Lambda dialect's fields).
pub const Context = extern struct {
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

/// `scf_writer`: opaque, owned by the runtime.
pub const Writer = opaque {};

pub extern fn scf_write(out: *Writer, data: ?*const anyopaque, len: usize) c_int;
pub extern fn scf_writer_reset(out: *Writer) void;

pub const HandlerFn = *const fn (event: ?[*]const u8, event_len: usize, ctx: *const Context, out: *Writer) callconv(.c) c_int;
pub const InitFn = *const fn (ctx: *const Context, msg: *Writer) callconv(.c) c_int;

/// `scf_handler_entry`: the 32-byte record the runtime finds in the
/// `scf_handlers` section. Export one per handler, as SCF_HANDLER(name)
/// does in C (see `entry`).
pub const Entry = extern struct {
    abi_version: u32,
    reserved: u32,
    name: [*:0]const u8,
    handle: HandlerFn,
    init: ?InitFn,
};

/// The registration record of the handler `name` (the part of the handler
/// setting after the dot), what SCF_HANDLER / SCF_HANDLER_WITH_INIT make
/// in C. Export it in the section the runtime reads; the exported name
/// only has to be unique in the binary (the linker collects the section's
/// records between __start_scf_handlers and __stop_scf_handlers, which also
/// keeps them from being garbage-collected):
///
///     export const scf_entry_main_handler: scf.Entry linksection("scf_handlers") =
///         scf.entry("main_handler", &mainHandler, null);
pub fn entry(name: [*:0]const u8, handle: HandlerFn, init: ?InitFn) Entry {
    return .{ .abi_version = abi_version, .reserved = 0, .name = name, .handle = handle, .init = init };
}

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
