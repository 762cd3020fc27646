/** An emulated NIC: a transmit queue paced by the line rate, link carrier, and receive hand-off. */
import * as abi from '../gen/abi.js';
import type { Touchable, World } from '../sim/world.js';
import type { ScheduledEvent } from '../sim/event-queue.js';
import { EMPTY_PAYLOAD, HEADER_BYTES, recordSegment, releasePayload, type Frame, type TcpSegment } from './segment.js';

/** The cable a NIC sends over towards one peer address (link.ts's Link). Declared here so the
 *  NIC sits below the link and the fabric that wire NICs together. */
export interface NetLink {
  readonly name: string;
  /** A frame finished serializing on `from`. */
  carry(from: NetDev, seg: TcpSegment): void;
}

/** Where a NIC offers each frame as it starts transmitting (fabric.ts's packet capture). */
export interface CaptureTap {
  capture(dev: NetDev, seg: TcpSegment): void;
}

export interface NetDevOptions {
  name: string;
  /** IPv4 address; simulated documentation ranges only (see fabric.ts). */
  addr: string;
  /** Default 1500 (65536 for loopback). */
  mtu?: number;
  /** Default mtu - 40. A scenario may lower it to force small segments. */
  mss?: number;
  /** Line rate in bits/s; default 10 Gbit/s (100 Gbit/s for loopback). */
  rateBps?: number;
  /** TSO/GRO size: when larger than the MSS, TCP hands the NIC frames of up to this many bytes
   *  (a whole number of MSS), as Linux does with segmentation offload. 0 = off (default). */
  tsoBytes?: number;
  /** Delay between queueing a frame on an idle NIC and the start of its transmission (DMA). */
  txDelayUs?: number;
  loopback?: boolean;
}

export interface NetDevCounters {
  txFrames: number;
  txBytes: number;
  txDropped: number;
  rxFrames: number;
  rxBytes: number;
  rxDropped: number;
}

export class NetDev {
  readonly name: string;
  readonly addr: string;
  readonly mtu: number;
  mss: number;
  rateBps: number;
  tsoBytes: number;
  txDelayUs: number;
  flags: number;
  /** Far-end address -> link, filled by Fabric.connect. */
  readonly routes = new Map<string, NetLink>();
  /** The owning kernel's input; set by the kernel. */
  receiver: ((seg: TcpSegment, dev: NetDev) => void) | undefined;
  readonly counters: NetDevCounters = { txFrames: 0, txBytes: 0, txDropped: 0, rxFrames: 0, rxBytes: 0, rxDropped: 0 };

  private queue: (Frame | undefined)[] = [];
  private qHead = 0;
  private current: Frame | undefined;
  private kick: ScheduledEvent | undefined;

  constructor(
    private readonly world: World,
    private readonly fabric: CaptureTap,
    readonly machine: string,
    opts: NetDevOptions,
    /** The owning kernel, as what this NIC's events touch (World.at); undefined: anything. */
    readonly owner?: Touchable,
  ) {
    const lo = opts.loopback === true;
    this.name = opts.name;
    this.addr = opts.addr;
    this.mtu = opts.mtu ?? (lo ? 65536 : 1500);
    this.mss = opts.mss ?? this.mtu - 40;
    this.rateBps = opts.rateBps ?? (lo ? 100e9 : 10e9);
    this.tsoBytes = opts.tsoBytes ?? 0;
    this.txDelayUs = opts.txDelayUs ?? 0;
    if (!(this.mss > 0 && this.mss <= this.mtu - 40)) {
      throw new RangeError(`NetDev ${this.name}: mss ${this.mss} must be in 1..${this.mtu - 40}`);
    }
    if (!(this.rateBps > 0)) throw new RangeError(`NetDev ${this.name}: rateBps ${this.rateBps} must be > 0`);
    this.flags = abi.IFF_UP | abi.IFF_RUNNING | (lo ? abi.IFF_LOOPBACK : 0);
  }

