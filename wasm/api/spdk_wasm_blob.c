/* Exported interface of the blobstore model (lib/blob) for the TypeScript host and tests.
 *
 * Conventions:
 * - Asynchronous operations return an op handle (struct blob_wasm_op *, never NULL unless out of
 *   memory). The host polls the machine (spdk_wasm_poll_once) until spdk_wasm_blob_op_done(op)
 *   is 1, reads spdk_wasm_blob_op_rc / spdk_wasm_blob_op_result, then spdk_wasm_blob_op_free.
 *   Every completion is also traced as "blob_op_done" (op, rc, result).
 * - Blobs are named by their md page index (blob id = 1<<32 | index), so ids fit a u32.
 * - Sizes and counters come back as doubles (exact below 2^53).
 * - Errors are negative errno values (emscripten's numbering). */
#include <emscripten/emscripten.h>

#include "spdk/stdinc.h"
#include "spdk/crc32.h"
#include "spdk/blob.h"
#include "spdk/blob_mem.h"
#include "spdk/log.h"
#include "spdk/thread.h"
#include "spdk_internal/trace_host.h"

#include "../lib/blob/blobstore.h"
#include "spdk_wasm_op.h"

#define SPDK_WASM_API EMSCRIPTEN_KEEPALIVE

static struct blob_wasm_op *
op_new(void)
{
	return calloc(1, sizeof(struct blob_wasm_op));
}

static void
op_finish(struct blob_wasm_op *op, int rc, uint32_t result)
{
	op->done = 1;
	op->rc = rc;
	op->result = result;
	SPDK_WASM_TRACE("blob_op_done", op, (uint32_t)rc, result, 0);
}

/* For the other export files (spdk_wasm_op.h): their ops use the same handles. */
struct blob_wasm_op *
spdk_wasm_op_new(void)
{
	return op_new();
}

void
spdk_wasm_op_finish(struct blob_wasm_op *op, int rc, uint32_t result)
{
	op_finish(op, rc, result);
}

static void
op_basic_cpl(void *cb_arg, int bserrno)
{
	op_finish(cb_arg, bserrno, 0);
}

static void
op_bs_cpl(void *cb_arg, struct spdk_blob_store *bs, int bserrno)
{
	op_finish(cb_arg, bserrno, (uint32_t)(uintptr_t)bs);
}

static void
op_blob_cpl(void *cb_arg, struct spdk_blob *blob, int bserrno)
{
	op_finish(cb_arg, bserrno, (uint32_t)(uintptr_t)blob);
}

static void
op_blobid_cpl(void *cb_arg, spdk_blob_id id, int bserrno)
{
	op_finish(cb_arg, bserrno, bserrno == 0 ? bs_blobid_to_page(id) : UINT32_MAX);
}

static spdk_blob_id
blob_index_to_id(uint32_t index)
{
	return bs_page_to_blobid(index);
}

/* ---- op handles ---- */

/* 1 once the operation completed. */
SPDK_WASM_API int
spdk_wasm_blob_op_done(struct blob_wasm_op *op)
{
	return op->done;
}

/* 0 or a negative errno. */
SPDK_WASM_API int
spdk_wasm_blob_op_rc(struct blob_wasm_op *op)
{
	return op->rc;
}

/* Blob index (create/snapshot/clone) or pointer (load/init: bs, open: blob). */
SPDK_WASM_API uint32_t
spdk_wasm_blob_op_result(struct blob_wasm_op *op)
{
	return op->result;
}

SPDK_WASM_API void
spdk_wasm_blob_op_free(struct blob_wasm_op *op)
{
	free(op);
}

/* ---- CRC ---- */

/* Standard CRC-32C of len bytes (init ~0, final xor ~0) as the blobstore stores it. */
SPDK_WASM_API uint32_t
spdk_wasm_crc32c(const void *buf, uint32_t len)
{
	return spdk_crc32c_update(buf, len, SPDK_CRC32C_INITIAL) ^ SPDK_CRC32C_XOR;
}

/* ---- in-memory disk ---- */

/* A zeroed disk of blockcnt blocks of blocklen bytes. unmap_zeroes=0 models an AIO disk without
 * unmap (freed clusters keep old bytes). */
SPDK_WASM_API struct blob_mem_disk *
spdk_wasm_mem_disk_create(uint32_t blockcnt, uint32_t blocklen, int unmap_zeroes)
{
	return blob_mem_disk_create((uint64_t)blockcnt * blocklen, blocklen, unmap_zeroes != 0);
}

