/**
 * One TCP socket's state: connection state, sequence space, buffers, options, timers, and the
 * transitions every layer shares (establish, close, abort). The system calls live in
 * tcp-calls.ts, segment processing in tcp-input.ts, transmission and timer actions in
 * tcp-output.ts; all of them build on this file, which imports none of them.
 *
 * Stream positions are kept as plain offsets (bytes since the SYN, exact up to 2^53) and turned
 * into real 32-bit wire numbers only at the edge (sndWire/rcvWire).
 */
import * as abi from '../gen/abi.js';
import type { Touchable, World } from '../sim/world.js';
import type { Prng } from '../sim/prng.js';
import type { NetDev } from '../net/netdev.js';
import type { GuestMemory, SockAddrIn } from './host-kernel.js';
import { SendBuffer } from './send-buffer.js';
import { OutOfOrder, RecvQueue } from './recv-buffer.js';
import { ZeroCopy } from './zerocopy.js';
import { ErrQueue } from './errqueue.js';
import { RtoEstimator, Timer } from './tcp-timers.js';
import { AckControl } from './tcp-delack.js';

export type TcpState =
  | 'CLOSE'
  | 'LISTEN'
  | 'SYN_SENT'
  | 'SYN_RECV'
  | 'ESTABLISHED'
  | 'FIN_WAIT1'
  | 'FIN_WAIT2'
  | 'CLOSING'
  | 'TIME_WAIT'
  | 'CLOSE_WAIT'
  | 'LAST_ACK';

/** What a socket's timers do when they fire (tcp-output.ts; wired by the stack). */
export interface TcpTimerActions {
  rto(s: TcpSocket): void;
  delack(s: TcpSocket): void;
  persist(s: TcpSocket): void;
}

/** What a socket needs from its machine's TCP stack (implemented by tcp-stack.ts). */
export interface TcpHost {
  readonly world: World;
  /** The kernel, as what this socket's timers touch (World.at). */
  readonly touch: Touchable;
  readonly machine: string;
  readonly memory: GuestMemory;
  readonly rng: Prng;
  readonly timers: TcpTimerActions;
  route(dst: string): { dev: NetDev; src: string } | undefined;
  ephemeralPort(addr: string): number;
  register(s: TcpSocket): boolean;
  unregister(s: TcpSocket): void;
  /** Count of connections aborted by an error (RST, timeout). */
  aborts: number;
  /** Of those, the retransmission timeouts, by which limit ended them: TCP_USER_TIMEOUT or
   *  tcp_retries2 (a scenario names the mechanism that freed its requests from these). */
  abortsUserTimeout: number;
  abortsRetries2: number;
  /** The socket is finished (closed by the user and CLOSE): its local port is free again. */
  release(s: TcpSocket): void;
}

export interface SocketCounters {
  segsOut: number;
  segsIn: number;
  /** Payload bytes put on the wire, retransmissions included. */
  bytesOut: number;
  bytesAcked: number;
  /** In-order payload bytes received. */
  bytesIn: number;
  retransmits: number;
  rtoFired: number;
  fastRetransmits: number;
  probes: number;
  dupAcksIn: number;
}

/** Linux defaults before any setsockopt (net.ipv4.tcp_wmem[1], tcp_rmem[1]); no autotuning. */
export const DEFAULT_SNDBUF = 16384;
export const DEFAULT_RCVBUF = 131072;

export class TcpSocket {
  fd = -1;
  state: TcpState = 'CLOSE';
  local: SockAddrIn | undefined;
  remote: SockAddrIn | undefined;
  dev: NetDev | undefined;
  /** Closed by the user (no fd): finishes its FIN handshake alone, never notifies. */
  orphan = false;
  everConnected = false;
  /** Pending socket error (positive errno), reported once (SO_ERROR or the next call). */
  skErr = 0;
  /** sk_shutdown bits. */
  rcvShutdown = false;
  sndShutdown = false;
  /** SOCK_DONE: the connection ended (reads return 0 rather than ENOTCONN). */
  done = false;

