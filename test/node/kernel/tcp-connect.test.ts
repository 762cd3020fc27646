import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { INI_IP, TGT_IP, connectPair, drain, fill, listenOn, makeNet, runFor, runUntil, tcpSocket } from './net-harness.js';

describe('TCP connection setup and teardown', () => {
  it('three-way handshake: EINPROGRESS, SYN/SYN-ACK/ACK on the wire, accept, names', () => {
    const net = makeNet(7, { latencyUs: 50 }, {}, 1000);
    const l = listenOn(net.tgt, 4420);
    expect(net.tgt.accept(l)).toBe(-abi.EAGAIN);
    const c = tcpSocket(net.ini);
    expect(net.ini.connect(c, { addr: TGT_IP, port: 4420 })).toBe(-abi.EINPROGRESS);
    expect(net.ini.connect(c, { addr: TGT_IP, port: 4420 })).toBe(-abi.EALREADY);
    expect(net.ini.poll([{ fd: c, events: abi.POLLOUT }], 0)).toEqual([0]);
    runUntil(net, () => net.ini.sockInfo(c)!.state === 'ESTABLISHED');
    // SYN: 1 µs serialization + 50 µs link; SYN-ACK the same.
    expect(net.world.now).toBe(102);
    expect(net.ini.getsockopt(c, abi.SOL_SOCKET, abi.SO_ERROR)).toBe(0);
    expect(net.ini.poll([{ fd: c, events: abi.POLLOUT }], 0)).toEqual([abi.POLLOUT]);
    expect(net.ini.connect(c, { addr: TGT_IP, port: 4420 })).toBe(-abi.EISCONN);
    runUntil(net, () => (net.tgt.poll([{ fd: l, events: abi.POLLIN }], 0) as number[])[0] === abi.POLLIN);
    const r = net.tgt.accept(l);
    if (typeof r === 'number') throw new Error(`accept ${r}`);
    expect(r.fd).toBe(4);
    const local = net.ini.getsockname(c);
    expect(r.peer).toEqual(local);
    expect(net.ini.getpeername(c)).toEqual({ addr: TGT_IP, port: 4420 });
    expect(net.tgt.getsockname(r.fd)).toEqual({ addr: TGT_IP, port: 4420 });
    const segs = net.world.trace.events.filter((e) => e.ev === 'tcp.seg').map((e) => e.f!['flags']);
    expect(segs.slice(0, 3)).toEqual(['S', 'SA', 'A']);
    // The SYN-ACK acknowledges ISS+1 of the SYN (real 32-bit numbers from the world's PRNG).
    const [syn, synack] = net.world.trace.events.filter((e) => e.ev === 'tcp.seg');
    expect(synack!.f!['ack']).toBe(((syn!.f!['seq'] as number) + 1) >>> 0);
  });

  it('connect to a port without listener: RST -> ECONNREFUSED via SO_ERROR and EPOLLERR|EPOLLHUP', () => {
    const net = makeNet(3);
    const c = tcpSocket(net.ini);
    const ep = net.ini.epollCreate1(0);
    expect(net.ini.epollCtl(ep, abi.EPOLL_CTL_ADD, c, abi.EPOLLOUT, 77)).toBe(0);
    expect(net.ini.connect(c, { addr: TGT_IP, port: 9 })).toBe(-abi.EINPROGRESS);
    runUntil(net, () => net.ini.sockInfo(c)!.state === 'CLOSE');
    const evs = net.ini.epollWait(ep, 8, 0);
    expect(evs).toEqual([{ events: abi.EPOLLOUT | abi.EPOLLERR | abi.EPOLLHUP, data: 77 }]);
    expect(net.ini.getsockopt(c, abi.SOL_SOCKET, abi.SO_ERROR)).toBe(abi.ECONNREFUSED);
    expect(net.ini.getsockopt(c, abi.SOL_SOCKET, abi.SO_ERROR)).toBe(0);
    expect(net.tgt.stats().totals.rstsSent).toBe(1);
  });

  it('unreachable destination fails at once with ENETUNREACH', () => {
    const net = makeNet(3);
    const c = tcpSocket(net.ini);
    expect(net.ini.connect(c, { addr: '192.0.2.99', port: 1 })).toBe(-abi.ENETUNREACH);
  });

  it('close sends FIN: the peer reads its data, then readv returns 0 and EPOLLIN|EPOLLRDHUP', () => {
    const net = makeNet(5);
    const { c, s } = connectPair(net);
    fill(net.memIni, 0, [1, 2, 3, 4, 5]);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 5 }], abi.MSG_NOSIGNAL)).toBe(5);
    expect(net.ini.close(c)).toBe(0);
    runUntil(net, () => net.tgt.sockInfo(s)!.state === 'CLOSE_WAIT');
    expect(Array.from(drain(net.tgt, net.memTgt, s))).toEqual([1, 2, 3, 4, 5]);
    expect(net.tgt.readv(s, [{ base: 0, len: 10 }])).toBe(0);
    expect(net.tgt.poll([{ fd: s, events: abi.POLLIN }], 0)).toEqual([abi.POLLIN]);
    expect(net.tgt.close(s)).toBe(0);
    runFor(net, 1_000_000);
    // Both sides have finished the FIN handshake; the active closer sits in TIME_WAIT.
    expect(net.ini.tcp.connections().map((x) => x.state)).toEqual(['TIME_WAIT']);
    expect(net.tgt.tcp.connections()).toEqual([]);
    runFor(net, 61_000_000);
    expect(net.ini.tcp.connections()).toEqual([]);
  });

  it('data to a socket closed by its application is answered by RST -> ECONNRESET, then EPIPE', () => {
    const net = makeNet(5);
    const { c, s } = connectPair(net, 4420, [[abi.IPPROTO_TCP, abi.TCP_NODELAY, 1]]);
    expect(net.tgt.close(s)).toBe(0);
    runUntil(net, () => net.ini.sockInfo(c)!.state === 'CLOSE_WAIT');
    fill(net.memIni, 0, [9, 9, 9]);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 3 }], 0)).toBe(3);
    runUntil(net, () => net.ini.sockInfo(c)!.state === 'CLOSE');
    // Linux reports EPIPE for a RST in CLOSE_WAIT; the error is reported once.
    expect(net.ini.sendmsg(c, [{ base: 0, len: 3 }], 0)).toBe(-abi.EPIPE);
    expect(net.ini.poll([{ fd: c, events: 0 }], 0)).toEqual([abi.POLLHUP]);
  });

  it('RST on an established connection reports ECONNRESET to the reader', () => {
    const net = makeNet(5);
    const { c, s } = connectPair(net);
    fill(net.memTgt, 0, [1, 2]);
    expect(net.tgt.sendmsg(s, [{ base: 0, len: 2 }], 0)).toBe(2);
    runUntil(net, () => net.ini.sockInfo(c)!.rcvQueued === 2);
    // Closing with unread data aborts with RST instead of FIN.
    expect(net.ini.close(c)).toBe(0);
    runUntil(net, () => net.tgt.sockInfo(s)!.state === 'CLOSE');
    expect(net.tgt.readv(s, [{ base: 0, len: 4 }])).toBe(-abi.ECONNRESET);
    expect(net.tgt.readv(s, [{ base: 0, len: 4 }])).toBe(0);
    expect(net.tgt.sendmsg(s, [{ base: 0, len: 2 }], 0)).toBe(-abi.EPIPE);
  });

  it('shutdown(wr) then sendmsg fails with EPIPE; the peer sees EOF', () => {
    const net = makeNet(5);
    const { c, s } = connectPair(net);
    expect(net.ini.shutdown(c, 'wr')).toBe(0);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 1 }], abi.MSG_NOSIGNAL)).toBe(-abi.EPIPE);
    runUntil(net, () => net.tgt.readv(s, [{ base: 0, len: 1 }]) === 0);
  });

  it('bad descriptors, non-sockets, unknown options, fcntl', () => {
    const net = makeNet(1);
    const k = net.ini;
    expect(k.sendmsg(42, [], 0)).toBe(-abi.EBADF);
    expect(k.close(42)).toBe(-abi.EBADF);
    const ep = k.epollCreate1(0);
    expect(k.sendmsg(ep, [], 0)).toBe(-abi.ENOTSOCK);
    expect(k.setsockopt(ep, abi.SOL_SOCKET, abi.SO_SNDBUF, 1)).toBe(-abi.ENOTSOCK);
    expect(k.poll([{ fd: 42, events: abi.POLLIN }], 0)).toEqual([abi.POLLNVAL]);
    const fd = tcpSocket(k);
    expect(fd).toBe(ep + 1);
    expect(k.setsockopt(fd, abi.SOL_SOCKET, 9999, 1)).toBe(-abi.ENOPROTOOPT);
    expect(k.setsockopt(fd, abi.IPPROTO_TCP, 9999, 1)).toBe(-abi.ENOPROTOOPT);
    for (const [lvl, name] of [
      [abi.SOL_SOCKET, abi.SO_RCVBUF], [abi.SOL_SOCKET, abi.SO_SNDBUF], [abi.SOL_SOCKET, abi.SO_REUSEADDR],
      [abi.SOL_SOCKET, abi.SO_PRIORITY], [abi.SOL_SOCKET, abi.SO_RCVLOWAT], [abi.IPPROTO_TCP, abi.TCP_NODELAY],
      [abi.IPPROTO_TCP, abi.TCP_QUICKACK], [abi.IPPROTO_TCP, abi.TCP_USER_TIMEOUT], [abi.IPPROTO_IPV6, abi.IPV6_V6ONLY],
    ] as const) {
      expect(k.setsockopt(fd, lvl, name, 1000)).toBe(0);
    }
    expect(k.getsockopt(fd, abi.SOL_SOCKET, abi.SO_SNDBUF)).toBe(1000);
    expect(k.fcntl(fd, abi.F_GETFL, 0)).toBe(abi.O_NONBLOCK);
    expect(k.fcntl(fd, abi.F_SETFL, 0)).toBe(0);
    expect(k.fcntl(fd, abi.F_GETFL, 0)).toBe(0);
    expect(k.readv(fd, [{ base: 0, len: 1 }])).toBe(-abi.ENOTCONN);
    expect(k.ifaddrs()).toEqual([
      { name: 'lo', addr: '127.0.0.1', flags: abi.IFF_UP | abi.IFF_RUNNING | abi.IFF_LOOPBACK },
      { name: 'eth0', addr: INI_IP, flags: abi.IFF_UP | abi.IFF_RUNNING },
    ]);
  });

  it('listen backlog: SYNs beyond it are dropped until accept makes room', () => {
    const net = makeNet(2);
    const l = tcpSocket(net.tgt);
    expect(net.tgt.bind(l, { addr: TGT_IP, port: 80 })).toBe(0);
    expect(net.tgt.listen(l, 1)).toBe(0);
    const b2 = tcpSocket(net.tgt);
    expect(net.tgt.bind(b2, { addr: TGT_IP, port: 80 })).toBe(-abi.EADDRINUSE);
    const cs = [0, 1, 2].map(() => tcpSocket(net.ini));
    for (const c of cs) expect(net.ini.connect(c, { addr: TGT_IP, port: 80 })).toBe(-abi.EINPROGRESS);
    runFor(net, 100_000);
    // Backlog 1 admits two (Linux allows backlog + 1); the third SYN waits for its retransmit.
    expect(cs.map((c) => net.ini.sockInfo(c)!.state)).toEqual(['ESTABLISHED', 'ESTABLISHED', 'SYN_SENT']);
    expect(typeof net.tgt.accept(l)).toBe('object');
    expect(typeof net.tgt.accept(l)).toBe('object');
    runUntil(net, () => net.ini.sockInfo(cs[2]!)!.state === 'ESTABLISHED', 2_000_000);
    expect(net.world.now).toBeGreaterThanOrEqual(1_000_000);
  });
});
