/**
 * SHA-512 (FIPS 180-4), incremental and synchronous, in plain TypeScript so it runs inside a
 * simulation step in Node and in a browser alike (Web Crypto's digest is async and one-shot).
 * 64-bit words are kept as (hi, lo) pairs of 32-bit integers.
 */

// Round constants: the first 64 bits of the fractional parts of the cube roots of the first 80
// primes, derived here rather than tabulated.
const K = roundConstants();
const H0 = initialHash();

export class Sha512 {
  private readonly h = Int32Array.from(H0);
  private readonly block = new Uint8Array(128);
  private readonly w = new Int32Array(160);
  private used = 0;
  private total = 0;

  update(data: Uint8Array): this {
    let i = 0;
    this.total += data.length;
    if (this.used > 0) {
      const take = Math.min(128 - this.used, data.length);
      this.block.set(data.subarray(0, take), this.used);
      this.used += take;
      i = take;
      if (this.used < 128) return this;
      this.compress(this.block, 0);
      this.used = 0;
    }
    for (; i + 128 <= data.length; i += 128) this.compress(data, i);
    if (i < data.length) {
      this.block.set(data.subarray(i), 0);
      this.used = data.length - i;
    }
    return this;
  }

  digest(): Uint8Array {
    const bits = this.total * 8;
    const pad = new Uint8Array(((this.used < 112 ? 128 : 256) - this.used));
    pad[0] = 0x80;
    const dv = new DataView(pad.buffer);
    dv.setUint32(pad.length - 8, Math.floor(bits / 4294967296), false);
    dv.setUint32(pad.length - 4, bits >>> 0, false);
    this.update(pad);
    const out = new Uint8Array(64);
    const o = new DataView(out.buffer);
    for (let i = 0; i < 16; i++) o.setInt32(i * 4, this.h[i]!, false);
    return out;
  }

