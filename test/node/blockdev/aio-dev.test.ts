/** The AIO-like bs_dev (wasm/module/blob/aio) against the scripted kernel's block layer: the real C
 *  blobstore on host storage reached through host_blk_* rings, with and without unmap support. */
import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import type { Ptr } from '../../../host/gen/spdk-api.js';
import { BlobHarness } from '../blob/bs-harness.js';
import { utMachine } from '../support/ut.js';

const MiB = 1 << 20;
const CL = MiB / 4096;

async function aioStore(fallocate: boolean, variant: 'unpatched' | 'patched' = 'unpatched') {
  const { m, kernel } = await utMachine(variant);
  const disk = kernel.addMemoryDisk('/dev/sda', 16 * MiB);
  const h = new BlobHarness(m);
  const aio = m.api.spdk_wasm_aio_disk_open('/dev/sda', fallocate ? 1 : 0);
  expect(aio).not.toBe(0);
  const bs = h.run(m.api.spdk_wasm_aio_bs_init(aio, MiB, 0, 0, 'LVOLSTORE'));
  expect(bs.rc).toBe(0);
  const ch = m.api.spdk_wasm_bs_alloc_io_channel(bs.result as Ptr<'spdk_blob_store'>);
  return { m, kernel, disk, h, aio, bs: bs.result, ch };
}

describe('AIO-like bs_dev over host_blk rings', () => {
  it('opens the path O_RDWR|O_DIRECT, reports the geometry, and fails cleanly on a missing path', async () => {
    const { m, kernel, aio } = await aioStore(false);
    const open = kernel.calls.find((c) => c.fn === 'blkOpen')!;
    expect(open.flags! & abi.O_DIRECT).toBe(abi.O_DIRECT);
    expect(open.flags! & abi.O_ACCMODE).toBe(abi.O_RDWR);
    expect(m.api.spdk_wasm_aio_disk_counter(aio, 7)).toBe(16 * MiB);
    expect(m.api.spdk_wasm_aio_disk_counter(aio, 8)).toBe(4096);
    expect(m.api.spdk_wasm_aio_disk_open('/dev/missing', 0)).toBe(0);
    expect(m.logLines.some((l) => l.includes('/dev/missing'))).toBe(true);
  });

  it('blob writes land on the host device; the super block carries the signature', async () => {
    const { h, disk, bs, ch } = await aioStore(false);
    expect(new TextDecoder().decode(disk.bytes.subarray(0, 8))).toBe('SPDKBLOB');
    const id = h.create(bs, { clusters: 2, thin: true }).result;
    const blob = h.open(bs, id).result;
    const data = new Uint8Array(4096).fill(0xc3);
    expect(h.io(blob, ch, 0, 3, 1, data).rc).toBe(0);
    const phys = h.m.call('spdk_wasm_blob_cluster', blob, 0);
    expect(disk.bytes[phys * MiB + 3 * 4096]).toBe(0xc3);
    expect(h.io(blob, ch, 1, 3, 1).bytes[0]).toBe(0xc3);
  });

  it.each([
    ['fallocate off (Longhorn AIO disk): unmap is ignored, freed clusters keep old bytes', false],
    ['fallocate on: unmap reaches the host and the freed cluster reads zero', true],
  ])('delete, %s', async (_what, fallocate) => {
    const { m, h, disk, bs, ch, aio } = await aioStore(fallocate);
    const id = h.create(bs, { clusters: 1, thin: false }).result;
    const blob = h.open(bs, id).result;
    expect(h.io(blob, ch, 0, 0, CL, new Uint8Array(MiB).fill(0x5e)).rc).toBe(0);
    const phys = h.m.call('spdk_wasm_blob_cluster', blob, 0);
    expect(h.run(h.m.call('spdk_wasm_blob_close', blob)).rc).toBe(0);
    expect(h.run(h.m.call('spdk_wasm_bs_delete_blob', bs, id)).rc).toBe(0);
    const freed = disk.bytes.subarray(phys * MiB, (phys + 1) * MiB);
    if (fallocate) {
      expect(freed.every((b) => b === 0)).toBe(true);
      expect(m.api.spdk_wasm_aio_disk_counter(aio, 3)).toBeGreaterThanOrEqual(MiB);
      expect(disk.counters.discards).toBeGreaterThan(0);
    } else {
      expect(freed.every((b) => b === 0x5e)).toBe(true);
      expect(m.api.spdk_wasm_aio_disk_counter(aio, 4)).toBeGreaterThanOrEqual(MiB);
      expect(disk.counters.discards).toBe(0);
    }
  });

  it('patched: write_zeroes of a new cluster is emulated with zero writes when fallocate is off', async () => {
    const { m, h, disk, bs, ch, aio } = await aioStore(false, 'patched');
    disk.bytes.fill(0xee, 2 * MiB, 16 * MiB); // stale bytes in free clusters
    const blob = h.open(bs, h.create(bs, { clusters: 2, thin: true }).result).result;
    const zeroesBefore = m.api.spdk_wasm_aio_disk_counter(aio, 2); // bs_init zeroed the md area
    expect(h.io(blob, ch, 0, 0, 1, new Uint8Array(4096).fill(1)).rc).toBe(0);
    expect(m.api.spdk_wasm_aio_disk_counter(aio, 2) - zeroesBefore).toBe(MiB);
    expect(disk.counters.writeZeroes).toBe(0); // no native command reached the host
    const r = h.io(blob, ch, 1, 0, CL).bytes;
    expect(r[0]).toBe(1);
    expect(r.subarray(4096).every((b) => b === 0)).toBe(true);
  });

  it('a failed host submission completes the blob op with that errno (MOCK_ENQUEUE)', async () => {
    const { h, kernel, bs, ch } = await aioStore(false);
    const blob = h.open(bs, h.create(bs, { clusters: 1, thin: false }).result).result;
    kernel.enqueue('blkSubmit', -abi.EIO);
    expect(h.io(blob, ch, 0, 0, 1, new Uint8Array(4096)).rc).toBe(-abi.EIO);
    expect(h.io(blob, ch, 0, 0, 1, new Uint8Array(4096)).rc).toBe(0);
  });

  it('a full ring queues submissions and retries them in order (-EAGAIN is not an error)', async () => {
    const { m, h, kernel, bs, ch, aio } = await aioStore(false);
    const blob = h.open(bs, h.create(bs, { clusters: 1, thin: false }).result).result;
    kernel.enqueue('blkSubmit', -abi.EAGAIN, -abi.EAGAIN);
    expect(h.io(blob, ch, 0, 0, 1, new Uint8Array(4096).fill(9)).rc).toBe(0);
    expect(m.api.spdk_wasm_aio_disk_counter(aio, 9)).toBe(1);
    expect(m.api.spdk_wasm_aio_disk_counter(aio, 6)).toBe(0);
    expect(h.io(blob, ch, 1, 0, 1).bytes[0]).toBe(9);
  });
});
