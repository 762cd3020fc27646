/** Test harness for the lvol library (wasm/lib/lvol) through wasm/api/spdk_wasm_lvol.c, on the
 *  blob harness's in-memory disks and op handles. */
import type { Ptr } from '../../../host/gen/spdk-api.js';
import type { Variant } from '../../../host/spdk/variant.js';
import { BlobHarness, blobHarness, OP, PAGE } from '../blob/bs-harness.js';

export type Lvs = Ptr<'spdk_lvol_store'>;
export type Lvol = Ptr<'spdk_lvol'>;
export const LVOL = { numClusters: 0, allocated: 1, thin: 2, readOnly: 3, isSnapshot: 4, isClone: 5, refCount: 6, blobIndex: 7, cloneCount: 8, clearMethod: 9, sizeBytes: 10 } as const;
export const LVS = { clusterSz: 0, dataClusters: 1, freeClusters: 2, blockSize: 3, lvols: 4 } as const;
/** Emscripten's (WASI) errno numbers, negated as the C returns them. */
export const ERR = { EEXIST: -20, EINVAL: -28, EPERM: -63, EBUSY: -10, ENOENT: -44, ENOSPC: -51, ENODEV: -43 } as const;

export class LvolHarness {
  constructor(readonly b: BlobHarness) {}
  get m() { return this.b.m; }

  str(addr: number): string {
    return addr === 0 ? '' : this.m.mem.cstring(addr, 4096);
  }

  initLvs(disk: number, name: string, o: { clusterSz?: number; clear?: number } = {}): { rc: number; lvs: Lvs } {
    const r = this.b.run(this.m.api.spdk_wasm_lvs_init(disk as never, name, o.clusterSz ?? 1 << 20, o.clear ?? 0, 0));
    return { rc: r.rc, lvs: r.result as Lvs };
  }

  loadLvs(disk: number): { rc: number; lvs: Lvs } {
    const r = this.b.run(this.m.api.spdk_wasm_lvs_load(disk as never));
    return { rc: r.rc, lvs: r.result as Lvs };
  }

  unloadLvs(lvs: Lvs): number {
    return this.b.run(this.m.api.spdk_wasm_lvs_unload(lvs)).rc;
  }

  create(lvs: Lvs, name: string, size: number, thin = true, clear = 0): { rc: number; lvol: Lvol } {
    const r = this.b.run(this.m.api.spdk_wasm_lvol_create(lvs, name, size, thin ? 1 : 0, clear));
    return { rc: r.rc, lvol: r.result as Lvol };
  }

  snapshot(lvol: Lvol, name: string): { rc: number; lvol: Lvol } {
    const r = this.b.run(this.m.api.spdk_wasm_lvol_snapshot(lvol, name));
    return { rc: r.rc, lvol: r.result as Lvol };
  }

  clone(lvol: Lvol, name: string): { rc: number; lvol: Lvol } {
    const r = this.b.run(this.m.api.spdk_wasm_lvol_clone(lvol, name));
    return { rc: r.rc, lvol: r.result as Lvol };
  }

  rc(op: number): number {
    return this.b.run(op).rc;
  }

  /** bdev_lvol_delete: close (if open), then destroy. */
  delete(lvol: Lvol): number {
    if (this.info(lvol, 'refCount') > 0) {
      const rc = this.rc(this.m.api.spdk_wasm_lvol_close(lvol));
      if (rc !== 0) return rc;
    }
    return this.rc(this.m.api.spdk_wasm_lvol_destroy(lvol));
  }

  info(lvol: Lvol, f: keyof typeof LVOL): number {
    return this.m.api.spdk_wasm_lvol_info(lvol, LVOL[f]);
  }

  lvsInfo(lvs: Lvs, f: keyof typeof LVS): number {
    return this.m.api.spdk_wasm_lvs_info(lvs, LVS[f]);
  }

  name(lvol: Lvol): string {
    return this.str(this.m.api.spdk_wasm_lvol_name(lvol));
  }

  uuid(lvol: Lvol): string {
    return this.str(this.m.api.spdk_wasm_lvol_uuid(lvol));
  }

  lvsName(lvs: Lvs): string {
    return this.str(this.m.api.spdk_wasm_lvs_name(lvs));
  }

  lvsUuid(lvs: Lvs): string {
    return this.str(this.m.api.spdk_wasm_lvs_uuid(lvs));
  }

  /** The bdev alias vbdev_lvol registers: "<lvs name>/<lvol name>". */
  alias(lvol: Lvol): string {
    return `${this.lvsName(this.m.api.spdk_wasm_lvol_store(lvol))}/${this.name(lvol)}`;
  }

  lvols(lvs: Lvs): Lvol[] {
    const out: Lvol[] = [];
    for (let l = this.m.api.spdk_wasm_lvol_get_first(lvs); l !== 0; l = this.m.api.spdk_wasm_lvol_get_next(l)) out.push(l);
    return out;
  }

  byNames(lvs: string, lvol: string): Lvol {
    return this.m.api.spdk_wasm_lvol_get_by_names(lvs, lvol);
  }

  /** Blob xattr of an open lvol (user, or internal when asked), or undefined. */
  xattr(lvol: Lvol, name: string, internal = false): Uint8Array | undefined {
    const blob = this.m.api.spdk_wasm_lvol_blob(lvol);
    const p = this.m.call('spdk_wasm_malloc', 4096);
    const len = this.m.callStr('spdk_wasm_blob_get_xattr', blob, name, p, 4096, internal ? 1 : 0) | 0;
    const v = len >= 0 ? this.m.mem.bytes().slice(p, p + len) : undefined;
    this.m.call('spdk_wasm_free', p);
    return v;
  }

  /** I/O on an open lvol through its blob, in 4 KiB blocks. */
  io(lvs: Lvs, lvol: Lvol, type: number, block: number, count: number, data?: Uint8Array): { rc: number; bytes: Uint8Array } {
    const bs = this.m.api.spdk_wasm_lvs_blobstore(lvs);
    const ch = this.m.call('spdk_wasm_bs_alloc_io_channel', bs);
    try {
      return this.b.io(this.m.api.spdk_wasm_lvol_blob(lvol), ch, type, block, count, data);
    } finally {
      this.m.call('spdk_wasm_bs_free_io_channel', ch);
    }
  }

  read(lvs: Lvs, lvol: Lvol, block: number, count: number): Uint8Array {
    const r = this.io(lvs, lvol, OP.read, block, count);
    if (r.rc !== 0) throw new Error(`read: ${r.rc}`);
    return r.bytes;
  }

  write(lvs: Lvs, lvol: Lvol, block: number, data: Uint8Array): void {
    const r = this.io(lvs, lvol, OP.write, block, data.length / PAGE, data);
    if (r.rc !== 0) throw new Error(`write: ${r.rc}`);
  }
}

export async function lvolHarness(variant: Variant = 'unpatched', flavor: 'release' | 'asan' = 'release'): Promise<LvolHarness> {
  return new LvolHarness(await blobHarness(variant, flavor));
}
