/**
 * Packet capture of the emulated wire as a classic libpcap file (LINKTYPE_ETHERNET, µs timestamps
 * from virtual time), so Wireshark/tshark can open a replay. Browser-safe: it only builds bytes;
 * writing them to a file is the caller's business (the CLI does it in Node).
 *
 * Frames are Ethernet II + IPv4 + TCP with the segment's real addresses, ports, sequence and
 * acknowledgement numbers, flags and window, and correct IPv4 and TCP checksums. MACs are derived
 * from the NIC's address (02:00:a.b.c.d, locally administered), so each NIC keeps one MAC in
 * every run; loopback frames use the all-zero MAC as Linux's `lo` does.
 *
 * Window: the emulator advertises exact byte windows that can exceed 16 bits, so SYNs carry a
 * window-scale option of WSCALE and later segments carry wnd >> WSCALE (Wireshark shows the
 * scaled value). Segmentation-offload frames are kept whole, as a capture on the sender shows
 * them; a frame too large for one IPv4 datagram is split at the IPv4 limit.
 */
import type { CaptureEvent, Fabric } from './fabric.js';
import { TH_FIN, TH_PSH, TH_SYN, type TcpSegment } from './segment.js';

/** pcap file format constants (classic libpcap, microsecond resolution). */
const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_VERSION_MAJOR = 2;
const PCAP_VERSION_MINOR = 4;
const LINKTYPE_ETHERNET = 1;
const PCAP_FILE_HEADER_BYTES = 24;
const PCAP_RECORD_HEADER_BYTES = 16;

const ETH_HEADER_BYTES = 14;
const ETHERTYPE_IPV4 = 0x0800;
const IPV4_HEADER_BYTES = 20;
const IPV4_DF = 0x4000;
const IPV4_TTL = 64;
const IPPROTO_TCP = 6;
const IPV4_MAX_TOTAL = 65535;
const TCP_HEADER_BYTES = 20;
/** SYN options: MSS (4) + NOP (1) + window scale (3). */
const TCP_SYN_OPTION_BYTES = 8;
const TCPOPT_NOP = 1;
const TCPOPT_MSS = 2;
const TCPOPT_WSCALE = 3;

/** Window-scale shift announced on every SYN (Linux's usual value for multi-MiB buffers). */
export const WSCALE = 7;

export interface PcapOptions {
  /** Added to virtual time for the timestamps (µs since the Unix epoch). Default 0. */
  epochUs?: number;
  /** Snapshot length written in the file header. Default 262144 (frames are never truncated). */
  snaplen?: number;
}

/** Builds a pcap file from capture events, in the order given (the fabric's time order). */
export class PcapWriter {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  private readonly ipId = new Map<string, number>();
  private readonly epochUs: number;
  frames = 0;

  constructor(opts: PcapOptions = {}) {
    this.epochUs = opts.epochUs ?? 0;
    const h = new DataView(new ArrayBuffer(PCAP_FILE_HEADER_BYTES));
    h.setUint32(0, PCAP_MAGIC_US, true);
    h.setUint16(4, PCAP_VERSION_MAJOR, true);
    h.setUint16(6, PCAP_VERSION_MINOR, true);
    h.setInt32(8, 0, true); // thiszone
    h.setUint32(12, 0, true); // sigfigs
    h.setUint32(16, opts.snaplen ?? 262144, true);
    h.setUint32(20, LINKTYPE_ETHERNET, true);
    this.push(new Uint8Array(h.buffer));
  }

  /** Appends the frame(s) of one capture event. */
  add(ev: CaptureEvent): void {
    if (ev.seg.roce !== undefined) return; // RoCEv2 frames are not encoded yet (no BTH writer)
    const loopback = ev.from.endsWith('/lo');
    for (const seg of splitForIpv4(ev.seg)) {
      const frame = encodeFrame(seg, this.nextIpId(seg.src), loopback);
      const rec = new DataView(new ArrayBuffer(PCAP_RECORD_HEADER_BYTES));
      const us = Math.round(this.epochUs + ev.t);
      rec.setUint32(0, Math.floor(us / 1e6), true);
      rec.setUint32(4, us % 1e6, true);
      rec.setUint32(8, frame.length, true);
      rec.setUint32(12, frame.length, true);
      this.push(new Uint8Array(rec.buffer));
      this.push(frame);
      this.frames++;
    }
  }

  /** The whole file so far. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  /** IPv4 identification: one counter per source address, as a host numbers its datagrams. */
  private nextIpId(src: string): number {
    const id = this.ipId.get(src) ?? 1;
    this.ipId.set(src, (id + 1) & 0xffff);
    return id;
  }
}

/** Records every frame of a fabric from now on. */
export class PcapRecorder {
  readonly writer: PcapWriter;
  private readonly off: () => void;

  constructor(fabric: Fabric, opts: PcapOptions = {}) {
    this.writer = new PcapWriter(opts);
    this.off = fabric.onCapture((ev) => this.writer.add(ev));
  }

  get frames(): number {
    return this.writer.frames;
  }

  /** Stops recording (idempotent) and returns the file. */
  stop(): Uint8Array {
    this.off();
    return this.writer.bytes();
  }

  bytes(): Uint8Array {
    return this.writer.bytes();
  }
}

/** Locally administered unicast MAC 02:00:a.b.c.d of an IPv4 address (zeros for loopback). */
export function macFor(addr: string, loopback = false): Uint8Array {
  const mac = new Uint8Array(6);
  if (loopback) return mac;
  mac[0] = 0x02;
  mac.set(ipv4Bytes(addr), 2);
  return mac;
}

