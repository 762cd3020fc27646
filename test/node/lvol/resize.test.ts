/** spdk_lvol_resize against a snapshot chain. As upstream (spdk_blob_resize): a snapshot is
 *  read-only, so resizing it (the only way to cut into the chain's allocated data) is -EPERM with
 *  nothing changed on the device; a clone may shrink below its parents' allocated data, which stays
 *  with the snapshot untouched; I/O beyond the new size is -EINVAL. */
import { describe, expect, it } from 'vitest';
import { fill, OP, PAGE, same } from '../blob/bs-harness.js';
import { ERR, lvolHarness, type Lvol, type LvolHarness, type Lvs } from './lvol-harness.js';

const MiB = 1 << 20;
const CL = MiB / PAGE;
const BLOCKS = 16384;

/** The blob's cluster map: the physical cluster of each blob cluster (0 = unallocated). */
function clusterMap(h: LvolHarness, lvol: Lvol): number[] {
  const blob = h.m.api.spdk_wasm_lvol_blob(lvol);
  return Array.from({ length: h.info(lvol, 'numClusters') }, (_, i) => h.m.api.spdk_wasm_blob_cluster(blob, i));
}

/** base (4 clusters: 3 written) -> snapshot s1; the head writes one more cluster -> snapshot s2;
 *  a clone of s2. The chain s1 <- s2 <- head holds data in clusters 0..3. */
async function chain() {
  const h = await lvolHarness();
  const disk = h.b.disk(BLOCKS);
  const { lvs } = h.initLvs(disk, 'chain');
  const head = h.create(lvs, 'head', 4 * MiB, true).lvol;
  h.write(lvs, head, 0, fill(3 * CL * PAGE, 1));
  const s1 = h.snapshot(head, 's1').lvol;
  h.write(lvs, head, 3 * CL, fill(CL * PAGE, 2));
  const s2 = h.snapshot(head, 's2').lvol;
  const clone = h.clone(s2, 'clone').lvol;
  const image = () => h.b.diskBytes(disk, 0, BLOCKS * PAGE);
  return { h, disk, lvs, head, s1, s2, clone, image };
}

function readAll(h: LvolHarness, lvs: Lvs, lvol: Lvol): Uint8Array {
  return h.read(lvs, lvol, 0, h.info(lvol, 'numClusters') * CL);
}

describe('resize in a snapshot chain', () => {
  it('a snapshot cannot be resized (-EPERM, read-only): device bytes, cluster maps and counts unchanged', async () => {
    const { h, lvs, s1, s2, clone, image } = await chain();
    const before = image();
    const maps = [s1, s2].map((s) => clusterMap(h, s));
    const free = h.lvsInfo(lvs, 'freeClusters');
    const cloneBytes = readAll(h, lvs, clone);
    for (const s of [s1, s2]) {
      for (const size of [0, MiB, 3 * MiB, 8 * MiB]) {
        expect(h.rc(h.m.api.spdk_wasm_lvol_resize(s, size)), `${h.name(s)} to ${size}`).toBe(ERR.EPERM);
      }
    }
    expect(same(image(), before)).toBe(true);
    expect([s1, s2].map((s) => clusterMap(h, s))).toEqual(maps);
    expect([h.info(s1, 'allocated'), h.info(s2, 'allocated')]).toEqual([3, 1]);
    expect(h.info(s2, 'numClusters')).toBe(4);
    expect(h.lvsInfo(lvs, 'freeClusters')).toBe(free);
    expect(same(readAll(h, lvs, clone), cloneBytes)).toBe(true);
  });

  it('a clone shrinks below its parents\' allocated data: their clusters stay with the snapshots, byte for byte', async () => {
    const { h, disk, lvs, s1, s2, clone } = await chain();
    h.write(lvs, clone, 2 * CL, fill(PAGE, 3)); // the clone's own copy of cluster 2
    const snapMaps = [s1, s2].map((s) => clusterMap(h, s));
    const snapBytes = [s1, s2].map((s) => readAll(h, lvs, s));
    const physical = snapMaps.flat().filter((c) => c !== 0);
    const onDisk = () => physical.map((c) => h.b.diskBytes(disk, c * MiB, MiB));
    const dataBefore = onDisk();
    const free = h.lvsInfo(lvs, 'freeClusters');
    expect(h.rc(h.m.api.spdk_wasm_lvol_resize(clone, MiB))).toBe(0);
    expect(h.info(clone, 'numClusters')).toBe(1);
    expect(h.info(clone, 'allocated')).toBe(0);
    expect(h.lvsInfo(lvs, 'freeClusters')).toBe(free + 1); // only the clone's own cluster went
    expect([s1, s2].map((s) => clusterMap(h, s))).toEqual(snapMaps);
    [s1, s2].forEach((s, i) => expect(same(readAll(h, lvs, s), snapBytes[i]!)).toBe(true));
    onDisk().forEach((b, i) => expect(same(b, dataBefore[i]!)).toBe(true));
    expect(same(h.read(lvs, clone, 0, CL), snapBytes[1]!.subarray(0, MiB))).toBe(true);
  });

  it('I/O beyond the size of a shrunk clone is -EINVAL and changes nothing; grown back, it reads through its parent again', async () => {
    const { h, lvs, s2, clone, image } = await chain();
    expect(h.rc(h.m.api.spdk_wasm_lvol_resize(clone, MiB))).toBe(0);
    const before = image();
    expect(h.io(lvs, clone, OP.write, CL, 1, fill(PAGE, 9)).rc).toBe(ERR.EINVAL);
    expect(h.io(lvs, clone, OP.write, CL - 1, 2, fill(2 * PAGE, 9)).rc).toBe(ERR.EINVAL);
    expect(h.io(lvs, clone, OP.read, CL, 1).rc).toBe(ERR.EINVAL);
    expect(h.io(lvs, clone, OP.writeZeroes, 4 * CL, 1).rc).toBe(ERR.EINVAL);
    expect(same(image(), before)).toBe(true);
    expect(h.info(clone, 'allocated')).toBe(0);
    // upstream semantics: unallocated clusters read from the back device (the snapshot)
    expect(h.rc(h.m.api.spdk_wasm_lvol_resize(clone, 4 * MiB))).toBe(0);
    expect(same(readAll(h, lvs, clone), readAll(h, lvs, s2))).toBe(true);
  });

  it('a closed lvol cannot be resized (-EINVAL); a thick one cannot grow past the free clusters (-ENOSPC): nothing changed', async () => {
    const h = await lvolHarness();
    const disk = h.b.disk(BLOCKS);
    const { lvs } = h.initLvs(disk, 'misc');
    const thick = h.create(lvs, 'thick', 2 * MiB, false).lvol;
    const closed = h.create(lvs, 'closed', 2 * MiB, true).lvol;
    expect(h.rc(h.m.api.spdk_wasm_lvol_close(closed))).toBe(0);
    const before = h.b.diskBytes(disk, 0, BLOCKS * PAGE);
    const free = h.lvsInfo(lvs, 'freeClusters');
    expect(h.rc(h.m.api.spdk_wasm_lvol_resize(closed, MiB))).toBe(ERR.EINVAL);
    expect(h.rc(h.m.api.spdk_wasm_lvol_resize(thick, (free + 3) * MiB))).toBe(ERR.ENOSPC);
    expect(same(h.b.diskBytes(disk, 0, BLOCKS * PAGE), before)).toBe(true);
    expect(h.lvsInfo(lvs, 'freeClusters')).toBe(free);
    expect(h.info(thick, 'numClusters')).toBe(2);
  });
});
