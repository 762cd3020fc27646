/* lib/nvmf/rdma.c: the NVMe-oF RDMA transport, as it was before 0b8d244394, 74c3af8459 and
 * 59e7d68afd (spec 5). Devices come from rdma_get_devices, each with a PD and a memory map; every
 * poll group has one poller (CQ, SRQ and the request resources) per device; qpairs are CM ids
 * with an RC QP on their poller's SRQ and CQ. The acceptor handles CM and async events, device
 * removal (need_destroy, the pollers' destroy_cb, ready_to_destroy) and the rescan that brings a
 * device back and re-listens the ports waiting in retry_ports. */
#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/log.h"
#include "spdk/nvmf.h"
#include "spdk/thread.h"
#include "spdk/util.h"
#include "spdk_internal/trace_host.h"
#include "nvmf_internal.h"
#include "rdma_internal.h"

#define SPDK_NVMF_RDMA_DEFAULT_MAX_QUEUE_DEPTH		128
#define SPDK_NVMF_RDMA_DEFAULT_AQ_DEPTH			128
#define SPDK_NVMF_RDMA_DEFAULT_SRQ_DEPTH		4096
#define SPDK_NVMF_RDMA_DEFAULT_MAX_QPAIRS_PER_CTRLR	128
#define SPDK_NVMF_RDMA_DEFAULT_IN_CAPSULE_DATA_SIZE	4096
#define SPDK_NVMF_RDMA_DEFAULT_MAX_IO_SIZE		131072
#define SPDK_NVMF_RDMA_MIN_IO_BUFFER_SIZE		4096
#define SPDK_NVMF_RDMA_DEFAULT_IO_BUFFER_SIZE		8192
#define SPDK_NVMF_RDMA_DEFAULT_NUM_SHARED_BUFFERS	255	/* model: upstream 4095 */
#define SPDK_NVMF_RDMA_DEFAULT_BUFFER_CACHE_SIZE	32
#define SPDK_NVMF_RDMA_ACCEPTOR_POLL_RATE_US		10000
#define NVMF_RDMA_MAX_KEYED_SGL_LENGTH			0xffffff
/* model: kept out of line so a crash report names the function the upstream backtrace names */
#define NVMF_RDMA_NOINLINE				__attribute__((noinline))

const char *const nvmf_rdma_req_state_names[RDMA_REQUEST_NUM_STATES] = {
	"RDMA_REQ_FREE", "RDMA_REQ_NEW", "RDMA_REQ_NEED_BUFFER", "RDMA_REQ_TX_PENDING_C2H",
	"RDMA_REQ_TX_H2C", "RDMA_REQ_RDY_TO_EXECUTE", "RDMA_REQ_EXECUTING", "RDMA_REQ_EXECUTED",
	"RDMA_REQ_TX_PENDING_H2C", "RDMA_REQ_RDY_TO_COMPL_PEND", "RDMA_REQ_RDY_TO_COMPLETE",
	"RDMA_REQ_COMPLETING_C2H", "RDMA_REQ_COMPLETING", "RDMA_REQ_COMPLETED",
};

/* One transport per target here; the inspection interface finds it through this. */
static struct spdk_nvmf_rdma_transport *g_nvmf_rdma_transport;

static bool nvmf_rdma_request_process(struct spdk_nvmf_rdma_transport *rtransport,
				      struct spdk_nvmf_rdma_request *rdma_req);
static void nvmf_rdma_destroy_drained_qpair(struct spdk_nvmf_rdma_qpair *rqpair);
static NVMF_RDMA_NOINLINE void nvmf_rdma_poller_destroy(struct spdk_nvmf_rdma_poller *poller);
static void nvmf_rdma_handle_device_removal(struct spdk_nvmf_rdma_transport *rtransport,
		struct spdk_nvmf_rdma_device *device);
static void nvmf_rdma_rescan_devices(struct spdk_nvmf_rdma_transport *rtransport);

struct spdk_nvmf_rdma_transport *
nvmf_rdma_get_transport(void)
{
	return g_nvmf_rdma_transport;
}

static inline struct spdk_nvmf_rdma_transport *
rqpair_rtransport(struct spdk_nvmf_rdma_qpair *rqpair)
{
	return SPDK_CONTAINEROF(rqpair->qpair.transport, struct spdk_nvmf_rdma_transport, transport);
}

static void
nvmf_rdma_request_set_state(struct spdk_nvmf_rdma_request *rdma_req,
			    enum spdk_nvmf_rdma_request_state state)
{
	SPDK_WASM_TRACE("nvmf_rdma_request_set_state", rdma_req, rdma_req->state, state,
			rdma_req->req.qpair ? rdma_req->req.qpair->qid : 0);
	rdma_req->state = state;
}

/* ---- resources: commands, completions, in-capsule buffers, receives and requests ---- */

static void
nvmf_rdma_resources_destroy(struct spdk_nvmf_rdma_resources *resources)
{
	spdk_free(resources->cmds);
	spdk_free(resources->cpls);
	spdk_free(resources->bufs);
	free(resources->recvs);
	free(resources->reqs);
	free(resources);
}

/* Everything a receive or a response touches lives in registered memory; each piece needs the
 * device map's MR for its lkey. A map that missed a registration has no translation for it:
 * creation then fails (spec 5.4, "No translation"). */
static struct spdk_nvmf_rdma_resources *
nvmf_rdma_resources_create(struct spdk_nvmf_rdma_resource_opts *opts)
{
	struct spdk_nvmf_rdma_resources *resources;
	struct spdk_rdma_utils_memory_translation t;
	struct ibv_recv_wr *bad_wr = NULL;
	uint32_t i, n = opts->max_queue_depth, icd = opts->in_capsule_data_size;
	int rc;

	resources = calloc(1, sizeof(*resources));
	if (resources == NULL) {
		return NULL;
	}
	resources->count = n;
	resources->reqs = calloc(n, sizeof(*resources->reqs));
	resources->recvs = calloc(n, sizeof(*resources->recvs));
	resources->cmds = spdk_zmalloc(n * sizeof(*resources->cmds), 0x1000, NULL, -1, SPDK_MALLOC_DMA);
	resources->cpls = spdk_zmalloc(n * sizeof(*resources->cpls), 0x1000, NULL, -1, SPDK_MALLOC_DMA);
	resources->bufs = icd ? spdk_zmalloc((size_t)n * icd, 0x1000, NULL, -1, SPDK_MALLOC_DMA) : NULL;
	if (resources->reqs == NULL || resources->recvs == NULL || resources->cmds == NULL ||
	    resources->cpls == NULL || (icd && resources->bufs == NULL)) {
		SPDK_ERRLOG("Unable to allocate resources for %u requests\n", n);
		nvmf_rdma_resources_destroy(resources);
		return NULL;
	}
	STAILQ_INIT(&resources->incoming_queue);
	STAILQ_INIT(&resources->free_queue);

	for (i = 0; i < n; i++) {
		struct spdk_nvmf_rdma_recv *rdma_recv = &resources->recvs[i];

		rdma_recv->qpair = opts->shared ? NULL : opts->qpair;
		rdma_recv->rdma_wr.type = RDMA_WR_TYPE_RECV;
		rdma_recv->sgl[0].addr = (uintptr_t)&resources->cmds[i];
		rdma_recv->sgl[0].length = sizeof(resources->cmds[i]);
		rc = spdk_rdma_utils_get_translation(opts->map, &resources->cmds[i],
						     sizeof(resources->cmds[i]), &t);
		if (rc != 0) {
			goto no_translation;
		}
		rdma_recv->sgl[0].lkey = spdk_rdma_utils_memory_translation_get_lkey(&t);
		rdma_recv->wr.num_sge = 1;
		if (icd) {
			rdma_recv->buf = (uint8_t *)resources->bufs + (size_t)i * icd;
			rdma_recv->sgl[1].addr = (uintptr_t)rdma_recv->buf;
			rdma_recv->sgl[1].length = icd;
			rc = spdk_rdma_utils_get_translation(opts->map, rdma_recv->buf, icd, &t);
			if (rc != 0) {
				goto no_translation;
			}
			rdma_recv->sgl[1].lkey = spdk_rdma_utils_memory_translation_get_lkey(&t);
			rdma_recv->wr.num_sge = 2;
		}
		rdma_recv->wr.wr_id = (uintptr_t)&rdma_recv->rdma_wr;
		rdma_recv->wr.sg_list = rdma_recv->sgl;
		rdma_recv->wr.next = NULL;
	}

	for (i = 0; i < n; i++) {
		struct spdk_nvmf_rdma_request *rdma_req = &resources->reqs[i];

		rdma_req->req.qpair = opts->shared ? NULL : &opts->qpair->qpair;
		rdma_req->req.cmd = NULL;
		rdma_req->req.rsp = &resources->cpls[i];
		rdma_req->rsp.rdma_wr.type = RDMA_WR_TYPE_SEND;
		rdma_req->rsp.sgl[0].addr = (uintptr_t)&resources->cpls[i];
		rdma_req->rsp.sgl[0].length = sizeof(resources->cpls[i]);
		rc = spdk_rdma_utils_get_translation(opts->map, &resources->cpls[i],
						     sizeof(resources->cpls[i]), &t);
		if (rc != 0) {
			goto no_translation;
		}
		rdma_req->rsp.sgl[0].lkey = spdk_rdma_utils_memory_translation_get_lkey(&t);
		rdma_req->rsp.wr.wr_id = (uintptr_t)&rdma_req->rsp.rdma_wr;
		rdma_req->rsp.wr.sg_list = rdma_req->rsp.sgl;
		rdma_req->rsp.wr.num_sge = 1;
		rdma_req->rsp.wr.opcode = IBV_WR_SEND;
		rdma_req->rsp.wr.send_flags = IBV_SEND_SIGNALED;
		rdma_req->data.rdma_wr.type = RDMA_WR_TYPE_DATA;
		rdma_req->data.wr.wr_id = (uintptr_t)&rdma_req->data.rdma_wr;
		rdma_req->data.wr.sg_list = rdma_req->data.sgl;
		rdma_req->state = RDMA_REQUEST_STATE_FREE;
		STAILQ_INSERT_TAIL(&resources->free_queue, rdma_req, state_link);
	}

	/* Post every receive, chained, in one call. */
	for (i = 0; i + 1 < n; i++) {
		resources->recvs[i].wr.next = &resources->recvs[i + 1].wr;
	}
	rc = opts->srq != NULL ? ibv_post_srq_recv(opts->srq, &resources->recvs[0].wr, &bad_wr) : EINVAL;
	for (i = 0; i < n; i++) {
		resources->recvs[i].wr.next = NULL;
	}
	if (rc != 0) {
		SPDK_ERRLOG("Unable to post %u receives: %d\n", n, rc);
		nvmf_rdma_resources_destroy(resources);
		return NULL;
	}
	return resources;

no_translation:
	SPDK_ERRLOG("No translation for the RDMA resources of %u requests\n", n);
	nvmf_rdma_resources_destroy(resources);
	return NULL;
}

/* ---- requests ---- */

static void
nvmf_rdma_request_free(struct spdk_nvmf_rdma_request *rdma_req,
		       struct spdk_nvmf_rdma_transport *rtransport)
{
	struct spdk_nvmf_rdma_qpair *rqpair = SPDK_CONTAINEROF(rdma_req->req.qpair,
					      struct spdk_nvmf_rdma_qpair, qpair);

