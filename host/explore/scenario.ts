/**
 * What a scenario gives the explorer (issue 14). The explorer is a stateless model checker: it
 * calls `setup` afresh for every schedule it runs, so an Instance must build all of its state
 * (maps, models, counters) inside `setup` and share nothing with earlier instances.
 */
import type { TaskBody } from './task.js';

/** A named goroutine of the model. Names appear in printed schedules, so they are short words:
 *  letters, digits, `_`, `-` and `.`, starting with a letter or `_`. */
export interface ExploreTask {
  readonly name: string;
  readonly body: TaskBody<unknown>;
}

/** Safety: check() found wrong state. Deadlock: tasks wait on mutexes nobody will release.
 *  Crash: a task threw (a modelled panic) or unlocked a mutex it did not hold. Liveness: the run
 *  took more steps than the explorer's step limit (a task that never finishes). */
export type ViolationKind = 'safety' | 'deadlock' | 'crash' | 'liveness';

export interface Violation {
  readonly kind: ViolationKind;
  readonly message: string;
}

/** The explorer's side of an instance: the simulated clock the tasks' sleeps run on. */
export interface ExploreEnv {
  /** Simulated time in µs; starts at 0 and moves only when every unfinished task sleeps. */
  now(): number;
}

export interface Instance {
  /** Run in this order when the chooser has no say; the first `next()` of each (the code before
   *  its first yield) runs at start, in this order, and must touch no shared state. */
  readonly tasks: readonly ExploreTask[];
  /** Called once every task has returned: the verdict on the final state. A string is a safety
   *  violation with that message. */
  check(): Violation | string | undefined;
  /** The final state as a string, for counting distinct final states (optional). */
  state?(): string;
}

export interface ExploreScenario {
  readonly name: string;
  setup(env: ExploreEnv): Instance;
}

/** Misuse of the explorer (a bad schedule, a malformed op, a scenario that is not deterministic):
 *  an error for the caller, never a verdict on the model. */
export class ExploreError extends Error {
  override readonly name: string = 'ExploreError';
}
