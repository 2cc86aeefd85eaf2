/*
 * The guide's echo function against include/scf_bootstrap.h, for the
 * benchmark only. scripts/bench links examples/c/echo.c (the project's C
 * example) when it exists and falls back to this file otherwise, so that
 * the benchmark does not depend on the example's progress. Same behaviour:
 * the event and a newline to stderr in one writev, then
 * "Echoing request: '<event>'".
 */
#include <sys/uio.h>

#include "scf_bootstrap.h"

static int main_handler(const uint8_t *event, size_t event_len,
                        const scf_context *ctx, scf_writer *out) {
    (void)ctx;
    struct iovec line[2] = {{(void *)event, event_len}, {"\n", 1}};
    (void)writev(2, line, 2); /* best effort, as a log line */
    static const char head[] = "Echoing request: '";
    if (scf_write(out, head, sizeof head - 1) != SCF_OK ||
        scf_write(out, event, event_len) != SCF_OK ||
        scf_write(out, "'", 1) != SCF_OK)
        return SCF_NOMEM;
    return SCF_OK;
}
SCF_HANDLER(main_handler)
