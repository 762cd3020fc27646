/* Exported interface of the NVMe-oF target and the bdev layer (decision 10's JSON-RPC methods
 * call these; names follow the RPC they serve). Strings are C strings in guest memory;
 * errors are negative errno values. One target per machine, run on the app thread. */
#include <emscripten/emscripten.h>
#include <malloc.h>

#include "spdk/stdinc.h"
#include "spdk/bdev.h"
#include "spdk/bdev_module.h"
#include "spdk/crc32.h"
#include "spdk/nvmf.h"
#include "spdk/thread.h"
#include "../lib/nvmf/nvmf_internal.h"
#include "../lib/nvmf/tcp_internal.h"
#include "../module/sock/posix/posix_ut.h"
#include "../module/bdev/malloc/bdev_malloc.h"

#define SPDK_WASM_API EMSCRIPTEN_KEEPALIVE

static struct spdk_nvmf_tgt *g_nvmf_tgt;

/* The target and its poll groups (created once; nvmf_tgt's start-up). Returns 0 or -errno. */
SPDK_WASM_API int
spdk_wasm_nvmf_tgt_init(uint32_t num_poll_groups)
{
	struct spdk_nvmf_target_opts opts = { .name = "nvmf_tgt", .max_subsystems = 1024 };
	uint32_t i;

	if (g_nvmf_tgt != NULL) {
		return 0;
	}
	g_nvmf_tgt = spdk_nvmf_tgt_create(&opts);
	if (g_nvmf_tgt == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < (num_poll_groups ? num_poll_groups : 1); i++) {
		if (spdk_nvmf_poll_group_create(g_nvmf_tgt) == NULL) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* nvmf_create_transport: trtype "TCP"; 0 for a numeric option keeps its default. Booleans:
 * 0 false, 1 true, -1 default. ack_timeout_ms: TCP_USER_TIMEOUT of accepted sockets. */
SPDK_WASM_API int
spdk_wasm_nvmf_create_transport(const char *trtype, uint32_t max_queue_depth,
				uint32_t in_capsule_data_size, uint32_t max_io_size,
				uint32_t io_unit_size, int zcopy, int c2h_success,
				uint32_t ack_timeout_ms, uint32_t num_shared_buffers)
{
	struct spdk_nvmf_transport_opts opts;
	struct spdk_nvmf_transport *transport;
	int rc;

	if ((rc = spdk_wasm_nvmf_tgt_init(1)) != 0) {
		return rc;
	}
	if (!spdk_nvmf_transport_opts_init(trtype, &opts, sizeof(opts))) {
		return -EINVAL;
	}
	if (max_queue_depth) {
		opts.max_queue_depth = max_queue_depth;
	}
	if (in_capsule_data_size) {
		opts.in_capsule_data_size = in_capsule_data_size;
	}
	if (max_io_size) {
		opts.max_io_size = max_io_size;
	}
	if (io_unit_size) {
		opts.io_unit_size = io_unit_size;
	}
	if (num_shared_buffers) {
		opts.num_shared_buffers = num_shared_buffers;
	}
	if (zcopy >= 0) {
		opts.zcopy = zcopy != 0;
	}
	if (c2h_success >= 0) {
		opts.c2h_success = c2h_success != 0;
	}
	opts.ack_timeout = ack_timeout_ms;
	transport = spdk_nvmf_transport_create(trtype, &opts);
	if (transport == NULL) {
		return -EINVAL;
	}
	return spdk_nvmf_tgt_add_transport(g_nvmf_tgt, transport);
}

/* nvmf_create_subsystem */
SPDK_WASM_API int
spdk_wasm_nvmf_create_subsystem(const char *nqn, int allow_any_host)
{
	struct spdk_nvmf_subsystem *subsystem;
	int rc;

	if ((rc = spdk_wasm_nvmf_tgt_init(1)) != 0) {
		return rc;
	}
	subsystem = spdk_nvmf_subsystem_create(g_nvmf_tgt, nqn, SPDK_NVMF_SUBTYPE_NVME, 0);
	if (subsystem == NULL) {
		return -EINVAL;
	}
	return spdk_nvmf_subsystem_set_allow_any_host(subsystem, allow_any_host != 0);
}

static struct spdk_nvmf_subsystem *
find_subsystem(const char *nqn)
{
	return g_nvmf_tgt ? spdk_nvmf_tgt_find_subsystem(g_nvmf_tgt, nqn) : NULL;
}

/* nvmf_delete_subsystem: 0 or -errno (-ENODEV: no such subsystem). */
SPDK_WASM_API int
spdk_wasm_nvmf_delete_subsystem(const char *nqn)
{
	struct spdk_nvmf_subsystem *subsystem = find_subsystem(nqn);

	return subsystem ? spdk_nvmf_subsystem_destroy(subsystem) : -ENODEV;
}

/* nvmf_subsystem_add_host */
SPDK_WASM_API int
spdk_wasm_nvmf_subsystem_add_host(const char *nqn, const char *hostnqn)
{
	struct spdk_nvmf_subsystem *subsystem = find_subsystem(nqn);

	return subsystem ? spdk_nvmf_subsystem_add_host(subsystem, hostnqn) : -ENODEV;
}

/* nvmf_subsystem_add_ns: returns the nsid (>0) or -errno. nsid 0 picks the lowest free. */
SPDK_WASM_API int
spdk_wasm_nvmf_subsystem_add_ns(const char *nqn, const char *bdev_name, uint32_t nsid)
{
	struct spdk_nvmf_subsystem *subsystem = find_subsystem(nqn);

	if (subsystem == NULL) {
		return -ENODEV;
	}
	nsid = spdk_nvmf_subsystem_add_ns_ext(subsystem, bdev_name, nsid);
	return nsid == 0 ? -EINVAL : (int)nsid;
}

/* nvmf_subsystem_add_listener (trtype TCP, adrfam IPv4) */
SPDK_WASM_API int
spdk_wasm_nvmf_subsystem_add_listener(const char *nqn, const char *traddr, const char *trsvcid)
{
	struct spdk_nvmf_subsystem *subsystem = find_subsystem(nqn);
	struct spdk_nvme_transport_id trid;

	if (subsystem == NULL) {
		return -ENODEV;
	}
	memset(&trid, 0, sizeof(trid));
	snprintf(trid.traddr, sizeof(trid.traddr), "%s", traddr);
	snprintf(trid.trsvcid, sizeof(trid.trsvcid), "%s", trsvcid);
	snprintf(trid.subnqn, sizeof(trid.subnqn), "%s", nqn);
	return spdk_nvmf_subsystem_add_listener(subsystem, &trid);
}

/* bdev_malloc_create: 0 or -errno. */
SPDK_WASM_API int
spdk_wasm_bdev_malloc_create(const char *name, uint32_t num_blocks, uint32_t block_size)
{
	struct malloc_bdev_opts opts = { .name = (char *)name, .num_blocks = num_blocks,
		       .block_size = block_size
	};
	struct spdk_bdev *bdev;

	return create_malloc_disk(&bdev, &opts);
}

/* The malloc bdev's backing memory (NULL if no such malloc bdev). */
SPDK_WASM_API void *
spdk_wasm_bdev_malloc_buf(const char *name)
{
	return bdev_malloc_get_buf(spdk_bdev_get_by_name(name));
}

/* bdev_get_bdevs, one field at a time: 0 block size, 1 num blocks, 2 zcopy supported,
 * 3 bdev_ios outstanding on it; -ENODEV when there is no such bdev. */
SPDK_WASM_API double
spdk_wasm_bdev_get(const char *name, int field)
{
	struct spdk_bdev *bdev = spdk_bdev_get_by_name(name);

	if (bdev == NULL) {
		return -ENODEV;
	}
	switch (field) {
	case 0: return bdev->blocklen;
	case 1: return (double)bdev->blockcnt;
	case 2: return spdk_bdev_io_type_supported(bdev, SPDK_BDEV_IO_TYPE_ZCOPY);
	case 3: return (double)bdev->internal.io_outstanding;
	default: return -EINVAL;
	}
}

/* ---- evidence: qpairs, requests, controllers ---- */

/* TCP qpairs accepted and not yet freed (including ones stuck in teardown). */
SPDK_WASM_API int
spdk_wasm_nvmf_tcp_qpair_count(void)
{
	struct spdk_nvmf_tcp_qpair *tqpair;
	int n = 0;

	TAILQ_FOREACH(tqpair, &g_nvmf_tcp_qpairs, all_link) {
		n++;
	}
	return n;
}

SPDK_WASM_API struct spdk_nvmf_tcp_qpair *
spdk_wasm_nvmf_tcp_qpair_get(int idx)
{
	struct spdk_nvmf_tcp_qpair *tqpair;

	TAILQ_FOREACH(tqpair, &g_nvmf_tcp_qpairs, all_link) {
		if (idx-- == 0) {
			return tqpair;
		}
	}
	return NULL;
}

/* Fields of a TCP qpair: 0 qid, 1 generic qpair state (enum spdk_nvmf_qpair_state), 2 tcp
 * state (enum nvmf_tcp_qpair_state), 3 recv_state, 4 resource_count, 5 outstanding count,
 * 6 cntlid (0xffff none), 7 state_cb pending (destroy waits for outstanding), 8 C2HTermReqs
 * sent, 9 last FES, 10 "Delaying completion" count, 11 invariant violations, 12 header digest
 * errors, 13 data digest errors, 14 pdu working count, 15 in a sock group (not yet removed),
 * 16 leaked (teardown found requests not FREE), 17 host_hdgst, 18 host_ddgst,
 * 19 recv_buf_size, 20 bytes waiting in the socket's receive pipe (-1 without one),
 * 100 + s: state_cntr[s]. */
SPDK_WASM_API int
spdk_wasm_nvmf_tcp_qpair_field(struct spdk_nvmf_tcp_qpair *tq, int field)
{
	struct spdk_nvmf_request *req;
	int n = 0;

	if (tq == NULL) {
		return -ENODEV;
	}
	if (field >= 100 && field < 100 + TCP_REQUEST_NUM_STATES) {
		return tq->state_cntr[field - 100];
	}
	switch (field) {
	case 0: return tq->qpair.qid;
	case 1: return tq->qpair.state;
	case 2: return tq->state;
	case 3: return tq->recv_state;
	case 4: return tq->resource_count;
	case 5:
		if (tq->qpair.group == NULL && tq->resource_count == 0) {
			return 0;
		}
		TAILQ_FOREACH(req, &tq->qpair.outstanding, link) {
			n++;
		}
		return n;
	case 6: return tq->qpair.ctrlr ? tq->qpair.ctrlr->cntlid : 0xffff;
	case 7: return tq->qpair.state_cb != NULL;
	case 8: return tq->term_req_sent;
	case 9: return tq->last_fes;
	case 10: return tq->delayed_completions;
	case 11: return tq->invariant_violations;
	case 12: return tq->hdgst_errors;
	case 13: return tq->ddgst_errors;
	case 14: return tq->tcp_pdu_working_count;
	case 15: return tq->state < NVMF_TCP_QPAIR_STATE_EXITED;
	case 16: return tq->leaked;
	case 17: return tq->host_hdgst_enable;
	case 18: return tq->host_ddgst_enable;
	case 19: return tq->recv_buf_size;
	case 20: return tq->sock != NULL ? posix_sock_ut_pipe_bytes(tq->sock) : -1;
	default: return -EINVAL;
	}
}

/* Fields of request idx (0 .. resource_count-1) of a qpair: 0 state, 1 pdu_in_use, 2 zcopy
 * phase, 3 has zcopy bdev_io, 4 cid, 5 opcode, 6 length, 7 cpl sct<<8|sc, 8 get count,
 * 9 put count, 10 on qpair->outstanding, 11 data_from_pool, 12 ttag. */
SPDK_WASM_API int
spdk_wasm_nvmf_tcp_req_field(struct spdk_nvmf_tcp_qpair *tq, int idx, int field)
{
	struct spdk_nvmf_tcp_req *r;
	struct spdk_nvmf_request *req;

	if (tq == NULL || idx < 0 || idx >= tq->resource_count || tq->reqs == NULL) {
		return -ENODEV;
	}
	r = &tq->reqs[idx];
	switch (field) {
	case 0: return r->state;
	case 1: return r->pdu_in_use;
	case 2: return r->req.zcopy_phase;
	case 3: return r->req.zcopy_bdev_io != NULL;
	case 4: return r->cmd.cid;
	case 5: return r->cmd.opc;
	case 6: return r->req.length;
	case 7: return (r->rsp.status.sct << 8) | r->rsp.status.sc;
	case 8: return r->get_count;
	case 9: return r->put_count;
	case 10:
		TAILQ_FOREACH(req, &tq->qpair.outstanding, link) {
			if (req == &r->req) {
				return 1;
			}
		}
		return 0;
	case 11: return r->req.data_from_pool;
	case 12: return r->ttag;
	default: return -EINVAL;
	}
}

/* Upstream's trace name of a request state ("TCP_REQ_COMPLETED"), or NULL. */
SPDK_WASM_API const char *
spdk_wasm_nvmf_tcp_req_state_name(int state)
{
	if (state < 0 || state >= TCP_REQUEST_NUM_STATES) {
		return NULL;
	}
	return nvmf_tcp_req_state_names[state];
}

static struct spdk_nvmf_ctrlr *
ctrlr_by_index(int idx)
{
	struct spdk_nvmf_subsystem *s;
	struct spdk_nvmf_ctrlr *c;

	if (g_nvmf_tgt == NULL) {
		return NULL;
	}
	TAILQ_FOREACH(s, &g_nvmf_tgt->subsystems, link) {
		TAILQ_FOREACH(c, &s->ctrlrs, link) {
			if (idx-- == 0) {
				return c;
			}
		}
	}
	return NULL;
}

/* Controllers that exist (over all subsystems). */
SPDK_WASM_API int
spdk_wasm_nvmf_ctrlr_count(void)
{
	int n = 0;

	while (ctrlr_by_index(n) != NULL) {
		n++;
	}
	return n;
}

/* Controller fields: 0 cntlid, 1 qpair_mask (low 32 bits), 2 CSTS raw, 3 CC raw, 4 kato ms,
 * 5 in_destruct. Target counters with idx -1: 0 controllers destroyed, 1 qpairs destroyed,
 * 2 bdev_ios outstanding. */
SPDK_WASM_API int
spdk_wasm_nvmf_ctrlr_field(int idx, int field)
{
	struct spdk_nvmf_ctrlr *c;

	if (idx == -1) {
		switch (field) {
		case 0: return g_nvmf_tgt ? (int)g_nvmf_tgt->ctrlrs_destroyed : 0;
		case 1: return g_nvmf_tgt ? (int)g_nvmf_tgt->qpairs_destroyed : 0;
		case 2: return (int)spdk_bdev_wasm_io_outstanding();
		default: return -EINVAL;
		}
	}
	c = ctrlr_by_index(idx);
	if (c == NULL) {
		return -ENODEV;
	}
	switch (field) {
	case 0: return c->cntlid;
	case 1: return (int)(uint32_t)c->qpair_mask;
	case 2: return (int)c->vcprop.csts.raw;
	case 3: return (int)c->vcprop.cc.raw;
	case 4: return (int)c->feat.keep_alive_timer;
	case 5: return c->in_destruct;
	default: return -EINVAL;
	}
}

/* CRC32C of len bytes at buf, continuing from crc (pass 0xffffffff to start; XOR the final
 * value with 0xffffffff), as spdk_crc32c_update. */
SPDK_WASM_API uint32_t
spdk_wasm_crc32c_update(const void *buf, uint32_t len, uint32_t crc)
{
	return spdk_crc32c_update(buf, len, crc);
}

/* ---- control-plane reads (nvmf_get_subsystems, nvmf_get_transports, nvmf_subsystem_get_qpairs)
 * and resource counters for leak checks ---- */

/* nvmf_create_subsystem with SPDK's optional parameters: serial_number (<= 20 chars), model_number
 * (<= 40 chars), max_namespaces (0: default). Empty strings keep the defaults. */
SPDK_WASM_API int
spdk_wasm_nvmf_create_subsystem_ext(const char *nqn, int allow_any_host, const char *serial_number,
				    const char *model_number, uint32_t max_namespaces)
{
	struct spdk_nvmf_subsystem *subsystem;
	int rc;

	if ((rc = spdk_wasm_nvmf_tgt_init(1)) != 0) {
		return rc;
	}
	if (strlen(serial_number) >= sizeof(subsystem->sn) ||
	    strlen(model_number) >= sizeof(subsystem->mn)) {
		return -EINVAL;
	}
	if (spdk_nvmf_tgt_find_subsystem(g_nvmf_tgt, nqn) != NULL) {
		return -EEXIST;
	}
	subsystem = spdk_nvmf_subsystem_create(g_nvmf_tgt, nqn, SPDK_NVMF_SUBTYPE_NVME, max_namespaces);
	if (subsystem == NULL) {
		return -EINVAL;
	}
	if (serial_number[0] != '\0') {
		snprintf(subsystem->sn, sizeof(subsystem->sn), "%s", serial_number);
	}
	if (model_number[0] != '\0') {
		snprintf(subsystem->mn, sizeof(subsystem->mn), "%s", model_number);
	}
	return spdk_nvmf_subsystem_set_allow_any_host(subsystem, allow_any_host != 0);
}

SPDK_WASM_API int
spdk_wasm_nvmf_subsystem_count(void)
{
	struct spdk_nvmf_subsystem *s;
	int n = 0;

	if (g_nvmf_tgt != NULL) {
		TAILQ_FOREACH(s, &g_nvmf_tgt->subsystems, link) {
			n++;
		}
	}
	return n;
}

static struct spdk_nvmf_subsystem *
subsystem_by_index(int idx)
{
	struct spdk_nvmf_subsystem *s;

	if (g_nvmf_tgt == NULL) {
		return NULL;
	}
	TAILQ_FOREACH(s, &g_nvmf_tgt->subsystems, link) {
		if (idx-- == 0) {
			return s;
		}
	}
	return NULL;
}

static struct spdk_nvmf_ns *
subsystem_ns_by_index(struct spdk_nvmf_subsystem *s, int idx)
{
	uint32_t i;

	for (i = 0; i < SPDK_NVMF_MAX_NAMESPACES; i++) {
		if (s->ns[i] != NULL && idx-- == 0) {
			return s->ns[i];
		}
	}
	return NULL;
}

/* Numbers of subsystem idx: 0 allow_any_host, 1 max_namespaces, 2 hosts, 3 listeners,
 * 4 namespaces, 5 controllers; 100 + i nsid of the i-th namespace. -ENODEV when absent. */
SPDK_WASM_API int
spdk_wasm_nvmf_subsystem_num(int idx, int field)
{
	struct spdk_nvmf_subsystem *s = subsystem_by_index(idx);
	struct spdk_nvmf_subsystem_listener *l;
	struct spdk_nvmf_host *h;
	struct spdk_nvmf_ctrlr *c;
	struct spdk_nvmf_ns *ns;
	int n = 0;

	if (s == NULL) {
		return -ENODEV;
	}
	if (field >= 100) {
		ns = subsystem_ns_by_index(s, field - 100);
		return ns ? (int)ns->nsid : -ENODEV;
	}
	switch (field) {
	case 0: return s->allow_any_host;
	case 1: return (int)s->max_nsid;
	case 2: TAILQ_FOREACH(h, &s->hosts, link) { n++; } return n;
	case 3: TAILQ_FOREACH(l, &s->listeners, link) { n++; } return n;
	case 4: while (subsystem_ns_by_index(s, n) != NULL) { n++; } return n;
	case 5: TAILQ_FOREACH(c, &s->ctrlrs, link) { n++; } return n;
	default: return -EINVAL;
	}
}

/* Strings of subsystem idx: 0 nqn, 1 subtype ("NVMe"/"Discovery"), 2 serial, 3 model;
 * 100 + i host i's NQN; 200 + i listener i's traddr, 300 + i its trsvcid; 400 + i the bdev name
 * of the i-th namespace. NULL when absent. */
SPDK_WASM_API const char *
spdk_wasm_nvmf_subsystem_str(int idx, int field)
{
	struct spdk_nvmf_subsystem *s = subsystem_by_index(idx);
	struct spdk_nvmf_subsystem_listener *l;
	struct spdk_nvmf_host *h;
	struct spdk_nvmf_ns *ns;
	int i;

	if (s == NULL) {
		return NULL;
	}
	switch (field) {
	case 0: return s->subnqn;
	case 1: return s->subtype == SPDK_NVMF_SUBTYPE_DISCOVERY ? "Discovery" : "NVMe";
	case 2: return s->sn;
	case 3: return s->mn;
	default: break;
	}
	if (field >= 100 && field < 200) {
		i = field - 100;
		TAILQ_FOREACH(h, &s->hosts, link) {
			if (i-- == 0) {
				return h->nqn;
			}
		}
	} else if (field >= 200 && field < 400) {
		i = field % 100;
		TAILQ_FOREACH(l, &s->listeners, link) {
			if (i-- == 0) {
				return field < 300 ? l->trid.traddr : l->trid.trsvcid;
			}
		}
	} else if (field >= 400 && field < 500) {
		ns = subsystem_ns_by_index(s, field - 400);
		return ns ? spdk_bdev_get_name(ns->bdev) : NULL;
	}
	return NULL;
}

/* Transport options and state, nvmf_get_transports: 0 max_queue_depth, 1 max_qpairs_per_ctrlr,
 * 2 in_capsule_data_size, 3 max_io_size, 4 io_unit_size, 5 max_aq_depth, 6 num_shared_buffers,
 * 7 buf_cache_size, 8 abort_timeout_sec, 9 zcopy, 10 ack_timeout, 11 c2h_success,
 * 12 shared buffers in use. -ENODEV when no such transport. */
SPDK_WASM_API double
spdk_wasm_nvmf_transport_field(const char *trtype, int field)
{
	struct spdk_nvmf_transport *t = g_nvmf_tgt ? spdk_nvmf_tgt_get_transport(g_nvmf_tgt, trtype) :
					NULL;

	if (t == NULL) {
		return -ENODEV;
	}
	switch (field) {
	case 0: return t->opts.max_queue_depth;
	case 1: return t->opts.max_qpairs_per_ctrlr;
	case 2: return t->opts.in_capsule_data_size;
	case 3: return t->opts.max_io_size;
	case 4: return t->opts.io_unit_size;
	case 5: return t->opts.max_aq_depth;
	case 6: return t->opts.num_shared_buffers;
	case 7: return t->opts.buf_cache_size;
	case 8: return t->opts.abort_timeout_sec;
	case 9: return t->opts.zcopy;
	case 10: return t->opts.ack_timeout;
	case 11: return t->opts.c2h_success;
	case 12: return t->data_buf_in_use;
	default: return -EINVAL;
	}
}

/* Strings of a TCP qpair: 0 target (listen) address, 1 initiator address, 2 the subsystem NQN of
 * its controller (NULL before Connect). */
SPDK_WASM_API const char *
spdk_wasm_nvmf_tcp_qpair_str(struct spdk_nvmf_tcp_qpair *tq, int field)
{
	if (tq == NULL) {
		return NULL;
	}
	switch (field) {
	case 0: return tq->target_addr;
	case 1: return tq->initiator_addr;
	case 2: return tq->qpair.ctrlr ? tq->qpair.ctrlr->subsys->subnqn : NULL;
	default: return NULL;
	}
}

/* Ports of a TCP qpair: 0 target port, 1 initiator port. */
SPDK_WASM_API int
spdk_wasm_nvmf_tcp_qpair_port(struct spdk_nvmf_tcp_qpair *tq, int field)
{
	if (tq == NULL) {
		return -ENODEV;
	}
	return field == 0 ? tq->target_port : field == 1 ? tq->initiator_port : -EINVAL;
}

/* Bytes of heap the allocator has handed out and not had back (leak checks; release builds, where
 * malloc is emscripten's dlmalloc; -1 under ASan, whose allocator keeps its own books). */
SPDK_WASM_API double
spdk_wasm_heap_in_use(void)
{
#if defined(__has_feature) && __has_feature(address_sanitizer)
	return -1;
#else
	/* Without the reuse caches (bdev_ios, messages): upstream's mempools hold those. */
	spdk_bdev_io_cache_drain();
	spdk_thread_msg_cache_drain();
	return (double)mallinfo().uordblks;
#endif
}

/* bdev_get_bdevs: the name of the idx-th registered bdev (NULL past the last), and its
 * product name. */
SPDK_WASM_API const char *
spdk_wasm_bdev_name(int idx, int product)
{
	struct spdk_bdev *bdev;

	for (bdev = spdk_bdev_first(); bdev != NULL && idx > 0; bdev = spdk_bdev_next(bdev)) {
		idx--;
	}
	if (bdev == NULL) {
		return NULL;
	}
	return product ? spdk_bdev_get_product_name(bdev) : spdk_bdev_get_name(bdev);
}
