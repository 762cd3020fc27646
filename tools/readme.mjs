#!/usr/bin/env node
// `npm run readme`: regenerates the marked blocks of README.md from what the code produces, so no
// hash, build id or figure in it can go stale:
//   <!-- generated:npm-start -->  the output of `spdk-wasm all` (what `npm start` prints), run now
//   <!-- generated:bench -->      the bench table, from bench/results.json (`npm run bench -- --save`)
//   <!-- generated:claims -->     the claims backed by sweeps, from bench/claims.json
//                                 (`node dist/bench/claims.js --save`)
// each closed by <!-- /generated -->. `--check` writes nothing and exits 1 when README.md differs.
// Needs the build (build.sh) for the CLI run; test/node/docs/readme.test.ts runs the same check.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = join(ROOT, 'README.md');
const RESULTS = join(ROOT, 'bench', 'results.json');
const CLAIMS = join(ROOT, 'bench', 'claims.json');

/** Runs `spdk-wasm all` as `npm start` does and returns its stdout. */
export function runAll() {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/host/cli.js'), 'all'], { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`spdk-wasm all failed (status ${r.status}); run bash build.sh first\n${r.stderr}`);
  return r.stdout;
}

/** The first replay's block and the summary table of `all`'s output; the other blocks are named. */
export function npmStartBlock(stdout) {
  const lines = stdout.replace(/^\n+/, '').replace(/\n+$/, '').split('\n');
  const starts = lines.flatMap((l, i) => (/^\S+ {2}seed \d+ {2}build /.test(l) ? [i] : []));
  const table = lines.findIndex((l) => /^scenario\s+variant\s+seed\s+verdict/.test(l));
  if (starts.length === 0 || table < 0) throw new Error('spdk-wasm all printed no replay block or no summary table');
  const first = lines.slice(starts[0], starts[1] ?? table).join('\n').trimEnd();
  const others = starts.slice(1).map((i) => lines[i].split(' ')[0]);
  const elided = others.length > 0 ? `\n\n(${others.join(' and ')}: the same form, each with its own evidence)\n` : '\n';
  return ['```', first + elided, lines.slice(table).join('\n'), '```'].join('\n');
}

/** A value from the results by its keys (bench keys contain dots: "randread4k.qd32"), or undefined. */
function at(obj, ...keys) {
  return keys.reduce((o, k) => (o !== null && typeof o === 'object' ? o[k] : undefined), obj);
}

