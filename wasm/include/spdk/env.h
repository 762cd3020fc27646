/* The part of upstream's env layer this tree needs: the tick clock. Ticks are the world's
 * virtual microseconds (g_spdk_wasm_clock, port/host.h), so spdk_get_ticks_hz() is 1,000,000. */
#ifndef SPDK_ENV_H
#define SPDK_ENV_H

#include "spdk/stdinc.h"

#define SPDK_ENV_NUMA_ID_ANY (-1)

uint64_t spdk_get_ticks(void);
uint64_t spdk_get_ticks_hz(void);

/* Registered memory and translation maps (lib/env_dpdk/memory.c). Upstream tracks 2 MiB pages of
 * hugepage memory; here a registration is one range of linear memory, and a map keeps one
 * translation per registered range it was told about. */
struct spdk_mem_map;

enum spdk_mem_map_notify_action {
	SPDK_MEM_MAP_NOTIFY_REGISTER,
	SPDK_MEM_MAP_NOTIFY_UNREGISTER,
};

typedef int (*spdk_mem_map_notify_cb)(void *cb_ctx, struct spdk_mem_map *map,
				      enum spdk_mem_map_notify_action action, void *vaddr, size_t size);

struct spdk_mem_map_ops {
	spdk_mem_map_notify_cb notify_cb;
	void *are_contiguous;	/* unused here */
};

struct spdk_mem_map *spdk_mem_map_alloc(uint64_t default_translation,
					const struct spdk_mem_map_ops *ops, void *cb_ctx);
void spdk_mem_map_free(struct spdk_mem_map **pmap);
int spdk_mem_map_set_translation(struct spdk_mem_map *map, uint64_t vaddr, uint64_t size,
				 uint64_t translation);
int spdk_mem_map_clear_translation(struct spdk_mem_map *map, uint64_t vaddr, uint64_t size);
/* The translation of vaddr; *size (in: wanted) becomes the bytes the translation covers from
 * vaddr, at most the wanted size. The default translation when none covers vaddr. */
uint64_t spdk_mem_map_translate(const struct spdk_mem_map *map, uint64_t vaddr, uint64_t *size);
int spdk_mem_register(void *vaddr, size_t len);
int spdk_mem_unregister(void *vaddr, size_t len);
uint32_t spdk_mem_num_registered(void);	/* model: for tests */
/* DMA-able memory (upstream: hugepages, registered when the heap grows): each allocation is one
 * registration, so every map learns of it. */
void *spdk_zmalloc(size_t size, size_t align, uint64_t *unused, int numa_id, uint32_t flags);
void spdk_free(void *buf);
#define SPDK_MALLOC_DMA 0x01

#endif /* SPDK_ENV_H */
