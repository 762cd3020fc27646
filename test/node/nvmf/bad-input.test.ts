/**
 * Issue 3, "Bad input": malformed NVMe/TCP PDUs from a seeded generator (random and mutated valid
 * ones: bad hlen/plen/pdo, unknown types, header/data digest mismatches, data beyond MDTS, bad
 * SGLs, commands before Connect, wrong NQN / host NQN, H2CData for unknown transfer tags, truncated
 * PDUs, PDUs split across reads) against the real target C through the scripted kernel. Each
 * input must be answered with a C2HTermReq carrying the right FES or the right Connect/command
 * status, the qpair must be closed, every request must be back to FREE and nothing may leak; on the
 * asan variant nothing may be reported. Replay a failure with its seed and index (printed).
 */
import { describe, expect, it } from 'vitest';
import { runFuzz, type FuzzReport } from '../../../host/fuzz/fuzz-runner.node.js';

function explain(r: FuzzReport, seed: number, variant: string): string {
  return r.failures.map((f) => `seed ${seed} (${variant}) case ${f.index} [${f.family}]:\n  ${f.problems.join('\n  ')}`).join('\n');
}

describe('malformed PDUs against the target', () => {
  const RELEASE_SEEDS = [1, 2, 3];
  const PER_SEED = 2500;

  for (const seed of RELEASE_SEEDS) {
    it(`release: ${PER_SEED} generated inputs, seed ${seed}`, async () => {
      const r = await runFuzz(seed, PER_SEED);
      expect(r.failures, explain(r, seed, 'unpatched-release')).toEqual([]);
      expect(r.cases).toBe(PER_SEED);
      expect(r.heapGrowth, 'heap bytes not given back').toBe(0);
      // Every family and every answer kind fired (a green run proves the paths were exercised).
      expect(Object.keys(r.families).length).toBeGreaterThanOrEqual(40);
      for (const fes of [1, 2, 3, 4, 5, 6]) expect(r.termFes[fes] ?? 0, `FES ${fes} sent`).toBeGreaterThan(0);
      for (const o of ['silent', 'ok', 'closed on H2CTermReq', 'closed by exit timeout', 'any: term', 'status 1/0x82', 'status 1/0x84', 'status 0/0xc + close', 'status 0/0x22']) {
        expect(r.outcomes[o] ?? 0, `outcome "${o}"`).toBeGreaterThan(0);
      }
    });
  }

  it('release, MSG_ZEROCOPY sends whose completions come late (after the host replied): 2500 inputs', async () => {
    const r = await runFuzz(5, 2500, { sockZcopy: true, lateZcopyAcks: true, zcopy: false });
    expect(r.failures, explain(r, 5, 'unpatched-release, late zero-copy completions')).toEqual([]);
    expect(r.cases).toBe(2500);
    expect(r.heapGrowth, 'heap bytes not given back').toBe(0);
  });

  it('asan: 500 generated inputs, no AddressSanitizer report', async () => {
    const r = await runFuzz(99, 500, { flavor: 'asan' });
    expect(r.failures, explain(r, 99, 'unpatched-asan')).toEqual([]);
    expect(r.cases).toBe(500);
  });

  it('the generator is deterministic: same seed, same cases, same outcomes', async () => {
    const a = await runFuzz(7, 300);
    const b = await runFuzz(7, 300);
    expect(a.families).toEqual(b.families);
    expect(a.outcomes).toEqual(b.outcomes);
    expect(a.virtualUs).toBe(b.virtualUs);
  });
});
