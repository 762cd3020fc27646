/**
 * The wire of the tcp-zcopy-disconnect page as sequence-diagram rows: TCP segments of both
 * connections (admin and I/O, told apart by the initiator's port), frames dropped while the link
 * is down, retransmits and aborts, the PDUs each side writes, zero-copy notifications, and the
 * link going down and up. Also the wire's counters.
 */
import type { TraceEvent } from '../../../../sim/trace.js';
import type { Row } from '../../views/sequence.js';
import { errnoName, pduType } from './names.js';

/** Rows kept for the wire view (it draws only those in sight). */
const MAX_ROWS = 500_000;

type Fields = Record<string, string | number | boolean>;

export class WireModel {
  rows: Row[] = [];
  rowsDropped = 0;
  readonly counters = { segments: 0, bytesToHost: 0, bytesToTarget: 0, drops: 0, retransmits: 0, c2hData: 0, capsuleCmds: 0, zcNotifications: 0 };
  /** Initiator "ip:port" of each connection the host opened, by host fd. */
  private readonly hostEnds = new Set<string>();
  private readonly hostFds = new Map<number, number>();
  private readonly targetFds = new Map<number, number>();
  /** Initial sequence number by direction, "src>dst". */
  private readonly isn = new Map<string, number>();

  /** `conn(port)` names a connection by the initiator's port ("admin", "I/O q1"). */
  constructor(private readonly conn: (port: number) => string) {}

  apply(e: TraceEvent): void {
    const f = e.f ?? {};
    const num = (k: string): number => Number(f[k] ?? 0);
    if (e.m === 'wire') {
      if (e.ev === 'tcp.seg' || e.ev === 'tcp.drop') this.segment(e.t, f, e.ev === 'tcp.drop');
      return;
    }
    const side = e.m === 'host' ? 'host' : 'target';
    if (e.ev === 'crash') this.push({ t: e.t, kind: 'note', side, tone: 'bad', label: `${e.m} crashed (${String(f['kind'])})` });
    switch (e.ev) {
      case 'tcp.connect':
        if (e.m === 'host') {
          this.hostEnds.add(String(f['src']));
          this.hostFds.set(num('fd'), port(String(f['src'])));
        }
        break;
      case 'accept':
        if (e.m === 'target') this.targetFds.set(num('newfd'), port(String(f['peer'])));
        break;
      case 'link.down':
      case 'link.up':
        if (e.m !== 'world') this.push({ t: e.t, kind: 'span', tone: 'link', label: `${e.m} ${String(f['dev'])} link ${e.ev === 'link.down' ? 'DOWN' : 'up'}` });
        break;
      case 'tcp.retransmit':
        this.counters.retransmits++;
        this.push({ t: e.t, kind: 'note', side, tone: 'retx', label: `${this.fdName(side, num('fd'))} retransmit ${num('len')} B${num('fin') === 1 ? ' +FIN' : ''}` });
        break;
      case 'tcp.abort':
        this.push({ t: e.t, kind: 'note', side, tone: 'bad', label: `${this.fdName(side, num('fd'))} aborted: ${errnoName(num('err'))} (${String(f['why'])})` });
        break;
      case 'zc.notify':
        this.counters.zcNotifications++;
        this.push({ t: e.t, kind: 'note', side, tone: 'notify', label: `${this.fdName(side, num('fd'))} zero-copy [${num('lo')},${num('hi')}] released` });
        break;
      case 'nvmf_tcp_write_pdu': {
        const type = num('b');
        if (type === 7) this.counters.c2hData++;
        this.push({ t: e.t, kind: 'note', side, tone: 'pdu', label: `${pduType(type)} ${num('c')} B${num('d') !== 0 ? ` req 0x${num('d').toString(16)}` : ''}` });
        break;
      }
      case 'nvme_tcp_qpair_write_pdu': {
        const type = num('b');
        if (type === 4) this.counters.capsuleCmds++;
        this.push({ t: e.t, kind: 'note', side, tone: 'pdu', label: `${pduType(type)} ${num('c')} B${type === 4 ? ` cid ${num('d')}` : ''}` });
        break;
      }
    }
  }

  /** Keeps the newest rows only. */
  trim(): void {
    if (this.rows.length > MAX_ROWS) {
      this.rowsDropped += this.rows.length - MAX_ROWS;
      this.rows = this.rows.slice(-MAX_ROWS);
    }
  }

  private push(r: Row): void {
    this.rows.push(r);
  }

  private fdName(side: 'host' | 'target', fd: number): string {
    const p = (side === 'host' ? this.hostFds : this.targetFds).get(fd);
    return p === undefined ? `fd ${fd}` : this.conn(p);
  }

  private segment(t: number, f: Fields, dropped: boolean): void {
    const src = String(f['src']);
    const dst = String(f['dst']);
    const toTarget = this.hostEnds.has(src);
    const name = this.conn(port(toTarget ? src : dst));
    const flags = String(f['flags']);
    const len = Number(f['len']);
    if (flags.includes('S')) this.isn.set(`${src}>${dst}`, Number(f['seq']));
    let label: string;
    let ctl = false;
    if (len > 0) {
      label = `${name} seq ${this.rel(`${src}>${dst}`, Number(f['seq']))} len ${len}`;
      if (!dropped) this.counters[toTarget ? 'bytesToTarget' : 'bytesToHost'] += len;
    } else if (/[SFR]/.test(flags)) {
      label = `${name} ${flags}`;
      ctl = true;
    } else {
      label = `${name} ACK ${this.rel(`${dst}>${src}`, Number(f['ack']))}`;
    }
    this.counters.segments++;
    if (dropped) this.counters.drops++;
    this.push({ t, kind: 'seg', toTarget, label, data: len > 0, ctl, dropped: dropped ? String(f['reason'] ?? 'dropped') : undefined });
  }

  /** A sequence number relative to the first data byte of one direction ("src>dst"). */
  private rel(dir: string, seq: number): string {
    const isn = this.isn.get(dir);
    return isn === undefined ? String(seq) : String((seq - isn - 1) >>> 0);
  }
}

function port(end: string): number {
  return Number(end.slice(end.lastIndexOf(':') + 1));
}
