/* Handlers that crash, for tests/crashes.rs: each dies by a different
 * signal while handling an event, and one init hook dies before ready. */
#include <stdlib.h>
#include <string.h>
#include "scf_bootstrap.h"

/* Writes part of a response first: a crash must not post it. */
static void partial(scf_writer *out) { scf_write(out, "{\"partial\":", 11); }

static int null_deref(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    partial(out);
    return *(volatile int *)0;
}
SCF_HANDLER(null_deref)

/* Each frame keeps a 1 KiB array alive across the call, so the recursion
 * is neither a loop nor a tail call. */
static int recurse(volatile char *up, unsigned depth) {
    volatile char frame[1024];
    frame[0] = (char)depth;
    frame[1] = up ? up[0] : 0;
    return recurse(frame, depth + 1) + frame[1];
}

static int stack_overflow(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    partial(out);
    return recurse(NULL, 0);
}
SCF_HANDLER(stack_overflow)

static int calls_abort(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    partial(out);
    abort();
}
SCF_HANDLER(calls_abort)

static int divides_by_zero(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)ctx;
    partial(out);
    volatile int zero = 0;
    return (int)len / zero;
}
SCF_HANDLER(divides_by_zero)

static int traps(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    partial(out);
    __builtin_trap();
}
SCF_HANDLER(traps)

/* A breakpoint instruction (int3): SIGTRAP, which has no address. */
static int breakpoint(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    partial(out);
    __asm__ volatile("int3");
    return SCF_OK;
}
SCF_HANDLER(breakpoint)

/* A pointer that is not canonical (bits 48-63 not copies of bit 47): a
 * general protection fault, for which the kernel reports no address. */
static int wild_pointer(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    partial(out);
    return *(volatile int *)(uintptr_t)0xdead000000000000ull;
}
SCF_HANDLER(wild_pointer)

/* An init hook that dereferences NULL: the start must stop, with a line
 * on stderr, before ready. */
static int crashing_init_hook(const scf_context *ctx, scf_writer *msg) {
    (void)ctx;
    scf_write(msg, "about to crash", 14);
    return *(volatile int *)0;
}

static int crashing_init(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    return scf_write(out, "unreachable", 11);
}
SCF_HANDLER_WITH_INIT(crashing_init, crashing_init_hook)

/* Answers normally: for the idle test (a signal sent between invocations). */
static int answers(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)ctx;
    return scf_write(out, event, len);
}
SCF_HANDLER(answers)
