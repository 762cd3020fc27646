/** Node-only: loads built variants from build/wasm/ (the browser loads them with fetch instead). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { wasmOffsetData } from './wasm-offsets.js';
import { variantDir, type EmscriptenFactory, type Flavor, type LoadedVariant, type Variant } from './variant.js';

/** The package root: the nearest directory above this file holding package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('spdk-wasm: cannot find the package root (package.json)');
    dir = up;
  }
  return dir;
}

const cache = new Map<string, Promise<LoadedVariant>>();

export function loadVariant(variant: Variant, flavor: Flavor = 'release'): Promise<LoadedVariant> {
  const key = `${variant}-${flavor}`;
  let p = cache.get(key);
  if (p === undefined) {
    p = load(variant, flavor);
    cache.set(key, p);
  }
  return p;
}

function load(variant: Variant, flavor: Flavor): Promise<LoadedVariant> {
  return loadVariantDir(join(packageRoot(), variantDir(variant, flavor)), variant, flavor);
}

/** Loads a build's spdk.wasm + spdk.mjs from `dir` (build/wasm/<variant>-<flavor>, or a lab's build). */
export async function loadVariantDir(dir: string, variant: Variant, flavor: Flavor): Promise<LoadedVariant> {
  const wasmPath = join(dir, 'spdk.wasm');
  if (!existsSync(wasmPath)) {
    throw new Error(`spdk-wasm: variant ${variant}-${flavor} is not built (${wasmPath} missing); run: npm run build`);
  }
  const bytes = readFileSync(wasmPath);
  const module = await WebAssembly.compile(bytes);
  const glue = (await import(pathToFileURL(join(dir, 'spdk.mjs')).href)) as { default: EmscriptenFactory };
  const buildId = readFileSync(join(dir, 'build.id'), 'utf8').trim();
  const offsetData = flavor === 'asan' ? wasmOffsetData(bytes, module) : undefined;
  return { variant, flavor, buildId, module, factory: glue.default, wasmBytes: bytes.length, offsetData };
}
