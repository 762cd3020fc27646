/* lib/nvme/nvme_ctrlr.c (with the probe and namespace command parts of nvme.c and
 * nvme_ns_cmd.c): controller construction, the initialization machine nvme_ctrlr_process_init
 * (connect the admin queue, read VS and CAP, CC.EN=1 then wait for CSTS.RDY, Identify
 * controller, keep-alive timeout, active namespaces, Identify namespace), keep alive every
 * KATO/2, failure, the disconnect/reconnect pair a reset uses, I/O qpairs and NVM commands.
 * Every step submits one admin command and returns; the answer moves the state on later. */
#include "nvme_internal.h"

const char *const nvme_ctrlr_state_names[NVME_CTRLR_NUM_STATES] = {
	"NVME_CTRLR_STATE_CONNECT_ADMINQ",
	"NVME_CTRLR_STATE_WAIT_FOR_CONNECT_ADMINQ",
	"NVME_CTRLR_STATE_READ_VS",
	"NVME_CTRLR_STATE_READ_VS_WAIT_FOR_VS",
	"NVME_CTRLR_STATE_READ_CAP",
	"NVME_CTRLR_STATE_READ_CAP_WAIT_FOR_CAP",
	"NVME_CTRLR_STATE_CHECK_EN",
	"NVME_CTRLR_STATE_CHECK_EN_WAIT_FOR_CC",
	"NVME_CTRLR_STATE_SET_EN_0",
	"NVME_CTRLR_STATE_SET_EN_0_WAIT_FOR_CC",
	"NVME_CTRLR_STATE_DISABLE_WAIT_FOR_READY_0",
	"NVME_CTRLR_STATE_DISABLE_WAIT_FOR_READY_0_WAIT_FOR_CSTS",
	"NVME_CTRLR_STATE_ENABLE",
	"NVME_CTRLR_STATE_ENABLE_WAIT_FOR_CC",
	"NVME_CTRLR_STATE_ENABLE_WAIT_FOR_READY_1",
	"NVME_CTRLR_STATE_ENABLE_WAIT_FOR_READY_1_WAIT_FOR_CSTS",
	"NVME_CTRLR_STATE_IDENTIFY",
	"NVME_CTRLR_STATE_WAIT_FOR_IDENTIFY",
	"NVME_CTRLR_STATE_SET_KEEP_ALIVE_TIMEOUT",
	"NVME_CTRLR_STATE_WAIT_FOR_KEEP_ALIVE_TIMEOUT",
	"NVME_CTRLR_STATE_IDENTIFY_ACTIVE_NS",
	"NVME_CTRLR_STATE_WAIT_FOR_IDENTIFY_ACTIVE_NS",
	"NVME_CTRLR_STATE_IDENTIFY_NS",
	"NVME_CTRLR_STATE_WAIT_FOR_IDENTIFY_NS",
	"NVME_CTRLR_STATE_READY",
	"NVME_CTRLR_STATE_ERROR",
	"NVME_CTRLR_STATE_DISCONNECTED",
};

#define NVME_REG_CAP	0x00
#define NVME_REG_VS	0x08
#define NVME_REG_CC	0x14
#define NVME_REG_CSTS	0x1c

struct spdk_nvme_probe_ctx {
	struct spdk_nvme_ctrlr		*ctrlr;
	spdk_nvme_attach_cb		attach_cb;
	void				*cb_ctx;
};

void
spdk_nvme_ctrlr_get_default_ctrlr_opts(struct spdk_nvme_ctrlr_opts *opts, size_t opts_size)
{
	memset(opts, 0, opts_size);
	opts->num_io_queues = 1;
	opts->admin_queue_size = NVME_ADMIN_ENTRIES;
	opts->keep_alive_timeout_ms = 10000;
	opts->admin_timeout_ms = 30000;
	snprintf(opts->hostnqn, sizeof(opts->hostnqn), "%s",
		 "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000000");
	opts->io_zcopy = true;
}

static void
nvme_ctrlr_set_state(struct spdk_nvme_ctrlr *ctrlr, enum nvme_ctrlr_state state,
		     uint64_t timeout_ms)
{
	SPDK_WASM_TRACE("nvme_ctrlr_set_state", ctrlr, ctrlr->state, state, ctrlr->cntlid);
	SPDK_DEBUGLOG(nvme, "setting state to %s\n", nvme_ctrlr_state_names[state]);
	ctrlr->state = state;
	ctrlr->state_timeout_tsc = timeout_ms == NVME_TIMEOUT_INFINITE ? 0 :
				   spdk_get_ticks() + timeout_ms * spdk_get_ticks_hz() / 1000;
}

static void
nvme_ctrlr_init_error(struct spdk_nvme_ctrlr *ctrlr, const char *what,
		      const struct spdk_nvme_cpl *cpl)
{
	if (cpl != NULL) {
		SPDK_ERRLOG("%s failed in %s: sct %u sc 0x%x (%s)\n", what,
			    nvme_ctrlr_state_names[ctrlr->state], cpl->status.sct, cpl->status.sc,
			    spdk_nvme_cpl_get_status_string(&cpl->status));
	} else {
		SPDK_ERRLOG("%s failed in %s\n", what, nvme_ctrlr_state_names[ctrlr->state]);
	}
	ctrlr->init_errors++;
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_ERROR, NVME_TIMEOUT_INFINITE);
}

