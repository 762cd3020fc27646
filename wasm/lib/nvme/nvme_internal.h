/* lib/nvme internals (upstream lib/nvme/nvme_internal.h, subset): requests, generic qpairs with
 * their states, the controller and its initialization states, namespaces, and the transport
 * calls. TCP is the only transport, so the generic layer calls nvme_tcp_* directly where
 * upstream dispatches through spdk_nvme_transport_ops. */
#ifndef SPDK_NVME_INTERNAL_H
#define SPDK_NVME_INTERNAL_H

#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/log.h"
#include "spdk/nvme.h"
#include "spdk/queue.h"
#include "spdk/util.h"
#include "spdk_internal/trace_host.h"

#define NVME_ADMIN_ENTRIES		32
#define NVME_IO_ENTRIES			128
#define NVME_MAX_NS			32
/* Largest in-capsule data on the admin queue and for Fabrics commands. */
#define SPDK_NVME_TCP_IN_CAPSULE_DATA_MAX_SIZE	8192
#define NVME_TCP_TIME_OUT_IN_SECONDS	2
#define NVME_TIMEOUT_INFINITE		0

struct nvme_request {
	struct spdk_nvme_cmd		cmd;
	/* Contiguous payload (NULL when none). */
	void				*payload;
	uint32_t			payload_size;
	uint64_t			submit_tick;
	struct spdk_nvme_qpair		*qpair;
	spdk_nvme_cmd_cb		cb_fn;
	void				*cb_arg;
	struct spdk_nvme_cpl		cpl;
	STAILQ_ENTRY(nvme_request)	stailq;
};

/* Filled by a completion callback that someone polls for (nvme_completion_poll_cb). */
struct nvme_completion_poll_status {
	struct spdk_nvme_cpl	cpl;
	bool			done;
};

enum nvme_qpair_state {
	NVME_QPAIR_DISCONNECTED,
	NVME_QPAIR_DISCONNECTING,
	NVME_QPAIR_CONNECTING,
	NVME_QPAIR_CONNECTED,
	NVME_QPAIR_ENABLING,
	NVME_QPAIR_ENABLED,
	NVME_QPAIR_DESTROYING,
};

extern const char *const nvme_qpair_state_names[];

struct spdk_nvme_qpair {
	struct spdk_nvme_ctrlr		*ctrlr;
	uint16_t			id;
	uint16_t			num_entries;
	enum nvme_qpair_state		state;
	enum spdk_nvme_qp_failure_reason transport_failure_reason;
	/* The Fabrics Connect of this qpair (state FABRIC_CONNECT_POLL). */
	struct nvme_completion_poll_status connect_status;
	bool				connect_sent;
	void				*connect_data;

	struct nvme_request		*req_buf;
	STAILQ_HEAD(, nvme_request)	free_req;
	/* Submitted while not ENABLED, or while the transport had no free slot. */
	STAILQ_HEAD(, nvme_request)	queued_req;
	uint32_t			num_outstanding_reqs;
	bool				in_completion_context;

	/* Evidence counters. */
	uint32_t			submitted;
	uint32_t			completed;
	uint32_t			errors;
	uint32_t			aborted;
	uint32_t			connects;

	TAILQ_ENTRY(spdk_nvme_qpair)	tailq;

	/* The transport part of the poll group the qpair is in (NULL: polled directly), and
	 * its place on that group's connected or disconnected list. */
	struct spdk_nvme_transport_poll_group	*poll_group;
	void				*poll_group_tailq_head;
	STAILQ_ENTRY(spdk_nvme_qpair)	poll_group_stailq;
};

/* A poll group's part for one transport (upstream nvme_internal.h). TCP is the only
 * transport, so a poll group holds exactly one, created with the group. */
struct spdk_nvme_transport_poll_group {
	struct spdk_nvme_poll_group			*group;
	STAILQ_HEAD(, spdk_nvme_qpair)			connected_qpairs;
	STAILQ_HEAD(, spdk_nvme_qpair)			disconnected_qpairs;
	uint32_t					num_connected_qpairs;
	bool						in_process_completions;
};

struct spdk_nvme_poll_group {
	void						*ctx;
	struct spdk_nvme_transport_poll_group		*tgroup;
	bool						in_process_completions;
	/* Evidence counter: disconnected_qpair_cb calls. */
	uint32_t					disconnected_cbs;
};

