/* Exported interface of the lvol library (lib/lvol) for the TypeScript host and the JSON-RPC
 * methods of host/spdk/rpc/lvol.ts.
 *
 * Conventions (as spdk_wasm_blob.c): asynchronous calls return an op handle polled with
 * spdk_wasm_blob_op_done / _rc / _result / _free; a synchronous rejection (bad name, busy)
 * completes the handle at once with the errno. Results are pointers (lvs, lvol) as u32. Sizes
 * cross as doubles (bytes, exact below 2^53). Strings come back as addresses of NUL-terminated
 * C strings that stay valid while the object lives.
 *
 * The lvol bdev layer (module/bdev/lvol) is not modelled in C: the bdev name (the lvol's
 * unique id) and its alias "<lvs name>/<lvol name>" are formed by the host from these strings. */
#include <emscripten/emscripten.h>

#include "spdk/stdinc.h"
#include "spdk/blob.h"
#include "spdk/blob_mem.h"
#include "spdk/lvol.h"
#include "spdk/util.h"
#include "spdk_internal/lvolstore.h"

#include "../module/blob/aio/blob_aio.h"

#define SPDK_WASM_API EMSCRIPTEN_KEEPALIVE

#include "spdk_wasm_op.h"

static void
lvol_op_basic_cpl(void *cb_arg, int lvolerrno)
{
	spdk_wasm_op_finish(cb_arg, lvolerrno, 0);
}

static void
lvol_op_lvs_cpl(void *cb_arg, struct spdk_lvol_store *lvs, int lvserrno)
{
	spdk_wasm_op_finish(cb_arg, lvserrno, (uint32_t)(uintptr_t)lvs);
}

static void
lvol_op_lvol_cpl(void *cb_arg, struct spdk_lvol *lvol, int lvolerrno)
{
	spdk_wasm_op_finish(cb_arg, lvolerrno, (uint32_t)(uintptr_t)lvol);
}

/* Seeds the UUID generator (the host passes two words of the world's PRNG). */
SPDK_WASM_API void
spdk_wasm_uuid_set_seed(uint32_t hi, uint32_t lo)
{
	spdk_uuid_set_seed(((uint64_t)hi << 32) | lo);
}

/* ---- lvol stores ---- */

/* spdk_lvs_init on dev (destroyed here when the init cannot start). */
static struct blob_wasm_op *
lvs_init_on(struct spdk_bs_dev *dev, const char *name, uint32_t cluster_sz, int clear_method,
	    uint32_t md_pages_ratio)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();
	struct spdk_lvs_opts opts;
	int rc;

	if (op == NULL) {
		if (dev != NULL) {
			dev->destroy(dev);
		}
		return NULL;
	}
	if (strnlen(name, SPDK_LVS_NAME_MAX) >= SPDK_LVS_NAME_MAX) {
		if (dev != NULL) {
			dev->destroy(dev);
		}
		spdk_wasm_op_finish(op, -EINVAL, 0);
		return op;
	}
	if (dev == NULL) {
		spdk_wasm_op_finish(op, -ENOMEM, 0);
		return op;
	}
	spdk_lvs_opts_init(&opts);
	if (cluster_sz != 0) {
		opts.cluster_sz = cluster_sz;
	}
	if (md_pages_ratio != 0) {
		opts.num_md_pages_per_cluster_ratio = md_pages_ratio;
	}
	opts.clear_method = (enum lvs_clear_method)clear_method;
	snprintf(opts.name, sizeof(opts.name), "%s", name);
	rc = spdk_lvs_init(dev, &opts, lvol_op_lvs_cpl, op);
	if (rc != 0) {
		dev->destroy(dev);
		spdk_wasm_op_finish(op, rc, 0);
	}
	return op;
}

