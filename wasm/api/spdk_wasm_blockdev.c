/* Exported interface of host storage for the TypeScript host: the AIO-like device on a host
 * block device (module/blob/aio), a blobstore on it, and the exposure of a blob to the host
 * kernel as a block device (ublk-like: the kernel submits, the C completes through the
 * host_blk_export_done import).
 *
 * Asynchronous operations return the same op handle as spdk_wasm_blob.c (poll it with
 * spdk_wasm_blob_op_done / _rc / _result and free it with spdk_wasm_blob_op_free). */
#include <emscripten/emscripten.h>

#include "spdk/stdinc.h"
#include "spdk/blob.h"
#include "spdk/log.h"
#include "spdk/thread.h"
#include "spdk_internal/trace_host.h"

#include "host.h"
#include "host_blk.h"
#include "../module/blob/aio/blob_aio.h"
#include "spdk_wasm_op.h"

#define SPDK_WASM_API EMSCRIPTEN_KEEPALIVE

/* ---- the AIO-like device ---- */

/* Opens a host block device by path (O_RDWR | O_DIRECT). fallocate != 0: UNMAP and WRITE_ZEROES
 * reach the host (freed ranges read zero); 0: Longhorn's AIO disks (UNMAP does nothing). NULL on
 * failure (the reason is in the log). */
SPDK_WASM_API struct blob_aio_disk *
spdk_wasm_aio_disk_open(const char *path, int fallocate)
{
	int rc;
	struct blob_aio_disk *disk = blob_aio_disk_open(path, fallocate != 0, &rc);

	if (disk == NULL) {
		SPDK_ERRLOG("bdev_aio_create %s: %d\n", path, rc);
	}
	return disk;
}

/* 0, or -EBUSY while commands are in flight. */
SPDK_WASM_API int
spdk_wasm_aio_disk_close(struct blob_aio_disk *disk)
{
	return blob_aio_disk_close(disk);
}

/* Counters: 0 read bytes, 1 write bytes (incl. emulated zeroes), 2 write_zeroes bytes, 3 unmap
 * bytes sent to the host, 4 unmap bytes ignored (no fallocate), 5 commands in flight, 6 errors,
 * 7 device size in bytes, 8 block length, 9 submissions that waited for room in a full ring. */
SPDK_WASM_API double
spdk_wasm_aio_disk_counter(struct blob_aio_disk *disk, int which)
{
	switch (which) {
	case 0: return (double)disk->read_bytes;
	case 1: return (double)disk->write_bytes;
	case 2: return (double)disk->write_zeroes_bytes;
	case 3: return (double)disk->unmap_bytes;
	case 4: return (double)disk->unmap_ignored_bytes;
	case 5: return disk->io_inflight;
	case 6: return (double)disk->errors;
	case 7: return (double)disk->size;
	case 8: return disk->blocklen;
	case 9: return (double)disk->io_queued;
	default: return -1;
	}
}

/* spdk_bs_init on a new bs_dev over the AIO disk (arguments as spdk_wasm_bs_init). Result: the
 * spdk_blob_store pointer. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_aio_bs_init(struct blob_aio_disk *disk, uint32_t cluster_sz, uint32_t num_md_pages,
		      int clear_method, const char *bstype)
{
	return spdk_wasm_bs_init_dev(blob_aio_dev_create(disk), cluster_sz, num_md_pages, clear_method,
				     bstype);
}

/* spdk_bs_load from the AIO disk; bstype NULL or "" = wildcard. Result: the store pointer. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_aio_bs_load(struct blob_aio_disk *disk, const char *bstype)
{
	return spdk_wasm_bs_load_dev(blob_aio_dev_create(disk), bstype);
}

/* ---- a blob exposed to the host kernel ---- */

struct blockdev_export_io {
	uint32_t	tag;
	int		op;
};

static void
blockdev_export_io_done(void *cb_arg, int bserrno)
{
	struct blockdev_export_io *io = cb_arg;

	SPDK_WASM_TRACE("blockdev_export_done", io->tag, io->op, (uint32_t)bserrno, 0);
	host_blk_export_done(io->tag, bserrno);
	free(io);
}

static void
blockdev_export_flush_msg(void *arg)
{
	/* The LH fork's lvol FLUSH drains in-flight I/O and changes no data; every write here has
	 * already completed to the blobstore, so there is nothing to wait for. */
	blockdev_export_io_done(arg, 0);
}

/* One block request of the host kernel against a blob (the exposed lvol): op is a
 * HOST_BLK_OP_* code, offset and length are in the blob's io_units, buf is a guest buffer the
 * host owns until completion. Always completes later through host_blk_export_done(tag, rc);
 * returns 0, or a negative errno when the request could not even be started (then no completion
 * follows). */
SPDK_WASM_API int
spdk_wasm_blockdev_submit(struct spdk_blob *blob, struct spdk_io_channel *ch, int op,
			  uint32_t offset, uint32_t length, void *buf, uint32_t tag)
{
	struct blockdev_export_io *io = calloc(1, sizeof(*io));

	if (io == NULL) {
		return -ENOMEM;
	}
	io->tag = tag;
	io->op = op;
	SPDK_WASM_TRACE("blockdev_export_submit", tag, op, offset, length);
	switch (op) {
	case HOST_BLK_OP_READ:
		spdk_blob_io_read(blob, ch, buf, offset, length, blockdev_export_io_done, io);
		return 0;
	case HOST_BLK_OP_WRITE:
		spdk_blob_io_write(blob, ch, buf, offset, length, blockdev_export_io_done, io);
		return 0;
	case HOST_BLK_OP_DISCARD:
		spdk_blob_io_unmap(blob, ch, offset, length, blockdev_export_io_done, io);
		return 0;
	case HOST_BLK_OP_WRITE_ZEROES:
		spdk_blob_io_write_zeroes(blob, ch, offset, length, blockdev_export_io_done, io);
		return 0;
	case HOST_BLK_OP_FLUSH:
		spdk_thread_send_msg(spdk_get_thread(), blockdev_export_flush_msg, io);
		return 0;
	default:
		free(io);
		return -EINVAL;
	}
}
