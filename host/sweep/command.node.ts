/**
 * Node only: `spdk-wasm sweep` and `spdk-wasm merge`.
 *
 *   sweep <replay|all> [--seeds 1..100] [--variant unpatched,patched] [--param name=v1,v2 ...]
 *         [--workers N] [--out FILE] [--resume] [--shard k/n] [--json]
 *   merge FILE... [--json]
 */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { findScenario, SCENARIOS } from '../scenarios/index.js';
import { UsageError } from '../scenarios/params.js';
import { VARIANTS, type Variant } from '../spdk/variant.js';
import { addParam, parseSeeds, parseShard, parseVariants, planSweep } from './plan.js';
import { checkBuilds, parseRecords, type SweepRecord } from './record.js';
import { runSweep } from './run.node.js';
import { renderSummary, summarise } from './summary.js';
import { renderShrinks, shrinkFailures, type ShrinkReport } from './shrink.node.js';

export const SWEEP_USAGE = `usage:
  spdk-wasm sweep <scenario|all> [--seeds 1..100] [--variant unpatched,patched] [--param NAME=V1,V2 ...]
                  [--workers N] [--out FILE] [--resume] [--shard K/N] [--shrink] [--json]
  spdk-wasm merge FILE... [--json]
sweep runs every replay x parameter point x variant x seed on a pool of worker threads and prints,
per point, the runs by verdict and the reproduction rate with a 95 % confidence interval.
--out FILE keeps one JSON line per run (never overwritten; --resume continues it). --shard K/N runs
the K-th of N deterministic shares; merge joins the shards' files into the summary one run gives.
--shrink then lowers the shrinkable parameters of each point's first reproduced seed (fewer I/Os,
lower queue depth, fewer faults, a shorter run) while it still fails, and prints the smallest
replay command. --param faults=swarm runs the network and disk replays under swarm faults.`;

const MAX_WORKERS = 64;
/** Trial runs per shrunk point at most. */
const SHRINK_BUDGET = 200;

function value(argv: string[], i: number, flag: string): string {
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
  return v;
}

export async function sweepCommand(argv: string[]): Promise<number> {
  let target: string | undefined;
  let seeds = parseSeeds('1..100');
  let variants: Variant[] = [...VARIANTS];
  const params = new Map<string, string[]>();
  let workers = Math.min(availableParallelism(), MAX_WORKERS);
  let out: string | undefined;
  let resume = false;
  let json = false;
  let doShrink = false;
  let shard: { k: number; n: number } | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--help': case '-h': console.log(SWEEP_USAGE); return 0;
      case '--seeds': seeds = parseSeeds(value(argv, i++, a)); break;
      case '--variant': variants = parseVariants(value(argv, i++, a)); break;
      case '--param': addParam(params, value(argv, i++, a)); break;
      case '--workers': {
        const v = value(argv, i++, a);
        workers = Number(v);
        if (!/^\d+$/.test(v) || workers < 1 || workers > MAX_WORKERS) throw new UsageError(`--workers must be an integer in 1..${MAX_WORKERS}, got "${v}"`);
        break;
      }
      case '--out': out = value(argv, i++, a); break;
      case '--resume': resume = true; break;
      case '--json': json = true; break;
      case '--shrink': doShrink = true; break;
      case '--shard': shard = parseShard(value(argv, i++, a)); break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown flag ${a} for sweep`);
        if (target !== undefined) throw new UsageError(`unexpected argument "${a}"`);
        target = a;
    }
  }
  if (target === undefined) throw new UsageError('sweep needs a scenario id or all; see: spdk-wasm list');
  const all = target === 'all';
  const scenarios = all ? SCENARIOS : [findScenario(target)];
  const jobs = planSweep({ scenarios, seeds, variants, params, shard }, all);
  process.stderr.write(`sweep: ${jobs.length} runs${shard !== undefined ? ` (shard ${shard.k}/${shard.n})` : ''} on ${workers} worker${workers > 1 ? 's' : ''}${out !== undefined ? `, results in ${out}` : ''}\n`);
  const r = await runSweep({ jobs, workers, out, resume, progress: { write: (s) => process.stderr.write(s), tty: process.stderr.isTTY === true } });
  const points = summarise(r.records);
  let shrinks: ShrinkReport[] | undefined;
  if (doShrink && !r.interrupted) {
    process.stderr.write('sweep: shrinking the first reproduced seed of each point\n');
    shrinks = await shrinkFailures(r.records, SHRINK_BUDGET);
  }
  if (json) console.log(JSON.stringify({ points, runs: r.records.length, ran: r.ran, resumed: r.resumed, interrupted: r.interrupted, wallMs: Math.round(r.wallMs), ...(shrinks !== undefined ? { shrinks } : {}) }));
  else {
    console.log(renderSummary(points));
    if (shrinks !== undefined) console.log(`\n${renderShrinks(shrinks)}`);
    const rate = r.ran / (r.wallMs / 1000);
    console.log(`\n${r.records.length} runs (${r.ran} now${r.resumed > 0 ? `, ${r.resumed} from ${out}` : ''}) in ${(r.wallMs / 1000).toFixed(1)} s wall, ${rate.toFixed(1)} runs per second on ${workers} worker${workers > 1 ? 's' : ''}`);
    if (r.interrupted) console.log(`interrupted: ${jobs.length - r.records.length} runs not done${out !== undefined ? `; continue with --resume --out ${out}` : ''}`);
  }
  return r.interrupted ? 130 : 0;
}

export function mergeCommand(argv: string[]): number {
  const json = argv.includes('--json');
  const files = argv.filter((a) => a !== '--json');
  if (files.includes('--help') || files.includes('-h')) {
    console.log(SWEEP_USAGE);
    return 0;
  }
  const bad = files.find((f) => f.startsWith('-'));
  if (bad !== undefined) throw new UsageError(`unknown flag ${bad} for merge`);
  if (files.length === 0) throw new UsageError('merge needs one or more results files (from sweep --out)');
  const records: SweepRecord[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      throw new UsageError(`merge: cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    records.push(...parseRecords(text, f));
  }
  checkBuilds(records, new Map(), `the files ${files.join(', ')}`);
  const points = summarise(records);
  console.log(json ? JSON.stringify({ points, runs: points.reduce((n, p) => n + p.runs, 0) }) : renderSummary(points));
  return 0;
}
