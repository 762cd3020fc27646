/* lib/nvmf/subsystem.c: subsystems by NQN, their namespaces (bdevs), allowed hosts,
 * listeners, and the controllers connected to them (cntlid allocation). */
#include "spdk/stdinc.h"
#include "spdk/bdev.h"
#include "spdk/log.h"
#include "spdk/nvmf.h"
#include "spdk_internal/trace_host.h"
#include "nvmf_internal.h"

static bool
nvmf_nqn_is_valid(const char *nqn)
{
	size_t len;

	if (nqn == NULL) {
		return false;
	}
	len = strlen(nqn);
	if (len < SPDK_NVMF_NQN_MIN_LEN || len > SPDK_NVMF_NQN_MAX_LEN) {
		SPDK_ERRLOG("Invalid NQN \"%s\": length %zu not in [%d, %d]\n", nqn, len,
			    SPDK_NVMF_NQN_MIN_LEN, SPDK_NVMF_NQN_MAX_LEN);
		return false;
	}
	if (strncmp(nqn, "nqn.", 4) != 0) {
		SPDK_ERRLOG("Invalid NQN \"%s\": does not start with \"nqn.\"\n", nqn);
		return false;
	}
	return true;
}

struct spdk_nvmf_subsystem *
spdk_nvmf_subsystem_create(struct spdk_nvmf_tgt *tgt, const char *nqn, int type, uint32_t num_ns)
{
	struct spdk_nvmf_subsystem *subsystem;
	static uint32_t next_id;

	if (!nvmf_nqn_is_valid(nqn)) {
		return NULL;
	}
	if (spdk_nvmf_tgt_find_subsystem(tgt, nqn) != NULL) {
		SPDK_ERRLOG("Subsystem NQN '%s' already exists\n", nqn);
		return NULL;
	}
	if (num_ns > SPDK_NVMF_MAX_NAMESPACES) {
		return NULL;
	}
	subsystem = calloc(1, sizeof(*subsystem));
	if (subsystem == NULL) {
		return NULL;
	}
	subsystem->tgt = tgt;
	subsystem->id = next_id++;
	subsystem->subtype = type == SPDK_NVMF_SUBTYPE_DISCOVERY ? SPDK_NVMF_SUBTYPE_DISCOVERY :
			     SPDK_NVMF_SUBTYPE_NVME;
	snprintf(subsystem->subnqn, sizeof(subsystem->subnqn), "%s", nqn);
	snprintf(subsystem->sn, sizeof(subsystem->sn), "%s", SPDK_NVMF_DEFAULT_CTRLR_SN);
	snprintf(subsystem->mn, sizeof(subsystem->mn), "%s", "SPDK bdev Controller");
	subsystem->next_cntlid = 1;
	subsystem->max_nsid = num_ns ? num_ns : SPDK_NVMF_MAX_NAMESPACES;
	TAILQ_INIT(&subsystem->hosts);
	TAILQ_INIT(&subsystem->listeners);
	TAILQ_INIT(&subsystem->ctrlrs);
	TAILQ_INSERT_TAIL(&tgt->subsystems, subsystem, link);
	return subsystem;
}

int
spdk_nvmf_subsystem_destroy(struct spdk_nvmf_subsystem *subsystem)
{
	struct spdk_nvmf_host *host;
	struct spdk_nvmf_subsystem_listener *listener;
	struct spdk_nvmf_ns *ns;
	uint32_t i;

	/* Upstream disconnects controllers first and completes later; here a subsystem with
	 * connected controllers is refused, and the transport keeps listening on its ports. */
	if (!TAILQ_EMPTY(&subsystem->ctrlrs)) {
		return -EBUSY;
	}
	for (i = 0; i < SPDK_NVMF_MAX_NAMESPACES; i++) {
		ns = subsystem->ns[i];
		if (ns == NULL) {
			continue;
		}
		spdk_put_io_channel(ns->ch);
		spdk_bdev_close(ns->desc);
		free(ns);
		subsystem->ns[i] = NULL;
	}
	while ((host = TAILQ_FIRST(&subsystem->hosts)) != NULL) {
		TAILQ_REMOVE(&subsystem->hosts, host, link);
		free(host);
	}
	while ((listener = TAILQ_FIRST(&subsystem->listeners)) != NULL) {
		TAILQ_REMOVE(&subsystem->listeners, listener, link);
		free(listener);
	}
	TAILQ_REMOVE(&subsystem->tgt->subsystems, subsystem, link);
	free(subsystem);
	return 0;
}

