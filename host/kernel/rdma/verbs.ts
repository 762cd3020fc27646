/**
 * Emulated verbs of one machine (libibverbs as the C calls it, answered by the host): RDMA devices
 * bound to netdevs, contexts, PDs, MRs over the machine's linear memory, CQs with completion
 * channels, SRQs and RC QPs whose messages cross the fabric as RoCEv2 frames. ifdown of a netdev
 * whose device goes with it removes the device (DEVICE_FATAL to every context, QPs flushed,
 * DEVICE_REMOVAL to the CM); ifup brings a new incarnation, found by the next device-list scan.
 * Every call returns >= 0 (a handle) or a negative errno, as the rest of HostKernel.
 */
import * as abi from '../../gen/abi.js';
import type { RdmaKernel } from './rdma-kernel.js';
import type { NetDev } from '../../net/netdev.js';
import { ROCE_UDP_PORT, type RocePacket } from '../../net/roce.js';
import { EMPTY_PAYLOAD, type TcpSegment } from '../../net/segment.js';
import * as v from './ibv.js';
import { VerbsFaults } from './faults.js';
import { RcQp, type QpCaps, type QpEnv, type QpInit } from './rc-qp.js';

export type { QpInit } from './rc-qp.js';
import { CompChannel, Context, Cq, Mr, Pd, RdmaDevice, Srq, type AsyncEvent, type RecvWr, type SendWr, type Wc } from './verbs-objects.js';
import { RdmaCm } from './rdma-cm.js';

export interface DeviceAttr {
  maxQp: number;
  maxQpWr: number;
  maxSge: number;
  maxCqe: number;
  maxMr: number;
  maxSrq: number;
  maxSrqWr: number;
}

export const DEVICE_ATTR: DeviceAttr = { maxQp: 1024, maxQpWr: 4096, maxSge: 16, maxCqe: 65536, maxMr: 4096, maxSrq: 256, maxSrqWr: 4096 };

/** A resource count per kind, for leak checks (what the C still holds). */
export interface VerbsResources {
  contexts: number;
  pds: number;
  mrs: number;
  cqs: number;
  channels: number;
  srqs: number;
  qps: number;
}

type Obj = Context | Pd | Mr | Cq | CompChannel | Srq | RcQp;

export class RdmaStack implements QpEnv {
  readonly world;
  readonly machine: string;
  readonly faults = new VerbsFaults();
  readonly cm: RdmaCm;
  private readonly devices: RdmaDevice[] = [];
  private readonly objects = new Map<number, Obj>();
  private readonly mrByLkey = new Map<number, Mr>();
  private readonly mrByRkey = new Map<number, Mr>();
  private readonly qpByNum = new Map<number, RcQp>();
  private nextHandle = 1;
  private nextKey = 1;
  private nextQpn = 0x100;
  readonly counters = { mrsRegistered: 0, mrsDeregistered: 0, pdsAllocated: 0, pdsFreed: 0, removals: 0, cqOverflows: 0 };

  constructor(readonly kernel: RdmaKernel) {
    this.world = kernel.world;
    this.machine = kernel.machine;
    this.cm = new RdmaCm(this);
    kernel.rdma = this;
  }

  // ---- devices ----

  /** Binds a new RDMA device to one of this machine's netdevs (RoCE over it). */
  addDevice(name: string, netdev: string, opts: { removedWithNetdev?: boolean } = {}): RdmaDevice {
    if (this.devices.some((d) => d.name === name)) throw new Error(`${this.machine}: RDMA device ${name} exists`);
    const dev = this.kernel.dev(netdev);
    if (dev.loopback) throw new Error(`${this.machine}: RDMA device ${name} cannot use loopback ${netdev}`);
    this.hookReceiver(dev);
    const d = new RdmaDevice(name, dev, 1, opts.removedWithNetdev ?? true);
    this.devices.push(d);
    return d;
  }

  /** The present incarnation of `name`, or the last one if it is gone. */
  device(name: string): RdmaDevice | undefined {
    for (let i = this.devices.length - 1; i >= 0; i--) if (this.devices[i]!.name === name) return this.devices[i];
    return undefined;
  }

