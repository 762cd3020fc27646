/** A point-to-point link between two NICs: latency, jitter, loss, reordering, duplication,
 *  partition. Carrier loss on either NIC takes the link down. */
import type { World } from '../sim/world.js';
import type { Prng } from '../sim/prng.js';
import { holdPayload, recordSegment, releasePayload, type TcpSegment } from './segment.js';
import type { NetDev, NetLink } from './netdev.js';

export interface LinkOptions {
  latencyUs?: number;
  /** Uniform extra delay in [0, jitterUs]. Delivery order per direction is kept unless a
   *  segment is picked for reordering. */
  jitterUs?: number;
  /** Probability a segment is lost. */
  loss?: number;
  /** Probability a segment is held back by `reorderDelayUs` and may overtake nothing. */
  reorder?: number;
  /** Extra delay of a reordered segment; default 2 * latency + 100 µs. */
  reorderDelayUs?: number;
  /** Probability a segment is delivered twice. */
  duplicate?: number;
}

export interface LinkCounters {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

export class Link implements NetLink {
  latencyUs: number;
  jitterUs: number;
  loss: number;
  reorder: number;
  reorderDelayUs: number;
  duplicate: number;
  partitioned = false;
  readonly counters: LinkCounters = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, reordered: 0 };
  /** Last scheduled in-order arrival per direction (a->b, b->a), so jitter keeps FIFO order. */
  private readonly lastArrival = [0, 0];

  constructor(
    private readonly world: World,
    readonly a: NetDev,
    readonly b: NetDev,
    private readonly rng: Prng,
    opts: LinkOptions = {},
  ) {
    this.latencyUs = opts.latencyUs ?? 10;
    this.jitterUs = opts.jitterUs ?? 0;
    this.loss = opts.loss ?? 0;
    this.reorder = opts.reorder ?? 0;
    this.reorderDelayUs = opts.reorderDelayUs ?? 2 * this.latencyUs + 100;
    this.duplicate = opts.duplicate ?? 0;
  }

  get name(): string {
    return `${this.a.id}<->${this.b.id}`;
  }

  /** Carries traffic: both NICs have carrier and no partition is in force. */
  get up(): boolean {
    return !this.partitioned && this.a.up && this.b.up;
  }

  /** Drops everything in both directions while on (frames already in flight are lost too). */
  partition(on: boolean): void {
    if (on === this.partitioned) return;
    this.partitioned = on;
    this.world.record('wire', on ? 'link.partition' : 'link.heal', { link: this.name });
  }

  other(dev: NetDev): NetDev {
    return dev === this.a ? this.b : this.a;
  }

  /** A frame finished serializing on `from`; decide its fate. */
  carry(from: NetDev, seg: TcpSegment): void {
    this.counters.sent++;
    const reason = this.dropReason();
    if (reason !== undefined) {
      this.drop(seg, reason);
      return;
    }
    const to = this.other(from);
    const dir = from === this.a ? 0 : 1;
    let at = this.world.now + this.latencyUs + (this.jitterUs > 0 ? this.rng.int(0, this.jitterUs) : 0);
    if (this.rng.chance(this.reorder)) {
      this.counters.reordered++;
      at += this.reorderDelayUs;
    } else {
      at = Math.max(at, this.lastArrival[dir]!);
      this.lastArrival[dir] = at;
    }
    // Each scheduled arrival holds a pooled payload until it has been handled.
    holdPayload(seg);
    this.world.at(at, 'link.deliver', () => this.arrive(to, seg), to.owner);
    if (this.rng.chance(this.duplicate)) {
      this.counters.duplicated++;
      holdPayload(seg);
      this.world.at(at + 1, 'link.deliver', () => this.arrive(to, seg), to.owner);
    }
  }

  private dropReason(): string | undefined {
    if (this.partitioned) return 'partition';
    if (!this.a.up || !this.b.up) return 'down';
    if (this.rng.chance(this.loss)) return 'loss';
    return undefined;
  }

  private arrive(to: NetDev, seg: TcpSegment): void {
    if (!this.up) {
      this.drop(seg, this.partitioned ? 'partition' : 'down');
    } else {
      this.counters.delivered++;
      recordSegment(this.world, 'tcp.seg', seg);
      to.receive(seg);
    }
    releasePayload(seg);
  }

  private drop(seg: TcpSegment, reason: string): void {
    this.counters.dropped++;
    recordSegment(this.world, 'tcp.drop', seg, reason);
  }
}
