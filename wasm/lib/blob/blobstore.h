/* Blobstore internals: on-disk structures (spec §1), in-memory store and blob, and the helpers
 * shared by the files of lib/blob. Names follow upstream lib/blob/blobstore.h. */
#ifndef SPDK_BLOBSTORE_H
#define SPDK_BLOBSTORE_H

#include "spdk/stdinc.h"
#include "spdk/blob.h"
#include "spdk/queue.h"
#include "spdk/thread.h"
#include "spdk/util.h"

#include "request.h"

#define SPDK_BS_PAGE_SIZE		0x1000
#define SPDK_BS_VERSION			3
#define SPDK_BS_SUPER_BLOCK_SIG		"SPDKBLOB"
#define SPDK_MD_MASK_TYPE_USED_PAGES	0
#define SPDK_MD_MASK_TYPE_USED_CLUSTERS	1
#define SPDK_MD_MASK_TYPE_USED_BLOBIDS	2

#define SPDK_MD_DESCRIPTOR_TYPE_PADDING		0
#define SPDK_MD_DESCRIPTOR_TYPE_EXTENT_RLE	1
#define SPDK_MD_DESCRIPTOR_TYPE_XATTR		2
#define SPDK_MD_DESCRIPTOR_TYPE_FLAGS		3
#define SPDK_MD_DESCRIPTOR_TYPE_XATTR_INTERNAL	4
#define SPDK_MD_DESCRIPTOR_TYPE_EXTENT_TABLE	5
#define SPDK_MD_DESCRIPTOR_TYPE_EXTENT_PAGE	6

/* invalid_flags */
#define SPDK_BLOB_THIN_PROV		(1ULL << 0)
#define SPDK_BLOB_INTERNAL_XATTR	(1ULL << 1)
#define SPDK_BLOB_EXTENT_TABLE		(1ULL << 2)
#define SPDK_BLOB_EXTERNAL_SNAPSHOT	(1ULL << 3)
#define SPDK_BLOB_INVALID_FLAGS_MASK	(SPDK_BLOB_THIN_PROV | SPDK_BLOB_INTERNAL_XATTR | \
					 SPDK_BLOB_EXTENT_TABLE | SPDK_BLOB_EXTERNAL_SNAPSHOT)
/* data_ro_flags */
#define SPDK_BLOB_READ_ONLY		(1ULL << 0)
#define SPDK_BLOB_DATA_RO_FLAGS_MASK	SPDK_BLOB_READ_ONLY
/* md_ro_flags: the clear method lives in bits 0-1 */
#define SPDK_BLOB_CLEAR_METHOD_SHIFT	0
#define SPDK_BLOB_CLEAR_METHOD		(3ULL << SPDK_BLOB_CLEAR_METHOD_SHIFT)
#define SPDK_BLOB_MD_RO_FLAGS_MASK	SPDK_BLOB_CLEAR_METHOD

/* Internal xattr names (spec §1.7). */
#define BLOB_SNAPSHOT			"SNAP"
#define SNAPSHOT_IN_PROGRESS		"SNAPTMP"
#define SNAPSHOT_PENDING_REMOVAL	"SNAPRM"
#define BLOB_EXTERNAL_SNAPSHOT_ID	"EXTSNAP"

struct spdk_bs_super_block {
	uint8_t		signature[8];
	uint32_t	version;
	uint32_t	length;
	uint32_t	clean;
	spdk_blob_id	super_blob;
	uint32_t	cluster_size;
	uint32_t	used_page_mask_start;
	uint32_t	used_page_mask_len;
	uint32_t	used_cluster_mask_start;
	uint32_t	used_cluster_mask_len;
	uint32_t	md_start;
	uint32_t	md_len;
	struct spdk_bs_type	bstype;
	uint32_t	used_blobid_mask_start;
	uint32_t	used_blobid_mask_len;
	uint64_t	size;
	uint32_t	io_unit_size;
	uint8_t		reserved[4000];
	uint32_t	crc;
} __attribute__((packed));
SPDK_STATIC_ASSERT(sizeof(struct spdk_bs_super_block) == 0x1000, "Invalid super block size");