	if (rdma_req->req.data_from_pool) {
		spdk_nvmf_request_free_buffers(&rdma_req->req, &rqpair->poller->group->group,
					       &rtransport->transport);
	}
	rdma_req->req.length = 0;
	rdma_req->req.iovcnt = 0;
	rdma_req->req.data = NULL;
	rdma_req->num_outstanding_data_wr = 0;
	rdma_req->data.wr.next = NULL;
	rdma_req->data.wr.num_sge = 0;
	rqpair->qd--;
	STAILQ_INSERT_HEAD(&rqpair->resources->free_queue, rdma_req, state_link);
	nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_FREE);
}

/* Fills the data WR's SGEs from the request's pool buffers; the keyed SGL gives the remote end. */
static int
nvmf_rdma_fill_wr_sgl(struct spdk_nvmf_rdma_device *device, struct spdk_nvmf_rdma_request *rdma_req)
{
	struct spdk_rdma_utils_memory_translation t;
	uint32_t i;

	for (i = 0; i < rdma_req->req.iovcnt; i++) {
		if (spdk_rdma_utils_get_translation(device->map, rdma_req->req.iov[i].iov_base,
						    rdma_req->req.iov[i].iov_len, &t) != 0) {
			return -EINVAL;
		}
		rdma_req->data.sgl[i].addr = (uintptr_t)rdma_req->req.iov[i].iov_base;
		rdma_req->data.sgl[i].length = (uint32_t)rdma_req->req.iov[i].iov_len;
		rdma_req->data.sgl[i].lkey = spdk_rdma_utils_memory_translation_get_lkey(&t);
	}
	rdma_req->data.wr.num_sge = (int)rdma_req->req.iovcnt;
	return 0;
}

/* SGL of a capsule: a keyed data block (the data moves by RDMA READ/WRITE into pool buffers) or
 * an offset data block inside the capsule. 0 with buffers (or in-capsule data), 0 with
 * iovcnt 0 when the pool is short (retry later), or -1 with the status already set. */
static int
nvmf_rdma_request_parse_sgl(struct spdk_nvmf_rdma_transport *rtransport,
			    struct spdk_nvmf_rdma_device *device,
			    struct spdk_nvmf_rdma_request *rdma_req)
{
	struct spdk_nvme_cmd *cmd = &rdma_req->req.cmd->nvme_cmd;
	struct spdk_nvme_sgl_descriptor *sgl = &cmd->dptr.sgl1;
	uint32_t length, max_len = rtransport->transport.opts.in_capsule_data_size;
	int rc;

	if (sgl->generic.type == SPDK_NVME_SGL_TYPE_KEYED_DATA_BLOCK &&
	    (sgl->keyed.subtype == SPDK_NVME_SGL_SUBTYPE_ADDRESS || sgl->keyed.subtype == 0xf)) {
		length = (uint32_t)sgl->keyed.length;
		if (length > rtransport->transport.opts.max_io_size) {
			SPDK_ERRLOG("Keyed SGL of 0x%x bytes is over max_io_size 0x%x\n", length,
				    rtransport->transport.opts.max_io_size);
			nvmf_req_set_status(&rdma_req->req, SPDK_NVME_SCT_GENERIC,
					    SPDK_NVME_SC_DATA_SGL_LENGTH_INVALID);
			return -1;
		}
		rdma_req->req.length = length;
		if (length == 0) {
			return 0;
		}
		rc = spdk_nvmf_request_get_buffers(&rdma_req->req, &rdma_req->recv->qpair->poller->group->group,
						   &rtransport->transport, length);
		if (rc == -ENOMEM) {
			rdma_req->req.iovcnt = 0;
			return 0;
		}
		if (rc != 0 || nvmf_rdma_fill_wr_sgl(device, rdma_req) != 0) {
			SPDK_ERRLOG("Keyed SGL of 0x%x bytes: no registered buffers (%d)\n", length, rc);
			if (rdma_req->req.data_from_pool) {
				spdk_nvmf_request_free_buffers(&rdma_req->req,
							       &rdma_req->recv->qpair->poller->group->group,
							       &rtransport->transport);
			}
			nvmf_req_set_status(&rdma_req->req, SPDK_NVME_SCT_GENERIC,
					    SPDK_NVME_SC_INTERNAL_DEVICE_ERROR);
			return -1;
		}
		rdma_req->data.wr.wr.rdma.rkey = (uint32_t)sgl->keyed.key;
		rdma_req->data.wr.wr.rdma.remote_addr = sgl->address;
		rdma_req->num_outstanding_data_wr = 1;
		if (rdma_req->req.xfer == SPDK_NVME_DATA_HOST_TO_CONTROLLER) {
			rdma_req->data.wr.opcode = IBV_WR_RDMA_READ;
			rdma_req->data.wr.send_flags = IBV_SEND_SIGNALED;
		} else {
			/* model: signaled too, so every WR completes once (upstream leaves it unsignaled) */
			rdma_req->data.wr.opcode = IBV_WR_RDMA_WRITE;
			rdma_req->data.wr.send_flags = IBV_SEND_SIGNALED;
		}
		return 0;
	}

	if (sgl->generic.type == SPDK_NVME_SGL_TYPE_DATA_BLOCK &&
	    sgl->unkeyed.subtype == SPDK_NVME_SGL_SUBTYPE_OFFSET) {
		uint64_t offset = sgl->address;

		length = sgl->unkeyed.length;
		if (offset > max_len || length > max_len - offset) {
			SPDK_ERRLOG("In-capsule data at 0x%" PRIx64 ", 0x%x bytes, is past the 0x%x "
				    "bytes the capsule holds\n", offset, length, max_len);
			nvmf_req_set_status(&rdma_req->req, SPDK_NVME_SCT_GENERIC,
					    SPDK_NVME_SC_INVALID_SGL_OFFSET);
			return -1;
		}
		if (rdma_req->recv->byte_len < sizeof(*rdma_req->req.cmd) + offset + length) {
			SPDK_ERRLOG("Capsule of %u bytes does not carry the 0x%x bytes its SGL names\n",
				    rdma_req->recv->byte_len, length);
			nvmf_req_set_status(&rdma_req->req, SPDK_NVME_SCT_GENERIC,
					    SPDK_NVME_SC_DATA_SGL_LENGTH_INVALID);
			return -1;
		}
		rdma_req->req.length = length;
		rdma_req->req.data = rdma_req->recv->buf + offset;
		rdma_req->req.iov[0].iov_base = rdma_req->req.data;
		rdma_req->req.iov[0].iov_len = length;
		rdma_req->req.iovcnt = 1;
		rdma_req->req.data_from_pool = false;
		return 0;
	}

	SPDK_ERRLOG("Invalid NVMf I/O Command SGL: Type 0x%x, Subtype 0x%x\n",
		    sgl->generic.type, sgl->generic.subtype);
	nvmf_req_set_status(&rdma_req->req, SPDK_NVME_SCT_GENERIC,
			    SPDK_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID);
	return -1;
}

static int
nvmf_rdma_request_transfer_in(struct spdk_nvmf_rdma_request *rdma_req)
{
	struct spdk_nvmf_rdma_qpair *rqpair = SPDK_CONTAINEROF(rdma_req->req.qpair,
					      struct spdk_nvmf_rdma_qpair, qpair);
	struct ibv_send_wr *bad_wr = NULL;
	int rc;

	rc = ibv_post_send(rqpair->rdma_qp, &rdma_req->data.wr, &bad_wr);
	if (rc != 0) {
		SPDK_ERRLOG("RDMA READ of %u bytes not posted: %d\n", rdma_req->req.length, rc);
		return -1;
	}
	rqpair->current_read_depth += rdma_req->num_outstanding_data_wr;
	rqpair->current_send_depth += rdma_req->num_outstanding_data_wr;
	return 0;
}

/* The response SEND, preceded in one chain by the RDMA WRITE of a controller-to-host transfer. */
static int
nvmf_rdma_request_transfer_out(struct spdk_nvmf_rdma_request *rdma_req, int *data_posted)
{
	struct spdk_nvmf_rdma_qpair *rqpair = SPDK_CONTAINEROF(rdma_req->req.qpair,
					      struct spdk_nvmf_rdma_qpair, qpair);
	struct spdk_nvme_cpl *rsp = &rdma_req->req.rsp->nvme_cpl;
	struct ibv_send_wr *first = &rdma_req->rsp.wr, *bad_wr = NULL;
	uint32_t num_wr = 1;
	int rc;

	*data_posted = 0;
	rsp->sqhd = rqpair->qpair.sq_head;
	rdma_req->rsp.wr.next = NULL;
	if (rsp->status.sc == SPDK_NVME_SC_SUCCESS && rdma_req->req.xfer == SPDK_NVME_DATA_CONTROLLER_TO_HOST &&
	    rdma_req->req.data_from_pool && rdma_req->num_outstanding_data_wr > 0) {
		rdma_req->data.wr.next = &rdma_req->rsp.wr;
		first = &rdma_req->data.wr;
		num_wr += rdma_req->num_outstanding_data_wr;
		*data_posted = 1;
	}
	rc = ibv_post_send(rqpair->rdma_qp, first, &bad_wr);
	rdma_req->data.wr.next = NULL;
	if (rc != 0) {
		SPDK_ERRLOG("Response of cid %u not posted: %d\n", rsp->cid, rc);
		return rc;
	}
	rqpair->current_send_depth += num_wr;
	return 0;
}

/* Takes the request off whichever pending queue its state implies. */
static void
nvmf_rdma_request_unlink_pending(struct spdk_nvmf_rdma_poll_group *rgroup,
				 struct spdk_nvmf_rdma_qpair *rqpair,
				 struct spdk_nvmf_rdma_request *rdma_req)
{
	switch (rdma_req->state) {
	case RDMA_REQUEST_STATE_NEED_BUFFER:
		STAILQ_REMOVE(&rgroup->group.pending_buf_queue, &rdma_req->req, spdk_nvmf_request,
			      buf_link);
		break;
	case RDMA_REQUEST_STATE_DATA_TRANSFER_TO_CONTROLLER_PENDING:
		STAILQ_REMOVE(&rqpair->pending_rdma_read_queue, rdma_req, spdk_nvmf_rdma_request,
			      state_link);
		break;
	case RDMA_REQUEST_STATE_DATA_TRANSFER_TO_HOST_PENDING:
		STAILQ_REMOVE(&rqpair->pending_rdma_write_queue, rdma_req, spdk_nvmf_rdma_request,
			      state_link);
		break;
	case RDMA_REQUEST_STATE_READY_TO_COMPLETE_PENDING:
		STAILQ_REMOVE(&rqpair->pending_rdma_send_queue, rdma_req, spdk_nvmf_rdma_request,
			      state_link);
		break;
	default:
		break;
	}
}

/* Advances one request as far as it goes; true if its state changed at all. */
static bool
nvmf_rdma_request_process(struct spdk_nvmf_rdma_transport *rtransport,
			  struct spdk_nvmf_rdma_request *rdma_req)
{
	struct spdk_nvmf_rdma_qpair *rqpair = SPDK_CONTAINEROF(rdma_req->req.qpair,
					      struct spdk_nvmf_rdma_qpair, qpair);
	struct spdk_nvmf_rdma_device *device = rqpair->device;
	struct spdk_nvmf_rdma_poll_group *rgroup = rqpair->poller->group;
	struct spdk_nvme_cpl *rsp = &rdma_req->req.rsp->nvme_cpl;
	enum spdk_nvmf_rdma_request_state prev;
	bool progress = false;
	int rc, data_posted;

