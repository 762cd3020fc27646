/* lib/sock: the generic socket layer. It owns the registry of net implementations (modules),
 * per-socket options, the public send/receive entry points and socket groups; the modules
 * (module/sock/posix) do the system calls.
 *
 * Not modelled, on purpose:
 * - Interrupt mode. Upstream's spdk_sock_group_create() also builds an spdk_fd_group over each
 *   module's epoll fd so a reactor can sleep until a socket is ready. Here the world's
 *   scheduler decides when to poll (ARCHITECTURE decision 5), so groups are always polled and
 *   that extra epoll layer would only add host calls with no behaviour behind them.
 * - Placement-id maps, provided receive buffers (recv_next), readv_async, the ssl module. */
#include "spdk/stdinc.h"
#include "spdk/sock.h"
#include "spdk/log.h"
#include "spdk/env.h"
#include "spdk/fd.h"
#include "spdk/util.h"
#include "spdk_internal/sock_module.h"

#define SPDK_SOCK_DEFAULT_PRIORITY 0
#define SPDK_SOCK_DEFAULT_ZCOPY true
#define SPDK_SOCK_DEFAULT_ACK_TIMEOUT 0
#define SPDK_SOCK_DEFAULT_CONNECT_TIMEOUT 0

#define SPDK_SOCK_OPTS_FIELD_OK(opts, field) \
	(offsetof(struct spdk_sock_opts, field) + sizeof((opts)->field) <= (opts)->opts_size)

static STAILQ_HEAD(, spdk_net_impl) g_net_impls = STAILQ_HEAD_INITIALIZER(g_net_impls);
bool g_spdk_wasm_sock_queued;
static struct spdk_net_impl *g_default_impl;

static int
sock_errno(int err)
{
	/* Upstream returns -1 and sets errno; see the return convention in spdk/sock.h. */
	errno = err;
	return -err;
}

/* ---- helpers for posix-style modules ---- */

struct addrinfo *
spdk_sock_posix_getaddrinfo(const char *ip, int port)
{
	struct addrinfo hints, *res;
	char portnum[8];
	int rc;

	if (ip == NULL) {
		return NULL;
	}
	snprintf(portnum, sizeof(portnum), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE | AI_NUMERICHOST;
	rc = getaddrinfo(ip, portnum, &hints, &res);
	if (rc != 0) {
		SPDK_ERRLOG("getaddrinfo() failed for %s:%d (rc %d)\n", ip, port, rc);
		return NULL;
	}
	return res;
}

int
spdk_sock_posix_fd_create(struct addrinfo *res, struct spdk_sock_opts *opts,
			  struct spdk_sock_impl_opts *impl_opts)
{
	int fd, val, rc;

	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd < 0) {
		return -errno;
	}

	/* Buffer sizes are best effort: failures are not fatal. */
	val = impl_opts->recv_buf_size;
	if (val) {
		rc = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val));
		if (rc != 0) {
			SPDK_DEBUGLOG(sock, "setsockopt(SO_RCVBUF, %d) failed, errno %d\n", val, errno);
		}
	}
	val = impl_opts->send_buf_size;
	if (val) {
		rc = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &val, sizeof(val));
		if (rc != 0) {
			SPDK_DEBUGLOG(sock, "setsockopt(SO_SNDBUF, %d) failed, errno %d\n", val, errno);
		}
	}

	val = 1;
	rc = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &val, sizeof(val));
	if (rc != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &val, sizeof(val));
	if (rc != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}

	if (opts->priority) {
		val = opts->priority;
		rc = setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &val, sizeof(val));
		if (rc != 0) {
			rc = -errno;
			close(fd);
			return rc;
		}
	}

	if (res->ai_family == AF_INET6) {
		val = 1;
		rc = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &val, sizeof(val));
		if (rc != 0) {
			rc = -errno;
			close(fd);
			return rc;
		}
	}

	/* Upstream sets this under __linux__, which emscripten does not define; the emulated
	 * kernel is Linux, so it is set whenever ack_timeout asks for it. */
	if (opts->ack_timeout) {
		val = opts->ack_timeout;
		rc = setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &val, sizeof(val));
		if (rc != 0) {
			rc = -errno;
			close(fd);
			return rc;
		}
	}

	return fd;
}

