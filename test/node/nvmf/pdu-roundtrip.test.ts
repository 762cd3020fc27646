/**
 * NVMe/TCP PDU encode/decode round trips, every type the model speaks (spec nvmf-tcp-rdma.md §4.1,
 * §4.2): ICReq, ICResp, H2CTermReq, C2HTermReq, CapsuleCmd, CapsuleResp, H2CData, C2HData, R2T.
 *
 * - CRC-32C: the check value and the digest byte order.
 * - The C side (the wire structs of include/spdk/nvmf_spec.h and the digest/iovec helpers lib/nvme
 *   and lib/nvmf share, through spdk_wasm_ut_pdu_encode/decode) against the test's encoders and
 *   decoders (nvmf/pdu.ts, nvme/target-pdu.ts): the same fields give the same bytes, each field
 *   sits at the spec's offset, each side decodes the other's PDU, and a flipped bit shows as a
 *   digest mismatch.
 * - The model's own PDUs off the wire: the real initiator's and the real target's, decoded by both.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { SpdkMachine } from '../../../host/spdk/machine.js';
import { utMachine } from '../support/ut.js';
import { scriptedPair } from '../nvme/scripted-target.js';
import { io, qf } from '../nvme/support.js';
import {
  c2hDataPdu, c2hTermReq, capsuleCmdFields, capsuleResp, digestCheck, h2cDataFields, icreqFields, icresp, icrespFields, r2tPdu,
} from '../nvme/target-pdu.js';
import {
  c2hData, capsule, cqe, crc32c, dataDigest, FLAG, h2cData, h2cTermReq, icreq, PDU, r2t, rd16, rd32, sqe, splitPdus, termReq,
  type Digests, type RxPdu,
} from '../../../host/fuzz/pdu.js';
import { TargetHarness } from '../../../host/fuzz/target-harness.node.js';

const FIELDS = 25;
/** Decode extras of spdk_wasm_ut_pdu_decode. */
const X = { type: 16, flags: 17, hlen: 18, pdo: 19, plen: 20, hdgst: 21, ddgst: 22, dataOff: 23, dataLen: 24 } as const;
const DIGEST = { absent: 0, ok: 1, bad: 2 } as const;

let m: SpdkMachine;
beforeAll(async () => {
  m = (await utMachine()).m;
});

function inGuest(bytes: Uint8Array): number {
  const p = m.call('malloc', Math.max(1, bytes.length));
  m.mem.bytes().set(bytes, p);
  return p;
}

function cEncode(type: number, f: number[], data: Uint8Array | undefined, dgst: number, pda = 0): Uint8Array {
  const fp = m.call('malloc', FIELDS * 4);
  for (let i = 0; i < FIELDS; i++) m.mem.setU32(fp + i * 4, f[i] ?? 0);
  const dp = data === undefined ? 0 : inGuest(data);
  const out = m.call('malloc', 1 << 17);
  const plen = m.api.spdk_wasm_ut_pdu_encode(type, fp, dp, data?.length ?? 0, dgst, pda, out, 1 << 17);
  if (plen < 0) throw new Error(`spdk_wasm_ut_pdu_encode(type ${type}) returned ${plen}`);
  const bytes = m.mem.read(out, plen);
  for (const p of [fp, dp, out]) if (p !== 0) m.free(p);
  return bytes;
}

function cDecode(bytes: Uint8Array, dgst: number): number[] {
  const bp = inGuest(bytes);
  const fp = m.call('malloc', FIELDS * 4);
  const rc = m.api.spdk_wasm_ut_pdu_decode(bp, bytes.length, dgst, fp);
  const f = Array.from({ length: FIELDS }, (_, i) => m.mem.u32(fp + i * 4));
  m.free(bp);
  m.free(fp);
  if (rc !== 0) throw new Error(`spdk_wasm_ut_pdu_decode returned ${rc}`);
  return f;
}

