import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { payloadPool } from '../../../host/net/payload-pool.js';
import { connectPair, drain, fill, firstDiff, makeNet, pattern, runFor, runUntil, useUpQuickAcks } from './net-harness.js';

const NODELAY: [number, number, number] = [abi.IPPROTO_TCP, abi.TCP_NODELAY, 1];

describe('TCP data transfer', () => {
  it('segments by MSS and delivers the bytes in order', () => {
    const net = makeNet(11, { latencyUs: 20 }, { mss: 1000 }, 10_000);
    const { c, s } = connectPair(net, 4420, [NODELAY]);
    const data = pattern(3500, 1);
    fill(net.memIni, 0, data);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 3500 }], 0)).toBe(3500);
    runUntil(net, () => net.tgt.sockInfo(s)!.rcvQueued === 3500);
    const lens = net.world.trace.events
      .filter((e) => e.ev === 'tcp.seg' && e.f!['src'] === net.ini.sockInfo(c)!.local && (e.f!['len'] as number) > 0)
      .map((e) => e.f!['len']);
    expect(lens).toEqual([1000, 1000, 1000, 500]);
    expect(drain(net.tgt, net.memTgt, s)).toEqual(data);
  });

  it('SO_SNDBUF bounds unacked bytes: short writes, then EAGAIN, then room after ACKs', () => {
    const net = makeNet(12, { latencyUs: 100 });
    const { c, s } = connectPair(net, 4420, [[abi.SOL_SOCKET, abi.SO_SNDBUF, 4000], NODELAY]);
    expect(net.ini.getsockopt(c, abi.SOL_SOCKET, abi.SO_SNDBUF)).toBe(4000);
    fill(net.memIni, 0, pattern(10_000, 3));
    expect(net.ini.sendmsg(c, [{ base: 0, len: 3000 }], 0)).toBe(3000);
    expect(net.ini.sendmsg(c, [{ base: 3000, len: 3000 }], 0)).toBe(1000);
    expect(net.ini.sendmsg(c, [{ base: 4000, len: 10 }], 0)).toBe(-abi.EAGAIN);
    expect(net.ini.poll([{ fd: c, events: abi.POLLOUT }], 0)).toEqual([0]);
    expect(net.ini.sockInfo(c)!.unacked).toBe(4000);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(net.ini.poll([{ fd: c, events: abi.POLLOUT }], 0)).toEqual([abi.POLLOUT]);
    expect(net.ini.sendmsg(c, [{ base: 4000, len: 6000 }], 0)).toBe(4000);
    runUntil(net, () => net.tgt.sockInfo(s)!.rcvQueued === 8000);
    expect(drain(net.tgt, net.memTgt, s)).toEqual(pattern(10_000, 3).subarray(0, 8000));
  });

  it('delayed ACK once the quick ACKs ran out: one small unread segment waits 40 ms, two full ones do not', () => {
    const net = makeNet(13, { latencyUs: 10 }, { mss: 1000 });
    const { c, s } = connectPair(net, 4420, [NODELAY]);
    useUpQuickAcks(net, c, s);
    fill(net.memIni, 0, pattern(2000, 0));
    const t0 = net.world.now;
    expect(net.ini.sendmsg(c, [{ base: 0, len: 100 }], 0)).toBe(100);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(net.world.now - t0).toBeGreaterThanOrEqual(40_000);
    expect(net.world.now - t0).toBeLessThan(40_100);
    const t1 = net.world.now;
    expect(net.ini.sendmsg(c, [{ base: 0, len: 2000 }], 0)).toBe(2000);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(net.world.now - t1).toBeLessThan(100);
  });

  it('TCP_QUICKACK acknowledges every segment at once', () => {
    const net = makeNet(13, { latencyUs: 10 });
    const { c } = connectPair(net, 4420, [NODELAY, [abi.IPPROTO_TCP, abi.TCP_QUICKACK, 1]]);
    const t0 = net.world.now;
    expect(net.ini.sendmsg(c, [{ base: 0, len: 100 }], 0)).toBe(100);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(net.world.now - t0).toBeLessThan(100);
  });

  it('window updates follow Linux tcp_cleanup_rbuf: none while the peer sees over half the buffer', () => {
    const net = makeNet(15, { latencyUs: 10 }, { mss: 1000 });
    const { c, s } = connectPair(net, 4420, [[abi.SOL_SOCKET, abi.SO_RCVBUF, 64_000], NODELAY]);
    fill(net.memIni, 0, pattern(4000, 5));
    expect(net.ini.sendmsg(c, [{ base: 0, len: 4000 }], 0)).toBe(4000);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(net.ini.sockInfo(c)!.sndWnd).toBe(60_000);
    // Reading frees 4000 bytes, but the peer may still send 60000 of 64000: no ACK just for that.
    expect(drain(net.tgt, net.memTgt, s)).toEqual(pattern(4000, 5));
    runFor(net, 1000);
    expect(net.ini.sockInfo(c)!.sndWnd).toBe(60_000);
  });

  it('a read that reopens a closed window is advertised at once', () => {
    const net = makeNet(16, { latencyUs: 10 }, { mss: 1000 });
    const { c, s } = connectPair(net, 4420, [[abi.SOL_SOCKET, abi.SO_RCVBUF, 3000], NODELAY]);
    fill(net.memIni, 0, pattern(6000, 6));
    expect(net.ini.sendmsg(c, [{ base: 0, len: 6000 }], 0)).toBe(6000);
    runUntil(net, () => net.ini.sockInfo(c)!.sndWnd === 0 && net.ini.sockInfo(c)!.unacked === 3000);
    expect(drain(net.tgt, net.memTgt, s).length).toBe(3000);
    runFor(net, 100); // well before any persist probe (RTO >= 200 ms)
    expect(net.ini.sockInfo(c)!.probes).toBe(0);
    expect(net.tgt.sockInfo(s)!.rcvQueued).toBe(3000);
  });

  it('zero receive window: sender stops, a persist probe keeps it alive, reading reopens it', () => {
    const net = makeNet(14, { latencyUs: 10 }, { mss: 1000 });
    const { c, s } = connectPair(net, 4420, [[abi.SOL_SOCKET, abi.SO_RCVBUF, 3000], [abi.SOL_SOCKET, abi.SO_SNDBUF, 100_000], NODELAY]);
    const data = pattern(10_000, 9);
    fill(net.memIni, 0, data);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10_000 }], 0)).toBe(10_000);
    runFor(net, 5_000_000);
    expect(net.tgt.sockInfo(s)!.rcvQueued).toBe(3000);
    expect(net.ini.sockInfo(c)!.sndWnd).toBe(0);
    expect(net.ini.sockInfo(c)!.probes).toBeGreaterThan(0);
    expect(net.ini.sockInfo(c)!.state).toBe('ESTABLISHED');
    // Lose the window update: the next probe still reopens the flow.
    net.link.partition(true);
    const got = [drain(net.tgt, net.memTgt, s)];
    runFor(net, 100_000);
    net.link.partition(false);
    runUntil(net, () => {
      got.push(drain(net.tgt, net.memTgt, s));
      return got.reduce((a, b) => a + b.length, 0) === 10_000;
    }, 600_000_000);
    const all = new Uint8Array(10_000);
    let at = 0;
    for (const g of got) {
      all.set(g, at);
      at += g.length;
    }
    expect(firstDiff(all, data)).toBe(-1);
  });

  it.each([
    ['copied', 0],
    ['MSG_ZEROCOPY (pooled frame payloads)', abi.MSG_ZEROCOPY],
  ] as const)('random loss, duplication and reordering still deliver the exact byte stream, %s', (_, flags) => {
    const before = { ...payloadPool };
    const net = makeNet(15, { latencyUs: 30, jitterUs: 20, loss: 0.05, duplicate: 0.05, reorder: 0.05 }, { mss: 1000 });
    const { c, s } = connectPair(net, 4420, [[abi.SOL_SOCKET, abi.SO_SNDBUF, 1 << 20], [abi.SOL_SOCKET, abi.SO_ZEROCOPY, 1], NODELAY]);
    const data = pattern(200_000, 4);
    fill(net.memIni, 0, data);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 200_000 }], flags)).toBe(200_000);
    const parts: Uint8Array[] = [];
    let got = 0;
    runUntil(net, () => {
      const p = drain(net.tgt, net.memTgt, s);
      parts.push(p);
      got += p.length;
      return got === 200_000;
    }, 600_000_000);
    const all = new Uint8Array(got);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    expect(firstDiff(all, data)).toBe(-1);
    expect(net.ini.sockInfo(c)!.fastRetransmits).toBeGreaterThan(0);
    expect(net.ini.sockInfo(c)!.retransmits).toBeGreaterThan(0);
    expect(net.link.counters.dropped).toBeGreaterThan(0);
    expect(net.link.counters.duplicated).toBeGreaterThan(0);
    expect(net.link.counters.reordered).toBeGreaterThan(0);
    // Every pooled payload went back once its last (possibly duplicated) delivery was handled.
    runFor(net, 1_000_000);
    expect(payloadPool.taken > before.taken).toBe(flags !== 0);
    expect(payloadPool.live).toBe(before.live);
  });

  it('MSG_PEEK leaves the data queued', () => {
    const net = makeNet(16);
    const { c, s } = connectPair(net, 4420, [NODELAY]);
    fill(net.memIni, 0, [5, 6, 7]);
    net.ini.sendmsg(c, [{ base: 0, len: 3 }], 0);
    runUntil(net, () => net.tgt.sockInfo(s)!.rcvQueued === 3);
    expect(net.tgt.recv(s, { base: 100, len: 1 }, abi.MSG_PEEK)).toBe(1);
    expect(net.memTgt.u8[100]).toBe(5);
    expect(net.tgt.recv(s, { base: 100, len: 8 }, 0)).toBe(3);
    expect(Array.from(net.memTgt.u8.subarray(100, 103))).toEqual([5, 6, 7]);
    expect(net.tgt.recv(s, { base: 100, len: 8 }, 0)).toBe(-abi.EAGAIN);
  });
});
