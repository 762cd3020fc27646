/* The model's libibverbs: Linux's ibv_* calls over the host_ibv_* imports. Each object is a small
 * C struct holding the host's handle; calls that return a pointer set errno and return NULL on
 * failure, calls that return int return the positive errno, as rdma-core does. Async events name
 * their QP, CQ or SRQ by handle, so each context keeps a registry of those to map back. The shim
 * has no static data: adding it moves no other object in linear memory (traces record addresses). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "infiniband/verbs.h"
#include "verbs_shim.h"

struct shim_obj {
	uint32_t handle;
	void *ptr;
	struct shim_obj *next;
};

/* The context keeps its own copy of the device (callers free the list and keep the context) and
 * the registry of its QPs, CQs and SRQs. */
struct shim_context {
	struct ibv_context ctx;
	struct ibv_device dev;
	struct shim_obj *objs;
};

static struct shim_obj **
objs_of(struct ibv_context *ctx)
{
	return &((struct shim_context *)ctx)->objs;
}

static void
obj_add(struct ibv_context *ctx, uint32_t handle, void *ptr)
{
	struct shim_obj *o = calloc(1, sizeof(*o));

	if (o != NULL) {
		o->handle = handle;
		o->ptr = ptr;
		o->next = *objs_of(ctx);
		*objs_of(ctx) = o;
	}
}

static void *
obj_find(struct ibv_context *ctx, uint32_t handle)
{
	struct shim_obj *o;

	for (o = *objs_of(ctx); o != NULL; o = o->next) {
		if (o->handle == handle) {
			return o->ptr;
		}
	}
	return NULL;
}

static void
obj_del(struct ibv_context *ctx, uint32_t handle)
{
	struct shim_obj **pp, *o;

	for (pp = objs_of(ctx); (o = *pp) != NULL; pp = &o->next) {
		if (o->handle == handle) {
			*pp = o->next;
			free(o);
			return;
		}
	}
}

/* A host result as a handle: > 0, or 0 with errno set. */
static uint32_t
as_handle(int32_t rc)
{
	if (rc <= 0) {
		errno = rc < 0 ? -rc : EIO;
		return 0;
	}
	return (uint32_t)rc;
}

static int
as_errno(int32_t rc)
{
	return rc < 0 ? -rc : 0;
}

struct ibv_device **
ibv_get_device_list(int *num_devices)
{
	struct ibv_device **list;
	char name[64];
	int n = 0, i;

	while (host_ibv_device_name((uint32_t)n, name) == 0) {
		n++;
	}
	list = calloc((size_t)n + 1, sizeof(*list));
	if (list == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		list[i] = calloc(1, sizeof(**list));
		if (list[i] == NULL || host_ibv_device_name((uint32_t)i, list[i]->name) != 0) {
			ibv_free_device_list(list);
			errno = ENOMEM;
			return NULL;
		}
		list[i]->host_index = (uint32_t)i;
	}
	if (num_devices != NULL) {
		*num_devices = n;
	}
	return list;
}

void
ibv_free_device_list(struct ibv_device **list)
{
	struct ibv_device **d;

	if (list == NULL) {
		return;
	}
	for (d = list; *d != NULL; d++) {
		free(*d);
	}
	free(list);
}

const char *
ibv_get_device_name(struct ibv_device *device)
{
	return device->name;
}

struct ibv_context *
ibv_open_device(struct ibv_device *device)
{
	struct shim_context *c;
	uint32_t h = as_handle(host_ibv_open_device(device->name));

	if (h == 0) {
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		host_ibv_close_device(h);
		errno = ENOMEM;
		return NULL;
	}
	c->dev = *device;
	c->ctx.device = &c->dev;
	c->ctx.host_handle = h;
	c->ctx.async_fd = host_ibv_async_fd(h);
	c->ctx.num_comp_vectors = 1;
	return &c->ctx;
}

struct ibv_context *
verbs_shim_context_wrap(uint32_t handle, const char *name)
{
	struct shim_context *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(c->dev.name, sizeof(c->dev.name), "%s", name);
	c->ctx.device = &c->dev;
	c->ctx.host_handle = handle;
	c->ctx.async_fd = host_ibv_async_fd(handle);
	c->ctx.num_comp_vectors = 1;
	return &c->ctx;
}

