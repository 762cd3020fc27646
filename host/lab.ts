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
import { paramHelp } from './scenarios/param-help.js';
import { parseSeed, resolveParams, UsageError } from './scenarios/params.js';
import { packageRoot } from './spdk/node-loader.js';
import { variantDir, type EmscriptenFactory, type LoadedVariant } from './spdk/variant.js';

/** What a lab checks beyond "not reproduced": the knob sets to try and the precondition of the bug. */
interface LabSpec {
  /** Knob sets, each run over every seed (defaults first). */
  configs: { name: string; params: Record<string, string | number> }[];
  /** Trace events counted during each run, as "machine:event" (the precondition may read them). */
  events?: readonly string[];
  /** Why this run did not exercise the bug's path, or undefined when it did. */
  precondition(r: RunResult, events: ReadonlyMap<string, number>): string | undefined;
  /** What a run the replay's oracle calls clean must still show, or undefined when it does. */
  stillBroken?(r: RunResult): string | undefined;
  /** The reference fix when it is configuration rather than a patch in spdk-patches/. */
  showFix?(): string;
}

/** The counters of one per-disk family ("allocated./dev/sda", ...) as [disk, value] pairs. */
function perDisk(r: RunResult, family: string): [string, number][] {
  return Object.entries(r.counters).filter(([k]) => k.startsWith(`${family}.`)).map(([k, v]) => [k.slice(family.length + 1), v]);
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
  'tcp-zcopy-disconnect': {
    configs: [
      { name: 'defaults', params: {} },
      { name: 'deep queue, slow link', params: { 'queue-depth': 32, 'latency-us': 500 } },
    ],
    events: ['target:spdk_bdev_zcopy_start', 'target:nvmf_tcp_req_delay_completion', 'target:nvmf_ctrlr_keep_alive_poll', 'target:tcp.abort'],
    precondition(r, ev) {
      const ack = r.counters['ackTimeoutMs'] ?? -1;
      if (ack !== 0) return `nvmf_create_transport was given ack_timeout ${ack} ms; the lab runs the seed's configuration (0) so the fix has to be in the target`;
      if ((r.counters['cutAtUs'] ?? -1) < 0) return 'the link never went down while a C2HData PDU was in flight (pdu_in_use)';
      const zc = ev.get('target:spdk_bdev_zcopy_start') ?? 0;
      return zc > 0 ? undefined : 'the target served no READ through bdev zcopy (spdk_bdev_zcopy_start never ran): zcopy is off, so the run proves nothing';
    },
    stillBroken(r) {
      const q = r.counters['qpairs'] ?? 0;
      const c = r.counters['controllers'] ?? 0;
      const after = ((r.simulatedUs - (r.counters['cutAtUs'] ?? 0)) / 1e6).toFixed(1);
      return q === 0 && c === 0 ? undefined : `${q} qpair(s) and ${c} controller(s) still exist ${after} s after the link went down (nothing released them)`;
    },
    showFix: tcpZcopyDisconnectFix,
  },
  'sparse-backing-image': {
    configs: [
      { name: 'defaults', params: {} },
      { name: 'RAID1 of two replicas (#10135)', params: { replicas: 2 } },
    ],
    precondition(r) {
      const c = r.counters;
      if ((c['chunksSkipped'] ?? 0) === 0) return 'the copy skipped no zero chunk (not a sparse copy)';
      const perCluster = (c['imageChunks'] ?? 0) / Math.max(1, c['clustersTotal'] ?? 1);
      if ((c['dataChunks'] ?? 0) >= (c['clustersWithData'] ?? 0) * perCluster) return 'no written cluster mixes data with skipped zero blocks';
      const clean = perDisk(r, 'unmapIgnoredBytes').filter(([, v]) => v === 0).map(([d]) => d);
      if (clean.length > 0) return `the disk ${clean.join(', ')} held no stale bytes (no ignored unmap of a deleted lvol)`;
      if ((c['writebackPages'] ?? 0) === 0 || (c['droppedPages'] ?? 0) === 0) return 'the page cache did not write back and drop at the last close';
      return undefined;
    },
    stillBroken(r) {
      const want = r.counters['expectedAllocated'] ?? -1;
      const off = perDisk(r, 'allocated').filter(([, v]) => v !== want);
      return off.length === 0 ? undefined
        : `not sparse: num_allocated_clusters ${off.map(([d, v]) => `${v} on ${d}`).join(', ')}, want ${want} (only clusters the copy writes may be allocated)`;
    },
  },
};

