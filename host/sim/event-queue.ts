/** Timed events, ordered by (time, insertion order) so equal times run deterministically. */
export interface ScheduledEvent {
  readonly at: number;
  readonly seq: number;
  readonly label: string;
  readonly run: () => void;
  cancelled: boolean;
}

export class EventQueue {
  private heap: ScheduledEvent[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, label: string, run: () => void): ScheduledEvent {
    const ev: ScheduledEvent = { at, seq: this.nextSeq++, label, run, cancelled: false };
    const h = this.heap;
    // Sift up by moving parents into the hole, then drop the event where the hole stops.
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!before(ev, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = ev;
    return ev;
  }

  /** Time of the earliest live event, or Infinity. */
  peekTime(): number {
    this.dropCancelled();
    return this.heap.length > 0 ? this.heap[0]!.at : Infinity;
  }

  /** Removes and returns the earliest live event due at or before `now`. */
  popDue(now: number): ScheduledEvent | undefined {
    this.dropCancelled();
    const top = this.heap[0];
    if (top === undefined || top.at > now) return undefined;
    this.popTop();
    return top;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.popTop();
  }

  private popTop(): void {
    const h = this.heap;
    const last = h.pop()!;
    const n = h.length;
    if (n === 0) return;
    // Sift `last` down from the root's hole.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r]!, h[l]!) ? r : l;
      const child = h[c]!;
      if (!before(child, last)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
  }
}

function before(x: ScheduledEvent, y: ScheduledEvent): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}
