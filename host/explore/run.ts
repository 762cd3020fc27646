/**
 * One execution of an instance's tasks: who is enabled, the simulated clock, the mutexes, and
 * `execute(task)` which performs that task's pending op and resumes it to its next yield. The
 * choosers (runner.ts) and the exhaustive search (exhaustive.ts) both drive this one machine, so
 * a schedule means the same thing to all of them.
 *
 * A task's pending op is what it yielded last: the op it will perform when chosen. Executing a
 * `step` resumes the task, whose code up to its next yield is that step. Executing `lock` takes
 * the mutex first (the task is enabled only while it can), `unlock` releases it, and a `sleep`
 * is enabled once the clock reaches the time it was yielded plus `us`. When no task is enabled
 * and some sleep, the clock jumps to the earliest wake-up; when none sleeps either, the
 * unfinished tasks are deadlocked.
 */
import type { Op } from './task.js';
import { ExploreError, type ExploreEnv, type Instance, type Violation } from './scenario.js';
import { isTaskName } from './schedule.js';

export interface TraceEntry {
  /** 0-based step number. */
  readonly step: number;
  /** Simulated time (µs) when the step ran. */
  readonly t: number;
  readonly task: string;
  readonly op: Op['kind'];
  /** The step's or sleep's label, or the mutex (with " (shared)" for an RWMutex read lock). */
  readonly what: string;
  /** The previous task was still enabled: this step preempted it. */
  readonly preempt: boolean;
}

export type RunStatus = 'running' | 'done' | 'deadlock' | 'crash' | 'liveness';

interface TaskState {
  readonly name: string;
  readonly gen: Generator<Op, unknown, void>;
  /** The op it will perform when chosen; undefined once it has returned. */
  pending: Op | undefined;
  /** For a pending sleep: when it may run. */
  wake: number;
}

interface MutexState {
  writer: number; // task index, -1 when none
  readers: Map<number, number>; // task index -> read holds
}

export class Run {
  readonly tasks: TaskState[] = [];
  readonly trace: TraceEntry[] = [];
  /** The choices so far (task indices). */
  readonly choices: number[] = [];
  clock = 0;
  preemptions = 0;
  /** Index of the task that took the last step, -1 before the first. */
  last = -1;
  status: RunStatus = 'running';
  violation: Violation | undefined;
  private readonly mutexes = new Map<string, MutexState>();
  private enabledCache: number[] | undefined;
  readonly instance: Instance;

  constructor(
    setup: (env: ExploreEnv) => Instance,
    private readonly opts: { readonly record: boolean; readonly maxSteps: number },
  ) {
    const env: ExploreEnv = { now: () => this.clock };
    this.instance = setup(env);
    const seen = new Set<string>();
    for (const t of this.instance.tasks) {
      if (!isTaskName(t.name)) throw new ExploreError(`task name "${t.name}": use letters, digits, _ - . (it appears in printed schedules)`);
      if (seen.has(t.name)) throw new ExploreError(`two tasks are named "${t.name}"`);
      seen.add(t.name);
      this.tasks.push({ name: t.name, gen: t.body, pending: undefined, wake: 0 });
    }
    if (this.tasks.length === 0) throw new ExploreError('the instance has no tasks');
    for (let i = 0; i < this.tasks.length && this.status === 'running'; i++) this.resume(i);
    this.settle();
  }

  get steps(): number {
    return this.choices.length;
  }

  /** Task indices that may take the next step, in declaration order. */
  enabled(): readonly number[] {
    if (this.enabledCache === undefined) {
      const out: number[] = [];
      if (this.status === 'running') for (let i = 0; i < this.tasks.length; i++) if (this.isEnabled(i)) out.push(i);
      this.enabledCache = out;
    }
    return this.enabledCache;
  }

  isEnabled(i: number): boolean {
    const t = this.tasks[i]!;
    const op = t.pending;
    if (op === undefined) return false;
    switch (op.kind) {
      case 'step':
      case 'unlock':
        return true;
      case 'sleep':
        return this.clock >= t.wake;
      case 'lock': {
        const m = this.mutexes.get(op.mutex);
        if (m === undefined) return true;
        return op.shared ? m.writer < 0 : m.writer < 0 && m.readers.size === 0;
      }
    }
  }

  pending(i: number): Op | undefined {
    return this.tasks[i]!.pending;
  }

  /** Would choosing `i` now be a preemption (the last task is still enabled and is not `i`)? */
  preempts(i: number): boolean {
    return this.last >= 0 && this.last !== i && this.isEnabled(this.last);
  }

