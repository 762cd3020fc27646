/**
 * A write queued during a poll (the target's CapsuleResp, sent from the zero-copy completion of
 * its C2HData; the initiator's next command, submitted from a completion callback) goes out on
 * the reactor's next iteration, microseconds later upstream. The machine reports such a poll as
 * busy so the world polls it again at once rather than at the next unrelated event.
 */
import { describe, expect, it } from 'vitest';
import { pair } from './support.js';

const RANDREAD = 1;
const LINK_LATENCY_US = 20;

describe('NVMe/TCP latency at queue depth 1', () => {
  it('a 4 KiB read takes a few link latencies of virtual time, not a timer period', async () => {
    const p = await pair();
    const ios = 50;
    expect(p.host.api.spdk_wasm_bdevperf_start(p.id, RANDREAD, 4096, 1, 0, 0, ios, 1, 0)).toBe(0);
    const t0 = p.tb.world.now;
    p.tb.runUntil(() => p.host.api.spdk_wasm_bdevperf_status() !== 0, t0 + 60e6);
    expect(p.host.api.spdk_wasm_bdevperf_status()).toBe(1);
    expect(p.host.api.spdk_wasm_bdevperf_counter(1)).toBe(ios);
    // Command, C2HData with SUCCESS (no CapsuleResp at the base), its ACK (the zero-copy send
    // completes and frees the request): three crossings.
    const perIo = (p.tb.world.now - t0) / ios;
    expect(perIo).toBeGreaterThanOrEqual(3 * LINK_LATENCY_US);
    expect(perIo).toBeLessThan(8 * LINK_LATENCY_US);
  });
});
