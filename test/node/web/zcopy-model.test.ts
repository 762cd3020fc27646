/**
 * The zcopy-threshold page's model, fed the same trace a run records: it must agree with the
 * scenario's own verdict counters (premature completions, sendmsg modes, notifications), so what the
 * page draws is what the oracle judged.
 */
import { describe, expect, it } from 'vitest';
import { resolveParams } from '../../../host/scenarios/params.js';
import { zcopyThreshold } from '../../../host/scenarios/zcopy-threshold.js';
import type { TraceEvent } from '../../../host/sim/trace.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';
import { ZcopyModel } from '../../../host/web/src/replays/zcopy-threshold/model.js';
import { zcopyThresholdProbe } from '../../../host/web/src/replays/zcopy-threshold/probe.js';

async function traced(variant: 'unpatched' | 'patched', raw: Record<string, string | number> = {}) {
  const events: TraceEvent[] = [];
  const probe = zcopyThresholdProbe();
  const r = await zcopyThreshold.run({
    variant, flavor: 'release', seed: 3, params: resolveParams(zcopyThreshold, raw), load: loadVariant,
    onWorld: (w) => {
      probe.attach(w);
      w.trace.subscribe((e) => {
        if (probe.keep(e)) events.push(e);
      });
    },
  });
  const m = new ZcopyModel();
  m.apply(events);
  return { r, m };
}

describe('zcopy-threshold page model', () => {
  it.each(['unpatched', 'patched'] as const)('%s: counters and request states match the run', async (variant) => {
    const { r, m } = await traced(variant);
    expect(m.counters['prematureCompletions']).toBe(r.counters['prematureCompletions']);
    expect(m.counters['sendmsgZeroCopy']).toBe(r.counters['sendmsgZeroCopy']);
    expect(m.counters['sendmsgCopy']).toBe(r.counters['sendmsgCopy']);
    expect(m.counters['notificationsRead']).toBe(r.counters['notificationsRead']);
    expect(m.counters['completions']).toBe(r.counters['writesCompleted']);
    expect(m.counters['wireBytes']).toBeGreaterThanOrEqual(r.counters['bytesReceived']!);
    expect(m.reqs.map((q) => q.write)).toEqual([...Array(16).keys()]);
    expect(m.reqs.every((q) => m.state(q).name === 'DONE')).toBe(true);
    expect(m.reqs.some((q) => q.premature !== undefined)).toBe(variant === 'unpatched');
  });

  it('labels sequence numbers relative to each side\'s first byte', async () => {
    const { m } = await traced('patched', { 'io-count': 2 });
    const data = m.rows.filter((row) => row.kind === 'seg' && row.data);
    expect(data[0]).toMatchObject({ label: expect.stringMatching(/^seq 0 len \d+$/) });
    expect(m.rows.some((row) => row.kind === 'seg' && !row.toTarget && row.label === 'ACK 131072')).toBe(true);
  });
});