int
spdk_sock_posix_fd_connect_async(int fd, struct addrinfo *res, struct spdk_sock_opts *opts)
{
	int rc;

	(void)opts; /* src_addr/src_port binding is not modelled */
	rc = spdk_fd_set_nonblock(fd);
	if (rc < 0) {
		return rc;
	}
	rc = connect(fd, res->ai_addr, res->ai_addrlen);
	if (rc != 0 && errno != EINPROGRESS) {
		rc = -errno;
		SPDK_ERRLOG("fd %d: connect refused at once (errno %d)\n", fd, -rc);
		return rc;
	}
	return 0;
}

int
spdk_sock_posix_fd_connect_poll_async(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int rc, err = 0;

	rc = poll(&pfd, 1, 0);
	if (rc < 0) {
		SPDK_ERRLOG("fd %d: polling the connect failed (errno %d)\n", fd, errno);
		return -errno;
	}
	if (rc == 0) {
		return -EAGAIN;
	}

	rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (rc < 0) {
		SPDK_ERRLOG("fd %d: cannot read SO_ERROR of the connect (errno %d)\n", fd, errno);
		return -errno;
	}
	if (err) {
		SPDK_ERRLOG("fd %d: connect failed (SO_ERROR %d)\n", fd, err);
		return -err;
	}
	if (!(pfd.revents & POLLOUT)) {
		SPDK_ERRLOG("poll() returned revents 0x%x without POLLOUT\n", pfd.revents);
		return -EIO;
	}
	return 0;
}

/* ---- registry ---- */

void
spdk_net_impl_register(struct spdk_net_impl *impl)
{
	struct spdk_net_impl *cur;

	STAILQ_FOREACH(cur, &g_net_impls, link) {
		if (cur == impl || strcmp(cur->name, impl->name) == 0) {
			return;
		}
	}
	STAILQ_INSERT_TAIL(&g_net_impls, impl, link);
}

struct spdk_net_impl *
spdk_net_impl_get_by_name(const char *impl_name)
{
	struct spdk_net_impl *impl;

	if (impl_name == NULL) {
		return NULL;
	}
	STAILQ_FOREACH(impl, &g_net_impls, link) {
		if (strcmp(impl_name, impl->name) == 0) {
			return impl;
		}
	}
	return NULL;
}

int
spdk_sock_set_default_impl(const char *impl_name)
{
	struct spdk_net_impl *impl;

	impl = spdk_net_impl_get_by_name(impl_name);
	if (impl == NULL) {
		SPDK_ERRLOG("no sock implementation '%s' to make the default\n",
			    impl_name ? impl_name : "(null)");
		return sock_errno(EINVAL);
	}
	g_default_impl = impl;
	return 0;
}

const char *
spdk_sock_get_default_impl(void)
{
	return g_default_impl != NULL ? g_default_impl->name : NULL;
}

int
spdk_sock_impl_get_opts(const char *impl_name, struct spdk_sock_impl_opts *opts, size_t *len)
{
	struct spdk_net_impl *impl;

	if (impl_name == NULL || opts == NULL || len == NULL) {
		SPDK_ERRLOG("impl_name, opts and len must all be set\n");
		return sock_errno(EINVAL);
	}
	impl = spdk_net_impl_get_by_name(impl_name);
	if (impl == NULL) {
		SPDK_ERRLOG("no sock implementation named '%s'\n", impl_name);
		return sock_errno(EINVAL);
	}
	if (impl->get_opts == NULL) {
		return sock_errno(ENOTSUP);
	}
	return impl->get_opts(opts, len);
}

int
spdk_sock_impl_set_opts(const char *impl_name, const struct spdk_sock_impl_opts *opts, size_t len)
{
	struct spdk_net_impl *impl;

	if (impl_name == NULL || opts == NULL) {
		SPDK_ERRLOG("impl_name and opts must be set\n");
		return sock_errno(EINVAL);
	}
	impl = spdk_net_impl_get_by_name(impl_name);
	if (impl == NULL) {
		SPDK_ERRLOG("no sock implementation named '%s'\n", impl_name);
		return sock_errno(EINVAL);
	}
	if (impl->set_opts == NULL) {
		return sock_errno(ENOTSUP);
	}
	return impl->set_opts(opts, len);
}

/* ---- options ---- */

/* Sets one option to its default, but only if the caller's struct (opts_size bytes, maybe an
 * older and shorter one) has room for it. */
#define SOCK_DEFAULT(opts, field, value) do { \
	if (SPDK_SOCK_OPTS_FIELD_OK(opts, field)) { \
		(opts)->field = (value); \
	} \
} while (0)

