/** Bad input: corrupt super blocks and short devices fail load with SPDK's codes and a log
 *  line, never a trap; invalid requests change nothing on the device. */
import { describe, expect, it } from 'vitest';
import { blobHarness, same, crc32c, PAGE } from './bs-harness.js';

const EILSEQ = 25, ENXIO = 60;

async function cleanStore() {
  const h = await blobHarness('unpatched', 'asan');
  const disk = h.disk(16384);
  const bs = h.init(disk, { bstype: 'LVOLSTORE' }).result;
  h.ok(h.m.call('spdk_wasm_bs_unload', bs), 'unload');
  return { h, disk };
}

function patchSuper(h: Awaited<ReturnType<typeof cleanStore>>['h'], disk: number, f: (dv: DataView, b: Uint8Array) => void, fixCrc: boolean) {
  const sb = h.diskBytes(disk, 0, PAGE);
  const dv = new DataView(sb.buffer);
  f(dv, sb);
  if (fixCrc) dv.setUint32(4092, crc32c(sb.subarray(0, 4092)), true);
  h.setDiskBytes(disk, 0, sb);
}

describe('spdk_bs_load rejects a corrupt super block (asan variant)', () => {
  const cases: [string, (dv: DataView, b: Uint8Array) => void, boolean, number, RegExp][] = [
    ['signature', (_dv, b) => { b[0] = 0x58; }, true, EILSEQ, /signature/],
    ['crc', (dv) => { dv.setUint32(28, 2 << 20, true); }, false, EILSEQ, /crc/],
    ['version 4', (dv) => { dv.setUint32(8, 4, true); }, true, EILSEQ, /version 4/],
    ['version 0', (dv) => { dv.setUint32(8, 0, true); }, true, EILSEQ, /version 0/],
    ['size beyond the device', (dv) => { dv.setBigUint64(80, 1n << 40n, true); }, true, EILSEQ, /exceeds the device size/],
  ];
  for (const [what, f, fixCrc, code, msg] of cases) {
    it(what, async () => {
      const { h, disk } = await cleanStore();
      patchSuper(h, disk, f, fixCrc);
      const before = h.diskBytes(disk, 0, 8 * PAGE);
      const r = h.load(disk);
      expect(r.rc).toBe(-code);
      expect(h.m.logLines.some((l) => msg.test(l))).toBe(true);
      expect(same(h.diskBytes(disk, 0, 8 * PAGE), before)).toBe(true);
      expect(h.m.crash).toBeUndefined();
    });
  }

  it('bstype mismatch is -ENXIO; the wildcard loads', async () => {
    const { h, disk } = await cleanStore();
    expect(h.load(disk, 'OTHER').rc).toBe(-ENXIO);
    expect(h.m.logLines.some((l) => /unexpected bstype/.test(l))).toBe(true);
    const r = h.load(disk);
    expect(r.rc).toBe(0);
  });

  it('a device shorter than the stored size fails with -EILSEQ', async () => {
    const { h, disk } = await cleanStore();
    const r = h.run(h.m.call('spdk_wasm_bs_load_truncated', disk, 8192));
    expect(r.rc).toBe(-EILSEQ);
    expect(h.m.logLines.some((l) => /exceeds the device size/.test(l))).toBe(true);
  });
});

describe('invalid requests change nothing', () => {
  it('I/O beyond the blob, writes to a snapshot, xattr too large', async () => {
    const h = await blobHarness('unpatched', 'asan');
    const disk = h.disk(16384);
    const bs = h.init(disk).result;
    const id = h.create(bs, { clusters: 1, thin: true }).result;
    const blob = h.open(bs, id).result;
    const ch = h.m.call('spdk_wasm_bs_alloc_io_channel', bs);
    const before = h.diskBytes(disk, 0, 4 << 20);
    expect(h.io(blob, ch, 0, 256, 1, new Uint8Array(PAGE).fill(1)).rc).toBe(-28);
    expect(h.io(blob, ch, 1, 200, 100).rc).toBe(-28);
    const name = h.m.cstr('big');
    const val = h.m.call('spdk_wasm_malloc', 5000);
    expect(h.m.call('spdk_wasm_blob_set_xattr', blob, name, val, 5000, 0) | 0).toBeLessThan(0);
    expect(same(h.diskBytes(disk, 0, 4 << 20), before)).toBe(true);
    expect(h.blobInfo(blob, 'allocated')).toBe(0);
  });
});
