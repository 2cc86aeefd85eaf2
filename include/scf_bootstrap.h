/*
 * scf_bootstrap.h -- the handler ABI of scf-bootstrap, a custom runtime for
 * Tencent Cloud SCF "Custom Runtime" functions.
 *
 * This header is the whole contract between the runtime and the native code
 * linked into it. Anything not declared here is not part of the API and may
 * change without notice. Result codes and struct fields are only ever
 * appended; existing values and offsets never change within one
 * SCF_ABI_VERSION.
 *
 * A handler is an ordinary C function registered with SCF_HANDLER():
 *
 *     #include "scf_bootstrap.h"
 *
 *     static int main_handler(const uint8_t *event, size_t event_len,
 *                             const scf_context *ctx, scf_writer *out) {
 *         scf_write(out, "got ", 4);
 *         scf_write(out, event, event_len);
 *         return SCF_OK;
 *     }
 *     SCF_HANDLER(main_handler)
 *
 * The function part of the _HANDLER setting (`index.main_handler` ->
 * `main_handler`) picks the handler at start-up; several handlers may be
 * linked into one bootstrap.
 *
 * The same bootstrap serves AWS Lambda's runtime API (provided.al2023) when
 * AWS_LAMBDA_RUNTIME_API is set (the default build; the `lambda` cargo
 * feature). Handlers are called the same way on both platforms; the context
 * says which one it is and fills the fields that platform provides.
 *
 * Threads: the runtime calls handlers one at a time, from the process's main
 * thread. Nothing in this header may be called from another thread.
 */
#ifndef SCF_BOOTSTRAP_H
#define SCF_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this header. A handler records the ABI version it was compiled
 * against in its registration entry; the runtime refuses, at start-up and
 * before reporting ready, to run a handler whose ABI version it does not
 * implement. */
#define SCF_ABI_VERSION 1
#define SCF_BOOTSTRAP_VERSION "0.1.0"
#define SCF_BOOTSTRAP_VERSION_NUMBER 1000 /* major*1000000 + minor*1000 + patch */

/* Result codes returned by handlers, init hooks and scf_write(). Any value
 * other than SCF_OK that a handler returns is a failure; the two below are
 * the ones the runtime itself produces. */