void
spdk_sock_get_default_opts(struct spdk_sock_opts *opts)
{
	assert(opts);

	/* Zero copy is on by default; whether a socket really uses it is the module's call. */
	SOCK_DEFAULT(opts, zcopy, SPDK_SOCK_DEFAULT_ZCOPY);
	SOCK_DEFAULT(opts, priority, SPDK_SOCK_DEFAULT_PRIORITY);
	/* No per-socket override of the module options. */
	SOCK_DEFAULT(opts, impl_opts, NULL);
	SOCK_DEFAULT(opts, impl_opts_size, 0);
	/* Let the kernel pick the source address and port. */
	SOCK_DEFAULT(opts, src_addr, NULL);
	SOCK_DEFAULT(opts, src_port, 0);
	/* 0: no TCP_USER_TIMEOUT, and connects wait as long as the kernel lets them. */
	SOCK_DEFAULT(opts, ack_timeout, SPDK_SOCK_DEFAULT_ACK_TIMEOUT);
	SOCK_DEFAULT(opts, connect_timeout, SPDK_SOCK_DEFAULT_CONNECT_TIMEOUT);
}

#undef SOCK_DEFAULT

/* Copy the caller's (possibly smaller) opts into a full-size local copy over the defaults. */
static void
sock_init_opts(struct spdk_sock_opts *opts, struct spdk_sock_opts *opts_user)
{
	assert(opts);
	assert(opts_user);

	opts->opts_size = sizeof(*opts);
	spdk_sock_get_default_opts(opts);

	/* Read only the fields the caller's struct has. */
	opts->opts_size = opts_user->opts_size;
#define SOCK_COPY_FIELD(field) \
	if (SPDK_SOCK_OPTS_FIELD_OK(opts, field)) { \
		opts->field = opts_user->field; \
	}
	SOCK_COPY_FIELD(priority);
	SOCK_COPY_FIELD(zcopy);
	SOCK_COPY_FIELD(ack_timeout);
	SOCK_COPY_FIELD(impl_opts);
	SOCK_COPY_FIELD(impl_opts_size);
	SOCK_COPY_FIELD(src_addr);
	SOCK_COPY_FIELD(src_port);
	SOCK_COPY_FIELD(connect_timeout);
#undef SOCK_COPY_FIELD
	opts->opts_size = sizeof(*opts);
}

static struct spdk_net_impl *
sock_get_impl(const char *impl_name)
{
	if (impl_name == NULL) {
		return g_default_impl;
	}
	return spdk_net_impl_get_by_name(impl_name);
}

static void
sock_init_base(struct spdk_sock *sock, struct spdk_net_impl *impl, struct spdk_sock_opts *opts)
{
	memcpy(&sock->opts, opts, sizeof(sock->opts));
	/* The per-socket override (if any) was copied into impl_opts by the module. */
	sock->opts.impl_opts = NULL;
	sock->opts.impl_opts_size = 0;
	sock->net_impl = impl;
	TAILQ_INIT(&sock->queued_reqs);
	TAILQ_INIT(&sock->pending_reqs);
}

/* ---- create, accept, close ---- */

static struct spdk_sock *
sock_connect(const char *ip, int port, const char *impl_name, struct spdk_sock_opts *opts,
	     bool async, spdk_sock_connect_cb_fn cb_fn, void *cb_arg)
{
	struct spdk_net_impl *impl;
	struct spdk_sock_opts opts_local;
	struct spdk_sock *sock;

	if (opts == NULL) {
		SPDK_ERRLOG("socket options missing (NULL)\n");
		if (cb_fn) {
			cb_fn(cb_arg, -EINVAL);
		}
		return NULL;
	}
	impl = sock_get_impl(impl_name);
	if (impl == NULL) {
		SPDK_ERRLOG("no sock implementation named '%s'\n", impl_name ? impl_name : "(default)");
		if (cb_fn) {
			cb_fn(cb_arg, -EINVAL);
		}
		return NULL;
	}

	SPDK_DEBUGLOG(sock, "connecting to %s port %d with %s\n", ip, port, impl->name);
	sock_init_opts(&opts_local, opts);
	if (async) {
		sock = impl->connect_async(ip, port, &opts_local, cb_fn, cb_arg);
	} else {
		sock = impl->connect(ip, port, &opts_local);
	}
	if (sock == NULL) {
		return NULL;
	}
	sock_init_base(sock, impl, &opts_local);
	SPDK_WASM_TRACE("spdk_sock_connect", sock, port, async, 0);
	return sock;
}

