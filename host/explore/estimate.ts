import { Prng } from '../sim/prng.js';
import type { ExploreScenario } from './scenario.js';
import { candidatesAt, childSleep, newRun, searchOf, type Reduction } from './tree.js';

/**
 * Knuth's estimate of how many runs a search with these options makes: random root-to-leaf
 * probes through the same tree (same candidates, same sleep sets), each worth the product of
 * the branching along it. Unbiased; its spread grows with the tree's unevenness.
 */
export function estimateSchedules(scenario: ExploreScenario, opts: { readonly preemptions?: number; readonly reduction?: Reduction; readonly maxSteps?: number } = {}, samples = 64, seed = 1): { readonly estimate: number; readonly samples: number } {
  const s = searchOf(opts);
  const prng = new Prng(seed);
  let sum = 0;
  for (let k = 0; k < samples; k++) {
    const run = newRun(scenario, opts);
    let sleep: number[] = [];
    let weight = 1;
    while (run.status === 'running') {
      const candidates = candidatesAt(run, sleep, s);
      if (candidates.length === 0) break;
      const j = prng.int(0, candidates.length - 1);
      weight *= candidates.length;
      sleep = childSleep(run, sleep, candidates, j, run.last, s);
      run.execute(candidates[j]!);
    }
    sum += weight;
  }
  return { estimate: sum / samples, samples };
}

export function fmtCount(x: number): string {
  return x < 1e6 ? String(Math.round(x)) : x.toExponential(1);
}
