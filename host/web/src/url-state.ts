/**
 * The page's state in its URL: replay, variant, flavor, seed, the replay's knobs (only values that
 * differ from the defaults), the virtual time of the frame shown (`t`, µs) and a deliberate crash
 * (`crash=<machine>:<kind>` at `t`), so a shared link lands on the same frame of the same run. Bad values are reported one
 * line each and replaced by defaults; they never stop the page.
 */
import { CATALOG, findInfo } from '../../scenarios/catalog.js';
import type { ParamValue, ScenarioInfo } from '../../scenarios/contract.js';
import { paramFlags, parseSeed, resolveParams } from '../../scenarios/params.js';
import { isFlavor, isVariant, type Flavor, type Variant } from '../../spdk/variant.js';
import type { WorldConfig } from './protocol.js';

export const SPEEDS = ['1', '5', '20', '100', '1000', '10000', '100000', 'max'] as const;
export type Speed = (typeof SPEEDS)[number];

export interface PageState {
  scenario: ScenarioInfo;
  variant: Variant;
  flavor: Flavor;
  seed: number;
  params: Record<string, ParamValue>;
  /** Virtual µs per animation frame while running ("max": as fast as the worker goes). */
  speed: Speed;
  /** Virtual time (µs) of the frame shown; a page opened with it steps there first. */
  at: number;
  /** A machine crashed on purpose at `at` (CRASH_KINDS names the kinds). */
  crash?: { machine: string; kind: CrashKind };
}

/** spdk_wasm_ut_crash's kinds by their URL names. */
export const CRASH_KINDS = { abort: 0, uaf: 1, trap: 2 } as const;
export type CrashKind = keyof typeof CRASH_KINDS;
export const isCrashKind = (k: string): k is CrashKind => Object.hasOwn(CRASH_KINDS, k);

const RESERVED = new Set(['replay', 'variant', 'flavor', 'seed', 'speed', 't', 'crash']);

export function defaultState(scenario: ScenarioInfo = CATALOG[0]!): PageState {
  return { scenario, variant: 'unpatched', flavor: 'release', seed: 1, params: resolveParams(scenario, {}), speed: '20', at: 0 };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface ParsedUrl {
  state: PageState;
  /** One line per bad value that was replaced by its default. */
  problems: string[];
}

export function parseUrl(search: string): ParsedUrl {
  const q = new URLSearchParams(search);
  const problems: string[] = [];
  let scenario = CATALOG[0]!;
  const id = q.get('replay');
  if (id !== null) {
    try {
      scenario = findInfo(id);
    } catch (err) {
      problems.push(`${message(err).replace(/^unknown scenario/, 'unknown replay')}; showing ${scenario.id}`);
    }
  }
  const state = defaultState(scenario);
  const variant = q.get('variant');
  if (variant !== null) {
    if (isVariant(variant)) state.variant = variant;
    else problems.push(`variant must be unpatched or patched, got "${variant}"; using ${state.variant}`);
  }
  const flavor = q.get('flavor');
  if (flavor !== null) {
    if (isFlavor(flavor)) state.flavor = flavor;
    else problems.push(`flavor must be release or asan, got "${flavor}"; using ${state.flavor}`);
  }
  const seed = q.get('seed');
  if (seed !== null) {
    try {
      state.seed = parseSeed(seed);
    } catch (err) {
      problems.push(`${message(err).replace('--seed', 'seed')}; using ${state.seed}`);
    }
  }
  const speed = q.get('speed');
  if (speed !== null) {
    if ((SPEEDS as readonly string[]).includes(speed)) state.speed = speed as Speed;
    else problems.push(`speed must be one of ${SPEEDS.join('|')}, got "${speed}"; using ${state.speed}`);
  }
  const t = q.get('t');
  if (t !== null) {
    const v = Number(t);
    if (/^\d+$/.test(t) && Number.isSafeInteger(v)) state.at = v;
    else problems.push(`t must be a virtual time in whole µs (>= 0), got "${t}"; starting at 0`);
  }
  const crash = q.get('crash');
  if (crash !== null) {
    const m = /^([\w-]+):(\w+)$/.exec(crash);
    if (m !== null && isCrashKind(m[2]!)) state.crash = { machine: m[1]!, kind: m[2] };
    else problems.push(`crash must be <machine>:<${Object.keys(CRASH_KINDS).join('|')}>, got "${crash}"; no crash`);
  }
  // Each knob on its own, so one bad value does not discard the good ones.
  const raw: Record<string, string> = {};
  const knobsApply = id === null || scenario.id === id;
  for (const [k, v] of q) {
    if (RESERVED.has(k)) continue;
    if (!knobsApply) {
      problems.push(`knob ${k}=${v} belongs to the unknown replay; ignored`);
      continue;
    }
    try {
      resolveParams(scenario, { [k]: v });
      raw[k] = v;
    } catch (err) {
      const spec = scenario.params.find((p) => p.name === k);
      problems.push(`${message(err)}${spec !== undefined ? `; using ${String(spec.default)}` : '; ignored'}`);
    }
  }
  try {
    state.params = resolveParams(scenario, raw);
  } catch (err) {
    problems.push(`${message(err)}; using the default knobs`);
  }
  return { state, problems };
}

export function toSearch(s: PageState): string {
  const q = new URLSearchParams();
  q.set('replay', s.scenario.id);
  q.set('variant', s.variant);
  if (s.flavor !== 'release') q.set('flavor', s.flavor);
  q.set('seed', String(s.seed));
  for (const p of s.scenario.params) {
    const v = s.params[p.name];
    if (v !== undefined && v !== p.default) q.set(p.name, String(v));
  }
  if (s.speed !== defaultState(s.scenario).speed) q.set('speed', s.speed);
  if (s.at > 0) q.set('t', String(s.at));
  if (s.crash !== undefined) q.set('crash', `${s.crash.machine}:${s.crash.kind}`);
  return `?${q.toString()}`;
}

/** The CLI command that runs the same world. */
export function cliCommand(s: PageState): string {
  const flavor = s.flavor !== 'release' ? ` --flavor ${s.flavor}` : '';
  return `npx spdk-wasm run ${s.scenario.id} --variant ${s.variant}${flavor} --seed ${s.seed}${paramFlags(s.scenario, s.params)}`;
}

/** The world a page state asks the worker for (variants fetched relative to the page). */
export function worldConfig(s: PageState): WorldConfig {
  return { scenario: s.scenario.id, variant: s.variant, flavor: s.flavor, seed: s.seed, params: s.params, wasmBase: new URL('wasm/', location.href).href };
}
