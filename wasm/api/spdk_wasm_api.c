/* The whole exported interface of the model, one file (STYLE: quickjs-emscripten). The
 * TypeScript bindings are written against these names; keep names and semantics stable.
 *
 * Pointers cross as 32-bit addresses. Errors are negative errno values (emscripten's
 * numbering, see host/gen/abi.ts). */
#include <emscripten/emscripten.h>

#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/log.h"
#include "spdk/sock.h"
#include "spdk/thread.h"
#include "spdk/util.h"
#include "spdk_internal/sock_module.h"
#include "spdk_internal/trace_host.h"

#include "../module/sock/posix/posix_ut.h"

#define SPDK_WASM_API EMSCRIPTEN_KEEPALIVE

static struct spdk_thread *g_app_thread;

/* ---- world step ---- */

SPDK_WASM_API int
spdk_wasm_init(void)
{
	if (g_app_thread != NULL) {
		return 0;
	}
	/* Modules register from constructors (SPDK_NET_IMPL_REGISTER_DEFAULT), which the
	 * runtime has run by now; check rather than assume. */
	if (spdk_net_impl_get_by_name("posix") == NULL) {
		SPDK_ERRLOG("sock module 'posix' is not registered\n");
		return -ENODEV;
	}
	g_app_thread = spdk_thread_create("app_thread", NULL);
	if (g_app_thread == NULL) {
		return -ENOMEM;
	}
	spdk_set_thread(g_app_thread);
	return 0;
}

SPDK_WASM_API double spdk_wasm_next_deadline_us(void);

/* Poll every SPDK thread once. 1 if any did work (or queued a socket write), else 0. Leaves the
 * next timed poller's due time in g_spdk_wasm_clock, so the host learns it without a second call. */
SPDK_WASM_API int
spdk_wasm_poll_once(void)
{
	struct spdk_thread *thread, *next;
	uint64_t now = spdk_get_ticks();
	int busy = 0;

	g_spdk_wasm_sock_queued = false;
	for (thread = spdk_thread_get_first(); thread != NULL; thread = next) {
		next = spdk_thread_get_next(thread);
		if (spdk_thread_poll(thread, 0, now) > 0) {
			busy = 1;
		}
	}
	/* Writes queued in this poll go out on the reactor's next iteration: poll again at once. */
	if (g_spdk_wasm_sock_queued) {
		busy = 1;
	}
	g_spdk_wasm_clock.next_deadline_us = spdk_wasm_next_deadline_us();
	g_spdk_wasm_clock.pending_msgs = 0;
	for (thread = spdk_thread_get_first(); thread != NULL; thread = spdk_thread_get_next(thread)) {
		if (spdk_thread_has_pending_msgs(thread)) {
			g_spdk_wasm_clock.pending_msgs = 1;
			break;
		}
	}
	return busy;
}

/* Earliest due time (absolute virtual µs) of any timed poller, or -1 if none. */
SPDK_WASM_API double
spdk_wasm_next_deadline_us(void)
{
	struct spdk_thread *thread;
	uint64_t best = 0, t;

	for (thread = spdk_thread_get_first(); thread != NULL; thread = spdk_thread_get_next(thread)) {
		t = spdk_thread_next_poller_expiration(thread);
		if (t != 0 && (best == 0 || t < best)) {
			best = t;
		}
	}
	return best == 0 ? -1.0 : (double)best;
}

/* Where the host writes the virtual clock before each call into the module (port/host.h). */
SPDK_WASM_API struct spdk_wasm_clock *
spdk_wasm_clock(void)
{
	return &g_spdk_wasm_clock;
}

/* The trace hash lanes and counter the host folds into the world's trace (trace_host.h). */
SPDK_WASM_API struct spdk_wasm_trace_state *
spdk_wasm_trace_state(void)
{
	return &g_spdk_wasm_trace;
}

/* ---- memory ---- */

/* Zeroed and 64-byte aligned, so buffers look like upstream's DMA-able allocations. */
SPDK_WASM_API void *
spdk_wasm_malloc(uint32_t size)
{
	void *buf = NULL;

	if (posix_memalign(&buf, 64, size ? size : 1) != 0) {
		return NULL;
	}
	memset(buf, 0, size);
	return buf;
}

SPDK_WASM_API void
spdk_wasm_free(void *buf)
{
	free(buf);
}

/* ---- options ---- */

/* Set the zero-copy options of a sock implementation. A buffer size of 0 keeps the current
 * value (a zero-sized kernel buffer is never meant). */
