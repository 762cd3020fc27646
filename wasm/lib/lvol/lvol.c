/* Logical volume stores and logical volumes on the blobstore (spec §3; upstream twin
 * lib/lvol/lvol.c). An lvol store is a blobstore of bstype LVOLSTORE whose super blob carries the
 * store's `uuid` and `name` xattrs; every other blob is an lvol with its own `uuid` and `name`. */
#include "spdk/log.h"
#include "spdk/thread.h"
#include "spdk/util.h"
#include "spdk_internal/lvolstore.h"
#include "spdk_internal/trace_host.h"

static TAILQ_HEAD(, spdk_lvol_store) g_lvol_stores = TAILQ_HEAD_INITIALIZER(g_lvol_stores);

/* ---- lookups ---- */

struct spdk_lvol_store *
spdk_lvs_get_first(void)
{
	struct spdk_lvol_store *lvs;

	TAILQ_FOREACH(lvs, &g_lvol_stores, link) {
		if (lvs->blobstore != NULL) {
			return lvs;
		}
	}
	return NULL;
}

struct spdk_lvol_store *
spdk_lvs_get_next(struct spdk_lvol_store *lvs)
{
	while ((lvs = TAILQ_NEXT(lvs, link)) != NULL) {
		if (lvs->blobstore != NULL) {
			return lvs;
		}
	}
	return NULL;
}

struct spdk_lvol_store *
spdk_lvs_get_by_name(const char *name)
{
	struct spdk_lvol_store *lvs;

	for (lvs = spdk_lvs_get_first(); lvs != NULL; lvs = spdk_lvs_get_next(lvs)) {
		if (strcmp(lvs->name, name) == 0) {
			return lvs;
		}
	}
	return NULL;
}

struct spdk_lvol_store *
spdk_lvs_get_by_uuid(const struct spdk_uuid *uuid)
{
	struct spdk_lvol_store *lvs;

	for (lvs = spdk_lvs_get_first(); lvs != NULL; lvs = spdk_lvs_get_next(lvs)) {
		if (spdk_uuid_compare(&lvs->uuid, uuid) == 0) {
			return lvs;
		}
	}
	return NULL;
}

struct spdk_lvol *
spdk_lvol_get_first(struct spdk_lvol_store *lvs)
{
	return TAILQ_FIRST(&lvs->lvols);
}

struct spdk_lvol *
spdk_lvol_get_next(struct spdk_lvol *lvol)
{
	return TAILQ_NEXT(lvol, link);
}

struct spdk_lvol *
spdk_lvol_get_by_names(const char *lvs_name, const char *lvol_name)
{
	struct spdk_lvol_store *lvs = spdk_lvs_get_by_name(lvs_name);
	struct spdk_lvol *lvol;

	if (lvs == NULL) {
		return NULL;
	}
	TAILQ_FOREACH(lvol, &lvs->lvols, link) {
		if (strcmp(lvol->name, lvol_name) == 0) {
			return lvol;
		}
	}
	return NULL;
}

struct spdk_lvol *
spdk_lvol_get_by_uuid(const struct spdk_uuid *uuid)
{
	struct spdk_lvol_store *lvs;
	struct spdk_lvol *lvol;

	for (lvs = spdk_lvs_get_first(); lvs != NULL; lvs = spdk_lvs_get_next(lvs)) {
		TAILQ_FOREACH(lvol, &lvs->lvols, link) {
			if (spdk_uuid_compare(&lvol->uuid, uuid) == 0) {
				return lvol;
			}
		}
	}
	return NULL;
}

struct spdk_blob_store *
spdk_lvol_get_bs(struct spdk_lvol_store *lvs)
{
	return lvs->blobstore;
}

/* ---- names ---- */

/* 0, or -EINVAL for an empty or too long name (the NUL must fit in SPDK_*_NAME_MAX). */
static int
lvol_name_check(const char *name, size_t max)
{
	if (name == NULL || name[0] == '\0') {
		SPDK_ERRLOG("name cannot be empty\n");
		return -EINVAL;
	}
	if (strnlen(name, max) == max) {
		SPDK_ERRLOG("name '%.32s...' has %zu or more characters (max %zu)\n", name, max, max - 1);
		return -EINVAL;
	}
	return 0;
}

/* The xattrs the library writes itself (LH fork: name, uuid, creation_time and a snapshot's
 * checksum): callers cannot set them, neither on an lvol nor on a new snapshot. */
