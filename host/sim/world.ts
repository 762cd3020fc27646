import { EventQueue, type ScheduledEvent } from './event-queue.js';
import { Prng } from './prng.js';
import { Trace, type TraceEvent } from './trace.js';

/** Anything the world steps: a machine's SPDK threads (decision 5). */
export interface Steppable {
  readonly name: string;
  /** Runs every SPDK thread once. `nextDeadline` is the absolute µs of the next timed poller. */
  pollOnce(): { busy: boolean; nextDeadline: number };
}

export type RunOutcome = 'done' | 'quiescent' | 'deadline';

/** A busy machine costs no virtual time, but after this many busy rounds at one instant the
 *  clock moves 1 µs so a poller that always reports busy cannot stall the world. */
const BUSY_ROUNDS_PER_US = 64;

/**
 * The deterministic world (decision 4): virtual clock in µs, seeded PRNG, event queue, trace,
 * and the machines it steps. Time jumps to the next due event when every machine is idle.
 */
export class World {
  now = 0;
  readonly rng: Prng;
  readonly trace: Trace;
  private readonly queue = new EventQueue();
  private readonly steppables: Steppable[] = [];

  constructor(readonly seed: number, opts: { keepTrace?: number } = {}) {
    this.rng = new Prng(seed);
    this.trace = new Trace(opts.keepTrace ?? 0);
  }

  add(s: Steppable): void {
    this.steppables.push(s);
  }

  /** The machine (or other steppable) of that name, for fault injection and inspection. */
  find(name: string): Steppable | undefined {
    return this.steppables.find((s) => s.name === name);
  }

  remove(s: Steppable): void {
    const i = this.steppables.indexOf(s);
    if (i >= 0) this.steppables.splice(i, 1);
  }

  /** Schedules `run` at absolute time `at` (clamped to now). */
  at(at: number, label: string, run: () => void): ScheduledEvent {
    return this.queue.push(Math.max(this.now, Math.ceil(at)), label, run);
  }

  after(delayUs: number, label: string, run: () => void): ScheduledEvent {
    return this.at(this.now + delayUs, label, run);
  }

  cancel(ev: ScheduledEvent | undefined): void {
    if (ev !== undefined) ev.cancelled = true;
  }

  record(machine: string, ev: string, f?: TraceEvent['f']): void {
    this.trace.record(f === undefined ? { t: this.now, m: machine, ev } : { t: this.now, m: machine, ev, f });
  }

  /**
   * Steps machines and events until `done()` holds, nothing is left to do, or the clock would pass
   * `untilUs`. `done` is checked after every round.
   */
  run(done: () => boolean, untilUs: number): RunOutcome {
    let busyRounds = 0;
    for (;;) {
      for (let ev = this.queue.popDue(this.now); ev !== undefined; ev = this.queue.popDue(this.now)) {
        ev.run();
      }
      let busy = false;
      let next = Infinity;
      for (const s of this.steppables) {
        const r = s.pollOnce();
        busy ||= r.busy;
        if (r.nextDeadline < next) next = r.nextDeadline;
      }
      if (done()) return 'done';
      const t = Math.min(next, this.queue.peekTime());
      if (busy || t <= this.now) {
        if (++busyRounds < BUSY_ROUNDS_PER_US) continue;
        busyRounds = 0;
        if (this.now + 1 > untilUs) return 'deadline';
        this.now += 1;
        continue;
      }
      busyRounds = 0;
      if (t === Infinity) return 'quiescent';
      if (t > untilUs) {
        this.now = Math.max(this.now, untilUs);
        return 'deadline';
      }
      this.now = Math.ceil(t);
    }
  }
}
