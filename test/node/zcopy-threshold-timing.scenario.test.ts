/**
 * Simulated time of the zcopy-threshold replay against its I/O size (issue 12 §3). Before the
 * receiver followed Linux's ACK rules, one size (64 KiB: a 65160-byte TSO frame plus a 376-byte
 * tail) paid the 40 ms delayed-ACK timer per write: 601,795 µs instead of ~2 ms. The sock mode's
 * receiver only reads, so Linux ACKs the pushed tail as soon as the read empties the queue.
 */
import { describe, expect, it } from 'vitest';
import { zcopyThreshold } from '../../host/scenarios/zcopy-threshold.js';
import type { Variant } from '../../host/spdk/variant.js';
import { scenarioRunner } from './support/scenario.js';

const run = scenarioRunner(zcopyThreshold);

/** Powers of two over the advertised --io-size range (4096 .. 1 MiB). */
const SIZES = [4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576];

/** Neighbouring sizes may differ in cost per byte, but not by an order of magnitude. */
const MAX_RATIO = 10;

describe('zcopy-threshold: simulated time per byte is smooth over I/O sizes', () => {
  it.each<Variant>(['patched', 'unpatched'])('sock mode, %s', async (variant) => {
    const perByte: number[] = [];
    for (const size of SIZES) {
      const r = await run(variant, 1, { 'io-size': String(size) });
      expect(r.verdict).not.toBe('inconclusive'); // finished, not stopped at the deadline
      expect(r.counters['writesCompleted']).toBe(16);
      perByte.push(r.simulatedUs / (16 * size));
    }
    for (let i = 1; i < SIZES.length; i++) {
      const ratio = Math.max(perByte[i]! / perByte[i - 1]!, perByte[i - 1]! / perByte[i]!);
      expect(ratio, `${SIZES[i - 1]} -> ${SIZES[i]}: ${perByte[i - 1]} vs ${perByte[i]} µs/B`).toBeLessThan(MAX_RATIO);
    }
  });

  it('64 KiB writes are ACKed on read, not by the 40 ms timer', async () => {
    const r = await run('patched', 1, { 'io-size': '65536' });
    expect(r.simulatedUs).toBeLessThan(16 * 40_000 / 10);
  });

  it('nvme-tcp mode, 64 KiB reads: the completion rides in the C2HData, so no read waits for the pingpong host\'s delayed ACK', async () => {
    // The host answers each completion with the next command (Linux counts it pingpong and does
    // not ACK the C2HData's 400-byte tail at once). With c2h_success the C2HData is the
    // completion, so the next command, which carries the ACK, is not held back by it.
    const small = await run('patched', 1, { mode: 'nvme-tcp', 'io-size': '32768' });
    const big = await run('patched', 1, { mode: 'nvme-tcp', 'io-size': '65536' });
    expect(small.reproduced).toBe(false);
    expect(big.reproduced).toBe(false);
    const perIo = (big.simulatedUs - small.simulatedUs) / 16;
    expect(perIo).toBeLessThan(40_000 / 10);
  });
});
