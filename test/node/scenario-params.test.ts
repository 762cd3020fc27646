/** Standing rule: every advertised parameter value runs. For every replay in the catalog and
 *  every parameter: its min, its max and a middle value (ints), every choice (enums), both values
 *  (bools), one at a time from the defaults, on both variants: the run completes and gives a
 *  verdict (any verdict) instead of throwing. Generic over SCENARIOS, so a new replay is covered. */
import { describe, expect, it } from 'vitest';
import type { ParamSpec, ParamValue, Scenario } from '../../host/scenarios/contract.js';
import { SCENARIOS } from '../../host/scenarios/index.js';
import { resolveParams } from '../../host/scenarios/params.js';
import { VARIANTS } from '../../host/spdk/variant.js';
import { scenarioRunner } from './support/scenario.js';

function accepted(s: Scenario, name: string, v: ParamValue, ctx: Record<string, string> = {}): boolean {
  try {
    resolveParams(s, { ...ctx, [name]: v as string | number | boolean });
    return true;
  } catch {
    return false;
  }
}

/** The value nearest the middle of the range that the scenario accepts (a parameter may also
 *  need, say, a multiple of 4096): the middle rounded to coarser and coarser powers of two. */
function middle(s: Scenario, p: ParamSpec): number {
  const lo = p.min!, hi = p.max!, mid = (lo + hi) / 2;
  for (let k = 0; k < 40; k++) {
    const v = Math.min(hi, Math.max(lo, Math.round(mid / 2 ** k) * 2 ** k));
    if (accepted(s, p.name, v)) return v;
  }
  throw new Error(`${s.id}: no accepted value near the middle of --${p.name} ${lo}..${hi}`);
}

function values(s: Scenario, p: ParamSpec): ParamValue[] {
  if (p.kind === 'bool') return [false, true];
  if (p.kind === 'enum') return [...p.choices!];
  if (p.min === undefined || p.max === undefined) throw new Error(`${s.id}: --${p.name} advertises no range`);
  return [...new Set([p.min, middle(s, p), p.max])];
}

/** Runs from the defaults, and again under each other choice of an enum (a mode of the replay):
 *  a combination the replay refuses with a usage error is left out there, not at the defaults. */
function contexts(s: Scenario): Record<string, string>[] {
  return [{}, ...s.params.filter((p) => p.kind === 'enum').flatMap((p) => p.choices!.filter((c) => c !== p.default).map((c) => ({ [p.name]: c })))];
}

const cases = SCENARIOS.flatMap((s) => contexts(s).flatMap((ctx) => s.params.filter((p) => !(p.name in ctx)).flatMap((p) =>
  values(s, p).map((v) => ({ s, ctx, name: p.name, v })).filter((c) => Object.keys(ctx).length === 0 || accepted(c.s, c.name, c.v, ctx)))));

describe('every advertised parameter value runs', () => {
  it('covers every replay of the catalog', () => {
    expect(new Set(cases.map((c) => c.s.id))).toEqual(new Set(SCENARIOS.map((s) => s.id)));
  });

  it.each(cases.map((c) => [c.s.id, Object.entries(c.ctx).map(([k, x]) => `--${k} ${x} `).join(''), c.name, c.v, c] as const))('%s %s--%s %s', async (_id, _ctx, name, v, c) => {
    // The extremes must be values the CLI accepts, or the catalog advertises what it refuses.
    expect(accepted(c.s, name, v), `--${name} ${String(v)} is advertised but refused`).toBe(true);
    const run = scenarioRunner(c.s);
    for (const variant of VARIANTS) {
      const r = await run(variant, 1, { ...c.ctx, [name]: String(v) });
      expect(typeof r.reproduced, `${variant}: ${r.summary}`).toBe('boolean');
      expect(r.summary.length).toBeGreaterThan(0);
    }
  }, 600_000);
});
