/* module/sock/posix: the kernel-socket implementation of the sock layer, including the
 * MSG_ZEROCOPY send path (_sock_flush), the error-queue reader (_sock_check_zcopy) and the
 * receive pipe.
 *
 * Modelled on SPDK v25.01 (before a1f20e789f).
 *
 * The receive pipe is upstream's: once spdk_sock_set_recvbuf sizes it (enable_recv_pipe on),
 * a read of less than MIN_SOCK_PIPE_SIZE with the pipe empty fills it with one kernel readv and
 * is served from it, larger reads with the pipe empty go straight to the caller's buffers, and
 * a group poll keeps returning a socket while its pipe holds bytes (socks_with_data), with or
 * without a new epoll event.
 *
 * Differences from upstream, on purpose:
 * - No pipe groups: upstream lends the buffers of empty pipes to a per-sock-group pool
 *   (spdk_pipe_group); here each pipe keeps its own buffer. What a reader gets is the same.
 * - No ssl impl, no placement-id map (placement_id is always -1, i.e. PLACEMENT_NONE), no
 *   recv_next (provided receive buffers).
 * - _sock_flush returns HEAD's values (0 / -EAGAIN / -errno), see its comment; receive and
 *   set_recvbuf errors are negative errno values too (with errno set), not -1. */
#include "spdk/stdinc.h"

/* Emscripten does not define __linux__ nor ship <linux/errqueue.h>; the port supplies it. */
#include "linux/errqueue.h"

#include "spdk/env.h"
#include "spdk/fd.h"
#include "spdk/log.h"
#include "spdk/net.h"
#include "spdk/pipe.h"
#include "spdk/sock.h"
#include "spdk/util.h"
#include "spdk_internal/sock_module.h"
#include "spdk_internal/trace_host.h"

#include "posix_ut.h"

#if defined(SO_ZEROCOPY) && defined(MSG_ZEROCOPY)
#define SPDK_ZEROCOPY
#endif

/* A synchronous connect spins on posix_connect_poller. In one wasm thread the host can only
 * finish a handshake inside those calls, so the spin is bounded instead of hanging. */
#define POSIX_SYNC_CONNECT_MAX_SPINS 100000

/* An asynchronous connect in progress; freed when it succeeds or fails. */
struct posix_connect_ctx {
	/* The attempt under way, -1 between two addresses. */
	int fd;
	/* What getaddrinfo() returned (freed at the end) and the address to try next. */
	struct addrinfo *first_res;
	struct addrinfo *next_res;
	struct spdk_sock_opts opts;
	struct spdk_sock_impl_opts impl_opts;
	/* Give up at this tick count; only looked at when opts.connect_timeout is set. */
	uint64_t timeout_tsc;
	/* Settings asked for while connecting (-1: none), applied once connected. */
	int set_recvlowat;
	int set_recvbuf;
	int set_sendbuf;
	/* Told the outcome; NULL for a synchronous connect. */
	spdk_sock_connect_cb_fn cb_fn;
	void *cb_arg;
};

struct spdk_posix_sock {
	struct spdk_sock	base;
	int			fd;

	/* Id the kernel gave to the last MSG_ZEROCOPY send (only zero-copy sends count). */
	uint32_t		sendmsg_idx;

	/* Receive pipe: small reads are served from one large kernel read buffered here. NULL
	 * until spdk_sock_set_recvbuf sizes it (and always with enable_recv_pipe off). */
	struct spdk_pipe	*recv_pipe;
	int			recv_buf_sz;
	/* On the group's socks_with_data list while either is set: bytes wait in the pipe, or
	 * epoll reported the kernel socket readable and it has not been seen drained since. */
	bool			pipe_has_data;
	bool			socket_has_data;
	/* SO_ZEROCOPY is on for this socket. */
	bool			zcopy;
	/* Connected (or listening) and set up by posix_sock_init. */
	bool			ready;

	/* Always -1 here: placement ids are not modelled. */
	int			placement_id;

	/* Entry in the group's socks_with_data list. */
	TAILQ_ENTRY(spdk_posix_sock)	link;

	/* Kept for layout; nothing fills it in this model. */
	char			interface_name[IFNAMSIZ];

	/* Non-NULL while an asynchronous connect is under way. */
	struct posix_connect_ctx	*connect_ctx;
};

TAILQ_HEAD(spdk_has_data_list, spdk_posix_sock);

struct spdk_posix_sock_group_impl {
	/* Must stay first: the generic layer hands us &base. */
	struct spdk_sock_group_impl	base;
	/* epoll instance watching every member socket */
	int				fd;
	/* Members with bytes to read, in the order they will be reported. */
	struct spdk_has_data_list	socks_with_data;
	int				placement_id;
};

/* Module defaults; sock_impl_set_options changes them. The TLS fields stay 0/NULL: there is no
 * ssl implementation in this model. */
static struct spdk_sock_impl_opts g_posix_impl_opts = {
	/* Kernel buffers of 2 MiB each way, and small reads served from a receive pipe. */
	.send_buf_size = DEFAULT_SO_SNDBUF_SIZE,
	.recv_buf_size = DEFAULT_SO_RCVBUF_SIZE,
	.enable_recv_pipe = true,
	/* Zero copy for sockets a server accepts, not for ones a client opens. Threshold 0
	 * means every send of a zero-copy socket carries MSG_ZEROCOPY. */
	.zerocopy_threshold = 0,
	.enable_zerocopy_send_client = false,
	.enable_zerocopy_send_server = true,
	.enable_placement_id = PLACEMENT_NONE,
	.enable_quickack = false,
};

#define __posix_sock(sock) (struct spdk_posix_sock *)sock
#define __posix_group_impl(group) (struct spdk_posix_sock_group_impl *)group

static int posix_connect_poller(struct spdk_posix_sock *sock);
static int posix_sock_group_impl_add_sock(struct spdk_sock_group_impl *_group,
		struct spdk_sock *_sock);

/* ---- options ---- */

/* Where each option lives, so a caller that knows a shorter struct (an older ABI) only has the
 * options that fit in its length read or written. */
#define POSIX_IMPL_OPT(name) \
	{ offsetof(struct spdk_sock_impl_opts, name), \
	  sizeof(((struct spdk_sock_impl_opts *)NULL)->name) }

static const struct {
	size_t at;
	size_t size;
} g_posix_impl_opt_fields[] = {
	POSIX_IMPL_OPT(recv_buf_size),
	POSIX_IMPL_OPT(send_buf_size),
	POSIX_IMPL_OPT(enable_recv_pipe),
	POSIX_IMPL_OPT(enable_zerocopy_send),
	POSIX_IMPL_OPT(enable_quickack),
	POSIX_IMPL_OPT(enable_placement_id),
	POSIX_IMPL_OPT(enable_zerocopy_send_server),
	POSIX_IMPL_OPT(enable_zerocopy_send_client),
	POSIX_IMPL_OPT(zerocopy_threshold),
	POSIX_IMPL_OPT(tls_version),
	POSIX_IMPL_OPT(enable_ktls),
	POSIX_IMPL_OPT(psk_key),
	POSIX_IMPL_OPT(psk_key_size),
	POSIX_IMPL_OPT(psk_identity),
	POSIX_IMPL_OPT(get_key),
	POSIX_IMPL_OPT(get_key_ctx),
	POSIX_IMPL_OPT(tls_cipher_suites),
};

#undef POSIX_IMPL_OPT

/* Copies every option that lies wholly inside the first len bytes; the rest of dest is left
 * as it was. */
static void
posix_sock_copy_impl_opts(struct spdk_sock_impl_opts *dest, const struct spdk_sock_impl_opts *src,
			  size_t len)
{
	size_t n;

	for (n = 0; n < SPDK_COUNTOF(g_posix_impl_opt_fields); n++) {
		size_t at = g_posix_impl_opt_fields[n].at;
		size_t size = g_posix_impl_opt_fields[n].size;

		if (at + size > len) {
			continue;
		}
		memcpy((uint8_t *)dest + at, (const uint8_t *)src + at, size);
	}
}