	if (rqpair->ibv_in_error_state || !spdk_nvmf_qpair_is_active(&rqpair->qpair)) {
		if (rdma_req->state != RDMA_REQUEST_STATE_EXECUTING &&
		    rdma_req->state != RDMA_REQUEST_STATE_TRANSFERRING_HOST_TO_CONTROLLER &&
		    rdma_req->state != RDMA_REQUEST_STATE_TRANSFERRING_CONTROLLER_TO_HOST &&
		    rdma_req->state != RDMA_REQUEST_STATE_COMPLETING) {
			nvmf_rdma_request_unlink_pending(rgroup, rqpair, rdma_req);
			nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_COMPLETED);
		}
	}

	do {
		prev = rdma_req->state;
		switch (rdma_req->state) {
		case RDMA_REQUEST_STATE_FREE:
			break;
		case RDMA_REQUEST_STATE_NEW:
			rqpair->qd++;
			rdma_req->req.cmd = (union nvmf_h2c_msg *)(uintptr_t)rdma_req->recv->sgl[0].addr;
			memset(rdma_req->req.rsp, 0, sizeof(*rdma_req->req.rsp));
			rdma_req->req.iovcnt = 0;
			rdma_req->req.length = 0;
			rdma_req->req.data_from_pool = false;
			if (rdma_req->recv->byte_len < sizeof(struct spdk_nvme_cmd)) {
				SPDK_ERRLOG("Capsule of %u bytes is shorter than a command\n",
					    rdma_req->recv->byte_len);
				rtransport->evidence.capsules_rejected++;
				nvmf_req_set_status(&rdma_req->req, SPDK_NVME_SCT_GENERIC,
						    SPDK_NVME_SC_INVALID_FIELD);
				nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_READY_TO_COMPLETE);
				break;
			}
			rdma_req->req.xfer = spdk_nvmf_req_get_xfer(&rdma_req->req);
			if (rdma_req->req.xfer == SPDK_NVME_DATA_BIDIRECTIONAL) {
				nvmf_req_set_status(&rdma_req->req, SPDK_NVME_SCT_GENERIC,
						    SPDK_NVME_SC_INVALID_OPCODE);
				rtransport->evidence.capsules_rejected++;
				nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_READY_TO_COMPLETE);
				break;
			}
			if (rdma_req->req.xfer == SPDK_NVME_DATA_NONE) {
				nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_READY_TO_EXECUTE);
				break;
			}
			nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_NEED_BUFFER);
			STAILQ_INSERT_TAIL(&rgroup->group.pending_buf_queue, &rdma_req->req, buf_link);
			break;
		case RDMA_REQUEST_STATE_NEED_BUFFER:
			/* First come, first served: only the head of the group's queue asks the pool. */
			if (&rdma_req->req != STAILQ_FIRST(&rgroup->group.pending_buf_queue)) {
				break;
			}
			rc = nvmf_rdma_request_parse_sgl(rtransport, device, rdma_req);
			if (rc < 0) {
				STAILQ_REMOVE_HEAD(&rgroup->group.pending_buf_queue, buf_link);
				rtransport->evidence.capsules_rejected++;
				nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_READY_TO_COMPLETE);
				break;
			}
			if (rdma_req->req.length > 0 && rdma_req->req.iovcnt == 0) {
				break; /* the pool is short: wait on the queue */
			}
			STAILQ_REMOVE_HEAD(&rgroup->group.pending_buf_queue, buf_link);
			if (rdma_req->req.xfer == SPDK_NVME_DATA_HOST_TO_CONTROLLER &&
			    rdma_req->req.data_from_pool) {
				STAILQ_INSERT_TAIL(&rqpair->pending_rdma_read_queue, rdma_req, state_link);
				nvmf_rdma_request_set_state(rdma_req,
							    RDMA_REQUEST_STATE_DATA_TRANSFER_TO_CONTROLLER_PENDING);
				break;
			}
			nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_READY_TO_EXECUTE);
			break;
		case RDMA_REQUEST_STATE_DATA_TRANSFER_TO_CONTROLLER_PENDING:
			if (rdma_req != STAILQ_FIRST(&rqpair->pending_rdma_read_queue)) {
				break;
			}
			if (rqpair->current_read_depth + rdma_req->num_outstanding_data_wr >
			    rqpair->max_read_depth ||
			    rqpair->current_send_depth + rdma_req->num_outstanding_data_wr >
			    rqpair->max_send_depth) {
				break;
			}
			STAILQ_REMOVE_HEAD(&rqpair->pending_rdma_read_queue, state_link);
			if (nvmf_rdma_request_transfer_in(rdma_req) != 0) {
				nvmf_req_set_status(&rdma_req->req, SPDK_NVME_SCT_GENERIC,
						    SPDK_NVME_SC_INTERNAL_DEVICE_ERROR);
				nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_READY_TO_COMPLETE);
				break;
			}
			nvmf_rdma_request_set_state(rdma_req,
						    RDMA_REQUEST_STATE_TRANSFERRING_HOST_TO_CONTROLLER);
			break;
		case RDMA_REQUEST_STATE_TRANSFERRING_HOST_TO_CONTROLLER:
			break; /* the READ's completion moves it on */
		case RDMA_REQUEST_STATE_READY_TO_EXECUTE:
			nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_EXECUTING);
			spdk_nvmf_request_exec(&rdma_req->req);
			break;
		case RDMA_REQUEST_STATE_EXECUTING:
			break;
		case RDMA_REQUEST_STATE_EXECUTED:
			if (rsp->status.sc == SPDK_NVME_SC_SUCCESS &&
			    rdma_req->req.xfer == SPDK_NVME_DATA_CONTROLLER_TO_HOST &&
			    rdma_req->req.data_from_pool) {
				STAILQ_INSERT_TAIL(&rqpair->pending_rdma_write_queue, rdma_req, state_link);
				nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_DATA_TRANSFER_TO_HOST_PENDING);
			} else {
				STAILQ_INSERT_TAIL(&rqpair->pending_rdma_send_queue, rdma_req, state_link);
				nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_READY_TO_COMPLETE_PENDING);
			}
			break;
		case RDMA_REQUEST_STATE_DATA_TRANSFER_TO_HOST_PENDING:
			if (rdma_req != STAILQ_FIRST(&rqpair->pending_rdma_write_queue) ||
			    rqpair->current_send_depth + rdma_req->num_outstanding_data_wr + 1 >
			    rqpair->max_send_depth) {
				break;
			}
			STAILQ_REMOVE_HEAD(&rqpair->pending_rdma_write_queue, state_link);
			nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_READY_TO_COMPLETE);
			break;
		case RDMA_REQUEST_STATE_READY_TO_COMPLETE_PENDING:
			if (rdma_req != STAILQ_FIRST(&rqpair->pending_rdma_send_queue) ||
			    rqpair->current_send_depth + 1 > rqpair->max_send_depth) {
				break;
			}
			STAILQ_REMOVE_HEAD(&rqpair->pending_rdma_send_queue, state_link);
			nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_READY_TO_COMPLETE);
			break;
		case RDMA_REQUEST_STATE_READY_TO_COMPLETE:
			rc = nvmf_rdma_request_transfer_out(rdma_req, &data_posted);
			if (rc != 0) {
				nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_COMPLETED);
			} else {
				nvmf_rdma_request_set_state(rdma_req, data_posted ?
							    RDMA_REQUEST_STATE_TRANSFERRING_CONTROLLER_TO_HOST :
							    RDMA_REQUEST_STATE_COMPLETING);
			}
			break;
		case RDMA_REQUEST_STATE_TRANSFERRING_CONTROLLER_TO_HOST:
		case RDMA_REQUEST_STATE_COMPLETING:
			break; /* the SEND's completion moves it on */
		case RDMA_REQUEST_STATE_COMPLETED:
			rqpair->poller->stat.requests++;
			nvmf_rdma_request_free(rdma_req, rtransport);
			break;
		case RDMA_REQUEST_NUM_STATES:
		default:
			assert(0);
			break;
		}
		if (rdma_req->state != prev) {
			progress = true;
		}
	} while (rdma_req->state != prev);
	return progress;
}

/* Pending work of one qpair, in upstream's order (spec 5.2). With drain, every entry is tried. */
static NVMF_RDMA_NOINLINE void
nvmf_rdma_qpair_process_pending(struct spdk_nvmf_rdma_transport *rtransport,
				struct spdk_nvmf_rdma_qpair *rqpair, bool drain)
{
	struct spdk_nvmf_request *req, *tmp;
	struct spdk_nvmf_rdma_request *rdma_req, *req_tmp;
	struct spdk_nvmf_rdma_resources *resources;

	STAILQ_FOREACH_SAFE(rdma_req, &rqpair->pending_rdma_send_queue, state_link, req_tmp) {
		if (!nvmf_rdma_request_process(rtransport, rdma_req) && !drain) {
			break;
		}
	}
	STAILQ_FOREACH_SAFE(rdma_req, &rqpair->pending_rdma_read_queue, state_link, req_tmp) {
		if (rdma_req->state != RDMA_REQUEST_STATE_DATA_TRANSFER_TO_CONTROLLER_PENDING) {
			continue;
		}
		if (!nvmf_rdma_request_process(rtransport, rdma_req) && !drain) {
			break;
		}
	}
	STAILQ_FOREACH_SAFE(rdma_req, &rqpair->pending_rdma_write_queue, state_link, req_tmp) {
		if (!nvmf_rdma_request_process(rtransport, rdma_req) && !drain) {
			break;
		}
	}
	/* The group's queue: requests of any qpair of this poll group wait here for buffers. */
	STAILQ_FOREACH_SAFE(req, &rqpair->poller->group->group.pending_buf_queue, buf_link, tmp) {
		rdma_req = SPDK_CONTAINEROF(req, struct spdk_nvmf_rdma_request, req);
		if (!nvmf_rdma_request_process(rtransport, rdma_req) && !drain) {
			break;
		}
	}
	resources = rqpair->resources;
	while (resources != NULL && !STAILQ_EMPTY(&resources->free_queue) &&
	       !STAILQ_EMPTY(&resources->incoming_queue)) {
		struct spdk_nvmf_rdma_recv *rdma_recv = STAILQ_FIRST(&resources->incoming_queue);

		rdma_req = STAILQ_FIRST(&resources->free_queue);
		STAILQ_REMOVE_HEAD(&resources->free_queue, state_link);
		STAILQ_REMOVE_HEAD(&resources->incoming_queue, link);
		rdma_req->recv = rdma_recv;
		rdma_req->req.qpair = &rdma_recv->qpair->qpair;
		nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_NEW);
		if (!nvmf_rdma_request_process(rtransport, rdma_req)) {
			break;
		}
	}
}

static int
nvmf_rdma_req_free(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_rdma_request *rdma_req = SPDK_CONTAINEROF(req, struct spdk_nvmf_rdma_request, req);
	struct spdk_nvmf_rdma_qpair *rqpair = SPDK_CONTAINEROF(req->qpair, struct spdk_nvmf_rdma_qpair, qpair);

	nvmf_rdma_request_free(rdma_req, rqpair_rtransport(rqpair));
	return 0;
}

