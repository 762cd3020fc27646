/* Blob metadata: allocation of md pages and clusters, xattrs, serialization of a blob into its
 * md page chain (+ extent pages) and parsing it back, persist, open/close, create, resize,
 * delete. Store lifecycle (init/load/unload) is in bs_load.c, data I/O in blob_io.c, snapshot
 * and clone in blob_snapshot.c. Upstream twin: lib/blob/blobstore.c. */
#include "spdk/crc32.h"
#include "spdk/log.h"
#include "spdk/thread.h"
#include "spdk_internal/trace_host.h"

#include "blobstore.h"

/* ---- pages and clusters ---- */

uint32_t
blob_md_page_calc_crc(void *page)
{
	return spdk_crc32c_update(page, SPDK_BS_PAGE_SIZE - 4, SPDK_CRC32C_INITIAL) ^ SPDK_CRC32C_XOR;
}

int
bs_claim_md_page(struct spdk_blob_store *bs, uint32_t *page)
{
	/* Index 0 is reserved for the first blob's root; chain and extent pages never use it. */
	uint32_t p = bs_bit_array_find_first_clear(&bs->used_md_pages, 1);

	if (p == UINT32_MAX) {
		return -ENOMEM;
	}
	bs_bit_array_set(&bs->used_md_pages, p);
	*page = p;
	return 0;
}

void
bs_release_md_page(struct spdk_blob_store *bs, uint32_t page)
{
	bs_bit_array_clear(&bs->used_md_pages, page);
}

int
bs_claim_cluster(struct spdk_blob_store *bs, uint32_t *cluster_num)
{
	uint32_t c = bs_bit_array_find_first_clear(&bs->used_clusters, 0);

	if (c == UINT32_MAX) {
		return -ENOSPC;
	}
	bs_bit_array_set(&bs->used_clusters, c);
	bs->num_free_clusters--;
	*cluster_num = c;
	SPDK_WASM_TRACE("bs_claim_cluster", c, bs->num_free_clusters, 0, 0);
	return 0;
}

void
bs_release_cluster(struct spdk_blob_store *bs, uint32_t cluster_num)
{
	if (bs_bit_array_get(&bs->used_clusters, cluster_num)) {
		bs_bit_array_clear(&bs->used_clusters, cluster_num);
		bs->num_free_clusters++;
		SPDK_WASM_TRACE("bs_release_cluster", cluster_num, bs->num_free_clusters, 0, 0);
	}
}

/* ---- blob objects ---- */

struct spdk_blob *
blob_alloc(struct spdk_blob_store *bs, spdk_blob_id id)
{
	struct spdk_blob *blob = calloc(1, sizeof(*blob));

	if (blob == NULL) {
		return NULL;
	}
	blob->id = id;
	blob->bs = bs;
	blob->parent_id = SPDK_BLOBID_INVALID;
	blob->state = SPDK_BLOB_STATE_DIRTY;
	blob->active.num_pages = 1;
	blob->active.pages = calloc(1, sizeof(uint32_t));
	blob->active.pages_array_size = 1;
	if (blob->active.pages == NULL) {
		free(blob);
		return NULL;
	}
	blob->active.pages[0] = bs_blobid_to_page(id);
	TAILQ_INIT(&blob->xattrs);
	TAILQ_INIT(&blob->xattrs_internal);
	TAILQ_INIT(&blob->persists);
	return blob;
}

static void
xattrs_free(struct spdk_xattr_tailq *xattrs)
{
	struct spdk_xattr *x;

	while ((x = TAILQ_FIRST(xattrs)) != NULL) {
		TAILQ_REMOVE(xattrs, x, link);
		free(x->name);
		free(x->value);
		free(x);
	}
}

static void
mut_data_free(struct spdk_blob_mut_data *d)
{
	free(d->clusters);
	free(d->extent_pages);
	free(d->pages);
	memset(d, 0, sizeof(*d));
}

void
blob_free(struct spdk_blob *blob)
{
	mut_data_free(&blob->active);
	mut_data_free(&blob->clean);
	xattrs_free(&blob->xattrs);
	xattrs_free(&blob->xattrs_internal);
	free(blob->truncated_clusters);
	free(blob->truncated_extent_pages);
	if (blob->back_bs_dev) {
		blob->back_bs_dev->destroy(blob->back_bs_dev);
	}
	free(blob);
}

/* Grows the cluster and extent-page arrays to hold num_clusters (new entries zeroed). */
int
blob_mut_data_ensure(struct spdk_blob_mut_data *d, uint64_t num_clusters)
{
	uint64_t neps = (num_clusters + SPDK_EXTENTS_PER_EP - 1) / SPDK_EXTENTS_PER_EP;
	size_t cluster_bytes, ep_bytes;
	void *tmp;

	if (!spdk_alloc_size_ok(num_clusters, sizeof(uint64_t), &cluster_bytes) ||
	    !spdk_alloc_size_ok(neps, sizeof(uint32_t), &ep_bytes)) {
		return -ENOMEM;
	}
	if (num_clusters > d->cluster_array_size) {
		tmp = realloc(d->clusters, cluster_bytes);
		if (tmp == NULL) {
			return -ENOMEM;
		}
		d->clusters = tmp;
		memset(d->clusters + d->cluster_array_size, 0,
		       sizeof(uint64_t) * (num_clusters - d->cluster_array_size));
		d->cluster_array_size = num_clusters;
	}
	if (neps > d->extent_pages_array_size) {
		tmp = realloc(d->extent_pages, ep_bytes);
		if (tmp == NULL) {
			return -ENOMEM;
		}
		d->extent_pages = tmp;
		memset(d->extent_pages + d->extent_pages_array_size, 0,
		       sizeof(uint32_t) * (neps - d->extent_pages_array_size));
		d->extent_pages_array_size = neps;
	}
	return 0;
}

static int
mut_data_copy(struct spdk_blob_mut_data *dst, const struct spdk_blob_mut_data *src)
{
	struct spdk_blob_mut_data d = {0};

	d.num_clusters = src->num_clusters;
	d.num_extent_pages = src->num_extent_pages;
	d.num_pages = src->num_pages;
	if (blob_mut_data_ensure(&d, src->num_clusters) != 0) {
		mut_data_free(&d);
		return -ENOMEM;
	}
	if (src->num_clusters) {
		memcpy(d.clusters, src->clusters, sizeof(uint64_t) * src->num_clusters);
	}
	if (src->num_extent_pages) {
		memcpy(d.extent_pages, src->extent_pages, sizeof(uint32_t) * src->num_extent_pages);
	}
	d.pages = calloc(src->num_pages ? src->num_pages : 1, sizeof(uint32_t));
	if (d.pages == NULL) {
		mut_data_free(&d);
		return -ENOMEM;
	}
	memcpy(d.pages, src->pages, sizeof(uint32_t) * src->num_pages);
	d.pages_array_size = src->num_pages ? src->num_pages : 1;
	mut_data_free(dst);
	*dst = d;
	return 0;
}

static void
blob_mark_clean(struct spdk_blob *blob)
{
	if (mut_data_copy(&blob->clean, &blob->active) == 0) {
		blob->state = SPDK_BLOB_STATE_CLEAN;
	}
}

void
bs_noop_cpl(void *cb_arg, int bserrno)
{
	(void)cb_arg;
	if (bserrno != 0) {
		SPDK_ERRLOG("background blob operation failed: %d\n", bserrno);
	}
}

void
bs_send_blob_cpl(spdk_blob_op_complete cb_fn, void *cb_arg, int bserrno)
{
	cb_fn(cb_arg, bserrno);
}

/* ---- flags and xattrs ---- */

void
blob_set_thin_provision(struct spdk_blob *blob)
{
	blob->invalid_flags |= SPDK_BLOB_THIN_PROV;
	blob->state = SPDK_BLOB_STATE_DIRTY;
}

void
blob_update_clear_method(struct spdk_blob *blob)
{
	blob->md_ro_flags &= ~SPDK_BLOB_CLEAR_METHOD;
	blob->md_ro_flags |= ((uint64_t)blob->clear_method << SPDK_BLOB_CLEAR_METHOD_SHIFT);
}

bool
blob_backed_by_zeroes(struct spdk_blob *blob)
{
	return blob->back_bs_dev == NULL || bs_dev_is_zeroes_dev(blob->back_bs_dev);
}

static struct spdk_xattr *
xattr_find(struct spdk_xattr_tailq *xattrs, const char *name)
{
	struct spdk_xattr *x;

	TAILQ_FOREACH(x, xattrs, link) {
		if (strcmp(name, x->name) == 0) {
			return x;
		}
	}
	return NULL;
}

