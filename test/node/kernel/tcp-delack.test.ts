/**
 * When the emulated kernel acknowledges, rule by rule after Linux (tcp_input.c __tcp_ack_snd_check,
 * tcp_event_data_recv, tcp_measure_rcv_mss; tcp_output.c tcp_send_delayed_ack,
 * tcp_event_data_sent, tcp_nagle_check/tcp_minshall_check; tcp.c __tcp_cleanup_rbuf; tcp_timer.c
 * delayed-ACK handler), plus the pure AckControl state the rules live in.
 */
import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import { AckControl, TCP_ATO_MIN_US, TCP_DELACK_MAX_US } from '../../../host/kernel/tcp-delack.js';
import { connectPair, drain, fill, makeNet, pattern, runFor, runUntil, useUpQuickAcks, type Net } from './net-harness.js';

const NODELAY: [number, number, number] = [abi.IPPROTO_TCP, abi.TCP_NODELAY, 1];

/** Payload lengths of the data segments ini sent, in order. */
function sentLens(net: Net, c: number): number[] {
  const src = net.ini.sockInfo(c)!.local;
  return net.world.trace.events
    .filter((e) => e.ev === 'tcp.seg' && e.f!['src'] === src && (e.f!['len'] as number) > 0)
    .map((e) => e.f!['len'] as number);
}

/** Time from now until everything ini wrote is acknowledged. */
function timeToAck(net: Net, c: number): number {
  const t0 = net.world.now;
  runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
  return net.world.now - t0;
}

