import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import * as v from '../../../host/kernel/rdma/ibv.js';
import type { Wc } from '../../../host/kernel/rdma/verbs-objects.js';
import type { RdmaStack } from '../../../host/kernel/rdma/verbs.js';
import { fill, pattern, runUntil, type Net } from './net-harness.js';
import { ACCESS_ALL, connectRc, makeRdmaNet, ok } from './rdma-harness.js';

function waitWc(net: Net, r: RdmaStack, cq: number, n = 1, forUs = 5_000_000): Wc[] {
  const got: Wc[] = [];
  runUntil(net, () => {
    got.push(...(r.pollCq(cq, 16) as Wc[]));
    return got.length >= n;
  }, forUs);
  return got;
}

describe('verbs: data movement over an RC pair', () => {
  it('SEND lands in the posted receive; RDMA WRITE and READ move bytes between the machines', () => {
    const net = makeRdmaNet(7);
    const p = connectRc(net, 4420, new Uint8Array([9, 8, 7]));
    expect([...p.reqData]).toEqual([9, 8, 7]);
    // SEND 100 bytes from ini@0x1000 into tgt@0x2000.
    fill(net.memIni, 0x1000, pattern(100, 3));
    ok(p.tgt.qp.postRecv([{ wrId: 11, sgList: [{ addr: 0x2000, length: 256, lkey: p.tgt.lkey }] }]).rc);
    ok(p.ini.qp.postSend([{ wrId: 21, opcode: v.IBV_WR_SEND, sendFlags: v.IBV_SEND_SIGNALED, sgList: [{ addr: 0x1000, length: 100, lkey: p.ini.lkey }] }]).rc);
    expect(waitWc(net, net.rt, p.tgt.cq)).toEqual([{ wrId: 11, status: v.IBV_WC_SUCCESS, opcode: v.IBV_WC_RECV, byteLen: 100, qpNum: p.tgt.qp.qpNum }]);
    expect(waitWc(net, net.ri, p.ini.cq)).toEqual([{ wrId: 21, status: v.IBV_WC_SUCCESS, opcode: v.IBV_WC_SEND, byteLen: 0, qpNum: p.ini.qp.qpNum }]);
    expect([...net.memTgt.u8.subarray(0x2000, 0x2064)]).toEqual([...pattern(100, 3)]);
    // The target writes 4 KiB into the initiator and reads 4 KiB from it (NVMe-oF's data path).
    fill(net.memTgt, 0x10000, pattern(4096, 5));
    fill(net.memIni, 0x30000, pattern(4096, 6));
    ok(p.tgt.qp.postSend([
      { wrId: 1, opcode: v.IBV_WR_RDMA_WRITE, sendFlags: 0, remoteAddr: 0x20000, rkey: p.ini.rkey, sgList: [{ addr: 0x10000, length: 4096, lkey: p.tgt.lkey }] },
      { wrId: 2, opcode: v.IBV_WR_RDMA_READ, sendFlags: v.IBV_SEND_SIGNALED, remoteAddr: 0x30000, rkey: p.ini.rkey, sgList: [{ addr: 0x40000, length: 4096, lkey: p.tgt.lkey }] },
    ]).rc);
    // The unsignaled WRITE reports nothing; the READ completes after it.
    expect(waitWc(net, net.rt, p.tgt.cq)).toEqual([{ wrId: 2, status: v.IBV_WC_SUCCESS, opcode: v.IBV_WC_RDMA_READ, byteLen: 4096, qpNum: p.tgt.qp.qpNum }]);
    expect([...net.memIni.u8.subarray(0x20000, 0x21000)]).toEqual([...pattern(4096, 5)]);
    expect([...net.memTgt.u8.subarray(0x40000, 0x41000)]).toEqual([...pattern(4096, 6)]);
    expect(net.world.trace.count).toBeGreaterThan(0);
  });

  it('a SEND with no receive posted is retried after RNR NAKs until one is posted', () => {
    const net = makeRdmaNet(8);
    const p = connectRc(net);
    ok(p.ini.qp.postSend([{ wrId: 5, opcode: v.IBV_WR_SEND, sendFlags: v.IBV_SEND_SIGNALED, sgList: [{ addr: 0, length: 16, lkey: p.ini.lkey }] }]).rc);
    runUntil(net, () => p.ini.qp.stats.rnrNaks >= 3);
    expect(net.ri.pollCq(p.ini.cq, 4)).toEqual([]);
    ok(p.tgt.qp.postRecv([{ wrId: 6, sgList: [{ addr: 0x100, length: 64, lkey: p.tgt.lkey }] }]).rc);
    expect(waitWc(net, net.ri, p.ini.cq)[0]!.status).toBe(v.IBV_WC_SUCCESS);
    expect(waitWc(net, net.rt, p.tgt.cq)[0]!.byteLen).toBe(16);
  });

  it('a lossy link loses nothing: lost requests and ACKs are retransmitted, bytes arrive in order', () => {
    const net = makeRdmaNet(9, { loss: 0.2, latencyUs: 5 });
    const p = connectRc(net);
    for (let i = 0; i < 20; i++) fill(net.memIni, 0x1000 + i * 64, pattern(64, i));
    for (let i = 0; i < 20; i++) ok(p.tgt.qp.postRecv([{ wrId: i, sgList: [{ addr: 0x8000 + i * 64, length: 64, lkey: p.tgt.lkey }] }]).rc);
    for (let i = 0; i < 20; i++) {
      ok(p.ini.qp.postSend([{ wrId: 100 + i, opcode: v.IBV_WR_SEND, sendFlags: v.IBV_SEND_SIGNALED, sgList: [{ addr: 0x1000 + i * 64, length: 64, lkey: p.ini.lkey }] }]).rc);
    }
    const recvs = waitWc(net, net.rt, p.tgt.cq, 20, 60_000_000);
    expect(recvs.map((w) => w.wrId)).toEqual([...Array(20).keys()]);
    expect(waitWc(net, net.ri, p.ini.cq, 20, 60_000_000).every((w) => w.status === v.IBV_WC_SUCCESS)).toBe(true);
    for (let i = 0; i < 20; i++) expect([...net.memTgt.u8.subarray(0x8000 + i * 64, 0x8040 + i * 64)]).toEqual([...pattern(64, i)]);
    expect(p.ini.qp.stats.retransmits).toBeGreaterThan(0);
  });

  it('a cut link exhausts the retries: RETRY_EXC_ERR, then the rest flushed and the QP in error', () => {
    const net = makeRdmaNet(10);
    const p = connectRc(net);
    net.link.partition(true);
    ok(p.ini.qp.postSend([
      { wrId: 1, opcode: v.IBV_WR_RDMA_WRITE, sendFlags: 0, remoteAddr: 0, rkey: p.tgt.rkey, sgList: [{ addr: 0, length: 8, lkey: p.ini.lkey }] },
      { wrId: 2, opcode: v.IBV_WR_RDMA_WRITE, sendFlags: 0, remoteAddr: 0, rkey: p.tgt.rkey, sgList: [{ addr: 0, length: 8, lkey: p.ini.lkey }] },
    ]).rc);
    const t0 = net.world.now;
    const wcs = waitWc(net, net.ri, p.ini.cq, 2, 10_000_000);
    expect(wcs.map((w) => [w.wrId, w.status])).toEqual([[1, v.IBV_WC_RETRY_EXC_ERR], [2, v.IBV_WC_WR_FLUSH_ERR]]);
    // 1 try + 7 retries of the 67 ms ACK timeout.
    expect(net.world.now - t0).toBeGreaterThanOrEqual(8 * 67_000);
    expect(p.ini.qp.state).toBe(v.IBV_QPS_ERR);
    // Posting to a QP in error completes at once with a flush.
    ok(p.ini.qp.postSend([{ wrId: 3, opcode: v.IBV_WR_SEND, sendFlags: 0, sgList: [] }]).rc);
    expect(net.ri.pollCq(p.ini.cq, 4)).toEqual([{ wrId: 3, status: v.IBV_WC_WR_FLUSH_ERR, opcode: v.IBV_WC_SEND, byteLen: 0, qpNum: p.ini.qp.qpNum }]);
  });
});

