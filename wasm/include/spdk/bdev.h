/* Block device abstraction (subset of upstream include/spdk/bdev.h): open a bdev by name, get
 * an I/O channel, submit READ/WRITE/FLUSH and the two-phase ZCOPY, complete by callback.
 *
 * Channels: upstream's per-thread spdk_io_channel comes from lib/thread's io_device registry,
 * which this tree does not model; a bdev channel here belongs to one descriptor and is used on
 * the thread that opened it. */
#ifndef SPDK_BDEV_H
#define SPDK_BDEV_H

#include "spdk/stdinc.h"

struct spdk_bdev;
struct spdk_bdev_desc;
struct spdk_bdev_io;
struct spdk_io_channel;

enum spdk_bdev_io_type {
	SPDK_BDEV_IO_TYPE_INVALID = 0,
	SPDK_BDEV_IO_TYPE_READ,
	SPDK_BDEV_IO_TYPE_WRITE,
	SPDK_BDEV_IO_TYPE_UNMAP,
	SPDK_BDEV_IO_TYPE_FLUSH,
	SPDK_BDEV_IO_TYPE_RESET,
	SPDK_BDEV_IO_TYPE_NVME_ADMIN,
	SPDK_BDEV_IO_TYPE_NVME_IO,
	SPDK_BDEV_IO_TYPE_NVME_IO_MD,
	SPDK_BDEV_IO_TYPE_WRITE_ZEROES,
	SPDK_BDEV_IO_TYPE_ZCOPY,
	SPDK_BDEV_NUM_IO_TYPES
};

enum spdk_bdev_event_type {
	SPDK_BDEV_EVENT_REMOVE,
	SPDK_BDEV_EVENT_RESIZE,
	SPDK_BDEV_EVENT_MEDIA_MANAGEMENT,
};

typedef void (*spdk_bdev_event_cb_t)(enum spdk_bdev_event_type type, struct spdk_bdev *bdev,
				     void *event_ctx);
typedef void (*spdk_bdev_io_completion_cb)(struct spdk_bdev_io *bdev_io, bool success,
		void *cb_arg);

struct spdk_bdev *spdk_bdev_get_by_name(const char *bdev_name);
struct spdk_bdev *spdk_bdev_first(void);
struct spdk_bdev *spdk_bdev_next(struct spdk_bdev *prev);
const char *spdk_bdev_get_name(const struct spdk_bdev *bdev);
const char *spdk_bdev_get_product_name(const struct spdk_bdev *bdev);
uint32_t spdk_bdev_get_block_size(const struct spdk_bdev *bdev);
uint64_t spdk_bdev_get_num_blocks(const struct spdk_bdev *bdev);
bool spdk_bdev_io_type_supported(struct spdk_bdev *bdev, enum spdk_bdev_io_type io_type);

int spdk_bdev_open_ext(const char *bdev_name, bool write, spdk_bdev_event_cb_t event_cb,
		       void *event_ctx, struct spdk_bdev_desc **desc);
void spdk_bdev_close(struct spdk_bdev_desc *desc);
struct spdk_bdev *spdk_bdev_desc_get_bdev(struct spdk_bdev_desc *desc);
struct spdk_io_channel *spdk_bdev_get_io_channel(struct spdk_bdev_desc *desc);
void spdk_put_io_channel(struct spdk_io_channel *ch);

int spdk_bdev_read_blocks(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch, void *buf,
			  uint64_t offset_blocks, uint64_t num_blocks,
			  spdk_bdev_io_completion_cb cb, void *cb_arg);
int spdk_bdev_readv_blocks(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch,
			   struct iovec *iov, int iovcnt, uint64_t offset_blocks,
			   uint64_t num_blocks, spdk_bdev_io_completion_cb cb, void *cb_arg);
int spdk_bdev_write_blocks(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch, void *buf,
			   uint64_t offset_blocks, uint64_t num_blocks,
			   spdk_bdev_io_completion_cb cb, void *cb_arg);
int spdk_bdev_writev_blocks(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch,
			    struct iovec *iov, int iovcnt, uint64_t offset_blocks,
			    uint64_t num_blocks, spdk_bdev_io_completion_cb cb, void *cb_arg);
int spdk_bdev_flush_blocks(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch,
			   uint64_t offset_blocks, uint64_t num_blocks,
			   spdk_bdev_io_completion_cb cb, void *cb_arg);
/* Phase one of zero copy: the bdev hands out its own buffers for the range (filled with the
 * current data when 'populate'). The bdev_io stays allocated until spdk_bdev_zcopy_end. */
int spdk_bdev_zcopy_start(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch,
			  struct iovec *iov, int iovcnt, uint64_t offset_blocks,
			  uint64_t num_blocks, bool populate,
			  spdk_bdev_io_completion_cb cb, void *cb_arg);
/* Phase two: commit (write the buffers back, for writes) or just release them. */
int spdk_bdev_zcopy_end(struct spdk_bdev_io *bdev_io, bool commit,
			spdk_bdev_io_completion_cb cb, void *cb_arg);
void spdk_bdev_free_io(struct spdk_bdev_io *bdev_io);
void spdk_bdev_io_get_iovec(struct spdk_bdev_io *bdev_io, struct iovec **iovp, int *iovcntp);
void spdk_bdev_io_get_nvme_status(const struct spdk_bdev_io *bdev_io, uint32_t *cdw0,
				  int *sct, int *sc);

/* Not upstream: bdev_ios allocated and not yet freed, over all bdevs (evidence for tests). */
uint32_t spdk_bdev_wasm_io_outstanding(void);

#endif /* SPDK_BDEV_H */
