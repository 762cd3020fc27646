/* Blobstore public API (subset of upstream include/spdk/blob.h, Longhorn fork v24.09 shape).
 *
 * A blobstore lives on an spdk_bs_dev (a block device abstraction with asynchronous read, write,
 * unmap, write_zeroes and flush). Every operation takes cb_fn/cb_arg and completes later, from a
 * message on the calling SPDK thread, with 0 or a negative errno. */
#ifndef SPDK_BLOB_H
#define SPDK_BLOB_H

#include "spdk/stdinc.h"

typedef uint64_t spdk_blob_id;
#define SPDK_BLOBID_INVALID			(uint64_t)-1
#define SPDK_BLOBID_EXTERNAL_SNAPSHOT		(UINT64_MAX - 1)
#define SPDK_BLOBSTORE_TYPE_LENGTH		16

enum blob_clear_method {
	BLOB_CLEAR_WITH_DEFAULT,
	BLOB_CLEAR_WITH_NONE,
	BLOB_CLEAR_WITH_UNMAP,
	BLOB_CLEAR_WITH_WRITE_ZEROES,
};

enum bs_clear_method {
	BS_CLEAR_WITH_UNMAP,
	BS_CLEAR_WITH_WRITE_ZEROES,
	BS_CLEAR_WITH_NONE,
};

struct spdk_blob_store;
struct spdk_io_channel;
struct spdk_blob;
struct spdk_xattr_names;

typedef void (*spdk_bs_op_complete)(void *cb_arg, int bserrno);
typedef void (*spdk_bs_op_with_handle_complete)(void *cb_arg, struct spdk_blob_store *bs,
		int bserrno);
typedef void (*spdk_blob_op_complete)(void *cb_arg, int bserrno);
typedef void (*spdk_blob_op_with_id_complete)(void *cb_arg, spdk_blob_id blobid, int bserrno);
typedef void (*spdk_blob_op_with_handle_complete)(void *cb_arg, struct spdk_blob *blb,
		int bserrno);
typedef void (*spdk_bs_dev_cpl)(struct spdk_io_channel *channel, void *cb_arg, int bserrno);

struct spdk_bs_dev_cb_args {
	spdk_bs_dev_cpl		cb_fn;
	struct spdk_io_channel	*channel;
	void			*cb_arg;
};

/* A block device under a blobstore. lba and lba_count are in units of blocklen. */
struct spdk_bs_dev {
	struct spdk_io_channel *(*create_channel)(struct spdk_bs_dev *dev);
	void (*destroy_channel)(struct spdk_bs_dev *dev, struct spdk_io_channel *channel);
	void (*destroy)(struct spdk_bs_dev *dev);
	void (*read)(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, void *payload,
		     uint64_t lba, uint32_t lba_count, struct spdk_bs_dev_cb_args *cb_args);
	void (*write)(struct spdk_bs_dev *dev, struct spdk_io_channel *channel, void *payload,
		      uint64_t lba, uint32_t lba_count, struct spdk_bs_dev_cb_args *cb_args);
	void (*flush)(struct spdk_bs_dev *dev, struct spdk_io_channel *channel,
		      struct spdk_bs_dev_cb_args *cb_args);
	void (*write_zeroes)(struct spdk_bs_dev *dev, struct spdk_io_channel *channel,
			     uint64_t lba, uint64_t lba_count, struct spdk_bs_dev_cb_args *cb_args);
	void (*unmap)(struct spdk_bs_dev *dev, struct spdk_io_channel *channel,
		      uint64_t lba, uint64_t lba_count, struct spdk_bs_dev_cb_args *cb_args);
	/* Optional: device-internal copy (NULL when the device cannot copy). */
	void (*copy)(struct spdk_bs_dev *dev, struct spdk_io_channel *channel,
		     uint64_t dst_lba, uint64_t src_lba, uint64_t lba_count,
		     struct spdk_bs_dev_cb_args *cb_args);
	/* Optional: true when the range is known to read as zeroes (back devices). */
	bool (*is_zeroes)(struct spdk_bs_dev *dev, uint64_t lba, uint64_t lba_count);
	bool (*translate_lba)(struct spdk_bs_dev *dev, uint64_t lba, uint64_t *base_lba);

