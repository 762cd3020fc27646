/* The NVMe host driver's public interface (subset of upstream include/spdk/nvme.h): transport
 * ids, controller options, asynchronous attach (spdk_nvme_connect_async +
 * spdk_nvme_probe_poll_async), admin and I/O completions, I/O qpairs, namespaces and the NVM
 * read/write/flush commands. Nothing here blocks: every call returns at once and work moves on
 * when the caller polls, as the world polls a machine. */
#ifndef SPDK_NVME_H
#define SPDK_NVME_H

#include "spdk/stdinc.h"
#include "spdk/nvme_spec.h"
#include "spdk/nvmf_spec.h"

#define SPDK_NVME_TRANSPORT_NAME_TCP	"TCP"

/* Where a controller lives. Shared with the target (spdk/nvmf_transport.h includes this). */
struct spdk_nvme_transport_id {
	char		traddr[64];
	char		trsvcid[32];
	char		subnqn[SPDK_NVME_NQN_FIELD_SIZE];
	int		trtype;
	int		adrfam;
};

struct spdk_nvme_ctrlr;
struct spdk_nvme_qpair;
struct spdk_nvme_ns;
struct spdk_nvme_probe_ctx;

typedef void (*spdk_nvme_cmd_cb)(void *ctx, const struct spdk_nvme_cpl *cpl);

enum spdk_nvme_qp_failure_reason {
	SPDK_NVME_QPAIR_FAILURE_NONE = 0,
	SPDK_NVME_QPAIR_FAILURE_LOCAL,
	SPDK_NVME_QPAIR_FAILURE_REMOTE,
	SPDK_NVME_QPAIR_FAILURE_UNKNOWN,
};

struct spdk_nvme_ctrlr_opts {
	/* I/O queues the application intends to create. */
	uint32_t num_io_queues;
	/* Entries of the admin queue (Connect sqsize is this minus one). */
	uint16_t admin_queue_size;
	/* KATO sent in the admin Connect, ms; 0 disables keep alive. */
	uint32_t keep_alive_timeout_ms;
	/* Bound of each admin step of controller initialization, ms. */
	uint32_t admin_timeout_ms;
	char hostnqn[SPDK_NVME_NQN_FIELD_SIZE];
	uint8_t extended_host_id[16];
	/* NVMe/TCP digests asked for in ICReq. */
	bool header_digest;
	bool data_digest;
	/* TCP_USER_TIMEOUT of every qpair's socket is 2^transport_ack_timeout ms; 0 leaves the
	 * kernel default (as upstream's bdev_nvme --transport-ack-timeout). */
	uint8_t transport_ack_timeout;
	/* Not upstream options (model knobs, documented at each use):
	 * io_zcopy: spdk_sock_opts.zcopy of I/O qpairs (upstream always asks for it; the admin
	 * queue never does); disable_sq_fc: Connect cattr bit 2, which lets the target end a read
	 * with a C2HData carrying SUCCESS instead of a CapsuleResp. */
	bool io_zcopy;
	bool disable_sq_fc;
};

struct spdk_nvme_io_qpair_opts {
	uint32_t io_queue_size;
	uint32_t io_queue_requests;
	/* Allocate without connecting, so the qpair can join a poll group first; connect it
	 * with spdk_nvme_ctrlr_connect_io_qpair. */
	bool create_only;
};

typedef void (*spdk_nvme_attach_cb)(void *cb_ctx, const struct spdk_nvme_transport_id *trid,
				    struct spdk_nvme_ctrlr *ctrlr,
				    const struct spdk_nvme_ctrlr_opts *opts);

void spdk_nvme_ctrlr_get_default_ctrlr_opts(struct spdk_nvme_ctrlr_opts *opts, size_t opts_size);

/* Starts connecting to one controller; poll with spdk_nvme_probe_poll_async, which returns
 * -EAGAIN until the controller is READY (0; attach_cb ran once) or failed. Unlike upstream,
 * a failure returns its negative errno (the ctrlr is freed) so callers can say why. The probe
 * context is freed once the call returns anything but -EAGAIN. */
