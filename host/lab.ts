#!/usr/bin/env node
/**
 * Node-only entry of the labs (docs/labs/): `npm run lab -- check <id>` builds HEAD with only the
 * lab's student files (docs/labs/student-files.txt) taken from the work tree, reports the other
 * changes it ignored, and grades the build over the lab's configurations and seeds (host/lab/).
 */
import { sideBySide } from './report.js';
import { check, formatReport, labCommand, labSpec, referenceBuild, runLab } from './lab/grade.node.js';
import { showFix } from './lab/show-fix.node.js';
import { LABS, type LabSpec } from './lab/specs.js';
import { patchSide, prepareTree, studentFiles, workTreeSide } from './lab/tree.node.js';
import { compileTree, CompileError } from './lab/compile.node.js';
import { findScenario } from './scenarios/index.js';
import { paramHelp } from './scenarios/param-help.js';
import { parseSeed, resolveParams, UsageError } from './scenarios/params.js';
import { loadVariantDir, packageRoot } from './spdk/node-loader.js';
import { isFlavor } from './spdk/variant.js';
import { join, resolve } from 'node:path';

const USAGE = `usage:
  npm run lab -- check <id> [--seeds N] [--verbose] [--json]   grade your fix (the lab's files of your work tree on HEAD)
  npm run lab -- check <id> --patch FILE [...]                 grade HEAD with a patch instead (a submission; test/labs/)
  npm run lab -- check <id> --show-fix                         print the reference fix (spdk-patches/, or the configuration)
  npm run lab -- run <id> [--seed N] [--flavor asan] [--<knob> V ...]   one run of your build beside the reference fix
  npm run lab -- parts <id>                                    the lab's parts, the files you may change, what you learn
  npm run lab -- hint <id> <n>                                 hint n (1, 2, ...) of the lab
labs: ${Object.keys(LABS).join(', ')}`;

const root = packageRoot();
const say = (s: string): void => void process.stderr.write(`lab: ${s}\n`);

function labFor(id: string): LabSpec {
  findScenario(id);
  const lab = labSpec(id);
  if (lab === undefined) throw new UsageError(`no lab for ${id} yet (labs: ${Object.keys(LABS).join(', ')})`);
  return lab;
}

function parts(spec: LabSpec): string {
  const files = studentFileList(spec.id);
  return [
    `${spec.id}: docs/labs/${spec.id}.md`,
    '',
    ...spec.parts.map((p, i) => `part ${i + 1}, ${p.title}: ${p.text}`),
    '',
    `the files you may change (everything else is built from HEAD): ${files.join(', ')}`,
    `hints: npm run lab -- hint ${spec.id} 1 .. ${spec.hints.length}`,
    '',
    'what you learn:',
    ...spec.learned.map((l) => `  ${l}`),
  ].join('\n');
}

/** The lab's student files, as docs/labs/student-files.txt names them. */
function studentFileList(id: string): string[] {
  return studentFiles(root, id).map((f) => (f.fn === undefined ? f.path : `${f.path} (function ${f.fn})`));
}

