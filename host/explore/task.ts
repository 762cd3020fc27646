/**
 * Modelled goroutines for the interleaving explorer (issue 14). A task is a generator that yields
 * an Op at every point where another task may run first: before a step that touches shared state
 * (a JSON-RPC call, a map read or write), at a lock acquire or release, at a timer. Between two
 * yields a task runs alone, so each step is atomic; the explorer (host/explore/explorer.ts) picks
 * which enabled task takes its next step, by seed, exhaustively, or from a printed schedule.
 *
 * Generators rather than async functions: the runner resumes exactly one task with `next()` and
 * gets control back synchronously at its next yield, with no microtask ordering to reason about,
 * and a schedule is replayed by re-running the scenario from scratch with the same choices.
 */

/** A shared object the step after a yield reads or writes; the reduction treats two steps as
 *  independent when they touch no object in common with at least one write. */
export interface Touch {
  readonly object: string;
  readonly write: boolean;
}

export type Op =
  /** Run the next step, which touches `touches`. */
  | { readonly kind: 'step'; readonly label: string; readonly touches: readonly Touch[] }
  /** Acquire a mutex: the task is enabled only while nobody holds it (a writer lock; `shared`
   *  is an RWMutex's RLock, enabled while no writer holds it). */
  | { readonly kind: 'lock'; readonly mutex: string; readonly shared?: boolean }
  | { readonly kind: 'unlock'; readonly mutex: string; readonly shared?: boolean }
  /** Wait `us` of simulated time: enabled once the clock reaches the wake-up time. */
  | { readonly kind: 'sleep'; readonly us: number; readonly label: string };

/** A task's body: yields Ops, returns its result. */
export type TaskBody<R = void> = Generator<Op, R, void>;

/** `yield* step('bdev_get_bdevs', [reads('spdk')])` before the code that does it. */
export function* step(label: string, touches: readonly Touch[]): Generator<Op, void, void> {
  yield { kind: 'step', label, touches };
}

export function* lock(mutex: string, shared = false): Generator<Op, void, void> {
  yield { kind: 'lock', mutex, shared };
}

export function* unlock(mutex: string, shared = false): Generator<Op, void, void> {
  yield { kind: 'unlock', mutex, shared };
}

export function* sleep(us: number, label: string): Generator<Op, void, void> {
  yield { kind: 'sleep', us, label };
}

export const reads = (object: string): Touch => ({ object, write: false });
export const writes = (object: string): Touch => ({ object, write: true });
