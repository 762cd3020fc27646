/* lib/bdev: the registry of bdevs, descriptors, channels and bdev_io lifetime. A bdev_io
 * completed from inside its own submit_request is completed by a message instead, so callers
 * never see their callback run before the submit call returned (as upstream defers it). */
#include "spdk/stdinc.h"
#include "spdk/bdev.h"
#include "spdk/bdev_module.h"
#include "spdk/log.h"
#include "spdk/nvme_spec.h"
#include "spdk/thread.h"
#include "spdk_internal/trace_host.h"

struct spdk_bdev_desc {
	struct spdk_bdev	*bdev;
	bool			write;
	spdk_bdev_event_cb_t	event_cb;
	void			*event_ctx;
	bool			closed;
};

/* Stands in for upstream's per-thread spdk_io_channel of the bdev. */
struct spdk_bdev_channel {
	struct spdk_bdev_desc	*desc;
	struct spdk_thread	*thread;
};

static TAILQ_HEAD(, spdk_bdev) g_bdevs = TAILQ_HEAD_INITIALIZER(g_bdevs);
static uint32_t g_bdev_io_outstanding;

uint32_t
spdk_bdev_wasm_io_outstanding(void)
{
	return g_bdev_io_outstanding;
}

struct spdk_bdev *
spdk_bdev_get_by_name(const char *bdev_name)
{
	struct spdk_bdev *bdev;

	if (bdev_name == NULL) {
		return NULL;
	}
	TAILQ_FOREACH(bdev, &g_bdevs, internal.link) {
		if (strcmp(bdev->name, bdev_name) == 0) {
			return bdev;
		}
	}
	return NULL;
}

struct spdk_bdev *
spdk_bdev_first(void)
{
	return TAILQ_FIRST(&g_bdevs);
}

struct spdk_bdev *
spdk_bdev_next(struct spdk_bdev *prev)
{
	return TAILQ_NEXT(prev, internal.link);
}

const char *
spdk_bdev_get_name(const struct spdk_bdev *bdev)
{
	return bdev->name;
}

const char *
spdk_bdev_get_product_name(const struct spdk_bdev *bdev)
{
	return bdev->product_name;
}

uint32_t
spdk_bdev_get_block_size(const struct spdk_bdev *bdev)
{
	return bdev->blocklen;
}

uint64_t
spdk_bdev_get_num_blocks(const struct spdk_bdev *bdev)
{
	return bdev->blockcnt;
}

bool
spdk_bdev_io_type_supported(struct spdk_bdev *bdev, enum spdk_bdev_io_type io_type)
{
	return bdev->fn_table->io_type_supported(bdev->ctxt, io_type);
}

int
spdk_bdev_register(struct spdk_bdev *bdev)
{
	if (bdev->name == NULL || bdev->blocklen == 0 || bdev->fn_table == NULL) {
		SPDK_ERRLOG("bdev register: name, blocklen and fn_table are required\n");
		return -EINVAL;
	}
	if (spdk_bdev_get_by_name(bdev->name) != NULL) {
		SPDK_ERRLOG("Bdev name %s already exists\n", bdev->name);
		return -EEXIST;
	}
	memset(&bdev->internal, 0, sizeof(bdev->internal));
	TAILQ_INSERT_TAIL(&g_bdevs, bdev, internal.link);
	SPDK_WASM_TRACE("spdk_bdev_register", bdev, bdev->blocklen, (uint32_t)bdev->blockcnt, 0);
	return 0;
}

void
spdk_bdev_unregister(struct spdk_bdev *bdev, void (*cb_fn)(void *cb_arg, int rc), void *cb_arg)
{
	int rc;

	if (bdev->internal.open_descs > 0) {
		/* Upstream sends SPDK_BDEV_EVENT_REMOVE and waits for the closes; here the
		 * owners must close first. */
		if (cb_fn != NULL) {
			cb_fn(cb_arg, -EBUSY);
		}
		return;
	}
	TAILQ_REMOVE(&g_bdevs, bdev, internal.link);
	rc = bdev->fn_table->destruct(bdev->ctxt);
	if (cb_fn != NULL) {
		cb_fn(cb_arg, rc < 0 ? rc : 0);
	}
}

