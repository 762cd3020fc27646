import { describe, expect, it } from 'vitest';
import * as abi from '../../../host/gen/abi.js';
import type { CaptureEvent } from '../../../host/net/fabric.js';
import { Fabric } from '../../../host/net/fabric.js';
import { World } from '../../../host/sim/world.js';
import { Kernel } from '../../../host/kernel/kernel.js';
import { FakeMemory, INI_IP, TGT_IP, connectPair, fill, makeNet, pattern, runFor, runUntil } from './net-harness.js';

const NODELAY: [number, number, number] = [abi.IPPROTO_TCP, abi.TCP_NODELAY, 1];

describe('fabric, links and NICs', () => {
  it('paces frames by the line rate and offers each one to capture listeners with real seq numbers', () => {
    const net = makeNet(51, { latencyUs: 5 }, { rateBps: 1e9 });
    const { c } = connectPair(net, 4420, [NODELAY, [abi.SOL_SOCKET, abi.SO_SNDBUF, 1 << 20]]);
    const caps: CaptureEvent[] = [];
    const off = net.fabric.onCapture((e) => caps.push(e));
    const data = pattern(5 * 1460, 2);
    fill(net.memIni, 0, data);
    expect(net.ini.sendmsg(c, [{ base: 0, len: data.length }], 0)).toBe(data.length);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    off();
    const out = caps.filter((e) => e.from === 'ini/eth0');
    expect(out.map((e) => e.seg.len)).toEqual([1460, 1460, 1460, 1460, 1460]);
    // (1460 + 54) * 8 bits at 1 Gbit/s = 12.1 µs, rounded up to 13 µs per frame.
    const t = out.slice(0, 5).map((e) => e.t - out[0]!.t);
    expect(t).toEqual([0, 13, 26, 39, 52]);
    for (let i = 1; i < 5; i++) expect(out[i]!.seg.seq).toBe((out[0]!.seg.seq + i * 1460) >>> 0);
    expect(out[2]!.seg.payload).toEqual(data.subarray(2920, 4380));
    expect(out[0]!.link).toBe('ini/eth0<->tgt/eth0');
    expect(out[0]!.seg.src).toBe(INI_IP);
    expect(out[0]!.seg.dst).toBe(TGT_IP);
  });

  it('counts loss per link and traces drops with a reason', () => {
    const net = makeNet(52, { loss: 1 }, {}, 1000);
    const c = net.ini.socket(abi.AF_INET, abi.SOCK_STREAM, 0);
    net.ini.connect(c, { addr: TGT_IP, port: 1 });
    runFor(net, 4_000_000);
    expect(net.link.counters.sent).toBe(3); // SYN at 0, 1 s, 3 s
    expect(net.link.counters.dropped).toBe(3);
    expect(net.world.trace.events.filter((e) => e.ev === 'tcp.drop').map((e) => e.f!['reason'])).toEqual(['loss', 'loss', 'loss']);
  });

  it('link down on either NIC drops frames in flight and blocks both directions until up', () => {
    const net = makeNet(53, { latencyUs: 1000 });
    const { c, s } = connectPair(net, 4420, [NODELAY]);
    net.ini.sendmsg(c, [{ base: 0, len: 10 }], 0);
    runFor(net, 500); // on the wire
    net.ini.dev('eth0').setLink(false);
    runFor(net, 1000);
    expect(net.link.up).toBe(false);
    expect(net.link.counters.dropped).toBe(1);
    expect(net.tgt.sockInfo(s)!.rcvQueued).toBe(0);
    expect(net.ini.ifaddrs()[1]!.flags).toBe(abi.IFF_UP);
    net.ini.dev('eth0').setLink(true);
    runUntil(net, () => net.tgt.sockInfo(s)!.rcvQueued === 10, 5_000_000);
    const ev = net.world.trace;
    expect(ev.count).toBeGreaterThan(0);
  });

  it('only simulated addresses, unique across the fabric', () => {
    const world = new World(1);
    const fabric = new Fabric(world);
    const k = new Kernel(world, 'm', new FakeMemory(1024), fabric);
    expect(() => k.addNetDev({ name: 'eth0', addr: '10.0.0.1' })).toThrow(/not simulated/);
    k.addNetDev({ name: 'eth0', addr: '192.0.2.10' });
    const k2 = new Kernel(world, 'n', new FakeMemory(1024), fabric);
    expect(() => k2.addNetDev({ name: 'eth0', addr: '192.0.2.10' })).toThrow(/already used/);
  });

  it('stats() exposes per-socket and per-device counters', () => {
    const net = makeNet(54);
    const { c } = connectPair(net, 4420, [NODELAY]);
    net.ini.sendmsg(c, [{ base: 0, len: 3000 }], 0);
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
    const st = net.ini.stats();
    expect(st.totals.bytesOut).toBe(3000);
    expect(st.sockets.find((x) => x.fd === c)!.bytesAcked).toBe(3000);
    const eth = st.devs.find((d) => d.name === 'eth0')!;
    expect(eth.txBytes).toBe(3000);
    expect(net.tgt.stats().totals.bytesIn).toBe(3000);
    expect(net.ini.counters()['eth0.txBytes']).toBe(3000);
  });
});