void
spdk_nvme_ctrlr_fail(struct spdk_nvme_ctrlr *ctrlr)
{
	if (!ctrlr->is_failed) {
		SPDK_ERRLOG("ctrlr %s:%s (%s) in failed state.\n", ctrlr->trid.traddr,
			    ctrlr->trid.trsvcid, ctrlr->trid.subnqn);
		SPDK_WASM_TRACE("nvme_ctrlr_fail", ctrlr, ctrlr->state, ctrlr->cntlid, 0);
	}
	ctrlr->is_failed = true;
}

bool
spdk_nvme_ctrlr_is_failed(struct spdk_nvme_ctrlr *ctrlr)
{
	return ctrlr->is_failed;
}

/* ---- the answers that move initialization on ---- */

static void
nvme_ctrlr_get_vs_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_ctrlr *ctrlr = arg;

	if (spdk_nvme_cpl_is_error(cpl)) {
		nvme_ctrlr_init_error(ctrlr, "Property Get VS", cpl);
		return;
	}
	ctrlr->vs.raw = cpl->cdw0;
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_READ_CAP, ctrlr->opts.admin_timeout_ms);
}

static void
nvme_ctrlr_get_cap_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_ctrlr *ctrlr = arg;

	if (spdk_nvme_cpl_is_error(cpl)) {
		nvme_ctrlr_init_error(ctrlr, "Property Get CAP", cpl);
		return;
	}
	ctrlr->cap.raw = (uint64_t)cpl->cdw0 | ((uint64_t)cpl->cdw1 << 32);
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_CHECK_EN, ctrlr->opts.admin_timeout_ms);
}

static void
nvme_ctrlr_get_cc_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_ctrlr *ctrlr = arg;

	if (spdk_nvme_cpl_is_error(cpl)) {
		nvme_ctrlr_init_error(ctrlr, "Property Get CC", cpl);
		return;
	}
	ctrlr->cc.raw = cpl->cdw0;
	nvme_ctrlr_set_state(ctrlr, ctrlr->cc.bits.en ? NVME_CTRLR_STATE_SET_EN_0 :
			     NVME_CTRLR_STATE_ENABLE, ctrlr->opts.admin_timeout_ms);
}

static void
nvme_ctrlr_set_en_0_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_ctrlr *ctrlr = arg;

	if (spdk_nvme_cpl_is_error(cpl)) {
		nvme_ctrlr_init_error(ctrlr, "Property Set CC.EN=0", cpl);
		return;
	}
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_DISABLE_WAIT_FOR_READY_0,
			     ctrlr->opts.admin_timeout_ms);
}

static void
nvme_ctrlr_get_csts_ready_0_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_ctrlr *ctrlr = arg;

	if (spdk_nvme_cpl_is_error(cpl)) {
		nvme_ctrlr_init_error(ctrlr, "Property Get CSTS", cpl);
		return;
	}
	ctrlr->csts.raw = cpl->cdw0;
	/* Keep the state's deadline: re-reading CSTS is not progress. */
	ctrlr->state = ctrlr->csts.bits.rdy ? NVME_CTRLR_STATE_DISABLE_WAIT_FOR_READY_0 :
		       NVME_CTRLR_STATE_ENABLE;
	if (!ctrlr->csts.bits.rdy) {
		nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_ENABLE, ctrlr->opts.admin_timeout_ms);
	}
}

static void
nvme_ctrlr_enable_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_ctrlr *ctrlr = arg;
	uint64_t timeout_ms;

	if (spdk_nvme_cpl_is_error(cpl)) {
		nvme_ctrlr_init_error(ctrlr, "Property Set CC.EN=1", cpl);
		return;
	}
	/* CAP.TO is in 500 ms units: how long the controller may take to become ready. */
	timeout_ms = ctrlr->cap.bits.to ? ctrlr->cap.bits.to * 500u : ctrlr->opts.admin_timeout_ms;
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_ENABLE_WAIT_FOR_READY_1, timeout_ms);
}

static void
nvme_ctrlr_get_csts_ready_1_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_ctrlr *ctrlr = arg;

	if (spdk_nvme_cpl_is_error(cpl)) {
		nvme_ctrlr_init_error(ctrlr, "Property Get CSTS", cpl);
		return;
	}
	ctrlr->csts.raw = cpl->cdw0;
	if (ctrlr->csts.bits.cfs) {
		nvme_ctrlr_init_error(ctrlr, "Controller fatal status (CSTS.CFS) while enabling", NULL);
		return;
	}
	if (ctrlr->csts.bits.rdy) {
		SPDK_DEBUGLOG(nvme, "CC.EN = 1 && CSTS.RDY = 1 - controller is ready\n");
		nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_IDENTIFY, ctrlr->opts.admin_timeout_ms);
		return;
	}
	/* Not ready yet: read CSTS again, within the deadline set on enabling. */
	ctrlr->state = NVME_CTRLR_STATE_ENABLE_WAIT_FOR_READY_1;
}

static void
nvme_ctrlr_identify_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_ctrlr *ctrlr = arg;
	uint32_t page_size;

	if (spdk_nvme_cpl_is_error(cpl)) {
		nvme_ctrlr_init_error(ctrlr, "Identify Controller", cpl);
		return;
	}
	memcpy(&ctrlr->cdata, ctrlr->identify_buf, sizeof(ctrlr->cdata));
	page_size = 4096u << ctrlr->cap.bits.mpsmin;
	ctrlr->max_xfer_size = ctrlr->cdata.mdts ? page_size << ctrlr->cdata.mdts : UINT32_MAX;
	/* IOCCSZ counts the 64-byte SQE too, in 16-byte units. */
	ctrlr->ioccsz_bytes = ctrlr->cdata.nvmf_specific.ioccsz * 16 > sizeof(struct spdk_nvme_cmd) ?
			      ctrlr->cdata.nvmf_specific.ioccsz * 16 - sizeof(struct spdk_nvme_cmd) : 0;
	SPDK_WASM_TRACE("nvme_ctrlr_identify_done", ctrlr, ctrlr->cdata.cntlid, ctrlr->max_xfer_size,
			ctrlr->ioccsz_bytes);
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_SET_KEEP_ALIVE_TIMEOUT,
			     ctrlr->opts.admin_timeout_ms);
}

