/** An lvol store on the AIO-like device over a host block device (spdk_wasm_lvs_init_aio /
 *  spdk_wasm_lvs_load_aio): lvols live on the host bytes, survive unload and load, and on a disk
 *  without fallocate a deleted lvol's clusters keep its bytes (Longhorn's AIO disks). */
import { describe, expect, it } from 'vitest';
import { BlobHarness } from '../blob/bs-harness.js';
import { utMachine } from '../support/ut.js';
import { LvolHarness, type Lvs } from './lvol-harness.js';

const MiB = 1 << 20;

async function aioLvs(fallocate: boolean) {
  const { m, kernel } = await utMachine();
  const disk = kernel.addMemoryDisk('/dev/sdb', 16 * MiB);
  const h = new LvolHarness(new BlobHarness(m));
  const aio = m.api.spdk_wasm_aio_disk_open('/dev/sdb', fallocate ? 1 : 0);
  expect(aio).not.toBe(0);
  const r = h.b.run(m.api.spdk_wasm_lvs_init_aio(aio, 'lvs0', MiB, 0, 0));
  expect(r.rc).toBe(0);
  return { m, h, disk, aio, lvs: r.result as Lvs };
}

describe('lvol store on the AIO-like device', () => {
  it('init, create, write, unload, load: the lvol and its bytes come back', async () => {
    const { m, h, disk, aio, lvs } = await aioLvs(false);
    expect(new TextDecoder().decode(disk.bytes.subarray(0, 8))).toBe('SPDKBLOB');
    expect(h.lvsInfo(lvs, 'clusterSz')).toBe(MiB);
    const { rc, lvol } = h.create(lvs, 'vol', 3 * MiB, true);
    expect(rc).toBe(0);
    h.write(lvs, lvol, 300, new Uint8Array(4096).fill(0x7e));
    expect(h.info(lvol, 'allocated')).toBe(1);
    const uuid = h.uuid(lvol);
    expect(h.rc(m.api.spdk_wasm_lvol_close(lvol))).toBe(0);
    expect(h.unloadLvs(lvs)).toBe(0);

    const r = h.b.run(m.api.spdk_wasm_lvs_load_aio(aio));
    expect(r.rc).toBe(0);
    const back = h.byNames('lvs0', 'vol');
    expect(back).not.toBe(0);
    expect(h.uuid(back)).toBe(uuid);
    expect(h.rc(m.api.spdk_wasm_lvol_open(back))).toBe(0);
    expect(h.info(back, 'allocated')).toBe(1);
    expect(h.read(r.result as Lvs, back, 300, 1)[0]).toBe(0x7e);
  });

  it.each([false, true])('fallocate %s: a deleted thick lvol leaves its bytes only without fallocate', async (fallocate) => {
    const { m, h, disk, lvs } = await aioLvs(fallocate);
    const { lvol } = h.create(lvs, 'old', MiB, false);
    h.write(lvs, lvol, 0, new Uint8Array(MiB).fill(0x5a));
    const phys = m.call('spdk_wasm_blob_cluster', m.api.spdk_wasm_lvol_blob(lvol), 0);
    expect(h.delete(lvol)).toBe(0);
    const freed = disk.bytes.subarray(phys * MiB, (phys + 1) * MiB);
    expect(freed.every((x) => x === (fallocate ? 0 : 0x5a))).toBe(true);
  });

  it('a name too long is refused without touching the device', async () => {
    const { m, kernel } = await utMachine();
    const disk = kernel.addMemoryDisk('/dev/sdb', 4 * MiB);
    const h = new LvolHarness(new BlobHarness(m));
    const aio = m.api.spdk_wasm_aio_disk_open('/dev/sdb', 0);
    expect(h.b.run(m.api.spdk_wasm_lvs_init_aio(aio, 'x'.repeat(300), MiB, 0, 0)).rc).toBe(-28);
    expect(disk.bytes.every((x) => x === 0)).toBe(true);
  });
});
