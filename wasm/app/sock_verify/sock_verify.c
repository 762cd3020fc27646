/* sock_verify: the zcopy-threshold scenario's workload, a bdevperf "verify"-like writer and a
 * receiver that records every byte.
 *
 * Client: io_count writes of io_size bytes, at most queue_depth outstanding, each from the
 * buffer of its queue slot (reused) described by one iovec. Before a write its buffer is
 * filled with a pattern unique to the write; when the write's cb_fn reports success the
 * buffer is poisoned with 0xDEADBEEF words at once, as the upstream repro (Gerrit 25646) did.
 * If the socket layer completes a write while the kernel still references the buffer for
 * zero copy, the poison reaches the wire. The next write is submitted from a poller, never
 * from inside the callback. Flushes and the error queue run in spdk_sock_group_poll.
 *
 * Server: accepts, adds the socket to a group and appends everything received, in order, to
 * one linear buffer, which the host compares with the pattern regenerated independently. */
#include <emscripten/emscripten.h>

#include "spdk/stdinc.h"
#include "spdk/log.h"
#include "spdk/sock.h"
#include "spdk/thread.h"
#include "spdk/util.h"
#include "spdk_internal/trace_host.h"

#define SOCK_VERIFY_POISON 0xDEADBEEFu

/* Pattern word 'word_idx' of write 'write_idx': 14 bits of write index, 18 bits of word
 * index, stored little-endian at byte 4 * word_idx of the write. */
EMSCRIPTEN_KEEPALIVE uint32_t
sock_verify_pattern_word(uint32_t write_idx, uint32_t word_idx)
{
	return ((write_idx & 0x3fff) << 18) | (word_idx & 0x3ffff);
}

static void
fill_words(uint8_t *buf, uint32_t len, uint32_t write_idx, bool poison)
{
	uint32_t i, word;

	for (i = 0; i < len / 4; i++) {
		word = poison ? SOCK_VERIFY_POISON : sock_verify_pattern_word(write_idx, i);
		/* wasm is little-endian: a plain store is the LE layout the host expects. */
		memcpy(buf + 4 * i, &word, 4);
	}
	if (len % 4) {
		word = poison ? SOCK_VERIFY_POISON : sock_verify_pattern_word(write_idx, i);
		memcpy(buf + 4 * i, &word, len % 4);
	}
}

static void *
verify_alloc(uint32_t size)
{
	void *buf = NULL;

	if (posix_memalign(&buf, 64, size ? size : 1) != 0) {
		return NULL;
	}
	memset(buf, 0, size);
	return buf;
}

/* ---- server ---- */

static struct {
	bool			started;
	struct spdk_sock	*listener;
	struct spdk_sock_group	*group;
	struct spdk_poller	*accept_poller;
	struct spdk_poller	*group_poller;
	uint8_t			*buf;
	uint32_t		capacity;
	uint32_t		received;
	uint32_t		overflow;
} g_server;

static void
server_drop_sock(struct spdk_sock *sock)
{
	spdk_sock_group_remove_sock(g_server.group, sock);
	spdk_sock_close(&sock);
}

static void
server_sock_readable(void *arg, struct spdk_sock_group *group, struct spdk_sock *sock)
{
	uint8_t scratch[4096];
	ssize_t rc;

	while (true) {
		if (g_server.received < g_server.capacity) {
			rc = spdk_sock_recv(sock, g_server.buf + g_server.received,
					    g_server.capacity - g_server.received);
		} else {
			/* Full: keep draining so the peer is not stalled, but count the excess. */
			rc = spdk_sock_recv(sock, scratch, sizeof(scratch));
		}
		if (rc > 0) {
			if (g_server.received < g_server.capacity) {
				g_server.received += (uint32_t)rc;
			} else {
				if (g_server.overflow == 0) {
					SPDK_ERRLOG("server buffer full (%u bytes); dropping more data\n",
						    g_server.capacity);
				}
				g_server.overflow += (uint32_t)rc;
			}
			SPDK_WASM_TRACE("sock_verify.recv", rc, g_server.received, g_server.overflow, sock);
			continue;
		}
		if (rc == 0) {
			SPDK_WASM_TRACE("sock_verify.peer_closed", sock, g_server.received, 0, 0);
			server_drop_sock(sock);
			return;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return;
		}
		SPDK_ERRLOG("server recv failed, errno %d\n", errno);
		server_drop_sock(sock);
		return;
	}
}