describe('verbs: keys, bounds and access', () => {
  it('ibv_reg_mr refuses a range outside linear memory (EFAULT) and remote write without local write (EINVAL)', () => {
    const net = makeRdmaNet(11);
    const ctx = ok(net.rt.openDevice('mlx5_0'));
    const pd = ok(net.rt.allocPd(ctx));
    const size = net.memTgt.u8.length;
    expect(net.rt.regMr(pd, size - 4096, 8192, v.IBV_ACCESS_LOCAL_WRITE)).toBe(-abi.EFAULT);
    expect(net.rt.regMr(pd, 0, 0, v.IBV_ACCESS_LOCAL_WRITE)).toBe(-abi.EFAULT);
    expect(net.rt.regMr(pd, 0, 4096, v.IBV_ACCESS_REMOTE_WRITE)).toBe(-abi.EINVAL);
    expect(net.rt.regMr(9999, 0, 4096, 0)).toBe(-abi.EBADF);
    expect(net.rt.openDevice('mlx5_9')).toBe(-abi.ENODEV);
    expect(net.rt.resources()).toMatchObject({ contexts: 1, pds: 1, mrs: 0 });
  });

  it('a bad lkey fails the WR locally (LOC_PROT_ERR) and flushes what follows', () => {
    const net = makeRdmaNet(12);
    const p = connectRc(net);
    ok(p.ini.qp.postSend([
      { wrId: 1, opcode: v.IBV_WR_SEND, sendFlags: v.IBV_SEND_SIGNALED, sgList: [{ addr: 0, length: 8, lkey: p.ini.lkey ^ 0x300 }] },
      { wrId: 2, opcode: v.IBV_WR_SEND, sendFlags: v.IBV_SEND_SIGNALED, sgList: [{ addr: 0, length: 8, lkey: p.ini.lkey }] },
    ]).rc);
    expect(net.ri.pollCq(p.ini.cq, 4).valueOf()).toEqual([
      { wrId: 1, status: v.IBV_WC_LOC_PROT_ERR, opcode: v.IBV_WC_SEND, byteLen: 0, qpNum: p.ini.qp.qpNum },
      { wrId: 2, status: v.IBV_WC_WR_FLUSH_ERR, opcode: v.IBV_WC_SEND, byteLen: 0, qpNum: p.ini.qp.qpNum },
    ]);
  });

  it('an SGE past the end of its MR is a protection error; the lkey is not an rkey', () => {
    const net = makeRdmaNet(13);
    const p = connectRc(net);
    ok(p.ini.qp.postSend([{ wrId: 1, opcode: v.IBV_WR_SEND, sendFlags: 0, sgList: [{ addr: (1 << 20) - 4, length: 8, lkey: p.ini.lkey }] }]).rc);
    expect((net.ri.pollCq(p.ini.cq, 4) as Wc[])[0]!.status).toBe(v.IBV_WC_LOC_PROT_ERR);
    const q = connectRc(net, 4421);
    // WRITE with the responder's lkey in place of its rkey: remote access error on both sides.
    ok(q.ini.qp.postSend([{ wrId: 7, opcode: v.IBV_WR_RDMA_WRITE, sendFlags: 0, remoteAddr: 0, rkey: q.tgt.lkey, sgList: [{ addr: 0, length: 8, lkey: q.ini.lkey }] }]).rc);
    expect(waitWc(net, net.ri, q.ini.cq)).toEqual([{ wrId: 7, status: v.IBV_WC_REM_ACCESS_ERR, opcode: v.IBV_WC_RDMA_WRITE, byteLen: 0, qpNum: q.ini.qp.qpNum }]);
    expect(q.tgt.qp.state).toBe(v.IBV_QPS_ERR);
    expect(net.rt.getAsyncEvent(q.tgt.qp.pd.ctx.handle)).toEqual({ type: v.IBV_EVENT_QP_ACCESS_ERR, element: q.tgt.qp.handle });
  });

  it('a READ beyond the remote MR is refused; a READ into memory without LOCAL_WRITE is a local error', () => {
    const net = makeRdmaNet(14);
    const p = connectRc(net);
    ok(p.tgt.qp.postSend([{ wrId: 1, opcode: v.IBV_WR_RDMA_READ, sendFlags: 0, remoteAddr: (1 << 20) - 100, rkey: p.ini.rkey, sgList: [{ addr: 0, length: 200, lkey: p.tgt.lkey }] }]).rc);
    expect(waitWc(net, net.rt, p.tgt.cq)[0]!.status).toBe(v.IBV_WC_REM_ACCESS_ERR);
    const q = connectRc(net, 4421);
    const ro = net.rt.regMr(q.tgt.pd, 0x80000, 4096, v.IBV_ACCESS_REMOTE_READ);
    if (typeof ro === 'number') throw new Error(String(ro));
    ok(q.tgt.qp.postSend([{ wrId: 2, opcode: v.IBV_WR_RDMA_READ, sendFlags: 0, remoteAddr: 0, rkey: q.ini.rkey, sgList: [{ addr: 0x80000, length: 64, lkey: ro.lkey }] }]).rc);
    expect((net.rt.pollCq(q.tgt.cq, 4) as Wc[])[0]!.status).toBe(v.IBV_WC_LOC_PROT_ERR);
  });

  it('queue limits: a full send queue gives ENOMEM with the bad WR index; too many SGEs EINVAL', () => {
    const net = makeRdmaNet(15);
    const p = connectRc(net);
    net.link.partition(true);
    const wr = { wrId: 0, opcode: v.IBV_WR_SEND, sendFlags: 0, sgList: [] };
    expect(p.ini.qp.postSend(Array.from({ length: 70 }, () => wr))).toEqual({ rc: -abi.ENOMEM, bad: 64 });
    expect(p.tgt.qp.postRecv([{ wrId: 0, sgList: Array.from({ length: 5 }, () => ({ addr: 0, length: 1, lkey: p.tgt.lkey })) }])).toEqual({ rc: -abi.EINVAL, bad: 0 });
  });
});

