/**
 * A machine whose last poll was idle is polled again only when something it can see changed (an
 * event touching its kernel, an event touching anything, a call into it) or a timed poller is
 * due. Skipped polls would have found nothing: the work and its timing stay the same.
 */
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../../host/kernel/kernel.js';
import { pair, io } from '../nvme/support.js';

describe('idle machines', () => {
  it('are not polled while nothing they can see changes, and wake for the wire, timers and calls', async () => {
    const p = await pair();
    const k = p.target.kernel as Kernel;
    let epollWaits = 0;
    const wait = k.epollWait.bind(k);
    k.epollWait = (...a: Parameters<Kernel['epollWait']>) => {
      epollWaits++;
      return wait(...a);
    };
    let rounds = 0;
    const poll = p.target.pollOnce.bind(p.target);
    p.target.pollOnce = () => {
      rounds++;
      return poll();
    };
    // One idle second: the host's admin queue and keep-alive timers make rounds; the target's
    // poll group waits on epoll only when its own timers are due or a keep-alive arrives.
    p.tb.runUntil(() => false, p.tb.world.now + 1_000_000);
    expect(rounds).toBeGreaterThan(50);
    expect(epollWaits).toBeGreaterThan(0);
    expect(epollWaits).toBeLessThan(rounds / 2);
    // The wire wakes it: an I/O after the quiet second completes.
    const buf = p.host.api.spdk_wasm_malloc(4096);
    expect(io(p, false, buf, 0, 8)).toBe(0);
  });
});
