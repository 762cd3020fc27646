/**
 * What the tcp-zcopy-disconnect views draw, reduced from the trace alone (no DOM; the node tests
 * feed it a CLI run's trace): every NVMe/TCP target request by its upstream state with
 * pdu_in_use, the qpairs and the controller with what happened to them over virtual time (link
 * down/up, keep-alive expiry, ack_timeout's ETIMEDOUT, destruction), the wire, and the counters.
 */
import type { TraceEvent } from '../../../../sim/trace.js';
import { errnoName, TCP_REQUEST_STATE_COMPLETED, TCP_REQUEST_STATE_FREE } from './names.js';
import { WireModel } from './wire.js';

export interface TcpReq {
  ptr: number;
  tqpair: number;
  state: number;
  /** Virtual time it entered `state`. */
  since: number;
  /** Set by writing one of its PDUs, cleared by _req_pdu_write_done (spec §1.4). */
  pduInUse: boolean;
  lastPdu?: { type: number; len: number; t: number };
  /** err of the last _req_pdu_write_done (0 or a negative errno). */
  writeErr?: number;
  /** zcopy phase reported by "Delaying completion" (nvmf_tcp_req_delay_completion). */
  zcopyPhase?: number;
  delayed: number;
  /** When nvmf_qpair_abort_pending_zcopy_reqs freed it (keep-alive expiry path). */
  abortedAt?: number;
  /** Times it was taken from the free queue. */
  uses: number;
  /** States since it last left FREE, oldest first. */
  trail: number[];
}

export interface Qpair {
  ptr: number;
  /** Initiator port of its TCP connection. */
  port?: number;
  qid?: number;
  /** enum spdk_nvmf_qpair_state (NVMF_QPAIR_STATE). */
  state: number;
  /** enum nvmf_tcp_qpair_state (TCP_QP_STATE). */
  tcpState: number;
  disconnectAt?: number;
  /** _nvmf_tcp_qpair_destroy: the tqpair is freed. */
  destroyedAt?: number;
  freeAtDestroy?: { free: number; total: number };
}

export interface Ctrlr {
  ptr: number;
  cntlid: number;
  katoMs: number;
  createdAt: number;
  keepAliveExpiredAt?: number;
  destroyedAt?: number;
}

export type MarkKind = 'link-down' | 'link-up' | 'connect' | 'kato' | 'etimedout' | 'disconnect' | 'qpair-destroyed' | 'ctrlr-created' | 'ctrlr-destroyed';

export interface Mark {
  t: number;
  kind: MarkKind;
  label: string;
  /** The lane it belongs to: 'link', 'ctrlr', or a qpair's qid. */
  lane: 'link' | 'ctrlr' | number;
}

export const COUNTER_LABELS: Record<string, string> = {
  stuckRequests: 'requests COMPLETED with pdu_in_use',
  requestsNotFree: 'requests not FREE (live qpairs)',
  delayedCompletions: '"Delaying completion" taken',
  retransmits: 'TCP retransmits',
  drops: 'frames dropped (link down)',
  bytesToHost: 'payload bytes target → host',
  bytesToTarget: 'payload bytes host → target',
  c2hData: 'C2HData PDUs written',
  capsuleCmds: 'CapsuleCmd PDUs written',
  keepAlives: 'Keep Alive sent by the host',
  zcNotifications: 'zero-copy notifications',
  qpairsDestroyed: 'qpairs destroyed',
};

export const ALARMS = new Set(['stuckRequests']);

export class TzdModel {
  readonly reqs = new Map<number, TcpReq>();
  readonly qpairs = new Map<number, Qpair>();
  readonly ctrlrs = new Map<number, Ctrlr>();
  readonly marks: Mark[] = [];
  readonly wire = new WireModel((p) => this.connName(p));
  now = 0;
  /** When the host's link first went down (-1: not yet). */
  cutAt = -1;
  private keepAlives = 0;
  private delayedCompletions = 0;
  private readonly portQpair = new Map<number, number>();

  apply(events: readonly TraceEvent[], now?: number): void {
    for (const e of events) {
      this.now = Math.max(this.now, e.t);
      this.wire.apply(e);
      this.one(e);
    }
    if (now !== undefined) this.now = Math.max(this.now, now);
    this.wire.trim();
  }

  /** The connection of an initiator port, named by its qpair: "admin", "I/O q1". */
  connName(port: number): string {
    const q = this.qpairs.get(this.portQpair.get(port) ?? -1);
    if (q?.qid === undefined) return `:${port}`;
    return q.qid === 0 ? 'admin' : `I/O q${q.qid}`;
  }

  qpairName(q: Qpair | undefined): string {
    if (q === undefined) return '?';
    return q.qid === undefined ? `tqpair 0x${q.ptr.toString(16)}` : q.qid === 0 ? 'admin qpair (qid 0)' : `I/O qpair (qid ${q.qid})`;
  }

  /** Requests of qpairs not yet destroyed. */
  liveReqs(): TcpReq[] {
    return [...this.reqs.values()].filter((r) => this.qpairs.get(r.tqpair)?.destroyedAt === undefined);
  }

  /** The bug's evidence: COMPLETED, waiting for a write callback that never comes. */
  stuck(): TcpReq[] {
    return this.liveReqs().filter((r) => r.state === TCP_REQUEST_STATE_COMPLETED && r.pduInUse);
  }

  katoMs(): number | undefined {
    return [...this.ctrlrs.values()][0]?.katoMs;
  }

  counters(): Record<string, number> {
    const live = this.liveReqs();
    return {
      ...this.wire.counters,
      stuckRequests: this.stuck().length,
      requestsNotFree: live.filter((r) => r.state !== TCP_REQUEST_STATE_FREE).length,
      delayedCompletions: this.delayedCompletions,
      keepAlives: this.keepAlives,
      qpairsDestroyed: [...this.qpairs.values()].filter((q) => q.destroyedAt !== undefined).length,
    };
  }

