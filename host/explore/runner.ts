/**
 * Single runs: a scenario's tasks to completion under a chooser (seeded random, or the replay of
 * a printed schedule), with the report of who did what.
 */
import { Prng } from '../sim/prng.js';
import { TraceHash } from '../sim/trace.js';
import { Run, type RunStatus, type TraceEntry } from './run.js';
import type { ExploreScenario, Instance, Violation } from './scenario.js';
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

/**
 * PCT (Burckhardt et al., "A randomized scheduler with probabilistic guarantees of finding
 * bugs", ASPLOS 2010): tasks get random distinct priorities and the highest enabled one runs; at
 * `depth - 1` random steps out of `steps` the running task drops below all others. A bug needing
 * `depth` ordering constraints shows with probability at least 1/(tasks * steps^(depth-1)) per
 * run, where uniform choice can be far less likely to hit a narrow window.
 */
export function pctChooser(seed: number, opts: { readonly depth?: number; readonly steps?: number } = {}): Chooser {
  const depth = opts.depth ?? 2;
  const steps = opts.steps ?? 100;
  if (!(Number.isInteger(depth) && depth >= 1) || !(Number.isInteger(steps) && steps >= 1)) {
    throw new ScheduleError(`pctChooser: depth ${depth} and steps ${steps} must be whole numbers >= 1`, 0);
  }
  const prng = new Prng(seed);
  const changes: number[] = [];
  while (changes.length < Math.min(depth - 1, steps)) {
    const c = prng.int(0, steps - 1);
    if (!changes.includes(c)) changes.push(c);
  }
  const priority = new Map<string, number>();
  const top = (enabled: readonly string[]): string => {
    let best = enabled[0]!;
    for (const name of enabled) {
      if (!priority.has(name)) priority.set(name, depth + prng.float()); // above every lowered one
      if (priority.get(name)! > priority.get(best)!) best = name;
    }
    return best;
  };
  return {
    choose(ctx) {
      const j = changes.indexOf(ctx.step);
      if (j >= 0) priority.set(top(ctx.enabled), j); // the running task drops below the rest
      return top(ctx.enabled);
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
  /** Called with the run's instance when it has ended (before the report is made), to read
   *  evidence off the model: what a call returned, which object the map holds. */
  readonly onEnd?: (instance: Instance) => void;
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
  opts.onEnd?.(run.instance);
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

/** Runs with choosers for seeds seed, seed+1, ... (uniform random unless `chooser` is given):
 *  the first violating run, or undefined after `runs`. */
export function searchRandom(
  scenario: ExploreScenario,
  seed: number,
  runs: number,
  opts: RunOptions & { readonly chooser?: (seed: number) => Chooser } = {},
): { readonly runs: number; readonly violating: RunReport | undefined } {
  const make = opts.chooser ?? randomChooser;
  for (let k = 0; k < runs; k++) {
    const r = runWith(scenario, make(seed + k), opts);
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

/** A run for people: the verdict, the schedule to replay it, and the trace. */
export function formatRun(r: RunReport): string {
  const verdict = r.violation === undefined ? `${r.status}, no violation` : `${r.violation.kind} violation: ${r.violation.message}`;
  const pre = `${r.preemptions} preemption${r.preemptions === 1 ? '' : 's'}`;
  return `${r.scenario}: ${verdict}\nschedule (${r.steps} steps, ${pre}): ${r.schedule}\n${formatTrace(r.trace)}`;
}
