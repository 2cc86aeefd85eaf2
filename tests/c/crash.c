/* A handler that crashes (SIGSEGV) mid-invocation, for the crash-reporting
 * case of tests/cargo_lambda.rs. */
#include <stddef.h>
#include "scf_bootstrap.h"

static int crash(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    scf_write(out, "partial", 7);
    volatile int *volatile nowhere = NULL;
    return *nowhere;
}
SCF_HANDLER(crash)
