/**
 * A scripted NVMe/TCP controller on the emulated wire, for driving the real initiator C through
 * paths our target never takes. It is a world steppable with its own emulated kernel and NIC
 * (192.0.2.2:4420): it accepts connections, answers ICReq (with the maxh2cdata, CPDA and digests a
 * test asks for), serves the admin bring-up (Connect, Property Get/Set, Identify, Get Features
 * KATO, Keep Alive) and keeps a RAM namespace. I/O is answered by a plan the test sets: how a WRITE
 * is pulled (one or several R2Ts, one after another or back to back), how a READ is returned
 * (C2HData chunks, SUCCESS on the last or a separate CapsuleResp), and a hook that takes over a
 * command entirely. Every PDU the host sent is kept, decoded, for assertions.
 */
import * as abi from '../../../host/gen/abi.js';
import { Kernel } from '../../../host/kernel/kernel.js';
import type { NetDev } from '../../../host/net/netdev.js';
import type { World } from '../../../host/sim/world.js';
import type { Fabric } from '../../../host/net/fabric.js';
import type { RunOptions } from '../../../host/scenarios/contract.js';
import { buildTestbed, type Testbed } from '../../../host/scenarios/testbed.js';
import { ATTACH, NVME_HOST_IP, NVME_HOSTNQN, waitAttached } from '../../../host/scenarios/zcopy-threshold-nvme.js';
import type { SpdkMachine } from '../../../host/spdk/machine.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';
import type { Flavor } from '../../../host/spdk/variant.js';
import { FakeMemory } from '../kernel/net-harness.js';
import { FCTYPE, le16, le32, NO_DIGESTS, OPC, PDU, splitPdus, type Digests, type RxPdu } from '../../../host/fuzz/pdu.js';
import { c2hDataPdu, capsuleCmdFields, capsuleResp, h2cDataFields, icreqFields, icresp, r2tPdu, type Cqe, type Sqe } from './target-pdu.js';

export const PEER_IP = '192.0.2.2';
export const PEER_PORT = 4420;

/** One accepted connection (a host qpair). */
export interface PeerConn {
  fd: number;
  /** Set by the Fabrics Connect. */
  qid: number;
  dg: Digests;
  cpda: number;
  /** Every PDU the host sent, in order. */
  rx: RxPdu[];
  /** Bytes received but not yet a whole PDU. */
  tail: Uint8Array;
  /** Bytes waiting for room in the socket. */
  out: Uint8Array[];
  closed: boolean;
}

export interface R2tSeg {
  r2to: number;
  r2tl: number;
}

/** How I/O commands are answered; tests change these between I/Os. */
export interface IoPlan {
  /** R2T ranges for a WRITE of `len` bytes (default: one R2T for all of it). */
  r2ts: (len: number) => R2tSeg[];
  /** Send every R2T at once instead of each after the previous range's last H2CData. */
  r2tBackToBack: boolean;
  /** C2HData sizes for a READ of `len` bytes (default: one PDU). */
  c2hChunks: (len: number) => number[];
  /** SUCCESS on the last C2HData (no CapsuleResp), else LAST_PDU then a CapsuleResp. */
  c2hSuccess: boolean;
}

export interface ScriptedTargetOpts {
  maxh2cdata?: number;
  cpda?: number;
  /** Digests granted in ICResp: what the host asked for unless forced here. */
  hdgst?: boolean;
  ddgst?: boolean;
  blocks?: number;
  blockSize?: number;
  /** Identify: MDTS (2^n pages of 4 KiB) and IOCCSZ (16-byte units, SQE included). */
  mdts?: number;
  ioccsz?: number;
}

interface PendingWrite {
  sqe: Sqe;
  buf: Uint8Array;
  segs: R2tSeg[];
  /** Index of the next R2T to send. */
  next: number;
  /** ttag of each R2T sent, by index. */
  ttags: number[];
  received: number;
}

const IN_BASE = 0;
const OUT_BASE = 2 << 20;
const CHUNK = 1 << 20;
const CNTLID = 1;

export class ScriptedTarget {
  readonly name = 'peer';
  readonly kernel: Kernel;
  readonly dev: NetDev;
  readonly conns: PeerConn[] = [];
  readonly disk: Uint8Array;
  readonly opts: Required<ScriptedTargetOpts>;
  plan: IoPlan = { r2ts: (len) => [{ r2to: 0, r2tl: len }], r2tBackToBack: false, c2hChunks: (len) => [len], c2hSuccess: true };
  /** Takes over an I/O command (return true when handled; answer with `send`). */
  onCommand: ((c: PeerConn, sqe: Sqe, icd: Uint8Array) => boolean) | undefined;
  /** Sees each H2CData before the default handling (return true to swallow it). */
  onH2C: ((c: PeerConn, p: RxPdu) => boolean) | undefined;
  /** Connections refused after this many were accepted (no reconnects). */
  maxConns = Infinity;
  private readonly mem = new FakeMemory(4 << 20);
  private readonly lfd: number;
  private readonly writes = new Map<string, PendingWrite>();
  private nextTtag = 1;
  private cc = 0;
  private accepted = 0;

