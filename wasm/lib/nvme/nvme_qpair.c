/* lib/nvme/nvme_qpair.c (with the request helpers of upstream nvme.c): the generic qpair — its
 * request pool, state, submission (queued while the qpair is not enabled or the transport is
 * full), completion, and spdk_nvme_qpair_process_completions, which drives the transport and
 * turns a transport failure into a disconnected qpair. */
#include "nvme_internal.h"

const char *const nvme_qpair_state_names[] = {
	"NVME_QPAIR_DISCONNECTED", "NVME_QPAIR_DISCONNECTING", "NVME_QPAIR_CONNECTING",
	"NVME_QPAIR_CONNECTED", "NVME_QPAIR_ENABLING", "NVME_QPAIR_ENABLED",
	"NVME_QPAIR_DESTROYING",
};

int
nvme_qpair_init(struct spdk_nvme_qpair *qpair, uint16_t id, struct spdk_nvme_ctrlr *ctrlr,
		uint16_t num_entries, uint32_t num_requests)
{
	uint32_t i;

	qpair->id = id;
	qpair->ctrlr = ctrlr;
	qpair->num_entries = num_entries;
	qpair->state = NVME_QPAIR_DISCONNECTED;
	STAILQ_INIT(&qpair->free_req);
	STAILQ_INIT(&qpair->queued_req);
	qpair->req_buf = calloc(num_requests, sizeof(struct nvme_request));
	if (qpair->req_buf == NULL) {
		SPDK_ERRLOG("no memory for %u requests of qpair %u\n", num_requests, id);
		return -ENOMEM;
	}
	for (i = 0; i < num_requests; i++) {
		qpair->req_buf[i].qpair = qpair;
		STAILQ_INSERT_HEAD(&qpair->free_req, &qpair->req_buf[i], stailq);
	}
	return 0;
}

void
nvme_qpair_deinit(struct spdk_nvme_qpair *qpair)
{
	nvme_qpair_abort_queued_reqs(qpair);
	free(qpair->req_buf);
	qpair->req_buf = NULL;
}

void
nvme_qpair_set_state(struct spdk_nvme_qpair *qpair, enum nvme_qpair_state state)
{
	if (qpair->state == state) {
		return;
	}
	SPDK_WASM_TRACE("nvme_qpair_set_state", qpair, qpair->state, state, qpair->id);
	qpair->state = state;
}

struct nvme_request *
nvme_allocate_request_contig(struct spdk_nvme_qpair *qpair, void *buffer, uint32_t payload_size,
			     spdk_nvme_cmd_cb cb_fn, void *cb_arg)
{
	struct nvme_request *req = STAILQ_FIRST(&qpair->free_req);

	if (req == NULL) {
		return NULL;
	}
	STAILQ_REMOVE_HEAD(&qpair->free_req, stailq);
	memset(&req->cmd, 0, sizeof(req->cmd));
	memset(&req->cpl, 0, sizeof(req->cpl));
	req->payload = buffer;
	req->payload_size = payload_size;
	req->cb_fn = cb_fn;
	req->cb_arg = cb_arg;
	req->qpair = qpair;
	req->submit_tick = 0;
	return req;
}

void
nvme_free_request(struct nvme_request *req)
{
	STAILQ_INSERT_HEAD(&req->qpair->free_req, req, stailq);
}

void
nvme_completion_poll_cb(void *arg, const struct spdk_nvme_cpl *cpl)
{
	struct nvme_completion_poll_status *status = arg;

	status->cpl = *cpl;
	status->done = true;
}

static bool
nvme_request_is_fabric_connect(struct nvme_request *req)
{
	struct spdk_nvmf_capsule_cmd *cap = (struct spdk_nvmf_capsule_cmd *)&req->cmd;

	return req->cmd.opc == SPDK_NVME_OPC_FABRIC && cap->fctype == SPDK_NVMF_FABRIC_COMMAND_CONNECT;
}

/* Completes a request with a generated status (nothing came from the wire). */
static void
nvme_qpair_manual_complete_request(struct nvme_request *req, uint8_t sct, uint8_t sc, bool dnr)
{
	struct spdk_nvme_cpl cpl;

	memset(&cpl, 0, sizeof(cpl));
	cpl.sqid = req->qpair->id;
	cpl.cid = req->cmd.cid;
	cpl.status.sct = sct;
	cpl.status.sc = sc;
	cpl.status.dnr = dnr ? 1 : 0;
	req->qpair->aborted++;
	nvme_complete_request(req, &cpl);
}

