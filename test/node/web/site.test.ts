/**
 * The demo site in a real browser (Debian's Chromium via playwright-core): built from the current
 * sources and build/wasm, served on 127.0.0.1. Every replay's page runs its replay in both variants
 * in one page (the second world starts without a reload), shows the verdict and draws the
 * replay's own evidence; a bad link falls back to defaults with a message, and a crash becomes a
 * verdict. No console errors anywhere. Screenshots go to build/screenshots/.
 */
import { CATALOG } from '../../../host/scenarios/catalog.js';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chrome, count, counter, openPage, runToVerdict, shots, startSite, type Site } from './site-support.js';

let site: Site;
const suite = chrome.path !== undefined ? 'demo site in Chromium' : `demo site in Chromium (SKIPPED: ${chrome.why})`;
const open = (path: string): ReturnType<typeof openPage> => openPage(site, path);

/** What each replay's own views must show, per variant (beyond the verdict). */
const EVIDENCE: Record<string, { unpatched(page: Page): Promise<void>; patched(page: Page): Promise<void>; more?(page: Page): Promise<void> }> = {
  'tcp-zcopy-disconnect': {
    async unpatched(page) {
      expect(await count(page, '#knob-ack-timeout-ms')).toBe(1);
      expect(await count(page, '#knob-restore-link-us')).toBe(1);
      const stuck = await count(page, '#tcp-requests tr[data-state="TCP_REQUEST_STATE_COMPLETED"][data-pdu-in-use="true"]');
      expect(stuck).toBeGreaterThan(0);
      expect(await counter(page, 'stuckRequests')).toBe(stuck);
      expect(await count(page, '#tcp-requests .qpair[data-qid="1"][data-destroyed="false"]')).toBe(1);
      expect(await count(page, '#timeline li[data-mark="link-down"]')).toBe(1);
      expect(await count(page, '#timeline li[data-mark="kato"]')).toBeGreaterThan(0);
      expect(await count(page, '#timeline li[data-mark="ctrlr-destroyed"]')).toBe(0);
      expect(await counter(page, 'retransmits')).toBeGreaterThan(0);
      expect(await count(page, '#sequence .seg.dropped')).toBeGreaterThan(0);
    },
    async patched(page) {
      expect(await count(page, '#tcp-requests tr[data-state="TCP_REQUEST_STATE_COMPLETED"]')).toBe(0);
      expect(await count(page, '#tcp-requests .qpair[data-qid="1"][data-destroyed="true"] tr[data-state="TCP_REQUEST_STATE_FREE"]')).toBeGreaterThan(0);
      expect(await count(page, '#timeline li[data-mark="etimedout"]')).toBeGreaterThan(0);
      expect(await page.textContent('#timeline li[data-mark="etimedout"]')).toMatch(/ETIMEDOUT by TCP_USER_TIMEOUT/);
      expect(await count(page, '#timeline li[data-mark="qpair-destroyed"]')).toBe(2);
      expect(await count(page, '#timeline li[data-mark="ctrlr-destroyed"]')).toBe(1);
      expect(await counter(page, 'stuckRequests')).toBe(0);
    },
  },
  'sparse-backing-image': {
    async unpatched(page) {
      expect(await count(page, '#knob-write-zero')).toBe(1);
      expect(await count(page, '#checksums tr[data-check="while-open"][data-equal="true"]')).toBe(1);
      expect(await count(page, '#checksums tr[data-check="after-close"][data-equal="false"]')).toBe(1);
      expect(await count(page, '#checksums tr[data-check="snapshot"][data-equal="false"]')).toBe(1);
      expect(await count(page, '#cluster-map .cluster.stale')).toBeGreaterThan(0);
      expect(await counter(page, 'staleBlocks')).toBeGreaterThan(0);
      expect(await page.textContent('#cluster-map .ranges')).toMatch(/hold stale bytes of the deleted lvol/);
      expect(await count(page, '#page-cache .frame[data-last-close="true"]')).toBeGreaterThan(0);
    },
    async patched(page) {
      for (const check of ['while-open', 'after-close', 'snapshot']) {
        expect(await count(page, `#checksums tr[data-check="${check}"][data-equal="true"]`)).toBe(1);
      }
      expect(await count(page, '#checksums tr[data-equal="false"]')).toBe(0);
      expect(await count(page, '#cluster-map .cluster.stale')).toBe(0);
      expect(await counter(page, 'staleBlocks')).toBe(0);
      const alloc = page.locator('#cluster-map .alloc');
      expect(Number(await alloc.getAttribute('data-allocated'))).toBeLessThan(Number(await alloc.getAttribute('data-clusters')));
    },
    /** writeZero on the unpatched tree: the old workaround is correct but allocates every cluster. */
    async more(page) {
      await page.selectOption('#ctl-variant', 'unpatched');
      await page.check('#knob-write-zero');
      const r = await runToVerdict(page);
      expect(r.word).toBe('clean');
      expect(page.url()).toContain('write-zero=true');
      const alloc = page.locator('#cluster-map .alloc');
      expect(await alloc.getAttribute('data-allocated')).toBe(await alloc.getAttribute('data-clusters'));
    },
  },
};

