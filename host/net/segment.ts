/** A TCP/IPv4 segment as it travels the emulated fabric, and the frame a NIC transmits. */
import type { World } from '../sim/world.js';
import { givePayload } from './payload-pool.js';
import type { RocePacket } from './roce.js';

/** TCP header flag bits (RFC 793 wire values, not a libc ABI constant). */
export const TH_FIN = 0x01;
export const TH_SYN = 0x02;
export const TH_RST = 0x04;
export const TH_PSH = 0x08;
export const TH_ACK = 0x10;

/** Ethernet (14) + IPv4 (20) + TCP (20) header bytes counted for serialization time. */
export const HEADER_BYTES = 54;

export const EMPTY_PAYLOAD = new Uint8Array(0);

export interface TcpSegment {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** Real 32-bit sequence and acknowledgement numbers. */
  seq: number;
  ack: number;
  flags: number;
  /** Advertised receive window in bytes (window scaling is not modelled: the value is exact). */
  wnd: number;
  /** MSS option, carried on SYN segments only (0 otherwise). */
  mss: number;
  /** Payload length, known before the payload is read. */
  len: number;
  /** The payload bytes; filled when the NIC starts transmitting (lazy zero copy, decision 6). */
  payload: Uint8Array;
  /** What still holds a payload taken from the pool (payload-pool.ts): the NIC, each scheduled
   *  arrival, the receive queue entries made of it. Undefined or 0 when the payload is not
   *  pooled. Read the payload only while holding it: it goes back at the last releasePayload. */
  holds?: number;
  /** Set on RoCEv2 frames (host/net/roce.ts): the segment is then a UDP datagram to port 4791
   *  and seq/ack/flags/wnd/mss mean nothing. */
  roce?: RocePacket;
}

/** Whether the segment's payload came from the pool and something still holds it. */
export function payloadPooled(seg: TcpSegment): boolean {
  return seg.holds !== undefined && seg.holds > 0;
}

/** Takes one more hold on a pooled payload; false (and nothing to release later) otherwise. */
export function holdPayload(seg: TcpSegment): boolean {
  if (!payloadPooled(seg)) return false;
  seg.holds!++;
  return true;
}

/** Drops one hold on a pooled payload; the last one returns it to the pool. */
export function releasePayload(seg: TcpSegment): void {
  if (!payloadPooled(seg)) return;
  if (--seg.holds! === 0) {
    givePayload(seg.payload);
    seg.payload = EMPTY_PAYLOAD; // a late reader sees a length mismatch, not another frame's bytes
  }
}

/** What a NIC queues. `materialize` runs when transmission starts (and reads guest memory for
 *  zero-copy data); `release` runs when the NIC is done with the frame, sent or dropped. */
export interface Frame {
  readonly seg: TcpSegment;
  materialize(): Uint8Array;
  /** True once materialize() returned a buffer from the payload pool. */
  readonly pooled?: boolean;
  release(): void;
}

/** A frame whose payload is already known (control segments, plain copies). */
export class StaticFrame implements Frame {
  constructor(readonly seg: TcpSegment) {}
  materialize(): Uint8Array {
    return this.seg.payload;
  }
  release(): void {}
}

/** flagString of every combination of the five flags, built once (each traced segment names one). */
const FLAG_STRINGS = Array.from({ length: 32 }, (_, f) => spellFlags(f));

export function flagString(flags: number): string {
  return FLAG_STRINGS[flags & 0x1f] ?? spellFlags(flags);
}

function spellFlags(flags: number): string {
  let s = '';
  if (flags & TH_SYN) s += 'S';
  if (flags & TH_FIN) s += 'F';
  if (flags & TH_RST) s += 'R';
  if (flags & TH_PSH) s += 'P';
  if (flags & TH_ACK) s += 'A';
  return s;
}

/** "addr:port" labels, built once per endpoint (every traced segment names two). */
const ENDPOINTS = new Map<string, Map<number, string>>();

function endpoint(addr: string, port: number): string {
  let ports = ENDPOINTS.get(addr);
  if (ports === undefined) ENDPOINTS.set(addr, (ports = new Map()));
  let label = ports.get(port);
  if (label === undefined) ports.set(port, (label = `${addr}:${port}`));
  return label;
}

/** Trace one segment on the wire ("tcp.seg" when delivered, "tcp.drop" with a reason). */
export function recordSegment(world: World, ev: string, seg: TcpSegment, reason?: string): void {
  if (seg.roce !== undefined) {
    recordRoce(world, ev === 'tcp.seg' ? 'roce.pkt' : 'roce.drop', seg, seg.roce, reason);
    return;
  }
  const f: Record<string, number | string> = {
    src: endpoint(seg.src, seg.sport),
    dst: endpoint(seg.dst, seg.dport),
    seq: seg.seq,
    ack: seg.ack,
    len: seg.len,
    flags: flagString(seg.flags),
  };
  if (reason !== undefined) f['reason'] = reason;
  world.record('wire', ev, f);
}

function recordRoce(world: World, ev: string, seg: TcpSegment, p: RocePacket, reason?: string): void {
  const f: Record<string, number | string> = { src: seg.src, dst: seg.dst, op: p.op, qpn: p.dqpn, psn: p.psn, len: seg.len };
  if (reason !== undefined) f['reason'] = reason;
  world.record('wire', ev, f);
}