static int
nvmf_rdma_req_complete(struct spdk_nvmf_request *req)
{
	struct spdk_nvmf_rdma_request *rdma_req = SPDK_CONTAINEROF(req, struct spdk_nvmf_rdma_request, req);
	struct spdk_nvmf_rdma_qpair *rqpair = SPDK_CONTAINEROF(req->qpair, struct spdk_nvmf_rdma_qpair, qpair);

	if (rqpair->ibv_in_error_state) {
		nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_COMPLETED);
	} else {
		nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_EXECUTED);
	}
	nvmf_rdma_request_process(rqpair_rtransport(rqpair), rdma_req);
	return 0;
}

/* ---- qpairs ---- */

static void
nvmf_rdma_event_reject(struct rdma_cm_id *id, enum spdk_nvmf_rdma_transport_error error)
{
	struct spdk_nvmf_rdma_reject_private_data rej;

	memset(&rej, 0, sizeof(rej));
	rej.recfmt = 0;
	rej.sts = (uint16_t)error;
	rdma_reject(id, &rej, sizeof(rej));
}

static int
nvmf_rdma_event_accept(struct rdma_cm_id *id, struct spdk_nvmf_rdma_qpair *rqpair)
{
	struct spdk_nvmf_rdma_accept_private_data accept_data;
	struct rdma_conn_param param;

	memset(&accept_data, 0, sizeof(accept_data));
	memset(&param, 0, sizeof(param));
	accept_data.crqsize = rqpair->max_queue_depth;
	param.private_data = &accept_data;
	param.private_data_len = sizeof(accept_data);
	param.initiator_depth = (uint8_t)rqpair->max_read_depth;
	param.retry_count = 7;
	param.rnr_retry_count = 7;
	param.srq = rqpair->srq != NULL;
	param.qp_num = rqpair->rdma_qp->qp_num;
	if (rdma_accept(id, &param) != 0) {
		SPDK_ERRLOG("rdma_accept of qpair %u failed: errno %d\n", rqpair->serial, errno);
		return -1;
	}
	return 0;
}

static struct spdk_nvmf_rdma_qpair *
nvmf_rdma_qpair_of_id(struct spdk_nvmf_rdma_transport *rtransport, struct rdma_cm_id *id)
{
	struct spdk_nvmf_rdma_qpair *rqpair;

	TAILQ_FOREACH(rqpair, &rtransport->all_qpairs, all_link) {
		if (rqpair->cm_id == id) {
			return rqpair;
		}
	}
	return NULL;
}

static void
nvmf_rdma_qpair_destroy(struct spdk_nvmf_rdma_qpair *rqpair)
{
	struct spdk_nvmf_rdma_transport *rtransport = rqpair_rtransport(rqpair);
	struct spdk_nvmf_rdma_poller *poller = rqpair->poller;
	struct spdk_nvmf_rdma_resources *resources = rqpair->resources;
	struct spdk_nvmf_rdma_recv *rdma_recv, *recv_tmp;
	struct ibv_recv_wr *bad_wr = NULL;
	uint32_t i;

	SPDK_WASM_TRACE("nvmf_rdma_qpair_destroy", rqpair, rqpair->serial, poller,
			poller ? poller->need_destroy : 0);
	if (resources != NULL) {
		/* Requests still held by this qpair go back to the shared pool. */
		for (i = 0; i < resources->count; i++) {
			struct spdk_nvmf_rdma_request *rdma_req = &resources->reqs[i];

			if (rdma_req->req.qpair == &rqpair->qpair && rdma_req->state != RDMA_REQUEST_STATE_FREE) {
				nvmf_rdma_request_unlink_pending(poller->group, rqpair, rdma_req);
				nvmf_rdma_request_free(rdma_req, rtransport);
			}
		}
		/* Commands that arrived but were never started: their receives go back to the SRQ. */
		STAILQ_FOREACH_SAFE(rdma_recv, &resources->incoming_queue, link, recv_tmp) {
			if (rdma_recv->qpair == rqpair) {
				STAILQ_REMOVE(&resources->incoming_queue, rdma_recv, spdk_nvmf_rdma_recv, link);
				rdma_recv->qpair = NULL;
				if (rqpair->srq != NULL) {
					ibv_post_srq_recv(rqpair->srq, &rdma_recv->wr, &bad_wr);
				}
			}
		}
	}
	if (poller != NULL) {
		TAILQ_REMOVE(&poller->qpairs, rqpair, link);
	}
	if (rqpair->rdma_qp != NULL) {
		rdma_destroy_qp(rqpair->cm_id);
		if (rqpair->cm_id->qp != NULL) {
			SPDK_ERRLOG("QP of qpair %u could not be destroyed: errno %d\n", rqpair->serial, errno);
		}
		rqpair->rdma_qp = NULL;
	}
	if (poller != NULL && poller->need_destroy && TAILQ_EMPTY(&poller->qpairs)) {
		nvmf_rdma_poller_destroy(poller);
	}
	/* The CM id goes last: it holds the device context the QP and CQ were made on. */
	if (rqpair->cm_id != NULL && rdma_destroy_id(rqpair->cm_id) != 0) {
		SPDK_ERRLOG("CM id of qpair %u could not be destroyed: errno %d\n", rqpair->serial, errno);
	}
	TAILQ_REMOVE(&rtransport->all_qpairs, rqpair, all_link);
	rtransport->evidence.qpairs_freed++;
	free(rqpair);
}

static void
nvmf_rdma_destroy_drained_qpair(struct spdk_nvmf_rdma_qpair *rqpair)
{
	struct spdk_nvmf_rdma_transport *rtransport = rqpair_rtransport(rqpair);

	nvmf_rdma_qpair_process_pending(rtransport, rqpair, true);

	if (!rqpair->to_close) {
		return;
	}
	/* Never given a QP (it failed to join a poll group), or its device is going away:
	 * nothing will complete any more, so it goes now. */
	if (rqpair->rdma_qp == NULL || rqpair->poller->need_destroy) {
		nvmf_rdma_qpair_destroy(rqpair);
		return;
	}
	if (rqpair->current_send_depth != 0) {
		return;
	}
	if (rqpair->srq != NULL && !rqpair->last_wqe_reached) {
		return;
	}
	nvmf_rdma_qpair_destroy(rqpair);
}

static void
nvmf_rdma_close_qpair(struct spdk_nvmf_qpair *qpair, spdk_nvmf_transport_qpair_fini_cb cb_fn,
		      void *cb_arg)
{
	struct spdk_nvmf_rdma_qpair *rqpair = SPDK_CONTAINEROF(qpair, struct spdk_nvmf_rdma_qpair, qpair);
	struct ibv_qp_attr attr;

	SPDK_WASM_TRACE("nvmf_rdma_close_qpair", rqpair, rqpair->serial, qpair->state, rqpair->poller);
	rqpair->to_close = true;
	if (qpair->state == SPDK_NVMF_QPAIR_UNINITIALIZED && rqpair->cm_id != NULL) {
		nvmf_rdma_event_reject(rqpair->cm_id, SPDK_NVMF_RDMA_ERROR_NO_RESOURCES);
	}
	if (rqpair->rdma_qp != NULL) {
		rdma_disconnect(rqpair->cm_id);
		memset(&attr, 0, sizeof(attr));
		attr.qp_state = IBV_QPS_ERR;
		ibv_modify_qp(rqpair->rdma_qp, &attr, IBV_QP_STATE);
	}
	nvmf_rdma_destroy_drained_qpair(rqpair);
	/* As upstream: the generic layer hears at once, before the drain ends (issue #3885). */
	if (cb_fn != NULL) {
		cb_fn(cb_arg);
	}
}

static int
nvmf_rdma_qpair_initialize(struct spdk_nvmf_rdma_qpair *rqpair)
{
	struct spdk_nvmf_rdma_device *device = rqpair->device;
	struct spdk_nvmf_rdma_poller *poller = rqpair->poller;
	struct ibv_qp_init_attr init;

	memset(&init, 0, sizeof(init));
	init.qp_context = rqpair;
	init.send_cq = poller->cq;
	init.recv_cq = poller->cq;
	init.srq = poller->srq;
	init.qp_type = IBV_QPT_RC;
	/* Each request may have a data WR and a response in flight at once. */
	init.cap.max_send_wr = (uint32_t)rqpair->max_queue_depth * 2;
	init.cap.max_send_sge = spdk_min((uint32_t)device->attr.max_sge, NVMF_DEFAULT_TX_SGE);
	init.cap.max_recv_sge = spdk_min((uint32_t)device->attr.max_sge, NVMF_DEFAULT_RX_SGE);
	init.cap.max_recv_wr = poller->srq != NULL ? 0 : rqpair->max_queue_depth;
	if (poller->srq == NULL || poller->resources == NULL) {
		SPDK_ERRLOG("Poller of device %u has no shared receive queue\n", device->serial);
		return -1;
	}
	if (rdma_create_qp(rqpair->cm_id, device->pd, &init) != 0) {
		SPDK_ERRLOG("rdma_create_qp failed: errno %d\n", errno);
		return -1;
	}
	rqpair->rdma_qp = rqpair->cm_id->qp;
	rqpair->max_send_depth = init.cap.max_send_wr;
	rqpair->max_send_sge = init.cap.max_send_sge;
	rqpair->max_recv_sge = init.cap.max_recv_sge;
	rqpair->srq = poller->srq;
	rqpair->resources = poller->resources;
	return 0;
}

/* CONNECT_REQUEST: checks the host's private data, sizes the queues and hands the qpair to a
 * poll group (upstream messages the group's thread; a message to this thread stands for it). */
static void
nvmf_rdma_qpair_add_msg(void *ctx)
{
	struct spdk_nvmf_rdma_qpair *rqpair = ctx;
	int rc;

	rc = spdk_nvmf_tgt_new_qpair(rqpair->qpair.transport->tgt, &rqpair->qpair);
	if (rc != 0) {
		SPDK_ERRLOG("Unable to add the qpair to a poll group.\n");
		rqpair_rtransport(rqpair)->evidence.add_failed++;
		spdk_nvmf_qpair_disconnect(&rqpair->qpair);
	}
}

