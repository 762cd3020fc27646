/**
 * The demo site (host/web): `npm run demo` serves it, `npm run build:web` writes dist/web. The built
 * variants are taken from build/wasm (run build.sh first) and served or copied as
 * wasm/<variant>-<flavor>/{spdk.wasm, spdk.mjs, build.id}; pages fetch them relative to themselves.
 * The bugs' write-ups (docs/bugs/*.md) go along as docs/bugs/, so a page links its bug's.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const wasmDir = join(repo, 'build/wasm');
const bugsDir = join(repo, 'docs/bugs');
const FILES: Record<string, string> = { 'spdk.wasm': 'application/wasm', 'spdk.mjs': 'text/javascript', 'build.id': 'text/plain' };

/** Every variant build.sh makes ({unpatched,patched} x {release,asan}). */
const VARIANT_DIRS = ['unpatched-release', 'unpatched-asan', 'patched-release', 'patched-asan'];
/** How long a static build waits for a build.sh run in progress to finish the variants. */
const WAIT_MS = 180_000;

function complete(d: string): boolean {
  // build.sh writes build.id last, once the variant built.
  return Object.keys(FILES).every((f) => existsSync(join(wasmDir, d, f)));
}

/** The variants for a static build; waits while build.sh (re)builds some, so a site never ships
 *  without one. */
async function completeVariants(): Promise<string[]> {
  if (!existsSync(wasmDir)) throw new Error(`spdk-wasm: ${wasmDir} is missing; run: bash build.sh`);
  const t0 = Date.now();
  for (;;) {
    const missing = VARIANT_DIRS.filter((d) => !complete(d));
    if (missing.length === 0) return VARIANT_DIRS;
    if (Date.now() - t0 > WAIT_MS) throw new Error(`spdk-wasm: build/wasm lacks ${missing.join(', ')}; run: bash build.sh`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Serves build/wasm under /wasm/ in dev and copies it into the static build. */
function builtVariants(): Plugin {
  return {
    name: 'spdk-wasm-variants',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const doc = /\/docs\/bugs\/([\w-]+\.md)(\?.*)?$/.exec(req.url ?? '');
        if (doc !== null && existsSync(join(bugsDir, doc[1]!))) {
          res.setHeader('Content-Type', 'text/plain; charset=utf-8');
          res.end(readFileSync(join(bugsDir, doc[1]!)));
          return;
        }
        const m = /\/wasm\/([\w-]+)\/([\w.]+)(\?.*)?$/.exec(req.url ?? '');
        const type = m !== null ? FILES[m[2]!] : undefined;
        const file = m !== null ? join(wasmDir, m[1]!, m[2]!) : '';
        if (type === undefined || !existsSync(file)) return next();
        res.setHeader('Content-Type', type);
        res.setHeader('Cache-Control', 'no-cache');
        res.end(readFileSync(file));
      });
    },
    async generateBundle() {
      for (const f of readdirSync(bugsDir).filter((n) => n.endsWith('.md'))) {
        this.emitFile({ type: 'asset', fileName: `docs/bugs/${f}`, source: readFileSync(join(bugsDir, f)) });
      }
      for (const v of await completeVariants()) {
        for (const f of Object.keys(FILES)) {
          this.emitFile({ type: 'asset', fileName: `wasm/${v}/${f}`, source: readFileSync(join(wasmDir, v, f)) });
        }
      }
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [builtVariants()],
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173, fs: { allow: [repo] } },
  preview: { host: '127.0.0.1', port: 4173 },
  build: {
    outDir: join(repo, 'dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: { index: join(here, 'index.html'), replay: join(here, 'replay.html') } },
  },
});
