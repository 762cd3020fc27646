/**
 * A block device whose commands are served by SPDK storage in a machine's C model — how the host
 * kernel sees an exposed lvol (Longhorn exposes it over NVMe/TCP and a dm device; here it is
 * modelled ublk-like, without the network): each command becomes a guest buffer and one call of
 * an exported C function (spdk_wasm_blockdev_submit), and the C completes it through the
 * host_blk_export_done import, which BlockLayer.blkExportDone routes back here by tag.
 *
 * The kernel side stays free of machines: the target is a small interface the caller implements
 * over its SpdkMachine (see host/longhorn/expose.ts).
 */
import * as abi from '../gen/abi.js';
import { checkIo, newBackendCounters, type BlockBackend, type BlockDone, type BlockIo, type BlockOp } from './blockdev-backend.js';
import type { BlockLayer } from './blockdev.js';
import type { Scheduler } from './blockdev-wait.js';
import type { GuestMemory } from './host-kernel.js';

export interface ExportTarget {
  readonly mem: GuestMemory;
  malloc(len: number): number;
  free(addr: number): void;
  /** Starts one request (op: HOST_BLK_OP_*; offset and length in blocks); 0, or -errno when it
   *  could not start (then no completion follows). */
  submit(op: number, offsetBlocks: number, numBlocks: number, buf: number, tag: number): number;
}

const OPS: Record<BlockOp, number> = {
  read: abi.HOST_BLK_OP_READ,
  write: abi.HOST_BLK_OP_WRITE,
  flush: abi.HOST_BLK_OP_FLUSH,
  discard: abi.HOST_BLK_OP_DISCARD,
  'write-zeroes': abi.HOST_BLK_OP_WRITE_ZEROES,
};

export class ExportBackend implements BlockBackend {
  readonly kind = 'export';
  readonly counters = newBackendCounters();

  constructor(
    private readonly layer: BlockLayer,
    private readonly sched: Scheduler,
    private readonly target: ExportTarget,
    readonly blocklen: number,
    readonly size: number,
  ) {}

  submit(io: BlockIo, done: BlockDone): void {
    const bad = checkIo(this, io);
    if (bad < 0) {
      this.sched.after(0, 'blk.export.error', () => done(bad));
      return;
    }
    const payload = io.op === 'write' ? io.data!.slice(0, io.len) : undefined;
    // Never call into the C from the caller's stack: it may itself be inside a C call.
    this.sched.after(0, 'blk.export.submit', () => this.start(io, payload, done));
  }

  private start(io: BlockIo, payload: Uint8Array | undefined, done: BlockDone): void {
    const t = this.target;
    const needsBuf = io.op === 'read' || io.op === 'write';
    const buf = needsBuf ? t.malloc(Math.max(1, io.len)) : 0;
    if (needsBuf && buf === 0) return done(-abi.ENOMEM);
    if (payload !== undefined) t.mem.bytes().set(payload, buf);
    const tag = this.layer.exportTag((rc) => {
      const data = rc === 0 && io.op === 'read' ? t.mem.bytes().slice(buf, buf + io.len) : undefined;
      if (buf !== 0) t.free(buf);
      if (rc === 0) this.count(io);
      done(rc, data);
    });
    const rc = t.submit(OPS[io.op], io.offset / this.blocklen, io.len / this.blocklen, buf, tag);
    if (rc < 0) {
      this.layer.exportCancel(tag);
      if (buf !== 0) t.free(buf);
      done(rc);
    }
  }

  private count(io: BlockIo): void {
    const c = this.counters;
    if (io.op === 'read') {
      c.reads++;
      c.readBytes += io.len;
    } else if (io.op === 'write') {
      c.writes++;
      c.writeBytes += io.len;
    } else if (io.op === 'discard') {
      c.discards++;
      c.discardBytes += io.len;
    } else if (io.op === 'write-zeroes') c.writeZeroes++;
    else c.flushes++;
  }
}