static int
posix_sock_impl_get_opts(struct spdk_sock_impl_opts *opts, size_t *len)
{
	if (opts == NULL || len == NULL) {
		errno = EINVAL;
		return -EINVAL;
	}

	assert(*len <= sizeof(*opts));
	/* Bytes of the caller's struct that hold no option still come back zeroed. */
	memset(opts, 0, *len);
	posix_sock_copy_impl_opts(opts, &g_posix_impl_opts, *len);
	if (*len > sizeof(g_posix_impl_opts)) {
		*len = sizeof(g_posix_impl_opts);
	}
	return 0;
}

static int
posix_sock_impl_set_opts(const struct spdk_sock_impl_opts *opts, size_t len)
{
	if (opts == NULL) {
		errno = EINVAL;
		return -EINVAL;
	}

	assert(len <= sizeof(*opts));
	posix_sock_copy_impl_opts(&g_posix_impl_opts, opts, len);
	SPDK_WASM_TRACE("posix_sock_impl_set_opts", g_posix_impl_opts.enable_zerocopy_send_server,
			g_posix_impl_opts.enable_zerocopy_send_client,
			g_posix_impl_opts.zerocopy_threshold, g_posix_impl_opts.send_buf_size);
	return 0;
}

static void
_opts_get_impl_opts(const struct spdk_sock_opts *opts, struct spdk_sock_impl_opts *dest,
		    const struct spdk_sock_impl_opts *default_impl)
{
	/* Defaults first, so a smaller per-socket override leaves the rest at module values. */
	memcpy(dest, default_impl, sizeof(*dest));

	if (opts->impl_opts != NULL) {
		assert(sizeof(*dest) >= opts->impl_opts_size);
		posix_sock_copy_impl_opts(dest, opts->impl_opts, opts->impl_opts_size);
	}
}

/* ---- socket setup ---- */

static int
posix_sock_getaddr(struct spdk_sock *_sock, char *saddr, int slen, uint16_t *sport,
		   char *caddr, int clen, uint16_t *cport)
{
	struct spdk_posix_sock *sock = __posix_sock(_sock);

	if (sock->ready) {
		return spdk_net_getaddr(sock->fd, saddr, slen, sport, caddr, clen, cport);
	}

	if (sock->connect_ctx != NULL) {
		SPDK_ERRLOG("sock %p: no addresses yet, its connect is still under way\n", sock);
		return -EAGAIN;
	}

	SPDK_ERRLOG("sock %p: no addresses, its connect failed\n", sock);
	return -ENOTCONN;
}

/* Gives the socket a receive pipe of sz bytes, or resizes it keeping the bytes it holds (in
 * order). sz 0 frees the pipe. A pipe cannot shrink below what it holds (-EINVAL). */
static int
posix_sock_alloc_pipe(struct spdk_posix_sock *sock, int sz)
{
	uint8_t *new_buf;
	struct spdk_pipe *new_pipe;
	struct iovec siov[2];
	struct iovec diov[2];
	int sbytes;
	ssize_t bytes;
	int rc;

	if (sock->recv_buf_sz == sz) {
		return 0;
	}

	/* As upstream, freeing leaves recv_buf_sz (and pipe_has_data) as they were: a later
	 * request for the old size finds recv_buf_sz equal and gets no pipe back. */
	if (sz == 0) {
		free(spdk_pipe_destroy(sock->recv_pipe));
		sock->recv_pipe = NULL;
		return 0;
	} else if (sz < MIN_SOCK_PIPE_SIZE) {
		/* Upstream returns -1 here; a negative errno is what callers in this tree expect. */
		SPDK_ERRLOG("receive pipe of %d bytes asked for; the smallest is %d\n", sz,
			    MIN_SOCK_PIPE_SIZE);
		return -EINVAL;
	}

	rc = posix_memalign((void **)&new_buf, 64, sz);
	if (rc != 0) {
		SPDK_ERRLOG("out of memory for a %d-byte receive pipe\n", sz);
		return -ENOMEM;
	}
	memset(new_buf, 0, sz);

	new_pipe = spdk_pipe_create(new_buf, sz);
	if (new_pipe == NULL) {
		SPDK_ERRLOG("out of memory for a receive pipe descriptor\n");
		free(new_buf);
		return -ENOMEM;
	}

	if (sock->recv_pipe != NULL) {
		/* Move what the old pipe holds to the front of the new one. */
		sbytes = spdk_pipe_reader_get_buffer(sock->recv_pipe, sock->recv_buf_sz, siov);
		if (sbytes > sz) {
			free(spdk_pipe_destroy(new_pipe));
			return -EINVAL;
		}

		sbytes = spdk_pipe_writer_get_buffer(new_pipe, sz, diov);
		assert(sbytes == sz);

		bytes = spdk_iovcpy(siov, 2, diov, 2);
		/* With nothing buffered this commits 0 bytes to the empty new pipe, which marks it
		 * full (spdk_pipe_writer_advance): upstream does the same. */
		spdk_pipe_writer_advance(new_pipe, bytes);

		free(spdk_pipe_destroy(sock->recv_pipe));
	}

	SPDK_WASM_TRACE("posix_sock_alloc_pipe", sock, sock->recv_buf_sz, sz,
			spdk_pipe_reader_bytes_available(new_pipe));
	sock->recv_buf_sz = sz;
	sock->recv_pipe = new_pipe;
	return 0;
}

/* A setting asked for before the connection is up: 0 when it can be remembered in the
 * connect context for posix_connect_poller to apply, -ENOTCONN when the connect failed. */
static int
posix_sock_may_defer(struct spdk_posix_sock *sock, const char *what)
{
	if (sock->connect_ctx != NULL) {
		return 0;
	}

	SPDK_ERRLOG("sock %p: cannot set %s, the socket never connected\n", sock, what);
	return -ENOTCONN;
}

/* Sets SO_RCVBUF or SO_SNDBUF. The size is never lowered below the larger of the module's
 * minimum and the current size (*cur), which then records what was set. */
static int
posix_sock_set_kernel_buf(struct spdk_posix_sock *sock, int optname, int sz, int minimum,
			  uint32_t *cur)
{
	int least = spdk_max(minimum, *cur);
	int val = sz < least ? least : sz;

	if (setsockopt(sock->fd, SOL_SOCKET, optname, &val, sizeof(val)) < 0) {
		return -errno;
	}

	*cur = val;
	return 0;
}

static int
posix_sock_set_recvbuf(struct spdk_sock *_sock, int sz)
{
	struct spdk_posix_sock *sock = __posix_sock(_sock);
	int rc;

	if (!sock->ready) {
		rc = posix_sock_may_defer(sock, "the receive buffer");
		if (rc == 0) {
			sock->connect_ctx->set_recvbuf = sz;
		}
		return rc;
	}

	/* The pipe gets exactly sz; only the kernel buffer has a floor. */
	if (_sock->impl_opts.enable_recv_pipe) {
		rc = posix_sock_alloc_pipe(sock, sz);
		if (rc != 0) {
			return rc;
		}
	}

	return posix_sock_set_kernel_buf(sock, SO_RCVBUF, sz, MIN_SO_RCVBUF_SIZE,
					 &_sock->impl_opts.recv_buf_size);
}

static int
posix_sock_set_sendbuf(struct spdk_sock *_sock, int sz)
{
	struct spdk_posix_sock *sock = __posix_sock(_sock);
	int rc;

	if (!sock->ready) {
		rc = posix_sock_may_defer(sock, "the send buffer");
		if (rc == 0) {
			sock->connect_ctx->set_sendbuf = sz;
		}
		return rc;
	}

	return posix_sock_set_kernel_buf(sock, SO_SNDBUF, sz, MIN_SO_SNDBUF_SIZE,
					 &_sock->impl_opts.send_buf_size);
}