struct spdk_nvme_probe_ctx *spdk_nvme_connect_async(const struct spdk_nvme_transport_id *trid,
		const struct spdk_nvme_ctrlr_opts *opts, spdk_nvme_attach_cb attach_cb, void *cb_ctx);
int spdk_nvme_probe_poll_async(struct spdk_nvme_probe_ctx *probe_ctx);
/* The controller a probe context is bringing up. */
struct spdk_nvme_ctrlr *spdk_nvme_probe_ctx_get_ctrlr(struct spdk_nvme_probe_ctx *probe_ctx);

int spdk_nvme_detach(struct spdk_nvme_ctrlr *ctrlr);

int32_t spdk_nvme_ctrlr_process_admin_completions(struct spdk_nvme_ctrlr *ctrlr);
const struct spdk_nvme_ctrlr_data *spdk_nvme_ctrlr_get_data(struct spdk_nvme_ctrlr *ctrlr);
uint32_t spdk_nvme_ctrlr_get_num_ns(struct spdk_nvme_ctrlr *ctrlr);
struct spdk_nvme_ns *spdk_nvme_ctrlr_get_ns(struct spdk_nvme_ctrlr *ctrlr, uint32_t nsid);
uint32_t spdk_nvme_ctrlr_get_max_xfer_size(const struct spdk_nvme_ctrlr *ctrlr);
bool spdk_nvme_ctrlr_is_failed(struct spdk_nvme_ctrlr *ctrlr);
void spdk_nvme_ctrlr_fail(struct spdk_nvme_ctrlr *ctrlr);
union spdk_nvme_csts_register spdk_nvme_ctrlr_get_regs_csts(struct spdk_nvme_ctrlr *ctrlr);

/* Reset in three calls, as bdev_nvme drives it: disconnect (every qpair), reconnect_async
 * (start over from CONNECT_ADMINQ), reconnect_poll_async (-EAGAIN until READY, 0, or the
 * error of this attempt). */
int spdk_nvme_ctrlr_disconnect(struct spdk_nvme_ctrlr *ctrlr);
void spdk_nvme_ctrlr_reconnect_async(struct spdk_nvme_ctrlr *ctrlr);
int spdk_nvme_ctrlr_reconnect_poll_async(struct spdk_nvme_ctrlr *ctrlr);

void spdk_nvme_ctrlr_get_default_io_qpair_opts(struct spdk_nvme_ctrlr *ctrlr,
		struct spdk_nvme_io_qpair_opts *opts, size_t opts_size);
/* The qpair connects asynchronously (upstream's async_mode): it is ENABLED after some
 * spdk_nvme_qpair_process_completions calls (or poll group polls); I/O submitted before that
 * is queued. */
struct spdk_nvme_qpair *spdk_nvme_ctrlr_alloc_io_qpair(struct spdk_nvme_ctrlr *ctrlr,
		const struct spdk_nvme_io_qpair_opts *opts, size_t opts_size);
/* Connects a qpair allocated with create_only (or disconnected): -EISCONN when it is not
 * disconnected. */
int spdk_nvme_ctrlr_connect_io_qpair(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_qpair *qpair);
int spdk_nvme_ctrlr_reconnect_io_qpair(struct spdk_nvme_qpair *qpair);
void spdk_nvme_ctrlr_disconnect_io_qpair(struct spdk_nvme_qpair *qpair);
int spdk_nvme_ctrlr_free_io_qpair(struct spdk_nvme_qpair *qpair);
int32_t spdk_nvme_qpair_process_completions(struct spdk_nvme_qpair *qpair,
		uint32_t max_completions);
enum spdk_nvme_qp_failure_reason spdk_nvme_qpair_get_failure_reason(struct spdk_nvme_qpair *qpair);
bool spdk_nvme_qpair_is_connected(struct spdk_nvme_qpair *qpair);

