/**
 * The send buffer beside what the peer received: one strip per write — the sendmsg chunks that
 * carried it on top (zero-copy blue, copy orange, pale while the zero-copy id is unreleased), and
 * what the target has received below (grey not yet, green as expected, red wrong). A click picks
 * a write for the hex view.
 */
import { h } from '../../dom.js';
import type { ZcopyModel } from './model.js';

const MAX_WRITES = 64;
const STRIP_W = 560;

export interface WriteSnap {
  write: number;
  received: number;
  mismatches: { start: number; end: number }[];
}

export class BuffersView {
  readonly el = h('div', {});
  private readonly canvas = h('canvas', { class: 'strips', width: STRIP_W + 200, height: 40 });
  onSelect: ((write: number, offset: number) => void) | undefined;
  private ioSize = 1;
  private count = 0;

  constructor() {
    this.el.append(
      h('p', { class: 'legend' },
        h('span', { class: 'swatch zc' }), 'MSG_ZEROCOPY chunk ', h('span', { class: 'swatch zc-pending' }), 'unreleased ',
        h('span', { class: 'swatch copy' }), 'copied chunk ', h('span', { class: 'swatch ok' }), 'received as expected ',
        h('span', { class: 'swatch bad' }), 'received wrong (corrupted) ', h('span', { class: 'swatch none' }), 'not received'),
      this.canvas,
    );
    this.canvas.addEventListener('click', (ev) => {
      const r = this.canvas.getBoundingClientRect();
      const y = (ev.clientY - r.top) * (this.canvas.height / r.height);
      const x = (ev.clientX - r.left) * (this.canvas.width / r.width) - 90;
      const w = Math.floor((y - 4) / ROW_H);
      if (w >= 0 && w < this.count) this.onSelect?.(w, Math.max(0, Math.floor((x / STRIP_W) * this.ioSize)));
    });
  }

  draw(m: ZcopyModel, ioSize: number, ioCount: number, writes: WriteSnap[], selected: number): void {
    this.ioSize = ioSize;
    this.count = Math.min(ioCount, MAX_WRITES);
    const height = 8 + this.count * ROW_H;
    if (this.canvas.height !== height) this.canvas.height = height;
    const g = this.canvas.getContext('2d');
    if (g === null) return;
    g.clearRect(0, 0, this.canvas.width, height);
    g.font = '11px ui-monospace, monospace';
    const px = (off: number): number => 90 + (off / ioSize) * STRIP_W;
    for (let w = 0; w < this.count; w++) {
      const y = 4 + w * ROW_H;
      const base = w * ioSize;
      if (w === selected) {
        g.fillStyle = '#fff4c2';
        g.fillRect(0, y - 2, this.canvas.width, ROW_H);
      }
      g.fillStyle = '#333';
      g.fillText(`write ${w}`, 4, y + 12);
      for (const c of m.chunks) {
        if (c.end <= base || c.start >= base + ioSize) continue;
        const a = Math.max(c.start, base) - base;
        const b = Math.min(c.end, base + ioSize) - base;
        g.fillStyle = c.zc ? (m.isReleased(c) ? '#3b6fd8' : '#9db7ee') : '#e08a1e';
        g.fillRect(px(a), y, Math.max(1, px(b) - px(a) - 1), 5);
      }
      const snap = writes[w];
      g.fillStyle = '#d9d9d9';
      g.fillRect(px(0), y + 7, STRIP_W, 8);
      let status = 'not received';
      if (snap !== undefined && snap.received > 0) {
        g.fillStyle = '#3aa55d';
        g.fillRect(px(0), y + 7, px(snap.received) - px(0), 8);
        g.fillStyle = '#d43d3d';
        for (const r of snap.mismatches) g.fillRect(px(r.start), y + 7, Math.max(2, px(r.end) - px(r.start)), 8);
        const bad = snap.mismatches.reduce((s, r) => s + r.end - r.start, 0);
        status = bad > 0 ? `${bad} B wrong` : snap.received < ioSize ? `${snap.received} B` : 'ok';
      }
      g.fillStyle = status.endsWith('wrong') ? '#b00020' : '#333';
      g.fillText(status, px(ioSize) + 8, y + 14);
    }
  }
}

const ROW_H = 20;
