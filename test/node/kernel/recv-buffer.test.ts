import { describe, expect, it } from 'vitest';
import { OutOfOrder, RecvQueue } from '../../../host/kernel/recv-buffer.js';
import { Prng } from '../../../host/sim/prng.js';
import { payloadPool, takePayload } from '../../../host/net/payload-pool.js';
import { releasePayload, type TcpSegment } from '../../../host/net/segment.js';

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

describe('RecvQueue', () => {
  it('keeps the byte order through peeks and partial reads over many pushes', () => {
    const rng = new Prng(7);
    const q = new RecvQueue();
    const expected: number[] = [];
    let next = 0;
    for (let step = 0; step < 1000; step++) {
      if (rng.int(0, 2) > 0) {
        const b = new Uint8Array(rng.int(0, 6000));
        for (let i = 0; i < b.length; i++) b[i] = next++ & 0xff;
        q.push(b);
        expected.push(...b);
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

describe('RecvQueue and pooled payloads', () => {
  it('holds a pooled payload until the reader has taken all of it, then gives it back', () => {
    const live = payloadPool.live;
    const payload = takePayload(100)!;
    payload.fill(7);
    const seg = { len: 100, payload, holds: 1 } as TcpSegment; // the arrival's hold
    const q = new RecvQueue();
    q.push(payload.subarray(10), seg);
    releasePayload(seg); // the arrival is handled; the queue still holds the bytes
    expect(seg.holds).toBe(1);
    const mem = new Uint8Array(200);
    expect(q.copyOut(mem, [{ base: 0, len: 50 }], false)).toBe(50);
    expect(q.copyOut(mem, [{ base: 0, len: 50 }], true)).toBe(40); // a peek takes nothing
    expect(payloadPool.live).toBe(live + 1);
    expect(q.copyOut(mem, [{ base: 50, len: 100 }], false)).toBe(40);
    expect(Array.from(mem.subarray(0, 90))).toEqual(new Array(90).fill(7));
    expect(seg.holds).toBe(0);
    expect(seg.payload.length).toBe(0);
    expect(payloadPool.live).toBe(live);
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
