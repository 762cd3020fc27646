/* Test-only exports for lib/util/pipe.c (upstream's test/unit/lib/util/pipe.c/pipe_ut.c role):
 * a pipe over a buffer of its own, the two iovecs of the last get_buffer call, and the calls
 * themselves. */
#include <emscripten/emscripten.h>

#include "spdk/stdinc.h"
#include "spdk/pipe.h"
#include "spdk/util.h"

#define SPDK_WASM_API EMSCRIPTEN_KEEPALIVE

struct ut_pipe {
	struct spdk_pipe	*pipe;
	uint8_t			*buf;
	struct iovec		iovs[2];
};

SPDK_WASM_API struct ut_pipe *
spdk_wasm_ut_pipe_create(uint32_t sz)
{
	struct ut_pipe *p;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	p->buf = calloc(1, sz ? sz : 1);
	p->pipe = p->buf ? spdk_pipe_create(p->buf, sz) : NULL;
	if (p->pipe == NULL) {
		free(p->buf);
		free(p);
		return NULL;
	}
	return p;
}

/* Destroys the pipe; 0 if spdk_pipe_destroy gave back the buffer it was created with. */
SPDK_WASM_API int
spdk_wasm_ut_pipe_destroy(struct ut_pipe *p)
{
	void *buf;
	int rc;

	if (p == NULL) {
		return -EINVAL;
	}
	buf = spdk_pipe_destroy(p->pipe);
	rc = buf == p->buf ? 0 : -EFAULT;
	free(p->buf);
	free(p);
	return rc;
}

SPDK_WASM_API void *
spdk_wasm_ut_pipe_buf(struct ut_pipe *p)
{
	return p != NULL ? p->buf : NULL;
}

SPDK_WASM_API int
spdk_wasm_ut_pipe_writer_get_buffer(struct ut_pipe *p, uint32_t sz)
{
	return spdk_pipe_writer_get_buffer(p->pipe, sz, p->iovs);
}

SPDK_WASM_API int
spdk_wasm_ut_pipe_writer_advance(struct ut_pipe *p, uint32_t count)
{
	return spdk_pipe_writer_advance(p->pipe, count);
}

SPDK_WASM_API uint32_t
spdk_wasm_ut_pipe_reader_bytes_available(struct ut_pipe *p)
{
	return spdk_pipe_reader_bytes_available(p->pipe);
}

SPDK_WASM_API int
spdk_wasm_ut_pipe_reader_get_buffer(struct ut_pipe *p, uint32_t sz)
{
	return spdk_pipe_reader_get_buffer(p->pipe, sz, p->iovs);
}

SPDK_WASM_API int
spdk_wasm_ut_pipe_reader_advance(struct ut_pipe *p, uint32_t count)
{
	return spdk_pipe_reader_advance(p->pipe, count);
}

/* The iovecs of the last get_buffer call: field 0 iov_base, 1 iov_len. */
SPDK_WASM_API uint32_t
spdk_wasm_ut_pipe_iov(struct ut_pipe *p, int i, int field)
{
	if (p == NULL || i < 0 || i > 1) {
		return UINT32_MAX;
	}
	return field == 0 ? (uint32_t)(uintptr_t)p->iovs[i].iov_base : (uint32_t)p->iovs[i].iov_len;
}

/* spdk_iovcpy over iovec arrays the caller built in guest memory. */
SPDK_WASM_API uint32_t
spdk_wasm_ut_iovcpy(struct iovec *siov, uint32_t siovcnt, struct iovec *diov, uint32_t diovcnt)
{
	return (uint32_t)spdk_iovcpy(siov, siovcnt, diov, diovcnt);
}
