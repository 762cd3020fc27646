/* Blobstore lifecycle: spdk_bs_init (layout of spec §1.4), spdk_bs_load (super block
 * validation, clean load from the masks or recovery by replaying every md page), unload
 * (masks + clean super), the super block writer, io channels and blob iteration. */
#include "spdk/log.h"
#include "spdk/thread.h"
#include "spdk_internal/trace_host.h"

#include "blobstore.h"

#define SPDK_BS_INITIAL_VERSION 1

void
spdk_bs_opts_init(struct spdk_bs_opts *opts, size_t opts_size)
{
	memset(opts, 0, opts_size);
	opts->cluster_sz = SPDK_BLOB_OPTS_CLUSTER_SZ;
	opts->num_md_pages = SPDK_BLOB_OPTS_NUM_MD_PAGES;
	opts->max_md_ops = SPDK_BLOB_OPTS_MAX_MD_OPS;
	opts->max_channel_ops = SPDK_BLOB_OPTS_DEFAULT_CHANNEL_OPS;
	opts->clear_method = BS_CLEAR_WITH_UNMAP;
	opts->opts_size = opts_size;
}

/* ---- channels ---- */

void
bs_channel_init(struct spdk_bs_channel *ch, struct spdk_blob_store *bs)
{
	ch->bs = bs;
	ch->dev = bs->dev;
	ch->dev_channel = bs->dev->create_channel ? bs->dev->create_channel(bs->dev) : NULL;
	TAILQ_INIT(&ch->need_cluster_alloc);
	TAILQ_INIT(&ch->queued_io);
}

void
bs_channel_fini(struct spdk_bs_channel *ch)
{
	if (ch->dev->destroy_channel) {
		ch->dev->destroy_channel(ch->dev, ch->dev_channel);
	}
}

struct spdk_io_channel *
spdk_bs_alloc_io_channel(struct spdk_blob_store *bs)
{
	struct spdk_bs_channel *ch = calloc(1, sizeof(*ch));

	if (ch == NULL) {
		return NULL;
	}
	bs_channel_init(ch, bs);
	return (struct spdk_io_channel *)ch;
}

void
spdk_bs_free_io_channel(struct spdk_io_channel *channel)
{
	struct spdk_bs_channel *ch = bs_channel_get(channel);

	bs_channel_fini(ch);
	free(ch);
}

/* ---- the store object ---- */

static struct spdk_blob_store *
bs_alloc(struct spdk_bs_dev *dev, const struct spdk_bs_opts *opts)
{
	struct spdk_blob_store *bs = calloc(1, sizeof(*bs));

	if (bs == NULL) {
		return NULL;
	}
	bs->dev = dev;
	bs->md_thread = spdk_get_thread();
	bs->cluster_sz = opts->cluster_sz;
	bs->io_unit_size = dev->blocklen;
	bs->super_blob = SPDK_BLOBID_INVALID;
	bs->bstype = opts->bstype;
	bs->max_channel_ops = opts->max_channel_ops;
	TAILQ_INIT(&bs->blobs);
	TAILQ_INIT(&bs->snapshots);
	bs->md_channel = spdk_bs_alloc_io_channel(bs);
	if (bs->md_channel == NULL) {
		free(bs);
		return NULL;
	}
	return bs;
}

static void
bs_free(struct spdk_blob_store *bs)
{
	spdk_bs_free_io_channel(bs->md_channel);
	bs_bit_array_free(&bs->used_md_pages);
	bs_bit_array_free(&bs->used_clusters);
	bs_bit_array_free(&bs->used_blobids);
	bs_bit_array_free(&bs->open_blobids);
	bs_snapshot_list_free(bs);
	free(bs);
}

static void
bs_set_geometry(struct spdk_blob_store *bs)
{
	uint32_t shift = 0;

	bs->total_clusters = bs->dev->blockcnt / (bs->cluster_sz / bs->dev->blocklen);
	bs->pages_per_cluster = bs->cluster_sz / SPDK_BS_PAGE_SIZE;
	while ((1ULL << shift) < bs->pages_per_cluster) {
		shift++;
	}
	bs->pages_per_cluster_shift = (uint8_t)shift;
}

static uint32_t
bs_mask_pages(uint64_t bits)
{
	return (uint32_t)((sizeof(struct spdk_bs_md_mask) + (bits + 7) / 8 + SPDK_BS_PAGE_SIZE - 1) /
			  SPDK_BS_PAGE_SIZE);
}

/* ---- super block ---- */

struct bs_super_ctx {
	struct spdk_bs_super_block	super;
	struct spdk_blob_store		*bs;
	bool				clean;
	spdk_bs_op_complete		cb_fn;
	void				*cb_arg;
};

static void
bs_write_super_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct bs_super_ctx *ctx = cb_arg;

	bs_sequence_finish(seq, bserrno);
	if (bserrno == 0) {
		ctx->bs->clean = ctx->clean;
	}
	ctx->cb_fn(ctx->cb_arg, bserrno);
	free(ctx);
}

static void
bs_seq_noop(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	(void)seq; (void)cb_arg; (void)bserrno;
}

