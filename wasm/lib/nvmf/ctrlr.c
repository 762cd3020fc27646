/* lib/nvmf/ctrlr.c: request execution and completion (qpair->outstanding, zcopy phases),
 * Fabrics Connect / Property Get / Property Set, the admin commands (Identify, Get/Set
 * Features, Keep Alive), I/O dispatch to ctrlr_bdev.c, and the keep-alive timer whose expiry
 * sets CSTS.CFS and disconnects every qpair of the controller. */
#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/likely.h"
#include "spdk/log.h"
#include "spdk/nvmf.h"
#include "spdk/thread.h"
#include "spdk/util.h"
#include "spdk_internal/trace_host.h"
#include "nvmf_internal.h"

#define MODEL_NUMBER_DEFAULT	"SPDK bdev Controller"
#define FW_VERSION		"25.01"

/* ---- request lifetime ---- */

enum spdk_nvme_data_transfer
spdk_nvmf_req_get_xfer(struct spdk_nvmf_request *req)
{
	struct spdk_nvme_cmd *cmd = &req->cmd->nvme_cmd;
	enum spdk_nvme_data_transfer xfer;

	if (cmd->opc == SPDK_NVME_OPC_FABRIC) {
		xfer = spdk_nvme_opc_get_data_transfer(req->cmd->nvmf_cmd.fctype);
	} else {
		xfer = spdk_nvme_opc_get_data_transfer(cmd->opc);
	}
	if (xfer == SPDK_NVME_DATA_NONE) {
		return xfer;
	}
	/* Some commands carry a direction but no data. */
	if (cmd->dptr.sgl1.unkeyed.length == 0 &&
	    cmd->dptr.sgl1.generic.type != SPDK_NVME_SGL_TYPE_KEYED_DATA_BLOCK) {
		return SPDK_NVME_DATA_NONE;
	}
	return xfer;
}

bool
spdk_nvmf_request_using_zcopy(const struct spdk_nvmf_request *req)
{
	return req->zcopy_phase != NVMF_ZCOPY_PHASE_NONE;
}

static void
_nvmf_request_complete(void *ctx)
{
	struct spdk_nvmf_request *req = ctx;
	struct spdk_nvme_cpl *rsp = &req->rsp->nvme_cpl;
	struct spdk_nvmf_qpair *qpair = req->qpair;

	rsp->sqid = 0;
	rsp->status.p = 0;
	rsp->cid = req->cmd->nvme_cmd.cid;

	switch (req->zcopy_phase) {
	case NVMF_ZCOPY_PHASE_NONE:
		TAILQ_REMOVE(&qpair->outstanding, req, link);
		break;
	case NVMF_ZCOPY_PHASE_INIT:
		if (spdk_unlikely(spdk_nvme_cpl_is_error(rsp))) {
			req->zcopy_phase = NVMF_ZCOPY_PHASE_INIT_FAILED;
			TAILQ_REMOVE(&qpair->outstanding, req, link);
		} else {
			/* Stays outstanding until its zcopy_end completes. */
			req->zcopy_phase = NVMF_ZCOPY_PHASE_EXECUTE;
		}
		break;
	case NVMF_ZCOPY_PHASE_EXECUTE:
		break;
	case NVMF_ZCOPY_PHASE_END_PENDING:
		TAILQ_REMOVE(&qpair->outstanding, req, link);
		req->zcopy_phase = NVMF_ZCOPY_PHASE_COMPLETE;
		break;
	default:
		SPDK_ERRLOG("Invalid ZCOPY phase %u\n", req->zcopy_phase);
		break;
	}
	if (nvmf_transport_req_complete(req) != 0) {
		SPDK_ERRLOG("Transport request completion error!\n");
	}
	nvmf_qpair_request_cleanup(qpair);
}

int
spdk_nvmf_request_complete(struct spdk_nvmf_request *req)
{
	/* One thread: the qpair's group thread is this one. */
	_nvmf_request_complete(req);
	return 0;
}

int
spdk_nvmf_request_free(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_qpair *qpair = req->qpair;

	TAILQ_REMOVE(&qpair->outstanding, req, link);
	if (nvmf_transport_req_free(req) != 0) {
		SPDK_ERRLOG("Unable to free transport level request resources.\n");
	}
	nvmf_qpair_request_cleanup(qpair);
	return 0;
}

static void
nvmf_qpair_disconnect_msg(void *ctx)
{
	struct spdk_nvmf_qpair *qpair = ctx;

	spdk_nvmf_qpair_disconnect(qpair);
}