static void
nvme_ctrlr_start_keep_alive(struct spdk_nvme_ctrlr *ctrlr)
{
	/* Half the timeout leaves the controller a whole period of slack. */
	ctrlr->keep_alive_interval_ticks = (uint64_t)ctrlr->kato_ms * spdk_get_ticks_hz() / 1000 / 2;
	ctrlr->next_keep_alive_tick = spdk_get_ticks();
}

static void
nvme_ctrlr_set_keep_alive_timeout_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_ctrlr *ctrlr = arg;

	if (spdk_nvme_cpl_is_error(cpl)) {
		SPDK_WARNLOG("Keep alive timeout Get Feature failed: SC %x SCT %x\n", cpl->status.sc,
			     cpl->status.sct);
		ctrlr->kato_ms = ctrlr->opts.keep_alive_timeout_ms;
	} else {
		if (cpl->cdw0 != ctrlr->opts.keep_alive_timeout_ms) {
			SPDK_DEBUGLOG(nvme, "Controller adjusted keep alive timeout to %u ms\n", cpl->cdw0);
		}
		ctrlr->kato_ms = cpl->cdw0;
	}
	if (ctrlr->kato_ms != 0) {
		nvme_ctrlr_start_keep_alive(ctrlr);
	}
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_IDENTIFY_ACTIVE_NS,
			     ctrlr->opts.admin_timeout_ms);
}

static void
nvme_ctrlr_identify_active_ns_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_ctrlr *ctrlr = arg;
	const uint32_t *list = ctrlr->identify_buf;
	uint32_t i;

	if (spdk_nvme_cpl_is_error(cpl)) {
		nvme_ctrlr_init_error(ctrlr, "Identify active NS list", cpl);
		return;
	}
	ctrlr->num_active_ns = 0;
	for (i = 0; i < 1024 && list[i] != 0 && ctrlr->num_active_ns < NVME_MAX_NS; i++) {
		if (list[i] <= NVME_MAX_NS) {
			ctrlr->active_ns_list[ctrlr->num_active_ns++] = list[i];
		}
	}
	ctrlr->identify_ns_idx = 0;
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_IDENTIFY_NS, ctrlr->opts.admin_timeout_ms);
}

static void
nvme_ctrlr_identify_ns_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_ctrlr *ctrlr = arg;
	uint32_t nsid = ctrlr->active_ns_list[ctrlr->identify_ns_idx];
	struct spdk_nvme_ns *ns = &ctrlr->ns[nsid - 1];
	struct spdk_nvme_ns_data *nsdata = &ns->nsdata;

	if (spdk_nvme_cpl_is_error(cpl)) {
		nvme_ctrlr_init_error(ctrlr, "Identify Namespace", cpl);
		return;
	}
	memcpy(nsdata, ctrlr->identify_buf, sizeof(*nsdata));
	ns->ctrlr = ctrlr;
	ns->id = nsid;
	ns->active = nsdata->nsze != 0;
	ns->sector_size = 1u << nsdata->lbaf[nsdata->flbas & 0xf].lbads;
	ns->num_sectors = nsdata->nsze;
	SPDK_WASM_TRACE("nvme_ctrlr_identify_ns_done", ctrlr, nsid, ns->sector_size,
			(uint32_t)ns->num_sectors);
	ctrlr->identify_ns_idx++;
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_IDENTIFY_NS, ctrlr->opts.admin_timeout_ms);
}

static int
nvme_ctrlr_cmd_identify(struct spdk_nvme_ctrlr *ctrlr, uint8_t cns, uint32_t nsid,
			spdk_nvme_cmd_cb cb_fn)
{
	struct spdk_nvme_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = SPDK_NVME_OPC_IDENTIFY;
	cmd.nsid = nsid;
	cmd.cdw10 = cns;
	memset(ctrlr->identify_buf, 0, 4096);
	return spdk_nvme_ctrlr_cmd_admin_raw(ctrlr, &cmd, ctrlr->identify_buf, 4096, cb_fn, ctrlr);
}

