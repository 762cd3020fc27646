/**
 * Exhaustive exploration: every schedule of a scenario up to a bound on preemptions, each run
 * from scratch (stateless model checking, depth-first over the choice points), with sleep sets
 * as the reduction.
 *
 * A preemption is a step by another task while the task that took the previous step could still
 * go on; switching when it blocks, sleeps or returns is free. Bound 0 is every non-preemptive
 * schedule (all choices at blocking points), and no bound is every schedule.
 *
 * Sleep sets (Godefroid): after the subtree of choice t at a node is explored, t sleeps in the
 * later siblings' subtrees until a step dependent on it (dependence.ts) runs, because any
 * schedule doing t later, past independent steps only, ends where one already explored does.
 * A run whose enabled tasks are all asleep is abandoned (counted as sleep-blocked, not as a
 * schedule). Unbounded, this explores one schedule per equivalence class of schedules.
 *
 * Under a finite bound, plain sleep sets lose schedules: the explored twin of a skipped schedule
 * may need more preemptions than the bound allows (Coons, Musuvathi, McKinley, "Bounded
 * partial-order reduction", OOPSLA 2013). Here, with a bound, only the non-preemptive choice
 * (the last task going on with a step or a wake-up) goes to sleep. Its twin then costs no more
 * preemptions than the skipped schedule: the skipped one pays a preemption to leave that task
 * and another (or the same cost) to come back, the twin at most one to switch after it. Lock
 * ops never sleep under a bound, since doing one earlier can change whether another task's
 * switch counts as a preemption. The tests compare reduced and unreduced searches on random
 * programs at several bounds.
 */
import { dependent } from './dependence.js';
import { Prng } from '../sim/prng.js';
import { Run, type RunStatus } from './run.js';
import { DEFAULT_MAX_STEPS, replayChooser, runWith, type RunOptions, type RunReport } from './runner.js';
import { ExploreError, type ExploreScenario, type Violation } from './scenario.js';

export type Reduction = 'sleep-sets' | 'none';

export interface ExploreProgress {
  readonly schedules: number;
  readonly sleepBlocked: number;
  readonly violatingSchedules: number;
  readonly distinctStates: number;
}

export interface ExploreOptions extends RunOptions {
  /** Most preemptions per schedule; undefined (or Infinity) explores every schedule. */
  readonly preemptions?: number;
  /** Default 'sleep-sets'. */
  readonly reduction?: Reduction;
  /** Stop after this many schedules; the report then says the search was not exhaustive. */
  readonly limit?: number;
  /** Estimate the schedule count first (estimateSchedules) and refuse, with an ExploreError,
   *  a bound whose estimate is above this. */
  readonly refuseAbove?: number;
  /** Stop at the first violating schedule instead of looking for a shorter one. */
  readonly stopOnViolation?: boolean;
  /** Called every `progressEvery` runs (default 1000) and at the end. */
  readonly onProgress?: (p: ExploreProgress) => void;
  readonly progressEvery?: number;
  /** Called after every complete run (not for sleep-blocked ones). */
  readonly onRun?: (r: ExploredRun) => void;
  /** Checked between runs; an AbortSignal fits. */
  readonly signal?: { readonly aborted: boolean };
}

/** One complete run of the search, as onRun sees it. */
export interface ExploredRun {
  readonly status: Exclude<RunStatus, 'running'>;
  readonly state: string | undefined;
  readonly violation: Violation | undefined;
  readonly steps: number;
  readonly preemptions: number;
}

