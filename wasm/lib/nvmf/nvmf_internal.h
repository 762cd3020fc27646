/* Structures shared inside lib/nvmf (upstream lib/nvmf/nvmf_internal.h, subset). One SPDK
 * thread runs the target here: poll groups, controllers and subsystems all live on the thread
 * that created the target, so upstream's cross-thread messages become direct calls. */
#ifndef SPDK_NVMF_INTERNAL_H
#define SPDK_NVMF_INTERNAL_H

#include "spdk/stdinc.h"
#include "spdk/bdev.h"
#include "spdk/nvme_spec.h"
#include "spdk/nvmf_spec.h"
#include "spdk/nvmf_transport.h"
#include "spdk/queue.h"
#include "spdk/thread.h"

#define NVMF_DEFAULT_MIN_KATO		10000	/* ms */
#define NVMF_DEFAULT_KAS		100	/* 100 ms units: 10 s granularity */
#define NVMF_DISC_KATO_IN_MS		120000
#define SPDK_NVMF_MAX_NAMESPACES	32
#define NVMF_CTRLR_MAX_QPAIRS		64
#define SPDK_NVMF_DEFAULT_CTRLR_SN	"SPDK00000000000001"

enum spdk_nvmf_subtype {
	SPDK_NVMF_SUBTYPE_DISCOVERY = 1,
	SPDK_NVMF_SUBTYPE_NVME = 2,
};

enum spdk_nvmf_request_exec_status {
	SPDK_NVMF_REQUEST_EXEC_STATUS_COMPLETE,
	SPDK_NVMF_REQUEST_EXEC_STATUS_ASYNCHRONOUS,
};

struct spdk_nvmf_host {
	char				nqn[SPDK_NVMF_NQN_MAX_LEN + 1];
	TAILQ_ENTRY(spdk_nvmf_host)	link;
};

struct spdk_nvmf_subsystem_listener {
	struct spdk_nvme_transport_id			trid;
	struct spdk_nvmf_transport			*transport;
	TAILQ_ENTRY(spdk_nvmf_subsystem_listener)	link;
};

struct spdk_nvmf_ns {
	uint32_t			nsid;
	struct spdk_nvmf_subsystem	*subsystem;
	struct spdk_bdev		*bdev;
	struct spdk_bdev_desc		*desc;
	struct spdk_io_channel		*ch;
	bool				zcopy;	/* bdev supports ZCOPY */
};

struct spdk_nvmf_subsystem {
	struct spdk_nvmf_tgt				*tgt;
	uint32_t					id;
	enum spdk_nvmf_subtype				subtype;
	char						subnqn[SPDK_NVMF_NQN_MAX_LEN + 1];
	char						sn[21];
	char						mn[41];
	bool						allow_any_host;
	uint16_t					next_cntlid;
	uint32_t					max_nsid;
	struct spdk_nvmf_ns				*ns[SPDK_NVMF_MAX_NAMESPACES];
	TAILQ_HEAD(, spdk_nvmf_host)			hosts;
	TAILQ_HEAD(, spdk_nvmf_subsystem_listener)	listeners;
	TAILQ_HEAD(, spdk_nvmf_ctrlr)			ctrlrs;
	TAILQ_ENTRY(spdk_nvmf_subsystem)		link;
};

struct spdk_nvmf_ctrlr_feat {
	uint32_t keep_alive_timer;	/* kato, ms */
	uint32_t number_of_queues;
};

struct spdk_nvmf_ctrlr {
	uint16_t			cntlid;
	char				hostnqn[SPDK_NVMF_NQN_MAX_LEN + 1];
	uint8_t				hostid[16];
	struct spdk_nvmf_subsystem	*subsys;
	struct spdk_nvmf_qpair		*admin_qpair;
	struct spdk_thread		*thread;
	struct {
		union spdk_nvme_cap_register	cap;
		union spdk_nvme_vs_register	vs;
		union spdk_nvme_cc_register	cc;
		union spdk_nvme_csts_register	csts;
	} vcprop;
	struct spdk_nvmf_ctrlr_feat	feat;
	/* Bit qid is set while qpair qid is connected. */
	uint64_t			qpair_mask;
	uint16_t			num_qpairs;
	bool				sq_flow_control_disabled;
	bool				in_destruct;
	bool				disconnect_in_progress;
	uint64_t			last_keep_alive_tick;
	struct spdk_poller		*keep_alive_poller;
	TAILQ_ENTRY(spdk_nvmf_ctrlr)	link;
};

struct spdk_nvmf_poll_group {
	struct spdk_nvmf_tgt					*tgt;
	struct spdk_thread					*thread;
	struct spdk_poller					*poller;
	TAILQ_HEAD(, spdk_nvmf_transport_poll_group)		tgroups;
	TAILQ_HEAD(, spdk_nvmf_qpair)				qpairs;
	TAILQ_ENTRY(spdk_nvmf_poll_group)			link;
	struct {
		uint64_t admin_qpairs;
		uint64_t io_qpairs;
		uint64_t current_admin_qpairs;
		uint64_t current_io_qpairs;
	} stat;
};

