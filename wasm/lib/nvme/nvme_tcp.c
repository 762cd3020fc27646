/* lib/nvme/nvme_tcp.c: the NVMe/TCP host transport (SPDK v25.01 shape).
 *
 * - qpair bring-up: socket (zero copy asked for I/O queues only, TCP_USER_TIMEOUT from
 *   transport_ack_timeout), ICReq/ICResp (hpda, digests, maxr2t, maxh2cdata), then the Fabrics
 *   Connect, through enum nvme_tcp_qpair_state and nvme_tcp_ctrlr_connect_qpair_poll;
 * - commands: CapsuleCmd with in-capsule data for small writes, otherwise a transport SGL;
 *   R2T answered with H2CData PDUs of at most maxh2cdata bytes; C2HData (a SUCCESS flag ends the
 *   command without a CapsuleResp); CapsuleResp; header and data digests (CRC32C) when the
 *   ICResp granted them;
 * - a request completes only when both its last send finished (send_ack / pdu_in_use) and its
 *   response arrived (data_recv): the buffer is the caller's until both happened;
 * - the PDU receive machine nvme_tcp_read_pdu (enum nvme_tcp_pdu_recv_state), H2CTermReq on
 *   protocol errors, C2HTermReq from the target, and teardown that aborts outstanding requests.
 * One socket per qpair. Outside a poll group nvme_tcp_qpair_process_completions flushes it and
 * reads it on every call. In a poll group (nvme_tcp_poll_group_*) the socket joins the group's
 * sock group when the qpair connects: the sock group poll flushes it, one epoll_wait finds the
 * sockets with data (or an error queue to read), and only those qpairs are processed
 * (nvme_tcp_qpair_sock_cb), plus those a send completion left needing a poll (needs_poll). */
#include "nvme_internal.h"
#include "spdk/crc32.h"
#include "spdk/sock.h"
#include "spdk_internal/nvme_tcp.h"

enum nvme_tcp_req_state {
	NVME_TCP_REQ_FREE,
	NVME_TCP_REQ_ACTIVE,
	NVME_TCP_REQ_ACTIVE_R2T,
};

struct nvme_tcp_qpair;

struct nvme_tcp_req {
	struct nvme_request			*req;
	enum nvme_tcp_req_state			state;
	uint16_t				cid;
	uint16_t				ttag;
	/* Bytes of H2C data sent so far (writes). */
	uint32_t				datao;
	/* Offset the next C2HData must carry (reads). */
	uint32_t				expected_datao;
	uint32_t				r2tl_remain;
	uint32_t				active_r2ts;
	/* An R2T that came while the last H2CData of the previous one was being sent. */
	uint16_t				ttag_r2t_next;
	uint32_t				r2tl_remain_next;
	bool					in_capsule_data;
	/* The request's send PDU is with the socket (CapsuleCmd or H2CData). */
	bool					pdu_in_use;
	union {
		uint8_t raw;
		struct {
			/* The CapsuleCmd write completed. */
			uint8_t send_ack : 1;
			/* The CapsuleResp (or a C2HData with SUCCESS) arrived. */
			uint8_t data_recv : 1;
			/* An R2T arrived before send_ack: send H2CData once it comes. */
			uint8_t h2c_send_waiting_ack : 1;
			/* ttag_r2t_next/r2tl_remain_next hold an R2T to serve next. */
			uint8_t r2t_waiting_h2c_complete : 1;
			uint8_t reserved : 4;
		} bits;
	} ordering;
	struct nvme_tcp_pdu			*pdu;
	struct iovec				iov[1];
	int					iovcnt;
	struct spdk_nvme_cpl			rsp;
	struct nvme_tcp_qpair			*tqpair;
	TAILQ_ENTRY(nvme_tcp_req)		link;
};

struct nvme_tcp_qpair {
	struct spdk_nvme_qpair			qpair;
	struct spdk_sock			*sock;

	TAILQ_HEAD(, nvme_tcp_req)		free_reqs;
	TAILQ_HEAD(, nvme_tcp_req)		outstanding_reqs;
	TAILQ_HEAD(, nvme_tcp_pdu)		send_queue;

	struct nvme_tcp_pdu			*recv_pdu;
	/* ICReq and H2CTermReq. */
	struct nvme_tcp_pdu			*send_pdu;
	struct nvme_tcp_pdu			*send_pdus;
	struct nvme_tcp_req			*tcp_reqs;
	uint16_t				num_entries;
	enum nvme_tcp_pdu_recv_state		recv_state;
	enum nvme_tcp_qpair_state		state;

	struct {
		uint8_t host_hdgst_enable : 1;
		uint8_t host_ddgst_enable : 1;
		uint8_t icreq_send_ack : 1;
		uint8_t icresp_recv : 1;
		uint8_t term_req_sent : 1;
		uint8_t reserved : 3;
	} flags;

	uint32_t				maxh2cdata;
	uint32_t				maxr2t;
	uint8_t					cpda;
	uint64_t				icreq_timeout_tsc;
	uint64_t				connect_timeout_tsc;
	/* Completions reaped in the current process_completions call. */
	uint32_t				reaped;
	/* On its poll group's needs_poll list. */
	bool					needs_poll;
	TAILQ_ENTRY(nvme_tcp_qpair)		link;
	uint8_t					term_req_data[SPDK_NVME_TCP_TERM_REQ_ERROR_DATA_MAX_SIZE];

	/* Evidence counters. */
	uint32_t				pdus_sent[10];
	uint32_t				pdus_recv[10];
	uint32_t				hdgst_errors;
	uint32_t				ddgst_errors;
	uint32_t				term_reqs_sent;
	uint32_t				term_reqs_recv;
	uint32_t				last_fes;
	uint32_t				h2c_bytes;
	uint32_t				c2h_bytes;
	uint32_t				c2h_success;
	uint32_t				icd_bytes;
	uint32_t				fatal_errors;
};

struct nvme_tcp_poll_group {
	struct spdk_nvme_transport_poll_group	group;
	struct spdk_sock_group			*sock_group;
	uint32_t				completions_per_qpair;
	/* Completions of the current poll, or -ENXIO once a qpair of it failed. */
	int64_t					num_completions;
	/* Qpairs to process in this poll whether or not their socket has an event. */
	TAILQ_HEAD(, nvme_tcp_qpair)		needs_poll;

	/* Evidence counters (upstream's spdk_nvme_tcp_stat names). */
	uint32_t				polls;
	uint32_t				idle_polls;
	uint32_t				socket_completions;
};

static inline struct nvme_tcp_poll_group *
nvme_tcp_poll_group(struct spdk_nvme_transport_poll_group *group)
{
	return SPDK_CONTAINEROF(group, struct nvme_tcp_poll_group, group);
}

static inline struct nvme_tcp_qpair *
nvme_tcp_qpair(struct spdk_nvme_qpair *qpair)
{
	return SPDK_CONTAINEROF(qpair, struct nvme_tcp_qpair, qpair);
}

static void nvme_tcp_send_h2c_data(struct nvme_tcp_req *tcp_req);

static void
nvme_tcp_qpair_set_state(struct nvme_tcp_qpair *tqpair, enum nvme_tcp_qpair_state state)
{
	SPDK_WASM_TRACE("nvme_tcp_qpair_state", tqpair, tqpair->state, state, tqpair->qpair.id);
	tqpair->state = state;
}

static void
nvme_tcp_qpair_set_recv_state(struct nvme_tcp_qpair *tqpair, enum nvme_tcp_pdu_recv_state state)
{
	if (tqpair->recv_state == state) {
		return;
	}
	SPDK_WASM_TRACE("nvme_tcp_qpair_set_recv_state", tqpair, tqpair->recv_state, state,
			tqpair->qpair.id);
	tqpair->recv_state = state;
}

/* ---- requests ---- */

static struct nvme_tcp_req *
nvme_tcp_req_get(struct nvme_tcp_qpair *tqpair)
{
	struct nvme_tcp_req *tcp_req = TAILQ_FIRST(&tqpair->free_reqs);

	if (tcp_req == NULL) {
		return NULL;
	}
	assert(tcp_req->state == NVME_TCP_REQ_FREE);
	tcp_req->state = NVME_TCP_REQ_ACTIVE;
	TAILQ_REMOVE(&tqpair->free_reqs, tcp_req, link);
	tcp_req->datao = 0;
	tcp_req->expected_datao = 0;
	tcp_req->r2tl_remain = 0;
	tcp_req->active_r2ts = 0;
	tcp_req->in_capsule_data = false;
	tcp_req->pdu_in_use = false;
	tcp_req->ordering.raw = 0;
	tcp_req->iovcnt = 0;
	tcp_req->req = NULL;
	memset(&tcp_req->rsp, 0, sizeof(tcp_req->rsp));
	TAILQ_INSERT_TAIL(&tqpair->outstanding_reqs, tcp_req, link);
	return tcp_req;
}

static void
nvme_tcp_req_put(struct nvme_tcp_qpair *tqpair, struct nvme_tcp_req *tcp_req)
{
	assert(tcp_req->state != NVME_TCP_REQ_FREE);
	tcp_req->state = NVME_TCP_REQ_FREE;
	TAILQ_REMOVE(&tqpair->outstanding_reqs, tcp_req, link);
	TAILQ_INSERT_HEAD(&tqpair->free_reqs, tcp_req, link);
}

static struct nvme_tcp_req *
get_nvme_active_req_by_cid(struct nvme_tcp_qpair *tqpair, uint32_t cid)
{
	if (cid >= tqpair->num_entries || tqpair->tcp_reqs[cid].state == NVME_TCP_REQ_FREE) {
		return NULL;
	}
	return &tqpair->tcp_reqs[cid];
}

static void
nvme_tcp_req_complete(struct nvme_tcp_req *tcp_req, struct nvme_tcp_qpair *tqpair,
		      struct spdk_nvme_cpl *rsp)
{
	struct nvme_request *req = tcp_req->req;
	struct spdk_nvme_cpl cpl = *rsp;

