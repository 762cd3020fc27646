/**
 * Emulated RDMA-CM of one machine (librdmacm over the kernel's rdma_cm): event channels with a
 * descriptor, ids bound to an address and so to the RDMA device of its netdev, listen, resolve,
 * and the IB CM exchange (REQ/REP/RTU, REJ, DREQ/DREP) sent as frames over the fabric. Events are
 * queued on the id's channel and must be acked; destroying an id with unacked events would block
 * for ever in librdmacm, so it fails here with EBUSY and is traced.
 */
import * as abi from '../../gen/abi.js';
import type { RocePacket } from '../../net/roce.js';
import type { ScheduledEvent } from '../../sim/event-queue.js';
import * as v from './ibv.js';
import type { World } from '../../sim/world.js';
import type { NetDev } from '../../net/netdev.js';
import type { RcQp, QpInit, QpTimers } from './rc-qp.js';
import { EventFile, type Context, type RdmaDevice } from './verbs-objects.js';
import type { RdmaKernel } from './rdma-kernel.js';

/** What the CM uses of the verbs stack (verbs.ts's RdmaStack, which owns the CM). */
export interface CmStack {
  readonly kernel: RdmaKernel;
  readonly world: World;
  readonly machine: string;
  deviceList(): RdmaDevice[];
  deviceOnNetdev(netdev: NetDev): RdmaDevice | undefined;
  openDevice(name: string): number;
  contextOf(h: number): Context | undefined;
  pdContext(h: number): number;
  createQp(pdh: number, init: QpInit): RcQp | number;
  send(dev: RdmaDevice, dst: string, pkt: RocePacket, len: number, data: (() => Uint8Array) | undefined): void;
}

export type CmState =
  | 'idle' | 'bound' | 'listen' | 'addr_resolved' | 'route_resolved' | 'connecting' | 'connect_request'
  | 'accepting' | 'connected' | 'disconnecting' | 'disconnected' | 'rejected' | 'removed';

export interface CmEvent {
  handle: number;
  type: number;
  id: number;
  listenId: number;
  status: number;
  privateData: Uint8Array;
}

class CmChannel {
  readonly file = new EventFile<CmEvent>();
  readonly ids = new Set<CmId>();
  constructor(readonly handle: number) {}
}

export class CmId {
  state: CmState = 'idle';
  local: { addr: string; port: number } | undefined;
  remote: { addr: string; port: number } | undefined;
  device: RdmaDevice | undefined;
  /** Handle of the CM's own context on `device` (id->verbs). */
  verbs = 0;
  qp: RcQp | undefined;
  listener: CmId | undefined;
  peerCommId = 0;
  peerQpn = 0;
  unacked = 0;
  timers: Partial<QpTimers> = {};
  /** The pending REQ or DREQ retransmission. */
  retry: ScheduledEvent | undefined;
  constructor(readonly handle: number, readonly channel: CmChannel, readonly userContext: number) {}
}

export interface CmOptions {
  /** How long an unanswered REQ or DREQ waits before it is sent again (CMA_CM_RESPONSE_TIMEOUT
   *  20: 4.096 µs × 2^20). */
  responseTimeoutUs: number;
  maxRetries: number;
  /** From DISCONNECTED to TIMEWAIT_EXIT on an id with a QP. */
  timewaitUs: number;
  /** Delay of address and route resolution. */
  resolveUs: number;
}

export class RdmaCm {
  opts: CmOptions = { responseTimeoutUs: 4_295_000, maxRetries: 15, timewaitUs: 1_000, resolveUs: 5 };
  private readonly channels = new Map<number, CmChannel>();
  private readonly ids = new Map<number, CmId>();
  private readonly events = new Map<number, CmEvent>();
  /** The CM's own context per device incarnation (rdma_get_devices). */
  private readonly contexts = new Map<RdmaDevice, number>();
  private nextHandle = 1;
  private nextPort = 49152;
  /** Destroys refused because events were still unacked. */
  wouldBlock = 0;

  constructor(private readonly stack: CmStack) {}

  // ---- channels and ids ----

  createEventChannel(): { handle: number; fd: number } {
    const ch = new CmChannel(this.nextHandle++);
    ch.file.fd = this.stack.kernel.openFile(ch.file);
    this.channels.set(ch.handle, ch);
    return { handle: ch.handle, fd: ch.file.fd };
  }

