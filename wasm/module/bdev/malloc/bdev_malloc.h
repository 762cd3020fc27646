/* module/bdev/malloc: a RAM disk (upstream module/bdev/malloc/bdev_malloc.h, subset). */
#ifndef SPDK_BDEV_MALLOC_H
#define SPDK_BDEV_MALLOC_H

#include "spdk/stdinc.h"
#include "spdk/bdev.h"

struct malloc_bdev_opts {
	char		*name;
	uint64_t	num_blocks;
	uint32_t	block_size;
};

int create_malloc_disk(struct spdk_bdev **bdev, const struct malloc_bdev_opts *opts);
void delete_malloc_disk(const char *name, void (*cb_fn)(void *cb_arg, int bdeverrno),
			void *cb_arg);
/* Not upstream: the disk's backing memory (tests compare it with what was written). */
void *bdev_malloc_get_buf(struct spdk_bdev *bdev);

#endif /* SPDK_BDEV_MALLOC_H */