int
ibv_close_device(struct ibv_context *context)
{
	int rc = as_errno(host_ibv_close_device(context->host_handle));

	if (rc == 0) {
		free(context); /* first member of shim_context */
	}
	return rc;
}

int
ibv_query_device(struct ibv_context *context, struct ibv_device_attr *attr)
{
	int32_t lim[7];
	int32_t rc = host_ibv_query_device(context->host_handle, lim);

	if (rc < 0) {
		return -rc;
	}
	memset(attr, 0, sizeof(*attr));
	attr->max_mr_size = (uint64_t)1 << 32;
	attr->max_qp = lim[0];
	attr->max_qp_wr = lim[1];
	attr->max_sge = lim[2];
	attr->max_cqe = lim[3];
	attr->max_mr = lim[4];
	attr->max_srq = lim[5];
	attr->max_srq_wr = lim[6];
	attr->max_srq_sge = lim[2];
	attr->max_cq = lim[0];
	attr->max_pd = lim[0];
	attr->max_qp_rd_atom = 16;
	attr->max_qp_init_rd_atom = 16;
	return 0;
}

int
ibv_get_async_event(struct ibv_context *context, struct ibv_async_event *event)
{
	uint32_t type, element;
	int32_t rc = host_ibv_get_async_event(context->host_handle, &type, &element);

	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	memset(event, 0, sizeof(*event));
	event->event_type = (enum ibv_event_type)type;
	if (element != 0) {
		/* QP, CQ and SRQ pointers share the union's storage */
		event->element.qp = obj_find(context, element);
	} else {
		event->element.port_num = 1;
	}
	return 0;
}

void
ibv_ack_async_event(struct ibv_async_event *event)
{
	uint32_t element = 0;
	struct ibv_context *ctx = NULL;

	switch (event->event_type) {
	case IBV_EVENT_CQ_ERR:
		if (event->element.cq != NULL) {
			element = event->element.cq->handle;
			ctx = event->element.cq->context;
		}
		break;
	case IBV_EVENT_SRQ_ERR:
	case IBV_EVENT_SRQ_LIMIT_REACHED:
		if (event->element.srq != NULL) {
			element = event->element.srq->handle;
			ctx = event->element.srq->context;
		}
		break;
	case IBV_EVENT_QP_FATAL:
	case IBV_EVENT_QP_REQ_ERR:
	case IBV_EVENT_QP_ACCESS_ERR:
	case IBV_EVENT_COMM_EST:
	case IBV_EVENT_SQ_DRAINED:
	case IBV_EVENT_PATH_MIG:
	case IBV_EVENT_PATH_MIG_ERR:
	case IBV_EVENT_QP_LAST_WQE_REACHED:
		if (event->element.qp != NULL) {
			element = event->element.qp->handle;
			ctx = event->element.qp->context;
		}
		break;
	default:
		break;
	}
	if (ctx != NULL) {
		host_ibv_ack_async_event(ctx->host_handle, element);
	}
}

struct ibv_pd *
ibv_alloc_pd(struct ibv_context *context)
{
	struct ibv_pd *pd;
	uint32_t h = as_handle(host_ibv_alloc_pd(context->host_handle));

	if (h == 0) {
		return NULL;
	}
	pd = calloc(1, sizeof(*pd));
	if (pd == NULL) {
		host_ibv_dealloc_pd(h);
		errno = ENOMEM;
		return NULL;
	}
	pd->context = context;
	pd->handle = h;
	return pd;
}

int
ibv_dealloc_pd(struct ibv_pd *pd)
{
	int rc = as_errno(host_ibv_dealloc_pd(pd->handle));

	if (rc == 0) {
		free(pd);
	}
	return rc;
}

