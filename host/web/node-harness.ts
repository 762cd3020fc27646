/**
 * Node-only: builds the demo site with Vite into a folder, serves that folder on 127.0.0.1 (Vite's
 * static preview server), and launches Debian's Chromium through playwright-core (found, or
 * installed with apt-get, by ensureChromium). Used by the browser tests and the bench; never by
 * the site itself.
 */
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { findOrInstall, isExecutable, SYSTEM, which, type Availability, type ProgramNeed } from '../debian-package.js';
import { packageRoot } from '../spdk/node-loader.js';

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';
/** Names another Chromium executable; when it names none, nothing is installed (so the "missing"
 *  path can be tried on a machine that has Chromium). */
export const CHROMIUM_ENV = 'SPDK_WASM_CHROMIUM';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

function configFile(): string {
  return join(packageRoot(), 'host/web/vite.config.ts');
}

/** Builds the site from the current sources and build/wasm into `outDir`. */
export async function buildSite(outDir: string): Promise<void> {
  await build({ configFile: configFile(), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}

export interface Served {
  /** Base URL of the site, ending in "/". */
  url: string;
  close(): Promise<void>;
}

/** Serves a built site on 127.0.0.1 at a free port. */
export async function serveSite(outDir: string): Promise<Served> {
  const server: PreviewServer = await preview({
    configFile: configFile(),
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (url === undefined) throw new Error('spdk-wasm: the preview server has no local URL');
  return { url: url.endsWith('/') ? url : `${url}/`, close: () => server.close() };
}

/** Where to look for Chromium under this environment: the override, else Debian's path or PATH. */
export function chromiumNeed(env: NodeJS.ProcessEnv = process.env): ProgramNeed {
  const value = env[CHROMIUM_ENV];
  if (value !== undefined && value !== '') {
    return { pkg: 'chromium', override: { name: CHROMIUM_ENV, value }, find: () => (isExecutable(value) ? value : undefined) };
  }
  return { pkg: 'chromium', find: () => (isExecutable(CHROMIUM) ? CHROMIUM : which('chromium')) };
}

let cached: Availability | undefined;

/** Chromium for the browser tests and the bench, installed once per process if it may be. */
export function ensureChromium(): Availability {
  cached ??= findOrInstall(chromiumNeed(), SYSTEM);
  return cached;
}

export async function launchChromium(): Promise<Browser> {
  const c = ensureChromium();
  if (c.path === undefined) throw new Error(`spdk-wasm: ${c.why}`);
  return chromium.launch({ executablePath: c.path, headless: true, args: CHROMIUM_FLAGS });
}