	SPDK_WASM_TRACE("nvme_tcp_req_complete", tqpair, tcp_req->cid,
			(cpl.status.sct << 8) | cpl.status.sc, req->cmd.opc);
	nvme_tcp_req_put(tqpair, tcp_req);
	assert(tqpair->qpair.num_outstanding_reqs > 0);
	tqpair->qpair.num_outstanding_reqs--;
	tqpair->reaped++;
	nvme_complete_request(req, &cpl);
}

/* Completes the request once nothing of it is on the socket and its response is in. */
static bool
nvme_tcp_req_complete_safe(struct nvme_tcp_req *tcp_req)
{
	if (!tcp_req->ordering.bits.send_ack || !tcp_req->ordering.bits.data_recv ||
	    tcp_req->pdu_in_use || tcp_req->state == NVME_TCP_REQ_ACTIVE_R2T) {
		return false;
	}
	nvme_tcp_req_complete(tcp_req, tcp_req->tqpair, &tcp_req->rsp);
	return true;
}

/* ---- sending PDUs ---- */

static void
nvme_tcp_qpair_set_needs_poll(struct nvme_tcp_qpair *tqpair)
{
	struct nvme_tcp_poll_group *pgroup;

	if (tqpair->qpair.poll_group == NULL || tqpair->needs_poll) {
		return;
	}
	pgroup = nvme_tcp_poll_group(tqpair->qpair.poll_group);
	TAILQ_INSERT_TAIL(&pgroup->needs_poll, tqpair, link);
	tqpair->needs_poll = true;
}

static void
nvme_tcp_qpair_clear_needs_poll(struct nvme_tcp_qpair *tqpair)
{
	struct nvme_tcp_poll_group *pgroup;

	if (!tqpair->needs_poll) {
		return;
	}
	pgroup = nvme_tcp_poll_group(tqpair->qpair.poll_group);
	TAILQ_REMOVE(&pgroup->needs_poll, tqpair, link);
	tqpair->needs_poll = false;
}

static void
pdu_write_done(void *cb_arg, int err)
{
	struct nvme_tcp_pdu *pdu = cb_arg;
	struct nvme_tcp_qpair *tqpair = pdu->qpair;
	struct nvme_tcp_req *tcp_req = pdu->req;

	TAILQ_REMOVE(&tqpair->send_queue, pdu, tailq);
	if (tcp_req != NULL) {
		assert(tcp_req->pdu_in_use);
		tcp_req->pdu_in_use = false;
	}
	if (spdk_unlikely(err != 0)) {
		/* The connection is gone; process_completions reports it and tears down. Upstream
		 * disconnects right here; in a group the qpair is polled at the end of this poll. */
		SPDK_WASM_TRACE("nvme_tcp_pdu_write_error", tqpair, err, pdu->hdr.common.pdu_type, 0);
		nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_ERROR);
		nvme_tcp_qpair_set_needs_poll(tqpair);
		return;
	}
	/* A send completing may free what queued requests wait for, or let the connect move on
	 * (an ICReq whose ICResp came first, a Connect): no network event need follow, so the
	 * group polls the qpair anyway. */
	if (!STAILQ_EMPTY(&tqpair->qpair.queued_req) ||
	    tqpair->state == NVME_TCP_QPAIR_STATE_INITIALIZING ||
	    tqpair->state == NVME_TCP_QPAIR_STATE_FABRIC_CONNECT_POLL) {
		nvme_tcp_qpair_set_needs_poll(tqpair);
	}
	assert(pdu->cb_fn != NULL);
	pdu->cb_fn(pdu->cb_arg);
}

static void
nvme_tcp_qpair_write_pdu(struct nvme_tcp_qpair *tqpair, struct nvme_tcp_pdu *pdu,
			 nvme_tcp_qpair_xfer_complete_cb cb_fn, void *cb_arg)
{
	uint8_t flags = pdu->hdr.common.flags;
	uint32_t crc32c, mapped = 0;

	pdu->cb_fn = cb_fn;
	pdu->cb_arg = cb_arg;
	pdu->qpair = tqpair;
	if (flags & SPDK_NVME_TCP_CH_FLAGS_HDGSTF) {
		crc32c = nvme_tcp_pdu_calc_header_digest(pdu);
		MAKE_DIGEST_WORD((uint8_t *)pdu->hdr.raw + pdu->hdr.common.hlen, crc32c);
	}
	if ((flags & SPDK_NVME_TCP_CH_FLAGS_DDGSTF) && pdu->data_len > 0) {
		crc32c = nvme_tcp_pdu_calc_data_digest(pdu);
		MAKE_DIGEST_WORD(pdu->data_digest, crc32c);
	}
	pdu->sock_req.iovcnt = nvme_tcp_build_iovs(pdu->iov, SPDK_COUNTOF(pdu->iov), pdu,
			       flags & SPDK_NVME_TCP_CH_FLAGS_HDGSTF,
			       flags & SPDK_NVME_TCP_CH_FLAGS_DDGSTF, &mapped);
	pdu->sock_req.cb_fn = pdu_write_done;
	pdu->sock_req.cb_arg = pdu;
	if (pdu->hdr.common.pdu_type < SPDK_COUNTOF(tqpair->pdus_sent)) {
		tqpair->pdus_sent[pdu->hdr.common.pdu_type]++;
	}
	SPDK_WASM_TRACE("nvme_tcp_qpair_write_pdu", tqpair, pdu->hdr.common.pdu_type,
			pdu->hdr.common.plen, pdu->req ? ((struct nvme_tcp_req *)pdu->req)->cid : 0xffff);
	TAILQ_INSERT_TAIL(&tqpair->send_queue, pdu, tailq);
	spdk_sock_writev_async(tqpair->sock, &pdu->sock_req);
}

static struct nvme_tcp_pdu *
nvme_tcp_req_pdu_init(struct nvme_tcp_req *tcp_req)
{
	struct nvme_tcp_pdu *pdu = tcp_req->pdu;

	assert(!tcp_req->pdu_in_use);
	memset(pdu, 0, sizeof(*pdu));
	pdu->req = tcp_req;
	pdu->qpair = tcp_req->tqpair;
	return pdu;
}

/* Header (+HDGST) rounded up to the controller's data alignment: the PDO of a data PDU. */
static uint32_t
nvme_tcp_data_pdo(struct nvme_tcp_qpair *tqpair, uint32_t hd_len)
{
	uint32_t alignment;

	if (tqpair->cpda == 0) {
		return hd_len;
	}
	alignment = (tqpair->cpda + 1) << 2;
	return (hd_len + alignment - 1) / alignment * alignment;
}

static bool
nvme_tcp_pdu_is_queued(struct nvme_tcp_qpair *tqpair, struct nvme_tcp_pdu *pdu)
{
	struct nvme_tcp_pdu *p;

	TAILQ_FOREACH(p, &tqpair->send_queue, tailq) {
		if (p == pdu) {
			return true;
		}
	}
	return false;
}

static void
nvme_tcp_send_h2c_term_req_complete(void *cb_arg)
{
	struct nvme_tcp_qpair *tqpair = cb_arg;

	nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_ERROR);
	/* No event may follow on the socket: have the group poll the qpair to fail it. */
	nvme_tcp_qpair_set_needs_poll(tqpair);
}

/* Answers a protocol error of the controller: H2CTermReq with 'fes' and the offending header,
 * then the qpair fails (process_completions reports it). */
static void
nvme_tcp_send_h2c_term_req(struct nvme_tcp_qpair *tqpair, struct nvme_tcp_pdu *pdu,
			   enum spdk_nvme_tcp_term_req_fes fes, uint32_t error_offset)
{
	struct nvme_tcp_pdu *rsp_pdu = tqpair->send_pdu;
	struct spdk_nvme_tcp_term_req_hdr *h2c_term_req;
	uint32_t copy_len = spdk_min(pdu->hdr.common.hlen, SPDK_NVME_TCP_TERM_REQ_ERROR_DATA_MAX_SIZE);

	SPDK_ERRLOG("tqpair=%p qid %u: sending H2CTermReq fes 0x%x, error offset %u\n", tqpair,
		    tqpair->qpair.id, fes, error_offset);
	SPDK_WASM_TRACE("nvme_tcp_send_h2c_term_req", tqpair, fes, error_offset, tqpair->qpair.id);
	tqpair->term_reqs_sent++;
	tqpair->last_fes = fes;
	nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_QUIESCING);
	if (tqpair->flags.term_req_sent || nvme_tcp_pdu_is_queued(tqpair, rsp_pdu)) {
		/* The management PDU is busy; just fail the connection. */
		nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_ERROR);
		return;
	}
	tqpair->flags.term_req_sent = 1;
	memcpy(tqpair->term_req_data, pdu->hdr.raw, copy_len);
	memset(rsp_pdu, 0, sizeof(*rsp_pdu));
	rsp_pdu->req = NULL;
	h2c_term_req = &rsp_pdu->hdr.term_req;
	h2c_term_req->common.pdu_type = SPDK_NVME_TCP_PDU_TYPE_H2C_TERM_REQ;
	h2c_term_req->common.hlen = sizeof(*h2c_term_req);
	h2c_term_req->fes = fes;
	if (fes == SPDK_NVME_TCP_TERM_REQ_FES_INVALID_HEADER_FIELD ||
	    fes == SPDK_NVME_TCP_TERM_REQ_FES_INVALID_DATA_UNSUPPORTED_PARAMETER) {
		memcpy(h2c_term_req->fei, &error_offset, sizeof(h2c_term_req->fei));
	}
	nvme_tcp_pdu_set_data(rsp_pdu, tqpair->term_req_data, copy_len);
	h2c_term_req->common.pdo = h2c_term_req->common.hlen;
	h2c_term_req->common.plen = h2c_term_req->common.hlen + copy_len;
	nvme_tcp_qpair_write_pdu(tqpair, rsp_pdu, nvme_tcp_send_h2c_term_req_complete, tqpair);
}

