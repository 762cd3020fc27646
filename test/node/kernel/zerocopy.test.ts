import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import type { Kernel } from '../../../host/kernel/kernel.js';
import type { SockExtendedErr } from '../../../host/kernel/host-kernel.js';
import { ZC, connectPair, drain, fill, makeNet, runFor, runUntil, tcpSocket, listenOn, useUpQuickAcks } from './net-harness.js';

const ZCF = abi.MSG_ZEROCOPY | abi.MSG_NOSIGNAL;

function readErrqueue(k: Kernel, fd: number): SockExtendedErr[] {
  const out: SockExtendedErr[] = [];
  for (;;) {
    const r = k.recvmsg(fd, [], abi.MSG_ERRQUEUE);
    if (typeof r === 'number') {
      expect(r).toBe(-abi.EAGAIN);
      return out;
    }
    expect(r.rc).toBe(0);
    expect(r.cmsg!.level).toBe(abi.SOL_IP);
    expect(r.cmsg!.type).toBe(abi.IP_RECVERR);
    out.push(r.cmsg!.err);
  }
}

function ranges(errs: SockExtendedErr[]): [number, number, number][] {
  return errs.map((e) => {
    expect(e.ee_errno).toBe(0);
    expect(e.ee_origin).toBe(abi.SO_EE_ORIGIN_ZEROCOPY);
    return [e.ee_info, e.ee_data, e.ee_code];
  });
}

