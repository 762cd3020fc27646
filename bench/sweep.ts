/**
 * Sweep throughput: runs per wall second of each replay (patched, 24 seeds) with 1 and with 2
 * worker threads, and the speed-up; each in a fresh pool, after a one-run warm-up per worker.
 */
import { SCENARIOS } from '../host/scenarios/index.js';
import { planSweep } from '../host/sweep/plan.js';
import { runSweep } from '../host/sweep/run.node.js';

const SEEDS = Array.from({ length: 24 }, (_, i) => i + 1);
const quiet = { write: () => {}, tty: false };

async function runsPerSecond(id: string, workers: number): Promise<number> {
  const scenarios = SCENARIOS.filter((s) => s.id === id);
  const warm = planSweep({ scenarios, seeds: SEEDS.slice(0, workers), variants: ['patched'], params: new Map() });
  await runSweep({ jobs: warm, workers, resume: false, progress: quiet });
  const jobs = planSweep({ scenarios, seeds: SEEDS, variants: ['patched'], params: new Map() });
  const r = await runSweep({ jobs, workers, resume: false, progress: quiet });
  return Math.round((r.ran / (r.wallMs / 1000)) * 10) / 10;
}

export async function sweepFigures(progress: (s: string) => void): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const s of SCENARIOS) {
    progress(`sweep: ${s.id}, 1 and 2 workers`);
    const one = await runsPerSecond(s.id, 1);
    const two = await runsPerSecond(s.id, 2);
    out[s.id] = { runsPerSecond1: one, runsPerSecond2: two, speedup2: Math.round((two / one) * 100) / 100 };
  }
  return out;
}
