import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import * as v from '../../../host/kernel/rdma/ibv.js';
import type { CmEvent } from '../../../host/kernel/rdma/rdma-cm.js';
import { runFor, runUntil, TGT_IP } from './net-harness.js';
import { connectRc, expectEvent, makeRdmaNet, nextCmEvent, ok, type RdmaNet } from './rdma-harness.js';

/** Every CM event queued on `ch` now, acked. */
function drainCm(net: RdmaNet, side: 'ri' | 'rt', ch: number): CmEvent[] {
  const r = net[side];
  const out: CmEvent[] = [];
  for (let e = r.cm.getEvent(ch); typeof e !== 'number'; e = r.cm.getEvent(ch)) {
    ok(r.cm.ackEvent(e.handle));
    out.push(e);
  }
  return out;
}

function activeId(net: RdmaNet, port: number): { ch: number; id: number } {
  const ch = net.ri.cm.createEventChannel().handle;
  const id = ok(net.ri.cm.createId(ch));
  ok(net.ri.cm.resolveAddr(id, TGT_IP, port));
  expectEvent(nextCmEvent(net, net.ri, ch), v.RDMA_CM_EVENT_ADDR_RESOLVED);
  ok(net.ri.cm.resolveRoute(id));
  expectEvent(nextCmEvent(net, net.ri, ch), v.RDMA_CM_EVENT_ROUTE_RESOLVED);
  const ctx = net.ri.cm.id(id)!.verbs;
  const pd = ok(net.ri.allocPd(ctx));
  const cq = ok(net.ri.createCq(ctx, 16));
  const qp = net.ri.cm.createQp(id, pd, { sendCq: cq, recvCq: cq, caps: { maxSendWr: 4, maxRecvWr: 4, maxSendSge: 1, maxRecvSge: 1 } });
  if (typeof qp === 'number') throw new Error(String(qp));
  return { ch, id };
}