struct spdk_bs_md_mask {
	uint8_t		type;
	uint32_t	length; /* In bits */
	uint8_t		mask[0];
} __attribute__((packed));

struct spdk_blob_md_descriptor {
	uint8_t		type;
	uint32_t	length;
} __attribute__((packed));

struct spdk_blob_md_descriptor_extent_rle {
	uint8_t		type;
	uint32_t	length;
	struct {
		uint32_t	cluster_idx;
		uint32_t	length; /* In units of clusters */
	} __attribute__((packed)) extents[0];
} __attribute__((packed));

struct spdk_blob_md_descriptor_extent_table {
	uint8_t		type;
	uint32_t	length;
	uint64_t	num_clusters;
	struct {
		uint32_t	page_idx;
		uint32_t	num_pages; /* In units of pages */
	} __attribute__((packed)) extent_page[0];
} __attribute__((packed));

struct spdk_blob_md_descriptor_extent_page {
	uint8_t		type;
	uint32_t	length;
	uint32_t	start_cluster_idx;
	uint32_t	cluster_idx[0];
} __attribute__((packed));

struct spdk_blob_md_descriptor_xattr {
	uint8_t		type;
	uint32_t	length;
	uint16_t	name_length;
	uint16_t	value_length;
	char		name[0];
	/* value follows the name */
} __attribute__((packed));

struct spdk_blob_md_descriptor_flags {
	uint8_t		type;
	uint32_t	length;
	uint64_t	invalid_flags;
	uint64_t	data_ro_flags;
	uint64_t	md_ro_flags;
} __attribute__((packed));

#define SPDK_BS_MAX_DESC_SIZE	4072

struct spdk_blob_md_page {
	spdk_blob_id	id;
	uint32_t	sequence_num;
	uint32_t	reserved0;
	uint8_t		descriptors[SPDK_BS_MAX_DESC_SIZE];
	uint32_t	next;
	uint32_t	crc;
} __attribute__((packed));
SPDK_STATIC_ASSERT(sizeof(struct spdk_blob_md_page) == SPDK_BS_PAGE_SIZE, "Invalid md page size");

#define SPDK_INVALID_MD_PAGE		UINT32_MAX
/* (4072 - header of an extent page descriptor) / 4, rounded down to a power of two, halved. */
#define SPDK_EXTENTS_PER_EP		512

/* ---- bit arrays (upstream lib/util bit_array / bit_pool, reduced) ---- */

struct bs_bit_array {
	uint32_t	bit_count;
	uint32_t	set_count;
	uint8_t		*bits;
};

int bs_bit_array_resize(struct bs_bit_array *ba, uint32_t bit_count);
void bs_bit_array_free(struct bs_bit_array *ba);
bool bs_bit_array_get(const struct bs_bit_array *ba, uint32_t bit);
void bs_bit_array_set(struct bs_bit_array *ba, uint32_t bit);
void bs_bit_array_clear(struct bs_bit_array *ba, uint32_t bit);
/* Lowest clear bit at or after 'start', or UINT32_MAX. */
uint32_t bs_bit_array_find_first_clear(const struct bs_bit_array *ba, uint32_t start);


/* ---- in-memory objects ---- */

struct spdk_xattr {
	uint32_t	index;
	uint16_t	value_len;
	char		*name;
	void		*value;
	TAILQ_ENTRY(spdk_xattr)	link;
};
TAILQ_HEAD(spdk_xattr_tailq, spdk_xattr);

struct spdk_xattr_names {
	uint32_t	count;
	const char	*names[0];
};

