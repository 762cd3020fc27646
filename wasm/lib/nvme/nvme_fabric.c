/* lib/nvme/nvme_fabric.c: the transport-independent Fabrics commands of the host — Connect
 * (admin queue first, then each I/O queue; subnqn and hostnqn in 1024 bytes of in-capsule
 * data) and Property Get/Set, which stand in for register reads and writes. */
#include "nvme_internal.h"

static void
nvme_fabric_connect_done(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_qpair *qpair = arg;

	qpair->connect_status.cpl = *cpl;
	qpair->connect_status.done = true;
	free(qpair->connect_data);
	qpair->connect_data = NULL;
}

/* Sends the Connect capsule on the qpair it connects. */
int
nvme_fabric_qpair_connect_async(struct spdk_nvme_qpair *qpair, uint32_t num_entries)
{
	struct spdk_nvme_ctrlr *ctrlr = qpair->ctrlr;
	struct spdk_nvmf_fabric_connect_cmd *cmd;
	struct spdk_nvmf_fabric_connect_data *nvmf_data;
	struct nvme_request *req;
	int rc;

	nvmf_data = calloc(1, sizeof(*nvmf_data));
	if (nvmf_data == NULL) {
		return -ENOMEM;
	}
	req = nvme_allocate_request_contig(qpair, nvmf_data, sizeof(*nvmf_data),
					   nvme_fabric_connect_done, qpair);
	if (req == NULL) {
		free(nvmf_data);
		return -ENOMEM;
	}
	cmd = (struct spdk_nvmf_fabric_connect_cmd *)&req->cmd;
	cmd->opcode = SPDK_NVME_OPC_FABRIC;
	cmd->fctype = SPDK_NVMF_FABRIC_COMMAND_CONNECT;
	cmd->qid = qpair->id;
	cmd->sqsize = num_entries - 1;
	cmd->kato = nvme_qpair_is_admin_queue(qpair) ? ctrlr->opts.keep_alive_timeout_ms : 0;
	if (ctrlr->opts.disable_sq_fc) {
		cmd->cattr |= SPDK_NVMF_CONNECT_ATTR_DISABLE_SQ_FC;
	}

	memcpy(nvmf_data->hostid, ctrlr->opts.extended_host_id, sizeof(nvmf_data->hostid));
	/* The admin queue asks for a dynamic controller; I/O queues name the one it got. */
	nvmf_data->cntlid = nvme_qpair_is_admin_queue(qpair) ? 0xFFFF : ctrlr->cntlid;
	snprintf((char *)nvmf_data->subnqn, sizeof(nvmf_data->subnqn), "%s", ctrlr->trid.subnqn);
	snprintf((char *)nvmf_data->hostnqn, sizeof(nvmf_data->hostnqn), "%s", ctrlr->opts.hostnqn);

	qpair->connect_status.done = false;
	qpair->connect_sent = true;
	qpair->connect_data = nvmf_data;
	SPDK_WASM_TRACE("nvme_fabric_qpair_connect_async", qpair, qpair->id, num_entries,
			cmd->kato);
	rc = nvme_qpair_submit_request(qpair, req);
	if (rc != 0) {
		qpair->connect_sent = false;
		qpair->connect_data = NULL;
		free(nvmf_data);
	}
	return rc;
}

