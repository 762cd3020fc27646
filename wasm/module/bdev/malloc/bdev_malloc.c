/* module/bdev/malloc: READ/WRITE copy between the caller's iovecs and one linear buffer; FLUSH
 * is a no-op; ZCOPY start hands out a pointer into that buffer (so a zero-copy write lands in
 * the disk directly and a zero-copy read is sent from it), and ZCOPY end has nothing to copy.
 * Upstream copies through the accel framework, which completes asynchronously; completing from
 * submit_request is deferred by lib/bdev the same way. */
#include "spdk/stdinc.h"
#include "spdk/bdev.h"
#include "spdk/bdev_module.h"
#include "spdk/log.h"
#include "spdk/queue.h"
#include "spdk/util.h"
#include "spdk_internal/trace_host.h"
#include "bdev_malloc.h"

struct malloc_disk {
	struct spdk_bdev		disk;
	void				*malloc_buf;
	TAILQ_ENTRY(malloc_disk)	link;
};

static TAILQ_HEAD(, malloc_disk) g_malloc_disks = TAILQ_HEAD_INITIALIZER(g_malloc_disks);

static void
malloc_disk_free(struct malloc_disk *mdisk)
{
	if (mdisk == NULL) {
		return;
	}
	free(mdisk->disk.name);
	free(mdisk->malloc_buf);
	free(mdisk);
}

static int
bdev_malloc_destruct(void *ctx)
{
	struct malloc_disk *mdisk = ctx;

	TAILQ_REMOVE(&g_malloc_disks, mdisk, link);
	malloc_disk_free(mdisk);
	return 0;
}

static bool
bdev_malloc_io_type_supported(void *ctx, enum spdk_bdev_io_type io_type)
{
	switch (io_type) {
	case SPDK_BDEV_IO_TYPE_READ:
	case SPDK_BDEV_IO_TYPE_WRITE:
	case SPDK_BDEV_IO_TYPE_FLUSH:
	case SPDK_BDEV_IO_TYPE_ZCOPY:
		return true;
	default:
		return false;
	}
}

/* Copies between the disk at 'offset' and the iovecs; to_disk selects the direction. */
static void
bdev_malloc_copy(struct malloc_disk *mdisk, struct iovec *iovs, int iovcnt, uint64_t offset,
		 uint64_t len, bool to_disk)
{
	uint8_t *disk = (uint8_t *)mdisk->malloc_buf + offset;
	uint64_t n;
	int i;

	for (i = 0; i < iovcnt && len > 0; i++) {
		n = spdk_min(len, (uint64_t)iovs[i].iov_len);
		if (to_disk) {
			memcpy(disk, iovs[i].iov_base, n);
		} else {
			memcpy(iovs[i].iov_base, disk, n);
		}
		disk += n;
		len -= n;
	}
}

static void
bdev_malloc_zcopy(struct malloc_disk *mdisk, struct spdk_bdev_io *bdev_io)
{
	uint64_t offset = bdev_io->u.bdev.offset_blocks * mdisk->disk.blocklen;

	if (bdev_io->u.bdev.zcopy.start) {
		if (bdev_io->u.bdev.iovs == NULL || bdev_io->u.bdev.iovcnt < 1) {
			bdev_io->u.bdev.iovs = &bdev_io->u.bdev.iov;
			bdev_io->u.bdev.iovcnt = 1;
		}
		bdev_io->u.bdev.iovs[0].iov_base = (uint8_t *)mdisk->malloc_buf + offset;
		bdev_io->u.bdev.iovs[0].iov_len = bdev_io->u.bdev.num_blocks * mdisk->disk.blocklen;
		bdev_io->u.bdev.iovcnt = 1;
	}
	/* End: the data already is (commit) or stays (release) in the disk buffer. */
	spdk_bdev_io_complete(bdev_io, SPDK_BDEV_IO_STATUS_SUCCESS);
}

