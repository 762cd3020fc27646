/* The RDMA transport's structures (upstream keeps them at the top of lib/nvmf/rdma.c); in a
 * header so the exported inspection interface (api/spdk_wasm_nvmf_rdma.c) can read the device,
 * poller and qpair tables. Names and fields follow upstream; the model's additions are marked. */
#ifndef SPDK_NVMF_RDMA_INTERNAL_H
#define SPDK_NVMF_RDMA_INTERNAL_H

#include "spdk/stdinc.h"
#include "spdk/nvmf_transport.h"
#include "spdk/queue.h"
#include "spdk/thread.h"
#include "infiniband/verbs.h"
#include "rdma/rdma_cma.h"
#include "spdk_internal/rdma_utils.h"

#define NVMF_DEFAULT_TX_SGE		SPDK_NVMF_MAX_SGL_ENTRIES
#define NVMF_DEFAULT_RSP_SGE		1
#define NVMF_DEFAULT_RX_SGE		2
#define NVMF_RDMA_MAX_EVENTS_PER_POLL	32
#define NVMF_RDMA_CQ_BATCH		32
#define DEFAULT_NVMF_RDMA_CQ_SIZE	4096
#define MAX_WR_PER_QP(queue_depth)	((queue_depth) * 3 + 2)

/* v25.01's request states (NEED_DATA_WR and HAVE_BUFFER came later, spec 5.2). */
enum spdk_nvmf_rdma_request_state {
	RDMA_REQUEST_STATE_FREE = 0,
	RDMA_REQUEST_STATE_NEW,
	RDMA_REQUEST_STATE_NEED_BUFFER,
	RDMA_REQUEST_STATE_DATA_TRANSFER_TO_CONTROLLER_PENDING,
	RDMA_REQUEST_STATE_TRANSFERRING_HOST_TO_CONTROLLER,
	RDMA_REQUEST_STATE_READY_TO_EXECUTE,
	RDMA_REQUEST_STATE_EXECUTING,
	RDMA_REQUEST_STATE_EXECUTED,
	RDMA_REQUEST_STATE_DATA_TRANSFER_TO_HOST_PENDING,
	RDMA_REQUEST_STATE_READY_TO_COMPLETE_PENDING,
	RDMA_REQUEST_STATE_READY_TO_COMPLETE,
	RDMA_REQUEST_STATE_TRANSFERRING_CONTROLLER_TO_HOST,
	RDMA_REQUEST_STATE_COMPLETING,
	RDMA_REQUEST_STATE_COMPLETED,
	RDMA_REQUEST_NUM_STATES,
};

enum spdk_nvmf_rdma_wr_type {
	RDMA_WR_TYPE_RECV,
	RDMA_WR_TYPE_SEND,
	RDMA_WR_TYPE_DATA,
};

/* What a work request's wr_id points at: the type says which structure holds it. */
struct spdk_nvmf_rdma_wr {
	enum spdk_nvmf_rdma_wr_type	type;
};

struct spdk_nvmf_rdma_recv {
	struct ibv_recv_wr			wr;
	struct ibv_sge				sgl[NVMF_DEFAULT_RX_SGE];
	struct spdk_nvmf_rdma_qpair		*qpair;
	uint8_t					*buf;	/* in-capsule data */
	uint32_t				byte_len;
	struct spdk_nvmf_rdma_wr		rdma_wr;
	STAILQ_ENTRY(spdk_nvmf_rdma_recv)	link;
};

struct spdk_nvmf_rdma_request {
	struct spdk_nvmf_request		req;
	enum spdk_nvmf_rdma_request_state	state;
	struct spdk_nvmf_rdma_recv		*recv;
	struct {
		struct spdk_nvmf_rdma_wr	rdma_wr;
		struct ibv_send_wr		wr;
		struct ibv_sge			sgl[NVMF_DEFAULT_RSP_SGE];
	} rsp;
	struct {
		struct spdk_nvmf_rdma_wr	rdma_wr;
		struct ibv_send_wr		wr;
		struct ibv_sge			sgl[NVMF_DEFAULT_TX_SGE];
	} data;
	uint32_t				num_outstanding_data_wr;
	STAILQ_ENTRY(spdk_nvmf_rdma_request)	state_link;
};

struct spdk_nvmf_rdma_resource_opts {
	struct spdk_nvmf_rdma_qpair	*qpair;
	struct ibv_srq			*srq;
	struct spdk_rdma_utils_mem_map	*map;
	uint32_t			max_queue_depth;
	uint32_t			in_capsule_data_size;
	bool				shared;
};

struct spdk_nvmf_rdma_resources {
	union nvmf_h2c_msg			*cmds;
	union nvmf_c2h_msg			*cpls;
	void					*bufs;
	struct spdk_nvmf_rdma_recv		*recvs;
	struct spdk_nvmf_rdma_request		*reqs;
	uint32_t				count;
	STAILQ_HEAD(, spdk_nvmf_rdma_recv)	incoming_queue;
	STAILQ_HEAD(, spdk_nvmf_rdma_request)	free_queue;
};

struct spdk_nvmf_rdma_device;
struct spdk_nvmf_rdma_poll_group;

