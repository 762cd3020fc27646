/** A reliable connected queue pair: requester (PSNs, ACK timeout with go-back-N retransmission,
 *  RNR backoff, retry exhaustion) and responder (SEND into posted receives, RDMA WRITE and READ
 *  checked against the rkey's MR). One message is one frame on the wire (decision 21). */
import * as abi from '../../gen/abi.js';
import type { World } from '../../sim/world.js';
import type { NakReason, RocePacket } from '../../net/roce.js';
import * as v from './ibv.js';
import type { Cq, Mr, Pd, RecvWr, SendWr, Sge, Srq, Wc } from './verbs-objects.js';

/** What a QP needs from its stack. */
export interface QpEnv {
  readonly world: World;
  readonly machine: string;
  memory(): Uint8Array;
  /** The MR of a local key in `pd` covering the range with the access, or undefined. */
  localMr(pd: Pd, lkey: number, addr: number, len: number, access: number): Mr | undefined;
  remoteMr(pd: Pd, rkey: number, addr: number, len: number, access: number): Mr | undefined;
  complete(cq: Cq, wc: Wc): void;
  asyncEvent(qp: RcQp, type: number): void;
  /** Queues a frame to the peer; `data` runs when the NIC starts transmitting it. */
  transmit(qp: RcQp, pkt: RocePacket, len: number, data: (() => Uint8Array) | undefined): void;
  /** The first packet reached a QP whose connection waited for its RTU. */
  communicationEstablished(qp: RcQp): void;
}

export interface QpCaps {
  maxSendWr: number;
  maxRecvWr: number;
  maxSendSge: number;
  maxRecvSge: number;
}

export interface QpTimers {
  /** Local ACK timeout (the attribute `timeout` 14 is about 67 ms). */
  ackTimeoutUs: number;
  retryCnt: number;
  rnrRetry: number;
  /** Delay before resending after an RNR NAK. */
  rnrDelayUs: number;
}

interface Wqe {
  wr: SendWr;
  psn: number;
  len: number;
}

const EMPTY = new Uint8Array(0);

export class RcQp {
  state = v.IBV_QPS_RESET;
  remote: { addr: string; qpn: number } | undefined;
  readonly rq: RecvWr[] = [];
  private readonly inflight: Wqe[] = [];
  private npsn = 0;
  private epsn = 0;
  private retriesLeft = 0;
  private rnrLeft = 0;
  private timer: ReturnType<World['after']> | undefined;
  timers: QpTimers = { ackTimeoutUs: 67_000, retryCnt: 7, rnrRetry: v.RNR_RETRY_INFINITE, rnrDelayUs: 1_000 };
  /** Set while the connection waits for its RTU (passive side after accept). */
  awaitingRtu = false;
  lastWqeReported = false;
  readonly stats = { sent: 0, retransmits: 0, rnrNaks: 0, recvs: 0 };

  constructor(
    private readonly env: QpEnv,
    readonly handle: number,
    readonly qpNum: number,
    readonly pd: Pd,
    readonly sendCq: Cq,
    readonly recvCq: Cq,
    readonly srq: Srq | undefined,
    readonly caps: QpCaps,
    readonly sqSigAll: boolean,
  ) {}

  get outstanding(): number {
    return this.inflight.length;
  }

  /** INIT → RTR → RTS in one step, as rdma_cm does once the peer's QPN is known. */
  connectTo(addr: string, qpn: number, timers: Partial<QpTimers>): void {
    this.remote = { addr, qpn };
    this.timers = { ...this.timers, ...timers };
    this.retriesLeft = this.timers.retryCnt;
    this.rnrLeft = this.timers.rnrRetry;
    this.state = v.IBV_QPS_RTS;
  }

  // ---- posting ----

  postSend(wrs: SendWr[]): { rc: number; bad: number } {
    for (let i = 0; i < wrs.length; i++) {
      const wr = wrs[i]!;
      if (this.state === v.IBV_QPS_RESET || this.state === v.IBV_QPS_INIT || this.state === v.IBV_QPS_RTR) return { rc: -abi.EINVAL, bad: i };
      if (wr.sgList.length > this.caps.maxSendSge) return { rc: -abi.EINVAL, bad: i };
      if (wr.opcode !== v.IBV_WR_SEND && wr.opcode !== v.IBV_WR_RDMA_WRITE && wr.opcode !== v.IBV_WR_RDMA_READ) return { rc: -abi.EINVAL, bad: i };
      if (this.inflight.length >= this.caps.maxSendWr) return { rc: -abi.ENOMEM, bad: i };
      const len = wr.sgList.reduce((a, s) => a + s.length, 0);
      if (this.state === v.IBV_QPS_ERR) {
        this.env.complete(this.sendCq, this.wc(wr, v.IBV_WC_WR_FLUSH_ERR, 0));
        continue;
      }
      const access = wr.opcode === v.IBV_WR_RDMA_READ ? v.IBV_ACCESS_LOCAL_WRITE : 0;
      if (!this.sgesValid(wr.sgList, access)) {
        this.toError(wr, v.IBV_WC_LOC_PROT_ERR);
        continue;
      }
      const wqe: Wqe = { wr, psn: this.npsn++, len };
      this.inflight.push(wqe);
      this.sendRequest(wqe);
      this.armTimer();
    }
    return { rc: 0, bad: -1 };
  }

