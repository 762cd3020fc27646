import { EventQueue, type ScheduledEvent, type Touchable } from './event-queue.js';
import { Prng } from './prng.js';
import { Trace, type TraceEvent } from './trace.js';

export type { Touchable } from './event-queue.js';

/** Anything the world steps: a machine's SPDK threads (decision 5). */
export interface Steppable {
  readonly name: string;
  /** Runs every SPDK thread once. `nextDeadline` is the absolute µs of the next timed poller.
   *  A steppable may skip the work, answering idle again, when its last poll was idle and
   *  nothing it can see changed since (World.epoch, the Touchable its events name). */
  pollOnce(): { busy: boolean; nextDeadline: number };
}

export type RunOutcome = 'done' | 'quiescent' | 'deadline';

/** Thrown when machines keep reporting busy far beyond any healthy run: a livelock (e.g. a poller
 *  that spins on a socket nothing will ever change) would otherwise crawl through virtual time at
 *  1 µs per BUSY_ROUNDS_PER_US rounds and look like a hang. */
export class WorldStalled extends Error {
  constructor(readonly now: number, readonly busyRounds: number, readonly busy: string[]) {
    super(`world stalled at ${now} µs: ${busy.join(', ') || 'a machine'} reported busy for ${busyRounds} rounds (livelock?)`);
  }
}

/** A round in which some machine did work costs virtual time: after this many busy rounds at one
 *  instant the clock moves 1 µs, about what a reactor iteration costs, so a poller that spins
 *  without progress burns virtual time as it would burn a real core's. */
const BUSY_ROUNDS_PER_US = 1;

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
  /** Busy rounds run at the current instant (see BUSY_ROUNDS_PER_US). */
  private busyRounds = 0;
  /** Busy rounds allowed over the world's life before it is declared stalled (WorldStalled). */
  busyRoundBudget = 20_000_000;
  private busyRoundsTotal = 0;
  /** Names of the machines that reported busy in the latest round (for WorldStalled). */
  private readonly busyInRound: string[] = [];
  /** The last round's poll results when `run` stopped before acting on them. */
  private pending: { busy: boolean; next: number } | undefined;

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

  /** Names of everything stepped, in the order added (a page lists the machines it may crash). */
  names(): string[] {
    return this.steppables.map((s) => s.name);
  }

  remove(s: Steppable): void {
    const i = this.steppables.indexOf(s);
    if (i >= 0) this.steppables.splice(i, 1);
  }

  /** Schedules `run` at absolute time `at` (clamped to now). `touches` names the one part of the
   *  world it changes (a machine's kernel); without it the event may change anything. */
  at(at: number, label: string, run: () => void, touches?: Touchable): ScheduledEvent {
    return this.queue.push(Math.max(this.now, Math.ceil(at)), label, run, touches);
  }

  after(delayUs: number, label: string, run: () => void, touches?: Touchable): ScheduledEvent {
    return this.at(this.now + delayUs, label, run, touches);
  }

  /** Bumped whenever something may have changed anywhere: an event that names nothing it
   *  touches, and every entry into run() (callers change kernels between runs). */
  get epoch(): number {
    return this.changes;
  }

  private changes = 0;

  cancel(ev: ScheduledEvent | undefined): void {
    if (ev !== undefined) this.queue.remove(ev);
  }

  record(machine: string, ev: string, f?: TraceEvent['f']): void {
    this.trace.recordAt(this.now, machine, ev, f);
  }

  /**
   * Steps machines and events until `done()` holds, nothing is left to do, or the clock would pass
   * `untilUs`. `done` is checked after every round. Stopping at `untilUs` and calling again gives
   * exactly the rounds one longer call would have run (the demos step a replay this way), because
   * the round that found nothing due before `untilUs` is resumed rather than polled again.
   */
  run(done: () => boolean, untilUs: number): RunOutcome {
    const steppables = this.steppables;
    this.changes++;
    for (;;) {
      let busy: boolean;
      let next: number;
      const pending = this.pending;
      if (pending !== undefined) {
        this.pending = undefined;
        busy = pending.busy;
        next = pending.next;
      } else {
        for (let ev = this.queue.popDue(this.now); ev !== undefined; ev = this.queue.popDue(this.now)) {
          ev.run();
          if (ev.touches !== undefined) ev.touches.touched = true;
          else this.changes++;
        }
        busy = false;
        next = Infinity;
        let busyCount = 0;
        for (let i = 0; i < steppables.length; i++) {
          const s = steppables[i]!;
          const r = s.pollOnce();
          if (r.busy) {
            busy = true;
            this.busyInRound[busyCount++] = s.name;
          }
          if (r.nextDeadline < next) next = r.nextDeadline;
        }
        if (busyCount !== this.busyInRound.length) this.busyInRound.length = busyCount;
        if (done()) return 'done';
      }
      const t = Math.min(next, this.queue.peekTime());
      if (busy || t <= this.now) {
        if (busy && ++this.busyRoundsTotal > this.busyRoundBudget) {
          this.pending = { busy, next };
          throw new WorldStalled(this.now, this.busyRoundsTotal, [...this.busyInRound]);
        }
        if (this.busyRounds + 1 < BUSY_ROUNDS_PER_US) {
          this.busyRounds++;
          continue;
        }
        if (this.now + 1 > untilUs) {
          this.pending = { busy, next };
          return 'deadline';
        }
        this.busyRounds = 0;
        this.now += 1;
        continue;
      }
      this.busyRounds = 0;
      if (t === Infinity) {
        this.pending = { busy, next };
        return 'quiescent';
      }
      if (t > untilUs) {
        this.now = Math.max(this.now, untilUs);
        this.pending = { busy, next };
        return 'deadline';
      }
      this.now = Math.ceil(t);
    }
  }
}