static int
server_accept_poll(void *arg)
{
	struct spdk_sock *sock;
	int count = 0;

	while ((sock = spdk_sock_accept(g_server.listener)) != NULL) {
		if (spdk_sock_group_add_sock(g_server.group, sock, server_sock_readable, NULL) != 0) {
			SPDK_ERRLOG("could not add accepted socket to the group (errno %d)\n", errno);
			spdk_sock_close(&sock);
			continue;
		}
		SPDK_WASM_TRACE("sock_verify.accept", sock, 0, 0, 0);
		count++;
	}
	return count > 0 ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
}

static int
server_group_poll(void *arg)
{
	uint32_t before = g_server.received + g_server.overflow;
	int rc;

	rc = spdk_sock_group_poll(g_server.group);
	return (rc > 0 || g_server.received + g_server.overflow != before) ?
	       SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
}

EMSCRIPTEN_KEEPALIVE int
sock_verify_server_start(const char *ip, int port, uint32_t capacity)
{
	struct spdk_sock_opts opts;

	if (g_server.started) {
		return -EBUSY;
	}
	if (spdk_get_thread() == NULL) {
		SPDK_ERRLOG("sock_verify_server_start: call spdk_wasm_init first\n");
		return -EINVAL;
	}
	g_server.buf = verify_alloc(capacity);
	if (g_server.buf == NULL) {
		return -ENOMEM;
	}
	g_server.capacity = capacity;

	opts.opts_size = sizeof(opts);
	spdk_sock_get_default_opts(&opts);
	/* zcopy requested; the module decides from enable_zerocopy_send_server and loopback. */
	opts.zcopy = true;
	g_server.listener = spdk_sock_listen_ext(ip, port, NULL, &opts);
	if (g_server.listener == NULL) {
		SPDK_ERRLOG("cannot listen on %s:%d\n", ip, port);
		free(g_server.buf);
		g_server.buf = NULL;
		return -errno ? -errno : -EIO;
	}
	g_server.group = spdk_sock_group_create(NULL);
	if (g_server.group == NULL) {
		spdk_sock_close(&g_server.listener);
		free(g_server.buf);
		g_server.buf = NULL;
		return -ENOMEM;
	}
	g_server.accept_poller = SPDK_POLLER_REGISTER(server_accept_poll, NULL, 0);
	g_server.group_poller = SPDK_POLLER_REGISTER(server_group_poll, NULL, 0);
	g_server.started = true;
	return 0;
}

EMSCRIPTEN_KEEPALIVE uint8_t *
sock_verify_server_buffer(void)
{
	return g_server.buf;
}

EMSCRIPTEN_KEEPALIVE uint32_t
sock_verify_server_received(void)
{
	return g_server.received;
}

/* ---- client ---- */

struct verify_slot {
	uint32_t			index;
	bool				busy;
	uint32_t			write_idx;
	uint8_t				*buf;
	struct spdk_sock_request	*req;
};

static struct {
	bool			started;
	struct spdk_sock	*sock;
	struct spdk_sock_group	*group;
	struct spdk_poller	*submit_poller;
	struct spdk_poller	*group_poller;
	struct verify_slot	*slots;
	uint32_t		queue_depth;
	uint32_t		io_size;
	uint32_t		io_count;
	uint32_t		submitted;
	uint32_t		completed;
	int32_t			status;
} g_client;

static void
client_write_done(void *cb_arg, int err)
{
	struct verify_slot *slot = cb_arg;

	SPDK_WASM_TRACE("sock_verify.complete", slot->write_idx, err, slot->index, 0);
	slot->busy = false;
	if (err != 0) {
		if (g_client.status >= 0) {
			SPDK_ERRLOG("write %u failed: %d\n", slot->write_idx, err);
			g_client.status = err;
		}
		return;
	}
	/* The socket layer says the buffer is ours again: reuse it at once. */
	fill_words(slot->buf, g_client.io_size, 0, true);
	g_client.completed++;
	if (g_client.completed == g_client.io_count && g_client.status == 0) {
		g_client.status = 1;
	}
}

static void
client_sock_readable(void *arg, struct spdk_sock_group *group, struct spdk_sock *sock)
{
	uint8_t scratch[256];
	ssize_t rc;

	/* The peer sends nothing in this workload; drain whatever comes, notice EOF. */
	do {
		rc = spdk_sock_recv(sock, scratch, sizeof(scratch));
	} while (rc > 0);
	if (rc == 0 && g_client.status == 0) {
		SPDK_ERRLOG("peer closed the connection\n");
		g_client.status = -ECONNRESET;
	}
}

