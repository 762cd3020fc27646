/* Test-only exports for lib/thread and for the crash oracle, kept apart from the model's API in
 * spdk_wasm_api.c. Tests reach pollers and messages the way SPDK's thread_ut does: register on a
 * thread, move time, poll, and count what ran. */
#include <emscripten/emscripten.h>
#include <malloc.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/allocator_interface.h>
#define UT_HEAP_FROM_ASAN 1
#endif
#endif

#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/bdev_module.h"
#include "spdk/thread.h"
#include "spdk_internal/trace_host.h"

#define SPDK_WASM_API EMSCRIPTEN_KEEPALIVE

struct ut_poller {
	struct spdk_poller *poller;
	uint32_t runs;
	int busy;
};

static int
ut_poller_fn(void *arg)
{
	struct ut_poller *p = arg;

	p->runs++;
	SPDK_WASM_TRACE("ut.poller", p->runs, (uint32_t)spdk_get_ticks(), (uint32_t)(uintptr_t)p, 0);
	return p->busy ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
}

SPDK_WASM_API struct spdk_thread *
spdk_wasm_ut_thread_create(const char *name)
{
	return spdk_thread_create(name, NULL);
}

/* Registers a poller on `thread` (period 0 = untimed) that counts its runs and reports
 * busy or idle as told. */
SPDK_WASM_API struct ut_poller *
spdk_wasm_ut_poller_register(struct spdk_thread *thread, uint32_t period_us, int busy)
{
	struct spdk_thread *orig = spdk_get_thread();
	struct ut_poller *p;

	if (thread == NULL) {
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	p->busy = busy;
	spdk_set_thread(thread);
	p->poller = spdk_poller_register(ut_poller_fn, p, period_us);
	spdk_set_thread(orig);
	if (p->poller == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

SPDK_WASM_API uint32_t
spdk_wasm_ut_poller_runs(struct ut_poller *p)
{
	return p != NULL ? p->runs : UINT32_MAX;
}

SPDK_WASM_API void
spdk_wasm_ut_poller_unregister(struct spdk_thread *thread, struct ut_poller *p)
{
	struct spdk_thread *orig = spdk_get_thread();

	if (thread == NULL || p == NULL) {
		return;
	}
	spdk_set_thread(thread);
	spdk_poller_unregister(&p->poller);
	spdk_set_thread(orig);
}

/* A tag with UT_MSG_RELAY set sends the tag without it to its own thread when it runs. */
#define UT_MSG_RELAY 0x10000u

static void
ut_msg_fn(void *ctx)
{
	uint32_t tag = (uint32_t)(uintptr_t)ctx;

	SPDK_WASM_TRACE("ut.msg", tag, (uint32_t)spdk_thread_get_id(spdk_get_thread()), 0, 0);
	if (tag & UT_MSG_RELAY) {
		spdk_thread_send_msg(spdk_get_thread(), ut_msg_fn, (void *)(uintptr_t)(tag & ~UT_MSG_RELAY));
	}
}

SPDK_WASM_API int
spdk_wasm_ut_send_msg(struct spdk_thread *thread, uint32_t tag)
{
	if (thread == NULL) {
		return -EINVAL;
	}
	return spdk_thread_send_msg(thread, ut_msg_fn, (void *)(uintptr_t)tag);
}

SPDK_WASM_API uint32_t
spdk_wasm_ut_thread_id(struct spdk_thread *thread)
{
	return thread != NULL ? (uint32_t)spdk_thread_get_id(thread) : 0;
}

SPDK_WASM_API double
spdk_wasm_ut_get_ticks(void)
{
	return (double)spdk_get_ticks();
}

/* Deliberate faults for the crash oracle: 0 abort(), 1 heap use after free (an ASan report on
 * the asan flavor), 2 a WebAssembly trap (unreachable). */
static volatile int *g_ut_dangling;

SPDK_WASM_API int
spdk_wasm_ut_crash(int kind)
{
	switch (kind) {
	case 0:
		abort();
	case 1:
		g_ut_dangling = malloc(16);
		free((void *)g_ut_dangling);
		return g_ut_dangling[1];
	case 2:
		__builtin_trap();
	default:
		return -EINVAL;
	}
}

/* Bytes of heap handed out and not freed, on either flavor: dlmalloc's books on release, the
 * sanitizer allocator's on asan (freed blocks waiting in its quarantine do not count). Leak
 * checks compare two readings; the reuse caches (bdev_ios, messages) are emptied first, as
 * upstream's mempools would hold those objects outside the heap. */
SPDK_WASM_API double
spdk_wasm_ut_heap_bytes(void)
{
	spdk_bdev_io_cache_drain();
	spdk_thread_msg_cache_drain();
#ifdef UT_HEAP_FROM_ASAN
	return (double)__sanitizer_get_current_allocated_bytes();
#else
	return (double)mallinfo().uordblks;
#endif
}
