/**
 * Every view complete and every mode rendered, in real Chromium: the wire scrolls back to its first
 * row, the verdict's "jump to the evidence" lands on the row it names, zcopy-threshold's nvme-tcp
 * mode draws the target's PDUs and what verify read back (no "write -1"), each replay's other knob
 * settings render without a broken word, and the bytes are told apart (corrupted, poison, verified).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chrome, count, openPage, runToVerdict, type Site, startSite } from './site-support.js';

let site: Site;
const suite = chrome.path !== undefined ? 'replay page views in Chromium' : `replay page views in Chromium (SKIPPED: ${chrome.why})`;

/** Words that only appear when a view drew a value it did not have. */
const BROKEN = /\bundefined\b|\bNaN\b|write -1\b/;

describe.skipIf(chrome.path === undefined)(suite, () => {
  beforeAll(async () => {
    site = await startSite();
  }, 60_000);

  afterAll(async () => {
    await site?.close();
  });

  it('zcopy-threshold: the wire scrolls to its first row and the evidence link lands on the write the summary names', async () => {
    const { page, errors } = await openPage(site, 'replay.html?replay=zcopy-threshold&variant=unpatched&speed=max');
    const v = await runToVerdict(page);
    expect(v.word).toBe('REPRODUCED');
    const rows = Number(await page.getAttribute('#sequence', 'data-rows'));
    expect(rows).toBeGreaterThan(400);
    await page.locator('#sequence').evaluate((el) => { el.scrollTop = 0; });
    await page.waitForSelector('#sequence g[data-row="0"]');
    expect(await page.textContent('#sequence g[data-row="0"]')).toMatch(/^26 µsS$/);
    const write = /write (\d+)/.exec(v.summary)?.[1] ?? /write (\d+)/.exec(await page.textContent('#evidence') ?? '')?.[1];
    expect(write).toBeDefined();
    await page.click('#jump-evidence');
    await page.waitForSelector('#sequence g.hit');
    expect(await page.textContent('#sequence g.hit')).toMatch(new RegExp(`complete write ${write}: id .* in flight!`));
    // Every request of the run is listed, the first one too.
    expect(await count(page, '#requests tr[data-write]')).toBe(16);
    expect(await count(page, '#requests tr[data-write="0"]')).toBe(1);
    expect(await page.textContent('#headline')).toMatch(/^REPRODUCED — The bug showed on unpatched/);
    expect(await page.getAttribute('#bug-link', 'href')).toBe('docs/bugs/zcopy-threshold.md');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('zcopy-threshold: corrupted, poison and verified bytes have their own colours and a key', async () => {
    const { page, errors } = await openPage(site, 'replay.html?replay=zcopy-threshold&variant=unpatched&speed=max');
    await runToVerdict(page);
    await page.waitForSelector('#hex [data-row="received"] .byte.corrupted');
    expect(await count(page, '#hex-key .byte.corrupted')).toBe(1);
    expect(await count(page, '#hex-key .byte.poison')).toBe(1);
    await page.selectOption('#ctl-variant', 'patched');
    expect((await runToVerdict(page)).word).toBe('clean');
    await page.waitForSelector('#hex [data-row="received"] .byte.verified');
    // The patched run's send buffer holds poison after completion: expected, never drawn as damage.
    expect(await count(page, '#hex .hex-row .byte.corrupted')).toBe(0);
    expect(await count(page, '#hex [data-row="buffer"] .byte.poison, #hex [data-row="buffer"] .byte.reused')).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('zcopy-threshold nvme-tcp mode: the target\'s PDUs, verify\'s miscompares, no "write -1"', async () => {
    const { page, errors } = await openPage(site, 'replay.html?replay=zcopy-threshold&variant=unpatched&mode=nvme-tcp&speed=max');
    const v = await runToVerdict(page);
    expect(v.word).toBe('REPRODUCED');
    expect(await page.textContent('body')).not.toMatch(BROKEN);
    expect(await count(page, '#requests tr[data-req^="C2HData"]')).toBeGreaterThan(0);
    expect(await count(page, '#requests tr.premature')).toBeGreaterThan(0);
    expect(Number(await page.textContent('[data-verify="miscompares"]'))).toBeGreaterThan(0);
    expect(await count(page, '#miscompares .byte.corrupted')).toBeGreaterThan(0);
    expect(await count(page, '#buffers')).toBe(0);
    await page.click('#jump-evidence');
    expect(await page.textContent('#sequence g.hit')).toMatch(/complete C2HData \d+: id .* in flight!/);
    await page.selectOption('#ctl-variant', 'patched');
    expect((await runToVerdict(page)).word).toBe('clean');
    expect(await page.textContent('#miscompares')).toMatch(/Every byte read back verified/);
    expect(await page.textContent('body')).not.toMatch(BROKEN);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it.each([
    ['zcopy-threshold', 'zcopy=false'],
    ['zcopy-threshold', 'mode=nvme-tcp&zcopy=false'],
    ['tcp-zcopy-disconnect', 'zcopy=false'],
    ['tcp-zcopy-disconnect', 'restore-link-us=2000000'],
    ['sparse-backing-image', 'unmap=true'],
    ['sparse-backing-image', 'replicas=2'],
  ])('%s with %s renders a verdict and no broken word', async (id, knobs) => {
    const { page, errors } = await openPage(site, `replay.html?replay=${id}&variant=unpatched&speed=max&${knobs}`);
    const v = await runToVerdict(page);
    expect(['REPRODUCED', 'clean', 'INCONCLUSIVE']).toContain(v.word);
    expect(await page.textContent('#headline')).toMatch(/^(REPRODUCED|clean|INCONCLUSIVE) — /);
    expect(await page.textContent('body')).not.toMatch(BROKEN);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('tcp-zcopy-disconnect and sparse-backing-image: the evidence link lands on the stuck request and the differing checksum', async () => {
    for (const [id, target] of [['tcp-zcopy-disconnect', '#tcp-requests tr.stuck'], ['sparse-backing-image', '#checksums tr[data-equal="false"]']] as const) {
      const { page, errors } = await openPage(site, `replay.html?replay=${id}&variant=unpatched&speed=max`);
      expect((await runToVerdict(page)).word).toBe('REPRODUCED');
      await page.click('#jump-evidence');
      await page.waitForSelector(`${target}.flash`);
      expect(await page.evaluate((sel) => document.activeElement === document.querySelector(sel), target)).toBe(true);
      expect(errors).toEqual([]);
      await page.close();
    }
  }, 60_000);
});
