/** One machine's TCP demultiplexer: connection and listener tables, local ports, routing to a
 *  NIC, and RSTs for segments nobody owns. */
import * as abi from '../gen/abi.js';
import type { Touchable, World } from '../sim/world.js';
import type { Prng } from '../sim/prng.js';
import type { NetDev } from '../net/netdev.js';
import { StaticFrame, type TcpSegment } from '../net/segment.js';
import type { GuestMemory } from './host-kernel.js';
import type { TcpHost, TcpSocket, TcpTimerActions } from './tcp-socket.js';
import { onDelack, onPersist, onRto, rstFor } from './tcp-output.js';
import { tcpInput } from './tcp-input.js';

/** Linux's default ip_local_port_range. */
const EPHEMERAL_LO = 32768;
const EPHEMERAL_HI = 60999;

function tuple(laddr: string, lport: number, raddr: string, rport: number): string {
  return `${laddr}:${lport}>${raddr}:${rport}`;
}

export class TcpStack implements TcpHost {
  private readonly conns = new Map<string, TcpSocket>();
  private readonly listeners = new Map<number, TcpSocket>();
  /** Local port -> sockets holding it (bound, listening or connected). */
  private readonly ports = new Map<number, Set<TcpSocket>>();
  private nextEphemeral: number;
  rstsSent = 0;
  aborts = 0;
  abortsUserTimeout = 0;
  abortsRetries2 = 0;
  readonly timers: TcpTimerActions = { rto: onRto, delack: onDelack, persist: onPersist };

  constructor(
    readonly world: World,
    readonly machine: string,
    readonly memory: GuestMemory,
    readonly rng: Prng,
    private readonly devs: readonly NetDev[],
    readonly touch: Touchable,
  ) {
    this.nextEphemeral = rng.int(EPHEMERAL_LO, EPHEMERAL_HI);
  }

  isLocal(addr: string): boolean {
    if (addr.startsWith('127.')) return true;
    return this.devs.some((d) => d.addr === addr);
  }

  route(dst: string): { dev: NetDev; src: string } | undefined {
    if (this.isLocal(dst)) {
      const lo = this.devs.find((d) => d.loopback);
      if (lo === undefined) return undefined;
      return { dev: lo, src: dst.startsWith('127.') ? lo.addr : dst };
    }
    for (const d of this.devs) {
      if (!d.loopback && d.routes.has(dst)) return { dev: d, src: d.addr };
    }
    return undefined;
  }

  ephemeralPort(_addr: string): number {
    const span = EPHEMERAL_HI - EPHEMERAL_LO + 1;
    for (let i = 0; i < span; i++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p === EPHEMERAL_HI ? EPHEMERAL_LO : p + 1;
      if (!this.ports.has(p)) return p;
    }
    return 0;
  }

  /** bind(2) bookkeeping. Returns 0 or a negative errno. */
  bind(s: TcpSocket, addr: string, port: number): number {
    if (addr !== '0.0.0.0' && !this.isLocal(addr)) return -abi.EADDRNOTAVAIL;
    let p = port;
    if (p === 0) {
      p = this.ephemeralPort(addr);
      if (p === 0) return -abi.EADDRINUSE;
    } else {
      const holders = this.ports.get(p);
      if (holders !== undefined) {
        for (const h of holders) {
          const overlap = h.local === undefined || h.local.addr === addr || addr === '0.0.0.0' || h.local.addr === '0.0.0.0';
          const reusable = s.reuseaddr && h.reuseaddr && h.state !== 'LISTEN';
          if (overlap && !reusable) return -abi.EADDRINUSE;
        }
      }
    }
    this.hold(s, p);
    s.local = { addr, port: p };
    return 0;
  }

  hold(s: TcpSocket, port: number): void {
    let set = this.ports.get(port);
    if (set === undefined) this.ports.set(port, (set = new Set()));
    set.add(s);
  }

  listen(s: TcpSocket): number {
    const port = s.local!.port;
    const other = this.listeners.get(port);
    if (other !== undefined && other !== s) return -abi.EADDRINUSE;
    this.listeners.set(port, s);
    return 0;
  }

  register(s: TcpSocket): boolean {
    const key = tuple(s.local!.addr, s.local!.port, s.remote!.addr, s.remote!.port);
    if (this.conns.has(key)) return false;
    this.conns.set(key, s);
    if (s.parent === undefined) this.hold(s, s.local!.port);
    return true;
  }

  unregister(s: TcpSocket): void {
    if (s.local === undefined) return;
    if (this.listeners.get(s.local.port) === s) this.listeners.delete(s.local.port);
    if (s.remote === undefined) return;
    const key = tuple(s.local.addr, s.local.port, s.remote.addr, s.remote.port);
    if (this.conns.get(key) === s) this.conns.delete(key);
  }

  release(s: TcpSocket): void {
    if (s.local === undefined) return;
    const set = this.ports.get(s.local.port);
    if (set === undefined) return;
    set.delete(s);
    if (set.size === 0) this.ports.delete(s.local.port);
  }

  /** Every socket with a connection entry (accepted or not, orphans included). */
  connections(): TcpSocket[] {
    return [...this.conns.values()];
  }

  /** A segment arrived on one of this machine's NICs. */
  readonly input = (seg: TcpSegment): void => {
    const s = this.conns.get(tuple(seg.dst, seg.dport, seg.src, seg.sport)) ?? this.listeners.get(seg.dport);
    if (s !== undefined && (s.state !== 'LISTEN' || s.local!.addr === '0.0.0.0' || s.local!.addr === seg.dst)) {
      tcpInput(s, seg, this.reply);
      return;
    }
    const rst = rstFor(seg);
    if (rst !== undefined) this.reply(rst);
  };

  /** Sends a stack-generated RST back towards the segment's source. */
  private readonly reply = (rst: TcpSegment): void => {
    const r = this.route(rst.dst);
    if (r === undefined) return;
    this.rstsSent++;
    this.world.record(this.machine, 'tcp.rst', { dst: `${rst.dst}:${rst.dport}`, seq: rst.seq });
    r.dev.transmit(new StaticFrame(rst));
  };
}