describe('verbs: teardown order', () => {
  it('a CQ outlives its QPs and a channel outlives its CQs; a PD outlives its MRs and QPs (EBUSY otherwise)', () => {
    const net = makeRdmaNet(16);
    const r = net.rt;
    const ctx = ok(r.openDevice('mlx5_0'));
    const ch = ok(r.createCompChannel(ctx));
    const cq = ok(r.createCq(ctx, 64, ch));
    const pd = ok(r.allocPd(ctx));
    const mr = r.regMr(pd, 0, 4096, ACCESS_ALL);
    if (typeof mr === 'number') throw new Error(String(mr));
    const srq = ok(r.createSrq(pd, 128, 1));
    const qp = r.createQp(pd, { sendCq: cq, recvCq: cq, srq, caps: { maxSendWr: 8, maxRecvWr: 0, maxSendSge: 1, maxRecvSge: 0 } });
    if (typeof qp === 'number') throw new Error(String(qp));
    expect(r.destroyCompChannel(ch)).toBe(-abi.EBUSY);
    expect(r.destroyCq(cq)).toBe(-abi.EBUSY);
    expect(r.destroySrq(srq)).toBe(-abi.EBUSY);
    expect(r.deallocPd(pd)).toBe(-abi.EBUSY);
    expect(r.closeDevice(ctx)).toBe(-abi.EBUSY);
    ok(r.destroyQp(qp.handle));
    ok(r.destroySrq(srq));
    ok(r.deregMr(mr.handle));
    ok(r.deallocPd(pd));
    expect(r.destroyCompChannel(ch)).toBe(-abi.EBUSY);
    ok(r.destroyCq(cq));
    ok(r.destroyCompChannel(ch));
    ok(r.closeDevice(ctx));
    expect(r.resources()).toEqual({ contexts: 0, pds: 0, mrs: 0, cqs: 0, channels: 0, srqs: 0, qps: 0 });
    expect(r.counters).toMatchObject({ mrsRegistered: 1, mrsDeregistered: 1, pdsAllocated: 1, pdsFreed: 1 });
  });

  it('a QP on an SRQ reports LAST_WQE_REACHED once when it enters the error state', () => {
    const net = makeRdmaNet(17);
    const r = net.rt;
    const ctx = ok(r.openDevice('mlx5_0'));
    const cq = ok(r.createCq(ctx, 64));
    const pd = ok(r.allocPd(ctx));
    const srq = ok(r.createSrq(pd, 16, 1));
    const qp = r.createQp(pd, { sendCq: cq, recvCq: cq, srq, caps: { maxSendWr: 8, maxRecvWr: 0, maxSendSge: 1, maxRecvSge: 0 } });
    if (typeof qp === 'number') throw new Error(String(qp));
    ok(r.modifyQpToError(qp.handle));
    ok(r.modifyQpToError(qp.handle));
    expect(r.getAsyncEvent(ctx)).toEqual({ type: v.IBV_EVENT_QP_LAST_WQE_REACHED, element: qp.handle });
    expect(r.getAsyncEvent(ctx)).toBe(-abi.EAGAIN);
    // rdma-core's destroy waits for the ack of the QP's events: refused until then.
    expect(r.destroyQp(qp.handle)).toBe(-abi.EBUSY);
    ok(r.ackAsyncEvent(ctx, qp.handle));
    ok(r.destroyQp(qp.handle));
  });
});

