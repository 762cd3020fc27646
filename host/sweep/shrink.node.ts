/**
 * Node only: `sweep --shrink` after a sweep. The first reproduced seed of each point is shrunk
 * (shrink.ts) by running the replay in this thread, one trial after another: a greedy shrink is
 * sequential by nature, and each trial of the defaults takes tens of milliseconds.
 */
import { findScenario } from '../scenarios/index.js';
import type { Oracle } from '../scenarios/contract.js';
import { resolveParams } from '../scenarios/params.js';
import { loadVariant } from '../spdk/node-loader.js';
import type { SweepRecord } from './record.js';
import { sameFailure, shrink, shrinkReplay, type ShrinkResult } from './shrink.js';
import { summarise } from './summary.js';

export interface ShrinkReport {
  scenario: string;
  variant: string;
  point: string;
  seed: number;
  runs: number;
  shrunk: ShrinkResult['shrunk'];
  replay: string;
}

export async function shrinkFailures(records: readonly SweepRecord[], budget: number): Promise<ShrinkReport[]> {
  const out: ShrinkReport[] = [];
  for (const p of summarise(records)) {
    if (p.firstFailing?.verdict !== 'reproduced') continue;
    const rec = records.find((r) => r.scenario === p.scenario && r.variant === p.variant && r.seed === p.firstFailing!.seed && r.verdict === 'reproduced');
    if (rec === undefined) continue;
    const s = findScenario(rec.scenario);
    const start = resolveParams(s, Object.fromEntries(Object.entries(rec.point).map(([k, v]) => [k, String(v)])));
    const same = sameFailure(rec.oracle as Oracle | undefined);
    const r = await shrink(s, start, async (params) => {
      try {
        return same(await s.run({ variant: rec.variant, flavor: 'release', seed: rec.seed, params, load: loadVariant }));
      } catch {
        return false;
      }
    }, budget);
    out.push({ scenario: rec.scenario, variant: rec.variant, point: p.point, seed: rec.seed, runs: r.trials.length, shrunk: r.shrunk, replay: shrinkReplay(s, rec.variant, rec.seed, r.smallest) });
  }
  return out;
}

export function renderShrinks(list: readonly ShrinkReport[]): string {
  if (list.length === 0) return 'shrink: no point reproduced; nothing to shrink';
  const lines = ['smallest failing run of each point (sweep --shrink):'];
  for (const s of list) {
    const what = Object.entries(s.shrunk).map(([k, [a, b]]) => `${k} ${a} -> ${b}`).join(', ');
    lines.push(`  ${s.scenario} ${s.variant} ${s.point}, seed ${s.seed}: ${what === '' ? 'already minimal' : what} (${s.runs} trial runs)`);
    lines.push(`    ${s.replay}`);
  }
  return lines.join('\n');
}