static void
bs_fill_super(struct spdk_blob_store *bs, struct spdk_bs_super_block *super, bool clean)
{
	memset(super, 0, sizeof(*super));
	memcpy(super->signature, SPDK_BS_SUPER_BLOCK_SIG, sizeof(super->signature));
	super->version = SPDK_BS_VERSION;
	super->length = sizeof(*super);
	super->clean = clean ? 1 : 0;
	super->super_blob = bs->super_blob;
	super->cluster_size = bs->cluster_sz;
	super->used_page_mask_start = bs->used_page_mask_start;
	super->used_page_mask_len = bs->used_page_mask_len;
	super->used_cluster_mask_start = bs->used_cluster_mask_start;
	super->used_cluster_mask_len = bs->used_cluster_mask_len;
	super->md_start = (uint32_t)bs->md_start;
	super->md_len = bs->md_len;
	super->bstype = bs->bstype;
	super->used_blobid_mask_start = bs->used_blobid_mask_start;
	super->used_blobid_mask_len = bs->used_blobid_mask_len;
	super->size = bs->dev->blockcnt * bs->dev->blocklen;
	super->io_unit_size = bs->io_unit_size;
	super->crc = blob_md_page_calc_crc(super);
}

void
bs_write_super(struct spdk_blob_store *bs, bool clean, spdk_bs_op_complete cb_fn, void *cb_arg)
{
	struct spdk_bs_cpl cpl = { .type = SPDK_BS_CPL_TYPE_NESTED_SEQUENCE };
	struct bs_super_ctx *ctx = calloc(1, sizeof(*ctx));
	spdk_bs_sequence_t *seq;

	cpl.u.nested_seq.cb_fn = bs_seq_noop;
	if (ctx == NULL || (seq = bs_sequence_start(bs->md_channel, &cpl)) == NULL) {
		free(ctx);
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	ctx->bs = bs;
	ctx->clean = clean;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	bs_fill_super(bs, &ctx->super, clean);
	SPDK_WASM_TRACE("bs_write_super", clean, 0, 0, 0);
	bs_sequence_write_dev(seq, &ctx->super, 0, bs_byte_to_lba(bs, sizeof(ctx->super)),
			      bs_write_super_cpl, ctx);
}

void
bs_mark_dirty(struct spdk_blob_store *bs, spdk_bs_op_complete cb_fn, void *cb_arg)
{
	if (!bs->clean) {
		cb_fn(cb_arg, 0);
		return;
	}
	bs_write_super(bs, false, cb_fn, cb_arg);
}

void
spdk_bs_set_super(struct spdk_blob_store *bs, spdk_blob_id blobid, spdk_bs_op_complete cb_fn,
		  void *cb_arg)
{
	bs->super_blob = blobid;
	bs_write_super(bs, bs->clean, cb_fn, cb_arg);
}

void
spdk_bs_get_super(struct spdk_blob_store *bs, spdk_blob_op_with_id_complete cb_fn, void *cb_arg)
{
	if (bs->super_blob == SPDK_BLOBID_INVALID) {
		cb_fn(cb_arg, SPDK_BLOBID_INVALID, -ENOENT);
	} else {
		cb_fn(cb_arg, bs->super_blob, 0);
	}
}

/* ---- init ---- */

struct bs_init_ctx {
	struct spdk_blob_store		*bs;
	enum bs_clear_method		clear_method;
	uint64_t			num_md_lba;
	spdk_bs_op_with_handle_complete	cb_fn;
	void				*cb_arg;
};

static void
bs_init_super_cpl(void *cb_arg, int bserrno)
{
	struct bs_init_ctx *ctx = cb_arg;
	struct spdk_blob_store *bs = ctx->bs;

	SPDK_WASM_TRACE("spdk_bs_init", (uint32_t)-bserrno, bs->total_clusters, bs->md_len, 0);
	if (bserrno != 0) {
		struct spdk_bs_dev *dev = bs->dev;

		bs_free(bs);
		dev->destroy(dev);
		bs = NULL;
	}
	ctx->cb_fn(ctx->cb_arg, bs, bserrno);
	free(ctx);
}

static void
bs_init_clear_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct bs_init_ctx *ctx = cb_arg;

	bs_sequence_finish(seq, bserrno);
	if (bserrno != 0) {
		bs_init_super_cpl(ctx, bserrno);
		return;
	}
	bs_write_super(ctx->bs, false, bs_init_super_cpl, ctx);
}

