/**
 * util.Bitmap over the server's port range: a replica takes one contiguous range (the first port
 * exposes its head, the rest serve rebuilding) and gives it back on delete.
 */
import { EngineError, invalidArgument } from './errors.js';

export class PortAllocator {
  private readonly used: boolean[];

  constructor(readonly start: number, readonly end: number) {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 1 || end > 65535 || start > end) {
      throw invalidArgument(`port range ${start}-${end} must be integers with 1 <= start <= end <= 65535`);
    }
    this.used = new Array<boolean>(end - start + 1).fill(false);
  }

  /** The lowest free run of `count` ports, as [first, last]. */
  allocateRange(count: number): [number, number] {
    if (!Number.isInteger(count) || count < 1) throw invalidArgument(`port count must be a positive integer, got ${count}`);
    let run = 0;
    for (let i = 0; i < this.used.length; i++) {
      run = this.used[i] ? 0 : run + 1;
      if (run === count) {
        for (let j = i - count + 1; j <= i; j++) this.used[j] = true;
        return [this.start + i - count + 1, this.start + i];
      }
    }
    throw new EngineError('ResourceExhausted', `no ${count} free contiguous ports in ${this.start}-${this.end}`);
  }

  releaseRange(first: number, last: number): void {
    if (first < this.start || last > this.end || first > last) {
      throw invalidArgument(`port range ${first}-${last} is not inside ${this.start}-${this.end}`);
    }
    for (let p = first; p <= last; p++) this.used[p - this.start] = false;
  }

  /** Ports taken now. */
  inUse(): number {
    return this.used.filter(Boolean).length;
  }
}