/* Stores an xattr without permission checks: parsing a read-only blob's md goes through here. */
static int
blob_store_xattr(struct spdk_blob *blob, const char *name, const void *value, uint16_t value_len,
		 bool internal)
{
	struct spdk_xattr_tailq *xattrs = internal ? &blob->xattrs_internal : &blob->xattrs;
	struct spdk_xattr *x;
	size_t desc_size;
	void *copy;

	desc_size = sizeof(struct spdk_blob_md_descriptor_xattr) + strlen(name) + value_len;
	if (desc_size > SPDK_BS_MAX_DESC_SIZE) {
		SPDK_ERRLOG("xattr '%s' of %zu bytes does not fit a metadata page (max %d)\n",
			    name, desc_size, SPDK_BS_MAX_DESC_SIZE);
		return -ENOMEM;
	}
	copy = malloc(value_len ? value_len : 1);
	if (copy == NULL) {
		return -ENOMEM;
	}
	memcpy(copy, value, value_len);
	x = xattr_find(xattrs, name);
	if (x != NULL) {
		free(x->value);
		x->value = copy;
		x->value_len = value_len;
	} else {
		x = calloc(1, sizeof(*x));
		if (x == NULL || (x->name = strdup(name)) == NULL) {
			free(x);
			free(copy);
			return -ENOMEM;
		}
		x->value = copy;
		x->value_len = value_len;
		TAILQ_INSERT_TAIL(xattrs, x, link);
	}
	if (internal) {
		blob->invalid_flags |= SPDK_BLOB_INTERNAL_XATTR;
	}
	blob->state = SPDK_BLOB_STATE_DIRTY;
	return 0;
}

int
blob_set_xattr(struct spdk_blob *blob, const char *name, const void *value, uint16_t value_len,
	       bool internal)
{
	/* The LH fork (713f2bca1) lets user xattrs change on read-only blobs; internal ones not. */
	if (internal && blob->md_ro) {
		return -EPERM;
	}
	return blob_store_xattr(blob, name, value, value_len, internal);
}

int
blob_remove_xattr(struct spdk_blob *blob, const char *name, bool internal)
{
	struct spdk_xattr_tailq *xattrs = internal ? &blob->xattrs_internal : &blob->xattrs;
	struct spdk_xattr *x;

	if (internal && blob->md_ro) {
		return -EPERM;
	}
	x = xattr_find(xattrs, name);
	if (x == NULL) {
		return -ENOENT;
	}
	TAILQ_REMOVE(xattrs, x, link);
	free(x->name);
	free(x->value);
	free(x);
	if (internal && TAILQ_EMPTY(&blob->xattrs_internal)) {
		blob->invalid_flags &= ~SPDK_BLOB_INTERNAL_XATTR;
	}
	blob->state = SPDK_BLOB_STATE_DIRTY;
	return 0;
}

int
blob_get_xattr_value(struct spdk_blob *blob, const char *name, const void **value,
		     size_t *value_len, bool internal)
{
	struct spdk_xattr *x = xattr_find(internal ? &blob->xattrs_internal : &blob->xattrs, name);

	if (x == NULL) {
		return -ENOENT;
	}
	*value = x->value;
	*value_len = x->value_len;
	return 0;
}

int
spdk_blob_set_xattr(struct spdk_blob *blob, const char *name, const void *value,
		    uint16_t value_len)
{
	return blob_set_xattr(blob, name, value, value_len, false);
}

int
spdk_blob_remove_xattr(struct spdk_blob *blob, const char *name)
{
	return blob_remove_xattr(blob, name, false);
}

int
spdk_blob_get_xattr_value(struct spdk_blob *blob, const char *name, const void **value,
			  size_t *value_len)
{
	return blob_get_xattr_value(blob, name, value, value_len, false);
}

int
spdk_blob_get_xattr_names(struct spdk_blob *blob, struct spdk_xattr_names **names)
{
	struct spdk_xattr *x;
	uint32_t count = 0;

	TAILQ_FOREACH(x, &blob->xattrs, link) {
		count++;
	}
	*names = calloc(1, sizeof(struct spdk_xattr_names) + count * sizeof(char *));
	if (*names == NULL) {
		return -ENOMEM;
	}
	TAILQ_FOREACH(x, &blob->xattrs, link) {
		(*names)->names[(*names)->count++] = x->name;
	}
	return 0;
}

uint32_t
spdk_xattr_names_get_count(struct spdk_xattr_names *names)
{
	return names->count;
}

const char *
spdk_xattr_names_get_name(struct spdk_xattr_names *names, uint32_t index)
{
	return index < names->count ? names->names[index] : NULL;
}

void
spdk_xattr_names_free(struct spdk_xattr_names *names)
{
	free(names);
}

/* ---- serialization (spec §1.5) ---- */

struct blob_serialize_ctx {
	struct spdk_blob_md_page	*pages;
	uint32_t			num_pages;
	uint8_t				*buf;		/* next free byte of the last page */
	size_t				remaining;	/* bytes left in its descriptor area */
};

static int
blob_serialize_add_page(struct blob_serialize_ctx *s, spdk_blob_id id)
{
	struct spdk_blob_md_page *p = realloc(s->pages, sizeof(*p) * (s->num_pages + 1));

	if (p == NULL) {
		return -ENOMEM;
	}
	s->pages = p;
	p = &s->pages[s->num_pages];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->sequence_num = s->num_pages;
	p->next = SPDK_INVALID_MD_PAGE;
	s->num_pages++;
	s->buf = p->descriptors;
	s->remaining = SPDK_BS_MAX_DESC_SIZE;
	return 0;
}

/* Room for a descriptor of 'size' bytes, starting a new page when the current one is full. */
static uint8_t *
blob_serialize_reserve(struct blob_serialize_ctx *s, spdk_blob_id id, size_t size)
{
	uint8_t *p;

	if (size > s->remaining) {
		if (size > SPDK_BS_MAX_DESC_SIZE || blob_serialize_add_page(s, id) != 0) {
			return NULL;
		}
	}
	p = s->buf;
	s->buf += size;
	s->remaining -= size;
	return p;
}

static int
blob_serialize_xattrs(struct blob_serialize_ctx *s, struct spdk_blob *blob,
		      struct spdk_xattr_tailq *xattrs, uint8_t type)
{
	struct spdk_blob_md_descriptor_xattr *d;
	struct spdk_xattr *x;
	size_t nlen, size;

	TAILQ_FOREACH(x, xattrs, link) {
		nlen = strlen(x->name);
		size = sizeof(*d) + nlen + x->value_len;
		d = (void *)blob_serialize_reserve(s, blob->id, size);
		if (d == NULL) {
			return -ENOMEM;
		}
		d->type = type;
		d->length = (uint32_t)(size - sizeof(struct spdk_blob_md_descriptor));
		d->name_length = (uint16_t)nlen;
		d->value_length = x->value_len;
		memcpy(d->name, x->name, nlen);
		memcpy(d->name + nlen, x->value, x->value_len);
	}
	return 0;
}

/* Runs of physically contiguous clusters (cluster_idx 0 = a run of holes). */
static int
blob_serialize_extents_rle(struct blob_serialize_ctx *s, struct spdk_blob *blob)
{
	struct spdk_blob_store *bs = blob->bs;
	struct spdk_blob_md_descriptor_extent_rle *d = NULL;
	uint64_t i = 0, n = blob->active.num_clusters;
	uint32_t cidx, len, max_entries = 0;

	while (i < n) {
		cidx = blob->active.clusters[i] ? bs_lba_to_cluster(bs, blob->active.clusters[i]) : 0;
		len = 1;
		while (i + len < n) {
			uint64_t lba = blob->active.clusters[i + len];
			if (cidx == 0 ? lba != 0 : (lba == 0 || bs_lba_to_cluster(bs, lba) != cidx + len)) {
				break;
			}
			len++;
		}
		if (d == NULL || d->length / 8 >= max_entries) {
			/* Open a descriptor using what is left of this page (or a fresh one). */
			if (s->remaining < sizeof(*d) + 8) {
				if (blob_serialize_add_page(s, blob->id) != 0) {
					return -ENOMEM;
				}
			}
			max_entries = (uint32_t)((s->remaining - sizeof(*d)) / 8);
			d = (void *)s->buf;
			d->type = SPDK_MD_DESCRIPTOR_TYPE_EXTENT_RLE;
			d->length = 0;
			s->buf += sizeof(*d);
			s->remaining -= sizeof(*d);
		}
		d->extents[d->length / 8].cluster_idx = cidx;
		d->extents[d->length / 8].length = len;
		d->length += 8;
		s->buf += 8;
		s->remaining -= 8;
		i += len;
	}
	return 0;
}