/* -EAGAIN until the Connect completed; then 0, or -EIO with the reason logged. */
int
nvme_fabric_qpair_connect_poll(struct spdk_nvme_qpair *qpair)
{
	struct spdk_nvme_ctrlr *ctrlr = qpair->ctrlr;
	struct spdk_nvme_cpl *cpl = &qpair->connect_status.cpl;
	struct spdk_nvmf_fabric_connect_rsp *rsp = (struct spdk_nvmf_fabric_connect_rsp *)cpl;

	if (!qpair->connect_status.done) {
		return -EAGAIN;
	}
	qpair->connect_sent = false;
	if (spdk_nvme_cpl_is_error(cpl)) {
		SPDK_ERRLOG("Connect command failed, rc -5, trtype:TCP adrfam:IPv4 traddr:%s "
			    "trsvcid:%s subnqn:%s qid %u: sct %u sc 0x%x\n", ctrlr->trid.traddr,
			    ctrlr->trid.trsvcid, ctrlr->trid.subnqn, qpair->id, cpl->status.sct,
			    cpl->status.sc);
		if (cpl->status.sct == SPDK_NVME_SCT_COMMAND_SPECIFIC &&
		    cpl->status.sc == SPDK_NVMF_FABRIC_SC_INVALID_PARAM) {
			SPDK_ERRLOG("Connect command failed: invalid parameter at %s offset %u\n",
				    rsp->status_code_specific.invalid.iattr ? "data" : "command",
				    rsp->status_code_specific.invalid.ipo);
		}
		return -EIO;
	}
	if (nvme_qpair_is_admin_queue(qpair)) {
		ctrlr->cntlid = rsp->status_code_specific.success.cntlid;
		SPDK_DEBUGLOG(nvme, "CNTLID 0x%04x\n", ctrlr->cntlid);
	}
	qpair->connects++;
	SPDK_WASM_TRACE("nvme_fabric_qpair_connect_poll", qpair, qpair->id, ctrlr->cntlid, 0);
	return 0;
}

static int
nvme_fabric_prop_cmd_async(struct spdk_nvme_ctrlr *ctrlr, uint8_t fctype, uint32_t offset,
			   uint8_t size, uint64_t value, spdk_nvme_cmd_cb cb_fn, void *cb_arg)
{
	struct nvme_request *req;

	req = nvme_allocate_request_contig(ctrlr->adminq, NULL, 0, cb_fn, cb_arg);
	if (req == NULL) {
		return -ENOMEM;
	}
	if (fctype == SPDK_NVMF_FABRIC_COMMAND_PROPERTY_SET) {
		struct spdk_nvmf_fabric_prop_set_cmd *cmd = (struct spdk_nvmf_fabric_prop_set_cmd *)&req->cmd;

		cmd->opcode = SPDK_NVME_OPC_FABRIC;
		cmd->fctype = fctype;
		cmd->ofst = offset;
		cmd->attrib.size = size;
		cmd->value.u64 = value;
	} else {
		struct spdk_nvmf_fabric_prop_get_cmd *cmd = (struct spdk_nvmf_fabric_prop_get_cmd *)&req->cmd;

		cmd->opcode = SPDK_NVME_OPC_FABRIC;
		cmd->fctype = fctype;
		cmd->ofst = offset;
		cmd->attrib.size = size;
	}
	return nvme_qpair_submit_request(ctrlr->adminq, req);
}

/* The value arrives in cpl->cdw0 (and cdw1 for 8-byte properties). */
int
nvme_fabric_ctrlr_get_reg_4_async(struct spdk_nvme_ctrlr *ctrlr, uint32_t offset,
				  spdk_nvme_cmd_cb cb_fn, void *cb_arg)
{
	return nvme_fabric_prop_cmd_async(ctrlr, SPDK_NVMF_FABRIC_COMMAND_PROPERTY_GET, offset,
					  SPDK_NVMF_PROP_SIZE_4, 0, cb_fn, cb_arg);
}

int
nvme_fabric_ctrlr_get_reg_8_async(struct spdk_nvme_ctrlr *ctrlr, uint32_t offset,
				  spdk_nvme_cmd_cb cb_fn, void *cb_arg)
{
	return nvme_fabric_prop_cmd_async(ctrlr, SPDK_NVMF_FABRIC_COMMAND_PROPERTY_GET, offset,
					  SPDK_NVMF_PROP_SIZE_8, 0, cb_fn, cb_arg);
}

int
nvme_fabric_ctrlr_set_reg_4_async(struct spdk_nvme_ctrlr *ctrlr, uint32_t offset, uint32_t value,
				  spdk_nvme_cmd_cb cb_fn, void *cb_arg)
{
	return nvme_fabric_prop_cmd_async(ctrlr, SPDK_NVMF_FABRIC_COMMAND_PROPERTY_SET, offset,
					  SPDK_NVMF_PROP_SIZE_4, value, cb_fn, cb_arg);
}
