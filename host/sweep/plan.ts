/**
 * What a sweep runs: the cross product of replays × parameter points × variants × seeds, in one
 * fixed order, so that a shard (`--shard k/n`) is a deterministic share and `merge` of every shard
 * gives what one run would. Browser-safe: the CLI and a page's worker pool plan alike.
 */
import type { ParamValue, ScenarioInfo } from '../scenarios/contract.js';
import { resolveParams, UsageError } from '../scenarios/params.js';
import { isVariant, type Variant } from '../spdk/variant.js';

export interface SweepJob {
  /** Position in the whole plan (before sharding); records are ordered by it. */
  index: number;
  /** Identifies the job across runs, shards and resumes. */
  key: string;
  scenario: string;
  variant: Variant;
  seed: number;
  /** The point: only the parameters the sweep varies (the rest are the replay's defaults). */
  point: Record<string, ParamValue>;
}

export interface SweepSpec {
  scenarios: readonly ScenarioInfo[];
  seeds: readonly number[];
  variants: readonly Variant[];
  /** Parameter name -> the values to sweep, as given (strings from the command line). */
  params: ReadonlyMap<string, readonly string[]>;
  shard?: { k: number; n: number };
}

/** At most this many runs in one sweep (a typo like 1..1e9 would otherwise plan for minutes). */
export const MAX_JOBS = 10_000_000;

/** `1..1000`, `7`, `1,5,9` or a mix (`1..10,20`): seeds in 0..2^32-1, each once, in order given. */
export function parseSeeds(text: string): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(part);
    if (m === null) throw new UsageError(`--seeds takes N, A..B or a comma list of them, got "${text}"`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (a > 0xffffffff || b > 0xffffffff) throw new UsageError(`--seeds: seeds are below 2^32, got "${part.trim()}"`);
    if (b < a) throw new UsageError(`--seeds: ${a}..${b} is empty (the range must rise)`);
    if (out.length + (b - a + 1) > MAX_JOBS) throw new UsageError(`--seeds "${text}" names more than ${MAX_JOBS} seeds`);
    for (let s = a; s <= b; s++) {
      if (!seen.has(s)) {
        seen.add(s);
        out.push(s);
      }
    }
  }
  return out;
}

/** `unpatched,patched` (the default is both). */
export function parseVariants(text: string): Variant[] {
  const out: Variant[] = [];
  for (const v of text.split(',').map((s) => s.trim())) {
    if (!isVariant(v)) throw new UsageError(`--variant takes unpatched, patched or both (comma-separated), got "${v}"`);
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** `name=v1,v2` into the map of swept values; a name given twice is an error. */
export function addParam(params: Map<string, string[]>, text: string): void {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new UsageError(`--param takes name=value[,value...], got "${text}"`);
  const name = text.slice(0, eq).trim();
  if (params.has(name)) throw new UsageError(`--param ${name} is given twice; list every value once: ${name}=a,b,c`);
  params.set(name, text.slice(eq + 1).split(',').map((s) => s.trim()));
}

/** `k/n` with 1 <= k <= n. */
export function parseShard(text: string): { k: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const k = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (m === null || n < 1 || k < 1 || k > n) throw new UsageError(`--shard takes k/n with 1 <= k <= n, got "${text}"`);
  return { k, n };
}

/** Every point of one replay: the cross product of the swept values that this replay has, each
 *  point checked against the replay's ranges and cross-checks before anything runs. */
function pointsOf(s: ScenarioInfo, params: ReadonlyMap<string, readonly string[]>, all: boolean): Record<string, ParamValue>[] {
  let points: Record<string, ParamValue>[] = [{}];
  for (const [name, values] of params) {
    const spec = s.params.find((p) => p.name === name);
    if (spec === undefined) {
      // With `all`, a parameter applies to the replays that have it.
      if (all) continue;
      throw new UsageError(`unknown parameter ${name} for scenario ${s.id} (known: ${s.params.map((p) => p.name).join(', ')})`);
    }
    const next: Record<string, ParamValue>[] = [];
    for (const p of points) for (const v of values) next.push({ ...p, [name]: v });
    points = next;
  }
  return points.map((p) => {
    const resolved = resolveParams(s, p as Record<string, string>);
    return Object.fromEntries(Object.keys(p).map((k) => [k, resolved[k]!]));
  });
}

/** A point as text: `io-size=65536 threshold=0` (`defaults` when nothing is swept). */
export function pointLabel(point: Record<string, ParamValue>): string {
  const keys = Object.keys(point).sort();
  return keys.length === 0 ? 'defaults' : keys.map((k) => `${k}=${String(point[k])}`).join(' ');
}

export function jobKey(scenario: string, variant: Variant, seed: number, point: Record<string, ParamValue>): string {
  return `${scenario}|${variant}|${seed}|${pointLabel(point)}`;
}

/** The jobs of this shard, in plan order. */
export function planSweep(spec: SweepSpec, all = false): SweepJob[] {
  if (spec.seeds.length === 0) throw new UsageError('--seeds names no seed');
  const pointsBy = spec.scenarios.map((s) => pointsOf(s, spec.params, all));
  const total = pointsBy.reduce((n, ps) => n + ps.length, 0) * spec.variants.length * spec.seeds.length;
  if (total > MAX_JOBS) throw new UsageError(`the sweep has ${total} runs, more than ${MAX_JOBS}; split it into smaller sweeps`);
  const jobs: SweepJob[] = [];
  let index = 0;
  spec.scenarios.forEach((s, i) => {
    for (const point of pointsBy[i]!) {
      for (const variant of spec.variants) {
        for (const seed of spec.seeds) {
          if (spec.shard === undefined || index % spec.shard.n === spec.shard.k - 1) {
            jobs.push({ index, key: jobKey(s.id, variant, seed, point), scenario: s.id, variant, seed, point });
          }
          index++;
        }
      }
    }
  });
  return jobs;
}
