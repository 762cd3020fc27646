/* Memory maps and MR translation shared by the RDMA target and initiator (upstream
 * include/spdk_internal/rdma_utils.h, subset). A map belongs to one PD and access mask and is
 * shared, with a reference count, by every user of that pair. */
#ifndef SPDK_RDMA_UTILS_H
#define SPDK_RDMA_UTILS_H

#include "spdk/stdinc.h"
#include "infiniband/verbs.h"

struct spdk_nvme_rdma_hooks;
struct spdk_rdma_utils_mem_map;

enum spdk_rdma_utils_translation_type {
	SPDK_RDMA_UTILS_TRANSLATION_MR = 0,
	SPDK_RDMA_UTILS_TRANSLATION_KEY,
};

struct spdk_rdma_utils_memory_translation {
	union {
		struct ibv_mr *mr;
		uint64_t key;
	} mr_or_key;
	uint8_t translation_type;
};

struct spdk_rdma_utils_mem_map *spdk_rdma_utils_create_mem_map(struct ibv_pd *pd,
		struct spdk_nvme_rdma_hooks *hooks, uint32_t access_flags);
void spdk_rdma_utils_free_mem_map(struct spdk_rdma_utils_mem_map **map);
/* 0 and the MR covering [address, address + length), or -EINVAL when none covers all of it. */
int spdk_rdma_utils_get_translation(struct spdk_rdma_utils_mem_map *map, void *address,
				    size_t length, struct spdk_rdma_utils_memory_translation *translation);
/* Maps alive now and MRs they hold (evidence for leak checks). */
uint32_t spdk_rdma_utils_num_mem_maps(void);

static inline uint32_t
spdk_rdma_utils_memory_translation_get_lkey(struct spdk_rdma_utils_memory_translation *t)
{
	return t->translation_type == SPDK_RDMA_UTILS_TRANSLATION_MR ? t->mr_or_key.mr->lkey :
	       (uint32_t)t->mr_or_key.key;
}

static inline uint32_t
spdk_rdma_utils_memory_translation_get_rkey(struct spdk_rdma_utils_memory_translation *t)
{
	return t->translation_type == SPDK_RDMA_UTILS_TRANSLATION_MR ? t->mr_or_key.mr->rkey :
	       (uint32_t)t->mr_or_key.key;
}

#endif
