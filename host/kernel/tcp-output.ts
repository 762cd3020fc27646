/** TCP transmission: building segments and frames, Nagle (Minshall's variant, as Linux),
 *  congestion/receive window limits, retransmission (RTO with backoff, fast retransmit), persist
 *  probes, and when ACKs go out (immediate, delayed, on read; policy in tcp-delack.ts). */
import * as abi from '../gen/abi.js';
import { EMPTY_PAYLOAD, StaticFrame, TH_ACK, TH_FIN, TH_PSH, TH_RST, TH_SYN, type Frame, type TcpSegment } from '../net/segment.js';
import type { TcpSocket } from './tcp-socket.js';
import type { Piece } from './send-buffer.js';
import type { ZcRecord } from './zerocopy.js';
import { takePayload } from '../net/payload-pool.js';
import {
  RTO_INIT_US, RTO_MAX_US, RTO_MIN_US, TCP_RETRIES2, TCP_SYNACK_RETRIES, TCP_SYN_RETRIES,
  retriesTimeoutUs,
} from './tcp-timers.js';

/** A data segment whose bytes are read from the send buffer when the NIC starts sending it. */
class DataFrame implements Frame {
  constructor(
    readonly seg: TcpSegment,
    private readonly s: TcpSocket,
    private readonly pieces: Piece[],
    private readonly recs: ZcRecord[] | undefined,
  ) {
    if (recs !== undefined) for (const r of recs) r.inflight++;
  }

  pooled = false;

  materialize(): Uint8Array {
    const sb = this.s.sb;
    let b = sb.ownedView(this.pieces);
    if (b === undefined) {
      const pooled = takePayload(this.seg.len);
      this.pooled = pooled !== undefined;
      b = sb.copyPieces(this.pieces, pooled ?? new Uint8Array(this.seg.len));
    }
    this.s.c.bytesOut += b.length;
    return b;
  }

  release(): void {
    if (this.recs !== undefined) for (const r of this.recs) this.s.zc.released(r);
  }
}

function segment(s: TcpSocket, seq: number, flags: number, len: number): TcpSegment {
  const wnd = s.rcvWindow();
  return {
    src: s.local!.addr,
    sport: s.local!.port,
    dst: s.remote!.addr,
    dport: s.remote!.port,
    seq,
    ack: flags & TH_ACK ? s.ackNumber() : 0,
    flags,
    wnd,
    mss: 0,
    len,
    payload: EMPTY_PAYLOAD,
  };
}

function transmit(s: TcpSocket, f: Frame): void {
  s.c.segsOut++;
  if (f.seg.len > 0) s.ack.dataSent(s.world.now);
  if (f.seg.flags & TH_ACK) {
    s.ack.ackSent();
    s.delackTimer.clear();
    s.lastAdvWnd = f.seg.wnd;
    s.rcvWup = s.rcvNxt;
  }
  s.dev!.transmit(f);
}

/** Sequence number for a segment that carries no new data. */
function seqNext(s: TcpSocket): number {
  const base = s.sndWire(s.sndNxt);
  return s.finSent && s.sndNxt === s.sb.end ? (base + 1) >>> 0 : base;
}

export function sendAck(s: TcpSocket): void {
  transmit(s, new StaticFrame(segment(s, seqNext(s), TH_ACK, 0)));
}

export function sendRst(s: TcpSocket): void {
  if (s.remote === undefined || s.dev === undefined) return;
  s.record('tcp.rst_out', {});
  transmit(s, new StaticFrame(segment(s, seqNext(s), TH_RST | TH_ACK, 0)));
}

export function sendSyn(s: TcpSocket): void {
  const synAck = s.state === 'SYN_RECV';
  const seg = segment(s, s.iss, synAck ? TH_SYN | TH_ACK : TH_SYN, 0);
  seg.mss = s.dev!.mss;
  if (synAck) seg.ack = (s.irs + 1) >>> 0;
  transmit(s, new StaticFrame(seg));
  s.rtoTimer.set(s.world.now + Math.min(RTO_MAX_US, RTO_INIT_US * 2 ** s.backoff));
}