/* The per-blob mutable metadata; 'clean' is what was last persisted, 'active' the current. */
struct spdk_blob_mut_data {
	uint64_t	num_clusters;
	uint64_t	*clusters;	/* device LBA of each cluster's start, 0 = unallocated */
	size_t		cluster_array_size;
	uint32_t	num_extent_pages;
	uint32_t	*extent_pages;	/* md page index of each extent page, 0 = none */
	size_t		extent_pages_array_size;
	uint32_t	num_pages;
	uint32_t	*pages;		/* md page indexes of the chain; pages[0] = the blob's own */
	size_t		pages_array_size;
};

enum spdk_blob_state {
	SPDK_BLOB_STATE_DIRTY,
	SPDK_BLOB_STATE_CLEAN,
	SPDK_BLOB_STATE_LOADING,
};

struct spdk_blob_persist_ctx;

struct spdk_blob {
	struct spdk_blob_store	*bs;
	uint32_t		open_ref;
	spdk_blob_id		id;
	spdk_blob_id		parent_id;
	enum spdk_blob_state	state;

	struct spdk_blob_mut_data	clean;
	struct spdk_blob_mut_data	active;

	bool		invalid;
	bool		data_ro;
	bool		md_ro;
	uint64_t	invalid_flags;
	uint64_t	data_ro_flags;
	uint64_t	md_ro_flags;

	struct spdk_bs_dev	*back_bs_dev;

	struct spdk_xattr_tailq	xattrs;
	struct spdk_xattr_tailq	xattrs_internal;

	TAILQ_ENTRY(spdk_blob)	link;

	uint32_t	frozen_refcnt;
	bool		locked_operation_in_progress;
	enum blob_clear_method	clear_method;
	bool		extent_rle_found;
	bool		extent_table_found;
	bool		use_extent_table;
	/* Every allocated extent page is rewritten at the next persist (clusters moved in). */
	bool		extent_pages_dirty;

	uint64_t	num_allocated_clusters;

	/* Clusters and extent pages cut off by a shrink; released (and cleared per the clear
	 * method) once the metadata that no longer names them is on disk. */
	uint32_t	*truncated_clusters;
	uint32_t	num_truncated_clusters;
	uint32_t	*truncated_extent_pages;
	uint32_t	num_truncated_extent_pages;

	/* Persists in flight: the first runs, the rest wait (upstream blob->persists_to_complete). */
	TAILQ_HEAD(, spdk_blob_persist_ctx)	persists;
};

/* Snapshot -> clones bookkeeping (upstream struct spdk_blob_list). */
struct spdk_blob_list {
	spdk_blob_id	id;
	size_t		clone_count;
	TAILQ_HEAD(, spdk_blob_list)	clones;
	TAILQ_ENTRY(spdk_blob_list)	link;
};

struct spdk_blob_store {
	uint64_t		md_start;	/* in pages */
	uint32_t		md_len;		/* in pages */

	struct spdk_io_channel	*md_channel;
	uint32_t		max_channel_ops;

	struct spdk_thread	*md_thread;
	struct spdk_bs_dev	*dev;

	struct bs_bit_array	used_md_pages;
	struct bs_bit_array	used_clusters;
	struct bs_bit_array	used_blobids;
	struct bs_bit_array	open_blobids;

	uint32_t		cluster_sz;
	uint64_t		total_clusters;
	uint64_t		total_data_clusters;
	uint64_t		num_free_clusters;
	uint64_t		pages_per_cluster;
	uint8_t			pages_per_cluster_shift;
	uint32_t		io_unit_size;

	spdk_blob_id		super_blob;
	struct spdk_bs_type	bstype;

	/* Page indexes and lengths of the masks (super block fields). */
	uint32_t		used_page_mask_start, used_page_mask_len;
	uint32_t		used_cluster_mask_start, used_cluster_mask_len;
	uint32_t		used_blobid_mask_start, used_blobid_mask_len;

