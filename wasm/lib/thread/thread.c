/* lib/thread: SPDK threads, messages and pollers on a single OS thread.
 *
 * Each spdk_thread owns a FIFO of messages, a list of untimed ("active") pollers that run on
 * every poll, and a list of timed pollers ordered by due tick. spdk_thread_poll() runs one
 * round on one thread. Time is the world's virtual clock (spdk_get_ticks), so a timed poller
 * runs when the host has moved the clock past its due tick, never early. */
#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/log.h"
#include "spdk/queue.h"
#include "spdk/thread.h"
#include "spdk_internal/trace_host.h"

#define SPDK_MSG_BATCH_SIZE	8
/* Messages each thread keeps for reuse (upstream's per-thread cache in front of the global
 * message mempool, SPDK_MSG_MEMPOOL_CACHE_SIZE). */
#define SPDK_MSG_MEMPOOL_CACHE_SIZE	1024
#define SPDK_MAX_POLLER_NAME_LEN	256
#define SPDK_MAX_THREAD_NAME_LEN	256

enum spdk_poller_state {
	/* Registered, waiting to run. */
	SPDK_POLLER_STATE_WAITING,
	/* Its function is executing right now. */
	SPDK_POLLER_STATE_RUNNING,
	/* Unregistered; freed by its thread at the next safe point. */
	SPDK_POLLER_STATE_UNREGISTERED,
};

struct spdk_poller {
	TAILQ_ENTRY(spdk_poller)	tailq;
	enum spdk_poller_state		state;
	uint64_t			period_ticks;
	uint64_t			next_run_tick;
	uint64_t			run_count;
	uint64_t			busy_count;
	spdk_poller_fn			fn;
	void				*arg;
	struct spdk_thread		*thread;
	char				name[SPDK_MAX_POLLER_NAME_LEN + 1];
};

enum spdk_thread_state {
	SPDK_THREAD_STATE_RUNNING,
	SPDK_THREAD_STATE_EXITING,
	SPDK_THREAD_STATE_EXITED,
};

struct spdk_msg {
	spdk_msg_fn		fn;
	void			*arg;
	STAILQ_ENTRY(spdk_msg)	link;
};

struct spdk_thread {
	uint64_t			id;
	enum spdk_thread_state		state;
	TAILQ_HEAD(active_pollers_head, spdk_poller)	active_pollers;
	TAILQ_HEAD(, spdk_poller)	timed_pollers;
	STAILQ_HEAD(, spdk_msg)		messages;
	STAILQ_HEAD(, spdk_msg)		msg_cache;
	size_t				msg_cache_count;
	uint64_t			tsc_last;
	TAILQ_ENTRY(spdk_thread)	tailq;
	char				name[SPDK_MAX_THREAD_NAME_LEN + 1];
};

static TAILQ_HEAD(, spdk_thread) g_threads = TAILQ_HEAD_INITIALIZER(g_threads);
static uint64_t g_thread_id = 1;
static struct spdk_thread *g_app_thread;
/* Upstream keeps this in a thread-local variable; one OS thread makes it a plain global. */
static struct spdk_thread *tls_thread;

/* The world's virtual clock. The host writes it before every call into the module
 * (host/spdk/machine.ts): time never moves while C code runs, so reading it needs no import. */
struct spdk_wasm_clock g_spdk_wasm_clock;

uint64_t
spdk_get_ticks(void)
{
	return (uint64_t)g_spdk_wasm_clock.now_us;
}

uint64_t
spdk_get_ticks_hz(void)
{
	return 1000000ULL;
}

struct spdk_thread *
spdk_thread_create(const char *name, const struct spdk_cpuset *cpumask)
{
	struct spdk_thread *thread;

	(void)cpumask;
	thread = calloc(1, sizeof(*thread));
	if (thread == NULL) {
		SPDK_ERRLOG("Unable to allocate memory for thread\n");
		return NULL;
	}

	thread->id = g_thread_id++;
	thread->state = SPDK_THREAD_STATE_RUNNING;
	TAILQ_INIT(&thread->active_pollers);
	TAILQ_INIT(&thread->timed_pollers);
	STAILQ_INIT(&thread->messages);
	STAILQ_INIT(&thread->msg_cache);
	thread->tsc_last = spdk_get_ticks();
	if (name != NULL) {
		snprintf(thread->name, sizeof(thread->name), "%s", name);
	} else {
		snprintf(thread->name, sizeof(thread->name), "%p", (void *)thread);
	}

	TAILQ_INSERT_TAIL(&g_threads, thread, tailq);
	if (g_app_thread == NULL) {
		/* As upstream: the first thread created is the app thread. */
		g_app_thread = thread;
	}
	SPDK_WASM_TRACE("spdk_thread_create", thread->id, 0, 0, 0);
	return thread;
}

