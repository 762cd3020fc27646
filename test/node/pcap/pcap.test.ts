/**
 * The pcap writer: frame layout and checksums checked here byte by byte, then a whole replay's
 * capture read back by tshark (installed on demand): it must parse with no malformed packet and no
 * bad checksum, its sequence numbers must be consistent, and the stream it reassembles must be
 * exactly the bytes the target received.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Fabric } from '../../../host/net/fabric.js';
import { encodeFrame, macFor, PcapRecorder, PcapWriter, splitForIpv4, WSCALE } from '../../../host/net/pcap.js';
import { TH_ACK, TH_FIN, TH_PSH, TH_SYN, type TcpSegment } from '../../../host/net/segment.js';
import type { RunResult } from '../../../host/scenarios/contract.js';
import { zcopyThreshold } from '../../../host/scenarios/zcopy-threshold.js';
import { resolveParams } from '../../../host/scenarios/params.js';
import type { World } from '../../../host/sim/world.js';
import type { SpdkMachine } from '../../../host/spdk/machine.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';
import type { Variant } from '../../../host/spdk/variant.js';
import { ensureTshark, followTcp, problemFrames, sequenceProblems, tcpRows } from './tshark.js';

function seg(over: Partial<TcpSegment> = {}): TcpSegment {
  const payload = over.payload ?? new Uint8Array([1, 2, 3, 4, 5]);
  return {
    src: '192.0.2.1', sport: 40000, dst: '192.0.2.2', dport: 4420, seq: 0xfffffff0, ack: 0x12345678,
    flags: TH_ACK | TH_PSH, wnd: 2 * 1024 * 1024, mss: 0, len: payload.length, payload, ...over,
  };
}

/** Internet checksum over [at, at+len): 0 when the data already holds a correct checksum. */
function verify(words: number[]): number {
  let s = 0;
  for (const w of words) s += w;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function be16(b: Uint8Array, at: number, len: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < len; i += 2) out.push((b[at + i]! << 8) | (i + 1 < len ? b[at + i + 1]! : 0));
  return out;
}

