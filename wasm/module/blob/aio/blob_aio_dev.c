/* AIO-like spdk_bs_dev over a host block device (see blob_aio.h). Each command becomes one
 * submission on the disk's ring; bdev_aio_group_poll's twin reaps completions and calls the
 * blobstore back, so completions are asynchronous exactly as with Linux AIO. */
#include "blob_aio.h"

#include <fcntl.h>

#include "host_blk.h"
#include "spdk/log.h"
#include "spdk/queue.h"
#include "spdk/thread.h"
#include "spdk/util.h"
#include "spdk_internal/trace_host.h"

#define BLOB_AIO_RING_ENTRIES	128
#define BLOB_AIO_REAP_BATCH	32

struct blob_aio_dev {
	struct spdk_bs_dev	bs_dev;
	struct blob_aio_disk	*disk;
};

struct blob_aio_task {
	struct blob_aio_disk	*disk;
	spdk_bs_dev_cpl		cb_fn;
	struct spdk_io_channel	*channel;
	void			*cb_arg;
	int			op;
	uint32_t		len;
	bool			emulated_zeroes;
	void			*bounce;	/* zeroed payload of an emulated WRITE_ZEROES */
	int			rc;		/* for completions that never reach the host */
	uint64_t		offset;		/* bytes, kept for a resubmission */
	void			*buf;
	TAILQ_ENTRY(blob_aio_task)	link;	/* on the disk's retry queue */
};

static struct blob_aio_disk *
aio_disk(struct spdk_bs_dev *dev)
{
	return ((struct blob_aio_dev *)dev)->disk;
}

static int aio_submit_now(struct blob_aio_task *task);

/* The ring was full (-EAGAIN): upstream's bdev layer queues the I/O as NOMEM and retries once
 * completions free room; here the disk keeps a FIFO that the poller drains first. */
static int
aio_retry_queued(struct blob_aio_disk *disk)
{
	struct blob_aio_task *task;
	int n = 0;

	while ((task = TAILQ_FIRST(&disk->retry)) != NULL) {
		TAILQ_REMOVE(&disk->retry, task, link);
		if (aio_submit_now(task) == -EAGAIN) {
			TAILQ_INSERT_HEAD(&disk->retry, task, link);
			break;
		}
		n++;
	}
	return n;
}

static int
bdev_aio_group_poll(void *arg)
{
	struct blob_aio_disk *disk = arg;
	struct host_blk_cqe cqes[BLOB_AIO_REAP_BATCH];
	struct blob_aio_task *task;
	int n, i, rc;

	n = blk_ring_reap(disk->ring, cqes, BLOB_AIO_REAP_BATCH);
	if (n <= 0) {
		return aio_retry_queued(disk) > 0 ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
	}
	for (i = 0; i < n; i++) {
		task = (struct blob_aio_task *)(uintptr_t)cqes[i].user_data;
		rc = 0;
		if (cqes[i].res < 0) {
			rc = cqes[i].res;
		} else if ((task->op == HOST_BLK_OP_READ || task->op == HOST_BLK_OP_WRITE) &&
			   (uint32_t)cqes[i].res != task->len) {
			rc = -EIO;	/* a short transfer is an error for a block device */
		}
		if (rc == 0) {
			switch (task->op) {
			case HOST_BLK_OP_READ:
				disk->read_bytes += task->len;
				break;
			case HOST_BLK_OP_WRITE:
				disk->write_bytes += task->len;
				if (task->emulated_zeroes) {
					disk->write_zeroes_bytes += task->len;
				}
				break;
			case HOST_BLK_OP_WRITE_ZEROES:
				disk->write_zeroes_bytes += task->len;
				break;
			case HOST_BLK_OP_DISCARD:
				disk->unmap_bytes += task->len;
				break;
			default:
				break;
			}
		} else {
			disk->errors++;
			SPDK_ERRLOG("%s: op %d of %u bytes failed: %d\n", disk->filename, task->op,
				    task->len, rc);
		}
		disk->io_inflight--;
		task->cb_fn(task->channel, task->cb_arg, rc);
		free(task->bounce);
		free(task);
	}
	aio_retry_queued(disk);
	return SPDK_POLLER_BUSY;
}

static void
aio_task_complete_msg(void *arg)
{
	struct blob_aio_task *task = arg;

	task->cb_fn(task->channel, task->cb_arg, task->rc);
	free(task->bounce);
	free(task);
}

/* Completes without the host, still asynchronously (from a message), as blob_bdev does for an
 * unsupported unmap. */
static void
aio_task_complete_now(struct blob_aio_task *task, int rc)
{
	task->rc = rc;
	spdk_thread_send_msg(spdk_get_thread(), aio_task_complete_msg, task);
}