struct ibv_mr *
ibv_reg_mr(struct ibv_pd *pd, void *addr, size_t length, int access)
{
	struct ibv_mr *mr;
	uint32_t keys[2];
	uint32_t h = as_handle(host_ibv_reg_mr(pd->handle, addr, (double)length, access, keys));

	if (h == 0) {
		return NULL;
	}
	mr = calloc(1, sizeof(*mr));
	if (mr == NULL) {
		host_ibv_dereg_mr(h);
		errno = ENOMEM;
		return NULL;
	}
	mr->context = pd->context;
	mr->pd = pd;
	mr->addr = addr;
	mr->length = length;
	mr->handle = h;
	mr->lkey = keys[0];
	mr->rkey = keys[1];
	return mr;
}

int
ibv_dereg_mr(struct ibv_mr *mr)
{
	int rc = as_errno(host_ibv_dereg_mr(mr->handle));

	if (rc == 0) {
		free(mr);
	}
	return rc;
}

struct ibv_comp_channel *
ibv_create_comp_channel(struct ibv_context *context)
{
	struct ibv_comp_channel *ch;
	int32_t fd = -1;
	uint32_t h = as_handle(host_ibv_create_comp_channel(context->host_handle, &fd));

	if (h == 0) {
		return NULL;
	}
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL) {
		host_ibv_destroy_comp_channel(h);
		errno = ENOMEM;
		return NULL;
	}
	ch->context = context;
	ch->fd = fd;
	ch->handle = h;
	return ch;
}

int
ibv_destroy_comp_channel(struct ibv_comp_channel *channel)
{
	int rc = as_errno(host_ibv_destroy_comp_channel(channel->handle));

	if (rc == 0) {
		free(channel);
	}
	return rc;
}

struct ibv_cq *
ibv_create_cq(struct ibv_context *context, int cqe, void *cq_context,
	      struct ibv_comp_channel *channel, int comp_vector)
{
	struct ibv_cq *cq;
	uint32_t h;

	(void)comp_vector;
	h = as_handle(host_ibv_create_cq(context->host_handle, cqe, channel ? channel->handle : 0));
	if (h == 0) {
		return NULL;
	}
	cq = calloc(1, sizeof(*cq));
	if (cq == NULL) {
		host_ibv_destroy_cq(h);
		errno = ENOMEM;
		return NULL;
	}
	cq->context = context;
	cq->channel = channel;
	cq->cq_context = cq_context;
	cq->handle = h;
	cq->cqe = cqe;
	obj_add(context, h, cq);
	return cq;
}

int
ibv_destroy_cq(struct ibv_cq *cq)
{
	int rc = as_errno(host_ibv_destroy_cq(cq->handle));

	if (rc == 0) {
		obj_del(cq->context, cq->handle);
		free(cq);
	}
	return rc;
}

int
ibv_poll_cq(struct ibv_cq *cq, int num_entries, struct ibv_wc *wc)
{
	return host_ibv_poll_cq(cq->handle, num_entries, wc);
}

int
ibv_req_notify_cq(struct ibv_cq *cq, int solicited_only)
{
	(void)solicited_only;
	return as_errno(host_ibv_req_notify_cq(cq->handle));
}

struct ibv_srq *
ibv_create_srq(struct ibv_pd *pd, struct ibv_srq_init_attr *init)
{
	struct ibv_srq *srq;
	uint32_t h = as_handle(host_ibv_create_srq(pd->handle, init->attr.max_wr, init->attr.max_sge));

	if (h == 0) {
		return NULL;
	}
	srq = calloc(1, sizeof(*srq));
	if (srq == NULL) {
		host_ibv_destroy_srq(h);
		errno = ENOMEM;
		return NULL;
	}
	srq->context = pd->context;
	srq->srq_context = init->srq_context;
	srq->pd = pd;
	srq->handle = h;
	obj_add(pd->context, h, srq);
	return srq;
}

int
ibv_destroy_srq(struct ibv_srq *srq)
{
	int rc = as_errno(host_ibv_destroy_srq(srq->handle));

	if (rc == 0) {
		obj_del(srq->context, srq->handle);
		free(srq);
	}
	return rc;
}

/* The bad WR is the index-th of the list the caller passed. */
static struct ibv_recv_wr *
recv_wr_at(struct ibv_recv_wr *wr, int32_t index)
{
	while (wr != NULL && index-- > 0) {
		wr = wr->next;
	}
	return wr;
}

