/* The TCP transport's structures (upstream keeps them at the top of lib/nvmf/tcp.c); in a
 * header here so the exported inspection interface (api/spdk_wasm_nvmf.c) can read them. */
#ifndef SPDK_NVMF_TCP_INTERNAL_H
#define SPDK_NVMF_TCP_INTERNAL_H

#include "spdk/stdinc.h"
#include "spdk/nvmf_transport.h"
#include "spdk/queue.h"
#include "spdk_internal/nvme_tcp.h"

enum spdk_nvmf_tcp_req_state {
	/* The request is not currently in use */
	TCP_REQUEST_STATE_FREE = 0,
	/* Initial state when request first received */
	TCP_REQUEST_STATE_NEW = 1,
	/* The request is queued until a data buffer is available. */
	TCP_REQUEST_STATE_NEED_BUFFER = 2,
	/* The request has the data buffer available */
	TCP_REQUEST_STATE_HAVE_BUFFER = 3,
	/* The request is waiting for zcopy_start to finish */
	TCP_REQUEST_STATE_AWAITING_ZCOPY_START = 4,
	/* The request has received a zero-copy buffer */
	TCP_REQUEST_STATE_ZCOPY_START_COMPLETED = 5,
	/* The request is currently transferring data from the host to the controller. */
	TCP_REQUEST_STATE_TRANSFERRING_HOST_TO_CONTROLLER = 6,
	/* The request is waiting for the R2T send acknowledgement. */
	TCP_REQUEST_STATE_AWAITING_R2T_ACK = 7,
	/* The request is ready to execute at the block device */
	TCP_REQUEST_STATE_READY_TO_EXECUTE = 8,
	/* The request is currently executing at the block device */
	TCP_REQUEST_STATE_EXECUTING = 9,
	/* The request is waiting for zcopy buffers to be committed */
	TCP_REQUEST_STATE_AWAITING_ZCOPY_COMMIT = 10,
	/* The request finished executing at the block device */
	TCP_REQUEST_STATE_EXECUTED = 11,
	/* The request is ready to send a completion */
	TCP_REQUEST_STATE_READY_TO_COMPLETE = 12,
	/* The request is currently transferring final pdus from the controller to the host. */
	TCP_REQUEST_STATE_TRANSFERRING_CONTROLLER_TO_HOST = 13,
	/* The request is waiting for zcopy buffers to be released (without committing) */
	TCP_REQUEST_STATE_AWAITING_ZCOPY_RELEASE = 14,
	/* The request completed and can be marked free. */
	TCP_REQUEST_STATE_COMPLETED = 15,
	/* Terminator */
	TCP_REQUEST_NUM_STATES,
};

extern const char *const nvmf_tcp_req_state_names[TCP_REQUEST_NUM_STATES];

enum nvmf_tcp_qpair_state {
	NVMF_TCP_QPAIR_STATE_INVALID = 0,
	NVMF_TCP_QPAIR_STATE_INITIALIZING = 1,
	NVMF_TCP_QPAIR_STATE_RUNNING = 2,
	NVMF_TCP_QPAIR_STATE_EXITING = 3,
	NVMF_TCP_QPAIR_STATE_EXITED = 4,
};

struct spdk_nvmf_tcp_req {
	struct spdk_nvmf_request		req;
	struct spdk_nvme_cpl			rsp;
	struct spdk_nvme_cmd			cmd;
	/* The send PDU of this request (R2T, C2HData, CapsuleResp). */
	struct nvme_tcp_pdu			*pdu;
	/* True while pdu is handed to the socket and its write callback has not run. */
	bool					pdu_in_use;
	bool					has_in_capsule_data;
	/* In-capsule data buffer of in_capsule_data_size bytes. */
	uint8_t					*buf;
	void					*large_icd;
	uint32_t				h2c_offset;
	uint32_t				c2h_data_offset;
	enum spdk_nvmf_tcp_req_state		state;
	uint16_t				ttag;
	/* Evidence: nvmf_tcp_req_get / nvmf_tcp_req_put counts (FREE once per get). */
	uint32_t				get_count;
	uint32_t				put_count;
	TAILQ_ENTRY(spdk_nvmf_tcp_req)		state_link;
};

