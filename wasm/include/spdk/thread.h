/* SPDK threads: lightweight execution contexts with message queues and pollers.
 * Many SPDK threads share the one wasm OS thread; the driver polls each in turn
 * (spdk_thread_poll), exactly as a reactor would. */
#ifndef SPDK_THREAD_H
#define SPDK_THREAD_H

#include "spdk/stdinc.h"

struct spdk_thread;
struct spdk_poller;
struct spdk_cpuset;

typedef void (*spdk_msg_fn)(void *ctx);
typedef int (*spdk_poller_fn)(void *ctx);

enum spdk_thread_poller_rc {
	SPDK_POLLER_IDLE,
	SPDK_POLLER_BUSY,
};

#define SPDK_DEFAULT_MSG_MEMPOOL_SIZE (262144 - 1)

/* cpumask is accepted for API shape and ignored: there is one core. */
struct spdk_thread *spdk_thread_create(const char *name, const struct spdk_cpuset *cpumask);
void spdk_set_thread(struct spdk_thread *thread);
struct spdk_thread *spdk_get_thread(void);
struct spdk_thread *spdk_thread_get_app_thread(void);
const char *spdk_thread_get_name(const struct spdk_thread *thread);
uint64_t spdk_thread_get_id(const struct spdk_thread *thread);

int spdk_thread_exit(struct spdk_thread *thread);
bool spdk_thread_is_exited(struct spdk_thread *thread);
bool spdk_thread_is_running(struct spdk_thread *thread);
void spdk_thread_destroy(struct spdk_thread *thread);

/* Run up to max_msgs messages (0 = a default batch), then the pollers that are due at 'now'
 * (ticks; 0 = read the clock). Returns 1 if anything did work, 0 if idle. */
int spdk_thread_poll(struct spdk_thread *thread, uint32_t max_msgs, uint64_t now);

/* Tick at which the earliest timed poller of 'thread' is due, or 0 if it has none. */
uint64_t spdk_thread_next_poller_expiration(struct spdk_thread *thread);
bool spdk_thread_has_active_pollers(struct spdk_thread *thread);
bool spdk_thread_has_pollers(struct spdk_thread *thread);
bool spdk_thread_is_idle(struct spdk_thread *thread);

int spdk_thread_send_msg(const struct spdk_thread *thread, spdk_msg_fn fn, void *ctx);

struct spdk_poller *spdk_poller_register(spdk_poller_fn fn, void *arg, uint64_t period_microseconds);
struct spdk_poller *spdk_poller_register_named(spdk_poller_fn fn, void *arg,
		uint64_t period_microseconds, const char *name);
void spdk_poller_unregister(struct spdk_poller **ppoller);

#define SPDK_POLLER_REGISTER(fn, arg, period_us) \
	spdk_poller_register_named(fn, arg, period_us, #fn)

/* Not upstream API: iteration over all live threads, for the wasm driver's "poll every thread
 * once" step (upstream's reactors own that loop instead). */
struct spdk_thread *spdk_thread_get_first(void);
struct spdk_thread *spdk_thread_get_next(struct spdk_thread *prev);
/* Not upstream: messages wait on the thread (sent after its last batch), so the driver polls
 * again even when the last poll did no work. */
bool spdk_thread_has_pending_msgs(struct spdk_thread *thread);
/* Not upstream: frees every thread's cached messages (leak checks read the heap without them). */
void spdk_thread_msg_cache_drain(void);

#endif /* SPDK_THREAD_H */