void
spdk_bs_init(struct spdk_bs_dev *dev, struct spdk_bs_opts *o, spdk_bs_op_with_handle_complete cb_fn,
	     void *cb_arg)
{
	struct spdk_bs_cpl cpl = { .type = SPDK_BS_CPL_TYPE_NESTED_SEQUENCE };
	struct spdk_bs_opts opts;
	struct spdk_blob_store *bs;
	struct bs_init_ctx *ctx;
	spdk_bs_sequence_t *seq;
	spdk_bs_batch_t *batch;
	uint64_t num_md_pages, num_md_clusters, i, data_lba, dev_lba, dev_bytes;
	uint32_t reserved;

	if (o != NULL) {
		opts = *o;
	} else {
		spdk_bs_opts_init(&opts, sizeof(opts));
	}
	if (dev->blocklen == 0 || SPDK_BS_PAGE_SIZE % dev->blocklen != 0 ||
	    opts.cluster_sz < SPDK_BS_PAGE_SIZE || opts.cluster_sz % SPDK_BS_PAGE_SIZE != 0 ||
	    !spdk_u64_mul_ok(dev->blockcnt, dev->blocklen, &dev_bytes) ||
	    dev_bytes / opts.cluster_sz > UINT32_MAX) {
		/* Cluster numbers are 32-bit (the used-cluster map, extent entries). */
		SPDK_ERRLOG("unsupported geometry: %" PRIu64 " blocks of %u, cluster_sz %u (need a page "
			    "multiple and at most 2^32-1 clusters)\n", dev->blockcnt, dev->blocklen,
			    opts.cluster_sz);
		dev->destroy(dev);
		cb_fn(cb_arg, NULL, -EINVAL);
		return;
	}
	bs = bs_alloc(dev, &opts);
	ctx = calloc(1, sizeof(*ctx));
	if (bs == NULL || ctx == NULL) {
		free(ctx);
		if (bs) {
			bs_free(bs);
		}
		dev->destroy(dev);
		cb_fn(cb_arg, NULL, -ENOMEM);
		return;
	}
	bs_set_geometry(bs);
	num_md_pages = opts.num_md_pages == UINT32_MAX ? bs->total_clusters : opts.num_md_pages;
	bs->md_len = (uint32_t)num_md_pages;
	bs->used_page_mask_start = 1;
	bs->used_page_mask_len = bs_mask_pages(bs->md_len);
	bs->used_cluster_mask_start = bs->used_page_mask_start + bs->used_page_mask_len;
	bs->used_cluster_mask_len = bs_mask_pages(bs->total_clusters);
	/* Reserve room for the cluster mask of a store grown to md_len clusters. */
	reserved = spdk_max(bs->used_cluster_mask_len, bs_mask_pages(bs->md_len));
	bs->used_blobid_mask_start = bs->used_cluster_mask_start + reserved;
	bs->used_blobid_mask_len = bs_mask_pages(bs->md_len);
	bs->md_start = bs->used_blobid_mask_start + bs->used_blobid_mask_len;
	num_md_clusters = (bs->md_start + bs->md_len + bs->pages_per_cluster - 1) / bs->pages_per_cluster;
	if (bs->total_clusters == 0 || num_md_clusters >= bs->total_clusters) {
		SPDK_ERRLOG("device of %" PRIu64 " bytes too small: %" PRIu64 " clusters, metadata needs %"
			    PRIu64 "\n", dev->blockcnt * dev->blocklen, bs->total_clusters, num_md_clusters);
		bs_free(bs);
		free(ctx);
		dev->destroy(dev);
		cb_fn(cb_arg, NULL, -ENOSPC);
		return;
	}
	if (bs_bit_array_resize(&bs->used_md_pages, bs->md_len) ||
	    bs_bit_array_resize(&bs->used_blobids, bs->md_len) ||
	    bs_bit_array_resize(&bs->used_clusters, (uint32_t)bs->total_clusters)) {
		bs_free(bs);
		free(ctx);
		dev->destroy(dev);
		cb_fn(cb_arg, NULL, -ENOMEM);
		return;
	}
	for (i = 0; i < num_md_clusters; i++) {
		bs_bit_array_set(&bs->used_clusters, (uint32_t)i);
	}
	bs->num_free_clusters = bs->total_clusters - num_md_clusters;
	bs->total_data_clusters = bs->num_free_clusters;
	bs->clean = false;

	ctx->bs = bs;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	cpl.u.nested_seq.cb_fn = bs_seq_noop;
	seq = bs_sequence_start(bs->md_channel, &cpl);
	if (seq == NULL) {
		bs_init_super_cpl(ctx, -ENOMEM);
		return;
	}
	/* Zero the metadata area, clear the data area per clear_method, then the super block. */
	batch = bs_sequence_to_batch(seq, bs_init_clear_cpl, ctx);
	bs_batch_write_zeroes_dev(batch, 0, bs_page_to_lba(bs, bs->md_start + bs->md_len));
	data_lba = bs_cluster_to_lba(bs, (uint32_t)num_md_clusters);
	dev_lba = bs_cluster_to_lba(bs, (uint32_t)bs->total_clusters);
	if (dev_lba > data_lba) {
		if (opts.clear_method == BS_CLEAR_WITH_UNMAP) {
			bs_batch_unmap_dev(batch, data_lba, dev_lba - data_lba);
		} else if (opts.clear_method == BS_CLEAR_WITH_WRITE_ZEROES) {
			bs_batch_write_zeroes_dev(batch, data_lba, dev_lba - data_lba);
		}
	}
	bs_batch_close(batch);
}

/* ---- load ---- */

struct bs_load_ctx {
	struct spdk_blob_store		*bs;
	struct spdk_bs_super_block	*super;
	uint8_t				*buf;	/* masks or the whole md region */
	spdk_bs_sequence_t		*seq;
	spdk_bs_op_with_handle_complete	cb_fn;
	void				*cb_arg;
};