static int
blob_serialize_extent_table(struct blob_serialize_ctx *s, struct spdk_blob *blob)
{
	struct spdk_blob_md_descriptor_extent_table *d = NULL;
	uint32_t i = 0, n = blob->active.num_extent_pages, len, max_entries = 0;
	uint32_t *eps = blob->active.extent_pages;

	do {
		if (d == NULL || (d->length - 8) / 8 >= max_entries) {
			if (s->remaining < sizeof(*d) + 8) {
				if (blob_serialize_add_page(s, blob->id) != 0) {
					return -ENOMEM;
				}
			}
			max_entries = (uint32_t)((s->remaining - sizeof(*d)) / 8);
			d = (void *)s->buf;
			d->type = SPDK_MD_DESCRIPTOR_TYPE_EXTENT_TABLE;
			d->length = 8;
			d->num_clusters = blob->active.num_clusters;
			s->buf += sizeof(*d);
			s->remaining -= sizeof(*d);
		}
		if (i >= n) {
			break;
		}
		len = 1;
		if (eps[i] == 0) {
			while (i + len < n && eps[i + len] == 0) {
				len++;
			}
		}
		d->extent_page[(d->length - 8) / 8].page_idx = eps[i];
		d->extent_page[(d->length - 8) / 8].num_pages = len;
		d->length += 8;
		s->buf += 8;
		s->remaining -= 8;
		i += len;
	} while (i < n);
	return 0;
}

static int
blob_serialize(struct spdk_blob *blob, struct spdk_blob_md_page **pages, uint32_t *page_count)
{
	struct blob_serialize_ctx s = {0};
	struct spdk_blob_md_descriptor_flags *f;
	int rc;

	rc = blob_serialize_add_page(&s, blob->id);
	if (rc == 0) {
		f = (void *)blob_serialize_reserve(&s, blob->id, sizeof(*f));
		f->type = SPDK_MD_DESCRIPTOR_TYPE_FLAGS;
		f->length = sizeof(*f) - sizeof(struct spdk_blob_md_descriptor);
		f->invalid_flags = blob->invalid_flags;
		f->data_ro_flags = blob->data_ro_flags;
		f->md_ro_flags = blob->md_ro_flags;
		rc = blob_serialize_xattrs(&s, blob, &blob->xattrs, SPDK_MD_DESCRIPTOR_TYPE_XATTR);
	}
	if (rc == 0) {
		rc = blob_serialize_xattrs(&s, blob, &blob->xattrs_internal,
					   SPDK_MD_DESCRIPTOR_TYPE_XATTR_INTERNAL);
	}
	if (rc == 0) {
		rc = blob->use_extent_table ? blob_serialize_extent_table(&s, blob) :
		     blob_serialize_extents_rle(&s, blob);
	}
	if (rc != 0) {
		free(s.pages);
		return rc;
	}
	*pages = s.pages;
	*page_count = s.num_pages;
	return 0;
}

/* ---- parsing ---- */

static int
blob_parse_xattr(struct spdk_blob *blob, const struct spdk_blob_md_descriptor *desc, bool internal)
{
	const struct spdk_blob_md_descriptor_xattr *d = (const void *)desc;
	char name[SPDK_BS_MAX_DESC_SIZE + 1];

	if (d->length < 4 || d->length != 4u + d->name_length + d->value_length) {
		return -EINVAL;
	}
	memcpy(name, d->name, d->name_length);
	name[d->name_length] = '\0';
	/* FLAGS came first and may have made the blob read-only: what is on disk is loaded anyway. */
	return blob_store_xattr(blob, name, d->name + d->name_length, d->value_length, internal);
}

static int
blob_parse_page(const struct spdk_blob_md_page *page, struct spdk_blob *blob)
{
	struct spdk_blob_store *bs = blob->bs;
	const uint8_t *p = page->descriptors;
	size_t cur = 0;
	uint32_t i, j;
	int rc;

	while (cur + sizeof(struct spdk_blob_md_descriptor) <= SPDK_BS_MAX_DESC_SIZE) {
		const struct spdk_blob_md_descriptor *desc = (const void *)(p + cur);

		if (desc->type == SPDK_MD_DESCRIPTOR_TYPE_PADDING && desc->length == 0) {
			break;
		}
		if (cur + sizeof(*desc) + desc->length > SPDK_BS_MAX_DESC_SIZE) {
			return -EINVAL;
		}
		switch (desc->type) {
		case SPDK_MD_DESCRIPTOR_TYPE_FLAGS: {
			const struct spdk_blob_md_descriptor_flags *f = (const void *)desc;

			if (desc->length != 24) {
				return -EINVAL;
			}
			if (f->invalid_flags & ~SPDK_BLOB_INVALID_FLAGS_MASK) {
				blob->invalid = true;
				return -EINVAL;
			}
			if (f->data_ro_flags & ~SPDK_BLOB_DATA_RO_FLAGS_MASK) {
				blob->data_ro = true;
				blob->md_ro = true;
			}
			if (f->md_ro_flags & ~SPDK_BLOB_MD_RO_FLAGS_MASK) {
				blob->md_ro = true;
			}
			if (f->data_ro_flags & SPDK_BLOB_READ_ONLY) {
				blob->data_ro = true;
				blob->md_ro = true;
			}
			blob->invalid_flags = f->invalid_flags;
			blob->data_ro_flags = f->data_ro_flags;
			blob->md_ro_flags = f->md_ro_flags;
			blob->clear_method = (enum blob_clear_method)((f->md_ro_flags & SPDK_BLOB_CLEAR_METHOD)
					     >> SPDK_BLOB_CLEAR_METHOD_SHIFT);
			break;
		}
		case SPDK_MD_DESCRIPTOR_TYPE_EXTENT_RLE: {
			const struct spdk_blob_md_descriptor_extent_rle *d = (const void *)desc;
			uint64_t n;

			if (blob->extent_table_found || desc->length % 8) {
				return -EINVAL;
			}
			blob->extent_rle_found = true;
			for (i = 0; i < desc->length / 8; i++) {
				uint32_t cidx = d->extents[i].cluster_idx, len = d->extents[i].length;

				if (cidx != 0 && (uint64_t)cidx + len > bs->total_clusters) {
					return -EINVAL;
				}
				n = blob->active.num_clusters;
				rc = blob_mut_data_ensure(&blob->active, n + len);
				if (rc != 0) {
					return rc;
				}
				for (j = 0; j < len; j++) {
					if (cidx != 0) {
						if (!bs_bit_array_get(&bs->used_clusters, cidx + j)) {
							return -EINVAL;
						}
						blob->active.clusters[n + j] = bs_cluster_to_lba(bs, cidx + j);
						blob->num_allocated_clusters++;
					}
				}
				blob->active.num_clusters = n + len;
			}
			break;
		}
		case SPDK_MD_DESCRIPTOR_TYPE_EXTENT_TABLE: {
			const struct spdk_blob_md_descriptor_extent_table *d = (const void *)desc;
			uint32_t n;

			if (blob->extent_rle_found || desc->length < 8 || (desc->length - 8) % 8) {
				return -EINVAL;
			}
			if (blob->extent_table_found && d->num_clusters != blob->active.num_clusters) {
				return -EINVAL;
			}
			blob->extent_table_found = true;
			rc = blob_mut_data_ensure(&blob->active, d->num_clusters);
			if (rc != 0) {
				return rc;
			}
			blob->active.num_clusters = d->num_clusters;
			for (i = 0; i < (desc->length - 8) / 8; i++) {
				uint32_t pidx = d->extent_page[i].page_idx, np = d->extent_page[i].num_pages;

				n = blob->active.num_extent_pages;
				if ((uint64_t)n + np > blob->active.extent_pages_array_size ||
				    (pidx != 0 && (np != 1 || pidx >= bs->md_len))) {
					return -EINVAL;
				}
				for (j = 0; j < np; j++) {
					blob->active.extent_pages[n + j] = pidx;
				}
				blob->active.num_extent_pages = n + np;
			}
			break;
		}
		case SPDK_MD_DESCRIPTOR_TYPE_XATTR:
		case SPDK_MD_DESCRIPTOR_TYPE_XATTR_INTERNAL:
			rc = blob_parse_xattr(blob, desc, desc->type == SPDK_MD_DESCRIPTOR_TYPE_XATTR_INTERNAL);
			if (rc != 0) {
				return rc;
			}
			break;
		default:
			/* Unknown descriptors are skipped (forward compatibility). */
			break;
		}
		cur += sizeof(*desc) + desc->length;
	}
	return 0;
}

int
blob_parse(const struct spdk_blob_md_page *pages, uint32_t page_count, struct spdk_blob *blob)
{
	uint32_t i;
	int rc;

	if (page_count == 0 || pages[0].sequence_num != 0 || pages[0].id != blob->id) {
		return -EINVAL;
	}
	for (i = 0; i < page_count; i++) {
		if (pages[i].id != blob->id || pages[i].sequence_num != i) {
			return -EINVAL;
		}
		rc = blob_parse_page(&pages[i], blob);
		if (rc != 0) {
			return rc;
		}
	}
	blob->use_extent_table = (blob->invalid_flags & SPDK_BLOB_EXTENT_TABLE) != 0;
	/* Setting xattrs while parsing marked the blob dirty; what was read is the clean state. */
	blob->state = SPDK_BLOB_STATE_LOADING;
	return 0;
}

