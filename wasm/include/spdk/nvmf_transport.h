/* The transport interface of the NVMe-oF target (subset of upstream
 * include/spdk/nvmf_transport.h): requests, generic qpairs, transport options and ops. */
#ifndef SPDK_NVMF_TRANSPORT_H
#define SPDK_NVMF_TRANSPORT_H

#include "spdk/stdinc.h"
#include "spdk/bdev.h"
#include "spdk/nvme.h"
#include "spdk/nvme_spec.h"
#include "spdk/nvmf_spec.h"
#include "spdk/queue.h"

#define NVMF_REQ_MAX_BUFFERS		16
#define SPDK_NVMF_MAX_SGL_ENTRIES	16

struct spdk_nvmf_tgt;
struct spdk_nvmf_ctrlr;
struct spdk_nvmf_poll_group;
struct spdk_nvmf_transport;
struct spdk_nvmf_subsystem;

enum spdk_nvmf_zcopy_phase {
	NVMF_ZCOPY_PHASE_NONE,		/* not a zcopy request */
	NVMF_ZCOPY_PHASE_INIT,		/* requesting buffers */
	NVMF_ZCOPY_PHASE_EXECUTE,	/* got buffers, processing */
	NVMF_ZCOPY_PHASE_END_PENDING,	/* releasing buffers */
	NVMF_ZCOPY_PHASE_COMPLETE,	/* buffers released */
	NVMF_ZCOPY_PHASE_INIT_FAILED,	/* failed to get buffers */
};

union nvmf_h2c_msg {
	struct spdk_nvmf_capsule_cmd			nvmf_cmd;
	struct spdk_nvme_cmd				nvme_cmd;
	struct spdk_nvmf_fabric_prop_set_cmd		prop_set_cmd;
	struct spdk_nvmf_fabric_prop_get_cmd		prop_get_cmd;
	struct spdk_nvmf_fabric_connect_cmd		connect_cmd;
};
SPDK_STATIC_ASSERT(sizeof(union nvmf_h2c_msg) == 64, "h2c msg is one SQE");

union nvmf_c2h_msg {
	struct spdk_nvme_cpl				nvme_cpl;
	struct spdk_nvmf_fabric_prop_get_rsp		prop_get_rsp;
	struct spdk_nvmf_fabric_connect_rsp		connect_rsp;
};
SPDK_STATIC_ASSERT(sizeof(union nvmf_c2h_msg) == 16, "c2h msg is one CQE");

struct spdk_nvmf_request {
	struct spdk_nvmf_qpair		*qpair;
	uint32_t			length;
	uint8_t				xfer;	/* enum spdk_nvme_data_transfer */
	bool				data_from_pool;
	void				*data;
	union nvmf_h2c_msg		*cmd;
	union nvmf_c2h_msg		*rsp;
	struct iovec			iov[NVMF_REQ_MAX_BUFFERS];
	uint32_t			iovcnt;
	/* Buffers taken by spdk_nvmf_request_get_buffers (freed by _free_buffers). */
	void				*buffers[NVMF_REQ_MAX_BUFFERS];
	uint32_t			num_buffers;
	struct spdk_bdev_io		*zcopy_bdev_io;
	enum spdk_nvmf_zcopy_phase	zcopy_phase;
	TAILQ_ENTRY(spdk_nvmf_request)	link;
	STAILQ_ENTRY(spdk_nvmf_request)	buf_link;
	/* Waiting for pool buffers (upstream: the request's spdk_iobuf_entry). The buffers
	 * already taken stay on the request; the pool hands over the rest in FIFO order. */
	struct {
		uint32_t			remaining_length;
		bool				waiting;
		STAILQ_ENTRY(spdk_nvmf_request)	link;
	} iobuf;
};

enum spdk_nvmf_qpair_state {
	SPDK_NVMF_QPAIR_UNINITIALIZED = 0,
	SPDK_NVMF_QPAIR_CONNECTING,
	SPDK_NVMF_QPAIR_AUTHENTICATING,
	SPDK_NVMF_QPAIR_ENABLED,
	SPDK_NVMF_QPAIR_DEACTIVATING,
	SPDK_NVMF_QPAIR_ERROR,
};

typedef void (*spdk_nvmf_state_change_done)(void *cb_arg, int status);
typedef void (*nvmf_qpair_disconnect_cb)(void *ctx);
typedef void (*spdk_nvmf_transport_qpair_fini_cb)(void *cb_arg);

struct spdk_nvmf_qpair {
	uint8_t				state;	/* enum spdk_nvmf_qpair_state */
	spdk_nvmf_state_change_done	state_cb;
	void				*state_cb_arg;
	struct spdk_nvmf_transport	*transport;
	struct spdk_nvmf_ctrlr		*ctrlr;
	struct spdk_nvmf_poll_group	*group;
	uint16_t			qid;
	uint16_t			sq_head;
	uint16_t			sq_head_max;
	uint32_t			queue_depth;
	bool				disconnect_started;
	bool				connect_received;
	TAILQ_HEAD(, spdk_nvmf_request)	outstanding;
	TAILQ_ENTRY(spdk_nvmf_qpair)	link;
};

