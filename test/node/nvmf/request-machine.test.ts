/**
 * nvmf_tcp_req_process through the scripted host (spec §1.2, §1.4, §8(a)8): every path a command
 * takes through the 16 request states, by transition as traced with upstream's state numbers —
 * WRITE with in-capsule data, WRITE by R2T and several H2CData PDUs, READ and WRITE with and
 * without zero copy, header/data digests on and off (the target's digests checked independently),
 * C2HData SUCCESS on and off, keep-alive expiry, and qpair teardown while a request sits in each
 * state that can hold one. Throughout: state_cntr sums to resource_count, pdu_in_use is set only
 * while a write is outstanding, FREE is entered once per nvmf_tcp_req_get, and nothing leaks.
 */
import { describe, expect, it } from 'vitest';
import {
  c2hData, capsule, checkRxPdu, cqe, h2cData, OPC, PDU, r2t, readSqe, sqe, writeSqe, type Digests, type RxPdu,
} from '../../../host/fuzz/pdu.js';
import { RS, TargetHarness, type Conn, type TargetOpts } from '../../../host/fuzz/target-harness.node.js';

const DIGESTS: Digests[] = [
  { hdgst: false, ddgst: false }, { hdgst: true, ddgst: false }, { hdgst: false, ddgst: true }, { hdgst: true, ddgst: true, hpda: 3 },
];

function pattern(len: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (i * 31 + seed * 7 + (i >> 9)) & 0xff);
}

async function target(o: TargetOpts = {}, dg: Digests = DIGESTS[0]!, connect: { cattr?: number; kato?: number } = {}): Promise<{ h: TargetHarness; io: Conn; admin: Conn }> {
  const h = await TargetHarness.create(o);
  const { c: admin, cntlid } = h.adminQueue(dg, connect.kato ?? 0);
  const io = h.ioQueue(cntlid, 1, dg, { cattr: connect.cattr });
  h.keepTrace = true;
  return { h, io, admin };
}

/** The state path (from>to) of every request on `c` since the trace was cleared. */
function paths(h: TargetHarness, c: Conn): string[][] {
  const by = new Map<number, string[]>();
  for (const [ev, req, from, to, tq] of h.trace) {
    if (ev !== 'TCP_REQ_STATE' || tq !== c.tq) continue;
    const p = by.get(req) ?? [];
    p.push(`${from}>${to}`);
    by.set(req, p);
  }
  return [...by.values()];
}

/** Checks a path is a chain (each step starts where the last ended) from FREE back to FREE. */
function expectChain(path: string[]): void {
  let at = '0';
  for (const step of path) {
    const [from, to] = step.split('>');
    expect(from, `path ${path.join(' ')}`).toBe(at);
    at = to!;
  }
  expect(at, `path ${path.join(' ')} ends in FREE`).toBe('0');
}

function expectClean(h: TargetHarness, c: Conn): void {
  expect(h.invariantProblems(c.tq)).toEqual([]);
  expect(h.stateCount(c.tq, RS.FREE)).toBe(h.qf(c.tq, 'resourceCount'));
  expect(h.tgt('bdevIoOutstanding')).toBe(0);
  expect(h.sharedBuffersInUse()).toBe(0);
}

function checked(c: Conn, ps: RxPdu[]): RxPdu[] {
  for (const p of ps) expect(checkRxPdu(p, c.dg), `PDU type ${p.type}`).toEqual([]);
  return ps;
}

/** A WRITE by R2T, its data sent in `pieces` H2CData PDUs; returns the CapsuleResp. */
function r2tWrite(h: TargetHarness, c: Conn, cid: number, lba: number, data: Uint8Array, pieces: number): RxPdu {
  h.send(c, capsule(writeSqe(cid, lba, data.length / 512), undefined, c.dg));
  const [t] = checked(c, h.expectPdus(c, 1, 100_000, 'R2T'));
  expect(t!.type).toBe(PDU.R2T);
  const { ttag, r2to, r2tl, cccid } = r2t(t!);
  expect({ r2to, r2tl, cccid }).toEqual({ r2to: 0, r2tl: data.length, cccid: cid });
  const step = Math.ceil(data.length / pieces);
  for (let off = 0; off < data.length; off += step) {
    const part = data.subarray(off, Math.min(data.length, off + step));
    h.send(c, h2cData({ cccid: cid, ttag, datao: off, data: part, last: off + step >= data.length }, c.dg));
  }
  const [resp] = checked(c, h.expectPdus(c, 1, 100_000, 'CapsuleResp'));
  return resp!;
}

