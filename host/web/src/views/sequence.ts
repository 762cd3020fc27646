/**
 * Sequence diagram of a wire between two lifelines (host left, target right), newest row at the
 * bottom: segments as arrows across (dropped ones end half-way with the reason), send-path and
 * state events as notes beside their side, and world events (a link going down) across both.
 * Every row of the run is reachable: only the rows in sight are drawn (the box scrolls over a
 * spacer as tall as all of them), and the view follows the newest row while scrolled to the bottom.
 */
import { formatUs } from '../../../report.js';
import { h, svg } from '../dom.js';
import { term } from '../glossary.js';

export type Tone = 'zc' | 'copy' | 'notify' | 'read' | 'done' | 'bad' | 'retx' | 'pdu' | 'state' | 'link' | 'ok';

export type Row =
  | { t: number; kind: 'seg'; toTarget: boolean; label: string; dropped?: string; data: boolean; ctl?: boolean }
  | { t: number; kind: 'note'; side: 'host' | 'target'; label: string; tone: Tone }
  | { t: number; kind: 'span'; label: string; tone: Tone };

const ROW = 17;
const HEAD = 24;
/** Rows drawn beyond the visible ones on each side, so a small scroll needs no redraw. */
const SLACK = 30;
const X_TIME = 84;

/** Where things go: the width, and the x of each lifeline (notes of the target go right of it). */
export interface SequenceLayout {
  width: number;
  host: number;
  target: number;
}

export const NARROW: SequenceLayout = { width: 780, host: 420, target: 740 };
export const WIDE: SequenceLayout = { width: 1080, host: 350, target: 720 };

export class SequenceView {
  readonly el: HTMLElement;
  private readonly head: SVGSVGElement;
  private readonly spacer: HTMLElement;
  private readonly box: SVGSVGElement;
  private rows: readonly Row[] = [];
  private dropped = 0;
  private follow = true;
  private drawn = { from: -1, to: -1, count: -1 };
  private highlight = -1;

  /** `host` scrolls; the titles name the two lifelines. */
  constructor(host: HTMLElement, private readonly titles: { host: string; target: string }, private readonly at: SequenceLayout = NARROW) {
    this.el = host;
    host.setAttribute('tabindex', '0');
    host.setAttribute('role', 'region');
    host.setAttribute('aria-label', 'wire sequence diagram, scrollable');
    this.head = svg('svg', { class: 'sequence head', width: at.width, height: HEAD, viewBox: `0 0 ${at.width} ${HEAD}`, 'aria-hidden': 'true' },
      svg('text', { x: 4, y: 16, class: 'muted' }, 'time'),
      svg('text', { x: at.host, y: 16, class: 'lifeline-name', 'text-anchor': 'middle' }, titles.host),
      svg('text', { x: at.target, y: 16, class: 'lifeline-name', 'text-anchor': 'middle' }, titles.target));
    this.box = svg('svg', { class: 'sequence', width: at.width, role: 'img', 'aria-label': 'the rows of the wire in view' });
    this.spacer = h('div', { class: 'sequence-rows', style: `width: ${at.width}px` }, this.box);
    host.append(this.head, this.spacer);
    host.addEventListener('scroll', () => {
      this.follow = host.scrollTop + host.clientHeight >= host.scrollHeight - ROW;
      this.render();
    });
  }

  /** A key of everything the diagram draws. */
  static legend(): HTMLElement {
    const item = (cls: string, text: string | HTMLElement): HTMLElement => h('span', { class: 'key' }, h('span', { class: `key-mark ${cls}` }), text);
    return h('p', { class: 'legend', id: 'wire-legend' }, 'Key: ',
      item('data', 'data segment (seq, len)'), item('ack', term('ACK', 'ACK')), item('dropped', 'dropped frame (reason, e.g. txdown)'),
      item('ctl', 'PDU / control'), item('note-zc', 'MSG_ZEROCOPY send'), item('note-copy', 'copied send'),
      item('note-read', 'notification read'), item('note-bad', 'wrong: completed too early, crash'),
      ' · flags: ', term('SYN', 'S'), ' ', term('FA'), ' ', term('RST', 'R'), ' · ', term('seq'), ' · ', term('txdown'), ' · times in ', term('virtual time'));
  }

