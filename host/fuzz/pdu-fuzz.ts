/**
 * A seeded generator of bad NVMe/TCP input for the target (issue 3, "Bad input"). Each case says
 * what must be in place first (nothing, ICReq done, an admin queue, an I/O queue), the host bytes
 * (possibly split into several reads), and what the target must answer: a C2HTermReq with a given
 * FES (and FEI), a CapsuleResp with a given status (and whether the target then closes the qpair
 * itself), silence (a truncated PDU followed by a hang-up), or — for random mutations of valid
 * exchanges — anything well formed. Families cover bad hlen/plen/pdo, unknown types, header and
 * data digest mismatches, data beyond MDTS and the ICD limit, bad SGLs, commands before Connect,
 * wrong NQN / host NQN and other Connect failures, H2CData for unknown or idle transfer tags and
 * with bad offsets, truncated PDUs, and valid exchanges split across reads.
 */
import { Prng } from '../sim/prng.js';
import {
  capsule, connectCapsule, connectData, connectSqe, FES, FLAG, h2cData, h2cTermReq, HOSTNQN, icreq, icreqFor,
  identify, le16, le32, NQN, OPC, PDU, propertyGet, readSqe, redigest, SC, sqe, writeSqe, type Digests,
} from './pdu.js';

export type Setup = 'raw' | 'ic' | 'admin' | 'io';

export type Expect =
  /** A C2HTermReq with this FES (and FEI when given), and nothing after it. */
  | { kind: 'term'; fes: number; fei?: number }
  /** A CapsuleResp for `cid` with this status; `closes`: the target then closes the qpair by itself. */
  | { kind: 'status'; cid: number; sct: number; sc: number; closes?: boolean }
  /** The host's H2CTermReq: no answer, the target closes the qpair. */
  | { kind: 'closes' }
  /** No answer (a truncated PDU); the host then hangs up. */
  | { kind: 'silent' }
  /** A valid exchange: `pdus` PDUs back, the last a successful CapsuleResp for `cid` (or C2HData with SUCCESS). */
  | { kind: 'ok'; cid: number; pdus: number }
  /** Random mutation: any well-formed reaction. */
  | { kind: 'any' };

/** After the input: the host hangs up, or stays silent until the target's own timeout closes it. */
export type After = 'hangup' | 'timeout';

/**
 * One delivery: bytes, or an H2CData PDU sent once the target's R2T arrived, with the R2T's
 * transfer tag written into it (a host must not send data before the R2T; with zero copy the
 * target only knows the tag's buffer once the bdev answered).
 */
export type Step = Uint8Array | { h2cAfterR2t: Uint8Array; split: boolean };

export interface FuzzCase {
  family: string;
  setup: Setup;
  dg: Digests;
  /** Host bytes after the setup; several entries are delivered as separate reads. */
  input: Step[];
  expect: Expect;
  after: After;
}

/** Limits of the target the generator aims at (the harness's transport options). */
export interface TargetShape {
  maxQueueDepth: number;
  inCapsuleDataSize: number;
  maxIoSize: number;
  blocks: number;
  blockSize: number;
}

const FEI = { type: 0, hlen: 2, pdo: 3, plen: 4, icPfv: 8, icHpda: 10, termFes: 8, h2cTtag: 10 } as const;
/** FEI of the SGL1 descriptor inside a CapsuleCmd: header 8 + dptr 24. */
const SGL_OFF = 8 + 24;

/** The request index a fresh queue's k-th command (after Connect) uses, as a transfer tag. */
const FIRST_TTAG = 2;

function concat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function bytes(r: Prng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = r.u32() & 0xff;
  return b;
}

function pick<T>(r: Prng, xs: readonly T[]): T {
  return xs[r.int(0, xs.length - 1)]!;
}

/** Splits bytes into 2..6 reads at random places (1-byte pieces included). */
export function split(r: Prng, b: Uint8Array): Uint8Array[] {
  if (b.length < 2) return [b];
  const cuts = new Set<number>();
  const n = r.int(1, Math.min(5, b.length - 1));
  while (cuts.size < n) cuts.add(r.int(1, b.length - 1));
  const at = [0, ...[...cuts].sort((x, y) => x - y), b.length];
  return at.slice(1).map((end, i) => b.subarray(at[i]!, end));
}

export class PduFuzzer {
  private readonly r: Prng;
  /** The next boundary splitAtBoundary cuts at: it walks every byte boundary of its PDU in turn. */
  private boundary = 0;

