//! A Zig handler that panics, for tests/crashes.rs: what a Zig @panic
//! becomes inside the bootstrap (built ReleaseSmall, as scripts/package
//! builds Zig handlers).

const Writer = opaque {};
const Str = extern struct { ptr: ?[*]const u8, len: usize };
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
const HandlerFn = *const fn (?[*]const u8, usize, *const Context, *Writer) callconv(.c) c_int;
const Entry = extern struct {
    abi_version: u32,
    reserved: u32,
    name: [*:0]const u8,
    handle: HandlerFn,
    init: ?*const anyopaque,
};

fn zigPanics(event: ?[*]const u8, len: usize, ctx: *const Context, out: *Writer) callconv(.c) c_int {
    _ = event;
    _ = ctx;
    _ = out;
    if (len > 2) @panic("event too long for this handler");
    return 0;
}

export const scf_entry_zig_panics: Entry linksection("scf_handlers") = .{
    .abi_version = 1,
    .reserved = 0,
    .name = "zig_panics",
    .handle = &zigPanics,
    .init = null,
};