  destroyEventChannel(h: number): number {
    const ch = this.channels.get(h);
    if (ch === undefined) return -abi.EBADF;
    if (ch.ids.size > 0) return -abi.EBUSY;
    this.stack.kernel.close(ch.file.fd);
    this.channels.delete(h);
    return 0;
  }

  createId(ch: number, userContext = 0): number {
    const c = this.channels.get(ch);
    if (c === undefined) return -abi.EBADF;
    const id = new CmId(this.nextHandle++, c, userContext);
    c.ids.add(id);
    this.ids.set(id.handle, id);
    return id.handle;
  }

  id(h: number): CmId | undefined {
    return this.ids.get(h);
  }

  destroyId(h: number): number {
    const id = this.ids.get(h);
    if (id === undefined) return -abi.EBADF;
    if (id.unacked > 0) {
      this.wouldBlock++;
      this.stack.world.record(this.stack.machine, 'rdma_cm.destroy_would_block', { id: h, unacked: id.unacked });
      return -abi.EBUSY;
    }
    if (id.state === 'connected' || id.state === 'accepting') this.sendDreq(id);
    this.stopRetry(id);
    id.channel.ids.delete(id);
    this.ids.delete(h);
    return 0;
  }

  /** rdma_get_devices: the CM's context of every device present. */
  devices(): number[] {
    const out: number[] = [];
    for (const d of this.stack.deviceList()) out.push(this.contextFor(d));
    return out;
  }

  private contextFor(d: RdmaDevice): number {
    let h = this.contexts.get(d);
    if (h === undefined) {
      h = this.stack.openDevice(d.name);
      if (h < 0) return h;
      this.contexts.set(d, h);
    }
    return h;
  }

  // ---- addresses ----

  bindAddr(h: number, addr: string, port: number): number {
    const id = this.ids.get(h);
    if (id === undefined) return -abi.EBADF;
    if (id.state !== 'idle') return -abi.EINVAL;
    if (!(port >= 0 && port <= 65535)) return -abi.EINVAL;
    let dev: RdmaDevice | undefined;
    if (addr !== '0.0.0.0') {
      const nd = this.stack.kernel.ifaddrs().find((i) => i.addr === addr);
      if (nd === undefined) return -abi.EADDRNOTAVAIL;
      dev = this.stack.deviceOnNetdev(this.stack.kernel.dev(nd.name));
      if (dev === undefined) return -abi.ENODEV;
    }
    for (const o of this.ids.values()) {
      if (o !== id && o.state === 'listen' && o.local!.port === port && port !== 0 && (o.local!.addr === addr || addr === '0.0.0.0' || o.local!.addr === '0.0.0.0')) return -abi.EADDRINUSE;
    }
    id.local = { addr, port: port === 0 ? this.nextPort++ : port };
    id.device = dev;
    id.verbs = dev === undefined ? 0 : this.contextFor(dev);
    id.state = 'bound';
    return 0;
  }

  listen(h: number, backlog: number): number {
    const id = this.ids.get(h);
    if (id === undefined) return -abi.EBADF;
    if (id.state !== 'bound' || backlog < 0) return -abi.EINVAL;
    id.state = 'listen';
    this.stack.world.record(this.stack.machine, 'rdma_cm.listen', { addr: `${id.local!.addr}:${id.local!.port}` });
    return 0;
  }

  resolveAddr(h: number, dst: string, port: number): number {
    const id = this.ids.get(h);
    if (id === undefined) return -abi.EBADF;
    if (id.state !== 'idle' && id.state !== 'bound') return -abi.EINVAL;
    const nd = this.stack.kernel.ifaddrs().map((i) => this.stack.kernel.dev(i.name)).find((d) => d.routes.has(dst));
    const dev = nd === undefined ? undefined : this.stack.deviceOnNetdev(nd);
    id.remote = { addr: dst, port };
    this.later(() => {
      if (!this.ids.has(h)) return;
      if (nd === undefined || dev === undefined || !dev.present) {
        this.queue(id, v.RDMA_CM_EVENT_ADDR_ERROR, nd === undefined ? -abi.ENETUNREACH : -abi.ENODEV);
        return;
      }
      id.local = { addr: nd.addr, port: this.nextPort++ };
      id.device = dev;
      id.verbs = this.contextFor(dev);
      id.state = 'addr_resolved';
      this.queue(id, v.RDMA_CM_EVENT_ADDR_RESOLVED, 0);
    });
    return 0;
  }