/* spdk_lvs_init on a new bs_dev over the in-memory disk. cluster_sz 0 = 4 MiB;
 * clear_method: enum lvs_clear_method; md_pages_ratio 0 = 100. Result: the lvol store. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvs_init(struct blob_mem_disk *disk, const char *name, uint32_t cluster_sz,
		   int clear_method, uint32_t md_pages_ratio)
{
	return lvs_init_on(blob_mem_dev_create(disk), name, cluster_sz, clear_method, md_pages_ratio);
}

/* bdev_aio_create + bdev_lvol_create_lvstore: spdk_lvs_init on a new bs_dev over the AIO-like
 * disk of spdk_wasm_blockdev.c (arguments as spdk_wasm_lvs_init). On a disk opened without
 * fallocate the store's clear (unmap) and every later unmap change nothing, as on Longhorn's AIO
 * disks. Result: the lvol store. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvs_init_aio(struct blob_aio_disk *disk, const char *name, uint32_t cluster_sz,
		       int clear_method, uint32_t md_pages_ratio)
{
	return lvs_init_on(blob_aio_dev_create(disk), name, cluster_sz, clear_method, md_pages_ratio);
}

/* spdk_lvs_load from the AIO-like disk. Result: the lvol store. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvs_load_aio(struct blob_aio_disk *disk)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();
	struct spdk_bs_dev *dev;

	if (op == NULL) {
		return NULL;
	}
	dev = blob_aio_dev_create(disk);
	if (dev == NULL) {
		spdk_wasm_op_finish(op, -ENOMEM, 0);
		return op;
	}
	spdk_lvs_load(dev, lvol_op_lvs_cpl, op);
	return op;
}

/* spdk_lvs_load on a new bs_dev over the disk. Result: the lvol store. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvs_load(struct blob_mem_disk *disk)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op != NULL) {
		spdk_lvs_load(blob_mem_dev_create(disk), lvol_op_lvs_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvs_unload(struct spdk_lvol_store *lvs)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();
	int rc;

	if (op != NULL) {
		rc = spdk_lvs_unload(lvs, lvol_op_basic_cpl, op);
		if (rc != 0) {
			spdk_wasm_op_finish(op, rc, 0);
		}
	}
	return op;
}

SPDK_WASM_API struct spdk_lvol_store *
spdk_wasm_lvs_get_first(void)
{
	return spdk_lvs_get_first();
}

SPDK_WASM_API struct spdk_lvol_store *
spdk_wasm_lvs_get_next(struct spdk_lvol_store *lvs)
{
	return spdk_lvs_get_next(lvs);
}

SPDK_WASM_API struct spdk_lvol_store *
spdk_wasm_lvs_get_by_name(const char *name)
{
	return spdk_lvs_get_by_name(name);
}

/* NULL when uuid does not parse or names no loaded store. */
SPDK_WASM_API struct spdk_lvol_store *
spdk_wasm_lvs_get_by_uuid(const char *uuid)
{
	struct spdk_uuid u;

	return spdk_uuid_parse(&u, uuid) == 0 ? spdk_lvs_get_by_uuid(&u) : NULL;
}

SPDK_WASM_API char *
spdk_wasm_lvs_name(struct spdk_lvol_store *lvs)
{
	return lvs->name;
}

/* The store's uuid string (a static buffer, valid until the next call). */
SPDK_WASM_API char *
spdk_wasm_lvs_uuid(struct spdk_lvol_store *lvs)
{
	static char buf[SPDK_UUID_STRING_LEN];

	spdk_uuid_fmt_lower(buf, sizeof(buf), &lvs->uuid);
	return buf;
}

SPDK_WASM_API struct spdk_blob_store *
spdk_wasm_lvs_blobstore(struct spdk_lvol_store *lvs)
{
	return spdk_lvol_get_bs(lvs);
}

/* Store facts: 0 cluster_size, 1 total data clusters, 2 free clusters, 3 block size (io_unit),
 * 4 lvols, 5 md pages, 6 super blob index. */
SPDK_WASM_API double
spdk_wasm_lvs_info(struct spdk_lvol_store *lvs, int which)
{
	struct spdk_blob_store *bs = lvs->blobstore;

	switch (which) {
	case 0: return (double)spdk_bs_get_cluster_size(bs);
	case 1: return (double)spdk_bs_total_data_cluster_count(bs);
	case 2: return (double)spdk_bs_free_cluster_count(bs);
	case 3: return (double)spdk_bs_get_io_unit_size(bs);
	case 4: return lvs->lvol_count;
	case 6: return (double)(uint32_t)lvs->super_blob_id;
	default: return -1;
	}
}

/* ---- lvols ---- */