int
blob_parse_extent_page(const struct spdk_blob_md_page *page, struct spdk_blob *blob)
{
	const struct spdk_blob_md_descriptor_extent_page *d = (const void *)page->descriptors;
	struct spdk_blob_store *bs = blob->bs;
	uint32_t i, n, start;

	if (d->type != SPDK_MD_DESCRIPTOR_TYPE_EXTENT_PAGE || d->length < 4 ||
	    d->length > SPDK_BS_MAX_DESC_SIZE - 5 || (d->length - 4) % 4) {
		return -EINVAL;
	}
	n = (d->length - 4) / 4;
	start = d->start_cluster_idx;
	if (start % SPDK_EXTENTS_PER_EP != 0 || start >= blob->active.num_clusters) {
		return -EINVAL;
	}
	/* The root's num_clusters is authoritative: a grow whose extent page reached the disk before
	 * its root did leaves entries past the end, which name nothing (upstream bounds the parse by
	 * the clusters the extent table has left the same way). */
	n = (uint32_t)spdk_min((uint64_t)n, blob->active.num_clusters - start);
	for (i = 0; i < n; i++) {
		uint32_t c = d->cluster_idx[i];

		if (c == 0) {
			continue;
		}
		if (c >= bs->total_clusters || !bs_bit_array_get(&bs->used_clusters, c)) {
			return -EINVAL;
		}
		blob->active.clusters[start + i] = bs_cluster_to_lba(bs, c);
		blob->num_allocated_clusters++;
	}
	return 0;
}

static void
blob_serialize_extent_page(struct spdk_blob *blob, uint32_t extent_idx,
			   struct spdk_blob_md_page *page)
{
	struct spdk_blob_md_descriptor_extent_page *d = (void *)page->descriptors;
	uint64_t start = (uint64_t)extent_idx * SPDK_EXTENTS_PER_EP, i, n;

	memset(page, 0, sizeof(*page));
	page->id = blob->id;
	page->sequence_num = 0;
	page->next = SPDK_INVALID_MD_PAGE;
	n = spdk_min((uint64_t)SPDK_EXTENTS_PER_EP, blob->active.num_clusters - start);
	d->type = SPDK_MD_DESCRIPTOR_TYPE_EXTENT_PAGE;
	d->length = (uint32_t)(4 + n * 4);
	d->start_cluster_idx = (uint32_t)start;
	for (i = 0; i < n; i++) {
		uint64_t lba = blob->active.clusters[start + i];

		d->cluster_idx[i] = lba ? bs_lba_to_cluster(blob->bs, lba) : 0;
	}
	page->crc = blob_md_page_calc_crc(page);
}

/* ---- persist (spec §1.6) ---- */

struct spdk_blob_persist_ctx {
	struct spdk_blob		*blob;
	struct spdk_blob_md_page	*pages;		/* the new chain */
	uint32_t			num_pages;
	uint32_t			*page_idx;	/* md index of each new chain page */
	uint32_t			*eps_to_write;	/* extent indexes */
	uint32_t			num_eps_to_write;
	uint32_t			*zero_pages;	/* md pages to zero and release after the root */
	uint32_t			num_zero_pages;
	uint32_t			*release_clusters;
	uint32_t			num_release_clusters;
	uint32_t			cursor;
	/* A shrink rewrites its extent pages after the root: until the root names fewer clusters,
	 * the old entries must stay readable (and an extent page with more entries than the root
	 * is harmless, see blob_parse_extent_page). */
	bool				eps_after_root;
	bool				root_written;
	struct spdk_blob_md_page	*ep_buf;
	spdk_bs_sequence_t		*seq;
	spdk_blob_op_complete		cb_fn;
	void				*cb_arg;
	TAILQ_ENTRY(spdk_blob_persist_ctx) link;
};

static void blob_persist_start(struct spdk_blob_persist_ctx *ctx);
static void blob_persist_write_extent_pages(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno);

static void
blob_persist_ctx_free(struct spdk_blob_persist_ctx *ctx)
{
	free(ctx->pages);
	free(ctx->page_idx);
	free(ctx->eps_to_write);
	free(ctx->zero_pages);
	free(ctx->release_clusters);
	free(ctx->ep_buf);
	free(ctx);
}

static void
blob_persist_complete(struct spdk_blob_persist_ctx *ctx, int bserrno)
{
	struct spdk_blob *blob = ctx->blob;
	struct spdk_blob_persist_ctx *next;
	spdk_blob_op_complete cb_fn = ctx->cb_fn;
	void *cb_arg = ctx->cb_arg;

	TAILQ_REMOVE(&blob->persists, ctx, link);
	next = TAILQ_FIRST(&blob->persists);
	blob_persist_ctx_free(ctx);
	SPDK_WASM_TRACE("blob_persist_complete", blob->id >> 32, (uint32_t)blob->id, (uint32_t)-bserrno, 0);
	/* The callback may free the blob (close, delete): start the next persist first. */
	if (next != NULL) {
		blob_persist_start(next);
	}
	cb_fn(cb_arg, bserrno);
}

static void
blob_persist_finish_seq(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	(void)seq; (void)cb_arg; (void)bserrno;
}

static void
blob_persist_done(struct spdk_blob_persist_ctx *ctx, int bserrno)
{
	if (ctx->seq != NULL) {
		bs_sequence_finish(ctx->seq, bserrno);
		ctx->seq = NULL;
	}
	blob_persist_complete(ctx, bserrno);
}

static void
blob_persist_clear_clusters_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct spdk_blob_persist_ctx *ctx = cb_arg;
	struct spdk_blob_store *bs = ctx->blob->bs;
	uint32_t i;

	(void)seq;
	if (bserrno == 0) {
		for (i = 0; i < ctx->num_release_clusters; i++) {
			bs_release_cluster(bs, ctx->release_clusters[i]);
		}
	}
	blob_persist_done(ctx, bserrno);
}

/* Clears the truncated clusters per the blob's clear method, then releases them. */
static void
blob_persist_clear_clusters(struct spdk_blob_persist_ctx *ctx)
{
	struct spdk_blob *blob = ctx->blob;
	struct spdk_blob_store *bs = blob->bs;
	spdk_bs_batch_t *batch;
	uint64_t lba, lba_count = bs_cluster_to_lba(bs, 1);
	uint32_t i;

	if (ctx->num_release_clusters == 0) {
		blob_persist_done(ctx, 0);
		return;
	}
	batch = bs_sequence_to_batch(ctx->seq, blob_persist_clear_clusters_cpl, ctx);
	for (i = 0; i < ctx->num_release_clusters; i++) {
		lba = bs_cluster_to_lba(bs, ctx->release_clusters[i]);
		switch (blob->clear_method) {
		case BLOB_CLEAR_WITH_DEFAULT:
		case BLOB_CLEAR_WITH_UNMAP:
			bs_batch_unmap_dev(batch, lba, lba_count);
			break;
		case BLOB_CLEAR_WITH_WRITE_ZEROES:
			bs_batch_write_zeroes_dev(batch, lba, lba_count);
			break;
		case BLOB_CLEAR_WITH_NONE:
			break;
		}
	}
	bs_batch_close(batch);
}

static void
blob_persist_zero_pages_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct spdk_blob_persist_ctx *ctx = cb_arg;
	uint32_t i;

	(void)seq;
	if (bserrno != 0) {
		blob_persist_done(ctx, bserrno);
		return;
	}
	for (i = 0; i < ctx->num_zero_pages; i++) {
		bs_release_md_page(ctx->blob->bs, ctx->zero_pages[i]);
	}
	blob_persist_clear_clusters(ctx);
}

static void
blob_persist_zero_pages(struct spdk_blob_persist_ctx *ctx)
{
	struct spdk_blob_store *bs = ctx->blob->bs;
	spdk_bs_batch_t *batch;
	uint32_t i;

	if (ctx->num_zero_pages == 0) {
		blob_persist_zero_pages_cpl(ctx->seq, ctx, 0);
		return;
	}
	batch = bs_sequence_to_batch(ctx->seq, blob_persist_zero_pages_cpl, ctx);
	for (i = 0; i < ctx->num_zero_pages; i++) {
		bs_batch_write_zeroes_dev(batch, bs_page_to_lba(bs, bs->md_start + ctx->zero_pages[i]),
					  bs_byte_to_lba(bs, SPDK_BS_PAGE_SIZE));
	}
	bs_batch_close(batch);
}

static void
blob_persist_write_root_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct spdk_blob_persist_ctx *ctx = cb_arg;
	struct spdk_blob *blob = ctx->blob;
	uint32_t *tmp;

	(void)seq;
	if (bserrno != 0) {
		blob_persist_done(ctx, bserrno);
		return;
	}
	/* The new chain is live: record it, then retire what the old one used. */
	tmp = blob->active.pages;
	blob->active.pages = ctx->page_idx;
	blob->active.num_pages = ctx->num_pages;
	blob->active.pages_array_size = ctx->num_pages;
	ctx->page_idx = tmp;
	if (blob->data_ro_flags & SPDK_BLOB_READ_ONLY) {
		blob->data_ro = true;
		blob->md_ro = true;
	}
	blob_mark_clean(blob);
	ctx->root_written = true;
	if (ctx->eps_after_root && ctx->num_eps_to_write > 0) {
		ctx->cursor = 0;
		blob_persist_write_extent_pages(ctx->seq, ctx, 0);
		return;
	}
	blob_persist_zero_pages(ctx);
}