static void
bs_load_ctx_fail(struct bs_load_ctx *ctx, int bserrno)
{
	struct spdk_bs_dev *dev = ctx->bs->dev;

	if (ctx->seq) {
		bs_sequence_finish(ctx->seq, bserrno);
	}
	SPDK_WASM_TRACE("spdk_bs_load", (uint32_t)-bserrno, 0, 0, 0);
	bs_free(ctx->bs);
	dev->destroy(dev);
	ctx->cb_fn(ctx->cb_arg, NULL, bserrno);
	free(ctx->super);
	free(ctx->buf);
	free(ctx);
}

static void
bs_load_examine_cpl(void *cb_arg, int bserrno)
{
	struct bs_load_ctx *ctx = cb_arg;
	struct spdk_blob_store *bs = ctx->bs;

	if (bserrno != 0) {
		SPDK_ERRLOG("examining the blobs of the loaded store failed: %d\n", bserrno);
		ctx->seq = NULL;
		bs_load_ctx_fail(ctx, bserrno);
		return;
	}
	SPDK_WASM_TRACE("spdk_bs_load", 0, bs->total_clusters, bs->num_free_clusters, bs->clean);
	ctx->cb_fn(ctx->cb_arg, bs, 0);
	free(ctx->super);
	free(ctx->buf);
	free(ctx);
}

static void
bs_load_complete(struct bs_load_ctx *ctx)
{
	bs_sequence_finish(ctx->seq, 0);
	ctx->seq = NULL;
	bs_load_examine_blobs(ctx->bs, bs_load_examine_cpl, ctx);
}

static void
bs_mark_md_clusters(struct spdk_blob_store *bs)
{
	uint64_t n = (bs->md_start + bs->md_len + bs->pages_per_cluster - 1) / bs->pages_per_cluster, i;

	for (i = 0; i < n && i < bs->total_clusters; i++) {
		bs_bit_array_set(&bs->used_clusters, (uint32_t)i);
	}
	bs->total_data_clusters = bs->total_clusters - n;
}

/* Recovery: marks what one valid root page chain references (spec §1.6). */
static void
bs_load_replay_blob(struct bs_load_ctx *ctx, uint32_t root)
{
	struct spdk_blob_store *bs = ctx->bs;
	struct spdk_blob_md_page *pages = (void *)ctx->buf, *page;
	spdk_blob_id id = bs_page_to_blobid(root);
	uint32_t chain[64], n = 0, idx = root, i, j, k;
	uint64_t ep_idx = 0;	/* extent pages seen so far across the chain's EXTENT_TABLEs */
	size_t cur;

	/* Validate the whole chain before marking anything. */
	while (1) {
		page = &pages[idx];
		if (page->crc != blob_md_page_calc_crc(page) || page->id != id || page->sequence_num != n ||
		    n >= SPDK_COUNTOF(chain)) {
			SPDK_WARNLOG("recovery: blob 0x%" PRIx64 " has a broken md chain at page %u\n", id, idx);
			return;
		}
		chain[n++] = idx;
		if (page->next == SPDK_INVALID_MD_PAGE) {
			break;
		}
		if (page->next >= bs->md_len) {
			return;
		}
		idx = page->next;
	}
	bs_bit_array_set(&bs->used_blobids, root);
	for (i = 0; i < n; i++) {
		bs_bit_array_set(&bs->used_md_pages, chain[i]);
		page = &pages[chain[i]];
		cur = 0;
		while (cur + sizeof(struct spdk_blob_md_descriptor) <= SPDK_BS_MAX_DESC_SIZE) {
			struct spdk_blob_md_descriptor *desc = (void *)(page->descriptors + cur);

			if ((desc->type == SPDK_MD_DESCRIPTOR_TYPE_PADDING && desc->length == 0) ||
			    cur + sizeof(*desc) + desc->length > SPDK_BS_MAX_DESC_SIZE) {
				break;
			}
			if (desc->type == SPDK_MD_DESCRIPTOR_TYPE_EXTENT_RLE) {
				struct spdk_blob_md_descriptor_extent_rle *d = (void *)desc;

				for (j = 0; j < desc->length / 8; j++) {
					for (k = 0; d->extents[j].cluster_idx != 0 && k < d->extents[j].length; k++) {
						if (d->extents[j].cluster_idx + k < bs->total_clusters) {
							bs_bit_array_set(&bs->used_clusters, d->extents[j].cluster_idx + k);
						}
					}
				}
			} else if (desc->type == SPDK_MD_DESCRIPTOR_TYPE_EXTENT_TABLE && desc->length >= 8) {
				struct spdk_blob_md_descriptor_extent_table *d = (void *)desc;

				for (j = 0; j < (desc->length - 8) / 8; j++) {
					uint32_t ep = d->extent_page[j].page_idx;
					struct spdk_blob_md_page *epage;
					struct spdk_blob_md_descriptor_extent_page *e;
					uint64_t first, entries;

					if (ep == 0) {
						ep_idx += d->extent_page[j].num_pages;
						continue;
					}
					first = ep_idx++ * SPDK_EXTENTS_PER_EP;
					if (ep >= bs->md_len || first >= d->num_clusters) {
						continue;
					}
					epage = &pages[ep];
					e = (void *)epage->descriptors;
					if (epage->crc != blob_md_page_calc_crc(epage) ||
					    e->type != SPDK_MD_DESCRIPTOR_TYPE_EXTENT_PAGE || e->length < 4 ||
					    e->length > SPDK_BS_MAX_DESC_SIZE - 5) {
						continue;
					}
					bs_bit_array_set(&bs->used_md_pages, ep);
					/* Only entries below the root's num_clusters are owned (see
					 * blob_parse_extent_page). */
					entries = spdk_min((uint64_t)(e->length - 4) / 4, d->num_clusters - first);
					for (k = 0; k < entries; k++) {
						if (e->cluster_idx[k] != 0 && e->cluster_idx[k] < bs->total_clusters) {
							bs_bit_array_set(&bs->used_clusters, e->cluster_idx[k]);
						}
					}
				}
			}
			cur += sizeof(*desc) + desc->length;
		}
	}
}