static void
nvme_tcp_qpair_cmd_send_complete(void *cb_arg)
{
	struct nvme_tcp_req *tcp_req = cb_arg;

	tcp_req->ordering.bits.send_ack = 1;
	if (tcp_req->ordering.bits.h2c_send_waiting_ack) {
		tcp_req->ordering.bits.h2c_send_waiting_ack = 0;
		nvme_tcp_send_h2c_data(tcp_req);
		return;
	}
	nvme_tcp_req_complete_safe(tcp_req);
}

static void
nvme_tcp_qpair_capsule_cmd_send(struct nvme_tcp_qpair *tqpair, struct nvme_tcp_req *tcp_req)
{
	struct nvme_tcp_pdu *pdu = nvme_tcp_req_pdu_init(tcp_req);
	struct spdk_nvme_tcp_cmd *capsule_cmd = &pdu->hdr.capsule_cmd;
	struct nvme_request *req = tcp_req->req;
	uint32_t plen, pdo;

	capsule_cmd->common.pdu_type = SPDK_NVME_TCP_PDU_TYPE_CAPSULE_CMD;
	plen = capsule_cmd->common.hlen = sizeof(*capsule_cmd);
	capsule_cmd->ccsqe = req->cmd;
	if (tqpair->flags.host_hdgst_enable) {
		capsule_cmd->common.flags |= SPDK_NVME_TCP_CH_FLAGS_HDGSTF;
		plen += SPDK_NVME_TCP_DIGEST_LEN;
	}
	if (tcp_req->in_capsule_data && req->payload_size > 0) {
		pdo = nvme_tcp_data_pdo(tqpair, plen);
		capsule_cmd->common.pdo = pdo;
		plen = pdo + req->payload_size;
		if (tqpair->flags.host_ddgst_enable) {
			capsule_cmd->common.flags |= SPDK_NVME_TCP_CH_FLAGS_DDGSTF;
			plen += SPDK_NVME_TCP_DIGEST_LEN;
		}
		nvme_tcp_pdu_set_data_buf(pdu, tcp_req->iov, tcp_req->iovcnt, 0, req->payload_size);
		tqpair->icd_bytes += req->payload_size;
	}
	capsule_cmd->common.plen = plen;
	tcp_req->pdu_in_use = true;
	nvme_tcp_qpair_write_pdu(tqpair, pdu, nvme_tcp_qpair_cmd_send_complete, tcp_req);
}

static void
nvme_tcp_qpair_h2c_data_send_complete(void *cb_arg)
{
	struct nvme_tcp_req *tcp_req = cb_arg;

	if (tcp_req->r2tl_remain > 0) {
		nvme_tcp_send_h2c_data(tcp_req);
		return;
	}
	assert(tcp_req->active_r2ts > 0);
	tcp_req->active_r2ts--;
	tcp_req->state = NVME_TCP_REQ_ACTIVE;
	if (tcp_req->ordering.bits.r2t_waiting_h2c_complete) {
		tcp_req->ordering.bits.r2t_waiting_h2c_complete = 0;
		tcp_req->ttag = tcp_req->ttag_r2t_next;
		tcp_req->r2tl_remain = tcp_req->r2tl_remain_next;
		tcp_req->state = NVME_TCP_REQ_ACTIVE_R2T;
		nvme_tcp_send_h2c_data(tcp_req);
		return;
	}
	/* The response may have overtaken the last H2C write completion. */
	nvme_tcp_req_complete_safe(tcp_req);
}

/* One H2CData PDU of at most maxh2cdata bytes of the R2T's range. */
static void
nvme_tcp_send_h2c_data(struct nvme_tcp_req *tcp_req)
{
	struct nvme_tcp_qpair *tqpair = tcp_req->tqpair;
	struct nvme_tcp_pdu *pdu = nvme_tcp_req_pdu_init(tcp_req);
	struct spdk_nvme_tcp_h2c_data_hdr *h2c_data = &pdu->hdr.h2c_data;
	uint32_t plen, pdo;

	h2c_data->common.pdu_type = SPDK_NVME_TCP_PDU_TYPE_H2C_DATA;
	plen = h2c_data->common.hlen = sizeof(*h2c_data);
	h2c_data->cccid = tcp_req->cid;
	h2c_data->ttag = tcp_req->ttag;
	h2c_data->datao = tcp_req->datao;
	h2c_data->datal = spdk_min(tcp_req->r2tl_remain, tqpair->maxh2cdata);
	if (tqpair->flags.host_hdgst_enable) {
		h2c_data->common.flags |= SPDK_NVME_TCP_CH_FLAGS_HDGSTF;
		plen += SPDK_NVME_TCP_DIGEST_LEN;
	}
	pdo = nvme_tcp_data_pdo(tqpair, plen);
	h2c_data->common.pdo = pdo;
	plen = pdo + h2c_data->datal;
	if (tqpair->flags.host_ddgst_enable) {
		h2c_data->common.flags |= SPDK_NVME_TCP_CH_FLAGS_DDGSTF;
		plen += SPDK_NVME_TCP_DIGEST_LEN;
	}
	h2c_data->common.plen = plen;
	nvme_tcp_pdu_set_data_buf(pdu, tcp_req->iov, tcp_req->iovcnt, h2c_data->datao,
				  h2c_data->datal);
	tcp_req->r2tl_remain -= h2c_data->datal;
	tcp_req->datao += h2c_data->datal;
	if (tcp_req->r2tl_remain == 0) {
		h2c_data->common.flags |= SPDK_NVME_TCP_H2C_DATA_FLAGS_LAST_PDU;
	}
	tqpair->h2c_bytes += h2c_data->datal;
	tcp_req->pdu_in_use = true;
	nvme_tcp_qpair_write_pdu(tqpair, pdu, nvme_tcp_qpair_h2c_data_send_complete, tcp_req);
}

/* ---- submitting ---- */

static int
nvme_tcp_req_init(struct nvme_tcp_qpair *tqpair, struct nvme_request *req,
		  struct nvme_tcp_req *tcp_req)
{
	struct spdk_nvme_ctrlr *ctrlr = tqpair->qpair.ctrlr;
	struct spdk_nvmf_capsule_cmd *cap = (struct spdk_nvmf_capsule_cmd *)&req->cmd;
	struct spdk_nvme_sgl_descriptor *sgl = &req->cmd.dptr.sgl1;
	enum spdk_nvme_data_transfer xfer;
	uint32_t max_in_capsule_data_size;

	tcp_req->req = req;
	req->cmd.cid = tcp_req->cid;
	req->cmd.psdt = SPDK_NVME_PSDT_SGL_MPTR_CONTIG;
	if (req->cmd.opc == SPDK_NVME_OPC_FABRIC) {
		xfer = spdk_nvme_opc_get_data_transfer(cap->fctype);
	} else {
		xfer = spdk_nvme_opc_get_data_transfer(req->cmd.opc);
	}
	if (req->payload_size > 0) {
		tcp_req->iov[0].iov_base = req->payload;
		tcp_req->iov[0].iov_len = req->payload_size;
		tcp_req->iovcnt = 1;
	}
	memset(sgl, 0, sizeof(*sgl));
	sgl->unkeyed.length = req->payload_size;
	if (xfer == SPDK_NVME_DATA_HOST_TO_CONTROLLER) {
		max_in_capsule_data_size = ctrlr->ioccsz_bytes;
		if (nvme_qpair_is_admin_queue(&tqpair->qpair) || req->cmd.opc == SPDK_NVME_OPC_FABRIC) {
			max_in_capsule_data_size = SPDK_NVME_TCP_IN_CAPSULE_DATA_MAX_SIZE;
		}
		if (req->payload_size > 0 && req->payload_size <= max_in_capsule_data_size) {
			sgl->unkeyed.type = SPDK_NVME_SGL_TYPE_DATA_BLOCK;
			sgl->unkeyed.subtype = SPDK_NVME_SGL_SUBTYPE_OFFSET;
			sgl->address = 0;
			tcp_req->in_capsule_data = true;
			return 0;
		}
	}
	sgl->unkeyed.type = SPDK_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK;
	sgl->unkeyed.subtype = SPDK_NVME_SGL_SUBTYPE_TRANSPORT;
	sgl->address = 0;
	return 0;
}

int
nvme_tcp_qpair_submit_request(struct spdk_nvme_qpair *qpair, struct nvme_request *req)
{
	struct nvme_tcp_qpair *tqpair = nvme_tcp_qpair(qpair);
	struct nvme_tcp_req *tcp_req;

	if (tqpair->sock == NULL || tqpair->state >= NVME_TCP_QPAIR_STATE_EXITING) {
		return -ENXIO;
	}
	tcp_req = nvme_tcp_req_get(tqpair);
	if (tcp_req == NULL) {
		return -EAGAIN;
	}
	if (nvme_tcp_req_init(tqpair, req, tcp_req) != 0) {
		nvme_tcp_req_put(tqpair, tcp_req);
		return -EINVAL;
	}
	SPDK_WASM_TRACE("nvme_tcp_qpair_submit_request", tqpair, tcp_req->cid, req->cmd.opc,
			req->payload_size);
	nvme_tcp_qpair_capsule_cmd_send(tqpair, tcp_req);
	return 0;
}

/* ---- receiving PDUs ---- */

