/** Sequence diagram of the wire: host and target lifelines, one row per segment or send-path event
 *  (newest at the bottom), data and ACK arrows across, sendmsg / notifications / completions as notes. */
import { svg } from '../../dom.js';
import type { Row } from './model.js';

const SHOW = 160;
const ROW = 17;
const W = 760;
const X_TIME = 40;
const X_HOST = 400;
const X_TARGET = 720;

export class SequenceView {
  readonly el: HTMLElement;
  private readonly box: SVGSVGElement;

  constructor(host: HTMLElement) {
    this.el = host;
    this.box = svg('svg', { class: 'sequence', width: W, role: 'img', 'aria-label': 'sequence diagram of the wire' });
    host.append(this.box);
  }

  draw(rows: readonly Row[], dropped: number): void {
    const shown = rows.slice(-SHOW);
    const hidden = dropped + rows.length - shown.length;
    const top = 34;
    const height = top + shown.length * ROW + 10;
    this.box.setAttribute('height', String(height));
    this.box.setAttribute('viewBox', `0 0 ${W} ${height}`);
    const parts: SVGElement[] = [
      svg('text', { x: X_HOST, y: 14, class: 'lifeline-name', 'text-anchor': 'middle' }, 'host (initiator, zero-copy sender)'),
      svg('text', { x: X_TARGET, y: 14, class: 'lifeline-name', 'text-anchor': 'middle' }, 'target'),
      svg('text', { x: 4, y: 28, class: 'muted' }, hidden > 0 ? `… ${hidden} earlier rows` : 'µs'),
      svg('line', { x1: X_HOST, y1: 20, x2: X_HOST, y2: height, class: 'lifeline' }),
      svg('line', { x1: X_TARGET, y1: 20, x2: X_TARGET, y2: height, class: 'lifeline' }),
    ];
    shown.forEach((r, i) => {
      const y = top + i * ROW + 12;
      parts.push(svg('text', { x: X_TIME - 6, y, class: 'time', 'text-anchor': 'end' }, String(r.t)));
      if (r.kind === 'seg') parts.push(...arrow(r, y));
      else parts.push(svg('text', { x: r.side === 'host' ? X_HOST - 8 : X_TARGET + 8, y, class: `note ${r.tone}`, 'text-anchor': r.side === 'host' ? 'end' : 'start' }, r.label));
    });
    this.box.replaceChildren(...parts);
    const scroller = this.el;
    scroller.scrollTop = scroller.scrollHeight;
  }
}

function arrow(r: Extract<Row, { kind: 'seg' }>, y: number): SVGElement[] {
  const [x1, x2] = r.toTarget ? [X_HOST, X_TARGET] : [X_TARGET, X_HOST];
  const cls = `seg ${r.data ? 'data' : 'ack'}${r.dropped !== undefined ? ' dropped' : ''}`;
  const xEnd = r.dropped !== undefined ? (x1 + x2) / 2 : x2;
  const dir = x2 > x1 ? 1 : -1;
  const out: SVGElement[] = [
    svg('line', { x1, y1: y - 10, x2: xEnd, y2: y - 2, class: cls }),
    svg('text', { x: (X_HOST + X_TARGET) / 2, y: y - 6, class: `seg-label ${r.data ? 'data' : 'ack'}`, 'text-anchor': 'middle' },
      r.dropped !== undefined ? `${r.label} ✕ ${r.dropped}` : r.label),
  ];
  if (r.dropped === undefined) {
    out.push(svg('path', { d: `M${x2} ${y - 2} l${-7 * dir} -5 l0 6 z`, class: cls }));
  }
  return out;
}
