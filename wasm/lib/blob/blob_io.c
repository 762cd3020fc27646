/* Blob data path (spec §2.5): per-cluster splitting, reads through the back device, cluster
 * allocation with copy-on-write (bs_allocate_and_copy_cluster), unmap that frees whole clusters
 * of parentless thin blobs, and I/O freezing. Upstream twin: the I/O half of blobstore.c. */
#include "spdk/log.h"
#include "spdk/thread.h"
#include "spdk_internal/trace_host.h"

#include "blobstore.h"

/* An allocation in progress (upstream struct spdk_blob_copy_cluster_ctx). */
struct spdk_blob_copy_cluster_ctx {
	struct spdk_blob		*blob;
	uint8_t				*buf;
	uint64_t			io_unit;
	uint64_t			cluster_num;	/* blob cluster index */
	uint32_t			new_cluster;	/* physical cluster */
	uint32_t			new_extent_page;
	spdk_bs_sequence_t		*seq;
	struct spdk_bs_channel		*channel;
	TAILQ_HEAD(, spdk_bs_request_set) requests;
	TAILQ_ENTRY(spdk_blob_copy_cluster_ctx) link;
};

static void blob_request_submit_op(struct spdk_blob *blob, struct spdk_io_channel *channel,
				   void *payload, uint64_t offset, uint64_t length,
				   spdk_blob_op_complete cb_fn, void *cb_arg,
				   enum spdk_blob_op_type op_type);

/* ---- freeze ---- */

void
blob_freeze_io(struct spdk_blob *blob)
{
	blob->frozen_refcnt++;
}

static void
blob_replay_queued(struct spdk_bs_channel *ch, struct spdk_blob *blob)
{
	struct spdk_bs_request_set *op, *tmp;
	TAILQ_HEAD(, spdk_bs_request_set) replay = TAILQ_HEAD_INITIALIZER(replay);

	TAILQ_FOREACH_SAFE(op, &ch->queued_io, link, tmp) {
		if (op->u.user_op.blob == blob) {
			TAILQ_REMOVE(&ch->queued_io, op, link);
			TAILQ_INSERT_TAIL(&replay, op, link);
		}
	}
	while ((op = TAILQ_FIRST(&replay)) != NULL) {
		TAILQ_REMOVE(&replay, op, link);
		bs_user_op_execute(op);
	}
}

/* Channels are tracked by the store only through their queued ops; the md channel and the
 * caller's channels both keep their own queue, so every channel that queued is replayed here. */
struct blob_frozen_channel {
	struct spdk_bs_channel			*ch;
	TAILQ_ENTRY(blob_frozen_channel)	link;
};
static TAILQ_HEAD(, blob_frozen_channel) g_frozen_channels = TAILQ_HEAD_INITIALIZER(g_frozen_channels);

static void
blob_note_frozen_channel(struct spdk_bs_channel *ch)
{
	struct blob_frozen_channel *f;

	TAILQ_FOREACH(f, &g_frozen_channels, link) {
		if (f->ch == ch) {
			return;
		}
	}
	f = calloc(1, sizeof(*f));
	if (f != NULL) {
		f->ch = ch;
		TAILQ_INSERT_TAIL(&g_frozen_channels, f, link);
	}
}

void
blob_unfreeze_io(struct spdk_blob *blob)
{
	struct blob_frozen_channel *f, *tmp;

	assert(blob->frozen_refcnt > 0);
	blob->frozen_refcnt--;
	if (blob->frozen_refcnt > 0) {
		return;
	}
	TAILQ_FOREACH_SAFE(f, &g_frozen_channels, link, tmp) {
		blob_replay_queued(f->ch, blob);
		if (TAILQ_EMPTY(&f->ch->queued_io)) {
			TAILQ_REMOVE(&g_frozen_channels, f, link);
			free(f);
		}
	}
}

/* ---- cluster insert / free on the md thread ---- */

struct blob_insert_ctx {
	struct spdk_blob_copy_cluster_ctx	*cctx;
	int					rc;
};

static void blob_allocate_and_copy_cluster_cpl(struct spdk_blob_copy_cluster_ctx *ctx, int bserrno);

static void
blob_insert_cluster_cpl(void *cb_arg, int bserrno)
{
	struct spdk_blob_copy_cluster_ctx *ctx = cb_arg;

	blob_allocate_and_copy_cluster_cpl(ctx, bserrno);
}

