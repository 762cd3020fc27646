/* Host block devices at the seam: the operation codes and the completion entry that
 * host_blk_submit / host_blk_reap exchange (wasm/port/host.h), and the C-side wrappers of
 * blk_shim.c. Only #defines and plain structs here, because abi.def includes this file to
 * share the numbers and the layout with TypeScript (host/gen/abi.ts). */
#ifndef SPDK_WASM_PORT_HOST_BLK_H
#define SPDK_WASM_PORT_HOST_BLK_H

#include <stdint.h>

/* Operations of one submission (io_uring's READ, WRITE, FSYNC, and fallocate's PUNCH_HOLE and
 * ZERO_RANGE as asynchronous commands). */
#define HOST_BLK_OP_READ		0
#define HOST_BLK_OP_WRITE		1
#define HOST_BLK_OP_FLUSH		2
#define HOST_BLK_OP_DISCARD		3
#define HOST_BLK_OP_WRITE_ZEROES	4

/* One completion: the submitter's user_data and the result (bytes done, or a negative errno). */
struct host_blk_cqe {
	uint32_t	user_data;
	int32_t		res;
};

#ifndef HOST_BLK_ABI_ONLY
#include <stdint.h>

/* One submission, as the wrappers take it (io_uring's sqe, reduced). */
struct blk_sqe {
	int		fd;
	int		op;		/* HOST_BLK_OP_* */
	uint64_t	offset;		/* bytes */
	uint32_t	len;		/* bytes */
	void		*buf;		/* READ/WRITE payload; NULL otherwise */
	uint32_t	user_data;	/* returned in the completion */
};

/* libc-shaped wrappers (blk_shim.c): -1 and errno on failure, as open(2) and io_uring_* do. */
int blk_open(const char *path, int flags);
int blk_close(int fd);
/* BLKSSZGET + BLKGETSIZE64 in one call. */
int blk_get_geometry(int fd, uint32_t *blocklen, uint64_t *size);
int blk_ring_setup(unsigned entries);
int blk_ring_teardown(int ring);
int blk_ring_submit(int ring, const struct blk_sqe *sqe);
/* Up to max completions, never waiting: 0 when none is ready. */
int blk_ring_reap(int ring, struct host_blk_cqe *cqes, unsigned max);
#endif

#endif /* SPDK_WASM_PORT_HOST_BLK_H */
