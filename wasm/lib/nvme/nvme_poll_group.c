/* lib/nvme/nvme_poll_group.c with the poll-group part of lib/nvme/nvme_transport.c: qpairs that
 * are polled together. A group keeps each qpair on its connected or its disconnected list; the
 * transport's part (nvme_tcp_poll_group_*) does the polling. Upstream creates one transport
 * poll group per transport on the first add; TCP being the only transport here, the group
 * owns its one from creation. */
#include "nvme_internal.h"

struct spdk_nvme_poll_group *
spdk_nvme_poll_group_create(void *ctx, struct spdk_nvme_accel_fn_table *table)
{
	struct spdk_nvme_poll_group *group;

	(void)table;
	group = calloc(1, sizeof(*group));
	if (group == NULL) {
		return NULL;
	}
	group->tgroup = nvme_tcp_poll_group_create();
	if (group->tgroup == NULL) {
		free(group);
		return NULL;
	}
	group->tgroup->group = group;
	STAILQ_INIT(&group->tgroup->connected_qpairs);
	STAILQ_INIT(&group->tgroup->disconnected_qpairs);
	group->ctx = ctx;
	SPDK_WASM_TRACE("spdk_nvme_poll_group_create", group, 0, 0, 0);
	return group;
}

void *
spdk_nvme_poll_group_get_ctx(struct spdk_nvme_poll_group *group)
{
	return group->ctx;
}

int
spdk_nvme_poll_group_add(struct spdk_nvme_poll_group *group, struct spdk_nvme_qpair *qpair)
{
	struct spdk_nvme_transport_poll_group *tgroup = group->tgroup;
	int rc;

	if (qpair->state != NVME_QPAIR_DISCONNECTED || qpair->poll_group != NULL) {
		return -EINVAL;
	}
	rc = nvme_tcp_poll_group_add(tgroup, qpair);
	if (rc != 0) {
		return rc;
	}
	qpair->poll_group = tgroup;
	qpair->poll_group_tailq_head = &tgroup->disconnected_qpairs;
	STAILQ_INSERT_TAIL(&tgroup->disconnected_qpairs, qpair, poll_group_stailq);
	SPDK_WASM_TRACE("spdk_nvme_poll_group_add", group, qpair->id, 0, 0);
	return 0;
}

int
spdk_nvme_poll_group_remove(struct spdk_nvme_poll_group *group, struct spdk_nvme_qpair *qpair)
{
	struct spdk_nvme_transport_poll_group *tgroup = group->tgroup;
	int rc;

	if (qpair->poll_group != tgroup) {
		return -ENOENT;
	}
	/* A connected qpair's socket is still in the sock group: disconnect it first. */
	if (qpair->poll_group_tailq_head != &tgroup->disconnected_qpairs) {
		return -EINVAL;
	}
	rc = nvme_tcp_poll_group_remove(tgroup, qpair);
	if (rc != 0) {
		return rc;
	}
	STAILQ_REMOVE(&tgroup->disconnected_qpairs, qpair, spdk_nvme_qpair, poll_group_stailq);
	qpair->poll_group = NULL;
	qpair->poll_group_tailq_head = NULL;
	SPDK_WASM_TRACE("spdk_nvme_poll_group_remove", group, qpair->id, 0, 0);
	return 0;
}

int
nvme_poll_group_connect_qpair(struct spdk_nvme_qpair *qpair)
{
	struct spdk_nvme_transport_poll_group *tgroup = qpair->poll_group;
	int rc;

	if (qpair->poll_group_tailq_head == &tgroup->connected_qpairs) {
		return 0;
	}
	rc = nvme_tcp_poll_group_connect_qpair(qpair);
	if (rc != 0) {
		return rc;
	}
	STAILQ_REMOVE(&tgroup->disconnected_qpairs, qpair, spdk_nvme_qpair, poll_group_stailq);
	STAILQ_INSERT_TAIL(&tgroup->connected_qpairs, qpair, poll_group_stailq);
	qpair->poll_group_tailq_head = &tgroup->connected_qpairs;
	tgroup->num_connected_qpairs++;
	return 0;
}

int
nvme_poll_group_disconnect_qpair(struct spdk_nvme_qpair *qpair)
{
	struct spdk_nvme_transport_poll_group *tgroup = qpair->poll_group;
	int rc;

	if (qpair->poll_group_tailq_head == &tgroup->disconnected_qpairs) {
		return 0;
	}
	rc = nvme_tcp_poll_group_disconnect_qpair(qpair);
	/* Whatever the transport said, the qpair is no longer connected. */
	STAILQ_REMOVE(&tgroup->connected_qpairs, qpair, spdk_nvme_qpair, poll_group_stailq);
	STAILQ_INSERT_TAIL(&tgroup->disconnected_qpairs, qpair, poll_group_stailq);
	qpair->poll_group_tailq_head = &tgroup->disconnected_qpairs;
	tgroup->num_connected_qpairs--;
	return rc;
}

int64_t
spdk_nvme_poll_group_process_completions(struct spdk_nvme_poll_group *group,
		uint32_t completions_per_qpair, spdk_nvme_disconnected_qpair_cb disconnected_qpair_cb)
{
	int64_t rc;

	if (disconnected_qpair_cb == NULL) {
		return -EINVAL;
	}
	/* A completion callback polling its own group: nothing to do, as upstream. */
	if (group->in_process_completions) {
		return 0;
	}
	group->in_process_completions = true;
	rc = nvme_tcp_poll_group_process_completions(group->tgroup, completions_per_qpair,
			disconnected_qpair_cb);
	group->in_process_completions = false;
	return rc;
}

int
spdk_nvme_poll_group_destroy(struct spdk_nvme_poll_group *group)
{
	struct spdk_nvme_transport_poll_group *tgroup = group->tgroup;
	int rc;

	if (!STAILQ_EMPTY(&tgroup->connected_qpairs) ||
	    !STAILQ_EMPTY(&tgroup->disconnected_qpairs)) {
		return -EBUSY;
	}
	rc = nvme_tcp_poll_group_destroy(tgroup);
	if (rc != 0) {
		return rc;
	}
	SPDK_WASM_TRACE("spdk_nvme_poll_group_destroy", group, 0, 0, 0);
	free(group);
	return 0;
}
