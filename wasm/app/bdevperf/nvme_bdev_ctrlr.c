/* A thin stand-in for module/bdev/nvme: attaches one controller (bdev_nvme_attach_controller),
 * polls its admin queue (bdev_nvme_poll_adminq: keep alive, failure detection) and its one I/O
 * qpair through an NVMe poll group (bdev_nvme_poll; a disconnected qpair is reported by
 * bdev_nvme_disconnected_qpair_cb), and on a failed controller or qpair runs a reset: disconnect, then
 * reconnect attempts every reconnect_delay_ms, at most max_reconnects of them
 * (bdev_nvme_reset_ctrlr / bdev_nvme_reconnect_ctrlr), then the I/O qpair again. */
#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/log.h"
#include "spdk/thread.h"
#include "spdk/util.h"
#include "spdk_internal/trace_host.h"
#include "bdevperf.h"

/* Admin polling: fast while bringing a controller up, bdev_nvme's 10 ms once it is ready. */
#define NVME_BDEV_ADMINQ_INIT_POLL_US	1000
#define NVME_BDEV_ADMINQ_POLL_US	10000

static struct nvme_bdev_ctrlr g_nvme_bdev_ctrlrs[NVME_BDEV_MAX_CTRLRS];

static const char *const g_state_names[] = {
	"ATTACHING", "CONNECTING_IO", "READY", "RESETTING", "FAILED", "DETACHED",
};

const char *
nvme_bdev_ctrlr_state_name(enum nvme_bdev_ctrlr_state state)
{
	return (unsigned)state < SPDK_COUNTOF(g_state_names) ? g_state_names[state] : "UNKNOWN";
}

static void
nvme_bdev_ctrlr_set_state(struct nvme_bdev_ctrlr *nbc, enum nvme_bdev_ctrlr_state state)
{
	if (nbc->state == state) {
		return;
	}
	SPDK_WASM_TRACE("nvme_bdev_ctrlr_state", nbc->id, nbc->state, state, 0);
	nbc->state = state;
}

struct nvme_bdev_ctrlr *
nvme_bdev_ctrlr_get(int id)
{
	if (id < 0 || id >= NVME_BDEV_MAX_CTRLRS || !g_nvme_bdev_ctrlrs[id].in_use) {
		return NULL;
	}
	return &g_nvme_bdev_ctrlrs[id];
}

static int bdev_nvme_poll_adminq(void *arg);

static void
nvme_bdev_ctrlr_set_adminq_period(struct nvme_bdev_ctrlr *nbc, uint64_t period_us)
{
	if (nbc->adminq_poller != NULL && nbc->adminq_period_us == period_us) {
		return;
	}
	spdk_poller_unregister(&nbc->adminq_poller);
	nbc->adminq_period_us = period_us;
	nbc->adminq_poller = SPDK_POLLER_REGISTER(bdev_nvme_poll_adminq, nbc, period_us);
}

/* Failure of the controller or its qpair: abort what is in flight and start reconnecting. */
static void
bdev_nvme_reset_ctrlr(struct nvme_bdev_ctrlr *nbc)
{
	if (nbc->state == NVME_BDEV_CTRLR_RESETTING || nbc->state == NVME_BDEV_CTRLR_FAILED) {
		return;
	}
	SPDK_NOTICELOG("[%s:%s] resetting controller\n", nbc->trid.traddr, nbc->trid.trsvcid);
	SPDK_WASM_TRACE("bdev_nvme_reset_ctrlr", nbc->id, nbc->resets, 0, 0);
	nbc->resets++;
	nbc->reconnect_attempts = 0;
	nvme_bdev_ctrlr_set_state(nbc, NVME_BDEV_CTRLR_RESETTING);
	spdk_nvme_ctrlr_disconnect(nbc->ctrlr);
	/* The first attempt goes at once; later ones wait reconnect_delay_ms. */
	nbc->next_reconnect_tick = spdk_get_ticks();
	nbc->reconnect_in_progress = false;
	nvme_bdev_ctrlr_set_adminq_period(nbc, NVME_BDEV_ADMINQ_INIT_POLL_US);
}

