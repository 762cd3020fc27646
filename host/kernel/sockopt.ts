/** setsockopt/getsockopt for TCP sockets: the options SPDK's posix module sets, nothing more.
 *  Every option is an int; unknown ones fail with ENOPROTOOPT as on Linux. */
import * as abi from '../gen/abi.js';
import type { TcpSocket } from './tcp-socket.js';

export function setOption(s: TcpSocket, level: number, name: number, v: number): number {
  if (level === abi.SOL_SOCKET) {
    switch (name) {
      case abi.SO_SNDBUF:
      case abi.SO_RCVBUF:
        // Used as given; Linux doubles the value for bookkeeping overhead (and caps it by
        // net.core.*mem_max). Scenarios state the effective size directly.
        if (v <= 0) return -abi.EINVAL;
        if (name === abi.SO_SNDBUF) s.sndBuf = v;
        else s.rcvBuf = v;
        return 0;
      case abi.SO_REUSEADDR:
        s.reuseaddr = v !== 0;
        return 0;
      case abi.SO_PRIORITY:
        s.priority = v;
        return 0;
      case abi.SO_RCVLOWAT:
        s.rcvlowat = Math.max(1, v);
        return 0;
      case abi.SO_MARK:
        s.mark = v;
        return 0;
      case abi.SO_ZEROCOPY:
        // Linux refuses to change it once connected only for some families; TCP allows it.
        s.zc.enabled = v !== 0;
        return 0;
      default:
        return -abi.ENOPROTOOPT;
    }
  }
  if (level === abi.IPPROTO_TCP) {
    switch (name) {
      case abi.TCP_NODELAY:
        s.nodelay = v !== 0;
        return 0;
      case abi.TCP_QUICKACK:
        s.quickack = v !== 0;
        return 0;
      case abi.TCP_USER_TIMEOUT:
        if (v < 0) return -abi.EINVAL;
        s.userTimeoutMs = v;
        return 0;
      default:
        return -abi.ENOPROTOOPT;
    }
  }
  if (level === abi.IPPROTO_IPV6 && name === abi.IPV6_V6ONLY) {
    s.v6only = v !== 0;
    return 0;
  }
  return -abi.ENOPROTOOPT;
}

export function getOption(s: TcpSocket, level: number, name: number): number {
  if (level === abi.SOL_SOCKET) {
    switch (name) {
      case abi.SO_ERROR:
        return s.takeError();
      case abi.SO_SNDBUF:
        return s.sndBuf;
      case abi.SO_RCVBUF:
        return s.rcvBuf;
      case abi.SO_REUSEADDR:
        return s.reuseaddr ? 1 : 0;
      case abi.SO_PRIORITY:
        return s.priority;
      case abi.SO_RCVLOWAT:
        return s.rcvlowat;
      case abi.SO_MARK:
        return s.mark;
      case abi.SO_ZEROCOPY:
        return s.zc.enabled ? 1 : 0;
      default:
        return -abi.ENOPROTOOPT;
    }
  }
  if (level === abi.IPPROTO_TCP) {
    switch (name) {
      case abi.TCP_NODELAY:
        return s.nodelay ? 1 : 0;
      case abi.TCP_QUICKACK:
        return s.quickack ? 1 : 0;
      case abi.TCP_USER_TIMEOUT:
        return s.userTimeoutMs;
      default:
        return -abi.ENOPROTOOPT;
    }
  }
  if (level === abi.IPPROTO_IPV6 && name === abi.IPV6_V6ONLY) return s.v6only ? 1 : 0;
  return -abi.ENOPROTOOPT;
}
