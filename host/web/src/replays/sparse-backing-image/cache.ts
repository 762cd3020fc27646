/**
 * The host page cache of the exposed temp head, one row per 1 MiB cluster of 4 KiB pages: now,
 * and as it stood at each close of a descriptor (just before a last close writes the dirty pages
 * back and drops everything). Dirty pages are what the copy wrote; clean ones were read from the
 * device (while open: zeros of clusters not yet allocated).
 */
import { formatUs } from '../../../../report.js';
import { h } from '../../dom.js';
import { legend, strip } from './grid.js';
import type { SparseModel } from './model.js';
import type { PageMap } from './probe.js';

const COLORS: Record<string, string> = { '.': '#e4e4e4', c: '#7fb8e6', d: '#e08a1e', s: '#d43d3d' };
const NAMES: Record<string, string> = {
  d: 'dirty (written, not yet on the device)', c: 'clean (read from the device)', s: 'clean, read after the write-back: stale bytes (as in the snapshot)', '.': 'not cached',
};

function grid(pages: PageMap, perRow: number, id: string): HTMLElement {
  const rows: HTMLElement[] = [];
  for (let r = 0; r * perRow < pages.length; r++) {
    const part = pages.slice(r * perRow, (r + 1) * perRow);
    rows.push(h('div', { class: 'grid-row' }, h('span', { class: 'grid-label' }, `cluster ${r}`), strip(part, COLORS, `pages ${r * perRow}..${r * perRow + part.length - 1}`)));
  }
  return h('div', { class: 'grid', 'data-grid': id }, ...rows);
}

function count(pages: PageMap, ch: string): number {
  let n = 0;
  for (const c of pages) if (c === ch) n++;
  return n;
}

export class PageCacheView {
  readonly el = h('div', { id: 'page-cache' });

  draw(m: SparseModel, perRow: number): void {
    const live = m.live.find((l) => l.pages.length > 0);
    const nowPart = live === undefined
      ? h('p', { class: 'meta' }, 'No device is open buffered right now.')
      : h('div', {},
        h('h3', {}, `now: ${live.dev.split('/').pop()} — ${live.openers} open, ${count(live.pages, 'd')} dirty, ${count(live.pages, 'c')} clean`),
        grid(live.pages, perRow, 'live'));
    const frames = m.frames.map((f, i) => {
      const pages = m.framePages(i);
      const stale = count(pages, 's');
      return h('div', { class: 'frame', 'data-frame': i, 'data-last-close': String(f.openersLeft === 0) },
        h('h3', {}, `${formatUs(f.t)}: close of fd ${f.fd}, ${f.openersLeft === 0 ? 'the last one — then write-back and drop' : `${f.openersLeft} still open`}: ${count(pages, 'd')} dirty, ${count(f.pages, 'c')} clean${stale > 0 ? `, ${stale} of them stale` : ''}`),
        grid(pages, perRow, `frame-${i}`));
    });
    this.el.replaceChildren(legend(COLORS, NAMES), nowPart, ...(frames.length > 0 ? [h('p', { class: 'meta' }, 'Captured at each close, before the kernel acted on it:'), ...frames] : []));
  }
}
