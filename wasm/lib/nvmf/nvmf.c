/* lib/nvmf/nvmf.c: the target, poll groups, and the generic qpair lifetime (disconnect,
 * drain of qpair->outstanding, _nvmf_qpair_destroy, fini and freeing the controller's bit). */
#include "spdk/stdinc.h"
#include "spdk/log.h"
#include "spdk/nvmf.h"
#include "spdk/thread.h"
#include "spdk_internal/trace_host.h"
#include "nvmf_internal.h"

struct spdk_nvmf_tgt *
spdk_nvmf_tgt_create(struct spdk_nvmf_target_opts *opts)
{
	struct spdk_nvmf_tgt *tgt = calloc(1, sizeof(*tgt));

	if (tgt == NULL) {
		return NULL;
	}
	snprintf(tgt->name, sizeof(tgt->name), "%s", opts && opts->name[0] ? opts->name : "nvmf_tgt");
	tgt->max_subsystems = opts && opts->max_subsystems ? opts->max_subsystems : 1024;
	TAILQ_INIT(&tgt->transports);
	TAILQ_INIT(&tgt->poll_groups);
	TAILQ_INIT(&tgt->subsystems);
	return tgt;
}

void
spdk_nvmf_tgt_destroy(struct spdk_nvmf_tgt *tgt)
{
	/* Teardown of a whole target is not modelled; the world discards the machine. */
	(void)tgt;
}

struct spdk_nvmf_transport *
spdk_nvmf_tgt_get_transport(struct spdk_nvmf_tgt *tgt, const char *transport_name)
{
	struct spdk_nvmf_transport *transport;

	TAILQ_FOREACH(transport, &tgt->transports, link) {
		if (strcasecmp(transport->ops->name, transport_name) == 0) {
			return transport;
		}
	}
	return NULL;
}

int
spdk_nvmf_tgt_add_transport(struct spdk_nvmf_tgt *tgt, struct spdk_nvmf_transport *transport)
{
	struct spdk_nvmf_poll_group *group;
	struct spdk_nvmf_transport_poll_group *tgroup;

	if (spdk_nvmf_tgt_get_transport(tgt, transport->ops->name) != NULL) {
		return -EEXIST;
	}
	transport->tgt = tgt;
	TAILQ_INSERT_TAIL(&tgt->transports, transport, link);
	TAILQ_FOREACH(group, &tgt->poll_groups, link) {
		tgroup = nvmf_transport_poll_group_create(transport, group);
		if (tgroup == NULL) {
			return -ENOMEM;
		}
		TAILQ_INSERT_TAIL(&group->tgroups, tgroup, link);
	}
	return 0;
}

static int
nvmf_poll_group_poll(void *ctx)
{
	struct spdk_nvmf_poll_group *group = ctx;
	struct spdk_nvmf_transport_poll_group *tgroup;
	int count = 0, rc;

	TAILQ_FOREACH(tgroup, &group->tgroups, link) {
		rc = nvmf_transport_poll_group_poll(tgroup);
		if (rc > 0) {
			count += rc;
		}
	}
	return count > 0 ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
}

struct spdk_nvmf_poll_group *
spdk_nvmf_poll_group_create(struct spdk_nvmf_tgt *tgt)
{
	struct spdk_nvmf_poll_group *group = calloc(1, sizeof(*group));
	struct spdk_nvmf_transport *transport;
	struct spdk_nvmf_transport_poll_group *tgroup;

	if (group == NULL) {
		return NULL;
	}
	group->tgt = tgt;
	group->thread = spdk_get_thread();
	TAILQ_INIT(&group->tgroups);
	TAILQ_INIT(&group->qpairs);
	TAILQ_FOREACH(transport, &tgt->transports, link) {
		tgroup = nvmf_transport_poll_group_create(transport, group);
		if (tgroup == NULL) {
			free(group);
			return NULL;
		}
		TAILQ_INSERT_TAIL(&group->tgroups, tgroup, link);
	}
	group->poller = SPDK_POLLER_REGISTER(nvmf_poll_group_poll, group, 0);
	TAILQ_INSERT_TAIL(&tgt->poll_groups, group, link);
	return group;
}

void
spdk_nvmf_poll_group_destroy(struct spdk_nvmf_poll_group *group)
{
	struct spdk_nvmf_transport_poll_group *tgroup, *tmp;

	TAILQ_FOREACH_SAFE(tgroup, &group->tgroups, link, tmp) {
		TAILQ_REMOVE(&group->tgroups, tgroup, link);
		nvmf_transport_poll_group_destroy(tgroup);
	}
	spdk_poller_unregister(&group->poller);
	TAILQ_REMOVE(&group->tgt->poll_groups, group, link);
	free(group);
}

/* A new qpair from a transport's acceptor: round robin over the poll groups. */
int
spdk_nvmf_tgt_new_qpair(struct spdk_nvmf_tgt *tgt, struct spdk_nvmf_qpair *qpair)
{
	struct spdk_nvmf_poll_group *group = tgt->next_poll_group;

	if (group == NULL) {
		group = TAILQ_FIRST(&tgt->poll_groups);
	}
	if (group == NULL) {
		SPDK_ERRLOG("No poll groups exist.\n");
		return -ENODEV;
	}
	tgt->next_poll_group = TAILQ_NEXT(group, link);
	return spdk_nvmf_poll_group_add(group, qpair);
}