static int
client_submit_poll(void *arg)
{
	struct verify_slot *slot;
	uint32_t i;
	int count = 0;

	if (g_client.status != 0) {
		return SPDK_POLLER_IDLE;
	}
	for (i = 0; i < g_client.queue_depth && g_client.submitted < g_client.io_count; i++) {
		slot = &g_client.slots[i];
		if (slot->busy) {
			continue;
		}
		slot->busy = true;
		slot->write_idx = g_client.submitted++;
		fill_words(slot->buf, g_client.io_size, slot->write_idx, false);
		SPDK_SOCK_REQUEST_IOV(slot->req, 0)->iov_base = slot->buf;
		SPDK_SOCK_REQUEST_IOV(slot->req, 0)->iov_len = g_client.io_size;
		SPDK_WASM_TRACE("sock_verify.submit", slot->write_idx, slot->index, slot->buf, 0);
		spdk_sock_writev_async(g_client.sock, slot->req);
		count++;
		if (g_client.status != 0) {
			break;
		}
	}
	return count > 0 ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
}

static int
client_group_poll(void *arg)
{
	uint32_t before = g_client.completed;
	int32_t status = g_client.status;
	int rc;

	rc = spdk_sock_group_poll(g_client.group);
	return (rc > 0 || g_client.completed != before || g_client.status != status) ?
	       SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
}

static void
client_free(void)
{
	uint32_t i;

	if (g_client.slots != NULL) {
		for (i = 0; i < g_client.queue_depth; i++) {
			free(g_client.slots[i].buf);
			free(g_client.slots[i].req);
		}
		free(g_client.slots);
		g_client.slots = NULL;
	}
}

EMSCRIPTEN_KEEPALIVE int
sock_verify_client_start(const char *ip, int port, uint32_t io_size, uint32_t io_count,
			 uint32_t queue_depth, uint32_t ack_timeout_ms)
{
	struct spdk_sock_opts opts;
	uint32_t i;
	int rc;

	if (g_client.started) {
		return -EBUSY;
	}
	if (spdk_get_thread() == NULL) {
		SPDK_ERRLOG("sock_verify_client_start: call spdk_wasm_init first\n");
		return -EINVAL;
	}
	if (io_size == 0 || queue_depth == 0) {
		SPDK_ERRLOG("io_size (%u) and queue_depth (%u) must be > 0\n", io_size, queue_depth);
		return -EINVAL;
	}

	g_client.io_size = io_size;
	g_client.io_count = io_count;
	g_client.queue_depth = queue_depth;
	g_client.slots = calloc(queue_depth, sizeof(*g_client.slots));
	if (g_client.slots == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < queue_depth; i++) {
		struct verify_slot *slot = &g_client.slots[i];

		slot->index = i;
		slot->buf = verify_alloc(io_size);
		slot->req = verify_alloc(sizeof(struct spdk_sock_request) + sizeof(struct iovec));
		if (slot->buf == NULL || slot->req == NULL) {
			client_free();
			return -ENOMEM;
		}
		slot->req->cb_fn = client_write_done;
		slot->req->cb_arg = slot;
		slot->req->iovcnt = 1;
	}

	opts.opts_size = sizeof(opts);
	spdk_sock_get_default_opts(&opts);
	/* zcopy requested; the module decides from enable_zerocopy_send_client and loopback. */
	opts.zcopy = true;
	opts.ack_timeout = ack_timeout_ms;
	g_client.sock = spdk_sock_connect_async(ip, port, NULL, &opts, NULL, NULL);
	if (g_client.sock == NULL) {
		SPDK_ERRLOG("cannot connect to %s:%d\n", ip, port);
		client_free();
		return -errno ? -errno : -EIO;
	}

	g_client.group = spdk_sock_group_create(NULL);
	if (g_client.group == NULL) {
		spdk_sock_close(&g_client.sock);
		client_free();
		return -ENOMEM;
	}
	rc = spdk_sock_group_add_sock(g_client.group, g_client.sock, client_sock_readable, NULL);
	if (rc != 0) {
		rc = rc < 0 ? rc : -EIO;
		spdk_sock_close(&g_client.sock);
		spdk_sock_group_close(&g_client.group);
		client_free();
		return rc;
	}

	g_client.status = io_count == 0 ? 1 : 0;
	g_client.submit_poller = SPDK_POLLER_REGISTER(client_submit_poll, NULL, 0);
	g_client.group_poller = SPDK_POLLER_REGISTER(client_group_poll, NULL, 0);
	g_client.started = true;
	return 0;
}

EMSCRIPTEN_KEEPALIVE uint32_t
sock_verify_client_completed(void)
{
	return g_client.completed;
}

EMSCRIPTEN_KEEPALIVE int32_t
sock_verify_client_status(void)
{
	return g_client.status;
}

EMSCRIPTEN_KEEPALIVE uint32_t
sock_verify_client_buffer(uint32_t slot)
{
	if (g_client.slots == NULL || slot >= g_client.queue_depth) {
		return 0;
	}
	return (uint32_t)(uintptr_t)g_client.slots[slot].buf;
}