  constructor(seed: number, private readonly shape: TargetShape) {
    this.r = new Prng(seed);
  }

  private dg(): Digests {
    const r = this.r;
    return { hdgst: r.chance(0.4), ddgst: r.chance(0.4), hpda: r.chance(0.2) ? r.int(1, 7) : 0 };
  }

  private after(): After {
    return this.r.chance(0.15) ? 'timeout' : 'hangup';
  }

  /** One case from a family chosen at random (weights favour the structured families). */
  next(): FuzzCase {
    const r = this.r;
    const fams: [number, () => FuzzCase][] = [
      [3, () => this.badIcreq()], [2, () => this.beforeIcreq()], [4, () => this.badCommonHeader()],
      [2, () => this.hdgstMismatch()], [3, () => this.beforeConnect()], [4, () => this.badConnect()],
      [4, () => this.badSgl()], [3, () => this.h2cBadTag()], [4, () => this.h2cBadData()],
      [2, () => this.ddgstMismatch()], [2, () => this.termReqFromHost()], [3, () => this.truncated()],
      [2, () => this.badCommand()], [4, () => this.validSplit()], [6, () => this.mutated()],
      // Issue 15 §6.
      [2, () => this.pdoBeyondPlen()], [2, () => this.zeroLengthIcd()], [1, () => this.icreqTwiceRaw()],
      [2, () => this.hlenForType()], [3, () => this.digestsOnFlip()], [3, () => this.splitAtBoundary()],
      [1, () => this.splitEveryByte()],
    ];
    const total = fams.reduce((s, [w]) => s + w, 0);
    let x = r.int(0, total - 1);
    for (const [w, f] of fams) {
      if (x < w) return f();
      x -= w;
    }
    return this.mutated();
  }

  private term(family: string, setup: Setup, dg: Digests, input: Uint8Array | Step[], fes: number, fei?: number): FuzzCase {
    const r = this.r;
    const steps = input instanceof Uint8Array ? (r.chance(0.3) ? split(r, input) : [input]) : input;
    return { family, setup, dg, input: steps, expect: { kind: 'term', fes, fei }, after: this.after() };
  }

  /** A command, then (after its R2T) an H2CData PDU, maybe split into several reads. */
  private withR2t(cmd: Uint8Array, h2c: Uint8Array): Step[] {
    return [cmd, { h2cAfterR2t: h2c, split: this.r.chance(0.3) }];
  }

  private badIcreq(): FuzzCase {
    const r = this.r;
    const b = icreq({ hdgst: r.chance(0.5), ddgst: r.chance(0.5) });
    switch (r.int(0, 3)) {
      case 0: {
        b[2] = pick(r, [0, 8, 24, 72, 127, 129, 255]);
        return this.term('icreq-hlen', 'raw', this.dg(), b, FES.INVALID_HEADER_FIELD, FEI.hlen);
      }
      case 1: {
        const plen = pick(r, [0, 8, 24, 127, 129, 1024, 0xffffffff]);
        le32(b, 4, plen);
        return this.term('icreq-plen', 'raw', this.dg(), b, FES.INVALID_HEADER_FIELD, FEI.plen);
      }
      case 2:
        le16(b, 8, r.int(1, 0xffff));
        return this.term('icreq-pfv', 'raw', this.dg(), b, FES.INVALID_HEADER_FIELD, FEI.icPfv);
      default:
        b[10] = r.int(32, 255);
        return this.term('icreq-hpda', 'raw', this.dg(), b, FES.INVALID_HEADER_FIELD, FEI.icHpda);
    }
  }

  /** Anything but ICReq on a fresh connection is a PDU sequence error. */
  private beforeIcreq(): FuzzCase {
    const r = this.r;
    const b = bytes(r, 8);
    b[0] = r.int(1, 255);
    return this.term('before-icreq', 'raw', this.dg(), concat([b, bytes(r, r.int(0, 64))]), FES.PDU_SEQUENCE_ERROR);
  }