SPDK_WASM_API void
spdk_wasm_mem_disk_free(struct blob_mem_disk *disk)
{
	blob_mem_disk_free(disk);
}

/* Address of the disk's bytes in linear memory (read/write them from the host). */
SPDK_WASM_API uint8_t *
spdk_wasm_mem_disk_buffer(struct blob_mem_disk *disk)
{
	return disk->buf;
}

SPDK_WASM_API void
spdk_wasm_mem_disk_set_opts(struct blob_mem_disk *disk, int unmap_zeroes, int copy_enabled)
{
	disk->unmap_zeroes = unmap_zeroes != 0;
	disk->copy_enabled = copy_enabled != 0;
}

/* Thresholds as in bs_dev_common.c (0 = off); resets the counters and the failure state. */
SPDK_WASM_API void
spdk_wasm_mem_disk_set_power_failure(struct blob_mem_disk *disk, uint32_t general, uint32_t read,
				     uint32_t write, uint32_t unmap, uint32_t write_zero,
				     uint32_t flush)
{
	struct spdk_power_failure_thresholds t = {
		.general_threshold = general, .read_threshold = read, .write_threshold = write,
		.unmap_threshold = unmap, .write_zero_threshold = write_zero, .flush_threshold = flush,
	};

	blob_mem_disk_set_power_failure(disk, &t);
}

/* Counters: 0 read bytes, 1 write bytes (incl. write_zeroes), 2 write_zeroes bytes, 3 unmap
 * bytes, 4 copy bytes, 5 write-type commands applied, 6 1 if a power failure fired, 7 commands
 * counted against the general power-failure threshold (counts only while one is set). */
SPDK_WASM_API double
spdk_wasm_mem_disk_counter(struct blob_mem_disk *disk, int which)
{
	switch (which) {
	case 0: return (double)disk->read_bytes;
	case 1: return (double)disk->write_bytes;
	case 2: return (double)disk->write_zeroes_bytes;
	case 3: return (double)disk->unmap_bytes;
	case 4: return (double)disk->copy_bytes;
	case 5: return (double)disk->write_ops;
	case 6: return disk->power_failure_rc != 0 ? 1.0 : 0.0;
	case 7: return (double)disk->counters.general_counter;
	default: return -1.0;
	}
}

/* Kind (enum blob_mem_cmd: 0 read, 1 write, 2 write_zeroes, 3 unmap, 4 flush, 5 copy) of the
 * i-th command counted against the general power-failure threshold, -1 if not logged. */
SPDK_WASM_API int
spdk_wasm_mem_disk_cmd_kind(struct blob_mem_disk *disk, uint32_t i)
{
	if (i >= disk->counters.general_counter || i >= sizeof(disk->cmd_log)) {
		return -1;
	}
	return disk->cmd_log[i];
}

SPDK_WASM_API void
spdk_wasm_mem_disk_reset_counters(struct blob_mem_disk *disk)
{
	disk->read_bytes = disk->write_bytes = disk->write_zeroes_bytes = 0;
	disk->unmap_bytes = disk->copy_bytes = disk->write_ops = 0;
}

/* ---- blobstore ---- */

static void
fill_bstype(struct spdk_bs_type *t, const char *bstype)
{
	memset(t, 0, sizeof(*t));
	if (bstype != NULL) {
		strncpy(t->bstype, bstype, sizeof(t->bstype));
	}
}

/* op_new for a call that takes dev over; NULL, with dev freed, when either is missing. */
static struct blob_wasm_op *
op_new_for_dev(struct spdk_bs_dev *dev)
{
	struct blob_wasm_op *op = op_new();

	if (op == NULL || dev == NULL) {
		free(op);
		free(dev);
		return NULL;
	}
	return op;
}

struct blob_wasm_op *
spdk_wasm_bs_init_dev(struct spdk_bs_dev *dev, uint32_t cluster_sz, uint32_t num_md_pages,
		      int clear_method, const char *bstype)
{
	struct blob_wasm_op *op = op_new_for_dev(dev);
	struct spdk_bs_opts opts;

	if (op == NULL) {
		return NULL;
	}
	spdk_bs_opts_init(&opts, sizeof(opts));
	opts.cluster_sz = cluster_sz;
	if (num_md_pages != 0) {
		opts.num_md_pages = num_md_pages;
	}
	opts.clear_method = (enum bs_clear_method)clear_method;
	fill_bstype(&opts.bstype, bstype);
	spdk_bs_init(dev, &opts, op_bs_cpl, op);
	return op;
}

