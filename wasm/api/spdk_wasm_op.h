/* The asynchronous op handle shared by the blob, lvol and blockdev export files: the host polls
 * spdk_wasm_blob_op_done and reads _rc/_result (spdk_wasm_blob.c), then frees it. */
#ifndef SPDK_WASM_OP_H
#define SPDK_WASM_OP_H

#include "spdk/stdinc.h"

struct spdk_bs_dev;

struct blob_wasm_op {
	int		done;
	int		rc;
	uint32_t	result;	/* blob index, or a pointer (bs, blob, lvs, lvol) */
};

struct blob_wasm_op *spdk_wasm_op_new(void);
void spdk_wasm_op_finish(struct blob_wasm_op *op, int rc, uint32_t result);

/* spdk_bs_init / spdk_bs_load on any bs_dev (the op owns dev from here; NULL dev or no memory:
 * NULL). cluster_sz bytes; num_md_pages 0 = one per cluster; clear_method: enum
 * bs_clear_method; bstype NULL or "" = none / wildcard. Result: the spdk_blob_store pointer. */
struct blob_wasm_op *spdk_wasm_bs_init_dev(struct spdk_bs_dev *dev, uint32_t cluster_sz,
		uint32_t num_md_pages, int clear_method, const char *bstype);
struct blob_wasm_op *spdk_wasm_bs_load_dev(struct spdk_bs_dev *dev, const char *bstype);

#endif
