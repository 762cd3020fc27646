/** TCP timing: a cheap re-armable timer, the RFC 6298 RTO estimator, and Linux's time-based
 *  retry limit. All times are virtual µs. */
import type { Touchable, World } from '../sim/world.js';
import type { ScheduledEvent } from '../sim/event-queue.js';

export const RTO_MIN_US = 200_000;
export const RTO_MAX_US = 120_000_000;
/** Initial RTO before any RTT sample (and for SYN/SYN-ACK). */
export const RTO_INIT_US = 1_000_000;
export const TIME_WAIT_US = 60_000_000;
export const FIN_TIMEOUT_US = 60_000_000;
/** Linux defaults: tcp_retries2, tcp_syn_retries, tcp_synack_retries. */
export const TCP_RETRIES2 = 15;
export const TCP_SYN_RETRIES = 6;
export const TCP_SYNACK_RETRIES = 5;

/**
 * How long `boundary` exponentially backed-off retries take from `baseUs`, capped per retry at
 * RTO_MAX. Linux aborts once the time since the first unacknowledged transmission passes this:
 * retries2 = 15 from 200 ms gives 924.6 s; 6 SYN retries from 1 s give 127 s.
 */
export function retriesTimeoutUs(boundary: number, baseUs: number): number {
  const thresh = Math.floor(Math.log2(RTO_MAX_US / baseUs));
  if (boundary <= thresh) return (2 ** (boundary + 1) - 1) * baseUs;
  return (2 ** (thresh + 1) - 1) * baseUs + (boundary - thresh) * RTO_MAX_US;
}

/**
 * One pending deadline with at most one queued world event. Moving the deadline later (every
 * ACK restarts the RTO) does not touch the event queue: the early event re-arms itself.
 */
export class Timer {
  private ev: ScheduledEvent | undefined;
  private due = Infinity;

  constructor(
    private readonly world: World,
    private readonly label: string,
    private readonly fire: () => void,
    /** What firing changes (the socket's kernel). */
    private readonly touches?: Touchable,
  ) {}

  get armed(): boolean {
    return this.due !== Infinity;
  }

  get deadline(): number {
    return this.due;
  }

  set(at: number): void {
    this.due = Math.ceil(at);
    if (this.ev !== undefined) {
      if (this.ev.at <= this.due) return;
      this.world.cancel(this.ev);
    }
    this.ev = this.world.at(this.due, this.label, this.onEvent, this.touches);
  }

  clear(): void {
    this.due = Infinity;
    this.world.cancel(this.ev);
    this.ev = undefined;
  }

  private readonly onEvent = (): void => {
    this.ev = undefined;
    if (this.due === Infinity) return;
    if (this.world.now < this.due) {
      this.ev = this.world.at(this.due, this.label, this.onEvent, this.touches);
      return;
    }
    this.due = Infinity;
    this.fire();
  };
}

/** RFC 6298 smoothed RTT and RTO, clamped to [RTO_MIN, RTO_MAX]. */
export class RtoEstimator {
  srtt = 0;
  rttvar = 0;
  rto = RTO_INIT_US;
  private sampled = false;

  sample(rttUs: number): void {
    const r = Math.max(1, rttUs);
    if (!this.sampled) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.sampled = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(RTO_MAX_US, Math.max(RTO_MIN_US, Math.ceil(this.srtt + Math.max(1, 4 * this.rttvar))));
  }

  /** RTO after `backoff` doublings. */
  backedOff(backoff: number): number {
    return Math.min(RTO_MAX_US, this.rto * 2 ** backoff);
  }
}