/* -EAGAIN while initializing, 0 when READY, negative errno once it failed. */
static int
nvme_ctrlr_process_init(struct spdk_nvme_ctrlr *ctrlr)
{
	enum nvme_ctrlr_state prev;
	struct spdk_nvme_cmd cmd;
	int rc = 0;

	if (ctrlr->state == NVME_CTRLR_STATE_READY) {
		return 0;
	}
	if (ctrlr->state == NVME_CTRLR_STATE_ERROR) {
		return -EIO;
	}
	if (ctrlr->state_timeout_tsc != 0 && spdk_get_ticks() > ctrlr->state_timeout_tsc) {
		SPDK_ERRLOG("Initialization timed out in state %d (%s)\n", ctrlr->state,
			    nvme_ctrlr_state_names[ctrlr->state]);
		nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_ERROR, NVME_TIMEOUT_INFINITE);
		ctrlr->init_errors++;
		return -ETIMEDOUT;
	}
	if (ctrlr->state != NVME_CTRLR_STATE_CONNECT_ADMINQ &&
	    ctrlr->state != NVME_CTRLR_STATE_DISCONNECTED) {
		rc = spdk_nvme_qpair_process_completions(ctrlr->adminq, 0);
		if (rc < 0) {
			nvme_ctrlr_init_error(ctrlr, "Admin queue", NULL);
			return -ENXIO;
		}
	}
	do {
		prev = ctrlr->state;
		switch (ctrlr->state) {
		case NVME_CTRLR_STATE_DISCONNECTED:
			return -ENXIO;
		case NVME_CTRLR_STATE_CONNECT_ADMINQ:
			rc = nvme_tcp_ctrlr_connect_qpair(ctrlr, ctrlr->adminq);
			if (rc != 0) {
				nvme_ctrlr_init_error(ctrlr, "Connecting the admin queue", NULL);
				return rc;
			}
			nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_WAIT_FOR_CONNECT_ADMINQ,
					     ctrlr->opts.admin_timeout_ms);
			break;
		case NVME_CTRLR_STATE_WAIT_FOR_CONNECT_ADMINQ:
			if (ctrlr->adminq->state == NVME_QPAIR_ENABLED) {
				nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_READ_VS,
						     ctrlr->opts.admin_timeout_ms);
			} else if (ctrlr->adminq->state == NVME_QPAIR_DISCONNECTED) {
				nvme_ctrlr_init_error(ctrlr, "Admin queue connect", NULL);
			}
			break;
		case NVME_CTRLR_STATE_READ_VS:
			nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_READ_VS_WAIT_FOR_VS,
					     ctrlr->opts.admin_timeout_ms);
			rc = nvme_fabric_ctrlr_get_reg_4_async(ctrlr, NVME_REG_VS, nvme_ctrlr_get_vs_done,
							       ctrlr);
			break;
		case NVME_CTRLR_STATE_READ_CAP:
			nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_READ_CAP_WAIT_FOR_CAP,
					     ctrlr->opts.admin_timeout_ms);
			rc = nvme_fabric_ctrlr_get_reg_8_async(ctrlr, NVME_REG_CAP, nvme_ctrlr_get_cap_done,
							       ctrlr);
			break;
		case NVME_CTRLR_STATE_CHECK_EN:
			nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_CHECK_EN_WAIT_FOR_CC,
					     ctrlr->opts.admin_timeout_ms);
			rc = nvme_fabric_ctrlr_get_reg_4_async(ctrlr, NVME_REG_CC, nvme_ctrlr_get_cc_done,
							       ctrlr);
			break;
		case NVME_CTRLR_STATE_SET_EN_0:
			ctrlr->cc.bits.en = 0;
			nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_SET_EN_0_WAIT_FOR_CC,
					     ctrlr->opts.admin_timeout_ms);
			rc = nvme_fabric_ctrlr_set_reg_4_async(ctrlr, NVME_REG_CC, ctrlr->cc.raw,
							       nvme_ctrlr_set_en_0_done, ctrlr);
			break;
		case NVME_CTRLR_STATE_DISABLE_WAIT_FOR_READY_0:
			ctrlr->state = NVME_CTRLR_STATE_DISABLE_WAIT_FOR_READY_0_WAIT_FOR_CSTS;
			rc = nvme_fabric_ctrlr_get_reg_4_async(ctrlr, NVME_REG_CSTS,
							       nvme_ctrlr_get_csts_ready_0_done, ctrlr);
			break;
		case NVME_CTRLR_STATE_ENABLE:
			ctrlr->cc.raw = 0;
			ctrlr->cc.bits.en = 1;
			ctrlr->cc.bits.css = 0;
			ctrlr->cc.bits.shn = 0;
			ctrlr->cc.bits.iosqes = 6;	/* 64-byte submission entries */
			ctrlr->cc.bits.iocqes = 4;	/* 16-byte completion entries */
			nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_ENABLE_WAIT_FOR_CC,
					     ctrlr->opts.admin_timeout_ms);
			SPDK_WASM_TRACE("nvme_ctrlr_enable", ctrlr, ctrlr->cc.raw, 0, 0);
			rc = nvme_fabric_ctrlr_set_reg_4_async(ctrlr, NVME_REG_CC, ctrlr->cc.raw,
							       nvme_ctrlr_enable_done, ctrlr);
			break;
		case NVME_CTRLR_STATE_ENABLE_WAIT_FOR_READY_1:
			ctrlr->state = NVME_CTRLR_STATE_ENABLE_WAIT_FOR_READY_1_WAIT_FOR_CSTS;
			rc = nvme_fabric_ctrlr_get_reg_4_async(ctrlr, NVME_REG_CSTS,
							       nvme_ctrlr_get_csts_ready_1_done, ctrlr);
			break;
		case NVME_CTRLR_STATE_IDENTIFY:
			nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_WAIT_FOR_IDENTIFY,
					     ctrlr->opts.admin_timeout_ms);
			rc = nvme_ctrlr_cmd_identify(ctrlr, SPDK_NVME_IDENTIFY_CTRLR, 0,
						     nvme_ctrlr_identify_done);
			break;
		case NVME_CTRLR_STATE_SET_KEEP_ALIVE_TIMEOUT:
			if (ctrlr->opts.keep_alive_timeout_ms == 0 || ctrlr->cdata.kas == 0) {
				ctrlr->kato_ms = 0;
				nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_IDENTIFY_ACTIVE_NS,
						     ctrlr->opts.admin_timeout_ms);
				break;
			}
			nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_WAIT_FOR_KEEP_ALIVE_TIMEOUT,
					     ctrlr->opts.admin_timeout_ms);
			/* The controller rounds KATO; Get Features tells what it chose. */
			memset(&cmd, 0, sizeof(cmd));
			cmd.opc = SPDK_NVME_OPC_GET_FEATURES;
			cmd.cdw10 = SPDK_NVME_FEAT_KEEP_ALIVE_TIMER;
			rc = spdk_nvme_ctrlr_cmd_admin_raw(ctrlr, &cmd, NULL, 0,
							   nvme_ctrlr_set_keep_alive_timeout_done, ctrlr);
			break;
		case NVME_CTRLR_STATE_IDENTIFY_ACTIVE_NS:
			nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_WAIT_FOR_IDENTIFY_ACTIVE_NS,
					     ctrlr->opts.admin_timeout_ms);
			rc = nvme_ctrlr_cmd_identify(ctrlr, SPDK_NVME_IDENTIFY_ACTIVE_NS_LIST, 0,
						     nvme_ctrlr_identify_active_ns_done);
			break;
		case NVME_CTRLR_STATE_IDENTIFY_NS:
			if (ctrlr->identify_ns_idx >= ctrlr->num_active_ns) {
				SPDK_WASM_TRACE("nvme_ctrlr_ready", ctrlr, ctrlr->cntlid, ctrlr->num_active_ns,
						ctrlr->kato_ms);
				nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_READY, NVME_TIMEOUT_INFINITE);
				break;
			}
			nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_WAIT_FOR_IDENTIFY_NS,
					     ctrlr->opts.admin_timeout_ms);
			rc = nvme_ctrlr_cmd_identify(ctrlr, SPDK_NVME_IDENTIFY_NS,
						     ctrlr->active_ns_list[ctrlr->identify_ns_idx],
						     nvme_ctrlr_identify_ns_done);
			break;
		case NVME_CTRLR_STATE_READY:
			return 0;
		case NVME_CTRLR_STATE_ERROR:
			return -EIO;
		default:
			/* The WAIT_FOR states: an answer moves them on. */
			break;
		}
		if (rc < 0) {
			nvme_ctrlr_init_error(ctrlr, "Submitting an admin command", NULL);
			return rc;
		}
	} while (ctrlr->state != prev);
	return ctrlr->state == NVME_CTRLR_STATE_READY ? 0 : -EAGAIN;
}