/* spdk_lvol_create; size in bytes; clear_method: enum lvol_clear_method. Result: the lvol. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_create(struct spdk_lvol_store *lvs, const char *name, double size, int thin,
		      int clear_method)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();
	int rc;

	if (op == NULL) {
		return NULL;
	}
	if (!(size >= 0) || size > 9007199254740992.0) {
		spdk_wasm_op_finish(op, -EINVAL, 0);
		return op;
	}
	rc = spdk_lvol_create(lvs, name, (uint64_t)size, thin != 0,
			      (enum lvol_clear_method)clear_method, lvol_op_lvol_cpl, op);
	if (rc != 0) {
		spdk_wasm_op_finish(op, rc, 0);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_snapshot(struct spdk_lvol *lvol, const char *name)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op != NULL) {
		spdk_lvol_create_snapshot(lvol, name, lvol_op_lvol_cpl, op);
	}
	return op;
}

/* bdev_lvol_snapshot with `xattrs` (LH fork): spdk_lvol_create_snapshot_with_xattrs; xattrs is
 * a char *[] of xattrs_num entries {name, value, ...} (void * here: the seam carries plain
 * addresses), copied before this returns. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_snapshot_xattrs(struct spdk_lvol *lvol, const char *name, const void *xattrs,
			       uint32_t xattrs_num)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op != NULL) {
		spdk_lvol_create_snapshot_with_xattrs(lvol, name, (const char *const *)xattrs, xattrs_num,
						      lvol_op_lvol_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_clone(struct spdk_lvol *lvol, const char *name)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op != NULL) {
		spdk_lvol_create_clone(lvol, name, lvol_op_lvol_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_rename(struct spdk_lvol *lvol, const char *name)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op != NULL) {
		spdk_lvol_rename(lvol, name, lvol_op_basic_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_resize(struct spdk_lvol *lvol, double size)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op == NULL) {
		return NULL;
	}
	if (!(size >= 0) || size > 9007199254740992.0) {
		spdk_wasm_op_finish(op, -EINVAL, 0);
		return op;
	}
	spdk_lvol_resize(lvol, (uint64_t)size, lvol_op_basic_cpl, op);
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_set_read_only(struct spdk_lvol *lvol)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op != NULL) {
		spdk_lvol_set_read_only(lvol, lvol_op_basic_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_set_xattr(struct spdk_lvol *lvol, const char *name, const void *value,
			 uint32_t len)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op == NULL) {
		return NULL;
	}
	if (len > UINT16_MAX) {
		spdk_wasm_op_finish(op, -EINVAL, 0);
		return op;
	}
	spdk_lvol_set_xattr(lvol, name, value, (uint16_t)len, lvol_op_basic_cpl, op);
	return op;
}

/* bdev_lvol_get_xattr: copies up to cap bytes of the xattr to out; returns its length, -ENOENT,
 * or -EBADF when the lvol is closed. */
SPDK_WASM_API int
spdk_wasm_lvol_get_xattr(struct spdk_lvol *lvol, const char *name, void *out, uint32_t cap)
{
	const void *value;
	size_t len;
	int rc;

	rc = spdk_lvol_get_xattr(lvol, name, &value, &len);
	if (rc != 0) {
		return rc;
	}
	memcpy(out, value, spdk_min((size_t)cap, len));
	return (int)len;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_open(struct spdk_lvol *lvol)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op != NULL) {
		spdk_lvol_open(lvol, lvol_op_lvol_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_close(struct spdk_lvol *lvol)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op != NULL) {
		spdk_lvol_close(lvol, lvol_op_basic_cpl, op);
	}
	return op;
}

