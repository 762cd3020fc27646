import type { WasmOffsetData } from './wasm-offsets.js';

/** Build variants (decision 2): the tree (`unpatched` = wasm/, `patched` = wasm/ + spdk-patches/series)
 *  and the flavor (`release`, or `asan` built with -fsanitize=address). */
export const VARIANTS = ['unpatched', 'patched'] as const;
export type Variant = (typeof VARIANTS)[number];
export const FLAVORS = ['release', 'asan'] as const;
export type Flavor = (typeof FLAVORS)[number];

export function isVariant(v: string): v is Variant {
  return (VARIANTS as readonly string[]).includes(v);
}

export function isFlavor(v: string): v is Flavor {
  return (FLAVORS as readonly string[]).includes(v);
}

/** What emscripten's MODULARIZE factory resolves to, as far as the host uses it. */
export interface EmscriptenModule {
  HEAPU8: Uint8Array;
  [exp: `_${string}`]: ((...args: number[]) => number) | undefined;
}

export type EmscriptenFactory = (opts: Record<string, unknown>) => Promise<EmscriptenModule>;

/** One compiled variant: compiled once, instantiated once per machine. */
export interface LoadedVariant {
  variant: Variant;
  flavor: Flavor;
  /** Content hash of the sources and flags the variant was built from. */
  buildId: string;
  module: WebAssembly.Module;
  factory: EmscriptenFactory;
  wasmBytes: number;
  /** For the asan flavor: the symbolizer's offset table (see wasm-offsets.ts). */
  offsetData?: WasmOffsetData;
}

/** Where a variant's files live relative to the package root. */
export function variantDir(variant: Variant, flavor: Flavor): string {
  return `build/wasm/${variant}-${flavor}`;
}
