/** Timed events, ordered by (time, insertion order) so equal times run deterministically. */
export interface ScheduledEvent {
  readonly at: number;
  readonly seq: number;
  readonly label: string;
  readonly run: () => void;
  /** What the event changes (a machine's kernel), or undefined for "anything" (see World). */
  readonly touches: Touchable | undefined;
  cancelled: boolean;
  /** Index in the heap while queued, -1 once popped or removed. */
  pos: number;
}

/** A part of the world an event can change: an idle machine is polled again only when something
 *  it can see was touched (SpdkMachine.pollOnce). */
export interface Touchable {
  touched: boolean;
}

/**
 * A binary min-heap that knows where each event sits, so a cancelled event leaves at once:
 * TCP re-arms and clears timers all the time, and cancelled events left in place until due
 * (40 ms for a delayed ACK) made the heap a hundred times larger than what is live.
 */
export class EventQueue {
  private heap: ScheduledEvent[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, label: string, run: () => void, touches?: Touchable): ScheduledEvent {
    const ev: ScheduledEvent = { at, seq: this.nextSeq++, label, run, touches, cancelled: false, pos: this.heap.length };
    this.heap.push(ev);
    this.siftUp(ev);
    return ev;
  }

  /** Takes a queued event out (cancel). */
  remove(ev: ScheduledEvent): void {
    ev.cancelled = true;
    const i = ev.pos;
    if (i < 0) return;
    ev.pos = -1;
    const last = this.heap.pop()!;
    if (last === ev) return;
    // The last event fills the hole; it may belong above or below it.
    this.heap[i] = last;
    last.pos = i;
    if (i > 0 && before(last, this.heap[(i - 1) >> 1]!)) this.siftUp(last);
    else this.siftDown(last);
  }

  /** Time of the earliest event, or Infinity. */
  peekTime(): number {
    return this.heap.length > 0 ? this.heap[0]!.at : Infinity;
  }

  /** Removes and returns the earliest event due at or before `now`. */
  popDue(now: number): ScheduledEvent | undefined {
    const top = this.heap[0];
    if (top === undefined || top.at > now) return undefined;
    top.pos = -1;
    const last = this.heap.pop()!;
    if (last !== top) {
      this.heap[0] = last;
      last.pos = 0;
      this.siftDown(last);
    }
    return top;
  }

  /** Moves `ev` up from its position by moving parents into the hole. */
  private siftUp(ev: ScheduledEvent): void {
    const h = this.heap;
    let i = ev.pos;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!before(ev, parent)) break;
      h[i] = parent;
      parent.pos = i;
      i = p;
    }
    h[i] = ev;
    ev.pos = i;
  }

  /** Moves `ev` down from its position by moving the earlier child into the hole. */
  private siftDown(ev: ScheduledEvent): void {
    const h = this.heap;
    const n = h.length;
    let i = ev.pos;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r]!, h[l]!) ? r : l;
      const child = h[c]!;
      if (!before(child, ev)) break;
      h[i] = child;
      child.pos = i;
      i = c;
    }
    h[i] = ev;
    ev.pos = i;
  }
}

function before(x: ScheduledEvent, y: ScheduledEvent): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}