/* A command other than Connect on a qpair without a controller. */
static bool
nvmf_check_qpair_active(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_qpair *qpair = req->qpair;
	struct spdk_nvme_cmd *cmd = &req->cmd->nvme_cmd;
	bool is_connect = cmd->opc == SPDK_NVME_OPC_FABRIC &&
			  req->cmd->nvmf_cmd.fctype == SPDK_NVMF_FABRIC_COMMAND_CONNECT;

	if (qpair->state == SPDK_NVMF_QPAIR_ENABLED && !is_connect) {
		return true;
	}
	if (qpair->state == SPDK_NVMF_QPAIR_CONNECTING && is_connect && !qpair->connect_received) {
		return true;
	}
	if (qpair->state == SPDK_NVMF_QPAIR_CONNECTING || is_connect) {
		SPDK_ERRLOG("Received command 0x%x on qid %u before CONNECT\n",
			    is_connect ? req->cmd->nvmf_cmd.fctype : cmd->opc, qpair->qid);
	}
	nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_COMMAND_SEQUENCE_ERROR);
	return false;
}

void
spdk_nvmf_request_exec(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_qpair *qpair = req->qpair;
	int status;

	TAILQ_INSERT_TAIL(&qpair->outstanding, req, link);
	if (spdk_unlikely(!nvmf_check_qpair_active(req))) {
		bool before_connect = qpair->state == SPDK_NVMF_QPAIR_CONNECTING;

		_nvmf_request_complete(req);
		if (before_connect) {
			/* The rule: a protocol violation closes the qpair, after the
			 * error response was handed to the transport. */
			spdk_thread_send_msg(spdk_get_thread(), nvmf_qpair_disconnect_msg, qpair);
		}
		return;
	}
	if (req->cmd->nvme_cmd.opc == SPDK_NVME_OPC_FABRIC) {
		status = nvmf_ctrlr_process_fabrics_cmd(req);
	} else if (qpair->qid == 0) {
		status = nvmf_ctrlr_process_admin_cmd(req);
	} else {
		status = nvmf_ctrlr_process_io_cmd(req);
	}
	if (status == SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE) {
		_nvmf_request_complete(req);
	}
}

/* ---- zero copy ---- */

bool
nvmf_ctrlr_use_zcopy(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_transport *transport = req->qpair->transport;
	struct spdk_nvme_cmd *cmd = &req->cmd->nvme_cmd;
	struct spdk_nvmf_ns *ns;

	if (!transport->opts.zcopy) {
		return false;
	}
	if (req->qpair->qid == 0 || req->qpair->ctrlr == NULL) {
		return false;
	}
	if (cmd->opc != SPDK_NVME_OPC_READ && cmd->opc != SPDK_NVME_OPC_WRITE) {
		return false;
	}
	if (cmd->fuse != SPDK_NVME_CMD_FUSE_NONE) {
		return false;
	}
	ns = spdk_nvmf_subsystem_get_ns(req->qpair->ctrlr->subsys, cmd->nsid);
	if (ns == NULL || !ns->zcopy) {
		return false;
	}
	req->zcopy_phase = NVMF_ZCOPY_PHASE_INIT;
	return true;
}

void
spdk_nvmf_request_zcopy_start(struct spdk_nvmf_request *req)
{
	assert(req->zcopy_phase == NVMF_ZCOPY_PHASE_INIT);
	req->iovcnt = NVMF_REQ_MAX_BUFFERS;
	spdk_nvmf_request_exec(req);
}

void
spdk_nvmf_request_zcopy_end(struct spdk_nvmf_request *req, bool commit)
{
	assert(req->zcopy_bdev_io != NULL);
	assert(req->zcopy_phase == NVMF_ZCOPY_PHASE_EXECUTE);
	req->zcopy_phase = NVMF_ZCOPY_PHASE_END_PENDING;
	nvmf_bdev_ctrlr_zcopy_end(req, commit);
}

void
nvmf_qpair_abort_pending_zcopy_reqs(struct spdk_nvmf_qpair *qpair)
{
	struct spdk_nvmf_request *req, *tmp;

	TAILQ_FOREACH_SAFE(req, &qpair->outstanding, link, tmp) {
		if (req->zcopy_phase == NVMF_ZCOPY_PHASE_EXECUTE) {
			nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_ABORTED_BY_REQUEST);
			SPDK_WASM_TRACE("nvmf_qpair_abort_pending_zcopy_reqs", qpair, req, 0, 0);
			nvmf_transport_req_free(req);
		}
	}
}

/* ---- controller lifetime ---- */

