/** Replay of seed 001 (spdk#3309) over many seeds, both variants, the controls where the
 *  precondition is absent (zcopy off, link back before KATO), and determinism. The verdict comes
 *  from the target's request, qpair and controller states (introspection exports). */
import { describe, expect, it } from 'vitest';
import { findScenario } from '../../host/scenarios/index.js';
import { resolveParams } from '../../host/scenarios/params.js';
import { tcpZcopyDisconnect } from '../../host/scenarios/tcp-zcopy-disconnect.js';
import { loadVariant } from '../../host/spdk/node-loader.js';
import { expectDeterministic, scenarioRunner } from './support/scenario.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const KATO_US = 10_000_000;
const ACK_TIMEOUT_US = 5_000_000;

const run = scenarioRunner(tcpZcopyDisconnect);

interface Stuck {
  state: string;
  pdu_in_use: boolean;
  zcopy_phase: string;
  on_outstanding: boolean;
}

describe('tcp-zcopy-disconnect (seed 001)', () => {
  it('is registered', () => {
    expect(findScenario('tcp-zcopy-disconnect')).toBe(tcpZcopyDisconnect);
  });

  it.each(SEEDS)('unpatched seed %i: zcopy READs stuck in COMPLETED with pdu_in_use after 2 x KATO', async (seed) => {
    const r = await run('unpatched', seed);
    expect(r.oracle).toBe('liveness');
    expect(r.reproduced).toBe(true);
    expect(r.counters['ackTimeoutMs']).toBe(0);
    expect(r.counters['stuckRequests']).toBeGreaterThan(0);
    expect(r.counters['controllers']).toBe(1);
    expect(r.counters['bdevIoOutstanding']).toBe(r.counters['stuckRequests']);
    expect(r.counters['releasedAtUs']).toBe(-1);
    expect(r.simulatedUs - r.counters['cutAtUs']!).toBeGreaterThanOrEqual(2 * KATO_US);
    const e = r.evidence as { requests: Stuck[]; qpairState: string; destroyWaitsForOutstanding: boolean };
    expect(e.qpairState).toBe('DEACTIVATING');
    expect(e.destroyWaitsForOutstanding).toBe(true);
    for (const q of e.requests) {
      expect(q).toMatchObject({ state: 'TCP_REQ_COMPLETED', pdu_in_use: true, zcopy_phase: 'EXECUTE', on_outstanding: true });
    }
  });

  it.each(SEEDS)('patched seed %i: ETIMEDOUT within ack_timeout frees every request, the qpair and the controller', async (seed) => {
    const r = await run('patched', seed);
    expect(r.reproduced).toBe(false);
    expect(r.counters['ackTimeoutMs']).toBe(5000);
    expect(r.counters['stuckRequests']).toBe(0);
    expect(r.counters['qpairs']).toBe(0);
    expect(r.counters['controllers']).toBe(0);
    expect(r.counters['controllersDestroyed']).toBe(1);
    expect(r.counters['bdevIoOutstanding']).toBe(0);
    const released = r.counters['releasedAtUs']! - r.counters['cutAtUs']!;
    expect(released).toBeGreaterThan(0);
    // Before keep-alive could act: the kernel's user timeout, plus a little.
    expect(released).toBeLessThan(ACK_TIMEOUT_US + 250_000);
  });

  it.each([
    ['zero copy off', { zcopy: 'false' }],
    ['link restored before KATO', { 'restore-link-us': '2000000' }],
  ])('both variants are clean when the precondition is absent: %s', async (_name, raw) => {
    for (const variant of ['unpatched', 'patched'] as const) {
      for (const seed of [1, 2, 3]) {
        const r = await run(variant, seed, raw);
        expect(r.reproduced).toBe(false);
        expect(r.counters['stuckRequests']).toBe(0);
        expect(r.counters['bdevIoOutstanding']).toBe(0);
      }
    }
  });
});

describe('reconnect after the link returns (ack_timeout already fired)', () => {
  // Regression: a PDU whose send was aborted mid-way kept its sock request's offset; on the new
  // connection the initiator then sent its Fabrics Connect without the first 72 bytes, the target
  // answered C2HTermReq and busy-polled the half-closed socket for 30 s (upstream zeroes the whole
  // PDU before reuse). Observed here on the wire: every target PDU header parses, no TermReq.
  it.each([1, 2, 3])('seed %i: the new connection carries whole PDUs and I/O resumes', async (seed) => {
    const events: { m: string; ev: string }[] = [];
    const r = await tcpZcopyDisconnect.run({
      variant: 'patched', flavor: 'release', seed, load: loadVariant,
      params: resolveParams(tcpZcopyDisconnect, { 'restore-link-us': '3000000' }),
      onWorld: (world) => { world.trace.subscribe((e) => { if (e.m === 'target') events.push({ m: e.m, ev: e.ev }); }); },
    });
    expect(r.reproduced).toBe(false);
    expect(r.counters['stuckRequests']).toBe(0);
    expect(events.filter((e) => e.ev === 'nvmf_tcp_send_c2h_term_req')).toEqual([]);
    // A spinning poller would show as millions of group polls over the ~16 s after reconnect.
    expect(events.filter((e) => e.ev === 'posix_sock_group_impl_poll').length).toBeLessThan(100_000);
    expect(r.summary).toMatch(/READs completed/);
  });
});

describe('determinism', () => {
  it('the same seed gives the same trace hash; different seeds differ', async () => {
    const { a, pa } = await expectDeterministic(run, 5);
    expect(pa.traceHash).not.toBe(a.traceHash);
  });
});
