/**
 * Swarm faults (issue 15 §3): the menu is the seed's and keeps its prefix when shortened; the
 * world's own knobs follow the faults active at each moment and are all back at their base in the
 * liveness phase; the network and disk replays run under it deterministically, the patched
 * variants clean, the unpatched still reproducing, and the faults actually hitting traffic.
 */
import { describe, expect, it } from 'vitest';
import { Link } from '../../../host/net/link.js';
import { NetDev } from '../../../host/net/netdev.js';
import { sparseBackingImage } from '../../../host/scenarios/sparse-backing-image.js';
import { tcpZcopyDisconnect } from '../../../host/scenarios/tcp-zcopy-disconnect.js';
import { drawMenu, NET_FAULTS, startSwarm, type Fault } from '../../../host/scenarios/swarm.js';
import { zcopyThreshold } from '../../../host/scenarios/zcopy-threshold.js';
import { Prng } from '../../../host/sim/prng.js';
import { World } from '../../../host/sim/world.js';
import { scenarioRunner } from '../support/scenario.js';

const SHAPE = { kinds: NET_FAULTS, safetyUs: 10_000, links: 2, nics: 3, disks: 0 };

describe('the fault menu', () => {
  it('is drawn from the seed, inside the safety phase, and a shorter menu is its prefix', () => {
    const a = drawMenu(7, 12, SHAPE);
    expect(drawMenu(7, 12, SHAPE)).toEqual(a);
    expect(drawMenu(8, 12, SHAPE)).not.toEqual(a);
    expect(drawMenu(7, 5, SHAPE)).toEqual(a.slice(0, 5));
    for (const f of a) {
      expect(f.atUs).toBeGreaterThanOrEqual(0);
      expect(f.atUs + f.durationUs).toBeLessThanOrEqual(SHAPE.safetyUs);
      expect(f.target).toBeLessThan(f.kind === 'link-flap' ? 3 : 2);
    }
    // Over many seeds every kind is drawn.
    const kinds = new Set(Array.from({ length: 50 }, (_, s) => drawMenu(s, 8, SHAPE)).flat().map((f) => f.kind));
    expect([...kinds].sort()).toEqual([...NET_FAULTS].sort());
  });
});

describe('applying a menu to the world', () => {
  const tap = { capture: () => {} };
  const setup = (): { world: World; link: Link; a: NetDev; b: NetDev } => {
    const world = new World(1);
    const a = new NetDev(world, tap, 'm1', { name: 'eth0', addr: '192.0.2.1' });
    const b = new NetDev(world, tap, 'm2', { name: 'eth0', addr: '192.0.2.2' });
    const link = new Link(world, a, b, new Prng(1), { latencyUs: 20, loss: 0.001 });
    return { world, link, a, b };
  };
  const at = (world: World, us: number): void => {
    world.run(() => false, us);
  };

  it('overlapping faults: the largest probability, the sum of delays, and every knob back at its base in the liveness phase', () => {
    const { world, link, a } = setup();
    const menu: Fault[] = [
      { kind: 'loss', atUs: 100, durationUs: 400, magnitude: 0.2, target: 0 },
      { kind: 'loss', atUs: 200, durationUs: 100, magnitude: 0.5, target: 0 },
      { kind: 'latency-spike', atUs: 100, durationUs: 300, magnitude: 1000, target: 0 },
      { kind: 'latency-spike', atUs: 150, durationUs: 100, magnitude: 500, target: 0 },
      { kind: 'partition', atUs: 600, durationUs: 100, magnitude: 0, target: 0 },
      { kind: 'link-flap', atUs: 800, durationUs: 5000, magnitude: 0, target: 0 },
      { kind: 'duplicate', atUs: 900, durationUs: 5000, magnitude: 0.2, target: 0 },
    ];
    const s = startSwarm(world, { links: [link], nics: [a], disks: [] }, menu, 2000);
    at(world, 160);
    expect(link.loss).toBe(0.2);
    expect(link.latencyUs).toBe(20 + 1500);
    at(world, 250);
    expect(link.loss).toBe(0.5);
    at(world, 350);
    expect(link.loss).toBe(0.2);
    expect(link.latencyUs).toBe(1020);
    at(world, 550);
    expect(link.loss).toBe(0.001);
    expect(link.latencyUs).toBe(20);
    at(world, 650);
    expect(link.up).toBe(false);
    expect(link.partitioned).toBe(true);
    at(world, 750);
    expect(link.partitioned).toBe(false);
    at(world, 950);
    expect(a.up).toBe(false);
    expect(link.duplicate).toBe(0.2);
    expect(s.stopped).toBe(false);
    // The liveness phase: the faults still "running" past it are stopped with everything else.
    at(world, 2100);
    expect(s.stopped).toBe(true);
    expect(a.up).toBe(true);
    expect(link.up).toBe(true);
    expect([link.loss, link.duplicate, link.reorder, link.latencyUs]).toEqual([0.001, 0, 0, 20]);
    expect(s.counters).toEqual({ loss: 2, 'latency-spike': 2, partition: 1, 'link-flap': 1, duplicate: 1 });
  });
});