static void
bs_load_replay_md_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct bs_load_ctx *ctx = cb_arg;
	struct spdk_blob_store *bs = ctx->bs;
	struct spdk_blob_md_page *pages = (void *)ctx->buf;
	uint32_t i;

	(void)seq;
	if (bserrno != 0) {
		bs_load_ctx_fail(ctx, bserrno);
		return;
	}
	for (i = 0; i < bs->md_len; i++) {
		if (pages[i].sequence_num == 0 && pages[i].id == bs_page_to_blobid(i) &&
		    pages[i].crc == blob_md_page_calc_crc(&pages[i])) {
			bs_load_replay_blob(ctx, i);
		}
	}
	bs_mark_md_clusters(bs);
	bs->num_free_clusters = bs->total_clusters - bs->used_clusters.set_count;
	/* The super block still says dirty; the next md write keeps it that way. */
	bs->clean = false;
	SPDK_NOTICELOG("recovered blobstore: %u blobs, %" PRIu64 " free clusters\n",
		       bs->used_blobids.set_count, bs->num_free_clusters);
	bs_load_complete(ctx);
}

static void
bs_recover(struct bs_load_ctx *ctx)
{
	struct spdk_blob_store *bs = ctx->bs;

	SPDK_NOTICELOG("performing recovery on blobstore (not cleanly unloaded)\n");
	ctx->buf = calloc(bs->md_len, SPDK_BS_PAGE_SIZE);
	if (ctx->buf == NULL) {
		bs_load_ctx_fail(ctx, -ENOMEM);
		return;
	}
	bs_sequence_read_dev(ctx->seq, ctx->buf, bs_page_to_lba(bs, bs->md_start),
			     (uint32_t)bs_page_to_lba(bs, bs->md_len), bs_load_replay_md_cpl, ctx);
}

static int
bs_load_mask(struct spdk_blob_store *bs, const uint8_t *buf, uint8_t type, uint64_t bits,
	     struct bs_bit_array *ba)
{
	const struct spdk_bs_md_mask *mask = (const void *)buf;
	uint32_t i;

	if (mask->type != type || mask->length != bits) {
		SPDK_ERRLOG("mask of type %u: header says type %u length %u, expected length %" PRIu64 "\n",
			    type, mask->type, mask->length, bits);
		return -EILSEQ;
	}
	for (i = 0; i < bits; i++) {
		if ((mask->mask[i / 8] >> (i % 8)) & 1) {
			bs_bit_array_set(ba, i);
		}
	}
	(void)bs;
	return 0;
}

static void
bs_load_masks_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct bs_load_ctx *ctx = cb_arg;
	struct spdk_blob_store *bs = ctx->bs;
	uint8_t *base = ctx->buf;
	int rc;

	(void)seq;
	if (bserrno != 0) {
		bs_load_ctx_fail(ctx, bserrno);
		return;
	}
	rc = bs_load_mask(bs, base + (bs->used_page_mask_start - 1) * SPDK_BS_PAGE_SIZE,
			  SPDK_MD_MASK_TYPE_USED_PAGES, bs->md_len, &bs->used_md_pages);
	if (rc == 0) {
		rc = bs_load_mask(bs, base + (bs->used_cluster_mask_start - 1) * SPDK_BS_PAGE_SIZE,
				  SPDK_MD_MASK_TYPE_USED_CLUSTERS, bs->total_clusters, &bs->used_clusters);
	}
	if (rc == 0) {
		rc = bs_load_mask(bs, base + (bs->used_blobid_mask_start - 1) * SPDK_BS_PAGE_SIZE,
				  SPDK_MD_MASK_TYPE_USED_BLOBIDS, bs->md_len, &bs->used_blobids);
	}
	if (rc != 0) {
		bs_load_ctx_fail(ctx, rc);
		return;
	}
	bs_mark_md_clusters(bs);
	bs->num_free_clusters = bs->total_clusters - bs->used_clusters.set_count;
	bs->clean = true;
	bs_load_complete(ctx);
}