/* Bytes of lba_count blocks; UINT64_MAX (refused by aio_task_new) when that overflows. */
static uint64_t
aio_len(const struct blob_aio_disk *disk, uint64_t lba_count)
{
	uint64_t len;

	return spdk_u64_mul_ok(lba_count, disk->blocklen, &len) ? len : UINT64_MAX;
}

static struct blob_aio_task *
aio_task_new(struct blob_aio_disk *disk, int op, uint64_t len, struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_aio_task *task;

	if (len > UINT32_MAX) {
		cb_args->cb_fn(cb_args->channel, cb_args->cb_arg, -EINVAL);
		return NULL;
	}
	task = calloc(1, sizeof(*task));
	if (task == NULL) {
		cb_args->cb_fn(cb_args->channel, cb_args->cb_arg, -ENOMEM);
		return NULL;
	}
	task->disk = disk;
	task->cb_fn = cb_args->cb_fn;
	task->channel = cb_args->channel;
	task->cb_arg = cb_args->cb_arg;
	task->op = op;
	task->len = (uint32_t)len;
	return task;
}

/* 0, -EAGAIN when the ring is full (the task stays with the caller), or another error (the
 * task has been completed with it). */
static int
aio_submit_now(struct blob_aio_task *task)
{
	struct blob_aio_disk *disk = task->disk;
	struct blk_sqe sqe = {
		.fd = disk->fd,
		.op = task->op,
		.offset = task->offset,
		.len = task->len,
		.buf = task->buf,
		.user_data = (uint32_t)(uintptr_t)task,
	};

	if (blk_ring_submit(disk->ring, &sqe) < 0) {
		if (errno == EAGAIN) {
			return -EAGAIN;
		}
		aio_task_complete_now(task, -errno);
		return -errno;
	}
	disk->io_inflight++;
	return 0;
}

static void
aio_submit(struct blob_aio_task *task, uint64_t lba, void *buf)
{
	struct blob_aio_disk *disk = task->disk;

	task->buf = buf;
	/* Compared without forming lba * blocklen + len, which could wrap. */
	if (lba > disk->size / disk->blocklen ||
	    task->len > disk->size - lba * disk->blocklen) {
		SPDK_ERRLOG("%s: lba %" PRIu64 " + %u bytes beyond %" PRIu64 " bytes\n", disk->filename,
			    lba, task->len, disk->size);
		aio_task_complete_now(task, -EINVAL);
		return;
	}
	task->offset = lba * disk->blocklen;
	if (!TAILQ_EMPTY(&disk->retry) || aio_submit_now(task) == -EAGAIN) {
		/* Keep submission order: nothing overtakes a queued task. */
		TAILQ_INSERT_TAIL(&disk->retry, task, link);
		disk->io_queued++;
	}
}

static void
bdev_aio_readv(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, void *payload,
	       uint64_t lba, uint32_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_aio_disk *disk = aio_disk(dev);
	struct blob_aio_task *task = aio_task_new(disk, HOST_BLK_OP_READ,
				     aio_len(disk, lba_count), cb_args);

	(void)channel;
	if (task != NULL) {
		aio_submit(task, lba, payload);
	}
}

static void
bdev_aio_writev(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, void *payload,
		uint64_t lba, uint32_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_aio_disk *disk = aio_disk(dev);
	struct blob_aio_task *task = aio_task_new(disk, HOST_BLK_OP_WRITE,
				     aio_len(disk, lba_count), cb_args);

	(void)channel;
	if (task != NULL) {
		aio_submit(task, lba, payload);
	}
}

static void
bdev_aio_write_zeroes(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, uint64_t lba,
		      uint64_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_aio_disk *disk = aio_disk(dev);
	struct blob_aio_task *task;

	(void)channel;
	if (disk->fallocate) {
		task = aio_task_new(disk, HOST_BLK_OP_WRITE_ZEROES, aio_len(disk, lba_count), cb_args);
		if (task != NULL) {
			aio_submit(task, lba, NULL);
		}
		return;
	}
	/* No native support: the bdev layer writes zeroes from a buffer instead. */
	task = aio_task_new(disk, HOST_BLK_OP_WRITE, aio_len(disk, lba_count), cb_args);
	if (task == NULL) {
		return;
	}
	task->emulated_zeroes = true;
	task->bounce = calloc(1, task->len ? task->len : 1);
	if (task->bounce == NULL) {
		aio_task_complete_now(task, -ENOMEM);
		return;
	}
	aio_submit(task, lba, task->bounce);
}

