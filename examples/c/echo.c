/*
 * echo.c -- the echo function of Tencent's Custom Runtime guide, in C.
 *
 * The guide's bash handler prints the event to stderr (which SCF keeps as
 * the invocation's log) and answers "Echoing request: '<event>'". This is
 * the same function against include/scf_bootstrap.h.
 *
 * Build and package it:
 *     scripts/package --handler examples/c/echo.c -o echo.zip
 * and deploy with the handler setting `index.main_handler`: the part after
 * the dot picks the handler registered below.
 */
#include <errno.h>
#include <sys/uio.h>

#include "scf_bootstrap.h"

/* Writes the event and a newline to stderr as one line. writev keeps the
 * line in one piece in the log where a short write allows it; a short write
 * (a full pipe, a signal) is finished with further calls. Logging is best
 * effort: a failure to log does not fail the invocation. writev is the call
 * the runtime itself uses for its own log lines, so it costs no extra code. */
static void log_line(const uint8_t *event, size_t event_len) {
    struct iovec iov[2] = {
        {(void *)event, event_len},
        {"\n", 1},
    };
    struct iovec *v = iov;
    int n = 2;
    while (n > 0) {
        ssize_t w = writev(2, v, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        size_t done = (size_t)w;
        while (n > 0 && done >= v->iov_len) {
            done -= v->iov_len;
            v++;
            n--;
        }
        if (n > 0) {
            v->iov_base = (char *)v->iov_base + done;
            v->iov_len -= done;
        }
    }
}

static int main_handler(const uint8_t *event, size_t event_len,
                        const scf_context *ctx, scf_writer *out) {
    (void)ctx;
    log_line(event, event_len);
    /* Each scf_write appends all of its bytes or none; it fails only when
     * the response would pass SCF's 6 MB limit (or memory runs out). */
    static const char head[] = "Echoing request: '";
    int rc = scf_write(out, head, sizeof head - 1);
    if (rc == SCF_OK)
        rc = scf_write(out, event, event_len);
    if (rc == SCF_OK)
        rc = scf_write(out, "'", 1);
    if (rc != SCF_OK) {
        /* Half an echo would make a misleading error message. */
        static const char msg[] = "the echo of this event exceeds SCF's 6 MB response limit";
        scf_writer_reset(out);
        scf_write(out, msg, sizeof msg - 1);
    }
    return rc;
}
SCF_HANDLER(main_handler)
