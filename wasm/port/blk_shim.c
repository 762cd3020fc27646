/* libc-shaped wrappers over the host block-device imports (host.h, host_blk.h), so the AIO-like
 * device module reads like code that opens a path and drives an io_uring: a negative host result
 * becomes -1 + errno, and 64-bit offsets and sizes cross the seam as doubles. */
#include <errno.h>
#include <string.h>

#include "host.h"
#include "host_blk.h"

static int
blk_result(int32_t rc)
{
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}

int
blk_open(const char *path, int flags)
{
	if (path == NULL) {
		errno = EINVAL;
		return -1;
	}
	return blk_result(host_blk_open(path, (uint32_t)strlen(path), flags));
}

int
blk_close(int fd)
{
	return blk_result(host_blk_close(fd));
}

int
blk_get_geometry(int fd, uint32_t *blocklen, uint64_t *size)
{
	double bytes = 0;
	int rc = blk_result(host_blk_info(fd, blocklen, &bytes));

	if (rc == 0) {
		*size = (uint64_t)bytes;
	}
	return rc;
}

int
blk_ring_setup(unsigned entries)
{
	return blk_result(host_blk_ring_create(entries));
}

int
blk_ring_teardown(int ring)
{
	return blk_result(host_blk_ring_destroy(ring));
}

int
blk_ring_submit(int ring, const struct blk_sqe *sqe)
{
	return blk_result(host_blk_submit(ring, sqe->fd, sqe->op, (double)sqe->offset, sqe->len,
					  sqe->buf, sqe->user_data));
}

int
blk_ring_reap(int ring, struct host_blk_cqe *cqes, unsigned max)
{
	return blk_result(host_blk_reap(ring, cqes, max));
}