/** Sends [off, off+len) (plus FIN when `fin`); len may be 0 for a lone FIN. */
function sendData(s: TcpSocket, off: number, len: number, fin: boolean): void {
  const end = off + len + (fin ? 1 : 0);
  const retrans = off < s.sndMax || (fin && len === 0 && s.finEverSent);
  let flags = TH_ACK;
  if (fin) flags |= TH_FIN;
  if (len > 0 && off + len === s.sb.end) flags |= TH_PSH;
  const seg = segment(s, s.sndWire(off), flags, len);
  const f =
    len > 0 ? new DataFrame(seg, s, s.sb.pieces(off, len), s.zc.overlapping(off, off + len)) : new StaticFrame(seg);
  if (retrans) {
    s.c.retransmits++;
    s.rttOff = -1;
    s.record('tcp.retransmit', { seq: seg.seq, len, fin: fin ? 1 : 0 });
  }
  const lastEnd = s.sentEnds.length > s.sentHead ? s.sentEnds[s.sentEnds.length - 1]! : s.sndUna;
  if (end > lastEnd) {
    // Minshall: remember where the last sub-MSS segment of new data ends.
    if (len % s.mss !== 0) s.sndSml = off + len;
    s.sentEnds.push(end);
    s.sentTimes.push(s.world.now);
    if (s.rttOff < 0 && !retrans) {
      s.rttOff = end;
      s.rttStart = s.world.now;
    }
  }
  if (fin) s.finSent = s.finEverSent = true;
  transmit(s, f);
}

function canSend(s: TcpSocket): boolean {
  switch (s.state) {
    case 'ESTABLISHED':
    case 'CLOSE_WAIT':
    case 'FIN_WAIT1':
    case 'CLOSING':
    case 'LAST_ACK':
      return true;
    default:
      return false;
  }
}

/** Sends whatever the windows, Nagle and the queue allow; arms RTO and persist timers. */
export function output(s: TcpSocket): void {
  if (!canSend(s)) return;
  const maxSeg = s.dev!.maxFrame(s.mss);
  for (;;) {
    const avail = s.sb.end - s.sndNxt;
    if (avail > 0) {
      const limit = s.sndUna + Math.min(s.sndWnd, s.cwnd) - s.sndNxt;
      let len = Math.min(avail, maxSeg, limit);
      if (len <= 0) break;
      if (len === avail && len % s.mss !== 0 && nagleHolds(s)) {
        // Send the whole segments now; the sub-MSS tail waits for the ACK (tcp_mss_split_point).
        len -= len % s.mss;
        if (len === 0) break;
      }
      const fin = s.finQueued && !s.finSent && s.sndNxt + len === s.sb.end;
      sendData(s, s.sndNxt, len, fin);
      s.sndNxt += len;
      if (s.sndNxt > s.sndMax) s.sndMax = s.sndNxt;
      continue;
    }
    if (s.finQueued && !s.finSent) sendData(s, s.sndNxt, 0, true);
    break;
  }
  if (s.outstanding()) {
    if (!s.rtoTimer.armed) armRto(s);
  } else if (s.sb.end > s.sndNxt && s.sndWnd === 0 && !s.persistTimer.armed) {
    s.persistTimer.set(s.world.now + s.rtt.backedOff(s.probeBackoff));
  }
}

/**
 * Linux tcp_nagle_check with tcp_minshall_check: without TCP_NODELAY, a sub-MSS tail waits only
 * while an earlier sub-MSS segment is still unacknowledged (not merely any data, as in RFC 896).
 * A queued FIN always goes.
 */
function nagleHolds(s: TcpSocket): boolean {
  if (s.nodelay || s.finQueued) return false;
  return s.sndSml > s.sndUna && s.sndSml <= s.sndNxt;
}

