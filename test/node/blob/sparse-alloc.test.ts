/** Spec §8(a): cluster allocation on devices with stale free clusters (longhorn#9876, #10135),
 *  upstream policy (unpatched) vs the LH fork's dc7fa5938 (patched, spdk-patches/0002). */
import { describe, expect, it } from 'vitest';
import { blobHarness, same, fill, OP, PAGE } from './bs-harness.js';

const MiB = 1 << 20;
const CL = MiB / PAGE; // io_units per cluster

async function dirtyStore(variant: 'unpatched' | 'patched', unmapZeroes = false) {
  const h = await blobHarness(variant);
  const disk = h.disk(16384, 4096, unmapZeroes);
  const bs = h.init(disk, { clear: 2 }).result; // BS_CLEAR_WITH_NONE: leave the pattern
  // Pattern P in every data cluster (what deleted lvols left behind).
  const P = new Uint8Array(63 * MiB).fill(0xa5);
  h.setDiskBytes(disk, MiB, P);
  const ch = h.m.call('spdk_wasm_bs_alloc_io_channel', bs);
  return { h, disk, bs, ch };
}

for (const variant of ['unpatched', 'patched'] as const) {
  describe(`${variant}`, () => {
    it('§8(a)1/2: a 4 KiB write to a parentless thin blob allocates 1 cluster; the rest is stale (upstream) or zero (LH fix)', async () => {
      const { h, disk, bs, ch } = await dirtyStore(variant);
      const id = h.create(bs, { clusters: 4, thin: true }).result;
      const blob = h.open(bs, id).result;
      h.m.call('spdk_wasm_mem_disk_reset_counters', disk);
      const D = fill(PAGE, 3);
      expect(h.io(blob, ch, OP.write, 0, 1, D).rc).toBe(0);
      expect(h.blobInfo(blob, 'allocated')).toBe(1);
      const r = h.io(blob, ch, OP.read, 0, CL).bytes;
      expect(r.subarray(0, PAGE)).toEqual(D);
      const rest = r.subarray(PAGE);
      if (variant === 'unpatched') {
        expect(rest.every((b) => b === 0xa5)).toBe(true);
        // io_unit + new extent page + root page
        expect(h.counter(disk, 'writeBytes')).toBe(PAGE + 2 * PAGE);
      } else {
        expect(rest.every((b) => b === 0)).toBe(true);
        expect(h.counter(disk, 'writeBytes')).toBe(PAGE + MiB + 2 * PAGE);
        expect(h.counter(disk, 'writeZeroesBytes')).toBe(MiB);
      }
    });

    it('§8(a)3: holes read zero, reading never allocates, WRITE_ZEROES to a hole allocates', async () => {
      const { h, bs, ch } = await dirtyStore(variant);
      const blob = h.open(bs, h.create(bs, { clusters: 4, thin: true }).result).result;
      expect(h.io(blob, ch, OP.read, 0, 4 * CL).bytes.every((b) => b === 0)).toBe(true);
      expect(h.blobInfo(blob, 'allocated')).toBe(0);
      expect(h.io(blob, ch, OP.writeZeroes, CL, 1).rc).toBe(0);
      expect(h.blobInfo(blob, 'allocated')).toBe(1);
      expect(h.io(blob, ch, OP.write, 2 * CL, 1, new Uint8Array(PAGE)).rc).toBe(0);
      expect(h.blobInfo(blob, 'allocated')).toBe(2);
    });

    it('§8(a)4: snapshot takes the clusters (head 0, snapshot = old count) and the exact bytes', async () => {
      const { h, bs, ch } = await dirtyStore(variant);
      const id = h.create(bs, { clusters: 4, thin: true }).result;
      const blob = h.open(bs, id).result;
      h.io(blob, ch, OP.write, 0, 1, fill(PAGE, 5));
      h.io(blob, ch, OP.write, 2 * CL + 7, 1, fill(PAGE, 6));
      const before = h.io(blob, ch, OP.read, 0, 4 * CL).bytes;
      const snap = h.run(h.m.call('spdk_wasm_bs_create_snapshot', bs, id));
      expect(snap.rc).toBe(0);
      expect(h.blobInfo(blob, 'allocated')).toBe(0);
      expect(h.blobInfo(blob, 'parent')).toBe(snap.result);
      const sblob = h.open(bs, snap.result).result;
      expect(h.blobInfo(sblob, 'allocated')).toBe(2);
      expect(h.blobInfo(sblob, 'readOnly')).toBe(1);
      expect(same(h.io(sblob, ch, OP.read, 0, 4 * CL).bytes, before)).toBe(true);
      expect(same(h.io(blob, ch, OP.read, 0, 4 * CL).bytes, before)).toBe(true);
      // writes to the snapshot are refused
      expect(h.io(sblob, ch, OP.write, 0, 1, fill(PAGE, 1)).rc).toBeLessThan(0);
      // copy-on-write in the head: a 4 KiB write copies the whole parent cluster
      expect(h.io(blob, ch, OP.write, 1, 1, fill(PAGE, 9)).rc).toBe(0);
      const after = h.io(blob, ch, OP.read, 0, CL).bytes;
      expect(same(after.subarray(0, PAGE), before.subarray(0, PAGE))).toBe(true);
      expect(same(after.subarray(PAGE, 2 * PAGE), fill(PAGE, 9))).toBe(true);
      expect(same(after.subarray(2 * PAGE), before.subarray(2 * PAGE, MiB))).toBe(true);
      expect(h.blobInfo(blob, 'allocated')).toBe(1);
    });

    it('§8(a)8: deleting on an unmap-less device frees clusters but keeps bytes; the next thin blob sees them unless patched', async () => {
      const h = await blobHarness(variant);
      const disk = h.disk(16384, 4096, false);
      const bs = h.init(disk).result;
      const ch = h.m.call('spdk_wasm_bs_alloc_io_channel', bs);
      const free0 = h.bsInfo(bs, 'freeClusters');
      const a = h.create(bs, { clusters: 2 }).result;
      const ablob = h.open(bs, a).result;
      const old = fill(2 * MiB, 11);
      h.io(ablob, ch, OP.write, 0, 2 * CL, old);
      h.ok(h.m.call('spdk_wasm_blob_close', ablob), 'close');
      h.ok(h.m.call('spdk_wasm_bs_delete_blob', bs, a), 'delete');
      expect(h.bsInfo(bs, 'freeClusters')).toBe(free0);
      const b = h.open(bs, h.create(bs, { clusters: 2, thin: true }).result).result;
      h.io(b, ch, OP.write, 0, 1, fill(PAGE, 12));
      const r = h.io(b, ch, OP.read, 0, CL).bytes;
      if (variant === 'unpatched') expect(same(r.subarray(PAGE), old.subarray(PAGE, MiB))).toBe(true);
      else expect(r.subarray(PAGE).every((x) => x === 0)).toBe(true);
    });

    it('§8(a)8 control: a device that zeroes on unmap shows zeros under both policies', async () => {
      const h = await blobHarness(variant);
      const disk = h.disk(16384, 4096, true);
      const bs = h.init(disk).result;
      const ch = h.m.call('spdk_wasm_bs_alloc_io_channel', bs);
      const a = h.create(bs, { clusters: 1 }).result;
      const ablob = h.open(bs, a).result;
      h.io(ablob, ch, OP.write, 0, CL, fill(MiB, 2));
      h.ok(h.m.call('spdk_wasm_blob_close', ablob), 'close');
      h.ok(h.m.call('spdk_wasm_bs_delete_blob', bs, a), 'delete');
      const b = h.open(bs, h.create(bs, { clusters: 1, thin: true }).result).result;
      h.io(b, ch, OP.write, 0, 1, fill(PAGE, 12));
      expect(h.io(b, ch, OP.read, 1, CL - 1).bytes.every((x) => x === 0)).toBe(true);
    });

    it('clone reads through its snapshot; delete of a snapshot with one clone merges it', async () => {
      const { h, bs, ch } = await dirtyStore(variant, true);
      const id = h.create(bs, { clusters: 2, thin: true }).result;
      const blob = h.open(bs, id).result;
      h.io(blob, ch, OP.write, 0, 1, fill(PAGE, 1));
      h.io(blob, ch, OP.write, CL, 1, fill(PAGE, 2));
      h.ok(h.m.call('spdk_wasm_blob_close', blob), 'close');
      const snap = h.ok(h.m.call('spdk_wasm_bs_create_snapshot', bs, id), 'snapshot');
      const clone = h.ok(h.m.call('spdk_wasm_bs_create_clone', bs, snap), 'clone');
      const cblob = h.open(bs, clone).result;
      expect(same(h.io(cblob, ch, OP.read, CL, 1).bytes, fill(PAGE, 2))).toBe(true);

      h.ok(h.m.call('spdk_wasm_blob_close', cblob), 'close clone');
      // two clones now (head + clone): delete must be refused with -EBUSY
      const busy = h.run(h.m.call('spdk_wasm_bs_delete_blob', bs, snap)).rc;
      expect(busy).toBeLessThan(0);
      h.ok(h.m.call('spdk_wasm_bs_delete_blob', bs, clone), 'delete clone');
      h.ok(h.m.call('spdk_wasm_bs_delete_blob', bs, snap), 'delete snapshot (merge into head)');
      const head = h.open(bs, id).result;
      expect(h.blobInfo(head, 'parent')).toBe(-1);
      expect(h.blobInfo(head, 'allocated')).toBe(2);
      expect(same(h.io(head, ch, OP.read, CL, 1).bytes, fill(PAGE, 2))).toBe(true);
      expect(h.bsInfo(bs, 'freeClusters')).toBe(61);
    });

    it('inflate allocates every cluster and drops the parent; decouple re-parents', async () => {
      const { h, bs, ch } = await dirtyStore(variant, true);
      const id = h.create(bs, { clusters: 3, thin: true }).result;
      const blob = h.open(bs, id).result;
      h.io(blob, ch, OP.write, CL, 1, fill(PAGE, 4));
      h.ok(h.m.call('spdk_wasm_blob_close', blob), 'close');
      h.ok(h.m.call('spdk_wasm_bs_create_snapshot', bs, id), 'snapshot');
      h.ok(h.m.call('spdk_wasm_bs_blob_decouple_parent', bs, ch, id), 'decouple');
      let b = h.open(bs, id).result;
      expect([h.blobInfo(b, 'parent'), h.blobInfo(b, 'allocated'), h.blobInfo(b, 'thin')]).toEqual([-1, 1, 1]);
      expect(same(h.io(b, ch, OP.read, CL, 1).bytes, fill(PAGE, 4))).toBe(true);
      h.ok(h.m.call('spdk_wasm_blob_close', b), 'close');
      h.ok(h.m.call('spdk_wasm_bs_inflate_blob', bs, ch, id), 'inflate');
      b = h.open(bs, id).result;
      expect([h.blobInfo(b, 'parent'), h.blobInfo(b, 'allocated'), h.blobInfo(b, 'thin')]).toEqual([-1, 3, 0]);
    });
  });
}
