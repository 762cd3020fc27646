/* lib/rdma_utils/rdma_utils.c: per-(PD, access) memory maps whose translations are the MRs of
 * every registered memory range. Creating a map registers every range there is (and fails if one
 * registration fails); freeing the last reference deregisters them all. */
#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/log.h"
#include "spdk/queue.h"
#include "spdk_internal/rdma_utils.h"

struct spdk_rdma_utils_mem_map {
	struct spdk_mem_map			*map;
	struct ibv_pd				*pd;
	uint32_t				ref_count;
	uint32_t				access_flags;
	TAILQ_ENTRY(spdk_rdma_utils_mem_map)	link;
};

static TAILQ_HEAD(, spdk_rdma_utils_mem_map) g_rdma_utils_mr_maps =
	TAILQ_HEAD_INITIALIZER(g_rdma_utils_mr_maps);
static uint32_t g_rdma_utils_num_maps;

static int
rdma_utils_mem_notify(void *cb_ctx, struct spdk_mem_map *map, enum spdk_mem_map_notify_action action,
		      void *vaddr, size_t size)
{
	struct spdk_rdma_utils_mem_map *rmap = cb_ctx;
	struct ibv_mr *mr;
	uint64_t len = size;

	switch (action) {
	case SPDK_MEM_MAP_NOTIFY_REGISTER:
		mr = ibv_reg_mr(rmap->pd, vaddr, size, (int)rmap->access_flags);
		if (mr == NULL) {
			SPDK_ERRLOG("ibv_reg_mr of %p (%zu bytes) failed: errno %d\n", vaddr, size, errno);
			return -1;
		}
		return spdk_mem_map_set_translation(map, (uintptr_t)vaddr, size, (uintptr_t)mr);
	case SPDK_MEM_MAP_NOTIFY_UNREGISTER:
		mr = (struct ibv_mr *)(uintptr_t)spdk_mem_map_translate(map, (uintptr_t)vaddr, &len);
		if (mr != NULL) {
			ibv_dereg_mr(mr);
		}
		return spdk_mem_map_clear_translation(map, (uintptr_t)vaddr, size);
	}
	return -EINVAL;
}

struct spdk_rdma_utils_mem_map *
spdk_rdma_utils_create_mem_map(struct ibv_pd *pd, struct spdk_nvme_rdma_hooks *hooks,
			       uint32_t access_flags)
{
	struct spdk_rdma_utils_mem_map *rmap;
	struct spdk_mem_map_ops ops;

	(void)hooks; /* the model has no hooks: keys always come from MRs */
	TAILQ_FOREACH(rmap, &g_rdma_utils_mr_maps, link) {
		if (rmap->pd == pd && rmap->access_flags == access_flags) {
			rmap->ref_count++;
			return rmap;
		}
	}
	rmap = calloc(1, sizeof(*rmap));
	if (rmap == NULL) {
		return NULL;
	}
	rmap->pd = pd;
	rmap->ref_count = 1;
	rmap->access_flags = access_flags;
	memset(&ops, 0, sizeof(ops));
	ops.notify_cb = rdma_utils_mem_notify;
	rmap->map = spdk_mem_map_alloc(0, &ops, rmap);
	if (rmap->map == NULL) {
		SPDK_ERRLOG("Unable to create the memory map of pd %p\n", (void *)pd);
		free(rmap);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&g_rdma_utils_mr_maps, rmap, link);
	g_rdma_utils_num_maps++;
	return rmap;
}

void
spdk_rdma_utils_free_mem_map(struct spdk_rdma_utils_mem_map **_map)
{
	struct spdk_rdma_utils_mem_map *rmap = *_map;

	if (rmap == NULL) {
		return;
	}
	*_map = NULL;
	if (--rmap->ref_count > 0) {
		return;
	}
	TAILQ_REMOVE(&g_rdma_utils_mr_maps, rmap, link);
	spdk_mem_map_free(&rmap->map);
	g_rdma_utils_num_maps--;
	free(rmap);
}

int
spdk_rdma_utils_get_translation(struct spdk_rdma_utils_mem_map *map, void *address,
				size_t length, struct spdk_rdma_utils_memory_translation *translation)
{
	uint64_t real_length = length;

	translation->mr_or_key.mr = (struct ibv_mr *)(uintptr_t)spdk_mem_map_translate(map->map,
				    (uintptr_t)address, &real_length);
	translation->translation_type = SPDK_RDMA_UTILS_TRANSLATION_MR;
	if (translation->mr_or_key.mr == NULL || real_length < length) {
		SPDK_ERRLOG("No MR covers %p, %zu bytes\n", address, length);
		return -EINVAL;
	}
	return 0;
}

uint32_t
spdk_rdma_utils_num_mem_maps(void)
{
	return g_rdma_utils_num_maps;
}
