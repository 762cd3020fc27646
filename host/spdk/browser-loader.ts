/**
 * Browser (page or Web Worker) loading of built variants: fetches `<base><variant>-<flavor>/spdk.wasm`,
 * compiles it once, and imports the emscripten glue `spdk.mjs` from the same folder. The glue never
 * fetches by itself: machines pass `instantiateWasm` with the precompiled module (see machine.ts).
 */
import { wasmOffsetData } from './wasm-offsets.js';
import type { EmscriptenFactory, Flavor, LoadedVariant, Variant } from './variant.js';

/** Returns a `RunOptions.load` that fetches variants from `baseUrl` (absolute, ending in "/"),
 *  e.g. `new URL('wasm/', location.href).href` for a site laid out as `wasm/<variant>-<flavor>/`. */
export function browserLoader(baseUrl: string): (variant: Variant, flavor: Flavor) => Promise<LoadedVariant> {
  const cache = new Map<string, Promise<LoadedVariant>>();
  return (variant, flavor) => {
    const key = `${variant}-${flavor}`;
    let p = cache.get(key);
    if (p === undefined) {
      p = load(new URL(`${key}/`, baseUrl).href, variant, flavor);
      // A failed fetch must not stick: the next attempt (a new world) tries again.
      p.catch(() => cache.delete(key));
      cache.set(key, p);
    }
    return p;
  };
}

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`spdk-wasm: cannot load ${url}: HTTP ${res.status} ${res.statusText}`);
  return res;
}

async function load(dir: string, variant: Variant, flavor: Flavor): Promise<LoadedVariant> {
  const [bytes, buildId, glue] = await Promise.all([
    fetchOk(`${dir}spdk.wasm`).then(async (r) => new Uint8Array(await r.arrayBuffer())),
    fetchOk(`${dir}build.id`).then(async (r) => (await r.text()).trim()),
    import(/* @vite-ignore */ `${dir}spdk.mjs`) as Promise<{ default: EmscriptenFactory }>,
  ]);
  const module = await WebAssembly.compile(bytes);
  const offsetData = flavor === 'asan' ? wasmOffsetData(bytes, module) : undefined;
  return { variant, flavor, buildId, module, factory: glue.default, wasmBytes: bytes.length, offsetData };
}