SPDK_WASM_API int
spdk_wasm_sock_set_opts(const char *impl, int zcopy_server, int zcopy_client,
			uint32_t zerocopy_threshold, uint32_t send_buf_size, uint32_t recv_buf_size)
{
	struct spdk_sock_impl_opts opts;
	size_t len = sizeof(opts);
	int rc;

	rc = spdk_sock_impl_get_opts(impl, &opts, &len);
	if (rc != 0) {
		return rc < 0 ? rc : -EINVAL;
	}
	opts.enable_zerocopy_send_server = zcopy_server != 0;
	opts.enable_zerocopy_send_client = zcopy_client != 0;
	opts.zerocopy_threshold = zerocopy_threshold;
	if (send_buf_size != 0) {
		opts.send_buf_size = send_buf_size;
	}
	if (recv_buf_size != 0) {
		opts.recv_buf_size = recv_buf_size;
	}
	rc = spdk_sock_impl_set_opts(impl, &opts, len);
	return rc < 0 ? rc : 0;
}

SPDK_WASM_API uint32_t
spdk_wasm_sock_get_opt(const char *impl, int field)
{
	struct spdk_sock_impl_opts opts;
	size_t len = sizeof(opts);

	if (spdk_sock_impl_get_opts(impl, &opts, &len) != 0) {
		return UINT32_MAX;
	}
	switch (field) {
	case 0:
		return opts.recv_buf_size;
	case 1:
		return opts.send_buf_size;
	case 2:
		return opts.enable_zerocopy_send_server;
	case 3:
		return opts.enable_zerocopy_send_client;
	case 4:
		return opts.zerocopy_threshold;
	default:
		return UINT32_MAX;
	}
}

/* ---- sockets ---- */

static void
wasm_sock_opts(struct spdk_sock_opts *opts, int zcopy, uint32_t ack_timeout_ms)
{
	memset(opts, 0, sizeof(*opts));
	opts->opts_size = sizeof(*opts);
	spdk_sock_get_default_opts(opts);
	opts->zcopy = zcopy != 0;
	opts->ack_timeout = ack_timeout_ms;
}

/* Asynchronous connect: the socket is returned at once and becomes ready when the handshake
 * completes (the host kernel needs virtual time for that). Writes queue meanwhile. */
SPDK_WASM_API struct spdk_sock *
spdk_wasm_sock_connect(const char *ip, int port, int zcopy, uint32_t ack_timeout_ms)
{
	struct spdk_sock_opts opts;

	wasm_sock_opts(&opts, zcopy, ack_timeout_ms);
	return spdk_sock_connect_async(ip, port, NULL, &opts, NULL, NULL);
}

SPDK_WASM_API struct spdk_sock *
spdk_wasm_sock_listen(const char *ip, int port, int zcopy, uint32_t ack_timeout_ms)
{
	struct spdk_sock_opts opts;

	wasm_sock_opts(&opts, zcopy, ack_timeout_ms);
	return spdk_sock_listen_ext(ip, port, NULL, &opts);
}

SPDK_WASM_API struct spdk_sock *
spdk_wasm_sock_accept(struct spdk_sock *listener)
{
	if (listener == NULL) {
		return NULL;
	}
	return spdk_sock_accept(listener);
}

/* Per-socket readiness counts for sockets added through spdk_wasm_group_add. */
struct wasm_sock_watch {
	struct spdk_sock		*sock;
	uint32_t			readable;
	STAILQ_ENTRY(wasm_sock_watch)	link;
};

static STAILQ_HEAD(, wasm_sock_watch) g_watches = STAILQ_HEAD_INITIALIZER(g_watches);

static struct wasm_sock_watch *
wasm_watch_find(struct spdk_sock *sock)
{
	struct wasm_sock_watch *w;

	STAILQ_FOREACH(w, &g_watches, link) {
		if (w->sock == sock) {
			return w;
		}
	}
	return NULL;
}

static void
wasm_watch_drop(struct spdk_sock *sock)
{
	struct wasm_sock_watch *w = wasm_watch_find(sock);

	if (w != NULL) {
		STAILQ_REMOVE(&g_watches, w, wasm_sock_watch, link);
		free(w);
	}
}

/* Close a socket; one still in a group is removed from it first (its requests complete
 * with -ECANCELED), since spdk_sock_close() refuses sockets in a group. */
