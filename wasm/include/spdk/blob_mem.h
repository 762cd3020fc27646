/* An in-memory block device for blobstore tests, after upstream's
 * test/unit/lib/blob/bs_dev_common.c: a byte buffer, byte counters, an optional device copy,
 * per-operation power-failure thresholds, and a switch for what unmap does (zero the range as
 * the unit-test device does, or nothing, like a Longhorn AIO disk without fallocate). */
#ifndef SPDK_BLOB_MEM_H
#define SPDK_BLOB_MEM_H

#include "spdk/stdinc.h"
#include "spdk/blob.h"

struct spdk_power_failure_counters {
	uint64_t general_counter;
	uint64_t read_counter;
	uint64_t write_counter;
	uint64_t unmap_counter;
	uint64_t write_zero_counter;
	uint64_t flush_counter;
};

/* 0 disables a threshold; N makes the N-th such operation (and every later one) fail with
 * -EIO without touching the buffer. */
struct spdk_power_failure_thresholds {
	uint64_t general_threshold;
	uint64_t read_threshold;
	uint64_t write_threshold;
	uint64_t unmap_threshold;
	uint64_t write_zero_threshold;
	uint64_t flush_threshold;
};

struct blob_mem_disk {
	uint8_t		*buf;
	uint64_t	size;
	uint32_t	blocklen;
	bool		unmap_zeroes;
	bool		copy_enabled;
	uint64_t	read_bytes;
	uint64_t	write_bytes;	/* write + write_zeroes, as g_dev_write_bytes */
	uint64_t	write_zeroes_bytes;
	uint64_t	unmap_bytes;
	uint64_t	copy_bytes;
	uint64_t	write_ops;	/* write + write_zeroes + unmap commands accepted */
	struct spdk_power_failure_counters	counters;
	struct spdk_power_failure_thresholds	thresholds;
	int		power_failure_rc;
	/* While a general threshold is set: the kind of each command counted against it
	 * (enum blob_mem_cmd), so a sweep can crash at write-type commands only. */
	uint8_t		cmd_log[4096];
};

enum blob_mem_cmd {
	BLOB_MEM_CMD_READ,
	BLOB_MEM_CMD_WRITE,
	BLOB_MEM_CMD_WRITE_ZEROES,
	BLOB_MEM_CMD_UNMAP,
	BLOB_MEM_CMD_FLUSH,
	BLOB_MEM_CMD_COPY,
};

struct blob_mem_disk *blob_mem_disk_create(uint64_t size, uint32_t blocklen, bool unmap_zeroes);
void blob_mem_disk_free(struct blob_mem_disk *disk);
void blob_mem_disk_set_power_failure(struct blob_mem_disk *disk,
				     const struct spdk_power_failure_thresholds *thresholds);
/* A new spdk_bs_dev over the disk (the blobstore destroys it on unload). */
struct spdk_bs_dev *blob_mem_dev_create(struct blob_mem_disk *disk);

#endif /* SPDK_BLOB_MEM_H */