describe('receiver ACK timing (Linux rules)', () => {
  it('quick-ack mode at connection start: the first small segments are acknowledged at once', () => {
    const net = makeNet(41, { latencyUs: 10 }, { mss: 1000 });
    const { c, s } = connectPair(net, 4420, [NODELAY]);
    fill(net.memIni, 0, pattern(100, 1));
    expect(net.ini.sendmsg(c, [{ base: 0, len: 100 }], 0)).toBe(100);
    expect(timeToAck(net, c)).toBeLessThan(100);
    // tcp_incr_quickack: min(16, rcv_wnd / (2 * rcv_mss)) with rcv_mss first guessed as 536;
    // one was used by the ACK just sent.
    expect(net.tgt.sockInfo(s)!.quickAcks).toBe(15);
  });

  it('the quick-ack count follows the receive window: 4000 B of buffer gives 3', () => {
    const net = makeNet(42, { latencyUs: 10 }, { mss: 1000 });
    const { c, s } = connectPair(net, 4420, [[abi.SOL_SOCKET, abi.SO_RCVBUF, 4000], NODELAY]);
    expect(net.tgt.sockInfo(s)!.rcvMss).toBe(536);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], 0)).toBe(10);
    expect(timeToAck(net, c)).toBeLessThan(100);
    expect(net.tgt.sockInfo(s)!.quickAcks).toBe(2); // floor(4000 / 1072) = 3, one used
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], 0)).toBe(10);
    expect(timeToAck(net, c)).toBeLessThan(100);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], 0)).toBe(10);
    expect(timeToAck(net, c)).toBeLessThan(100);
    expect(net.tgt.sockInfo(s)!.quickAcks).toBe(0);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], 0)).toBe(10);
    expect(timeToAck(net, c)).toBeGreaterThanOrEqual(TCP_ATO_MIN_US);
  });

  it('more than one full segment unacknowledged is ACKed at once; exactly one waits', () => {
    const net = makeNet(43, { latencyUs: 10 }, { mss: 1000 });
    const { c, s } = connectPair(net, 4420, [NODELAY]);
    useUpQuickAcks(net, c, s);
    fill(net.memIni, 0, pattern(3000, 2));
    expect(net.ini.sendmsg(c, [{ base: 0, len: 1000 }], 0)).toBe(1000);
    expect(timeToAck(net, c)).toBeGreaterThanOrEqual(TCP_ATO_MIN_US);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 2000 }], 0)).toBe(2000);
    expect(timeToAck(net, c)).toBeLessThan(100);
  });

  it('a read that empties the queue after a small pushed segment ACKs at once (not interactive)', () => {
    const net = makeNet(44, { latencyUs: 10 }, { mss: 1000 });
    const { c, s } = connectPair(net, 4420, [NODELAY]);
    useUpQuickAcks(net, c, s);
    fill(net.memIni, 0, pattern(100, 3));
    const t0 = net.world.now;
    expect(net.ini.sendmsg(c, [{ base: 0, len: 100 }], 0)).toBe(100);
    runUntil(net, () => net.tgt.sockInfo(s)!.rcvQueued === 100);
    runFor(net, 5000);
    expect(net.ini.sockInfo(c)!.unacked).toBe(100); // still owed: the timer has not fired
    expect(drain(net.tgt, net.memTgt, s)).toEqual(pattern(100, 3));
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(net.world.now - t0).toBeLessThan(5100);
  });

  it('an interactive (pingpong) receiver does not ACK on read: the reply or the timer carries it', () => {
    const net = makeNet(45, { latencyUs: 10 }, { mss: 1000 });
    const { c, s } = connectPair(net, 4420, [NODELAY]);
    useUpQuickAcks(net, c, s);
    fill(net.memIni, 0, pattern(100, 4));
    fill(net.memTgt, 0, pattern(50, 5));
    // A request and its prompt answer make tgt pingpong (tcp_event_data_sent within ato).
    expect(net.ini.sendmsg(c, [{ base: 0, len: 100 }], 0)).toBe(100);
    runUntil(net, () => net.tgt.sockInfo(s)!.rcvQueued === 100);
    drain(net.tgt, net.memTgt, s);
    expect(net.tgt.sendmsg(s, [{ base: 0, len: 50 }], 0)).toBe(50);
    expect(net.tgt.sockInfo(s)!.pingpong).toBe(1);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0 && net.tgt.sockInfo(s)!.unacked === 0);
    drain(net.ini, net.memIni, c);
    // The next request, read at once, stays unacknowledged until the 40 ms timer...
    const t0 = net.world.now;
    expect(net.ini.sendmsg(c, [{ base: 0, len: 100 }], 0)).toBe(100);
    runUntil(net, () => net.tgt.sockInfo(s)!.rcvQueued === 100);
    drain(net.tgt, net.memTgt, s);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(net.world.now - t0).toBeGreaterThanOrEqual(TCP_ATO_MIN_US);
    // ...whose firing shows the prediction was wrong: tgt leaves pingpong mode.
    expect(net.tgt.sockInfo(s)!.pingpong).toBe(0);
    expect(net.tgt.sockInfo(s)!.ato).toBe(TCP_ATO_MIN_US);
  });

  it('a delayed-ACK timeout outside pingpong doubles ato, yet the RTT keeps the delay at 40 ms', () => {
    const net = makeNet(46, { latencyUs: 10 }, { mss: 1000 });
    const { c, s } = connectPair(net, 4420, [NODELAY]);
    useUpQuickAcks(net, c, s);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], 0)).toBe(10);
    expect(timeToAck(net, c)).toBeGreaterThanOrEqual(TCP_ATO_MIN_US);
    expect(net.tgt.sockInfo(s)!.ato).toBe(2 * TCP_ATO_MIN_US);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], 0)).toBe(10);
    // ato is 80 ms, but tcp_send_delayed_ack bounds it by max(srtt, TCP_DELACK_MIN).
    const d = timeToAck(net, c);
    expect(d).toBeGreaterThanOrEqual(TCP_ATO_MIN_US);
    expect(d).toBeLessThan(TCP_ATO_MIN_US + 100);
  });

  it('duplicate data re-enters quick-ack mode', () => {
    // Drop the receiver's ACKs for a while so the sender retransmits what tgt already has.
    const net = makeNet(47, { latencyUs: 10 }, { mss: 1000 });
    const { c, s } = connectPair(net, 4420, [NODELAY]);
    useUpQuickAcks(net, c, s);
    expect(net.tgt.sockInfo(s)!.quickAcks).toBe(0);
    fill(net.memIni, 0, pattern(10, 6));
    net.ini.dev('eth0').setLink(false);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 10 }], 0)).toBe(10);
    net.ini.dev('eth0').setLink(true); // the frame is already queued; tgt's ACK will be lost
    runUntil(net, () => net.tgt.sockInfo(s)!.rcvQueued === 10);
    net.ini.dev('eth0').setLink(false);
    runFor(net, 45_000); // tgt's delayed ACK is dropped at ini's NIC
    net.ini.dev('eth0').setLink(true);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0, 5_000_000); // after the RTO resend
    expect(net.ini.sockInfo(c)!.retransmits).toBeGreaterThan(0);
    expect(net.tgt.sockInfo(s)!.quickAcks).toBeGreaterThan(0);
  });
});