describe('RDMA-CM: connection setup', () => {
  it('a REQ to a port nobody listens on is REJECTED with INVALID_SERVICE_ID', () => {
    const net = makeRdmaNet(21);
    const a = activeId(net, 4999);
    ok(net.ri.cm.connect(a.id, new Uint8Array(8)));
    const ev = nextCmEvent(net, net.ri, a.ch);
    expect([ev.type, ev.status]).toEqual([v.RDMA_CM_EVENT_REJECTED, v.IB_CM_REJ_INVALID_SERVICE_ID]);
  });

  it('the listener rejects with private data; over-long private data is EINVAL on connect, accept and reject', () => {
    const net = makeRdmaNet(22);
    const tch = net.rt.cm.createEventChannel().handle;
    const l = ok(net.rt.cm.createId(tch));
    ok(net.rt.cm.bindAddr(l, TGT_IP, 4420));
    ok(net.rt.cm.listen(l, 8));
    const l2 = ok(net.rt.cm.createId(tch));
    expect(net.rt.cm.bindAddr(l2, TGT_IP, 4420)).toBe(-abi.EADDRINUSE);
    expect(net.rt.cm.bindAddr(l2, '192.0.2.77', 4420)).toBe(-abi.EADDRNOTAVAIL);
    const a = activeId(net, 4420);
    expect(net.ri.cm.connect(a.id, new Uint8Array(57))).toBe(-abi.EINVAL);
    ok(net.ri.cm.connect(a.id, new Uint8Array(56)));
    const req = nextCmEvent(net, net.rt, tch);
    expect([req.type, req.listenId, req.privateData.length]).toEqual([v.RDMA_CM_EVENT_CONNECT_REQUEST, l, 56]);
    expect(net.rt.cm.accept(req.id, new Uint8Array(0))).toBe(-abi.EINVAL); // no QP on the id yet
    expect(net.rt.cm.reject(req.id, new Uint8Array(149))).toBe(-abi.EINVAL);
    ok(net.rt.cm.reject(req.id, new Uint8Array([0x42, 0x43])));
    const rej = nextCmEvent(net, net.ri, a.ch);
    expect([rej.type, rej.status, [...rej.privateData]]).toEqual([v.RDMA_CM_EVENT_REJECTED, v.IB_CM_REJ_CONSUMER_DEFINED, [0x42, 0x43]]);
  });

  it('a REQ lost while the link is cut is sent again after the response timeout', () => {
    const net = makeRdmaNet(23);
    const tch = net.rt.cm.createEventChannel().handle;
    const l = ok(net.rt.cm.createId(tch));
    ok(net.rt.cm.bindAddr(l, TGT_IP, 4420));
    ok(net.rt.cm.listen(l, 8));
    const a = activeId(net, 4420);
    net.link.partition(true);
    ok(net.ri.cm.connect(a.id, new Uint8Array(4)));
    runFor(net, 1_000_000);
    net.link.partition(false);
    expect(drainCm(net, 'rt', tch)).toEqual([]);
    const req = nextCmEvent(net, net.rt, tch, 5_000_000);
    expect(req.type).toBe(v.RDMA_CM_EVENT_CONNECT_REQUEST);
    expect(net.world.now).toBeGreaterThanOrEqual(net.ri.cm.opts.responseTimeoutUs);
  });

  it('an id with an unacked event cannot be destroyed (librdmacm would block): EBUSY until acked', () => {
    const net = makeRdmaNet(24);
    const ch = net.ri.cm.createEventChannel().handle;
    const id = ok(net.ri.cm.createId(ch));
    ok(net.ri.cm.resolveAddr(id, TGT_IP, 4420));
    let ev: CmEvent | number = -1;
    runUntil(net, () => typeof (ev = net.ri.cm.getEvent(ch)) !== 'number');
    expect(net.ri.cm.destroyId(id)).toBe(-abi.EBUSY);
    expect(net.ri.cm.wouldBlock).toBe(1);
    expect(net.ri.cm.destroyEventChannel(ch)).toBe(-abi.EBUSY);
    ok(net.ri.cm.ackEvent((ev as unknown as CmEvent).handle));
    ok(net.ri.cm.destroyId(id));
    ok(net.ri.cm.destroyEventChannel(ch));
  });

  it('the event channel descriptor polls readable while events wait', () => {
    const net = makeRdmaNet(25);
    const { handle: ch, fd } = net.ri.cm.createEventChannel();
    const id = ok(net.ri.cm.createId(ch));
    expect(net.ini.poll([{ fd, events: abi.POLLIN }], 0)).toEqual([0]);
    ok(net.ri.cm.resolveAddr(id, TGT_IP, 4420));
    runUntil(net, () => (net.ini.poll([{ fd, events: abi.POLLIN }], 0) as number[])[0] === abi.POLLIN);
    drainCm(net, 'ri', ch);
    expect(net.ini.poll([{ fd, events: abi.POLLIN }], 0)).toEqual([0]);
  });
});

describe('RDMA-CM: disconnect', () => {
  it('rdma_disconnect: DISCONNECTED on both sides, QPs flushed, then TIMEWAIT_EXIT', () => {
    const net = makeRdmaNet(26);
    const p = connectRc(net);
    ok(p.tgt.qp.postRecv([{ wrId: 3, sgList: [{ addr: 0, length: 64, lkey: p.tgt.lkey }] }]).rc);
    ok(net.ri.cm.disconnect(p.ini.id));
    expectEvent(nextCmEvent(net, net.rt, p.tgt.ch), v.RDMA_CM_EVENT_DISCONNECTED);
    expectEvent(nextCmEvent(net, net.ri, p.ini.ch), v.RDMA_CM_EVENT_DISCONNECTED);
    expectEvent(nextCmEvent(net, net.rt, p.tgt.ch), v.RDMA_CM_EVENT_TIMEWAIT_EXIT);
    expectEvent(nextCmEvent(net, net.ri, p.ini.ch), v.RDMA_CM_EVENT_TIMEWAIT_EXIT);
    expect(p.tgt.qp.state).toBe(v.IBV_QPS_ERR);
    expect(net.rt.pollCq(p.tgt.cq, 4)).toEqual([{ wrId: 3, status: v.IBV_WC_WR_FLUSH_ERR, opcode: v.IBV_WC_RECV, byteLen: 0, qpNum: p.tgt.qp.qpNum }]);
  });
});