int
spdk_bdev_open_ext(const char *bdev_name, bool write, spdk_bdev_event_cb_t event_cb,
		   void *event_ctx, struct spdk_bdev_desc **_desc)
{
	struct spdk_bdev *bdev = spdk_bdev_get_by_name(bdev_name);
	struct spdk_bdev_desc *desc;

	if (bdev == NULL) {
		SPDK_NOTICELOG("Currently unable to find bdev with name: %s\n",
			       bdev_name ? bdev_name : "(null)");
		return -ENODEV;
	}
	if (event_cb == NULL) {
		SPDK_ERRLOG("Missing event callback function\n");
		return -EINVAL;
	}
	desc = calloc(1, sizeof(*desc));
	if (desc == NULL) {
		return -ENOMEM;
	}
	desc->bdev = bdev;
	desc->write = write;
	desc->event_cb = event_cb;
	desc->event_ctx = event_ctx;
	bdev->internal.open_descs++;
	*_desc = desc;
	return 0;
}

void
spdk_bdev_close(struct spdk_bdev_desc *desc)
{
	if (desc == NULL) {
		return;
	}
	desc->bdev->internal.open_descs--;
	free(desc);
}

struct spdk_bdev *
spdk_bdev_desc_get_bdev(struct spdk_bdev_desc *desc)
{
	return desc->bdev;
}

struct spdk_io_channel *
spdk_bdev_get_io_channel(struct spdk_bdev_desc *desc)
{
	struct spdk_bdev_channel *ch = calloc(1, sizeof(*ch));

	if (ch == NULL) {
		return NULL;
	}
	ch->desc = desc;
	ch->thread = spdk_get_thread();
	return (struct spdk_io_channel *)ch;
}

void
spdk_put_io_channel(struct spdk_io_channel *ch)
{
	free(ch);
}

/* Freed bdev_ios kept for reuse: upstream takes them from the bdev_io mempool through a
 * per-thread cache of SPDK_BDEV_IO_CACHE_SIZE; one OS thread needs one list. */
#define SPDK_BDEV_IO_CACHE_SIZE	256
static STAILQ_HEAD(, spdk_bdev_io) g_bdev_io_cache = STAILQ_HEAD_INITIALIZER(g_bdev_io_cache);
static uint32_t g_bdev_io_cache_count;

void
spdk_bdev_io_cache_drain(void)
{
	struct spdk_bdev_io *bdev_io;

	while ((bdev_io = STAILQ_FIRST(&g_bdev_io_cache)) != NULL) {
		STAILQ_REMOVE_HEAD(&g_bdev_io_cache, internal.cache_link);
		free(bdev_io);
	}
	g_bdev_io_cache_count = 0;
}

static struct spdk_bdev_io *
bdev_io_get(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch, uint8_t type,
	    spdk_bdev_io_completion_cb cb, void *cb_arg)
{
	struct spdk_bdev_io *bdev_io = STAILQ_FIRST(&g_bdev_io_cache);

	if (bdev_io != NULL) {
		STAILQ_REMOVE_HEAD(&g_bdev_io_cache, internal.cache_link);
		g_bdev_io_cache_count--;
		memset(bdev_io, 0, sizeof(*bdev_io));
	} else {
		bdev_io = calloc(1, sizeof(*bdev_io));
	}
	if (bdev_io == NULL) {
		return NULL;
	}
	bdev_io->bdev = desc->bdev;
	bdev_io->type = type;
	bdev_io->internal.desc = desc;
	bdev_io->internal.ch = ch;
	bdev_io->internal.cb = cb;
	bdev_io->internal.caller_ctx = cb_arg;
	bdev_io->internal.status = SPDK_BDEV_IO_STATUS_PENDING;
	bdev_io->internal.thread = spdk_get_thread();
	g_bdev_io_outstanding++;
	desc->bdev->internal.io_outstanding++;
	return bdev_io;
}

static bool
bdev_io_valid_blocks(struct spdk_bdev *bdev, uint64_t offset_blocks, uint64_t num_blocks)
{
	/* Overflow-safe: offset + num must not exceed blockcnt. */
	return num_blocks <= bdev->blockcnt && offset_blocks <= bdev->blockcnt - num_blocks;
}

static void
bdev_io_submit(struct spdk_bdev_io *bdev_io)
{
	struct spdk_bdev *bdev = bdev_io->bdev;

	bdev_io->internal.in_submit_request = true;
	bdev->fn_table->submit_request(bdev_io->internal.ch, bdev_io);
	bdev_io->internal.in_submit_request = false;
}