describe('sender: Nagle as Linux (tcp_nagle_check with tcp_minshall_check)', () => {
  it('without TCP_NODELAY a sub-MSS tail goes at once when no earlier small segment is unacked', () => {
    const net = makeNet(48, { latencyUs: 100 }, { mss: 1000 }, 10_000);
    const { c, s } = connectPair(net, 4420);
    useUpQuickAcks(net, c, s);
    fill(net.memIni, 0, pattern(3000, 7));
    const before = sentLens(net, c).length;
    expect(net.ini.sendmsg(c, [{ base: 0, len: 2500 }], 0)).toBe(2500);
    runFor(net, 150); // delivered (traced on arrival), not yet acknowledged
    expect(sentLens(net, c).slice(before)).toEqual([1000, 1000, 500]);
    // The 500-byte segment is unacknowledged (its ACK is delayed), so a second small write waits.
    expect(net.ini.sendmsg(c, [{ base: 2500, len: 100 }], 0)).toBe(100);
    runFor(net, 150);
    expect(sentLens(net, c).slice(before)).toEqual([1000, 1000, 500]);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    expect(sentLens(net, c).slice(before)).toEqual([1000, 1000, 500, 100]);
  });

  it('with TCP_NODELAY small writes never wait', () => {
    const net = makeNet(49, { latencyUs: 100 }, { mss: 1000 }, 10_000);
    const { c, s } = connectPair(net, 4420, [NODELAY]);
    useUpQuickAcks(net, c, s);
    const before = sentLens(net, c).length;
    expect(net.ini.sendmsg(c, [{ base: 0, len: 500 }], 0)).toBe(500);
    expect(net.ini.sendmsg(c, [{ base: 0, len: 100 }], 0)).toBe(100);
    runFor(net, 150);
    expect(sentLens(net, c).slice(before)).toEqual([500, 100]);
  });

  it('an accepted socket inherits TCP_NODELAY from its listener', () => {
    const net = makeNet(50, { latencyUs: 10 });
    const { c, s } = connectPair(net, 4420, [NODELAY]);
    expect(net.tgt.getsockopt(s, abi.IPPROTO_TCP, abi.TCP_NODELAY)).toBe(1);
    expect(net.ini.getsockopt(c, abi.IPPROTO_TCP, abi.TCP_NODELAY)).toBe(1);
    const other = connectPair(net, 4421);
    expect(net.tgt.getsockopt(other.s, abi.IPPROTO_TCP, abi.TCP_NODELAY)).toBe(0);
  });
});

