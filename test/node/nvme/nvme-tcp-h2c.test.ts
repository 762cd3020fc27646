/**
 * The initiator's WRITE path (lib/nvme/nvme_tcp.c: nvme_tcp_r2t_hdr_handle, nvme_tcp_send_h2c_data)
 * against a scripted controller that asks for data the ways our target never does: one R2T larger
 * than the ICResp's maxh2cdata (several H2CData PDUs), several R2Ts per command (one after another,
 * or back to back beyond maxr2t), with header/data digests and CPDA padding; and bad R2Ts, which
 * must fail the qpair with the H2CTermReq upstream sends, never move data. Every check is on the
 * bytes the initiator put on the wire.
 */
import { describe, expect, it } from 'vitest';
import { FES, FLAG, PDU, termReq, type RxPdu } from '../../../host/fuzz/pdu.js';
import { fill, io, qf } from './support.js';
import { scriptedPair, type PeerConn, type ScriptedPair, type ScriptedTargetOpts } from './scripted-target.js';
import { capsuleCmdFields, digestCheck, h2cDataFields, r2tPdu } from './target-pdu.js';

const ABORTED_SQ_DELETION = 0x08;
const KiB = 1024;

/** Writes `len` bytes of a pattern at LBA 0; returns the pattern, the status and the I/O conn. */
function write(p: ScriptedPair, len: number, salt = 1): { want: Uint8Array; status: number; c: PeerConn } {
  const buf = p.host.call('malloc', len);
  const want = fill(p.host, buf, len, salt);
  const c = p.peer.io();
  const status = io(p, true, buf, 0, len / 512);
  p.host.free(buf);
  return { want, status, c };
}

/** The H2CData PDUs of the last WRITE on `c`, with their decoded fields. */
function h2cs(c: PeerConn): (ReturnType<typeof h2cDataFields> & { p: RxPdu })[] {
  const lastCmd = c.rx.map((p) => p.type).lastIndexOf(PDU.CAPSULE_CMD);
  return c.rx.slice(lastCmd).filter((p) => p.type === PDU.H2C_DATA).map((p) => ({ ...h2cDataFields(p), p }));
}

function reassemble(parts: { datao: number; data: Uint8Array }[], len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (const x of parts) out.set(x.data, x.datao);
  return out;
}

const FRAMINGS: { name: string; o: ScriptedTargetOpts }[] = [
  { name: 'no digests', o: {} },
  { name: 'header and data digests', o: { hdgst: true, ddgst: true } },
  { name: 'data digest, CPDA 3 (16-byte PDO)', o: { ddgst: true, cpda: 3 } },
  { name: 'header digest, CPDA 7 (32-byte PDO)', o: { hdgst: true, cpda: 7 } },
];

