/**
 * Every control of every replay page does what it says, in real Chromium: the crash control offers
 * the world's own machines, a crash of any of them becomes a crash verdict with its cause, time and
 * a link that replays it; a use after free on release is explained and links to asan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chrome, openPage, verdictOf, type Site, startSite } from './site-support.js';

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
});
