/* A handler compiled against the header of the release before the Lambda
 * dialect (tests/c/v1/scf_bootstrap.h, kept verbatim: a 112-byte
 * scf_context). Linked into today's runtime, it must keep working on both
 * platforms: the fields it knows sit where they always did. */
#include <string.h>
#include "v1/scf_bootstrap.h"

_Static_assert(sizeof(scf_context) == 112, "the old header's context");

static int put(scf_writer *out, const char *s) { return scf_write(out, s, strlen(s)); }

static int put_str(scf_writer *out, const char *key, scf_str s) {
    put(out, key);
    if (!s.ptr) return put(out, "(absent)");
    return scf_write(out, s.ptr, s.len);
}

static int old_report(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    put(out, "size_at_least_112=");
    put(out, ctx->size >= sizeof(scf_context) ? "yes" : "no");
    put_str(out, " request_id=", ctx->request_id);
    put_str(out, " function=", ctx->function_name);
    put_str(out, " region=", ctx->region);
    put(out, " event=");
    return scf_write(out, event, len);
}
SCF_HANDLER(old_report)
