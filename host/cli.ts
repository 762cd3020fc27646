#!/usr/bin/env node
/** Node-only entry: `spdk-wasm list | run <id> [...] | all`. */
import { appendFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { PcapRecorder } from './net/pcap.js';
import { sideBySide, summaryTable } from './report.js';
import type { RunResult, Scenario, Verdict } from './scenarios/contract.js';
const VERDICTS: readonly Verdict[] = ['reproduced', 'clean', 'inconclusive'];
import { findScenario, SCENARIOS } from './scenarios/index.js';
import { paramHelp } from './scenarios/param-help.js';
import { parseSeed, resolveParams, UsageError } from './scenarios/params.js';
import { loadVariant } from './spdk/node-loader.js';
import { mergeCommand, sweepCommand } from './sweep/command.node.js';
import { fuzzCommand } from './fuzz/command.node.js';
import { isFlavor, isVariant, VARIANTS, type Flavor, type Variant } from './spdk/variant.js';

const USAGE = `usage:
  spdk-wasm list
  spdk-wasm run <scenario> [--variant unpatched|patched] [--flavor release|asan] [--seed N]
                [--json] [--trace FILE] [--pcap FILE] [--expect reproduced|clean|inconclusive] [--<param> VALUE ...]
  spdk-wasm all [--seed N] [--json]
  spdk-wasm sweep <scenario|all> [--seeds 1..100] [--param NAME=V1,V2 ...] [--workers N] [--out FILE] ...
  spdk-wasm merge FILE...            (spdk-wasm sweep --help for the sweep flags)
  spdk-wasm fuzz [--cases N] [--flavor release|asan] [--workers N] | fuzz --replay FLAVOR/SEED/INDEX
Without --variant, run executes both variants and prints them side by side.
--pcap FILE writes the emulated wire as a pcap file (Ethernet/IPv4/TCP; open it in Wireshark or
tshark). With both variants it writes one file each, the variant before the extension:
x.pcap -> x.unpatched.pcap and x.patched.pcap.
Exit status: 0 when every run reached a verdict (reproduced or clean), 4 when a run was
inconclusive (it ended before it could show the bug either way; the summary says what was
missing), 1 when --expect differs, 2 for bad usage, 3 when a run failed.`;

interface Args {
  cmd: string;
  positional: string[];
  flags: Map<string, string | true>;
}

const BOOLEAN_FLAGS = new Set(['json', 'help']);

function parseArgs(argv: string[]): Args {
  const [cmd = 'help', ...rest] = argv;
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (eq >= 0) flags.set(name, a.slice(eq + 1));
    else if (BOOLEAN_FLAGS.has(name)) flags.set(name, true);
    else {
      const v = rest[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      flags.set(name, v);
      i++;
    }
  }
  return { cmd, positional, flags };
}

function takeString(flags: Map<string, string | true>, name: string): string | undefined {
  const v = flags.get(name);
  flags.delete(name);
  return v === true ? undefined : v;
}

/** Exits 2 (bad usage) before any run when `file` cannot be written; leaves it empty. */
function mustWrite(flag: string, file: string): void {
  try {
    writeFileSync(file, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new UsageError(`--${flag}: cannot write "${file}" (${code})`);
  }
}

/** `x.pcap` -> `x.<variant>.pcap` (the variant goes before the extension, if any). */
function pcapPathFor(file: string, variant: Variant): string {
  const ext = extname(basename(file));
  const stem = basename(file, ext);
  return join(dirname(file), `${stem}.${variant}${ext}`);
}

async function runOne(s: Scenario, variant: Variant, flavor: Flavor, seed: number, params: Record<string, string>, traceFile?: string, pcapFile?: string): Promise<RunResult> {
  let pcap: PcapRecorder | undefined;
  const result = await s.run({
    variant,
    flavor,
    seed,
    params: resolveParams(s, params),
    load: loadVariant,
    onWorld: traceFile === undefined ? undefined : (world) => {
      world.trace.subscribe((e) => appendFileSync(traceFile, JSON.stringify({ variant, ...e }) + '\n'));
    },
    onFabric: pcapFile === undefined ? undefined : (fabric) => {
      pcap = new PcapRecorder(fabric);
    },
  });
  if (pcapFile !== undefined) {
    if (pcap === undefined) throw new Error(`scenario ${s.id} built no network fabric; nothing to write to ${pcapFile}`);
    writeFileSync(pcapFile, pcap.stop());
    process.stderr.write(`spdk-wasm: wrote ${pcap.frames} frames (${variant}) to ${pcapFile}\n`);
  }
  return result;
}

async function cmdRun(a: Args): Promise<number> {
  const id = a.positional[0];
  if (id === undefined) throw new UsageError('run needs a scenario id; see: spdk-wasm list');
  if (a.positional.length > 1) throw new UsageError(`unexpected argument "${a.positional[1]}"`);
  const s = findScenario(id);
  const json = a.flags.delete('json');
  const variantArg = takeString(a.flags, 'variant');
  const flavorArg = takeString(a.flags, 'flavor') ?? 'release';
  const seed = parseSeed(takeString(a.flags, 'seed') ?? '1');
  const trace = takeString(a.flags, 'trace');
  const pcapArg = takeString(a.flags, 'pcap');
  const expect = takeString(a.flags, 'expect');
  if (variantArg !== undefined && !isVariant(variantArg)) throw new UsageError(`--variant must be unpatched or patched, got "${variantArg}"`);
  if (!isFlavor(flavorArg)) throw new UsageError(`--flavor must be release or asan, got "${flavorArg}"`);
  if (expect !== undefined && !VERDICTS.includes(expect as Verdict)) throw new UsageError(`--expect must be reproduced, clean or inconclusive, got "${expect}"`);
  const params: Record<string, string> = {};
  for (const [k, v] of a.flags) {
    if (v === true) throw new UsageError(`unknown flag --${k}`);
    params[k] = v;
  }
  resolveParams(s, params); // reject bad parameters before any work
  if (trace !== undefined) mustWrite('trace', trace);
  const variants: Variant[] = variantArg !== undefined ? [variantArg] : [...VARIANTS];
  const results: RunResult[] = [];
  const pcapFile = (v: Variant): string | undefined => pcapArg === undefined ? undefined : variants.length > 1 ? pcapPathFor(pcapArg, v) : pcapArg;
  for (const v of variants) if (pcapArg !== undefined) mustWrite('pcap', pcapFile(v)!);
  for (const v of variants) results.push(await runOne(s, v, flavorArg, seed, params, trace, pcapFile(v)));
  if (json) for (const r of results) console.log(JSON.stringify(r));
  else console.log(sideBySide(results));
  if (expect !== undefined) {
    const wrong = results.filter((r) => r.verdict !== expect);
    if (wrong.length > 0) {
      for (const r of wrong) console.error(`spdk-wasm: expected ${expect}, ${r.variant} was ${r.verdict}; replay: ${r.replay}`);
      return 1;
    }
    return 0;
  }
  return inconclusiveExit(results);
}

/** Exit 4 with a line per inconclusive run: it is neither a reproduction nor a clean run. */
function inconclusiveExit(results: RunResult[]): number {
  const open = results.filter((r) => r.verdict === 'inconclusive');
  for (const r of open) console.error(`spdk-wasm: ${r.scenario} ${r.variant} seed ${r.seed} is inconclusive: ${String(r.evidence['missing'] ?? r.summary)}`);
  return open.length > 0 ? 4 : 0;
}

async function cmdAll(a: Args): Promise<number> {
  const json = a.flags.delete('json');
  const seed = parseSeed(takeString(a.flags, 'seed') ?? '1');
  for (const k of a.flags.keys()) throw new UsageError(`unknown flag --${k} for all`);
  const results: RunResult[] = [];
  for (const s of SCENARIOS) {
    for (const v of VARIANTS) {
      if (!json) process.stderr.write(`running ${s.id} (${v}, seed ${seed}) ...\n`);
      results.push(await runOne(s, v, 'release', seed, {}));
    }
  }
  if (json) for (const r of results) console.log(JSON.stringify(r));
  else {
    console.log('');
    for (const s of SCENARIOS) {
      console.log(sideBySide(results.filter((r) => r.scenario === s.id)));
      console.log('');
    }
    console.log(summaryTable(results));
  }
  return inconclusiveExit(results);
}

function cmdList(): number {
  for (const s of SCENARIOS) {
    console.log(`${s.id}  ${s.title}`);
    console.log(`    bug ${s.bugDoc}; oracle ${s.oracle}; fix ${s.fix}`);
    for (const line of paramHelp(s)) console.log(`    ${line}`);
  }
  return 0;
}

/** Usage of one command, for `<command> --help` or `-h` anywhere after it. */
const COMMAND_USAGE: Record<string, string> = {
  list: 'usage: spdk-wasm list\nEvery replay: its title, bug write-up (docs/bugs/), oracle, fix, and parameters with defaults and ranges.',
  run: `${USAGE}\nspdk-wasm run <scenario> --help lists that replay's parameters with their defaults and ranges.`,
  all: 'usage: spdk-wasm all [--seed N] [--json]\nRuns every replay, unpatched and patched, and prints them side by side, then the summary table.',
};

/** The help `argv` asks for after a command, or undefined when it asks for none. */
function commandHelp(argv: string[]): string | undefined {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || !rest.some((a) => a === '--help' || a === '-h')) return undefined;
  const usage = COMMAND_USAGE[cmd];
  if (usage === undefined) throw new UsageError(`unknown command "${cmd}"`);
  const id = cmd === 'run' ? rest.find((a) => !a.startsWith('-')) : undefined;
  if (id === undefined) return usage;
  const s = findScenario(id);
  return [`usage: spdk-wasm run ${s.id} [--variant unpatched|patched] [--seed N] [--json] ... [--<param> VALUE ...]`,
    s.title, `bug: ${s.bugDoc}; oracle ${s.oracle}; fix ${s.fix}`, 'parameters:', ...paramHelp(s).map((l) => `  ${l}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  try {
    // sweep and merge take repeated flags (--param) and file lists: they parse their own arguments.
    if (argv[0] === 'sweep') return await sweepCommand(argv.slice(1));
    if (argv[0] === 'merge') return mergeCommand(argv.slice(1));
    if (argv[0] === 'fuzz') return await fuzzCommand(argv.slice(1));
    const help = commandHelp(argv);
    if (help !== undefined) {
      console.log(help);
      return 0;
    }
    const a = parseArgs(argv);
    switch (a.cmd) {
      case 'list':
        return cmdList();
      case 'run':
        return await cmdRun(a);
      case 'all':
        return await cmdAll(a);
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return 0;
      default:
        throw new UsageError(`unknown command "${a.cmd}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`spdk-wasm: ${err.message}`);
      console.error('try: spdk-wasm help');
      return 2;
    }
    console.error(`spdk-wasm: ${err instanceof Error ? err.message : String(err)}`);
    return 3;
  }
}

process.exitCode = await main(process.argv.slice(2));