static void
blob_insert_cluster_msg(void *arg)
{
	struct spdk_blob_copy_cluster_ctx *ctx = arg;
	struct spdk_blob *blob = ctx->blob;
	struct spdk_blob_store *bs = blob->bs;
	uint32_t ep_idx = (uint32_t)(ctx->cluster_num / SPDK_EXTENTS_PER_EP);

	if (ctx->cluster_num >= blob->active.num_clusters ||
	    blob->active.clusters[ctx->cluster_num] != 0) {
		/* Lost a race (or the blob shrank): give the cluster back; not an error. */
		bs_release_cluster(bs, ctx->new_cluster);
		if (ctx->new_extent_page != 0) {
			bs_release_md_page(bs, ctx->new_extent_page);
		}
		blob_allocate_and_copy_cluster_cpl(ctx, 0);
		return;
	}
	blob->active.clusters[ctx->cluster_num] = bs_cluster_to_lba(bs, ctx->new_cluster);
	blob->num_allocated_clusters++;
	SPDK_WASM_TRACE("blob_insert_cluster", (uint32_t)blob->id, (uint32_t)ctx->cluster_num,
			ctx->new_cluster, (uint32_t)blob->num_allocated_clusters);
	if (!blob->use_extent_table) {
		blob->state = SPDK_BLOB_STATE_DIRTY;
		blob_persist(blob, blob_insert_cluster_cpl, ctx);
		return;
	}
	if (blob->active.extent_pages[ep_idx] == 0) {
		/* A new extent page: written by the persist, together with the root naming it. */
		blob->active.extent_pages[ep_idx] = ctx->new_extent_page;
		blob->state = SPDK_BLOB_STATE_DIRTY;
		blob_persist(blob, blob_insert_cluster_cpl, ctx);
		return;
	}
	if (ctx->new_extent_page != 0) {
		bs_release_md_page(bs, ctx->new_extent_page);
	}
	blob_write_extent_page(blob, ep_idx, blob_insert_cluster_cpl, ctx);
}

static void
blob_insert_cluster_on_md_thread(struct spdk_blob_copy_cluster_ctx *ctx)
{
	spdk_thread_send_msg(ctx->blob->bs->md_thread, blob_insert_cluster_msg, ctx);
}

/* ---- bs_allocate_and_copy_cluster ---- */

static void
blob_allocate_and_copy_cluster_cpl(struct spdk_blob_copy_cluster_ctx *ctx, int bserrno)
{
	struct spdk_bs_request_set *op;

	bs_sequence_finish(ctx->seq, bserrno);
	TAILQ_REMOVE(&ctx->channel->need_cluster_alloc, ctx, link);
	while ((op = TAILQ_FIRST(&ctx->requests)) != NULL) {
		TAILQ_REMOVE(&ctx->requests, op, link);
		if (bserrno == 0) {
			bs_user_op_execute(op);
		} else {
			bs_user_op_abort(op, bserrno);
		}
	}
	free(ctx->buf);
	free(ctx);
}

static void
blob_seq_noop(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	(void)seq; (void)cb_arg; (void)bserrno;
}

static void
blob_write_copy_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct spdk_blob_copy_cluster_ctx *ctx = cb_arg;

	(void)seq;
	if (bserrno != 0) {
		bs_release_cluster(ctx->blob->bs, ctx->new_cluster);
		if (ctx->new_extent_page != 0) {
			bs_release_md_page(ctx->blob->bs, ctx->new_extent_page);
		}
		blob_allocate_and_copy_cluster_cpl(ctx, bserrno);
		return;
	}
	blob_insert_cluster_on_md_thread(ctx);
}

static void
blob_write_copy(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct spdk_blob_copy_cluster_ctx *ctx = cb_arg;
	struct spdk_blob_store *bs = ctx->blob->bs;

	if (bserrno != 0) {
		blob_write_copy_cpl(seq, ctx, bserrno);
		return;
	}
	bs_sequence_write_dev(seq, ctx->buf, bs_cluster_to_lba(bs, ctx->new_cluster),
			      (uint32_t)bs_cluster_to_lba(bs, 1), blob_write_copy_cpl, ctx);
}

