/* lib/nvmf/transport.c: the registry of transports, their options, and the generic calls
 * into a transport's ops; also the shared data-buffer pool (upstream: iobuf). */
#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/log.h"
#include "spdk/nvmf.h"
#include "spdk/util.h"
#include "nvmf_internal.h"

extern const struct spdk_nvmf_transport_ops spdk_nvmf_transport_tcp;
extern const struct spdk_nvmf_transport_ops spdk_nvmf_transport_rdma;

const struct spdk_nvmf_transport_ops *
nvmf_get_transport_ops(const char *name)
{
	if (name != NULL && strcasecmp(name, spdk_nvmf_transport_tcp.name) == 0) {
		return &spdk_nvmf_transport_tcp;
	}
	if (name != NULL && strcasecmp(name, spdk_nvmf_transport_rdma.name) == 0) {
		return &spdk_nvmf_transport_rdma;
	}
	return NULL;
}

/* The registered arena of a transport whose NIC touches the pool's buffers (RDMA). */
static int
nvmf_transport_dma_pool_create(struct spdk_nvmf_transport *transport)
{
	uint32_t unit = transport->opts.io_unit_size, n = transport->opts.num_shared_buffers, i;

	transport->data_buf_arena = spdk_zmalloc((size_t)unit * n, 0x1000, NULL, SPDK_ENV_NUMA_ID_ANY,
				    SPDK_MALLOC_DMA);
	transport->data_buf_free = calloc(n ? n : 1, sizeof(void *));
	if (transport->data_buf_arena == NULL || transport->data_buf_free == NULL) {
		spdk_free(transport->data_buf_arena);
		free(transport->data_buf_free);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		transport->data_buf_free[i] = (uint8_t *)transport->data_buf_arena + (size_t)(n - 1 - i) * unit;
	}
	transport->data_buf_free_count = n;
	return 0;
}

bool
spdk_nvmf_transport_opts_init(const char *transport_name, struct spdk_nvmf_transport_opts *opts,
			      size_t opts_size)
{
	const struct spdk_nvmf_transport_ops *ops = nvmf_get_transport_ops(transport_name);

	if (ops == NULL) {
		SPDK_ERRLOG("Transport type %s unavailable.\n", transport_name);
		return false;
	}
	memset(opts, 0, sizeof(*opts));
	opts->opts_size = opts_size;
	opts->min_kato = NVMF_DEFAULT_MIN_KATO;
	ops->opts_init(opts);
	return true;
}

struct spdk_nvmf_transport *
spdk_nvmf_transport_create(const char *transport_name, struct spdk_nvmf_transport_opts *opts)
{
	const struct spdk_nvmf_transport_ops *ops = nvmf_get_transport_ops(transport_name);
	struct spdk_nvmf_transport *transport;

	if (ops == NULL) {
		SPDK_ERRLOG("Transport type '%s' unavailable.\n", transport_name);
		return NULL;
	}
	if (opts->max_io_size != 0 && opts->io_unit_size != 0 &&
	    opts->max_io_size / opts->io_unit_size > NVMF_REQ_MAX_BUFFERS) {
		SPDK_ERRLOG("max_io_size %u / io_unit_size %u exceeds %d buffers\n",
			    opts->max_io_size, opts->io_unit_size, NVMF_REQ_MAX_BUFFERS);
		return NULL;
	}
	transport = ops->create(opts);
	if (transport == NULL) {
		SPDK_ERRLOG("Unable to create new transport of type %s\n", transport_name);
		return NULL;
	}
	transport->ops = ops;
	transport->opts = *opts;
	STAILQ_INIT(&transport->buf_waiters);
	if (ops->dma_data_buffers && nvmf_transport_dma_pool_create(transport) != 0) {
		SPDK_ERRLOG("No registered memory for %u buffers of %u bytes\n",
			    opts->num_shared_buffers, opts->io_unit_size);
		ops->destroy(transport);
		return NULL;
	}
	return transport;
}

int
spdk_nvmf_transport_listen(struct spdk_nvmf_transport *transport,
			   const struct spdk_nvme_transport_id *trid, struct spdk_nvmf_listen_opts *opts)
{
	return transport->ops->listen(transport, trid, opts);
}

struct spdk_nvmf_transport_poll_group *
nvmf_transport_poll_group_create(struct spdk_nvmf_transport *transport,
				 struct spdk_nvmf_poll_group *group)
{
	struct spdk_nvmf_transport_poll_group *tgroup;

	tgroup = transport->ops->poll_group_create(transport, group);
	if (tgroup == NULL) {
		return NULL;
	}
	tgroup->transport = transport;
	tgroup->group = group;
	STAILQ_INIT(&tgroup->pending_buf_queue);
	return tgroup;
}

void
nvmf_transport_poll_group_destroy(struct spdk_nvmf_transport_poll_group *group)
{
	group->transport->ops->poll_group_destroy(group);
}

int
nvmf_transport_poll_group_add(struct spdk_nvmf_transport_poll_group *group,
			      struct spdk_nvmf_qpair *qpair)
{
	if (qpair->transport != NULL && qpair->transport != group->transport) {
		return -1;
	}
	qpair->transport = group->transport;
	return group->transport->ops->poll_group_add(group, qpair);
}

int
nvmf_transport_poll_group_remove(struct spdk_nvmf_transport_poll_group *group,
				 struct spdk_nvmf_qpair *qpair)
{
	return group->transport->ops->poll_group_remove(group, qpair);
}

int
nvmf_transport_poll_group_poll(struct spdk_nvmf_transport_poll_group *group)
{
	return group->transport->ops->poll_group_poll(group);
}