describe('AckControl', () => {
  it('measures rcv_mss: full segments raise it (bounded by advmss); a repeated stable size sets it', () => {
    const a = new AckControl();
    a.start(1448, 131072);
    expect(a.rcvMss).toBe(536);
    a.measureRcvMss(1448, false, 1448);
    expect(a.rcvMss).toBe(1448);
    expect(a.pushed).toBe(false);
    a.measureRcvMss(1000, false, 1448); // first of a smaller stable size: remembered only
    expect(a.rcvMss).toBe(1448);
    a.measureRcvMss(1000, false, 1448);
    expect(a.rcvMss).toBe(1000);
  });

  it('small pushed segments set PUSHED, a second one PUSHED2; a pushed full one sets PUSHED', () => {
    const a = new AckControl();
    a.start(1448, 131072);
    a.measureRcvMss(100, true, 1448);
    expect([a.pushed, a.pushed2]).toEqual([true, false]);
    a.measureRcvMss(100, true, 1448);
    expect([a.pushed, a.pushed2]).toEqual([true, true]);
    a.ackSent();
    expect([a.pushed, a.pushed2, a.scheduled]).toEqual([false, false, false]);
    a.measureRcvMss(536, true, 1448); // >= rcv_mss (536) with PSH (Linux 6.7 MSS-boundary fix)
    expect(a.pushed).toBe(true);
  });

  it('only ACKs of new data use up quick-ack credit; running out resets ato', () => {
    const a = new AckControl();
    a.start(1000, 4000);
    a.dataReceived(0, 100, true, 1000, 4000, 200_000);
    expect(a.quick).toBe(3);
    a.ackSent();
    expect(a.quick).toBe(2);
    a.ackSent(); // nothing was owed (a pure window update): no credit used
    expect(a.quick).toBe(2);
    a.ato = 123_000;
    a.scheduled = true;
    a.ackSent();
    a.scheduled = true;
    a.ackSent();
    expect(a.quick).toBe(0);
    expect(a.ato).toBe(TCP_ATO_MIN_US);
  });

  it('ato adapts to the arrival gap and the delayed-ACK timeout is bounded', () => {
    const a = new AckControl();
    a.start(1448, 131072);
    a.dataReceived(0, 100, true, 1448, 131072, 200_000);
    expect(a.ato).toBe(TCP_ATO_MIN_US);
    a.dataReceived(30_000, 100, true, 1448, 131072, 200_000); // gap 30 ms < ato: ato/2 + gap
    expect(a.ato).toBe(20_000 + 30_000);
    a.dataReceived(31_000, 100, true, 1448, 131072, 200_000); // gap 1 ms: ato/2 + ATO_MIN/2
    expect(a.ato).toBe(25_000 + 20_000);
    a.ato = 400_000;
    a.pushed = false;
    expect(a.delackTimeout(0)).toBe(TCP_DELACK_MAX_US); // icsk_delack_max caps the HZ/2 bound
    expect(a.delackTimeout(60_000)).toBe(60_000); // a known RTT bounds it
    expect(a.delackTimeout(1_000)).toBe(TCP_ATO_MIN_US); // ...but never below TCP_DELACK_MIN
  });

  it('a missed delayed ACK doubles ato (up to the RTO) or, when pingpong, leaves pingpong', () => {
    const a = new AckControl();
    a.start(1448, 131072);
    a.ato = TCP_ATO_MIN_US;
    a.delackFired(60_000);
    expect(a.ato).toBe(60_000);
    a.pingpong = 1;
    a.ato = 90_000;
    a.delackFired(200_000);
    expect([a.pingpong, a.ato]).toEqual([0, TCP_ATO_MIN_US]);
  });

  it('ackOnRead: more than one segment owed, or a pushed segment drained (two if pingpong)', () => {
    const a = new AckControl();
    a.start(1000, 131072);
    expect(a.ackOnRead(100, 100, true)).toBe(false); // nothing owed
    a.scheduled = true;
    expect(a.ackOnRead(100, 1001, false)).toBe(true);
    expect(a.ackOnRead(100, 100, true)).toBe(false); // not pushed
    a.pushed = true;
    expect(a.ackOnRead(100, 100, false)).toBe(false); // queue not empty
    expect(a.ackOnRead(100, 100, true)).toBe(true);
    a.pingpong = 1;
    expect(a.ackOnRead(100, 100, true)).toBe(false);
    a.pushed2 = true;
    expect(a.ackOnRead(100, 100, true)).toBe(true);
  });
});
