/** Blobstore model (wasm/lib/blob): on-disk format, basic ops and reload. */
import { describe, expect, it } from 'vitest';
import { BLOB, blobHarness, same, crc32c, fill, OP, PAGE } from './bs-harness.js';
import { crc32c as tableCrc32c } from './bs-decode.js';

const MiB = 1 << 20;

describe('CRC-32C', () => {
  it('check value of "123456789" is 0xE3069283 (C and the TypeScript decoder)', async () => {
    const h = await blobHarness();
    const s = new TextEncoder().encode('123456789');
    const p = h.m.call('spdk_wasm_malloc', 16);
    h.m.mem.bytes().set(s, p);
    expect(h.m.call('spdk_wasm_crc32c', p, 9) >>> 0).toBe(0xe3069283);
    expect(crc32c(s)).toBe(0xe3069283);
    expect(tableCrc32c(s)).toBe(0xe3069283);
  });
});

describe('spdk_bs_init layout (spec §1.4 worked example: 64 MiB, 4 KiB blocks, 1 MiB clusters)', () => {
  it('writes the super block with the documented fields and CRC', async () => {
    const h = await blobHarness();
    const disk = h.disk(16384);
    const { rc, result: bs } = h.init(disk, { bstype: 'LVOLSTORE' });
    expect(rc).toBe(0);
    const sb = h.diskBytes(disk, 0, PAGE);
    const dv = new DataView(sb.buffer);
    expect(new TextDecoder().decode(sb.subarray(0, 8))).toBe('SPDKBLOB');
    expect(dv.getUint32(8, true)).toBe(3);
    expect(dv.getUint32(12, true)).toBe(4096);
    expect(dv.getUint32(16, true)).toBe(0); // clean=0 after init
    expect(dv.getBigUint64(20, true)).toBe(0xffffffffffffffffn);
    expect(dv.getUint32(28, true)).toBe(MiB);
    expect([dv.getUint32(32, true), dv.getUint32(36, true)]).toEqual([1, 1]);
    expect([dv.getUint32(40, true), dv.getUint32(44, true)]).toEqual([2, 1]);
    expect([dv.getUint32(48, true), dv.getUint32(52, true)]).toEqual([4, 64]);
    expect(new TextDecoder().decode(sb.subarray(56, 65))).toBe('LVOLSTORE');
    expect(sb[65]).toBe(0);
    expect([dv.getUint32(72, true), dv.getUint32(76, true)]).toEqual([3, 1]);
    expect(dv.getBigUint64(80, true)).toBe(64n * BigInt(MiB));
    expect(dv.getUint32(88, true)).toBe(4096);
    expect(dv.getUint32(4092, true)).toBe(crc32c(sb.subarray(0, 4092)));
    expect(h.bsInfo(bs, 'totalClusters')).toBe(64);
    expect(h.bsInfo(bs, 'dataClusters')).toBe(63);
    expect(h.bsInfo(bs, 'freeClusters')).toBe(63);
  });

  it('unload writes the three masks and clean=1; load reads them back', async () => {
    const h = await blobHarness();
    const disk = h.disk(16384);
    const bs = h.init(disk).result;
    const id = h.create(bs, { clusters: 3 }).result;
    expect(id).toBe(0);
    h.ok(h.m.call('spdk_wasm_bs_unload', bs), 'unload');
    const sb = new DataView(h.diskBytes(disk, 0, PAGE).buffer);
    expect(sb.getUint32(16, true)).toBe(1);
    const mask = (page: number) => h.diskBytes(disk, page * PAGE, PAGE);
    const pm = mask(1), cm = mask(2), bm = mask(3);
    // md page 0 = the blob root, page 1 = its extent page
    expect([pm[0], new DataView(pm.buffer).getUint32(1, true), pm[5]]).toEqual([0, 64, 0b11]);
    // cluster 0 (metadata) + the thick blob's three clusters 1..3
    expect([cm[0], new DataView(cm.buffer).getUint32(1, true), cm[5]]).toEqual([1, 64, 0b1111]);
    expect([bm[0], new DataView(bm.buffer).getUint32(1, true), bm[5]]).toEqual([2, 64, 0b1]);
    const l = h.load(disk);
    expect(l.rc).toBe(0);
    expect(h.bsInfo(l.result, 'clean')).toBe(1);
    expect(h.bsInfo(l.result, 'freeClusters')).toBe(60);
  });
});

