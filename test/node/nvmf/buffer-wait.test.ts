/**
 * The TCP target's wait for data buffers, as at the modelled base (docs/decisions.md 20): a
 * request the shared pool cannot serve stays in NEED_BUFFER holding what it got, the pool hands
 * freed buffers to the oldest waiter one by one, and when a waiter holds them all the pool calls
 * the transport's req_get_buffers_done, which moves it to HAVE_BUFFER at once. Nothing polls a
 * queue of waiters (the v24.05-era shape walked the group's pending_buf_queue every poll).
 */
import { describe, expect, it } from 'vitest';
import { capsule, cqe, h2cData, PDU, r2t, writeSqe, type RxPdu } from '../../../host/fuzz/pdu.js';
import { RS, TargetHarness, type Conn } from '../../../host/fuzz/target-harness.node.js';

function pattern(len: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (i * 13 + seed * 29 + (i >> 8)) & 0xff);
}

async function target(numSharedBuffers: number, ioUnitSize: number, maxIoSize: number): Promise<{ h: TargetHarness; io: Conn; admin: Conn }> {
  const h = await TargetHarness.create({ zcopy: false, numSharedBuffers, ioUnitSize, maxIoSize });
  const { c: admin, cntlid } = h.adminQueue();
  const io = h.ioQueue(cntlid, 1);
  h.keepTrace = true;
  return { h, io, admin };
}

/** Sends a WRITE capsule whose data is to come by R2T. */
function submitWrite(h: TargetHarness, io: Conn, cid: number, lba: number, bytes: number): void {
  h.send(io, capsule(writeSqe(cid, lba, bytes / 512), undefined, io.dg));
}

function expectR2t(h: TargetHarness, io: Conn, cid: number, bytes: number): number {
  const [p] = h.expectPdus(io, 1, 100_000, `R2T for cid ${cid}`);
  expect(p!.type).toBe(PDU.R2T);
  const t = r2t(p!);
  expect({ cccid: t.cccid, r2tl: t.r2tl }).toEqual({ cccid: cid, r2tl: bytes });
  return t.ttag;
}

/** Sends the data an R2T asked for and returns the PDUs that answer it (CapsuleResp first). */
function sendData(h: TargetHarness, io: Conn, cid: number, ttag: number, data: Uint8Array, n: number): RxPdu[] {
  h.send(io, h2cData({ cccid: cid, ttag, datao: 0, data, last: true }, io.dg));
  return h.expectPdus(io, n, 100_000, `answer to the data of cid ${cid}`);
}

/** The states the n-th request submitted on `io` went through (from>to, upstream's numbers). */
function path(h: TargetHarness, io: Conn, n: number): string[] {
  const by = new Map<number, string[]>();
  for (const [ev, req, from, to, tq] of h.trace) {
    if (ev !== 'TCP_REQ_STATE' || tq !== io.tq) continue;
    by.set(req, [...(by.get(req) ?? []), `${from}>${to}`]);
  }
  return [...by.values()][n] ?? [];
}

