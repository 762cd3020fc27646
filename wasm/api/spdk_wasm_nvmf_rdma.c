/* Exported interface of the NVMe-oF RDMA transport for tests and replays: listen, one accept poll
 * (a host hook may call it from inside a verbs call: the #3662 order), and the device, poller,
 * qpair and port tables with the transport's counted evidence. The transport itself is made by
 * spdk_wasm_nvmf_create_transport("RDMA", ...) after spdk_wasm_nvmf_tgt_init(groups). */
#include <emscripten/emscripten.h>

#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/nvmf.h"
#include "spdk/util.h"
#include "spdk_internal/rdma_utils.h"
#include "../lib/nvmf/nvmf_internal.h"
#include "../lib/nvmf/rdma_internal.h"

#define SPDK_WASM_API EMSCRIPTEN_KEEPALIVE

static struct spdk_nvmf_rdma_transport *
rt(void)
{
	return nvmf_rdma_get_transport();
}

/* nvmf_subsystem_add_listener for RDMA: the transport listens on traddr:trsvcid. 0 or -errno. */
SPDK_WASM_API int
spdk_wasm_nvmf_rdma_listen(const char *traddr, const char *trsvcid)
{
	struct spdk_nvme_transport_id trid;

	if (rt() == NULL) {
		return -ENODEV;
	}
	memset(&trid, 0, sizeof(trid));
	snprintf(trid.traddr, sizeof(trid.traddr), "%s", traddr);
	snprintf(trid.trsvcid, sizeof(trid.trsvcid), "%s", trsvcid);
	return spdk_nvmf_transport_listen(&rt()->transport, &trid, NULL);
}

/* One run of the accept poller's body (retry ports, CM events, async events). */
SPDK_WASM_API int
spdk_wasm_nvmf_rdma_accept_poll(void)
{
	return rt() == NULL ? -ENODEV : nvmf_rdma_accept(rt());
}

/* The evidence counters in struct order (host/spdk/rdma-target.ts names them); returns how many
 * were written. */
SPDK_WASM_API int
spdk_wasm_nvmf_rdma_evidence(uint32_t *out, uint32_t max)
{
	uint32_t n = sizeof(struct nvmf_rdma_evidence) / sizeof(uint32_t);

	if (rt() == NULL) {
		return -ENODEV;
	}
	n = spdk_min(n, max);
	memcpy(out, &rt()->evidence, n * sizeof(uint32_t));
	return (int)n;
}

SPDK_WASM_API int
spdk_wasm_rdma_utils_num_mem_maps(void)
{
	return (int)spdk_rdma_utils_num_mem_maps();
}

/* Ranges of registered memory (each spdk_zmalloc is one). */
SPDK_WASM_API int
spdk_wasm_env_num_mem_registered(void)
{
	return (int)spdk_mem_num_registered();
}

#define DEVICE_FIELDS 8
/* Per device: serial, need_destroy, ready_to_destroy, is_ready, num_srq, context's host handle,
 * PD handle (0 none), has a map. Returns the number of devices (rows written up to max). */
SPDK_WASM_API int
spdk_wasm_nvmf_rdma_devices(uint32_t *out, uint32_t max)
{
	struct spdk_nvmf_rdma_device *d;
	uint32_t n = 0, *r;

	if (rt() == NULL) {
		return -ENODEV;
	}
	TAILQ_FOREACH(d, &rt()->devices, link) {
		if (n < max) {
			r = out + n * DEVICE_FIELDS;
			r[0] = d->serial;
			r[1] = d->need_destroy;
			r[2] = d->ready_to_destroy;
			r[3] = d->is_ready;
			r[4] = (uint32_t)d->num_srq;
			r[5] = d->context->host_handle;
			r[6] = d->pd != NULL ? d->pd->handle : 0;
			r[7] = d->map != NULL;
		}
		n++;
	}
	return (int)n;
}

#define POLLER_FIELDS 8
/* Per poller, group by group: group serial, serial, device serial, need_destroy, qpairs, CQ
 * handle (0 none), SRQ handle (0 none), destroy_cb set. */