  // Options (setsockopt). SO_SNDBUF/SO_RCVBUF are used as given: Linux would double them.
  sndBuf = DEFAULT_SNDBUF;
  rcvBuf = DEFAULT_RCVBUF;
  nodelay = false;
  /** TCP_QUICKACK: here persistent, ACK every segment (Linux clears it after a while). */
  quickack = false;
  userTimeoutMs = 0;
  reuseaddr = false;
  priority = 0;
  rcvlowat = 1;
  v6only = false;
  mark = 0;

  // Send sequence space.
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndMax = 0;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  mss = 536;
  cwnd = 0;
  ssthresh = Infinity;
  dupAcks = 0;
  backoff = 0;
  probeBackoff = 0;
  /** Original send time of the head when its retransmission began (-1: none). */
  retransStamp = -1;
  synStart = 0;
  synRetries = 0;
  finQueued = false;
  finSent = false;
  finEverSent = false;
  finAcked = false;
  /** RTT timing of one segment at a time (Karn: dropped on retransmit). */
  rttOff = -1;
  rttStart = 0;
  /** End offsets and first-transmit times of new data, for the head's age. */
  sentEnds: number[] = [];
  sentTimes: number[] = [];
  sentHead = 0;

  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  finRcvd = false;
  /** Window and ACK point (rcvNxt, a stream offset) of the last segment that carried an ACK: the
   *  peer may send up to rcvWup + lastAdvWnd (Linux's rcv_wup and rcv_wnd). */
  lastAdvWnd = 0;
  rcvWup = 0;
  /** Delayed-ACK / quick-ack state (Linux icsk_ack). */
  readonly ack = new AckControl();
  /** End offset of the last sent segment smaller than its MSS multiple (Linux snd_sml, for
   *  Minshall's Nagle). */
  sndSml = 0;

  // Listener.
  backlog = 0;
  acceptQ: TcpSocket[] = [];
  synQ = new Set<TcpSocket>();
  parent: TcpSocket | undefined;

  readonly sb: SendBuffer;
  readonly rq = new RecvQueue();
  readonly ooo = new OutOfOrder();
  readonly zc: ZeroCopy;
  readonly errq = new ErrQueue();
  readonly rtt = new RtoEstimator();
  readonly rtoTimer: Timer;
  readonly delackTimer: Timer;
  readonly persistTimer: Timer;
  /** TIME_WAIT and orphaned FIN_WAIT2 lifetime. */
  readonly waitTimer: Timer;
  readonly c: SocketCounters = {
    segsOut: 0, segsIn: 0, bytesOut: 0, bytesAcked: 0, bytesIn: 0,
    retransmits: 0, rtoFired: 0, fastRetransmits: 0, probes: 0, dupAcksIn: 0,
  };

  constructor(readonly host: TcpHost) {
    this.sb = new SendBuffer(host.memory);
    this.zc = new ZeroCopy((lo, hi) => this.onZcComplete(lo, hi));
    const w = host.world;
    const k = host.touch;
    const t = host.timers;
    this.rtoTimer = new Timer(w, 'tcp.rto', () => t.rto(this), k);
    this.delackTimer = new Timer(w, 'tcp.delack', () => t.delack(this), k);
    this.persistTimer = new Timer(w, 'tcp.persist', () => t.persist(this), k);
    this.waitTimer = new Timer(w, 'tcp.wait', () => this.enterClose(), k);
  }

  get world(): World {
    return this.host.world;
  }

  record(ev: string, f: Record<string, number | string | boolean> = {}): void {
    this.host.world.record(this.host.machine, ev, { fd: this.fd, ...f });
  }

  // ---- wire numbers ----

  sndWire(off: number): number {
    return (this.iss + 1 + off) >>> 0;
  }

  rcvWire(off: number): number {
    return (this.irs + 1 + off) >>> 0;
  }

  /** ACK number: next expected byte, plus one for a received FIN. */
  ackNumber(): number {
    return (this.rcvWire(this.rcvNxt) + (this.finRcvd ? 1 : 0)) >>> 0;
  }

  /** Receive window: SO_RCVBUF minus unread bytes. Out-of-order bytes are not subtracted, so
   *  duplicate ACKs keep an unchanged window and count towards fast retransmit. */
  rcvWindow(): number {
    return Math.max(0, this.rcvBuf - this.rq.bytes);
  }

