/** Two machines ("ini" 192.0.2.1, "tgt" 192.0.2.2) on one link, each with its own fake linear
 *  memory, plus helpers to connect sockets and run the world. */
import * as abi from '../../../host/gen/abi.js';
import { World } from '../../../host/sim/world.js';
import { Fabric } from '../../../host/net/fabric.js';
import type { Link, LinkOptions } from '../../../host/net/link.js';
import type { NetDevOptions } from '../../../host/net/netdev.js';
import { Kernel } from '../../../host/kernel/kernel.js';
import type { GuestMemory } from '../../../host/kernel/host-kernel.js';

export class FakeMemory implements GuestMemory {
  readonly u8: Uint8Array;
  constructor(size = 1 << 22) {
    this.u8 = new Uint8Array(size);
  }
  bytes(): Uint8Array {
    return this.u8;
  }
}

export interface Net {
  world: World;
  fabric: Fabric;
  ini: Kernel;
  tgt: Kernel;
  memIni: FakeMemory;
  memTgt: FakeMemory;
  link: Link;
}

export const INI_IP = '192.0.2.1';
export const TGT_IP = '192.0.2.2';

export function makeNet(seed = 1, link: LinkOptions = {}, dev: Partial<NetDevOptions> = {}, keepTrace = 0): Net {
  const world = new World(seed, { keepTrace });
  const fabric = new Fabric(world);
  const memIni = new FakeMemory();
  const memTgt = new FakeMemory();
  const ini = new Kernel(world, 'ini', memIni, fabric);
  const tgt = new Kernel(world, 'tgt', memTgt, fabric);
  const a = ini.addNetDev({ name: 'eth0', addr: INI_IP, ...dev });
  const b = tgt.addNetDev({ name: 'eth0', addr: TGT_IP, ...dev });
  return { world, fabric, ini, tgt, memIni, memTgt, link: fabric.connect(a, b, link) };
}

/** Runs until `cond` holds; fails loudly if it does not within `forUs` of virtual time. */
export function runUntil(net: Net, cond: () => boolean, forUs = 10_000_000): void {
  const out = net.world.run(cond, net.world.now + forUs);
  if (out !== 'done') throw new Error(`condition not reached (${out}) at t=${net.world.now}`);
}

/** Lets virtual time pass (all events up to now + us). */
export function runFor(net: Net, us: number): void {
  net.world.run(() => false, net.world.now + us);
}

export function tcpSocket(k: Kernel): number {
  const fd = k.socket(abi.AF_INET, abi.SOCK_STREAM | abi.SOCK_NONBLOCK, 0);
  if (fd < 0) throw new Error(`socket: ${fd}`);
  return fd;
}

export function listenOn(k: Kernel, port: number, opts: [number, number, number][] = []): number {
  const fd = tcpSocket(k);
  for (const [lvl, name, v] of opts) expectOk(k.setsockopt(fd, lvl, name, v));
  expectOk(k.bind(fd, { addr: '0.0.0.0', port }));
  expectOk(k.listen(fd, 16));
  return fd;
}

export function expectOk(rc: number): void {
  if (rc !== 0) throw new Error(`expected 0, got ${rc}`);
}

/** Connects ini -> tgt:port and accepts; returns both fds. Options apply to the client before
 *  connect and to the listener (inherited by the accepted socket). */
export function connectPair(
  net: Net,
  port = 4420,
  opts: [number, number, number][] = [],
): { c: number; s: number; l: number } {
  const l = listenOn(net.tgt, port, opts);
  const c = tcpSocket(net.ini);
  for (const [lvl, name, v] of opts) expectOk(net.ini.setsockopt(c, lvl, name, v));
  const rc = net.ini.connect(c, { addr: TGT_IP, port });
  if (rc !== -abi.EINPROGRESS) throw new Error(`connect: ${rc}`);
  let s = -1;
  runUntil(net, () => {
    const r = net.tgt.accept(l);
    if (typeof r !== 'number') s = r.fd;
    return s >= 0 && net.ini.sockInfo(c)?.state === 'ESTABLISHED';
  });
  return { c, s, l };
}

/** Copies `data` into memory at `addr`. */
export function fill(mem: FakeMemory, addr: number, data: Uint8Array | number[]): void {
  mem.u8.set(data, addr);
}

export function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

/** Reads everything currently readable on `fd` into a fresh array (via guest memory at `addr`). */
export function drain(k: Kernel, mem: FakeMemory, fd: number, addr = 1 << 21, chunk = 1 << 20): Uint8Array {
  const parts: Uint8Array[] = [];
  for (;;) {
    const n = k.readv(fd, [{ base: addr, len: chunk }]);
    if (n <= 0) break;
    parts.push(mem.u8.slice(addr, addr + n));
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const ZC: [number, number, number][] = [
  [abi.SOL_SOCKET, abi.SO_ZEROCOPY, 1],
  [abi.IPPROTO_TCP, abi.TCP_NODELAY, 1],
];

/** Index of the first differing byte, or -1 (vitest's deep equality is slow on big arrays). */
export function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/**
 * Uses up the quick ACKs Linux grants a receiver at connection start (tcp_incr_quickack), so the
 * next small segment meets the delayed-ACK rules: one-byte writes from `c` (ini) to `s` (tgt),
 * each acknowledged before the next, then the receiver reads them (nothing is owed by then).
 */
export function useUpQuickAcks(net: Net, c: number, s: number, addr = 1 << 20): void {
  for (let i = 0; net.tgt.sockInfo(s)!.quickAcks > 0 || i === 0; i++) {
    if (i > 64) throw new Error('quick ACKs never ran out');
    if (net.ini.sendmsg(c, [{ base: addr, len: 1 }], 0) !== 1) throw new Error('sendmsg failed');
    runUntil(net, () => net.ini.sockInfo(c)!.unacked === 0);
  }
  drain(net.tgt, net.memTgt, s);
}