/* The opts a caller gets when it passes none. */
static struct spdk_sock_opts
sock_full_default_opts(void)
{
	struct spdk_sock_opts opts = {.opts_size = sizeof(opts)};

	spdk_sock_get_default_opts(&opts);
	return opts;
}

struct spdk_sock *
spdk_sock_connect(const char *ip, int port, const char *impl_name)
{
	struct spdk_sock_opts defaults = sock_full_default_opts();

	return spdk_sock_connect_ext(ip, port, impl_name, &defaults);
}

struct spdk_sock *
spdk_sock_connect_ext(const char *ip, int port, const char *impl_name, struct spdk_sock_opts *opts)
{
	return sock_connect(ip, port, impl_name, opts, false, NULL, NULL);
}

struct spdk_sock *
spdk_sock_connect_async(const char *ip, int port, const char *impl_name,
			struct spdk_sock_opts *opts, spdk_sock_connect_cb_fn cb_fn, void *cb_arg)
{
	return sock_connect(ip, port, impl_name, opts, true, cb_fn, cb_arg);
}

struct spdk_sock *
spdk_sock_listen(const char *ip, int port, const char *impl_name)
{
	struct spdk_sock_opts defaults = sock_full_default_opts();

	return spdk_sock_listen_ext(ip, port, impl_name, &defaults);
}

struct spdk_sock *
spdk_sock_listen_ext(const char *ip, int port, const char *impl_name, struct spdk_sock_opts *opts)
{
	struct spdk_net_impl *impl;
	struct spdk_sock_opts opts_local;
	struct spdk_sock *sock;

	if (opts == NULL) {
		SPDK_ERRLOG("socket options missing (NULL)\n");
		return NULL;
	}
	impl = sock_get_impl(impl_name);
	if (impl == NULL) {
		SPDK_ERRLOG("no sock implementation named '%s'\n", impl_name ? impl_name : "(default)");
		return NULL;
	}

	SPDK_DEBUGLOG(sock, "listening on %s port %d with %s\n", ip, port, impl->name);
	sock_init_opts(&opts_local, opts);
	sock = impl->listen(ip, port, &opts_local);
	if (sock == NULL) {
		return NULL;
	}
	sock_init_base(sock, impl, &opts_local);
	SPDK_WASM_TRACE("spdk_sock_listen", sock, port, 0, 0);
	return sock;
}

struct spdk_sock *
spdk_sock_accept(struct spdk_sock *sock)
{
	struct spdk_sock *new_sock;

	if (sock == NULL || sock->flags.closed) {
		errno = EBADF;
		return NULL;
	}
	new_sock = sock->net_impl->accept(sock);
	if (new_sock != NULL) {
		/* Inherit the opts of the listening socket. */
		sock_init_base(new_sock, sock->net_impl, &sock->opts);
		SPDK_WASM_TRACE("spdk_sock_accept", sock, new_sock, 0, 0);
	}
	return new_sock;
}

int
spdk_sock_close(struct spdk_sock **_sock)
{
	struct spdk_sock *sock;
	int rc;

	if (_sock == NULL || *_sock == NULL) {
		return sock_errno(EBADF);
	}
	sock = *_sock;

	if (sock->cb_fn != NULL) {
		/* Still part of a sock group: remove it first. */
		return sock_errno(EBUSY);
	}

	sock->flags.closed = true;

	if (sock->cb_cnt > 0) {
		/* Inside one of this socket's callbacks: the outermost one finishes the close
		 * when it unwinds (spdk_sock_request_complete / spdk_sock_abort_requests). */
		SPDK_WASM_TRACE("spdk_sock_close", sock, 1, sock->cb_cnt, 0);
		return 0;
	}

	SPDK_WASM_TRACE("spdk_sock_close", sock, 0, 0, 0);
	spdk_sock_abort_requests(sock);

	rc = sock->net_impl->close(sock);
	if (rc == 0) {
		*_sock = NULL;
	}
	return rc;
}

/* ---- data path ---- */

ssize_t
spdk_sock_recv(struct spdk_sock *sock, void *buf, size_t len)
{
	if (sock == NULL || sock->flags.closed) {
		return sock_errno(EBADF);
	}
	return sock->net_impl->recv(sock, buf, len);
}

ssize_t
spdk_sock_readv(struct spdk_sock *sock, struct iovec *iov, int iovcnt)
{
	if (sock == NULL || sock->flags.closed) {
		return sock_errno(EBADF);
	}
	return sock->net_impl->readv(sock, iov, iovcnt);
}

