/**
 * Waiting without blocking, for the host block layer and the processes that use it (the Longhorn
 * engine's copy, a checksum reader). A `Pending<T>` is a result that arrives later; a process is a
 * generator that yields Pendings and is resumed with their values. Resumption always goes through
 * the scheduler (the world's event queue), never from inside the call that settled the Pending: a
 * completion may arrive inside a host import called by C, and the resumed code may call into C.
 */

/** What the block layer needs from the world: the clock and a deterministic event queue. */
export interface Scheduler {
  readonly now: number;
  after(delayUs: number, label: string, run: () => void): unknown;
}

/** Runs every callback at once: for the scripted kernel of unit tests, which has no world. */
export const IMMEDIATE: Scheduler = {
  now: 0,
  after(_delayUs: number, _label: string, run: () => void): void {
    run();
  },
};

export class Pending<T> {
  private state: { value: T } | undefined;
  private waiters: ((value: T) => void)[] = [];

  static of<T>(value: T): Pending<T> {
    const p = new Pending<T>();
    p.resolve(value);
    return p;
  }

  get settled(): boolean {
    return this.state !== undefined;
  }

  /** The value; throws before the Pending settled. */
  get value(): T {
    if (this.state === undefined) throw new Error('Pending.value read before it settled');
    return this.state.value;
  }

  resolve(value: T): void {
    if (this.state !== undefined) throw new Error('Pending resolved twice');
    this.state = { value };
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w(value);
  }

  /** Calls `fn` with the value once settled (at once when it already is). */
  then(fn: (value: T) => void): void {
    if (this.state !== undefined) fn(this.state.value);
    else this.waiters.push(fn);
  }
}

/** Settles when every one of `ps` has; the value is the list of their values. */
export function all<T>(ps: Pending<T>[]): Pending<T[]> {
  const out = new Pending<T[]>();
  const values: T[] = new Array(ps.length);
  let left = ps.length;
  if (left === 0) out.resolve(values);
  ps.forEach((p, i) =>
    p.then((v) => {
      values[i] = v;
      if (--left === 0) out.resolve(values);
    }),
  );
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Proc<R> = Generator<Pending<any>, R, any>;

/** `const v = yield* wait(p)`: suspends the process until p settles, typed. */
export function* wait<T>(p: Pending<T>): Generator<Pending<T>, T, T> {
  return yield p;
}

/** Starts a process; its first step runs from the scheduler too. A throw inside the process
 *  settles the result with the error (check `failed`) rather than escaping into the world. */
export function spawn<R>(sched: Scheduler, label: string, body: Proc<R>): Pending<R | ProcError> {
  const done = new Pending<R | ProcError>();
  const step = (input: unknown): void => {
    let r: IteratorResult<Pending<unknown>, R>;
    try {
      r = body.next(input);
    } catch (err) {
      done.resolve(new ProcError(label, err));
      return;
    }
    if (r.done) {
      done.resolve(r.value);
      return;
    }
    r.value.then((v) => sched.after(0, label, () => step(v)));
  };
  sched.after(0, label, () => step(undefined));
  return done;
}

/** A process that threw. */
export class ProcError {
  constructor(readonly proc: string, readonly cause: unknown) {}

  get message(): string {
    return `${this.proc}: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`;
  }
}
