/**
 * The summary of a sweep: per replay, variant and parameter point, the runs by verdict, the
 * reproduction rate with a 95 % Wilson interval, and the first failing seed with its replay
 * command. It depends only on the set of records (not on their order or on which worker or shard
 * ran them), so the merge of shards equals a single run. Browser-safe.
 */
import { pointLabel } from './plan.js';
import type { SweepRecord, SweepVerdict } from './record.js';

export interface PointSummary {
  scenario: string;
  variant: string;
  point: string;
  runs: number;
  counts: Record<SweepVerdict, number>;
  /** reproduced / (reproduced + clean): inconclusive and error runs are not evidence either way. */
  rate: number;
  /** 95 % Wilson score interval of the rate. */
  low: number;
  high: number;
  /** The lowest seed that reproduced (or errored, when none reproduced), with its replay command. */
  firstFailing?: { seed: number; verdict: SweepVerdict; replay: string };
}

/** The Wilson score interval for k successes of n at 95 %: sound at 0 and n, unlike k/n ± ... */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** One record per key (a resumed or merged file may hold a job twice: the first is kept). */
export function uniqueRecords(records: readonly SweepRecord[]): SweepRecord[] {
  const seen = new Map<string, SweepRecord>();
  for (const r of records) if (!seen.has(r.key)) seen.set(r.key, r);
  return [...seen.values()].sort((a, b) => a.index - b.index);
}

export function summarise(records: readonly SweepRecord[]): PointSummary[] {
  const groups = new Map<string, SweepRecord[]>();
  for (const r of uniqueRecords(records)) {
    const g = `${r.scenario}|${r.variant}|${pointLabel(r.point)}`;
    let list = groups.get(g);
    if (list === undefined) groups.set(g, (list = []));
    list.push(r);
  }
  const out: PointSummary[] = [];
  for (const list of groups.values()) {
    const counts: Record<SweepVerdict, number> = { reproduced: 0, clean: 0, inconclusive: 0, error: 0 };
    for (const r of list) counts[r.verdict]++;
    const judged = counts.reproduced + counts.clean;
    const [low, high] = wilson(counts.reproduced, judged);
    const bySeed = [...list].sort((a, b) => a.seed - b.seed);
    const failing = bySeed.find((r) => r.verdict === 'reproduced') ?? bySeed.find((r) => r.verdict === 'error');
    const first = list[0]!;
    out.push({
      scenario: first.scenario, variant: first.variant, point: pointLabel(first.point), runs: list.length, counts,
      rate: judged === 0 ? 0 : counts.reproduced / judged, low, high,
      ...(failing !== undefined ? { firstFailing: { seed: failing.seed, verdict: failing.verdict, replay: failing.replay } } : {}),
    });
  }
  return out;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** The table a person reads, then one replay command per point that failed. */
export function renderSummary(points: readonly PointSummary[]): string {
  const head = ['scenario', 'variant', 'point', 'runs', 'reproduced', 'clean', 'inconclusive', 'error', 'rate (95 % CI)'];
  const rows = points.map((p) => [p.scenario, p.variant, p.point, String(p.runs), String(p.counts.reproduced), String(p.counts.clean),
    String(p.counts.inconclusive), String(p.counts.error), p.counts.reproduced + p.counts.clean === 0 ? 'n/a' : `${pct(p.rate)} (${pct(p.low)}..${pct(p.high)})`]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const lines = [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)];
  const failing = points.filter((p) => p.firstFailing !== undefined);
  if (failing.length > 0) {
    lines.push('', 'first failing seed of each point:');
    for (const p of failing) lines.push(`  ${p.scenario} ${p.variant} ${p.point}: seed ${p.firstFailing!.seed} (${p.firstFailing!.verdict}): ${p.firstFailing!.replay}`);
  }
  return lines.join('\n');
}
