/* Exported interface of the NVMe/TCP initiator (lib/nvme), its bdev_nvme-like attach layer and
 * the bdevperf workload (app/bdevperf). Names are stable; scenarios, tests and the JSON-RPC
 * method bdev_nvme_attach_controller call these. Strings are C strings in guest memory; errors
 * are negative errno values; 64-bit values cross as double. Everything runs on the app thread
 * and is non-blocking: calls start work, the world's polling finishes it. */
#include <emscripten/emscripten.h>

#include "spdk/stdinc.h"
#include "spdk/nvme.h"
#include "../lib/nvme/nvme_internal.h"
#include "../app/bdevperf/bdevperf.h"
#include "../module/sock/posix/posix_ut.h"

#define SPDK_WASM_API EMSCRIPTEN_KEEPALIVE

/* Flags of spdk_wasm_nvme_attach. */
#define SPDK_WASM_NVME_HDGST		(1u << 0)	/* ask for header digests */
#define SPDK_WASM_NVME_DDGST		(1u << 1)	/* ask for data digests */
#define SPDK_WASM_NVME_NO_IO_ZCOPY	(1u << 2)	/* I/O qpair sockets without zero copy */
#define SPDK_WASM_NVME_DISABLE_SQ_FC	(1u << 3)	/* Connect cattr: SQ flow control off */
#define SPDK_WASM_NVME_NO_POLL_GROUP	(1u << 4)	/* poll the I/O qpair directly, no poll group */

/* bdev_nvme_attach_controller (trtype TCP, adrfam IPv4). Starts attaching and returns the
 * controller id (0..3) at once; poll spdk_wasm_nvme_ctrlr_field(id, 0) until READY (2) or
 * FAILED (4). flags: SPDK_WASM_NVME_* above. ack_timeout: transport_ack_timeout exponent
 * (TCP_USER_TIMEOUT = 2^n ms; 0 = kernel default). kato_ms: keep-alive timeout sent in the
 * admin Connect (0 = none). reconnect_delay_ms / max_reconnects: the reset policy after a
 * failure (0 reconnects: the controller fails at the first error). io_queue_size 0: default. */
SPDK_WASM_API int
spdk_wasm_nvme_attach(const char *traddr, const char *trsvcid, const char *subnqn,
		      const char *hostnqn, uint32_t flags, uint32_t ack_timeout, uint32_t kato_ms,
		      uint32_t reconnect_delay_ms, uint32_t max_reconnects, uint32_t io_queue_size)
{
	struct spdk_nvme_transport_id trid;
	struct nvme_bdev_ctrlr_opts opts;

	if (traddr == NULL || trsvcid == NULL || subnqn == NULL || ack_timeout > 31) {
		return -EINVAL;
	}
	memset(&trid, 0, sizeof(trid));
	snprintf(trid.traddr, sizeof(trid.traddr), "%s", traddr);
	snprintf(trid.trsvcid, sizeof(trid.trsvcid), "%s", trsvcid);
	snprintf(trid.subnqn, sizeof(trid.subnqn), "%s", subnqn);
	memset(&opts, 0, sizeof(opts));
	spdk_nvme_ctrlr_get_default_ctrlr_opts(&opts.ctrlr_opts, sizeof(opts.ctrlr_opts));
	if (hostnqn != NULL && hostnqn[0] != '\0') {
		snprintf(opts.ctrlr_opts.hostnqn, sizeof(opts.ctrlr_opts.hostnqn), "%s", hostnqn);
	}
	opts.ctrlr_opts.header_digest = (flags & SPDK_WASM_NVME_HDGST) != 0;
	opts.ctrlr_opts.data_digest = (flags & SPDK_WASM_NVME_DDGST) != 0;
	opts.ctrlr_opts.io_zcopy = (flags & SPDK_WASM_NVME_NO_IO_ZCOPY) == 0;
	opts.ctrlr_opts.disable_sq_fc = (flags & SPDK_WASM_NVME_DISABLE_SQ_FC) != 0;
	opts.ctrlr_opts.transport_ack_timeout = (uint8_t)ack_timeout;
	opts.ctrlr_opts.keep_alive_timeout_ms = kato_ms;
	opts.io_queue_size = io_queue_size;
	opts.reconnect_delay_ms = reconnect_delay_ms;
	opts.max_reconnects = max_reconnects;
	opts.io_qpair_no_poll_group = (flags & SPDK_WASM_NVME_NO_POLL_GROUP) != 0;
	return nvme_bdev_ctrlr_attach(&trid, &opts);
}