describe('request machine: WRITE', () => {
  for (const dg of DIGESTS) {
    const tag = `hdgst ${dg.hdgst} ddgst ${dg.ddgst} hpda ${dg.hpda ?? 0}`;

    it(`in-capsule data: NEW > NEED_BUFFER > HAVE_BUFFER > TX_H_TO_C > ... > FREE (${tag})`, async () => {
      const { h, io } = await target({ zcopy: false }, dg);
      const data = pattern(2048, 1);
      const [resp] = checked(io, h.exchange(io, capsule(writeSqe(9, 16, 4, { icd: true }), data, dg), 1));
      expect(cqe(resp!)).toMatchObject({ cid: 9, sct: 0, sc: 0 });
      expect(h.disk().slice(16 * 512, 16 * 512 + 2048)).toEqual(data);
      const [p] = paths(h, io);
      expect(p).toEqual(['0>1', '1>2', '2>3', '3>6', '6>8', '8>9', '9>11', '11>12', '12>13', '13>15', '15>0']);
      expectClean(h, io);
    });

    for (const zcopy of [false, true]) {
      it(`R2T + 3 H2CData PDUs, zcopy ${zcopy} (${tag})`, async () => {
        const { h, io } = await target({ zcopy }, dg);
        const data = pattern(8192, 2);
        const resp = r2tWrite(h, io, 11, 100, data, 3);
        expect(cqe(resp)).toMatchObject({ cid: 11, sct: 0, sc: 0 });
        expect(h.disk().slice(100 * 512, 100 * 512 + 8192)).toEqual(data);
        const [p] = paths(h, io);
        expectChain(p!);
        expect(p).toEqual(zcopy
          ? ['0>1', '1>2', '2>3', '3>4', '4>5', '5>7', '7>6', '6>8', '8>10', '10>11', '11>12', '12>13', '13>15', '15>0']
          : ['0>1', '1>2', '2>3', '3>7', '7>6', '6>8', '8>9', '9>11', '11>12', '12>13', '13>15', '15>0']);
        expectClean(h, io);
      });
    }
  }

  it('a data digest error on in-capsule data completes with TRANSIENT TRANSPORT ERROR, not executing (READY_TO_COMPLETE from TX_H_TO_C)', async () => {
    const dg = { hdgst: false, ddgst: true };
    const { h, io } = await target({ zcopy: false }, dg);
    const b = capsule(writeSqe(3, 0, 1, { icd: true }), pattern(512, 3), dg);
    b[b.length - 1] = b[b.length - 1]! ^ 0xff;
    const [resp] = h.exchange(io, b, 1);
    expect(cqe(resp!)).toMatchObject({ cid: 3, sc: 0x22 });
    expect(h.disk()[0]).toBe(0);
    expect(paths(h, io)[0]).toEqual(['0>1', '1>2', '2>3', '3>6', '6>12', '12>13', '13>15', '15>0']);
    expect(h.qf(io.tq, 'ddgstErrors')).toBe(1);
  });

  it('regression: H2CData with a data digest error read before the R2T write completed fails the command (late MSG_ZEROCOPY completion)', async () => {
    const dg = { hdgst: false, ddgst: true };
    const { h, io } = await target({ zcopy: false, sockZcopy: true, lateZcopyAcks: true }, dg);
    h.send(io, capsule(writeSqe(5, 0, 2), undefined, dg));
    const [t] = h.expectPdus(io, 1);
    const idx = h.reqByCid(io.tq, 5);
    expect(h.rf(io.tq, idx, 'state')).toBe(RS.AWAITING_R2T_ACK);
    expect(h.rf(io.tq, idx, 'pduInUse')).toBe(1);
    const d = h2cData({ cccid: 5, ttag: r2t(t!).ttag, datao: 0, data: pattern(1024, 5) }, dg);
    d[d.length - 1] = d[d.length - 1]! ^ 1;
    const [resp] = h.exchange(io, d, 1);
    expect(cqe(resp!)).toMatchObject({ cid: 5, sc: 0x22 });
    // TX_H_TO_C goes to RDY_TO_COMPLETE (12), never to RDY_TO_EXECUTE (8).
    expect(paths(h, io)[0]!.slice(0, 6)).toEqual(['0>1', '1>2', '2>3', '3>7', '7>6', '6>12']);
    expect(h.disk()[0]).toBe(0);
  });
});