/* Back-device LBA of a blob io_unit (the back device may use another block size). */
static uint64_t
bs_io_unit_to_back_dev_lba(struct spdk_blob *blob, uint64_t io_unit)
{
	return io_unit * blob->bs->io_unit_size / blob->back_bs_dev->blocklen;
}

static uint64_t
bs_io_unit_to_back_dev_count(struct spdk_blob *blob, uint64_t count)
{
	return count * blob->bs->io_unit_size / blob->back_bs_dev->blocklen;
}

static bool
blob_back_range_is_zeroes(struct spdk_blob *blob, uint64_t cluster_start_io_unit)
{
	if (blob->back_bs_dev == NULL) {
		return true;
	}
	return blob->back_bs_dev->is_zeroes(blob->back_bs_dev,
					    bs_io_unit_to_back_dev_lba(blob, cluster_start_io_unit),
					    bs_io_unit_to_back_dev_count(blob, bs_io_units_per_cluster(blob)));
}

static void
bs_allocate_and_copy_cluster(struct spdk_blob *blob, struct spdk_io_channel *_ch,
			     uint64_t io_unit, spdk_bs_user_op_t *op)
{
	struct spdk_bs_cpl cpl = { .type = SPDK_BS_CPL_TYPE_NESTED_SEQUENCE };
	struct spdk_bs_channel *ch = bs_channel_get(_ch);
	struct spdk_blob_store *bs = blob->bs;
	struct spdk_blob_copy_cluster_ctx *ctx;
	uint64_t cluster_number = io_unit / bs_io_units_per_cluster(blob);
	uint64_t cluster_start = cluster_number * bs_io_units_per_cluster(blob);
	bool can_copy, is_zeroes;
	int rc;

	/* Another op of this channel is already allocating this cluster: wait behind it. */
	TAILQ_FOREACH(ctx, &ch->need_cluster_alloc, link) {
		if (ctx->blob == blob && ctx->cluster_num == cluster_number) {
			TAILQ_INSERT_TAIL(&ctx->requests, op, link);
			return;
		}
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		bs_user_op_abort(op, -ENOMEM);
		return;
	}
	ctx->blob = blob;
	ctx->io_unit = io_unit;
	ctx->cluster_num = cluster_number;
	ctx->channel = ch;
	TAILQ_INIT(&ctx->requests);

	is_zeroes = blob_back_range_is_zeroes(blob, cluster_start);
	can_copy = blob->parent_id != SPDK_BLOBID_INVALID && !is_zeroes;
	if (can_copy) {
		ctx->buf = malloc(bs->cluster_sz);
		if (ctx->buf == NULL) {
			free(ctx);
			bs_user_op_abort(op, -ENOMEM);
			return;
		}
	}
	rc = bs_claim_cluster(bs, &ctx->new_cluster);
	if (rc == 0 && blob->use_extent_table &&
	    blob->active.extent_pages[cluster_number / SPDK_EXTENTS_PER_EP] == 0) {
		rc = bs_claim_md_page(bs, &ctx->new_extent_page);
		if (rc != 0) {
			bs_release_cluster(bs, ctx->new_cluster);
		}
	}
	if (rc != 0) {
		SPDK_ERRLOG("blob 0x%" PRIx64 ": no free cluster for cluster %" PRIu64 " (%d)\n", blob->id,
			    cluster_number, rc);
		free(ctx->buf);
		free(ctx);
		bs_user_op_abort(op, rc == -ENOMEM ? -ENOSPC : rc);
		return;
	}
	cpl.u.nested_seq.cb_fn = blob_seq_noop;
	ctx->seq = bs_sequence_start(_ch, &cpl);
	if (ctx->seq == NULL) {
		bs_release_cluster(bs, ctx->new_cluster);
		free(ctx->buf);
		free(ctx);
		bs_user_op_abort(op, -ENOMEM);
		return;
	}
	TAILQ_INSERT_TAIL(&ctx->requests, op, link);
	TAILQ_INSERT_TAIL(&ch->need_cluster_alloc, ctx, link);
	SPDK_WASM_TRACE("bs_allocate_and_copy_cluster", (uint32_t)blob->id, (uint32_t)cluster_number,
			ctx->new_cluster, can_copy);

	if (can_copy) {
		/* Copy-on-write: the whole cluster comes from the back device first. */
		bs_sequence_read_bs_dev(ctx->seq, blob->back_bs_dev, ctx->buf,
					bs_io_unit_to_back_dev_lba(blob, cluster_start),
					(uint32_t)bs_io_unit_to_back_dev_count(blob, bs_io_units_per_cluster(blob)),
					blob_write_copy, ctx);
	} else {
		/* Nothing to copy: the cluster is inserted holding whatever the device has there. */
		blob_insert_cluster_on_md_thread(ctx);
	}
}

