/** TCP segment arrival: handshake (both sides), ACK processing, in-order and out-of-order data,
 *  FIN and RST, per state. */
import * as abi from '../gen/abi.js';
import { TH_ACK, TH_FIN, TH_PSH, TH_RST, TH_SYN, type TcpSegment } from '../net/segment.js';
import { TcpSocket } from './tcp-socket.js';
import * as out from './tcp-output.js';
import { TIME_WAIT_US } from './tcp-timers.js';

/** Called by the stack for a segment addressed to `s` (a listener or a connection). */
export function tcpInput(s: TcpSocket, seg: TcpSegment, reply: (rst: TcpSegment) => void): void {
  s.c.segsIn++;
  switch (s.state) {
    case 'LISTEN':
      listenInput(s, seg, reply);
      return;
    case 'SYN_SENT':
      synSentInput(s, seg, reply);
      return;
    case 'CLOSE': {
      const rst = out.rstFor(seg);
      if (rst !== undefined) reply(rst);
      return;
    }
    default:
      connectedInput(s, seg, reply);
  }
}

function listenInput(l: TcpSocket, seg: TcpSegment, reply: (rst: TcpSegment) => void): void {
  if (seg.flags & TH_RST) return;
  if (seg.flags & TH_ACK || !(seg.flags & TH_SYN)) {
    const rst = out.rstFor(seg);
    if (rst !== undefined) reply(rst);
    return;
  }
  if (l.acceptQ.length + l.synQ.size > l.backlog) {
    l.record('tcp.listen_drop', { src: `${seg.src}:${seg.sport}` });
    return;
  }
  const route = l.host.route(seg.src);
  if (route === undefined) return;
  const ch = new TcpSocket(l.host);
  ch.parent = l;
  ch.local = { addr: seg.dst, port: seg.dport };
  ch.remote = { addr: seg.src, port: seg.sport };
  ch.dev = route.dev;
  inheritOptions(ch, l);
  ch.resetConnection();
  ch.iss = l.host.rng.u32();
  ch.irs = seg.seq;
  ch.mss = Math.min(route.dev.mss, seg.mss > 0 ? seg.mss : 536);
  ch.sndWnd = seg.wnd;
  ch.state = 'SYN_RECV';
  if (!l.host.register(ch)) return;
  l.synQ.add(ch);
  ch.synStart = l.world.now;
  out.sendSyn(ch);
}

/** Accepted sockets start with the listener's options, as on Linux. */
function inheritOptions(ch: TcpSocket, l: TcpSocket): void {
  ch.sndBuf = l.sndBuf;
  ch.rcvBuf = l.rcvBuf;
  ch.nodelay = l.nodelay;
  ch.quickack = l.quickack;
  ch.userTimeoutMs = l.userTimeoutMs;
  ch.priority = l.priority;
  ch.rcvlowat = l.rcvlowat;
  ch.mark = l.mark;
  ch.zc.enabled = l.zc.enabled;
}

function synSentInput(s: TcpSocket, seg: TcpSegment, reply: (rst: TcpSegment) => void): void {
  const hasAck = (seg.flags & TH_ACK) !== 0;
  const ackOk = hasAck && seg.ack === ((s.iss + 1) >>> 0);
  if (hasAck && !ackOk) {
    const rst = out.rstFor(seg);
    if (rst !== undefined) reply(rst);
    return;
  }
  if (seg.flags & TH_RST) {
    if (ackOk) s.abort(abi.ECONNREFUSED, 'rst');
    return;
  }
  if (!(seg.flags & TH_SYN) || !ackOk) return; // simultaneous open is not modelled
  s.irs = seg.seq;
  s.mss = Math.min(s.dev!.mss, seg.mss > 0 ? seg.mss : 536);
  s.sndWnd = seg.wnd;
  s.sndWl1 = 0;
  s.sndWl2 = 0;
  if (s.synRetries === 0) s.rtt.sample(s.world.now - s.synStart);
  s.established();
  out.sendAck(s);
}