/* Controller initialization (nvme_ctrlr_process_init), by upstream's state names. */
enum nvme_ctrlr_state {
	NVME_CTRLR_STATE_CONNECT_ADMINQ,
	NVME_CTRLR_STATE_WAIT_FOR_CONNECT_ADMINQ,
	NVME_CTRLR_STATE_READ_VS,
	NVME_CTRLR_STATE_READ_VS_WAIT_FOR_VS,
	NVME_CTRLR_STATE_READ_CAP,
	NVME_CTRLR_STATE_READ_CAP_WAIT_FOR_CAP,
	NVME_CTRLR_STATE_CHECK_EN,
	NVME_CTRLR_STATE_CHECK_EN_WAIT_FOR_CC,
	NVME_CTRLR_STATE_SET_EN_0,
	NVME_CTRLR_STATE_SET_EN_0_WAIT_FOR_CC,
	NVME_CTRLR_STATE_DISABLE_WAIT_FOR_READY_0,
	NVME_CTRLR_STATE_DISABLE_WAIT_FOR_READY_0_WAIT_FOR_CSTS,
	NVME_CTRLR_STATE_ENABLE,
	NVME_CTRLR_STATE_ENABLE_WAIT_FOR_CC,
	NVME_CTRLR_STATE_ENABLE_WAIT_FOR_READY_1,
	NVME_CTRLR_STATE_ENABLE_WAIT_FOR_READY_1_WAIT_FOR_CSTS,
	NVME_CTRLR_STATE_IDENTIFY,
	NVME_CTRLR_STATE_WAIT_FOR_IDENTIFY,
	NVME_CTRLR_STATE_SET_KEEP_ALIVE_TIMEOUT,
	NVME_CTRLR_STATE_WAIT_FOR_KEEP_ALIVE_TIMEOUT,
	NVME_CTRLR_STATE_IDENTIFY_ACTIVE_NS,
	NVME_CTRLR_STATE_WAIT_FOR_IDENTIFY_ACTIVE_NS,
	NVME_CTRLR_STATE_IDENTIFY_NS,
	NVME_CTRLR_STATE_WAIT_FOR_IDENTIFY_NS,
	NVME_CTRLR_STATE_READY,
	NVME_CTRLR_STATE_ERROR,
	NVME_CTRLR_STATE_DISCONNECTED,
	NVME_CTRLR_NUM_STATES,
};

extern const char *const nvme_ctrlr_state_names[NVME_CTRLR_NUM_STATES];

struct spdk_nvme_ns {
	struct spdk_nvme_ctrlr		*ctrlr;
	uint32_t			id;
	bool				active;
	uint32_t			sector_size;
	uint64_t			num_sectors;
	struct spdk_nvme_ns_data	nsdata;
};

struct spdk_nvme_ctrlr {
	struct spdk_nvme_transport_id	trid;
	struct spdk_nvme_ctrlr_opts	opts;
	enum nvme_ctrlr_state		state;
	/* Tick by which the current init state must have moved on (0: no bound). */
	uint64_t			state_timeout_tsc;

	struct spdk_nvme_qpair		*adminq;
	TAILQ_HEAD(, spdk_nvme_qpair)	active_io_qpairs;
	uint64_t			free_io_qids;	/* bit n: qid n free (1..63) */

	union spdk_nvme_cap_register	cap;
	union spdk_nvme_vs_register	vs;
	union spdk_nvme_cc_register	cc;
	union spdk_nvme_csts_register	csts;
	struct spdk_nvme_ctrlr_data	cdata;
	uint16_t			cntlid;
	/* Bytes of in-capsule data the I/O queues accept (from IOCCSZ). */
	uint32_t			ioccsz_bytes;
	uint32_t			max_xfer_size;

	struct spdk_nvme_ns		ns[NVME_MAX_NS];
	uint32_t			active_ns_list[NVME_MAX_NS];
	uint32_t			num_active_ns;
	uint32_t			identify_ns_idx;
	/* Bounce buffer for Identify data (4096 B). */
	void				*identify_buf;

	bool				is_failed;
	bool				is_resetting;
	bool				is_destructed;

	/* Keep alive: one Keep Alive command every KATO/2 (nvme_ctrlr_keep_alive). */
	uint32_t			kato_ms;
	uint64_t			keep_alive_interval_ticks;
	uint64_t			next_keep_alive_tick;

	/* Evidence counters. */
	uint32_t			keep_alives_sent;
	uint32_t			keep_alives_failed;
	uint32_t			resets;
	uint32_t			init_errors;
};

/* ---- nvme.c / nvme_qpair.c: requests and generic qpairs ---- */
int nvme_qpair_init(struct spdk_nvme_qpair *qpair, uint16_t id, struct spdk_nvme_ctrlr *ctrlr,
		    uint16_t num_entries, uint32_t num_requests);
