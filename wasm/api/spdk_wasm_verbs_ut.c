/* Test-only exports for the verbs shim (wasm/port/verbs_shim.c): open the first device, build a
 * PD, an MR over a buffer of its own, a CQ with a channel, an SRQ and an RC QP, read async events
 * and tear it all down, each step answering an errno the test compares with the host's tables.
 * No static data, so the other modules' objects stay where they were. */
#include <emscripten/emscripten.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "infiniband/verbs.h"

#define SPDK_WASM_API EMSCRIPTEN_KEEPALIVE

struct ut_verbs {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	struct ibv_comp_channel *ch;
	struct ibv_cq *cq;
	struct ibv_srq *srq;
	struct ibv_qp *qp;
	void *buf;
	struct ibv_async_event ev;
};

SPDK_WASM_API struct ut_verbs *
spdk_wasm_ut_verbs_alloc(void)
{
	return calloc(1, sizeof(struct ut_verbs));
}

SPDK_WASM_API void
spdk_wasm_ut_verbs_free(struct ut_verbs *u)
{
	free(u);
}

/* Opens the first listed device and creates every object; 0 or the errno of the first failure
 * (the objects made so far stay for ut_verbs_teardown). */
SPDK_WASM_API int
spdk_wasm_ut_verbs_setup(struct ut_verbs *u, uint32_t buf_len, int32_t mr_access)
{
	struct ibv_device **list;
	struct ibv_srq_init_attr sattr;
	struct ibv_qp_init_attr qattr;
	struct ibv_device_attr attr;
	int n = 0;

	/* Filled at run time: an initialized struct would be a constant in linear memory. */
	memset(u, 0, sizeof(*u));
	memset(&sattr, 0, sizeof(sattr));
	memset(&qattr, 0, sizeof(qattr));
	sattr.attr.max_wr = 64;
	sattr.attr.max_sge = 1;
	qattr.qp_type = IBV_QPT_RC;
	qattr.cap.max_send_wr = 16;
	qattr.cap.max_send_sge = 1;
	list = ibv_get_device_list(&n);
	if (list == NULL || n == 0) {
		ibv_free_device_list(list);
		return ENODEV;
	}
	u->ctx = ibv_open_device(list[0]);
	ibv_free_device_list(list);
	if (u->ctx == NULL) {
		return errno;
	}
	if (ibv_query_device(u->ctx, &attr) != 0 || attr.max_qp_wr < 16) {
		return EIO;
	}
	u->pd = ibv_alloc_pd(u->ctx);
	if (u->pd == NULL) {
		return errno;
	}
	u->buf = calloc(1, buf_len);
	u->mr = ibv_reg_mr(u->pd, u->buf, buf_len, mr_access);
	if (u->mr == NULL) {
		return errno;
	}
	u->ch = ibv_create_comp_channel(u->ctx);
	if (u->ch == NULL) {
		return errno;
	}
	u->cq = ibv_create_cq(u->ctx, 128, NULL, u->ch, 0);
	if (u->cq == NULL) {
		return errno;
	}
	u->srq = ibv_create_srq(u->pd, &sattr);
	if (u->srq == NULL) {
		return errno;
	}
	qattr.send_cq = u->cq;
	qattr.recv_cq = u->cq;
	qattr.srq = u->srq;
	u->qp = ibv_create_qp(u->pd, &qattr);
	return u->qp == NULL ? errno : 0;
}

/* 0: name, 1: lkey, 2: rkey, 3: qp_num, 4: async fd, 5: MR host handle. */
SPDK_WASM_API uint32_t
spdk_wasm_ut_verbs_get(struct ut_verbs *u, uint32_t what)
{
	switch (what) {
	case 1: return u->mr ? u->mr->lkey : 0;
	case 2: return u->mr ? u->mr->rkey : 0;
	case 3: return u->qp ? u->qp->qp_num : 0;
	case 4: return u->ctx ? (uint32_t)u->ctx->async_fd : 0;
	case 5: return u->mr ? u->mr->handle : 0;
	default: return 0;
	}
}

/* The next async event's type, or -errno (kept for event_is_our_qp and ack_event). */
SPDK_WASM_API int
spdk_wasm_ut_verbs_next_event(struct ut_verbs *u)
{
	if (ibv_get_async_event(u->ctx, &u->ev) != 0) {
		return -errno;
	}
	return (int)u->ev.event_type;
}

SPDK_WASM_API int
spdk_wasm_ut_verbs_event_is_our_qp(struct ut_verbs *u)
{
	return u->ev.element.qp != NULL && u->ev.element.qp == u->qp;
}

SPDK_WASM_API void
spdk_wasm_ut_verbs_ack_event(struct ut_verbs *u)
{
	ibv_ack_async_event(&u->ev);
}

/* Forces the QP into the error state (SRQ QPs then report LAST_WQE_REACHED). */
SPDK_WASM_API int
spdk_wasm_ut_verbs_qp_error(struct ut_verbs *u)
{
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_ERR;

	return ibv_modify_qp(u->qp, &a, IBV_QP_STATE);
}

/* Destroys in Linux's order (QP, SRQ, CQ, channel, MR, PD, context); the first errno, or 0. */
SPDK_WASM_API int
spdk_wasm_ut_verbs_teardown(struct ut_verbs *u)
{
	int rc = 0, r;

#define STEP(obj, call) do { if ((obj) != NULL) { r = (call); if (r != 0 && rc == 0) { rc = r; } else if (r == 0) { (obj) = NULL; } } } while (0)
	STEP(u->qp, ibv_destroy_qp(u->qp));
	STEP(u->srq, ibv_destroy_srq(u->srq));
	STEP(u->cq, ibv_destroy_cq(u->cq));
	STEP(u->ch, ibv_destroy_comp_channel(u->ch));
	STEP(u->mr, ibv_dereg_mr(u->mr));
	STEP(u->pd, ibv_dealloc_pd(u->pd));
	STEP(u->ctx, ibv_close_device(u->ctx));
#undef STEP
	free(u->buf);
	u->buf = NULL;
	return rc;
}
