/* Trace points for the host's structured trace. Upstream records spdk_trace_record() tpoints
 * into shared memory; here each point is hashed in linear memory (g_spdk_wasm_trace), which the
 * host folds into the world's trace hash, and is passed to the host import only while the host
 * reads events (a demo's sequence view, a test's onTrace): a trace point costs no crossing of the
 * seam when nobody looks. The name must be a string literal (the host caches names by pointer,
 * each call site caches its name's hash). Names follow the upstream function or state they mark. */
#ifndef SPDK_INTERNAL_TRACE_HOST_H
#define SPDK_INTERNAL_TRACE_HOST_H

#include <stdint.h>
#include "host.h"

/* Read and written by the host (host/spdk/machine.ts); keep the layout in step with it. */
struct spdk_wasm_trace_state {
	uint64_t hash;		/* running FNV-1a style hash over every trace point */
	uint32_t count;		/* trace points since the instance started */
	uint32_t to_host;	/* set by the host while it wants each point as an event */
};

extern struct spdk_wasm_trace_state g_spdk_wasm_trace;

uint32_t spdk_wasm_trace_name_hash(const char *name);

#define SPDK_WASM_TRACE_PRIME 0x100000001b3ull

/* Inline: a 4 KiB NVMe/TCP read passes ~44 points, so three 64-bit multiplies are the whole
 * cost when nobody looks. */
static inline void
spdk_wasm_trace_point(const char *name, uint32_t name_hash, uint32_t a, uint32_t b, uint32_t c,
		      uint32_t d)
{
	uint64_t h = g_spdk_wasm_trace.hash;

	h = (h ^ name_hash) * SPDK_WASM_TRACE_PRIME;
	h = (h ^ ((uint64_t)b << 32 | a)) * SPDK_WASM_TRACE_PRIME;
	h = (h ^ ((uint64_t)d << 32 | c)) * SPDK_WASM_TRACE_PRIME;
	g_spdk_wasm_trace.hash = h;
	g_spdk_wasm_trace.count++;
	if (g_spdk_wasm_trace.to_host) {
		host_trace(name, a, b, c, d);
	}
}

#define SPDK_WASM_TRACE(name, a, b, c, d) do { \
	static uint32_t _spdk_wasm_trace_name_hash; \
	if (_spdk_wasm_trace_name_hash == 0) { \
		_spdk_wasm_trace_name_hash = spdk_wasm_trace_name_hash("" name); \
	} \
	spdk_wasm_trace_point("" name, _spdk_wasm_trace_name_hash, (uint32_t)(uintptr_t)(a), \
			      (uint32_t)(uintptr_t)(b), (uint32_t)(uintptr_t)(c), \
			      (uint32_t)(uintptr_t)(d)); \
} while (0)

#endif /* SPDK_INTERNAL_TRACE_HOST_H */