void nvme_qpair_deinit(struct spdk_nvme_qpair *qpair);
void nvme_qpair_set_state(struct spdk_nvme_qpair *qpair, enum nvme_qpair_state state);
struct nvme_request *nvme_allocate_request_contig(struct spdk_nvme_qpair *qpair, void *buffer,
		uint32_t payload_size, spdk_nvme_cmd_cb cb_fn, void *cb_arg);
void nvme_free_request(struct nvme_request *req);
int nvme_qpair_submit_request(struct spdk_nvme_qpair *qpair, struct nvme_request *req);
void nvme_complete_request(struct nvme_request *req, struct spdk_nvme_cpl *cpl);
void nvme_qpair_abort_queued_reqs(struct spdk_nvme_qpair *qpair);
void nvme_completion_poll_cb(void *arg, const struct spdk_nvme_cpl *cpl);
void nvme_ctrlr_disconnect_qpair(struct spdk_nvme_qpair *qpair);
int nvme_transport_ctrlr_connect_qpair(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_qpair *qpair);

static inline bool
nvme_qpair_is_admin_queue(struct spdk_nvme_qpair *qpair)
{
	return qpair->id == 0;
}

/* ---- nvme_poll_group.c / the poll-group part of upstream's nvme_transport.c ---- */
/* Moves the qpair to its group's connected list and lets the transport add its socket. */
int nvme_poll_group_connect_qpair(struct spdk_nvme_qpair *qpair);
/* Moves it to the disconnected list and lets the transport take its socket out. */
int nvme_poll_group_disconnect_qpair(struct spdk_nvme_qpair *qpair);

/* ---- nvme_fabric.c ---- */
int nvme_fabric_qpair_connect_async(struct spdk_nvme_qpair *qpair, uint32_t num_entries);
int nvme_fabric_qpair_connect_poll(struct spdk_nvme_qpair *qpair);
int nvme_fabric_ctrlr_get_reg_4_async(struct spdk_nvme_ctrlr *ctrlr, uint32_t offset,
				      spdk_nvme_cmd_cb cb_fn, void *cb_arg);
int nvme_fabric_ctrlr_get_reg_8_async(struct spdk_nvme_ctrlr *ctrlr, uint32_t offset,
				      spdk_nvme_cmd_cb cb_fn, void *cb_arg);
int nvme_fabric_ctrlr_set_reg_4_async(struct spdk_nvme_ctrlr *ctrlr, uint32_t offset,
				      uint32_t value, spdk_nvme_cmd_cb cb_fn, void *cb_arg);

/* ---- nvme_tcp.c: the transport ---- */
struct spdk_nvme_qpair *nvme_tcp_ctrlr_create_qpair(struct spdk_nvme_ctrlr *ctrlr, uint16_t qid,
		uint32_t qsize, uint32_t num_requests);
int nvme_tcp_ctrlr_connect_qpair(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_qpair *qpair);
void nvme_tcp_ctrlr_disconnect_qpair(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_qpair *qpair);
int nvme_tcp_ctrlr_delete_io_qpair(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_qpair *qpair);
int nvme_tcp_qpair_submit_request(struct spdk_nvme_qpair *qpair, struct nvme_request *req);
int32_t nvme_tcp_qpair_process_completions(struct spdk_nvme_qpair *qpair,
		uint32_t max_completions);
struct spdk_nvme_transport_poll_group *nvme_tcp_poll_group_create(void);
int nvme_tcp_poll_group_connect_qpair(struct spdk_nvme_qpair *qpair);
int nvme_tcp_poll_group_disconnect_qpair(struct spdk_nvme_qpair *qpair);
int nvme_tcp_poll_group_add(struct spdk_nvme_transport_poll_group *tgroup,
			    struct spdk_nvme_qpair *qpair);
int nvme_tcp_poll_group_remove(struct spdk_nvme_transport_poll_group *tgroup,
			       struct spdk_nvme_qpair *qpair);
int64_t nvme_tcp_poll_group_process_completions(struct spdk_nvme_transport_poll_group *tgroup,
		uint32_t completions_per_qpair, spdk_nvme_disconnected_qpair_cb disconnected_qpair_cb);
int nvme_tcp_poll_group_destroy(struct spdk_nvme_transport_poll_group *tgroup);
/* Evidence for the exported interface: fields of the TCP qpair (see spdk_wasm_nvme.c), and its
 * socket (NULL when closed), whose receive pipe the interface reports. */
int nvme_tcp_qpair_get_field(struct spdk_nvme_qpair *qpair, int field);
struct spdk_sock *nvme_tcp_qpair_get_sock(struct spdk_nvme_qpair *qpair);

#endif /* SPDK_NVME_INTERNAL_H */