static int
posix_sock_set_recvlowat(struct spdk_sock *_sock, int nbytes)
{
	struct spdk_posix_sock *sock = __posix_sock(_sock);
	int rc;

	if (!sock->ready) {
		rc = posix_sock_may_defer(sock, "the receive low-water mark");
		if (rc == 0) {
			sock->connect_ctx->set_recvlowat = nbytes;
		}
		return rc;
	}

	if (setsockopt(sock->fd, SOL_SOCKET, SO_RCVLOWAT, &nbytes, sizeof(nbytes)) < 0) {
		return -errno;
	}
	return 0;
}

/* Last step of setting up a connected, accepted or listening fd: zero copy if allowed,
 * TCP_QUICKACK if the options ask for it; then the socket is ready. */
static void
posix_sock_init(struct spdk_posix_sock *sock, bool enable_zero_copy)
{
	int one = 1;

#if defined(SPDK_ZEROCOPY)
	/* The kernel gives the first zero-copy send id 0 and the counter is advanced before
	 * each one, so it starts one below 0. */
	if (enable_zero_copy &&
	    setsockopt(sock->fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) == 0) {
		sock->zcopy = true;
		sock->sendmsg_idx = UINT32_MAX;
	}
#endif

	/* Upstream guards this with __linux__; the emulated kernel is Linux. */
	if (sock->base.impl_opts.enable_quickack &&
	    setsockopt(sock->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one)) != 0) {
		SPDK_ERRLOG("sock %p: TCP_QUICKACK could not be set\n", sock);
	}

	/* Placement ids are not modelled: always PLACEMENT_NONE. */
	sock->placement_id = -1;
	sock->ready = true;
	SPDK_WASM_TRACE("posix_sock_init", sock, sock->fd, sock->zcopy, enable_zero_copy);
}

static struct spdk_posix_sock *
posix_sock_alloc(int fd, struct spdk_sock_impl_opts *impl_opts)
{
	struct spdk_posix_sock *sock = calloc(1, sizeof(*sock));

	if (sock == NULL) {
		SPDK_ERRLOG("out of memory for a posix socket (fd %d)\n", fd);
		return NULL;
	}

	sock->base.impl_opts = *impl_opts;
	sock->placement_id = -1;
	sock->fd = fd;
	return sock;
}

/* Opens a listening fd on one address. Returns it, or -1 with *stop telling whether the
 * other addresses are still worth trying (they are after a failed bind, not after a failed
 * listen or fcntl). */
static int
posix_sock_listen_on(struct addrinfo *res, const char *ip, int port, struct spdk_sock_opts *opts,
		     struct spdk_sock_impl_opts *impl_opts, bool *stop)
{
	int fd, err;

	*stop = false;
	for (;;) {
		fd = spdk_sock_posix_fd_create(res, opts, impl_opts);
		if (fd < 0) {
			return -1;
		}
		if (bind(fd, res->ai_addr, res->ai_addrlen) == 0) {
			break;
		}

		err = errno;
		SPDK_ERRLOG("cannot bind %s port %d (errno %d)\n", ip, port, err);
		close(fd);
		/* An interrupted bind is tried again on a new fd. */
		if (err == EINTR) {
			continue;
		}
		if (err == EADDRNOTAVAIL) {
			SPDK_ERRLOG("%s is not an address of this machine: check the listen address "
				    "and that its interface is up\n", ip);
		}
		return -1;
	}

	if (listen(fd, 512) != 0) {
		SPDK_ERRLOG("cannot listen on %s port %d (errno %d)\n", ip, port, errno);
		close(fd);
		*stop = true;
		return -1;
	}

	if (spdk_fd_set_nonblock(fd) != 0) {
		close(fd);
		*stop = true;
		return -1;
	}

	return fd;
}

static struct spdk_sock *
posix_sock_listen(const char *ip, int port, struct spdk_sock_opts *opts)
{
	struct spdk_sock_impl_opts impl_opts;
	struct spdk_posix_sock *sock;
	struct addrinfo *res, *res0;
	bool stop = false;
	int fd = -1;

	assert(opts != NULL);
	_opts_get_impl_opts(opts, &impl_opts, &g_posix_impl_opts);

	res0 = spdk_sock_posix_getaddrinfo(ip, port);
	if (res0 == NULL) {
		return NULL;
	}

	/* The first address that works wins. */
	for (res = res0; res != NULL && fd < 0 && !stop; res = res->ai_next) {
		fd = posix_sock_listen_on(res, ip, port, opts, &impl_opts, &stop);
	}
	freeaddrinfo(res0);
	if (fd < 0) {
		return NULL;
	}

	sock = posix_sock_alloc(fd, &impl_opts);
	if (sock == NULL) {
		close(fd);
		return NULL;
	}

	/* Zero copy only off loopback and only if the module allows it for servers. */
	posix_sock_init(sock, opts->zcopy && !spdk_net_is_loopback(fd) &&
			impl_opts.enable_zerocopy_send_server);
	return &sock->base;
}

/* Starts a non-blocking connect to the first address left in ctx that takes one, and arms the
 * connect timeout. Returns 0, or the error of the last address tried (-ENOENT if none was
 * left). */
static int
_sock_posix_connect_async(struct posix_connect_ctx *ctx)
{
	struct addrinfo *res;
	int rc = -ENOENT;
	int fd;

	assert(ctx->fd == -1);
	while ((res = ctx->next_res) != NULL) {
		ctx->next_res = res->ai_next;

		fd = spdk_sock_posix_fd_create(res, &ctx->opts, &ctx->impl_opts);
		if (fd < 0) {
			rc = fd;
			continue;
		}

		rc = spdk_sock_posix_fd_connect_async(fd, res, &ctx->opts);
		if (rc < 0) {
			close(fd);
			continue;
		}

		ctx->fd = fd;
		ctx->timeout_tsc = 0;
		if (ctx->opts.connect_timeout != 0) {
			ctx->timeout_tsc = spdk_get_ticks() + (uint64_t)ctx->opts.connect_timeout *
					   spdk_get_ticks_hz() / 1000;
		}
		return 0;
	}

	return rc;
}

static void
sock_posix_connect_ctx_cleanup(struct posix_connect_ctx **_ctx, int rc)
{
	struct posix_connect_ctx *ctx = *_ctx;

	*_ctx = NULL;
	if (!ctx) {
		return;
	}

	freeaddrinfo(ctx->first_res);
	if (ctx->cb_fn) {
		ctx->cb_fn(ctx->cb_arg, rc);
	}

	free(ctx);
}

static struct spdk_sock *
_posix_sock_connect(const char *ip, int port, struct spdk_sock_opts *opts, bool async,
		    spdk_sock_connect_cb_fn cb_fn, void *cb_arg)
{
	struct spdk_sock_impl_opts impl_opts;
	struct spdk_posix_sock *sock = NULL;
	struct posix_connect_ctx *ctx = NULL;
	struct addrinfo *res0 = NULL;
	int rc, spins = 0;

	assert(opts != NULL);
	_opts_get_impl_opts(opts, &impl_opts, &g_posix_impl_opts);

	res0 = spdk_sock_posix_getaddrinfo(ip, port);
	if (!res0) {
		rc = -EIO;
		goto err;
	}

	sock = posix_sock_alloc(-1, &impl_opts);
	if (!sock) {
		rc = -ENOMEM;
		goto err;
	}

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		rc = -ENOMEM;
		goto err;
	}
	ctx->first_res = ctx->next_res = res0;
	ctx->opts = *opts;
	ctx->impl_opts = impl_opts;
	ctx->fd = -1;
	ctx->set_recvlowat = -1;
	ctx->set_recvbuf = -1;
	ctx->set_sendbuf = -1;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;

	rc = _sock_posix_connect_async(ctx);
	if (rc < 0) {
		free(ctx);
		goto err;
	}

	sock->connect_ctx = ctx;
	sock->fd = ctx->fd;
	if (async) {
		return &sock->base;
	}

	do {
		rc = posix_connect_poller(sock);
	} while (rc == -EAGAIN && ++spins < POSIX_SYNC_CONNECT_MAX_SPINS);

	if (rc == -EAGAIN) {
		SPDK_ERRLOG("connect to %s:%d did not complete within %d polls\n", ip, port, spins);
		sock_posix_connect_ctx_cleanup(&sock->connect_ctx, -ETIMEDOUT);
		close(sock->fd);
		sock->fd = -1;
	}

	if (!sock->ready) {
		free(sock);
		return NULL;
	}

	return &sock->base;

