/* The C side of the ABI layout check: the same numbers src/ffi.rs asserts
 * at compile time. Compiled by tests/handlers.rs with -Wall -Wextra -Werror. */
#include <stddef.h>
#include "scf_bootstrap.h"

_Static_assert(SCF_ABI_VERSION == 1, "ABI version");
_Static_assert(sizeof(scf_str) == 16 && _Alignof(scf_str) == 8, "scf_str");
_Static_assert(sizeof(scf_handler_entry) == 32 && _Alignof(scf_handler_entry) == 8, "entry size");
_Static_assert(offsetof(scf_handler_entry, abi_version) == 0, "entry.abi_version");
_Static_assert(offsetof(scf_handler_entry, name) == 8, "entry.name");
_Static_assert(offsetof(scf_handler_entry, handle) == 16, "entry.handle");
_Static_assert(offsetof(scf_handler_entry, init) == 24, "entry.init");
_Static_assert(sizeof(scf_context) == 184 && _Alignof(scf_context) == 8, "context size");
_Static_assert(offsetof(scf_context, request_id) == 8, "context.request_id");
_Static_assert(offsetof(scf_context, memory_limit_mb) == 24, "context.memory_limit_mb");
_Static_assert(offsetof(scf_context, time_limit_ms) == 32, "context.time_limit_ms");
_Static_assert(offsetof(scf_context, deadline_ms) == 40, "context.deadline_ms");
_Static_assert(offsetof(scf_context, function_name) == 48, "context.function_name");
_Static_assert(offsetof(scf_context, function_namespace) == 64, "context.function_namespace");
_Static_assert(offsetof(scf_context, function_version) == 80, "context.function_version");
_Static_assert(offsetof(scf_context, region) == 96, "context.region");
_Static_assert(offsetof(scf_context, platform) == 112, "context.platform");
_Static_assert(offsetof(scf_context, function_arn) == 120, "context.function_arn");
_Static_assert(offsetof(scf_context, trace_id) == 136, "context.trace_id");
_Static_assert(offsetof(scf_context, client_context) == 152, "context.client_context");
_Static_assert(offsetof(scf_context, cognito_identity) == 168, "context.cognito_identity");
_Static_assert(SCF_PLATFORM_SCF == 1 && SCF_PLATFORM_LAMBDA == 2, "platform values");

static int noop(const uint8_t *e, size_t n, const scf_context *c, scf_writer *o) {
    (void)e; (void)n; (void)c; (void)o;
    return SCF_OK;
}
SCF_HANDLER(noop)
