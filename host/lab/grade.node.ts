/**
 * Node-only: `npm run lab -- check <id>`. Builds HEAD with the lab's student files from the
 * student's side (tree.node.ts, compile.node.ts), runs every configuration of the lab over its
 * seeds, and judges each run by the lab's checks (specs.ts). A crash or a thrown error in a run is
 * a FAIL with its report and the replay command, never an escaped stack trace.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParamValue, RunResult, Scenario } from '../scenarios/contract.js';
import { findScenario } from '../scenarios/index.js';
import { resolveParams } from '../scenarios/params.js';
import { MachineCrashed } from '../spdk/crash.js';
import { loadVariantDir } from '../spdk/node-loader.js';
import type { Flavor, LoadedVariant, Variant } from '../spdk/variant.js';
import { compileTree, CompileError } from './compile.node.js';
import { LABS, type LabConfig, type LabSpec } from './specs.js';
import { headSide, patchSide, prepareTree, type StudentSide } from './tree.node.js';

export interface Failure {
  config: string;
  seed: number;
  flavor: Flavor;
  problems: string[];
  /** The run's evidence lines (all of them; the text report shortens them unless --verbose). */
  evidence: string[];
  /** Where the host saw a run stop with an error (printed with --verbose only). */
  stack?: string[];
  replay: string;
}

export interface CheckReport {
  lab: string;
  pass: boolean;
  /** Why the whole check failed before any run (the build), or undefined. */
  error?: string;
  errorLog?: string;
  side: string;
  taken: string[];
  ignored: string[];
  runs: number;
  configs: { name: string; params: Record<string, ParamValue>; kind: string; flavor: Flavor; seeds: number; failed: number }[];
  failures: Failure[];
  notes: string[];
  build: { flavor: Flavor; compiled: number; reused: number; linked: boolean; ms: number }[];
  wallMs: number;
}

export interface CheckOptions {
  seeds: number;
  /** Stop at the first failing configuration (the grader's own tests). */
  failFast?: boolean;
  log?: (s: string) => void;
}

export function labSpec(id: string): LabSpec | undefined {
  return LABS[id];
}

