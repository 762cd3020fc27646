/**
 * A tiny deterministic runner for the engine's tasks, until the explorer (host/explore) lands:
 * one task at a time takes its next Op; a lock Op is enabled while the mutex is free (shared:
 * while no writer holds it), a sleep Op once the clock reaches its wake-up time; when nothing is
 * enabled the clock jumps to the earliest wake-up. `pick` chooses among the enabled tasks, by
 * default the first (run each task as far as it goes, in the order given).
 */
import type { Op, TaskBody } from '../../../host/explore/task.js';

export interface TaskSpec {
  name: string;
  body: TaskBody<unknown>;
}

export interface Outcome {
  value?: unknown;
  error?: unknown;
}

export interface RunResult {
  outcomes: Map<string, Outcome>;
  /** "task: op" per choice, in order. */
  trace: string[];
  clockUs: number;
}

interface Live {
  name: string;
  body: TaskBody<unknown>;
  op?: Op;
  wake?: number;
  done: boolean;
}

/** `pick(enabled, step, next)` returns one of the enabled task names; `next` is each enabled
 *  task's pending Op as text ("bdev_get_bdevs", "lock server", ...). */
export type Picker = (enabled: readonly string[], step: number, next: ReadonlyMap<string, string>) => string;

export const firstEnabled: Picker = (enabled) => enabled[0]!;

/** Follow `names` (one task name per choice), then the first enabled task. A listed task that is
 *  not enabled at that choice is an error naming the step. */
export function scripted(names: readonly string[]): Picker {
  return (enabled, i) => {
    const want = names[i];
    if (want === undefined) return enabled[0]!;
    if (!enabled.includes(want)) throw new Error(`choice ${i}: ${want} is not enabled (enabled: ${enabled.join(', ')})`);
    return want;
  };
}

/** Choose `name` whenever it is enabled, else the first enabled. */
export function prefer(name: string): Picker {
  return (enabled) => (enabled.includes(name) ? name : enabled[0]!);
}

/** One phase: run `task` for `ops` choices, or until its next Op after the first starts with
 *  `until` (not taken); a phase also ends when its task is blocked or done. */
export interface Phase {
  task: string;
  ops?: number;
  until?: string;
}

/** Phases in order, then the first enabled task. */
export function phases(list: readonly Phase[]): Picker {
  let at = 0;
  let taken = 0;
  return (enabled, _i, next) => {
    for (; at < list.length; at++, taken = 0) {
      const ph = list[at]!;
      if (!enabled.includes(ph.task)) continue;
      if (ph.ops !== undefined && taken >= ph.ops) continue;
      if (ph.until !== undefined && taken > 0 && next.get(ph.task)!.startsWith(ph.until)) continue;
      taken++;
      return ph.task;
    }
    return enabled[0]!;
  };
}

export function run(tasks: readonly TaskSpec[], pick: Picker = firstEnabled, maxSteps = 100_000): RunResult {
  const live: Live[] = tasks.map((t) => ({ name: t.name, body: t.body, done: false }));
  const outcomes = new Map<string, Outcome>();
  const writers = new Map<string, string>();
  const readers = new Map<string, number>();
  const trace: string[] = [];
  let clock = 0;

  const advance = (t: Live) => {
    try {
      const r = t.body.next();
      if (r.done) {
        t.done = true;
        outcomes.set(t.name, { value: r.value });
      } else {
        t.op = r.value;
        if (r.value.kind === 'sleep') t.wake = clock + r.value.us;
      }
    } catch (e) {
      t.done = true;
      outcomes.set(t.name, { error: e });
    }
  };
  const enabled = (t: Live): boolean => {
    const op = t.op!;
    if (op.kind === 'lock') return op.shared ? !writers.has(op.mutex) : !writers.has(op.mutex) && (readers.get(op.mutex) ?? 0) === 0;
    if (op.kind === 'sleep') return clock >= t.wake!;
    return true;
  };

  for (const t of live) advance(t);
  for (let i = 0; i < maxSteps; i++) {
    const waiting = live.filter((t) => !t.done);
    if (waiting.length === 0) return { outcomes, trace, clockUs: clock };
    let ready = waiting.filter(enabled);
    if (ready.length === 0) {
      const wakes = waiting.filter((t) => t.op!.kind === 'sleep').map((t) => t.wake!);
      if (wakes.length === 0) throw new Error(`deadlock: ${waiting.map((t) => `${t.name} at ${JSON.stringify(t.op)}`).join('; ')}`);
      clock = Math.min(...wakes);
      ready = waiting.filter(enabled);
    }
    const name = pick(ready.map((t) => t.name), i, new Map(ready.map((t) => [t.name, describeOp(t.op!)])));
    const t = ready.find((x) => x.name === name);
    if (t === undefined) throw new Error(`choice ${i}: picker chose ${name}, not enabled`);
    const op = t.op!;
    if (op.kind === 'lock') {
      if (op.shared) readers.set(op.mutex, (readers.get(op.mutex) ?? 0) + 1);
      else writers.set(op.mutex, t.name);
    } else if (op.kind === 'unlock') {
      if (op.shared) readers.set(op.mutex, (readers.get(op.mutex) ?? 1) - 1);
      else writers.delete(op.mutex);
    }
    trace.push(`${t.name}: ${describeOp(op)}`);
    advance(t);
  }
  throw new Error(`no end after ${maxSteps} steps`);
}

function describeOp(op: Op): string {
  switch (op.kind) {
    case 'step': return op.label;
    case 'lock': return `lock ${op.mutex}${op.shared ? ' (R)' : ''}`;
    case 'unlock': return `unlock ${op.mutex}${op.shared ? ' (R)' : ''}`;
    case 'sleep': return `sleep ${op.us} ${op.label}`;
  }
}

/** Runs one task alone to its end and returns its value (throws its error). */
export function runOne<R>(body: TaskBody<R>): R {
  const r = run([{ name: 'only', body }]).outcomes.get('only')!;
  if (r.error !== undefined) throw r.error;
  return r.value as R;
}