static int
bdev_nvme_reconnect_ctrlr_poll(struct nvme_bdev_ctrlr *nbc)
{
	int rc;

	if (!nbc->reconnect_in_progress) {
		if (spdk_get_ticks() < nbc->next_reconnect_tick) {
			return SPDK_POLLER_IDLE;
		}
		nbc->reconnect_attempts++;
		SPDK_WASM_TRACE("bdev_nvme_reconnect_ctrlr", nbc->id, nbc->reconnect_attempts, 0, 0);
		spdk_nvme_ctrlr_reconnect_async(nbc->ctrlr);
		nbc->reconnect_in_progress = true;
	}
	rc = spdk_nvme_ctrlr_reconnect_poll_async(nbc->ctrlr);
	if (rc == -EAGAIN) {
		return SPDK_POLLER_BUSY;
	}
	nbc->reconnect_in_progress = false;
	if (rc == 0) {
		rc = spdk_nvme_ctrlr_reconnect_io_qpair(nbc->qpair);
		if (rc == 0) {
			nvme_bdev_ctrlr_set_state(nbc, NVME_BDEV_CTRLR_CONNECTING_IO);
			return SPDK_POLLER_BUSY;
		}
		SPDK_ERRLOG("Reconnecting the I/O qpair failed: %d\n", rc);
		spdk_nvme_ctrlr_disconnect(nbc->ctrlr);
	}
	if (nbc->reconnect_attempts >= nbc->opts.max_reconnects) {
		SPDK_ERRLOG("[%s:%s] giving up after %u reconnect attempts\n", nbc->trid.traddr,
			    nbc->trid.trsvcid, nbc->reconnect_attempts);
		nvme_bdev_ctrlr_set_state(nbc, NVME_BDEV_CTRLR_FAILED);
		spdk_nvme_ctrlr_fail(nbc->ctrlr);
		return SPDK_POLLER_BUSY;
	}
	nbc->next_reconnect_tick = spdk_get_ticks() +
				   (uint64_t)nbc->opts.reconnect_delay_ms * spdk_get_ticks_hz() / 1000;
	return SPDK_POLLER_BUSY;
}

static void
bdev_nvme_attach_cb(void *cb_ctx, const struct spdk_nvme_transport_id *trid,
		    struct spdk_nvme_ctrlr *ctrlr, const struct spdk_nvme_ctrlr_opts *opts)
{
	struct nvme_bdev_ctrlr *nbc = cb_ctx;
	struct spdk_nvme_io_qpair_opts qopts;

	nbc->ctrlr = ctrlr;
	nbc->ns = spdk_nvme_ctrlr_get_ns(ctrlr, 1);
	int rc;

	spdk_nvme_ctrlr_get_default_io_qpair_opts(ctrlr, &qopts, sizeof(qopts));
	if (nbc->opts.io_queue_size != 0) {
		qopts.io_queue_size = spdk_min(nbc->opts.io_queue_size, qopts.io_queue_size);
		qopts.io_queue_requests = qopts.io_queue_size * 2;
	}
	/* bdev_nvme_create_qpair: allocate, join the poll group, then connect. */
	qopts.create_only = nbc->group != NULL;
	nbc->qpair = spdk_nvme_ctrlr_alloc_io_qpair(ctrlr, &qopts, sizeof(qopts));
	if (nbc->qpair == NULL) {
		nbc->attach_rc = -ENOMEM;
		nvme_bdev_ctrlr_set_state(nbc, NVME_BDEV_CTRLR_FAILED);
		return;
	}
	if (nbc->group != NULL) {
		rc = spdk_nvme_poll_group_add(nbc->group, nbc->qpair);
		if (rc == 0) {
			rc = spdk_nvme_ctrlr_connect_io_qpair(ctrlr, nbc->qpair);
		}
		if (rc != 0) {
			/* Stays DISCONNECTED: the group reports it and a reset follows. */
			SPDK_ERRLOG("Unable to connect the I/O qpair of controller %d: %d\n", nbc->id, rc);
		}
	}
	nvme_bdev_ctrlr_set_state(nbc, NVME_BDEV_CTRLR_CONNECTING_IO);
}

