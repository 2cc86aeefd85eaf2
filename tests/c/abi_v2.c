/* A record claiming a future ABI version: the runtime must refuse to start. */
#include "scf_bootstrap.h"

static int future(const uint8_t *e, size_t n, const scf_context *c, scf_writer *o) {
    (void)e; (void)n; (void)c; (void)o;
    return SCF_OK;
}
static const scf_handler_entry future_entry SCF__ENTRY_ATTRS = {2, 0, "future", future, NULL};