struct spdk_nvmf_subsystem *
spdk_nvmf_tgt_find_subsystem(struct spdk_nvmf_tgt *tgt, const char *subnqn)
{
	struct spdk_nvmf_subsystem *subsystem;

	TAILQ_FOREACH(subsystem, &tgt->subsystems, link) {
		if (strcmp(subsystem->subnqn, subnqn) == 0) {
			return subsystem;
		}
	}
	return NULL;
}

struct spdk_nvmf_subsystem *
spdk_nvmf_subsystem_get_first(struct spdk_nvmf_tgt *tgt)
{
	return TAILQ_FIRST(&tgt->subsystems);
}

struct spdk_nvmf_subsystem *
spdk_nvmf_subsystem_get_next(struct spdk_nvmf_subsystem *subsystem)
{
	return TAILQ_NEXT(subsystem, link);
}

const char *
spdk_nvmf_subsystem_get_nqn(const struct spdk_nvmf_subsystem *subsystem)
{
	return subsystem->subnqn;
}

int
spdk_nvmf_subsystem_set_allow_any_host(struct spdk_nvmf_subsystem *subsystem, bool allow_any_host)
{
	subsystem->allow_any_host = allow_any_host;
	return 0;
}

int
spdk_nvmf_subsystem_add_host(struct spdk_nvmf_subsystem *subsystem, const char *hostnqn)
{
	struct spdk_nvmf_host *host;

	if (!nvmf_nqn_is_valid(hostnqn)) {
		return -EINVAL;
	}
	if (spdk_nvmf_subsystem_host_allowed(subsystem, hostnqn) && !subsystem->allow_any_host) {
		return 0;
	}
	host = calloc(1, sizeof(*host));
	if (host == NULL) {
		return -ENOMEM;
	}
	snprintf(host->nqn, sizeof(host->nqn), "%s", hostnqn);
	TAILQ_INSERT_TAIL(&subsystem->hosts, host, link);
	return 0;
}

bool
spdk_nvmf_subsystem_host_allowed(struct spdk_nvmf_subsystem *subsystem, const char *hostnqn)
{
	struct spdk_nvmf_host *host;

	if (subsystem->allow_any_host) {
		return true;
	}
	TAILQ_FOREACH(host, &subsystem->hosts, link) {
		if (strcmp(host->nqn, hostnqn) == 0) {
			return true;
		}
	}
	return false;
}

static void
nvmf_ns_event_cb(enum spdk_bdev_event_type type, struct spdk_bdev *bdev, void *ctx)
{
	SPDK_NOTICELOG("Unsupported bdev event %d on namespace bdev %s\n", type,
		       spdk_bdev_get_name(bdev));
}