  /** Performs task `i`'s pending op and resumes it to its next yield. */
  execute(i: number): void {
    if (this.status !== 'running') throw new ExploreError(`execute: the run has already ended (${this.status})`);
    if (!this.isEnabled(i)) throw new ExploreError(`execute: task "${this.tasks[i]?.name ?? i}" is not enabled`);
    const t = this.tasks[i]!;
    const op = t.pending!;
    const preempt = this.preempts(i);
    if (preempt) this.preemptions++;
    if (this.opts.record) {
      const what = op.kind === 'step' || op.kind === 'sleep' ? op.label : op.shared ? `${op.mutex} (shared)` : op.mutex;
      this.trace.push({ step: this.choices.length, t: this.clock, task: t.name, op: op.kind, what, preempt });
    }
    this.choices.push(i);
    this.last = i;
    this.enabledCache = undefined;
    if (op.kind === 'lock') this.acquire(i, op.mutex, op.shared === true);
    else if (op.kind === 'unlock' && !this.release(i, op.mutex, op.shared === true)) return;
    this.resume(i);
    if (this.status === 'running' && this.choices.length >= this.opts.maxSteps && this.tasks.some((x) => x.pending !== undefined)) {
      this.end('liveness', `the tasks took ${this.choices.length} steps without all finishing (the step limit)`);
    }
    this.settle();
  }

  private acquire(i: number, name: string, shared: boolean): void {
    let m = this.mutexes.get(name);
    if (m === undefined) this.mutexes.set(name, (m = { writer: -1, readers: new Map() }));
    if (shared) m.readers.set(i, (m.readers.get(i) ?? 0) + 1);
    else m.writer = i;
  }

  /** False (and the run ends as a crash) for an unlock of a mutex the task does not hold, which
   *  Go treats as a fatal error. */
  private release(i: number, name: string, shared: boolean): boolean {
    const m = this.mutexes.get(name);
    const who = this.tasks[i]!.name;
    if (shared) {
      const n = m?.readers.get(i) ?? 0;
      if (n === 0) return this.end('crash', `${who}: read-unlock of mutex "${name}", which it does not hold for reading`), false;
      if (n === 1) m!.readers.delete(i);
      else m!.readers.set(i, n - 1);
    } else {
      if (m === undefined || m.writer !== i) return this.end('crash', `${who}: unlock of mutex "${name}", which it does not hold`), false;
      m.writer = -1;
    }
    return true;
  }

  private resume(i: number): void {
    const t = this.tasks[i]!;
    let r: IteratorResult<Op, unknown>;
    try {
      r = t.gen.next();
    } catch (e) {
      t.pending = undefined;
      this.end('crash', `${t.name} threw: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (r.done) {
      t.pending = undefined;
      return;
    }
    t.pending = checkOp(t.name, r.value);
    if (t.pending.kind === 'sleep') t.wake = this.clock + t.pending.us;
  }

  /** After a step: jump the clock if only sleepers can move, end the run if nobody can. */
  private settle(): void {
    this.enabledCache = undefined;
    if (this.status !== 'running') return;
    if (this.enabled().length > 0) return;
    let wake = Infinity;
    for (const t of this.tasks) if (t.pending?.kind === 'sleep') wake = Math.min(wake, t.wake);
    if (wake !== Infinity) {
      this.clock = wake;
      this.enabledCache = undefined;
      return;
    }
    const stuck = this.tasks.filter((t) => t.pending !== undefined);
    if (stuck.length === 0) {
      this.status = 'done';
      const v = this.instance.check();
      this.violation = typeof v === 'string' ? { kind: 'safety', message: v } : v;
      return;
    }
    const waits = stuck.map((t) => {
      const op = t.pending as Extract<Op, { kind: 'lock' }>;
      const m = this.mutexes.get(op.mutex)!;
      const holders = [...(m.writer >= 0 ? [m.writer] : []), ...m.readers.keys()].map((h) => this.tasks[h]!.name);
      return `${t.name} waits for ${op.mutex}${op.shared ? ' (shared)' : ''} held by ${holders.join(', ')}`;
    });
    this.end('deadlock', `deadlock: ${waits.join('; ')}`);
  }

  private end(status: 'deadlock' | 'crash' | 'liveness', message: string): void {
    this.status = status;
    this.violation = { kind: status, message };
    this.enabledCache = undefined;
  }
}

function checkOp(task: string, op: Op): Op {
  const bad = (why: string): never => {
    throw new ExploreError(`task ${task} yielded ${JSON.stringify(op)}: ${why}`);
  };
  if (op === null || typeof op !== 'object') bad('expected an Op from host/explore/task.ts');
  switch (op.kind) {
    case 'step':
      if (!Array.isArray(op.touches)) bad('a step needs touches (an array, possibly empty)');
      return op;
    case 'lock':
    case 'unlock':
      if (typeof op.mutex !== 'string' || op.mutex === '') bad('a lock op needs a mutex name');
      return op;
    case 'sleep':
      if (!Number.isFinite(op.us) || op.us < 0) bad('a sleep needs a finite, non-negative number of µs');
      return op;
    default:
      return bad('unknown op kind');
  }
}