  draw(rows: readonly Row[], dropped: number): void {
    this.rows = rows;
    this.dropped = dropped;
    this.spacer.style.height = `${rows.length * ROW + 8}px`;
    this.el.dataset['rows'] = String(rows.length);
    if (this.follow) this.el.scrollTop = this.el.scrollHeight;
    this.render();
  }

  /** Scrolls row `i` into the middle of the box and marks it. */
  reveal(i: number): void {
    this.highlight = i;
    this.follow = false;
    this.el.scrollTop = Math.max(0, i * ROW - this.el.clientHeight / 2);
    this.drawn.count = -1;
    this.render();
    this.el.scrollIntoView({ block: 'center' });
    this.el.focus({ preventScroll: true });
  }

  private render(): void {
    const n = this.rows.length;
    const top = Math.max(0, this.el.scrollTop - HEAD);
    const from = Math.max(0, Math.floor(top / ROW) - SLACK);
    const to = Math.min(n, Math.ceil((top + Math.max(this.el.clientHeight, 400)) / ROW) + SLACK);
    if (from === this.drawn.from && to === this.drawn.to && n === this.drawn.count) return;
    this.drawn = { from, to, count: n };
    const { width: W, host: X_HOST, target: X_TARGET } = this.at;
    const height = (to - from) * ROW + 8;
    this.box.style.top = `${from * ROW}px`;
    this.box.setAttribute('height', String(height));
    this.box.setAttribute('viewBox', `0 0 ${W} ${height}`);
    const parts: SVGElement[] = [
      svg('line', { x1: X_HOST, y1: 0, x2: X_HOST, y2: height, class: 'lifeline' }),
      svg('line', { x1: X_TARGET, y1: 0, x2: X_TARGET, y2: height, class: 'lifeline' }),
    ];
    if (from === 0 && this.dropped > 0) parts.push(svg('text', { x: 4, y: 12, class: 'muted' }, `… ${this.dropped} earlier rows not kept`));
    for (let i = from; i < to; i++) {
      const r = this.rows[i]!;
      const y = (i - from) * ROW + 12;
      const g = svg('g', { 'data-row': i, class: i === this.highlight ? 'row hit' : 'row' });
      if (i === this.highlight) g.append(svg('rect', { x: 0, y: y - 12, width: W, height: ROW, class: 'hit-bg' }));
      g.append(svg('text', { x: X_TIME - 6, y, class: 'time', 'text-anchor': 'end' }, formatUs(r.t)));
      if (r.kind === 'seg') g.append(...arrow(r, y, X_HOST, X_TARGET));
      else if (r.kind === 'span') {
        g.append(svg('rect', { x: X_TIME, y: y - 12, width: W - X_TIME, height: ROW - 2, class: `span ${r.tone}` }),
          svg('text', { x: (X_HOST + X_TARGET) / 2, y: y - 1, class: `note ${r.tone}`, 'text-anchor': 'middle' }, r.label));
      } else {
        g.append(svg('text', { x: r.side === 'host' ? X_HOST - 8 : X_TARGET + 8, y, class: `note ${r.tone}`, 'text-anchor': r.side === 'host' ? 'end' : 'start' }, r.label));
      }
      parts.push(g);
    }
    this.box.replaceChildren(...parts);
  }
}

function arrow(r: Extract<Row, { kind: 'seg' }>, y: number, X_HOST: number, X_TARGET: number): SVGElement[] {
  const [x1, x2] = r.toTarget ? [X_HOST, X_TARGET] : [X_TARGET, X_HOST];
  const kind = r.data ? 'data' : r.ctl === true ? 'ctl' : 'ack';
  const cls = `seg ${kind}${r.dropped !== undefined ? ' dropped' : ''}`;
  const xEnd = r.dropped !== undefined ? (x1 + x2) / 2 : x2;
  const dir = x2 > x1 ? 1 : -1;
  const out: SVGElement[] = [
    svg('line', { x1, y1: y - 10, x2: xEnd, y2: y - 2, class: cls }),
    svg('text', { x: (X_HOST + X_TARGET) / 2, y: y - 6, class: `seg-label ${kind}`, 'text-anchor': 'middle' },
      r.dropped !== undefined ? `${r.label} x ${r.dropped}` : r.label),
  ];
  if (r.dropped === undefined) {
    out.push(svg('path', { d: `M${x2} ${y - 2} l${-7 * dir} -5 l0 6 z`, class: cls }));
  }
  return out;
}