  private badCommonHeader(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    switch (r.int(0, 5)) {
      case 0: {
        // A second ICReq.
        return this.term('second-icreq', 'ic', dg, icreq(), FES.PDU_SEQUENCE_ERROR);
      }
      case 1: {
        const t = pick(r, [PDU.IC_RESP, PDU.C2H_TERM_REQ, PDU.CAPSULE_RESP, PDU.C2H_DATA, 0x08, PDU.R2T, 0x0a, 0x7f, 0xff]);
        const b = new Uint8Array(24);
        b[0] = t;
        b[2] = 24;
        le32(b, 4, 24);
        return this.term('unknown-type', 'ic', dg, b, FES.INVALID_HEADER_FIELD, FEI.type);
      }
      case 2: {
        const good = r.chance(0.5) ? capsule(sqe(OPC.KEEP_ALIVE, 1), undefined, dg) : h2cData({ cccid: 1, ttag: 1, datao: 0, data: new Uint8Array(16) }, dg);
        good[2] = pick(r, [0, 8, 23, 25, 71, 73, 128, 255].filter((v) => v !== good[2]));
        return this.term('bad-hlen', 'ic', dg, good, FES.INVALID_HEADER_FIELD, FEI.hlen);
      }
      case 3: {
        // plen shorter than the header (and its digest).
        const good = capsule(sqe(OPC.KEEP_ALIVE, 1), undefined, dg);
        le32(good, 4, r.int(0, good[2]! + (dg.hdgst ? 4 : 0) - 1));
        return this.term('short-plen', 'ic', dg, good, FES.INVALID_HEADER_FIELD, FEI.plen);
      }
      case 4: {
        // Data follows, but PDO points inside the header, past 128, past plen, or off the CPDA grid.
        const good = capsule(writeSqe(1, 0, 1, { icd: true }), new Uint8Array(512), dg);
        const hd = 72 + (dg.hdgst ? 4 : 0);
        const a = ((dg.hpda ?? 0) + 1) * 4;
        const choices = [r.int(0, hd - 1), r.int(129, 255)];
        if ((dg.hpda ?? 0) !== 0) {
          const off = hd + 1 + r.int(0, 2);
          if (off % a !== 0 && off <= 128) choices.push(off);
        }
        good[3] = pick(r, choices);
        return this.term('bad-pdo', 'ic', dg, good, FES.INVALID_HEADER_FIELD, FEI.pdo);
      }
      default: {
        // H2CTermReq with plen out of (24, 152].
        const b = h2cTermReq(FES.INVALID_HEADER_FIELD, new Uint8Array(8));
        le32(b, 4, pick(r, [24, 153, 1000, 0xffffffff]));
        return this.term('h2c-term-plen', 'ic', dg, b.subarray(0, 24), FES.INVALID_HEADER_FIELD, FEI.plen);
      }
    }
  }

  private hdgstMismatch(): FuzzCase {
    const r = this.r;
    const dg = { ...this.dg(), hdgst: true };
    const good = r.chance(0.5) ? capsule(sqe(OPC.KEEP_ALIVE, 1), undefined, dg) : connectCapsule(1, {}, dg);
    const at = 72 + r.int(0, 3);
    good[at] = good[at]! ^ (1 << r.int(0, 7));
    return this.term('hdgst', 'ic', dg, good, FES.HDGST_ERROR);
  }

  /** Commands other than Connect before Connect: COMMAND SEQUENCE ERROR, then the target closes. */
  private beforeConnect(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const cid = r.int(0, 0xffff);
    const s = pick(r, [
      sqe(OPC.KEEP_ALIVE, cid), propertyGet(cid, 0x1c), propertyGet(cid, 0, true), identify(cid, 1),
      sqe(OPC.GET_FEATURES, cid, { cdw10: 7 }), readSqe(cid, 0, 1),
    ]);
    const input = capsule(s, undefined, dg);
    return { family: 'before-connect', setup: 'ic', dg, input: r.chance(0.3) ? split(r, input) : [input], expect: { kind: 'status', cid, sct: 0, sc: SC.COMMAND_SEQUENCE_ERROR, closes: true }, after: 'hangup' };
  }