static void
bs_load_super_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct bs_load_ctx *ctx = cb_arg;
	struct spdk_blob_store *bs = ctx->bs;
	struct spdk_bs_super_block *super = ctx->super;
	static const char zeros[SPDK_BLOBSTORE_TYPE_LENGTH];
	uint64_t dev_size = bs->dev->blockcnt * bs->dev->blocklen, masks_end;

	if (bserrno != 0) {
		bs_load_ctx_fail(ctx, bserrno);
		return;
	}
	if (super->version > SPDK_BS_VERSION || super->version < SPDK_BS_INITIAL_VERSION) {
		SPDK_ERRLOG("super block version %u is not supported (expected %u..%u)\n", super->version,
			    SPDK_BS_INITIAL_VERSION, SPDK_BS_VERSION);
		bs_load_ctx_fail(ctx, -EILSEQ);
		return;
	}
	if (memcmp(super->signature, SPDK_BS_SUPER_BLOCK_SIG, sizeof(super->signature)) != 0) {
		SPDK_ERRLOG("super block signature is not %s\n", SPDK_BS_SUPER_BLOCK_SIG);
		bs_load_ctx_fail(ctx, -EILSEQ);
		return;
	}
	if (super->crc != blob_md_page_calc_crc(super)) {
		SPDK_ERRLOG("super block crc 0x%08x does not match its contents (0x%08x)\n", super->crc,
			    blob_md_page_calc_crc(super));
		bs_load_ctx_fail(ctx, -EILSEQ);
		return;
	}
	if (memcmp(&bs->bstype, &super->bstype, SPDK_BLOBSTORE_TYPE_LENGTH) != 0 &&
	    memcmp(&bs->bstype, zeros, SPDK_BLOBSTORE_TYPE_LENGTH) != 0) {
		SPDK_ERRLOG("unexpected bstype '%.16s' (expected '%.16s')\n", super->bstype.bstype,
			    bs->bstype.bstype);
		bs_load_ctx_fail(ctx, -ENXIO);
		return;
	}
	if (super->size > dev_size) {
		SPDK_ERRLOG("blobstore size %" PRIu64 " exceeds the device size %" PRIu64 "\n", super->size,
			    dev_size);
		bs_load_ctx_fail(ctx, -EILSEQ);
		return;
	}
	if (super->io_unit_size != 0 && super->io_unit_size != bs->dev->blocklen) {
		SPDK_ERRLOG("io_unit_size %u does not match the device block size %u\n",
			    super->io_unit_size, bs->dev->blocklen);
		bs_load_ctx_fail(ctx, -EILSEQ);
		return;
	}
	if (super->cluster_size < SPDK_BS_PAGE_SIZE || super->cluster_size % SPDK_BS_PAGE_SIZE != 0) {
		SPDK_ERRLOG("cluster size %u is not a multiple of %u\n", super->cluster_size,
			    SPDK_BS_PAGE_SIZE);
		bs_load_ctx_fail(ctx, -EILSEQ);
		return;
	}
	bs->cluster_sz = super->cluster_size;
	bs_set_geometry(bs);
	if (super->size != 0) {
		bs->total_clusters = super->size / bs->cluster_sz;
	}
	bs->md_start = super->md_start;
	bs->md_len = super->md_len;
	bs->super_blob = super->super_blob;
	bs->bstype = super->bstype;
	bs->used_page_mask_start = super->used_page_mask_start;
	bs->used_page_mask_len = super->used_page_mask_len;
	bs->used_cluster_mask_start = super->used_cluster_mask_start;
	bs->used_cluster_mask_len = super->used_cluster_mask_len;
	bs->used_blobid_mask_start = super->used_blobid_mask_start;
	bs->used_blobid_mask_len = super->used_blobid_mask_len;
	masks_end = (uint64_t)bs->md_start + bs->md_len;
	if (bs->total_clusters > UINT32_MAX || bs->md_len == 0 || masks_end * SPDK_BS_PAGE_SIZE > dev_size || bs->md_start < 2 ||
	    bs->used_page_mask_start != 1 || bs->used_cluster_mask_start >= bs->md_start ||
	    bs->used_blobid_mask_start + bs->used_blobid_mask_len > bs->md_start) {
		SPDK_ERRLOG("super block layout is inconsistent: md_start %" PRIu64 " md_len %u\n",
			    bs->md_start, bs->md_len);
		bs_load_ctx_fail(ctx, -EILSEQ);
		return;
	}
	if (bs_bit_array_resize(&bs->used_md_pages, bs->md_len) ||
	    bs_bit_array_resize(&bs->used_blobids, bs->md_len) ||
	    bs_bit_array_resize(&bs->used_clusters, (uint32_t)bs->total_clusters)) {
		bs_load_ctx_fail(ctx, -ENOMEM);
		return;
	}
	if (super->clean == 1 && super->used_blobid_mask_len != 0) {
		/* Pages 1 .. md_start-1 hold the three masks. */
		ctx->buf = calloc(bs->md_start - 1, SPDK_BS_PAGE_SIZE);
		if (ctx->buf == NULL) {
			bs_load_ctx_fail(ctx, -ENOMEM);
			return;
		}
		bs_sequence_read_dev(seq, ctx->buf, bs_page_to_lba(bs, 1),
				     (uint32_t)bs_page_to_lba(bs, bs->md_start - 1), bs_load_masks_cpl, ctx);
		return;
	}
	bs_recover(ctx);
}

