/* bdevperf (examples/bdev/bdevperf, one job): queue_depth tasks over the namespace of an
 * attached controller. Workloads verify, randread, randwrite, randrw (rw_percentage reads),
 * read, write; a time or an I/O count bounds the run; random offsets come from the seed.
 *
 * verify: sequential offsets, one task per offset at a time; each task fills its buffer with
 * the pattern (generate_data), writes it, reads the same range back into its own verify buffer
 * (bdevperf_verify_submit_read) and compares the two (verify_data). With -U (unique writes)
 * every 8-byte word is (write_io_count << 32) | (block + word offset), so data that belongs to
 * another write, or a reused buffer, cannot compare equal. A mismatch stops the job (as
 * upstream without continue_on_failure) and records which bytes differed and how. Every
 * completion is traced (bdevperf_complete). */
#include "spdk/stdinc.h"
#include "spdk/env.h"
#include "spdk/log.h"
#include "spdk/thread.h"
#include "spdk/util.h"
#include "spdk_internal/trace_host.h"
#include "bdevperf.h"

#define BDEVPERF_POISON_WORD	0xDEADBEEFu

struct bdevperf_task {
	uint32_t		index;
	uint8_t			*buf;
	uint8_t			*verify_buf;
	uint64_t		offset_blocks;
	uint32_t		io_idx;
	uint32_t		write_idx;
	bool			is_read;
	bool			busy;
	uint64_t		submit_tick;
};

static struct {
	bool				running;
	int				status;
	struct bdevperf_opts		opts;
	struct nvme_bdev_ctrlr		*nbc;
	struct bdevperf_task		*tasks;
	uint32_t			block_size;
	uint64_t			num_blocks;
	uint32_t			io_size_blocks;
	uint64_t			size_in_ios;
	uint64_t			offset_in_ios;
	uint64_t			end_tick;
	uint64_t			rand_state;
	uint32_t			write_io_count;
	uint32_t			io_idx;
	bool				draining;
	double				counters[BDEVPERF_CNT_NUM];
	struct bdevperf_miscompare	miscompares[BDEVPERF_MAX_MISCOMPARES];
	uint32_t			num_miscompares;
	struct spdk_poller		*start_poller;
} g_bdevperf;

static void bdevperf_submit_single(struct bdevperf_task *task);

