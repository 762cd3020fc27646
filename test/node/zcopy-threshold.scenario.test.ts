/** Replay of seed 000 (spdk#3610) over many seeds, both variants; the verdict comes from bytes. */
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../host/scenarios/contract.js';
import { resolveParams } from '../../host/scenarios/params.js';
import { zcopyThreshold } from '../../host/scenarios/zcopy-threshold.js';
import { loadVariant } from '../../host/spdk/node-loader.js';
import type { Variant } from '../../host/spdk/variant.js';
import { expectDeterministic, scenarioRunner } from './support/scenario.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

const run = scenarioRunner(zcopyThreshold);

interface Mismatch {
  write: number;
  ranges: { start: number; end: number; inZeroCopyChunk: boolean; chunks: { zc: boolean }[] }[];
}

describe('zcopy-threshold (seed 000)', () => {
  it.each(SEEDS)('unpatched seed %i: corruption lies exactly in zero-copy chunks', async (seed) => {
    const r = await run('unpatched', seed);
    expect(r.oracle).toBe('safety');
    expect(r.reproduced).toBe(true);
    const mismatches = r.evidence['mismatches'] as Mismatch[];
    expect(mismatches.length).toBeGreaterThan(0);
    for (const w of mismatches) {
      for (const range of w.ranges) {
        expect(range.inZeroCopyChunk).toBe(true);
        expect(range.chunks.every((c) => c.zc)).toBe(true);
      }
    }
    expect(r.counters['prematureCompletions']).toBeGreaterThan(0);
    expect(r.counters['sendmsgCopy']).toBeGreaterThan(0);
  });

  it.each(SEEDS)('patched seed %i: every byte verified, completions only after notifications', async (seed) => {
    const r = await run('patched', seed);
    expect(r.reproduced).toBe(false);
    expect(r.counters['mismatchedWrites']).toBe(0);
    expect(r.counters['prematureCompletions']).toBe(0);
    expect(r.counters['writesCompleted']).toBe(16);
    // The precondition was present: both kinds of sendmsg happened.
    expect(r.counters['sendmsgZeroCopy']).toBeGreaterThan(0);
    expect(r.counters['sendmsgCopy']).toBeGreaterThan(0);
  });

  it.each([
    ['threshold 0 (every send zero copy)', { threshold: '0' }],
    ['threshold above the write size (every send a copy)', { threshold: '262144' }],
    ['zero copy off', { zcopy: 'false' }],
  ])('unpatched is clean when the precondition is absent: %s', async (_name, raw) => {
    for (const seed of [1, 2, 3]) {
      const r = await run('unpatched', seed, raw);
      expect(r.reproduced).toBe(false);
      expect(r.counters['mismatchedWrites']).toBe(0);
    }
  });

  it('lossy link: retransmissions re-read poisoned memory unpatched, stay clean patched', async () => {
    const u = await run('unpatched', 7, { 'loss-ppm': '20000' });
    const p = await run('patched', 7, { 'loss-ppm': '20000' });
    expect(u.reproduced).toBe(true);
    expect(p.reproduced).toBe(false);
    expect(p.counters['retransmits'] ?? 0).toBeGreaterThan(0);
  });
});

describe('determinism', () => {
  it('the same seed gives the same trace hash; different seeds differ', async () => {
    await expectDeterministic(run, 5);
  });
});

describe('asan variant', () => {
  it.each(['unpatched', 'patched'] as const)('%s runs the scenario with no AddressSanitizer report', async (variant) => {
    const r = await run(variant, 3, { 'io-count': '8' }, 'asan');
    expect(r.oracle).not.toBe('crash');
    expect(r.reproduced).toBe(variant === 'unpatched');
  });
});

describe('sessions (how the demos step a replay)', () => {
  it('advancing in 100 µs slices reaches the same verdict and trace hash as one run', async () => {
    const opts = { variant: 'unpatched' as const, flavor: 'release' as const, seed: 9, params: resolveParams(zcopyThreshold, {}), load: loadVariant };
    const whole = await zcopyThreshold.run(opts);
    const s = await zcopyThreshold.start(opts);
    let steps = 0;
    while (!s.advance(s.world.now + 100)) steps++;
    const stepped = s.result();
    expect(steps).toBeGreaterThan(5);
    expect(stepped.traceHash).toBe(whole.traceHash);
    expect(stepped.reproduced).toBe(true);
    const snap = s.snapshot() as { writes: { mismatches: unknown[] }[] };
    expect(snap.writes.some((w) => w.mismatches.length > 0)).toBe(true);
  });
});

describe('zcopy-threshold --mode nvme-tcp (seed 000 through the real NVMe/TCP target)', () => {
  const nvme = (variant: Variant, seed: number, raw: Record<string, string> = {}): Promise<RunResult> =>
    run(variant, seed, { mode: 'nvme-tcp', ...raw });

  it.each(SEEDS)('unpatched seed %i: bdevperf verify reads poison the target released too early', async (seed) => {
    const r = await nvme('unpatched', seed);
    expect(r.oracle).toBe('safety');
    expect(r.reproduced).toBe(true);
    expect(r.counters['miscompares']).toBeGreaterThan(0);
    expect(r.counters['poisonWords']).toBeGreaterThan(0);
    expect(r.counters['prematureC2hCompletions']).toBeGreaterThan(0);
    expect(r.counters['targetSendmsgZeroCopy']).toBeGreaterThan(0);
    expect(r.counters['targetSendmsgCopy']).toBeGreaterThan(0);
    const m = (r.evidence['miscompares'] as { firstByte: number; lastByte: number; poisonWords: number }[])[0]!;
    // The damage ends where the MSG_ZEROCOPY chunk of the C2HData PDU ends (sndbuf 126976 minus the
    // 24-byte PDU header): the copied tail is intact.
    expect(m.lastByte).toBe(126976 - 24 - 1);
    expect(m.poisonWords).toBeGreaterThan(0);
  });

  it.each(SEEDS)('patched seed %i: every read verifies, no C2H completion before its notification', async (seed) => {
    const r = await nvme('patched', seed);
    expect(r.reproduced).toBe(false);
    expect(r.counters['miscompares']).toBe(0);
    expect(r.counters['verified']).toBe(16);
    expect(r.counters['prematureC2hCompletions']).toBe(0);
    expect(r.counters['targetSendmsgZeroCopy']).toBeGreaterThan(0);
    expect(r.counters['targetSendmsgCopy']).toBeGreaterThan(0);
  });

  it.each([
    ['threshold 0 (every send zero copy)', { threshold: '0' }],
    ['threshold above the I/O size (every send a copy)', { threshold: '262144' }],
  ])('clean on both variants when the precondition is absent: %s', async (_name, raw) => {
    for (const variant of ['unpatched', 'patched'] as const) {
      for (const seed of [1, 2, 3]) {
        const r = await nvme(variant, seed, raw);
        expect(r.reproduced).toBe(false);
        expect(r.counters['miscompares']).toBe(0);
        expect(r.counters['verified']).toBe(16);
      }
    }
  });

  it('is deterministic: same seed, same trace hash', async () => {
    const a = await nvme('unpatched', 4);
    const b = await nvme('unpatched', 4);
    expect(a.traceHash).toBe(b.traceHash);
    const pa = await nvme('patched', 4);
    const pb = await nvme('patched', 4);
    expect(pa.traceHash).toBe(pb.traceHash);
    expect(pa.replay).toContain('--mode nvme-tcp');
  });
});