/* bdev_nvme_detach_controller: frees the controller, its qpairs and sockets. */
SPDK_WASM_API int
spdk_wasm_nvme_detach(int id)
{
	return nvme_bdev_ctrlr_detach(id);
}

/* Controller fields: 0 attach state (enum nvme_bdev_ctrlr_state: 0 ATTACHING, 1 CONNECTING_IO,
 * 2 READY, 3 RESETTING, 4 FAILED, 5 DETACHED), 1 nvme_ctrlr_state (spdk_wasm_nvme_ctrlr_state_name),
 * 2 cntlid, 3 admin qpair state, 4 I/O qpair state (enum nvme_qpair_state), 5 is_failed,
 * 6 resets, 7 reconnect attempts, 8 Keep Alives sent, 9 Keep Alives failed, 10 KATO in use (ms),
 * 11 namespace 1 block size, 12 namespace 1 blocks, 13 max transfer size, 14 in-capsule bytes of
 * I/O queues, 15 attach rc, 16 I/O qpair failure reason, 17 CSTS last read, 18 VS,
 * 19 init errors, 20 outstanding I/O requests, 21 the I/O qpair is in a poll group (1/0),
 * 22 calls of the poll group's disconnected_qpair_cb (0 without a group). -ENODEV when there is no such controller (or
 * the field needs a controller that is gone). */
SPDK_WASM_API int
spdk_wasm_nvme_ctrlr_field(int id, int field)
{
	struct nvme_bdev_ctrlr *nbc = nvme_bdev_ctrlr_get(id);
	struct spdk_nvme_ctrlr *c;

	if (nbc == NULL) {
		return -ENODEV;
	}
	switch (field) {
	case 0: return nbc->state;
	case 7: return (int)nbc->reconnect_attempts;
	case 15: return nbc->attach_rc;
	case 22: return nbc->group ? (int)nbc->group->disconnected_cbs : 0;
	default: break;
	}
	c = nbc->ctrlr;
	if (c == NULL) {
		return -ENODEV;
	}
	switch (field) {
	case 1: return c->state;
	case 2: return c->cntlid;
	case 3: return c->adminq ? (int)c->adminq->state : -ENODEV;
	case 4: return nbc->qpair ? (int)nbc->qpair->state : -ENODEV;
	case 5: return c->is_failed;
	case 6: return (int)c->resets;
	case 8: return (int)c->keep_alives_sent;
	case 9: return (int)c->keep_alives_failed;
	case 10: return (int)c->kato_ms;
	case 11: return nbc->ns ? (int)nbc->ns->sector_size : 0;
	case 12: return nbc->ns ? (int)nbc->ns->num_sectors : 0;
	case 13: return (int)c->max_xfer_size;
	case 14: return (int)c->ioccsz_bytes;
	case 16: return nbc->qpair ? (int)nbc->qpair->transport_failure_reason : -ENODEV;
	case 17: return (int)c->csts.raw;
	case 18: return (int)c->vs.raw;
	case 19: return (int)c->init_errors;
	case 20: return nbc->qpair ? (int)nbc->qpair->num_outstanding_reqs : 0;
	case 21: return nbc->qpair ? nbc->qpair->poll_group != NULL : 0;
	default: return -EINVAL;
	}
}

/* Upstream's name of an nvme_ctrlr_state ("NVME_CTRLR_STATE_READY"), or NULL. */
SPDK_WASM_API const char *
spdk_wasm_nvme_ctrlr_state_name(int state)
{
	return state >= 0 && state < NVME_CTRLR_NUM_STATES ? nvme_ctrlr_state_names[state] : NULL;
}

/* Name of an nvme_qpair_state ("NVME_QPAIR_ENABLED"), or NULL. */
SPDK_WASM_API const char *
spdk_wasm_nvme_qpair_state_name(int state)
{
	return state >= 0 && state <= NVME_QPAIR_DESTROYING ? nvme_qpair_state_names[state] : NULL;
}

/* Name of an attach state ("READY"). */
SPDK_WASM_API const char *
spdk_wasm_nvme_attach_state_name(int state)
{
	return nvme_bdev_ctrlr_state_name((enum nvme_bdev_ctrlr_state)state);
}

/* Qpair fields; which 0 admin, 1 I/O. Generic: 0 qid, 1 state, 2 submitted, 3 completed,
 * 4 completed with error, 5 aborted, 6 Connects done, 7 queued (not yet sent), 8 outstanding,
 * 9 size of its socket's receive pipe (0 none, -ENOTCONN no socket), 10 bytes in that pipe.
 * 100 + n: field n of the TCP qpair (nvme_tcp_qpair_get_field: 100 tcp state, 101 recv_state,
 * 102 hdgst, 103 ddgst, 104 maxh2cdata, 105 cpda, ..., 120 + t PDUs of type t sent,
 * 140 + t PDUs of type t received). */