static void
nvme_tcp_icresp_handle(struct nvme_tcp_qpair *tqpair, struct nvme_tcp_pdu *pdu)
{
	struct spdk_nvme_tcp_ic_resp *ic_resp = &pdu->hdr.ic_resp;
	uint32_t error_offset = 0;
	int recv_buf_size;

	if (ic_resp->pfv != 0) {
		SPDK_ERRLOG("Expected ICResp PFV 0, got %u\n", ic_resp->pfv);
		error_offset = offsetof(struct spdk_nvme_tcp_ic_resp, pfv);
		goto end;
	}
	if (ic_resp->maxh2cdata < NVME_TCP_PDU_H2C_MIN_DATA_SIZE) {
		SPDK_ERRLOG("Expected ICResp maxh2cdata >= %u, got %u\n", NVME_TCP_PDU_H2C_MIN_DATA_SIZE,
			    ic_resp->maxh2cdata);
		error_offset = offsetof(struct spdk_nvme_tcp_ic_resp, maxh2cdata);
		goto end;
	}
	if (ic_resp->cpda > SPDK_NVME_TCP_CPDA_MAX) {
		SPDK_ERRLOG("Expected ICResp cpda <= %u, got %u\n", SPDK_NVME_TCP_CPDA_MAX, ic_resp->cpda);
		error_offset = offsetof(struct spdk_nvme_tcp_ic_resp, cpda);
		goto end;
	}
	tqpair->maxh2cdata = ic_resp->maxh2cdata;
	tqpair->cpda = ic_resp->cpda;
	tqpair->flags.host_hdgst_enable = ic_resp->dgst.bits.hdgst_enable;
	tqpair->flags.host_ddgst_enable = ic_resp->dgst.bits.ddgst_enable;
	tqpair->flags.icresp_recv = 1;
	SPDK_WASM_TRACE("nvme_tcp_icresp_handle", tqpair, tqpair->maxh2cdata, tqpair->cpda,
			ic_resp->dgst.raw);

	/* With the digests known, size the socket's receive pipe for several 4 KiB C2HData
	 * PDUs (header, data, digests). */
	recv_buf_size = 0x1000 + sizeof(struct spdk_nvme_tcp_c2h_data_hdr);
	if (tqpair->flags.host_hdgst_enable) {
		recv_buf_size += SPDK_NVME_TCP_DIGEST_LEN;
	}
	if (tqpair->flags.host_ddgst_enable) {
		recv_buf_size += SPDK_NVME_TCP_DIGEST_LEN;
	}
	if (spdk_sock_set_recvbuf(tqpair->sock, recv_buf_size * SPDK_NVMF_TCP_RECV_BUF_SIZE_FACTOR) < 0) {
		/* Not fatal: reads then go to the kernel one by one. */
		SPDK_WARNLOG("Unable to allocate enough memory for receive buffer on tqpair=%p with size=%d\n",
			     tqpair, recv_buf_size);
	}

	nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_READY);
	/* The ICReq write must have completed too before the Connect goes out. */
	if (tqpair->flags.icreq_send_ack) {
		nvme_tcp_qpair_set_state(tqpair, NVME_TCP_QPAIR_STATE_FABRIC_CONNECT_SEND);
	}
	return;
end:
	nvme_tcp_send_h2c_term_req(tqpair, pdu, SPDK_NVME_TCP_TERM_REQ_FES_INVALID_HEADER_FIELD,
				   error_offset);
}

static void
nvme_tcp_capsule_resp_hdr_handle(struct nvme_tcp_qpair *tqpair, struct nvme_tcp_pdu *pdu)
{
	struct spdk_nvme_tcp_rsp *capsule_resp = &pdu->hdr.capsule_resp;
	struct spdk_nvme_cpl *cpl = &capsule_resp->rccqe;
	struct nvme_tcp_req *tcp_req;

	tcp_req = get_nvme_active_req_by_cid(tqpair, cpl->cid);
	if (tcp_req == NULL) {
		SPDK_ERRLOG("no tcp_req is found with cid=%u for tqpair=%p\n", cpl->cid, tqpair);
		nvme_tcp_send_h2c_term_req(tqpair, pdu, SPDK_NVME_TCP_TERM_REQ_FES_INVALID_HEADER_FIELD,
					   offsetof(struct spdk_nvme_tcp_rsp, rccqe));
		return;
	}
	tcp_req->rsp = *cpl;
	tcp_req->ordering.bits.data_recv = 1;
	nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_READY);
	nvme_tcp_req_complete_safe(tcp_req);
}

static void
nvme_tcp_c2h_data_hdr_handle(struct nvme_tcp_qpair *tqpair, struct nvme_tcp_pdu *pdu)
{
	struct spdk_nvme_tcp_c2h_data_hdr *c2h_data = &pdu->hdr.c2h_data;
	struct nvme_tcp_req *tcp_req;
	uint32_t error_offset = 0, expected_plen;
	enum spdk_nvme_tcp_term_req_fes fes;

	tcp_req = get_nvme_active_req_by_cid(tqpair, c2h_data->cccid);
	if (tcp_req == NULL) {
		SPDK_ERRLOG("no tcp_req found for c2hdata cid=%u\n", c2h_data->cccid);
		fes = SPDK_NVME_TCP_TERM_REQ_FES_INVALID_HEADER_FIELD;
		error_offset = offsetof(struct spdk_nvme_tcp_c2h_data_hdr, cccid);
		goto end;
	}
	if ((c2h_data->common.flags & SPDK_NVME_TCP_C2H_DATA_FLAGS_SUCCESS) &&
	    !(c2h_data->common.flags & SPDK_NVME_TCP_C2H_DATA_FLAGS_LAST_PDU)) {
		SPDK_ERRLOG("Invalid flags 0x%x in c2h_data=%p: SUCCESS without LAST_PDU\n",
			    c2h_data->common.flags, c2h_data);
		fes = SPDK_NVME_TCP_TERM_REQ_FES_INVALID_HEADER_FIELD;
		error_offset = offsetof(struct spdk_nvme_tcp_c2h_data_hdr, common);
		goto end;
	}
	if (c2h_data->datal > tcp_req->req->payload_size) {
		SPDK_ERRLOG("Invalid datal %u for tcp_req(%p): payload_size is %u\n", c2h_data->datal,
			    tcp_req, tcp_req->req->payload_size);
		fes = SPDK_NVME_TCP_TERM_REQ_FES_DATA_TRANSFER_OUT_OF_RANGE;
		goto end;
	}
	if (tcp_req->expected_datao != c2h_data->datao) {
		SPDK_ERRLOG("Invalid datao %u for tcp_req(%p), expected %u\n", c2h_data->datao, tcp_req,
			    tcp_req->expected_datao);
		fes = SPDK_NVME_TCP_TERM_REQ_FES_INVALID_HEADER_FIELD;
		error_offset = offsetof(struct spdk_nvme_tcp_c2h_data_hdr, datao);
		goto end;
	}
	/* datal 0 is refused too: upstream would sit in AWAIT_PDU_PAYLOAD on an empty payload. */
	if (c2h_data->datal == 0 || c2h_data->datao > tcp_req->req->payload_size - c2h_data->datal) {
		SPDK_ERRLOG("Invalid data range datao %u datal %u for a payload of %u\n", c2h_data->datao,
			    c2h_data->datal, tcp_req->req->payload_size);
		fes = SPDK_NVME_TCP_TERM_REQ_FES_DATA_TRANSFER_OUT_OF_RANGE;
		error_offset = offsetof(struct spdk_nvme_tcp_c2h_data_hdr, datal);
		goto end;
	}
	pdu->ddgst_enable = tqpair->flags.host_ddgst_enable &&
			    (c2h_data->common.flags & SPDK_NVME_TCP_CH_FLAGS_DDGSTF);
	expected_plen = c2h_data->common.pdo + c2h_data->datal +
			(pdu->ddgst_enable ? SPDK_NVME_TCP_DIGEST_LEN : 0);
	if (c2h_data->common.plen != expected_plen) {
		SPDK_ERRLOG("C2HData plen %u does not match pdo %u + datal %u\n", c2h_data->common.plen,
			    c2h_data->common.pdo, c2h_data->datal);
		fes = SPDK_NVME_TCP_TERM_REQ_FES_INVALID_HEADER_FIELD;
		error_offset = offsetof(struct spdk_nvme_tcp_common_pdu_hdr, plen);
		goto end;
	}
	pdu->req = tcp_req;
	if (nvme_tcp_pdu_set_data_buf(pdu, tcp_req->iov, tcp_req->iovcnt, c2h_data->datao,
				      c2h_data->datal) != 0) {
		fes = SPDK_NVME_TCP_TERM_REQ_FES_DATA_TRANSFER_OUT_OF_RANGE;
		error_offset = offsetof(struct spdk_nvme_tcp_c2h_data_hdr, datal);
		goto end;
	}
	nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_PAYLOAD);
	return;
end:
	nvme_tcp_send_h2c_term_req(tqpair, pdu, fes, error_offset);
}

static void
nvme_tcp_c2h_data_payload_handle(struct nvme_tcp_qpair *tqpair, struct nvme_tcp_pdu *pdu)
{
	struct nvme_tcp_req *tcp_req = pdu->req;
	struct spdk_nvme_tcp_c2h_data_hdr *c2h_data = &pdu->hdr.c2h_data;
	uint8_t flags = c2h_data->common.flags;

	tcp_req->expected_datao += c2h_data->datal;
	tqpair->c2h_bytes += c2h_data->datal;
	if (!(flags & SPDK_NVME_TCP_C2H_DATA_FLAGS_LAST_PDU)) {
		return;
	}
	/* As upstream: P marks a transfer that ended short; only the status code can carry an
	 * error here (a data digest mismatch), so a short SUCCESS still completes as success. */
	tcp_req->rsp.status.p = tcp_req->expected_datao != tcp_req->req->payload_size;
	tcp_req->rsp.cid = tcp_req->cid;
	tcp_req->rsp.sqid = tqpair->qpair.id;
	if (!(flags & SPDK_NVME_TCP_C2H_DATA_FLAGS_SUCCESS)) {
		/* The CapsuleResp follows and its CQE replaces rsp. */
		return;
	}
	tqpair->c2h_success++;
	tcp_req->ordering.bits.data_recv = 1;
	nvme_tcp_req_complete_safe(tcp_req);
}