  private badConnect(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const cid = r.int(0, 0xffff);
    const fail = (family: string, input: Uint8Array, sct: number, sc: number, setup: Setup = 'ic'): FuzzCase => ({
      family, setup, dg, input: r.chance(0.3) ? split(r, input) : [input], expect: { kind: 'status', cid, sct, sc }, after: this.after(),
    });
    switch (r.int(0, 8)) {
      case 0: return fail('connect-subnqn', connectCapsule(cid, { subnqn: pick(r, ['nqn.2016-06.io.spdk:nope', '', 'x'.repeat(300), `${NQN}x`]) }, dg), 1, SC.FABRIC_INVALID_PARAM);
      case 1: return fail('connect-hostnqn', connectCapsule(cid, { hostnqn: pick(r, ['nqn.2014-08.org.nvmexpress:uuid:stranger', '', 'h'.repeat(300)]) }, dg), 1, SC.FABRIC_INVALID_HOST);
      case 2: return fail('connect-recfmt', connectCapsule(cid, { recfmt: r.int(1, 0xffff) }, dg), 1, SC.FABRIC_INCOMPATIBLE_FORMAT);
      case 3: return fail('connect-sqsize', connectCapsule(cid, { sqsize: pick(r, [0, 128, 0xffff]) }, dg), 1, SC.FABRIC_INVALID_PARAM);
      case 4: return fail('connect-admin-cntlid', connectCapsule(cid, { cntlid: r.int(0, 0xfffe) }, dg), 1, SC.FABRIC_INVALID_PARAM);
      case 5: return fail('connect-io-unknown-cntlid', connectCapsule(cid, { qid: r.int(1, 8), cntlid: r.int(0x100, 0xfffe), sqsize: 7 }, dg), 1, SC.FABRIC_INVALID_PARAM);
      case 6: {
        // The SGL promises fewer than the 1024 bytes of Connect data.
        const len = r.int(1, 1023);
        const s = connectSqe(cid);
        le32(s, 32, len);
        return fail('connect-short-data', capsule(s, connectData().subarray(0, len), dg), 0, SC.INVALID_FIELD);
      }
      case 7: {
        // Connect on an I/O queue that already has a controller: a second Connect is a sequence error.
        return { family: 'connect-twice', setup: 'io', dg, input: [connectCapsule(cid, { qid: 1 }, dg)], expect: { kind: 'status', cid, sct: 0, sc: SC.COMMAND_SEQUENCE_ERROR }, after: 'hangup' };
      }
      default: {
        // A failed Connect, then another command: the target answers with a sequence error and closes.
        const bad = connectCapsule(1, { subnqn: 'nqn.2016-06.io.spdk:nope' }, dg);
        const again = capsule(sqe(OPC.KEEP_ALIVE, cid), undefined, dg);
        return { family: 'after-failed-connect', setup: 'ic', dg, input: [bad, again], expect: { kind: 'status', cid, sct: 0, sc: SC.COMMAND_SEQUENCE_ERROR, closes: true }, after: 'hangup' };
      }
    }
  }

  private badSgl(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const s = this.shape;
    const setup: Setup = r.chance(0.7) ? 'io' : 'admin';
    const cid = r.int(0, 0xffff);
    switch (r.int(0, 7)) {
      case 0: {
        const len = r.int(s.maxIoSize + 1, 0xffffffff);
        const cmd = setup === 'io' ? sqe(r.chance(0.5) ? OPC.READ : OPC.WRITE, cid, { nsid: 1, sgl: { kind: 'transport', len } }) : identify(cid, 1);
        if (setup === 'admin') le32(cmd, 32, len);
        return this.term('beyond-mdts', setup, dg, capsule(cmd, undefined, dg), FES.DATA_TRANSFER_LIMIT_EXCEEDED);
      }
      case 1: {
        const len = setup === 'io' ? r.int(s.inCapsuleDataSize + 1, s.inCapsuleDataSize + 1024) : r.int(8193, 9000);
        const cmd = writeSqe(cid, 0, 1, { icd: true });
        le32(cmd, 32, len);
        return this.term('icd-too-big', setup, dg, capsule(cmd, bytes(r, len), dg), FES.DATA_TRANSFER_LIMIT_EXCEEDED);
      }
      case 2: {
        const len = r.int(1, 2048);
        const cmd = writeSqe(cid, 0, 1, { icd: true });
        le32(cmd, 32, len + pick(r, [-1, 1, 7, -len + 1].filter((d) => len + d > 0)));
        return this.term('icd-length-mismatch', setup, dg, capsule(cmd, bytes(r, len), dg), FES.DATA_TRANSFER_OUT_OF_RANGE);
      }
      case 3: {
        const cmd = writeSqe(cid, 0, 1, { icd: true });
        le32(cmd, 24, r.int(1, 0xffffffff));
        return this.term('icd-offset', setup, dg, capsule(cmd, bytes(r, 512), dg), FES.UNSUPPORTED_PARAMETER, SGL_OFF);
      }
      case 4: {
        // In-capsule SGL, but no data in the capsule.
        return this.term('icd-missing', setup, dg, capsule(writeSqe(cid, 0, 1, { icd: true }), undefined, dg), FES.UNSUPPORTED_PARAMETER, SGL_OFF + 8);
      }
      case 7: {
        // A READ (controller-to-host) carrying in-capsule data: nothing takes that data.
        const len = r.int(1, 8) * 512;
        const cmd = sqe(OPC.READ, cid, { nsid: 1, sgl: { kind: 'icd', len }, cdw12: len / 512 - 1 });
        return this.term('read-with-icd', setup, dg, capsule(cmd, bytes(r, len), dg), FES.INVALID_HEADER_FIELD, FEI.plen);
      }
      case 5: {
        // Transport SGL with data in the capsule.
        return this.term('transport-sgl-with-icd', setup, dg, capsule(writeSqe(cid, 0, 1), bytes(r, 512), dg), FES.UNSUPPORTED_PARAMETER, SGL_OFF + 15);
      }
      default: {
        const d = new Uint8Array(16);
        d[15] = pick(r, [0x02, 0x20, 0x30, 0x40, 0x5b, 0x6a, 0xff]);
        le32(d, 8, 512);
        return this.term('unknown-sgl', setup, dg, capsule(sqe(OPC.WRITE, cid, { nsid: 1, sgl: { kind: 'raw', bytes: d } }), undefined, dg), FES.UNSUPPORTED_PARAMETER, SGL_OFF + 15);
      }
    }
  }