/* xorshift64*: the world's seed decides every random offset. */
static uint64_t
bdevperf_rand(void)
{
	uint64_t x = g_bdevperf.rand_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	g_bdevperf.rand_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static void
generate_data(struct bdevperf_task *task)
{
	uint32_t bs = g_bdevperf.block_size, i, words = g_bdevperf.opts.io_size / 8;
	uint64_t word;

	for (i = 0; i < words; i++) {
		uint64_t block = task->offset_blocks + (i * 8) / bs;
		uint32_t inner = (i * 8) % bs;

		if (g_bdevperf.opts.flags & BDEVPERF_FLAG_UNIQUE_WRITES) {
			word = ((uint64_t)task->write_idx << 32) | (uint32_t)(block + inner);
		} else {
			word = (uint32_t)(block + inner) | ((uint64_t)(uint32_t)(block + inner + 4) << 32);
		}
		memcpy(task->buf + 8 * i, &word, 8);
	}
}

static void
record_miscompare(struct bdevperf_task *task)
{
	uint32_t len = g_bdevperf.opts.io_size, i, first = UINT32_MAX, last = 0, bad = 0, poison = 0;
	struct bdevperf_miscompare *m;
	uint32_t w;

	for (i = 0; i < len; i++) {
		if (task->buf[i] != task->verify_buf[i]) {
			if (first == UINT32_MAX) {
				first = i;
			}
			last = i;
			bad++;
		}
	}
	for (i = 0; i + 4 <= len; i += 4) {
		memcpy(&w, task->verify_buf + i, 4);
		if (w == BDEVPERF_POISON_WORD) {
			poison++;
		}
	}
	g_bdevperf.counters[BDEVPERF_CNT_POISON_WORDS] += poison;
	SPDK_ERRLOG("Buffer mismatch! Target: nvme%d Disk Offset: %" PRIu64 " (bytes %u..%u of %u "
		    "differ, %u poison words)\n", g_bdevperf.opts.ctrlr_id, task->offset_blocks, first,
		    last, len, poison);
	SPDK_WASM_TRACE("bdevperf_miscompare", task->io_idx, (uint32_t)task->offset_blocks, first,
			last);
	if (g_bdevperf.num_miscompares >= BDEVPERF_MAX_MISCOMPARES) {
		return;
	}
	m = &g_bdevperf.miscompares[g_bdevperf.num_miscompares++];
	m->io_idx = task->io_idx;
	m->write_idx = task->write_idx;
	m->offset_blocks = task->offset_blocks;
	m->first_byte = first;
	m->last_byte = last;
	m->bad_bytes = bad;
	m->poison_words = poison;
	memcpy(m->expected, task->buf + first, spdk_min(16u, len - first));
	memcpy(m->received, task->verify_buf + first, spdk_min(16u, len - first));
}

static bool
verify_data(struct bdevperf_task *task)
{
	if (memcmp(task->buf, task->verify_buf, g_bdevperf.opts.io_size) == 0) {
		return true;
	}
	record_miscompare(task);
	return false;
}

static void
bdevperf_job_end(int status)
{
	if (!g_bdevperf.running) {
		return;
	}
	g_bdevperf.running = false;
	g_bdevperf.status = status;
	g_bdevperf.counters[BDEVPERF_CNT_END_US] = (double)spdk_get_ticks();
	SPDK_WASM_TRACE("bdevperf_job_end", status, (uint32_t)g_bdevperf.counters[BDEVPERF_CNT_COMPLETED],
			(uint32_t)g_bdevperf.counters[BDEVPERF_CNT_FAILED],
			(uint32_t)g_bdevperf.counters[BDEVPERF_CNT_MISCOMPARES]);
}

static uint32_t
bdevperf_outstanding(void)
{
	return (uint32_t)g_bdevperf.counters[BDEVPERF_CNT_OUTSTANDING];
}

/* No new I/O: end once the last one is back. */
static void
bdevperf_drain(int status)
{
	if (!g_bdevperf.draining) {
		g_bdevperf.draining = true;
		g_bdevperf.status = status;
	}
	if (bdevperf_outstanding() == 0) {
		bdevperf_job_end(g_bdevperf.status);
	}
}

static bool
bdevperf_should_stop(void)
{
	if (g_bdevperf.draining) {
		return true;
	}
	if (g_bdevperf.opts.time_us != 0) {
		return spdk_get_ticks() >= g_bdevperf.end_tick;
	}
	return g_bdevperf.counters[BDEVPERF_CNT_SUBMITTED] >= g_bdevperf.opts.io_count;
}

static void
bdevperf_complete(void *ctx, const struct spdk_nvme_cpl *cpl)
{
	struct bdevperf_task *task = ctx;
	uint64_t lat = spdk_get_ticks() - task->submit_tick;
	bool ok = spdk_nvme_cpl_is_success(cpl);
	bool verify = g_bdevperf.opts.workload == BDEVPERF_WORKLOAD_VERIFY;

	SPDK_WASM_TRACE("bdevperf_complete", task->io_idx, (uint32_t)task->offset_blocks,
			(task->is_read ? 1u : 0u) | ((uint32_t)cpl->status_raw << 8), (uint32_t)lat);
	g_bdevperf.counters[BDEVPERF_CNT_OUTSTANDING]--;
	if (!ok) {
		g_bdevperf.counters[BDEVPERF_CNT_FAILED]++;
		SPDK_ERRLOG("%s of %u blocks at %" PRIu64 " failed: sct %u sc 0x%x (%s)\n",
			    task->is_read ? "read" : "write", g_bdevperf.io_size_blocks, task->offset_blocks,
			    cpl->status.sct, cpl->status.sc, spdk_nvme_cpl_get_status_string(&cpl->status));
		task->busy = false;
		if (!(g_bdevperf.opts.flags & BDEVPERF_FLAG_CONTINUE_ON_FAILURE)) {
			bdevperf_drain(-EIO);
			return;
		}
	} else if (verify && !task->is_read) {
		/* Write done: read the same range back with the same task. */
		g_bdevperf.counters[BDEVPERF_CNT_WRITES]++;
		g_bdevperf.counters[BDEVPERF_CNT_BYTES_WRITTEN] += g_bdevperf.opts.io_size;
		if (g_bdevperf.draining) {
			task->busy = false;
			bdevperf_drain(g_bdevperf.status);
			return;
		}
		task->is_read = true;
		memset(task->verify_buf, 0, g_bdevperf.opts.io_size);
		task->submit_tick = spdk_get_ticks();
		g_bdevperf.counters[BDEVPERF_CNT_OUTSTANDING]++;
		if (nvme_bdev_readv(g_bdevperf.nbc, task->verify_buf, task->offset_blocks,
				    g_bdevperf.io_size_blocks, bdevperf_complete, task) != 0) {
			g_bdevperf.counters[BDEVPERF_CNT_OUTSTANDING]--;
			g_bdevperf.counters[BDEVPERF_CNT_FAILED]++;
			task->busy = false;
			bdevperf_drain(-EIO);
		}
		return;
	} else {
		if (task->is_read) {
			g_bdevperf.counters[BDEVPERF_CNT_READS]++;
			g_bdevperf.counters[BDEVPERF_CNT_BYTES_READ] += g_bdevperf.opts.io_size;
		} else {
			g_bdevperf.counters[BDEVPERF_CNT_WRITES]++;
			g_bdevperf.counters[BDEVPERF_CNT_BYTES_WRITTEN] += g_bdevperf.opts.io_size;
		}
		if (verify) {
			if (verify_data(task)) {
				g_bdevperf.counters[BDEVPERF_CNT_VERIFIED]++;
			} else {
				g_bdevperf.counters[BDEVPERF_CNT_MISCOMPARES]++;
				if (!(g_bdevperf.opts.flags & BDEVPERF_FLAG_CONTINUE_ON_FAILURE)) {
					g_bdevperf.counters[BDEVPERF_CNT_COMPLETED]++;
					task->busy = false;
					bdevperf_drain(-EILSEQ);
					return;
				}
			}
		}
	}
	g_bdevperf.counters[BDEVPERF_CNT_COMPLETED]++;
	g_bdevperf.counters[BDEVPERF_CNT_LAT_SUM_US] += (double)lat;
	if ((double)lat > g_bdevperf.counters[BDEVPERF_CNT_LAT_MAX_US]) {
		g_bdevperf.counters[BDEVPERF_CNT_LAT_MAX_US] = (double)lat;
	}
	task->busy = false;
	if (bdevperf_should_stop()) {
		bdevperf_drain(g_bdevperf.status);
		return;
	}
	bdevperf_submit_single(task);
}

static void
bdevperf_submit_single(struct bdevperf_task *task)
{
	enum bdevperf_workload w = g_bdevperf.opts.workload;
	uint64_t offset_in_ios;
	int rc;

	if (w == BDEVPERF_WORKLOAD_VERIFY || w == BDEVPERF_WORKLOAD_READ ||
	    w == BDEVPERF_WORKLOAD_WRITE) {
		offset_in_ios = g_bdevperf.offset_in_ios++;
		if (g_bdevperf.offset_in_ios == g_bdevperf.size_in_ios) {
			g_bdevperf.offset_in_ios = 0;
		}
	} else {
		offset_in_ios = bdevperf_rand() % g_bdevperf.size_in_ios;
	}
	task->offset_blocks = offset_in_ios * g_bdevperf.io_size_blocks;
	switch (w) {
	case BDEVPERF_WORKLOAD_RANDREAD:
	case BDEVPERF_WORKLOAD_READ:
		task->is_read = true;
		break;
	case BDEVPERF_WORKLOAD_RANDRW:
		task->is_read = (bdevperf_rand() % 100) < g_bdevperf.opts.rw_percentage;
		break;
	default:
		task->is_read = false;
		break;
	}
	task->io_idx = g_bdevperf.io_idx++;
	task->busy = true;
	task->submit_tick = spdk_get_ticks();
	g_bdevperf.counters[BDEVPERF_CNT_SUBMITTED]++;
	g_bdevperf.counters[BDEVPERF_CNT_OUTSTANDING]++;
	SPDK_WASM_TRACE("bdevperf_submit", task->io_idx, (uint32_t)task->offset_blocks,
			task->is_read, task->index);
	if (task->is_read) {
		rc = nvme_bdev_readv(g_bdevperf.nbc, task->verify_buf, task->offset_blocks,
				     g_bdevperf.io_size_blocks, bdevperf_complete, task);
	} else {
		task->write_idx = g_bdevperf.write_io_count++;
		generate_data(task);
		rc = nvme_bdev_writev(g_bdevperf.nbc, task->buf, task->offset_blocks,
				      g_bdevperf.io_size_blocks, bdevperf_complete, task);
	}
	if (rc != 0) {
		SPDK_ERRLOG("submitting I/O %u failed: %d\n", task->io_idx, rc);
		g_bdevperf.counters[BDEVPERF_CNT_OUTSTANDING]--;
		g_bdevperf.counters[BDEVPERF_CNT_FAILED]++;
		task->busy = false;
		bdevperf_drain(rc);
	}
}

/* Waits for the controller to be READY, then fills the queue. */
static int
bdevperf_start_poll(void *arg)
{
	struct nvme_bdev_ctrlr *nbc = g_bdevperf.nbc;
	uint32_t i;

	if (nbc->state == NVME_BDEV_CTRLR_FAILED || nbc->state == NVME_BDEV_CTRLR_DETACHED) {
		spdk_poller_unregister(&g_bdevperf.start_poller);
		bdevperf_job_end(-ENODEV);
		return SPDK_POLLER_BUSY;
	}
	if (nbc->state != NVME_BDEV_CTRLR_READY || nbc->ns == NULL) {
		return SPDK_POLLER_IDLE;
	}
	spdk_poller_unregister(&g_bdevperf.start_poller);
	g_bdevperf.block_size = spdk_nvme_ns_get_sector_size(nbc->ns);
	g_bdevperf.num_blocks = spdk_nvme_ns_get_num_sectors(nbc->ns);
	if (g_bdevperf.block_size == 0 || g_bdevperf.opts.io_size % g_bdevperf.block_size != 0 ||
	    g_bdevperf.opts.io_size / g_bdevperf.block_size > g_bdevperf.num_blocks) {
		SPDK_ERRLOG("I/O size %u does not fit the namespace (%" PRIu64 " blocks of %u B)\n",
			    g_bdevperf.opts.io_size, g_bdevperf.num_blocks, g_bdevperf.block_size);
		bdevperf_job_end(-EINVAL);
		return SPDK_POLLER_BUSY;
	}
	g_bdevperf.io_size_blocks = g_bdevperf.opts.io_size / g_bdevperf.block_size;
	g_bdevperf.size_in_ios = g_bdevperf.num_blocks / g_bdevperf.io_size_blocks;
	if (g_bdevperf.opts.workload == BDEVPERF_WORKLOAD_VERIFY &&
	    g_bdevperf.size_in_ios < g_bdevperf.opts.queue_depth) {
		/* One task per offset: more tasks than offsets would overlap. */
		g_bdevperf.opts.queue_depth = (uint32_t)g_bdevperf.size_in_ios;
	}
	g_bdevperf.counters[BDEVPERF_CNT_START_US] = (double)spdk_get_ticks();
	g_bdevperf.end_tick = spdk_get_ticks() + g_bdevperf.opts.time_us;
	for (i = 0; i < g_bdevperf.opts.queue_depth && !bdevperf_should_stop(); i++) {
		bdevperf_submit_single(&g_bdevperf.tasks[i]);
	}
	if (bdevperf_outstanding() == 0) {
		bdevperf_drain(g_bdevperf.status);
	}
	return SPDK_POLLER_BUSY;
}

static void
bdevperf_free_tasks(void)
{
	uint32_t i;

	if (g_bdevperf.tasks == NULL) {
		return;
	}
	for (i = 0; i < g_bdevperf.opts.queue_depth; i++) {
		free(g_bdevperf.tasks[i].buf);
		free(g_bdevperf.tasks[i].verify_buf);
	}
	free(g_bdevperf.tasks);
	g_bdevperf.tasks = NULL;
}

int
bdevperf_start(const struct bdevperf_opts *opts)
{
	struct nvme_bdev_ctrlr *nbc = nvme_bdev_ctrlr_get(opts->ctrlr_id);
	uint32_t i;

	if (g_bdevperf.running) {
		return -EBUSY;
	}
	if (nbc == NULL) {
		return -ENODEV;
	}
	if (opts->io_size == 0 || opts->io_size % 8 != 0 || opts->queue_depth == 0 ||
	    opts->queue_depth > 128 || opts->rw_percentage > 100 ||
	    (opts->time_us == 0 && opts->io_count == 0) || opts->workload > BDEVPERF_WORKLOAD_WRITE) {
		SPDK_ERRLOG("bdevperf: invalid options (io_size %u, queue_depth %u, rw %u, time %" PRIu64
			    " us, count %u, workload %d)\n", opts->io_size, opts->queue_depth,
			    opts->rw_percentage, opts->time_us, opts->io_count, opts->workload);
		return -EINVAL;
	}
	bdevperf_free_tasks();
	memset(&g_bdevperf, 0, sizeof(g_bdevperf));
	g_bdevperf.opts = *opts;
	g_bdevperf.nbc = nbc;
	g_bdevperf.rand_state = ((uint64_t)opts->seed << 1) | 1;
	g_bdevperf.tasks = calloc(opts->queue_depth, sizeof(*g_bdevperf.tasks));
	if (g_bdevperf.tasks == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < opts->queue_depth; i++) {
		struct bdevperf_task *task = &g_bdevperf.tasks[i];

		task->index = i;
		if (posix_memalign((void **)&task->buf, 4096, opts->io_size) != 0 ||
		    posix_memalign((void **)&task->verify_buf, 4096, opts->io_size) != 0) {
			bdevperf_free_tasks();
			return -ENOMEM;
		}
		memset(task->buf, 0, opts->io_size);
		memset(task->verify_buf, 0, opts->io_size);
	}
	g_bdevperf.running = true;
	g_bdevperf.start_poller = SPDK_POLLER_REGISTER(bdevperf_start_poll, NULL, 1000);
	SPDK_WASM_TRACE("bdevperf_start", opts->workload, opts->io_size, opts->queue_depth,
			opts->io_count);
	return 0;
}

int
bdevperf_status(void)
{
	if (g_bdevperf.running) {
		return 0;
	}
	if (g_bdevperf.status < 0 && g_bdevperf.status != -EILSEQ) {
		return g_bdevperf.status;
	}
	return g_bdevperf.counters[BDEVPERF_CNT_MISCOMPARES] > 0 ? 2 : 1;
}

double
bdevperf_get_counter(enum bdevperf_counter c)
{
	if ((unsigned)c >= BDEVPERF_CNT_NUM) {
		return -EINVAL;
	}
	return g_bdevperf.counters[c];
}

const struct bdevperf_miscompare *
bdevperf_get_miscompare(uint32_t idx)
{
	return idx < g_bdevperf.num_miscompares ? &g_bdevperf.miscompares[idx] : NULL;
}

int
bdevperf_stop(void)
{
	if (!g_bdevperf.running) {
		return -EALREADY;
	}
	spdk_poller_unregister(&g_bdevperf.start_poller);
	bdevperf_drain(g_bdevperf.status);
	return 0;
}