  constructor(world: World, fabric: Fabric, o: ScriptedTargetOpts = {}) {
    this.opts = { maxh2cdata: 131072, cpda: 0, hdgst: false, ddgst: false, blocks: 2048, blockSize: 512, mdts: 5, ioccsz: 260, ...o };
    this.kernel = new Kernel(world, this.name, this.mem, fabric);
    this.dev = this.kernel.addNetDev({ name: 'eth0', addr: PEER_IP, mss: 1448, tsoBytes: 65536 });
    this.disk = new Uint8Array(this.opts.blocks * this.opts.blockSize);
    const k = this.kernel;
    this.lfd = k.socket(abi.AF_INET, abi.SOCK_STREAM | abi.SOCK_NONBLOCK, 0);
    const rc = Math.min(k.bind(this.lfd, { addr: '0.0.0.0', port: PEER_PORT }), k.listen(this.lfd, 16));
    if (rc < 0) throw new Error(`scripted target cannot listen: ${rc}`);
    world.add(this);
  }

  /** The I/O connection (qid 1) most recently connected. */
  io(): PeerConn {
    const c = [...this.conns].reverse().find((x) => x.qid === 1 && !x.closed);
    if (c === undefined) throw new Error('no I/O connection');
    return c;
  }

  /** PDUs of `type` the host sent on `c`. */
  received(c: PeerConn, type: number): RxPdu[] {
    return c.rx.filter((p) => p.type === type);
  }

  send(c: PeerConn, bytes: Uint8Array): void {
    c.out.push(bytes);
  }

  resp(c: PeerConn, cqe: Cqe): void {
    this.send(c, capsuleResp({ sqid: c.qid, ...cqe }, c.dg));
  }

  /** Ends the connection as a controller that gives up (FIN). */
  hangup(c: PeerConn): void {
    this.kernel.close(c.fd);
    c.closed = true;
  }

  pollOnce(): { busy: boolean; nextDeadline: number } {
    let busy = false;
    for (;;) {
      const r = this.kernel.accept(this.lfd);
      if (typeof r === 'number') break;
      busy = true;
      if (++this.accepted > this.maxConns) {
        this.kernel.close(r.fd);
        continue;
      }
      this.conns.push({ fd: r.fd, qid: -1, dg: NO_DIGESTS, cpda: 0, rx: [], tail: new Uint8Array(0), out: [], closed: false });
    }
    for (const c of this.conns) {
      if (c.closed) continue;
      busy = this.readFrom(c) || busy;
      busy = this.flush(c) || busy;
    }
    return { busy, nextDeadline: Infinity };
  }

  private readFrom(c: PeerConn): boolean {
    let got = false;
    for (;;) {
      const n = this.kernel.readv(c.fd, [{ base: IN_BASE, len: CHUNK }]);
      if (n === -abi.EAGAIN) break;
      if (n <= 0) {
        this.kernel.close(c.fd);
        c.closed = true;
        return true;
      }
      got = true;
      const all = new Uint8Array(c.tail.length + n);
      all.set(c.tail);
      all.set(this.mem.u8.subarray(IN_BASE, IN_BASE + n), c.tail.length);
      const { pdus, rest } = splitPdus(all);
      c.tail = rest.slice();
      for (const p of pdus) {
        const own = { ...p, bytes: p.bytes.slice() };
        c.rx.push(own);
        this.handle(c, own);
      }
    }
    return got;
  }

  /** Sends what is queued, PDUs gathered into one sendmsg as a target's writev does (so PDUs
   *  queued together arrive together). */
  private flush(c: PeerConn): boolean {
    let sent = false;
    while (c.out.length > 0) {
      let len = 0;
      for (const b of c.out) {
        const n = Math.min(b.length, CHUNK - len);
        this.mem.u8.set(b.subarray(0, n), OUT_BASE + len);
        len += n;
        if (len === CHUNK) break;
      }
      const rc = this.kernel.sendmsg(c.fd, [{ base: OUT_BASE, len }], abi.MSG_NOSIGNAL);
      if (rc <= 0) break;
      sent = true;
      for (let left = rc; left > 0;) {
        const head = c.out[0]!;
        if (head.length <= left) {
          left -= head.length;
          c.out.shift();
        } else {
          c.out[0] = head.subarray(left);
          left = 0;
        }
      }
    }
    return sent;
  }