static void
nvme_tcp_r2t_hdr_handle(struct nvme_tcp_qpair *tqpair, struct nvme_tcp_pdu *pdu)
{
	struct spdk_nvme_tcp_r2t_hdr *r2t = &pdu->hdr.r2t;
	struct nvme_tcp_req *tcp_req;
	uint32_t error_offset = 0;
	enum spdk_nvme_tcp_term_req_fes fes;

	tcp_req = get_nvme_active_req_by_cid(tqpair, r2t->cccid);
	if (tcp_req == NULL) {
		SPDK_ERRLOG("Cannot find tcp_req for tqpair=%p, cccid %u\n", tqpair, r2t->cccid);
		fes = SPDK_NVME_TCP_TERM_REQ_FES_INVALID_HEADER_FIELD;
		error_offset = offsetof(struct spdk_nvme_tcp_r2t_hdr, cccid);
		goto end;
	}
	if (tcp_req->in_capsule_data || tcp_req->datao != r2t->r2to) {
		SPDK_ERRLOG("Invalid R2T offset %u for tcp_req(%p), expected %u\n", r2t->r2to, tcp_req,
			    tcp_req->datao);
		fes = SPDK_NVME_TCP_TERM_REQ_FES_INVALID_HEADER_FIELD;
		error_offset = offsetof(struct spdk_nvme_tcp_r2t_hdr, r2to);
		goto end;
	}
	if (r2t->r2tl == 0 || r2t->r2tl > tcp_req->req->payload_size - r2t->r2to) {
		SPDK_ERRLOG("Invalid R2T length %u at offset %u for a payload of %u\n", r2t->r2tl,
			    r2t->r2to, tcp_req->req->payload_size);
		fes = SPDK_NVME_TCP_TERM_REQ_FES_DATA_TRANSFER_OUT_OF_RANGE;
		error_offset = offsetof(struct spdk_nvme_tcp_r2t_hdr, r2tl);
		goto end;
	}
	tcp_req->active_r2ts++;
	if (tcp_req->active_r2ts > tqpair->maxr2t) {
		if (tcp_req->state == NVME_TCP_REQ_ACTIVE_R2T && tcp_req->pdu_in_use) {
			/* The controller saw all of the previous R2T's data before its last
			 * H2CData write completed here: serve this one once it has. */
			assert(tcp_req->active_r2ts == tqpair->maxr2t + 1);
			tcp_req->ttag_r2t_next = r2t->ttag;
			tcp_req->r2tl_remain_next = r2t->r2tl;
			tcp_req->ordering.bits.r2t_waiting_h2c_complete = 1;
			nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_READY);
			return;
		}
		SPDK_ERRLOG("Too many R2Ts (%u) for tcp_req(%p), maxr2t %u\n", tcp_req->active_r2ts,
			    tcp_req, tqpair->maxr2t);
		fes = SPDK_NVME_TCP_TERM_REQ_FES_R2T_LIMIT_EXCEEDED;
		goto end;
	}
	tcp_req->ttag = r2t->ttag;
	tcp_req->r2tl_remain = r2t->r2tl;
	tcp_req->state = NVME_TCP_REQ_ACTIVE_R2T;
	nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_READY);
	if (tcp_req->ordering.bits.send_ack && !tcp_req->pdu_in_use) {
		nvme_tcp_send_h2c_data(tcp_req);
	} else {
		tcp_req->ordering.bits.h2c_send_waiting_ack = 1;
	}
	return;
end:
	nvme_tcp_send_h2c_term_req(tqpair, pdu, fes, error_offset);
}

static void
nvme_tcp_c2h_term_req_hdr_handle(struct nvme_tcp_qpair *tqpair, struct nvme_tcp_pdu *pdu)
{
	struct spdk_nvme_tcp_term_req_hdr *c2h_term_req = &pdu->hdr.term_req;

	if (c2h_term_req->fes > SPDK_NVME_TCP_TERM_REQ_FES_INVALID_DATA_UNSUPPORTED_PARAMETER) {
		SPDK_ERRLOG("Fatal Error Status (FES) is unknown for c2h_term_req pdu=%p\n", pdu);
		nvme_tcp_send_h2c_term_req(tqpair, pdu, SPDK_NVME_TCP_TERM_REQ_FES_INVALID_HEADER_FIELD,
					   offsetof(struct spdk_nvme_tcp_term_req_hdr, fes));
		return;
	}
	/* The offending header the controller echoes is read and dropped. */
	nvme_tcp_pdu_set_data(pdu, tqpair->term_req_data,
			      pdu->hdr.common.plen - pdu->hdr.common.hlen);
	nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_PAYLOAD);
}

static void
nvme_tcp_pdu_payload_handle(struct nvme_tcp_qpair *tqpair, struct nvme_tcp_pdu *pdu)
{
	uint32_t crc32c;

	if (pdu->ddgst_enable) {
		crc32c = nvme_tcp_pdu_calc_data_digest(pdu);
		if (!MATCH_DIGEST_WORD(pdu->data_digest, crc32c)) {
			/* datal framed the PDU, so the stream is still in step: only this
			 * command fails (transient transport error); the qpair lives. */
			SPDK_ERRLOG("data digest error on tqpair=(%p) with pdu=%p\n", tqpair, pdu);
			tqpair->ddgst_errors++;
			((struct nvme_tcp_req *)pdu->req)->rsp.status.sc =
				SPDK_NVME_SC_TRANSIENT_TRANSPORT_ERROR;
		}
	}
	nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_READY);
	switch (pdu->hdr.common.pdu_type) {
	case SPDK_NVME_TCP_PDU_TYPE_C2H_DATA:
		nvme_tcp_c2h_data_payload_handle(tqpair, pdu);
		break;
	case SPDK_NVME_TCP_PDU_TYPE_C2H_TERM_REQ:
		SPDK_ERRLOG("C2HTermReq received on qid %u: fes 0x%x\n", tqpair->qpair.id,
			    pdu->hdr.term_req.fes);
		tqpair->term_reqs_recv++;
		tqpair->last_fes = pdu->hdr.term_req.fes;
		nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_ERROR);
		break;
	default:
		/* The header handler lets no other type reach here. */
		assert(0);
		break;
	}
}

static void
nvme_tcp_pdu_psh_handle(struct nvme_tcp_qpair *tqpair)
{
	struct nvme_tcp_pdu *pdu = tqpair->recv_pdu;
	uint32_t crc32c;

	if (pdu->has_hdgst) {
		crc32c = nvme_tcp_pdu_calc_header_digest(pdu);
		if (!MATCH_DIGEST_WORD((uint8_t *)pdu->hdr.raw + pdu->hdr.common.hlen, crc32c)) {
			SPDK_ERRLOG("header digest error on tqpair=(%p) with pdu=%p\n", tqpair, pdu);
			tqpair->hdgst_errors++;
			nvme_tcp_send_h2c_term_req(tqpair, pdu, SPDK_NVME_TCP_TERM_REQ_FES_HDGST_ERROR, 0);
			return;
		}
	}
	switch (pdu->hdr.common.pdu_type) {
	case SPDK_NVME_TCP_PDU_TYPE_IC_RESP:
		nvme_tcp_icresp_handle(tqpair, pdu);
		break;
	case SPDK_NVME_TCP_PDU_TYPE_CAPSULE_RESP:
		nvme_tcp_capsule_resp_hdr_handle(tqpair, pdu);
		break;
	case SPDK_NVME_TCP_PDU_TYPE_C2H_DATA:
		nvme_tcp_c2h_data_hdr_handle(tqpair, pdu);
		break;
	case SPDK_NVME_TCP_PDU_TYPE_R2T:
		nvme_tcp_r2t_hdr_handle(tqpair, pdu);
		break;
	case SPDK_NVME_TCP_PDU_TYPE_C2H_TERM_REQ:
		nvme_tcp_c2h_term_req_hdr_handle(tqpair, pdu);
		break;
	default:
		assert(0);
		break;
	}
}

/* Checks the common header; sets psh_len (header rest, HDGST, padding) or answers with a
 * H2CTermReq. */
