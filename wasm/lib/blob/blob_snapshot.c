/* Snapshots and clones (spec §2.6-2.9): the snapshot -> clones list, spdk_bs_create_snapshot,
 * spdk_bs_create_clone, spdk_bs_delete_blob (with the one-clone merge and its SNAPRM marker),
 * inflate and decouple, and the load-time examination that finishes or rolls back snapshot
 * creations (SNAPTMP) and removals (SNAPRM) cut short by a crash. */
#include "spdk/log.h"
#include "spdk/thread.h"
#include "spdk_internal/trace_host.h"

#include "blobstore.h"

/* ---- snapshot -> clones ---- */

struct spdk_blob_list *
bs_get_snapshot_entry(struct spdk_blob_store *bs, spdk_blob_id id)
{
	struct spdk_blob_list *e;

	TAILQ_FOREACH(e, &bs->snapshots, link) {
		if (e->id == id) {
			return e;
		}
	}
	return NULL;
}

static int
bs_blob_list_add_ids(struct spdk_blob_store *bs, spdk_blob_id parent, spdk_blob_id child)
{
	struct spdk_blob_list *s, *c;

	if (parent == SPDK_BLOBID_INVALID || parent == SPDK_BLOBID_EXTERNAL_SNAPSHOT) {
		return 0;
	}
	s = bs_get_snapshot_entry(bs, parent);
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL) {
			return -ENOMEM;
		}
		s->id = parent;
		TAILQ_INIT(&s->clones);
		TAILQ_INSERT_TAIL(&bs->snapshots, s, link);
	}
	TAILQ_FOREACH(c, &s->clones, link) {
		if (c->id == child) {
			return 0;
		}
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return -ENOMEM;
	}
	c->id = child;
	TAILQ_INIT(&c->clones);
	TAILQ_INSERT_TAIL(&s->clones, c, link);
	s->clone_count++;
	return 0;
}

static void
bs_blob_list_remove_ids(struct spdk_blob_store *bs, spdk_blob_id parent, spdk_blob_id child)
{
	struct spdk_blob_list *s = bs_get_snapshot_entry(bs, parent), *c;

	if (s == NULL) {
		return;
	}
	TAILQ_FOREACH(c, &s->clones, link) {
		if (c->id == child) {
			TAILQ_REMOVE(&s->clones, c, link);
			free(c);
			s->clone_count--;
			break;
		}
	}
	if (s->clone_count == 0) {
		TAILQ_REMOVE(&bs->snapshots, s, link);
		free(s);
	}
}

int
bs_blob_list_add(struct spdk_blob *blob)
{
	return bs_blob_list_add_ids(blob->bs, blob->parent_id, blob->id);
}

void
bs_blob_list_remove(struct spdk_blob *blob)
{
	bs_blob_list_remove_ids(blob->bs, blob->parent_id, blob->id);
}

void
bs_snapshot_list_free(struct spdk_blob_store *bs)
{
	struct spdk_blob_list *s, *c;

	while ((s = TAILQ_FIRST(&bs->snapshots)) != NULL) {
		TAILQ_REMOVE(&bs->snapshots, s, link);
		while ((c = TAILQ_FIRST(&s->clones)) != NULL) {
			TAILQ_REMOVE(&s->clones, c, link);
			free(c);
		}
		free(s);
	}
}

int
spdk_blob_get_clones(struct spdk_blob_store *bs, spdk_blob_id blobid, spdk_blob_id *ids,
		     size_t *count)
{
	struct spdk_blob_list *s = bs_get_snapshot_entry(bs, blobid), *c;
	size_t n = 0;

	if (s == NULL) {
		*count = 0;
		return 0;
	}
	if (ids == NULL || *count < s->clone_count) {
		*count = s->clone_count;
		return -ENOMEM;
	}
	TAILQ_FOREACH(c, &s->clones, link) {
		ids[n++] = c->id;
	}
	*count = n;
	return 0;
}

spdk_blob_id
spdk_blob_get_parent_snapshot(struct spdk_blob_store *bs, spdk_blob_id blobid)
{
	struct spdk_blob_list *s, *c;

	TAILQ_FOREACH(s, &bs->snapshots, link) {
		TAILQ_FOREACH(c, &s->clones, link) {
			if (c->id == blobid) {
				return s->id;
			}
		}
	}
	return SPDK_BLOBID_INVALID;
}

/* ---- helpers ---- */

static int
blob_set_parent_snapshot_xattr(struct spdk_blob *blob, spdk_blob_id parent)
{
	bool md_ro = blob->md_ro;
	int rc;

	blob->md_ro = false;
	if (parent == SPDK_BLOBID_INVALID) {
		rc = blob_remove_xattr(blob, BLOB_SNAPSHOT, true);
		rc = rc == -ENOENT ? 0 : rc;
	} else {
		rc = blob_set_xattr(blob, BLOB_SNAPSHOT, &parent, sizeof(parent), true);
	}
	blob->md_ro = md_ro;
	blob->parent_id = parent;
	return rc;
}

/* Points blob at a new parent: the parent xattr and parent_id, the new back device (NULL when
 * the blob no longer reads through anything), the clone list, and the old back device released.
 * The blob is left dirty; the caller persists it. Returns the xattr update's rc. */