/* ---- construction, probe, detach ---- */

static struct spdk_nvme_ctrlr *
nvme_ctrlr_construct(const struct spdk_nvme_transport_id *trid,
		     const struct spdk_nvme_ctrlr_opts *opts)
{
	struct spdk_nvme_ctrlr *ctrlr = calloc(1, sizeof(*ctrlr));
	uint32_t i, num_io;

	if (ctrlr == NULL) {
		return NULL;
	}
	ctrlr->trid = *trid;
	ctrlr->opts = *opts;
	if (ctrlr->opts.admin_queue_size < 2) {
		ctrlr->opts.admin_queue_size = NVME_ADMIN_ENTRIES;
	}
	TAILQ_INIT(&ctrlr->active_io_qpairs);
	num_io = spdk_min(spdk_max(opts->num_io_queues, 1u), 63u);
	for (i = 1; i <= num_io; i++) {
		ctrlr->free_io_qids |= 1ull << i;
	}
	ctrlr->identify_buf = calloc(1, 4096);
	ctrlr->adminq = nvme_tcp_ctrlr_create_qpair(ctrlr, 0, ctrlr->opts.admin_queue_size,
			ctrlr->opts.admin_queue_size);
	if (ctrlr->identify_buf == NULL || ctrlr->adminq == NULL) {
		free(ctrlr->identify_buf);
		free(ctrlr);
		return NULL;
	}
	ctrlr->state = NVME_CTRLR_STATE_CONNECT_ADMINQ;
	return ctrlr;
}

static void
nvme_ctrlr_destruct(struct spdk_nvme_ctrlr *ctrlr)
{
	struct spdk_nvme_qpair *qpair, *tmp;

	ctrlr->is_destructed = true;
	TAILQ_FOREACH_SAFE(qpair, &ctrlr->active_io_qpairs, tailq, tmp) {
		spdk_nvme_ctrlr_free_io_qpair(qpair);
	}
	nvme_ctrlr_disconnect_qpair(ctrlr->adminq);
	nvme_tcp_ctrlr_delete_io_qpair(ctrlr, ctrlr->adminq);
	free(ctrlr->identify_buf);
	free(ctrlr);
}

struct spdk_nvme_probe_ctx *
spdk_nvme_connect_async(const struct spdk_nvme_transport_id *trid,
			const struct spdk_nvme_ctrlr_opts *opts, spdk_nvme_attach_cb attach_cb,
			void *cb_ctx)
{
	struct spdk_nvme_ctrlr_opts default_opts;
	struct spdk_nvme_probe_ctx *probe_ctx;

	if (trid == NULL) {
		return NULL;
	}
	if (opts == NULL) {
		spdk_nvme_ctrlr_get_default_ctrlr_opts(&default_opts, sizeof(default_opts));
		opts = &default_opts;
	}
	probe_ctx = calloc(1, sizeof(*probe_ctx));
	if (probe_ctx == NULL) {
		return NULL;
	}
	probe_ctx->ctrlr = nvme_ctrlr_construct(trid, opts);
	if (probe_ctx->ctrlr == NULL) {
		free(probe_ctx);
		return NULL;
	}
	probe_ctx->attach_cb = attach_cb;
	probe_ctx->cb_ctx = cb_ctx;
	SPDK_WASM_TRACE("spdk_nvme_connect_async", probe_ctx->ctrlr, opts->header_digest,
			opts->data_digest, opts->keep_alive_timeout_ms);
	return probe_ctx;
}