export interface ExploreReport {
  readonly scenario: string;
  /** The preemption bound; null when unbounded. */
  readonly bound: number | null;
  readonly reduction: Reduction;
  /** Complete runs explored (clean, violating, deadlocked). */
  readonly schedules: number;
  /** Runs abandoned because every enabled task was asleep (their schedules were covered). */
  readonly sleepBlocked: number;
  /** Distinct final states (the instance's state()), or null when it has none. */
  readonly distinctStates: number | null;
  /** The search covered every schedule within the bound (it was not stopped). */
  readonly exhaustive: boolean;
  /** Some schedule was left out because it needed more preemptions than the bound: with
   *  `exhaustive` and not `boundReached`, every schedule of the scenario was covered. */
  readonly boundReached: boolean;
  readonly stopped: 'limit' | 'signal' | 'violation' | undefined;
  readonly violatingSchedules: number;
  /** The shortest violating schedule found (fewest steps, then fewest preemptions), replayed
   *  with its trace; undefined when none violated. */
  readonly violation: RunReport | undefined;
  /** The longest run, in steps. */
  readonly maxSteps: number;
}

interface Node {
  /** Enabled task indices when the node was first reached (replays must see the same). */
  readonly enabled: readonly number[];
  /** Choices explored here, in order; `next` is the current one. */
  readonly candidates: readonly number[];
  next: number;
  readonly sleep: readonly number[];
  readonly last: number;
}

interface Search {
  readonly bounded: boolean;
  readonly bound: number;
  readonly reduce: boolean;
  boundReached: boolean;
}

