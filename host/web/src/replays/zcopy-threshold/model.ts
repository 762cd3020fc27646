/**
 * What the zcopy-threshold views draw, derived from the trace alone (no DOM; the node tests feed it
 * a CLI run's trace): each request's state by its upstream list and the §3.5 state names, every
 * sendmsg chunk with its zero-copy id, which ids the kernel notified and SPDK read, the wire as rows
 * of a sequence diagram, and the counters. The zero-copy sender is the host in `sock` mode (its
 * writes) and the target in `nvme-tcp` mode (its PDUs, C2HData the one that carries a READ's data);
 * streams, ids and notifications are kept per socket, since the target has one per qpair.
 */
import type { TraceEvent } from '../../../../sim/trace.js';
import type { Row } from '../../views/sequence.js';
import { pduType } from '../tcp-zcopy-disconnect/names.js';

export type ReqList = 'queued_reqs' | 'pending_reqs' | 'complete';

export interface Req {
  /** The write's index (sock mode), -1 for a PDU. */
  write: number;
  /** "write 3" or "C2HData 2": what the request carries. */
  label: string;
  /** Address of the struct spdk_sock the request is queued on. */
  sock: number;
  /** Address of the struct spdk_sock_request. */
  ptr: number;
  /** Stream offsets of the request's bytes on the socket, [start, end). */
  start: number;
  end: number;
  list: ReqList;
  queuedAt: number;
  completedAt?: number;
  err?: number;
  /** Zero-copy ids not yet read back by _sock_check_zcopy when cb_fn ran (the bug). */
  premature?: number[];
}

export interface Chunk {
  call: number;
  sock: number;
  t: number;
  start: number;
  end: number;
  zc: boolean;
  id: number;
}

export const COUNTER_LABELS: Record<string, string> = {
  dataSegments: 'data segments',
  acks: 'pure ACKs',
  wireBytes: 'payload bytes the sender sent',
  retransmits: 'retransmits',
  drops: 'dropped frames',
  sendmsgZeroCopy: 'sendmsg MSG_ZEROCOPY',
  sendmsgCopy: 'sendmsg copy',
  notificationsQueued: 'notifications queued (kernel)',
  notificationsRead: 'notifications read (_sock_check_zcopy)',
  completions: 'requests completed',
  prematureCompletions: 'completed before notification',
  mismatchedWrites: 'writes with wrong bytes',
};

/** Rows kept for the wire view (it draws only those in sight, so all of a run fit). */
const MAX_ROWS = 500_000;

/** One socket's send stream on the sender. */
interface Stream {
  queued: number;
  sent: number;
  released: Set<number>;
}