static int
bdev_rw(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch, uint8_t type,
	struct iovec *iov, int iovcnt, void *buf, uint64_t offset_blocks, uint64_t num_blocks,
	spdk_bdev_io_completion_cb cb, void *cb_arg)
{
	struct spdk_bdev_io *bdev_io;

	if (type == SPDK_BDEV_IO_TYPE_WRITE && !desc->write) {
		return -EBADF;
	}
	if (!bdev_io_valid_blocks(desc->bdev, offset_blocks, num_blocks)) {
		return -EINVAL;
	}
	bdev_io = bdev_io_get(desc, ch, type, cb, cb_arg);
	if (bdev_io == NULL) {
		return -ENOMEM;
	}
	if (buf != NULL) {
		bdev_io->u.bdev.iov.iov_base = buf;
		bdev_io->u.bdev.iov.iov_len = num_blocks * desc->bdev->blocklen;
		bdev_io->u.bdev.iovs = &bdev_io->u.bdev.iov;
		bdev_io->u.bdev.iovcnt = 1;
	} else {
		bdev_io->u.bdev.iovs = iov;
		bdev_io->u.bdev.iovcnt = iovcnt;
	}
	bdev_io->u.bdev.offset_blocks = offset_blocks;
	bdev_io->u.bdev.num_blocks = num_blocks;
	bdev_io_submit(bdev_io);
	return 0;
}

int
spdk_bdev_read_blocks(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch, void *buf,
		      uint64_t offset_blocks, uint64_t num_blocks,
		      spdk_bdev_io_completion_cb cb, void *cb_arg)
{
	return bdev_rw(desc, ch, SPDK_BDEV_IO_TYPE_READ, NULL, 0, buf, offset_blocks, num_blocks,
		       cb, cb_arg);
}

int
spdk_bdev_readv_blocks(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch,
		       struct iovec *iov, int iovcnt, uint64_t offset_blocks, uint64_t num_blocks,
		       spdk_bdev_io_completion_cb cb, void *cb_arg)
{
	return bdev_rw(desc, ch, SPDK_BDEV_IO_TYPE_READ, iov, iovcnt, NULL, offset_blocks,
		       num_blocks, cb, cb_arg);
}

int
spdk_bdev_write_blocks(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch, void *buf,
		       uint64_t offset_blocks, uint64_t num_blocks,
		       spdk_bdev_io_completion_cb cb, void *cb_arg)
{
	return bdev_rw(desc, ch, SPDK_BDEV_IO_TYPE_WRITE, NULL, 0, buf, offset_blocks, num_blocks,
		       cb, cb_arg);
}

int
spdk_bdev_writev_blocks(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch,
			struct iovec *iov, int iovcnt, uint64_t offset_blocks, uint64_t num_blocks,
			spdk_bdev_io_completion_cb cb, void *cb_arg)
{
	return bdev_rw(desc, ch, SPDK_BDEV_IO_TYPE_WRITE, iov, iovcnt, NULL, offset_blocks,
		       num_blocks, cb, cb_arg);
}

int
spdk_bdev_flush_blocks(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch,
		       uint64_t offset_blocks, uint64_t num_blocks,
		       spdk_bdev_io_completion_cb cb, void *cb_arg)
{
	return bdev_rw(desc, ch, SPDK_BDEV_IO_TYPE_FLUSH, NULL, 0, NULL, offset_blocks, num_blocks,
		       cb, cb_arg);
}

int
spdk_bdev_zcopy_start(struct spdk_bdev_desc *desc, struct spdk_io_channel *ch,
		      struct iovec *iov, int iovcnt, uint64_t offset_blocks, uint64_t num_blocks,
		      bool populate, spdk_bdev_io_completion_cb cb, void *cb_arg)
{
	struct spdk_bdev_io *bdev_io;

	if (!populate && !desc->write) {
		return -EBADF;
	}
	if (!spdk_bdev_io_type_supported(desc->bdev, SPDK_BDEV_IO_TYPE_ZCOPY)) {
		return -ENOTSUP;
	}
	if (!bdev_io_valid_blocks(desc->bdev, offset_blocks, num_blocks)) {
		return -EINVAL;
	}
	bdev_io = bdev_io_get(desc, ch, SPDK_BDEV_IO_TYPE_ZCOPY, cb, cb_arg);
	if (bdev_io == NULL) {
		return -ENOMEM;
	}
	bdev_io->u.bdev.iovs = iov;
	bdev_io->u.bdev.iovcnt = iovcnt;
	bdev_io->u.bdev.offset_blocks = offset_blocks;
	bdev_io->u.bdev.num_blocks = num_blocks;
	bdev_io->u.bdev.zcopy.populate = populate ? 1 : 0;
	bdev_io->u.bdev.zcopy.commit = 0;
	bdev_io->u.bdev.zcopy.start = 1;
	SPDK_WASM_TRACE("spdk_bdev_zcopy_start", bdev_io, (uint32_t)offset_blocks,
			(uint32_t)num_blocks, populate);
	bdev_io_submit(bdev_io);
	return 0;
}