  private h2cBadTag(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const data = bytes(r, 512);
    if (r.chance(0.5)) {
      const ttag = pick(r, [0, this.shape.maxQueueDepth + 1, r.int(this.shape.maxQueueDepth + 1, 0xffff)]);
      return this.term('h2c-unknown-ttag', 'io', dg, h2cData({ cccid: 1, ttag, datao: 0, data }, dg), FES.PDU_SEQUENCE_ERROR);
    }
    // A tag of a request that is not receiving data.
    return this.term('h2c-idle-ttag', 'io', dg, h2cData({ cccid: 1, ttag: r.int(1, this.shape.maxQueueDepth), datao: 0, data }, dg), FES.INVALID_HEADER_FIELD, FEI.h2cTtag);
  }

  /** A WRITE by R2T whose H2CData is wrong in cccid, offset, length or plen. */
  private h2cBadData(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const cid = r.int(0, 0xffff);
    const blocks = r.int(1, 8);
    const len = blocks * this.shape.blockSize;
    const cmd = capsule(writeSqe(cid, 0, blocks), undefined, dg);
    const h = (o: { cccid?: number; datao?: number; data?: Uint8Array }): Uint8Array => h2cData({ cccid: o.cccid ?? cid, ttag: FIRST_TTAG, datao: o.datao ?? 0, data: o.data ?? bytes(r, len) }, dg);
    switch (r.int(0, 4)) {
      case 0: return this.term('h2c-cccid', 'io', dg, this.withR2t(cmd, h({ cccid: (cid + r.int(1, 0xfffe)) & 0xffff })), FES.PDU_SEQUENCE_ERROR);
      case 1: return this.term('h2c-datao', 'io', dg, this.withR2t(cmd, h({ datao: r.int(1, len * 2) })), FES.DATA_TRANSFER_OUT_OF_RANGE);
      case 2: return this.term('h2c-beyond-length', 'io', dg, this.withR2t(cmd, h({ data: bytes(r, len + r.int(1, 4096)) })), FES.DATA_TRANSFER_OUT_OF_RANGE);
      case 3: {
        const p = h({ data: bytes(r, len) });
        le32(p, 4, p.length + pick(r, [-1, 1, 4, -len]));
        redigest(p);
        return this.term('h2c-plen', 'io', dg, this.withR2t(cmd, p), FES.INVALID_HEADER_FIELD, FEI.plen);
      }
      default: {
        const p = h({ data: new Uint8Array(0) });
        return this.term('h2c-datal-zero', 'io', dg, this.withR2t(cmd, p), FES.INVALID_HEADER_FIELD, FEI.plen);
      }
    }
  }

  /** Data digest mismatch: the command is answered with TRANSIENT TRANSPORT ERROR, not executed. */
  private ddgstMismatch(): FuzzCase {
    const r = this.r;
    const dg = { ...this.dg(), ddgst: true };
    const cid = r.int(0, 0xffff);
    const blocks = r.int(1, 4);
    const data = bytes(r, blocks * this.shape.blockSize);
    const corrupt = (b: Uint8Array): Uint8Array => {
      const at = b.length - 1 - r.int(0, 3);
      b[at] = b[at]! ^ (1 << r.int(0, 7));
      return b;
    };
    let input: Step[];
    if (r.chance(0.5)) {
      const b = corrupt(capsule(writeSqe(cid, r.int(0, 8), blocks, { icd: true }), data, dg));
      input = r.chance(0.3) ? split(r, b) : [b];
    } else {
      input = this.withR2t(capsule(writeSqe(cid, r.int(0, 8), blocks), undefined, dg), corrupt(h2cData({ cccid: cid, ttag: FIRST_TTAG, datao: 0, data }, dg)));
    }
    return { family: 'ddgst', setup: 'io', dg, input, expect: { kind: 'status', cid, sct: 0, sc: SC.TRANSIENT_TRANSPORT_ERROR }, after: this.after() };
  }

