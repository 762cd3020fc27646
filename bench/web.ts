/**
 * Browser figures for `npm run bench` (merged into its JSON under "web"): for every replay's page,
 * the gzipped bytes it loads (main thread and worker apart; the wasm and glue per variant on top)
 * and the time from page load to the first simulated step in Debian's Chromium (median of fresh
 * visits); the index page's bytes; and simulated steps per second in the worker.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { CATALOG } from '../host/scenarios/catalog.js';
import { buildSite, ensureChromium, launchChromium, serveSite } from '../host/web/node-harness.js';

/** The page the README's figures are for. */
const MAIN_REPLAY = 'zcopy-threshold';
const VISITS = 5;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number): number => Math.round(x * 100) / 100;

interface PageFigures {
  files: string[];
  mainThreadGzipBytes: number;
  workerGzipBytes: number;
  pageGzipBytes: number;
  firstStepMs: { median: number; runs: number[] };
}

/** Fresh visits (nothing cached, as a first visit): the files fetched and the first-step times
 *  (a replay page is ready once its first step is drawn; the index once its list is). */
async function visit(browser: Browser, url: string, visits: number, gz: (f: string) => number, replay = true): Promise<PageFigures> {
  const loaded = new Set<string>();
  const runs: number[] = [];
  for (let i = 0; i < visits; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.on('response', (r) => loaded.add(new URL(r.url()).pathname.slice(1)));
    await page.goto(url);
    await page.waitForSelector(replay ? 'body[data-status="ready"]' : '#replays li');
    if (replay) runs.push(await page.evaluate(() => (window as unknown as { spdkDemo: { firstStepMs: number } }).spdkDemo.firstStepMs));
    await ctx.close();
  }
  const files = [...loaded].filter((f) => !f.includes('wasm/')).sort();
  const worker = files.filter((f) => /^assets\/worker-/.test(f));
  const sum = (fs: string[]): number => fs.reduce((s, f) => s + gz(f), 0);
  return {
    files,
    mainThreadGzipBytes: sum(files.filter((f) => !worker.includes(f))),
    workerGzipBytes: sum(worker),
    pageGzipBytes: sum(files),
    firstStepMs: { median: runs.length > 0 ? round(median(runs)) : NaN, runs: runs.map(round) },
  };
}

export async function webFigures(progress: (s: string) => void): Promise<Record<string, unknown>> {
  const chrome = ensureChromium();
  if (chrome.path === undefined) {
    progress(`web: skipped: ${chrome.why}`);
    return { skipped: chrome.why };
  }
  const dir = mkdtempSync(join(tmpdir(), 'spdk-wasm-bench-site-'));
  const gz = (f: string): number => gzipSync(readFileSync(join(dir, f)), { level: 9 }).length;
  try {
    progress('web: building the site');
    await buildSite(dir);
    const served = await serveSite(dir);
    const browser = await launchChromium();
    try {
      const pages: Record<string, PageFigures> = {};
      for (const s of CATALOG) {
        progress(`web: ${VISITS} first visits of the ${s.id} page`);
        pages[s.id] = await visit(browser, `${served.url}replay.html?replay=${s.id}&variant=unpatched&seed=1`, VISITS, gz);
      }
      const index = await visit(browser, `${served.url}index.html`, 1, gz, false);
      progress('web: steps per second in the worker');
      const worker: Record<string, number> = {};
      const page = await browser.newPage();
      await page.goto(`${served.url}replay.html?replay=${MAIN_REPLAY}&variant=unpatched&seed=1`);
      await page.waitForSelector('body[data-status="ready"]');
      for (const sliceUs of [1, 20]) {
        const m = await page.evaluate((s) => (window as unknown as { spdkDemo: { measure(s: number): Promise<{ steps: number; wallMs: number; simulatedUs: number }> } }).spdkDemo.measure(s), sliceUs);
        worker[`stepsPerSecond.slice${sliceUs}us`] = Math.round(m.steps / (m.wallMs / 1000));
        worker[`simulatedUsPerWallSecond.slice${sliceUs}us`] = Math.round(m.simulatedUs / (m.wallMs / 1000));
        worker[`steps.slice${sliceUs}us`] = m.steps;
      }
      await page.close();
      const main = pages[MAIN_REPLAY]!;
      const variants: Record<string, { wasmGzipBytes: number; glueGzipBytes: number; totalWithPageGzipBytes: number }> = {};
      for (const v of readdirSync(join(dir, 'wasm'))) {
        const wasm = gz(join('wasm', v, 'spdk.wasm'));
        const glue = gz(join('wasm', v, 'spdk.mjs'));
        variants[v] = { wasmGzipBytes: wasm, glueGzipBytes: glue, totalWithPageGzipBytes: main.pageGzipBytes + wasm + glue };
      }
      return {
        page: `replay.html?replay=${MAIN_REPLAY}`,
        pageFiles: main.files,
        pageGzipBytes: main.pageGzipBytes,
        mainThreadGzipBytes: main.mainThreadGzipBytes,
        workerGzipBytes: main.workerGzipBytes,
        firstStepMs: main.firstStepMs,
        pages,
        indexGzipBytes: index.pageGzipBytes,
        variants,
        worker,
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