static bool
lvol_xattr_name_reserved(const char *name)
{
	static const char *const owned[] = {
		LVOL_NAME_XATTR, LVOL_UUID_XATTR, LVOL_CREATION_TIME, LVOL_SNAPSHOT_CHECKSUM
	};
	size_t i;

	for (i = 0; i < SPDK_COUNTOF(owned); i++) {
		if (strcmp(name, owned[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* -EEXIST when an lvol of the store, or one being created, has that name. */
static int
lvs_verify_lvol_name(struct spdk_lvol_store *lvs, const char *name)
{
	struct spdk_lvol *lvol;
	int rc = lvol_name_check(name, SPDK_LVOL_NAME_MAX);

	if (rc != 0) {
		return rc;
	}
	TAILQ_FOREACH(lvol, &lvs->lvols, link) {
		if (strcmp(name, lvol->name) == 0) {
			SPDK_ERRLOG("lvol with name %s already exists\n", name);
			return -EEXIST;
		}
	}
	TAILQ_FOREACH(lvol, &lvs->pending_lvols, link) {
		if (strcmp(name, lvol->name) == 0) {
			SPDK_ERRLOG("lvol with name %s is being already created\n", name);
			return -EEXIST;
		}
	}
	return 0;
}

/* ---- lvol objects ---- */

static struct spdk_lvol *
lvol_alloc(struct spdk_lvol_store *lvs, const char *name, bool thin,
	   enum blob_clear_method clear_method)
{
	struct spdk_lvol *lvol = calloc(1, sizeof(*lvol));

	if (lvol == NULL) {
		return NULL;
	}
	lvol->lvol_store = lvs;
	lvol->blob_id = SPDK_BLOBID_INVALID;
	lvol->thin_provision = thin;
	lvol->clear_method = clear_method;
	snprintf(lvol->name, sizeof(lvol->name), "%s", name);
	spdk_uuid_generate(&lvol->uuid);
	spdk_uuid_fmt_lower(lvol->uuid_str, sizeof(lvol->uuid_str), &lvol->uuid);
	snprintf(lvol->unique_id, sizeof(lvol->unique_id), "%s", lvol->uuid_str);
	spdk_current_utc_time_rfc3339(lvol->creation_time, sizeof(lvol->creation_time));
	return lvol;
}

static void
lvol_free(struct spdk_lvol *lvol)
{
	free(lvol);
}

/* The xattrs a new lvol blob is created with: `name` (the whole SPDK_LVOL_NAME_MAX buffer, NUL
 * padded, as upstream passes it), `uuid` (string + NUL) and, LH fork, `creation_time` (its whole
 * buffer). */
static void
lvol_get_xattr_value(void *xattr_ctx, const char *name, const void **value, size_t *value_len)
{
	struct spdk_lvol *lvol = xattr_ctx;

	if (strcmp(name, LVOL_NAME_XATTR) == 0) {
		*value = lvol->name;
		*value_len = SPDK_LVOL_NAME_MAX;
	} else if (strcmp(name, LVOL_UUID_XATTR) == 0) {
		*value = lvol->uuid_str;
		*value_len = sizeof(lvol->uuid_str);
	} else if (strcmp(name, LVOL_CREATION_TIME) == 0) {
		*value = lvol->creation_time;
		*value_len = sizeof(lvol->creation_time);
	} else {
		*value = NULL;
		*value_len = 0;
	}
}

static char *g_lvol_xattr_names[] = { LVOL_NAME_XATTR, LVOL_UUID_XATTR, LVOL_CREATION_TIME };

static void
lvol_xattr_opts(struct spdk_lvol *lvol, struct spdk_blob_xattr_opts *x)
{
	x->count = SPDK_COUNTOF(g_lvol_xattr_names);
	x->names = g_lvol_xattr_names;
	x->ctx = lvol;
	x->get_value = lvol_get_xattr_value;
}

/* ---- lvol store init (spdk_lvs_init) ---- */

struct lvs_with_handle_req {
	struct spdk_lvol_store		*lvol_store;
	struct spdk_bs_dev		*bs_dev;
	struct spdk_blob		*blob;
	spdk_blob_id			blobid;
	int				lvserrno;
	spdk_lvs_op_with_handle_complete cb_fn;
	void				*cb_arg;
};

static void
lvs_free(struct spdk_lvol_store *lvs)
{
	struct spdk_lvol *lvol;

	while ((lvol = TAILQ_FIRST(&lvs->lvols)) != NULL) {
		TAILQ_REMOVE(&lvs->lvols, lvol, link);
		lvol_free(lvol);
	}
	if (lvs->on_list) {
		TAILQ_REMOVE(&g_lvol_stores, lvs, link);
	}
	free(lvs);
}

static void
lvs_init_unloaded_cpl(void *cb_arg, int bserrno)
{
	struct lvs_with_handle_req *req = cb_arg;

	(void)bserrno;
	lvs_free(req->lvol_store);
	req->cb_fn(req->cb_arg, NULL, req->lvserrno);
	free(req);
}

static void
lvs_init_finish(struct lvs_with_handle_req *req, int lvserrno)
{
	struct spdk_lvol_store *lvs = req->lvol_store;
	struct spdk_blob_store *bs = lvs->blobstore;

	SPDK_WASM_TRACE("spdk_lvs_init", (uint32_t)-lvserrno, 0, 0, 0);
	if (lvserrno == 0) {
		req->cb_fn(req->cb_arg, lvs, 0);
		free(req);
		return;
	}
	SPDK_ERRLOG("lvol store init failed: %d\n", lvserrno);
	req->lvserrno = lvserrno;
	if (bs != NULL) {
		lvs->blobstore = NULL;
		spdk_bs_unload(bs, lvs_init_unloaded_cpl, req);
		return;
	}
	lvs_init_unloaded_cpl(req, 0);
}

static void
lvs_init_super_set_cpl(void *cb_arg, int lvserrno)
{
	lvs_init_finish(cb_arg, lvserrno);
}

static void
lvs_init_super_close_cpl(void *cb_arg, int lvserrno)
{
	struct lvs_with_handle_req *req = cb_arg;

	if (lvserrno != 0) {
		lvs_init_finish(req, lvserrno);
		return;
	}
	spdk_bs_set_super(req->lvol_store->blobstore, req->blobid, lvs_init_super_set_cpl, req);
}

static void
lvs_init_super_sync_cpl(void *cb_arg, int lvserrno)
{
	struct lvs_with_handle_req *req = cb_arg;
	struct spdk_blob *blob = req->blob;

	req->blob = NULL;
	req->lvserrno = lvserrno;
	spdk_blob_close(blob, lvserrno == 0 ? lvs_init_super_close_cpl : lvs_init_super_set_cpl, req);
}

static void
lvs_init_super_open_cpl(void *cb_arg, struct spdk_blob *blob, int lvserrno)
{
	struct lvs_with_handle_req *req = cb_arg;
	struct spdk_lvol_store *lvs = req->lvol_store;
	char uuid[SPDK_UUID_STRING_LEN];
	int rc;

	if (lvserrno != 0) {
		lvs_init_finish(req, lvserrno);
		return;
	}
	req->blob = blob;
	spdk_uuid_fmt_lower(uuid, sizeof(uuid), &lvs->uuid);
	rc = spdk_blob_set_xattr(blob, LVOL_UUID_XATTR, uuid, sizeof(uuid));
	if (rc == 0) {
		rc = spdk_blob_set_xattr(blob, LVOL_NAME_XATTR, lvs->name, (uint16_t)(strlen(lvs->name) + 1));
	}
	if (rc != 0) {
		lvs_init_super_sync_cpl(req, rc);
		return;
	}
	spdk_blob_sync_md(blob, lvs_init_super_sync_cpl, req);
}

static void
lvs_init_super_create_cpl(void *cb_arg, spdk_blob_id blobid, int lvserrno)
{
	struct lvs_with_handle_req *req = cb_arg;

	if (lvserrno != 0) {
		lvs_init_finish(req, lvserrno);
		return;
	}
	req->blobid = blobid;
	req->lvol_store->super_blob_id = blobid;
	spdk_bs_open_blob(req->lvol_store->blobstore, blobid, lvs_init_super_open_cpl, req);
}

static void
lvs_init_cb(void *cb_arg, struct spdk_blob_store *bs, int lvserrno)
{
	struct lvs_with_handle_req *req = cb_arg;

	if (lvserrno != 0) {
		/* spdk_bs_init destroyed the device. */
		lvs_init_finish(req, lvserrno);
		return;
	}
	req->lvol_store->blobstore = bs;
	spdk_bs_create_blob(bs, lvs_init_super_create_cpl, req);
}

void
spdk_lvs_opts_init(struct spdk_lvs_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cluster_sz = SPDK_LVS_OPTS_CLUSTER_SZ;
	o->clear_method = LVS_CLEAR_WITH_UNMAP;
	o->num_md_pages_per_cluster_ratio = 100;
	o->opts_size = sizeof(*o);
}

static bool
lvs_name_taken(const char *name)
{
	struct spdk_lvol_store *lvs;

	/* Stores still initializing or loading are on the list too: their names are taken. */
	TAILQ_FOREACH(lvs, &g_lvol_stores, link) {
		if (strcmp(lvs->name, name) == 0) {
			return true;
		}
	}
	return false;
}

int
spdk_lvs_init(struct spdk_bs_dev *bs_dev, struct spdk_lvs_opts *o,
	      spdk_lvs_op_with_handle_complete cb_fn, void *cb_arg)
{
	struct spdk_lvol_store *lvs;
	struct lvs_with_handle_req *req;
	struct spdk_bs_opts opts;
	uint64_t total_clusters, dev_bytes, md_pages;
	int rc;

	if (bs_dev == NULL || o == NULL) {
		return -ENODEV;
	}
	rc = lvol_name_check(o->name, SPDK_LVS_NAME_MAX);
	if (rc != 0) {
		return rc;
	}
	if (lvs_name_taken(o->name)) {
		SPDK_ERRLOG("lvolstore with name %s already exists\n", o->name);
		return -EEXIST;
	}
	if (o->cluster_sz < 4096u || o->cluster_sz % 4096u) {
		SPDK_ERRLOG("cluster size %u is not a multiple of 4096\n", o->cluster_sz);
		return -EINVAL;
	}
	if (!spdk_u64_mul_ok(bs_dev->blockcnt, bs_dev->blocklen, &dev_bytes)) {
		SPDK_ERRLOG("device of %" PRIu64 " blocks of %u bytes overflows 64 bits\n",
			    bs_dev->blockcnt, bs_dev->blocklen);
		return -EINVAL;
	}
	total_clusters = dev_bytes / o->cluster_sz;
	if (total_clusters < 2) {
		SPDK_ERRLOG("device of %" PRIu64 " bytes holds fewer than 2 clusters of %u bytes\n",
			    dev_bytes, o->cluster_sz);
		return -ENOSPC;
	}
	/* The metadata page count is a 32-bit field of the blobstore options. */
	if (!spdk_u64_mul_ok(total_clusters, o->num_md_pages_per_cluster_ratio, &md_pages) ||
	    md_pages / 100 > UINT32_MAX) {
		SPDK_ERRLOG("%" PRIu64 " clusters at %u metadata pages per 100 is too many pages\n",
			    total_clusters, o->num_md_pages_per_cluster_ratio);
		return -EINVAL;
	}
	lvs = calloc(1, sizeof(*lvs));
	req = calloc(1, sizeof(*req));
	if (lvs == NULL || req == NULL) {
		free(lvs);
		free(req);
		return -ENOMEM;
	}
	TAILQ_INIT(&lvs->lvols);
	TAILQ_INIT(&lvs->pending_lvols);
	snprintf(lvs->name, sizeof(lvs->name), "%s", o->name);
	spdk_uuid_generate(&lvs->uuid);
	lvs->bs_dev = bs_dev;
	lvs->super_blob_id = SPDK_BLOBID_INVALID;
	TAILQ_INSERT_TAIL(&g_lvol_stores, lvs, link);
	lvs->on_list = true;

	spdk_bs_opts_init(&opts, sizeof(opts));
	opts.cluster_sz = o->cluster_sz;
	opts.clear_method = (enum bs_clear_method)o->clear_method;
	opts.num_md_pages = (uint32_t)(md_pages / 100);
	memset(&opts.bstype, 0, sizeof(opts.bstype));
	memcpy(opts.bstype.bstype, LVS_BSTYPE, strlen(LVS_BSTYPE));

	req->lvol_store = lvs;
	req->bs_dev = bs_dev;
	req->cb_fn = cb_fn;
	req->cb_arg = cb_arg;
	spdk_bs_init(bs_dev, &opts, lvs_init_cb, req);
	return 0;
}

/* ---- lvol store load (spdk_lvs_load) ---- */

static void lvs_load_fail(struct lvs_with_handle_req *req, int lvserrno);

static void
lvs_load_unloaded_cpl(void *cb_arg, int bserrno)
{
	struct lvs_with_handle_req *req = cb_arg;

	(void)bserrno;
	lvs_free(req->lvol_store);
	req->cb_fn(req->cb_arg, NULL, req->lvserrno);
	free(req);
}

static void
lvs_load_fail(struct lvs_with_handle_req *req, int lvserrno)
{
	SPDK_ERRLOG("lvol store load failed: %d\n", lvserrno);
	req->lvserrno = lvserrno;
	if (req->lvol_store->blobstore != NULL) {
		struct spdk_blob_store *bs = req->lvol_store->blobstore;

		req->lvol_store->blobstore = NULL;
		spdk_bs_unload(bs, lvs_load_unloaded_cpl, req);
		return;
	}
	lvs_load_unloaded_cpl(req, 0);
}

static void load_next_lvol(void *cb_arg, struct spdk_blob *blob, int lvolerrno);

static void
lvs_load_blob_closed_cpl(void *cb_arg, int bserrno)
{
	struct lvs_with_handle_req *req = cb_arg;

	(void)bserrno;
	lvs_load_fail(req, req->lvserrno);
}

static void
lvs_load_finish(struct lvs_with_handle_req *req)
{
	SPDK_WASM_TRACE("spdk_lvs_load", 0, (uint32_t)req->lvol_store->lvol_count, 0, 0);
	req->cb_fn(req->cb_arg, req->lvol_store, 0);
	free(req);
}

/* One blob of the store becomes an lvol (closed: opening is the bdev layer's job). */
static void
load_next_lvol(void *cb_arg, struct spdk_blob *blob, int lvolerrno)
{
	struct lvs_with_handle_req *req = cb_arg;
	struct spdk_lvol_store *lvs = req->lvol_store;
	struct spdk_blob_store *bs = lvs->blobstore;
	struct spdk_lvol *lvol;
	const void *value;
	size_t len;
	spdk_blob_id id;
	int rc;

	if (lvolerrno == -ENOENT) {
		/* No more blobs. */
		lvs_load_finish(req);
		return;
	}
	if (lvolerrno != 0) {
		lvs_load_fail(req, lvolerrno);
		return;
	}
	id = spdk_blob_get_id(blob);
	if (id == lvs->super_blob_id) {
		spdk_bs_iter_next(bs, blob, load_next_lvol, req);
		return;
	}
	rc = spdk_blob_get_xattr_value(blob, LVOL_NAME_XATTR, &value, &len);
	if (rc != 0 || len < 1 || strnlen(value, len) >= SPDK_LVOL_NAME_MAX ||
	    strnlen(value, len) == len || ((const char *)value)[0] == '\0') {
		SPDK_ERRLOG("blob 0x%" PRIx64 " has no usable lvol name\n", id);
		req->lvserrno = -EINVAL;
		spdk_blob_close(blob, lvs_load_blob_closed_cpl, req);
		return;
	}
	lvol = lvol_alloc(lvs, value, spdk_blob_is_thin_provisioned(blob), BLOB_CLEAR_WITH_DEFAULT);
	if (lvol == NULL) {
		req->lvserrno = -ENOMEM;
		spdk_blob_close(blob, lvs_load_blob_closed_cpl, req);
		return;
	}
	lvol->blob_id = id;
	rc = spdk_blob_get_xattr_value(blob, LVOL_UUID_XATTR, &value, &len);
	if (rc != 0 || len != SPDK_UUID_STRING_LEN || ((const char *)value)[len - 1] != '\0' ||
	    spdk_uuid_parse(&lvol->uuid, value) != 0) {
		char lvs_uuid[SPDK_UUID_STRING_LEN];

		SPDK_NOTICELOG("lvol %s has no valid uuid; using the store uuid and blob id\n", lvol->name);
		memset(&lvol->uuid, 0, sizeof(lvol->uuid));
		lvol->uuid_str[0] = '\0';
		spdk_uuid_fmt_lower(lvs_uuid, sizeof(lvs_uuid), &lvs->uuid);
		snprintf(lvol->unique_id, sizeof(lvol->unique_id), "%s_%" PRIu64, lvs_uuid, id);
	} else {
		spdk_uuid_fmt_lower(lvol->uuid_str, sizeof(lvol->uuid_str), &lvol->uuid);
		snprintf(lvol->unique_id, sizeof(lvol->unique_id), "%s", lvol->uuid_str);
	}
	/* Lvols written before the fork had creation times keep an empty one. */
	lvol->creation_time[0] = '\0';
	rc = spdk_blob_get_xattr_value(blob, LVOL_CREATION_TIME, &value, &len);
	if (rc == 0 && len <= SPDK_CREATION_TIME_MAX) {
		snprintf(lvol->creation_time, sizeof(lvol->creation_time), "%.*s", (int)len,
			 (const char *)value);
	}
	TAILQ_INSERT_TAIL(&lvs->lvols, lvol, link);
	lvs->lvol_count++;
	spdk_bs_iter_next(bs, blob, load_next_lvol, req);
}

static void
lvs_load_super_close_cpl(void *cb_arg, int lvserrno)
{
	struct lvs_with_handle_req *req = cb_arg;

	if (lvserrno != 0) {
		lvs_load_fail(req, lvserrno);
		return;
	}
	if (req->lvserrno != 0) {
		lvs_load_fail(req, req->lvserrno);
		return;
	}
	spdk_bs_iter_first(req->lvol_store->blobstore, load_next_lvol, req);
}

/* The super blob: `uuid` must be 37 bytes, NUL-terminated and parse; `name` must be a string
 * that no loaded store uses. */
static void
lvs_load_super_open_cpl(void *cb_arg, struct spdk_blob *blob, int lvserrno)
{
	struct lvs_with_handle_req *req = cb_arg;
	struct spdk_lvol_store *lvs = req->lvol_store;
	const void *value;
	size_t len;
	int rc;

	if (lvserrno != 0) {
		lvs_load_fail(req, lvserrno);
		return;
	}
	rc = spdk_blob_get_xattr_value(blob, LVOL_UUID_XATTR, &value, &len);
	if (rc != 0 || len != SPDK_UUID_STRING_LEN || ((const char *)value)[len - 1] != '\0' ||
	    spdk_uuid_parse(&lvs->uuid, value) != 0) {
		SPDK_ERRLOG("lvol store super blob has no valid uuid xattr\n");
		req->lvserrno = -EINVAL;
	}
	if (req->lvserrno == 0) {
		rc = spdk_blob_get_xattr_value(blob, LVOL_NAME_XATTR, &value, &len);
		if (rc != 0 || len < 2 || strnlen(value, len) == len || len > SPDK_LVS_NAME_MAX) {
			SPDK_ERRLOG("lvol store super blob has no valid name xattr\n");
			req->lvserrno = -EINVAL;
		} else if (lvs_name_taken(value)) {
			SPDK_ERRLOG("lvolstore with name %s already exists\n", (const char *)value);
			req->lvserrno = -EEXIST;
		} else {
			snprintf(lvs->name, sizeof(lvs->name), "%s", (const char *)value);
			TAILQ_INSERT_TAIL(&g_lvol_stores, lvs, link);
			lvs->on_list = true;
		}
	}
	spdk_blob_close(blob, lvs_load_super_close_cpl, req);
}

static void
lvs_load_get_super_cpl(void *cb_arg, spdk_blob_id blobid, int lvolerrno)
{
	struct lvs_with_handle_req *req = cb_arg;

	if (lvolerrno != 0) {
		SPDK_ERRLOG("blobstore has no super blob: not an lvol store\n");
		lvs_load_fail(req, -ENODEV);
		return;
	}
	req->lvol_store->super_blob_id = blobid;
	spdk_bs_open_blob(req->lvol_store->blobstore, blobid, lvs_load_super_open_cpl, req);
}

static void
lvs_load_cb(void *cb_arg, struct spdk_blob_store *bs, int lvolerrno)
{
	struct lvs_with_handle_req *req = cb_arg;

	if (lvolerrno != 0) {
		lvs_load_fail(req, lvolerrno);
		return;
	}
	req->lvol_store->blobstore = bs;
	spdk_bs_get_super(bs, lvs_load_get_super_cpl, req);
}

void
spdk_lvs_load(struct spdk_bs_dev *bs_dev, spdk_lvs_op_with_handle_complete cb_fn, void *cb_arg)
{
	struct lvs_with_handle_req *req;
	struct spdk_lvol_store *lvs;
	struct spdk_bs_opts opts;

	if (bs_dev == NULL) {
		cb_fn(cb_arg, NULL, -ENODEV);
		return;
	}
	lvs = calloc(1, sizeof(*lvs));
	req = calloc(1, sizeof(*req));
	if (lvs == NULL || req == NULL) {
		free(lvs);
		free(req);
		bs_dev->destroy(bs_dev);
		cb_fn(cb_arg, NULL, -ENOMEM);
		return;
	}
	TAILQ_INIT(&lvs->lvols);
	TAILQ_INIT(&lvs->pending_lvols);
	lvs->bs_dev = bs_dev;
	lvs->super_blob_id = SPDK_BLOBID_INVALID;
	req->lvol_store = lvs;
	req->bs_dev = bs_dev;
	req->cb_fn = cb_fn;
	req->cb_arg = cb_arg;
	spdk_bs_opts_init(&opts, sizeof(opts));
	memset(&opts.bstype, 0, sizeof(opts.bstype));
	memcpy(opts.bstype.bstype, LVS_BSTYPE, strlen(LVS_BSTYPE));
	spdk_bs_load(bs_dev, &opts, lvs_load_cb, req);
}

/* ---- unload ---- */

struct lvs_req {
	struct spdk_lvol_store	*lvol_store;
	spdk_lvs_op_complete	cb_fn;
	void			*cb_arg;
};

static void
lvs_unload_cpl(void *cb_arg, int lvserrno)
{
	struct lvs_req *req = cb_arg;

	SPDK_WASM_TRACE("spdk_lvs_unload", (uint32_t)-lvserrno, 0, 0, 0);
	if (req->cb_fn != NULL) {
		req->cb_fn(req->cb_arg, lvserrno);
	}
	free(req);
}

int
spdk_lvs_unload(struct spdk_lvol_store *lvs, spdk_lvs_op_complete cb_fn, void *cb_arg)
{
	struct lvs_req *req;
	struct spdk_lvol *lvol;
	struct spdk_blob_store *bs;

	if (lvs == NULL) {
		return -ENODEV;
	}
	TAILQ_FOREACH(lvol, &lvs->lvols, link) {
		if (lvol->ref_count != 0 || lvol->action_in_progress) {
			SPDK_ERRLOG("lvols still open on lvol store %s\n", lvs->name);
			return -EBUSY;
		}
	}
	if (!TAILQ_EMPTY(&lvs->pending_lvols)) {
		return -EBUSY;
	}
	req = calloc(1, sizeof(*req));
	if (req == NULL) {
		return -ENOMEM;
	}
	req->lvol_store = lvs;
	req->cb_fn = cb_fn;
	req->cb_arg = cb_arg;
	bs = lvs->blobstore;
	lvs_free(lvs);
	spdk_bs_unload(bs, lvs_unload_cpl, req);
	return 0;
}

/* ---- lvol create / open / close ---- */

/* The caller's xattrs of a new snapshot (spdk_lvol_create_snapshot_with_xattrs), copied: the
 * blob layer reads them when it creates the blob, after the call has returned. */
struct lvol_xattrs_ext {
	struct spdk_lvol	*lvol;		/* the new lvol: name, uuid, creation_time */
	char			**list;		/* name, value, name, value, ... */
	size_t			num;
	char			*names[];	/* the lvol's own names, then the caller's */
};

struct spdk_lvol_with_handle_req {
	struct spdk_lvol		*lvol;
	struct spdk_lvol		*origlvol;	/* snapshot/clone source */
	struct lvol_xattrs_ext		*ext;
	spdk_lvol_op_with_handle_complete cb_fn;
	void				*cb_arg;
};

static void
lvol_xattrs_ext_free(struct lvol_xattrs_ext *ext)
{
	size_t i;

	if (ext == NULL) {
		return;
	}
	for (i = 0; ext->list != NULL && i < ext->num; i++) {
		free(ext->list[i]);
	}
	free(ext->list);
	free(ext);
}

static void
lvol_handle_req_finish(struct spdk_lvol_with_handle_req *req, struct spdk_lvol *lvol,
		       int lvolerrno)
{
	lvol_xattrs_ext_free(req->ext);
	req->cb_fn(req->cb_arg, lvol, lvolerrno);
	free(req);
}

static void
lvol_create_open_cb(void *cb_arg, struct spdk_blob *blob, int lvolerrno)
{
	struct spdk_lvol_with_handle_req *req = cb_arg;
	struct spdk_lvol *lvol = req->lvol;
	struct spdk_lvol_store *lvs = lvol->lvol_store;

	TAILQ_REMOVE(&lvs->pending_lvols, lvol, link);
	if (lvolerrno != 0) {
		/* The blob exists but cannot be opened: leave it for a later load to report. */
		SPDK_ERRLOG("cannot open new lvol %s: %d\n", lvol->name, lvolerrno);
		lvol_free(lvol);
		lvol_handle_req_finish(req, NULL, lvolerrno);
		return;
	}
	lvol->blob = blob;
	lvol->ref_count = 1;
	lvol->thin_provision = spdk_blob_is_thin_provisioned(blob);
	TAILQ_INSERT_TAIL(&lvs->lvols, lvol, link);
	lvs->lvol_count++;
	SPDK_WASM_TRACE("spdk_lvol_create", (uint32_t)(lvol->blob_id >> 32), (uint32_t)lvol->blob_id, 0, 0);
	lvol_handle_req_finish(req, lvol, 0);
}

static void
lvol_create_cb(void *cb_arg, spdk_blob_id blobid, int lvolerrno)
{
	struct spdk_lvol_with_handle_req *req = cb_arg;
	struct spdk_lvol *lvol = req->lvol;

	if (lvolerrno != 0) {
		TAILQ_REMOVE(&lvol->lvol_store->pending_lvols, lvol, link);
		lvol_free(lvol);
		lvol_handle_req_finish(req, NULL, lvolerrno);
		return;
	}
	lvol->blob_id = blobid;
	spdk_bs_open_blob(lvol->lvol_store->blobstore, blobid, lvol_create_open_cb, req);
}

int
spdk_lvol_create(struct spdk_lvol_store *lvs, const char *name, uint64_t sz,
		 bool thin_provision, enum lvol_clear_method clear_method,
		 spdk_lvol_op_with_handle_complete cb_fn, void *cb_arg)
{
	struct spdk_lvol_with_handle_req *req;
	struct spdk_lvol *lvol;
	struct spdk_blob_opts opts;
	uint64_t cluster_sz;
	int rc;

	if (lvs == NULL) {
		return -EINVAL;
	}
	rc = lvs_verify_lvol_name(lvs, name);
	if (rc != 0) {
		return rc;
	}
	cluster_sz = spdk_bs_get_cluster_size(lvs->blobstore);
	req = calloc(1, sizeof(*req));
	lvol = lvol_alloc(lvs, name, thin_provision, (enum blob_clear_method)clear_method);
	if (req == NULL || lvol == NULL) {
		free(req);
		free(lvol);
		return -ENOMEM;
	}
	req->lvol = lvol;
	req->cb_fn = cb_fn;
	req->cb_arg = cb_arg;
	TAILQ_INSERT_TAIL(&lvs->pending_lvols, lvol, link);

	spdk_blob_opts_init(&opts, sizeof(opts));
	opts.thin_provision = thin_provision;
	opts.num_clusters = (sz + cluster_sz - 1) / cluster_sz;
	opts.clear_method = (enum blob_clear_method)clear_method;
	lvol_xattr_opts(lvol, &opts.xattrs);
	spdk_bs_create_blob_ext(lvs->blobstore, &opts, lvol_create_cb, req);
	return 0;
}

static void
lvol_open_cb(void *cb_arg, struct spdk_blob *blob, int lvolerrno)
{
	struct spdk_lvol_with_handle_req *req = cb_arg;
	struct spdk_lvol *lvol = req->lvol;

	lvol->action_in_progress = false;
	if (lvolerrno == 0) {
		lvol->blob = blob;
		lvol->ref_count++;
		lvol->thin_provision = spdk_blob_is_thin_provisioned(blob);
	}
	req->cb_fn(req->cb_arg, lvolerrno == 0 ? lvol : NULL, lvolerrno);
	free(req);
}

void
spdk_lvol_open(struct spdk_lvol *lvol, spdk_lvol_op_with_handle_complete cb_fn, void *cb_arg)
{
	struct spdk_lvol_with_handle_req *req;

	if (lvol->action_in_progress) {
		cb_fn(cb_arg, NULL, -EBUSY);
		return;
	}
	if (lvol->ref_count > 0) {
		lvol->ref_count++;
		cb_fn(cb_arg, lvol, 0);
		return;
	}
	req = calloc(1, sizeof(*req));
	if (req == NULL) {
		cb_fn(cb_arg, NULL, -ENOMEM);
		return;
	}
	req->lvol = lvol;
	req->cb_fn = cb_fn;
	req->cb_arg = cb_arg;
	lvol->action_in_progress = true;
	spdk_bs_open_blob(lvol->lvol_store->blobstore, lvol->blob_id, lvol_open_cb, req);
}

struct spdk_lvol_req {
	struct spdk_lvol	*lvol;
	char			name[SPDK_LVOL_NAME_MAX];
	uint64_t		sz;
	spdk_lvol_op_complete	cb_fn;
	void			*cb_arg;
};

static struct spdk_lvol_req *
lvol_req_new(struct spdk_lvol *lvol, spdk_lvol_op_complete cb_fn, void *cb_arg)
{
	struct spdk_lvol_req *req = calloc(1, sizeof(*req));

	if (req != NULL) {
		req->lvol = lvol;
		req->cb_fn = cb_fn;
		req->cb_arg = cb_arg;
	}
	return req;
}

static void
lvol_req_finish(void *cb_arg, int lvolerrno)
{
	struct spdk_lvol_req *req = cb_arg;

	req->cb_fn(req->cb_arg, lvolerrno);
	free(req);
}

static void
lvol_close_cb(void *cb_arg, int lvolerrno)
{
	struct spdk_lvol_req *req = cb_arg;
	struct spdk_lvol *lvol = req->lvol;

	lvol->action_in_progress = false;
	if (lvolerrno == 0) {
		lvol->ref_count = 0;
		lvol->blob = NULL;
	}
	lvol_req_finish(req, lvolerrno);
}

void
spdk_lvol_close(struct spdk_lvol *lvol, spdk_lvol_op_complete cb_fn, void *cb_arg)
{
	struct spdk_lvol_req *req;

	if (lvol->ref_count == 0 || lvol->blob == NULL) {
		cb_fn(cb_arg, -EINVAL);
		return;
	}
	if (lvol->ref_count > 1) {
		lvol->ref_count--;
		cb_fn(cb_arg, 0);
		return;
	}
	if (lvol->action_in_progress) {
		cb_fn(cb_arg, -EBUSY);
		return;
	}
	req = lvol_req_new(lvol, cb_fn, cb_arg);
	if (req == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	lvol->action_in_progress = true;
	spdk_blob_close(lvol->blob, lvol_close_cb, req);
}

/* ---- snapshot and clone ---- */

static void
lvol_new_from_blob_cb(void *cb_arg, spdk_blob_id blobid, int lvolerrno)
{
	struct spdk_lvol_with_handle_req *req = cb_arg;

	req->origlvol->action_in_progress = false;
	lvol_create_cb(req, blobid, lvolerrno);
}

/* The lvol's own xattr, else the caller's; values are strings stored with their NUL. */
static void
lvol_get_xattr_value_ext(void *xattr_ctx, const char *name, const void **value, size_t *value_len)
{
	struct lvol_xattrs_ext *ext = xattr_ctx;
	size_t i;

	lvol_get_xattr_value(ext->lvol, name, value, value_len);
	for (i = 0; *value == NULL && i + 1 < ext->num; i += 2) {
		if (strcmp(name, ext->list[i]) == 0) {
			*value = ext->list[i + 1];
			*value_len = strlen(ext->list[i + 1]) + 1;
		}
	}
}

static struct lvol_xattrs_ext *
lvol_xattrs_ext_new(struct spdk_lvol *lvol, const char *const *xattrs, size_t num)
{
	size_t own = SPDK_COUNTOF(g_lvol_xattr_names), i;
	struct lvol_xattrs_ext *ext = calloc(1, sizeof(*ext) + (own + num / 2) * sizeof(char *));

	if (ext == NULL || (ext->list = calloc(spdk_max(num, 1), sizeof(char *))) == NULL) {
		free(ext);
		return NULL;
	}
	ext->lvol = lvol;
	ext->num = num;
	for (i = 0; i < num; i++) {
		if ((ext->list[i] = strdup(xattrs[i])) == NULL) {
			lvol_xattrs_ext_free(ext);
			return NULL;
		}
	}
	for (i = 0; i < own; i++) {
		ext->names[i] = g_lvol_xattr_names[i];
	}
	for (i = 0; i < num; i += 2) {
		ext->names[own + i / 2] = ext->list[i];
	}
	return ext;
}

static int
lvol_new_from(struct spdk_lvol *origlvol, const char *name, bool snapshot,
	      const char *const *ext_xattrs, size_t ext_num,
	      spdk_lvol_op_with_handle_complete cb_fn, void *cb_arg)
{
	struct spdk_lvol_store *lvs;
	struct spdk_lvol_with_handle_req *req;
	struct spdk_lvol *lvol;
	struct spdk_blob_xattr_opts xattrs;
	int rc;

	if (origlvol == NULL || origlvol->blob == NULL) {
		return -EINVAL;
	}
	lvs = origlvol->lvol_store;
	rc = lvs_verify_lvol_name(lvs, name);
	if (rc != 0) {
		return rc;
	}
	if (origlvol->action_in_progress) {
		return -EBUSY;
	}
	req = calloc(1, sizeof(*req));
	lvol = lvol_alloc(lvs, name, true, origlvol->clear_method);
	if (req != NULL && lvol != NULL && ext_xattrs != NULL) {
		req->ext = lvol_xattrs_ext_new(lvol, ext_xattrs, ext_num);
	}
	if (req == NULL || lvol == NULL || (ext_xattrs != NULL && req->ext == NULL)) {
		free(req);
		free(lvol);
		return -ENOMEM;
	}
	req->lvol = lvol;
	req->origlvol = origlvol;
	req->cb_fn = cb_fn;
	req->cb_arg = cb_arg;
	TAILQ_INSERT_TAIL(&lvs->pending_lvols, lvol, link);
	origlvol->action_in_progress = true;
	lvol_xattr_opts(lvol, &xattrs);
	if (req->ext != NULL) {
		xattrs.count = SPDK_COUNTOF(g_lvol_xattr_names) + ext_num / 2;
		xattrs.names = req->ext->names;
		xattrs.ctx = req->ext;
		xattrs.get_value = lvol_get_xattr_value_ext;
	}
	if (snapshot) {
		spdk_bs_create_snapshot(lvs->blobstore, origlvol->blob_id, &xattrs, lvol_new_from_blob_cb, req);
	} else {
		spdk_bs_create_clone(lvs->blobstore, origlvol->blob_id, &xattrs, lvol_new_from_blob_cb, req);
	}
	return 0;
}

void
spdk_lvol_create_snapshot(struct spdk_lvol *origlvol, const char *snapshot_name,
			  spdk_lvol_op_with_handle_complete cb_fn, void *cb_arg)
{
	int rc = lvol_new_from(origlvol, snapshot_name, true, NULL, 0, cb_fn, cb_arg);

	if (rc != 0) {
		cb_fn(cb_arg, NULL, rc);
	}
}

void
spdk_lvol_create_snapshot_with_xattrs(struct spdk_lvol *origlvol, const char *snapshot_name,
				      const char *const *xattrs, size_t xattrs_num,
				      spdk_lvol_op_with_handle_complete cb_fn, void *cb_arg)
{
	size_t i;
	int rc;

	if (xattrs != NULL && xattrs_num % 2 != 0) {
		SPDK_ERRLOG("snapshot xattrs must come as name/value pairs, got %zu entries\n", xattrs_num);
		cb_fn(cb_arg, NULL, -EINVAL);
		return;
	}
	for (i = 0; xattrs != NULL && i < xattrs_num; i += 2) {
		if (xattrs[i] == NULL || xattrs[i + 1] == NULL || lvol_xattr_name_reserved(xattrs[i])) {
			SPDK_ERRLOG("invalid snapshot xattr name: %s\n", xattrs[i] ? xattrs[i] : "(null)");
			cb_fn(cb_arg, NULL, -EINVAL);
			return;
		}
	}
	rc = lvol_new_from(origlvol, snapshot_name, true, xattrs, xattrs_num, cb_fn, cb_arg);
	if (rc != 0) {
		cb_fn(cb_arg, NULL, rc);
	}
}

void
spdk_lvol_create_clone(struct spdk_lvol *origlvol, const char *clone_name,
		       spdk_lvol_op_with_handle_complete cb_fn, void *cb_arg)
{
	int rc;

	if (origlvol != NULL && origlvol->blob != NULL && !spdk_blob_is_read_only(origlvol->blob)) {
		SPDK_ERRLOG("cannot create a clone of lvol %s: it is not read-only\n", origlvol->name);
		cb_fn(cb_arg, NULL, -EINVAL);
		return;
	}
	rc = lvol_new_from(origlvol, clone_name, false, NULL, 0, cb_fn, cb_arg);
	if (rc != 0) {
		cb_fn(cb_arg, NULL, rc);
	}
}

/* ---- rename, resize, read-only, xattrs ---- */

static void
lvol_rename_cb(void *cb_arg, int lvolerrno)
{
	struct spdk_lvol_req *req = cb_arg;
	struct spdk_lvol *lvol = req->lvol;

	if (lvolerrno != 0) {
		SPDK_ERRLOG("lvol %s: rename to %s failed: %d\n", lvol->name, req->name, lvolerrno);
		/* Put the old name back in the in-memory metadata too. */
		spdk_blob_set_xattr(lvol->blob, LVOL_NAME_XATTR, lvol->name, (uint16_t)(strlen(lvol->name) + 1));
	} else {
		snprintf(lvol->name, sizeof(lvol->name), "%s", req->name);
	}
	lvol_req_finish(req, lvolerrno);
}

void
spdk_lvol_rename(struct spdk_lvol *lvol, const char *new_name, spdk_lvol_op_complete cb_fn,
		 void *cb_arg)
{
	struct spdk_lvol_req *req;
	int rc;

	if (lvol->blob == NULL) {
		cb_fn(cb_arg, -EINVAL);
		return;
	}
	if (new_name != NULL && strcmp(lvol->name, new_name) == 0) {
		cb_fn(cb_arg, 0);
		return;
	}
	rc = lvs_verify_lvol_name(lvol->lvol_store, new_name);
	if (rc != 0) {
		cb_fn(cb_arg, rc);
		return;
	}
	req = lvol_req_new(lvol, cb_fn, cb_arg);
	if (req == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	snprintf(req->name, sizeof(req->name), "%s", new_name);
	rc = spdk_blob_set_xattr(lvol->blob, LVOL_NAME_XATTR, new_name, (uint16_t)(strlen(new_name) + 1));
	if (rc != 0) {
		lvol_req_finish(req, rc);
		return;
	}
	spdk_blob_sync_md(lvol->blob, lvol_rename_cb, req);
}

static void
lvol_resize_cb(void *cb_arg, int lvolerrno)
{
	struct spdk_lvol_req *req = cb_arg;

	if (lvolerrno != 0) {
		lvol_req_finish(req, lvolerrno);
		return;
	}
	spdk_blob_sync_md(req->lvol->blob, lvol_req_finish, req);
}

void
spdk_lvol_resize(struct spdk_lvol *lvol, uint64_t sz, spdk_lvol_op_complete cb_fn, void *cb_arg)
{
	uint64_t cluster_sz = spdk_bs_get_cluster_size(lvol->lvol_store->blobstore);
	struct spdk_lvol_req *req;

	if (lvol->blob == NULL) {
		cb_fn(cb_arg, -EINVAL);
		return;
	}
	req = lvol_req_new(lvol, cb_fn, cb_arg);
	if (req == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	req->sz = sz;
	spdk_blob_resize(lvol->blob, (sz + cluster_sz - 1) / cluster_sz, lvol_resize_cb, req);
}

/* Persist the lvol's blob metadata after an in-memory change, then complete cb_fn. */
static void
lvol_sync_md(struct spdk_lvol *lvol, spdk_lvol_op_complete cb_fn, void *cb_arg)
{
	struct spdk_lvol_req *req = lvol_req_new(lvol, cb_fn, cb_arg);

	if (req == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	spdk_blob_sync_md(lvol->blob, lvol_req_finish, req);
}

void
spdk_lvol_set_read_only(struct spdk_lvol *lvol, spdk_lvol_op_complete cb_fn, void *cb_arg)
{
	int rc;

	if (lvol->blob == NULL) {
		cb_fn(cb_arg, -EINVAL);
		return;
	}
	rc = spdk_blob_set_read_only(lvol->blob);
	if (rc != 0) {
		cb_fn(cb_arg, rc);
		return;
	}
	lvol_sync_md(lvol, cb_fn, cb_arg);
}

void
spdk_lvol_set_xattr(struct spdk_lvol *lvol, const char *name, const void *value,
		    uint16_t value_len, spdk_lvol_op_complete cb_fn, void *cb_arg)
{
	int rc;

	if (lvol->blob == NULL) {
		cb_fn(cb_arg, -EINVAL);
		return;
	}
	/* LH fork b17944be8: the blobstore allows it on read-only blobs, the lvol layer does not;
	 * and the library's own xattrs are not the caller's to set. */
	if (spdk_blob_is_read_only(lvol->blob)) {
		cb_fn(cb_arg, -EPERM);
		return;
	}
	if (lvol_xattr_name_reserved(name)) {
		SPDK_ERRLOG("lvol %s: xattr %s belongs to the lvol library\n", lvol->name, name);
		cb_fn(cb_arg, -EINVAL);
		return;
	}
	rc = spdk_blob_set_xattr(lvol->blob, name, value, value_len);
	if (rc != 0) {
		cb_fn(cb_arg, rc);
		return;
	}
	lvol_sync_md(lvol, cb_fn, cb_arg);
}

int
spdk_lvol_get_xattr(struct spdk_lvol *lvol, const char *name, const void **value,
		    size_t *value_len)
{
	if (lvol->blob == NULL) {
		return -EBADF;
	}
	return spdk_blob_get_xattr_value(lvol->blob, name, value, value_len);
}

/* ---- destroy ---- */

bool
spdk_lvol_deletable(struct spdk_lvol *lvol)
{
	size_t count = 0;

	/* With no room for ids the call only reports how many clones there are. */
	spdk_blob_get_clones(lvol->lvol_store->blobstore, lvol->blob_id, NULL, &count);
	return count <= 1;
}

static void
lvol_delete_blob_cb(void *cb_arg, int lvolerrno)
{
	struct spdk_lvol_req *req = cb_arg;
	struct spdk_lvol *lvol = req->lvol;
	struct spdk_lvol_store *lvs = lvol->lvol_store;

	lvol->action_in_progress = false;
	if (lvolerrno == 0) {
		TAILQ_REMOVE(&lvs->lvols, lvol, link);
		lvs->lvol_count--;
		SPDK_WASM_TRACE("spdk_lvol_destroy", (uint32_t)(lvol->blob_id >> 32), (uint32_t)lvol->blob_id, 0, 0);
		lvol_free(lvol);
	} else {
		SPDK_ERRLOG("could not remove blob of lvol %s: %d\n", lvol->name, lvolerrno);
	}
	lvol_req_finish(req, lvolerrno);
}

void
spdk_lvol_destroy(struct spdk_lvol *lvol, spdk_lvol_op_complete cb_fn, void *cb_arg)
{
	struct spdk_lvol_req *req;

	if (lvol->ref_count != 0 || lvol->action_in_progress) {
		SPDK_ERRLOG("cannot destroy lvol %s: it is open or busy\n", lvol->name);
		cb_fn(cb_arg, -EBUSY);
		return;
	}
	if (!spdk_lvol_deletable(lvol)) {
		SPDK_ERRLOG("cannot destroy lvol %s: a snapshot with more than one clone\n", lvol->name);
		cb_fn(cb_arg, -EPERM);
		return;
	}
	req = lvol_req_new(lvol, cb_fn, cb_arg);
	if (req == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	lvol->action_in_progress = true;
	spdk_bs_delete_blob(lvol->lvol_store->blobstore, lvol->blob_id, lvol_delete_blob_cb, req);
}

/* ---- inflate / decouple ---- */

struct lvol_inflate_req {
	struct spdk_lvol	*lvol;
	struct spdk_io_channel	*channel;
	spdk_lvol_op_complete	cb_fn;
	void			*cb_arg;
};

static void
lvol_inflate_cb(void *cb_arg, int lvolerrno)
{
	struct lvol_inflate_req *req = cb_arg;

	spdk_bs_free_io_channel(req->channel);
	req->lvol->action_in_progress = false;
	if (lvolerrno == 0 && req->lvol->blob != NULL) {
		req->lvol->thin_provision = spdk_blob_is_thin_provisioned(req->lvol->blob);
	}
	req->cb_fn(req->cb_arg, lvolerrno);
	free(req);
}

static void
lvol_inflate(struct spdk_lvol *lvol, bool all, spdk_lvol_op_complete cb_fn, void *cb_arg)
{
	struct lvol_inflate_req *req;

	if (lvol->action_in_progress) {
		cb_fn(cb_arg, -EBUSY);
		return;
	}
	req = calloc(1, sizeof(*req));
	if (req == NULL || (req->channel = spdk_bs_alloc_io_channel(lvol->lvol_store->blobstore)) == NULL) {
		free(req);
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	req->lvol = lvol;
	req->cb_fn = cb_fn;
	req->cb_arg = cb_arg;
	lvol->action_in_progress = true;
	if (all) {
		spdk_bs_inflate_blob(lvol->lvol_store->blobstore, req->channel, lvol->blob_id,
				     lvol_inflate_cb, req);
	} else {
		spdk_bs_blob_decouple_parent(lvol->lvol_store->blobstore, req->channel, lvol->blob_id,
					     lvol_inflate_cb, req);
	}
}

void
spdk_lvol_inflate(struct spdk_lvol *lvol, spdk_lvol_op_complete cb_fn, void *cb_arg)
{
	lvol_inflate(lvol, true, cb_fn, cb_arg);
}

void
spdk_lvol_decouple_parent(struct spdk_lvol *lvol, spdk_lvol_op_complete cb_fn, void *cb_arg)
{
	lvol_inflate(lvol, false, cb_fn, cb_arg);
}