  /** ibv_get_device_list: the devices present now. */
  deviceList(): RdmaDevice[] {
    return this.devices.filter((d) => d.present);
  }

  deviceOnNetdev(netdev: NetDev): RdmaDevice | undefined {
    return this.devices.find((d) => d.present && d.netdev === netdev);
  }

  /** `ip link set <netdev> down`: a device that goes with its netdev is removed; otherwise its
   *  port goes down (PORT_ERR) and traffic stops. */
  ifdown(netdev: string): void {
    const dev = this.kernel.dev(netdev);
    if ((dev.flags & abi.IFF_UP) === 0) return;
    dev.flags &= ~abi.IFF_UP;
    this.kernel.touched = true;
    this.world.record(this.machine, 'link.ifdown', { dev: netdev });
    for (const d of this.devices.filter((x) => x.present && x.netdev === dev)) {
      d.portUp = false;
      this.broadcast(d, { type: v.IBV_EVENT_PORT_ERR, element: 0 });
      if (d.removedWithNetdev) this.removeDevice(d);
    }
  }

  /** `ip link set <netdev> up`: a removed device comes back as a new incarnation. */
  ifup(netdev: string): void {
    const dev = this.kernel.dev(netdev);
    if ((dev.flags & abi.IFF_UP) !== 0) return;
    dev.flags |= abi.IFF_UP;
    this.kernel.touched = true;
    this.world.record(this.machine, 'link.ifup', { dev: netdev });
    const names = new Set(this.devices.filter((x) => x.netdev === dev).map((x) => x.name));
    for (const name of names) {
      const last = this.device(name)!;
      if (last.present) {
        last.portUp = true;
        this.broadcast(last, { type: v.IBV_EVENT_PORT_ACTIVE, element: 0 });
        continue;
      }
      const d = new RdmaDevice(name, dev, last.generation + 1, last.removedWithNetdev);
      this.devices.push(d);
      this.world.record(this.machine, 'rdma.device_add', { dev: name, gen: d.generation });
    }
  }

  /** IBV_EVENT_DEVICE_FATAL without a netdev change (firmware error). */
  deviceFatal(name: string): void {
    const d = this.device(name);
    if (d !== undefined && d.present) this.removeDevice(d);
  }

  private removeDevice(d: RdmaDevice): void {
    d.present = false;
    d.portUp = false;
    this.counters.removals++;
    this.world.record(this.machine, 'rdma.device_remove', { dev: d.name, gen: d.generation });
    for (const ctx of d.contexts) {
      ctx.dead = true;
      for (const o of this.objects.values()) if (o instanceof RcQp && o.pd.ctx === ctx) o.toError(undefined, v.IBV_WC_WR_FLUSH_ERR);
      this.pushAsync(ctx, { type: v.IBV_EVENT_DEVICE_FATAL, element: 0 });
    }
    this.cm.deviceRemoved(d);
  }

  private broadcast(d: RdmaDevice, ev: AsyncEvent): void {
    for (const ctx of d.contexts) this.pushAsync(ctx, ev);
  }

  private pushAsync(ctx: Context, ev: AsyncEvent): void {
    ctx.async.events.push(ev);
    this.kernel.touched = true;
  }

  // ---- contexts ----

  openDevice(name: string): number {
    const f = this.faults.check('ibv_open_device');
    if (f < 0) return f;
    const d = this.deviceList().find((x) => x.name === name);
    if (d === undefined) return -abi.ENODEV;
    const ctx = new Context(this.handle(), d);
    d.contexts.add(ctx);
    ctx.async.fd = this.kernel.openFile(ctx.async);
    this.objects.set(ctx.handle, ctx);
    return ctx.handle;
  }

  closeDevice(h: number): number {
    const ctx = this.get(h, Context);
    if (ctx === undefined) return -abi.EBADF;
    if (ctx.pds.size > 0 || ctx.cqs.size > 0 || ctx.channels.size > 0) return -abi.EBUSY;
    ctx.device.contexts.delete(ctx);
    this.kernel.close(ctx.async.fd);
    this.objects.delete(h);
    return 0;
  }