describe('NVMe/TCP initiator: H2CData answering R2Ts (scripted controller)', () => {
  it.each(FRAMINGS)('one R2T above maxh2cdata is sent as maxh2cdata-sized H2CData PDUs: $name', async ({ o }) => {
    const p = await scriptedPair({ maxh2cdata: 16 * KiB, ...o });
    expect(qf(p, 1, 104)).toBe(16 * KiB);
    const { want, status, c } = write(p, 64 * KiB);
    expect(status).toBe(0);
    const cmd = capsuleCmdFields(p.peer.received(c, PDU.CAPSULE_CMD).at(-1)!).sqe;
    // A transport SGL (type 5, subtype 0xA) of the whole length, no in-capsule data.
    expect([cmd.sglType, cmd.sglSubtype, cmd.sglLength]).toEqual([5, 0xa, 64 * KiB]);
    const r2t = p.peer.received(c, PDU.R2T);
    expect(r2t).toHaveLength(0); // R2Ts go the other way; nothing of the kind came from the host
    const h = h2cs(c);
    expect(h.map((x) => [x.datao, x.datal, x.last])).toEqual([
      [0, 16 * KiB, false], [16 * KiB, 16 * KiB, false], [32 * KiB, 16 * KiB, false], [48 * KiB, 16 * KiB, true],
    ]);
    const hd = o.hdgst ? 4 : 0;
    const align = ((o.cpda ?? 0) + 1) * 4;
    const pdo = Math.ceil((24 + hd) / align) * align;
    for (const x of h) {
      expect(x.cccid).toBe(cmd.cid);
      expect(x.ttag).toBe(1); // the scripted controller's first ttag
      expect(x.p.hlen).toBe(24);
      expect(x.p.pdo).toBe(pdo);
      expect(x.p.plen).toBe(pdo + x.datal + (o.ddgst ? 4 : 0));
      expect(x.p.flags & (FLAG.HDGSTF | FLAG.DDGSTF)).toBe((o.hdgst ? FLAG.HDGSTF : 0) | (o.ddgst ? FLAG.DDGSTF : 0));
      // Padding between the header (and HDGST) and PDO is zero.
      expect([...x.p.bytes.subarray(24 + hd, pdo)].every((b) => b === 0)).toBe(true);
      expect(digestCheck(x.p)).toEqual({ ...(o.hdgst ? { hdgst: true } : {}), ...(o.ddgst ? { ddgst: true } : {}) });
    }
    expect(Buffer.compare(Buffer.from(reassemble(h, 64 * KiB)), Buffer.from(want))).toBe(0);
    expect(Buffer.compare(Buffer.from(p.peer.disk.subarray(0, 64 * KiB)), Buffer.from(want))).toBe(0);
    expect(qf(p, 1, 112)).toBe(64 * KiB); // H2C bytes
  });

  it('a remainder below maxh2cdata goes last: 20 KiB at maxh2cdata 8 KiB is 8 + 8 + 4 KiB', async () => {
    const p = await scriptedPair({ maxh2cdata: 8 * KiB, hdgst: true, ddgst: true });
    const { want, status, c } = write(p, 20 * KiB, 2);
    expect(status).toBe(0);
    const h = h2cs(c);
    expect(h.map((x) => [x.datao, x.datal, x.last])).toEqual([[0, 8 * KiB, false], [8 * KiB, 8 * KiB, false], [16 * KiB, 4 * KiB, true]]);
    expect(Buffer.compare(Buffer.from(reassemble(h, 20 * KiB)), Buffer.from(want))).toBe(0);
  });

  it('several R2Ts per command, each after the previous range arrived: each answered with its ttag and range', async () => {
    const p = await scriptedPair({ maxh2cdata: 16 * KiB, hdgst: true, ddgst: true });
    p.peer.plan.r2ts = () => [{ r2to: 0, r2tl: 16 * KiB }, { r2to: 16 * KiB, r2tl: 8 * KiB }, { r2to: 24 * KiB, r2tl: 40 * KiB }];
    const { want, status, c } = write(p, 64 * KiB, 3);
    expect(status).toBe(0);
    const h = h2cs(c);
    expect(h.map((x) => [x.ttag, x.datao, x.datal, x.last])).toEqual([
      [1, 0, 16 * KiB, true],
      [2, 16 * KiB, 8 * KiB, true],
      [3, 24 * KiB, 16 * KiB, false], [3, 40 * KiB, 16 * KiB, false], [3, 56 * KiB, 8 * KiB, true],
    ]);
    expect(h.every((x) => digestCheck(x.p).ddgst === true && digestCheck(x.p).hdgst === true)).toBe(true);
    expect(Buffer.compare(Buffer.from(reassemble(h, 64 * KiB)), Buffer.from(want))).toBe(0);
    // The qpair is still good: a second write (one R2T) goes through.
    p.peer.plan.r2ts = (len) => [{ r2to: 0, r2tl: len }];
    expect(write(p, 8 * KiB, 4).status).toBe(0);
  });

  for (const ioZcopy of [true, false]) {
    it(`a second R2T sent before the first one's H2CData write completed is served after it (r2t_waiting_h2c_complete), zero copy ${ioZcopy ? 'on' : 'off'}`, async () => {
      const p = await scriptedPair({ maxh2cdata: 16 * KiB, ioZcopy });
      p.peer.plan.r2ts = () => [{ r2to: 0, r2tl: 16 * KiB }, { r2to: 16 * KiB, r2tl: 16 * KiB }];
      p.peer.plan.r2tBackToBack = true;
      const { want, status, c } = write(p, 32 * KiB, 5);
      expect(status).toBe(0);
      expect(p.peer.received(c, PDU.H2C_TERM_REQ)).toHaveLength(0);
      const h = h2cs(c);
      expect(h.map((x) => [x.ttag, x.datao, x.datal, x.last])).toEqual([[1, 0, 16 * KiB, true], [2, 16 * KiB, 16 * KiB, true]]);
      expect(Buffer.compare(Buffer.from(reassemble(h, 32 * KiB)), Buffer.from(want))).toBe(0);
    });
  }

  it('a second R2T sent while the first one\'s data is not all out yet is refused: its r2to is not where the data stands', async () => {
    // The R2T check compares r2to with the data sent so far, before the R2T limit: with the
    // first range needing two H2CData PDUs, the back-to-back second R2T is an invalid header.
    const p = await scriptedPair({ maxh2cdata: 8 * KiB });
    p.peer.maxConns = 2;
    p.peer.plan.r2ts = () => [{ r2to: 0, r2tl: 16 * KiB }, { r2to: 16 * KiB, r2tl: 16 * KiB }];
    p.peer.plan.r2tBackToBack = true;
    const { status, c } = write(p, 32 * KiB, 6);
    expect(status).toBe(ABORTED_SQ_DELETION);
    p.tb.runUntil(() => c.closed, p.tb.world.now + 1e6);
    const [t] = p.peer.received(c, PDU.H2C_TERM_REQ);
    expect(termReq(t!)).toEqual({ fes: FES.INVALID_HEADER_FIELD, fei: 12 });
  });
});