describe('metadata page layout (spec §1.5)', () => {
  it('a thick blob with an xattr: FLAGS, XATTR, EXTENT_TABLE in the root page; an extent page', async () => {
    const h = await blobHarness();
    const disk = h.disk(16384);
    const bs = h.init(disk).result;
    const id = h.create(bs, { clusters: 2, xattr: ['name', new TextEncoder().encode('vol')] }).result;
    const root = h.diskBytes(disk, (4 + id) * PAGE, PAGE);
    const dv = new DataView(root.buffer);
    expect(dv.getBigUint64(0, true)).toBe((1n << 32n) | BigInt(id));
    expect(dv.getUint32(8, true)).toBe(0);
    expect(dv.getUint32(4088, true)).toBe(0xffffffff);
    expect(dv.getUint32(4092, true)).toBe(crc32c(root.subarray(0, 4092)));
    let off = 16;
    // FLAGS: invalid_flags = EXTENT_TABLE (4), not thin
    expect([root[off], dv.getUint32(off + 1, true)]).toEqual([3, 24]);
    expect(dv.getBigUint64(off + 5, true)).toBe(4n);
    off += 29;
    expect([root[off], dv.getUint32(off + 1, true), dv.getUint16(off + 5, true), dv.getUint16(off + 7, true)]).toEqual([2, 4 + 4 + 3, 4, 3]);
    expect(new TextDecoder().decode(root.subarray(off + 9, off + 16))).toBe('namevol');
    off += 16;
    expect([root[off], dv.getUint32(off + 1, true)]).toEqual([5, 16]);
    expect(dv.getBigUint64(off + 5, true)).toBe(2n);
    const epIdx = dv.getUint32(off + 13, true);
    expect(dv.getUint32(off + 17, true)).toBe(1);
    const ep = h.diskBytes(disk, (4 + epIdx) * PAGE, PAGE);
    const ev = new DataView(ep.buffer);
    expect([ep[16], ev.getUint32(17, true), ev.getUint32(21, true)]).toEqual([6, 4 + 8, 0]);
    expect([ev.getUint32(25, true), ev.getUint32(29, true)]).toEqual([1, 2]);
    expect(ev.getUint32(4092, true)).toBe(crc32c(ep.subarray(0, 4092)));
  });

  it('without extent table: one EXTENT_RLE descriptor with a run per contiguous range', async () => {
    const h = await blobHarness();
    const disk = h.disk(16384);
    const bs = h.init(disk).result;
    const id = h.create(bs, { clusters: 3, extentTable: false }).result;
    const root = h.diskBytes(disk, (4 + id) * PAGE, PAGE);
    const dv = new DataView(root.buffer);
    const off = 16 + 29;
    expect([root[off], dv.getUint32(off + 1, true), dv.getUint32(off + 5, true), dv.getUint32(off + 9, true)]).toEqual([1, 8, 1, 3]);
  });
});

describe('blob operations', () => {
  it('write/read round trip across clusters, reload keeps data and layout (clean and dirty)', async () => {
    const h = await blobHarness();
    const disk = h.disk(16384);
    let bs = h.init(disk).result;
    const id = h.create(bs, { clusters: 4, thin: true }).result;
    let blob = h.open(bs, id).result;
    const ch = h.m.call('spdk_wasm_bs_alloc_io_channel', bs);
    const data = fill(3 * PAGE, 7);
    expect(h.io(blob, ch, OP.write, 255, 3, data).rc).toBe(0); // crosses cluster 0 -> 1
    expect(h.blobInfo(blob, 'allocated')).toBe(2);
    expect(same(h.io(blob, ch, OP.read, 255, 3).bytes, data)).toBe(true);
    h.ok(h.m.call('spdk_wasm_blob_close', blob), 'close');
    h.m.call('spdk_wasm_bs_free_io_channel', ch);
    // dirty load: no unload, recovery rebuilds the maps
    const l = h.load(disk);
    expect(l.rc).toBe(0);
    bs = l.result;
    expect(h.bsInfo(bs, 'clean')).toBe(0);
    expect(h.bsInfo(bs, 'freeClusters')).toBe(61);
    blob = h.open(bs, id).result;
    const ch2 = h.m.call('spdk_wasm_bs_alloc_io_channel', bs);
    expect(same(h.io(blob, ch2, OP.read, 255, 3).bytes, data)).toBe(true);
    expect(h.blobInfo(blob, 'allocated')).toBe(2);
    expect(h.blobInfo(blob, 'thin')).toBe(1);
  });

  it('resize grows and shrinks; shrink releases clusters at sync; I/O beyond the end is -EINVAL', async () => {
    const h = await blobHarness();
    const disk = h.disk(16384);
    const bs = h.init(disk).result;
    const id = h.create(bs, { clusters: 2 }).result;
    const blob = h.open(bs, id).result;
    const ch = h.m.call('spdk_wasm_bs_alloc_io_channel', bs);
    h.ok(h.m.call('spdk_wasm_blob_resize', blob, 5), 'grow');
    expect(h.blobInfo(blob, 'allocated')).toBe(5);
    expect(h.bsInfo(bs, 'freeClusters')).toBe(58);
    h.ok(h.m.call('spdk_wasm_blob_resize', blob, 1), 'shrink');
    expect(h.bsInfo(bs, 'freeClusters')).toBe(58);
    h.ok(h.m.call('spdk_wasm_blob_sync_md', blob), 'sync');
    expect(h.bsInfo(bs, 'freeClusters')).toBe(62);
    expect(h.io(blob, ch, OP.write, 256, 1, fill(PAGE, 1)).rc).toBe(-28); // EINVAL (wasi 28)
    expect(h.run(h.m.call('spdk_wasm_blob_resize', blob, 1000)).rc).toBeLessThan(0);
  });
});
