/**
 * The initiator's READ path (lib/nvme/nvme_tcp.c: nvme_tcp_c2h_data_hdr_handle and
 * nvme_tcp_c2h_data_payload_handle) against a scripted controller: a READ returned in several
 * C2HData PDUs (data offsets, LAST_PDU, SUCCESS on the last one or a separate CapsuleResp), with
 * header/data digests, CPDA padding and data lengths that are not a multiple of 4; a bad data
 * digest handled as upstream does; and C2HData that point outside the command's buffer, which must
 * fail the qpair with an H2CTermReq and leave the caller's memory alone (also under ASan).
 */
import { describe, expect, it } from 'vitest';
import { FES, FLAG, PDU, termReq } from '../../../host/fuzz/pdu.js';
import { io, qf } from './support.js';
import { scriptedPair, type PeerConn, type ScriptedPair, type ScriptedTargetOpts } from './scripted-target.js';
import { c2hDataPdu, capsuleCmdFields } from './target-pdu.js';

const KiB = 1024;
const ABORTED_SQ_DELETION = 0x08;
const TRANSIENT_TRANSPORT_ERROR = 0x22;
const GUARD = 64;

/** A read buffer with GUARD bytes of 0xA5 on each side and 0x5A inside. */
function guarded(p: ScriptedPair, len: number): { buf: number; guardsIntact: () => boolean; bytes: () => Uint8Array } {
  const m = p.host;
  const base = m.call('malloc', len + 2 * GUARD);
  const mem = m.mem.bytes();
  mem.fill(0xa5, base, base + GUARD);
  mem.fill(0x5a, base + GUARD, base + GUARD + len);
  mem.fill(0xa5, base + GUARD + len, base + len + 2 * GUARD);
  const all = (): Uint8Array => m.mem.bytes().subarray(base, base + len + 2 * GUARD);
  return {
    buf: base + GUARD,
    guardsIntact: () => all().subarray(0, GUARD).every((b) => b === 0xa5) && all().subarray(GUARD + len).every((b) => b === 0xa5),
    bytes: () => all().slice(GUARD, GUARD + len),
  };
}

function pattern(len: number, salt: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 13 + salt + (i >> 9)) & 0xff;
  return b;
}