  get loopback(): boolean {
    return (this.flags & abi.IFF_LOOPBACK) !== 0;
  }

  /** Administratively up and carrier present. */
  get up(): boolean {
    return (this.flags & (abi.IFF_UP | abi.IFF_RUNNING)) === (abi.IFF_UP | abi.IFF_RUNNING);
  }

  get id(): string {
    return `${this.machine}/${this.name}`;
  }

  /** Largest payload TCP may hand this NIC in one frame for a connection with this MSS. */
  maxFrame(mss: number): number {
    return this.tsoBytes > mss ? Math.floor(this.tsoBytes / mss) * mss : mss;
  }

  /** Carrier up/down (cable pulled, `ip link set down` on the switch side, ...). */
  setLink(up: boolean): void {
    if (up === ((this.flags & abi.IFF_RUNNING) !== 0)) return;
    this.flags = up ? this.flags | abi.IFF_RUNNING : this.flags & ~abi.IFF_RUNNING;
    if (this.owner !== undefined) this.owner.touched = true;
    this.world.record(this.machine, up ? 'link.up' : 'link.down', { dev: this.name });
    if (up) this.schedule();
  }

  get queued(): number {
    return this.queue.length - this.qHead + (this.current !== undefined ? 1 : 0);
  }

  transmit(frame: Frame): void {
    this.queue.push(frame);
    this.schedule();
  }

  /** A frame arrived from the wire (or from loopback). */
  receive(seg: TcpSegment): void {
    if (!this.up) {
      this.counters.rxDropped++;
      recordSegment(this.world, 'tcp.drop', seg, 'rxdown');
      return;
    }
    this.counters.rxFrames++;
    this.counters.rxBytes += seg.len;
    this.receiver?.(seg, this);
  }

  /** Transmission never starts inside the caller's syscall: the guest keeps running first, so a
   *  buffer it overwrites right after sendmsg returns is what goes on the wire (decision 6). */
  private schedule(): void {
    if (this.current !== undefined || this.kick !== undefined || this.qHead >= this.queue.length) return;
    this.kick = this.world.after(this.txDelayUs, 'nic.tx', this.onKick, this.owner);
  }

  private readonly onKick = (): void => {
    this.kick = undefined;
    this.startNext();
  };

  private startNext(): void {
    while (this.qHead < this.queue.length) {
      const f = this.queue[this.qHead]!;
      this.queue[this.qHead++] = undefined;
      if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.qHead);
        this.qHead = 0;
      }
      if (!this.up) {
        this.counters.txDropped++;
        recordSegment(this.world, 'tcp.drop', f.seg, 'txdown');
        f.release();
        continue;
      }
      const payload = f.seg.len > 0 ? f.materialize() : EMPTY_PAYLOAD;
      f.seg.payload = payload;
      f.seg.holds = f.pooled === true ? 1 : 0;
      this.counters.txFrames++;
      this.counters.txBytes += payload.length;
      this.fabric.capture(this, f.seg);
      this.current = f;
      const us = Math.max(1, Math.ceil(((payload.length + HEADER_BYTES) * 8 * 1e6) / this.rateBps));
      this.world.after(us, 'nic.txdone', this.onTxDone, this.owner);
      return;
    }
  }

  private readonly onTxDone = (): void => {
    const f = this.current!;
    this.current = undefined;
    this.forward(f.seg); // a link that will deliver it takes its own holds on the payload
    f.release();
    releasePayload(f.seg);
    this.startNext();
  };

  private forward(seg: TcpSegment): void {
    if (this.loopback) {
      recordSegment(this.world, 'tcp.seg', seg);
      this.receive(seg);
      return;
    }
    const link = this.routes.get(seg.dst);
    if (link === undefined) {
      this.counters.txDropped++;
      recordSegment(this.world, 'tcp.drop', seg, 'noroute');
      return;
    }
    link.carry(this, seg);
  }
}