describe('request machine: READ, C2HData SUCCESS, zero copy', () => {
  for (const dg of DIGESTS) {
    for (const zcopy of [false, true]) {
      for (const c2hSuccess of [false, true]) {
        it(`READ zcopy ${zcopy} c2h_success ${c2hSuccess} (hdgst ${dg.hdgst} ddgst ${dg.ddgst} hpda ${dg.hpda ?? 0})`, async () => {
          // SUCCESS needs SQ flow control disabled (Connect CATTR bit 2) as well as c2h_success.
          const { h, io } = await target({ zcopy, c2hSuccess }, dg, { cattr: 0x04 });
          const disk = h.disk();
          disk.set(pattern(4096, 9), 40 * 512);
          const out = checked(io, h.exchange(io, capsule(readSqe(21, 40, 8), undefined, dg), c2hSuccess ? 1 : 2));
          const d = c2hData(out[0]!);
          expect(d).toMatchObject({ cccid: 21, datao: 0, datal: 4096, last: true, success: c2hSuccess });
          expect(d.data).toEqual(pattern(4096, 9));
          if (!c2hSuccess) expect(cqe(out[1]!)).toMatchObject({ cid: 21, sc: 0 });
          h.settle(100);
          expect(h.take(io)).toEqual([]);
          const [p] = paths(h, io);
          expectChain(p!);
          expect(p!.slice(2, 5)).toEqual(zcopy ? ['2>3', '3>4', '4>5'] : ['2>3', '3>8', '8>9']);
          if (zcopy) expect(p!.slice(-3)).toEqual(['15>14', '14>15', '15>0']);
          expectClean(h, io);
        });
      }
    }
  }

  // Upstream at the base sets SUCCESS from c2h_success and an all-zero cdw0/cdw1 alone; tying it
  // to disabled SQ flow control is the later 00c2f8cd49 (decisions.md 20).
  it('READ with c2h_success: one C2HData with LAST_PDU|SUCCESS, no CapsuleResp, even with SQ flow control on', async () => {
    const { h, io } = await target({ zcopy: true, c2hSuccess: true });
    const [only] = h.exchange(io, capsule(readSqe(4, 0, 1), undefined, io.dg), 1);
    expect(c2hData(only!)).toMatchObject({ success: true, last: true });
    h.runUntil(() => paths(h, io).length > 0 && paths(h, io)[0]!.at(-1) === '15>0', 1_000_000, 'the READ back to FREE');
    expectClean(h, io);
  });

  it('a failed zcopy_start (LBA out of range) goes ZCPY_START_CPL > RDY_TO_COMPLETE without touching the disk', async () => {
    const { h, io } = await target({ zcopy: true, blocks: 64 });
    const [resp] = h.exchange(io, capsule(readSqe(6, 60, 8), undefined, io.dg), 1);
    expect(cqe(resp!)).toMatchObject({ cid: 6, sc: 0x80 });
    expect(paths(h, io)[0]).toEqual(['0>1', '1>2', '2>3', '3>4', '4>5', '5>12', '12>13', '13>15', '15>0']);
    expectClean(h, io);
  });

  it('a command with no data goes NEW > RDY_TO_EXECUTE (Flush)', async () => {
    const { h, io } = await target();
    const [resp] = h.exchange(io, capsule(sqe(OPC.FLUSH, 8, { nsid: 1 }), undefined, io.dg), 1);
    expect(cqe(resp!)).toMatchObject({ cid: 8, sc: 0 });
    expect(paths(h, io)[0]).toEqual(['0>1', '1>8', '8>9', '9>11', '11>12', '12>13', '13>15', '15>0']);
  });
});

describe('keep-alive', () => {
  it('KATO expiry (no Keep Alive) sets CSTS.CFS, disconnects every qpair and frees the controller between kato and 2 x kato', async () => {
    const { h, io, admin } = await target({}, DIGESTS[0], { kato: 10_000 });
    const t0 = h.world.now;
    expect(h.m.api.spdk_wasm_nvmf_ctrlr_field(0, 4)).toBe(10_000);
    h.runUntil(() => !h.alive(io) && !h.alive(admin), 25_000_000, 'keep-alive expiry');
    const dt = h.world.now - t0;
    expect(dt).toBeGreaterThan(10_000_000);
    expect(dt).toBeLessThanOrEqual(20_000_000 + 10_000);
    expect(h.m.logLines.some((l) => l.includes('due to keep alive timeout'))).toBe(true);
    h.settle(1000);
    expect(h.ctrlrCount()).toBe(0);
    expect(h.tgt('ctrlrsDestroyed')).toBe(1);
    expect(h.leakProblems()).toEqual([]);
  });

  it('Keep Alive every 5 s keeps the controller through 60 s', async () => {
    const { h, io, admin } = await target({}, DIGESTS[0], { kato: 10_000 });
    for (let i = 0; i < 12; i++) {
      h.settle(5_000_000);
      const [r] = h.exchange(admin, capsule(sqe(OPC.KEEP_ALIVE, 100 + i), undefined, admin.dg), 1);
      expect(cqe(r!).sc).toBe(0);
    }
    expect(h.alive(io)).toBe(true);
    expect(h.m.api.spdk_wasm_nvmf_ctrlr_field(0, 2) & 2).toBe(0);
  });
});

