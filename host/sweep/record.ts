/**
 * One line of a sweep's results file (JSON Lines): what one run observed, enough to summarise,
 * merge shards, resume, and replay it. Browser-safe.
 */
import type { ParamValue, RunResult } from '../scenarios/contract.js';
import type { Variant } from '../spdk/variant.js';
import { UsageError } from '../scenarios/params.js';
import type { SweepJob } from './plan.js';

export type SweepVerdict = 'reproduced' | 'clean' | 'inconclusive' | 'error';

export interface SweepRecord {
  /** Format version of the line. */
  v: 1;
  index: number;
  key: string;
  scenario: string;
  variant: Variant;
  seed: number;
  point: Record<string, ParamValue>;
  verdict: SweepVerdict;
  oracle?: string;
  summary: string;
  traceHash?: string;
  /** The build of the variant that ran (a results file must not mix builds). */
  build: string;
  simulatedUs?: number;
  wallMs: number;
  replay: string;
  /** Under swarm faults: the faults started and what they did to traffic (frames dropped,
   *  duplicated, reordered), so a claim can say how hard its seeds were hit. */
  swarm?: { faults: number; dropped: number; duplicated: number; reordered: number };
}

/** The verdict of a finished run. */
export function verdictOf(r: RunResult): SweepVerdict {
  return r.verdict;
}

export function recordOf(job: SweepJob, r: RunResult): SweepRecord {
  return {
    v: 1, index: job.index, key: job.key, scenario: job.scenario, variant: job.variant, seed: job.seed, point: job.point,
    verdict: verdictOf(r), oracle: r.oracle, summary: r.summary, traceHash: r.traceHash, build: r.build,
    simulatedUs: r.simulatedUs, wallMs: r.wallMs, replay: r.replay,
    ...(r.counters['swarm.faults'] !== undefined ? { swarm: {
      faults: r.counters['swarm.faults']!, dropped: r.counters['link.dropped'] ?? 0, duplicated: r.counters['link.duplicated'] ?? 0, reordered: r.counters['link.reordered'] ?? 0,
    } } : {}),
  };
}

export function errorRecord(job: SweepJob, build: string, message: string, replay: string, wallMs: number): SweepRecord {
  return { v: 1, index: job.index, key: job.key, scenario: job.scenario, variant: job.variant, seed: job.seed, point: job.point, verdict: 'error', summary: message, build, wallMs, replay };
}

const VERDICTS: readonly SweepVerdict[] = ['reproduced', 'clean', 'inconclusive', 'error'];

/** Parses a results file; a line that is not a record (truncated, another format) is an error
 *  naming the file and line, so a broken file never yields a silently shorter summary. */
export function parseRecords(text: string, file: string): SweepRecord[] {
  const out: SweepRecord[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      throw new UsageError(`${file}:${i + 1}: not a JSON line (truncated?): ${line.slice(0, 60)}`);
    }
    const o = r as Partial<SweepRecord>;
    if (o === null || typeof o !== 'object' || o.v !== 1 || typeof o.key !== 'string' || typeof o.build !== 'string'
      || typeof o.index !== 'number' || !VERDICTS.includes(o.verdict as SweepVerdict)) {
      throw new UsageError(`${file}:${i + 1}: not a sweep record (needs v 1, key, index, build and a verdict)`);
    }
    out.push(o as SweepRecord);
  });
  return out;
}

/** Every variant's records come from one build; `expected` (variant -> build) pins it. */
export function checkBuilds(records: readonly SweepRecord[], expected: Map<string, string> = new Map(), where = 'the results'): Map<string, string> {
  const builds = new Map(expected);
  for (const r of records) {
    const b = builds.get(r.variant);
    if (b === undefined) builds.set(r.variant, r.build);
    else if (b !== r.build) throw new UsageError(`${where} mix builds of ${r.variant}: ${b} and ${r.build} (${r.key}); sweep again with one build`);
  }
  return builds;
}
