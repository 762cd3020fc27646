import { describe, expect, it } from 'vitest';
import { OutOfOrder, RecvQueue } from '../../../host/kernel/recv-buffer.js';
import { Prng } from '../../../host/sim/prng.js';

/** Reads the queue through random iovecs into a scratch "guest memory" and returns the bytes. */
function read(q: RecvQueue, rng: Prng, peek: boolean): Uint8Array {
  const mem = new Uint8Array(1 << 16).fill(0xee);
  const iov = Array.from({ length: rng.int(1, 3) }, (_, i) => ({ base: i * 20000, len: rng.int(0, 9000) }));
  const n = q.copyOut(mem, iov, peek);
  const out = new Uint8Array(n);
  let at = 0;
  for (const v of iov) {
    const k = Math.min(v.len, n - at);
    out.set(mem.subarray(v.base, v.base + k), at);
    at += k;
  }
  return out;
}

describe('RecvQueue (ring of received bytes)', () => {
  it('keeps the byte order through wraparound, growth, peeks and partial reads', () => {
    const rng = new Prng(7);
    const q = new RecvQueue();
    const expected: number[] = [];
    let next = 0;
    for (let step = 0; step < 1000; step++) {
      if (rng.int(0, 2) > 0) {
        const b = new Uint8Array(rng.int(0, 6000));
        for (let i = 0; i < b.length; i++) b[i] = next++ & 0xff;
        q.push(b);
        b.fill(0); // the queue keeps its own copy
        expected.push(...Array.from(b, (_, i) => (next - b.length + i) & 0xff));
      } else {
        const peek = rng.int(0, 3) === 0;
        const got = read(q, rng, peek);
        expect(Array.from(got)).toEqual(expected.slice(0, got.length));
        if (!peek) expected.splice(0, got.length);
      }
      expect(q.bytes).toBe(expected.length);
    }
  });
});

describe('OutOfOrder', () => {
  it('keeps its own copy of a held segment', () => {
    const ooo = new OutOfOrder();
    const data = new Uint8Array([1, 2, 3, 4]);
    ooo.add(10, data, false);
    data.fill(9); // the frame's payload is reused once the segment is handled
    expect(Array.from(ooo.takeAt(12)!.data)).toEqual([3, 4]);
  });
});
