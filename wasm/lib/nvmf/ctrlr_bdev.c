/* lib/nvmf/ctrlr_bdev.c: NVMe I/O commands on a namespace's bdev, and Identify Namespace. */
#include "spdk/stdinc.h"
#include "spdk/bdev.h"
#include "spdk/log.h"
#include "spdk/nvmf.h"
#include "nvmf_internal.h"

static void
nvmf_bdev_ctrlr_complete_cmd(struct spdk_bdev_io *bdev_io, bool success, void *cb_arg)
{
	struct spdk_nvmf_request *req = cb_arg;
	struct spdk_nvme_cpl *rsp = &req->rsp->nvme_cpl;
	int sct, sc;
	uint32_t cdw0;

	spdk_bdev_io_get_nvme_status(bdev_io, &cdw0, &sct, &sc);
	rsp->cdw0 = cdw0;
	rsp->status.sct = sct;
	rsp->status.sc = sc;
	spdk_bdev_free_io(bdev_io);
	spdk_nvmf_request_complete(req);
}

/* SLBA in cdw10/11, NLB (0's based) in cdw12 bits 0-15. */
static void
nvmf_bdev_ctrlr_get_rw_params(const struct spdk_nvme_cmd *cmd, uint64_t *start_lba,
			      uint64_t *num_blocks)
{
	*start_lba = ((uint64_t)cmd->cdw11 << 32) | cmd->cdw10;
	*num_blocks = (cmd->cdw12 & 0xffffu) + 1;
}

static int
nvmf_bdev_ctrlr_check_rw(struct spdk_nvmf_ns *ns, struct spdk_nvmf_request *req,
			 uint64_t *start_lba, uint64_t *num_blocks)
{
	struct spdk_nvme_cpl *rsp = &req->rsp->nvme_cpl;
	uint32_t block_size = spdk_bdev_get_block_size(ns->bdev);
	uint64_t bdev_num_blocks = spdk_bdev_get_num_blocks(ns->bdev);

	nvmf_bdev_ctrlr_get_rw_params(&req->cmd->nvme_cmd, start_lba, num_blocks);
	if (*num_blocks > bdev_num_blocks || *start_lba > bdev_num_blocks - *num_blocks) {
		SPDK_ERRLOG("end of media: LBA %" PRIu64 " + %" PRIu64 " > %" PRIu64 "\n",
			    *start_lba, *num_blocks, bdev_num_blocks);
		rsp->status.sct = SPDK_NVME_SCT_GENERIC;
		rsp->status.sc = SPDK_NVME_SC_LBA_OUT_OF_RANGE;
		return -1;
	}
	if (*num_blocks * block_size > req->length) {
		SPDK_ERRLOG("NLB %" PRIu64 " * block size %u > SGL length %u\n", *num_blocks,
			    block_size, req->length);
		rsp->status.sct = SPDK_NVME_SCT_GENERIC;
		rsp->status.sc = SPDK_NVME_SC_DATA_SGL_LENGTH_INVALID;
		return -1;
	}
	return 0;
}

/* What a command handler returns once it has asked the bdev layer: a submission that failed
 * completes now with an internal device error; otherwise the bdev callback completes it. */
static int
nvmf_bdev_ctrlr_submit_status(struct spdk_nvmf_request *req, int rc)
{
	if (rc != 0) {
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INTERNAL_DEVICE_ERROR);
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	return SPDK_NVMF_REQUEST_EXEC_STATUS_ASYNCHRONOUS;
}