/* ---- freeing a whole cluster of a parentless thin blob by unmap ---- */

struct blob_free_cluster_ctx {
	struct spdk_blob	*blob;
	uint64_t		cluster_num;
	uint32_t		cluster;
	spdk_blob_op_complete	cb_fn;
	void			*cb_arg;
};

static void
blob_free_cluster_cpl(void *cb_arg, int bserrno)
{
	struct blob_free_cluster_ctx *ctx = cb_arg;

	if (bserrno == 0) {
		bs_release_cluster(ctx->blob->bs, ctx->cluster);
	}
	ctx->cb_fn(ctx->cb_arg, bserrno);
	free(ctx);
}

static void
blob_free_cluster_msg(void *arg)
{
	struct blob_free_cluster_ctx *ctx = arg;
	struct spdk_blob *blob = ctx->blob;
	uint32_t ep_idx = (uint32_t)(ctx->cluster_num / SPDK_EXTENTS_PER_EP);

	if (ctx->cluster_num >= blob->active.num_clusters || blob->active.clusters[ctx->cluster_num] == 0) {
		ctx->cb_fn(ctx->cb_arg, 0);
		free(ctx);
		return;
	}
	ctx->cluster = bs_lba_to_cluster(blob->bs, blob->active.clusters[ctx->cluster_num]);
	blob->active.clusters[ctx->cluster_num] = 0;
	if (ctx->cluster_num < blob->clean.num_clusters) {
		blob->clean.clusters[ctx->cluster_num] = 0;
	}
	blob->num_allocated_clusters--;
	SPDK_WASM_TRACE("blob_free_cluster", (uint32_t)blob->id, (uint32_t)ctx->cluster_num, ctx->cluster,
			(uint32_t)blob->num_allocated_clusters);
	if (blob->use_extent_table && blob->active.extent_pages[ep_idx] != 0) {
		blob_write_extent_page(blob, ep_idx, blob_free_cluster_cpl, ctx);
	} else {
		blob->state = SPDK_BLOB_STATE_DIRTY;
		blob_persist(blob, blob_free_cluster_cpl, ctx);
	}
}

/* ---- single-cluster ops ---- */

struct blob_op_ctx {
	struct spdk_blob	*blob;
	uint64_t		cluster_num;
	spdk_blob_op_complete	cb_fn;
	void			*cb_arg;
};

static void
blob_unmap_then_free_cpl(void *cb_arg, int bserrno)
{
	struct blob_op_ctx *ctx = cb_arg;
	struct blob_free_cluster_ctx *fctx;

	if (bserrno != 0) {
		ctx->cb_fn(ctx->cb_arg, bserrno);
		free(ctx);
		return;
	}
	fctx = calloc(1, sizeof(*fctx));
	if (fctx == NULL) {
		ctx->cb_fn(ctx->cb_arg, -ENOMEM);
		free(ctx);
		return;
	}
	fctx->blob = ctx->blob;
	fctx->cluster_num = ctx->cluster_num;
	fctx->cb_fn = ctx->cb_fn;
	fctx->cb_arg = ctx->cb_arg;
	free(ctx);
	spdk_thread_send_msg(fctx->blob->bs->md_thread, blob_free_cluster_msg, fctx);
}

