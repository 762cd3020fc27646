/* The bdev module interface (subset of upstream include/spdk/bdev_module.h). */
#ifndef SPDK_BDEV_MODULE_H
#define SPDK_BDEV_MODULE_H

#include "spdk/stdinc.h"
#include "spdk/bdev.h"
#include "spdk/queue.h"

struct spdk_thread;

enum spdk_bdev_io_status {
	SPDK_BDEV_IO_STATUS_AIO_ERROR = -8,
	SPDK_BDEV_IO_STATUS_ABORTED = -7,
	SPDK_BDEV_IO_STATUS_FIRST_FUSED_FAILED = -6,
	SPDK_BDEV_IO_STATUS_MISCOMPARE = -5,
	SPDK_BDEV_IO_STATUS_NOMEM = -4,
	SPDK_BDEV_IO_STATUS_SCSI_ERROR = -3,
	SPDK_BDEV_IO_STATUS_NVME_ERROR = -2,
	SPDK_BDEV_IO_STATUS_FAILED = -1,
	SPDK_BDEV_IO_STATUS_PENDING = 0,
	SPDK_BDEV_IO_STATUS_SUCCESS = 1,
};

struct spdk_bdev_fn_table {
	int (*destruct)(void *ctx);
	void (*submit_request)(struct spdk_io_channel *ch, struct spdk_bdev_io *bdev_io);
	bool (*io_type_supported)(void *ctx, enum spdk_bdev_io_type type);
};

struct spdk_bdev {
	void *ctxt;
	char *name;
	char *product_name;
	uint32_t blocklen;
	uint64_t blockcnt;
	const struct spdk_bdev_fn_table *fn_table;
	struct {
		TAILQ_ENTRY(spdk_bdev) link;
		uint32_t open_descs;
		uint64_t io_outstanding;
		bool unregistering;
	} internal;
};

struct spdk_bdev_io {
	struct spdk_bdev *bdev;
	uint8_t type;	/* enum spdk_bdev_io_type */
	union {
		struct {
			struct iovec *iovs;
			int iovcnt;
			struct iovec iov;	/* storage when the caller gave one buffer */
			uint64_t num_blocks;
			uint64_t offset_blocks;
			struct {
				uint8_t populate : 1;
				uint8_t commit : 1;
				uint8_t start : 1;
			} zcopy;
		} bdev;
	} u;
	struct {
		int8_t status;	/* enum spdk_bdev_io_status */
		uint32_t nvme_cdw0;
		int nvme_sct;
		int nvme_sc;
		spdk_bdev_io_completion_cb cb;
		void *caller_ctx;
		struct spdk_bdev_desc *desc;
		struct spdk_io_channel *ch;
		struct spdk_thread *thread;
		bool in_submit_request;
		TAILQ_ENTRY(spdk_bdev_io) link;
		STAILQ_ENTRY(spdk_bdev_io) cache_link;	/* in the bdev_io cache while free */
	} internal;
	/* Module context; malloc needs none. */
	uint8_t driver_ctx[0];
};

int spdk_bdev_register(struct spdk_bdev *bdev);
void spdk_bdev_unregister(struct spdk_bdev *bdev, void (*cb_fn)(void *cb_arg, int rc),
			  void *cb_arg);
void spdk_bdev_io_complete(struct spdk_bdev_io *bdev_io, enum spdk_bdev_io_status status);
void spdk_bdev_io_complete_nvme_status(struct spdk_bdev_io *bdev_io, uint32_t cdw0, int sct,
				       int sc);

/* Not upstream: frees the bdev_ios kept for reuse (leak checks read the heap without them). */
void spdk_bdev_io_cache_drain(void);

#endif /* SPDK_BDEV_MODULE_H */
