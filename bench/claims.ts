/**
 * The claims the README makes, each backed by a sweep (issue 15 §5), as JSON:
 *  - patched NVMe/TCP verify (zcopy-threshold --mode nvme-tcp) under swarm faults, 1000 seeds:
 *    data mismatches, stuck requests and crashes (each a reproduced verdict of its oracle);
 *  - every replay patched, 200 seeds each: how many reproduced;
 *  - every replay unpatched over a grid of parameter points, the precondition-absent points
 *    included: the reproduction rate per point with its 95 % interval;
 *  - 100,000 malformed PDUs into the asan target (spdk-wasm fuzz, as CI runs it): findings.
 * `node dist/bench/claims.js --save` writes bench/claims.json (the README's claims block is
 * generated from it by tools/readme.mjs); `npm run bench` includes the same figures.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { SCENARIOS } from '../host/scenarios/index.js';
import { loadVariant, packageRoot } from '../host/spdk/node-loader.js';
import { parseSeeds, planSweep } from '../host/sweep/plan.js';
import type { SweepRecord } from '../host/sweep/record.js';
import { runSweep } from '../host/sweep/run.node.js';
import { summarise } from '../host/sweep/summary.js';

const quiet = { write: () => {}, tty: false };
const workers = Math.min(availableParallelism(), 64);

async function sweep(ids: string[], seeds: string, variant: 'patched' | 'unpatched', params: [string, string[]][]): Promise<{ records: SweepRecord[]; wallMs: number }> {
  const scenarios = SCENARIOS.filter((s) => ids.includes(s.id));
  const jobs = planSweep({ scenarios, seeds: parseSeeds(seeds), variants: [variant], params: new Map(params) });
  const r = await runSweep({ jobs, workers, resume: false, progress: quiet });
  return { records: r.records, wallMs: Math.round(r.wallMs) };
}

const count = (rs: SweepRecord[], f: (r: SweepRecord) => boolean): number => rs.filter(f).length;

/** The command that reruns a claim's sweep, for the README. */
const cmd = (target: string, seeds: string, variant: string, params: [string, string[]][]): string =>
  `npx spdk-wasm sweep ${target} --seeds ${seeds} --variant ${variant}${params.map(([k, v]) => ` --param ${k}=${v.join(',')}`).join('')}`;