err:
	free(sock);
	if (res0) {
		freeaddrinfo(res0);
	}

	if (cb_fn) {
		cb_fn(cb_arg, rc);
	}

	return NULL;
}

static struct spdk_sock *
posix_sock_connect(const char *ip, int port, struct spdk_sock_opts *opts)
{
	return _posix_sock_connect(ip, port, opts, false, NULL, NULL);
}

static struct spdk_sock *
posix_sock_connect_async(const char *ip, int port, struct spdk_sock_opts *opts,
			 spdk_sock_connect_cb_fn cb_fn, void *cb_arg)
{
	return _posix_sock_connect(ip, port, opts, true, cb_fn, cb_arg);
}

static struct spdk_sock *
posix_sock_accept(struct spdk_sock *_sock)
{
	struct spdk_posix_sock		*sock = __posix_sock(_sock);
	struct spdk_posix_sock_group_impl *group = __posix_group_impl(sock->base.group_impl);
	struct sockaddr_storage		sa;
	socklen_t			salen;
	int				rc, fd;
	struct spdk_posix_sock		*new_sock;

	memset(&sa, 0, sizeof(sa));
	salen = sizeof(sa);

	/* Level-triggered epoll reports the listener again if more connections wait. */
	if (group && sock->socket_has_data) {
		sock->socket_has_data = false;
		TAILQ_REMOVE(&group->socks_with_data, sock, link);
	}

	rc = accept(sock->fd, (struct sockaddr *)&sa, &salen);
	if (rc == -1) {
		return NULL;
	}

	fd = rc;

	if (spdk_fd_set_nonblock(fd)) {
		close(fd);
		return NULL;
	}

	/* The priority is not inherited by accepted sockets. */
	if (sock->base.opts.priority) {
		rc = setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &sock->base.opts.priority, sizeof(int));
		if (rc != 0) {
			close(fd);
			return NULL;
		}
	}

	new_sock = posix_sock_alloc(fd, &sock->base.impl_opts);
	if (new_sock == NULL) {
		close(fd);
		return NULL;
	}

	/* Zero copy as decided for the listening socket. */
	posix_sock_init(new_sock, sock->zcopy);
	return &new_sock->base;
}

static int
posix_sock_close(struct spdk_sock *_sock)
{
	struct spdk_posix_sock *sock = __posix_sock(_sock);

	/* spdk_sock_close() aborted everything (-ECANCELED) before calling here. */
	assert(TAILQ_EMPTY(&_sock->queued_reqs));
	assert(TAILQ_EMPTY(&_sock->pending_reqs));
	if (!TAILQ_EMPTY(&_sock->queued_reqs) || !TAILQ_EMPTY(&_sock->pending_reqs)) {
		spdk_sock_abort_requests(_sock);
	}

	sock_posix_connect_ctx_cleanup(&sock->connect_ctx, -ECONNRESET);

	/* If close fails, leak the fd but free the rest. */
	if (sock->fd != -1) {
		close(sock->fd);
	}

	/* spdk_sock_close() refused a socket still in a group, so it is on no socks_with_data
	 * list; bytes left in the pipe go with it. */
	free(spdk_pipe_destroy(sock->recv_pipe));

	SPDK_WASM_TRACE("posix_sock_close", sock, sock->fd, 0, 0);
	free(sock);
	return 0;
}

/* ---- zero-copy send path ---- */

#ifdef SPDK_ZEROCOPY
/* Takes the next message off the error queue. Returns its zero-copy notification, or NULL
 * when the queue is empty or the message is something else (which is logged and ends the
 * read: upstream stops there too). */
static struct sock_extended_err *
posix_sock_next_zcopy_notice(struct spdk_sock *sock, struct msghdr *msgh)
{
	struct spdk_posix_sock *psock = __posix_sock(sock);
	struct sock_extended_err *serr;
	struct cmsghdr *cm;
	bool v4, v6;

	if (recvmsg(psock->fd, msgh, MSG_ERRQUEUE) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return NULL;
		}
		/* Worse when requests are still waiting: nothing else will complete them. */
		if (TAILQ_EMPTY(&sock->pending_reqs)) {
			SPDK_WARNLOG("sock %p: error queue read failed (errno %d)\n", sock, errno);
		} else {
			SPDK_ERRLOG("sock %p: error queue read failed (errno %d) with requests still "
				    "waiting for their zero-copy notification\n", sock, errno);
		}
		return NULL;
	}

	cm = CMSG_FIRSTHDR(msgh);
	if (cm == NULL) {
		SPDK_WARNLOG("sock %p: error queue message without control data\n", sock);
		return NULL;
	}

	v4 = cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR;
	v6 = cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR;
	if (!v4 && !v6) {
		SPDK_WARNLOG("sock %p: error queue message of level %d type %d is no RECVERR\n",
			     sock, cm->cmsg_level, cm->cmsg_type);
		return NULL;
	}

	serr = (struct sock_extended_err *)CMSG_DATA(cm);
	if (serr->ee_origin != SO_EE_ORIGIN_ZEROCOPY || serr->ee_errno != 0) {
		SPDK_WARNLOG("sock %p: extended error origin %u errno %u is no zero-copy "
			     "notification\n", sock, serr->ee_origin, serr->ee_errno);
		return NULL;
	}

	return serr;
}

/* Completes the pending requests that notification id idx frees, walking pending_reqs from
 * the head: a request with no zero copy outstanding only waited in line behind others and
 * goes too; a zero-copy one goes if idx was its last send. The requests of one sendmsg() are
 * adjacent, so after a match the first zero-copy request that does not match ends the walk;
 * before any match, non-matching ones are stepped over (notifications may come out of order).
 * Returns a negative value if a completion callback closed the socket. */
static int
posix_sock_complete_zcopy_id(struct spdk_sock *sock, uint32_t idx)
{
	struct spdk_sock_request *req, *next;
	bool matched = false;
	int rc;

	for (req = TAILQ_FIRST(&sock->pending_reqs); req != NULL; req = next) {
		next = TAILQ_NEXT(req, internal.link);

		/* Before a1f20e789f a waiting request keeps the id of its last send in offset. */
		if (req->internal.is_zcopy) {
			if (req->internal.offset != idx) {
				if (matched) {
					break;
				}
				continue;
			}
			matched = true;
		}

		rc = spdk_sock_request_put(sock, req, 0);
		if (rc < 0) {
			return rc;
		}
	}

	return 0;
}

/* Drains the error queue: each zero-copy notification names an inclusive range of send ids
 * [ee_info, ee_data] whose pages the kernel no longer holds. Returns 0, or a negative value if
 * a completion callback closed the socket. */