function connectedInput(s: TcpSocket, seg: TcpSegment, reply: (rst: TcpSegment) => void): void {
  const segOff = s.rcvNxt + ((seg.seq - s.rcvWire(s.rcvNxt)) | 0);
  if (seg.flags & TH_RST) {
    // Accept a RST anywhere in the receive window (blind-reset checks are not modelled).
    if (segOff >= s.rcvNxt && segOff <= s.rcvNxt + Math.max(1, s.rcvWindow())) onReset(s);
    return;
  }
  if (seg.flags & TH_SYN) {
    // Our SYN-ACK or our handshake ACK was lost and the peer repeated its SYN / SYN-ACK.
    if (s.state === 'SYN_RECV') out.sendSyn(s);
    else out.sendAck(s);
    return;
  }
  if (!(seg.flags & TH_ACK)) return;
  if (s.state === 'SYN_RECV') {
    if (seg.ack !== ((s.iss + 1) >>> 0)) {
      const rst = out.rstFor(seg);
      if (rst !== undefined) reply(rst);
      return;
    }
    if (!completePassiveOpen(s, seg)) return;
  } else {
    processAck(s, seg, segOff);
    if (s.state === 'CLOSE') return;
  }
  if (s.state === 'TIME_WAIT') {
    if (seg.flags & TH_FIN) {
      out.sendAck(s);
      s.waitTimer.set(s.world.now + TIME_WAIT_US);
    }
    return;
  }
  if (seg.len > 0 || seg.flags & TH_FIN) processData(s, seg, segOff);
  else if (segOff < s.rcvNxt) out.sendAck(s); // window probe or keepalive
}

/** Handshake ACK on a child: established and queued for accept (false if the listener is gone). */
function completePassiveOpen(s: TcpSocket, seg: TcpSegment): boolean {
  const l = s.parent;
  s.parent = undefined;
  if (l === undefined || l.state !== 'LISTEN') {
    out.sendRst(s);
    s.orphan = true;
    s.enterClose();
    return false;
  }
  l.synQ.delete(s);
  s.sndWnd = seg.wnd;
  s.sndWl1 = 0;
  s.sndWl2 = 0;
  if (s.synRetries === 0) s.rtt.sample(s.world.now - s.synStart);
  s.established();
  l.acceptQ.push(s);
  return true;
}

function processAck(s: TcpSocket, seg: TcpSegment, segOff: number): void {
  const ackOff = s.sndUna + ((seg.ack - s.sndWire(s.sndUna)) | 0);
  const maxOff = s.finEverSent ? s.sb.end + 1 : s.sndMax;
  if (ackOff > maxOff) {
    out.sendAck(s); // acknowledges data we never sent
    return;
  }
  if (ackOff < s.sndUna) return;
  const oldWnd = s.sndWnd;
  if (segOff > s.sndWl1 || (segOff === s.sndWl1 && ackOff >= s.sndWl2)) {
    s.sndWnd = seg.wnd;
    s.sndWl1 = segOff;
    s.sndWl2 = ackOff;
    if (oldWnd === 0 && seg.wnd > 0) {
      s.persistTimer.clear();
      s.probeBackoff = 0;
    }
  }
  if (ackOff > s.sndUna) {
    const una = Math.min(ackOff, s.sb.end);
    const acked = una - s.sndUna;
    s.sndUna = una;
    if (s.sndNxt < una) s.sndNxt = una;
    s.c.bytesAcked += acked;
    s.sb.release(una);
    out.ackedUpTo(s);
    if (s.rttOff >= 0 && ackOff >= s.rttOff) {
      s.rtt.sample(s.world.now - s.rttStart);
      s.rttOff = -1;
    }
    s.backoff = 0;
    s.retransStamp = -1;
    s.dupAcks = 0;
    s.cwnd += s.cwnd < s.ssthresh ? acked : Math.max(1, Math.floor((s.mss * s.mss) / s.cwnd));
    s.zc.acked(una);
    if (s.finEverSent && ackOff === s.sb.end + 1 && !s.finAcked) {
      s.finAcked = true;
      ourFinAcked(s);
      if (s.state === 'CLOSE') return;
    }
    if (s.outstanding()) out.armRto(s);
    else s.rtoTimer.clear();
  } else if (seg.len === 0 && !(seg.flags & TH_FIN) && seg.wnd === oldWnd && s.outstanding()) {
    s.c.dupAcksIn++;
    if (++s.dupAcks === 3) out.fastRetransmit(s);
  }
  out.output(s);
}

