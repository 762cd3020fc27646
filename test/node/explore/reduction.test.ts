/**
 * The reduction against the plain search on random programs (reads, writes, sleeps and locked
 * sections over a small store): sleep sets must reach every final state, deadlock and verdict
 * the unreduced search reaches at the same bound, and nothing the unbounded search cannot.
 * Plain sleep sets under a preemption bound fail this (the first counterexample appears within
 * a few dozen programs), and so does letting lock ops sleep under a bound.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explore, type ExploreScenario } from '../../../host/explore/explorer.js';
import { programScenario, type ProgOp } from './programs.js';

/** Every complete run's status and final state. */
function outcomes(s: ExploreScenario, preemptions: number | undefined, reduction: 'none' | 'sleep-sets'): { set: Set<string>; schedules: number } {
  const set = new Set<string>();
  const r = explore(s, { preemptions, reduction, maxSteps: 1000, onRun: (run) => set.add(`${run.status} ${run.state}`) });
  expect(r.exhaustive).toBe(true);
  return { set, schedules: r.schedules };
}

// A deeper check: EXPLORE_PROPERTY_RUNS=1500 EXPLORE_PROPERTY_SEED=99 (about 3 minutes; passes).
const RUNS = Number(process.env.EXPLORE_PROPERTY_RUNS ?? 300);
const SEED = Number(process.env.EXPLORE_PROPERTY_SEED ?? 14);

const objects = ['x', 'y'];
const leaf: fc.Arbitrary<ProgOp> = fc.oneof(
  fc.record({ k: fc.constant('r' as const), obj: fc.constantFrom(...objects) }),
  fc.record({ k: fc.constant('w' as const), obj: fc.constantFrom(...objects) }),
  fc.record({ k: fc.constant('sleep' as const), us: fc.constantFrom(0, 5, 10) }),
);
const locked = (body: fc.Arbitrary<ProgOp>): fc.Arbitrary<ProgOp> =>
  fc.record({ k: fc.constant('locked' as const), mutex: fc.constantFrom('m', 'n'), shared: fc.boolean(), body: fc.array(body, { minLength: 0, maxLength: 2 }) });
// Locked sections nest one deep: enough for lock order inversions and self-deadlocks.
const op: fc.Arbitrary<ProgOp> = fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: locked(fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 1, arbitrary: locked(leaf) })) });
const program = fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 });

describe('sleep sets keep every outcome of the plain search', () => {
  it('on random programs, at bounds 0, 1, 2 and unbounded', () => {
    fc.assert(
      fc.property(program, (tasks) => {
        const s = programScenario(tasks);
        const all = outcomes(s, undefined, 'none');
        for (const bound of [0, 1, 2, undefined]) {
          const plain = bound === undefined ? all : outcomes(s, bound, 'none');
          const reduced = outcomes(s, bound, 'sleep-sets');
          for (const o of plain.set) expect(reduced.set, `bound ${bound}: ${o}`).toContain(o);
          for (const o of reduced.set) expect(all.set).toContain(o);
          expect(reduced.schedules).toBeLessThanOrEqual(plain.schedules);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('the random programs are not all trivial: some have several outcomes and deadlocks', () => {
    let several = 0;
    let deadlocks = 0;
    fc.assert(
      fc.property(program, (tasks) => {
        const r = outcomes(programScenario(tasks), undefined, 'none');
        if (r.set.size > 1) several++;
        if ([...r.set].some((o) => o.startsWith('deadlock'))) deadlocks++;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(several).toBeGreaterThan(100);
    expect(deadlocks).toBeGreaterThan(0);
  });
});