static void
nvme_tcp_pdu_ch_handle(struct nvme_tcp_qpair *tqpair)
{
	struct nvme_tcp_pdu *pdu = tqpair->recv_pdu;
	struct spdk_nvme_tcp_common_pdu_hdr *ch = &pdu->hdr.common;
	uint32_t error_offset = 0, expected_hlen = 0, hd_len;
	enum spdk_nvme_tcp_term_req_fes fes = SPDK_NVME_TCP_TERM_REQ_FES_INVALID_HEADER_FIELD;
	bool plen_error = false;

	if (ch->pdu_type < SPDK_COUNTOF(tqpair->pdus_recv)) {
		tqpair->pdus_recv[ch->pdu_type]++;
	}
	SPDK_WASM_TRACE("nvme_tcp_pdu_ch_handle", tqpair, ch->pdu_type, ch->plen, tqpair->qpair.id);
	if (ch->pdu_type == SPDK_NVME_TCP_PDU_TYPE_IC_RESP) {
		if (tqpair->state != NVME_TCP_QPAIR_STATE_INITIALIZING || tqpair->flags.icresp_recv) {
			SPDK_ERRLOG("Already received IC_RESP PDU, and reject this pdu=%p\n", pdu);
			fes = SPDK_NVME_TCP_TERM_REQ_FES_PDU_SEQUENCE_ERROR;
			goto err;
		}
		expected_hlen = sizeof(struct spdk_nvme_tcp_ic_resp);
		plen_error = ch->plen != expected_hlen;
	} else {
		if (tqpair->state < NVME_TCP_QPAIR_STATE_FABRIC_CONNECT_SEND) {
			SPDK_ERRLOG("The TCP/IP tqpair connection is not negotiated\n");
			fes = SPDK_NVME_TCP_TERM_REQ_FES_PDU_SEQUENCE_ERROR;
			goto err;
		}
		switch (ch->pdu_type) {
		case SPDK_NVME_TCP_PDU_TYPE_CAPSULE_RESP:
			expected_hlen = sizeof(struct spdk_nvme_tcp_rsp);
			plen_error = ch->plen != expected_hlen +
				     (tqpair->flags.host_hdgst_enable ? SPDK_NVME_TCP_DIGEST_LEN : 0);
			break;
		case SPDK_NVME_TCP_PDU_TYPE_C2H_DATA:
			expected_hlen = sizeof(struct spdk_nvme_tcp_c2h_data_hdr);
			plen_error = ch->plen <= expected_hlen || ch->pdo < expected_hlen ||
				     ch->pdo > SPDK_NVME_TCP_PDU_PDO_MAX_OFFSET || ch->pdo >= ch->plen;
			if (!plen_error && tqpair->cpda != 0 && ch->pdo % ((tqpair->cpda + 1) << 2) != 0) {
				plen_error = true;
			}
			break;
		case SPDK_NVME_TCP_PDU_TYPE_R2T:
			expected_hlen = sizeof(struct spdk_nvme_tcp_r2t_hdr);
			plen_error = ch->plen != expected_hlen +
				     (tqpair->flags.host_hdgst_enable ? SPDK_NVME_TCP_DIGEST_LEN : 0);
			break;
		case SPDK_NVME_TCP_PDU_TYPE_C2H_TERM_REQ:
			expected_hlen = sizeof(struct spdk_nvme_tcp_term_req_hdr);
			plen_error = ch->plen <= expected_hlen ||
				     ch->plen > expected_hlen + SPDK_NVME_TCP_TERM_REQ_ERROR_DATA_MAX_SIZE;
			break;
		default:
			SPDK_ERRLOG("Unexpected PDU type 0x%02x\n", ch->pdu_type);
			error_offset = offsetof(struct spdk_nvme_tcp_common_pdu_hdr, pdu_type);
			goto err;
		}
	}
	if (ch->hlen != expected_hlen) {
		SPDK_ERRLOG("Expected PDU header length %u, got %u\n", expected_hlen, ch->hlen);
		error_offset = offsetof(struct spdk_nvme_tcp_common_pdu_hdr, hlen);
		goto err;
	}
	if (plen_error) {
		SPDK_ERRLOG("Invalid PDU length %u (pdo %u) for type 0x%02x\n", ch->plen, ch->pdo,
			    ch->pdu_type);
		error_offset = offsetof(struct spdk_nvme_tcp_common_pdu_hdr, plen);
		goto err;
	}
	pdu->psh_len = ch->hlen - sizeof(struct spdk_nvme_tcp_common_pdu_hdr);
	hd_len = ch->hlen;
	if (tqpair->flags.host_hdgst_enable && nvme_tcp_pdu_type_has_hdgst(ch->pdu_type)) {
		pdu->has_hdgst = true;
		pdu->psh_len += SPDK_NVME_TCP_DIGEST_LEN;
		hd_len += SPDK_NVME_TCP_DIGEST_LEN;
	}
	if (ch->pdu_type == SPDK_NVME_TCP_PDU_TYPE_C2H_DATA) {
		if (ch->pdo < hd_len) {
			SPDK_ERRLOG("C2HData PDO %u inside the header (%u)\n", ch->pdo, hd_len);
			error_offset = offsetof(struct spdk_nvme_tcp_common_pdu_hdr, pdo);
			goto err;
		}
		if (ch->pdo > hd_len) {
			pdu->padding_len = ch->pdo - hd_len;
			pdu->psh_len = ch->pdo - sizeof(struct spdk_nvme_tcp_common_pdu_hdr);
		}
	}
	nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_PSH);
	return;
err:
	nvme_tcp_send_h2c_term_req(tqpair, pdu, fes, error_offset);
}

/* The receive machine: reads as much as the socket has. NVME_TCP_PDU_FATAL when the qpair
 * must be torn down, otherwise 0. */
static int
nvme_tcp_read_pdu(struct nvme_tcp_qpair *tqpair, uint32_t max_completions)
{
	enum nvme_tcp_pdu_recv_state prev_state;
	struct nvme_tcp_pdu *pdu = tqpair->recv_pdu;
	int rc;

	do {
		prev_state = tqpair->recv_state;
		switch (tqpair->recv_state) {
		case NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_READY:
			memset(pdu, 0, offsetof(struct nvme_tcp_pdu, req));
			pdu->req = NULL;
			pdu->qpair = tqpair;
			nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_CH);
		/* fallthrough */
		case NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_CH:
			rc = nvme_tcp_read_data(tqpair->sock,
						sizeof(struct spdk_nvme_tcp_common_pdu_hdr) - pdu->ch_valid_bytes,
						(uint8_t *)&pdu->hdr.common + pdu->ch_valid_bytes);
			if (rc < 0) {
				nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_QUIESCING);
				break;
			}
			pdu->ch_valid_bytes += rc;
			if (pdu->ch_valid_bytes < sizeof(struct spdk_nvme_tcp_common_pdu_hdr)) {
				return NVME_TCP_PDU_IN_PROGRESS;
			}
			nvme_tcp_pdu_ch_handle(tqpair);
			break;
		case NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_PSH:
			rc = nvme_tcp_read_data(tqpair->sock, pdu->psh_len - pdu->psh_valid_bytes,
						(uint8_t *)&pdu->hdr.raw + sizeof(struct spdk_nvme_tcp_common_pdu_hdr) +
						pdu->psh_valid_bytes);
			if (rc < 0) {
				nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_QUIESCING);
				break;
			}
			pdu->psh_valid_bytes += rc;
			if (pdu->psh_valid_bytes < pdu->psh_len) {
				return NVME_TCP_PDU_IN_PROGRESS;
			}
			nvme_tcp_pdu_psh_handle(tqpair);
			break;
		case NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_PAYLOAD:
			rc = nvme_tcp_read_payload_data(tqpair->sock, pdu);
			if (rc < 0) {
				nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_QUIESCING);
				break;
			}
			pdu->readv_offset += rc;
			if (pdu->readv_offset < pdu->data_len +
			    (pdu->ddgst_enable ? SPDK_NVME_TCP_DIGEST_LEN : 0)) {
				return NVME_TCP_PDU_IN_PROGRESS;
			}
			nvme_tcp_pdu_payload_handle(tqpair, pdu);
			break;
		case NVME_TCP_PDU_RECV_STATE_QUIESCING:
			/* One receive PDU per qpair: nothing to wait for but a pending H2CTermReq. */
			if (!tqpair->flags.term_req_sent) {
				nvme_tcp_qpair_set_recv_state(tqpair, NVME_TCP_PDU_RECV_STATE_ERROR);
			}
			return NVME_TCP_PDU_IN_PROGRESS;
		case NVME_TCP_PDU_RECV_STATE_ERROR:
			return NVME_TCP_PDU_FATAL;
		default:
			assert(0);
			return NVME_TCP_PDU_FATAL;
		}
	} while (prev_state != tqpair->recv_state && tqpair->reaped < max_completions);
	return NVME_TCP_PDU_IN_PROGRESS;
}

/* One flush per poll, before reading, as upstream does for a qpair outside a poll group: what the
 * PDUs read in this poll queue (H2CData, the Connect, new commands from completion callbacks) goes
 * out at the start of the next. */
static int
nvme_tcp_qpair_flush(struct nvme_tcp_qpair *tqpair)
{
	int rc;

	rc = spdk_sock_flush(tqpair->sock);
	if (rc < 0 && rc != -EAGAIN && errno != EAGAIN) {
		SPDK_ERRLOG("Failed to flush tqpair=%p (%d): %s\n", tqpair, -rc, strerror(-rc));
		return rc;
	}
	return 0;
}

static void
nvme_tcp_send_icreq_complete(void *cb_arg)
{
	struct nvme_tcp_qpair *tqpair = cb_arg;

	tqpair->flags.icreq_send_ack = 1;
	if (tqpair->flags.icresp_recv && tqpair->state == NVME_TCP_QPAIR_STATE_INITIALIZING) {
		nvme_tcp_qpair_set_state(tqpair, NVME_TCP_QPAIR_STATE_FABRIC_CONNECT_SEND);
	}
}

/* -EAGAIN while connecting, 0 once the Fabrics Connect succeeded, else the error. */
static int
nvme_tcp_ctrlr_connect_qpair_poll(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_qpair *qpair)
{
	struct nvme_tcp_qpair *tqpair = nvme_tcp_qpair(qpair);
	uint64_t now = spdk_get_ticks();
	int rc;

	switch (tqpair->state) {
	case NVME_TCP_QPAIR_STATE_INVALID:
	case NVME_TCP_QPAIR_STATE_INITIALIZING:
		if (now > tqpair->icreq_timeout_tsc) {
			SPDK_ERRLOG("Failed to construct the tqpair=%p via correct icresp\n", tqpair);
			return -ETIMEDOUT;
		}
		return -EAGAIN;
	case NVME_TCP_QPAIR_STATE_FABRIC_CONNECT_SEND:
		rc = nvme_fabric_qpair_connect_async(qpair, qpair->num_entries);
		if (rc < 0) {
			SPDK_ERRLOG("Failed to send an NVMe-oF Fabric CONNECT command\n");
			return rc;
		}
		nvme_tcp_qpair_set_state(tqpair, NVME_TCP_QPAIR_STATE_FABRIC_CONNECT_POLL);
		return -EAGAIN;
	case NVME_TCP_QPAIR_STATE_FABRIC_CONNECT_POLL:
		rc = nvme_fabric_qpair_connect_poll(qpair);
		if (rc == -EAGAIN) {
			if (now > tqpair->connect_timeout_tsc) {
				SPDK_ERRLOG("Fabric CONNECT of qid %u timed out\n", qpair->id);
				return -ETIMEDOUT;
			}
			return -EAGAIN;
		}
		if (rc < 0) {
			return rc;
		}
		nvme_tcp_qpair_set_state(tqpair, NVME_TCP_QPAIR_STATE_RUNNING);
		nvme_qpair_set_state(qpair, NVME_QPAIR_CONNECTED);
		return 0;
	case NVME_TCP_QPAIR_STATE_RUNNING:
		return 0;
	default:
		return -ENXIO;
	}
}