function rx(bytes: Uint8Array): RxPdu {
  const { pdus, rest } = splitPdus(bytes);
  expect(pdus).toHaveLength(1);
  expect(rest.length).toBe(0);
  return pdus[0]!;
}

const dgOf = (dgst: number, pda = 0): Digests => ({ hdgst: (dgst & 1) !== 0, ddgst: (dgst & 2) !== 0, hpda: pda });
const pattern = (n: number, salt: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 29 + salt) & 0xff);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('CRC-32C (Castagnoli) as the digests use it', () => {
  it('check value: CRC32C("123456789") = 0xE3069283, in C and in the test', () => {
    const s = new TextEncoder().encode('123456789');
    const p = inGuest(s);
    expect(m.api.spdk_wasm_crc32c(p, s.length) >>> 0).toBe(0xe3069283);
    m.free(p);
    expect(crc32c(s)).toBe(0xe3069283);
  });

  it('iSCSI vectors (RFC 3720 B.4): 32 zero bytes, 32 bytes 0..31', () => {
    for (const [bytes, want] of [[new Uint8Array(32), 0x8a9136aa], [Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e]] as const) {
      const p = inGuest(bytes);
      expect(m.api.spdk_wasm_crc32c(p, 32) >>> 0).toBe(want);
      m.free(p);
      expect(crc32c(bytes)).toBe(want);
    }
  });

  it('a digest goes on the wire least significant byte first, over hlen header bytes', () => {
    const b = cEncode(PDU.R2T, [1, 2, 3, 4], undefined, 1);
    const crc = crc32c(b.subarray(0, 24));
    expect([...b.subarray(24, 28)]).toEqual([crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24]);
  });

  it('the data digest covers zero padding to a multiple of 4 bytes', () => {
    const data = pattern(1001, 5);
    const b = cEncode(PDU.C2H_DATA, [1, 0, 0, 1, 1], data, 2);
    const padded = new Uint8Array(1004);
    padded.set(data);
    expect(rd32(b, b.length - 4)).toBe(crc32c(padded));
    expect(rd32(b, b.length - 4)).toBe(dataDigest(data));
    expect(rd32(b, b.length - 4)).not.toBe(crc32c(data));
  });
});

interface Case {
  name: string;
  type: number;
  /** spdk_wasm_ut_pdu_encode fields (see wasm/api/spdk_wasm_pdu_ut.c). */
  f: number[];
  data?: Uint8Array;
  dgst: number;
  pda?: number;
  /** The same PDU from the test's encoder. */
  ts: () => Uint8Array;
  /** Checks of the bytes against the spec's layout (through the test decoders). */
  spec: (p: RxPdu) => void;
  hlen: number;
}

const offending = pattern(24, 1);
const icd = pattern(512, 2);
const h2cBytes = pattern(1001, 3);
const c2hBytes = pattern(4096, 4);

