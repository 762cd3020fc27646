/**
 * Every page fits a phone (390 px) and a desktop (1440 px) and is accessible, in real Chromium:
 * nothing wider than the viewport, axe-core reports no serious or critical violation (before and
 * after the verdict), glossary terms explain themselves on focus (tap), and the buttons' icons are
 * inline SVG rather than font glyphs. Screenshots of each state go to build/screenshots/.
 */
import AxeBuilder from '@axe-core/playwright';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG } from '../../../host/scenarios/catalog.js';
import { chrome, openPage, runToVerdict, shots, type Site, startSite, WIDTHS } from './site-support.js';

let site: Site;
const suite = chrome.path !== undefined ? 'site on phone and desktop, with axe, in Chromium' : `site with axe in Chromium (SKIPPED: ${chrome.why})`;

/** axe's serious and critical findings, one line each (rule, impact, first offending nodes). */
async function axeProblems(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).analyze();
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

/** The elements that stick out of the viewport's width (none when the page fits), widest first. */
const overflow = (page: Page): Promise<string[]> => page.evaluate(() => {
  if (document.documentElement.scrollWidth <= window.innerWidth) return [];
  const out: [number, string][] = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 && r.width > 0) out.push([r.right, `${el.tagName.toLowerCase()}${el.id !== '' ? `#${el.id}` : ''}.${el.getAttribute('class') ?? ''} right ${Math.round(r.right)}`]);
  }
  return [`page ${document.documentElement.scrollWidth} px wide`, ...out.sort((a, b) => b[0] - a[0]).slice(0, 12).map((x) => x[1])];
});

describe.skipIf(chrome.path === undefined)(suite, () => {
  beforeAll(async () => {
    site = await startSite();
  }, 60_000);

  afterAll(async () => {
    await site?.close();
  });

  it.each(Object.keys(WIDTHS) as (keyof typeof WIDTHS)[])('the index at %s width fits and passes axe', async (w) => {
    const { page, errors } = await openPage(site, 'index.html', WIDTHS[w]);
    await page.waitForSelector('#replays li');
    expect(await overflow(page)).toEqual([]);
    expect(await axeProblems(page)).toEqual([]);
    await page.screenshot({ path: join(shots, `index-${w}.png`), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it.each(CATALOG.flatMap((s) => (Object.keys(WIDTHS) as (keyof typeof WIDTHS)[]).map((w) => [s.id, w] as const)))(
    '%s at %s width fits, passes axe before and after the verdict', async (id, w) => {
      const { page, errors } = await openPage(site, `replay.html?replay=${id}&variant=unpatched&speed=max`, WIDTHS[w]);
      await page.waitForSelector('body[data-status="ready"]');
      expect(await overflow(page)).toEqual([]);
      expect(await axeProblems(page)).toEqual([]);
      await runToVerdict(page);
      expect(await overflow(page)).toEqual([]);
      expect(await axeProblems(page)).toEqual([]);
      // The controls stay on screen and usable: every button inside the viewport's width.
      const outside = await page.locator('#controls button').evaluateAll((bs) => bs.filter((b) => b.getBoundingClientRect().right > window.innerWidth).length);
      expect(outside).toBe(0);
      await page.screenshot({ path: join(shots, `${id}-${w}.png`), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    }, 60_000);

  it('a glossary term explains itself on focus, and button icons are inline SVG', async () => {
    const { page, errors } = await openPage(site, 'replay.html?replay=tcp-zcopy-disconnect&variant=unpatched', WIDTHS.phone);
    await page.waitForSelector('body[data-status="ready"]');
    const oracle = page.locator('header .term[data-term="oracle"]');
    expect(await oracle.locator('.tip').isVisible()).toBe(false);
    await oracle.focus();
    expect(await oracle.locator('.tip').isVisible()).toBe(true);
    expect(await oracle.locator('.tip').textContent()).toMatch(/safety .* liveness .* crash/);
    for (const t of ['KATO', 'qpair', 'pdu_in_use', 'txdown', 'FA', 'flavor']) expect(await page.locator(`.term[data-term="${t}"]`).count()).toBeGreaterThan(0);
    expect(await page.locator('#glossary dt').count()).toBeGreaterThan(40);
    for (const b of ['#btn-run', '#btn-pause', '#btn-step', '#btn-end', '#btn-new']) {
      expect(await page.locator(`${b} svg.icon`).count()).toBe(1);
      expect(await page.textContent(b)).not.toMatch(/[\u2190-\u2bff]/);
    }
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
