/** Test harness for the blobstore model: the real C (lib/blob) on an in-memory disk, driven
 *  through wasm/api/spdk_wasm_blob.c, with the machine polled until each op completes. */
import type { SpdkMachine } from '../../../host/spdk/machine.js';
import type { Flavor, Variant } from '../../../host/spdk/variant.js';
import { utMachine } from '../support/ut.js';

export const PAGE = 4096;
export const OP = { write: 0, read: 1, unmap: 2, writeZeroes: 3 } as const;
export const BS = { clusterSz: 0, totalClusters: 1, freeClusters: 2, dataClusters: 3, mdStart: 4, mdLen: 5, ioUnit: 6, clean: 7, superBlob: 8, openBlobs: 9, usedMdPages: 10, usedBlobids: 11, usedClusters: 12 } as const;
export const BLOB = { index: 0, numClusters: 1, allocated: 2, thin: 3, readOnly: 4, parent: 5, openRef: 6, extentPages: 7, ioUnits: 8, chainPages: 9, extentTable: 10, clearMethod: 11, isSnapshot: 12, cloneCount: 13 } as const;
export const DISK = { readBytes: 0, writeBytes: 1, writeZeroesBytes: 2, unmapBytes: 3, copyBytes: 4, writeOps: 5, failed: 6, general: 7 } as const;

export interface OpResult { rc: number; result: number }

export class BlobHarness {
  constructor(readonly m: SpdkMachine) {}

  /** Polls until the op handle completes; returns rc and result. */
  run(op: number): OpResult {
    if (op === 0) throw new Error('op allocation failed');
    try {
      return this.poll(op);
    } catch (e) {
      // Put the sanitizer's report (access and allocation stacks) in the failure message.
      const c = this.m.crash;
      if (c !== undefined) throw new Error(`${c.message}\n  at ${c.cStack.slice(0, 8).join('\n  at ')}\n${(c.asanReport ?? '').split('\n').filter((l) => / in [a-z_]/.test(l) && !/asan|sanitizer|calloc|malloc|realloc|free/.test(l)).slice(0, 24).join('\n')}`);
      throw e;
    }
  }

  private poll(op: number): OpResult {
    for (let i = 0; i < 10_000_000; i++) {
      if (this.m.call('spdk_wasm_blob_op_done', op) !== 0) {
        const rc = this.m.call('spdk_wasm_blob_op_rc', op) | 0;
        const result = this.m.call('spdk_wasm_blob_op_result', op) >>> 0;
        this.m.call('spdk_wasm_blob_op_free', op);
        return { rc, result };
      }
      this.m.pollOnce();
    }
    throw new Error('blob op did not complete (stuck)');
  }

  ok(op: number, what: string): number {
    const r = this.run(op);
    if (r.rc !== 0) throw new Error(`${what} failed: ${r.rc}`);
    return r.result;
  }

  disk(blocks: number, blocklen = 4096, unmapZeroes = true): number {
    const d = this.m.call('spdk_wasm_mem_disk_create', blocks, blocklen, unmapZeroes ? 1 : 0);
    if (d === 0) throw new Error('disk allocation failed');
    return d;
  }

  diskBytes(disk: number, off: number, len: number): Uint8Array {
    const base = this.m.call('spdk_wasm_mem_disk_buffer', disk) >>> 0;
    return this.m.mem.bytes().slice(base + off, base + off + len);
  }

  setDiskBytes(disk: number, off: number, data: Uint8Array): void {
    const base = this.m.call('spdk_wasm_mem_disk_buffer', disk) >>> 0;
    this.m.mem.bytes().set(data, base + off);
  }

  counter(disk: number, c: keyof typeof DISK): number {
    return this.m.call('spdk_wasm_mem_disk_counter', disk, DISK[c]);
  }

  init(disk: number, o: { clusterSz?: number; mdPages?: number; clear?: number; bstype?: string } = {}): OpResult {
    return this.run(this.m.callStr('spdk_wasm_bs_init', disk, o.clusterSz ?? 1 << 20, o.mdPages ?? 0, o.clear ?? 0, o.bstype ?? 0));
  }

  load(disk: number, bstype?: string): OpResult {
    return this.run(this.m.callStr('spdk_wasm_bs_load', disk, bstype ?? 0));
  }

  bsInfo(bs: number, f: keyof typeof BS): number {
    return this.m.call('spdk_wasm_bs_info', bs, BS[f]);
  }

  blobInfo(blob: number, f: keyof typeof BLOB): number {
    return this.m.call('spdk_wasm_blob_info', blob, BLOB[f]);
  }

  create(bs: number, o: { clusters?: number; thin?: boolean; extentTable?: boolean; clear?: number; xattr?: [string, Uint8Array] } = {}): OpResult {
    let name = 0, val = 0, len = 0;
    if (o.xattr) {
      name = this.m.cstr(o.xattr[0]);
      len = o.xattr[1].length;
      val = this.m.call('spdk_wasm_malloc', len || 1);
      this.m.mem.bytes().set(o.xattr[1], val);
    }
    try {
      return this.run(this.m.call('spdk_wasm_bs_create_blob', bs, o.clusters ?? 0, o.thin ? 1 : 0, o.extentTable === false ? 0 : 1, o.clear ?? 0, name, val, len));
    } finally {
      if (name) this.m.free(name);
      if (val) this.m.call('spdk_wasm_free', val);
    }
  }

  open(bs: number, index: number): OpResult {
    return this.run(this.m.call('spdk_wasm_bs_open_blob', bs, index));
  }

  /** Blob I/O in io_units; returns rc and (for reads) the bytes. */
  io(blob: number, ch: number, type: number, offset: number, length: number, data?: Uint8Array): { rc: number; bytes: Uint8Array } {
    const ioUnit = 4096;
    const n = Math.max(1, length * ioUnit);
    const buf = this.m.call('spdk_wasm_malloc', n);
    if (data) this.m.mem.bytes().set(data, buf);
    const { rc } = this.run(this.m.call('spdk_wasm_blob_io', blob, ch, type, buf, offset, length));
    const bytes = this.m.mem.bytes().slice(buf, buf + length * ioUnit);
    this.m.call('spdk_wasm_free', buf);
    return { rc, bytes };
  }
}

export async function blobHarness(variant: Variant = 'unpatched', flavor: Flavor = 'release'): Promise<BlobHarness> {
  const { m } = await utMachine(variant, flavor);
  return new BlobHarness(m);
}

export function fill(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export { crc32c } from '../../../host/fuzz/crc32c.js';

/** Fast byte equality (vitest's deep equality is slow on MiB-sized arrays). */
export function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}