static void
blob_persist_write_chain(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct spdk_blob_persist_ctx *ctx = cb_arg;
	struct spdk_blob_store *bs = ctx->blob->bs;
	spdk_bs_batch_t *batch;
	uint32_t i;

	if (bserrno != 0) {
		blob_persist_done(ctx, bserrno);
		return;
	}
	if (ctx->cursor == 0) {
		/* Chain pages first (any order), the root last, so a torn update keeps the old root. */
		ctx->cursor = 1;
		if (ctx->num_pages > 1) {
			batch = bs_sequence_to_batch(seq, blob_persist_write_chain, ctx);
			for (i = 1; i < ctx->num_pages; i++) {
				bs_batch_write_dev(batch, &ctx->pages[i],
						   bs_page_to_lba(bs, bs->md_start + ctx->page_idx[i]),
						   bs_byte_to_lba(bs, SPDK_BS_PAGE_SIZE));
			}
			bs_batch_close(batch);
			return;
		}
	}
	bs_sequence_write_dev(seq, &ctx->pages[0], bs_page_to_lba(bs, bs->md_start + ctx->page_idx[0]),
			      bs_byte_to_lba(bs, SPDK_BS_PAGE_SIZE), blob_persist_write_root_cpl, ctx);
}

static void
blob_persist_write_extent_pages(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct spdk_blob_persist_ctx *ctx = cb_arg;
	struct spdk_blob *blob = ctx->blob;
	struct spdk_blob_store *bs = blob->bs;
	uint32_t idx;

	if (bserrno != 0) {
		blob_persist_done(ctx, bserrno);
		return;
	}
	if (ctx->cursor >= ctx->num_eps_to_write) {
		if (ctx->root_written) {
			blob_persist_zero_pages(ctx);
			return;
		}
		ctx->cursor = 0;
		blob_persist_write_chain(seq, ctx, 0);
		return;
	}
	idx = ctx->eps_to_write[ctx->cursor++];
	blob_serialize_extent_page(blob, idx, ctx->ep_buf);
	bs_sequence_write_dev(seq, ctx->ep_buf,
			      bs_page_to_lba(bs, bs->md_start + blob->active.extent_pages[idx]),
			      bs_byte_to_lba(bs, SPDK_BS_PAGE_SIZE), blob_persist_write_extent_pages, ctx);
}

static int
blob_persist_take_truncated(struct spdk_blob_persist_ctx *ctx)
{
	struct spdk_blob *blob = ctx->blob;
	uint32_t i, n = blob->num_truncated_extent_pages;
	uint32_t *zp;

	ctx->release_clusters = blob->truncated_clusters;
	ctx->num_release_clusters = blob->num_truncated_clusters;
	blob->truncated_clusters = NULL;
	blob->num_truncated_clusters = 0;

	zp = realloc(ctx->zero_pages, sizeof(uint32_t) * (ctx->num_zero_pages + n + 1));
	if (zp == NULL) {
		return -ENOMEM;
	}
	ctx->zero_pages = zp;
	for (i = 0; i < n; i++) {
		zp[ctx->num_zero_pages++] = blob->truncated_extent_pages[i];
	}
	free(blob->truncated_extent_pages);
	blob->truncated_extent_pages = NULL;
	blob->num_truncated_extent_pages = 0;
	return 0;
}

/* Deleting: the root is zeroed first (the blob disappears atomically), then the rest. */
static void
blob_persist_delete_root_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct spdk_blob_persist_ctx *ctx = cb_arg;

	(void)seq;
	if (bserrno != 0) {
		blob_persist_done(ctx, bserrno);
		return;
	}
	bs_release_md_page(ctx->blob->bs, bs_blobid_to_page(ctx->blob->id));
	ctx->blob->state = SPDK_BLOB_STATE_CLEAN;
	blob_persist_zero_pages(ctx);
}

static void
blob_persist_delete(struct spdk_blob_persist_ctx *ctx)
{
	struct spdk_blob *blob = ctx->blob;
	struct spdk_blob_store *bs = blob->bs;
	uint32_t i;
	int rc;

	ctx->zero_pages = calloc(blob->clean.num_pages + blob->active.num_extent_pages + 1,
				 sizeof(uint32_t));
	if (ctx->zero_pages == NULL) {
		blob_persist_done(ctx, -ENOMEM);
		return;
	}
	for (i = 1; i < blob->clean.num_pages; i++) {
		ctx->zero_pages[ctx->num_zero_pages++] = blob->clean.pages[i];
	}
	for (i = 0; i < blob->active.num_extent_pages; i++) {
		if (blob->active.extent_pages[i] != 0) {
			ctx->zero_pages[ctx->num_zero_pages++] = blob->active.extent_pages[i];
			blob->active.extent_pages[i] = 0;
		}
	}
	rc = blob_persist_take_truncated(ctx);
	if (rc != 0) {
		blob_persist_done(ctx, rc);
		return;
	}
	bs_sequence_write_zeroes_dev(ctx->seq, bs_page_to_lba(bs, bs->md_start + bs_blobid_to_page(blob->id)),
				     bs_byte_to_lba(bs, SPDK_BS_PAGE_SIZE), blob_persist_delete_root_cpl, ctx);
}

static void
blob_persist_generate_new_md(struct spdk_blob_persist_ctx *ctx)
{
	struct spdk_blob *blob = ctx->blob;
	struct spdk_blob_store *bs = blob->bs;
	uint32_t i;
	int rc;

	rc = blob_serialize(blob, &ctx->pages, &ctx->num_pages);
	if (rc == 0) {
		ctx->page_idx = calloc(ctx->num_pages, sizeof(uint32_t));
		ctx->eps_to_write = calloc(blob->active.num_extent_pages + 1, sizeof(uint32_t));
		ctx->zero_pages = calloc(blob->clean.num_pages + 1, sizeof(uint32_t));
		ctx->ep_buf = calloc(1, SPDK_BS_PAGE_SIZE);
		if (!ctx->page_idx || !ctx->eps_to_write || !ctx->zero_pages || !ctx->ep_buf) {
			rc = -ENOMEM;
		}
	}
	if (rc == 0) {
		rc = blob_persist_take_truncated(ctx);
	}
	if (rc != 0) {
		blob_persist_done(ctx, rc);
		return;
	}
	/* Chain pages beyond the root always go to fresh md pages; the old ones stay intact until
	 * the new root is written. */
	ctx->page_idx[0] = bs_blobid_to_page(blob->id);
	for (i = 1; i < ctx->num_pages; i++) {
		rc = bs_claim_md_page(bs, &ctx->page_idx[i]);
		if (rc != 0) {
			while (--i > 0) {
				bs_release_md_page(bs, ctx->page_idx[i]);
			}
			SPDK_ERRLOG("blob 0x%" PRIx64 ": no free metadata page\n", blob->id);
			blob_persist_done(ctx, -ENOMEM);
			return;
		}
	}
	for (i = 0; i < ctx->num_pages; i++) {
		ctx->pages[i].next = (i + 1 < ctx->num_pages) ? ctx->page_idx[i + 1] : SPDK_INVALID_MD_PAGE;
		ctx->pages[i].crc = blob_md_page_calc_crc(&ctx->pages[i]);
	}
	for (i = 1; i < blob->active.num_pages; i++) {
		ctx->zero_pages[ctx->num_zero_pages++] = blob->active.pages[i];
	}
	for (i = 0; i < blob->active.num_extent_pages; i++) {
		uint32_t ep = blob->active.extent_pages[i];

		if (ep != 0 && (blob->extent_pages_dirty || i >= blob->clean.num_extent_pages ||
				blob->clean.extent_pages[i] != ep)) {
			ctx->eps_to_write[ctx->num_eps_to_write++] = i;
		}
	}
	blob->extent_pages_dirty = false;
	ctx->cursor = 0;
	ctx->eps_after_root = blob->active.num_clusters < blob->clean.num_clusters;
	if (ctx->eps_after_root) {
		blob_persist_write_chain(ctx->seq, ctx, 0);
		return;
	}
	blob_persist_write_extent_pages(ctx->seq, ctx, 0);
}

static void
blob_persist_dirty_cpl(void *cb_arg, int bserrno)
{
	struct spdk_blob_persist_ctx *ctx = cb_arg;

	if (bserrno != 0) {
		blob_persist_done(ctx, bserrno);
		return;
	}
	if (ctx->blob->active.num_pages == 0) {
		blob_persist_delete(ctx);
	} else {
		blob_persist_generate_new_md(ctx);
	}
}

