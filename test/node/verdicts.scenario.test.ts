/**
 * A verdict claims no more than was observed (issue 11 §4): a run that ends at a deadline or in a
 * failure that is not the bug's is inconclusive, never reproduced; the observation window follows
 * the parameters; a summary names the mechanism that acted and counts every I/O.
 */
import { describe, expect, it } from 'vitest';
import { tcpZcopyDisconnect } from '../../host/scenarios/tcp-zcopy-disconnect.js';
import { zcopyThreshold } from '../../host/scenarios/zcopy-threshold.js';
import { scenarioRunner } from './support/scenario.js';

const zcopy = scenarioRunner(zcopyThreshold);
const disconnect = scenarioRunner(tcpZcopyDisconnect);

describe('zcopy-threshold: a deadline is not evidence', () => {
  it('heavy loss without zero copy stops at the deadline: inconclusive, saying what was missing', async () => {
    const r = await zcopy('patched', 1, { 'loss-ppm': '300000', zcopy: 'false' });
    expect(r.simulatedUs).toBe(120e6);
    expect(r.verdict).toBe('inconclusive');
    expect(r.reproduced).toBe(false);
    expect(r.counters['mismatchedWrites']).toBe(0);
    expect(r.counters['writesCompleted']).toBeLessThan(16);
    expect(String(r.evidence['missing'])).toMatch(/writes completed .* bytes arrived \(all intact\)/);
  });

  it('no patched run under loss is reproduced, over several seeds and loss rates', async () => {
    for (const loss of ['100000', '300000']) {
      for (const seed of [1, 2, 3]) {
        const r = await zcopy('patched', seed, { 'loss-ppm': loss, 'io-count': '4' });
        expect(r.verdict, `loss ${loss} seed ${seed}: ${r.summary}`).not.toBe('reproduced');
        if (r.verdict === 'clean') expect(r.counters['writesCompleted']).toBe(4);
      }
    }
  });

  it('corruption in what arrived still reproduces, with or without the deadline', async () => {
    const r = await zcopy('unpatched', 1);
    expect(r.verdict).toBe('reproduced');
    expect(r.counters['mismatchedWrites']).toBeGreaterThan(0);
    const clean = await zcopy('patched', 1);
    expect(clean.verdict).toBe('clean');
    expect(clean.counters['writesCompleted']).toBe(16);
  });

  it('nvme-tcp mode: every I/O is verified, miscompared, failed or outstanding, and the summary counts them', async () => {
    const configs: Record<string, string>[] = [
      {},
      { 'loss-ppm': '50000' },
      // These ran into the world's livelock budget while a poll group spun on an empty socket.
      { 'loss-ppm': '150000' },
      { 'loss-ppm': '200000' },
      { 'loss-ppm': '400000' },
      { 'latency-us': '150000', 'io-count': '8' },
    ];
    for (const variant of ['patched', 'unpatched'] as const) {
      for (const c of configs) {
        const r = await zcopy(variant, 1, { mode: 'nvme-tcp', ...c });
        const k = r.counters;
        // bdevperf's verify: each issued I/O is a write then its read-back, and ends one way.
        expect(k['verified']! + k['miscompares']! + k['failed']! + k['outstanding']!, `${variant} ${JSON.stringify(c)}: ${r.summary}`).toBe(k['submitted']);
        expect(r.summary).toMatch(new RegExp(`${k['verified']} verified, ${k['miscompares']} miscompared, ${k['failed']} failed`));
        if (r.verdict === 'clean') expect(k['verified']).toBeGreaterThan(0);
        if (r.verdict === 'reproduced') expect(k['miscompares']).toBeGreaterThan(0);
      }
    }
  });
});

describe('tcp-zcopy-disconnect: the window follows the parameters', () => {
  it('patched with ack_timeout beyond 2 x KATO is clean, released by TCP_USER_TIMEOUT', async () => {
    const r = await disconnect('patched', 1, { 'ack-timeout-ms': '30000' });
    expect(r.verdict).toBe('clean');
    expect(r.counters['stuckRequests']).toBe(0);
    expect(r.summary).toMatch(/TCP_USER_TIMEOUT of 30000 ms aborted the target's socket/);
    const released = (r.counters['releasedAtUs']! - r.counters['cutAtUs']!) / 1e6;
    expect(released).toBeGreaterThanOrEqual(29);
    expect(released).toBeLessThan(31);
  });

  it('the largest advertised ack_timeout is still judged after it acted', async () => {
    const r = await disconnect('patched', 1, { 'ack-timeout-ms': '600000' });
    expect(r.verdict).toBe('clean');
    expect(r.simulatedUs).toBeGreaterThan(600e6);
  });

  it('the long unpatched run credits tcp_retries2, and only when it fired', async () => {
    const r = await disconnect('unpatched', 1, { 'long-run': 'true' });
    expect(r.verdict).toBe('reproduced');
    expect(r.summary).toMatch(/released 924\.\d s after the cut: tcp_retries2 aborted the target's socket/);
    expect(r.summary).not.toMatch(/TCP_USER_TIMEOUT/);
  });
});