static int
_sock_check_zcopy(struct spdk_sock *sock)
{
	/* Room for exactly one notification; set once, as upstream does. */
	uint8_t ctl[sizeof(struct cmsghdr) + sizeof(struct sock_extended_err)];
	struct msghdr msgh = {.msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct sock_extended_err *serr;
	uint32_t idx;
	int rc;

	while ((serr = posix_sock_next_zcopy_notice(sock, &msgh)) != NULL) {
		SPDK_WASM_TRACE("_sock_check_zcopy", serr->ee_info, serr->ee_data, serr->ee_code, sock);

		/* Stepping with ++ until the id equals ee_data stays right when the range wraps
		 * from UINT32_MAX to 0. */
		idx = serr->ee_info;
		do {
			rc = posix_sock_complete_zcopy_id(sock, idx);
			if (rc < 0) {
				return rc;
			}
		} while (idx++ != serr->ee_data);
	}

	return 0;
}
#endif

static int
posix_writev(struct spdk_posix_sock *sock, struct iovec *iov, int iovcnt, int flags)
{
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = iovcnt};
	ssize_t rc;

	rc = sendmsg(sock->fd, &msg, flags);
	if (rc > 0) {
		return rc;
	}

	/* Nothing was sent (and no zero-copy id consumed): retry later. ENOBUFS on a zero-copy
	 * socket means the kernel ran out of room to pin pages. */
	if (rc == 0 || errno == EAGAIN || errno == EWOULDBLOCK ||
	    (sock->zcopy && errno == ENOBUFS)) {
		return -EAGAIN;
	}
	return -errno;
}

static int
posix_readv(struct spdk_posix_sock *sock, struct iovec *iov, int iovcnt)
{
	int rc = readv(sock->fd, iov, iovcnt);

	return rc < 0 ? -errno : rc;
}

/* Accounts *sent bytes of the last sendmsg() to req, after what earlier sends took of it.
 * Returns true when req is now wholly in the kernel; false when its end is still unsent (then
 * every byte of *sent went to req). */
static bool
posix_sock_req_advance(struct spdk_sock_request *req, size_t *sent)
{
	uint32_t skip = req->internal.offset;
	size_t iov_len, unsent;
	int i;

	for (i = 0; i < req->iovcnt; i++) {
		iov_len = SPDK_SOCK_REQUEST_IOV(req, i)->iov_len;
		if (skip >= iov_len) {
			/* Sent by an earlier call. */
			skip -= iov_len;
			continue;
		}

		unsent = iov_len - skip;
		skip = 0;
		if (unsent > *sent) {
			req->internal.offset += *sent;
			*sent = 0;
			return false;
		}

		req->internal.offset += unsent;
		*sent -= unsent;
	}

	return true;
}

/* Send as much of queued_reqs as the kernel takes in one sendmsg(), then move every fully
 * sent request to pending_reqs, completing it at once if it needs no zero-copy notification
 * and is first in line.
 *
 * Returns (upstream HEAD semantics, chosen over v25.01's byte count and -1/errno):
 *   0        nothing left queued (or nothing to do),
 *   -EAGAIN  requests remain queued (partial send, kernel buffer full, inside a callback,
 *            connect in progress),
 *   -EBADF   a completion callback closed the socket: it is freed, do not touch it,
 *   -errno   sendmsg() failed hard; the caller aborts the socket's requests. */
static int
_sock_flush(struct spdk_sock *sock)
{
	struct spdk_posix_sock *psock = __posix_sock(sock);
	struct iovec iovs[IOV_BATCH_SIZE];
	struct spdk_sock_request *req;
	int flags = MSG_NOSIGNAL;
	bool is_zcopy = false;
	uint64_t total = 0;
	size_t sent;
	ssize_t rc;
	int iovcnt, i;

	rc = posix_connect_poller(psock);
	if (rc < 0) {
		return rc;
	}

	/* A completion callback that flushes would re-enter this loop: it waits for the poll. */
	if (sock->cb_cnt > 0) {
		return -EAGAIN;
	}

#ifdef SPDK_ZEROCOPY
	if (psock->zcopy) {
		flags |= MSG_ZEROCOPY;
	}
#endif

	/* Drops MSG_ZEROCOPY again when the gathered bytes are below zerocopy_threshold. */
	iovcnt = spdk_sock_prep_reqs(sock, iovs, 0, NULL, &flags);
	if (iovcnt == 0) {
		return 0;
	}

#ifdef SPDK_ZEROCOPY
	is_zcopy = (flags & MSG_ZEROCOPY) != 0;
#endif

	for (i = 0; i < iovcnt; i++) {
		total += iovs[i].iov_len;
	}

	rc = posix_writev(psock, iovs, iovcnt, flags);
	SPDK_WASM_TRACE("_sock_flush", is_zcopy, iovcnt, total, rc);
	if (rc < 0) {
		return rc;
	}

	/* Only zero-copy sends take an id from the kernel; keep the same count. */
	if (is_zcopy) {
		psock->sendmsg_idx++;
	}

	/* Hand the sent bytes to the requests from the head of the queue. */
	sent = rc;
	for (req = TAILQ_FIRST(&sock->queued_reqs); req != NULL;
	     req = TAILQ_FIRST(&sock->queued_reqs)) {
		/* Before a1f20e789f: each send stamps its own mode on every request it carried,
		 * so a later copy of a request's tail forgets its zero-copy head. */
		req->internal.is_zcopy = is_zcopy;

		if (!posix_sock_req_advance(req, &sent)) {
			/* Part of it is still to go; it stays at the head of the queue. */
			return -EAGAIN;
		}

		spdk_sock_request_pend(sock, req);
		if (req->internal.is_zcopy || req != TAILQ_FIRST(&sock->pending_reqs)) {
			/* _sock_check_zcopy completes it; offset now holds the id it waits for. */
			req->internal.offset = psock->sendmsg_idx;
		} else {
			/* Copied and first in line: nothing references its buffers any more. */
			rc = spdk_sock_request_put(sock, req, 0);
			if (rc < 0) {
				return rc;
			}
		}

		if (sent == 0) {
			break;
		}
	}

	return TAILQ_EMPTY(&sock->queued_reqs) ? 0 : -EAGAIN;
}

static int
posix_sock_flush(struct spdk_sock *sock)
{
	int rc = _sock_flush(sock);

#ifdef SPDK_ZEROCOPY
	struct spdk_posix_sock *psock = __posix_sock(sock);

	/* The socket is gone (-EBADF), or nothing waits on the error queue: do not read it. */
	if (rc == -EBADF || !psock->zcopy || TAILQ_EMPTY(&sock->pending_reqs)) {
		return rc;
	}

	if (_sock_check_zcopy(sock) < 0) {
		/* A callback closed the socket; unlike upstream, say so (it is gone). */
		return -EBADF;
	}
#endif

	return rc;
}

/* ---- receive ---- */

/* The kernel socket has nothing more to read until epoll reports it again. Only called with
 * the pipe empty, so the socket leaves its group's socks_with_data list. */
static void
posix_sock_kernel_drained(struct spdk_posix_sock *sock)
{
	struct spdk_posix_sock_group_impl *group = __posix_group_impl(sock->base.group_impl);

	if (sock->socket_has_data && group != NULL) {
		TAILQ_REMOVE(&group->socks_with_data, sock, link);
	}
	sock->socket_has_data = false;
}

/* The pipe was just emptied: the socket stays on socks_with_data only while epoll's last word
 * was that the kernel socket is readable. */
static void
posix_sock_pipe_drained(struct spdk_posix_sock *sock)
{
	struct spdk_posix_sock_group_impl *group = __posix_group_impl(sock->base.group_impl);

	assert(sock->pipe_has_data);
	if (!sock->socket_has_data && group != NULL) {
		TAILQ_REMOVE(&group->socks_with_data, sock, link);
	}
	sock->pipe_has_data = false;
}

/* Copies up to the caller's iovecs' worth from the pipe. -EAGAIN when the pipe is empty. */
static ssize_t
posix_sock_recv_from_pipe(struct spdk_posix_sock *sock, struct iovec *diov, int diovcnt)
{
	struct iovec held[2];
	ssize_t copied;
	int avail;

	avail = spdk_pipe_reader_get_buffer(sock->recv_pipe, sock->recv_buf_sz, held);
	if (avail <= 0) {
		return avail == 0 ? -EAGAIN : -EINVAL;
	}

	copied = spdk_iovcpy(held, 2, diov, diovcnt);
	if (copied == 0) {
		/* Only a caller's iovec list that starts empty gets here. */
		return -EINVAL;
	}

	spdk_pipe_reader_advance(sock->recv_pipe, copied);
	if (spdk_pipe_reader_bytes_available(sock->recv_pipe) == 0) {
		posix_sock_pipe_drained(sock);
	}
	return copied;
}