describe('replays under swarm faults', () => {
  const zt = scenarioRunner(zcopyThreshold);
  const SWARM = { faults: 'swarm' };

  it('zcopy-threshold (sock), 12 seeds: patched clean, unpatched reproduced, the faults hit traffic', async () => {
    let dropped = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const p = await zt('patched', seed, SWARM);
      expect(p.verdict, `patched seed ${seed}: ${p.summary}`).toBe('clean');
      expect(p.counters['swarm.menu']).toBe(8);
      expect(p.counters['swarm.faults']).toBeGreaterThan(0);
      dropped += p.counters['link.dropped']!;
      const u = await zt('unpatched', seed, SWARM);
      expect(u.verdict, `unpatched seed ${seed}: ${u.summary}`).toBe('reproduced');
      expect(u.oracle).toBe('safety');
    }
    expect(dropped).toBeGreaterThan(0);
  });

  it('zcopy-threshold --mode nvme-tcp, 6 seeds: patched verify clean, nothing outstanding', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const p = await zt('patched', seed, { ...SWARM, mode: 'nvme-tcp' });
      expect(p.verdict, `seed ${seed}: ${p.summary}`).toBe('clean');
      expect(p.counters['outstanding']).toBe(0);
      expect(p.counters['miscompares']).toBe(0);
    }
  });

  it('the same seed gives the same trace; faults off is the run without the option', async () => {
    const a = await zt('patched', 3, SWARM);
    const b = await zt('patched', 3, SWARM);
    expect(a.traceHash).toBe(b.traceHash);
    expect((await zt('patched', 3, { ...SWARM, 'fault-count': '2' })).traceHash).not.toBe(a.traceHash);
    expect((await zt('patched', 3, { faults: 'none' })).traceHash).toBe((await zt('patched', 3)).traceHash);
    expect(a.replay).toContain('--faults swarm');
  });

  it('tcp-zcopy-disconnect: faults on the READ load, stopped before the cut; the replay judges as without them', async () => {
    const td = scenarioRunner(tcpZcopyDisconnect);
    for (const seed of [1, 2, 3]) {
      const p = await td('patched', seed, SWARM);
      expect(p.verdict, p.summary).toBe('clean');
      expect(p.counters['swarm.faults']).toBeGreaterThan(0);
      const u = await td('unpatched', seed, SWARM);
      expect(u.verdict, u.summary).toBe('reproduced');
      expect(u.oracle).toBe('liveness');
      expect(u.counters['stuckRequests']).toBeGreaterThan(0);
    }
  });

  it('sparse-backing-image under disk-latency faults: patched clean, unpatched reproduced, the run slower', async () => {
    const sb = scenarioRunner(sparseBackingImage);
    for (const seed of [1, 2]) {
      const calm = await sb('patched', seed);
      const p = await sb('patched', seed, SWARM);
      expect(p.verdict, p.summary).toBe('clean');
      expect(p.counters['swarm.disk-latency']).toBeGreaterThan(0);
      expect(p.simulatedUs).toBeGreaterThan(calm.simulatedUs);
      expect((await sb('unpatched', seed, SWARM)).verdict).toBe('reproduced');
    }
  });
});