  contextOf(h: number): Context | undefined {
    return this.get(h, Context);
  }

  queryDevice(h: number): DeviceAttr | number {
    const ctx = this.get(h, Context);
    if (ctx === undefined) return -abi.EBADF;
    if (ctx.dead) return -abi.EIO;
    return DEVICE_ATTR;
  }

  asyncFd(h: number): number {
    return this.get(h, Context)?.async.fd ?? -abi.EBADF;
  }

  /** ibv_get_async_event on a nonblocking fd. */
  getAsyncEvent(h: number): AsyncEvent | number {
    const ctx = this.get(h, Context);
    if (ctx === undefined) return -abi.EBADF;
    const ev = ctx.async.events.shift();
    if (ev === undefined) return -abi.EAGAIN;
    ctx.unacked.set(ev.element, (ctx.unacked.get(ev.element) ?? 0) + 1);
    return ev;
  }

  ackAsyncEvent(h: number, element: number): number {
    const ctx = this.get(h, Context);
    const n = ctx?.unacked.get(element) ?? 0;
    if (ctx === undefined || n === 0) return -abi.EINVAL;
    if (n === 1) ctx.unacked.delete(element);
    else ctx.unacked.set(element, n - 1);
    return 0;
  }

  // ---- PD and MR ----

  allocPd(h: number): number {
    const ctx = this.get(h, Context);
    if (ctx === undefined) return -abi.EBADF;
    const f = this.faults.check('ibv_alloc_pd');
    if (f < 0) return f;
    if (ctx.dead) return -abi.EIO;
    const pd = new Pd(this.handle(), ctx);
    ctx.pds.add(pd);
    this.objects.set(pd.handle, pd);
    this.counters.pdsAllocated++;
    return pd.handle;
  }

  deallocPd(h: number): number {
    const pd = this.get(h, Pd);
    if (pd === undefined) return -abi.EBADF;
    if (pd.mrs.size > 0 || pd.qps.size > 0 || pd.srqs.size > 0) return -abi.EBUSY;
    pd.ctx.pds.delete(pd);
    this.objects.delete(h);
    this.counters.pdsFreed++;
    return 0;
  }

  /** ibv_reg_mr over [addr, addr+length) of linear memory. */
  regMr(pdh: number, addr: number, length: number, access: number): Mr | number {
    const pd = this.get(pdh, Pd);
    if (pd === undefined) return -abi.EBADF;
    const f = this.faults.check('ibv_reg_mr');
    if (f < 0) return f;
    if (pd.ctx.dead) return -abi.EIO;
    const remote = v.IBV_ACCESS_REMOTE_WRITE | v.IBV_ACCESS_REMOTE_ATOMIC;
    if ((access & remote) !== 0 && (access & v.IBV_ACCESS_LOCAL_WRITE) === 0) return -abi.EINVAL;
    if (!(length > 0) || !(addr >= 0) || addr + length > this.kernel.memory.bytes().length) return -abi.EFAULT;
    const k = this.nextKey++;
    const mr = new Mr(this.handle(), pd, addr, length, access, (k << 8) | 0x11, (k << 8) | 0x22);
    pd.mrs.add(mr);
    this.objects.set(mr.handle, mr);
    this.mrByLkey.set(mr.lkey, mr);
    this.mrByRkey.set(mr.rkey, mr);
    this.counters.mrsRegistered++;
    return mr;
  }

  deregMr(h: number): number {
    const mr = this.get(h, Mr);
    if (mr === undefined) return -abi.EBADF;
    mr.pd.mrs.delete(mr);
    this.mrByLkey.delete(mr.lkey);
    this.mrByRkey.delete(mr.rkey);
    this.objects.delete(h);
    this.counters.mrsDeregistered++;
    return 0;
  }

  /** The MR of a handle (tests and resource tables). */
  mr(h: number): Mr | undefined {
    return this.get(h, Mr);
  }