/** Takes over the next WRITE with `bad(cid)` as the controller's answer; returns the H2CTermReq. */
async function badR2t(bad: (cid: number) => Uint8Array, o: ScriptedTargetOpts = {}): Promise<{ p: ScriptedPair; c: PeerConn; status: number; term: RxPdu; r2t: Uint8Array }> {
  const p = await scriptedPair(o);
  p.peer.maxConns = 2; // no reconnect: the failure stays visible
  let r2t: Uint8Array = new Uint8Array(0);
  p.peer.onCommand = (c, sqe) => {
    r2t = bad(sqe.cid);
    p.peer.send(c, r2t);
    return true;
  };
  const buf = p.host.call('malloc', 16 * KiB);
  fill(p.host, buf, 16 * KiB, 9);
  const c = p.peer.io();
  const status = io(p, true, buf, 0, 32);
  p.tb.runUntil(() => c.closed, p.tb.world.now + 1e6);
  const terms = p.peer.received(c, PDU.H2C_TERM_REQ);
  expect(terms).toHaveLength(1);
  return { p, c, status, term: terms[0]!, r2t };
}

describe('NVMe/TCP initiator: bad R2Ts fail the qpair (scripted controller)', () => {
  const cases: { name: string; r2t: (cid: number) => { cccid: number; ttag: number; r2to: number; r2tl: number }; fes: number; fei: number }[] = [
    { name: 'r2to not where the data stands (4096, expected 0)', r2t: (cid) => ({ cccid: cid, ttag: 1, r2to: 4096, r2tl: 4096 }), fes: FES.INVALID_HEADER_FIELD, fei: 12 },
    { name: 'r2to + r2tl beyond the 16 KiB payload', r2t: (cid) => ({ cccid: cid, ttag: 1, r2to: 0, r2tl: 16 * KiB + 512 }), fes: FES.DATA_TRANSFER_OUT_OF_RANGE, fei: 0 },
    { name: 'cccid of no outstanding command', r2t: (cid) => ({ cccid: cid + 7, ttag: 1, r2to: 0, r2tl: 4096 }), fes: FES.INVALID_HEADER_FIELD, fei: 8 },
  ];

  it.each(cases)('$name: H2CTermReq with the FES, FEI and offending header; no H2CData; the write aborted', async ({ r2t, fes, fei }) => {
    const { p, c, status, term, r2t: sent } = await badR2t((cid) => r2tPdu(r2t(cid), { hdgst: true, ddgst: false }), { hdgst: true });
    expect(termReq(term)).toEqual({ fes, fei });
    expect(term.hlen).toBe(24);
    // The offending PDU's header (hlen bytes) follows the TermReq header.
    expect(Buffer.compare(Buffer.from(term.bytes.subarray(24)), Buffer.from(sent.subarray(0, 24)))).toBe(0);
    expect(p.peer.received(c, PDU.H2C_DATA)).toHaveLength(0);
    expect(status).toBe(ABORTED_SQ_DELETION);
    expect(c.closed).toBe(true);
    expect(p.host.api.spdk_wasm_nvme_ctrlr_field(p.id, 6)).toBe(1); // one reset
  });
});