static int
bdev_nvme_poll_adminq(void *arg)
{
	struct nvme_bdev_ctrlr *nbc = arg;
	int rc;

	switch (nbc->state) {
	case NVME_BDEV_CTRLR_ATTACHING:
		rc = spdk_nvme_probe_poll_async(nbc->probe_ctx);
		if (rc == -EAGAIN) {
			return SPDK_POLLER_BUSY;
		}
		nbc->probe_ctx = NULL;
		if (rc != 0) {
			/* The probe freed the controller. */
			nbc->ctrlr = NULL;
			nbc->attach_rc = rc;
			nvme_bdev_ctrlr_set_state(nbc, NVME_BDEV_CTRLR_FAILED);
		}
		return SPDK_POLLER_BUSY;
	case NVME_BDEV_CTRLR_CONNECTING_IO:
		if (spdk_nvme_ctrlr_process_admin_completions(nbc->ctrlr) < 0) {
			bdev_nvme_reset_ctrlr(nbc);
			return SPDK_POLLER_BUSY;
		}
		if (spdk_nvme_qpair_is_connected(nbc->qpair)) {
			nvme_bdev_ctrlr_set_state(nbc, NVME_BDEV_CTRLR_READY);
			nvme_bdev_ctrlr_set_adminq_period(nbc, NVME_BDEV_ADMINQ_POLL_US);
		}
		return SPDK_POLLER_BUSY;
	case NVME_BDEV_CTRLR_READY:
		rc = spdk_nvme_ctrlr_process_admin_completions(nbc->ctrlr);
		if (rc < 0 || spdk_nvme_ctrlr_is_failed(nbc->ctrlr)) {
			bdev_nvme_reset_ctrlr(nbc);
			return SPDK_POLLER_BUSY;
		}
		return rc > 0 ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
	case NVME_BDEV_CTRLR_RESETTING:
		return bdev_nvme_reconnect_ctrlr_poll(nbc);
	default:
		return SPDK_POLLER_IDLE;
	}
}

/* The group found the I/O qpair disconnected (it failed, or a reset disconnected it): start a
 * reset unless one is already running. Called on every group poll while it stays so. */
static void
bdev_nvme_disconnected_qpair_cb(struct spdk_nvme_qpair *qpair, void *poll_group_ctx)
{
	struct nvme_bdev_ctrlr *nbc = poll_group_ctx;

	if (nbc->state != NVME_BDEV_CTRLR_READY && nbc->state != NVME_BDEV_CTRLR_CONNECTING_IO) {
		return;
	}
	SPDK_ERRLOG("I/O qpair of controller %d failed (reason %d)\n", nbc->id,
		    spdk_nvme_qpair_get_failure_reason(qpair));
	bdev_nvme_reset_ctrlr(nbc);
}

static int
bdev_nvme_poll(void *arg)
{
	struct nvme_bdev_ctrlr *nbc = arg;
	int64_t num_completions;
	int32_t rc;

	if (nbc->group != NULL) {
		num_completions = spdk_nvme_poll_group_process_completions(nbc->group, 0,
				  bdev_nvme_disconnected_qpair_cb);
		return num_completions > 0 ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
	}
	if (nbc->qpair == NULL || (nbc->state != NVME_BDEV_CTRLR_READY &&
				   nbc->state != NVME_BDEV_CTRLR_CONNECTING_IO)) {
		return SPDK_POLLER_IDLE;
	}
	rc = spdk_nvme_qpair_process_completions(nbc->qpair, 0);
	if (rc < 0) {
		SPDK_ERRLOG("I/O qpair of controller %d failed (reason %d)\n", nbc->id,
			    spdk_nvme_qpair_get_failure_reason(nbc->qpair));
		bdev_nvme_reset_ctrlr(nbc);
		return SPDK_POLLER_BUSY;
	}
	return rc > 0 ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
}