/** Reads `len` bytes at LBA 0 after putting a pattern there; returns what arrived and the status. */
function read(p: ScriptedPair, len: number, salt = 1): { want: Uint8Array; got: Uint8Array; status: number; guardsIntact: boolean; c: PeerConn } {
  const want = pattern(len, salt);
  p.peer.disk.set(want, 0);
  const g = guarded(p, len);
  const c = p.peer.io();
  const status = io(p, false, g.buf, 0, len / 512);
  return { want, got: g.bytes(), status, guardsIntact: g.guardsIntact(), c };
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

const FRAMINGS: { name: string; o: ScriptedTargetOpts }[] = [
  { name: 'no digests', o: {} },
  { name: 'header and data digests', o: { hdgst: true, ddgst: true } },
  { name: 'data digest, CPDA 3', o: { ddgst: true, cpda: 3 } },
];

describe('NVMe/TCP initiator: a READ in several C2HData PDUs (scripted controller)', () => {
  for (const { name, o } of FRAMINGS) {
    for (const success of [true, false]) {
      it(`4 + 12 + 16 + 32 KiB land at their offsets, ${success ? 'SUCCESS on the last' : 'LAST_PDU then a CapsuleResp'}: ${name}`, async () => {
        const p = await scriptedPair(o);
        p.peer.plan.c2hChunks = () => [4 * KiB, 12 * KiB, 16 * KiB, 32 * KiB];
        p.peer.plan.c2hSuccess = success;
        const before = { c2h: qf(p, 1, 113), success: qf(p, 1, 114) };
        const r = read(p, 64 * KiB, 2);
        expect(r.status).toBe(0);
        expect(same(r.got, r.want)).toBe(true);
        expect(r.guardsIntact).toBe(true);
        expect(qf(p, 1, 113) - before.c2h).toBe(64 * KiB);
        expect(qf(p, 1, 114) - before.success).toBe(success ? 1 : 0);
        // The READ went out as a transport SGL for the whole length.
        const sqe = capsuleCmdFields(p.peer.received(r.c, PDU.CAPSULE_CMD).at(-1)!).sqe;
        expect([sqe.opc, sqe.sglType, sqe.sglSubtype, sqe.sglLength, sqe.cdw12 & 0xffff]).toEqual([2, 5, 0xa, 64 * KiB, 127]);
        expect(qf(p, 1, 111)).toBe(0); // no data digest errors
      });
    }
  }

  it('data lengths that are not a multiple of 4: the data digest covers the zero padding', async () => {
    const p = await scriptedPair({ hdgst: true, ddgst: true });
    p.peer.plan.c2hChunks = () => [1001, 1023, 2071, 1];
    const r = read(p, 4 * KiB, 3);
    expect(r.status).toBe(0);
    expect(same(r.got, r.want)).toBe(true);
    expect(qf(p, 1, 111)).toBe(0);
  });

  it('the qpair stays usable across several chunked reads', async () => {
    const p = await scriptedPair({ ddgst: true, maxh2cdata: 8 * KiB });
    p.peer.plan.c2hChunks = (len) => (len > 8 * KiB ? [8 * KiB, len - 8 * KiB] : [len]);
    for (let i = 0; i < 4; i++) {
      const r = read(p, (i + 1) * 8 * KiB, i);
      expect(r.status).toBe(0);
      expect(same(r.got, r.want)).toBe(true);
    }
    expect(p.host.api.spdk_wasm_nvme_ctrlr_field(p.id, 6)).toBe(0); // no reset
  });
});

/** Takes over the next READ: `answer(c, cid)` sends what the controller replies. */
function scriptNextRead(p: ScriptedPair, answer: (c: PeerConn, cid: number) => void): void {
  p.peer.onCommand = (c, sqe) => {
    if (sqe.opc !== 2) return false;
    p.peer.onCommand = undefined;
    answer(c, sqe.cid);
    return true;
  };
}

describe('NVMe/TCP initiator: data digest errors on C2HData (scripted controller)', () => {
  it('a bad DDGST on the SUCCESS C2HData completes the READ with TRANSIENT TRANSPORT ERROR; the qpair stays up', async () => {
    const p = await scriptedPair({ ddgst: true });
    scriptNextRead(p, (c, cid) => {
      const pdu = c2hDataPdu({ cccid: cid, datao: 0, data: pattern(8 * KiB, 4), last: true, success: true }, c.dg);
      pdu[pdu.length - 1] = pdu[pdu.length - 1]! ^ 0xff;
      p.peer.send(c, pdu);
    });
    const r = read(p, 8 * KiB, 4);
    expect(r.status).toBe(TRANSIENT_TRANSPORT_ERROR);
    expect(qf(p, 1, 111)).toBe(1);
    expect(p.peer.received(r.c, PDU.H2C_TERM_REQ)).toHaveLength(0);
    // Not a connection failure: no reset, and the next READ on the same qpair is fine.
    expect(p.host.api.spdk_wasm_nvme_ctrlr_field(p.id, 6)).toBe(0);
    const again = read(p, 8 * KiB, 5);
    expect(again.c).toBe(r.c);
    expect(again.status).toBe(0);
    expect(same(again.got, again.want)).toBe(true);
  });

  it('a bad DDGST on one of several C2HData followed by a CapsuleResp: the CQE is what completes the READ (upstream)', async () => {
    // Upstream marks the request TRANSIENT TRANSPORT ERROR on the digest mismatch, and the
    // CapsuleResp handler then copies the controller's CQE over it: only a C2HData carrying
    // SUCCESS delivers the digest error to the caller.
    const p = await scriptedPair({ ddgst: true });
    scriptNextRead(p, (c, cid) => {
      const data = pattern(8 * KiB, 6);
      const first = c2hDataPdu({ cccid: cid, datao: 0, data: data.subarray(0, 4 * KiB) }, c.dg);
      first[first.length - 2] = first[first.length - 2]! ^ 0x01;
      p.peer.send(c, first);
      p.peer.send(c, c2hDataPdu({ cccid: cid, datao: 4 * KiB, data: data.subarray(4 * KiB), last: true }, c.dg));
      p.peer.resp(c, { cid });
    });
    const r = read(p, 8 * KiB, 6);
    expect(qf(p, 1, 111)).toBe(1);
    expect(r.status).toBe(0);
    expect(p.peer.received(r.c, PDU.H2C_TERM_REQ)).toHaveLength(0);
    expect(p.host.api.spdk_wasm_nvme_ctrlr_field(p.id, 6)).toBe(0);
  });

  it('a SUCCESS C2HData that ends short completes the READ without error (upstream sets only the P bit); the rest is untouched', async () => {
    const p = await scriptedPair({ ddgst: true });
    scriptNextRead(p, (c, cid) => p.peer.send(c, c2hDataPdu({ cccid: cid, datao: 0, data: pattern(4 * KiB, 8), last: true, success: true }, c.dg)));
    const r = read(p, 8 * KiB, 8);
    expect(r.status).toBe(0);
    expect(same(r.got.subarray(0, 4 * KiB), pattern(4 * KiB, 8))).toBe(true);
    expect(r.got.subarray(4 * KiB).every((b) => b === 0x5a)).toBe(true);
    expect(p.peer.received(r.c, PDU.H2C_TERM_REQ)).toHaveLength(0);
  });

  it('a bad HDGST on C2HData fails the qpair: H2CTermReq FES 3 (header digest error)', async () => {
    const p = await scriptedPair({ hdgst: true });
    p.peer.maxConns = 2;
    scriptNextRead(p, (c, cid) => {
      const pdu = c2hDataPdu({ cccid: cid, datao: 0, data: pattern(4 * KiB, 7), last: true, success: true }, c.dg);
      pdu[24] = pdu[24]! ^ 0xff;
      p.peer.send(c, pdu);
    });
    const r = read(p, 4 * KiB, 7);
    p.tb.runUntil(() => r.c.closed, p.tb.world.now + 1e6);
    expect(r.status).toBe(ABORTED_SQ_DELETION);
    const [t] = p.peer.received(r.c, PDU.H2C_TERM_REQ);
    expect(termReq(t!).fes).toBe(FES.HDGST_ERROR);
    expect(r.got.every((b) => b === 0x5a)).toBe(true);
  });
});

interface BadC2h {
  name: string;
  /** The C2HData PDUs the controller answers an 8 KiB READ with. */
  pdus: (cid: number) => { cccid: number; datao: number; len: number; last?: boolean; success?: boolean }[];
  fes: number;
  fei: number;
  /** Bytes of the buffer the valid PDUs before the bad one filled. */
  filled: number;
}

const BAD: BadC2h[] = [
  { name: 'datao + datal beyond the buffer', pdus: (cid) => [{ cccid: cid, datao: 0, len: 4 * KiB }, { cccid: cid, datao: 4 * KiB, len: 8 * KiB }], fes: FES.DATA_TRANSFER_OUT_OF_RANGE, fei: 0, filled: 4 * KiB },
  { name: 'datal larger than the whole buffer', pdus: (cid) => [{ cccid: cid, datao: 0, len: 8 * KiB + 4 }], fes: FES.DATA_TRANSFER_OUT_OF_RANGE, fei: 0, filled: 0 },
  { name: 'a gap: datao skips ahead of the data received', pdus: (cid) => [{ cccid: cid, datao: 0, len: 2 * KiB }, { cccid: cid, datao: 4 * KiB, len: 4 * KiB, last: true, success: true }], fes: FES.INVALID_HEADER_FIELD, fei: 12, filled: 2 * KiB },
  { name: 'an overlap: datao goes back', pdus: (cid) => [{ cccid: cid, datao: 0, len: 4 * KiB }, { cccid: cid, datao: 2 * KiB, len: 6 * KiB, last: true, success: true }], fes: FES.INVALID_HEADER_FIELD, fei: 12, filled: 4 * KiB },
  { name: 'cccid of no outstanding command', pdus: (cid) => [{ cccid: cid + 9, datao: 0, len: 8 * KiB, last: true, success: true }], fes: FES.INVALID_HEADER_FIELD, fei: 8, filled: 0 },
  { name: 'SUCCESS without LAST_PDU', pdus: (cid) => [{ cccid: cid, datao: 0, len: 8 * KiB, success: true }], fes: FES.INVALID_HEADER_FIELD, fei: 0, filled: 0 },
];

describe('NVMe/TCP initiator: C2HData outside the command fail the qpair, memory untouched (scripted controller)', () => {
  for (const flavor of ['release', 'asan'] as const) {
    it.each(BAD)(`${flavor}: $name`, async ({ pdus, fes, fei, filled }) => {
      const p = await scriptedPair({ flavor, hdgst: true });
      p.peer.maxConns = 2;
      const data = pattern(16 * KiB, 8);
      let sent: Uint8Array[] = [];
      scriptNextRead(p, (c, cid) => {
        sent = pdus(cid).map((x) => c2hDataPdu({ cccid: x.cccid, datao: x.datao, data: data.subarray(x.datao, x.datao + x.len), last: x.last, success: x.success }, c.dg));
        for (const s of sent) p.peer.send(c, s);
      });
      const r = read(p, 8 * KiB, 8);
      p.tb.runUntil(() => r.c.closed, p.tb.world.now + 1e6);
      expect(p.tb.crashed()).toBeUndefined();
      expect(r.status).toBe(ABORTED_SQ_DELETION);
      const terms = p.peer.received(r.c, PDU.H2C_TERM_REQ);
      expect(terms).toHaveLength(1);
      expect(termReq(terms[0]!)).toEqual({ fes, fei });
      // The offending C2HData's 24-byte header is echoed.
      expect(same(terms[0]!.bytes.subarray(24), sent.at(-1)!.subarray(0, 24))).toBe(true);
      expect(r.guardsIntact).toBe(true);
      expect(same(r.got.subarray(0, filled), data.subarray(0, filled))).toBe(true);
      expect(r.got.subarray(filled).every((b) => b === 0x5a)).toBe(true);
      expect((terms[0]!.flags & FLAG.HDGSTF) !== 0).toBe(false);
    });
  }
});
