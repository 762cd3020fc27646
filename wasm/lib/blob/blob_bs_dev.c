/* Back devices of thin blobs (upstream lib/blob/zeroes.c and blob_bs_dev.c): the zeroes
 * device of a parentless thin blob, and the device that reads a parent snapshot blob. */
#include "spdk/log.h"
#include "spdk/thread.h"

#include "blobstore.h"

/* ---- zeroes device ---- */

static void
zeroes_destroy(struct spdk_bs_dev *dev)
{
	(void)dev;
}

static void
zeroes_read(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, void *payload,
	    uint64_t lba, uint32_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	(void)lba;
	memset(payload, 0, (size_t)dev->blocklen * lba_count);
	cb_args->cb_fn(channel, cb_args->cb_arg, 0);
}

static void
zeroes_write(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, void *payload,
	     uint64_t lba, uint32_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	(void)dev; (void)payload; (void)lba; (void)lba_count;
	cb_args->cb_fn(channel, cb_args->cb_arg, -EPERM);
}

static bool
zeroes_is_zeroes(struct spdk_bs_dev *dev, uint64_t lba, uint64_t lba_count)
{
	(void)dev; (void)lba; (void)lba_count;
	return true;
}

static struct spdk_bs_dev g_zeroes_bs_dev = {
	.blockcnt = UINT64_MAX,
	.blocklen = 512,
	.destroy = zeroes_destroy,
	.read = zeroes_read,
	.write = zeroes_write,
	.is_zeroes = zeroes_is_zeroes,
};

struct spdk_bs_dev *
bs_create_zeroes_dev(void)
{
	return &g_zeroes_bs_dev;
}

bool
bs_dev_is_zeroes_dev(struct spdk_bs_dev *dev)
{
	return dev == &g_zeroes_bs_dev;
}

/* ---- a parent blob as a read-only device; lba unit = the parent store's io_unit ---- */

struct spdk_blob_bs_dev {
	struct spdk_bs_dev	bs_dev;
	struct spdk_blob	*blob;
};

struct blob_bs_dev_read_ctx {
	struct spdk_bs_dev_cb_args	*cb_args;
	struct spdk_io_channel		*channel;
};

static void
blob_bs_dev_read_cpl(void *cb_arg, int bserrno)
{
	struct blob_bs_dev_read_ctx *ctx = cb_arg;

	ctx->cb_args->cb_fn(ctx->channel, ctx->cb_args->cb_arg, bserrno);
	free(ctx);
}

static void
blob_bs_dev_read(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, void *payload,
		 uint64_t lba, uint32_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	struct spdk_blob_bs_dev *b = (struct spdk_blob_bs_dev *)dev;
	uint64_t units = spdk_blob_get_num_io_units(b->blob), in = 0;
	struct blob_bs_dev_read_ctx *ctx;

	/* Bytes past the parent's end read as zeroes (the child grew after the snapshot). */
	if (lba < units) {
		in = spdk_min((uint64_t)lba_count, units - lba);
	}
	if (in < lba_count) {
		memset((uint8_t *)payload + in * dev->blocklen, 0, (lba_count - in) * dev->blocklen);
	}
	if (in == 0) {
		cb_args->cb_fn(channel, cb_args->cb_arg, 0);
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		cb_args->cb_fn(channel, cb_args->cb_arg, -ENOMEM);
		return;
	}
	ctx->cb_args = cb_args;
	ctx->channel = channel;
	spdk_blob_io_read(b->blob, b->blob->bs->md_channel, payload, lba, in, blob_bs_dev_read_cpl, ctx);
}

static void
blob_bs_dev_write(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, void *payload,
		  uint64_t lba, uint32_t lba_count, struct spdk_bs_dev_cb_args *cb_args)
{
	(void)dev; (void)payload; (void)lba; (void)lba_count;
	cb_args->cb_fn(channel, cb_args->cb_arg, -EPERM);
}

static bool
blob_bs_dev_is_zeroes(struct spdk_bs_dev *dev, uint64_t lba, uint64_t lba_count)
{
	struct spdk_blob_bs_dev *b = (struct spdk_blob_bs_dev *)dev;
	struct spdk_blob *blob = b->blob;
	uint64_t per = bs_io_units_per_cluster(blob), end = lba + lba_count, units;
	uint64_t cluster, next;

	units = spdk_blob_get_num_io_units(blob);
	while (lba < end) {
		if (lba >= units) {
			return true;
		}
		cluster = lba / per;
		next = spdk_min(end, (cluster + 1) * per);
		if (blob->active.clusters[cluster] != 0) {
			return false;
		}
		if (blob->back_bs_dev == NULL ||
		    !blob->back_bs_dev->is_zeroes(blob->back_bs_dev, lba, next - lba)) {
			return false;
		}
		lba = next;
	}
	return true;
}

static void
blob_bs_dev_close_cpl(void *cb_arg, int bserrno)
{
	(void)cb_arg;
	if (bserrno != 0) {
		SPDK_ERRLOG("closing the parent blob of a clone failed: %d\n", bserrno);
	}
}

static void
blob_bs_dev_destroy(struct spdk_bs_dev *dev)
{
	struct spdk_blob_bs_dev *b = (struct spdk_blob_bs_dev *)dev;

	spdk_blob_close(b->blob, blob_bs_dev_close_cpl, NULL);
	free(b);
}

/* Takes over one open reference of 'blob' (released when the device is destroyed). */
struct spdk_bs_dev *
bs_create_blob_bs_dev(struct spdk_blob *blob)
{
	struct spdk_blob_bs_dev *b = calloc(1, sizeof(*b));

	if (b == NULL) {
		return NULL;
	}
	b->blob = blob;
	b->bs_dev.blocklen = blob->bs->io_unit_size;
	b->bs_dev.blockcnt = spdk_blob_get_num_io_units(blob);
	b->bs_dev.destroy = blob_bs_dev_destroy;
	b->bs_dev.read = blob_bs_dev_read;
	b->bs_dev.write = blob_bs_dev_write;
	b->bs_dev.is_zeroes = blob_bs_dev_is_zeroes;
	return &b->bs_dev;
}
