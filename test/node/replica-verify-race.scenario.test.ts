/** Replay of seed 004 (longhorn#9953; and #13074) through the scenario contract: the explorer
 *  finds the violating schedule unpatched and none patched, the printed schedule replays to the
 *  same trace, and the evidence is what the run left (replicaMap, ReplicaGet, the engine). */
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../host/scenarios/contract.js';
import { findScenario } from '../../host/scenarios/index.js';
import { replicaVerifyRace } from '../../host/scenarios/replica-verify-race.js';
import { scenarioRunner } from './support/scenario.js';

const run = scenarioRunner(replicaVerifyRace);

interface Observed {
  created?: { id: string; state: string; portStart: number; isExposed: boolean };
  gotAfterCreate?: { code?: string };
  entry?: { id: string; state: string; portStart: number; isExposed: boolean };
  engine?: { state: string; replicaModeMap: Record<string, string> };
  exports: Record<string, string[]>;
}
const ev = (r: RunResult) => r.evidence as { verdict: string; schedule: string | null; observed: Observed; lines: string[] };

describe('replica-verify-race (seed 004)', () => {
  it('is registered', () => {
    expect(findScenario('replica-verify-race')).toBe(replicaVerifyRace);
  });

  it('9953 unpatched: the shortest violating schedule, with ReplicaCreate running, ReplicaGet NotFound, ERR, and the uncached adoption', async () => {
    const r = await run('unpatched', 1);
    expect(r.reproduced).toBe(true);
    expect(r.oracle).toBe('safety');
    const e = ev(r);
    expect(e.schedule).toBe('create*9,verify*6,create*7,verify*5,create*12,verify*14');
    expect(e.observed.created).toMatchObject({ id: 'r1#1', state: 'running', portStart: 20001, isExposed: true });
    expect(e.observed.gotAfterCreate).toMatchObject({ code: 'NotFound' });
    expect(e.observed.engine).toMatchObject({ state: 'error', replicaModeMap: { r1: 'ERR' } });
    expect(e.observed.entry).toMatchObject({ id: 'r1#2', state: 'stopped', portStart: 0, isExposed: false });
    expect(e.observed.exports).toEqual({ 'nqn.2023-01.io.longhorn.spdk:r1': ['192.0.2.10:20001'] });
    expect(r.counters['violatingSchedules']).toBeGreaterThan(0);
    expect(e.lines.join('\n')).toMatch(/#12 +t=3000000 +verify +step bdev_get_bdevs/);
  });

  it('9953 patched: no violation in every schedule to the bound, and the count is stated', async () => {
    const r = await run('patched', 1);
    expect(r.reproduced).toBe(false);
    expect(r.summary).toBe('no violation in 139 schedules (bound 2, sleep-sets, exhaustive to the bound, 1 distinct final states)');
    expect(ev(r).observed.entry).toMatchObject({ id: 'r1#1', state: 'running', isExposed: true });
  });

  it('13074: the unlocked verify writes a stale map back unpatched; replicaMapGen prevents it', async () => {
    const bad = await run('unpatched', 1, { bug: '13074' });
    expect(bad.reproduced).toBe(true);
    expect(bad.summary).toMatch(/replicaMap holds r1#1 \(terminating\)/);
    const good = await run('patched', 1, { bug: '13074' });
    expect(good.reproduced).toBe(false);
    expect(good.summary).toMatch(/^no violation in 221 schedules \(bound 2/);
    expect(ev(good).observed.entry).toMatchObject({ id: 'r1#2', state: 'running' });
  });

  it('the bound and the reduction change the count, not the verdict', async () => {
    const b0 = await run('unpatched', 1, { bound: '0' });
    expect(b0.reproduced).toBe(false);
    expect(b0.counters['schedules']).toBe(2);
    const plain = await run('unpatched', 1, { reduction: 'none' });
    expect(plain.reproduced).toBe(true);
    expect(plain.counters['schedules']).toBeGreaterThan((await run('unpatched', 1)).counters['schedules']!);
    const p1 = await run('patched', 1, { bound: '1' });
    expect(p1.summary).toMatch(/^no violation in 25 schedules \(bound 1,/);
  });

  it('random search by seed finds it unpatched and replays the same for the same seed', async () => {
    const a = await run('unpatched', 5, { search: 'random', runs: '500' });
    const b = await run('unpatched', 5, { search: 'random', runs: '500' });
    expect(a.reproduced).toBe(true);
    expect(ev(a).schedule).toBe(ev(b).schedule);
    expect(a.traceHash).toBe(b.traceHash);
    const p = await run('patched', 5, { search: 'random', runs: '200' });
    expect(p.summary).toBe('no violation in 200 random schedules (seeds 5..204)');
  });

  it('determinism: the same seed gives the same trace hash and evidence', async () => {
    const a = await run('unpatched', 3);
    const b = await run('unpatched', 3);
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.evidence).toEqual(b.evidence);
    expect(a.simulatedUs).toBe(6_000_000);
  });
});