export async function claimFigures(progress: (s: string) => void): Promise<Record<string, unknown>> {
  const swarmParams: [string, string[]][] = [['mode', ['nvme-tcp']], ['faults', ['swarm']], ['io-count', ['32']], ['queue-depth', ['4']]];
  progress('claims: patched NVMe/TCP verify under swarm faults, 1000 seeds');
  const sw = await sweep(['zcopy-threshold'], '1..1000', 'patched', swarmParams);
  const swarm = {
    command: cmd('zcopy-threshold', '1..1000', 'patched', swarmParams),
    seeds: sw.records.length,
    dataMismatches: count(sw.records, (r) => r.verdict === 'reproduced' && r.oracle === 'safety'),
    stuck: count(sw.records, (r) => r.verdict === 'reproduced' && r.oracle === 'liveness'),
    crashes: count(sw.records, (r) => r.verdict === 'reproduced' && r.oracle === 'crash'),
    errors: count(sw.records, (r) => r.verdict === 'error'),
    clean: count(sw.records, (r) => r.verdict === 'clean'),
    inconclusive: count(sw.records, (r) => r.verdict === 'inconclusive'),
    // How hard the faults hit: seeds whose faults dropped, duplicated or reordered a frame.
    seedsWithFaultsStarted: count(sw.records, (r) => (r.swarm?.faults ?? 0) > 0),
    seedsWithTrafficHit: count(sw.records, (r) => r.swarm !== undefined && r.swarm.dropped + r.swarm.duplicated + r.swarm.reordered > 0),
    faultsStarted: sw.records.reduce((n, r) => n + (r.swarm?.faults ?? 0), 0),
    framesDropped: sw.records.reduce((n, r) => n + (r.swarm?.dropped ?? 0), 0),
    framesDuplicated: sw.records.reduce((n, r) => n + (r.swarm?.duplicated ?? 0), 0),
    framesReordered: sw.records.reduce((n, r) => n + (r.swarm?.reordered ?? 0), 0),
    wallMs: sw.wallMs,
  };

  const patched: Record<string, unknown> = {};
  for (const s of SCENARIOS) {
    progress(`claims: ${s.id} patched, 200 seeds`);
    const p = await sweep([s.id], '1..200', 'patched', []);
    patched[s.id] = {
      command: cmd(s.id, '1..200', 'patched', []), seeds: p.records.length, reproduced: count(p.records, (r) => r.verdict === 'reproduced'),
      clean: count(p.records, (r) => r.verdict === 'clean'), inconclusive: count(p.records, (r) => r.verdict === 'inconclusive'), errors: count(p.records, (r) => r.verdict === 'error'), wallMs: p.wallMs,
    };
  }

  // The grids: each includes points where the bug's precondition is absent (rate must be 0).
  const grids: { id: string; seeds: string; params: [string, string[]][]; absent: string }[] = [
    { id: 'zcopy-threshold', seeds: '1..40', params: [['threshold', ['0', '8192', '16777216']], ['io-size', ['65536', '131072']], ['mss', ['1448', '9000']]],
      absent: 'threshold=0 (every send zero copy: no copied tail), threshold=16777216 (no send zero copy), and io-size=65536 (a write fits in SO_SNDBUF: one zero-copy call)' },
    { id: 'zcopy-threshold', seeds: '1..40', params: [['zcopy', ['true', 'false']]], absent: 'zcopy=false' },
    { id: 'tcp-zcopy-disconnect', seeds: '1..40', params: [['zcopy', ['true', 'false']]], absent: 'zcopy=false' },
    { id: 'sparse-backing-image', seeds: '1..20', params: [['write-zero', ['false', 'true']], ['unmap', ['false', 'true']]], absent: 'write-zero=true or unmap=true' },
  ];
  const unpatched = [];
  for (const g of grids) {
    progress(`claims: ${g.id} unpatched over ${g.params.map(([k]) => k).join(' x ')}`);
    const u = await sweep([g.id], g.seeds, 'unpatched', g.params);
    unpatched.push({
      scenario: g.id, command: cmd(g.id, g.seeds, 'unpatched', g.params), preconditionAbsent: g.absent, wallMs: u.wallMs,
      points: summarise(u.records).map((p) => ({ point: p.point, runs: p.runs, reproduced: p.counts.reproduced, clean: p.counts.clean, inconclusive: p.counts.inconclusive, error: p.counts.error, rate: p.rate, low: p.low, high: p.high })),
    });
  }
  progress('claims: 100000 malformed PDUs into the asan target');
  const f = spawnSync(process.execPath, [join(packageRoot(), 'dist', 'host', 'cli.js'), 'fuzz', '--cases', '100000', '--flavor', 'asan', '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const fz = JSON.parse(f.stdout) as { cases: number; failures: unknown[]; resourceChecks: number; families: Record<string, number>; wallMs: number; workers: number };
  const fuzz = { command: 'npx spdk-wasm fuzz --cases 100000 --flavor asan', cases: fz.cases, families: Object.keys(fz.families).length, findings: fz.failures.length, resourceChecks: fz.resourceChecks, wallMs: fz.wallMs, workers: fz.workers, exitStatus: f.status };
  return { build: { unpatched: (await loadVariant('unpatched')).buildId, patched: (await loadVariant('patched')).buildId }, workers, swarm, patched, unpatched, fuzz };
}

async function main(argv: string[]): Promise<void> {
  const bad = argv.find((a) => a !== '--save');
  if (bad !== undefined) {
    console.error(`claims: unknown argument "${bad}" (known: --save, which writes bench/claims.json)`);
    process.exit(2);
  }
  const t0 = Date.now();
  const figures = await claimFigures((s) => void process.stderr.write(`${s}\n`));
  const out = { date: new Date().toISOString(), node: process.version, machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length }, wallMs: Date.now() - t0, ...figures };
  const json = JSON.stringify(out, null, 2);
  if (argv.includes('--save')) writeFileSync(join(packageRoot(), 'bench', 'claims.json'), json + '\n');
  console.log(json);
}

// Run as a script (node dist/bench/claims.js), not when bench/run.ts imports it.
if (process.argv[1]?.endsWith('claims.js') === true) await main(process.argv.slice(2));