  private handle(c: PeerConn, p: RxPdu): void {
    switch (p.type) {
      case PDU.IC_REQ: {
        const q = icreqFields(p);
        const o = this.opts;
        c.dg = { hdgst: o.hdgst || q.hdgst, ddgst: o.ddgst || q.ddgst };
        c.cpda = o.cpda;
        this.send(c, icresp({ cpda: o.cpda, hdgst: c.dg.hdgst, ddgst: c.dg.ddgst, maxh2cdata: o.maxh2cdata }));
        break;
      }
      case PDU.CAPSULE_CMD: {
        const { sqe, icd } = capsuleCmdFields(p);
        if (sqe.opc === OPC.FABRIC) this.fabric(c, sqe, icd);
        else if (c.qid === 0) this.admin(c, sqe);
        else if (this.onCommand === undefined || !this.onCommand(c, sqe, icd)) this.ioCommand(c, sqe, icd);
        break;
      }
      case PDU.H2C_DATA:
        if (this.onH2C === undefined || !this.onH2C(c, p)) this.h2cData(c, p);
        break;
      default:
        // H2CTermReq: kept in c.rx; the host closes the connection after it.
        break;
    }
  }

  private fabric(c: PeerConn, sqe: Sqe, icd: Uint8Array): void {
    const raw = sqe.raw;
    switch (sqe.fctype) {
      case FCTYPE.CONNECT:
        c.qid = raw[42]! | (raw[43]! << 8);
        this.resp(c, { cid: sqe.cid, cdw0: CNTLID });
        break;
      case FCTYPE.PROPERTY_GET: {
        const ofst = sqe.cdw11;
        // CAP: MQES 127, CQR, TO 30 (15 s), CSS NVM; VS 1.3; CC as set; CSTS.RDY follows CC.EN,
        // SHST "complete" once a shutdown is asked.
        const v: Record<number, [number, number]> = {
          0x00: [127 | (1 << 16) | (30 << 24), 1 << 5], 0x08: [0x00010300, 0], 0x14: [this.cc, 0],
          0x1c: [(this.cc & 1) | (((this.cc >> 14) & 3) !== 0 ? 2 << 2 : 0), 0],
        };
        const [cdw0, cdw1] = v[ofst] ?? [0, 0];
        this.resp(c, { cid: sqe.cid, cdw0, cdw1 });
        break;
      }
      case FCTYPE.PROPERTY_SET:
        if (sqe.cdw11 === 0x14) this.cc = sqe.cdw12;
        this.resp(c, { cid: sqe.cid });
        break;
      default:
        this.resp(c, { cid: sqe.cid, sc: 0x01 });
    }
    void icd;
  }

  private admin(c: PeerConn, sqe: Sqe): void {
    switch (sqe.opc) {
      case OPC.IDENTIFY:
        this.dataThenResp(c, sqe.cid, this.identify(sqe.cdw10 & 0xff, sqe.nsid));
        break;
      case OPC.GET_FEATURES:
        // KATO (FID 0x0f): what the Connect asked for is fine.
        this.resp(c, { cid: sqe.cid, cdw0: (sqe.cdw10 & 0xff) === 0x0f ? 10000 : 0 });
        break;
      default:
        // Keep Alive, Set Features and the rest succeed.
        this.resp(c, { cid: sqe.cid });
    }
  }

  private identify(cns: number, nsid: number): Uint8Array {
    const b = new Uint8Array(4096);
    const o = this.opts;
    if (cns === 1) {
      le16(b, 0, 0x4e58);
      b.set(new TextEncoder().encode('SCRIPTED0001'), 4);
      b.set(new TextEncoder().encode('scripted target'), 24);
      b[77] = o.mdts;
      le16(b, 78, CNTLID);
      le32(b, 80, 0x00010300);
      le16(b, 320, 10); // KAS: 1 s granularity
      b[512] = 0x66;
      b[513] = 0x44;
      le16(b, 514, 128);
      le32(b, 516, 1);
      le32(b, 536, 1 << 20 | 5);
      b.set(new TextEncoder().encode('nqn.2016-06.io.spdk:cnode1'), 768);
      le32(b, 1792, o.ioccsz);
      le32(b, 1796, 1);
    } else if (cns === 2) {
      le32(b, 0, 1);
    } else if (cns === 0 && nsid === 1) {
      const n = o.blocks;
      le32(b, 0, n);
      le32(b, 8, n);
      le32(b, 16, n);
      b[128 + 2] = Math.log2(o.blockSize);
    }
    return b;
  }

  private dataThenResp(c: PeerConn, cid: number, data: Uint8Array): void {
    this.send(c, c2hDataPdu({ cccid: cid, datao: 0, data, last: true }, c.dg, c.cpda));
    this.resp(c, { cid });
  }

