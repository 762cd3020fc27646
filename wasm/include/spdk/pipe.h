/* A byte ring for buffering between a producer and a consumer whose units differ, such as a
 * socket read in large chunks and a PDU parser that takes 8 bytes, then 64, then 4096
 * (upstream's include/spdk/pipe.h; the posix sock module's receive pipe is its user here).
 *
 * Not thread safe: one thread is both the writer and the reader.
 *
 * Left out: upstream's pipe groups (spdk_pipe_group_*), which let the empty pipes of one sock
 * group share buffers. Here every pipe keeps its own buffer for its whole life; the bytes a
 * reader sees are the same. */
#ifndef SPDK_PIPE_H
#define SPDK_PIPE_H

#include "spdk/stdinc.h"

struct spdk_pipe;

/* A pipe over the caller's buffer of sz bytes; all sz bytes can hold data (a full pipe is
 * told apart from an empty one by a flag, not by a spare byte). NULL if out of memory. */
struct spdk_pipe *spdk_pipe_create(void *buf, uint32_t sz);

/* Frees the pipe (NULL is fine) and returns its buffer, which the caller frees. */
void *spdk_pipe_destroy(struct spdk_pipe *pipe);

/* Free space to write into: up to sz bytes in at most two pieces, the second starting at the
 * front of the buffer when the free space wraps. Returns the total; 0 when the pipe is full
 * or sz is 0. Nothing is committed until spdk_pipe_writer_advance. */
int spdk_pipe_writer_get_buffer(struct spdk_pipe *pipe, uint32_t sz, struct iovec *iovs);

/* Commits count written bytes. -EINVAL (nothing changes) if count is more than the free
 * space. As upstream, committing 0 bytes to an empty pipe marks it full; don't. */
int spdk_pipe_writer_advance(struct spdk_pipe *pipe, uint32_t count);

/* Bytes written and not yet read. */
uint32_t spdk_pipe_reader_bytes_available(struct spdk_pipe *pipe);

/* Data to read: up to sz bytes in at most two pieces. Returns the total; 0 when the pipe is
 * empty or sz is 0. Nothing is consumed until spdk_pipe_reader_advance. */
int spdk_pipe_reader_get_buffer(struct spdk_pipe *pipe, uint32_t sz, struct iovec *iovs);

/* Consumes count bytes (at most what spdk_pipe_reader_get_buffer gave). -EINVAL (nothing
 * changes) if fewer are available, except that, as upstream, an empty pipe is not checked.
 * Emptying the pipe moves both positions back to the start of the buffer. */
int spdk_pipe_reader_advance(struct spdk_pipe *pipe, uint32_t count);

#endif /* SPDK_PIPE_H */