  resolveRoute(h: number): number {
    const id = this.ids.get(h);
    if (id === undefined) return -abi.EBADF;
    if (id.state !== 'addr_resolved') return -abi.EINVAL;
    this.later(() => {
      if (!this.ids.has(h)) return;
      if (id.device === undefined || !id.device.present) {
        this.queue(id, v.RDMA_CM_EVENT_ROUTE_ERROR, -abi.ENODEV);
        return;
      }
      id.state = 'route_resolved';
      this.queue(id, v.RDMA_CM_EVENT_ROUTE_RESOLVED, 0);
    });
    return 0;
  }

  // ---- QP on an id ----

  createQp(h: number, pd: number, init: QpInit): RcQp | number {
    const id = this.ids.get(h);
    if (id === undefined) return -abi.EBADF;
    if (id.qp !== undefined || id.verbs === 0) return -abi.EINVAL;
    if (this.stack.contextOf(id.verbs) !== undefined && this.stack.pdContext(pd) !== id.verbs) return -abi.EINVAL;
    const qp = this.stack.createQp(pd, init);
    if (typeof qp === 'number') return qp;
    id.qp = qp;
    return qp;
  }

  qpDestroyed(qp: RcQp): void {
    for (const id of this.ids.values()) if (id.qp === qp) id.qp = undefined;
  }

  // ---- connection ----

  connect(h: number, privateData: Uint8Array, timers: Partial<QpTimers> = {}): number {
    const id = this.ids.get(h);
    if (id === undefined) return -abi.EBADF;
    if (id.state !== 'route_resolved' || id.qp === undefined) return -abi.EINVAL;
    if (privateData.length > v.RDMA_CM_MAX_REQ_PRIVATE_DATA) return -abi.EINVAL;
    id.timers = timers;
    id.state = 'connecting';
    const send = (): void => this.sendCm(id, { op: 'CM_REQ', dqpn: 1, sqpn: 1, psn: 0, cmId: id.handle, port: id.remote!.port, qpn: id.qp!.qpNum }, privateData);
    send();
    this.retryUntil(id, 'connecting', send, v.RDMA_CM_EVENT_UNREACHABLE);
    return 0;
  }

  accept(h: number, privateData: Uint8Array, timers: Partial<QpTimers> = {}): number {
    const id = this.ids.get(h);
    if (id === undefined) return -abi.EBADF;
    if (id.state !== 'connect_request' || id.qp === undefined) return -abi.EINVAL;
    if (privateData.length > v.RDMA_CM_MAX_REP_PRIVATE_DATA) return -abi.EINVAL;
    id.qp.connectTo(id.remote!.addr, id.peerQpn, timers);
    id.qp.awaitingRtu = true;
    id.state = 'accepting';
    const send = (): void => this.sendRep(id, privateData);
    send();
    // Without an RTU (or a first packet) the REP is sent again, then the connection fails.
    this.retryUntil(id, 'accepting', send, v.RDMA_CM_EVENT_CONNECT_ERROR);
    return 0;
  }

  reject(h: number, privateData: Uint8Array): number {
    const id = this.ids.get(h);
    if (id === undefined) return -abi.EBADF;
    if (id.state !== 'connect_request') return -abi.EINVAL;
    if (privateData.length > v.RDMA_CM_MAX_REJ_PRIVATE_DATA) return -abi.EINVAL;
    id.state = 'rejected';
    this.sendCm(id, { op: 'CM_REJ', dqpn: 1, sqpn: 1, psn: 0, cmId: id.handle, cmPeerId: id.peerCommId, reason: v.IB_CM_REJ_CONSUMER_DEFINED }, privateData);
    return 0;
  }

  disconnect(h: number): number {
    const id = this.ids.get(h);
    if (id === undefined) return -abi.EBADF;
    if (id.state !== 'connected' && id.state !== 'accepting' && id.state !== 'connecting') return -abi.EINVAL;
    id.qp?.toError(undefined, v.IBV_WC_WR_FLUSH_ERR);
    this.sendDreq(id);
    return 0;
  }

  // ---- events ----

  getEvent(ch: number): CmEvent | number {
    const c = this.channels.get(ch);
    if (c === undefined) return -abi.EBADF;
    const ev = c.file.events.shift();
    if (ev === undefined) return -abi.EAGAIN;
    this.events.set(ev.handle, ev);
    return ev;
  }

  ackEvent(h: number): number {
    const ev = this.events.get(h);
    if (ev === undefined) return -abi.EINVAL;
    this.events.delete(h);
    const id = this.ids.get(ev.id);
    if (id !== undefined) id.unacked--;
    return 0;
  }

