/* Trace points for the host's structured trace. Upstream records spdk_trace_record() tpoints
 * into shared memory; here each point calls the host import with a string-literal name (the
 * host caches names by pointer, so the name must be a literal) and four 32-bit values.
 * Names follow the upstream function or state they mark. */
#ifndef SPDK_INTERNAL_TRACE_HOST_H
#define SPDK_INTERNAL_TRACE_HOST_H

#include <stdint.h>
#include "host.h"

#define SPDK_WASM_TRACE(name, a, b, c, d) \
	host_trace("" name, (uint32_t)(uintptr_t)(a), (uint32_t)(uintptr_t)(b), \
		   (uint32_t)(uintptr_t)(c), (uint32_t)(uintptr_t)(d))

#endif /* SPDK_INTERNAL_TRACE_HOST_H */
