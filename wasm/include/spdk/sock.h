/* TCP socket abstraction (subset of upstream include/spdk/sock.h, SPDK v25.01 shapes).
 *
 * Return convention: functions that upstream documents as "-1 and errno" here return a
 * negative errno AND set errno to match, so callers written either way work. */
#ifndef SPDK_SOCK_H
#define SPDK_SOCK_H

#include "spdk/stdinc.h"
#include "spdk/queue.h"

struct spdk_sock;
struct spdk_sock_group;

/**
 * An asynchronous socket request. The iovecs of the request follow the struct immediately in
 * memory (iovcnt of them); SPDK_SOCK_REQUEST_IOV() finds the i-th one.
 */
struct spdk_sock_request {
	/* Called when the request completes: 0 on success, negative errno on failure
	 * (-ECANCELED when aborted, -EBADF when the socket is closed). */
	void (*cb_fn)(void *cb_arg, int err);
	void *cb_arg;

	/* Used by the socket layer; do not touch. */
	struct __sock_request_internal {
		TAILQ_ENTRY(spdk_sock_request)	link;
		/* The list the request is on; only maintained with DEBUG, kept for layout. */
		void				*curr_list;
		/* Bytes of this request already accepted by the kernel. Once the request is
		 * fully sent and waits for a zero-copy notification, the posix module reuses
		 * this field to hold the notification index of its last send. */
		uint32_t			offset;
		/* Whole request or part of it was sent with zero copy (set per send call). */
		bool				is_zcopy;
	} internal;

	int iovcnt;
	/* struct iovec iov[]; */
};

#define SPDK_SOCK_REQUEST_IOV(req, i) \
	((struct iovec *)(((uint8_t *)(req) + sizeof(struct spdk_sock_request)) + \
			  (sizeof(struct iovec) * (i))))

/* Upstream asserts 56 bytes on LP64. wasm32 has 4-byte pointers, so the same fields take 32. */
#if defined(__wasm32__)
_Static_assert(sizeof(struct spdk_sock_request) == 32, "spdk_sock_request layout (wasm32)");
#endif

enum spdk_placement_mode {
	PLACEMENT_NONE,
	PLACEMENT_NAPI,
	PLACEMENT_CPU,
	PLACEMENT_MARK,
};

#define SPDK_TLS_VERSION_1_3 13

struct spdk_sock_impl_opts {
	/* Minimum SO_RCVBUF size. */
	uint32_t recv_buf_size;
	/* Minimum SO_SNDBUF size. */
	uint32_t send_buf_size;
	/* Use a user-space receive pipe (not modelled: posix reads straight into the caller's
	 * buffers; see posix_sock_readv). */
	bool enable_recv_pipe;
	/* Deprecated; copied but never read. */
	bool enable_zerocopy_send;
	/* Set TCP_QUICKACK. */
	bool enable_quickack;
	/* enum spdk_placement_mode */
	uint32_t enable_placement_id;
	/* Allow zero copy on listening and accepted sockets. */
	bool enable_zerocopy_send_server;
	/* Allow zero copy on connecting sockets. */
	bool enable_zerocopy_send_client;
	/* A consecutive sequence of requests' iovecs that fall below this threshold may be sent
	 * without the zero-copy flag. 0 disables the threshold. */
	uint32_t zerocopy_threshold;
	/* TLS fields, kept for layout; the ssl module is not built here. */
	uint32_t tls_version;
	bool enable_ktls;
	uint8_t *psk_key;
	uint32_t psk_key_size;
	char *psk_identity;
	int (*get_key)(uint8_t *out, int out_len, const char **cipher, const char *pskid,
		       void *get_key_ctx);
	void *get_key_ctx;
	const char *tls_cipher_suites;
};