describe('verbs: injected failures', () => {
  it('ibv_create_cq, ibv_create_srq and ibv_reg_mr fail as injected (skip, count), each once per call', () => {
    const net = makeRdmaNet(18);
    const r = net.rt;
    const ctx = ok(r.openDevice('mlx5_0'));
    const pd = ok(r.allocPd(ctx));
    r.faults.inject('ibv_reg_mr', { errno: abi.ENOMEM, skip: 1, count: 2 });
    r.faults.inject('ibv_create_cq', { errno: abi.ENOMEM });
    r.faults.inject('ibv_create_srq', { errno: abi.EIO });
    expect(typeof r.regMr(pd, 0, 4096, 0)).toBe('object');
    expect(r.regMr(pd, 0, 4096, 0)).toBe(-abi.ENOMEM);
    expect(r.regMr(pd, 0, 4096, 0)).toBe(-abi.ENOMEM);
    expect(typeof r.regMr(pd, 0, 4096, 0)).toBe('object');
    expect(r.createCq(ctx, 16)).toBe(-abi.ENOMEM);
    expect(r.createCq(ctx, 16)).toBeGreaterThan(0);
    expect(r.createSrq(pd, 16, 1)).toBe(-abi.EIO);
    expect(r.faults.fired.get('ibv_reg_mr')).toBe(2);
    expect(() => r.faults.inject('ibv_reg_mr', { errno: -5 })).toThrow(/errno -5 must be a positive errno/);
  });

  it('the hook of a failing ibv_create_cq runs inside the call, before it returns (re-entrant removal)', () => {
    const net = makeRdmaNet(19);
    const r = net.rt;
    const ctx = ok(r.openDevice('mlx5_0'));
    const order: string[] = [];
    r.faults.inject('ibv_create_cq', {
      errno: abi.ENOMEM,
      before: () => {
        order.push('hook');
        r.deviceFatal('mlx5_0');
        order.push(`event ${(r.getAsyncEvent(ctx) as { type: number }).type}`);
      },
    });
    order.push(`rc ${r.createCq(ctx, 16)}`);
    expect(order).toEqual(['hook', `event ${v.IBV_EVENT_DEVICE_FATAL}`, `rc ${-abi.ENOMEM}`]);
  });
});