	uint64_t	blockcnt;
	uint32_t	blocklen;
};

struct spdk_bs_type {
	char bstype[SPDK_BLOBSTORE_TYPE_LENGTH];
};

struct spdk_bs_opts {
	uint32_t cluster_sz;
	/* UINT32_MAX = one metadata page per cluster. */
	uint32_t num_md_pages;
	uint32_t max_md_ops;
	uint32_t max_channel_ops;
	enum bs_clear_method clear_method;
	struct spdk_bs_type bstype;
	size_t opts_size;
};

#define SPDK_BLOB_OPTS_CLUSTER_SZ		(1024 * 1024)
#define SPDK_BLOB_OPTS_NUM_MD_PAGES		UINT32_MAX
#define SPDK_BLOB_OPTS_MAX_MD_OPS		32
#define SPDK_BLOB_OPTS_DEFAULT_CHANNEL_OPS	512

void spdk_bs_opts_init(struct spdk_bs_opts *opts, size_t opts_size);

void spdk_bs_init(struct spdk_bs_dev *dev, struct spdk_bs_opts *opts,
		  spdk_bs_op_with_handle_complete cb_fn, void *cb_arg);
void spdk_bs_load(struct spdk_bs_dev *dev, struct spdk_bs_opts *opts,
		  spdk_bs_op_with_handle_complete cb_fn, void *cb_arg);
void spdk_bs_unload(struct spdk_blob_store *bs, spdk_bs_op_complete cb_fn, void *cb_arg);
void spdk_bs_set_super(struct spdk_blob_store *bs, spdk_blob_id blobid,
		       spdk_bs_op_complete cb_fn, void *cb_arg);
void spdk_bs_get_super(struct spdk_blob_store *bs, spdk_blob_op_with_id_complete cb_fn,
		       void *cb_arg);

uint64_t spdk_bs_get_cluster_size(struct spdk_blob_store *bs);
uint64_t spdk_bs_get_page_size(struct spdk_blob_store *bs);
uint64_t spdk_bs_get_io_unit_size(struct spdk_blob_store *bs);
uint64_t spdk_bs_free_cluster_count(struct spdk_blob_store *bs);
uint64_t spdk_bs_total_data_cluster_count(struct spdk_blob_store *bs);
struct spdk_bs_type spdk_bs_get_bstype(struct spdk_blob_store *bs);

spdk_blob_id spdk_blob_get_id(struct spdk_blob *blob);
uint64_t spdk_blob_get_num_pages(struct spdk_blob *blob);
uint64_t spdk_blob_get_num_io_units(struct spdk_blob *blob);
uint64_t spdk_blob_get_num_clusters(struct spdk_blob *blob);
uint64_t spdk_blob_get_num_allocated_clusters(struct spdk_blob *blob);

struct spdk_blob_xattr_opts {
	size_t count;
	char **names;
	void *ctx;
	void (*get_value)(void *xattr_ctx, const char *name, const void **value, size_t *value_len);
};

struct spdk_blob_opts {
	uint64_t num_clusters;
	bool thin_provision;
	enum blob_clear_method clear_method;
	struct spdk_blob_xattr_opts xattrs;
	bool use_extent_table;
	size_t opts_size;
};

void spdk_blob_opts_init(struct spdk_blob_opts *opts, size_t opts_size);
void spdk_bs_create_blob_ext(struct spdk_blob_store *bs, const struct spdk_blob_opts *opts,
			     spdk_blob_op_with_id_complete cb_fn, void *cb_arg);
void spdk_bs_create_blob(struct spdk_blob_store *bs, spdk_blob_op_with_id_complete cb_fn,
			 void *cb_arg);

void spdk_bs_create_snapshot(struct spdk_blob_store *bs, spdk_blob_id blobid,
			     const struct spdk_blob_xattr_opts *snapshot_xattrs,
			     spdk_blob_op_with_id_complete cb_fn, void *cb_arg);
void spdk_bs_create_clone(struct spdk_blob_store *bs, spdk_blob_id blobid,
			  const struct spdk_blob_xattr_opts *clone_xattrs,
			  spdk_blob_op_with_id_complete cb_fn, void *cb_arg);