SPDK_WASM_API int
spdk_wasm_sock_close(struct spdk_sock *sock)
{
	int rc;

	if (sock == NULL) {
		return -EBADF;
	}
	if (sock->group_impl != NULL) {
		rc = spdk_sock_group_remove_sock(sock->group_impl->group, sock);
		if (rc != 0) {
			return rc < 0 ? rc : -EIO;
		}
	}
	wasm_watch_drop(sock);
	rc = spdk_sock_close(&sock);
	return rc < 0 ? rc : 0;
}

/* ---- requests ---- */

/* Bookkeeping first, then the request, then its iovecs (as SPDK_SOCK_REQUEST_IOV expects). */
struct wasm_req {
	uint32_t		completions;
	int32_t			last_err;
	struct spdk_sock	*sock;
	uint32_t		on_complete;	/* WASM_REQ_ON_COMPLETE_* */
	int32_t			cb_flush_rc;	/* spdk_sock_flush() called inside the callback */
	uint32_t		cb_offset;	/* internal.offset as the callback saw it */
	uint32_t		cb_zcopy_flag;	/* zero-copy flag as the callback saw it */
	struct spdk_sock_request req;
};

/* What the completion callback does besides counting (tests of sock-zcopy.md §9.10). */
enum {
	WASM_REQ_ON_COMPLETE_RECORD = 0,
	WASM_REQ_ON_COMPLETE_FLUSH = 1,		/* call spdk_sock_flush() from inside the callback */
	WASM_REQ_ON_COMPLETE_REQUEUE = 2,	/* queue the same request again, once */
};

#define WASM_REQ(r) SPDK_CONTAINEROF(r, struct wasm_req, req)

SPDK_WASM_API uint32_t spdk_wasm_req_get(struct spdk_sock_request *req, int field);

static void
wasm_req_complete(void *cb_arg, int err)
{
	struct wasm_req *w = cb_arg;

	struct spdk_sock *sock = w->sock;

	w->completions++;
	w->last_err = err;
	/* Completed requests are on no list; forget the socket (it may be freed next). */
	w->sock = NULL;
	w->cb_offset = spdk_wasm_req_get(&w->req, 1);
	w->cb_zcopy_flag = spdk_wasm_req_get(&w->req, 2);
	SPDK_WASM_TRACE("ut.req_complete", &w->req, err, w->completions, 0);
	if (sock == NULL || err != 0) {
		return;
	}
	switch (w->on_complete) {
	case WASM_REQ_ON_COMPLETE_FLUSH:
		w->cb_flush_rc = spdk_sock_flush(sock);
		break;
	case WASM_REQ_ON_COMPLETE_REQUEUE:
		w->on_complete = WASM_REQ_ON_COMPLETE_RECORD;
		w->sock = sock;
		spdk_sock_writev_async(sock, &w->req);
		break;
	default:
		break;
	}
}

SPDK_WASM_API void
spdk_wasm_req_set_on_complete(struct spdk_sock_request *req, uint32_t mode)
{
	if (req != NULL) {
		WASM_REQ(req)->on_complete = mode;
	}
}

SPDK_WASM_API struct spdk_sock_request *
spdk_wasm_req_alloc(int iovcnt)
{
	struct wasm_req *w;
	size_t size;

	if (iovcnt < 0 || iovcnt > IOV_BATCH_SIZE * 16) {
		return NULL;
	}
	size = sizeof(*w) + (size_t)iovcnt * sizeof(struct iovec);
	w = spdk_wasm_malloc(size);
	if (w == NULL) {
		return NULL;
	}
	w->req.cb_fn = wasm_req_complete;
	w->req.cb_arg = w;
	w->req.iovcnt = iovcnt;
	return &w->req;
}

SPDK_WASM_API void
spdk_wasm_req_set_iov(struct spdk_sock_request *req, int i, void *base, uint32_t len)
{
	if (req == NULL || i < 0 || i >= req->iovcnt) {
		SPDK_ERRLOG("iov index %d out of range (iovcnt %d)\n", i, req ? req->iovcnt : -1);
		return;
	}
	SPDK_SOCK_REQUEST_IOV(req, i)->iov_base = base;
	SPDK_SOCK_REQUEST_IOV(req, i)->iov_len = len;
}

SPDK_WASM_API void
spdk_wasm_req_free(struct spdk_sock_request *req)
{
	struct wasm_req *w;

	if (req == NULL) {
		return;
	}
	w = WASM_REQ(req);
	if (w->sock != NULL) {
		SPDK_ERRLOG("request %p freed while still on a socket list\n", (void *)req);
	}
	free(w);
}