const num = (x, digits = 0) => (typeof x === 'number' && Number.isFinite(x)
  ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—');
const kb = (bytes, digits = 1) => (typeof bytes === 'number' ? `${num(bytes / 1024, digits)} KB` : '—');
const mib = (bytes) => (typeof bytes === 'number' ? `${num(bytes / (1 << 20))} MiB` : '—');
const ms = (x) => (typeof x === 'number' ? `${num(x, x < 10 ? 1 : 0)} ms` : '—');
const kilo = (x) => (typeof x === 'number' ? `${num(x / 1000, 1)}k` : '—');
const range = (xs, fmt) => {
  const v = xs.filter((x) => typeof x === 'number');
  return v.length === 0 ? '—' : Math.min(...v) === Math.max(...v) ? fmt(v[0]) : `${fmt(Math.min(...v)).replace(/ \w+$/, '')}–${fmt(Math.max(...v))}`;
};
/** "met"/"missed" against a target, or nothing when the figure is missing. */
const target = (text, value, ok) => (typeof value === 'number' ? `${text} (${ok(value) ? 'met' : 'missed'})` : text);

/** The bench table and the line saying where its figures come from. */
export function benchBlock(results) {
  const r = results;
  const mod = (v, k) => at(r, 'modules', v, k);
  const rel = ['unpatched-release', 'patched-release'];
  const asan = ['unpatched-asan', 'patched-asan'];
  const zc = r.zeroCopyDataPath ?? {};
  const nv = (k) => at(r, 'nvme', k, 'simulatedIopsPerWallSecond');
  const runs = (k) => at(r, 'nvme', k, 'runs') ?? [];
  const thin = (k) => at(r, 'blob', 'thinLvol4k.unpatched', k);
  const load = (k) => at(r, 'blob', 'load10kBlobs', k);
  const web = r.web ?? {};
  const pages = Object.keys(web.pages ?? {});
  const page = (id) => at(web, 'pages', id, 'firstStepMs', 'median');
  const relGzip = mod('unpatched-release', 'wasmGzipBytes');
  const ratio = zc.ratio;
  const qd32 = nv('randread4k.qd32');
  const longRun = at(r, 'nvme', 'retries2LongRun', 'wallMs');
  const firstSteps = pages.map(page);
  const rows = [
    ['`.wasm` gzipped, release (every module: sock, nvmf, nvme, bdev, blob, lvol)', `${kb(relGzip)} (${kb(mod('unpatched-release', 'wasmBytes'), 0)} raw)`, target('≤ 300 KB', relGzip, (v) => v <= 300 * 1024)],
    ['`.wasm` gzipped, asan', `${kb(mod('unpatched-asan', 'wasmGzipBytes'), 0)} (${kb(mod('unpatched-asan', 'wasmBytes'), 0)} raw)`, '—'],
    ['JS glue gzipped, release', kb(mod('unpatched-release', 'glueGzipBytes')), '—'],
    ['`WebAssembly.compile`, release (V8 compiles lazily)', range(rel.map((v) => mod(v, 'compileMs')), ms), '—'],
    ['instantiate one machine, release / asan', `${range(rel.map((v) => mod(v, 'instantiateMs')), ms)} / ${range(asan.map((v) => mod(v, 'instantiateMs')), ms)}`, '—'],
    ['zero-copy data path: simulated bytes per wall second', `${num(zc.simulatedBytesPerWallSecond / 1e6)} MB/s (${mib(zc.bytes)} in ${ms(zc.wallMs)})`, '—'],
    ['plain `TypedArray.set` of the same bytes', `${num(zc.typedArrayCopyBytesPerSecond / 1e9, 1)} GB/s`, '—'],
    ['ratio', `**${num(ratio, 4)}**`, target('≥ 0.25', ratio, (v) => v >= 0.25)],
    ['peak linear memory: sender / receiver machine (the receiver keeps every byte to verify)', `${mib(zc.peakMemoryHostBytes)} / ${mib(zc.peakMemoryTargetBytes)}`, '—'],
    [`NVMe/TCP 4 KiB randread, QD 1 / QD 32: simulated IOPS per wall second (median of 5; QD 32 runs ${range(runs('randread4k.qd32'), kilo)})`, `${num(nv('randread4k.qd1'))} / ${num(qd32)}`, target('≥ 200k', qd32, (v) => v >= 200_000)],
    ['NVMe/TCP 128 KiB write, QD 1 / QD 32: simulated IOPS per wall second', `${num(nv('write128k.qd1'))} / ${num(nv('write128k.qd32'))}`, '—'],
    ['`tcp-zcopy-disconnect --long-run`: 924.6 s of virtual time (tcp_retries2)', `${ms(longRun)} wall`, target('< 200 ms', longRun, (v) => v < 200)],
    ['thin lvol 4 KiB random write / overwrite / read, QD 32, in-memory device (IOPS per wall second)', `${kilo(thin('randomWriteIops'))} / ${kilo(thin('randomOverwriteIops'))} / ${kilo(thin('randomReadIops'))}`, '—'],
    ['store of 10,000 blobs: create / clean load / dirty load', `${ms(load('createMs'))} / ${ms(load('cleanLoadMs'))} / ${ms(load('dirtyLoadMs'))}`, '—'],
  ];
  if (web.skipped !== undefined) rows.push(['demo page in Chromium', `skipped: ${web.skipped}`, '—']);
  else {
    rows.push(
      [`demo page: what it loads, gzipped (page + wasm + glue, release; main thread ${kb(web.mainThreadGzipBytes)}, worker ${kb(web.workerGzipBytes)})`, kb(at(web, 'variants', 'unpatched-release', 'totalWithPageGzipBytes'), 0), '—'],
      [`demo page: load to first simulated step in Chromium, median of 5 fresh visits: ${pages.join(' / ')}`, firstSteps.map((x) => ms(x).replace(/ ms$/, '')).join(' / ') + ' ms',
        target('< 300 ms', firstSteps.length > 0 ? Math.max(...firstSteps) : undefined, (v) => v < 300)],
      ['demo worker: simulated µs per wall second, 20 µs slices', num(at(web, 'worker', 'simulatedUsPerWallSecond.slice20us')), '—'],
    );
  }
  const m = r.machine ?? {};
  const loadAvg = typeof m.loadAverage1mAtStart === 'number' ? `, load average ${m.loadAverage1mAtStart} at the start` : '';
  const emcc = typeof r.emcc === 'string' ? `, emscripten ${(/\d+\.\d+\.\d+/.exec(r.emcc) ?? [r.emcc])[0]}` : '';
  const head = `Figures of \`bench/results.json\`: ${String(r.date ?? 'undated').slice(0, 10)}, Node ${r.node ?? '?'}, `
    + `${m.cores ?? '?'}-core ${m.cpu ?? 'unknown CPU'}${emcc}${loadAvg}; ${r.method ?? 'method not recorded'}.`;
  return [head, '', '| figure | value | target |', '|---|---|---|', ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

const pct = (x) => `${(100 * x).toFixed(1)} %`;
const secs = (msv) => (typeof msv === 'number' ? `${(msv / 1000).toFixed(0)} s` : '—');

/** The claims, each with the sweep that backs it and how it was taken. */
export function claimsBlock(c) {
  const sw = c.swarm ?? {};
  const lines = [
    `Taken by \`node dist/bench/claims.js --save\` (\`bench/claims.ts\`) on ${String(c.date ?? 'undated').slice(0, 10)}, Node ${c.node ?? '?'}, `
      + `${c.machine?.cores ?? '?'}-core ${c.machine?.cpu ?? 'unknown CPU'}, ${c.workers ?? '?'} worker threads, builds ${c.build?.unpatched ?? '?'} (unpatched) / ${c.build?.patched ?? '?'} (patched). `
      + 'Each figure is one sweep; the command beside it reruns it. A mismatch, a stuck request and a crash are each a `reproduced` verdict of the safety, liveness and crash oracle.',
    '',
    '| claim | sweep | result |',
    '|---|---|---|',
    `| patched NVMe/TCP verify under swarm faults: 0 data mismatches, 0 stuck, 0 crashes | \`${sw.command}\` | ${sw.seeds} seeds: **${sw.dataMismatches} mismatches, ${sw.stuck} stuck, ${sw.crashes} crashes**, ${sw.errors} errors, ${sw.clean} clean, ${sw.inconclusive} inconclusive; `
      + `${sw.faultsStarted} faults started in ${sw.seedsWithFaultsStarted} seeds, hitting traffic in ${sw.seedsWithTrafficHit} (${sw.framesDropped} frames dropped, ${sw.framesDuplicated} duplicated, ${sw.framesReordered} reordered); ${secs(sw.wallMs)} wall |`,
  ];
  for (const [id, p] of Object.entries(c.patched ?? {})) {
    lines.push(`| \`${id}\` patched: 0 reproduced | \`${p.command}\` | ${p.seeds} seeds: **${p.reproduced} reproduced**, ${p.clean} clean, ${p.inconclusive} inconclusive, ${p.errors} errors; ${secs(p.wallMs)} wall |`);
  }
  const fz = c.fuzz;
  if (fz !== undefined) {
    lines.push(`| malformed NVMe/TCP PDUs into the asan target: no finding, nothing left over after any connection | \`${fz.command}\` (also a CI step) | ${fz.cases.toLocaleString('en-US')} cases in ${fz.families} families: **${fz.findings} findings**; resources counted back to idle after ${fz.resourceChecks.toLocaleString('en-US')} connections; ${secs(fz.wallMs)} wall on ${fz.workers} workers |`);
  }
  lines.push('', 'Unpatched, the reproduction rate per parameter point (95 % Wilson interval); the points where the precondition is absent must be 0:', '');
  for (const g of c.unpatched ?? []) {
    lines.push(`\`${g.command}\` (precondition absent: ${g.preconditionAbsent}; ${secs(g.wallMs)} wall)`, '', '| point | runs | reproduced | rate (95 % CI) |', '|---|---|---|---|');
    for (const p of g.points) lines.push(`| ${p.point} | ${p.runs} | ${p.reproduced} | ${pct(p.rate)} (${pct(p.low)}..${pct(p.high)})${p.inconclusive + p.error > 0 ? `; ${p.inconclusive} inconclusive, ${p.error} errors` : ''} |`);
    lines.push('');
  }
  return lines.join('\n').trimEnd();
}

export function readClaims() {
  if (!existsSync(CLAIMS)) throw new Error('bench/claims.json is missing; run: node dist/bench/claims.js --save');
  return JSON.parse(readFileSync(CLAIMS, 'utf8'));
}

/** README text with the block `name` replaced by `body`. */
export function replaceBlock(text, name, body) {
  const open = `<!-- generated:${name} -->`;
  const i = text.indexOf(open);
  const j = i < 0 ? -1 : text.indexOf('<!-- /generated -->', i);
  if (i < 0 || j < 0) throw new Error(`README.md has no ${open} ... <!-- /generated --> block`);
  return `${text.slice(0, i + open.length)}\n${body}\n${text.slice(j)}`;
}

/** The README as the generator would write it, from a given `spdk-wasm all` output. */
export function regenerate(text, allStdout, results, claims = readClaims()) {
  return replaceBlock(replaceBlock(replaceBlock(text, 'npm-start', npmStartBlock(allStdout)), 'bench', benchBlock(results)), 'claims', claimsBlock(claims));
}

/** Wall-clock times differ on every run; the check compares everything else. */
export function maskWallTimes(text) {
  return text.split('\n').map((l) => (/^ {2}wall {2}/.test(l) ? '  wall (masked)' : /^-+( +-+)+$/.test(l) ? '(rule)'
    : l.replace(/^(\S+ +(?:unpatched|patched) +\d+ +\S+ +\S+ +[\d.]+ m?s +)\d+ ms/, '$1(wall)').replace(/ {2,}/g, ' '))).join('\n');
}

export function readResults() {
  if (!existsSync(RESULTS)) throw new Error('bench/results.json is missing; run: npm run bench -- --save');
  return JSON.parse(readFileSync(RESULTS, 'utf8'));
}

function main(argv) {
  const check = argv.includes('--check');
  const text = readFileSync(README, 'utf8');
  const next = regenerate(text, runAll(), readResults());
  if (check) {
    if (maskWallTimes(next) !== maskWallTimes(text)) {
      console.error('readme: README.md differs from what the code produces; run npm run readme');
      return 1;
    }
    console.error('readme: README.md is up to date');
    return 0;
  }
  if (next !== text) writeFileSync(README, next);
  console.error(`readme: ${next === text ? 'README.md unchanged' : 'README.md regenerated'}`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
