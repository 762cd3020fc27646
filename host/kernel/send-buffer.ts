/**
 * The socket send queue as a list of chunks indexed by stream offset. A chunk either owns a copy
 * (plain send) or references guest memory (MSG_ZEROCOPY): zero-copy bytes are read only when a
 * frame is materialized, so every transmit and retransmit sees the buffer as it is then.
 */
import type { GuestMemory } from './host-kernel.js';
import { copyRange } from './iov.js';

export interface Chunk {
  /** Stream offset of the first byte. */
  readonly start: number;
  readonly len: number;
  /** Owned copy, or undefined for a reference to guest memory at `addr`. */
  readonly data: Uint8Array | undefined;
  readonly addr: number;
}

/** A slice of one chunk, captured when a frame is built (chunks outlive the ACK while a frame
 *  that references them is still queued on the NIC). */
export interface Piece {
  chunk: Chunk;
  from: number;
  n: number;
}

export class SendBuffer {
  private chunks: Chunk[] = [];
  private head = 0;
  /** Stream offset one past the last byte written. */
  end = 0;

  constructor(private readonly memory: GuestMemory) {}

  appendCopy(data: Uint8Array): void {
    this.chunks.push({ start: this.end, len: data.length, data, addr: 0 });
    this.end += data.length;
  }

  appendRef(addr: number, len: number): void {
    this.chunks.push({ start: this.end, len, data: undefined, addr });
    this.end += len;
  }

  /** Pieces covering [off, off + len). */
  pieces(off: number, len: number): Piece[] {
    const out: Piece[] = [];
    let i = this.find(off);
    let at = off;
    const stop = off + len;
    while (at < stop) {
      const c = this.chunks[i++];
      if (c === undefined) throw new RangeError(`SendBuffer: offset ${at} beyond written end ${this.end}`);
      const from = at - c.start;
      const n = Math.min(c.len - from, stop - at);
      out.push({ chunk: c, from, n });
      at += n;
    }
    return out;
  }

  /** The bytes of `pieces` without copying, when they are one piece of one owned copy. */
  ownedView(pieces: Piece[]): Uint8Array | undefined {
    const p0 = pieces[0];
    if (pieces.length !== 1 || p0 === undefined || p0.chunk.data === undefined) return undefined;
    return p0.chunk.data.subarray(p0.from, p0.from + p0.n);
  }

  /** Reads the bytes of `pieces` now (guest memory as it is at this moment) into `out`. */
  copyPieces(pieces: Piece[], out: Uint8Array): Uint8Array {
    const mem = this.memory.bytes();
    let at = 0;
    for (const p of pieces) {
      const c = p.chunk;
      if (c.data !== undefined) copyRange(out, at, c.data, p.from, p.n);
      else copyRange(out, at, mem, c.addr + p.from, p.n);
      at += p.n;
    }
    return out;
  }

  /** Bytes of guest memory [addr, addr + len) that unacknowledged chunks still reference (the
   *  pages a MSG_ZEROCOPY send pins until its data is acknowledged or the socket dies). */
  refBytes(addr: number, len: number): number {
    let n = 0;
    for (let i = this.head; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      if (c.data !== undefined) continue;
      n += Math.max(0, Math.min(c.addr + c.len, addr + len) - Math.max(c.addr, addr));
    }
    return n;
  }

  /** Forgets chunks that end at or before `off` (acknowledged). */
  release(off: number): void {
    while (this.head < this.chunks.length) {
      const c = this.chunks[this.head]!;
      if (c.start + c.len > off) break;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Index of the chunk holding `off` (binary search over live chunks). */
  private find(off: number): number {
    let lo = this.head;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.chunks[mid]!.start <= off) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
