/* Between lib/sock and its implementation modules (upstream include/spdk_internal/sock_module.h):
 * the base socket object, the module vtable, and the inline request-list helpers that every
 * module's send path is built from. */
#ifndef SPDK_INTERNAL_SOCK_MODULE_H
#define SPDK_INTERNAL_SOCK_MODULE_H

#include "spdk/stdinc.h"
#include "spdk/sock.h"
#include "spdk/queue.h"
#include "spdk/likely.h"
#include "spdk/log.h"
#include "spdk/util.h"
#include "spdk_internal/trace_host.h"

#define MAX_EVENTS_PER_POLL 32
#define DEFAULT_SOCK_PRIORITY 0
#define MIN_SOCK_PIPE_SIZE 1024
#define DEFAULT_SO_RCVBUF_SIZE (2 * 1024 * 1024)
#define DEFAULT_SO_SNDBUF_SIZE (2 * 1024 * 1024)
#define MIN_SO_RCVBUF_SIZE (4 * 1024)
#define MIN_SO_SNDBUF_SIZE (4 * 1024)
/* At most this many iovecs are gathered into one sendmsg() (not IOV_MAX). */
#define IOV_BATCH_SIZE 64

struct spdk_sock {
	struct spdk_net_impl		*net_impl;
	struct spdk_sock_opts		opts;
	struct spdk_sock_group_impl	*group_impl;
	TAILQ_ENTRY(spdk_sock)		link;

	/* Submitted, not yet fully accepted by the kernel; only the head may be partial. */
	TAILQ_HEAD(, spdk_sock_request)	queued_reqs;
	/* Fully accepted, waiting for a zero-copy notification or for its turn to complete. */
	TAILQ_HEAD(, spdk_sock_request)	pending_reqs;
	struct spdk_sock_request	*read_req;
	int				queued_iovcnt;
	/* Depth of user callbacks running on this socket. */
	int				cb_cnt;
	spdk_sock_cb			cb_fn;
	void				*cb_arg;
	struct {
		uint8_t		closed		: 1;
		uint8_t		reserved	: 7;
	} flags;
	struct spdk_sock_impl_opts	impl_opts;
};

/* Upstream's group also holds a pool of provided receive buffers (recv_next) and an
 * spdk_fd_group for interrupt mode; neither is modelled (see lib/sock/sock.c). */
struct spdk_sock_group {
	STAILQ_HEAD(, spdk_sock_group_impl)	group_impls;
	void					*ctx;
};

struct spdk_sock_group_impl {
	struct spdk_net_impl			*net_impl;
	struct spdk_sock_group			*group;
	TAILQ_HEAD(, spdk_sock)			socks;
	STAILQ_ENTRY(spdk_sock_group_impl)	link;
};

struct spdk_net_impl {
	const char *name;
	int (*init)(struct spdk_sock_initialize_opts *opts);

	int (*getaddr)(struct spdk_sock *sock, char *saddr, int slen, uint16_t *sport, char *caddr,
		       int clen, uint16_t *cport);
	struct spdk_sock *(*connect)(const char *ip, int port, struct spdk_sock_opts *opts);
	struct spdk_sock *(*connect_async)(const char *ip, int port, struct spdk_sock_opts *opts,
					   spdk_sock_connect_cb_fn cb_fn, void *cb_arg);
	struct spdk_sock *(*listen)(const char *ip, int port, struct spdk_sock_opts *opts);
	struct spdk_sock *(*accept)(struct spdk_sock *sock);
	int (*close)(struct spdk_sock *sock);
	ssize_t (*recv)(struct spdk_sock *sock, void *buf, size_t len);
	ssize_t (*readv)(struct spdk_sock *sock, struct iovec *iov, int iovcnt);
	ssize_t (*writev)(struct spdk_sock *sock, struct iovec *iov, int iovcnt);

	void (*writev_async)(struct spdk_sock *sock, struct spdk_sock_request *req);
	int (*flush)(struct spdk_sock *sock);

	int (*set_recvlowat)(struct spdk_sock *sock, int nbytes);
	int (*set_recvbuf)(struct spdk_sock *sock, int sz);
	int (*set_sendbuf)(struct spdk_sock *sock, int sz);

	bool (*is_ipv6)(struct spdk_sock *sock);
	bool (*is_ipv4)(struct spdk_sock *sock);
	bool (*is_connected)(struct spdk_sock *sock);

	struct spdk_sock_group_impl *(*group_impl_create)(void);
	int (*group_impl_add_sock)(struct spdk_sock_group_impl *group, struct spdk_sock *sock);
	int (*group_impl_remove_sock)(struct spdk_sock_group_impl *group, struct spdk_sock *sock);
	int (*group_impl_poll)(struct spdk_sock_group_impl *group, int max_events,
			       struct spdk_sock **socks);
	int (*group_impl_close)(struct spdk_sock_group_impl *group);