struct spdk_nvmf_tcp_poll_group;

struct spdk_nvmf_tcp_qpair {
	struct spdk_nvmf_qpair			qpair;
	struct spdk_nvmf_tcp_poll_group		*group;
	struct spdk_sock			*sock;

	enum nvme_tcp_pdu_recv_state		recv_state;
	enum nvmf_tcp_qpair_state		state;

	/* PDU being received; from tcp_pdu_free_queue. */
	struct nvme_tcp_pdu			*pdu_in_progress;
	TAILQ_HEAD(, nvme_tcp_pdu)		tcp_pdu_free_queue;
	uint32_t				tcp_pdu_working_count;

	TAILQ_HEAD(, spdk_nvmf_tcp_req)		tcp_req_free_queue;
	TAILQ_HEAD(, spdk_nvmf_tcp_req)		tcp_req_working_queue;

	struct spdk_nvmf_tcp_req		*reqs;
	struct nvme_tcp_pdu			*pdus;
	struct nvme_tcp_pdu			*mgmt_pdu;
	void					*bufs;
	uint16_t				resource_count;
	uint32_t				state_cntr[TCP_REQUEST_NUM_STATES];

	/* Size asked for the socket's receive pipe: set in init_mem_resource, reduced for the
	 * digests the ICReq leaves off. */
	int					recv_buf_size;

	uint32_t				maxr2t;
	bool					host_hdgst_enable;
	bool					host_ddgst_enable;
	uint8_t					cpda;
	bool					wait_terminate;
	uint8_t					term_req_data[SPDK_NVME_TCP_TERM_REQ_ERROR_DATA_MAX_SIZE];

	struct spdk_poller			*timeout_poller;
	spdk_nvmf_transport_qpair_fini_cb	fini_cb_fn;
	void					*fini_cb_arg;

	char					target_addr[64];
	char					initiator_addr[64];
	uint16_t				target_port;
	uint16_t				initiator_port;

	/* Evidence counters. */
	uint32_t				term_req_sent;
	uint32_t				last_fes;
	uint32_t				hdgst_errors;
	uint32_t				ddgst_errors;
	uint32_t				delayed_completions;
	uint32_t				invariant_violations;
	bool					leaked;

	TAILQ_ENTRY(spdk_nvmf_tcp_qpair)	link;
	TAILQ_ENTRY(spdk_nvmf_tcp_qpair)	await_link;
	TAILQ_ENTRY(spdk_nvmf_tcp_qpair)	all_link;
};

struct spdk_nvmf_tcp_poll_group {
	struct spdk_nvmf_transport_poll_group	group;
	struct spdk_sock_group			*sock_group;
	TAILQ_HEAD(, spdk_nvmf_tcp_qpair)	qpairs;
	TAILQ_HEAD(, spdk_nvmf_tcp_qpair)	await_req;
};

struct spdk_nvmf_tcp_port {
	struct spdk_nvme_transport_id		trid;
	struct spdk_sock			*listen_sock;
	TAILQ_ENTRY(spdk_nvmf_tcp_port)		link;
};

struct spdk_nvmf_tcp_transport {
	struct spdk_nvmf_transport		transport;
	TAILQ_HEAD(, spdk_nvmf_tcp_port)	ports;
	struct spdk_poller			*accept_poller;
};

/* Every TCP qpair accepted and not yet destroyed (evidence: what is still allocated). */
extern TAILQ_HEAD(nvmf_tcp_qpair_list, spdk_nvmf_tcp_qpair) g_nvmf_tcp_qpairs;

void nvmf_tcp_request_free(struct spdk_nvmf_tcp_req *tcp_req);
void nvmf_tcp_qpair_disconnect(struct spdk_nvmf_tcp_qpair *tqpair);

#endif /* SPDK_NVMF_TCP_INTERNAL_H */