static void
blob_request_submit_op_single(struct spdk_io_channel *_ch, struct spdk_blob *blob, void *payload,
			      uint64_t offset, uint64_t length, spdk_blob_op_complete cb_fn,
			      void *cb_arg, enum spdk_blob_op_type op_type)
{
	struct spdk_bs_cpl cpl = { .type = SPDK_BS_CPL_TYPE_BLOB_BASIC };
	struct spdk_blob_store *bs = blob->bs;
	bool allocated = bs_io_unit_is_allocated(blob, offset);
	uint64_t lba, lba_count = length * bs->io_unit_size / bs->dev->blocklen;
	spdk_bs_batch_t *batch;
	spdk_bs_user_op_t *op;

	cpl.u.blob_basic.cb_fn = cb_fn;
	cpl.u.blob_basic.cb_arg = cb_arg;

	if (op_type != SPDK_BLOB_READ && !allocated &&
	    (op_type == SPDK_BLOB_WRITE || op_type == SPDK_BLOB_WRITE_ZEROES)) {
		op = bs_user_op_alloc(_ch, &cpl, op_type, blob, payload, offset, length);
		if (op == NULL) {
			cb_fn(cb_arg, -ENOMEM);
			return;
		}
		bs_allocate_and_copy_cluster(blob, _ch, offset, op);
		return;
	}
	if (length == 0) {
		cb_fn(cb_arg, 0);
		return;
	}
	if (op_type == SPDK_BLOB_UNMAP && !allocated) {
		/* Unmap of a hole changes nothing. */
		cb_fn(cb_arg, 0);
		return;
	}
	if (op_type == SPDK_BLOB_UNMAP && spdk_blob_is_thin_provisioned(blob) &&
	    blob->parent_id == SPDK_BLOBID_INVALID && blob_backed_by_zeroes(blob) &&
	    length == bs_io_units_per_cluster(blob) && offset % bs_io_units_per_cluster(blob) == 0) {
		struct blob_op_ctx *ctx = calloc(1, sizeof(*ctx));

		if (ctx == NULL) {
			cb_fn(cb_arg, -ENOMEM);
			return;
		}
		ctx->blob = blob;
		ctx->cluster_num = offset / bs_io_units_per_cluster(blob);
		ctx->cb_fn = cb_fn;
		ctx->cb_arg = cb_arg;
		cpl.u.blob_basic.cb_fn = blob_unmap_then_free_cpl;
		cpl.u.blob_basic.cb_arg = ctx;
	}
	batch = bs_batch_open(_ch, &cpl);
	if (batch == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	if (allocated) {
		lba = bs_blob_io_unit_to_lba(blob, offset);
		switch (op_type) {
		case SPDK_BLOB_READ:
			bs_batch_read_dev(batch, payload, lba, (uint32_t)lba_count);
			break;
		case SPDK_BLOB_WRITE:
			bs_batch_write_dev(batch, payload, lba, (uint32_t)lba_count);
			break;
		case SPDK_BLOB_UNMAP:
			bs_batch_unmap_dev(batch, lba, lba_count);
			break;
		case SPDK_BLOB_WRITE_ZEROES:
			bs_batch_write_zeroes_dev(batch, lba, lba_count);
			break;
		}
	} else {
		/* READ of a hole: the back device (zeroes, parent snapshot). A thick blob has no back
		 * device; a hole in one (a recovered torn resize) reads as zeroes, not through NULL. */
		if (blob->back_bs_dev == NULL) {
			blob->back_bs_dev = bs_create_zeroes_dev();
		}
		bs_batch_read_bs_dev(batch, blob->back_bs_dev, payload,
				     bs_io_unit_to_back_dev_lba(blob, offset),
				     (uint32_t)bs_io_unit_to_back_dev_count(blob, length));
	}
	bs_batch_close(batch);
}

/* ---- splitting across clusters ---- */

struct blob_split_ctx {
	struct spdk_blob	*blob;
	struct spdk_io_channel	*channel;
	uint8_t			*payload;
	uint64_t		offset;
	uint64_t		remaining;
	enum spdk_blob_op_type	op_type;
	spdk_blob_op_complete	cb_fn;
	void			*cb_arg;
};

static void blob_request_submit_op_split_next(void *cb_arg, int bserrno);

static void
blob_request_submit_op_split_next(void *cb_arg, int bserrno)
{
	struct blob_split_ctx *ctx = cb_arg;
	struct spdk_blob *blob = ctx->blob;
	uint64_t per = bs_io_units_per_cluster(blob), len;
	uint8_t *payload = ctx->payload;

	if (bserrno != 0 || ctx->remaining == 0) {
		ctx->cb_fn(ctx->cb_arg, bserrno);
		free(ctx);
		return;
	}
	len = spdk_min(ctx->remaining, per - ctx->offset % per);
	ctx->offset += len;
	ctx->remaining -= len;
	if (payload != NULL) {
		ctx->payload += len * blob->bs->io_unit_size;
	}
	blob_request_submit_op_single(ctx->channel, blob, payload, ctx->offset - len, len,
				      blob_request_submit_op_split_next, ctx, ctx->op_type);
}

static void
blob_request_submit_op(struct spdk_blob *blob, struct spdk_io_channel *channel, void *payload,
		       uint64_t offset, uint64_t length, spdk_blob_op_complete cb_fn, void *cb_arg,
		       enum spdk_blob_op_type op_type)
{
	struct spdk_bs_cpl cpl = { .type = SPDK_BS_CPL_TYPE_BLOB_BASIC };
	uint64_t per = bs_io_units_per_cluster(blob);
	struct blob_split_ctx *ctx;
	spdk_bs_user_op_t *op;

	if (blob->data_ro && op_type != SPDK_BLOB_READ) {
		cb_fn(cb_arg, -EPERM);
		return;
	}
	if (offset + length < offset || offset + length > spdk_blob_get_num_io_units(blob)) {
		cb_fn(cb_arg, -EINVAL);
		return;
	}
	if (length == 0) {
		cb_fn(cb_arg, 0);
		return;
	}
	if (blob->frozen_refcnt > 0) {
		cpl.u.blob_basic.cb_fn = cb_fn;
		cpl.u.blob_basic.cb_arg = cb_arg;
		op = bs_user_op_alloc(channel, &cpl, op_type, blob, payload, offset, length);
		if (op == NULL) {
			cb_fn(cb_arg, -ENOMEM);
			return;
		}
		TAILQ_INSERT_TAIL(&bs_channel_get(channel)->queued_io, op, link);
		blob_note_frozen_channel(bs_channel_get(channel));
		return;
	}
	if (offset / per == (offset + length - 1) / per) {
		blob_request_submit_op_single(channel, blob, payload, offset, length, cb_fn, cb_arg, op_type);
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	ctx->blob = blob;
	ctx->channel = channel;
	ctx->payload = payload;
	ctx->offset = offset;
	ctx->remaining = length;
	ctx->op_type = op_type;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	blob_request_submit_op_split_next(ctx, 0);
}

void
spdk_blob_io_read(struct spdk_blob *blob, struct spdk_io_channel *channel, void *payload,
		  uint64_t offset, uint64_t length, spdk_blob_op_complete cb_fn, void *cb_arg)
{
	blob_request_submit_op(blob, channel, payload, offset, length, cb_fn, cb_arg, SPDK_BLOB_READ);
}

void
spdk_blob_io_write(struct spdk_blob *blob, struct spdk_io_channel *channel, void *payload,
		   uint64_t offset, uint64_t length, spdk_blob_op_complete cb_fn, void *cb_arg)
{
	blob_request_submit_op(blob, channel, payload, offset, length, cb_fn, cb_arg, SPDK_BLOB_WRITE);
}

void
spdk_blob_io_unmap(struct spdk_blob *blob, struct spdk_io_channel *channel, uint64_t offset,
		   uint64_t length, spdk_blob_op_complete cb_fn, void *cb_arg)
{
	blob_request_submit_op(blob, channel, NULL, offset, length, cb_fn, cb_arg, SPDK_BLOB_UNMAP);
}

void
spdk_blob_io_write_zeroes(struct spdk_blob *blob, struct spdk_io_channel *channel, uint64_t offset,
			  uint64_t length, spdk_blob_op_complete cb_fn, void *cb_arg)
{
	blob_request_submit_op(blob, channel, NULL, offset, length, cb_fn, cb_arg,
			       SPDK_BLOB_WRITE_ZEROES);
}

/* A zero-length write that allocates (and fills from the back device) one cluster; used by
 * inflate and decouple ("touch"). */
void
blob_io_touch_cluster(struct spdk_blob *blob, struct spdk_io_channel *channel, uint64_t cluster,
		      spdk_blob_op_complete cb_fn, void *cb_arg)
{
	if (cluster >= blob->active.num_clusters || blob->active.clusters[cluster] != 0) {
		cb_fn(cb_arg, 0);
		return;
	}
	blob_request_submit_op_single(channel, blob, NULL, cluster * bs_io_units_per_cluster(blob), 0,
				      cb_fn, cb_arg, SPDK_BLOB_WRITE);
}