describe('pcap frames', () => {
  it('Ethernet II + IPv4 (DF, TTL 64, id, checksum) + TCP (seq/ack/flags/window, checksum)', () => {
    const f = encodeFrame(seg(), 7);
    const v = new DataView(f.buffer);
    expect([...f.subarray(0, 6)]).toEqual([0x02, 0, 192, 0, 2, 2]);
    expect([...f.subarray(6, 12)]).toEqual([0x02, 0, 192, 0, 2, 1]);
    expect(v.getUint16(12)).toBe(0x0800);
    expect(v.getUint8(14)).toBe(0x45);
    expect(v.getUint16(16)).toBe(20 + 20 + 5);
    expect(v.getUint16(18)).toBe(7);
    expect(v.getUint16(20)).toBe(0x4000);
    expect(v.getUint8(22)).toBe(64);
    expect(v.getUint8(23)).toBe(6);
    expect(verify(be16(f, 14, 20))).toBe(0);
    expect(v.getUint32(38)).toBe(0xfffffff0);
    expect(v.getUint32(42)).toBe(0x12345678);
    expect(v.getUint8(46) >> 4).toBe(5);
    expect(v.getUint8(47)).toBe(TH_ACK | TH_PSH);
    expect(v.getUint16(48)).toBe((2 * 1024 * 1024) >> WSCALE);
    const tcpLen = 25;
    const pseudo = [...be16(f, 26, 8), 6, tcpLen];
    expect(verify([...pseudo, ...be16(f, 34, tcpLen)])).toBe(0); // odd length: last byte padded
  });

  it('SYN carries MSS and window scale, with an unscaled window', () => {
    const f = encodeFrame(seg({ flags: TH_SYN, mss: 1448, wnd: 1 << 20, payload: new Uint8Array(0) }), 1);
    const v = new DataView(f.buffer);
    expect(v.getUint8(46) >> 4).toBe(7);
    expect(v.getUint16(48)).toBe(0xffff);
    expect([...f.subarray(54, 62)]).toEqual([2, 4, 1448 >> 8, 1448 & 0xff, 1, 3, 3, WSCALE]);
    expect(verify([...be16(f, 26, 8), 6, 28, ...be16(f, 34, 28)])).toBe(0);
  });

  it('loopback frames use zero MACs; MACs follow the address', () => {
    expect([...macFor('192.0.2.9', true)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect([...macFor('198.51.100.7')]).toEqual([2, 0, 198, 51, 100, 7]);
  });

  it('splits a frame larger than one IPv4 datagram, FIN and PSH on the last piece only', () => {
    const payload = new Uint8Array(70000).map((_, i) => i & 0xff);
    const parts = splitForIpv4(seg({ payload, flags: TH_ACK | TH_PSH | TH_FIN, seq: 0xffffff00 }));
    expect(parts.map((p) => p.len)).toEqual([65495, 70000 - 65495]);
    expect(parts[1]!.seq).toBe((0xffffff00 + 65495) >>> 0);
    expect(parts[0]!.flags).toBe(TH_ACK);
    expect(parts[1]!.flags).toBe(TH_ACK | TH_PSH | TH_FIN);
    expect(parts[1]!.payload[0]).toBe(65495 & 0xff);
    for (const p of parts) expect(encodeFrame(p, 1).length).toBeLessThanOrEqual(14 + 65535);
  });

  it('file header and records: magic, LINKTYPE_ETHERNET, µs timestamps from virtual time', () => {
    const w = new PcapWriter();
    w.add({ t: 2_500_001, link: 'l', from: 'host/eth0', seg: seg() });
    const b = w.bytes();
    const v = new DataView(b.buffer);
    expect(v.getUint32(0, true)).toBe(0xa1b2c3d4);
    expect([v.getUint16(4, true), v.getUint16(6, true)]).toEqual([2, 4]);
    expect(v.getUint32(20, true)).toBe(1);
    expect([v.getUint32(24, true), v.getUint32(28, true)]).toEqual([2, 500_001]);
    expect(v.getUint32(32, true)).toBe(59);
    expect(v.getUint32(36, true)).toBe(59);
    expect(b.length).toBe(24 + 16 + 59);
  });

  it('rejects a segment whose payload is shorter than its length', () => {
    expect(() => encodeFrame(seg({ len: 9 }), 1)).toThrow(/has 5 payload bytes, header says 9/);
  });
});

const tsh = ensureTshark();
const suite = tsh.path !== undefined ? 'pcap read back by tshark' : `pcap read back by tshark (SKIPPED: ${tsh.why})`;
if (tsh.path === undefined) console.warn(`pcap.test: ${tsh.why}`);

interface Captured {
  file: string;
  result: RunResult;
  received: Uint8Array;
}

async function captureReplay(variant: Variant, dir: string): Promise<Captured> {
  let rec: PcapRecorder | undefined;
  let world: World | undefined;
  const result = await zcopyThreshold.run({
    variant,
    flavor: 'release',
    seed: 5,
    params: resolveParams(zcopyThreshold, { 'io-count': '8' }),
    load: loadVariant,
    onWorld: (w) => {
      world = w;
    },
    onFabric: (fabric: Fabric) => {
      rec = new PcapRecorder(fabric);
    },
  });
  const target = world?.find('target') as SpdkMachine | undefined;
  if (rec === undefined || target === undefined) throw new Error('the replay built no fabric or no target');
  const at = target.call('sock_verify_server_buffer');
  const n = target.call('sock_verify_server_received') >>> 0;
  const received = target.mem.bytes().slice(at, at + n);
  const file = join(dir, `zcopy-threshold.${variant}.pcap`);
  writeFileSync(file, rec.stop());
  return { file, result, received };
}

/** The replay sends raw pattern bytes (to port 5201); keep any NVMe/TCP heuristics out of it. */
const RAW = ['--disable-protocol', 'nvme-tcp'];

describe.skipIf(tsh.path === undefined)(suite, () => {
  const dir = mkdtempSync(join(tmpdir(), 'spdk-wasm-pcap-'));
  const captures = new Map<string, string>();

  it.each(['unpatched', 'patched'] as const)('zcopy-threshold (%s): parses clean, sequence numbers consistent, stream = target bytes', async (variant) => {
    const { file, result, received } = await captureReplay(variant, dir);
    captures.set(variant, file);
    expect(result.reproduced).toBe(variant === 'unpatched');
    expect(received.length).toBe(8 * 131072);

    expect(problemFrames(file, RAW)).toEqual([]);
    expect(sequenceProblems(file, RAW)).toEqual([]);

    const { client, server } = followTcp(file, 0, RAW);
    expect(server.length).toBe(0);
    expect(client.length).toBe(received.length);
    expect(Buffer.compare(Buffer.from(client), Buffer.from(received))).toBe(0);

    // Each direction: contiguous sequence space from its SYN; acks never move back or past data sent.
    const rows = tcpRows(file, RAW);
    const next = new Map<number, number>();
    const lastAck = new Map<number, number>();
    for (const r of rows) {
      const peer = next.get(r.dport);
      if (r.flags & TH_SYN) {
        expect(next.has(r.sport), `frame ${r.frame}: second SYN from port ${r.sport}`).toBe(false);
        next.set(r.sport, (r.seq + 1) >>> 0);
      } else {
        expect(r.seq, `frame ${r.frame}: seq from port ${r.sport}`).toBe(next.get(r.sport));
        next.set(r.sport, (r.seq + r.len + (r.flags & TH_FIN ? 1 : 0)) >>> 0);
      }
      if (r.flags & TH_ACK) {
        const prev = lastAck.get(r.sport);
        const span = (x: number): number => (x - (prev ?? r.ack)) >>> 0;
        expect(span(r.ack) < 0x80000000, `frame ${r.frame}: ack moved back`).toBe(true);
        if (peer !== undefined) expect(((peer - r.ack) >>> 0) < 0x80000000, `frame ${r.frame}: acks unsent data`).toBe(true);
        lastAck.set(r.sport, r.ack);
      }
    }
    const host = rows[0]!;
    expect(host.flags & TH_SYN).toBeTruthy();
    // The target acknowledged every byte it received, and the capture shows it: the replay stops
    // the moment the last byte is read, so the ACK of the last segment may still wait behind the
    // previous ACK on the target's NIC; every earlier segment's ACK is on the wire.
    const end = (host.seq + 1 + received.length) >>> 0;
    const lastData = rows.filter((r) => r.sport === host.sport && r.len > 0).at(-1)!;
    expect([end, lastData.seq]).toContain(lastAck.get(host.dport));
  });

  it('the checks are not vacuous: one flipped payload byte is reported as a bad TCP checksum', () => {
    const file = captures.get('patched');
    expect(file, 'runs after the capture test').toBeDefined();
    const bytes = readFileSync(file!);
    // Record 4 is the first data frame (SYN, SYN-ACK, ACK before it); flip its last byte.
    let at = 24;
    for (let i = 0; i < 3; i++) at += 16 + bytes.readUInt32LE(at + 8);
    const len = bytes.readUInt32LE(at + 8);
    bytes[at + 16 + len - 1]! ^= 0xff;
    const bad = join(dir, 'flipped.pcap');
    writeFileSync(bad, bytes);
    const problems = problemFrames(bad, RAW);
    expect(problems.length).toBe(1);
    expect(problems[0]).toMatch(/^\s*4\s/);
  });
});
