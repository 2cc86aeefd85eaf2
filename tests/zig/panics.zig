//! A Zig handler that panics, for tests/crashes.rs: what a Zig @panic
//! becomes inside the bootstrap (built ReleaseSmall, as scripts/package
//! builds Zig handlers).

const scf = @import("scf_bootstrap");

fn zigPanics(event: ?[*]const u8, len: usize, ctx: *const scf.Context, out: *scf.Writer) callconv(.c) c_int {
    _ = event;
    _ = ctx;
    _ = out;
    if (len > 2) @panic("event too long for this handler");
    return 0;
}

export const scf_entry_zig_panics: scf.Entry linksection("scf_handlers") =
    scf.entry("zig_panics", &zigPanics, null);