  private ioCommand(c: PeerConn, sqe: Sqe, icd: Uint8Array): void {
    const bs = this.opts.blockSize;
    const off = sqe.cdw10 * bs;
    const len = ((sqe.cdw12 & 0xffff) + 1) * bs;
    if (sqe.opc === OPC.WRITE && icd.length > 0) {
      this.disk.set(icd, off);
      this.resp(c, { cid: sqe.cid });
    } else if (sqe.opc === OPC.WRITE) {
      const w: PendingWrite = { sqe, buf: new Uint8Array(len), segs: this.plan.r2ts(len), next: 0, ttags: [], received: 0 };
      this.writes.set(`${c.fd}:${sqe.cid}`, w);
      this.sendR2t(c, w);
      if (this.plan.r2tBackToBack) while (w.next < w.segs.length) this.sendR2t(c, w);
    } else if (sqe.opc === OPC.READ) {
      this.read(c, sqe.cid, this.disk.subarray(off, off + len));
    } else {
      this.resp(c, { cid: sqe.cid });
    }
  }

  /** Answers a READ with the planned C2HData chunks. */
  read(c: PeerConn, cid: number, data: Uint8Array): void {
    let at = 0;
    const chunks = this.plan.c2hChunks(data.length);
    chunks.forEach((n, i) => {
      const last = i === chunks.length - 1;
      this.send(c, c2hDataPdu({ cccid: cid, datao: at, data: data.subarray(at, at + n), last, success: last && this.plan.c2hSuccess }, c.dg, c.cpda));
      at += n;
    });
    if (!this.plan.c2hSuccess) this.resp(c, { cid });
  }

  private sendR2t(c: PeerConn, w: PendingWrite): void {
    const seg = w.segs[w.next]!;
    const ttag = this.nextTtag++;
    w.ttags[w.next++] = ttag;
    this.send(c, r2tPdu({ cccid: w.sqe.cid, ttag, ...seg }, c.dg));
  }

  private h2cData(c: PeerConn, p: RxPdu): void {
    const h = h2cDataFields(p);
    const w = this.writes.get(`${c.fd}:${h.cccid}`);
    if (w === undefined) return;
    w.buf.set(h.data, h.datao);
    w.received += h.datal;
    const seg = w.segs[w.ttags.indexOf(h.ttag)];
    if (!h.last || seg === undefined || h.datao + h.datal !== seg.r2to + seg.r2tl) return;
    if (w.next < w.segs.length) {
      this.sendR2t(c, w);
      return;
    }
    if (w.received < w.buf.length) return;
    this.disk.set(w.buf, w.sqe.cdw10 * this.opts.blockSize);
    this.writes.delete(`${c.fd}:${h.cccid}`);
    this.resp(c, { cid: h.cccid });
  }
}

export interface ScriptedPair {
  tb: Testbed;
  host: SpdkMachine;
  peer: ScriptedTarget;
  id: number;
}

/** The real initiator (machine "host", 192.0.2.1) attached to a scripted target over one link. */
export async function scriptedPair(o: ScriptedTargetOpts & { hostDigests?: { hdgst?: boolean; ddgst?: boolean }; flavor?: Flavor; ioZcopy?: boolean } = {}): Promise<ScriptedPair> {
  const opts: RunOptions = { variant: 'unpatched', flavor: o.flavor ?? 'release', seed: 1, params: {}, load: loadVariant };
  const tb = await buildTestbed(opts, { mss: 1448, latencyUs: 20, jitterUs: 0, lossPpm: 0, tsoBytes: 65536, machines: [{ name: 'host', ip: NVME_HOST_IP }] });
  const peer = new ScriptedTarget(tb.world, tb.fabric, o);
  tb.links.push(tb.fabric.connect(tb.nics.get('host')!, peer.dev, { latencyUs: 20, jitterUs: 0, loss: 0 }));
  const host = tb.machine('host');
  if (host.api.spdk_wasm_sock_set_opts('posix', 1, 1, 0, 0, 0) !== 0) throw new Error('spdk_wasm_sock_set_opts failed');
  const flags = (o.hostDigests?.hdgst ? 1 : 0) | (o.hostDigests?.ddgst ? 2 : 0) | (o.ioZcopy === false ? 4 : 0);
  const id = host.api.spdk_wasm_nvme_attach(PEER_IP, String(PEER_PORT), 'nqn.2016-06.io.spdk:cnode1', NVME_HOSTNQN, flags, 0, 10000, 100, 0, 0);
  if (id < 0) throw new Error(`spdk_wasm_nvme_attach failed: ${id}`);
  const state = waitAttached(tb, host, id);
  if (state !== ATTACH.READY) throw new Error(`attach to the scripted target ended in state ${state}; host log: ${host.logLines.slice(-5).join(' | ')}`);
  return { tb, host, peer, id };
}
