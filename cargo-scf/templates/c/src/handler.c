/*
 * A function in C on the scf-bootstrap runtime (made by `cargo scf new
 * --lang c`).
 *
 * The contract is scf_bootstrap.h (in the scf-bootstrap crate's include/
 * directory): the handler gets the event's bytes (not NUL-terminated), the
 * invocation's context and a writer for the response; SCF_OK posts what it
 * wrote as the response, anything else posts it as the error message. The
 * runtime's build script compiles this file for musl (.cargo/config.toml
 * names it) and links it into the `bootstrap` that `cargo scf build` zips.
 */
#include <sys/uio.h>

#include "scf_bootstrap.h"

static int main_handler(const uint8_t *event, size_t event_len,
                        const scf_context *ctx, scf_writer *out) {
    /* One line per invocation on stderr: the platform keeps it as the log. */
    struct iovec line[3] = {
        {"request ", 8},
        {(void *)ctx->request_id.ptr, ctx->request_id.len},
        {"\n", 1},
    };
    (void)writev(2, line, 3);

    static const char hello[] = "Hello from C! You sent: ";
    int rc = scf_write(out, hello, sizeof hello - 1);
    if (rc == SCF_OK)
        rc = scf_write(out, event, event_len);
    return rc;
}
/* Registered under its own name: the handler setting `index.main_handler`
 * selects it. */
SCF_HANDLER(main_handler)