static int
nvmf_ctrlr_keep_alive_poll(void *ctx)
{
	struct spdk_nvmf_ctrlr *ctrlr = ctx;
	struct spdk_nvmf_poll_group *group;
	struct spdk_nvmf_qpair *qpair, *tmp;
	uint64_t now = spdk_get_ticks();
	uint64_t kato_ticks = (uint64_t)ctrlr->feat.keep_alive_timer * spdk_get_ticks_hz() / 1000;

	if (ctrlr->in_destruct) {
		spdk_poller_unregister(&ctrlr->keep_alive_poller);
		return SPDK_POLLER_IDLE;
	}
	if (now <= ctrlr->last_keep_alive_tick + kato_ticks) {
		return SPDK_POLLER_IDLE;
	}
	SPDK_NOTICELOG("Disconnecting host %s from subsystem %s due to keep alive timeout.\n",
		       ctrlr->hostnqn, ctrlr->subsys->subnqn);
	SPDK_WASM_TRACE("nvmf_ctrlr_keep_alive_poll", ctrlr, ctrlr->cntlid, 1, 0);
	if (ctrlr->vcprop.csts.bits.cfs == 0) {
		ctrlr->vcprop.csts.bits.cfs = 1;
		/* Upstream: spdk_for_each_channel over the poll groups. */
		TAILQ_FOREACH(group, &ctrlr->subsys->tgt->poll_groups, link) {
			TAILQ_FOREACH_SAFE(qpair, &group->qpairs, link, tmp) {
				if (qpair->ctrlr == ctrlr) {
					int rc = spdk_nvmf_qpair_disconnect(qpair);

					if (rc != 0 && rc != -EINPROGRESS) {
						SPDK_ERRLOG("Qpair disconnect failed\n");
					}
				}
			}
		}
	}
	return SPDK_POLLER_BUSY;
}

static void
nvmf_ctrlr_start_keep_alive_timer(struct spdk_nvmf_ctrlr *ctrlr)
{
	if (ctrlr->feat.keep_alive_timer == 0) {
		return;
	}
	ctrlr->last_keep_alive_tick = spdk_get_ticks();
	spdk_poller_unregister(&ctrlr->keep_alive_poller);
	ctrlr->keep_alive_poller = SPDK_POLLER_REGISTER(nvmf_ctrlr_keep_alive_poll, ctrlr,
				   (uint64_t)ctrlr->feat.keep_alive_timer * 1000);
}

static uint32_t
nvmf_ctrlr_round_kato(struct spdk_nvmf_transport *transport, uint32_t kato)
{
	uint32_t unit = NVMF_DEFAULT_KAS * 100;

	if (kato <= transport->opts.min_kato) {
		return transport->opts.min_kato;
	}
	return (kato + unit - 1) / unit * unit;
}

static struct spdk_nvmf_ctrlr *
nvmf_ctrlr_create(struct spdk_nvmf_subsystem *subsystem, struct spdk_nvmf_request *req,
		  struct spdk_nvmf_fabric_connect_cmd *connect_cmd,
		  struct spdk_nvmf_fabric_connect_data *connect_data)
{
	struct spdk_nvmf_transport *transport = req->qpair->transport;
	struct spdk_nvmf_ctrlr *ctrlr = calloc(1, sizeof(*ctrlr));

	if (ctrlr == NULL) {
		return NULL;
	}
	ctrlr->subsys = subsystem;
	ctrlr->thread = spdk_get_thread();
	memcpy(ctrlr->hostid, connect_data->hostid, sizeof(ctrlr->hostid));
	snprintf(ctrlr->hostnqn, sizeof(ctrlr->hostnqn), "%s", (const char *)connect_data->hostnqn);
	if (connect_cmd->kato == 0 && subsystem->subtype == SPDK_NVMF_SUBTYPE_DISCOVERY) {
		ctrlr->feat.keep_alive_timer = NVMF_DISC_KATO_IN_MS;
	} else if (connect_cmd->kato == 0) {
		ctrlr->feat.keep_alive_timer = 0;
	} else {
		ctrlr->feat.keep_alive_timer = nvmf_ctrlr_round_kato(transport, connect_cmd->kato);
	}
	ctrlr->feat.number_of_queues = ((uint32_t)(transport->opts.max_qpairs_per_ctrlr - 2) << 16) |
				       (transport->opts.max_qpairs_per_ctrlr - 2);
	ctrlr->vcprop.cap.bits.cqr = 1;
	ctrlr->vcprop.cap.bits.mqes = transport->opts.max_queue_depth - 1;
	ctrlr->vcprop.cap.bits.to = 1;
	ctrlr->vcprop.cap.bits.css = SPDK_NVME_CAP_CSS_NVM;
	ctrlr->vcprop.cap.bits.mpsmin = 0;
	ctrlr->vcprop.cap.bits.mpsmax = 0;
	ctrlr->vcprop.vs.raw = SPDK_NVME_VERSION(1, 3, 0);
	ctrlr->vcprop.cc.raw = 0;
	ctrlr->vcprop.csts.raw = 0;
	if (nvmf_subsystem_add_ctrlr(subsystem, ctrlr) != 0) {
		free(ctrlr);
		return NULL;
	}
	nvmf_ctrlr_start_keep_alive_timer(ctrlr);
	SPDK_WASM_TRACE("nvmf_ctrlr_create", ctrlr, ctrlr->cntlid, ctrlr->feat.keep_alive_timer, 0);
	return ctrlr;
}

