/**
 * Every control of every replay page does what it says, in real Chromium: the crash control offers
 * the world's own machines, a crash of any of them becomes a crash verdict with its cause, time and
 * a link that replays it; a use after free on release is explained and links to asan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chrome, openPage, verdictOf, type Site, startSite } from './site-support.js';

const now = (page: Page): Promise<number> => page.evaluate(() => (window as unknown as { spdkDemo: { now: number } }).spdkDemo.now);
const status = (page: Page): Promise<string | null> => page.getAttribute('body', 'data-status');

let site: Site;
const suite = chrome.path !== undefined ? 'replay page controls in Chromium' : `replay page controls in Chromium (SKIPPED: ${chrome.why})`;

const MACHINES: Record<string, string[]> = {
  'zcopy-threshold': ['host', 'target'],
  'tcp-zcopy-disconnect': ['host', 'target'],
  'sparse-backing-image': ['node'],
};

describe.skipIf(chrome.path === undefined)(suite, () => {
  beforeAll(async () => {
    site = await startSite();
  }, 60_000);

  afterAll(async () => {
    await site?.close();
  });

  it.each(Object.entries(MACHINES))('%s: the crash control lists the machines of that world', async (id, machines) => {
    const { page, errors } = await openPage(site, `replay.html?replay=${id}&variant=unpatched`);
    await page.waitForSelector('body[data-status="ready"]');
    const names = await page.locator('#crash-machine option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(names).toEqual(machines);
    expect(errors).toEqual([]);
    await page.close();
  });

  it.each([
    ['tcp-zcopy-disconnect', 'target', 'trap', /WebAssembly trap/],
    ['tcp-zcopy-disconnect', 'host', 'abort', /invariant/],
    ['sparse-backing-image', 'node', 'abort', /invariant/],
    ['zcopy-threshold', 'target', 'trap', /WebAssembly trap/],
  ])('%s: crashing %s (%s) is a crash verdict with cause, time and a replay link', async (id, machine, kind, cause) => {
    const { page, errors } = await openPage(site, `replay.html?replay=${id}&variant=unpatched&speed=max`);
    await page.waitForSelector('body[data-status="ready"]');
    await page.click('#btn-step');
    await page.waitForSelector('body[data-status="paused"]');
    await page.click('.crash summary');
    await page.selectOption('#crash-machine', machine);
    await page.selectOption('#crash-kind', kind);
    await page.click('#btn-crash');
    await page.waitForSelector('body[data-status="finished"]');
    expect(await page.locator('#world-error').count()).toBe(0);
    const v = await verdictOf(page);
    expect(v.oracle).toBe('crash');
    expect(v.summary).toContain(`${machine} crashed (${kind})`);
    expect(await page.textContent('#crash-cause')).toMatch(cause);
    expect(await page.textContent('#crash-time')).toMatch(/\d/);
    expect(await page.textContent('#headline')).toMatch(new RegExp(`REPRODUCED — ${machine} crashed at`));
    const time = await page.textContent('#crash-time');
    const href = await page.getAttribute('#crash-replay', 'href');
    expect(href).toContain(`crash=${machine}%3A${kind}`);
    expect(href).toMatch(/[?&]t=\d+/);
    // The link replays it: the same crash at the same moment, the same summary.
    await page.click('#crash-replay');
    await page.waitForSelector('body[data-status="finished"]');
    const again = await verdictOf(page);
    expect(again.summary).toBe(v.summary);
    expect(await page.textContent('#crash-time')).toBe(time);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('a use after free on release is explained, and the link to asan shows it caught', async () => {
    const { page, errors } = await openPage(site, 'replay.html?replay=zcopy-threshold&variant=patched&speed=max');
    await page.waitForSelector('body[data-status="ready"]');
    await page.click('#btn-step');
    await page.waitForSelector('body[data-status="paused"]');
    await page.click('.crash summary');
    await page.selectOption('#crash-machine', 'host');
    await page.selectOption('#crash-kind', 'uaf');
    await page.click('#btn-crash');
    await page.waitForSelector('#crash-on-asan');
    expect(await page.textContent('#crash-note')).toMatch(/not detected on release/);
    expect(await page.getAttribute('body', 'data-status')).toBe('paused');
    await page.click('#crash-on-asan');
    await page.waitForSelector('body[data-status="finished"]', { timeout: 30_000 });
    expect(page.url()).toContain('flavor=asan');
    const v = await verdictOf(page);
    expect(v.oracle).toBe('crash');
    expect(v.summary).toMatch(/host crashed \(asan\): AddressSanitizer: heap-use-after-free/);
    expect(await page.textContent('#crash-cause')).toMatch(/AddressSanitizer/);
    expect(await page.locator('#asan-report').count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('step, run, pause, go to a time (forward and back), to the end, speed and seed all do what they say', async () => {
    // 1 µs of virtual time per frame: the run (about 2 ms) takes many frames, so Pause finds it running.
    const { page, errors } = await openPage(site, 'replay.html?replay=zcopy-threshold&variant=unpatched&speed=1');
    await page.waitForSelector('body[data-status="ready"]');
    await page.click('#btn-step');
    await page.waitForSelector('body[data-status="paused"]');
    const t1 = await now(page);
    expect(t1).toBeGreaterThan(0);
    expect(page.url()).toContain(`t=${t1}`);
    await page.click('#btn-run');
    await page.waitForSelector('body[data-status="running"]');
    await page.waitForFunction((t) => (window as unknown as { spdkDemo: { now: number } }).spdkDemo.now > t, t1);
    await page.click('#btn-pause');
    await page.waitForSelector('body[data-status="paused"]');
    const t2 = await now(page);
    expect(t2).toBeGreaterThan(t1);
    // Forward: the world stops at its last event at or before the time asked for.
    await page.fill('#ctl-seek', String(t2 + 300));
    await page.click('#btn-seek');
    await page.waitForFunction((t) => (window as unknown as { spdkDemo: { now: number } }).spdkDemo.now > t, t2 + 150);
    const t3 = await now(page);
    expect(t3).toBeLessThanOrEqual(t2 + 300);
    expect(await status(page)).toBe('paused');
    expect(page.url()).toContain(`t=${t3}`);
    // Back in time: the same run replayed from 0 to there.
    await page.fill('#ctl-seek', '100');
    await page.press('#ctl-seek', 'Enter');
    await page.waitForFunction(() => (window as unknown as { spdkDemo: { now: number } }).spdkDemo.now <= 100);
    await page.waitForSelector('body[data-status="paused"]');
    expect(await now(page)).toBeGreaterThan(1);
    expect(page.url()).toContain(`t=${await now(page)}`);
    await page.selectOption('#ctl-speed', '1000');
    expect(page.url()).toContain('speed=1000');
    await page.click('#btn-end');
    await page.waitForSelector('body[data-status="finished"]');
    expect((await verdictOf(page)).word).toBe('REPRODUCED');
    expect(page.url()).toMatch(/[?&]t=\d+/);
    await page.fill('#ctl-seed', '7');
    await page.dispatchEvent('#ctl-seed', 'change');
    await page.waitForSelector('body[data-status="ready"]');
    expect(page.url()).toContain('seed=7');
    expect(page.url()).not.toMatch(/[?&]t=/);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('the keyboard runs it: Space run and pause, arrow right steps, End to the end, Home back to 0', async () => {
    const { page, errors } = await openPage(site, 'replay.html?replay=zcopy-threshold&variant=patched&speed=20');
    await page.waitForSelector('body[data-status="ready"]');
    const t0 = await now(page);
    await page.locator('h1').click();
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('body[data-status="paused"]');
    const t1 = await now(page);
    expect(t1).toBeGreaterThan(0);
    await page.keyboard.press(' ');
    await page.waitForSelector('body[data-status="running"]');
    await page.keyboard.press(' ');
    await page.waitForSelector('body[data-status="paused"]');
    await page.keyboard.press('End');
    await page.waitForSelector('body[data-status="finished"]');
    expect((await verdictOf(page)).word).toBe('clean');
    await page.keyboard.press('Home');
    await page.waitForSelector('body[data-status="ready"]');
    expect(await now(page)).toBe(t0);
    // The buttons are reachable with Tab and pressed with Enter.
    await page.focus('#btn-step');
    await page.keyboard.press('Enter');
    await page.waitForSelector('body[data-status="paused"]');
    expect(await status(page)).toBe('paused');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it.each(['zcopy-threshold', 'tcp-zcopy-disconnect', 'sparse-backing-image'])('%s: a link copied mid-run opens on the same frame', async (id) => {
    const { page, errors } = await openPage(site, `replay.html?replay=${id}&variant=unpatched&seed=3&speed=max`);
    await page.waitForSelector('body[data-status="ready"]');
    for (let i = 0; i < 6; i++) {
      await page.click('#btn-step');
      await page.waitForSelector('body[data-status="paused"]');
    }
    const frame = async (p: Page): Promise<unknown> => (await p.waitForTimeout(400), {
      now: await now(p),
      rows: await p.evaluate(() => document.querySelector('#sequence')?.getAttribute('data-rows') ?? null),
      views: (await p.textContent('#views'))?.replace(/last step [\d.]+ ms/, ''),
    });
    const here = await frame(page);
    const url = page.url();
    expect(url).toMatch(/[?&]t=\d+/);
    expect(url).toContain('seed=3');
    const again = await openPage(site, url.slice(site.url.length));
    await again.page.waitForSelector('body[data-status="paused"]');
    expect(await frame(again.page)).toEqual(here);
    expect(errors).toEqual([]);
    expect(again.errors).toEqual([]);
    await again.page.close();
    await page.close();
  }, 60_000);
});
