/**
 * Node only: `spdk-wasm fuzz`. Malformed NVMe/TCP PDUs into the real target (pdu-fuzz.ts builds
 * them, fuzz-runner.node.ts judges each and counts the target's resources back to idle after every
 * connection), split into shares of independent seeds over a pool of worker threads (piscina).
 * Every finding prints its one-line replay: `spdk-wasm fuzz --replay FLAVOR/SEED/INDEX` reruns that
 * seed's cases up to INDEX on a fresh target (the target's state is what the earlier cases left).
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { UsageError } from '../scenarios/params.js';
import { isFlavor, type Flavor } from '../spdk/variant.js';
import { runFuzz, type FuzzReport } from './fuzz-runner.node.js';
import type { FuzzShare } from './fuzz-worker.node.js';

export const FUZZ_USAGE = `usage:
  spdk-wasm fuzz [--cases N] [--flavor release|asan] [--seed S] [--share N] [--workers N] [--json]
  spdk-wasm fuzz --replay FLAVOR/SEED/INDEX
fuzz sends N malformed NVMe/TCP PDU cases (default 10000) to the target, in shares of --share
cases (default 2500), share k generated from seed S+k, on a pool of worker threads. Each case is
judged by the target's answer (the right C2HTermReq FES/FEI, CapsuleResp status, silence) and, after
its connection, by the target's resource counts (no qpair, request, buffer, bdev_io or controller
left over). It prints the cases per family and answer; a finding prints its replay line and the
exit status is 1. --replay reruns one case and prints its input and what happened.`;

const MAX_CASES = 10_000_000;

function intFlag(flag: string, v: string | undefined, min: number, max: number): number {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${flag} must be an integer in ${min}..${max}, got "${v ?? ''}"`);
  return Number(v);
}

export function parseFuzzId(id: string): { flavor: Flavor; seed: number; index: number } {
  const m = /^(release|asan)\/(\d+)\/(\d+)$/.exec(id);
  if (m === null || Number(m[2]) > 0xffffffff) throw new UsageError(`--replay takes FLAVOR/SEED/INDEX as a finding prints it (e.g. asan/17/2041), got "${id}"`);
  return { flavor: m[1] as Flavor, seed: Number(m[2]), index: Number(m[3]) };
}

/** The reports of every share as one: counts added, failures kept in share order. */
export function mergeReports(rs: readonly FuzzReport[]): Omit<FuzzReport, 'seed' | 'last'> {
  const add = (into: Record<string, number>, from: Record<string, number>): void => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };
  const out = { flavor: rs[0]?.flavor ?? 'release', cases: 0, failures: [] as FuzzReport['failures'], resourceChecks: 0, families: {}, outcomes: {}, termFes: {}, familyMs: {}, heapGrowth: 0, virtualUs: 0 };
  for (const r of rs) {
    out.cases += r.cases;
    out.failures.push(...r.failures);
    out.resourceChecks += r.resourceChecks;
    add(out.families, r.families);
    add(out.outcomes, r.outcomes);
    add(out.termFes, r.termFes);
    add(out.familyMs, r.familyMs);
    out.heapGrowth += r.heapGrowth;
    out.virtualUs += r.virtualUs;
  }
  return out;
}