SPDK_WASM_API int
spdk_wasm_nvme_qpair_field(int id, int which, int field)
{
	struct nvme_bdev_ctrlr *nbc = nvme_bdev_ctrlr_get(id);
	struct spdk_nvme_qpair *qpair;
	struct nvme_request *req;
	struct spdk_sock *sock;
	int n = 0;

	if (nbc == NULL || nbc->ctrlr == NULL) {
		return -ENODEV;
	}
	qpair = which == 0 ? nbc->ctrlr->adminq : nbc->qpair;
	if (qpair == NULL) {
		return -ENODEV;
	}
	if (field >= 100) {
		return nvme_tcp_qpair_get_field(qpair, field - 100);
	}
	switch (field) {
	case 0: return qpair->id;
	case 1: return qpair->state;
	case 2: return (int)qpair->submitted;
	case 3: return (int)qpair->completed;
	case 4: return (int)qpair->errors;
	case 5: return (int)qpair->aborted;
	case 6: return (int)qpair->connects;
	case 7:
		STAILQ_FOREACH(req, &qpair->queued_req, stailq) {
			n++;
		}
		return n;
	case 8: return (int)qpair->num_outstanding_reqs;
	case 9:
	case 10:
		sock = nvme_tcp_qpair_get_sock(qpair);
		if (sock == NULL) {
			return -ENOTCONN;
		}
		if (field == 9) {
			return posix_sock_ut_pipe_bytes(sock) < 0 ? 0 : posix_sock_ut_recv_buf_sz(sock);
		}
		return posix_sock_ut_pipe_bytes(sock);
	default: return -EINVAL;
	}
}

/* The Identify Controller data (4096 bytes) the initiator read, or NULL. */
SPDK_WASM_API const void *
spdk_wasm_nvme_ctrlr_data(int id)
{
	struct nvme_bdev_ctrlr *nbc = nvme_bdev_ctrlr_get(id);

	return nbc && nbc->ctrlr ? spdk_nvme_ctrlr_get_data(nbc->ctrlr) : NULL;
}

/* The Identify Namespace data (4096 bytes) of namespace nsid, or NULL when not active. */
SPDK_WASM_API const void *
spdk_wasm_nvme_ns_data(int id, uint32_t nsid)
{
	struct nvme_bdev_ctrlr *nbc = nvme_bdev_ctrlr_get(id);
	struct spdk_nvme_ns *ns;

	if (nbc == NULL || nbc->ctrlr == NULL) {
		return NULL;
	}
	ns = spdk_nvme_ctrlr_get_ns(nbc->ctrlr, nsid);
	return ns ? spdk_nvme_ns_get_data(ns) : NULL;
}

/* ---- single I/Os, for tests: a few slots, each one I/O at a time ---- */

#define SPDK_WASM_NVME_IO_SLOTS 64

static struct {
	bool	busy;
	int	result;	/* -EINPROGRESS, or the completion status (sct << 8 | sc) */
} g_io_slots[SPDK_WASM_NVME_IO_SLOTS];

static void
io_slot_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	int slot = (int)(intptr_t)arg;

	g_io_slots[slot].result = (cpl->status.sct << 8) | cpl->status.sc;
	g_io_slots[slot].busy = false;
}

/* Submits one READ (is_write 0), WRITE (1) or FLUSH (2) of lba_count blocks at lba from/to
 * buf on the I/O qpair. Returns a slot (>= 0) to pass to spdk_wasm_nvme_io_result, or -errno. */
SPDK_WASM_API int
spdk_wasm_nvme_io_submit(int id, int is_write, void *buf, double lba, uint32_t lba_count)
{
	struct nvme_bdev_ctrlr *nbc = nvme_bdev_ctrlr_get(id);
	int slot, rc;

	if (nbc == NULL || nbc->ns == NULL || nbc->qpair == NULL) {
		return -ENODEV;
	}
	for (slot = 0; slot < SPDK_WASM_NVME_IO_SLOTS && g_io_slots[slot].busy; slot++) {
	}
	if (slot == SPDK_WASM_NVME_IO_SLOTS) {
		return -EBUSY;
	}
	g_io_slots[slot].busy = true;
	g_io_slots[slot].result = -EINPROGRESS;
	if (is_write == 2) {
		rc = spdk_nvme_ns_cmd_flush(nbc->ns, nbc->qpair, io_slot_done, (void *)(intptr_t)slot);
	} else if (is_write) {
		rc = spdk_nvme_ns_cmd_write(nbc->ns, nbc->qpair, buf, (uint64_t)lba, lba_count,
					    io_slot_done, (void *)(intptr_t)slot, 0);
	} else {
		rc = spdk_nvme_ns_cmd_read(nbc->ns, nbc->qpair, buf, (uint64_t)lba, lba_count,
					   io_slot_done, (void *)(intptr_t)slot, 0);
	}
	if (rc != 0) {
		g_io_slots[slot].busy = false;
		return rc;
	}
	return slot;
}