static int
blob_reparent(struct spdk_blob *blob, spdk_blob_id parent, struct spdk_bs_dev *new_dev)
{
	struct spdk_bs_dev *old_dev = blob->back_bs_dev;
	int rc;

	rc = blob_set_parent_snapshot_xattr(blob, parent);
	blob->back_bs_dev = new_dev;
	bs_blob_list_add(blob);
	if (old_dev != NULL) {
		old_dev->destroy(old_dev);
	}
	blob->state = SPDK_BLOB_STATE_DIRTY;
	return rc;
}

/* ---- snapshot (spec §2.6) ---- */

struct bs_snapshot_ctx {
	struct spdk_blob_store		*bs;
	spdk_blob_id			orig_id;
	struct spdk_blob		*original;
	struct spdk_blob		*snapshot;
	spdk_blob_id			snapshot_id;
	struct spdk_blob_xattr_opts	xattrs;
	bool				frozen;
	int				bserrno;
	spdk_blob_op_with_id_complete	cb_fn;
	void				*cb_arg;
};

static void
bs_snapshot_finish_cpl(void *cb_arg, int bserrno)
{
	struct bs_snapshot_ctx *ctx = cb_arg;

	(void)bserrno;
	if (ctx->original != NULL) {
		struct spdk_blob *orig = ctx->original;

		ctx->original = NULL;
		spdk_blob_close(orig, bs_snapshot_finish_cpl, ctx);
		return;
	}
	SPDK_WASM_TRACE("spdk_bs_create_snapshot", ctx->snapshot_id >> 32, (uint32_t)ctx->snapshot_id,
			(uint32_t)-ctx->bserrno, 0);
	ctx->cb_fn(ctx->cb_arg, ctx->bserrno == 0 ? ctx->snapshot_id : SPDK_BLOBID_INVALID, ctx->bserrno);
	free(ctx);
}

static void
bs_snapshot_fail(struct bs_snapshot_ctx *ctx, int bserrno)
{
	struct spdk_blob *snap = ctx->snapshot;

	if (ctx->bserrno == 0) {
		ctx->bserrno = bserrno;
	}
	if (ctx->original != NULL) {
		ctx->original->locked_operation_in_progress = false;
		if (ctx->frozen) {
			ctx->frozen = false;
			blob_unfreeze_io(ctx->original);
		}
	}
	if (snap != NULL) {
		ctx->snapshot = NULL;
		spdk_blob_close(snap, bs_snapshot_finish_cpl, ctx);
		return;
	}
	bs_snapshot_finish_cpl(ctx, 0);
}

static void
bs_snapshot_sync_final_cpl(void *cb_arg, int bserrno)
{
	struct bs_snapshot_ctx *ctx = cb_arg;
	struct spdk_blob *snap = ctx->snapshot;

	if (bserrno != 0) {
		bs_snapshot_fail(ctx, bserrno);
		return;
	}
	ctx->original->locked_operation_in_progress = false;
	ctx->frozen = false;
	blob_unfreeze_io(ctx->original);
	ctx->snapshot = NULL;
	spdk_blob_close(snap, bs_snapshot_finish_cpl, ctx);
}

static void
bs_snapshot_origblob_sync_cpl(void *cb_arg, int bserrno)
{
	struct bs_snapshot_ctx *ctx = cb_arg;
	struct spdk_blob *snap = ctx->snapshot;

	if (bserrno != 0) {
		bs_snapshot_fail(ctx, bserrno);
		return;
	}
	/* Both halves are on disk: drop the in-progress marker, make the snapshot read-only. */
	blob_remove_xattr(snap, SNAPSHOT_IN_PROGRESS, true);
	spdk_blob_set_read_only(snap);
	blob_persist(snap, bs_snapshot_sync_final_cpl, ctx);
}

static void
bs_snapshot_newblob_sync_cpl(void *cb_arg, int bserrno)
{
	struct bs_snapshot_ctx *ctx = cb_arg;
	struct spdk_blob *orig = ctx->original, *snap = ctx->snapshot;
	int rc;

	if (bserrno != 0) {
		bs_snapshot_fail(ctx, bserrno);
		return;
	}
	/* The original now reads through the snapshot. */
	snap->open_ref++;
	orig->back_bs_dev = bs_create_blob_bs_dev(snap);
	if (orig->back_bs_dev == NULL) {
		snap->open_ref--;
		bs_snapshot_fail(ctx, -ENOMEM);
		return;
	}
	rc = blob_set_parent_snapshot_xattr(orig, snap->id);
	if (rc != 0) {
		bs_snapshot_fail(ctx, rc);
		return;
	}
	blob_set_thin_provision(orig);
	bs_blob_list_remove_ids(ctx->bs, snap->parent_id, orig->id);
	bs_blob_list_add(snap);
	bs_blob_list_add(orig);
	blob_persist(orig, bs_snapshot_origblob_sync_cpl, ctx);
}

static void
bs_snapshot_swap_cluster_maps(struct spdk_blob *snap, struct spdk_blob *orig)
{
	struct spdk_blob_mut_data tmp = snap->active;
	uint64_t alloc = snap->num_allocated_clusters;

	snap->active.clusters = orig->active.clusters;
	snap->active.cluster_array_size = orig->active.cluster_array_size;
	snap->active.extent_pages = orig->active.extent_pages;
	snap->active.extent_pages_array_size = orig->active.extent_pages_array_size;
	snap->active.num_extent_pages = orig->active.num_extent_pages;
	orig->active.clusters = tmp.clusters;
	orig->active.cluster_array_size = tmp.cluster_array_size;
	orig->active.extent_pages = tmp.extent_pages;
	orig->active.extent_pages_array_size = tmp.extent_pages_array_size;
	orig->active.num_extent_pages = tmp.num_extent_pages;
	snap->num_allocated_clusters = orig->num_allocated_clusters;
	orig->num_allocated_clusters = alloc;
}