	TAILQ_HEAD(, spdk_blob)	blobs;
	TAILQ_HEAD(, spdk_blob_list) snapshots;

	bool			clean;
	bool			unloading;
};

/* An I/O channel of a blobstore (upstream: the context of an spdk_io_channel). */
struct spdk_bs_channel {
	struct spdk_blob_store		*bs;
	struct spdk_bs_dev		*dev;
	struct spdk_io_channel		*dev_channel;
	/* Cluster allocations in progress; ops needing the same cluster wait behind them. */
	TAILQ_HEAD(, spdk_blob_copy_cluster_ctx)	need_cluster_alloc;
	/* Ops submitted while their blob was frozen. */
	TAILQ_HEAD(, spdk_bs_request_set)	queued_io;
	uint32_t			outstanding;
};

static inline struct spdk_bs_channel *
bs_channel_get(struct spdk_io_channel *ch)
{
	return (struct spdk_bs_channel *)ch;
}

/* ---- unit conversions ---- */

static inline uint64_t
bs_byte_to_lba(struct spdk_blob_store *bs, uint64_t length)
{
	return length / bs->dev->blocklen;
}

static inline uint64_t
bs_page_to_lba(struct spdk_blob_store *bs, uint64_t page)
{
	return page * SPDK_BS_PAGE_SIZE / bs->dev->blocklen;
}

static inline uint32_t
bs_lba_to_cluster(struct spdk_blob_store *bs, uint64_t lba)
{
	return (uint32_t)(lba / (bs->cluster_sz / bs->dev->blocklen));
}

static inline uint64_t
bs_cluster_to_lba(struct spdk_blob_store *bs, uint32_t cluster)
{
	return (uint64_t)cluster * (bs->cluster_sz / bs->dev->blocklen);
}

static inline uint64_t
bs_io_units_per_cluster(struct spdk_blob *blob)
{
	return blob->bs->cluster_sz / blob->bs->io_unit_size;
}

static inline uint64_t
bs_io_unit_per_page(struct spdk_blob_store *bs)
{
	return SPDK_BS_PAGE_SIZE / bs->io_unit_size;
}

static inline spdk_blob_id
bs_page_to_blobid(uint64_t page_idx)
{
	if (page_idx >= UINT32_MAX) {
		return SPDK_BLOBID_INVALID;
	}
	return (1ULL << 32) | page_idx;
}

static inline uint32_t
bs_blobid_to_page(spdk_blob_id id)
{
	return (uint32_t)id;
}

static inline bool
bs_io_unit_is_allocated(struct spdk_blob *blob, uint64_t io_unit)
{
	uint64_t cluster = io_unit / bs_io_units_per_cluster(blob);

	return cluster < blob->active.num_clusters && blob->active.clusters[cluster] != 0;
}

/* Device LBA of a blob io_unit in an allocated cluster. */
static inline uint64_t
bs_blob_io_unit_to_lba(struct spdk_blob *blob, uint64_t io_unit)
{
	uint64_t per = bs_io_units_per_cluster(blob);

	return blob->active.clusters[io_unit / per] + (io_unit % per) *
	       (blob->bs->io_unit_size / blob->bs->dev->blocklen);
}

/* ---- shared between the files of lib/blob ---- */

/* md page helpers (blobstore.c) */
uint32_t blob_md_page_calc_crc(void *page);
int bs_claim_md_page(struct spdk_blob_store *bs, uint32_t *page);
void bs_release_md_page(struct spdk_blob_store *bs, uint32_t page);
int bs_claim_cluster(struct spdk_blob_store *bs, uint32_t *cluster_num);
void bs_release_cluster(struct spdk_blob_store *bs, uint32_t cluster_num);

struct spdk_blob *blob_alloc(struct spdk_blob_store *bs, spdk_blob_id id);
void blob_free(struct spdk_blob *blob);
int blob_parse(const struct spdk_blob_md_page *pages, uint32_t page_count,
	       struct spdk_blob *blob);
