/* What the CM half of the model's rdma-core (rdma_cm_shim.c) needs from the verbs half: contexts
 * and QPs the host created through rdma_cm, wrapped the way verbs_shim.c wraps its own. */
#ifndef SPDK_WASM_PORT_VERBS_SHIM_H
#define SPDK_WASM_PORT_VERBS_SHIM_H

#include "infiniband/verbs.h"

/* A context for a handle the host's CM opened (not closed by the caller: librdmacm owns it). */
struct ibv_context *verbs_shim_context_wrap(uint32_t handle, const char *name);
/* The QP behind a host result (> 0 handle, or a negative errno: NULL with errno). */
struct ibv_qp *verbs_shim_qp_wrap(struct ibv_pd *pd, struct ibv_qp_init_attr *init, int32_t rc,
				  uint32_t qp_num);

#endif
