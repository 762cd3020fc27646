/* Logical volumes on a blobstore (subset of upstream include/spdk/lvol.h, Longhorn fork v24.09
 * shape: names up to 256 bytes). Every asynchronous call completes through cb_fn with 0 or a
 * negative errno; calls returning int reject bad arguments synchronously without calling it. */
#ifndef SPDK_LVOL_H
#define SPDK_LVOL_H

#include "spdk/stdinc.h"
#include "spdk/blob.h"
#include "spdk/uuid.h"

struct spdk_bs_dev;
struct spdk_lvol_store;
struct spdk_lvol;

enum lvol_clear_method {
	LVOL_CLEAR_WITH_DEFAULT = BLOB_CLEAR_WITH_DEFAULT,
	LVOL_CLEAR_WITH_NONE = BLOB_CLEAR_WITH_NONE,
	LVOL_CLEAR_WITH_UNMAP = BLOB_CLEAR_WITH_UNMAP,
	LVOL_CLEAR_WITH_WRITE_ZEROES = BLOB_CLEAR_WITH_WRITE_ZEROES,
};

enum lvs_clear_method {
	LVS_CLEAR_WITH_UNMAP = BS_CLEAR_WITH_UNMAP,
	LVS_CLEAR_WITH_WRITE_ZEROES = BS_CLEAR_WITH_WRITE_ZEROES,
	LVS_CLEAR_WITH_NONE = BS_CLEAR_WITH_NONE,
};

/* 64 upstream; the Longhorn fork raised both to 256. A name must be shorter (NUL included). */
#define SPDK_LVS_NAME_MAX	256
#define SPDK_LVOL_NAME_MAX	256
/* "<lvs uuid>_<blob id>" when an lvol has no usable uuid xattr. */
#define SPDK_LVOL_UNIQUE_ID_MAX	(SPDK_UUID_STRING_LEN + 1 + 20)

#define SPDK_LVS_OPTS_CLUSTER_SZ	(4 * 1024 * 1024)

struct spdk_lvs_opts {
	uint32_t		cluster_sz;
	enum lvs_clear_method	clear_method;
	char			name[SPDK_LVS_NAME_MAX];
	/* Metadata pages as a percentage of the clusters (100 = one per cluster). */
	uint32_t		num_md_pages_per_cluster_ratio;
	uint32_t		opts_size;
};

typedef void (*spdk_lvs_op_complete)(void *cb_arg, int lvserrno);
typedef void (*spdk_lvs_op_with_handle_complete)(void *cb_arg, struct spdk_lvol_store *lvol_store,
		int lvserrno);
typedef void (*spdk_lvol_op_complete)(void *cb_arg, int lvolerrno);
typedef void (*spdk_lvol_op_with_handle_complete)(void *cb_arg, struct spdk_lvol *lvol,
		int lvolerrno);

void spdk_lvs_opts_init(struct spdk_lvs_opts *opts);
int spdk_lvs_init(struct spdk_bs_dev *bs_dev, struct spdk_lvs_opts *o,
		  spdk_lvs_op_with_handle_complete cb_fn, void *cb_arg);
void spdk_lvs_load(struct spdk_bs_dev *bs_dev, spdk_lvs_op_with_handle_complete cb_fn,
		   void *cb_arg);
/* -EBUSY while any of its lvols is open. */
int spdk_lvs_unload(struct spdk_lvol_store *lvol_store, spdk_lvs_op_complete cb_fn, void *cb_arg);

int spdk_lvol_create(struct spdk_lvol_store *lvs, const char *name, uint64_t sz,
		     bool thin_provisioned, enum lvol_clear_method clear_method,
		     spdk_lvol_op_with_handle_complete cb_fn, void *cb_arg);
void spdk_lvol_create_snapshot(struct spdk_lvol *lvol, const char *snapshot_name,
			       spdk_lvol_op_with_handle_complete cb_fn, void *cb_arg);
/* LH fork: the snapshot is created with the caller's xattrs as well, xattrs being
 * {name0, value0, name1, value1, ...} (xattrs_num entries, even; values are strings stored with
 * their NUL). Names the library owns (name, uuid, creation_time, checksum) are -EINVAL. */
void spdk_lvol_create_snapshot_with_xattrs(struct spdk_lvol *lvol, const char *snapshot_name,
		const char *const *xattrs, size_t xattrs_num,
		spdk_lvol_op_with_handle_complete cb_fn, void *cb_arg);
void spdk_lvol_create_clone(struct spdk_lvol *lvol, const char *clone_name,
			    spdk_lvol_op_with_handle_complete cb_fn, void *cb_arg);
void spdk_lvol_rename(struct spdk_lvol *lvol, const char *new_name,
		      spdk_lvol_op_complete cb_fn, void *cb_arg);
void spdk_lvol_resize(struct spdk_lvol *lvol, uint64_t sz, spdk_lvol_op_complete cb_fn,
		      void *cb_arg);
void spdk_lvol_set_read_only(struct spdk_lvol *lvol, spdk_lvol_op_complete cb_fn, void *cb_arg);
bool spdk_lvol_deletable(struct spdk_lvol *lvol);
/* The lvol must be closed (ref_count 0). */
void spdk_lvol_destroy(struct spdk_lvol *lvol, spdk_lvol_op_complete cb_fn, void *cb_arg);
void spdk_lvol_open(struct spdk_lvol *lvol, spdk_lvol_op_with_handle_complete cb_fn, void *cb_arg);
void spdk_lvol_close(struct spdk_lvol *lvol, spdk_lvol_op_complete cb_fn, void *cb_arg);
void spdk_lvol_inflate(struct spdk_lvol *lvol, spdk_lvol_op_complete cb_fn, void *cb_arg);
void spdk_lvol_decouple_parent(struct spdk_lvol *lvol, spdk_lvol_op_complete cb_fn,
			       void *cb_arg);
/* User xattr on the lvol's blob, persisted with a metadata sync (LH fork: allowed unless the
 * lvol is read-only, b17944be8). */
void spdk_lvol_set_xattr(struct spdk_lvol *lvol, const char *name, const void *value,
			 uint16_t value_len, spdk_lvol_op_complete cb_fn, void *cb_arg);
/* Any xattr of the open lvol's blob (-EBADF while closed, -ENOENT when absent). */
int spdk_lvol_get_xattr(struct spdk_lvol *lvol, const char *name, const void **value,
			size_t *value_len);

struct spdk_lvol *spdk_lvol_get_by_names(const char *lvs_name, const char *lvol_name);
struct spdk_lvol *spdk_lvol_get_by_uuid(const struct spdk_uuid *uuid);
struct spdk_lvol_store *spdk_lvs_get_by_name(const char *name);
struct spdk_lvol_store *spdk_lvs_get_by_uuid(const struct spdk_uuid *uuid);
struct spdk_lvol_store *spdk_lvs_get_first(void);
struct spdk_lvol_store *spdk_lvs_get_next(struct spdk_lvol_store *lvs);
struct spdk_lvol *spdk_lvol_get_first(struct spdk_lvol_store *lvs);
struct spdk_lvol *spdk_lvol_get_next(struct spdk_lvol *lvol);
struct spdk_blob_store *spdk_lvol_get_bs(struct spdk_lvol_store *lvs);

#endif /* SPDK_LVOL_H */
