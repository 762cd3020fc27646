import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { connectPair, makeNet, runUntil, tcpSocket } from './net-harness.js';

describe('epoll', () => {
  it('ADD/MOD/DEL with their errors; level-triggered EPOLLIN until drained', () => {
    const net = makeNet(61);
    const { c, s, l } = connectPair(net, 4420, [[abi.IPPROTO_TCP, abi.TCP_NODELAY, 1]]);
    const k = net.tgt;
    const ep = k.epollCreate1(0);
    expect(k.epollCtl(ep, abi.EPOLL_CTL_ADD, s, abi.EPOLLIN, 0xdeadbeef)).toBe(0);
    expect(k.epollCtl(ep, abi.EPOLL_CTL_ADD, s, abi.EPOLLIN, 1)).toBe(-abi.EEXIST);
    expect(k.epollCtl(ep, abi.EPOLL_CTL_MOD, l, abi.EPOLLIN, 1)).toBe(-abi.ENOENT);
    expect(k.epollCtl(ep, abi.EPOLL_CTL_ADD, 99, abi.EPOLLIN, 1)).toBe(-abi.EBADF);
    expect(k.epollCtl(s, abi.EPOLL_CTL_ADD, l, abi.EPOLLIN, 1)).toBe(-abi.EINVAL);
    expect(k.epollCtl(ep, abi.EPOLL_CTL_ADD, ep, abi.EPOLLIN, 1)).toBe(-abi.EINVAL);
    expect(k.epollWait(ep, 4, 0)).toEqual([]);
    net.ini.sendmsg(c, [{ base: 0, len: 4 }], 0);
    runUntil(net, () => (k.epollWait(ep, 4, 0) as unknown[]).length === 1);
    expect(k.epollWait(ep, 4, 0)).toEqual([{ events: abi.EPOLLIN, data: 0xdeadbeef }]);
    expect(k.epollCtl(ep, abi.EPOLL_CTL_MOD, s, abi.EPOLLIN | abi.EPOLLOUT, 7)).toBe(0);
    expect(k.epollWait(ep, 4, 0)).toEqual([{ events: abi.EPOLLIN | abi.EPOLLOUT, data: 7 }]);
    expect(k.readv(s, [{ base: 0, len: 10 }])).toBe(4);
    expect(k.epollWait(ep, 4, 0)).toEqual([{ events: abi.EPOLLOUT, data: 7 }]);
    expect(k.epollCtl(ep, abi.EPOLL_CTL_DEL, s, 0, 0)).toBe(0);
    expect(k.epollCtl(ep, abi.EPOLL_CTL_DEL, s, 0, 0)).toBe(-abi.ENOENT);
    expect(k.epollWait(ep, 4, 0)).toEqual([]);
  });

  it('a listener is readable while a connection waits for accept; close removes the fd', () => {
    const net = makeNet(62);
    const k = net.tgt;
    const l = tcpSocket(k);
    k.bind(l, { addr: '0.0.0.0', port: 80 });
    k.listen(l, 8);
    const ep = k.epollCreate1(0);
    k.epollCtl(ep, abi.EPOLL_CTL_ADD, l, abi.EPOLLIN, 3);
    const c = tcpSocket(net.ini);
    net.ini.connect(c, { addr: '192.0.2.2', port: 80 });
    runUntil(net, () => (k.epollWait(ep, 4, 0) as unknown[]).length === 1);
    expect(k.epollWait(ep, 4, 0)).toEqual([{ events: abi.EPOLLIN, data: 3 }]);
    expect(k.poll([{ fd: ep, events: abi.POLLIN }], 0)).toEqual([abi.POLLIN]);
    k.close(l);
    expect(k.epollWait(ep, 4, 0)).toEqual([]);
  });

  it('maxEvents smaller than the ready set serves every fd in turn', () => {
    const net = makeNet(63);
    const k = net.ini;
    const ep = k.epollCreate1(0);
    const fds = [tcpSocket(k), tcpSocket(k), tcpSocket(k)];
    fds.forEach((fd, i) => k.epollCtl(ep, abi.EPOLL_CTL_ADD, fd, abi.EPOLLOUT, i));
    // Fresh sockets report EPOLLOUT|EPOLLHUP, as Linux's tcp_poll does for TCP_CLOSE.
    const seen = [0, 1, 2, 3].map(() => (k.epollWait(ep, 1, 0) as { data: number; events: number }[])[0]!);
    expect(seen.map((e) => e.data)).toEqual([0, 1, 2, 0]);
    expect(seen[0]!.events).toBe(abi.EPOLLOUT | abi.EPOLLHUP);
    expect(k.epollWait(ep, 0, 0)).toBe(-abi.EINVAL);
  });
});