/** One Ethernet frame for a segment whose payload fits one IPv4 datagram. */
export function encodeFrame(seg: TcpSegment, ipId: number, loopback = false): Uint8Array {
  const payload = seg.payload.subarray(0, seg.len);
  if (payload.length !== seg.len) {
    throw new RangeError(`pcap: segment ${seg.src}:${seg.sport} seq ${seg.seq} has ${payload.length} payload bytes, header says ${seg.len}`);
  }
  const syn = (seg.flags & TH_SYN) !== 0;
  const tcpLen = TCP_HEADER_BYTES + (syn ? TCP_SYN_OPTION_BYTES : 0);
  const ipTotal = IPV4_HEADER_BYTES + tcpLen + payload.length;
  if (ipTotal > IPV4_MAX_TOTAL) throw new RangeError(`pcap: IPv4 datagram of ${ipTotal} bytes exceeds ${IPV4_MAX_TOTAL}`);
  const frame = new Uint8Array(ETH_HEADER_BYTES + ipTotal);
  const v = new DataView(frame.buffer);

  // Ethernet II
  frame.set(macFor(seg.dst, loopback), 0);
  frame.set(macFor(seg.src, loopback), 6);
  v.setUint16(12, ETHERTYPE_IPV4);

  // IPv4
  const ip = ETH_HEADER_BYTES;
  const src = ipv4Bytes(seg.src);
  const dst = ipv4Bytes(seg.dst);
  v.setUint8(ip, 0x45); // version 4, IHL 5 words
  v.setUint8(ip + 1, 0); // DSCP/ECN
  v.setUint16(ip + 2, ipTotal);
  v.setUint16(ip + 4, ipId & 0xffff);
  v.setUint16(ip + 6, IPV4_DF);
  v.setUint8(ip + 8, IPV4_TTL);
  v.setUint8(ip + 9, IPPROTO_TCP);
  frame.set(src, ip + 12);
  frame.set(dst, ip + 16);
  v.setUint16(ip + 10, fold(sum16(frame, ip, IPV4_HEADER_BYTES, 0)));

  // TCP
  const tcp = ip + IPV4_HEADER_BYTES;
  v.setUint16(tcp, seg.sport);
  v.setUint16(tcp + 2, seg.dport);
  v.setUint32(tcp + 4, seg.seq >>> 0);
  v.setUint32(tcp + 8, seg.ack >>> 0);
  v.setUint8(tcp + 12, (tcpLen / 4) << 4);
  v.setUint8(tcp + 13, seg.flags & 0xff);
  // RFC 7323: the window of a SYN is never scaled.
  const wnd = syn ? Math.min(seg.wnd, 0xffff) : Math.min(Math.floor(seg.wnd / 2 ** WSCALE), 0xffff);
  v.setUint16(tcp + 14, wnd);
  v.setUint16(tcp + 18, 0); // urgent pointer
  if (syn) {
    v.setUint8(tcp + 20, TCPOPT_MSS);
    v.setUint8(tcp + 21, 4);
    v.setUint16(tcp + 22, seg.mss);
    v.setUint8(tcp + 24, TCPOPT_NOP);
    v.setUint8(tcp + 25, TCPOPT_WSCALE);
    v.setUint8(tcp + 26, 3);
    v.setUint8(tcp + 27, WSCALE);
  }
  frame.set(payload, tcp + tcpLen);
  const segLen = tcpLen + payload.length;
  // Pseudo-header: source, destination, zero + protocol, TCP length.
  let s = sum16(src, 0, 4, 0);
  s = sum16(dst, 0, 4, s);
  s += IPPROTO_TCP + segLen;
  s = sum16(frame, tcp, segLen, s);
  v.setUint16(tcp + 16, fold(s));
  return frame;
}

/** A segment as one or more pieces that each fit an IPv4 datagram (FIN/PSH stay on the last). */
export function splitForIpv4(seg: TcpSegment): TcpSegment[] {
  const room = IPV4_MAX_TOTAL - IPV4_HEADER_BYTES - TCP_HEADER_BYTES - ((seg.flags & TH_SYN) !== 0 ? TCP_SYN_OPTION_BYTES : 0);
  if (seg.len <= room) return [seg];
  const out: TcpSegment[] = [];
  for (let off = 0; off < seg.len; off += room) {
    const len = Math.min(room, seg.len - off);
    const last = off + len === seg.len;
    out.push({
      ...seg,
      seq: (seg.seq + off) >>> 0,
      flags: last ? seg.flags : seg.flags & ~(TH_FIN | TH_PSH),
      len,
      payload: seg.payload.subarray(off, off + len),
    });
  }
  return out;
}

function ipv4Bytes(addr: string): Uint8Array {
  const parts = addr.split('.');
  const out = new Uint8Array(4);
  if (parts.length !== 4) throw new RangeError(`pcap: "${addr}" is not an IPv4 address`);
  for (let i = 0; i < 4; i++) {
    const n = Number(parts[i]);
    if (!Number.isInteger(n) || n < 0 || n > 255) throw new RangeError(`pcap: "${addr}" is not an IPv4 address`);
    out[i] = n;
  }
  return out;
}

/** Adds big-endian 16-bit words of b[at, at+len) to `acc` (an odd last byte is padded with 0). */
function sum16(b: Uint8Array, at: number, len: number, acc: number): number {
  const end = at + len;
  let i = at;
  for (; i + 1 < end; i += 2) {
    acc += (b[i]! << 8) | b[i + 1]!;
    // Fold now and then so the accumulator stays an exact small integer.
    if (acc > 0x7fffffff) acc = (acc & 0xffff) + (acc >>> 16);
  }
  if (i < end) acc += b[i]! << 8;
  return acc;
}

/** Ones'-complement fold of a 16-bit-word sum, complemented: the Internet checksum. */
function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}
