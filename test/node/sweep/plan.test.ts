/** Planning a sweep: seed lists, parameter points checked against each replay, deterministic shards. */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../../host/scenarios/index.js';
import { UsageError } from '../../../host/scenarios/params.js';
import { addParam, parseSeeds, parseShard, parseVariants, planSweep } from '../../../host/sweep/plan.js';

const zcopy = SCENARIOS.find((s) => s.id === 'zcopy-threshold')!;
const params = (...specs: string[]): Map<string, string[]> => {
  const m = new Map<string, string[]>();
  for (const s of specs) addParam(m, s);
  return m;
};

describe('parseSeeds', () => {
  it('takes N, A..B and comma lists, each seed once, in the order given', () => {
    expect(parseSeeds('7')).toEqual([7]);
    expect(parseSeeds('1..4')).toEqual([1, 2, 3, 4]);
    expect(parseSeeds('3..4,1,3')).toEqual([3, 4, 1]);
    expect(parseSeeds('4294967295')).toEqual([4294967295]);
  });
  it.each(['', 'x', '5..1', '1..', '-1', '4294967296', '1..20000000', '1.5'])('refuses "%s" with one line', (s) => {
    expect(() => parseSeeds(s)).toThrow(UsageError);
  });
});

describe('parseShard and parseVariants', () => {
  it('takes k/n with 1 <= k <= n', () => {
    expect(parseShard('2/3')).toEqual({ k: 2, n: 3 });
    for (const bad of ['3/2', '0/2', '1/0', '1', 'a/b', '1/2/3']) expect(() => parseShard(bad), bad).toThrow(/--shard takes k\/n/);
  });
  it('takes one or both variants', () => {
    expect(parseVariants('patched')).toEqual(['patched']);
    expect(parseVariants('unpatched,patched,patched')).toEqual(['unpatched', 'patched']);
    expect(() => parseVariants('fixed')).toThrow(/--variant/);
  });
});

describe('planSweep', () => {
  it('is the cross product of points, variants and seeds, in a fixed order', () => {
    const jobs = planSweep({ scenarios: [zcopy], seeds: [1, 2], variants: ['unpatched', 'patched'], params: params('io-size=65536,131072', 'threshold=0,8192') });
    expect(jobs).toHaveLength(2 * 2 * 2 * 2);
    expect(jobs.map((j) => j.index)).toEqual([...jobs.keys()]);
    expect(new Set(jobs.map((j) => j.key)).size).toBe(jobs.length);
    expect(jobs[0]).toMatchObject({ scenario: 'zcopy-threshold', variant: 'unpatched', seed: 1, point: { 'io-size': 65536, threshold: 0 } });
  });

  it('shards are disjoint and together are the whole plan, for every n', () => {
    const spec = { scenarios: SCENARIOS, seeds: parseSeeds('1..7'), variants: ['unpatched', 'patched'] as const, params: new Map() };
    const whole = planSweep(spec).map((j) => j.key);
    for (const n of [1, 2, 3, 5, 100]) {
      const parts = Array.from({ length: n }, (_, i) => planSweep({ ...spec, shard: { k: i + 1, n } }).map((j) => j.key));
      expect(parts.flat().sort()).toEqual([...whole].sort());
      expect(new Set(parts.flat()).size).toBe(whole.length);
    }
  });

  it('checks every point before anything runs: unknown names, ranges and cross-checks', () => {
    const plan = (...p: string[]) => () => planSweep({ scenarios: [zcopy], seeds: [1], variants: ['patched'], params: params(...p) });
    expect(plan('bogus=1')).toThrow(/unknown parameter bogus for scenario zcopy-threshold/);
    expect(plan('threshold=-1')).toThrow(/--threshold of zcopy-threshold must be >= 0/);
    expect(plan('io-size=5000')).toThrow(/multiple of 4096/);
    expect(() => addParam(new Map([['a', ['1']]]), 'a=2')).toThrow(/given twice/);
    expect(() => addParam(new Map(), 'noequals')).toThrow(/name=value/);
  });

  it('with all, a parameter applies to the replays that have it', () => {
    const jobs = planSweep({ scenarios: SCENARIOS, seeds: [1], variants: ['patched'], params: params('mss=1000,1448') }, true);
    const withMss = SCENARIOS.filter((s) => s.params.some((p) => p.name === 'mss')).length;
    expect(jobs).toHaveLength(withMss * 2 + (SCENARIOS.length - withMss));
  });
});