describe('TCP buffer wait (NEED_BUFFER) at the base: the pool calls req_get_buffers_done', () => {
  it('a waiter gets the buffer the moment another request frees it: its R2T goes out with the first one\'s CapsuleResp', async () => {
    const { h, io } = await target(1, 8192, 8192);
    submitWrite(h, io, 1, 0, 8192);
    const ttag1 = expectR2t(h, io, 1, 8192);
    submitWrite(h, io, 2, 64, 8192);
    h.settle(100);
    const second = h.reqByCid(io.tq, 2);
    expect(h.rf(io.tq, second, 'state')).toBe(RS.NEED_BUFFER);
    // Polls alone do not move it: no buffer was freed.
    h.settle(5000);
    expect(h.rf(io.tq, second, 'state')).toBe(RS.NEED_BUFFER);
    expect(h.sharedBuffersInUse()).toBe(1);

    const first = pattern(8192, 1);
    const [resp, t2] = sendData(h, io, 1, ttag1, first, 2);
    expect(cqe(resp!)).toMatchObject({ cid: 1, sc: 0 });
    expect(t2!.type).toBe(PDU.R2T);
    expect(r2t(t2!).cccid).toBe(2);
    // NEED_BUFFER > HAVE_BUFFER > AWAITING_R2T_ACK > TRANSFERRING_H2C (the R2T written).
    expect(path(h, io, 1)).toEqual(['0>1', '1>2', '2>3', '3>7', '7>6']);

    const data2 = pattern(8192, 2);
    const [resp2] = sendData(h, io, 2, r2t(t2!).ttag, data2, 1);
    expect(cqe(resp2!)).toMatchObject({ cid: 2, sc: 0 });
    expect(h.disk().slice(0, 8192)).toEqual(first);
    expect(h.disk().slice(64 * 512, 64 * 512 + 8192)).toEqual(data2);
    h.settle(1000);
    expect(h.sharedBuffersInUse()).toBe(0);
  });

  it('waiters are served first come, first served', async () => {
    const { h, io } = await target(1, 4096, 4096);
    submitWrite(h, io, 1, 0, 4096);
    let ttag = expectR2t(h, io, 1, 4096);
    submitWrite(h, io, 2, 8, 4096);
    submitWrite(h, io, 3, 16, 4096);
    submitWrite(h, io, 4, 24, 4096);
    h.settle(100);
    for (const cid of [2, 3, 4]) expect(h.rf(io.tq, h.reqByCid(io.tq, cid), 'state')).toBe(RS.NEED_BUFFER);
    for (const [cid, next] of [[1, 2], [2, 3], [3, 4]] as const) {
      const [resp, t] = sendData(h, io, cid, ttag, pattern(4096, cid), 2);
      expect(cqe(resp!).cid).toBe(cid);
      expect(r2t(t!).cccid, `the buffer freed by cid ${cid} goes to cid ${next}`).toBe(next);
      ttag = r2t(t!).ttag;
    }
    sendData(h, io, 4, ttag, pattern(4096, 4), 1);
    h.settle(1000);
    expect(h.sharedBuffersInUse()).toBe(0);
  });

  it('a waiter keeps the buffers it already holds; a qpair torn down while it waits frees them and ends it in FREE', async () => {
    const { h, io, admin } = await target(2, 4096, 16384);
    submitWrite(h, io, 1, 0, 4096);
    const ttag1 = expectR2t(h, io, 1, 4096);
    submitWrite(h, io, 2, 8, 16384);
    h.settle(100);
    const waiter = h.reqByCid(io.tq, 2);
    expect(h.rf(io.tq, waiter, 'state')).toBe(RS.NEED_BUFFER);
    // One of four buffers taken, three to come; the pool is empty.
    expect(h.sharedBuffersInUse()).toBe(2);
    const [resp] = sendData(h, io, 1, ttag1, pattern(4096, 1), 1);
    expect(cqe(resp!).cid).toBe(1);
    h.settle(1000);
    // cid 1's buffer went to the waiter (two of four), which still waits.
    expect(h.rf(io.tq, waiter, 'state')).toBe(RS.NEED_BUFFER);
    expect(h.sharedBuffersInUse()).toBe(2);

    h.hangup(io);
    h.hangup(admin);
    h.wake();
    h.runUntil(() => !h.alive(io) && !h.alive(admin), 1_000_000, 'teardown');
    h.settle(1000);
    expect(h.sharedBuffersInUse()).toBe(0);
    expect(h.leakProblems()).toEqual([]);
    // NEED_BUFFER > COMPLETED (set by the abort, again by the inactive-qpair guard) > FREE:
    // the wait withdrawn, never HAVE_BUFFER.
    expect(path(h, io, 1)).toEqual(['0>1', '1>2', '2>15', '15>15', '15>0']);
  });
});
