/* An AIO-like block device on host storage for the blobstore, after upstream's
 * module/bdev/aio/bdev_aio.c (a file or block device driven through the kernel's asynchronous
 * I/O, completions reaped by a poller) seen through module/blob/bdev/blob_bdev.c (the bs_dev the
 * blobstore uses). Host access goes through the seam only: blk_open / blk_ring_* (port/host_blk.h).
 *
 * The `fallocate` switch is bdev_aio_create's: with it the device supports UNMAP (punch hole: the
 * range then reads zero) and WRITE_ZEROES (zero range). Without it — how Longhorn creates its AIO
 * disks — UNMAP completes at once and changes nothing (blob_bdev.c: "the blobstore does not rely
 * on unmap zeroing data"), and WRITE_ZEROES is emulated with writes of a zeroed buffer, as the
 * bdev layer does for a device without native support. So freed clusters keep their old bytes. */
#ifndef SPDK_BLOB_AIO_H
#define SPDK_BLOB_AIO_H

#include "spdk/stdinc.h"
#include "spdk/blob.h"
#include "spdk/queue.h"

struct spdk_poller;
struct blob_aio_task;

struct blob_aio_disk {
	char			*filename;
	int			fd;
	int			ring;
	uint32_t		blocklen;
	uint64_t		size;
	bool			fallocate;
	struct spdk_poller	*poller;
	uint32_t		io_inflight;
	uint64_t		io_queued;		/* submissions that waited for a full ring */
	TAILQ_HEAD(, blob_aio_task)	retry;
	/* byte counters of commands completed successfully */
	uint64_t		read_bytes;
	uint64_t		write_bytes;		/* WRITE payloads, including emulated zeroes */
	uint64_t		write_zeroes_bytes;	/* WRITE_ZEROES requested by the blobstore */
	uint64_t		unmap_bytes;		/* UNMAP sent to the host (fallocate on) */
	uint64_t		unmap_ignored_bytes;	/* UNMAP completed without effect (fallocate off) */
	uint64_t		errors;
};

/* Opens path on the host (O_RDWR | O_DIRECT, as bdev_aio does) and registers the completion
 * poller on the current SPDK thread. NULL with *rc set (negative errno) on failure. */
struct blob_aio_disk *blob_aio_disk_open(const char *path, bool fallocate, int *rc);
/* Refused (-EBUSY) while commands are in flight. */
int blob_aio_disk_close(struct blob_aio_disk *disk);
/* A new spdk_bs_dev over the disk (the blobstore destroys it on unload; the disk stays open). */
struct spdk_bs_dev *blob_aio_dev_create(struct blob_aio_disk *disk);

#endif /* SPDK_BLOB_AIO_H */
