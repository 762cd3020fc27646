import { describe, expect, it } from 'vitest';
import { diffWrite, fillPattern, patternWord, POISON_WORD } from '../../../host/scenarios/verify-pattern.js';

describe('verify pattern', () => {
  it('word j of write w is ((w & 0x3fff) << 18) | j, little-endian', () => {
    const b = new Uint8Array(8);
    fillPattern(b, 3, 4096);
    expect(Array.from(b)).toEqual([0x00, 0x04, 0x0c, 0x00, 0x01, 0x04, 0x0c, 0x00]);
    expect(patternWord(3, 1024)).toBe((3 << 18) | 1024);
  });

  it('finds no mismatch in an exact copy and exact byte ranges in a poisoned one', () => {
    const b = new Uint8Array(131072);
    fillPattern(b, 5, 0);
    expect(diffWrite(b, 5)).toEqual([]);
    const words = new Uint32Array(b.buffer);
    words.fill(POISON_WORD, 100, 31744); // bytes 400..126975
    expect(diffWrite(b, 5)).toEqual([{ start: 400, end: 126976 }]);
    b[130000] = b[130000]! ^ 0xff;
    expect(diffWrite(b, 5)).toEqual([{ start: 400, end: 126976 }, { start: 130000, end: 130001 }]);
  });

  it('the pattern of the next write in place of this one is a mismatch too', () => {
    const b = new Uint8Array(4096);
    fillPattern(b, 6, 0);
    const r = diffWrite(b, 5);
    expect(r.length).toBe(1);
    expect(r[0]!.end - r[0]!.start).toBeGreaterThan(4000);
  });
});