static void
bs_snapshot_newblob_open_cpl(void *cb_arg, struct spdk_blob *snap, int bserrno)
{
	struct bs_snapshot_ctx *ctx = cb_arg;
	struct spdk_blob *orig = ctx->original;
	int rc = 0;

	if (bserrno != 0) {
		bs_snapshot_fail(ctx, bserrno);
		return;
	}
	ctx->snapshot = snap;
	blob_freeze_io(orig);
	ctx->frozen = true;

	/* The snapshot takes the original's place in the chain: parent, back device, clusters. */
	if (orig->parent_id != SPDK_BLOBID_INVALID) {
		rc = blob_set_parent_snapshot_xattr(snap, orig->parent_id);
	}
	if (rc != 0) {
		bs_snapshot_fail(ctx, rc);
		return;
	}
	if (snap->back_bs_dev != NULL) {
		snap->back_bs_dev->destroy(snap->back_bs_dev);
	}
	snap->back_bs_dev = orig->back_bs_dev;
	orig->back_bs_dev = NULL;
	bs_snapshot_swap_cluster_maps(snap, orig);
	snap->clear_method = orig->clear_method;
	blob_update_clear_method(snap);
	snap->extent_pages_dirty = true;
	snap->state = SPDK_BLOB_STATE_DIRTY;
	orig->state = SPDK_BLOB_STATE_DIRTY;
	blob_persist(snap, bs_snapshot_newblob_sync_cpl, ctx);
}

static void
bs_snapshot_newblob_create_cpl(void *cb_arg, spdk_blob_id blobid, int bserrno)
{
	struct bs_snapshot_ctx *ctx = cb_arg;

	if (bserrno != 0) {
		bs_snapshot_fail(ctx, bserrno);
		return;
	}
	ctx->snapshot_id = blobid;
	blob_open_ext(ctx->bs, blobid, true, bs_snapshot_newblob_open_cpl, ctx);
}

/* What snapshot and clone both do once their source is open: lock it and create a thin blob of
 * its size whose internal xattr internal_name holds the source's id. */
static void
bs_create_blob_over(struct spdk_blob_store *bs, struct spdk_blob *orig,
		    const struct spdk_blob_xattr_opts *xattrs, const char *internal_name,
		    spdk_blob_op_with_id_complete cb_fn, void *cb_arg)
{
	struct spdk_blob_opts opts;

	orig->locked_operation_in_progress = true;
	spdk_blob_opts_init(&opts, sizeof(opts));
	opts.thin_provision = true;
	opts.num_clusters = spdk_blob_get_num_clusters(orig);
	opts.use_extent_table = orig->use_extent_table;
	opts.xattrs = *xattrs;
	bs_create_blob_internal(bs, &opts, internal_name, &orig->id, sizeof(orig->id), cb_fn, cb_arg);
}

static void
bs_snapshot_origblob_open_cpl(void *cb_arg, struct spdk_blob *orig, int bserrno)
{
	struct bs_snapshot_ctx *ctx = cb_arg;

	if (bserrno != 0) {
		bs_snapshot_fail(ctx, bserrno);
		return;
	}
	ctx->original = orig;
	if (orig->data_ro) {
		SPDK_ERRLOG("cannot snapshot read-only blob 0x%" PRIx64 "\n", orig->id);
		bs_snapshot_fail(ctx, -EINVAL);
		return;
	}
	if (orig->locked_operation_in_progress) {
		ctx->original = NULL;
		ctx->bserrno = -EBUSY;
		spdk_blob_close(orig, bs_snapshot_finish_cpl, ctx);
		return;
	}
	bs_create_blob_over(ctx->bs, orig, &ctx->xattrs, SNAPSHOT_IN_PROGRESS,
			    bs_snapshot_newblob_create_cpl, ctx);
}

void
spdk_bs_create_snapshot(struct spdk_blob_store *bs, spdk_blob_id blobid,
			const struct spdk_blob_xattr_opts *snapshot_xattrs,
			spdk_blob_op_with_id_complete cb_fn, void *cb_arg)
{
	struct bs_snapshot_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		cb_fn(cb_arg, SPDK_BLOBID_INVALID, -ENOMEM);
		return;
	}
	ctx->bs = bs;
	ctx->orig_id = blobid;
	ctx->snapshot_id = SPDK_BLOBID_INVALID;
	if (snapshot_xattrs) {
		ctx->xattrs = *snapshot_xattrs;
	}
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	spdk_bs_open_blob(bs, blobid, bs_snapshot_origblob_open_cpl, ctx);
}

/* ---- clone (spec §2.7) ---- */

struct bs_clone_ctx {
	struct spdk_blob_store		*bs;
	struct spdk_blob		*source;
	spdk_blob_id			clone_id;
	struct spdk_blob_xattr_opts	xattrs;
	int				bserrno;
	spdk_blob_op_with_id_complete	cb_fn;
	void				*cb_arg;
};