  private termReqFromHost(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const setup = pick(r, ['ic', 'admin', 'io'] as const);
    if (r.chance(0.3)) {
      const fes = pick(r, [0, 7, 0xff, 0xffff]);
      return this.term('h2c-term-bad-fes', setup, dg, h2cTermReq(fes, bytes(r, r.int(1, 128))), FES.INVALID_HEADER_FIELD, FEI.termFes);
    }
    return { family: 'h2c-term', setup, dg, input: [h2cTermReq(r.int(1, 6), bytes(r, r.int(1, 128)))], expect: { kind: 'closes' }, after: 'timeout' };
  }

  /** A PDU cut short, then the host goes away. */
  private truncated(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const setup = pick(r, ['raw', 'ic', 'io'] as const);
    let whole: Uint8Array;
    if (setup === 'raw') whole = icreqFor(dg);
    else if (setup === 'ic') whole = connectCapsule(1, {}, dg);
    else whole = pick(r, [capsule(readSqe(1, 0, 1), undefined, dg), capsule(writeSqe(1, 0, 2, { icd: true }), bytes(r, 1024), dg)]);
    const cut = whole.subarray(0, r.int(1, whole.length - 1));
    return { family: 'truncated', setup, dg, input: r.chance(0.5) ? split(r, cut) : [cut], expect: { kind: 'silent' }, after: 'hangup' };
  }

  /** Commands the controller refuses with a status (the qpair lives on). */
  private badCommand(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const cid = r.int(0, 0xffff);
    const st = (family: string, cmd: Uint8Array, sc: number, icd?: Uint8Array): FuzzCase => {
      const input = capsule(cmd, icd, dg);
      return { family, setup: 'io', dg, input: r.chance(0.3) ? split(r, input) : [input], expect: { kind: 'status', cid, sct: 0, sc }, after: this.after() };
    };
    switch (r.int(0, 3)) {
      case 0: return st('lba-out-of-range', readSqe(cid, this.shape.blocks - r.int(0, 3), 8), SC.LBA_OUT_OF_RANGE);
      case 1: return st('invalid-nsid', readSqe(cid, 0, 1, this.shape.blockSize, pick(r, [0, 2, 0xffffffff])), SC.INVALID_NAMESPACE);
      case 2: return st('invalid-opcode', sqe(pick(r, [0x04, 0x08, 0x0c, 0x7e, 0x80, 0xfc]), cid, { nsid: 1 }), SC.INVALID_OPCODE);
      default: return st('bidirectional-opcode', sqe(0x03, cid, { nsid: 1 }), SC.INVALID_OPCODE);
    }
  }

  /** Valid exchanges split across reads: the same answer as unsplit. */
  private validSplit(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const cid = r.int(0, 0xffff);
    const blocks = r.int(1, 8);
    const bs = this.shape.blockSize;
    switch (r.int(0, 3)) {
      case 0: {
        const input = capsule(readSqe(cid, r.int(0, 64), blocks), undefined, dg);
        return { family: 'split-read', setup: 'io', dg, input: split(r, input), expect: { kind: 'ok', cid, pdus: -1 }, after: 'hangup' };
      }
      case 1: {
        const input = capsule(writeSqe(cid, r.int(0, 64), blocks, { icd: true }), bytes(r, blocks * bs), dg);
        return { family: 'split-icd-write', setup: 'io', dg, input: split(r, input), expect: { kind: 'ok', cid, pdus: 1 }, after: 'hangup' };
      }
      case 2: {
        const data = bytes(r, blocks * bs);
        const cmd = capsule(writeSqe(cid, r.int(0, 64), blocks), undefined, dg);
        const input: Step[] = [...split(r, cmd), { h2cAfterR2t: h2cData({ cccid: cid, ttag: FIRST_TTAG, datao: 0, data }, dg), split: true }];
        return { family: 'split-r2t-write', setup: 'io', dg, input, expect: { kind: 'ok', cid, pdus: 2 }, after: 'hangup' };
      }
      default: {
        const input = connectCapsule(cid, {}, dg);
        return { family: 'split-connect', setup: 'ic', dg, input: split(r, input), expect: { kind: 'ok', cid, pdus: 1 }, after: 'hangup' };
      }
    }
  }