  localMr(pd: Pd, lkey: number, addr: number, len: number, access: number): Mr | undefined {
    const mr = this.mrByLkey.get(lkey);
    return mr !== undefined && mr.pd === pd && (mr.access & access) === access && mr.covers(addr, len) ? mr : undefined;
  }

  remoteMr(pd: Pd, rkey: number, addr: number, len: number, access: number): Mr | undefined {
    const mr = this.mrByRkey.get(rkey);
    return mr !== undefined && mr.pd === pd && (mr.access & access) === access && mr.covers(addr, len) ? mr : undefined;
  }

  // ---- CQ, channel, SRQ ----

  createCompChannel(h: number): number {
    const ctx = this.get(h, Context);
    if (ctx === undefined) return -abi.EBADF;
    const f = this.faults.check('ibv_create_comp_channel');
    if (f < 0) return f;
    if (ctx.dead) return -abi.EIO;
    const ch = new CompChannel(this.handle(), ctx);
    ch.file.fd = this.kernel.openFile(ch.file);
    ctx.channels.add(ch);
    this.objects.set(ch.handle, ch);
    return ch.handle;
  }

  channelFd(h: number): number {
    return this.get(h, CompChannel)?.file.fd ?? -abi.EBADF;
  }

  destroyCompChannel(h: number): number {
    const ch = this.get(h, CompChannel);
    if (ch === undefined) return -abi.EBADF;
    if (ch.cqs > 0) return -abi.EBUSY; // a CQ still uses it: destroy the CQ first
    ch.ctx.channels.delete(ch);
    this.kernel.close(ch.file.fd);
    this.objects.delete(h);
    return 0;
  }

  createCq(h: number, cqe: number, channel = 0): number {
    const ctx = this.get(h, Context);
    if (ctx === undefined) return -abi.EBADF;
    const f = this.faults.check('ibv_create_cq');
    if (f < 0) return f;
    if (ctx.dead) return -abi.EIO;
    if (!(cqe >= 1 && cqe <= DEVICE_ATTR.maxCqe)) return -abi.EINVAL;
    const ch = channel === 0 ? undefined : this.get(channel, CompChannel);
    if (channel !== 0 && (ch === undefined || ch.ctx !== ctx)) return -abi.EINVAL;
    const cq = new Cq(this.handle(), ctx, cqe, ch);
    if (ch !== undefined) ch.cqs++;
    ctx.cqs.add(cq);
    this.objects.set(cq.handle, cq);
    return cq.handle;
  }

  destroyCq(h: number): number {
    const cq = this.get(h, Cq);
    if (cq === undefined) return -abi.EBADF;
    if (cq.users > 0) return -abi.EBUSY;
    if (cq.channel !== undefined) cq.channel.cqs--;
    cq.ctx.cqs.delete(cq);
    this.objects.delete(h);
    return 0;
  }

  pollCq(h: number, max: number): Wc[] | number {
    const cq = this.get(h, Cq);
    if (cq === undefined) return -abi.EBADF;
    if (max < 0) return -abi.EINVAL;
    return cq.entries.splice(0, max);
  }

  reqNotifyCq(h: number): number {
    const cq = this.get(h, Cq);
    if (cq === undefined || cq.channel === undefined) return -abi.EINVAL;
    cq.armed = true;
    return 0;
  }

  createSrq(pdh: number, maxWr: number, maxSge: number): number {
    const pd = this.get(pdh, Pd);
    if (pd === undefined) return -abi.EBADF;
    const f = this.faults.check('ibv_create_srq');
    if (f < 0) return f;
    if (pd.ctx.dead) return -abi.EIO;
    if (!(maxWr >= 1 && maxWr <= DEVICE_ATTR.maxSrqWr) || !(maxSge >= 1 && maxSge <= DEVICE_ATTR.maxSge)) return -abi.EINVAL;
    const srq = new Srq(this.handle(), pd, maxWr, maxSge);
    pd.srqs.add(srq);
    this.objects.set(srq.handle, srq);
    return srq.handle;
  }