void
spdk_set_thread(struct spdk_thread *thread)
{
	tls_thread = thread;
}

struct spdk_thread *
spdk_get_thread(void)
{
	return tls_thread;
}

struct spdk_thread *
spdk_thread_get_app_thread(void)
{
	return g_app_thread;
}

const char *
spdk_thread_get_name(const struct spdk_thread *thread)
{
	return thread->name;
}

uint64_t
spdk_thread_get_id(const struct spdk_thread *thread)
{
	return thread->id;
}

struct spdk_thread *
spdk_thread_get_first(void)
{
	return TAILQ_FIRST(&g_threads);
}

struct spdk_thread *
spdk_thread_get_next(struct spdk_thread *prev)
{
	return TAILQ_NEXT(prev, tailq);
}

static bool
thread_has_unreleased_pollers(struct spdk_thread *thread)
{
	struct spdk_poller *poller;

	TAILQ_FOREACH(poller, &thread->active_pollers, tailq) {
		if (poller->state != SPDK_POLLER_STATE_UNREGISTERED) {
			return true;
		}
	}
	TAILQ_FOREACH(poller, &thread->timed_pollers, tailq) {
		if (poller->state != SPDK_POLLER_STATE_UNREGISTERED) {
			return true;
		}
	}
	return false;
}

int
spdk_thread_exit(struct spdk_thread *thread)
{
	if (thread->state != SPDK_THREAD_STATE_RUNNING) {
		return 0;
	}
	thread->state = SPDK_THREAD_STATE_EXITING;
	return 0;
}

bool
spdk_thread_is_exited(struct spdk_thread *thread)
{
	return thread->state == SPDK_THREAD_STATE_EXITED;
}

bool
spdk_thread_is_running(struct spdk_thread *thread)
{
	return thread->state == SPDK_THREAD_STATE_RUNNING;
}

static void
thread_free_pollers(struct spdk_thread *thread)
{
	struct spdk_poller *poller, *tmp;

	TAILQ_FOREACH_SAFE(poller, &thread->active_pollers, tailq, tmp) {
		TAILQ_REMOVE(&thread->active_pollers, poller, tailq);
		free(poller);
	}
	TAILQ_FOREACH_SAFE(poller, &thread->timed_pollers, tailq, tmp) {
		TAILQ_REMOVE(&thread->timed_pollers, poller, tailq);
		free(poller);
	}
}

static void
thread_free_msg_cache(struct spdk_thread *thread)
{
	struct spdk_msg *msg;

	while ((msg = STAILQ_FIRST(&thread->msg_cache)) != NULL) {
		STAILQ_REMOVE_HEAD(&thread->msg_cache, link);
		free(msg);
	}
	thread->msg_cache_count = 0;
}

void
spdk_thread_destroy(struct spdk_thread *thread)
{
	struct spdk_msg *msg;

	if (thread->state != SPDK_THREAD_STATE_EXITED) {
		SPDK_ERRLOG("thread %s destroyed while in state %d (expected EXITED)\n",
			    thread->name, thread->state);
	}
	if (tls_thread == thread) {
		tls_thread = NULL;
	}
	if (g_app_thread == thread) {
		g_app_thread = NULL;
	}
	thread_free_pollers(thread);
	while ((msg = STAILQ_FIRST(&thread->messages)) != NULL) {
		STAILQ_REMOVE_HEAD(&thread->messages, link);
		free(msg);
	}
	thread_free_msg_cache(thread);
	TAILQ_REMOVE(&g_threads, thread, tailq);
	free(thread);
}

static void
poller_insert_timer(struct spdk_thread *thread, struct spdk_poller *poller, uint64_t now)
{
	struct spdk_poller *iter;

	poller->next_run_tick = now + poller->period_ticks;
	/* Keep timed_pollers sorted by due tick; equal ticks keep registration order. */
	TAILQ_FOREACH(iter, &thread->timed_pollers, tailq) {
		if (iter->next_run_tick > poller->next_run_tick) {
			break;
		}
	}
	if (iter != NULL) {
		TAILQ_INSERT_BEFORE(iter, poller, tailq);
	} else {
		TAILQ_INSERT_TAIL(&thread->timed_pollers, poller, tailq);
	}
}