static int
nvmf_rdma_connect(struct spdk_nvmf_rdma_transport *rtransport, struct rdma_cm_event *event)
{
	struct spdk_nvmf_transport_opts *opts = &rtransport->transport.opts;
	struct rdma_conn_param *param = &event->param.conn;
	const struct spdk_nvmf_rdma_request_private_data *pd;
	struct spdk_nvmf_rdma_port *port = NULL, *p;
	struct spdk_nvmf_rdma_qpair *rqpair;
	uint32_t max_queue_depth, max_read_depth;

	TAILQ_FOREACH(p, &rtransport->ports, link) {
		if (event->listen_id != NULL && p->id == event->listen_id) {
			port = p;
		}
	}
	if (port == NULL || port->device == NULL) {
		SPDK_ERRLOG("Connect request on a listener that is gone\n");
		nvmf_rdma_event_reject(event->id, SPDK_NVMF_RDMA_ERROR_NO_RESOURCES);
		return -1;
	}
	if (param->private_data == NULL || param->private_data_len < sizeof(*pd)) {
		SPDK_ERRLOG("Connect request carries %u bytes of private data, %zu needed\n",
			    param->private_data_len, sizeof(*pd));
		nvmf_rdma_event_reject(event->id, SPDK_NVMF_RDMA_ERROR_INVALID_PRIVATE_DATA_LENGTH);
		return -1;
	}
	pd = param->private_data;
	if (pd->recfmt != 0) {
		SPDK_ERRLOG("Connect request with record format %u (only 0 exists)\n", pd->recfmt);
		nvmf_rdma_event_reject(event->id, SPDK_NVMF_RDMA_ERROR_INVALID_RECFMT);
		return -1;
	}
	if (pd->hrqsize == 0) {
		SPDK_ERRLOG("Connect request with a host receive queue of 0 entries\n");
		nvmf_rdma_event_reject(event->id, SPDK_NVMF_RDMA_ERROR_INVALID_HRQSIZE);
		return -1;
	}
	max_queue_depth = spdk_min((uint32_t)opts->max_queue_depth, (uint32_t)port->device->attr.max_qp_wr);
	if (pd->qid == 0) {
		max_queue_depth = spdk_min(max_queue_depth, opts->max_aq_depth);
	}
	max_queue_depth = spdk_min(max_queue_depth, (uint32_t)pd->hrqsize);
	max_queue_depth = spdk_min(max_queue_depth, (uint32_t)pd->hsqsize + 1);
	max_read_depth = (uint32_t)port->device->attr.max_qp_init_rd_atom;
	if (param->initiator_depth > 0) {
		max_read_depth = spdk_min(max_read_depth, (uint32_t)param->initiator_depth);
	}

	rqpair = calloc(1, sizeof(*rqpair));
	if (rqpair == NULL) {
		nvmf_rdma_event_reject(event->id, SPDK_NVMF_RDMA_ERROR_NO_RESOURCES);
		return -1;
	}
	rqpair->device = port->device;
	rqpair->max_queue_depth = (uint16_t)max_queue_depth;
	rqpair->max_read_depth = (uint16_t)max_read_depth;
	rqpair->cm_id = event->id;
	rqpair->listen_id = event->listen_id;
	rqpair->qpair.transport = &rtransport->transport;
	rqpair->qpair.qid = pd->qid;
	rqpair->qpair.queue_depth = max_queue_depth;
	rqpair->qpair.sq_head_max = (uint16_t)(max_queue_depth - 1);
	STAILQ_INIT(&rqpair->pending_rdma_read_queue);
	STAILQ_INIT(&rqpair->pending_rdma_write_queue);
	STAILQ_INIT(&rqpair->pending_rdma_send_queue);
	rqpair->serial = ++rtransport->next_serial;
	TAILQ_INSERT_TAIL(&rtransport->all_qpairs, rqpair, all_link);
	rtransport->evidence.qpairs_created++;
	event->id->context = &rqpair->qpair;
	SPDK_WASM_TRACE("nvmf_rdma_connect", rqpair, rqpair->serial, pd->qid, max_queue_depth);
	spdk_thread_send_msg(spdk_get_thread(), nvmf_rdma_qpair_add_msg, rqpair);
	return 0;
}

static void
nvmf_rdma_disconnect(struct spdk_nvmf_rdma_transport *rtransport, struct rdma_cm_id *id)
{
	struct spdk_nvmf_rdma_qpair *rqpair = nvmf_rdma_qpair_of_id(rtransport, id);

	/* A qpair whose hand-over to a poll group is still a message in flight is left to it:
	 * joining fails on the dead id and disconnects it then. */
	if (rqpair != NULL && rqpair->qpair.group != NULL) {
		spdk_nvmf_qpair_disconnect(&rqpair->qpair);
	}
}

/* ---- pollers and poll groups ---- */

static NVMF_RDMA_NOINLINE void
nvmf_rdma_poller_destroy(struct spdk_nvmf_rdma_poller *poller)
{
	struct spdk_nvmf_rdma_transport *rtransport = SPDK_CONTAINEROF(poller->group->group.transport,
			struct spdk_nvmf_rdma_transport, transport);
	struct spdk_nvmf_rdma_qpair *rqpair;

	SPDK_WASM_TRACE("nvmf_rdma_poller_destroy", poller, poller->serial, poller->need_destroy, 0);
	TAILQ_REMOVE(&poller->group->pollers, poller, link);
	while ((rqpair = TAILQ_FIRST(&poller->qpairs)) != NULL) {
		nvmf_rdma_qpair_destroy(rqpair);
	}
	if (poller->srq != NULL) {
		if (ibv_destroy_srq(poller->srq) != 0) {
			SPDK_ERRLOG("SRQ of poller %u could not be destroyed\n", poller->serial);
		}
		poller->device->num_srq--;
	}
	if (poller->resources != NULL) {
		nvmf_rdma_resources_destroy(poller->resources);
	}
	if (poller->cq != NULL && ibv_destroy_cq(poller->cq) != 0) {
		SPDK_ERRLOG("CQ of poller %u could not be destroyed\n", poller->serial);
	}
	if (poller->destroy_cb != NULL) {
		poller->destroy_cb(poller->destroy_cb_ctx);
		poller->destroy_cb = NULL;
	}
	rtransport->evidence.pollers_freed++;
	free(poller);
}

/* The poller is in the group's list from its first line on, while its SRQ, resources and CQ
 * are still being made: a removal running meanwhile can see it (the #3662 window). */
static int
nvmf_rdma_poller_create(struct spdk_nvmf_rdma_transport *rtransport,
			struct spdk_nvmf_rdma_poll_group *rgroup, struct spdk_nvmf_rdma_device *device,
			struct spdk_nvmf_rdma_poller **out)
{
	struct spdk_nvmf_rdma_resource_opts opts;
	struct spdk_nvmf_rdma_poller *poller;
	struct ibv_srq_init_attr srq_init;

	(*out) = NULL;
	poller = calloc(1, sizeof(*poller));
	if (poller == NULL) {
		return -1;
	}
	poller->device = device;
	poller->group = rgroup;
	poller->serial = ++rtransport->next_serial;
	TAILQ_INIT(&poller->qpairs);
	(*out) = poller;
	TAILQ_INSERT_TAIL(&rgroup->pollers, poller, link);
	rtransport->evidence.pollers_created++;
	SPDK_WASM_TRACE("nvmf_rdma_poller_create", poller, poller->serial, device->serial, rgroup->serial);

	if (device->attr.max_srq == 0) {
		SPDK_ERRLOG("Device %s has no shared receive queues (the model needs them)\n",
			    device->context->device->name);
		return -1;
	}
	poller->max_srq_depth = (uint16_t)spdk_min(rtransport->max_srq_depth,
				(uint32_t)device->attr.max_srq_wr);
	memset(&srq_init, 0, sizeof(srq_init));
	srq_init.attr.max_wr = poller->max_srq_depth;
	srq_init.attr.max_sge = spdk_min((uint32_t)device->attr.max_sge, NVMF_DEFAULT_RX_SGE);
	poller->srq = ibv_create_srq(device->pd, &srq_init);
	if (poller->srq == NULL) {
		SPDK_ERRLOG("Unable to create shared receive queue, errno %d\n", errno);
		return -1;
	}
	device->num_srq++;
	memset(&opts, 0, sizeof(opts));
	opts.srq = poller->srq;
	opts.map = device->map;
	opts.max_queue_depth = poller->max_srq_depth;
	opts.in_capsule_data_size = rtransport->transport.opts.in_capsule_data_size;
	opts.shared = true;
	poller->resources = nvmf_rdma_resources_create(&opts);
	if (poller->resources == NULL) {
		SPDK_ERRLOG("Unable to allocate resources for shared receive queue.\n");
		return -1;
	}
	poller->num_cqe = DEFAULT_NVMF_RDMA_CQ_SIZE;
	poller->cq = ibv_create_cq(device->context, poller->num_cqe, poller, NULL, 0);
	if (poller->cq == NULL) {
		SPDK_ERRLOG("Unable to create completion queue, errno %d\n", errno);
		return -1;
	}
	return 0;
}

static struct spdk_nvmf_transport_poll_group *
nvmf_rdma_poll_group_create(struct spdk_nvmf_transport *transport, struct spdk_nvmf_poll_group *group)
{
	struct spdk_nvmf_rdma_transport *rtransport = SPDK_CONTAINEROF(transport,
			struct spdk_nvmf_rdma_transport, transport);
	struct spdk_nvmf_rdma_poll_group *rgroup = calloc(1, sizeof(*rgroup));
	struct spdk_nvmf_rdma_poller *poller, *tmp;
	struct spdk_nvmf_rdma_device *device;

	(void)group;
	if (rgroup == NULL) {
		return NULL;
	}
	/* The base sets these after we return; the pollers need the transport before. */
	rgroup->group.transport = transport;
	rgroup->group.group = group;
	rgroup->serial = ++rtransport->next_serial;
	TAILQ_INIT(&rgroup->pollers);
	TAILQ_FOREACH(device, &rtransport->devices, link) {
		if (nvmf_rdma_poller_create(rtransport, rgroup, device, &poller) < 0) {
			rtransport->evidence.poller_create_failed++;
			TAILQ_FOREACH_SAFE(poller, &rgroup->pollers, link, tmp) {
				nvmf_rdma_poller_destroy(poller);
			}
			free(rgroup);
			return NULL;
		}
	}
	TAILQ_INSERT_TAIL(&rtransport->poll_groups, rgroup, link);
	return &rgroup->group;
}

static void
nvmf_rdma_poll_group_destroy(struct spdk_nvmf_transport_poll_group *group)
{
	struct spdk_nvmf_rdma_poll_group *rgroup = SPDK_CONTAINEROF(group,
			struct spdk_nvmf_rdma_poll_group, group);
	struct spdk_nvmf_rdma_transport *rtransport = SPDK_CONTAINEROF(group->transport,
			struct spdk_nvmf_rdma_transport, transport);
	struct spdk_nvmf_rdma_poller *poller, *tmp;

	TAILQ_FOREACH_SAFE(poller, &rgroup->pollers, link, tmp) {
		nvmf_rdma_poller_destroy(poller);
	}
	TAILQ_REMOVE(&rtransport->poll_groups, rgroup, link);
	free(rgroup);
}

static int
nvmf_rdma_poll_group_add(struct spdk_nvmf_transport_poll_group *group, struct spdk_nvmf_qpair *qpair)
{
	struct spdk_nvmf_rdma_poll_group *rgroup = SPDK_CONTAINEROF(group,
			struct spdk_nvmf_rdma_poll_group, group);
	struct spdk_nvmf_rdma_qpair *rqpair = SPDK_CONTAINEROF(qpair, struct spdk_nvmf_rdma_qpair, qpair);
	struct spdk_nvmf_rdma_transport *rtransport = rqpair_rtransport(rqpair);
	struct spdk_nvmf_rdma_poller *poller;

	TAILQ_FOREACH(poller, &rgroup->pollers, link) {
		if (poller->device == rqpair->device) {
			break;
		}
	}
	if (poller == NULL) {
		SPDK_ERRLOG("No poller found for device.\n");
		rtransport->evidence.no_poller_found++;
		return -1;
	}
	if (poller->need_destroy) {
		SPDK_ERRLOG("Poller is destroying.\n");
		rtransport->evidence.poller_destroying++;
		return -1;
	}
	rqpair->poller = poller;
	if (nvmf_rdma_qpair_initialize(rqpair) != 0) {
		SPDK_ERRLOG("Failed to initialize nvmf_rdma_qpair with qpair=%p\n", (void *)qpair);
		rqpair->poller = NULL;
		return -1;
	}
	TAILQ_INSERT_TAIL(&poller->qpairs, rqpair, link);
	if (nvmf_rdma_event_accept(rqpair->cm_id, rqpair) != 0) {
		/* The host hears nothing and times out; the qpair goes with the first disconnect. */
		rqpair->ibv_in_error_state = true;
	}
	return 0;
}