describe('MSG_ZEROCOPY', () => {
  it('is lazy: bytes changed after sendmsg returned and before transmit reach the peer', () => {
    const net = makeNet(21);
    const { c, s } = connectPair(net, 4420, ZC);
    fill(net.memIni, 0, [1, 1, 1, 1]);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 4 }], ZCF)).toBe(4);
    fill(net.memIni, 0, [9, 9, 9, 9]); // the application reuses its buffer too early
    runUntil(net, () => net.tgt.sockInfo(s)!.rcvQueued === 4);
    expect(Array.from(drain(net.tgt, net.memTgt, s))).toEqual([9, 9, 9, 9]);
  });

  it('a plain send copies at once: later buffer changes do not reach the peer', () => {
    const net = makeNet(21);
    const { c, s } = connectPair(net, 4420, ZC);
    fill(net.memIni, 0, [1, 2, 3, 4]);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 4 }], abi.MSG_NOSIGNAL)).toBe(4);
    fill(net.memIni, 0, [9, 9, 9, 9]);
    runUntil(net, () => net.tgt.sockInfo(s)!.rcvQueued === 4);
    expect(Array.from(drain(net.tgt, net.memTgt, s))).toEqual([1, 2, 3, 4]);
    expect(net.ini.sockInfo(c)!.zcIds).toBe(0);
  });

  it('notifies [0,0] only after the ACK arrives, and EPOLLERR is level-triggered meanwhile', () => {
    const net = makeNet(22, { latencyUs: 1000 });
    const { c, s } = connectPair(net, 4420, ZC);
    const ep = net.ini.epollCreate1(0);
    expect(net.ini.epollCtl(ep, abi.EPOLL_CTL_ADD, c, abi.EPOLLIN, 5)).toBe(0);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 100 }], ZCF)).toBe(100);
    expect(readErrqueue(net.ini, c)).toEqual([]);
    // Delivered but not yet acknowledged (the peer delays its ACK): still nothing.
    runUntil(net, () => net.tgt.sockInfo(s)!.rcvQueued === 100);
    expect(net.ini.sockInfo(c)!.errqueueLen).toBe(0);
    expect(net.ini.epollWait(ep, 4, 0)).toEqual([]);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(net.ini.sockInfo(c)!.errqueueLen).toBe(1);
    // EPOLLERR although only EPOLLIN was asked for, on every wait until the queue is read.
    expect(net.ini.epollWait(ep, 4, 0)).toEqual([{ events: abi.EPOLLERR, data: 5 }]);
    expect(net.ini.epollWait(ep, 4, 0)).toEqual([{ events: abi.EPOLLERR, data: 5 }]);
    expect(net.ini.poll([{ fd: c, events: 0 }], 0)).toEqual([abi.POLLERR]);
    expect(ranges(readErrqueue(net.ini, c))).toEqual([[0, 0, 0]]);
    expect(net.ini.epollWait(ep, 4, 0)).toEqual([]);
  });

  it('one id per flagged call that accepted bytes; none for plain calls, EAGAIN or without SO_ZEROCOPY', () => {
    const net = makeNet(23);
    const { c } = connectPair(net, 4420, [...ZC, [abi.SOL_SOCKET, abi.SO_SNDBUF, 1000]]);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 600 }], ZCF)).toBe(600); // id 0
    expect(net.ini.sendmsg(c, [{ base: 0, len: 100 }], abi.MSG_NOSIGNAL)).toBe(100); // no id
    expect(net.ini.sendmsg(c, [{ base: 0, len: 600 }], ZCF)).toBe(300); // short write, id 1
    expect(net.ini.sendmsg(c, [{ base: 0, len: 600 }], ZCF)).toBe(-abi.EAGAIN); // no id
    expect(net.ini.sendmsg(c, [], ZCF)).toBe(0); // zero length, no id
    expect(net.ini.sockInfo(c)!.zcIds).toBe(2);
    expect(net.ini.sockInfo(c)!.zcKey).toBe(2);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(ranges(readErrqueue(net.ini, c))).toEqual([[0, 1, 0]]);

    // Without SO_ZEROCOPY the flag is ignored: a plain copy, no id, no notification.
    const net2 = makeNet(23);
    const p = connectPair(net2, 4420, [[abi.IPPROTO_TCP, abi.TCP_NODELAY, 1]]);
    fill(net2.memIni, 0, [4, 4]);
    expect(net2.ini.sendmsg(p.c, [{ base: 0, len: 2 }], ZCF)).toBe(2);
    fill(net2.memIni, 0, [7, 7]);
    runUntil(net2, () => net2.ini.sockInfo(p.c)!.unacked === 0);
    runFor(net2, 100_000);
    expect(Array.from(drain(net2.tgt, net2.memTgt, p.s))).toEqual([4, 4]);
    expect(net2.ini.sockInfo(p.c)!.zcIds).toBe(0);
    expect(readErrqueue(net2.ini, p.c)).toEqual([]);
  });

  it('coalesces consecutive ids into one range when the queue is not read in between', () => {
    const net = makeNet(24, { latencyUs: 100 });
    const { c } = connectPair(net, 4420, ZC);
    for (let i = 0; i < 5; i++) expect(net.ini.sendmsg(c, [{ base: i * 10, len: 10 }], ZCF)).toBe(10);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(net.ini.sockInfo(c)!.zcNotified).toBe(5);
    expect(ranges(readErrqueue(net.ini, c))).toEqual([[0, 4, 0]]);
    // Reading in between yields separate ranges.
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], ZCF)).toBe(10);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(ranges(readErrqueue(net.ini, c))).toEqual([[5, 5, 0]]);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], ZCF)).toBe(10);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(ranges(readErrqueue(net.ini, c))).toEqual([[6, 6, 0]]);
  });

  it('ids wrap from 2^32-1 to 0 and a range may span the wrap', () => {
    const net = makeNet(25);
    const { c } = connectPair(net, 4420, ZC);
    net.ini.setZerocopyKey(c, 0xfffffffe);
    for (let i = 0; i < 3; i++) expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], ZCF)).toBe(10);
    expect(net.ini.sockInfo(c)!.zcKey).toBe(1);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(ranges(readErrqueue(net.ini, c))).toEqual([[0xfffffffe, 0, 0]]);
  });

  it('a retransmission re-reads memory: a lost segment carries the new bytes the second time', () => {
    const net = makeNet(26, { latencyUs: 100 });
    const { c, s } = connectPair(net, 4420, ZC);
    fill(net.memIni, 0, [1, 2, 3]);
    net.link.partition(true);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 3 }], ZCF)).toBe(3);
    runFor(net, 1000); // first transmission is lost in the partition
    expect(net.link.counters.dropped).toBe(1);
    fill(net.memIni, 0, [7, 8, 9]);
    net.link.partition(false);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0, 5_000_000);
    expect(net.ini.sockInfo(c)!.retransmits).toBe(1);
    expect(Array.from(drain(net.tgt, net.memTgt, s))).toEqual([7, 8, 9]);
    expect(ranges(readErrqueue(net.ini, c))).toEqual([[0, 0, 0]]);
  });

  it('no notification while the link is down; it follows once the link is back up', () => {
    const net = makeNet(27, { latencyUs: 100 });
    const { c, s } = connectPair(net, 4420, ZC);
    net.tgt.dev('eth0').setLink(false);
    expect(net.tgt.ifaddrs()[1]!.flags & abi.IFF_RUNNING).toBe(0);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 1000 }], ZCF)).toBe(1000);
    runFor(net, 10_000_000);
    expect(net.ini.sockInfo(c)!.errqueueLen).toBe(0);
    expect(net.ini.sockInfo(c)!.rtoFired).toBeGreaterThan(3);
    expect(net.tgt.sockInfo(s)!.rcvQueued).toBe(0);
    net.tgt.dev('eth0').setLink(true);
    runUntil(net, () => net.ini.sockInfo(c)!.errqueueLen === 1, 60_000_000);
    expect(ranges(readErrqueue(net.ini, c))).toEqual([[0, 0, 0]]);
    expect(net.tgt.sockInfo(s)!.rcvQueued).toBe(1000);
  });

  it('a retransmission still queued on the NIC holds the notification until it has been sent', () => {
    const net = makeNet(28, { latencyUs: 10 });
    const { c, s } = connectPair(net, 4420, ZC);
    useUpQuickAcks(net, c, s);
    // From now on the sender's NIC starts each transmission 180 ms after it was queued (slow DMA),
    // so the delayed ACK (40 ms) arrives after the 200 ms RTO queued a spurious retransmission.
    const eth = net.ini.dev('eth0');
    eth.txDelayUs = 180_000;
    const t0 = net.world.now;
    expect(net.ini.sendmsg(c, [{ base: 0, len: 100 }], ZCF)).toBe(100);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(net.world.now - t0).toBe(180_000 + 1 + 10 + 40_000 + 1 + 10);
    expect(net.ini.sockInfo(c)!.retransmits).toBe(1);
    expect(eth.queued).toBe(1);
    expect(net.ini.sockInfo(c)!.errqueueLen).toBe(0);
    runUntil(net, () => net.ini.sockInfo(c)!.errqueueLen === 1);
    // The retransmission was queued at t0+200 ms, started 180 ms later and took 1 µs.
    expect(net.world.now - t0).toBe(200_000 + 180_000 + 1);
    expect(ranges(readErrqueue(net.ini, c))).toEqual([[0, 0, 0]]);
  });

  it('ENOBUFS fault knob fails flagged calls without consuming ids', () => {
    const net = makeNet(29);
    const { c } = connectPair(net, 4420, ZC);
    net.ini.injectZerocopyNobufs(c, 2);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], ZCF)).toBe(-abi.ENOBUFS);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], abi.MSG_NOSIGNAL)).toBe(10);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], ZCF)).toBe(-abi.ENOBUFS);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], ZCF)).toBe(10);
    expect(net.ini.sockInfo(c)!.zcIds).toBe(1);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(ranges(readErrqueue(net.ini, c))).toEqual([[0, 0, 0]]);
  });

  it('loopback delivery copies: notifications carry SO_EE_CODE_ZEROCOPY_COPIED', () => {
    const net = makeNet(30);
    const k = net.ini;
    const l = listenOn(k, 5000, ZC);
    const c = tcpSocket(k);
    for (const [lvl, n, v] of ZC) k.setsockopt(c, lvl, n, v);
    expect(k.connect(c, { addr: '127.0.0.1', port: 5000 })).toBe(-abi.EINPROGRESS);
    let s = -1;
    runUntil(net, () => {
      const r = k.accept(l);
      if (typeof r !== 'number') s = r.fd;
      return s >= 0;
    });
    fill(net.memIni, 0, [3, 1, 4]);
    expect(k.sendmsg(c, [{ base: 0, len: 3 }], ZCF)).toBe(3);
    runUntil(net, () => k.sockInfo(c)!.errqueueLen === 1);
    expect(ranges(readErrqueue(k, c))).toEqual([[0, 0, abi.SO_EE_CODE_ZEROCOPY_COPIED]]);
    expect(k.readv(s, [{ base: 100, len: 3 }])).toBe(3);
    expect(Array.from(net.memIni.u8.subarray(100, 103))).toEqual([3, 1, 4]);
  });

  it('an abort purges the write queue: unacked zero-copy sends are notified while the fd is open', () => {
    const net = makeNet(32, { latencyUs: 100 });
    const { c } = connectPair(net, 4420, [...ZC, [abi.IPPROTO_TCP, abi.TCP_USER_TIMEOUT, 2000]]);
    const ep = net.ini.epollCreate1(0);
    net.ini.epollCtl(ep, abi.EPOLL_CTL_ADD, c, abi.EPOLLIN, 7);
    net.tgt.dev('eth0').setLink(false);
    for (let i = 0; i < 3; i++) expect(net.ini.sendmsg(c, [{ base: i * 100, len: 100 }], ZCF)).toBe(100);
    runFor(net, 1_000_000);
    // Before the abort nothing is ACKed, so nothing is notified.
    expect(net.ini.sockInfo(c)!.errqueueLen).toBe(0);
    expect(net.ini.sockInfo(c)!.zcPending).toBe(3);
    runUntil(net, () => net.ini.sockInfo(c)!.state === 'CLOSE', 10_000_000);
    // tcp_write_err: sk_err, tcp_write_queue_purge (the uargs are released: one coalesced range), tcp_done.
    expect(net.ini.sockInfo(c)!.zcPending).toBe(0);
    const evs = net.ini.epollWait(ep, 4, 0);
    // Registered for EPOLLIN only (EPOLLERR and EPOLLHUP are always reported).
    expect(evs).toEqual([{ events: abi.EPOLLERR | abi.EPOLLHUP | abi.EPOLLIN, data: 7 }]);
    expect(ranges(readErrqueue(net.ini, c))).toEqual([[0, 2, 0]]);
    expect(net.ini.readv(c, [{ base: 0, len: 1 }])).toBe(-abi.ETIMEDOUT);
    expect(net.ini.readv(c, [{ base: 0, len: 1 }])).toBe(0);
    // Error queue drained and sk_err consumed: no EPOLLERR any more, the dead socket stays readable.
    expect(net.ini.epollWait(ep, 4, 0)).toEqual([{ events: abi.EPOLLHUP | abi.EPOLLIN, data: 7 }]);
  });

  it('closing the socket drops pending notifications (the socket is dead)', () => {
    const net = makeNet(31, { latencyUs: 100 });
    const { c } = connectPair(net, 4420, ZC);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], ZCF)).toBe(10);
    const sock = net.ini.sock(c)!;
    net.ini.close(c);
    runFor(net, 1_000_000);
    expect(sock.zc.notified).toBe(0);
    expect(sock.errq.length).toBe(0);
  });
});