  /** Bytes written and not yet acknowledged. */
  get unacked(): number {
    return this.sb.end - this.sndUna;
  }

  sendSpace(): number {
    return this.sndBuf - this.unacked;
  }

  /** Data or FIN sent and not yet acknowledged. */
  outstanding(): boolean {
    return this.sndMax > this.sndUna || (this.finEverSent && !this.finAcked);
  }

  get synchronized(): boolean {
    return this.state !== 'CLOSE' && this.state !== 'LISTEN' && this.state !== 'SYN_SENT';
  }

  takeError(): number {
    const e = this.skErr;
    this.skErr = 0;
    return e;
  }

  /** Fresh sequence state for a (re)connect or an accepted child. */
  resetConnection(): void {
    this.skErr = 0;
    this.rcvShutdown = this.sndShutdown = this.done = false;
    this.sndUna = this.sndNxt = this.sndMax = this.rcvNxt = this.sndSml = 0;
    this.backoff = this.synRetries = 0;
    this.retransStamp = -1;
    this.finQueued = this.finSent = this.finEverSent = this.finAcked = this.finRcvd = false;
  }

  /** Called when the handshake completes (either side). */
  established(): void {
    this.state = 'ESTABLISHED';
    this.everConnected = true;
    this.cwnd = 10 * this.mss;
    this.rtoTimer.clear();
    this.backoff = 0;
    this.lastAdvWnd = this.rcvWindow();
    this.rcvWup = this.rcvNxt;
    this.ack.start(this.mss, this.lastAdvWnd);
    this.record('tcp.established', {
      src: `${this.local!.addr}:${this.local!.port}`,
      dst: `${this.remote!.addr}:${this.remote!.port}`,
      mss: this.mss,
    });
  }


  /** The connection is over: state CLOSE, timers stopped, 4-tuple released. */
  enterClose(): void {
    this.state = 'CLOSE';
    this.done = true;
    this.rcvShutdown = this.sndShutdown = true;
    this.rtoTimer.clear();
    this.delackTimer.clear();
    this.persistTimer.clear();
    this.waitTimer.clear();
    this.host.unregister(this);
    if (this.orphan) this.host.release(this);
    if (this.parent !== undefined) {
      this.parent.synQ.delete(this);
      this.parent = undefined;
    }
  }

  /**
   * Fatal error (RST, timeout), shaped after Linux tcp_write_err / tcp_reset: sk_err is set, the
   * write queue is purged (tcp_write_queue_purge: the unsent and unacknowledged data are freed, so
   * MSG_ZEROCOPY completions for them are posted to the error queue while the fd is still open)
   * and the connection is done (state CLOSE, both directions shut down).
   */
  abort(err: number, why: string): void {
    this.record('tcp.abort', { err, why, state: this.state });
    this.host.aborts++;
    if (why === 'user_timeout') this.host.abortsUserTimeout++;
    else if (why === 'retries2') this.host.abortsRetries2++;
    this.skErr = err;
    this.zc.purged();
    this.enterClose();
  }

  private onZcComplete(lo: number, hi: number): void {
    const copied = this.dev?.loopback === true;
    this.errq.pushZerocopy(lo, hi, copied);
    this.record('zc.notify', { lo, hi, copied: copied ? 1 : 0 });
  }

  /** epoll/poll readiness, shaped after Linux's tcp_poll. */
  pollMask(): number {
    let m = 0;
    if (this.state === 'LISTEN') {
      if (this.acceptQ.length > 0) m |= abi.EPOLLIN;
    } else {
      if ((this.rcvShutdown && this.sndShutdown) || this.state === 'CLOSE') m |= abi.EPOLLHUP;
      if (this.rcvShutdown || this.finRcvd) m |= abi.EPOLLIN | abi.EPOLLRDHUP;
      if (this.state !== 'SYN_SENT' && this.state !== 'SYN_RECV') {
        if (this.rq.bytes >= Math.max(1, this.rcvlowat) || (this.rq.bytes > 0 && this.finRcvd)) m |= abi.EPOLLIN;
        if (this.sndShutdown || this.sendSpace() > 0) m |= abi.EPOLLOUT;
      }
    }
    if (this.skErr !== 0 || this.errq.length > 0) m |= abi.EPOLLERR;
    return m;
  }
}
