/**
 * Buffers for bytes that live about as long as a segment in flight (materialized frames, copied
 * sends), cut from shared slabs. One ArrayBuffer per frame cost more than the copy into it: it is
 * zeroed, allocated outside the JS heap and weighs on every garbage collection. A slab is freed by
 * the collector once nothing cut from it is referenced; a holder must not assume it owns `.buffer`.
 */
const SLAB_BYTES = 1 << 20;
/** Larger requests get their own buffer (they would waste most of a slab's tail). */
const MAX_CUT = SLAB_BYTES >> 3;

let slab = new Uint8Array(0);
let used = 0;

/** `n` bytes of unspecified content, for the caller to fill completely. */
export function takeBytes(n: number): Uint8Array {
  if (n > MAX_CUT) return new Uint8Array(n);
  if (used + n > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  used = (used + n + 7) & ~7;
  return out;
}

/** A copy of `src` in slab memory. */
export function copyBytes(src: Uint8Array): Uint8Array {
  const out = takeBytes(src.length);
  out.set(src);
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
