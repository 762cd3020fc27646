/* In-memory spdk_bs_dev (see spdk/blob_mem.h). Every command completes from a message on the
 * submitting SPDK thread, so completions are asynchronous as on a real device. */
#include "spdk/blob_mem.h"
#include "spdk/log.h"
#include "spdk/thread.h"
#include "spdk/util.h"
#include "spdk_internal/trace_host.h"

struct blob_mem_dev {
	struct spdk_bs_dev	bs_dev;
	struct blob_mem_disk	*disk;
};

struct blob_mem_cpl {
	spdk_bs_dev_cpl		cb_fn;
	struct spdk_io_channel	*channel;
	void			*cb_arg;
	int			rc;
};

struct blob_mem_disk *
blob_mem_disk_create(uint64_t size, uint32_t blocklen, bool unmap_zeroes)
{
	struct blob_mem_disk *disk;

	/* The whole disk is one allocation: a size past size_t would be truncated by calloc. */
	if (blocklen == 0 || size % blocklen != 0 || size > SIZE_MAX) {
		return NULL;
	}
	disk = calloc(1, sizeof(*disk));
	if (disk == NULL) {
		return NULL;
	}
	disk->buf = calloc(1, size ? (size_t)size : 1);
	if (disk->buf == NULL) {
		free(disk);
		return NULL;
	}
	disk->size = size;
	disk->blocklen = blocklen;
	disk->unmap_zeroes = unmap_zeroes;
	return disk;
}

void
blob_mem_disk_free(struct blob_mem_disk *disk)
{
	free(disk->buf);
	free(disk);
}

void
blob_mem_disk_set_power_failure(struct blob_mem_disk *disk,
				const struct spdk_power_failure_thresholds *thresholds)
{
	memset(&disk->counters, 0, sizeof(disk->counters));
	disk->thresholds = *thresholds;
	disk->power_failure_rc = 0;
}

static struct blob_mem_disk *
mem_disk(struct spdk_bs_dev *dev)
{
	return ((struct blob_mem_dev *)dev)->disk;
}

static void
mem_dev_complete_msg(void *arg)
{
	struct blob_mem_cpl *c = arg;

	c->cb_fn(c->channel, c->cb_arg, c->rc);
	free(c);
}

static void
mem_dev_complete(struct blob_mem_disk *disk, struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_mem_cpl *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		cb_args->cb_fn(cb_args->channel, cb_args->cb_arg, -ENOMEM);
		return;
	}
	c->cb_fn = cb_args->cb_fn;
	c->channel = cb_args->channel;
	c->cb_arg = cb_args->cb_arg;
	c->rc = disk->power_failure_rc;
	spdk_thread_send_msg(spdk_get_thread(), mem_dev_complete_msg, c);
}

/* Counts the op; false once its threshold (or the general one) has been reached. */
static bool
mem_dev_power_ok(struct blob_mem_disk *disk, uint64_t *counter, uint64_t threshold,
		 enum blob_mem_cmd kind)
{
	struct spdk_power_failure_thresholds *t = &disk->thresholds;

	if (threshold != 0) {
		(*counter)++;
	}
	if (t->general_threshold != 0) {
		if (disk->counters.general_counter < sizeof(disk->cmd_log)) {
			disk->cmd_log[disk->counters.general_counter] = (uint8_t)kind;
		}
		disk->counters.general_counter++;
	}
	if ((threshold == 0 || *counter < threshold) &&
	    (t->general_threshold == 0 || disk->counters.general_counter < t->general_threshold) &&
	    disk->power_failure_rc == 0) {
		return true;
	}
	if (disk->power_failure_rc == 0) {
		SPDK_WASM_TRACE("blob_mem_power_failure", (uint32_t)disk->write_ops, 0, 0, 0);
	}
	disk->power_failure_rc = -EIO;
	return false;
}

static bool
mem_dev_range_ok(struct blob_mem_disk *disk, uint64_t lba, uint64_t count)
{
	uint64_t bl = disk->blocklen;

	if (lba > disk->size / bl || count > disk->size / bl - lba) {
		SPDK_ERRLOG("mem dev: lba %" PRIu64 "+%" PRIu64 " beyond %" PRIu64 " blocks\n", lba, count,
			    disk->size / bl);
		return false;
	}
	return true;
}

/* mem_dev_range_ok, failing the command with -EINVAL when it is not. */
static bool
mem_dev_check_range(struct blob_mem_disk *disk, uint64_t lba, uint64_t count,
		    struct spdk_bs_dev_cb_args *cb_args)
{
	if (!mem_dev_range_ok(disk, lba, count)) {
		cb_args->cb_fn(cb_args->channel, cb_args->cb_arg, -EINVAL);
		return false;
	}
	return true;
}

static void
mem_dev_read(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, void *payload,
	     uint64_t lba, uint32_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_mem_disk *disk = mem_disk(dev);

	(void)channel;
	if (!mem_dev_check_range(disk, lba, lba_count, cb_args)) {
		return;
	}
	if (mem_dev_power_ok(disk, &disk->counters.read_counter, disk->thresholds.read_threshold,
			     BLOB_MEM_CMD_READ)) {
		memcpy(payload, disk->buf + lba * disk->blocklen, (size_t)lba_count * disk->blocklen);
		disk->read_bytes += (uint64_t)lba_count * disk->blocklen;
	}
	mem_dev_complete(disk, cb_args);
}