void
nvmf_ctrlr_destruct(struct spdk_nvmf_ctrlr *ctrlr)
{
	SPDK_WASM_TRACE("nvmf_ctrlr_destruct", ctrlr, ctrlr->cntlid, 0, 0);
	spdk_poller_unregister(&ctrlr->keep_alive_poller);
	nvmf_subsystem_remove_ctrlr(ctrlr->subsys, ctrlr);
	ctrlr->subsys->tgt->ctrlrs_destroyed++;
	free(ctrlr);
}

static void
nvmf_ctrlr_destruct_msg(void *ctx)
{
	nvmf_ctrlr_destruct(ctx);
}

void
nvmf_ctrlr_free_from_qpair(struct spdk_nvmf_ctrlr *ctrlr, uint16_t qid)
{
	if (qid < 64) {
		ctrlr->qpair_mask &= ~(1ull << qid);
	}
	if (ctrlr->qpair_mask == 0 && !ctrlr->in_destruct) {
		ctrlr->in_destruct = true;
		spdk_thread_send_msg(ctrlr->thread, nvmf_ctrlr_destruct_msg, ctrlr);
	}
}

/* ---- Fabrics commands ---- */

static void
nvmf_connect_invalid_param(struct spdk_nvmf_request *req, bool in_data, uint16_t ipo)
{
	struct spdk_nvmf_fabric_connect_rsp *rsp = &req->rsp->connect_rsp;

	rsp->status.sct = SPDK_NVME_SCT_COMMAND_SPECIFIC;
	rsp->status.sc = SPDK_NVMF_FABRIC_SC_INVALID_PARAM;
	rsp->status_code_specific.invalid.iattr = in_data ? 1 : 0;
	rsp->status_code_specific.invalid.ipo = ipo;
}

static void
nvmf_copy_from_iov(void *dst, uint32_t len, struct iovec *iov, uint32_t iovcnt)
{
	uint8_t *d = dst;
	uint32_t i, n;

	for (i = 0; i < iovcnt && len > 0; i++) {
		n = spdk_min(len, (uint32_t)iov[i].iov_len);
		memcpy(d, iov[i].iov_base, n);
		d += n;
		len -= n;
	}
}