function ourFinAcked(s: TcpSocket): void {
  switch (s.state) {
    case 'FIN_WAIT1':
      s.state = 'FIN_WAIT2';
      if (s.orphan) s.waitTimer.set(s.world.now + TIME_WAIT_US);
      return;
    case 'CLOSING':
      enterTimeWait(s);
      return;
    case 'LAST_ACK':
      s.enterClose();
      return;
    default:
      return;
  }
}

function enterTimeWait(s: TcpSocket): void {
  s.state = 'TIME_WAIT';
  s.rtoTimer.clear();
  s.waitTimer.set(s.world.now + TIME_WAIT_US);
}

function processData(s: TcpSocket, seg: TcpSegment, segOff: number): void {
  const fin = (seg.flags & TH_FIN) !== 0;
  const end = segOff + seg.len;
  if (s.finRcvd) {
    if (end >= s.rcvNxt) out.sendAck(s); // retransmitted FIN: our ACK was lost
    return;
  }
  if (s.orphan && seg.len > 0 && end > s.rcvNxt && (s.state === 'FIN_WAIT1' || s.state === 'FIN_WAIT2')) {
    // New data for a socket the application closed: nobody will read it.
    s.record('tcp.data_after_close', { len: seg.len });
    out.sendRst(s);
    s.enterClose();
    return;
  }
  if (end < s.rcvNxt || (end === s.rcvNxt && !fin)) {
    // Duplicate: the sender missed our ACK; answer at once and keep ACKing quickly for a while.
    s.ack.enterQuickack(s.lastAdvWnd);
    out.sendAck(s);
    return;
  }
  if (segOff > s.rcvNxt) {
    s.ooo.add(segOff, seg.payload, fin);
    out.sendAck(s); // duplicate ACK tells the sender about the hole
    return;
  }
  const got = accept(s, seg.payload.subarray(s.rcvNxt - segOff), fin, seg);
  if (got > 0) {
    // A TSO/GRO frame is measured by its MSS-sized parts (gso_size), as Linux does.
    const segSize = seg.len > s.mss ? s.mss : seg.len;
    s.ack.dataReceived(s.world.now, segSize, (seg.flags & (TH_PSH | TH_FIN)) !== 0, s.mss, s.lastAdvWnd, s.rtt.rto);
  }
  let filled = false;
  for (let n = s.ooo.takeAt(s.rcvNxt); n !== undefined && !s.finRcvd; n = s.ooo.takeAt(s.rcvNxt)) {
    accept(s, n.data, n.fin);
    filled = true;
  }
  out.ackSndCheck(s, s.finRcvd || filled);
}

/** `owner`: the arrived segment, when `data` is part of its payload (the queue may hold it). */
function accept(s: TcpSocket, data: Uint8Array, fin: boolean, owner?: TcpSegment): number {
  s.rq.push(data, owner);
  s.rcvNxt += data.length;
  s.c.bytesIn += data.length;
  if (fin && !s.finRcvd) {
    s.finRcvd = true;
    s.rcvShutdown = true;
    s.record('tcp.fin_rcvd', {});
    switch (s.state) {
      case 'ESTABLISHED':
        s.state = 'CLOSE_WAIT';
        break;
      case 'FIN_WAIT1':
        if (s.finAcked) enterTimeWait(s);
        else s.state = 'CLOSING';
        break;
      case 'FIN_WAIT2':
        enterTimeWait(s);
        break;
      default:
        break;
    }
  }
  return data.length;
}

function onReset(s: TcpSocket): void {
  switch (s.state) {
    case 'SYN_RECV':
      s.orphan = true;
      s.enterClose();
      return;
    case 'CLOSE_WAIT':
      s.abort(abi.EPIPE, 'rst');
      return;
    case 'CLOSING':
    case 'LAST_ACK':
    case 'TIME_WAIT':
      s.enterClose();
      return;
    default:
      s.abort(abi.ECONNRESET, 'rst');
  }
}
