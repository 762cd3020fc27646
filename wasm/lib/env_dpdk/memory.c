/* lib/env_dpdk/memory.c, as a model: the registered ranges of linear memory and the maps that
 * translate them. A new map hears of every range already registered and fails as a whole if one
 * notification fails (undoing the ones before); a range registered later is announced to every
 * map, and a map that refuses it is simply left without a translation for it, as upstream. */
#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/queue.h"

struct mem_region {
	uint64_t			vaddr;
	uint64_t			len;
	TAILQ_ENTRY(mem_region)		link;
};

struct mem_translation {
	uint64_t			vaddr;
	uint64_t			len;
	uint64_t			value;
	TAILQ_ENTRY(mem_translation)	link;
};

struct spdk_mem_map {
	uint64_t				default_translation;
	struct spdk_mem_map_ops			ops;
	void					*cb_ctx;
	TAILQ_HEAD(, mem_translation)		translations;
	TAILQ_ENTRY(spdk_mem_map)		link;
};

static TAILQ_HEAD(, mem_region) g_mem_regions = TAILQ_HEAD_INITIALIZER(g_mem_regions);
static TAILQ_HEAD(, spdk_mem_map) g_mem_maps = TAILQ_HEAD_INITIALIZER(g_mem_maps);

static int
mem_notify(struct spdk_mem_map *map, enum spdk_mem_map_notify_action action, struct mem_region *r)
{
	if (map->ops.notify_cb == NULL) {
		return 0;
	}
	return map->ops.notify_cb(map->cb_ctx, map, action, (void *)(uintptr_t)r->vaddr, (size_t)r->len);
}

static void
mem_map_release(struct spdk_mem_map *map)
{
	struct mem_translation *t;

	while ((t = TAILQ_FIRST(&map->translations)) != NULL) {
		TAILQ_REMOVE(&map->translations, t, link);
		free(t);
	}
	free(map);
}

struct spdk_mem_map *
spdk_mem_map_alloc(uint64_t default_translation, const struct spdk_mem_map_ops *ops, void *cb_ctx)
{
	struct spdk_mem_map *map = calloc(1, sizeof(*map));
	struct mem_region *r, *undo;

	if (map == NULL) {
		return NULL;
	}
	map->default_translation = default_translation;
	if (ops != NULL) {
		map->ops = *ops;
	}
	map->cb_ctx = cb_ctx;
	TAILQ_INIT(&map->translations);
	TAILQ_FOREACH(r, &g_mem_regions, link) {
		if (mem_notify(map, SPDK_MEM_MAP_NOTIFY_REGISTER, r) == 0) {
			continue;
		}
		/* Take back every range announced before the one that failed. */
		TAILQ_FOREACH(undo, &g_mem_regions, link) {
			if (undo == r) {
				break;
			}
			mem_notify(map, SPDK_MEM_MAP_NOTIFY_UNREGISTER, undo);
		}
		mem_map_release(map);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&g_mem_maps, map, link);
	return map;
}

void
spdk_mem_map_free(struct spdk_mem_map **pmap)
{
	struct spdk_mem_map *map = *pmap;
	struct mem_region *r;

	if (map == NULL) {
		return;
	}
	TAILQ_REMOVE(&g_mem_maps, map, link);
	TAILQ_FOREACH(r, &g_mem_regions, link) {
		mem_notify(map, SPDK_MEM_MAP_NOTIFY_UNREGISTER, r);
	}
	mem_map_release(map);
	*pmap = NULL;
}

int
spdk_mem_map_set_translation(struct spdk_mem_map *map, uint64_t vaddr, uint64_t size,
			     uint64_t translation)
{
	struct mem_translation *t;

	if (size == 0) {
		return -EINVAL;
	}
	spdk_mem_map_clear_translation(map, vaddr, size);
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return -ENOMEM;
	}
	t->vaddr = vaddr;
	t->len = size;
	t->value = translation;
	TAILQ_INSERT_TAIL(&map->translations, t, link);
	return 0;
}

int
spdk_mem_map_clear_translation(struct spdk_mem_map *map, uint64_t vaddr, uint64_t size)
{
	struct mem_translation *t, *tmp;

	TAILQ_FOREACH_SAFE(t, &map->translations, link, tmp) {
		if (t->vaddr < vaddr + size && vaddr < t->vaddr + t->len) {
			TAILQ_REMOVE(&map->translations, t, link);
			free(t);
		}
	}
	return 0;
}

uint64_t
spdk_mem_map_translate(const struct spdk_mem_map *map, uint64_t vaddr, uint64_t *size)
{
	struct mem_translation *t;

	TAILQ_FOREACH(t, &map->translations, link) {
		if (vaddr >= t->vaddr && vaddr < t->vaddr + t->len) {
			if (size != NULL && *size > t->vaddr + t->len - vaddr) {
				*size = t->vaddr + t->len - vaddr;
			}
			return t->value;
		}
	}
	return map->default_translation;
}

int
spdk_mem_register(void *vaddr, size_t len)
{
	struct mem_region *r;
	struct spdk_mem_map *map;

	if (len == 0) {
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return -ENOMEM;
	}
	r->vaddr = (uintptr_t)vaddr;
	r->len = len;
	TAILQ_INSERT_TAIL(&g_mem_regions, r, link);
	TAILQ_FOREACH(map, &g_mem_maps, link) {
		(void)mem_notify(map, SPDK_MEM_MAP_NOTIFY_REGISTER, r);
	}
	return 0;
}

int
spdk_mem_unregister(void *vaddr, size_t len)
{
	struct mem_region *r;
	struct spdk_mem_map *map;

	TAILQ_FOREACH(r, &g_mem_regions, link) {
		if (r->vaddr == (uintptr_t)vaddr && r->len == len) {
			break;
		}
	}
	if (r == NULL) {
		return -EINVAL;
	}
	TAILQ_FOREACH(map, &g_mem_maps, link) {
		mem_notify(map, SPDK_MEM_MAP_NOTIFY_UNREGISTER, r);
	}
	TAILQ_REMOVE(&g_mem_regions, r, link);
	free(r);
	return 0;
}

/* model: ranges registered now (tests size injected failures by it) */
uint32_t
spdk_mem_num_registered(void)
{
	struct mem_region *r;
	uint32_t n = 0;

	TAILQ_FOREACH(r, &g_mem_regions, link) {
		n++;
	}
	return n;
}

/* Each allocation remembers its length in front of it, so spdk_free can unregister it. */
struct dma_header {
	size_t	len;
	void	*raw;
};

void *
spdk_zmalloc(size_t size, size_t align, uint64_t *unused, int numa_id, uint32_t flags)
{
	size_t a = align < 64 ? 64 : align;
	uint8_t *raw, *buf;

	(void)unused;
	(void)numa_id;
	(void)flags;
	if (size == 0) {
		size = 1;
	}
	raw = calloc(1, size + a + sizeof(struct dma_header));
	if (raw == NULL) {
		return NULL;
	}
	buf = (uint8_t *)(((uintptr_t)raw + sizeof(struct dma_header) + a - 1) & ~(uintptr_t)(a - 1));
	((struct dma_header *)buf)[-1].len = size;
	((struct dma_header *)buf)[-1].raw = raw;
	if (spdk_mem_register(buf, size) != 0) {
		free(raw);
		return NULL;
	}
	return buf;
}

void
spdk_free(void *buf)
{
	struct dma_header *h;

	if (buf == NULL) {
		return;
	}
	h = &((struct dma_header *)buf)[-1];
	spdk_mem_unregister(buf, h->len);
	free(h->raw);
}
