/** A plain snapshot of one socket's state and counters, for scenarios, tests and reports. */
import type { SocketCounters, TcpSocket, TcpState } from './tcp-socket.js';

export interface SocketInfo extends SocketCounters {
  fd: number;
  state: TcpState;
  local: string;
  remote: string;
  /** Wire sequence numbers. */
  sndUna: number;
  sndNxt: number;
  /** Bytes written and not yet acknowledged (what SO_SNDBUF bounds). */
  unacked: number;
  unsent: number;
  sndWnd: number;
  rcvQueued: number;
  errqueueLen: number;
  skErr: number;
  /** Current RTO with backoff, µs. */
  rto: number;
  srtt: number;
  backoff: number;
  zcEnabled: boolean;
  /** Next zero-copy id. */
  zcKey: number;
  zcIds: number;
  zcNotified: number;
  /** Zero-copy calls not yet notified. */
  zcPending: number;
  nodelay: boolean;
  /** Receiver ACK state (Linux icsk_ack): quick ACKs left, pingpong count, ato (µs), rcv_mss. */
  quickAcks: number;
  pingpong: number;
  ato: number;
  rcvMss: number;
}

export function socketInfo(s: TcpSocket): SocketInfo {
  return {
    fd: s.fd,
    state: s.state,
    local: s.local === undefined ? '' : `${s.local.addr}:${s.local.port}`,
    remote: s.remote === undefined ? '' : `${s.remote.addr}:${s.remote.port}`,
    sndUna: s.sndWire(s.sndUna),
    sndNxt: s.sndWire(s.sndNxt),
    unacked: s.unacked,
    unsent: s.sb.end - s.sndNxt,
    sndWnd: s.sndWnd,
    rcvQueued: s.rq.bytes,
    errqueueLen: s.errq.length,
    skErr: s.skErr,
    rto: s.rtt.backedOff(s.backoff),
    srtt: s.rtt.srtt,
    backoff: s.backoff,
    zcEnabled: s.zc.enabled,
    zcKey: s.zc.key,
    zcIds: s.zc.ids,
    zcNotified: s.zc.notified,
    zcPending: s.zc.pending,
    nodelay: s.nodelay,
    quickAcks: s.ack.quick,
    pingpong: s.ack.pingpong,
    ato: s.ack.ato,
    rcvMss: s.ack.rcvMss,
    ...s.c,
  };
}
