/**
 * `npm run bench`: figures for the README, as one JSON object on stdout (also written to
 * build/bench.json). Progress goes to stderr. Never run by the tests. `npm run bench -- --save`
 * also writes bench/results.json, the file the README's table is generated from (npm run readme).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { resolveParams } from '../host/scenarios/params.js';
import { zcopyThreshold } from '../host/scenarios/zcopy-threshold.js';
import { World } from '../host/sim/world.js';
import { SpdkMachine } from '../host/spdk/machine.js';
import { loadVariant, packageRoot } from '../host/spdk/node-loader.js';
import { FLAVORS, VARIANTS, variantDir } from '../host/spdk/variant.js';
import { Kernel } from '../host/kernel/kernel.js';
import { Fabric } from '../host/net/fabric.js';
import { webFigures } from './web.js';
import { blobFigures } from './blob.js';
import { nvmeFigures } from './nvme.js';
import { sweepFigures } from './sweep.js';
import { exploreFigures } from './explore.js';

const progress = (s: string): void => void process.stderr.write(`bench: ${s}\n`);

/** Zero-copy data path: patched variant, every send MSG_ZEROCOPY (threshold 0), 32 MiB. */
async function dataPath(): Promise<Record<string, number>> {
  const ioSize = 131072;
  const ioCount = 256;
  const params = resolveParams(zcopyThreshold, { threshold: 0, 'io-size': ioSize, 'io-count': ioCount, 'queue-depth': 4, sndbuf: 4 << 20, 'jitter-us': 0 });
  await zcopyThreshold.run({ variant: 'patched', flavor: 'release', seed: 1, params, load: loadVariant }); // warm-up
  const runs: number[] = [];
  let last;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    last = await zcopyThreshold.run({ variant: 'patched', flavor: 'release', seed: 1 + i, params, load: loadVariant });
    runs.push(performance.now() - t0);
    if (last.reproduced) throw new Error('bench data path run was not clean');
  }
  const bytes = ioSize * ioCount;
  const wallMs = Math.min(...runs);
  // The same bytes through a plain TypedArray copy, 128 KiB at a time.
  const src = new Uint8Array(ioSize);
  const dst = new Uint8Array(bytes);
  const copyRuns: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    for (let off = 0; off < bytes; off += ioSize) dst.set(src, off);
    copyRuns.push(performance.now() - t0);
  }
  const copyMs = Math.min(...copyRuns);
  const simBps = bytes / (wallMs / 1000);
  const copyBps = bytes / (copyMs / 1000);
  return {
    bytes,
    wallMs: round(wallMs),
    simulatedBytesPerWallSecond: Math.round(simBps),
    typedArrayCopyBytesPerSecond: Math.round(copyBps),
    ratio: round(simBps / copyBps, 4),
    simulatedUs: last!.simulatedUs,
    peakMemoryHostBytes: last!.counters['memPeak.host'] ?? 0,
    peakMemoryTargetBytes: last!.counters['memPeak.target'] ?? 0,
  };
}

async function moduleFigures(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const variant of VARIANTS) {
    for (const flavor of FLAVORS) {
      const dir = join(packageRoot(), variantDir(variant, flavor));
      const wasm = readFileSync(join(dir, 'spdk.wasm'));
      const glue = readFileSync(join(dir, 'spdk.mjs'));
      const t0 = performance.now();
      const module = await WebAssembly.compile(wasm);
      const compileMs = performance.now() - t0;
      const loaded = await loadVariant(variant, flavor);
      const world = new World(1);
      const fabric = new Fabric(world);
      const t1 = performance.now();
      const m = await SpdkMachine.create({ world, name: 'm', variant: { ...loaded, module }, kernel: (mem) => new Kernel(world, 'm', mem, fabric) });
      const instantiateMs = performance.now() - t1;
      out[`${variant}-${flavor}`] = {
        wasmBytes: wasm.length,
        wasmGzipBytes: gzipSync(wasm, { level: 9 }).length,
        glueGzipBytes: gzipSync(glue, { level: 9 }).length,
        compileMs: round(compileMs),
        instantiateMs: round(instantiateMs),
        initialMemoryBytes: m.peakMemoryBytes,
      };
    }
  }
  return out;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The first line of `emcc --version` (the compiler the figures are for). */
function emccVersion(): string {
  const r = spawnSync('emcc', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0]!.trim() : 'unknown';
}

const METHOD = 'one run of the whole bench (npm run bench); NVMe/TCP figures are medians of five runs, each in its own Node process';

async function main(argv: string[]): Promise<void> {
  const save = argv.includes('--save');
  const loadAtStart = round(loadavg()[0]!); // other work on the machine moves every figure
  const unknown = argv.find((a) => a !== '--save');
  if (unknown !== undefined) {
    console.error(`bench: unknown argument "${unknown}" (known: --save, which also writes bench/results.json)`);
    process.exit(2);
  }
  progress('module sizes, compile and instantiate times');
  const modules = await moduleFigures();
  progress('zero-copy data path (32 MiB, 3 runs, best)');
  const zeroCopyDataPath = await dataPath();
  progress('web demo in Chromium (bench/web.ts)');
  const web = await webFigures(progress);
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, loadAverage1mAtStart: loadAtStart },
    emcc: emccVersion(),
    method: METHOD,
    modules,
    zeroCopyDataPath,
    web,
    blob: await blobFigures(progress),
    nvme: await nvmeFigures(progress),
    sweep: await sweepFigures(progress),
    explore: await exploreFigures(progress),
    targets: { ratio: 0.25, wasmGzipBytesMax: 300 * 1024 },
  };
  const json = JSON.stringify(result, null, 2);
  writeFileSync(join(packageRoot(), 'build', 'bench.json'), json + '\n');
  if (save) {
    writeFileSync(join(packageRoot(), 'bench', 'results.json'), json + '\n');
    progress('saved bench/results.json (now run: npm run readme)');
  }
  console.log(json);
}

await main(process.argv.slice(2));