static int
nvmf_rdma_poll_group_remove(struct spdk_nvmf_transport_poll_group *group,
			    struct spdk_nvmf_qpair *qpair)
{
	/* The qpair stays on its poller until it is destroyed (drained first). */
	(void)group;
	(void)qpair;
	return 0;
}

static struct spdk_nvmf_rdma_qpair *
nvmf_rdma_poller_find_qpair(struct spdk_nvmf_rdma_poller *rpoller, uint32_t qp_num)
{
	struct spdk_nvmf_rdma_qpair *rqpair;

	TAILQ_FOREACH(rqpair, &rpoller->qpairs, link) {
		if (rqpair->rdma_qp != NULL && rqpair->rdma_qp->qp_num == qp_num) {
			return rqpair;
		}
	}
	return NULL;
}

/* A failed completion: the qpair is broken; the request finishes without more transfers. */
static void
nvmf_rdma_wc_error(struct spdk_nvmf_rdma_transport *rtransport, struct spdk_nvmf_rdma_qpair *rqpair,
		   const struct ibv_wc *wc)
{
	rtransport->evidence.wc_errors++;
	if (!rqpair->ibv_in_error_state) {
		if (wc->status != IBV_WC_WR_FLUSH_ERR) {
			SPDK_ERRLOG("Completion of qpair %u failed: status %d\n", rqpair->serial, wc->status);
		}
		rqpair->ibv_in_error_state = true;
	}
}

static int
nvmf_rdma_poller_poll(struct spdk_nvmf_rdma_transport *rtransport, struct spdk_nvmf_rdma_poller *rpoller)
{
	struct ibv_wc wc[NVMF_RDMA_CQ_BATCH];
	struct spdk_nvmf_rdma_qpair *rqpair, *tmp;
	struct ibv_recv_wr *bad_wr = NULL;
	int reaped, i;

	if (rpoller->need_destroy) {
		/* Nothing is polled any more: every qpair goes, then the poller with the last. */
		TAILQ_FOREACH_SAFE(rqpair, &rpoller->qpairs, link, tmp) {
			nvmf_rdma_destroy_drained_qpair(rqpair);
		}
		return 0;
	}
	rpoller->stat.polls++;
	reaped = ibv_poll_cq(rpoller->cq, NVMF_RDMA_CQ_BATCH, wc);
	if (reaped < 0) {
		SPDK_ERRLOG("Error polling CQ of poller %u: %d\n", rpoller->serial, reaped);
		return -1;
	}
	for (i = 0; i < reaped; i++) {
		struct spdk_nvmf_rdma_wr *rdma_wr = (struct spdk_nvmf_rdma_wr *)(uintptr_t)wc[i].wr_id;
		struct spdk_nvmf_rdma_request *rdma_req;
		struct spdk_nvmf_rdma_recv *rdma_recv;

		rpoller->stat.completions++;
		switch (rdma_wr->type) {
		case RDMA_WR_TYPE_RECV:
			rdma_recv = SPDK_CONTAINEROF(rdma_wr, struct spdk_nvmf_rdma_recv, rdma_wr);
			rqpair = nvmf_rdma_poller_find_qpair(rpoller, wc[i].qp_num);
			if (wc[i].status != IBV_WC_SUCCESS || rqpair == NULL) {
				/* Not for a qpair of ours (any more): the receive is posted again. */
				rdma_recv->qpair = NULL;
				if (rpoller->srq != NULL) {
					ibv_post_srq_recv(rpoller->srq, &rdma_recv->wr, &bad_wr);
				}
				break;
			}
			rdma_recv->qpair = rqpair;
			rdma_recv->byte_len = wc[i].byte_len;
			STAILQ_INSERT_TAIL(&rqpair->resources->incoming_queue, rdma_recv, link);
			break;
		case RDMA_WR_TYPE_SEND:
			rdma_req = SPDK_CONTAINEROF(rdma_wr, struct spdk_nvmf_rdma_request, rsp.rdma_wr);
			rqpair = SPDK_CONTAINEROF(rdma_req->req.qpair, struct spdk_nvmf_rdma_qpair, qpair);
			rqpair->current_send_depth--;
			if (wc[i].status != IBV_WC_SUCCESS) {
				nvmf_rdma_wc_error(rtransport, rqpair, &wc[i]);
			}
			nvmf_rdma_request_set_state(rdma_req, RDMA_REQUEST_STATE_COMPLETED);
			nvmf_rdma_request_process(rtransport, rdma_req);
			if (rqpair->to_close) {
				nvmf_rdma_destroy_drained_qpair(rqpair);
			}
			break;
		case RDMA_WR_TYPE_DATA:
			rdma_req = SPDK_CONTAINEROF(rdma_wr, struct spdk_nvmf_rdma_request, data.rdma_wr);
			rqpair = SPDK_CONTAINEROF(rdma_req->req.qpair, struct spdk_nvmf_rdma_qpair, qpair);
			rqpair->current_send_depth--;
			rdma_req->num_outstanding_data_wr--;
			if (wc[i].status != IBV_WC_SUCCESS) {
				nvmf_rdma_wc_error(rtransport, rqpair, &wc[i]);
			}
			if (rdma_req->state == RDMA_REQUEST_STATE_TRANSFERRING_HOST_TO_CONTROLLER) {
				rqpair->current_read_depth--;
				if (rdma_req->num_outstanding_data_wr == 0) {
					nvmf_rdma_request_set_state(rdma_req, wc[i].status == IBV_WC_SUCCESS ?
								    RDMA_REQUEST_STATE_READY_TO_EXECUTE :
								    RDMA_REQUEST_STATE_COMPLETED);
					nvmf_rdma_request_process(rtransport, rdma_req);
				}
			}
			if (rqpair->to_close) {
				nvmf_rdma_destroy_drained_qpair(rqpair);
			}
			break;
		default:
			SPDK_ERRLOG("Completion with an unknown work request type %d\n", rdma_wr->type);
			break;
		}
	}
	TAILQ_FOREACH_SAFE(rqpair, &rpoller->qpairs, link, tmp) {
		if (rqpair->ibv_in_error_state && spdk_nvmf_qpair_is_active(&rqpair->qpair)) {
			spdk_nvmf_qpair_disconnect(&rqpair->qpair);
			continue;
		}
		nvmf_rdma_qpair_process_pending(rtransport, rqpair, false);
	}
	return reaped;
}

static int
nvmf_rdma_poll_group_poll(struct spdk_nvmf_transport_poll_group *group)
{
	struct spdk_nvmf_rdma_poll_group *rgroup = SPDK_CONTAINEROF(group,
			struct spdk_nvmf_rdma_poll_group, group);
	struct spdk_nvmf_rdma_transport *rtransport = SPDK_CONTAINEROF(group->transport,
			struct spdk_nvmf_rdma_transport, transport);
	struct spdk_nvmf_rdma_poller *rpoller, *tmp;
	int count = 0, rc;

	TAILQ_FOREACH_SAFE(rpoller, &rgroup->pollers, link, tmp) {
		rc = nvmf_rdma_poller_poll(rtransport, rpoller);
		if (rc < 0) {
			return rc;
		}
		count += rc;
	}
	return count;
}

/* ---- devices: creation, removal and the rescan that brings them back ---- */

static void
destroy_ib_device(struct spdk_nvmf_rdma_transport *rtransport, struct spdk_nvmf_rdma_device *device)
{
	int rc;

	SPDK_WASM_TRACE("destroy_ib_device", device, device->serial, 0, 0);
	TAILQ_REMOVE(&rtransport->devices, device, link);
	spdk_rdma_utils_free_mem_map(&device->map);
	if (device->pd != NULL) {
		rc = ibv_dealloc_pd(device->pd);
		if (rc != 0) {
			SPDK_ERRLOG("PD of device %u could not be freed: %d\n", device->serial, rc);
		}
	}
	rtransport->evidence.devices_destroyed++;
	free(device);
}

static int
create_ib_device(struct spdk_nvmf_rdma_transport *rtransport, struct ibv_context *context,
		 struct spdk_nvmf_rdma_device **new_device)
{
	struct spdk_nvmf_rdma_device *device = calloc(1, sizeof(*device));
	int rc;

	if (device == NULL) {
		return -ENOMEM;
	}
	device->context = context;
	rc = ibv_query_device(context, &device->attr);
	if (rc != 0) {
		SPDK_ERRLOG("Querying device %s failed: %d\n", context->device->name, rc);
		free(device);
		return -rc;
	}
	device->serial = ++rtransport->next_serial;
	TAILQ_INSERT_TAIL(&rtransport->devices, device, link);
	rtransport->evidence.devices_created++;
	device->pd = ibv_alloc_pd(context);
	if (device->pd == NULL) {
		SPDK_ERRLOG("No protection domain on device %s: errno %d\n", context->device->name, errno);
		rtransport->evidence.create_device_failed++;
		destroy_ib_device(rtransport, device);
		return -ENOMEM;
	}
	/* Registers every range of registered memory with the new PD; one failure fails it all. */
	device->map = spdk_rdma_utils_create_mem_map(device->pd, NULL, IBV_ACCESS_LOCAL_WRITE);
	if (device->map == NULL) {
		SPDK_ERRLOG("Unable to allocate memory map for listen address\n");
		rtransport->evidence.create_device_failed++;
		destroy_ib_device(rtransport, device);
		return -ENOMEM;
	}
	SPDK_NOTICELOG("Device %s (%u) created\n", context->device->name, device->serial);
	SPDK_WASM_TRACE("create_ib_device", device, device->serial, 0, 0);
	if (new_device != NULL) {
		(*new_device) = device;
	}
	return 0;
}

static void
_nvmf_rdma_remove_destroyed_device(void *ctx)
{
	struct spdk_nvmf_rdma_transport *rtransport = ctx;
	struct spdk_nvmf_rdma_device *device, *tmp;

	TAILQ_FOREACH_SAFE(device, &rtransport->devices, link, tmp) {
		if (device->ready_to_destroy) {
			destroy_ib_device(rtransport, device);
		}
	}
}

static void
nvmf_rdma_device_ready_to_destroy(struct spdk_nvmf_rdma_transport *rtransport,
				  struct spdk_nvmf_rdma_device *device, struct spdk_thread *thread)
{
	device->ready_to_destroy = true;
	rtransport->evidence.removals_done++;
	spdk_thread_send_msg(thread, _nvmf_rdma_remove_destroyed_device, rtransport);
}

static void
_nvmf_rdma_remove_poller_in_group_cb(void *c)
{
	struct poller_manage_ctx *ctx = c;

	if (--(*ctx->inflight_op_counter) == 0) {
		free((void *)ctx->inflight_op_counter);
		nvmf_rdma_device_ready_to_destroy(ctx->rtransport, ctx->device, ctx->thread);
	}
	free(ctx);
}

/* On the group's thread: the poller goes once its last qpair is gone. */
static void
_nvmf_rdma_remove_poller_in_group(void *c)
{
	struct poller_manage_ctx *ctx = c;
	struct spdk_nvmf_rdma_poller *rpoller = ctx->rpoller;

	rpoller->need_destroy = true;
	rpoller->destroy_cb = _nvmf_rdma_remove_poller_in_group_cb;
	rpoller->destroy_cb_ctx = ctx;
	if (TAILQ_EMPTY(&rpoller->qpairs)) {
		nvmf_rdma_poller_destroy(rpoller);
	}
}

