/**
 * The system calls on a TCP socket: connect, sendmsg, the read path, shutdown and close. They sit
 * above the socket's state (tcp-socket.ts) and its transmission (tcp-output.ts), which never call
 * back up here.
 */
import * as abi from '../gen/abi.js';
import type { IoVec, SockAddrIn } from './host-kernel.js';
import { gather, iovInBounds, iovTotal } from './iov.js';
import * as out from './tcp-output.js';
import { FIN_TIMEOUT_US } from './tcp-timers.js';
import type { TcpSocket } from './tcp-socket.js';

export function connect(s: TcpSocket, addr: SockAddrIn): number {
  switch (s.state) {
    case 'SYN_SENT':
    case 'SYN_RECV':
      return -abi.EALREADY;
    case 'CLOSE':
      break;
    case 'LISTEN':
      return -abi.EINVAL;
    default:
      return -abi.EISCONN;
  }
  const r = s.host.route(addr.addr);
  if (r === undefined) return -abi.ENETUNREACH;
  const laddr = s.local === undefined || s.local.addr === '0.0.0.0' ? r.src : s.local.addr;
  const lport = s.local?.port ?? s.host.ephemeralPort(laddr);
  s.local = { addr: laddr, port: lport };
  s.remote = { addr: addr.addr, port: addr.port };
  s.dev = r.dev;
  s.resetConnection();
  s.iss = s.host.rng.u32();
  s.mss = r.dev.mss;
  s.state = 'SYN_SENT';
  if (!s.host.register(s)) {
    s.state = 'CLOSE';
    return -abi.EADDRNOTAVAIL;
  }
  s.synStart = s.world.now;
  s.record('tcp.connect', { dst: `${addr.addr}:${addr.port}`, src: `${laddr}:${lport}` });
  out.sendSyn(s);
  return -abi.EINPROGRESS;
}

export function sendmsg(s: TcpSocket, iov: IoVec[], flags: number): number {
  if (s.state !== 'ESTABLISHED' && s.state !== 'CLOSE_WAIT') {
    if (s.skErr !== 0) return -s.takeError();
    if (s.state === 'SYN_SENT' || s.state === 'SYN_RECV') return -abi.EAGAIN;
    return s.everConnected || s.state !== 'CLOSE' ? -abi.EPIPE : -abi.ENOTCONN;
  }
  if (s.skErr !== 0) return -s.takeError();
  if (s.sndShutdown) return -abi.EPIPE;
  const total = iovTotal(iov);
  const mem = s.host.memory.bytes();
  if (!iovInBounds(mem, iov)) return -abi.EFAULT;
  if (total === 0) return 0;
  const space = s.sendSpace();
  if (space <= 0) return -abi.EAGAIN;
  const zc = (flags & abi.MSG_ZEROCOPY) !== 0 && s.zc.enabled;
  if (zc && s.zc.nobufs > 0) {
    s.zc.nobufs--;
    s.record('sendmsg', { len: total, accepted: 0, zc: 1, err: abi.ENOBUFS });
    return -abi.ENOBUFS;
  }
  const n = Math.min(total, space);
  const start = s.sb.end;
  if (zc) {
    let left = n;
    for (const v of iov) {
      if (left === 0) break;
      const k = Math.min(v.len, left);
      if (k > 0) s.sb.appendRef(v.base, k);
      left -= k;
    }
  } else {
    s.sb.appendCopy(gather(mem, iov, n));
  }
  let id = -1;
  if (zc) id = s.zc.take(start, start + n).id;
  s.record('sendmsg', { len: total, accepted: n, zc: zc ? 1 : 0, id });
  out.output(s);
  return n;
}

/** readv/recv/recvmsg data path. */
export function read(s: TcpSocket, iov: IoVec[], peek: boolean): number {
  if (s.state === 'LISTEN') return -abi.ENOTCONN;
  const mem = s.host.memory.bytes();
  if (!iovInBounds(mem, iov)) return -abi.EFAULT;
  if (s.rq.bytes > 0) {
    const n = s.rq.copyOut(mem, iov, peek);
    if (n > 0 && !peek) out.cleanupRbuf(s, n);
    if (n > 0 || iovTotal(iov) === 0) return n;
  }
  if (iovTotal(iov) === 0) return 0;
  if (s.skErr !== 0) return -s.takeError();
  if (s.rcvShutdown || s.done) return 0;
  if (s.state === 'CLOSE') return -abi.ENOTCONN;
  return -abi.EAGAIN;
}

/** shutdown(2): 'wr' sends FIN after queued data; 'rd' makes reads return EOF. */
export function shutdown(s: TcpSocket, how: 'rd' | 'wr' | 'rdwr'): number {
  if (!s.synchronized) return -abi.ENOTCONN;
  if (how !== 'wr') s.rcvShutdown = true;
  if (how !== 'rd') queueFin(s);
  return 0;
}

function queueFin(s: TcpSocket): void {
  if (s.sndShutdown) return;
  s.sndShutdown = true;
  if (s.state === 'ESTABLISHED' || s.state === 'SYN_RECV') s.state = 'FIN_WAIT1';
  else if (s.state === 'CLOSE_WAIT') s.state = 'LAST_ACK';
  else return;
  s.finQueued = true;
  out.output(s);
}

/** close(2): the fd is gone; the connection winds down on its own. */
export function close(s: TcpSocket): void {
  s.orphan = true;
  s.zc.kill();
  s.errq.clear();
  s.record('tcp.close', { state: s.state });
  switch (s.state) {
    case 'LISTEN':
      for (const ch of [...s.acceptQ, ...s.synQ]) {
        out.sendRst(ch);
        ch.orphan = true;
        ch.enterClose();
      }
      s.acceptQ = [];
      s.synQ.clear();
      s.enterClose();
      return;
    case 'CLOSE':
    case 'SYN_SENT':
      s.enterClose();
      return;
    case 'ESTABLISHED':
    case 'SYN_RECV':
    case 'CLOSE_WAIT':
      if (s.rq.bytes > 0) {
        // Unread data is lost: Linux answers with RST instead of FIN.
        out.sendRst(s);
        s.enterClose();
        return;
      }
      s.rcvShutdown = true;
      queueFin(s);
      return;
    case 'FIN_WAIT2':
      s.waitTimer.set(s.world.now + FIN_TIMEOUT_US);
      return;
    default:
      return;
  }
}
