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
 * partial-order reduction", OOPSLA 2013). So with a bound only the non-preemptive choice (the
 * task that took the last step going on with a step or a wake-up) sleeps in its later siblings'
 * subtrees. A schedule it skips pays a preemption to leave that task and comes back to it later;
 * the twin, which runs that step first, pays at most one at the switch after it and none at the
 * return, so it fits the bound whenever the skipped one does. Lock ops never sleep under a
 * bound: taking or releasing a mutex earlier changes whether another task's switch counts as a
 * preemption (a waiter's switch is free while the mutex is held). reduction.test.ts checks this
 * against the plain search on random programs; both looser rules fail it.
 */
import { runWith, replayChooser, type RunOptions, type RunReport } from './runner.js';
import type { RunStatus } from './run.js';
import { ExploreError, type ExploreScenario, type Violation } from './scenario.js';
import { estimateSchedules, fmtCount } from './estimate.js';
import { candidatesAt, childSleep, newRun, sameList, searchOf, type Node, type Reduction, type Search } from './tree.js';

export type { Reduction } from './tree.js';

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

/**
 * A search that runs in slices: `advance(n)` makes at most n more runs and says whether the
 * search has ended, so a worker or a CLI can yield between slices (to show progress, or to see
 * a stop request) without losing its place. `explore` runs one to the end.
 */
export class Exploration {
  private readonly s: Search;
  private readonly stack: Node[] = [];
  private readonly states = new Set<string>();
  private hasState = false;
  private schedules = 0;
  private blocked = 0;
  private violating = 0;
  private best: { choices: number[]; steps: number; preemptions: number } | undefined;
  private names: readonly string[] = [];
  private longest = 0;
  private stopped: ExploreReport['stopped'];
  private ended = false;

  constructor(
    private readonly scenario: ExploreScenario,
    private readonly opts: ExploreOptions = {},
  ) {
    this.s = searchOf(opts);
    if (opts.refuseAbove !== undefined) {
      const est = estimateSchedules(scenario, opts);
      if (est.estimate > opts.refuseAbove) {
        throw new ExploreError(
          `${scenario.name}: bound ${this.s.bounded ? this.s.bound : 'none'} with reduction ${opts.reduction ?? 'sleep-sets'} has an estimated ${fmtCount(est.estimate)} schedules (${est.samples} random probes), above the limit ${opts.refuseAbove}; lower the bound or raise the limit`,
        );
      }
    }
  }

  get finished(): boolean {
    return this.ended;
  }

  progress(): ExploreProgress {
    return { schedules: this.schedules, sleepBlocked: this.blocked, violatingSchedules: this.violating, distinctStates: this.states.size };
  }

  /** Makes up to `runs` more runs; true once the search has ended (finished or stopped). */
  advance(runs = Infinity): boolean {
    const { opts, stack } = this;
    const every = opts.progressEvery ?? 1000;
    for (let k = 0; k < runs && !this.ended; k++) {
      if (opts.signal?.aborted) {
        this.end('signal');
        break;
      }
      this.runOnce();
      if ((this.schedules + this.blocked) % every === 0) opts.onProgress?.(this.progress());
      if (this.stopped === 'violation') {
        this.end('violation');
        break;
      }
      while (stack.length > 0 && stack[stack.length - 1]!.next + 1 >= stack[stack.length - 1]!.candidates.length) stack.pop();
      if (stack.length === 0) {
        this.end(undefined);
        break;
      }
      if (opts.limit !== undefined && this.schedules >= opts.limit) {
        this.end('limit');
        break;
      }
      stack[stack.length - 1]!.next++;
    }
    return this.ended;
  }

  /** Stops the search where it is (the report says it was not exhaustive). */
  stop(): void {
    if (!this.ended) this.end('signal');
  }

  private end(stopped: ExploreReport['stopped']): void {
    this.stopped = stopped;
    this.ended = true;
    this.opts.onProgress?.(this.progress());
  }

  /** Replays the current stack, then extends it with first choices to the end of a run. */
  private runOnce(): void {
    const { opts, stack, s } = this;
    const run = newRun(this.scenario, opts);
    this.names = run.tasks.map((t) => t.name);
    let sleep: number[] = [];
    for (let d = 0; d < stack.length; d++) {
      const n = stack[d]!;
      if (run.status !== 'running' || !sameList(run.enabled(), n.enabled)) {
        throw new ExploreError(`${this.scenario.name} is not deterministic: replaying the same ${d} choices from setup() gave different enabled tasks (setup must build fresh state and use no outside randomness)`);
      }
      if (d === stack.length - 1) sleep = childSleep(run, n.sleep, n.candidates, n.next, n.last, s);
      run.execute(n.candidates[n.next]!);
    }
    while (run.status === 'running') {
      const candidates = candidatesAt(run, sleep, s);
      if (candidates.length === 0) {
        this.blocked++;
        return;
      }
      const n: Node = { enabled: [...run.enabled()], candidates, next: 0, sleep, last: run.last };
      stack.push(n);
      sleep = childSleep(run, n.sleep, candidates, 0, n.last, s);
      run.execute(candidates[0]!);
    }
    this.longest = Math.max(this.longest, run.steps);
    this.schedules++;
    const st = run.status === 'done' || run.status === 'deadlock' ? run.instance.state?.() : undefined;
    if (st !== undefined) {
      this.hasState = true;
      this.states.add(st);
    }
    opts.onEnd?.(run.instance);
    opts.onRun?.({ status: run.status as ExploredRun['status'], state: st, violation: run.violation, steps: run.steps, preemptions: run.preemptions });
    if (run.violation === undefined) return;
    this.violating++;
    const b = this.best;
    if (b === undefined || run.steps < b.steps || (run.steps === b.steps && run.preemptions < b.preemptions)) {
      this.best = { choices: [...run.choices], steps: run.steps, preemptions: run.preemptions };
    }
    if (opts.stopOnViolation) this.stopped = 'violation';
  }

  /** The report so far (final once `finished`). */
  report(): ExploreReport {
    const b = this.best;
    const violation = b === undefined ? undefined : runWith(this.scenario, replayChooser(b.choices.map((i) => this.names[i]!)), { maxSteps: this.opts.maxSteps });
    return {
      scenario: this.scenario.name,
      bound: this.s.bounded ? this.s.bound : null,
      reduction: this.s.reduce ? 'sleep-sets' : 'none',
      schedules: this.schedules,
      sleepBlocked: this.blocked,
      distinctStates: this.hasState ? this.states.size : null,
      exhaustive: this.ended && this.stopped === undefined,
      boundReached: this.s.boundReached,
      stopped: this.stopped,
      violatingSchedules: this.violating,
      violation,
      maxSteps: this.longest,
    };
  }
}

export function explore(scenario: ExploreScenario, opts: ExploreOptions = {}): ExploreReport {
  const e = new Exploration(scenario, opts);
  e.advance();
  return e.report();
}

/** The same search in slices of `runsPerSlice` runs, yielding to the event loop between them
 *  (setTimeout, in Node and browsers), so progress shows and a stop request gets through. */
export async function exploreInSlices(scenario: ExploreScenario, opts: ExploreOptions = {}, runsPerSlice = 500): Promise<ExploreReport> {
  const e = new Exploration(scenario, opts);
  while (!e.advance(runsPerSlice)) await new Promise<void>((resolve) => setTimeout(resolve, 0));
  return e.report();
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