static void
_nvmf_rdma_register_poller_in_group(void *c)
{
	struct poller_manage_ctx *ctx = c;
	struct spdk_nvmf_rdma_transport *rtransport = ctx->rtransport;
	struct spdk_nvmf_rdma_poller *poller;
	int rc;

	rc = nvmf_rdma_poller_create(rtransport, ctx->rgroup, ctx->device, &poller);
	if (rc < 0) {
		rtransport->evidence.poller_create_failed++;
		if (poller != NULL) {
			nvmf_rdma_poller_destroy(poller);
		}
	}
	if (--(*ctx->inflight_op_counter) == 0) {
		free((void *)ctx->inflight_op_counter);
		ctx->device->is_ready = true;
	}
	free(ctx);
}

/* Sends one add (where the device has no poller) or remove (where it has one) to every poll
 * group; the shared counter tells the last of them. */
static int
nvmf_rdma_manage_poller(struct spdk_nvmf_rdma_transport *rtransport,
			struct spdk_nvmf_rdma_device *device, bool *has_inflight, bool is_add)
{
	struct spdk_nvmf_rdma_poll_group *rgroup;
	struct spdk_nvmf_rdma_poller *rpoller;
	struct poller_manage_ctx *ctx;
	int *counter = calloc(1, sizeof(*counter));

	(*has_inflight) = false;
	if (counter == NULL) {
		return -ENOMEM;
	}
	TAILQ_FOREACH(rgroup, &rtransport->poll_groups, link) {
		TAILQ_FOREACH(rpoller, &rgroup->pollers, link) {
			if (rpoller->device == device) {
				break;
			}
		}
		if ((is_add && rpoller != NULL) || (!is_add && rpoller == NULL)) {
			continue;
		}
		ctx = calloc(1, sizeof(*ctx));
		if (ctx == NULL) {
			continue;
		}
		ctx->rtransport = rtransport;
		ctx->rgroup = rgroup;
		ctx->rpoller = rpoller;
		ctx->device = device;
		ctx->thread = spdk_get_thread();
		ctx->inflight_op_counter = counter;
		(*counter)++;
		SPDK_WASM_TRACE("nvmf_rdma_manage_poller", device, device->serial, rpoller, is_add);
		spdk_thread_send_msg(rgroup->group.group->thread, is_add ?
				     _nvmf_rdma_register_poller_in_group :
				     _nvmf_rdma_remove_poller_in_group, ctx);
	}
	if (*counter == 0) {
		free(counter);
	} else {
		(*has_inflight) = true;
	}
	return 0;
}

static void
nvmf_rdma_stop_listen_ex(struct spdk_nvmf_transport *transport,
			 const struct spdk_nvme_transport_id *trid, bool need_retry)
{
	struct spdk_nvmf_rdma_transport *rtransport = SPDK_CONTAINEROF(transport,
			struct spdk_nvmf_rdma_transport, transport);
	struct spdk_nvmf_rdma_port *port, *tmp;

	TAILQ_FOREACH_SAFE(port, &rtransport->ports, link, tmp) {
		if (strcmp(port->trid.traddr, trid->traddr) != 0 ||
		    strcmp(port->trid.trsvcid, trid->trsvcid) != 0) {
			continue;
		}
		TAILQ_REMOVE(&rtransport->ports, port, link);
		if (rdma_destroy_id(port->id) != 0) {
			SPDK_ERRLOG("Listen id of %s:%s could not be destroyed: errno %d\n",
				    trid->traddr, trid->trsvcid, errno);
		}
		port->id = NULL;
		port->device = NULL;
		if (need_retry) {
			TAILQ_INSERT_TAIL(&rtransport->retry_ports, port, link);
			rtransport->evidence.ports_removed++;
		} else {
			free(port);
		}
		break;
	}
}

static void
nvmf_rdma_stop_listen(struct spdk_nvmf_transport *transport, const struct spdk_nvme_transport_id *trid)
{
	nvmf_rdma_stop_listen_ex(transport, trid, false);
}

static void
nvmf_rdma_handle_device_removal(struct spdk_nvmf_rdma_transport *rtransport,
				struct spdk_nvmf_rdma_device *device)
{
	struct spdk_nvmf_rdma_port *port, *tmp;
	bool has_inflight;

	SPDK_WASM_TRACE("nvmf_rdma_handle_device_removal", device, device->serial, 0, 0);
	rtransport->evidence.removals++;
	nvmf_rdma_manage_poller(rtransport, device, &has_inflight, false);
	if (!has_inflight) {
		nvmf_rdma_device_ready_to_destroy(rtransport, device, spdk_get_thread());
	}
	TAILQ_FOREACH_SAFE(port, &rtransport->ports, link, tmp) {
		if (port->device == device) {
			SPDK_NOTICELOG("Port %s:%s on device %s is being removed.\n", port->trid.traddr,
				       port->trid.trsvcid, device->context->device->name);
			nvmf_rdma_stop_listen_ex(&rtransport->transport, &port->trid, true);
		}
	}
}

/* A device of the same name with another context is a new incarnation: the old one is stale. */
static void
nvmf_rdma_check_devices_context(struct spdk_nvmf_rdma_transport *rtransport,
				struct ibv_context *context)
{
	struct spdk_nvmf_rdma_device *device, *new_device = NULL;
	bool has_inflight;

	TAILQ_FOREACH(device, &rtransport->devices, link) {
		if (strcmp(device->context->device->name, context->device->name) != 0) {
			continue;
		}
		if (device->context != context && !device->need_destroy) {
			device->need_destroy = true;
			nvmf_rdma_handle_device_removal(rtransport, device);
		}
		return;
	}
	if (create_ib_device(rtransport, context, &new_device) != 0) {
		return;
	}
	nvmf_rdma_manage_poller(rtransport, new_device, &has_inflight, true);
	/* Ready before any group has its poller (549be9ad81): the group's callback says it again. */
	new_device->is_ready = true;
}

static void
nvmf_rdma_rescan_devices(struct spdk_nvmf_rdma_transport *rtransport)
{
	struct spdk_nvmf_rdma_device *device;
	struct ibv_device **ibv_list;
	struct ibv_context **contexts, *probe;
	int i, n = 0;

	TAILQ_FOREACH(device, &rtransport->devices, link) {
		if (device->need_destroy) {
			rtransport->evidence.rescans_skipped++;
			return;
		}
	}
	rtransport->evidence.rescans++;
	ibv_list = ibv_get_device_list(&n);
	if (ibv_list == NULL) {
		return;
	}
	for (i = 0; i < n; i++) {
		probe = ibv_open_device(ibv_list[i]);
		if (probe == NULL) {
			SPDK_WARNLOG("Device %s does not open (errno %d): no rescan now\n",
				     ibv_get_device_name(ibv_list[i]), errno);
			ibv_free_device_list(ibv_list);
			return;
		}
		ibv_close_device(probe);
	}
	ibv_free_device_list(ibv_list);
	contexts = rdma_get_devices(&n);
	if (contexts == NULL) {
		return;
	}
	for (i = 0; i < n; i++) {
		nvmf_rdma_check_devices_context(rtransport, contexts[i]);
	}
	rdma_free_devices(contexts);
}

/* ---- listen, and the acceptor's events ---- */

static int
nvmf_rdma_listen(struct spdk_nvmf_transport *transport, const struct spdk_nvme_transport_id *trid,
		 struct spdk_nvmf_listen_opts *listen_opts)
{
	struct spdk_nvmf_rdma_transport *rtransport = SPDK_CONTAINEROF(transport,
			struct spdk_nvmf_rdma_transport, transport);
	struct spdk_nvmf_rdma_device *device;
	struct spdk_nvmf_rdma_port *port;
	struct sockaddr_in sin;
	int svcid, rc;

	(void)listen_opts;
	svcid = atoi(trid->trsvcid);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (svcid <= 0 || svcid > 65535 || inet_pton(AF_INET, trid->traddr, &sin.sin_addr) != 1) {
		SPDK_ERRLOG("Invalid listen address %s:%s\n", trid->traddr, trid->trsvcid);
		return -EINVAL;
	}
	sin.sin_port = htons((uint16_t)svcid);
	TAILQ_FOREACH(port, &rtransport->ports, link) {
		if (strcmp(port->trid.traddr, trid->traddr) == 0 &&
		    strcmp(port->trid.trsvcid, trid->trsvcid) == 0) {
			return -EEXIST;
		}
	}
	port = calloc(1, sizeof(*port));
	if (port == NULL) {
		return -ENOMEM;
	}
	port->trid = *trid;
	if (rdma_create_id(rtransport->event_channel, &port->id, port, RDMA_PS_TCP) != 0) {
		rc = -errno;
		free(port);
		return rc;
	}
	if (rdma_bind_addr(port->id, (struct sockaddr *)&sin) != 0 || rdma_listen(port->id, 128) != 0) {
		rc = -errno;
		SPDK_ERRLOG("Listening on %s:%s failed: errno %d\n", trid->traddr, trid->trsvcid, -rc);
		rdma_destroy_id(port->id);
		free(port);
		rtransport->evidence.listen_failed++;
		return rc;
	}
	TAILQ_FOREACH(device, &rtransport->devices, link) {
		if (device->context == port->id->verbs && device->is_ready) {
			port->device = device;
			break;
		}
	}
	if (port->device == NULL) {
		SPDK_ERRLOG("No ready device for %s:%s (verbs %p)\n", trid->traddr, trid->trsvcid,
			    (void *)port->id->verbs);
		rdma_destroy_id(port->id);
		free(port);
		rtransport->evidence.listen_failed++;
		nvmf_rdma_rescan_devices(rtransport);
		return -EINVAL;
	}
	TAILQ_INSERT_TAIL(&rtransport->ports, port, link);
	SPDK_NOTICELOG("*** NVMe/RDMA Target Listening on %s port %s ***\n", trid->traddr, trid->trsvcid);
	return 0;
}

static void
nvmf_rdma_retry_listen_port(struct spdk_nvmf_rdma_transport *rtransport)
{
	struct spdk_nvmf_rdma_port *port, *tmp;

	nvmf_rdma_rescan_devices(rtransport);
	TAILQ_FOREACH_SAFE(port, &rtransport->retry_ports, link, tmp) {
		if (nvmf_rdma_listen(&rtransport->transport, &port->trid, NULL) != 0) {
			continue;
		}
		TAILQ_REMOVE(&rtransport->retry_ports, port, link);
		SPDK_NOTICELOG("Port %s:%s come back\n", port->trid.traddr, port->trid.trsvcid);
		rtransport->evidence.ports_back++;
		free(port);
	}
}

static bool
nvmf_rdma_handle_cm_event_port_removal(struct spdk_nvmf_rdma_transport *rtransport,
				       struct rdma_cm_event *event)
{
	struct spdk_nvmf_rdma_port *port;
	struct rdma_cm_id *id = event->id;

	TAILQ_FOREACH(port, &rtransport->ports, link) {
		if (port->id == id) {
			break;
		}
	}
	if (port == NULL) {
		return false;
	}
	/* Acked first: destroying the listen id waits for its events (2470b9957a). */
	rdma_ack_cm_event(event);
	if (port->device != NULL && !port->device->need_destroy) {
		port->device->need_destroy = true;
		nvmf_rdma_handle_device_removal(rtransport, port->device);
	}
	return true;
}