int
spdk_bdev_zcopy_end(struct spdk_bdev_io *bdev_io, bool commit,
		    spdk_bdev_io_completion_cb cb, void *cb_arg)
{
	if (bdev_io->type != SPDK_BDEV_IO_TYPE_ZCOPY || !bdev_io->u.bdev.zcopy.start ||
	    bdev_io->internal.status != SPDK_BDEV_IO_STATUS_SUCCESS) {
		return -EINVAL;
	}
	bdev_io->u.bdev.zcopy.commit = commit ? 1 : 0;
	bdev_io->u.bdev.zcopy.start = 0;
	bdev_io->internal.cb = cb;
	bdev_io->internal.caller_ctx = cb_arg;
	bdev_io->internal.status = SPDK_BDEV_IO_STATUS_PENDING;
	SPDK_WASM_TRACE("spdk_bdev_zcopy_end", bdev_io, commit, 0, 0);
	bdev_io_submit(bdev_io);
	return 0;
}

void
spdk_bdev_free_io(struct spdk_bdev_io *bdev_io)
{
	if (bdev_io == NULL) {
		return;
	}
	assert(bdev_io->internal.status != SPDK_BDEV_IO_STATUS_PENDING);
	g_bdev_io_outstanding--;
	bdev_io->bdev->internal.io_outstanding--;
	if (g_bdev_io_cache_count < SPDK_BDEV_IO_CACHE_SIZE) {
		STAILQ_INSERT_HEAD(&g_bdev_io_cache, bdev_io, internal.cache_link);
		g_bdev_io_cache_count++;
	} else {
		free(bdev_io);
	}
}

void
spdk_bdev_io_get_iovec(struct spdk_bdev_io *bdev_io, struct iovec **iovp, int *iovcntp)
{
	if (iovp != NULL) {
		*iovp = bdev_io->u.bdev.iovs;
	}
	if (iovcntp != NULL) {
		*iovcntp = bdev_io->u.bdev.iovcnt;
	}
}

void
spdk_bdev_io_get_nvme_status(const struct spdk_bdev_io *bdev_io, uint32_t *cdw0, int *sct,
			     int *sc)
{
	int type = SPDK_NVME_SCT_GENERIC, code;

	switch (bdev_io->internal.status) {
	case SPDK_BDEV_IO_STATUS_SUCCESS:
		code = SPDK_NVME_SC_SUCCESS;
		break;
	case SPDK_BDEV_IO_STATUS_NVME_ERROR:
		/* The module completed with an NVMe status: hand it back unchanged. */
		type = bdev_io->internal.nvme_sct;
		code = bdev_io->internal.nvme_sc;
		break;
	case SPDK_BDEV_IO_STATUS_ABORTED:
		code = SPDK_NVME_SC_ABORTED_BY_REQUEST;
		break;
	default:
		/* Any other failure reads as a generic device error to the NVMe host. */
		code = SPDK_NVME_SC_INTERNAL_DEVICE_ERROR;
		break;
	}
	*sct = type;
	*sc = code;
	if (cdw0 != NULL) {
		*cdw0 = bdev_io->internal.nvme_cdw0;
	}
}

static void
bdev_io_complete(void *ctx)
{
	struct spdk_bdev_io *bdev_io = ctx;

	bdev_io->internal.cb(bdev_io, bdev_io->internal.status == SPDK_BDEV_IO_STATUS_SUCCESS,
			     bdev_io->internal.caller_ctx);
}

void
spdk_bdev_io_complete(struct spdk_bdev_io *bdev_io, enum spdk_bdev_io_status status)
{
	bdev_io->internal.status = (int8_t)status;
	if (bdev_io->internal.in_submit_request && bdev_io->internal.thread != NULL) {
		spdk_thread_send_msg(bdev_io->internal.thread, bdev_io_complete, bdev_io);
		return;
	}
	bdev_io_complete(bdev_io);
}

void
spdk_bdev_io_complete_nvme_status(struct spdk_bdev_io *bdev_io, uint32_t cdw0, int sct, int sc)
{
	bdev_io->internal.nvme_cdw0 = cdw0;
	bdev_io->internal.nvme_sct = sct;
	bdev_io->internal.nvme_sc = sc;
	spdk_bdev_io_complete(bdev_io, (sct == SPDK_NVME_SCT_GENERIC && sc == SPDK_NVME_SC_SUCCESS) ?
			      SPDK_BDEV_IO_STATUS_SUCCESS : SPDK_BDEV_IO_STATUS_NVME_ERROR);
}
