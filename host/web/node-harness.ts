/**
 * Node-only: builds the demo site with Vite into a folder, serves that folder on 127.0.0.1 (Vite's
 * static preview server), and launches Debian's Chromium through playwright-core. Used by the
 * browser tests and the bench; never by the site itself.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { packageRoot } from '../spdk/node-loader.js';

export const CHROMIUM = '/usr/bin/chromium';
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

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`spdk-wasm: ${CHROMIUM} is missing; run: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}