  /** Data follows the header, but PDO points past plen (still within 128). */
  private pdoBeyondPlen(): FuzzCase {
    const r = this.r;
    const dg: Digests = { hdgst: r.chance(0.5), ddgst: r.chance(0.5), hpda: 0 };
    const b = capsule(writeSqe(1, 0, 1, { icd: true }), bytes(r, r.int(1, 16)), dg);
    b[3] = r.int(b.length + 1, 128);
    return this.term('pdo-beyond-plen', 'ic', dg, b, FES.INVALID_HEADER_FIELD, FEI.pdo);
  }

  /** A CapsuleCmd whose in-capsule data is empty: an SGL of 0 bytes with no data, with only a
   *  data digest, or an SGL promising data the capsule does not carry. Any well-formed answer,
   *  and nothing may leak. */
  private zeroLengthIcd(): FuzzCase {
    const r = this.r;
    const dg: Digests = { ...this.dg(), ddgst: r.chance(0.5) };
    const cid = r.int(0, 0xffff);
    const setup: Setup = r.chance(0.7) ? 'io' : 'admin';
    const cmd = writeSqe(cid, 0, 1, { icd: true });
    le32(cmd, 32, r.chance(0.5) ? 0 : 512);
    const b = capsule(cmd, undefined, dg);
    let input = b;
    if (dg.ddgst && r.chance(0.5)) {
      // plen counts a data digest over no data.
      input = new Uint8Array(b.length + 4);
      input.set(b);
      input[1] = input[1]! | FLAG.DDGSTF;
      le32(input, 4, input.length);
      input[3] = b.length;
      redigest(input);
    }
    return { family: 'icd-zero-length', setup, dg, input: [input], expect: { kind: 'any' }, after: 'hangup' };
  }

  /** Two ICReqs in one read on a fresh connection: the second is a PDU sequence error. */
  private icreqTwiceRaw(): FuzzCase {
    const dg = this.dg();
    const one = icreqFor(dg);
    return this.term('icreq-twice', 'raw', dg, concat([one, one]), FES.PDU_SEQUENCE_ERROR);
  }

  /** Each host PDU type with the header length of another type. */
  private hlenForType(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const which = r.int(0, 2);
    const b = which === 0 ? capsule(sqe(OPC.KEEP_ALIVE, 1), undefined, dg)
      : which === 1 ? h2cData({ cccid: 1, ttag: 1, datao: 0, data: new Uint8Array(16) }, dg)
      : h2cTermReq(FES.INVALID_HEADER_FIELD, new Uint8Array(8));
    b[2] = pick(r, [8, 24, 72, 128].filter((v) => v !== b[2]));
    redigest(b);
    return this.term('hlen-for-type', 'ic', dg, b, FES.INVALID_HEADER_FIELD, FEI.hlen);
  }

  /** Both digests negotiated, one flipped bit: in the header digest (HDGST error) or in the data
   *  digest of a write's in-capsule data or H2CData (the command fails, the qpair lives). */
  private digestsOnFlip(): FuzzCase {
    const r = this.r;
    const dg: Digests = { hdgst: true, ddgst: true, hpda: r.chance(0.3) ? r.int(1, 7) : 0 };
    const cid = r.int(0, 0xffff);
    const blocks = r.int(1, 4);
    const data = bytes(r, blocks * this.shape.blockSize);
    const flip = (b: Uint8Array, at: number): Uint8Array => {
      b[at] = b[at]! ^ (1 << r.int(0, 7));
      return b;
    };
    switch (r.int(0, 2)) {
      case 0: {
        const b = capsule(writeSqe(cid, 0, blocks, { icd: true }), data, dg);
        return this.term('digests-on-hdgst-flip', 'io', dg, flip(b, 72 + r.int(0, 3)), FES.HDGST_ERROR);
      }
      case 1: {
        const b = capsule(writeSqe(cid, 0, blocks, { icd: true }), data, dg);
        return { family: 'digests-on-ddgst-flip', setup: 'io', dg, input: [flip(b, b.length - 1 - r.int(0, 3))], expect: { kind: 'status', cid, sct: 0, sc: SC.TRANSIENT_TRANSPORT_ERROR }, after: this.after() };
      }
      default: {
        const h = h2cData({ cccid: cid, ttag: FIRST_TTAG, datao: 0, data }, dg);
        const input = this.withR2t(capsule(writeSqe(cid, 0, blocks), undefined, dg), flip(h, h.length - 1 - r.int(0, 3)));
        return { family: 'digests-on-h2c-ddgst-flip', setup: 'io', dg, input, expect: { kind: 'status', cid, sct: 0, sc: SC.TRANSIENT_TRANSPORT_ERROR }, after: this.after() };
      }
    }
  }