const CASES: Case[] = [
  {
    name: 'ICReq', type: PDU.IC_REQ, f: [0, 3, 3, 0], dgst: 3, hlen: 128,
    ts: () => icreq({ hpda: 3, hdgst: true, ddgst: true, maxr2t: 0 }),
    spec: (p) => {
      expect(icreqFields(p)).toEqual({ pfv: 0, hpda: 3, hdgst: true, ddgst: true, maxr2t: 0 });
      expect([p.pdo, p.plen, p.flags]).toEqual([0, 128, 0]); // never digested, whatever was negotiated
      expect(p.bytes.subarray(16).every((b) => b === 0)).toBe(true);
    },
  },
  {
    name: 'ICResp', type: PDU.IC_RESP, f: [0, 7, 1, 65536], dgst: 3, hlen: 128,
    ts: () => icresp({ cpda: 7, hdgst: true, maxh2cdata: 65536 }),
    spec: (p) => {
      expect(icrespFields(p)).toEqual({ pfv: 0, cpda: 7, hdgst: true, ddgst: false, maxh2cdata: 65536 });
      expect([p.pdo, p.plen, p.flags]).toEqual([0, 128, 0]);
    },
  },
  {
    name: 'H2CTermReq', type: PDU.H2C_TERM_REQ, f: [1, 12], data: offending, dgst: 3, hlen: 24,
    ts: () => h2cTermReq(1, offending, 12),
    spec: (p) => {
      expect(termReq(p)).toEqual({ fes: 1, fei: 12 });
      expect([p.pdo, p.plen, p.flags]).toEqual([24, 48, 0]);
      expect(hex(p.bytes.subarray(24))).toBe(hex(offending));
    },
  },
  {
    name: 'C2HTermReq', type: PDU.C2H_TERM_REQ, f: [4, 0], data: offending, dgst: 0, hlen: 24,
    ts: () => c2hTermReq(4, 0, offending),
    spec: (p) => {
      expect(termReq(p)).toEqual({ fes: 4, fei: 0 });
      expect([p.pdo, p.plen]).toEqual([24, 48]);
    },
  },
  {
    name: 'CapsuleCmd, READ with a transport SGL, HDGST', type: PDU.CAPSULE_CMD, f: [2, 7, 1, 0x100, 0, 15, 8192, 5, 0xa, 0, 0, 1], dgst: 3, hlen: 72,
    ts: () => capsule(sqe(2, 7, { nsid: 1, cdw10: 0x100, cdw12: 15, sgl: { kind: 'transport', len: 8192 }, psdt: 1 }), undefined, dgOf(3)),
    spec: (p) => {
      const { sqe: s, icd: data } = capsuleCmdFields(p);
      expect([s.opc, s.psdt, s.fuse, s.cid, s.nsid, s.cdw10, s.cdw12, s.sglLength, s.sglType, s.sglSubtype]).toEqual([2, 1, 0, 7, 1, 0x100, 15, 8192, 5, 0xa]);
      expect(p.bytes[8 + 39]).toBe(0x5a); // SGL identifier (SQE byte 39): type 5 high nibble, subtype 0xA low
      expect(data.length).toBe(0);
      expect([p.pdo, p.plen, p.flags]).toEqual([0, 76, FLAG.HDGSTF]); // no data: no DDGST, no PDO
    },
  },
  ...[0, 1, 2, 3].map((dgst): Case => ({
    name: `CapsuleCmd, WRITE with 512 B in-capsule data, CPDA 3, digests ${dgst}`, type: PDU.CAPSULE_CMD,
    f: [1, 9, 1, 8, 0, 0, 512, 0, 1, 0, 0, 1], data: icd, dgst, pda: 3, hlen: 72,
    ts: () => capsule(sqe(1, 9, { nsid: 1, cdw10: 8, sgl: { kind: 'icd', len: 512 }, psdt: 1 }), icd, dgOf(dgst, 3)),
    spec: (p) => {
      const { sqe: s, icd: data } = capsuleCmdFields(p);
      expect([s.opc, s.cid, s.sglType, s.sglSubtype, s.sglLength, s.sglAddress]).toEqual([1, 9, 0, 1, 512, 0]);
      expect(p.bytes[8 + 39]).toBe(0x01);
      const pdo = Math.ceil((72 + (dgst & 1 ? 4 : 0)) / 16) * 16;
      expect([p.pdo, p.plen]).toEqual([pdo, pdo + 512 + (dgst & 2 ? 4 : 0)]);
      expect(hex(data)).toBe(hex(icd));
    },
  })),
  {
    name: 'CapsuleResp', type: PDU.CAPSULE_RESP, f: [0x1234, 0x89abcdef, 5, 1, 7, 0x22, 0, 1, 1], dgst: 1, hlen: 24,
    ts: () => capsuleResp({ cdw0: 0x1234, cdw1: 0x89abcdef, sqhd: 5, sqid: 1, cid: 7, sc: 0x22, dnr: true, p: true }, dgOf(1)),
    spec: (p) => {
      expect(cqe(p)).toEqual({ cdw0: 0x1234, cdw1: 0x89abcdef, sqhd: 5, cid: 7, sct: 0, sc: 0x22, dnr: true });
      expect(rd16(p.bytes, 18)).toBe(1); // sqid
      expect(rd16(p.bytes, 22)).toBe(0x8000 | (0x22 << 1) | 1); // DNR, SC, P
      expect([p.pdo, p.plen]).toEqual([0, 28]);
    },
  },
  ...[0, 1, 2, 3].map((dgst): Case => ({
    name: `H2CData, 1001 B, LAST_PDU, digests ${dgst}`, type: PDU.H2C_DATA, f: [7, 3, 8192, 0, 1], data: h2cBytes, dgst, hlen: 24,
    ts: () => h2cData({ cccid: 7, ttag: 3, datao: 8192, data: h2cBytes }, dgOf(dgst)),
    spec: (p) => {
      const h = h2cDataFields(p);
      expect([h.cccid, h.ttag, h.datao, h.datal, h.last]).toEqual([7, 3, 8192, 1001, true]);
      expect(hex(h.data)).toBe(hex(h2cBytes));
      expect(p.flags & FLAG.LAST_PDU).toBe(FLAG.LAST_PDU);
    },
  })),
  ...[0, 1, 2, 3].map((dgst): Case => ({
    name: `C2HData, 4 KiB, LAST_PDU|SUCCESS, CPDA 7, digests ${dgst}`, type: PDU.C2H_DATA, f: [7, 4096, 0, 1, 1], data: c2hBytes, dgst, pda: 7, hlen: 24,
    ts: () => c2hDataPdu({ cccid: 7, datao: 4096, data: c2hBytes, last: true, success: true }, dgOf(dgst), 7),
    spec: (p) => {
      const c = c2hData(p);
      expect([c.cccid, c.datao, c.datal, c.last, c.success]).toEqual([7, 4096, 4096, true, true]);
      expect(rd16(p.bytes, 10)).toBe(0); // reserved
      expect(p.pdo).toBe(32); // 24 (+4) rounded up to (7 + 1) * 4
      expect(hex(c.data)).toBe(hex(c2hBytes));
    },
  })),
  {
    name: 'R2T', type: PDU.R2T, f: [7, 0xbeef, 4096, 131072], dgst: 3, hlen: 24,
    ts: () => r2tPdu({ cccid: 7, ttag: 0xbeef, r2to: 4096, r2tl: 131072 }, dgOf(3)),
    spec: (p) => {
      expect(r2t(p)).toEqual({ cccid: 7, ttag: 0xbeef, r2to: 4096, r2tl: 131072 });
      expect([p.pdo, p.plen, p.flags]).toEqual([0, 28, FLAG.HDGSTF]);
      expect(p.bytes.subarray(20, 24).every((b) => b === 0)).toBe(true);
    },
  },
];

