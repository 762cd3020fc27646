/**
 * Sequence diagram of a wire between two lifelines (host left, target right), newest row at the
 * bottom: segments as arrows across (dropped ones end half-way with the reason), send-path and
 * state events as notes beside their side, and world events (a link going down) across both.
 */
import { svg } from '../dom.js';

export type Tone = 'zc' | 'copy' | 'notify' | 'read' | 'done' | 'bad' | 'retx' | 'pdu' | 'state' | 'link' | 'ok';

export type Row =
  | { t: number; kind: 'seg'; toTarget: boolean; label: string; dropped?: string; data: boolean; ctl?: boolean }
  | { t: number; kind: 'note'; side: 'host' | 'target'; label: string; tone: Tone }
  | { t: number; kind: 'span'; label: string; tone: Tone };

/** Rows drawn (the newest); the model keeps more. */
const SHOW = 400;
const ROW = 17;
const X_TIME = 64;

/** Where things go: the width, and the x of each lifeline (notes of the target go right of it). */
export interface SequenceLayout {
  width: number;
  host: number;
  target: number;
}

export const NARROW: SequenceLayout = { width: 760, host: 400, target: 720 };
export const WIDE: SequenceLayout = { width: 1060, host: 330, target: 700 };

export class SequenceView {
  readonly el: HTMLElement;
  private readonly box: SVGSVGElement;

  /** `host` scrolls; the titles name the two lifelines. */
  constructor(host: HTMLElement, private readonly titles: { host: string; target: string }, private readonly at: SequenceLayout = NARROW) {
    this.el = host;
    this.box = svg('svg', { class: 'sequence', width: at.width, role: 'img', 'aria-label': 'sequence diagram of the wire' });
    host.append(this.box);
  }

  draw(rows: readonly Row[], dropped: number): void {
    const { width: W, host: X_HOST, target: X_TARGET } = this.at;
    const shown = rows.slice(-SHOW);
    const hidden = dropped + rows.length - shown.length;
    const top = 34;
    const height = top + shown.length * ROW + 10;
    this.box.setAttribute('height', String(height));
    this.box.setAttribute('viewBox', `0 0 ${W} ${height}`);
    const parts: SVGElement[] = [
      svg('text', { x: X_HOST, y: 14, class: 'lifeline-name', 'text-anchor': 'middle' }, this.titles.host),
      svg('text', { x: X_TARGET, y: 14, class: 'lifeline-name', 'text-anchor': 'middle' }, this.titles.target),
      svg('text', { x: 4, y: 28, class: 'muted' }, hidden > 0 ? `… ${hidden} earlier rows` : 'µs'),
      svg('line', { x1: X_HOST, y1: 20, x2: X_HOST, y2: height, class: 'lifeline' }),
      svg('line', { x1: X_TARGET, y1: 20, x2: X_TARGET, y2: height, class: 'lifeline' }),
    ];
    shown.forEach((r, i) => {
      const y = top + i * ROW + 12;
      parts.push(svg('text', { x: X_TIME - 6, y, class: 'time', 'text-anchor': 'end' }, String(r.t)));
      if (r.kind === 'seg') parts.push(...arrow(r, y, X_HOST, X_TARGET));
      else if (r.kind === 'span') {
        parts.push(svg('rect', { x: X_TIME, y: y - 12, width: W - X_TIME, height: ROW - 2, class: `span ${r.tone}` }),
          svg('text', { x: (X_HOST + X_TARGET) / 2, y: y - 1, class: `note ${r.tone}`, 'text-anchor': 'middle' }, r.label));
      } else {
        parts.push(svg('text', { x: r.side === 'host' ? X_HOST - 8 : X_TARGET + 8, y, class: `note ${r.tone}`, 'text-anchor': r.side === 'host' ? 'end' : 'start' }, r.label));
      }
    });
    this.box.replaceChildren(...parts);
    this.el.scrollTop = this.el.scrollHeight;
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
      r.dropped !== undefined ? `${r.label} ✕ ${r.dropped}` : r.label),
  ];
  if (r.dropped === undefined) {
    out.push(svg('path', { d: `M${x2} ${y - 2} l${-7 * dir} -5 l0 6 z`, class: cls }));
  }
  return out;
}
