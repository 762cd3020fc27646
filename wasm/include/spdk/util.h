/* The few helpers of upstream's spdk/util.h that this tree uses. */
#ifndef SPDK_UTIL_H
#define SPDK_UTIL_H

#include "spdk/stdinc.h"

#define SPDK_CACHE_LINE_SIZE 64

#define spdk_min(a, b) (((a) < (b)) ? (a) : (b))
#define spdk_max(a, b) (((a) > (b)) ? (a) : (b))

#define SPDK_COUNTOF(arr) (sizeof(arr) / sizeof((arr)[0]))

#define SPDK_CONTAINEROF(ptr, type, member) \
	((type *)((uintptr_t)(ptr) - offsetof(type, member)))

#define _SPDK_STRINGIFY(x) #x
#define SPDK_STRINGIFY(x) _SPDK_STRINGIFY(x)

/* Read a field of a caller-sized options struct, or a default when the caller's struct is
 * too small to hold it (ABI-safe option structs carry their own size). */
#define SPDK_GET_FIELD(obj, field, defval, size) \
	((size) >= (offsetof(__typeof__(*(obj)), field) + sizeof((obj)->field)) ? \
	 (obj)->field : (defval))

#define SPDK_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)

/* a * b in 64 bits; false when the product does not fit (the caller refuses the size). */
static inline bool
spdk_u64_mul_ok(uint64_t a, uint64_t b, uint64_t *product)
{
	if (b != 0 && a > UINT64_MAX / b) {
		return false;
	}
	*product = a * b;
	return true;
}

/* count objects of elem bytes as an allocation size: false when the byte count does not fit
 * in size_t (32 bits on wasm32), so the caller fails with -ENOMEM before a truncated malloc. */
static inline bool
spdk_alloc_size_ok(uint64_t count, uint64_t elem, size_t *bytes)
{
	uint64_t n;

	if (!spdk_u64_mul_ok(count, elem, &n) || n > SIZE_MAX) {
		return false;
	}
	*bytes = (size_t)n;
	return true;
}

/* Copies the bytes described by siov into diov, piece by piece, until either list ends or
 * reaches a zero-length element (as upstream's iovec iterator, which stops there). Returns the
 * bytes copied. The two may not overlap. */
size_t spdk_iovcpy(struct iovec *siov, size_t siovcnt, struct iovec *diov, size_t diovcnt);

/* The current time as RFC 3339 UTC ("1970-01-01T00:00:05Z"); -ENOSPC if buf is too small.
 * The time is the virtual clock's (lib/util/time.c). */
int spdk_current_utc_time_rfc3339(char *buf, size_t buf_size);

#endif /* SPDK_UTIL_H */
