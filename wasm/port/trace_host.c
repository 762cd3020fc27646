/* The C half of the trace (see spdk_internal/trace_host.h). The host folds `hash` into the
 * world's TraceHash as two words, so the two hashes need not share a function. */
#include "spdk_internal/trace_host.h"

struct spdk_wasm_trace_state g_spdk_wasm_trace = {
	.hash = 0xcbf29ce484222325ull,	/* FNV-1a 64-bit offset basis */
};

/* FNV-1a of a name: the word that stands for a trace point's name. */
uint32_t
spdk_wasm_trace_name_hash(const char *name)
{
	uint32_t h = 0x811c9dc5u;

	while (*name != '\0') {
		h = (h ^ (uint8_t)*name++) * 0x01000193u;
	}
	return h;
}
