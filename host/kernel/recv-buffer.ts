/** Received bytes: the in-order queue the reader drains, and out-of-order segments held until
 *  the gap before them fills (as copies: that path is rare). */
import type { IoVec } from './host-kernel.js';
import { copyRange } from './iov.js';
import { holdPayload, releasePayload, type TcpSegment } from '../net/segment.js';

/** In-order received bytes, as the arrived payloads themselves. A pooled payload (see
 *  host/net/payload-pool.ts) is held until the reader has taken all of it. */
export class RecvQueue {
  private q: Uint8Array[] = [];
  /** The segment whose pooled payload q[i] is part of, when it holds one. */
  private owners: (TcpSegment | undefined)[] = [];
  private head = 0;
  /** Bytes of q[head] already read. */
  private skip = 0;
  bytes = 0;

  push(b: Uint8Array, owner?: TcpSegment): void {
    if (b.length === 0) return;
    this.q.push(b);
    this.owners.push(owner !== undefined && holdPayload(owner) ? owner : undefined);
    this.bytes += b.length;
  }

  /** Copies up to the iovecs' capacity into guest memory; consumes unless `peek`. */
  copyOut(mem: Uint8Array, iov: IoVec[], peek: boolean): number {
    let qi = this.head;
    let skip = this.skip;
    let copied = 0;
    for (const v of iov) {
      let at = v.base;
      let room = v.len;
      while (room > 0 && qi < this.q.length) {
        const b = this.q[qi]!;
        const k = Math.min(room, b.length - skip);
        copyRange(mem, at, b, skip, k);
        at += k;
        room -= k;
        copied += k;
        skip += k;
        if (skip === b.length) {
          qi++;
          skip = 0;
        }
      }
      if (qi >= this.q.length) break;
    }
    if (!peek) {
      for (let i = this.head; i < qi; i++) {
        this.q[i] = EMPTY;
        const owner = this.owners[i];
        if (owner !== undefined) {
          this.owners[i] = undefined;
          releasePayload(owner);
        }
      }
      this.head = qi;
      this.skip = skip;
      this.bytes -= copied;
      if (this.head > 64 && this.head * 2 > this.q.length) {
        this.q = this.q.slice(this.head);
        this.owners = this.owners.slice(this.head);
        this.head = 0;
      }
    }
    return copied;
  }
}

const EMPTY = new Uint8Array(0);

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