  // ---- from the stack ----

  deviceRemoved(d: RdmaDevice): void {
    this.contexts.delete(d);
    for (const id of this.ids.values()) {
      if (id.device !== d || id.state === 'removed') continue;
      this.stopRetry(id);
      id.state = 'removed';
      this.queue(id, v.RDMA_CM_EVENT_DEVICE_REMOVAL, 0);
    }
  }

  /** The address of `netdev` changed (bond failover): ids bound to it are told. */
  addrChange(netdevAddr: string): void {
    for (const id of this.ids.values()) {
      if (id.local?.addr === netdevAddr && id.device !== undefined) this.queue(id, v.RDMA_CM_EVENT_ADDR_CHANGE, 0);
    }
  }

  /** First packet on an accepted QP before its RTU: the connection is up (COMM_EST). */
  established(qp: RcQp): void {
    for (const id of this.ids.values()) {
      if (id.qp !== qp || id.state !== 'accepting') continue;
      qp.awaitingRtu = false;
      this.stopRetry(id);
      id.state = 'connected';
      this.queue(id, v.RDMA_CM_EVENT_ESTABLISHED, 0);
    }
  }

  input(dev: RdmaDevice, src: string, pkt: RocePacket, data: Uint8Array): void {
    switch (pkt.op) {
      case 'CM_REQ':
        this.onReq(dev, src, pkt, data);
        return;
      case 'CM_REP': {
        const id = this.ids.get(pkt.cmPeerId ?? 0);
        if (id !== undefined && id.state === 'connected' && id.peerCommId === pkt.cmId) {
          this.sendCm(id, { op: 'CM_RTU', dqpn: 1, sqpn: 1, psn: 0, cmId: id.handle, cmPeerId: id.peerCommId }, new Uint8Array(0));
          return; // our RTU was lost: the peer sent its REP again
        }
        if (id === undefined || id.state !== 'connecting' || id.qp === undefined || id.device !== dev) return;
        id.peerCommId = pkt.cmId ?? 0;
        id.qp.connectTo(src, pkt.qpn ?? 0, id.timers);
        id.state = 'connected';
        this.stopRetry(id);
        this.sendCm(id, { op: 'CM_RTU', dqpn: 1, sqpn: 1, psn: 0, cmId: id.handle, cmPeerId: id.peerCommId }, new Uint8Array(0));
        this.queue(id, v.RDMA_CM_EVENT_ESTABLISHED, 0, data);
        return;
      }
      case 'CM_RTU': {
        const id = this.byPeer(src, pkt.cmId ?? 0);
        if (id?.qp !== undefined) this.established(id.qp);
        return;
      }
      case 'CM_REJ': {
        const id = this.ids.get(pkt.cmPeerId ?? 0);
        if (id === undefined || id.state !== 'connecting') return;
        id.state = 'rejected';
        this.stopRetry(id);
        this.queue(id, v.RDMA_CM_EVENT_REJECTED, pkt.reason ?? 0, data);
        return;
      }
      case 'CM_DREQ': {
        this.sendTo(dev, src, { op: 'CM_DREP', dqpn: 1, sqpn: 1, psn: 0, cmPeerId: pkt.cmId ?? 0 }, new Uint8Array(0));
        const id = this.byPeer(src, pkt.cmId ?? 0);
        if (id === undefined || (id.state !== 'connected' && id.state !== 'accepting')) return;
        id.qp?.toError(undefined, v.IBV_WC_WR_FLUSH_ERR);
        this.disconnected(id);
        return;
      }
      case 'CM_DREP': {
        const id = this.ids.get(pkt.cmPeerId ?? 0);
        if (id !== undefined && id.state === 'disconnecting') this.disconnected(id);
        return;
      }
      default:
    }
  }

