/**
 * Exposing a blob (the lvol) to the host kernel as a block device: Longhorn's StartExposeBdev +
 * NVMe/TCP initiator + dm device, modelled ublk-like (host/kernel/blockdev-export.ts) so the
 * kernel's page cache talks to the real C blobstore of the same machine.
 */
import { ExportBackend, type ExportTarget } from '../kernel/blockdev-export.js';
import type { BlockLayer } from '../kernel/blockdev.js';
import type { Scheduler } from '../kernel/blockdev-wait.js';
import type { SpdkMachine } from '../spdk/machine.js';
import type { Blob, IoChannel } from './blob-client.js';

export function blobExportTarget(m: SpdkMachine, blob: Blob, ch: IoChannel): ExportTarget {
  return {
    mem: m.mem,
    malloc: (len) => m.api.spdk_wasm_malloc(len),
    free: (addr) => m.api.spdk_wasm_free(addr),
    submit: (op, offset, length, buf, tag) => m.api.spdk_wasm_blockdev_submit(blob, ch, op, offset, length, buf, tag),
  };
}

/** The backend of a device showing `sizeBytes` of the blob in 4 KiB blocks. */
export function blobBackend(blk: BlockLayer, sched: Scheduler, m: SpdkMachine, blob: Blob, ch: IoChannel, sizeBytes: number): ExportBackend {
  return new ExportBackend(blk, sched, blobExportTarget(m, blob, ch), 4096, sizeBytes);
}