describe.skipIf(chrome.path === undefined)(suite, () => {
  beforeAll(async () => {
    site = await startSite();
  }, 60_000);

  afterAll(async () => {
    await site?.close();
  });

  it('the index lists every replay with links to both variants', async () => {
    const { page, errors } = await open('index.html');
    await page.waitForSelector('#replays li');
    expect(await page.getAttribute('#replays li', 'data-replay')).toBe('zcopy-threshold');
    expect(await page.locator('#replays a[href*="variant=patched"]').count()).toBe(CATALOG.length);
    await page.screenshot({ path: join(shots, 'index.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('zcopy-threshold: REPRODUCED unpatched, then clean patched in the same page', async () => {
    const { page, errors } = await open('replay.html?replay=zcopy-threshold&variant=unpatched&seed=1&speed=max');
    // One Step draws something before running to the end.
    await page.waitForSelector('body[data-status="ready"]');
    await page.click('#btn-step');
    await page.waitForSelector('body[data-status="paused"]');
    const bad = await runToVerdict(page);
    expect(bad.word).toBe('REPRODUCED');
    expect(bad.oracle).toBe('safety');
    expect(bad.summary).toMatch(/inside a MSG_ZEROCOPY chunk/);
    expect(await page.textContent('#evidence')).toMatch(/still|not yet notified/);
    expect(Number(await page.textContent('[data-counter="prematureCompletions"]'))).toBeGreaterThan(0);
    expect(await page.locator('#requests tr.premature').count()).toBeGreaterThan(0);
    expect(await page.textContent('#hex')).toMatch(/received by target/);
    expect(await page.locator('#hex .byte.corrupted').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'zcopy-threshold-unpatched.png'), fullPage: true });

    await page.selectOption('#ctl-variant', 'patched');
    const good = await runToVerdict(page);
    expect(good.word).toBe('clean');
    expect(good.summary).toMatch(/every completion after its notification/);
    expect(page.url()).toContain('variant=patched');
    expect(await page.textContent('[data-counter="prematureCompletions"]')).toBe('0');
    expect(Number((await page.textContent('[data-counter="sendmsgCopy"]'))!.replace(/,/g, ''))).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'zcopy-threshold-patched.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it.each(CATALOG.filter((s) => s.id !== 'zcopy-threshold').map((s) => [s.id, s.oracle] as const))(
    '%s: its page shows the bug unpatched and a clean run patched, with the evidence drawn', async (id, oracle) => {
      const evidence = EVIDENCE[id];
      const { page, errors } = await open(`replay.html?replay=${id}&variant=unpatched&seed=1&speed=max`);
      const bad = await runToVerdict(page);
      expect(bad.word).toBe('REPRODUCED');
      expect(bad.oracle).toBe(oracle);
      await evidence?.unpatched(page);
      await page.screenshot({ path: join(shots, `${id}-unpatched.png`), fullPage: true });
      await page.selectOption('#ctl-variant', 'patched');
      const good = await runToVerdict(page);
      expect(good.word).toBe('clean');
      await evidence?.patched(page);
      await page.screenshot({ path: join(shots, `${id}-patched.png`), fullPage: true });
      await evidence?.more?.(page);
      expect(errors).toEqual([]);
      await page.close();
    }, 60_000);

  it('a link with an unknown replay, variant and an out-of-range knob says so and uses defaults', async () => {
    const { page, errors } = await open('replay.html?replay=nope&variant=fixed&seed=x');
    await page.waitForSelector('body[data-status="ready"]');
    const msg = await page.textContent('#url-problems');
    expect(msg).toMatch(/unknown replay "nope"/);
    expect(msg).toMatch(/variant must be unpatched or patched, got "fixed"/);
    expect(msg).toMatch(/seed must be an integer/);
    expect(await page.inputValue('#ctl-variant')).toBe('unpatched');
    await page.screenshot({ path: join(shots, 'bad-link.png'), fullPage: true });
    await page.goto(`${site.url}replay.html?replay=zcopy-threshold&threshold=-5&mss=1448`);
    await page.waitForSelector('body[data-status="ready"]');
    expect(await page.textContent('#url-problems')).toMatch(/--threshold of zcopy-threshold must be >= 0, got -5; using 8192/);
    expect(await page.inputValue('#knob-threshold')).toBe('8192');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a variant chosen while the first world is still loading replaces it', async () => {
    const { page, errors } = await open('replay.html?replay=zcopy-threshold&variant=unpatched&seed=2&speed=max');
    await page.waitForSelector('#ctl-variant');
    await page.selectOption('#ctl-variant', 'patched');
    const r = await runToVerdict(page);
    expect(r.word).toBe('clean');
    expect(await page.textContent('#verdict')).toMatch(/patched, seed 2/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a crash inside the worker is a verdict with its report, and a new world starts without reload', async () => {
    const { page, errors } = await open('replay.html?replay=zcopy-threshold&variant=patched');
    await page.waitForSelector('body[data-status="ready"]');
    await page.click('.crash summary');
    await page.selectOption('#crash-kind', 'trap');
    await page.click('#btn-crash');
    await page.waitForSelector('body[data-status="finished"]');
    expect(await page.getAttribute('#verdict-word', 'data-oracle')).toBe('crash');
    expect(await page.textContent('#verdict-summary')).toMatch(/host crashed \(trap\)/);
    expect(await page.textContent('#evidence')).toMatch(/spdk_wasm_ut_crash/);
    await page.screenshot({ path: join(shots, 'crash.png'), fullPage: true });
    await page.click('#btn-new');
    const again = await runToVerdict(page);
    expect(again.word).toBe('clean');
    expect(errors).toEqual([]);
    await page.close();
  });
});