ssize_t
spdk_sock_writev(struct spdk_sock *sock, struct iovec *iov, int iovcnt)
{
	if (sock == NULL || sock->flags.closed) {
		return sock_errno(EBADF);
	}
	return sock->net_impl->writev(sock, iov, iovcnt);
}

void
spdk_sock_writev_async(struct spdk_sock *sock, struct spdk_sock_request *req)
{
	assert(req->cb_fn != NULL);

	if (sock == NULL || sock->flags.closed) {
		SPDK_WASM_TRACE("spdk_sock_request_complete", req, -EBADF, sock, 0);
		req->cb_fn(req->cb_arg, -EBADF);
		return;
	}
	sock->net_impl->writev_async(sock, req);
}

int
spdk_sock_flush(struct spdk_sock *sock)
{
	/* Unlike the calls above, errno is left alone here. */
	if (sock != NULL && !sock->flags.closed) {
		return sock->net_impl->flush(sock);
	}
	return -EBADF;
}

bool
spdk_sock_is_connected(struct spdk_sock *sock)
{
	if (sock != NULL && !sock->flags.closed) {
		return sock->net_impl->is_connected(sock);
	}
	errno = EBADF;
	return false;
}

/* The setters and address-family queries check nothing (as upstream): the caller holds an
 * open socket. */
static struct spdk_net_impl *
sock_impl_of(struct spdk_sock *sock)
{
	assert(sock != NULL);
	return sock->net_impl;
}

int
spdk_sock_set_recvbuf(struct spdk_sock *sock, int sz)
{
	return sock_impl_of(sock)->set_recvbuf(sock, sz);
}

int
spdk_sock_set_sendbuf(struct spdk_sock *sock, int sz)
{
	return sock_impl_of(sock)->set_sendbuf(sock, sz);
}

int
spdk_sock_set_recvlowat(struct spdk_sock *sock, int nbytes)
{
	return sock_impl_of(sock)->set_recvlowat(sock, nbytes);
}

bool
spdk_sock_is_ipv4(struct spdk_sock *sock)
{
	return sock_impl_of(sock)->is_ipv4(sock);
}

bool
spdk_sock_is_ipv6(struct spdk_sock *sock)
{
	return sock_impl_of(sock)->is_ipv6(sock);
}

int
spdk_sock_getaddr(struct spdk_sock *sock, char *saddr, int slen, uint16_t *sport,
		  char *caddr, int clen, uint16_t *cport)
{
	if (sock == NULL || sock->flags.closed) {
		return sock_errno(EBADF);
	}
	return sock->net_impl->getaddr(sock, saddr, slen, sport, caddr, clen, cport);
}

/* ---- groups ---- */

/* Gives the group one part per module; a module that cannot make one is left out of it. */
static void
sock_group_add_impl(struct spdk_sock_group *group, struct spdk_net_impl *impl)
{
	struct spdk_sock_group_impl *part = impl->group_impl_create();

	if (part == NULL) {
		return;
	}
	part->net_impl = impl;
	part->group = group;
	TAILQ_INIT(&part->socks);
	STAILQ_INSERT_TAIL(&group->group_impls, part, link);
}

struct spdk_sock_group *
spdk_sock_group_create(void *ctx)
{
	struct spdk_sock_group *group = calloc(1, sizeof(*group));
	struct spdk_net_impl *impl;

	if (group == NULL) {
		return NULL;
	}

	group->ctx = ctx;
	STAILQ_INIT(&group->group_impls);
	STAILQ_FOREACH(impl, &g_net_impls, link) {
		sock_group_add_impl(group, impl);
	}
	return group;
}

void *
spdk_sock_group_get_ctx(struct spdk_sock_group *group)
{
	return group != NULL ? group->ctx : NULL;
}

int
spdk_sock_group_add_sock(struct spdk_sock_group *group, struct spdk_sock *sock,
			 spdk_sock_cb cb_fn, void *cb_arg)
{
	struct spdk_sock_group_impl *group_impl;
	int rc;

	if (group == NULL || sock == NULL || sock->flags.closed) {
		return sock_errno(EBADF);
	}
	if (cb_fn == NULL) {
		/* A socket in a group must have a read callback. */
		return sock_errno(EINVAL);
	}
	if (sock->group_impl != NULL) {
		/* Already part of a group. */
		return sock_errno(EINVAL);
	}

	STAILQ_FOREACH(group_impl, &group->group_impls, link) {
		if (sock->net_impl == group_impl->net_impl) {
			break;
		}
	}
	if (group_impl == NULL) {
		return sock_errno(EINVAL);
	}

	/* The module may defer the real add until an async connect completes; it finds the
	 * group through sock->group_impl then, so set it first. */
	sock->group_impl = group_impl;
	rc = group_impl->net_impl->group_impl_add_sock(group_impl, sock);
	if (rc != 0) {
		sock->group_impl = NULL;
		return sock_errno(rc < 0 ? -rc : EIO);
	}

	TAILQ_INSERT_TAIL(&group_impl->socks, sock, link);
	sock->cb_fn = cb_fn;
	sock->cb_arg = cb_arg;
	SPDK_WASM_TRACE("spdk_sock_group_add_sock", group, sock, 0, 0);
	return 0;
}

