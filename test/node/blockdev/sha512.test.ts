/** host/longhorn/sha512.ts against Node's OpenSSL SHA-512: padding edges and chunked updates. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha512, sha512Hex } from '../../../host/longhorn/sha512.js';

const ref = (b: Uint8Array): string => createHash('sha512').update(b).digest('hex');

describe('sha512', () => {
  it('matches the FIPS 180-4 "abc" vector', () => {
    expect(sha512Hex(new TextEncoder().encode('abc'))).toBe(
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    );
  });

  it.each([0, 1, 111, 112, 113, 127, 128, 129, 255, 256, 1000, 100_000])('%i bytes equal OpenSSL', (n) => {
    const b = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 255);
    expect(sha512Hex(b)).toBe(ref(b));
  });

  it('chunked updates of odd sizes give the same digest as one update (4 MiB)', () => {
    const big = new Uint8Array(4 << 20).map((_, i) => (i * 131) & 255);
    const s = new Sha512();
    for (let i = 0, step = 1; i < big.length; i += step, step = (step * 7 + 5) % 40000 + 1) s.update(big.subarray(i, i + step));
    expect(s.hex()).toBe(ref(big));
  });
});
