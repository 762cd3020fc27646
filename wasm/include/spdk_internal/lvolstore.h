/* Lvol store and lvol objects (upstream include/spdk_internal/lvolstore.h, reduced). */
#ifndef SPDK_INTERNAL_LVOLSTORE_H
#define SPDK_INTERNAL_LVOLSTORE_H

#include "spdk/stdinc.h"
#include "spdk/blob.h"
#include "spdk/lvol.h"
#include "spdk/queue.h"
#include "spdk/uuid.h"

/* xattr names on blobs (the super blob and every lvol). creation_time and checksum belong to
 * the Longhorn fork: every lvol gets a creation time, and a snapshot's checksum is set by the
 * library, so neither can be set from outside. */
#define LVOL_UUID_XATTR		"uuid"
#define LVOL_NAME_XATTR		"name"
#define LVOL_CREATION_TIME	"creation_time"
#define LVOL_SNAPSHOT_CHECKSUM	"checksum"
#define LVS_BSTYPE		"LVOLSTORE"

/* RFC 3339 UTC to the second, "2025-01-06T08:00:00Z": 20 characters and the NUL. */
#define SPDK_CREATION_TIME_MAX	21

struct spdk_lvol {
	struct spdk_lvol_store		*lvol_store;
	struct spdk_blob		*blob;		/* NULL while closed */
	spdk_blob_id			blob_id;
	char				unique_id[SPDK_LVOL_UNIQUE_ID_MAX];
	char				name[SPDK_LVOL_NAME_MAX];
	struct spdk_uuid		uuid;
	char				uuid_str[SPDK_UUID_STRING_LEN];
	char				creation_time[SPDK_CREATION_TIME_MAX];
	bool				thin_provision;
	int				ref_count;
	bool				action_in_progress;
	enum blob_clear_method		clear_method;
	TAILQ_ENTRY(spdk_lvol)		link;
};

struct spdk_lvol_store {
	struct spdk_bs_dev		*bs_dev;
	struct spdk_blob_store		*blobstore;
	spdk_blob_id			super_blob_id;
	struct spdk_uuid		uuid;
	char				name[SPDK_LVS_NAME_MAX];
	int				lvol_count;
	int				lvols_opened;
	TAILQ_HEAD(, spdk_lvol)		lvols;
	/* Lvols being created: their names are taken already. */
	TAILQ_HEAD(, spdk_lvol)		pending_lvols;
	bool				on_list;
	bool				destruct;
	TAILQ_ENTRY(spdk_lvol_store)	link;
};

#endif /* SPDK_INTERNAL_LVOLSTORE_H */