SPDK_WASM_API int
spdk_wasm_nvmf_rdma_pollers(uint32_t *out, uint32_t max)
{
	struct spdk_nvmf_rdma_poll_group *g;
	struct spdk_nvmf_rdma_poller *p;
	struct spdk_nvmf_rdma_qpair *q;
	uint32_t n = 0, k, *r;

	if (rt() == NULL) {
		return -ENODEV;
	}
	TAILQ_FOREACH(g, &rt()->poll_groups, link) {
		TAILQ_FOREACH(p, &g->pollers, link) {
			if (n < max) {
				r = out + n * POLLER_FIELDS;
				k = 0;
				TAILQ_FOREACH(q, &p->qpairs, link) {
					k++;
				}
				r[0] = g->serial;
				r[1] = p->serial;
				r[2] = p->device->serial;
				r[3] = p->need_destroy;
				r[4] = k;
				r[5] = p->cq != NULL ? p->cq->handle : 0;
				r[6] = p->srq != NULL ? p->srq->handle : 0;
				r[7] = p->destroy_cb != NULL;
			}
			n++;
		}
	}
	return (int)n;
}

#define QPAIR_FIELDS 10
/* Per qpair not yet freed: serial, qid, generic state, poller serial (0 none), to_close,
 * ibv_in_error_state, current_send_depth, qd, QP number (0 none), last_wqe_reached. */
SPDK_WASM_API int
spdk_wasm_nvmf_rdma_qpairs(uint32_t *out, uint32_t max)
{
	struct spdk_nvmf_rdma_qpair *q;
	uint32_t n = 0, *r;

	if (rt() == NULL) {
		return -ENODEV;
	}
	TAILQ_FOREACH(q, &rt()->all_qpairs, all_link) {
		if (n < max) {
			r = out + n * QPAIR_FIELDS;
			r[0] = q->serial;
			r[1] = q->qpair.qid;
			r[2] = q->qpair.state;
			r[3] = q->poller != NULL ? q->poller->serial : 0;
			r[4] = q->to_close;
			r[5] = q->ibv_in_error_state;
			r[6] = q->current_send_depth;
			r[7] = q->qd;
			r[8] = q->rdma_qp != NULL ? q->rdma_qp->qp_num : 0;
			r[9] = q->last_wqe_reached;
		}
		n++;
	}
	return (int)n;
}

#define PORT_FIELDS 3
static uint32_t
port_rows(struct spdk_nvmf_rdma_port *p, uint32_t in_retry, uint32_t *out, uint32_t n, uint32_t max)
{
	uint32_t *r;

	for (; p != NULL; p = TAILQ_NEXT(p, link), n++) {
		if (n < max) {
			r = out + n * PORT_FIELDS;
			r[0] = in_retry;
			r[1] = (uint32_t)atoi(p->trid.trsvcid);
			r[2] = p->device != NULL ? p->device->serial : 0;
		}
	}
	return n;
}

/* Per port, listening ones first: in retry_ports, trsvcid, device serial (0 none). */
SPDK_WASM_API int
spdk_wasm_nvmf_rdma_ports(uint32_t *out, uint32_t max)
{
	uint32_t n;

	if (rt() == NULL) {
		return -ENODEV;
	}
	n = port_rows(TAILQ_FIRST(&rt()->ports), 0, out, 0, max);
	return (int)port_rows(TAILQ_FIRST(&rt()->retry_ports), 1, out, n, max);
}

/* Unit-test entry (spec 6 style, for 59e7d68afd): listen while every device is marked
 * need_destroy, as in the window between a removal and its teardown, then restore the marks.
 * Returns what nvmf_rdma_listen returned. */
SPDK_WASM_API int
spdk_wasm_nvmf_rdma_ut_listen_while_dying(const char *traddr, const char *trsvcid)
{
	struct spdk_nvmf_rdma_device *d;
	uint32_t saved = 0, bit = 0;
	int rc;

	if (rt() == NULL) {
		return -ENODEV;
	}
	TAILQ_FOREACH(d, &rt()->devices, link) {
		saved |= (uint32_t)d->need_destroy << bit++;
		d->need_destroy = true;
	}
	rc = spdk_wasm_nvmf_rdma_listen(traddr, trsvcid);
	bit = 0;
	TAILQ_FOREACH(d, &rt()->devices, link) {
		d->need_destroy = (saved >> bit++) & 1;
	}
	return rc;
}