static void
mem_dev_write(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, void *payload,
	      uint64_t lba, uint32_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_mem_disk *disk = mem_disk(dev);

	(void)channel;
	if (!mem_dev_check_range(disk, lba, lba_count, cb_args)) {
		return;
	}
	if (mem_dev_power_ok(disk, &disk->counters.write_counter, disk->thresholds.write_threshold,
			     BLOB_MEM_CMD_WRITE)) {
		memcpy(disk->buf + lba * disk->blocklen, payload, (size_t)lba_count * disk->blocklen);
		disk->write_bytes += (uint64_t)lba_count * disk->blocklen;
		disk->write_ops++;
	}
	mem_dev_complete(disk, cb_args);
}

static void
mem_dev_write_zeroes(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, uint64_t lba,
		     uint64_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_mem_disk *disk = mem_disk(dev);

	(void)channel;
	if (!mem_dev_check_range(disk, lba, lba_count, cb_args)) {
		return;
	}
	if (mem_dev_power_ok(disk, &disk->counters.write_zero_counter,
			     disk->thresholds.write_zero_threshold, BLOB_MEM_CMD_WRITE_ZEROES)) {
		memset(disk->buf + lba * disk->blocklen, 0, (size_t)(lba_count * disk->blocklen));
		disk->write_bytes += lba_count * disk->blocklen;
		disk->write_zeroes_bytes += lba_count * disk->blocklen;
		disk->write_ops++;
	}
	mem_dev_complete(disk, cb_args);
}

static void
mem_dev_unmap(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, uint64_t lba,
	      uint64_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_mem_disk *disk = mem_disk(dev);

	(void)channel;
	if (!mem_dev_check_range(disk, lba, lba_count, cb_args)) {
		return;
	}
	if (mem_dev_power_ok(disk, &disk->counters.unmap_counter, disk->thresholds.unmap_threshold,
			     BLOB_MEM_CMD_UNMAP)) {
		/* Without unmap support the command succeeds and changes nothing (blob_bdev.c). */
		if (disk->unmap_zeroes) {
			memset(disk->buf + lba * disk->blocklen, 0, (size_t)(lba_count * disk->blocklen));
		}
		disk->unmap_bytes += lba_count * disk->blocklen;
		disk->write_ops++;
	}
	mem_dev_complete(disk, cb_args);
}

static void
mem_dev_flush(struct spdk_bs_dev *dev, struct spdk_io_channel *channel,
	      struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_mem_disk *disk = mem_disk(dev);

	(void)channel;
	mem_dev_power_ok(disk, &disk->counters.flush_counter, disk->thresholds.flush_threshold,
			 BLOB_MEM_CMD_FLUSH);
	mem_dev_complete(disk, cb_args);
}

static void
mem_dev_copy(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, uint64_t dst_lba,
	     uint64_t src_lba, uint64_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	struct blob_mem_disk *disk = mem_disk(dev);

	(void)channel;
	if (!mem_dev_range_ok(disk, dst_lba, lba_count) || !mem_dev_range_ok(disk, src_lba, lba_count)) {
		cb_args->cb_fn(cb_args->channel, cb_args->cb_arg, -EINVAL);
		return;
	}
	if (mem_dev_power_ok(disk, &disk->counters.write_counter, disk->thresholds.write_threshold,
			     BLOB_MEM_CMD_COPY)) {
		memmove(disk->buf + dst_lba * disk->blocklen, disk->buf + src_lba * disk->blocklen,
			(size_t)(lba_count * disk->blocklen));
		disk->copy_bytes += lba_count * disk->blocklen;
		disk->write_ops++;
	}
	mem_dev_complete(disk, cb_args);
}

static bool
mem_dev_translate_lba(struct spdk_bs_dev *dev, uint64_t lba, uint64_t *base_lba)
{
	(void)dev;
	*base_lba = lba;
	return true;
}

static struct spdk_io_channel *
mem_dev_create_channel(struct spdk_bs_dev *dev)
{
	/* Any non-NULL cookie: the device has no per-channel state. */
	return (struct spdk_io_channel *)dev;
}

static void
mem_dev_destroy_channel(struct spdk_bs_dev *dev, struct spdk_io_channel *channel)
{
	(void)dev; (void)channel;
}

static void
mem_dev_destroy(struct spdk_bs_dev *dev)
{
	free(dev);
}

struct spdk_bs_dev *
blob_mem_dev_create(struct blob_mem_disk *disk)
{
	struct blob_mem_dev *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		return NULL;
	}
	d->disk = disk;
	d->bs_dev.create_channel = mem_dev_create_channel;
	d->bs_dev.destroy_channel = mem_dev_destroy_channel;
	d->bs_dev.destroy = mem_dev_destroy;
	d->bs_dev.read = mem_dev_read;
	d->bs_dev.write = mem_dev_write;
	d->bs_dev.write_zeroes = mem_dev_write_zeroes;
	d->bs_dev.unmap = mem_dev_unmap;
	d->bs_dev.flush = mem_dev_flush;
	d->bs_dev.copy = disk->copy_enabled ? mem_dev_copy : NULL;
	d->bs_dev.translate_lba = mem_dev_translate_lba;
	d->bs_dev.blockcnt = disk->size / disk->blocklen;
	d->bs_dev.blocklen = disk->blocklen;
	return &d->bs_dev;
}
