#!/usr/bin/env node
/**
 * Node-only entry of the labs (docs/labs/): `npm run lab -- check <id>` builds the working tree's
 * wasm/ as the unpatched variant — in a scratch copy under build/lab/ with an empty patch series, so a
 * fix written in wasm/ never collides with spdk-patches/ — and runs the replay over many seeds. PASS
 * means the bug is gone on every seed and the run really took the buggy path (the precondition
 * counters fired); FAIL prints the evidence and the commands that replay it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sideBySide } from './report.js';
import type { ParamValue, RunResult, Scenario } from './scenarios/contract.js';
import { findScenario } from './scenarios/index.js';
import { parseSeed, resolveParams, UsageError } from './scenarios/params.js';
import { packageRoot } from './spdk/node-loader.js';
import { variantDir, type EmscriptenFactory, type LoadedVariant } from './spdk/variant.js';

/** What a lab checks beyond "not reproduced": the knob sets to try and the precondition of the bug. */
interface LabSpec {
  /** Knob sets, each run over every seed (defaults first). */
  configs: { name: string; params: Record<string, string | number> }[];
  /** Why this run did not exercise the bug's path, or undefined when it did. */
  precondition(r: RunResult): string | undefined;
}

const LABS: Record<string, LabSpec> = {
  'zcopy-threshold': {
    configs: [
      { name: 'defaults', params: {} },
      { name: 'lossy link', params: { 'loss-ppm': 5000 } },
    ],
    precondition(r) {
      const zc = r.counters['sendmsgZeroCopy'] ?? 0;
      const copy = r.counters['sendmsgCopy'] ?? 0;
      return zc > 0 && copy > 0 ? undefined : `the run did not mix modes (${zc} MSG_ZEROCOPY and ${copy} copy sendmsg calls)`;
    },
  },
};

const USAGE = `usage:
  npm run lab -- check <id> [--seeds N]   build wasm/ as it is now and check the bug is gone
  npm run lab -- run <id> [--seed N] [--<knob> V ...]   one run of that build, beside the reference fix
  npm run lab -- check <id> --show-fix    print the reference fix from spdk-patches/
labs: ${Object.keys(LABS).join(', ')}`;

const root = packageRoot();
const scratch = join(root, 'build/lab/tree');
const say = (s: string): void => void process.stderr.write(`lab: ${s}\n`);

function labFor(id: string): { scenario: Scenario; lab: LabSpec } {
  const scenario = findScenario(id);
  const lab = LABS[id];
  if (lab === undefined) throw new UsageError(`no lab for ${id} yet (labs: ${Object.keys(LABS).join(', ')})`);
  return { scenario, lab };
}

