/* The initiator-side application layer: a thin stand-in for module/bdev/nvme (attach a
 * controller, poll its admin and I/O queues, reset and reconnect it with bounded retries) and
 * the bdevperf workload that runs over its namespace. Exported by api/spdk_wasm_nvme.c. */
#ifndef SPDK_WASM_BDEVPERF_H
#define SPDK_WASM_BDEVPERF_H

#include "spdk/stdinc.h"
#include "spdk/nvme.h"

#define NVME_BDEV_MAX_CTRLRS	4

/* Where an attached controller is (nvme_bdev_ctrlr.state). */
enum nvme_bdev_ctrlr_state {
	NVME_BDEV_CTRLR_ATTACHING = 0,	/* spdk_nvme_connect_async / probe poll */
	NVME_BDEV_CTRLR_CONNECTING_IO,	/* I/O qpair Connect in flight */
	NVME_BDEV_CTRLR_READY,		/* namespace usable */
	NVME_BDEV_CTRLR_RESETTING,	/* disconnected; reconnect attempts running */
	NVME_BDEV_CTRLR_FAILED,		/* attach failed or reconnects exhausted */
	NVME_BDEV_CTRLR_DETACHED,
};

struct nvme_bdev_ctrlr_opts {
	struct spdk_nvme_ctrlr_opts	ctrlr_opts;
	uint32_t			io_queue_size;
	/* Delay between reconnect attempts and how many are made before giving up. */
	uint32_t			reconnect_delay_ms;
	uint32_t			max_reconnects;
	/* Not upstream (bdev_nvme always uses a poll group): poll the I/O qpair directly with
	 * spdk_nvme_qpair_process_completions, as before poll groups were modelled. */
	bool				io_qpair_no_poll_group;
};

struct nvme_bdev_ctrlr {
	int				id;
	bool				in_use;
	enum nvme_bdev_ctrlr_state	state;
	struct spdk_nvme_transport_id	trid;
	struct nvme_bdev_ctrlr_opts	opts;
	struct spdk_nvme_probe_ctx	*probe_ctx;
	struct spdk_nvme_ctrlr		*ctrlr;
	struct spdk_nvme_qpair		*qpair;
	/* The I/O qpair's poll group (NULL with io_qpair_no_poll_group). */
	struct spdk_nvme_poll_group	*group;
	struct spdk_nvme_ns		*ns;
	int				attach_rc;
	uint32_t			reconnect_attempts;
	uint32_t			resets;
	uint64_t			next_reconnect_tick;
	bool				reconnect_in_progress;
	struct spdk_poller		*adminq_poller;
	struct spdk_poller		*io_poller;
	uint64_t			adminq_period_us;
};

int nvme_bdev_ctrlr_attach(const struct spdk_nvme_transport_id *trid,
			   const struct nvme_bdev_ctrlr_opts *opts);
struct nvme_bdev_ctrlr *nvme_bdev_ctrlr_get(int id);
int nvme_bdev_ctrlr_detach(int id);
const char *nvme_bdev_ctrlr_state_name(enum nvme_bdev_ctrlr_state state);

/* The bdev-like I/O calls bdevperf uses: one namespace, one I/O qpair. */
int nvme_bdev_readv(struct nvme_bdev_ctrlr *nbc, void *buf, uint64_t offset_blocks,
		    uint32_t num_blocks, spdk_nvme_cmd_cb cb_fn, void *cb_arg);
int nvme_bdev_writev(struct nvme_bdev_ctrlr *nbc, void *buf, uint64_t offset_blocks,
		     uint32_t num_blocks, spdk_nvme_cmd_cb cb_fn, void *cb_arg);

/* ---- bdevperf ---- */

enum bdevperf_workload {
	BDEVPERF_WORKLOAD_VERIFY = 0,
	BDEVPERF_WORKLOAD_RANDREAD,
	BDEVPERF_WORKLOAD_RANDWRITE,
	BDEVPERF_WORKLOAD_RANDRW,
	BDEVPERF_WORKLOAD_READ,
	BDEVPERF_WORKLOAD_WRITE,
};

#define BDEVPERF_FLAG_UNIQUE_WRITES	(1u << 0)	/* -U: unique data per write */
#define BDEVPERF_FLAG_CONTINUE_ON_FAILURE (1u << 1)

struct bdevperf_opts {
	int				ctrlr_id;
	enum bdevperf_workload		workload;
	uint32_t			io_size;
	uint32_t			queue_depth;
	uint32_t			rw_percentage;	/* reads in randrw, 0..100 */
	uint64_t			time_us;	/* 0: run io_count I/Os */
	uint32_t			io_count;
	uint32_t			seed;
	uint32_t			flags;
};

/* Counters (bdevperf_get_counter). */
enum bdevperf_counter {
	BDEVPERF_CNT_SUBMITTED = 0,
	BDEVPERF_CNT_COMPLETED,
	BDEVPERF_CNT_FAILED,
	BDEVPERF_CNT_READS,
	BDEVPERF_CNT_WRITES,
	BDEVPERF_CNT_BYTES_READ,
	BDEVPERF_CNT_BYTES_WRITTEN,
	BDEVPERF_CNT_VERIFIED,
	BDEVPERF_CNT_MISCOMPARES,
	BDEVPERF_CNT_OUTSTANDING,
	BDEVPERF_CNT_START_US,
	BDEVPERF_CNT_END_US,
	BDEVPERF_CNT_LAT_SUM_US,
	BDEVPERF_CNT_LAT_MAX_US,
	BDEVPERF_CNT_POISON_WORDS,
	BDEVPERF_CNT_NUM,
};

#define BDEVPERF_MAX_MISCOMPARES	16

struct bdevperf_miscompare {
	uint32_t	io_idx;
	uint32_t	write_idx;
	uint64_t	offset_blocks;
	uint32_t	first_byte;
	uint32_t	last_byte;
	uint32_t	bad_bytes;
	uint32_t	poison_words;
	uint8_t		expected[16];
	uint8_t		received[16];
};

int bdevperf_start(const struct bdevperf_opts *opts);
/* 0 running, 1 finished clean, 2 finished with miscompares, negative errno on failure. */
int bdevperf_status(void);
double bdevperf_get_counter(enum bdevperf_counter c);
const struct bdevperf_miscompare *bdevperf_get_miscompare(uint32_t idx);
int bdevperf_stop(void);

#endif /* SPDK_WASM_BDEVPERF_H */