int
nvme_qpair_submit_request(struct spdk_nvme_qpair *qpair, struct nvme_request *req)
{
	int rc;

	req->submit_tick = spdk_get_ticks();
	if (qpair->state == NVME_QPAIR_DISCONNECTING || qpair->state == NVME_QPAIR_DESTROYING ||
	    (qpair->state == NVME_QPAIR_DISCONNECTED && qpair->ctrlr->is_failed &&
	     !qpair->ctrlr->is_resetting)) {
		/* A failed qpair takes no new work; the caller gets -ENXIO, as upstream. */
		nvme_free_request(req);
		return -ENXIO;
	}
	if (!nvme_request_is_fabric_connect(req) &&
	    (qpair->state != NVME_QPAIR_ENABLED || !STAILQ_EMPTY(&qpair->queued_req))) {
		/* Not connected yet (or older work waits): keep the order, send later. */
		STAILQ_INSERT_TAIL(&qpair->queued_req, req, stailq);
		return 0;
	}
	rc = nvme_tcp_qpair_submit_request(qpair, req);
	if (rc == -EAGAIN) {
		/* No transport request free: queue and resubmit on a later completion. */
		STAILQ_INSERT_TAIL(&qpair->queued_req, req, stailq);
		return 0;
	}
	if (rc != 0) {
		nvme_free_request(req);
		return rc;
	}
	qpair->submitted++;
	qpair->num_outstanding_reqs++;
	return 0;
}

void
nvme_complete_request(struct nvme_request *req, struct spdk_nvme_cpl *cpl)
{
	struct spdk_nvme_qpair *qpair = req->qpair;
	spdk_nvme_cmd_cb cb_fn = req->cb_fn;
	void *cb_arg = req->cb_arg;
	struct spdk_nvme_cpl local = *cpl;

	if (spdk_nvme_cpl_is_error(&local)) {
		qpair->errors++;
		SPDK_WASM_TRACE("nvme_qpair_print_completion", qpair, req->cmd.cid,
				(local.status.sct << 8) | local.status.sc, req->cmd.opc);
	}
	qpair->completed++;
	/* The request is free before the callback runs, so the callback may submit again. */
	nvme_free_request(req);
	if (cb_fn != NULL) {
		cb_fn(cb_arg, &local);
	}
}

void
nvme_qpair_abort_queued_reqs(struct spdk_nvme_qpair *qpair)
{
	struct nvme_request *req;
	STAILQ_HEAD(, nvme_request) tmp;

	/* Take the whole queue first: a callback may queue new work on this qpair. */
	STAILQ_INIT(&tmp);
	while ((req = STAILQ_FIRST(&qpair->queued_req)) != NULL) {
		STAILQ_REMOVE_HEAD(&qpair->queued_req, stailq);
		STAILQ_INSERT_TAIL(&tmp, req, stailq);
	}
	while ((req = STAILQ_FIRST(&tmp)) != NULL) {
		STAILQ_REMOVE_HEAD(&tmp, stailq);
		nvme_qpair_manual_complete_request(req, SPDK_NVME_SCT_GENERIC,
						   SPDK_NVME_SC_ABORTED_SQ_DELETION, false);
	}
}

static void
nvme_qpair_resubmit_requests(struct spdk_nvme_qpair *qpair)
{
	struct nvme_request *req;
	int rc;

	while ((req = STAILQ_FIRST(&qpair->queued_req)) != NULL &&
	       qpair->state == NVME_QPAIR_ENABLED) {
		STAILQ_REMOVE_HEAD(&qpair->queued_req, stailq);
		rc = nvme_tcp_qpair_submit_request(qpair, req);
		if (rc == -EAGAIN) {
			STAILQ_INSERT_HEAD(&qpair->queued_req, req, stailq);
			break;
		}
		if (rc != 0) {
			nvme_qpair_manual_complete_request(req, SPDK_NVME_SCT_GENERIC,
							   SPDK_NVME_SC_INTERNAL_DEVICE_ERROR, true);
			continue;
		}
		qpair->submitted++;
		qpair->num_outstanding_reqs++;
	}
}

/* Marks the qpair failed and lets the transport tear its connection down; every outstanding
 * request completes with ABORTED - SQ DELETION. */
void
nvme_ctrlr_disconnect_qpair(struct spdk_nvme_qpair *qpair)
{
	if (qpair->state == NVME_QPAIR_DISCONNECTED || qpair->state == NVME_QPAIR_DISCONNECTING) {
		return;
	}
	nvme_qpair_set_state(qpair, NVME_QPAIR_DISCONNECTING);
	/* Out of the sock group before the socket closes (nvme_transport_ctrlr_disconnect_qpair).
	 * Unlike upstream, the transport aborts every request here and now, so the qpair is
	 * DISCONNECTED at once rather than at the group's next poll. */
	if (qpair->poll_group != NULL) {
		nvme_poll_group_disconnect_qpair(qpair);
	}
	nvme_tcp_ctrlr_disconnect_qpair(qpair->ctrlr, qpair);
	nvme_qpair_set_state(qpair, NVME_QPAIR_DISCONNECTED);
	nvme_qpair_abort_queued_reqs(qpair);
}