/** The patches of spdk-patches/series whose header says "Replay: <id>". */
export function referencePatches(root: string, id: string): string[] {
  const dir = join(root, 'spdk-patches');
  const names = readFileSync(join(dir, 'series'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return names.filter((n) => new RegExp(`^Replay:\\s+${id}\\s*$`, 'm').test(readFileSync(join(dir, n), 'utf8'))).map((n) => join(dir, n));
}

/** Builds `side`'s tree in `flavor`; the output lives under build/lab/<slot>/out/<flavor>. */
async function buildSide(root: string, id: string, slot: string, side: StudentSide, flavor: Flavor): Promise<{ v: LoadedVariant; tree: ReturnType<typeof prepareTree>; stats: CheckReport['build'][number] }> {
  const tree = prepareTree(root, id, side, slot);
  const c = await compileTree(root, tree.dir, join(root, 'build/lab', slot, 'out', flavor), flavor);
  const v = await loadVariantDir(c.dir, 'unpatched', flavor);
  return { v, tree, stats: { flavor, compiled: c.compiled.length, reused: c.reused, linked: c.linked, ms: Math.round(c.ms) } };
}

/** The lab's reference build: HEAD with its spdk-patches (or HEAD alone, run as `patched`). */
export async function referenceBuild(root: string, id: string, flavor: Flavor = 'release'): Promise<{ v: LoadedVariant; variant: Variant }> {
  const spec = LABS[id]!;
  if (spec.reference === 'patched-variant') {
    const b = await buildSide(root, id, `${id}-reference`, headSide(root), flavor);
    return { v: b.v, variant: 'patched' };
  }
  const patches = referencePatches(root, id);
  const b = await buildSide(root, id, `${id}-reference`, patchSide(root, patches), flavor);
  return { v: b.v, variant: 'unpatched' };
}

export function labCommand(id: string, seed: number, params: Record<string, ParamValue>, flavor: Flavor): string {
  return `npm run lab -- run ${id} --seed ${seed}${flavor === 'asan' ? ' --flavor asan' : ''}${Object.entries(params).map(([k, v]) => ` --${k} ${v}`).join('')}`;
}

/** One run of `v`, counting the lab's trace events; a thrown error becomes a crash result. */
export async function runLab(scenario: Scenario, spec: LabSpec, v: LoadedVariant, variant: Variant, seed: number, params: Record<string, ParamValue>): Promise<{ r: RunResult; events: Map<string, number> }> {
  const events = new Map<string, number>();
  const wanted = new Set(spec.events);
  const opts = { variant, flavor: v.flavor, seed, params, load: async () => v };
  try {
    const session = await withTimeout(scenario.start(opts), START_TIMEOUT_MS, `setting the run up did not finish within ${START_TIMEOUT_MS / 1000} s`);
    const stop = wanted.size === 0 ? () => {} : session.world.trace.subscribe((e) => {
      const k = `${e.m}:${e.ev}`;
      if (wanted.has(k)) events.set(k, (events.get(k) ?? 0) + 1);
    });
    try {
      session.advance(Infinity);
    } finally {
      stop();
    }
    return { r: session.result(), events };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const first = e.message.split('\n')[0]!;
    // A crash of the C: its report (the ASan report in full), not the host's stack.
    const crash = err instanceof MachineCrashed ? err.report : undefined;
    const lines = crash === undefined ? [first] : [first, `C stack: ${crash.cStack.slice(0, 12).join(' <- ')}`, ...(crash.asanReport ?? '').split('\n').filter((l) => l !== '')];
    const r: RunResult = {
      scenario: scenario.id, variant, flavor: v.flavor, seed, params, verdict: 'reproduced', reproduced: true, oracle: 'crash',
      summary: `the run stopped with an error: ${first}`,
      evidence: { lines, stack: (e.stack ?? '').split('\n').slice(1).map((l) => l.trim()) },
      counters: {}, simulatedUs: 0, wallMs: 0, traceHash: '', traceEvents: 0, build: v.buildId, replay: '',
    };
    return { r, events };
  }
}

/** A run's set-up (loading the module, booting the machines) never waits longer than this. */
const START_TIMEOUT_MS = 120_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const evidenceLines = (r: RunResult): string[] => (Array.isArray(r.evidence['lines']) ? (r.evidence['lines'] as unknown[]).map(String) : []);

const seedsOf = (c: LabConfig, seeds: number): number => (c.seeds === 'all' ? seeds : Math.min(c.seeds, seeds));

export async function check(root: string, id: string, side: StudentSide, opts: CheckOptions): Promise<CheckReport> {
  const t0 = performance.now();
  const spec = LABS[id]!;
  const scenario = findScenario(id);
  const log = opts.log ?? (() => {});
  const report: CheckReport = { lab: id, pass: false, side: side.name, taken: [], ignored: [], runs: 0, configs: [], failures: [], notes: [], build: [], wallMs: 0 };
  const flavors = [...new Set(spec.configs.map((c) => c.flavor ?? 'release'))];
  const builds = new Map<Flavor, LoadedVariant>();
  try {
    for (const f of flavors) {
      log(`building ${side.name} (${f}) ...`);
      const b = await buildSide(root, id, id, side, f);
      builds.set(f, b.v);
      report.taken = b.tree.taken;
      report.ignored = b.tree.ignored;
      report.build.push(b.stats);
    }
  } catch (err) {
    report.error = err instanceof CompileError ? `your code does not build: ${err.message}` : String(err instanceof Error ? err.message : err);
    report.errorLog = err instanceof CompileError ? err.log : undefined;
    report.wallMs = Math.round(performance.now() - t0);
    return report;
  }

  const reference = spec.cost !== undefined ? await referenceBuild(root, id) : undefined;
  for (const c of spec.configs) {
    const flavor = c.flavor ?? 'release';
    const v = builds.get(flavor)!;
    const params = resolveParams(scenario, c.params);
    const seeds = seedsOf(c, opts.seeds);
    let failed = 0;
    let mine = 0;
    let ref = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const { r, events } = await runLab(scenario, spec, v, 'unpatched', seed, params);
      report.runs++;
      const problems = spec.problems({ r, events, config: c });
      if (problems.length > 0) {
        failed++;
        const stack = Array.isArray(r.evidence['stack']) ? (r.evidence['stack'] as unknown[]).map(String) : undefined;
        report.failures.push({ config: c.name, seed, flavor, problems, evidence: evidenceLines(r), ...(stack !== undefined ? { stack } : {}), replay: labCommand(id, seed, c.params, flavor) });
      } else if (spec.cost !== undefined && reference !== undefined) {
        mine += spec.cost.of(r);
        ref += spec.cost.of((await runLab(scenario, spec, reference.v, reference.variant, seed, params)).r);
      }
    }
    report.configs.push({ name: c.name, params: c.params, kind: c.kind, flavor, seeds, failed });
    log(`${c.name}: ${seeds} seed(s), ${failed} failed`);
    if (spec.cost !== undefined && failed === 0 && ref > 0 && mine > ref * (1 + spec.cost.tolerance)) {
      report.notes.push(`${c.name}: ${spec.cost.what} is ${((mine / ref - 1) * 100).toFixed(0)} % above the reference fix's (${(mine / 1000).toFixed(1)} ms against ${(ref / 1000).toFixed(1)} ms over ${seeds} seed(s)): correct, but your requests wait longer than they must`);
    }
    if (failed > 0 && opts.failFast) break;
  }
  report.pass = report.failures.length === 0;
  report.wallMs = Math.round(performance.now() - t0);
  return report;
}

/** The text form of a report; `verbose` prints every failure and every evidence line. */
export function formatReport(rep: CheckReport, verbose: boolean): string {
  const out: string[] = [];
  const taken = rep.taken.length > 0 ? `taken from ${rep.side}: ${rep.taken.join(', ')}` : `${rep.side} changes none of this lab's files`;
  out.push(taken);
  if (rep.ignored.length > 0) out.push(`ignored (not this lab's files; HEAD's version was built): ${rep.ignored.join(', ')}`);
  for (const b of rep.build) out.push(`build ${b.flavor}: ${b.compiled} file(s) compiled, ${b.reused} reused, ${b.linked ? 'linked' : 'link reused'} in ${(b.ms / 1000).toFixed(1)} s`);
  if (rep.error !== undefined) {
    out.push('', `FAIL ${rep.lab}: ${rep.error}`);
    const log = (rep.errorLog ?? '').split('\n');
    out.push(...(verbose ? log : log.slice(0, 40)).map((l) => `  ${l}`));
    if (!verbose && log.length > 40) out.push(`  ... ${log.length - 40} more lines (--verbose)`);
    return out.join('\n');
  }
  out.push('');
  if (rep.pass) {
    out.push(`PASS ${rep.lab}: ${rep.runs} runs over ${rep.configs.length} configurations are clean, took the bug's path and kept the lab's invariants (${(rep.wallMs / 1000).toFixed(1)} s).`);
    for (const c of rep.configs) out.push(`  ${c.name}: ${c.seeds} seed(s)${c.flavor === 'asan' ? ' on asan' : ''}`);
    for (const n of rep.notes) out.push(`note: ${n}`);
    return out.join('\n');
  }
  out.push(`FAIL ${rep.lab}: ${rep.failures.length} of ${rep.runs} runs fail (${(rep.wallMs / 1000).toFixed(1)} s).`);
  if (rep.ignored.length > 0) out.push(`  Your changes to ${rep.ignored.join(', ')} were ignored (not this lab's files): a fix there does not count.`);
  const shown = verbose ? rep.failures : firstPerConfig(rep.failures);
  for (const f of shown) {
    out.push('', `  ${f.config}, seed ${f.seed}${f.flavor === 'asan' ? ' (asan)' : ''}:`);
    for (const p of f.problems) out.push(`    - ${p}`);
    const ev = verbose ? f.evidence : f.evidence.slice(0, 8);
    for (const l of ev) out.push(`      ${l}`);
    if (!verbose && f.evidence.length > 8) out.push(`      ... ${f.evidence.length - 8} more lines (--verbose)`);
    if (verbose && f.stack !== undefined) out.push('      host stack:', ...f.stack.map((l) => `        ${l}`));
    out.push(`    replay: ${f.replay}`);
  }
  if (shown.length < rep.failures.length) out.push('', `  ... and ${rep.failures.length - shown.length} more failing runs (--verbose shows every one)`);
  out.push('', `Stuck? npm run lab -- hint ${rep.lab} 1`);
  return out.join('\n');
}

/** The first failure of each configuration. */
function firstPerConfig(fs: Failure[]): Failure[] {
  const seen = new Set<string>();
  return fs.filter((f) => (seen.has(f.config) ? false : (seen.add(f.config), true)));
}
