/** Test support for the replay tests: run a scenario by variant and seed, and the determinism
 *  checks every replay shares. */
import { expect } from 'vitest';
import type { RunResult, Scenario } from '../../../host/scenarios/contract.js';
import { resolveParams } from '../../../host/scenarios/params.js';
import { loadVariant } from '../../../host/spdk/node-loader.js';
import type { Flavor, Variant } from '../../../host/spdk/variant.js';

export type ScenarioRun = (variant: Variant, seed: number, raw?: Record<string, string>, flavor?: Flavor) => Promise<RunResult>;

/** `run(variant, seed, raw params, flavor)` for one scenario, loading variants from build/wasm. */
export function scenarioRunner(scenario: Scenario): ScenarioRun {
  return (variant, seed, raw = {}, flavor = 'release') =>
    scenario.run({ variant, flavor, seed, params: resolveParams(scenario, raw), load: loadVariant });
}

/** The same seed gives the same trace hash (both variants); the next seed differs. Returns the
 *  two unpatched runs and the first patched one for the scenario's own checks. */
export async function expectDeterministic(run: ScenarioRun, seed: number): Promise<{ a: RunResult; b: RunResult; pa: RunResult }> {
  const a = await run('unpatched', seed);
  const b = await run('unpatched', seed);
  const c = await run('unpatched', seed + 1);
  expect(a.traceHash).toBe(b.traceHash);
  expect(a.traceEvents).toBe(b.traceEvents);
  expect(c.traceHash).not.toBe(a.traceHash);
  const pa = await run('patched', seed);
  const pb = await run('patched', seed);
  expect(pa.traceHash).toBe(pb.traceHash);
  return { a, b, pa };
}