struct spdk_nvmf_transport_opts {
	uint16_t	max_queue_depth;
	uint16_t	max_qpairs_per_ctrlr;
	uint32_t	in_capsule_data_size;
	uint32_t	max_io_size;
	uint32_t	io_unit_size;
	uint32_t	max_aq_depth;
	uint32_t	num_shared_buffers;
	uint32_t	buf_cache_size;
	uint32_t	abort_timeout_sec;
	uint32_t	association_timeout;
	bool		zcopy;
	/* Milliseconds between sending data and its ACK; TCP sets it as TCP_USER_TIMEOUT. */
	uint32_t	ack_timeout;
	/* Keep alive floor, ms (NVMF_DEFAULT_MIN_KATO). */
	uint32_t	min_kato;
	/* TCP transport-specific (upstream reads it from the transport's JSON options). */
	bool		c2h_success;
	size_t		opts_size;
};

struct spdk_nvmf_transport_poll_group {
	struct spdk_nvmf_transport				*transport;
	struct spdk_nvmf_poll_group				*group;
	STAILQ_HEAD(, spdk_nvmf_request)			pending_buf_queue;
	TAILQ_ENTRY(spdk_nvmf_transport_poll_group)		link;
};

struct spdk_nvmf_listen_opts {
	size_t opts_size;
};

/* struct spdk_nvme_transport_id is in spdk/nvme.h, shared with the initiator (as upstream). */

struct spdk_nvmf_transport_ops {
	const char *name;
	void (*opts_init)(struct spdk_nvmf_transport_opts *opts);
	struct spdk_nvmf_transport *(*create)(struct spdk_nvmf_transport_opts *opts);
	int (*destroy)(struct spdk_nvmf_transport *transport);
	int (*listen)(struct spdk_nvmf_transport *transport, const struct spdk_nvme_transport_id *trid,
		      struct spdk_nvmf_listen_opts *opts);
	void (*stop_listen)(struct spdk_nvmf_transport *transport,
			    const struct spdk_nvme_transport_id *trid);
	struct spdk_nvmf_transport_poll_group *(*poll_group_create)(
		struct spdk_nvmf_transport *transport, struct spdk_nvmf_poll_group *group);
	void (*poll_group_destroy)(struct spdk_nvmf_transport_poll_group *group);
	int (*poll_group_add)(struct spdk_nvmf_transport_poll_group *group,
			      struct spdk_nvmf_qpair *qpair);
	int (*poll_group_remove)(struct spdk_nvmf_transport_poll_group *group,
				 struct spdk_nvmf_qpair *qpair);
	int (*poll_group_poll)(struct spdk_nvmf_transport_poll_group *group);
	int (*req_free)(struct spdk_nvmf_request *req);
	int (*req_complete)(struct spdk_nvmf_request *req);
	/* Optional: with it, a request short of buffers waits for the pool, which calls this
	 * once it holds them all; without it, get_buffers is all or nothing. */
	void (*req_get_buffers_done)(struct spdk_nvmf_request *req);
	void (*close_qpair)(struct spdk_nvmf_qpair *qpair, spdk_nvmf_transport_qpair_fini_cb cb_fn,
			    void *cb_arg);
	/* Model: the pool's buffers must be registered memory (RDMA: the NIC reads and writes
	 * them), so they come from one spdk_zmalloc arena instead of malloc. */
	bool dma_data_buffers;
};

struct spdk_nvmf_transport {
	struct spdk_nvmf_tgt			*tgt;
	const struct spdk_nvmf_transport_ops	*ops;
	struct spdk_nvmf_transport_opts		opts;
	/* Buffers of the shared pool in use (bounded by opts.num_shared_buffers). */
	uint32_t				data_buf_in_use;
	/* Requests waiting for pool buffers, first come first served. */
	STAILQ_HEAD(, spdk_nvmf_request)	buf_waiters;
	/* With ops->dma_data_buffers: the arena and a stack of its free buffers. */
	void					*data_buf_arena;
	void					**data_buf_free;
	uint32_t				data_buf_free_count;
	TAILQ_ENTRY(spdk_nvmf_transport)	link;
};

void spdk_nvmf_request_exec(struct spdk_nvmf_request *req);
int spdk_nvmf_request_complete(struct spdk_nvmf_request *req);
int spdk_nvmf_request_free(struct spdk_nvmf_request *req);
int spdk_nvmf_request_get_buffers(struct spdk_nvmf_request *req,
				  struct spdk_nvmf_transport_poll_group *group,
				  struct spdk_nvmf_transport *transport, uint32_t length);
void nvmf_request_get_buffers_abort(struct spdk_nvmf_request *req);
void spdk_nvmf_request_free_buffers(struct spdk_nvmf_request *req,
				    struct spdk_nvmf_transport_poll_group *group,
				    struct spdk_nvmf_transport *transport);
enum spdk_nvme_data_transfer spdk_nvmf_req_get_xfer(struct spdk_nvmf_request *req);
bool spdk_nvmf_request_using_zcopy(const struct spdk_nvmf_request *req);
void spdk_nvmf_request_zcopy_start(struct spdk_nvmf_request *req);
void spdk_nvmf_request_zcopy_end(struct spdk_nvmf_request *req, bool commit);
int spdk_nvmf_qpair_disconnect(struct spdk_nvmf_qpair *qpair);
int spdk_nvmf_tgt_new_qpair(struct spdk_nvmf_tgt *tgt, struct spdk_nvmf_qpair *qpair);
bool nvmf_ctrlr_use_zcopy(struct spdk_nvmf_request *req);

static inline bool
spdk_nvmf_qpair_is_active(struct spdk_nvmf_qpair *qpair)
{
	return qpair->state == SPDK_NVMF_QPAIR_CONNECTING ||
	       qpair->state == SPDK_NVMF_QPAIR_AUTHENTICATING ||
	       qpair->state == SPDK_NVMF_QPAIR_ENABLED;
}

#endif /* SPDK_NVMF_TRANSPORT_H */