#define SCF_OK 0
#define SCF_ERROR 1   /* generic failure */
#define SCF_NOMEM 2   /* scf_write(): the response would exceed SCF's 6 MB limit, or memory ran out
                       * (the runtime's error message says which) */

/* A byte string that is not NUL-terminated unless stated. `ptr` is NULL and
 * `len` is 0 when the value is absent. */
typedef struct scf_str {
    const char *ptr;
    size_t len;
} scf_str;

/* Values of scf_context.platform. */
#define SCF_PLATFORM_SCF 1      /* Tencent Cloud SCF Custom Runtime */
#define SCF_PLATFORM_LAMBDA 2   /* AWS Lambda custom runtime (provided.*) */

/* What the runtime knows about the current invocation and the function.
 *
 * Which fields each platform fills (absent ones are NULL/0):
 *
 *   field               SCF                     Lambda
 *   request_id          request_id header       Lambda-Runtime-Aws-Request-Id
 *   memory_limit_mb     memory_limit_in_mb      AWS_LAMBDA_FUNCTION_MEMORY_SIZE
 *   time_limit_ms       time_limit_in_ms        deadline - time received
 *   deadline_ms         received + time limit   Lambda-Runtime-Deadline-Ms
 *   function_name       SCF_FUNCTIONNAME        AWS_LAMBDA_FUNCTION_NAME
 *   function_namespace  SCF_NAMESPACE           (absent)
 *   function_version    SCF_FUNCTIONVERSION     AWS_LAMBDA_FUNCTION_VERSION
 *   region              TENCENTCLOUD_REGION     AWS_REGION
 *   platform            SCF_PLATFORM_SCF        SCF_PLATFORM_LAMBDA
 *   function_arn        (absent)                Lambda-Runtime-Invoked-Function-Arn
 *   trace_id            (absent)                Lambda-Runtime-Trace-Id
 *   client_context      (absent)                Lambda-Runtime-Client-Context
 *   cognito_identity    (absent)                Lambda-Runtime-Cognito-Identity
 *
 * On Lambda, a Lambda-Runtime-Deadline-Ms too small to be a time since the
 * epoch (before 2001; cargo-lambda's emulator sends a constant 600000) is
 * taken as milliseconds from the time the event was received.
 *
 * Lifetime: the context and every string it points to are owned by the
 * runtime and stay valid until the handler (or init hook) returns; copy what
 * you need to keep. The function metadata strings (function_name ...
 * region) point into the process environment and stay valid for the life of
 * the process. */
typedef struct scf_context {
    /* sizeof(scf_context) as the runtime built it: fields are only appended,
     * so a handler may check `ctx->size` before reading a newer field. */
    uint32_t size;
    uint32_t abi_version;
    /* The `request_id` header of this invocation; NUL-terminated as well
     * (ptr[len] == '\0'). Empty (not NULL) in the init hook. */
    scf_str request_id;
    /* `memory_limit_in_mb` and `time_limit_in_ms` headers; 0 if absent. */
    uint64_t memory_limit_mb;
    uint64_t time_limit_ms;
    /* Milliseconds since the Unix epoch by which the result must be pushed:
     * the time the event was received plus time_limit_ms. 0 if unknown. */
    uint64_t deadline_ms;
    /* From SCF_FUNCTIONNAME, SCF_NAMESPACE, SCF_FUNCTIONVERSION and
     * TENCENTCLOUD_REGION; each absent (NULL, 0) when the variable is unset.
     * NUL-terminated when present. */
    scf_str function_name;
    scf_str function_namespace;
    scf_str function_version;
    scf_str region;
    /* ---- appended with the Lambda dialect: present when
     * ctx->size >= 184 (a runtime from before it builds 112 bytes). ---- */
    /* SCF_PLATFORM_SCF or SCF_PLATFORM_LAMBDA. */
    uint32_t platform;
    uint32_t reserved;   /* 0 */
    /* Lambda's Lambda-Runtime-Invoked-Function-Arn, -Trace-Id,
     * -Client-Context and -Cognito-Identity headers of this invocation
     * (the last two are JSON, sent for mobile SDK callers only); absent on
     * SCF and when the header is absent. NUL-terminated when present. Like
     * request_id, they are valid until the handler returns. */
    scf_str function_arn;
    scf_str trace_id;
    scf_str client_context;
    scf_str cognito_identity;
} scf_context;

/* Opaque sink for the response body (or, on failure, the error message).
 * Owned by the runtime; valid only during the call it was passed to. */
typedef struct scf_writer scf_writer;

/* Appends `len` bytes from `data` to the body being built. `data` is only
 * read during the call and may be NULL when `len` is 0. Returns SCF_OK, or
 * SCF_NOMEM when the body would grow past SCF's 6 MB (6291456-byte)
 * response limit or memory ran out; the body is left as it was before the
 * failed call. A refused write makes the invocation an error, whatever the
 * handler returns: the runtime posts a message saying the response was
 * refused, why (the limit or memory) and the size the handler tried to
 * write, unless the handler calls scf_writer_reset() afterwards (and so
 * writes a body, or an error message, of its own). */
int scf_write(scf_writer *out, const void *data, size_t len);

/* Discards everything written so far (for a handler that starts writing a
 * response and then decides to fail with a message of its own). */
void scf_writer_reset(scf_writer *out);

/* The handler. `event` points to the raw event body, `event_len` bytes of any
 * value: it is neither NUL-terminated nor guaranteed to be UTF-8, and it is
 * NULL only when `event_len` is 0. `event` and `ctx` are owned by the runtime
 * and valid until the handler returns.
 *
 * Return SCF_OK to post what was written to `out` as the invocation's
 * response. Return anything else to post it to the error endpoint instead;
 * if nothing was written, the runtime posts a default message naming the
 * handler and the returned code. */
typedef int (*scf_handler_fn)(const uint8_t *event, size_t event_len,
                              const scf_context *ctx, scf_writer *out);

/* Optional init hook, run once before the runtime reports ready, with a
 * context whose request fields are empty. Return SCF_OK to go on. On any
 * other value the runtime prints one line to stderr with the handler's name,
 * the code and what the hook wrote to `msg` (if anything), and exits with a
 * non-zero status without reporting ready. */
typedef int (*scf_init_fn)(const scf_context *ctx, scf_writer *msg);

/* Crashes. If SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP or SIGSYS
 * arrives while a handler runs, the runtime posts one line to the error
 * endpoint (what was written to `out` is not posted) and writes the same
 * line to stderr (the invocation's log):
 *
 *     handler 'main_handler' crashed: SIGSEGV (invalid memory access at
 *     address 0x0) while handling request <request id>
 *
 * then ends the process by the same signal with its default action (a core
 * dump where enabled), so the platform sees the crash too and the next
 * invocation is a cold start. The parenthesis is what the kernel reported:
 * the address accessed (SIGSEGV, SIGBUS) or of the faulting instruction
 * (SIGILL, SIGFPE), "stack overflow at address ..." for a fault next to
 * the stack pointer (reported from an alternate signal stack), "integer
 * divide by zero", "abort() called", or "sent by process N" for a signal
 * sent with kill(). In the init hook the line names the hook and goes to
 * stderr only, and ready is not reported.
 *
 * The runtime installs its signal handler once, before the first handler
 * call (before the init hook, if there is one). An action it finds already
 * installed for one of these signals that calls a function (std Rust's
 * SIGSEGV and SIGBUS handlers, installed before main; a C constructor's; a
 * garbage collector's) is called first when the signal comes: if that
 * function returns having set the default action (std's way of declining
 * a fault that is not a stack overflow it names), the runtime reports the
 * crash as above; if it leaves a function installed, it has handled the
 * signal and the program goes on. (A fault next to the stack pointer in a
 * thread other than the main one is a stack overflow, and is reported
 * first.) An action found set to SIG_IGN stays. A handler that installs its
 * own action for one of these signals, in its init hook or later, keeps it:
 * its handler then takes over reporting that signal, and the runtime says
 * nothing about it.
 *
 * Not reported: SIGKILL (SCF's timeout or memory limit), a handler that
 * never returns (SCF's invocation timeout ends it), a stack overflow in a
 * thread the handler started without an alternate signal stack (a C
 * thread; std's threads have one; other faults in any thread are
 * reported), a fault signal the handler has blocked (the kernel ends the
 * process at once), and a crash in a child process the handler forked
 * (it inherits the signal handler, which ends it as it would have ended
 * without the runtime, and posts nothing). */

/* The process. The handler shares its process with the runtime, which
 * arranges it so that what handlers commonly do to it costs no invocation
 * (docs/survives.md in the repository goes through each case):
 *
 * - SIGPIPE. A write to a pipe or socket whose reader has gone (a log
 *   collector that restarted) fails with EPIPE instead of ending the
 *   process, as in a server process: printf() returns a negative value
 *   and sets the stream's error flag, write() returns -1 with errno EPIPE.
 *   The runtime catches SIGPIPE with a handler that does nothing, once,
 *   when it installs its crash handler (or before, with its first line on
 *   stderr), unless an action is already set (std Rust ignores SIGPIPE
 *   before main; a handler's own choice, before or after, is kept). A
 *   caught signal is reset to the default by exec, so programs a handler
 *   starts see SIGPIPE as usual (`yes | head` ends quietly).
 * - Descriptors. 0, 1 and 2 are always open (on /dev/null if the process
 *   started without them), and never one of the runtime's sockets, which
 *   are all close-on-exec. A handler may close descriptors it did not open:
 *   the runtime then opens a new connection, and never closes a number
 *   that is no longer its own. A handler may take every free descriptor:
 *   the runtime needs a new one only when its connection is closed, and
 *   then retries for 10 s and stops with one line naming "too many open
 *   files".
 * - The environment is read once, before the first handler call; changing
 *   it later changes nothing the runtime does, and the context's strings
 *   keep the values the process started with.
 * - Signal masks, SIGCHLD and SIGTERM are the handler's: the runtime uses
 *   none of them (SIGTERM is left at its default action: the process ends
 *   at once).
 * - Threads the handler starts may go on after it returns; a crash in one
 *   is reported as above (during a handler call it fails that invocation;
 *   between calls it is one line on stderr, "... outside any handler"). */

/* The registration record. Do not fill one in by hand: use SCF_HANDLER or
 * SCF_HANDLER_WITH_INIT. Records are collected by the linker into the
 * `scf_handlers` section; the runtime finds them through the linker-made
 * symbols __start_scf_handlers and __stop_scf_handlers. The record is 32
 * bytes on every 64-bit target; `abi_version` comes first so that a record
 * from another ABI version can be recognised before anything else is read. */
typedef struct scf_handler_entry {
    uint32_t abi_version;   /* SCF_ABI_VERSION the handler was compiled with */
    uint32_t reserved;      /* 0 */
    const char *name;       /* NUL-terminated, static; matched against _HANDLER */
    scf_handler_fn handle;
    scf_init_fn init;       /* may be NULL */
} scf_handler_entry;

#if defined(__GNUC__) || defined(__clang__)
#define SCF__ENTRY_ATTRS __attribute__((used, section("scf_handlers"), aligned(8)))
#else
#error "scf_bootstrap.h: SCF_HANDLER needs GCC- or Clang-style section attributes"
#endif

/* Registers `fn` (an scf_handler_fn) under its own name, with an init hook
 * `init` (an scf_init_fn, or NULL). Use at file scope, once per handler. */
#define SCF_HANDLER_WITH_INIT(fn, init)                                        \
    static const scf_handler_entry scf__entry_##fn SCF__ENTRY_ATTRS = {        \
        SCF_ABI_VERSION, 0, #fn, fn, init};

#define SCF_HANDLER(fn) SCF_HANDLER_WITH_INIT(fn, NULL)

/* The runtime's version string (e.g. "0.1.0"), static, NUL-terminated; the
 * same version as a number (major*1000000 + minor*1000 + patch); and the ABI
 * version it implements. Compare with SCF_BOOTSTRAP_VERSION,
 * SCF_BOOTSTRAP_VERSION_NUMBER and SCF_ABI_VERSION to detect a
 * header/runtime mismatch. */
const char *scf_runtime_version(void);
uint32_t scf_runtime_version_number(void);
uint32_t scf_runtime_abi_version(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SCF_BOOTSTRAP_H */