static int
nvmf_process_cm_events(struct spdk_nvmf_rdma_transport *rtransport, uint32_t max_events)
{
	struct rdma_cm_event *event;
	struct rdma_cm_id *id;
	uint32_t i;
	int rc;

	for (i = 0; i < max_events; i++) {
		if (rdma_get_cm_event(rtransport->event_channel, &event) != 0) {
			break;
		}
		SPDK_WASM_TRACE("nvmf_process_cm_event", event->id, event->event, event->status, 0);
		id = event->id;
		switch (event->event) {
		case RDMA_CM_EVENT_CONNECT_REQUEST:
			rc = nvmf_rdma_connect(rtransport, event);
			rdma_ack_cm_event(event);
			if (rc < 0) {
				/* Rejected: nothing else will use the id. */
				rtransport->evidence.connects_rejected++;
				rdma_destroy_id(id);
			}
			break;
		case RDMA_CM_EVENT_DEVICE_REMOVAL:
			if (nvmf_rdma_handle_cm_event_port_removal(rtransport, event)) {
				break;
			}
			rdma_ack_cm_event(event);
			nvmf_rdma_disconnect(rtransport, id);
			break;
		case RDMA_CM_EVENT_DISCONNECTED:
		case RDMA_CM_EVENT_CONNECT_ERROR:
		case RDMA_CM_EVENT_UNREACHABLE:
		case RDMA_CM_EVENT_REJECTED:
			/* Acked before the disconnect, which may destroy the id (2470b9957a). */
			rdma_ack_cm_event(event);
			nvmf_rdma_disconnect(rtransport, id);
			break;
		case RDMA_CM_EVENT_ADDR_CHANGE:
			rdma_ack_cm_event(event);
			nvmf_rdma_disconnect(rtransport, id);
			break;
		default:
			rdma_ack_cm_event(event);
			break;
		}
	}
	return (int)i;
}

static int
nvmf_process_ib_events(struct spdk_nvmf_rdma_transport *rtransport,
		       struct spdk_nvmf_rdma_device *device, uint32_t max_events)
{
	struct ibv_async_event event;
	struct spdk_nvmf_rdma_qpair *rqpair;
	bool removal = false;
	uint32_t i;

	for (i = 0; i < max_events; i++) {
		if (ibv_get_async_event(device->context, &event) != 0) {
			break;
		}
		rqpair = NULL;
		switch (event.event_type) {
		case IBV_EVENT_QP_FATAL:
		case IBV_EVENT_QP_LAST_WQE_REACHED:
		case IBV_EVENT_QP_REQ_ERR:
		case IBV_EVENT_QP_ACCESS_ERR:
		case IBV_EVENT_COMM_EST:
		case IBV_EVENT_PATH_MIG:
		case IBV_EVENT_PATH_MIG_ERR:
			/* The element is a QP only for these (a port number for port events). */
			if (event.element.qp != NULL) {
				rqpair = event.element.qp->qp_context;
			}
			break;
		default:
			break;
		}
		/* Acked at once: destroying the QP waits for its acks. */
		ibv_ack_async_event(&event);
		SPDK_WASM_TRACE("nvmf_process_ib_event", device, event.event_type, rqpair, 0);
		switch (event.event_type) {
		case IBV_EVENT_QP_FATAL:
			if (rqpair != NULL) {
				rqpair->ibv_in_error_state = true;
				spdk_nvmf_qpair_disconnect(&rqpair->qpair);
			}
			break;
		case IBV_EVENT_QP_LAST_WQE_REACHED:
			if (rqpair != NULL) {
				rqpair->last_wqe_reached = true;
				nvmf_rdma_destroy_drained_qpair(rqpair);
			}
			break;
		case IBV_EVENT_QP_REQ_ERR:
		case IBV_EVENT_QP_ACCESS_ERR:
		case IBV_EVENT_COMM_EST:
		case IBV_EVENT_PATH_MIG:
		case IBV_EVENT_PATH_MIG_ERR:
			if (rqpair != NULL && event.event_type != IBV_EVENT_COMM_EST) {
				rqpair->ibv_in_error_state = true;
			}
			break;
		case IBV_EVENT_DEVICE_FATAL:
			SPDK_ERRLOG("Device %s: fatal event\n", device->context->device->name);
			if (!device->need_destroy) {
				device->need_destroy = true;
				removal = true;
			}
			break;
		default:
			/* PORT_ERR, PORT_ACTIVE and the rest are only noted: a port going down by
			 * itself changes nothing here. */
			SPDK_NOTICELOG("Async event %d on device %s\n", event.event_type,
				       device->context->device->name);
			break;
		}
	}
	if (removal) {
		nvmf_rdma_handle_device_removal(rtransport, device);
	}
	return (int)i;
}

int
nvmf_rdma_accept(void *ctx)
{
	struct spdk_nvmf_rdma_transport *rtransport = ctx;
	struct spdk_nvmf_rdma_device *device, *tmp;
	int count = 0;

	if (!TAILQ_EMPTY(&rtransport->retry_ports)) {
		nvmf_rdma_retry_listen_port(rtransport);
	}
	count += nvmf_process_cm_events(rtransport, NVMF_RDMA_MAX_EVENTS_PER_POLL);
	TAILQ_FOREACH_SAFE(device, &rtransport->devices, link, tmp) {
		count += nvmf_process_ib_events(rtransport, device, NVMF_RDMA_MAX_EVENTS_PER_POLL);
	}
	return count > 0 ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
}

/* ---- the transport ---- */

static void
nvmf_rdma_opts_init(struct spdk_nvmf_transport_opts *opts)
{
	opts->max_queue_depth = SPDK_NVMF_RDMA_DEFAULT_MAX_QUEUE_DEPTH;
	opts->max_qpairs_per_ctrlr = SPDK_NVMF_RDMA_DEFAULT_MAX_QPAIRS_PER_CTRLR;
	opts->in_capsule_data_size = SPDK_NVMF_RDMA_DEFAULT_IN_CAPSULE_DATA_SIZE;
	opts->max_io_size = SPDK_NVMF_RDMA_DEFAULT_MAX_IO_SIZE;
	opts->io_unit_size = SPDK_NVMF_RDMA_DEFAULT_IO_BUFFER_SIZE;
	opts->max_aq_depth = SPDK_NVMF_RDMA_DEFAULT_AQ_DEPTH;
	opts->num_shared_buffers = SPDK_NVMF_RDMA_DEFAULT_NUM_SHARED_BUFFERS;
	opts->buf_cache_size = SPDK_NVMF_RDMA_DEFAULT_BUFFER_CACHE_SIZE;
	opts->abort_timeout_sec = 1;
	opts->zcopy = false;
	opts->c2h_success = false;
}

static int nvmf_rdma_destroy(struct spdk_nvmf_transport *transport);

static struct spdk_nvmf_transport *
nvmf_rdma_create(struct spdk_nvmf_transport_opts *opts)
{
	struct spdk_nvmf_rdma_transport *rtransport;
	struct spdk_nvmf_rdma_device *device;
	struct ibv_context **contexts;
	int i, n = 0;

	if (g_nvmf_rdma_transport != NULL) {
		SPDK_ERRLOG("The model has one RDMA transport per target\n");
		return NULL;
	}
	if (opts->max_queue_depth < 2 || opts->io_unit_size < SPDK_NVMF_RDMA_MIN_IO_BUFFER_SIZE ||
	    opts->in_capsule_data_size > 65536) {
		SPDK_ERRLOG("Invalid RDMA transport options: max_queue_depth %u, io_unit_size %u, "
			    "in_capsule_data_size %u\n", opts->max_queue_depth, opts->io_unit_size,
			    opts->in_capsule_data_size);
		return NULL;
	}
	rtransport = calloc(1, sizeof(*rtransport));
	if (rtransport == NULL) {
		return NULL;
	}
	TAILQ_INIT(&rtransport->devices);
	TAILQ_INIT(&rtransport->ports);
	TAILQ_INIT(&rtransport->retry_ports);
	TAILQ_INIT(&rtransport->poll_groups);
	TAILQ_INIT(&rtransport->all_qpairs);
	rtransport->transport.opts = *opts;
	rtransport->acceptor_poll_rate = SPDK_NVMF_RDMA_ACCEPTOR_POLL_RATE_US;
	rtransport->max_srq_depth = 128; /* model: upstream 4096 (memory of the shared receives) */
	rtransport->event_channel = rdma_create_event_channel();
	if (rtransport->event_channel == NULL) {
		SPDK_ERRLOG("rdma_create_event_channel failed: errno %d\n", errno);
		free(rtransport);
		return NULL;
	}
	contexts = rdma_get_devices(&n);
	for (i = 0; contexts != NULL && i < n; i++) {
		if (create_ib_device(rtransport, contexts[i], NULL) != 0) {
			rdma_free_devices(contexts);
			nvmf_rdma_destroy(&rtransport->transport);
			return NULL;
		}
	}
	rdma_free_devices(contexts);
	TAILQ_FOREACH(device, &rtransport->devices, link) {
		device->is_ready = true;
	}
	SPDK_NOTICELOG("*** RDMA Transport Init ***\n");
	rtransport->accept_poller = SPDK_POLLER_REGISTER(nvmf_rdma_accept, rtransport,
				    rtransport->acceptor_poll_rate);
	g_nvmf_rdma_transport = rtransport;
	return &rtransport->transport;
}

static int
nvmf_rdma_destroy(struct spdk_nvmf_transport *transport)
{
	struct spdk_nvmf_rdma_transport *rtransport = SPDK_CONTAINEROF(transport,
			struct spdk_nvmf_rdma_transport, transport);
	struct spdk_nvmf_rdma_device *device, *dtmp;
	struct spdk_nvmf_rdma_port *port;

	spdk_poller_unregister(&rtransport->accept_poller);
	while ((port = TAILQ_FIRST(&rtransport->ports)) != NULL) {
		nvmf_rdma_stop_listen(transport, &port->trid);
	}
	while ((port = TAILQ_FIRST(&rtransport->retry_ports)) != NULL) {
		TAILQ_REMOVE(&rtransport->retry_ports, port, link);
		free(port);
	}
	TAILQ_FOREACH_SAFE(device, &rtransport->devices, link, dtmp) {
		destroy_ib_device(rtransport, device);
	}
	if (rtransport->event_channel != NULL) {
		rdma_destroy_event_channel(rtransport->event_channel);
	}
	if (g_nvmf_rdma_transport == rtransport) {
		g_nvmf_rdma_transport = NULL;
	}
	free(rtransport);
	return 0;
}

const struct spdk_nvmf_transport_ops spdk_nvmf_transport_rdma = {
	.name = "RDMA",
	.opts_init = nvmf_rdma_opts_init,
	.create = nvmf_rdma_create,
	.destroy = nvmf_rdma_destroy,
	.listen = nvmf_rdma_listen,
	.stop_listen = nvmf_rdma_stop_listen,
	.poll_group_create = nvmf_rdma_poll_group_create,
	.poll_group_destroy = nvmf_rdma_poll_group_destroy,
	.poll_group_add = nvmf_rdma_poll_group_add,
	.poll_group_remove = nvmf_rdma_poll_group_remove,
	.poll_group_poll = nvmf_rdma_poll_group_poll,
	.req_free = nvmf_rdma_req_free,
	.req_complete = nvmf_rdma_req_complete,
	/* No req_get_buffers_done: at this base RDMA takes buffers all or nothing and waits on the
	 * group's pending_buf_queue. */
	.close_qpair = nvmf_rdma_close_qpair,
	.dma_data_buffers = true,
};