static void
bdev_malloc_submit_request(struct spdk_io_channel *ch, struct spdk_bdev_io *bdev_io)
{
	struct malloc_disk *mdisk = bdev_io->bdev->ctxt;
	uint64_t offset = bdev_io->u.bdev.offset_blocks * mdisk->disk.blocklen;
	uint64_t len = bdev_io->u.bdev.num_blocks * mdisk->disk.blocklen;

	switch (bdev_io->type) {
	case SPDK_BDEV_IO_TYPE_READ:
		bdev_malloc_copy(mdisk, bdev_io->u.bdev.iovs, bdev_io->u.bdev.iovcnt, offset, len,
				 false);
		spdk_bdev_io_complete(bdev_io, SPDK_BDEV_IO_STATUS_SUCCESS);
		return;
	case SPDK_BDEV_IO_TYPE_WRITE:
		bdev_malloc_copy(mdisk, bdev_io->u.bdev.iovs, bdev_io->u.bdev.iovcnt, offset, len,
				 true);
		spdk_bdev_io_complete(bdev_io, SPDK_BDEV_IO_STATUS_SUCCESS);
		return;
	case SPDK_BDEV_IO_TYPE_FLUSH:
		spdk_bdev_io_complete(bdev_io, SPDK_BDEV_IO_STATUS_SUCCESS);
		return;
	case SPDK_BDEV_IO_TYPE_ZCOPY:
		bdev_malloc_zcopy(mdisk, bdev_io);
		return;
	default:
		spdk_bdev_io_complete(bdev_io, SPDK_BDEV_IO_STATUS_FAILED);
		return;
	}
}

static const struct spdk_bdev_fn_table malloc_fn_table = {
	.destruct		= bdev_malloc_destruct,
	.submit_request		= bdev_malloc_submit_request,
	.io_type_supported	= bdev_malloc_io_type_supported,
};

int
create_malloc_disk(struct spdk_bdev **bdev, const struct malloc_bdev_opts *opts)
{
	struct malloc_disk *mdisk;
	uint64_t size;
	int rc;

	if (opts->num_blocks == 0) {
		SPDK_ERRLOG("Disk num_blocks must be greater than 0\n");
		return -EINVAL;
	}
	if (opts->block_size % 512 != 0 || opts->block_size == 0) {
		SPDK_ERRLOG("Data block size %u is not a multiple of 512.\n", opts->block_size);
		return -EINVAL;
	}
	if (!spdk_u64_mul_ok(opts->num_blocks, opts->block_size, &size)) {
		SPDK_ERRLOG("Malloc disk of %" PRIu64 " blocks of %u B overflows 64 bits\n",
			    opts->num_blocks, opts->block_size);
		return -EINVAL;
	}
	/* One buffer in wasm32 linear memory: what cannot be allocated is -ENOMEM, as a failed
	 * spdk_zmalloc is upstream. */
	if (size > (1ull << 31)) {
		SPDK_ERRLOG("Malloc disk of %" PRIu64 " B does not fit in linear memory\n", size);
		return -ENOMEM;
	}
	mdisk = calloc(1, sizeof(*mdisk));
	if (mdisk == NULL) {
		return -ENOMEM;
	}
	if (posix_memalign(&mdisk->malloc_buf, 4096, size) != 0) {
		free(mdisk);
		return -ENOMEM;
	}
	memset(mdisk->malloc_buf, 0, size);
	if (opts->name != NULL) {
		mdisk->disk.name = strdup(opts->name);
	} else {
		char name[32];
		snprintf(name, sizeof(name), "Malloc%d", 0);
		for (int i = 0; spdk_bdev_get_by_name(name) != NULL; i++) {
			snprintf(name, sizeof(name), "Malloc%d", i + 1);
		}
		mdisk->disk.name = strdup(name);
	}
	mdisk->disk.product_name = "Malloc disk";
	mdisk->disk.blocklen = opts->block_size;
	mdisk->disk.blockcnt = opts->num_blocks;
	mdisk->disk.ctxt = mdisk;
	mdisk->disk.fn_table = &malloc_fn_table;
	rc = spdk_bdev_register(&mdisk->disk);
	if (rc != 0) {
		malloc_disk_free(mdisk);
		return rc;
	}
	TAILQ_INSERT_TAIL(&g_malloc_disks, mdisk, link);
	*bdev = &mdisk->disk;
	return 0;
}

void
delete_malloc_disk(const char *name, void (*cb_fn)(void *cb_arg, int bdeverrno), void *cb_arg)
{
	struct spdk_bdev *bdev = spdk_bdev_get_by_name(name);

	if (bdev == NULL || bdev->fn_table != &malloc_fn_table) {
		cb_fn(cb_arg, -ENODEV);
		return;
	}
	spdk_bdev_unregister(bdev, cb_fn, cb_arg);
}

void *
bdev_malloc_get_buf(struct spdk_bdev *bdev)
{
	if (bdev == NULL || bdev->fn_table != &malloc_fn_table) {
		return NULL;
	}
	return ((struct malloc_disk *)bdev->ctxt)->malloc_buf;
}