int blob_parse_extent_page(const struct spdk_blob_md_page *page, struct spdk_blob *blob);
int blob_mut_data_ensure(struct spdk_blob_mut_data *d, uint64_t num_clusters);
int blob_set_xattr(struct spdk_blob *blob, const char *name, const void *value,
		   uint16_t value_len, bool internal);
int blob_remove_xattr(struct spdk_blob *blob, const char *name, bool internal);
int blob_get_xattr_value(struct spdk_blob *blob, const char *name, const void **value,
			 size_t *value_len, bool internal);
void blob_persist(struct spdk_blob *blob, spdk_blob_op_complete cb_fn, void *cb_arg);
void blob_write_extent_page(struct spdk_blob *blob, uint32_t extent_idx,
			    spdk_blob_op_complete cb_fn, void *cb_arg);
int blob_resize(struct spdk_blob *blob, uint64_t sz);
void blob_open_ext(struct spdk_blob_store *bs, spdk_blob_id blobid, bool ignore_locks,
		   spdk_blob_op_with_handle_complete cb_fn, void *cb_arg);
void blob_set_thin_provision(struct spdk_blob *blob);
void blob_update_clear_method(struct spdk_blob *blob);
bool blob_backed_by_zeroes(struct spdk_blob *blob);
void bs_noop_cpl(void *cb_arg, int bserrno);
void bs_send_blob_cpl(spdk_blob_op_complete cb_fn, void *cb_arg, int bserrno);
void bs_write_super(struct spdk_blob_store *bs, bool clean, spdk_bs_op_complete cb_fn,
		    void *cb_arg);
void bs_mark_dirty(struct spdk_blob_store *bs, spdk_bs_op_complete cb_fn, void *cb_arg);
/* Builds and persists a new blob with one internal xattr (none when internal_name is NULL). */
void bs_create_blob_internal(struct spdk_blob_store *bs, const struct spdk_blob_opts *opts,
			     const char *internal_name, const void *internal_value,
			     uint16_t internal_len, spdk_blob_op_with_id_complete cb_fn,
			     void *cb_arg);
/* Delete a blob that is open only by the caller, ignoring snapshot bookkeeping. */
void bs_delete_open_blob(struct spdk_blob *blob, spdk_blob_op_complete cb_fn, void *cb_arg);

/* snapshot list (blob_snapshot.c) */
int bs_blob_list_add(struct spdk_blob *blob);
void bs_blob_list_remove(struct spdk_blob *blob);
struct spdk_blob_list *bs_get_snapshot_entry(struct spdk_blob_store *bs, spdk_blob_id id);
void bs_snapshot_list_free(struct spdk_blob_store *bs);
void bs_load_examine_blobs(struct spdk_blob_store *bs, spdk_bs_op_complete cb_fn, void *cb_arg);

/* back devices (blob_bs_dev.c) */
struct spdk_bs_dev *bs_create_zeroes_dev(void);
struct spdk_bs_dev *bs_create_blob_bs_dev(struct spdk_blob *blob);
bool bs_dev_is_zeroes_dev(struct spdk_bs_dev *dev);

/* I/O (blob_io.c) */
void blob_io_touch_cluster(struct spdk_blob *blob, struct spdk_io_channel *channel,
			   uint64_t cluster, spdk_blob_op_complete cb_fn, void *cb_arg);
void blob_freeze_io(struct spdk_blob *blob);
void blob_unfreeze_io(struct spdk_blob *blob);
void bs_channel_init(struct spdk_bs_channel *ch, struct spdk_blob_store *bs);
void bs_channel_fini(struct spdk_bs_channel *ch);

/* Cluster-allocation policy hook (dc7fa5938 changes what happens for zero back ranges). */
struct spdk_blob_copy_cluster_ctx;

#endif /* SPDK_BLOBSTORE_H */