  destroySrq(h: number): number {
    const srq = this.get(h, Srq);
    if (srq === undefined) return -abi.EBADF;
    if (srq.qps > 0) return -abi.EBUSY;
    srq.pd.srqs.delete(srq);
    this.objects.delete(h);
    return 0;
  }

  postSrqRecv(h: number, wrs: RecvWr[]): { rc: number; bad: number } {
    const srq = this.get(h, Srq);
    if (srq === undefined) return { rc: -abi.EBADF, bad: 0 };
    for (let i = 0; i < wrs.length; i++) {
      if (wrs[i]!.sgList.length > srq.maxSge) return { rc: -abi.EINVAL, bad: i };
      if (srq.queue.length >= srq.maxWr) return { rc: -abi.ENOMEM, bad: i };
      srq.queue.push(wrs[i]!);
    }
    return { rc: 0, bad: -1 };
  }

  // ---- QP ----

  createQp(pdh: number, init: QpInit): RcQp | number {
    const pd = this.get(pdh, Pd);
    if (pd === undefined) return -abi.EBADF;
    const f = this.faults.check('ibv_create_qp');
    if (f < 0) return f;
    if (pd.ctx.dead) return -abi.EIO;
    const scq = this.get(init.sendCq, Cq);
    const rcq = this.get(init.recvCq, Cq);
    const srq = init.srq === undefined || init.srq === 0 ? undefined : this.get(init.srq, Srq);
    if (scq === undefined || rcq === undefined || scq.ctx !== pd.ctx || rcq.ctx !== pd.ctx) return -abi.EINVAL;
    if (init.srq !== undefined && init.srq !== 0 && (srq === undefined || srq.pd !== pd)) return -abi.EINVAL;
    const c = init.caps;
    if (!(c.maxSendWr >= 1 && c.maxSendWr <= DEVICE_ATTR.maxQpWr) || !(c.maxSendSge >= 1 && c.maxSendSge <= DEVICE_ATTR.maxSge)) return -abi.EINVAL;
    if (srq === undefined && (!(c.maxRecvWr >= 1 && c.maxRecvWr <= DEVICE_ATTR.maxQpWr) || !(c.maxRecvSge >= 1 && c.maxRecvSge <= DEVICE_ATTR.maxSge))) return -abi.EINVAL;
    const qp = new RcQp(this, this.handle(), this.nextQpn++, pd, scq, rcq, srq, { ...c }, init.sqSigAll === true);
    qp.state = v.IBV_QPS_INIT;
    scq.users++;
    rcq.users++;
    if (srq !== undefined) srq.qps++;
    pd.qps.add(qp.handle);
    this.objects.set(qp.handle, qp);
    this.qpByNum.set(qp.qpNum, qp);
    return qp;
  }

  /** The context handle a PD belongs to, or 0. */
  pdContext(h: number): number {
    return this.get(h, Pd)?.ctx.handle ?? 0;
  }

  qp(h: number): RcQp | undefined {
    return this.get(h, RcQp);
  }

  /** ibv_modify_qp to IBV_QPS_ERR (the only transition the C makes itself; rdma_cm makes the rest). */
  modifyQpToError(h: number): number {
    const qp = this.get(h, RcQp);
    if (qp === undefined) return -abi.EBADF;
    qp.toError(undefined, v.IBV_WC_WR_FLUSH_ERR);
    return 0;
  }

  destroyQp(h: number): number {
    const qp = this.get(h, RcQp);
    if (qp === undefined) return -abi.EBADF;
    if ((qp.pd.ctx.unacked.get(h) ?? 0) > 0) return -abi.EBUSY; // rdma-core would wait for the ack for ever
    qp.destroy();
    qp.sendCq.users--;
    qp.recvCq.users--;
    if (qp.srq !== undefined) qp.srq.qps--;
    qp.pd.qps.delete(h);
    this.objects.delete(h);
    this.qpByNum.delete(qp.qpNum);
    this.cm.qpDestroyed(qp);
    return 0;
  }

  postSend(h: number, wrs: SendWr[]): { rc: number; bad: number } {
    const qp = this.get(h, RcQp);
    return qp === undefined ? { rc: -abi.EBADF, bad: 0 } : qp.postSend(wrs);
  }

