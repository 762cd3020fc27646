/** The socket error queue (MSG_ERRQUEUE). Holds zero-copy completion notifications; a new range
 *  that continues the tail notification extends it instead of queueing another (spec §7 (b)). */
import * as abi from '../gen/abi.js';
import type { SockExtendedErr } from './host-kernel.js';

export class ErrQueue {
  private items: SockExtendedErr[] = [];

  get length(): number {
    return this.items.length;
  }

  /** Queues the inclusive id range [lo, hi] (ids wrap at 2^32). Returns true if coalesced. */
  pushZerocopy(lo: number, hi: number, copied: boolean): boolean {
    const tail = this.items[this.items.length - 1];
    if (tail !== undefined && tail.ee_origin === abi.SO_EE_ORIGIN_ZEROCOPY && lo === ((tail.ee_data + 1) >>> 0)) {
      const span = ((tail.ee_data - tail.ee_info) >>> 0) + 1 + ((hi - lo) >>> 0) + 1;
      if (span < 2 ** 32) {
        tail.ee_data = hi >>> 0;
        return true;
      }
    }
    this.items.push({
      ee_errno: 0,
      ee_origin: abi.SO_EE_ORIGIN_ZEROCOPY,
      ee_type: 0,
      ee_code: copied ? abi.SO_EE_CODE_ZEROCOPY_COPIED : 0,
      ee_info: lo >>> 0,
      ee_data: hi >>> 0,
    });
    return false;
  }

  pop(): SockExtendedErr | undefined {
    return this.items.shift();
  }

  peekAll(): readonly SockExtendedErr[] {
    return this.items;
  }

  clear(): void {
    this.items = [];
  }
}