/* nvme_transport_ctrlr_connect_qpair: the transport starts connecting, then a qpair in a poll
 * group joins the group's connected list (its socket joins the sock group). */
int
nvme_transport_ctrlr_connect_qpair(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_qpair *qpair)
{
	int rc;

	rc = nvme_tcp_ctrlr_connect_qpair(ctrlr, qpair);
	if (rc != 0) {
		return rc;
	}
	if (qpair->poll_group != NULL) {
		rc = nvme_poll_group_connect_qpair(qpair);
		if (rc != 0) {
			SPDK_ERRLOG("qpair %u could not join its poll group: %d\n", qpair->id, rc);
			qpair->transport_failure_reason = SPDK_NVME_QPAIR_FAILURE_LOCAL;
			nvme_ctrlr_disconnect_qpair(qpair);
			return rc;
		}
	}
	return 0;
}

int32_t
spdk_nvme_qpair_process_completions(struct spdk_nvme_qpair *qpair, uint32_t max_completions)
{
	int32_t rc;

	if (qpair->state == NVME_QPAIR_DISCONNECTED || qpair->state == NVME_QPAIR_DISCONNECTING ||
	    qpair->state == NVME_QPAIR_DESTROYING) {
		return -ENXIO;
	}
	if (qpair->in_completion_context) {
		/* A completion callback polling its own qpair: nothing to do, as upstream. */
		return 0;
	}
	qpair->in_completion_context = true;
	rc = nvme_tcp_qpair_process_completions(qpair, max_completions);
	qpair->in_completion_context = false;
	if (rc < 0) {
		SPDK_ERRLOG("CQ transport error %d on qpair id %u\n", rc, qpair->id);
		if (qpair->transport_failure_reason == SPDK_NVME_QPAIR_FAILURE_NONE) {
			qpair->transport_failure_reason = SPDK_NVME_QPAIR_FAILURE_UNKNOWN;
		}
		nvme_ctrlr_disconnect_qpair(qpair);
		return -ENXIO;
	}
	if (qpair->state == NVME_QPAIR_CONNECTED) {
		nvme_qpair_set_state(qpair, NVME_QPAIR_ENABLED);
	}
	if (!STAILQ_EMPTY(&qpair->queued_req)) {
		nvme_qpair_resubmit_requests(qpair);
	}
	return rc;
}

enum spdk_nvme_qp_failure_reason
spdk_nvme_qpair_get_failure_reason(struct spdk_nvme_qpair *qpair)
{
	return qpair->transport_failure_reason;
}

bool
spdk_nvme_qpair_is_connected(struct spdk_nvme_qpair *qpair)
{
	return qpair->state == NVME_QPAIR_CONNECTED || qpair->state == NVME_QPAIR_ENABLED;
}

const char *
spdk_nvme_cpl_get_status_string(const struct spdk_nvme_status *status)
{
	if (status->sct == SPDK_NVME_SCT_GENERIC) {
		switch (status->sc) {
		case SPDK_NVME_SC_SUCCESS: return "SUCCESS";
		case SPDK_NVME_SC_INVALID_OPCODE: return "INVALID OPCODE";
		case SPDK_NVME_SC_INVALID_FIELD: return "INVALID FIELD";
		case SPDK_NVME_SC_DATA_TRANSFER_ERROR: return "DATA TRANSFER ERROR";
		case SPDK_NVME_SC_INTERNAL_DEVICE_ERROR: return "INTERNAL DEVICE ERROR";
		case SPDK_NVME_SC_ABORTED_BY_REQUEST: return "ABORTED - BY REQUEST";
		case SPDK_NVME_SC_ABORTED_SQ_DELETION: return "ABORTED - SQ DELETION";
		case SPDK_NVME_SC_INVALID_NAMESPACE_OR_FORMAT: return "INVALID NAMESPACE OR FORMAT";
		case SPDK_NVME_SC_COMMAND_SEQUENCE_ERROR: return "COMMAND SEQUENCE ERROR";
		case SPDK_NVME_SC_TRANSIENT_TRANSPORT_ERROR: return "TRANSIENT TRANSPORT ERROR";
		case SPDK_NVME_SC_LBA_OUT_OF_RANGE: return "LBA OUT OF RANGE";
		default: return "GENERIC";
		}
	}
	return status->sct == SPDK_NVME_SCT_COMMAND_SPECIFIC ? "COMMAND SPECIFIC" : "OTHER";
}
