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
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
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
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function before(x: ScheduledEvent, y: ScheduledEvent): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}