struct spdk_nvmf_tgt {
	char					name[64];
	uint32_t				max_subsystems;
	struct spdk_nvmf_poll_group		*next_poll_group;
	TAILQ_HEAD(, spdk_nvmf_transport)	transports;
	TAILQ_HEAD(, spdk_nvmf_poll_group)	poll_groups;
	TAILQ_HEAD(, spdk_nvmf_subsystem)	subsystems;
	/* Controllers destroyed so far (evidence). */
	uint32_t				ctrlrs_destroyed;
	uint32_t				qpairs_destroyed;
};

/* transport.c */
const struct spdk_nvmf_transport_ops *nvmf_get_transport_ops(const char *name);
struct spdk_nvmf_transport_poll_group *nvmf_transport_poll_group_create(
	struct spdk_nvmf_transport *transport, struct spdk_nvmf_poll_group *group);
void nvmf_transport_poll_group_destroy(struct spdk_nvmf_transport_poll_group *group);
int nvmf_transport_poll_group_add(struct spdk_nvmf_transport_poll_group *group,
				  struct spdk_nvmf_qpair *qpair);
int nvmf_transport_poll_group_remove(struct spdk_nvmf_transport_poll_group *group,
				     struct spdk_nvmf_qpair *qpair);
int nvmf_transport_poll_group_poll(struct spdk_nvmf_transport_poll_group *group);
int nvmf_transport_req_free(struct spdk_nvmf_request *req);
int nvmf_transport_req_complete(struct spdk_nvmf_request *req);
void nvmf_transport_qpair_fini(struct spdk_nvmf_qpair *qpair,
			       spdk_nvmf_transport_qpair_fini_cb cb_fn, void *cb_arg);

/* nvmf.c */
void nvmf_qpair_set_state(struct spdk_nvmf_qpair *qpair, enum spdk_nvmf_qpair_state state);
void nvmf_qpair_request_cleanup(struct spdk_nvmf_qpair *qpair);
struct spdk_nvmf_poll_group *spdk_nvmf_poll_group_create(struct spdk_nvmf_tgt *tgt);
void spdk_nvmf_poll_group_destroy(struct spdk_nvmf_poll_group *group);
int spdk_nvmf_poll_group_add(struct spdk_nvmf_poll_group *group, struct spdk_nvmf_qpair *qpair);
void spdk_nvmf_poll_group_remove(struct spdk_nvmf_qpair *qpair);

/* ctrlr.c */
int nvmf_ctrlr_process_fabrics_cmd(struct spdk_nvmf_request *req);
int nvmf_ctrlr_process_admin_cmd(struct spdk_nvmf_request *req);
int nvmf_ctrlr_process_io_cmd(struct spdk_nvmf_request *req);
void nvmf_qpair_abort_pending_zcopy_reqs(struct spdk_nvmf_qpair *qpair);
void nvmf_ctrlr_free_from_qpair(struct spdk_nvmf_ctrlr *ctrlr, uint16_t qid);
void nvmf_ctrlr_destruct(struct spdk_nvmf_ctrlr *ctrlr);

/* ctrlr_bdev.c */
int nvmf_bdev_ctrlr_read_cmd(struct spdk_nvmf_ns *ns, struct spdk_nvmf_request *req);
int nvmf_bdev_ctrlr_write_cmd(struct spdk_nvmf_ns *ns, struct spdk_nvmf_request *req);
int nvmf_bdev_ctrlr_flush_cmd(struct spdk_nvmf_ns *ns, struct spdk_nvmf_request *req);
int nvmf_bdev_ctrlr_zcopy_start(struct spdk_nvmf_ns *ns, struct spdk_nvmf_request *req);
void nvmf_bdev_ctrlr_zcopy_end(struct spdk_nvmf_request *req, bool commit);
void nvmf_bdev_ctrlr_identify_ns(struct spdk_nvmf_ns *ns, struct spdk_nvme_ns_data *nsdata);

/* subsystem.c */
struct spdk_nvmf_subsystem *spdk_nvmf_tgt_find_subsystem(struct spdk_nvmf_tgt *tgt,
		const char *subnqn);
bool spdk_nvmf_subsystem_host_allowed(struct spdk_nvmf_subsystem *subsystem, const char *hostnqn);
struct spdk_nvmf_ns *spdk_nvmf_subsystem_get_ns(struct spdk_nvmf_subsystem *subsystem,
		uint32_t nsid);
struct spdk_nvmf_ctrlr *nvmf_subsystem_get_ctrlr(struct spdk_nvmf_subsystem *subsystem,
		uint16_t cntlid);
int nvmf_subsystem_add_ctrlr(struct spdk_nvmf_subsystem *subsystem, struct spdk_nvmf_ctrlr *ctrlr);
void nvmf_subsystem_remove_ctrlr(struct spdk_nvmf_subsystem *subsystem,
				 struct spdk_nvmf_ctrlr *ctrlr);

static inline void
nvmf_req_set_status(struct spdk_nvmf_request *req, int sct, int sc)
{
	req->rsp->nvme_cpl.status.sct = sct;
	req->rsp->nvme_cpl.status.sc = sc;
}

#endif /* SPDK_NVMF_INTERNAL_H */