static void
blob_persist_start(struct spdk_blob_persist_ctx *ctx)
{
	struct spdk_blob *blob = ctx->blob;
	struct spdk_bs_cpl cpl = { .type = SPDK_BS_CPL_TYPE_NESTED_SEQUENCE };

	if (blob->state == SPDK_BLOB_STATE_CLEAN && blob->num_truncated_clusters == 0) {
		blob_persist_complete(ctx, 0);
		return;
	}
	cpl.u.nested_seq.cb_fn = blob_persist_finish_seq;
	ctx->seq = bs_sequence_start(blob->bs->md_channel, &cpl);
	if (ctx->seq == NULL) {
		blob_persist_complete(ctx, -ENOMEM);
		return;
	}
	SPDK_WASM_TRACE("blob_persist", blob->id >> 32, (uint32_t)blob->id, blob->active.num_pages, 0);
	bs_mark_dirty(blob->bs, blob_persist_dirty_cpl, ctx);
}

void
blob_persist(struct spdk_blob *blob, spdk_blob_op_complete cb_fn, void *cb_arg)
{
	struct spdk_blob_persist_ctx *ctx = calloc(1, sizeof(*ctx));
	bool idle = TAILQ_EMPTY(&blob->persists);

	if (ctx == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	ctx->blob = blob;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	TAILQ_INSERT_TAIL(&blob->persists, ctx, link);
	if (idle) {
		blob_persist_start(ctx);
	}
}

/* ---- one extent page, written in place (cluster insert into an existing extent page) ---- */

struct blob_ep_write_ctx {
	struct spdk_blob_md_page	page;
	struct spdk_blob		*blob;
	uint32_t			extent_idx;
	spdk_bs_sequence_t		*seq;
	spdk_blob_op_complete		cb_fn;
	void				*cb_arg;
};

static void
blob_write_extent_page_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct blob_ep_write_ctx *ctx = cb_arg;

	bs_sequence_finish(seq, bserrno);
	ctx->cb_fn(ctx->cb_arg, bserrno);
	free(ctx);
}

static void
blob_write_extent_page_dirty_cpl(void *cb_arg, int bserrno)
{
	struct blob_ep_write_ctx *ctx = cb_arg;
	struct spdk_blob *blob = ctx->blob;
	struct spdk_blob_store *bs = blob->bs;

	if (bserrno != 0) {
		blob_write_extent_page_cpl(ctx->seq, ctx, bserrno);
		return;
	}
	blob_serialize_extent_page(blob, ctx->extent_idx, &ctx->page);
	bs_sequence_write_dev(ctx->seq, &ctx->page,
			      bs_page_to_lba(bs, bs->md_start + blob->active.extent_pages[ctx->extent_idx]),
			      bs_byte_to_lba(bs, SPDK_BS_PAGE_SIZE), blob_write_extent_page_cpl, ctx);
}

