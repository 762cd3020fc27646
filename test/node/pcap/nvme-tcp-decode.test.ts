/**
 * The NVMe/TCP decode helper on a hand-built capture (ICReq, ICResp, CapsuleCmd, CapsuleResp, byte
 * layouts from the spec §4.1), so the NVMe/TCP replay's capture test is a few lines once it exists.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapWriter } from '../../../host/net/pcap.js';
import { TH_ACK, TH_PSH, TH_SYN, type TcpSegment } from '../../../host/net/segment.js';
import { ensureTshark, nvmeTcpPduTypes, problemFrames } from './tshark.js';

function pdu(type: number, hlen: number, fill?: (v: DataView) => void): Uint8Array {
  const b = new Uint8Array(hlen);
  const v = new DataView(b.buffer);
  v.setUint8(0, type);
  v.setUint8(2, hlen);
  v.setUint32(4, hlen, true); // plen: header only, no digests, no data
  fill?.(v);
  return b;
}

function buildCapture(port: number): Uint8Array {
  const H = { addr: '192.0.2.1', port: 51000, isn: 1000 };
  const T = { addr: '192.0.2.2', port, isn: 9000 };
  const w = new PcapWriter();
  let t = 0;
  const sent = { h: 0, t: 0 };
  const send = (fromHost: boolean, flags: number, payload: Uint8Array, mss = 0): void => {
    const a = fromHost ? H : T;
    const b = fromHost ? T : H;
    const s: TcpSegment = {
      src: a.addr, sport: a.port, dst: b.addr, dport: b.port,
      seq: (a.isn + (flags & TH_SYN ? 0 : 1) + (fromHost ? sent.h : sent.t)) >>> 0,
      ack: flags & TH_ACK ? (b.isn + 1 + (fromHost ? sent.t : sent.h)) >>> 0 : 0,
      flags, wnd: 65535, mss, len: payload.length, payload,
    };
    w.add({ t: (t += 10), link: 'l', from: fromHost ? 'host/eth0' : 'target/eth0', seg: s });
    if (fromHost) sent.h += payload.length;
    else sent.t += payload.length;
  };
  const none = new Uint8Array(0);
  send(true, TH_SYN, none, 1448);
  send(false, TH_SYN | TH_ACK, none, 1448);
  send(true, TH_ACK, none);
  send(true, TH_ACK | TH_PSH, pdu(0x00, 128, (v) => v.setUint32(12, 0, true)));
  send(false, TH_ACK | TH_PSH, pdu(0x01, 128, (v) => v.setUint32(12, 131072, true)));
  send(true, TH_ACK | TH_PSH, pdu(0x04, 72, (v) => {
    v.setUint8(8, 0x06); // Identify
    v.setUint16(10, 1, true); // cid
    v.setUint32(8 + 36, 4096, true); // SGL transport data block length
    v.setUint8(8 + 39, 0x5a);
    v.setUint32(8 + 40, 1, true); // CNS 1: controller
  }));
  send(false, TH_ACK | TH_PSH, pdu(0x05, 24, (v) => v.setUint16(8 + 12, 1, true)));
  send(true, TH_ACK, none);
  return w.bytes();
}

const tsh = ensureTshark();
const name = tsh.path !== undefined ? 'nvmeTcpPduTypes (tshark)' : `nvmeTcpPduTypes (tshark) (SKIPPED: ${tsh.why})`;

describe.skipIf(tsh.path === undefined)(name, () => {
  it('names the PDU types tshark decodes, on the port given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spdk-wasm-nvme-tcp-'));
    const file = join(dir, 'nvme-tcp.pcap');
    writeFileSync(file, buildCapture(4421));
    expect(nvmeTcpPduTypes(file, 4421)).toEqual(new Set(['ICReq', 'ICResp', 'CapsuleCmd', 'CapsuleResp']));
    expect(problemFrames(file, ['-d', 'tcp.port==4421,nvme-tcp'])).toEqual([]);
  });
});
