/** Guest iovec helpers: bounds checks, gather and scatter with TypedArray copies only. */
import type { IoVec } from './host-kernel.js';

export function iovTotal(iov: IoVec[]): number {
  let n = 0;
  for (const v of iov) n += v.len;
  return n;
}

/** True when every iovec lies inside guest memory. */
export function iovInBounds(mem: Uint8Array, iov: IoVec[]): boolean {
  for (const v of iov) {
    if (v.base < 0 || v.len < 0 || v.base + v.len > mem.length) return false;
  }
  return true;
}

/** Copies the first `n` bytes described by `iov` out of guest memory into one new array. */
export function gather(mem: Uint8Array, iov: IoVec[], n: number): Uint8Array {
  const first = iov[0];
  if (first !== undefined && first.len >= n) return mem.slice(first.base, first.base + n);
  const out = new Uint8Array(n);
  let at = 0;
  for (const v of iov) {
    if (at >= n) break;
    const k = Math.min(v.len, n - at);
    out.set(mem.subarray(v.base, v.base + k), at);
    at += k;
  }
  return out;
}

/** Copies src[from, from+n) to dst[at...]. Short runs (PDU headers, digests) are copied by hand:
 *  below a few dozen bytes building the subarray for `set` costs more than the copy. */
export function copyRange(dst: Uint8Array, at: number, src: Uint8Array, from: number, n: number): void {
  if (n <= 48) {
    for (let i = 0; i < n; i++) dst[at + i] = src[from + i]!;
    return;
  }
  dst.set(src.subarray(from, from + n), at);
}