void
spdk_bs_load(struct spdk_bs_dev *dev, struct spdk_bs_opts *o, spdk_bs_op_with_handle_complete cb_fn,
	     void *cb_arg)
{
	struct spdk_bs_cpl cpl = { .type = SPDK_BS_CPL_TYPE_NESTED_SEQUENCE };
	struct spdk_bs_opts opts;
	struct bs_load_ctx *ctx;
	struct spdk_blob_store *bs;

	if (o != NULL) {
		opts = *o;
	} else {
		spdk_bs_opts_init(&opts, sizeof(opts));
	}
	if (dev->blocklen == 0 || SPDK_BS_PAGE_SIZE % dev->blocklen != 0 ||
	    dev->blockcnt > UINT64_MAX / dev->blocklen ||
	    dev->blockcnt * dev->blocklen < SPDK_BS_PAGE_SIZE) {
		SPDK_ERRLOG("device (blocklen %u, blockcnt %" PRIu64 ") cannot hold a blobstore\n",
			    dev->blocklen, dev->blockcnt);
		dev->destroy(dev);
		cb_fn(cb_arg, NULL, -EINVAL);
		return;
	}
	bs = bs_alloc(dev, &opts);
	ctx = calloc(1, sizeof(*ctx));
	if (bs == NULL || ctx == NULL || (ctx->super = calloc(1, sizeof(*ctx->super))) == NULL) {
		if (ctx) {
			free(ctx);
		}
		if (bs) {
			bs_free(bs);
		}
		dev->destroy(dev);
		cb_fn(cb_arg, NULL, -ENOMEM);
		return;
	}
	ctx->bs = bs;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	cpl.u.nested_seq.cb_fn = bs_seq_noop;
	ctx->seq = bs_sequence_start(bs->md_channel, &cpl);
	if (ctx->seq == NULL) {
		bs_load_ctx_fail(ctx, -ENOMEM);
		return;
	}
	bs_sequence_read_dev(ctx->seq, ctx->super, 0, bs_byte_to_lba(bs, sizeof(*ctx->super)),
			     bs_load_super_cpl, ctx);
}

/* ---- unload ---- */

struct bs_unload_ctx {
	struct spdk_blob_store	*bs;
	uint8_t			*buf;
	spdk_bs_op_complete	cb_fn;
	void			*cb_arg;
};

static void
bs_unload_finish(void *cb_arg, int bserrno)
{
	struct bs_unload_ctx *ctx = cb_arg;
	struct spdk_blob_store *bs = ctx->bs;
	struct spdk_bs_dev *dev = bs->dev;

	SPDK_WASM_TRACE("spdk_bs_unload", (uint32_t)-bserrno, 0, 0, 0);
	if (bserrno == 0) {
		bs_free(bs);
		dev->destroy(dev);
	} else {
		bs->unloading = false;
	}
	ctx->cb_fn(ctx->cb_arg, bserrno);
	free(ctx->buf);
	free(ctx);
}

static void
bs_unload_write_masks_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct bs_unload_ctx *ctx = cb_arg;

	bs_sequence_finish(seq, bserrno);
	if (bserrno != 0) {
		bs_unload_finish(ctx, bserrno);
		return;
	}
	bs_write_super(ctx->bs, true, bs_unload_finish, ctx);
}

static void
bs_fill_mask(uint8_t *page_base, uint8_t type, const struct bs_bit_array *ba)
{
	struct spdk_bs_md_mask *mask = (void *)page_base;

	mask->type = type;
	mask->length = ba->bit_count;
	memcpy(mask->mask, ba->bits, (ba->bit_count + 7) / 8);
}