struct spdk_nvme_ctrlr *
spdk_nvme_probe_ctx_get_ctrlr(struct spdk_nvme_probe_ctx *probe_ctx)
{
	return probe_ctx->ctrlr;
}

int
spdk_nvme_probe_poll_async(struct spdk_nvme_probe_ctx *probe_ctx)
{
	struct spdk_nvme_ctrlr *ctrlr = probe_ctx->ctrlr;
	int rc;

	rc = nvme_ctrlr_process_init(ctrlr);
	if (rc == -EAGAIN) {
		return -EAGAIN;
	}
	if (rc == 0) {
		if (probe_ctx->attach_cb != NULL) {
			probe_ctx->attach_cb(probe_ctx->cb_ctx, &ctrlr->trid, ctrlr, &ctrlr->opts);
		}
	} else {
		SPDK_ERRLOG("Failed to attach to %s:%s (%s): %d\n", ctrlr->trid.traddr,
			    ctrlr->trid.trsvcid, ctrlr->trid.subnqn, rc);
		nvme_ctrlr_destruct(ctrlr);
	}
	free(probe_ctx);
	return rc;
}

int
spdk_nvme_detach(struct spdk_nvme_ctrlr *ctrlr)
{
	nvme_ctrlr_destruct(ctrlr);
	return 0;
}

/* ---- admin commands, keep alive ---- */

int
spdk_nvme_ctrlr_cmd_admin_raw(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_cmd *cmd, void *buf,
			      uint32_t len, spdk_nvme_cmd_cb cb_fn, void *cb_arg)
{
	struct nvme_request *req;

	req = nvme_allocate_request_contig(ctrlr->adminq, buf, len, cb_fn, cb_arg);
	if (req == NULL) {
		return -ENOMEM;
	}
	req->cmd = *cmd;
	return nvme_qpair_submit_request(ctrlr->adminq, req);
}

static void
nvme_keep_alive_completion(void *cb_ctx, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_ctrlr *ctrlr = cb_ctx;

	if (spdk_nvme_cpl_is_error(cpl)) {
		ctrlr->keep_alives_failed++;
		SPDK_ERRLOG("Keep alive failed: sct %u sc 0x%x\n", cpl->status.sct, cpl->status.sc);
	}
}

/* Sends a Keep Alive when one is due (every KATO/2). */
static void
nvme_ctrlr_keep_alive(struct spdk_nvme_ctrlr *ctrlr)
{
	struct spdk_nvme_cmd cmd;
	uint64_t now = spdk_get_ticks();
	int rc;

	if (ctrlr->keep_alive_interval_ticks == 0 || now < ctrlr->next_keep_alive_tick) {
		return;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = SPDK_NVME_OPC_KEEP_ALIVE;
	rc = spdk_nvme_ctrlr_cmd_admin_raw(ctrlr, &cmd, NULL, 0, nvme_keep_alive_completion, ctrlr);
	if (rc != 0) {
		SPDK_ERRLOG("Submitting Keep Alive failed\n");
		ctrlr->keep_alives_failed++;
	} else {
		ctrlr->keep_alives_sent++;
		SPDK_WASM_TRACE("nvme_ctrlr_keep_alive", ctrlr, ctrlr->cntlid, ctrlr->keep_alives_sent, 0);
	}
	ctrlr->next_keep_alive_tick = now + ctrlr->keep_alive_interval_ticks;
}

/* Tick of the next Keep Alive (0 when keep alive is off). */
uint64_t nvme_ctrlr_get_next_keep_alive_tick(struct spdk_nvme_ctrlr *ctrlr);

uint64_t
nvme_ctrlr_get_next_keep_alive_tick(struct spdk_nvme_ctrlr *ctrlr)
{
	return ctrlr->keep_alive_interval_ticks ? ctrlr->next_keep_alive_tick : 0;
}

int32_t
spdk_nvme_ctrlr_process_admin_completions(struct spdk_nvme_ctrlr *ctrlr)
{
	int32_t rc;

	if (ctrlr->is_failed || ctrlr->state != NVME_CTRLR_STATE_READY) {
		return -ENXIO;
	}
	nvme_ctrlr_keep_alive(ctrlr);
	rc = spdk_nvme_qpair_process_completions(ctrlr->adminq, 0);
	if (rc < 0) {
		spdk_nvme_ctrlr_fail(ctrlr);
	}
	return rc;
}

const struct spdk_nvme_ctrlr_data *
spdk_nvme_ctrlr_get_data(struct spdk_nvme_ctrlr *ctrlr)
{
	return &ctrlr->cdata;
}

uint32_t
spdk_nvme_ctrlr_get_num_ns(struct spdk_nvme_ctrlr *ctrlr)
{
	return ctrlr->cdata.nn;
}

struct spdk_nvme_ns *
spdk_nvme_ctrlr_get_ns(struct spdk_nvme_ctrlr *ctrlr, uint32_t nsid)
{
	if (nsid == 0 || nsid > NVME_MAX_NS || !ctrlr->ns[nsid - 1].active) {
		return NULL;
	}
	return &ctrlr->ns[nsid - 1];
}

uint32_t
spdk_nvme_ctrlr_get_max_xfer_size(const struct spdk_nvme_ctrlr *ctrlr)
{
	return ctrlr->max_xfer_size;
}

union spdk_nvme_csts_register
spdk_nvme_ctrlr_get_regs_csts(struct spdk_nvme_ctrlr *ctrlr)
{
	return ctrlr->csts;
}

/* ---- reset: disconnect, then reconnect ---- */

int
spdk_nvme_ctrlr_disconnect(struct spdk_nvme_ctrlr *ctrlr)
{
	struct spdk_nvme_qpair *qpair;

	if (ctrlr->is_resetting) {
		return -EBUSY;
	}
	ctrlr->is_resetting = true;
	ctrlr->resets++;
	SPDK_NOTICELOG("resetting controller %s:%s (%s)\n", ctrlr->trid.traddr, ctrlr->trid.trsvcid,
		       ctrlr->trid.subnqn);
	TAILQ_FOREACH(qpair, &ctrlr->active_io_qpairs, tailq) {
		nvme_ctrlr_disconnect_qpair(qpair);
	}
	nvme_ctrlr_disconnect_qpair(ctrlr->adminq);
	ctrlr->keep_alive_interval_ticks = 0;
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_DISCONNECTED, NVME_TIMEOUT_INFINITE);
	return 0;
}