int
spdk_sock_group_remove_sock(struct spdk_sock_group *group, struct spdk_sock *sock)
{
	struct spdk_sock_group_impl *group_impl;
	int rc;

	if (group == NULL || sock == NULL) {
		return sock_errno(EBADF);
	}
	STAILQ_FOREACH(group_impl, &group->group_impls, link) {
		if (sock->net_impl == group_impl->net_impl) {
			break;
		}
	}
	if (group_impl == NULL || sock->group_impl != group_impl) {
		return sock_errno(EINVAL);
	}

	SPDK_WASM_TRACE("spdk_sock_group_remove_sock", group, sock, 0, 0);
	rc = group_impl->net_impl->group_impl_remove_sock(group_impl, sock);
	if (rc == 0) {
		TAILQ_REMOVE(&group_impl->socks, sock, link);
		sock->group_impl = NULL;
		sock->cb_fn = NULL;
		sock->cb_arg = NULL;
	}
	return rc;
}

int
spdk_sock_group_poll(struct spdk_sock_group *group)
{
	return spdk_sock_group_poll_count(group, MAX_EVENTS_PER_POLL);
}

/* Polls one module's part of the group and runs the read callback of every socket it reports
 * readable. Returns how many it reported, or the module's negative error. */
static int
sock_group_impl_poll_count(struct spdk_sock_group_impl *group_impl,
			   struct spdk_sock_group *group, int max_events)
{
	struct spdk_sock *ready[MAX_EVENTS_PER_POLL];
	int count, n;

	/* A part with no sockets is not asked at all (no epoll_wait for nothing). */
	count = 0;
	if (!TAILQ_EMPTY(&group_impl->socks)) {
		count = group_impl->net_impl->group_impl_poll(group_impl, max_events, ready);
	}

	for (n = 0; n < count; n++) {
		assert(ready[n]->cb_fn != NULL);
		ready[n]->cb_fn(ready[n]->cb_arg, group, ready[n]);
	}
	return count;
}

int
spdk_sock_group_poll_count(struct spdk_sock_group *group, int max_events)
{
	struct spdk_sock_group_impl *group_impl;
	int rc, num_events = 0, error = 0;

	if (group == NULL) {
		return sock_errno(EBADF);
	}
	if (max_events < 1) {
		return sock_errno(EINVAL);
	}
	if (max_events > MAX_EVENTS_PER_POLL) {
		max_events = MAX_EVENTS_PER_POLL;
	}

	STAILQ_FOREACH(group_impl, &group->group_impls, link) {
		rc = sock_group_impl_poll_count(group_impl, group, max_events);
		if (rc < 0) {
			error = rc;
			SPDK_ERRLOG("polling the %s part of sock group %p failed (rc %d)\n",
				    group_impl->net_impl->name, group, rc);
		} else {
			num_events += rc;
		}
	}

	if (error) {
		return sock_errno(-error);
	}
	return num_events;
}

int
spdk_sock_group_close(struct spdk_sock_group **group)
{
	struct spdk_sock_group_impl *group_impl, *tmp;
	int rc;

	if (group == NULL || *group == NULL) {
		return sock_errno(EBADF);
	}

	STAILQ_FOREACH(group_impl, &(*group)->group_impls, link) {
		if (!TAILQ_EMPTY(&group_impl->socks)) {
			return sock_errno(EBUSY);
		}
	}

	/* The module frees its part: keep what the log needs before closing it. */
	STAILQ_FOREACH_SAFE(group_impl, &(*group)->group_impls, link, tmp) {
		struct spdk_net_impl *impl = group_impl->net_impl;

		rc = impl->group_impl_close(group_impl);
		if (rc != 0) {
			SPDK_ERRLOG("closing the %s part of a sock group failed (rc %d)\n",
				    impl->name, rc);
		}
	}

	free(*group);
	*group = NULL;
	return 0;
}
