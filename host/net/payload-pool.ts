/**
 * Payload buffers of data frames, reused. A frame's bytes are read from the sender when the NIC
 * starts transmitting it, and are dead once every copy of the segment has arrived or been dropped
 * and the receiver has read what it queued of them. Giving each frame its own ArrayBuffer cost
 * more than the copy into it (an off-heap allocation, zeroed, that every collection weighs).
 * A segment counts what still holds its pooled payload (TcpSegment.holds).
 */

/** Size classes 4 KiB .. 64 KiB (TSO frames are at most 64 KiB); larger payloads are not pooled. */
const MIN_SHIFT = 12;
const MAX_SHIFT = 16;
/** Buffers kept per class: enough for the frames in flight on a busy link. */
const KEEP = 64;

const free: ArrayBuffer[][] = Array.from({ length: MAX_SHIFT - MIN_SHIFT + 1 }, () => []);

/** Payloads taken, and taken but not yet given back (tests check every hold is released; a
 *  socket dropped with unread data leaves its payloads to the garbage collector). */
export const payloadPool = { taken: 0, live: 0 };

function classOf(n: number): number {
  let shift = MIN_SHIFT;
  while (1 << shift < n) shift++;
  return shift - MIN_SHIFT;
}

/** A buffer of `n` bytes (contents unspecified) from the pool, or undefined if `n` is too large
 *  to pool. Give it back with givePayload once nothing reads it. */
export function takePayload(n: number): Uint8Array | undefined {
  if (n > 1 << MAX_SHIFT) return undefined;
  const c = classOf(n);
  const buf = free[c]!.pop() ?? new ArrayBuffer(1 << (c + MIN_SHIFT));
  payloadPool.taken++;
  payloadPool.live++;
  return new Uint8Array(buf, 0, n);
}

export function givePayload(p: Uint8Array): void {
  payloadPool.live--;
  const list = free[classOf(p.buffer.byteLength)]!;
  if (list.length < KEEP) list.push(p.buffer as ArrayBuffer);
}