/** (Re)starts the retransmission timer, clamped so TCP_USER_TIMEOUT fires on time. */
export function armRto(s: TcpSocket): void {
  let t = s.rtt.backedOff(s.backoff);
  if (s.userTimeoutMs > 0 && s.retransStamp >= 0) {
    const left = s.retransStamp + s.userTimeoutMs * 1000 - s.world.now;
    t = Math.min(t, Math.max(1, left));
  }
  s.rtoTimer.set(s.world.now + t);
}

/** Resends the first unacknowledged segment, ignoring the send window as Linux does. */
function retransmitHead(s: TcpSocket): number {
  const len = Math.min(s.mss, s.sndMax - s.sndUna);
  const fin = s.finEverSent && !s.finAcked && s.sndUna + len === s.sb.end;
  if (len > 0 || fin) sendData(s, s.sndUna, len, fin);
  return len;
}

/** Original transmit time of the oldest unacknowledged segment. */
function headSentAt(s: TcpSocket): number {
  while (s.sentHead < s.sentEnds.length && s.sentEnds[s.sentHead]! <= s.sndUna) s.sentHead++;
  if (s.sentHead > 256 && s.sentHead * 2 > s.sentEnds.length) {
    s.sentEnds = s.sentEnds.slice(s.sentHead);
    s.sentTimes = s.sentTimes.slice(s.sentHead);
    s.sentHead = 0;
  }
  return s.sentTimes[s.sentHead] ?? s.world.now;
}

/** Acknowledgement progress drops the send-time history of acked data. */
export function ackedUpTo(s: TcpSocket): void {
  headSentAt(s);
}

export function onRto(s: TcpSocket): void {
  const now = s.world.now;
  if (s.state === 'SYN_SENT' || s.state === 'SYN_RECV') {
    const syn = s.state === 'SYN_SENT';
    const limit = retriesTimeoutUs(syn ? TCP_SYN_RETRIES : TCP_SYNACK_RETRIES, RTO_INIT_US);
    if (now - s.synStart >= limit) {
      if (syn) s.abort(abi.ETIMEDOUT, 'syn');
      else {
        s.record('tcp.synack_timeout', {});
        s.orphan = true;
        s.enterClose();
      }
      return;
    }
    s.synRetries++;
    s.backoff++;
    s.c.rtoFired++;
    s.c.retransmits++;
    s.record('tcp.rto', { backoff: s.backoff, syn: 1 });
    sendSyn(s);
    return;
  }
  if (!s.outstanding() || !canSend(s)) return;
  if (s.retransStamp < 0) s.retransStamp = headSentAt(s);
  const limit = s.userTimeoutMs > 0 ? s.userTimeoutMs * 1000 : retriesTimeoutUs(TCP_RETRIES2, RTO_MIN_US);
  if (now - s.retransStamp >= limit) {
    s.abort(abi.ETIMEDOUT, s.userTimeoutMs > 0 ? 'user_timeout' : 'retries2');
    return;
  }
  s.c.rtoFired++;
  s.record('tcp.rto', { backoff: s.backoff, rto: s.rtt.backedOff(s.backoff), una: s.sndWire(s.sndUna) });
  s.ssthresh = Math.max(Math.floor((s.sndMax - s.sndUna) / 2), 2 * s.mss);
  s.cwnd = s.mss;
  s.dupAcks = 0;
  s.rttOff = -1;
  s.backoff++;
  // Go back to the head: resend one segment now, the rest as ACKs reopen the window.
  const len = retransmitHead(s);
  s.sndNxt = s.sndUna + len;
  if (!(s.finEverSent && !s.finAcked && s.sndNxt === s.sb.end)) s.finSent = false;
  armRto(s);
}

/** Third duplicate ACK: resend the head without waiting for the timer. */
export function fastRetransmit(s: TcpSocket): void {
  s.c.fastRetransmits++;
  s.ssthresh = Math.max(Math.floor((s.sndMax - s.sndUna) / 2), 2 * s.mss);
  s.cwnd = s.ssthresh;
  retransmitHead(s);
}