/** What each side must find in the PDU of a case: the fields given and the framing. */
function expectFields(c: Case, f: number[]): void {
  const n = c.type === PDU.H2C_DATA ? 5 : c.type === PDU.C2H_DATA ? 5 : c.f.length;
  const want = [...c.f];
  if (c.type === PDU.H2C_DATA) want[3] = c.data!.length;
  if (c.type === PDU.C2H_DATA) want[2] = c.data!.length;
  expect(f.slice(0, n)).toEqual(want.slice(0, n));
  expect(f[X.type]).toBe(c.type);
  expect(f[X.hlen]).toBe(c.hlen);
}

describe('PDU round trips between the C wire structs and the test codec', () => {
  it.each(CASES)('$name: C and the test encode the same bytes; the spec\'s offsets hold', (c) => {
    const fromC = cEncode(c.type, c.f, c.data, c.dgst, c.pda);
    const fromTs = c.ts();
    expect(hex(fromC)).toBe(hex(fromTs));
    const p = rx(fromC);
    expect([p.type, p.hlen]).toEqual([c.type, c.hlen]);
    c.spec(p);
    // Digests where negotiated and the type has them, and only there.
    const hd = (c.dgst & 1) !== 0 && [PDU.CAPSULE_CMD, PDU.CAPSULE_RESP, PDU.H2C_DATA, PDU.C2H_DATA, PDU.R2T].includes(c.type as never);
    const dd = (c.dgst & 2) !== 0 && (c.data?.length ?? 0) > 0 && [PDU.CAPSULE_CMD, PDU.H2C_DATA, PDU.C2H_DATA].includes(c.type as never);
    expect(digestCheck(p)).toEqual({ ...(hd ? { hdgst: true } : {}), ...(dd ? { ddgst: true } : {}) });
    // Padding between the header (+HDGST) and PDO is zero.
    if (p.pdo > 0) expect(p.bytes.subarray(c.hlen + (hd ? 4 : 0), p.pdo).every((b) => b === 0)).toBe(true);
  });

  it.each(CASES)('$name: the C decoder reads the test\'s PDU, digests check out, a flipped bit shows', (c) => {
    const bytes = c.ts();
    const f = cDecode(bytes, c.dgst);
    expectFields(c, f);
    expect([f[X.flags], f[X.pdo], f[X.plen]]).toEqual([bytes[1], bytes[3], bytes.length]);
    const p = rx(bytes);
    const d = digestCheck(p);
    expect(f[X.hdgst]).toBe(d.hdgst === undefined ? DIGEST.absent : DIGEST.ok);
    expect(f[X.ddgst]).toBe(d.ddgst === undefined ? DIGEST.absent : DIGEST.ok);
    if (c.data !== undefined) expect(hex(bytes.subarray(f[X.dataOff]!, f[X.dataOff]! + f[X.dataLen]!))).toBe(hex(c.data));
    if (d.hdgst !== undefined) {
      const bad = bytes.slice();
      bad[12] = bad[12]! ^ 0x10;
      expect(cDecode(bad, c.dgst)[X.hdgst]).toBe(DIGEST.bad);
      expect(digestCheck(rx(bad)).hdgst).toBe(false);
    }
    if (d.ddgst !== undefined) {
      const bad = bytes.slice();
      bad[p.pdo] = bad[p.pdo]! ^ 0x01;
      expect(cDecode(bad, c.dgst)[X.ddgst]).toBe(DIGEST.bad);
      expect(digestCheck(rx(bad)).ddgst).toBe(false);
    }
  });

  it('the C decoder refuses a header length that is not the type\'s', () => {
    const b = r2tPdu({ cccid: 1, ttag: 1, r2to: 0, r2tl: 1 }, dgOf(0));
    b[2] = 28;
    const bp = inGuest(b);
    const fp = m.call('malloc', FIELDS * 4);
    expect(m.api.spdk_wasm_ut_pdu_decode(bp, b.length, 0, fp)).toBeLessThan(0);
    expect(m.api.spdk_wasm_ut_pdu_decode(bp, 20, 0, fp)).toBeLessThan(0); // plen past the bytes
  });
});