/** The patches of spdk-patches/series whose header names this replay. */
function referenceFix(id: string): string {
  const dir = join(root, 'spdk-patches');
  const names = readFileSync(join(dir, 'series'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const texts = names.map((n) => ({ n, text: readFileSync(join(dir, n), 'utf8') })).filter((p) => new RegExp(`^Replay:\\s+${id}\\s*$`, 'm').test(p.text));
  if (texts.length === 0) throw new UsageError(`spdk-patches/series has no patch whose header says "Replay: ${id}"`);
  return texts.map((p) => `=== spdk-patches/${p.n}\n${p.text}`).join('\n');
}

const SCRATCH_SKIP = new Set(['.git', 'node_modules', 'build', 'dist', 'spdk-patches', 'package-lock.json']);

/** Builds wasm/ of the working tree with build.sh in a scratch copy whose patch series is empty. */
function buildWorkingTree(): string {
  // Everything build.sh reads, as it is now; not the outputs, not the patches. No package-lock.json
  // either, so build.sh never runs npm in the shared node_modules.
  for (const entry of readdirSync(root)) {
    if (SCRATCH_SKIP.has(entry)) continue;
    rmSync(join(scratch, entry), { recursive: true, force: true });
    cpSync(join(root, entry), join(scratch, entry), { recursive: true });
  }
  mkdirSync(join(scratch, 'spdk-patches'), { recursive: true });
  writeFileSync(join(scratch, 'spdk-patches/series'), '# lab: the working tree of wasm/ only\n');
  if (!existsSync(join(scratch, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  say('building your wasm/ (build/lab/tree) ...');
  const r = spawnSync('bash', [join(scratch, 'build.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new LabFailure('your wasm/ does not build (compiler output above)');
  return join(scratch, variantDir('unpatched', 'release'));
}

class LabFailure extends Error {}

async function loadBuilt(dir: string): Promise<LoadedVariant> {
  const bytes = readFileSync(join(dir, 'spdk.wasm'));
  const module = await WebAssembly.compile(bytes);
  const glue = (await import(pathToFileURL(join(dir, 'spdk.mjs')).href)) as { default: EmscriptenFactory };
  const buildId = readFileSync(join(dir, 'build.id'), 'utf8').trim();
  return { variant: 'unpatched', flavor: 'release', buildId, module, factory: glue.default, wasmBytes: bytes.length };
}

function runOn(v: LoadedVariant, scenario: Scenario, seed: number, params: Record<string, ParamValue>): Promise<RunResult> {
  return scenario.run({ variant: 'unpatched', flavor: 'release', seed, params, load: async () => v });
}

function labCommand(id: string, seed: number, raw: Record<string, string | number>): string {
  return `npm run lab -- run ${id} --seed ${seed}${Object.entries(raw).map(([k, v]) => ` --${k} ${v}`).join('')}`;
}

async function check(id: string, seeds: number): Promise<number> {
  const { scenario, lab } = labFor(id);
  const v = await loadBuilt(buildWorkingTree());
  const failures: { r: RunResult; why: string; cmd: string }[] = [];
  let runs = 0;
  for (const c of lab.configs) {
    const params = resolveParams(scenario, c.params);
    for (let seed = 1; seed <= seeds; seed++) {
      const r = await runOn(v, scenario, seed, params);
      runs++;
      const missing = lab.precondition(r);
      const why = r.reproduced ? `REPRODUCED (${r.oracle}): ${r.summary}` : missing;
      if (why !== undefined) failures.push({ r, why, cmd: labCommand(id, seed, c.params) });
    }
    say(`${c.name}: ${seeds} seeds done`);
  }
  if (failures.length === 0) {
    console.log(`PASS ${id}: ${runs} runs (${lab.configs.map((c) => c.name).join(', ')}; seeds 1..${seeds}) of your wasm/ are clean, and every run took the bug's path.`);
    return 0;
  }
  console.log(`FAIL ${id}: ${failures.length} of ${runs} runs of your wasm/ are not clean.`);
  for (const f of failures.slice(0, 3)) {
    console.log(`\n  seed ${f.r.seed}: ${f.why}`);
    const lines = Array.isArray(f.r.evidence['lines']) ? (f.r.evidence['lines'] as unknown[]).map(String) : [];
    for (const l of lines.slice(0, 8)) console.log(`    ${l}`);
    console.log(`  replay: ${f.cmd}`);
  }
  if (failures.length > 3) console.log(`\n  ... and ${failures.length - 3} more`);
  console.log(`\nThe reference fix: npm run lab -- check ${id} --show-fix`);
  return 1;
}

async function runOne(id: string, seed: number, raw: Record<string, string>): Promise<number> {
  const { scenario } = labFor(id);
  const params = resolveParams(scenario, raw);
  const mine = await runOn(await loadBuilt(buildWorkingTree()), scenario, seed, params);
  const { loadVariant } = await import('./spdk/node-loader.js');
  const reference = await scenario.run({ variant: 'patched', flavor: 'release', seed, params, load: loadVariant }).catch(() => undefined);
  console.log('left: your wasm/ (built in build/lab/tree); right: the reference fix (wasm/ + spdk-patches, from build/wasm)\n');
  console.log(sideBySide(reference === undefined ? [mine] : [mine, reference]));
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, id, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help') {
    console.log(USAGE);
    return 0;
  }
  if (id === undefined) throw new UsageError(`${cmd} needs a replay id`);
  const flags = new Map<string, string>();
  let showFix = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--show-fix') showFix = true;
    else if (a.startsWith('--') && rest[i + 1] !== undefined) flags.set(a.slice(2), rest[++i]!);
    else throw new UsageError(`unexpected argument "${a}"`);
  }
  if (cmd === 'check') {
    labFor(id);
    if (showFix) {
      console.log(referenceFix(id));
      return 0;
    }
    const raw = flags.get('seeds') ?? '20';
    flags.delete('seeds');
    if (flags.size > 0) throw new UsageError(`unknown flag --${[...flags.keys()][0]} for check`);
    const seeds = Number(raw);
    if (!/^\d+$/.test(raw) || seeds < 1 || seeds > 1000) throw new UsageError(`--seeds must be an integer in 1..1000, got "${raw}"`);
    return check(id, seeds);
  }
  if (cmd === 'run') {
    const seed = parseSeed(flags.get('seed') ?? '1');
    flags.delete('seed');
    return runOne(id, seed, Object.fromEntries(flags));
  }
  throw new UsageError(`unknown command "${cmd}"\n${USAGE}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof LabFailure) {
      console.error(`${err instanceof LabFailure ? 'FAIL' : 'lab'}: ${err.message}`);
      process.exit(err instanceof LabFailure ? 1 : 2);
    }
    throw err;
  },
);