  postRecv(wrs: RecvWr[]): { rc: number; bad: number } {
    for (let i = 0; i < wrs.length; i++) {
      const wr = wrs[i]!;
      if (this.srq !== undefined || this.state === v.IBV_QPS_RESET) return { rc: -abi.EINVAL, bad: i };
      if (wr.sgList.length > this.caps.maxRecvSge) return { rc: -abi.EINVAL, bad: i };
      if (this.rq.length >= this.caps.maxRecvWr) return { rc: -abi.ENOMEM, bad: i };
      if (this.state === v.IBV_QPS_ERR) {
        this.env.complete(this.recvCq, { wrId: wr.wrId, status: v.IBV_WC_WR_FLUSH_ERR, opcode: v.IBV_WC_RECV, byteLen: 0, qpNum: this.qpNum });
        continue;
      }
      this.rq.push(wr);
    }
    return { rc: 0, bad: -1 };
  }

  // ---- requester ----

  private sendRequest(w: Wqe): void {
    const wr = w.wr;
    const base = { dqpn: this.remote!.qpn, sqpn: this.qpNum, psn: w.psn };
    this.stats.sent++;
    if (wr.opcode === v.IBV_WR_RDMA_READ) {
      this.env.transmit(this, { op: 'READ_REQ', ...base, raddr: wr.remoteAddr ?? 0, rkey: wr.rkey ?? 0, rlen: w.len }, 0, undefined);
      return;
    }
    const pkt: RocePacket = wr.opcode === v.IBV_WR_SEND
      ? { op: 'SEND', ...base }
      : { op: 'WRITE', ...base, raddr: wr.remoteAddr ?? 0, rkey: wr.rkey ?? 0 };
    this.env.transmit(this, pkt, w.len, () => this.gather(wr.sgList, w.len));
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.inflight.length === 0) return;
    this.timer = this.env.world.after(this.timers.ackTimeoutUs, 'rdma.ack_timeout', this.onAckTimeout);
  }

  private stopTimer(): void {
    this.env.world.cancel(this.timer);
    this.timer = undefined;
  }

  private readonly onAckTimeout = (): void => {
    this.timer = undefined;
    if (this.state !== v.IBV_QPS_RTS || this.inflight.length === 0) return;
    if (this.retriesLeft <= 0) {
      this.toError(undefined, v.IBV_WC_RETRY_EXC_ERR);
      return;
    }
    this.retriesLeft--;
    this.resendAll();
  };

  private resendAll(): void {
    for (const w of this.inflight) {
      this.stats.retransmits++;
      this.sendRequest(w);
    }
    this.armTimer();
  }

  /** Completes every message up to `psn` that needs no response data. */
  private acked(psn: number): void {
    let progressed = false;
    while (this.inflight.length > 0) {
      const head = this.inflight[0]!;
      if (head.psn > psn || head.wr.opcode === v.IBV_WR_RDMA_READ) break;
      this.inflight.shift();
      this.reportSend(head, v.IBV_WC_SUCCESS);
      progressed = true;
    }
    if (progressed) this.progress();
  }

  private progress(): void {
    this.retriesLeft = this.timers.retryCnt;
    this.rnrLeft = this.timers.rnrRetry;
    this.stopTimer();
    this.armTimer();
  }

  private reportSend(w: Wqe, status: number): void {
    if (status === v.IBV_WC_SUCCESS && !this.sqSigAll && (w.wr.sendFlags & v.IBV_SEND_SIGNALED) === 0) return;
    const op = w.wr.opcode === v.IBV_WR_SEND ? v.IBV_WC_SEND : w.wr.opcode === v.IBV_WR_RDMA_WRITE ? v.IBV_WC_RDMA_WRITE : v.IBV_WC_RDMA_READ;
    this.env.complete(this.sendCq, { wrId: w.wr.wrId, status, opcode: op, byteLen: op === v.IBV_WC_RDMA_READ ? w.len : 0, qpNum: this.qpNum });
  }

  private wc(wr: SendWr, status: number, byteLen: number): Wc {
    const op = wr.opcode === v.IBV_WR_SEND ? v.IBV_WC_SEND : wr.opcode === v.IBV_WR_RDMA_WRITE ? v.IBV_WC_RDMA_WRITE : v.IBV_WC_RDMA_READ;
    return { wrId: wr.wrId, status, opcode: op, byteLen, qpNum: this.qpNum };
  }

  // ---- wire input ----

  input(pkt: RocePacket, data: Uint8Array): void {
    if (this.state !== v.IBV_QPS_RTR && this.state !== v.IBV_QPS_RTS) return;
    if (this.remote === undefined || pkt.sqpn !== this.remote.qpn) return;
    if (this.awaitingRtu) this.env.communicationEstablished(this);
    switch (pkt.op) {
      case 'ACK':
        this.acked(pkt.psn);
        return;
      case 'NAK':
        this.onNak(pkt.psn, pkt.nak ?? 'invalid');
        return;
      case 'READ_RESP':
        this.onReadResponse(pkt.psn, data);
        return;
      default:
        this.respond(pkt, data);
    }
  }

  private onNak(psn: number, why: NakReason): void {
    this.acked(psn - 1);
    const head = this.inflight[0];
    if (head === undefined || head.psn !== psn) return;
    if (why !== 'rnr') {
      this.inflight.shift();
      this.toError(head.wr, why === 'access' ? v.IBV_WC_REM_ACCESS_ERR : v.IBV_WC_REM_INV_REQ_ERR);
      return;
    }
    this.stats.rnrNaks++;
    if (this.rnrLeft !== v.RNR_RETRY_INFINITE) {
      if (this.rnrLeft <= 0) {
        this.inflight.shift();
        this.toError(head.wr, v.IBV_WC_RNR_RETRY_EXC_ERR);
        return;
      }
      this.rnrLeft--;
    }
    this.stopTimer();
    this.timer = this.env.world.after(this.timers.rnrDelayUs, 'rdma.rnr_retry', () => {
      this.timer = undefined;
      if (this.state === v.IBV_QPS_RTS) this.resendAll();
    });
  }

  private onReadResponse(psn: number, data: Uint8Array): void {
    this.acked(psn - 1);
    const head = this.inflight[0];
    if (head === undefined || head.psn !== psn || head.wr.opcode !== v.IBV_WR_RDMA_READ) return;
    this.inflight.shift();
    this.scatter(head.wr.sgList, data);
    this.reportSend(head, v.IBV_WC_SUCCESS);
    this.progress();
  }

  // ---- responder ----

  private respond(pkt: RocePacket, data: Uint8Array): void {
    if (pkt.psn < this.epsn) {
      // A duplicate (our ACK was lost): acknowledge again, or read again for a READ.
      if (pkt.op === 'READ_REQ') this.sendReadResponse(pkt);
      else this.reply('ACK', pkt.psn);
      return;
    }
    if (pkt.psn > this.epsn) return; // out of sequence: the requester's timeout resends
    if (pkt.op === 'SEND') {
      this.receiveSend(pkt, data);
      return;
    }
    const need = pkt.op === 'WRITE' ? v.IBV_ACCESS_REMOTE_WRITE : v.IBV_ACCESS_REMOTE_READ;
    const len = pkt.op === 'WRITE' ? data.length : (pkt.rlen ?? 0);
    const mr = len === 0 ? undefined : this.env.remoteMr(this.pd, pkt.rkey ?? 0, pkt.raddr ?? 0, len, need);
    if (len > 0 && mr === undefined) {
      this.reply('NAK', pkt.psn, 'access');
      this.toError(undefined, v.IBV_WC_WR_FLUSH_ERR);
      this.env.asyncEvent(this, v.IBV_EVENT_QP_ACCESS_ERR);
      return;
    }
    this.epsn++;
    if (pkt.op === 'WRITE') {
      if (len > 0) this.env.memory().set(data, pkt.raddr!);
      this.reply('ACK', pkt.psn);
    } else {
      this.sendReadResponse(pkt);
    }
  }

  private receiveSend(pkt: RocePacket, data: Uint8Array): void {
    const queue = this.srq !== undefined ? this.srq.queue : this.rq;
    const wr = queue.shift();
    if (wr === undefined) {
      this.reply('NAK', pkt.psn, 'rnr');
      return;
    }
    this.epsn++;
    this.stats.recvs++;
    const room = wr.sgList.reduce((a, s) => a + s.length, 0);
    let status = v.IBV_WC_SUCCESS;
    if (data.length > room) status = v.IBV_WC_LOC_LEN_ERR;
    else if (!this.sgesValid(wr.sgList, v.IBV_ACCESS_LOCAL_WRITE, data.length)) status = v.IBV_WC_LOC_PROT_ERR;
    if (status !== v.IBV_WC_SUCCESS) {
      this.env.complete(this.recvCq, { wrId: wr.wrId, status, opcode: v.IBV_WC_RECV, byteLen: 0, qpNum: this.qpNum });
      this.reply('NAK', pkt.psn, 'invalid');
      this.toError(undefined, v.IBV_WC_WR_FLUSH_ERR);
      return;
    }
    this.scatter(wr.sgList, data);
    this.env.complete(this.recvCq, { wrId: wr.wrId, status, opcode: v.IBV_WC_RECV, byteLen: data.length, qpNum: this.qpNum });
    this.reply('ACK', pkt.psn);
  }

  private sendReadResponse(req: RocePacket): void {
    const len = req.rlen ?? 0;
    const addr = req.raddr ?? 0;
    const pkt: RocePacket = { op: 'READ_RESP', dqpn: this.remote!.qpn, sqpn: this.qpNum, psn: req.psn };
    this.env.transmit(this, pkt, len, () => this.env.memory().slice(addr, addr + len));
  }

  private reply(op: 'ACK' | 'NAK', psn: number, nak?: NakReason): void {
    const pkt: RocePacket = { op, dqpn: this.remote!.qpn, sqpn: this.qpNum, psn };
    if (nak !== undefined) pkt.nak = nak;
    this.env.transmit(this, pkt, 0, undefined);
  }

  // ---- memory ----

  /** Every SGE names an MR of this PD with `access` covering it (up to `limit` bytes used). */
  private sgesValid(sges: Sge[], access: number, limit = Infinity): boolean {
    let left = limit;
    for (const s of sges) {
      if (left <= 0) break;
      const n = Math.min(s.length, left);
      if (n > 0 && this.env.localMr(this.pd, s.lkey, s.addr, n, access) === undefined) return false;
      left -= n;
    }
    return true;
  }

  private gather(sges: Sge[], len: number): Uint8Array {
    if (len === 0) return EMPTY;
    const mem = this.env.memory();
    const out = new Uint8Array(len);
    let at = 0;
    for (const s of sges) {
      out.set(mem.subarray(s.addr, s.addr + s.length), at);
      at += s.length;
    }
    return out;
  }

  private scatter(sges: Sge[], data: Uint8Array): void {
    const mem = this.env.memory();
    let at = 0;
    for (const s of sges) {
      if (at >= data.length) break;
      const n = Math.min(s.length, data.length - at);
      mem.set(data.subarray(at, at + n), s.addr);
      at += n;
    }
  }

  // ---- errors ----

  /** Moves to the error state: the failing request (if any) completes with `status`, everything
   *  else outstanding with WR_FLUSH_ERR; a QP on an SRQ reports LAST_WQE_REACHED once. */
  toError(failed: SendWr | undefined, status: number): void {
    if (this.state === v.IBV_QPS_ERR) return;
    this.state = v.IBV_QPS_ERR;
    this.awaitingRtu = false;
    this.stopTimer();
    const pending = this.inflight.splice(0);
    if (failed !== undefined) this.env.complete(this.sendCq, this.wc(failed, status, 0));
    else if (pending.length > 0 && status !== v.IBV_WC_WR_FLUSH_ERR) this.env.complete(this.sendCq, this.wc(pending.shift()!.wr, status, 0));
    for (const w of pending) this.env.complete(this.sendCq, this.wc(w.wr, v.IBV_WC_WR_FLUSH_ERR, 0));
    for (const r of this.rq.splice(0)) {
      this.env.complete(this.recvCq, { wrId: r.wrId, status: v.IBV_WC_WR_FLUSH_ERR, opcode: v.IBV_WC_RECV, byteLen: 0, qpNum: this.qpNum });
    }
    if (this.srq !== undefined && !this.lastWqeReported) {
      this.lastWqeReported = true;
      this.env.asyncEvent(this, v.IBV_EVENT_QP_LAST_WQE_REACHED);
    }
    this.env.world.record(this.env.machine, 'rdma.qp_error', { qpn: this.qpNum, status });
  }

  /** ibv_destroy_qp: stops timers; nothing more completes. */
  destroy(): void {
    this.stopTimer();
    this.state = v.IBV_QPS_RESET;
  }
}

/** ibv_qp_init_attr as the verbs stack takes it (CQ and SRQ handles, capacities). */
export interface QpInit {
  sendCq: number;
  recvCq: number;
  srq?: number;
  caps: QpCaps;
  sqSigAll?: boolean;
}
