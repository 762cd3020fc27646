/** Blobstore bugs found by the power-failure sweep and the property tests, one test each (asan). */
import { describe, expect, it } from 'vitest';
import { blobHarness, crc32c, fill, OP, PAGE, same } from './bs-harness.js';

const CL = 256; // io_units per 1 MiB cluster

describe('blobstore regressions (asan)', () => {
  it('opening a blob whose md chain has several pages reads past no freed page (blob_load_cpl realloc)', async () => {
    const h = await blobHarness('unpatched', 'asan');
    const disk = h.disk(16384);
    const bs = h.init(disk).result;
    const id = h.create(bs, { clusters: 1, thin: true }).result;
    let blob = h.open(bs, id).result;
    for (const [i, name] of ['x1', 'x2', 'x3'].entries()) {
      const v = fill(3000, i + 1);
      const p = h.m.call('spdk_wasm_malloc', v.length);
      h.m.mem.bytes().set(v, p);
      expect(h.m.callStr('spdk_wasm_blob_set_xattr', blob, name, p, v.length, 0)).toBe(0);
    }
    h.ok(h.m.call('spdk_wasm_blob_close', blob), 'close');
    h.ok(h.m.call('spdk_wasm_bs_unload', bs), 'unload');
    const l = h.load(disk);
    expect(l.rc).toBe(0);
    blob = h.open(l.result, id).result;
    expect(h.blobInfo(blob, 'chainPages')).toBe(3);
  });

  it('a snapshot of a clone (read-only, with a SNAP internal xattr) opens after reload', async () => {
    const h = await blobHarness('unpatched', 'asan');
    const disk = h.disk(16384);
    const bs = h.init(disk).result;
    const ch = h.m.call('spdk_wasm_bs_alloc_io_channel', bs);
    const id = h.create(bs, { clusters: 2, thin: true }).result;
    const blob = h.open(bs, id).result;
    h.io(blob, ch, OP.write, 0, 1, fill(PAGE, 1));
    const s1 = h.run(h.m.call('spdk_wasm_bs_create_snapshot', bs, id)).result;
    h.io(blob, ch, OP.write, CL, 1, fill(PAGE, 2));
    const s2 = h.run(h.m.call('spdk_wasm_bs_create_snapshot', bs, id)).result;
    const want = h.io(blob, ch, OP.read, 0, 2 * CL).bytes;
    h.ok(h.m.call('spdk_wasm_blob_close', blob), 'close');
    h.m.call('spdk_wasm_bs_free_io_channel', ch);
    h.ok(h.m.call('spdk_wasm_bs_unload', bs), 'unload');
    const l = h.load(disk).result;
    const mid = h.open(l, s2);
    expect(mid.rc).toBe(0);
    expect(h.blobInfo(mid.result, 'parent')).toBe(s1);
    expect(h.blobInfo(mid.result, 'readOnly')).toBe(1);
    const ch2 = h.m.call('spdk_wasm_bs_alloc_io_channel', l);
    const head = h.open(l, id).result;
    expect(same(h.io(head, ch2, OP.read, 0, 2 * CL).bytes, want)).toBe(true);
  });

  it('a snapshot whose only clone is open can be deleted (the clone holds one reference)', async () => {
    const h = await blobHarness('unpatched', 'asan');
    const disk = h.disk(16384);
    const bs = h.init(disk).result;
    const ch = h.m.call('spdk_wasm_bs_alloc_io_channel', bs);
    const id = h.create(bs, { clusters: 2, thin: true }).result;
    const blob = h.open(bs, id).result;
    h.io(blob, ch, OP.write, 3, 1, fill(PAGE, 4));
    const snap = h.run(h.m.call('spdk_wasm_bs_create_snapshot', bs, id)).result;
    expect(h.run(h.m.call('spdk_wasm_bs_delete_blob', bs, snap)).rc).toBe(0);
    expect(h.blobInfo(blob, 'parent')).toBe(-1);
    expect(h.blobInfo(blob, 'allocated')).toBe(1);
    expect(same(h.io(blob, ch, OP.read, 3, 1).bytes, fill(PAGE, 4))).toBe(true);
    // but not while someone else has it open
    const s2 = h.run(h.m.call('spdk_wasm_bs_create_snapshot', bs, id)).result;
    const extra = h.open(bs, s2).result;
    expect(h.run(h.m.call('spdk_wasm_bs_delete_blob', bs, s2)).rc).toBe(-10); // EBUSY
    h.ok(h.m.call('spdk_wasm_blob_close', extra), 'close');
  });

  it('a thick blob with a hole (torn resize recovered) reads zeroes instead of dereferencing NULL', async () => {
    const h = await blobHarness('unpatched', 'asan');
    const disk = h.disk(16384);
    const bs = h.init(disk).result;
    const id = h.create(bs, { clusters: 2 }).result;
    const blob = h.open(bs, id).result;
    // Zero the thick blob's extent page entry on disk, as a root that outlived its extent page.
    h.ok(h.m.call('spdk_wasm_blob_close', blob), 'close');
    h.ok(h.m.call('spdk_wasm_bs_unload', bs), 'unload');
    const mdStart = 4, epIdx = 1;
    const ep = h.diskBytes(disk, (mdStart + epIdx) * PAGE, PAGE);
    const dv = new DataView(ep.buffer);
    dv.setUint32(16 + 5 + 4 + 4, 0, true); // cluster_idx[1] = 0
    dv.setUint32(4092, crc32c(ep.subarray(0, 4092)), true);
    h.setDiskBytes(disk, (mdStart + epIdx) * PAGE, ep);
    const l = h.load(disk).result;
    const b2 = h.open(l, id).result;
    expect(h.blobInfo(b2, 'allocated')).toBe(1); // the hole is really there
    expect(h.blobInfo(b2, 'thin')).toBe(0);
    const ch = h.m.call('spdk_wasm_bs_alloc_io_channel', l);
    const r = h.io(b2, ch, OP.read, CL, 1);
    expect(r.rc).toBe(0);
    expect(r.bytes.every((x) => x === 0)).toBe(true);
  });
});