  private qpair(ptr: number): Qpair {
    let q = this.qpairs.get(ptr);
    if (q === undefined) this.qpairs.set(ptr, (q = { ptr, state: 0, tcpState: 0 }));
    return q;
  }

  private req(ptr: number, tqpair: number, t: number): TcpReq {
    let r = this.reqs.get(ptr);
    if (r === undefined) this.reqs.set(ptr, (r = { ptr, tqpair, state: TCP_REQUEST_STATE_FREE, since: t, pduInUse: false, delayed: 0, uses: 0, trail: [] }));
    return r;
  }

  private mark(t: number, kind: MarkKind, lane: Mark['lane'], label: string): void {
    this.marks.push({ t, kind, lane, label });
  }

  private one(e: TraceEvent): void {
    const f = e.f ?? {};
    const num = (k: string): number => Number(f[k] ?? 0);
    if (e.ev === 'nvme_ctrlr_keep_alive' && e.m === 'host') this.keepAlives++;
    if ((e.ev === 'link.down' || e.ev === 'link.up') && e.m !== 'world') {
      const down = e.ev === 'link.down';
      if (down && this.cutAt < 0) this.cutAt = e.t;
      this.mark(e.t, down ? 'link-down' : 'link-up', 'link', `${e.m} ${String(f['dev'])} link ${down ? 'down' : 'up'}`);
      return;
    }
    if (e.m !== 'target') return;
    switch (e.ev) {
      case 'nvmf_tcp_handle_connect':
        this.qpair(num('a')).port = num('c');
        this.portQpair.set(num('c'), num('a'));
        break;
      case 'nvmf_ctrlr_cmd_connect': {
        const q = this.qpair(num('a'));
        q.qid = num('b');
        this.mark(e.t, 'connect', q.qid, `Connect qid ${q.qid}`);
        break;
      }
      case 'nvmf_ctrlr_create':
        this.ctrlrs.set(num('a'), { ptr: num('a'), cntlid: num('b'), katoMs: num('c'), createdAt: e.t });
        this.mark(e.t, 'ctrlr-created', 'ctrlr', `controller cntlid ${num('b')} created (KATO ${num('c') / 1000} s)`);
        break;
      case 'NVMF_QPAIR_STATE':
        this.qpair(num('a')).state = num('c');
        break;
      case 'TCP_QP_STATE':
        this.qpair(num('a')).tcpState = num('c');
        break;
      case 'TCP_REQ_STATE': {
        const r = this.req(num('a'), num('d'), e.t);
        const to = num('c');
        if (num('b') === TCP_REQUEST_STATE_FREE && to !== TCP_REQUEST_STATE_FREE) {
          r.uses++;
          r.trail = [];
          r.delayed = 0;
          r.abortedAt = undefined;
          r.zcopyPhase = undefined;
        }
        if (to !== r.state) r.since = e.t;
        r.state = to;
        if (r.trail[r.trail.length - 1] !== to) r.trail.push(to);
        break;
      }
      case 'nvmf_tcp_write_pdu':
        if (num('d') !== 0) {
          const r = this.req(num('d'), num('a'), e.t);
          r.pduInUse = true;
          r.lastPdu = { type: num('b'), len: num('c'), t: e.t };
        }
        break;
      case '_req_pdu_write_done': {
        const r = this.req(num('a'), num('d'), e.t);
        r.pduInUse = false;
        r.writeErr = num('b') | 0;
        break;
      }
      case 'nvmf_tcp_req_delay_completion': {
        const r = this.req(num('a'), num('d'), e.t);
        r.delayed++;
        r.zcopyPhase = num('b');
        this.delayedCompletions++;
        break;
      }
      case 'nvmf_qpair_abort_pending_zcopy_reqs':
        this.req(num('b'), num('a'), e.t).abortedAt = e.t;
        break;
      case 'nvmf_ctrlr_keep_alive_poll': {
        const c = this.ctrlrs.get(num('a'));
        if (c !== undefined && c.keepAliveExpiredAt === undefined) c.keepAliveExpiredAt = e.t;
        this.mark(e.t, 'kato', 'ctrlr', `keep-alive timeout: cntlid ${num('b')} disconnects its qpairs`);
        break;
      }
      case 'tcp.abort': {
        const name = errnoName(num('err'));
        const why = String(f['why']) === 'user_timeout' ? 'TCP_USER_TIMEOUT (ack_timeout)' : String(f['why']);
        this.mark(e.t, 'etimedout', 'link', `socket fd ${num('fd')} aborted: ${name} by ${why}`);
        break;
      }
      case 'spdk_nvmf_qpair_disconnect': {
        const q = this.qpair(num('a'));
        q.disconnectAt ??= e.t;
        this.mark(e.t, 'disconnect', q.qid ?? num('b'), `spdk_nvmf_qpair_disconnect (${this.qpairName(q)})`);
        break;
      }
      case '_nvmf_tcp_qpair_destroy': {
        const q = this.qpair(num('a'));
        q.destroyedAt = e.t;
        q.freeAtDestroy = { free: num('b'), total: num('c') };
        this.mark(e.t, 'qpair-destroyed', q.qid ?? -1, `${this.qpairName(q)} destroyed (${num('b')} of ${num('c')} requests FREE)`);
        break;
      }
      case 'nvmf_ctrlr_destruct': {
        const c = this.ctrlrs.get(num('a'));
        if (c !== undefined) c.destroyedAt = e.t;
        this.mark(e.t, 'ctrlr-destroyed', 'ctrlr', `controller cntlid ${num('b')} destroyed`);
        break;
      }
    }
  }
}