/** Zero-window probe: an old sequence number makes the receiver answer with its window. */
export function onPersist(s: TcpSocket): void {
  if (!canSend(s) || s.sb.end <= s.sndNxt) return;
  if (s.sndWnd > 0) {
    output(s);
    return;
  }
  s.c.probes++;
  s.record('tcp.probe', { backoff: s.probeBackoff });
  transmit(s, new StaticFrame(segment(s, (s.sndWire(s.sndUna) - 1) >>> 0, TH_ACK, 0)));
  s.probeBackoff++;
  s.persistTimer.set(s.world.now + s.rtt.backedOff(s.probeBackoff));
}

export function onDelack(s: TcpSocket): void {
  if (!s.ack.scheduled || !s.synchronized) return;
  s.ack.delackFired(s.rtt.rto);
  sendAck(s);
}

/**
 * After the reader took `copied` bytes (Linux __tcp_cleanup_rbuf): send the owed ACK if the read
 * makes it due (tcp-delack.ts ackOnRead). Otherwise advertise the window when the read opened it
 * "significantly": only once the window the peer still sees has fallen to half the buffer or
 * less, and the new one is at least twice that. A window below one MSS and below half the buffer
 * is advertised as 0 (silly window avoidance), so it reopens nothing.
 */
export function cleanupRbuf(s: TcpSocket, copied: number): void {
  if (s.synchronized && s.ack.ackOnRead(copied, s.rcvNxt - s.rcvWup, s.rq.bytes === 0)) {
    sendAck(s);
    return;
  }
  if (s.state !== 'ESTABLISHED' && s.state !== 'FIN_WAIT1' && s.state !== 'FIN_WAIT2') return;
  const seen = Math.max(0, s.rcvWup + s.lastAdvWnd - s.rcvNxt);
  if (2 * seen > s.rcvBuf) return;
  let wnd = s.rcvWindow();
  if (wnd < s.mss && wnd < s.rcvBuf >> 1) wnd = 0;
  if (wnd > 0 && wnd >= 2 * seen) sendAck(s);
}

/**
 * After in-order data (or a FIN) arrived (Linux __tcp_ack_snd_check): ACK at once when `now`
 * (FIN, a filled hole), with TCP_QUICKACK, when more than one full segment (rcv_mss) is
 * unacknowledged, in quick-ack mode, or while out-of-order data waits; otherwise delay it.
 */
export function ackSndCheck(s: TcpSocket, now: boolean): void {
  const a = s.ack;
  a.scheduled = true;
  if (now || s.quickack || s.rcvNxt - s.rcvWup > a.rcvMss || a.inQuickack() || !s.ooo.empty) {
    sendAck(s);
    return;
  }
  sendDelayedAck(s);
}

/** tcp_send_delayed_ack: arm (or pull in) the timer; an ACK whose timer is about to fire anyway
 *  goes now. */
function sendDelayedAck(s: TcpSocket): void {
  const now = s.world.now;
  const ato = s.ack.delackTimeout(s.rtt.srtt);
  let at = now + ato;
  if (s.delackTimer.armed) {
    if (s.delackTimer.deadline <= now + Math.floor(ato / 4)) {
      sendAck(s);
      return;
    }
    at = Math.min(at, s.delackTimer.deadline);
  }
  s.delackTimer.set(at);
}

/** RST in reply to a segment that matches no connection (or an unacceptable one). */
export function rstFor(seg: TcpSegment): TcpSegment | undefined {
  if (seg.flags & TH_RST) return undefined;
  const hasAck = (seg.flags & TH_ACK) !== 0;
  const consumed = seg.len + (seg.flags & TH_SYN ? 1 : 0) + (seg.flags & TH_FIN ? 1 : 0);
  return {
    src: seg.dst,
    sport: seg.dport,
    dst: seg.src,
    dport: seg.sport,
    seq: hasAck ? seg.ack : 0,
    ack: hasAck ? 0 : (seg.seq + consumed) >>> 0,
    flags: hasAck ? TH_RST : TH_RST | TH_ACK,
    wnd: 0,
    mss: 0,
    len: 0,
    payload: EMPTY_PAYLOAD,
  };
}
