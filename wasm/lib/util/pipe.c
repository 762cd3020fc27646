/* lib/util/pipe.c: the byte ring behind the posix sock module's receive pipe (upstream's
 * lib/util/pipe.c, without pipe groups; see spdk/pipe.h).
 *
 * State: read and write positions in [0, sz) and a full flag. read == write means empty unless
 * full is set, so all sz bytes are usable. Data runs from read to write, wrapping at sz. */
#include "spdk/pipe.h"
#include "spdk/util.h"

struct spdk_pipe {
	uint8_t		*buf;
	uint32_t	sz;

	uint32_t	write;
	uint32_t	read;
	bool		full;
};

static void
pipe_iov_set(struct iovec *iov, uint8_t *base, uint32_t len)
{
	iov->iov_base = len == 0 ? NULL : base;
	iov->iov_len = len;
}

struct spdk_pipe *
spdk_pipe_create(void *buf, uint32_t sz)
{
	struct spdk_pipe *pipe;

	pipe = calloc(1, sizeof(*pipe));
	if (pipe == NULL) {
		return NULL;
	}

	pipe->buf = buf;
	pipe->sz = sz;
	return pipe;
}

void *
spdk_pipe_destroy(struct spdk_pipe *pipe)
{
	void *buf;

	if (pipe == NULL) {
		return NULL;
	}

	buf = pipe->buf;
	free(pipe);
	return buf;
}

int
spdk_pipe_writer_get_buffer(struct spdk_pipe *pipe, uint32_t sz, struct iovec *iovs)
{
	uint32_t first, second = 0;

	/* Upstream leaves iovs[1] as it was here; both are cleared so no caller reads stale
	 * pieces. The count returned is the same. */
	if (pipe->full || sz == 0) {
		pipe_iov_set(&iovs[0], NULL, 0);
		pipe_iov_set(&iovs[1], NULL, 0);
		return 0;
	}

	if (pipe->read <= pipe->write) {
		/* Free space: from write to the end of the buffer, then from its start to read. */
		first = spdk_min(sz, pipe->sz - pipe->write);
		second = spdk_min(sz - first, pipe->read);
	} else {
		/* Free space: the gap between write and read. */
		first = spdk_min(sz, pipe->read - pipe->write);
	}

	pipe_iov_set(&iovs[0], pipe->buf + pipe->write, first);
	pipe_iov_set(&iovs[1], pipe->buf, second);
	return (int)(first + second);
}

int
spdk_pipe_writer_advance(struct spdk_pipe *pipe, uint32_t count)
{
	uint32_t read = pipe->read;
	uint32_t write = pipe->write;
	uint32_t to_end;

	if (count > pipe->sz || pipe->full) {
		return -EINVAL;
	}

	if (read <= write) {
		to_end = pipe->sz - write;
		if (count > to_end + read) {
			return -EINVAL;
		}
		/* Reaching the end exactly wraps to 0. */
		write = count < to_end ? write + count : count - to_end;
	} else {
		if (count > read - write) {
			return -EINVAL;
		}
		write += count;
	}

	/* Catching up with read means full. As upstream, this is also what advancing an empty
	 * pipe by 0 does (read == write before and after), so a writer must not commit 0 bytes to
	 * an empty pipe: the pipe would then claim sz bytes of data. */
	if (read == write) {
		pipe->full = true;
	}
	pipe->write = write;
	return 0;
}

uint32_t
spdk_pipe_reader_bytes_available(struct spdk_pipe *pipe)
{
	if (pipe->read == pipe->write && !pipe->full) {
		return 0;
	}

	if (pipe->read < pipe->write) {
		return pipe->write - pipe->read;
	}

	/* Wrapped (or full): from read to the end, then from the start to write. */
	return pipe->sz - pipe->read + pipe->write;
}

int
spdk_pipe_reader_get_buffer(struct spdk_pipe *pipe, uint32_t sz, struct iovec *iovs)
{
	uint32_t first = 0, second = 0;

	if ((pipe->read == pipe->write && !pipe->full) || sz == 0) {
		/* Empty, or nothing asked for. */
	} else if (pipe->read < pipe->write) {
		first = spdk_min(sz, pipe->write - pipe->read);
	} else {
		first = spdk_min(sz, pipe->sz - pipe->read);
		second = spdk_min(sz - first, pipe->write);
	}

	pipe_iov_set(&iovs[0], pipe->buf + pipe->read, first);
	pipe_iov_set(&iovs[1], pipe->buf, second);
	return (int)(first + second);
}

int
spdk_pipe_reader_advance(struct spdk_pipe *pipe, uint32_t count)
{
	uint32_t read = pipe->read;
	uint32_t write = pipe->write;
	uint32_t to_end;

	if (count == 0) {
		return 0;
	}

	if (read < write) {
		if (count > write - read) {
			return -EINVAL;
		}
		read += count;
	} else {
		/* Wrapped or full. As upstream, an empty pipe (read == write, not full) is not told
		 * apart here: readers advance only by what spdk_pipe_reader_get_buffer gave them. */
		to_end = pipe->sz - read;
		if (count < to_end) {
			read += count;
		} else {
			if (count - to_end > write) {
				return -EINVAL;
			}
			read = count - to_end;
		}
	}

	/* At least one byte left the pipe, so it is not full. */
	pipe->full = false;

	if (read == write) {
		/* Empty: start over at the front, so small reads and writes stay in one piece and
		 * the same memory is reused. */
		read = 0;
		pipe->write = 0;
	}

	pipe->read = read;
	return 0;
}