int32_t
nvme_tcp_qpair_process_completions(struct spdk_nvme_qpair *qpair, uint32_t max_completions)
{
	struct nvme_tcp_qpair *tqpair = nvme_tcp_qpair(qpair);
	int rc;

	if (tqpair->sock == NULL) {
		return -ENXIO;
	}
	if (max_completions == 0) {
		max_completions = tqpair->num_entries;
	}
	tqpair->reaped = 0;
	/* In a poll group the sock group poll has flushed the socket already. */
	if (qpair->poll_group == NULL && nvme_tcp_qpair_flush(tqpair) < 0) {
		qpair->transport_failure_reason = SPDK_NVME_QPAIR_FAILURE_REMOTE;
		goto fail;
	}
	rc = nvme_tcp_read_pdu(tqpair, max_completions);
	if (rc < 0) {
		qpair->transport_failure_reason = tqpair->flags.term_req_sent ?
						  SPDK_NVME_QPAIR_FAILURE_LOCAL : SPDK_NVME_QPAIR_FAILURE_REMOTE;
		goto fail;
	}
	if (qpair->state == NVME_QPAIR_CONNECTING) {
		rc = nvme_tcp_ctrlr_connect_qpair_poll(qpair->ctrlr, qpair);
		if (rc < 0 && rc != -EAGAIN) {
			qpair->transport_failure_reason = SPDK_NVME_QPAIR_FAILURE_REMOTE;
			goto fail;
		}
	}
	if (tqpair->recv_state == NVME_TCP_PDU_RECV_STATE_ERROR) {
		goto fail;
	}
	return (int32_t)tqpair->reaped;
fail:
	tqpair->fatal_errors++;
	SPDK_WASM_TRACE("nvme_tcp_qpair_process_completions_fail", tqpair, qpair->id,
			tqpair->state, tqpair->recv_state);
	return -ENXIO;
}

/* ---- poll groups ---- */

/* The sock group found data (or an error to read) on the qpair's socket, or the qpair needed a
 * poll: process it as spdk_nvme_qpair_process_completions would. */
static void
nvme_tcp_qpair_sock_cb(void *ctx, struct spdk_sock_group *group, struct spdk_sock *sock)
{
	struct spdk_nvme_qpair *qpair = ctx;
	struct nvme_tcp_poll_group *pgroup = nvme_tcp_poll_group(qpair->poll_group);
	struct nvme_tcp_qpair *tqpair = nvme_tcp_qpair(qpair);
	int32_t num_completions;

	(void)group;
	(void)sock;
	nvme_tcp_qpair_clear_needs_poll(tqpair);
	num_completions = spdk_nvme_qpair_process_completions(qpair, pgroup->completions_per_qpair);
	if (pgroup->num_completions >= 0 && num_completions >= 0) {
		pgroup->num_completions += num_completions;
	} else {
		pgroup->num_completions = -ENXIO;
	}
}

struct spdk_nvme_transport_poll_group *
nvme_tcp_poll_group_create(void)
{
	struct nvme_tcp_poll_group *group;

	group = calloc(1, sizeof(*group));
	if (group == NULL) {
		SPDK_ERRLOG("Unable to allocate poll group.\n");
		return NULL;
	}
	TAILQ_INIT(&group->needs_poll);
	group->sock_group = spdk_sock_group_create(group);
	if (group->sock_group == NULL) {
		free(group);
		SPDK_ERRLOG("Unable to allocate sock group.\n");
		return NULL;
	}
	return &group->group;
}

int
nvme_tcp_poll_group_connect_qpair(struct spdk_nvme_qpair *qpair)
{
	struct nvme_tcp_poll_group *group = nvme_tcp_poll_group(qpair->poll_group);
	struct nvme_tcp_qpair *tqpair = nvme_tcp_qpair(qpair);

	/* Still connecting: the sock module adds it to epoll once the connect completes. */
	if (tqpair->sock != NULL &&
	    spdk_sock_group_add_sock(group->sock_group, tqpair->sock, nvme_tcp_qpair_sock_cb,
				     qpair) != 0) {
		return -EPROTO;
	}
	return 0;
}

int
nvme_tcp_poll_group_disconnect_qpair(struct spdk_nvme_qpair *qpair)
{
	struct nvme_tcp_poll_group *group = nvme_tcp_poll_group(qpair->poll_group);
	struct nvme_tcp_qpair *tqpair = nvme_tcp_qpair(qpair);

	nvme_tcp_qpair_clear_needs_poll(tqpair);
	if (tqpair->sock != NULL && spdk_sock_group_remove_sock(group->sock_group, tqpair->sock) != 0) {
		return -EPROTO;
	}
	return 0;
}

int
nvme_tcp_poll_group_add(struct spdk_nvme_transport_poll_group *tgroup,
			struct spdk_nvme_qpair *qpair)
{
	(void)tgroup;
	(void)qpair;
	return 0;
}

int
nvme_tcp_poll_group_remove(struct spdk_nvme_transport_poll_group *tgroup,
			   struct spdk_nvme_qpair *qpair)
{
	(void)tgroup;
	assert(qpair->poll_group_tailq_head == &tgroup->disconnected_qpairs);
	nvme_tcp_qpair_clear_needs_poll(nvme_tcp_qpair(qpair));
	return 0;
}

int64_t
nvme_tcp_poll_group_process_completions(struct spdk_nvme_transport_poll_group *tgroup,
					uint32_t completions_per_qpair,
					spdk_nvme_disconnected_qpair_cb disconnected_qpair_cb)
{
	struct nvme_tcp_poll_group *group = nvme_tcp_poll_group(tgroup);
	struct spdk_nvme_qpair *qpair, *tmp_qpair;
	struct nvme_tcp_qpair *tqpair, *tmp_tqpair;
	int num_events;

	group->completions_per_qpair = completions_per_qpair;
	group->num_completions = 0;
	group->polls++;

	num_events = spdk_sock_group_poll(group->sock_group);

	/* Disconnects finish synchronously here, so every qpair on the list is DISCONNECTED;
	 * the callback may reconnect or remove it. */
	STAILQ_FOREACH_SAFE(qpair, &tgroup->disconnected_qpairs, poll_group_stailq, tmp_qpair) {
		if (qpair->state == NVME_QPAIR_DISCONNECTED) {
			tgroup->group->disconnected_cbs++;
			disconnected_qpair_cb(qpair, tgroup->group->ctx);
		}
	}

	/* Those a send completion marked and the sock group poll did not already process. */
	TAILQ_FOREACH_SAFE(tqpair, &group->needs_poll, link, tmp_tqpair) {
		nvme_tcp_qpair_sock_cb(&tqpair->qpair, group->sock_group, tqpair->sock);
	}

	if (spdk_unlikely(num_events < 0)) {
		return num_events;
	}
	group->idle_polls += num_events == 0;
	group->socket_completions += (uint32_t)num_events;
	return group->num_completions;
}

int
nvme_tcp_poll_group_destroy(struct spdk_nvme_transport_poll_group *tgroup)
{
	struct nvme_tcp_poll_group *group = nvme_tcp_poll_group(tgroup);

	if (!STAILQ_EMPTY(&tgroup->connected_qpairs)) {
		return -EBUSY;
	}
	if (spdk_sock_group_close(&group->sock_group) != 0) {
		SPDK_ERRLOG("Failed to close the sock group for a tcp poll group.\n");
		return -EBUSY;
	}
	free(group);
	return 0;
}

/* ---- qpair lifetime ---- */

static void
nvme_tcp_qpair_abort_reqs(struct spdk_nvme_qpair *qpair, uint32_t dnr)
{
	struct nvme_tcp_qpair *tqpair = nvme_tcp_qpair(qpair);
	struct nvme_tcp_req *tcp_req, *tmp;
	struct spdk_nvme_cpl cpl;

	memset(&cpl, 0, sizeof(cpl));
	cpl.status.sc = SPDK_NVME_SC_ABORTED_SQ_DELETION;
	cpl.status.sct = SPDK_NVME_SCT_GENERIC;
	cpl.status.dnr = dnr;
	TAILQ_FOREACH_SAFE(tcp_req, &tqpair->outstanding_reqs, link, tmp) {
		cpl.cid = tcp_req->cid;
		cpl.sqid = qpair->id;
		/* The socket is closed: nothing of the request is in flight any more. */
		tcp_req->pdu_in_use = false;
		qpair->aborted++;
		nvme_tcp_req_complete(tcp_req, tqpair, &cpl);
	}
}

void
nvme_tcp_ctrlr_disconnect_qpair(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_qpair *qpair)
{
	struct nvme_tcp_qpair *tqpair = nvme_tcp_qpair(qpair);
	struct nvme_tcp_pdu *pdu, *tmp;

	SPDK_WASM_TRACE("nvme_tcp_ctrlr_disconnect_qpair", tqpair, qpair->id, tqpair->state,
			qpair->transport_failure_reason);
	nvme_tcp_qpair_clear_needs_poll(tqpair);
	nvme_tcp_qpair_set_state(tqpair, NVME_TCP_QPAIR_STATE_EXITING);
	if (tqpair->sock != NULL) {
		/* Aborts every sock request still queued or waiting for a zero-copy release. */
		spdk_sock_close(&tqpair->sock);
	}
	TAILQ_FOREACH_SAFE(pdu, &tqpair->send_queue, tailq, tmp) {
		TAILQ_REMOVE(&tqpair->send_queue, pdu, tailq);
	}
	nvme_tcp_qpair_abort_reqs(qpair, 0);
	tqpair->recv_state = NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_READY;
	nvme_tcp_qpair_set_state(tqpair, NVME_TCP_QPAIR_STATE_EXITED);
}

