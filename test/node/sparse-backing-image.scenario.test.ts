/** Replay of seed 003 (longhorn#9876, root cause #10135) over many seeds, both variants, the
 *  controls where the precondition is absent, the RAID1 corollary, and determinism. The verdict
 *  comes from checksums of bytes read through the host block layer and from the snapshot; the
 *  checksum xattr the engine set on the snapshot at its creation is read back beside them. */
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../host/scenarios/contract.js';
import { resolveParams } from '../../host/scenarios/params.js';
import { sparseBackingImage } from '../../host/scenarios/sparse-backing-image.js';
import { findScenario } from '../../host/scenarios/index.js';
import { expectDeterministic, scenarioRunner } from './support/scenario.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const run = scenarioRunner(sparseBackingImage);

interface Snap {
  disk: string;
  sha512: string;
  /** longhorn_backing_image_checksum, read back from the snapshot lvol. */
  checksumXattr: string;
  creationTime: string;
  numAllocatedClusters: number;
  ranges: { cluster: number; physicalCluster: number; count: number; kind: string }[];
}

const ev = (r: RunResult) => r.evidence as { imageSha512: string; checksumWhileOpen: string; checksumAfterClose: string; checksumAfterCloseDirect: string; snapshots: Snap[]; lines: string[] };

describe('sparse-backing-image (seed 003)', () => {
  it('is registered', () => {
    expect(findScenario('sparse-backing-image')).toBe(sparseBackingImage);
  });

  it.each(SEEDS)('unpatched seed %i: right while open, wrong after close and in the snapshot, stale bytes named', async (seed) => {
    const r = await run('unpatched', seed);
    const e = ev(r);
    expect(r.oracle).toBe('safety');
    expect(r.reproduced).toBe(true);
    expect(e.checksumWhileOpen).toBe(e.imageSha512);
    expect(e.checksumAfterClose).not.toBe(e.imageSha512);
    expect(e.checksumAfterCloseDirect).toBe(e.checksumAfterClose);
    const snap = e.snapshots[0]!;
    expect(snap.sha512).toBe(e.checksumAfterClose);
    // Sparse: only clusters with data were allocated, fewer than the total.
    expect(snap.numAllocatedClusters).toBe(r.counters['clustersWithData']);
    expect(snap.numAllocatedClusters).toBeLessThan(r.counters['clustersTotal']!);
    // Every wrong block is a skipped zero block holding the deleted lvol's bytes.
    expect(snap.ranges.length).toBeGreaterThan(0);
    expect(snap.ranges.every((x) => x.kind === 'stale' && x.physicalCluster > 0)).toBe(true);
    expect(r.counters['staleBlocks./dev/sda']).toBe(r.counters['mismatchedBlocks./dev/sda']);
    expect(e.lines.some((l) => /snapshot lvol cluster \d+ \(physical cluster \d+\): blocks .* hold stale bytes of the deleted lvol/.test(l))).toBe(true);
    expect(e.lines.some((l) => /^sha512 snapshot lvol \/dev\/sda .* num_allocated_clusters \d+ of \d+$/.test(l))).toBe(true);
    // The engine stored the pre-close checksum on the snapshot as it was created; its bytes differ.
    expect(snap.checksumXattr).toBe(e.checksumWhileOpen);
    expect(snap.checksumXattr).not.toBe(snap.sha512);
    expect(snap.creationTime).toMatch(RFC3339);
    expect(r.counters['checksumXattrMatchesBytes./dev/sda']).toBe(0);
    expect(e.lines.some((l) => /^xattr longhorn_backing_image_checksum of snapshot lvol \/dev\/sda: [0-9a-f]{16}… DIFFERS from its sha512 \(set at its creation, creation_time /.test(l))).toBe(true);
    // The page cache hid it: dirty pages went back at the last close, then the cache was dropped.
    expect(r.counters['writebackPages']).toBe(r.counters['chunksWritten']);
    expect(r.counters['droppedPages']).toBeGreaterThan(0);
    expect(r.counters['blockIoErrors']).toBe(0);
  });

  it.each(SEEDS)('patched seed %i: the three checksums equal the image, with the same sparse allocation', async (seed) => {
    const r = await run('patched', seed);
    const e = ev(r);
    expect(r.reproduced).toBe(false);
    expect(e.checksumWhileOpen).toBe(e.imageSha512);
    expect(e.checksumAfterClose).toBe(e.imageSha512);
    expect(e.snapshots[0]!.sha512).toBe(e.imageSha512);
    expect(e.snapshots[0]!.checksumXattr).toBe(e.snapshots[0]!.sha512);
    expect(r.counters['checksumXattrMatchesBytes./dev/sda']).toBe(1);
    expect(e.lines.some((l) => /^xattr longhorn_backing_image_checksum of snapshot lvol \/dev\/sda: [0-9a-f]{16}… equals its sha512/.test(l))).toBe(true);
    expect(e.snapshots[0]!.numAllocatedClusters).toBe(r.counters['clustersWithData']);
    expect(e.snapshots[0]!.numAllocatedClusters).toBeLessThan(r.counters['clustersTotal']!);
    // The fix's write_zeroes ran (emulated on a disk without fallocate), one cluster per allocation.
    expect(r.counters['diskWriteZeroesBytes./dev/sda']).toBeGreaterThanOrEqual(r.counters['clustersWithData']! * (1 << 20));
    // The precondition was present: unmap did nothing when the old lvol was deleted.
    expect(r.counters['unmapIgnoredBytes./dev/sda']).toBeGreaterThan(0);
  });

  it.each(['unpatched', 'patched'] as const)('control writeZero on (%s): correct, not sparse', async (variant) => {
    for (const seed of [1, 2, 3]) {
      const r = await run(variant, seed, { 'write-zero': 'true' });
      const e = ev(r);
      expect(r.reproduced).toBe(false);
      expect(r.counters['chunksSkipped']).toBe(0);
      expect(e.snapshots[0]!.numAllocatedClusters).toBe(r.counters['clustersTotal']);
    }
  });

  it.each(['unpatched', 'patched'] as const)('control: a disk that zeroes on unmap is clean (%s)', async (variant) => {
    for (const seed of [1, 2, 3]) {
      const r = await run(variant, seed, { unmap: 'true' });
      expect(r.reproduced).toBe(false);
      expect(r.counters['unmapBytes./dev/sda']).toBeGreaterThan(0);
      expect(r.counters['unmapIgnoredBytes./dev/sda']).toBe(0);
      expect(ev(r).snapshots[0]!.numAllocatedClusters).toBe(r.counters['clustersWithData']);
    }
  });

  it('RAID1 corollary (#10135): replicas on disks with different stale bytes differ unpatched, match patched', async () => {
    for (const seed of [4, 5]) {
      const u = await run('unpatched', seed, { replicas: '2' });
      const p = await run('patched', seed, { replicas: '2' });
      expect(u.reproduced).toBe(true);
      expect(u.counters['replicasDiffer']).toBe(1);
      expect(new Set(ev(u).snapshots.map((s) => s.sha512)).size).toBe(2);
      expect(ev(u).snapshots.map((s) => s.checksumXattr)).toEqual([ev(u).imageSha512, ev(u).imageSha512]);
      expect(p.reproduced).toBe(false);
      expect(p.counters['replicasDiffer']).toBe(0);
      expect(ev(p).snapshots.map((s) => s.sha512)).toEqual([ev(p).imageSha512, ev(p).imageSha512]);
      expect(ev(p).snapshots.map((s) => s.checksumXattr)).toEqual([ev(p).imageSha512, ev(p).imageSha512]);
    }
  });

  it('bad parameters are refused with the parameter named', () => {
    expect(() => resolveParams(sparseBackingImage, { 'image-mib': '64' })).toThrow(/--image-mib/);
    expect(() => resolveParams(sparseBackingImage, { replicas: '3' })).toThrow(/--replicas/);
  });
});

describe('determinism', () => {
  it('the same seed gives the same trace hash and checksums; different seeds differ', async () => {
    const { a, b } = await expectDeterministic(run, 7);
    expect(ev(a).checksumAfterClose).toBe(ev(b).checksumAfterClose);
  });
});
