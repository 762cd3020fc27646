/* The model's librdmacm: Linux's rdma_* calls over the host_rdma_* imports. An event channel keeps
 * the ids created on it (and the ones CONNECT_REQUEST brings), so an event's id handles map back
 * to the caller's structs. Contexts the CM hands out (rdma_get_devices, id->verbs) are wrapped
 * once per host handle and kept, as librdmacm keeps its device contexts open. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "rdma/rdma_cma.h"
#include "verbs_shim.h"

struct shim_id {
	struct rdma_cm_id id;
	struct shim_id *next;
};

struct shim_channel {
	struct rdma_event_channel ch;
	struct shim_id *ids;
};

struct shim_ctx_ref {
	uint32_t handle;
	struct ibv_context *ctx;
	struct shim_ctx_ref *next;
};

static struct shim_ctx_ref *g_cm_contexts;

static int
fail(int32_t rc)
{
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/* The host's device index of the CM context `handle`, or -1. */
static int
context_index(uint32_t handle)
{
	char name[64];
	int i;

	for (i = 0; host_ibv_device_name((uint32_t)i, name) == 0; i++) {
		if (host_rdma_device_context((uint32_t)i) == (int32_t)handle) {
			return i;
		}
	}
	return -1;
}

static struct ibv_context *
context_of(uint32_t handle, const char *name)
{
	struct shim_ctx_ref *r;
	char found[64];
	int index;

	for (r = g_cm_contexts; r != NULL; r = r->next) {
		if (r->handle == handle) {
			return r->ctx;
		}
	}
	if (name == NULL) {
		index = context_index(handle);
		if (index < 0 || host_ibv_device_name((uint32_t)index, found) != 0) {
			return NULL;
		}
		name = found;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	r->ctx = verbs_shim_context_wrap(handle, name);
	if (r->ctx == NULL) {
		free(r);
		return NULL;
	}
	r->handle = handle;
	r->next = g_cm_contexts;
	g_cm_contexts = r;
	return r->ctx;
}

/* Mirrors the host's view of the id (device context, addresses) into the struct. */
static void
sync_id(struct rdma_cm_id *id)
{
	uint32_t verbs = 0;

	if (host_rdma_id_info(id->handle, &verbs, &id->route.addr.src_sin,
			      &id->route.addr.dst_sin) == 0) {
		id->verbs = verbs != 0 ? context_of(verbs, NULL) : NULL;
	}
}

struct ibv_context **
rdma_get_devices(int *num_devices)
{
	struct ibv_context **list;
	char name[64];
	int n = 0, i, k = 0;
	int32_t h;

	while (host_ibv_device_name((uint32_t)n, name) == 0) {
		n++;
	}
	list = calloc((size_t)n + 1, sizeof(*list));
	if (list == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		h = host_rdma_device_context((uint32_t)i);
		if (h <= 0 || host_ibv_device_name((uint32_t)i, name) != 0) {
			continue; /* the CM could not open it: not listed */
		}
		list[k] = context_of((uint32_t)h, name);
		if (list[k] != NULL) {
			k++;
		}
	}
	if (num_devices != NULL) {
		*num_devices = k;
	}
	return list;
}

void
rdma_free_devices(struct ibv_context **list)
{
	free(list);
}

struct rdma_event_channel *
rdma_create_event_channel(void)
{
	struct shim_channel *c = calloc(1, sizeof(*c));
	int32_t fd = -1, h;

	if (c == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	h = host_rdma_create_event_channel(&fd);
	if (h <= 0) {
		free(c);
		errno = h < 0 ? -h : EIO;
		return NULL;
	}
	c->ch.fd = fd;
	c->ch.handle = (uint32_t)h;
	return &c->ch;
}

void
rdma_destroy_event_channel(struct rdma_event_channel *channel)
{
	if (host_rdma_destroy_event_channel(channel->handle) == 0) {
		free(channel);
	}
}

static struct shim_id *
id_new(struct shim_channel *c, uint32_t handle, void *context, enum rdma_port_space ps)
{
	struct shim_id *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return NULL;
	}
	s->id.channel = &c->ch;
	s->id.context = context;
	s->id.ps = ps;
	s->id.port_num = 1;
	s->id.handle = handle;
	s->next = c->ids;
	c->ids = s;
	return s;
}

static struct rdma_cm_id *
id_find(struct shim_channel *c, uint32_t handle)
{
	struct shim_id *s;

	for (s = c->ids; s != NULL; s = s->next) {
		if (s->id.handle == handle) {
			return &s->id;
		}
	}
	return NULL;
}

int
rdma_create_id(struct rdma_event_channel *channel, struct rdma_cm_id **id, void *context,
	       enum rdma_port_space ps)
{
	struct shim_channel *c = (struct shim_channel *)channel;
	int32_t h = host_rdma_create_id(channel->handle);
	struct shim_id *s;

	if (h <= 0) {
		return fail(h < 0 ? h : -EIO);
	}
	s = id_new(c, (uint32_t)h, context, ps);
	if (s == NULL) {
		host_rdma_destroy_id((uint32_t)h);
		errno = ENOMEM;
		return -1;
	}
	*id = &s->id;
	return 0;
}

int
rdma_destroy_id(struct rdma_cm_id *id)
{
	struct shim_channel *c = (struct shim_channel *)id->channel;
	struct shim_id **pp, *s;
	int32_t rc = host_rdma_destroy_id(id->handle);

	if (rc < 0) {
		return fail(rc);
	}
	for (pp = &c->ids; (s = *pp) != NULL; pp = &s->next) {
		if (&s->id == id) {
			*pp = s->next;
			free(s);
			break;
		}
	}
	return 0;
}

int
rdma_bind_addr(struct rdma_cm_id *id, struct sockaddr *addr)
{
	int rc = fail(host_rdma_bind_addr(id->handle, addr, sizeof(struct sockaddr_in)));

	if (rc == 0) {
		sync_id(id);
	}
	return rc;
}

int
rdma_listen(struct rdma_cm_id *id, int backlog)
{
	return fail(host_rdma_listen(id->handle, backlog));
}

int
rdma_resolve_addr(struct rdma_cm_id *id, struct sockaddr *src_addr, struct sockaddr *dst_addr,
		  int timeout_ms)
{
	(void)src_addr;
	(void)timeout_ms;
	return fail(host_rdma_resolve_addr(id->handle, dst_addr, sizeof(struct sockaddr_in)));
}

int
rdma_resolve_route(struct rdma_cm_id *id, int timeout_ms)
{
	(void)timeout_ms;
	return fail(host_rdma_resolve_route(id->handle));
}

int
rdma_create_qp(struct rdma_cm_id *id, struct ibv_pd *pd, struct ibv_qp_init_attr *init)
{
	uint32_t qp_num = 0;
	int32_t rc;

	if (init->send_cq == NULL || init->recv_cq == NULL) {
		errno = EINVAL;
		return -1;
	}
	rc = host_rdma_create_qp(id->handle, pd->handle, init->send_cq->handle, init->recv_cq->handle,
				 init->srq ? init->srq->handle : 0, &init->cap, init->sq_sig_all, &qp_num);
	id->qp = verbs_shim_qp_wrap(pd, init, rc, qp_num);
	return id->qp == NULL ? -1 : 0;
}

void
rdma_destroy_qp(struct rdma_cm_id *id)
{
	if (id->qp != NULL && ibv_destroy_qp(id->qp) == 0) {
		id->qp = NULL;
	}
}

int
rdma_connect(struct rdma_cm_id *id, struct rdma_conn_param *conn_param)
{
	return fail(host_rdma_connect(id->handle, conn_param));
}

int
rdma_accept(struct rdma_cm_id *id, struct rdma_conn_param *conn_param)
{
	return fail(host_rdma_accept(id->handle, conn_param));
}

int
rdma_reject(struct rdma_cm_id *id, const void *private_data, uint8_t private_data_len)
{
	return fail(host_rdma_reject(id->handle, private_data, private_data_len));
}

int
rdma_disconnect(struct rdma_cm_id *id)
{
	return fail(host_rdma_disconnect(id->handle));
}

int
rdma_get_cm_event(struct rdma_event_channel *channel, struct rdma_cm_event **event)
{
	struct shim_channel *c = (struct shim_channel *)channel;
	struct rdma_cm_event *ev = calloc(1, sizeof(*ev));
	int32_t out[6];
	int32_t rc;

	if (ev == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = host_rdma_get_cm_event(channel->handle, out, ev->private_data);
	if (rc < 0) {
		free(ev);
		return fail(rc);
	}
	ev->handle = (uint32_t)out[0];
	ev->event = (enum rdma_cm_event_type)out[1];
	ev->status = out[4];
	ev->listen_id = out[3] != 0 ? id_find(c, (uint32_t)out[3]) : NULL;
	ev->id = id_find(c, (uint32_t)out[2]);
	if (ev->id == NULL) {
		/* A new id from a listener: it inherits the listener's context (librdmacm). */
		struct shim_id *s = id_new(c, (uint32_t)out[2], ev->listen_id ? ev->listen_id->context : NULL,
					   RDMA_PS_TCP);

		if (s == NULL) {
			host_rdma_ack_cm_event(ev->handle);
			free(ev);
			errno = ENOMEM;
			return -1;
		}
		ev->id = &s->id;
	}
	sync_id(ev->id);
	ev->param.conn.private_data = ev->private_data;
	ev->param.conn.private_data_len = (uint8_t)(out[5] < 196 ? out[5] : 196);
	*event = ev;
	return 0;
}

int
rdma_ack_cm_event(struct rdma_cm_event *event)
{
	int rc = fail(host_rdma_ack_cm_event(event->handle));

	free(event);
	return rc;
}

const char *
rdma_event_str(enum rdma_cm_event_type event)
{
	switch (event) {
	case RDMA_CM_EVENT_CONNECT_REQUEST: return "RDMA_CM_EVENT_CONNECT_REQUEST";
	case RDMA_CM_EVENT_ESTABLISHED: return "RDMA_CM_EVENT_ESTABLISHED";
	case RDMA_CM_EVENT_DISCONNECTED: return "RDMA_CM_EVENT_DISCONNECTED";
	case RDMA_CM_EVENT_DEVICE_REMOVAL: return "RDMA_CM_EVENT_DEVICE_REMOVAL";
	case RDMA_CM_EVENT_ADDR_CHANGE: return "RDMA_CM_EVENT_ADDR_CHANGE";
	case RDMA_CM_EVENT_TIMEWAIT_EXIT: return "RDMA_CM_EVENT_TIMEWAIT_EXIT";
	default: return "RDMA_CM_EVENT_OTHER";
	}
}