/** tcp-zcopy-disconnect has no patch: upstream's answer is a transport option. Where it lives, from the tree. */
function tcpZcopyDisconnectFix(): string {
  /** The line of `file` matching `pattern`, with `before` and `after` lines around it, numbered. */
  const at = (file: string, pattern: RegExp, before = 0, after = 0): string => {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    const i = lines.findIndex((l) => pattern.test(l));
    if (i < 0) return `  ${file}: (${pattern.source} not found)`;
    const from = Math.max(0, i - before);
    return lines.slice(from, i + 1 + after).map((l, k) => `  ${file}:${from + k + 1}: ${l}`).join('\n');
  };
  return [
    '=== the reference fix of tcp-zcopy-disconnect is configuration (SPDK 79606bee4c "nvmf: introduce ack_timeout", v24.05; spdk#3309)',
    '',
    'Upstream did not change the request state machine. It added a transport option, and the mitigation is to set it:',
    '',
    '  scripts/rpc.py nvmf_create_transport -t tcp --zcopy --ack-timeout 5000',
    '  (JSON-RPC: "nvmf_create_transport" {"trtype": "TCP", "zcopy": true, "ack_timeout": 5000})',
    '',
    'ack_timeout is in milliseconds (default 0 = off). nvmf_tcp_listen copies it into spdk_sock_opts.ack_timeout of the',
    'listen socket; the sock layer sets TCP_USER_TIMEOUT from it, and accepted sockets inherit it (Linux dca43c75e7e5).',
    'The kernel then fails a connection whose data stays unacknowledged for that long: ETIMEDOUT, write queue purged,',
    'zero-copy pages released, so _req_pdu_write_done finally runs for the requests delayed in TCP_REQ_COMPLETED.',
    'Without it, only tcp_retries2 (15, about 924.6 s) ends the connection.',
    '',
    'Where the patched variant applies it (docs/architecture.md: a fix made in configuration is selected by the variant, the C is the same):',
    at('host/scenarios/tcp-zcopy-disconnect.ts', /const ackTimeout = opts\.variant === 'patched'/, 1),
    at('host/scenarios/tcp-zcopy-disconnect.ts', /spdk_wasm_nvmf_create_transport\(/),
    at('wasm/api/spdk_wasm_nvmf.c', /opts\.ack_timeout = ack_timeout_ms/),
    at('wasm/lib/nvmf/tcp.c', /opts\.ack_timeout = transport->opts\.ack_timeout/, 1, 1),
    at('wasm/lib/sock/sock.c', /setsockopt\(fd, IPPROTO_TCP, TCP_USER_TIMEOUT/, 3),
    at('host/kernel/tcp-output.ts', /s\.abort\(abi\.ETIMEDOUT, s\.userTimeoutMs/, 2),
    '',
    'Try it: npx spdk-wasm run tcp-zcopy-disconnect --variant patched --ack-timeout-ms 5000',
    'The lab itself runs with ack_timeout 0 (the seed\'s configuration), so `check` passes only when the target\'s code',
    'releases the requests on its own: see docs/labs/tcp-zcopy-disconnect.md, section 3.',
  ].join('\n');
}

const USAGE = `usage:
  npm run lab -- check <id> [--seeds N]   build wasm/ as it is now and check the bug is gone
  npm run lab -- run <id> [--seed N] [--<knob> V ...]   one run of that build, beside the reference fix
  npm run lab -- check <id> --show-fix    print the reference fix (spdk-patches/, or the configuration)
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

/** One run of the built tree, counting the trace events the lab's precondition reads. */
async function runCounting(v: LoadedVariant, scenario: Scenario, lab: LabSpec, seed: number, params: Record<string, ParamValue>): Promise<{ r: RunResult; events: Map<string, number> }> {
  const events = new Map<string, number>();
  if (lab.events === undefined || lab.events.length === 0) return { r: await runOn(v, scenario, seed, params), events };
  const wanted = new Set(lab.events);
  const session = await scenario.start({ variant: 'unpatched', flavor: 'release', seed, params, load: async () => v });
  const stop = session.world.trace.subscribe((e) => {
    const k = `${e.m}:${e.ev}`;
    if (wanted.has(k)) events.set(k, (events.get(k) ?? 0) + 1);
  });
  try {
    session.advance(Infinity);
  } finally {
    stop();
  }
  return { r: session.result(), events };
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
      const { r, events } = await runCounting(v, scenario, lab, seed, params);
      runs++;
      const why = r.verdict === 'reproduced' ? `REPRODUCED (${r.oracle}): ${r.summary}`
        : r.verdict === 'inconclusive' ? `INCONCLUSIVE (not a pass): ${r.summary}`
        : lab.stillBroken?.(r) ?? lab.precondition(r, events);
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

/** `check|run [<id>] --help` (or -h): that command's usage; for `run <id>`, the replay's knobs too. */
function commandHelp(cmd: string, rest: string[]): string {
  const lines = USAGE.split('\n');
  const usage = ['usage:', ...lines.filter((l) => l.startsWith(`  npm run lab -- ${cmd} `)), lines[lines.length - 1]!];
  if (usage.length === 2) throw new UsageError(`unknown command "${cmd}"\n${USAGE}`);
  const id = rest.find((a) => !a.startsWith('-'));
  if (id === undefined) return usage.join('\n');
  const { scenario } = labFor(id);
  if (cmd === 'check') return [...usage, `${id}: ${scenario.title}`, `the bug: ${scenario.bugDoc}; the lab: docs/labs/${id}.md`].join('\n');
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
      const spec = LABS[id]!;
      console.log(spec.showFix !== undefined ? spec.showFix() : referenceFix(id));
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