static void
bs_clone_close_cpl(void *cb_arg, int bserrno)
{
	struct bs_clone_ctx *ctx = cb_arg;

	(void)bserrno;
	ctx->cb_fn(ctx->cb_arg, ctx->bserrno == 0 ? ctx->clone_id : SPDK_BLOBID_INVALID, ctx->bserrno);
	free(ctx);
}

static void
bs_clone_newblob_create_cpl(void *cb_arg, spdk_blob_id blobid, int bserrno)
{
	struct bs_clone_ctx *ctx = cb_arg;

	ctx->bserrno = bserrno;
	ctx->clone_id = blobid;
	if (bserrno == 0) {
		bs_blob_list_add_ids(ctx->bs, ctx->source->id, blobid);
	}
	ctx->source->locked_operation_in_progress = false;
	spdk_blob_close(ctx->source, bs_clone_close_cpl, ctx);
}

static void
bs_clone_origblob_open_cpl(void *cb_arg, struct spdk_blob *src, int bserrno)
{
	struct bs_clone_ctx *ctx = cb_arg;

	if (bserrno != 0) {
		ctx->cb_fn(ctx->cb_arg, SPDK_BLOBID_INVALID, bserrno);
		free(ctx);
		return;
	}
	ctx->source = src;
	if (!src->data_ro || !src->md_ro) {
		SPDK_ERRLOG("clone source 0x%" PRIx64 " is not read-only\n", src->id);
		ctx->bserrno = -EINVAL;
		spdk_blob_close(src, bs_clone_close_cpl, ctx);
		return;
	}
	if (src->locked_operation_in_progress) {
		ctx->bserrno = -EBUSY;
		spdk_blob_close(src, bs_clone_close_cpl, ctx);
		return;
	}
	bs_create_blob_over(ctx->bs, src, &ctx->xattrs, BLOB_SNAPSHOT, bs_clone_newblob_create_cpl,
			    ctx);
}

void
spdk_bs_create_clone(struct spdk_blob_store *bs, spdk_blob_id blobid,
		     const struct spdk_blob_xattr_opts *clone_xattrs,
		     spdk_blob_op_with_id_complete cb_fn, void *cb_arg)
{
	struct bs_clone_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		cb_fn(cb_arg, SPDK_BLOBID_INVALID, -ENOMEM);
		return;
	}
	ctx->bs = bs;
	if (clone_xattrs) {
		ctx->xattrs = *clone_xattrs;
	}
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	spdk_bs_open_blob(bs, blobid, bs_clone_origblob_open_cpl, ctx);
}

/* ---- delete (spec §2.9) ---- */

struct bs_delete_snap_ctx {
	struct spdk_blob_store	*bs;
	struct spdk_blob	*snapshot;
	struct spdk_blob	*clone;
	struct spdk_blob	*parent;	/* the snapshot's own parent, if any */
	int			bserrno;
	spdk_blob_op_complete	cb_fn;
	void			*cb_arg;
};

static void
bs_delete_snap_done(void *cb_arg, int bserrno)
{
	struct bs_delete_snap_ctx *ctx = cb_arg;

	ctx->cb_fn(ctx->cb_arg, ctx->bserrno ? ctx->bserrno : bserrno);
	free(ctx);
}

static void
bs_delete_snap_fail_close(void *cb_arg, int bserrno)
{
	struct bs_delete_snap_ctx *ctx = cb_arg;
	struct spdk_blob *b;

	(void)bserrno;
	if ((b = ctx->clone) != NULL) {
		ctx->clone = NULL;
		spdk_blob_close(b, bs_delete_snap_fail_close, ctx);
		return;
	}
	if ((b = ctx->snapshot) != NULL) {
		ctx->snapshot = NULL;
		b->locked_operation_in_progress = false;
		spdk_blob_close(b, bs_delete_snap_fail_close, ctx);
		return;
	}
	bs_delete_snap_done(ctx, 0);
}

static void
bs_delete_snap_fail(struct bs_delete_snap_ctx *ctx, int bserrno)
{
	ctx->bserrno = bserrno;
	bs_delete_snap_fail_close(ctx, 0);
}

static void
bs_delete_snap_clone_closed(void *cb_arg, int bserrno)
{
	struct bs_delete_snap_ctx *ctx = cb_arg;

	if (bserrno != 0) {
		bs_delete_snap_fail(ctx, bserrno);
		return;
	}
	/* The snapshot's remaining clusters are its own: release them with it. */
	bs_delete_open_blob(ctx->snapshot, bs_delete_snap_done, ctx);
}

static void
bs_delete_snap_clone_sync_cpl(void *cb_arg, int bserrno)
{
	struct bs_delete_snap_ctx *ctx = cb_arg;
	struct spdk_blob *clone = ctx->clone;

	blob_unfreeze_io(clone);
	if (bserrno != 0) {
		bs_delete_snap_fail(ctx, bserrno);
		return;
	}
	ctx->clone = NULL;
	spdk_blob_close(clone, bs_delete_snap_clone_closed, ctx);
}