describe("the model's own PDUs off the wire, decoded by the test and by the C structs", () => {
  /** Both decoders agree with the test's reading of `p`, and its digests hold. */
  function bothDecoders(p: RxPdu, dg: Digests): number[] {
    const dgst = (dg.hdgst ? 1 : 0) | (dg.ddgst ? 2 : 0);
    const f = cDecode(p.bytes, dgst);
    expect([f[X.type], f[X.hlen], f[X.pdo], f[X.plen], f[X.flags]]).toEqual([p.type, p.hlen, p.pdo, p.plen, p.flags]);
    const d = digestCheck(p);
    expect(Object.values(d).every((ok) => ok)).toBe(true);
    expect(f[X.hdgst]).toBe(d.hdgst === undefined ? DIGEST.absent : DIGEST.ok);
    expect(f[X.ddgst]).toBe(d.ddgst === undefined ? DIGEST.absent : DIGEST.ok);
    return f;
  }

  it('the initiator (lib/nvme): ICReq, CapsuleCmd with and without data, H2CData, H2CTermReq', async () => {
    const dg = { hdgst: true, ddgst: true };
    const s = await scriptedPair({ maxh2cdata: 8192, cpda: 3, hostDigests: dg });
    const c = s.peer.io();
    const buf = s.host.call('malloc', 16384);
    expect(io(s, true, buf, 0, 1)).toBe(0); // 512 B: in-capsule
    expect(io(s, true, buf, 0, 32)).toBe(0); // 16 KiB: R2T, two H2CData
    s.peer.maxConns = 2;
    s.peer.onCommand = (pc, q) => {
      s.peer.send(pc, r2tPdu({ cccid: q.cid + 1, ttag: 1, r2to: 0, r2tl: 512 }, pc.dg));
      return true;
    };
    io(s, true, buf, 0, 32);
    s.tb.runUntil(() => c.closed, s.tb.world.now + 1e6);
    const [ic] = s.peer.received(c, PDU.IC_REQ);
    expect(cDecode(ic!.bytes, 0).slice(0, 4)).toEqual([0, 0, 3, 0]); // pfv 0, hpda 0, both digests asked, maxr2t 0's based
    expect(icreqFields(ic!)).toEqual({ pfv: 0, hpda: 0, hdgst: true, ddgst: true, maxr2t: 0 });
    const cmds = s.peer.received(c, PDU.CAPSULE_CMD).slice(-3);
    const withIcd = cmds[0]!;
    const f = bothDecoders(withIcd, dg);
    const { sqe: q, icd: data } = capsuleCmdFields(withIcd);
    expect([f[0], f[1], f[6], f[7], f[8]]).toEqual([q.opc, q.cid, q.sglLength, q.sglType, q.sglSubtype]);
    expect([q.opc, q.sglType, q.sglSubtype, q.sglLength, data.length, withIcd.pdo]).toEqual([1, 0, 1, 512, 512, 80]);
    const noIcd = bothDecoders(cmds[1]!, dg);
    expect([noIcd[6], noIcd[7], noIcd[8], cmds[1]!.pdo, cmds[1]!.plen]).toEqual([16384, 5, 0xa, 0, 76]);
    const h2c = s.peer.received(c, PDU.H2C_DATA);
    expect(h2c.length).toBe(2);
    for (const [i, p] of h2c.entries()) {
      const hf = bothDecoders(p, dg);
      const h = h2cDataFields(p);
      expect([hf[0], hf[1], hf[2], hf[3], hf[4]]).toEqual([h.cccid, h.ttag, h.datao, h.datal, h.last ? 1 : 0]);
      expect([h.datao, h.datal, h.last, p.pdo]).toEqual([i * 8192, 8192, i === 1, 32]);
    }
    const [t] = s.peer.received(c, PDU.H2C_TERM_REQ);
    const tf = bothDecoders(t!, dg);
    expect([tf[0], tf[1]]).toEqual([1, 8]); // invalid header field at cccid
    expect(termReq(t!)).toEqual({ fes: 1, fei: 8 });
  });

  it('the target (lib/nvmf): ICResp, CapsuleResp, R2T, C2HData, C2HTermReq', async () => {
    const h = await TargetHarness.create({ c2hSuccess: false });
    const dg: Digests = { hdgst: true, ddgst: true, hpda: 1 };
    const { c, cntlid } = h.adminQueue(dg);
    const [ir] = c.rx.filter((p) => p.type === PDU.IC_RESP);
    const irf = cDecode(ir!.bytes, 0);
    expect(irf.slice(0, 3)).toEqual([0, 1, 3]); // pfv 0, CPDA echoes HPDA 1, both digests granted
    expect(icrespFields(ir!)).toMatchObject({ pfv: 0, cpda: 1, hdgst: true, ddgst: true, maxh2cdata: irf[3] });
    const io1 = h.ioQueue(cntlid, 1, dg);
    const w = h.exchange(io1, capsule(sqe(1, 5, { nsid: 1, cdw10: 0, cdw12: 15, sgl: { kind: 'transport', len: 8192 } }), undefined, dg), 1, 'WRITE');
    const rf = bothDecoders(w[0]!, dg);
    expect(r2t(w[0]!)).toEqual({ cccid: 5, ttag: rf[1], r2to: 0, r2tl: 8192 });
    expect(rf.slice(0, 4)).toEqual([5, rf[1], 0, 8192]);
    const done = h.exchange(io1, h2cData({ cccid: 5, ttag: rf[1]!, datao: 0, data: pattern(8192, 9) }, dg), 1, 'H2CData');
    const cf = bothDecoders(done[0]!, dg);
    expect(cqe(done[0]!)).toMatchObject({ cid: 5, sc: 0, sct: 0 });
    expect([cf[4], cf[5], cf[6], cf[3]]).toEqual([5, 0, 0, rd16(done[0]!.bytes, 18)]); // cid, sc, sct, sqid
    const rd = h.exchange(io1, capsule(sqe(2, 6, { nsid: 1, cdw10: 0, cdw12: 15, sgl: { kind: 'transport', len: 8192 } }), undefined, dg), 2, 'READ');
    const df = bothDecoders(rd[0]!, dg);
    const d = c2hData(rd[0]!);
    expect([df[0], df[1], df[2], df[3], df[4]]).toEqual([6, 0, 8192, 1, 0]); // LAST_PDU, no SUCCESS (c2h_success off)
    expect([d.cccid, d.datao, d.datal, d.last, d.success, rd[0]!.pdo]).toEqual([6, 0, 8192, true, false, 32]);
    expect(hex(d.data)).toBe(hex(pattern(8192, 9)));
    expect(bothDecoders(rd[1]!, dg)[4]).toBe(6);
    // A CapsuleCmd with a wrong hlen: C2HTermReq, FES 1 at the hlen field, the header echoed.
    const bad = capsule(sqe(0, 7), undefined, dg);
    bad[2] = 80;
    const [t] = h.exchange(io1, bad, 1, 'bad hlen');
    const tf = bothDecoders(t!, { hdgst: false, ddgst: false });
    expect(termReq(t!)).toEqual({ fes: 1, fei: 2 });
    expect([tf[0], tf[1], t!.pdo]).toEqual([1, 2, 24]);
    expect(hex(t!.bytes.subarray(24, 32))).toBe(hex(bad.subarray(0, 8)));
  });

  it('the initiator reads a C2HTermReq from the test encoder: FES recorded, the qpair fails', async () => {
    const s = await scriptedPair();
    s.peer.maxConns = 2;
    const c = s.peer.io();
    s.peer.onCommand = (pc) => {
      s.peer.send(pc, c2hTermReq(5, 0, pattern(24, 3)));
      return true;
    };
    const buf = s.host.call('malloc', 4096);
    expect(io(s, false, buf, 0, 8)).toBe(0x08); // aborted by the qpair's failure
    expect(s.host.api.spdk_wasm_nvme_ctrlr_field(s.id, 6)).toBe(1);
    expect(qf(s, 1, 108)).toBe(1); // C2HTermReqs received
    expect(qf(s, 1, 109)).toBe(5); // its FES
    expect(s.peer.received(c, PDU.H2C_TERM_REQ)).toHaveLength(0); // a TermReq is not answered
  });
});