void
spdk_nvme_ctrlr_reconnect_async(struct spdk_nvme_ctrlr *ctrlr)
{
	if (ctrlr->adminq->state != NVME_QPAIR_DISCONNECTED) {
		nvme_ctrlr_disconnect_qpair(ctrlr->adminq);
	}
	ctrlr->is_failed = false;
	ctrlr->cntlid = 0;
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_CONNECT_ADMINQ, NVME_TIMEOUT_INFINITE);
}

int
spdk_nvme_ctrlr_reconnect_poll_async(struct spdk_nvme_ctrlr *ctrlr)
{
	int rc = nvme_ctrlr_process_init(ctrlr);

	if (rc == -EAGAIN) {
		return rc;
	}
	if (rc == 0) {
		ctrlr->is_resetting = false;
		SPDK_NOTICELOG("controller %s:%s reconnected (cntlid 0x%x)\n", ctrlr->trid.traddr,
			       ctrlr->trid.trsvcid, ctrlr->cntlid);
		return 0;
	}
	/* This attempt failed: leave the admin queue closed for the next one. */
	nvme_ctrlr_disconnect_qpair(ctrlr->adminq);
	ctrlr->is_failed = true;
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_DISCONNECTED, NVME_TIMEOUT_INFINITE);
	return rc;
}

/* ---- I/O qpairs ---- */

void
spdk_nvme_ctrlr_get_default_io_qpair_opts(struct spdk_nvme_ctrlr *ctrlr,
		struct spdk_nvme_io_qpair_opts *opts, size_t opts_size)
{
	memset(opts, 0, opts_size);
	opts->io_queue_size = NVME_IO_ENTRIES;
	if (ctrlr != NULL && ctrlr->cdata.maxcmd != 0) {
		opts->io_queue_size = spdk_min(opts->io_queue_size, ctrlr->cdata.maxcmd);
	}
	opts->io_queue_requests = opts->io_queue_size * 2;
}

struct spdk_nvme_qpair *
spdk_nvme_ctrlr_alloc_io_qpair(struct spdk_nvme_ctrlr *ctrlr,
			       const struct spdk_nvme_io_qpair_opts *user_opts, size_t opts_size)
{
	struct spdk_nvme_io_qpair_opts opts;
	struct spdk_nvme_qpair *qpair;
	uint16_t qid;

	if (ctrlr->state != NVME_CTRLR_STATE_READY || ctrlr->is_failed) {
		SPDK_ERRLOG("Controller is not ready for I/O qpairs\n");
		return NULL;
	}
	spdk_nvme_ctrlr_get_default_io_qpair_opts(ctrlr, &opts, sizeof(opts));
	if (user_opts != NULL) {
		memcpy(&opts, user_opts, spdk_min(opts_size, sizeof(opts)));
	}
	if (ctrlr->free_io_qids == 0) {
		SPDK_ERRLOG("No free I/O queue IDs\n");
		return NULL;
	}
	qid = (uint16_t)__builtin_ctzll(ctrlr->free_io_qids);
	qpair = nvme_tcp_ctrlr_create_qpair(ctrlr, qid, opts.io_queue_size,
					    spdk_max(opts.io_queue_requests, opts.io_queue_size));
	if (qpair == NULL) {
		SPDK_ERRLOG("nvme_transport_ctrlr_create_io_qpair() failed\n");
		return NULL;
	}
	ctrlr->free_io_qids &= ~(1ull << qid);
	TAILQ_INSERT_TAIL(&ctrlr->active_io_qpairs, qpair, tailq);
	if (opts.create_only) {
		return qpair;
	}
	if (nvme_transport_ctrlr_connect_qpair(ctrlr, qpair) != 0) {
		/* Stays allocated and DISCONNECTED: a reconnect may bring it back. */
		SPDK_ERRLOG("Failed to connect I/O qpair %u\n", qid);
		qpair->transport_failure_reason = SPDK_NVME_QPAIR_FAILURE_LOCAL;
	}
	return qpair;
}

