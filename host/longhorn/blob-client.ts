/**
 * The engine's handle on one SPDK machine's blobstore, as Pendings a process can wait on: each C
 * operation returns an op handle (wasm/api/spdk_wasm_blob.c) whose completion is traced as
 * "blob_op_done"; the client resolves the matching Pending from the scheduler, outside the C call.
 *
 * This drives the blobstore directly (a thin blob is what an lvol is underneath; snapshot =
 * spdk_bs_create_snapshot), because the lvol library's exports do not exist yet; the names of the
 * Longhorn steps stay those of the lvol RPCs they stand for.
 */
import * as abi from '../gen/abi.js';
import type { Ptr } from '../gen/spdk-api.js';
import { Pending, wait, type Proc, type Scheduler } from '../kernel/blockdev-wait.js';
import type { SpdkMachine } from '../spdk/machine.js';

export interface OpResult {
  rc: number;
  result: number;
}

export type Blob = Ptr<'spdk_blob'>;
export type BlobStore = Ptr<'spdk_blob_store'>;
export type IoChannel = Ptr<'spdk_io_channel'>;

/** spdk_wasm_blob_info fields used here. */
export const BLOB_INFO = { index: 0, numClusters: 1, allocated: 2, thin: 3, readOnly: 4, parent: 5 } as const;
/** enum spdk_blob_op_type */
export const BLOB_OP = { write: 0, read: 1, unmap: 2, writeZeroes: 3 } as const;

export class BlobClient {
  private readonly waiting = new Map<number, Pending<OpResult>>();

  constructor(readonly m: SpdkMachine, private readonly sched: Scheduler) {
    const prev = m.onTrace;
    m.onTrace = (ev, a, b, c, d) => {
      prev?.(ev, a, b, c, d);
      if (ev !== 'blob_op_done') return;
      const p = this.waiting.get(a >>> 0);
      if (p === undefined) return;
      this.waiting.delete(a >>> 0);
      this.sched.after(0, 'blob.op_done', () => p.resolve(this.finish(a >>> 0)));
    };
  }

  /** Waits for an op handle; a NULL handle is -ENOMEM. */
  op(handle: number): Pending<OpResult> {
    if (handle === 0) return Pending.of({ rc: -abi.ENOMEM, result: 0 });
    if (this.m.api.spdk_wasm_blob_op_done(handle as Ptr<'blob_wasm_op'>) !== 0) return Pending.of(this.finish(handle));
    const p = new Pending<OpResult>();
    this.waiting.set(handle, p);
    return p;
  }

  /** Runs an op to completion and throws with `what` when it fails. */
  *ok(handle: number, what: string): Proc<number> {
    const r = yield* wait(this.op(handle));
    if (r.rc !== 0) throw new Error(`${this.m.name}: ${what} failed with errno ${-r.rc}`);
    return r.result;
  }

  private finish(handle: number): OpResult {
    const h = handle as Ptr<'blob_wasm_op'>;
    const rc = this.m.api.spdk_wasm_blob_op_rc(h) | 0;
    const result = this.m.api.spdk_wasm_blob_op_result(h) >>> 0;
    this.m.api.spdk_wasm_blob_op_free(h);
    return { rc, result };
  }

  /** Creates a blob (thin or thick) with a `name` xattr, as bdev_lvol_create does; its index. */
  *createBlob(bs: BlobStore, clusters: number, thin: boolean, name: string): Proc<number> {
    const m = this.m;
    const key = m.cstr('name');
    const value = m.cstr(name);
    try {
      // The xattr is copied during the call, so the strings may go as soon as it returns.
      const op = m.api.spdk_wasm_bs_create_blob(bs, clusters, thin ? 1 : 0, 1, 0, key, value, name.length + 1);
      return yield* this.ok(op, `create ${name}`);
    } finally {
      m.free(key);
      m.free(value);
    }
  }

  *open(bs: BlobStore, index: number): Proc<Blob> {
    return (yield* this.ok(this.m.api.spdk_wasm_bs_open_blob(bs, index), `open blob ${index}`)) as Blob;
  }

  *close(blob: Blob): Proc<void> {
    yield* this.ok(this.m.api.spdk_wasm_blob_close(blob), 'close blob');
  }

  info(blob: Blob, f: keyof typeof BLOB_INFO): number {
    return this.m.api.spdk_wasm_blob_info(blob, BLOB_INFO[f]);
  }

  /** Physical cluster behind blob cluster idx (0 = unallocated). */
  cluster(blob: Blob, idx: number): number {
    return this.m.api.spdk_wasm_blob_cluster(blob, idx);
  }

  /** Blob I/O of whole io_units (4096 B here) through a guest buffer. */
  *write(blob: Blob, ch: IoChannel, offsetUnits: number, data: Uint8Array): Proc<void> {
    const buf = this.m.api.spdk_wasm_malloc(data.length);
    this.m.mem.bytes().set(data, buf);
    try {
      yield* this.ok(this.m.api.spdk_wasm_blob_io(blob, ch, BLOB_OP.write, buf, offsetUnits, data.length / 4096), 'blob write');
    } finally {
      this.m.api.spdk_wasm_free(buf);
    }
  }

  *read(blob: Blob, ch: IoChannel, offsetUnits: number, units: number): Proc<Uint8Array> {
    const buf = this.m.api.spdk_wasm_malloc(units * 4096);
    try {
      yield* this.ok(this.m.api.spdk_wasm_blob_io(blob, ch, BLOB_OP.read, buf, offsetUnits, units), 'blob read');
      return this.m.mem.bytes().slice(buf, buf + units * 4096);
    } finally {
      this.m.api.spdk_wasm_free(buf);
    }
  }
}
