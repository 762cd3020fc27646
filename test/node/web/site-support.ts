/**
 * What the browser tests of the demo site share: the site built from the current sources and
 * build/wasm, served on 127.0.0.1, Debian's Chromium, pages that record console errors, and a run to
 * the verdict. Each test file builds its own site (vitest runs files in separate workers).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildSite, ensureChromium, launchChromium, serveSite, type Served } from '../../../host/web/node-harness.js';
import { packageRoot } from '../../../host/spdk/node-loader.js';

export const shots = join(packageRoot(), 'build/screenshots');

/** Found or installed (apt-get, as root) before any test; otherwise the suites skip and say why. */
export const chrome = ensureChromium();
if (chrome.path === undefined) console.warn(`site tests: ${chrome.why}`);

/** The two widths every page must work at: a phone and a desktop. */
export const WIDTHS = { phone: { width: 390, height: 844 }, desktop: { width: 1440, height: 1000 } } as const;

export interface Site {
  url: string;
  browser: Browser;
  close(): Promise<void>;
}

export async function startSite(): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), 'spdk-wasm-site-'));
  mkdirSync(shots, { recursive: true });
  await buildSite(dir);
  const served: Served = await serveSite(dir);
  const browser = await launchChromium();
  return {
    url: served.url,
    browser,
    async close() {
      await browser.close();
      await served.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A page that records console errors and uncaught exceptions. */
export async function openPage(site: Site, path: string, viewport: { width: number; height: number } = { width: 1360, height: 1000 }): Promise<{ page: Page; errors: string[] }> {
  // A context of its own (axe-core needs one), closed with the page.
  const context = await site.browser.newContext({ viewport });
  const page = await context.newPage();
  // When the browser itself closes first (end of the file), the context is already gone.
  page.on('close', () => { context.close().catch(() => {}); });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(site.url + path);
  return { page, errors };
}

export async function runToVerdict(page: Page): Promise<{ word: string; oracle: string; summary: string }> {
  await page.waitForSelector('body[data-status="ready"], body[data-status="paused"]');
  await page.click('#btn-run');
  await page.waitForSelector('body[data-status="finished"]', { timeout: 30_000 });
  return verdictOf(page);
}

export async function verdictOf(page: Page): Promise<{ word: string; oracle: string; summary: string }> {
  return {
    word: await page.textContent('#verdict-word') ?? '',
    oracle: await page.getAttribute('#verdict-word', 'data-oracle') ?? '',
    summary: await page.textContent('#verdict-summary') ?? '',
  };
}

export const count = (page: Page, selector: string): Promise<number> => page.locator(selector).count();
export const counter = async (page: Page, key: string): Promise<number> => Number((await page.textContent(`[data-counter="${key}"]`))!.replace(/,/g, ''));