static bool
wasm_req_on_list(struct spdk_sock_request *req, struct spdk_sock_request *first)
{
	struct spdk_sock_request *r;

	for (r = first; r != NULL; r = TAILQ_NEXT(r, internal.link)) {
		if (r == req) {
			return true;
		}
	}
	return false;
}

/* 0 list (0 none, 1 queued_reqs, 2 pending_reqs), 1 internal.offset, 2 zero-copy flag
 * (is_zcopy), 3 zcopy_idx (absent before the fix: 0xFFFFFFFF), 4 completion count, 5 last
 * err, 6 iovcnt. */
SPDK_WASM_API uint32_t
spdk_wasm_req_get(struct spdk_sock_request *req, int field)
{
	struct wasm_req *w;

	if (req == NULL) {
		return UINT32_MAX;
	}
	w = WASM_REQ(req);
	switch (field) {
	case 0:
		/* curr_list is only kept under DEBUG, so find the request on its socket. */
		if (w->sock == NULL) {
			return 0;
		}
		if (wasm_req_on_list(req, TAILQ_FIRST(&w->sock->queued_reqs))) {
			return 1;
		}
		if (wasm_req_on_list(req, TAILQ_FIRST(&w->sock->pending_reqs))) {
			return 2;
		}
		return 0;
	case 1:
		return req->internal.offset;
	case 2:
		return req->internal.is_zcopy;
	case 3:
		return UINT32_MAX;
	case 4:
		return w->completions;
	case 5:
		return (uint32_t)w->last_err;
	case 6:
		return (uint32_t)req->iovcnt;
	/* What the completion callback saw and did (see WASM_REQ_ON_COMPLETE_*). */
	case 7:
		return (uint32_t)w->cb_flush_rc;
	case 8:
		return w->cb_offset;
	case 9:
		return w->cb_zcopy_flag;
	default:
		return UINT32_MAX;
	}
}

SPDK_WASM_API void
spdk_wasm_sock_writev_async(struct spdk_sock *sock, struct spdk_sock_request *req)
{
	struct wasm_req *w;

	if (req == NULL) {
		return;
	}
	w = WASM_REQ(req);
	/* Set before submitting: a closed socket completes the request inside the call. */
	w->sock = sock;
	spdk_sock_writev_async(sock, req);
}

SPDK_WASM_API int
spdk_wasm_sock_flush(struct spdk_sock *sock)
{
	return spdk_sock_flush(sock);
}

SPDK_WASM_API int
spdk_wasm_posix_flush(struct spdk_sock *sock)
{
	if (sock == NULL || sock->flags.closed) {
		return -EBADF;
	}
	return posix_sock_ut_flush(sock);
}

SPDK_WASM_API int
spdk_wasm_posix_check_zcopy(struct spdk_sock *sock)
{
	if (sock == NULL || sock->flags.closed) {
		return -EBADF;
	}
	return posix_sock_ut_check_zcopy(sock);
}

/* Test hook: the next zero-copy sendmsg gets id idx + 1 (wrap-around tests). */
SPDK_WASM_API int
spdk_wasm_posix_set_sendmsg_idx(struct spdk_sock *sock, uint32_t idx)
{
	if (sock == NULL || sock->flags.closed) {
		return -EBADF;
	}
	posix_sock_ut_set_sendmsg_idx(sock, idx);
	return 0;
}

SPDK_WASM_API int
spdk_wasm_sock_writev(struct spdk_sock *sock, const struct iovec *iov, int iovcnt)
{
	return (int)spdk_sock_writev(sock, (struct iovec *)iov, iovcnt);
}

SPDK_WASM_API int
spdk_wasm_sock_recv(struct spdk_sock *sock, void *buf, uint32_t len)
{
	return (int)spdk_sock_recv(sock, buf, len);
}

SPDK_WASM_API int
spdk_wasm_sock_readv(struct spdk_sock *sock, struct iovec *iov, int iovcnt)
{
	return (int)spdk_sock_readv(sock, iov, iovcnt);
}

/* Sizes the receive pipe (posix, enable_recv_pipe) and raises SO_RCVBUF to at least sz. */
SPDK_WASM_API int
spdk_wasm_sock_set_recvbuf(struct spdk_sock *sock, int sz)
{
	if (sock == NULL || sock->flags.closed) {
		return -EBADF;
	}
	return spdk_sock_set_recvbuf(sock, sz);
}