/* -EINPROGRESS while the I/O of 'slot' runs, then its status (sct << 8 | sc; 0 = success). */
SPDK_WASM_API int
spdk_wasm_nvme_io_result(int slot)
{
	if (slot < 0 || slot >= SPDK_WASM_NVME_IO_SLOTS) {
		return -EINVAL;
	}
	return g_io_slots[slot].result;
}

/* ---- bdevperf ---- */

/* Starts bdevperf on controller id: workload 0 verify, 1 randread, 2 randwrite, 3 randrw,
 * 4 read, 5 write (sequential); time_ms > 0 runs that long, else io_count I/Os; flags bit 0
 * unique data per write (-U), bit 1 continue after failures. 0 or -errno. */
SPDK_WASM_API int
spdk_wasm_bdevperf_start(int id, uint32_t workload, uint32_t io_size, uint32_t queue_depth,
			 uint32_t rw_percentage, double time_ms, uint32_t io_count, uint32_t seed,
			 uint32_t flags)
{
	struct bdevperf_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.ctrlr_id = id;
	opts.workload = (enum bdevperf_workload)workload;
	opts.io_size = io_size;
	opts.queue_depth = queue_depth;
	opts.rw_percentage = rw_percentage;
	opts.time_us = time_ms > 0 ? (uint64_t)(time_ms * 1000.0) : 0;
	opts.io_count = io_count;
	opts.seed = seed;
	opts.flags = flags;
	return bdevperf_start(&opts);
}

/* 0 running, 1 finished clean, 2 finished with miscompares, -errno when it failed. */
SPDK_WASM_API int
spdk_wasm_bdevperf_status(void)
{
	return bdevperf_status();
}

/* Stops submitting; the job ends once outstanding I/O is back. */
SPDK_WASM_API int
spdk_wasm_bdevperf_stop(void)
{
	return bdevperf_stop();
}

/* Counter c (enum bdevperf_counter): 0 submitted, 1 completed, 2 failed, 3 reads, 4 writes,
 * 5 bytes read, 6 bytes written, 7 verified, 8 miscompares, 9 outstanding, 10 start (µs),
 * 11 end (µs), 12 latency sum (µs), 13 latency max (µs), 14 poison words seen in reads. */
SPDK_WASM_API double
spdk_wasm_bdevperf_counter(int c)
{
	return bdevperf_get_counter((enum bdevperf_counter)c);
}

/* Miscompare idx (0..15): 0 I/O index, 1 write index, 2 offset in blocks, 3 first differing
 * byte, 4 last differing byte, 5 differing bytes, 6 poison words; 16 + i: expected byte i,
 * 32 + i: received byte i (i < 16, from the first differing byte). -ENOENT past the last. */
SPDK_WASM_API double
spdk_wasm_bdevperf_miscompare(int idx, int field)
{
	const struct bdevperf_miscompare *m = bdevperf_get_miscompare((uint32_t)idx);

	if (m == NULL) {
		return -ENOENT;
	}
	if (field >= 16 && field < 32) {
		return m->expected[field - 16];
	}
	if (field >= 32 && field < 48) {
		return m->received[field - 32];
	}
	switch (field) {
	case 0: return m->io_idx;
	case 1: return m->write_idx;
	case 2: return (double)m->offset_blocks;
	case 3: return m->first_byte;
	case 4: return m->last_byte;
	case 5: return m->bad_bytes;
	case 6: return m->poison_words;
	default: return -EINVAL;
	}
}

/* ---- target-side knob the seed-000 replay uses ---- */

extern bool g_nvmf_poison_released_buffers;

/* Target: poison (0xDEADBEEF) each data buffer when it goes back to the pool (0 off, 1 on),
 * as the seed-000 repro poisons after completion. Returns the previous setting. */
SPDK_WASM_API int
spdk_wasm_nvmf_set_buffer_poison(int enable)
{
	int prev = g_nvmf_poison_released_buffers;

	g_nvmf_poison_released_buffers = enable != 0;
	return prev;
}