void
spdk_bs_unload(struct spdk_blob_store *bs, spdk_bs_op_complete cb_fn, void *cb_arg)
{
	struct spdk_bs_cpl cpl = { .type = SPDK_BS_CPL_TYPE_NESTED_SEQUENCE };
	struct bs_unload_ctx *ctx;
	spdk_bs_sequence_t *seq;
	spdk_bs_batch_t *batch;
	uint32_t len;

	if (!TAILQ_EMPTY(&bs->blobs)) {
		SPDK_ERRLOG("blobstore still has open blobs\n");
		cb_fn(cb_arg, -EBUSY);
		return;
	}
	if (bs->unloading) {
		cb_fn(cb_arg, -EBUSY);
		return;
	}
	len = bs->md_start - 1;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL || (ctx->buf = calloc(len, SPDK_BS_PAGE_SIZE)) == NULL) {
		free(ctx);
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	ctx->bs = bs;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	cpl.u.nested_seq.cb_fn = bs_seq_noop;
	seq = bs_sequence_start(bs->md_channel, &cpl);
	if (seq == NULL) {
		bs_unload_finish(ctx, -ENOMEM);
		return;
	}
	bs->unloading = true;
	bs_fill_mask(ctx->buf + (bs->used_page_mask_start - 1) * SPDK_BS_PAGE_SIZE,
		     SPDK_MD_MASK_TYPE_USED_PAGES, &bs->used_md_pages);
	bs_fill_mask(ctx->buf + (bs->used_cluster_mask_start - 1) * SPDK_BS_PAGE_SIZE,
		     SPDK_MD_MASK_TYPE_USED_CLUSTERS, &bs->used_clusters);
	bs_fill_mask(ctx->buf + (bs->used_blobid_mask_start - 1) * SPDK_BS_PAGE_SIZE,
		     SPDK_MD_MASK_TYPE_USED_BLOBIDS, &bs->used_blobids);
	batch = bs_sequence_to_batch(seq, bs_unload_write_masks_cpl, ctx);
	bs_batch_write_dev(batch, ctx->buf + (bs->used_page_mask_start - 1) * SPDK_BS_PAGE_SIZE,
			   bs_page_to_lba(bs, bs->used_page_mask_start),
			   (uint32_t)bs_page_to_lba(bs, bs->used_page_mask_len));
	bs_batch_write_dev(batch, ctx->buf + (bs->used_cluster_mask_start - 1) * SPDK_BS_PAGE_SIZE,
			   bs_page_to_lba(bs, bs->used_cluster_mask_start),
			   (uint32_t)bs_page_to_lba(bs, bs->used_cluster_mask_len));
	bs_batch_write_dev(batch, ctx->buf + (bs->used_blobid_mask_start - 1) * SPDK_BS_PAGE_SIZE,
			   bs_page_to_lba(bs, bs->used_blobid_mask_start),
			   (uint32_t)bs_page_to_lba(bs, bs->used_blobid_mask_len));
	bs_batch_close(batch);
}

/* ---- getters ---- */

uint64_t
spdk_bs_get_cluster_size(struct spdk_blob_store *bs)
{
	return bs->cluster_sz;
}

uint64_t
spdk_bs_get_page_size(struct spdk_blob_store *bs)
{
	(void)bs;
	return SPDK_BS_PAGE_SIZE;
}

uint64_t
spdk_bs_get_io_unit_size(struct spdk_blob_store *bs)
{
	return bs->io_unit_size;
}

uint64_t
spdk_bs_free_cluster_count(struct spdk_blob_store *bs)
{
	return bs->num_free_clusters;
}

uint64_t
spdk_bs_total_data_cluster_count(struct spdk_blob_store *bs)
{
	return bs->total_data_clusters;
}

struct spdk_bs_type
spdk_bs_get_bstype(struct spdk_blob_store *bs)
{
	return bs->bstype;
}

/* ---- iteration ---- */

struct bs_iter_ctx {
	struct spdk_blob_store			*bs;
	uint32_t				page;
	spdk_blob_op_with_handle_complete	cb_fn;
	void					*cb_arg;
};

static void bs_iter_open(struct bs_iter_ctx *ctx);

static void
bs_iter_cpl(void *cb_arg, struct spdk_blob *blob, int bserrno)
{
	struct bs_iter_ctx *ctx = cb_arg;

	if (bserrno == -ENOENT || bserrno == -EINVAL) {
		/* Skip blobs that vanished or do not parse, as upstream's iterator does. */
		ctx->page++;
		bs_iter_open(ctx);
		return;
	}
	ctx->cb_fn(ctx->cb_arg, blob, bserrno);
	free(ctx);
}

static void
bs_iter_open(struct bs_iter_ctx *ctx)
{
	struct spdk_blob_store *bs = ctx->bs;

	while (ctx->page < bs->md_len && !bs_bit_array_get(&bs->used_blobids, ctx->page)) {
		ctx->page++;
	}
	if (ctx->page >= bs->md_len) {
		ctx->cb_fn(ctx->cb_arg, NULL, -ENOENT);
		free(ctx);
		return;
	}
	spdk_bs_open_blob(bs, bs_page_to_blobid(ctx->page), bs_iter_cpl, ctx);
}

void
spdk_bs_iter_first(struct spdk_blob_store *bs, spdk_blob_op_with_handle_complete cb_fn,
		   void *cb_arg)
{
	struct bs_iter_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		cb_fn(cb_arg, NULL, -ENOMEM);
		return;
	}
	ctx->bs = bs;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	bs_iter_open(ctx);
}

static void
bs_iter_close_cpl(void *cb_arg, int bserrno)
{
	struct bs_iter_ctx *ctx = cb_arg;

	if (bserrno != 0) {
		ctx->cb_fn(ctx->cb_arg, NULL, bserrno);
		free(ctx);
		return;
	}
	bs_iter_open(ctx);
}

void
spdk_bs_iter_next(struct spdk_blob_store *bs, struct spdk_blob *blob,
		  spdk_blob_op_with_handle_complete cb_fn, void *cb_arg)
{
	struct bs_iter_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		cb_fn(cb_arg, NULL, -ENOMEM);
		return;
	}
	ctx->bs = bs;
	ctx->page = bs_blobid_to_page(blob->id) + 1;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	spdk_blob_close(blob, bs_iter_close_cpl, ctx);
}