static uint32_t
wasm_count(struct spdk_sock_request *first)
{
	uint32_t n = 0;

	for (; first != NULL; first = TAILQ_NEXT(first, internal.link)) {
		n++;
	}
	return n;
}

/* 0 sendmsg_idx, 1 zcopy, 2 queued_iovcnt, 3 #queued_reqs, 4 #pending_reqs, 5 fd,
 * 6 flags.closed, 7 cb_cnt; receive pipe: 8 recv_buf_sz, 9 bytes in the pipe (UINT32_MAX
 * without one), 10 pipe_has_data, 11 socket_has_data, 12 on the group's socks_with_data. */
SPDK_WASM_API uint32_t
spdk_wasm_sock_get(struct spdk_sock *sock, int field)
{
	if (sock == NULL) {
		return UINT32_MAX;
	}
	switch (field) {
	case 0:
		return posix_sock_ut_sendmsg_idx(sock);
	case 1:
		return posix_sock_ut_zcopy(sock);
	case 2:
		return (uint32_t)sock->queued_iovcnt;
	case 3:
		return wasm_count(TAILQ_FIRST(&sock->queued_reqs));
	case 4:
		return wasm_count(TAILQ_FIRST(&sock->pending_reqs));
	case 5:
		return (uint32_t)posix_sock_ut_fd(sock);
	case 6:
		return sock->flags.closed;
	case 7:
		return (uint32_t)sock->cb_cnt;
	case 8:
		return (uint32_t)posix_sock_ut_recv_buf_sz(sock);
	case 9:
		return (uint32_t)posix_sock_ut_pipe_bytes(sock);
	case 10:
		return posix_sock_ut_pipe_has_data(sock);
	case 11:
		return posix_sock_ut_socket_has_data(sock);
	case 12:
		return posix_sock_ut_on_socks_with_data(sock);
	default:
		return UINT32_MAX;
	}
}

/* Test hook: forget the socket's read callback while it stays in its group, the state
 * posix_sock_group_impl_poll guards against when it walks socks_with_data (upstream's own
 * remove path unlinks the socket first, so only a test builds this). */
SPDK_WASM_API int
spdk_wasm_ut_sock_clear_cb_fn(struct spdk_sock *sock)
{
	if (sock == NULL || sock->group_impl == NULL) {
		return -EINVAL;
	}
	sock->cb_fn = NULL;
	sock->cb_arg = NULL;
	return 0;
}

/* ---- groups ---- */

SPDK_WASM_API struct spdk_sock_group *
spdk_wasm_group_create(void)
{
	return spdk_sock_group_create(NULL);
}

static void
wasm_sock_readable(void *arg, struct spdk_sock_group *group, struct spdk_sock *sock)
{
	struct wasm_sock_watch *w = arg;

	w->readable++;
	SPDK_WASM_TRACE("ut.sock_readable", sock, w->readable, group, 0);
}

SPDK_WASM_API int
spdk_wasm_group_add(struct spdk_sock_group *group, struct spdk_sock *sock)
{
	struct wasm_sock_watch *w;
	int rc;

	if (group == NULL || sock == NULL) {
		return -EINVAL;
	}
	w = wasm_watch_find(sock);
	if (w == NULL) {
		w = calloc(1, sizeof(*w));
		if (w == NULL) {
			return -ENOMEM;
		}
		w->sock = sock;
		STAILQ_INSERT_TAIL(&g_watches, w, link);
	}
	rc = spdk_sock_group_add_sock(group, sock, wasm_sock_readable, w);
	return rc < 0 ? rc : 0;
}

SPDK_WASM_API int
spdk_wasm_group_remove(struct spdk_sock_group *group, struct spdk_sock *sock)
{
	int rc;

	rc = spdk_sock_group_remove_sock(group, sock);
	return rc < 0 ? rc : 0;
}

SPDK_WASM_API int
spdk_wasm_group_poll(struct spdk_sock_group *group)
{
	return spdk_sock_group_poll(group);
}

SPDK_WASM_API int
spdk_wasm_group_poll_count(struct spdk_sock_group *group, int max_events)
{
	return spdk_sock_group_poll_count(group, max_events);
}

SPDK_WASM_API uint32_t
spdk_wasm_sock_readable_count(struct spdk_sock *sock)
{
	struct wasm_sock_watch *w = wasm_watch_find(sock);

	return w != NULL ? w->readable : 0;
}
