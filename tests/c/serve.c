/* The handler of the push-mode tests (tests/serve.rs): one handler whose
 * event says what to do, so that one `bootstrap serve` process meets every
 * case in turn and shows that the server goes on.
 *
 *   crash          dereferences NULL (SIGSEGV)
 *   abort          calls abort() (SIGABRT)
 *   fail:MESSAGE   fails with MESSAGE as its message
 *   silent         fails with status 7 and no message
 *   len            answers the event's length
 *   sleep:MS ...   sleeps MS milliseconds, then answers as below
 *   anything else  answers its context, `key=value` separated by spaces,
 *                  with the time it started and ended (CLOCK_MONOTONIC,
 *                  microseconds) and its process id
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int starts(const uint8_t *event, size_t len, const char *word) {
    size_t n = strlen(word);
    return len >= n && memcmp(event, word, n) == 0;
}

static int probe(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    uint64_t start = now_us();
    if (starts(event, len, "crash")) {
        scf_write(out, "partial", 7);
        volatile int *volatile nowhere = NULL;
        return *nowhere;
    }
    if (starts(event, len, "abort")) abort();
    if (starts(event, len, "fail:")) {
        scf_write(out, event + 5, len - 5);
        return SCF_ERROR;
    }
    if (starts(event, len, "silent")) return 7;
    if (starts(event, len, "len")) return put_u64(out, len);
    if (starts(event, len, "sleep:")) usleep((useconds_t)atoi((const char *)event + 6) * 1000u);
    put_str(out, "request_id=", ctx->request_id);
    put(out, " memory="); put_u64(out, ctx->memory_limit_mb);
    put(out, " time="); put_u64(out, ctx->time_limit_ms);
    put(out, " deadline="); put_u64(out, ctx->deadline_ms);
    put_str(out, " function=", ctx->function_name);
    put_str(out, " namespace=", ctx->function_namespace);
    put_str(out, " version=", ctx->function_version);
    put_str(out, " region=", ctx->region);
    put(out, " platform="); put_u64(out, ctx->platform);
    put(out, " event_len="); put_u64(out, len);
    put(out, " pid="); put_u64(out, (uint64_t)getpid());
    put(out, " start="); put_u64(out, start);
    put(out, " end="); return put_u64(out, now_us());
}
SCF_HANDLER(probe)