export async function fuzzCommand(argv: string[]): Promise<number> {
  let cases = 10_000;
  let flavor: Flavor = 'release';
  let seed = 1;
  let share = 2500;
  let workers = Math.min(availableParallelism(), 64);
  let json = false;
  let replay: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string | undefined => argv[++i];
    switch (a) {
      case '--help': case '-h': console.log(FUZZ_USAGE); return 0;
      case '--cases': cases = intFlag(a, next(), 1, MAX_CASES); break;
      case '--seed': seed = intFlag(a, next(), 0, 0xffffffff); break;
      case '--share': share = intFlag(a, next(), 1, 1_000_000); break;
      case '--workers': workers = intFlag(a, next(), 1, 64); break;
      case '--json': json = true; break;
      case '--replay': replay = next(); if (replay === undefined) throw new UsageError('--replay needs FLAVOR/SEED/INDEX'); break;
      case '--flavor': {
        const v = next();
        if (v === undefined || !isFlavor(v)) throw new UsageError(`--flavor must be release or asan, got "${v ?? ''}"`);
        flavor = v;
        break;
      }
      default: throw new UsageError(`unknown argument ${a} for fuzz`);
    }
  }
  if (replay !== undefined) return replayCase(parseFuzzId(replay), json);

  const shares: FuzzShare[] = [];
  for (let k = 0, left = cases; left > 0; k++, left -= share) shares.push({ seed: (seed + k) >>> 0, count: Math.min(share, left), flavor });
  process.stderr.write(`fuzz: ${cases} cases into the ${flavor} target, ${shares.length} shares on ${workers} worker${workers > 1 ? 's' : ''}\n`);
  const t0 = performance.now();
  const pool = new Piscina({ filename: new URL('./fuzz-worker.node.js', import.meta.url).href, minThreads: workers, maxThreads: workers });
  let done = 0;
  let last = t0;
  const reports = await Promise.all(shares.map(async (s) => {
    const r = (await pool.run(s)) as FuzzReport;
    done += r.cases;
    if (performance.now() - last > 10_000) {
      last = performance.now();
      process.stderr.write(`fuzz: ${done}/${cases} cases, ${((last - t0) / 1000).toFixed(0)} s\n`);
    }
    return r;
  })).finally(() => pool.destroy());
  const wallMs = performance.now() - t0;
  const m = mergeReports(reports);
  // A share stops at its first finding (later cases would inherit the broken state).
  const heapLeaks = flavor === 'release' ? reports.filter((r) => r.heapGrowth !== 0).map((r) => `seed ${r.seed}: ${r.heapGrowth} heap bytes not given back after ${r.cases} cases`) : [];
  if (json) {
    console.log(JSON.stringify({ ...m, familyMs: undefined, wallMs: Math.round(wallMs), workers, shares: shares.length, heapLeaks }));
  } else {
    console.log(renderReport(m, wallMs, workers, heapLeaks));
  }
  return m.failures.length > 0 || heapLeaks.length > 0 ? 1 : 0;
}

function renderReport(m: ReturnType<typeof mergeReports>, wallMs: number, workers: number, heapLeaks: string[]): string {
  const fams = Object.entries(m.families).sort((a, b) => a[0].localeCompare(b[0]));
  const w = Math.max(...fams.map(([k]) => k.length), 6);
  const lines = ['family'.padEnd(w) + '  cases', ...fams.map(([k, v]) => `${k.padEnd(w)}  ${v}`)];
  lines.push('', 'answers: ' + Object.entries(m.outcomes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', '));
  lines.push('C2HTermReq FES sent: ' + Object.entries(m.termFes).map(([k, v]) => `${k}: ${v}`).join(', '));
  lines.push('', `${m.cases} cases (${fams.length} families) into the ${m.flavor} target in ${(wallMs / 1000).toFixed(1)} s wall on ${workers} worker${workers > 1 ? 's' : ''} (${(m.cases / (wallMs / 1000)).toFixed(0)} per second); resource counts checked after ${m.resourceChecks} connections`);
  lines.push(`${m.failures.length} finding${m.failures.length === 1 ? '' : 's'}${heapLeaks.length > 0 ? `, ${heapLeaks.length} heap leak${heapLeaks.length > 1 ? 's' : ''}` : ''}`);
  for (const f of m.failures) lines.push(`  [${f.family}] ${f.problems[0]!.split('\n')[0]}`, `    replay: ${f.replay}`);
  for (const h of heapLeaks) lines.push(`  ${h}`);
  return lines.join('\n');
}

async function replayCase(id: { flavor: Flavor; seed: number; index: number }, json: boolean): Promise<number> {
  const r = await runFuzz(id.seed, id.index + 1, { flavor: id.flavor });
  const f = r.failures[0];
  if (json) {
    console.log(JSON.stringify({ id, ran: r.cases, case: r.last, failure: f }));
  } else if (f !== undefined && f.index < id.index) {
    console.log(`case ${f.index} of seed ${id.seed} (before ${id.index}) already fails [${f.family}]:\n  ${f.problems.join('\n  ')}\n  replay: ${f.replay}`);
  } else {
    const c = r.last!;
    console.log([`case ${c.index} of seed ${id.seed} on the ${id.flavor} target (after ${c.index} earlier cases): ${c.family}`,
      `  setup: ${c.setup}`, `  expect: ${c.expect}`, `  input: ${c.input}`,
      f === undefined ? '  result: passed on this build' : `  result: FAILED\n    ${f.problems.join('\n    ')}`].join('\n'));
  }
  return f !== undefined ? 1 : 0;
}