void
nvmf_qpair_set_state(struct spdk_nvmf_qpair *qpair, enum spdk_nvmf_qpair_state state)
{
	SPDK_WASM_TRACE("NVMF_QPAIR_STATE", qpair, qpair->state, state, qpair->qid);
	qpair->state = state;
}

int
spdk_nvmf_poll_group_add(struct spdk_nvmf_poll_group *group, struct spdk_nvmf_qpair *qpair)
{
	struct spdk_nvmf_transport_poll_group *tgroup;
	int rc = -1;

	TAILQ_INIT(&qpair->outstanding);
	qpair->group = group;
	qpair->ctrlr = NULL;
	qpair->disconnect_started = false;
	TAILQ_FOREACH(tgroup, &group->tgroups, link) {
		if (tgroup->transport == qpair->transport) {
			rc = nvmf_transport_poll_group_add(tgroup, qpair);
			break;
		}
	}
	if (rc != 0) {
		return rc == -1 ? -ENODEV : rc;
	}
	TAILQ_INSERT_TAIL(&group->qpairs, qpair, link);
	nvmf_qpair_set_state(qpair, SPDK_NVMF_QPAIR_CONNECTING);
	return 0;
}

void
spdk_nvmf_poll_group_remove(struct spdk_nvmf_qpair *qpair)
{
	struct spdk_nvmf_transport_poll_group *tgroup;

	nvmf_qpair_set_state(qpair, SPDK_NVMF_QPAIR_ERROR);
	TAILQ_FOREACH(tgroup, &qpair->group->tgroups, link) {
		if (tgroup->transport == qpair->transport) {
			nvmf_transport_poll_group_remove(tgroup, qpair);
			break;
		}
	}
	TAILQ_REMOVE(&qpair->group->qpairs, qpair, link);
}

struct nvmf_qpair_fini_ctx {
	struct spdk_nvmf_ctrlr	*ctrlr;
	uint16_t		qid;
	struct spdk_nvmf_tgt	*tgt;
};

static void
nvmf_qpair_fini_done(void *cb_arg)
{
	struct nvmf_qpair_fini_ctx *ctx = cb_arg;

	ctx->tgt->qpairs_destroyed++;
	if (ctx->ctrlr != NULL) {
		nvmf_ctrlr_free_from_qpair(ctx->ctrlr, ctx->qid);
	}
	free(ctx);
}

static void
_nvmf_qpair_destroy(void *ctx, int status)
{
	struct spdk_nvmf_qpair *qpair = ctx;
	struct spdk_nvmf_ctrlr *ctrlr = qpair->ctrlr;
	struct nvmf_qpair_fini_ctx *fini;

	(void)status;
	assert(qpair->state == SPDK_NVMF_QPAIR_DEACTIVATING);
	SPDK_WASM_TRACE("_nvmf_qpair_destroy", qpair, qpair->qid, ctrlr, 0);
	if (ctrlr != NULL) {
		if (qpair->qid == 0) {
			qpair->group->stat.current_admin_qpairs--;
		} else {
			qpair->group->stat.current_io_qpairs--;
		}
	}
	fini = calloc(1, sizeof(*fini));
	assert(fini != NULL);
	fini->ctrlr = ctrlr;
	fini->qid = qpair->qid;
	fini->tgt = qpair->group->tgt;
	if (ctrlr != NULL && qpair->qid == 0 && ctrlr->admin_qpair == qpair) {
		ctrlr->admin_qpair = NULL;
	}
	spdk_nvmf_poll_group_remove(qpair);
	nvmf_transport_qpair_fini(qpair, nvmf_qpair_fini_done, fini);
}

void
nvmf_qpair_request_cleanup(struct spdk_nvmf_qpair *qpair)
{
	if (qpair->state == SPDK_NVMF_QPAIR_DEACTIVATING && TAILQ_EMPTY(&qpair->outstanding) &&
	    qpair->state_cb != NULL) {
		spdk_nvmf_state_change_done cb = qpair->state_cb;

		qpair->state_cb = NULL;
		cb(qpair->state_cb_arg, 0);
	}
}

int
spdk_nvmf_qpair_disconnect(struct spdk_nvmf_qpair *qpair)
{
	if (qpair->disconnect_started) {
		return -EINPROGRESS;
	}
	qpair->disconnect_started = true;
	SPDK_WASM_TRACE("spdk_nvmf_qpair_disconnect", qpair, qpair->qid, qpair->state,
			!TAILQ_EMPTY(&qpair->outstanding));

	if (qpair->state == SPDK_NVMF_QPAIR_UNINITIALIZED) {
		nvmf_transport_qpair_fini(qpair, NULL, NULL);
		return 0;
	}
	nvmf_qpair_set_state(qpair, SPDK_NVMF_QPAIR_DEACTIVATING);
	if (!TAILQ_EMPTY(&qpair->outstanding)) {
		qpair->state_cb = _nvmf_qpair_destroy;
		qpair->state_cb_arg = qpair;
		nvmf_qpair_abort_pending_zcopy_reqs(qpair);
		return 0;
	}
	_nvmf_qpair_destroy(qpair, 0);
	return 0;
}