static int
nvmf_ctrlr_cmd_connect(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_fabric_connect_cmd *cmd = &req->cmd->connect_cmd;
	struct spdk_nvmf_fabric_connect_rsp *rsp = &req->rsp->connect_rsp;
	struct spdk_nvmf_qpair *qpair = req->qpair;
	struct spdk_nvmf_transport *transport = qpair->transport;
	struct spdk_nvmf_fabric_connect_data data;
	struct spdk_nvmf_subsystem *subsystem;
	struct spdk_nvmf_ctrlr *ctrlr;

	qpair->connect_received = true;
	if (req->length < sizeof(data)) {
		SPDK_ERRLOG("Connect command data length 0x%x too small\n", req->length);
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INVALID_FIELD);
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	nvmf_copy_from_iov(&data, sizeof(data), req->iov, req->iovcnt);
	data.subnqn[SPDK_NVME_NQN_FIELD_SIZE - 1] = '\0';
	data.hostnqn[SPDK_NVME_NQN_FIELD_SIZE - 1] = '\0';
	SPDK_WASM_TRACE("nvmf_ctrlr_cmd_connect", qpair, cmd->qid, cmd->sqsize, cmd->kato);

	if (cmd->recfmt != 0) {
		SPDK_ERRLOG("Connect command unsupported RECFMT %u\n", cmd->recfmt);
		rsp->status.sct = SPDK_NVME_SCT_COMMAND_SPECIFIC;
		rsp->status.sc = SPDK_NVMF_FABRIC_SC_INCOMPATIBLE_FORMAT;
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	subsystem = spdk_nvmf_tgt_find_subsystem(transport->tgt, (const char *)data.subnqn);
	if (subsystem == NULL) {
		SPDK_ERRLOG("Could not find subsystem '%s'\n", data.subnqn);
		nvmf_connect_invalid_param(req, true,
					   offsetof(struct spdk_nvmf_fabric_connect_data, subnqn));
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	if (!spdk_nvmf_subsystem_host_allowed(subsystem, (const char *)data.hostnqn)) {
		SPDK_ERRLOG("Subsystem '%s' does not allow host '%s'\n", subsystem->subnqn,
			    data.hostnqn);
		rsp->status.sct = SPDK_NVME_SCT_COMMAND_SPECIFIC;
		rsp->status.sc = SPDK_NVMF_FABRIC_SC_INVALID_HOST;
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	if (cmd->sqsize == 0) {
		SPDK_ERRLOG("Invalid SQSIZE = 0\n");
		nvmf_connect_invalid_param(req, false,
					   offsetof(struct spdk_nvmf_fabric_connect_cmd, sqsize));
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	if ((cmd->qid == 0 && cmd->sqsize >= transport->opts.max_aq_depth) ||
	    (cmd->qid != 0 && cmd->sqsize >= transport->opts.max_queue_depth)) {
		SPDK_ERRLOG("Invalid SQSIZE %u (max %u)\n", cmd->sqsize,
			    cmd->qid == 0 ? transport->opts.max_aq_depth : transport->opts.max_queue_depth);
		nvmf_connect_invalid_param(req, false,
					   offsetof(struct spdk_nvmf_fabric_connect_cmd, sqsize));
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	qpair->sq_head_max = cmd->sqsize;
	qpair->qid = cmd->qid;

	if (cmd->qid == 0) {
		if (data.cntlid != 0xffff) {
			SPDK_ERRLOG("Admin connect with cntlid 0x%x, only the dynamic model (0xffff) "
				    "is supported\n", data.cntlid);
			nvmf_connect_invalid_param(req, true,
						   offsetof(struct spdk_nvmf_fabric_connect_data, cntlid));
			return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
		}
		ctrlr = nvmf_ctrlr_create(subsystem, req, cmd, &data);
		if (ctrlr == NULL) {
			nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INTERNAL_DEVICE_ERROR);
			return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
		}
		ctrlr->admin_qpair = qpair;
		qpair->group->stat.admin_qpairs++;
		qpair->group->stat.current_admin_qpairs++;
	} else {
		ctrlr = nvmf_subsystem_get_ctrlr(subsystem, data.cntlid);
		if (ctrlr == NULL || ctrlr->in_destruct) {
			SPDK_ERRLOG("Unknown controller ID 0x%x\n", data.cntlid);
			nvmf_connect_invalid_param(req, true,
						   offsetof(struct spdk_nvmf_fabric_connect_data, cntlid));
			return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
		}
		if (strcmp(ctrlr->hostnqn, (const char *)data.hostnqn) != 0) {
			SPDK_ERRLOG("I/O connect hostnqn %s does not match the controller's %s\n",
				    data.hostnqn, ctrlr->hostnqn);
			nvmf_connect_invalid_param(req, true,
						   offsetof(struct spdk_nvmf_fabric_connect_data, hostnqn));
			return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
		}
		if (!ctrlr->vcprop.cc.bits.en || !ctrlr->vcprop.csts.bits.rdy) {
			SPDK_ERRLOG("Got I/O connect before ctrlr was enabled\n");
			nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_COMMAND_SEQUENCE_ERROR);
			return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
		}
		if (cmd->qid >= transport->opts.max_qpairs_per_ctrlr || cmd->qid >= 64 ||
		    (ctrlr->qpair_mask & (1ull << cmd->qid))) {
			SPDK_ERRLOG("Invalid or duplicate qid %u\n", cmd->qid);
			nvmf_connect_invalid_param(req, false,
						   offsetof(struct spdk_nvmf_fabric_connect_cmd, qid));
			return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
		}
		qpair->group->stat.io_qpairs++;
		qpair->group->stat.current_io_qpairs++;
	}
	ctrlr->qpair_mask |= 1ull << cmd->qid;
	ctrlr->num_qpairs++;
	qpair->ctrlr = ctrlr;
	if (cmd->cattr & SPDK_NVMF_CONNECT_ATTR_DISABLE_SQ_FC) {
		ctrlr->sq_flow_control_disabled = true;
	}
	nvmf_qpair_set_state(qpair, SPDK_NVMF_QPAIR_ENABLED);
	rsp->status_code_specific.success.cntlid = ctrlr->cntlid;
	SPDK_DEBUGLOG(nvmf, "connect capsule response: cntlid = 0x%04x\n", ctrlr->cntlid);
	return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
}

struct nvmf_prop {
	uint32_t ofst;
	uint8_t size;	/* SPDK_NVMF_PROP_SIZE_* */
	uint64_t (*get_cb)(struct spdk_nvmf_ctrlr *ctrlr);
	bool (*set_cb)(struct spdk_nvmf_ctrlr *ctrlr, uint32_t value);
};

static uint64_t nvmf_prop_get_cap(struct spdk_nvmf_ctrlr *c) { return c->vcprop.cap.raw; }
static uint64_t nvmf_prop_get_vs(struct spdk_nvmf_ctrlr *c) { return c->vcprop.vs.raw; }
static uint64_t nvmf_prop_get_cc(struct spdk_nvmf_ctrlr *c) { return c->vcprop.cc.raw; }
static uint64_t nvmf_prop_get_csts(struct spdk_nvmf_ctrlr *c) { return c->vcprop.csts.raw; }

static bool
nvmf_prop_set_cc(struct spdk_nvmf_ctrlr *ctrlr, uint32_t value)
{
	union spdk_nvme_cc_register cc, diff;

	cc.raw = value;
	diff.raw = cc.raw ^ ctrlr->vcprop.cc.raw;
	SPDK_WASM_TRACE("nvmf_prop_set_cc", ctrlr, ctrlr->vcprop.cc.raw, cc.raw, 0);
	if (diff.bits.en) {
		if (cc.bits.en) {
			ctrlr->vcprop.csts.bits.rdy = 1;
		} else {
			/* Controller reset: upstream also deletes the I/O qpairs. */
			ctrlr->vcprop.csts.bits.rdy = 0;
			ctrlr->vcprop.csts.bits.shst = SPDK_NVME_SHST_NORMAL;
		}
	}
	if (diff.bits.shn) {
		if (cc.bits.shn == SPDK_NVME_SHN_NORMAL || cc.bits.shn == SPDK_NVME_SHN_ABRUPT) {
			ctrlr->vcprop.csts.bits.shst = SPDK_NVME_SHST_COMPLETE;
			ctrlr->vcprop.csts.bits.rdy = 0;
		} else if (cc.bits.shn == 0) {
			ctrlr->vcprop.csts.bits.shst = SPDK_NVME_SHST_NORMAL;
		} else {
			return false;
		}
	}
	ctrlr->vcprop.cc.raw = cc.raw;
	return true;
}

static const struct nvmf_prop nvmf_props[] = {
	{ offsetof(struct spdk_nvme_registers, cap), SPDK_NVMF_PROP_SIZE_8, nvmf_prop_get_cap, NULL },
	{ offsetof(struct spdk_nvme_registers, vs), SPDK_NVMF_PROP_SIZE_4, nvmf_prop_get_vs, NULL },
	{ offsetof(struct spdk_nvme_registers, cc), SPDK_NVMF_PROP_SIZE_4, nvmf_prop_get_cc, nvmf_prop_set_cc },
	{ offsetof(struct spdk_nvme_registers, csts), SPDK_NVMF_PROP_SIZE_4, nvmf_prop_get_csts, NULL },
};

static const struct nvmf_prop *
find_prop(uint32_t ofst, uint8_t size)
{
	size_t i;

	for (i = 0; i < SPDK_COUNTOF(nvmf_props); i++) {
		if (nvmf_props[i].ofst == ofst && nvmf_props[i].size == size) {
			return &nvmf_props[i];
		}
	}
	return NULL;
}

static int
nvmf_property_get(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	struct spdk_nvmf_fabric_prop_get_cmd *cmd = &req->cmd->prop_get_cmd;
	struct spdk_nvmf_fabric_prop_get_rsp *rsp = &req->rsp->prop_get_rsp;
	const struct nvmf_prop *prop;

	rsp->value.u64 = 0;
	if (cmd->attrib.size != SPDK_NVMF_PROP_SIZE_4 && cmd->attrib.size != SPDK_NVMF_PROP_SIZE_8) {
		SPDK_ERRLOG("Invalid size value %u\n", cmd->attrib.size);
		nvmf_req_set_status(req, SPDK_NVME_SCT_COMMAND_SPECIFIC, SPDK_NVMF_FABRIC_SC_INVALID_PARAM);
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	prop = find_prop(cmd->ofst, cmd->attrib.size);
	if (prop == NULL || prop->get_cb == NULL) {
		nvmf_req_set_status(req, SPDK_NVME_SCT_COMMAND_SPECIFIC, SPDK_NVMF_FABRIC_SC_INVALID_PARAM);
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	rsp->value.u64 = prop->get_cb(ctrlr);
	return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
}

static int
nvmf_property_set(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	struct spdk_nvmf_fabric_prop_set_cmd *cmd = &req->cmd->prop_set_cmd;
	const struct nvmf_prop *prop;

	prop = find_prop(cmd->ofst, cmd->attrib.size);
	if (prop == NULL || prop->set_cb == NULL) {
		SPDK_INFOLOG(nvmf, "Invalid offset 0x%x\n", cmd->ofst);
		nvmf_req_set_status(req, SPDK_NVME_SCT_COMMAND_SPECIFIC, SPDK_NVMF_FABRIC_SC_INVALID_PARAM);
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	if (!prop->set_cb(ctrlr, cmd->value.u32.low)) {
		nvmf_req_set_status(req, SPDK_NVME_SCT_COMMAND_SPECIFIC, SPDK_NVMF_FABRIC_SC_INVALID_PARAM);
	}
	return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
}

int
nvmf_ctrlr_process_fabrics_cmd(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_capsule_cmd *cap_hdr = &req->cmd->nvmf_cmd;
	struct spdk_nvmf_qpair *qpair = req->qpair;

	if (qpair->ctrlr == NULL) {
		if (cap_hdr->fctype == SPDK_NVMF_FABRIC_COMMAND_CONNECT) {
			return nvmf_ctrlr_cmd_connect(req);
		}
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_COMMAND_SEQUENCE_ERROR);
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	if (qpair->qid == 0) {
		switch (cap_hdr->fctype) {
		case SPDK_NVMF_FABRIC_COMMAND_PROPERTY_SET:
			return nvmf_property_set(req);
		case SPDK_NVMF_FABRIC_COMMAND_PROPERTY_GET:
			return nvmf_property_get(req);
		default:
			break;
		}
	}
	SPDK_ERRLOG("Unsupported fctype 0x%x on qid %u\n", cap_hdr->fctype, qpair->qid);
	nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INVALID_OPCODE);
	return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
}

/* ---- admin commands ---- */

static void
nvmf_copy_to_req(struct spdk_nvmf_request *req, const void *src, uint32_t len)
{
	const uint8_t *s = src;
	uint32_t i, n;

	len = spdk_min(len, req->length);
	for (i = 0; i < req->iovcnt && len > 0; i++) {
		n = spdk_min(len, (uint32_t)req->iov[i].iov_len);
		memcpy(req->iov[i].iov_base, s, n);
		s += n;
		len -= n;
	}
}

static void
nvmf_pad_copy(void *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	memset(dst, ' ', size);
	memcpy(dst, src, spdk_min(n, size));
}

static int
nvmf_ctrlr_identify_ctrlr(struct spdk_nvmf_ctrlr *ctrlr, struct spdk_nvme_ctrlr_data *cdata)
{
	struct spdk_nvmf_transport *transport = ctrlr->admin_qpair ? ctrlr->admin_qpair->transport :
						TAILQ_FIRST(&ctrlr->subsys->tgt->transports);
	uint32_t mdts = 0;

	memset(cdata, 0, sizeof(*cdata));
	while ((4096u << (mdts + 1)) <= transport->opts.max_io_size) {
		mdts++;
	}
	cdata->vid = 0x4e58;
	cdata->ssvid = 0x4e58;
	nvmf_pad_copy(cdata->sn, sizeof(cdata->sn), ctrlr->subsys->sn);
	nvmf_pad_copy(cdata->mn, sizeof(cdata->mn), ctrlr->subsys->mn);
	nvmf_pad_copy(cdata->fr, sizeof(cdata->fr), FW_VERSION);
	cdata->mdts = mdts;
	cdata->cntlid = ctrlr->cntlid;
	cdata->ver = ctrlr->vcprop.vs.raw;
	cdata->aerl = 3;
	cdata->lpa = 0x4;
	cdata->kas = NVMF_DEFAULT_KAS;
	cdata->sqes = (6 << 4) | 6;
	cdata->cqes = (4 << 4) | 4;
	cdata->maxcmd = transport->opts.max_queue_depth;
	cdata->nn = ctrlr->subsys->max_nsid;
	cdata->vwc = 1;
	cdata->sgls = 1u | (1u << 20);	/* SGLs supported; offset (in-capsule) supported */
	snprintf((char *)cdata->subnqn, sizeof(cdata->subnqn), "%s", ctrlr->subsys->subnqn);
	cdata->nvmf_specific.ioccsz = (sizeof(struct spdk_nvme_cmd) +
				       transport->opts.in_capsule_data_size) / 16;
	cdata->nvmf_specific.iorcsz = sizeof(struct spdk_nvme_cpl) / 16;
	cdata->nvmf_specific.icdoff = 0;
	cdata->nvmf_specific.msdbd = 1;
	return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
}

static int
nvmf_ctrlr_identify(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	struct spdk_nvme_cmd *cmd = &req->cmd->nvme_cmd;
	uint8_t cns = cmd->cdw10 & 0xff;
	static union {
		struct spdk_nvme_ctrlr_data cdata;
		struct spdk_nvme_ns_data nsdata;
		uint32_t ns_list[1024];
	} buf;
	struct spdk_nvmf_ns *ns;
	uint32_t i, n = 0;

	if (req->length < 4096 || req->iovcnt == 0) {
		SPDK_ERRLOG("identify command with invalid buffer (length %u)\n", req->length);
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INVALID_FIELD);
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	memset(&buf, 0, sizeof(buf));
	switch (cns) {
	case SPDK_NVME_IDENTIFY_CTRLR:
		nvmf_ctrlr_identify_ctrlr(ctrlr, &buf.cdata);
		break;
	case SPDK_NVME_IDENTIFY_NS:
		ns = spdk_nvmf_subsystem_get_ns(ctrlr->subsys, cmd->nsid);
		if (ns == NULL) {
			if (cmd->nsid == 0 || cmd->nsid > ctrlr->subsys->max_nsid) {
				SPDK_ERRLOG("Identify Namespace for invalid NSID %u\n", cmd->nsid);
				nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC,
						    SPDK_NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
				return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
			}
			/* Inactive NSID: all-zero data. */
			break;
		}
		nvmf_bdev_ctrlr_identify_ns(ns, &buf.nsdata);
		break;
	case SPDK_NVME_IDENTIFY_ACTIVE_NS_LIST:
		for (i = cmd->nsid + 1; i <= ctrlr->subsys->max_nsid && n < 1024; i++) {
			if (spdk_nvmf_subsystem_get_ns(ctrlr->subsys, i) != NULL) {
				buf.ns_list[n++] = i;
			}
		}
		break;
	default:
		SPDK_INFOLOG(nvmf, "Identify command with unsupported CNS 0x%02x\n", cns);
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INVALID_FIELD);
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	nvmf_copy_to_req(req, &buf, 4096);
	return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
}

static int
nvmf_ctrlr_keep_alive(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_ctrlr *ctrlr = req->qpair->ctrlr;

	ctrlr->last_keep_alive_tick = spdk_get_ticks();
	SPDK_WASM_TRACE("nvmf_ctrlr_keep_alive", ctrlr, ctrlr->cntlid, 0, 0);
	return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
}

static int
nvmf_ctrlr_features(struct spdk_nvmf_request *req, bool set)
{
	struct spdk_nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	struct spdk_nvme_cmd *cmd = &req->cmd->nvme_cmd;
	struct spdk_nvme_cpl *rsp = &req->rsp->nvme_cpl;
	uint8_t fid = cmd->cdw10 & 0xff;

	switch (fid) {
	case SPDK_NVME_FEAT_NUMBER_OF_QUEUES:
		rsp->cdw0 = ctrlr->feat.number_of_queues;
		break;
	case SPDK_NVME_FEAT_KEEP_ALIVE_TIMER:
		if (set) {
			if (cmd->cdw11 == 0) {
				nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC,
						    SPDK_NVME_SC_KEEP_ALIVE_INVALID);
				return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
			}
			ctrlr->feat.keep_alive_timer = nvmf_ctrlr_round_kato(req->qpair->transport,
						       cmd->cdw11);
			nvmf_ctrlr_start_keep_alive_timer(ctrlr);
		}
		rsp->cdw0 = ctrlr->feat.keep_alive_timer;
		break;
	default:
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INVALID_FIELD);
		break;
	}
	return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
}

int
nvmf_ctrlr_process_admin_cmd(struct spdk_nvmf_request *req)
{
	struct spdk_nvme_cmd *cmd = &req->cmd->nvme_cmd;

	if (req->qpair->ctrlr->vcprop.cc.bits.en != 1 && cmd->opc != SPDK_NVME_OPC_KEEP_ALIVE) {
		SPDK_ERRLOG("Admin command sent to disabled controller\n");
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_COMMAND_SEQUENCE_ERROR);
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	switch (cmd->opc) {
	case SPDK_NVME_OPC_IDENTIFY:
		return nvmf_ctrlr_identify(req);
	case SPDK_NVME_OPC_KEEP_ALIVE:
		return nvmf_ctrlr_keep_alive(req);
	case SPDK_NVME_OPC_GET_FEATURES:
		return nvmf_ctrlr_features(req, false);
	case SPDK_NVME_OPC_SET_FEATURES:
		return nvmf_ctrlr_features(req, true);
	default:
		SPDK_INFOLOG(nvmf, "Unsupported admin opcode 0x%x\n", cmd->opc);
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INVALID_OPCODE);
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
}

int
nvmf_ctrlr_process_io_cmd(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	struct spdk_nvme_cmd *cmd = &req->cmd->nvme_cmd;
	struct spdk_nvmf_ns *ns;

	if (!ctrlr->vcprop.cc.bits.en) {
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_COMMAND_SEQUENCE_ERROR);
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	ns = spdk_nvmf_subsystem_get_ns(ctrlr->subsys, cmd->nsid);
	if (ns == NULL) {
		SPDK_DEBUGLOG(nvmf, "Unsuccessful query for nsid %u\n", cmd->nsid);
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
		req->rsp->nvme_cpl.status.dnr = 1;
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	if (req->zcopy_phase == NVMF_ZCOPY_PHASE_INIT) {
		return nvmf_bdev_ctrlr_zcopy_start(ns, req);
	}
	switch (cmd->opc) {
	case SPDK_NVME_OPC_READ:
		return nvmf_bdev_ctrlr_read_cmd(ns, req);
	case SPDK_NVME_OPC_WRITE:
		return nvmf_bdev_ctrlr_write_cmd(ns, req);
	case SPDK_NVME_OPC_FLUSH:
		return nvmf_bdev_ctrlr_flush_cmd(ns, req);
	default:
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INVALID_OPCODE);
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
}