	int (*get_opts)(struct spdk_sock_impl_opts *opts, size_t *len);
	int (*set_opts)(const struct spdk_sock_impl_opts *opts, size_t len);

	STAILQ_ENTRY(spdk_net_impl) link;
};

void spdk_net_impl_register(struct spdk_net_impl *impl);
struct spdk_net_impl *spdk_net_impl_get_by_name(const char *impl_name);

#define SPDK_NET_IMPL_REGISTER(name, impl) \
static void __attribute__((constructor)) net_impl_register_##name(void) \
{ \
	spdk_net_impl_register(impl); \
}

#define SPDK_NET_IMPL_REGISTER_DEFAULT(name, impl) \
static void __attribute__((constructor)) net_impl_register_default_##name(void) \
{ \
	spdk_net_impl_register(impl); \
	spdk_sock_set_default_impl(SPDK_STRINGIFY(name)); \
}

/* Not upstream: set whenever a request is queued. A request queued during a poll (from a
 * completion callback, or after the poll group's flush) is flushed by the next reactor iteration,
 * microseconds later upstream; the wasm driver reads this to poll again at once instead of
 * waiting for the next event (wasm/api/spdk_wasm_api.c). */
extern bool g_spdk_wasm_sock_queued;

static inline void
spdk_sock_request_queue(struct spdk_sock *sock, struct spdk_sock_request *req)
{
	uint64_t len = 0;
	int i;

#ifdef DEBUG
	assert(req->internal.curr_list == NULL);
#endif
	for (i = 0; i < req->iovcnt; i++) {
		len += SPDK_SOCK_REQUEST_IOV(req, i)->iov_len;
	}
	SPDK_WASM_TRACE("spdk_sock_request_queue", req, len, req->iovcnt, sock);
	TAILQ_INSERT_TAIL(&sock->queued_reqs, req, internal.link);
#ifdef DEBUG
	req->internal.curr_list = &sock->queued_reqs;
#endif
	sock->queued_iovcnt += req->iovcnt;
	g_spdk_wasm_sock_queued = true;
}

static inline void
spdk_sock_request_pend(struct spdk_sock *sock, struct spdk_sock_request *req)
{
#ifdef DEBUG
	assert(req->internal.curr_list == &sock->queued_reqs);
#endif
	SPDK_WASM_TRACE("spdk_sock_request_pend", req, req->internal.offset, sock, 0);
	TAILQ_REMOVE(&sock->queued_reqs, req, internal.link);
	assert(sock->queued_iovcnt >= req->iovcnt);
	sock->queued_iovcnt -= req->iovcnt;
	TAILQ_INSERT_TAIL(&sock->pending_reqs, req, internal.link);
#ifdef DEBUG
	req->internal.curr_list = &sock->pending_reqs;
#endif
}

/* Reset the request's bookkeeping, then call its cb_fn with cb_cnt raised so the callback may
 * re-queue the request or close the socket. Returns -EBADF if the callback closed the socket
 * (which is then destroyed here and must not be touched by the caller), else 0. */
static inline int
spdk_sock_request_complete(struct spdk_sock *sock, struct spdk_sock_request *req, int err)
{
	bool closed;
	int rc = 0;

	SPDK_WASM_TRACE("spdk_sock_request_complete", req, err, sock, 0);
	req->internal.offset = 0;
	req->internal.is_zcopy = false;

	closed = sock->flags.closed;
	sock->cb_cnt++;
	req->cb_fn(req->cb_arg, err);
	assert(sock->cb_cnt > 0);
	sock->cb_cnt--;

	if (sock->cb_cnt == 0 && !closed && sock->flags.closed) {
		/* The callback closed the socket; finish the close now that it has unwound. */
		rc = -EBADF;
		spdk_sock_close(&sock);
	}

	return rc;
}

static inline int
spdk_sock_request_put(struct spdk_sock *sock, struct spdk_sock_request *req, int err)
{
#ifdef DEBUG
	assert(req->internal.curr_list == &sock->pending_reqs);
#endif
	TAILQ_REMOVE(&sock->pending_reqs, req, internal.link);
#ifdef DEBUG
	req->internal.curr_list = NULL;
#endif
	return spdk_sock_request_complete(sock, req, err);
}

/* Complete every pending, then every queued request (then the read request) with -ECANCELED,
 * whether or not the kernel still holds zero-copy references to their buffers. */