function candidatesAt(run: Run, sleep: readonly number[], s: Search): number[] {
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
function childSleep(run: Run, sleep: readonly number[], candidates: readonly number[], k: number, last: number, s: Search): number[] {
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

function searchOf(opts: ExploreOptions): Search {
  const p = opts.preemptions;
  if (p !== undefined && p !== Infinity && !(Number.isInteger(p) && p >= 0)) {
    throw new ExploreError(`preemption bound ${p}: expected a whole number >= 0 (or none for unbounded)`);
  }
  const reduction = opts.reduction ?? 'sleep-sets';
  if (reduction !== 'sleep-sets' && reduction !== 'none') throw new ExploreError(`reduction "${String(reduction)}": expected sleep-sets or none`);
  const bounded = p !== undefined && p !== Infinity;
  return { bounded, bound: bounded ? p : Infinity, reduce: reduction === 'sleep-sets', boundReached: false };
}

function newRun(scenario: ExploreScenario, opts: RunOptions): Run {
  return new Run((env) => scenario.setup(env), { record: false, maxSteps: opts.maxSteps ?? DEFAULT_MAX_STEPS });
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function explore(scenario: ExploreScenario, opts: ExploreOptions = {}): ExploreReport {
  const s = searchOf(opts);
  if (opts.refuseAbove !== undefined) {
    const est = estimateSchedules(scenario, opts);
    if (est.estimate > opts.refuseAbove) {
      throw new ExploreError(
        `${scenario.name}: bound ${s.bounded ? s.bound : 'none'} with reduction ${opts.reduction ?? 'sleep-sets'} has an estimated ${fmtCount(est.estimate)} schedules (${est.samples} random probes), above the limit ${opts.refuseAbove}; lower the bound or raise the limit`,
      );
    }
  }
  const every = opts.progressEvery ?? 1000;
  const states = new Set<string>();
  let hasState = false;
  let schedules = 0;
  let blocked = 0;
  let violating = 0;
  let best: { choices: number[]; steps: number; preemptions: number } | undefined;
  let maxSteps = 0;
  let stopped: ExploreReport['stopped'];
  const stack: Node[] = [];
  const progress = (): ExploreProgress => ({ schedules, sleepBlocked: blocked, violatingSchedules: violating, distinctStates: states.size });
  for (;;) {
    if (opts.signal?.aborted) {
      stopped = 'signal';
      break;
    }
    const run = newRun(scenario, opts);
    let sleep: number[] = [];
    for (let d = 0; d < stack.length; d++) {
      const n = stack[d]!;
      if (run.status !== 'running' || !sameList(run.enabled(), n.enabled)) {
        throw new ExploreError(`${scenario.name} is not deterministic: replaying the same ${d} choices from setup() gave different enabled tasks (setup must build fresh state and use no outside randomness)`);
      }
      if (d === stack.length - 1) sleep = childSleep(run, n.sleep, n.candidates, n.next, n.last, s);
      run.execute(n.candidates[n.next]!);
    }
    let wasBlocked = false;
    while (run.status === 'running') {
      const candidates = candidatesAt(run, sleep, s);
      if (candidates.length === 0) {
        wasBlocked = true;
        break;
      }
      const n: Node = { enabled: [...run.enabled()], candidates, next: 0, sleep, last: run.last };
      stack.push(n);
      sleep = childSleep(run, n.sleep, candidates, 0, n.last, s);
      run.execute(candidates[0]!);
    }
    maxSteps = Math.max(maxSteps, run.steps);
    if (wasBlocked) blocked++;
    else {
      schedules++;
      const st = run.status === 'done' || run.status === 'deadlock' ? run.instance.state?.() : undefined;
      if (st !== undefined) {
        hasState = true;
        states.add(st);
      }
      opts.onRun?.({ status: run.status as ExploredRun['status'], state: st, violation: run.violation, steps: run.steps, preemptions: run.preemptions });
      if (run.violation !== undefined) {
        violating++;
        if (best === undefined || run.steps < best.steps || (run.steps === best.steps && run.preemptions < best.preemptions)) {
          best = { choices: [...run.choices], steps: run.steps, preemptions: run.preemptions };
        }
      }
    }
    if ((schedules + blocked) % every === 0) opts.onProgress?.(progress());
    if (run.violation !== undefined && opts.stopOnViolation) {
      stopped = 'violation';
      break;
    }
    while (stack.length > 0 && stack[stack.length - 1]!.next + 1 >= stack[stack.length - 1]!.candidates.length) stack.pop();
    if (stack.length === 0) break;
    if (opts.limit !== undefined && schedules >= opts.limit) {
      stopped = 'limit';
      break;
    }
    stack[stack.length - 1]!.next++;
  }
  opts.onProgress?.(progress());
  let violation: RunReport | undefined;
  if (best !== undefined) {
    const probe = newRun(scenario, opts);
    const names = probe.tasks.map((t) => t.name);
    violation = runWith(scenario, replayChooser(best.choices.map((i) => names[i]!)), opts);
  }
  return {
    scenario: scenario.name,
    bound: s.bounded ? s.bound : null,
    reduction: s.reduce ? 'sleep-sets' : 'none',
    schedules,
    sleepBlocked: blocked,
    distinctStates: hasState ? states.size : null,
    exhaustive: stopped === undefined,
    boundReached: s.boundReached,
    stopped,
    violatingSchedules: violating,
    violation,
    maxSteps,
  };
}

/**
 * Knuth's estimate of how many runs a search with these options makes: random root-to-leaf
 * probes through the same tree (same candidates, same sleep sets), each worth the product of
 * the branching along it. Unbiased; its spread grows with the tree's unevenness.
 */
export function estimateSchedules(scenario: ExploreScenario, opts: ExploreOptions = {}, samples = 64, seed = 1): { readonly estimate: number; readonly samples: number } {
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

function fmtCount(x: number): string {
  return x < 1e6 ? String(Math.round(x)) : x.toExponential(1);
}

/** One line: "no violation in 12 schedules (bound 2, sleep-sets, exhaustive)" or the violation. */
export function formatVerdict(r: ExploreReport): string {
  const bound = r.bound === null ? 'unbounded' : `bound ${r.bound}`;
  const how = r.exhaustive ? (r.boundReached ? 'exhaustive to the bound' : 'exhaustive: the bound cut nothing') : `stopped (${r.stopped})`;
  const states = r.distinctStates === null ? '' : `, ${r.distinctStates} distinct final states`;
  const where = `${r.schedules} schedules (${bound}, ${r.reduction}, ${how}${states})`;
  if (r.violation === undefined) return `no violation in ${where}`;
  const v = r.violation.violation!;
  return `${v.kind} violation in ${r.violatingSchedules} of ${where}; shortest: ${r.violation.schedule}\n  ${v.message}`;
}