/** "3", "3..9" or "3..9, 12": consecutive ids collapsed. */
export function idRanges(ids: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    out.push(i === j ? String(ids[i]) : `${ids[i]}..${ids[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

export type Sender = 'host' | 'target';

export class ZcopyModel {
  readonly reqs: Req[] = [];
  readonly chunks: Chunk[] = [];
  readonly counters: Record<string, number> = Object.fromEntries(Object.keys(COUNTER_LABELS).map((k) => [k, 0]));
  rows: Row[] = [];
  rowsDropped = 0;
  private readonly streams = new Map<number, Stream>();
  /** The sender's socket of each fd, learnt from the first sendmsg after a request was queued. */
  private readonly fdSock = new Map<number, number>();
  private lastSock = 0;
  private lastSubmit = -1;
  private lastPdu = -1;
  private readonly pduCount = new Map<number, number>();
  private readonly byPtr = new Map<number, Req>();
  /** Initiator ends ("ip:port") of every connection the host opened. */
  private readonly hostEnds = new Set<string>();
  /** Initial sequence number by the sending end ("ip:port"). */
  private readonly isn = new Map<string, number>();

  constructor(readonly sender: Sender = 'host') {}

  apply(events: readonly TraceEvent[]): void {
    for (const e of events) this.one(e);
    if (this.rows.length > MAX_ROWS) {
      this.rowsDropped += this.rows.length - MAX_ROWS;
      this.rows = this.rows.slice(-MAX_ROWS);
    }
  }

  /** Bytes of the sender's sockets the kernel accepted so far. */
  get sent(): number {
    let n = 0;
    for (const st of this.streams.values()) n += st.sent;
    return n;
  }

  private stream(sock: number): Stream {
    let st = this.streams.get(sock);
    if (st === undefined) this.streams.set(sock, (st = { queued: 0, sent: 0, released: new Set() }));
    return st;
  }

  /** True once SPDK read the notification of a zero-copy chunk. */
  isReleased(c: Chunk): boolean {
    return this.streams.get(c.sock)?.released.has(c.id) ?? false;
  }

  /** Ids SPDK read back on a request's socket. */
  releasedOf(r: Req): ReadonlySet<number> {
    return this.streams.get(r.sock)?.released ?? new Set();
  }

  /** Zero-copy ids that carried bytes of `r`. */
  zcIds(r: Req): number[] {
    return this.chunks.filter((c) => c.zc && c.sock === r.sock && c.end > r.start && c.start < r.end).map((c) => c.id);
  }

  /** The §3.5 state (Q0, QP, PZ, PL, DONE) and a few words on what the request waits for. */
  state(r: Req): { name: string; detail: string } {
    if (r.list === 'complete') {
      if (r.err !== undefined && r.err !== 0) return { name: 'ABORT', detail: `cb_fn(${r.err})` };
      if (r.premature !== undefined && r.premature.length > 0) {
        return { name: 'DONE', detail: `cb_fn(0) while zero-copy id ${idRanges(r.premature)} still in flight` };
      }
      return { name: 'DONE', detail: 'cb_fn(0)' };
    }
    const released = this.releasedOf(r);
    const waiting = this.zcIds(r).filter((id) => !released.has(id));
    if (r.list === 'queued_reqs') {
      const off = Math.max(0, Math.min(this.stream(r.sock).sent, r.end) - r.start);
      if (off === 0) return { name: 'Q0', detail: 'nothing sent yet' };
      return { name: 'QP', detail: `offset ${off} of ${r.end - r.start}${waiting.length > 0 ? `; zero-copy id ${idRanges(waiting)} unreleased` : ''}` };
    }
    if (waiting.length > 0) return { name: 'PZ', detail: `waits for notification of id ${idRanges(waiting)}` };
    return { name: 'PL', detail: 'fully sent; waits in line' };
  }

  /** Index in `rows` of the first completion before its notification (the bug's moment), or -1. */
  firstPrematureRow(): number {
    return this.rows.findIndex((r) => r.kind === 'note' && r.tone === 'bad' && r.label.startsWith('complete'));
  }

  private one(e: TraceEvent): void {
    const f = e.f ?? {};
    const num = (k: string): number => Number(f[k] ?? 0);
    if (e.m === 'wire') {
      if (e.ev === 'tcp.seg' || e.ev === 'tcp.drop') this.segment(e.t, f, e.ev === 'tcp.drop');
      return;
    }
    const side = e.m === 'host' ? 'host' : 'target';
    if (e.ev === 'tcp.connect' && e.m === 'host') this.hostEnds.add(String(f['src']));
    if (e.ev === 'crash') this.rows.push({ t: e.t, kind: 'note', side, tone: 'bad', label: `${e.m} crashed (${String(f['kind'])})` });
    if (e.ev === 'tcp.retransmit') {
      this.counters['retransmits']!++;
      this.rows.push({ t: e.t, kind: 'note', side, tone: 'retx', label: `retransmit len ${num('len')}` });
    }
    if (e.m !== this.sender) return;
    switch (e.ev) {
      case 'sock_verify.submit':
        this.lastSubmit = num('a');
        break;
      case 'nvmf_tcp_write_pdu':
        this.lastPdu = num('b');
        break;
      case 'spdk_sock_request_queue': {
        const len = num('b');
        const sock = num('d');
        const st = this.stream(sock);
        this.lastSock = sock;
        let label: string;
        if (this.sender === 'host') label = `write ${this.lastSubmit}`;
        else {
          const n = this.pduCount.get(this.lastPdu) ?? 0;
          this.pduCount.set(this.lastPdu, n + 1);
          label = `${pduType(this.lastPdu)} ${n}`;
        }
        const r: Req = { write: this.sender === 'host' ? this.lastSubmit : -1, label, sock, ptr: num('a'), start: st.queued, end: st.queued + len, list: 'queued_reqs', queuedAt: e.t };
        st.queued += len;
        this.reqs.push(r);
        this.byPtr.set(r.ptr, r);
        break;
      }
      case 'spdk_sock_request_pend': {
        const r = this.byPtr.get(num('a'));
        if (r !== undefined) r.list = 'pending_reqs';
        break;
      }
      case 'spdk_sock_request_complete': {
        const r = this.byPtr.get(num('a'));
        if (r === undefined || r.list === 'complete') break;
        r.list = 'complete';
        r.completedAt = e.t;
        r.err = num('b') | 0;
        this.byPtr.delete(r.ptr);
        this.counters['completions']!++;
        const released = this.releasedOf(r);
        const early = this.zcIds(r).filter((id) => !released.has(id));
        if (early.length > 0) {
          r.premature = early;
          this.counters['prematureCompletions']!++;
        }
        this.rows.push({ t: e.t, kind: 'note', side, tone: early.length > 0 ? 'bad' : 'done',
          label: `complete ${r.label}${early.length > 0 ? `: id ${idRanges(early)} in flight!` : ''}` });
        break;
      }
      case 'sendmsg': {
        const n = num('accepted');
        if (n <= 0) break;
        const fd = num('fd');
        if (!this.fdSock.has(fd)) this.fdSock.set(fd, this.lastSock);
        const sock = this.fdSock.get(fd)!;
        const st = this.stream(sock);
        const zc = num('zc') === 1;
        const c: Chunk = { call: this.chunks.length, sock, t: e.t, start: st.sent, end: st.sent + n, zc, id: zc ? num('id') : -1 };
        this.chunks.push(c);
        st.sent += n;
        this.counters[zc ? 'sendmsgZeroCopy' : 'sendmsgCopy']!++;
        this.rows.push({ t: e.t, kind: 'note', side, tone: zc ? 'zc' : 'copy',
          label: `sendmsg #${c.call} ${zc ? `MSG_ZEROCOPY id ${c.id}` : 'copy'}: ${n} B` });
        break;
      }
      case 'zc.notify':
        this.counters['notificationsQueued']!++;
        this.rows.push({ t: e.t, kind: 'note', side, tone: 'notify', label: `kernel: notification [${num('lo')},${num('hi')}] queued` });
        break;
      case '_sock_check_zcopy': {
        const lo = num('a') >>> 0;
        const hi = num('b') >>> 0;
        const released = this.stream(num('d')).released;
        for (let id = lo; ; id = (id + 1) >>> 0) {
          released.add(id);
          if (id === hi) break;
        }
        this.counters['notificationsRead']!++;
        this.rows.push({ t: e.t, kind: 'note', side, tone: 'read', label: `_sock_check_zcopy reads [${lo},${hi}]` });
        break;
      }
    }
  }

  private segment(t: number, f: Record<string, string | number | boolean>, dropped: boolean): void {
    const src = String(f['src']);
    const dst = String(f['dst']);
    const toTarget = this.hostEnds.size > 0 ? this.hostEnds.has(src) : true;
    const flags = String(f['flags']);
    const len = Number(f['len']);
    if (flags.includes('S')) this.isn.set(src, Number(f['seq']));
    let label: string;
    if (len > 0) {
      label = `seq ${this.rel(src, Number(f['seq']))} len ${len}`;
      if (toTarget === (this.sender === 'host') && !dropped) this.counters['wireBytes']! += len;
      this.counters['dataSegments']!++;
    } else if (flags.includes('S') || flags.includes('F') || flags.includes('R')) {
      label = flags;
    } else {
      label = `ACK ${this.rel(dst, Number(f['ack']))}`;
      this.counters['acks']!++;
    }
    if (dropped) this.counters['drops']!++;
    this.rows.push({ t, kind: 'seg', toTarget, label, data: len > 0, dropped: dropped ? String(f['reason'] ?? 'dropped') : undefined });
  }

  /** A sequence number relative to the first data byte of the end that sends it. */
  private rel(end: string, seq: number): string {
    const isn = this.isn.get(end);
    return isn === undefined ? String(seq) : String(((seq - isn - 1) >>> 0));
  }
}
