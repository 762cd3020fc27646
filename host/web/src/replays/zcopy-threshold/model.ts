/**
 * What the zcopy-threshold views draw, derived from the trace alone (no DOM; the node tests feed it
 * a CLI run's trace): each request's state by its upstream list and the §3.5 state names, every
 * sendmsg chunk with its zero-copy id, which ids the kernel notified and SPDK read, the wire as rows
 * of a sequence diagram, and the counters.
 */
import type { TraceEvent } from '../../../../sim/trace.js';
import type { Row } from '../../views/sequence.js';

export type ReqList = 'queued_reqs' | 'pending_reqs' | 'complete';

export interface Req {
  write: number;
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
  t: number;
  start: number;
  end: number;
  zc: boolean;
  id: number;
}

export const COUNTER_LABELS: Record<string, string> = {
  dataSegments: 'data segments',
  acks: 'pure ACKs',
  wireBytes: 'payload bytes host → target',
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

const MAX_ROWS = 3000;

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

export class ZcopyModel {
  readonly reqs: Req[] = [];
  readonly chunks: Chunk[] = [];
  /** Zero-copy ids SPDK has read from the error queue. */
  readonly released = new Set<number>();
  readonly counters: Record<string, number> = Object.fromEntries(Object.keys(COUNTER_LABELS).map((k) => [k, 0]));
  rows: Row[] = [];
  rowsDropped = 0;
  /** Bytes the host's kernel accepted so far (stream offset). */
  sent = 0;
  private queuedBytes = 0;
  private lastSubmit = -1;
  private readonly byPtr = new Map<number, Req>();
  private hostEnd = '';
  private readonly isn = new Map<string, number>();

  apply(events: readonly TraceEvent[]): void {
    for (const e of events) this.one(e);
    if (this.rows.length > MAX_ROWS) {
      this.rowsDropped += this.rows.length - MAX_ROWS;
      this.rows = this.rows.slice(-MAX_ROWS);
    }
  }

  /** Zero-copy ids that carried bytes of `r`. */
  zcIds(r: Req): number[] {
    return this.chunks.filter((c) => c.zc && c.end > r.start && c.start < r.end).map((c) => c.id);
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
    const waiting = this.zcIds(r).filter((id) => !this.released.has(id));
    if (r.list === 'queued_reqs') {
      const off = Math.max(0, Math.min(this.sent, r.end) - r.start);
      if (off === 0) return { name: 'Q0', detail: 'nothing sent yet' };
      return { name: 'QP', detail: `offset ${off} of ${r.end - r.start}${waiting.length > 0 ? `; zero-copy id ${idRanges(waiting)} unreleased` : ''}` };
    }
    if (waiting.length > 0) return { name: 'PZ', detail: `waits for notification of id ${idRanges(waiting)}` };
    return { name: 'PL', detail: 'fully sent; waits in line' };
  }

  private one(e: TraceEvent): void {
    const f = e.f ?? {};
    const num = (k: string): number => Number(f[k] ?? 0);
    if (e.m === 'wire') {
      if (e.ev === 'tcp.seg' || e.ev === 'tcp.drop') this.segment(e.t, f, e.ev === 'tcp.drop');
      return;
    }
    const side = e.m === 'host' ? 'host' : 'target';
    switch (e.ev) {
      case 'tcp.connect':
        if (e.m === 'host') this.hostEnd = String(f['src']);
        break;
      case 'sock_verify.submit':
        if (e.m === 'host') this.lastSubmit = num('a');
        break;
      case 'spdk_sock_request_queue': {
        if (e.m !== 'host') break;
        const len = num('b');
        const r: Req = { write: this.lastSubmit, ptr: num('a'), start: this.queuedBytes, end: this.queuedBytes + len, list: 'queued_reqs', queuedAt: e.t };
        this.queuedBytes += len;
        this.reqs.push(r);
        this.byPtr.set(r.ptr, r);
        break;
      }
      case 'spdk_sock_request_pend': {
        const r = e.m === 'host' ? this.byPtr.get(num('a')) : undefined;
        if (r !== undefined) r.list = 'pending_reqs';
        break;
      }
      case 'spdk_sock_request_complete': {
        const r = e.m === 'host' ? this.byPtr.get(num('a')) : undefined;
        if (r === undefined || r.list === 'complete') break;
        r.list = 'complete';
        r.completedAt = e.t;
        r.err = num('b') | 0;
        this.byPtr.delete(r.ptr);
        this.counters['completions']!++;
        const early = this.zcIds(r).filter((id) => !this.released.has(id));
        if (early.length > 0) {
          r.premature = early;
          this.counters['prematureCompletions']!++;
        }
        this.rows.push({ t: e.t, kind: 'note', side, tone: early.length > 0 ? 'bad' : 'done',
          label: `complete write ${r.write}${early.length > 0 ? `: id ${idRanges(early)} in flight!` : ''}` });
        break;
      }
      case 'sendmsg': {
        const n = num('accepted');
        if (e.m !== 'host' || n <= 0) break;
        const zc = num('zc') === 1;
        const c: Chunk = { call: this.chunks.length, t: e.t, start: this.sent, end: this.sent + n, zc, id: zc ? num('id') : -1 };
        this.chunks.push(c);
        this.sent += n;
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
        for (let id = lo; ; id = (id + 1) >>> 0) {
          this.released.add(id);
          if (id === hi) break;
        }
        this.counters['notificationsRead']!++;
        this.rows.push({ t: e.t, kind: 'note', side, tone: 'read', label: `_sock_check_zcopy reads [${lo},${hi}]` });
        break;
      }
      case 'crash':
        this.rows.push({ t: e.t, kind: 'note', side, tone: 'bad', label: `${e.m} crashed (${String(f['kind'])})` });
        break;
      case 'tcp.retransmit':
        this.counters['retransmits']!++;
        this.rows.push({ t: e.t, kind: 'note', side, tone: 'retx', label: `retransmit ${this.rel(side === 'host', num('seq'))} len ${num('len')}` });
        break;
    }
  }

  private segment(t: number, f: Record<string, string | number | boolean>, dropped: boolean): void {
    const src = String(f['src']);
    const toTarget = this.hostEnd !== '' ? src === this.hostEnd : true;
    const flags = String(f['flags']);
    const len = Number(f['len']);
    if (flags.includes('S')) this.isn.set(src, Number(f['seq']));
    let label: string;
    if (len > 0) {
      label = `seq ${this.rel(toTarget, Number(f['seq']))} len ${len}`;
      if (toTarget && !dropped) this.counters['wireBytes']! += len;
      this.counters['dataSegments']!++;
    } else if (flags.includes('S') || flags.includes('F') || flags.includes('R')) {
      label = flags;
    } else {
      label = `ACK ${this.rel(!toTarget, Number(f['ack']))}`;
      this.counters['acks']!++;
    }
    if (dropped) this.counters['drops']!++;
    this.rows.push({ t, kind: 'seg', toTarget, label, data: len > 0, dropped: dropped ? String(f['reason'] ?? 'dropped') : undefined });
  }

  /** A sequence number relative to the sender's first data byte (the host's for `fromHost`). */
  private rel(fromHost: boolean, seq: number): string {
    const isnKey = [...this.isn.keys()].find((k) => (k === this.hostEnd) === fromHost);
    const isn = isnKey !== undefined ? this.isn.get(isnKey)! : undefined;
    return isn === undefined ? String(seq) : String(((seq - isn - 1) >>> 0));
  }
}