/* Poll groups (upstream lib/nvme/nvme_poll_group.c): I/O qpairs polled together. The TCP
 * transport's part of a group owns a sock group, so a poll is one flush of every socket and
 * one epoll_wait, and only sockets with events are read. A qpair joins while disconnected
 * (allocate it with create_only) and its socket joins the sock group when it connects. */
struct spdk_nvme_poll_group;

/* Called from spdk_nvme_poll_group_process_completions for each qpair of the group that is
 * disconnected (every poll, until it is reconnected or removed). */
typedef void (*spdk_nvme_disconnected_qpair_cb)(struct spdk_nvme_qpair *qpair, void *poll_group_ctx);

struct spdk_nvme_accel_fn_table;
/* table: upstream's accel functions; none are modelled, pass NULL. */
struct spdk_nvme_poll_group *spdk_nvme_poll_group_create(void *ctx,
		struct spdk_nvme_accel_fn_table *table);
/* -EINVAL unless the qpair is disconnected and in no group. */
int spdk_nvme_poll_group_add(struct spdk_nvme_poll_group *group, struct spdk_nvme_qpair *qpair);
/* -EINVAL unless the qpair is disconnected; -ENOENT when it is not in this group. */
int spdk_nvme_poll_group_remove(struct spdk_nvme_poll_group *group, struct spdk_nvme_qpair *qpair);
/* Completions reaped (0 max_completions: no bound per qpair), or a negative errno when a
 * qpair failed or the sock group poll did; disconnected_qpair_cb must not be NULL. */
int64_t spdk_nvme_poll_group_process_completions(struct spdk_nvme_poll_group *group,
		uint32_t completions_per_qpair, spdk_nvme_disconnected_qpair_cb disconnected_qpair_cb);
void *spdk_nvme_poll_group_get_ctx(struct spdk_nvme_poll_group *group);
/* -EBUSY while qpairs are in the group. */
int spdk_nvme_poll_group_destroy(struct spdk_nvme_poll_group *group);

uint32_t spdk_nvme_ns_get_id(struct spdk_nvme_ns *ns);
bool spdk_nvme_ns_is_active(struct spdk_nvme_ns *ns);
uint32_t spdk_nvme_ns_get_sector_size(struct spdk_nvme_ns *ns);
uint64_t spdk_nvme_ns_get_num_sectors(struct spdk_nvme_ns *ns);
const struct spdk_nvme_ns_data *spdk_nvme_ns_get_data(struct spdk_nvme_ns *ns);

/* 0 or -errno (-EINVAL bad range, -ENOMEM no request left: retry later). cb_fn runs from
 * spdk_nvme_qpair_process_completions, never from inside the submit call. */
int spdk_nvme_ns_cmd_read(struct spdk_nvme_ns *ns, struct spdk_nvme_qpair *qpair, void *payload,
			  uint64_t lba, uint32_t lba_count, spdk_nvme_cmd_cb cb_fn, void *cb_arg,
			  uint32_t io_flags);
int spdk_nvme_ns_cmd_write(struct spdk_nvme_ns *ns, struct spdk_nvme_qpair *qpair, void *payload,
			   uint64_t lba, uint32_t lba_count, spdk_nvme_cmd_cb cb_fn, void *cb_arg,
			   uint32_t io_flags);
int spdk_nvme_ns_cmd_flush(struct spdk_nvme_ns *ns, struct spdk_nvme_qpair *qpair,
			   spdk_nvme_cmd_cb cb_fn, void *cb_arg);

/* Raw admin command with an optional contiguous buffer (Identify, Get Features, ...). */
int spdk_nvme_ctrlr_cmd_admin_raw(struct spdk_nvme_ctrlr *ctrlr, struct spdk_nvme_cmd *cmd,
				  void *buf, uint32_t len, spdk_nvme_cmd_cb cb_fn, void *cb_arg);

const char *spdk_nvme_cpl_get_status_string(const struct spdk_nvme_status *status);

#endif /* SPDK_NVME_H */