static void
bs_delete_snap_update_clone(struct bs_delete_snap_ctx *ctx)
{
	struct spdk_blob *snap = ctx->snapshot, *clone = ctx->clone;
	uint64_t i, n = spdk_min(snap->active.num_clusters, clone->active.num_clusters);
	struct spdk_bs_dev *new_dev;
	int rc;

	blob_freeze_io(clone);
	/* Give the clone every cluster of the snapshot it does not have itself. */
	for (i = 0; i < n; i++) {
		if (clone->active.clusters[i] == 0 && snap->active.clusters[i] != 0) {
			clone->active.clusters[i] = snap->active.clusters[i];
			clone->num_allocated_clusters++;
			snap->active.clusters[i] = 0;
			snap->num_allocated_clusters--;
		}
	}
	if (clone->use_extent_table && snap->use_extent_table) {
		for (i = 0; i < spdk_min(snap->active.num_extent_pages, clone->active.num_extent_pages); i++) {
			if (clone->active.extent_pages[i] == 0 && snap->active.extent_pages[i] != 0) {
				clone->active.extent_pages[i] = snap->active.extent_pages[i];
				snap->active.extent_pages[i] = 0;
			}
		}
		clone->extent_pages_dirty = true;
	}
	/* Re-parent the clone to the snapshot's parent (or to nothing). */
	bs_blob_list_remove_ids(ctx->bs, snap->id, clone->id);
	bs_blob_list_remove_ids(ctx->bs, snap->parent_id, snap->id);
	if (ctx->parent != NULL) {
		new_dev = bs_create_blob_bs_dev(ctx->parent);
		ctx->parent = NULL;
	} else {
		new_dev = bs_create_zeroes_dev();
	}
	rc = blob_reparent(clone, snap->parent_id, new_dev);
	if (rc != 0) {
		bs_delete_snap_clone_sync_cpl(ctx, rc);
		return;
	}
	blob_persist(clone, bs_delete_snap_clone_sync_cpl, ctx);
}

static void
bs_delete_snap_parent_open_cpl(void *cb_arg, struct spdk_blob *parent, int bserrno)
{
	struct bs_delete_snap_ctx *ctx = cb_arg;

	if (bserrno != 0) {
		bs_delete_snap_fail(ctx, bserrno);
		return;
	}
	ctx->parent = parent;
	bs_delete_snap_update_clone(ctx);
}

static void
bs_delete_snap_marked_cpl(void *cb_arg, int bserrno)
{
	struct bs_delete_snap_ctx *ctx = cb_arg;

	if (bserrno != 0) {
		bs_delete_snap_fail(ctx, bserrno);
		return;
	}
	if (ctx->snapshot->parent_id != SPDK_BLOBID_INVALID) {
		blob_open_ext(ctx->bs, ctx->snapshot->parent_id, true, bs_delete_snap_parent_open_cpl, ctx);
		return;
	}
	bs_delete_snap_update_clone(ctx);
}

static void
bs_delete_snap_clone_open_cpl(void *cb_arg, struct spdk_blob *clone, int bserrno)
{
	struct bs_delete_snap_ctx *ctx = cb_arg;
	struct spdk_blob *snap = ctx->snapshot;
	bool md_ro = snap->md_ro;
	int rc;

	if (bserrno != 0) {
		bs_delete_snap_fail(ctx, bserrno);
		return;
	}
	ctx->clone = clone;
	if (clone->locked_operation_in_progress) {
		bs_delete_snap_fail(ctx, -EBUSY);
		return;
	}
	/* SNAPRM first: a crash from here on is finished (or undone) by the next load. */
	snap->md_ro = false;
	rc = blob_set_xattr(snap, SNAPSHOT_PENDING_REMOVAL, &clone->id, sizeof(clone->id), true);
	snap->md_ro = md_ro;
	if (rc != 0) {
		bs_delete_snap_fail(ctx, rc);
		return;
	}
	blob_persist(snap, bs_delete_snap_marked_cpl, ctx);
}

struct bs_delete_ctx2 {
	struct spdk_blob_store	*bs;
	spdk_blob_op_complete	cb_fn;
	void			*cb_arg;
	int			bserrno;
};

static void
bs_delete_close_cpl(void *cb_arg, int bserrno)
{
	struct bs_delete_ctx2 *ctx = cb_arg;

	(void)bserrno;
	ctx->cb_fn(ctx->cb_arg, ctx->bserrno);
	free(ctx);
}

static void
bs_delete_open_cpl(void *cb_arg, struct spdk_blob *blob, int bserrno)
{
	struct bs_delete_ctx2 *ctx = cb_arg;
	struct spdk_blob_list *snap_entry;
	struct bs_delete_snap_ctx *sctx;
	struct spdk_blob *loaded;
	uint32_t refs_allowed;

	if (bserrno != 0) {
		ctx->cb_fn(ctx->cb_arg, bserrno);
		free(ctx);
		return;
	}
	snap_entry = bs_get_snapshot_entry(ctx->bs, blob->id);
	/* Besides this delete, a loaded single clone holds one reference: it reads through the
	 * snapshot. Upstream allows that one (an lvol head stays open while its snapshot goes). */
	refs_allowed = 1;
	if (snap_entry != NULL && snap_entry->clone_count == 1) {
		TAILQ_FOREACH(loaded, &ctx->bs->blobs, link) {
			if (loaded->id == TAILQ_FIRST(&snap_entry->clones)->id) {
				refs_allowed = 2;
			}
		}
	}
	if (blob->open_ref > refs_allowed || blob->locked_operation_in_progress ||
	    (snap_entry != NULL && snap_entry->clone_count > 1)) {
		SPDK_ERRLOG("cannot delete blob 0x%" PRIx64 ": %s\n", blob->id,
			    blob->open_ref > refs_allowed ? "it is open" : snap_entry && snap_entry->clone_count > 1 ?
			    "it is a snapshot with more than one clone" : "an operation is in progress");
		ctx->bserrno = -EBUSY;
		spdk_blob_close(blob, bs_delete_close_cpl, ctx);
		return;
	}
	if (snap_entry == NULL) {
		bs_delete_open_blob(blob, ctx->cb_fn, ctx->cb_arg);
		free(ctx);
		return;
	}
	sctx = calloc(1, sizeof(*sctx));
	if (sctx == NULL) {
		ctx->bserrno = -ENOMEM;
		spdk_blob_close(blob, bs_delete_close_cpl, ctx);
		return;
	}
	sctx->bs = ctx->bs;
	sctx->snapshot = blob;
	sctx->cb_fn = ctx->cb_fn;
	sctx->cb_arg = ctx->cb_arg;
	free(ctx);
	blob->locked_operation_in_progress = true;
	blob_open_ext(sctx->bs, TAILQ_FIRST(&snap_entry->clones)->id, true, bs_delete_snap_clone_open_cpl,
		      sctx);
}

