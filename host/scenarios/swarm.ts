/**
 * Swarm faults (issue 15 §3, after TigerBeetle's VOPR): a fault menu drawn from the seed, applied
 * during a safety phase through the world's own knobs (Link loss/reorder/duplicate/latency/
 * partition, NetDev carrier, a MemoryBackend's latency), then every fault stopped for a liveness
 * phase in which the replay must finish. Each knob's value at any moment is recomputed from its
 * base and the faults active then, so overlapping faults never leave a knob half restored.
 * Browser-safe.
 */
import type { MemoryBackend } from '../kernel/blockdev-backend.js';
import type { Link } from '../net/link.js';
import type { NetDev } from '../net/netdev.js';
import { Prng } from '../sim/prng.js';
import type { World } from '../sim/world.js';
import type { ParamValue } from './contract.js';
import { swarmOn } from './swarm-params.js';

export { swarmOn };

export type FaultKind = 'loss' | 'reorder' | 'duplicate' | 'latency-spike' | 'link-flap' | 'partition' | 'disk-latency';

export const NET_FAULTS: readonly FaultKind[] = ['loss', 'reorder', 'duplicate', 'latency-spike', 'link-flap', 'partition'];
export const DISK_FAULTS: readonly FaultKind[] = ['disk-latency'];

export interface Fault {
  kind: FaultKind;
  /** Start, µs after the safety phase began. */
  atUs: number;
  durationUs: number;
  /** Probability (loss, reorder, duplicate) or extra µs (latency-spike, disk-latency); 0 otherwise. */
  magnitude: number;
  /** Which link, NIC or disk (index into the replay's list). */
  target: number;
}

export interface MenuShape {
  kinds: readonly FaultKind[];
  /** Length of the safety phase; every fault starts and ends inside it. */
  safetyUs: number;
  links: number;
  nics: number;
  disks: number;
}

/**
 * The menu of a seed: `count` faults drawn one after another from a stream of their own (not the
 * world's), so the first k of a longer menu are exactly the menu of k (shrinking drops a suffix),
 * and turning faults on leaves every other random choice of the run as it was.
 */
export function drawMenu(seed: number, count: number, shape: MenuShape): Fault[] {
  const r = new Prng((seed ^ 0x5a4a3c1d) >>> 0);
  // Swarm testing: each seed enables only some kinds, so a menu is not the same blend every time.
  const enabled = shape.kinds.filter(() => r.chance(0.6));
  const kinds = enabled.length > 0 ? enabled : [shape.kinds[r.int(0, shape.kinds.length - 1)]!];
  const out: Fault[] = [];
  for (let i = 0; i < count; i++) {
    const kind = kinds[r.int(0, kinds.length - 1)]!;
    // Early starts are likelier (the square of a uniform draw): a workload's traffic is densest
    // before the first loss sends TCP into a retransmission timeout.
    const atUs = Math.floor(shape.safetyUs * 0.9 * r.float() ** 2);
    const durationUs = r.int(1, shape.safetyUs - atUs);
    const many = kind === 'link-flap' ? shape.nics : kind === 'disk-latency' ? shape.disks : shape.links;
    out.push({ kind, atUs, durationUs, magnitude: magnitudeOf(r, kind), target: r.int(0, Math.max(0, many - 1)) });
  }
  return out;
}

function magnitudeOf(r: Prng, kind: FaultKind): number {
  switch (kind) {
    case 'loss': return [0.01, 0.05, 0.2, 0.5][r.int(0, 3)]!;
    case 'reorder': return [0.05, 0.2, 0.5][r.int(0, 2)]!;
    case 'duplicate': return [0.05, 0.2, 0.5][r.int(0, 2)]!;
    case 'latency-spike': return r.int(100, 20_000);
    case 'disk-latency': return r.int(100, 50_000);
    default: return 0;
  }
}

export function describeFault(f: Fault): string {
  const what = f.kind === 'loss' || f.kind === 'reorder' || f.kind === 'duplicate' ? ` ${(100 * f.magnitude).toFixed(0)} %`
    : f.kind === 'latency-spike' || f.kind === 'disk-latency' ? ` +${f.magnitude} µs` : '';
  return `${f.kind}${what} on #${f.target} at ${f.atUs} µs for ${f.durationUs} µs`;
}

export interface SwarmTargets {
  links: readonly Link[];
  nics: readonly NetDev[];
  disks: readonly MemoryBackend[];
}

export interface Swarm {
  readonly menu: readonly Fault[];
  /** Virtual time the liveness phase begins (every fault stopped). */
  readonly liveFromUs: number;
  /** Faults that started, by kind. */
  readonly counters: Record<string, number>;
  /** True once the safety phase is over and every knob is back at its base. */
  readonly stopped: boolean;
}

