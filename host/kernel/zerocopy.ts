/**
 * MSG_ZEROCOPY bookkeeping for one socket (spec §7): the 32-bit id counter, one record per
 * flagged call that accepted bytes, and the rule for when a record's notification is due:
 * all its bytes cumulatively ACKed and no NIC frame still holding them.
 */

export interface ZcRecord {
  readonly id: number;
  /** Stream offsets [start, end) of the call's accepted bytes. */
  readonly start: number;
  readonly end: number;
  /** Queued or transmitting frames that reference these bytes. */
  inflight: number;
  acked: boolean;
  done: boolean;
}

export type ZcNotify = (lo: number, hi: number) => void;

export class ZeroCopy {
  /** SO_ZEROCOPY. */
  enabled = false;
  /** Next id (sk_zckey). Tests may set it to exercise wrap-around. */
  key = 0;
  /** Ids consumed, notifications queued (counters for tests and scenarios). */
  ids = 0;
  notified = 0;
  /** Fault knob: the next N flagged calls fail with ENOBUFS (optmem exhausted). */
  nobufs = 0;
  /** The socket was closed or aborted: records are never notified (Linux: socket dead). */
  dead = false;

  private recs: ZcRecord[] = [];
  private head = 0;

  constructor(private readonly notify: ZcNotify) {}

  get pending(): number {
    let n = 0;
    for (let i = this.head; i < this.recs.length; i++) if (!this.recs[i]!.done) n++;
    return n;
  }

  /** Consumes an id for a call whose bytes occupy [start, end). */
  take(start: number, end: number): ZcRecord {
    const rec: ZcRecord = { id: this.key, start, end, inflight: 0, acked: false, done: false };
    this.key = (this.key + 1) >>> 0;
    this.ids++;
    this.recs.push(rec);
    return rec;
  }

  /** Records whose bytes intersect [off, end), or undefined when none (the common case). */
  overlapping(off: number, end: number): ZcRecord[] | undefined {
    let out: ZcRecord[] | undefined;
    let lo = this.head;
    let hi = this.recs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.recs[mid]!.end <= off) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.recs.length; i++) {
      const r = this.recs[i]!;
      if (r.start >= end) break;
      (out ??= []).push(r);
    }
    return out;
  }

  /** Cumulative ACK reached `una`: notify every record now fully acked and idle, in call order. */
  acked(una: number): void {
    for (let i = this.head; i < this.recs.length; i++) {
      const r = this.recs[i]!;
      if (r.end > una) break;
      if (!r.acked) {
        r.acked = true;
        this.maybeNotify(r);
      }
    }
    this.compact();
  }

  /** A frame holding `r` left the NIC. */
  released(r: ZcRecord): void {
    r.inflight--;
    this.maybeNotify(r);
    this.compact();
  }

  /**
   * The write queue was purged (abort: Linux tcp_write_queue_purge from tcp_write_err/tcp_reset):
   * the socket lets go of every record's pages, so each is notified, in call order, once no NIC
   * frame still holds it (the socket is not dead yet: its fd is open).
   */
  purged(): void {
    for (let i = this.head; i < this.recs.length; i++) {
      const r = this.recs[i]!;
      if (!r.acked) {
        r.acked = true;
        this.maybeNotify(r);
      }
    }
    this.compact();
  }

  /** Close: pending records are dropped without notification (Linux: the socket is dead). */
  kill(): void {
    this.dead = true;
    this.recs = [];
    this.head = 0;
  }

  private maybeNotify(r: ZcRecord): void {
    if (r.done || !r.acked || r.inflight > 0 || this.dead) return;
    r.done = true;
    this.notified++;
    this.notify(r.id, r.id);
  }

  private compact(): void {
    while (this.head < this.recs.length && this.recs[this.head]!.done) this.head++;
    if (this.head > 64 && this.head * 2 > this.recs.length) {
      this.recs = this.recs.slice(this.head);
      this.head = 0;
    }
  }
}
