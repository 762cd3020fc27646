/**
 * Blobstore/lvol figures for `npm run bench` (merged into its JSON under "blob"), issue 4 item 8:
 * thin-lvol 4 KiB random write and read IOPS per wall second on the in-memory device (release,
 * unpatched and patched: the patched variant zeroes every newly allocated cluster), and the time
 * to load a store holding 10,000 blobs, clean (masks) and dirty (recovery scan).
 */
import { performance } from 'node:perf_hooks';
import { World } from '../host/sim/world.js';
import { SpdkMachine } from '../host/spdk/machine.js';
import { loadVariant } from '../host/spdk/node-loader.js';
import { Kernel } from '../host/kernel/kernel.js';
import { Fabric } from '../host/net/fabric.js';
import type { Variant } from '../host/spdk/variant.js';

const PAGE = 4096;
const MiB = 1 << 20;
const round = (x: number): number => Math.round(x * 100) / 100;

async function machine(variant: Variant): Promise<SpdkMachine> {
  const world = new World(1);
  const fabric = new Fabric(world);
  return SpdkMachine.create({ world, name: 'bench', variant: await loadVariant(variant, 'release'), kernel: (mem) => new Kernel(world, 'bench', mem, fabric) });
}

/** Waits for every op handle; returns their results (throws on a failed op). */
function waitAll(m: SpdkMachine, ops: number[], what: string): number[] {
  const out = new Array<number>(ops.length);
  let left = ops.length;
  const done = new Array<boolean>(ops.length).fill(false);
  for (let spins = 0; left > 0; spins++) {
    if (spins > 50_000_000) throw new Error(`${what}: ops did not complete`);
    for (let i = 0; i < ops.length; i++) {
      if (done[i] || m.api.spdk_wasm_blob_op_done(ops[i] as never) === 0) continue;
      const rc = m.api.spdk_wasm_blob_op_rc(ops[i] as never);
      out[i] = m.api.spdk_wasm_blob_op_result(ops[i] as never);
      m.api.spdk_wasm_blob_op_free(ops[i] as never);
      if (rc !== 0) throw new Error(`${what}: rc ${rc}`);
      done[i] = true;
      left--;
    }
    if (left > 0) m.pollOnce();
  }
  return out;
}

const run = (m: SpdkMachine, op: number, what: string): number => waitAll(m, [op], what)[0]!;

/** 4 KiB random I/O on a 256 MiB thin lvol (1 MiB clusters), queue depth 32. */
async function thinLvolIops(variant: Variant): Promise<Record<string, number>> {
  const m = await machine(variant);
  m.api.spdk_wasm_uuid_set_seed(0, 1);
  const disk = m.api.spdk_wasm_mem_disk_create((512 * MiB) / PAGE, PAGE, 1);
  const lvs = run(m, m.api.spdk_wasm_lvs_init(disk, 'bench', MiB, 0, 0), 'lvs_init');
  const lvol = run(m, m.api.spdk_wasm_lvol_create(lvs as never, 'thin', 256 * MiB, 1, 0), 'lvol_create');
  const blob = m.api.spdk_wasm_lvol_blob(lvol as never);
  const ch = m.api.spdk_wasm_bs_alloc_io_channel(m.api.spdk_wasm_lvs_blobstore(lvs as never));
  const blocks = (256 * MiB) / PAGE;
  const qd = 32, n = 32_768;
  const bufs = Array.from({ length: qd }, (_, i) => {
    const b = m.api.spdk_wasm_malloc(PAGE);
    m.mem.bytes().fill(i + 1, b, b + PAGE);
    return b;
  });
  let x = 0x2545f491;
  const rnd = () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) % blocks;
  };
  const pass = (type: number): number => {
    const t0 = performance.now();
    for (let done = 0; done < n; done += qd) {
      const ops = bufs.map((b) => m.api.spdk_wasm_blob_io(blob, ch, type, b, rnd(), 1));
      waitAll(m, ops, type === 0 ? 'write' : 'read');
    }
    return n / ((performance.now() - t0) / 1000);
  };
  const writeIops = pass(0);
  const allocated = m.api.spdk_wasm_lvol_info(lvol as never, 1);
  const overwriteIops = pass(0);
  const readIops = pass(1);
  return {
    ios: n,
    queueDepth: qd,
    randomWriteIops: Math.round(writeIops),
    clustersAllocatedByFirstPass: allocated,
    randomOverwriteIops: Math.round(overwriteIops),
    randomReadIops: Math.round(readIops),
  };
}

/** A blobstore with 10,000 thin blobs: clean load (masks) and dirty load (recovery) times. */
async function load10k(): Promise<Record<string, number>> {
  const m = await machine('unpatched');
  const count = 10_000;
  const disk = m.api.spdk_wasm_mem_disk_create((64 * MiB) / PAGE, PAGE, 1);
  const bs = run(m, m.api.spdk_wasm_bs_init(disk, MiB, count + 16, 0, ''), 'bs_init');
  const t0 = performance.now();
  for (let i = 0; i < count; i += 100) {
    const ops = Array.from({ length: Math.min(100, count - i) }, () => m.api.spdk_wasm_bs_create_blob(bs as never, 1, 1, 1, 0, 0, 0, 0));
    waitAll(m, ops, 'create');
  }
  const createMs = performance.now() - t0;
  const image = m.mem.bytes().slice(m.api.spdk_wasm_mem_disk_buffer(disk), m.api.spdk_wasm_mem_disk_buffer(disk) + 64 * MiB);
  run(m, m.api.spdk_wasm_bs_unload(bs as never), 'unload');
  const t1 = performance.now();
  const clean = run(m, m.api.spdk_wasm_bs_load(disk, ''), 'clean load');
  const cleanMs = performance.now() - t1;
  const blobs = m.api.spdk_wasm_bs_info(clean as never, 11);
  run(m, m.api.spdk_wasm_bs_unload(clean as never), 'unload');
  // The image before the unload: super block still dirty, so the load scans every md page.
  const dirtyDisk = m.api.spdk_wasm_mem_disk_create((64 * MiB) / PAGE, PAGE, 1);
  m.mem.bytes().set(image, m.api.spdk_wasm_mem_disk_buffer(dirtyDisk));
  const t2 = performance.now();
  const dirty = run(m, m.api.spdk_wasm_bs_load(dirtyDisk, ''), 'dirty load');
  const dirtyMs = performance.now() - t2;
  if (m.api.spdk_wasm_bs_info(dirty as never, 11) !== blobs) throw new Error('dirty load found a different number of blobs');
  return { blobs, createMs: round(createMs), cleanLoadMs: round(cleanMs), dirtyLoadMs: round(dirtyMs) };
}

export async function blobFigures(progress: (s: string) => void): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const variant of ['unpatched', 'patched'] as const) {
    progress(`thin lvol 4 KiB random I/O (${variant})`);
    out[`thinLvol4k.${variant}`] = await thinLvolIops(variant);
  }
  progress('load of a store holding 10,000 blobs');
  out['load10kBlobs'] = await load10k();
  return out;
}