/** Schedules the menu on the world from now; at the end of the safety phase stops everything. */
export function startSwarm(world: World, t: SwarmTargets, menu: readonly Fault[], safetyUs: number): Swarm {
  const t0 = world.now;
  const base = t.links.map((l) => ({ loss: l.loss, reorder: l.reorder, duplicate: l.duplicate, latencyUs: l.latencyUs }));
  const diskBase = t.disks.map((d) => d.latencyUs);
  const active = new Set<Fault>();
  const counters: Record<string, number> = {};
  let stopped = false;

  // Every knob from its base and the faults active now: probabilities take the largest, delays add.
  const recompute = (): void => {
    t.links.forEach((l, i) => {
      const mine = [...active].filter((f) => f.target === i);
      const top = (k: FaultKind): number => Math.max(0, ...mine.filter((f) => f.kind === k).map((f) => f.magnitude));
      l.loss = Math.max(base[i]!.loss, top('loss'));
      l.reorder = Math.max(base[i]!.reorder, top('reorder'));
      l.duplicate = Math.max(base[i]!.duplicate, top('duplicate'));
      l.latencyUs = base[i]!.latencyUs + mine.filter((f) => f.kind === 'latency-spike').reduce((s, f) => s + f.magnitude, 0);
      l.partition(mine.some((f) => f.kind === 'partition'));
    });
    t.nics.forEach((n, i) => n.setLink(![...active].some((f) => f.kind === 'link-flap' && f.target === i)));
    t.disks.forEach((d, i) => {
      d.latencyUs = diskBase[i]! + [...active].filter((f) => f.kind === 'disk-latency' && f.target === i).reduce((s, f) => s + f.magnitude, 0);
    });
  };

  const applicable = menu.filter((f) => f.kind === 'link-flap' ? f.target < t.nics.length : f.kind === 'disk-latency' ? f.target < t.disks.length : f.target < t.links.length);
  for (const f of applicable) {
    world.at(t0 + f.atUs, 'swarm.fault', () => {
      if (stopped) return;
      active.add(f);
      counters[f.kind] = (counters[f.kind] ?? 0) + 1;
      world.record('swarm', 'fault.start', { kind: f.kind, target: f.target, us: f.durationUs });
      recompute();
    });
    world.at(t0 + f.atUs + f.durationUs, 'swarm.heal', () => {
      if (!active.delete(f)) return;
      world.record('swarm', 'fault.end', { kind: f.kind, target: f.target });
      recompute();
    });
  }
  const swarm = {
    menu: applicable,
    liveFromUs: t0 + safetyUs,
    counters,
    get stopped() {
      return stopped;
    },
  };
  world.at(t0 + safetyUs, 'swarm.stop', () => {
    stopped = true;
    active.clear();
    world.record('swarm', 'liveness', {});
    recompute();
  });
  return swarm;
}

/** Counters a swarm run adds to its result: faults started by kind and what the links did. */
export function swarmCounters(s: Swarm, links: readonly Link[]): Record<string, number> {
  // Faults that started before the run ended (a run may finish inside its safety phase).
  const out: Record<string, number> = { 'swarm.faults': Object.values(s.counters).reduce((a, b) => a + b, 0), 'swarm.menu': s.menu.length };
  for (const [k, n] of Object.entries(s.counters)) out[`swarm.${k}`] = n;
  let dropped = 0;
  let duplicated = 0;
  let reordered = 0;
  for (const l of links) {
    dropped += l.counters.dropped;
    duplicated += l.counters.duplicated;
    reordered += l.counters.reordered;
  }
  return { ...out, 'link.dropped': dropped, 'link.duplicated': duplicated, 'link.reordered': reordered };
}

/** A replay's swarm, when its params ask for one: the menu of the seed on its links and NICs (and
 *  disks), the safety phase starting now. */
export function swarmFor(world: World, seed: number, params: Record<string, ParamValue>, t: SwarmTargets, kinds: readonly FaultKind[], safetyUs: number): Swarm | undefined {
  if (!swarmOn(params)) return undefined;
  const menu = drawMenu(seed, params['fault-count'] as number, { kinds, safetyUs, links: t.links.length, nics: t.nics.length, disks: t.disks.length });
  return startSwarm(world, t, menu, safetyUs);
}

/** Virtual time a replay gets after its faults stopped: ample for TCP to retransmit its way out
 *  of any menu (RTO backoff after the longest partition is well under it). */
export const LIVENESS_US = 60e6;

/** The liveness phase's verdict on a run that did not finish: with every fault stopped for
 *  LIVENESS_US (or nothing left to do), requests still outstanding are stuck. */
export function stuckSummary(s: Swarm, nowUs: number, what: string): { summary: string; lines: string[] } {
  const after = ((nowUs - s.liveFromUs) / 1e6).toFixed(1);
  const lines = [`${what} ${after} s after the last of ${s.menu.length} swarm faults stopped`, ...s.menu.slice(0, 8).map(describeFault)];
  return { summary: `stuck in the liveness phase: ${what} ${after} s after the faults stopped`, lines };
}
