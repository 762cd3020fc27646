/**
 * Single runs: a scenario's tasks to completion under a chooser (seeded random, or the replay of
 * a printed schedule), with the report of who did what.
 */
import { Prng } from '../sim/prng.js';
import { TraceHash } from '../sim/trace.js';
import { Run, type RunStatus, type TraceEntry } from './run.js';
import type { ExploreScenario, Violation } from './scenario.js';
import { ScheduleError, formatSchedule, parseSchedule } from './schedule.js';

/** What a chooser sees at each step. */
export interface ChoiceContext {
  /** 0-based step about to run. */
  readonly step: number;
  /** Names of the enabled tasks, in declaration order (never empty). */
  readonly enabled: readonly string[];
  /** The task that took the previous step, if any. */
  readonly last: string | undefined;
  readonly clock: number;
}

export interface Chooser {
  /** The name of one of `ctx.enabled`. */
  choose(ctx: ChoiceContext): string;
  /** Called when the run has ended after `steps` steps (a replay refuses a longer schedule). */
  finish?(steps: number): void;
}

/** Uniform among the enabled tasks, from the project's PRNG. */
export function randomChooser(seed: number): Chooser {
  const prng = new Prng(seed);
  return { choose: (ctx) => ctx.enabled[prng.int(0, ctx.enabled.length - 1)]! };
}

/** Follows a printed schedule exactly; a choice that is not enabled, or a schedule that ends
 *  early or late, is refused with a ScheduleError naming the step. */
export function replayChooser(schedule: string | readonly string[]): Chooser {
  const choices = typeof schedule === 'string' ? parseSchedule(schedule) : schedule;
  return {
    choose(ctx) {
      const c = choices[ctx.step];
      if (c === undefined) {
        throw new ScheduleError(`schedule is too short: it ends after ${choices.length} steps, but tasks can still run (enabled at step ${ctx.step}: ${ctx.enabled.join(', ')})`, ctx.step);
      }
      if (!ctx.enabled.includes(c)) {
        throw new ScheduleError(`schedule diverges at step ${ctx.step}: "${c}" is not enabled there (enabled: ${ctx.enabled.join(', ')})`, ctx.step);
      }
      return c;
    },
    finish(steps) {
      if (choices.length > steps) {
        throw new ScheduleError(`schedule is too long: the run ended after ${steps} steps, the schedule has ${choices.length}`, steps);
      }
    },
  };
}

export interface RunReport {
  readonly scenario: string;
  /** The printed schedule of this run (replayChooser takes it back). */
  readonly schedule: string;
  readonly steps: number;
  readonly preemptions: number;
  /** How the run ended: every task returned (`done`), or a deadlock, crash or step-limit stop. */
  readonly status: Exclude<RunStatus, 'running'>;
  /** Undefined when the run is clean. */
  readonly violation: Violation | undefined;
  /** The instance's state() at the end, if it has one. */
  readonly state: string | undefined;
  /** Final simulated time, µs. */
  readonly clock: number;
  readonly trace: readonly TraceEntry[];
  /** Hash of the trace: same scenario and schedule, same hash. */
  readonly hash: string;
}

export interface RunOptions {
  /** A run that takes this many steps without every task finishing ends as a liveness
   *  violation (default 100000). */
  readonly maxSteps?: number;
}

export const DEFAULT_MAX_STEPS = 100_000;

/** Runs the scenario once from scratch, asking `chooser` at every step. */
export function runWith(scenario: ExploreScenario, chooser: Chooser, opts: RunOptions = {}): RunReport {
  const run = new Run((env) => scenario.setup(env), { record: true, maxSteps: opts.maxSteps ?? DEFAULT_MAX_STEPS });
  const names = run.tasks.map((t) => t.name);
  while (run.status === 'running') {
    const enabled = run.enabled().map((i) => names[i]!);
    const c = chooser.choose({ step: run.steps, enabled, last: run.last >= 0 ? names[run.last] : undefined, clock: run.clock });
    const i = names.indexOf(c);
    if (i < 0 || !enabled.includes(c)) throw new ScheduleError(`step ${run.steps}: the chooser picked "${c}", which is not enabled (enabled: ${enabled.join(', ')})`, run.steps);
    run.execute(i);
  }
  chooser.finish?.(run.steps);
  return report(scenario.name, run);
}

/** Replays a printed schedule (see schedule.ts for the format). */
export function replay(scenario: ExploreScenario, schedule: string, opts: RunOptions = {}): RunReport {
  return runWith(scenario, replayChooser(schedule), opts);
}

/** One run under the seeded random chooser. */
export function runRandom(scenario: ExploreScenario, seed: number, opts: RunOptions = {}): RunReport {
  return runWith(scenario, randomChooser(seed), opts);
}

/** Random runs for seeds seed, seed+1, ...: the first violating run, or undefined after `runs`. */
export function searchRandom(scenario: ExploreScenario, seed: number, runs: number, opts: RunOptions = {}): { readonly runs: number; readonly violating: RunReport | undefined } {
  for (let k = 0; k < runs; k++) {
    const r = runRandom(scenario, seed + k, opts);
    if (r.violation !== undefined) return { runs: k + 1, violating: r };
  }
  return { runs, violating: undefined };
}

export function report(scenario: string, run: Run): RunReport {
  const names = run.tasks.map((t) => t.name);
  return {
    scenario,
    schedule: formatSchedule(run.choices.map((i) => names[i]!)),
    steps: run.steps,
    preemptions: run.preemptions,
    status: run.status as Exclude<RunStatus, 'running'>,
    violation: run.violation,
    state: run.status === 'done' || run.status === 'deadlock' ? run.instance.state?.() : undefined,
    clock: run.clock,
    trace: run.trace,
    hash: hashTrace(run.trace, run.violation),
  };
}

function hashTrace(trace: readonly TraceEntry[], violation: Violation | undefined): string {
  const h = new TraceHash();
  const str = (s: string): void => {
    for (let i = 0; i < s.length; i++) h.word(s.charCodeAt(i));
    h.word(0x1f);
  };
  for (const e of trace) {
    h.time(e.t);
    str(e.task);
    str(e.op);
    str(e.what);
  }
  if (violation !== undefined) str(`${violation.kind}:${violation.message}`);
  return h.digest();
}

/** Who did what, one line per step: `  #3  t=0  verify  lock server  (preempts)`. */
export function formatTrace(trace: readonly TraceEntry[]): string {
  const w = Math.max(4, ...trace.map((e) => e.task.length));
  return trace
    .map((e) => `  #${String(e.step).padEnd(4)} t=${String(e.t).padEnd(8)} ${e.task.padEnd(w)}  ${e.op} ${e.what}${e.preempt ? '  (preempts)' : ''}`)
    .join('\n');
}