void spdk_bs_inflate_blob(struct spdk_blob_store *bs, struct spdk_io_channel *channel,
			  spdk_blob_id blobid, spdk_blob_op_complete cb_fn, void *cb_arg);
void spdk_bs_blob_decouple_parent(struct spdk_blob_store *bs, struct spdk_io_channel *channel,
				  spdk_blob_id blobid, spdk_blob_op_complete cb_fn, void *cb_arg);

/* Clones of a snapshot: fills ids[] (up to *count) and sets *count; -ENOMEM if too small. */
int spdk_blob_get_clones(struct spdk_blob_store *bs, spdk_blob_id blobid, spdk_blob_id *ids,
			 size_t *count);
spdk_blob_id spdk_blob_get_parent_snapshot(struct spdk_blob_store *bs, spdk_blob_id blobid);
bool spdk_blob_is_read_only(struct spdk_blob *blob);
bool spdk_blob_is_snapshot(struct spdk_blob *blob);
bool spdk_blob_is_clone(struct spdk_blob *blob);
bool spdk_blob_is_thin_provisioned(struct spdk_blob *blob);

void spdk_bs_delete_blob(struct spdk_blob_store *bs, spdk_blob_id blobid,
			 spdk_blob_op_complete cb_fn, void *cb_arg);
void spdk_bs_open_blob(struct spdk_blob_store *bs, spdk_blob_id blobid,
		       spdk_blob_op_with_handle_complete cb_fn, void *cb_arg);
void spdk_blob_close(struct spdk_blob *blob, spdk_blob_op_complete cb_fn, void *cb_arg);
void spdk_blob_resize(struct spdk_blob *blob, uint64_t sz, spdk_blob_op_complete cb_fn,
		      void *cb_arg);
int spdk_blob_set_read_only(struct spdk_blob *blob);
void spdk_blob_sync_md(struct spdk_blob *blob, spdk_blob_op_complete cb_fn, void *cb_arg);

int spdk_blob_set_xattr(struct spdk_blob *blob, const char *name, const void *value,
			uint16_t value_len);
int spdk_blob_remove_xattr(struct spdk_blob *blob, const char *name);
int spdk_blob_get_xattr_value(struct spdk_blob *blob, const char *name, const void **value,
			      size_t *value_len);
int spdk_blob_get_xattr_names(struct spdk_blob *blob, struct spdk_xattr_names **names);
uint32_t spdk_xattr_names_get_count(struct spdk_xattr_names *names);
const char *spdk_xattr_names_get_name(struct spdk_xattr_names *names, uint32_t index);
void spdk_xattr_names_free(struct spdk_xattr_names *names);

struct spdk_io_channel *spdk_bs_alloc_io_channel(struct spdk_blob_store *bs);
void spdk_bs_free_io_channel(struct spdk_io_channel *channel);

/* Offsets and lengths in io_units (spdk_bs_get_io_unit_size). */
void spdk_blob_io_read(struct spdk_blob *blob, struct spdk_io_channel *channel, void *payload,
		       uint64_t offset, uint64_t length, spdk_blob_op_complete cb_fn, void *cb_arg);
void spdk_blob_io_write(struct spdk_blob *blob, struct spdk_io_channel *channel, void *payload,
			uint64_t offset, uint64_t length, spdk_blob_op_complete cb_fn, void *cb_arg);
void spdk_blob_io_unmap(struct spdk_blob *blob, struct spdk_io_channel *channel,
			uint64_t offset, uint64_t length, spdk_blob_op_complete cb_fn, void *cb_arg);
void spdk_blob_io_write_zeroes(struct spdk_blob *blob, struct spdk_io_channel *channel,
			       uint64_t offset, uint64_t length, spdk_blob_op_complete cb_fn,
			       void *cb_arg);

void spdk_bs_iter_first(struct spdk_blob_store *bs, spdk_blob_op_with_handle_complete cb_fn,
			void *cb_arg);
void spdk_bs_iter_next(struct spdk_blob_store *bs, struct spdk_blob *blob,
		       spdk_blob_op_with_handle_complete cb_fn, void *cb_arg);

#endif /* SPDK_BLOB_H */