struct spdk_poller *
spdk_poller_register_named(spdk_poller_fn fn, void *arg, uint64_t period_microseconds,
			   const char *name)
{
	struct spdk_thread *thread;
	struct spdk_poller *poller;

	thread = spdk_get_thread();
	if (thread == NULL) {
		SPDK_ERRLOG("called from non-SPDK thread\n");
		return NULL;
	}
	if (thread->state == SPDK_THREAD_STATE_EXITED) {
		SPDK_ERRLOG("thread %s is marked as exited\n", thread->name);
		return NULL;
	}

	poller = calloc(1, sizeof(*poller));
	if (poller == NULL) {
		SPDK_ERRLOG("Poller memory allocation failed\n");
		return NULL;
	}

	snprintf(poller->name, sizeof(poller->name), "%s", name ? name : "poller");
	poller->state = SPDK_POLLER_STATE_WAITING;
	poller->fn = fn;
	poller->arg = arg;
	poller->thread = thread;
	/* hz is 1e6, so microseconds are ticks. */
	poller->period_ticks = period_microseconds * spdk_get_ticks_hz() / 1000000ULL;

	if (poller->period_ticks) {
		poller_insert_timer(thread, poller, spdk_get_ticks());
	} else {
		TAILQ_INSERT_TAIL(&thread->active_pollers, poller, tailq);
	}
	return poller;
}

struct spdk_poller *
spdk_poller_register(spdk_poller_fn fn, void *arg, uint64_t period_microseconds)
{
	return spdk_poller_register_named(fn, arg, period_microseconds, NULL);
}

void
spdk_poller_unregister(struct spdk_poller **ppoller)
{
	struct spdk_poller *poller = *ppoller;

	if (poller == NULL) {
		return;
	}
	*ppoller = NULL;

	if (poller->thread != spdk_get_thread()) {
		/* Upstream aborts here; the wasm build logs and still unregisters, since there is
		 * only one OS thread and no race is possible. */
		SPDK_ERRLOG("poller %s unregistered from a thread that does not own it\n", poller->name);
	}
	/* Freed by its thread at the next safe point, so a poller may unregister itself. */
	poller->state = SPDK_POLLER_STATE_UNREGISTERED;
}

int
spdk_thread_send_msg(const struct spdk_thread *thread, spdk_msg_fn fn, void *ctx)
{
	struct spdk_thread *t = (struct spdk_thread *)thread;
	struct spdk_msg *msg;

	assert(fn != NULL);
	if (t == NULL || t->state == SPDK_THREAD_STATE_EXITED) {
		SPDK_ERRLOG("Thread %s is marked as exited.\n", t ? t->name : "(null)");
		return -EIO;
	}
	/* From the sending thread's cache, as upstream; else a new one (upstream's mempool). */
	msg = NULL;
	if (tls_thread != NULL && tls_thread->msg_cache_count > 0) {
		msg = STAILQ_FIRST(&tls_thread->msg_cache);
		STAILQ_REMOVE_HEAD(&tls_thread->msg_cache, link);
		tls_thread->msg_cache_count--;
	} else {
		msg = calloc(1, sizeof(*msg));
	}
	if (msg == NULL) {
		SPDK_ERRLOG("msg could not be allocated\n");
		return -ENOMEM;
	}
	msg->fn = fn;
	msg->arg = ctx;
	STAILQ_INSERT_TAIL(&t->messages, msg, link);
	return 0;
}

static uint32_t
msg_queue_run_batch(struct spdk_thread *thread, uint32_t max_msgs)
{
	STAILQ_HEAD(, spdk_msg) batch = STAILQ_HEAD_INITIALIZER(batch);
	uint32_t count = 0;
	struct spdk_msg *msg;

	if (max_msgs == 0) {
		max_msgs = SPDK_MSG_BATCH_SIZE;
	}
	/* Take the batch off the queue before running any of it, as upstream dequeues from its
	 * ring: a message these send (even to this thread) runs on the next poll, not in this one. */
	while (count < max_msgs && (msg = STAILQ_FIRST(&thread->messages)) != NULL) {
		STAILQ_REMOVE_HEAD(&thread->messages, link);
		STAILQ_INSERT_TAIL(&batch, msg, link);
		count++;
	}
	while ((msg = STAILQ_FIRST(&batch)) != NULL) {
		STAILQ_REMOVE_HEAD(&batch, link);
		msg->fn(msg->arg);
		if (thread->msg_cache_count < SPDK_MSG_MEMPOOL_CACHE_SIZE) {
			STAILQ_INSERT_HEAD(&thread->msg_cache, msg, link);
			thread->msg_cache_count++;
		} else {
			free(msg);
		}
	}
	return count;
}

static int
thread_execute_poller(struct spdk_thread *thread, struct spdk_poller *poller)
{
	int rc;

	(void)thread;
	poller->state = SPDK_POLLER_STATE_RUNNING;
	rc = poller->fn(poller->arg);
	poller->run_count++;
	if (rc > 0) {
		poller->busy_count++;
	}
	if (poller->state == SPDK_POLLER_STATE_RUNNING) {
		poller->state = SPDK_POLLER_STATE_WAITING;
	}
	return rc;
}