  hex(): string {
    return Array.from(this.digest(), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  private compress(buf: Uint8Array, at: number): void {
    const w = this.w;
    for (let i = 0; i < 32; i++) {
      const p = at + i * 4;
      w[i] = (buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
    }
    for (let i = 16; i < 80; i++) {
      // s0 = rotr1 ^ rotr8 ^ shr7 of w[i-15]; s1 = rotr19 ^ rotr61 ^ shr6 of w[i-2]
      const ah = w[(i - 15) * 2]!, al = w[(i - 15) * 2 + 1]!;
      const s0h = ((ah >>> 1) | (al << 31)) ^ ((ah >>> 8) | (al << 24)) ^ (ah >>> 7);
      const s0l = ((al >>> 1) | (ah << 31)) ^ ((al >>> 8) | (ah << 24)) ^ ((al >>> 7) | (ah << 25));
      const bh = w[(i - 2) * 2]!, bl = w[(i - 2) * 2 + 1]!;
      const s1h = ((bh >>> 19) | (bl << 13)) ^ ((bl >>> 29) | (bh << 3)) ^ (bh >>> 6);
      const s1l = ((bl >>> 19) | (bh << 13)) ^ ((bh >>> 29) | (bl << 3)) ^ ((bl >>> 6) | (bh << 26));
      let lo = (s0l >>> 0) + (s1l >>> 0) + (w[(i - 7) * 2 + 1]! >>> 0) + (w[(i - 16) * 2 + 1]! >>> 0);
      const hi = s0h + s1h + w[(i - 7) * 2]! + w[(i - 16) * 2]! + Math.floor(lo / 4294967296);
      lo >>>= 0;
      w[i * 2] = hi;
      w[i * 2 + 1] = lo;
    }
    const h = this.h;
    let ah = h[0]!, al = h[1]!, bh = h[2]!, bl = h[3]!, ch = h[4]!, cl = h[5]!, dh = h[6]!, dl = h[7]!;
    let eh = h[8]!, el = h[9]!, fh = h[10]!, fl = h[11]!, gh = h[12]!, gl = h[13]!, hh = h[14]!, hl = h[15]!;
    for (let i = 0; i < 80; i++) {
      // S1 = rotr14 ^ rotr18 ^ rotr41 of e; ch = (e & f) ^ (~e & g)
      const S1h = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23));
      const S1l = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23));
      const chh = (eh & fh) ^ (~eh & gh);
      const chl = (el & fl) ^ (~el & gl);
      let t1l = (hl >>> 0) + (S1l >>> 0) + (chl >>> 0) + (K[i * 2 + 1]! >>> 0) + (w[i * 2 + 1]! >>> 0);
      const t1h = hh + S1h + chh + K[i * 2]! + w[i * 2]! + Math.floor(t1l / 4294967296);
      t1l >>>= 0;
      // S0 = rotr28 ^ rotr34 ^ rotr39 of a; maj = (a & b) ^ (a & c) ^ (b & c)
      const S0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25));
      const S0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25));
      const mjh = (ah & bh) ^ (ah & ch) ^ (bh & ch);
      const mjl = (al & bl) ^ (al & cl) ^ (bl & cl);
      let t2l = (S0l >>> 0) + (mjl >>> 0);
      const t2h = S0h + mjh + Math.floor(t2l / 4294967296);
      t2l >>>= 0;
      hh = gh; hl = gl; gh = fh; gl = fl; fh = eh; fl = el;
      let nl = (dl >>> 0) + t1l;
      eh = (dh + t1h + Math.floor(nl / 4294967296)) | 0;
      el = nl | 0;
      dh = ch; dl = cl; ch = bh; cl = bl; bh = ah; bl = al;
      nl = t1l + t2l;
      ah = (t1h + t2h + Math.floor(nl / 4294967296)) | 0;
      al = nl | 0;
    }
    add64(h, 0, ah, al); add64(h, 2, bh, bl); add64(h, 4, ch, cl); add64(h, 6, dh, dl);
    add64(h, 8, eh, el); add64(h, 10, fh, fl); add64(h, 12, gh, gl); add64(h, 14, hh, hl);
  }
}

function add64(h: Int32Array, i: number, hi: number, lo: number): void {
  const l = (h[i + 1]! >>> 0) + (lo >>> 0);
  h[i] = (h[i]! + hi + Math.floor(l / 4294967296)) | 0;
  h[i + 1] = l | 0;
}

/** Hex SHA-512 of one buffer. */
export function sha512Hex(data: Uint8Array): string {
  return new Sha512().update(data).hex();
}

function primes(n: number): number[] {
  const out: number[] = [];
  for (let c = 2; out.length < n; c++) if (out.every((p) => c % p !== 0)) out.push(c);
  return out;
}

/** First 64 fractional bits of root(p) as (hi, lo), computed exactly with BigInt: the largest x
 *  with x^k <= p * 2^(64k), minus the integer part. */
function fracBits(p: number, k: number): [number, number] {
  const target = BigInt(p) << BigInt(64 * k);
  let lo = 0n;
  let hi = 1n << BigInt(64 + 8);
  while (hi - lo > 1n) {
    const mid = (lo + hi) >> 1n;
    if (mid ** BigInt(k) <= target) lo = mid;
    else hi = mid;
  }
  const frac = lo & ((1n << 64n) - 1n);
  return [Number(frac >> 32n) | 0, Number(frac & 0xffffffffn) | 0];
}

function roundConstants(): Int32Array {
  const k = new Int32Array(160);
  primes(80).forEach((p, i) => {
    const [hi, lo] = fracBits(p, 3);
    k[i * 2] = hi;
    k[i * 2 + 1] = lo;
  });
  return k;
}

function initialHash(): Int32Array {
  const h = new Int32Array(16);
  primes(8).forEach((p, i) => {
    const [hi, lo] = fracBits(p, 2);
    h[i * 2] = hi;
    h[i * 2 + 1] = lo;
  });
  return h;
}
