/** The network fabric: every NIC of every machine, the links between them, routing by
 *  destination address, and the packet-capture hook (a pcap writer subscribes here). */
import type { World } from '../sim/world.js';
import { payloadPooled, type TcpSegment } from './segment.js';
import { Link, type LinkOptions } from './link.js';
import type { CaptureTap, NetDev } from './netdev.js';

export interface CaptureEvent {
  /** Virtual time (µs) the frame started transmitting. */
  t: number;
  /** Link name, or "<machine>/lo" for loopback. */
  link: string;
  /** Transmitting NIC as "<machine>/<dev>". */
  from: string;
  /** Real header fields and the materialized payload; do not mutate. */
  seg: TcpSegment;
}

export type CaptureListener = (ev: CaptureEvent) => void;

/** Simulated addresses only: the RFC 5737 documentation ranges, so nothing looks routable. */
const SIMULATED = /^(192\.0\.2|198\.51\.100|203\.0\.113)\.(\d{1,3})$/;

export function isSimulatedAddress(addr: string): boolean {
  const m = SIMULATED.exec(addr);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 254;
}

export class Fabric implements CaptureTap {
  readonly links: Link[] = [];
  private readonly byAddr = new Map<string, NetDev>();
  private readonly listeners: CaptureListener[] = [];

  constructor(private readonly world: World) {}

  /** Called by Kernel.addNetDev; addresses are unique across the fabric. */
  register(dev: NetDev): void {
    if (dev.loopback) return;
    if (!isSimulatedAddress(dev.addr)) {
      throw new RangeError(`${dev.id}: address ${dev.addr} is not simulated (use 192.0.2.1-254)`);
    }
    const other = this.byAddr.get(dev.addr);
    if (other !== undefined) throw new Error(`${dev.id}: address ${dev.addr} already used by ${other.id}`);
    this.byAddr.set(dev.addr, dev);
  }

  device(addr: string): NetDev | undefined {
    return this.byAddr.get(addr);
  }

  /** Cables two NICs together; each then routes the other's address over the link. */
  connect(a: NetDev, b: NetDev, opts: LinkOptions = {}): Link {
    if (a.loopback || b.loopback) throw new Error('Fabric.connect: loopback devices have no links');
    if (a.routes.has(b.addr) || b.routes.has(a.addr)) {
      throw new Error(`Fabric.connect: ${a.id} and ${b.id} are already linked`);
    }
    const link = new Link(this.world, a, b, this.world.rng.fork(), opts);
    a.routes.set(b.addr, link);
    b.routes.set(a.addr, link);
    this.links.push(link);
    return link;
  }

  linkBetween(a: NetDev, b: NetDev): Link | undefined {
    return this.links.find((l) => (l.a === a && l.b === b) || (l.a === b && l.b === a));
  }

  onCapture(fn: CaptureListener): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Offered every frame as it starts transmitting on `dev`. */
  capture(dev: NetDev, seg: TcpSegment): void {
    if (this.listeners.length === 0) return;
    const link = dev.loopback ? dev.id : (dev.routes.get(seg.dst)?.name ?? `${dev.id}->?`);
    // Listeners may keep the event: a pooled payload is reused once the segment has arrived.
    const kept = payloadPooled(seg) ? { ...seg, payload: seg.payload.slice(), holds: 0 } : seg;
    const ev: CaptureEvent = { t: this.world.now, link, from: dev.id, seg: kept };
    for (const fn of this.listeners) fn(ev);
  }
}
