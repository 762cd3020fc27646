/**
 * The search tree the exhaustive search walks and the estimate samples: which choices a node
 * offers (within the preemption bound, not asleep) and the sleep set a choice hands its child.
 * The rules and why they are sound are in exhaustive.ts.
 */
import { dependent } from './dependence.js';
import { Run } from './run.js';
import { DEFAULT_MAX_STEPS, type RunOptions } from './runner.js';
import { ExploreError, type ExploreScenario } from './scenario.js';

export type Reduction = 'sleep-sets' | 'none';

export interface Node {
  /** Enabled task indices when the node was first reached (replays must see the same). */
  readonly enabled: readonly number[];
  /** Choices explored here, in order; `next` is the current one. */
  readonly candidates: readonly number[];
  next: number;
  readonly sleep: readonly number[];
  readonly last: number;
}

export interface Search {
  readonly bounded: boolean;
  readonly bound: number;
  readonly reduce: boolean;
  boundReached: boolean;
}

export function candidatesAt(run: Run, sleep: readonly number[], s: Search): number[] {
  const out: number[] = [];
  const enabled = run.enabled();
  const order = run.last >= 0 && enabled.includes(run.last) ? [run.last, ...enabled.filter((i) => i !== run.last)] : enabled;
  for (const i of order) {
    if (sleep.includes(i)) continue;
    if (run.preemptions + (run.preempts(i) ? 1 : 0) > s.bound) {
      s.boundReached = true;
      continue;
    }
    out.push(i);
  }
  return out;
}

/** The sleep set of the child reached by choosing candidates[k] at a node. */
export function childSleep(run: Run, sleep: readonly number[], candidates: readonly number[], k: number, last: number, s: Search): number[] {
  if (!s.reduce) return [];
  const c = candidates[k]!;
  const op = run.pending(c)!;
  const done = s.bounded ? (k > 0 && candidates[0] === last && sleepsUnderBound(run, last) ? [last] : []) : candidates.slice(0, k);
  const out: number[] = [];
  for (const i of sleep) if (!dependent(run.pending(i)!, op)) out.push(i);
  for (const i of done) if (!dependent(run.pending(i)!, op)) out.push(i);
  return out;
}

function sleepsUnderBound(run: Run, i: number): boolean {
  const kind = run.pending(i)?.kind;
  return kind === 'step' || kind === 'sleep';
}

export function searchOf(opts: { readonly preemptions?: number; readonly reduction?: Reduction }): Search {
  const p = opts.preemptions;
  if (p !== undefined && p !== Infinity && !(Number.isInteger(p) && p >= 0)) {
    throw new ExploreError(`preemption bound ${p}: expected a whole number >= 0 (or none for unbounded)`);
  }
  const reduction = opts.reduction ?? 'sleep-sets';
  if (reduction !== 'sleep-sets' && reduction !== 'none') throw new ExploreError(`reduction "${String(reduction)}": expected sleep-sets or none`);
  const bounded = p !== undefined && p !== Infinity;
  return { bounded, bound: bounded ? p : Infinity, reduce: reduction === 'sleep-sets', boundReached: false };
}

export function newRun(scenario: ExploreScenario, opts: RunOptions): Run {
  return new Run((env) => scenario.setup(env), { record: false, maxSteps: opts.maxSteps ?? DEFAULT_MAX_STEPS });
}

export function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