struct spdk_nvmf_rdma_qpair {
	struct spdk_nvmf_qpair			qpair;
	struct spdk_nvmf_rdma_device		*device;
	struct spdk_nvmf_rdma_poller		*poller;	/* NULL until poll_group_add */
	struct ibv_qp				*rdma_qp;
	struct rdma_cm_id			*cm_id;
	struct ibv_srq				*srq;
	struct rdma_cm_id			*listen_id;
	uint16_t				max_queue_depth;
	uint16_t				max_read_depth;
	uint32_t				max_send_depth;
	uint32_t				current_send_depth;
	uint32_t				current_read_depth;
	uint32_t				current_recv_depth;
	uint32_t				max_send_sge;
	uint32_t				max_recv_sge;
	uint32_t				qd;
	struct spdk_nvmf_rdma_resources		*resources;
	STAILQ_HEAD(, spdk_nvmf_rdma_request)	pending_rdma_read_queue;
	STAILQ_HEAD(, spdk_nvmf_rdma_request)	pending_rdma_write_queue;
	STAILQ_HEAD(, spdk_nvmf_rdma_request)	pending_rdma_send_queue;
	bool					ibv_in_error_state;
	bool					to_close;
	bool					last_wqe_reached;
	/* The poller's qpairs (upstream: an RB tree keyed by qp_num; a list here). */
	TAILQ_ENTRY(spdk_nvmf_rdma_qpair)	link;
	/* model: every qpair the transport made, for the inspection tables */
	uint32_t				serial;
	TAILQ_ENTRY(spdk_nvmf_rdma_qpair)	all_link;
};

struct spdk_nvmf_rdma_poller {
	struct spdk_nvmf_rdma_device		*device;
	struct spdk_nvmf_rdma_poll_group	*group;
	int					num_cqe;
	int					required_num_wr;
	struct ibv_cq				*cq;
	struct ibv_srq				*srq;
	struct spdk_nvmf_rdma_resources		*resources;
	uint16_t				max_srq_depth;
	bool					need_destroy;
	spdk_msg_fn				destroy_cb;
	void					*destroy_cb_ctx;
	TAILQ_HEAD(, spdk_nvmf_rdma_qpair)	qpairs;
	struct {
		uint64_t			polls;
		uint64_t			completions;
		uint64_t			requests;
	} stat;
	uint32_t				serial;	/* model: for the tables */
	TAILQ_ENTRY(spdk_nvmf_rdma_poller)	link;
};

struct spdk_nvmf_rdma_poll_group {
	struct spdk_nvmf_transport_poll_group		group;
	TAILQ_HEAD(, spdk_nvmf_rdma_poller)		pollers;
	uint32_t					serial;	/* model */
	TAILQ_ENTRY(spdk_nvmf_rdma_poll_group)		link;
};

struct spdk_nvmf_rdma_device {
	struct ibv_device_attr			attr;
	struct ibv_context			*context;
	struct spdk_rdma_utils_mem_map		*map;
	struct ibv_pd				*pd;
	int					num_srq;
	bool					need_destroy;
	bool					ready_to_destroy;
	bool					is_ready;
	uint32_t				serial;	/* model */
	TAILQ_ENTRY(spdk_nvmf_rdma_device)	link;
};

struct spdk_nvmf_rdma_port {
	struct spdk_nvme_transport_id		trid;
	struct rdma_cm_id			*id;
	struct spdk_nvmf_rdma_device		*device;
	TAILQ_ENTRY(spdk_nvmf_rdma_port)	link;
};

/* model: what the replays observe; counted where the thing happens, never set by a verdict */
struct nvmf_rdma_evidence {
	uint32_t	pollers_created;
	uint32_t	pollers_freed;
	uint32_t	devices_created;
	uint32_t	devices_destroyed;
	uint32_t	qpairs_created;
	uint32_t	qpairs_freed;
	uint32_t	no_poller_found;
	uint32_t	poller_destroying;
	uint32_t	add_failed;
	uint32_t	ports_removed;
	uint32_t	ports_back;
	uint32_t	listen_failed;
	uint32_t	rescans;
	uint32_t	rescans_skipped;
	uint32_t	create_device_failed;
	uint32_t	poller_create_failed;
	uint32_t	removals;
	uint32_t	removals_done;
	uint32_t	connects_rejected;
	uint32_t	capsules_rejected;
	uint32_t	wc_errors;
};

struct spdk_nvmf_rdma_transport {
	struct spdk_nvmf_transport			transport;
	struct rdma_event_channel			*event_channel;
	struct spdk_poller				*accept_poller;
	uint32_t					acceptor_poll_rate;
	uint32_t					max_srq_depth;
	TAILQ_HEAD(, spdk_nvmf_rdma_device)		devices;
	TAILQ_HEAD(, spdk_nvmf_rdma_port)		ports;
	TAILQ_HEAD(, spdk_nvmf_rdma_port)		retry_ports;
	TAILQ_HEAD(, spdk_nvmf_rdma_poll_group)		poll_groups;
	/* model */
	TAILQ_HEAD(, spdk_nvmf_rdma_qpair)		all_qpairs;
	uint32_t					next_serial;
	struct nvmf_rdma_evidence			evidence;
};

/* One add or remove of a device's poller in one poll group, sent from the acceptor thread. */
struct poller_manage_ctx {
	struct spdk_nvmf_rdma_transport		*rtransport;
	struct spdk_nvmf_rdma_poll_group	*rgroup;
	struct spdk_nvmf_rdma_poller		*rpoller;
	struct spdk_nvmf_rdma_device		*device;
	struct spdk_thread			*thread;
	volatile int				*inflight_op_counter;
};

extern const char *const nvmf_rdma_req_state_names[RDMA_REQUEST_NUM_STATES];
struct spdk_nvmf_rdma_transport *nvmf_rdma_get_transport(void);
/* model: one accept poll (the accept poller's body), for a host hook inside a verbs call */
int nvmf_rdma_accept(void *ctx);

#endif