  private onReq(dev: RdmaDevice, src: string, pkt: RocePacket, data: Uint8Array): void {
    const dup = this.byPeer(src, pkt.cmId ?? 0);
    if (dup !== undefined) {
      if (dup.state === 'accepting' || dup.state === 'connected') this.sendRep(dup, new Uint8Array(0));
      return;
    }
    const port = pkt.port ?? 0;
    const l = [...this.ids.values()].find((i) => i.state === 'listen' && i.local!.port === port && (i.device === dev || (i.device === undefined && i.local!.addr === '0.0.0.0')));
    if (l === undefined) {
      this.sendTo(dev, src, { op: 'CM_REJ', dqpn: 1, sqpn: 1, psn: 0, cmPeerId: pkt.cmId ?? 0, reason: v.IB_CM_REJ_INVALID_SERVICE_ID }, new Uint8Array(0));
      return;
    }
    const child = this.ids.get(this.createId(l.channel.handle, l.userContext))!;
    child.state = 'connect_request';
    child.local = { addr: dev.netdev.addr, port };
    child.remote = { addr: src, port: 0 };
    child.device = dev;
    child.verbs = this.contextFor(dev);
    child.listener = l;
    child.peerCommId = pkt.cmId ?? 0;
    child.peerQpn = pkt.qpn ?? 0;
    this.queue(child, v.RDMA_CM_EVENT_CONNECT_REQUEST, 0, data, l.handle);
  }

  private byPeer(src: string, peerCommId: number): CmId | undefined {
    for (const id of this.ids.values()) if (id.remote?.addr === src && id.peerCommId === peerCommId && peerCommId !== 0) return id;
    return undefined;
  }

  private sendRep(id: CmId, privateData: Uint8Array): void {
    this.sendCm(id, { op: 'CM_REP', dqpn: 1, sqpn: 1, psn: 0, cmId: id.handle, cmPeerId: id.peerCommId, qpn: id.qp?.qpNum ?? 0 }, privateData);
  }

  private sendDreq(id: CmId): void {
    id.state = 'disconnecting';
    const send = (): void => this.sendCm(id, { op: 'CM_DREQ', dqpn: 1, sqpn: 1, psn: 0, cmId: id.handle, cmPeerId: id.peerCommId }, new Uint8Array(0));
    send();
    // No DREP in time: the id is disconnected anyway (IB CM gives up after its retries).
    this.retryUntil(id, 'disconnecting', send, -1);
  }

  private disconnected(id: CmId): void {
    this.stopRetry(id);
    id.state = 'disconnected';
    this.queue(id, v.RDMA_CM_EVENT_DISCONNECTED, 0);
    if (id.qp === undefined) return;
    this.stack.world.after(this.opts.timewaitUs, 'rdma_cm.timewait', () => {
      if (this.ids.has(id.handle) && id.state === 'disconnected') this.queue(id, v.RDMA_CM_EVENT_TIMEWAIT_EXIT, 0);
    }, this.stack.kernel);
  }

  /** Resends while the id stays in `state`; after the last retry queues `failEvent` (-1: the
   *  disconnect completes instead). */
  private retryUntil(id: CmId, state: CmState, send: () => void, failEvent: number): void {
    let left = this.opts.maxRetries;
    const tick = (): void => {
      if (!this.ids.has(id.handle) || id.state !== state) return;
      id.retry = undefined;
      if (left-- > 0) {
        send();
        id.retry = this.stack.world.after(this.opts.responseTimeoutUs, 'rdma_cm.retry', tick, this.stack.kernel);
        return;
      }
      if (failEvent < 0) this.disconnected(id);
      else {
        id.state = 'disconnected';
        this.queue(id, failEvent, -abi.ETIMEDOUT);
      }
    };
    this.stopRetry(id);
    id.retry = this.stack.world.after(this.opts.responseTimeoutUs, 'rdma_cm.retry', tick, this.stack.kernel);
  }

  private sendCm(id: CmId, pkt: RocePacket, data: Uint8Array): void {
    if (id.device === undefined || id.remote === undefined) return;
    this.sendTo(id.device, id.remote.addr, pkt, data);
  }

  private sendTo(dev: RdmaDevice, dst: string, pkt: RocePacket, data: Uint8Array): void {
    const copy = data.slice();
    this.stack.send(dev, dst, pkt, copy.length, () => copy);
  }

  private queue(id: CmId, type: number, status: number, privateData: Uint8Array = new Uint8Array(0), listenId = 0): void {
    const ev: CmEvent = { handle: this.nextHandle++, type, id: id.handle, listenId, status, privateData: privateData.slice() };
    id.unacked++;
    id.channel.file.events.push(ev);
    this.stack.kernel.touched = true;
    this.stack.world.record(this.stack.machine, 'rdma_cm.event', { type, id: id.handle });
  }

  private stopRetry(id: CmId): void {
    this.stack.world.cancel(id.retry);
    id.retry = undefined;
  }

  private later(fn: () => void): void {
    this.stack.world.after(this.opts.resolveUs, 'rdma_cm.resolve', fn, this.stack.kernel);
  }
}