  postRecv(h: number, wrs: RecvWr[]): { rc: number; bad: number } {
    const qp = this.get(h, RcQp);
    return qp === undefined ? { rc: -abi.EBADF, bad: 0 } : qp.postRecv(wrs);
  }

  // ---- resources ----

  resources(): VerbsResources {
    const r: VerbsResources = { contexts: 0, pds: 0, mrs: 0, cqs: 0, channels: 0, srqs: 0, qps: 0 };
    for (const o of this.objects.values()) {
      if (o instanceof Context) r.contexts++;
      else if (o instanceof Pd) r.pds++;
      else if (o instanceof Mr) r.mrs++;
      else if (o instanceof Cq) r.cqs++;
      else if (o instanceof CompChannel) r.channels++;
      else if (o instanceof Srq) r.srqs++;
      else r.qps++;
    }
    return r;
  }

  // ---- QpEnv ----

  memory(): Uint8Array {
    return this.kernel.memory.bytes();
  }

  complete(cq: Cq, wc: Wc): void {
    if (cq.entries.length >= cq.cqe) {
      cq.overflows++;
      this.counters.cqOverflows++;
      this.pushAsync(cq.ctx, { type: v.IBV_EVENT_CQ_ERR, element: cq.handle });
      return;
    }
    cq.entries.push(wc);
    this.kernel.touched = true;
    if (cq.armed && cq.channel !== undefined) {
      cq.armed = false;
      cq.channel.file.events.push(cq.handle);
    }
  }

  asyncEvent(qp: RcQp, type: number): void {
    this.pushAsync(qp.pd.ctx, { type, element: qp.handle });
  }

  transmit(qp: RcQp, pkt: RocePacket, len: number, data: (() => Uint8Array) | undefined): void {
    this.send(qp.pd.ctx.device, qp.remote!.addr, pkt, len, data);
  }

  communicationEstablished(qp: RcQp): void {
    this.cm.established(qp);
  }

  /** Puts one RoCEv2 frame on `dev`'s netdev towards `dst`. */
  send(dev: RdmaDevice, dst: string, pkt: RocePacket, len: number, data: (() => Uint8Array) | undefined): void {
    const nd = dev.netdev;
    const seg: TcpSegment = {
      src: nd.addr, sport: ROCE_UDP_PORT, dst, dport: ROCE_UDP_PORT, seq: pkt.psn, ack: 0, flags: 0, wnd: 0, mss: 0,
      len, payload: EMPTY_PAYLOAD, roce: pkt,
    };
    nd.transmit({ seg, materialize: data ?? (() => EMPTY_PAYLOAD), release: () => {} });
  }

  // ---- wire ----

  private hookReceiver(dev: NetDev): void {
    const tcp = dev.receiver;
    if ((tcp as { rdma?: boolean } | undefined)?.rdma === true) return;
    const rx = (seg: TcpSegment, d: NetDev): void => {
      if (seg.roce === undefined) tcp?.(seg, d);
      else this.input(seg, d);
    };
    (rx as { rdma?: boolean }).rdma = true;
    dev.receiver = rx;
  }

  private input(seg: TcpSegment, nd: NetDev): void {
    const pkt = seg.roce!;
    const data = seg.len > 0 ? seg.payload.subarray(0, seg.len) : EMPTY_PAYLOAD;
    const dev = this.deviceOnNetdev(nd);
    if (dev === undefined || !dev.portUp) return; // no device to take it: the frame is lost
    if (pkt.op.startsWith('CM_')) {
      this.cm.input(dev, seg.src, pkt, data);
      return;
    }
    const qp = this.qpByNum.get(pkt.dqpn);
    if (qp === undefined || qp.pd.ctx.device !== dev) return;
    qp.input(pkt, data);
  }

  private handle(): number {
    return this.nextHandle++;
  }

  private get<T extends Obj>(h: number, cls: abstract new (...a: never[]) => T): T | undefined {
    const o = this.objects.get(h);
    return o instanceof cls ? o : undefined;
  }
}