void
spdk_bs_delete_blob(struct spdk_blob_store *bs, spdk_blob_id blobid, spdk_blob_op_complete cb_fn,
		    void *cb_arg)
{
	struct bs_delete_ctx2 *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	ctx->bs = bs;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	spdk_bs_open_blob(bs, blobid, bs_delete_open_cpl, ctx);
}

/* ---- inflate / decouple (spec §2.8) ---- */

struct bs_inflate_ctx {
	struct spdk_blob_store	*bs;
	struct spdk_io_channel	*channel;
	struct spdk_blob	*blob;
	struct spdk_blob	*parent;
	struct spdk_blob	*grandparent;
	bool			allocate_all;
	uint64_t		cluster;
	int			bserrno;
	spdk_blob_op_complete	cb_fn;
	void			*cb_arg;
};

static void
bs_inflate_close_cpl(void *cb_arg, int bserrno)
{
	struct bs_inflate_ctx *ctx = cb_arg;
	struct spdk_blob *b;

	if (ctx->bserrno == 0) {
		ctx->bserrno = bserrno;
	}
	if ((b = ctx->parent) != NULL) {
		ctx->parent = NULL;
		spdk_blob_close(b, bs_inflate_close_cpl, ctx);
		return;
	}
	if ((b = ctx->blob) != NULL) {
		ctx->blob = NULL;
		b->locked_operation_in_progress = false;
		spdk_blob_close(b, bs_inflate_close_cpl, ctx);
		return;
	}
	ctx->cb_fn(ctx->cb_arg, ctx->bserrno);
	free(ctx);
}

static void
bs_inflate_sync_cpl(void *cb_arg, int bserrno)
{
	bs_inflate_close_cpl(cb_arg, bserrno);
}

static void
bs_inflate_reparent(struct bs_inflate_ctx *ctx)
{
	struct spdk_blob *blob = ctx->blob;
	struct spdk_bs_dev *new_dev;
	spdk_blob_id new_parent = SPDK_BLOBID_INVALID;
	int rc;

	bs_blob_list_remove(blob);
	if (ctx->allocate_all) {
		new_dev = NULL;
		blob->invalid_flags &= ~SPDK_BLOB_THIN_PROV;
	} else if (ctx->grandparent != NULL) {
		new_parent = ctx->grandparent->id;
		new_dev = bs_create_blob_bs_dev(ctx->grandparent);
		ctx->grandparent = NULL;
	} else {
		new_dev = bs_create_zeroes_dev();
	}
	rc = blob_reparent(blob, new_parent, new_dev);
	if (rc != 0) {
		bs_inflate_close_cpl(ctx, rc);
		return;
	}
	blob_persist(blob, bs_inflate_sync_cpl, ctx);
}

static void
bs_inflate_grandparent_open_cpl(void *cb_arg, struct spdk_blob *gp, int bserrno)
{
	struct bs_inflate_ctx *ctx = cb_arg;

	if (bserrno != 0) {
		bs_inflate_close_cpl(ctx, bserrno);
		return;
	}
	ctx->grandparent = gp;
	bs_inflate_reparent(ctx);
}

static void
bs_inflate_touch_next(void *cb_arg, int bserrno)
{
	struct bs_inflate_ctx *ctx = cb_arg;
	struct spdk_blob *blob = ctx->blob, *parent = ctx->parent;
	uint64_t i;

	if (bserrno != 0) {
		bs_inflate_close_cpl(ctx, bserrno);
		return;
	}
	for (i = ctx->cluster; i < blob->active.num_clusters; i++) {
		if (blob->active.clusters[i] != 0) {
			continue;
		}
		if (ctx->allocate_all ||
		    (parent != NULL && i < parent->active.num_clusters && parent->active.clusters[i] != 0)) {
			ctx->cluster = i + 1;
			blob_io_touch_cluster(blob, ctx->channel, i, bs_inflate_touch_next, ctx);
			return;
		}
	}
	ctx->cluster = blob->active.num_clusters;
	if (!ctx->allocate_all && parent != NULL && parent->parent_id != SPDK_BLOBID_INVALID) {
		blob_open_ext(ctx->bs, parent->parent_id, true, bs_inflate_grandparent_open_cpl, ctx);
		return;
	}
	bs_inflate_reparent(ctx);
}

static void
bs_inflate_parent_open_cpl(void *cb_arg, struct spdk_blob *parent, int bserrno)
{
	struct bs_inflate_ctx *ctx = cb_arg;

	if (bserrno != 0) {
		bs_inflate_close_cpl(ctx, bserrno);
		return;
	}
	ctx->parent = parent;
	bs_inflate_touch_next(ctx, 0);
}