/* spdk_lvol_destroy; the lvol must be closed (bdev_lvol_delete closes it first). */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_destroy(struct spdk_lvol *lvol)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op != NULL) {
		spdk_lvol_destroy(lvol, lvol_op_basic_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_inflate(struct spdk_lvol *lvol)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op != NULL) {
		spdk_lvol_inflate(lvol, lvol_op_basic_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_lvol_decouple_parent(struct spdk_lvol *lvol)
{
	struct blob_wasm_op *op = spdk_wasm_op_new();

	if (op != NULL) {
		spdk_lvol_decouple_parent(lvol, lvol_op_basic_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct spdk_lvol *
spdk_wasm_lvol_get_first(struct spdk_lvol_store *lvs)
{
	return spdk_lvol_get_first(lvs);
}

SPDK_WASM_API struct spdk_lvol *
spdk_wasm_lvol_get_next(struct spdk_lvol *lvol)
{
	return spdk_lvol_get_next(lvol);
}

SPDK_WASM_API struct spdk_lvol *
spdk_wasm_lvol_get_by_names(const char *lvs_name, const char *lvol_name)
{
	return spdk_lvol_get_by_names(lvs_name, lvol_name);
}

SPDK_WASM_API struct spdk_lvol *
spdk_wasm_lvol_get_by_uuid(const char *uuid)
{
	struct spdk_uuid u;

	return spdk_uuid_parse(&u, uuid) == 0 ? spdk_lvol_get_by_uuid(&u) : NULL;
}

SPDK_WASM_API char *
spdk_wasm_lvol_name(struct spdk_lvol *lvol)
{
	return lvol->name;
}

/* The bdev name: the uuid, or "<lvs uuid>_<blob id>" for an lvol without one. */
SPDK_WASM_API char *
spdk_wasm_lvol_unique_id(struct spdk_lvol *lvol)
{
	return lvol->unique_id;
}

/* RFC 3339 (LH fork), "" for an lvol stored without one. */
SPDK_WASM_API char *
spdk_wasm_lvol_creation_time(struct spdk_lvol *lvol)
{
	return lvol->creation_time;
}

/* "" when the lvol has no uuid xattr. */
SPDK_WASM_API char *
spdk_wasm_lvol_uuid(struct spdk_lvol *lvol)
{
	return lvol->uuid_str;
}

SPDK_WASM_API struct spdk_lvol_store *
spdk_wasm_lvol_store(struct spdk_lvol *lvol)
{
	return lvol->lvol_store;
}

/* The open blob (I/O through spdk_wasm_blob_io), NULL while closed. */
SPDK_WASM_API struct spdk_blob *
spdk_wasm_lvol_blob(struct spdk_lvol *lvol)
{
	return lvol->blob;
}

static struct spdk_lvol *
lvol_by_blob_id(struct spdk_lvol_store *lvs, spdk_blob_id id)
{
	struct spdk_lvol *l;

	TAILQ_FOREACH(l, &lvs->lvols, link) {
		if (l->blob_id == id) {
			return l;
		}
	}
	return NULL;
}

/* The lvol of the parent snapshot, NULL if none. */
SPDK_WASM_API struct spdk_lvol *
spdk_wasm_lvol_parent(struct spdk_lvol *lvol)
{
	spdk_blob_id p = spdk_blob_get_parent_snapshot(lvol->lvol_store->blobstore, lvol->blob_id);

	return p == SPDK_BLOBID_INVALID ? NULL : lvol_by_blob_id(lvol->lvol_store, p);
}

/* The i-th clone's lvol of a snapshot, NULL past the end. */
SPDK_WASM_API struct spdk_lvol *
spdk_wasm_lvol_clone_at(struct spdk_lvol *lvol, uint32_t i)
{
	spdk_blob_id ids[64];
	size_t count = SPDK_COUNTOF(ids);

	if (spdk_blob_get_clones(lvol->lvol_store->blobstore, lvol->blob_id, ids, &count) != 0 ||
	    i >= count) {
		return NULL;
	}
	return lvol_by_blob_id(lvol->lvol_store, ids[i]);
}

/* Lvol facts (the open ones need an open lvol, else -1): 0 num_clusters, 1
 * num_allocated_clusters, 2 thin, 3 read-only, 4 is snapshot, 5 is clone, 6 ref_count, 7 blob
 * index, 8 clone count, 9 clear method, 10 size in bytes. */
SPDK_WASM_API double
spdk_wasm_lvol_info(struct spdk_lvol *lvol, int which)
{
	struct spdk_blob *b = lvol->blob;
	size_t count = 0;

	switch (which) {
	case 6: return lvol->ref_count;
	case 7: return (double)(uint32_t)lvol->blob_id;
	case 8:
		spdk_blob_get_clones(lvol->lvol_store->blobstore, lvol->blob_id, NULL, &count);
		return (double)count;
	case 9: return lvol->clear_method;
	default: break;
	}
	if (b == NULL) {
		return -1;
	}
	switch (which) {
	case 0: return (double)spdk_blob_get_num_clusters(b);
	case 1: return (double)spdk_blob_get_num_allocated_clusters(b);
	case 2: return spdk_blob_is_thin_provisioned(b);
	case 3: return spdk_blob_is_read_only(b);
	case 4: return spdk_blob_is_snapshot(b);
	case 5: return spdk_blob_is_clone(b);
	case 10: return (double)(spdk_blob_get_num_clusters(b) * spdk_bs_get_cluster_size(lvol->lvol_store->blobstore));
	default: return -1;
	}
}