static void
thread_reap_pollers(struct spdk_thread *thread)
{
	struct spdk_poller *poller, *tmp;

	TAILQ_FOREACH_SAFE(poller, &thread->active_pollers, tailq, tmp) {
		if (poller->state == SPDK_POLLER_STATE_UNREGISTERED) {
			TAILQ_REMOVE(&thread->active_pollers, poller, tailq);
			free(poller);
		}
	}
	TAILQ_FOREACH_SAFE(poller, &thread->timed_pollers, tailq, tmp) {
		if (poller->state == SPDK_POLLER_STATE_UNREGISTERED) {
			TAILQ_REMOVE(&thread->timed_pollers, poller, tailq);
			free(poller);
		}
	}
}

static int
thread_poll(struct spdk_thread *thread, uint32_t max_msgs, uint64_t now)
{
	struct spdk_poller *poller, *tmp;
	uint32_t msg_count;
	int rc = 0;

	thread->tsc_last = now;
	msg_count = msg_queue_run_batch(thread, max_msgs);
	if (msg_count) {
		rc = 1;
	}

	/* Untimed pollers, newest first as upstream walks them (from the tail). One registered
	 * during the walk lands at the tail, behind it, and first runs on the next poll; one
	 * unregistered is only marked, so the saved neighbour stays valid, and is reaped below. */
	for (poller = TAILQ_LAST(&thread->active_pollers, active_pollers_head); poller != NULL; poller = tmp) {
		int poller_rc;

		tmp = TAILQ_PREV(poller, active_pollers_head, tailq);
		if (poller->state == SPDK_POLLER_STATE_UNREGISTERED) {
			continue;
		}
		poller_rc = thread_execute_poller(thread, poller);
		if (poller_rc > rc) {
			rc = poller_rc;
		}
	}

	/* Timed pollers that are due, earliest first. Each is re-armed relative to 'now' and
	 * moved, so iterate from the head each time. */
	while ((poller = TAILQ_FIRST(&thread->timed_pollers)) != NULL) {
		int timer_rc;

		if (poller->state == SPDK_POLLER_STATE_UNREGISTERED) {
			TAILQ_REMOVE(&thread->timed_pollers, poller, tailq);
			free(poller);
			continue;
		}
		if (now < poller->next_run_tick) {
			break;
		}
		TAILQ_REMOVE(&thread->timed_pollers, poller, tailq);
		timer_rc = thread_execute_poller(thread, poller);
		if (poller->state == SPDK_POLLER_STATE_UNREGISTERED) {
			free(poller);
		} else {
			poller_insert_timer(thread, poller, now);
		}
		if (timer_rc > rc) {
			rc = timer_rc;
		}
	}

	thread_reap_pollers(thread);

	if (thread->state == SPDK_THREAD_STATE_EXITING && !thread_has_unreleased_pollers(thread) &&
	    STAILQ_EMPTY(&thread->messages)) {
		thread->state = SPDK_THREAD_STATE_EXITED;
		SPDK_WASM_TRACE("spdk_thread_exit", thread->id, 0, 0, 0);
	}
	return rc;
}

int
spdk_thread_poll(struct spdk_thread *thread, uint32_t max_msgs, uint64_t now)
{
	struct spdk_thread *orig_thread;
	int rc;

	if (thread->state == SPDK_THREAD_STATE_EXITED) {
		return 0;
	}
	if (now == 0) {
		now = spdk_get_ticks();
	}
	orig_thread = tls_thread;
	tls_thread = thread;
	rc = thread_poll(thread, max_msgs, now);
	tls_thread = orig_thread;
	return rc > 0 ? 1 : 0;
}

bool
spdk_thread_has_pending_msgs(struct spdk_thread *thread)
{
	return !STAILQ_EMPTY(&thread->messages);
}

void
spdk_thread_msg_cache_drain(void)
{
	struct spdk_thread *thread;

	TAILQ_FOREACH(thread, &g_threads, tailq) {
		thread_free_msg_cache(thread);
	}
}

uint64_t
spdk_thread_next_poller_expiration(struct spdk_thread *thread)
{
	struct spdk_poller *poller;

	TAILQ_FOREACH(poller, &thread->timed_pollers, tailq) {
		if (poller->state != SPDK_POLLER_STATE_UNREGISTERED) {
			return poller->next_run_tick;
		}
	}
	return 0;
}

bool
spdk_thread_has_active_pollers(struct spdk_thread *thread)
{
	struct spdk_poller *poller;

	TAILQ_FOREACH(poller, &thread->active_pollers, tailq) {
		if (poller->state != SPDK_POLLER_STATE_UNREGISTERED) {
			return true;
		}
	}
	return false;
}

bool
spdk_thread_has_pollers(struct spdk_thread *thread)
{
	return thread_has_unreleased_pollers(thread);
}

bool
spdk_thread_is_idle(struct spdk_thread *thread)
{
	return STAILQ_EMPTY(&thread->messages) && !thread_has_unreleased_pollers(thread);
}
