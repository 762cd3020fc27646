/**
 * The sparse-backing-image page's model, fed what the worker sends (kept trace events, the probe's
 * page-cache and cluster-map observations, the snapshot, the verdict): it must agree with the
 * scenario's own counters and evidence, and the probe must not change the run (same trace hash).
 */
import { describe, expect, it } from 'vitest';
import { resolveParams } from '../../../host/scenarios/params.js';
import { sparseBackingImage } from '../../../host/scenarios/sparse-backing-image.js';
import type { TraceEvent } from '../../../host/sim/trace.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';
import { SparseModel } from '../../../host/web/src/replays/sparse-backing-image/model.js';
import { sparseBackingImageProbe } from '../../../host/web/src/replays/sparse-backing-image/probe.js';

async function traced(variant: 'unpatched' | 'patched', raw: Record<string, string | number | boolean> = {}, sliceUs = 50) {
  const params = resolveParams(sparseBackingImage, raw);
  const probe = sparseBackingImageProbe();
  const events: TraceEvent[] = [];
  const session = await sparseBackingImage.start({
    variant, flavor: 'release', seed: 1, params, load: loadVariant,
    onWorld: (w) => {
      probe.attach(w);
      w.trace.subscribe((e) => {
        if (probe.keep(e)) events.push(e);
      });
    },
  });
  // Stepped as the page steps it, so the probe is asked between steps.
  const m = new SparseModel();
  let done = false;
  let liveSeen = 0;
  while (!done) {
    done = session.advance(session.world.now + sliceUs);
    const obs = probe.collect!(session) as { live: { pages: string }[] };
    if (obs.live.some((l) => l.pages.includes('c'))) liveSeen++;
    m.apply(events.splice(0), obs, session.snapshot(), done ? session.result() : undefined);
  }
  const plain = await sparseBackingImage.run({ variant, flavor: 'release', seed: 1, params, load: loadVariant });
  return { r: session.result(), plain, m, liveSeen };
}

describe('sparse-backing-image page model', () => {
  it('unpatched: dirty pages, allocated clusters, stale blocks and checksums as the verdict has them', async () => {
    const { r, plain, m, liveSeen } = await traced('unpatched');
    expect(r.traceHash).toBe(plain.traceHash);
    expect(r.reproduced).toBe(true);
    const c = m.counters();
    expect(m.writtenPages().size).toBe(r.counters['writebackPages']);
    expect(m.writtenPages().size).toBe(r.counters['dataChunks']);
    expect(c['allocated']).toBe(r.counters['allocated./dev/sda']);
    expect(c['clustersTotal']).toBe(r.counters['clustersTotal']);
    expect(c['staleBlocks']).toBe(r.counters['staleBlocks./dev/sda']);
    expect(c['staleBlocks']).toBeGreaterThan(0);
    expect(liveSeen).toBeGreaterThan(0);
    const rows = m.clusterRows(0);
    expect(rows.filter((x) => x.physical !== 0).length).toBe(r.counters['allocated./dev/sda']);
    // Every stale block sits in an allocated cluster whose physical cluster a deleted lvol used.
    expect(rows.filter((x) => x.staleBlocks > 0).every((x) => x.physical !== 0 && x.reused)).toBe(true);
    const sums = Object.fromEntries(m.checksums().map((s) => [s.key, s.equal]));
    expect(sums).toEqual({ image: undefined, 'while-open': true, 'after-close': false, 'after-close-direct': false, snapshot: false });
  });

  it('patched: three checksums equal the image\'s, no stale block, still sparse', async () => {
    const { r, m } = await traced('patched');
    expect(r.reproduced).toBe(false);
    const c = m.counters();
    expect(c['staleBlocks']).toBe(0);
    expect(c['allocated']).toBeLessThan(c['clustersTotal']!);
    expect(c['writeZeroesBytes']).toBeGreaterThan(0);
    const equal = m.checksums().filter((s) => s.equal === true).map((s) => s.key);
    expect(equal).toEqual(['while-open', 'after-close', 'after-close-direct', 'snapshot']);
  });

  it('two replicas: one cluster map per disk, each with its own stale blocks', async () => {
    const { r, m } = await traced('unpatched', { replicas: 2 });
    expect(m.lvstores.length).toBe(2);
    for (const [i, disk] of ['/dev/sda', '/dev/sdb'].entries()) {
      expect(m.clusterRows(i).reduce((s, x) => s + x.staleBlocks, 0)).toBe(r.counters[`staleBlocks.${disk}`]);
    }
  });
});