int
nvme_bdev_ctrlr_attach(const struct spdk_nvme_transport_id *trid,
		       const struct nvme_bdev_ctrlr_opts *opts)
{
	struct nvme_bdev_ctrlr *nbc = NULL;
	int i;

	if (spdk_get_thread() == NULL) {
		SPDK_ERRLOG("nvme_bdev_ctrlr_attach: call spdk_wasm_init first\n");
		return -EINVAL;
	}
	for (i = 0; i < NVME_BDEV_MAX_CTRLRS; i++) {
		if (!g_nvme_bdev_ctrlrs[i].in_use) {
			nbc = &g_nvme_bdev_ctrlrs[i];
			break;
		}
	}
	if (nbc == NULL) {
		return -ENOSPC;
	}
	memset(nbc, 0, sizeof(*nbc));
	nbc->id = i;
	nbc->trid = *trid;
	nbc->opts = *opts;
	if (!opts->io_qpair_no_poll_group) {
		nbc->group = spdk_nvme_poll_group_create(nbc, NULL);
		if (nbc->group == NULL) {
			return -ENOMEM;
		}
	}
	nbc->probe_ctx = spdk_nvme_connect_async(trid, &opts->ctrlr_opts, bdev_nvme_attach_cb, nbc);
	if (nbc->probe_ctx == NULL) {
		if (nbc->group != NULL) {
			spdk_nvme_poll_group_destroy(nbc->group);
			nbc->group = NULL;
		}
		return -ENOMEM;
	}
	nbc->ctrlr = spdk_nvme_probe_ctx_get_ctrlr(nbc->probe_ctx);
	nbc->in_use = true;
	nbc->state = NVME_BDEV_CTRLR_ATTACHING;
	nvme_bdev_ctrlr_set_adminq_period(nbc, NVME_BDEV_ADMINQ_INIT_POLL_US);
	nbc->io_poller = SPDK_POLLER_REGISTER(bdev_nvme_poll, nbc, 0);
	return nbc->id;
}

int
nvme_bdev_ctrlr_detach(int id)
{
	struct nvme_bdev_ctrlr *nbc = nvme_bdev_ctrlr_get(id);

	if (nbc == NULL) {
		return -ENODEV;
	}
	spdk_poller_unregister(&nbc->adminq_poller);
	spdk_poller_unregister(&nbc->io_poller);
	if (nbc->ctrlr != NULL) {
		/* Frees the qpairs too (and, while attaching, the controller the probe built;
		 * the probe context itself is then dropped). */
		spdk_nvme_detach(nbc->ctrlr);
		free(nbc->probe_ctx);
		nbc->probe_ctx = NULL;
	}
	/* Empty now: freeing the qpair took it out of the group. */
	if (nbc->group != NULL && spdk_nvme_poll_group_destroy(nbc->group) != 0) {
		SPDK_ERRLOG("poll group of controller %d still has qpairs\n", nbc->id);
	}
	nbc->group = NULL;
	nbc->ctrlr = NULL;
	nbc->qpair = NULL;
	nbc->ns = NULL;
	nvme_bdev_ctrlr_set_state(nbc, NVME_BDEV_CTRLR_DETACHED);
	nbc->in_use = false;
	return 0;
}

int
nvme_bdev_readv(struct nvme_bdev_ctrlr *nbc, void *buf, uint64_t offset_blocks,
		uint32_t num_blocks, spdk_nvme_cmd_cb cb_fn, void *cb_arg)
{
	if (nbc->ns == NULL || nbc->qpair == NULL) {
		return -ENODEV;
	}
	return spdk_nvme_ns_cmd_read(nbc->ns, nbc->qpair, buf, offset_blocks, num_blocks, cb_fn,
				     cb_arg, 0);
}

int
nvme_bdev_writev(struct nvme_bdev_ctrlr *nbc, void *buf, uint64_t offset_blocks,
		 uint32_t num_blocks, spdk_nvme_cmd_cb cb_fn, void *cb_arg)
{
	if (nbc->ns == NULL || nbc->qpair == NULL) {
		return -ENODEV;
	}
	return spdk_nvme_ns_cmd_write(nbc->ns, nbc->qpair, buf, offset_blocks, num_blocks, cb_fn,
				      cb_arg, 0);
}