describe('qpair teardown while a request holds each state', () => {
  /** Hangs up, lets the kernel finish what it holds, and checks everything came back. */
  function teardown(h: TargetHarness, io: Conn, admin: Conn, release: () => void = () => undefined): void {
    h.hangup(io);
    h.hangup(admin);
    release();
    h.wake();
    h.runUntil(() => !h.alive(io) && !h.alive(admin), 1_000_000, 'teardown');
    h.settle(1000);
    expect(h.leakProblems()).toEqual([]);
    expect(h.ctrlrCount()).toBe(0);
    for (const p of paths(h, io)) expectChain(p);
  }

  it('NEED_BUFFER (shared buffer pool exhausted) and TRANSFERRING_HOST_TO_CONTROLLER (data never sent)', async () => {
    const { h, io, admin } = await target({ zcopy: false, numSharedBuffers: 1, ioUnitSize: 8192, maxIoSize: 8192 });
    h.send(io, capsule(writeSqe(1, 0, 16), undefined, io.dg));
    h.expectPdus(io, 1);
    h.send(io, capsule(writeSqe(2, 16, 16), undefined, io.dg));
    h.settle(100);
    expect(h.rf(io.tq, h.reqByCid(io.tq, 1), 'state')).toBe(RS.TRANSFERRING_H2C);
    expect(h.rf(io.tq, h.reqByCid(io.tq, 2), 'state')).toBe(RS.NEED_BUFFER);
    expect(h.sharedBuffersInUse()).toBe(1);
    expect(h.invariantProblems(io.tq)).toEqual([]);
    teardown(h, io, admin);
    expect(h.sharedBuffersInUse()).toBe(0);
  });

  it('AWAITING_R2T_ACK (the R2T write never completes until the socket goes)', async () => {
    const { h, io, admin } = await target({ zcopy: false, sockZcopy: true });
    h.kernel.autoZcopyAck = false;
    h.send(io, capsule(writeSqe(1, 0, 4), undefined, io.dg));
    h.expectPdus(io, 1);
    const idx = h.reqByCid(io.tq, 1);
    expect(h.rf(io.tq, idx, 'state')).toBe(RS.AWAITING_R2T_ACK);
    expect(h.rf(io.tq, idx, 'pduInUse')).toBe(1);
    teardown(h, io, admin);
  });

  for (const zcopy of [false, true]) {
    it(`TRANSFERRING_CONTROLLER_TO_HOST (C2HData sent, not yet acknowledged), zcopy ${zcopy}`, async () => {
      const { h, io, admin } = await target({ zcopy, sockZcopy: true });
      h.kernel.autoZcopyAck = false;
      h.send(io, capsule(readSqe(1, 0, 8), undefined, io.dg));
      h.expectPdus(io, 1);
      const idx = h.reqByCid(io.tq, 1);
      expect(h.rf(io.tq, idx, 'state')).toBe(RS.TRANSFERRING_C2H);
      expect(h.rf(io.tq, idx, 'pduInUse')).toBe(1);
      expect(h.rf(io.tq, idx, 'outstanding')).toBe(zcopy ? 1 : 0);
      // The peer closed but still acknowledges what it received: the completions come.
      teardown(h, io, admin, () => {
        for (let i = 0; i < 8; i++) h.kernel.notify(io.fd, i, i);
      });
    });
  }

  it('COMPLETED with pdu_in_use (seed 001): the zcopy READ waits for its write; the socket error frees it', async () => {
    const { h, io, admin } = await target({ zcopy: true, sockZcopy: true }, DIGESTS[0], { kato: 10_000 });
    h.kernel.autoZcopyAck = false;
    h.send(io, capsule(readSqe(1, 0, 8), undefined, io.dg));
    h.expectPdus(io, 1);
    h.kernel.flowing = false;
    h.settle(25_000_000);
    const idx = h.reqByCid(io.tq, 1);
    expect(h.rf(io.tq, idx, 'state')).toBe(RS.COMPLETED);
    expect(h.rf(io.tq, idx, 'pduInUse')).toBe(1);
    expect(h.rf(io.tq, idx, 'outstanding')).toBe(1);
    expect(h.qf(io.tq, 'delayed')).toBeGreaterThan(0);
    expect(h.invariantProblems(io.tq)).toEqual([]);
    expect(h.ctrlrCount()).toBe(1);
    // The kernel gives up on the connection (user timeout): the pending write completes.
    teardown(h, io, admin, () => h.kernel.notify(io.fd, 0, 7));
    // Aborted in TRANSFER_C2H (13>15) and delayed; the write callback frees it: zcopy release
    // (15>14>15), then FREE.
    const p = paths(h, io)[0]!;
    expect(p).toContain('13>15');
    expect(p.indexOf('15>14')).toBeGreaterThan(p.indexOf('13>15'));
    expect(p.at(-1)).toBe('15>0');
  });
});

