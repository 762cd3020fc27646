/** Received bytes: the in-order queue the reader drains, and out-of-order segments held until
 *  the gap before them fills. Both keep copies: arrived payloads are not theirs to keep. */
import type { IoVec } from './host-kernel.js';
import { copyRange } from './iov.js';

/** In-order received bytes, copied into a ring the socket owns (an arrived frame's payload goes
 *  back to the payload pool once the segment is handled). Grows to what is queued, which the
 *  receive window bounds. */
export class RecvQueue {
  private ring = new Uint8Array(0);
  /** Ring offset of the first unread byte. */
  private head = 0;
  bytes = 0;

  push(b: Uint8Array): void {
    const n = b.length;
    if (n === 0) return;
    if (this.bytes + n > this.ring.length) this.grow(this.bytes + n);
    const cap = this.ring.length;
    let w = this.head + this.bytes;
    if (w >= cap) w -= cap;
    const first = Math.min(n, cap - w);
    copyRange(this.ring, w, b, 0, first);
    if (first < n) copyRange(this.ring, 0, b, first, n - first);
    this.bytes += n;
  }

  /** Copies up to the iovecs' capacity into guest memory; consumes unless `peek`. */
  copyOut(mem: Uint8Array, iov: IoVec[], peek: boolean): number {
    const cap = this.ring.length;
    let pos = this.head;
    let left = this.bytes;
    for (const v of iov) {
      let at = v.base;
      let room = v.len;
      while (room > 0 && left > 0) {
        const k = Math.min(room, left, cap - pos);
        copyRange(mem, at, this.ring, pos, k);
        at += k;
        room -= k;
        left -= k;
        pos += k;
        if (pos === cap) pos = 0;
      }
      if (left === 0) break;
    }
    const copied = this.bytes - left;
    if (!peek) {
      this.bytes = left;
      this.head = left === 0 ? 0 : pos;
    }
    return copied;
  }

  private grow(need: number): void {
    let cap = Math.max(MIN_RING, this.ring.length * 2);
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    const tail = Math.min(this.bytes, this.ring.length - this.head);
    next.set(this.ring.subarray(this.head, this.head + tail), 0);
    if (tail < this.bytes) next.set(this.ring.subarray(0, this.bytes - tail), tail);
    this.ring = next;
    this.head = 0;
  }
}

const MIN_RING = 16384;

interface OooSeg {
  off: number;
  data: Uint8Array;
  fin: boolean;
}

/** Out-of-order segments by stream offset (sorted, possibly overlapping). */
export class OutOfOrder {
  private segs: OooSeg[] = [];
  bytes = 0;

  get empty(): boolean {
    return this.segs.length === 0;
  }

  /** Keeps its own copy of `data` (the frame's payload is reused once the segment is handled). */
  add(off: number, data: Uint8Array, fin: boolean): void {
    let i = this.segs.length;
    while (i > 0 && this.segs[i - 1]!.off > off) i--;
    this.segs.splice(i, 0, { off, data: data.slice(), fin });
    this.bytes += data.length;
  }

  /** Removes and returns the next segment that starts at or before `next`, trimmed to start at
   *  `next`; skips segments wholly below it. */
  takeAt(next: number): { data: Uint8Array; fin: boolean } | undefined {
    while (this.segs.length > 0) {
      const s = this.segs[0]!;
      if (s.off > next) return undefined;
      this.segs.shift();
      this.bytes -= s.data.length;
      const end = s.off + s.data.length;
      if (end < next || (end === next && !s.fin)) continue;
      return { data: s.data.subarray(next - s.off), fin: s.fin };
    }
    return undefined;
  }

  clear(): void {
    this.segs = [];
    this.bytes = 0;
  }
}