/* Fills the (empty) pipe with one kernel read of as much as it has room for, in two iovecs
 * when its free space wraps. Returns the bytes read, 0 at end of stream, or a negative errno;
 * the last two mean the kernel socket is drained for now. */
static inline ssize_t
posix_sock_read(struct spdk_posix_sock *sock)
{
	struct iovec room[2];
	int space, got;

	space = spdk_pipe_writer_get_buffer(sock->recv_pipe, sock->recv_buf_sz, room);
	if (space <= 0) {
		return space;
	}

	assert(!sock->pipe_has_data);
	got = posix_readv(sock, room, 2);
	if (got <= 0) {
		posix_sock_kernel_drained(sock);
		return got;
	}

	/* In a group, reads come only after epoll reported the socket (or from pipe data). */
	assert(sock->base.group_impl == NULL || sock->socket_has_data);
	spdk_pipe_writer_advance(sock->recv_pipe, got);
	sock->pipe_has_data = true;

	/* A read shorter than the room there was: the kernel has nothing more right now. The
	 * socket stays listed for the bytes now in the pipe. */
	if (got < space) {
		sock->socket_has_data = false;
	}
	return got;
}

static size_t
posix_iov_total(const struct iovec *iov, int iovcnt)
{
	size_t total = 0;

	while (iovcnt-- > 0) {
		total += iov[iovcnt].iov_len;
	}
	return total;
}

static ssize_t
_posix_sock_readv(struct spdk_posix_sock *sock, struct iovec *iov, int iovcnt)
{
	int rc;

	rc = posix_connect_poller(sock);
	if (rc < 0) {
		return rc;
	}

	if (sock->recv_pipe == NULL) {
		/* No pipe: straight into the caller's buffers. Level-triggered epoll reports the
		 * socket again if bytes remain. */
		assert(!sock->pipe_has_data);
		posix_sock_kernel_drained(sock);
		return posix_readv(sock, iov, iovcnt);
	}

	/* Served from the pipe when it holds bytes, and also when it is empty but the socket is
	 * in a group whose epoll did not report it (the pipe then says -EAGAIN). A socket outside
	 * a group is not watched, so it may always have data. */
	if (sock->pipe_has_data ||
	    (sock->base.group_impl != NULL && !sock->socket_has_data)) {
		return posix_sock_recv_from_pipe(sock, iov, iovcnt);
	}

	/* A large read gains nothing from the pipe: read straight into the caller's buffers.
	 * Not upstream: an empty kernel socket leaves socks_with_data here too (decisions 19),
	 * or a poll group would hand the socket back every poll until its next segment comes,
	 * a spin that costs a real reactor nothing but costs the simulation a round per µs. */
	if (posix_iov_total(iov, iovcnt) >= MIN_SOCK_PIPE_SIZE) {
		rc = posix_readv(sock, iov, iovcnt);
		if (rc == -EAGAIN) {
			posix_sock_kernel_drained(sock);
		}
		return rc;
	}

	/* A small one: one big read into the pipe, then serve from it. */
	rc = posix_sock_read(sock);
	if (rc <= 0) {
		return rc;
	}
	return posix_sock_recv_from_pipe(sock, iov, iovcnt);
}

static ssize_t
posix_sock_readv(struct spdk_sock *_sock, struct iovec *iov, int iovcnt)
{
	ssize_t rc = _posix_sock_readv(__posix_sock(_sock), iov, iovcnt);

	if (rc < 0) {
		errno = -rc;
	}
	return rc;
}

static ssize_t
posix_sock_recv(struct spdk_sock *sock, void *buf, size_t len)
{
	struct iovec one = {.iov_base = buf, .iov_len = len};

	return posix_sock_readv(sock, &one, 1);
}

/* Synchronous write: flush the queue first, then one plain sendmsg() (never zero copy). */
static ssize_t
posix_sock_writev(struct spdk_sock *_sock, struct iovec *iov, int iovcnt)
{
	struct spdk_posix_sock *sock = __posix_sock(_sock);
	int rc;

	rc = _sock_flush(_sock);
	if (rc == 0 && !TAILQ_EMPTY(&_sock->queued_reqs)) {
		rc = -EAGAIN;
	}
	if (rc == 0) {
		rc = posix_writev(sock, iov, iovcnt, 0);
	}

	if (rc < 0) {
		errno = -rc;
	}
	return rc;
}

static void
posix_sock_writev_async(struct spdk_sock *sock, struct spdk_sock_request *req)
{
	int rc;

	spdk_sock_request_queue(sock, req);

	/* A full batch is queued: send it now rather than at the next poll. */
	if (sock->queued_iovcnt < IOV_BATCH_SIZE) {
		return;
	}

	rc = _sock_flush(sock);
	if (rc < 0 && rc != -EAGAIN && rc != -EBADF) {
		spdk_sock_abort_requests(sock);
	}
}

/* Address family of the local end, or -1 (errno set) when not connected. */
static int
posix_sock_family(struct spdk_sock *_sock)
{
	struct spdk_posix_sock *sock = __posix_sock(_sock);
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);

	if (!sock->ready) {
		errno = sock->connect_ctx ? EAGAIN : ENOTCONN;
		return -1;
	}

	memset(&sa, 0, sizeof(sa));
	if (getsockname(sock->fd, (struct sockaddr *)&sa, &salen) != 0) {
		SPDK_ERRLOG("sock %p: getsockname() failed (errno %d)\n", sock, errno);
		return -1;
	}
	return sa.ss_family;
}

static bool
posix_sock_is_ipv6(struct spdk_sock *_sock)
{
	return posix_sock_family(_sock) == AF_INET6;
}

static bool
posix_sock_is_ipv4(struct spdk_sock *_sock)
{
	return posix_sock_family(_sock) == AF_INET;
}

/* poll() with no events asked for still reports a hang-up. */
static bool
posix_fd_hung_up(int fd)
{
	struct pollfd pfd = {.fd = fd};

	return poll(&pfd, 1, 0) >= 0 && (pfd.revents & POLLHUP) != 0;
}

