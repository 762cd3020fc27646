/**
 * The verify workload's data pattern, regenerated on the host independently of the C sender:
 * word j (little-endian u32 at byte 4j) of write w = ((w & 0x3fff) << 18) | (j & 0x3ffff).
 * The sender poisons a buffer with 0xDEADBEEF words when its request completes.
 */
export const POISON_WORD = 0xdeadbeef;

export function patternWord(write: number, word: number): number {
  return (((write & 0x3fff) << 18) | (word & 0x3ffff)) >>> 0;
}

/** Fills `out` with the bytes of write `write` starting at byte `offset` of that write (offset % 4 == 0). */
export function fillPattern(out: Uint8Array, write: number, offset: number): void {
  const words = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >>> 2);
  const base = offset >>> 2;
  for (let i = 0; i < words.length; i++) words[i] = patternWord(write, base + i);
}

export interface MismatchRange {
  /** Byte offsets within the write, [start, end). */
  start: number;
  end: number;
}

/** Compares one write's received bytes with its regenerated pattern; returns the mismatched byte
 *  ranges. Works a word at a time (the pattern is made of words); ranges separated by at most
 *  two matching words are merged, since poison and pattern words can share single bytes. */
export function diffWrite(received: Uint8Array, write: number): MismatchRange[] {
  const out: MismatchRange[] = [];
  const nWords = received.length >>> 2;
  const words = received.byteOffset % 4 === 0
    ? new Uint32Array(received.buffer, received.byteOffset, nWords)
    : new Uint32Array(received.slice(0, nWords * 4).buffer);
  const high = ((write & 0x3fff) << 18) >>> 0;
  const expectedByte = (i: number): number => (patternWord(write, i >>> 2) >>> ((i & 3) * 8)) & 0xff;
  let j = 0;
  while (j < nWords) {
    if (words[j] === ((high | (j & 0x3ffff)) >>> 0)) {
      j++;
      continue;
    }
    const first = j;
    let last = j;
    for (j++; j < nWords && j - last <= 2; j++) {
      if (words[j] !== ((high | (j & 0x3ffff)) >>> 0)) last = j;
    }
    j = last + 1;
    let start = first * 4;
    while (received[start] === expectedByte(start)) start++;
    let end = last * 4 + 4;
    while (received[end - 1] === expectedByte(end - 1)) end--;
    out.push({ start, end });
  }
  // A trailing partial word (lengths are multiples of 4096 here, so normally none).
  for (let i = nWords * 4; i < received.length; i++) {
    if (received[i] !== expectedByte(i)) out.push({ start: i, end: i + 1 });
  }
  return out;
}