int
ibv_post_srq_recv(struct ibv_srq *srq, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad)
{
	int32_t bad_index = 0;
	int rc = as_errno(host_ibv_post_srq_recv(srq->handle, wr, &bad_index));

	if (rc != 0 && bad != NULL) {
		*bad = recv_wr_at(wr, bad_index);
	}
	return rc;
}

/* Wraps a QP the host created (rdma_create_qp will share it). */
static struct ibv_qp *
wrap_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *init, int32_t rc, uint32_t qp_num)
{
	struct ibv_qp *qp;
	uint32_t h = as_handle(rc);

	if (h == 0) {
		return NULL;
	}
	qp = calloc(1, sizeof(*qp));
	if (qp == NULL) {
		host_ibv_destroy_qp(h);
		errno = ENOMEM;
		return NULL;
	}
	qp->context = pd->context;
	qp->qp_context = init->qp_context;
	qp->pd = pd;
	qp->send_cq = init->send_cq;
	qp->recv_cq = init->recv_cq;
	qp->srq = init->srq;
	qp->handle = h;
	qp->qp_num = qp_num;
	qp->state = IBV_QPS_INIT;
	qp->qp_type = init->qp_type;
	obj_add(pd->context, h, qp);
	return qp;
}

struct ibv_qp *
ibv_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *init)
{
	uint32_t qp_num = 0;
	int32_t rc;

	if (init->qp_type != IBV_QPT_RC || init->send_cq == NULL || init->recv_cq == NULL) {
		errno = EINVAL;
		return NULL;
	}
	rc = host_ibv_create_qp(pd->handle, init->send_cq->handle, init->recv_cq->handle,
				init->srq ? init->srq->handle : 0, &init->cap, init->sq_sig_all, &qp_num);
	return wrap_qp(pd, init, rc, qp_num);
}

struct ibv_qp *
verbs_shim_qp_wrap(struct ibv_pd *pd, struct ibv_qp_init_attr *init, int32_t rc, uint32_t qp_num)
{
	return wrap_qp(pd, init, rc, qp_num);
}

int
ibv_destroy_qp(struct ibv_qp *qp)
{
	int rc = as_errno(host_ibv_destroy_qp(qp->handle));

	if (rc == 0) {
		obj_del(qp->context, qp->handle);
		free(qp);
	}
	return rc;
}

int
ibv_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask)
{
	/* Connection setup moves QPs through rdma_cm; the C itself only forces the error state. */
	if ((attr_mask & IBV_QP_STATE) == 0 || attr->qp_state != IBV_QPS_ERR) {
		return EINVAL;
	}
	return as_errno(host_ibv_modify_qp_err(qp->handle));
}

int
ibv_query_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask, struct ibv_qp_init_attr *init)
{
	int32_t state = host_ibv_qp_state(qp->handle);

	(void)attr_mask;
	if (state < 0) {
		return -state;
	}
	memset(attr, 0, sizeof(*attr));
	attr->qp_state = (enum ibv_qp_state)state;
	attr->cur_qp_state = attr->qp_state;
	if (init != NULL) {
		memset(init, 0, sizeof(*init));
		init->qp_context = qp->qp_context;
		init->send_cq = qp->send_cq;
		init->recv_cq = qp->recv_cq;
		init->srq = qp->srq;
		init->qp_type = qp->qp_type;
	}
	return 0;
}

int
ibv_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad)
{
	int32_t bad_index = 0;
	int rc = as_errno(host_ibv_post_send(qp->handle, wr, &bad_index));

	if (rc != 0 && bad != NULL) {
		struct ibv_send_wr *w = wr;

		while (w != NULL && bad_index-- > 0) {
			w = w->next;
		}
		*bad = w;
	}
	return rc;
}

int
ibv_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad)
{
	int32_t bad_index = 0;
	int rc = as_errno(host_ibv_post_recv(qp->handle, wr, &bad_index));

	if (rc != 0 && bad != NULL) {
		*bad = recv_wr_at(wr, bad_index);
	}
	return rc;
}
