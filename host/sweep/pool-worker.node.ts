/**
 * Node only: a sweep worker thread (piscina). It loads each variant once (loadVariant caches the
 * compiled module per thread) and runs one job per call, answering a record; a run that throws
 * becomes an `error` record with the message, never a lost job.
 */
import { performance } from 'node:perf_hooks';
import { findScenario } from '../scenarios/index.js';
import { paramFlags, resolveParams } from '../scenarios/params.js';
import { loadVariant } from '../spdk/node-loader.js';
import type { SweepJob } from './plan.js';
import { errorRecord, recordOf, type SweepRecord } from './record.js';

export default async function runJob(job: SweepJob): Promise<SweepRecord> {
  const t0 = performance.now();
  const s = findScenario(job.scenario);
  const params = resolveParams(s, job.point as Record<string, string>);
  try {
    const r = await s.run({ variant: job.variant, flavor: 'release', seed: job.seed, params, load: loadVariant });
    return recordOf(job, r);
  } catch (err) {
    const replay = `npx spdk-wasm run ${s.id} --variant ${job.variant} --seed ${job.seed}${paramFlags(s, params)}`;
    const build = await loadVariant(job.variant).then((v) => v.buildId, () => 'unknown');
    const msg = err instanceof Error ? err.message : String(err);
    return errorRecord(job, build, msg.split('\n')[0]!.slice(0, 300), replay, performance.now() - t0);
  }
}
