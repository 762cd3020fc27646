import { Prng } from '../sim/prng.js';
import type { ExploreScenario } from './scenario.js';
import { candidatesAt, childSleep, newRun, searchOf, type Reduction } from './tree.js';

/**
 * Knuth's estimate of how many runs a search with these options makes: random root-to-leaf
 * probes through the same tree (same candidates, same sleep sets), each worth the product of
 * 1/p over its choices, p the probability the probe gave the choice taken. Unbiased for any p;
 * uniform p badly underestimates a bounded tree, whose mass sits in the rare paths that keep
 * their preemptions for late, so under a bound a choice is drawn in proportion to a guess of its
 * subtree: sum over i <= budget left of C(steps left, i), with the steps left guessed from the
 * probes so far. On the replica-verify race the plain bounded search comes out within a factor
 * of 2; sleep sets make the tree much less even, and their count can come out 10 times low.
 */
export function estimateSchedules(scenario: ExploreScenario, opts: { readonly preemptions?: number; readonly reduction?: Reduction; readonly maxSteps?: number } = {}, samples = 64, seed = 1): { readonly estimate: number; readonly samples: number } {
  const s = searchOf(opts);
  const prng = new Prng(seed);
  let sum = 0;
  let lengths = 0;
  for (let k = 0; k < samples; k++) {
    const run = newRun(scenario, opts);
    const expected = k === 0 ? 32 : lengths / k;
    let sleep: number[] = [];
    let weight = 1;
    while (run.status === 'running') {
      const candidates = candidatesAt(run, sleep, s);
      if (candidates.length === 0) break;
      const left = Math.max(1, Math.round(expected - run.steps));
      const guess = candidates.map((i) => (s.bounded ? subtreeGuess(left, s.bound - run.preemptions - (run.preempts(i) ? 1 : 0)) : 1));
      const total = guess.reduce((a, b) => a + b, 0);
      let r = prng.float() * total;
      let j = 0;
      while (j < candidates.length - 1 && r >= guess[j]!) r -= guess[j++]!;
      weight *= total / guess[j]!;
      sleep = childSleep(run, sleep, candidates, j, run.last, s);
      run.execute(candidates[j]!);
    }
    lengths += run.steps;
    sum += weight;
  }
  return { estimate: sum / samples, samples };
}

/** Schedules of n steps with at most b preemptions, two tasks: sum of C(n, i) for i <= b. */
function subtreeGuess(n: number, b: number): number {
  let term = 1;
  let total = 1;
  for (let i = 1; i <= Math.min(b, n); i++) {
    term = (term * (n - i + 1)) / i;
    total += term;
  }
  return total;
}

export function fmtCount(x: number): string {
  return x < 1e6 ? String(Math.round(x)) : x.toExponential(1);
}