static void
bdev_aio_unmap(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, uint64_t lba,
	       uint64_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_aio_disk *disk = aio_disk(dev);
	struct blob_aio_task *task = aio_task_new(disk, HOST_BLK_OP_DISCARD,
				     aio_len(disk, lba_count), cb_args);

	(void)channel;
	if (task == NULL) {
		return;
	}
	if (!disk->fallocate) {
		/* blob_bdev.c: a base bdev without UNMAP completes the request with success. */
		disk->unmap_ignored_bytes += task->len;
		SPDK_WASM_TRACE("blob_aio_unmap_ignored", (uint32_t)lba, (uint32_t)lba_count, 0, 0);
		aio_task_complete_now(task, 0);
		return;
	}
	aio_submit(task, lba, NULL);
}

static void
bdev_aio_flush(struct spdk_bs_dev *dev, struct spdk_io_channel *channel,
	       struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_aio_disk *disk = aio_disk(dev);
	struct blob_aio_task *task = aio_task_new(disk, HOST_BLK_OP_FLUSH, 0, cb_args);

	(void)channel;
	if (task != NULL) {
		aio_submit(task, 0, NULL);
	}
}

static bool
bdev_aio_translate_lba(struct spdk_bs_dev *dev, uint64_t lba, uint64_t *base_lba)
{
	(void)dev;
	*base_lba = lba;
	return true;
}

static struct spdk_io_channel *
bdev_aio_create_channel(struct spdk_bs_dev *dev)
{
	/* Any non-NULL cookie: completions are reaped per disk, not per channel. */
	return (struct spdk_io_channel *)dev;
}

static void
bdev_aio_destroy_channel(struct spdk_bs_dev *dev, struct spdk_io_channel *channel)
{
	(void)dev; (void)channel;
}

static void
bdev_aio_destroy(struct spdk_bs_dev *dev)
{
	free(dev);
}

struct blob_aio_disk *
blob_aio_disk_open(const char *path, bool fallocate, int *rc)
{
	struct blob_aio_disk *disk = calloc(1, sizeof(*disk));

	*rc = 0;
	if (disk == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	disk->fd = -1;
	disk->ring = -1;
	disk->filename = strdup(path);
	if (disk->filename == NULL) {
		*rc = -ENOMEM;
		goto fail;
	}
	disk->fd = blk_open(path, O_RDWR | O_DIRECT);
	if (disk->fd < 0) {
		*rc = -errno;
		SPDK_ERRLOG("open() failed (file:%s), errno %d\n", path, errno);
		goto fail;
	}
	if (blk_get_geometry(disk->fd, &disk->blocklen, &disk->size) < 0) {
		*rc = -errno;
		goto fail;
	}
	if (disk->blocklen == 0 || disk->blocklen > 4096 || 4096 % disk->blocklen != 0) {
		SPDK_ERRLOG("%s: block size %u is not a divisor of 4096\n", path, disk->blocklen);
		*rc = -EINVAL;
		goto fail;
	}
	disk->ring = blk_ring_setup(BLOB_AIO_RING_ENTRIES);
	if (disk->ring < 0) {
		*rc = -errno;
		goto fail;
	}
	disk->fallocate = fallocate;
	TAILQ_INIT(&disk->retry);
	disk->poller = SPDK_POLLER_REGISTER(bdev_aio_group_poll, disk, 0);
	if (disk->poller == NULL) {
		*rc = -ENOMEM;
		goto fail;
	}
	return disk;
fail:
	if (disk->ring >= 0) {
		blk_ring_teardown(disk->ring);
	}
	if (disk->fd >= 0) {
		blk_close(disk->fd);
	}
	free(disk->filename);
	free(disk);
	return NULL;
}

int
blob_aio_disk_close(struct blob_aio_disk *disk)
{
	if (disk->io_inflight != 0 || !TAILQ_EMPTY(&disk->retry)) {
		return -EBUSY;
	}
	spdk_poller_unregister(&disk->poller);
	blk_ring_teardown(disk->ring);
	blk_close(disk->fd);
	free(disk->filename);
	free(disk);
	return 0;
}

struct spdk_bs_dev *
blob_aio_dev_create(struct blob_aio_disk *disk)
{
	struct blob_aio_dev *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		return NULL;
	}
	d->disk = disk;
	d->bs_dev.create_channel = bdev_aio_create_channel;
	d->bs_dev.destroy_channel = bdev_aio_destroy_channel;
	d->bs_dev.destroy = bdev_aio_destroy;
	d->bs_dev.read = bdev_aio_readv;
	d->bs_dev.write = bdev_aio_writev;
	d->bs_dev.write_zeroes = bdev_aio_write_zeroes;
	d->bs_dev.unmap = bdev_aio_unmap;
	d->bs_dev.flush = bdev_aio_flush;
	d->bs_dev.copy = NULL;
	d->bs_dev.translate_lba = bdev_aio_translate_lba;
	d->bs_dev.blockcnt = disk->size / disk->blocklen;
	d->bs_dev.blocklen = disk->blocklen;
	return &d->bs_dev;
}