struct blob_wasm_op *
spdk_wasm_bs_load_dev(struct spdk_bs_dev *dev, const char *bstype)
{
	struct blob_wasm_op *op = op_new_for_dev(dev);
	struct spdk_bs_opts opts;

	if (op == NULL) {
		return NULL;
	}
	spdk_bs_opts_init(&opts, sizeof(opts));
	fill_bstype(&opts.bstype, bstype);
	spdk_bs_load(dev, &opts, op_bs_cpl, op);
	return op;
}

/* spdk_bs_init on a new bs_dev over disk (arguments as spdk_wasm_bs_init_dev). Result: the
 * spdk_blob_store pointer. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_bs_init(struct blob_mem_disk *disk, uint32_t cluster_sz, uint32_t num_md_pages,
		  int clear_method, const char *bstype)
{
	return spdk_wasm_bs_init_dev(blob_mem_dev_create(disk), cluster_sz, num_md_pages, clear_method,
				     bstype);
}

/* spdk_bs_load on a new bs_dev over disk; bstype NULL or "" = wildcard. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_bs_load(struct blob_mem_disk *disk, const char *bstype)
{
	return spdk_wasm_bs_load_dev(blob_mem_dev_create(disk), bstype);
}

/* spdk_bs_load over a bs_dev that claims blockcnt blocks (tests a device shorter than size). */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_bs_load_truncated(struct blob_mem_disk *disk, uint32_t blockcnt)
{
	struct blob_wasm_op *op = op_new();
	struct spdk_bs_dev *dev = blob_mem_dev_create(disk);

	if (op == NULL || dev == NULL) {
		free(op);
		free(dev);
		return NULL;
	}
	if (blockcnt < dev->blockcnt) {
		dev->blockcnt = blockcnt;
	}
	spdk_bs_load(dev, NULL, op_bs_cpl, op);
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_bs_unload(struct spdk_blob_store *bs)
{
	struct blob_wasm_op *op = op_new();

	if (op != NULL) {
		spdk_bs_unload(bs, op_basic_cpl, op);
	}
	return op;
}

/* Store facts: 0 cluster_sz, 1 total_clusters, 2 free clusters, 3 total data clusters,
 * 4 md_start, 5 md_len, 6 io_unit_size, 7 clean (in memory), 8 super blob index or -1,
 * 9 open blobs, 10 used md pages, 11 used blob ids, 12 used clusters. */
SPDK_WASM_API double
spdk_wasm_bs_info(struct spdk_blob_store *bs, int which)
{
	struct spdk_blob *b;
	double n = 0;

	switch (which) {
	case 0: return bs->cluster_sz;
	case 1: return (double)bs->total_clusters;
	case 2: return (double)bs->num_free_clusters;
	case 3: return (double)bs->total_data_clusters;
	case 4: return (double)bs->md_start;
	case 5: return bs->md_len;
	case 6: return bs->io_unit_size;
	case 7: return bs->clean ? 1 : 0;
	case 8: return bs->super_blob == SPDK_BLOBID_INVALID ? -1.0 : (double)bs_blobid_to_page(bs->super_blob);
	case 9:
		TAILQ_FOREACH(b, &bs->blobs, link) {
			n++;
		}
		return n;
	case 10: return bs->used_md_pages.set_count;
	case 11: return bs->used_blobids.set_count;
	case 12: return bs->used_clusters.set_count;
	default: return -1;
	}
}

/* 1 if bit i of the in-memory map is set: map 0 md pages, 1 clusters, 2 blob ids. */
SPDK_WASM_API int
spdk_wasm_bs_map_get(struct spdk_blob_store *bs, int map, uint32_t i)
{
	switch (map) {
	case 0: return bs_bit_array_get(&bs->used_md_pages, i);
	case 1: return bs_bit_array_get(&bs->used_clusters, i);
	case 2: return bs_bit_array_get(&bs->used_blobids, i);
	default: return -1;
	}
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_bs_set_super(struct spdk_blob_store *bs, uint32_t index)
{
	struct blob_wasm_op *op = op_new();

	if (op != NULL) {
		spdk_bs_set_super(bs, blob_index_to_id(index), op_basic_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct spdk_io_channel *
spdk_wasm_bs_alloc_io_channel(struct spdk_blob_store *bs)
{
	return spdk_bs_alloc_io_channel(bs);
}

SPDK_WASM_API void
spdk_wasm_bs_free_io_channel(struct spdk_io_channel *ch)
{
	spdk_bs_free_io_channel(ch);
}

/* ---- blobs ---- */

struct wasm_xattr_one {
	char		*name;
	const void	*value;
	size_t		len;
};

static void
wasm_xattr_get(void *ctx, const char *name, const void **value, size_t *value_len)
{
	struct wasm_xattr_one *x = ctx;

	(void)name;
	*value = x->value;
	*value_len = x->len;
}

/* spdk_bs_create_blob_ext: num_clusters, thin, use_extent_table, clear_method (enum
 * blob_clear_method); one optional xattr (name NULL = none). Result: the blob index. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_bs_create_blob(struct spdk_blob_store *bs, uint32_t num_clusters, int thin,
			 int use_extent_table, int clear_method, char *xattr_name,
			 const void *xattr_value, uint32_t xattr_len)
{
	struct blob_wasm_op *op = op_new();
	struct spdk_blob_opts opts;
	struct wasm_xattr_one x = { xattr_name, xattr_value, xattr_len };

	if (op == NULL) {
		return NULL;
	}
	spdk_blob_opts_init(&opts, sizeof(opts));
	opts.num_clusters = num_clusters;
	opts.thin_provision = thin != 0;
	opts.use_extent_table = use_extent_table != 0;
	opts.clear_method = (enum blob_clear_method)clear_method;
	if (xattr_name != NULL) {
		opts.xattrs.count = 1;
		opts.xattrs.names = &x.name;
		opts.xattrs.ctx = &x;
		opts.xattrs.get_value = wasm_xattr_get;
	}
	/* The xattr is copied while the create call runs, so x may live on this stack. */
	spdk_bs_create_blob_ext(bs, &opts, op_blobid_cpl, op);
	return op;
}

/* Result: the spdk_blob pointer. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_bs_open_blob(struct spdk_blob_store *bs, uint32_t index)
{
	struct blob_wasm_op *op = op_new();

	if (op != NULL) {
		spdk_bs_open_blob(bs, blob_index_to_id(index), op_blob_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_blob_close(struct spdk_blob *blob)
{
	struct blob_wasm_op *op = op_new();

	if (op != NULL) {
		spdk_blob_close(blob, op_basic_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_blob_resize(struct spdk_blob *blob, uint32_t num_clusters)
{
	struct blob_wasm_op *op = op_new();

	if (op != NULL) {
		spdk_blob_resize(blob, num_clusters, op_basic_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_blob_sync_md(struct spdk_blob *blob)
{
	struct blob_wasm_op *op = op_new();

	if (op != NULL) {
		spdk_blob_sync_md(blob, op_basic_cpl, op);
	}
	return op;
}

SPDK_WASM_API int
spdk_wasm_blob_set_read_only(struct spdk_blob *blob)
{
	return spdk_blob_set_read_only(blob);
}

/* internal != 0 addresses the blobstore-private xattrs (type 4). */
SPDK_WASM_API int
spdk_wasm_blob_set_xattr(struct spdk_blob *blob, const char *name, const void *value,
			 uint32_t len, int internal)
{
	if (len > UINT16_MAX) {
		return -EINVAL;
	}
	return blob_set_xattr(blob, name, value, (uint16_t)len, internal != 0);
}

SPDK_WASM_API int
spdk_wasm_blob_remove_xattr(struct spdk_blob *blob, const char *name, int internal)
{
	return blob_remove_xattr(blob, name, internal != 0);
}

/* Copies up to cap bytes of the value to out; returns the value length or -ENOENT. */
SPDK_WASM_API int
spdk_wasm_blob_get_xattr(struct spdk_blob *blob, const char *name, void *out, uint32_t cap,
			 int internal)
{
	const void *value;
	size_t len;
	int rc = blob_get_xattr_value(blob, name, &value, &len, internal != 0);

	if (rc != 0) {
		return rc;
	}
	memcpy(out, value, spdk_min((size_t)cap, len));
	return (int)len;
}

/* op_type: 0 write, 1 read, 2 unmap, 3 write_zeroes (enum spdk_blob_op_type); offset and
 * length in io_units. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_blob_io(struct spdk_blob *blob, struct spdk_io_channel *ch, int op_type, void *buf,
		  uint32_t offset, uint32_t length)
{
	struct blob_wasm_op *op = op_new();

	if (op == NULL) {
		return NULL;
	}
	switch (op_type) {
	case SPDK_BLOB_WRITE:
		spdk_blob_io_write(blob, ch, buf, offset, length, op_basic_cpl, op);
		break;
	case SPDK_BLOB_READ:
		spdk_blob_io_read(blob, ch, buf, offset, length, op_basic_cpl, op);
		break;
	case SPDK_BLOB_UNMAP:
		spdk_blob_io_unmap(blob, ch, offset, length, op_basic_cpl, op);
		break;
	case SPDK_BLOB_WRITE_ZEROES:
		spdk_blob_io_write_zeroes(blob, ch, offset, length, op_basic_cpl, op);
		break;
	default:
		op_finish(op, -EINVAL, 0);
	}
	return op;
}

/* Blob facts: 0 index, 1 num_clusters, 2 num_allocated_clusters, 3 thin, 4 read-only,
 * 5 parent index or -1, 6 open_ref, 7 num_extent_pages, 8 io_units, 9 md pages in chain,
 * 10 use_extent_table, 11 clear_method, 12 is snapshot, 13 clone count. */
SPDK_WASM_API double
spdk_wasm_blob_info(struct spdk_blob *blob, int which)
{
	struct spdk_blob_list *s;

	switch (which) {
	case 0: return bs_blobid_to_page(blob->id);
	case 1: return (double)blob->active.num_clusters;
	case 2: return (double)blob->num_allocated_clusters;
	case 3: return spdk_blob_is_thin_provisioned(blob);
	case 4: return spdk_blob_is_read_only(blob);
	case 5: return blob->parent_id == SPDK_BLOBID_INVALID ? -1.0 : (double)bs_blobid_to_page(blob->parent_id);
	case 6: return blob->open_ref;
	case 7: return blob->active.num_extent_pages;
	case 8: return (double)spdk_blob_get_num_io_units(blob);
	case 9: return blob->active.num_pages;
	case 10: return blob->use_extent_table;
	case 11: return blob->clear_method;
	case 12: return spdk_blob_is_snapshot(blob);
	case 13:
		s = bs_get_snapshot_entry(blob->bs, blob->id);
		return s ? (double)s->clone_count : 0;
	default: return -1;
	}
}

/* Physical cluster number backing blob cluster idx, 0 if unallocated, -1 if out of range. */
SPDK_WASM_API double
spdk_wasm_blob_cluster(struct spdk_blob *blob, uint32_t idx)
{
	if (idx >= blob->active.num_clusters) {
		return -1;
	}
	return blob->active.clusters[idx] ? (double)bs_lba_to_cluster(blob->bs, blob->active.clusters[idx]) : 0.0;
}

/* Result: the snapshot's blob index. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_bs_create_snapshot(struct spdk_blob_store *bs, uint32_t index)
{
	struct blob_wasm_op *op = op_new();

	if (op != NULL) {
		spdk_bs_create_snapshot(bs, blob_index_to_id(index), NULL, op_blobid_cpl, op);
	}
	return op;
}

/* Result: the clone's blob index. */
SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_bs_create_clone(struct spdk_blob_store *bs, uint32_t index)
{
	struct blob_wasm_op *op = op_new();

	if (op != NULL) {
		spdk_bs_create_clone(bs, blob_index_to_id(index), NULL, op_blobid_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_bs_delete_blob(struct spdk_blob_store *bs, uint32_t index)
{
	struct blob_wasm_op *op = op_new();

	if (op != NULL) {
		spdk_bs_delete_blob(bs, blob_index_to_id(index), op_basic_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_bs_inflate_blob(struct spdk_blob_store *bs, struct spdk_io_channel *ch, uint32_t index)
{
	struct blob_wasm_op *op = op_new();

	if (op != NULL) {
		spdk_bs_inflate_blob(bs, ch, blob_index_to_id(index), op_basic_cpl, op);
	}
	return op;
}

SPDK_WASM_API struct blob_wasm_op *
spdk_wasm_bs_blob_decouple_parent(struct spdk_blob_store *bs, struct spdk_io_channel *ch,
				  uint32_t index)
{
	struct blob_wasm_op *op = op_new();

	if (op != NULL) {
		spdk_bs_blob_decouple_parent(bs, ch, blob_index_to_id(index), op_basic_cpl, op);
	}
	return op;
}