static void
bs_inflate_open_cpl(void *cb_arg, struct spdk_blob *blob, int bserrno)
{
	struct bs_inflate_ctx *ctx = cb_arg;

	if (bserrno != 0) {
		ctx->cb_fn(ctx->cb_arg, bserrno);
		free(ctx);
		return;
	}
	ctx->blob = blob;
	if (blob->locked_operation_in_progress) {
		ctx->blob = NULL;
		ctx->bserrno = -EBUSY;
		spdk_blob_close(blob, bs_inflate_close_cpl, ctx);
		return;
	}
	if (blob->data_ro) {
		ctx->blob = NULL;
		ctx->bserrno = -EPERM;
		spdk_blob_close(blob, bs_inflate_close_cpl, ctx);
		return;
	}
	if (!ctx->allocate_all && blob->parent_id == SPDK_BLOBID_INVALID) {
		ctx->blob = NULL;
		ctx->bserrno = -EINVAL;
		spdk_blob_close(blob, bs_inflate_close_cpl, ctx);
		return;
	}
	if (!spdk_blob_is_thin_provisioned(blob)) {
		/* Already thick: nothing to allocate. */
		bs_inflate_close_cpl(ctx, 0);
		return;
	}
	blob->locked_operation_in_progress = true;
	if (blob->parent_id != SPDK_BLOBID_INVALID) {
		blob_open_ext(ctx->bs, blob->parent_id, true, bs_inflate_parent_open_cpl, ctx);
		return;
	}
	bs_inflate_touch_next(ctx, 0);
}

static void
bs_inflate_blob(struct spdk_blob_store *bs, struct spdk_io_channel *channel, spdk_blob_id blobid,
		bool allocate_all, spdk_blob_op_complete cb_fn, void *cb_arg)
{
	struct bs_inflate_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	ctx->bs = bs;
	ctx->channel = channel;
	ctx->allocate_all = allocate_all;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	spdk_bs_open_blob(bs, blobid, bs_inflate_open_cpl, ctx);
}

void
spdk_bs_inflate_blob(struct spdk_blob_store *bs, struct spdk_io_channel *channel,
		     spdk_blob_id blobid, spdk_blob_op_complete cb_fn, void *cb_arg)
{
	bs_inflate_blob(bs, channel, blobid, true, cb_fn, cb_arg);
}

void
spdk_bs_blob_decouple_parent(struct spdk_blob_store *bs, struct spdk_io_channel *channel,
			     spdk_blob_id blobid, spdk_blob_op_complete cb_fn, void *cb_arg)
{
	bs_inflate_blob(bs, channel, blobid, false, cb_fn, cb_arg);
}

/* ---- load-time examination ---- */

struct bs_examine_ctx {
	struct spdk_blob_store	*bs;
	uint32_t		page;
	struct spdk_blob	*blob;
	struct spdk_blob	*other;	/* the original (SNAPTMP) or the clone (SNAPRM) */
	spdk_bs_op_complete	cb_fn;
	void			*cb_arg;
};

static void bs_examine_next(struct bs_examine_ctx *ctx);

static void
bs_examine_blob_done(void *cb_arg, int bserrno)
{
	struct bs_examine_ctx *ctx = cb_arg;

	if (bserrno != 0) {
		ctx->cb_fn(ctx->cb_arg, bserrno);
		free(ctx);
		return;
	}
	ctx->page++;
	bs_examine_next(ctx);
}

static void
bs_examine_close_blob(void *cb_arg, int bserrno)
{
	struct bs_examine_ctx *ctx = cb_arg;
	struct spdk_blob *b;

	if (bserrno != 0) {
		bs_examine_blob_done(ctx, bserrno);
		return;
	}
	if ((b = ctx->other) != NULL) {
		ctx->other = NULL;
		spdk_blob_close(b, bs_examine_close_blob, ctx);
		return;
	}
	b = ctx->blob;
	if (b == NULL) {
		/* bs_examine_delete_corrupted deleted it: nothing left to close. */
		bs_examine_blob_done(ctx, 0);
		return;
	}
	ctx->blob = NULL;
	bs_blob_list_add(b);
	spdk_blob_close(b, bs_examine_blob_done, ctx);
}

/* The interrupted snapshot/removal shares clusters with 'other': drop them from 'blob' so
 * deleting it releases only what is its own, then delete it. */
static void
bs_examine_delete_corrupted(struct bs_examine_ctx *ctx)
{
	struct spdk_blob *blob = ctx->blob, *other = ctx->other;
	uint64_t i;

	for (i = 0; i < blob->active.num_clusters; i++) {
		if (blob->active.clusters[i] != 0 && i < other->active.num_clusters &&
		    other->active.clusters[i] == blob->active.clusters[i]) {
			blob->active.clusters[i] = 0;
			blob->num_allocated_clusters--;
		}
	}
	for (i = 0; i < blob->active.num_extent_pages; i++) {
		if (blob->active.extent_pages[i] != 0 && i < other->active.num_extent_pages &&
		    other->active.extent_pages[i] == blob->active.extent_pages[i]) {
			blob->active.extent_pages[i] = 0;
		}
	}
	/* The interrupted snapshot may have rewritten 'other's extent pages in place under this
	 * blob's id before its own root landed: write them back as 'other's when it is closed. */
	if (other->use_extent_table && other->active.num_extent_pages > 0) {
		other->extent_pages_dirty = true;
		other->state = SPDK_BLOB_STATE_DIRTY;
	}
	SPDK_NOTICELOG("removing blob 0x%" PRIx64 " left by an interrupted snapshot operation\n", blob->id);
	ctx->blob = NULL;
	blob->md_ro = false;
	blob->data_ro = false;
	if (blob->open_ref > 1) {
		/* Someone else holds it (cannot happen during load); leave it. */
		spdk_blob_close(blob, bs_examine_close_blob, ctx);
		return;
	}
	/* 'other' must drop its reference first if it reads through this blob. */
	bs_delete_open_blob(blob, bs_examine_close_blob, ctx);
}

