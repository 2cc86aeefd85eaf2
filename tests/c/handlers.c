/* Handlers used by the integration tests (tests/handlers.rs): several in
 * one object, to show that _HANDLER picks among them. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "scf_bootstrap.h"

static int put(scf_writer *out, const char *s) { return scf_write(out, s, strlen(s)); }

static int put_u64(scf_writer *out, uint64_t v) {
    char tmp[24];
    int i = (int)sizeof tmp;
    do { tmp[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    return scf_write(out, tmp + i, sizeof tmp - (size_t)i);
}

static int put_str(scf_writer *out, const char *key, scf_str s) {
    put(out, key);
    if (!s.ptr) return put(out, "(absent)");
    if (s.ptr[s.len] != '\0') return put(out, "(not NUL-terminated)");
    return scf_write(out, s.ptr, s.len);
}

/* Describes its context so the test can check every field. */
static int context_report(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event;
    put(out, "size="); put_u64(out, ctx->size);
    put(out, " abi="); put_u64(out, ctx->abi_version);
    put_str(out, " request_id=", ctx->request_id);
    put(out, " memory="); put_u64(out, ctx->memory_limit_mb);
    put(out, " time="); put_u64(out, ctx->time_limit_ms);
    put(out, " deadline="); put_u64(out, ctx->deadline_ms);
    put_str(out, " function=", ctx->function_name);
    put_str(out, " namespace=", ctx->function_namespace);
    put_str(out, " version=", ctx->function_version);
    put_str(out, " region=", ctx->region);
    if (ctx->size >= 184) {
        put(out, " platform="); put_u64(out, ctx->platform);
        put_str(out, " arn=", ctx->function_arn);
        put_str(out, " trace=", ctx->trace_id);
        put_str(out, " client_context=", ctx->client_context);
        put_str(out, " cognito=", ctx->cognito_identity);
    }
    put(out, " event_len="); put_u64(out, len);
    put(out, " runtime="); put(out, scf_runtime_version());
    put(out, " runtime_number="); put_u64(out, scf_runtime_version_number());
    put(out, " runtime_abi="); put_u64(out, scf_runtime_abi_version());
    return SCF_OK;
}
SCF_HANDLER(context_report)

/* Fails with its own message, after writing (and discarding) a partial body. */
static int fail_with_message(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)ctx;
    put(out, "partial response that must not be sent");
    scf_writer_reset(out);
    put(out, "cannot handle event: ");
    scf_write(out, event, len);
    return SCF_ERROR;
}
SCF_HANDLER(fail_with_message)

/* Uses the C library beyond what the runtime links for itself (malloc,
 * snprintf), which must still resolve when the handler is linked in. */
static int uses_libc(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)ctx;
    char *copy = malloc(len + 1);
    if (!copy) return SCF_ERROR;
    memcpy(copy, event, len);
    copy[len] = '\0';
    char line[96];
    int n = snprintf(line, sizeof line, "%zu bytes, first '%.8s'", len, copy);
    free(copy);
    return scf_write(out, line, (size_t)n);
}
SCF_HANDLER(uses_libc)

/* Fails with a custom code and no message. */
static int fail_silently(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx; (void)out;
    return 42;
}
SCF_HANDLER(fail_silently)

/* Tries to write more than SCF's 6 MB response limit. */
static int too_big(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    static char block[1 << 20];
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 7; i++) {
        if (scf_write(out, block, sizeof block) == SCF_NOMEM) {
            scf_writer_reset(out);
            put(out, "scf_write refused block ");
            put_u64(out, (uint64_t)i);
            return SCF_ERROR;
        }
    }
    return SCF_OK;
}
SCF_HANDLER(too_big)

/* An init hook that fails when FAIL_INIT is set in the environment. */
static int guarded_init(const scf_context *ctx, scf_writer *msg) {
    if (getenv("FAIL_INIT")) {
        put(msg, "config missing for ");
        scf_write(msg, ctx->function_name.ptr, ctx->function_name.len);
        return 3;
    }
    return SCF_OK;
}

static int guarded(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)ctx;
    put(out, "guarded:");
    return scf_write(out, event, len);
}
SCF_HANDLER_WITH_INIT(guarded, guarded_init)

/* Writes 7 MiB ignoring what scf_write returns (it refuses past SCF's 6 MB, 6291456 bytes),
 * then reports success: the runtime must not post the cut-off body. */
static int ignores_refusal(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    static char block[1 << 20];
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 7; i++) scf_write(out, block, sizeof block);
    scf_write(out, "!", 1);
    return SCF_OK;
}
SCF_HANDLER(ignores_refusal)

/* Logs with printf on stdout, then echoes the event. */
static int prints(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)ctx;
    printf("event of %zu bytes\n", len);
    fflush(stdout);
    return scf_write(out, event, len);
}
SCF_HANDLER(prints)