static inline int
spdk_sock_abort_requests(struct spdk_sock *sock)
{
	struct spdk_sock_request *req;
	bool closed;
	int rc = 0;

	SPDK_WASM_TRACE("spdk_sock_abort_requests", sock, 0, 0, 0);
	closed = sock->flags.closed;
	sock->cb_cnt++;

	while ((req = TAILQ_FIRST(&sock->pending_reqs)) != NULL) {
#ifdef DEBUG
		assert(req->internal.curr_list == &sock->pending_reqs);
#endif
		TAILQ_REMOVE(&sock->pending_reqs, req, internal.link);
#ifdef DEBUG
		req->internal.curr_list = NULL;
#endif
		SPDK_WASM_TRACE("spdk_sock_request_complete", req, -ECANCELED, sock, 0);
		req->cb_fn(req->cb_arg, -ECANCELED);
	}

	while ((req = TAILQ_FIRST(&sock->queued_reqs)) != NULL) {
#ifdef DEBUG
		assert(req->internal.curr_list == &sock->queued_reqs);
#endif
		TAILQ_REMOVE(&sock->queued_reqs, req, internal.link);
#ifdef DEBUG
		req->internal.curr_list = NULL;
#endif
		assert(sock->queued_iovcnt >= req->iovcnt);
		sock->queued_iovcnt -= req->iovcnt;
		SPDK_WASM_TRACE("spdk_sock_request_complete", req, -ECANCELED, sock, 0);
		req->cb_fn(req->cb_arg, -ECANCELED);
	}

	req = sock->read_req;
	if (req != NULL) {
		sock->read_req = NULL;
		req->cb_fn(req->cb_arg, -ECANCELED);
	}
	assert(sock->cb_cnt > 0);
	sock->cb_cnt--;

	assert(TAILQ_EMPTY(&sock->queued_reqs));
	assert(TAILQ_EMPTY(&sock->pending_reqs));

	if (sock->cb_cnt == 0 && !closed && sock->flags.closed) {
		/* The user closed the socket in one of the callbacks above. */
		rc = -EBADF;
		spdk_sock_close(&sock);
	}

	return rc;
}

/* Adds to iovs[] (from position index) the pieces of req that no send took yet: the first
 * internal.offset bytes are left out. Their lengths are summed into *num_bytes (if given).
 * Returns the new number of entries; a full batch (IOV_BATCH_SIZE) may end mid-request. */
static inline int
spdk_sock_prep_req(struct spdk_sock_request *req, struct iovec *iovs, int index,
		   uint64_t *num_bytes)
{
	unsigned int skip = req->internal.offset;
	struct iovec *src;
	size_t piece;
	int i;

	assert(index < IOV_BATCH_SIZE);
	for (i = 0; i < req->iovcnt && index < IOV_BATCH_SIZE; i++) {
		src = SPDK_SOCK_REQUEST_IOV(req, i);
		if (skip >= src->iov_len) {
			/* Wholly sent already (or empty). */
			skip -= src->iov_len;
			continue;
		}

		piece = src->iov_len - skip;
		iovs[index].iov_base = (uint8_t *)src->iov_base + skip;
		iovs[index].iov_len = piece;
		index++;
		skip = 0;
		if (num_bytes) {
			(*num_bytes) += piece;
		}
	}

	return index;
}

/* Fills iovs[] from the queued requests, starting at the head of queued_reqs or just after
 * *last_req, until the batch is full; *last_req then names the last request taken whole.
 * This is where the zero-copy threshold applies: once per send call, on the total of the
 * gathered bytes, MSG_ZEROCOPY is taken out of *flags when that total is below
 * impl_opts.zerocopy_threshold. */
static inline int
spdk_sock_prep_reqs(struct spdk_sock *_sock, struct iovec *iovs, int index,
		    struct spdk_sock_request **last_req, int *flags)
{
	struct spdk_sock_request *req = NULL;
	uint64_t total = 0;
	int iovcnt = index;

	if (spdk_likely(iovcnt < IOV_BATCH_SIZE)) {
		if (last_req == NULL || *last_req == NULL) {
			req = TAILQ_FIRST(&_sock->queued_reqs);
		} else {
			req = TAILQ_NEXT(*last_req, internal.link);
		}
	}

	for (; req != NULL; req = TAILQ_NEXT(req, internal.link)) {
		iovcnt = spdk_sock_prep_req(req, iovs, iovcnt, &total);
		if (iovcnt >= IOV_BATCH_SIZE) {
			/* Possibly cut inside req: it does not count as taken. */
			break;
		}
		if (last_req) {
			(*last_req) = req;
		}
	}

#if defined(MSG_ZEROCOPY)
	if (flags && total < _sock->impl_opts.zerocopy_threshold) {
		(*flags) &= ~MSG_ZEROCOPY;
	}
#endif

	return iovcnt;
}

/* Helpers of lib/sock shared by posix-style modules (upstream declares them here too). */
struct addrinfo *spdk_sock_posix_getaddrinfo(const char *ip, int port);
int spdk_sock_posix_fd_create(struct addrinfo *res, struct spdk_sock_opts *opts,
			      struct spdk_sock_impl_opts *impl_opts);
int spdk_sock_posix_fd_connect_async(int fd, struct addrinfo *res, struct spdk_sock_opts *opts);
int spdk_sock_posix_fd_connect_poll_async(int fd);

#endif /* SPDK_INTERNAL_SOCK_MODULE_H */
