/**
 * The tcp-zcopy-disconnect page's model, fed the trace a run records: its requests, qpairs and
 * controller must agree with what the scenario read from the target's own state (the verdict's
 * evidence and the session snapshot), so what the page draws is what the oracle judged.
 */
import { describe, expect, it } from 'vitest';
import { resolveParams } from '../../../host/scenarios/params.js';
import { tcpZcopyDisconnect } from '../../../host/scenarios/tcp-zcopy-disconnect.js';
import type { TraceEvent } from '../../../host/sim/trace.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';
import { reqState, TCP_REQUEST_STATE_COMPLETED } from '../../../host/web/src/replays/tcp-zcopy-disconnect/names.js';
import { TzdModel } from '../../../host/web/src/replays/tcp-zcopy-disconnect/model.js';
import { tcpZcopyDisconnectProbe } from '../../../host/web/src/replays/tcp-zcopy-disconnect/probe.js';

interface SnapReq { state: string; pdu_in_use: boolean }

async function traced(variant: 'unpatched' | 'patched', raw: Record<string, string | number> = {}) {
  const events: TraceEvent[] = [];
  const probe = tcpZcopyDisconnectProbe();
  const session = await tcpZcopyDisconnect.start({
    variant, flavor: 'release', seed: 1, params: resolveParams(tcpZcopyDisconnect, raw), load: loadVariant,
    onWorld: (w) => {
      probe.attach(w);
      w.trace.subscribe((e) => {
        if (probe.keep(e)) events.push(e);
      });
    },
  });
  session.advance(Infinity);
  const r = session.result();
  const snap = session.snapshot() as { requests: SnapReq[]; qpairs: number; controllers: number };
  const m = new TzdModel();
  m.apply(events, session.world.now);
  return { r, snap, m };
}

describe('tcp-zcopy-disconnect page model', () => {
  it('unpatched: the requests the target still holds, by state and pdu_in_use, after 2 x KATO', async () => {
    const { r, snap, m } = await traced('unpatched');
    expect(r.reproduced).toBe(true);
    const stuck = m.stuck();
    expect(stuck.length).toBe(r.counters['stuckRequests']);
    expect(stuck.length).toBeGreaterThan(0);
    expect(stuck.every((q) => reqState(q.state) === 'TCP_REQUEST_STATE_COMPLETED' && q.delayed > 0 && q.abortedAt !== undefined)).toBe(true);
    // Every request the target reports not FREE is one the model holds, with the same pdu_in_use.
    const live = m.liveReqs().filter((q) => q.state !== 0);
    expect(live.length).toBe(snap.requests.length);
    expect(live.filter((q) => q.pduInUse).length).toBe(snap.requests.filter((q) => q.pdu_in_use).length);
    expect(live.filter((q) => q.state === TCP_REQUEST_STATE_COMPLETED).length).toBe(snap.requests.filter((q) => q.state === 'TCP_REQ_COMPLETED').length);
    // The I/O qpair and the controller survive keep-alive expiry.
    expect(m.cutAt).toBe(r.counters['cutAtUs']);
    const kato = m.marks.find((k) => k.kind === 'kato');
    expect(kato).toBeDefined();
    expect(kato!.t - m.cutAt).toBeLessThanOrEqual(2 * m.katoMs()! * 1000);
    const io = [...m.qpairs.values()].find((q) => q.qid === 1)!;
    expect(io.destroyedAt).toBeUndefined();
    expect([...m.ctrlrs.values()].filter((c) => c.destroyedAt === undefined).length).toBe(snap.controllers);
    expect(m.marks.some((k) => k.kind === 'etimedout')).toBe(false);
    expect(m.counters()['retransmits']).toBeGreaterThan(0);
    expect(m.wire.rows.some((row) => row.kind === 'seg' && row.dropped !== undefined)).toBe(true);
  });

  it('patched: ack_timeout aborts the socket, the requests return to FREE, qpair and controller go away', async () => {
    const { r, snap, m } = await traced('patched');
    expect(r.reproduced).toBe(false);
    expect(m.stuck()).toEqual([]);
    expect(snap.requests).toEqual([]);
    const abort = m.marks.find((k) => k.kind === 'etimedout');
    expect(abort?.label).toMatch(/ETIMEDOUT by TCP_USER_TIMEOUT/);
    const io = [...m.qpairs.values()].find((q) => q.qid === 1)!;
    expect(io.destroyedAt).toBeDefined();
    expect(io.freeAtDestroy).toEqual({ free: io.freeAtDestroy!.total, total: io.freeAtDestroy!.total });
    expect(io.destroyedAt! - r.counters['releasedAtUs']!).toBeLessThanOrEqual(0);
    expect([...m.ctrlrs.values()].every((c) => c.destroyedAt !== undefined)).toBe(true);
    expect(snap.controllers).toBe(0);
    // Every request the I/O qpair used went back to FREE, passing AWAITING_ZCOPY_RELEASE.
    const used = [...m.reqs.values()].filter((q) => q.tqpair === io.ptr && q.uses > 0);
    expect(used.every((q) => q.state === 0)).toBe(true);
    expect(used.some((q) => q.trail.includes(14))).toBe(true);
  });

  it('the link coming back before KATO shows up on the wire and the timeline (control)', async () => {
    const { r, m } = await traced('unpatched', { 'restore-link-us': 3_000_000 });
    expect(r.reproduced).toBe(false);
    expect(m.marks.map((k) => k.kind)).toContain('link-up');
    expect(m.wire.rows.some((row) => row.kind === 'span' && /link up/.test(row.label))).toBe(true);
    expect(m.stuck()).toEqual([]);
  });
});