/* A snapshot removal that stopped before the clone's root was rewritten: the clone's extent
 * pages (written in place first) may already name clusters handed over from the snapshot, which
 * still owns them. Clusters are never shared, so any position where both name the same cluster
 * is such a hand-over: undo it, and rewrite both blobs' extent pages under their own ids. */
static void
bs_examine_rollback_merge(struct spdk_blob *snap, struct spdk_blob *clone)
{
	uint64_t i, n = spdk_min(snap->active.num_clusters, clone->active.num_clusters);

	for (i = 0; i < n; i++) {
		if (clone->active.clusters[i] != 0 &&
		    clone->active.clusters[i] == snap->active.clusters[i]) {
			clone->active.clusters[i] = 0;
			clone->num_allocated_clusters--;
		}
	}
	if (clone->use_extent_table && clone->active.num_extent_pages > 0) {
		clone->extent_pages_dirty = true;
		clone->state = SPDK_BLOB_STATE_DIRTY;
	}
	if (snap->use_extent_table && snap->active.num_extent_pages > 0) {
		snap->extent_pages_dirty = true;
	}
	if (!clone->use_extent_table) {
		clone->state = SPDK_BLOB_STATE_DIRTY;
	}
}

static void
bs_examine_other_open_cpl(void *cb_arg, struct spdk_blob *other, int bserrno)
{
	struct bs_examine_ctx *ctx = cb_arg;
	struct spdk_blob *blob = ctx->blob;
	const void *value;
	size_t len;
	bool snaptmp;

	snaptmp = blob_get_xattr_value(blob, SNAPSHOT_IN_PROGRESS, &value, &len, true) == 0;
	if (bserrno != 0) {
		/* The original/clone is gone: this blob's operation cannot be completed. */
		SPDK_WARNLOG("blob 0x%" PRIx64 ": partner of interrupted %s is missing\n", blob->id,
			     snaptmp ? "snapshot" : "removal");
		other = NULL;
	}
	ctx->other = other;
	if (other != NULL && other->parent_id == blob->id) {
		/* SNAPTMP: the original already reads through us, so the snapshot completed.
		 * SNAPRM: the clone was not updated yet, so the removal is rolled back. */
		if (!snaptmp) {
			bs_examine_rollback_merge(blob, other);
		}
		blob->md_ro = false;
		blob_remove_xattr(blob, snaptmp ? SNAPSHOT_IN_PROGRESS : SNAPSHOT_PENDING_REMOVAL, true);
		if (snaptmp) {
			spdk_blob_set_read_only(blob);
		}
		blob_persist(blob, bs_examine_close_blob, ctx);
		return;
	}
	if (other == NULL) {
		bs_examine_close_blob(ctx, 0);
		return;
	}
	bs_examine_delete_corrupted(ctx);
}

static void
bs_examine_open_cpl(void *cb_arg, struct spdk_blob *blob, int bserrno)
{
	struct bs_examine_ctx *ctx = cb_arg;
	const void *value;
	size_t len;
	spdk_blob_id other;

	if (bserrno != 0) {
		SPDK_WARNLOG("blob 0x%" PRIx64 " cannot be opened (%d); skipped\n",
			     bs_page_to_blobid(ctx->page), bserrno);
		bs_examine_blob_done(ctx, 0);
		return;
	}
	ctx->blob = blob;
	if ((blob_get_xattr_value(blob, SNAPSHOT_IN_PROGRESS, &value, &len, true) == 0 ||
	     blob_get_xattr_value(blob, SNAPSHOT_PENDING_REMOVAL, &value, &len, true) == 0) &&
	    len == sizeof(other)) {
		memcpy(&other, value, sizeof(other));
		blob_open_ext(ctx->bs, other, true, bs_examine_other_open_cpl, ctx);
		return;
	}
	bs_examine_close_blob(ctx, 0);
}

static void
bs_examine_next(struct bs_examine_ctx *ctx)
{
	struct spdk_blob_store *bs = ctx->bs;

	while (ctx->page < bs->md_len && !bs_bit_array_get(&bs->used_blobids, ctx->page)) {
		ctx->page++;
	}
	if (ctx->page >= bs->md_len) {
		ctx->cb_fn(ctx->cb_arg, 0);
		free(ctx);
		return;
	}
	blob_open_ext(bs, bs_page_to_blobid(ctx->page), true, bs_examine_open_cpl, ctx);
}

void
bs_load_examine_blobs(struct spdk_blob_store *bs, spdk_bs_op_complete cb_fn, void *cb_arg)
{
	struct bs_examine_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	ctx->bs = bs;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	bs_examine_next(ctx);
}