describe('ifdown / ifup of the netdev an RDMA device is bound to', () => {
  it('ifdown removes the device: PORT_ERR and DEVICE_FATAL on every context, DEVICE_REMOVAL on every id, QPs flushed', () => {
    const net = makeRdmaNet(27);
    const p = connectRc(net);
    ok(p.tgt.qp.postRecv([{ wrId: 9, sgList: [{ addr: 0, length: 64, lkey: p.tgt.lkey }] }]).rc);
    const ctx = p.tgt.qp.pd.ctx;
    const asyncFd = net.rt.asyncFd(ctx.handle);
    expect(net.tgt.poll([{ fd: asyncFd, events: abi.POLLIN }], 0)).toEqual([0]);
    net.rt.ifdown('eth0');
    expect(net.tgt.poll([{ fd: asyncFd, events: abi.POLLIN }], 0)).toEqual([abi.POLLIN]);
    expect(net.rt.getAsyncEvent(ctx.handle)).toEqual({ type: v.IBV_EVENT_PORT_ERR, element: 0 });
    expect(net.rt.getAsyncEvent(ctx.handle)).toEqual({ type: v.IBV_EVENT_DEVICE_FATAL, element: 0 });
    const evs = drainCm(net, 'rt', p.tgt.ch);
    expect(evs.map((e) => [e.type, e.id]).sort()).toEqual([[v.RDMA_CM_EVENT_DEVICE_REMOVAL, p.tgt.listen], [v.RDMA_CM_EVENT_DEVICE_REMOVAL, p.tgt.id]].sort());
    expect(net.rt.pollCq(p.tgt.cq, 4)).toEqual([{ wrId: 9, status: v.IBV_WC_WR_FLUSH_ERR, opcode: v.IBV_WC_RECV, byteLen: 0, qpNum: p.tgt.qp.qpNum }]);
    expect(net.rt.deviceList()).toEqual([]);
    // A removed device's context creates nothing (EIO) but still destroys what it has.
    expect(net.rt.createCq(ctx.handle, 16)).toBe(-abi.EIO);
    expect(net.rt.allocPd(ctx.handle)).toBe(-abi.EIO);
    expect(net.rt.queryDevice(ctx.handle)).toBe(-abi.EIO);
    expect(net.rt.regMr(p.tgt.pd, 0, 4096, 0)).toBe(-abi.EIO);
    ok(net.rt.destroyQp(p.tgt.qp.handle));
    ok(net.rt.deregMr(p.tgt.mr));
    ok(net.rt.deallocPd(p.tgt.pd));
    ok(net.rt.destroyCq(p.tgt.cq));
    // The initiator notices only when it sends: its retries run out against a dead peer.
    ok(p.ini.qp.postSend([{ wrId: 1, opcode: v.IBV_WR_SEND, sendFlags: 0, sgList: [] }]).rc);
    runUntil(net, () => p.ini.qp.state === v.IBV_QPS_ERR, 2_000_000);
  });

  it('ifup brings a new incarnation: a new context on rescan, new connections work; 10 cycles leak nothing', () => {
    const net = makeRdmaNet(28);
    const seen = new Set<number>();
    for (let cycle = 0; cycle < 10; cycle++) {
      const p = connectRc(net, 4420 + cycle);
      const ctx = net.rt.cm.id(p.tgt.id)!.verbs;
      expect(seen.has(ctx)).toBe(false);
      seen.add(ctx);
      expect(net.rt.cm.devices()).toEqual([ctx]);
      net.rt.ifdown('eth0');
      expect(net.rt.cm.devices()).toEqual([]);
      expect(net.rt.cm.bindAddr(ok(net.rt.cm.createId(p.tgt.ch)), TGT_IP, 5000)).toBe(-abi.ENODEV);
      runFor(net, 1_000);
      net.rt.ifup('eth0');
      expect(net.rt.device('mlx5_0')!.generation).toBe(cycle + 2);
      expect(net.rt.deviceList().map((d) => d.name)).toEqual(['mlx5_0']);
      // Free the old incarnation's resources the way a well-behaved application does.
      drainCm(net, 'rt', p.tgt.ch);
      ok(net.rt.destroyQp(p.tgt.qp.handle));
      ok(net.rt.deregMr(p.tgt.mr));
      ok(net.rt.deallocPd(p.tgt.pd));
      ok(net.rt.destroyCq(p.tgt.cq));
    }
    expect(net.rt.resources()).toMatchObject({ pds: 0, mrs: 0, cqs: 0, qps: 0 });
    expect(net.rt.counters.removals).toBe(10);
  });

  it('a device that stays with its netdev only reports PORT_ERR and PORT_ACTIVE', () => {
    const net = makeRdmaNet(29);
    net.rt.addDevice('rxe0', 'eth0', { removedWithNetdev: false });
    const ctx = ok(net.rt.openDevice('rxe0'));
    net.rt.ifdown('eth0');
    net.rt.ifup('eth0');
    expect(net.rt.getAsyncEvent(ctx)).toEqual({ type: v.IBV_EVENT_PORT_ERR, element: 0 });
    expect(net.rt.getAsyncEvent(ctx)).toEqual({ type: v.IBV_EVENT_PORT_ACTIVE, element: 0 });
    expect(net.rt.getAsyncEvent(ctx)).toBe(-abi.EAGAIN);
    expect(net.rt.device('rxe0')!.generation).toBe(1);
  });

  it('ADDR_CHANGE reaches the ids bound to that address', () => {
    const net = makeRdmaNet(30);
    const ch = net.rt.cm.createEventChannel().handle;
    const l = ok(net.rt.cm.createId(ch));
    ok(net.rt.cm.bindAddr(l, TGT_IP, 4420));
    ok(net.rt.cm.listen(l, 4));
    net.rt.cm.addrChange(TGT_IP);
    expect(drainCm(net, 'rt', ch).map((e) => [e.type, e.id])).toEqual([[v.RDMA_CM_EVENT_ADDR_CHANGE, l]]);
  });
});

describe('determinism', () => {
  function run(seed: number): string {
    const net = makeRdmaNet(seed, { loss: 0.05, jitterUs: 20 }, 0);
    const p = connectRc(net);
    for (let i = 0; i < 8; i++) ok(p.tgt.qp.postRecv([{ wrId: i, sgList: [{ addr: 0x1000 * i, length: 4096, lkey: p.tgt.lkey }] }]).rc);
    for (let i = 0; i < 8; i++) ok(p.ini.qp.postSend([{ wrId: i, opcode: v.IBV_WR_SEND, sendFlags: 0, sgList: [{ addr: 0, length: 4096, lkey: p.ini.lkey }] }]).rc);
    let recvs = 0;
    runUntil(net, () => (recvs += (net.rt.pollCq(p.tgt.cq, 16) as unknown[]).length) === 8 && p.ini.qp.outstanding === 0, 60_000_000);
    return net.world.trace.digest();
  }

  it('the same seed gives the same trace digest; another seed a different one', () => {
    const a = run(31);
    expect(run(31)).toBe(a);
    expect(run(32)).not.toBe(a);
  });
});
