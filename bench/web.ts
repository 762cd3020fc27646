/**
 * Browser figures for `npm run bench` (merged into its JSON under "web"): the gzipped bytes the
 * zcopy-threshold page loads (page JS/CSS, worker, glue and wasm per variant), the time from page load
 * to the first simulated step in Debian's Chromium, and simulated steps per second in the worker.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSite, CHROMIUM, launchChromium, serveSite } from '../host/web/node-harness.js';

const PAGE = 'replay.html?replay=zcopy-threshold&variant=unpatched&seed=1';

function gz(path: string): number {
  return gzipSync(readFileSync(path), { level: 9 }).length;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number): number => Math.round(x * 100) / 100;

export async function webFigures(progress: (s: string) => void): Promise<Record<string, unknown>> {
  if (!existsSync(CHROMIUM)) return { skipped: `${CHROMIUM} is missing (apt-get install -y chromium)` };
  const dir = mkdtempSync(join(tmpdir(), 'spdk-wasm-bench-site-'));
  try {
    progress('web: building the site');
    await buildSite(dir);
    const served = await serveSite(dir);
    const browser = await launchChromium();
    try {
      const loads: number[] = [];
      const loaded = new Set<string>();
      const sizes: Record<string, unknown> = {};
      for (let i = 0; i < 3; i++) {
        // A fresh context each time: nothing cached, as for a first visit.
        const ctx = await browser.newContext();
        const page = await ctx.newPage();
        page.on('response', (r) => loaded.add(new URL(r.url()).pathname.slice(1)));
        await page.goto(served.url + PAGE);
        await page.waitForSelector('body[data-status="ready"]');
        loads.push(await page.evaluate(() => (window as unknown as { spdkDemo: { firstStepMs: number } }).spdkDemo.firstStepMs));
        if (i === 2) {
          progress('web: steps per second in the worker');
          for (const sliceUs of [1, 20]) {
            const m = await page.evaluate((s) => (window as unknown as { spdkDemo: { measure(s: number): Promise<{ steps: number; wallMs: number; simulatedUs: number }> } }).spdkDemo.measure(s), sliceUs);
            sizes[`stepsPerSecond.slice${sliceUs}us`] = Math.round(m.steps / (m.wallMs / 1000));
            sizes[`simulatedUsPerWallSecond.slice${sliceUs}us`] = Math.round(m.simulatedUs / (m.wallMs / 1000));
            sizes[`steps.slice${sliceUs}us`] = m.steps;
          }
        }
        await ctx.close();
      }
      const all = files(dir).map((p) => relative(dir, p));
      const pageFiles = all.filter((f) => !f.startsWith('wasm/') && loaded.has(f));
      const pageGzipBytes = pageFiles.reduce((s, f) => s + gz(join(dir, f)), 0);
      const variants: Record<string, { wasmGzipBytes: number; glueGzipBytes: number; totalWithPageGzipBytes: number }> = {};
      for (const v of readdirSync(join(dir, 'wasm'))) {
        const wasm = gz(join(dir, 'wasm', v, 'spdk.wasm'));
        const glue = gz(join(dir, 'wasm', v, 'spdk.mjs'));
        variants[v] = { wasmGzipBytes: wasm, glueGzipBytes: glue, totalWithPageGzipBytes: pageGzipBytes + wasm + glue };
      }
      return {
        page: PAGE,
        pageFiles,
        pageGzipBytes,
        variants,
        firstStepMs: { median: round(median(loads)), runs: loads.map(round) },
        worker: sizes,
        targets: { wasmGzipBytesMax: 300 * 1024, firstStepMsMax: 300 },
      };
    } finally {
      await browser.close();
      await served.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
