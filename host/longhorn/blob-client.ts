/**
 * The engine's handle on one SPDK machine's lvol stores and blobstores, as Pendings a process can
 * wait on: each C operation returns an op handle (wasm/api/spdk_wasm_blob.c, shared by
 * spdk_wasm_lvol.c) whose completion is traced as "blob_op_done"; the client resolves the matching
 * Pending from the scheduler, outside the C call.
 *
 * The Longhorn steps go through the C lvol library (wasm/lib/lvol via wasm/api/spdk_wasm_lvol.c):
 * lvstore on the AIO-like disk (spdk_lvs_init), spdk_lvol_create / _create_snapshot / _close /
 * _destroy, num_allocated_clusters from the lvol. Data I/O and the cluster map go through the
 * lvol's open blob, as vbdev_lvol does.
 */
import * as abi from '../gen/abi.js';
import type { Ptr } from '../gen/spdk-api.js';
import { Pending, wait, type Proc, type Scheduler } from '../kernel/blockdev-wait.js';
import type { SpdkMachine } from '../spdk/machine.js';
import { lvolSnapshotOp, lvolXattr } from '../spdk/rpc/lvol.js';

export interface OpResult {
  rc: number;
  result: number;
}

export type Blob = Ptr<'spdk_blob'>;
export type BlobStore = Ptr<'spdk_blob_store'>;
export type IoChannel = Ptr<'spdk_io_channel'>;
export type Lvs = Ptr<'spdk_lvol_store'>;
export type Lvol = Ptr<'spdk_lvol'>;
export type AioDisk = Ptr<'blob_aio_disk'>;

/** spdk_wasm_lvol_info fields used here. */
export const LVOL_INFO = { numClusters: 0, allocated: 1, thin: 2, readOnly: 3, isSnapshot: 4, isClone: 5, refCount: 6, blobIndex: 7 } as const;
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

  // ---- lvol stores and lvols (spdk_wasm_lvol.c) ----

  /** bdev_lvol_create_lvstore on the AIO-like disk: spdk_lvs_init (clear_method unmap). */
  *lvsInitAio(disk: AioDisk, name: string, clusterSz: number): Proc<Lvs> {
    return (yield* this.ok(this.m.api.spdk_wasm_lvs_init_aio(disk, name, clusterSz, 0, 0), `bdev_lvol_create_lvstore ${name}`)) as Lvs;
  }

  lvsBlobstore(lvs: Lvs): BlobStore {
    return this.m.api.spdk_wasm_lvs_blobstore(lvs);
  }

  /** bdev_lvol_create (thin or thick, default clear method): the lvol, open. */
  *createLvol(lvs: Lvs, name: string, sizeBytes: number, thin: boolean): Proc<Lvol> {
    return (yield* this.ok(this.m.api.spdk_wasm_lvol_create(lvs, name, sizeBytes, thin ? 1 : 0, 0), `bdev_lvol_create ${name}`)) as Lvol;
  }

  /** bdev_lvol_snapshot (with the LH fork's `xattrs`, set as the snapshot is created): the
   *  snapshot's lvol, open. */
  *snapshotLvol(lvol: Lvol, name: string, xattrs?: Readonly<Record<string, string>>): Proc<Lvol> {
    return (yield* this.ok(lvolSnapshotOp(this.m, lvol, name, xattrs), `bdev_lvol_snapshot ${name}`)) as Lvol;
  }

  /** bdev_lvol_get_xattr: the value up to its NUL; throws on a missing xattr. */
  getLvolXattr(lvol: Lvol, key: string): string {
    const v = lvolXattr(this.m, lvol, key);
    if (typeof v === 'number') throw new Error(`${this.m.name}: bdev_lvol_get_xattr ${key} failed with errno ${-v}`);
    return v;
  }

  /** bdev_lvol_delete: close (unregistering the bdev), then spdk_lvol_destroy. */
  *deleteLvol(lvol: Lvol, what: string): Proc<void> {
    if (this.lvolInfo(lvol, 'refCount') > 0) yield* this.ok(this.m.api.spdk_wasm_lvol_close(lvol), `close ${what}`);
    yield* this.ok(this.m.api.spdk_wasm_lvol_destroy(lvol), `bdev_lvol_delete ${what}`);
  }

  /** The open lvol's blob (its I/O and cluster map). */
  lvolBlob(lvol: Lvol): Blob {
    const b = this.m.api.spdk_wasm_lvol_blob(lvol);
    if (b === 0) throw new Error(`${this.m.name}: lvol ${this.lvolName(lvol)} is not open`);
    return b;
  }

  lvolName(lvol: Lvol): string {
    const a = this.m.api.spdk_wasm_lvol_name(lvol);
    return a === 0 ? '' : this.m.mem.cstring(a, 4096);
  }

  lvolInfo(lvol: Lvol, f: keyof typeof LVOL_INFO): number {
    return this.m.api.spdk_wasm_lvol_info(lvol, LVOL_INFO[f]);
  }
}