uint32_t
spdk_nvmf_subsystem_add_ns_ext(struct spdk_nvmf_subsystem *subsystem, const char *bdev_name,
			       uint32_t nsid)
{
	struct spdk_nvmf_ns *ns;
	int rc;

	if (nsid == 0) {
		for (nsid = 1; nsid <= subsystem->max_nsid; nsid++) {
			if (subsystem->ns[nsid - 1] == NULL) {
				break;
			}
		}
	}
	if (nsid == 0 || nsid > subsystem->max_nsid || subsystem->ns[nsid - 1] != NULL) {
		SPDK_ERRLOG("Requested NSID %u is invalid or already in use\n", nsid);
		return 0;
	}
	ns = calloc(1, sizeof(*ns));
	if (ns == NULL) {
		return 0;
	}
	rc = spdk_bdev_open_ext(bdev_name, true, nvmf_ns_event_cb, ns, &ns->desc);
	if (rc != 0) {
		SPDK_ERRLOG("Subsystem %s: bdev %s cannot be opened, error=%d\n",
			    subsystem->subnqn, bdev_name, rc);
		free(ns);
		return 0;
	}
	ns->bdev = spdk_bdev_desc_get_bdev(ns->desc);
	ns->ch = spdk_bdev_get_io_channel(ns->desc);
	ns->zcopy = spdk_bdev_io_type_supported(ns->bdev, SPDK_BDEV_IO_TYPE_ZCOPY);
	ns->nsid = nsid;
	ns->subsystem = subsystem;
	subsystem->ns[nsid - 1] = ns;
	SPDK_WASM_TRACE("spdk_nvmf_subsystem_add_ns", subsystem, nsid, ns->bdev, ns->zcopy);
	return nsid;
}

struct spdk_nvmf_ns *
spdk_nvmf_subsystem_get_ns(struct spdk_nvmf_subsystem *subsystem, uint32_t nsid)
{
	if (nsid == 0 || nsid > subsystem->max_nsid) {
		return NULL;
	}
	return subsystem->ns[nsid - 1];
}

int
spdk_nvmf_subsystem_add_listener(struct spdk_nvmf_subsystem *subsystem,
				 struct spdk_nvme_transport_id *trid)
{
	struct spdk_nvmf_transport *transport;
	struct spdk_nvmf_subsystem_listener *listener;
	int rc;

	transport = TAILQ_FIRST(&subsystem->tgt->transports);
	if (transport == NULL) {
		SPDK_ERRLOG("Unable to find listener: no transport\n");
		return -EINVAL;
	}
	/* Upstream requires nvmf_tgt_listen first; here adding a listener also listens. */
	rc = spdk_nvmf_transport_listen(transport, trid, NULL);
	if (rc != 0 && rc != -EEXIST) {
		return rc;
	}
	listener = calloc(1, sizeof(*listener));
	if (listener == NULL) {
		return -ENOMEM;
	}
	listener->trid = *trid;
	listener->transport = transport;
	TAILQ_INSERT_TAIL(&subsystem->listeners, listener, link);
	return 0;
}

struct spdk_nvmf_ctrlr *
nvmf_subsystem_get_ctrlr(struct spdk_nvmf_subsystem *subsystem, uint16_t cntlid)
{
	struct spdk_nvmf_ctrlr *ctrlr;

	TAILQ_FOREACH(ctrlr, &subsystem->ctrlrs, link) {
		if (ctrlr->cntlid == cntlid) {
			return ctrlr;
		}
	}
	return NULL;
}

int
nvmf_subsystem_add_ctrlr(struct spdk_nvmf_subsystem *subsystem, struct spdk_nvmf_ctrlr *ctrlr)
{
	uint16_t tries;

	/* Dynamic controller model: the next free cntlid in 1..0xFFEF. */
	for (tries = 0; tries < 0xffef; tries++) {
		uint16_t cntlid = subsystem->next_cntlid;

		subsystem->next_cntlid = cntlid >= 0xffef ? 1 : cntlid + 1;
		if (nvmf_subsystem_get_ctrlr(subsystem, cntlid) == NULL) {
			ctrlr->cntlid = cntlid;
			TAILQ_INSERT_TAIL(&subsystem->ctrlrs, ctrlr, link);
			return 0;
		}
	}
	return -EBUSY;
}

void
nvmf_subsystem_remove_ctrlr(struct spdk_nvmf_subsystem *subsystem, struct spdk_nvmf_ctrlr *ctrlr)
{
	TAILQ_REMOVE(&subsystem->ctrlrs, ctrlr, link);
}