  /** A valid in-capsule write cut in two at one byte boundary; successive cases walk every
   *  boundary of the PDU (the answer must be that of the whole PDU). */
  private splitAtBoundary(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const cid = r.int(0, 0xffff);
    const b = capsule(writeSqe(cid, r.int(0, 64), 1, { icd: true }), bytes(r, this.shape.blockSize), dg);
    const at = (this.boundary++ % (b.length - 1)) + 1;
    return { family: 'split-at-boundary', setup: 'io', dg, input: [b.subarray(0, at), b.subarray(at)], expect: { kind: 'ok', cid, pdus: 1 }, after: 'hangup' };
  }

  /** A valid READ, or an in-capsule WRITE, delivered one byte per read. */
  private splitEveryByte(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const cid = r.int(0, 0xffff);
    const b = r.chance(0.5) ? capsule(readSqe(cid, r.int(0, 64), r.int(1, 8)), undefined, dg) : capsule(writeSqe(cid, r.int(0, 64), 1, { icd: true }), bytes(r, this.shape.blockSize), dg);
    const input = Array.from({ length: b.length }, (_, i) => b.subarray(i, i + 1));
    return { family: 'split-every-byte', setup: 'io', dg, input, expect: { kind: 'ok', cid, pdus: -1 }, after: 'hangup' };
  }

  /** A valid exchange with random damage: flipped bits, overwritten fields, cut or inserted bytes. */
  private mutated(): FuzzCase {
    const r = this.r;
    const dg = this.dg();
    const setup = pick(r, ['raw', 'ic', 'io', 'io'] as const);
    let b: Uint8Array;
    if (setup === 'raw') {
      b = concat([icreqFor(dg), connectCapsule(1, {}, dg)]);
    } else if (setup === 'ic') {
      b = concat([connectCapsule(1, {}, dg), capsule(propertyGet(2, 0), undefined, dg)]);
    } else {
      const blocks = r.int(1, 4);
      const data = bytes(r, blocks * this.shape.blockSize);
      b = pick(r, [
        () => capsule(readSqe(7, r.int(0, 64), blocks), undefined, dg),
        () => capsule(writeSqe(7, r.int(0, 64), blocks, { icd: true }), data, dg),
        () => concat([capsule(writeSqe(7, 0, blocks), undefined, dg), h2cData({ cccid: 7, ttag: r.int(1, this.shape.maxQueueDepth), datao: 0, data }, dg)]),
        () => concat([capsule(sqe(OPC.FLUSH, 8, { nsid: 1 }), undefined, dg), h2cTermReq(1)]),
      ])();
    }
    const out = Array.from(b);
    const n = r.int(1, 6);
    for (let i = 0; i < n; i++) {
      const at = r.int(0, out.length - 1);
      switch (r.int(0, 5)) {
        case 0: out[at] = out[at]! ^ (1 << r.int(0, 7)); break;
        case 1: out[at] = r.int(0, 255); break;
        case 2: out.splice(at, r.int(1, 16)); break;
        case 3: out.splice(at, 0, ...bytes(r, r.int(1, 16))); break;
        case 4: {
          // Hit a header field of the first PDU on purpose.
          const f = pick(r, [0, 1, 2, 3, 4, 5, 6, 7]);
          if (f < out.length) out[f] = pick(r, [0, 1, 0x7f, 0x80, 0xff, r.int(0, 255)]);
          break;
        }
        default: {
          const f = pick(r, [4, 5]);
          if (f < out.length) out[f] = r.int(0, 255);
        }
      }
    }
    const input = new Uint8Array(out);
    return { family: 'mutated', setup, dg, input: r.chance(0.5) ? split(r, input) : [input], expect: { kind: 'any' }, after: this.after() };
  }
}

/** Flags of a valid C2HData that completes a command by itself. */
export const C2H_SUCCESS = FLAG.LAST_PDU | FLAG.SUCCESS;
export { HOSTNQN };