int
nvmf_bdev_ctrlr_read_cmd(struct spdk_nvmf_ns *ns, struct spdk_nvmf_request *req)
{
	uint64_t start_lba, num_blocks;
	int rc;

	if (nvmf_bdev_ctrlr_check_rw(ns, req, &start_lba, &num_blocks) != 0) {
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	rc = spdk_bdev_readv_blocks(ns->desc, ns->ch, req->iov, req->iovcnt, start_lba, num_blocks,
				    nvmf_bdev_ctrlr_complete_cmd, req);
	return nvmf_bdev_ctrlr_submit_status(req, rc);
}

int
nvmf_bdev_ctrlr_write_cmd(struct spdk_nvmf_ns *ns, struct spdk_nvmf_request *req)
{
	uint64_t start_lba, num_blocks;
	int rc;

	if (nvmf_bdev_ctrlr_check_rw(ns, req, &start_lba, &num_blocks) != 0) {
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	rc = spdk_bdev_writev_blocks(ns->desc, ns->ch, req->iov, req->iovcnt, start_lba, num_blocks,
				     nvmf_bdev_ctrlr_complete_cmd, req);
	return nvmf_bdev_ctrlr_submit_status(req, rc);
}

int
nvmf_bdev_ctrlr_flush_cmd(struct spdk_nvmf_ns *ns, struct spdk_nvmf_request *req)
{
	int rc;

	rc = spdk_bdev_flush_blocks(ns->desc, ns->ch, 0, spdk_bdev_get_num_blocks(ns->bdev),
				    nvmf_bdev_ctrlr_complete_cmd, req);
	return nvmf_bdev_ctrlr_submit_status(req, rc);
}

static void
nvmf_bdev_ctrlr_zcopy_start_complete(struct spdk_bdev_io *bdev_io, bool success, void *cb_arg)
{
	struct spdk_nvmf_request *req = cb_arg;
	struct iovec *iov;
	int iovcnt = 0, i;

	if (!success) {
		spdk_bdev_free_io(bdev_io);
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INTERNAL_DEVICE_ERROR);
		spdk_nvmf_request_complete(req);
		return;
	}
	spdk_bdev_io_get_iovec(bdev_io, &iov, &iovcnt);
	assert(iovcnt <= NVMF_REQ_MAX_BUFFERS);
	if (iov != req->iov) {
		for (i = 0; i < iovcnt; i++) {
			req->iov[i] = iov[i];
		}
	}
	req->iovcnt = iovcnt;
	req->zcopy_bdev_io = bdev_io;
	nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_SUCCESS);
	spdk_nvmf_request_complete(req);
}

int
nvmf_bdev_ctrlr_zcopy_start(struct spdk_nvmf_ns *ns, struct spdk_nvmf_request *req)
{
	uint64_t start_lba, num_blocks;
	bool populate = req->cmd->nvme_cmd.opc == SPDK_NVME_OPC_READ;
	int rc;

	if (nvmf_bdev_ctrlr_check_rw(ns, req, &start_lba, &num_blocks) != 0) {
		return SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE;
	}
	rc = spdk_bdev_zcopy_start(ns->desc, ns->ch, req->iov, req->iovcnt, start_lba, num_blocks,
				   populate, nvmf_bdev_ctrlr_zcopy_start_complete, req);
	return nvmf_bdev_ctrlr_submit_status(req, rc);
}

static void
nvmf_bdev_ctrlr_zcopy_end_complete(struct spdk_bdev_io *bdev_io, bool success, void *cb_arg)
{
	struct spdk_nvmf_request *req = cb_arg;

	if (!success) {
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INTERNAL_DEVICE_ERROR);
	}
	req->zcopy_bdev_io = NULL;
	spdk_bdev_free_io(bdev_io);
	spdk_nvmf_request_complete(req);
}

void
nvmf_bdev_ctrlr_zcopy_end(struct spdk_nvmf_request *req, bool commit)
{
	int rc;

	rc = spdk_bdev_zcopy_end(req->zcopy_bdev_io, commit, nvmf_bdev_ctrlr_zcopy_end_complete, req);
	if (rc != 0) {
		SPDK_ERRLOG("zcopy_end failed: %d\n", rc);
		nvmf_req_set_status(req, SPDK_NVME_SCT_GENERIC, SPDK_NVME_SC_INTERNAL_DEVICE_ERROR);
		spdk_nvmf_request_complete(req);
	}
}

void
nvmf_bdev_ctrlr_identify_ns(struct spdk_nvmf_ns *ns, struct spdk_nvme_ns_data *nsdata)
{
	uint32_t block_size = spdk_bdev_get_block_size(ns->bdev);
	uint32_t lbads = 0;

	while ((1u << lbads) < block_size) {
		lbads++;
	}
	nsdata->nsze = spdk_bdev_get_num_blocks(ns->bdev);
	nsdata->ncap = nsdata->nsze;
	nsdata->nuse = nsdata->nsze;
	nsdata->nlbaf = 0;
	nsdata->flbas = 0;
	nsdata->lbaf[0].lbads = lbads;
	nsdata->lbaf[0].ms = 0;
}