static bool
posix_sock_is_connected(struct spdk_sock *_sock)
{
	struct spdk_posix_sock *sock = __posix_sock(_sock);
	uint8_t byte;
	int rc;

	rc = posix_connect_poller(sock);
	if (rc < 0) {
		errno = -rc;
		return false;
	}

	if (posix_fd_hung_up(sock->fd)) {
		return false;
	}

	/* Peek at one byte: end of stream means the peer closed, an empty receive queue
	 * (EAGAIN) means the connection is up with nothing to read. */
	rc = recv(sock->fd, &byte, 1, MSG_PEEK);
	if (rc > 0) {
		return true;
	}
	return rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* ---- groups ---- */

static struct spdk_sock_group_impl *
posix_sock_group_impl_create(void)
{
	struct spdk_posix_sock_group_impl *group_impl;
	int fd;

	fd = epoll_create1(0);
	if (fd == -1) {
		return NULL;
	}

	group_impl = calloc(1, sizeof(*group_impl));
	if (group_impl == NULL) {
		SPDK_ERRLOG("out of memory for a posix sock group\n");
		close(fd);
		return NULL;
	}

	group_impl->fd = fd;
	TAILQ_INIT(&group_impl->socks_with_data);
	group_impl->placement_id = -1;
	return &group_impl->base;
}

static int
posix_sock_group_impl_add_sock(struct spdk_sock_group_impl *_group, struct spdk_sock *_sock)
{
	struct spdk_posix_sock_group_impl *group = __posix_group_impl(_group);
	struct spdk_posix_sock *sock = __posix_sock(_sock);
	struct epoll_event event;

	if (!sock->ready) {
		/* Connect still in progress: posix_connect_poller adds it once connected,
		 * finding the group in sock->base.group_impl. */
		return posix_sock_may_defer(sock, "a sock group");
	}

	memset(&event, 0, sizeof(event));
	/* EPOLLERR is reported even if not asked for; ask anyway, for clarity. */
	event.events = EPOLLIN | EPOLLERR;
	event.data.ptr = sock;
	if (epoll_ctl(group->fd, EPOLL_CTL_ADD, sock->fd, &event) < 0) {
		return -errno;
	}

	/* Moved here from another group with bytes still in its pipe: epoll will not report
	 * those, so the list has to. */
	if (spdk_unlikely(sock->recv_pipe != NULL &&
			  spdk_pipe_reader_bytes_available(sock->recv_pipe) > 0)) {
		sock->pipe_has_data = true;
		sock->socket_has_data = false;
		TAILQ_INSERT_TAIL(&group->socks_with_data, sock, link);
	}

	return 0;
}

/* Takes a socket off socks_with_data if it is on it (it is while either flag is set). */
static void
posix_sock_unlist(struct spdk_posix_sock_group_impl *group, struct spdk_posix_sock *sock)
{
	if (!sock->pipe_has_data && !sock->socket_has_data) {
		return;
	}
	TAILQ_REMOVE(&group->socks_with_data, sock, link);
	sock->pipe_has_data = false;
	sock->socket_has_data = false;
}

static int
posix_sock_group_impl_remove_sock(struct spdk_sock_group_impl *_group, struct spdk_sock *_sock)
{
	struct spdk_posix_sock_group_impl *group = __posix_group_impl(_group);
	struct spdk_posix_sock *sock = __posix_sock(_sock);
	struct epoll_event event;
	int rc = 0;

	/* A socket still connecting was never given to epoll (nor listed). */
	if (sock->ready && sock->connect_ctx == NULL) {
		posix_sock_unlist(group, sock);
		/* EPOLL_CTL_DEL ignores the event, but old kernels want a non-NULL one. */
		memset(&event, 0, sizeof(event));
		if (epoll_ctl(group->fd, EPOLL_CTL_DEL, sock->fd, &event) < 0) {
			rc = -errno;
		}
	}

	spdk_sock_abort_requests(_sock);
	return rc;
}

#ifdef SPDK_ZEROCOPY
/* Upstream pokes the TX path of busy-polled queues that share a placement id with a socket
 * whose readable data was not consumed, once per id. With placement ids off (-1) this never
 * fires; kept so the sequence of calls matches upstream's. */
static void
posix_sock_group_kick_placements(struct spdk_posix_sock_group_impl *group)
{
	struct spdk_posix_sock *psock;
	int kicked = -1;

	TAILQ_FOREACH(psock, &group->socks_with_data, link) {
		struct pollfd pfd = {.fd = psock->fd, .events = POLLIN | POLLERR};

		if (!psock->zcopy || psock->placement_id < 0 || psock->placement_id == kicked) {
			continue;
		}
		poll(&pfd, 1, 0);
		kicked = psock->placement_id;
	}
}
#endif

/* An idle poll of a group whose first socket has a priority polls that socket once, which
 * drives busy polling of its queue. */
static void
posix_sock_group_busy_poll(struct spdk_sock_group_impl *_group)
{
	struct spdk_sock *first = TAILQ_FIRST(&_group->socks);
	struct pollfd pfd = {.events = POLLIN | POLLERR};

	if (first == NULL || first->opts.priority == 0) {
		return;
	}
	pfd.fd = (__posix_sock(first))->fd;
	poll(&pfd, 1, 0);
}

/* One epoll event: read the error queue on EPOLLERR, and on EPOLLIN list the socket as
 * readable. */
static void
posix_sock_group_take_event(struct spdk_posix_sock_group_impl *group, struct epoll_event *ev)
{
	struct spdk_sock *sock = ev->data.ptr;
	struct spdk_posix_sock *psock = __posix_sock(sock);

#ifdef SPDK_ZEROCOPY
	/* A completion may close the socket or take it out of the group: then leave it. */
	if ((ev->events & EPOLLERR) != 0 &&
	    (_sock_check_zcopy(sock) != 0 || sock->cb_fn == NULL)) {
		return;
	}
#endif

	if ((ev->events & EPOLLIN) == 0) {
		return;
	}
	if (!psock->pipe_has_data && !psock->socket_has_data) {
		TAILQ_INSERT_TAIL(&group->socks_with_data, psock, link);
	}
	psock->socket_has_data = true;
}

/* Fills socks with up to max_events readable members, oldest listed first. A batch cut short
 * rotates the list so the first socket left out leads the next poll (A B C D E F cut before D
 * becomes D E F A B C). */
static int
posix_sock_group_collect(struct spdk_posix_sock_group_impl *group, int max_events,
			 struct spdk_sock **socks)
{
	struct spdk_posix_sock *psock, *next, *head;
	int count = 0;

	psock = TAILQ_FIRST(&group->socks_with_data);
	while (psock != NULL && count < max_events) {
		next = TAILQ_NEXT(psock, link);
		if (spdk_unlikely(psock->base.cb_fn == NULL)) {
			/* Left the group meanwhile. */
			posix_sock_unlist(group, psock);
		} else {
			socks[count++] = &psock->base;
		}
		psock = next;
	}

	if (psock != NULL) {
		while ((head = TAILQ_FIRST(&group->socks_with_data)) != psock) {
			TAILQ_REMOVE(&group->socks_with_data, head, link);
			TAILQ_INSERT_TAIL(&group->socks_with_data, head, link);
		}
	}

	return count;
}

static int
posix_sock_group_impl_poll(struct spdk_sock_group_impl *_group, int max_events,
			   struct spdk_sock **socks)
{
	struct spdk_posix_sock_group_impl *group = __posix_group_impl(_group);
	struct epoll_event events[MAX_EVENTS_PER_POLL];
	struct spdk_sock *sock, *tmp;
	int num_events, i, rc;

#ifdef SPDK_ZEROCOPY
	posix_sock_group_kick_placements(group);
#endif

	/* A completion callback may remove a socket from the group, hence _SAFE. Only the send
	 * queue is flushed here; the error queue is read below on EPOLLERR. */
	TAILQ_FOREACH_SAFE(sock, &_group->socks, link, tmp) {
		rc = _sock_flush(sock);
		if (rc < 0 && rc != -EAGAIN && rc != -EBADF) {
			spdk_sock_abort_requests(sock);
		}
	}

	assert(max_events > 0);
	num_events = epoll_wait(group->fd, events, max_events, 0);
	if (num_events < 0) {
		return -errno;
	}

	if (num_events == 0) {
		posix_sock_group_busy_poll(_group);
	} else {
		/* Idle polls are most of a run's polls and say nothing: only these are traced. */
		SPDK_WASM_TRACE("posix_sock_group_impl_poll", group, num_events, 0, 0);
	}

	for (i = 0; i < num_events; i++) {
		posix_sock_group_take_event(group, &events[i]);
	}

	return posix_sock_group_collect(group, max_events, socks);
}

static int
posix_sock_group_impl_close(struct spdk_sock_group_impl *_group)
{
	struct spdk_posix_sock_group_impl *group = __posix_group_impl(_group);
	int rc = close(group->fd);

	free(group);
	return rc < 0 ? -errno : rc;
}

/* ---- async connect ---- */

/* One step of an async connect. 0 once connected, -EAGAIN while under way (also when it moved
 * on to the next address), another negative errno when it failed for good. */
static int
posix_connect_progress(struct spdk_posix_sock *sock, struct posix_connect_ctx *ctx)
{
	int rc;

	if (ctx->opts.connect_timeout != 0 && spdk_get_ticks() > ctx->timeout_tsc) {
		return -ETIMEDOUT;
	}

	rc = spdk_sock_posix_fd_connect_poll_async(ctx->fd);
	if (rc >= 0 || rc == -EAGAIN) {
		return rc;
	}

	/* This address failed. Try the next; with none left, report this failure. */
	close(ctx->fd);
	ctx->fd = -1;
	if (_sock_posix_connect_async(ctx) < 0) {
		return rc;
	}
	sock->fd = ctx->fd;
	return -EAGAIN;
}

/* The connection is up: set the socket up and apply what was asked for meanwhile. */
static int
posix_connect_finish(struct spdk_posix_sock *sock, struct posix_connect_ctx *ctx)
{
	const struct {
		int value;
		int (*apply)(struct spdk_sock *sock, int value);
		const char *what;
	} deferred[] = {
		{ ctx->set_recvlowat, posix_sock_set_recvlowat, "receive low-water mark" },
		{ ctx->set_recvbuf, posix_sock_set_recvbuf, "receive buffer size" },
		{ ctx->set_sendbuf, posix_sock_set_sendbuf, "send buffer size" },
	};
	size_t n;
	int rc;

	sock->fd = ctx->fd;

	/* Zero copy only off loopback and only if the module allows it for clients. The
	 * per-socket opts are read from the context: on a synchronous connect the generic
	 * layer has not copied them into the base socket yet. */
	posix_sock_init(sock, ctx->opts.zcopy && !spdk_net_is_loopback(sock->fd) &&
			sock->base.impl_opts.enable_zerocopy_send_client);

	for (n = 0; n < SPDK_COUNTOF(deferred); n++) {
		if (deferred[n].value == -1) {
			continue;
		}
		rc = deferred[n].apply(&sock->base, deferred[n].value);
		if (rc < 0) {
			SPDK_ERRLOG("sock %p connected, but setting its %s to %d failed (rc %d)\n",
				    sock, deferred[n].what, deferred[n].value, rc);
			return rc;
		}
	}

	if (sock->base.group_impl != NULL) {
		rc = posix_sock_group_impl_add_sock(sock->base.group_impl, &sock->base);
		if (rc != 0) {
			SPDK_ERRLOG("sock %p connected, but joining its sock group failed (rc %d)\n",
				    sock, rc);
			return rc;
		}
	}

	return 0;
}

/* Advance an async connect. 0 when connected (or already ready), -EAGAIN while in progress,
 * negative errno when it failed (the socket then stays not ready, fd -1). */
static int
posix_connect_poller(struct spdk_posix_sock *sock)
{
	struct posix_connect_ctx *ctx = sock->connect_ctx;
	int rc;

	if (sock->ready) {
		return 0;
	}
	if (ctx == NULL) {
		return -ENOTCONN;
	}

	rc = posix_connect_progress(sock, ctx);
	if (rc == -EAGAIN) {
		return rc;
	}
	if (rc == 0) {
		rc = posix_connect_finish(sock, ctx);
	}

	if (rc == 0) {
		SPDK_WASM_TRACE("posix_connect_poller", sock, sock->fd, 0, 0);
	} else {
		SPDK_WASM_TRACE("posix_connect_poller", sock, ctx->fd, rc, 0);
		if (ctx->fd != -1) {
			close(ctx->fd);
		}
		sock->fd = -1;
		sock->ready = false;
	}

	sock_posix_connect_ctx_cleanup(&sock->connect_ctx, rc);
	return rc;
}

static int
posix_net_impl_init(struct spdk_sock_initialize_opts *opts)
{
	(void)opts;
	return 0;
}

static struct spdk_net_impl g_posix_net_impl = {
	.name		= "posix",
	.init		= posix_net_impl_init,
	.get_opts	= posix_sock_impl_get_opts,
	.set_opts	= posix_sock_impl_set_opts,
	/* creating and ending sockets */
	.listen		= posix_sock_listen,
	.accept		= posix_sock_accept,
	.connect	= posix_sock_connect,
	.connect_async	= posix_sock_connect_async,
	.close		= posix_sock_close,
	/* data */
	.writev_async	= posix_sock_writev_async,
	.flush		= posix_sock_flush,
	.writev		= posix_sock_writev,
	.readv		= posix_sock_readv,
	.recv		= posix_sock_recv,
	/* settings and queries */
	.set_recvbuf	= posix_sock_set_recvbuf,
	.set_sendbuf	= posix_sock_set_sendbuf,
	.set_recvlowat	= posix_sock_set_recvlowat,
	.getaddr	= posix_sock_getaddr,
	.is_connected	= posix_sock_is_connected,
	.is_ipv4	= posix_sock_is_ipv4,
	.is_ipv6	= posix_sock_is_ipv6,
	/* sock groups */
	.group_impl_create	= posix_sock_group_impl_create,
	.group_impl_add_sock	= posix_sock_group_impl_add_sock,
	.group_impl_poll	= posix_sock_group_impl_poll,
	.group_impl_remove_sock = posix_sock_group_impl_remove_sock,
	.group_impl_close	= posix_sock_group_impl_close,
};

SPDK_NET_IMPL_REGISTER_DEFAULT(posix, &g_posix_net_impl);

/* ---- unit-test entry points ----
 * Upstream's posix_ut.c #includes posix.c to reach the static functions. Tests here drive
 * the compiled module from TypeScript, so the same functions are exported by name instead,
 * plus read access to the posix socket's private fields (declared in posix_ut.h). Not part of
 * the sock API. */

int
posix_sock_ut_flush(struct spdk_sock *sock)
{
	return _sock_flush(sock);
}

int
posix_sock_ut_check_zcopy(struct spdk_sock *sock)
{
#ifdef SPDK_ZEROCOPY
	return _sock_check_zcopy(sock);
#else
	return 0;
#endif
}

uint32_t
posix_sock_ut_sendmsg_idx(struct spdk_sock *sock)
{
	return (__posix_sock(sock))->sendmsg_idx;
}

bool
posix_sock_ut_zcopy(struct spdk_sock *sock)
{
	return (__posix_sock(sock))->zcopy;
}

int
posix_sock_ut_fd(struct spdk_sock *sock)
{
	return (__posix_sock(sock))->fd;
}

/* Lets a test start the notification counter near UINT32_MAX to exercise wrap-around, as the
 * kernel's own counter does after 2^32 zero-copy sends. */
void
posix_sock_ut_set_sendmsg_idx(struct spdk_sock *sock, uint32_t idx)
{
	(__posix_sock(sock))->sendmsg_idx = idx;
}

/* Receive pipe state: recv_buf_sz, bytes in the pipe (-1 without a pipe), the two has-data
 * flags, and whether the socket is on its group's socks_with_data list. */
int
posix_sock_ut_recv_buf_sz(struct spdk_sock *sock)
{
	return (__posix_sock(sock))->recv_buf_sz;
}

int
posix_sock_ut_pipe_bytes(struct spdk_sock *sock)
{
	struct spdk_posix_sock *psock = __posix_sock(sock);

	return psock->recv_pipe ? (int)spdk_pipe_reader_bytes_available(psock->recv_pipe) : -1;
}

bool
posix_sock_ut_pipe_has_data(struct spdk_sock *sock)
{
	return (__posix_sock(sock))->pipe_has_data;
}

bool
posix_sock_ut_socket_has_data(struct spdk_sock *sock)
{
	return (__posix_sock(sock))->socket_has_data;
}

bool
posix_sock_ut_on_socks_with_data(struct spdk_sock *sock)
{
	struct spdk_posix_sock *psock = __posix_sock(sock), *p;
	struct spdk_posix_sock_group_impl *group = __posix_group_impl(sock->group_impl);

	if (group == NULL) {
		return false;
	}
	TAILQ_FOREACH(p, &group->socks_with_data, link) {
		if (p == psock) {
			return true;
		}
	}
	return false;
}
