/** Two machines of net-harness with an RDMA device each ("mlx5_0" on eth0) and helpers to open
 *  verbs resources and to connect an RC QP pair through RDMA-CM. */
import { RdmaStack } from '../../../host/kernel/rdma/verbs.js';
import type { RcQp } from '../../../host/kernel/rdma/rc-qp.js';
import type { CmEvent } from '../../../host/kernel/rdma/rdma-cm.js';
import * as v from '../../../host/kernel/rdma/ibv.js';
import type { LinkOptions } from '../../../host/net/link.js';
import { makeNet, runUntil, TGT_IP, type Net } from './net-harness.js';

export interface RdmaNet extends Net {
  ri: RdmaStack;
  rt: RdmaStack;
}

export function makeRdmaNet(seed = 1, link: LinkOptions = {}, keepTrace = 0): RdmaNet {
  const net = makeNet(seed, link, {}, keepTrace);
  const ri = new RdmaStack(net.ini);
  const rt = new RdmaStack(net.tgt);
  ri.addDevice('mlx5_0', 'eth0');
  rt.addDevice('mlx5_0', 'eth0');
  return { ...net, ri, rt };
}

export function ok(rc: number): number {
  if (rc < 0) throw new Error(`expected >= 0, got ${rc}`);
  return rc;
}

/** A context, PD, CQ and one MR over [mrAddr, mrAddr + mrLen) with `access`. */
export function verbsSet(r: RdmaStack, ctx: number, mrAddr: number, mrLen: number, access: number) {
  const pd = ok(r.allocPd(ctx));
  const cq = ok(r.createCq(ctx, 256));
  const mr = r.regMr(pd, mrAddr, mrLen, access);
  if (typeof mr === 'number') throw new Error(`reg_mr: ${mr}`);
  return { ctx, pd, cq, mr };
}

/** Takes the next CM event of `ch` (running the world until one is there) and acks it. */
export function nextCmEvent(net: Net, r: RdmaStack, ch: number, forUs = 1_000_000): CmEvent {
  let ev: CmEvent | number = -1;
  runUntil(net, () => typeof (ev = r.cm.getEvent(ch)) !== 'number', forUs);
  const e = ev as unknown as CmEvent;
  ok(r.cm.ackEvent(e.handle));
  return e;
}

export const ACCESS_ALL = v.IBV_ACCESS_LOCAL_WRITE | v.IBV_ACCESS_REMOTE_WRITE | v.IBV_ACCESS_REMOTE_READ;

export interface RcPair {
  ini: { ch: number; id: number; qp: RcQp; pd: number; cq: number; lkey: number; rkey: number; mr: number };
  tgt: { ch: number; listen: number; id: number; qp: RcQp; pd: number; cq: number; lkey: number; rkey: number; mr: number };
  reqData: Uint8Array;
}

/** Listen on the target, connect from the initiator, accept; both sides ESTABLISHED. Each side's
 *  MR covers [0, 1 MiB) of its memory with every access. */
export function connectRc(net: RdmaNet, port = 4420, reqData = new Uint8Array([1, 2, 3]), forUs = 200_000_000): RcPair {
  const { ri, rt } = net;
  const tch = rt.cm.createEventChannel().handle;
  const listen = ok(rt.cm.createId(tch));
  ok(rt.cm.bindAddr(listen, TGT_IP, port));
  ok(rt.cm.listen(listen, 16));
  const ich = ri.cm.createEventChannel().handle;
  const iid = ok(ri.cm.createId(ich));
  ok(ri.cm.resolveAddr(iid, TGT_IP, port));
  expectEvent(nextCmEvent(net, ri, ich, forUs), v.RDMA_CM_EVENT_ADDR_RESOLVED);
  ok(ri.cm.resolveRoute(iid));
  expectEvent(nextCmEvent(net, ri, ich, forUs), v.RDMA_CM_EVENT_ROUTE_RESOLVED);
  const ictx = ri.cm.id(iid)!.verbs;
  const is = verbsSet(ri, ictx, 0, 1 << 20, ACCESS_ALL);
  const iqp = ri.cm.createQp(iid, is.pd, { sendCq: is.cq, recvCq: is.cq, caps: { maxSendWr: 64, maxRecvWr: 64, maxSendSge: 4, maxRecvSge: 4 } });
  if (typeof iqp === 'number') throw new Error(`create_qp: ${iqp}`);
  ok(ri.cm.connect(iid, reqData));
  const req = nextCmEvent(net, rt, tch, forUs);
  expectEvent(req, v.RDMA_CM_EVENT_CONNECT_REQUEST);
  const tctx = rt.cm.id(req.id)!.verbs;
  const ts = verbsSet(rt, tctx, 0, 1 << 20, ACCESS_ALL);
  const tqp = rt.cm.createQp(req.id, ts.pd, { sendCq: ts.cq, recvCq: ts.cq, caps: { maxSendWr: 64, maxRecvWr: 64, maxSendSge: 4, maxRecvSge: 4 } });
  if (typeof tqp === 'number') throw new Error(`create_qp: ${tqp}`);
  ok(rt.cm.accept(req.id, new Uint8Array(0)));
  expectEvent(nextCmEvent(net, ri, ich, forUs), v.RDMA_CM_EVENT_ESTABLISHED);
  expectEvent(nextCmEvent(net, rt, tch, forUs), v.RDMA_CM_EVENT_ESTABLISHED);
  return {
    ini: { ch: ich, id: iid, qp: iqp, pd: is.pd, cq: is.cq, lkey: is.mr.lkey, rkey: is.mr.rkey, mr: is.mr.handle },
    tgt: { ch: tch, listen, id: req.id, qp: tqp, pd: ts.pd, cq: ts.cq, lkey: ts.mr.lkey, rkey: ts.mr.rkey, mr: ts.mr.handle },
    reqData: req.privateData,
  };
}

export function expectEvent(ev: CmEvent, type: number): void {
  if (ev.type !== type) throw new Error(`expected CM event ${type}, got ${ev.type} (status ${ev.status})`);
}
