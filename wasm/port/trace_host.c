/* The C half of the trace (see spdk_internal/trace_host.h): the same word hash as TraceHash in
 * host/sim/trace.ts, so a point hashed here and one hashed by the host mix alike. */
#include "spdk_internal/trace_host.h"

struct spdk_wasm_trace_state g_spdk_wasm_trace = {
	.lane_a = 0x811c9dc5u,
	.lane_b = 0x5bd1e995u,
};

/* FNV-1a of a name, as nameHash() in host/sim/trace.ts. */
uint32_t
spdk_wasm_trace_name_hash(const char *name)
{
	uint32_t h = 0x811c9dc5u;

	while (*name != '\0') {
		h = (h ^ (uint8_t)*name++) * 0x01000193u;
	}
	return h;
}

static inline void
trace_word(uint32_t w)
{
	g_spdk_wasm_trace.lane_a = (g_spdk_wasm_trace.lane_a ^ w) * 0x01000193u;
	g_spdk_wasm_trace.lane_b = (g_spdk_wasm_trace.lane_b ^ w ^ (g_spdk_wasm_trace.lane_a >> 15)) *
				   0x5bd1e995u;
}

/* Field names of every C trace point: "a".."d", hashed once. */
static uint32_t g_field_hash[4];

void
spdk_wasm_trace_point(const char *name, uint32_t name_hash, uint32_t a, uint32_t b, uint32_t c,
		      uint32_t d)
{
	if (g_field_hash[0] == 0) {
		g_field_hash[0] = spdk_wasm_trace_name_hash("a");
		g_field_hash[1] = spdk_wasm_trace_name_hash("b");
		g_field_hash[2] = spdk_wasm_trace_name_hash("c");
		g_field_hash[3] = spdk_wasm_trace_name_hash("d");
	}
	trace_word(name_hash);
	trace_word(g_field_hash[0] ^ a);
	trace_word(g_field_hash[1] ^ b);
	trace_word(g_field_hash[2] ^ c);
	trace_word(g_field_hash[3] ^ d);
	g_spdk_wasm_trace.count++;
	if (g_spdk_wasm_trace.to_host) {
		host_trace(name, a, b, c, d);
	}
}