void
blob_write_extent_page(struct spdk_blob *blob, uint32_t extent_idx, spdk_blob_op_complete cb_fn,
		       void *cb_arg)
{
	struct spdk_blob_store *bs = blob->bs;
	struct spdk_bs_cpl cpl = { .type = SPDK_BS_CPL_TYPE_NESTED_SEQUENCE };
	struct blob_ep_write_ctx *ctx = calloc(1, sizeof(*ctx));
	spdk_bs_sequence_t *seq;

	cpl.u.nested_seq.cb_fn = blob_persist_finish_seq;
	if (ctx == NULL || (seq = bs_sequence_start(bs->md_channel, &cpl)) == NULL) {
		free(ctx);
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	ctx->seq = seq;
	ctx->blob = blob;
	ctx->extent_idx = extent_idx;
	/* The masks on disk stop being authoritative before any md page changes. */
	bs_mark_dirty(bs, blob_write_extent_page_dirty_cpl, ctx);
}

/* ---- resize (spec §2.4) ---- */

static int
truncated_push(uint32_t **arr, uint32_t *count, uint32_t v)
{
	uint32_t *tmp = realloc(*arr, sizeof(uint32_t) * (*count + 1));

	if (tmp == NULL) {
		return -ENOMEM;
	}
	tmp[(*count)++] = v;
	*arr = tmp;
	return 0;
}

int
blob_resize(struct spdk_blob *blob, uint64_t sz)
{
	struct spdk_blob_store *bs = blob->bs;
	uint64_t i, old = blob->active.num_clusters, need = 0;
	uint32_t neps, old_neps = blob->active.num_extent_pages, c, ep;
	bool thin = (blob->invalid_flags & SPDK_BLOB_THIN_PROV) != 0;
	int rc;

	if (sz == old) {
		return 0;
	}
	neps = blob->use_extent_table ?
	       (uint32_t)((sz + SPDK_EXTENTS_PER_EP - 1) / SPDK_EXTENTS_PER_EP) : 0;
	if (sz > old && !thin) {
		need = sz - old;
		if (need > bs->num_free_clusters) {
			SPDK_ERRLOG("blob 0x%" PRIx64 ": resize to %" PRIu64 " clusters needs %" PRIu64
				    " free clusters, %" PRIu64 " available\n", blob->id, sz, need,
				    bs->num_free_clusters);
			return -ENOSPC;
		}
		if (neps > old_neps &&
		    bs->used_md_pages.bit_count - bs->used_md_pages.set_count < neps - old_neps) {
			return -ENOSPC;
		}
	}
	rc = blob_mut_data_ensure(&blob->active, sz);
	if (rc != 0) {
		return rc;
	}
	if (sz < old) {
		for (i = sz; i < old; i++) {
			if (blob->active.clusters[i] != 0) {
				rc = truncated_push(&blob->truncated_clusters, &blob->num_truncated_clusters,
						    bs_lba_to_cluster(bs, blob->active.clusters[i]));
				if (rc != 0) {
					return rc;
				}
				blob->active.clusters[i] = 0;
				blob->num_allocated_clusters--;
			}
		}
		for (i = neps; i < old_neps; i++) {
			if (blob->active.extent_pages[i] != 0) {
				rc = truncated_push(&blob->truncated_extent_pages,
						    &blob->num_truncated_extent_pages,
						    blob->active.extent_pages[i]);
				if (rc != 0) {
					return rc;
				}
				blob->active.extent_pages[i] = 0;
			}
		}
		if (neps > 0 && neps <= old_neps && sz % SPDK_EXTENTS_PER_EP != 0 &&
		    blob->active.extent_pages[neps - 1] != 0) {
			/* The last extent page now holds fewer entries: rewrite it. */
			blob->extent_pages_dirty = true;
		}
	} else {
		for (i = old; i < sz; i++) {
			blob->active.clusters[i] = 0;
		}
		if (!thin) {
			for (i = old; i < sz; i++) {
				bs_claim_cluster(bs, &c);
				blob->active.clusters[i] = bs_cluster_to_lba(bs, c);
				blob->num_allocated_clusters++;
			}
			for (i = old / SPDK_EXTENTS_PER_EP; i < neps; i++) {
				if (blob->active.extent_pages[i] == 0) {
					bs_claim_md_page(bs, &ep);
					blob->active.extent_pages[i] = ep;
				}
			}
		}
		if (neps > 0 && old_neps > 0 && blob->active.extent_pages[old_neps - 1] != 0) {
			blob->extent_pages_dirty = true;
		}
	}
	blob->active.num_clusters = sz;
	blob->active.num_extent_pages = neps;
	blob->state = SPDK_BLOB_STATE_DIRTY;
	return 0;
}

void
spdk_blob_resize(struct spdk_blob *blob, uint64_t sz, spdk_blob_op_complete cb_fn, void *cb_arg)
{
	int rc;

	SPDK_WASM_TRACE("spdk_blob_resize", blob->id >> 32, (uint32_t)blob->id, (uint32_t)sz, 0);
	if (blob->md_ro) {
		cb_fn(cb_arg, -EPERM);
		return;
	}
	if (blob->locked_operation_in_progress) {
		cb_fn(cb_arg, -EBUSY);
		return;
	}
	rc = blob_resize(blob, sz);
	cb_fn(cb_arg, rc);
}

int
spdk_blob_set_read_only(struct spdk_blob *blob)
{
	if (blob->md_ro) {
		return -EPERM;
	}
	blob->data_ro_flags |= SPDK_BLOB_READ_ONLY;
	blob->state = SPDK_BLOB_STATE_DIRTY;
	return 0;
}

void
spdk_blob_sync_md(struct spdk_blob *blob, spdk_blob_op_complete cb_fn, void *cb_arg)
{
	if (blob->md_ro && blob->state != SPDK_BLOB_STATE_DIRTY) {
		cb_fn(cb_arg, 0);
		return;
	}
	blob_persist(blob, cb_fn, cb_arg);
}

/* ---- open ---- */

struct blob_load_ctx {
	struct spdk_blob		*blob;
	struct spdk_blob_md_page	*pages;
	uint32_t			num_pages;
	uint32_t			ep_cursor;
	spdk_bs_sequence_t		*seq;
	spdk_blob_op_with_handle_complete cb_fn;
	void				*cb_arg;
};

static void
blob_load_final(struct blob_load_ctx *ctx, int bserrno)
{
	struct spdk_blob *blob = ctx->blob;
	struct spdk_blob_store *bs = blob->bs;

	if (ctx->seq) {
		bs_sequence_finish(ctx->seq, bserrno);
	}
	TAILQ_REMOVE(&bs->blobs, blob, link);
	if (bserrno == 0) {
		blob->active.num_pages = ctx->num_pages;
		blob_mark_clean(blob);
		blob->open_ref = 1;
		TAILQ_INSERT_TAIL(&bs->blobs, blob, link);
		ctx->cb_fn(ctx->cb_arg, blob, 0);
	} else {
		SPDK_ERRLOG("failed to load blob 0x%" PRIx64 ": %d\n", blob->id, bserrno);
		blob_free(blob);
		ctx->cb_fn(ctx->cb_arg, NULL, bserrno);
	}
	free(ctx->pages);
	free(ctx);
}

static void
blob_load_backing_dev_cpl(void *cb_arg, struct spdk_blob *parent, int bserrno)
{
	struct blob_load_ctx *ctx = cb_arg;

	if (bserrno == 0) {
		ctx->blob->back_bs_dev = bs_create_blob_bs_dev(parent);
		if (ctx->blob->back_bs_dev == NULL) {
			spdk_blob_close(parent, bs_noop_cpl, NULL);
			bserrno = -ENOMEM;
		}
	}
	blob_load_final(ctx, bserrno);
}

static void
blob_load_backing_dev(struct blob_load_ctx *ctx)
{
	struct spdk_blob *blob = ctx->blob;
	const void *value;
	size_t len;

	if ((blob->invalid_flags & SPDK_BLOB_THIN_PROV) == 0) {
		blob_load_final(ctx, 0);
		return;
	}
	if (blob_get_xattr_value(blob, BLOB_SNAPSHOT, &value, &len, true) == 0) {
		if (len != sizeof(spdk_blob_id)) {
			blob_load_final(ctx, -EINVAL);
			return;
		}
		memcpy(&blob->parent_id, value, sizeof(spdk_blob_id));
		blob_open_ext(blob->bs, blob->parent_id, true, blob_load_backing_dev_cpl, ctx);
		return;
	}
	blob->back_bs_dev = bs_create_zeroes_dev();
	blob_load_final(ctx, 0);
}

static void
blob_load_cpl_extents(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct blob_load_ctx *ctx = cb_arg;
	struct spdk_blob *blob = ctx->blob;
	struct spdk_blob_store *bs = blob->bs;
	struct spdk_blob_md_page *page = &ctx->pages[0];

	if (bserrno != 0) {
		blob_load_final(ctx, bserrno);
		return;
	}
	if (ctx->ep_cursor > 0) {
		/* pages[0] now holds extent page ep_cursor - 1 */
		if (page->crc != blob_md_page_calc_crc(page)) {
			SPDK_ERRLOG("blob 0x%" PRIx64 ": extent page %u has a bad crc\n", blob->id,
				    ctx->ep_cursor - 1);
			blob_load_final(ctx, -EINVAL);
			return;
		}
		bserrno = blob_parse_extent_page(page, blob);
		if (bserrno != 0) {
			blob_load_final(ctx, bserrno);
			return;
		}
	}
	while (ctx->ep_cursor < blob->active.num_extent_pages &&
	       blob->active.extent_pages[ctx->ep_cursor] == 0) {
		ctx->ep_cursor++;
	}
	if (ctx->ep_cursor >= blob->active.num_extent_pages) {
		blob_load_backing_dev(ctx);
		return;
	}
	bs_sequence_read_dev(seq, page,
			     bs_page_to_lba(bs, bs->md_start + blob->active.extent_pages[ctx->ep_cursor++]),
			     bs_byte_to_lba(bs, SPDK_BS_PAGE_SIZE), blob_load_cpl_extents, ctx);
}

static void
blob_load_cpl(spdk_bs_sequence_t *seq, void *cb_arg, int bserrno)
{
	struct blob_load_ctx *ctx = cb_arg;
	struct spdk_blob *blob = ctx->blob;
	struct spdk_blob_store *bs = blob->bs;
	struct spdk_blob_md_page *page = &ctx->pages[ctx->num_pages - 1];
	uint32_t *idx, next;
	void *tmp;

	if (bserrno != 0) {
		blob_load_final(ctx, bserrno);
		return;
	}
	if (page->crc != blob_md_page_calc_crc(page)) {
		SPDK_ERRLOG("blob 0x%" PRIx64 ": md page %u has a bad crc\n", blob->id, ctx->num_pages - 1);
		blob_load_final(ctx, -EINVAL);
		return;
	}
	if (page->next != SPDK_INVALID_MD_PAGE) {
		/* Growing ctx->pages moves it: take what is needed from this page first. */
		next = page->next;
		if (next >= bs->md_len || ctx->num_pages >= bs->md_len) {
			blob_load_final(ctx, -EINVAL);
			return;
		}
		tmp = realloc(ctx->pages, sizeof(*page) * (ctx->num_pages + 1));
		idx = realloc(blob->active.pages, sizeof(uint32_t) * (ctx->num_pages + 1));
		if (tmp == NULL || idx == NULL) {
			if (tmp) {
				ctx->pages = tmp;
			}
			if (idx) {
				blob->active.pages = idx;
			}
			blob_load_final(ctx, -ENOMEM);
			return;
		}
		ctx->pages = tmp;
		blob->active.pages = idx;
		blob->active.pages_array_size = ctx->num_pages + 1;
		idx[ctx->num_pages] = next;
		ctx->num_pages++;
		bs_sequence_read_dev(seq, &ctx->pages[ctx->num_pages - 1],
				     bs_page_to_lba(bs, bs->md_start + next),
				     bs_byte_to_lba(bs, SPDK_BS_PAGE_SIZE), blob_load_cpl, ctx);
		return;
	}
	bserrno = blob_parse(ctx->pages, ctx->num_pages, blob);
	if (bserrno != 0) {
		blob_load_final(ctx, bserrno);
		return;
	}
	ctx->ep_cursor = 0;
	blob_load_cpl_extents(seq, ctx, 0);
}

void
blob_open_ext(struct spdk_blob_store *bs, spdk_blob_id blobid, bool ignore_locks,
	      spdk_blob_op_with_handle_complete cb_fn, void *cb_arg)
{
	struct spdk_bs_cpl cpl = { .type = SPDK_BS_CPL_TYPE_NESTED_SEQUENCE };
	struct blob_load_ctx *ctx;
	struct spdk_blob *blob;
	uint32_t page = bs_blobid_to_page(blobid);

	(void)ignore_locks;
	if ((blobid >> 32) != 1 || page >= bs->md_len || !bs_bit_array_get(&bs->used_blobids, page)) {
		cb_fn(cb_arg, NULL, -ENOENT);
		return;
	}
	TAILQ_FOREACH(blob, &bs->blobs, link) {
		if (blob->id == blobid) {
			if (blob->state == SPDK_BLOB_STATE_LOADING) {
				cb_fn(cb_arg, NULL, -EBUSY);
				return;
			}
			blob->open_ref++;
			cb_fn(cb_arg, blob, 0);
			return;
		}
	}
	blob = blob_alloc(bs, blobid);
	ctx = calloc(1, sizeof(*ctx));
	if (blob == NULL || ctx == NULL || (ctx->pages = calloc(1, SPDK_BS_PAGE_SIZE)) == NULL) {
		if (blob) {
			blob_free(blob);
		}
		free(ctx);
		cb_fn(cb_arg, NULL, -ENOMEM);
		return;
	}
	blob->state = SPDK_BLOB_STATE_LOADING;
	blob->active.num_pages = 0;
	ctx->blob = blob;
	ctx->num_pages = 1;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	cpl.u.nested_seq.cb_fn = blob_persist_finish_seq;
	ctx->seq = bs_sequence_start(bs->md_channel, &cpl);
	if (ctx->seq == NULL) {
		free(ctx->pages);
		free(ctx);
		blob_free(blob);
		cb_fn(cb_arg, NULL, -ENOMEM);
		return;
	}
	TAILQ_INSERT_TAIL(&bs->blobs, blob, link);
	bs_sequence_read_dev(ctx->seq, &ctx->pages[0], bs_page_to_lba(bs, bs->md_start + page),
			     bs_byte_to_lba(bs, SPDK_BS_PAGE_SIZE), blob_load_cpl, ctx);
}

void
spdk_bs_open_blob(struct spdk_blob_store *bs, spdk_blob_id blobid,
		  spdk_blob_op_with_handle_complete cb_fn, void *cb_arg)
{
	blob_open_ext(bs, blobid, false, cb_fn, cb_arg);
}

/* ---- close ---- */

struct blob_close_ctx {
	struct spdk_blob	*blob;
	spdk_blob_op_complete	cb_fn;
	void			*cb_arg;
};

static void
blob_close_cpl(void *cb_arg, int bserrno)
{
	struct blob_close_ctx *ctx = cb_arg;
	struct spdk_blob *blob = ctx->blob;

	if (bserrno == 0) {
		blob->open_ref--;
		if (blob->open_ref == 0) {
			TAILQ_REMOVE(&blob->bs->blobs, blob, link);
			blob_free(blob);
		}
	}
	ctx->cb_fn(ctx->cb_arg, bserrno);
	free(ctx);
}

void
spdk_blob_close(struct spdk_blob *blob, spdk_blob_op_complete cb_fn, void *cb_arg)
{
	struct blob_close_ctx *ctx;

	if (blob->open_ref == 0) {
		cb_fn(cb_arg, -EBADF);
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	ctx->blob = blob;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	/* Close persists pending metadata; it never touches data clusters (spec §2.3). */
	blob_persist(blob, blob_close_cpl, ctx);
}

/* ---- create (spec §2.2) ---- */

void
spdk_blob_opts_init(struct spdk_blob_opts *opts, size_t opts_size)
{
	memset(opts, 0, opts_size);
	opts->num_clusters = 0;
	opts->thin_provision = false;
	opts->clear_method = BLOB_CLEAR_WITH_DEFAULT;
	opts->use_extent_table = true;
	opts->opts_size = opts_size;
}

struct blob_create_ctx {
	struct spdk_blob		*blob;
	spdk_blob_op_with_id_complete	cb_fn;
	void				*cb_arg;
};

static void
bs_create_blob_cpl(void *cb_arg, int bserrno)
{
	struct blob_create_ctx *ctx = cb_arg;
	struct spdk_blob *blob = ctx->blob;
	spdk_blob_id id = blob->id;
	struct spdk_blob_store *bs = blob->bs;
	uint32_t page = bs_blobid_to_page(id), i;

	TAILQ_REMOVE(&bs->blobs, blob, link);
	if (bserrno != 0) {
		/* Nothing names the claimed resources any more. */
		for (i = 0; i < blob->active.num_clusters; i++) {
			if (blob->active.clusters[i]) {
				bs_release_cluster(bs, bs_lba_to_cluster(bs, blob->active.clusters[i]));
			}
		}
		bs_bit_array_clear(&bs->used_blobids, page);
		bs_release_md_page(bs, page);
	}
	blob_free(blob);
	SPDK_WASM_TRACE("spdk_bs_create_blob", id >> 32, (uint32_t)id, (uint32_t)-bserrno, 0);
	ctx->cb_fn(ctx->cb_arg, bserrno == 0 ? id : SPDK_BLOBID_INVALID, bserrno);
	free(ctx);
}

/* Builds and persists a new blob; internal xattrs come from (internal_names, internal_values). */
void
bs_create_blob_internal(struct spdk_blob_store *bs, const struct spdk_blob_opts *opts,
			const char *internal_name, const void *internal_value, uint16_t internal_len,
			spdk_blob_op_with_id_complete cb_fn, void *cb_arg)
{
	struct spdk_blob_opts defaults;
	struct blob_create_ctx *ctx;
	struct spdk_blob *blob;
	uint32_t page;
	size_t i;
	int rc = 0;

	if (opts == NULL) {
		spdk_blob_opts_init(&defaults, sizeof(defaults));
		opts = &defaults;
	}
	page = bs_bit_array_find_first_clear(&bs->used_md_pages, 0);
	if (page == UINT32_MAX || page >= bs->md_len) {
		SPDK_ERRLOG("no free metadata page for a new blob (md_len %u)\n", bs->md_len);
		cb_fn(cb_arg, SPDK_BLOBID_INVALID, -ENOMEM);
		return;
	}
	blob = blob_alloc(bs, bs_page_to_blobid(page));
	ctx = calloc(1, sizeof(*ctx));
	if (blob == NULL || ctx == NULL) {
		if (blob) {
			blob_free(blob);
		}
		free(ctx);
		cb_fn(cb_arg, SPDK_BLOBID_INVALID, -ENOMEM);
		return;
	}
	bs_bit_array_set(&bs->used_md_pages, page);
	bs_bit_array_set(&bs->used_blobids, page);

	blob->use_extent_table = opts->use_extent_table;
	if (blob->use_extent_table) {
		blob->invalid_flags |= SPDK_BLOB_EXTENT_TABLE;
	}
	for (i = 0; i < opts->xattrs.count && rc == 0; i++) {
		const void *value;
		size_t len;

		opts->xattrs.get_value(opts->xattrs.ctx, opts->xattrs.names[i], &value, &len);
		rc = len > UINT16_MAX ? -EINVAL :
		     blob_set_xattr(blob, opts->xattrs.names[i], value, (uint16_t)len, false);
	}
	if (rc == 0 && internal_name != NULL) {
		rc = blob_set_xattr(blob, internal_name, internal_value, internal_len, true);
	}
	if (opts->thin_provision) {
		blob_set_thin_provision(blob);
	}
	blob->clear_method = opts->clear_method;
	blob_update_clear_method(blob);
	if (rc == 0) {
		rc = blob_resize(blob, opts->num_clusters);
	}
	ctx->blob = blob;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	TAILQ_INSERT_TAIL(&bs->blobs, blob, link);
	if (rc != 0) {
		bs_create_blob_cpl(ctx, rc);
		return;
	}
	blob->state = SPDK_BLOB_STATE_DIRTY;
	blob_persist(blob, bs_create_blob_cpl, ctx);
}

void
spdk_bs_create_blob_ext(struct spdk_blob_store *bs, const struct spdk_blob_opts *opts,
			spdk_blob_op_with_id_complete cb_fn, void *cb_arg)
{
	bs_create_blob_internal(bs, opts, NULL, NULL, 0, cb_fn, cb_arg);
}

void
spdk_bs_create_blob(struct spdk_blob_store *bs, spdk_blob_op_with_id_complete cb_fn, void *cb_arg)
{
	spdk_bs_create_blob_ext(bs, NULL, cb_fn, cb_arg);
}

/* ---- delete of an open blob (snapshot rules are checked by the caller) ---- */

struct bs_delete_ctx {
	struct spdk_blob	*blob;
	spdk_blob_op_complete	cb_fn;
	void			*cb_arg;
};

static void
bs_delete_persist_cpl(void *cb_arg, int bserrno)
{
	struct bs_delete_ctx *ctx = cb_arg;
	struct spdk_blob *blob = ctx->blob;
	struct spdk_blob_store *bs = blob->bs;

	if (bserrno == 0) {
		bs_bit_array_clear(&bs->used_blobids, bs_blobid_to_page(blob->id));
		bs_blob_list_remove(blob);
		TAILQ_REMOVE(&bs->blobs, blob, link);
		SPDK_WASM_TRACE("spdk_bs_delete_blob", blob->id >> 32, (uint32_t)blob->id, 0, 0);
		blob_free(blob);
	} else {
		blob->locked_operation_in_progress = false;
		spdk_blob_close(blob, bs_noop_cpl, NULL);
	}
	ctx->cb_fn(ctx->cb_arg, bserrno);
	free(ctx);
}

void
bs_delete_open_blob(struct spdk_blob *blob, spdk_blob_op_complete cb_fn, void *cb_arg)
{
	struct bs_delete_ctx *ctx = calloc(1, sizeof(*ctx));
	int rc;

	if (ctx == NULL) {
		cb_fn(cb_arg, -ENOMEM);
		return;
	}
	ctx->blob = blob;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	blob->locked_operation_in_progress = true;
	rc = blob_resize(blob, 0);
	if (rc != 0) {
		bs_delete_persist_cpl(ctx, rc);
		return;
	}
	blob->active.num_pages = 0;
	blob->state = SPDK_BLOB_STATE_DIRTY;
	blob_persist(blob, bs_delete_persist_cpl, ctx);
}

/* ---- getters ---- */

spdk_blob_id
spdk_blob_get_id(struct spdk_blob *blob)
{
	return blob->id;
}

uint64_t
spdk_blob_get_num_pages(struct spdk_blob *blob)
{
	return blob->active.num_clusters * blob->bs->pages_per_cluster;
}

uint64_t
spdk_blob_get_num_io_units(struct spdk_blob *blob)
{
	return blob->active.num_clusters * bs_io_units_per_cluster(blob);
}

uint64_t
spdk_blob_get_num_clusters(struct spdk_blob *blob)
{
	return blob->active.num_clusters;
}

uint64_t
spdk_blob_get_num_allocated_clusters(struct spdk_blob *blob)
{
	return blob->num_allocated_clusters;
}

bool
spdk_blob_is_read_only(struct spdk_blob *blob)
{
	return blob->data_ro || blob->md_ro;
}

bool
spdk_blob_is_thin_provisioned(struct spdk_blob *blob)
{
	return (blob->invalid_flags & SPDK_BLOB_THIN_PROV) != 0;
}

bool
spdk_blob_is_clone(struct spdk_blob *blob)
{
	return blob->parent_id != SPDK_BLOBID_INVALID;
}

bool
spdk_blob_is_snapshot(struct spdk_blob *blob)
{
	return bs_get_snapshot_entry(blob->bs, blob->id) != NULL;
}