async function runOne(id: string, seed: number, raw: Record<string, string>, flavorRaw: string): Promise<number> {
  const spec = labFor(id);
  if (!isFlavor(flavorRaw)) throw new UsageError(`--flavor must be release or asan, got "${flavorRaw}"`);
  const scenario = findScenario(id);
  const params = resolveParams(scenario, raw);
  const tree = prepareTree(root, id, workTreeSide(root));
  say(`building your files (${tree.taken.length > 0 ? tree.taken.join(', ') : 'none changed'}) on HEAD ...`);
  const c = await compileTree(root, tree.dir, join(root, 'build/lab', id, 'out', flavorRaw), flavorRaw);
  const mine = await runLab(scenario, spec, await loadVariantDir(c.dir, 'unpatched', flavorRaw), 'unpatched', seed, params);
  const ref = await referenceBuild(root, id);
  const theirs = await runLab(scenario, spec, ref.v, ref.variant, seed, params);
  console.log(`left (unpatched): your build, build/lab/${id}; right (patched): the reference fix, build/lab/${id}-reference\n`);
  // Columns are named by variant: yours is built as the unpatched one, the reference as patched.
  console.log(sideBySide([{ ...mine.r, variant: 'unpatched' }, { ...theirs.r, variant: 'patched' }]));
  const problems = spec.problems({ r: mine.r, events: mine.events, config: { name: 'this run', params: raw, kind: 'bug', seeds: 1 } });
  if (problems.length > 0) console.log(`\nthe lab's checks on your run:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  console.log(`\nreplay: ${labCommand(id, seed, raw, flavorRaw)}`);
  return 0;
}

/** `<cmd> [<id>] --help`: that command's usage; for `run <id>`, the replay's knobs too. */
function commandHelp(cmd: string, rest: string[]): string {
  const all = USAGE.split('\n');
  const usage = ['usage:', ...all.filter((l) => l.startsWith(`  npm run lab -- ${cmd} `)), all[all.length - 1]!];
  if (usage.length === 2) throw new UsageError(`unknown command "${cmd}"\n${USAGE}`);
  const id = rest.find((a) => !a.startsWith('-'));
  if (id === undefined) return usage.join('\n');
  const scenario = findScenario(id);
  labFor(id);
  if (cmd !== 'run') return [...usage, `${id}: ${scenario.title}`, `the bug: ${scenario.bugDoc}; the lab: docs/labs/${id}.md`].join('\n');
  return [...usage, `knobs of ${id} (the replay's parameters):`, ...paramHelp(scenario).map((l) => `  ${l}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [cmd, id, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    console.log(USAGE);
    return 0;
  }
  if (argv.slice(1).some((a) => a === '--help' || a === '-h')) {
    console.log(commandHelp(cmd, argv.slice(1)));
    return 0;
  }
  if (!['check', 'run', 'parts', 'hint'].includes(cmd)) throw new UsageError(`unknown command "${cmd}"\n${USAGE}`);
  if (id === undefined) throw new UsageError(`${cmd} needs a lab id (labs: ${Object.keys(LABS).join(', ')})`);
  const spec = labFor(id);
  if (cmd === 'parts') {
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    console.log(parts(spec));
    return 0;
  }
  if (cmd === 'hint') {
    const raw = rest[0];
    if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > spec.hints.length) {
      throw new UsageError(`hint needs a number in 1..${spec.hints.length}, got ${raw === undefined ? 'none' : `"${raw}"`}`);
    }
    const k = Number(raw);
    console.log(`hint ${k} of ${spec.hints.length} (${id}): ${spec.hints[k - 1]}`);
    if (k < spec.hints.length) console.log(`next: npm run lab -- hint ${id} ${k + 1}`);
    return 0;
  }
  const flags = new Map<string, string>();
  const bools = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--show-fix' || a === '--verbose' || a === '--json') bools.add(a.slice(2));
    else if (a.startsWith('--') && rest[i + 1] !== undefined) flags.set(a.slice(2), rest[++i]!);
    else throw new UsageError(`unexpected argument "${a}"`);
  }
  if (cmd === 'check') {
    if (bools.has('show-fix')) {
      console.log(showFix(root, id));
      return 0;
    }
    const raw = flags.get('seeds') ?? '20';
    flags.delete('seeds');
    const patch = flags.get('patch');
    flags.delete('patch');
    if (flags.size > 0) throw new UsageError(`unknown flag --${[...flags.keys()][0]} for check`);
    const seeds = Number(raw);
    if (!/^\d+$/.test(raw) || seeds < 1 || seeds > 1000) throw new UsageError(`--seeds must be an integer in 1..1000, got "${raw}"`);
    const json = bools.has('json');
    const side = patch === undefined ? workTreeSide(root) : patchSide(root, resolve(patch));
    const rep = await check(root, id, side, { seeds, log: json ? undefined : say });
    if (json) console.log(JSON.stringify({ ...rep, learned: rep.pass ? spec.learned : undefined }, null, 2));
    else {
      console.log(formatReport(rep, bools.has('verbose')));
      if (rep.pass) console.log(['', 'what you learned:', ...spec.learned.map((l) => `  ${l}`)].join('\n'));
    }
    return rep.pass ? 0 : 1;
  }
  if (bools.size > 0) throw new UsageError(`--${[...bools][0]} is for check`);
  const seed = parseSeed(flags.get('seed') ?? '1');
  flags.delete('seed');
  const flavor = flags.get('flavor') ?? 'release';
  flags.delete('flavor');
  return runOne(id, seed, Object.fromEntries(flags), flavor);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`lab: ${err.message}`);
      process.exit(2);
    }
    if (err instanceof CompileError) {
      console.error(`FAIL: ${err.message}\n${err.log}`);
      process.exit(1);
    }
    // No git checkout, a patch that does not apply, ...: one line, not a stack.
    console.error(`lab: error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(3);
  },
);
