import type { ParamSpec, ParamValue, ScenarioInfo } from './contract.js';

/** Error for bad scenario input: the message is one line, fit to print as is. */
export class UsageError extends Error {}

/** Defaults for every parameter, overridden by `raw` (strings from a CLI or URL). Unknown names,
 *  non-numbers and out-of-range values are rejected with a message naming the parameter. */
export function resolveParams(scenario: ScenarioInfo, raw: Record<string, string | number | boolean>): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const p of scenario.params) out[p.name] = p.default;
  for (const [name, value] of Object.entries(raw)) {
    const spec = scenario.params.find((p) => p.name === name);
    if (spec === undefined) {
      const known = scenario.params.map((p) => `--${p.name}`).join(', ');
      throw new UsageError(`unknown parameter --${name} for scenario ${scenario.id} (known: ${known})`);
    }
    out[name] = parseValue(scenario.id, spec, value);
  }
  const problem = scenario.validate?.(out);
  if (problem !== undefined) throw new UsageError(`${scenario.id}: ${problem}`);
  return out;
}

function parseValue(id: string, spec: ParamSpec, value: string | number | boolean): ParamValue {
  const where = `--${spec.name} of ${id}`;
  switch (spec.kind) {
    case 'bool': {
      if (typeof value === 'boolean') return value;
      const s = String(value);
      if (s === 'true' || s === '1' || s === 'on') return true;
      if (s === 'false' || s === '0' || s === 'off') return false;
      throw new UsageError(`${where} must be true or false, got "${s}"`);
    }
    case 'enum': {
      const s = String(value);
      if (!spec.choices!.includes(s)) throw new UsageError(`${where} must be one of ${spec.choices!.join('|')}, got "${s}"`);
      return s;
    }
    case 'int': {
      const s = String(value).trim();
      if (!/^-?\d+$/.test(s)) throw new UsageError(`${where} must be an integer, got "${s}"`);
      const n = Number(s);
      if (spec.min !== undefined && n < spec.min) throw new UsageError(`${where} must be >= ${spec.min}, got ${n}`);
      if (spec.max !== undefined && n > spec.max) throw new UsageError(`${where} must be <= ${spec.max}, got ${n}`);
      return n;
    }
  }
}

/** Parses a seed: a non-negative integer below 2^32. */
export function parseSeed(s: string): number {
  if (!/^\d+$/.test(s.trim()) || Number(s) > 0xffffffff) {
    throw new UsageError(`--seed must be an integer in 0..4294967295, got "${s}"`);
  }
  return Number(s);
}

/** The CLI flags that reproduce a parameter set (only values that differ from the defaults). */
export function paramFlags(scenario: ScenarioInfo, params: Record<string, ParamValue>): string {
  return scenario.params
    .filter((p) => params[p.name] !== undefined && params[p.name] !== p.default)
    .map((p) => ` --${p.name} ${String(params[p.name])}`)
    .join('');
}