static int
nvme_tcp_qpair_icreq_send(struct nvme_tcp_qpair *tqpair)
{
	struct spdk_nvme_ctrlr *ctrlr = tqpair->qpair.ctrlr;
	struct spdk_nvme_tcp_ic_req *ic_req;
	struct nvme_tcp_pdu *pdu = tqpair->send_pdu;

	memset(pdu, 0, sizeof(*pdu));
	pdu->req = NULL;
	ic_req = &pdu->hdr.ic_req;
	ic_req->common.pdu_type = SPDK_NVME_TCP_PDU_TYPE_IC_REQ;
	ic_req->common.hlen = ic_req->common.plen = sizeof(*ic_req);
	ic_req->pfv = 0;
	ic_req->maxr2t = NVME_TCP_MAX_R2T_DEFAULT - 1;
	ic_req->hpda = NVME_TCP_HPDA_DEFAULT;
	ic_req->dgst.bits.hdgst_enable = ctrlr->opts.header_digest;
	ic_req->dgst.bits.ddgst_enable = ctrlr->opts.data_digest;
	tqpair->icreq_timeout_tsc = spdk_get_ticks() + NVME_TCP_TIME_OUT_IN_SECONDS * spdk_get_ticks_hz();
	nvme_tcp_qpair_set_state(tqpair, NVME_TCP_QPAIR_STATE_INITIALIZING);
	nvme_tcp_qpair_write_pdu(tqpair, pdu, nvme_tcp_send_icreq_complete, tqpair);
	return 0;
}

static int
nvme_tcp_qpair_connect_sock(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_qpair *qpair)
{
	struct nvme_tcp_qpair *tqpair = nvme_tcp_qpair(qpair);
	struct spdk_sock_opts opts;
	long port;
	char *end;

	port = strtol(ctrlr->trid.trsvcid, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535) {
		SPDK_ERRLOG("Invalid trsvcid '%s'\n", ctrlr->trid.trsvcid);
		return -EINVAL;
	}
	memset(&opts, 0, sizeof(opts));
	opts.opts_size = sizeof(opts);
	spdk_sock_get_default_opts(&opts);
	/* Zero copy for I/O queues only: admin traffic is small. */
	opts.zcopy = !nvme_qpair_is_admin_queue(qpair) && ctrlr->opts.io_zcopy;
	opts.ack_timeout = ctrlr->opts.transport_ack_timeout ?
			   1u << ctrlr->opts.transport_ack_timeout : 0;
	tqpair->sock = spdk_sock_connect_async(ctrlr->trid.traddr, (int)port, NULL, &opts, NULL, NULL);
	if (tqpair->sock == NULL) {
		SPDK_ERRLOG("sock connection error of tqpair=%p with addr=%s, port=%ld\n", tqpair,
			    ctrlr->trid.traddr, port);
		return -errno ? -errno : -ECONNREFUSED;
	}
	return 0;
}

int
nvme_tcp_ctrlr_connect_qpair(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_qpair *qpair)
{
	struct nvme_tcp_qpair *tqpair = nvme_tcp_qpair(qpair);
	uint32_t timeout_ms = ctrlr->opts.admin_timeout_ms ? ctrlr->opts.admin_timeout_ms : 10000;
	int rc;

	assert(tqpair->sock == NULL);
	assert(TAILQ_EMPTY(&tqpair->outstanding_reqs));
	tqpair->flags.host_hdgst_enable = 0;
	tqpair->flags.host_ddgst_enable = 0;
	tqpair->flags.icreq_send_ack = 0;
	tqpair->flags.icresp_recv = 0;
	tqpair->flags.term_req_sent = 0;
	tqpair->cpda = 0;
	tqpair->maxh2cdata = NVME_TCP_PDU_H2C_MIN_DATA_SIZE;
	tqpair->maxr2t = NVME_TCP_MAX_R2T_DEFAULT;
	tqpair->recv_state = NVME_TCP_PDU_RECV_STATE_AWAIT_PDU_READY;
	qpair->transport_failure_reason = SPDK_NVME_QPAIR_FAILURE_NONE;
	nvme_tcp_qpair_set_state(tqpair, NVME_TCP_QPAIR_STATE_INVALID);
	rc = nvme_tcp_qpair_connect_sock(ctrlr, qpair);
	if (rc < 0) {
		return rc;
	}
	tqpair->connect_timeout_tsc = spdk_get_ticks() + (uint64_t)timeout_ms * 1000;
	nvme_qpair_set_state(qpair, NVME_QPAIR_CONNECTING);
	return nvme_tcp_qpair_icreq_send(tqpair);
}

struct spdk_nvme_qpair *
nvme_tcp_ctrlr_create_qpair(struct spdk_nvme_ctrlr *ctrlr, uint16_t qid, uint32_t qsize,
			    uint32_t num_requests)
{
	struct nvme_tcp_qpair *tqpair;
	uint32_t i;

	if (qsize < 2) {
		SPDK_ERRLOG("Failed to create qpair with size %u. Minimum queue size is 2.\n", qsize);
		return NULL;
	}
	tqpair = calloc(1, sizeof(*tqpair));
	if (tqpair == NULL) {
		return NULL;
	}
	tqpair->num_entries = qsize;
	if (nvme_qpair_init(&tqpair->qpair, qid, ctrlr, qsize, num_requests) != 0) {
		free(tqpair);
		return NULL;
	}
	tqpair->tcp_reqs = calloc(qsize, sizeof(*tqpair->tcp_reqs));
	/* One send PDU per request, plus the receive PDU and the management send PDU. */
	tqpair->send_pdus = calloc(qsize + 2, sizeof(*tqpair->send_pdus));
	if (tqpair->tcp_reqs == NULL || tqpair->send_pdus == NULL) {
		free(tqpair->tcp_reqs);
		free(tqpair->send_pdus);
		nvme_qpair_deinit(&tqpair->qpair);
		free(tqpair);
		return NULL;
	}
	TAILQ_INIT(&tqpair->free_reqs);
	TAILQ_INIT(&tqpair->outstanding_reqs);
	TAILQ_INIT(&tqpair->send_queue);
	for (i = 0; i < qsize; i++) {
		struct nvme_tcp_req *tcp_req = &tqpair->tcp_reqs[i];

		tcp_req->cid = i;
		tcp_req->tqpair = tqpair;
		tcp_req->pdu = &tqpair->send_pdus[i];
		tcp_req->state = NVME_TCP_REQ_FREE;
		TAILQ_INSERT_TAIL(&tqpair->free_reqs, tcp_req, link);
	}
	tqpair->recv_pdu = &tqpair->send_pdus[qsize];
	tqpair->send_pdu = &tqpair->send_pdus[qsize + 1];
	tqpair->state = NVME_TCP_QPAIR_STATE_INVALID;
	return &tqpair->qpair;
}

int
nvme_tcp_ctrlr_delete_io_qpair(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_qpair *qpair)
{
	struct nvme_tcp_qpair *tqpair = nvme_tcp_qpair(qpair);

	if (tqpair->sock != NULL) {
		nvme_tcp_ctrlr_disconnect_qpair(ctrlr, qpair);
	}
	nvme_qpair_deinit(qpair);
	free(tqpair->tcp_reqs);
	free(tqpair->send_pdus);
	free(tqpair);
	return 0;
}

/* Fields for the exported evidence interface: 0 tcp state, 1 recv_state, 2 hdgst, 3 ddgst,
 * 4 maxh2cdata, 5 cpda, 6 outstanding tcp_reqs, 7 H2CTermReqs sent, 8 C2HTermReqs received,
 * 9 last FES, 10 header digest errors, 11 data digest errors, 12 H2C bytes, 13 C2H bytes,
 * 14 C2HData with SUCCESS, 15 in-capsule bytes, 16 fatal errors, 17 socket open,
 * 20 + t: PDUs of type t sent, 40 + t: PDUs of type t received. */
int
nvme_tcp_qpair_get_field(struct spdk_nvme_qpair *qpair, int field)
{
	struct nvme_tcp_qpair *tqpair = nvme_tcp_qpair(qpair);
	struct nvme_tcp_req *tcp_req;
	int n = 0;

	if (field >= 20 && field < 30) {
		return (int)tqpair->pdus_sent[field - 20];
	}
	if (field >= 40 && field < 50) {
		return (int)tqpair->pdus_recv[field - 40];
	}
	switch (field) {
	case 0: return tqpair->state;
	case 1: return tqpair->recv_state;
	case 2: return tqpair->flags.host_hdgst_enable;
	case 3: return tqpair->flags.host_ddgst_enable;
	case 4: return (int)tqpair->maxh2cdata;
	case 5: return tqpair->cpda;
	case 6:
		TAILQ_FOREACH(tcp_req, &tqpair->outstanding_reqs, link) {
			n++;
		}
		return n;
	case 7: return (int)tqpair->term_reqs_sent;
	case 8: return (int)tqpair->term_reqs_recv;
	case 9: return (int)tqpair->last_fes;
	case 10: return (int)tqpair->hdgst_errors;
	case 11: return (int)tqpair->ddgst_errors;
	case 12: return (int)tqpair->h2c_bytes;
	case 13: return (int)tqpair->c2h_bytes;
	case 14: return (int)tqpair->c2h_success;
	case 15: return (int)tqpair->icd_bytes;
	case 16: return (int)tqpair->fatal_errors;
	case 17: return tqpair->sock != NULL;
	default: return -EINVAL;
	}
}

struct spdk_sock *
nvme_tcp_qpair_get_sock(struct spdk_nvme_qpair *qpair)
{
	return nvme_tcp_qpair(qpair)->sock;
}