int
spdk_nvme_ctrlr_reconnect_io_qpair(struct spdk_nvme_qpair *qpair)
{
	struct spdk_nvme_ctrlr *ctrlr = qpair->ctrlr;

	if (ctrlr->state != NVME_CTRLR_STATE_READY || ctrlr->is_failed) {
		return -EAGAIN;
	}
	if (qpair->state != NVME_QPAIR_DISCONNECTED) {
		return -EISCONN;
	}
	return nvme_transport_ctrlr_connect_qpair(ctrlr, qpair);
}

int
spdk_nvme_ctrlr_connect_io_qpair(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_qpair *qpair)
{
	if (ctrlr != qpair->ctrlr || ctrlr->state != NVME_CTRLR_STATE_READY || ctrlr->is_failed) {
		return -EINVAL;
	}
	if (qpair->state != NVME_QPAIR_DISCONNECTED) {
		return -EISCONN;
	}
	return nvme_transport_ctrlr_connect_qpair(ctrlr, qpair);
}

void
spdk_nvme_ctrlr_disconnect_io_qpair(struct spdk_nvme_qpair *qpair)
{
	nvme_ctrlr_disconnect_qpair(qpair);
}

int
spdk_nvme_ctrlr_free_io_qpair(struct spdk_nvme_qpair *qpair)
{
	struct spdk_nvme_ctrlr *ctrlr;

	if (qpair == NULL) {
		return 0;
	}
	ctrlr = qpair->ctrlr;
	nvme_ctrlr_disconnect_qpair(qpair);
	if (qpair->poll_group != NULL) {
		spdk_nvme_poll_group_remove(qpair->poll_group->group, qpair);
	}
	nvme_qpair_set_state(qpair, NVME_QPAIR_DESTROYING);
	TAILQ_REMOVE(&ctrlr->active_io_qpairs, qpair, tailq);
	ctrlr->free_io_qids |= 1ull << qpair->id;
	return nvme_tcp_ctrlr_delete_io_qpair(ctrlr, qpair);
}

/* ---- namespaces and NVM commands ---- */

uint32_t
spdk_nvme_ns_get_id(struct spdk_nvme_ns *ns)
{
	return ns->id;
}

bool
spdk_nvme_ns_is_active(struct spdk_nvme_ns *ns)
{
	return ns->active;
}

uint32_t
spdk_nvme_ns_get_sector_size(struct spdk_nvme_ns *ns)
{
	return ns->sector_size;
}

uint64_t
spdk_nvme_ns_get_num_sectors(struct spdk_nvme_ns *ns)
{
	return ns->num_sectors;
}

const struct spdk_nvme_ns_data *
spdk_nvme_ns_get_data(struct spdk_nvme_ns *ns)
{
	return &ns->nsdata;
}

static int
nvme_ns_cmd_rw(struct spdk_nvme_ns *ns, struct spdk_nvme_qpair *qpair, void *payload,
	       uint64_t lba, uint32_t lba_count, spdk_nvme_cmd_cb cb_fn, void *cb_arg,
	       uint8_t opc, uint32_t io_flags)
{
	struct nvme_request *req;
	uint64_t len = (uint64_t)lba_count * ns->sector_size;

	if (lba_count == 0 || lba_count > 65536 || lba + lba_count > ns->num_sectors) {
		return -EINVAL;
	}
	/* Upstream splits larger I/O into children; callers here stay within the limit. */
	if (len > ns->ctrlr->max_xfer_size) {
		SPDK_ERRLOG("I/O of %" PRIu64 " bytes exceeds the maximum transfer size %u\n", len,
			    ns->ctrlr->max_xfer_size);
		return -EINVAL;
	}
	req = nvme_allocate_request_contig(qpair, payload, (uint32_t)len, cb_fn, cb_arg);
	if (req == NULL) {
		return -ENOMEM;
	}
	req->cmd.opc = opc;
	req->cmd.nsid = ns->id;
	req->cmd.cdw10 = (uint32_t)lba;
	req->cmd.cdw11 = (uint32_t)(lba >> 32);
	req->cmd.cdw12 = (lba_count - 1) | (io_flags & 0xffff0000u);
	return nvme_qpair_submit_request(qpair, req);
}

int
spdk_nvme_ns_cmd_read(struct spdk_nvme_ns *ns, struct spdk_nvme_qpair *qpair, void *payload,
		      uint64_t lba, uint32_t lba_count, spdk_nvme_cmd_cb cb_fn, void *cb_arg,
		      uint32_t io_flags)
{
	return nvme_ns_cmd_rw(ns, qpair, payload, lba, lba_count, cb_fn, cb_arg,
			      SPDK_NVME_OPC_READ, io_flags);
}

int
spdk_nvme_ns_cmd_write(struct spdk_nvme_ns *ns, struct spdk_nvme_qpair *qpair, void *payload,
		       uint64_t lba, uint32_t lba_count, spdk_nvme_cmd_cb cb_fn, void *cb_arg,
		       uint32_t io_flags)
{
	return nvme_ns_cmd_rw(ns, qpair, payload, lba, lba_count, cb_fn, cb_arg,
			      SPDK_NVME_OPC_WRITE, io_flags);
}

int
spdk_nvme_ns_cmd_flush(struct spdk_nvme_ns *ns, struct spdk_nvme_qpair *qpair,
		       spdk_nvme_cmd_cb cb_fn, void *cb_arg)
{
	struct nvme_request *req;

	req = nvme_allocate_request_contig(qpair, NULL, 0, cb_fn, cb_arg);
	if (req == NULL) {
		return -ENOMEM;
	}
	req->cmd.opc = SPDK_NVME_OPC_FLUSH;
	req->cmd.nsid = ns->id;
	return nvme_qpair_submit_request(qpair, req);
}
