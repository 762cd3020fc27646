import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { retriesTimeoutUs } from '../../../host/kernel/tcp-timers.js';
import { TGT_IP, connectPair, makeNet, runUntil, tcpSocket } from './net-harness.js';

const NODELAY: [number, number, number] = [abi.IPPROTO_TCP, abi.TCP_NODELAY, 1];

describe('TCP retransmission limits', () => {
  it('Linux retry budgets: retries2=15 from 200 ms is 924.6 s, 6 SYN retries from 1 s are 127 s', () => {
    expect(retriesTimeoutUs(15, 200_000)).toBe(924_600_000);
    expect(retriesTimeoutUs(6, 1_000_000)).toBe(127_000_000);
    expect(retriesTimeoutUs(3, 200_000)).toBe(3_000_000);
  });

  it('TCP_USER_TIMEOUT aborts with ETIMEDOUT exactly when unacked data is that old', () => {
    const net = makeNet(41, { latencyUs: 50 }, {}, 100_000);
    const { c } = connectPair(net, 4420, [NODELAY, [abi.IPPROTO_TCP, abi.TCP_USER_TIMEOUT, 5000]]);
    expect(net.ini.getsockopt(c, abi.IPPROTO_TCP, abi.TCP_USER_TIMEOUT)).toBe(5000);
    const ep = net.ini.epollCreate1(0);
    net.ini.epollCtl(ep, abi.EPOLL_CTL_ADD, c, abi.EPOLLIN, 1);
    net.link.partition(true);
    const t0 = net.world.now;
    expect(net.ini.sendmsg(c, [{ base: 0, len: 100 }], abi.MSG_NOSIGNAL)).toBe(100);
    runUntil(net, () => net.ini.sockInfo(c)!.state === 'CLOSE', 60_000_000);
    expect(net.world.now - t0).toBe(5_000_000);
    const abort = net.world.trace.events.find((e) => e.ev === 'tcp.abort')!;
    expect(abort.f).toMatchObject({ err: abi.ETIMEDOUT, why: 'user_timeout' });
    const evs = net.ini.epollWait(ep, 4, 0);
    expect(Array.isArray(evs) && evs[0]!.events & (abi.EPOLLERR | abi.EPOLLHUP)).toBe(abi.EPOLLERR | abi.EPOLLHUP);
    // sk_err is reported once, then the socket is simply dead.
    expect(net.ini.sendmsg(c, [{ base: 0, len: 1 }], abi.MSG_NOSIGNAL)).toBe(-abi.ETIMEDOUT);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 1 }], abi.MSG_NOSIGNAL)).toBe(-abi.EPIPE);
    expect(net.ini.readv(c, [{ base: 0, len: 1 }])).toBe(0);
    expect(net.ini.stats().totals.aborts).toBe(1);
  });

  it('recv reports the pending ETIMEDOUT too', () => {
    const net = makeNet(42);
    const { c } = connectPair(net, 4420, [NODELAY, [abi.IPPROTO_TCP, abi.TCP_USER_TIMEOUT, 1000]]);
    net.link.partition(true);
    net.ini.sendmsg(c, [{ base: 0, len: 10 }], 0);
    runUntil(net, () => net.ini.sockInfo(c)!.state === 'CLOSE', 10_000_000);
    expect(net.ini.recv(c, { base: 0, len: 1 }, 0)).toBe(-abi.ETIMEDOUT);
  });

  it('without TCP_USER_TIMEOUT the connection dies after 15 backed-off retries: 924.6 s', () => {
    const net = makeNet(43, { latencyUs: 50 });
    const { c } = connectPair(net, 4420, [NODELAY]);
    net.tgt.dev('eth0').setLink(false);
    const t0 = net.world.now;
    expect(net.ini.sendmsg(c, [{ base: 0, len: 100 }], 0)).toBe(100);
    runUntil(net, () => net.ini.sockInfo(c)!.state === 'CLOSE', 2_000_000_000);
    expect(net.world.now - t0).toBe(924_600_000);
    expect(net.ini.sockInfo(c)!.rtoFired).toBe(15);
    expect(net.ini.getsockopt(c, abi.SOL_SOCKET, abi.SO_ERROR)).toBe(abi.ETIMEDOUT);
  });

  it('an unanswered SYN gives up after 127 s with ETIMEDOUT', () => {
    const net = makeNet(44);
    net.link.partition(true);
    const c = tcpSocket(net.ini);
    const t0 = net.world.now;
    expect(net.ini.connect(c, { addr: TGT_IP, port: 4420 })).toBe(-abi.EINPROGRESS);
    runUntil(net, () => net.ini.sockInfo(c)!.state === 'CLOSE', 1_000_000_000);
    expect(net.world.now - t0).toBe(127_000_000);
    expect(net.ini.getsockopt(c, abi.SOL_SOCKET, abi.SO_ERROR)).toBe(abi.ETIMEDOUT);
  });

  it('RTO backs off exponentially from the 200 ms minimum', () => {
    const net = makeNet(45, { latencyUs: 50 }, {}, 100_000);
    const { c } = connectPair(net, 4420, [NODELAY]);
    net.link.partition(true);
    const t0 = net.world.now;
    net.ini.sendmsg(c, [{ base: 0, len: 10 }], 0);
    runUntil(net, () => net.ini.sockInfo(c)!.rtoFired === 5, 100_000_000);
    const times = net.world.trace.events.filter((e) => e.ev === 'tcp.rto').map((e) => e.t - t0);
    expect(times).toEqual([200_000, 600_000, 1_400_000, 3_000_000, 6_200_000]);
  });
});
