/**
 * `sweep --shrink`: from a failing run, lower each shrinkable parameter (ParamSpec.shrink: fewer
 * I/Os, lower queue depth, fewer faults, a shorter run) to the smallest value that still fails the
 * same way with the same seed, pass after pass until nothing shrinks. Greedy, as delta debugging's
 * one-at-a-time step: each parameter tries its minimum first, then values halving toward the
 * current one, and keeps the first that fails. Browser-safe: the caller says how to run a trial.
 */
import type { Oracle, ParamValue, ScenarioInfo } from '../scenarios/contract.js';
import { paramFlags, resolveParams, UsageError } from '../scenarios/params.js';

export interface Trial {
  params: Record<string, ParamValue>;
  failed: boolean;
}

export interface ShrinkResult {
  start: Record<string, ParamValue>;
  smallest: Record<string, ParamValue>;
  /** Every run tried, in order. */
  trials: Trial[];
  /** The parameters that went down: name -> [from, to]. */
  shrunk: Record<string, [number, number]>;
}

/** Candidates for one int from its minimum up to (not including) the current value. */
export function candidates(min: number, current: number): number[] {
  const out: number[] = [];
  for (let gap = current - min; gap > 0; gap = Math.floor(gap / 2)) out.push(current - gap);
  if (out[out.length - 1] !== current - 1 && current - 1 > min) out.push(current - 1);
  return [...new Set(out)].filter((v) => v >= min && v < current).sort((a, b) => a - b);
}

/**
 * `fails(params)` runs the replay with those parameters (same seed, same variant) and says whether
 * it failed as the original did. `budget` bounds the runs (a shrink never runs away).
 */
export async function shrink(
  info: ScenarioInfo,
  start: Record<string, ParamValue>,
  fails: (params: Record<string, ParamValue>) => Promise<boolean>,
  budget = 200,
): Promise<ShrinkResult> {
  let best = { ...start };
  const trials: Trial[] = [];
  const dims = info.params.filter((p) => p.shrink === true && p.kind === 'int');
  for (let pass = 0; pass < 4; pass++) {
    let changed = false;
    for (const spec of dims) {
      const cur = best[spec.name] as number;
      for (const v of candidates(spec.min ?? 0, cur)) {
        if (trials.length >= budget) break;
        let params: Record<string, ParamValue>;
        try {
          // The replay's own cross-checks (io-size x io-count, ...) decide what is a valid run.
          params = resolveParams(info, { ...stringly(best), [spec.name]: String(v) });
        } catch (err) {
          if (err instanceof UsageError) continue;
          throw err;
        }
        const failed = await fails(params);
        trials.push({ params, failed });
        if (failed) {
          best = params;
          changed = true;
          break;
        }
      }
    }
    if (!changed) break;
  }
  const shrunk: Record<string, [number, number]> = {};
  for (const spec of dims) if (best[spec.name] !== start[spec.name]) shrunk[spec.name] = [start[spec.name] as number, best[spec.name] as number];
  return { start, smallest: best, trials, shrunk };
}

function stringly(p: Record<string, ParamValue>): Record<string, string> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)]));
}

/** The smallest replay's command. */
export function shrinkReplay(info: ScenarioInfo, variant: string, seed: number, params: Record<string, ParamValue>): string {
  return `npx spdk-wasm run ${info.id} --variant ${variant} --seed ${seed}${paramFlags(info, params)}`;
}

/** The failure a shrink keeps: the same oracle reproduced (a smaller run that fails some other
 *  way is a different finding, not a smaller one). */
export function sameFailure(oracle: Oracle | undefined): (r: { verdict: string; oracle: string }) => boolean {
  return (r) => r.verdict === 'reproduced' && (oracle === undefined || r.oracle === oracle);
}