struct spdk_sock_opts {
	/* Size of this struct as the caller knows it (ABI compatibility). */
	size_t opts_size;
	/* SO_PRIORITY */
	int priority;
	/* Enable or disable zero copy on the socket layer. */
	bool zcopy;
	/* TCP_USER_TIMEOUT in milliseconds; 0 leaves the kernel default. */
	uint32_t ack_timeout;
	/* Optional per-socket override of the module options. */
	struct spdk_sock_impl_opts *impl_opts;
	size_t impl_opts_size;
	/* Source address/port to bind a connecting socket to (not modelled). */
	const char *src_addr;
	uint16_t src_port;
	/* Connect timeout in milliseconds; 0 means none. */
	uint32_t connect_timeout;
};

struct spdk_sock_initialize_opts {
	size_t opts_size;
	bool enable_interrupt_mode;
};

typedef void (*spdk_sock_cb)(void *arg, struct spdk_sock_group *group, struct spdk_sock *sock);
typedef void (*spdk_sock_connect_cb_fn)(void *cb_arg, int status);

void spdk_sock_get_default_opts(struct spdk_sock_opts *opts);

int spdk_sock_getaddr(struct spdk_sock *sock, char *saddr, int slen, uint16_t *sport,
		      char *caddr, int clen, uint16_t *cport);

struct spdk_sock *spdk_sock_connect(const char *ip, int port, const char *impl_name);
struct spdk_sock *spdk_sock_connect_ext(const char *ip, int port, const char *impl_name,
					struct spdk_sock_opts *opts);
struct spdk_sock *spdk_sock_connect_async(const char *ip, int port, const char *impl_name,
		struct spdk_sock_opts *opts, spdk_sock_connect_cb_fn cb_fn, void *cb_arg);
struct spdk_sock *spdk_sock_listen(const char *ip, int port, const char *impl_name);
struct spdk_sock *spdk_sock_listen_ext(const char *ip, int port, const char *impl_name,
				       struct spdk_sock_opts *opts);
struct spdk_sock *spdk_sock_accept(struct spdk_sock *sock);
int spdk_sock_close(struct spdk_sock **sock);

ssize_t spdk_sock_recv(struct spdk_sock *sock, void *buf, size_t len);
ssize_t spdk_sock_readv(struct spdk_sock *sock, struct iovec *iov, int iovcnt);
ssize_t spdk_sock_writev(struct spdk_sock *sock, struct iovec *iov, int iovcnt);
void spdk_sock_writev_async(struct spdk_sock *sock, struct spdk_sock_request *req);
int spdk_sock_flush(struct spdk_sock *sock);

int spdk_sock_set_recvlowat(struct spdk_sock *sock, int nbytes);
int spdk_sock_set_recvbuf(struct spdk_sock *sock, int sz);
int spdk_sock_set_sendbuf(struct spdk_sock *sock, int sz);
bool spdk_sock_is_ipv6(struct spdk_sock *sock);
bool spdk_sock_is_ipv4(struct spdk_sock *sock);
bool spdk_sock_is_connected(struct spdk_sock *sock);

struct spdk_sock_group *spdk_sock_group_create(void *ctx);
void *spdk_sock_group_get_ctx(struct spdk_sock_group *group);
int spdk_sock_group_add_sock(struct spdk_sock_group *group, struct spdk_sock *sock,
			     spdk_sock_cb cb_fn, void *cb_arg);
int spdk_sock_group_remove_sock(struct spdk_sock_group *group, struct spdk_sock *sock);
int spdk_sock_group_poll(struct spdk_sock_group *group);
int spdk_sock_group_poll_count(struct spdk_sock_group *group, int max_events);
int spdk_sock_group_close(struct spdk_sock_group **group);

int spdk_sock_impl_get_opts(const char *impl_name, struct spdk_sock_impl_opts *opts, size_t *len);
int spdk_sock_impl_set_opts(const char *impl_name, const struct spdk_sock_impl_opts *opts,
			    size_t len);
int spdk_sock_set_default_impl(const char *impl_name);
const char *spdk_sock_get_default_impl(void);

#endif /* SPDK_SOCK_H */