int
nvmf_transport_req_free(struct spdk_nvmf_request *req)
{
	return req->qpair->transport->ops->req_free(req);
}

int
nvmf_transport_req_complete(struct spdk_nvmf_request *req)
{
	return req->qpair->transport->ops->req_complete(req);
}

void
nvmf_transport_qpair_fini(struct spdk_nvmf_qpair *qpair, spdk_nvmf_transport_qpair_fini_cb cb_fn,
			  void *cb_arg)
{
	qpair->transport->ops->close_qpair(qpair, cb_fn, cb_arg);
}

/* Moves one io_unit_size buffer from the pool to the request's next iov; false when the
 * pool has none left. */
static bool
nvmf_request_take_buffer(struct spdk_nvmf_request *req, struct spdk_nvmf_transport *transport)
{
	uint32_t unit = transport->opts.io_unit_size;
	uint32_t len = spdk_min(unit, req->iobuf.remaining_length);
	void *buf;

	if (transport->data_buf_in_use >= transport->opts.num_shared_buffers) {
		return false;
	}
	if (transport->data_buf_arena != NULL) {
		if (transport->data_buf_free_count == 0) {
			return false;
		}
		buf = transport->data_buf_free[--transport->data_buf_free_count];
	} else {
		buf = malloc(unit);
	}
	if (buf == NULL) {
		return false;
	}
	req->buffers[req->num_buffers++] = buf;
	req->iov[req->iovcnt].iov_base = buf;
	req->iov[req->iovcnt].iov_len = len;
	req->iovcnt++;
	req->iobuf.remaining_length -= len;
	req->data_from_pool = true;
	transport->data_buf_in_use++;
	return true;
}

/* Buffers of io_unit_size from a pool of num_shared_buffers. Short of buffers, a transport
 * with req_get_buffers_done keeps what it got and queues the request (-ENOMEM; the pool
 * finishes the job later); any other transport gets -ENOMEM and no buffers. */
int
spdk_nvmf_request_get_buffers(struct spdk_nvmf_request *req,
			      struct spdk_nvmf_transport_poll_group *group,
			      struct spdk_nvmf_transport *transport, uint32_t length)
{
	uint32_t unit = transport->opts.io_unit_size;

	if ((length + (uint64_t)unit - 1) / unit > NVMF_REQ_MAX_BUFFERS) {
		return -EINVAL;
	}
	req->iovcnt = 0;
	req->num_buffers = 0;
	req->iobuf.remaining_length = length;
	while (req->iobuf.remaining_length > 0) {
		if (nvmf_request_take_buffer(req, transport)) {
			continue;
		}
		if (transport->ops->req_get_buffers_done == NULL) {
			spdk_nvmf_request_free_buffers(req, group, transport);
			return -ENOMEM;
		}
		req->iobuf.waiting = true;
		STAILQ_INSERT_TAIL(&transport->buf_waiters, req, iobuf.link);
		return -ENOMEM;
	}
	return 0;
}

/* The request no longer waits (its qpair is going away); what it already holds is freed
 * with spdk_nvmf_request_free_buffers when it completes. */
void
nvmf_request_get_buffers_abort(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_transport *transport = req->qpair->transport;

	if (!req->iobuf.waiting) {
		return;
	}
	STAILQ_REMOVE(&transport->buf_waiters, req, spdk_nvmf_request, iobuf.link);
	req->iobuf.waiting = false;
}

/* Freed buffers go to the oldest waiter first, one at a time, as iobuf hands a put buffer
 * to the first entry waiting on its pool. */
static void
nvmf_transport_serve_buf_waiters(struct spdk_nvmf_transport *transport)
{
	struct spdk_nvmf_request *req;

	while ((req = STAILQ_FIRST(&transport->buf_waiters)) != NULL) {
		if (!nvmf_request_take_buffer(req, transport)) {
			return;
		}
		if (req->iobuf.remaining_length == 0) {
			STAILQ_REMOVE_HEAD(&transport->buf_waiters, iobuf.link);
			req->iobuf.waiting = false;
			transport->ops->req_get_buffers_done(req);
		}
	}
}

/* Model knob, not upstream (off by default): fill a data buffer with 0xDEADBEEF words when it
 * goes back to the pool, as the seed-000 repro poisons buffers right after completion. A NIC
 * that reads a buffer after its request was released too early then sends poison. */
bool g_nvmf_poison_released_buffers;

static void
nvmf_poison_buffer(void *buf, uint32_t len)
{
	const uint32_t poison = 0xDEADBEEFu;
	uint32_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		memcpy((uint8_t *)buf + i, &poison, 4);
	}
}

void
spdk_nvmf_request_free_buffers(struct spdk_nvmf_request *req,
			       struct spdk_nvmf_transport_poll_group *group,
			       struct spdk_nvmf_transport *transport)
{
	uint32_t i;

	(void)group;
	for (i = 0; i < req->num_buffers; i++) {
		if (g_nvmf_poison_released_buffers && req->buffers[i] != NULL) {
			nvmf_poison_buffer(req->buffers[i], transport->opts.io_unit_size);
		}
		if (transport->data_buf_arena != NULL) {
			transport->data_buf_free[transport->data_buf_free_count++] = req->buffers[i];
		} else {
			free(req->buffers[i]);
		}
		req->buffers[i] = NULL;
		req->iov[i].iov_base = NULL;
		req->iov[i].iov_len = 0;
	}
	transport->data_buf_in_use -= req->num_buffers;
	req->num_buffers = 0;
	req->iovcnt = 0;
	req->data_from_pool = false;
	nvmf_transport_serve_buf_waiters(transport);
}
